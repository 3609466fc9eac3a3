"""Canonicalization patterns of the red dialect that a fold cannot express (they build new
ops): compositions of shape ops and lookups of consecutive rows. Each op registers its own
patterns through `HasCanonicalizationPatternsTrait` (dialects/red/shape.py); identities and
constant folding are the ops' `fold` methods, applied by the greedy driver."""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from red.dialects import red


class FoldTransposeOfTranspose(RewritePattern):
    """transpose(transpose(x, p), q) -> transpose(x, [p[i] for i in q])"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.TransposeOp, rewriter: PatternRewriter, /):
        if not isinstance(inner := op.input.owner, red.TransposeOp):
            return
        p, q = inner.perm, op.perm
        rewriter.replace(op, red.TransposeOp(inner.input, [p[i] for i in q]))


class FoldReshapeOfReshape(RewritePattern):
    """reshape(reshape(x)) -> reshape(x)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.ReshapeOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.input.owner, red.ReshapeOp):
            rewriter.replace(op, red.ReshapeOp(inner.input, red.shape_of(op.result)))


class FoldBroadcastOfBroadcast(RewritePattern):
    """broadcast_to(broadcast_to(x)) -> broadcast_to(x)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.BroadcastToOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.input.owner, red.BroadcastToOp):
            rewriter.replace(op, red.BroadcastToOp(inner.input, red.shape_of(op.result)))


class FoldGatherOfIota(RewritePattern):
    """gather(t, iota(k) = [0, 1, ..., k-1], axis) -> slice(t, [0, k) along axis) (-> t when
    k is t's extent): a lookup of consecutive rows is those rows (e.g. position embeddings)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.GatherOp, rewriter: PatternRewriter, /):
        indices = op.indices.owner
        if not (isinstance(indices, red.IotaOp) and len(red.shape_of(op.indices)) == 1):
            return
        axis = op.axis.value.data
        shape = red.shape_of(op.table)
        k = red.shape_of(op.indices)[0]
        if red.DYNAMIC in (k, shape[axis]) or k > shape[axis]:
            return
        limit = list(shape)
        limit[axis] = k
        if k == shape[axis]:
            rewriter.replace(op, [], [op.table])
        else:
            rewriter.replace(op, red.SliceOp(op.table, [0] * len(shape), limit))


class FoldSliceOfSlice(RewritePattern):
    """slice(slice(x, a, _, s), b, c, t) -> slice(x, a + b·s, a + (c-1)·s + 1, s·t)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SliceOp, rewriter: PatternRewriter, /):
        if not isinstance(inner := op.input.owner, red.SliceOp):
            return
        a, _, s = inner.bounds
        b, c, t = op.bounds
        start: list[int] = []
        limit: list[int] = []
        for ai, bi, ci, si in zip(a, b, c, s):
            if ci > bi:
                start.append(ai + bi * si)
                limit.append(ai + (ci - 1) * si + 1)
            else:  # empty: a + b·s may lie past the end of x, a is in bounds
                start.append(ai)
                limit.append(ai)
        stride = [si * ti for si, ti in zip(s, t)]
        rewriter.replace(op, red.SliceOp(inner.input, start, limit, stride))


class FoldSliceOfConcat(RewritePattern):
    """slice(concat(x0, x1, ...)) along the concat axis with stride 1 -> the part of the one
    input it lies in, or the concat of the inputs it covers exactly; a slice that would need
    several partial slices is left to narrow-to-uses (it would grow the op count)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SliceOp, rewriter: PatternRewriter, /):
        if not isinstance(concat := op.input.owner, red.ConcatOp):
            return
        axis = concat.axis.value.data
        start, limit, stride = op.bounds
        if stride[axis] != 1:
            return
        lo, hi = start[axis], limit[axis]
        pieces: list[tuple[SSAValue, list[int], list[int]]] = []
        offset = 0
        for x in concat.inputs:
            n = red.shape_of(x)[axis]
            if n == red.DYNAMIC:
                return
            a, b = max(lo, offset), min(hi, offset + n)
            if a < b:
                s, l_ = list(start), list(limit)
                s[axis], l_[axis] = a - offset, b - offset
                pieces.append((x, s, l_))
            offset += n
        if not pieces or (len(pieces) == len(concat.inputs) and len(pieces) > 1):
            return  # nothing, or every input: nothing gained
        shape_of = red.shape_of
        partial = [
            (x, s, l_) for x, s, l_ in pieces
            if any(v != 0 for v in s) or tuple(l_) != shape_of(x) or any(t != 1 for t in stride)
        ]  # fmt: skip
        if len(pieces) > 1 and partial:
            return
        if len(pieces) == 1:
            x, s, l_ = pieces[0]
            if partial:
                rewriter.replace(op, red.SliceOp(x, s, l_, list(stride)))
            else:
                rewriter.replace(op, [], [x])
            return
        rewriter.replace(op, red.ConcatOp([x for x, _, _ in pieces], axis))


class UnaryOfRepeatedConcat(RewritePattern):
    """u(concat(x, y, x, ...)) -> concat(u(x), u(y), u(x), ...) for an elementwise unary op
    u, when an input of the concat repeats: u is computed once per distinct input (Llama's
    rotary embedding takes cos and sin of cat(freqs, freqs): half the elements). Only when
    every use of the concat is such an op: once they are rewritten the concat is dead, so
    the rewrite adds no copy (a concat with another use stays, and so does one whose inputs
    are all distinct: the same work in more ops)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.UnaryElementwiseOp, rewriter: PatternRewriter, /):
        concat = op.input.owner
        if not isinstance(concat, red.ConcatOp):
            return
        inputs = list(concat.inputs)
        distinct = list(dict.fromkeys(inputs))
        if len(distinct) == len(inputs):
            return
        if not all(isinstance(use.operation, red.UnaryElementwiseOp) for use in concat.result.uses):
            return
        once = {x: red.rebuilt(op, [x], [x.type]) for x in distinct}
        joined = red.ConcatOp([once[x].results[0] for x in inputs], concat.axis.value.data)
        joined.location = op.location
        rewriter.replace(op, [*once.values(), joined])


class FoldDynamicSliceWithConstantOffsets(RewritePattern):
    """dynamic_slice(x, constant offsets) -> slice(x, clamped offsets)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.DynamicSliceOp, rewriter: PatternRewriter, /):
        offsets = [scalar_constant(v) for v in op.offsets]
        if any(o is None for o in offsets):
            return
        shape = red.shape_of(op.input)
        if red.DYNAMIC in shape:
            return
        starts = red.clamped_starts(offsets, shape, op.size_list)  # type: ignore[arg-type]
        limits = [s + n for s, n in zip(starts, op.size_list)]
        rewriter.replace(op, red.SliceOp(op.input, starts, limits))


def scalar_constant(value: SSAValue) -> int | None:
    """The integer an arith.constant scalar or a 0-d red constant holds, else None."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    array = red.constant_value(value) if red.is_constant(value) else None
    if array is not None and array.ndim == 0:
        return int(array)
    return None
