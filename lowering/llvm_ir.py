"""LLVM IR text from a lowered module, through xDSL's llvmlite backend; the kernel library
entry points the module calls are declared, or defined in it for a self-contained module
(what red-translate writes for clang).

Large constant globals (weights folded into the module) never become Python lists of
elements (xDSL's backend makes one per global): their bytes go into the IR text as one
string (`c"\\3f\\80..."`, made at C speed), or, for the JIT, the global is declared external and
bound to the bytes where they already are (no copy, no text)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain

import llvmlite.ir as ir
import numpy as np
from xdsl.backend.llvm.convert import convert_module
from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    ModuleOp,
    SymbolRefAttr,
    i8,
)

from red.dialects.numpy_interop import resource_blob
from red.lowering import kernels
from red.lowering.gc_pause import gc_paused
from red.lowering.llvm.memref import ZERO_INIT_ATTR
from red.lowering.loops.outline import NOINLINE_ATTR, PARALLEL_NEST_ATTR
from red.lowering.parallel_nests import run_nests_on_threads
from red.lowering.red_lower import is_lowered, lower_module

LARGE_CONSTANT_BYTES = 1024
"""Constant globals of at least this many bytes are written as bytes (or bound, for the JIT).
Below it, xDSL's backend formats each element in Python (GPT-2-small's 76 biases and norm
weights of 768 floats, as constants: 0.3 s); LLVM folds loads from a global it sees, which
matters for a few elements, not for a kilobyte."""


def llvm_ir_module(
    module: ModuleOp,
    ctx: Context | None = None,
    with_kernels: bool = False,
    bound_constants: dict[str, np.ndarray] | None = None,
    threads: int = 1,
) -> ir.Module:
    """The llvmlite module of `module`, lowering a copy first if it is not yet lowered. The
    kernel library's entry points it calls are declarations, resolved by the library compiled
    into this process (made ready here, so any in-process JIT of the module links), or with
    `with_kernels` are defined in it for the host CPU. Large constant globals are external
    declarations whose bytes are put in `bound_constants` by name (the caller binds each
    symbol to its array's address) when that dict is given, else `[N x i8]` globals whose
    initializer is left for `module_to_llvm_ir` to write (as `large_constants(module)`).
    With `threads` > 1 the parallel loop nests run on that many threads of the kernel
    library's pool (lowering/parallel_nests.py); else each runs on the calling thread."""
    with gc_paused():
        private = not is_lowered(module)  # lowered here: a copy of this call's own
        if private:
            module = module.clone()
            lower_module(module, ctx)
        large = _large_constants(module)
        if large:
            if not private:
                module = module.clone()  # the caller's module keeps its values
            _strip_values(module, large)
        ir_module = convert_module(module, fallback_target_triple=None)
    for name, raw in large.items():
        gvar = ir_module.get_global(name)
        if bound_constants is not None:
            gvar.linkage = "external"  # a declaration: bound by address at JIT time
            gvar.align = None  # the bytes' own alignment (loads assume only the element's)
            bound_constants[name] = np.frombuffer(raw, dtype=np.uint8)
        else:
            gvar.initializer = ir.Constant(gvar.value_type, None)  # replaced in the text
    nests: dict[str, str] = {}
    for op in module.body.ops:
        if isinstance(op, llvm.FuncOp) and isinstance(
            nest := op.attributes.get(PARALLEL_NEST_ATTR), SymbolRefAttr
        ):
            nests[op.sym_name.data] = nest.root_reference.data
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
    if threads > 1 and nests and not with_kernels:
        kernels.library()  # the pool the nests run on (its entry is a process symbol)
        run_nests_on_threads(ir_module, nests, threads)
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


def _large_constants(module: ModuleOp) -> dict[str, bytes]:
    """The bytes of each large constant global of a lowered module, by name."""
    out: dict[str, bytes] = {}
    for op in module.body.ops:
        if isinstance(op, llvm.GlobalOp) and isinstance(op.value, DenseIntOrFPElementsAttr):
            raw = op.value.data.data
            if len(raw) >= LARGE_CONSTANT_BYTES:
                out[op.sym_name.data] = raw
    return out


def _strip_values(module: ModuleOp, large: dict[str, bytes]) -> None:
    """Replace each large constant global by an `[N x i8]` constant without a value."""
    for op in list(module.body.ops):
        if isinstance(op, llvm.GlobalOp) and op.sym_name.data in large:
            size = len(large[op.sym_name.data])
            new = llvm.GlobalOp(
                llvm.LLVMArrayType(size, i8), op.sym_name, "internal", constant=True, alignment=64
            )
            module.body.block.insert_op_before(new, op)
            op.detach()
            op.erase(safe_erase=False)


def _bytes_initializer(raw: bytes) -> str:
    """`c"\\XX\\XX..."`: LLVM's string constant of `raw`, every byte escaped (bytes.hex)."""
    return 'c"\\' + raw.hex("\\") + '"' if raw else "zeroinitializer"


def module_to_llvm_ir(
    module: ModuleOp, ctx: Context | None = None, with_kernels: bool = True
) -> str:
    """The module's LLVM IR text, by default self-contained: the kernel library parts it
    calls are defined in it (for the host CPU; `clang -O2 model.ll driver.c -lm`: threads
    come from pthreads, their default count from RED_NUM_THREADS, else from libgomp's
    `omp_get_max_threads` when `-lgomp` is linked, else 1), else only declared (link the
    library's object code, `red.lowering.kernels.object_code()`, or its IR,
    `kernels.library_ir()`)."""
    with gc_paused():
        if not is_lowered(module):
            module = module.clone()
            lower_module(module, ctx)
        text = str(llvm_ir_module(module, ctx, with_kernels))
        for name, raw in _large_constants(module).items():
            placeholder = f'@"{name}" = internal constant [{len(raw)} x i8] zeroinitializer'
            assert placeholder in text, placeholder
            filled = placeholder.replace("zeroinitializer", _bytes_initializer(raw))
            text = text.replace(placeholder, filled, 1)
        return text


# region Bound constants without lowering


def constant_bytes(module: ModuleOp) -> list[np.ndarray]:
    """The bytes of every dense elements attribute and dense resource of `module` (operation
    properties and attributes, in walk order) as uint8 arrays viewing them (no copy)."""
    out: list[np.ndarray] = []
    for op in module.walk():
        for attr in chain(op.properties.values(), op.attributes.values()):
            if isinstance(attr, DenseIntOrFPElementsAttr):
                out.append(np.frombuffer(attr.data.data, dtype=np.uint8))
            elif isinstance(attr, DenseResourceAttr):
                blob = resource_blob(attr)
                data = blob.data if blob is not None else b""
                out.append(np.frombuffer(data, dtype=np.uint8))
    return out


SPLAT_SOURCE_BYTES = 16
"""A bound constant may be one element of the module repeated (a splat): only constants of at
most this many bytes are tried as that element."""


def bound_constant_sources(
    module: ModuleOp, bound: Mapping[str, np.ndarray]
) -> dict[str, list[int]] | None:
    """Where the bytes of each bound constant (`llvm_ir_module`'s `bound_constants` of
    `module`) are in `module` itself: name -> [i, repeats, bytes], the i-th of
    `constant_bytes(module)` repeated `repeats` times (a splat). With it a compile-cache hit
    binds the constants without lowering the module again. None when one of them is not a
    constant of the module (derived by the lowering)."""
    sources = constant_bytes(module)
    by_size: dict[int, list[int]] = {}
    for i, data in enumerate(sources):
        by_size.setdefault(data.nbytes, []).append(i)
    small = [i for i, data in enumerate(sources) if 0 < data.nbytes <= SPLAT_SOURCE_BYTES]
    out: dict[str, list[int]] = {}
    for name, data in bound.items():
        found = _same_bytes(data, sources, by_size.get(data.nbytes, []))
        if found is not None:
            out[name] = [found, 1, data.nbytes]
            continue
        for i in small:
            repeats, rest = divmod(data.nbytes, sources[i].nbytes)
            if rest == 0 and bool((data.reshape(repeats, -1) == sources[i]).all()):
                out[name] = [i, repeats, data.nbytes]
                break
        else:
            return None
    return out


def _same_bytes(data: np.ndarray, sources: list[np.ndarray], candidates: list[int]) -> int | None:
    """The index of a candidate holding the same bytes as `data`: the same memory first (a
    constant the lowering passed through), then equal content (a sample before all bytes,
    so that the many weights of one size are not each compared in full)."""
    address = data.ctypes.data
    for i in candidates:
        if sources[i].ctypes.data == address:
            return i
    step = max(1, data.nbytes // 4096)
    for i in candidates:
        if np.array_equal(sources[i][::step], data[::step]) and np.array_equal(sources[i], data):
            return i
    return None


def bound_constants_from_sources(
    module: ModuleOp, sources: Mapping[str, list[int]]
) -> dict[str, np.ndarray] | None:
    """The bound constants `bound_constant_sources` described, made from `module`'s own
    constants (views; a splat is repeated); None when the module does not hold them (then
    lower it)."""
    constants = constant_bytes(module)
    out: dict[str, np.ndarray] = {}
    for name, place in sources.items():
        if not (isinstance(place, list) and len(place) == 3):
            return None
        i, repeats, nbytes = place
        if not 0 <= i < len(constants) or constants[i].nbytes * repeats != nbytes:
            return None
        out[name] = constants[i] if repeats == 1 else np.tile(constants[i], repeats)
    return out


# endregion
