"""Converters of the ONNX shape ops: Transpose, Reshape, Flatten, Squeeze/Unsqueeze, Expand,
Tile, Concat, Split, Slice, Gather and GatherElements, Shape and Size, Trilu,
DepthToSpace/SpaceToDepth. Shape operands must be compile-time constants."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import i64

from red.dialects import red
from red.frontends.onnx.node import Node, OnnxEmitter, converts


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


def _reshape_target(
    n: Node, in_shape: Sequence[int], spec: Sequence[int], allowzero: bool
) -> list[int]:
    """ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred."""
    out = [int(d) for d in spec]
    for i, d in enumerate(out):
        if d == 0 and not allowzero:
            if i >= len(in_shape):
                raise n.error(
                    f"'Reshape' shape {list(spec)} copies dimension {i}, past input rank "
                    f"{len(in_shape)}"
                )
            out[i] = in_shape[i]
    if out.count(-1) > 1:
        raise n.error(f"'Reshape' shape {list(spec)} has more than one -1")
    total = math.prod(in_shape)
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise n.error(
                f"'Reshape' cannot infer the -1 in {list(spec)} for input shape {list(in_shape)}"
            )
        out[out.index(-1)] = total // known
    if any(d < 0 for d in out) or math.prod(out) != total:
        raise n.error(f"'Reshape' to {list(spec)} does not fit input shape {list(in_shape)}")
    return out


@converts("Reshape")
def _reshape(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    if n.opset < 5:
        spec = n.attr("shape")
        n.attr("consumed_inputs")
    else:
        spec = n.required_const(1, "shape").tolist()
    allowzero = bool(n.attr("allowzero", 0))
    return [e.reshape(x, _reshape_target(n, e.shape(x), spec, allowzero))]


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
    spec = n.required_const(1, "shape")
    out = red.broadcast_shapes(e.shape(x), [int(d) for d in spec.reshape(-1)])
    if out is None:
        raise n.error(f"'Expand' shape {spec.tolist()} does not broadcast with {list(e.shape(x))}")
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
        given = n.const_input(1, "split")
        sizes = None if given is None else [int(s) for s in given]
    num_outputs = n.attr("num_outputs")
    if sizes is None:
        parts = num_outputs or count
        step = -(-shape[axis] // parts)
        sizes = [min(step, shape[axis] - i * step) for i in range(parts)]
    if sum(sizes) != shape[axis] or len(sizes) != count:
        raise n.error(
            f"'Split' sizes {sizes} do not split dimension {axis} of size {shape[axis]} "
            f"into {count} outputs"
        )
    outs, offset = [], 0
    for s in sizes:
        outs.append(e.slice_axis(x, axis, offset, offset + s))
        offset += s
    return outs


def _slice_bounds(dim: int, start: int, end: int, step: int) -> range:
    """The indices ONNX Slice takes along one dim (numpy's clamping, as the spec says)."""
    lo, hi, st = slice(start, end, step).indices(dim)
    return range(lo, hi, st)


@converts("Slice")
def _slice(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    rank = len(shape)
    if n.opset < 10:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes = n.attr("axes")
        steps = None
    else:
        starts_a, ends_a = n.const_input(1, "starts"), n.const_input(2, "ends")
        if starts_a is None or ends_a is None:
            raise n.error("'Slice' is missing its 'starts' or 'ends' input")
        starts, ends = starts_a.tolist(), ends_a.tolist()
        axes_a, steps_a = n.const_input(3, "axes"), n.const_input(4, "steps")
        axes = None if axes_a is None else axes_a.tolist()
        steps = None if steps_a is None else steps_a.tolist()
    axes = list(range(len(starts))) if axes is None else [n.axis(a, rank) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
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
    return [y]


@converts("Gather")
def _gather(n: Node, e: OnnxEmitter) -> list[Any]:
    data, indices = n.required(0), n.required(1)
    axis = n.axis(n.attr("axis", 0), len(e.shape(data)))
    idx: Any = indices
    if isinstance(indices, np.ndarray):
        size = e.shape(data)[axis]
        array = indices.astype(np.int64)
        if array.size and (array.min() < -size or array.max() >= size):
            raise n.error(f"'Gather' index out of range [-{size}, {size}) along axis {axis}")
        idx = np.where(array < 0, array + size, array)
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
    return [np.asarray(shape[start:end], dtype=np.int64)]


@converts("Size")
def _size(n: Node, e: OnnxEmitter) -> list[Any]:
    return [np.asarray(math.prod(e.shape(n.required(0))), dtype=np.int64)]


@converts("Trilu")
def _trilu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    k = n.const_input(1, "k")
    k = 0 if k is None else int(k)
    shape = e.shape(x)
    rows, cols = shape[-2], shape[-1]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if n.attr("upper", 1) else np.tril(ones, k)
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
