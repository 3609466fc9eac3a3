"""Converters of the ONNX ops that address elements by index tuples: GatherND, ScatterND and
ScatterElements (Scatter). red has `red.gather` (numpy.take) but no scatter, so:

- GatherND is a gather from the data with its indexed leading axes flattened into one, at
  the flattened index sum_j index_j * stride_j (plus the batch position with batch_dims).
- ScatterND and ScatterElements flatten the same way to "write (or combine) row r of a
  table", and then, by what is known at import time:
  - constant indices: per round of distinct rows, a gather of the updates into place and a
    select (one round for reduction 'none', where the last write wins; more when a row is
    combined several times); rows written in order as one contiguous run are a concat;
  - one run-time index tuple: red.dynamic_update_slice (after red.dynamic_slice and the
    reduction when there is one);
  - a few run-time index tuples (at most MAX_RUNTIME_UPDATES): one select per update, in
    index order, on the rows equal to its index;
  - more run-time index tuples are unsupported: that needs a scatter op in the dialect.
Negative indices count from the end; out-of-range indices are an error at run time in the
gather (and clamped by red.dynamic_update_slice)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import i64

from red.dialects import red
from red.dialects.red.dims import Dim
from red.frontends.emitter import Value
from red.frontends.onnx.node import Node, OnnxEmitter, converts
from red.frontends.symbolic import is_symbolic

MAX_RUNTIME_UPDATES = 64
"""The most run-time index tuples a scatter is imported for (one select each)."""

_REDUCTIONS: dict[str, type[red.BinaryElementwiseOp] | None] = {
    "none": None,
    "add": red.AddOp,
    "mul": red.MulOp,
    "max": red.MaxOp,
    "min": red.MinOp,
}


# region Flattened indices


def _wrapped(e: OnnxEmitter, index: Any, size: Dim) -> Value:
    """Indices in [-size, size) as [0, size)."""
    if (array := e.const(index)) is not None and not is_symbolic(size):
        return np.where(array < 0, array + size, array)
    return e.select(e.binary(red.LtOp, index, 0), e.add(index, e.size_value(size)), index)


def _flat_rows(e: OnnxEmitter, tuples: Any, dims: Sequence[Dim]) -> Value:
    """The row-major position of each index tuple of `tuples` [..., k] in a tensor whose
    leading axes are `dims` (k of them): [...] int64 (a constant when the tuples are)."""
    shape = e.shape(tuples)
    last = len(shape) - 1
    flat: Any = None
    for j in range(shape[-1]):
        column = _wrapped(e, e.take(tuples, last, j), dims[j])
        term = e.mul(column, e.size_value(math.prod(dims[j + 1 :])))
        flat = term if flat is None else e.add(flat, term)
    return flat if flat is not None else np.zeros(shape[:-1], dtype=np.int64)


def _index_tuples(n: Node, e: OnnxEmitter, indices: Any, dims: Sequence[Dim]) -> Any:
    """indices [..., k] as int64, k checked against the data's rank."""
    shape = e.shape(indices)
    if not shape or is_symbolic(shape[-1]) or shape[-1] > len(dims):
        raise n.error(
            f"'{n.op_type}' indices of shape {list(shape)} do not index data of rank {len(dims)}"
        )
    return e.cast(indices, i64)


# endregion Flattened indices


@converts("GatherND")
def _gather_nd(n: Node, e: OnnxEmitter) -> list[Any]:
    """out[b..., i...] = data[b..., indices[b..., i..., :], ...]: a gather from the data with
    axes b .. b+k-1 (and the b batch axes) flattened."""
    data, indices = n.required(0), n.required(1)
    b = n.attr("batch_dims", 0)
    shape, index_shape = e.shape(data), e.shape(indices)
    if b < 0 or b >= len(index_shape) or index_shape[:b] != shape[:b]:
        raise n.error(
            f"'GatherND' batch_dims {b} does not fit data {list(shape)} and indices "
            f"{list(index_shape)}"
        )
    tuples = _index_tuples(n, e, indices, shape[b:])
    k = index_shape[-1]
    flat = _flat_rows(e, tuples, shape[b : b + k])
    block = math.prod(shape[b : b + k])
    for d in range(b):  # the batch position, in units of one batch element's rows
        stride = e.size_value(block * math.prod(shape[d + 1 : b]))
        flat = e.add(flat, e.mul(e.iota(index_shape[:-1], d), stride))
    table = e.reshape(data, [math.prod(shape[: b + k]), *shape[b + k :]])
    return [e.gather(table, flat, 0)]


@converts("ScatterND")
def _scatter_nd(n: Node, e: OnnxEmitter) -> list[Any]:
    """data with updates[i...] written to (or combined into) data[indices[i..., :], ...], in
    index order."""
    data, indices, updates = n.required(0), n.required(1), n.required(2)
    shape = e.shape(data)
    index_shape = e.shape(indices)
    tuples = _index_tuples(n, e, indices, shape)
    tuples = e.reshape(tuples, [math.prod(index_shape[:-1]), index_shape[-1]])
    count, k = e.shape(tuples)
    rest = list(shape[k:])
    expected = [*e.shape(indices)[:-1], *rest]
    if list(e.shape(updates)) != expected:
        raise n.error(
            f"'ScatterND' updates have shape {list(e.shape(updates))}, expected {expected}"
        )
    table = e.reshape(data, [math.prod(shape[:k]), *rest])
    rows = _flat_rows(e, tuples, shape[:k])
    out = _scatter_rows(n, e, table, rows, e.reshape(updates, [count, *rest]))
    return [e.reshape(out, shape)]


@converts("ScatterElements", "Scatter")
def _scatter_elements(n: Node, e: OnnxEmitter) -> list[Any]:
    """out[p with p[axis] = indices[p]] = updates[p] for each position p of the indices: a
    scatter of single elements into the flattened data."""
    data, indices, updates = n.required(0), n.required(1), n.required(2)
    shape, index_shape = e.shape(data), e.shape(indices)
    rank = len(shape)
    axis = n.axis(n.attr("axis", 0), rank)
    if e.shape(updates) != index_shape or len(index_shape) != rank:
        raise n.error(
            f"'{n.op_type}' indices {list(index_shape)} and updates {list(e.shape(updates))} "
            f"must have one shape, of the data's rank {rank}"
        )
    coords = np.indices(index_shape, dtype=np.int64)
    flat: Any = np.zeros(index_shape, dtype=np.int64)
    for d in range(rank):
        coord = _wrapped(e, e.cast(indices, i64), shape[d]) if d == axis else coords[d]
        flat = e.add(flat, e.mul(coord, np.int64(math.prod(shape[d + 1 :]))))
    count = math.prod(index_shape)
    table = e.reshape(data, [math.prod(shape)])
    out = _scatter_rows(n, e, table, e.reshape(flat, [count]), e.reshape(updates, [count]))
    return [e.reshape(out, shape)]


# region Writing rows


def _scatter_rows(n: Node, e: OnnxEmitter, table: Any, rows: Any, updates: Any) -> Value:
    """`table` [r, ...] with row rows[i] set to (or combined with) updates[i] [...], for i in
    order (see the module docstring for how, by what is constant)."""
    reduction = n.attr("reduction", "none")
    if reduction not in _REDUCTIONS:
        raise n.error(f"'{n.op_type}' reduction '{reduction}' is invalid")
    cls = _REDUCTIONS[reduction]

    def combine(old: Any, new: Any) -> Value:
        return new if cls is None else e.binary(cls, old, new)

    count = e.shape(rows)[0]
    if count == 0:
        return table
    if (array := e.const(rows)) is not None:
        return _constant_rows(n, e, table, array, updates, combine, cls is None)
    if count == 1:
        return _one_runtime_row(e, table, rows, updates, combine, cls is None)
    if count > MAX_RUNTIME_UPDATES:
        raise n.unsupported(
            f"'{n.op_type}' with {count} run-time index tuples is not supported (at most "
            f"{MAX_RUNTIME_UPDATES}: red has no scatter op)"
        )
    size, rest = e.shape(table)[0], e.shape(table)[1:]
    position = e.iota([size, *[1] * len(rest)], 0)
    out: Any = table
    for i in range(count):
        hit = e.binary(red.EqOp, position, e.take(rows, 0, i))
        out = e.select(hit, combine(out, e.take(updates, 0, i)), out)
    return out


def _constant_rows(
    n: Node,
    e: OnnxEmitter,
    table: Any,
    rows: np.ndarray,
    updates: Any,
    combine: Any,
    last_wins: bool,
) -> Value:
    size, rest = e.shape(table)[0], e.shape(table)[1:]
    if rows.size and (rows.min() < 0 or rows.max() >= size):
        raise n.error(f"'{n.op_type}' index out of range for {size} rows")
    rounds: list[list[int]] = []  # round j: the j-th write of each row, in index order
    if last_wins:
        last = {int(r): i for i, r in enumerate(rows)}
        rounds.append(sorted(last.values()))
    else:
        seen: dict[int, int] = {}
        for i, r in enumerate(rows.tolist()):
            j = seen[r] = seen.get(r, -1) + 1
            if j == len(rounds):
                rounds.append([])
            rounds[j].append(i)
    first = rows[rounds[0]]
    if last_wins and len(rounds[0]) == rows.size and _is_run(first):
        lo, hi = int(first[0]), int(first[-1]) + 1
        parts = [e.slice_axis(table, 0, 0, lo), updates, e.slice_axis(table, 0, hi, size)]
        return e.concat([p for i, p in enumerate(parts) if i == 1 or e.shape(p)[0]], 0)
    out: Any = table
    for chosen in rounds:
        source = np.zeros(size, dtype=np.int64)
        mask = np.zeros([size, *[1] * len(rest)], dtype=bool)
        source[rows[chosen]] = chosen
        mask.reshape(-1)[rows[chosen]] = True
        out = e.select(mask, combine(out, e.gather(updates, source, 0)), out)
    return out


def _is_run(rows: np.ndarray) -> bool:
    """Rows r0, r0 + 1, ... in order."""
    return bool(rows.size) and bool((np.diff(rows) == 1).all())


def _one_runtime_row(
    e: OnnxEmitter, table: Any, rows: Any, updates: Any, combine: Any, last_wins: bool
) -> Value:
    """One row at a run-time position: a dynamic update of the block [1, ...] (combined with
    the block there first, for a reduction)."""
    rest = e.shape(table)[1:]
    zero = e.ssa(np.zeros((), dtype=np.int64))  # (0-d tensor offsets: what the JIT lowers)
    offsets = [e.ssa(e.reshape(rows, [])), *[zero] * len(rest)]
    block = updates
    if not last_wins:
        block = combine(e.dynamic_slice(table, offsets, [1, *rest]), updates)
    return e.dynamic_update_slice(table, block, offsets)


# endregion Writing rows
