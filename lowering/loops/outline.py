"""outline-loop-nests: each large top-level loop nest (scf.for or scf.if without results) of a
loop-level function becomes a private function of its own, called in its place.

LLVM's loop passes (IndVarSimplify, LoopRotate: 66% of `opt -O2` on GPT-2-small's one flat
`red_main` of 13k lines) cost more than linearly in the size of the function they run on;
many small functions cost linearly. The outlined functions get the memrefs and scalars the
nest reads as arguments (constants are cloned in, not passed) and are marked `red.noinline`,
which the LLVM IR emitter turns into LLVM's `noinline` (an internal function called once
would otherwise be inlined back).

A nest whose outer loop is marked `red.parallel` (convert-red-to-loops' large elementwise
nests) is outlined with that loop's bounds as two more arguments, and called through a
private caller of the same arguments marked `red.parallel_nest`: one call of the whole range
here, which the JIT redefines to run subranges on the kernel library's threads when it
compiles for more than one (lowering/parallel_nests.py)."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import FunctionType, ModuleOp, StringAttr, SymbolRefAttr, UnitAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

NOINLINE_ATTR = "red.noinline"
"""Marks functions that LLVM must not inline (lowering/llvm/func.py keeps it; the LLVM IR
emitter sets `noinline`)."""
PARALLEL_ATTR = "red.parallel"
"""Marks an scf.for whose iterations write disjoint elements and read nothing another
iteration writes (convert-red-to-loops' large elementwise nests)."""
PARALLEL_NEST_ATTR = "red.parallel_nest"
"""On the function a parallel nest is called through: the symbol of the outlined nest, which
takes the loop's bounds as its last two arguments. The function itself runs the whole range
with one call; the JIT may run it as subranges on the kernel library's threads instead
(lowering/parallel_nests.py)."""


def outline_module(module: ModuleOp, min_ops: int = 8) -> int:
    """Outline the nests of at least `min_ops` ops in every function; returns how many."""
    taken = {
        sym.data
        for op in module.body.ops
        if isinstance(sym := getattr(op, "sym_name", None), StringAttr)
    }
    count = 0
    for fn in [op for op in module.body.ops if isinstance(op, func.FuncOp)]:
        if not fn.body.blocks:
            continue
        for block in fn.body.blocks:
            for op in list(block.ops):
                if _outlinable(op, min_ops):
                    name = _fresh(f"__red_{fn.sym_name.data}_nest", count, taken)
                    if isinstance(op, scf.ForOp) and PARALLEL_ATTR in op.attributes:
                        range_name = _fresh(f"{name}_range", 0, taken)
                        ranged = _outline(op, range_name, called_as=name)
                        module.body.block.insert_op_after(ranged, fn)
                        module.body.block.insert_op_after(_range_caller(name, ranged), fn)
                    else:
                        module.body.block.insert_op_after(_outline(op, name), fn)
                    count += 1
    return count


def _outlinable(op: Operation, min_ops: int) -> bool:
    if not isinstance(op, scf.ForOp | scf.IfOp) or op.results:
        return False
    size = 0
    for _ in op.walk():
        size += 1
        if size >= min_ops:
            return True
    return False


def _fresh(prefix: str, n: int, taken: set[str]) -> str:
    name = f"{prefix}{n}"
    while name in taken:
        n += 1
        name = f"{prefix}{n}"
    taken.add(name)
    return name


def _outline(op: Operation, name: str, called_as: str | None = None) -> func.FuncOp:
    """Move `op` into a new private function `name` and call it in its place. With
    `called_as` (an scf.for), the function takes the loop's lower and upper bounds as its
    last two arguments, and the call, of `called_as`, passes them."""
    bounds = [op.lb, op.ub] if called_as is not None and isinstance(op, scf.ForOp) else []
    inside_blocks = {b for region in op.regions for b in _blocks(region)}
    external: list[SSAValue] = []
    seen: set[SSAValue] = set()
    for nested in op.walk():
        for v in nested.operands:
            if v in seen or _defined_in(v, inside_blocks, op):
                continue
            seen.add(v)
            external.append(v)
    constants = [v for v in external if isinstance(v.owner, arith.ConstantOp)]
    passed = [v for v in external if not isinstance(v.owner, arith.ConstantOp)]

    body = Block(arg_types=[v.type for v in passed] + [v.type for v in bounds])
    mapping: dict[SSAValue, SSAValue] = dict(zip(passed, body.args))
    for arg, v in zip(body.args, passed):
        arg.name_hint = v.name_hint
    for v in constants:
        owner = v.owner
        assert isinstance(owner, arith.ConstantOp)
        clone = owner.clone()
        body.add_op(clone)
        mapping[v] = clone.result

    parent = op.parent_block()
    assert parent is not None
    call = func.CallOp(called_as or name, [*passed, *bounds], [])
    parent.insert_op_before(call, op)
    op.detach()
    body.add_op(op)
    body.add_op(func.ReturnOp())
    for nested in op.walk():  # one pass over the nest (a constant may have 10^5 other uses)
        operands = nested.operands
        if any(v in mapping for v in operands):
            nested.operands = [mapping.get(v, v) for v in operands]
    if bounds:
        assert isinstance(op, scf.ForOp)
        lo, hi = body.args[-2:]
        lo.name_hint, hi.name_hint = "lo", "hi"
        op.operands = [lo, hi, *op.operands[2:]]
    fn = func.FuncOp(name, FunctionType.from_lists(body.arg_types, []), Region(body), "private")
    fn.attributes[NOINLINE_ATTR] = UnitAttr()
    return fn


def _range_caller(name: str, ranged: func.FuncOp) -> func.FuncOp:
    """`name`: a function with the arguments of the outlined parallel nest `ranged` that
    calls it (so the nest's call site calls `name`, which the JIT may redefine to split
    the range over threads)."""
    types = ranged.function_type.inputs.data
    block = Block(arg_types=types)
    block.add_op(func.CallOp(ranged.sym_name.data, list(block.args), []))
    block.add_op(func.ReturnOp())
    fn = func.FuncOp(name, FunctionType.from_lists(types, []), Region(block), "private")
    fn.attributes[PARALLEL_NEST_ATTR] = SymbolRefAttr(ranged.sym_name.data)
    return fn


def _blocks(region: Region) -> list[Block]:
    out: list[Block] = []
    for block in region.blocks:
        out.append(block)
        for nested in block.ops:
            for r in nested.regions:
                out += _blocks(r)
    return out


def _defined_in(v: SSAValue, blocks: set[Block], op: Operation) -> bool:
    owner = v.owner
    if isinstance(owner, Block):
        return owner in blocks
    return owner is op or owner.parent_block() in blocks


@dataclass(frozen=True)
class OutlineLoopNestsPass(ModulePass):
    """Each top-level loop nest of at least `min-ops` ops (scf.for, or scf.if, without
    results) becomes a private noinline function; see the module docstring. Runs on the
    loop level (after convert-red-to-loops, before convert-scf-to-cf)."""

    name = "outline-loop-nests"

    min_ops: int = 8

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        outline_module(op, self.min_ops)
