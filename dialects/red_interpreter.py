"""numpy implementations of the red ops (and of the arith/math ops red models use), run
through xDSL's interpreter framework: the semantic oracle every transform is checked against.

Values are numpy arrays of exactly the op's dtype (scalars of arith ops are numpy scalars or,
for `index`, Python ints); every result is checked against its declared type, so an
implementation bug cannot silently change a dtype."""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import arith, func, tensor
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    ModuleOp,
    TensorType,
)
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.scf import ScfFunctions
from xdsl.ir import Attribute, Operation
from xdsl.utils.exceptions import InterpretationError

from red.dialects import red
from red.dialects.call_graph import call_graph
from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.numpy_interop import dense_to_numpy, numpy_dtype, splat_value
from red.dialects.symbolic_shapes import argument_dim_names

# region Types and values


def _checked(op: Operation, values: Sequence[Any]) -> tuple[Any, ...]:
    """Wrap results as arrays and check dtype and shape against the result types."""
    out: list[Any] = []
    for result, value in zip(op.results, values, strict=True):
        typ = result.type
        if not isinstance(typ, TensorType):
            out.append(value)
            continue
        arr = np.asarray(value)
        expected = numpy_dtype(typ.get_element_type())
        if arr.dtype != expected:
            raise InterpretationError(
                f"interpreter bug: '{op.name}' produced dtype {arr.dtype}, expected {expected}"
            )
        shape = tuple(typ.get_shape())
        if len(arr.shape) != len(shape) or any(
            d != red.DYNAMIC and d != a for d, a in zip(shape, arr.shape)
        ):
            raise InterpretationError(
                f"'{op.name}' produced shape {arr.shape}, expected {red.fmt_shape(shape)}"
            )
        out.append(arr)
    return tuple(out)


def _dtype_of(op: Operation, index: int = 0) -> np.dtype[Any]:
    typ = op.results[index].type
    assert isinstance(typ, TensorType)
    return numpy_dtype(typ.get_element_type())


# endregion Types and values

# region red ops


def ieee_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE 754-2019 maximum (LLVM's llvm.maximum): NaN propagates and +0 > -0, so the
    result does not depend on the operand order (np.maximum returns its second operand when
    both are zeros: max(+0, -0) would be -0)."""
    r = np.maximum(a, b)
    if r.dtype.kind == "f":
        both_zero = (a == 0) & (b == 0)
        r = np.where(both_zero, np.where(np.signbit(b), a, b), r)
    return r


def ieee_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE 754-2019 minimum: NaN propagates and -0 < +0."""
    r = np.minimum(a, b)
    if r.dtype.kind == "f":
        both_zero = (a == 0) & (b == 0)
        r = np.where(both_zero, np.where(np.signbit(b), b, a), r)
    return r


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division rounding toward zero, as C and LLVM's sdiv do, made total (red's
    semantics, DESIGN and README "Run-time semantics"): x / 0 is 0, and MIN / -1 wraps to
    MIN (two's complement), where C and LLVM leave both undefined (and x86 traps)."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    safe = np.where(b == 0, 1, b).astype(dtype)
    with np.errstate(all="ignore"):
        q = np.floor_divide(a, safe)
        fix = (np.remainder(a, safe) != 0) & ((a < 0) != (safe < 0))
        out = np.where(fix, q + 1, q).astype(dtype)
    return np.where(b == 0, 0, out).astype(dtype)


def _trunc_rem(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The remainder of _trunc_div (the sign of the dividend, as C's %), total: x % 0 = 0
    and MIN % -1 = 0."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    safe = np.where((b == 0) | (b == -1), 1, b).astype(dtype)
    return np.fmod(a, safe).astype(dtype)


def ieee_max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """The IEEE maximum of the elements along `axis` (as ieee_max folds them, in any
    order): NaN propagates, and a maximum of zeros is +0 if any of them is (np.max returns
    whichever zero its loop meets last)."""
    r = np.max(x, axis=axis)
    if x.dtype.kind == "f":
        positive_zero = np.any((x == 0) & ~np.signbit(x), axis=axis)
        r = np.where(r == 0, np.where(positive_zero, 0.0, -0.0).astype(x.dtype), r)
    return r


_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, computed in double precision and rounded to x's dtype."""
    return np.asarray(_erf(x.astype(np.float64)), dtype=np.float64).astype(x.dtype)


def sigmoid(x: np.ndarray) -> np.ndarray:
    one = x.dtype.type(1)
    return one / (one + np.exp(-x))


def gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    t = x.dtype.type
    if approximate == "tanh":
        inner = t(math.sqrt(2.0 / math.pi)) * (x + t(0.044715) * x * x * x)
        return t(0.5) * x * (t(1) + np.tanh(inner))
    return t(0.5) * x * (t(1) + erf(x * t(1.0 / math.sqrt(2.0))))


def reduce(
    x: np.ndarray, axes: Sequence[int], keepdims: bool, reducer: Callable[..., Any]
) -> np.ndarray:
    """`reducer` over `axes`, on a contiguous copy with those axes last, so each result
    element is summed in the same order whatever the other axes' sizes (numpy's order
    depends on the layout: narrowing the rows of a reduction would change its last bits)."""
    axes = sorted(a % x.ndim for a in axes) if x.ndim else []
    kept = [d for d in range(x.ndim) if d not in axes]
    length = math.prod(x.shape[a] for a in axes)
    moved = np.ascontiguousarray(np.transpose(x, kept + axes)).reshape(
        [x.shape[d] for d in kept] + [length]
    )
    out = np.asarray(reducer(moved, axis=-1))
    if keepdims:
        out = out.reshape([1 if d in axes else x.shape[d] for d in range(x.ndim)])
    return out


def _sum(x: np.ndarray, axes: Sequence[int], keepdims: bool = True) -> np.ndarray:
    return reduce(x, axes, keepdims, lambda a, axis: np.sum(a, axis=axis, dtype=x.dtype))


def _mean(x: np.ndarray, axes: Sequence[int], keepdims: bool = True) -> np.ndarray:
    return reduce(x, axes, keepdims, lambda a, axis: np.mean(a, axis=axis, dtype=x.dtype))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:
        # np.max has no identity on an empty axis; an empty input has an empty softmax.
        return x.copy()
    e = np.exp(x - reduce(x, [axis], True, np.max))
    return e / _sum(e, [axis])


def layer_norm(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    axes = list(range(axis, x.ndim))
    centered = x - _mean(x, axes)
    var = _mean(centered * centered, axes)
    return centered / np.sqrt(var + x.dtype.type(eps))


def rms_norm(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    axes = list(range(axis, x.ndim))
    return x / np.sqrt(_mean(x * x, axes) + x.dtype.type(eps))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy.matmul semantics, accumulated in the element type in increasing k, one rounding
    per multiply and per add (the order of a plain loop nest). Unlike BLAS, the value of a
    row does not depend on how many rows are computed, so narrowing the rows of a matmul is
    bit-exact under this oracle."""
    shape = (*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1])
    acc = np.zeros(shape, dtype=np.result_type(a, b))
    for k in range(a.shape[-1]):
        acc += a[..., :, k : k + 1] * b[..., k : k + 1, :]
    return acc


def argmax(x: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
    """The first index of the largest element along `axis`; NaN is the largest (the first
    NaN wins), as numpy's and torch's argmax."""
    if x.shape[axis] == 0:
        raise InterpretationError("argmax over an empty axis has no result")
    return np.argmax(x, axis=axis, keepdims=keepdims).astype(np.int64)


def gather(table: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    """numpy.take: indices in [-n, n), negative ones counting from the end."""
    n = table.shape[axis]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        bad = indices[(indices < -n) | (indices >= n)].flat[0]
        raise InterpretationError(f"gather index {bad} is out of range [-{n}, {n})")
    return np.take(table, indices, axis=axis)


def cast(x: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    """red.cast: to i1, nonzero is true (NaN included); float to integer truncates toward
    zero and saturates (NaN -> 0, values beyond the range -> its bounds, as LLVM's
    fptosi.sat and XLA do); other casts as numpy's astype."""
    if dtype == np.bool_:
        return x != 0
    if x.dtype.kind == "f" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        with np.errstate(all="ignore"):
            t = np.trunc(x.astype(np.float64))
            big = t >= float(info.max)  # (float(int64 max) rounds up to 2**63)
            small = t <= float(info.min)
            inside = np.where(np.isnan(t) | big | small, 0, t).astype(dtype)
        return np.where(big, info.max, np.where(small, info.min, inside)).astype(dtype)
    return x.astype(dtype)


BINARY: dict[type[Operation], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    red.AddOp: np.add,
    red.SubOp: np.subtract,
    red.MulOp: np.multiply,
    red.MaxOp: lambda a, b: ieee_max(a, b),
    red.MinOp: lambda a, b: ieee_min(a, b),
    red.PowOp: np.power,
    red.EqOp: np.equal,
    red.NeOp: np.not_equal,
    red.LtOp: np.less,
    red.LeOp: np.less_equal,
    red.GtOp: np.greater,
    red.GeOp: np.greater_equal,
    red.DivOp: lambda a, b: (
        _trunc_div(a, b) if np.issubdtype(a.dtype, np.integer) else np.divide(a, b)
    ),
}

UNARY: dict[type[Operation], Callable[[np.ndarray], np.ndarray]] = {
    red.NegOp: np.negative,
    red.AbsOp: np.abs,
    red.ReluOp: lambda x: ieee_max(x, np.zeros((), dtype=x.dtype)),
    red.ExpOp: np.exp,
    red.LogOp: np.log,
    red.SqrtOp: np.sqrt,
    red.RsqrtOp: lambda x: np.reciprocal(np.sqrt(x)),
    red.TanhOp: np.tanh,
    red.SigmoidOp: sigmoid,
    red.SiluOp: lambda x: x * sigmoid(x),
    red.ErfOp: erf,
    red.SinOp: np.sin,
    red.CosOp: np.cos,
}


@register_impls
class RedFunctions(InterpreterFunctions):
    """Interpreter implementations of the red dialect, with the memo cache of DESIGN.md §4:
    one cached result per red.memo, reused while its operands are the same arrays."""

    def __init__(self) -> None:
        self.constants: dict[Operation, np.ndarray] = {}
        self.memo_cache: dict[Operation, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.memo_hits = 0
        self.memo_misses = 0

    def reset_memos(self) -> None:
        """Forget every cached memo result (the interpreter's `red_memo_reset()`)."""
        self.memo_cache.clear()

    @impl(red.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: red.ConstantOp, args: PythonValues):
        if (value := self.constants.get(op)) is None:
            # Contiguous: a splat's broadcast view would take numpy's scalar fast paths
            # (x ** -1 as a reciprocal), whose rounding differs from the elementwise one.
            value = self.constants[op] = np.asarray(dense_to_numpy(op.value), order="C")
        return _checked(op, (value,))

    @impl(red.IotaOp)
    def run_iota(self, interpreter: Interpreter, op: red.IotaOp, args: PythonValues):
        return _checked(op, (op.values(),))

    @impl(red.SelectOp)
    def run_select(self, interpreter: Interpreter, op: red.SelectOp, args: PythonValues):
        cond, a, b = args
        return _checked(op, (np.where(cond, a, b),))

    @impl(red.CastOp)
    def run_cast(self, interpreter: Interpreter, op: red.CastOp, args: PythonValues):
        return _checked(op, (cast(args[0], _dtype_of(op)),))

    @impl(red.GeluOp)
    def run_gelu(self, interpreter: Interpreter, op: red.GeluOp, args: PythonValues):
        return _checked(op, (gelu(args[0], op.approximation),))

    @impl(red.MatmulOp)
    def run_matmul(self, interpreter: Interpreter, op: red.MatmulOp, args: PythonValues):
        return _checked(op, (matmul(args[0], args[1]),))

    @impl(red.TransposeOp)
    def run_transpose(self, interpreter: Interpreter, op: red.TransposeOp, args: PythonValues):
        return _checked(op, (np.transpose(args[0], op.perm),))

    @impl(red.ReshapeOp)
    def run_reshape(self, interpreter: Interpreter, op: red.ReshapeOp, args: PythonValues):
        shape = [(-1 if d == red.DYNAMIC else d) for d in red.shape_of(op.result)]
        return _checked(op, (np.reshape(args[0], shape),))

    @impl(red.BroadcastToOp)
    def run_broadcast_to(self, interpreter: Interpreter, op: red.BroadcastToOp, args: PythonValues):
        x = args[0]
        shape = list(red.shape_of(op.result))
        # A `?` result dim takes its size from the aligned input dim (np.broadcast_to
        # rejects negative sizes); with no aligned input dim the size is unknowable.
        offset = len(shape) - x.ndim
        for d, n in enumerate(shape):
            if n == red.DYNAMIC:
                if d < offset:
                    raise InterpretationError(f"dynamic result dimension {d} has no input size")
                shape[d] = x.shape[d - offset]
        return _checked(op, (np.broadcast_to(x, shape),))

    @impl(red.SliceOp)
    def run_slice(self, interpreter: Interpreter, op: red.SliceOp, args: PythonValues):
        start, limit, stride = op.bounds
        index = tuple(slice(lo, hi, st) for lo, hi, st in zip(start, limit, stride))
        return _checked(op, (args[0][index],))

    @impl(red.ConcatOp)
    def run_concat(self, interpreter: Interpreter, op: red.ConcatOp, args: PythonValues):
        return _checked(op, (np.concatenate(args, axis=op.axis.value.data),))

    @impl(red.GatherOp)
    def run_gather(self, interpreter: Interpreter, op: red.GatherOp, args: PythonValues):
        return _checked(op, (gather(args[0], args[1], op.axis.value.data),))

    @impl(red.DynamicSliceOp)
    def run_dynamic_slice(
        self, interpreter: Interpreter, op: red.DynamicSliceOp, args: PythonValues
    ):
        x, offsets = args[0], args[1:]
        starts = red.clamped_starts(offsets, x.shape, op.size_list)
        index = tuple(slice(s, s + n) for s, n in zip(starts, op.size_list))
        return _checked(op, (x[index],))

    @impl(red.DynamicUpdateSliceOp)
    def run_dynamic_update_slice(
        self, interpreter: Interpreter, op: red.DynamicUpdateSliceOp, args: PythonValues
    ):
        x, update, offsets = args[0], args[1], args[2:]
        starts = red.clamped_starts(offsets, x.shape, update.shape)
        out = np.array(x, copy=True)
        out[tuple(slice(s, s + n) for s, n in zip(starts, update.shape))] = update
        return _checked(op, (out,))

    @impl(red.ReduceSumOp)
    def run_reduce_sum(self, interpreter: Interpreter, op: red.ReduceSumOp, args: PythonValues):
        x = args[0]
        return _checked(op, (_sum(x, op.axis_list, op.keeps_dims),))

    @impl(red.ReduceMeanOp)
    def run_reduce_mean(self, interpreter: Interpreter, op: red.ReduceMeanOp, args: PythonValues):
        x = args[0]
        return _checked(op, (_mean(x, op.axis_list, op.keeps_dims),))

    @impl(red.ReduceMaxOp)
    def run_reduce_max(self, interpreter: Interpreter, op: red.ReduceMaxOp, args: PythonValues):
        x = args[0]
        if x.size == 0:
            # Only a non-empty result needs an identity: max over a size-0 axis of an
            # otherwise non-empty tensor is an error, an empty result is just empty
            # (np.max raises whenever a reduced axis is empty, even then).
            shape = red.ReduceOp.reduced_shape(x.shape, op.axis_list, op.keeps_dims)
            if math.prod(shape) != 0:
                raise InterpretationError("reduce_max over an empty axis has no identity")
            return _checked(op, (np.empty(shape, dtype=x.dtype),))
        return _checked(op, (reduce(x, op.axis_list, op.keeps_dims, ieee_max_along),))

    @impl(red.ArgmaxOp)
    def run_argmax(self, interpreter: Interpreter, op: red.ArgmaxOp, args: PythonValues):
        return _checked(op, (argmax(args[0], op.axis.value.data, op.keeps_dims),))

    @impl(red.SoftmaxOp)
    def run_softmax(self, interpreter: Interpreter, op: red.SoftmaxOp, args: PythonValues):
        return _checked(op, (softmax(args[0], op.axis.value.data),))

    @impl(red.LayerNormOp)
    def run_layer_norm(self, interpreter: Interpreter, op: red.LayerNormOp, args: PythonValues):
        return _checked(op, (layer_norm(args[0], op.axis.value.data, op.eps.value.data),))

    @impl(red.RmsNormOp)
    def run_rms_norm(self, interpreter: Interpreter, op: red.RmsNormOp, args: PythonValues):
        return _checked(op, (rms_norm(args[0], op.axis.value.data, op.eps.value.data),))

    @impl(red.MemoOp)
    def run_memo(self, interpreter: Interpreter, op: red.MemoOp, args: PythonValues):
        # The key is the identity of the operand arrays; keeping them in the cache entry
        # keeps them alive, so an id() cannot be reused by a different array.
        cached = self.memo_cache.get(op)
        if (
            cached is not None
            and len(cached[0]) == len(args)
            and all(a is b for a, b in zip(cached[0], args))
        ):
            self.memo_hits += 1
            return cached[1]
        self.memo_misses += 1
        results = _checked(op, interpreter.run_ssacfg_region(op.body, args, "red.memo"))
        self.memo_cache[op] = (tuple(args), results)
        return results

    @impl_terminator(red.YieldOp)
    def run_yield(
        self, interpreter: Interpreter, op: red.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()


def _binary_impl(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def run(self: RedFunctions, interpreter: Interpreter, op: Operation, args: PythonValues):
        return _checked(op, (fn(args[0], args[1]),))

    return run


def _unary_impl(fn: Callable[[np.ndarray], np.ndarray]):
    def run(self: RedFunctions, interpreter: Interpreter, op: Operation, args: PythonValues):
        return _checked(op, (fn(args[0]),))

    return run


for _op, _fn in BINARY.items():
    setattr(RedFunctions, f"run_{_op.name[4:]}", impl(_op)(_binary_impl(_fn)))
for _op, _fn in UNARY.items():
    setattr(RedFunctions, f"run_{_op.name[4:]}", impl(_op)(_unary_impl(_fn)))
register_impls(RedFunctions)

# endregion red ops

# region arith and math


def _scalar_value(attr: Attribute, typ: Attribute) -> Any:
    if isinstance(attr, IntegerAttr):
        if isinstance(typ, IndexType):
            return int(attr.value.data)
        dtype = numpy_dtype(typ)
        return np.bool_(attr.value.data != 0) if dtype == np.bool_ else dtype.type(attr.value.data)
    if isinstance(attr, FloatAttr):
        return numpy_dtype(typ).type(attr.value.data)
    raise InterpretationError(f"unsupported constant {attr}")


def _np_type(op: Operation) -> Any:
    typ = op.results[0].type
    elt = typ.get_element_type() if isinstance(typ, TensorType) else typ
    if isinstance(elt, IndexType):
        return int
    return numpy_dtype(elt).type


def _typed(op: Operation, value: Any) -> Any:
    """Keep arith results in the declared type (numpy promotes Python ints otherwise)."""
    typ = op.results[0].type
    if isinstance(typ, TensorType):
        return np.asarray(value).astype(numpy_dtype(typ.get_element_type()), copy=False)
    if isinstance(typ, IndexType):
        return int(value)
    return numpy_dtype(typ).type(value)


ARITH_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    arith.AddfOp: np.add,
    arith.SubfOp: np.subtract,
    arith.MulfOp: np.multiply,
    arith.DivfOp: np.divide,
    arith.MaximumfOp: lambda a, b: ieee_max(np.asarray(a), np.asarray(b)),
    arith.MinimumfOp: lambda a, b: ieee_min(np.asarray(a), np.asarray(b)),
    arith.MaxnumfOp: np.fmax,
    arith.MinnumfOp: np.fmin,
    arith.AddiOp: lambda a, b: a + b,
    arith.SubiOp: lambda a, b: a - b,
    arith.MuliOp: lambda a, b: a * b,
    arith.DivSIOp: lambda a, b: _trunc_div(np.asarray(a), np.asarray(b)),
    arith.RemSIOp: lambda a, b: _trunc_rem(np.asarray(a), np.asarray(b)),
    arith.MaxSIOp: np.maximum,
    arith.MinSIOp: np.minimum,
    arith.AndIOp: np.bitwise_and,
    arith.OrIOp: np.bitwise_or,
    arith.XOrIOp: np.bitwise_xor,
    mathd.PowFOp: np.power,
}

MATH_UNARY: dict[type[Operation], Callable[[Any], Any]] = {
    arith.NegfOp: np.negative,
    mathd.ExpOp: np.exp,
    mathd.LogOp: np.log,
    mathd.SqrtOp: np.sqrt,
    mathd.RsqrtOp: lambda x: np.reciprocal(np.sqrt(x)),
    mathd.TanhOp: np.tanh,
    mathd.SinOp: np.sin,
    mathd.CosOp: np.cos,
    mathd.AbsFOp: np.abs,
    mathd.ErfOp: lambda x: erf(np.asarray(x)),
}


@register_impls
class NumpyArithFunctions(InterpreterFunctions):
    """arith and math on numpy scalars and tensors, in the declared dtype (xDSL's own arith
    implementation computes in Python floats and ints and has no tensor constants)."""

    @impl(arith.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: arith.ConstantOp, args: PythonValues):
        value = op.value
        if isinstance(value, DenseIntOrFPElementsAttr | DenseResourceAttr):
            return _checked(op, (np.asarray(dense_to_numpy(value), order="C"),))
        return (_scalar_value(value, op.result.type),)

    @impl(tensor.DimOp)
    def run_dim(self, interpreter: Interpreter, op: tensor.DimOp, args: PythonValues):
        """The size of a dim of a tensor at run time (an index)."""
        array, index = args
        rank = np.ndim(array)
        if not 0 <= int(index) < rank:
            raise InterpretationError(f"dim {int(index)} is out of range for rank {rank}")
        return (int(np.shape(array)[int(index)]),)

    @impl(arith.CmpiOp)
    def run_cmpi(self, interpreter: Interpreter, op: arith.CmpiOp, args: PythonValues):
        a, b = args
        pred = op.predicate.value.data
        fns = [np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal]
        if pred < 6:
            out = fns[pred](a, b)
        else:  # unsigned predicates: compare as unsigned integers of the same width
            ua, ub = np.asarray(a).astype(np.uint64), np.asarray(b).astype(np.uint64)
            out = [np.less, np.less_equal, np.greater, np.greater_equal][pred - 6](ua, ub)
        return (_bool(op, out),)

    @impl(arith.CmpfOp)
    def run_cmpf(self, interpreter: Interpreter, op: arith.CmpfOp, args: PythonValues):
        a, b = (np.asarray(v) for v in args)
        pred = op.predicate.value.data
        unordered = np.isnan(a) | np.isnan(b)
        base = [None, np.equal, np.greater, np.greater_equal, np.less, np.less_equal, np.not_equal]
        if pred == 0:
            out = np.zeros(np.broadcast(a, b).shape, dtype=bool)
        elif pred <= 6:  # ordered
            out = base[pred](a, b) & ~unordered  # type: ignore[misc]
        elif pred == 7:  # ord
            out = ~unordered
        elif pred <= 13:  # unordered or ...
            out = base[pred - 7](a, b) | unordered  # type: ignore[misc]
        elif pred == 14:  # uno
            out = unordered
        else:
            out = np.ones(np.broadcast(a, b).shape, dtype=bool)
        return (_bool(op, out),)

    @impl(arith.SelectOp)
    def run_select(self, interpreter: Interpreter, op: arith.SelectOp, args: PythonValues):
        cond, a, b = args
        if isinstance(cond, np.ndarray):
            return (_typed(op, np.where(cond, a, b)),)
        return (a if cond else b,)

    @impl(arith.IndexCastOp)
    def run_index_cast(self, interpreter: Interpreter, op: arith.IndexCastOp, args: PythonValues):
        return (_typed(op, args[0]),)

    @impl(arith.SIToFPOp)
    def run_sitofp(self, interpreter: Interpreter, op: arith.SIToFPOp, args: PythonValues):
        return (_typed(op, args[0]),)

    @impl(arith.FPToSIOp)
    def run_fptosi(self, interpreter: Interpreter, op: arith.FPToSIOp, args: PythonValues):
        return (_typed(op, np.trunc(args[0])),)

    @impl(arith.ExtFOp)
    def run_extf(self, interpreter: Interpreter, op: arith.ExtFOp, args: PythonValues):
        return (_typed(op, args[0]),)

    @impl(arith.TruncFOp)
    def run_truncf(self, interpreter: Interpreter, op: arith.TruncFOp, args: PythonValues):
        return (_typed(op, args[0]),)

    @impl(arith.ExtSIOp)
    def run_extsi(self, interpreter: Interpreter, op: arith.ExtSIOp, args: PythonValues):
        return (_typed(op, args[0]),)

    @impl(arith.TruncIOp)
    def run_trunci(self, interpreter: Interpreter, op: arith.TruncIOp, args: PythonValues):
        return (_typed(op, args[0]),)


def _bool(op: Operation, value: Any) -> Any:
    typ = op.results[0].type
    return np.asarray(value, dtype=bool) if isinstance(typ, TensorType) else np.bool_(value)


def _arith_impl(fn: Callable[..., Any]):
    def run(self: NumpyArithFunctions, interpreter: Interpreter, op: Operation, args: PythonValues):
        return (_typed(op, fn(*args)),)

    return run


for _op, _fn in {**ARITH_BINARY, **MATH_UNARY}.items():
    setattr(NumpyArithFunctions, f"run_{_op.name.replace('.', '_')}", impl(_op)(_arith_impl(_fn)))
register_impls(NumpyArithFunctions)

# endregion arith and math

# region Running functions


class _OpTracker(Interpreter.Listener):
    """Remembers the innermost op being interpreted, to locate runtime errors."""

    def __init__(self) -> None:
        self.stack: list[Operation] = []

    def will_interpret_op(self, op: Operation, args: PythonValues) -> None:
        self.stack.append(op)

    def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
        self.stack.pop()


def describe_array(value: Any) -> str:
    arr = np.asarray(value)
    return f"an array of shape {'x'.join(map(str, arr.shape)) or 'scalar'} and dtype {arr.dtype}"


class ModuleRunner:
    """Calls the functions of a module on numpy arrays through the interpreter. Memo caches
    live as long as the runner: call twice with the same weight arrays and the second call
    reuses them."""

    def __init__(self, module: ModuleOp, listeners: Sequence[Interpreter.Listener] = ()):
        self.module = module
        self._tracker = _OpTracker()
        self.interpreter = Interpreter(module, listeners=(self._tracker, *listeners))
        self.red_functions = RedFunctions()
        self.interpreter.register_implementations(self.red_functions)
        self.interpreter.register_implementations(NumpyArithFunctions())
        self.interpreter.register_implementations(FuncFunctions())
        self.interpreter.register_implementations(ScfFunctions())
        self._call_depth = call_depth(module)

    def function(self, name: str) -> func.FuncOp:
        for op in self.module.body.ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == name:
                return op
        names = [op.sym_name.data for op in self.module.body.ops if isinstance(op, func.FuncOp)]
        raise DiagnosticError(
            location_of(self.module),
            f"no function '@{name}' in the module "
            f"(functions: {', '.join('@' + n for n in names) or 'none'})",
        )

    def check_arguments(self, fn: func.FuncOp, args: Sequence[Any]) -> list[Any]:
        """Arguments as arrays of the declared types; a mismatch is an error naming the argument."""
        inputs = fn.function_type.inputs.data
        name = fn.sym_name.data
        if len(args) != len(inputs):
            raise DiagnosticError.at(
                fn, f"'@{name}' takes {len(inputs)} arguments, got {len(args)}"
            )
        checked: list[Any] = []
        bound: dict[str, tuple[int, str]] = {}  # symbol -> (size, where it was bound)
        for i, (arg, typ) in enumerate(zip(args, inputs)):
            label = argument_label(fn, i)
            if not isinstance(typ, TensorType):
                checked.append(arg)
                continue
            arr = np.asarray(arg)
            dtype = numpy_dtype(typ.get_element_type())
            shape = tuple(typ.get_shape())
            shape_ok = len(arr.shape) == len(shape) and all(
                d in (red.DYNAMIC, a) for d, a in zip(shape, arr.shape)
            )
            if arr.dtype != dtype or not shape_ok:
                raise DiagnosticError.at(
                    fn, f"argument {label} of '@{name}' expects '{typ}', got {describe_array(arr)}"
                )
            for j, symbol in enumerate(argument_dim_names(fn, i) or []):
                if not symbol:
                    continue
                size, where = bound.setdefault(symbol, (arr.shape[j], f"argument {label}"))
                if size != arr.shape[j]:
                    raise DiagnosticError.at(
                        fn,
                        f"argument {label} of '@{name}': dim {j} is '{symbol}' = "
                        f"{arr.shape[j]}, but {where} gave '{symbol}' = {size}",
                    )
            checked.append(arr)
        return checked

    def call(self, name: str, *args: Any) -> tuple[Any, ...]:
        fn = self.function(name)
        checked = self.check_arguments(fn, args)
        self._tracker.stack.clear()
        try:
            with np.errstate(all="ignore"):
                results = with_deep_stack(
                    lambda: self.interpreter.call_op(fn, tuple(checked)), self._call_depth
                )
        except DiagnosticError:
            raise
        except Exception as err:
            op = self._tracker.stack[-1] if self._tracker.stack else fn
            msg = str(err).split("\n")[0] if str(err) else type(err).__name__
            raise DiagnosticError.at(op, f"'{op.name}' op failed at run time: {msg}") from None
        # Copy: np.ascontiguousarray made rank-0 results 1-d, and returned the memo cache's
        # own arrays, so a caller that wrote into a result corrupted later calls.
        return tuple(np.array(r, order="C") if isinstance(r, np.ndarray) else r for r in results)

    def reset_memos(self) -> None:
        self.red_functions.reset_memos()


def call_depth(module: ModuleOp) -> int:
    """The longest chain of calls between the module's functions (the verifier refuses
    cycles; a cycle met anyway counts once)."""
    graph = {
        name: [c.callee.string_value() for c in calls] for name, calls in call_graph(module).items()
    }
    depth: dict[str, int] = {}
    for start in graph:
        stack = [start]
        while stack:  # iterative: the chains this is for are too deep for recursion
            name = stack[-1]
            pending = [c for c in graph[name] if c in graph and c not in depth and c not in stack]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[name] = 1 + max((depth.get(c, 0) for c in graph[name] if c in graph), default=0)
    return max(depth.values(), default=0)


SHALLOW_CALLS = 40
"""Call chains up to this deep run on the caller's stack."""
FRAMES_PER_CALL = 16
"""Python frames one level of func.call takes in xDSL's interpreter, with margin (about 5)."""
DEEP_STACK_BYTES = 512 << 20


def with_deep_stack(run: Callable[[], Any], depth: int) -> Any:
    """`run()`, in a thread with a stack and a recursion limit for `depth` nested calls
    when the module's calls nest deeper than SHALLOW_CALLS (xDSL interprets a func.call by
    recursion: a chain of 200 calls exceeded Python's default limit of 1000 frames)."""
    if depth <= SHALLOW_CALLS:
        return run()
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as err:
            failure.append(err)

    previous_limit = sys.getrecursionlimit()
    try:
        previous_stack = threading.stack_size(DEEP_STACK_BYTES)
    except (ValueError, RuntimeError):  # no adjustable thread stacks here
        return run()
    sys.setrecursionlimit(max(previous_limit, 1000 + FRAMES_PER_CALL * depth))
    try:
        worker = threading.Thread(target=target, name="red-interpreter", daemon=True)
        worker.start()
        threading.stack_size(previous_stack)
        worker.join()
    finally:
        sys.setrecursionlimit(previous_limit)
    if failure:
        raise failure[0]
    return outcome[0]


def argument_label(fn: func.FuncOp, index: int) -> str:
    """`#i` plus the argument's SSA name when the text gave one, e.g. `#0 (%ids)`."""
    first = fn.body.blocks.first
    arg = first.args[index] if first is not None else None
    if arg is not None and arg.name_hint:
        return f"#{index} (%{arg.name_hint})"
    return f"#{index}"


# endregion Running functions

# region Evaluating single ops


_KERNELS: dict[type[Operation], Any] = {
    **dict(RedFunctions._impls()),  # pyright: ignore[reportPrivateUsage]
    **dict(NumpyArithFunctions._impls()),  # pyright: ignore[reportPrivateUsage]
}
_STATELESS = RedFunctions()


def can_evaluate(op: Operation) -> bool:
    """Whether `evaluate_op` has a kernel for this op (region ops excluded)."""
    return type(op) in _KERNELS and not op.regions


def evaluate_op(op: Operation, args: Sequence[Any]) -> tuple[Any, ...]:
    """The results of one op on concrete operand values, computed by its interpreter kernel
    (what folding and the frontends' import-time evaluation use). Raises on a run-time
    error of the op (e.g. an out-of-range gather index)."""
    kernel = _KERNELS.get(type(op))
    if kernel is None or op.regions:
        raise InterpretationError(f"'{op.name}' cannot be evaluated on its own")
    arrays = tuple(np.asarray(a, order="C") if isinstance(a, np.ndarray) else a for a in args)
    with np.errstate(all="ignore"):
        return tuple(kernel(_STATELESS, None, op, arrays).values)


# endregion Evaluating single ops


def splat_scalar(array: np.ndarray | None) -> np.ndarray | None:
    """The 0-d value of a constant whose elements are all (bitwise) equal, else None."""
    if array is None:
        return None
    first = splat_value(array)
    return None if first is None else first.reshape(())


def evaluate_on_scalars(op: Operation, scalars: Sequence[np.ndarray]) -> np.ndarray:
    """The one value of a splat-preserving op (`SPLAT_PRESERVING`) whose operands are all
    splats, given as 0-d arrays: computed once, whatever the result's size."""
    result_dtype = _dtype_of(op)
    with np.errstate(all="ignore"):
        if type(op) in BINARY:
            value = BINARY[type(op)](*scalars)
        elif type(op) in UNARY:
            value = UNARY[type(op)](scalars[0])
        elif isinstance(op, red.GeluOp):
            value = gelu(scalars[0], op.approximation)
        elif isinstance(op, red.SelectOp):
            value = scalars[1] if scalars[0] else scalars[2]
        elif isinstance(op, red.CastOp):
            value = cast(scalars[0], result_dtype)
        else:  # ops that only move elements: the value itself
            value = scalars[0]
    out = np.asarray(value).reshape(())
    if out.dtype != result_dtype:
        raise InterpretationError(f"interpreter bug: '{op.name}' produced dtype {out.dtype}")
    return out
