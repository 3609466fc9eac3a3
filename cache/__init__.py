"""Caches that outlive one call: the compile cache (object code by a hash of what determines it)
and the prompt-prefix cache (generation state by a hash chain of prompt blocks), on a local
directory, in memory, or in Redis.

    from red.cache import CompileCache, CompileTarget, compile_with_cache, key_for
    from red.cache import PrefixCache, model_fingerprint

Backends come from the environment (config.py): `RED_CACHE_URL=redis://host:port/db` shares
both caches between processes and machines; otherwise compiled code goes to `RED_CACHE_DIR`
(default: the user cache directory, budget `RED_CACHE_SIZE`, default 1 GiB) and prefix state to
an in-process LRU (`RED_PREFIX_CACHE_SIZE`, default 512 MiB); `RED_CACHE=off` disables both."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from red.cache.config import (
    compile_store,
    default_cache_dir,
    open_store,
    parse_size,
    prefix_store,
)
from red.cache.directory import DirectoryStore
from red.cache.redis_store import RedisStore
from red.cache.store import CacheWarning, MemoryStore, Store, StoreStats, StoreUnavailable

if TYPE_CHECKING:
    from red.cache.compile_cache import (
        CompileCache,
        CompileTarget,
        compile_with_cache,
        key_for,
    )
    from red.cache.fingerprint import ir_hash, model_fingerprint, weights_hash
    from red.cache.prefix_cache import PrefixCache, join_blocks, split_blocks

# The compile and prefix caches load on first use: `red-cache` needs neither LLVM nor xDSL.
_LAZY = {
    "CompileCache": "compile_cache",
    "CompileTarget": "compile_cache",
    "compile_with_cache": "compile_cache",
    "key_for": "compile_cache",
    "ir_hash": "fingerprint",
    "model_fingerprint": "fingerprint",
    "weights_hash": "fingerprint",
    "PrefixCache": "prefix_cache",
    "join_blocks": "prefix_cache",
    "split_blocks": "prefix_cache",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"red.cache.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'red.cache' has no attribute '{name}'")


__all__ = [
    "CacheWarning",
    "CompileCache",
    "CompileTarget",
    "DirectoryStore",
    "MemoryStore",
    "PrefixCache",
    "RedisStore",
    "Store",
    "StoreStats",
    "StoreUnavailable",
    "compile_store",
    "compile_with_cache",
    "default_cache_dir",
    "ir_hash",
    "join_blocks",
    "key_for",
    "model_fingerprint",
    "open_store",
    "parse_size",
    "prefix_store",
    "split_blocks",
    "weights_hash",
]
