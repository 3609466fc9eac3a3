"""Converters of the ONNX reductions and normalisations: Reduce*, global pooling, ArgMax/ArgMin
and Hardmax, LpNormalization, Layer/RMS/Batch/InstanceNormalization, Softmax and
LogSoftmax."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import f32, f64
from xdsl.ir import Attribute

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.frontends.onnx.node import Node, OnnxEmitter, converts

_REDUCE_EMPTY = {
    "ReduceSum": 0.0,
    "ReduceMean": math.nan,
    "ReduceMax": -math.inf,
    "ReduceMin": math.inf,
    "ReduceL1": 0.0,
    "ReduceL2": 0.0,
    "ReduceSumSquare": 0.0,
    "ReduceLogSum": -math.inf,
    "ReduceLogSumExp": -math.inf,
}


def _reduce_axes(n: Node, rank: int) -> list[int] | None:
    """The axes a Reduce* node reduces (sorted, non-negative); None for the identity
    (`noop_with_empty_axes` without axes)."""
    if n.opset >= 18 or (n.op_type == "ReduceSum" and n.opset >= 13):
        given = n.const_input(1, "axes")
        n.attr("axes")
        axes = None if given is None else [int(a) for a in given.reshape(-1)]
    else:
        axes = n.attr("axes")
    noop = n.attr("noop_with_empty_axes", 0)
    if not axes:
        if noop:
            return None
        axes = list(range(rank))
    return sorted({n.axis(a, rank) for a in axes})


def _empty_reduction(n: Node, elt: Attribute, out_shape: Sequence[int]) -> np.ndarray:
    """A reduction over a zero-size axis: the op's identity, statically."""
    fill = _REDUCE_EMPTY[n.op_type]
    dtype = numpy_dtype(elt)
    if dtype.kind != "f" and n.op_type in ("ReduceMax", "ReduceMin"):
        info = np.iinfo(dtype)
        fill = info.min if n.op_type == "ReduceMax" else info.max
    return np.full(out_shape, fill, dtype=dtype)


@converts(*_REDUCE_EMPTY)
def _reduce(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    shape = e.shape(x)
    keepdims = bool(n.attr("keepdims", 1))
    axes = _reduce_axes(n, len(shape))
    if axes is None:
        return [x]
    elt = e.elt(x)
    out_shape = red.ReduceOp.reduced_shape(shape, axes, keepdims)
    if any(shape[a] == 0 for a in axes):
        return [_empty_reduction(n, elt, out_shape)]

    def reduce(cls: type[red.ReduceOp], v: Any) -> Any:
        return e.reduce(cls, v, axes, keepdims)

    match n.op_type:
        case "ReduceSum":
            return [reduce(red.ReduceSumOp, x)]
        case "ReduceMean":
            return [reduce(red.ReduceMeanOp, x)]
        case "ReduceMax":
            return [reduce(red.ReduceMaxOp, x)]
        case "ReduceMin":
            return [e.unary(red.NegOp, reduce(red.ReduceMaxOp, e.unary(red.NegOp, x)))]
        case "ReduceL1":
            return [reduce(red.ReduceSumOp, e.unary(red.AbsOp, x))]
        case "ReduceL2":
            squares = reduce(red.ReduceSumOp, e.mul(x, x))
            if not red.is_float_type(elt):
                return [e.cast(e.unary(red.SqrtOp, e.cast(squares, f64)), elt)]
            return [e.unary(red.SqrtOp, squares)]
        case "ReduceSumSquare":
            return [reduce(red.ReduceSumOp, e.mul(x, x))]
        case "ReduceLogSum":
            return [e.unary(red.LogOp, reduce(red.ReduceSumOp, x))]
        case _:  # ReduceLogSumExp, computed stably around the maximum
            m = e.reduce(red.ReduceMaxOp, x, axes, True)
            total = reduce(red.ReduceSumOp, e.unary(red.ExpOp, e.sub(x, m)))
            return [e.add(e.unary(red.LogOp, total), e.reshape(m, out_shape))]


@converts("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    axes = list(range(2, len(e.shape(x))))
    cls = red.ReduceMeanOp if n.op_type == "GlobalAveragePool" else red.ReduceMaxOp
    return [e.reduce(cls, x, axes, True)]


def _arg_extreme(
    e: OnnxEmitter, x: Any, axis: int, keepdims: bool, last: bool, want_max: bool
) -> Any:
    """The index of the first (or last) maximum (or minimum) along `axis`, as i64: compare
    with the extreme, keep the iota where equal, and take the smallest (largest) such index."""
    shape = e.shape(x)
    if want_max:
        extreme = e.reduce(red.ReduceMaxOp, x, [axis], keepdims=True)
    else:
        negated = e.reduce(red.ReduceMaxOp, e.unary(red.NegOp, x), [axis], keepdims=True)
        extreme = e.unary(red.NegOp, negated)
    hit = e.binary(red.EqOp, x, extreme)
    index = e.iota(shape, axis)
    if last:
        found = e.reduce(red.ReduceMaxOp, e.select(hit, index, np.int64(-1)), [axis], keepdims)
        return found
    floor = e.unary(red.NegOp, e.size_value(shape[axis]))  # below every negated index
    candidates = e.select(hit, e.unary(red.NegOp, index), floor)
    return e.unary(red.NegOp, e.reduce(red.ReduceMaxOp, candidates, [axis], keepdims))


@converts("ArgMax", "ArgMin")
def _arg_max_min(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    axis = n.axis(n.attr("axis", 0), len(e.shape(x)))
    keepdims = bool(n.attr("keepdims", 1))
    last = bool(n.attr("select_last_index", 0))
    return [_arg_extreme(e, x, axis, keepdims, last, n.op_type == "ArgMax")]


@converts("Hardmax")
def _hardmax(n: Node, e: OnnxEmitter) -> list[Any]:
    """1 at the first maximum along the axis, else 0 (before opset 13: of the 2-d coercion)."""
    x = n.required(0)
    shape = e.shape(x)
    rank = len(shape)
    axis = n.axis(n.attr("axis", -1 if n.opset >= 13 else 1), rank)
    flat: Any = x
    if n.opset < 13 and axis != rank - 1:
        flat = e.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])
        axis = 1
    first = _arg_extreme(e, flat, axis, True, False, True)
    hot = e.binary(red.EqOp, e.iota(e.shape(flat), axis), first)
    return [e.reshape(e.cast(hot, e.elt(x)), shape)]


@converts("LpNormalization")
def _lp_normalization(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    axis = n.axis(n.attr("axis", -1), len(e.shape(x)))
    p = n.attr("p", 2)
    if p not in (1, 2):
        raise n.unsupported(f"'LpNormalization' with p={p} is not supported")
    if p == 2:
        squares = e.reduce(red.ReduceSumOp, e.mul(x, x), [axis], keepdims=True)
        norm = e.unary(red.SqrtOp, squares)
    else:
        norm = e.reduce(red.ReduceSumOp, e.unary(red.AbsOp, x), [axis], keepdims=True)
    return [e.select(e.binary(red.EqOp, norm, 0.0), 0.0, e.div(x, norm))]


def _param(e: OnnxEmitter, x: Any, rank: int, axis: int) -> Any:
    """A per-channel parameter of shape [C] reshaped to broadcast along `axis` of a rank-r
    tensor: [C, 1, ..., 1]."""
    return e.reshape(x, [e.shape(x)[0]] + [1] * (rank - axis - 1))


@converts("LayerNormalization")
def _layer_norm(n: Node, e: OnnxEmitter) -> list[Any]:
    x, scale, bias = n.required(0), n.input(1), n.input(2)
    rank = len(e.shape(x))
    axis = n.axis(n.attr("axis", -1), rank)
    eps = float(n.attr("epsilon", 1e-5))
    stash = n.attr("stash_type", 1)
    elt = e.elt(x)
    xin: Any = x
    if stash == 1 and elt != f32 and elt != f64:
        xin = e.cast(x, f32)
    y: Any = e.layer_norm(xin, axis, eps)
    y = e.cast(y, elt)
    if scale is not None:
        y = e.mul(y, scale)
    if bias is not None:
        y = e.add(y, bias)
    mean = inv_std = None
    if n.has_output(1) or n.has_output(2):
        axes = list(range(axis, rank))
        m = e.reduce(red.ReduceMeanOp, xin, axes, keepdims=True)
        centered = e.sub(xin, m)
        var = e.reduce(red.ReduceMeanOp, e.mul(centered, centered), axes, keepdims=True)
        mean, inv_std = m, e.unary(red.RsqrtOp, e.add(var, eps))
    return [y, mean, inv_std]


@converts("RMSNormalization")
def _rms_norm(n: Node, e: OnnxEmitter) -> list[Any]:
    x, scale = n.required(0), n.required(1)
    rank = len(e.shape(x))
    axis = n.axis(n.attr("axis", -1), rank)
    eps = float(n.attr("epsilon", 1e-5))
    stash = n.attr("stash_type", 1)
    elt = e.elt(x)
    xin = e.cast(x, f32) if stash == 1 and elt not in (f32, f64) else x
    y = e.cast(e.rms_norm(xin, axis, eps), elt)
    return [e.mul(y, scale)]


@converts("BatchNormalization")
def _batch_norm(n: Node, e: OnnxEmitter) -> list[Any]:
    """Inference mode: (x - mean) / sqrt(var + eps) * scale + bias, per channel (axis 1)."""
    x, scale, bias, mean, var = (n.required(i) for i in range(5))
    eps = float(n.attr("epsilon", 1e-5))
    n.attr("momentum")
    n.attr("consumed_inputs")
    n.attr("is_test")
    if n.attr("training_mode", 0) or (
        n.num_outputs > 1 and any(n.has_output(i) for i in range(1, n.num_outputs))
    ):
        raise n.unsupported("'BatchNormalization' in training mode is not supported")
    if n.attr("spatial", 1) != 1:
        raise n.unsupported("'BatchNormalization' with spatial=0 is not supported")
    rank = len(e.shape(x))
    p = [_param(e, v, rank, 1) for v in (scale, bias, mean, var)]
    normalized = e.div(e.sub(x, p[2]), e.unary(red.SqrtOp, e.add(p[3], eps)))
    return [e.add(e.mul(normalized, p[0]), p[1])]


@converts("InstanceNormalization")
def _instance_norm(n: Node, e: OnnxEmitter) -> list[Any]:
    x, scale, bias = n.required(0), n.required(1), n.required(2)
    eps = float(n.attr("epsilon", 1e-5))
    rank = len(e.shape(x))
    y = e.layer_norm(x, 2, eps)
    return [e.add(e.mul(y, _param(e, scale, rank, 1)), _param(e, bias, rank, 1))]


def _softmax_like(n: Node, e: OnnxEmitter, kind: str) -> Any:
    x = n.required(0)
    shape = e.shape(x)
    rank = len(shape)
    default = -1 if n.opset >= 13 else 1
    axis = n.axis(n.attr("axis", default), max(rank, 1))
    if rank == 0:
        raise n.unsupported(f"'{n.op_type}' of a scalar is not supported")

    def along(v: Any, ax: int) -> Any:
        if kind == "softmax":
            return e.softmax(v, ax)
        m = e.reduce(red.ReduceMaxOp, v, [ax], keepdims=True)
        shifted = e.sub(v, m)
        total = e.reduce(red.ReduceSumOp, e.unary(red.ExpOp, shifted), [ax], keepdims=True)
        return e.sub(shifted, e.unary(red.LogOp, total))

    if n.opset >= 13 or axis == rank - 1:
        return along(x, axis)
    # Before opset 13 the input is coerced to 2-d: [prod(dims < axis), prod(dims >= axis)].
    flat = e.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])
    return e.reshape(along(flat, 1), shape)


@converts("Softmax")
def _softmax(n: Node, e: OnnxEmitter) -> list[Any]:
    return [_softmax_like(n, e, "softmax")]


@converts("LogSoftmax")
def _log_softmax(n: Node, e: OnnxEmitter) -> list[Any]:
    return [_softmax_like(n, e, "log_softmax")]
