"""red -> ONNX (DESIGN.md §10, `red.to_onnx(module)` and `red-export`): one function of a red
module becomes an ONNX model of standard ops (opset 17+) that onnxruntime runs.

    model = to_onnx(module)                      # @main's arguments are the graph inputs
    model = to_onnx(module, weights=arrays)      # red.invariant arguments as initializers

How the function is written:
- Arguments are the graph inputs (named after their SSA names), results the graph outputs
  (`output_0`, ... unless `output_names` says otherwise). With `weights`, the `red.invariant`
  arguments are bound to arrays and become initializers instead.
- Each op becomes ONNX nodes through the export rule of its family (`export_ops`); the nodes
  are named after the op's location (a NameLoc's name, or `file.mlir:12:3`), so a node traces
  back to the red op and the model source it came from.
- `red.memo` is computed at export time, by the interpreter, when its keys are known arrays
  (bound weights, or no keys at all): its results become initializers, unless they would add
  more than `max_fold_bytes` of constants net of the constants they make dead (the size guard
  of folding). Otherwise its body is written as ordinary nodes over the graph inputs.
- `func.call` is inlined; `scf.for` becomes a Loop, `scf.if` an If, their bodies subgraphs.
- An op with no ONNX equivalent (or a dynamic shape) is an ExportError located at the op."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import onnx
from onnx import helper
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import IndexType, ModuleOp, TensorType, i1, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.diagnostics import location_of
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.symbols import is_private
from red.frontends.emitter import DEFAULT_MAX_FOLD_BYTES
from red.frontends.onnx import export_ops  # noqa: F401 (registers the red and arith rules)
from red.frontends.onnx.exporter import (
    RULES,
    Exporter,
    ExportError,
    Graph,
    Rule,
    dims_of,
    element_of,
    exports,
    known_int,
    value_info,
)

DEFAULT_OPSET = 17
MIN_OPSET = 17
"""LayerNormalization (red.layer_norm) exists from opset 17."""
MAX_OPSET = onnx.defs.onnx_opset_version()
"""The newest opset the installed onnx package defines."""

Weights = Mapping[str, np.ndarray] | Sequence[np.ndarray]


# region The function walk


CONSTANT_OPS = (red.ConstantOp, red.IotaOp, arith.ConstantOp)
"""Ops written on first use only (a constant no node reads becomes no initializer)."""


def export_op(x: Exporter, op: Operation) -> None:
    """Write one op; its results are bound to the names its rule returns. A constant is
    written when first used, in the graph it is defined in."""
    if op in x.skip:
        return
    outer = x.op
    x.op = op
    try:
        for r in op.results:
            _check_type(x, r.type, f"result #{r.index}")
        rule = RULES.get(type(op))
        if rule is None:
            raise x.error(f"'{op.name}' has no ONNX equivalent")
        if isinstance(op, CONSTANT_OPS):
            graph = x.graph
            x.lazy[op.results[0]] = lambda: _apply_in(x, rule, op, graph)[0]
            return
        names = _apply(x, rule, op)
        for r, name in zip(op.results, names):
            x.bind(r, name)
    finally:
        x.op = outer


def _apply(x: Exporter, rule: Rule, op: Operation) -> Sequence[str]:
    try:
        names = rule(x, op)
    except ExportError:
        raise
    except Exception as err:  # a malformed op (or an exporter bug): still located
        raise x.error(f"could not export '{op.name}': {type(err).__name__}: {err}") from err
    assert len(names) == len(op.results), f"rule of '{op.name}' returned {len(names)} names"
    return names


def _apply_in(x: Exporter, rule: Rule, op: Operation, graph: Graph) -> Sequence[str]:
    """Apply a rule as if at `op` in `graph` (a constant written on first use)."""
    saved = x.op, x.graph
    x.op, x.graph = op, graph
    try:
        return _apply(x, rule, op)
    finally:
        x.op, x.graph = saved


def export_block(x: Exporter, block: Block) -> list[str]:
    """Write a block's ops; returns the names of the values its terminator passes on."""
    for op in block.ops:
        if op.has_trait(IsTerminator):
            x.op = op
            return [x.value(v) for v in op.operands]
        export_op(x, op)
    raise x.error("block has no terminator")


def _check_type(x: Exporter, typ: Attribute, what: str) -> None:
    """Tensors of static shape and supported element type, or int/index/float scalars."""
    if isinstance(typ, TensorType):
        if red.DYNAMIC in typ.get_shape():
            raise x.error(f"{what} has dynamic shape '{typ}': red-export needs static shapes")
    elt = element_of(typ)
    try:
        if not isinstance(elt, IndexType):
            numpy_dtype(elt)
    except ValueError:
        raise x.error(f"{what} has type '{typ}', which has no ONNX equivalent") from None


@contextmanager
def subgraph(x: Exporter, name: str) -> Iterator[Graph]:
    """Build the nodes of a Loop or If body in their own graph."""
    outer, x.graph = x.graph, Graph(name)
    try:
        yield x.graph
    finally:
        x.graph = outer


def graph_outputs(x: Exporter, graph: Graph, names: Sequence[str], types: Sequence[Attribute]):
    """Declare a graph's outputs; a value the graph does not produce itself (an input, an
    outer value, a constant) or produces for two outputs goes through an Identity."""
    used: set[str] = set()
    for name, typ in zip(names, types):
        if name not in graph.defined or name in used:
            name = x.node("Identity", [name])
        used.add(name)
        graph.outputs.append(value_info(name, typ))


# endregion The function walk

# region Calls, memos and control flow


@exports(func.CallOp)
def _call(x: Exporter, op: func.CallOp) -> list[str]:
    """The callee's body, inlined."""
    callee = x.functions.get(op.callee.string_value())
    if callee is None or not callee.body.blocks:
        raise x.error(f"'{op.name}' calls '@{op.callee.string_value()}', which has no body")
    if callee in x.inlining:
        raise x.error(f"'{op.name}' to '@{callee.sym_name.data}' is recursive")
    x.inlining.append(callee)
    try:
        entry = callee.body.block
        for arg, operand in zip(entry.args, op.arguments):
            x.bind(arg, x.value(operand))
        return export_block(x, entry)
    finally:
        x.inlining.pop()


@exports(red.MemoOp)
def _memo(x: Exporter, op: red.MemoOp) -> list[str]:
    """Initializers computed now when the keys are known and the size guard allows; else the
    body as nodes over the keys."""
    precomputed = _precompute(x, op)
    if precomputed is not None:
        return [x.constant(a, "memo") for a in precomputed]
    for arg, key in zip(op.body.block.args, op.keys):
        x.bind(arg, x.value(key))
    return export_block(x, op.body.block)


def _precompute(x: Exporter, op: red.MemoOp) -> list[np.ndarray] | None:
    """The memo's results by the interpreter, or None (keys not known, results over the size
    guard net of the constants they make dead, or an error at run time left to run time)."""
    keys = [x.weights.get(k) for k in op.keys]
    if any(k is None for k in keys):
        return None
    added = sum(
        np.dtype(numpy_dtype(element_of(r.type))).itemsize * _count(r.type) for r in op.results
    )
    dead = sum(
        a.nbytes
        for k, a in zip(op.keys, keys)
        if a is not None and all(u.operation is op for u in k.uses)
    )
    for inner in op.body.block.ops:
        if isinstance(inner, red.ConstantOp):
            dead += _count(inner.result.type) * numpy_dtype(element_of(inner.result.type)).itemsize
    if added - dead > x.max_fold_bytes:
        return None
    try:
        with np.errstate(all="ignore"):
            results = x.runner().interpreter.run_ssacfg_region(op.body, tuple(keys), "red.memo")
    except Exception:
        return None
    return [np.asarray(r) for r in results]


def _count(typ: Attribute) -> int:
    return int(np.prod(dims_of(typ), dtype=np.int64))


def _index_name(x: Exporter, value: SSAValue) -> str:
    """An integer scalar as an int64 0-d value."""
    return x.cast(x.value(value), element_of(value.type), i64)


@exports(scf.ForOp)
def _for(x: Exporter, op: scf.ForOp) -> list[str]:
    """Loop with the trip count max(0, ceil((ub - lb) / step)) and no condition; the body's
    induction variable is lb + iteration * step."""
    lb, ub, step = (known_int(v) for v in (op.lb, op.ub, op.step))
    if lb is not None and ub is not None and step is not None:
        if step <= 0:
            raise x.error(f"'{op.name}' step {step} must be positive")
        trips = x.ints(max(0, -(-(ub - lb) // step)))
    else:
        lb_n, ub_n, step_n = (_index_name(x, v) for v in (op.lb, op.ub, op.step))
        span = x.node("Sub", [x.node("Add", [ub_n, step_n]), x.node("Add", [lb_n, x.ints(1)])])
        trips = x.node("Max", [x.node("Div", [span, step_n]), x.ints(0)])
    carried = [x.value(v) for v in op.iter_args]
    block = op.body.block
    iv = block.args[0]
    with subgraph(x, x.fresh("loop_body")) as body:
        iteration, cond = x.fresh("iteration"), x.fresh("cond")
        body.inputs.append(helper.make_tensor_value_info(iteration, onnx.TensorProto.INT64, []))
        body.inputs.append(helper.make_tensor_value_info(cond, onnx.TensorProto.BOOL, []))
        for arg in block.args[1:]:
            name = x.fresh(arg.name_hint or "carried")
            body.inputs.append(value_info(name, arg.type))
            x.bind(arg, name)
        if iv.uses:
            index = iteration
            if lb != 0 or step != 1:
                scaled = (
                    iteration if step == 1 else x.node("Mul", [iteration, _index_name(x, op.step)])
                )
                index = scaled if lb == 0 else x.node("Add", [_index_name(x, op.lb), scaled])
            x.bind(iv, x.cast(index, i64, element_of(iv.type)))
        yielded = export_block(x, block)
        x.op = op
        cond_out = x.node("Identity", [cond])
        graph_outputs(x, body, [cond_out, *yielded], [i1, *[r.type for r in op.results]])
    outs = [x.fresh(r.name_hint or "loop") for r in op.results]
    x.node("Loop", [trips, "", *carried], outs, body=body.proto())
    return outs


@exports(scf.IfOp)
def _if(x: Exporter, op: scf.IfOp) -> list[str]:
    """If, each branch a subgraph without inputs."""
    if not op.results:
        return []  # red's region ops are pure: a branch without results computes nothing
    cond = x.value(op.cond)
    types = [r.type for r in op.results]
    branches: list[onnx.GraphProto] = []
    for region, label in ((op.true_region, "then"), (op.false_region, "else")):
        with subgraph(x, x.fresh(label)) as branch:
            names = export_block(x, region.block)
            x.op = op
            graph_outputs(x, branch, names, types)
        branches.append(branch.proto())
    outs = [x.fresh(r.name_hint or "if") for r in op.results]
    x.node("If", [cond], outs, then_branch=branches[0], else_branch=branches[1])
    return outs


# endregion Calls, memos and control flow

# region Entry point


def _function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.body.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name and op.body.blocks:
            return op
    names = [
        op.sym_name.data for op in module.body.ops if isinstance(op, func.FuncOp) and op.body.blocks
    ]
    raise ExportError(
        location_of(module),
        f"no function '@{name}' with a body to export "
        f"(functions: {', '.join('@' + n for n in names) or 'none'})",
    )


def _invariant(fn: func.FuncOp, index: int) -> bool:
    attrs = fn.arg_attrs
    return attrs is not None and red.INVARIANT_ATTR in attrs.data[index].data


def _bind_weights(fn: func.FuncOp, weights: Weights | None) -> dict[SSAValue, np.ndarray]:
    """The arrays bound to `red.invariant` arguments: in order for a sequence, by SSA name for
    a mapping; each must have the argument's type."""
    if weights is None:
        return {}
    args = fn.body.block.args
    invariant = [a for a in args if _invariant(fn, a.index)]
    name = fn.sym_name.data
    if isinstance(weights, Mapping):
        by_name = {a.name_hint: a for a in invariant if a.name_hint}
        unknown = sorted(set(weights) - set(by_name))
        if unknown:
            raise ExportError(
                location_of(fn),
                f"weights name {', '.join(repr(n) for n in unknown)}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not red.invariant arguments of "
                f"'@{name}' (those are: {', '.join(repr(n) for n in by_name) or 'none'})",
            )
        pairs = [(by_name[k], v) for k, v in weights.items()]
    else:
        if len(weights) != len(invariant):
            raise ExportError(
                location_of(fn),
                f"'@{name}' has {len(invariant)} red.invariant arguments, got "
                f"{len(weights)} weight arrays",
            )
        pairs = list(zip(invariant, weights))
    bound: dict[SSAValue, np.ndarray] = {}
    for arg, value in pairs:
        array = np.asarray(value)
        typ = arg.type
        expected = (numpy_dtype(element_of(typ)), dims_of(typ))
        if (array.dtype, array.shape) != expected:
            raise ExportError(
                location_of(fn),
                f"weight for argument #{arg.index} of '@{name}' must be '{typ}', got an "
                f"array of shape {list(array.shape)} and dtype {array.dtype}",
            )
        bound[arg] = array
    return bound


def to_onnx(
    module: ModuleOp,
    *,
    function: str = "main",
    weights: Weights | None = None,
    opset: int = DEFAULT_OPSET,
    max_fold_bytes: int = DEFAULT_MAX_FOLD_BYTES,
    output_names: Sequence[str] | None = None,
) -> onnx.ModelProto:
    """The ONNX model of `@function` (see the module docstring).

    `weights` binds the `red.invariant` arguments (a sequence in argument order, or a mapping
    from their SSA names) to arrays, which become initializers; the other arguments are the
    graph inputs in order. Raises ExportError (a located DiagnosticError) for what has no
    ONNX equivalent."""
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"expected an opset from {MIN_OPSET} to {MAX_OPSET}, got {opset}")
    fn = _function(module, function)
    x = Exporter(module, opset, max_fold_bytes)
    x.op = fn
    bound = _bind_weights(fn, weights)
    x.weights.update(bound)
    if is_private(fn):
        raise x.error(f"'@{function}' is private: export a public function")
    for arg in fn.body.block.args:
        _check_type(x, arg.type, f"argument #{arg.index}")
        name = x.fresh(arg.name_hint or f"arg{arg.index}")
        if arg in bound:
            array = bound[arg]
            x.lazy[arg] = lambda array=array, name=name: _initializer(x, array, name)
        else:
            x.graph.inputs.append(value_info(name, arg.type))
            x.bind(arg, name)
    results = export_block(x, fn.body.block)
    x.op = fn
    types = fn.function_type.outputs.data
    if output_names is None:
        names = [x.fresh(f"output_{i}") for i in range(len(types))]
    else:
        names = list(output_names)
        if len(names) != len(types) or len(set(names)) != len(names):
            raise ValueError(f"expected {len(types)} distinct output names, got {names}")
        if clash := [n for n, r in zip(names, results) if n in x.taken and n != r]:
            raise ValueError(f"output name '{clash[0]}' is already the name of another value")
    _name_outputs(x, results, types, names)
    graph = x.graph.proto(x.initializers)
    opset_id = helper.make_opsetid("", opset)
    model = helper.make_model(graph, opset_imports=[opset_id], producer_name="red")
    model.ir_version = helper.find_min_ir_version_for([opset_id])
    return model


def _initializer(x: Exporter, array: np.ndarray, name: str) -> str:
    from onnx import numpy_helper

    x.initializers.append(numpy_helper.from_array(np.asarray(array, order="C"), name))
    return name


def _name_outputs(
    x: Exporter, results: Sequence[str], types: Sequence[Attribute], wanted: Sequence[str]
) -> None:
    """Graph outputs named `wanted` (names `x.fresh` reserved, or the user's): the producing
    node's output is renamed where it is the main graph's own; an input, an initializer or a
    value returned twice goes through an Identity."""
    renames: dict[str, str] = {}
    inputs = {vi.name for vi in x.graph.inputs}
    for name, want, typ in zip(results, wanted, types):
        if name in x.graph.defined and name not in renames and name not in inputs:
            renames[name] = want
        else:
            x.node("Identity", [name], [want])
        x.graph.outputs.append(value_info(want, typ))
    if renames:
        _rename(x.graph.nodes, renames)


def _rename(nodes: Sequence[onnx.NodeProto], renames: Mapping[str, str]) -> None:
    """Rename values in nodes and, through their Loop and If bodies, in every subgraph."""
    for node in nodes:
        for field in (node.input, node.output):
            for i, n in enumerate(field):
                if n in renames:
                    field[i] = renames[n]
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _rename(attr.g.node, renames)
                for vi in attr.g.output:
                    if vi.name in renames:
                        vi.name = renames[vi.name]


# endregion Entry point


__all__ = ["DEFAULT_OPSET", "MAX_OPSET", "MIN_OPSET", "ExportError", "Weights", "to_onnx"]
