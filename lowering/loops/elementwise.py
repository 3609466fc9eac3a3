"""Elementwise red ops as scalar code at one index (numpy semantics, computed in the op's
dtype): arithmetic and compares with broadcasting, unary math, select, cast and iota."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xdsl.dialects import arith
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import BFloat16Type, IntegerType, i1, i64
from xdsl.ir import Attribute, Operation, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.lowering.loops.emitter import Emitter, is_float
from red.lowering.loops.rules import lowers_elementwise

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

UnaryRule = Callable[[Emitter, Any, SSAValue, Attribute], SSAValue]
BinaryRule = Callable[[Emitter, Any, SSAValue, SSAValue, Attribute], SSAValue]


def lowerable(op: Operation) -> None:
    """A located error for an op on an element type LLVM IR gets no code for here (bf16:
    xDSL's LLVM translation has no type for it, which was an internal error)."""
    for v in (*op.operands, *op.results):
        if isinstance(elt := red.element_type_of(v), BFloat16Type):
            raise unsupported(op, elt)


def unary(*op_types: type[Operation]) -> Callable[[UnaryRule], UnaryRule]:
    """Register `rule(e, op, x, elt)`: the result for the input element `x` of type `elt`."""

    def register(rule: UnaryRule) -> UnaryRule:
        def at(bl: BlockLowering, op: Any, idx: list[SSAValue]) -> SSAValue:
            lowerable(op)
            return rule(bl.e, op, bl.load(op.input, idx), red.element_type_of(op.input))

        lowers_elementwise(*op_types)(at)
        return rule

    return register


def binary(*op_types: type[Operation]) -> Callable[[BinaryRule], BinaryRule]:
    """Register `rule(e, op, a, b, elt)`: the result for the (broadcast) operand elements."""

    def register(rule: BinaryRule) -> BinaryRule:
        def at(bl: BlockLowering, op: Any, idx: list[SSAValue]) -> SSAValue:
            lowerable(op)
            r = op.results[0]
            a, b = bl.operand(op.lhs, idx, r), bl.operand(op.rhs, idx, r)
            return rule(bl.e, op, a, b, red.element_type_of(op.lhs))

        lowers_elementwise(*op_types)(at)
        return rule

    return register


def unsupported(op: Operation, elt: Attribute) -> DiagnosticError:
    return DiagnosticError.at(op, f"'{op.name}' op on '{elt}' is not supported by the lowering")


# region binary

OpMaker = Callable[[SSAValue, SSAValue], Operation]
_ARITHMETIC: dict[type[Operation], tuple[OpMaker, OpMaker | None, OpMaker | None]] = {
    # red op: (float, signed integer, i1 (numpy's bool arithmetic is logical))
    red.AddOp: (arith.AddfOp, arith.AddiOp, arith.OrIOp),
    red.SubOp: (arith.SubfOp, arith.SubiOp, arith.XOrIOp),
    red.MulOp: (arith.MulfOp, arith.MuliOp, arith.AndIOp),
    red.DivOp: (arith.DivfOp, arith.DivSIOp, None),
    red.MaxOp: (arith.MaximumfOp, arith.MaxSIOp, arith.OrIOp),
    red.MinOp: (arith.MinimumfOp, arith.MinSIOp, arith.AndIOp),
    red.PowOp: (mathd.PowFOp, None, None),
}


@binary(*_ARITHMETIC)
def _arithmetic(e: Emitter, op: Operation, a: SSAValue, b: SSAValue, elt: Attribute) -> SSAValue:
    """One arith op: max/min are IEEE maximum/minimum (NaN propagates, -0 < +0), integer
    division is red's total division (both as arith's lowering to llvm makes them)."""
    as_float, as_int, as_bool = _ARITHMETIC[type(op)]
    make = as_float if is_float(elt) else as_bool if elt == i1 else as_int
    if make is None:  # the verifier rejects these; IR that was not verified may not
        raise unsupported(op, elt)
    return e.op(make(a, b))


_PREDICATES: dict[type[Operation], tuple[str, str]] = {
    # red op: (arith.cmpf predicate, arith.cmpi predicate); NaN compares unequal to all
    red.EqOp: ("oeq", "eq"),
    red.NeOp: ("une", "ne"),
    red.LtOp: ("olt", "slt"),
    red.LeOp: ("ole", "sle"),
    red.GtOp: ("ogt", "sgt"),
    red.GeOp: ("oge", "sge"),
}


@binary(*_PREDICATES)
def _compare(e: Emitter, op: Operation, a: SSAValue, b: SSAValue, elt: Attribute) -> SSAValue:
    """Ordered float compares (une for ne), signed integer compares; numpy orders
    False < True, so i1 compares unsigned (true is -1 signed)."""
    fp, ip = _PREDICATES[type(op)]
    if is_float(elt):
        return e.op(arith.CmpfOp(a, b, fp))
    if elt == i1 and ip[0] == "s":
        ip = "u" + ip[1:]
    return e.op(arith.CmpiOp(a, b, ip))


# endregion binary

# region unary

_MATH: dict[type[Operation], Callable[[SSAValue], Operation]] = {
    red.ExpOp: mathd.ExpOp,
    red.LogOp: mathd.LogOp,
    red.SqrtOp: mathd.SqrtOp,
    red.TanhOp: mathd.TanhOp,
    red.ErfOp: mathd.ErfOp,
    red.SinOp: mathd.SinOp,
    red.CosOp: mathd.CosOp,
}


@unary(*_MATH)
def _math(e: Emitter, op: Operation, x: SSAValue, elt: Attribute) -> SSAValue:
    """The math dialect function of the same name (floats only)."""
    if not is_float(elt):
        raise unsupported(op, elt)
    return e.op(_MATH[type(op)](x))


@unary(red.NegOp)
def _neg(e: Emitter, op: red.NegOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """-x; integers: 0 - x."""
    if is_float(elt):
        return e.op(arith.NegfOp(x))
    return e.op(arith.SubiOp(e.scalar(0, elt), x))


@unary(red.AbsOp)
def _abs(e: Emitter, op: red.AbsOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """|x|; integers: x < 0 ? 0 - x : x."""
    if is_float(elt):
        return e.op(mathd.AbsFOp(x))
    zero = e.scalar(0, elt)
    negative = e.op(arith.CmpiOp(x, zero, "slt"))
    return e.op(arith.SelectOp(negative, e.op(arith.SubiOp(zero, x)), x))


@unary(red.ReluOp)
def _relu(e: Emitter, op: red.ReluOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """max(x, 0) (NaN stays NaN)."""
    if is_float(elt):
        return e.op(arith.MaximumfOp(x, e.scalar(0.0, elt)))
    return e.op(arith.MaxSIOp(x, e.scalar(0, elt)))


def _float_only(rule: UnaryRule) -> UnaryRule:
    def checked(e: Emitter, op: Any, x: SSAValue, elt: Attribute) -> SSAValue:
        if not is_float(elt):
            raise unsupported(op, elt)
        return rule(e, op, x, elt)

    checked.__doc__ = rule.__doc__
    return checked


def sigmoid(e: Emitter, x: SSAValue, elt: Attribute) -> SSAValue:
    """1 / (1 + exp(-x))."""
    one = e.scalar(1.0, elt)
    exp = e.op(mathd.ExpOp(e.op(arith.NegfOp(x))))
    return e.op(arith.DivfOp(one, e.op(arith.AddfOp(one, exp))))


@unary(red.RsqrtOp)
@_float_only
def _rsqrt(e: Emitter, op: red.RsqrtOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """1 / sqrt(x)."""
    return e.op(arith.DivfOp(e.scalar(1.0, elt), e.op(mathd.SqrtOp(x))))


@unary(red.SigmoidOp)
@_float_only
def _sigmoid(e: Emitter, op: red.SigmoidOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """1 / (1 + exp(-x))."""
    return sigmoid(e, x, elt)


@unary(red.SiluOp)
@_float_only
def _silu(e: Emitter, op: red.SiluOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """x * sigmoid(x)."""
    return e.op(arith.MulfOp(x, sigmoid(e, x, elt)))


@unary(red.GeluOp)
@_float_only
def _gelu(e: Emitter, op: red.GeluOp, x: SSAValue, elt: Attribute) -> SSAValue:
    """0.5 x (1 + erf(x / sqrt 2)), or with torch's tanh approximation
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    half = e.scalar(0.5, elt)
    if op.approximation == "tanh":
        cube = e.op(arith.MulfOp(e.op(arith.MulfOp(x, x)), x))
        inner = e.op(arith.AddfOp(x, e.op(arith.MulfOp(e.scalar(0.044715, elt), cube))))
        scaled = e.op(arith.MulfOp(e.scalar(math.sqrt(2.0 / math.pi), elt), inner))
        t = e.op(mathd.TanhOp(scaled))
    else:
        t = e.op(mathd.ErfOp(e.op(arith.MulfOp(x, e.scalar(1.0 / math.sqrt(2.0), elt)))))
    half_x = e.op(arith.MulfOp(half, x))
    return e.op(arith.MulfOp(half_x, e.op(arith.AddfOp(e.scalar(1.0, elt), t))))


# endregion unary

# region select, cast, iota


@lowers_elementwise(red.SelectOp)
def _select(bl: BlockLowering, op: red.SelectOp, idx: list[SSAValue]) -> SSAValue:
    """condition ? true_value : false_value, all three broadcast."""
    lowerable(op)
    r = op.result
    c = bl.operand(op.condition, idx, r)
    t, f = bl.operand(op.true_value, idx, r), bl.operand(op.false_value, idx, r)
    return bl.e.op(arith.SelectOp(c, t, f))


@lowers_elementwise(red.CastOp)
def _cast(bl: BlockLowering, op: red.CastOp, idx: list[SSAValue]) -> SSAValue:
    """numpy's astype (see scalar_cast)."""
    lowerable(op)
    x = bl.load(op.input, idx)
    return scalar_cast(x, red.element_type_of(op.input), red.element_type_of(op.result), bl.e)


@lowers_elementwise(red.IotaOp)
def _iota(bl: BlockLowering, op: red.IotaOp, idx: list[SSAValue]) -> SSAValue:
    """The index along `dimension`, as the element type."""
    lowerable(op)
    i = bl.e.op(arith.IndexCastOp(idx[op.dimension.value.data], i64))
    return scalar_cast(i, i64, red.element_type_of(op.result), bl.e)


def scalar_cast(x: SSAValue, src: Attribute, dst: Attribute, e: Emitter) -> SSAValue:
    """numpy's astype: to bool is `!= 0`; from bool is 0 or 1; floats widen or round to
    nearest; float to integer truncates toward zero (saturating); integers sign-extend or
    truncate."""
    if src == dst:
        return x
    if dst == i1:
        zero = e.scalar(0, src)
        return e.op(arith.CmpfOp(x, zero, "une") if is_float(src) else arith.CmpiOp(x, zero, "ne"))
    if src == i1 and is_float(dst):
        return e.op(arith.SelectOp(x, e.scalar(1.0, dst), e.scalar(0.0, dst)))
    if is_float(src) and is_float(dst):
        wider = dst.bitwidth > src.bitwidth
        return e.op(arith.ExtFOp(x, dst) if wider else arith.TruncFOp(x, dst))
    if is_float(dst):
        return e.op(arith.SIToFPOp(x, dst))
    assert isinstance(dst, IntegerType)
    if src == i1:
        return e.op(arith.ExtUIOp(x, dst))
    if is_float(src):
        return e.op(arith.FPToSIOp(x, dst))
    assert isinstance(src, IntegerType)
    wider = dst.width.data > src.width.data
    return e.op(arith.ExtSIOp(x, dst) if wider else arith.TruncIOp(x, dst))


# endregion select, cast, iota
