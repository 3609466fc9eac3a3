"""Loops over tensors through the JIT (lowering/loops/control_flow.py): scf.for with tensor
iter_args (updated in place or copied), zero-trip and nested loops, scf.if with tensor
results, dynamic slices with clamped offsets and index arguments, each compared with the
interpreter, and every buffer the loops allocate freed once."""

from __future__ import annotations

import numpy as np
import pytest
from test_lowering_memory import CountedModule, run_counted

import red

LOOPS = """
func.func @rows(%x: tensor<5x3xf32>, %src: tensor<5x3xf32>) -> tensor<5x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %i = %c0 to %c5 step %c1 iter_args(%acc = %x) -> (tensor<5x3xf32>) {
    %row = red.dynamic_slice %src[%i, %c0] sizes = [1, 3] : (tensor<5x3xf32>, index, index) -> tensor<1x3xf32>
    %e = red.exp %row : tensor<1x3xf32>
    %u = red.dynamic_update_slice %acc, %e[%i, %c0] : (tensor<5x3xf32>, tensor<1x3xf32>, index, index) -> tensor<5x3xf32>
    scf.yield %u : tensor<5x3xf32>
  }
  func.return %r : tensor<5x3xf32>
}
func.func @old_value_read(%x: tensor<5x3xf32>, %src: tensor<5x3xf32>) -> tensor<5x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %i = %c0 to %c5 step %c1 iter_args(%acc = %x) -> (tensor<5x3xf32>) {
    %row = red.dynamic_slice %src[%i, %c0] sizes = [1, 3] : (tensor<5x3xf32>, index, index) -> tensor<1x3xf32>
    %u = red.dynamic_update_slice %acc, %row[%i, %c0] : (tensor<5x3xf32>, tensor<1x3xf32>, index, index) -> tensor<5x3xf32>
    %h = red.constant dense<0.5> : tensor<f32>
    %half = red.mul %acc, %h : tensor<5x3xf32>, tensor<f32> -> tensor<5x3xf32>
    %s = red.add %u, %half : tensor<5x3xf32>, tensor<5x3xf32> -> tensor<5x3xf32>
    scf.yield %s : tensor<5x3xf32>
  }
  func.return %r : tensor<5x3xf32>
}
func.func @zero_trip(%x: tensor<5x3xf32>, %src: tensor<5x3xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %e = red.exp %x : tensor<5x3xf32>
  %r:2 = scf.for %i = %c3 to %c3 step %c1 iter_args(%a = %e, %b = %src) -> (tensor<5x3xf32>, tensor<5x3xf32>) {
    %n = red.neg %a : tensor<5x3xf32>
    scf.yield %n, %b : tensor<5x3xf32>, tensor<5x3xf32>
  }
  %backwards = scf.for %i = %c3 to %c0 step %c1 iter_args(%a = %r#0) -> (tensor<5x3xf32>) {
    %n = red.neg %a : tensor<5x3xf32>
    scf.yield %n : tensor<5x3xf32>
  }
  func.return %backwards, %r#1 : tensor<5x3xf32>, tensor<5x3xf32>
}
func.func @nested(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %two = red.constant dense<2.0> : tensor<1x1xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%outer = %x) -> (tensor<4x3xf32>) {
    %s = scf.for %j = %c0 to %c3 step %c1 iter_args(%inner = %outer) -> (tensor<4x3xf32>) {
      %ij = arith.addi %i, %j : index
      %prev = red.dynamic_slice %inner[%i, %ij] sizes = [1, 1] : (tensor<4x3xf32>, index, index) -> tensor<1x1xf32>
      %v = red.mul %prev, %two : tensor<1x1xf32>, tensor<1x1xf32> -> tensor<1x1xf32>
      %u = red.dynamic_update_slice %inner, %v[%i, %j] : (tensor<4x3xf32>, tensor<1x1xf32>, index, index) -> tensor<4x3xf32>
      scf.yield %u : tensor<4x3xf32>
    }
    scf.yield %s : tensor<4x3xf32>
  }
  func.return %r : tensor<4x3xf32>
}
func.func @if_in_loop(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %i = %c0 to %c5 step %c1 iter_args(%acc = %x) -> (tensor<2x3xf32>) {
    %rem = arith.remsi %i, %c2 : index
    %even = arith.cmpi eq, %rem, %c0 : index
    %next = scf.if %even -> (tensor<2x3xf32>) {
      %t = red.tanh %acc : tensor<2x3xf32>
      scf.yield %t : tensor<2x3xf32>
    } else {
      %s = red.add %acc, %y : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
      scf.yield %s : tensor<2x3xf32>
    }
    scf.yield %next : tensor<2x3xf32>
  }
  func.return %r : tensor<2x3xf32>
}
func.func @swap(%a: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r:2 = scf.for %i = %c0 to %c3 step %c1 iter_args(%p = %a, %q = %b) -> (tensor<3xf32>, tensor<3xf32>) {
    %e = red.exp %p : tensor<3xf32>
    scf.yield %q, %e : tensor<3xf32>, tensor<3xf32>
  }
  func.return %r#0, %r#1 : tensor<3xf32>, tensor<3xf32>
}
func.func @greedy(%tokens: tensor<1x8xi64>, %table: tensor<16x16xf32>) -> tensor<1x8xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %t = %c2 to %c8 step %c1 iter_args(%toks = %tokens) -> (tensor<1x8xi64>) {
    %p = arith.subi %t, %c1 : index
    %last = red.dynamic_slice %toks[%c0, %p] sizes = [1, 1] : (tensor<1x8xi64>, index, index) -> tensor<1x1xi64>
    %ids = red.reshape %last : tensor<1x1xi64> -> tensor<1xi64>
    %logits = red.gather %table, %ids axis = 0 : tensor<16x16xf32>, tensor<1xi64> -> tensor<1x16xf32>
    %next = red.argmax %logits axis = 1 keepdims : tensor<1x16xf32> -> tensor<1x1xi64>
    %u = red.dynamic_update_slice %toks, %next[%c0, %t] : (tensor<1x8xi64>, tensor<1x1xi64>, index, index) -> tensor<1x8xi64>
    scf.yield %u : tensor<1x8xi64>
  }
  func.return %r : tensor<1x8xi64>
}
"""

SCALAR_ARGUMENTS = """
func.func @trip_count(%x: tensor<4x2xf32>, %n: index) -> tensor<4x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = red.constant dense<1.0> : tensor<1x2xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<4x2xf32>) {
    %row = red.dynamic_slice %acc[%i, %c0] sizes = [1, 2] : (tensor<4x2xf32>, index, index) -> tensor<1x2xf32>
    %v = red.add %row, %one : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x2xf32>
    %u = red.dynamic_update_slice %acc, %v[%i, %c0] : (tensor<4x2xf32>, tensor<1x2xf32>, index, index) -> tensor<4x2xf32>
    scf.yield %u : tensor<4x2xf32>
  }
  func.return %r : tensor<4x2xf32>
}
func.func @clamped(%x: tensor<6x4xf32>, %u: tensor<2x3xf32>, %i: i64, %j: tensor<i32>) -> (tensor<2x3xf32>, tensor<6x4xf32>) {
  %s = red.dynamic_slice %x[%i, %j] sizes = [2, 3] : (tensor<6x4xf32>, i64, tensor<i32>) -> tensor<2x3xf32>
  %w = red.dynamic_update_slice %x, %u[%i, %j] : (tensor<6x4xf32>, tensor<2x3xf32>, i64, tensor<i32>) -> tensor<6x4xf32>
  func.return %s, %w : tensor<2x3xf32>, tensor<6x4xf32>
}
"""

ARGUMENTS = {
    "rows": [(5, 3), (5, 3)],
    "old_value_read": [(5, 3), (5, 3)],
    "zero_trip": [(5, 3), (5, 3)],
    "nested": [(4, 3)],
    "if_in_loop": [(2, 3), (2, 3)],
    "swap": [(3,), (3,)],
}


@pytest.fixture(scope="module")
def loops():
    module = red.parse(LOOPS)
    return module, red.compile(module.clone()), red.interpret(module)


def random_arguments(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(len(name))
    return [rng.standard_normal(shape).astype(np.float32) for shape in ARGUMENTS[name]]


def greedy_arguments() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    tokens = np.zeros((1, 8), np.int64)
    tokens[0, :2] = rng.integers(0, 16, 2)
    return [tokens, rng.standard_normal((16, 16)).astype(np.float32)]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("rows", id="rows-written-in-place"),
        pytest.param("old_value_read", id="update-of-a-value-read-later-copies"),
        pytest.param("zero_trip", id="zero-trip-loops-return-their-initial-values"),
        pytest.param("nested", id="nested-loops-on-one-buffer"),
        pytest.param("if_in_loop", id="scf-if-returning-tensors-in-a-loop"),
        pytest.param("swap", id="carried-values-that-swap"),
    ],
)
def test_jit_equals_interpreter(loops, name: str):
    _, compiled, interpreter = loops
    args = random_arguments(name)

    got = compiled.function(name).call(*args)

    want = interpreter.call(name, *args)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_zero_trip_loops_return_their_arguments_unchanged(loops):
    _, compiled, _ = loops
    x, src = random_arguments("zero_trip")

    backwards, untouched = compiled.function("zero_trip").call(x, src)

    np.testing.assert_allclose(backwards, np.exp(x), rtol=1e-6)
    np.testing.assert_array_equal(untouched, src)


def test_greedy_loop_tokens_equal_the_interpreter(loops):
    _, compiled, interpreter = loops
    args = greedy_arguments()

    (tokens,) = compiled.function("greedy").call(*args)

    np.testing.assert_array_equal(tokens, interpreter.call("greedy", *args)[0])
    assert len(set(tokens[0].tolist())) > 1  # not a constant sequence: the loop really ran


def test_arguments_are_not_written(loops):
    _, compiled, _ = loops
    args = random_arguments("rows")
    before = [a.copy() for a in args]

    compiled.function("rows").call(*args)

    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def scalar_arguments():
    module = red.parse(SCALAR_ARGUMENTS)
    compiled = red.compile(module.clone())
    functions = {name: red.interpret(module) for name in ("trip_count", "clamped")}
    return compiled, functions


@pytest.mark.parametrize("n", [0, 1, 3, 4], ids=lambda n: f"trip-count-{n}")
def test_trip_count_from_an_index_argument(scalar_arguments, n: int):
    compiled, interpreters = scalar_arguments
    x = np.random.default_rng(n).standard_normal((4, 2)).astype(np.float32)

    (got,) = compiled.function("trip_count").call(x, n)

    (want,) = interpreters["trip_count"].call("trip_count", x, n)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got[n:], x[n:])


@pytest.mark.parametrize(
    ("i", "j"),
    [
        pytest.param(1, 0, id="in-range"),
        pytest.param(-3, 2, id="negative-row-clamped-to-0"),
        pytest.param(100, -1, id="rows-past-the-end-clamped"),
        pytest.param(4, 9, id="both-clamped-to-the-last-block"),
    ],
)
def test_offsets_are_clamped_as_the_interpreter_does(scalar_arguments, i: int, j: int):
    compiled, interpreters = scalar_arguments
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    u = rng.standard_normal((2, 3)).astype(np.float32)
    args = [x, u, np.int64(i), np.array(j, np.int32)]

    got = compiled.function("clamped").call(*args)

    want = interpreters["clamped"].call("clamped", *args)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", [*ARGUMENTS, "greedy"])
def test_loops_free_every_buffer_once(loops, name: str):
    module, _, interpreter = loops
    counted = CountedModule(module)
    args = greedy_arguments() if name == "greedy" else random_arguments(name)

    got = run_counted(counted, name, args)

    for g, w in zip(got, interpreter.call(name, *args), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_lstm_time_loop_compiles_and_equals_pytorch():
    """nn.LSTM imports as an scf.for over the time steps (frontends/recurrence.py): the JIT
    runs that loop, as PyTorch and the interpreter compute it."""
    torch = pytest.importorskip("torch", reason="the LSTM import needs the red[torch] extra")
    from test_torch_importer import LSTMClassifier

    from red.frontends.torch_importer import import_torch

    torch.manual_seed(0)
    model = LSTMClassifier()
    x = torch.randn(12, 1, 16)
    imported = import_torch(model, (x,))
    assert any(op.name == "scf.for" for op in imported.module.walk())
    args = [x.numpy(), *(np.asarray(w) for w in imported.weights)]

    got = red.compile(imported.module.clone()).main(*args)

    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-4, atol=1e-5)
    (want,) = red.interpret(imported.module).call("main", *args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
