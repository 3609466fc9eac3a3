"""What every cache backend does the same way: entries framed and checked (entry.py), counters
of hits and misses, and faults turned into a miss or a skipped write with one warning per
kind of fault, never an exception and never a wrong entry served; the in-memory LRU backend."""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from red.cache.entry import EntryError, check_name, decode, encode

Payload = bytes | bytearray | memoryview
"""What a store accepts as an entry's payload."""

COUNTERS = ("hits", "misses", "writes", "corrupt", "errors")
"""hits/misses of lookups, writes that stored an entry, corrupt or foreign entries found (and
discarded), failed backend operations."""


class CacheWarning(UserWarning):
    """A cache fault that red worked around: the result is still computed and right."""


class StoreUnavailable(Exception):
    """A backend cannot be opened (a bad URL, no client package) or, for stats() and clear(),
    which a user asks for explicitly, reached; lookups and writes degrade to misses instead."""


@dataclass
class StoreStats:
    """What `red-cache stats` shows for one backend."""

    backend: str  # "local", "memory" or "redis"
    location: str  # a directory, a URL without its password, or "process memory"
    entries: int
    bytes: int
    budget: int | None  # bytes; None when unbounded or left to the server
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict[str, tuple[int, int]])
    counters: dict[str, int] = field(default_factory=dict[str, int])
    notes: list[str] = field(default_factory=list[str])  # e.g. the server's eviction policy


class Store(ABC):
    """A key-value store of framed entries. `kind` separates users (compiled objects, prefix
    blocks); `key` is a hash chosen by the user. Subclasses move bytes; this class frames and
    checks them, counts, and warns."""

    backend = "?"

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def location(self) -> str: ...

    # region Public API
    def get(self, kind: str, key: str) -> memoryview | None:
        """The payload stored under (kind, key), or None (a miss: absent, unreadable,
        corrupt or foreign)."""
        return self.get_many(kind, [key])[0]

    def get_many(self, kind: str, keys: Sequence[str]) -> list[memoryview | None]:
        """`get` for several keys (one round trip where the backend allows)."""
        check_name("kind", kind)
        for key in keys:
            check_name("key", key)
        if not keys:
            return []
        raw = self._read_many(kind, keys)
        found: list[memoryview | None] = []
        for key, data in zip(keys, raw, strict=True):
            found.append(None if data is None else self._checked(kind, key, data))
        hits = sum(p is not None for p in found)
        self._count(hits=hits, misses=len(keys) - hits)
        return found

    def contains_many(self, kind: str, keys: Sequence[str]) -> list[bool]:
        """Whether an entry exists under each key (unchecked: a later get may still miss)."""
        check_name("kind", kind)
        for key in keys:
            check_name("key", key)
        return self._exists_many(kind, keys) if keys else []

    def put(self, kind: str, key: str, payload: Payload) -> bool:
        """Store `payload` under (kind, key); whether it was written (False when another
        writer got there first, or the backend failed or is full: warned, never raised)."""
        return self.put_many(kind, [(key, payload)]) == 1

    def put_many(self, kind: str, items: Sequence[tuple[str, Payload]]) -> int:
        """`put` for several entries (one round trip where the backend allows); the number
        written."""
        check_name("kind", kind)
        for key, _ in items:
            check_name("key", key)
        if not items:
            return 0
        written = self._write_many(kind, [(key, encode(kind, key, p)) for key, p in items])
        self._count(writes=written)
        return written

    def stats(self) -> StoreStats:
        """Entries, bytes and budget of the backend (StoreUnavailable if it cannot be read)."""
        stats = self._stats()
        merged = Counter(stats.counters)
        if not self._persists_counters():
            merged.update(self.counters)
        stats.counters = {name: merged.get(name, 0) for name in COUNTERS}
        return stats

    def delete(self, kind: str, key: str) -> None:
        """Remove the entry under `key` if there is one (a store keeps the first entry written
        under a key: delete, then put, replaces it)."""
        check_name("kind", kind)
        check_name("key", key)
        self._discard(kind, key)

    def clear(self) -> int:
        """Remove every red entry of this backend; the number removed."""
        return self._clear()

    def close(self) -> None:
        """Release connections or files (the store may not be used afterwards)."""

    # endregion Public API

    # region Backend interface
    @abstractmethod
    def _read_many(self, kind: str, keys: Sequence[str]) -> list[bytes | memoryview | None]:
        """The stored bytes per key, None where absent or unreadable (faults warned)."""

    @abstractmethod
    def _exists_many(self, kind: str, keys: Sequence[str]) -> list[bool]: ...

    @abstractmethod
    def _write_many(self, kind: str, entries: Sequence[tuple[str, bytes]]) -> int:
        """Store framed entries (unless one is already there); the number written."""

    @abstractmethod
    def _discard(self, kind: str, key: str) -> None:
        """Remove an entry (absent: nothing happens)."""

    @abstractmethod
    def _stats(self) -> StoreStats: ...

    @abstractmethod
    def _clear(self) -> int: ...

    def _persists_counters(self) -> bool:
        """Whether _stats() reads counters kept by the backend (this process's included)."""
        return False

    def _record(self, counts: dict[str, int]) -> None:
        """Add counters to the backend's persistent ones (where it keeps them)."""

    # endregion Backend interface

    def _checked(self, kind: str, key: str, data: bytes | memoryview) -> memoryview | None:
        try:
            return decode(kind, key, data)
        except EntryError as err:
            self.reject(kind, key, str(err))
            return None

    def reject(self, kind: str, key: str, reason: str) -> None:
        """Count, warn about (once) and remove an entry that is corrupt or foreign, so that it
        is recomputed and replaced; users call it when a payload passes the checksum but not
        their own checks."""
        self._count(corrupt=1)
        self.warn_once(
            "corrupt",
            f"red cache: ignored a corrupt or foreign entry in {self.location} "
            f"({kind} {key[:16]}...: {reason}); it is recomputed and replaced",
        )
        self._discard(kind, key)

    def _count(self, **counts: int) -> None:
        counts = {name: n for name, n in counts.items() if n}
        if not counts:
            return
        with self._lock:
            self.counters.update(counts)
        self._record(counts)

    def warn_once(self, fault: str, message: str) -> None:
        """A CacheWarning the first time this store meets a kind of fault."""
        with self._lock:
            if fault in self._warned:
                return
            self._warned.add(fault)
        warnings.warn(message, CacheWarning, stacklevel=4)


class MemoryStore(Store):
    """An in-process LRU with a byte budget: entries (payloads, unframed: nothing outside the
    process can corrupt them) are evicted least recently used first."""

    backend = "memory"

    def __init__(self, budget: int) -> None:
        super().__init__()
        if budget < 0:
            raise ValueError(f"memory cache budget must be >= 0 bytes, got {budget}")
        self.budget = budget
        self._entries: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._bytes = 0

    @property
    def location(self) -> str:
        return "process memory"

    def get_many(self, kind: str, keys: Sequence[str]) -> list[memoryview | None]:
        found: list[memoryview | None] = []
        with self._lock:
            for key in keys:
                payload = self._entries.get((kind, key))
                if payload is not None:
                    self._entries.move_to_end((kind, key))
                found.append(None if payload is None else memoryview(payload))
        hits = sum(p is not None for p in found)
        self._count(hits=hits, misses=len(keys) - hits)
        return found

    def put_many(self, kind: str, items: Sequence[tuple[str, Payload]]) -> int:
        check_name("kind", kind)
        written = 0
        with self._lock:
            for key, payload in items:
                check_name("key", key)
                if len(payload) > self.budget:
                    continue
                if (kind, key) in self._entries:
                    self._entries.move_to_end((kind, key))
                    continue
                self._entries[(kind, key)] = bytes(payload)
                self._bytes += len(payload)
                written += 1
                while self._bytes > self.budget:
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= len(evicted)
        self._count(writes=written)
        return written

    def _read_many(self, kind: str, keys: Sequence[str]) -> list[bytes | memoryview | None]:
        raise AssertionError("MemoryStore overrides get_many")

    def _exists_many(self, kind: str, keys: Sequence[str]) -> list[bool]:
        with self._lock:
            return [(kind, key) in self._entries for key in keys]

    def _write_many(self, kind: str, entries: Sequence[tuple[str, bytes]]) -> int:
        raise AssertionError("MemoryStore overrides put_many")

    def _discard(self, kind: str, key: str) -> None:
        with self._lock:
            payload = self._entries.pop((kind, key), None)
            if payload is not None:
                self._bytes -= len(payload)

    def _stats(self) -> StoreStats:
        with self._lock:
            kinds: dict[str, tuple[int, int]] = {}
            for (kind, _), payload in self._entries.items():
                n, b = kinds.get(kind, (0, 0))
                kinds[kind] = (n + 1, b + len(payload))
            return StoreStats(
                "memory", self.location, len(self._entries), self._bytes, self.budget, kinds
            )

    def _clear(self) -> int:
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            self._bytes = 0
        return n
