"""cf -> llvm: branches to the converted blocks, with the converted block arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import cf, llvm

from red.lowering.llvm.rules import lowers

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter


@lowers(cf.BranchOp)
def _br(conv: FunctionConverter, op: cf.BranchOp) -> None:
    conv.emit(llvm.BrOp(conv.block(op.successor), *[conv.get(a) for a in op.arguments]))


@lowers(cf.ConditionalBranchOp)
def _cond_br(conv: FunctionConverter, op: cf.ConditionalBranchOp) -> None:
    conv.emit(
        llvm.CondBrOp(
            conv.get(op.cond),
            conv.block(op.then_block),
            [conv.get(a) for a in op.then_arguments],
            conv.block(op.else_block),
            [conv.get(a) for a in op.else_arguments],
        )
    )
