"""loop-invariant-code-motion: pure ops of an `scf.for` body whose operands do not change
from one iteration to the next move in front of the loop (MLIR's pass of the same name), so
weight-only and iteration-invariant work (a transposed weight, a constant mask) runs once
per call, and memoize can then cache it across calls. Ops are pure by the purity analysis
(calls to pure functions included); ops of nested loops move out as far as they can, one
loop level per visit, innermost loops first. Like MLIR's, the motion is speculative: a
hoisted op runs even when the loop runs zero times (pure ops have no effect to observe)."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.traits import IsTerminator

from red.transforms.analysis.purity import PurityOracle


def _defined_outside(v: SSAValue, loop: scf.ForOp) -> bool:
    """Whether `v` is defined outside `loop` (so it is the same in every iteration)."""
    owner = v.owner
    node: Operation | None = owner if isinstance(owner, Operation) else owner.parent_op()
    while node is not None:
        if node is loop:
            return False
        node = node.parent_op()
    return True


def _uses_inside(op: Operation) -> list[SSAValue]:
    """Values an op (and its regions) read that are defined outside the op."""
    inner: set[SSAValue] = set()
    for nested in op.walk():
        inner.update(nested.results)
        for region in nested.regions:
            for block in region.blocks:
                inner.update(block.args)
    return [v for nested in op.walk() for v in nested.operands if v not in inner]


def hoist_from(loop: scf.ForOp, purity: PurityOracle) -> int:
    """Move the invariant pure ops of `loop`'s body in front of it; returns how many."""
    moved = 0
    block = loop.body.block
    for op in list(block.ops):
        if op.has_trait(IsTerminator) or not purity.is_mergeable(op):
            continue
        if all(_defined_outside(v, loop) for v in _uses_inside(op)):
            op.detach()
            parent = loop.parent
            assert parent is not None
            parent.insert_op_before(op, loop)
            moved += 1
    return moved


@dataclass(frozen=True)
class LoopInvariantCodeMotionPass(ModulePass):
    """Hoist loop-invariant pure ops out of scf.for loops; see the module docstring."""

    name = "loop-invariant-code-motion"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        purity = PurityOracle(op)
        loops = [o for o in op.walk() if isinstance(o, scf.ForOp)]
        for loop in reversed(loops):  # innermost first: their hoisted ops can move again
            hoist_from(loop, purity)
