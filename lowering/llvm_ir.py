"""LLVM IR text from a lowered module, through xDSL's llvmlite backend; the kernel library
entry points the module calls are declared, or defined in it for a self-contained module
(what red-translate writes for clang)."""

from __future__ import annotations

import llvmlite.ir as ir
from xdsl.backend.llvm.convert import convert_module
from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp

from red.lowering import kernels
from red.lowering.gc_pause import gc_paused
from red.lowering.llvm.memref import ZERO_INIT_ATTR
from red.lowering.loops.outline import NOINLINE_ATTR
from red.lowering.red_lower import is_lowered, lower_module


def llvm_ir_module(
    module: ModuleOp, ctx: Context | None = None, with_kernels: bool = False
) -> ir.Module:
    """The llvmlite module of `module`, lowering a copy first if it is not yet lowered. The
    kernel library's entry points it calls are declarations, resolved by the library compiled
    into this process (made ready here, so any in-process JIT of the module links), or with
    `with_kernels` are defined in it for the host CPU."""
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
            if NOINLINE_ATTR in op.attributes:
                ir_module.get_global(op.sym_name.data).attributes.add("noinline")
        if isinstance(op, llvm.GlobalOp) and ZERO_INIT_ATTR in op.attributes:
            gvar = ir_module.get_global(op.sym_name.data)
            gvar.initializer = ir.Constant(gvar.value_type, None)  # zeroinitializer
    if with_kernels and (units := kernel_units(ir_module)):
        with gc_paused():
            kernels.build_into(ir_module, kernels.KernelTarget.host(), units)
        kernels.load_libgomp()  # its weak references then resolve if this process JITs it
    elif names := called_kernels(ir_module):
        kernels.library().require(names)
    return ir_module


def called_kernels(ir_module: ir.Module) -> list[str]:
    """The kernel library entry points `ir_module` declares (and does not define)."""
    return [
        name
        for name in kernels.ENTRY_POINTS
        if isinstance(fn := ir_module.globals.get(name), ir.Function) and fn.is_declaration
    ]


def kernel_units(ir_module: ir.Module) -> list[str]:
    """The library units (lowering/kernels UNITS) defining the entry points it calls."""
    called = set(called_kernels(ir_module))
    return [unit for unit, names in kernels.UNITS.items() if called & set(names)]


def module_to_llvm_ir(
    module: ModuleOp, ctx: Context | None = None, with_kernels: bool = True
) -> str:
    """The module's LLVM IR text, by default self-contained: the kernel library parts it
    calls are defined in it (for the host CPU; `clang -O2 model.ll driver.c -lm`, and
    `-lgomp` for threads), else only declared (link the library's object code,
    `red.lowering.kernels.object_code()`, or its IR, `kernels.library_ir()`)."""
    with gc_paused():
        return str(llvm_ir_module(module, ctx, with_kernels))
