"""arith -> llvm: constants, integer and float arithmetic, compares, select and casts
(index is i64)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.dialects import arith, llvm
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IntegerAttr, IntegerType, i64
from xdsl.ir import Attribute, Operation, SSAValue

from red.lowering.llvm.rules import FCMP, ICMP, convert_type, intrinsic_suffix, lowers

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter


@lowers(arith.ConstantOp)
def _constant(conv: FunctionConverter, op: arith.ConstantOp) -> None:
    """A scalar constant (an index constant becomes i64)."""
    typ = convert_type(op.result.type)
    value = op.value
    if isinstance(value, IntegerAttr):
        value = IntegerAttr(value.value.data, typ)  # type: ignore[arg-type]
    elif isinstance(value, FloatAttr):
        value = FloatAttr(value.value.data, typ)  # type: ignore[arg-type]
    conv.set(op.result, conv.emit(llvm.ConstantOp(value, typ)))


_BINARY: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
    arith.AddiOp: llvm.AddOp,
    arith.SubiOp: llvm.SubOp,
    arith.MuliOp: llvm.MulOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
}


@lowers(*_BINARY)
def _binary(conv: FunctionConverter, op: Operation) -> None:
    """The llvm instruction of the same name (addf -> fadd, divsi -> sdiv, ...)."""
    lhs, rhs = conv.get(op.operands[0]), conv.get(op.operands[1])
    conv.set(op.results[0], conv.emit(_BINARY[type(op)](lhs, rhs)))


@lowers(arith.DivSIOp, arith.RemSIOp)
def _divsi_remsi(conv: FunctionConverter, op: arith.DivSIOp | arith.RemSIOp) -> None:
    """red's total signed division (DESIGN.md, README "Run-time semantics"): x / 0 = 0 and
    MIN / -1 = MIN (wrapping), x % 0 = 0 and MIN % -1 = 0, where sdiv and srem trap on x86
    and are undefined to LLVM (which folds x / x to 1). The machine divides by
    `y == 0 || y == -1 ? 1 : y` (x % 1 = 0 is then already right); the quotient is
    `y == 0 ? 0 : y == -1 ? 0 - x : x / y'`. Selects, not branches, so loops still
    vectorize; a constant divisor other than 0 and -1 needs no guard."""
    x, y = conv.get(op.lhs), conv.get(op.rhs)
    divide = llvm.SDivOp if isinstance(op, arith.DivSIOp) else llvm.SRemOp
    divisor = op.rhs.owner
    if isinstance(divisor, arith.ConstantOp) and isinstance(divisor.value, IntegerAttr):
        if divisor.value.value.data not in (0, -1):
            conv.set(op.result, conv.emit(divide(x, y)))
            return
    typ = convert_type(op.result.type)
    assert isinstance(typ, IntegerType)
    eq = IntegerAttr(ICMP["eq"], i64)
    zero, one, minus_one = (conv.const_int(v, typ) for v in (0, 1, -1))
    by_zero = conv.emit(llvm.ICmpOp(y, zero, eq))
    by_minus_one = conv.emit(llvm.ICmpOp(y, minus_one, eq))
    special = conv.emit(llvm.OrOp(by_zero, by_minus_one))
    result = conv.emit(divide(x, conv.emit(llvm.SelectOp(special, one, y))))
    if isinstance(op, arith.DivSIOp):
        negated = conv.emit(llvm.SubOp(zero, x))
        result = conv.emit(llvm.SelectOp(by_minus_one, negated, result))
        result = conv.emit(llvm.SelectOp(by_zero, zero, result))
    conv.set(op.result, result)


@lowers(arith.NegfOp)
def _negf(conv: FunctionConverter, op: arith.NegfOp) -> None:
    conv.set(op.result, conv.emit(llvm.FNegOp(conv.get(op.operand))))


@lowers(arith.MaximumfOp, arith.MinimumfOp)
def _min_max(conv: FunctionConverter, op: arith.MaximumfOp | arith.MinimumfOp) -> None:
    """IEEE 754-2019 maximum/minimum (as the interpreter's ieee_max/ieee_min): NaN
    propagates from either side and -0 < +0, whatever the operand order:
    `a > b || isnan(a) ? a : a == b ? tie : b` (`<` for min), where the tie is the bits of
    a AND b (OR for min): the same value for equal non-zeros, +0 (-0) for zeros of two
    signs. The tie's select comes first, off the path through the compare (a reduce_max
    carries its accumulator through both). Compares, bit operations and selects: clang-16's
    x86 backend cannot select llvm.maximum ("Cannot select: fmaximum"), and LLVM 20
    miscompiles vectorized llvm.maxnum reductions."""
    a, b = conv.get(op.lhs), conv.get(op.rhs)
    is_max = isinstance(op, arith.MaximumfOp)
    typ = op.result.type
    assert isinstance(typ, AnyFloat)
    bits = IntegerType(typ.bitwidth)
    oeq = llvm.FCMP_INDEX_BY_FLAG[llvm.FCmpPredicateFlag.OEQ]
    equal = conv.emit(llvm.FCmpOp(a, b, IntegerAttr(oeq, i64)))
    a_bits, b_bits = (conv.emit(llvm.BitcastOp(v, bits)) for v in (a, b))
    merge = llvm.AndOp if is_max else llvm.OrOp
    tie = conv.emit(llvm.BitcastOp(conv.emit(merge(a_bits, b_bits)), typ))
    otherwise = conv.emit(llvm.SelectOp(equal, tie, b))
    larger = conv.emit(llvm.FCmpOp(a, b, IntegerAttr(FCMP["ogt" if is_max else "olt"], i64)))
    nan = conv.emit(llvm.FCmpOp(a, a, IntegerAttr(FCMP["uno"], i64)))
    keep = conv.emit(llvm.OrOp(larger, nan))
    conv.set(op.result, conv.emit(llvm.SelectOp(keep, a, otherwise)))


@lowers(arith.MaxnumfOp, arith.MinnumfOp)
def _min_max_num(conv: FunctionConverter, op: arith.MaxnumfOp | arith.MinnumfOp) -> None:
    """llvm.maxnum / llvm.minnum (a NaN operand gives the other one)."""
    kind = "maxnum" if isinstance(op, arith.MaxnumfOp) else "minnum"
    args = [conv.get(op.lhs), conv.get(op.rhs)]
    conv.set(op.result, conv.intrinsic(kind, args, op.result.type))


@lowers(arith.MaxSIOp, arith.MinSIOp)
def _min_max_si(conv: FunctionConverter, op: arith.MaxSIOp | arith.MinSIOp) -> None:
    """Signed max/min as icmp and select."""
    pred = ICMP["sgt"] if isinstance(op, arith.MaxSIOp) else ICMP["slt"]
    a, b = conv.get(op.lhs), conv.get(op.rhs)
    c = conv.emit(llvm.ICmpOp(a, b, IntegerAttr(pred, i64)))
    conv.set(op.result, conv.emit(llvm.SelectOp(c, a, b)))


@lowers(arith.CmpfOp)
def _cmpf(conv: FunctionConverter, op: arith.CmpfOp) -> None:
    """llvm.fcmp (same predicate numbering)."""
    pred = IntegerAttr(op.predicate.value.data, i64)
    conv.set(op.result, conv.emit(llvm.FCmpOp(conv.get(op.lhs), conv.get(op.rhs), pred)))


@lowers(arith.CmpiOp)
def _cmpi(conv: FunctionConverter, op: arith.CmpiOp) -> None:
    """llvm.icmp (same predicate numbering)."""
    pred = IntegerAttr(op.predicate.value.data, i64)
    conv.set(op.result, conv.emit(llvm.ICmpOp(conv.get(op.lhs), conv.get(op.rhs), pred)))


@lowers(arith.SelectOp)
def _select(conv: FunctionConverter, op: arith.SelectOp) -> None:
    cond, lhs, rhs = conv.get(op.cond), conv.get(op.lhs), conv.get(op.rhs)
    conv.set(op.result, conv.emit(llvm.SelectOp(cond, lhs, rhs)))


# region casts


@lowers(arith.IndexCastOp, arith.ExtSIOp, arith.TruncIOp)
def _signed_resize(
    conv: FunctionConverter, op: arith.IndexCastOp | arith.ExtSIOp | arith.TruncIOp
) -> None:
    """sext or trunc (nothing between equal widths; index is i64)."""
    result = int_resize(conv, conv.get(op.input), convert_type(op.result.type), signed=True)
    conv.set(op.result, result)


@lowers(arith.ExtUIOp)
def _extui(conv: FunctionConverter, op: arith.ExtUIOp) -> None:
    """zext."""
    conv.set(op.result, int_resize(conv, conv.get(op.input), op.result.type, signed=False))


def int_resize(conv: FunctionConverter, v: SSAValue, dst: Attribute, signed: bool) -> SSAValue:
    src = v.type
    assert isinstance(src, IntegerType)
    assert isinstance(dst, IntegerType)
    sw, dw = src.width.data, dst.width.data
    if sw == dw:
        return v
    if dw < sw:
        return conv.emit(llvm.TruncOp(v, dst))
    return conv.emit(llvm.SExtOp(v, dst) if signed else llvm.ZExtOp(v, dst))


@lowers(arith.SIToFPOp)
def _sitofp(conv: FunctionConverter, op: arith.SIToFPOp) -> None:
    conv.set(op.result, conv.emit(llvm.SIToFPOp(conv.get(op.input), op.result.type)))


@lowers(arith.FPToSIOp)
def _fptosi(conv: FunctionConverter, op: arith.FPToSIOp) -> None:
    """llvm.fptosi.sat: out-of-range values saturate and NaN gives 0 (plain fptosi would
    be poison there; xDSL's backend has no fptosi either)."""
    src, dst = op.input.type, op.result.type
    name = f"llvm.fptosi.sat.{intrinsic_suffix(dst)}.{intrinsic_suffix(src)}"
    conv.set(op.result, conv.emit(llvm.CallIntrinsicOp(name, [conv.get(op.input)], [dst])))


@lowers(arith.ExtFOp)
def _extf(conv: FunctionConverter, op: arith.ExtFOp) -> None:
    conv.set(op.result, conv.emit(llvm.FPExtOp(conv.get(op.input), op.result.type)))


@lowers(arith.TruncFOp)
def _truncf(conv: FunctionConverter, op: arith.TruncFOp) -> None:
    conv.set(op.result, conv.emit(llvm.FPTruncOp(conv.get(op.input), op.result.type)))


# endregion casts
