"""red.memo under the JIT (DESIGN.md §4): computed on the first call, reused while the
weight buffers are the same, recomputed for other buffers, invalidated by red_memo_reset()."""

from __future__ import annotations

import os

import numpy as np
import pytest

import red
from red.testing.random_inputs import random_inputs

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")

MEMO_COUNTER = """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %wt = red.memo(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %t : tensor<8x8xf32>
  }
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
"""


@pytest.fixture(scope="module")
def compiled():
    return red.compile(red.parse(MEMO_COUNTER))


def expected(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x @ w.T


def test_first_and_second_call_use_the_weights(compiled):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32)

    first = compiled.main(x, w)
    second = compiled.main(x, w)

    np.testing.assert_allclose(first, expected(x, w), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(second, first)


def test_in_place_change_is_the_callers_contract_until_reset(compiled):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    before = compiled.main(x, w)

    w *= 2  # same buffer, new contents: the memo still holds the old transpose
    stale = compiled.main(x, w)
    compiled.memo_reset()
    fresh = compiled.main(x, w)

    np.testing.assert_array_equal(stale, before)
    np.testing.assert_allclose(fresh, expected(x, w), rtol=1e-5, atol=1e-6)


def test_other_weight_buffers_recompute(compiled):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w1 = rng.standard_normal((8, 8)).astype(np.float32)
    w2 = rng.standard_normal((8, 8)).astype(np.float32)

    a = compiled.main(x, w1)
    b = compiled.main(x, w2)
    c = compiled.main(x, w1.copy())

    np.testing.assert_allclose(a, expected(x, w1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, expected(x, w2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, expected(x, w1), rtol=1e-5, atol=1e-6)


def test_optimized_gpt_decoder_memos_under_the_jit():
    module = red.parse_file(os.path.join(EXAMPLES, "gpt_decoder.mlir"))
    reference = red.interpret(module.clone())
    inputs = random_inputs(reference.function("main"), seed=3)
    want = reference.call("main", *inputs)[0]
    red.optimize(module)
    compiled = red.compile(module)

    calls = [compiled.main(*inputs) for _ in range(2)]
    inputs[1] = inputs[1] * 2  # a new wte buffer
    new_weights = compiled.main(*inputs)
    compiled.memo_reset()
    after_reset = compiled.main(*inputs)

    for got in calls:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    want2 = reference.call("main", *inputs)[0]
    np.testing.assert_allclose(new_weights, want2, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(after_reset, new_weights)


def test_compiled_function_reports_bad_arguments(compiled):
    with pytest.raises(
        red.DiagnosticError, match=r"argument #1 \(%w\) of '@main' expects 'tensor<8x8xf32>'"
    ):
        compiled.main(np.zeros((4, 8), np.float32), np.zeros((8, 8), np.float64))
