"""Calls of the kernel library (lowering/kernels) from loop-level code: the entry point's
declaration (a private func.func with its C types: i64, i32, f32 and !llvm.ptr), buffers
passed as pointers (`builtin.unrealized_conversion_cast` of the memref, the same pointer
after convert-to-llvm), null pointers for absent optional operands, and the thread count.

The thread count every call passes is read from the module global `@__red_num_threads`
(an i32, zero: the library's default, RED_NUM_THREADS else the CPUs the process may use).
The JIT gives it the count of `red.compile(..., threads=N)` as a constant initializer, so
LLVM folds it into each call."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import arith, func, llvm, memref
from xdsl.dialects.builtin import (
    Float32Type,
    IntegerType,
    MemRefType,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
    UnrealizedConversionCastOp,
    i32,
    i64,
)
from xdsl.ir import Attribute, SSAValue

from red.dialects.red.dims import Dim
from red.lowering.kernels.library import ENTRY_POINTS
from red.lowering.loops.emitter import Emitter

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

PTR = llvm.LLVMPointerType()
NUM_THREADS_GLOBAL = "__red_num_threads0"
"""The module global holding the thread count of the module's kernel calls (0: default)."""
_NUM_THREADS_PREFIX = NUM_THREADS_GLOBAL[:-1]

KernelArg = SSAValue | int | float
"""An argument: a value of the entry point's C type, or a Python number made a constant of
that type (i64, i32 or f32)."""


def pointer(bl: BlockLowering, mem: SSAValue) -> SSAValue:
    """The data pointer of a buffer (its memref), as a kernel argument."""
    assert isinstance(mem.type, MemRefType)
    return bl.e.op(UnrealizedConversionCastOp.get([mem], [PTR]))


def null_pointer(bl: BlockLowering) -> SSAValue:
    """A null pointer: an optional operand the kernel does without (gamma, beta)."""
    return bl.e.op(llvm.ZeroOp.build(result_types=[PTR]))


SERIAL_WORK = 1 << 22
"""Calls doing less work than this (FLOPs of a matmul, elements of a row kernel times 16) run
on the calling thread: a parallel region costs a team wake-up and a barrier, which on a busy
machine waits for a descheduled thread (measured: 64x64 matmuls, 1.3x slower on 2 threads)."""


def kernel_int(bl: BlockLowering, d: Dim) -> KernelArg:
    """A size as an i64 kernel argument: the int, or the run-time value of a polynomial in
    the function's `?` sizes."""
    return d if isinstance(d, int) else bl.fn.sizes.as_i64(d)


def num_threads(bl: BlockLowering, work: Dim) -> SSAValue:
    """The thread count of a kernel call doing `work`: 1 below SERIAL_WORK, else the
    module's (an i32 read from its global); a `work` that depends on run-time sizes is
    compared with SERIAL_WORK at run time."""
    if isinstance(work, int):
        if work < SERIAL_WORK:
            return bl.e.scalar(1, i32)
        return _module_threads(bl)
    e = bl.e
    small = e.op(arith.CmpiOp(e.bound(bl.size(work)), e.index(SERIAL_WORK), "slt"))
    return e.op(arith.SelectOp(small, e.scalar(1, i32), _module_threads(bl)))


def _module_threads(bl: BlockLowering) -> SSAValue:
    typ = MemRefType(i32, [])

    def make(name: str) -> memref.GlobalOp:
        return memref.GlobalOp.get(StringAttr(name), typ, UnitAttr())

    if (glob := _thread_globals.get(bl.e)) is None:  # once per function, at its top
        name = bl.module.unique_global("kernel-threads", _NUM_THREADS_PREFIX, make)
        assert name == NUM_THREADS_GLOBAL
        glob = _thread_globals[bl.e] = bl.e.at_entry(memref.GetGlobalOp(SymbolRefAttr(name), typ))
    return bl.e.op(memref.LoadOp.get(glob, []))


_thread_globals: weakref.WeakKeyDictionary[Emitter, SSAValue] = weakref.WeakKeyDictionary()
"""The thread-count global's address in each function (by its emitter)."""


def call_kernel(bl: BlockLowering, name: str, args: Sequence[KernelArg]) -> None:
    """`name(args...)`, declaring the entry point in the module on first use."""
    inputs, result = ENTRY_POINTS[name].xdsl_types()
    assert result is None, name
    assert len(inputs) == len(args), name

    def declare(symbol: str) -> func.FuncOp:
        return func.FuncOp.external(symbol, inputs, [])

    bl.module.function(name, declare)
    values = [_argument(bl, a, t) for a, t in zip(args, inputs)]
    bl.e.op(func.CallOp(name, values, []))


def _argument(bl: BlockLowering, value: KernelArg, typ: Attribute) -> SSAValue:
    if isinstance(value, SSAValue):
        return value
    if isinstance(typ, Float32Type):
        return bl.e.scalar(float(value), typ)
    assert isinstance(typ, IntegerType)
    assert typ in (i64, i32)
    assert isinstance(value, int)
    return bl.e.scalar(value, typ)
