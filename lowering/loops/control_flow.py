"""scf.for and scf.if over tensors: loop-carried buffers.

A tensor carried by `scf.for` is one buffer for the whole loop (bufferization): the body
reads the carried value from it and the yielded value ends up in it. It is the loop result's
destination buffer when the result is returned, the initial value's own buffer when that
value dies at the loop and nothing else holds it, else a new buffer the initial value is
copied into (so a zero-trip loop returns its initial values). Inside the body a
`red.dynamic_update_slice` of a carried value that dies there writes the buffer in place
(lowering/loops/shape.py), so a KV cache row costs one row; a yielded value held elsewhere
is copied into the buffer at the end of the iteration (through a temporary when it is
another carried buffer: `yield %b, %a` swaps). Scalars (the induction variable, carried
indices) stay scalars: the lowered loop carries them as scf iter_args.

`scf.if` writes each tensor result into one buffer (its destination when returned): each
branch computes its yielded values straight into those buffers, or copies them there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import memref, scf
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, Operation, Region, SSAValue

from red.lowering.loops.rules import lowers
from red.lowering.loops.values import Buffer

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


def _is_tensor(v: SSAValue) -> bool:
    return isinstance(v.type, TensorType)


# region scf.for


@lowers(scf.ForOp)
def _for(bl: BlockLowering, op: scf.ForOp) -> None:
    """One buffer per carried tensor; the body lowered once, at the loop's insertion point."""
    e = bl.e
    lo, hi, step = (bl.scalar(v) for v in (op.lb, op.ub, op.step))
    body = op.body.block
    carried = list(zip(op.iter_args, op.results, body.args[1:]))
    buffers: dict[int, Buffer] = {}
    adopted: set[SSAValue] = set()
    for i, (init, result, _) in enumerate(carried):
        if _is_tensor(init):
            buffers[i] = _carried_buffer(bl, op, init, result, adopted)
    scalar_inits = [bl.scalar(init) for init, _, _ in carried if not _is_tensor(init)]

    def emit_body(iv: SSAValue, scalars: list[SSAValue]) -> list[SSAValue]:
        from red.lowering.convert_red_to_loops import BlockLowering

        bl.fn.scalars[body.args[0]] = iv
        inner = BlockLowering(bl.fn, body, {})
        values = iter(scalars)
        for i, (_, _, arg) in enumerate(carried):
            if i in buffers:
                b = buffers[i]
                inner.liveness.writable.add(b.storage)
                inner.define(arg, Buffer(b.mem, root=b.storage))
            else:
                bl.fn.scalars[arg] = next(values)
        inner.lower()
        terminator = body.last_op
        assert isinstance(terminator, scf.YieldOp)
        yielded = list(terminator.operands)
        store_carried(inner, [(yielded[i], b) for i, b in buffers.items()])
        inner.free_dead(inner.plan.position[terminator])
        return [inner.scalar(v) for v in yielded if not _is_tensor(v)]

    scalar_results = iter(e.for_loop(lo, hi, step, scalar_inits, emit_body))
    for i, (_, result, _) in enumerate(carried):
        if i in buffers:
            bl.define(result, buffers[i])
        else:
            bl.fn.scalars[result] = next(scalar_results)


def _carried_buffer(
    bl: BlockLowering, op: scf.ForOp, init: SSAValue, result: SSAValue, adopted: set[SSAValue]
) -> Buffer:
    """The buffer of a carried tensor, holding `init` before the first iteration: the
    initial value's own buffer when the loop may take it over, else a new buffer (or the
    result's destination) that `init` is copied into."""
    lowered = bl.values.get(init)
    if (
        result not in bl.dests
        and isinstance(lowered, Buffer)
        and lowered.storage not in adopted
        and bl.can_overwrite(init, op)
        and not _used_inside(init, op)
    ):
        adopted.add(lowered.storage)
        return Buffer(lowered.mem, owned=lowered.owned, root=lowered.storage)
    mem = bl.alloc(result)
    bl.copy(init, mem)
    return Buffer(mem, owned=result not in bl.dests)


def _used_inside(v: SSAValue, op: Operation) -> bool:
    """Whether an op nested in `op` reads `v` (other than as `op`'s own operand)."""
    return any(use.operation is not op and op.is_ancestor(use.operation) for use in v.uses)


def store_carried(bl: BlockLowering, pairs: Sequence[tuple[SSAValue, Buffer]]) -> None:
    """Make each carried buffer hold its yielded value. A value already in its buffer (an
    in-place update) is not copied; one held by another carried buffer is copied through a
    temporary first, so that no copy reads a buffer an earlier copy overwrote."""
    e = bl.e
    targets = {b.storage for _, b in pairs}
    staged: list[tuple[SSAValue, Buffer, SSAValue | None]] = []
    for v, b in pairs:
        lowered = bl.values.get(v)
        source = lowered.storage if isinstance(lowered, Buffer) else None
        if source is b.storage:
            continue
        temp = None
        if source in targets:
            temp = bl.alloc(v)  # a loop body has no destinations: a new buffer
            bl.copy(v, temp)
        staged.append((v, b, temp))
    for v, b, temp in staged:
        if temp is None:
            bl.copy(v, b.mem)
            continue

        def move(
            idx: list[SSAValue], temp: SSAValue = temp, dest: SSAValue = b.mem, v: SSAValue = v
        ) -> None:
            bl.store(bl.load_from(temp, idx, v), dest, idx, v)

        e.loop_nest(bl.shape(v), move)
        e.op(memref.DeallocOp.get(temp))


# endregion scf.for

# region scf.if


@lowers(scf.IfOp)
def _if(bl: BlockLowering, op: scf.IfOp) -> None:
    """Tensor results in buffers allocated before the branch; each branch lowered into its
    block with those buffers as the destinations of its yielded values."""
    e = bl.e
    outs = {i: bl.alloc(r) for i, r in enumerate(op.results) if _is_tensor(r)}
    scalar_types = [r.type for r in op.results if not _is_tensor(r)]

    def branch(region: Region) -> Region:
        block = Block()
        if not region.blocks:  # no else branch: no results either
            block.add_op(scf.YieldOp())
            return Region(block)
        source = region.block
        terminator = source.last_op
        assert isinstance(terminator, scf.YieldOp)
        yielded = list(terminator.operands)

        def lower() -> None:
            bl.fn.lower_body(source, [yielded[i] for i in outs], list(outs.values()))
            e.op(scf.YieldOp(*[bl.scalar(v) for v in yielded if not _is_tensor(v)]))

        e.in_block(block, lower)
        return Region(block)

    then, otherwise = branch(op.true_region), branch(op.false_region)
    new = scf.IfOp(bl.scalar(op.cond), scalar_types, then, otherwise)
    e.op(new)
    scalar_results = iter(new.results)
    for i, r in enumerate(op.results):
        if i in outs:
            bl.define(r, Buffer(outs[i], owned=r not in bl.dests))
        else:
            bl.fn.scalars[r] = next(scalar_results)


# endregion scf.if
