"""arith -> llvm: constants, integer and float arithmetic, compares, select and casts
(index is i64)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.dialects import arith, llvm
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, IntegerType, i64
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
    arith.DivSIOp: llvm.SDivOp,
    arith.RemSIOp: llvm.SRemOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
}


@lowers(*_BINARY)
def _binary(conv: FunctionConverter, op: Operation) -> None:
    """The llvm instruction of the same name (addf -> fadd, divsi -> sdiv, ...)."""
    lhs, rhs = conv.get(op.operands[0]), conv.get(op.operands[1])
    conv.set(op.results[0], conv.emit(_BINARY[type(op)](lhs, rhs)))


@lowers(arith.NegfOp)
def _negf(conv: FunctionConverter, op: arith.NegfOp) -> None:
    conv.set(op.result, conv.emit(llvm.FNegOp(conv.get(op.operand))))


@lowers(arith.MaximumfOp, arith.MinimumfOp)
def _min_max(conv: FunctionConverter, op: arith.MaximumfOp | arith.MinimumfOp) -> None:
    """IEEE maximum/minimum as numpy computes them: `a >= b || isnan(a) ? a : b` (NaN
    propagates), as compares and a select: clang-16's x86 backend cannot select
    llvm.maximum ("Cannot select: fmaximum"), and LLVM 20 miscompiles vectorized
    llvm.maxnum reductions."""
    a, b = conv.get(op.lhs), conv.get(op.rhs)
    ordered = FCMP["oge"] if isinstance(op, arith.MaximumfOp) else FCMP["ole"]
    keep = conv.emit(llvm.FCmpOp(a, b, IntegerAttr(ordered, i64)))
    nan = conv.emit(llvm.FCmpOp(a, a, IntegerAttr(FCMP["uno"], i64)))
    conv.set(op.result, conv.emit(llvm.SelectOp(conv.emit(llvm.OrOp(keep, nan)), a, b)))


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
