"""The graph walk: `@main` gets the graph inputs (then, with `weights_as_args`, the
floating-point initializers) as arguments and returns the graph outputs; each node is folded,
evaluated on sizes (`shape_arith`) or converted in graph order, its ops located at
NameLoc(node name, model file). A symbolic input dim is a `?` whose name the argument's
`red.dims` attribute carries; what cannot stay symbolic is a located error that gives the
`--shape` flags making the model static."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    NameLoc,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import numpy_dtype, numpy_to_resource
from red.dialects.red.dims import Poly
from red.dialects.symbolic_shapes import DIMS_ATTR
from red.dialects.verifier import verify_module
from red.frontends.onnx import (  # noqa: F401 (registers the converters and evaluators)
    contractions,
    elementwise,
    indexing,
    misc,
    recurrent,
    reductions,
    shape,
    shape_arith,
)
from red.frontends.onnx.loader import (
    ModelSource,
    UnsupportedError,
    base_dir_of,
    check_shape_names,
    element_type,
    initializer_dtype,
    inline_functions,
    input_type,
    is_weight,
    load_model,
    name_loc,
    read_initializer,
    shape_flags,
    type_name,
)
from red.frontends.onnx.node import (
    CONVERTERS,
    EVALUATORS,
    EnvValue,
    Node,
    OnnxEmitter,
    OnnxSequence,
)
from red.frontends.symbolic import SymbolicSizeError, SymInts, fmt_dims, sym_array

_NO_FOLD = {
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Bernoulli",
    "Multinomial",
}
"""Ops that are not functions of their inputs: never evaluated at import time."""

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.$-]")

RESOURCE_THRESHOLD = 4096
"""Bytes from which a floating-point initializer imports as a dense resource (a view of the
array, printed as a blob) rather than dense elements (bytes copied, printed as numbers); the
printer's default threshold (`mlir_text.DEFAULT_RESOURCE_THRESHOLD`) is the same."""


def _set_name(value: SSAValue, name: str) -> None:
    """Use the ONNX name as the SSA name hint where xDSL accepts it (`%input_ids`)."""
    hint = _NAME_CHARS.sub("_", name)
    if hint and not hint[0].isdigit() and SSAValue.is_valid_name(hint):
        value.name_hint = hint


def _readers(graph: onnx.GraphProto) -> Counter[str]:
    """How many nodes (those of subgraphs too) and graph outputs read each value name."""
    count: Counter[str] = Counter(vi.name for vi in graph.output)
    for node in graph.node:
        count.update(name for name in node.input if name)
        for a in node.attribute:
            for sub in [a.g] if a.type == AttributeProto.GRAPH else a.graphs:
                count.update(_readers(sub))
    return count


class Importer:
    """Imports one model graph into `@main` (see `import_onnx`)."""

    def __init__(
        self,
        model: onnx.ModelProto,
        filename: str,
        shapes: dict[str, tuple[int, ...]],
        weights_as_args: bool,
        unroll_recurrences: bool = False,
        resource_threshold: int | None = RESOURCE_THRESHOLD,
    ):
        self.graph = model.graph
        self.file_loc = FileLineColLoc(StringAttr(filename), IntAttr(0), IntAttr(0))
        self.base_dir = base_dir_of(filename)
        self.shapes = shapes
        self.weights_as_args = weights_as_args
        self.resource_threshold = resource_threshold
        self.resource_ops: list[red.ConstantOp] = []
        self.opsets = {(o.domain or ""): o.version for o in model.opset_import}
        self.opset = self.opsets.get("", self.opsets.get("ai.onnx", 1))
        self.block = Block()
        self.e = OnnxEmitter(self.block, self.file_loc, unroll_recurrences)
        self.env: dict[str, EnvValue] = {}
        self.arg_attrs: list[dict[str, Attribute]] = []
        self.static_flags = ""
        """The --shape flags that make the symbolic inputs static ("" when none is)."""

    def loc(self, name: str) -> NameLoc:
        return name_loc(name, self.file_loc)

    def run(self) -> ModuleOp:
        self._declare_inputs()
        self._declare_initializers()
        for index, proto in enumerate(self.graph.node):
            node = Node(
                proto,
                index,
                self.env,
                self.file_loc,
                self.opset,
                self.e.materialize,
                symbolic=bool(self.static_flags),
            )
            self._import_node(node)
        self.e.node = None
        results = [self._output(vi) for vi in self.graph.output]
        self.e.loc = self.loc(self.graph.name or "main")
        self.e.insert(func.ReturnOp(*results))
        self._erase_unused_resources()
        fn = func.FuncOp(
            "main",
            ([a.type for a in self.block.args], [r.type for r in results]),
            Region(self.block),
            arg_attrs=ArrayAttr([DictionaryAttr(a) for a in self.arg_attrs])
            if any(self.arg_attrs)
            else None,
        )
        fn.location = self.e.loc
        module = ModuleOp([fn])
        module.location = self.file_loc
        verify_module(module)
        return module

    # region Graph inputs and initializers

    def _argument(
        self, typ: TensorType, name: str, invariant: bool, dim_names: Sequence[str] = ()
    ) -> None:
        """A function argument; its `?` dims get symbols: the `dim_param` names (kept in
        `red.dims`), else `arg{i}_{j}` (the dialect's name for an unnamed `?`)."""
        index = len(self.block.args)
        arg = self.block.insert_arg(typ, index)
        _set_name(arg, name)
        self.env[name] = arg
        attrs: dict[str, Attribute] = {red.INVARIANT_ATTR: UnitAttr()} if invariant else {}
        sizes = typ.get_shape()
        if red.DYNAMIC in sizes:
            attrs[DIMS_ATTR] = ArrayAttr([StringAttr(n) for n in dim_names])
            self.e.declare_argument(
                arg,
                [
                    d if d != red.DYNAMIC else Poly.symbol(dim_names[j] or f"arg{index}_{j}")
                    for j, d in enumerate(sizes)
                ],
            )
        self.arg_attrs.append(attrs)

    def _declare_inputs(self) -> None:
        initializers = {t.name for t in self.graph.initializer}
        inputs = [vi for vi in self.graph.input if vi.name not in initializers]
        check_shape_names(self.shapes, inputs, self.file_loc)
        for vi in inputs:
            typ, names = input_type(vi, self.shapes.get(vi.name), self.loc(vi.name))
            self._argument(typ, vi.name, invariant=False, dim_names=names)
        self.static_flags = shape_flags(inputs, self.shapes)

    def _declare_initializers(self) -> None:
        """Constants; with `weights_as_args`, floating-point ones are trailing invariant
        arguments."""
        if self.graph.sparse_initializer:
            name = self.graph.sparse_initializer[0].values.name
            raise UnsupportedError(self.loc(name), f"sparse initializer '{name}' is not supported")
        readers = _readers(self.graph)
        for t in self.graph.initializer:
            if self.weights_as_args and (dtype := initializer_dtype(t)) and dtype.kind == "f":
                # an argument needs only the type: the bytes are not read
                typ = TensorType(self.e.element_type(dtype), list(t.dims))
                self._argument(typ, t.name, invariant=True)
                continue
            array = read_initializer(t, self.loc(t.name), self.base_dir)
            if self.weights_as_args and is_weight(array):
                typ = TensorType(self.e.element_type(array.dtype), list(array.shape))
                self._argument(typ, t.name, invariant=True)
            elif (
                self.resource_threshold is not None
                and is_weight(array)
                and array.nbytes >= self.resource_threshold
            ):
                self.env[t.name] = weight = self._resource_constant(array, t.name)
                if readers[t.name] > 1:
                    self.e.shared_weights.add(weight)
            else:
                self.env[t.name] = self.e.define(array, self.loc(t.name))

    def _resource_constant(self, array: np.ndarray, name: str) -> SSAValue:
        """A weight as a `red.constant` of a dense resource: the blob store keeps a view of
        the array (no copy, no per-element work); folding reads it through numpy."""
        op = red.ConstantOp(numpy_to_resource(array, _NAME_CHARS.sub("_", name) or "weight"))
        op.location = self.loc(name)
        self.block.add_op(op)
        _set_name(op.result, name)
        self.resource_ops.append(op)
        return op.result

    def _erase_unused_resources(self) -> None:
        """Weights no node read (an initializer is a constant only where it is used)."""
        for op in self.resource_ops:
            if not op.result.uses:
                op.detach()
                op.erase()

    # endregion Graph inputs and initializers

    # region Nodes

    def _import_node(self, node: Node) -> None:
        proto = node.proto
        if proto.domain not in ("", "ai.onnx"):
            raise node.unsupported(f"ONNX op '{proto.domain}.{proto.op_type}' is not supported")
        values = [node.lookup(i) for i in range(node.num_inputs)]
        self.e.node, self.e.loc = node, node.loc
        outputs: Sequence[Any] | None = None
        try:
            if proto.op_type not in _NO_FOLD and all(
                v is None or isinstance(v, np.ndarray) for v in values
            ):
                outputs = self._evaluate(proto, values)
            elif all(v is None or isinstance(v, np.ndarray | SymInts) for v in values):
                outputs = self._evaluate_sizes(node, values)
            if outputs is None:
                outputs = self._convert(node)
        except SymbolicSizeError as err:
            raise self._needs_static_sizes(node, str(err)) from None
        for i, name in enumerate(proto.output):
            if not name:
                continue
            if i >= len(outputs) or outputs[i] is None:
                raise node.unsupported(f"output #{i} of '{proto.op_type}' is not supported")
            self.env[name] = self._store(outputs[i], node)

    def _needs_static_sizes(self, node: Node, reason: str) -> UnsupportedError:
        """A located error for a node that cannot keep its sizes symbolic."""
        hint = f"; import with static sizes: {self.static_flags}" if self.static_flags else ""
        return UnsupportedError(node.loc, f"{reason} (ONNX node '{node.name}'){hint}")

    def _symbolic_input_shapes(self, node: Node) -> str | None:
        """The node's input shapes when one has a symbolic size, e.g. `1xseqx64, 64`."""
        shapes, symbolic = [], False
        for i in range(node.num_inputs):
            value = node.lookup(i)
            if isinstance(value, SymInts):
                symbolic = True
                shapes.append(f"sizes {fmt_dims(value.values.reshape(-1))}")
            elif isinstance(value, SSAValue | np.ndarray):
                dims = self.e.dims(value)
                symbolic |= any(isinstance(d, Poly) for d in dims)
                shapes.append(fmt_dims(dims))
        return ", ".join(shapes) if symbolic else None

    def _evaluate_sizes(self, node: Node, values: list[Any]) -> Sequence[Any] | None:
        """Outputs computed on sizes (inputs constant or SymInts), None when the node is not
        shape arithmetic (then it is converted: its SymInts inputs become run-time values)."""
        evaluate = EVALUATORS.get(node.op_type)
        if evaluate is None:
            return None
        outputs = evaluate(node, values)
        if outputs is None:
            return None
        if unread := node.unread_attrs():
            raise node.unsupported(f"attribute '{unread[0]}' of '{node.op_type}' is not supported")
        return outputs

    def _convert(self, node: Node) -> Sequence[Any]:
        """The node's outputs from its converter; every failure is a located error."""
        op_type = node.op_type
        convert = CONVERTERS.get(op_type)
        if convert is None:
            raise node.unsupported(f"ONNX op '{op_type}' is not supported")
        try:
            outputs = convert(node, self.e)
        except (DiagnosticError, SymbolicSizeError):
            raise
        except VerifyException as err:
            raise node.error(f"'{op_type}' imports to invalid red IR: {err}") from err
        except Exception as err:  # a malformed node (or an importer bug): still located
            if (shapes := self._symbolic_input_shapes(node)) is not None:
                raise SymbolicSizeError(
                    f"'{op_type}' on symbolic sizes ({shapes}) is not supported"
                ) from err
            raise node.error(f"could not import '{op_type}': {type(err).__name__}: {err}") from err
        if unread := node.unread_attrs():
            names = ", ".join(f"'{a}'" for a in unread)
            plural = len(unread) > 1
            raise node.unsupported(
                f"attribute{'s' if plural else ''} {names} of '{op_type}' "
                f"{'are' if plural else 'is'} not supported"
            )
        return outputs

    def _store(self, x: Any, node: Node) -> EnvValue:
        """An output as the environment keeps it; a constant is located at this node."""
        if isinstance(x, OnnxSequence):
            return OnnxSequence([self._store(v, node) for v in x.items])  # type: ignore[misc]
        if isinstance(x, SSAValue):
            return x
        if isinstance(x, SymInts):
            sized = sym_array(x.values, x.dtype)
            return sized if isinstance(sized, SymInts) else self.e.define(sized, node.loc)
        return self.e.define(np.asarray(x), node.loc)

    def _evaluate(self, proto: onnx.NodeProto, values: list[Any]) -> list[Any] | None:
        """Evaluate a node on constant inputs with onnx's reference evaluator (this folds ops
        red has no op for, e.g. Shape, Range, ConstantOfShape); None when it cannot (then the
        converter runs). A sequence result becomes an OnnxSequence of constants."""
        from onnx.reference import ReferenceEvaluator

        if any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for a in proto.attribute):
            return None
        feeds = {name: v for name, v in zip(proto.input, values) if name}
        try:
            results = ReferenceEvaluator(proto, opsets=dict(self.opsets)).run(None, feeds)
        except Exception:
            return None
        return [
            OnnxSequence([np.asarray(a) for a in r])
            if isinstance(r, list)
            else None
            if r is None
            else np.asarray(r)
            for r in results
        ]

    # endregion Nodes

    def _output(self, vi: onnx.ValueInfoProto) -> SSAValue:
        """A graph output as an SSA value (a constant materialized, in the declared element
        type when it is a folded Python scalar of another)."""
        loc = self.loc(vi.name)
        self.e.loc = loc
        value = self.env.get(vi.name)
        if value is None:
            raise DiagnosticError(loc, f"graph output '{vi.name}' is not defined by any node")
        if isinstance(value, OnnxSequence):
            raise UnsupportedError(
                loc, f"graph output '{vi.name}' is a sequence: red needs tensors"
            )
        if isinstance(value, SymInts):
            value = self.e.materialize(value)
        declared = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else 0
        elt = element_type(declared) if declared else None
        if isinstance(value, np.ndarray) and elt is not None:
            if elt != self.e.element_type(value.dtype):
                cast = value.astype(numpy_dtype(elt))
                value = self.e.define(cast, self.e.origin(value))
        ssa = self.e.ssa(value)
        if declared and elt not in (None, red.element_type_of(ssa)):
            raise DiagnosticError(
                loc,
                f"graph output '{vi.name}' is declared '{type_name(declared)}' but imports as "
                f"'{red.element_type_of(ssa)}'",
            )
        return ssa


def import_onnx(
    model_or_path: ModelSource,
    shapes: dict[str, tuple[int, ...]] | None = None,
    weights_as_args: bool = False,
    unroll_recurrences: bool = False,
    resource_threshold: int | None = RESOURCE_THRESHOLD,
) -> ModuleOp:
    """Import an ONNX model (a ModelProto or a file path) as a verified red module with one
    function, `@main`.

    `@main` takes the graph inputs in order and returns the graph outputs in order. A
    symbolic input dimension (a `dim_param`, or a dim of unknown size) is a `?` and the
    argument's `red.dims` attribute names it (e.g. `tensor<1x?xi64> {red.dims = ["", "seq"]}`);
    sizes computed from it stay symbolic through the model's shape arithmetic. `shapes` maps
    a graph input name to its full static shape, fixing its dims instead. Initializers become
    `red.constant`s; with `weights_as_args`, the floating-point initializers become trailing
    `{red.invariant}` arguments in initializer order (see `weight_arrays`), while integer and
    boolean initializers (shapes, axes, indices) stay constants, since shapes need their
    values. An initializer that is also listed as a
    graph input is a constant, not an argument.

    LSTM, GRU and RNN become an scf.for over the time steps (state and output sequence carried,
    written with red.dynamic_update_slice); `unroll_recurrences` unrolls them instead (one
    copy of the step per time step).

    A floating-point initializer of `resource_threshold` bytes or more (None: none) is a
    `red.constant` of a dense resource holding a view of the initializer's array, made
    without per-element work; smaller ones fold and print as dense elements.

    Raises UnsupportedError (a located DiagnosticError) for what the importer does not handle
    (with symbolic sizes: naming the `--shape` flags that make the model static),
    DiagnosticError for an input without any shape, and OnnxLoadError for a missing or
    unreadable file."""
    model, filename = load_model(model_or_path)
    model = inline_functions(model)
    importer = Importer(
        model,
        filename,
        dict(shapes or {}),
        weights_as_args,
        unroll_recurrences,
        resource_threshold,
    )
    return importer.run()


SUPPORTED_OPS: frozenset[str] = frozenset(CONVERTERS)
"""Op types the importer converts (any op whose inputs are all constants is also folded)."""
