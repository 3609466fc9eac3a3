"""The plan of one block for convert-red-to-loops: which elementwise ops are fused into their
consumer's loop nest, and where each value is used for the last time, so that the buffers
that hold it (and the views of them) are freed right after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xdsl.ir import Block, Operation, SSAValue

from red.dialects import red
from red.lowering.loops.values import Buffer, Lowered


@dataclass
class BlockPlan:
    """Fusion decisions and last uses, by position of the ops in the block."""

    position: dict[Operation, int]
    fused: set[Operation]
    dies_at: dict[int, list[SSAValue]]
    """Position -> the values last used there (a use inside an op's regions counts at the op,
    a use by a fused op counts at the op it is fused into)."""
    _planned: set[SSAValue] = field(default_factory=set[SSAValue])

    def note_results(self, op: Operation) -> None:
        """A result nobody uses dies at its own op."""
        here = self.position[op]
        for r in op.results:
            if r not in self._planned:
                self._planned.add(r)
                self.dies_at.setdefault(here, []).append(r)


def plan_block(
    block: Block, dests: dict[SSAValue, SSAValue], fusable: Callable[[Operation], bool]
) -> BlockPlan:
    """Plan `block`, whose values in `dests` are written into given result buffers."""
    ops = list(block.ops)
    position = {op: i for i, op in enumerate(ops)}
    fused = {op for op in ops if _fuses_into_user(op, block, dests, fusable)}
    # A fused op reads its operands in its consumer's loop nest: their uses count there
    # (else a buffer whose last reader is fused would never be freed). Users come after
    # their operands, so a reverse walk knows where each user is computed.
    computed_at: dict[Operation, int] = {}
    for i in reversed(range(len(ops))):
        op = ops[i]
        user = op.results[0].get_user_of_unique_use() if op in fused else None
        computed_at[op] = computed_at[user] if user is not None else i
    last_use: dict[SSAValue, int] = {}
    for op in ops:
        for nested in op.walk():
            for v in nested.operands:
                if _defined_in(v, block):
                    last_use[v] = max(last_use.get(v, -1), computed_at[op])
    dies_at: dict[int, list[SSAValue]] = {}
    for v, at in last_use.items():
        dies_at.setdefault(at, []).append(v)
    return BlockPlan(position, fused, dies_at, set(last_use))


def _fuses_into_user(
    op: Operation,
    block: Block,
    dests: dict[SSAValue, SSAValue],
    fusable: Callable[[Operation], bool],
) -> bool:
    """An elementwise op whose one result has one use, by an elementwise op of the same
    shape in the same block (and that is not written into a result buffer)."""
    if not fusable(op) or len(op.results) != 1:
        return False
    r = op.results[0]
    if r in dests or not r.has_one_use():
        return False
    user = r.get_user_of_unique_use()
    return (
        user is not None
        and fusable(user)
        and user.parent is block
        and red.shape_of(user.results[0]) == red.shape_of(r)
    )


def _defined_in(v: SSAValue, block: Block) -> bool:
    owner = v.owner
    return (owner.parent if isinstance(owner, Operation) else owner) is block


class BufferLiveness:
    """Counts, for every owned buffer, the live values it holds (itself and its views): it
    is freed once the last of them has died."""

    def __init__(self) -> None:
        self._holders: dict[SSAValue, int] = {}

    def define(self, lowered: Lowered) -> None:
        if isinstance(lowered, Buffer) and lowered.owned:
            storage = lowered.storage
            self._holders[storage] = self._holders.get(storage, 0) + 1

    def release(self, dying: list[Lowered | None]) -> list[SSAValue]:
        """The buffers to free when the values `dying` die together, in their order."""
        owned = [d for d in dying if isinstance(d, Buffer) and d.owned]
        for d in owned:
            self._holders[d.storage] -= 1
        freed: list[SSAValue] = []
        for d in owned:
            if self._holders.get(d.storage) == 0:
                del self._holders[d.storage]
                freed.append(d.storage)
        return freed
