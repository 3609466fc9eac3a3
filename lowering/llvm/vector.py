"""vector -> llvm: contiguous loads and stores of 1-D vectors at a memref element's address,
broadcast as insertelement + shufflevector, and fma as llvm.intr.fma."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import llvm, vector
from xdsl.dialects.builtin import DenseArrayBase, VectorType, i32

from red.lowering.llvm.memref import load, store
from red.lowering.llvm.rules import lowers

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter


@lowers(vector.LoadOp)
def _load(conv: FunctionConverter, op: vector.LoadOp) -> None:
    """A vector load at &base[indices], aligned like one element."""
    load(conv, op, op.base, op.indices)


@lowers(vector.StoreOp)
def _store(conv: FunctionConverter, op: vector.StoreOp) -> None:
    store(conv, op, op.vector, op.base, op.indices)


@lowers(vector.BroadcastOp)
def _broadcast(conv: FunctionConverter, op: vector.BroadcastOp) -> None:
    """The scalar inserted at lane 0, then shuffled into every lane."""
    vt = op.vector.type
    assert isinstance(vt, VectorType)
    undef = conv.emit(llvm.UndefOp(vt))
    first = conv.emit(llvm.InsertElementOp(undef, conv.get(op.source), conv.const_int(0, i32)))
    mask = DenseArrayBase.from_list(i32, [0] * vt.get_shape()[0])
    conv.set(op.vector, conv.emit(llvm.ShuffleVectorOp(first, undef, mask, vt)))


@lowers(vector.FMAOp)
def _fma(conv: FunctionConverter, op: vector.FMAOp) -> None:
    conv.set(op.res, conv.emit(llvm.FMAOp(conv.get(op.lhs), conv.get(op.rhs), conv.get(op.acc))))
