"""The profiler of compiled code (lowering/profile.py, red-run --profile): the instrumented
copy computes what the plain compiled module computes, each op that does work gets its
share of the cycles, loops and calls count as one op, and the Chrome trace lays one call out
in program order."""

from __future__ import annotations

import json

import numpy as np
import pytest

import red
from red.dialects.diagnostics import DiagnosticError
from red.lowering.profile import Profiler, write_trace

MODULE = """
func.func @main(%a: tensor<256x256xf32>, %b: tensor<256x256xf32>, %c: tensor<4x4xf32>)
    -> (tensor<256x256xf32>, tensor<4x4xf32>) {
  %m = red.matmul %a, %b : tensor<256x256xf32>, tensor<256x256xf32> -> tensor<256x256xf32>
  %e = red.exp %m : tensor<256x256xf32>
  %s = red.add %c, %c : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  func.return %e, %s : tensor<256x256xf32>, tensor<4x4xf32>
}
"""


def inputs(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((256, 256)) * 0.05).astype(np.float32),
        (rng.standard_normal((256, 256)) * 0.05).astype(np.float32),
        rng.standard_normal((4, 4)).astype(np.float32),
    ]


def test_instrumented_code_computes_what_the_plain_code_does():
    module = red.parse(MODULE)
    args = inputs()
    expected = red.compile(module).main.call(*args)

    profile, got = Profiler(module).run(*args, repeat=2)

    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    assert [t.op.name for t in sorted(profile.ops, key=lambda t: t.op.index)] == [
        "red.matmul",
        "red.exp",
        "red.add",
    ]
    assert profile.calls == 2


def test_the_matmul_gets_the_largest_share():
    """33.6 MFLOP of matmul against 16 additions: the share, not a wall time, is checked."""
    profile, _ = Profiler(red.parse(MODULE)).run(*inputs(), repeat=5)

    by_name = {t.op.name: t for t in profile.ops}
    assert by_name["red.matmul"].seconds > 10 * by_name["red.add"].seconds
    assert all(t.seconds >= 0 for t in profile.ops)
    assert by_name["red.matmul"].op.flops == 2 * 256**3
    table = profile.table()
    assert table.splitlines()[2].split()[-2] == "red.matmul"  # sorted by time


def test_a_loop_is_one_op_and_the_trace_follows_program_order(tmp_path):
    module = red.parse(
        """
func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %x) -> (tensor<8xf32>) {
    %t = red.tanh %acc : tensor<8xf32>
    scf.yield %t : tensor<8xf32>
  }
  %n = red.neg %r : tensor<8xf32>
  func.return %n : tensor<8xf32>
}
"""
    )
    x = np.linspace(-1, 1, 8, dtype=np.float32)

    profile, (got,) = Profiler(module).run(x, repeat=3)

    np.testing.assert_allclose(got, -np.tanh(np.tanh(np.tanh(np.tanh(x)))), rtol=1e-6)
    assert [t.op.name for t in profile.ops] == ["scf.for", "red.neg"]
    path = tmp_path / "trace.json"
    write_trace(profile, str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert [e["name"] for e in events] == ["scf.for", "red.neg"]
    assert events[1]["ts"] == pytest.approx(events[0]["ts"] + events[0]["dur"])


def test_a_function_that_is_not_there_is_a_located_error():
    with pytest.raises(DiagnosticError, match="no function '@other' to profile"):
        Profiler(red.parse(MODULE), "other")


def test_repeat_must_be_positive():
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        Profiler(red.parse(MODULE)).run(*inputs(), repeat=0)


def test_red_profile_is_the_python_entry():
    profile = red.profile(red.parse(MODULE), *inputs(), repeat=2)

    assert profile.calls == 2
    assert sorted(t.op.name for t in profile.ops) == ["red.add", "red.exp", "red.matmul"]


DYNAMIC = """
func.func @main(%x: tensor<?x16xf32> {red.dims = ["n", ""]}, %w: tensor<16x8xf32>)
    -> tensor<?x8xf32> {
  %y = red.matmul %x, %w : tensor<?x16xf32>, tensor<16x8xf32> -> tensor<?x8xf32>
  %z = red.exp %y : tensor<?x8xf32>
  func.return %z : tensor<?x8xf32>
}
"""


@pytest.mark.parametrize("n", [1, 5])
def test_a_dynamic_function_is_profiled_at_the_sizes_of_the_call(n: int):
    """The cost model gives a function with `?` dims polynomials in its symbols: the profile
    reports them at the sizes the call's arrays give (n rows: 2·n·16·8 matmul FLOPs)."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 16)).astype(np.float32)
    w = rng.standard_normal((16, 8)).astype(np.float32)

    profile = red.profile(red.parse(DYNAMIC), x, w, repeat=2)

    flops = {t.op.name: t.op.flops for t in profile.ops}
    assert flops["red.matmul"] == 2 * n * 16 * 8
    assert isinstance(flops["red.exp"], int)
    assert flops["red.exp"] > 0
    assert "red.matmul" in profile.table()
