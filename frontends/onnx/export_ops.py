"""Export rules of the red ops and of the scalar arith ops red functions use (loop bounds,
offsets), one per op family: each red op becomes the standard ONNX ops (opset 17+) that
compute what the interpreter computes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, IntegerAttr, i1, i32, i64
from xdsl.ir import Attribute, Operation, SSAValue

from red.dialects import red
from red.dialects.numpy_interop import dense_to_numpy, numpy_dtype
from red.frontends.onnx.exporter import (
    Exporter,
    constant_array,
    dims_of,
    element_of,
    exports,
    known_int,
    onnx_elem_type,
)

# region Constants


@exports(red.ConstantOp)
def _constant(x: Exporter, op: red.ConstantOp) -> list[str]:
    try:
        array = dense_to_numpy(op.value)
    except ValueError as err:
        raise x.error(f"'{op.name}' value cannot be read: {err}") from None
    return [x.constant(array, op.result.name_hint or "const")]


@exports(red.IotaOp)
def _iota(x: Exporter, op: red.IotaOp) -> list[str]:
    """A small iota is an initializer; a large one Range -> Reshape -> Expand."""
    shape = dims_of(op.result.type)
    elt = element_of(op.result.type)
    axis = op.dimension.value.data
    if math.prod(shape) * numpy_dtype(elt).itemsize <= x.max_fold_bytes:
        return [x.constant(op.values(), "iota")]
    n = shape[axis]
    arange = x.node("Range", [x.ints(0), x.ints(n), x.ints(1)])
    arange = x.cast(arange, i64, elt)
    column = [n if d == axis else 1 for d in range(len(shape))]
    reshaped = x.node("Reshape", [arange, x.ints(column)])
    return [x.node("Expand", [reshaped, x.ints(list(shape))])]


@exports(arith.ConstantOp)
def _arith_constant(x: Exporter, op: arith.ConstantOp) -> list[str]:
    value, typ = op.value, op.result.type
    if isinstance(value, DenseIntOrFPElementsAttr):
        return [x.constant(dense_to_numpy(value), "const")]
    if isinstance(value, IntegerAttr | FloatAttr):
        scalar = value.value.data
        return [x.scalar(scalar, typ)]
    raise x.error(f"'{op.name}' with value '{value}' has no ONNX equivalent")


# endregion Constants

# region Elementwise

_BINARY: dict[type[Operation], str] = {
    red.AddOp: "Add",
    red.SubOp: "Sub",
    red.MulOp: "Mul",
    red.DivOp: "Div",
    red.MaxOp: "Max",
    red.MinOp: "Min",
    red.PowOp: "Pow",
    red.EqOp: "Equal",
    red.LtOp: "Less",
    red.LeOp: "LessOrEqual",
    red.GtOp: "Greater",
    red.GeOp: "GreaterOrEqual",
}


@exports(*_BINARY)
def _binary(x: Exporter, op: red.BinaryElementwiseOp) -> list[str]:
    if isinstance(op, red.DivOp) and red.is_integer_type(element_of(op.result.type)):
        return [_integer_div(x, op)]
    return [x.node(_BINARY[type(op)], [x.value(op.lhs), x.value(op.rhs)])]


def _integer_div(x: Exporter, op: red.DivOp) -> str:
    """red's total integer division: x / 0 = 0 and MIN / -1 = MIN (wrapping), where ONNX
    Div leaves both undefined (onnxruntime traps): the divisor is made safe first, unless it
    is a constant without 0 or -1."""
    a, b = x.value(op.lhs), x.value(op.rhs)
    divisor = constant_array(op.rhs)
    if divisor is not None and not ((divisor == 0) | (divisor == -1)).any():
        return x.node("Div", [a, b])
    elt = element_of(op.rhs.type)
    zero = x.node("Equal", [b, x.scalar(0, elt)])
    minus_one = x.node("Equal", [b, x.scalar(-1, elt)])
    safe = x.node("Where", [x.node("Or", [zero, minus_one]), x.scalar(1, elt), b])
    quotient = x.node("Where", [minus_one, x.node("Neg", [a]), x.node("Div", [a, safe])])
    return x.node("Where", [zero, x.scalar(0, elt), quotient])


@exports(red.NeOp)
def _ne(x: Exporter, op: red.NeOp) -> list[str]:
    return [x.node("Not", [x.node("Equal", [x.value(op.lhs), x.value(op.rhs)])])]


@exports(red.SelectOp)
def _select(x: Exporter, op: red.SelectOp) -> list[str]:
    names = [x.value(v) for v in op.operands]
    return [x.node("Where", names)]


@exports(red.CastOp)
def _cast(x: Exporter, op: red.CastOp) -> list[str]:
    source, target = element_of(op.input.type), element_of(op.result.type)
    if red.is_float_type(source) and red.is_integer_type(target) and target != i1:
        return [_saturating_cast(x, x.value(op.input), source, target)]
    return [x.node("Cast", [x.value(op.input)], to=onnx_elem_type(target))]


def _saturating_cast(x: Exporter, v: str, source: Attribute, target: Attribute) -> str:
    """red's float -> integer cast: toward zero, saturating at the type's bounds, NaN -> 0
    (ONNX Cast leaves out-of-range values undefined)."""
    info = np.iinfo(numpy_dtype(target))
    big = x.node("GreaterOrEqual", [v, x.scalar(float(info.max), source)])
    small = x.node("LessOrEqual", [v, x.scalar(float(info.min), source)])
    outside = x.node("Or", [x.node("Or", [big, small]), x.node("IsNaN", [v])])
    inside = x.node("Where", [outside, x.scalar(0.0, source), v])
    cast = x.node("Cast", [inside], to=onnx_elem_type(target))
    bounded = x.node("Where", [small, x.scalar(int(info.min), target), cast])
    return x.node("Where", [big, x.scalar(int(info.max), target), bounded])


_UNARY: dict[type[Operation], str] = {
    red.NegOp: "Neg",
    red.AbsOp: "Abs",
    red.ExpOp: "Exp",
    red.LogOp: "Log",
    red.SqrtOp: "Sqrt",
    red.TanhOp: "Tanh",
    red.SigmoidOp: "Sigmoid",
    red.ErfOp: "Erf",
    red.SinOp: "Sin",
    red.CosOp: "Cos",
}


@exports(*_UNARY)
def _unary(x: Exporter, op: red.UnaryElementwiseOp) -> list[str]:
    return [x.node(_UNARY[type(op)], [x.value(op.input)])]


@exports(red.ReluOp)
def _relu(x: Exporter, op: red.ReluOp) -> list[str]:
    """Relu on floats; max(x, 0) on integers (onnxruntime's Relu is float-only)."""
    elt = element_of(op.input.type)
    if red.is_float_type(elt):
        return [x.node("Relu", [x.value(op.input)])]
    return [x.node("Max", [x.value(op.input), x.scalar(0, elt)])]


@exports(red.RsqrtOp)
def _rsqrt(x: Exporter, op: red.RsqrtOp) -> list[str]:
    return [x.node("Reciprocal", [x.node("Sqrt", [x.value(op.input)])])]


@exports(red.SiluOp)
def _silu(x: Exporter, op: red.SiluOp) -> list[str]:
    v = x.value(op.input)
    return [x.node("Mul", [v, x.node("Sigmoid", [v])])]


@exports(red.GeluOp)
def _gelu(x: Exporter, op: red.GeluOp) -> list[str]:
    """Gelu from opset 20; before, its formula in the form onnxruntime fuses back."""
    v, elt = x.value(op.input), element_of(op.input.type)
    approximate = op.approximation
    if x.opset >= 20:
        return [x.node("Gelu", [v], approximate=approximate)]
    if approximate == "tanh":
        cube = x.node("Mul", [x.node("Mul", [v, v]), v])
        inner = x.node("Add", [v, x.node("Mul", [cube, x.scalar(0.044715, elt)])])
        t = x.node("Tanh", [x.node("Mul", [inner, x.scalar(math.sqrt(2.0 / math.pi), elt)])])
    else:
        t = x.node("Erf", [x.node("Div", [v, x.scalar(math.sqrt(2.0), elt)])])
    half = x.node("Mul", [v, x.node("Add", [t, x.scalar(1.0, elt)])])
    return [x.node("Mul", [half, x.scalar(0.5, elt)])]


# endregion Elementwise

# region Contraction and shapes


@exports(red.MatmulOp)
def _matmul(x: Exporter, op: red.MatmulOp) -> list[str]:
    return [x.node("MatMul", [x.value(op.lhs), x.value(op.rhs)])]


@exports(red.TransposeOp)
def _transpose(x: Exporter, op: red.TransposeOp) -> list[str]:
    return [x.node("Transpose", [x.value(op.input)], perm=list(op.perm))]


@exports(red.ReshapeOp)
def _reshape(x: Exporter, op: red.ReshapeOp) -> list[str]:
    shape = list(dims_of(op.result.type))
    return [x.node("Reshape", [x.value(op.input), x.ints(shape)])]


@exports(red.BroadcastToOp)
def _broadcast_to(x: Exporter, op: red.BroadcastToOp) -> list[str]:
    shape = list(dims_of(op.result.type))
    return [x.node("Expand", [x.value(op.input), x.ints(shape)])]


@exports(red.SliceOp)
def _slice(x: Exporter, op: red.SliceOp) -> list[str]:
    start, limit, stride = op.bounds
    axes = op.cut_axes()
    if not axes:
        return [x.value(op.input)]
    pick = [(start[a], limit[a], stride[a]) for a in axes]
    return [
        x.node(
            "Slice",
            [
                x.value(op.input),
                x.ints([p[0] for p in pick]),
                x.ints([p[1] for p in pick]),
                x.ints(axes),
                x.ints([p[2] for p in pick]),
            ],
        )
    ]


@exports(red.ConcatOp)
def _concat(x: Exporter, op: red.ConcatOp) -> list[str]:
    names = [x.value(v) for v in op.inputs]
    if len(names) == 1:
        return names
    return [x.node("Concat", names, axis=op.axis.value.data)]


@exports(red.GatherOp)
def _gather(x: Exporter, op: red.GatherOp) -> list[str]:
    indices = x.value(op.indices)
    if element_of(op.indices.type) not in (i64, i32):
        indices = x.cast(indices, element_of(op.indices.type), i64)
    return [x.node("Gather", [x.value(op.table), indices], axis=op.axis.value.data)]


# endregion Contraction and shapes

# region Dynamic slices


def _starts(x: Exporter, op: Operation, offsets: Any, dims: Any, sizes: Any, axes: Any) -> str:
    """The clamped start of each axis in `axes` as an int64 [len(axes)] value: a constant
    where the offset is, else min(max(offset, 0), dim - size) computed."""
    parts: list[str] = []
    for a in axes:
        offset: SSAValue = offsets[a]
        limit = dims[a] - sizes[a]
        if (k := known_int(offset)) is not None:
            parts.append(x.ints([min(max(k, 0), limit)]))
            continue
        v = x.cast(x.value(offset), element_of(offset.type), i64)
        if dims_of(offset.type) != (1,):
            v = x.node("Reshape", [v, x.ints([1])])
        parts.append(x.node("Min", [x.node("Max", [v, x.ints([0])]), x.ints([limit])]))
    return parts[0] if len(parts) == 1 else x.node("Concat", parts, axis=0)


@exports(red.DynamicSliceOp)
def _dynamic_slice(x: Exporter, op: red.DynamicSliceOp) -> list[str]:
    """Slice at the clamped offsets of the axes not taken whole."""
    dims, sizes = dims_of(op.input.type), op.size_list
    axes = [a for a in range(len(dims)) if sizes[a] != dims[a]]
    if not axes:
        return [x.value(op.input)]
    starts = _starts(x, op, op.offsets, dims, sizes, axes)
    ends = x.node("Add", [starts, x.ints([sizes[a] for a in axes])])
    return [x.node("Slice", [x.value(op.input), starts, ends, x.ints(axes)])]


@exports(red.DynamicUpdateSliceOp)
def _dynamic_update_slice(x: Exporter, op: red.DynamicUpdateSliceOp) -> list[str]:
    """ScatterND of the block: indices address the leading axes up to the last one the block
    does not cover (the axes after it are whole), each index the clamped start plus the
    position within the block."""
    dims, block = dims_of(op.input.type), dims_of(op.update.type)
    partial = [a for a in range(len(dims)) if block[a] != dims[a]]
    if not partial:
        return [x.value(op.update)]
    q = partial[-1] + 1
    starts = _starts(x, op, op.offsets, dims, block, range(q))
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in block[:q]], indexing="ij"), axis=-1)
    indices = x.node("Add", [x.constant(grid.astype(np.int64), "block_indices"), starts])
    return [x.node("ScatterND", [x.value(op.input), indices, x.value(op.update)])]


# endregion Dynamic slices

# region Reductions and normalisations

_REDUCE: dict[type[Operation], str] = {
    red.ReduceSumOp: "ReduceSum",
    red.ReduceMeanOp: "ReduceMean",
    red.ReduceMaxOp: "ReduceMax",
}


@exports(*_REDUCE)
def _reduce(x: Exporter, op: red.ReduceOp) -> list[str]:
    v = x.value(op.input)
    if not op.axis_list:
        return [v]
    return [x.reduce(_REDUCE[type(op)], v, op.axis_list, op.keeps_dims)]


@exports(red.ArgmaxOp)
def _argmax(x: Exporter, op: red.ArgmaxOp) -> list[str]:
    axis = op.axis.value.data
    return [x.node("ArgMax", [x.value(op.input)], axis=axis, keepdims=int(op.keeps_dims))]


@exports(red.SoftmaxOp)
def _softmax(x: Exporter, op: red.SoftmaxOp) -> list[str]:
    return [x.node("Softmax", [x.value(op.input)], axis=op.axis.value.data)]


@exports(red.LayerNormOp)
def _layer_norm(x: Exporter, op: red.LayerNormOp) -> list[str]:
    """LayerNormalization; the `mul` by a scale and `add` of a bias over the normalised axes
    that follow it (as the only user each) become its Scale and B inputs, else the scale is
    ones (red's layer_norm has no scale)."""
    dims, elt = dims_of(op.input.type), element_of(op.input.type)
    axis = op.axis.value.data
    scale, bias, last = _affine_after(x, op.result, dims[axis:])
    if scale is None:
        scale = x.constant(np.ones(dims[axis:], dtype=numpy_dtype(elt)), "ones")
    inputs = [x.value(op.input), scale, *([bias] if bias is not None else [])]
    eps = float(op.eps.value.data)
    name = x.node("LayerNormalization", inputs, axis=axis, epsilon=eps)
    if last is not op.result:
        x.bind(last, name)  # the absorbed mul (and add) are skipped
    return [name]


def _affine_after(
    x: Exporter, value: SSAValue, normalized: tuple[int, ...]
) -> tuple[str | None, str | None, SSAValue]:
    """(scale, bias, the value they produce) when `value` is only used by a red.mul by an
    already exported tensor of the normalised shape, itself only used by a red.add of one;
    the mul and add are marked skipped. (None, None, value) when there is no such scale."""
    found: list[str] = []
    last = value
    for cls in (red.MulOp, red.AddOp):
        uses = list(last.uses)
        if len(uses) != 1 or not isinstance(user := uses[0].operation, cls):
            break
        other = user.operands[1 - uses[0].index]
        if dims_of(other.type) != normalized or user.results[0].type != last.type:
            break
        if not x.has_value(other):
            break
        found.append(x.value(other))
        x.skip.add(user)
        last = user.results[0]
    if not found:
        return None, None, value
    return found[0], found[1] if len(found) > 1 else None, last


@exports(red.RmsNormOp)
def _rms_norm(x: Exporter, op: red.RmsNormOp) -> list[str]:
    """x / sqrt(mean(x^2) + eps), in the Pow -> ReduceMean -> Add -> Sqrt -> Div form that
    onnxruntime fuses into SimplifiedLayerNormalization."""
    v, elt = x.value(op.input), element_of(op.input.type)
    axes = op.normalized_axes()
    square = x.node("Pow", [v, x.scalar(2.0, elt)])
    mean = x.reduce("ReduceMean", square, axes, keepdims=True)
    root = x.node("Sqrt", [x.node("Add", [mean, x.scalar(op.eps.value.data, elt)])])
    return [x.node("Div", [v, root])]


# endregion Reductions and normalisations

# region Scalar arith

_ARITH_BINARY: dict[type[Operation], str] = {
    arith.AddiOp: "Add",
    arith.AddfOp: "Add",
    arith.SubiOp: "Sub",
    arith.SubfOp: "Sub",
    arith.MuliOp: "Mul",
    arith.MulfOp: "Mul",
    arith.DivSIOp: "Div",
    arith.DivfOp: "Div",
    arith.MaxSIOp: "Max",
    arith.MinSIOp: "Min",
    arith.MaximumfOp: "Max",
    arith.MinimumfOp: "Min",
    arith.AndIOp: "And",
    arith.OrIOp: "Or",
    arith.XOrIOp: "Xor",
}


@exports(*_ARITH_BINARY)
def _arith_binary(x: Exporter, op: Operation) -> list[str]:
    lhs, rhs = op.operands
    kind = _ARITH_BINARY[type(op)]
    if kind in ("And", "Or", "Xor") and element_of(op.results[0].type) != i1:
        raise x.error(f"'{op.name}' on '{op.results[0].type}' has no ONNX equivalent (i1 only)")
    return [x.node(kind, [x.value(lhs), x.value(rhs)])]


@exports(arith.RemSIOp)
def _remsi(x: Exporter, op: arith.RemSIOp) -> list[str]:
    """C remainder: the sign of the dividend (ONNX Mod with fmod=1)."""
    return [x.node("Mod", [x.value(op.lhs), x.value(op.rhs)], fmod=1)]


@exports(arith.NegfOp)
def _negf(x: Exporter, op: arith.NegfOp) -> list[str]:
    return [x.node("Neg", [x.value(op.operand)])]


_PREDICATES = {0: "eq", 1: "ne", 2: "lt", 3: "le", 4: "gt", 5: "ge"}
"""arith.cmpi's signed predicates (unsigned ones are not exported)."""
_CMPF = {1: "eq", 2: "gt", 3: "ge", 4: "lt", 5: "le", 6: "ne"}
"""arith.cmpf's ordered predicates."""
_COMPARE = {
    "eq": "Equal",
    "lt": "Less",
    "le": "LessOrEqual",
    "gt": "Greater",
    "ge": "GreaterOrEqual",
}


@exports(arith.CmpiOp, arith.CmpfOp)
def _cmp(x: Exporter, op: arith.CmpiOp | arith.CmpfOp) -> list[str]:
    table = _PREDICATES if isinstance(op, arith.CmpiOp) else _CMPF
    kind = table.get(op.predicate.value.data)
    if kind is None:
        raise x.error(f"'{op.name}' predicate {op.predicate.value.data} has no ONNX equivalent")
    operands = [x.value(op.lhs), x.value(op.rhs)]
    if kind == "ne":
        return [x.node("Not", [x.node("Equal", operands)])]
    return [x.node(_COMPARE[kind], operands)]


@exports(arith.SelectOp)
def _arith_select(x: Exporter, op: arith.SelectOp) -> list[str]:
    return [x.node("Where", [x.value(v) for v in op.operands])]


@exports(
    arith.IndexCastOp,
    arith.ExtSIOp,
    arith.TruncIOp,
    arith.SIToFPOp,
    arith.FPToSIOp,
    arith.ExtFOp,
    arith.TruncFOp,
)
def _arith_cast(x: Exporter, op: Operation) -> list[str]:
    (source,) = op.operands
    return [x.cast(x.value(source), element_of(source.type), element_of(op.results[0].type))]


# endregion Scalar arith
