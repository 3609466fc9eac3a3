"""UnaryOfRepeatedConcat (transforms/canonicalization/red.py): an elementwise unary op of a
concat whose inputs repeat is computed once per distinct input (Llama's rotary embedding:
cos and sin of cat(freqs, freqs)), run by the canonicalize pass; the rewritten functions
compute what the originals compute (bitwise, through the interpreter). `no_` cases: a
binary op, distinct inputs, a concat with another use stay as they are. The lit cases are
test/transforms/canonicalize-unary-concat.mlir."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func

import red
from red.dialects import red as red_ops

CASES = """
func.func @rotary(%f: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = red.concat %f, %f axis = 1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x16xf32>
  %c = red.cos %e : tensor<4x16xf32>
  %s = red.sin %e : tensor<4x16xf32>
  func.return %c, %s : tensor<4x16xf32>, tensor<4x16xf32>
}
func.func @three_inputs_one_repeated(%x: tensor<2x3xf32>, %y: tensor<1x3xf32>) -> tensor<5x3xf32> {
  %e = red.concat %x, %x, %y axis = 0 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<1x3xf32> -> tensor<5x3xf32>
  %r = red.exp %e : tensor<5x3xf32>
  func.return %r : tensor<5x3xf32>
}
func.func @chain_of_unary_ops(%x: tensor<3xf32>) -> tensor<6xf32> {
  %e = red.concat %x, %x axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %a = red.exp %e : tensor<6xf32>
  %b = red.gelu %a approximate = "tanh" : tensor<6xf32>
  func.return %b : tensor<6xf32>
}
func.func @symbolic_rows(%f: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x8xf32> {
  %e = red.concat %f, %f axis = 1 : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x8xf32>
  %c = red.cos %e : tensor<?x8xf32>
  func.return %c : tensor<?x8xf32>
}
func.func @no_binary_op(%x: tensor<3xf32>) -> tensor<6xf32> {
  %e = red.concat %x, %x axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %m = red.mul %e, %e : tensor<6xf32>, tensor<6xf32> -> tensor<6xf32>
  func.return %m : tensor<6xf32>
}
func.func @no_distinct_inputs(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<6xf32> {
  %e = red.concat %x, %y axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %r = red.exp %e : tensor<6xf32>
  func.return %r : tensor<6xf32>
}
func.func @no_concat_with_another_use(%x: tensor<3xf32>) -> (tensor<6xf32>, tensor<6xf32>) {
  %e = red.concat %x, %x axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %r = red.exp %e : tensor<6xf32>
  func.return %r, %e : tensor<6xf32>, tensor<6xf32>
}
"""

INPUTS = {
    "rotary": [(4, 8)],
    "three_inputs_one_repeated": [(2, 3), (1, 3)],
    "chain_of_unary_ops": [(3,)],
    "symbolic_rows": [(5, 4)],
    "no_binary_op": [(3,)],
    "no_distinct_inputs": [(3,), (3,)],
    "no_concat_with_another_use": [(3,)],
}


@pytest.fixture(scope="module")
def canonicalized():
    """(the module before, the module after canonicalize)."""
    before = red.parse(CASES)
    after = before.clone()
    red.run_pipeline(after, "canonicalize{test-convergence=true}")
    return before, after


def body(module, name: str) -> list[str]:
    fn = next(
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name
    )
    return [op.name for op in fn.body.block.ops]


def ops_named(module, function: str, name: str) -> list:
    fn = next(
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == function
    )
    return [op for op in fn.body.block.ops if op.name == name]


def test_rotary_cos_and_sin_once_per_half(canonicalized):
    _, after = canonicalized

    assert sorted(body(after, "rotary")) == sorted(
        ["red.cos", "red.concat", "red.sin", "red.concat", "func.return"]
    )
    for unary in ("red.cos", "red.sin"):
        (op,) = ops_named(after, "rotary", unary)
        assert red_ops.shape_of(op.result) == (4, 8)
        (use,) = {u.operation for u in op.result.uses}
        assert isinstance(use, red_ops.ConcatOp)
        assert list(use.inputs) == [op.result, op.result]


def test_each_distinct_input_once_in_the_concat_order(canonicalized):
    _, after = canonicalized
    exps = ops_named(after, "three_inputs_one_repeated", "red.exp")

    assert len(exps) == 2
    ex, ey = exps
    assert [e.input.name_hint for e in exps] == ["x", "y"]
    (concat,) = ops_named(after, "three_inputs_one_repeated", "red.concat")
    assert list(concat.inputs) == [ex.result, ex.result, ey.result]
    assert concat.axis.value.data == 0


def test_a_chain_of_unary_ops_moves_through_and_keeps_properties(canonicalized):
    _, after = canonicalized

    assert body(after, "chain_of_unary_ops") == ["red.exp", "red.gelu", "red.concat", "func.return"]
    (gelu,) = ops_named(after, "chain_of_unary_ops", "red.gelu")
    assert gelu.approximation == "tanh"
    assert red_ops.shape_of(gelu.result) == (3,)


def test_symbolic_dims(canonicalized):
    _, after = canonicalized

    (cos,) = ops_named(after, "symbolic_rows", "red.cos")
    assert red_ops.shape_of(cos.result) == (red_ops.DYNAMIC, 4)


@pytest.mark.parametrize(
    "name", ["no_binary_op", "no_distinct_inputs", "no_concat_with_another_use"]
)
def test_no_rewrite(canonicalized, name: str):
    before, after = canonicalized

    assert body(after, name) == body(before, name)
    (concat,) = ops_named(after, name, "red.concat")
    assert [v.name_hint for v in concat.inputs] == [
        v.name_hint for v in ops_named(before, name, "red.concat")[0].inputs
    ]


@pytest.mark.parametrize("name", list(INPUTS))
def test_rewritten_functions_compute_the_same_bits(canonicalized, name: str):
    before, after = canonicalized
    rng = np.random.default_rng(len(name))
    args = [rng.standard_normal(s).astype(np.float32) for s in INPUTS[name]]

    want = red.interpret(before).call(name, *args)
    got = red.interpret(after).call(name, *args)

    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
