"""random_inputs draws arguments as `red-run --random` does (DESIGN.md §6): floats from
N(0, 1), integers in [0, n) for the table size n they index through red.gather (else 8), and
i1 uniformly."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from red.dialects.context import make_context
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.testing.random_inputs import random_inputs


def parse_main(text: str) -> tuple[ModuleOp, func.FuncOp]:
    """A verified module and its `@main`."""
    module = parse_mlir(text, "test.mlir", make_context())
    verify_module(module)
    (fn,) = [
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == "main"
    ]
    return module, fn


def main_of(text: str) -> func.FuncOp:
    return parse_main(text)[1]


def identity_module(typ: str) -> str:
    return f"""
func.func @main(%x: {typ}) -> {typ} {{
  func.return %x : {typ}
}}"""


GATHER_MODULE = """
func.func @main(%table: tensor<{rows}x3xf32>, %ids: tensor<{n}x{index}>) -> tensor<{n}x3xf32> {{
  %e = red.gather %table, %ids axis = 0 : tensor<{rows}x3xf32>, tensor<{n}x{index}> -> tensor<{n}x3xf32>
  func.return %e : tensor<{n}x3xf32>
}}"""


@pytest.mark.parametrize(
    ("typ", "dtype", "shape"),
    [
        pytest.param("tensor<64x64xf32>", np.float32, (64, 64), id="f32"),
        pytest.param("tensor<4096xf64>", np.float64, (4096,), id="f64"),
        pytest.param("tensor<8x16x32xf16>", np.float16, (8, 16, 32), id="f16"),
    ],
)
def test_floats_are_standard_normal(typ: str, dtype: type[np.generic], shape: tuple[int, ...]):
    fn = main_of(identity_module(typ))

    (x,) = random_inputs(fn, seed=1)

    assert x.dtype == np.dtype(dtype)
    assert x.shape == shape
    assert abs(float(x.mean())) < 0.1
    assert abs(float(x.std()) - 1.0) < 0.1
    assert float(np.abs(x).max()) > 2.5  # a normal's tails, not a uniform's [-1, 1)


@pytest.mark.parametrize(
    ("typ", "shape"),
    [
        pytest.param("tensor<f32>", (), id="rank-0"),
        pytest.param("tensor<0x3xf32>", (0, 3), id="empty"),
        pytest.param("tensor<1x1xf64>", (1, 1), id="size-1"),
    ],
)
def test_float_shapes(typ: str, shape: tuple[int, ...]):
    fn = main_of(identity_module(typ))

    (x,) = random_inputs(fn)

    assert x.shape == shape


@pytest.mark.parametrize(
    ("rows", "index", "dtype"),
    [
        pytest.param(5, "i64", np.int64, id="i64-ids"),
        pytest.param(3, "i32", np.int32, id="i32-ids"),
        pytest.param(20, "i64", np.int64, id="table-larger-than-8"),
        pytest.param(1, "i64", np.int64, id="one-row"),
    ],
)
def test_gather_indices_are_within_the_table(rows: int, index: str, dtype: type[np.generic]):
    fn = main_of(GATHER_MODULE.format(rows=rows, n=400, index=index))

    table, ids = random_inputs(fn, seed=2)

    assert table.dtype == np.float32
    assert ids.dtype == np.dtype(dtype)
    assert set(ids.tolist()) == set(range(rows))  # in range, and every row drawn


def test_gather_indices_on_axis_1():
    text = """
func.func @main(%table: tensor<2x6xf32>, %ids: tensor<300xi64>) -> tensor<2x300xf32> {
  %e = red.gather %table, %ids axis = 1 : tensor<2x6xf32>, tensor<300xi64> -> tensor<2x300xf32>
  func.return %e : tensor<2x300xf32>
}"""
    fn = main_of(text)

    _, ids = random_inputs(fn, seed=3)

    assert set(ids.tolist()) == set(range(6))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            """
  %flat = red.reshape %ids : tensor<20x10xi64> -> tensor<200xi64>
  %e = red.gather %table, %flat axis = 0 : tensor<5x3xf32>, tensor<200xi64> -> tensor<200x3xf32>""",
            id="reshape",
        ),
        pytest.param(
            """
  %t = red.transpose %ids [1, 0] : tensor<20x10xi64> -> tensor<10x20xi64>
  %f = red.reshape %t : tensor<10x20xi64> -> tensor<200xi64>
  %e = red.gather %table, %f axis = 0 : tensor<5x3xf32>, tensor<200xi64> -> tensor<200x3xf32>""",
            id="transpose-then-reshape",
        ),
        pytest.param(
            """
  %s = red.slice %ids [0, 0] [20, 10] [1, 1] : tensor<20x10xi64> -> tensor<20x10xi64>
  %f = red.reshape %s : tensor<20x10xi64> -> tensor<200xi64>
  %e = red.gather %table, %f axis = 0 : tensor<5x3xf32>, tensor<200xi64> -> tensor<200x3xf32>""",
            id="slice-then-reshape",
        ),
    ],
)
def test_gather_indices_through_rearrangements(body: str):
    text = f"""
func.func @main(%table: tensor<5x3xf32>, %ids: tensor<20x10xi64>) -> tensor<200x3xf32> {{{body}
  func.return %e : tensor<200x3xf32>
}}"""
    fn = main_of(text)

    _, ids = random_inputs(fn, seed=4)

    assert ids.shape == (20, 10)
    assert set(ids.flatten().tolist()) == set(range(5))


def test_indices_of_two_tables_fit_the_smaller():
    text = """
func.func @main(%a: tensor<7x2xf32>, %b: tensor<4x2xf32>, %ids: tensor<200xi64>) -> (tensor<200x2xf32>, tensor<200x2xf32>) {
  %x = red.gather %a, %ids axis = 0 : tensor<7x2xf32>, tensor<200xi64> -> tensor<200x2xf32>
  %y = red.gather %b, %ids axis = 0 : tensor<4x2xf32>, tensor<200xi64> -> tensor<200x2xf32>
  func.return %x, %y : tensor<200x2xf32>, tensor<200x2xf32>
}"""
    fn = main_of(text)

    _, _, ids = random_inputs(fn, seed=5)

    assert set(ids.tolist()) == set(range(4))


@pytest.mark.parametrize(
    ("typ", "dtype"),
    [
        pytest.param("tensor<1000xi64>", np.int64, id="i64"),
        pytest.param("tensor<10x100xi32>", np.int32, id="i32"),
        pytest.param("tensor<1000xi8>", np.int8, id="i8"),
    ],
)
def test_other_integers_are_in_0_to_8(typ: str, dtype: type[np.generic]):
    fn = main_of(identity_module(typ))

    (x,) = random_inputs(fn, seed=6)

    assert x.dtype == np.dtype(dtype)
    assert set(x.flatten().tolist()) == set(range(8))


def test_integer_table_values_are_in_0_to_8():
    # The table operand of a gather is not an index: only the indices get the table's bound.
    text = """
func.func @main(%table: tensor<500x1xi64>, %ids: tensor<3xi64>) -> tensor<3x1xi64> {
  %e = red.gather %table, %ids axis = 0 : tensor<500x1xi64>, tensor<3xi64> -> tensor<3x1xi64>
  func.return %e : tensor<3x1xi64>
}"""
    fn = main_of(text)

    table, _ = random_inputs(fn, seed=7)

    assert set(table.flatten().tolist()) == set(range(8))


def test_i1_arguments_are_both_values():
    fn = main_of(identity_module("tensor<20x10xi1>"))

    (mask,) = random_inputs(fn, seed=8)

    assert mask.dtype == np.bool_
    assert mask.shape == (20, 10)
    assert 50 < int(mask.sum()) < 150


def test_one_array_per_argument_in_order():
    text = """
func.func @main(%a: tensor<2xf32>, %m: tensor<3xi1>, %i: tensor<4xi32>, %b: tensor<f64>) -> tensor<2xf32> {
  func.return %a : tensor<2xf32>
}"""
    fn = main_of(text)

    args = random_inputs(fn)

    assert [(a.dtype, a.shape) for a in args] == [
        (np.dtype(np.float32), (2,)),
        (np.dtype(np.bool_), (3,)),
        (np.dtype(np.int32), (4,)),
        (np.dtype(np.float64), ()),
    ]


def test_no_arguments():
    text = """
func.func @main() -> tensor<2xf32> {
  %c = red.constant dense<1.0> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}"""

    assert random_inputs(main_of(text)) == []


def test_same_seed_same_inputs():
    fn = main_of(GATHER_MODULE.format(rows=5, n=16, index="i64"))

    first, second = random_inputs(fn, seed=9), random_inputs(fn, seed=9)

    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


def test_other_seed_other_inputs():
    fn = main_of(GATHER_MODULE.format(rows=5, n=16, index="i64"))

    first, second = random_inputs(fn, seed=10), random_inputs(fn, seed=11)

    assert not np.array_equal(first[0], second[0])
    assert not np.array_equal(first[1], second[1])


def test_default_seed_is_deterministic():
    fn = main_of(identity_module("tensor<8xf32>"))

    (first,), (second,) = random_inputs(fn), random_inputs(fn)

    np.testing.assert_array_equal(first, second)


def test_inputs_run_through_the_interpreter():
    module, fn = parse_main(GATHER_MODULE.format(rows=3, n=50, index="i32"))
    table, ids = random_inputs(fn, seed=12)

    (result,) = ModuleRunner(module).call("main", table, ids)

    np.testing.assert_array_equal(result, table[ids])


def test_dynamic_shape_is_an_error():
    fn = main_of(identity_module("tensor<?x3xf32>"))

    with pytest.raises(ValueError, match=r"argument #0 has a dynamic shape 'tensor<\?x3xf32>'"):
        random_inputs(fn)


def test_non_tensor_argument_is_an_error():
    fn = main_of("""
func.func @main(%x: tensor<2xf32>, %s: f32) -> tensor<2xf32> {
  func.return %x : tensor<2xf32>
}""")

    with pytest.raises(ValueError, match=r"argument #1 has non-tensor type 'f32'"):
        random_inputs(fn)


def test_gather_indices_through_a_cast():
    text = """
func.func @main(%table: tensor<3x2xf32>, %ids: tensor<200xi32>) -> tensor<200x2xf32> {
  %i = red.cast %ids : tensor<200xi32> -> tensor<200xi64>
  %e = red.gather %table, %i axis = 0 : tensor<3x2xf32>, tensor<200xi64> -> tensor<200x2xf32>
  func.return %e : tensor<200x2xf32>
}"""
    fn = main_of(text)

    _, ids = random_inputs(fn, seed=13)

    assert set(ids.tolist()) == set(range(3))


def test_gather_indices_through_a_call():
    text = """
func.func private @embed(%table: tensor<3x2xf32>, %ids: tensor<200xi64>) -> tensor<200x2xf32> {
  %e = red.gather %table, %ids axis = 0 : tensor<3x2xf32>, tensor<200xi64> -> tensor<200x2xf32>
  func.return %e : tensor<200x2xf32>
}
func.func @main(%table: tensor<3x2xf32>, %ids: tensor<200xi64>) -> tensor<200x2xf32> {
  %e = func.call @embed(%table, %ids) : (tensor<3x2xf32>, tensor<200xi64>) -> tensor<200x2xf32>
  func.return %e : tensor<200x2xf32>
}"""
    fn = main_of(text)

    _, ids = random_inputs(fn, seed=14)

    assert set(ids.tolist()) == set(range(3))
