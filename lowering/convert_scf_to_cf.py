"""convert-scf-to-cf: scf.for, scf.if, scf.while, scf.execute_region and scf.index_switch ->
blocks and cf branches, in one walk (the semantics of MLIR's SCFToControlFlow).

xDSL 0.74's pass of the same name splits the enclosing block at every scf op, which moves
every op after it and scans the region for the block's index: quadratic in the ops of a
block (12k ops: 2.9 s), and it has no scf.while. Here every block of a region is rebuilt
once: its ops are moved, in order, into the block control is in at that point; an scf op
appends the blocks of its regions (converted the same way, recursively) and a continuation
block, which receives the ops after it. Each op moves at most once, and each result is
replaced once: linear in the size of the module.

- `scf.for %iv = %lb to %ub step %s iter_args(%a = %init)`: the body's block becomes the
  loop header `^h(%iv, %a)`: `%c = arith.cmpi slt, %iv, %ub; cf.cond_br %c, ^body, ^exit`;
  the body ends with `%next = arith.addi %iv, %s; cf.br ^h(%next, yielded)`; the loop's
  results are the header's arguments %a.
- `scf.if`: `cf.cond_br` to the then and else blocks (or straight to the continuation),
  which branch to the continuation with the yielded values as its block arguments.
- `scf.while`: the before block ends in `cf.cond_br %cond, ^after(args), ^exit`; the after
  block branches back to the before block with the yielded values; the results are the
  condition's arguments.
- `scf.execute_region`: its blocks inlined, each `scf.yield` a branch to the continuation.
- `scf.index_switch`: `cf.switch` on the index cast to i32.
Ops with regions that are not scf (a function, ...) have their regions converted in place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, cf, scf
from xdsl.dialects.builtin import DenseIntElementsAttr, ModuleOp, VectorType, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.dialects.diagnostics import DiagnosticError
from red.lowering.gc_pause import gc_paused


def convert_region(region: Region) -> None:
    """Replace every scf control-flow op in `region` (a CFG region) by blocks and branches."""
    out: list[Block] = []
    for block in list(region.blocks):
        out.append(block)
        _move_ops(list(block.ops), block, out)
    for block in list(region.blocks):
        region.detach_block(block)
    region.add_block(out)


def _move_ops(ops: Sequence[Operation], cur: Block, out: list[Block]) -> Block:
    """Move `ops` to the end of `cur` in order, lowering scf ops into blocks appended to
    `out`; the block control is in after the last op."""
    for op in ops:
        match op:
            case scf.ForOp():
                cur = _for(op, cur, out)
            case scf.IfOp():
                cur = _if(op, cur, out)
            case scf.WhileOp():
                cur = _while(op, cur, out)
            case scf.ExecuteRegionOp():
                cur = _execute_region(op, cur, out)
            case scf.IndexSwitchOp():
                cur = _index_switch(op, cur, out)
            case _:
                if op.dialect_name() == "scf" and op.regions:
                    raise DiagnosticError.at(
                        op, f"'{op.name}' op is not supported by convert-scf-to-cf"
                    )
                if op.parent is not cur:
                    op.detach()
                    cur.add_op(op)
                for region in op.regions:
                    convert_region(region)
    return cur


def _inline(region: Region, out: list[Block]) -> tuple[Block, Block]:
    """Move the single block of `region` into the enclosing region (appended to `out`) and
    convert its ops; the block, and the block its control ends in (with the terminator)."""
    block = region.detach_block(region.block)
    out.append(block)
    return block, _move_ops(list(block.ops), block, out)


def _end_with(end: Block, make: Callable[[Operation], Sequence[Operation]]) -> None:
    """Replace the terminator of `end` by the ops `make(terminator)`."""
    old = end.last_op
    assert old is not None
    old.detach()
    end.add_ops(make(old))
    old.erase()


def _replace(op: Operation, values: Sequence[SSAValue]) -> None:
    """Replace the results of `op` (whose regions are gone) by `values`, and erase it."""
    for result, value in zip(op.results, values, strict=True):
        result.replace_all_uses_with(value)
    op.detach()
    op.erase()


def _for(op: scf.ForOp, cur: Block, out: list[Block]) -> Block:
    header = op.body.detach_block(op.body.block)  # keeps (%iv, iter args) as arguments
    body, exit_block = Block(), Block()
    cur.add_op(cf.BranchOp(header, op.lb, *op.iter_args))
    out += [header, body]
    end = _move_ops(list(header.ops), body, out)
    iv = header.args[0]

    def step_and_loop(yield_op: Operation) -> list[Operation]:
        step = arith.AddiOp(iv, op.step)
        return [step, cf.BranchOp(header, step, *yield_op.operands)]

    _end_with(end, step_and_loop)
    cond = arith.CmpiOp(iv, op.ub, "slt")
    header.add_ops([cond, cf.ConditionalBranchOp(cond, body, [], exit_block, [])])
    out.append(exit_block)
    _replace(op, header.args[1:])
    return exit_block


def _to(target: Block) -> Callable[[Operation], list[Operation]]:
    """A terminator -> a branch to `target` with the terminator's operands."""
    return lambda terminator: [cf.BranchOp(target, *terminator.operands)]


def _if(op: scf.IfOp, cur: Block, out: list[Block]) -> Block:
    cont = Block(arg_types=op.result_types)
    then, then_end = _inline(op.true_region, out)
    _end_with(then_end, _to(cont))
    otherwise = cont
    if op.false_region.blocks:
        otherwise, else_end = _inline(op.false_region, out)
        _end_with(else_end, _to(cont))
    cur.add_op(cf.ConditionalBranchOp(op.cond, then, [], otherwise, []))
    out.append(cont)
    _replace(op, cont.args)
    return cont


def _while(op: scf.WhileOp, cur: Block, out: list[Block]) -> Block:
    cont = Block()
    cur.add_op(cf.BranchOp(op.before_region.block, *op.arguments))
    before, before_end = _inline(op.before_region, out)
    condition = before_end.last_op
    assert isinstance(condition, scf.ConditionOp)
    results = list(condition.args)
    after, after_end = _inline(op.after_region, out)
    _end_with(
        before_end,
        lambda c: [cf.ConditionalBranchOp(c.operands[0], after, c.operands[1:], cont, [])],
    )
    _end_with(after_end, _to(before))
    out.append(cont)
    _replace(op, results)
    return cont


def _execute_region(op: scf.ExecuteRegionOp, cur: Block, out: list[Block]) -> Block:
    cont = Block(arg_types=op.result_types)
    blocks = list(op.region.blocks)
    cur.add_op(cf.BranchOp(blocks[0]))
    for block in blocks:
        op.region.detach_block(block)
        out.append(block)
        end = _move_ops(list(block.ops), block, out)
        if isinstance(end.last_op, scf.YieldOp):
            _end_with(end, _to(cont))
    out.append(cont)
    _replace(op, cont.args)
    return cont


def _index_switch(op: scf.IndexSwitchOp, cur: Block, out: list[Block]) -> Block:
    cont = Block(arg_types=op.result_types)
    targets = []
    for region in (*op.case_regions, op.default_region):
        entry, end = _inline(region, out)
        _end_with(end, _to(cont))
        targets.append(entry)
    flag = arith.IndexCastOp(op.arg, i32)
    cases = op.cases.get_values()
    values = DenseIntElementsAttr.from_list(VectorType(i32, (len(cases),)), cases)
    switch = cf.SwitchOp(flag, targets[-1], [], values, targets[:-1], [[] for _ in cases])
    cur.add_ops([flag, switch])
    out.append(cont)
    _replace(op, cont.args)
    return cont


def convert_scf_to_cf(module: ModuleOp) -> None:
    """Convert the scf control flow of every function (every region) of `module`."""
    for op in module.body.ops:
        for region in op.regions:
            convert_region(region)


@dataclass(frozen=True)
class ConvertScfToCfPass(ModulePass):
    """scf.for/if/while/execute_region/index_switch -> cf branches, linear in the module's
    size; see the module docstring."""

    name = "convert-scf-to-cf"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with gc_paused():
            convert_scf_to_cf(op)
