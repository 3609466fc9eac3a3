"""red.memo under the JIT (DESIGN.md §4): computed on the first call, reused while the
weight buffers are the same, recomputed for other buffers, invalidated by red_memo_reset();
arguments checked on every call (an array changed in place is not taken for the one passed
before); memo keys are arguments whose buffers the caller keeps (issue 13)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from xdsl.ir import BlockArgument

import red
from red.dialects import red as rd
from red.lowering.compiled_function import data_pointer
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


# region Arguments changed in place between calls


def test_an_array_retyped_in_place_is_checked_again(compiled):
    x = np.zeros((4, 8), np.float32)
    w = np.eye(8, dtype=np.float32)
    compiled.main(x, w)

    x.dtype = np.int32  # pyright: ignore[reportAttributeAccessIssue]  (in place: now 4x8 int32)

    with pytest.raises(red.DiagnosticError, match=r"argument #0 \(%x\) .* dtype int32"):
        compiled.main(x, w)


def test_an_array_reshaped_in_place_is_checked_again(compiled):
    x = np.zeros((4, 8), np.float32)
    w = np.eye(8, dtype=np.float32)
    compiled.main(x, w)

    x.shape = (8, 4)

    with pytest.raises(red.DiagnosticError, match=r"argument #0 \(%x\) .* shape 8x4"):
        compiled.main(x, w)


def test_an_array_reallocated_in_place_passes_its_new_buffer(compiled):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    compiled.main(x, w)
    old = x.ctypes.data

    x.resize((1 << 16,), refcheck=False)  # a new, larger buffer; the old one is freed
    x.resize((32,), refcheck=False)
    x.shape = (4, 8)
    x[...] = rng.standard_normal((4, 8)).astype(np.float32)

    assert x.ctypes.data != old
    np.testing.assert_allclose(compiled.main(x, w), expected(x, w), rtol=1e-5, atol=1e-6)


def test_a_strided_array_is_copied_not_read_as_contiguous(compiled):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    wide = rng.standard_normal((4, 16)).astype(np.float32)
    compiled.main(np.ascontiguousarray(wide[:, ::2]), w)

    x = wide[:, ::2]  # every other column: not contiguous

    np.testing.assert_allclose(compiled.main(x, w), expected(x, w), rtol=1e-5, atol=1e-6)


def test_data_pointer_reads_the_arrays_buffer():
    arrays = [
        np.zeros(3, np.float32),
        np.arange(10)[3:],
        np.zeros((2, 3), bool).T,
        np.empty(0, np.float64),
    ]

    assert [data_pointer(a) for a in arrays] == [a.ctypes.data for a in arrays]


# endregion Arguments changed in place between calls

# region Memo keys identify values

PUBLIC_MEMO_CALLED = (
    MEMO_COUNTER.replace("@main", "@h")
    + """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %v: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %s = red.mul %w, %v : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %r = func.call @h(%x, %KEY) : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}
"""
)


def test_a_computed_value_cannot_key_a_callees_memo():
    """Compiled memos key on addresses: `@h(%w * %v)` got @h's result for the old %v in
    18 of 20 calls; the verifier refuses the call."""
    with pytest.raises(
        red.DiagnosticError,
        match=r"14:3: error: 'func.call' op operand #1 keys a red.memo of '@h': it must be a "
        r"'red.invariant' argument of the public function the call is in",
    ):
        red.parse(PUBLIC_MEMO_CALLED.replace("%KEY", "%s"))


def test_a_weight_passed_on_keys_a_callees_memo():
    rng = np.random.default_rng(6)
    module = red.parse(PUBLIC_MEMO_CALLED.replace("%KEY", "%w"))
    compiled = red.compile(module)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w1, w2 = (rng.standard_normal((8, 8)).astype(np.float32) for _ in range(2))
    v = np.zeros((8, 8), np.float32)

    got = [compiled.main(x, w, v) for w in (w1, w1, w2, w1)]

    for g, w in zip(got, (w1, w1, w2, w1)):
        np.testing.assert_allclose(g, expected(x, w), rtol=1e-5, atol=1e-6)


def test_memoize_keys_only_on_public_invariant_arguments():
    """red-pipeline's memos key on the weights themselves, never on a value computed from
    them (`%s = w * w` passed to a private function): new weights give new results."""
    module = red.parse(
        """
func.func private @h(%s: tensor<8x8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %t = red.transpose %s [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %y = red.matmul %x, %t : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %s = red.mul %w, %w : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %r = func.call @h(%s, %x) : (tensor<8x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}
"""
    )
    red.optimize(module)
    memos = [op for op in module.walk() if isinstance(op, rd.MemoOp)]
    compiled = red.compile(module)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 8)).astype(np.float32)

    results = []
    for _ in range(4):
        w = rng.standard_normal((8, 8)).astype(np.float32)  # often at a freed one's address
        results.append((compiled.main(x, w), expected(x, w * w)))

    assert memos, "red-pipeline should cache the weight-only work"
    for key in (k for m in memos for k in m.keys):
        assert isinstance(key, BlockArgument)
    for got, want in results:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# endregion Memo keys identify values
