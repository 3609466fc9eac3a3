"""A compiled public function of a JIT module: the Python side of its C ABI (argument
checks and pointers, result allocation, the lock that serialises calls running memos)."""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    ModuleOp,
    TensorType,
)
from xdsl.ir import Attribute

from red.dialects import red
from red.dialects.call_graph import call_graph
from red.dialects.diagnostics import format_location, location_of
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


# region Scalar arguments


class ScalarArgument:
    """A scalar argument of a public function, passed by value as the C ABI does (`index`
    and `i64` as int64_t, `iN` as intN_t, `i1` as bool, f32 as float, f64 as double).
    `value` checks what a call gives, as the arrays are checked: a Python or numpy number
    (or a 0-d array) of the argument's kind, an integer in its type's range; anything else
    is a ValueError naming the argument."""

    def __init__(self, fn: func.FuncOp, index: int, typ: Attribute, label: str):
        self.where = f"argument {label} of '@{fn.sym_name.data}'"
        self.typ = typ
        self.is_float = isinstance(typ, Float32Type | Float64Type)
        self.bits = 64 if isinstance(typ, IndexType) else getattr(typ, "bitwidth", 0)
        self.ctype = _scalar_ctype(typ)
        # the common case, checked first: a Python number of the argument's own kind
        self._own_type: type = float if self.is_float else bool if self.bits == 1 else int
        self._low, self._high = (
            (-math.inf, math.inf)
            if self.is_float or self.bits == 1
            else (-(1 << (self.bits - 1)), 1 << (self.bits - 1))
        )

    def value(self, a: Any) -> int | float | bool:
        """`a` as the Python number ctypes passes."""
        if type(a) is self._own_type and self._low <= a < self._high and self.ctype:
            return a
        if self.ctype is None:
            raise ValueError(
                f"{self.where} is a '{self.typ}' scalar: the JIT passes index, i1, i8, i16, "
                "i32, i64, f32 and f64 scalars by value"
            )
        v = a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a
        if isinstance(v, bool | np.bool_):
            if self.bits == 1 and not self.is_float:
                return bool(v)
        elif self.is_float:
            if isinstance(v, float | int | np.floating | np.integer):
                return float(v)
        elif isinstance(v, int | np.integer):
            n = int(v)
            if self.bits == 1:
                if n not in (0, 1):
                    raise ValueError(f"{self.where}: {n} is not a boolean (0 or 1)")
                return bool(n)
            if not -(1 << (self.bits - 1)) <= n < 1 << (self.bits - 1):
                raise ValueError(f"{self.where}: {n} is out of the range of '{self.typ}'")
            return n
        raise ValueError(f"{self.where} expects a scalar of type '{self.typ}', got {_describe(a)}")


def _scalar_ctype(typ: Attribute) -> Any:
    if isinstance(typ, IndexType):
        return ctypes.c_int64
    if isinstance(typ, IntegerType):
        return _C_INTEGERS.get(typ.width.data)
    if isinstance(typ, Float32Type):
        return ctypes.c_float
    if isinstance(typ, Float64Type):
        return ctypes.c_double
    return None


_C_INTEGERS = {
    1: ctypes.c_bool,
    8: ctypes.c_int8,
    16: ctypes.c_int16,
    32: ctypes.c_int32,
    64: ctypes.c_int64,
}


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        from red.dialects.red_interpreter import describe_array

        return describe_array(a)
    return f"{type(a).__name__} {a!r}"[:80]


def argument_kinds(fn: func.FuncOp) -> list[tuple[np.dtype | None, ScalarArgument | None]]:
    """Per argument of `fn`: (the element dtype, None) for a tensor, (None, its
    ScalarArgument) for a scalar."""
    kinds: list[tuple[np.dtype | None, ScalarArgument | None]] = []
    for i, t in enumerate(fn.function_type.inputs.data):
        if isinstance(t, TensorType):
            kinds.append((numpy_dtype(t.get_element_type()), None))
        else:
            # the interpreter's module, imported only by a function with scalars
            from red.dialects.red_interpreter import argument_label

            kinds.append((None, ScalarArgument(fn, i, t, argument_label(fn, i))))
    return kinds


# endregion Scalar arguments


class CompiledFunction:
    """A compiled public function: call it with numpy arrays (and Python or numpy numbers
    for its scalar arguments), get arrays back (a tuple when it has several results). Calls
    may come from several threads at once: those of functions without memos run in parallel
    (ctypes releases the GIL); those running a memo take the module's memo lock, one at a
    time."""

    def __init__(self, owner: CompiledModule, fn: func.FuncOp, address: int):
        self.owner = owner
        self.fn = fn
        self.name = fn.sym_name.data
        inputs = fn.function_type.inputs.data
        self.inputs = [t for t in inputs if isinstance(t, TensorType)]
        self.outputs = [t for t in fn.function_type.outputs.data if isinstance(t, TensorType)]
        self.sized = SizedSignature(fn) if has_dynamic_shapes(fn) else None
        scalars = [
            None if isinstance(t, TensorType) else kind
            for t, (_, kind) in zip(inputs, argument_kinds(fn))
        ]
        self._cfunc: Any = None  # an unsupported scalar type: refused by the call, not here
        if self.sized is None:
            kinds = [ctypes.c_void_p if s is None else s.ctype for s in scalars]
            n = len(self.outputs)
            if all(k is not None for k in kinds):
                self._cfunc = ctypes.CFUNCTYPE(None, *kinds, *([ctypes.c_void_p] * n))(address)
        else:
            self._cfunc = self.sized.cfunctype()(address)
        # per argument: (dtype, shape, None) for a tensor, (None, (), scalar) for a scalar
        self._in_specs = [
            (numpy_dtype(t.get_element_type()), tuple(t.get_shape()), None)
            if isinstance(t, TensorType)
            else (None, (), s)
            for t, s in zip(inputs, scalars)
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
        arrays, passed = self._arguments(args)
        outs = [np.empty(shape, dtype=dtype) for dtype, shape in self._out_specs]
        self._cfunc(*passed, *[data_pointer(o) for o in outs])
        # A memo is keyed on the addresses of this call's buffers: keep them alive until the
        # next call replaces the keys, so an address cannot be reused behind its back.
        self._keep = arrays
        return tuple(outs)

    def _run_sized(self, args: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        """A call of a function with `?` dims: the arguments checked and their sizes bound
        (SizedSignature), the results allocated at the shapes the sizes give. What a shape
        binds (the argument list with its sizes filled in, the result shapes) is found once
        per tuple of argument shapes: a repeated shape only fills in the pointers and
        scalars."""
        sized = self.sized
        assert sized is not None
        bound = None
        if len(args) == len(sized.dtypes):  # shapes seen before: SizedSignature.seen
            shapes: list[tuple[int, ...]] = []
            for a, dtype in zip(args, sized.dtypes):
                if dtype is None:
                    continue  # a scalar, checked below
                if type(a) is not np.ndarray or a.dtype != dtype:
                    break
                flags = a.flags
                if not (flags.c_contiguous and flags.aligned):
                    break
                shapes.append(a.shape)
            else:
                bound = sized.seen.get(tuple(shapes))
        if bound is None:
            args, bound = sized.bind(args)
        passed = bound.template.copy()
        if sized.has_scalars:
            for at, a, scalar in zip(sized.positions, args, sized.scalars):
                passed[at] = data_pointer(a) if scalar is None else scalar.value(a)
        else:
            for at, a in zip(sized.positions, args):
                passed[at] = data_pointer(a)
        outs = [np.empty(shape, dtype) for shape, dtype in bound.results]
        status = self._cfunc(*passed, *map(data_pointer, outs))
        if status != 0:  # the checks above are the compiled entry's: this is a bug
            raise ValueError(f"'@{self.name}' refused the sizes {bound.sizes} (status {status})")
        self._keep = args
        return tuple(outs)

    def _arguments(self, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[Any]]:
        """The arguments passed and what the C call takes for each (a data pointer, a scalar
        by value). Each argument is checked on every call, cheaply: an array the same object
        as last time may have been re-typed (`a.dtype = ...`), reshaped or re-strided in
        place, or reallocated (`a.resize`). An ndarray of the right dtype and shape,
        C-contiguous and aligned, passes as it is; anything else goes through the full
        check, which names the argument that does not fit (and copies a strided or
        misaligned array). A scalar is checked by its ScalarArgument."""
        if len(args) == len(self._in_specs):
            passed: list[Any] = []
            for a, (dtype, shape, scalar) in zip(args, self._in_specs):
                if scalar is not None:
                    passed.append(scalar.value(a))
                    continue
                if type(a) is not np.ndarray or a.dtype != dtype or a.shape != shape:
                    break
                flags = a.flags
                if not (flags.c_contiguous and flags.aligned):
                    break
                passed.append(data_pointer(a))
            else:
                return args, passed
        checked = self.owner.checker.check_arguments(self.fn, args)
        arrays = tuple(
            a if spec[2] is not None else np.require(a, requirements=("C", "A"))
            for a, spec in zip(checked, self._in_specs)
        )
        return arrays, [
            data_pointer(a) if scalar is None else scalar.value(a)
            for a, (_, _, scalar) in zip(arrays, self._in_specs)
        ]


class BoundSizes:
    """What one tuple of argument shapes binds in a sized call: the C argument list with
    each `?` size in place (pointers and scalars filled in per call, at
    SizedSignature.positions), the `?` sizes per tensor argument, the results' (shape,
    dtype)."""

    __slots__ = ("results", "sizes", "template")

    def __init__(self, template: list[Any], sizes: list[list[int]], results: list[tuple[Any, Any]]):
        self.template = template
        self.sizes = sizes
        self.results = results


class SizedSignature:
    """The sized C ABI of a function with `?` dims, from Python: `int32_t red_f(T0 *a0,
    int64_t a0_d<j>..., s1, ..., R0 *r0, ...)`, each tensor argument's pointer followed by
    its `?` dims (lowering/loops/sizes.py), a scalar argument by value. `bind` checks the
    arguments against the signature (a ValueError names the argument and the dimension:
    rank, static size, a symbol given two sizes, a size that makes a dim of the function
    negative; or a scalar of the wrong kind) and gives what the shapes bind."""

    def __init__(self, fn: func.FuncOp):
        self.fn = fn
        self.name = fn.sym_name.data
        shapes = SymbolicShapes(fn)
        from red.dialects.red_interpreter import argument_label  # the interpreter: on need

        kinds = argument_kinds(fn)
        self.scalars = [scalar for _, scalar in kinds]
        self.args = [
            (i, argument_label(fn, i), numpy_dtype(a.type.get_element_type()), shapes.of(a))
            for i, a in enumerate(fn.body.block.args)
            if isinstance(a.type, TensorType)
        ]
        dims_of = {i: dims for i, _, _, dims in self.args}
        # where each argument goes in the C argument list (a tensor's `?` sizes follow it)
        self.positions: list[int] = []
        self._ctypes: list[Any] = []
        for i, (_, scalar) in enumerate(kinds):
            self.positions.append(len(self._ctypes))
            if scalar is not None:
                self._ctypes.append(scalar.ctype)
            else:
                dynamic = sum(isinstance(d, Poly) for d in dims_of[i])
                self._ctypes += [ctypes.c_void_p, *[ctypes.c_int64] * dynamic]
        ret = fn.body.block.last_op
        assert ret is not None
        self.results = [shapes.of(v) for v in ret.operands]
        self._result_dtypes = [
            numpy_dtype(t.get_element_type())
            for t in fn.function_type.outputs.data
            if isinstance(t, TensorType)
        ]
        # the sizes the compiled entry checks, with the op that needs each
        self.checks = size_checks(fn, shapes)
        self.seen: dict[tuple[tuple[int, ...], ...], BoundSizes] = {}
        """What each tuple of tensor argument shapes seen binds (at most 64 kept)."""
        self._kinds = kinds
        self.dtypes = [dtype for dtype, _ in kinds]
        """Per argument: its element dtype, None for a scalar."""
        self.has_scalars = any(s is not None for s in self.scalars)

    def cfunctype(self) -> Any:
        types = [*self._ctypes, *[ctypes.c_void_p] * len(self.results)]
        if any(t is None for t in types):  # an unsupported scalar: refused by the call
            return lambda address: None
        return ctypes.CFUNCTYPE(ctypes.c_int32, *types)

    def bind(self, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], BoundSizes]:
        """The arguments checked (arrays made C-contiguous) and what their shapes bind,
        kept in `seen` for the calls that bring the same shapes (CompiledFunction's fast
        path looks there first: arrays C-contiguous, aligned, of the right dtypes)."""
        arguments, sizes, shapes = self._check(args)
        template: list[Any] = [0] * len(self._ctypes)
        for at, given in zip((p for p, s in zip(self.positions, self.scalars) if s is None), sizes):
            template[at + 1 : at + 1 + len(given)] = given
        bound = BoundSizes(template, sizes, list(zip(shapes, self._result_dtypes)))
        if len(self.seen) >= 64:
            self.seen.clear()
        key = [a.shape for a, s in zip(arguments, self.scalars) if s is None]
        self.seen[tuple(key)] = bound
        return arguments, bound

    def _check(
        self, args: tuple[Any, ...]
    ) -> tuple[tuple[Any, ...], list[list[int]], list[tuple[int, ...]]]:
        """The arguments (arrays C-contiguous, scalars checked), the `?` sizes of each
        tensor argument, the result shapes."""
        if len(args) != len(self._kinds):
            raise ValueError(f"'@{self.name}' takes {len(self._kinds)} arguments, got {len(args)}")
        from red.dialects.red_interpreter import describe_array

        symbols: dict[str, tuple[int, str]] = {}
        arguments: list[Any] = list(args)
        sizes: list[list[int]] = []
        for i, label, dtype, dims in self.args:
            arr = np.asarray(args[i])
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
            arguments[i] = np.require(arr, requirements=("C", "A"))
            sizes.append(given)
        for a, scalar in zip(args, self.scalars):
            if scalar is not None:
                scalar.value(a)  # the ValueError naming it, before any size error
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
        return tuple(arguments), sizes, shapes


def _where(op: Any) -> str:
    """` at file:line:col` when the op has a location."""
    text = format_location(location_of(op))
    return f" at {text}" if text != "<unknown>" else ""


def _dims_text(dims: tuple[Dim, ...]) -> str:
    return "x".join(format_dim(d) for d in dims) or "a scalar"
