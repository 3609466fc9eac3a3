"""Converters of the ONNX shape ops: Transpose, Reshape, Flatten, Squeeze/Unsqueeze, Expand,
Tile, Concat, Split, Slice, Gather and GatherElements, Shape and Size, Trilu,
DepthToSpace/SpaceToDepth. Shape operands are compile-time constants or sizes computed from
the inputs' symbols (`Node.dims_input`); a dim of a value may be symbolic, and the emitter
builds what a symbolic size needs (`red.frontends.sizes`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import i64

from red.dialects import red
from red.dialects.red.dims import format_dim
from red.frontends.onnx.node import Node, OnnxEmitter, converts
from red.frontends.symbolic import (
    SymInts,
    as_dims,
    broadcast_dims,
    ceil_div,
    decided,
    fmt_dims,
    is_symbolic,
    lt,
    min_dim,
    reshape_dims,
    slice_range,
    sym_array,
)


@converts("Transpose")
def _transpose(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    rank = len(e.shape(x))
    perm = n.attr("perm")
    perm = (
        list(reversed(range(rank)))
        if perm is None
        else [n.axis(p, rank, "perm entry") for p in perm]
    )
    if sorted(perm) != list(range(rank)):
        raise n.error(f"'Transpose' perm {perm} is not a permutation of 0..{rank - 1}")
    return [e.transpose(x, perm)]


@converts("Reshape")
def _reshape(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    if n.opset < 5:
        spec = list(n.attr("shape"))
        n.attr("consumed_inputs")
    else:
        spec = list(n.required_dims(1, "shape").reshape(-1))
    allowzero = bool(n.attr("allowzero", 0))
    try:
        target = reshape_dims(e.shape(x), spec, allowzero)
    except ValueError as err:
        raise n.error(f"'Reshape' {err}") from None
    return [e.reshape(x, target)]


@converts("Flatten")
def _flatten(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    axis = n.attr("axis", 1)
    if not -len(shape) <= axis <= len(shape):
        raise n.error(f"'Flatten' axis {axis} is out of range for rank {len(shape)}")
    axis = axis + len(shape) if axis < 0 else axis
    return [e.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])]


def _axes_operand(n: Node, index: int) -> list[int] | None:
    """Axes given as an attribute (older opsets) or as a constant input (newer)."""
    if n.has_attr("axes"):
        return [int(a) for a in n.attr("axes")]
    n.attr("axes")
    axes = n.const_input(index, "axes")
    return None if axes is None else [int(a) for a in axes.reshape(-1)]


@converts("Squeeze")
def _squeeze(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    axes = _axes_operand(n, 1)
    if axes is None:
        drop = {d for d, s in enumerate(shape) if s == 1}
    else:
        drop = {n.axis(a, len(shape)) for a in axes}
        for d in sorted(drop):
            if shape[d] != 1:
                raise n.error(f"'Squeeze' axis {d} has size {shape[d]}, expected 1")
    return [e.reshape(x, [s for d, s in enumerate(shape) if d not in drop])]


@converts("Unsqueeze")
def _unsqueeze(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    axes = _axes_operand(n, 1)
    if axes is None:
        raise n.error("'Unsqueeze' needs axes")
    rank = len(e.shape(x)) + len(axes)
    norm = sorted(n.axis(a, rank) for a in axes)
    if len(set(norm)) != len(norm):
        raise n.error(f"'Unsqueeze' axes {axes} repeat an axis")
    shape = list(e.shape(x))
    for a in norm:
        shape.insert(a, 1)
    return [e.reshape(x, shape)]


@converts("Expand")
def _expand(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    spec = list(n.required_dims(1, "shape").reshape(-1))
    try:
        out = broadcast_dims(e.shape(x), spec)
    except ValueError:
        raise n.error(
            f"'Expand' shape [{fmt_dims(spec)}] does not broadcast with {fmt_dims(e.shape(x))}"
        ) from None
    return [e.broadcast_to(x, out)]


@converts("Tile")
def _tile(n: Node, e: OnnxEmitter) -> list[Any]:
    """x tiled r times along each dim: broadcast [1, d] pairs to [r, d], then merge them."""
    x = n.required(0)
    repeats = n.required_const(1, "repeats")
    shape = e.shape(x)
    reps = [int(r) for r in repeats.reshape(-1)]
    if len(reps) != len(shape):
        raise n.error(f"'Tile' has {len(reps)} repeats for rank {len(shape)}")
    paired = [v for d in shape for v in (1, d)]
    target = [v for r, d in zip(reps, shape) for v in (r, d)]
    y = e.broadcast_to(e.reshape(x, paired), target)
    return [e.reshape(y, [r * d for r, d in zip(reps, shape)])]


@converts("Concat")
def _concat(n: Node, e: OnnxEmitter) -> list[Any]:
    xs = n.inputs()
    axis = n.attr("axis", 1 if n.opset < 4 else None)
    if axis is None:
        raise n.error("'Concat' is missing its 'axis' attribute")
    axis = n.axis(axis, len(e.shape(xs[0])))
    kept = [x for x in xs if e.shape(x)[axis] != 0] or xs[:1]
    return [e.concat(kept, axis)]


@converts("Split")
def _split(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    axis = n.axis(n.attr("axis", 0), len(shape))
    count = n.num_outputs
    sizes = n.attr("split")
    if sizes is None and n.opset >= 13:
        given = n.dims_input(1, "split")
        sizes = None if given is None else list(given.reshape(-1))
    num_outputs = n.attr("num_outputs")
    if sizes is None:
        parts = num_outputs or count
        step = ceil_div(shape[axis], parts, f"'Split' of dimension {axis} into {parts}")
        sizes = [min_dim(step, shape[axis] - i * step) for i in range(parts)]
    if sum(sizes, start=0) != shape[axis] or len(sizes) != count:
        raise n.error(
            f"'Split' sizes [{fmt_dims(sizes)}] do not split dimension {axis} of size "
            f"{fmt_dims([shape[axis]])} into {count} outputs"
        )
    outs, offset = [], 0
    for s in sizes:
        outs.append(e.slice_axis(x, axis, offset, offset + s))
        offset += s
    return outs


@converts("Slice")
def _slice(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    rank = len(shape)
    if n.opset < 10:
        starts, ends = list(n.attr("starts")), list(n.attr("ends"))
        axes = n.attr("axes")
        steps = None
    else:
        starts_a, ends_a = n.dims_input(1, "starts"), n.dims_input(2, "ends")
        if starts_a is None or ends_a is None:
            raise n.error("'Slice' is missing its 'starts' or 'ends' input")
        starts, ends = list(starts_a.reshape(-1)), list(ends_a.reshape(-1))
        axes_a, steps_a = n.const_input(3, "axes"), n.const_input(4, "steps")
        axes = None if axes_a is None else axes_a.tolist()
        steps = None if steps_a is None else steps_a.tolist()
    axes = list(range(len(starts))) if axes is None else [n.axis(a, rank) for a in axes]
    steps = [1] * len(starts) if steps is None else [int(k) for k in steps]
    if not e.is_dynamic(x) and not any(is_symbolic(d) for d in (*starts, *ends)):
        return [_static_slice(n, e, x, axes, starts, ends, steps)]
    y: Any = x
    for a, start, end, k in zip(axes, starts, ends, steps):
        if k == 0:
            raise n.error("'Slice' step 0 is invalid")
        lo, count = slice_range(shape[a], start, end, k)
        if (lo, count, k) != (0, shape[a], 1):
            y = e.cut(y, a, lo, count, k)
    return [y]


def _slice_bounds(dim: int, start: int, end: int, step: int) -> range:
    """The indices ONNX Slice takes along one dim (numpy's clamping, as the spec says)."""
    lo, hi, st = slice(start, end, step).indices(dim)
    return range(lo, hi, st)


def _static_slice(
    n: Node,
    e: OnnxEmitter,
    x: Any,
    axes: Sequence[int],
    starts: Sequence[Any],
    ends: Sequence[Any],
    steps: Sequence[int],
) -> Any:
    shape = [int(d) for d in e.shape(x)]
    rank = len(shape)
    lo, hi, st = [0] * rank, list(shape), [1] * rank
    reversed_axes: list[tuple[int, range]] = []
    for a, start, end, k in zip(axes, starts, ends, steps):
        if k == 0:
            raise n.error("'Slice' step 0 is invalid")
        r = _slice_bounds(shape[a], int(start), int(end), int(k))
        if k > 0:
            lo[a], hi[a], st[a] = r.start, max(r.start, r.stop), k
            if len(r) == 0:
                lo[a] = hi[a] = min(r.start, shape[a])
        else:
            reversed_axes.append((a, r))
    y: Any = e.slice(x, lo, hi, st)
    for a, r in reversed_axes:
        # A negative step is a gather of the indices it visits (constant indices).
        y = e.gather(y, np.asarray(list(r), dtype=np.int64), a)
    return y


@converts("Gather")
def _gather(n: Node, e: OnnxEmitter) -> list[Any]:
    """A gather; a single index known at import time (a constant, or a size such as
    `seq - 1`) along a symbolic dim is a one-row slice (red.dynamic_slice at that row)."""
    data = n.required(0)
    axis = n.axis(n.attr("axis", 0), len(e.shape(data)))
    size = e.shape(data)[axis]
    known = n.lookup(1)
    if isinstance(known, SymInts) or (isinstance(known, np.ndarray) and is_symbolic(size)):
        rows = as_dims(known)
        if rows.size == 1:
            row = rows.reshape(-1)[0]
            if decided(lt(row, 0), f"whether index {format_dim(row)} < 0"):
                row = row + size
            part = e.cut(data, axis, row, 1)
            shape = list(e.shape(part))
            return [e.reshape(part, [*shape[:axis], *rows.shape, *shape[axis + 1 :]])]
    indices = n.required(1)
    idx: Any = indices
    if isinstance(indices, np.ndarray) and not is_symbolic(size):
        array = indices.astype(np.int64)
        if array.size and (array.min() < -size or array.max() >= size):
            raise n.error(f"'Gather' index out of range [-{size}, {size}) along axis {axis}")
        idx = np.where(array < 0, array + size, array)
    elif isinstance(indices, np.ndarray) and (indices < 0).any():
        wrapped = e.add(indices.astype(np.int64), e.size_value(size))
        idx = e.select(indices < 0, wrapped, indices.astype(np.int64))
    return [e.gather(data, idx, axis)]


@converts("GatherElements")
def _gather_elements(n: Node, e: OnnxEmitter) -> list[Any]:
    """out[i] = data[i with i[axis] = indices[i]]: a gather from the flattened data at
    sum_d coordinate_d * stride_d (negative indices wrap)."""
    data, indices = n.required(0), n.required(1)
    shape, index_shape = e.shape(data), e.shape(indices)
    rank = len(shape)
    axis = n.axis(n.attr("axis", 0), rank)
    idx: Any = e.cast(indices, i64)
    if (array := e.const(idx)) is not None:
        idx = np.where(array < 0, array + shape[axis], array)
    else:
        idx = e.select(e.binary(red.LtOp, idx, 0), e.add(idx, shape[axis]), idx)
    strides = [math.prod(shape[d + 1 :]) for d in range(rank)]
    flat: Any = e.mul(idx, np.int64(strides[axis]))
    for d in range(rank):
        if d != axis and index_shape[d] > 1:
            flat = e.add(flat, e.mul(e.iota(index_shape, d), np.int64(strides[d])))
    table = e.reshape(data, [math.prod(shape)])
    return [e.gather(table, flat, 0)]


@converts("Shape")
def _shape_op(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    start, end = n.attr("start", 0), n.attr("end")
    return [sym_array(shape[start:end])]


@converts("Size")
def _size(n: Node, e: OnnxEmitter) -> list[Any]:
    return [sym_array(math.prod(e.shape(n.required(0))))]


@converts("Trilu")
def _trilu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    k = n.const_input(1, "k")
    k = 0 if k is None else int(k)
    shape = e.shape(x)
    rows, cols = shape[-2], shape[-1]
    upper = n.attr("upper", 1)
    if not is_symbolic(rows) and not is_symbolic(cols):
        ones = np.ones((int(rows), int(cols)), dtype=bool)
        mask: Any = np.triu(ones, k) if upper else np.tril(ones, k)
    else:  # column - row >= k (upper) or <= k (lower), from run-time iotas
        offset = e.sub(e.iota([1, cols], 1), e.iota([rows, 1], 0))
        mask = e.binary(red.GeOp if upper else red.LeOp, offset, np.int64(k))
    return [e.select(mask, x, e.scalar(0, x))]


@converts("DepthToSpace", "SpaceToDepth")
def _depth_space(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    b = n.attr("blocksize")
    batch, c, h, w = e.shape(x)
    mode = n.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise n.error(f"'{n.op_type}' mode '{mode}' is invalid")
    if n.op_type == "SpaceToDepth":
        y = e.reshape(x, [batch, c, h // b, b, w // b, b])
        y = e.transpose(y, [0, 3, 5, 1, 2, 4] if mode == "DCR" else [0, 1, 3, 5, 2, 4])
        return [e.reshape(y, [batch, c * b * b, h // b, w // b])]
    if mode == "DCR":
        y = e.reshape(x, [batch, b, b, c // (b * b), h, w])
        y = e.transpose(y, [0, 3, 4, 1, 5, 2])
    else:
        y = e.reshape(x, [batch, c // (b * b), b, b, h, w])
        y = e.transpose(y, [0, 1, 4, 2, 5, 3])
    return [e.reshape(y, [batch, c // (b * b), h * b, w * b])]
