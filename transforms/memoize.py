"""memoize: move weight-only work into red.memo regions, computed once and cached.

Binding-time analysis marks values constant, invariant (from constants and `red.invariant`
arguments) or varying. In each block, the connected groups of constant or invariant ops
(transposes of weights, a tied LM-head transpose, position embeddings, masks too big to
fold, pure calls on weights) whose work exceeds `min-flops` become one red.memo each: its
operands (the invariant values the group reads) are the cache key and the region's block
arguments; constants it reads are cloned inside (red.memo is isolated from above); the
values used outside the group are yielded. Work is FLOPs plus elements written, so a pure
data movement such as a weight transpose counts; a transpose of a constant that only a matmul
reads (as W^T) is left in place: the lowering reads it through strides."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.red import byte_size, element_count
from red.dialects.symbols import is_private
from red.passes.rewriting import report
from red.transforms.analysis.binding_time import (
    CONSTANT_OPS,
    BindingTime,
    BindingTimes,
    is_invariant_argument,
)
from red.transforms.analysis.cost_model import FREE_OPS, CostModel
from red.transforms.analysis.purity import PurityOracle


def _is_candidate(op: Operation, times: BindingTimes, purity: PurityOracle) -> bool:
    if (
        not op.results
        or op.has_trait(IsTerminator)
        or isinstance(op, red.MemoOp)
        or (isinstance(op, CONSTANT_OPS) and not isinstance(op, red.IotaOp))
        or not purity.is_mergeable(op)
    ):
        return False
    if isinstance(op, red.TransposeOp) and op.feeds_matmul_as_strides():
        # A weight read as W^T by a matmul: the lowering reads W through swapped strides,
        # and a constant W stays the registered range the kernel library packs once (a
        # cached copy would be packed again in every call, and hold W's bytes twice).
        return times.of(op.result) != BindingTime.CONSTANT and times.of(op.result) <= (
            BindingTime.INVARIANT
        )
    return all(times.of(r) <= BindingTime.INVARIANT for r in op.results)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Operation, Operation] = {}

    def find(self, x: Operation) -> Operation:
        self.parent.setdefault(x, x)
        while self.parent[x] is not x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Operation, b: Operation) -> None:
        self.parent[self.find(a)] = self.find(b)


def components(block: Block, times: BindingTimes, purity: PurityOracle) -> list[list[Operation]]:
    """Connected groups of memoizable ops of a block, each in block order."""
    members = [op for op in block.ops if _is_candidate(op, times, purity)]
    member_set = set(members)
    uf = _UnionFind()
    for op in members:
        uf.find(op)
        for v in op.operands:
            if isinstance(v.owner, Operation) and v.owner in member_set:
                uf.union(op, v.owner)
    groups: dict[Operation, list[Operation]] = {}
    for op in members:
        groups.setdefault(uf.find(op), []).append(op)
    return list(groups.values())


def work(ops: list[Operation], model: CostModel) -> int:
    total = 0
    for op in ops:
        if isinstance(op, FREE_OPS):
            continue
        total += model.op_cost(op).flops + sum(element_count(r.type) for r in op.results)
    return total


def memoize_group(
    group: list[Operation], model: CostModel, ctx: Context | None = None
) -> red.MemoOp | None:
    """Replace a group of invariant ops by one red.memo; None if it cannot be placed."""
    block = group[0].parent
    assert block is not None
    inside = set(group)
    keys: list[SSAValue] = []
    constants: list[Operation] = []
    for op in group:
        for v in op.operands:
            owner = v.owner
            if isinstance(owner, Operation) and owner in inside:
                continue
            if isinstance(owner, CONSTANT_OPS) and not owner.regions:
                if owner not in constants:
                    constants.append(owner)
                continue
            if not _is_entry_argument(v):
                # Keys are the function's own (weight) arguments: their buffers outlive
                # calls. A computed key (another memo's result, an intermediate) can keep
                # its address while its contents change, and the cache would hit wrongly.
                return None
            if v not in keys:
                keys.append(v)
    outputs = [
        r for op in group for r in op.results if any(u.operation not in inside for u in r.uses)
    ]
    if not outputs:
        return None
    body = Block(arg_types=[k.type for k in keys])
    mapping: dict[SSAValue, SSAValue] = dict(zip(keys, body.args))
    for c in constants:
        clone = c.clone(value_mapper=mapping)
        body.add_op(clone)
        mapping.update(zip(c.results, clone.results))
    for op in group:
        clone = op.clone(value_mapper=mapping)
        body.add_op(clone)
        mapping.update(zip(op.results, clone.results))
    yield_op = red.YieldOp([mapping[r] for r in outputs])
    yield_op.location = group[-1].location
    body.add_op(yield_op)
    memo = red.MemoOp(keys, [r.type for r in outputs], Region(body))
    memo.location = group[0].location
    block.insert_op_before(memo, group[0])
    report(
        ctx,
        "invariant",
        group,
        note=f"{len(group)} ops cached in a red.memo keyed on {len(keys)} values",
    )
    for old, new in zip(outputs, memo.outputs):
        old.replace_all_uses_with(new)
    for op in reversed(group):
        op.detach()
        op.erase(safe_erase=False)
    return memo


def _is_entry_argument(v: SSAValue) -> bool:
    """A `red.invariant` argument of a public function: the only values a memo may key on
    (the verifier's rule; a private function's argument is its caller's temporary)."""
    block = v.owner
    return (
        isinstance(v, BlockArgument)
        and isinstance(block, Block)
        and isinstance(fn := block.parent_op(), func.FuncOp)
        and fn.body.blocks.first is block
        and not is_private(fn)
        and is_invariant_argument(fn, v.index)
    )


def memoize_function(
    fn: func.FuncOp,
    purity: PurityOracle,
    model: CostModel,
    min_flops: int,
    ctx: Context | None = None,
) -> int:
    times = BindingTimes(fn, purity)
    blocks = [b for o in fn.walk() if not _inside_memo(o) for r in o.regions for b in r.blocks]
    made = 0
    for block in blocks:
        for group in components(block, times, purity):
            if _left_to_folding(group, times) or work(group, model) <= min_flops:
                continue
            if memoize_group(group, model, ctx) is not None:
                made += 1
    return made


FOLD_BUDGET = 1 << 20
"""canonicalize's default max-fold-bytes: constant-only groups that small get folded."""


def _left_to_folding(group: list[Operation], times: BindingTimes) -> bool:
    """Constant-only work that canonicalize will fold into constants needs no cache."""
    if any(times.of(r) != BindingTime.CONSTANT for op in group for r in op.results):
        return False
    return sum(byte_size(r.type) for op in group for r in op.results) <= FOLD_BUDGET


def _inside_memo(op: Operation) -> bool:
    node: Operation | None = op
    while node is not None:
        if isinstance(node, red.MemoOp):
            return True
        node = node.parent_op()
    return False


@dataclass(frozen=True)
class MemoizePass(ModulePass):
    """Cache weight-only (invariant) work in red.memo regions; see the module docstring."""

    name = "memoize"

    min_flops: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        purity = PurityOracle(op)
        model = CostModel(op)
        for fn in [o for o in op.body.ops if isinstance(o, func.FuncOp) and o.body.blocks]:
            memoize_function(fn, purity, model, self.min_flops, ctx)
