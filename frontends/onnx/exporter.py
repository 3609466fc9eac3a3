"""What an export rule works with: the `Exporter`, which names values, makes initializers and
adds located ONNX nodes to the graph being built (the model's graph, or a Loop or If body),
and the registry that maps red (and arith, scf, func) op classes to their rules.

    @exports(red.SoftmaxOp)
    def _softmax(x: Exporter, op: red.SoftmaxOp) -> list[str]:
        return [x.node("Softmax", [x.value(op.input)], axis=op.axis.value.data)]

A rule returns the ONNX name of each result. Nodes are named after the location of the op
they come from (`NameLoc` -> its name, `FileLineColLoc` -> `file:line:col`), with `/k` added
to the k-th further node of the same name, and carry the op name and full location as their
doc string, so that a node traces back to the red op (and the model source) it came from."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    FileLineColLoc,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    NameLoc,
    TensorType,
    UnknownLoc,
)
from xdsl.ir import Attribute, Operation, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.numpy_interop import (
    UnsupportedTypeError,
    dense_to_numpy,
    numpy_dtype,
    splat_value,
)
from red.dialects.red_interpreter import ModuleRunner

SMALL_CONSTANT_BYTES = 1 << 12
"""Constants up to this size are shared by value (one initializer for equal arrays)."""

SPLAT_NODE_ELEMENTS = 64
"""A splat constant with more elements than this is a ConstantOfShape node, not stored whole."""


class ExportError(DiagnosticError):
    """The module uses an op or type red-export cannot write as ONNX (located at the op)."""


def onnx_elem_type(elt: Attribute) -> int:
    """The ONNX element type of a red element type (`index` is int64)."""
    if isinstance(elt, IndexType):
        return TensorProto.INT64
    return helper.np_dtype_to_tensor_dtype(numpy_dtype(elt))


def element_of(typ: Attribute) -> Attribute:
    """The element type of a tensor type, or the type of a scalar."""
    return typ.get_element_type() if isinstance(typ, TensorType) else typ


def dims_of(typ: Attribute) -> tuple[int, ...]:
    """The shape of a tensor type; a scalar is 0-d."""
    return tuple(typ.get_shape()) if isinstance(typ, TensorType) else ()


def location_name(loc: Attribute) -> str | None:
    """The node name a location gives: a NameLoc's name, `file:line:col`, else None."""
    match loc:
        case NameLoc():
            return loc.desc.data
        case FileLineColLoc():
            return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
        case _:
            return None


def constant_array(value: SSAValue) -> np.ndarray | None:
    """The value of a tensor (or scalar) defined by a constant op, else None."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr | FloatAttr):
        return np.asarray(owner.value.value.data)
    if isinstance(owner, red.ConstantOp | arith.ConstantOp):
        try:
            return dense_to_numpy(owner.value)  # pyright: ignore[reportArgumentType]
        except (ValueError, UnsupportedTypeError, TypeError):
            return None
    return None


def known_int(value: SSAValue) -> int | None:
    """The value of an integer scalar (or one-element tensor) defined by a constant op."""
    array = constant_array(value)
    if array is not None and array.size == 1 and array.dtype.kind in "iu":
        return int(array.reshape(-1)[0])
    return None


@dataclass
class Graph:
    """One ONNX graph under construction: the model's, or the body of a Loop or If."""

    name: str
    nodes: list[onnx.NodeProto] = field(default_factory=list[onnx.NodeProto])
    inputs: list[onnx.ValueInfoProto] = field(default_factory=list[onnx.ValueInfoProto])
    outputs: list[onnx.ValueInfoProto] = field(default_factory=list[onnx.ValueInfoProto])
    defined: set[str] = field(default_factory=set[str])
    """The names this graph's nodes produce (an output must be one of them)."""

    def proto(self, initializers: Sequence[TensorProto] = ()) -> onnx.GraphProto:
        return helper.make_graph(
            self.nodes, self.name, self.inputs, self.outputs, list(initializers)
        )


Rule = Callable[["Exporter", Any], Sequence[str]]

RULES: dict[type[Operation], Rule] = {}


def exports(*op_types: type[Operation]) -> Callable[[Rule], Rule]:
    """Register the export rule of op classes."""

    def register(fn: Rule) -> Rule:
        for t in op_types:
            RULES[t] = fn
        return fn

    return register


class Exporter:
    """Builds one ONNX model (see the module docstring). `op` is the red op being exported:
    nodes are named after it and errors point at it."""

    def __init__(self, module: ModuleOp, opset: int, max_fold_bytes: int):
        self.module = module
        self.opset = opset
        self.max_fold_bytes = max_fold_bytes
        self.functions = {
            op.sym_name.data: op for op in module.body.ops if isinstance(op, func.FuncOp)
        }
        self.inlining: list[func.FuncOp] = []
        """The functions whose calls are being inlined (a recursive call is an error)."""
        self.weights: dict[SSAValue, np.ndarray] = {}
        """The arrays bound to red.invariant arguments."""
        self._runner: ModuleRunner | None = None
        self.skip: set[Operation] = set()
        """Ops a rule absorbed into the nodes of an earlier op (their results are bound)."""
        self.names: dict[SSAValue, str] = {}
        self.taken: set[str] = set()
        self.initializers: list[TensorProto] = []
        self._shared: dict[tuple[Any, ...], str] = {}
        self._node_names: dict[str, int] = {}
        self.graph = Graph("main")
        self.op: Operation | None = None
        self.lazy: dict[SSAValue, Callable[[], str]] = {}
        """Values named on first use (bound weights become initializers only if used)."""

    def runner(self) -> ModuleRunner:
        """The interpreter that computes memos at export time."""
        if self._runner is None:
            self._runner = ModuleRunner(self.module)
        return self._runner

    # region Names

    def fresh(self, hint: str = "v") -> str:
        """A value name used nowhere else in the model (ONNX names are global, subgraphs
        included)."""
        base = "".join(c if c.isalnum() or c in "_.-/:" else "_" for c in hint) or "v"
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def bind(self, value: SSAValue, name: str) -> None:
        self.names[value] = name

    def has_value(self, value: SSAValue) -> bool:
        """Whether an SSA value is exported already (or is a bound weight)."""
        return value in self.names or value in self.lazy

    def value(self, value: SSAValue) -> str:
        """The ONNX name of an SSA value already exported."""
        name = self.names.get(value)
        if name is None and (make := self.lazy.pop(value, None)) is not None:
            name = self.names[value] = make()
        if name is None:
            raise self.error(f"operand '{value}' has no ONNX value (defined by an op not exported)")
        return name

    # endregion Names

    # region Errors

    def error(self, message: str, op: Operation | None = None) -> ExportError:
        at = op if op is not None else self.op
        return ExportError(location_of(at), message, at)

    # endregion Errors

    # region Nodes

    def node_name(self) -> tuple[str, str]:
        """(unique node name, doc string) for the next node of the current op."""
        op = self.op
        loc = location_of(op) if op is not None else UnknownLoc()
        base = location_name(loc) or (op.name if op is not None else "node")
        k = self._node_names.get(base, 0)
        self._node_names[base] = k + 1
        name = base if k == 0 else f"{base}/{k}"
        doc = f"{op.name if op is not None else 'node'} at {format_location(loc)}"
        return name, doc

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: int | Sequence[str] = 1,
        **attrs: Any,
    ) -> Any:
        """Add a node; returns its output name (a list of names when `outputs` is not 1)."""
        names = (
            [self.fresh(op_type.lower()) for _ in range(outputs)]
            if isinstance(outputs, int)
            else list(outputs)
        )
        name, doc = self.node_name()
        self.graph.nodes.append(
            helper.make_node(op_type, list(inputs), names, name=name, doc_string=doc, **attrs)
        )
        self.graph.defined.update(names)
        return names[0] if outputs == 1 else names

    # endregion Nodes

    # region Constants

    def constant(self, array: np.ndarray, hint: str = "const") -> str:
        """The name of an initializer holding `array` (small arrays shared by value); a large
        splat becomes a ConstantOfShape node instead of stored elements."""
        array = np.asarray(array)
        if array.size > SPLAT_NODE_ELEMENTS and _is_splat(array):
            return self.splat(array.reshape(-1)[:1].reshape(()), array.shape)
        key: tuple[Any, ...] | None = None
        if array.nbytes <= SMALL_CONSTANT_BYTES:
            key = (array.dtype.str, array.shape, np.asarray(array, order="C").tobytes())
            if (found := self._shared.get(key)) is not None:
                return found
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array, order="C"), name))
        if key is not None:
            self._shared[key] = name
        return name

    def splat(self, scalar: np.ndarray, shape: Sequence[int]) -> str:
        """`scalar` everywhere in a tensor of `shape`."""
        value = numpy_helper.from_array(np.asarray(scalar).reshape(1), "value")
        return self.node("ConstantOfShape", [self.ints(shape)], value=value)

    def ints(self, values: Sequence[int] | int) -> str:
        """An int64 constant: 1-d for a sequence, 0-d for an int."""
        return self.constant(np.asarray(values, dtype=np.int64), "ints")

    def scalar(self, value: float | int | bool, elt: Attribute) -> str:
        """A 0-d constant of element type `elt`."""
        return self.constant(np.asarray(value, dtype=_dtype(elt)), "scalar")

    # endregion Constants

    # region Common node patterns

    def cast(self, name: str, from_elt: Attribute, to_elt: Attribute) -> str:
        if onnx_elem_type(from_elt) == onnx_elem_type(to_elt):
            return name
        return self.node("Cast", [name], to=onnx_elem_type(to_elt))

    def unsqueeze0(self, name: str) -> str:
        """A 0-d value as shape [1]."""
        return self.node("Unsqueeze", [name, self.ints([0])])

    def reduce(self, op_type: str, name: str, axes: Sequence[int], keepdims: bool) -> str:
        """A Reduce* node; axes are an input from opset 18 (13 for ReduceSum), an attribute
        before."""
        keep = int(keepdims)
        if not axes:
            return name
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [name, self.ints(list(axes))], keepdims=keep)
        return self.node(op_type, [name], axes=list(axes), keepdims=keep)

    # endregion Common node patterns


def _dtype(elt: Attribute) -> np.dtype[Any]:
    return np.dtype(np.int64) if isinstance(elt, IndexType) else numpy_dtype(elt)


def _is_splat(array: np.ndarray) -> bool:
    return splat_value(array) is not None


def value_info(name: str, typ: Attribute) -> onnx.ValueInfoProto:
    """The ONNX type of a value of red type `typ` (a scalar is a 0-d tensor)."""
    return helper.make_tensor_value_info(name, onnx_elem_type(element_of(typ)), list(dims_of(typ)))


def is_scalar_int(typ: Attribute) -> bool:
    return isinstance(typ, IndexType | IntegerType)


def element_count(typ: Attribute) -> int:
    return math.prod(dims_of(typ))
