"""The Redis backend: entries as string values under `red:v<format>:<kind>:<key>`, written with
`SET NX` (the first of several concurrent writers wins; the others' identical entries are not
sent twice), eviction and TTL left to the server's policy. A server that is down, goes down
mid-run, or is full turns lookups into misses and writes into no-ops with one warning each;
after a connection failure the server is left alone for `retry_seconds` so that every call does
not pay a connection attempt."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from red.cache.entry import FORMAT_VERSION
from red.cache.store import COUNTERS, Store, StoreStats, StoreUnavailable

T = TypeVar("T")

RETRY_SECONDS = 30.0
SCAN_BATCH = 1000


def redacted(url: str) -> str:
    """The URL without its password (for messages and `red-cache stats`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class RedisStore(Store):
    """`redis://[[user]:password@]host[:port][/db]`, `rediss://...` (TLS) or
    `unix:///path/to/socket?db=N`; client options such as `?socket_timeout=2` ride on the URL
    (redis-py's `from_url`)."""

    backend = "redis"

    def __init__(self, url: str, retry_seconds: float = RETRY_SECONDS) -> None:
        super().__init__()
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.exceptions import OutOfMemoryError
            from redis.retry import Retry
        except ImportError:
            raise StoreUnavailable(
                "the 'redis' package is not installed (pip install 'red[redis]')"
            ) from None
        self.url = url
        self.retry_seconds = retry_seconds
        self.prefix = f"red:v{FORMAT_VERSION}:"
        self._stats_key = self.prefix + "stats"
        self._errors = redis.RedisError
        self._unreachable = (redis.ConnectionError, redis.TimeoutError, OSError)
        self._full = OutOfMemoryError
        self._down_until = 0.0
        self._down_lock = threading.Lock()
        try:
            # No client-side retries: a fault is a miss at once, and the breaker below keeps
            # a down server from costing a connection attempt per call.
            self.client = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 0)
            )
        except ValueError as err:
            raise StoreUnavailable(f"invalid Redis URL '{redacted(url)}': {err}") from None

    @property
    def location(self) -> str:
        return redacted(self.url)

    def name(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    # region Fault handling
    def _call(self, action: str, fn: Callable[[], T], default: T) -> T:
        """fn(), or `default` when the server is down, fails or is full (warned once)."""
        if time.monotonic() < self._down_until:
            return default
        try:
            return fn()
        except (*self._unreachable, self._errors) as err:
            self._failed(action, err)
        return default

    def _failed(self, action: str, err: BaseException) -> None:
        if isinstance(err, self._unreachable):
            with self._down_lock:
                self._down_until = time.monotonic() + self.retry_seconds
            self._fault(
                "unreachable",
                f"Redis at {self.location} is unreachable ({err}); running without the cache "
                f"(it is tried again every {self.retry_seconds:g} s)",
            )
        elif isinstance(err, self._full) or "maxmemory" in str(err):
            self._fault(
                "full",
                f"Redis at {self.location} is full (maxmemory reached and its policy evicts "
                "nothing): new entries are not stored; set maxmemory-policy to allkeys-lru to "
                "let the server make room",
            )
        else:
            self._fault(f"refused-{action}", f"Redis at {self.location} refused {action}: {err}")

    def _fault(self, fault: str, message: str) -> None:
        with self._lock:
            self.counters["errors"] += 1
        self.warn_once(fault, f"red cache: {message}")

    def _strict(self, action: str, fn: Callable[[], T]) -> T:
        """fn() for stats and clear, which the user asked for: a fault is StoreUnavailable."""
        try:
            return fn()
        except self._errors as err:
            raise StoreUnavailable(f"Redis at {self.location}: {action} failed: {err}") from None
        except OSError as err:
            raise StoreUnavailable(f"Redis at {self.location}: {action} failed: {err}") from None

    # endregion Fault handling

    # region Reading and writing
    def _read_many(self, kind: str, keys: Sequence[str]) -> list[bytes | memoryview | None]:
        names = [self.name(kind, key) for key in keys]
        missing: list[bytes | memoryview | None] = [None] * len(keys)
        if len(names) == 1:
            return self._call("a read", lambda: [self.client.get(names[0])], missing)  # type: ignore[return-value]
        return self._call("a read", lambda: list(self.client.mget(names)), missing)  # type: ignore[arg-type]

    def _exists_many(self, kind: str, keys: Sequence[str]) -> list[bool]:
        def exists() -> list[bool]:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.exists(self.name(kind, key))
            return [bool(n) for n in pipe.execute()]

        return self._call("a read", exists, [False] * len(keys))

    def _write_many(self, kind: str, entries: Sequence[tuple[str, bytes]]) -> int:
        def write() -> int:
            pipe = self.client.pipeline(transaction=False)
            for key, entry in entries:
                pipe.set(self.name(kind, key), entry, nx=True)
            results = pipe.execute(raise_on_error=False)
            # A full server refuses the SETs it gets after it fills up: count what was stored.
            if failed := [r for r in results if isinstance(r, Exception)]:
                self._failed("a write", failed[0])
            return sum(r is True for r in results)

        return self._call("a write", write, 0)

    def _discard(self, kind: str, key: str) -> None:
        self._call("a delete", lambda: self.client.delete(self.name(kind, key)), 0)

    def _persists_counters(self) -> bool:
        return True

    def _record(self, counts: dict[str, int]) -> None:
        def incr() -> None:
            pipe = self.client.pipeline(transaction=False)
            for name, n in counts.items():
                pipe.hincrby(self._stats_key, name, n)
            pipe.execute()

        self._call("a counter update", incr, None)

    # endregion Reading and writing

    # region Stats and clear
    def _names(self) -> list[bytes]:
        stats = self._stats_key.encode()
        return [
            n
            for n in self.client.scan_iter(match=self.prefix + "*", count=SCAN_BATCH)  # type: ignore[union-attr]
            if n != stats
        ]

    def _stats(self) -> StoreStats:
        def read() -> StoreStats:
            names = self._names()
            kinds: dict[str, tuple[int, int]] = {}
            for start in range(0, len(names), SCAN_BATCH):
                batch = names[start : start + SCAN_BATCH]
                pipe = self.client.pipeline(transaction=False)
                for n in batch:
                    pipe.strlen(n)
                for n, size in zip(batch, pipe.execute(), strict=True):
                    kind = n.decode()[len(self.prefix) :].split(":", 1)[0]
                    count, total = kinds.get(kind, (0, 0))
                    kinds[kind] = (count + 1, total + int(size))
            raw: dict[Any, Any] = self.client.hgetall(self._stats_key)  # type: ignore[assignment]
            counters = {name: int(raw.get(name.encode(), 0)) for name in COUNTERS}
            counters["errors"] += self.counters["errors"]  # never reached the server
            memory: dict[str, Any] = self.client.info("memory")  # type: ignore[assignment]
            budget = int(memory.get("maxmemory", 0)) or None
            notes = [
                f"server memory: {memory.get('used_memory_human', '?')} used, maxmemory "
                f"{memory.get('maxmemory_human', '?')}, policy "
                f"{memory.get('maxmemory_policy', '?')}"
            ]
            entries = sum(n for n, _ in kinds.values())
            size = sum(b for _, b in kinds.values())
            return StoreStats("redis", self.location, entries, size, budget, kinds, counters, notes)

        return self._strict("stats", read)

    def _clear(self) -> int:
        def clear() -> int:
            names = self._names()
            for start in range(0, len(names), SCAN_BATCH):
                self.client.unlink(*names[start : start + SCAN_BATCH])
            self.client.delete(self._stats_key)
            return len(names)

        return self._strict("clear", clear)

    def close(self) -> None:
        self.client.close()

    # endregion Stats and clear
