"""Shape ops: broadcast_to, transpose, slice, dynamic_slice and gather read their input at
another index (so they fuse like elementwise ops); reshape is a view of its input's buffer;
concat writes each input into its part of the result; dynamic_update_slice writes its update
into its input's buffer when the input dies there, else into a copy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects import arith, memref, tensor
from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType, TensorType
from xdsl.ir import SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.dims import Dim
from red.lowering.loops.emitter import INDEX, Bound, Emitter
from red.lowering.loops.matmul import flat_view
from red.lowering.loops.rules import lowers, lowers_elementwise
from red.lowering.loops.sizes import is_flat
from red.lowering.loops.values import Buffer, Const, Fused, memref_of

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


@lowers_elementwise(red.BroadcastToOp)
def _broadcast_to(bl: BlockLowering, op: red.BroadcastToOp, idx: list[SSAValue]) -> SSAValue:
    """input[broadcast index]."""
    return bl.operand(op.input, idx, op.result)


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
    if (start := _constant_range(bl, op)) is not None:  # a slice: read at an offset
        return bl.load(op.table, [*idx[:axis], bl.e.add_index(idx[axis], start), *idx[axis + 1 :]])
    raw = bl.load(op.indices, list(idx[axis : axis + rank]))
    n = bl.size(bl.dims(op.table)[axis], op.table)
    row = clamp_index(raw, n, bl.e)
    return bl.load(op.table, [*idx[:axis], row, *idx[axis + rank :]])


def _constant_range(bl: BlockLowering, op: red.GatherOp) -> int | None:
    """The start of the indices of `op` when they are the constant start, start + 1, ...
    inside the table's static dim (a split or slice the frontend wrote as a gather)."""
    lowered = bl.values.get(op.indices)
    if not isinstance(lowered, Const) or lowered.array.ndim != 1 or not lowered.array.size:
        return None
    n = bl.dims(op.table)[op.axis.value.data]
    ids = lowered.array
    start = int(ids[0])
    if (
        not isinstance(n, int)
        or not 0 <= start <= n - ids.size
        or not np.array_equal(ids, np.arange(start, start + ids.size))
    ):
        return None
    return start


def clamp_index(raw: SSAValue, n: Bound, e: Emitter) -> SSAValue:
    """An id as an index: negative ids count from the end (numpy.take); anything still out
    of [0, n) is clamped, so a bad id cannot read out of bounds (the interpreter reports it)."""
    i = e.op(arith.IndexCastOp(raw, INDEX))
    zero = e.index(0)
    top = e.index(n - 1) if isinstance(n, int) else e.op(arith.SubiOp(n, e.index(1)))
    negative = e.op(arith.CmpiOp(i, zero, "slt"))
    i = e.op(arith.SelectOp(negative, e.op(arith.AddiOp(i, e.bound(n))), i))
    i = e.op(arith.SelectOp(e.op(arith.CmpiOp(i, zero, "slt")), zero, i))
    return e.op(arith.SelectOp(e.op(arith.CmpiOp(i, top, "sgt")), top, i))


@lowers(red.ReshapeOp, into_destination=False)
def _reshape(bl: BlockLowering, op: red.ReshapeOp) -> None:
    """A view of the input's buffer (a returned reshape is copied by the driver); the
    buffer lives as long as the view."""
    src = bl.buffer(op.input)
    parent = bl.values[op.input]
    assert isinstance(parent, Buffer)
    typ = memref_of(op.result.type)
    if is_flat(src.type) and is_flat(typ):
        view = src  # the same flat buffer: the sizes are the result's (lowering/loops/sizes.py)
    elif is_flat(typ):
        view = flat_view(src, bl.e)
    else:
        if is_flat(src.type):  # a flat buffer of a static shape: its elements, then the view
            count = MemRefType(typ.get_element_type(), [math.prod(typ.get_shape())])
            src = bl.e.op(memref.CastOp.get(src, count))
        view = reshaped_view(src, typ, bl.e)
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
    offset: Dim = 0
    for v in op.inputs:
        dims = bl.dims(v)

        def body(idx: list[SSAValue], v: SSAValue = v, at: Bound = bl.size(offset)) -> None:
            out = list(idx)
            out[axis] = bl.e.add_index(idx[axis], at)
            bl.store(bl.load(v, idx), dest, out, op.result)

        bl.e.loop_nest(bl.shape(v), body)
        offset = offset + dims[axis]


@lowers(tensor.DimOp)
def _dim(bl: BlockLowering, op: tensor.DimOp) -> None:
    """The size of a dim (an int, or the run-time value of a `?` dim's polynomial)."""
    owner = op.index.owner
    if not (isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr)):
        raise DiagnosticError.at(op, f"'{op.name}' op with a dim that is not a constant")
    size = bl.size(bl.dims(op.source)[owner.value.value.data], op.source)
    bl.fn.scalars[op.result] = bl.e.bound(size)


# region dynamic slices


def offset_starts(
    bl: BlockLowering, offsets: Sequence[SSAValue], dims: Sequence[Dim], sizes: Sequence[Dim]
) -> list[SSAValue]:
    """The start of a block of `sizes` at run-time `offsets` in a tensor of `dims`, as
    indices clamped to [0, dim - size] (XLA's DynamicSlice, as the interpreter does)."""
    e = bl.e
    starts = []
    for v, n, size in zip(offsets, dims, sizes):
        if size == n:
            starts.append(e.index(0))  # the block is the whole axis: the offset is clamped to 0
            continue
        raw = bl.load(v, []) if isinstance(v.type, TensorType) else bl.scalar(v)
        i = raw if isinstance(raw.type, IndexType) else e.op(arith.IndexCastOp(raw, INDEX))
        zero, top = e.index(0), e.bound(bl.size(n - size))
        i = e.op(arith.SelectOp(e.op(arith.CmpiOp(i, zero, "slt")), zero, i))
        starts.append(e.op(arith.SelectOp(e.op(arith.CmpiOp(i, top, "sgt")), top, i)))
    return starts


@lowers_elementwise(red.DynamicSliceOp)
def _dynamic_slice(bl: BlockLowering, op: red.DynamicSliceOp, idx: list[SSAValue]) -> SSAValue:
    """result[i] = input[start + i], start clamped into range (computed where the element
    is read: LLVM hoists it out of the loops)."""
    starts = offset_starts(bl, op.offsets, bl.dims(op.input), op.size_list)
    return bl.load(op.input, [bl.e.add_index(s, i) for s, i in zip(starts, idx)])


@lowers(red.DynamicUpdateSliceOp)
def _dynamic_update_slice(bl: BlockLowering, op: red.DynamicUpdateSliceOp) -> None:
    """The update written at the clamped offsets: into the input's own buffer when the
    input dies here and nothing else holds that buffer (a KV cache row written in place),
    else into a copy of the input."""
    starts = offset_starts(bl, op.offsets, bl.dims(op.input), bl.dims(op.update))
    target = bl.values.get(op.input)
    if (
        isinstance(target, Buffer)
        and bl.can_overwrite(op.input, op)
        and not reads_storage(bl, op.update, target.storage)
    ):
        dest = target.mem
        bl.define(op.result, Buffer(dest, owned=target.owned, root=target.storage))
    else:
        dest = bl.result_buffer(op)
        bl.copy(op.input, dest)
    e = bl.e

    def write(idx: list[SSAValue]) -> None:
        at = [e.add_index(s, i) for s, i in zip(starts, idx)]
        bl.store(bl.load(op.update, idx), dest, at, op.input)

    e.loop_nest(bl.shape(op.update), write)


def reads_storage(bl: BlockLowering, v: SSAValue, storage: SSAValue) -> bool:
    """Whether reading tensor `v` reads the buffer `storage` (directly, through a view, or
    through the operands of a fused op)."""
    match bl.values.get(v):
        case Buffer() as b:
            return b.storage is storage
        case Fused(op=op):
            return any(
                reads_storage(bl, w, storage) for w in op.operands if isinstance(w.type, TensorType)
            )
        case _:
            return False


# endregion dynamic slices
