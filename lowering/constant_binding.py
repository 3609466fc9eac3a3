"""Large constants of a JIT-compiled module, bound by address: the LLVM IR declares them as
external globals and the engine resolves each name to the numpy array that holds its bytes
(no copy into LLVM). The arrays are immutable for as long as the compiled module lives, so
those of at least PREPACK_MIN_BYTES are registered with the kernel library as constant ranges:
a matmul reading its B from one packs B once (on its first call) and reuses the packed panels
in every later call (weights as constants; weights passed as arguments are packed per call).
A range is unregistered, and its packs freed, when its array is freed (the compiled module
holds its arrays).

The matmul precision of the ranges, chosen at binding time: "f32" (the default), or "bf16",
the analogue of PyTorch's `torch.set_float32_matmul_precision("medium")`: a matmul whose B is
one of these constants rounds both operands to bf16 and accumulates the products in f32 (the
kernel library's AMX-BF16 or AVX512-BF16 micro-kernel; B packed once as bf16 pairs, half the
bytes). Matmuls of two activations, and matrix-vector products (M = 1), stay f32. Where the
CPU has no AVX512-BF16 (or Linux refuses the process AMX's tile state) the matmuls stay f32,
with a warning for an explicit request. The default comes from the environment variable
RED_MATMUL_PRECISION (f32 or bf16; anything else is an error)."""

from __future__ import annotations

import os
import warnings
from collections.abc import MutableMapping

import llvmlite.binding as llvm
import numpy as np

from red.lowering import kernels

# Smaller constants fit in the caches: packing them per call costs little.
PREPACK_MIN_BYTES = 1 << 16
MATMUL_PRECISIONS = ("f32", "bf16")
PRECISION_VARIABLE = "RED_MATMUL_PRECISION"


def matmul_precision_default() -> str:
    """RED_MATMUL_PRECISION when set (f32 or bf16), else f32."""
    value = os.environ.get(PRECISION_VARIABLE, "").strip().lower() or "f32"
    if value not in MATMUL_PRECISIONS:
        raise ValueError(
            f"{PRECISION_VARIABLE}='{value}' is not a matmul precision (expected one of "
            f"{', '.join(MATMUL_PRECISIONS)})"
        )
    return value


def bind_constants(
    constants: MutableMapping[str, np.ndarray], matmul_precision: str | None = None
) -> None:
    """Resolve each external global `name` of the module being finalized to the address of
    its array (the caller holds the arrays alive and serialises binding and finalizing), and
    register the large ones as constant ranges with the host's kernel library, in
    `matmul_precision` (None: matmul_precision_default()). A large array whose bytes are
    already registered in the other precision (the same weights bound by a module compiled
    in f32 and one in bf16) is replaced in `constants` by a copy of its own: the library
    reads a range in one precision, so sharing the bytes would change the other module's
    numerics."""
    precision = matmul_precision or matmul_precision_default()
    if precision not in MATMUL_PRECISIONS:
        raise ValueError(
            f"matmul precision '{precision}' is not one of {', '.join(MATMUL_PRECISIONS)}"
        )
    large = [name for name, data in constants.items() if data.nbytes >= PREPACK_MIN_BYTES]
    library = kernels.library() if large else None
    if library is not None and precision == "bf16" and not library.bf16:
        warnings.warn(
            "matmul precision 'bf16' asked on a CPU without AVX512-BF16 (or without the "
            "permission to use AMX tiles): the matmuls stay f32",
            RuntimeWarning,
            stacklevel=2,
        )
        precision = "f32"
    if library is not None:
        for name in large:
            if library.registered_otherwise(constants[name], precision):
                constants[name] = constants[name].copy(order="K")
    for name, data in constants.items():
        llvm.add_symbol(name, data.ctypes.data)
    if library is not None:
        for name in large:
            library.register_constant(constants[name], precision)
