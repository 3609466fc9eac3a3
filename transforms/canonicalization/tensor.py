"""Canonicalization patterns red adds for `tensor.dim`: a static dim is a constant, and the
size of a `?` dim is read from the operand it comes from (through the op's row facts), so
that a size query does not keep a computation alive (narrow-to-uses can then compute one
row of a value whose length is also asked for)."""

from __future__ import annotations

from xdsl.dialects import arith, tensor
from xdsl.dialects.builtin import IndexType, IntegerAttr, TensorType
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from red.dialects import red


def _index(op: tensor.DimOp) -> int | None:
    owner = op.index.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


class FoldStaticDim(RewritePattern):
    """tensor.dim %x, c where dim c of %x's type is static -> arith.constant"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.DimOp, rewriter: PatternRewriter, /):
        axis = _index(op)
        typ = op.source.type
        if axis is None or not isinstance(typ, TensorType) or not 0 <= axis < len(typ.get_shape()):
            return
        size = typ.get_shape()[axis]
        if size != red.DYNAMIC:
            rewriter.replace(op, arith.ConstantOp(IntegerAttr(size, IndexType())))


class ResolveDimThroughRows(RewritePattern):
    """tensor.dim(op(..., x, ...), a) -> tensor.dim(x, b) when axis a of op's result reads
    axis b of x row by row (same extent); a dim of x's type that is static folds further"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.DimOp, rewriter: PatternRewriter, /):
        axis = _index(op)
        producer = op.source.owner
        if axis is None or not isinstance(producer, red.RedOp) or len(producer.results) != 1:
            return
        sources = producer.row_sources(axis)
        if sources is None:
            return
        for v, s in zip(producer.operands, sources):
            if isinstance(s, int) and isinstance(v.type, TensorType):
                if red.shape_of(v)[s] == 1 and red.shape_of(op.source)[axis] != 1:
                    continue  # a broadcast operand: its size is not the result's
                index = arith.ConstantOp(IntegerAttr(s, IndexType()))
                rewriter.insert(index)
                rewriter.replace(op, tensor.DimOp(v, index))
                return


def tensor_patterns() -> dict[type[Operation], list[RewritePattern]]:
    return {tensor.DimOp: [FoldStaticDim(), ResolveDimThroughRows()]}
