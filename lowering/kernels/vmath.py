"""Vector exp, tanh and erf for the row kernels: the branch-free approximations of
red.lowering.llvm.math (Cephes expf, Eigen's rational tanh and erf), run unchanged
and replayed lane-wise on llvmlite vectors.

`F32Math` writes each approximation as a sequence of scalar llvm-dialect operations handed to
an `emit` callback; here `emit` translates each operation into the llvmlite instruction of the
same name on <lanes x float> / <lanes x i32> values (constants become splats), so both
lowerings share one definition of the math and its accuracy."""

from __future__ import annotations

from collections.abc import Callable

import llvmlite.ir as ir
from xdsl.dialects import llvm
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, IntegerType, f32
from xdsl.ir import Block, Operation, SSAValue

from red.lowering.kernels.irgen import F32, I1, I32, Gen, Value
from red.lowering.llvm.math import F32Math

# LLVM's fcmp predicate numbering (as the llvm dialect stores it) -> llvmlite's spelling.
_FCMP = {1: "==", 2: ">", 3: ">=", 4: "<", 5: "<=", 6: "!="}
_BINARY: dict[type[Operation], str] = {
    llvm.FAddOp: "fadd",
    llvm.FSubOp: "fsub",
    llvm.FMulOp: "fmul",
    llvm.FDivOp: "fdiv",
    llvm.AddOp: "add",
    llvm.SubOp: "sub",
    llvm.ShlOp: "shl",
    llvm.AShrOp: "ashr",
}


class VectorMath:
    """exp/tanh/erf of <lanes x float> values in the function `g` is building."""

    def __init__(self, g: Gen, lanes: int):
        self.g = g
        self.lanes = lanes
        self.values: dict[SSAValue, Value] = {}
        self.math = F32Math(self._emit)

    def exp(self, x: Value) -> Value:
        return self._run(self.math.exp, x)

    def tanh(self, x: Value) -> Value:
        return self._run(self.math.tanh, x)

    def erf(self, x: Value) -> Value:
        return self._run(self.math.erf, x)

    def _run(self, fn: Callable[[SSAValue], SSAValue], x: Value) -> Value:
        placeholder = Block(arg_types=[f32]).args[0]
        self.values = {placeholder: x}
        return self.values[fn(placeholder)]

    def _type(self, t: object) -> ir.Type:
        if t == f32:
            return ir.VectorType(F32, self.lanes)
        assert isinstance(t, IntegerType), f"vector math: no vector form of type {t}"
        return ir.VectorType(I1 if t.width.data == 1 else I32, self.lanes)

    def _emit(self, op: Operation) -> SSAValue:
        b = self.g.b
        args = [self.values[o] for o in op.operands]
        if isinstance(op, llvm.ConstantOp):
            value = op.value
            assert isinstance(value, FloatAttr | IntegerAttr)
            out: Value = ir.Constant(self._type(op.result.type), [value.value.data] * self.lanes)
        elif type(op) in _BINARY:
            out = getattr(b, _BINARY[type(op)])(*args)
        elif isinstance(op, llvm.FCmpOp):
            out = b.fcmp_ordered(_FCMP[op.predicate.value.data], *args)
        elif isinstance(op, llvm.SelectOp):
            out = b.select(*args)
        elif isinstance(op, llvm.BitcastOp):
            out = b.bitcast(args[0], self._type(op.result.type))
        else:
            # the kernels only build functions from the ops above: another is a bug here
            raise ValueError(f"vector math: no translation of '{op.name}'")
        result = op.results[0]
        self.values[result] = out
        return result
