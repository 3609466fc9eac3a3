"""Large constants of a JIT-compiled module, bound by address: the LLVM IR declares them as
external globals and the engine resolves each name to the numpy array that holds its bytes
(no copy into LLVM). The arrays are immutable for as long as the compiled module lives."""

from __future__ import annotations

from collections.abc import Mapping

import llvmlite.binding as llvm
import numpy as np


def bind_constants(constants: Mapping[str, np.ndarray]) -> None:
    """Resolve each external global `name` of the module being finalized to the address of
    its array (the caller holds the arrays alive and serialises binding and finalizing)."""
    for name, data in constants.items():
        llvm.add_symbol(name, data.ctypes.data)
