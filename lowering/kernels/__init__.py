"""The runtime kernel library: cache-blocked matmul with packed panels, matrix-vector and
batched matmul, vectorised row kernels and their threads (a pthread pool, pool.py), generated
as LLVM IR with llvmlite for a target CPU and compiled once per process, its object code kept
in the compile cache for the next process (like IREE's microkernels: a library the compiled
model calls). Constant weights (registered ranges, weights.py) are packed once.

Entry points (C ABI; `ENTRY_POINTS[name].c_prototype()` prints each; strides and sizes are
in elements; `nthreads` <= 0 means the library default):

    red_sgemm(m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, c, c_rs, c_cs, accumulate, nthreads)
        C (+)= A·B, X[i, j] at X + i*X_rs + j*X_cs: A^T is (a_rs, a_cs) = (1, lda), B^T is
        (1, ldb); m = 1 and n = 1 take the matrix-vector paths. red_dgemm: the same in f64.
    red_sgemm_batched(batch0, batch1, m, n, k, a, a_bs0, a_bs1, a_rs, a_cs, b, ...,
                      c, ..., accumulate, nthreads)
        for each (i0, i1): X of that batch at X + i0*X_bs0 + i1*X_bs1 (0 broadcasts).
    red_softmax_f32 / red_gelu_f32 / red_gelu_tanh_f32 / red_silu_f32
                     (rows, n, x, ldx, y, ldy, nthreads)
    red_layer_norm_f32(rows, n, x, ldx, y, ldy, eps, gamma, beta, nthreads)
    red_rms_norm_f32(rows, n, x, ldx, y, ldy, eps, gamma, nthreads)
        over the last axis of row-major [rows, n]; gamma/beta may be null; y may be x.
    red_sgemm_pack_b(k, n, b, b_rs, b_cs, dst, nthreads) into red_sgemm_packed_b_size(k, n)
    elements (64-byte aligned), then red_sgemm_prepacked(m, n, k, a, a_rs, a_cs, dst, c, c_rs,
    c_cs, accumulate, nthreads): weights packed once (a memo) skip B's packing in every call.
    red_sgemm_register_constant(base, bytes, precision) / red_sgemm_unregister_constant(base,
    bytes, precision): bytes that stay unchanged while registered; a matmul (red_sgemm, or
    _batched with one B for every batch) whose B lies inside packs B on its first call and
    reuses the pack (cached by address, shape, strides and precision);
    red_sgemm_constant_packs() counts the packs. Precision 1 (bf16): red_sgemm multiplies
    such a B with bf16 products (gemm_bf16.py).
    red_sgemm_bf16 / red_sgemm_bf16_batched: red_sgemm's arguments, each product of
    bf16-rounded operands accumulated in f32 (AMX-BF16 tiles, else AVX512-BF16's vdpbf16ps;
    f32 where the CPU has neither); M = 1 and N = 1 stay f32.
    red_kernels_set_num_threads(n), red_kernels_get_num_threads()

From Python:

    lib = kernels.library()                # the host's library, built once per process
    lib.require(["red_sgemm"])             # compile the units a JIT module will call
    kernels.declare_in(llvmlite_module)    # declarations for llvmlite callers
    kernels.ENTRY_POINTS[name].xdsl_types()  # (inputs, result) for llvm-dialect callers
    lib.function("red_sgemm")(...)         # ctypes; kernels.matmul / row_kernel on arrays
    lib.register_constant(array)           # B read from array's bytes: packed once while it lives
    lib.register_constant(array, "bf16")   # ... and multiplied in bf16 (lib.bf16: available)
    kernels.library_ir(target), kernels.object_code(target)  # for clang-built programs
"""

from red.lowering.kernels.library import (
    ENTRY_POINTS,
    UNITS,
    EntryPoint,
    KernelLibrary,
    build_into,
    declare_in,
    find_libgomp,
    library,
    library_ir,
    library_module,
    load_libgomp,
    object_code,
)
from red.lowering.kernels.ndarray import PackedB, matmul, matmul_prepacked, pack_b, row_kernel
from red.lowering.kernels.target import Blocking, KernelTarget, default_threads

__all__ = [
    "ENTRY_POINTS",
    "UNITS",
    "Blocking",
    "EntryPoint",
    "KernelLibrary",
    "KernelTarget",
    "PackedB",
    "build_into",
    "declare_in",
    "default_threads",
    "find_libgomp",
    "library",
    "library_ir",
    "library_module",
    "load_libgomp",
    "matmul",
    "matmul_prepacked",
    "object_code",
    "pack_b",
    "row_kernel",
]
