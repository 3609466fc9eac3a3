"""Reductions and normalizations: reduce_sum/mean/max and argmax as one loop over the
reduced axes per output element; softmax, layer_norm and rms_norm over trailing axes of f32
as calls of the kernel library's row kernels (vectorised, threaded), else as passes over
each row (the normalized axes) inside a loop nest over the other axes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import arith
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import IntegerType, f32, i1, i64
from xdsl.ir import Attribute, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.dims import product
from red.lowering.loops.emitter import Bound, Emitter, is_float
from red.lowering.loops.kernel_calls import (
    call_kernel,
    kernel_int,
    null_pointer,
    num_threads,
    pointer,
)
from red.lowering.loops.rules import lowers

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

# region reduce

Index = list[SSAValue]


def input_index(
    rank: int, axes: Sequence[int], keeps_dims: bool
) -> Callable[[Index, Index], Index]:
    """`(output index, index along the reduced axes) -> input index` of a reduction of an
    input of `rank` over `axes` (kept as size-1 dims if `keeps_dims`)."""
    kept = [d for d in range(rank) if d not in axes]
    kept_at = kept if keeps_dims else list(range(len(kept)))  # in the output index

    def index(out_idx: Index, reduced_idx: Index) -> Index:
        at = {**{d: out_idx[k] for d, k in zip(kept, kept_at)}, **dict(zip(axes, reduced_idx))}
        return [at[d] for d in range(rank)]

    return index


@lowers(red.ReduceSumOp, red.ReduceMeanOp, red.ReduceMaxOp)
def _reduce(bl: BlockLowering, op: red.ReduceOp) -> None:
    """Per output element, a loop over the reduced axes carrying the sum (max); mean
    divides the sum by the count; on i1 (numpy) sum and max are both `any`."""
    dest = bl.result_buffer(op)
    in_dims = bl.dims(op.input)
    in_shape = bl.shape(op.input)
    axes = op.axis_list
    index = input_index(len(in_shape), axes, op.keeps_dims)
    elt = red.element_type_of(op.input)
    e = bl.e

    def element(out_idx: Index) -> None:
        def step(acc: SSAValue, reduced_idx: Index) -> SSAValue:
            x = bl.load(op.input, index(out_idx, reduced_idx))
            return _combine(op, acc, x, elt, e)

        init = e.scalar(_identity(op, elt), elt)
        total = e.fold_nest([in_shape[a] for a in axes], init, step)
        if isinstance(op, red.ReduceMeanOp):
            count = bl.size(product(in_dims[a] for a in axes), op.input)
            total = e.op(arith.DivfOp(total, count_as(e, count, elt)))
        bl.store(total, dest, out_idx, op.result)

    e.loop_nest(bl.shape(op.result), element)


def count_as(e: Emitter, count: Bound, elt: Attribute) -> SSAValue:
    """An element count as a float of type `elt` (a mean's divisor)."""
    if isinstance(count, int):
        return e.scalar(count, elt)
    return e.op(arith.SIToFPOp(e.op(arith.IndexCastOp(count, i64)), elt))  # type: ignore[arg-type]


def _combine(op: red.ReduceOp, acc: SSAValue, x: SSAValue, elt: Attribute, e: Emitter) -> SSAValue:
    if elt == i1:
        return e.op(arith.OrIOp(acc, x))
    if isinstance(op, red.ReduceMaxOp):
        return e.op(arith.MaximumfOp(acc, x) if is_float(elt) else arith.MaxSIOp(acc, x))
    return e.op(arith.AddfOp(acc, x) if is_float(elt) else arith.AddiOp(acc, x))


def _identity(op: red.ReduceOp, elt: Attribute) -> float | int:
    """The reduction's start: 0, or the lowest value for a max (-inf for floats)."""
    if isinstance(op, red.ReduceMaxOp) and elt != i1:
        if is_float(elt):
            return -math.inf
        width = elt.width.data if isinstance(elt, IntegerType) else 64
        return -(1 << (width - 1))
    return 0.0 if is_float(elt) else 0


@lowers(red.ArgmaxOp)
def _argmax(bl: BlockLowering, op: red.ArgmaxOp) -> None:
    """The first index of the largest element along `axis` (numpy.argmax): a loop from the
    second element carrying the best value and its index, taking x when x > best, or, for
    floats, x ugt best while best is not NaN (so the first NaN wins and stays)."""
    in_shape = bl.shape(op.input)
    axis = op.axis.value.data
    if in_shape[axis] == 0:
        raise DiagnosticError.at(op, f"'{op.name}' op over an empty axis has no result")
    dest = bl.result_buffer(op)
    index = input_index(len(in_shape), [axis], op.keeps_dims)
    elt = red.element_type_of(op.input)
    e = bl.e

    def element(out_idx: Index) -> None:
        def step(i: SSAValue, carried: Index) -> Index:
            best, at = carried
            x = bl.load(op.input, index(out_idx, [i]))
            if is_float(elt):
                ordered = e.op(arith.CmpfOp(best, best, "ord"))
                take = e.op(arith.AndIOp(e.op(arith.CmpfOp(x, best, "ugt")), ordered))
            else:
                take = e.op(arith.CmpiOp(x, best, "sgt"))
            return [e.op(arith.SelectOp(take, x, best)), e.op(arith.SelectOp(take, i, at))]

        first = bl.load(op.input, index(out_idx, [e.index(0)]))
        _, at = e.for_loop(1, in_shape[axis], 1, [first, e.index(0)], step)
        bl.store(e.op(arith.IndexCastOp(at, i64)), dest, out_idx, op.result)

    e.loop_nest(bl.shape(op.result), element)


# endregion reduce

# region normalizations


class RowLoops:
    """The loops of a normalization `op` over `norm_axes` of its input, writing its result
    buffer: `for_each_row` loops over the other axes; inside, `fold` and `each` loop over
    the elements of one row."""

    def __init__(self, bl: BlockLowering, op: red.AxisNormOp, norm_axes: Sequence[int]):
        self.bl, self.e, self.input = bl, bl.e, op.input
        self.elt = red.element_type_of(op.input)
        self.dest = bl.result_buffer(op)
        self.result = op.results[0]
        self.shape = bl.shape(op.input)
        self.norm_axes = list(norm_axes)
        self.outer_axes = [d for d in range(len(self.shape)) if d not in self.norm_axes]
        dims = bl.dims(op.input)
        self.count = bl.size(product(dims[a] for a in self.norm_axes), op.input)

    def for_each_row(self, row: Callable[[Index], None]) -> None:
        self.e.loop_nest([self.shape[a] for a in self.outer_axes], row)

    def index(self, outer: Index, inner: Index) -> Index:
        """The input index of row `outer` at `inner` along the row."""
        at = {**dict(zip(self.outer_axes, outer)), **dict(zip(self.norm_axes, inner))}
        return [at[d] for d in range(len(self.shape))]

    def fold(self, outer: Index, init: SSAValue, step: Callable[[SSAValue, Index], SSAValue]):
        """A value carried along the row: `step(acc, index)` gives the next."""
        row_shape = [self.shape[a] for a in self.norm_axes]
        return self.e.fold_nest(row_shape, init, lambda acc, i: step(acc, self.index(outer, i)))

    def each(self, outer: Index, body: Callable[[Index], None]) -> None:
        """`body(index)` for every element of the row (no carried value: it vectorizes)."""
        row_shape = [self.shape[a] for a in self.norm_axes]
        self.e.loop_nest(row_shape, lambda i: body(self.index(outer, i)))

    def x(self, i: Index) -> SSAValue:
        """The input element at `i`."""
        return self.bl.load(self.input, i)

    def scalar(self, value: float) -> SSAValue:
        return self.e.scalar(value, self.elt)

    def sum(self, outer: Index, term: Callable[[Index], SSAValue]) -> SSAValue:
        """The sum of `term(index)` along the row."""
        return self.fold(outer, self.scalar(0.0), lambda acc, i: self.add(acc, term(i)))

    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.e.op(arith.AddfOp(a, b))

    def mean(self, outer: Index, term: Callable[[Index], SSAValue]) -> SSAValue:
        return self.e.op(
            arith.DivfOp(self.sum(outer, term), count_as(self.e, self.count, self.elt))
        )

    def normalize(
        self, outer: Index, var: SSAValue, eps: float, center: Callable[[SSAValue], SSAValue]
    ) -> None:
        """result = center(x) / sqrt(var + eps) along the row."""
        e = self.e
        denom = e.op(mathd.SqrtOp(e.op(arith.AddfOp(var, self.scalar(eps)))))

        def store(i: Index) -> None:
            q = e.op(arith.DivfOp(center(self.x(i)), denom))
            self.bl.store(q, self.dest, i, self.result)

        self.each(outer, store)


def row_kernel_call(bl: BlockLowering, op: red.AxisNormOp) -> bool:
    """`op` as one call of the library's row kernel over [rows, n] when it normalizes the
    trailing axes of a non-empty f32 tensor (False, and nothing emitted, otherwise)."""
    shape = bl.dims(op.input)
    axes = op.normalized_axes()
    if (
        red.element_type_of(op.input) != f32
        or axes != list(range(len(shape) - len(axes), len(shape)))
        or product(shape) == 0
    ):
        return False
    n = product(shape[len(shape) - len(axes) :])
    row_count = product(shape[: len(shape) - len(axes)])
    x = pointer(bl, bl.buffer(op.input))
    y = pointer(bl, bl.result_buffer(op))
    count, width = kernel_int(bl, row_count), kernel_int(bl, n)
    rows = [count, width, x, width, y, width]
    threads = num_threads(bl, 16 * product(shape))
    if isinstance(op, red.SoftmaxOp):
        call_kernel(bl, "red_softmax_f32", [*rows, threads])
    elif isinstance(op, red.LayerNormOp):
        none = null_pointer(bl)
        eps = op.eps.value.data
        call_kernel(bl, "red_layer_norm_f32", [*rows, eps, none, none, threads])
    else:
        assert isinstance(op, red.RmsNormOp)
        eps = op.eps.value.data
        call_kernel(bl, "red_rms_norm_f32", [*rows, eps, null_pointer(bl), threads])
    return True


@lowers(red.SoftmaxOp)
def _softmax(bl: BlockLowering, op: red.SoftmaxOp) -> None:
    """exp(x - max) / sum along `axis`: a row kernel call, else a max pass, an exp pass into
    the result (exp in a loop of its own, with no carried sum, so it vectorizes), a sum pass
    and a divide pass."""
    if row_kernel_call(bl, op):
        return
    rows = RowLoops(bl, op, [op.axis.value.data])
    e, dest = bl.e, rows.dest

    def row(outer: Index) -> None:
        # maximum (NaN propagates, as in the interpreter), not maxnum: LLVM 20's loop
        # vectorizer (llvmlite 0.50) miscompiles maxnum reductions (f32 rows of 9 to 11 whose
        # first 8 are -inf give -inf) and fails an assertion on some ("VPlan cost model and
        # legacy cost model disagreed": f16 rows of 4, 8 or 16, f64 rows of 6 or 7).
        peak = rows.fold(
            outer, rows.scalar(-math.inf), lambda acc, i: e.op(arith.MaximumfOp(acc, rows.x(i)))
        )

        def store_exp(i: Index) -> None:
            shifted = e.op(arith.SubfOp(rows.x(i), peak))
            bl.store(e.op(mathd.ExpOp(shifted)), dest, i, op.result)

        rows.each(outer, store_exp)
        total = rows.sum(outer, lambda i: bl.load_from(dest, i, op.result))

        def divide(i: Index) -> None:
            q = e.op(arith.DivfOp(bl.load_from(dest, i, op.result), total))
            bl.store(q, dest, i, op.result)

        rows.each(outer, divide)

    rows.for_each_row(row)


def _trailing_axes(op: red.NormOp) -> range:
    return range(op.axis.value.data, len(red.shape_of(op.input)))


@lowers(red.LayerNormOp)
def _layer_norm(bl: BlockLowering, op: red.LayerNormOp) -> None:
    """(x - mean) / sqrt(var + eps) over the axes from `axis` on: a row kernel call, else a
    sum pass, a pass summing squared deviations, and the normalizing pass."""
    if row_kernel_call(bl, op):
        return
    rows = RowLoops(bl, op, _trailing_axes(op))
    e = bl.e

    def row(outer: Index) -> None:
        mean = rows.mean(outer, rows.x)

        def square(i: Index) -> SSAValue:
            c = e.op(arith.SubfOp(rows.x(i), mean))
            return e.op(arith.MulfOp(c, c))

        var = rows.mean(outer, square)
        rows.normalize(outer, var, op.eps.value.data, lambda x: e.op(arith.SubfOp(x, mean)))

    rows.for_each_row(row)


@lowers(red.RmsNormOp)
def _rms_norm(bl: BlockLowering, op: red.RmsNormOp) -> None:
    """x / sqrt(mean(x^2) + eps) over the axes from `axis` on: a row kernel call, else a
    pass summing squares, and the normalizing pass."""
    if row_kernel_call(bl, op):
        return
    rows = RowLoops(bl, op, _trailing_axes(op))
    e = bl.e

    def row(outer: Index) -> None:
        def square(i: Index) -> SSAValue:
            x = rows.x(i)
            return e.op(arith.MulfOp(x, x))

        rows.normalize(outer, rows.mean(outer, square), op.eps.value.data, lambda x: x)

    rows.for_each_row(row)


# endregion normalizations
