"""The framing of a stored cache entry: a small header (format version, kind, key, payload
length, checksum) before the payload, so that a corrupt, truncated or foreign entry is
recognised and never returned."""

from __future__ import annotations

import hashlib
import re
import struct

MAGIC = b"REDC"
FORMAT_VERSION = 1
"""Raised when the layout of an entry or of a payload changes: older entries become misses."""

_HEAD = struct.Struct("<4sHBHQ32s")  # magic, version, len(kind), len(key), len(payload), sha256
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


class EntryError(ValueError):
    """Why stored bytes are not a valid entry for the (kind, key) that was asked for."""


def check_name(what: str, name: str) -> None:
    """Kinds and keys are file names and Redis key parts: letters, digits, `_`, `.`, `-`, not
    starting with a separator (so no path can escape the cache directory)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid cache {what} '{name}': expected 1-200 of [A-Za-z0-9_.-]")


def encode(kind: str, key: str, payload: bytes | bytearray | memoryview) -> bytes:
    """Header + payload, as written to a file or a Redis value."""
    k, n = kind.encode(), key.encode()
    digest = hashlib.sha256(payload).digest()
    head = _HEAD.pack(MAGIC, FORMAT_VERSION, len(k), len(n), len(payload), digest)
    return b"".join((head, k, n, payload))


def decode(kind: str, key: str, data: bytes | memoryview) -> memoryview:
    """The payload of an entry stored for (kind, key) (a view of `data`), or EntryError
    naming the first thing that does not match."""
    view = memoryview(data)
    if len(view) < _HEAD.size:
        raise EntryError(f"truncated header ({len(view)} bytes)")
    magic, version, kind_len, key_len, length, digest = _HEAD.unpack_from(view)
    if magic != MAGIC:
        raise EntryError("not a red cache entry")
    if version != FORMAT_VERSION:
        raise EntryError(f"format version {version}, expected {FORMAT_VERSION}")
    start = _HEAD.size + kind_len + key_len
    stored_kind = bytes(view[_HEAD.size : _HEAD.size + kind_len])
    stored_key = bytes(view[_HEAD.size + kind_len : start])
    if stored_kind != kind.encode():
        raise EntryError(f"kind '{stored_kind.decode(errors='replace')}', expected '{kind}'")
    if stored_key != key.encode():
        raise EntryError(f"stored under another key ('{stored_key.decode(errors='replace')}')")
    if len(view) - start != length:
        raise EntryError(f"payload of {len(view) - start} bytes, header says {length}")
    payload = view[start:]
    if hashlib.sha256(payload).digest() != digest:
        raise EntryError("checksum mismatch")
    return payload
