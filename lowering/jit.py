"""The JIT: compile a module (any level; red-lower runs on what is not lowered) with
llvmlite at LLVM's O3 for the host CPU, and call its functions on numpy arrays. The kernel
library parts the module calls are compiled first (once per process), so that the module's
declarations of them resolve; the module's kernel calls use `threads` threads."""

from __future__ import annotations

import ctypes
import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import llvmlite.binding as llvm
import llvmlite.ir as ir
import numpy as np
from xdsl.dialects.builtin import ModuleOp

from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.symbols import public_functions
from red.lowering import kernels
from red.lowering.compiled_function import CompiledFunction, memo_lock
from red.lowering.constant_binding import (
    MATMUL_PRECISIONS,
    bind_constants,
    matmul_precision_default,
)
from red.lowering.convert_red_to_loops import MEMO_RESET, abi_name
from red.lowering.llvm_ir import (
    bound_constant_sources,
    bound_constants_from_sources,
    called_kernels,
    llvm_ir_module,
)
from red.lowering.loops.kernel_calls import NUM_THREADS_GLOBAL
from red.lowering.object_symbols import undefined_symbols

if TYPE_CHECKING:
    from red.dialects.red_interpreter import ModuleRunner

_initialized = False
_symbols_lock = threading.Lock()


def compile_cache() -> Any:
    """The configured compile cache (RED_CACHE_URL, RED_CACHE_DIR; None with RED_CACHE=off
    or when no store can be opened: compiling never depends on the cache)."""
    from red.cache.compile_cache import CompileCache

    try:
        return CompileCache.open()
    except Exception:  # an unusable cache directory or URL: compile without it
        return None


# The compiler runtime: LLVM calls its soft-float helpers where the CPU has no instruction
# (`fptrunc double to half` is `__truncdfhf2` without AVX512-FP16, as on AMD Zen 4). MCJIT
# resolves only symbols of libraries loaded through it: one it cannot find becomes a call of
# address 0, and with it every other relocation of the object (a segfault, not an error).
COMPILER_RUNTIME = "libgcc_s.so.1"


def _init_llvm() -> None:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        try:
            llvm.load_library_permanently(COMPILER_RUNTIME)
        except RuntimeError:  # not a glibc system: the helpers must come from the process
            pass
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


class CompiledModule:
    """The compiled public functions of a module, by name: `compiled.main(x, w)` or
    `compiled.function("main")(x, w)`; `memo_reset()` forgets cached memo results.
    `threads`: the threads of its kernel calls (None: RED_NUM_THREADS, else the CPUs the
    process may use); each call of a compiled function still comes from one thread."""

    def __init__(
        self,
        module: ModuleOp,
        opt: int = 3,
        threads: int | None = None,
        edit_ir: Callable[[ir.Module], None] | None = None,
        bind: Mapping[str, np.ndarray] | None = None,
        matmul_precision: str | None = None,
    ):
        """`edit_ir` changes the LLVM module before it is compiled and `bind` gives the
        arrays external globals of that name are (the profiler's counters).
        `matmul_precision`: how the kernel library multiplies by the module's large constant
        weights ("f32", or "bf16": see `red.compile`; None: RED_MATMUL_PRECISION, else f32)."""
        self.source = module
        self.threads = resolve_threads(threads)
        self.matmul_precision = resolve_matmul_precision(matmul_precision)
        self.opt = opt
        public = public_functions(module)
        self.tm = host_target_machine(opt)
        # Large constants stay where they are: bound by address, kept alive by this object.
        self.bound_constants: dict[str, np.ndarray] = {}
        self._llvm_ir: str | None = None
        self.cache_hit = False
        cache = compile_cache() if edit_ir is None and bind is None else None
        key = self._cache_key() if cache is not None else ""
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            self.cache_hit = self._load_cached(module, hit.object_code, hit.metadata)
        if not self.cache_hit:
            ir_module = llvm_ir_module(
                module, bound_constants=self.bound_constants, threads=self.threads
            )
            set_kernel_threads(ir_module, self.threads)
            if edit_ir is not None:
                edit_ir(ir_module)
            self.bound_constants.update(bind or {})
            self._llvm_ir = str(ir_module)
            try:
                parsed = llvm.parse_assembly(self._llvm_ir)
                parsed.verify()
            except RuntimeError as err:
                raise DiagnosticError(
                    location_of(module), f"LLVM rejected the lowered module: {err}"
                ) from None
            optimize(parsed, self.tm, opt)
            # codegen once, to the object the cache keeps and the engine loads
            start = time.perf_counter()
            object_code = self.tm.emit_object(parsed)
            if cache is not None:
                metadata = {
                    "kernels": called_kernels(ir_module),
                    "bound": sorted(self.bound_constants),
                    "bound_sources": bound_constant_sources(module, self.bound_constants),
                    "compile_seconds": round(time.perf_counter() - start, 6),
                }
                cache.put(key, object_code, metadata)
            self._load_object(object_code, module)
        self.engine.run_static_constructors()
        self.functions = {
            fn.sym_name.data: CompiledFunction(
                self, fn, self.engine.get_function_address(abi_name(fn.sym_name.data))
            )
            for fn in public
        }
        reset = self.engine.get_function_address(MEMO_RESET)
        self._reset = ctypes.CFUNCTYPE(None)(reset) if reset else None

    def _cache_key(self) -> str:
        from red.cache.compile_cache import CompileTarget, key_for

        return key_for(
            self.source,
            {"opt": self.opt, "threads": self.threads, "jit": 1},
            CompileTarget.host(self.opt),
        )

    def _load_cached(self, module: ModuleOp, object_code: bytes, meta: dict[str, Any]) -> bool:
        """An engine from cached object code: no LLVM pass or codegen runs. The kernel
        library parts it calls are made ready and its large constants bound as on a miss
        (their bytes are the module's: taken from its constants where the entry says which,
        else found by lowering it again). False when the entry cannot be used (then it is
        compiled)."""
        kernel_names, bound = meta.get("kernels"), meta.get("bound")
        if not isinstance(kernel_names, list) or not isinstance(bound, list):
            return False
        obj = llvm.ObjectFileRef.from_data(object_code)
        if not obj._ptr:
            return False
        if bound:
            sources = meta.get("bound_sources")
            found = (
                bound_constants_from_sources(module, sources) if isinstance(sources, dict) else None
            )
            if found is not None and sorted(found) == bound:
                self.bound_constants.update(found)
            else:
                llvm_ir_module(module, bound_constants=self.bound_constants)
            if sorted(self.bound_constants) != bound:
                self.bound_constants.clear()
                return False
        if kernel_names:
            kernels.library().require(kernel_names)
        self._load_object(object_code, module)
        return True

    def _load_object(self, object_code: bytes, module: ModuleOp) -> None:
        shell = llvm.parse_assembly("")
        shell.triple = llvm.get_process_triple()
        shell.data_layout = str(self.tm.target_data)
        self.engine = llvm.create_mcjit_compiler(shell, self.tm)  # the process's symbols too
        missing = [
            name
            for name in undefined_symbols(object_code)
            if name not in self.bound_constants and llvm.address_of_symbol(name) is None
        ]
        if missing:
            raise DiagnosticError(
                location_of(module),
                f"the compiled code calls {', '.join(map(repr, missing))}, which this process "
                "does not provide (a runtime helper LLVM calls where the CPU has no "
                "instruction for an operation)",
            )
        self.engine.add_object_file(llvm.ObjectFileRef.from_data(object_code))
        self._finalize()

    def _finalize(self) -> None:
        with _symbols_lock:  # the names are the module's own: bind, then resolve at once
            bind_constants(self.bound_constants, self.matmul_precision)
            self.engine.finalize_object()

    @functools.cached_property
    def checker(self) -> ModuleRunner:
        """The interpreter's argument checks and located errors, made on first need (arrays
        that do not fit a call's fast path, an unknown function): importing and building it
        is 0.1 s that a compile does not need."""
        from red.dialects.red_interpreter import ModuleRunner

        return ModuleRunner(self.source)

    @property
    def llvm_ir(self) -> str:
        """The LLVM IR the module was compiled from (lowered again when the object code
        came from the compile cache)."""
        if self._llvm_ir is None:
            ir_module = llvm_ir_module(self.source, bound_constants={}, threads=self.threads)
            set_kernel_threads(ir_module, self.threads)
            self._llvm_ir = str(ir_module)
        return self._llvm_ir

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
        """`red_memo_reset()`: the next call recomputes every memo (under the lock of the
        calls that run memos, so a reset cannot race a memo being filled)."""
        if self._reset is not None:
            with memo_lock(self):
                self._reset()

    def optimized_ir(self) -> str:
        return self.llvm_ir


def resolve_threads(threads: int | None) -> int:
    """The thread count of kernel calls: `threads`, else RED_NUM_THREADS, else the CPUs
    this process may use (os.sched_getaffinity)."""
    if threads is None:
        return kernels.default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"'threads' must be a positive integer, got {threads!r}")
    return threads


def resolve_matmul_precision(precision: str | None) -> str:
    """`precision`, else RED_MATMUL_PRECISION, else f32; a `ValueError` for anything but
    f32 and bf16."""
    if precision is None:
        return matmul_precision_default()
    if precision not in MATMUL_PRECISIONS:
        raise ValueError(
            f"'matmul_precision' must be one of {', '.join(MATMUL_PRECISIONS)}, got {precision!r}"
        )
    return precision


def set_kernel_threads(ir_module: ir.Module, threads: int) -> None:
    """Make the module's kernel calls use `threads` threads: its thread-count global
    becomes that constant (LLVM folds it into every call)."""
    gvar: Any = ir_module.globals.get(NUM_THREADS_GLOBAL)  # llvmlite types initializer None
    if gvar is not None:
        gvar.initializer = ir.Constant(gvar.value_type, [ir.Constant(ir.IntType(32), threads)])
        gvar.global_constant = True


def compile_module(
    module: ModuleOp, opt: int = 3, threads: int | None = None, matmul_precision: str | None = None
) -> CompiledModule:
    return CompiledModule(module, opt, threads, matmul_precision=matmul_precision)
