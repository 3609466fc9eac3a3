"""Numeric before/after checks of cse, canonicalize and dce: on seeded random inputs (and on
NaN, Inf and signed zeros), every public function returns bit-for-bit the same results after
each pass and after the three together; the equivalence instrumentation catches a
miscompile; the greedy driver stops and reports patterns that undo each other."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red import is_constant
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import public_functions
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.passes.pass_manager import PassManager
from red.passes.registry import parse_pass_list
from red.testing.random_inputs import random_inputs
from red.transforms import canonicalize as canonicalize_module
from red.transforms.analysis.equivalence import EquivalenceInstrumentation
from red.transforms.canonicalize import CanonicalizePass
from red.transforms.greedy_driver import GreedyDriver

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = (0, 1, 2)
PIPELINES = (
    "cse",
    "canonicalize",
    "canonicalize{test-convergence=true}",
    "dce",
    "canonicalize,cse,dce",
)

# region Modules

DUPLICATES = """
func.func @main(%a: tensor<4x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi1>) {
  %m0 = red.matmul %a, %b : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %m1 = red.matmul %a, %b : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %s0 = red.add %m0, %c : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %s1 = red.add %c, %m1 : tensor<8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %p0 = red.mul %s0, %s1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %p1 = red.mul %s1, %s0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %x0 = red.max %p0, %m0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %x1 = red.min %m1, %p1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %k0 = red.constant dense<0.5> : tensor<8xf32>
  %k1 = arith.constant dense<[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]> : tensor<8xf32>
  %d0 = red.sub %x0, %k0 : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %d1 = red.sub %x1, %k1 : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e0 = red.eq %d0, %d1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xi1>
  %e1 = red.ne %d1, %d0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xi1>
  %t0 = red.tanh %d0 : tensor<4x8xf32>
  %t1 = red.tanh %d0 : tensor<4x8xf32>
  %r = red.div %t0, %t1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %any = red.select %e0, %d0, %d1 : tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %both = red.select %e1, %any, %r : tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %both, %d1, %e1 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi1>
}
"""
"""CSE material: duplicates, commutative operands in both orders, equal constants."""

IDENTITIES = """
func.func @main(%x: tensor<8xf32>, %y: tensor<2x8xf32>, %m: tensor<8xi1>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %one = red.constant dense<1.0> : tensor<8xf32>
  %pz = red.constant dense<0.0> : tensor<8xf32>
  %nz = red.constant dense<-0.0> : tensor<f32>
  %wide = red.constant dense<1.0> : tensor<2x8xf32>
  %a = red.mul %one, %x : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %b = red.div %a, %one : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %c = red.sub %b, %pz : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %d = red.add %nz, %c : tensor<f32>, tensor<8xf32> -> tensor<8xf32>
  %n = red.neg %d : tensor<8xf32>
  %nn = red.neg %n : tensor<8xf32>
  %mx = red.max %nn, %nn : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %mn = red.min %mx, %mx : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %p = red.pow %mn, %one : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %s = red.select %m, %p, %p : tensor<8xi1>, tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %keep_pz = red.add %s, %pz : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %keep_nz = red.sub %s, %nz : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %keep_zero = red.mul %s, %pz : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %keep_self = red.sub %s, %s : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %bcast = red.mul %x, %wide : tensor<8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %t = red.constant dense<true> : tensor<8xi1>
  %f = red.constant dense<false> : tensor<8xi1>
  %st = red.select %t, %keep_pz, %keep_nz : tensor<8xi1>, tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %sf = red.select %f, %keep_pz, %keep_nz : tensor<8xi1>, tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  func.return %s, %st, %sf, %keep_zero, %bcast, %keep_self, %n : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
}
"""
"""canonicalize's IEEE-exact identities next to the rewrites it must not make."""

SHAPES = """
func.func @main(%x: tensor<2x3x4xf32>, %y: tensor<6x4xf32>, %z: tensor<1x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x3x2xf32>, tensor<6x4xf32>, tensor<5x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<1x4xf32>) {
  %t0 = red.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %t1 = red.transpose %t0 [2, 0, 1] : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  %t2 = red.transpose %t0 [1, 0, 2] : tensor<3x4x2xf32> -> tensor<4x3x2xf32>
  %id = red.transpose %t1 [0, 1, 2] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %r0 = red.reshape %id : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %r1 = red.reshape %r0 : tensor<6x4xf32> -> tensor<24xf32>
  %r2 = red.reshape %r1 : tensor<24xf32> -> tensor<6x4xf32>
  %r3 = red.reshape %r2 : tensor<6x4xf32> -> tensor<6x4xf32>
  %b0 = red.broadcast_to %z : tensor<1x4xf32> -> tensor<1x1x4xf32>
  %b1 = red.broadcast_to %b0 : tensor<1x1x4xf32> -> tensor<5x1x4xf32>
  %b2 = red.reshape %b1 : tensor<5x1x4xf32> -> tensor<5x4xf32>
  %b3 = red.broadcast_to %b2 : tensor<5x4xf32> -> tensor<5x4xf32>
  %c = red.cast %b3 : tensor<5x4xf32> -> tensor<5x4xf32>
  %cat = red.concat %r3, %y, %z axis = 0 : tensor<6x4xf32>, tensor<6x4xf32>, tensor<1x4xf32> -> tensor<13x4xf32>
  %in_one = red.slice %cat [7, 0] [9, 4] [1, 1] : tensor<13x4xf32> -> tensor<2x4xf32>
  %span = red.slice %cat [4, 0] [7, 4] [1, 1] : tensor<13x4xf32> -> tensor<3x4xf32>
  %strided = red.slice %cat [1, 0] [13, 4] [3, 1] : tensor<13x4xf32> -> tensor<4x4xf32>
  %twice = red.slice %strided [1, 0] [4, 4] [2, 1] : tensor<4x4xf32> -> tensor<2x4xf32>
  %full = red.slice %z [0, 0] [1, 4] [1, 1] : tensor<1x4xf32> -> tensor<1x4xf32>
  %single = red.concat %full axis = 0 : tensor<1x4xf32> -> tensor<1x4xf32>
  func.return %t1, %t2, %r3, %c, %in_one, %span, %twice, %single : tensor<2x3x4xf32>, tensor<4x3x2xf32>, tensor<6x4xf32>, tensor<5x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<1x4xf32>
}
"""
"""Inverse and identity shape ops, slices of slices and of concats."""

CONSTANTS = """
func.func @main(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<3x4xf32>) {
  %a = red.constant dense<[1.0, -2.0, 3.5, 0.25]> : tensor<4xf32>
  %b = arith.constant dense<[2.0, 0.5, -1.0, 4.0]> : tensor<4xf32>
  %ab = red.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %e = red.exp %ab : tensor<4xf32>
  %s = red.reduce_sum %e axes = [0] keepdims : tensor<4xf32> -> tensor<1xf32>
  %sm = red.softmax %ab axis = 0 : tensor<4xf32>
  %y = red.add %x, %s : tensor<4xf32>, tensor<1xf32> -> tensor<4xf32>
  %z = red.mul %sm, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %io = red.iota dim = 0 : tensor<4xi32>
  %big = red.constant dense<[2147483647, -5, 7, 0]> : tensor<4xi32>
  %wrap = red.add %big, %io : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %iz = red.constant dense<0> : tensor<4xi32>
  %ione = red.constant dense<1> : tensor<i32>
  %i0 = red.add %i, %iz : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %i1 = red.mul %i0, %ione : tensor<4xi32>, tensor<i32> -> tensor<4xi32>
  %i2 = red.mul %i1, %iz : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %i3 = red.sub %i1, %i1 : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %i4 = red.add %i2, %i3 : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %i5 = red.add %i4, %wrap : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %cmp = red.lt %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %sel = red.select %cmp, %a, %b : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %bc = red.broadcast_to %sel : tensor<4xf32> -> tensor<3x4xf32>
  %cast = red.cast %i1 : tensor<4xi32> -> tensor<4xf32>
  %w = red.add %z, %cast : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %w, %i1, %i5, %wrap, %bc : tensor<4xf32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<3x4xf32>
}
"""
"""Constant folding (float, integer wrap-around, compare/select, iota) and integer identities."""

FUNCTIONS = """
func.func private @softplus(%x: tensor<4x4xf32>, %unused: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %e = red.exp %x : tensor<4x4xf32>
  %one = red.constant dense<1.0> : tensor<4x4xf32>
  %s = red.add %e, %one : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %l = red.log %s : tensor<4x4xf32>
  %never = red.neg %l : tensor<4x4xf32>
  func.return %l, %never : tensor<4x4xf32>, tensor<4x4xf32>
}
func.func private @dead_helper(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0:2 = func.call @softplus(%x, %x) : (tensor<4x4xf32>, tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>)
  func.return %0#0 : tensor<4x4xf32>
}
func.func @main(%a: tensor<4x4xf32>, %w: tensor<4x4xf32> {red.invariant}) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %0:2 = func.call @softplus(%a, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>)
  %1:2 = func.call @softplus(%a, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>)
  %wt0 = red.memo(%w) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%v: tensor<4x4xf32>):
    %t = red.transpose %v [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %u = red.transpose %v [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %p = red.matmul %t, %u : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    red.yield %p : tensor<4x4xf32>
  }
  %wt1 = red.memo(%w) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%v: tensor<4x4xf32>):
    %t = red.transpose %v [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %p = red.matmul %t, %t : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    red.yield %p : tensor<4x4xf32>
  }
  %dead = red.matmul %a, %a : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %m = red.matmul %0#0, %wt0 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %n = red.matmul %1#0, %wt1 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  func.return %m, %n : tensor<4x4xf32>, tensor<4x4xf32>
}
func.func @second_entry(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0:2 = func.call @softplus(%a, %a) : (tensor<4x4xf32>, tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>)
  %1 = red.mul %0#0, %0#0 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  func.return %1 : tensor<4x4xf32>
}
"""
"""Calls to a pure private function (merged; its unused argument and result trimmed), an
unused private function, memos with equal bodies, a dead matmul, two public functions."""

BRANCHES = """
func.func @main(%c: i1, %x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = red.exp %x : tensor<4xf32>
  %r0 = scf.if %c -> (tensor<4xf32>) {
    %e1 = red.exp %x : tensor<4xf32>
    %s = red.add %e1, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    scf.yield %s : tensor<4xf32>
  } else {
    %one = red.constant dense<1.0> : tensor<4xf32>
    %m = red.mul %y, %one : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    scf.yield %m : tensor<4xf32>
  }
  %r1 = scf.if %c -> (tensor<4xf32>) {
    %s = red.add %y, %e : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    scf.yield %s : tensor<4xf32>
  } else {
    scf.yield %y : tensor<4xf32>
  }
  %unused = scf.if %c -> (tensor<4xf32>) {
    %t = red.tanh %x : tensor<4xf32>
    scf.yield %t : tensor<4xf32>
  } else {
    scf.yield %x : tensor<4xf32>
  }
  func.return %r0, %r1 : tensor<4xf32>, tensor<4xf32>
}
"""
"""Nested regions: scf.if bodies that see outer values, equal after CSE, and a dead one."""

MODULES: dict[str, str] = {
    "duplicates": DUPLICATES,
    "identities": IDENTITIES,
    "shapes": SHAPES,
    "constants": CONSTANTS,
    "functions": FUNCTIONS,
    "branches": BRANCHES,
}

SPECIAL_VALUES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.5, 3.0e38], dtype=np.float32)
"""Where inexact rewrites (x+0, x*0, x-x, x-(-0)) would change the bits."""

# endregion Modules

# region Helpers


def parse(text: str, name: str = "<test>") -> ModuleOp:
    module = parse_mlir(text, name, make_context())
    verify_module(module)
    return module


def load(key: str) -> ModuleOp:
    """A module of this file (by MODULES key) or of examples/ (by file name)."""
    if key.endswith(".mlir"):
        path = EXAMPLES / key
        return parse(path.read_text(), str(path))
    return parse(MODULES[key], key)


def inputs_for(fn: func.FuncOp, seed: int) -> list[Any]:
    """random_inputs for tensor arguments; an i1 scalar alternates with the seed."""
    types = fn.function_type.inputs.data
    if all(isinstance(t, TensorType) for t in types):
        return random_inputs(fn, seed)
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    for t in types:
        if isinstance(t, IntegerType) and t.width.data == 1:
            out.append(seed % 2 == 0)
        else:
            assert isinstance(t, TensorType), f"no input generator for '{t}'"
            shape = tuple(t.get_shape())
            out.append(rng.standard_normal(size=shape).astype(np.float32))
    return out


def run_all(
    module: ModuleOp, inputs: dict[str, list[list[Any]]], calls: int = 1
) -> dict[str, list[tuple[Any, ...]]]:
    """Results of each public function on each of its input lists; with calls=2 each is
    called twice and the second (memo-cached) results are kept, after checking they equal
    the first."""
    runner = ModuleRunner(module)
    results: dict[str, list[tuple[Any, ...]]] = {}
    for name, cases in inputs.items():
        results[name] = []
        for args in cases:
            got = runner.call(name, *args)
            for _ in range(calls - 1):
                again = runner.call(name, *args)
                assert_bitwise_equal(again, got)
                got = again
            results[name].append(got)
    return results


def assert_bitwise_equal(actual: Sequence[Any], expected: Sequence[Any]) -> None:
    """Equal shapes, dtypes and bits (so -0 differs from +0 and NaN equals itself)."""
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        a, e = np.asarray(a), np.asarray(e)
        assert a.dtype == e.dtype, f"result #{i}: dtype {a.dtype} != {e.dtype}"
        np.testing.assert_array_equal(a, e, err_msg=f"result #{i}", strict=True)
        if a.dtype.kind == "f":
            bits = f"u{a.dtype.itemsize}"
            np.testing.assert_array_equal(
                a.view(bits), e.view(bits), err_msg=f"result #{i} (bits)", strict=True
            )


def apply(spec: str, module: ModuleOp) -> None:
    """Run a pipeline the way red-opt does: verified (dominance included) after each pass."""
    PassManager(parse_pass_list(spec)).run(make_context(), module)


def count_ops(module: ModuleOp) -> int:
    return sum(
        1
        for op in module.walk()
        if not isinstance(op, ModuleOp | func.FuncOp) and not op.has_trait(IsTerminator)
    )


_REFERENCE: dict[str, tuple[dict[str, list[list[Any]]], dict[str, list[tuple[Any, ...]]]]] = {}


def reference(key: str) -> tuple[dict[str, list[list[Any]]], dict[str, list[tuple[Any, ...]]]]:
    """Inputs and results of the unoptimized module (cached: the examples are slow)."""
    if key not in _REFERENCE:
        module = load(key)
        seeds = SEEDS[:1] if key.endswith(".mlir") else SEEDS
        inputs = {
            fn.sym_name.data: [inputs_for(fn, s) for s in seeds] for fn in public_functions(module)
        }
        _REFERENCE[key] = (inputs, run_all(module, inputs))
    return _REFERENCE[key]


# endregion Helpers

# region Bit-for-bit equivalence


@pytest.mark.parametrize("spec", PIPELINES, ids=PIPELINES)
@pytest.mark.parametrize("key", list(MODULES), ids=list(MODULES))
def test_pass_keeps_results_bitwise(key: str, spec: str):
    inputs, expected = reference(key)
    module = load(key)

    apply(spec, module)

    verify_module(module)
    got = run_all(module, inputs, calls=2)
    for name in expected:
        for want, have in zip(expected[name], got[name]):
            assert_bitwise_equal(have, want)


@pytest.mark.parametrize("key", list(MODULES), ids=list(MODULES))
def test_pipeline_removes_redundancy(key: str):
    module = load(key)
    before = count_ops(module)

    apply("canonicalize,cse,dce", module)

    assert count_ops(module) < before


EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.mlir"))


@pytest.mark.parametrize("spec", PIPELINES, ids=PIPELINES)
@pytest.mark.parametrize("key", EXAMPLE_FILES, ids=EXAMPLE_FILES)
def test_examples_keep_results_bitwise(key: str, spec: str):
    inputs, expected = reference(key)
    module = load(key)

    apply(spec, module)

    verify_module(module)
    got = run_all(module, inputs)
    for name in expected:
        for want, have in zip(expected[name], got[name]):
            assert_bitwise_equal(have, want)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("canonicalize", id="canonicalize"),
        pytest.param("canonicalize,cse,dce", id="pipeline"),
    ],
)
def test_identities_exact_on_nan_inf_and_signed_zeros(spec: str):
    module = load("identities")
    x = SPECIAL_VALUES
    y = np.stack([SPECIAL_VALUES, -SPECIAL_VALUES])
    m = np.array([True, False] * 4)
    expected = ModuleRunner(module.clone()).call("main", x, y, m)

    apply(spec, module)

    got = ModuleRunner(module).call("main", x, y, m)
    assert_bitwise_equal(got, expected)


def test_fast_math_is_not_exact_on_special_values():
    module = load("identities")
    x = SPECIAL_VALUES
    y = np.stack([SPECIAL_VALUES, -SPECIAL_VALUES])
    m = np.array([True, False] * 4)
    expected = ModuleRunner(module.clone()).call("main", x, y, m)

    apply("canonicalize{fast-math=true}", module)

    got = ModuleRunner(module).call("main", x, y, m)
    # x * 0 and x - x with x = NaN or Inf: NaN before, 0 after.
    assert np.isnan(expected[3][0])
    assert got[3][0] == 0
    assert np.isnan(expected[5][1])
    assert got[5][1] == 0


# endregion Bit-for-bit equivalence

# region Equivalence instrumentation


TENSOR_ONLY = [k for k in MODULES if k != "branches"]
"""The modules random_inputs can feed (the scf.if condition is a scalar i1)."""


@pytest.mark.parametrize("key", TENSOR_ONLY, ids=TENSOR_ONLY)
def test_equivalence_instrumentation_accepts_exact_passes(key: str):
    module = load(key)
    check = EquivalenceInstrumentation(module, samples=2, exact=True)

    PassManager(parse_pass_list("canonicalize,cse,dce"), [check]).run(make_context(), module)

    assert check.cases


@pytest.mark.parametrize(
    ("spec", "function"),
    [
        pytest.param("test-miscompile", "main", id="alone"),
        pytest.param("canonicalize,cse,test-miscompile,dce", "main", id="mid-pipeline"),
    ],
)
def test_equivalence_instrumentation_catches_miscompile(spec: str, function: str):
    module = load("duplicates")
    check = EquivalenceInstrumentation(module, samples=1)

    with pytest.raises(DiagnosticError) as info:
        PassManager(parse_pass_list(spec), [check]).run(make_context(), module)

    assert info.value.message.startswith(
        f"equivalence check failed after pass 'test-miscompile': '@{function}' result #"
    )
    assert "differs from the input module on the first call: max abs error" in info.value.message


LONG_REDUCTION_BESIDE_AN_ADD = """
func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>, %big: tensor<1000x1000xf32>) -> (tensor<4xf32>, tensor<f32>) {
  %s = red.add %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %total = red.reduce_sum %big axes = [0, 1] : tensor<1000x1000xf32> -> tensor<f32>
  func.return %s, %total : tensor<4xf32>, tensor<f32>
}
"""


def test_equivalence_tolerance_follows_each_result():
    """x + y turned into x - y is caught even beside a sum of a million terms (whose
    tolerance once applied to every result)."""
    module = parse(LONG_REDUCTION_BESIDE_AN_ADD)
    check = EquivalenceInstrumentation(module, samples=1)

    with pytest.raises(DiagnosticError, match=r"'@main' result #0 differs"):
        PassManager(parse_pass_list("test-miscompile"), [check]).run(make_context(), module)


def test_equivalence_instrumentation_skips_what_it_cannot_run(capsys: pytest.CaptureFixture[str]):
    module = parse(
        """
        func.func @scalar(%s: f32) -> f32 {
          func.return %s : f32
        }
        func.func @bf16() -> tensor<2xbf16> {
          %c = red.constant dense<1.0> : tensor<2xbf16>
          func.return %c : tensor<2xbf16>
        }
        """
    )

    check = EquivalenceInstrumentation(module, samples=1)

    assert check.cases == []
    err = capsys.readouterr().err
    assert "skips '@scalar': argument #0 has non-tensor type 'f32'" in err
    assert "skips '@bf16': the input module fails at run time" in err


# endregion Equivalence instrumentation

# region Convergence


class ConstantsLeft(RewritePattern):
    """mul(x, c) -> mul(c, x): the opposite of canonicalize's order, to make a cycle"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MulOp, rewriter: PatternRewriter, /):
        if is_constant(op.rhs) and not is_constant(op.lhs):
            rewriter.replace(op, red.MulOp(op.rhs, op.lhs, op.result.type))


class ConstantsRight(RewritePattern):
    """mul(c, x) -> mul(x, c)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MulOp, rewriter: PatternRewriter, /):
        if is_constant(op.lhs) and not is_constant(op.rhs):
            rewriter.replace(op, red.MulOp(op.rhs, op.lhs, op.result.type))


CYCLE = """
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = red.constant dense<2.0> : tensor<4xf32>
  %m = red.mul %x, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %m : tensor<4xf32>
}
"""


def cycling_patterns(op: Operation) -> list[RewritePattern]:
    return [ConstantsLeft(), ConstantsRight()] if isinstance(op, red.MulOp) else []


def test_driver_stops_patterns_that_undo_each_other():
    module = parse(CYCLE)
    driver = GreedyDriver(module, cycling_patterns, make_context(), max_rewrites_per_iteration=100)

    result = driver.run()

    assert not result.converged
    assert result.changed
    assert result.rewrites > 100
    # ConstantsLeft fights the driver's own canonical operand order (constants right)
    assert set(result.last_patterns) == {"ConstantsLeft", "order-commutative-operands"}
    verify_module(module)


@pytest.mark.parametrize(
    ("max_iterations", "converged"),
    [
        pytest.param(1, False, id="cap-hit"),
        pytest.param(10, True, id="fixpoint"),
    ],
)
def test_driver_iteration_cap(max_iterations: int, converged: bool):
    module = load("constants")
    table = canonicalize_module.canonicalization_patterns()
    driver = GreedyDriver(
        module, lambda op: table.get(type(op), []), make_context(), max_iterations=max_iterations
    )

    result = driver.run()

    assert result.converged is converged
    assert result.changed
    if converged:
        assert result.iterations < max_iterations
    else:
        assert result.iterations == max_iterations
        assert result.last_patterns


def test_canonicalize_reports_non_convergence(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        canonicalize_module,
        "canonicalization_patterns",
        lambda: {red.MulOp: [ConstantsLeft(), ConstantsRight()]},
    )
    module = parse(CYCLE, "cycle.mlir")

    with pytest.raises(DiagnosticError, match=r"canonicalize did not converge") as info:
        CanonicalizePass(test_convergence=True).apply(make_context(), module)

    assert info.value.message.startswith("canonicalize did not converge after 1 iteration (")
    assert info.value.message.endswith(
        "rewrites); still firing: ConstantsLeft, order-commutative-operands"
    )


def test_canonicalize_without_test_convergence_stops_quietly(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        canonicalize_module,
        "canonicalization_patterns",
        lambda: {red.MulOp: [ConstantsLeft(), ConstantsRight()]},
    )
    module = parse(CYCLE)
    x = np.arange(4, dtype=np.float32)
    expected = ModuleRunner(module.clone()).call("main", x)

    apply("canonicalize", module)

    verify_module(module)
    assert_bitwise_equal(ModuleRunner(module).call("main", x), expected)


# endregion Convergence
