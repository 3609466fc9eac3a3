"""Shape ops: broadcast_to, transpose, slice and gather read their input at another index
(so they fuse like elementwise ops); reshape is a view of its input's buffer; concat writes
each input into its part of the result."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import SSAValue

from red.dialects import red
from red.lowering.loops.emitter import INDEX, Emitter
from red.lowering.loops.rules import lowers, lowers_elementwise
from red.lowering.loops.values import Buffer, memref_of

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


@lowers_elementwise(red.BroadcastToOp)
def _broadcast_to(bl: BlockLowering, op: red.BroadcastToOp, idx: list[SSAValue]) -> SSAValue:
    """input[broadcast index]."""
    return bl.operand(op.input, idx)


@lowers_elementwise(red.TransposeOp)
def _transpose(bl: BlockLowering, op: red.TransposeOp, idx: list[SSAValue]) -> SSAValue:
    """result[i] = input[j] with j[perm[d]] = i[d]."""
    src = [idx[0]] * len(idx)
    for d, p in enumerate(op.perm):
        src[p] = idx[d]
    return bl.load(op.input, src)


@lowers_elementwise(red.SliceOp)
def _slice(bl: BlockLowering, op: red.SliceOp, idx: list[SSAValue]) -> SSAValue:
    """result[i] = input[start + i * stride]."""
    start, _, stride = op.bounds
    e = bl.e
    src = [e.add_index(e.mul_index(i, st), s) for i, s, st in zip(idx, start, stride)]
    return bl.load(op.input, src)


@lowers_elementwise(red.GatherOp)
def _gather(bl: BlockLowering, op: red.GatherOp, idx: list[SSAValue]) -> SSAValue:
    """result[..., j, ...] = table[..., indices[j], ...] along `axis` (ids clamped)."""
    axis = op.axis.value.data
    rank = len(red.shape_of(op.indices))
    raw = bl.load(op.indices, list(idx[axis : axis + rank]))
    n = red.shape_of(op.table)[axis]
    row = clamp_index(raw, n, bl.e)
    return bl.load(op.table, [*idx[:axis], row, *idx[axis + rank :]])


def clamp_index(raw: SSAValue, n: int, e: Emitter) -> SSAValue:
    """An id as an index: negative ids count from the end (numpy.take); anything still out
    of [0, n) is clamped, so a bad id cannot read out of bounds (the interpreter reports it)."""
    i = e.op(arith.IndexCastOp(raw, INDEX))
    zero, top = e.index(0), e.index(n - 1)
    negative = e.op(arith.CmpiOp(i, zero, "slt"))
    i = e.op(arith.SelectOp(negative, e.op(arith.AddiOp(i, e.index(n))), i))
    i = e.op(arith.SelectOp(e.op(arith.CmpiOp(i, zero, "slt")), zero, i))
    return e.op(arith.SelectOp(e.op(arith.CmpiOp(i, top, "sgt")), top, i))


@lowers(red.ReshapeOp, into_destination=False)
def _reshape(bl: BlockLowering, op: red.ReshapeOp) -> None:
    """A view of the input's buffer (a returned reshape is copied by the driver); the
    buffer lives as long as the view."""
    src = bl.buffer(op.input)
    parent = bl.values[op.input]
    assert isinstance(parent, Buffer)
    view = reshaped_view(src, memref_of(op.result.type), bl.e)
    bl.define(op.result, Buffer(view, owned=parent.owned, root=parent.storage))


def reshaped_view(src: SSAValue, typ: MemRefType, e: Emitter) -> SSAValue:
    """A view of contiguous buffer `src` with the (row-major) shape of `typ`."""
    shape = list(typ.get_shape())
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    cast = memref.ReinterpretCastOp.from_dynamic(src, [0], shape, strides, typ)  # type: ignore[arg-type]
    return e.op(cast)


@lowers(red.ConcatOp)
def _concat(bl: BlockLowering, op: red.ConcatOp) -> None:
    """Each input copied into the result at its offset along `axis`."""
    dest = bl.result_buffer(op)
    axis = op.axis.value.data
    offset = 0
    for v in op.inputs:
        shape = red.shape_of(v)

        def body(idx: list[SSAValue], v: SSAValue = v, offset: int = offset) -> None:
            out = list(idx)
            out[axis] = bl.e.add_index(idx[axis], offset)
            bl.e.op(memref.StoreOp.get(bl.load(v, idx), dest, out))

        bl.e.loop_nest(shape, body)
        offset += shape[axis]
