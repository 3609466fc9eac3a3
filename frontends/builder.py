"""The Python model builder: write a model with numpy-like Python, get a verified red module
whose every op is located at the Python line that made it.

    mb = ModuleBuilder()
    f = mb.function("main")
    a, b, c = (f.arg((64, 64), name=n) for n in "abc")
    f.returns(a @ b @ c @ a @ b)
    module = mb.build()
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FileLineColLoc,
    IntAttr,
    LocationAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from red.dialects import red
from red.dialects.numpy_interop import element_type_named, numpy_dtype
from red.dialects.verifier import verify_module
from red.frontends import emitter
from red.frontends.emitter import Emitter, Value

_FRONTEND_FILES = {os.path.abspath(__file__), os.path.abspath(emitter.__file__)}


def element_type(dtype: str | Attribute) -> Attribute:
    """An element type given by name (`"f32"`) or as an attribute."""
    return dtype if isinstance(dtype, Attribute) else element_type_named(dtype)


def caller_location() -> FileLineColLoc:
    """The first stack frame outside the builder and the emitter: the user's line that built
    the op."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename) in _FRONTEND_FILES:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return FileLineColLoc(StringAttr("<builder>"), IntAttr(0), IntAttr(0))
    return FileLineColLoc(StringAttr(frame.f_code.co_filename), IntAttr(frame.f_lineno), IntAttr(1))


class _CallerEmitter(Emitter):
    """Locates every op at the user's line that built it."""

    def location(self) -> LocationAttr:
        return caller_location()


class Tensor:
    """A tensor value under construction; Python operators build red ops."""

    def __init__(self, value: SSAValue, fb: FunctionBuilder):
        self.value = value
        self.fb = fb

    @property
    def shape(self) -> tuple[int, ...]:
        return red.shape_of(self.value)

    @property
    def element_type(self) -> Attribute:
        return red.element_type_of(self.value)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.value.type})"

    # region arithmetic
    def _lift(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return other
        return self.fb.constant(np.asarray(other, dtype=numpy_dtype(self.element_type)))

    def _binary(
        self, cls: type[red.BinaryElementwiseOp], other: Any, reverse: bool = False
    ) -> Tensor:
        """A binary op; a non-Tensor operand becomes a constant of this tensor's element
        type, and two tensors of different element types are promoted (`promote_types`)."""
        o = self._lift(other)
        lhs, rhs = (o, self) if reverse else (self, o)
        return self.fb.wrap(self.fb.em.binary(cls, lhs.value, rhs.value))

    def __add__(self, o: Any) -> Tensor:
        return self._binary(red.AddOp, o)

    def __radd__(self, o: Any) -> Tensor:
        return self._binary(red.AddOp, o, True)

    def __sub__(self, o: Any) -> Tensor:
        return self._binary(red.SubOp, o)

    def __rsub__(self, o: Any) -> Tensor:
        return self._binary(red.SubOp, o, True)

    def __mul__(self, o: Any) -> Tensor:
        return self._binary(red.MulOp, o)

    def __rmul__(self, o: Any) -> Tensor:
        return self._binary(red.MulOp, o, True)

    def __truediv__(self, o: Any) -> Tensor:
        return self._binary(red.DivOp, o)

    def __rtruediv__(self, o: Any) -> Tensor:
        return self._binary(red.DivOp, o, True)

    def __pow__(self, o: Any) -> Tensor:
        return self._binary(red.PowOp, o)

    def __neg__(self) -> Tensor:
        return self.fb.emit(red.NegOp(self.value))

    def __matmul__(self, o: Tensor) -> Tensor:
        return self.fb.emit(red.MatmulOp(self.value, o.value))

    def lt(self, o: Any) -> Tensor:
        return self._binary(red.LtOp, o)

    def le(self, o: Any) -> Tensor:
        return self._binary(red.LeOp, o)

    def gt(self, o: Any) -> Tensor:
        return self._binary(red.GtOp, o)

    def ge(self, o: Any) -> Tensor:
        return self._binary(red.GeOp, o)

    def eq(self, o: Any) -> Tensor:
        return self._binary(red.EqOp, o)

    def ne(self, o: Any) -> Tensor:
        return self._binary(red.NeOp, o)

    # endregion arithmetic

    # region shape
    @property
    def T(self) -> Tensor:
        """Swap the last two dimensions."""
        perm = list(range(self.ndim))
        perm[-2], perm[-1] = perm[-1], perm[-2]
        return self.transpose(*perm)

    def transpose(self, *perm: int) -> Tensor:
        return self.fb.emit(red.TransposeOp(self.value, list(perm)))

    def reshape(self, *shape: int) -> Tensor:
        return self.fb.emit(red.ReshapeOp(self.value, list(shape)))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self.fb.emit(red.BroadcastToOp(self.value, list(shape)))

    def __getitem__(self, index: Any) -> Tensor:
        """Basic indexing: slices with positive steps, and integers (which drop the dim)."""
        index = index if isinstance(index, tuple) else (index,)
        start, limit, stride, keep = [], [], [], []
        for d, n in enumerate(self.shape):
            item = index[d] if d < len(index) else slice(None)
            if isinstance(item, int):
                i = item + n if item < 0 else item
                start.append(i)
                limit.append(i + 1)
                stride.append(1)
                continue
            lo, hi, st = item.indices(n)
            if st < 1:
                raise ValueError("negative slice steps are not supported")
            start.append(lo)
            limit.append(max(lo, hi))
            stride.append(st)
            keep.append(d)
        out = self.fb.emit(red.SliceOp(self.value, start, limit, stride))
        if len(keep) != self.ndim:
            out = out.reshape(*[out.shape[d] for d in keep])
        return out

    def sum(self, axes: Sequence[int] | int, keepdims: bool = False) -> Tensor:
        return self.fb.emit(red.ReduceSumOp(self.value, _axes(axes, self.ndim), keepdims))

    def mean(self, axes: Sequence[int] | int, keepdims: bool = False) -> Tensor:
        return self.fb.emit(red.ReduceMeanOp(self.value, _axes(axes, self.ndim), keepdims))

    def max(self, axes: Sequence[int] | int, keepdims: bool = False) -> Tensor:
        return self.fb.emit(red.ReduceMaxOp(self.value, _axes(axes, self.ndim), keepdims))

    def astype(self, dtype: str | Attribute) -> Tensor:
        return self.fb.emit(red.CastOp(self.value, element_type(dtype)))

    # endregion shape


def _axes(axes: Sequence[int] | int, ndim: int) -> list[int]:
    axes = [axes] if isinstance(axes, int) else list(axes)
    return [a + ndim if a < 0 else a for a in axes]


class FunctionBuilder:
    """Builds one func.func: declare arguments, build ops through Tensor, then `returns`."""

    def __init__(self, module: ModuleBuilder, name: str, private: bool = False):
        self.module = module
        self.name = name
        self.private = private
        self.block = Block()
        self.em = _CallerEmitter(self.block, fold=module.fold)
        self.arg_attrs: list[dict[str, Attribute]] = []
        self.location = caller_location()
        self.done = False

    def arg(self, shape: Sequence[int], dtype: str | Attribute = "f32", name: str | None = None,
            invariant: bool = False) -> Tensor:  # fmt: skip
        """A new argument; `invariant=True` marks weights (`red.invariant`)."""
        value = self.block.insert_arg(
            TensorType(element_type(dtype), list(shape)), len(self.block.args)
        )
        if name:
            value.name_hint = name
        self.arg_attrs.append({red.INVARIANT_ATTR: UnitAttr()} if invariant else {})
        return Tensor(value, self)

    def wrap(self, value: Value) -> Tensor:
        """A Tensor of an emitter's result (a folded constant is materialized)."""
        return Tensor(self.em.ssa(value), self)

    def emit(self, op: Operation) -> Tensor:
        """Append `op` (folded instead when the module builder folds and its operands are
        all constants)."""
        return self.wrap(self.em.emit(op))

    def constant(self, array: Any, dtype: str | Attribute | None = None) -> Tensor:
        elt = element_type(dtype) if dtype is not None else None
        return Tensor(self.em.constant(np.asarray(array), elt), self)

    def iota(self, shape: Sequence[int], dimension: int, dtype: str = "i64") -> Tensor:
        return Tensor(self.em.iota(shape, dimension, element_type(dtype)), self)

    def call(self, callee: FunctionBuilder, *args: Tensor) -> list[Tensor]:
        if not callee.done:
            raise ValueError(f"call to '@{callee.name}' before it returns")
        op = self.em.insert(func.CallOp(callee.name, [a.value for a in args], callee.result_types))
        return [Tensor(r, self) for r in op.results]

    def returns(self, *results: Tensor) -> None:
        self.em.insert(func.ReturnOp(*[r.value for r in results]))
        self.result_types = [r.value.type for r in results]
        fn = func.FuncOp(
            self.name,
            ([a.type for a in self.block.args], self.result_types),
            Region(self.block),
            visibility="private" if self.private else None,
            arg_attrs=ArrayAttr([DictionaryAttr(a) for a in self.arg_attrs])
            if any(self.arg_attrs)
            else None,
        )
        fn.location = self.location
        self.module.module.body.block.add_op(fn)
        self.done = True


class ModuleBuilder:
    """Collects functions; `build()` verifies and returns the module. Ops are built as
    written; with `fold=True`, an op whose operands are all constants becomes a constant
    (by default that is left to canonicalize, so tests can build foldable IR)."""

    def __init__(self, fold: bool = False) -> None:
        self.fold = fold
        self.module = ModuleOp([])
        self.functions: list[FunctionBuilder] = []

    def function(self, name: str, private: bool = False) -> FunctionBuilder:
        fb = FunctionBuilder(self, name, private)
        self.functions.append(fb)
        return fb

    def build(self) -> ModuleOp:
        unfinished = [f.name for f in self.functions if not f.done]
        if unfinished:
            raise ValueError(f"functions without returns: {', '.join(unfinished)}")
        verify_module(self.module)
        return self.module


# region functional ops


def _unary(cls: type[red.UnaryElementwiseOp], x: Tensor) -> Tensor:
    return x.fb.emit(cls(x.value))


def exp(x: Tensor) -> Tensor:
    return _unary(red.ExpOp, x)


def log(x: Tensor) -> Tensor:
    return _unary(red.LogOp, x)


def sqrt(x: Tensor) -> Tensor:
    return _unary(red.SqrtOp, x)


def rsqrt(x: Tensor) -> Tensor:
    return _unary(red.RsqrtOp, x)


def tanh(x: Tensor) -> Tensor:
    return _unary(red.TanhOp, x)


def sigmoid(x: Tensor) -> Tensor:
    return _unary(red.SigmoidOp, x)


def relu(x: Tensor) -> Tensor:
    return _unary(red.ReluOp, x)


def silu(x: Tensor) -> Tensor:
    return _unary(red.SiluOp, x)


def erf(x: Tensor) -> Tensor:
    return _unary(red.ErfOp, x)


def abs(x: Tensor) -> Tensor:
    return _unary(red.AbsOp, x)


def sin(x: Tensor) -> Tensor:
    return _unary(red.SinOp, x)


def cos(x: Tensor) -> Tensor:
    return _unary(red.CosOp, x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    return x.fb.emit(red.GeluOp(x.value, approximate))


def maximum(a: Tensor, b: Any) -> Tensor:
    return a._binary(red.MaxOp, b)


def minimum(a: Tensor, b: Any) -> Tensor:
    return a._binary(red.MinOp, b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return a @ b


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.fb.emit(red.SoftmaxOp(x.value, axis % x.ndim))


def layer_norm(x: Tensor, axis: int = -1, eps: float = 1e-5) -> Tensor:
    return x.fb.emit(red.LayerNormOp(x.value, axis % x.ndim, eps))


def rms_norm(x: Tensor, axis: int = -1, eps: float = 1e-6) -> Tensor:
    return x.fb.emit(red.RmsNormOp(x.value, axis % x.ndim, eps))


def concat(xs: Sequence[Tensor], axis: int = 0) -> Tensor:
    return xs[0].fb.emit(red.ConcatOp([x.value for x in xs], axis % xs[0].ndim))


def gather(table: Tensor, indices: Tensor, axis: int = 0) -> Tensor:
    return table.fb.emit(red.GatherOp(table.value, indices.value, axis))


def select(cond: Tensor, a: Tensor, b: Any) -> Tensor:
    b = a._lift(b)
    return a.fb.emit(red.SelectOp(cond.value, a.value, b.value))


# endregion functional ops
