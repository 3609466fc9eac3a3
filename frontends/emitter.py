"""The one place the frontends create red ops: the builder, the ONNX importer and the PyTorch
importer all emit through an `Emitter`, which locates every op, lifts Python scalars and
promotes element types, and folds an op whose operands are all constants into a constant.

    e = Emitter(block)
    e.loc = NameLoc(StringAttr("fc"), file_loc)
    y = e.add(e.matmul(x, w), bias)        # SSAValue, or a numpy array when it folded

Values: an operand is an `SSAValue`, a numpy array (a compile-time constant, materialized as
a `red.constant` only when an emitted op uses it) or a Python/numpy scalar (which takes the
element type of the other operand). A helper returns an `SSAValue`, or a numpy array when
every operand was a constant and the op folded: folding evaluates the op with the
interpreter's own kernel (`red_interpreter.evaluate_op`), so an import-time fold computes
exactly what the op computes at run time. A fold never makes a constant larger than both
`max_fold_bytes` and its operands together (a broadcast of a scalar to a huge shape stays an
op), nor one over `max_fold_bytes` of a constant that stays in the module anyway
(`outlives_fold`: the transpose of a weight the embedding also reads stays a `red.transpose`,
which the lowering reads through strides, instead of a second copy of the weight). An
`SSAValue` defined by `red.constant` counts as a constant too.

Regions: `with e.inside(body):` emits into the body block of a loop or branch being built;
the constants it needs are materialized in the enclosing block (before the op that will hold
the body), once, not in every iteration.

Frontends subclass `Emitter` to say where ops are (`location`), how an error reads
(`error`), how their own handles become values (`value`) and which constants other ops keep
alive (`outlives_fold`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IndexType,
    IntegerAttr,
    LocationAttr,
    TensorType,
    UnknownLoc,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import (
    UnsupportedTypeError,
    dense_to_numpy,
    element_type_for,
    numpy_dtype,
    numpy_to_dense,
    splat_to_dense,
    splat_value,
)
from red.dialects.red_interpreter import can_evaluate, evaluate_op

Value = SSAValue | np.ndarray
"""What a helper returns: an SSA value, or a compile-time constant."""

Scalar = bool | int | float | np.generic
Operand = SSAValue | np.ndarray | Scalar
"""What a helper takes: a value, or a scalar that takes the other operand's element type."""

DEFAULT_MAX_FOLD_BYTES = 1 << 20
"""Like canonicalize's `max-fold-bytes`: the largest constant a fold may create beyond the
size of its operands."""

_KIND_ORDER = {"b": 0, "i": 1, "u": 1, "f": 2}


def shape_of(x: Value) -> tuple[int, ...]:
    """The static shape of a value."""
    if isinstance(x, SSAValue):
        return red.shape_of(x)
    return tuple(np.shape(x))


def default_scalar(value: Scalar) -> np.ndarray:
    """A scalar with no operand to take a type from: bool -> i1, int -> i64, float -> f32."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, bool):
        return np.asarray(value, dtype=np.bool_)
    return np.asarray(value, dtype=np.int64 if isinstance(value, int) else np.float32)


def promote_types(a: Attribute, b: Attribute) -> Attribute:
    """The element type two tensors of different element types meet at: a float beats an
    integer, an integer beats i1, and within a kind the wider wins (an integer meeting a
    float keeps the float's width, as in PyTorch and JAX; numpy would widen to f64)."""
    da, db = numpy_dtype(a), numpy_dtype(b)
    ka, kb = _KIND_ORDER[da.kind], _KIND_ORDER[db.kind]
    if ka != kb:
        return a if ka > kb else b
    return element_type_for(np.promote_types(da, db))


def _stored_bytes(array: np.ndarray) -> int:
    """The bytes a constant takes: one element for a broadcast view (a splat)."""
    if array.size and all(s == 0 for s in array.strides):
        return array.itemsize
    return array.nbytes


def _keeps_splat(array: np.ndarray) -> bool:
    """Whether a constant is stored as a splat: all elements equal bit for bit (so 0.0 and
    -0.0 differ), and not NaN (xDSL prints a NaN splat as one hex element, which parses back
    as a one-element dense array)."""
    first = splat_value(array)
    if first is None or array.size <= 1:
        return False
    return first.dtype.kind != "f" or not np.isnan(first[0])


class Emitter:
    """Creates located red ops at the end of `block` (see the module docstring)."""

    def __init__(
        self, block: Block, *, fold: bool = True, max_fold_bytes: int = DEFAULT_MAX_FOLD_BYTES
    ):
        self.block = block
        self.constant_block: Block | None = None
        """Where constants are materialized when not in `block` (see `inside`)."""
        self.fold = fold
        self.max_fold_bytes = max_fold_bytes
        self.loc: LocationAttr = UnknownLoc()
        # (id(array), id(block)) -> (array, block, its red.constant there): a constant is
        # reused within the block it was made in (which a nested body may switch `block` to);
        # the array and block are kept so that their ids stay unique.
        self._materialized: dict[tuple[int, int], tuple[np.ndarray, Block, SSAValue]] = {}
        self._indices: dict[tuple[int, int], tuple[Block, SSAValue]] = {}
        # id(array) -> (array, the location of the node that defined it).
        self._origins: dict[int, tuple[np.ndarray, LocationAttr]] = {}

    # region Hooks a frontend overrides

    def location(self) -> LocationAttr:
        """The location of the next op (default: `self.loc`)."""
        return self.loc

    def error(self, message: str) -> Exception:
        """The exception for input the frontend cannot import."""
        return DiagnosticError(self.location(), message)

    def value(self, x: Any) -> Operand:
        """A frontend's handle (a graph node, a framework tensor, ...) as an operand."""
        return x

    def outlives_fold(self, x: Operand) -> bool:
        """Whether a constant operand stays in the module whatever the op using it becomes
        (a weight other ops read too): a fold of it over `max_fold_bytes` would keep its
        bytes twice, so the op is emitted instead (default: no operand is known to)."""
        return False

    # endregion Hooks a frontend overrides

    # region Values

    def const(self, x: Any) -> np.ndarray | None:
        """The compile-time value of an operand, or None when it is computed at run time."""
        x = self.value(x)
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, SSAValue) and isinstance(owner := x.owner, red.ConstantOp):
            if isinstance(owner.value, DenseIntOrFPElementsAttr | DenseResourceAttr):
                try:
                    return dense_to_numpy(owner.value)
                except ValueError:  # a resource blob without data
                    return None
        return None

    def shape(self, x: Any) -> tuple[int, ...]:
        x = self.value(x)
        return shape_of(x if isinstance(x, SSAValue) else np.asarray(x))

    def element_type(self, dtype: Any) -> Attribute:
        """The red element type of a numpy dtype (an error naming it when red has none)."""
        try:
            return element_type_for(dtype)
        except UnsupportedTypeError:
            raise self.error(
                f"element type '{np.dtype(dtype).name}' is not supported by red"
            ) from None

    def elt(self, x: Any) -> Attribute:
        """The element type of an operand (a Python scalar's default one)."""
        x = self.value(x)
        if isinstance(x, SSAValue):
            return red.element_type_of(x)
        if isinstance(x, np.ndarray):
            return self.element_type(x.dtype)
        return self.element_type(default_scalar(x).dtype)

    def scalar(self, value: Scalar, like: Any) -> np.ndarray:
        """A rank-0 constant of the element type of `like`."""
        return np.asarray(value, dtype=numpy_dtype(self.elt(like)))

    def define(self, array: np.ndarray, loc: LocationAttr) -> np.ndarray:
        """Record where a constant comes from: it is located there when materialized (the
        first definition wins, so an Identity keeps its input's location)."""
        if id(array) not in self._origins:
            self._origins[id(array)] = (array, loc)
        return array

    def origin(self, array: np.ndarray) -> LocationAttr:
        """Where a constant is located when materialized: where it was defined, else here."""
        found = self._origins.get(id(array))
        return found[1] if found is not None and found[0] is array else self.location()

    def ssa(self, x: Any) -> SSAValue:
        """The SSA value of an operand, materializing a constant where needed (once per
        array and block: an array materialized before reuses its red.constant)."""
        x = self.value(x)
        if isinstance(x, SSAValue):
            return x
        array = x if isinstance(x, np.ndarray) else default_scalar(x)
        block = self.constant_block or self.block
        key = (id(array), id(block))
        cached = self._materialized.get(key)
        if cached is not None and cached[0] is array and cached[1] is block:
            return cached[2]
        loc = self.origin(array)
        elt = self.element_type(array.dtype)
        if _keeps_splat(array):
            value = splat_to_dense(array.reshape(-1)[0], TensorType(elt, list(array.shape)))
        else:
            value = numpy_to_dense(array, elt)
        op = red.ConstantOp(value)
        op.location = loc
        block.add_op(op)
        self._materialized[key] = (array, block, op.result)
        return op.result

    def constant(self, array: Any, elt: Attribute | None = None) -> SSAValue:
        """A new red.constant holding exactly `array` (dense, converted to `elt` if given)."""
        return self.insert(red.ConstantOp(numpy_to_dense(np.asarray(array), elt))).results[0]

    # endregion Values

    # region Regions

    @contextmanager
    def inside(self, body: Block) -> Iterator[Block]:
        """Emit into `body` (of a loop or branch op not yet inserted): ops go there, the
        constants they need to the enclosing block, where the op will follow them."""
        outer_block, outer_constants = self.block, self.constant_block
        self.constant_block = outer_constants or outer_block
        self.block = body
        try:
            yield body
        finally:
            self.block, self.constant_block = outer_block, outer_constants

    # endregion Regions

    # region Creating ops

    def insert(self, op: Operation) -> Operation:
        """Append `op` at the current location."""
        op.location = self.location()
        self.block.add_op(op)
        return op

    def emit(self, op: Operation) -> Value:
        """Append a built op, or fold it when its operands are all constants."""
        if self.fold and op.operands:
            arrays = self._constants(op.operands)
            shared = any(self.outlives_fold(x) for x in op.operands)
            if arrays is not None and (folded := self._evaluate(op, arrays, shared)) is not None:
                op.drop_all_references()
                return folded
        return self.insert(op).results[0]

    def op(self, make: Callable[..., Operation], *operands: Any) -> Value:
        """The result of `make(*ssa_operands)`: folded when the operands are all constants,
        which then need not be materialized."""
        values = [self.value(x) for x in operands]
        values = [default_scalar(x) if isinstance(x, Scalar) else x for x in values]
        if self.fold and values and (arrays := self._constants(values)) is not None:
            scratch = Block(arg_types=[self._tensor_type(a) for a in arrays])
            probe = make(*scratch.args)
            folded = self._evaluate(probe, arrays, any(self.outlives_fold(x) for x in values))
            probe.drop_all_references()
            if folded is not None:
                return folded
        return self.insert(make(*[self.ssa(x) for x in values])).results[0]

    def _constants(self, values: Sequence[Any]) -> list[np.ndarray] | None:
        """The values of operands that are all constants, else None."""
        arrays = []
        for v in values:
            if (array := self.const(v)) is None:
                return None
            arrays.append(array)
        return arrays

    def _tensor_type(self, array: np.ndarray) -> TensorType:
        return TensorType(self.element_type(array.dtype), list(array.shape))

    def _evaluate(
        self, op: Operation, arrays: Sequence[np.ndarray], shared: bool = False
    ) -> np.ndarray | None:
        """The folded result of a single-result op, or None when the interpreter has no
        kernel for it, the result would be over the size guard (checked on its type, before
        anything is computed; with a `shared` operand, one that `outlives_fold`, the guard
        is `max_fold_bytes` alone), or the op fails (an out-of-range index: left to run
        time)."""
        if len(op.results) != 1 or not can_evaluate(op):
            return None
        typ = op.results[0].type
        assert isinstance(typ, TensorType)
        dtype = numpy_dtype(typ.get_element_type())
        size = math.prod(typ.get_shape()) * dtype.itemsize
        operand_bytes = 0 if shared else sum(_stored_bytes(a) for a in arrays)
        if size > max(self.max_fold_bytes, operand_bytes):
            return None
        try:
            (result,) = evaluate_op(op, arrays)
        except Exception:
            return None
        result = np.asarray(result, dtype=dtype)
        return result if result.shape == tuple(typ.get_shape()) else None

    # endregion Creating ops

    # region Elementwise

    def unary(self, cls: type[red.UnaryElementwiseOp], x: Any) -> Value:
        return self.op(cls, x)

    def binary(
        self, cls: type[red.BinaryElementwiseOp], a: Any, b: Any, dtype: Attribute | None = None
    ) -> Value:
        """A binary op. With `dtype`, both operands are cast to it first; otherwise a scalar
        takes the other operand's element type and two tensors of different element types
        meet at `promote_types`."""
        a, b = self.value(a), self.value(b)
        if dtype is not None:
            a, b = self.cast(a, dtype), self.cast(b, dtype)
        elif isinstance(a, Scalar) and isinstance(b, Scalar):
            a, b = default_scalar(a), default_scalar(b)
        elif isinstance(a, Scalar):
            a = self.scalar(a, b)
        elif isinstance(b, Scalar):
            b = self.scalar(b, a)
        if (ta := self.elt(a)) != (tb := self.elt(b)):
            common = promote_types(ta, tb)
            a, b = self.cast(a, common), self.cast(b, common)
        return self.op(cls, a, b)

    def add(self, a: Any, b: Any) -> Value:
        return self.binary(red.AddOp, a, b)

    def sub(self, a: Any, b: Any) -> Value:
        return self.binary(red.SubOp, a, b)

    def mul(self, a: Any, b: Any) -> Value:
        return self.binary(red.MulOp, a, b)

    def div(self, a: Any, b: Any) -> Value:
        return self.binary(red.DivOp, a, b)

    def select(self, cond: Any, a: Any, b: Any) -> Value:
        """where(cond, a, b); a scalar branch takes the other branch's element type."""
        a, b = self.value(a), self.value(b)
        if isinstance(a, Scalar):
            a = self.scalar(a, b)
        if isinstance(b, Scalar):
            b = self.scalar(b, a)
        return self.op(red.SelectOp, cond, a, b)

    def cast(self, x: Any, elt: Attribute) -> Value:
        """x as element type `elt` (x itself when it has it already)."""
        x = self.value(x)
        if isinstance(x, Scalar):
            return np.asarray(x, dtype=numpy_dtype(elt))
        if self.elt(x) == elt:
            return x
        return self.op(lambda v: red.CastOp(v, elt), x)

    # endregion Elementwise

    # region Shapes

    def reshape(self, x: Any, shape: Sequence[int]) -> Value:
        shape = [int(d) for d in shape]
        if tuple(shape) == self.shape(x):
            return self.value(x)  # type: ignore[return-value]
        return self.op(lambda v: red.ReshapeOp(v, shape), x)

    def transpose(self, x: Any, perm: Sequence[int]) -> Value:
        perm = [int(p) for p in perm]
        if perm == list(range(len(perm))):
            return self.value(x)  # type: ignore[return-value]
        return self.op(lambda v: red.TransposeOp(v, perm), x)

    def broadcast_to(self, x: Any, shape: Sequence[int]) -> Value:
        shape = [int(d) for d in shape]
        if tuple(shape) == self.shape(x):
            return self.value(x)  # type: ignore[return-value]
        return self.op(lambda v: red.BroadcastToOp(v, shape), x)

    def slice(
        self, x: Any, start: Sequence[int], limit: Sequence[int], stride: Sequence[int]
    ) -> Value:
        shape = self.shape(x)
        if list(start) == [0] * len(shape) and list(limit) == list(shape) and set(stride) <= {1}:
            return self.value(x)  # type: ignore[return-value]
        return self.op(lambda v: red.SliceOp(v, list(start), list(limit), list(stride)), x)

    def slice_axis(self, x: Any, axis: int, lo: int, hi: int, step: int = 1) -> Value:
        """x[lo:hi:step] along `axis`."""
        shape = self.shape(x)
        start, limit, stride = [0] * len(shape), list(shape), [1] * len(shape)
        start[axis], limit[axis], stride[axis] = lo, hi, step
        return self.slice(x, start, limit, stride)

    def take(self, x: Any, axis: int, index: int) -> Value:
        """x[index] along `axis`, dropping the axis."""
        shape = list(self.shape(x))
        part = self.slice_axis(x, axis, index, index + 1)
        return self.reshape(part, shape[:axis] + shape[axis + 1 :])

    def concat(self, xs: Sequence[Any], axis: int) -> Value:
        if len(xs) == 1:
            return self.value(xs[0])  # type: ignore[return-value]
        return self.op(lambda *vs: red.ConcatOp(list(vs), axis), *xs)

    def gather(self, table: Any, indices: Any, axis: int = 0) -> Value:
        return self.op(lambda t, i: red.GatherOp(t, i, axis), table, indices)

    def iota(self, shape: Sequence[int], axis: int, elt: Attribute = i64) -> SSAValue:
        return self.insert(red.IotaOp(TensorType(elt, list(shape)), axis)).results[0]

    def index(self, n: int) -> SSAValue:
        """An `index` constant (loop bounds, offsets): one per value and block, made where
        constants go (outside a body being built)."""
        block = self.constant_block or self.block
        cached = self._indices.get((n, id(block)))
        if cached is not None and cached[0] is block:
            return cached[1]
        op = arith.ConstantOp(IntegerAttr(n, IndexType()))
        op.location = self.location()
        block.add_op(op)
        self._indices[(n, id(block))] = (block, op.result)
        return op.result

    def dynamic_slice(self, x: Any, offsets: Sequence[SSAValue], sizes: Sequence[int]) -> Value:
        sizes = [int(s) for s in sizes]
        return self.op(lambda v, *o: red.DynamicSliceOp(v, o, sizes), x, *offsets)

    def dynamic_update_slice(self, x: Any, update: Any, offsets: Sequence[SSAValue]) -> Value:
        return self.op(lambda v, u, *o: red.DynamicUpdateSliceOp(v, u, o), x, update, *offsets)

    # endregion Shapes

    # region Contractions and reductions

    def matmul(self, a: Any, b: Any) -> Value:
        return self.op(red.MatmulOp, a, b)

    def reduce(
        self, cls: type[red.ReduceOp], x: Any, axes: Sequence[int], keepdims: bool = False
    ) -> Value:
        return self.op(lambda v: cls(v, list(axes), keepdims), x)

    def softmax(self, x: Any, axis: int) -> Value:
        return self.op(lambda v: red.SoftmaxOp(v, axis), x)

    def layer_norm(self, x: Any, axis: int, eps: float) -> Value:
        return self.op(lambda v: red.LayerNormOp(v, axis, eps), x)

    def rms_norm(self, x: Any, axis: int, eps: float) -> Value:
        return self.op(lambda v: red.RmsNormOp(v, axis, eps), x)

    # endregion Contractions and reductions


__all__ = [
    "DEFAULT_MAX_FOLD_BYTES",
    "Emitter",
    "Operand",
    "Scalar",
    "Value",
    "default_scalar",
    "promote_types",
    "shape_of",
]
