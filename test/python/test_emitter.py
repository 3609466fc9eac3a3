"""The frontends' shared emitter (frontends/emitter.py): a fold computes what the op computes at
run time, the size guard, which operands count as constants, scalar lifting and element type
promotion, constant materialization (once, splats, locations), and the frontends' layering."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    NameLoc,
    StringAttr,
    TensorType,
    UnknownLoc,
    f16,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

import red
from red.dialects import red as r
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import dense_to_numpy, element_type_for
from red.frontends.emitter import Emitter, promote_types

FRONTENDS = Path(__file__).resolve().parents[2] / "frontends"

# region Helpers


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def value_of(value: SSAValue) -> np.ndarray:
    """The array a red.constant holds."""
    assert isinstance(value.owner, r.ConstantOp)
    return dense_to_numpy(value.owner.value)


def ops_in(block: Block) -> list[str]:
    return [op.name for op in block.ops]


def run_unfolded(build: Callable[..., Any], arrays: list[np.ndarray]) -> np.ndarray:
    """What the interpreter computes for `build` on arguments holding `arrays`."""
    block = Block(arg_types=[TensorType(element_type_for(a.dtype), list(a.shape)) for a in arrays])
    e = Emitter(block, fold=False)
    result = e.ssa(build(e, *block.args))
    block.add_op(func.ReturnOp(result))
    fn = func.FuncOp("main", ([a.type for a in block.args], [result.type]), Region(block))
    (got,) = red.interpret(ModuleOp([fn])).call("main", *arrays)
    return got


# endregion Helpers

# region Folding


FOLD_CASES = [
    pytest.param(lambda e, a, b: e.add(a, b), [rand(2, 3), rand(3, seed=1)], id="add-broadcast"),
    pytest.param(lambda e, a, b: e.matmul(a, b), [rand(2, 3), rand(3, 4, seed=1)], id="matmul"),
    pytest.param(lambda e, a: e.transpose(a, [1, 0]), [rand(2, 3)], id="transpose"),
    pytest.param(lambda e, a: e.reshape(a, [3, 2]), [rand(2, 3)], id="reshape"),
    pytest.param(lambda e, a: e.slice(a, [0, 1], [2, 3], [1, 2]), [rand(2, 3)], id="slice"),
    pytest.param(lambda e, a, b: e.concat([a, b], 1), [rand(2, 3), rand(2, 1)], id="concat"),
    pytest.param(lambda e, t, i: e.gather(t, i, 0), [rand(5, 2), np.array([4, 0, 4])], id="gather"),
    pytest.param(lambda e, a: e.softmax(a, 1), [rand(2, 3)], id="softmax"),
    pytest.param(lambda e, a: e.layer_norm(a, 1, 1e-5), [rand(2, 3)], id="layer-norm"),
    pytest.param(
        lambda e, a: e.reduce(r.ReduceSumOp, a, [0], keepdims=True), [rand(2, 3)], id="reduce"
    ),
    pytest.param(
        lambda e, a: e.cast(a, i32), [np.array([1.7, -1.7, 2.5], np.float32)], id="cast-truncates"
    ),
    pytest.param(
        lambda e, c, a: e.select(c, a, 0.0),
        [np.array([True, False, True]), rand(3)],
        id="select-scalar-branch",
    ),
    pytest.param(lambda e, a: e.unary(r.TanhOp, a), [rand(4)], id="tanh"),
]


@pytest.mark.parametrize(("build", "arrays"), FOLD_CASES)
def test_fold_computes_what_the_op_computes_at_run_time(
    build: Callable[..., Any], arrays: list[np.ndarray]
):
    block = Block()
    e = Emitter(block)

    folded = build(e, *arrays)

    assert isinstance(folded, np.ndarray)
    assert ops_in(block) == []  # nothing emitted, not even the operands' constants
    expected = run_unfolded(build, arrays)
    assert folded.dtype == expected.dtype
    np.testing.assert_array_equal(folded, expected)


def test_run_time_operand_is_emitted_and_located():
    block = Block(arg_types=[TensorType(f32, [2, 3])])
    e = Emitter(block)
    e.loc = NameLoc(StringAttr("proj"), UnknownLoc())

    y = e.add(block.args[0], rand(3))

    assert isinstance(y, SSAValue)
    assert ops_in(block) == ["red.constant", "red.add"]
    assert all(op.location == e.loc for op in block.ops)


def test_red_constant_operands_count_as_constants():
    block = Block()
    e = Emitter(block)
    a = e.constant(rand(2, 2))

    y = e.emit(r.NegOp(a))

    assert isinstance(y, np.ndarray)
    assert ops_in(block) == ["red.constant"]  # the negation folded, its operand stays
    np.testing.assert_array_equal(y, -value_of(a))


def test_without_folding_constant_operands_are_emitted():
    block = Block()
    e = Emitter(block, fold=False)

    y = e.add(rand(2), rand(2, seed=1))

    assert isinstance(y, SSAValue)
    assert ops_in(block) == ["red.constant", "red.constant", "red.add"]


def test_a_fold_never_grows_constants_past_the_guard():
    block = Block()
    e = Emitter(block, max_fold_bytes=1024)
    one = np.float32(1.0)

    small = e.broadcast_to(np.asarray(one), [16, 16])  # 1 KiB: at the guard
    large = e.broadcast_to(np.asarray(one), [16, 17])  # 1088 bytes: over it
    moved = e.transpose(rand(32, 32), [1, 0])  # 4 KiB, no larger than its operand
    splat = np.broadcast_to(one, (16, 17))  # a splat: one element stored, not 1088 bytes
    unsplat = e.transpose(splat, [1, 0])

    assert isinstance(small, np.ndarray)
    assert isinstance(large, SSAValue)
    assert isinstance(moved, np.ndarray)
    assert isinstance(unsplat, SSAValue)
    assert ops_in(block) == ["red.constant", "red.broadcast_to", "red.constant", "red.transpose"]


def test_run_time_errors_are_left_to_run_time():
    block = Block()
    e = Emitter(block)

    y = e.gather(rand(3, 2), np.array([0, 7]), 0)  # index 7 is out of range

    assert isinstance(y, SSAValue)
    assert ops_in(block) == ["red.constant", "red.constant", "red.gather"]


def test_iota_is_not_folded():
    block = Block()

    Emitter(block).iota([2, 3], 1)

    assert ops_in(block) == ["red.iota"]


# endregion Folding

# region Element types


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(i32, f16, f16, id="int-meets-float-keeps-the-float"),
        pytest.param(i64, f32, f32, id="wide-int-meets-f32"),
        pytest.param(i8, i64, i64, id="wider-int"),
        pytest.param(i1, i32, i32, id="bool-meets-int"),
        pytest.param(f32, f64, f64, id="wider-float"),
        pytest.param(f16, f16, f16, id="same"),
    ],
)
def test_promote_types(a: Attribute, b: Attribute, expected: Attribute):
    assert promote_types(a, b) == expected
    assert promote_types(b, a) == expected


def test_scalars_take_the_other_operand_type_and_tensors_promote():
    block = Block(arg_types=[TensorType(i32, [3]), TensorType(f16, [3])])
    e = Emitter(block)
    ints, halves = block.args

    scaled = e.mul(ints, 2.9)  # the scalar becomes i32 2, as numpy's astype does
    mixed = e.add(ints, halves)

    assert r.element_type_of(scaled) == i32
    scalar = next(op for op in block.ops if isinstance(op, r.ConstantOp))
    assert value_of(scalar.result).tolist() == 2
    assert r.element_type_of(mixed) == f16
    assert [op.name for op in block.ops][-2:] == ["red.cast", "red.add"]


def test_two_scalars_take_default_types():
    e = Emitter(Block())

    total = e.add(2, 0.5)

    assert isinstance(total, np.ndarray)
    assert total.dtype == np.float32
    assert float(total) == 2.5


def test_unsupported_dtype_is_a_located_error():
    e = Emitter(Block())
    e.loc = FileLineColLoc(StringAttr("model.py"), IntAttr(3), IntAttr(1))

    with pytest.raises(DiagnosticError, match="element type 'uint8' is not supported by red"):
        e.ssa(np.zeros(2, np.uint8))


# endregion Element types

# region Materialization


def test_an_array_is_materialized_once():
    block = Block(arg_types=[TensorType(f32, [4])])
    e = Emitter(block)
    w = rand(4)

    e.add(block.args[0], w)
    e.mul(block.args[0], w)

    assert ops_in(block) == ["red.constant", "red.add", "red.mul"]


def test_a_constant_is_reused_only_in_the_block_it_was_made_in():
    outer, body = Block(), Block()
    e = Emitter(outer)
    w = rand(2)

    first = e.ssa(w)
    e.block = body  # e.g. a loop body: its own constant, not a use across blocks
    inside = e.ssa(w)
    e.block = outer
    again = e.ssa(w)

    assert again is first
    assert inside is not first
    assert (ops_in(outer), ops_in(body)) == (["red.constant"], ["red.constant"])


def test_inside_a_body_constants_and_indices_go_to_the_enclosing_block():
    """What a loop body being built needs (constants, index constants) is made once before
    the op that will hold the body; the body's own ops go into it."""
    outer, body = Block(), Block(arg_types=[TensorType(f32, [2])])
    e = Emitter(outer)
    w = rand(2)

    with e.inside(body):
        e.add(body.args[0], w)
        e.mul(body.args[0], w)
        three = e.index(3)
    again = e.index(3)

    assert again is three
    assert ops_in(outer) == ["red.constant", "arith.constant"]
    assert ops_in(body) == ["red.add", "red.mul"]
    assert e.block is outer


@pytest.mark.parametrize(
    ("array", "splat"),
    [
        pytest.param(np.full(4, 0.5, np.float32), True, id="equal-elements"),
        pytest.param(np.array([0.0, -0.0], np.float32), False, id="signed-zeros-differ"),
        pytest.param(np.full(3, np.nan, np.float32), False, id="nan-never-splats"),
        pytest.param(np.arange(3, dtype=np.int64), False, id="distinct"),
    ],
)
def test_equal_elements_are_stored_as_a_splat(array: np.ndarray, splat: bool):
    e = Emitter(Block())

    value = e.ssa(array)

    constant = value.owner
    assert isinstance(constant, r.ConstantOp)
    assert (len(constant.value.data.data) == array.itemsize) == splat  # type: ignore[union-attr]
    np.testing.assert_array_equal(value_of(value), array)


def test_constants_are_located_where_they_were_defined():
    e = Emitter(Block())
    here, there = NameLoc(StringAttr("here"), UnknownLoc()), NameLoc(StringAttr("w"), UnknownLoc())
    w = e.define(rand(2), there)
    e.define(w, here)  # a second definition (an Identity) keeps the first location
    e.loc = here

    assert e.ssa(w).owner.location == there
    assert e.ssa(rand(2, seed=1)).owner.location == here


# endregion Materialization


def test_frontends_import_only_the_dialects():
    """frontends -> dialects (plus numpy, xdsl, onnx, torch): never transforms, lowering or
    tools (DESIGN.md §1). The one exception, as in pyproject's import-linter contract: the
    torch.compile backend drives the compiler through red's public API (`import red`)."""
    allowed = ("red.dialects", "red.frontends")
    api_users = {"torch_dynamo.py"}
    bad = []
    for path in sorted(FRONTENDS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad += [
                f"{path.name}: {n}"
                for n in names
                if (n == "red" and path.name not in api_users)
                or (n.startswith("red.") and not n.startswith(allowed))
            ]

    assert bad == []
