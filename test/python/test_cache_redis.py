"""red.cache on a real Redis (a redis-server started per module on a free port): the store
contract, both caches, two processes sharing one server, and the faults: the server stopped
mid-run, a full server (maxmemory with noeviction), garbage under a valid key, a key from
another model. In every fault the call returns the right result, warns once, and nothing wrong
is served. With RED_CI=1 a missing redis-server or redis package fails instead of skipping."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from red.cache.compile_cache import CompileCache, CompileTarget, compile_with_cache
from red.cache.entry import encode
from red.cache.local_redis import LocalRedisServer
from red.cache.prefix_cache import KIND as PREFIX
from red.cache.prefix_cache import PrefixCache, block_keys, join_blocks, split_blocks
from red.cache.redis_store import RedisStore
from red.cache.store import CacheWarning, StoreUnavailable

IN_CI = bool(os.environ.get("RED_CI"))
B = 16

# A function red's lowering would emit, by hand: out[i] = a[i] * b[i] + 1 for 4 floats.
LLVM_IR = """
define void @red_main(ptr %a, ptr %b, ptr %out) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %pa = getelementptr float, ptr %a, i64 %i
  %pb = getelementptr float, ptr %b, i64 %i
  %po = getelementptr float, ptr %out, i64 %i
  %x = load float, ptr %pa
  %y = load float, ptr %pb
  %m = fmul float %x, %y
  %r = fadd float %m, 1.0
  store float %r, ptr %po
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, 4
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
"""


def require_redis() -> None:
    missing = []
    if shutil.which("redis-server") is None:
        missing.append("redis-server (apt-get install redis-server)")
    if importlib.util.find_spec("redis") is None:
        missing.append("the redis package (pip install 'red[redis]')")
    if missing:
        message = "needs " + " and ".join(missing)
        if IN_CI:
            pytest.fail(f"RED_CI=1: {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def server():
    require_redis()
    with LocalRedisServer() as running:
        yield running


@pytest.fixture
def url(server) -> str:
    """The shared server, emptied and with no memory limit."""
    import redis

    client = redis.Redis.from_url(server.url)
    client.flushdb()
    client.config_set("maxmemory", 0)
    client.close()
    return server.url


@pytest.fixture
def own_server():
    """A server of the test's own, to stop or to fill."""
    require_redis()
    with LocalRedisServer() as running:
        yield running


def caught(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]


def run_llvm(engine) -> np.ndarray:
    import ctypes

    fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
        engine.get_function_address("red_main")
    )
    a = np.array([1, 2, 3, 4], np.float32)
    b = np.array([0.5, -1, 2, 10], np.float32)
    out = np.empty(4, np.float32)
    fn(a.ctypes.data, b.ctypes.data, out.ctypes.data)
    return out


EXPECTED = np.array([1.5, -1.0, 7.0, 41.0], np.float32)


def states(tokens: np.ndarray) -> list[np.ndarray]:
    """State rows that depend on every earlier token (a running sum), for 2 layers."""
    rows = np.cumsum(np.eye(100, 8, dtype=np.float64)[tokens % 100] + tokens[:, None], axis=0)
    return [rows.astype(np.float32)[None], (2 * rows).astype(np.float32)[None]]


# region Store contract
def test_put_get_first_writer_wins(url):
    store = RedisStore(url)

    first = store.put("object", "a" * 64, b"first")
    second = store.put("object", "a" * 64, b"second")
    found = store.get_many("object", ["a" * 64, "b" * 64])

    assert (first, second) == (True, False)
    assert [None if f is None else bytes(f) for f in found] == [b"first", None]
    assert store.contains_many("object", ["a" * 64, "b" * 64]) == [True, False]


def test_delete_then_put_replaces_an_entry(url):
    store = RedisStore(url)
    store.put("tuning", "c" * 64, b"old")

    store.delete("tuning", "c" * 64)
    store.delete("tuning", "d" * 64)
    store.put("tuning", "c" * 64, b"new")

    assert bytes(store.get("tuning", "c" * 64) or b"") == b"new"


def test_empty_requests_need_no_round_trip(own_server):
    store = RedisStore(own_server.url)
    cache = PrefixCache(store, B)
    own_server.stop()  # any request would fail and warn

    (found, present, written, short), messages = caught(
        lambda: (
            store.get_many("prefix", []),
            store.contains_many("prefix", []),
            store.put_many("prefix", []),
            cache.longest_prefix("fp", np.arange(B - 1)),
        )
    )

    assert (found, present, written, short) == ([], [], 0, (0, []))
    assert messages == []


def test_stats_and_clear(url):
    store = RedisStore(url)
    store.put("object", "a" * 64, bytes(100))
    store.put("prefix", "b" * 64, bytes(50))
    store.get("object", "a" * 64)
    store.get("object", "c" * 64)
    store.client.set("someone-elses-key", b"kept")

    stats = RedisStore(url).stats()  # counters live on the server: another client sees them
    removed = store.clear()

    assert stats.entries == 2
    assert set(stats.kinds) == {"object", "prefix"}
    assert (stats.counters["hits"], stats.counters["misses"], stats.counters["writes"]) == (1, 1, 2)
    assert stats.notes[0].startswith("server memory:")
    assert removed == 2
    assert store.stats().entries == 0
    assert store.client.get("someone-elses-key") == b"kept"  # clear touches only red's keys


# endregion Store contract


# region Faults
def test_server_stopped_mid_run(own_server):
    store = RedisStore(own_server.url, retry_seconds=0.0)
    cache = CompileCache(store)
    target = CompileTarget.host()
    engine = compile_with_cache(LLVM_IR, target, cache)
    own_server.stop()

    engines, messages = caught(
        lambda: [compile_with_cache(LLVM_IR, target, cache) for _ in range(3)]
    )
    prefix, more = caught(
        lambda: PrefixCache(store, B).store(
            "fp", np.arange(32), split_blocks(states(np.arange(32)), 32, B, 1)
        )
    )

    assert all(np.array_equal(run_llvm(e), EXPECTED) for e in [engine, *engines])
    assert len(messages) == 1
    assert "unreachable" in messages[0]
    assert (prefix, more) == (0, [])  # warned once per store, not once per call
    with pytest.raises(StoreUnavailable, match="stats failed"):
        store.stats()


def test_down_server_is_left_alone_until_the_retry_time(own_server):
    store = RedisStore(own_server.url, retry_seconds=3600.0)
    own_server.stop()
    caught(lambda: store.get("object", "a" * 64))
    own_server.start()  # back, but the store waits out its retry time

    found, messages = caught(
        lambda: (store.put("object", "a" * 64, b"x"), store.get("object", "a" * 64))
    )

    assert found == (False, None)
    assert messages == []
    store._down_until = 0.0  # the retry time has passed
    assert store.put("object", "a" * 64, b"x")


def test_full_server_serves_what_it_has_and_computes_the_rest(own_server):
    import redis

    client = redis.Redis.from_url(own_server.url)
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", used + 200_000)
    cache = PrefixCache(RedisStore(own_server.url), B)
    rng = np.random.default_rng(0)
    prompts = [rng.integers(0, 1000, 64) for _ in range(40)]  # 40 x 4 blocks of 2 KiB: too many

    written, messages = caught(
        lambda: [cache.store("fp", p, split_blocks(states(p), 64, B, axis=1)) for p in prompts]
    )
    looked_up = [cache.longest_prefix("fp", p) for p in prompts]

    assert 0 < sum(written) < 4 * len(prompts)
    assert len(messages) == 1
    assert "is full" in messages[0]
    assert any(n == 64 for n, _ in looked_up)  # what was stored before it filled is served
    for p, (n, blocks) in zip(prompts, looked_up, strict=True):
        assert n == 16 * len(blocks)
        for got, full in zip(join_blocks(blocks, axis=1), states(p) if n else [], strict=True):
            np.testing.assert_array_equal(got, full[:, :n])
    client.close()


def test_garbage_under_a_valid_key_is_replaced(url):
    store = RedisStore(url)
    cache = CompileCache(store)
    target = CompileTarget.host()
    compile_with_cache(LLVM_IR, target, cache)
    (name,) = [n for n in store.client.keys("red:*") if b"stats" not in n]
    store.client.set(name, b"\x00garbage\xff" * 10)

    engine, messages = caught(lambda: compile_with_cache(LLVM_IR, target, cache))
    replaced = store.client.get(name)

    assert np.array_equal(run_llvm(engine), EXPECTED)
    assert len(messages) == 1
    assert "corrupt or foreign" in messages[0]
    assert isinstance(replaced, bytes)
    assert replaced.startswith(b"REDC")  # recompiled and stored again


def test_key_from_another_model_is_never_served(url):
    store = RedisStore(url)
    cache = PrefixCache(store, B)
    tokens = np.arange(32)
    cache.store("theirs", tokens, split_blocks(states(tokens) * 1, 32, B, axis=1))
    theirs, ours = block_keys("theirs", tokens, B)[0], block_keys("ours", tokens, B)[0]
    # Their bytes copied under our key as they are (the header names their key) ...
    store.client.set(store.name(PREFIX, ours), store.client.get(store.name(PREFIX, theirs)))
    as_copied, first = caught(lambda: cache.longest_prefix("ours", tokens))
    # ... and re-framed for our key (only the payload's fingerprint tells).
    payload = store.get(PREFIX, theirs)
    assert payload is not None
    store.client.set(store.name(PREFIX, ours), encode(PREFIX, ours, bytes(payload)))
    reframed, second = caught(
        lambda: PrefixCache(RedisStore(url), B).longest_prefix("ours", tokens)
    )

    assert as_copied == (0, [])
    assert reframed == (0, [])
    assert "another key" in first[0]
    assert "another model" in second[0]
    assert len(first) == 1
    assert len(second) == 1


def test_missing_client_package_or_bad_url_is_unavailable():
    with pytest.raises(StoreUnavailable, match="invalid Redis URL"):
        RedisStore("redis://host:notaport/0")


# endregion Faults


# region Two processes
_PROCESS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from red.cache.compile_cache import CompileCache, CompileTarget, compile_with_cache
    from red.cache.prefix_cache import PrefixCache, split_blocks
    from red.cache.redis_store import RedisStore

    url, ir = sys.argv[1], sys.stdin.read()
    lowered = []
    def lower():
        lowered.append(1)
        return ir
    store = RedisStore(url)
    compile_with_cache(lower, CompileTarget.host(), CompileCache(store), key="k" * 64)
    prompt = np.arange(40)
    n, blocks = PrefixCache(store, 16).longest_prefix("fp", prompt, limit=39)
    state = np.arange(40 * 4, dtype=np.float32).reshape(40, 4)
    if n == 0:
        PrefixCache(store, 16).store("fp", prompt, split_blocks([state], 40, 16))
    same = all(np.array_equal(b[0], state[16 * i : 16 * (i + 1)]) for i, b in enumerate(blocks))
    print(json.dumps({"lowered": len(lowered), "cached_tokens": n, "same": same,
                      "hits": store.counters["hits"]}))
    """
)


def test_second_process_hits_the_first_processes_entries(url):
    def run() -> dict:
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS, url],
            input=LLVM_IR,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout)

    first = run()
    second = run()

    assert first == {"lowered": 1, "cached_tokens": 0, "same": True, "hits": 0}
    assert second == {"lowered": 0, "cached_tokens": 32, "same": True, "hits": 3}


# endregion Two processes


# region red-cache on Redis
def test_red_cache_stats_and_clear_on_redis(url, capsys):
    from red.tools.red_cache import main

    store = RedisStore(url)
    store.put("object", "a" * 64, bytes(1000))

    stats_code = main(["stats", "--url", url])
    stats_out = capsys.readouterr().out
    json_code = main(["stats", "--json", "--url", url])
    as_json = json.loads(capsys.readouterr().out)
    clear_code = main(["clear", "--url", url])
    clear_out = capsys.readouterr().out

    assert (stats_code, json_code, clear_code) == (0, 0, 0)
    assert "backend:  Redis" in stats_out
    assert "entries:  1 (object: 1)" in stats_out
    assert as_json["backend"] == "redis"
    assert as_json["entries"] == 1
    assert clear_out == f"removed 1 entries from {url}\n"
    assert store.stats().entries == 0


def test_red_cache_reports_a_down_server(own_server, capsys):
    from red.tools.red_cache import main

    own_server.stop()

    code = main(["stats", "--url", own_server.url])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: Redis at {own_server.url}: stats failed:")


# endregion red-cache on Redis
