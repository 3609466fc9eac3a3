"""The local-directory backend: one file per entry, written to a temporary file and renamed
into place (so concurrent writers in several processes never expose a partial entry), a size
budget enforced by evicting the least recently used entries (a hit refreshes the file's
modification time), and counters in a small JSON file updated under a file lock."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from red.cache.entry import FORMAT_VERSION
from red.cache.store import COUNTERS, Store, StoreStats, StoreUnavailable

try:
    import fcntl
except ImportError:  # not POSIX: counters and the size estimate are then best effort
    fcntl = None

LOW_WATER = 0.9
"""Eviction frees space down to this fraction of the budget, so that one write over the budget
does not rescan the directory on every following write."""
STALE_TEMP_SECONDS = 3600.0
"""Temporary files older than this were left by a killed writer and are removed."""


class DirectoryStore(Store):
    """Entries as files under `<root>/v<format>/<kind>/<key[:2]>/<key>`."""

    backend = "local"

    def __init__(self, root: str, budget: int) -> None:
        super().__init__()
        if budget < 0:
            raise ValueError(f"cache directory budget must be >= 0 bytes, got {budget}")
        self.root = os.path.abspath(root)
        self.budget = budget
        self.base = os.path.join(self.root, f"v{FORMAT_VERSION}")
        self._tmp = os.path.join(self.base, "tmp")
        self._stats_path = os.path.join(self.base, "stats.json")
        self._lock_path = os.path.join(self.base, "lock")

    @property
    def location(self) -> str:
        return self.root

    def path(self, kind: str, key: str) -> str:
        return os.path.join(self.base, kind, key[:2], key)

    # region Reading and writing
    def _read_many(self, kind: str, keys: Sequence[str]) -> list[bytes | memoryview | None]:
        found: list[bytes | memoryview | None] = []
        for key in keys:
            path = self.path(kind, key)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                found.append(None)
                continue
            except OSError as err:
                self._fault(f"cannot read {path}: {err.strerror}")
                found.append(None)
                continue
            with contextlib.suppress(OSError):
                os.utime(path)  # least recently used = oldest modification time
            found.append(data)
        return found

    def _exists_many(self, kind: str, keys: Sequence[str]) -> list[bool]:
        return [os.path.isfile(self.path(kind, key)) for key in keys]

    def _write_many(self, kind: str, entries: Sequence[tuple[str, bytes]]) -> int:
        written = [w for key, entry in entries if (w := self._write(kind, key, entry))]
        if written:  # one update of the running size for the batch
            added, new = sum(w[0] for w in written), sum(w[1] for w in written)
            total = self._update(lambda s: _add(s, bytes=added, entries=new))
            if total is not None and total.get("bytes", 0) > self.budget:
                self.evict()
        return len(written)

    def _write(self, kind: str, key: str, entry: bytes) -> tuple[int, int] | None:
        """Write one entry: (bytes added, entries added), None if it could not be written."""
        path = self.path(kind, key)
        temp = None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.makedirs(self._tmp, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f"{key[:16]}.", dir=self._tmp)
            with os.fdopen(fd, "wb") as f:
                f.write(entry)
            try:
                replaced = os.stat(path).st_size
            except FileNotFoundError:
                replaced = None
            os.replace(temp, path)
            temp = None
        except OSError as err:
            what = "is full" if err.errno == errno.ENOSPC else f"is not writable ({err.strerror})"
            self._fault(f"cache directory {self.root} {what}: entries are not stored")
            return None
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        return len(entry) - (replaced or 0), int(replaced is None)

    def _discard(self, kind: str, key: str) -> None:
        path = self.path(kind, key)
        try:
            size = os.stat(path).st_size
            os.unlink(path)
        except OSError:
            return
        self._update(lambda s: _add(s, bytes=-size, entries=-1))

    def _fault(self, message: str) -> None:
        """One warning per store for I/O faults: they share a cause (the directory)."""
        self._count(errors=1)
        self.warn_once("io", f"red cache: {message}")

    # endregion Reading and writing

    # region Budget, counters, stats
    def _scan(self) -> list[tuple[str, float, int, str]]:
        """(kind, mtime, size, path) of every entry file; removes stale temporaries."""
        files: list[tuple[str, float, int, str]] = []
        for kind_dir in _subdirs(self.base, skip="tmp"):
            kind = os.path.basename(kind_dir)
            for shard in _subdirs(kind_dir):
                for entry in os.scandir(shard):
                    with contextlib.suppress(FileNotFoundError):
                        st = entry.stat()
                        files.append((kind, st.st_mtime, st.st_size, entry.path))
        now = time.time()
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self._tmp):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                        os.unlink(entry.path)
        return files

    def evict(self) -> int:
        """Scan the directory; if it holds more than the budget, remove the least recently used
        entries down to the low-water mark. The number of entries removed."""
        with self._locked():
            files = self._scan()
            total = sum(size for _, _, size, _ in files)
            removed = 0
            if total > self.budget:
                goal = int(self.budget * LOW_WATER)
                for _, _, size, path in sorted(files, key=lambda f: f[1]):
                    if total <= goal:
                        break
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    total -= size
                    removed += 1
            self._rewrite(lambda s: _set(s, bytes=total, entries=len(files) - removed))
        return removed

    def _persists_counters(self) -> bool:
        return True

    def _record(self, counts: dict[str, int]) -> None:
        self._update(lambda s: _add(s, **counts))

    def _update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
        """Apply `change` to the stats file under the lock; the new contents (None when the
        directory cannot be used: counters are then only kept in this process)."""
        try:
            with self._locked():
                return self._rewrite(change)
        except OSError:
            return None

    def _rewrite(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        stats = self._read_stats()
        change(stats)
        fd, temp = tempfile.mkstemp(prefix="stats.", dir=self.base)
        with os.fdopen(fd, "w") as f:
            json.dump(stats, f)
        os.replace(temp, self._stats_path)
        return stats

    def _read_stats(self) -> dict[str, Any]:
        try:
            with open(self._stats_path, encoding="utf-8") as f:
                stats = json.load(f)
        except (OSError, ValueError):
            return {}
        return stats if isinstance(stats, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(self.base, exist_ok=True)
        with open(self._lock_path, "a+b") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            yield

    def _stats(self) -> StoreStats:
        kinds: dict[str, tuple[int, int]] = {}
        try:
            files = self._scan()
        except OSError as err:
            raise StoreUnavailable(f"cannot read {self.base}: {err.strerror}") from None
        for kind, _, size, _ in files:
            n, b = kinds.get(kind, (0, 0))
            kinds[kind] = (n + 1, b + size)
        entries, total = len(files), sum(size for _, _, size, _ in files)
        counters = {name: int(self._read_stats().get(name, 0)) for name in COUNTERS}
        if os.path.isdir(self.base):  # the scan is the truth: correct the running estimate
            self._update(lambda s: _set(s, bytes=total, entries=entries))
        return StoreStats("local", self.root, entries, total, self.budget, kinds, counters)

    def _clear(self) -> int:
        if not os.path.isdir(self.base):
            return 0
        try:
            with self._locked():
                files = self._scan()
                for _, _, _, path in files:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._stats_path)
        except OSError as err:
            raise StoreUnavailable(f"cannot clear {self.base}: {err.strerror}") from None
        return len(files)

    # endregion Budget, counters, stats


def _subdirs(path: str, skip: str = "") -> list[str]:
    try:
        return [e.path for e in os.scandir(path) if e.is_dir() and e.name != skip]
    except FileNotFoundError:
        return []


def _add(stats: dict[str, Any], **counts: int) -> None:
    for name, n in counts.items():
        stats[name] = max(0, int(stats.get(name, 0)) + n)


def _set(stats: dict[str, Any], **values: int) -> None:
    stats.update(values)
