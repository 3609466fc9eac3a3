"""Large constants of a JIT-compiled module, bound by address: the LLVM IR declares them as
external globals and the engine resolves each name to the numpy array that holds its bytes
(no copy into LLVM). The arrays are immutable for as long as the compiled module lives, so
those of at least PREPACK_MIN_BYTES are registered with the kernel library as constant ranges:
a matmul reading its B from one packs B once (on its first call) and reuses the packed panels
in every later call (weights as constants; weights passed as arguments are packed per call).
A range is unregistered, and its packs freed, when its array is freed (the compiled module
holds its arrays)."""

from __future__ import annotations

from collections.abc import Mapping

import llvmlite.binding as llvm
import numpy as np

from red.lowering import kernels

# Smaller constants fit in the caches: packing them per call costs little.
PREPACK_MIN_BYTES = 1 << 16


def bind_constants(constants: Mapping[str, np.ndarray]) -> None:
    """Resolve each external global `name` of the module being finalized to the address of
    its array (the caller holds the arrays alive and serialises binding and finalizing), and
    register the large ones as constant ranges with the host's kernel library."""
    for name, data in constants.items():
        llvm.add_symbol(name, data.ctypes.data)
    large = [data for data in constants.values() if data.nbytes >= PREPACK_MIN_BYTES]
    if large:
        library = kernels.library()
        for data in large:
            library.register_constant(data)
