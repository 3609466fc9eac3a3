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
from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red.dims import Dim, Poly, evaluate, format_dim
from red.dialects.symbolic_shapes import SymbolicShapes, has_dynamic_shapes
from red.lowering.convert_red_to_loops import MEMO_RESET
from red.lowering.loops.sizes import size_checks

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
        self.sized = SizedSignature(fn) if has_dynamic_shapes(fn) else None
        if self.sized is None:
            n = len(self.inputs) + len(self.outputs)
            self._cfunc = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n))(address)
        else:
            self._cfunc = self.sized.cfunctype()(address)
        self._in_specs = [
            (numpy_dtype(t.get_element_type()), tuple(t.get_shape())) for t in self.inputs
        ]
        self._out_specs = [
            (numpy_dtype(t.get_element_type()), tuple(t.get_shape())) for t in self.outputs
        ]
        self._out_dtypes = [dtype for dtype, _ in self._out_specs]
        self._keep: tuple[Any, ...] | list[Any] = ()
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
        if self.sized is not None:
            return self._run_sized(args)
        arrays, pointers = self._arguments(args)
        outs = [np.empty(shape, dtype=dtype) for dtype, shape in self._out_specs]
        self._cfunc(*pointers, *[data_pointer(o) for o in outs])
        # A memo is keyed on the addresses of this call's buffers: keep them alive until the
        # next call replaces the keys, so an address cannot be reused behind its back.
        self._keep = arrays
        return tuple(outs)

    def _run_sized(self, args: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        """A call of a function with `?` dims: the arguments checked and their sizes bound
        (SizedSignature), the results allocated at the shapes the sizes give."""
        assert self.sized is not None
        arrays, sizes, out_shapes = self.sized.bind(args)
        outs = [np.empty(shape, dtype) for shape, dtype in zip(out_shapes, self._out_dtypes)]
        passed: list[int] = []
        for a, dims in zip(arrays, sizes):
            passed.append(data_pointer(a))
            passed += dims
        status = self._cfunc(*passed, *map(data_pointer, outs))
        if status != 0:  # the checks above are the compiled entry's: this is a bug
            raise ValueError(f"'@{self.name}' refused the sizes {sizes} (status {status})")
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


class SizedSignature:
    """The sized C ABI of a function with `?` dims, from Python: `int32_t red_f(T0 *a0,
    int64_t a0_d<j>..., ..., R0 *r0, ...)`, each tensor argument's pointer followed by its
    `?` dims (lowering/loops/sizes.py). `bind` checks the arrays against the signature (a
    ValueError names the argument and the dimension: rank, static size, a symbol given two
    sizes, a size that makes a dim of the function negative) and gives the result shapes."""

    def __init__(self, fn: func.FuncOp):
        self.fn = fn
        self.name = fn.sym_name.data
        shapes = SymbolicShapes(fn)
        args = fn.body.block.args
        for a in args:
            if not isinstance(a.type, TensorType):
                raise DiagnosticError.at(
                    fn,
                    f"'@{self.name}' has dynamic shapes and a scalar argument ('{a.type}'): "
                    "the JIT calls such functions on tensors only (the C ABI takes scalars)",
                )
        from red.dialects.red_interpreter import argument_label  # the interpreter: on need

        self.args = [
            (i, argument_label(fn, i), numpy_dtype(a.type.get_element_type()), shapes.of(a))
            for i, a in enumerate(args)
            if isinstance(a.type, TensorType)
        ]
        ret = fn.body.block.last_op
        assert ret is not None
        self.results = [shapes.of(v) for v in ret.operands]
        # the sizes the compiled entry checks, with the op that needs each
        self.checks = size_checks(fn, shapes)
        self._seen: dict[tuple[tuple[int, ...], ...], tuple[list[list[int]], list[Any]]] = {}
        self._dtypes = [dtype for _, _, dtype, _ in self.args]

    def cfunctype(self) -> Any:
        types: list[Any] = []
        for _, _, _, dims in self.args:
            types += [ctypes.c_void_p, *[ctypes.c_int64] * sum(isinstance(d, Poly) for d in dims)]
        types += [ctypes.c_void_p] * len(self.results)
        return ctypes.CFUNCTYPE(ctypes.c_int32, *types)

    def bind(
        self, args: tuple[Any, ...]
    ) -> tuple[list[np.ndarray], list[list[int]], list[tuple[int, ...]]]:
        """The arrays (C-contiguous), the `?` sizes of each, the result shapes. Arrays of
        shapes seen before (C-contiguous, aligned, of the right dtypes) take the sizes and
        result shapes found then: the check runs once per distinct shape."""
        if len(args) == len(self._dtypes):
            key: list[tuple[int, ...]] = []
            for a, dtype in zip(args, self._dtypes):
                if type(a) is not np.ndarray or a.dtype != dtype:
                    break
                flags = a.flags
                if not (flags.c_contiguous and flags.aligned):
                    break
                key.append(a.shape)
            else:
                found = self._seen.get(tuple(key))
                if found is not None:
                    return args, found[0], found[1]  # type: ignore[return-value]
        arrays, sizes, shapes = self._check(args)
        if len(self._seen) >= 64:
            self._seen.clear()
        self._seen[tuple(a.shape for a in arrays)] = (sizes, shapes)
        return arrays, sizes, shapes

    def _check(
        self, args: tuple[Any, ...]
    ) -> tuple[list[np.ndarray], list[list[int]], list[tuple[int, ...]]]:
        if len(args) != len(self.args):
            raise ValueError(f"'@{self.name}' takes {len(self.args)} arguments, got {len(args)}")
        from red.dialects.red_interpreter import describe_array

        symbols: dict[str, tuple[int, str]] = {}
        arrays: list[np.ndarray] = []
        sizes: list[list[int]] = []
        for a, (_, label, dtype, dims) in zip(args, self.args):
            arr = np.asarray(a)
            where = f"argument {label} of '@{self.name}'"
            if arr.dtype != dtype:
                raise ValueError(f"{where} expects {dtype} elements, got {describe_array(arr)}")
            if arr.ndim != len(dims):
                raise ValueError(
                    f"{where} has rank {len(dims)} ({_dims_text(dims)}), got {describe_array(arr)}"
                )
            given: list[int] = []
            for j, (d, n) in enumerate(zip(dims, arr.shape)):
                if isinstance(d, int):
                    if d != n:
                        raise ValueError(f"{where}: dim {j} must be {d}, got {n}")
                    continue
                symbol = next(iter(d.symbols))
                size, first = symbols.setdefault(symbol, (n, f"dim {j} of argument {label}"))
                if size != n:
                    raise ValueError(
                        f"{where}: dim {j} is '{symbol}' = {n}, but {first} gave "
                        f"'{symbol}' = {size}"
                    )
                given.append(n)
            arrays.append(np.require(arr, requirements=("C", "A")))
            sizes.append(given)
        values = {s: n for s, (n, _) in symbols.items()}
        at = ", ".join(f"{s} = {v}" for s, v in sorted(values.items()))
        for d, op in self.checks.non_negative.items():
            n = evaluate(d, values)
            if isinstance(n, int) and n < 0:
                raise ValueError(
                    f"'@{self.name}' at {at}: the '{op.name}' op{_where(op)} needs "
                    f"{format_dim(d)} >= 0, which is {n}: the model needs larger sizes"
                )
        for a, b, or_one, op in self.checks.equal:
            x, y = evaluate(a, values), evaluate(b, values)
            if isinstance(x, int) and isinstance(y, int) and x != y and not (or_one and x == 1):
                need = f"{format_dim(a)} = {format_dim(b)}" + (
                    f" (or {format_dim(a)} = 1)" if or_one else ""
                )
                raise ValueError(
                    f"'@{self.name}' at {at}: the '{op.name}' op{_where(op)} needs {need}, "
                    f"which is {x} against {y}"
                )
        shapes = [tuple(int(evaluate(d, values)) for d in dims) for dims in self.results]  # type: ignore[arg-type]
        return arrays, sizes, shapes


def _where(op: Any) -> str:
    """` at file:line:col` when the op has a location."""
    text = format_location(location_of(op))
    return f" at {text}" if text != "<unknown>" else ""


def _dims_text(dims: tuple[Dim, ...]) -> str:
    return "x".join(format_dim(d) for d in dims) or "a scalar"
