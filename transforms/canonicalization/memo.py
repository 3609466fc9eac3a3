"""Canonicalization patterns of red.memo: a cached value that is a constant or a key needs
no cache, unused results and unused keys go (fewer keys, fewer recomputations)."""

from __future__ import annotations

from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from red.dialects import red
from red.transforms.analysis.binding_time import CONSTANT_OPS


def _yielded(memo: red.MemoOp) -> list[SSAValue]:
    term = memo.body.block.last_op
    assert isinstance(term, red.YieldOp)
    return list(term.values)


class ForwardMemoConstantsAndKeys(RewritePattern):
    """memo yielding a key k_i -> uses read the operand k_i; memo yielding a constant ->
    uses read a copy of the constant outside"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MemoOp, rewriter: PatternRewriter, /):
        for result, value in zip(op.outputs, _yielded(op)):
            if not result.uses:
                continue
            if isinstance(value, BlockArgument) and value.block is op.body.block:
                rewriter.replace_all_uses_with(result, op.keys[value.index])
            elif isinstance(owner := value.owner, CONSTANT_OPS) and not owner.operands:
                clone = owner.clone()
                rewriter.insert(clone)
                rewriter.replace_all_uses_with(result, clone.results[0])


class EraseUnusedMemoResultsAndKeys(RewritePattern):
    """memo with unused results or keys -> memo without them"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MemoOp, rewriter: PatternRewriter, /):
        block = op.body.block
        keep_out = [i for i, r in enumerate(op.outputs) if r.uses]
        keep_in = [i for i, a in enumerate(block.args) if a.uses]
        if not keep_out or (len(keep_out) == len(op.outputs) and len(keep_in) == len(block.args)):
            return  # no result used: dce erases the whole memo
        yielded = _yielded(op)
        new_block = Block(arg_types=[block.args[i].type for i in keep_in])
        mapping: dict[SSAValue, SSAValue] = {
            block.args[i]: new_block.args[j] for j, i in enumerate(keep_in)
        }
        for inner in block.ops:
            if isinstance(inner, red.YieldOp):
                continue
            clone = inner.clone(value_mapper=mapping)
            new_block.add_op(clone)
            mapping.update(zip(inner.results, clone.results))
        new_block.add_op(red.YieldOp([mapping.get(yielded[i], yielded[i]) for i in keep_out]))
        new = red.MemoOp(
            [op.keys[i] for i in keep_in], [op.outputs[i].type for i in keep_out], Region(new_block)
        )
        results: list[SSAValue | None] = [None] * len(op.outputs)
        for j, i in enumerate(keep_out):
            results[i] = new.outputs[j]
        rewriter.replace(op, new, results)


def memo_patterns() -> dict[type[Operation], list[RewritePattern]]:
    return {red.MemoOp: [ForwardMemoConstantsAndKeys(), EraseUnusedMemoResultsAndKeys()]}
