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
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import public_functions
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
    # Full unrolling of the many small loop nests multiplies code size (5x on the LSTM) and
    # compile time (3x) for no measured speed: the matmul kernel is tiled explicitly.
    pto.loop_unrolling = False
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
        self._in_specs = [
            (numpy_dtype(t.get_element_type()), tuple(t.get_shape())) for t in self.inputs
        ]
        self._out_specs = [
            (numpy_dtype(t.get_element_type()), tuple(t.get_shape())) for t in self.outputs
        ]
        self._keep: tuple[Any, ...] = ()
        self._keep_ptrs: list[int] = []

    def __call__(self, *args: Any) -> Any:
        results = self.call(*args)
        return results[0] if len(results) == 1 else results

    def call(self, *args: Any) -> tuple[np.ndarray, ...]:
        """Always a tuple of results."""
        pointers = self._pointers(args)
        outs = [np.empty(shape, dtype=dtype) for dtype, shape in self._out_specs]
        self._cfunc(*pointers, *[o.ctypes.data for o in outs])
        return tuple(outs)

    def _pointers(self, args: tuple[Any, ...]) -> list[int]:
        """Data pointers of the arguments. Arrays of the right dtype, shape and layout pass
        straight through (the one already passed at a position reuses its pointer); anything
        else goes through the full check, which names the argument that does not fit."""
        keep, kept_ptrs = self._keep, self._keep_ptrs
        if len(args) == len(self._in_specs):
            pointers: list[int] = []
            for i, (a, (dtype, shape)) in enumerate(zip(args, self._in_specs)):
                if i < len(keep) and a is keep[i]:
                    pointers.append(kept_ptrs[i])
                elif (
                    type(a) is np.ndarray
                    and a.dtype == dtype
                    and a.shape == shape
                    and a.flags.c_contiguous
                ):
                    pointers.append(a.ctypes.data)
                else:
                    break
            else:
                self._remember(args, pointers)
                return pointers
        arrays = [
            np.ascontiguousarray(a) for a in self.owner.checker.check_arguments(self.fn, args)
        ]
        pointers = [a.ctypes.data for a in arrays]
        self._remember(tuple(arrays), pointers)
        return pointers

    def _remember(self, arrays: tuple[Any, ...], pointers: list[int]) -> None:
        # A memo is keyed on the addresses of this call's buffers: keep them alive until the
        # next call replaces the keys, so an address cannot be reused behind its back.
        self._keep, self._keep_ptrs = arrays, pointers


class CompiledModule:
    """The compiled public functions of a module, by name: `compiled.main(x, w)` or
    `compiled.function("main")(x, w)`; `memo_reset()` forgets cached memo results."""

    def __init__(self, module: ModuleOp, opt: int = 3):
        self.source = module
        self.checker = ModuleRunner(module)
        public = public_functions(module)
        ir_module = llvm_ir_module(module)
        self.llvm_ir = str(ir_module)
        self.tm = host_target_machine(opt)
        try:
            parsed = llvm.parse_assembly(self.llvm_ir)
            parsed.verify()
        except RuntimeError as err:
            raise DiagnosticError(
                location_of(module), f"LLVM rejected the lowered module: {err}"
            ) from None
        optimize(parsed, self.tm, opt)
        self.engine = llvm.create_mcjit_compiler(parsed, self.tm)
        self.engine.finalize_object()
        self.engine.run_static_constructors()
        self.functions = {
            fn.sym_name.data: CompiledFunction(
                self, fn, self.engine.get_function_address(abi_name(fn.sym_name.data))
            )
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
