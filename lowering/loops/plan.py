"""The plan of one block for convert-red-to-loops: which elementwise ops are fused into their
consumer's loop nest (and which transposes a matmul reads through strides instead of a copy),
and where each value is used for the last time, so that the buffers that hold it (and the
views of them) are freed right after."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    last_use: dict[SSAValue, int]
    """Value -> the position of its last use (as in `dies_at`); unused values are absent."""
    _planned: set[SSAValue] = field(default_factory=set[SSAValue])

    def dies_at_op(self, v: SSAValue, op: Operation) -> bool:
        """Whether `v` (defined in this block) is last used by `op`."""
        return self.last_use.get(v) == self.position[op]

    def note_results(self, op: Operation) -> None:
        """A result nobody uses dies at its own op."""
        here = self.position[op]
        for r in op.results:
            if r not in self._planned:
                self._planned.add(r)
                self.dies_at.setdefault(here, []).append(r)


def plan_block(
    block: Block,
    dests: dict[SSAValue, SSAValue],
    fusable: Callable[[Operation], bool],
    dims: Callable[[SSAValue], Sequence[object]] = red.shape_of,
) -> BlockPlan:
    """Plan `block`, whose values in `dests` are written into given result buffers;
    `dims(v)` gives a tensor's dims (two shapes are equal when their dims are)."""
    ops = list(block.ops)
    position = {op: i for i, op in enumerate(ops)}
    fused = {op for op in ops if _fuses_into_user(op, block, dests, fusable, dims)}
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
                if defined_in(v, block):
                    last_use[v] = max(last_use.get(v, -1), computed_at[op])
    dies_at: dict[int, list[SSAValue]] = {}
    for v, at in last_use.items():
        dies_at.setdefault(at, []).append(v)
    return BlockPlan(position, fused, dies_at, last_use, set(last_use))


def _fuses_into_user(
    op: Operation,
    block: Block,
    dests: dict[SSAValue, SSAValue],
    fusable: Callable[[Operation], bool],
    dims: Callable[[SSAValue], Sequence[object]],
) -> bool:
    """An elementwise op whose one result has one use, by an elementwise op of the same
    shape in the same block, or a transpose of the last two dims whose one use is an operand
    of a matmul in the same block (the matmul reads its input with the strides swapped: a
    constant weight read as W^T stays the registered constant the kernel library packs once),
    and that is not written into a result buffer."""
    if not fusable(op) or len(op.results) != 1:
        return False
    r = op.results[0]
    if r in dests or not r.has_one_use():
        return False
    if isinstance(op, red.TransposeOp) and op.feeds_matmul_as_strides():
        return True
    user = r.get_user_of_unique_use()
    return (
        user is not None
        and fusable(user)
        and user.parent is block
        and tuple(dims(user.results[0])) == tuple(dims(r))
    )


def defined_in(v: SSAValue, block: Block) -> bool:
    """Whether `v` is a result of an op of `block` or an argument of `block`."""
    owner = v.owner
    return (owner.parent if isinstance(owner, Operation) else owner) is block


class BufferLiveness:
    """The buffers a block frees and may overwrite, and for each buffer the live values of
    the block that hold it (itself and its views): an owned buffer is freed once the last
    of them has died; a value may be overwritten in place when it is the only holder.

    A buffer is freed by the block that allocated it: a view made in a nested block (a loop
    body) of a buffer of an enclosing block holds it without owning it."""

    def __init__(self) -> None:
        self._holders: dict[SSAValue, int] = {}
        self._frees: set[SSAValue] = set()
        self.writable: set[SSAValue] = set()
        """Buffers the block may overwrite: what it allocates, its destination buffers and
        the buffers of the loop-carried values of a loop body."""

    def define(self, lowered: Lowered) -> None:
        if not isinstance(lowered, Buffer):
            return
        storage = lowered.storage
        if lowered.owned and lowered.root is None:  # allocated by this block
            self._frees.add(storage)
            self.writable.add(storage)
        self._holders[storage] = self._holders.get(storage, 0) + 1

    def sole_writable_holder(self, lowered: Lowered) -> bool:
        """Whether `lowered` is a buffer the block may overwrite, held by no other value."""
        return (
            isinstance(lowered, Buffer)
            and lowered.storage in self.writable
            and self._holders.get(lowered.storage) == 1
        )

    def release(self, dying: list[Lowered | None]) -> list[SSAValue]:
        """The buffers to free when the values `dying` die together, in their order."""
        held = [d for d in dying if isinstance(d, Buffer) and d.storage in self._holders]
        for d in held:
            self._holders[d.storage] -= 1
        freed: list[SSAValue] = []
        for d in held:
            if self._holders.get(d.storage) == 0:
                del self._holders[d.storage]
                if d.storage in self._frees:
                    freed.append(d.storage)
        return freed
