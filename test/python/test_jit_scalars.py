"""Scalar arguments through the JIT (lowering/compiled_function.py): CompiledFunction passes
index, integer and float scalars by value, as the C ABI takes them, for static functions
and for functions with `?` dims (the sized ABI) alike, each call compared with the
interpreter; a scalar of the wrong kind or out of its type's range is a ValueError naming
the argument; a repeated tuple of shapes reuses what its first call bound."""

from __future__ import annotations

import numpy as np
import pytest

import red

MODULE = """
func.func @repeat_exp(%x: tensor<?x3xf32> {red.dims = ["n", ""]}, %k: index) -> tensor<?x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %k step %c1 iter_args(%acc = %x) -> (tensor<?x3xf32>) {
    %e = red.tanh %acc : tensor<?x3xf32>
    scf.yield %e : tensor<?x3xf32>
  }
  func.return %r : tensor<?x3xf32>
}
func.func @pick(%x: tensor<?xf32> {red.dims = ["n"]}, %t: f32, %flag: i1) -> tensor<?xf32> {
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %t, %zero : f32
  %c = arith.andi %pos, %flag : i1
  %r = scf.if %c -> (tensor<?xf32>) {
    %e = red.exp %x : tensor<?xf32>
    scf.yield %e : tensor<?xf32>
  } else {
    %n = red.tanh %x : tensor<?xf32>
    scf.yield %n : tensor<?xf32>
  }
  func.return %r : tensor<?xf32>
}
func.func @static_pick(%x: tensor<4xf32>, %t: f64, %k: i32) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f64
  %c = arith.cmpf ogt, %t, %zero : f64
  %k0 = arith.constant 2 : i32
  %big = arith.cmpi sgt, %k, %k0 : i32
  %both = arith.andi %c, %big : i1
  %r = scf.if %both -> (tensor<4xf32>) {
    %e = red.exp %x : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    scf.yield %x : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
"""


@pytest.fixture(scope="module")
def compiled():
    module = red.parse(MODULE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RED_CACHE", "off")
        jit = red.compile(module.clone(), threads=1)
    return jit, red.interpret(module)


def rows(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 3)).astype(np.float32)


def assert_same(got, want) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert got.shape == want.shape


@pytest.mark.parametrize(("n", "k"), [(1, 0), (2, 1), (5, 3), (7, 4)], ids=lambda v: str(v))
def test_index_scalar_of_a_dynamic_function_is_the_trip_count(compiled, n: int, k: int):
    jit, interpreter = compiled
    x = rows(n, seed=n)

    got = jit.repeat_exp(x, k)

    (want,) = interpreter.call("repeat_exp", x, k)
    assert_same(got, want)
    expected = x
    for _ in range(k):
        expected = np.tanh(expected)
    assert_same(got, expected)


@pytest.mark.parametrize(
    ("t", "flag"),
    [
        pytest.param(1.5, True, id="python-numbers-taken"),
        pytest.param(1.5, False, id="flag-off"),
        pytest.param(np.float32(-1.0), np.bool_(True), id="numpy-scalars-negative"),
        pytest.param(np.array(2.0, np.float64), np.array(True), id="0-d-arrays"),
        pytest.param(3, 1, id="int-for-f32-and-1-for-i1"),
    ],
)
def test_f32_and_i1_scalars_of_a_dynamic_function(compiled, t, flag):
    jit, interpreter = compiled
    x = rows(6)[:, 0].copy()

    got = jit.pick(x, t, flag)

    (want,) = interpreter.call("pick", x, t, flag)
    assert_same(got, want)
    taken = float(t) > 0 and bool(flag)
    assert_same(got, np.exp(x) if taken else np.tanh(x))


@pytest.mark.parametrize(("t", "k"), [(1.0, 3), (1.0, 2), (-1.0, 3), (0.5, np.int32(9))])
def test_f64_and_i32_scalars_of_a_static_function(compiled, t, k):
    jit, interpreter = compiled
    x = rows(4)[:, 1].copy()

    got = jit.static_pick(x, t, k)

    (want,) = interpreter.call("static_pick", x, t, k)
    assert_same(got, want)


def test_repeated_shapes_reuse_what_they_bound(compiled):
    jit, interpreter = compiled
    fn = jit.function("repeat_exp")
    fn.sized.seen.clear()

    for n, k in [(2, 1), (5, 2), (2, 3), (5, 0), (2, 1)]:
        x = rows(n, seed=10 * n + k)
        (want,) = interpreter.call("repeat_exp", x, k)
        assert_same(fn(x, k), want)

    assert sorted(fn.sized.seen) == [((2, 3),), ((5, 3),)]


@pytest.mark.parametrize(
    ("function", "args", "message"),
    [
        pytest.param(
            "repeat_exp",
            (rows(2), 1.5),
            r"argument #1 \(%k\) of '@repeat_exp' expects a scalar of type 'index', got float",
            id="float-for-index",
        ),
        pytest.param(
            "repeat_exp",
            (rows(2), True),
            r"argument #1 \(%k\) .* type 'index', got bool",
            id="bool-for-index",
        ),
        pytest.param(
            "repeat_exp",
            (rows(2), "3"),
            r"argument #1 \(%k\) .* type 'index', got str",
            id="string-for-index",
        ),
        pytest.param(
            "repeat_exp",
            (rows(2), np.array([1, 2])),
            r"argument #1 \(%k\) .* got an array of shape 2",
            id="array-for-index",
        ),
        pytest.param(
            "repeat_exp",
            (rows(2), 1 << 63),
            r"argument #1 \(%k\) of '@repeat_exp': 9223372036854775808 is out of the range",
            id="index-out-of-range",
        ),
        pytest.param(
            "pick",
            (rows(3)[:, 0].copy(), 1.0, 2),
            r"argument #2 \(%flag\) of '@pick': 2 is not a boolean",
            id="two-for-i1",
        ),
        pytest.param(
            "static_pick",
            (rows(4)[:, 0].copy(), 1.0, 1 << 31),
            r"argument #2 \(%k\) of '@static_pick': 2147483648 is out of the range of 'i32'",
            id="i32-out-of-range",
        ),
        pytest.param(
            "static_pick",
            (rows(4)[:, 0].copy(), "1.0", 3),
            r"argument #1 \(%t\) of '@static_pick' expects a scalar of type 'f64', got str",
            id="string-for-f64",
        ),
        pytest.param(
            "static_pick",
            (rows(4).copy(), 1.0, 3),
            r"#0 \(%x\)",
            id="static-tensor-still-checked",
        ),
    ],
)
def test_a_wrong_scalar_is_a_value_error_naming_it(compiled, function, args, message):
    jit, _ = compiled

    with pytest.raises((ValueError, red.DiagnosticError), match=message):
        jit.function(function)(*args)
