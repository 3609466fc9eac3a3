"""The prompt-prefix cache: the generation state (KV rows) of each full block of B prompt
tokens, stored under a hash chain over the blocks (vLLM's automatic prefix caching) rooted at
the model fingerprint, so a request starts from the longest prefix another request computed,
and state is never served to another model or other weights.

A generation runtime uses it like this (numpy arrays in and out; the cache does not interpret
the state's layout beyond "rows of a block"):

    n, blocks = cache.longest_prefix(fp, prompt, limit=len(prompt) - 1)
    state = join_blocks(blocks, axis=1) if n else None   # prefill prompt[n:] from `state`
    ...
    cache.store(fp, prompt, split_blocks(state, len(prompt), cache.block_size, axis=1))
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from red.cache.config import prefix_store
from red.cache.store import MemoryStore, Payload, Store

KIND = "prefix"
DEFAULT_BLOCK_SIZE = 16
_META = struct.Struct("<I")  # length of the JSON header that precedes the arrays
_ALIGN = 64


def _tokens(tokens: Sequence[int] | np.ndarray) -> np.ndarray:
    array = np.asarray(tokens)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        what = f"{array.dtype} of shape {array.shape}"
        raise ValueError(f"tokens must be a 1-d sequence of integers, got {what}")
    return array.astype("<i8", copy=False)


def block_keys(fingerprint: str, tokens: Sequence[int] | np.ndarray, block_size: int) -> list[str]:
    """The key of each full block: sha256(parent key, block tokens), the root's parent being
    the model fingerprint and the block size."""
    toks = _tokens(tokens)
    parent = hashlib.sha256(f"red-prefix:{fingerprint}:{block_size}".encode()).digest()
    keys: list[str] = []
    for start in range(0, len(toks) - block_size + 1, block_size):
        parent = hashlib.sha256(parent + toks[start : start + block_size].tobytes()).digest()
        keys.append(parent.hex())
    return keys


def split_blocks(
    states: Sequence[np.ndarray], n_tokens: int, block_size: int, axis: int | Sequence[int] = 0
) -> list[list[np.ndarray]]:
    """Per full block of the first `n_tokens` positions, the rows of each state array along
    its token axis (`axis`, one for all or one per state)."""
    axes = [axis] * len(states) if isinstance(axis, int) else list(axis)
    if len(axes) != len(states):
        raise ValueError(f"{len(axes)} axes given for {len(states)} state arrays")
    for s, a in zip(states, axes, strict=True):
        if s.shape[a] < n_tokens:
            raise ValueError(f"a state has {s.shape[a]} rows on axis {a}, fewer than {n_tokens}")
    return [
        [
            np.take(s, range(start, start + block_size), axis=a)
            for s, a in zip(states, axes, strict=True)
        ]
        for start in range(0, n_tokens - block_size + 1, block_size)
    ]


def join_blocks(
    blocks: Sequence[Sequence[np.ndarray]], axis: int | Sequence[int] = 0
) -> list[np.ndarray]:
    """Each state's rows of consecutive blocks concatenated along its token axis."""
    if not blocks:
        return []
    n = len(blocks[0])
    axes = [axis] * n if isinstance(axis, int) else list(axis)
    return [np.concatenate([b[i] for b in blocks], axis=axes[i]) for i in range(n)]


class PrefixCache:
    """Block states under hash-chain keys in a Store: the process's in-memory LRU by default,
    Redis (`RED_CACHE_URL`) to share prefixes between processes and machines."""

    def __init__(self, store: Store | None = None, block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        if block_size < 1:
            raise ValueError(f"block size must be >= 1, got {block_size}")
        if store is None:
            store = prefix_store() or MemoryStore(0)  # RED_CACHE=off: stores nothing
        self.storage = store
        self.block_size = block_size

    def longest_prefix(
        self, fingerprint: str, tokens: Sequence[int] | np.ndarray, limit: int | None = None
    ) -> tuple[int, list[list[np.ndarray]]]:
        """(number of tokens whose state is cached, the state arrays of each cached block) for
        the longest cached run of full blocks from the start of `tokens[:limit]` (pass
        `limit=len(prompt) - 1` to keep a token to compute the next logits from). The arrays
        are read-only views of the stored bytes."""
        toks = _tokens(tokens)[:limit]
        keys = block_keys(fingerprint, toks, self.block_size)
        # Asked deepest block first, so that an LRU backend keeps the root blocks the longest:
        # a chain is worth nothing past its first missing block (vLLM evicts leaves first too).
        payloads = self.storage.get_many(KIND, keys[::-1])[::-1]
        blocks: list[list[np.ndarray]] = []
        parent = None
        for i, payload in enumerate(payloads):
            if payload is None:
                break
            block = toks[i * self.block_size : (i + 1) * self.block_size]
            arrays = self._decode(fingerprint, keys[i], parent, block, payload)
            if arrays is None:
                break
            blocks.append(arrays)
            parent = keys[i]
        return len(blocks) * self.block_size, blocks

    def store(
        self,
        fingerprint: str,
        tokens: Sequence[int] | np.ndarray,
        state_rows_per_block: Sequence[Sequence[np.ndarray]],
        first_block: int = 0,
    ) -> int:
        """Store the state of full blocks `first_block`, `first_block + 1`, ... of `tokens`
        (blocks already cached are not sent again); the number of blocks written."""
        toks = _tokens(tokens)
        end = first_block + len(state_rows_per_block)
        if end * self.block_size > len(toks):
            raise ValueError(
                f"state for blocks up to {end} needs {end * self.block_size} tokens, "
                f"got {len(toks)}"
            )
        _check_layout(state_rows_per_block)
        keys = block_keys(fingerprint, toks[: end * self.block_size], self.block_size)
        present = self.storage.contains_many(KIND, keys[first_block:])
        items: list[tuple[str, Payload]] = []
        for i, arrays in enumerate(state_rows_per_block):
            n = first_block + i
            if present[i]:
                continue
            parent = keys[n - 1] if n else None
            block = toks[n * self.block_size : (n + 1) * self.block_size]
            items.append((keys[n], _encode(fingerprint, parent, block, arrays)))
        return self.storage.put_many(KIND, items[::-1]) if items else 0  # root blocks newest

    def _decode(
        self,
        fingerprint: str,
        key: str,
        parent: str | None,
        block: np.ndarray,
        payload: memoryview,
    ) -> list[np.ndarray] | None:
        try:
            return _decode(fingerprint, parent, block, payload)
        except (ValueError, TypeError, KeyError, struct.error) as err:
            self.storage.reject(KIND, key, str(err))
            return None


def _check_layout(blocks: Sequence[Sequence[np.ndarray]]) -> None:
    """Every block holds the same state arrays (count, dtypes, shapes)."""
    layouts = {tuple((np.asarray(a).dtype.str, np.shape(a)) for a in b) for b in blocks}
    if len(layouts) > 1:
        raise ValueError(f"blocks differ in their state arrays: {sorted(layouts)}")


def _encode(
    fingerprint: str, parent: str | None, block: np.ndarray, arrays: Sequence[np.ndarray]
) -> bytearray:
    contiguous = [np.ascontiguousarray(a) for a in arrays]
    described: list[dict[str, Any]] = []
    offset = 0
    for a in contiguous:
        described.append({"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset})
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    meta = {
        "fingerprint": fingerprint,
        "parent": parent,
        "tokens": block.tolist(),
        "arrays": described,
    }
    head = json.dumps(meta, separators=(",", ":")).encode()
    head_size = -(-(_META.size + len(head)) // _ALIGN) * _ALIGN
    out = bytearray(head_size + offset)
    _META.pack_into(out, 0, len(head))
    out[_META.size : _META.size + len(head)] = head
    for a, d in zip(contiguous, described, strict=True):
        start = head_size + d["offset"]
        out[start : start + a.nbytes] = a.data.cast("B")
    return out


def _decode(
    fingerprint: str, parent: str | None, block: np.ndarray, payload: memoryview
) -> list[np.ndarray]:
    (length,) = _META.unpack_from(payload)
    meta = json.loads(bytes(payload[_META.size : _META.size + length]))
    if meta["fingerprint"] != fingerprint:
        raise ValueError("state of another model (fingerprint differs)")
    if meta["parent"] != parent or meta["tokens"] != block.tolist():
        raise ValueError("state of another prefix (parent or tokens differ)")
    head_size = -(-(_META.size + length) // _ALIGN) * _ALIGN
    arrays: list[np.ndarray] = []
    for d in meta["arrays"]:
        dtype, shape = np.dtype(d["dtype"]), tuple(int(n) for n in d["shape"])
        if dtype.hasobject:
            raise ValueError("object arrays are not state")
        start = head_size + int(d["offset"])
        count = int(np.prod(shape, dtype=np.int64))
        if start < head_size or start + count * dtype.itemsize > len(payload):
            raise ValueError("array runs past the end of the entry")
        arrays.append(np.frombuffer(payload, dtype, count, start).reshape(shape))
    return arrays
