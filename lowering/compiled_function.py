"""A compiled public function of a JIT module: the Python side of its C ABI (argument
checks and pointers, result allocation, the lock that serialises calls running memos)."""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType

from red.dialects import red
from red.dialects.call_graph import call_graph
from red.dialects.numpy_interop import numpy_dtype
from red.lowering.convert_red_to_loops import MEMO_RESET

if TYPE_CHECKING:
    from red.lowering.jit import CompiledModule

# region Data pointers

_DATA_OFFSET = object.__basicsize__
"""numpy's PyArrayObject_fields: PyObject_HEAD, then `char *data` (what PyArray_DATA reads)."""
_read_pointer = ctypes.c_void_p.from_address


def _data_pointer_from_struct(a: np.ndarray) -> int:
    """The address of `a`'s first element, read from the array object (0.3 us where
    `a.ctypes.data` takes 2.4 us: a call passes every weight, every time)."""
    return _read_pointer(id(a) + _DATA_OFFSET).value or 0


def _data_pointer_from_ctypes(a: np.ndarray) -> int:
    return a.ctypes.data


def _struct_layout_holds() -> bool:
    probes = [np.empty(3, np.float32), np.arange(6, dtype=np.int64)[2:], np.zeros((0,), bool)]
    return all(_data_pointer_from_struct(p) == p.ctypes.data for p in probes)


data_pointer = _data_pointer_from_struct if _struct_layout_holds() else _data_pointer_from_ctypes

# endregion Data pointers

# region Memo locks

_MEMO_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()


def memo_lock(module: CompiledModule) -> threading.Lock:
    """The lock serialising the calls of `module`'s functions that run a red.memo (and
    red_memo_reset()): a memo's cached buffers, valid flag and key are module globals that
    a call reads, or recomputes and writes, without synchronisation."""
    lock = _MEMO_LOCKS.get(module)
    if lock is None:
        lock = _MEMO_LOCKS.setdefault(module, threading.Lock())
    return lock


def functions_running_memos(module: ModuleOp) -> set[str] | None:
    """The names of the functions that run a red.memo, in their body or through calls; None
    when the module is lowered already (its memos are globals: any function may run one)."""
    functions = [op for op in module.body.ops if isinstance(op, func.FuncOp)]
    if not any(isinstance(op, red.RedOp) for fn in functions for op in fn.walk()):
        return None
    found = {
        fn.sym_name.data for fn in functions if any(isinstance(o, red.MemoOp) for o in fn.walk())
    }
    graph = call_graph(module)
    grew = True
    while grew:  # the call graph is acyclic (the verifier refuses recursion)
        callers = {
            name
            for name, calls in graph.items()
            if name not in found and any(c.callee.string_value() in found for c in calls)
        }
        found |= callers
        grew = bool(callers)
    return found


# endregion Memo locks


class CompiledFunction:
    """A compiled public function: call it with numpy arrays, get arrays back (a tuple
    when it has several results). Calls may come from several threads at once: those of
    functions without memos run in parallel (ctypes releases the GIL); those running a
    memo take the module's memo lock, one at a time."""

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
        self._lock = memo_lock(owner) if self._runs_memos(owner) else None

    def _runs_memos(self, owner: CompiledModule) -> bool:
        if not owner.engine.get_function_address(MEMO_RESET):
            return False  # no memo in the module
        running = functions_running_memos(owner.source)
        return running is None or self.name in running

    def __call__(self, *args: Any) -> Any:
        results = self.call(*args)
        return results[0] if len(results) == 1 else results

    def call(self, *args: Any) -> tuple[np.ndarray, ...]:
        """Always a tuple of results."""
        if self._lock is None:
            return self._run(args)
        with self._lock:
            return self._run(args)

    def _run(self, args: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        arrays, pointers = self._arguments(args)
        outs = [np.empty(shape, dtype=dtype) for dtype, shape in self._out_specs]
        self._cfunc(*pointers, *[data_pointer(o) for o in outs])
        # A memo is keyed on the addresses of this call's buffers: keep them alive until the
        # next call replaces the keys, so an address cannot be reused behind its back.
        self._keep = arrays
        return tuple(outs)

    def _arguments(self, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int]]:
        """The arrays passed and their data pointers. Each argument is checked on every
        call, cheaply: an array the same object as last time may have been re-typed
        (`a.dtype = ...`), reshaped or re-strided in place, or reallocated (`a.resize`).
        An ndarray of the right dtype and shape, C-contiguous and aligned, passes as it is;
        anything else goes through the full check, which names the argument that does not
        fit (and copies a strided or misaligned array)."""
        if len(args) == len(self._in_specs):
            pointers: list[int] = []
            for a, (dtype, shape) in zip(args, self._in_specs):
                if type(a) is not np.ndarray or a.dtype != dtype or a.shape != shape:
                    break
                flags = a.flags
                if not (flags.c_contiguous and flags.aligned):
                    break
                pointers.append(data_pointer(a))
            else:
                return args, pointers
        checked = self.owner.checker.check_arguments(self.fn, args)
        arrays = tuple(np.require(a, requirements=("C", "A")) for a in checked)
        return arrays, [data_pointer(a) for a in arrays]
