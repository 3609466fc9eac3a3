"""Canonicalization patterns for arith that xDSL 0.74 lacks: the IEEE-exact float identities
(x*1, x/1, x-(+0), x+(-0), -(-x)) and x-x -> 0 for integers; the float rewrites wrong under
NaN, Inf or signed zero only on ops whose fast-math flags allow them (`nsz` for x+(+0))."""

from __future__ import annotations

import math

from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IntegerAttr,
    TensorType,
)
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from red.dialects import red


def _scalar(value: SSAValue) -> float | int | None:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, FloatAttr | IntegerAttr):
        return owner.value.value.data
    return None


def _is(value: SSAValue, x: float, negative_zero: bool | None = None) -> bool:
    c = _scalar(value)
    if c is None or c != x:
        return False
    if x == 0 and negative_zero is not None and isinstance(c, float):
        return (math.copysign(1.0, c) < 0) == negative_zero
    return True


FAST = arith.FastMathFlagsAttr("fast")
NO_SIGNED_ZEROS = next(f for f in FAST.data if f.value == "nsz")
"""The flag that allows x + (+0) -> x (it turns -0 into +0)."""


def _forward(rewriter: PatternRewriter, op: Operation, value: SSAValue) -> None:
    rewriter.replace(op, [], [value])


class EraseArithFloatIdentity(RewritePattern):
    """mulf x, 1 -> x; divf x, 1 -> x; subf x, +0 -> x; addf x, -0 -> x (exact); with
    fast-math also addf x, +0 -> x"""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if isinstance(op, arith.MulfOp):
            for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
                if _is(c, 1.0):
                    return _forward(rewriter, op, x)
        elif isinstance(op, arith.DivfOp) and _is(op.rhs, 1.0):
            _forward(rewriter, op, op.lhs)
        elif isinstance(op, arith.SubfOp) and _is(op.rhs, 0.0, negative_zero=False):
            _forward(rewriter, op, op.lhs)
        elif isinstance(op, arith.AddfOp):
            no_signed_zeros = NO_SIGNED_ZEROS in op.fastmath.data
            sign = None if no_signed_zeros else True
            for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
                if _is(c, 0.0, negative_zero=sign):
                    return _forward(rewriter, op, x)


class EraseDoubleNegf(RewritePattern):
    """negf(negf(x)) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.NegfOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.operand.owner, arith.NegfOp):
            _forward(rewriter, op, inner.operand)


class FoldSubiSelf(RewritePattern):
    """subi x, x -> 0"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.SubiOp, rewriter: PatternRewriter, /):
        if op.lhs is op.rhs:
            zero = IntegerAttr(0, op.result.type)  # pyright: ignore[reportCallIssue, reportArgumentType]
            rewriter.replace(op, arith.ConstantOp(zero))


class ConvertArithTensorConstant(RewritePattern):
    """arith.constant dense<...> : tensor<...> -> red.constant (one constant op for tensors)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /):
        if isinstance(op.value, DenseIntOrFPElementsAttr | DenseResourceAttr) and isinstance(
            op.result.type, TensorType
        ):
            rewriter.replace(op, red.ConstantOp(op.value))


def arith_patterns() -> dict[type[Operation], list[RewritePattern]]:
    identity = EraseArithFloatIdentity()
    return {
        arith.ConstantOp: [ConvertArithTensorConstant()],
        arith.MulfOp: [identity],
        arith.DivfOp: [identity],
        arith.SubfOp: [identity],
        arith.AddfOp: [identity],
        arith.NegfOp: [EraseDoubleNegf()],
        arith.SubiOp: [FoldSubiSelf()],
    }
