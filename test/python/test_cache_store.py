"""red.cache's storage layer: entry framing, the in-memory LRU, the local directory (atomic
writes from several processes, LRU eviction to a budget, corrupt, truncated and foreign entries
ignored and replaced, an unusable directory warned once) and the configuration from the
environment."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings

import pytest

from red.cache import config
from red.cache.config import open_store, parse_size
from red.cache.directory import DirectoryStore
from red.cache.entry import FORMAT_VERSION, EntryError, decode, encode
from red.cache.redis_store import RedisStore, redacted
from red.cache.store import CacheWarning, MemoryStore, StoreUnavailable

KEY_A = "a" * 64
KEY_B = "b" * 64


def caught(fn):
    """(fn's result, the CacheWarning messages it raised)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]


# region Entry framing
def test_entry_round_trip():
    payload = bytes(range(256)) * 3

    entry = encode("object", KEY_A, payload)

    assert bytes(decode("object", KEY_A, entry)) == payload
    assert entry.startswith(b"REDC")


def _with_version(entry: bytes, version: int) -> bytes:
    return entry[:4] + struct.pack("<H", version) + entry[6:]


@pytest.mark.parametrize(
    ("damage", "kind", "key", "message"),
    [
        pytest.param(lambda e: e[:10], "object", KEY_A, "truncated header", id="truncated-header"),
        pytest.param(
            lambda e: e[:-1],
            "object",
            KEY_A,
            "payload of 99 bytes, header says 100",
            id="truncated-payload",
        ),
        pytest.param(
            lambda e: e + b"x", "object", KEY_A, "payload of 101 bytes", id="trailing-bytes"
        ),
        pytest.param(
            lambda e: e[:-1] + bytes([e[-1] ^ 1]),
            "object",
            KEY_A,
            "checksum mismatch",
            id="flipped-bit",
        ),
        pytest.param(
            lambda e: b"XXXX" + e[4:], "object", KEY_A, "not a red cache entry", id="foreign-magic"
        ),
        pytest.param(
            lambda e: _with_version(e, FORMAT_VERSION + 1),
            "object",
            KEY_A,
            "format version",
            id="other-version",
        ),
        pytest.param(
            lambda e: e, "prefix", KEY_A, "kind 'object', expected 'prefix'", id="other-kind"
        ),
        pytest.param(lambda e: e, "object", KEY_B, "stored under another key", id="other-key"),
        pytest.param(lambda e: b"garbage", "object", KEY_A, "truncated header", id="garbage"),
    ],
)
def test_entry_damage_is_detected(damage, kind, key, message):
    entry = encode("object", KEY_A, bytes(100))

    with pytest.raises(EntryError, match=message):
        decode(kind, key, damage(entry))


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("../escape", id="parent-dir"),
        pytest.param("a/b", id="separator"),
        pytest.param(".hidden", id="leading-dot"),
        pytest.param("", id="empty"),
        pytest.param("k" * 201, id="too-long"),
    ],
)
def test_invalid_keys_are_refused(tmp_path, key):
    store = DirectoryStore(str(tmp_path), 1 << 20)

    with pytest.raises(ValueError, match="invalid cache key"):
        store.put("object", key, b"x")


# endregion Entry framing


# region In-memory LRU
def test_memory_store_evicts_least_recently_used():
    store = MemoryStore(budget=300)
    for name in "abc":
        store.put("prefix", name * 8, bytes(100))

    store.get("prefix", "a" * 8)  # a is now the most recently used
    store.put("prefix", "d" * 8, bytes(100))

    present = store.contains_many("prefix", [n * 8 for n in "abcd"])
    assert present == [True, False, True, True]
    assert store.stats().bytes == 300


def test_memory_store_skips_an_entry_larger_than_its_budget():
    store = MemoryStore(budget=50)

    written = store.put("prefix", KEY_A, bytes(51))

    assert not written
    assert store.get("prefix", KEY_A) is None
    assert store.stats().entries == 0


def test_memory_store_counts_and_clears():
    store = MemoryStore(budget=1 << 20)
    store.put("object", KEY_A, b"one")
    store.put("object", KEY_A, b"two")  # first writer wins

    found = store.get_many("object", [KEY_A, KEY_B])
    removed = store.clear()

    assert [None if f is None else bytes(f) for f in found] == [b"one", None]
    assert removed == 1
    counters = store.stats().counters
    assert (counters["hits"], counters["misses"], counters["writes"]) == (1, 1, 1)


# endregion In-memory LRU


# region Local directory
def test_directory_round_trip_and_layout(tmp_path):
    store = DirectoryStore(str(tmp_path), 1 << 20)

    written = store.put("object", KEY_A, b"payload")
    found = store.get("object", KEY_A)

    assert written
    assert found is not None
    assert bytes(found) == b"payload"
    path = tmp_path / f"v{FORMAT_VERSION}" / "object" / KEY_A[:2] / KEY_A
    assert path.is_file()
    assert os.listdir(tmp_path / f"v{FORMAT_VERSION}" / "tmp") == []  # renamed, nothing left


def test_directory_evicts_least_recently_used_to_the_budget(tmp_path):
    entry_size = len(encode("object", KEY_A, bytes(2000)))
    store = DirectoryStore(str(tmp_path), budget=5 * entry_size - 1)
    keys = [c * 64 for c in "abcde"]
    for i, key in enumerate(keys[:4]):
        store.put("object", key, bytes(2000))
        os.utime(store.path("object", key), (1000.0 + i, 1000.0 + i))  # a, b, c, d in age order

    store.get("object", keys[0])  # a hit makes a the most recently used
    store.put("object", keys[4], bytes(2000))

    present = store.contains_many("object", keys)
    assert present == [True, False, True, True, True]
    stats = store.stats()
    assert (stats.entries, stats.bytes) == (4, 4 * entry_size)


def test_directory_stats_count_hits_misses_and_kinds(tmp_path):
    store = DirectoryStore(str(tmp_path), 1 << 20)
    store.put("object", KEY_A, bytes(10))
    store.put("prefix", KEY_B, bytes(20))
    store.get("object", KEY_A)
    store.get("object", KEY_B)

    # A second store object (another process) sees the counters on disk.
    stats = DirectoryStore(str(tmp_path), 1 << 20).stats()

    assert stats.entries == 2
    assert set(stats.kinds) == {"object", "prefix"}
    assert (stats.counters["hits"], stats.counters["misses"], stats.counters["writes"]) == (1, 1, 2)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(lambda data: data[: len(data) // 2], "payload of", id="truncated"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), "checksum", id="corrupt"),
        pytest.param(lambda data: b"", "truncated header", id="empty"),
    ],
)
def test_directory_damaged_entry_is_a_miss_then_replaced(tmp_path, damage, reason):
    store = DirectoryStore(str(tmp_path), 1 << 20)
    store.put("object", KEY_A, bytes(range(200)))
    path = store.path("object", KEY_A)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))

    found, messages = caught(lambda: store.get("object", KEY_A))
    rewritten = store.put("object", KEY_A, b"recomputed")
    again = store.get("object", KEY_A)

    assert found is None
    assert len(messages) == 1
    assert reason in messages[0]
    assert rewritten
    assert again is not None
    assert bytes(again) == b"recomputed"
    assert store.stats().counters["corrupt"] == 1


def test_directory_foreign_entry_is_never_served(tmp_path):
    store = DirectoryStore(str(tmp_path), 1 << 20)
    store.put("object", KEY_A, b"code of A")
    os.makedirs(os.path.dirname(store.path("object", KEY_B)), exist_ok=True)
    os.makedirs(os.path.dirname(store.path("prefix", KEY_A)), exist_ok=True)
    with open(store.path("object", KEY_A), "rb") as f:
        data = f.read()
    for path in (store.path("object", KEY_B), store.path("prefix", KEY_A)):
        with open(path, "wb") as f:
            f.write(data)

    (under_b, as_prefix), messages = caught(
        lambda: (store.get("object", KEY_B), store.get("prefix", KEY_A))
    )

    assert under_b is None
    assert as_prefix is None
    assert len(messages) == 1  # one warning for the second fault of the same kind too
    assert not os.path.exists(store.path("object", KEY_B))


def test_unusable_directory_warns_once_and_stores_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = DirectoryStore(str(blocker / "cache"), 1 << 20)

    (first, second, found), messages = caught(
        lambda: (
            store.put("object", KEY_A, b"x"),
            store.put("object", KEY_B, b"y"),
            store.get("object", KEY_A),
        )
    )

    assert (first, second, found) == (False, False, None)
    assert len(messages) == 1
    assert "is not writable" in messages[0]


_WRITER = textwrap.dedent(
    """
    import json, os, sys
    from red.cache.directory import DirectoryStore
    root, me, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = DirectoryStore(root, 1 << 30)
    payloads = {w: bytes([w]) * (50_000 + w) for w in range(4)}  # what each writer stores
    seen, wrong = 0, 0
    for i in range(rounds):
        store.put("object", "shared" + "0" * 58, payloads[me])
        store.put("object", f"own{me:02d}{i:04d}" + "0" * 56, payloads[me])
        found = store.get("object", "shared" + "0" * 58)
        if found is not None:
            seen += 1
            wrong += bytes(found) not in payloads.values()
    print(json.dumps({"seen": seen, "wrong": wrong, "corrupt": store.counters["corrupt"]}))
    """
)


def test_concurrent_writers_in_several_processes_never_expose_a_partial_entry(tmp_path):
    rounds = 60

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(w), str(rounds)],
            stdout=subprocess.PIPE,
        )
        for w in range(4)
    ]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]

    assert all(p.returncode == 0 for p in procs)
    assert all(r["seen"] == rounds and r["wrong"] == 0 and r["corrupt"] == 0 for r in results)
    stats = DirectoryStore(str(tmp_path), 1 << 30).stats()
    assert stats.entries == 1 + 4 * rounds
    assert stats.counters["writes"] == 2 * 4 * rounds


def test_clear_removes_entries_and_counters(tmp_path):
    store = DirectoryStore(str(tmp_path), 1 << 20)
    store.put("object", KEY_A, b"x")
    store.put("prefix", KEY_B, b"y")
    store.get("object", KEY_A)

    removed = store.clear()

    stats = store.stats()
    assert removed == 2
    assert (stats.entries, stats.bytes, stats.counters["hits"]) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["memory", "directory"])
def test_delete_then_put_replaces_an_entry(tmp_path, backend):
    """`delete` is how a caller replaces an entry whatever the backend's rule for a second
    write under a key (the tuner's retune). Deleting an absent key is no error; a bad key is
    refused."""
    store = MemoryStore(1 << 20) if backend == "memory" else DirectoryStore(str(tmp_path), 1 << 20)
    store.put("tuning", KEY_A, b"old")

    store.delete("tuning", KEY_A)
    store.delete("tuning", KEY_B)
    assert store.get("tuning", KEY_A) is None
    store.put("tuning", KEY_A, b"new")

    assert bytes(store.get("tuning", KEY_A) or b"") == b"new"
    assert store.stats().entries == 1
    with pytest.raises(ValueError, match=r"invalid cache key '\.\./x'"):
        store.delete("tuning", "../x")


# endregion Local directory


# region Configuration
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("4096", 4096, id="bytes"),
        pytest.param("512M", 512 << 20, id="mebibytes"),
        pytest.param("2g", 2 << 30, id="lowercase"),
        pytest.param("1.5GiB", 3 << 29, id="fraction-iec"),
        pytest.param("10 KB", 10 << 10, id="space-and-b"),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_parse_size_rejects_garbage():
    with pytest.raises(ValueError, match="invalid size 'lots'"):
        parse_size("lots")


def test_default_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RED_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    xdg = config.default_cache_dir()
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path / "mine"))

    mine = config.default_cache_dir()

    if sys.platform.startswith("linux"):
        assert xdg == str(tmp_path / "xdg" / "red")
    assert mine == str(tmp_path / "mine")


def test_open_store_by_url(tmp_path, monkeypatch):
    monkeypatch.setenv("RED_CACHE_SIZE", "3M")

    local = open_store(str(tmp_path))
    file_url = open_store(f"file://{tmp_path}")
    memory = open_store("memory", budget=123)
    remote = open_store("redis://user:secret@127.0.0.1:1/2")

    assert isinstance(local, DirectoryStore)
    assert local.budget == 3 << 20
    assert isinstance(file_url, DirectoryStore)
    assert file_url.root == str(tmp_path)
    assert isinstance(memory, MemoryStore)
    assert memory.budget == 123
    assert isinstance(remote, RedisStore)
    assert remote.location == "redis://user:***@127.0.0.1:1/2"
    assert "secret" not in redacted("redis://:secret@host/0")


def test_unknown_scheme_is_refused():
    with pytest.raises(StoreUnavailable, match="unknown cache URL scheme 'memcached://'"):
        open_store("memcached://host:11211")


def test_bad_budget_variable_warns_and_uses_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("RED_CACHE_SIZE", "huge")

    store, messages = caught(lambda: open_store(str(tmp_path)))

    assert isinstance(store, DirectoryStore)
    assert store.budget == config.DEFAULT_DIR_BUDGET
    assert len(messages) == 1
    assert "RED_CACHE_SIZE" in messages[0]


def test_switch_off_disables_both_caches(monkeypatch, tmp_path):
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RED_CACHE", "off")

    assert config.compile_store() is None
    assert config.prefix_store() is None


def test_configured_stores(monkeypatch, tmp_path):
    monkeypatch.delenv("RED_CACHE", raising=False)
    monkeypatch.delenv("RED_CACHE_URL", raising=False)
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))

    compile_store = config.compile_store()
    prefix_store = config.prefix_store()

    assert isinstance(compile_store, DirectoryStore)
    assert compile_store.root == str(tmp_path)
    assert isinstance(prefix_store, MemoryStore)
    assert config.compile_store() is compile_store  # one store per backend and process


# endregion Configuration
