"""Which backend a cache uses, from the environment: `RED_CACHE_URL` (Redis, shared between
processes and machines) if set, else the compile cache's local directory (`RED_CACHE_DIR`, else
the user cache directory) and the prefix cache's in-process LRU; `RED_CACHE=off` disables both.
One store object per backend and process, so that connections are pooled and each fault is
warned once."""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings

from red.cache.directory import DirectoryStore
from red.cache.redis_store import RedisStore
from red.cache.store import CacheWarning, MemoryStore, Store, StoreUnavailable

ENV_URL = "RED_CACHE_URL"
ENV_DIR = "RED_CACHE_DIR"
ENV_SIZE = "RED_CACHE_SIZE"
ENV_PREFIX_SIZE = "RED_PREFIX_CACHE_SIZE"
ENV_SWITCH = "RED_CACHE"
DEFAULT_DIR_BUDGET = 1 << 30
DEFAULT_MEMORY_BUDGET = 512 << 20
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """`"512M"`, `"2G"`, `"1.5GiB"`, `"4096"` -> bytes (binary units)."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid size '{text}': expected a number with an optional K/M/G/T")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def default_cache_dir() -> str:
    """`$RED_CACHE_DIR`, else the platform's user cache directory + `red`."""
    if configured := os.environ.get(ENV_DIR):
        return configured
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "red", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/red")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "red")


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() not in ("0", "off", "false", "no")


def _budget(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError as err:
        warnings.warn(f"red cache: ${variable}: {err}; using the default", CacheWarning, 2)
        return default


def open_store(url: str, budget: int | None = None) -> Store:
    """A new store for a location: a Redis URL, `memory`, `file:///dir` or a directory path.
    StoreUnavailable for a URL that cannot name a backend."""
    if url.startswith(REDIS_SCHEMES):
        return RedisStore(url)
    if url in ("memory", "memory://"):
        default = _budget(ENV_PREFIX_SIZE, DEFAULT_MEMORY_BUDGET)
        return MemoryStore(default if budget is None else budget)
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    elif "://" in url:
        scheme = url.split("://", 1)[0]
        raise StoreUnavailable(
            f"unknown cache URL scheme '{scheme}://' (expected redis://, rediss://, unix://, "
            "file:// or a directory)"
        )
    return DirectoryStore(url, _budget(ENV_SIZE, DEFAULT_DIR_BUDGET) if budget is None else budget)


_shared: dict[str, Store | None] = {}
_shared_lock = threading.Lock()


def shared_store(url: str) -> Store | None:
    """The process's store for `url` (None, warned once, if it cannot be opened)."""
    with _shared_lock:
        if url not in _shared:
            try:
                _shared[url] = open_store(url)
            except StoreUnavailable as err:
                warnings.warn(f"red cache: {err}; running without it", CacheWarning, 3)
                _shared[url] = None
        return _shared[url]


def compile_location() -> str:
    """Where compiled code goes: `$RED_CACHE_URL`, else the local directory."""
    return os.environ.get(ENV_URL) or default_cache_dir()


def compile_store() -> Store | None:
    """The compile cache's backend (None when `RED_CACHE=off` or it cannot be opened)."""
    return shared_store(compile_location()) if enabled() else None


def prefix_store() -> Store | None:
    """The prefix cache's backend: Redis when `$RED_CACHE_URL` names one, else the process's
    in-memory LRU (`$RED_PREFIX_CACHE_SIZE`, default 512 MiB); None when `RED_CACHE=off`."""
    if not enabled():
        return None
    url = os.environ.get(ENV_URL, "")
    return shared_store(url if url.startswith(REDIS_SCHEMES) else "memory")
