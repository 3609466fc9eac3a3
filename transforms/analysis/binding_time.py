"""Binding-time analysis: each value is constant (computable from constants alone),
invariant (from constants and `red.invariant` arguments: weights) or varying."""

from __future__ import annotations

from enum import IntEnum

from xdsl.dialects import func
from xdsl.dialects.arith import ConstantOp as ArithConstantOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import IsTerminator

from red.dialects import red
from red.transforms.analysis.purity import PurityOracle


class BindingTime(IntEnum):
    CONSTANT = 0
    INVARIANT = 1
    VARYING = 2


CONSTANT_OPS = (red.ConstantOp, ArithConstantOp, red.IotaOp)


def is_invariant_argument(fn: func.FuncOp, index: int) -> bool:
    if fn.arg_attrs is None:
        return False
    return red.INVARIANT_ATTR in fn.arg_attrs.data[index].data


class BindingTimes:
    """Binding times of every value of a function (nested regions included)."""

    def __init__(self, fn: func.FuncOp, purity: PurityOracle):
        self.fn = fn
        self.purity = purity
        self.times: dict[SSAValue, BindingTime] = {}
        if fn.body.blocks:
            for i, arg in enumerate(fn.body.block.args):
                self.times[arg] = (
                    BindingTime.INVARIANT if is_invariant_argument(fn, i) else BindingTime.VARYING
                )
            for block in fn.body.blocks:
                self._visit_block(block)

    def of(self, value: SSAValue) -> BindingTime:
        return self.times.get(value, BindingTime.VARYING)

    def _visit_block(self, block: Block) -> None:
        for arg in block.args:  # arguments of non-entry and nested blocks vary
            self.times.setdefault(arg, BindingTime.VARYING)
        for op in block.ops:
            for region in op.regions:
                for b in region.blocks:
                    self._visit_block(b)
            t = self._time(op)
            for r in op.results:
                self.times[r] = t

    def _time(self, op: Operation) -> BindingTime:
        if isinstance(op, CONSTANT_OPS):
            return BindingTime.CONSTANT
        if not self.purity.is_mergeable(op):
            return BindingTime.VARYING
        t = max((self.of(v) for v in op.operands), default=BindingTime.CONSTANT)
        # Values an op's regions use from outside count as operands.
        for nested in op.walk():
            if nested is op:
                continue
            for v in nested.operands:
                if not _defined_inside(v, op):
                    t = max(t, self.of(v))
            if not nested.has_trait(IsTerminator) and not self.purity.is_mergeable(nested):
                return BindingTime.VARYING
        return BindingTime(t)


def _defined_inside(v: SSAValue, op: Operation) -> bool:
    owner = v.owner
    node = owner if isinstance(owner, Operation) else owner.parent_op()
    while node is not None:
        if node is op:
            return True
        node = node.parent_op()
    return False
