"""The JIT: compile a module (any level; red-lower runs on what is not lowered) with
llvmlite at LLVM's O3 for the host CPU, and call its functions on numpy arrays."""

from __future__ import annotations

import ctypes
from typing import Any

import llvmlite.binding as llvm
import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType

from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.red_interpreter import ModuleRunner, numpy_dtype
from red.lowering.convert_red_to_loops import MEMO_RESET, abi_name
from red.lowering.llvm_ir import llvm_ir_module

_initialized = False


def _init_llvm() -> None:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _initialized = True


def host_target_machine(opt: int = 3) -> llvm.TargetMachine:
    _init_llvm()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
        opt=opt,
        codemodel="jitdefault",
    )


def optimize(module: llvm.ModuleRef, tm: llvm.TargetMachine, level: int = 3) -> None:
    """LLVM's default O`level` pipeline (new pass manager), as clang -O3 runs it."""
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    mpm = pb.getModulePassManager()
    mpm.run(module, pb)


class CompiledFunction:
    """A compiled public function: call it with numpy arrays, get arrays back (a tuple
    when it has several results)."""

    def __init__(self, owner: CompiledModule, fn: func.FuncOp, address: int):
        self.owner = owner
        self.fn = fn
        self.name = fn.sym_name.data
        self.inputs = [t for t in fn.function_type.inputs.data if isinstance(t, TensorType)]
        self.outputs = [t for t in fn.function_type.outputs.data if isinstance(t, TensorType)]
        n = len(self.inputs) + len(self.outputs)
        self._cfunc = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n))(address)
        self._keep: tuple[Any, ...] = ()

    def __call__(self, *args: Any) -> Any:
        results = self.call(*args)
        return results[0] if len(results) == 1 else results

    def call(self, *args: Any) -> tuple[np.ndarray, ...]:
        """Always a tuple of results."""
        arrays = [np.ascontiguousarray(a) for a in self.owner.checker.check_arguments(self.fn, args)]
        outs = [np.empty(t.get_shape(), dtype=numpy_dtype(t.get_element_type())) for t in self.outputs]
        pointers = [a.ctypes.data for a in arrays] + [o.ctypes.data for o in outs]
        self._cfunc(*pointers)
        # A memo is keyed on the addresses of this call's buffers: keep them alive until the
        # next call replaces the keys, so an address cannot be reused behind its back.
        self._keep = tuple(arrays)
        return tuple(outs)


class CompiledModule:
    """The compiled public functions of a module, by name: `compiled.main(x, w)` or
    `compiled.function("main")(x, w)`; `memo_reset()` forgets cached memo results."""

    def __init__(self, module: ModuleOp, opt: int = 3):
        self.source = module
        self.checker = ModuleRunner(module)
        public = [
            op
            for op in module.body.ops
            if isinstance(op, func.FuncOp)
            and op.body.blocks
            and (op.sym_visibility is None or op.sym_visibility.data != "private")
        ]
        ir_module = llvm_ir_module(module)
        self.llvm_ir = str(ir_module)
        self.tm = host_target_machine(opt)
        try:
            parsed = llvm.parse_assembly(self.llvm_ir)
            parsed.verify()
        except RuntimeError as err:
            raise DiagnosticError(location_of(module), f"LLVM rejected the lowered module: {err}") from None
        optimize(parsed, self.tm, opt)
        self.engine = llvm.create_mcjit_compiler(parsed, self.tm)
        self.engine.finalize_object()
        self.engine.run_static_constructors()
        self.functions = {
            fn.sym_name.data: CompiledFunction(self, fn, self.engine.get_function_address(abi_name(fn.sym_name.data)))
            for fn in public
        }
        reset = self.engine.get_function_address(MEMO_RESET)
        self._reset = ctypes.CFUNCTYPE(None)(reset) if reset else None

    def function(self, name: str) -> CompiledFunction:
        if name not in self.functions:
            self.checker.function(name)  # the located "no function" error
        return self.functions[name]

    def __getattr__(self, name: str) -> CompiledFunction:
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(name)

    def memo_reset(self) -> None:
        """`red_memo_reset()`: the next call recomputes every memo."""
        if self._reset is not None:
            self._reset()

    def optimized_ir(self) -> str:
        return self.llvm_ir


def compile_module(module: ModuleOp, opt: int = 3) -> CompiledModule:
    return CompiledModule(module, opt)
