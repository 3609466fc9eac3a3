"""Converters of the remaining ONNX ops: Identity and Dropout, constants (Constant,
ConstantOfShape, EyeLike, Range: folded when their inputs are constants; of a symbolic
size, built at run time), OneHot, and the static sequences (SplitToSequence,
SequenceConstruct, SequenceAt, SequenceLength, ConcatFromSequence)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import i64

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red.dims import format_dim
from red.frontends.onnx.node import Node, OnnxEmitter, OnnxSequence, converts
from red.frontends.symbolic import SymbolicSizeError, SymInts, ceil_div, is_symbolic


def _with_unit_dim(shape: Sequence[int], axis: int) -> list[int]:
    return [*shape[:axis], 1, *shape[axis:]]


@converts("Identity")
def _identity(n: Node, e: OnnxEmitter) -> list[Any]:
    return [n.required(0)]


@converts("Dropout")
def _dropout(n: Node, e: OnnxEmitter) -> list[Any]:
    """Inference: the identity (and an all-true mask)."""
    x = n.required(0)
    n.attr("seed")
    n.attr("ratio")
    n.attr("is_test")
    n.attr("consumed_inputs")
    training = n.const_input(2, "training_mode")
    if training is not None and bool(training):
        ratio = n.const_input(1, "ratio")
        if ratio is None or float(ratio) != 0.0:
            raise n.unsupported("'Dropout' in training mode is not supported")
    mask = np.ones(e.shape(x), dtype=bool) if n.has_output(1) else None
    return [x, mask]


@converts("Constant")
def _constant(n: Node, e: OnnxEmitter) -> list[Any]:
    """Reached only when the reference evaluator could not fold it."""
    raise n.unsupported("this 'Constant' (e.g. a string or sparse value) is not supported")


@converts("ConstantOfShape")
def _constant_of_shape(n: Node, e: OnnxEmitter) -> list[Any]:
    """A constant; of a symbolic shape, the fill value broadcast to it at run time."""
    dims = list(n.required_dims(0, "shape").reshape(-1))
    value = n.attr("value")
    fill = np.zeros(1, dtype=np.float32) if value is None else value.reshape(-1)
    if all(not is_symbolic(d) for d in dims):
        return [np.full([int(d) for d in dims], fill[0], dtype=fill.dtype)]
    return [e.broadcast_to(np.asarray(fill[0], dtype=fill.dtype), dims)]


@converts("EyeLike")
def _eye_like(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    dtype = n.attr("dtype")
    elt = e.elt(x) if dtype is None else n.element_type(dtype)
    rows, cols = e.shape(x)
    return [np.eye(rows, cols, k=n.attr("k", 0), dtype=numpy_dtype(elt))]


@converts("Range")
def _range(n: Node, e: OnnxEmitter) -> list[Any]:
    """Reached when the length is symbolic (e.g. [0, seq)): start + delta * iota(length),
    with a static delta; a length computed from data is not supported."""
    start, limit, delta = (n.required_dims(i, r).reshape(-1)[0] for i, r in enumerate(_RANGE))
    if is_symbolic(delta) or delta == 0:
        raise SymbolicSizeError(f"'Range' with step {format_dim(delta)} is not supported")
    if delta > 0:
        count = ceil_div(limit - start, delta, "a Range's length")
    else:
        count = ceil_div(start - limit, -delta, "a Range's length")
    first = n.lookup(0)
    elt = e.element_type(first.dtype) if isinstance(first, np.ndarray | SymInts) else i64
    ramp: Any = e.arange(count)
    if delta != 1:
        ramp = e.mul(ramp, np.int64(delta))
    if start != 0:
        ramp = e.add(ramp, e.size_value(start))
    return [e.cast(ramp, elt)]


_RANGE = ("start", "limit", "delta")


@converts("OneHot")
def _one_hot(n: Node, e: OnnxEmitter) -> list[Any]:
    indices, values = n.required(0), n.required(2)
    depth_array = n.required_const(1, "depth")
    depth = int(depth_array.reshape(-1)[0])
    rank = len(e.shape(indices)) + 1
    axis = n.axis(n.attr("axis", -1), rank)
    idx: Any = e.cast(indices, i64)
    if (array := e.const(idx)) is not None:
        idx = np.where(array < 0, array + depth, array)
    else:
        idx = e.select(e.binary(red.LtOp, idx, 0), e.add(idx, depth), idx)
    index_shape = list(e.shape(indices))
    shape = list(index_shape)
    shape.insert(axis, depth)
    expanded = e.reshape(idx, _with_unit_dim(index_shape, axis))
    hot = e.binary(red.EqOp, expanded, e.iota(shape, axis))
    off = e.reshape(e.slice_axis(values, 0, 0, 1), [])
    on = e.reshape(e.slice_axis(values, 0, 1, 2), [])
    return [e.select(hot, on, off)]


@converts("SplitToSequence")
def _split_to_sequence(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    axis = n.axis(n.attr("axis", 0), len(shape))
    keepdims = n.attr("keepdims", 1)
    split = n.const_input(1, "split")
    if split is None:
        sizes = [1] * shape[axis]
    elif split.ndim == 0:
        step = int(split)
        sizes = [min(step, shape[axis] - i) for i in range(0, shape[axis], step)]
    else:
        sizes = [int(s) for s in split]
    items, offset = [], 0
    for s in sizes:
        part = e.slice_axis(x, axis, offset, offset + s)
        if split is None and not keepdims:
            part = e.reshape(part, shape[:axis] + shape[axis + 1 :])
        items.append(part)
        offset += s
    return [OnnxSequence(items)]


@converts("SequenceConstruct")
def _sequence_construct(n: Node, e: OnnxEmitter) -> list[Any]:
    return [OnnxSequence(n.inputs())]


@converts("SequenceAt")
def _sequence_at(n: Node, e: OnnxEmitter) -> list[Any]:
    seq = n.sequence(0)
    position = n.required_const(1, "position")
    i = int(position)
    if not -len(seq.items) <= i < len(seq.items):
        raise n.error(f"'SequenceAt' position {i} is out of range for {len(seq.items)} items")
    return [seq.items[i]]


@converts("SequenceLength")
def _sequence_length(n: Node, e: OnnxEmitter) -> list[Any]:
    seq = n.sequence(0)
    return [np.asarray(len(seq.items), dtype=np.int64)]


@converts("ConcatFromSequence")
def _concat_from_sequence(n: Node, e: OnnxEmitter) -> list[Any]:
    seq = n.sequence(0)
    rank = len(e.shape(seq.items[0]))
    if n.attr("new_axis", 0):
        axis = n.axis(n.attr("axis"), rank + 1)
        items = [e.reshape(v, _with_unit_dim(e.shape(v), axis)) for v in seq.items]
    else:
        axis = n.axis(n.attr("axis"), rank)
        items = list(seq.items)
    return [e.concat(items, axis)]
