"""Converters of the elementwise ONNX ops: red's own unary and binary ops, and the
activations, comparisons, logical ops and casts composed from them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from xdsl.dialects.builtin import f64

from red.dialects import red
from red.frontends.onnx.node import Node, OnnxEmitter, converts

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


@converts(*_UNARY)
def _unary(n: Node, e: OnnxEmitter) -> list[Any]:
    return [e.unary(_UNARY[n.op_type], n.required(0))]


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


@converts(*_BINARY)
def _binary(n: Node, e: OnnxEmitter) -> list[Any]:
    if n.opset < 7:  # limited broadcasting with `broadcast`/`axis` attributes
        if n.attr("broadcast", 0) or n.has_attr("axis"):
            raise n.unsupported(f"'{n.op_type}' before opset 7 with 'broadcast' is not supported")
    return [e.binary(_BINARY[n.op_type], n.required(0), n.required(1))]


@converts("Max", "Min", "Sum", "Mean")
def _variadic(n: Node, e: OnnxEmitter) -> list[Any]:
    cls = {"Max": red.MaxOp, "Min": red.MinOp, "Sum": red.AddOp, "Mean": red.AddOp}[n.op_type]
    xs = n.inputs()
    if not xs:
        raise n.error(f"'{n.op_type}' needs at least one input")
    acc: Any = xs[0]
    for x in xs[1:]:
        acc = e.binary(cls, acc, x)
    if n.op_type == "Mean" and len(xs) > 1:
        acc = e.div(acc, float(len(xs)))
    return [acc]


@converts("Pow")
def _pow(n: Node, e: OnnxEmitter) -> list[Any]:
    base, exponent = n.required(0), n.required(1)
    elt = e.elt(base)
    if red.is_float_type(elt):
        return [e.binary(red.PowOp, base, e.cast(exponent, elt))]
    # Integer powers: computed in f64, exact for results below 2**53.
    wide = e.binary(red.PowOp, e.cast(base, f64), e.cast(exponent, f64))
    return [e.cast(wide, elt)]


@converts("Reciprocal")
def _reciprocal(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.div(1.0, x)]


@converts("Not")
def _not(n: Node, e: OnnxEmitter) -> list[Any]:
    return [e.binary(red.EqOp, n.required(0), False)]


@converts("And", "Or", "Xor")
def _logical(n: Node, e: OnnxEmitter) -> list[Any]:
    a, b = n.required(0), n.required(1)
    if n.op_type == "And":
        return [e.select(a, b, False)]
    if n.op_type == "Or":
        return [e.select(a, True, b)]
    return [e.binary(red.NeOp, a, b)]


@converts("Where")
def _where(n: Node, e: OnnxEmitter) -> list[Any]:
    return [e.select(n.required(0), n.required(1), n.required(2))]


@converts("Cast")
def _cast(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    n.attr("saturate")  # only affects float8 targets, which are unsupported
    if n.attr("round_mode", "up") != "up":
        raise n.unsupported("'Cast' with a 'round_mode' is not supported")
    return [e.cast(x, n.element_type(n.attr("to")))]


@converts("CastLike")
def _cast_like(n: Node, e: OnnxEmitter) -> list[Any]:
    n.attr("saturate")
    if n.attr("round_mode", "up") != "up":
        raise n.unsupported("'CastLike' with a 'round_mode' is not supported")
    return [e.cast(n.required(0), e.elt(n.required(1)))]


@converts("Softplus")
def _softplus(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.unary(red.LogOp, e.add(e.unary(red.ExpOp, x), 1.0))]


def clip(e: OnnxEmitter, x: Any, lo: Any, hi: Any) -> Any:
    """min(max(x, lo), hi), either bound None for none."""
    if lo is not None:
        x = e.binary(red.MaxOp, x, lo)
    if hi is not None:
        x = e.binary(red.MinOp, x, hi)
    return x


@converts("Clip")
def _clip_op(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    if n.opset < 11:
        lo = n.attr("min")
        hi = n.attr("max")
        return [clip(e, x, None if lo is None else float(lo), None if hi is None else float(hi))]
    return [clip(e, x, n.input(1), n.input(2))]


@converts("HardSigmoid")
def _hard_sigmoid(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha, beta = n.attr("alpha", 0.2), n.attr("beta", 0.5)
    return [clip(e, e.add(e.mul(x, alpha), beta), 0.0, 1.0)]


@converts("HardSwish")
def _hard_swish(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.mul(x, clip(e, e.add(e.mul(x, 1.0 / 6.0), 0.5), 0.0, 1.0))]


@converts("LeakyRelu")
def _leaky_relu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 0.01)
    return [e.select(e.binary(red.LtOp, x, 0.0), e.mul(x, alpha), x)]


@converts("PRelu")
def _prelu(n: Node, e: OnnxEmitter) -> list[Any]:
    x, slope = n.required(0), n.required(1)
    return [e.select(e.binary(red.LtOp, x, 0.0), e.mul(x, slope), x)]


@converts("Elu")
def _elu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    neg = e.mul(e.sub(e.unary(red.ExpOp, x), 1.0), alpha)
    return [e.select(e.binary(red.LtOp, x, 0.0), neg, x)]


@converts("Selu")
def _selu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.67326319217681884765625)
    gamma = n.attr("gamma", 1.05070102214813232421875)
    neg = e.sub(e.mul(e.unary(red.ExpOp, x), alpha), alpha)
    return [e.mul(e.select(e.binary(red.LeOp, x, 0.0), neg, x), gamma)]


@converts("Celu")
def _celu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    neg = e.mul(e.sub(e.unary(red.ExpOp, e.div(x, alpha)), 1.0), alpha)
    return [e.add(e.binary(red.MaxOp, x, 0.0), e.binary(red.MinOp, neg, 0.0))]


@converts("ThresholdedRelu")
def _thresholded_relu(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    return [e.select(e.binary(red.GtOp, x, alpha), x, 0.0)]


@converts("Softsign")
def _softsign(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.div(x, e.add(e.unary(red.AbsOp, x), 1.0))]


@converts("Mish")
def _mish(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    softplus = e.unary(red.LogOp, e.add(e.unary(red.ExpOp, x), 1.0))
    return [e.mul(x, e.unary(red.TanhOp, softplus))]


@converts("Swish")
def _swish(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    alpha = n.attr("alpha", 1.0)
    if alpha == 1.0:
        return [e.unary(red.SiluOp, x)]
    return [e.mul(x, e.unary(red.SigmoidOp, e.mul(x, alpha)))]


@converts("Shrink")
def _shrink(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    lambd, bias = n.attr("lambd", 0.5), n.attr("bias", 0.0)
    if not red.is_float_type(e.elt(x)):
        raise n.unsupported("integer 'Shrink' is not supported")
    high = e.select(e.binary(red.GtOp, x, lambd), e.sub(x, bias), 0.0)
    return [e.select(e.binary(red.LtOp, x, -lambd), e.add(x, bias), high)]


@converts("Sign")
def _sign(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    positive = e.select(e.binary(red.GtOp, x, 0), e.scalar(1, x), e.scalar(0, x))
    return [e.select(e.binary(red.LtOp, x, 0), e.scalar(-1, x), positive)]


@converts("Tan")
def _tan(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.div(e.unary(red.SinOp, x), e.unary(red.CosOp, x))]


@converts("Sinh", "Cosh")
def _hyperbolic(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    pos, neg = e.unary(red.ExpOp, x), e.unary(red.ExpOp, e.unary(red.NegOp, x))
    combined = e.sub(pos, neg) if n.op_type == "Sinh" else e.add(pos, neg)
    return [e.mul(combined, 0.5)]


@converts("IsNaN")
def _isnan(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    return [e.binary(red.NeOp, x, x)]


@converts("IsInf")
def _isinf(n: Node, e: OnnxEmitter) -> list[Any]:
    x = n.required(0)
    pos, neg = n.attr("detect_positive", 1), n.attr("detect_negative", 1)
    checks = []
    if pos:
        checks.append(e.binary(red.EqOp, x, math.inf))
    if neg:
        checks.append(e.binary(red.EqOp, x, -math.inf))
    if not checks:
        return [np.zeros(e.shape(x), dtype=bool)]
    return [checks[0] if len(checks) == 1 else e.select(checks[0], True, checks[1])]


@converts("Gelu")
def _gelu(n: Node, e: OnnxEmitter) -> list[Any]:
    approximate = n.attr("approximate", "none")
    if approximate not in red.GELU_APPROXIMATIONS:
        raise n.unsupported(f"'Gelu' with approximate '{approximate}' is not supported")
    return [e.op(lambda v: red.GeluOp(v, approximate), n.required(0))]


@converts("Mod")
def _mod(n: Node, e: OnnxEmitter) -> list[Any]:
    """Integers: a - trunc(a / b) * b (fmod=1, C's sign), moved into b's sign when fmod=0."""
    a, b = n.required(0), n.required(1)
    fmod = n.attr("fmod", 0)
    if red.is_float_type(e.elt(a)):
        raise n.unsupported("floating-point 'Mod' is not supported")
    r = e.sub(a, e.mul(e.div(a, b), b))
    if fmod:
        return [r]
    signs_differ = e.binary(red.NeOp, e.binary(red.LtOp, r, 0), e.binary(red.LtOp, b, 0))
    fix = e.select(e.binary(red.NeOp, r, 0), signs_differ, False)
    return [e.select(fix, e.add(r, b), r)]
