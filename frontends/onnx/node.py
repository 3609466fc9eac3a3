"""What a converter works with: the ONNX node being imported (typed access to its inputs and
attributes, errors located at the node), the emitter that creates its red ops, and the
registries that map op types to converters and to evaluators of sizes (`shape_arith`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper
from xdsl.dialects.builtin import FileLineColLoc
from xdsl.ir import Attribute, Block, SSAValue

from red.dialects.diagnostics import DiagnosticError
from red.frontends.emitter import Value
from red.frontends.onnx.loader import UnsupportedError, element_type, name_loc, type_name
from red.frontends.sizes import SizedEmitter
from red.frontends.symbolic import SymbolicSizeError, SymInts, as_dims, symbols_of


@dataclass(eq=False)
class OnnxSequence:
    """An ONNX sequence value (SplitToSequence, SequenceConstruct): a static list of values."""

    items: list[Value]


EnvValue = Value | OnnxSequence | SymInts
"""What an ONNX value name stands for during import."""


class Node:
    """One ONNX node being imported: its inputs (SSA values, or numpy arrays for compile-time
    constants), its attributes (each read one is marked, so an unread one is reported as
    unsupported) and errors located at NameLoc(node name)."""

    def __init__(
        self,
        proto: onnx.NodeProto,
        index: int,
        env: dict[str, EnvValue],
        file_loc: FileLineColLoc,
        opset: int,
        materialize: Callable[[SymInts], Value] | None = None,
        symbolic: bool = False,
    ):
        self.proto = proto
        self.op_type = proto.op_type
        self.name = proto.name or f"{proto.op_type}#{index}"
        self.loc = name_loc(self.name, file_loc)
        self.opset = opset
        self._env = env
        self._attrs = {a.name: a for a in proto.attribute}
        self._read: set[str] = set()
        self._materialize = materialize
        self.symbolic = symbolic
        """Whether the model has symbolic input sizes (then an operand that must be constant
        but is computed at run time may only need static sizes: a SymbolicSizeError)."""

    # region Errors

    def unsupported(self, message: str) -> UnsupportedError:
        return UnsupportedError(self.loc, f"{message} (ONNX node '{self.name}')")

    def error(self, message: str) -> DiagnosticError:
        return DiagnosticError(self.loc, f"{message} (ONNX node '{self.name}')")

    # endregion Errors

    # region Inputs

    @property
    def num_inputs(self) -> int:
        return len(self.proto.input)

    @property
    def num_outputs(self) -> int:
        return len(self.proto.output)

    def has_output(self, i: int) -> bool:
        return i < len(self.proto.output) and self.proto.output[i] != ""

    def lookup(self, i: int) -> EnvValue | None:
        """Input #i as imported (a sequence too), or None when absent (past the end, or '')."""
        if i >= len(self.proto.input) or not self.proto.input[i]:
            return None
        name = self.proto.input[i]
        value = self._env.get(name)
        if value is None:
            raise self.error(f"'{self.op_type}' uses '{name}', which no earlier node defines")
        return value

    def input(self, i: int) -> Value | None:
        """Tensor input #i, or None when absent (sizes computed from symbols become run-time
        values)."""
        value = self.lookup(i)
        if isinstance(value, OnnxSequence):
            raise self.unsupported(f"'{self.op_type}' with a sequence input #{i} is not supported")
        if isinstance(value, SymInts):
            if self._materialize is None:
                raise self.error(f"'{self.op_type}' input #{i} depends on symbolic sizes")
            return self._materialize(value)
        return value

    def required(self, i: int) -> Value:
        value = self.input(i)
        if value is None:
            raise self.error(f"'{self.op_type}' is missing its required input #{i}")
        return value

    def inputs(self) -> list[Value]:
        return [v for i in range(self.num_inputs) if (v := self.input(i)) is not None]

    def sequence(self, i: int) -> OnnxSequence:
        value = self.lookup(i)
        if not isinstance(value, OnnxSequence):
            raise self.error(f"'{self.op_type}' expects a sequence")
        return value

    def const_input(self, i: int, role: str) -> np.ndarray | None:
        """The value of a constant input (None when absent); a non-constant one is
        unsupported, since shapes must be known at import time."""
        value = self.lookup(i)
        if isinstance(value, SymInts):
            names = ", ".join(f"'{s}'" for s in symbols_of(value.values.reshape(-1)))
            raise SymbolicSizeError(
                f"'{self.op_type}' needs a compile-time constant '{role}' input (input #{i}); "
                f"it depends on the input sizes {names}"
            )
        value = self.input(i)
        if value is None:
            return None
        if not isinstance(value, np.ndarray):
            message = (
                f"'{self.op_type}' needs a compile-time constant '{role}' input (input #{i}); "
                "it is computed at run time"
            )
            raise SymbolicSizeError(message) if self.symbolic else self.unsupported(message)
        return value

    def dims_input(self, i: int, role: str) -> np.ndarray | None:
        """A size input (a shape, slice bounds, a length) as an object array of Dims: a
        constant, or sizes computed from the input's symbols; None when absent."""
        value = self.lookup(i)
        if isinstance(value, SymInts):
            return value.values
        array = self.const_input(i, role)
        return None if array is None else as_dims(array)

    def required_dims(self, i: int, role: str) -> np.ndarray:
        """A required size input (see `dims_input`)."""
        value = self.dims_input(i, role)
        if value is None:
            raise self.error(f"'{self.op_type}' is missing its required '{role}' input #{i}")
        return value

    def required_const(self, i: int, role: str) -> np.ndarray:
        """The value of a required constant input."""
        value = self.const_input(i, role)
        if value is None:
            raise self.error(f"'{self.op_type}' is missing its required '{role}' input #{i}")
        return value

    # endregion Inputs

    # region Attributes

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

    def element_type(self, elem_type: int) -> Attribute:
        """The red element type of an ONNX element type attribute (e.g. Cast's `to`)."""
        elt = element_type(elem_type)
        if elt is None:
            raise self.unsupported(
                f"'{self.op_type}' to element type '{type_name(elem_type)}' is not supported"
            )
        return elt

    # endregion Attributes


class OnnxEmitter(SizedEmitter):
    """The importer's emitter: ops are located at the node being converted (`node`), and an
    element type red lacks is an UnsupportedError naming that node. `unroll_recurrences`
    makes LSTM/GRU/RNN unrolled instead of an scf.for over the time steps. Values have
    symbolic shapes (`SizedEmitter`)."""

    def __init__(self, block: Block, file_loc: FileLineColLoc, unroll_recurrences: bool = False):
        super().__init__(block)
        self.loc = file_loc
        self.node: Node | None = None
        self.unroll_recurrences = unroll_recurrences
        self.shared_weights: set[SSAValue] = set()
        """The constants of initializers that more than one node reads."""

    def outlives_fold(self, x: Any) -> bool:
        return isinstance(x, SSAValue) and x in self.shared_weights

    def error(self, message: str) -> Exception:
        if self.node is not None:
            return self.node.unsupported(message)
        return UnsupportedError(self.location(), message)


Converter = Callable[[Node, OnnxEmitter], Sequence[Any]]
"""Converts one node: returns one entry per output (a value, a sequence, or None for an
output it does not produce)."""

CONVERTERS: dict[str, Converter] = {}

Evaluator = Callable[[Node, list[Any]], list[Any] | None]
"""Computes a node's outputs from inputs that are all constants or SymInts (at least one):
sizes in, sizes out; None when the result is not a small tensor of sizes (the converter then
emits ops)."""

EVALUATORS: dict[str, Evaluator] = {}


def converts(*op_types: str) -> Callable[[Converter], Converter]:
    """Register a converter for ONNX op types (of the default domain)."""

    def register(fn: Converter) -> Converter:
        for t in op_types:
            CONVERTERS[t] = fn
        return fn

    return register


def evaluates(*op_types: str) -> Callable[[Evaluator], Evaluator]:
    """Register an evaluator of sizes for ONNX op types."""

    def register(fn: Evaluator) -> Evaluator:
        for t in op_types:
            EVALUATORS[t] = fn
        return fn

    return register
