"""Dominator trees over SSACFG regions and the "value dominates use" query."""

from __future__ import annotations

from collections.abc import Iterator

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, Region, SSAValue


def successors(block: Block) -> tuple[Block, ...]:
    last = block.last_op
    return tuple(last.successors) if last is not None else ()


class DominatorTree:
    """Immediate dominators of the reachable blocks of a region (Cooper, Harvey, Kennedy:
    "A Simple, Fast Dominance Algorithm"). Unreachable blocks are dominated by every block,
    as in MLIR: nothing in them can be executed."""

    def __init__(self, region: Region):
        self.region = region
        self.rpo: list[Block] = self._reverse_post_order(region)
        self.order = {b: i for i, b in enumerate(self.rpo)}
        self.idom: dict[Block, Block] = {}
        if self.rpo:
            self._compute()
        self._children: dict[Block, list[Block]] | None = None

    @staticmethod
    def _reverse_post_order(region: Region) -> list[Block]:
        entry = region.blocks.first
        if entry is None:
            return []
        seen = {entry}
        post: list[Block] = []
        stack: list[tuple[Block, Iterator[Block]]] = [(entry, iter(successors(entry)))]
        while stack:
            block, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                post.append(block)
            elif nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, iter(successors(nxt))))
        post.reverse()
        return post

    def _compute(self) -> None:
        preds: dict[Block, list[Block]] = {b: [] for b in self.rpo}
        for b in self.rpo:
            for s in successors(b):
                if s in preds:
                    preds[s].append(b)
        entry = self.rpo[0]
        idom: dict[Block, Block] = {entry: entry}
        changed = True
        while changed:
            changed = False
            for b in self.rpo[1:]:
                done = [p for p in preds[b] if p in idom]
                new = done[0]
                for p in done[1:]:
                    new = self._intersect(idom, p, new)
                if idom.get(b) is not new:
                    idom[b] = new
                    changed = True
        self.idom = idom

    def _intersect(self, idom: dict[Block, Block], a: Block, b: Block) -> Block:
        order = self.order
        while a is not b:
            while order[a] > order[b]:
                a = idom[a]
            while order[b] > order[a]:
                b = idom[b]
        return a

    def is_reachable(self, block: Block) -> bool:
        return block in self.order

    def dominates(self, a: Block, b: Block) -> bool:
        """Whether block a dominates block b (reflexive)."""
        if not self.is_reachable(b):
            return True
        if not self.is_reachable(a):
            return False
        entry = self.rpo[0]
        while True:
            if b is a:
                return True
            if b is entry:
                return False
            b = self.idom[b]

    def children(self, block: Block) -> list[Block]:
        """The blocks whose immediate dominator is `block`, in reverse post-order."""
        if self._children is None:
            self._children = {b: [] for b in self.rpo}
            for b in self.rpo[1:]:
                self._children[self.idom[b]].append(b)
        return self._children.get(block, [])


def is_graph_region(region: Region) -> bool:
    """Regions without dominance requirements: the body of a builtin.module."""
    return isinstance(region.parent, ModuleOp)


class DominanceInfo:
    """Answers "does this value dominate this use?" for a whole op tree, computing each
    region's dominator tree and each block's op order once, on demand."""

    def __init__(self) -> None:
        self._trees: dict[Region, DominatorTree] = {}
        self._positions: dict[Block, dict[Operation, int]] = {}

    def tree(self, region: Region) -> DominatorTree:
        if (tree := self._trees.get(region)) is None:
            tree = self._trees[region] = DominatorTree(region)
        return tree

    def position(self, op: Operation) -> int:
        block = op.parent
        assert block is not None
        if (positions := self._positions.get(block)) is None:
            positions = self._positions[block] = {o: i for i, o in enumerate(block.ops)}
        return positions[op]

    def value_dominates(self, value: SSAValue, user: Operation) -> bool:
        """Whether `value` is defined before `user` on every path (or in an enclosing scope)."""
        if isinstance(value, BlockArgument):
            def_block, def_op = value.block, None
        elif isinstance(value, OpResult):
            def_op = value.op
            def_block = def_op.parent
        else:
            return False
        if def_block is None:
            return False
        region = def_block.parent
        # Walk up from the user to its ancestor that sits directly in the defining region.
        anc: Operation | None = user
        while anc is not None and (anc.parent is None or anc.parent.parent is not region):
            anc = anc.parent_op()
        if anc is None or anc.parent is None:
            return False
        if region is None or is_graph_region(region):
            return True
        if anc.parent is def_block:
            if def_op is None:
                return True
            if def_op is anc:  # a region of the defining op uses its own result
                return False
            return self.position(def_op) < self.position(anc)
        return self.tree(region).dominates(def_block, anc.parent)
