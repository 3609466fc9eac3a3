"""Generation with the derived KV cache and the prefix cache (issues 11 and 14): the entry
points `incrementalize{entry-points=true}` derives compute the tokens of @generate; the
Generator reuses the state of a cached prompt prefix, in memory or on a real Redis, and never
serves the state of another model."""

from __future__ import annotations

import numpy as np
import pytest
from decoder_models import decoder, function, generate_inputs
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr

import red
from red.cache.prefix_cache import PrefixCache
from red.cache.store import MemoryStore
from red.dialects import red as r
from red.dialects.diagnostics import DiagnosticError
from red.frontends.generate import greedy
from red.generation import Generator
from red.transforms.incrementalize import BLOCK_SIZE_ATTR, STATE_AXES_ATTR

CAPACITY = 24  # tokens the module holds: prompt + generated
BLOCK = 4


@pytest.fixture(scope="module")
def model():
    """A decoder in a greedy loop, its weights, and a reference run of @generate."""
    module = greedy(decoder(CAPACITY, layers=1), 10, CAPACITY - 10)
    inputs = generate_inputs(module, 10)
    return module, inputs[1:]


def reference(module, weights, prompt: np.ndarray) -> np.ndarray:
    """The tokens of the naive @generate for a prompt of any length: the same loop, rebuilt
    for that prompt length."""
    body = decoder(CAPACITY, layers=1)
    naive = greedy(body, len(prompt), CAPACITY - len(prompt))
    (tokens,) = red.interpret(naive).call("generate", prompt.reshape(1, -1), *weights)
    return tokens


def prompt_of(length: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 32, size=length).astype(np.int64)


def generator(module, weights, **options) -> Generator:
    options.setdefault("cache", PrefixCache(MemoryStore(1 << 26), block_size=BLOCK))
    return Generator(module, weights, block_size=BLOCK, engine="interp", **options)


def test_entry_points_are_derived_with_their_state_layout(model):
    module, _ = model
    derived = module.clone()
    red.run_pipeline(
        derived, f"canonicalize,cse,incrementalize{{entry-points=true block-size={BLOCK}}}"
    )

    prefill = function(derived, "generate_prefill_block")
    decode = function(derived, "generate_decode")
    size = prefill.attributes[BLOCK_SIZE_ATTR]
    axes = prefill.attributes[STATE_AXES_ATTR]
    assert isinstance(size, IntegerAttr)
    assert size.value.data == BLOCK
    assert isinstance(axes, ArrayAttr)
    assert len(axes.data) == len(prefill.function_type.outputs)
    # prefill: (tokens, weights..., states..., start) -> states; decode: (..., t0) -> tokens
    states = list(prefill.function_type.outputs.data)
    n_weights = len(prefill.function_type.inputs) - 2 - len(states)
    assert n_weights > 0
    assert list(prefill.function_type.inputs.data[-1 - len(states) : -1]) == states
    assert list(decode.function_type.inputs.data[-1 - len(states) : -1]) == states
    assert len(decode.function_type.outputs) == 1


@pytest.mark.parametrize("length", [1, 2, 5, 8, 9, 13])
def test_tokens_are_those_of_generate(model, length: int):
    module, weights = model
    prompt = prompt_of(length)
    gen = generator(module, weights, use_cache=False)

    np.testing.assert_array_equal(gen(prompt), reference(module, weights, prompt))
    assert gen.last_cached_tokens == 0


def test_a_repeated_prompt_starts_from_its_cached_blocks(model):
    module, weights = model
    gen = generator(module, weights)
    prompt = prompt_of(11)  # 10 state rows: 2 full blocks of 4 are cached
    first = gen(prompt)
    assert gen.last_cached_tokens == 0

    second = gen(prompt)

    assert gen.last_cached_tokens == 8
    np.testing.assert_array_equal(second, first)
    np.testing.assert_array_equal(second, reference(module, weights, prompt))


def test_a_prompt_sharing_a_prefix_reuses_only_the_shared_blocks(model):
    module, weights = model
    gen = generator(module, weights)
    shared = prompt_of(14)
    gen(shared)
    other = shared.copy()
    other[6] = (other[6] + 1) % 32  # differs inside the second block

    tokens = gen(other)

    assert gen.last_cached_tokens == 4
    np.testing.assert_array_equal(tokens, reference(module, weights, other))


def test_other_weights_never_hit_the_cache(model):
    module, weights = model
    cache = PrefixCache(MemoryStore(1 << 26), block_size=BLOCK)
    prompt = prompt_of(13)
    generator(module, weights, cache=cache)(prompt)
    changed = [w.copy() for w in weights]
    changed[0][0, 0] += 1.0

    gen = generator(module, changed, cache=cache)
    tokens = gen(prompt)

    assert gen.last_cached_tokens == 0
    np.testing.assert_array_equal(tokens, reference(module, changed, prompt))


@pytest.mark.parametrize("length", [0, CAPACITY])
def test_a_prompt_that_does_not_fit_is_refused(model, length: int):
    module, weights = model
    gen = generator(module, weights, use_cache=False)
    with pytest.raises(ValueError, match=f"a prompt of {length} tokens"):
        gen(prompt_of(length))


def test_a_loop_that_cannot_be_incrementalized_is_a_located_error():
    module = greedy(decoder(8, layers=1), 3, 5)
    for op in list(module.walk()):  # drop the mask: every row sees every position
        if isinstance(op, r.SelectOp):
            op.results[0].replace_all_uses_with(op.true_value)
            op.detach()
            op.erase()
    weights = generate_inputs(module, 3)[1:]
    with pytest.raises(DiagnosticError, match=r"no '@generate_prefill_block'.*not incrementalized"):
        Generator(module, weights, engine="interp", use_cache=False)


def test_a_cache_with_other_blocks_is_refused(model):
    module, weights = model
    cache = PrefixCache(MemoryStore(1 << 20), block_size=BLOCK + 1)
    with pytest.raises(ValueError, match="blocks hold 5 tokens, the generator's 4"):
        generator(module, weights, cache=cache)


def test_a_block_larger_than_the_buffer_is_clamped(model):
    module, weights = model
    prompt = prompt_of(9)
    gen = Generator(module, weights, block_size=100, engine="interp", use_cache=False)
    assert gen.block_size == CAPACITY
    np.testing.assert_array_equal(gen(prompt), reference(module, weights, prompt))


def test_redis_backed_cache_is_shared_between_generators(model):
    from test_cache_redis import require_redis

    require_redis()
    from red.cache.local_redis import LocalRedisServer
    from red.cache.redis_store import RedisStore

    module, weights = model
    prompt = prompt_of(12)
    with LocalRedisServer() as server:
        writer = generator(module, weights, cache=PrefixCache(RedisStore(server.url), BLOCK))
        expected = writer(prompt)
        reader = generator(module, weights, cache=PrefixCache(RedisStore(server.url), BLOCK))

        tokens = reader(prompt)

    assert reader.last_cached_tokens == 8
    np.testing.assert_array_equal(tokens, expected)


# region JIT


@pytest.mark.parametrize("length", [1, 5, 13])
def test_jit_tokens_equal_the_naive_loop_without_a_cache(model, length: int):
    module, weights = model
    gen = Generator(module, weights, block_size=BLOCK, engine="jit", use_cache=False)
    prompt = prompt_of(length)

    tokens = gen(prompt)

    np.testing.assert_array_equal(tokens, reference(module, weights, prompt))
    assert gen.last_cached_tokens == 0


@pytest.fixture(scope="module")
def hf_generators():
    """HF GPT-2 and Llama (GQA) from small configs in a greedy loop over CAPACITY tokens:
    per model, the HF model, the naive module, and JIT and interpreter generators sharing
    one prefix cache each."""
    pytest.importorskip("torch", reason="the HF models need the red[torch] extra")
    pytest.importorskip("transformers", reason="the HF models need transformers")
    import torch
    from test_incrementalize import hf_model

    from red.frontends.torch_importer import import_torch

    class AllLogits(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, ids):
            return self.model(ids, use_cache=False).logits

    made = {}
    for name in ("gpt2", "llama"):
        hf = hf_model(name)
        zeros = torch.zeros(1, CAPACITY, dtype=torch.long)
        imported = import_torch(AllLogits(hf), (zeros,))
        naive = greedy(imported.module, 10, CAPACITY - 10)
        weights = [np.asarray(w) for w in imported.weights]
        jit = Generator(naive, weights, block_size=BLOCK, engine="jit",
                        cache=PrefixCache(MemoryStore(1 << 26), block_size=BLOCK))  # fmt: skip
        interp = Generator(naive, weights, block_size=BLOCK, engine="interp", use_cache=False)
        made[name] = (hf, naive, weights, jit, interp)
    return made


def hf_tokens(hf, prompt: np.ndarray) -> np.ndarray:
    import torch

    new = CAPACITY - len(prompt)
    out = hf.generate(torch.tensor(prompt).reshape(1, -1), max_new_tokens=new,
                      min_new_tokens=new, do_sample=False, use_cache=True, pad_token_id=0)  # fmt: skip
    return out.numpy()


@pytest.mark.parametrize(
    "name", [pytest.param("gpt2", id="hf-gpt2"), pytest.param("llama", id="hf-llama")]
)
@pytest.mark.parametrize("length", [2, 10, 13])
def test_jit_tokens_equal_the_interpreter_and_hf_with_and_without_cached_blocks(
    hf_generators, name: str, length: int
):
    hf, _, _, jit, interp = hf_generators[name]
    prompt = prompt_of(length, seed=length + 10) % 128
    expected = interp(prompt)

    first = jit(prompt)
    first_cached = jit.last_cached_tokens
    second = jit(prompt)

    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)
    np.testing.assert_array_equal(expected, hf_tokens(hf, prompt))
    assert first_cached == 0
    assert jit.last_cached_tokens == (length - 1) // BLOCK * BLOCK


@pytest.mark.parametrize(
    "name", [pytest.param("gpt2", id="hf-gpt2"), pytest.param("llama", id="hf-llama")]
)
def test_jit_tokens_equal_the_naive_loop(hf_generators, name: str):
    _, naive, weights, jit, _ = hf_generators[name]
    prompt = prompt_of(10, seed=3) % 128

    (expected,) = red.interpret(naive).call("generate", prompt.reshape(1, -1), *weights)

    np.testing.assert_array_equal(jit(prompt), expected)


# endregion JIT
