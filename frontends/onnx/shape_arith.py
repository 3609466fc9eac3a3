"""Evaluators of the ONNX shape arithmetic on sizes: when every input of a node is a constant
or a tensor of sizes (`SymInts`, e.g. the result of Shape on a value with a `seq` dim), the
node's outputs are computed on the Dims themselves, as onnxruntime's symbolic_shape_infer does:

    Shape(x) = [1, seq, 64]  ->  Gather(., 1) = seq  ->  Add(., 1) = seq + 1
    -> Unsqueeze -> Concat([1], .) = [1, seq + 1]  ->  Reshape(y, .)   (y gets type 1x?)

Covered: Identity, Cast (to an integer type), Add, Sub, Mul, Div, Neg, Abs, Max, Min, the
comparisons (decided from the symbols' bounds, see `red.frontends.symbolic`), Where, Shape and Size
of a size tensor, Gather with constant indices, Slice with constant bounds, Concat, Split,
Unsqueeze, Squeeze, Reshape and Expand to constant shapes, Range of a static length, and
ReduceProd/ReduceSum/ReduceMax/ReduceMin. Anything else returns None: the converter runs and the
sizes become run-time values."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import helper

from red.dialects.red.dims import Dim, Poly, format_dim, product
from red.frontends.onnx.node import Node, evaluates
from red.frontends.symbolic import (
    SymbolicSizeError,
    SymInts,
    as_dims,
    ceil_div,
    decided,
    eq,
    exact_div,
    is_symbolic,
    le,
    lt,
    max_dim,
    min_dim,
    reshape_dims,
    static,
)

Outputs = list[Any] | None


def _dtype(v: Any) -> np.dtype[Any]:
    return v.dtype if isinstance(v, SymInts | np.ndarray) else np.dtype(np.int64)


def _is_integer(v: Any) -> bool:
    return _dtype(v).kind in "iu"


def _elementwise(fn: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    """fn over broadcast object arrays, element by element."""
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    spread = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    out = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=object)
    for i in range(out.size):
        out[i] = fn(*(a[i] for a in spread))
    return out.reshape(shape)


def _const_ints(n: Node, i: int, role: str) -> list[int] | None:
    value = n.const_input(i, role)
    return None if value is None else [int(v) for v in value.reshape(-1)]


# region Arithmetic


@evaluates("Identity")
def _identity(n: Node, values: list[Any]) -> Outputs:
    return [values[0]]


@evaluates("Cast")
def _cast(n: Node, values: list[Any]) -> Outputs:
    to = np.dtype(helper.tensor_dtype_to_np_dtype(n.attr("to")))
    n.attr("saturate")
    n.attr("round_mode")
    if to.kind not in "iu" or not _is_integer(values[0]):
        return None
    return [SymInts(as_dims(values[0]), to)]


def _div(a: Dim, b: Dim) -> Dim:
    if is_symbolic(b):
        try:
            return Poly.of(a) // b
        except ValueError:
            raise SymbolicSizeError(f"{format_dim(a)} / {format_dim(b)} is not exact") from None
    if b == 0:
        return 0  # red's integer division is total
    return exact_div(a, static(b), "an integer Div")


def _abs(a: Dim) -> Dim:
    return a if decided(le(0, a), f"the sign of {format_dim(a)}") else -a


_ARITHMETIC: dict[str, Callable[..., Dim]] = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": _div,
    "Neg": lambda a: -a,
    "Abs": _abs,
}


@evaluates(*_ARITHMETIC)
def _arithmetic(n: Node, values: list[Any]) -> Outputs:
    if not all(_is_integer(v) for v in values):
        return None
    fn = _ARITHMETIC[n.op_type]
    return [SymInts(_elementwise(fn, *(as_dims(v) for v in values)), _dtype(values[0]))]


@evaluates("Max", "Min")
def _max_min(n: Node, values: list[Any]) -> Outputs:
    if not all(_is_integer(v) for v in values if v is not None):
        return None
    fn = max_dim if n.op_type == "Max" else min_dim
    acc = as_dims(values[0])
    for v in values[1:]:
        acc = _elementwise(fn, acc, as_dims(v))
    return [SymInts(acc, _dtype(values[0]))]


def _decide(question: str, answer: Callable[[Dim, Dim], bool | None]) -> Callable[..., bool]:
    def decide(a: Dim, b: Dim) -> bool:
        return decided(answer(a, b), question.format(a=format_dim(a), b=format_dim(b)))

    return decide


_COMPARISONS: dict[str, Callable[..., bool]] = {
    "Equal": _decide("whether {a} == {b}", eq),
    "Less": _decide("whether {a} < {b}", lt),
    "LessOrEqual": _decide("whether {a} <= {b}", le),
    "Greater": _decide("whether {a} > {b}", lambda a, b: lt(b, a)),
    "GreaterOrEqual": _decide("whether {a} >= {b}", lambda a, b: le(b, a)),
}


@evaluates(*_COMPARISONS)
def _compare(n: Node, values: list[Any]) -> Outputs:
    if not all(_is_integer(v) for v in values):
        return None
    answers = _elementwise(_COMPARISONS[n.op_type], *(as_dims(v) for v in values))
    return [answers.astype(np.bool_)]


@evaluates("Where")
def _where(n: Node, values: list[Any]) -> Outputs:
    cond, a, b = values
    if not isinstance(cond, np.ndarray) or not (_is_integer(a) and _is_integer(b)):
        return None
    return [SymInts(np.where(cond, as_dims(a), as_dims(b)), _dtype(a))]


# endregion Arithmetic

# region Shapes of size tensors


@evaluates("Shape")
def _shape(n: Node, values: list[Any]) -> Outputs:
    start, end = n.attr("start", 0), n.attr("end")
    return [np.asarray(np.shape(values[0])[start:end], dtype=np.int64)]


@evaluates("Size")
def _size(n: Node, values: list[Any]) -> Outputs:
    return [np.asarray(int(np.prod(np.shape(values[0]), dtype=np.int64)), dtype=np.int64)]


@evaluates("Gather")
def _gather(n: Node, values: list[Any]) -> Outputs:
    data, indices = values
    if not isinstance(indices, np.ndarray):
        return None
    dims = as_dims(data)
    axis = n.axis(n.attr("axis", 0), dims.ndim)
    return [SymInts(np.take(dims, indices.astype(np.int64), axis=axis), _dtype(data))]


@evaluates("Slice")
def _slice(n: Node, values: list[Any]) -> Outputs:
    if n.opset < 10 or not all(v is None or isinstance(v, np.ndarray) for v in values[1:]):
        return None
    dims = as_dims(values[0])
    starts, ends = _const_ints(n, 1, "starts"), _const_ints(n, 2, "ends")
    if starts is None or ends is None:
        return None
    axes = _const_ints(n, 3, "axes") or list(range(len(starts)))
    steps = _const_ints(n, 4, "steps") or [1] * len(starts)
    index: list[slice] = [slice(None)] * dims.ndim
    for a, s, e, k in zip(axes, starts, ends, steps):
        index[n.axis(a, dims.ndim)] = slice(s, e, k)
    return [SymInts(dims[tuple(index)], _dtype(values[0]))]


@evaluates("Concat")
def _concat(n: Node, values: list[Any]) -> Outputs:
    parts = [as_dims(v) for v in values if v is not None]
    axis = n.axis(n.attr("axis"), parts[0].ndim)
    return [SymInts(np.concatenate(parts, axis=axis), _dtype(values[0]))]


@evaluates("Split")
def _split(n: Node, values: list[Any]) -> Outputs:
    dims = as_dims(values[0])
    axis = n.axis(n.attr("axis", 0), dims.ndim)
    sizes = n.attr("split") or (_const_ints(n, 1, "split") if n.num_inputs > 1 else None)
    count = n.attr("num_outputs") or n.num_outputs
    if sizes is None:
        step = -(-dims.shape[axis] // count)
        sizes = [min(step, dims.shape[axis] - i * step) for i in range(count)]
    bounds = np.cumsum([0, *sizes])
    return [
        SymInts(np.take(dims, range(lo, hi), axis=axis), _dtype(values[0]))
        for lo, hi in itertools.pairwise(bounds)
    ]


def _axes(n: Node, index: int) -> list[int] | None:
    if n.has_attr("axes"):
        return [int(a) for a in n.attr("axes")]
    n.attr("axes")
    return _const_ints(n, index, "axes")


@evaluates("Unsqueeze")
def _unsqueeze(n: Node, values: list[Any]) -> Outputs:
    dims = as_dims(values[0])
    axes = _axes(n, 1)
    if axes is None:
        return None
    rank = dims.ndim + len(axes)
    out = np.expand_dims(dims, sorted(n.axis(a, rank) for a in axes))
    return [SymInts(out, _dtype(values[0]))]


@evaluates("Squeeze")
def _squeeze(n: Node, values: list[Any]) -> Outputs:
    dims = as_dims(values[0])
    axes = _axes(n, 1)
    drop = (
        [d for d, s in enumerate(dims.shape) if s == 1]
        if axes is None
        else [n.axis(a, dims.ndim) for a in axes]
    )
    return [SymInts(np.squeeze(dims, axis=tuple(drop)), _dtype(values[0]))]


@evaluates("Reshape")
def _reshape(n: Node, values: list[Any]) -> Outputs:
    if n.opset < 5 or not isinstance(values[1], np.ndarray):
        return None
    dims = as_dims(values[0])
    spec = [int(v) for v in values[1].reshape(-1)]
    try:
        target = reshape_dims(list(dims.shape), spec, bool(n.attr("allowzero", 0)))
    except ValueError as err:
        raise n.error(f"'Reshape' {err}") from None
    return [SymInts(dims.reshape([int(d) for d in target]), _dtype(values[0]))]  # type: ignore[arg-type]


@evaluates("Expand")
def _expand(n: Node, values: list[Any]) -> Outputs:
    if not isinstance(values[1], np.ndarray):
        return None
    dims = as_dims(values[0])
    shape = np.broadcast_shapes(dims.shape, tuple(int(d) for d in values[1].reshape(-1)))
    return [SymInts(np.broadcast_to(dims, shape).copy(), _dtype(values[0]))]


@evaluates("Range")
def _range(n: Node, values: list[Any]) -> Outputs:
    """A range of a static length (e.g. [seq - 2, seq)) is sizes; one of a symbolic length
    is data (the converter emits it)."""
    if not all(_is_integer(v) for v in values):
        return None
    start, limit, delta = (as_dims(v).reshape(-1)[0] for v in values)
    if is_symbolic(delta) or delta == 0:
        return None
    if delta > 0:
        count = ceil_div(limit - start, delta, "a Range's length")
    else:
        count = ceil_div(start - limit, -delta, "a Range's length")
    if is_symbolic(count):
        return None
    out = np.empty(max(int(count), 0), dtype=object)  # type: ignore[arg-type]
    for i in range(out.size):
        out[i] = start + i * delta
    return [SymInts(out, _dtype(values[0]))]


_REDUCTIONS: dict[str, Callable[[list[Dim]], Dim]] = {
    "ReduceProd": product,
    "ReduceSum": lambda ds: sum(ds, start=0),  # type: ignore[arg-type]
    "ReduceMax": lambda ds: _fold(max_dim, ds),
    "ReduceMin": lambda ds: _fold(min_dim, ds),
}


def _fold(fn: Callable[[Dim, Dim], Dim], dims: list[Dim]) -> Dim:
    acc = dims[0]
    for d in dims[1:]:
        acc = fn(acc, d)
    return acc


@evaluates(*_REDUCTIONS)
def _reduce(n: Node, values: list[Any]) -> Outputs:
    dims = as_dims(values[0])
    if n.opset >= 18 or (n.op_type == "ReduceSum" and n.opset >= 13):
        axes = _const_ints(n, 1, "axes")
        n.attr("axes")
    else:
        axes = n.attr("axes")
    if not axes:
        if n.attr("noop_with_empty_axes", 0):
            return [values[0]]
        axes = list(range(dims.ndim))
    if dims.size == 0:
        return None
    axes = sorted(n.axis(a, dims.ndim) for a in axes)
    keep = bool(n.attr("keepdims", 1))
    moved = np.moveaxis(dims, axes, list(range(dims.ndim - len(axes), dims.ndim)))
    rows = moved.reshape(*moved.shape[: dims.ndim - len(axes)], -1)
    out = np.empty(rows.shape[:-1], dtype=object)
    for index in np.ndindex(*out.shape):
        out[index] = _REDUCTIONS[n.op_type](list(rows[index]))
    if keep:
        out = np.expand_dims(out, axes)
    return [SymInts(out, _dtype(values[0]))]


# endregion Shapes of size tensors
