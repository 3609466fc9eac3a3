"""The prefix cache: blocks keyed by a hash chain rooted at the model fingerprint; the longest
cached prefix is found and its state returned exactly; another model, other weights or a
different earlier token never share state; a toy causal model prefilled from a cached prefix
gives the same state as a full prefill."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import red
from red.cache.directory import DirectoryStore
from red.cache.entry import encode
from red.cache.fingerprint import model_fingerprint, weights_hash
from red.cache.prefix_cache import KIND, PrefixCache, block_keys, join_blocks, split_blocks
from red.cache.store import CacheWarning, MemoryStore

B = 16


@pytest.fixture(params=["memory", "directory"])
def cache(request, tmp_path) -> PrefixCache:
    if request.param == "memory":
        return PrefixCache(MemoryStore(1 << 26), B)
    return PrefixCache(DirectoryStore(str(tmp_path), 1 << 26), B)


# region A toy causal model
def toy_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "embed": rng.standard_normal((100, 8)).astype(np.float32),
        "wk": rng.standard_normal((8, 8)).astype(np.float32),
        "wv": rng.standard_normal((8, 8)).astype(np.float32),
    }


def prefill(weights, tokens: np.ndarray, state: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Keys and values of each position (heads x positions x dims), each row depending on all
    earlier tokens (a running mean of embeddings: a causal mixer); from `state` when given, only
    the positions after it are computed."""
    done = 0 if state is None else state[0].shape[1]
    emb = weights["embed"][tokens].astype(np.float64)
    running = np.cumsum(emb, axis=0) / np.arange(1, len(tokens) + 1)[:, None]
    rows = running[done:].astype(np.float32)
    k = np.stack([rows @ weights["wk"], np.tanh(rows @ weights["wk"])])
    v = np.stack([rows @ weights["wv"], np.sin(rows @ weights["wv"])])
    if state is None:
        return [k, v]
    return [np.concatenate([state[0], k], axis=1), np.concatenate([state[1], v], axis=1)]


# endregion A toy causal model


def test_block_keys_chain_over_blocks():
    tokens = np.arange(40)

    keys = block_keys("fp", tokens, B)
    shifted = block_keys("fp", np.concatenate([[99], tokens[1:]]), B)

    assert len(keys) == 2  # 40 tokens hold 2 full blocks
    assert keys == block_keys("fp", tokens[:32], B)
    assert shifted[0] != keys[0]
    assert shifted[1] != keys[1]  # same tokens in block 1, but another parent
    assert block_keys("fp2", tokens, B)[0] != keys[0]
    assert block_keys("fp", tokens, 8)[1] != keys[0]  # block size is in the root


def test_longest_prefix_returns_the_stored_state(cache):
    weights = toy_weights()
    tokens = np.random.default_rng(1).integers(0, 100, 70)
    state = prefill(weights, tokens)

    written = cache.store("fp", tokens, split_blocks(state, len(tokens), B, axis=1))
    n, blocks = cache.longest_prefix("fp", tokens)

    assert written == 4
    assert n == 64
    for got, full in zip(join_blocks(blocks, axis=1), state, strict=True):
        np.testing.assert_array_equal(got, full[:, :64])


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(None, 64, id="all-blocks"),
        pytest.param(63, 48, id="keep-one-token"),
        pytest.param(48, 48, id="on-a-boundary"),
        pytest.param(15, 0, id="less-than-a-block"),
    ],
)
def test_limit_keeps_tokens_to_compute(cache, limit, expected):
    tokens = np.arange(64) % 100
    state = prefill(toy_weights(), tokens)
    cache.store("fp", tokens, split_blocks(state, 64, B, axis=1))

    n, blocks = cache.longest_prefix("fp", tokens, limit=limit)

    assert n == expected
    assert len(blocks) == expected // B


def test_a_different_token_ends_the_shared_prefix(cache):
    tokens = np.arange(64) % 100
    cache.store("fp", tokens, split_blocks(prefill(toy_weights(), tokens), 64, B, axis=1))
    other = tokens.copy()
    other[37] = 99  # inside block 2

    n, _ = cache.longest_prefix("fp", other)

    assert n == 32


def test_other_weights_or_graph_never_share_state(cache):
    module = red.parse(
        "func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
        "  %y = red.exp %x : tensor<2xf32>\n  func.return %y : tensor<2xf32>\n}"
    )
    other_graph = red.parse(
        "func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
        "  %y = red.tanh %x : tensor<2xf32>\n  func.return %y : tensor<2xf32>\n}"
    )
    ours = model_fingerprint(module, toy_weights(0))
    tokens = np.arange(32)
    cache.store(ours, tokens, split_blocks(prefill(toy_weights(0), tokens), 32, B, axis=1))

    by_weights = cache.longest_prefix(model_fingerprint(module, toy_weights(1)), tokens)
    by_graph = cache.longest_prefix(model_fingerprint(other_graph, toy_weights(0)), tokens)
    same = cache.longest_prefix(
        model_fingerprint(red.parse(red.to_text(module)), toy_weights(0)), tokens
    )

    assert by_weights[0] == 0
    assert by_graph[0] == 0
    assert same[0] == 32


def test_weights_hash_covers_values_dtype_shape_and_names():
    w = toy_weights()
    base = weights_hash(w)

    one_element = {**w, "wk": w["wk"].copy()}
    one_element["wk"][3, 3] += 1e-3
    as_f64 = {**w, "wk": w["wk"].astype(np.float64)}
    reshaped = {**w, "wk": w["wk"].reshape(4, 16)}
    renamed = {"emb": w["embed"], "wk": w["wk"], "wv": w["wv"]}

    assert weights_hash(dict(reversed(list(w.items())))) == base  # a mapping is in key order
    assert len({base, *(weights_hash(x) for x in (one_element, as_f64, reshaped, renamed))}) == 5


def test_prefill_from_the_cached_prefix_equals_the_full_prefill(cache):
    weights = toy_weights()
    rng = np.random.default_rng(2)
    first = rng.integers(0, 100, 60)
    second = np.concatenate([first[:45], rng.integers(0, 100, 30)])  # shares 45 tokens
    cache.store("fp", first, split_blocks(prefill(weights, first), 60, B, axis=1))

    n, blocks = cache.longest_prefix("fp", second, limit=len(second) - 1)
    resumed = prefill(weights, second, join_blocks(blocks, axis=1))

    assert n == 32
    for got, full in zip(resumed, prefill(weights, second), strict=True):
        np.testing.assert_array_equal(got, full)


def test_store_skips_blocks_already_cached_and_accepts_a_first_block(cache):
    tokens = np.arange(64)
    blocks = split_blocks(prefill(toy_weights(), tokens), 64, B, axis=1)

    first = cache.store("fp", tokens, blocks[:2])
    again = cache.store("fp", tokens, blocks[:3])
    tail = cache.store("fp", tokens, blocks[3:], first_block=3)

    assert (first, again, tail) == (2, 1, 1)
    assert cache.longest_prefix("fp", tokens)[0] == 64


def test_a_gap_stops_the_prefix(tmp_path):
    store = DirectoryStore(str(tmp_path), 1 << 26)
    cache = PrefixCache(store, B)
    tokens = np.arange(64)
    cache.store("fp", tokens, split_blocks(prefill(toy_weights(), tokens), 64, B, axis=1))
    store._discard(KIND, block_keys("fp", tokens, B)[1])  # as if evicted

    n, blocks = cache.longest_prefix("fp", tokens)

    assert n == 16
    assert len(blocks) == 1


def four_blocks() -> tuple[np.ndarray, list[list[np.ndarray]], int]:
    """Tokens, the state of their 4 blocks, and the bytes one block takes in memory."""
    tokens = np.arange(64)
    blocks = split_blocks(prefill(toy_weights(), tokens), 64, B, axis=1)
    unbounded = PrefixCache(MemoryStore(1 << 20), B)
    unbounded.store("fp", tokens, blocks)
    return tokens, blocks, unbounded.storage.stats().bytes // 4


def test_memory_budget_evicts_the_deepest_blocks_first():
    tokens, blocks, size = four_blocks()
    cache = PrefixCache(MemoryStore(2 * size + size // 2), B)

    cache.store("fp", tokens, blocks)
    n, _ = cache.longest_prefix("fp", tokens)

    assert cache.storage.stats().entries == 2
    assert n == 32  # blocks 0 and 1 stayed: a chain is useless past its first gap


def test_lookups_keep_the_root_blocks_most_recent():
    tokens, blocks, size = four_blocks()
    cache = PrefixCache(MemoryStore(4 * size + size // 2), B)
    cache.store("fp", tokens, blocks)
    cache.longest_prefix("fp", tokens)

    cache.store("other", tokens, blocks[:1])  # one more block: one must go
    n, _ = cache.longest_prefix("fp", tokens)

    assert n == 48  # the deepest block went, not the root


def test_another_models_state_under_our_key_is_rejected(cache):
    tokens = np.arange(32)
    state = split_blocks(prefill(toy_weights(), tokens), 32, B, axis=1)
    cache.store("theirs", tokens, state)
    ours_key = block_keys("ours", tokens, B)[0]
    theirs_key = block_keys("theirs", tokens, B)[0]
    payload = cache.storage.get(KIND, theirs_key)
    assert payload is not None
    # Re-framed under our key with a valid checksum: only the payload's fingerprint tells.
    _plant(cache, ours_key, bytes(payload))

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        n, _ = cache.longest_prefix("ours", tokens)

    assert n == 0
    messages = [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]
    assert len(messages) == 1
    assert "another model" in messages[0]
    assert not cache.storage.contains_many(KIND, [ours_key])[0]  # removed, to be recomputed


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(b"\x02\x00\x00\x00{}", "'fingerprint'", id="missing-fields"),
        pytest.param(b"\xff\xff\x00\x00{", "", id="header-past-the-end"),
        pytest.param(b"", "unpack", id="empty"),
    ],
)
def test_malformed_payload_is_a_miss(cache, payload, reason):
    tokens = np.arange(16)
    key = block_keys("fp", tokens, B)[0]
    _plant(cache, key, payload)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        n, blocks = cache.longest_prefix("fp", tokens)

    assert (n, blocks) == (0, [])
    assert [w for w in seen if issubclass(w.category, CacheWarning) and reason in str(w.message)]


def test_array_past_the_end_is_a_miss(cache):
    tokens = np.arange(16)
    key = block_keys("fp", tokens, B)[0]
    good = PrefixCache(MemoryStore(1 << 20), B)
    good.store("fp", tokens, [[np.ones((2, 16, 8), np.float32)]])
    payload = bytes(good.storage.get(KIND, key) or b"")
    _plant(cache, key, payload[:-64])  # the header still promises 1 KiB of floats

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        n, _ = cache.longest_prefix("fp", tokens)

    assert n == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda c: c.store("fp", np.arange(20), [[np.zeros(1)], [np.zeros(1)]]),
            "needs 32 tokens, got 20",
            id="too-few-tokens",
        ),
        pytest.param(
            lambda c: c.store("fp", np.arange(32), [[np.zeros(2)], [np.zeros(3)]]),
            "blocks differ",
            id="inconsistent-blocks",
        ),
        pytest.param(
            lambda c: c.longest_prefix("fp", np.zeros(16, np.float32)),
            "1-d sequence of integers",
            id="float-tokens",
        ),
        pytest.param(
            lambda c: c.longest_prefix("fp", np.zeros((2, 16), np.int64)),
            "1-d sequence of integers",
            id="2d-tokens",
        ),
        pytest.param(
            lambda c: split_blocks([np.zeros((2, 8))], 16, B, axis=1),
            "fewer than 16",
            id="short-state",
        ),
        pytest.param(
            lambda c: split_blocks([np.zeros((2, 8))], 4, B, axis=[1, 0]),
            "2 axes given for 1",
            id="axes-count",
        ),
        pytest.param(
            lambda c: PrefixCache(MemoryStore(1), 0), "block size must be >= 1", id="block-size"
        ),
    ],
)
def test_misuse_is_an_error(cache, call, message):
    with pytest.raises(ValueError, match=message):
        call(cache)


def test_split_and_join_with_an_axis_per_state():
    k = np.arange(2 * 40 * 3).reshape(2, 40, 3)
    v = np.arange(40 * 5).reshape(40, 5)

    blocks = split_blocks([k, v], 40, B, axis=[1, 0])
    joined = join_blocks(blocks, axis=[1, 0])

    assert len(blocks) == 2
    assert blocks[1][0].shape == (2, 16, 3)
    np.testing.assert_array_equal(joined[0], k[:, :32])
    np.testing.assert_array_equal(joined[1], v[:32])
    assert join_blocks([], axis=0) == []


def _plant(cache: PrefixCache, key: str, payload: bytes) -> None:
    """Put a well-framed entry under `key`, replacing what is there."""
    store = cache.storage
    if isinstance(store, MemoryStore):
        store._discard(KIND, key)
        store.put(KIND, key, payload)
        return
    assert isinstance(store, DirectoryStore)
    store._write(KIND, key, encode(KIND, key, payload))
