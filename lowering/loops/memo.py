"""red.memo: module globals for the cached results, a valid flag and the key (the addresses
of the buffers the results were computed from); the body runs only when the flag is clear or
a key differs. `red_memo_reset()` clears every flag (DESIGN.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.builder import Builder
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import FunctionType, MemRefType, SymbolRefAttr, i1, i8, i64
from xdsl.ir import Block, Region, SSAValue
from xdsl.rewriter import InsertPoint

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.lowering.loops.emitter import Emitter
from red.lowering.loops.rules import lowers
from red.lowering.loops.values import Buffer, memref_of

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

MEMO_RESET = "red_memo_reset"
FLAG_TYPE = MemRefType(i8, [1])


@lowers(red.MemoOp, into_destination=False)
def _memo(bl: BlockLowering, op: red.MemoOp) -> None:
    """Recompute into the cached results when stale; the results are the cached buffers."""
    for r in op.outputs:
        if red.DYNAMIC in red.shape_of(r):
            raise DiagnosticError.at(
                op, f"'{op.name}' op caching '{r.type}': a memo of a dynamic shape is not supported"
            )
    module, e = bl.module, bl.e
    n = len(module.memo_flags)
    names = [
        module.new_global(f"__red_memo_{n}_result_{j}", memref_of(r.type))
        for j, r in enumerate(op.outputs)
    ]
    flag = module.new_global(f"__red_memo_{n}_valid", FLAG_TYPE)
    module.memo_flags.append(flag)
    key_type = MemRefType(i64, [max(1, len(op.keys))])
    keys = module.new_global(f"__red_memo_{n}_key", key_type)
    flag_mem = e.op(memref.GetGlobalOp(SymbolRefAttr(flag), FLAG_TYPE))
    key_mem = e.op(memref.GetGlobalOp(SymbolRefAttr(keys), key_type))
    addresses = [_address(bl, k) for k in op.keys]
    stale = _is_stale(e, flag_mem, key_mem, addresses)
    cached = [
        e.op(memref.GetGlobalOp(SymbolRefAttr(name), memref_of(r.type)))
        for name, r in zip(names, op.outputs)
    ]

    def recompute() -> None:
        for arg, k in zip(op.body.block.args, op.keys):
            bl.values[arg] = Buffer(bl.buffer(k))
        term = op.body.block.last_op
        assert isinstance(term, red.YieldOp)
        bl.fn.lower_body(op.body.block, list(term.values), cached)
        for i, addr in enumerate(addresses):
            e.op(memref.StoreOp.get(addr, key_mem, [e.index(i)]))
        e.op(memref.StoreOp.get(e.scalar(1, i8), flag_mem, [e.index(0)]))

    e.if_then(stale, recompute)
    for r, mem in zip(op.outputs, cached):
        bl.define(r, Buffer(mem))


def _address(bl: BlockLowering, key: SSAValue) -> SSAValue:
    """The address of a key's buffer, as i64."""
    pointer = bl.e.op(memref.ExtractAlignedPointerAsIndexOp.get(bl.buffer(key)))
    return bl.e.op(arith.IndexCastOp(pointer, i64))


def _is_stale(
    e: Emitter, flag_mem: SSAValue, key_mem: SSAValue, addresses: list[SSAValue]
) -> SSAValue:
    """not (flag != 0 and key[0] == addresses[0] and ...)."""
    loaded = e.op(memref.LoadOp.get(flag_mem, [e.index(0)]))
    valid = e.op(arith.CmpiOp(loaded, e.scalar(0, i8), "ne"))
    for i, addr in enumerate(addresses):
        same = e.op(arith.CmpiOp(e.op(memref.LoadOp.get(key_mem, [e.index(i)])), addr, "eq"))
        valid = e.op(arith.AndIOp(valid, same))
    return e.op(arith.XOrIOp(valid, e.scalar(1, i1)))


def memo_reset_function(flags: list[str]) -> func.FuncOp:
    """`red_memo_reset()`: clear every memo's valid flag."""
    block = Block()
    e = Emitter(Builder(InsertPoint.at_end(block)))
    for flag in flags:
        mem = e.op(memref.GetGlobalOp(SymbolRefAttr(flag), FLAG_TYPE))
        e.op(memref.StoreOp.get(e.scalar(0, i8), mem, [e.index(0)]))
    block.add_op(func.ReturnOp())
    return func.FuncOp(MEMO_RESET, FunctionType.from_lists([], []), Region(block))
