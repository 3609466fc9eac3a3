"""A compiled public function of a JIT module: the Python side of its C ABI (argument
checks and pointers, result allocation)."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType

from red.dialects.numpy_interop import numpy_dtype

if TYPE_CHECKING:
    from red.lowering.jit import CompiledModule


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
