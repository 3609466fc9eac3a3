"""red -> ONNX (frontends/onnx/export.py, red-export): every op family exported and run in
onnxruntime against the interpreter, memos computed at export time or written as nodes (with
the size guard), scf.for as Loop and scf.if as If, calls inlined, locations as node names,
the errors for ops without an ONNX equivalent, and round trips of models exported from
PyTorch (ONNX -> red -> red-pipeline -> ONNX gives the original's outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX exporter needs the 'onnx' package")
ort = pytest.importorskip("onnxruntime", reason="exported models are run in onnxruntime")

from test_onnx_importer import assert_close  # noqa: E402 (the importer tests' helpers)
from xdsl.dialects import func  # noqa: E402
from xdsl.dialects.builtin import ModuleOp  # noqa: E402

import red  # noqa: E402
from red.dialects.diagnostics import DiagnosticError  # noqa: E402
from red.frontends.onnx import import_onnx, weight_arrays  # noqa: E402
from red.frontends.onnx.export import ExportError, to_onnx  # noqa: E402
from red.testing.random_inputs import random_inputs  # noqa: E402
from red.tools import red_export  # noqa: E402

# region Helpers


def main_of(module: ModuleOp, name: str = "main") -> func.FuncOp:
    return next(
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name
    )


def run_model(model: Any, args: Sequence[Any]) -> list[np.ndarray]:
    """The model's outputs in onnxruntime, its graph inputs fed `args` in order; the model
    passes the checker with strict shape inference first (declared and inferred types agree)
    and holds no initializer that nothing reads."""
    onnx.checker.check_model(model, full_check=True)
    assert {i.name for i in model.graph.initializer} <= used_names(model.graph), "unused"
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert len(names) == len(args)
    return session.run(None, {n: np.asarray(a) for n, a in zip(names, args)})


def used_names(graph: Any) -> set[str]:
    """The values the nodes of a graph and of its subgraphs read, and its outputs."""
    names = {o.name for o in graph.output}
    for n in graph.node:
        names.update(n.input)
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                names |= used_names(a.g)
    return names


def check_against_interpreter(
    text: str, inputs: Sequence[Any] | None = None, **export_args: Any
) -> Any:
    """Parse, export, run in onnxruntime; results equal the interpreter's."""
    module = red.parse(text, "case.mlir")
    args = list(inputs) if inputs is not None else random_inputs(main_of(module), seed=1)
    expected = red.interpret(module).call("main", *args)

    model = to_onnx(module, **export_args)

    assert_close(run_model(model, args), expected)
    return model


def op_types(model: Any) -> list[str]:
    return [n.op_type for n in model.graph.node]


# endregion Helpers

# region Op families against the interpreter

CASES = {
    "binary": """
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = red.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %1 = red.sub %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %2 = red.mul %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %3 = red.div %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %4 = red.max %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %5 = red.min %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  func.return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}""",
    "pow": """
func.func @main(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = red.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %p = red.pow %a, %e : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  func.return %p : tensor<2x3xf32>
}""",
    "integer-arithmetic": """
func.func @main(%a: tensor<6xi64>, %b: tensor<6xi64>) -> (tensor<6xi64>, tensor<6xi64>, tensor<6xi64>) {
  %one = red.constant dense<1> : tensor<i64>
  %c = red.constant dense<[-7, 7, -7, 7, 5, -5]> : tensor<6xi64>
  %nz = red.add %b, %one : tensor<6xi64>, tensor<i64> -> tensor<6xi64>
  %q = red.div %c, %nz : tensor<6xi64>, tensor<6xi64> -> tensor<6xi64>
  %r = red.relu %c : tensor<6xi64>
  %m = red.mul %a, %c : tensor<6xi64>, tensor<6xi64> -> tensor<6xi64>
  func.return %q, %r, %m : tensor<6xi64>, tensor<6xi64>, tensor<6xi64>
}""",
    "compare-select": """
func.func @main(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> (tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xf32>) {
  %eq = red.eq %a, %a : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %ne = red.ne %a, %b : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %lt = red.lt %a, %b : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %le = red.le %a, %b : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %gt = red.gt %a, %b : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %ge = red.ge %a, %b : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xi1>
  %zero = red.constant dense<0.0> : tensor<f32>
  %s = red.select %lt, %a, %zero : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
  func.return %eq, %ne, %lt, %le, %gt, %ge, %s : tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xf32>
}""",
    "cast": """
func.func @main(%x: tensor<6xf32>, %i: tensor<6xi64>) -> (tensor<6xi32>, tensor<6xf64>, tensor<6xi1>, tensor<6xf16>) {
  %a = red.cast %x : tensor<6xf32> -> tensor<6xi32>
  %b = red.cast %i : tensor<6xi64> -> tensor<6xf64>
  %c = red.cast %x : tensor<6xf32> -> tensor<6xi1>
  %d = red.cast %x : tensor<6xf32> -> tensor<6xf16>
  func.return %a, %b, %c, %d : tensor<6xi32>, tensor<6xf64>, tensor<6xi1>, tensor<6xf16>
}""",
    "unary": """
func.func @main(%x: tensor<2x5xf32>) -> (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) {
  %0 = red.neg %x : tensor<2x5xf32>
  %1 = red.abs %x : tensor<2x5xf32>
  %2 = red.relu %x : tensor<2x5xf32>
  %3 = red.exp %x : tensor<2x5xf32>
  %4 = red.tanh %x : tensor<2x5xf32>
  %5 = red.sigmoid %x : tensor<2x5xf32>
  %6 = red.silu %x : tensor<2x5xf32>
  %7 = red.erf %x : tensor<2x5xf32>
  %8 = red.sin %x : tensor<2x5xf32>
  func.return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>
}""",
    "unary-positive": """
func.func @main(%y: tensor<2x5xf32>) -> (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) {
  %x = red.abs %y : tensor<2x5xf32>
  %0 = red.log %x : tensor<2x5xf32>
  %1 = red.sqrt %x : tensor<2x5xf32>
  %2 = red.rsqrt %x : tensor<2x5xf32>
  %3 = red.cos %x : tensor<2x5xf32>
  func.return %0, %1, %2, %3 : tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>
}""",
    "gelu": """
func.func @main(%x: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %e = red.gelu %x : tensor<3x4xf32>
  %t = red.gelu %x approximate = "tanh" : tensor<3x4xf32>
  func.return %e, %t : tensor<3x4xf32>, tensor<3x4xf32>
}""",
    "matmul-batched": """
func.func @main(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x3x5xf32> {
  %c = red.matmul %a, %b : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x3x5xf32>
  func.return %c : tensor<2x3x5xf32>
}""",
    "shapes": """
func.func @main(%x: tensor<2x3x4xf32>, %r: tensor<1x4xf32>) -> (tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<3x4xf32>, tensor<2x2x2xf32>, tensor<2x4x4xf32>) {
  %t = red.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %s = red.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %b = red.broadcast_to %r : tensor<1x4xf32> -> tensor<3x4xf32>
  %l = red.slice %x [0, 1, 0] [2, 3, 4] [1, 1, 2] : tensor<2x3x4xf32> -> tensor<2x2x2xf32>
  %rb = red.broadcast_to %r : tensor<1x4xf32> -> tensor<2x1x4xf32>
  %c = red.concat %x, %rb axis = 1 : tensor<2x3x4xf32>, tensor<2x1x4xf32> -> tensor<2x4x4xf32>
  func.return %t, %s, %b, %l, %c : tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<3x4xf32>, tensor<2x2x2xf32>, tensor<2x4x4xf32>
}""",
    "gather": """
func.func @main(%table: tensor<5x3xf32>, %ids: tensor<2x2xi64>) -> (tensor<2x2x3xf32>, tensor<5x2xf32>) {
  %g = red.gather %table, %ids axis = 0 : tensor<5x3xf32>, tensor<2x2xi64> -> tensor<2x2x3xf32>
  %neg = red.constant dense<[-1, 0]> : tensor<2xi32>
  %h = red.gather %table, %neg axis = 1 : tensor<5x3xf32>, tensor<2xi32> -> tensor<5x2xf32>
  func.return %g, %h : tensor<2x2x3xf32>, tensor<5x2xf32>
}""",
    "reductions": """
func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<2x4xf32>, tensor<1x3x1xf32>, tensor<2x3xf32>, tensor<f32>, tensor<2x4xi64>, tensor<1x3x4xi64>) {
  %s = red.reduce_sum %x axes = [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %sk = red.reduce_sum %x axes = [0, 2] keepdims : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
  %m = red.reduce_mean %x axes = [2] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  %x0 = red.reduce_max %x axes = [0, 1, 2] : tensor<2x3x4xf32> -> tensor<f32>
  %a = red.argmax %x axis = 1 : tensor<2x3x4xf32> -> tensor<2x4xi64>
  %ak = red.argmax %x axis = 0 keepdims : tensor<2x3x4xf32> -> tensor<1x3x4xi64>
  func.return %s, %sk, %m, %x0, %a, %ak : tensor<2x4xf32>, tensor<1x3x1xf32>, tensor<2x3xf32>, tensor<f32>, tensor<2x4xi64>, tensor<1x3x4xi64>
}""",
    "normalisations": """
func.func @main(%x: tensor<2x3x8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>) {
  %s = red.softmax %x axis = 1 : tensor<2x3x8xf32>
  %l = red.layer_norm %x axis = 2 eps = 1.000000e-05 : tensor<2x3x8xf32>
  %l2 = red.layer_norm %x axis = 1 eps = 1.000000e-03 : tensor<2x3x8xf32>
  %r = red.rms_norm %x axis = 2 eps = 1.000000e-06 : tensor<2x3x8xf32>
  func.return %s, %l, %l2, %r : tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>
}""",
    "constants": """
func.func @main(%x: tensor<300xf32>) -> (tensor<300xf32>, tensor<4x300xi64>, tensor<2x3xf32>) {
  %splat = red.constant dense<2.5> : tensor<300xf32>
  %m = red.mul %x, %splat : tensor<300xf32>, tensor<300xf32> -> tensor<300xf32>
  %i = red.iota dim = 1 : tensor<4x300xi64>
  %d = red.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  func.return %m, %i, %d : tensor<300xf32>, tensor<4x300xi64>, tensor<2x3xf32>
}""",
}


@pytest.mark.parametrize(("text", "opset"), [
    pytest.param(text, opset, id=f"{name}-opset{opset}")
    for name, text in CASES.items()
    for opset in (17, 20)
])  # fmt: skip
def test_op_family_matches_interpreter(text: str, opset: int):
    check_against_interpreter(text, opset=opset)


def test_gelu_is_a_node_from_opset_20_and_its_formula_before():
    """Before opset 20 Gelu is written in the Div -> Erf -> Add -> Mul -> Mul form
    onnxruntime fuses."""
    old = check_against_interpreter(CASES["gelu"], opset=17)
    new = check_against_interpreter(CASES["gelu"], opset=20)

    assert "Gelu" not in op_types(old)
    assert {"Erf", "Tanh"} <= set(op_types(old))
    assert op_types(new).count("Gelu") == 2


TOTAL = """
func.func @main(%a: tensor<6xi64>, %b: tensor<6xi64>, %c: tensor<6xi32>, %x: tensor<8xf32>) -> (tensor<6xi64>, tensor<6xi32>, tensor<6xi64>, tensor<8xi32>, tensor<8xi64>, tensor<8xi1>) {
  %q = red.div %a, %b : tensor<6xi64>, tensor<6xi64> -> tensor<6xi64>
  %r = red.div %c, %c : tensor<6xi32>, tensor<6xi32> -> tensor<6xi32>
  %two = red.constant dense<[2, -3, 2, 5, 7, 2]> : tensor<6xi64>
  %h = red.div %a, %two : tensor<6xi64>, tensor<6xi64> -> tensor<6xi64>
  %i = red.cast %x : tensor<8xf32> -> tensor<8xi32>
  %j = red.cast %x : tensor<8xf32> -> tensor<8xi64>
  %k = red.cast %x : tensor<8xf32> -> tensor<8xi1>
  func.return %q, %r, %h, %i, %j, %k : tensor<6xi64>, tensor<6xi32>, tensor<6xi64>, tensor<8xi32>, tensor<8xi64>, tensor<8xi1>
}"""


def test_integer_division_and_float_to_integer_casts_keep_reds_semantics():
    """x / 0 = 0 and MIN / -1 = MIN (ONNX leaves both undefined and onnxruntime traps); a
    float -> integer cast saturates and takes NaN to 0; a constant divisor without 0 or -1
    is a plain Div."""
    lowest = np.iinfo(np.int64).min
    a = np.array([7, -7, lowest, lowest, 9, 0], dtype=np.int64)
    b = np.array([2, 0, -1, 3, -1, 0], dtype=np.int64)
    c = np.array([0, -1, 5, -5, 3, 0], dtype=np.int32)
    x = np.array([1.9, -1.9, np.nan, np.inf, -np.inf, 3e9, -3e9, 2.5e19], dtype=np.float32)

    model = check_against_interpreter(TOTAL, [a, b, c, x])

    assert op_types(model).count("Div") == 3


def test_large_iota_and_splat_are_nodes_not_stored_elements():
    """Over the size guard an iota is Range -> Reshape -> Expand; a large splat is one
    ConstantOfShape, so the model does not hold their elements."""
    model = check_against_interpreter(CASES["constants"], max_fold_bytes=1024)

    assert {"Range", "ConstantOfShape"} <= set(op_types(model))
    assert max(int(np.prod(i.dims)) for i in model.graph.initializer) == 6


LAYER_NORM = """
func.func @main(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>) {
  %l = red.layer_norm %x axis = 2 eps = 1.000000e-05 : tensor<2x3x8xf32>
  %s = red.mul %l, %g : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xf32>
  %y = red.add %s, %b : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xf32>
  %l2 = red.layer_norm %y axis = 2 eps = 1.000000e-05 : tensor<2x3x8xf32>
  %s2 = red.mul %l2, %g : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xf32>
  %z = red.add %s2, %l2 : tensor<2x3x8xf32>, tensor<2x3x8xf32> -> tensor<2x3x8xf32>
  func.return %y, %z : tensor<2x3x8xf32>, tensor<2x3x8xf32>
}"""


def test_layer_norm_takes_the_scale_and_bias_that_follow_it():
    """layer_norm -> mul(scale) -> add(bias) is one LayerNormalization; a norm whose result
    has another user keeps its mul (scale of ones)."""
    model = check_against_interpreter(LAYER_NORM)

    norms = [n for n in model.graph.node if n.op_type == "LayerNormalization"]
    assert [len(n.input) for n in norms] == [3, 2]
    assert op_types(model) == ["LayerNormalization", "LayerNormalization", "Mul", "Add"]


DYNAMIC = """
func.func @main(%x: tensor<8x6xf32>, %u: tensor<2x6xf32>, %i: tensor<i64>, %j: i64) -> (tensor<2x6xf32>, tensor<3x2xf32>, tensor<8x6xf32>, tensor<8x6xf32>) {
  %c0 = arith.constant 0 : i64
  %c5 = arith.constant 5 : index
  %s = red.dynamic_slice %x [%i, %c0] sizes = [2, 6] : (tensor<8x6xf32>, tensor<i64>, i64) -> tensor<2x6xf32>
  %t = red.dynamic_slice %x [%j, %c5] sizes = [3, 2] : (tensor<8x6xf32>, i64, index) -> tensor<3x2xf32>
  %w = red.dynamic_update_slice %x, %u [%i, %c0] : (tensor<8x6xf32>, tensor<2x6xf32>, tensor<i64>, i64) -> tensor<8x6xf32>
  %blk = red.slice %u [0, 0] [2, 3] [1, 1] : tensor<2x6xf32> -> tensor<2x3xf32>
  %v = red.dynamic_update_slice %x, %blk [%j, %j] : (tensor<8x6xf32>, tensor<2x3xf32>, i64, i64) -> tensor<8x6xf32>
  func.return %s, %t, %w, %v : tensor<2x6xf32>, tensor<3x2xf32>, tensor<8x6xf32>, tensor<8x6xf32>
}"""


@pytest.mark.parametrize(
    ("i", "j"),
    [
        pytest.param(3, 2, id="in-range"),
        pytest.param(-4, 9, id="clamped-below-and-above"),
        pytest.param(7, -1, id="clamped-to-the-last-block"),
    ],
)
def test_dynamic_slices_clamp_like_the_interpreter(i: int, j: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    u = rng.standard_normal((2, 6)).astype(np.float32)

    model = check_against_interpreter(DYNAMIC, [x, u, np.int64(i), np.int64(j)])

    assert {"Slice", "ScatterND"} <= set(op_types(model))


# endregion Op families against the interpreter

# region Calls, memos and control flow

LOOP = """
func.func @main(%x: tensor<6x4xf32>, %w: tensor<4x4xf32>, %n: index) -> (tensor<6x4xf32>, tensor<1x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %z = red.constant dense<0.0> : tensor<6x4xf32>
  %h0 = red.constant dense<0.0> : tensor<1x4xf32>
  %ys, %h = scf.for %t = %c0 to %c6 step %c1 iter_args(%acc = %z, %hp = %h0) -> (tensor<6x4xf32>, tensor<1x4xf32>) {
    %xt = red.dynamic_slice %x [%t, %c0] sizes = [1, 4] : (tensor<6x4xf32>, index, index) -> tensor<1x4xf32>
    %r = red.matmul %hp, %w : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
    %s = red.add %xt, %r : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
    %hn = red.tanh %s : tensor<1x4xf32>
    %acc2 = red.dynamic_update_slice %acc, %hn [%t, %c0] : (tensor<6x4xf32>, tensor<1x4xf32>, index, index) -> tensor<6x4xf32>
    scf.yield %acc2, %hn : tensor<6x4xf32>, tensor<1x4xf32>
  }
  %c2 = arith.constant 2 : index
  %odd = scf.for %k = %c1 to %n step %c2 iter_args(%a = %h) -> (tensor<1x4xf32>) {
    %kk = arith.index_cast %k : index to i64
    %kt = red.constant dense<0.5> : tensor<f32>
    %m = red.mul %a, %kt : tensor<1x4xf32>, tensor<f32> -> tensor<1x4xf32>
    scf.yield %m : tensor<1x4xf32>
  }
  func.return %ys, %odd : tensor<6x4xf32>, tensor<1x4xf32>
}"""


@pytest.mark.parametrize("n", [pytest.param(0, id="no-trips"), pytest.param(6, id="three-trips")])
def test_scf_for_becomes_loop(n: int):
    """A recurrence over a static range and a loop with a run-time bound (index arithmetic in
    the trip count) run as ONNX Loops."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    w = rng.standard_normal((4, 4)).astype(np.float32) * np.float32(0.5)

    model = check_against_interpreter(LOOP, [x, w, n])

    assert op_types(model).count("Loop") == 2
    body = next(n.attribute[0].g for n in model.graph.node if n.op_type == "Loop")
    assert "ScatterND" in [n.op_type for n in body.node]


def test_greedy_generation_loop_round_trips():
    """`red.frontends.generate.greedy` over a toy decoder: the decode loop (argmax, dynamic
    slices at index offsets, the growing token buffer) runs as a Loop and picks the tokens
    the interpreter picks."""
    from red.frontends.generate import greedy

    decoder = """
func.func @main(%ids: tensor<1x8xi64>, %emb: tensor<16x6xf32> {red.invariant}, %w: tensor<6x16xf32> {red.invariant}) -> tensor<1x8x16xf32> {
  %e = red.gather %emb, %ids axis = 0 : tensor<16x6xf32>, tensor<1x8xi64> -> tensor<1x8x6xf32>
  %t = red.tanh %e : tensor<1x8x6xf32>
  %l = red.matmul %t, %w : tensor<1x8x6xf32>, tensor<6x16xf32> -> tensor<1x8x16xf32>
  func.return %l : tensor<1x8x16xf32>
}"""
    module = greedy(red.parse(decoder), prompt_len=3, new_tokens=5)
    rng = np.random.default_rng(5)
    prompt = rng.integers(0, 16, (1, 3)).astype(np.int64)
    emb, w = (
        rng.standard_normal((16, 6)).astype(np.float32),
        rng.standard_normal((6, 16)).astype(np.float32),
    )
    expected = red.interpret(module).call("generate", prompt, emb, w)

    model = to_onnx(module, function="generate")

    assert op_types(model).count("Loop") == 1
    assert_close(run_model(model, [prompt, emb, w]), expected)


IF = """
func.func @main(%x: tensor<4xf32>, %flag: i1) -> tensor<4xf32> {
  %r = scf.if %flag -> (tensor<4xf32>) {
    %e = red.exp %x : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    scf.yield %x : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}"""


@pytest.mark.parametrize("flag", [pytest.param(True, id="then"), pytest.param(False, id="else")])
def test_scf_if_becomes_if(flag: bool):
    """A branch that yields an outer value passes it through an Identity in its subgraph."""
    x = np.linspace(-1, 1, 4, dtype=np.float32)

    model = check_against_interpreter(IF, [x, np.bool_(flag)])

    (node,) = model.graph.node
    assert node.op_type == "If"
    else_branch = next(a.g for a in node.attribute if a.name == "else_branch")
    assert [n.op_type for n in else_branch.node] == ["Identity"]


CALL = """
func.func private @layer(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %m = red.matmul %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %r = red.relu %m : tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}
func.func @main(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %a = func.call @layer(%x, %w) : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %b = func.call @layer(%a, %w) : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  func.return %b, %x : tensor<2x4xf32>, tensor<2x4xf32>
}"""


def test_calls_are_inlined_and_an_argument_returned_goes_through_identity():
    model = check_against_interpreter(CALL)

    assert op_types(model) == ["MatMul", "Relu", "MatMul", "Relu", "Identity"]
    assert [o.name for o in model.graph.output] == ["output_0", "output_1"]


MEMO = """
func.func @main(%x: tensor<2x64xf32>, %w: tensor<64x64xf32> {red.invariant}) -> tensor<2x64xf32> {
  %wt = red.memo(%w) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %t = red.transpose %a [1, 0] : tensor<64x64xf32> -> tensor<64x64xf32>
    %two = red.constant dense<2.0> : tensor<f32>
    %s = red.mul %t, %two : tensor<64x64xf32>, tensor<f32> -> tensor<64x64xf32>
    red.yield %s : tensor<64x64xf32>
  }
  %y = red.matmul %x, %wt : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  func.return %y : tensor<2x64xf32>
}"""


def _memo_case() -> tuple[ModuleOp, np.ndarray, np.ndarray, tuple[Any, ...]]:
    module = red.parse(MEMO, "memo.mlir")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 64)).astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    return module, x, w, red.interpret(module).call("main", x, w)


def test_memo_on_a_weight_argument_is_nodes_over_the_graph_input():
    module, x, w, expected = _memo_case()

    model = to_onnx(module)

    assert [i.name for i in model.graph.input] == ["x", "w"]
    assert op_types(model) == ["Transpose", "Mul", "MatMul"]
    assert_close(run_model(model, [x, w]), expected)


def test_memo_on_bound_weights_is_computed_into_an_initializer():
    """The weight only feeds the memo: the memo's result replaces it (nothing added)."""
    module, x, w, expected = _memo_case()

    model = to_onnx(module, weights=[w], max_fold_bytes=0)

    assert [i.name for i in model.graph.input] == ["x"]
    assert op_types(model) == ["MatMul"]
    (init,) = model.graph.initializer
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(init), w.T * np.float32(2))
    assert_close(run_model(model, [x]), expected)


def test_memo_over_the_size_guard_stays_nodes_on_the_bound_weight():
    """When the weight is used elsewhere too, the memo's result would add 16 KiB: over a
    1 KiB guard it is exported as nodes on the weight's initializer."""
    text = MEMO.replace(
        "func.return %y : tensor<2x64xf32>",
        "%z = red.matmul %y, %w : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>\n"
        "  func.return %z : tensor<2x64xf32>",
    )
    module = red.parse(text, "memo.mlir")
    x, w = (
        np.random.default_rng(4).standard_normal(s).astype(np.float32) for s in [(2, 64), (64, 64)]
    )
    expected = red.interpret(module).call("main", x, w)

    guarded = to_onnx(module, weights={"w": w}, max_fold_bytes=1024)
    folded = to_onnx(module, weights={"w": w})

    assert op_types(guarded) == ["Transpose", "Mul", "MatMul", "MatMul"]
    assert op_types(folded) == ["MatMul", "MatMul"]
    assert_close(run_model(guarded, [x]), expected)
    assert_close(run_model(folded, [x]), expected)


# endregion Calls, memos and control flow

# region Locations and names


def test_nodes_are_named_after_locations():
    """A parsed op's node is `file:line:col` (further nodes of one op get /1, /2, ...); a
    NameLoc gives its name; the doc string keeps the red op and the full location."""
    text = """
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = red.silu %x : tensor<4xf32>
  %b = red.exp %a : tensor<4xf32> loc("fc1"("model.onnx":0:0))
  func.return %b : tensor<4xf32>
}"""

    model = to_onnx(red.parse(text, "model.mlir"))

    names = [n.name for n in model.graph.node]
    assert names == ["model.mlir:3:3", "model.mlir:3:3/1", "fc1"]
    assert model.graph.node[2].doc_string == "red.exp at model.onnx:0:0: 'fc1'"


def test_inputs_keep_ssa_names_and_outputs_take_given_names():
    text = """
func.func @main(%input_ids: tensor<4xi64>, %arg1: tensor<4xi64>) -> tensor<4xi64> {
  %s = red.add %input_ids, %arg1 : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  func.return %s : tensor<4xi64>
}"""

    model = to_onnx(red.parse(text), output_names=["logits"])

    assert [i.name for i in model.graph.input] == ["input_ids", "arg1"]
    assert [o.name for o in model.graph.output] == ["logits"]
    assert model.graph.node[0].output[0] == "logits"


# endregion Locations and names

# region Errors


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        pytest.param(
            "func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
            "  %r = scf.while (%a = %x) : (tensor<4xf32>) -> tensor<4xf32> {\n"
            "    %f = arith.constant false\n"
            "    scf.condition(%f) %a : tensor<4xf32>\n"
            "  } do {\n"
            "  ^bb0(%b: tensor<4xf32>):\n"
            "    scf.yield %b : tensor<4xf32>\n"
            "  }\n"
            "  func.return %r : tensor<4xf32>\n}",
            {},
            "case.mlir:2:3: error: 'scf.while' has no ONNX equivalent",
            id="no-equivalent",
        ),
        pytest.param(
            "func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {\n"
            "  func.return %x : tensor<?x4xf32>\n}",
            {},
            "argument #0 has dynamic shape 'tensor<?x4xf32>': red-export needs static shapes",
            id="dynamic-shape",
        ),
        pytest.param(
            "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n  func.return %x : tensor<4xf32>\n}",
            {},
            "no function '@main' with a body to export (functions: @f)",
            id="no-main",
        ),
        pytest.param(
            MEMO,
            {"weights": []},
            "'@main' has 1 red.invariant arguments, got 0 weight arrays",
            id="weight-count",
        ),
        pytest.param(
            MEMO,
            {"weights": {"v": np.zeros((64, 64), np.float32)}},
            "weights name 'v', which is not red.invariant arguments of '@main' (those are: 'w')",
            id="weight-name",
        ),
        pytest.param(
            MEMO,
            {"weights": [np.zeros((64, 63), np.float32)]},
            "weight for argument #1 of '@main' must be 'tensor<64x64xf32>', got an array of "
            "shape [64, 63] and dtype float32",
            id="weight-shape",
        ),
    ],
)
def test_errors_are_located(text: str, kwargs: dict[str, Any], message: str):
    module = red.parse(text, "case.mlir")

    with pytest.raises(DiagnosticError) as info:
        to_onnx(module, **kwargs)

    assert isinstance(info.value, ExportError)
    assert message in info.value.format()


# endregion Errors

# region red-export


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = red_export.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_a_model_onnxruntime_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = tmp_path / "memo.mlir"
    source.write_text(MEMO)
    weights = tmp_path / "w.npz"
    _, x, w, expected = _memo_case()
    np.savez(weights, w=w)

    code, _, err = run_cli(
        capsys, str(source), "-o", str(tmp_path / "m.onnx"), "--weights", str(weights)
    )

    assert (code, err) == (0, "")
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert op_types(model) == ["MatMul"]
    assert_close(run_model(model, [x]), expected)


def test_cli_failure_leaves_the_output_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    source = tmp_path / "bad.mlir"
    source.write_text(MEMO)
    out = tmp_path / "m.onnx"
    out.write_bytes(b"previous")

    code, _, err = run_cli(capsys, str(source), "-o", str(out), "--opset", "16")

    assert code == 1
    assert err == f"error: --opset must be from 17 to {onnx.defs.onnx_opset_version()}, got 16\n"
    assert out.read_bytes() == b"previous"


# endregion red-export

# region Round trips of exported models


def _import_helpers() -> Any:
    """The importer tests' model builders (torch export, HF configs, inputs)."""
    import test_onnx_importer as helpers

    return helpers


def round_trip(
    original: Any, feeds: Sequence[dict[str, np.ndarray]], weights_as_args: bool, bind: bool
) -> Any:
    """ONNX -> red -> red-pipeline -> ONNX; onnxruntime gives the original's outputs."""
    h = _import_helpers()
    module = import_onnx(original, weights_as_args=weights_as_args)
    red.optimize(module)
    weights = weight_arrays(original) if weights_as_args else []

    model = to_onnx(module, weights=weights if bind else None)

    for feed in feeds:
        extra = [] if bind else weights
        got = run_model(model, [*feed.values(), *extra])
        assert_close(got, h.run_onnxruntime(original, feed), rtol=h.RTOL)
    return model


MODES = [
    pytest.param(False, False, id="constants"),
    pytest.param(True, False, id="weights-as-inputs"),
    pytest.param(True, True, id="weights-bound"),
]


@pytest.fixture(scope="module")
def decoders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """GPT-2 and Llama from the importer tests' tiny configs, dynamo-exported."""
    h = _import_helpers()
    torch = h._torch()
    tmp = tmp_path_factory.mktemp("decoders")
    return {
        kind: h._export(
            h._hf_model(kind),
            (torch.tensor(h._ids(0)),),
            tmp / f"{kind}.onnx",
            dynamo=True,
            input_names=["input_ids"],
        )
        for kind in ("gpt2", "llama")
    }


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
@pytest.mark.parametrize(("weights_as_args", "bind"), MODES)
def test_decoder_round_trip(decoders: dict[str, Any], kind: str, weights_as_args: bool, bind: bool):
    h = _import_helpers()

    model = round_trip(
        decoders[kind], [{"input_ids": h._ids(s)} for s in (1, 2)], weights_as_args, bind
    )

    assert "MatMul" in op_types(model)


@pytest.mark.parametrize(("weights_as_args", "bind"), MODES)
def test_lstm_classifier_round_trip(tmp_path: Path, weights_as_args: bool, bind: bool):
    h = _import_helpers()
    torch = h._torch()
    torch.manual_seed(0)
    module = _lstm_classifier(torch)
    original = h._export(
        module, (torch.randn(1, 8, 16),), tmp_path / "lstm.onnx", dynamo=False, input_names=["x"]
    )

    model = round_trip(
        original, [{"x": h.rand(1, 8, 16, seed=s)} for s in (1, 2)], weights_as_args, bind
    )

    assert op_types(model).count("Loop") == 1  # the imported scf.for over the time steps


def _lstm_classifier(torch: Any) -> Any:
    class LSTMClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(16, 32, batch_first=True)
            self.head = torch.nn.Linear(32, 4)

        def forward(self, x: Any) -> Any:
            y, _ = self.lstm(x)
            return self.head(y[:, -1])

    return LSTMClassifier().eval()


def test_last_position_logits_export_fewer_flops(tmp_path: Path):
    """GPT-2 returning the last position's logits: red's graph (the LM head on one row) gives
    the original's logits in onnxruntime with a smaller LM-head matmul."""
    h = _import_helpers()
    torch = h._torch()
    inner = h._hf_model("gpt2")

    class LastLogits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any) -> Any:
            return self.inner(input_ids)[:, -1, :]

    original = h._export(
        LastLogits().eval(),
        (torch.tensor(h._ids(0)),),
        tmp_path / "last.onnx",
        dynamo=True,
        input_names=["input_ids"],
    )

    model = round_trip(original, [{"input_ids": h._ids(5)}], weights_as_args=True, bind=True)

    shapes = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph.value_info
    rows = {tuple(d.dim_value for d in vi.type.tensor_type.shape.dim) for vi in shapes}
    assert (1, h.VOCAB) in rows or (1, 1, h.VOCAB) in rows
    assert (1, h.SEQ, h.VOCAB) not in rows


# endregion Round trips of exported models
