"""LLVM IR text from a lowered module, through xDSL's llvmlite backend."""

from __future__ import annotations

import llvmlite.ir as ir
from xdsl.backend.llvm.convert import convert_module
from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp

from red.lowering.gc_pause import gc_paused
from red.lowering.llvm.memref import ZERO_INIT_ATTR
from red.lowering.red_lower import is_lowered, lower_module


def llvm_ir_module(module: ModuleOp, ctx: Context | None = None) -> ir.Module:
    """The llvmlite module of `module`, lowering a copy first if it is not yet lowered."""
    with gc_paused():
        if not is_lowered(module):
            module = module.clone()
            lower_module(module, ctx)
        ir_module = convert_module(module, fallback_target_triple=None)
    for op in module.body.ops:
        # xDSL's backend drops the linkage of functions: keep private ones (the matmul kernel,
        # private functions of the model) out of the object's exported symbols.
        if isinstance(op, llvm.FuncOp) and op.body.blocks and op.linkage is not None:
            if op.linkage.linkage.data == "internal":
                ir_module.get_global(op.sym_name.data).linkage = "internal"
        if isinstance(op, llvm.GlobalOp) and ZERO_INIT_ATTR in op.attributes:
            gvar = ir_module.get_global(op.sym_name.data)
            gvar.initializer = ir.Constant(gvar.value_type, None)  # zeroinitializer
    return ir_module


def module_to_llvm_ir(module: ModuleOp, ctx: Context | None = None) -> str:
    with gc_paused():
        return str(llvm_ir_module(module, ctx))
