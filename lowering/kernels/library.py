"""The kernel library as a whole: its entry points (C ABI), the LLVM IR module that defines them
for a target, and the process-wide compiled copy (llvmlite MCJIT at O3 for the host CPU) whose
symbols every later JIT module resolves."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llvmlite.binding as llvm
import llvmlite.ir as ir
import numpy as np
from llvmlite import __version__ as llvm_version
from xdsl.ir import Attribute

from red.lowering.kernels.gemm import (
    GemmGenerator,
    batched_args,
    gemm_args,
    pack_b_args,
    prepacked_args,
)
from red.lowering.kernels.gemm_bf16 import Bf16GemmGenerator
from red.lowering.kernels.irgen import F32, F64, I32, I64, PTR, VOID
from red.lowering.kernels.parallel import GET_NUM_THREADS, SET_NUM_THREADS, Runtime
from red.lowering.kernels.pool import PARALLEL
from red.lowering.kernels.rows import ROW_KERNELS, RowKernelGenerator
from red.lowering.kernels.target import KernelTarget, amx_permitted, default_threads
from red.lowering.kernels.weights import PRECISIONS, register_args

_C_TYPES = {"i64": "int64_t", "i32": "int32_t", "f32": "float", "ptr": "void *", "void": "void"}
_IR_TYPES: dict[str, ir.Type] = {"i64": I64, "i32": I32, "f32": F32, "ptr": PTR, "void": VOID}
_CTYPES = {
    "i64": ctypes.c_int64,
    "i32": ctypes.c_int32,
    "f32": ctypes.c_float,
    "ptr": ctypes.c_void_p,
    "void": None,
}


@dataclass(frozen=True)
class EntryPoint:
    """A C function of the library: `ret name(args...)`, each type one of i64, i32, f32, ptr."""

    name: str
    ret: str
    args: tuple[tuple[str, str], ...]
    doc: str

    @property
    def ir_type(self) -> ir.FunctionType:
        return ir.FunctionType(_IR_TYPES[self.ret], [_IR_TYPES[t] for _, t in self.args])

    def c_prototype(self) -> str:
        params = ", ".join(f"{_C_TYPES[t]}{'' if t == 'ptr' else ' '}{n}" for n, t in self.args)
        return f"{_C_TYPES[self.ret]} {self.name}({params or 'void'});"

    def xdsl_types(self) -> tuple[list[Attribute], Attribute | None]:
        """(argument types, result type or None) in xDSL's llvm-dialect terms, for a lowering
        that declares the entry point (`llvm.func @red_sgemm(i64, ..., !llvm.ptr, ...)`)."""
        from xdsl.dialects.builtin import f32, i32, i64
        from xdsl.dialects.llvm import LLVMPointerType

        types: dict[str, Attribute] = {"i64": i64, "i32": i32, "f32": f32}
        types["ptr"] = LLVMPointerType()
        inputs = [types[t] for _, t in self.args]
        return inputs, None if self.ret == "void" else types[self.ret]

    def ctypes_type(self) -> type:
        return ctypes.CFUNCTYPE(_CTYPES[self.ret], *[_CTYPES[t] for _, t in self.args])


def _spelled(args: Sequence[tuple[str, ir.Type]]) -> tuple[tuple[str, str], ...]:
    names = {str(v): k for k, v in _IR_TYPES.items()}
    return tuple((n, names[str(t)]) for n, t in args)


def _entry_points() -> dict[str, EntryPoint]:
    gemm_doc = (
        "C (+)= A·B: A is m x k, B is k x n, C is m x n; element (i, j) of X at X + i*X_rs + "
        "j*X_cs (in elements), so A^T/B^T are the swapped strides; accumulate != 0 adds to C; "
        "nthreads <= 0 uses the library default"
    )
    batched_doc = (
        "for each (i0, i1) < (batch0, batch1): C[i0, i1] (+)= A[i0, i1]·B[i0, i1], operand X "
        "of batch (i0, i1) at X + i0*X_bs0 + i1*X_bs1 (a 0 stride broadcasts)"
    )
    pack_doc = (
        "pack B (k x n, strides b_rs, b_cs) into dst, which holds _packed_b_size(k, n) "
        "elements (64-byte aligned), in the layout _prepacked reads"
    )
    prepacked_doc = "C (+)= A·B with B packed by _pack_b for this library's target"
    bf16_doc = (
        "red_sgemm with bf16 products (f32 in and out, each product of bf16-rounded operands, "
        "accumulated in f32) where the CPU has AVX512-BF16, else red_sgemm; m = 1 and n = 1 "
        "take red_sgemm's f32 matrix-vector paths"
    )
    points = [
        EntryPoint("red_sgemm_bf16", "void", _spelled(gemm_args()), bf16_doc),
        EntryPoint("red_sgemm_bf16_batched", "void", _spelled(batched_args(F32)), bf16_doc),
    ]
    for prefix, elt in (("red_sgemm", F32), ("red_dgemm", F64)):
        points.append(EntryPoint(prefix, "void", _spelled(gemm_args()), gemm_doc))
        points.append(
            EntryPoint(f"{prefix}_batched", "void", _spelled(batched_args(elt)), batched_doc)
        )
        points.append(
            EntryPoint(f"{prefix}_prepacked", "void", _spelled(prepacked_args()), prepacked_doc)
        )
        points.append(EntryPoint(f"{prefix}_pack_b", "void", _spelled(pack_b_args()), pack_doc))
        register_doc = (
            "register the bytes [base, base + bytes) as constant while registered: a matmul "
            "whose B lies inside packs it once and reuses the pack (precision 1: red_sgemm "
            "multiplies such a B in bf16 where the CPU has AVX512-BF16); unregistering the "
            "same range and precision frees them"
        )
        points.append(
            EntryPoint(
                f"{prefix}_register_constant", "void", _spelled(register_args()), register_doc
            )
        )
        points.append(
            EntryPoint(
                f"{prefix}_unregister_constant", "void", _spelled(register_args()), register_doc
            )
        )
        points.append(EntryPoint(f"{prefix}_constant_packs", "i64", (), "packs of constant B held"))
        size_args = (("k", "i64"), ("n", "i64"))
        size_doc = "elements of a packed B (0 when k or n is 0)"
        points.append(EntryPoint(f"{prefix}_packed_b_size", "i64", size_args, size_doc))
    for kernel in ROW_KERNELS:
        points.append(EntryPoint(kernel.symbol, "void", _spelled(kernel.args()), kernel.doc))
    points.append(EntryPoint(SET_NUM_THREADS, "void", (("n", "i32"),), "the default thread count"))
    points.append(
        EntryPoint(GET_NUM_THREADS, "i32", (), "the default thread count (resolved on first use)")
    )
    return {p.name: p for p in points}


ENTRY_POINTS = _entry_points()


def declare_in(module: ir.Module) -> dict[str, ir.Function]:
    """Declarations of every entry point in an llvmlite module (existing ones are kept), so
    its code can call the library; returns them by name."""
    out: dict[str, ir.Function] = {}
    for name, point in ENTRY_POINTS.items():
        existing = module.globals.get(name)
        if isinstance(existing, ir.Function):
            out[name] = existing
        else:
            out[name] = ir.Function(module, point.ir_type, name)
    return out


# The library's parts, each compiled on first use in the JIT (a model in f32 never waits for
# the f64 matmul); the thread-count state is a part of its own that the others call.
_GEMM_ENTRIES = (
    "",
    "_batched",
    "_prepacked",
    "_pack_b",
    "_packed_b_size",
    "_register_constant",
    "_unregister_constant",
    "_constant_packs",
)
UNITS: dict[str, tuple[str, ...]] = {
    "sgemm": (
        *(f"red_sgemm{suffix}" for suffix in _GEMM_ENTRIES),
        "red_sgemm_bf16",
        "red_sgemm_bf16_batched",
    ),
    "dgemm": tuple(f"red_dgemm{suffix}" for suffix in _GEMM_ENTRIES),
    "rows": tuple(kernel.symbol for kernel in ROW_KERNELS),
}
STATE = (SET_NUM_THREADS, GET_NUM_THREADS, PARALLEL)
_GEMM_UNITS = {"sgemm": "red_sgemm", "dgemm": "red_dgemm"}


def build_into(
    module: ir.Module,
    target: KernelTarget,
    units: Sequence[str] = tuple(UNITS),
    state: bool = True,
    getter: str = GET_NUM_THREADS,
    bf16: bool = False,
) -> None:
    """Define the library (the given units, and the thread-count state unless `state` is
    False: then the units call the state's getter by the name `getter`) in `module`: entry
    points it already declares get their bodies; helpers are internal, named red_kernels.*,
    red_sgemm.*, ...; red_sgemm_bf16 is the f32 matmul unless `bf16` (and a target with
    AVX512-BF16): the bf16 code is for llvmlite's LLVM only (clang-16 cannot compile it:
    LLVM 16 crashes on its vdpbf16ps loops and lacks the features for AMX without -march)."""
    rt = Runtime.build(module, state, getter)
    for unit in units:
        if unit == "sgemm":
            f32 = GemmGenerator(rt, target, F32, "red_sgemm")
            with_bf16 = bf16 and target.has_bf16
            f32.build(Bf16GemmGenerator(rt, target, f32) if with_bf16 else None)
        elif unit == "dgemm":
            GemmGenerator(rt, target, F64, "red_dgemm").build()
        elif unit == "rows":
            RowKernelGenerator(rt, target).build()
        else:
            raise ValueError(f"unknown kernel unit '{unit}' (known: {', '.join(UNITS)})")


def library_module(
    target: KernelTarget | None = None,
    units: Sequence[str] = tuple(UNITS),
    state: bool = True,
    getter: str = GET_NUM_THREADS,
    bf16: bool = False,
) -> ir.Module:
    """The library as an llvmlite module (for the host unless told otherwise; `bf16`: with
    the bf16 matmul, for llvmlite's LLVM)."""
    target = target or KernelTarget.host()
    module = ir.Module(name="red_kernels")
    module.triple = llvm.get_process_triple()
    build_into(module, target, units, state, getter, bf16)
    return module


def library_ir(target: KernelTarget | None = None, units: Sequence[str] = tuple(UNITS)) -> str:
    """The library's LLVM IR text: llvmlite's own printing of the generated module, which
    llvm-as-16 and clang-16 accept (threads from pthreads, in glibc's libc since 2.34;
    -lgomp only lets the default thread count follow OMP_NUM_THREADS). The vector width is
    the target's: compile AVX-512 IR with -mavx512f (or -march=native), or generate for
    KernelTarget.baseline() to run on any x86-64. The bf16 matmul is left out (red_sgemm_bf16
    is red_sgemm here): clang-16's optimizer crashes on its vdpbf16ps loops (LLVM 16's
    VectorCombine); object_code, compiled by llvmlite's LLVM, has it."""
    return str(library_module(target, units))


def object_code(target: KernelTarget | None = None, units: Sequence[str] = tuple(UNITS)) -> bytes:
    """The library (those units and the thread-count state) compiled at O3 as an ELF object
    for `target` (the host by default), to link with a clang-compiled model."""
    target = target or KernelTarget.host()
    module, tm = _compile(str(library_module(target, units, bf16=True)), target)
    return tm.emit_object(module)


def find_libgomp() -> str | None:
    """A libgomp to load: the system's (ctypes.util), else a copy torch or gcc ships."""
    found = ctypes.util.find_library("gomp")
    if found:
        return found
    candidates: list[Path] = []
    try:
        import importlib.util

        spec = importlib.util.find_spec("torch")
        if spec and spec.origin:
            candidates += sorted((Path(spec.origin).parent / "lib").glob("libgomp*.so*"))
    except (ImportError, ValueError):
        pass
    candidates += sorted(Path("/usr/lib/gcc").glob("*/*/libgomp.so*"))
    return str(candidates[0]) if candidates else None


_gomp: list[str | None] = []


def load_libgomp() -> str | None:
    """Load libgomp into the process once (for the library's threads, and for JIT-compiled
    code that references its symbols weakly: MCJIT links an unresolved weak symbol to a bad
    address, not null); returns its path, or None when there is none (calls run serially)."""
    with _lock:
        if _gomp:
            return _gomp[0]
        gomp = find_libgomp()
        if gomp:
            # libgomp reads its wait policy once, when it loads. Its default spins after each
            # region, which on a machine with more runnable processes than cores made 2-thread
            # calls up to 100x slower than 1-thread ones (a spinning thread holds a core for a
            # whole time slice); passive threads sleep at once and cost a wake-up per region.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                # Never unloaded: at exit LLVM dlcloses the libraries it loaded, and a libgomp
                # thread still spinning after a parallel region would run unmapped code.
                mode = os.RTLD_NOW | os.RTLD_GLOBAL | os.RTLD_NODELETE
                _gomp_handles.append(ctypes.CDLL(gomp, mode=mode))
                llvm.load_library_permanently(gomp)
            except (OSError, RuntimeError):
                gomp = None
        _gomp.append(gomp)
        return gomp


_gomp_handles: list[ctypes.CDLL] = []
_initialized = False


def _machine(target: KernelTarget) -> llvm.TargetMachine:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _initialized = True
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=target.cpu, features=target.features, opt=3, codemodel="jitdefault"
    )


def _compile(text: str, target: KernelTarget) -> tuple[llvm.ModuleRef, llvm.TargetMachine]:
    tm = _machine(target)
    module = llvm.parse_assembly(text)
    module.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = False  # the kernels are unrolled where it pays, by hand
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(module, pb)
    return module, tm


def _engine_from_object(object_code: bytes, target: KernelTarget) -> llvm.ExecutionEngine:
    tm = _machine(target)
    shell = llvm.parse_assembly("")
    shell.triple = llvm.get_process_triple()
    shell.data_layout = str(tm.target_data)
    engine = llvm.create_mcjit_compiler(shell, tm)
    engine.add_object_file(llvm.ObjectFileRef.from_data(object_code))
    engine.finalize_object()
    return engine


def _unit_cache() -> Any:
    """The compile cache (red.cache's CompileCache), or None when it is off."""
    from red.cache.compile_cache import CompileCache

    return CompileCache.open()


def _unit_key(target: KernelTarget, unit: str, getter: str) -> str:
    """What a unit's object code depends on: the library's sources (this folder's .py files),
    the target (with its CPU features), the unit, the getter name it calls and LLVM."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    description = {
        "schema": "red-kernels/1",
        "sources": digest.hexdigest(),
        "target": repr(target.key),
        "features": target.features,
        "unit": unit,
        "getter": getter,
        "llvm": ".".join(map(str, llvm.llvm_version_info)),
        "llvmlite": llvm_version,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


class KernelLibrary:
    """The library compiled into this process, part by part on first use: `require(names)`
    compiles the units defining those entry points (`address` and `function` do it too),
    each at O3 for the target in its own MCJIT engine; their entry points are registered as
    process symbols (llvmlite's add_symbol), so JIT modules compiled afterwards that declare
    them call them. `compile_seconds` maps each compiled unit to the seconds it took to generate
    and compile."""

    def __init__(self, target: KernelTarget, register: bool = True):
        self.target = target
        self.register = register
        self.gomp = load_libgomp()
        self.addresses: dict[str, int] = {}
        self.compile_seconds: dict[str, float] = {}
        self.cached_units: set[str] = set()  # loaded from the compile cache, not compiled
        self._engines: list[llvm.ExecutionEngine] = []
        self._functions: dict[str, Any] = {}
        # Constant ranges (address, bytes) -> registrations alive; every compiled gemm unit
        # holds each range once (units compiled later get the live ones).
        self._constants: dict[tuple[int, int, int], int] = {}
        self._compile_unit("state", lambda: library_module(target, units=(), state=True), STATE)
        # The units find the state's getter by a name of this library's own (the canonical
        # one is a process symbol only for the registering library).
        self._getter = f"{GET_NUM_THREADS}.{len(_libraries)}"
        llvm.add_symbol(self._getter, self.addresses[GET_NUM_THREADS])
        parallel = PARALLEL + self._getter.removeprefix(GET_NUM_THREADS)
        llvm.add_symbol(parallel, self.addresses[PARALLEL])
        self.set_num_threads(default_threads())

    def _compile_unit(
        self, unit: str, module: Callable[[], ir.Module], names: Sequence[str], getter: str = ""
    ) -> None:
        """Compile a unit (or load its object code from the compile cache, keyed by the
        kernel sources, the target, the unit and the state getter's name it calls)."""
        start = time.perf_counter()
        cache, key = _unit_cache(), _unit_key(self.target, unit, getter)
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            object_code = hit.object_code
            self.cached_units.add(unit)
        else:
            compiled, tm = _compile(str(module()), self.target)
            object_code = tm.emit_object(compiled)
            if cache is not None:
                cache.put(key, object_code, {"unit": unit, "target": repr(self.target.key)})
        engine = _engine_from_object(object_code, self.target)
        self._engines.append(engine)
        if unit == "state":
            # The pool's threads sleep inside this unit's code until the process ends: its
            # engine must outlive the interpreter's teardown (as libgomp stays mapped).
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(engine))
        for name in names:
            self.addresses[name] = engine.get_function_address(name)
            if self.register:
                llvm.add_symbol(name, self.addresses[name])
        self.compile_seconds[unit] = time.perf_counter() - start
        if unit in _GEMM_UNITS:
            for key in self._constants:
                self.function(f"{_GEMM_UNITS[unit]}_register_constant")(*key)

    def register_constant(self, array: np.ndarray, matmul_precision: str = "f32") -> None:
        """Declare the bytes of `array` constant for as long as the array object lives: a
        matmul of this library whose B lies inside them packs B once (per shape, strides
        and blocking) and reuses the pack in later calls; when the array is freed, the range
        is unregistered and its packs freed (weakref.finalize), so a new array at the same
        address is never read through a stale pack. The caller must not change the bytes
        while the array lives (a JIT module's bound constants).

        `matmul_precision="bf16"`: red_sgemm multiplies a B read from these bytes with bf16
        products (see `bf16`); ignored (f32) on a CPU without AVX512-BF16. Bytes registered
        under both precisions are read with the later registration's: bind_constants gives
        the later one a copy of its own (see registered_otherwise)."""
        key = (int(array.ctypes.data), int(array.nbytes), self._precision(matmul_precision))
        if key[1] == 0:
            return
        with _lock:
            count = self._constants.get(key, 0)
            self._constants[key] = count + 1
            if count == 0:
                for unit, prefix in _GEMM_UNITS.items():
                    if unit in self.compile_seconds:
                        self.function(f"{prefix}_register_constant")(*key)
        finalizer = weakref.finalize(array, self._release_constant, key)
        finalizer.atexit = False  # at exit the process frees everything anyway

    def _precision(self, matmul_precision: str) -> int:
        """The range precision code of `matmul_precision` here (bf16 is f32 without it)."""
        if matmul_precision not in PRECISIONS:
            raise ValueError(
                f"matmul precision '{matmul_precision}' is not one of {', '.join(PRECISIONS)}"
            )
        precision = PRECISIONS[matmul_precision]
        return 0 if precision and not self.bf16 else precision

    def registered_otherwise(self, array: np.ndarray, matmul_precision: str) -> bool:
        """Whether bytes of `array` lie in a live range registered in another precision
        (registering them in this one would change how that range's matmuls multiply)."""
        lo, hi = int(array.ctypes.data), int(array.ctypes.data) + int(array.nbytes)
        precision = self._precision(matmul_precision)
        with _lock:
            return any(
                other != precision and base < hi and lo < base + size
                for base, size, other in self._constants
            )

    @property
    def bf16(self) -> bool:
        """Whether red_sgemm_bf16 (and constants registered in bf16) multiply in bf16 here:
        the target has AVX512-BF16, and with AMX Linux lets this process use the tiles."""
        return self.target.has_bf16 and (not self.target.has_amx or amx_permitted())

    def _release_constant(self, key: tuple[int, int, int]) -> None:
        with _lock:
            count = self._constants.get(key, 0) - 1
            if count > 0:
                self._constants[key] = count
                return
            self._constants.pop(key, None)
            for unit, prefix in _GEMM_UNITS.items():
                if unit in self.compile_seconds:
                    self.function(f"{prefix}_unregister_constant")(*key)

    def constant_packs(self) -> int:
        """Packs of constant B operands the compiled gemm units hold."""
        with _lock:
            return sum(
                int(self.function(f"{prefix}_constant_packs")())
                for unit, prefix in _GEMM_UNITS.items()
                if unit in self.compile_seconds
            )

    def require(self, names: Sequence[str] = ()) -> None:
        """Compile the units that define `names` (every unit when empty), if not yet done."""
        with _lock:
            for unit, entries in UNITS.items():
                if unit in self.compile_seconds:
                    continue
                if not names or any(name in entries for name in names):
                    self._compile_unit(
                        unit,
                        lambda unit=unit: library_module(
                            self.target, (unit,), False, self._getter, bf16=True
                        ),
                        entries,
                        self._getter,
                    )

    @property
    def threaded(self) -> bool:
        """Whether calls with nthreads > 1 run on several threads: always, on the library's
        pthread pool (libgomp, found or not, only answers the default thread count)."""
        return True

    def address(self, name: str) -> int:
        if name not in ENTRY_POINTS:
            raise KeyError(f"no kernel entry point '{name}'")
        if name not in self.addresses:
            self.require([name])
        return self.addresses[name]

    def function(self, name: str) -> Any:
        """The entry point as a ctypes function."""
        if name not in self._functions:
            self._functions[name] = ENTRY_POINTS[name].ctypes_type()(self.address(name))
        return self._functions[name]

    def set_num_threads(self, n: int) -> None:
        """The thread count calls use when their nthreads argument is 0."""
        self.function(SET_NUM_THREADS)(max(1, int(n)))

    def num_threads(self) -> int:
        return int(self.function(GET_NUM_THREADS)())


_libraries: dict[tuple, KernelLibrary] = {}
_lock = threading.RLock()


def library(target: KernelTarget | None = None) -> KernelLibrary:
    """The library for `target` (the host by default), one per process and target. Only the
    host's library registers its entry points as process symbols (another target's, e.g.
    one with blocking overrides for tuning, is reached through `address`/`function`)."""
    host = KernelTarget.host()
    target = target or host
    with _lock:
        if target.key not in _libraries:
            _libraries[target.key] = KernelLibrary(target, register=target.key == host.key)
        return _libraries[target.key]
