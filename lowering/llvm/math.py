"""math -> llvm: LLVM intrinsics called by their type-mangled names, libm for tanh and erf
of f64, and for f32 (and f16, through f32) branch-free exp, tanh and erf in llvm
arithmetic, so LLVM's loop vectorizer can vectorize loops that use them (a call to libm's
expf/tanhf/erff stays scalar).

exp is Cephes' expf: round x·log2(e) to n with the 1.5·2^23 trick, reduce by n·ln 2 in two
parts, a degree-6 polynomial, and 2^n built in the exponent bits in two halves so neither
over- nor underflows; max relative error 8.2e-8 on [-87.33, 88.72] (measured against numpy
in double precision). tanh and erf are the rational approximations Eigen uses
(generic_fast_tanh_float, generic_fast_erf_float); max relative error 3.9e-7 and 4.0e-7.
NaN propagates; exp(+inf) = inf, exp(-inf) = 0 (results below FLT_MIN flush to 0)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import llvm
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import (
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    VectorType,
    f32,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue

from red.dialects.diagnostics import DiagnosticError
from red.lowering.llvm.rules import FCMP, lowers

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter

# region rules

# Called by their type-mangled names (`llvm.sqrt.f32`): xDSL's backend declares llvm.FSqrtOp
# and friends unmangled (`llvm.sqrt`), so two element types in one module clash, and
# llvm.FAbsOp cannot even be built without a result type.
_INTRINSICS: dict[type[Operation], str] = {
    mathd.LogOp: "log",
    mathd.SqrtOp: "sqrt",
    mathd.SinOp: "sin",
    mathd.CosOp: "cos",
    mathd.AbsFOp: "fabs",
    mathd.PowFOp: "pow",
}


@lowers(*_INTRINSICS)
def _intrinsic(conv: FunctionConverter, op: Operation) -> None:
    """The LLVM intrinsic of the same function (`llvm.sqrt.f32`, `llvm.pow.v8f64`, ...)."""
    args = [conv.get(v) for v in op.operands]
    result = op.results[0]
    conv.set(result, conv.intrinsic(_INTRINSICS[type(op)], args, result.type))


@lowers(mathd.ExpOp)
def _exp(conv: FunctionConverter, op: mathd.ExpOp) -> None:
    """f32 and f16: the polynomial (vectorizable); otherwise `llvm.exp`."""
    x, typ = conv.get(op.operand), op.result.type
    if isinstance(typ, Float32Type | Float16Type):
        conv.set(op.result, _approximate(conv, F32Math.exp, x, typ))
    else:
        conv.set(op.result, conv.intrinsic("exp", [x], typ))


@lowers(mathd.TanhOp, mathd.ErfOp)
def _tanh_erf(conv: FunctionConverter, op: mathd.TanhOp | mathd.ErfOp) -> None:
    """f32 and f16: the rational approximation (vectorizable); f64: libm's tanh/erf."""
    x, typ = conv.get(op.operand), op.result.type
    tanh = isinstance(op, mathd.TanhOp)
    if isinstance(typ, Float32Type | Float16Type):
        conv.set(op.result, _approximate(conv, F32Math.tanh if tanh else F32Math.erf, x, typ))
    else:
        conv.set(op.result, _libm(conv, op, "tanh" if tanh else "erf", x, typ))


def _approximate(
    conv: FunctionConverter,
    fn: Callable[[F32Math, SSAValue], SSAValue],
    x: SSAValue,
    typ: Attribute,
) -> SSAValue:
    """`fn` computed in f32 (an f16 argument is extended, and the result truncated)."""
    narrow = not isinstance(typ, Float32Type)
    arg = conv.emit(llvm.FPExtOp(x, f32)) if narrow else x
    r = fn(F32Math(conv.emit), arg)
    return conv.emit(llvm.FPTruncOp(r, typ)) if narrow else r


def _libm(
    conv: FunctionConverter, op: Operation, base: str, x: SSAValue, typ: Attribute
) -> SSAValue:
    """A libm call (`tanh`, or `tanhf` computing in f32 for other float types)."""
    if isinstance(typ, VectorType):
        raise DiagnosticError.at(op, f"'{op.name}' op on '{typ}' is not supported")
    work = typ if isinstance(typ, Float32Type | Float64Type) else Float32Type()
    name = base + ("f" if isinstance(work, Float32Type) else "")
    conv.declare(name, [work], work)
    arg = x if work == typ else conv.emit(llvm.FPExtOp(x, work))
    r = conv.emit(llvm.CallOp(name, arg, return_type=work))
    return r if work == typ else conv.emit(llvm.FPTruncOp(r, typ))


# endregion rules

# region f32 approximations

EXP_POLY = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
            1.6666665459e-1, 5.0000001201e-1)  # fmt: skip
EXP_LO, EXP_HI = -87.3365478515625, 88.72283935546875
TANH_NUM = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
            5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
            4.89352455891786e-03)  # fmt: skip
TANH_DEN = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
TANH_CLAMP = 7.90531110763549805
ERF_NUM = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
           -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
           -1.60960333262415e-02)  # fmt: skip
ERF_DEN = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
           -7.37332916720468e-03, -1.42647390514189e-02)  # fmt: skip


class F32Math:
    """exp, tanh and erf of an f32 value as llvm ops, appended through `emit`."""

    def __init__(self, emit: Callable[[Operation], SSAValue]):
        self.emit = emit

    def c(self, value: float) -> SSAValue:
        return self.emit(llvm.ConstantOp(FloatAttr(value, f32), f32))

    def ci(self, value: int) -> SSAValue:
        return self.emit(llvm.ConstantOp(IntegerAttr(value, i32), i32))

    def mul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(llvm.FMulOp(a, b))

    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(llvm.FAddOp(a, b))

    def sub(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(llvm.FSubOp(a, b))

    def select_if(
        self, pred: str, x: SSAValue, bound: float, then: SSAValue, other: SSAValue | None = None
    ) -> SSAValue:
        """x `pred` bound ? then : other (default x; false for NaN, so NaN passes)."""
        cond = self.emit(llvm.FCmpOp(x, self.c(bound), IntegerAttr(FCMP[pred], i64)))
        return self.emit(llvm.SelectOp(cond, then, x if other is None else other))

    def clamp(self, x: SSAValue, lo: float, hi: float) -> SSAValue:
        x = self.select_if("olt", x, lo, self.c(lo))
        return self.select_if("ogt", x, hi, self.c(hi))

    def horner(self, x: SSAValue, coefficients: Sequence[float]) -> SSAValue:
        acc = self.c(coefficients[0])
        for k in coefficients[1:]:
            acc = self.add(self.mul(acc, x), self.c(k))
        return acc

    def pow2(self, n: SSAValue) -> SSAValue:
        """2^n for an i32 n in [-63, 64], built in the exponent bits."""
        bits = self.emit(llvm.ShlOp(self.emit(llvm.AddOp(n, self.ci(127))), self.ci(23)))
        return self.emit(llvm.BitcastOp(bits, f32))

    def exp(self, x: SSAValue) -> SSAValue:
        xc = self.clamp(x, EXP_LO, EXP_HI)
        magic = self.c(12582912.0)  # 1.5·2^23: adding it rounds to an integer
        t = self.add(self.mul(xc, self.c(1.44269504088896341)), magic)
        nf = self.sub(t, magic)
        n = self.emit(llvm.SubOp(self.emit(llvm.BitcastOp(t, i32)), self.ci(0x4B400000)))
        r = self.sub(
            self.sub(xc, self.mul(nf, self.c(0.693359375))), self.mul(nf, self.c(-2.12194440e-4))
        )
        y = self.add(self.add(self.mul(self.horner(r, EXP_POLY), self.mul(r, r)), r), self.c(1.0))
        half = self.emit(llvm.AShrOp(n, self.ci(1)))
        rest = self.emit(llvm.SubOp(n, half))
        res = self.mul(self.mul(y, self.pow2(half)), self.pow2(rest))
        res = self.select_if("olt", x, EXP_LO, self.c(0.0), res)
        return self.select_if("ogt", x, EXP_HI, self.c(float("inf")), res)

    def rational(
        self, x: SSAValue, clamp: float, num: Sequence[float], den: Sequence[float]
    ) -> SSAValue:
        """x·num(x²)/den(x²) on x clamped to [-clamp, clamp]."""
        xc = self.clamp(x, -clamp, clamp)
        x2 = self.mul(xc, xc)
        p = self.mul(self.horner(x2, num), xc)
        q = self.horner(x2, den)
        return self.emit(llvm.FDivOp(p, q))

    def tanh(self, x: SSAValue) -> SSAValue:
        return self.rational(x, TANH_CLAMP, TANH_NUM, TANH_DEN)

    def erf(self, x: SSAValue) -> SSAValue:
        return self.rational(x, 4.0, ERF_NUM, ERF_DEN)


# endregion f32 approximations
