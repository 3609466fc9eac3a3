"""The runtime kernel library: cache-blocked matmul with packed panels, matrix-vector and
batched matmul, vectorised row kernels, and the thread pool, built as LLVM IR with llvmlite
and compiled once per process (see each module).

    lib = kernels.library()          # compiled for the host; entry points registered
    lib.function("red_sgemm")(...)   # ctypes; or call from JIT code after declare_in(module)
    kernels.library_ir()             # the IR text (llvm-as-16 / clang-16), kernels.object_code()
"""

from red.lowering.kernels.library import (
    ENTRY_POINTS,
    EntryPoint,
    KernelLibrary,
    build_into,
    declare_in,
    find_libgomp,
    library,
    library_ir,
    library_module,
    object_code,
)
from red.lowering.kernels.ndarray import matmul, row_kernel
from red.lowering.kernels.target import Blocking, KernelTarget, default_threads

__all__ = [
    "ENTRY_POINTS",
    "Blocking",
    "EntryPoint",
    "KernelLibrary",
    "KernelTarget",
    "build_into",
    "declare_in",
    "default_threads",
    "find_libgomp",
    "library",
    "library_ir",
    "library_module",
    "matmul",
    "object_code",
    "row_kernel",
]
