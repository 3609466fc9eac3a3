"""The PyTorch frontend: `torch.export` -> red (DESIGN.md §5).

The exported program is decomposed to core ATen; user inputs become the first arguments of
`@main`, in order; parameters and buffers follow as `red.invariant` arguments in the order of
the graph signature; results come in output order. A node whose tensor inputs are all known
at import time (constants, shapes, masks built with arange and comparisons) is evaluated
with torch itself and becomes a red.constant, so the mask and position plumbing of HF models
folds away. Every op is located at the model source line that produced it (from the node's
stack trace) and named after the node and its module path."""

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
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import numpy_to_dense
from red.dialects.verifier import verify_module

try:  # torch is an optional extra: red[torch]
    import torch
    from torch.export import ExportedProgram
    from torch.export.graph_signature import InputKind
except ImportError:  # pragma: no cover - exercised when the extra is missing
    torch = None  # type: ignore[assignment]

_DTYPES: dict[Any, Attribute] = {}
if torch is not None:
    _DTYPES = {
        torch.float32: f32,
        torch.float64: f64,
        torch.float16: f16,
        torch.int64: i64,
        torch.int32: i32,
        torch.int8: i8,
        torch.bool: i1,
    }


def element_type(dtype: Any, where: Attribute = UnknownLoc()) -> Attribute:
    if dtype not in _DTYPES:
        raise DiagnosticError(where, f"torch dtype {dtype} has no red element type")
    return _DTYPES[dtype]


@dataclass
class TorchImport:
    """An imported model: the module, and the weights in the order of its invariant
    arguments (call `compiled.main(*inputs, *imported.weights)`)."""

    module: ModuleOp
    weights: list[np.ndarray]
    weight_names: list[str]
    input_names: list[str]
    output_names: list[str] = field(default_factory=list[str])


class _Unknown(Exception):
    """No red translation for this node (it may still fold if its inputs are constants)."""


class TorchImporter:
    def __init__(self, ep: ExportedProgram):
        self.ep = ep
        self.graph = ep.graph
        self.values: dict[str, Any] = {}  # node name -> SSAValue | torch constant | list | scalar
        self.block = Block()
        self.loc: Attribute = UnknownLoc()
        self.node: Any = None

    # region emission

    def emit(self, op: Operation) -> SSAValue:
        op.location = self.loc
        self.block.add_op(op)
        return op.results[0]

    def constant(self, value: Any, dtype: Any = None) -> SSAValue:
        t = value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)
        if dtype is not None:
            t = t.to(dtype)
        arr = t.detach().cpu().contiguous().numpy()
        return self.emit(red.ConstantOp(numpy_to_dense(arr, element_type(t.dtype, self.loc))))

    def tensor(self, arg: Any, dtype: Any = None) -> SSAValue:
        """An argument as an SSA tensor (constants and scalars materialized), cast to dtype."""
        if isinstance(arg, torch.fx.Node):
            arg = self.values[arg.name]
        if isinstance(arg, SSAValue):
            value = arg
        elif isinstance(arg, torch.Tensor):
            value = self.constant(arg)
        elif isinstance(arg, bool | int | float):
            return self.constant(torch.tensor(arg, dtype=dtype or _scalar_dtype(arg)))
        elif isinstance(arg, _unavailable):
            raise _Unknown(f"it uses the {arg.what}, which red does not compute")
        else:
            raise _Unknown(f"unsupported operand {arg!r}")
        if dtype is not None and red.element_type_of(value) != element_type(dtype, self.loc):
            value = self.emit(red.CastOp(value, element_type(dtype, self.loc)))
        return value

    def out_meta(self) -> Any:
        return self.node.meta.get("val")

    def out_dtype(self) -> Any:
        return self.out_meta().dtype

    def out_shape(self) -> list[int]:
        return [int(d) for d in self.out_meta().shape]

    # endregion emission

    def run(self) -> TorchImport:
        sig = self.ep.graph_signature
        placeholders = {n.name: n for n in self.graph.nodes if n.op == "placeholder"}
        user, weights, weight_names = [], [], []
        state = self.ep.state_dict
        constants = getattr(self.ep, "constants", {})
        for spec in sig.input_specs:
            node = placeholders[spec.arg.name]
            if spec.kind == InputKind.USER_INPUT:
                user.append(node)
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
                weights.append(
                    (node, state[spec.target] if spec.target in state else constants[spec.target])
                )
                weight_names.append(spec.target)
            elif spec.kind == InputKind.CONSTANT_TENSOR:
                self.values[node.name] = constants[spec.target]
            else:
                raise DiagnosticError(
                    UnknownLoc(), f"unsupported exported input kind {spec.kind} ('{spec.arg.name}')"
                )
        arg_attrs = []
        for node in user:
            self.values[node.name] = self._argument(node)
            arg_attrs.append(DictionaryAttr({}))
        for node, _ in weights:
            self.values[node.name] = self._argument(node)
            arg_attrs.append(DictionaryAttr({red.INVARIANT_ATTR: UnitAttr()}))
        output_node = next(n for n in self.graph.nodes if n.op == "output")
        for node in self.graph.nodes:
            if node.op == "call_function":
                self.node = node
                self.loc = node_location(node)
                self.values[node.name] = self.convert(node)
        outputs = output_node.args[0]
        user_outputs = [
            outputs[i] for i, spec in enumerate(sig.output_specs) if spec.kind.name == "USER_OUTPUT"
        ]
        results = []
        self.loc = UnknownLoc()
        for out in user_outputs:
            v = self.values[out.name] if isinstance(out, torch.fx.Node) else out
            results.append(self.tensor(v))
        ret = func.ReturnOp(*results)
        self.block.add_op(ret)
        fn = func.FuncOp(
            "main",
            ([a.type for a in self.block.args], [r.type for r in results]),
            Region(self.block),
            arg_attrs=ArrayAttr(arg_attrs),
        )
        module = ModuleOp([fn])
        verify_module(module)
        return TorchImport(
            module,
            [w.detach().cpu().contiguous().numpy() for _, w in weights],
            weight_names,
            [n.name for n in user],
            [o.name for o in user_outputs if isinstance(o, torch.fx.Node)],
        )

    def _argument(self, node: Any) -> SSAValue:
        meta = node.meta["val"]
        typ = TensorType(
            element_type(meta.dtype, node_location(node)), [int(d) for d in meta.shape]
        )
        arg = self.block.insert_arg(typ, len(self.block.args))
        arg.name_hint = _ssa_name(node.name)
        return arg

    # region conversion

    def convert(self, node: Any) -> Any:
        target = node.target
        try:
            if target is operator.getitem:
                return self.values[node.args[0].name][node.args[1]]
            if self._all_constant(node):
                return self.fold(node)
            handler = _HANDLERS.get(str(target))
            if handler is None:
                raise _Unknown(f"no translation for '{target!s}'")
            return handler(self, *node.args, **node.kwargs)
        except _Unknown as err:
            raise DiagnosticError(
                self.loc, f"cannot import '{target!s}' (node '{node.name}'): {err}"
            ) from None

    def _all_constant(self, node: Any) -> bool:
        """Whether every value the node reads is known at import time."""
        for a in _flatten(node.args, node.kwargs):
            if isinstance(a, torch.fx.Node):
                v = self.values.get(a.name)
                if isinstance(v, SSAValue | _unavailable) or (
                    isinstance(v, list) and any(isinstance(x, SSAValue | _unavailable) for x in v)
                ):
                    return False
        return True

    def fold(self, node: Any) -> Any:
        """Evaluate a node on known values with torch itself."""

        def value_of(a: Any) -> Any:
            return self.values[a.name] if isinstance(a, torch.fx.Node) else a

        args = torch.fx.node.map_arg(node.args, value_of)
        kwargs = torch.fx.node.map_arg(node.kwargs, value_of)
        with torch.no_grad():
            return node.target(*args, **kwargs)

    # endregion conversion


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


def _scalar_dtype(x: Any) -> Any:
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int64
    return torch.float32


def _ssa_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_$.]", "_", name)
    return name if name and not name[0].isdigit() else f"v{name}"


def node_location(node: Any) -> Attribute:
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
        inner: Attribute = FileLineColLoc(StringAttr(file), IntAttr(int(line)), IntAttr(0))
    else:
        inner = UnknownLoc()
    return NameLoc(StringAttr(label), inner)


# region Handlers


def _dim(d: int, rank: int) -> int:
    return d + rank if d < 0 else d


def _binary(cls: type[red.BinaryElementwiseOp], compare: bool = False) -> Callable[..., SSAValue]:
    def handle(im: TorchImporter, a: Any, b: Any, alpha: Any = 1, **_: Any) -> SSAValue:
        out = im.out_dtype()
        dtype = _promote(a, b, im) if compare else out
        x, y = im.tensor(a, dtype), im.tensor(b, dtype)
        if alpha != 1:
            y = im.emit(red.MulOp(y, im.tensor(alpha, dtype)))
        return im.emit(cls(x, y))

    return handle


def _promote(a: Any, b: Any, im: TorchImporter) -> Any:
    def meta(x: Any) -> Any:
        if isinstance(x, torch.fx.Node):
            v = x.meta.get("val")
            return v if v is not None else im.values[x.name]
        return x

    return torch.result_type(meta(a), meta(b))


def _unary(cls: type[red.UnaryElementwiseOp]) -> Callable[..., SSAValue]:
    def handle(im: TorchImporter, x: Any, **_: Any) -> SSAValue:
        return im.emit(cls(im.tensor(x, im.out_dtype())))

    return handle


def _reshape(im: TorchImporter, x: Any, *_: Any, **__: Any) -> SSAValue:
    return im.emit(red.ReshapeOp(im.tensor(x), im.out_shape()))


def _identity(im: TorchImporter, x: Any, *_: Any, **__: Any) -> Any:
    return im.values[x.name] if isinstance(x, torch.fx.Node) else x


def _permute(im: TorchImporter, x: Any, dims: Sequence[int]) -> SSAValue:
    v = im.tensor(x)
    rank = len(red.shape_of(v))
    return im.emit(red.TransposeOp(v, [_dim(d, rank) for d in dims]))


def _transpose(im: TorchImporter, x: Any, d0: int = 0, d1: int = 1) -> SSAValue:
    v = im.tensor(x)
    rank = len(red.shape_of(v))
    perm = list(range(rank))
    a, b = _dim(d0, rank), _dim(d1, rank)
    perm[a], perm[b] = perm[b], perm[a]
    return im.emit(red.TransposeOp(v, perm))


def _expand(im: TorchImporter, x: Any, *_: Any, **__: Any) -> SSAValue:
    return im.emit(red.BroadcastToOp(im.tensor(x), im.out_shape()))


def _slice_along(
    im: TorchImporter, v: SSAValue, dim: int, start: int, end: int, step: int
) -> SSAValue:
    shape = list(red.shape_of(v))
    dim = _dim(dim, len(shape))
    n = shape[dim]
    lo, hi, st = slice(start, end, step).indices(n)
    if st < 1:
        raise _Unknown(f"negative slice step {step}")
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[dim], limits[dim], strides[dim] = lo, max(lo, hi), st
    return im.emit(red.SliceOp(v, starts, limits, strides))


def _slice(
    im: TorchImporter, x: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1
) -> SSAValue:
    return _slice_along(im, im.tensor(x), dim, start, end, step)


def _select(im: TorchImporter, x: Any, dim: int, index: int) -> SSAValue:
    v = im.tensor(x)
    n = red.shape_of(v)[_dim(dim, len(red.shape_of(v)))]
    index = index + n if index < 0 else index
    s = _slice_along(im, v, dim, index, index + 1, 1)
    return im.emit(red.ReshapeOp(s, im.out_shape()))


def _cat(im: TorchImporter, tensors: Sequence[Any], dim: int = 0) -> SSAValue:
    dtype = im.out_dtype()
    values = [im.tensor(t, dtype) for t in tensors]
    values = [v for v in values if 0 not in red.shape_of(v)]
    return im.emit(red.ConcatOp(values, _dim(dim, len(red.shape_of(values[0])))))


def _split_with_sizes(
    im: TorchImporter, x: Any, sizes: Sequence[int], dim: int = 0
) -> list[SSAValue]:
    v = im.tensor(x)
    out, offset = [], 0
    for size in sizes:
        out.append(_slice_along(im, v, dim, offset, offset + size, 1))
        offset += size
    return out


def _split(im: TorchImporter, x: Any, size: int, dim: int = 0) -> list[SSAValue]:
    v = im.tensor(x)
    n = red.shape_of(v)[_dim(dim, len(red.shape_of(v)))]
    return _split_with_sizes(im, x, [min(size, n - o) for o in range(0, n, size)], dim)


def _embedding(im: TorchImporter, weight: Any, indices: Any, *_: Any, **__: Any) -> SSAValue:
    return im.emit(red.GatherOp(im.tensor(weight), im.tensor(indices), 0))


def _index(im: TorchImporter, x: Any, indices: Sequence[Any]) -> SSAValue:
    live = [(d, i) for d, i in enumerate(indices) if i is not None]
    if len(live) != 1:
        raise _Unknown("only one index tensor is supported")
    d, i = live[0]
    idx = im.tensor(i)
    if red.element_type_of(idx) == i1:
        raise _Unknown("boolean mask indexing of a run-time tensor")
    return im.emit(red.GatherOp(im.tensor(x), idx, d))


def _where(im: TorchImporter, cond: Any, a: Any, b: Any) -> SSAValue:
    dtype = im.out_dtype()
    return im.emit(
        red.SelectOp(im.tensor(cond, torch.bool), im.tensor(a, dtype), im.tensor(b, dtype))
    )


def _logical_not(im: TorchImporter, x: Any) -> SSAValue:
    return im.emit(red.EqOp(im.tensor(x, torch.bool), im.tensor(False, torch.bool)))


def _logical(kind: str) -> Callable[..., SSAValue]:
    def handle(im: TorchImporter, a: Any, b: Any) -> SSAValue:
        if im.out_dtype() != torch.bool:
            raise _Unknown("bitwise ops on integers")
        x, y = im.tensor(a, torch.bool), im.tensor(b, torch.bool)
        if kind == "and":
            return im.emit(red.SelectOp(x, y, im.tensor(False, torch.bool)))
        if kind == "or":
            return im.emit(red.SelectOp(x, im.tensor(True, torch.bool), y))
        return im.emit(red.NeOp(x, y))

    return handle


def _matmul(im: TorchImporter, a: Any, b: Any) -> SSAValue:
    dtype = im.out_dtype()
    return im.emit(red.MatmulOp(im.tensor(a, dtype), im.tensor(b, dtype)))


def _addmm(im: TorchImporter, bias: Any, a: Any, b: Any, beta: Any = 1, alpha: Any = 1) -> SSAValue:
    dtype = im.out_dtype()
    prod = im.emit(red.MatmulOp(im.tensor(a, dtype), im.tensor(b, dtype)))
    if alpha != 1:
        prod = im.emit(red.MulOp(prod, im.tensor(alpha, dtype)))
    c = im.tensor(bias, dtype)
    if beta != 1:
        c = im.emit(red.MulOp(c, im.tensor(beta, dtype)))
    return im.emit(red.AddOp(prod, c))


def _linear(im: TorchImporter, x: Any, w: Any, b: Any = None) -> SSAValue:
    wv = im.tensor(w)
    y = im.emit(red.MatmulOp(im.tensor(x), im.emit(red.TransposeOp(wv, [1, 0]))))
    return y if b is None else im.emit(red.AddOp(y, im.tensor(b)))


def _softmax(im: TorchImporter, x: Any, dim: int, *_: Any, **__: Any) -> SSAValue:
    v = im.tensor(x, im.out_dtype())
    return im.emit(red.SoftmaxOp(v, _dim(dim, len(red.shape_of(v)))))


def _layer_norm(
    im: TorchImporter,
    x: Any,
    shape: Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
    *_: Any,
) -> Any:
    v = im.tensor(x)
    rank = len(red.shape_of(v))
    y = im.emit(red.LayerNormOp(v, rank - len(shape), float(eps)))
    if weight is not None:
        y = im.emit(red.MulOp(y, im.tensor(weight)))
    if bias is not None:
        y = im.emit(red.AddOp(y, im.tensor(bias)))
    return y


def _native_layer_norm(
    im: TorchImporter, x: Any, shape: Sequence[int], weight: Any, bias: Any, eps: float
) -> list[Any]:
    y = _layer_norm(im, x, shape, weight, bias, eps)
    return [y, _unavailable("mean of native_layer_norm"), _unavailable("rstd of native_layer_norm")]


class _unavailable:
    """An output red does not compute (using it is an import error)."""

    def __init__(self, what: str):
        self.what = what


def _reduce(cls: type[red.ReduceOp]) -> Callable[..., SSAValue]:
    def handle(
        im: TorchImporter, x: Any, dims: Any = None, keepdim: bool = False, **kwargs: Any
    ) -> SSAValue:
        v = im.tensor(x, kwargs.get("dtype") or im.out_dtype())
        rank = len(red.shape_of(v))
        if dims is None or dims == []:
            dims = list(range(rank))
        dims = [dims] if isinstance(dims, int) else dims
        return im.emit(cls(v, sorted(_dim(d, rank) for d in dims), bool(keepdim)))

    return handle


def _to_copy(im: TorchImporter, x: Any, *_: Any, dtype: Any = None, **__: Any) -> SSAValue:
    return im.tensor(x, dtype or im.out_dtype())


def _gelu(im: TorchImporter, x: Any, approximate: str = "none") -> SSAValue:
    return im.emit(red.GeluOp(im.tensor(x, im.out_dtype()), approximate))


def _pow(im: TorchImporter, x: Any, y: Any) -> SSAValue:
    dtype = im.out_dtype()
    if isinstance(y, int | float) and y == 2:
        v = im.tensor(x, dtype)
        return im.emit(red.MulOp(v, v))
    return im.emit(red.PowOp(im.tensor(x, dtype), im.tensor(y, dtype)))


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
) -> SSAValue:
    """softmax(q·kᵀ·scale + mask)·v (inference: no dropout)."""
    qv, kv, vv = im.tensor(q), im.tensor(k), im.tensor(v)
    shape = red.shape_of(qv)
    rank = len(shape)
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    s = im.emit(red.MatmulOp(qv, im.emit(red.TransposeOp(kv, perm))))
    factor = scale if scale is not None else 1.0 / float(np.sqrt(shape[-1]))
    s = im.emit(red.MulOp(s, im.tensor(factor, torch.float32)))
    if is_causal:
        n, m = shape[-2], red.shape_of(kv)[-2]
        causal = torch.ones(n, m, dtype=torch.bool).tril()
        s = im.emit(red.SelectOp(im.tensor(causal), s, im.tensor(float("-inf"), torch.float32)))
    if attn_mask is not None:
        mask = im.tensor(attn_mask)
        if red.element_type_of(mask) == i1:
            s = im.emit(red.SelectOp(mask, s, im.tensor(float("-inf"), torch.float32)))
        else:
            s = im.emit(red.AddOp(s, mask))
    p = im.emit(red.SoftmaxOp(s, rank - 1))
    return im.emit(red.MatmulOp(p, vv))


_HANDLERS: dict[str, Callable[..., Any]] = {}
if torch is not None:
    _HANDLERS = {
        "aten.add.Tensor": _binary(red.AddOp),
        "aten.add.Scalar": _binary(red.AddOp),
        "aten.sub.Tensor": _binary(red.SubOp),
        "aten.sub.Scalar": _binary(red.SubOp),
        "aten.mul.Tensor": _binary(red.MulOp),
        "aten.mul.Scalar": _binary(red.MulOp),
        "aten.div.Tensor": _binary(red.DivOp),
        "aten.div.Scalar": _binary(red.DivOp),
        "aten.maximum.default": _binary(red.MaxOp),
        "aten.minimum.default": _binary(red.MinOp),
        "aten.pow.Tensor_Scalar": _pow,
        "aten.pow.Tensor_Tensor": _pow,
        "aten.eq.Tensor": _binary(red.EqOp, compare=True),
        "aten.eq.Scalar": _binary(red.EqOp, compare=True),
        "aten.ne.Tensor": _binary(red.NeOp, compare=True),
        "aten.ne.Scalar": _binary(red.NeOp, compare=True),
        "aten.lt.Tensor": _binary(red.LtOp, compare=True),
        "aten.lt.Scalar": _binary(red.LtOp, compare=True),
        "aten.le.Tensor": _binary(red.LeOp, compare=True),
        "aten.le.Scalar": _binary(red.LeOp, compare=True),
        "aten.gt.Tensor": _binary(red.GtOp, compare=True),
        "aten.gt.Scalar": _binary(red.GtOp, compare=True),
        "aten.ge.Tensor": _binary(red.GeOp, compare=True),
        "aten.ge.Scalar": _binary(red.GeOp, compare=True),
        "aten.neg.default": _unary(red.NegOp),
        "aten.abs.default": _unary(red.AbsOp),
        "aten.relu.default": _unary(red.ReluOp),
        "aten.exp.default": _unary(red.ExpOp),
        "aten.log.default": _unary(red.LogOp),
        "aten.sqrt.default": _unary(red.SqrtOp),
        "aten.rsqrt.default": _unary(red.RsqrtOp),
        "aten.tanh.default": _unary(red.TanhOp),
        "aten.sigmoid.default": _unary(red.SigmoidOp),
        "aten.silu.default": _unary(red.SiluOp),
        "aten.erf.default": _unary(red.ErfOp),
        "aten.sin.default": _unary(red.SinOp),
        "aten.cos.default": _unary(red.CosOp),
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
    }


def _assert_metadata(im: TorchImporter, *_: Any, **__: Any) -> None:
    return None


def _any(im: TorchImporter, x: Any, dim: Any = None, keepdim: bool = False) -> SSAValue:
    """any = max over the axes of the mask as integers, then != 0."""
    v = im.tensor(x, torch.int32)
    rank = len(red.shape_of(v))
    dims = list(range(rank)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    m = im.emit(red.ReduceMaxOp(v, sorted(_dim(d, rank) for d in dims), bool(keepdim)))
    return im.emit(red.NeOp(m, im.tensor(0, torch.int32)))


def _full_like(im: TorchImporter, x: Any, fill: Any, *_: Any, **__: Any) -> SSAValue:
    """Depends on the shape of x only: a constant."""
    return im.constant(torch.full(im.out_shape(), fill, dtype=im.out_dtype()))


def _sym_size(im: TorchImporter, x: Any, dim: int) -> int:
    return int(x.meta["val"].shape[dim])


if torch is not None:
    _HANDLERS["aten._assert_tensor_metadata.default"] = _assert_metadata
    _HANDLERS["aten.sym_size.int"] = _sym_size
    _HANDLERS["aten.any.dim"] = _any
    _HANDLERS["aten.any.dims"] = _any
    _HANDLERS["aten.any.default"] = _any
    _HANDLERS["aten.full_like.default"] = _full_like
    _HANDLERS["aten.zeros_like.default"] = lambda im, x, *a, **k: _full_like(im, x, 0)
    _HANDLERS["aten.ones_like.default"] = lambda im, x, *a, **k: _full_like(im, x, 1)

# endregion Handlers


def import_exported(ep: ExportedProgram, decompose: bool = True) -> TorchImport:
    """red for a torch.export.ExportedProgram (decomposed to core ATen first)."""
    if torch is None:
        raise DiagnosticError(
            UnknownLoc(), "the PyTorch frontend needs torch: pip install 'red[torch]'"
        )
    if decompose:
        ep = ep.run_decompositions()
    return TorchImporter(ep).run()


def import_torch(
    model: Any, example_inputs: tuple[Any, ...], decompose: bool = True
) -> TorchImport:
    """Export `model` (in eval mode) on `example_inputs` with torch.export and import it."""
    if torch is None:
        raise DiagnosticError(
            UnknownLoc(), "the PyTorch frontend needs torch: pip install 'red[torch]'"
        )
    model.eval()
    with torch.no_grad():
        ep = torch.export.export(model, tuple(example_inputs))
    return import_exported(ep, decompose)
