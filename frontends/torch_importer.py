"""The PyTorch frontend: `torch.export` -> red (DESIGN.md §5).

The exported program is decomposed to core ATen; user inputs become the first arguments of
`@main`, in order; parameters and buffers follow as `red.invariant` arguments in the order of
the graph signature; results come in output order. A node whose tensor inputs are all known
at import time (constants, shapes, masks built with arange and comparisons) is evaluated
with torch itself and becomes a red.constant, so the mask and position plumbing of HF models
folds away. Red ops are created through the shared emitter (`red.frontends.emitter`), which
folds red ops on constants, drops views that keep the shape and materializes each constant
tensor once. Every op is located at the model source line that produced it (from the node's
stack trace) and named after the node and its module path.

With `dynamic_shapes`, a size known only at run time is a `Dim` (a polynomial in the Dims'
names, `seq + 1`), and what depends on it becomes red ops instead of folding: HF's position ids
and causal masks (arange over the length, its slices and prefix sums, advanced indexing) and
views of several symbolic dims, through the shared `SizedEmitter` (`red.frontends.sizes`); a
construct red cannot express over a symbolic size is a located error naming the sizes."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    NameLoc,
    StringAttr,
    TensorType,
    UnitAttr,
    UnknownLoc,
    i1,
    i32,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import UnsupportedTypeError, element_type_for
from red.dialects.red.dims import Dim, Poly, product
from red.dialects.symbolic_shapes import DIMS_ATTR
from red.dialects.verifier import verify_module
from red.frontends.emitter import Emitter, Operand, Scalar, Value, default_scalar
from red.frontends.recurrence import State, Step, run_recurrence
from red.frontends.sizes import SizedEmitter
from red.frontends.symbolic import SymbolicSizeError, is_symbolic, slice_range

try:  # torch is an optional extra: red[torch]
    import torch
    import torch.fx
    from torch.export import ExportedProgram
    from torch.export.graph_signature import InputKind
except ImportError:  # pragma: no cover - exercised when the extra is missing
    HAS_TORCH = False
else:
    HAS_TORCH = True


def element_type(dtype: Any, where: LocationAttr = UnknownLoc()) -> Attribute:
    """The red element type of a torch dtype (through its numpy dtype: numpy_interop's table;
    no tensor is made, so this works while a fake tensor mode is active)."""
    try:
        return element_type_for(np.dtype(_NUMPY_DTYPES[dtype]))
    except (KeyError, UnsupportedTypeError):
        raise DiagnosticError(where, f"torch dtype {dtype} has no red element type") from None


_NUMPY_DTYPES: dict[Any, Any] = (
    {
        torch.float64: np.float64,
        torch.float32: np.float32,
        torch.float16: np.float16,
        torch.int64: np.int64,
        torch.int32: np.int32,
        torch.int16: np.int16,
        torch.int8: np.int8,
        torch.uint8: np.uint8,
        torch.bool: np.bool_,
    }
    if HAS_TORCH
    else {}
)


@dataclass
class TorchImport:
    """An imported model: the module, and the weights in the order of its invariant
    arguments (call `compiled.main(*inputs, *imported.weights)`)."""

    module: ModuleOp
    weights: list[np.ndarray]
    weight_names: list[str]
    input_names: list[str]
    output_names: list[str] = field(default_factory=list[str])


@dataclass
class GraphImport:
    """An FX graph imported as one function `name` of `module`. `arguments[k]` is the
    placeholder position of the function's argument k; `outputs` says, for each output of
    the graph in order, where it comes from: `("result", k)` (result k of the function),
    `("input", i)` (placeholder i itself), `("alias", j)` (an `aten.alias` of output j, an
    earlier one), `("constant", value)` (known at import time) or `("none", None)`."""

    module: ModuleOp
    name: str
    arguments: list[int]
    outputs: list[tuple[str, Any]]


class _Unknown(Exception):
    """No red translation for this node (it may still fold if its inputs are constants)."""


class _unavailable:
    """An output red does not compute (using it is an import error)."""

    def __init__(self, what: str):
        self.what = what


def _symbolic_sizes(node: Any) -> list[str]:
    """The symbolic sizes (as torch prints them) in the shapes a node reads and makes."""
    found: list[str] = []
    metas = [node.meta.get("val")]
    metas += [a.meta.get("val") for a in node.all_input_nodes]
    for meta in metas:
        sizes = meta.shape if isinstance(meta, torch.Tensor) else [meta]
        for d in sizes:
            if isinstance(d, torch.SymInt) and str(d) not in found:
                found.append(str(d))
    return found


def _static_or_dynamic(d: Any) -> int:
    """A size of torch's shape metadata: its int, or `?` for a symbolic size (a SymInt)."""
    return d if isinstance(d, int) else red.DYNAMIC


def _numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().contiguous().numpy()


class _TorchEmitter(SizedEmitter):
    """Reads graph nodes (their imported values) and torch tensors (as numpy constants, one
    array per tensor so that each is materialized once). Shapes are `Dim`s: a symbolic size
    is a polynomial in the torch.export Dims' names (`SizedEmitter`)."""

    def __init__(self, importer: TorchImporter):
        super().__init__(importer.block)
        self.importer = importer
        self._arrays: dict[int, tuple[Any, np.ndarray]] = {}

    def value(self, x: Any) -> Operand:
        if isinstance(x, torch.fx.Node):
            x = self.importer.values[x.name]
        if isinstance(x, SSAValue | np.ndarray | Scalar):
            return x
        if isinstance(x, torch.Tensor):
            cached = self._arrays.get(id(x))
            if cached is None or cached[0] is not x:
                element_type(x.dtype, self.location())
                cached = self._arrays[id(x)] = (x, _numpy(x))
            return cached[1]
        if isinstance(x, _unavailable):
            raise _Unknown(f"it uses the {x.what}, which red does not compute")
        raise _Unknown(f"unsupported operand {x!r}")


class TorchImporter:
    """Converts the call_function nodes of an FX graph of core ATen ops (an exported
    program's, or one AOTAutograd traced) into one red function."""

    def __init__(
        self, graph: Any, ep: ExportedProgram | None = None, unroll_recurrences: bool = False
    ):
        self.ep = ep
        self.unroll_recurrences = unroll_recurrences
        self.graph = graph
        self.values: dict[str, Any] = {}  # node name -> SSAValue | torch constant | list | scalar
        self.block = Block()
        self.e = _TorchEmitter(self)
        self.node: Any = None
        self.dim_names: dict[str, str] = {}
        """torch's symbol of a dynamic size (`s0`) -> the name its torch.export Dim gave."""
        self.argument_dims: dict[str, list[str]] = {}
        """Placeholder name -> `red.dims` of its argument (for arguments with a `?`)."""

    # region Values

    def elt(self, dtype: Any) -> Attribute:
        return element_type(dtype, self.e.location())

    def operand(self, arg: Any, dtype: Any = None) -> Value:
        """An argument as a value (a Python scalar as a constant of `dtype`, else of its
        default type), cast to `dtype` when given."""
        value = self.e.value(arg)
        if dtype is not None:
            return self.e.cast(value, self.elt(dtype))
        return default_scalar(value) if isinstance(value, Scalar) else value

    def tensor(self, arg: Any, dtype: Any = None) -> SSAValue:
        """An argument as an SSA tensor (constants and scalars materialized), cast to dtype."""
        return self.e.ssa(self.operand(arg, dtype))

    def out_meta(self) -> Any:
        return self.node.meta.get("val")

    def out_dtype(self) -> Any:
        return self.out_meta().dtype

    def out_shape(self) -> list[int]:
        """The node's result shape; a symbolic size (a SymInt) is a `?`."""
        return [_static_or_dynamic(d) for d in self.out_meta().shape]

    # endregion Values

    def run(self) -> TorchImport:
        """Import the exported program: user inputs, then parameters and buffers."""
        user, weights, weight_names = self._inputs()
        arguments = [(n, False) for n in user] + [(n, True) for n, _ in weights]
        outputs = self._user_outputs()
        fn = self.build("main", arguments, [o for o in outputs if isinstance(o, torch.fx.Node)])
        module = ModuleOp([fn])
        verify_module(module)
        return TorchImport(
            module,
            [_numpy(w) for _, w in weights],
            weight_names,
            [n.name for n in user],
            [o.name for o in outputs if isinstance(o, torch.fx.Node)],
        )

    def build(
        self, name: str, arguments: Sequence[tuple[Any, bool]], results: Sequence[Any]
    ) -> Any:
        """The func.func `name`: one argument per placeholder of `arguments` (with
        `red.invariant` where its flag is set), every call_function node converted, and
        `results` (graph nodes or constants) returned in order."""
        self.declare(arguments)
        self.convert_graph()
        return self.function(name, arguments, results)

    def declare(self, arguments: Sequence[tuple[Any, bool]]) -> None:
        """The function's arguments, one per placeholder, in order."""
        for node, _ in arguments:
            self.values[node.name] = self._argument(node)

    def convert_graph(self) -> None:
        """Convert every call_function node, in graph order."""
        for node in self.graph.nodes:
            if node.op == "call_function":
                self.node = node
                self.e.loc = node_location(node)
                self.values[node.name] = self.convert(node)
        self.e.loc = UnknownLoc()

    def function(
        self, name: str, arguments: Sequence[tuple[Any, bool]], results: Sequence[Any]
    ) -> Any:
        """Return `results` (graph nodes or constants) from the block: the func.func."""
        values = [
            self.tensor(self.values[o.name] if isinstance(o, torch.fx.Node) else o) for o in results
        ]
        self.block.add_op(func.ReturnOp(*values))
        arg_attrs = []
        for node, invariant in arguments:
            attrs: dict[str, Attribute] = {red.INVARIANT_ATTR: UnitAttr()} if invariant else {}
            names = self.argument_dims.get(node.name)
            if names is not None:
                attrs[DIMS_ATTR] = ArrayAttr([StringAttr(n) for n in names])
            arg_attrs.append(DictionaryAttr(attrs))
        return func.FuncOp(
            name,
            ([a.type for a in self.block.args], [v.type for v in values]),
            Region(self.block),
            arg_attrs=ArrayAttr(arg_attrs),
        )

    def _inputs(self) -> tuple[list[Any], list[tuple[Any, Any]], list[str]]:
        """The user inputs, then the parameters and buffers with their tensors and names, in
        the order of the graph signature (constant tensors become known values)."""
        assert self.ep is not None
        placeholders = {n.name: n for n in self.graph.nodes if n.op == "placeholder"}
        user, weights, weight_names = [], [], []
        state = self.ep.state_dict
        constants = getattr(self.ep, "constants", {})
        for spec in self.ep.graph_signature.input_specs:
            node = placeholders[spec.arg.name]
            if spec.kind == InputKind.USER_INPUT:
                user.append(node)
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
                tensor = state[spec.target] if spec.target in state else constants[spec.target]
                weights.append((node, tensor))
                weight_names.append(spec.target)
            elif spec.kind == InputKind.CONSTANT_TENSOR:
                self.values[node.name] = constants[spec.target]
            else:
                raise DiagnosticError(
                    UnknownLoc(), f"unsupported exported input kind {spec.kind} ('{spec.arg.name}')"
                )
        return user, weights, weight_names

    def _dim_names(self, node: Any) -> list[str] | None:
        """`red.dims` of a placeholder with symbolic sizes: each dim's Dim name ("" for a
        static dim, or a size that is an expression of symbols, such as 2*seq)."""
        meta = node.meta.get("val")
        if not isinstance(meta, torch.Tensor) or all(isinstance(d, int) for d in meta.shape):
            return None
        return ["" if isinstance(d, int) else self.dim_names.get(str(d), "") for d in meta.shape]

    def _user_outputs(self) -> list[Any]:
        assert self.ep is not None
        output_node = next(n for n in self.graph.nodes if n.op == "output")
        outputs = output_node.args[0]
        specs = self.ep.graph_signature.output_specs
        return [outputs[i] for i, spec in enumerate(specs) if spec.kind.name == "USER_OUTPUT"]

    def _argument(self, node: Any) -> SSAValue:
        meta = node.meta.get("val")
        where = node_location(node)
        if not isinstance(meta, torch.Tensor):
            what = "a symbolic size" if isinstance(meta, torch.SymInt) else f"{type(meta).__name__}"
            raise DiagnosticError(where, f"input '{node.name}' is {what}, not a tensor")
        shape = list(meta.shape)
        if not all(isinstance(d, int) for d in shape) and self.ep is None:
            raise DiagnosticError(
                where,
                f"input '{node.name}' has the symbolic shape {tuple(shape)}: red compiles static"
                " shapes (torch.compile(..., dynamic=False))",
            )
        typ = TensorType(element_type(meta.dtype, where), [_static_or_dynamic(d) for d in shape])
        # Named now: converting the graph may refine torch's symbols (str(size) changes).
        if (names := self._dim_names(node)) is not None:
            self.argument_dims[node.name] = names
        arg = self.block.insert_arg(typ, len(self.block.args))
        arg.name_hint = _ssa_name(node.name)
        if red.DYNAMIC in typ.get_shape():
            self.e.declare_argument(arg, [self.dim_of(d) for d in shape])
        return arg

    def dim_of(self, size: Any) -> Dim:
        """A size of torch's shape metadata as a Dim: an int, or a polynomial in the Dims'
        names for a SymInt (`s27 + 1` -> `seq + 1`)."""
        if isinstance(size, int):
            return size
        if not isinstance(size, torch.SymInt):
            raise _Unknown(f"a size {size!r} that is not an integer")
        return self._sympy_dim(size.node.expr)

    def _sympy_dim(self, expr: Any) -> Dim:
        if expr.is_Integer:
            return int(expr)
        if expr.is_Symbol:
            return Poly.symbol(self.dim_names.get(str(expr), str(expr)))
        if expr.is_Add or expr.is_Mul:
            parts = [self._sympy_dim(a) for a in expr.args]
            total: Any = parts[0]
            for part in parts[1:]:
                total = total + part if expr.is_Add else total * part
            return total
        if expr.is_Pow and expr.exp.is_Integer and int(expr.exp) >= 0:
            return Poly.of(self._sympy_dim(expr.base)) ** int(expr.exp)
        raise SymbolicSizeError(f"the size {expr} is not a polynomial in the input sizes")

    def out_dims(self) -> list[Dim]:
        """The node's result shape as Dims."""
        return [self.dim_of(d) for d in self.out_meta().shape]

    def size_arg(self, x: Any) -> Dim:
        """A size argument of a node (an int, or a node computing a symbolic size)."""
        value = self.values[x.name] if isinstance(x, torch.fx.Node) else x
        if isinstance(value, int | Poly):
            return value
        if isinstance(value, torch.SymInt):
            return self.dim_of(value)
        raise _Unknown(f"a size argument {value!r} that is not an integer")

    # region Conversion

    def convert(self, node: Any) -> Any:
        target = node.target
        schema = getattr(target, "_schema", None)
        if schema is not None and schema.is_mutable:
            raise DiagnosticError(
                self.e.loc,
                f"in-place '{target!s}' (node '{node.name}') was not functionalised: red imports"
                " functional graphs only",
            )
        try:
            if target is operator.getitem:
                return self.values[node.args[0].name][node.args[1]]
            if target in _SIZE_ARITHMETIC or self._all_constant(node):
                return self.fold(node)
            handler = _HANDLERS.get(str(target))
            if handler is None:
                for a in _flatten(node.args, node.kwargs):
                    v = self.values.get(a.name) if isinstance(a, torch.fx.Node) else None
                    if isinstance(v, _unavailable):  # e.g. a symbolic size as a number
                        raise _Unknown(f"it uses the {v.what}, which red does not compute")
                raise _Unknown(f"no translation for '{target!s}'")
            return _as_torch(handler(self, *node.args, **node.kwargs))
        except _Unknown as err:
            raise DiagnosticError(
                self.e.loc, f"cannot import '{target!s}' (node '{node.name}'): {err}"
            ) from None
        except (RuntimeError, TypeError, ValueError, SymbolicSizeError) as err:
            symbols = _symbolic_sizes(node)
            if not symbols and not isinstance(err, SymbolicSizeError):
                raise
            first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
            raise DiagnosticError(
                self.e.loc,
                f"cannot import '{target!s}' (node '{node.name}') with the symbolic sizes "
                f"{', '.join(symbols)}: {first}; export with static shapes (no dynamic_shapes)",
            ) from None

    def _all_constant(self, node: Any) -> bool:
        """Whether every value the node reads is known at import time (a symbolic size is
        not: it is known at run time)."""
        runtime = SSAValue | _unavailable | Poly
        for a in _flatten(node.args, node.kwargs):
            if isinstance(a, torch.fx.Node):
                v = self.values.get(a.name)
                if isinstance(v, runtime) or (
                    isinstance(v, list) and any(isinstance(x, runtime) for x in v)
                ):
                    return False
        return True

    def fold(self, node: Any) -> Any:
        """Evaluate a node on known values with torch itself (this folds the aten ops red
        has no op for; red ops on constants fold in the emitter)."""

        def value_of(a: Any) -> Any:
            return self.values[a.name] if isinstance(a, torch.fx.Node) else a

        args = torch.fx.map_arg(node.args, value_of)
        kwargs = torch.fx.map_arg(node.kwargs, value_of)
        with torch.no_grad():
            return node.target(*args, **kwargs)

    # endregion Conversion


def _as_torch(result: Any) -> Any:
    """A handler's result as the importer keeps it: a folded constant as a torch tensor, so
    later nodes on constants fold with torch."""
    if isinstance(result, np.ndarray):
        return torch.from_numpy(np.array(result))
    if isinstance(result, list):
        return [_as_torch(r) for r in result]
    return result


def _flatten(args: Any, kwargs: Any) -> list[Any]:
    out: list[Any] = []

    def rec(x: Any) -> None:
        if isinstance(x, list | tuple):
            for y in x:
                rec(y)
        elif isinstance(x, dict):
            for y in x.values():
                rec(y)
        else:
            out.append(x)

    rec(args)
    rec(kwargs)
    return out


def _ssa_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_$.]", "_", name)
    return name if name and not name[0].isdigit() else f"v{name}"


def node_location(node: Any) -> NameLoc:
    """NameLoc(node name and module path) of the source line in the node's stack trace."""
    path = ""
    stack = node.meta.get("nn_module_stack")
    if stack:
        path = list(stack.values())[-1][0]
    label = f"{path}:{node.name}" if path else node.name
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    if frames:
        file, line = frames[-1]
        inner: LocationAttr = FileLineColLoc(StringAttr(file), IntAttr(int(line)), IntAttr(0))
    else:
        inner = UnknownLoc()
    return NameLoc(StringAttr(label), inner)


# region Handlers

_SIZE_ARITHMETIC = {
    operator.add,
    operator.sub,
    operator.mul,
    operator.floordiv,
    operator.neg,
}
"""Python arithmetic on sizes in exported graphs (`s27 + 1`): evaluated at import time, on
ints or on the polynomials of symbolic sizes."""


def _dim(d: int, rank: int) -> int:
    return d + rank if d < 0 else d


def _binary(cls: type[red.BinaryElementwiseOp], compare: bool = False) -> Callable[..., Value]:
    def handle(im: TorchImporter, a: Any, b: Any, alpha: Any = 1, **_: Any) -> Value:
        dtype = _promote(a, b, im) if compare else im.out_dtype()
        x, y = im.operand(a, dtype), im.operand(b, dtype)
        if alpha != 1:
            y = im.e.mul(y, alpha)
        return im.e.binary(cls, x, y)

    return handle


def _promote(a: Any, b: Any, im: TorchImporter) -> Any:
    """torch's own type promotion of two operands (from their export-time metadata)."""

    def meta(x: Any) -> Any:
        if isinstance(x, torch.fx.Node):
            v = x.meta.get("val")
            return v if v is not None else im.values[x.name]
        return x

    return torch.result_type(meta(a), meta(b))


def _unary(cls: type[red.UnaryElementwiseOp]) -> Callable[..., Value]:
    def handle(im: TorchImporter, x: Any, **_: Any) -> Value:
        return im.e.unary(cls, im.operand(x, im.out_dtype()))

    return handle


def _reshape(im: TorchImporter, x: Any, *_: Any, **__: Any) -> Value:
    """A view to the node's shape (with several symbolic dims: see SizedEmitter.reshape)."""
    return im.e.reshape(im.operand(x), im.out_dims())


def _identity(im: TorchImporter, x: Any, *_: Any, **__: Any) -> Any:
    return im.values[x.name] if isinstance(x, torch.fx.Node) else x


def _permute(im: TorchImporter, x: Any, dims: Sequence[int]) -> Value:
    v = im.operand(x)
    rank = len(im.e.shape(v))
    return im.e.transpose(v, [_dim(d, rank) for d in dims])


def _transpose(im: TorchImporter, x: Any, d0: int = 0, d1: int = 1) -> Value:
    v = im.operand(x)
    perm = list(range(len(im.e.shape(v))))
    a, b = _dim(d0, len(perm)), _dim(d1, len(perm))
    perm[a], perm[b] = perm[b], perm[a]
    return im.e.transpose(v, perm)


def _expand(im: TorchImporter, x: Any, *_: Any, **__: Any) -> Value:
    return im.e.broadcast_to(im.operand(x), im.out_dims())


def _slice_along(im: TorchImporter, v: Value, dim: int, start: Any, end: Any, step: int) -> Value:
    """v[start:end:step] along `dim`, torch's clamping; bounds and sizes may be symbolic
    (then SizedEmitter.cut: red.slice, red.dynamic_slice, or a gather of the rows)."""
    dims = im.e.dims(v)
    dim = _dim(dim, len(dims))
    n = dims[dim]
    if step < 1:
        raise _Unknown(f"negative slice step {step}")
    lo_arg = 0 if start is None else im.size_arg(start)
    hi_arg = n if end is None else im.size_arg(end)
    if not any(is_symbolic(d) for d in (*dims, lo_arg, hi_arg)):
        lo, hi, _ = slice(lo_arg, hi_arg, step).indices(n)  # type: ignore[arg-type]
        return im.e.slice_axis(v, dim, lo, max(lo, hi), step)
    lo, count = slice_range(n, lo_arg, hi_arg, step)
    if (lo, count, step) == (0, n, 1):
        return v
    return im.e.cut(v, dim, lo, count, step)


def _slice(
    im: TorchImporter, x: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> Value:
    return _slice_along(im, im.operand(x), dim, start, end, step)


def _select(im: TorchImporter, x: Any, dim: int, index: Any) -> Value:
    v = im.operand(x)
    dims = im.e.dims(v)
    n = dims[_dim(dim, len(dims))]
    i = im.size_arg(index)
    i = i + n if not is_symbolic(i) and i < 0 else i  # type: ignore[operator]
    return im.e.reshape(_slice_along(im, v, dim, i, i + 1, 1), im.out_dims())


def _cat(im: TorchImporter, tensors: Sequence[Any], dim: int = 0) -> Value:
    dtype = im.out_dtype()
    values = [im.operand(t, dtype) for t in tensors]
    values = [v for v in values if 0 not in im.e.shape(v)]
    return im.e.concat(values, _dim(dim, len(im.e.shape(values[0]))))


def _split_with_sizes(im: TorchImporter, x: Any, sizes: Sequence[int], dim: int = 0) -> list[Value]:
    v = im.operand(x)
    out, offset = [], 0
    for size in sizes:
        out.append(_slice_along(im, v, dim, offset, offset + size, 1))
        offset += size
    return out


def _split(im: TorchImporter, x: Any, size: int, dim: int = 0) -> list[Value]:
    shape = im.e.shape(im.operand(x))
    n = shape[_dim(dim, len(shape))]
    return _split_with_sizes(im, x, [min(size, n - o) for o in range(0, n, size)], dim)


def _embedding(im: TorchImporter, weight: Any, indices: Any, *_: Any, **__: Any) -> Value:
    return im.e.gather(im.operand(weight), im.operand(indices), 0)


def _where(im: TorchImporter, cond: Any, a: Any, b: Any) -> Value:
    dtype = im.out_dtype()
    return im.e.select(im.operand(cond, torch.bool), im.operand(a, dtype), im.operand(b, dtype))


def _logical_not(im: TorchImporter, x: Any) -> Value:
    return im.e.binary(red.EqOp, im.operand(x, torch.bool), False)


def _logical(kind: str) -> Callable[..., Value]:
    def handle(im: TorchImporter, a: Any, b: Any) -> Value:
        if im.out_dtype() != torch.bool:
            raise _Unknown("bitwise ops on integers")
        x, y = im.operand(a, torch.bool), im.operand(b, torch.bool)
        if kind == "and":
            return im.e.select(x, y, False)
        if kind == "or":
            return im.e.select(x, True, y)
        return im.e.binary(red.NeOp, x, y)

    return handle


def _matmul(im: TorchImporter, a: Any, b: Any) -> Value:
    dtype = im.out_dtype()
    return im.e.matmul(im.operand(a, dtype), im.operand(b, dtype))


def _addmm(im: TorchImporter, bias: Any, a: Any, b: Any, beta: Any = 1, alpha: Any = 1) -> Value:
    dtype = im.out_dtype()
    prod = im.e.matmul(im.operand(a, dtype), im.operand(b, dtype))
    if alpha != 1:
        prod = im.e.mul(prod, alpha)
    c = im.operand(bias, dtype)
    if beta != 1:
        c = im.e.mul(c, beta)
    return im.e.add(prod, c)


def _linear(im: TorchImporter, x: Any, w: Any, b: Any = None) -> Value:
    y = im.e.matmul(im.operand(x), im.e.transpose(im.operand(w), [1, 0]))
    return y if b is None else im.e.add(y, im.operand(b))


def _softmax(im: TorchImporter, x: Any, dim: int, *_: Any, **__: Any) -> Value:
    v = im.operand(x, im.out_dtype())
    return im.e.softmax(v, _dim(dim, len(im.e.shape(v))))


def _layer_norm(
    im: TorchImporter,
    x: Any,
    shape: Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
    *_: Any,
) -> Value:
    v = im.operand(x)
    y = im.e.layer_norm(v, len(im.e.shape(v)) - len(shape), float(eps))
    if weight is not None:
        y = im.e.mul(y, im.operand(weight))
    if bias is not None:
        y = im.e.add(y, im.operand(bias))
    return y


def _native_layer_norm(
    im: TorchImporter, x: Any, shape: Sequence[int], weight: Any, bias: Any, eps: float
) -> list[Any]:
    """[y, mean, rstd]: the statistics (over the normalized axes, kept as size-1 axes) are
    computed only when a node reads them (the forward graph of a training step saves them
    for the backward)."""
    y = _layer_norm(im, x, shape, weight, bias, eps)
    used = {u.args[1] for u in im.node.users if u.target is operator.getitem}
    if not used & {1, 2}:
        return [y, _unavailable("mean of native_layer_norm"), _unavailable("rstd")]
    e = im.e
    v = im.operand(x)
    rank = len(e.shape(v))
    axes = list(range(rank - len(shape), rank))
    mean = e.reduce(red.ReduceMeanOp, v, axes, True)
    centered = e.sub(v, mean)
    var = e.reduce(red.ReduceMeanOp, e.mul(centered, centered), axes, True)
    rstd = e.unary(red.RsqrtOp, e.add(var, float(eps)))
    return [y, mean, rstd]


def _log_softmax(im: TorchImporter, x: Any, dim: int, *_: Any) -> Value:
    """x - max - log(sum(exp(x - max))) along `dim` (stable for large logits)."""
    e = im.e
    v = im.operand(x, im.out_dtype())
    axis = _dim(dim, len(e.shape(v)))
    shifted = e.sub(v, e.reduce(red.ReduceMaxOp, v, [axis], True))
    total = e.reduce(red.ReduceSumOp, e.unary(red.ExpOp, shifted), [axis], True)
    return e.sub(shifted, e.unary(red.LogOp, total))


def _log_softmax_backward(im: TorchImporter, grad: Any, out: Any, dim: int, *_: Any) -> Value:
    """grad - exp(out) * sum(grad) along `dim`."""
    e = im.e
    g, y = im.operand(grad), im.operand(out)
    axis = _dim(dim, len(e.shape(g)))
    return e.sub(g, e.mul(e.unary(red.ExpOp, y), e.reduce(red.ReduceSumOp, g, [axis], True)))


def _softmax_backward(im: TorchImporter, grad: Any, out: Any, dim: int, *_: Any) -> Value:
    """out * (grad - sum(grad * out)) along `dim`."""
    e = im.e
    g, y = im.operand(grad), im.operand(out)
    axis = _dim(dim, len(e.shape(g)))
    return e.mul(y, e.sub(g, e.reduce(red.ReduceSumOp, e.mul(g, y), [axis], True)))


def _sigmoid_backward(im: TorchImporter, grad: Any, y: Any) -> Value:
    """grad * y * (1 - y)."""
    e = im.e
    yv = im.operand(y)
    return e.mul(im.operand(grad), e.mul(yv, e.sub(1.0, yv)))


def _tanh_backward(im: TorchImporter, grad: Any, y: Any) -> Value:
    """grad * (1 - y * y)."""
    e = im.e
    yv = im.operand(y)
    return e.mul(im.operand(grad), e.sub(1.0, e.mul(yv, yv)))


def _threshold_backward(im: TorchImporter, grad: Any, x: Any, threshold: Any) -> Value:
    """where(x <= threshold, 0, grad): relu's backward."""
    e = im.e
    g = im.operand(grad)
    return e.select(e.binary(red.LeOp, im.operand(x), threshold), 0, g)


def _clamp(im: TorchImporter, x: Any, lo: Any = None, hi: Any = None) -> Value:
    dtype = im.out_dtype()
    v = im.operand(x, dtype)
    if lo is not None:
        v = im.e.binary(red.MaxOp, v, im.operand(lo, dtype))
    if hi is not None:
        v = im.e.binary(red.MinOp, v, im.operand(hi, dtype))
    return v


def _bitwise_not(im: TorchImporter, x: Any) -> Value:
    if im.out_dtype() != torch.bool:
        raise _Unknown("bitwise not of integers")
    return im.e.binary(red.EqOp, im.operand(x, torch.bool), False)


def _native_dropout(im: TorchImporter, x: Any, p: float, train: Any) -> list[Any]:
    """[x, mask of ones] when it drops nothing (p = 0 or not training); dropping draws
    random numbers red does not reproduce."""
    if train and p > 0:
        raise _Unknown(f"dropout with p={p} in training draws random numbers (set p to 0)")
    v = im.operand(x)
    return [v, np.ones(im.e.shape(v), dtype=np.bool_)]


def _copy(im: TorchImporter, dst: Any, src: Any, *_: Any) -> Value:
    """The functional copy: src cast and broadcast to dst's type."""
    return im.e.broadcast_to(im.operand(src, im.out_dtype()), im.out_shape())


def _strides(shape: Sequence[Dim]) -> list[Dim]:
    out: list[Dim] = []
    acc: Dim = 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return out[::-1]


def _wrapped(im: TorchImporter, index: Any, size: Dim) -> Value:
    """An i64 index tensor with negative entries counted from the end (as torch does)."""
    e = im.e
    i = im.operand(index, torch.int64)
    return e.select(e.binary(red.LtOp, i, 0), e.add(i, e.size_value(size)), i)


def _coordinates(shape: Sequence[int], axis: int) -> np.ndarray:
    """The index along `axis` of each element of `shape` (an i64 constant)."""
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return np.broadcast_to(np.arange(shape[axis], dtype=np.int64).reshape(view), shape)


def _index(im: TorchImporter, x: Any, indices: Sequence[Any]) -> Value:
    """x[..., i0, i1, ...]: advanced indices on consecutive axes become one gather on the
    merged axes, at the flat offset of each tuple (the index tensors broadcast together)."""
    e = im.e
    live = [(d, i) for d, i in enumerate(indices) if i is not None]
    if not live or [d for d, _ in live] != list(range(live[0][0], live[0][0] + len(live))):
        raise _Unknown("index tensors must be on consecutive axes")
    xv = im.operand(x)
    shape = list(e.dims(xv))
    first, count = live[0][0], len(live)
    merged = shape[first : first + count]
    flat: Any = None
    for (d, i), stride in zip(live, _strides(merged), strict=True):
        if e.elt(im.operand(i)) == i1:
            raise _Unknown("boolean mask indexing of a run-time tensor")
        term = _wrapped(im, i, shape[d])
        term = term if stride == 1 else e.mul(term, e.size_value(stride))
        flat = term if flat is None else e.add(flat, term)
    table = e.reshape(xv, [*shape[:first], product(merged), *shape[first + count :]])
    return e.gather(table, flat, first)


def _gather(im: TorchImporter, x: Any, dim: int, index: Any, *_: Any, **__: Any) -> Value:
    """torch.gather (take along an axis): one red.gather from the flattened x at each output
    element's flat offset, `index * stride(dim)` plus the offset of its other coordinates."""
    e = im.e
    xv = im.operand(x)
    shape = list(e.shape(xv))
    axis = _dim(dim, len(shape))
    ishape = list(e.shape(im.operand(index)))
    strides = _strides(shape)
    base = sum(
        (_coordinates(ishape, a) * strides[a] for a in range(len(shape)) if a != axis),
        np.zeros(ishape, dtype=np.int64),
    )
    flat = e.add(e.mul(_wrapped(im, index, shape[axis]), strides[axis]), base)
    return e.gather(e.reshape(xv, [int(np.prod(shape))]), flat, 0)


def _scatter_value(im: TorchImporter, x: Any, dim: int, index: Any, value: Any) -> Value:
    """x with x[..., index[p], ...] = value along `dim`: where the coordinate along dim
    equals one of the indices of its row."""
    e = im.e
    dtype = im.out_dtype()
    xv = im.operand(x, dtype)
    shape = list(e.shape(xv))
    axis = _dim(dim, len(shape))
    iv = _wrapped(im, index, shape[axis])
    ishape = list(e.shape(iv))
    if [d for a, d in enumerate(ishape) if a != axis] != [
        d for a, d in enumerate(shape) if a != axis
    ]:
        raise _Unknown("the index must match the input's shape on the other axes")
    if ishape[axis] == 1:
        hit = e.binary(
            red.EqOp,
            iv,
            _coordinates([*shape[:axis], shape[axis], *[1] * (len(shape) - axis - 1)], axis),
        )
    else:  # one more axis: the indices of a row against every coordinate, then any
        spread = e.reshape(iv, [*ishape[: axis + 1], 1, *ishape[axis + 1 :]])
        coords = np.arange(shape[axis], dtype=np.int64).reshape(
            [1] * (axis + 1) + [shape[axis]] + [1] * (len(shape) - axis - 1)
        )
        matches = e.cast(e.binary(red.EqOp, spread, coords), i32)
        hit = e.binary(red.NeOp, e.reduce(red.ReduceMaxOp, matches, [axis]), 0)
    return e.select(hit, im.operand(value, dtype), xv)


def _index_put(
    im: TorchImporter, x: Any, indices: Sequence[Any], values: Any, accumulate: bool = False
) -> Value:
    """x[idx] = values (or += with `accumulate`) for one index tensor on axis 0: a one-hot
    matrix of the indices, transposed, times the values sums the rows each index receives
    (embedding's backward). Without `accumulate` the indices must be distinct constants."""
    e = im.e
    if len(indices) != 1 or indices[0] is None:
        raise _Unknown("only one index tensor, on the first axis, is supported")
    dtype = im.out_dtype()
    xv = im.operand(x, dtype)
    shape = list(e.shape(xv))
    rows, rest = shape[0], shape[1:]
    idx = _wrapped(im, indices[0], rows)
    ishape = list(e.shape(idx))
    n = int(np.prod(ishape))
    width = int(np.prod(rest))
    vals = e.broadcast_to(im.operand(values, dtype), [*ishape, *rest])
    vals = e.reshape(vals, [n, width])
    one_hot = e.binary(red.EqOp, e.reshape(idx, [n, 1]), np.arange(rows, dtype=np.int64)[None])
    one_hot = e.cast(one_hot, e.elt(xv))
    summed = e.reshape(e.matmul(e.transpose(one_hot, [1, 0]), vals), shape)
    if accumulate:
        return e.add(xv, summed)
    known = e.const(idx)
    if known is None or len(np.unique(known)) != known.size:
        raise _Unknown("index_put without accumulate needs distinct constant indices")
    written = np.zeros([rows] + [1] * len(rest), dtype=np.bool_)
    written[known.reshape(-1)] = True
    return e.select(written, summed, xv)


def _reduce(cls: type[red.ReduceOp]) -> Callable[..., Value]:
    def handle(
        im: TorchImporter, x: Any, dims: Any = None, keepdim: bool = False, **kwargs: Any
    ) -> Value:
        v = im.operand(x, kwargs.get("dtype") or im.out_dtype())
        rank = len(im.e.shape(v))
        if dims is None or dims == []:
            dims = list(range(rank))
        dims = [dims] if isinstance(dims, int) else dims
        return im.e.reduce(cls, v, sorted(_dim(d, rank) for d in dims), bool(keepdim))

    return handle


def _to_copy(im: TorchImporter, x: Any, *_: Any, dtype: Any = None, **__: Any) -> Value:
    return im.operand(x, dtype or im.out_dtype())


def _gelu(im: TorchImporter, x: Any, approximate: str = "none") -> Value:
    return im.e.op(lambda v: red.GeluOp(v, approximate), im.operand(x, im.out_dtype()))


def _pow(im: TorchImporter, x: Any, y: Any) -> Value:
    dtype = im.out_dtype()
    if isinstance(y, int | float) and y == 2:
        v = im.operand(x, dtype)
        return im.e.mul(v, v)
    return im.e.binary(red.PowOp, im.operand(x, dtype), im.operand(y, dtype))


def _sdpa(
    im: TorchImporter,
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: Any = None,
    enable_gqa: bool = False,
) -> Value:
    """softmax(q·kᵀ·scale + mask)·v (inference: no dropout)."""
    e = im.e
    qv, kv, vv = im.operand(q), im.operand(k), im.operand(v)
    shape = e.shape(qv)
    rank = len(shape)
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    s = e.matmul(qv, e.transpose(kv, perm))
    factor = scale if scale is not None else 1.0 / float(np.sqrt(shape[-1]))
    s = e.mul(s, im.operand(factor, torch.float32))
    if is_causal:
        causal = np.tril(np.ones((shape[-2], e.shape(kv)[-2]), dtype=bool))
        s = e.select(causal, s, im.operand(float("-inf"), torch.float32))
    if attn_mask is not None:
        mask = im.operand(attn_mask)
        if e.elt(mask) == i1:
            s = e.select(mask, s, im.operand(float("-inf"), torch.float32))
        else:
            s = e.add(s, mask)
    return e.matmul(e.softmax(s, rank - 1), vv)


def _assert_metadata(im: TorchImporter, *_: Any, **__: Any) -> None:
    return None


def _any(im: TorchImporter, x: Any, dim: Any = None, keepdim: bool = False) -> Value:
    """any = max over the axes of the mask as integers, then != 0."""
    v = im.operand(x, torch.int32)
    rank = len(im.e.shape(v))
    dims = list(range(rank)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    m = im.e.reduce(red.ReduceMaxOp, v, sorted(_dim(d, rank) for d in dims), bool(keepdim))
    return im.e.binary(red.NeOp, m, 0)


def _full_like(im: TorchImporter, x: Any, fill: Any, *_: Any, **__: Any) -> Any:
    """Depends on the shape of x only: a constant; with a symbolic size, `fill` broadcast to
    x's shape by a select whose condition is x cast to i1 (both branches are `fill`, so its
    values do not matter, only its run-time shape)."""
    if red.DYNAMIC not in im.out_shape():
        return torch.full(im.out_shape(), fill, dtype=im.out_dtype())
    value = np.asarray(fill, dtype=torch.empty(0, dtype=im.out_dtype()).numpy().dtype)
    shaped = im.e.cast(im.tensor(x), i1)
    return im.e.select(shaped, value, value)


def _sym_size(im: TorchImporter, x: Any, dim: int) -> Dim:
    """A size: an int, or a polynomial in the Dims' names (the ops that take it as a bound or
    a shape build it at run time; Python arithmetic on it folds)."""
    return im.dim_of(x.meta["val"].shape[dim])


def _arange(im: TorchImporter, start: Any, end: Any = None, step: Any = 1, **_: Any) -> Value:
    """torch.arange with a symbolic bound: start + step * [0, n) for the node's length n (a
    loop over the run-time length: SizedEmitter.arange); static bounds fold before this."""
    lo = 0 if end is None else im.size_arg(start)
    if not isinstance(step, int) or step < 1:
        raise _Unknown(f"arange with step {step!r} over a symbolic size")
    e = im.e
    ramp: Value = e.arange(im.out_dims()[0])
    if step != 1:
        ramp = e.mul(ramp, np.int64(step))
    if lo != 0:
        ramp = e.add(ramp, e.size_value(lo))
    return e.cast(ramp, im.elt(im.out_dtype()))


def _cumsum(im: TorchImporter, x: Any, dim: int, *_: Any, dtype: Any = None) -> Value:
    """Inclusive prefix sums along `dim`: y[..., i] = sum over j <= i of x[..., j], as a
    select of x against the triangle iota_j <= iota_i and a reduce_sum (n x n work: the
    prefix sums of HF's masks over a symbolic sequence; red has no scan op)."""
    e = im.e
    v = im.operand(x, dtype or im.out_dtype())
    dims = list(e.dims(v))
    rank = len(dims)
    axis = _dim(dim, rank)
    n = dims[axis]
    perm = [a for a in range(rank) if a != axis] + [axis]
    last = e.transpose(v, perm) if axis != rank - 1 else v
    moved = [dims[a] for a in perm]
    triangle = e.binary(red.LeOp, e.iota([n, n], 1), e.iota([n, n], 0))
    spread = e.reshape(last, [*moved[:-1], 1, n])
    summed = e.reduce(red.ReduceSumOp, e.select(triangle, spread, e.scalar(0, spread)), [rank])
    if axis == rank - 1:
        return summed
    return e.transpose(summed, [perm.index(a) for a in range(rank)])


def _full(im: TorchImporter, size: Sequence[Any], fill: Any, *_: Any, **__: Any) -> Value:
    """torch.full of a symbolic shape: the fill value broadcast (static shapes fold)."""
    value = np.asarray(fill, dtype=torch.empty(0, dtype=im.out_dtype()).numpy().dtype)
    return im.e.broadcast_to(value, im.out_dims())


def _lstm(
    im: TorchImporter,
    x: Any,
    hx: Sequence[Any],
    params: Sequence[Any],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> list[Value]:
    """aten.lstm.input -> [output, h_n, c_n], each layer and direction one run of the shared
    time loop (`red.frontends.recurrence`: an scf.for, or unrolled with `unroll_recurrences`).
    PyTorch's gates are i, f, g, o: c = f * c + i * tanh(g~), h = o * tanh(c)."""
    e = im.e
    if train and dropout:
        raise _Unknown("LSTM dropout in training mode is not supported")
    dirs = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    if len(params) != num_layers * dirs * per:
        raise _Unknown("LSTM projections (proj_size > 0) are not supported")
    out: Value = im.operand(x)
    if batch_first:
        out = e.transpose(out, [1, 0, 2])
    h0, c0 = (e.value(v) for v in hx)
    want_output = any(u.args[1] == 0 for u in im.node.users)
    finals: list[tuple[Any, Any]] = []
    for layer in range(num_layers):
        sequences = []
        for d in range(dirs):
            k = (layer * dirs + d) * per
            w_ih, w_hh = im.operand(params[k]), im.operand(params[k + 1])
            xw: Value = e.matmul(out, e.transpose(w_ih, [1, 0]))
            if has_biases:
                xw = e.add(xw, e.add(im.operand(params[k + 2]), im.operand(params[k + 3])))
            step = _lstm_step(e, e.transpose(w_hh, [1, 0]), e.shape(w_hh)[1])
            index = layer * dirs + d
            ys, final = run_recurrence(
                e,
                xw,
                step,
                (_initial_state(e, h0, index), _initial_state(e, c0, index)),
                reverse=d == 1,
                sequence=want_output or layer + 1 < num_layers,
                unroll=im.unroll_recurrences,
            )
            sequences.append(ys)
            finals.append((final[0], final[1]))
        if all(ys is not None for ys in sequences):
            out = e.concat(sequences, 2)
    if batch_first:
        out = e.transpose(out, [1, 0, 2])

    def stacked(k: int) -> Value:
        return e.concat([e.reshape(f[k], [1, *e.shape(f[k])]) for f in finals], 0)

    return [out, stacked(0), stacked(1)]


def _initial_state(e: Emitter, state: Any, index: int) -> Any:
    """State `index` of h0/c0 [layers * dirs, batch, hidden]; None when it is a constant zero
    (the step then skips its recurrent terms)."""
    if isinstance(state, np.ndarray) and not state.any():
        return None
    return e.take(state, 0, index)


def _lstm_step(e: Emitter, rt: Value, hidden: int) -> Step:
    def step(x_t: Any, state: State) -> State:
        h, c = state
        gates = x_t if h is None else e.add(x_t, e.matmul(h, rt))

        def gate(k: int) -> Any:
            return e.slice_axis(gates, 1, k * hidden, (k + 1) * hidden)

        i, f = e.unary(red.SigmoidOp, gate(0)), e.unary(red.SigmoidOp, gate(1))
        g, o = e.unary(red.TanhOp, gate(2)), e.unary(red.SigmoidOp, gate(3))
        c_new = e.mul(i, g) if c is None else e.add(e.mul(f, c), e.mul(i, g))
        return e.mul(o, e.unary(red.TanhOp, c_new)), c_new

    return step


_ARITHMETIC = {"add": red.AddOp, "sub": red.SubOp, "mul": red.MulOp, "div": red.DivOp}
_COMPARISONS = {
    "eq": red.EqOp,
    "ne": red.NeOp,
    "lt": red.LtOp,
    "le": red.LeOp,
    "gt": red.GtOp,
    "ge": red.GeOp,
}
_UNARY = {
    "neg": red.NegOp,
    "abs": red.AbsOp,
    "relu": red.ReluOp,
    "exp": red.ExpOp,
    "log": red.LogOp,
    "sqrt": red.SqrtOp,
    "rsqrt": red.RsqrtOp,
    "tanh": red.TanhOp,
    "sigmoid": red.SigmoidOp,
    "silu": red.SiluOp,
    "erf": red.ErfOp,
    "sin": red.SinOp,
    "cos": red.CosOp,
}

_HANDLERS: dict[str, Callable[..., Any]] = {
    **{f"aten.{n}.{o}": _binary(c) for n, c in _ARITHMETIC.items() for o in ("Tensor", "Scalar")},
    **{
        f"aten.{n}.{o}": _binary(c, compare=True)
        for n, c in _COMPARISONS.items()
        for o in ("Tensor", "Scalar")
    },
    **{f"aten.{n}.default": _unary(c) for n, c in _UNARY.items()},
    "aten.maximum.default": _binary(red.MaxOp),
    "aten.minimum.default": _binary(red.MinOp),
    "aten.pow.Tensor_Scalar": _pow,
    "aten.pow.Tensor_Tensor": _pow,
    "aten.gelu.default": _gelu,
    "aten.where.self": _where,
    "aten.logical_not.default": _logical_not,
    "aten.bitwise_and.Tensor": _logical("and"),
    "aten.__and__.Tensor": _logical("and"),
    "aten.logical_and.default": _logical("and"),
    "aten.bitwise_or.Tensor": _logical("or"),
    "aten.logical_or.default": _logical("or"),
    "aten.view.default": _reshape,
    "aten._unsafe_view.default": _reshape,
    "aten.reshape.default": _reshape,
    "aten.unsqueeze.default": _reshape,
    "aten.squeeze.dims": _reshape,
    "aten.squeeze.dim": _reshape,
    "aten.squeeze.default": _reshape,
    "aten.flatten.using_ints": _reshape,
    "aten.permute.default": _permute,
    "aten.transpose.int": _transpose,
    "aten.t.default": _transpose,
    "aten.expand.default": _expand,
    "aten.slice.Tensor": _slice,
    "aten.select.int": _select,
    "aten.cat.default": _cat,
    "aten.split_with_sizes.default": _split_with_sizes,
    "aten.split.Tensor": _split,
    "aten.embedding.default": _embedding,
    "aten.index.Tensor": _index,
    "aten.mm.default": _matmul,
    "aten.bmm.default": _matmul,
    "aten.matmul.default": _matmul,
    "aten.addmm.default": _addmm,
    "aten.linear.default": _linear,
    "aten._softmax.default": _softmax,
    "aten.softmax.int": _softmax,
    "aten.layer_norm.default": _layer_norm,
    "aten.native_layer_norm.default": _native_layer_norm,
    "aten.mean.dim": _reduce(red.ReduceMeanOp),
    "aten.mean.default": _reduce(red.ReduceMeanOp),
    "aten.sum.dim_IntList": _reduce(red.ReduceSumOp),
    "aten.sum.default": _reduce(red.ReduceSumOp),
    "aten.amax.default": _reduce(red.ReduceMaxOp),
    "aten._to_copy.default": _to_copy,
    "aten.to.dtype": _to_copy,
    "aten.to.dtype_layout": _to_copy,
    "aten.clone.default": _identity,
    "aten.alias.default": _identity,
    "aten.detach.default": _identity,
    "aten.contiguous.default": _identity,
    "aten.lift_fresh_copy.default": _identity,
    "aten.dropout.default": _identity,
    "aten.scaled_dot_product_attention.default": _sdpa,
    "aten._assert_tensor_metadata.default": _assert_metadata,
    "aten.sym_size.int": _sym_size,
    "aten.arange.start_step": _arange,
    "aten.arange.start": _arange,
    "aten.arange.default": _arange,
    "aten.cumsum.default": _cumsum,
    "aten.full.default": _full,
    "aten.any.dim": _any,
    "aten.any.dims": _any,
    "aten.any.default": _any,
    "aten.full_like.default": _full_like,
    "aten.lstm.input": _lstm,
    "aten._log_softmax.default": _log_softmax,
    "aten._log_softmax_backward_data.default": _log_softmax_backward,
    "aten._softmax_backward_data.default": _softmax_backward,
    "aten.sigmoid_backward.default": _sigmoid_backward,
    "aten.tanh_backward.default": _tanh_backward,
    "aten.threshold_backward.default": _threshold_backward,
    "aten.clamp.default": _clamp,
    "aten.clamp_min.default": lambda im, x, lo: _clamp(im, x, lo, None),
    "aten.clamp_max.default": lambda im, x, hi: _clamp(im, x, None, hi),
    "aten.bitwise_not.default": _bitwise_not,
    "aten.native_dropout.default": _native_dropout,
    "aten.copy.default": _copy,
    "aten.gather.default": _gather,
    "aten.scatter.value": _scatter_value,
    "aten.index_put.default": _index_put,
    "aten.zeros_like.default": lambda im, x, *a, **k: _full_like(im, x, 0),
    "aten.ones_like.default": lambda im, x, *a, **k: _full_like(im, x, 1),
}
"""The handler of each core ATen op red translates (after `run_decompositions`)."""

# endregion Handlers


def import_exported(
    ep: ExportedProgram,
    decompose: bool = True,
    unroll_recurrences: bool = False,
    dynamic_shapes: Any = None,
) -> TorchImport:
    """red for a torch.export.ExportedProgram (decomposed to core ATen first, except
    aten.lstm, which red imports as an scf.for over the time steps, or unrolled with
    `unroll_recurrences`). Symbolic sizes of the inputs are `?` dims, named after the Dims
    of `dynamic_shapes` (the argument the program was exported with), else after torch's
    symbols."""
    if not HAS_TORCH:
        raise DiagnosticError(
            UnknownLoc(), "the PyTorch frontend needs torch: pip install 'red[torch]'"
        )
    if decompose:
        table = torch.export.default_decompositions()
        table.pop(torch.ops.aten.lstm.input, None)
        ep = ep.run_decompositions(table)
    importer = TorchImporter(ep.graph, ep, unroll_recurrences)
    importer.dim_names = _dim_names(ep, dynamic_shapes)
    return importer.run()


def _dim_names(ep: ExportedProgram, dynamic_shapes: Any) -> dict[str, str]:
    """torch's symbols of the user inputs' dynamic sizes (`s17`) -> the names of the
    torch.export Dims that `dynamic_shapes` (as given to torch.export) gives them."""
    names: dict[str, str] = {}
    placeholders = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}
    user = [
        placeholders[spec.arg.name]
        for spec in ep.graph_signature.input_specs
        if spec.kind == InputKind.USER_INPUT
    ]
    if isinstance(dynamic_shapes, dict):
        by_name = [dynamic_shapes.get(n.name) for n in user]
        specs = by_name if any(by_name) else list(dynamic_shapes.values())
    else:
        specs = list(dynamic_shapes or ())
    for node, spec in zip(user, specs):
        meta = node.meta.get("val")
        if not isinstance(meta, torch.Tensor) or not spec:
            continue
        axes = spec.items() if isinstance(spec, dict) else enumerate(spec)
        for axis, dim in axes:
            size = meta.shape[axis]
            name = getattr(dim, "__name__", None)
            if not isinstance(size, int) and name:
                names.setdefault(str(size), name)
    for node in user:  # a size without a Dim name keeps torch's symbol (`s17`)
        meta = node.meta.get("val")
        for size in meta.shape if isinstance(meta, torch.Tensor) else ():
            if not isinstance(size, int) and str(size).isidentifier():
                names.setdefault(str(size), str(size))
    return names


def _alias_root(node: Any) -> Any:
    """The node an `aten.alias` chain starts from (the node itself when it is no alias):
    outputs with one root share memory in eager PyTorch too."""
    while isinstance(node, torch.fx.Node) and str(node.target) == "aten.alias.default":
        node = node.args[0]
    return node


def import_graph(
    gm: Any,
    invariant: Sequence[int] = (),
    name: str = "main",
    unroll_recurrences: bool = False,
) -> GraphImport:
    """red for a torch.fx.GraphModule of ATen ops (AOTAutograd's forward or backward graph,
    or any functional ATen graph): every placeholder becomes an argument in order, those at
    the positions in `invariant` (parameters) marked `red.invariant`; the function returns
    the graph outputs red computes (see `GraphImport`). Shapes and dtypes come from each
    node's `meta["val"]` and must be static. Raises DiagnosticError naming the node and op
    that red cannot import, or an in-place op left in the graph."""
    if not HAS_TORCH:
        raise DiagnosticError(
            UnknownLoc(), "the PyTorch frontend needs torch: pip install 'red[torch]'"
        )
    graph = gm.graph
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    position = {n.name: i for i, n in enumerate(placeholders)}
    wanted = set(invariant)
    arguments = [(n, i in wanted) for i, n in enumerate(placeholders)]
    importer = TorchImporter(graph, None, unroll_recurrences)
    importer.declare(arguments)
    importer.convert_graph()
    output = next(n for n in graph.nodes if n.op == "output").args[0]
    outputs: list[tuple[str, Any]] = []
    results: list[Any] = []
    first: dict[str, int] = {}  # root node name -> the first output position it has
    for out in output if isinstance(output, list | tuple) else [output]:
        root = _alias_root(out)
        if isinstance(root, torch.fx.Node) and root.name in first:
            outputs.append(("alias", first[root.name]))
            continue
        if isinstance(root, torch.fx.Node):
            first[root.name] = len(outputs)
        if out is None:
            outputs.append(("none", None))
        elif isinstance(out, torch.fx.Node) and out.op == "placeholder":
            outputs.append(("input", position[out.name]))
        elif isinstance(out, torch.fx.Node) and isinstance(
            value := importer.values[out.name], SSAValue
        ):
            outputs.append(("result", len(results)))
            results.append(value)
        elif isinstance(out, torch.fx.Node) and not isinstance(value, _unavailable | list):
            outputs.append(("constant", value))
        elif not isinstance(out, torch.fx.Node):
            outputs.append(("constant", out))
        else:
            raise DiagnosticError(
                node_location(out), f"output '{out.name}' is not a tensor red computes"
            )
    fn = importer.function(name, arguments, results)
    module = ModuleOp([fn])
    verify_module(module)
    return GraphImport(module, name, list(range(len(placeholders))), outputs)


def import_torch(
    model: Any,
    example_inputs: tuple[Any, ...],
    decompose: bool = True,
    unroll_recurrences: bool = False,
    dynamic_shapes: Any = None,
) -> TorchImport:
    """Export `model` (in eval mode) on `example_inputs` with torch.export and import it.

    `dynamic_shapes` is torch.export's: per input, {axis: torch.export.Dim("seq")} (a dict by
    argument name, or a tuple in input order). Those dims become `?` dims named by their
    Dim in the argument's `red.dims` (`tensor<1x?xi64> {red.dims = ["", "seq"]}`), and the
    function runs at any size in the Dim's range."""
    if not HAS_TORCH:
        raise DiagnosticError(
            UnknownLoc(), "the PyTorch frontend needs torch: pip install 'red[torch]'"
        )
    model.eval()
    with torch.no_grad():
        ep = torch.export.export(model, tuple(example_inputs), dynamic_shapes=dynamic_shapes)
    return import_exported(ep, decompose, unroll_recurrences, dynamic_shapes)
