"""red-lower: red on tensors -> loop nests -> llvm dialect (DESIGN.md §4). Each step only
acts on what is not yet lowered, so IR at any level can go through it."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import ModuleOp

from red.lowering.convert_red_to_loops import ConvertRedToLoopsPass
from red.lowering.convert_scf_to_cf import ConvertScfToCfPass
from red.lowering.convert_to_llvm import ConvertToLLVMPass
from red.lowering.gc_pause import gc_paused
from red.lowering.loops.outline import OutlineLoopNestsPass
from red.lowering.merge_functions import MergeIdenticalFunctionsPass
from red.passes.pass_manager import CompoundPass, PassManager


def is_lowered(module: ModuleOp) -> bool:
    """Whether nothing above the llvm dialect is left."""
    return not any(isinstance(op, func.FuncOp | memref.GlobalOp) for op in module.body.ops)


@dataclass(frozen=True)
class RedLowerPass(CompoundPass):
    """convert-red-to-loops, outline-loop-nests, merge-identical-functions,
    convert-scf-to-cf, convert-to-llvm."""

    name = "red-lower"

    def run_steps(self, manager: PassManager, ctx: Context, module: ModuleOp) -> None:
        if is_lowered(module):
            return
        manager.run_pass(ConvertRedToLoopsPass(), ctx, module)
        manager.run_pass(OutlineLoopNestsPass(), ctx, module)
        manager.run_pass(MergeIdenticalFunctionsPass(), ctx, module)
        manager.run_pass(ConvertScfToCfPass(), ctx, module)
        manager.run_pass(ConvertToLLVMPass(), ctx, module)


def lower_module(module: ModuleOp, ctx: Context | None = None, verify: bool = False) -> None:
    """Run red-lower on a module in place. The steps are not re-verified by default: the
    LLVM IR they produce goes through LLVM's own verifier (`red-opt -p red-lower` verifies
    after every step)."""
    from red.dialects.context import make_context

    with gc_paused():
        PassManager([RedLowerPass()], verify_each=verify).run(ctx or make_context(), module)
