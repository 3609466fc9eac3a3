"""Nothing the lowered code allocates leaks (DESIGN.md §4): the LLVM IR's malloc and free are
renamed to counted versions (Python callbacks registered with llvmlite), the module is
JIT-compiled with the helpers of red.lowering.jit, and every call must free each buffer it
malloc'd exactly once, never free twice or free what it did not allocate, and keep fewer
buffers live at once than it has ops (buffers die after their last use, not at the end).
Then the examples run under valgrind, built with clang-16 and a generated C driver."""

from __future__ import annotations

import ctypes
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest
from lowering_helpers import (
    EXAMPLE_IDS,
    EXAMPLE_VARIANTS,
    RawJit,
    c_driver,
    example_module,
    missing_tools,
    public_function,
)
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

import red
from red.lowering.llvm_ir import module_to_llvm_ir
from red.testing.random_inputs import random_inputs

# region Counted heap


@dataclass
class Heap:
    """malloc/free through libc, recording every live pointer and the peak live count."""

    live: dict[int, int] = field(default_factory=dict)
    mallocs: int = 0
    frees: int = 0
    peak: int = 0
    bad_frees: list[int] = field(default_factory=list)

    def reset(self) -> None:
        self.live.clear()  # what a failed test leaked stays leaked, but does not fail others
        self.mallocs = self.frees = self.peak = 0
        self.bad_frees.clear()

    def malloc(self, size: int) -> int:
        pointer = _libc.malloc(max(1, size))
        assert pointer, "libc malloc failed"
        assert pointer not in self.live
        self.live[pointer] = size
        self.mallocs += 1
        self.peak = max(self.peak, len(self.live))
        return pointer

    def free(self, pointer: int | None) -> None:
        if pointer is None or pointer not in self.live:  # a double free, or not ours
            self.bad_frees.append(pointer or 0)
            return
        del self.live[pointer]
        self.frees += 1
        _libc.free(pointer)


_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]
HEAP = Heap()
# The callbacks must outlive every engine that calls them: module globals.
_MALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int64)(HEAP.malloc)
_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(HEAP.free)
llvm.add_symbol("counted_malloc", ctypes.cast(_MALLOC, ctypes.c_void_p).value)
llvm.add_symbol("counted_free", ctypes.cast(_FREE, ctypes.c_void_p).value)


def counted_ir(ir: str) -> str:
    """The IR with @malloc/@free renamed to @counted_malloc/@counted_free."""
    renamed = re.sub(r'@"?(malloc|free)"?(?=\()', r'@"counted_\1"', ir)
    assert not re.search(r'@"?(malloc|free)"?\(', renamed)
    return renamed


class CountedModule(RawJit):
    """A lowered module JIT-compiled with counted malloc/free."""

    def __init__(self, module: ModuleOp, ir: str | None = None):
        super().__init__(
            module,
            counted_ir(ir if ir is not None else module_to_llvm_ir(module, with_kernels=False)),
        )


def op_count(fn: func.FuncOp) -> int:
    """Ops of the function, nested ones included, but not terminators."""
    return sum(1 for op in fn.walk() if op.dialect_name() == "red" and op.name != "red.yield")


def assert_balanced(context: str) -> None:
    """Every buffer malloc'd since the last reset was freed once, nothing else was freed."""
    assert not HEAP.bad_frees, f"{context}: free of a pointer not live: {HEAP.bad_frees[:4]}"
    assert not HEAP.live, (
        f"{context}: {len(HEAP.live)} buffers leaked ({sorted(HEAP.live.values())[:8]} bytes)"
    )
    assert HEAP.frees == HEAP.mallocs, context


def run_counted(
    counted: CountedModule, name: str, args: list[np.ndarray]
) -> tuple[np.ndarray, ...]:
    """One call, checked for leaks and double frees; returns its results."""
    HEAP.reset()
    results = counted.call(name, *args)
    assert_balanced(f"@{name}")
    return results


# endregion Counted heap

# region Examples


@pytest.mark.parametrize(("example", "optimized"), EXAMPLE_VARIANTS, ids=EXAMPLE_IDS)
def test_examples_free_every_buffer(example: str, optimized: bool) -> None:
    module = example_module(example, optimized)
    fn = public_function(module)
    counted = CountedModule(module)
    args = random_inputs(fn, 0)

    first = run_counted(counted, "main", args)
    first_peak, first_mallocs = HEAP.peak, HEAP.mallocs
    warm = run_counted(counted, "main", args)  # memos hit: no more buffers than the first call
    warm_mallocs = HEAP.mallocs
    counted.memo_reset()
    again = run_counted(counted, "main", args)

    ops = op_count(fn)
    assert first_mallocs > 0 or ops < 8
    assert first_peak < ops, f"peak of {first_peak} live buffers for {ops} ops"
    assert warm_mallocs <= first_mallocs
    want = red.interpret(module).call("main", *args)
    for f, w, a, b in zip(first, warm, again, want):
        np.testing.assert_array_equal(f, w)
        np.testing.assert_array_equal(f, a)
        # chains of products amplify rounding differences: atol relative to the largest value
        np.testing.assert_allclose(f, b, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(b).max())))


# endregion Examples

# region Synthetic modules

# Chains of ops that each need a buffer (softmax, layer_norm, matmul are never fused): with
# buffers freed after their last use, at most two are live at once whatever the length.
LONG_CHAIN = """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %0 = red.softmax %x axis = 1 : tensor<4x8xf32>
  %1 = red.matmul %0, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %2 = red.layer_norm %1 axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>
  %3 = red.softmax %2 axis = 0 : tensor<4x8xf32>
  %4 = red.matmul %3, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %5 = red.rms_norm %4 axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>
  %6 = red.softmax %5 axis = 1 : tensor<4x8xf32>
  %7 = red.matmul %6, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %8 = red.layer_norm %7 axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>
  %9 = red.softmax %8 axis = 1 : tensor<4x8xf32>
  func.return %9 : tensor<4x8xf32>
}
"""

# Buffers whose last reader is fused into a consumer, views of buffers (reshape) outliving
# them, values used twice, returned twice, unused, memo bodies and calls.
TRICKY = """
func.func @fused_last_reader(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %e = red.tanh %a : tensor<4x8xf32>
  %s = red.add %e, %e : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %t = red.mul %s, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %n = red.neg %t : tensor<4x8xf32>
  func.return %n : tensor<4x8xf32>
}
func.func @views(%a: tensor<4x8xf32>) -> (tensor<8x4xf32>, tensor<32xf32>) {
  %e = red.exp %a : tensor<4x8xf32>
  %v = red.reshape %e : tensor<4x8xf32> -> tensor<8x4xf32>
  %w = red.reshape %v : tensor<8x4xf32> -> tensor<32xf32>
  %s = red.softmax %v axis = 1 : tensor<8x4xf32>
  %u = red.reshape %s : tensor<8x4xf32> -> tensor<32xf32>
  %r = red.add %u, %w : tensor<32xf32>, tensor<32xf32> -> tensor<32xf32>
  func.return %s, %r : tensor<8x4xf32>, tensor<32xf32>
}
func.func @returned_view(%a: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<32xf32>) {
  %e = red.exp %a : tensor<4x8xf32>
  %v = red.reshape %e : tensor<4x8xf32> -> tensor<32xf32>
  func.return %v, %v : tensor<32xf32>, tensor<32xf32>
}
func.func @view_then_source(%a: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<4x8xf32>) {
  %e = red.exp %a : tensor<4x8xf32>
  %v = red.reshape %e : tensor<4x8xf32> -> tensor<32xf32>
  func.return %v, %e : tensor<32xf32>, tensor<4x8xf32>
}
func.func @unused(%a: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %m = red.matmul %a, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %s = red.softmax %a axis = 1 : tensor<4x8xf32>
  %c = red.concat %a, %a axis = 0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
  func.return %s : tensor<4x8xf32>
}
func.func private @helper(%a: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %s = red.softmax %a axis = 1 : tensor<4x8xf32>
  %m = red.reduce_max %s axes = [1] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %s, %m : tensor<4x8xf32>, tensor<4xf32>
}
func.func @calls(%a: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %s, %m = func.call @helper(%a) : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>)
  %t, %n = func.call @helper(%s) : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>)
  %wt = red.memo(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%b: tensor<8x8xf32>):
    %e = red.exp %b : tensor<8x8xf32>
    %f = red.add %e, %e : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
    %g = red.softmax %f axis = 0 : tensor<8x8xf32>
    %h = red.transpose %g [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %h : tensor<8x8xf32>
  }
  %y = red.matmul %t, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %r = red.add %m, %n : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %y, %r : tensor<4x8xf32>, tensor<4xf32>
}
"""


def test_long_chain_keeps_two_buffers_live() -> None:
    module = red.parse(LONG_CHAIN, "chain.mlir")
    counted = CountedModule(module)
    args = random_inputs(public_function(module), 0)

    results = run_counted(counted, "main", args)

    assert HEAP.mallocs == 9  # every op but the last, which writes the result buffer
    assert HEAP.peak == 2
    want = red.interpret(module).call("main", *args)
    np.testing.assert_allclose(results[0], want[0], rtol=1e-4, atol=1e-5)


# A returned reshape of a computed value: the op computing it writes into the result buffer
# (viewed at its shape), so nothing is allocated or copied (GPT-2's logits are a reshape of
# the LM head's matmul: 25.7 MB per call).
RESHAPED_RESULTS = """
func.func @main(%x: tensor<2x4x8xf32>, %w: tensor<8x6xf32>) -> (tensor<2x4x6xf32>, tensor<64xf32>) {
  %r = red.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %m = red.matmul %r, %w : tensor<8x8xf32>, tensor<8x6xf32> -> tensor<8x6xf32>
  %y = red.reshape %m : tensor<8x6xf32> -> tensor<2x4x6xf32>
  %e = red.exp %x : tensor<2x4x8xf32>
  %f = red.reshape %e : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %g = red.reshape %f : tensor<8x8xf32> -> tensor<64xf32>
  func.return %y, %g : tensor<2x4x6xf32>, tensor<64xf32>
}
"""


def test_returned_reshapes_are_written_in_place() -> None:
    module = red.parse(RESHAPED_RESULTS, "reshaped.mlir")
    counted = CountedModule(module)
    args = random_inputs(public_function(module), 0)

    results = run_counted(counted, "main", args)

    assert HEAP.mallocs == 0
    want = red.interpret(module).call("main", *args)
    for g, w in zip(results, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def tricky() -> tuple[ModuleOp, CountedModule]:
    module = red.parse(TRICKY, "tricky.mlir")
    return module, CountedModule(module)


@pytest.mark.parametrize(
    "name", ["fused_last_reader", "views", "returned_view", "view_then_source", "unused", "calls"]
)
def test_tricky_cases_free_every_buffer(tricky: tuple[ModuleOp, CountedModule], name: str) -> None:
    module, counted = tricky
    args = random_inputs(public_function(module, name), 0)

    results = run_counted(counted, name, args)
    mallocs = HEAP.mallocs
    counted.memo_reset()

    assert mallocs > 0 or name in ("returned_view", "view_then_source")  # exp writes a result
    want = red.interpret(module).call(name, *args)
    for g, w in zip(results, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_every_op_module_frees_every_buffer() -> None:
    """The modules of test_lowering_ops (every op, every group) under the counted heap."""
    import test_lowering_ops as ops

    for group in dict.fromkeys(c.group for c in ops.CASES):
        module, compiled = ops.group_module(group)
        counted = CountedModule(module, compiled.llvm_ir)
        for case in (c for c in ops.CASES if c.group == group):
            args = random_inputs(public_function(module, case.name), 0)
            if case.inputs is not None:
                args = case.inputs(args, np.random.default_rng(100))
            with np.errstate(all="ignore"):
                run_counted(counted, case.name, args)


# endregion Synthetic modules

# region Valgrind


@pytest.mark.skipif(
    bool(missing_tools("valgrind", "clang-16")), reason=str(missing_tools("valgrind", "clang-16"))
)
@pytest.mark.parametrize(("example", "optimized"), EXAMPLE_VARIANTS, ids=EXAMPLE_IDS)
def test_examples_under_valgrind(example: str, optimized: bool, tmp_path: Path) -> None:
    module = example_module(example, optimized)
    source = tmp_path / "model.mlir"
    source.write_text(red.to_text(module))
    ll, driver, exe = tmp_path / "model.ll", tmp_path / "driver.c", tmp_path / "model"
    driver.write_text(c_driver(public_function(module)))

    subprocess.run(["red-translate", "--mlir-to-llvmir", str(source), "-o", str(ll)], check=True)
    subprocess.run(["clang-16", "-O1", "-g", "-Wno-override-module", str(driver), str(ll), "-o", str(exe), "-lm"],
                   check=True)  # fmt: skip
    run = subprocess.run(
        [
            "valgrind",
            "--leak-check=full",
            "--error-exitcode=1",
            "--errors-for-leak-kinds=all",
            str(exe),
        ],
        capture_output=True,
        text=True,
    )

    assert run.returncode == 0, run.stderr[-4000:]
    assert "All heap blocks were freed -- no leaks are possible" in run.stderr, run.stderr[-2000:]


# endregion Valgrind
