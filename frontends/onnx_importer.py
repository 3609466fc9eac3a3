"""The ONNX frontend: an ONNX model becomes a verified red module whose `@main` takes the graph
inputs (then, with `weights_as_args`, the floating-point initializers) and returns the graph
outputs, with static shapes, import-time constant propagation and a NameLoc on every op
(DESIGN.md §5).

    module = import_onnx("model.onnx", shapes={"input_ids": (1, 128)})

How a node is imported:
- Shapes are static. A symbolic input dimension is filled from `shapes` (`--shape`); every other
  shape follows from red's own type inference (red op constructors infer result types).
- A node whose inputs are all compile-time constants (initializers, Constant nodes, shapes of
  static tensors, earlier folded nodes) is evaluated once with onnx's reference evaluator and
  becomes a constant: the Shape -> Gather -> Concat -> Reshape subgraphs exporters emit fold away.
  Constants are materialized as `red.constant` (splats as splat attributes) where a red op uses
  them.
- Every other node becomes red ops (composites such as Gemm, LayerNormalization or LSTM become
  several), each located at NameLoc(node name, FileLineColLoc(model file, 0, 0)); an unnamed node
  is called `op_type#index`.
- An op, attribute, element type or shape the importer does not handle is an UnsupportedError
  (a located DiagnosticError) naming it; never a traceback.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, external_data_helper, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    NameLoc,
    StringAttr,
    TensorType,
    UnitAttr,
    UnknownLoc,
    f16,
    f32,
    f64,
    i1,
    i8,
    i16,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import numpy_dtype, numpy_to_dense
from red.dialects.verifier import verify_module

__all__ = [
    "SUPPORTED_OPS",
    "OnnxLoadError",
    "UnsupportedError",
    "import_onnx",
    "load_model",
    "weight_arrays",
]


class UnsupportedError(DiagnosticError):
    """The model uses an op, attribute, element type or shape the importer does not handle."""


class OnnxLoadError(DiagnosticError):
    """The model file is missing or is not an ONNX model (a file-level error: no location)."""


# region Types

ELEMENT_TYPES: dict[int, Attribute] = {
    TensorProto.FLOAT: f32,
    TensorProto.DOUBLE: f64,
    TensorProto.FLOAT16: f16,
    TensorProto.INT8: i8,
    TensorProto.INT16: i16,
    TensorProto.INT32: i32,
    TensorProto.INT64: i64,
    TensorProto.BOOL: i1,
}
"""ONNX element types red has; the unsigned, bfloat16, float8, complex and string types are
unsupported."""

_NUMPY_ELEMENT_TYPES: dict[str, Attribute] = {
    "float32": f32,
    "float64": f64,
    "float16": f16,
    "int8": i8,
    "int16": i16,
    "int32": i32,
    "int64": i64,
    "bool": i1,
}


def _onnx_type_name(elem_type: int) -> str:
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"#{elem_type}"


def _is_float(elt: Attribute) -> bool:
    return red.is_float_type(elt)


# endregion Types

# region Values


@dataclass(eq=False)
class _Value:
    """An ONNX value during import: a compile-time constant (`array`), an SSA value, or both
    once the constant has been materialized (`ssa` caches the red.constant)."""

    array: np.ndarray | None = None
    ssa: SSAValue | None = None
    loc: Attribute = field(default_factory=UnknownLoc)

    @property
    def shape(self) -> tuple[int, ...]:
        if self.array is not None:
            return tuple(self.array.shape)
        assert self.ssa is not None
        return red.shape_of(self.ssa)


@dataclass(eq=False)
class _Sequence:
    """An ONNX sequence value (SplitToSequence, SequenceConstruct): a static list of values."""

    items: list[_Value]


def _shape(x: Any) -> tuple[int, ...]:
    if isinstance(x, SSAValue):
        return red.shape_of(x)
    if isinstance(x, _Value):
        return x.shape
    return tuple(np.shape(x))


def _const(x: Any) -> np.ndarray | None:
    """The compile-time value of an operand, or None."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, _Value):
        return x.array
    return None


# endregion Values

# region The importer


Converter = Callable[["_Node"], Sequence[Any]]
CONVERTERS: dict[str, Converter] = {}


def _converts(*op_types: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for t in op_types:
            CONVERTERS[t] = fn
        return fn

    return register


_NO_FOLD = {
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Bernoulli",
    "Multinomial",
}
"""Ops that are not functions of their inputs: never evaluated at import time."""


_FOLDABLE: dict[type[Operation], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    red.AddOp: np.add,
    red.SubOp: np.subtract,
    red.MulOp: np.multiply,
}


class _Node:
    """One ONNX node being imported: typed access to its inputs and attributes, and helpers
    that emit located red ops (folding with numpy where every operand is a constant)."""

    def __init__(self, importer: _Importer, proto: onnx.NodeProto, index: int):
        self.importer = importer
        self.proto = proto
        self.op_type = proto.op_type
        self.name = proto.name or f"{proto.op_type}#{index}"
        self.loc = NameLoc(StringAttr(self.name), importer.file_loc)
        self.opset = importer.opset
        self._attrs = {a.name: a for a in proto.attribute}
        self._read: set[str] = set()

    # region errors
    def unsupported(self, message: str) -> UnsupportedError:
        return UnsupportedError(self.loc, f"{message} (ONNX node '{self.name}')")

    def error(self, message: str) -> DiagnosticError:
        return DiagnosticError(self.loc, f"{message} (ONNX node '{self.name}')")

    # endregion errors

    # region inputs and attributes
    @property
    def num_inputs(self) -> int:
        return len(self.proto.input)

    @property
    def num_outputs(self) -> int:
        return len(self.proto.output)

    def has_output(self, i: int) -> bool:
        return i < len(self.proto.output) and self.proto.output[i] != ""

    def input(self, i: int) -> _Value | None:
        """Input #i, or None when absent (past the end, or named '')."""
        if i >= len(self.proto.input) or not self.proto.input[i]:
            return None
        value = self.importer.lookup(self.proto.input[i], self)
        if isinstance(value, _Sequence):
            raise self.unsupported(f"'{self.op_type}' with a sequence input #{i} is not supported")
        return value

    def required(self, i: int) -> _Value:
        value = self.input(i)
        if value is None:
            raise self.error(f"'{self.op_type}' is missing its required input #{i}")
        return value

    def inputs(self) -> list[_Value]:
        return [v for i in range(self.num_inputs) if (v := self.input(i)) is not None]

    def const_input(self, i: int, role: str) -> np.ndarray | None:
        """The value of a constant input (None when absent); a non-constant one is
        unsupported, since shapes must be known at import time."""
        value = self.input(i)
        if value is None:
            return None
        if value.array is None:
            raise self.unsupported(
                f"'{self.op_type}' needs a compile-time constant '{role}' input (input #{i}); "
                "it is computed at run time"
            )
        return value.array

    def has_attr(self, name: str) -> bool:
        return name in self._attrs

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute's value (ints, floats, strings decoded, tensors as arrays)."""
        self._read.add(name)
        a = self._attrs.get(name)
        if a is None:
            return default
        if a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
            raise self.unsupported(f"attribute '{name}' of '{self.op_type}' holds a subgraph")
        if a.type == AttributeProto.TENSOR:
            return numpy_helper.to_array(a.t)
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return [v.decode() for v in value]
        return value

    def unread_attrs(self) -> list[str]:
        return [name for name in self._attrs if name not in self._read]

    def axis(self, axis: int, rank: int, what: str = "axis") -> int:
        if not -rank <= axis < rank:
            raise self.error(f"'{self.op_type}' {what} {axis} is out of range for rank {rank}")
        return axis + rank if axis < 0 else axis

    # endregion inputs and attributes

    # region emitting
    def emit(self, op: Operation) -> SSAValue:
        op.location = self.loc
        self.importer.block.add_op(op)
        return op.results[0]

    def ssa(self, x: Any) -> SSAValue:
        """The SSA value of an operand, materializing a constant where needed."""
        if isinstance(x, SSAValue):
            return x
        if isinstance(x, _Value):
            if x.ssa is None:
                assert x.array is not None
                x.ssa = self.importer.materialize(x.array, x.loc, self)
            return x.ssa
        return self.importer.materialize(np.asarray(x), self.loc, self)

    def elt(self, x: Any) -> Attribute:
        if isinstance(x, _Value) and x.ssa is not None:
            x = x.ssa
        if isinstance(x, SSAValue):
            return red.element_type_of(x)
        array = _const(x)
        assert array is not None, "an operand is either an SSA value or a constant"
        return self.importer.element_type(array.dtype, self)

    def scalar(self, value: float | int | bool, like: Any) -> np.ndarray:
        """A rank-0 constant of the element type of `like`."""
        return np.asarray(value, dtype=numpy_dtype(self.elt(like)))

    def unary(self, cls: type[red.UnaryElementwiseOp], x: Any) -> SSAValue:
        return self.emit(cls(self.ssa(x)))

    def binary(self, cls: type[red.BinaryElementwiseOp], a: Any, b: Any) -> Any:
        """A binary op; a Python number operand takes the other operand's element type. Sums,
        differences and products of two constants (e.g. two bias vectors) fold."""
        if isinstance(a, int | float | bool):
            a = self.scalar(a, b)
        if isinstance(b, int | float | bool):
            b = self.scalar(b, a)
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None and cls in _FOLDABLE and ca.dtype == cb.dtype:
            return _FOLDABLE[cls](ca, cb)
        return self.emit(cls(self.ssa(a), self.ssa(b)))

    def add(self, a: Any, b: Any) -> Any:
        return self.binary(red.AddOp, a, b)

    def sub(self, a: Any, b: Any) -> Any:
        return self.binary(red.SubOp, a, b)

    def mul(self, a: Any, b: Any) -> Any:
        return self.binary(red.MulOp, a, b)

    def div(self, a: Any, b: Any) -> Any:
        return self.binary(red.DivOp, a, b)

    def select(self, cond: Any, a: Any, b: Any) -> SSAValue:
        if isinstance(a, int | float | bool):
            a = self.scalar(a, b)
        if isinstance(b, int | float | bool):
            b = self.scalar(b, a)
        return self.emit(red.SelectOp(self.ssa(cond), self.ssa(a), self.ssa(b)))

    def cast(self, x: Any, elt: Attribute) -> Any:
        if self.elt(x) == elt:
            return x
        if (array := _const(x)) is not None:
            return array.astype(numpy_dtype(elt)) if elt != i1 else array != 0
        return self.emit(red.CastOp(self.ssa(x), elt))

    def reshape(self, x: Any, shape: Sequence[int]) -> Any:
        shape = [int(d) for d in shape]
        if tuple(shape) == _shape(x):
            return x
        if (array := _const(x)) is not None:
            return array.reshape(shape)
        return self.emit(red.ReshapeOp(self.ssa(x), shape))

    def transpose(self, x: Any, perm: Sequence[int]) -> Any:
        perm = [int(p) for p in perm]
        if perm == list(range(len(perm))):
            return x
        if (array := _const(x)) is not None:
            return np.ascontiguousarray(np.transpose(array, perm))
        return self.emit(red.TransposeOp(self.ssa(x), perm))

    def slice(
        self, x: Any, start: Sequence[int], limit: Sequence[int], stride: Sequence[int]
    ) -> Any:
        shape = _shape(x)
        if list(start) == [0] * len(shape) and list(limit) == list(shape) and set(stride) <= {1}:
            return x
        if (array := _const(x)) is not None:
            index = tuple(slice(lo, hi, st) for lo, hi, st in zip(start, limit, stride))
            return np.ascontiguousarray(array[index])
        return self.emit(red.SliceOp(self.ssa(x), list(start), list(limit), list(stride)))

    def slice_axis(self, x: Any, axis: int, lo: int, hi: int) -> Any:
        shape = _shape(x)
        start, limit = [0] * len(shape), list(shape)
        start[axis], limit[axis] = lo, hi
        return self.slice(x, start, limit, [1] * len(shape))

    def take(self, x: Any, axis: int, index: int) -> Any:
        """x[index] along `axis`, dropping the axis."""
        shape = list(_shape(x))
        part = self.slice_axis(x, axis, index, index + 1)
        return self.reshape(part, shape[:axis] + shape[axis + 1 :])

    def concat(self, xs: Sequence[Any], axis: int) -> Any:
        if len(xs) == 1:
            return xs[0]
        arrays = [_const(x) for x in xs]
        if all(a is not None for a in arrays):
            return np.concatenate(arrays, axis=axis)  # type: ignore[arg-type]
        return self.emit(red.ConcatOp([self.ssa(x) for x in xs], axis))

    def matmul(self, a: Any, b: Any) -> SSAValue:
        return self.emit(red.MatmulOp(self.ssa(a), self.ssa(b)))

    def broadcast_to(self, x: Any, shape: Sequence[int]) -> Any:
        if tuple(shape) == _shape(x):
            return x
        return self.emit(red.BroadcastToOp(self.ssa(x), list(shape)))

    # endregion emitting


class _Importer:
    """Imports one model graph into `@main` (see the module docstring)."""

    def __init__(
        self,
        model: onnx.ModelProto,
        filename: str,
        shapes: dict[str, tuple[int, ...]],
        weights_as_args: bool,
    ):
        self.model = model
        self.graph = model.graph
        self.filename = filename
        self.file_loc = FileLineColLoc(StringAttr(filename), IntAttr(0), IntAttr(0))
        self.shapes = shapes
        self.weights_as_args = weights_as_args
        self.opsets = {(o.domain or ""): o.version for o in model.opset_import}
        self.opset = self.opsets.get("", self.opsets.get("ai.onnx", 1))
        self.block = Block()
        self.env: dict[str, _Value | _Sequence] = {}
        self.arg_attrs: list[dict[str, Attribute]] = []
        self._materialized: dict[int, tuple[np.ndarray, SSAValue]] = {}

    def loc(self, name: str) -> NameLoc:
        return NameLoc(StringAttr(name), self.file_loc)

    # region values
    def lookup(self, name: str, node: _Node) -> _Value | _Sequence:
        value = self.env.get(name)
        if value is None:
            raise node.error(f"'{node.op_type}' uses '{name}', which no earlier node defines")
        return value

    def element_type(self, dtype: np.dtype[Any], node: _Node | None = None) -> Attribute:
        elt = _NUMPY_ELEMENT_TYPES.get(np.dtype(dtype).name)
        if elt is None:
            message = f"element type '{np.dtype(dtype).name}' is not supported by red"
            if node is not None:
                raise node.unsupported(message)
            raise UnsupportedError(self.file_loc, message)
        return elt

    def materialize(self, array: np.ndarray, loc: Attribute, node: _Node) -> SSAValue:
        """A red.constant holding `array` (a splat when every element is equal); an array
        materialized before reuses its constant (the cache keeps the array alive, so its id
        cannot be reused)."""
        cached = self._materialized.get(id(array))
        if cached is not None and cached[0] is array:
            return cached[1]
        elt = self.element_type(array.dtype, node)
        flat = array.reshape(-1)
        if _is_splat(flat):
            one = numpy_to_dense(flat[:1].reshape(()), elt)
            splat_type = TensorType(elt, list(array.shape))
            value = DenseIntOrFPElementsAttr(splat_type, one.data)  # type: ignore[arg-type]
        else:
            value = numpy_to_dense(array, elt)
        op = red.ConstantOp(value)
        op.location = loc
        self.block.add_op(op)
        self._materialized[id(array)] = (array, op.result)
        return op.result

    # endregion values

    # region graph inputs and initializers
    def _input_type(self, vi: onnx.ValueInfoProto) -> TensorType:
        loc = self.loc(vi.name)
        if not vi.type.HasField("tensor_type"):
            kind = vi.type.WhichOneof("value") or "unknown"
            raise UnsupportedError(
                loc, f"graph input '{vi.name}' has {kind} type: red needs tensors"
            )
        tt = vi.type.tensor_type
        elt = ELEMENT_TYPES.get(tt.elem_type)
        if elt is None:
            raise UnsupportedError(
                loc,
                f"graph input '{vi.name}' has element type '{_onnx_type_name(tt.elem_type)}', "
                "which red does not support",
            )
        given = self.shapes.get(vi.name)
        if not tt.HasField("shape"):
            if given is None:
                raise DiagnosticError(
                    loc,
                    f"graph input '{vi.name}' has no shape: give one with --shape {vi.name}=DIMS",
                )
            return TensorType(elt, list(given))
        dims = list(tt.shape.dim)
        if given is not None:
            if len(given) != len(dims):
                raise DiagnosticError(
                    loc,
                    f"--shape {vi.name}={_fmt_dims(given)} has rank {len(given)}, but graph input "
                    f"'{vi.name}' has rank {len(dims)}",
                )
            for i, (d, g) in enumerate(zip(dims, given)):
                if d.HasField("dim_value") and d.dim_value != g:
                    raise DiagnosticError(
                        loc,
                        f"--shape {vi.name}={_fmt_dims(given)} gives dimension {i} size {g}, but "
                        f"graph input '{vi.name}' has static size {d.dim_value} there",
                    )
            return TensorType(elt, list(given))
        shape: list[int] = []
        for i, d in enumerate(dims):
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
                continue
            what = (
                f"symbolic dimension {i} ('{d.dim_param}')"
                if d.dim_param
                else f"dimension {i} of unknown size"
            )
            example = "x".join(str(e.dim_value) if e.HasField("dim_value") else "N" for e in dims)
            raise DiagnosticError(
                loc,
                f"graph input '{vi.name}' has {what}: give its shape with "
                f"--shape {vi.name}={example or 'DIMS'}",
            )
        return TensorType(elt, shape)

    def _is_weight(self, array: np.ndarray) -> bool:
        return array.dtype.kind == "f"

    # endregion graph inputs and initializers

    def run(self) -> ModuleOp:
        initializers = {t.name: t for t in self.graph.initializer}
        inputs = [vi for vi in self.graph.input if vi.name not in initializers]
        unknown = sorted(set(self.shapes) - {vi.name for vi in inputs})
        if unknown:
            names = ", ".join(f"'{n}'" for n in unknown)
            choices = ", ".join(f"'{vi.name}'" for vi in inputs) or "none"
            raise DiagnosticError(
                self.file_loc,
                f"--shape names {names}, which is not a graph input (inputs: {choices})",
            )
        for vi in inputs:
            arg = self.block.insert_arg(self._input_type(vi), len(self.block.args))
            _set_name(arg, vi.name)
            self.env[vi.name] = _Value(ssa=arg, loc=self.loc(vi.name))
            self.arg_attrs.append({})
        if self.graph.sparse_initializer:
            name = self.graph.sparse_initializer[0].values.name
            raise UnsupportedError(self.loc(name), f"sparse initializer '{name}' is not supported")
        for t in self.graph.initializer:
            try:
                array = numpy_helper.to_array(t)
            except Exception as err:
                raise UnsupportedError(
                    self.loc(t.name), f"initializer '{t.name}' could not be read: {err}"
                ) from None
            if self.weights_as_args and self._is_weight(array):
                elt = self.element_type(array.dtype)
                arg = self.block.insert_arg(
                    TensorType(elt, list(array.shape)), len(self.block.args)
                )
                _set_name(arg, t.name)
                self.env[t.name] = _Value(ssa=arg, loc=self.loc(t.name))
                self.arg_attrs.append({red.INVARIANT_ATTR: UnitAttr()})
            else:
                self.env[t.name] = _Value(array=array, loc=self.loc(t.name))
        for index, node in enumerate(self.graph.node):
            self._import_node(node, index)
        results = [self._output(vi) for vi in self.graph.output]
        ret = func.ReturnOp(*results)
        ret.location = self.loc(self.graph.name or "main")
        self.block.add_op(ret)
        fn = func.FuncOp(
            "main",
            ([a.type for a in self.block.args], [r.type for r in results]),
            Region(self.block),
            arg_attrs=ArrayAttr([DictionaryAttr(a) for a in self.arg_attrs])
            if any(self.arg_attrs)
            else None,
        )
        fn.location = self.loc(self.graph.name or "main")
        module = ModuleOp([fn])
        module.location = self.file_loc
        verify_module(module)
        return module

    def _output(self, vi: onnx.ValueInfoProto) -> SSAValue:
        loc = self.loc(vi.name)
        value = self.env.get(vi.name)
        if value is None:
            raise DiagnosticError(loc, f"graph output '{vi.name}' is not defined by any node")
        if isinstance(value, _Sequence):
            raise UnsupportedError(
                loc, f"graph output '{vi.name}' is a sequence: red needs tensors"
            )
        if value.ssa is None:
            assert value.array is not None
            elt = ELEMENT_TYPES.get(vi.type.tensor_type.elem_type)
            array = value.array
            if elt is not None and elt != self.element_type(array.dtype):
                array = array.astype(numpy_dtype(elt))  # e.g. a folded scalar python float
            value.ssa = self.materialize(array, value.loc, _OutputNode(self, vi.name))
        ssa = value.ssa
        declared = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else 0
        if declared and ELEMENT_TYPES.get(declared) not in (None, red.element_type_of(ssa)):
            raise DiagnosticError(
                loc,
                f"graph output '{vi.name}' is declared '{_onnx_type_name(declared)}' but "
                f"imports as '{red.element_type_of(ssa)}'",
            )
        return ssa

    def _import_node(self, proto: onnx.NodeProto, index: int) -> None:
        node = _Node(self, proto, index)
        if proto.domain not in ("", "ai.onnx"):
            raise node.unsupported(f"ONNX op '{proto.domain}.{proto.op_type}' is not supported")
        values = [self.env.get(name) if name else None for name in proto.input]
        for name, v in zip(proto.input, values):
            if name and v is None:
                raise node.error(f"'{proto.op_type}' uses '{name}', which no earlier node defines")
        outputs: Sequence[Any] | None = None
        constant = all(v is None or (isinstance(v, _Value) and v.array is not None) for v in values)
        if constant and proto.op_type not in _NO_FOLD:
            outputs = self._evaluate(proto, values)
        if outputs is None:
            convert = CONVERTERS.get(proto.op_type)
            if convert is None:
                raise node.unsupported(f"ONNX op '{proto.op_type}' is not supported")
            try:
                outputs = convert(node)
            except DiagnosticError:
                raise
            except VerifyException as err:
                raise node.error(f"'{proto.op_type}' imports to invalid red IR: {err}") from err
            except Exception as err:  # a malformed node (or an importer bug): still located
                raise node.error(
                    f"could not import '{proto.op_type}': {type(err).__name__}: {err}"
                ) from err
            if unread := node.unread_attrs():
                names = ", ".join(f"'{a}'" for a in unread)
                raise node.unsupported(
                    f"attribute{'s' if len(unread) > 1 else ''} {names} of '{proto.op_type}' "
                    f"{'are' if len(unread) > 1 else 'is'} not supported"
                )
        for i, name in enumerate(proto.output):
            if not name:
                continue
            if i >= len(outputs) or outputs[i] is None:
                raise node.unsupported(f"output #{i} of '{proto.op_type}' is not supported")
            self.env[name] = self._wrap(outputs[i], node)

    def _wrap(self, x: Any, node: _Node) -> _Value | _Sequence:
        if isinstance(x, _Value | _Sequence):
            return x
        if isinstance(x, SSAValue):
            return _Value(ssa=x, loc=node.loc)
        return _Value(array=np.asarray(x), loc=node.loc)

    def _evaluate(self, proto: onnx.NodeProto, values: list[Any]) -> list[Any] | None:
        """Evaluate a node on constant inputs with onnx's reference evaluator; None when it
        cannot (then the converter runs and materializes the constants). A sequence result
        becomes a _Sequence of constants."""
        from onnx.reference import ReferenceEvaluator

        if any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for a in proto.attribute):
            return None
        feeds = {name: v.array for name, v in zip(proto.input, values) if name}
        try:
            evaluator = ReferenceEvaluator(proto, opsets=dict(self.opsets))
            results = evaluator.run(None, feeds)
        except Exception:
            return None
        loc = self.loc(proto.name or proto.op_type)
        return [
            _Sequence([_Value(array=np.asarray(a), loc=loc) for a in r])
            if isinstance(r, list)
            else None
            if r is None
            else np.asarray(r)
            for r in results
        ]


class _OutputNode(_Node):
    """Stands in for a node when a graph output is a constant to materialize."""

    def __init__(self, importer: _Importer, name: str):
        self.importer = importer
        self.op_type = "output"
        self.name = name
        self.loc = importer.loc(name)
        self.opset = importer.opset
        self._attrs = {}
        self._read = set()


def _is_splat(flat: np.ndarray) -> bool:
    """Every element equal, bit for bit (0.0 and -0.0 differ; NaN never splats)."""
    if flat.size <= 1 or not (flat == flat[0]).all():
        return False
    return flat.dtype.kind != "f" or bool((np.signbit(flat) == np.signbit(flat[0])).all())


def _fmt_dims(dims: Sequence[int]) -> str:
    return "x".join(map(str, dims))


_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.$-]")


def _set_name(value: SSAValue, name: str) -> None:
    """Use the ONNX name as the SSA name hint where xDSL accepts it (`%input_ids`)."""
    hint = _NAME_CHARS.sub("_", name)
    if hint and not hint[0].isdigit() and SSAValue.is_valid_name(hint):
        value.name_hint = hint


# endregion The importer

# region Loading


def load_model(
    model_or_path: onnx.ModelProto | str | os.PathLike[str],
) -> tuple[onnx.ModelProto, str]:
    """The model and the file name its locations use (`<onnx>` for an in-memory model)."""
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path, "<onnx>"
    path = os.fspath(model_or_path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise OnnxLoadError(
            UnknownLoc(), f"could not open input file '{path}': {err.strerror}"
        ) from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: {reason}"
        ) from None
    if not model.HasField("graph"):
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: it has no graph"
        )
    try:
        external_data_helper.load_external_data_for_model(model, os.path.dirname(path) or ".")
    except Exception as err:
        raise OnnxLoadError(
            UnknownLoc(), f"could not load the external data of '{path}': {err}"
        ) from None
    return model, path


def _inline_functions(model: onnx.ModelProto) -> onnx.ModelProto:
    """Inline model-local functions (exporters may emit them) so the graph has only ops."""
    if not model.functions:
        return model
    from onnx import inliner

    return inliner.inline_local_functions(model)


def import_onnx(
    model_or_path: onnx.ModelProto | str | os.PathLike[str],
    shapes: dict[str, tuple[int, ...]] | None = None,
    weights_as_args: bool = False,
) -> ModuleOp:
    """Import an ONNX model (a ModelProto or a file path) as a verified red module with one
    function, `@main`.

    `@main` takes the graph inputs in order and returns the graph outputs in order.
    `shapes` maps a graph input name to its full static shape (needed where the model has a
    symbolic dimension). Initializers become `red.constant`s; with `weights_as_args`, the
    floating-point initializers become trailing `{red.invariant}` arguments in initializer order
    (see `weight_arrays`), while integer and boolean initializers (shapes, axes, indices) stay
    constants, since static shapes need their values. An initializer that is also listed as a
    graph input is a constant, not an argument.

    Raises UnsupportedError (a located DiagnosticError) for what the importer does not handle,
    DiagnosticError for a symbolic dimension without a shape, and OnnxLoadError for a missing
    or unreadable file."""
    model, filename = load_model(model_or_path)
    model = _inline_functions(model)
    return _Importer(model, filename, dict(shapes or {}), weights_as_args).run()


def weight_arrays(model_or_path: onnx.ModelProto | str | os.PathLike[str]) -> list[np.ndarray]:
    """The arrays to pass for the trailing arguments `import_onnx(..., weights_as_args=True)`
    adds: the floating-point initializers, in initializer order."""
    model, _ = load_model(model_or_path)
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    return [a for a in arrays if a.dtype.kind == "f"]


# endregion Loading

# region Converters: elementwise

_UNARY: dict[str, type[red.UnaryElementwiseOp]] = {
    "Neg": red.NegOp,
    "Abs": red.AbsOp,
    "Exp": red.ExpOp,
    "Log": red.LogOp,
    "Sqrt": red.SqrtOp,
    "Tanh": red.TanhOp,
    "Sigmoid": red.SigmoidOp,
    "Relu": red.ReluOp,
    "Erf": red.ErfOp,
    "Sin": red.SinOp,
    "Cos": red.CosOp,
}


@_converts(*_UNARY)
def _unary(n: _Node) -> list[Any]:
    return [n.unary(_UNARY[n.op_type], n.required(0))]


_BINARY: dict[str, type[red.BinaryElementwiseOp]] = {
    "Add": red.AddOp,
    "Sub": red.SubOp,
    "Mul": red.MulOp,
    "Div": red.DivOp,
    "Equal": red.EqOp,
    "Less": red.LtOp,
    "LessOrEqual": red.LeOp,
    "Greater": red.GtOp,
    "GreaterOrEqual": red.GeOp,
}


@_converts(*_BINARY)
def _binary(n: _Node) -> list[Any]:
    if n.opset < 7:  # limited broadcasting with `broadcast`/`axis` attributes
        if n.attr("broadcast", 0) or n.has_attr("axis"):
            raise n.unsupported(f"'{n.op_type}' before opset 7 with 'broadcast' is not supported")
    return [n.binary(_BINARY[n.op_type], n.required(0), n.required(1))]


@_converts("Max", "Min", "Sum", "Mean")
def _variadic(n: _Node) -> list[Any]:
    cls = {"Max": red.MaxOp, "Min": red.MinOp, "Sum": red.AddOp, "Mean": red.AddOp}[n.op_type]
    xs = n.inputs()
    if not xs:
        raise n.error(f"'{n.op_type}' needs at least one input")
    acc: Any = xs[0]
    for x in xs[1:]:
        acc = n.binary(cls, acc, x)
    if n.op_type == "Mean" and len(xs) > 1:
        acc = n.div(acc, float(len(xs)))
    return [acc]


@_converts("Pow")
def _pow(n: _Node) -> list[Any]:
    base, exponent = n.required(0), n.required(1)
    elt = n.elt(base)
    if _is_float(elt):
        return [n.binary(red.PowOp, base, n.cast(exponent, elt))]
    # Integer powers: computed in f64, exact for results below 2**53.
    wide = n.binary(red.PowOp, n.cast(base, f64), n.cast(exponent, f64))
    return [n.cast(wide, elt)]


@_converts("Reciprocal")
def _reciprocal(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.div(1.0, x)]


@_converts("Not")
def _not(n: _Node) -> list[Any]:
    return [n.binary(red.EqOp, n.required(0), False)]


@_converts("And", "Or", "Xor")
def _logical(n: _Node) -> list[Any]:
    a, b = n.required(0), n.required(1)
    if n.op_type == "And":
        return [n.select(a, b, False)]
    if n.op_type == "Or":
        return [n.select(a, True, b)]
    return [n.binary(red.NeOp, a, b)]


@_converts("Where")
def _where(n: _Node) -> list[Any]:
    return [n.select(n.required(0), n.required(1), n.required(2))]


def _cast_target(n: _Node, elem_type: int) -> Attribute:
    elt = ELEMENT_TYPES.get(elem_type)
    if elt is None:
        raise n.unsupported(
            f"'{n.op_type}' to element type '{_onnx_type_name(elem_type)}' is not supported"
        )
    return elt


@_converts("Cast")
def _cast(n: _Node) -> list[Any]:
    x = n.required(0)
    n.attr("saturate")  # only affects float8 targets, which are unsupported
    if n.attr("round_mode", "up") != "up":
        raise n.unsupported("'Cast' with a 'round_mode' is not supported")
    return [n.cast(x, _cast_target(n, n.attr("to")))]


@_converts("CastLike")
def _cast_like(n: _Node) -> list[Any]:
    n.attr("saturate")
    if n.attr("round_mode", "up") != "up":
        raise n.unsupported("'CastLike' with a 'round_mode' is not supported")
    return [n.cast(n.required(0), n.elt(n.required(1)))]


@_converts("Softplus")
def _softplus(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.unary(red.LogOp, n.add(n.unary(red.ExpOp, x), 1.0))]


def _clip(n: _Node, x: Any, lo: Any, hi: Any) -> Any:
    if lo is not None:
        x = n.binary(red.MaxOp, x, lo)
    if hi is not None:
        x = n.binary(red.MinOp, x, hi)
    return x


@_converts("Clip")
def _clip_op(n: _Node) -> list[Any]:
    x = n.required(0)
    if n.opset < 11:
        lo = n.attr("min")
        hi = n.attr("max")
        return [_clip(n, x, None if lo is None else float(lo), None if hi is None else float(hi))]
    return [_clip(n, x, n.input(1), n.input(2))]


@_converts("HardSigmoid")
def _hard_sigmoid(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha, beta = n.attr("alpha", 0.2), n.attr("beta", 0.5)
    return [_clip(n, n.add(n.mul(x, alpha), beta), 0.0, 1.0)]


@_converts("HardSwish")
def _hard_swish(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.mul(x, _clip(n, n.add(n.mul(x, 1.0 / 6.0), 0.5), 0.0, 1.0))]


@_converts("LeakyRelu")
def _leaky_relu(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 0.01)
    return [n.select(n.binary(red.LtOp, x, 0.0), n.mul(x, alpha), x)]


@_converts("PRelu")
def _prelu(n: _Node) -> list[Any]:
    x, slope = n.required(0), n.required(1)
    return [n.select(n.binary(red.LtOp, x, 0.0), n.mul(x, slope), x)]


@_converts("Elu")
def _elu(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    neg = n.mul(n.sub(n.unary(red.ExpOp, x), 1.0), alpha)
    return [n.select(n.binary(red.LtOp, x, 0.0), neg, x)]


@_converts("Selu")
def _selu(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.67326319217681884765625)
    gamma = n.attr("gamma", 1.05070102214813232421875)
    neg = n.sub(n.mul(n.unary(red.ExpOp, x), alpha), alpha)
    return [n.mul(n.select(n.binary(red.LeOp, x, 0.0), neg, x), gamma)]


@_converts("Celu")
def _celu(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    neg = n.mul(n.sub(n.unary(red.ExpOp, n.div(x, alpha)), 1.0), alpha)
    return [n.add(n.binary(red.MaxOp, x, 0.0), n.binary(red.MinOp, neg, 0.0))]


@_converts("ThresholdedRelu")
def _thresholded_relu(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    return [n.select(n.binary(red.GtOp, x, alpha), x, 0.0)]


@_converts("Softsign")
def _softsign(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.div(x, n.add(n.unary(red.AbsOp, x), 1.0))]


@_converts("Mish")
def _mish(n: _Node) -> list[Any]:
    x = n.required(0)
    softplus = n.unary(red.LogOp, n.add(n.unary(red.ExpOp, x), 1.0))
    return [n.mul(x, n.unary(red.TanhOp, softplus))]


@_converts("Swish")
def _swish(n: _Node) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    if alpha == 1.0:
        return [n.unary(red.SiluOp, x)]
    return [n.mul(x, n.unary(red.SigmoidOp, n.mul(x, alpha)))]


@_converts("Shrink")
def _shrink(n: _Node) -> list[Any]:
    x = n.required(0)
    lambd, bias = n.attr("lambd", 0.5), n.attr("bias", 0.0)
    if not _is_float(n.elt(x)):
        raise n.unsupported("integer 'Shrink' is not supported")
    high = n.select(n.binary(red.GtOp, x, lambd), n.sub(x, bias), 0.0)
    return [n.select(n.binary(red.LtOp, x, -lambd), n.add(x, bias), high)]


@_converts("Sign")
def _sign(n: _Node) -> list[Any]:
    x = n.required(0)
    positive = n.select(n.binary(red.GtOp, x, 0), n.scalar(1, x), n.scalar(0, x))
    return [n.select(n.binary(red.LtOp, x, 0), n.scalar(-1, x), positive)]


@_converts("Tan")
def _tan(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.div(n.unary(red.SinOp, x), n.unary(red.CosOp, x))]


@_converts("Sinh", "Cosh")
def _hyperbolic(n: _Node) -> list[Any]:
    x = n.required(0)
    e, inv = n.unary(red.ExpOp, x), n.unary(red.ExpOp, n.unary(red.NegOp, x))
    combined = n.sub(e, inv) if n.op_type == "Sinh" else n.add(e, inv)
    return [n.mul(combined, 0.5)]


@_converts("IsNaN")
def _isnan(n: _Node) -> list[Any]:
    x = n.required(0)
    return [n.binary(red.NeOp, x, x)]


@_converts("IsInf")
def _isinf(n: _Node) -> list[Any]:
    x = n.required(0)
    pos, neg = n.attr("detect_positive", 1), n.attr("detect_negative", 1)
    checks = []
    if pos:
        checks.append(n.binary(red.EqOp, x, math.inf))
    if neg:
        checks.append(n.binary(red.EqOp, x, -math.inf))
    if not checks:
        return [np.zeros(_shape(x), dtype=bool)]
    return [checks[0] if len(checks) == 1 else n.select(checks[0], True, checks[1])]


@_converts("Gelu")
def _gelu(n: _Node) -> list[Any]:
    approximate = n.attr("approximate", "none")
    if approximate not in red.GELU_APPROXIMATIONS:
        raise n.unsupported(f"'Gelu' with approximate '{approximate}' is not supported")
    return [n.emit(red.GeluOp(n.ssa(n.required(0)), approximate))]


@_converts("Identity")
def _identity(n: _Node) -> list[Any]:
    return [n.required(0)]


@_converts("Dropout")
def _dropout(n: _Node) -> list[Any]:
    """Inference: the identity (and an all-true mask)."""
    x = n.required(0)
    n.attr("seed")
    n.attr("ratio")
    n.attr("is_test")
    n.attr("consumed_inputs")
    training = n.const_input(2, "training_mode")
    if training is not None and bool(training):
        ratio = n.const_input(1, "ratio")
        if ratio is None or float(ratio) != 0.0:
            raise n.unsupported("'Dropout' in training mode is not supported")
    mask = np.ones(_shape(x), dtype=bool) if n.has_output(1) else None
    return [x, mask]


# endregion Converters: elementwise

# region Converters: contraction and normalization


def _matmul_nd(n: _Node, a: Any, b: Any) -> Any:
    """numpy.matmul, 1-d operands included (promoted, then the added dim dropped)."""
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 1:
        a = n.reshape(a, [1, sa[0]])
    if len(sb) == 1:
        b = n.reshape(b, [sb[0], 1])
    out: Any = n.matmul(a, b)
    shape = list(_shape(out))
    if len(sb) == 1:
        shape.pop(-1)
    if len(sa) == 1:
        shape.pop(-1 if len(sb) == 1 else -2)
    return n.reshape(out, shape)


@_converts("MatMul")
def _matmul(n: _Node) -> list[Any]:
    return [_matmul_nd(n, n.required(0), n.required(1))]


@_converts("Gemm")
def _gemm(n: _Node) -> list[Any]:
    """alpha * op(A) @ op(B) + beta * C."""
    a, b, c = n.required(0), n.required(1), n.input(2)
    alpha, beta = n.attr("alpha", 1.0), n.attr("beta", 1.0)
    n.attr("broadcast")  # opset < 7: C always broadcasts here
    if n.attr("transA", 0):
        a = n.transpose(a, [1, 0])
    if n.attr("transB", 0):
        b = n.transpose(b, [1, 0])
    y: Any = n.matmul(a, b)
    if alpha != 1.0:
        y = n.mul(y, alpha)
    if c is not None:
        c_term: Any = c
        if beta != 1.0:
            c_term = (
                n.mul(c, beta) if c.array is None else c.array * np.asarray(beta, c.array.dtype)
            )
        y = n.add(y, c_term)
    return [y]


def _param(n: _Node, x: Any, rank: int, axis: int) -> Any:
    """A per-channel parameter of shape [C] reshaped to broadcast along `axis` of a rank-r
    tensor: [C, 1, ..., 1]."""
    return n.reshape(x, [_shape(x)[0]] + [1] * (rank - axis - 1))


@_converts("LayerNormalization")
def _layer_norm(n: _Node) -> list[Any]:
    x, scale, bias = n.required(0), n.input(1), n.input(2)
    rank = len(x.shape)
    axis = n.axis(n.attr("axis", -1), rank)
    eps = float(n.attr("epsilon", 1e-5))
    stash = n.attr("stash_type", 1)
    elt = n.elt(x)
    xin: Any = x
    if stash == 1 and elt != f32 and elt != f64:
        xin = n.cast(x, f32)
    y: Any = n.emit(red.LayerNormOp(n.ssa(xin), axis, eps))
    y = n.cast(y, elt)
    if scale is not None:
        y = n.mul(y, scale)
    if bias is not None:
        y = n.add(y, bias)
    mean = inv_std = None
    if n.has_output(1) or n.has_output(2):
        axes = list(range(axis, rank))
        m = n.emit(red.ReduceMeanOp(n.ssa(xin), axes, keepdims=True))
        centered = n.sub(xin, m)
        var = n.emit(red.ReduceMeanOp(n.mul(centered, centered), axes, keepdims=True))
        mean, inv_std = m, n.unary(red.RsqrtOp, n.add(var, eps))
    return [y, mean, inv_std]


@_converts("RMSNormalization")
def _rms_norm(n: _Node) -> list[Any]:
    x, scale = n.required(0), n.required(1)
    rank = len(x.shape)
    axis = n.axis(n.attr("axis", -1), rank)
    eps = float(n.attr("epsilon", 1e-5))
    stash = n.attr("stash_type", 1)
    elt = n.elt(x)
    xin = n.cast(x, f32) if stash == 1 and elt not in (f32, f64) else x
    y = n.cast(n.emit(red.RmsNormOp(n.ssa(xin), axis, eps)), elt)
    return [n.mul(y, scale)]


@_converts("BatchNormalization")
def _batch_norm(n: _Node) -> list[Any]:
    """Inference mode: (x - mean) / sqrt(var + eps) * scale + bias, per channel (axis 1)."""
    x, scale, bias, mean, var = (n.required(i) for i in range(5))
    eps = float(n.attr("epsilon", 1e-5))
    n.attr("momentum")
    n.attr("consumed_inputs")
    n.attr("is_test")
    if n.attr("training_mode", 0) or (
        n.num_outputs > 1 and any(n.has_output(i) for i in range(1, n.num_outputs))
    ):
        raise n.unsupported("'BatchNormalization' in training mode is not supported")
    if n.attr("spatial", 1) != 1:
        raise n.unsupported("'BatchNormalization' with spatial=0 is not supported")
    rank = len(x.shape)
    p = [_param(n, v, rank, 1) for v in (scale, bias, mean, var)]
    normalized = n.div(n.sub(x, p[2]), n.unary(red.SqrtOp, n.add(p[3], eps)))
    return [n.add(n.mul(normalized, p[0]), p[1])]


@_converts("InstanceNormalization")
def _instance_norm(n: _Node) -> list[Any]:
    x, scale, bias = n.required(0), n.required(1), n.required(2)
    eps = float(n.attr("epsilon", 1e-5))
    rank = len(x.shape)
    y = n.emit(red.LayerNormOp(n.ssa(x), 2, eps))
    return [n.add(n.mul(y, _param(n, scale, rank, 1)), _param(n, bias, rank, 1))]


def _softmax_like(n: _Node, kind: str) -> Any:
    x = n.required(0)
    shape = x.shape
    rank = len(shape)
    default = -1 if n.opset >= 13 else 1
    axis = n.axis(n.attr("axis", default), max(rank, 1))
    if rank == 0:
        raise n.unsupported(f"'{n.op_type}' of a scalar is not supported")

    def along(v: Any, ax: int) -> Any:
        if kind == "softmax":
            return n.emit(red.SoftmaxOp(n.ssa(v), ax))
        m = n.emit(red.ReduceMaxOp(n.ssa(v), [ax], keepdims=True))
        shifted = n.sub(v, m)
        total = n.emit(red.ReduceSumOp(n.unary(red.ExpOp, shifted), [ax], keepdims=True))
        return n.sub(shifted, n.unary(red.LogOp, total))

    if n.opset >= 13 or axis == rank - 1:
        return along(x, axis)
    # Before opset 13 the input is coerced to 2-d: [prod(dims < axis), prod(dims >= axis)].
    flat = n.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])
    return n.reshape(along(flat, 1), shape)


@_converts("Softmax")
def _softmax(n: _Node) -> list[Any]:
    return [_softmax_like(n, "softmax")]


@_converts("LogSoftmax")
def _log_softmax(n: _Node) -> list[Any]:
    return [_softmax_like(n, "log_softmax")]


# endregion Converters: contraction and normalization

# region Converters: shape


@_converts("Transpose")
def _transpose(n: _Node) -> list[Any]:
    x = n.required(0)
    rank = len(x.shape)
    perm = n.attr("perm")
    perm = (
        list(reversed(range(rank)))
        if perm is None
        else [n.axis(p, rank, "perm entry") for p in perm]
    )
    if sorted(perm) != list(range(rank)):
        raise n.error(f"'Transpose' perm {perm} is not a permutation of 0..{rank - 1}")
    return [n.transpose(x, perm)]


def _reshape_target(
    n: _Node, in_shape: Sequence[int], spec: Sequence[int], allowzero: bool
) -> list[int]:
    """ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred."""
    out = [int(d) for d in spec]
    for i, d in enumerate(out):
        if d == 0 and not allowzero:
            if i >= len(in_shape):
                raise n.error(
                    f"'Reshape' shape {list(spec)} copies dimension {i}, past input rank "
                    f"{len(in_shape)}"
                )
            out[i] = in_shape[i]
    if out.count(-1) > 1:
        raise n.error(f"'Reshape' shape {list(spec)} has more than one -1")
    total = math.prod(in_shape)
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise n.error(
                f"'Reshape' cannot infer the -1 in {list(spec)} for input shape {list(in_shape)}"
            )
        out[out.index(-1)] = total // known
    if any(d < 0 for d in out) or math.prod(out) != total:
        raise n.error(f"'Reshape' to {list(spec)} does not fit input shape {list(in_shape)}")
    return out


@_converts("Reshape")
def _reshape(n: _Node) -> list[Any]:
    x = n.required(0)
    if n.opset < 5:
        spec = n.attr("shape")
        n.attr("consumed_inputs")
    else:
        spec = n.const_input(1, "shape")
        if spec is None:
            raise n.error("'Reshape' is missing its 'shape' input")
        spec = spec.tolist()
    allowzero = bool(n.attr("allowzero", 0))
    return [n.reshape(x, _reshape_target(n, x.shape, spec, allowzero))]


@_converts("Flatten")
def _flatten(n: _Node) -> list[Any]:
    x = n.required(0)
    rank = len(x.shape)
    axis = n.attr("axis", 1)
    if not -rank <= axis <= rank:
        raise n.error(f"'Flatten' axis {axis} is out of range for rank {rank}")
    axis = axis + rank if axis < 0 else axis
    return [n.reshape(x, [math.prod(x.shape[:axis]), math.prod(x.shape[axis:])])]


def _axes_operand(n: _Node, index: int) -> list[int] | None:
    """Axes given as an attribute (older opsets) or as a constant input (newer)."""
    if n.has_attr("axes"):
        return [int(a) for a in n.attr("axes")]
    n.attr("axes")
    axes = n.const_input(index, "axes")
    return None if axes is None else [int(a) for a in axes.reshape(-1)]


@_converts("Squeeze")
def _squeeze(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    axes = _axes_operand(n, 1)
    if axes is None:
        drop = {d for d, s in enumerate(shape) if s == 1}
    else:
        drop = {n.axis(a, len(shape)) for a in axes}
        for d in sorted(drop):
            if shape[d] != 1:
                raise n.error(f"'Squeeze' axis {d} has size {shape[d]}, expected 1")
    return [n.reshape(x, [s for d, s in enumerate(shape) if d not in drop])]


@_converts("Unsqueeze")
def _unsqueeze(n: _Node) -> list[Any]:
    x = n.required(0)
    axes = _axes_operand(n, 1)
    if axes is None:
        raise n.error("'Unsqueeze' needs axes")
    rank = len(x.shape) + len(axes)
    norm = sorted(n.axis(a, rank) for a in axes)
    if len(set(norm)) != len(norm):
        raise n.error(f"'Unsqueeze' axes {axes} repeat an axis")
    shape = list(x.shape)
    for a in norm:
        shape.insert(a, 1)
    return [n.reshape(x, shape)]


@_converts("Expand")
def _expand(n: _Node) -> list[Any]:
    x = n.required(0)
    spec = n.const_input(1, "shape")
    assert spec is not None
    out = red.broadcast_shapes(x.shape, [int(d) for d in spec.reshape(-1)])
    if out is None:
        raise n.error(f"'Expand' shape {spec.tolist()} does not broadcast with {list(x.shape)}")
    return [n.broadcast_to(x, out)]


@_converts("Tile")
def _tile(n: _Node) -> list[Any]:
    """x tiled r times along each dim: broadcast [1, d] pairs to [r, d], then merge them."""
    x = n.required(0)
    repeats = n.const_input(1, "repeats")
    assert repeats is not None
    shape = x.shape
    reps = [int(r) for r in repeats.reshape(-1)]
    if len(reps) != len(shape):
        raise n.error(f"'Tile' has {len(reps)} repeats for rank {len(shape)}")
    paired = [v for d in shape for v in (1, d)]
    target = [v for r, d in zip(reps, shape) for v in (r, d)]
    y = n.broadcast_to(n.reshape(x, paired), target)
    return [n.reshape(y, [r * d for r, d in zip(reps, shape)])]


@_converts("Concat")
def _concat(n: _Node) -> list[Any]:
    xs = n.inputs()
    axis = n.attr("axis", 1 if n.opset < 4 else None)
    if axis is None:
        raise n.error("'Concat' is missing its 'axis' attribute")
    axis = n.axis(axis, len(xs[0].shape))
    kept = [x for x in xs if x.shape[axis] != 0] or xs[:1]
    return [n.concat(kept, axis)]


@_converts("Split")
def _split(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    axis = n.axis(n.attr("axis", 0), len(shape))
    count = n.num_outputs
    sizes = n.attr("split")
    if sizes is None and n.opset >= 13:
        given = n.const_input(1, "split")
        sizes = None if given is None else [int(s) for s in given]
    num_outputs = n.attr("num_outputs")
    if sizes is None:
        parts = num_outputs or count
        step = -(-shape[axis] // parts)
        sizes = [min(step, shape[axis] - i * step) for i in range(parts)]
    if sum(sizes) != shape[axis] or len(sizes) != count:
        raise n.error(
            f"'Split' sizes {sizes} do not split dimension {axis} of size {shape[axis]} "
            f"into {count} outputs"
        )
    outs, offset = [], 0
    for s in sizes:
        outs.append(n.slice_axis(x, axis, offset, offset + s))
        offset += s
    return outs


@_converts("SplitToSequence")
def _split_to_sequence(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    axis = n.axis(n.attr("axis", 0), len(shape))
    keepdims = n.attr("keepdims", 1)
    split = n.const_input(1, "split")
    if split is None:
        sizes = [1] * shape[axis]
    elif split.ndim == 0:
        step = int(split)
        sizes = [min(step, shape[axis] - i) for i in range(0, shape[axis], step)]
    else:
        sizes = [int(s) for s in split]
    items, offset = [], 0
    for s in sizes:
        part = n.slice_axis(x, axis, offset, offset + s)
        if split is None and not keepdims:
            part = n.reshape(part, shape[:axis] + shape[axis + 1 :])
        items.append(_wrap_item(n, part))
        offset += s
    return [_Sequence(items)]


def _wrap_item(n: _Node, x: Any) -> _Value:
    if isinstance(x, _Value):
        return x
    if isinstance(x, SSAValue):
        return _Value(ssa=x, loc=n.loc)
    return _Value(array=np.asarray(x), loc=n.loc)


@_converts("SequenceConstruct")
def _sequence_construct(n: _Node) -> list[Any]:
    return [_Sequence(n.inputs())]


@_converts("SequenceAt")
def _sequence_at(n: _Node) -> list[Any]:
    seq = n.importer.lookup(n.proto.input[0], n)
    if not isinstance(seq, _Sequence):
        raise n.error("'SequenceAt' expects a sequence")
    position = n.const_input(1, "position")
    assert position is not None
    i = int(position)
    if not -len(seq.items) <= i < len(seq.items):
        raise n.error(f"'SequenceAt' position {i} is out of range for {len(seq.items)} items")
    return [seq.items[i]]


@_converts("SequenceLength")
def _sequence_length(n: _Node) -> list[Any]:
    seq = n.importer.lookup(n.proto.input[0], n)
    if not isinstance(seq, _Sequence):
        raise n.error("'SequenceLength' expects a sequence")
    return [np.asarray(len(seq.items), dtype=np.int64)]


@_converts("ConcatFromSequence")
def _concat_from_sequence(n: _Node) -> list[Any]:
    seq = n.importer.lookup(n.proto.input[0], n)
    if not isinstance(seq, _Sequence):
        raise n.error("'ConcatFromSequence' expects a sequence")
    rank = len(seq.items[0].shape)
    if n.attr("new_axis", 0):
        axis = n.axis(n.attr("axis"), rank + 1)
        items = [n.reshape(v, [*v.shape[:axis], 1, *v.shape[axis:]]) for v in seq.items]
    else:
        axis = n.axis(n.attr("axis"), rank)
        items = list(seq.items)
    return [n.concat(items, axis)]


def _slice_bounds(dim: int, start: int, end: int, step: int) -> range:
    """The indices ONNX Slice takes along one dim (numpy's clamping, as the spec says)."""
    lo, hi, st = slice(start, end, step).indices(dim)
    return range(lo, hi, st)


@_converts("Slice")
def _slice(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    rank = len(shape)
    if n.opset < 10:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes = n.attr("axes")
        steps = None
    else:
        starts_a, ends_a = n.const_input(1, "starts"), n.const_input(2, "ends")
        if starts_a is None or ends_a is None:
            raise n.error("'Slice' is missing its 'starts' or 'ends' input")
        starts, ends = starts_a.tolist(), ends_a.tolist()
        axes_a, steps_a = n.const_input(3, "axes"), n.const_input(4, "steps")
        axes = None if axes_a is None else axes_a.tolist()
        steps = None if steps_a is None else steps_a.tolist()
    axes = list(range(len(starts))) if axes is None else [n.axis(a, rank) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    lo, hi, st = [0] * rank, list(shape), [1] * rank
    reversed_axes: list[tuple[int, range]] = []
    for a, s, e, k in zip(axes, starts, ends, steps):
        if k == 0:
            raise n.error("'Slice' step 0 is invalid")
        r = _slice_bounds(shape[a], int(s), int(e), int(k))
        if k > 0:
            lo[a], hi[a], st[a] = r.start, max(r.start, r.stop), k
            if len(r) == 0:
                lo[a] = hi[a] = min(r.start, shape[a])
        else:
            reversed_axes.append((a, r))
    y: Any = n.slice(x, lo, hi, st)
    for a, r in reversed_axes:
        # A negative step is a gather of the indices it visits (constant indices).
        indices = np.asarray(list(r), dtype=np.int64)
        if (array := _const(y)) is not None:
            y = np.take(array, indices, axis=a)
        else:
            y = n.emit(red.GatherOp(n.ssa(y), n.ssa(indices), a))
    return [y]


@_converts("Gather")
def _gather(n: _Node) -> list[Any]:
    data, indices = n.required(0), n.required(1)
    axis = n.axis(n.attr("axis", 0), len(data.shape))
    idx: Any = indices
    if indices.array is not None:
        size = data.shape[axis]
        array = indices.array.astype(np.int64)
        if array.size and (array.min() < -size or array.max() >= size):
            raise n.error(f"'Gather' index out of range [-{size}, {size}) along axis {axis}")
        idx = np.where(array < 0, array + size, array)
    return [n.emit(red.GatherOp(n.ssa(data), n.ssa(idx), axis))]


@_converts("Shape")
def _shape_op(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    start, end = n.attr("start", 0), n.attr("end")
    return [np.asarray(shape[start:end], dtype=np.int64)]


@_converts("Size")
def _size(n: _Node) -> list[Any]:
    return [np.asarray(math.prod(n.required(0).shape), dtype=np.int64)]


@_converts("EyeLike")
def _eye_like(n: _Node) -> list[Any]:
    x = n.required(0)
    dtype = n.attr("dtype")
    elt = n.elt(x) if dtype is None else _cast_target(n, dtype)
    rows, cols = x.shape
    return [np.eye(rows, cols, k=n.attr("k", 0), dtype=numpy_dtype(elt))]


@_converts("ConstantOfShape")
def _constant_of_shape(n: _Node) -> list[Any]:
    spec = n.const_input(0, "shape")
    assert spec is not None
    value = n.attr("value")
    fill = np.zeros(1, dtype=np.float32) if value is None else value.reshape(-1)
    return [np.full([int(d) for d in spec.reshape(-1)], fill[0], dtype=fill.dtype)]


@_converts("Trilu")
def _trilu(n: _Node) -> list[Any]:
    x = n.required(0)
    k = n.const_input(1, "k")
    k = 0 if k is None else int(k)
    shape = x.shape
    rows, cols = shape[-2], shape[-1]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if n.attr("upper", 1) else np.tril(ones, k)
    return [n.select(mask, x, n.scalar(0, x))]


@_converts("DepthToSpace", "SpaceToDepth")
def _depth_space(n: _Node) -> list[Any]:
    x = n.required(0)
    b = n.attr("blocksize")
    batch, c, h, w = x.shape
    mode = n.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise n.error(f"'{n.op_type}' mode '{mode}' is invalid")
    if n.op_type == "SpaceToDepth":
        y = n.reshape(x, [batch, c, h // b, b, w // b, b])
        y = n.transpose(y, [0, 3, 5, 1, 2, 4] if mode == "DCR" else [0, 1, 3, 5, 2, 4])
        return [n.reshape(y, [batch, c * b * b, h // b, w // b])]
    if mode == "DCR":
        y = n.reshape(x, [batch, b, b, c // (b * b), h, w])
        y = n.transpose(y, [0, 3, 4, 1, 5, 2])
    else:
        y = n.reshape(x, [batch, c // (b * b), b, b, h, w])
        y = n.transpose(y, [0, 1, 4, 2, 5, 3])
    return [n.reshape(y, [batch, c // (b * b), h * b, w * b])]


# endregion Converters: shape

# region Converters: reductions

_REDUCE_EMPTY = {
    "ReduceSum": 0.0,
    "ReduceMean": math.nan,
    "ReduceMax": -math.inf,
    "ReduceMin": math.inf,
    "ReduceL1": 0.0,
    "ReduceL2": 0.0,
    "ReduceSumSquare": 0.0,
    "ReduceLogSum": -math.inf,
    "ReduceLogSumExp": -math.inf,
}


@_converts(*_REDUCE_EMPTY)
def _reduce(n: _Node) -> list[Any]:
    x = n.required(0)
    shape = x.shape
    rank = len(shape)
    input_axes = n.opset >= 18 or (n.op_type == "ReduceSum" and n.opset >= 13)
    if input_axes:
        given = n.const_input(1, "axes")
        n.attr("axes")
        axes = None if given is None else [int(a) for a in given.reshape(-1)]
    else:
        axes = n.attr("axes")
    keepdims = bool(n.attr("keepdims", 1))
    noop = n.attr("noop_with_empty_axes", 0)
    if not axes:
        if noop:
            return [x]
        axes = list(range(rank))
    axes = sorted({n.axis(a, rank) for a in axes})
    out_shape = red.ReduceOp.reduced_shape(shape, axes, keepdims)
    elt = n.elt(x)
    if any(shape[a] == 0 for a in axes):  # an empty reduction: the identity, statically
        fill = _REDUCE_EMPTY[n.op_type]
        dtype = numpy_dtype(elt)
        if dtype.kind != "f" and n.op_type in ("ReduceMax", "ReduceMin"):
            info = np.iinfo(dtype)
            fill = info.min if n.op_type == "ReduceMax" else info.max
        return [np.full(out_shape, fill, dtype=dtype)]

    def reduce(cls: type[red.ReduceOp], v: Any) -> SSAValue:
        return n.emit(cls(n.ssa(v), axes, keepdims))

    match n.op_type:
        case "ReduceSum":
            return [reduce(red.ReduceSumOp, x)]
        case "ReduceMean":
            return [reduce(red.ReduceMeanOp, x)]
        case "ReduceMax":
            return [reduce(red.ReduceMaxOp, x)]
        case "ReduceMin":
            return [n.unary(red.NegOp, reduce(red.ReduceMaxOp, n.unary(red.NegOp, x)))]
        case "ReduceL1":
            return [reduce(red.ReduceSumOp, n.unary(red.AbsOp, x))]
        case "ReduceL2":
            squares = reduce(red.ReduceSumOp, n.mul(x, x))
            if not _is_float(elt):
                return [n.cast(n.unary(red.SqrtOp, n.cast(squares, f64)), elt)]
            return [n.unary(red.SqrtOp, squares)]
        case "ReduceSumSquare":
            return [reduce(red.ReduceSumOp, n.mul(x, x))]
        case "ReduceLogSum":
            return [n.unary(red.LogOp, reduce(red.ReduceSumOp, x))]
        case _:  # ReduceLogSumExp, computed stably around the maximum
            m = n.emit(red.ReduceMaxOp(n.ssa(x), axes, True))
            total = reduce(red.ReduceSumOp, n.unary(red.ExpOp, n.sub(x, m)))
            m_out = n.reshape(m, out_shape)
            return [n.add(n.unary(red.LogOp, total), m_out)]


@_converts("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(n: _Node) -> list[Any]:
    x = n.required(0)
    axes = list(range(2, len(x.shape)))
    cls = red.ReduceMeanOp if n.op_type == "GlobalAveragePool" else red.ReduceMaxOp
    return [n.emit(cls(n.ssa(x), axes, True))]


def _iota(n: _Node, shape: Sequence[int], axis: int) -> SSAValue:
    return n.emit(red.IotaOp(TensorType(i64, list(shape)), axis))


def _arg_extreme(n: _Node, x: Any, axis: int, keepdims: bool, last: bool, want_max: bool) -> Any:
    """The index of the first (or last) maximum (or minimum) along `axis`, as i64: compare
    with the extreme, keep the iota where equal, and take the smallest (largest) such index."""
    shape = _shape(x)
    if want_max:
        extreme = n.emit(red.ReduceMaxOp(n.ssa(x), [axis], keepdims=True))
    else:
        negated = n.emit(red.ReduceMaxOp(n.unary(red.NegOp, x), [axis], keepdims=True))
        extreme = n.unary(red.NegOp, negated)
    hit = n.binary(red.EqOp, x, extreme)
    index = _iota(n, shape, axis)
    if last:
        found = n.emit(red.ReduceMaxOp(n.select(hit, index, np.int64(-1)), [axis], keepdims))
        return found
    candidates = n.select(hit, n.unary(red.NegOp, index), np.int64(-shape[axis]))
    return n.unary(red.NegOp, n.emit(red.ReduceMaxOp(n.ssa(candidates), [axis], keepdims)))


@_converts("ArgMax", "ArgMin")
def _arg_max_min(n: _Node) -> list[Any]:
    x = n.required(0)
    axis = n.axis(n.attr("axis", 0), len(x.shape))
    keepdims = bool(n.attr("keepdims", 1))
    last = bool(n.attr("select_last_index", 0))
    return [_arg_extreme(n, x, axis, keepdims, last, n.op_type == "ArgMax")]


@_converts("Hardmax")
def _hardmax(n: _Node) -> list[Any]:
    """1 at the first maximum along the axis, else 0 (before opset 13: of the 2-d coercion)."""
    x = n.required(0)
    shape = x.shape
    rank = len(shape)
    axis = n.axis(n.attr("axis", -1 if n.opset >= 13 else 1), rank)
    flat: Any = x
    if n.opset < 13 and axis != rank - 1:
        flat = n.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])
        axis = 1
    first = _arg_extreme(n, flat, axis, True, False, True)
    hot = n.binary(red.EqOp, _iota(n, _shape(flat), axis), first)
    return [n.reshape(n.cast(hot, n.elt(x)), shape)]


@_converts("OneHot")
def _one_hot(n: _Node) -> list[Any]:
    indices, values = n.required(0), n.required(2)
    depth_array = n.const_input(1, "depth")
    assert depth_array is not None
    depth = int(depth_array.reshape(-1)[0])
    rank = len(indices.shape) + 1
    axis = n.axis(n.attr("axis", -1), rank)
    idx: Any = n.cast(indices, i64)
    if (array := _const(idx)) is not None:
        idx = np.where(array < 0, array + depth, array)
    else:
        idx = n.select(n.binary(red.LtOp, idx, 0), n.add(idx, depth), idx)
    shape = list(indices.shape)
    shape.insert(axis, depth)
    expanded = n.reshape(idx, [*indices.shape[:axis], 1, *indices.shape[axis:]])
    hot = n.binary(red.EqOp, expanded, _iota(n, shape, axis))
    off = n.reshape(n.slice_axis(values, 0, 0, 1), [])
    on = n.reshape(n.slice_axis(values, 0, 1, 2), [])
    return [n.select(hot, on, off)]


@_converts("CumSum")
def _cumsum(n: _Node) -> list[Any]:
    """A matmul with a constant 0/1 triangle along the (moved-last) axis."""
    x = n.required(0)
    axis_array = n.const_input(1, "axis")
    assert axis_array is not None
    shape = x.shape
    rank = len(shape)
    axis = n.axis(int(axis_array.reshape(-1)[0]), rank)
    size = shape[axis]
    j, i = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")  # term j into sum i
    take = j >= i if n.attr("reverse", 0) else j <= i
    if n.attr("exclusive", 0):
        take &= j != i
    triangle = take.astype(numpy_dtype(n.elt(x)))
    perm = [d for d in range(rank) if d != axis] + [axis]
    moved = n.transpose(x, perm)
    rows = n.reshape(moved, [math.prod(_shape(moved)[:-1]), size])
    summed = n.reshape(n.matmul(rows, triangle), _shape(moved))
    inverse = [perm.index(d) for d in range(rank)]
    return [n.transpose(summed, inverse)]


@_converts("GatherElements")
def _gather_elements(n: _Node) -> list[Any]:
    """out[i] = data[i with i[axis] = indices[i]]: a gather from the flattened data at
    sum_d coordinate_d * stride_d (negative indices wrap)."""
    data, indices = n.required(0), n.required(1)
    shape, index_shape = data.shape, indices.shape
    rank = len(shape)
    axis = n.axis(n.attr("axis", 0), rank)
    idx: Any = n.cast(indices, i64)
    if (array := _const(idx)) is not None:
        idx = np.where(array < 0, array + shape[axis], array)
    else:
        idx = n.select(n.binary(red.LtOp, idx, 0), n.add(idx, shape[axis]), idx)
    strides = [math.prod(shape[d + 1 :]) for d in range(rank)]
    flat: Any = n.mul(idx, np.int64(strides[axis]))
    for d in range(rank):
        if d != axis and index_shape[d] > 1:
            flat = n.add(flat, n.mul(_iota(n, index_shape, d), np.int64(strides[d])))
    table = n.reshape(data, [math.prod(shape)])
    return [n.emit(red.GatherOp(n.ssa(table), n.ssa(flat), 0))]


@_converts("LpNormalization")
def _lp_normalization(n: _Node) -> list[Any]:
    x = n.required(0)
    axis = n.axis(n.attr("axis", -1), len(x.shape))
    p = n.attr("p", 2)
    if p not in (1, 2):
        raise n.unsupported(f"'LpNormalization' with p={p} is not supported")
    if p == 2:
        squares = n.emit(red.ReduceSumOp(n.mul(x, x), [axis], keepdims=True))
        norm = n.unary(red.SqrtOp, squares)
    else:
        norm = n.emit(red.ReduceSumOp(n.unary(red.AbsOp, x), [axis], keepdims=True))
    return [n.select(n.binary(red.EqOp, norm, 0.0), 0.0, n.div(x, norm))]


@_converts("Mod")
def _mod(n: _Node) -> list[Any]:
    """Integers: a - trunc(a / b) * b (fmod=1, C's sign), moved into b's sign when fmod=0."""
    a, b = n.required(0), n.required(1)
    fmod = n.attr("fmod", 0)
    if _is_float(n.elt(a)):
        raise n.unsupported("floating-point 'Mod' is not supported")
    r = n.sub(a, n.mul(n.div(a, b), b))
    if fmod:
        return [r]
    signs_differ = n.binary(red.NeOp, n.binary(red.LtOp, r, 0), n.binary(red.LtOp, b, 0))
    fix = n.select(n.binary(red.NeOp, r, 0), signs_differ, False)
    return [n.select(fix, n.add(r, b), r)]


@_converts("Range")
def _range(n: _Node) -> list[Any]:
    """Reached only when an input is computed at run time."""
    for i, role in enumerate(("start", "limit", "delta")):
        n.const_input(i, role)
    raise AssertionError("Range with constant inputs folds")


# endregion Converters: reductions

# region Converters: recurrent networks


def _activation(n: _Node, name: str) -> Callable[[Any], Any]:
    match name.lower():
        case "sigmoid":
            return lambda v: n.unary(red.SigmoidOp, v)
        case "tanh":
            return lambda v: n.unary(red.TanhOp, v)
        case "relu":
            return lambda v: n.unary(red.ReluOp, v)
        case _:
            raise n.unsupported(f"'{n.op_type}' activation '{name}' is not supported")


@dataclass
class _Recurrence:
    """What the LSTM, GRU and RNN converters share: inputs and attributes read, per-direction
    weights, and the unrolled time loop stacking outputs as ONNX lays them out."""

    n: _Node
    gates: int
    default_activations: list[str]

    def __post_init__(self) -> None:
        n = self.n
        self.x = n.required(0)
        self.w, self.r, self.b = n.required(1), n.required(2), n.input(3)
        self.layout = n.attr("layout", 0)
        direction = n.attr("direction", "forward")
        if direction not in ("forward", "reverse", "bidirectional"):
            raise n.error(f"'{n.op_type}' direction '{direction}' is invalid")
        self.directions = ["forward", "reverse"] if direction == "bidirectional" else [direction]
        if self.layout:  # batch-first: [batch, seq, in] -> [seq, batch, in]
            self.x = _wrap_item(n, n.transpose(self.x, [1, 0, 2]))
        self.seq, self.batch, _ = self.x.shape
        self.hidden = n.attr("hidden_size") or self.r.shape[-1]
        names = n.attr("activations")
        per_dir = len(self.default_activations)
        names = names or self.default_activations * len(self.directions)
        if len(names) != per_dir * len(self.directions):
            raise n.error(f"'{n.op_type}' expects {per_dir} activations per direction, got {names}")
        if n.attr("activation_alpha") or n.attr("activation_beta"):
            raise n.unsupported(f"'{n.op_type}' activation_alpha/activation_beta are not supported")
        self.activations = [
            [_activation(n, a) for a in names[d * per_dir : (d + 1) * per_dir]]
            for d in range(len(self.directions))
        ]
        self.clip = n.attr("clip")
        self.zero_state: np.ndarray | None = None
        lens = n.const_input(4, "sequence_lens")
        if lens is not None and not (lens == self.seq).all():
            raise n.unsupported(
                f"'{n.op_type}' with sequence_lens shorter than the sequence is not supported"
            )

    def weight(self, v: Any, d: int) -> Any:
        """v[d], transposed to [in, gates * hidden] for x @ w."""
        return self.n.transpose(self.n.take(v, 0, d), [1, 0])

    def bias(self, d: int) -> tuple[Any, Any] | None:
        """(Wb[d], Rb[d]) or None."""
        if self.b is None:
            return None
        n, size = self.n, self.gates * self.hidden
        bd = n.take(self.b, 0, d)
        return n.slice_axis(bd, 0, 0, size), n.slice_axis(bd, 0, size, 2 * size)

    def initial(self, index: int, d: int) -> Any | None:
        """The initial state of direction d; None when absent or a constant zero (exporters
        pass zeros), so the first step skips its recurrent terms."""
        v = self.n.input(index)
        if v is None or (v.array is not None and not v.array.any()):
            return None
        return self.n.take(v, 1 if self.layout else 0, d)  # layout 1: [batch, dirs, hidden]

    def clipped(self, v: Any) -> Any:
        if self.clip is None:
            return v
        return _clip(self.n, v, -float(self.clip), float(self.clip))

    def gate(self, v: Any, k: int) -> Any:
        return self.n.slice_axis(v, 1, k * self.hidden, (k + 1) * self.hidden)

    def input_projection(self, d: int, bias: Any | None) -> Any:
        """x @ W[d]^T (+ bias) for every step at once: [seq, batch, gates * hidden]."""
        n = self.n
        xw: Any = n.matmul(self.x, self.weight(self.w, d))
        return xw if bias is None else n.add(xw, bias)

    def step_input(self, xw: Any, t: int) -> Any:
        return self.n.take(xw, 0, t)

    def steps(self, d: int) -> list[int]:
        return (
            list(range(self.seq))
            if self.directions[d] == "forward"
            else list(reversed(range(self.seq)))
        )

    def outputs(
        self, hs: list[list[Any]], last: list[Any], extra_last: list[Any] | None = None
    ) -> list[Any]:
        """Y [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]), Y_h (and Y_c)
        [dirs, batch, hidden] (layout 1: [batch, dirs, hidden])."""
        n = self.n
        b, h, dirs = self.batch, self.hidden, len(self.directions)
        y = None
        if n.has_output(0):
            per_dir = []
            for d in range(dirs):
                rows = [n.reshape(v, [1, 1, b, h]) for v in hs[d]]
                per_dir.append(n.concat(rows, 0))
            y = n.concat(per_dir, 1)
            if self.layout:
                y = n.transpose(y, [2, 0, 1, 3])

        def final(vs: list[Any]) -> Any:
            stacked = n.concat([n.reshape(v, [1, b, h]) for v in vs], 0)
            return n.transpose(stacked, [1, 0, 2]) if self.layout else stacked

        outs = [y, final(last) if n.has_output(1) else None]
        if extra_last is not None:
            outs.append(final(extra_last) if n.has_output(2) else None)
        return outs


def _zeros(r: _Recurrence, x_like: Any) -> np.ndarray:
    """The zero state [batch, hidden] (one array, so it is materialized once)."""
    if r.zero_state is None:
        r.zero_state = np.zeros((r.batch, r.hidden), dtype=numpy_dtype(r.n.elt(x_like)))
    return r.zero_state


@_converts("LSTM")
def _lstm(n: _Node) -> list[Any]:
    """Unrolled over the static sequence: gates i, o, f, c (the ONNX order) per step,
    C = f * C + i * c~, H = o * h(C); peepholes P = [Pi, Po, Pf] when given."""
    r = _Recurrence(n, 4, ["Sigmoid", "Tanh", "Tanh"])
    coupled = n.attr("input_forget", 0)
    peepholes = n.input(7)
    hs: list[list[Any]] = []
    last_h: list[Any] = []
    last_c: list[Any] = []
    for d in range(len(r.directions)):
        f, g, h = r.activations[d]
        biases = r.bias(d)
        bias = None if biases is None else n.add(*biases)
        xw = r.input_projection(d, bias)
        rt = r.weight(r.r, d)
        p = None if peepholes is None else n.take(peepholes, 0, d)
        pi, po, pf = (
            (None, None, None)
            if p is None
            else (n.slice_axis(p, 0, k * r.hidden, (k + 1) * r.hidden) for k in range(3))
        )
        h_t, c_t = r.initial(5, d), r.initial(6, d)
        outs = []
        for t in r.steps(d):
            gates = r.step_input(xw, t)
            if h_t is not None:
                gates = n.add(gates, n.matmul(h_t, rt))
            c_prev = c_t if c_t is not None else _zeros(r, gates)
            gi, go, gf, gc = (r.clipped(r.gate(gates, k)) for k in range(4))
            if pi is not None:
                gi, gf = n.add(gi, n.mul(pi, c_prev)), n.add(gf, n.mul(pf, c_prev))
            i = f(gi)
            forget = n.sub(1.0, i) if coupled else f(gf)
            candidate = g(gc)
            c_new: Any = n.mul(i, candidate)
            if c_t is not None:
                c_new = n.add(n.mul(forget, c_t), c_new)
            if po is not None:
                go = n.add(go, n.mul(po, c_new))
            o = f(go)
            h_t, c_t = n.mul(o, h(c_new)), c_new
            outs.append(h_t)
        if r.directions[d] == "reverse":
            outs.reverse()
        hs.append(outs)
        last_h.append(h_t)
        last_c.append(c_t)
    return r.outputs(hs, last_h, last_c)


@_converts("GRU")
def _gru(n: _Node) -> list[Any]:
    """Unrolled: gates z, r, h (the ONNX order); H = (1 - z) * h~ + z * H."""
    r = _Recurrence(n, 3, ["Sigmoid", "Tanh"])
    linear_before_reset = n.attr("linear_before_reset", 0)
    hs: list[list[Any]] = []
    last_h: list[Any] = []
    size = r.hidden
    for d in range(len(r.directions)):
        f, g = r.activations[d]
        biases = r.bias(d)
        wb, rb = biases if biases is not None else (None, None)
        xw = r.input_projection(d, wb)
        rt = r.weight(r.r, d)
        rt_zr, rt_h = n.slice_axis(rt, 1, 0, 2 * size), n.slice_axis(rt, 1, 2 * size, 3 * size)
        rb_zr = None if rb is None else n.slice_axis(rb, 0, 0, 2 * size)
        rb_h = None if rb is None else n.slice_axis(rb, 0, 2 * size, 3 * size)
        h_t = r.initial(5, d)
        outs = []
        for t in r.steps(d):
            x_t = r.step_input(xw, t)
            x_zr, x_h = n.slice_axis(x_t, 1, 0, 2 * size), n.slice_axis(x_t, 1, 2 * size, 3 * size)
            h_prev = h_t if h_t is not None else _zeros(r, x_t)
            zr: Any = n.add(x_zr, n.matmul(h_prev, rt_zr)) if h_t is not None else x_zr
            if rb_zr is not None:
                zr = n.add(zr, rb_zr)
            z = f(r.clipped(n.slice_axis(zr, 1, 0, size)))
            reset = f(r.clipped(n.slice_axis(zr, 1, size, 2 * size)))
            if linear_before_reset:
                hr: Any = n.matmul(h_prev, rt_h)
                if rb_h is not None:
                    hr = n.add(hr, rb_h)
                pre = n.add(x_h, n.mul(reset, hr))
            else:
                pre = n.add(x_h, n.matmul(n.mul(reset, h_prev), rt_h))
                if rb_h is not None:
                    pre = n.add(pre, rb_h)
            candidate = g(r.clipped(pre))
            h_new: Any = n.mul(n.sub(1.0, z), candidate)
            if h_t is not None:
                h_new = n.add(h_new, n.mul(z, h_t))
            h_t = h_new
            outs.append(h_t)
        if r.directions[d] == "reverse":
            outs.reverse()
        hs.append(outs)
        last_h.append(h_t)
    return r.outputs(hs, last_h)


@_converts("RNN")
def _rnn(n: _Node) -> list[Any]:
    """Unrolled: H = f(x W^T + H R^T + Wb + Rb)."""
    r = _Recurrence(n, 1, ["Tanh"])
    hs: list[list[Any]] = []
    last_h: list[Any] = []
    for d in range(len(r.directions)):
        (f,) = r.activations[d]
        biases = r.bias(d)
        bias = None if biases is None else n.add(*biases)
        xw = r.input_projection(d, bias)
        rt = r.weight(r.r, d)
        h_t = r.initial(5, d)
        outs = []
        for t in r.steps(d):
            pre: Any = r.step_input(xw, t)
            if h_t is not None:
                pre = n.add(pre, n.matmul(h_t, rt))
            h_t = f(r.clipped(pre))
            outs.append(h_t)
        if r.directions[d] == "reverse":
            outs.reverse()
        hs.append(outs)
        last_h.append(h_t)
    return r.outputs(hs, last_h)


# endregion Converters: recurrent networks


@_converts("Constant")
def _constant(n: _Node) -> list[Any]:
    """Reached only when the reference evaluator could not fold it."""
    raise n.unsupported("this 'Constant' (e.g. a string or sparse value) is not supported")


SUPPORTED_OPS: frozenset[str] = frozenset(CONVERTERS)
"""Op types the importer converts (any op whose inputs are all constants is also folded)."""
