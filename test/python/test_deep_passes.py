"""Numeric and cost tests of optimize-chains, narrow-to-uses, memoize and red-pipeline: results
before and after each pass on random inputs through the interpreter (bit-exact for the exact
passes, within the tolerances of DESIGN.md §7 where matmuls are reassociated), the memo cache
at run time (FlopCounter), and the FLOPs the cost model reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from red.dialects import red
from red.dialects.context import make_context
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import public_functions
from red.dialects.verifier import verify_module
from red.frontends import builder
from red.frontends.builder import FunctionBuilder, ModuleBuilder, Tensor
from red.frontends.mlir_text import module_to_text, parse_mlir, split_input
from red.passes.pass_manager import PassManager
from red.passes.registry import parse_pass_list
from red.testing.random_inputs import random_inputs
from red.transforms.analysis.binding_time import is_invariant_argument
from red.transforms.analysis.cost_model import FlopCounter, module_metrics
from red.transforms.analysis.equivalence import close, reduction_length

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("seed_chain", "gpt_decoder", "lstm_classifier")
SEEDS = (0, 1)

EXACT = ("narrow-to-uses", "memoize", "red-pipeline{strict-fp=true}")
"""Passes whose results must be bit-identical (DESIGN.md §7: exact rewrites)."""
REASSOCIATING = ("optimize-chains", "red-pipeline")
"""Passes that may reassociate matmuls: compared with `equivalence.close`."""

# region Helpers


def parse(text: str, filename: str = "test.mlir") -> ModuleOp:
    module = parse_mlir(text, filename, make_context())
    verify_module(module)
    return module


def load_example(name: str) -> ModuleOp:
    path = ROOT / "examples" / f"{name}.mlir"
    return parse(path.read_text(), str(path))


def run_passes(module: ModuleOp, spec: str) -> None:
    """Run a pipeline spec the way red-opt does (the IR is verified after every pass)."""
    PassManager(parse_pass_list(spec)).run(make_context(), module)
    verify_module(module)


def main_of(module: ModuleOp) -> func.FuncOp:
    return next(fn for fn in public_functions(module) if fn.sym_name.data == "main")


def count_ops(module: ModuleOp, kind: type) -> int:
    return sum(1 for op in module.walk() if isinstance(op, kind))


def assert_results_match(
    expected: Sequence[Any], actual: Sequence[Any], *, exact: bool, scale: int, what: str
) -> None:
    """Bit-exact (dtype, shape and values) when `exact`, else within DESIGN.md §7."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} results, want {len(expected)}"
    for i, (want, got) in enumerate(zip(expected, actual)):
        want, got = np.asarray(want), np.asarray(got)
        assert got.dtype == want.dtype, f"{what} result #{i}: dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"{what} result #{i}: shape {got.shape} != {want.shape}"
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=f"{what} result #{i}")
        else:
            ok, err = close(want, got, scale, exact=False)
            assert ok, f"{what} result #{i}: max abs error {err:.3g} beyond tolerance"


def check_pass_numerics(module: ModuleOp, spec: str, *, exact: bool) -> ModuleOp:
    """Run `spec` on a copy of `module`; every public function must give the same results
    on seeded random inputs, on a first and on a second (memo-cached) call."""
    scale = reduction_length(module)
    cases = [
        (fn.sym_name.data, random_inputs(fn, seed, sizes={}))
        for fn in public_functions(module)
        for seed in SEEDS
    ]
    reference = ModuleRunner(module.clone())
    expected = [reference.call(name, *inputs) for name, inputs in cases]

    transformed = module.clone()
    run_passes(transformed, spec)

    runner = ModuleRunner(transformed)
    for call in ("first call", "second call"):
        for (name, inputs), want in zip(cases, expected):
            got = runner.call(name, *inputs)
            what = f"@{name} after {spec} ({call})"
            assert_results_match(want, got, exact=exact, scale=scale, what=what)
    return transformed


def lit_cases(filename: str, specs: Sequence[str]) -> list[Any]:
    """One param per (`// -----` chunk of a lit test input, pass spec): the lit inputs are
    small modules written to exercise each pass, so they are reused for numerics here."""
    text = (ROOT / "test" / "transforms" / filename).read_text()
    params = []
    for chunk in split_input(text, True):
        module = parse(chunk.text, filename)
        names = [fn.sym_name.data for fn in public_functions(module)]
        if not names:
            continue
        for spec in specs:
            params.append(pytest.param(chunk.text, spec, id=f"{names[0]}-{spec}"))
    return params


# endregion Helpers

# region (a) numerics before and after each pass


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("spec", EXACT)
def test_exact_passes_on_examples_are_bit_exact(example: str, spec: str):
    module = load_example(example)

    check_pass_numerics(module, spec, exact=True)


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("spec", REASSOCIATING)
def test_reassociating_passes_on_examples_are_close(example: str, spec: str):
    module = load_example(example)

    check_pass_numerics(module, spec, exact=False)


@pytest.mark.parametrize(
    ("text", "spec"),
    lit_cases("narrow-to-uses.mlir", ["narrow-to-uses", "red-pipeline{strict-fp=true}"]),
)
def test_narrow_to_uses_lit_inputs_are_bit_exact(text: str, spec: str):
    module = parse(text)

    check_pass_numerics(module, spec, exact=True)


@pytest.mark.parametrize(("text", "spec"), lit_cases("memoize.mlir", ["memoize", "canonicalize"]))
def test_memoize_lit_inputs_are_bit_exact(text: str, spec: str):
    module = parse(text)

    check_pass_numerics(module, spec, exact=True)


@pytest.mark.parametrize(
    ("text", "spec"), lit_cases("optimize-chains.mlir", ["optimize-chains", "red-pipeline"])
)
def test_optimize_chains_lit_inputs_are_close(text: str, spec: str):
    module = parse(text)

    check_pass_numerics(module, spec, exact=False)


REDUCTION_NARROWED_ON_ANOTHER_AXIS = """
func.func @main(%x: tensor<64x4xf32>) -> tensor<1xf32> {
  %e = red.exp %x : tensor<64x4xf32>
  %s = red.reduce_sum %e axes = [0] : tensor<64x4xf32> -> tensor<4xf32>
  %r = red.slice %s [3] [4] [1] : tensor<4xf32> -> tensor<1xf32>
  func.return %r : tensor<1xf32>
}
"""
SOFTMAX_NARROWED_ON_ANOTHER_AXIS = """
func.func @main(%x: tensor<64x4xf32>) -> tensor<64x1xf32> {
  %p = red.softmax %x axis = 0 : tensor<64x4xf32>
  %q = red.slice %p [0, 3] [64, 4] [1, 1] : tensor<64x4xf32> -> tensor<64x1xf32>
  func.return %q : tensor<64x1xf32>
}
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(REDUCTION_NARROWED_ON_ANOTHER_AXIS, id="reduce_sum-axis0-column"),
        pytest.param(SOFTMAX_NARROWED_ON_ANOTHER_AXIS, id="softmax-axis0-column"),
    ],
)
def test_narrowed_reduction_over_another_axis_is_bit_exact(text: str):
    module = parse(text)

    transformed = check_pass_numerics(module, "narrow-to-uses,canonicalize,cse,dce", exact=True)

    assert "tensor<64x1xf32>" in module_to_text(transformed)  # it was narrowed


def random_chain_module(seed: int) -> ModuleOp:
    """A function of 1-3 matmul chains over a path of 2-4 random-shaped matrices (some given
    transposed), parenthesized at random, some computed through transposes ((L·R) as
    (Rᵀ·Lᵀ)ᵀ), square sub-chains repeated (A·B·A·B), and some intermediate products reused
    or returned (several uses: chain leaves)."""
    rng = np.random.default_rng(seed)
    mb = ModuleBuilder()
    fb = mb.function("main")
    count = int(rng.integers(2, 5))
    dims = [int(d) for d in rng.integers(1, 9, size=count + 1)]
    leaves: list[Tensor] = []
    for i in range(count):
        if rng.random() < 0.3:
            leaves.append(fb.arg([dims[i + 1], dims[i]], name=f"m{i}t").T)
        else:
            leaves.append(fb.arg([dims[i], dims[i + 1]], name=f"m{i}"))
    reused: dict[tuple[int, ...], Tensor] = {}

    def product(seq: list[int]) -> Tensor:
        if len(seq) == 1:
            return leaves[seq[0]]
        if tuple(seq) in reused and rng.random() < 0.5:
            return reused[tuple(seq)]
        k = int(rng.integers(1, len(seq)))
        lhs, rhs = product(seq[:k]), product(seq[k:])
        value = (rhs.T @ lhs.T).T if rng.random() < 0.2 else lhs @ rhs
        if rng.random() < 0.2:
            reused[tuple(seq)] = value
        return value

    outputs = []
    for _ in range(int(rng.integers(1, 4))):
        lo = int(rng.integers(0, count))
        hi = int(rng.integers(lo, count))
        seq = list(range(lo, hi + 1))
        if dims[lo] == dims[hi + 1] and rng.random() < 0.7:
            seq = seq + seq
        if len(seq) >= 2:
            outputs.append(product(seq))
    outputs.extend(v for k, v in list(reused.items())[:1])
    fb.returns(*(outputs or [leaves[0]]))
    return mb.build()


def matmul_flops(module: ModuleOp) -> int:
    total = 0
    for op in module.walk():
        if isinstance(op, red.MatmulOp):
            m, k = red.shape_of(op.lhs)[-2:]
            total += 2 * m * k * red.shape_of(op.rhs)[-1]
    return total


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(40)])
def test_optimize_chains_on_random_chains(seed: int):
    module = random_chain_module(seed)
    before = matmul_flops(module)

    transformed = check_pass_numerics(module, "optimize-chains,cse,dce", exact=False)

    assert matmul_flops(transformed) <= before


def random_rowwise_module(seed: int) -> ModuleOp:
    """A random chain of row-wise ops on an R x C input (elementwise with broadcast operands,
    matmul, layer_norm/softmax/reduce over the last axis, concat, reshape, a product seen
    through transposes), some values also needed whole, ending in a slice or a constant
    gather of rows."""
    rng = np.random.default_rng(seed)
    mb = ModuleBuilder()
    fb = mb.function("main")
    value = fb.arg([int(rng.integers(2, 7)), int(rng.integers(2, 6))], name="x")
    whole: list[Tensor] = []
    steps: list[Callable[[FunctionBuilder, Tensor], Tensor]] = [
        lambda fb, v: builder.tanh(v),
        lambda fb, v: v * fb.arg([1, v.shape[1]]),
        lambda fb, v: v + fb.arg([v.shape[0], 1]),
        lambda fb, v: v @ fb.arg([v.shape[1], int(rng.integers(1, 6))]),
        lambda fb, v: builder.layer_norm(v, axis=1),
        lambda fb, v: builder.softmax(v, axis=1),
        lambda fb, v: v.sum(1, keepdims=True) + v,
        lambda fb, v: builder.concat([builder.exp(fb.arg([2, v.shape[1]])), v], axis=0),
        lambda fb, v: builder.concat([v, builder.sigmoid(fb.arg([1, v.shape[1]]))], axis=0),
        lambda fb, v: v.reshape(v.shape[0], 1, v.shape[1]).reshape(*v.shape),
        lambda fb, v: (v.T @ fb.arg([v.shape[0], v.shape[0]]).T).T,
    ]
    for _ in range(int(rng.integers(1, 7))):
        value = steps[int(rng.integers(0, len(steps)))](fb, value)
        if rng.random() < 0.15:
            whole.append(value.sum(0))
    rows = value.shape[0]
    if rng.random() < 0.5:
        i = int(rng.integers(0, rows))
        out = value[i : i + 1]
    else:
        picked = rng.choice(rows, size=int(rng.integers(1, rows + 1)), replace=False)
        indices = fb.constant(np.asarray(picked, dtype=np.int64))
        out = builder.gather(value, indices, axis=0)
    fb.returns(out, *whole)
    return mb.build()


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(40)])
def test_narrow_to_uses_on_random_rowwise_chains(seed: int):
    module = random_rowwise_module(seed)
    before = module_metrics(module)["main"]["flops"]

    transformed = check_pass_numerics(module, "narrow-to-uses,canonicalize,cse,dce", exact=True)

    assert module_metrics(transformed)["main"]["flops"] <= before


# endregion (a) numerics before and after each pass

# region (b) the tempting wrong rewrite


def seed_chain(squared: bool) -> ModuleOp:
    """A·B·C·A·B, or the tempting (A·B)²·C, which is not equal to it."""
    mb = ModuleBuilder()
    fb = mb.function("main")
    a, b, c = (fb.arg([8, 8], name=n) for n in "abc")
    if squared:
        t = a @ b
        fb.returns((t @ t) @ c)
    else:
        fb.returns((((a @ b) @ c) @ a) @ b)
    return mb.build()


def test_squared_product_differs_from_the_seed_chain():
    chain, squared = seed_chain(squared=False), seed_chain(squared=True)
    optimized = chain.clone()
    run_passes(optimized, "optimize-chains,cse,dce")
    scale = reduction_length(chain)

    for seed in SEEDS:
        inputs = random_inputs(main_of(chain), seed)
        want = ModuleRunner(chain).call("main", *inputs)[0]
        wrong = ModuleRunner(squared).call("main", *inputs)[0]
        got = ModuleRunner(optimized).call("main", *inputs)[0]

        assert not close(want, wrong, scale, exact=False)[0], (
            "the interpreter cannot tell them apart"
        )
        assert close(want, got, scale, exact=False)[0]
        assert not close(wrong, got, scale, exact=False)[0]
    assert count_ops(optimized, red.MatmulOp) == count_ops(squared, red.MatmulOp) == 3


# endregion (b) the tempting wrong rewrite

# region (c) the memo cache at run time


@dataclass
class Call:
    results: tuple[Any, ...]
    flops: int
    misses: int
    hits: int


class CountingRunner:
    """A ModuleRunner with a FlopCounter: each call reports the FLOPs it executed and the
    memo cache's hit and miss counts after it."""

    def __init__(self, module: ModuleOp):
        self.counter = FlopCounter()
        self.runner = ModuleRunner(module, listeners=[self.counter])

    def call(self, inputs: Sequence[Any]) -> Call:
        start = self.counter.flops
        results = self.runner.call("main", *inputs)
        memo = self.runner.red_functions
        return Call(results, self.counter.flops - start, memo.memo_misses, memo.memo_hits)


def memoized(example: str) -> tuple[ModuleOp, ModuleOp, list[np.ndarray]]:
    """(original, after memoize, the original's random inputs for seed 0)."""
    original = load_example(example)
    module = original.clone()
    run_passes(module, "memoize")
    return original, module, random_inputs(main_of(original), 0)


def invariant_indices(module: ModuleOp) -> list[int]:
    fn = main_of(module)
    return [i for i in range(len(fn.body.block.args)) if is_invariant_argument(fn, i)]


MEMO_EXAMPLES = ("gpt_decoder", "lstm_classifier")


@pytest.mark.parametrize("example", MEMO_EXAMPLES)
def test_second_call_with_same_weights_reuses_memos(example: str):
    original, module, inputs = memoized(example)
    expected = ModuleRunner(original).call("main", *inputs)
    metrics = module_metrics(module)["main"]
    memos = count_ops(module, red.MemoOp)
    runner = CountingRunner(module)

    first = runner.call(inputs)
    second = runner.call(inputs)

    assert memos >= 1
    assert second.flops < first.flops
    # The cost model's first-call and later-call FLOPs are what the interpreter executes.
    assert (first.flops, second.flops) == (metrics["flops_first_call"], metrics["flops_per_call"])
    assert (first.misses, first.hits) == (memos, 0)
    assert (second.misses, second.hits) == (memos, memos)
    assert_results_match(expected, first.results, exact=True, scale=1, what="first call")
    assert_results_match(expected, second.results, exact=True, scale=1, what="second call")


@pytest.mark.parametrize("example", MEMO_EXAMPLES)
def test_call_with_copied_weight_arrays_recomputes(example: str):
    original, module, inputs = memoized(example)
    expected = ModuleRunner(original).call("main", *inputs)
    memos = count_ops(module, red.MemoOp)
    copies = list(inputs)
    for i in invariant_indices(module):
        copies[i] = np.copy(inputs[i])  # equal values, a different array: a different key
    runner = CountingRunner(module)
    first = runner.call(inputs)

    third = runner.call(copies)

    assert third.flops == first.flops
    assert third.misses == first.misses + memos
    assert_results_match(expected, third.results, exact=True, scale=1, what="copied weights")


def test_call_with_one_changed_weight_recomputes_its_memo():
    original, module, inputs = memoized("gpt_decoder")
    wte = invariant_indices(module)[0]
    assert main_of(module).body.block.args[wte].name_hint == "wte"
    changed = list(inputs)
    changed[wte] = inputs[wte] + np.float32(0.5)
    expected = ModuleRunner(original).call("main", *changed)
    runner = CountingRunner(module)
    first = runner.call(inputs)

    again = runner.call(changed)

    # Only the memo keyed on wte misses (the one keyed on wpe still hits), and the result is
    # that of the new weights, not the cached transpose of the old ones.
    assert again.misses == first.misses + 1
    assert_results_match(expected, again.results, exact=True, scale=1, what="changed wte")
    assert not np.array_equal(again.results[0], first.results[0])


@pytest.mark.parametrize("example", MEMO_EXAMPLES)
def test_reset_memos_forces_recomputation(example: str):
    original, module, inputs = memoized(example)
    expected = ModuleRunner(original).call("main", *inputs)
    memos = count_ops(module, red.MemoOp)
    runner = CountingRunner(module)
    first = runner.call(inputs)
    runner.call(inputs)

    runner.runner.reset_memos()
    after_reset = runner.call(inputs)

    assert after_reset.flops == first.flops
    assert after_reset.misses == first.misses + memos
    assert_results_match(expected, after_reset.results, exact=True, scale=1, what="after reset")


# endregion (c) the memo cache at run time

# region (d) FLOPs per the cost model


def test_pipeline_on_seed_chain_saves_a_quarter_of_the_flops():
    module = load_example("seed_chain")
    before = module_metrics(module)["main"]

    run_passes(module, "red-pipeline")

    after = module_metrics(module)["main"]
    assert count_ops(module, red.MatmulOp) == 3
    assert 4 * after["flops_per_call"] == 3 * before["flops_per_call"]
    assert 4 * after["flops_first_call"] == 3 * before["flops_first_call"]


def test_strict_pipeline_on_seed_chain_keeps_four_matmuls():
    module = load_example("seed_chain")
    before = module_metrics(module)["main"]

    run_passes(module, "red-pipeline{strict-fp=true}")

    assert count_ops(module, red.MatmulOp) == 4
    assert module_metrics(module)["main"]["flops_per_call"] == before["flops_per_call"]


def test_pipeline_on_gpt_decoder_saves_at_least_the_lm_head():
    module = load_example("gpt_decoder")
    before = module_metrics(module)["main"]["flops_per_call"]

    run_passes(module, "red-pipeline")

    after = module_metrics(module)["main"]["flops_per_call"]
    lm_head_share = 32 * 64 * 512 * 2 - 1 * 64 * 512 * 2
    assert before - after >= lm_head_share


def test_pipeline_on_lstm_saves_the_classifier_and_caches_the_first_step():
    module = load_example("lstm_classifier")
    before = module_metrics(module)["main"]

    run_passes(module, "red-pipeline")

    after = module_metrics(module)["main"]
    assert before["flops_per_call"] - after["flops_per_call"] >= 16 * 64 * 10 * 2 - 64 * 10 * 2
    assert after["flops_per_call"] < after["flops_first_call"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_pipeline_reaches_a_fixpoint(example: str):
    module = load_example(example)
    run_passes(module, "red-pipeline")
    once = module_to_text(module)

    run_passes(module, "red-pipeline")

    assert module_to_text(module) == once


# endregion (d) FLOPs per the cost model
