"""Elementwise red ops: binary arithmetic and comparisons with numpy broadcasting, select,
cast, and the unary functions. Identities are declared per op (`IDENTITIES`, ...) and folded
by one shared `fold`, so `x*1`, `x/1`, `x+0`, `x-0` and `x**1` are one rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import StringAttr, TensorType, UnitAttr, i1
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    result_def,
    traits_def,
)
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.traits import Commutative, HasCanonicalizationPatternsTrait, Pure

from red.dialects.numpy_interop import splat_to_dense, splat_value
from red.dialects.red.base import (
    FASTMATH,
    RedOp,
    ShapeError,
    broadcast_shapes,
    canonicalization_patterns,
    element_type_of,
    fmt_shape,
    inferred,
    is_float_type,
    shape_of,
    shapes_compatible,
    tensor_type,
)

# region Identities


@dataclass(frozen=True)
class Identity:
    """A constant `c` with `x op c == x` (or `c op x == x` for `left`). `negative_zero`
    restricts a float zero to one sign (x + (-0) is x, x + (+0) turns -0 into +0);
    `exact=False` marks float rules that hold only under fast-math (integers always hold)."""

    value: float
    negative_zero: bool | None = None
    exact: bool = True
    left: bool = False


def is_splat_of(array: np.ndarray | None, value: float, negative_zero: bool | None = None) -> bool:
    """Whether every element of a constant equals `value` (for a float zero, of the sign
    `negative_zero` asks for, when it is not None)."""
    if array is None:
        return False
    first = splat_value(array)
    if first is None or first[0] != value:
        return False
    if value == 0 and negative_zero is not None and first.dtype.kind == "f":
        return bool(np.signbit(first[0])) == negative_zero
    return True


def _same_type(op: Operation, value: SSAValue) -> SSAValue | None:
    """`value` if it can stand for op's result (no broadcast needed), else None."""
    return value if value.type == op.results[0].type else None


def _holds(op: RedOp, exact: bool) -> bool:
    return exact or not is_float_type(element_type_of(op.results[0])) or op.fast_math


# endregion Identities

# region Binary


class BinaryElementwiseOp(RedOp):
    """Base of elementwise binary ops with numpy broadcasting."""

    SPLAT_PRESERVING: ClassVar[bool] = True

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    fastmath = opt_prop_def(UnitAttr, prop_name=FASTMATH)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$lhs `,` $rhs (`fastmath` $fastmath^)? attr-dict `:` type($lhs) `,` type($rhs) `->` "
        "type($result)"
    )

    FLOAT_ONLY: ClassVar[bool] = False
    IS_COMPARE: ClassVar[bool] = False
    IDENTITIES: ClassVar[tuple[Identity, ...]] = ()
    """Constants that leave the other operand unchanged."""
    ABSORBING: ClassVar[Identity | None] = None
    """A constant `c` with `x op c == c` (x * 0 = 0; inexact for floats: NaN * 0 is NaN)."""
    SELF: ClassVar[str | None] = None
    """`x op x`: "x" (max, min) or "zero" (x - x; inexact for floats: inf - inf is NaN)."""

    def __init__(
        self,
        lhs: SSAValue | Operation,
        rhs: SSAValue | Operation,
        result_type: Attribute | None = None,
        fast_math: bool = False,
    ):
        if result_type is None:
            lt, rt = SSAValue.get(lhs).type, SSAValue.get(rhs).type
            result_type = inferred(type(self), self.infer, lt, rt)
        props: dict[str, Attribute] = {FASTMATH: UnitAttr()} if fast_math else {}
        super().__init__(operands=[lhs, rhs], result_types=[result_type], properties=props)

    @classmethod
    def infer(cls, lhs: Attribute, rhs: Attribute) -> TensorType:
        shape = broadcast_shapes(shape_of(lhs), shape_of(rhs))
        if shape is None:
            raise ShapeError(
                f"operand shapes {fmt_shape(shape_of(lhs))} and {fmt_shape(shape_of(rhs))} "
                "do not broadcast"
            )
        return tensor_type(shape, i1 if cls.IS_COMPARE else element_type_of(lhs))

    def verify_operands(self) -> None:
        lt, rt = element_type_of(self.lhs), element_type_of(self.rhs)
        if lt != rt:
            raise ShapeError(f"operand element types differ: lhs has '{lt}', rhs has '{rt}'")
        if self.FLOAT_ONLY and not is_float_type(lt):
            raise ShapeError(f"expected a floating-point element type, got '{lt}'")
        if lt == i1 and not self.IS_COMPARE:
            raise ShapeError("expected a numeric element type, got 'i1' (use select for logic)")

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.lhs.type, self.rhs.type)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        lhs, rhs = constants
        for ident in self.IDENTITIES:
            x, c = (self.rhs, lhs) if ident.left else (self.lhs, rhs)
            if is_splat_of(c, ident.value, ident.negative_zero) and _holds(self, ident.exact):
                return _same_type(self, x)
        if self.ABSORBING is not None and _holds(self, self.ABSORBING.exact):
            if any(is_splat_of(c, self.ABSORBING.value) for c in (lhs, rhs)):
                return np.full((), self.ABSORBING.value, dtype=_dtype(self))
        if self.lhs is self.rhs and self.SELF == "x":
            return _same_type(self, self.lhs)
        if self.lhs is self.rhs and self.SELF == "zero" and _holds(self, False):
            return np.zeros((), dtype=_dtype(self))
        return None


def _dtype(op: Operation) -> np.dtype:
    from red.dialects.numpy_interop import numpy_dtype

    return numpy_dtype(element_type_of(op.results[0]))


def _both_sides(*identities: Identity) -> tuple[Identity, ...]:
    """The identities of a commutative op hold on either side."""
    flipped = (Identity(i.value, i.negative_zero, i.exact, not i.left) for i in identities)
    return (*identities, *flipped)


@irdl_op_definition
class AddOp(BinaryElementwiseOp):
    """Elementwise sum, e.g.
    %c = red.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>"""

    name = "red.add"
    traits = traits_def(Pure(), Commutative())
    IDENTITIES: ClassVar[tuple[Identity, ...]] = _both_sides(
        Identity(0.0, negative_zero=True), Identity(0.0, False, exact=False)
    )


@irdl_op_definition
class SubOp(BinaryElementwiseOp):
    """Elementwise difference, e.g.
    %c = red.sub %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.sub"
    IDENTITIES: ClassVar[tuple[Identity, ...]] = (Identity(0.0, negative_zero=False),)
    SELF: ClassVar[str | None] = "zero"


@irdl_op_definition
class MulOp(BinaryElementwiseOp):
    """Elementwise product, e.g.
    %c = red.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.mul"
    traits = traits_def(Pure(), Commutative())
    IDENTITIES: ClassVar[tuple[Identity, ...]] = _both_sides(Identity(1.0))
    ABSORBING: ClassVar[Identity | None] = Identity(0.0, exact=False)


@irdl_op_definition
class DivOp(BinaryElementwiseOp):
    """Elementwise quotient (integers truncate toward zero), e.g.
    %c = red.div %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>"""

    name = "red.div"
    IDENTITIES: ClassVar[tuple[Identity, ...]] = (Identity(1.0),)


@irdl_op_definition
class MaxOp(BinaryElementwiseOp):
    """Elementwise maximum (NaN propagates), e.g.
    %c = red.max %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.max"
    traits = traits_def(Pure(), Commutative())
    SELF: ClassVar[str | None] = "x"


@irdl_op_definition
class MinOp(BinaryElementwiseOp):
    """Elementwise minimum (NaN propagates), e.g.
    %c = red.min %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.min"
    traits = traits_def(Pure(), Commutative())
    SELF: ClassVar[str | None] = "x"


class _PowPatterns(HasCanonicalizationPatternsTrait):
    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[RewritePattern, ...]:
        return (PowByConstant(),)


@irdl_op_definition
class PowOp(BinaryElementwiseOp):
    """Elementwise power, e.g. %c = red.pow %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>"""

    name = "red.pow"
    traits = traits_def(Pure(), _PowPatterns())
    FLOAT_ONLY: ClassVar[bool] = True
    FLOPS_PER_ELEMENT: ClassVar[int] = 16
    IDENTITIES: ClassVar[tuple[Identity, ...]] = (Identity(1.0),)


class PowByConstant(RewritePattern):
    """pow(x, c) for a splat constant c as multiplies (GELU's x**3): c = 2, 3, 4 -> products
    of x, c = -1 -> 1 / x, c = 0.5 -> sqrt(x). None of them is bit-exact against the libm pow
    the interpreter calls (pow is not correctly rounded; x*x*x rounds twice), so they apply
    to an op with a fast-math flag, or everywhere with `inexact` (what
    `canonicalize{reassoc=true}` adds, and red-pipeline unless strict-fp); sqrt needs the
    flag itself (pow(-0, 0.5) is +0 and pow(-inf, 0.5) is +inf, sqrt gives -0 and NaN).
    A pow whose result broadcasts x (c has more elements) stays: the product would not."""

    def __init__(self, inexact: bool = False):
        self.inexact = inexact

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: PowOp, rewriter: PatternRewriter, /):
        from red.dialects.red.constants import ConstantOp, constant_value

        fast = op.fast_math
        if not (fast or self.inexact):
            return
        x = op.lhs
        exponent = constant_value(op.rhs)
        if exponent is None or x.type != op.result.type:
            return
        value = splat_value(exponent)
        if value is None:
            return
        c = float(value[0])
        if c in (2.0, 3.0, 4.0):
            square = MulOp(x, x, fast_math=fast)
            if c == 2.0:
                rewriter.replace(op, square)
            elif c == 3.0:
                rewriter.replace(op, [square, MulOp(x, square, fast_math=fast)])
            else:
                rewriter.replace(op, [square, MulOp(square, square, fast_math=fast)])
        elif c == -1.0:
            one = ConstantOp(splat_to_dense(1.0, TensorType(element_type_of(x), [])))
            rewriter.replace(op, [one, DivOp(one, x, op.result.type, fast_math=fast)])
        elif c == 0.5 and fast:
            rewriter.replace(op, SqrtOp(x))


class CompareOp(BinaryElementwiseOp):
    """Base of elementwise comparisons; the result is an i1 mask."""

    IS_COMPARE: ClassVar[bool] = True


@irdl_op_definition
class EqOp(CompareOp):
    """a == b, e.g. %m = red.eq %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi1>"""

    name = "red.eq"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class NeOp(CompareOp):
    """a != b, e.g. %m = red.ne %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi1>"""

    name = "red.ne"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class LtOp(CompareOp):
    """a < b, e.g. %m = red.lt %a, %b : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>"""

    name = "red.lt"


@irdl_op_definition
class LeOp(CompareOp):
    """a <= b, e.g. %m = red.le %a, %b : tensor<4x1xi64>, tensor<4xi64> -> tensor<4x4xi1>"""

    name = "red.le"


@irdl_op_definition
class GtOp(CompareOp):
    """a > b, e.g. %m = red.gt %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>"""

    name = "red.gt"


@irdl_op_definition
class GeOp(CompareOp):
    """a >= b, e.g. %m = red.ge %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>"""

    name = "red.ge"


# endregion Binary

# region Select and cast


@irdl_op_definition
class SelectOp(RedOp):
    """where(cond, a, b) with broadcasting, e.g.
    %r = red.select %m, %a, %b : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.select"

    condition = operand_def(TensorType)
    true_value = operand_def(TensorType)
    false_value = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$condition `,` $true_value `,` $false_value attr-dict `:` type($condition) `,` "
        "type($true_value) `,` type($false_value) `->` type($result)"
    )

    def __init__(
        self,
        condition: SSAValue | Operation,
        true_value: SSAValue | Operation,
        false_value: SSAValue | Operation,
        result_type: Attribute | None = None,
    ):
        operands = [condition, true_value, false_value]
        if result_type is None:
            types = [SSAValue.get(v).type for v in operands]
            result_type = inferred(type(self), self.infer, *types)
        super().__init__(operands=operands, result_types=[result_type])

    @staticmethod
    def infer(condition: Attribute, true_value: Attribute, false_value: Attribute) -> TensorType:
        shapes = [shape_of(t) for t in (condition, true_value, false_value)]
        shape = broadcast_shapes(*shapes)
        if shape is None:
            raise ShapeError(
                f"operand shapes {', '.join(fmt_shape(s) for s in shapes)} do not broadcast"
            )
        return tensor_type(shape, element_type_of(true_value))

    def verify_operands(self) -> None:
        if (ct := element_type_of(self.condition)) != i1:
            raise ShapeError(f"expected an 'i1' condition, got '{ct}'")
        tt, ft = element_type_of(self.true_value), element_type_of(self.false_value)
        if tt != ft:
            raise ShapeError(f"value element types differ: true has '{tt}', false has '{ft}'")

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(*(v.type for v in self.operands))]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """select(c, x, x) -> x; select(true, x, y) -> x; select(false, x, y) -> y"""
        if self.true_value is self.false_value:
            return _same_type(self, self.true_value)
        if is_splat_of(constants[0], True):
            return _same_type(self, self.true_value)
        if is_splat_of(constants[0], False):
            return _same_type(self, self.false_value)
        return None


@irdl_op_definition
class CastOp(RedOp):
    """Converts the element type (float -> int truncates toward zero; nonzero -> i1 true), e.g.
    %r = red.cast %x : tensor<4xi64> -> tensor<4xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.cast"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, element_type: Attribute):
        shape = shape_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[tensor_type(shape, element_type)])

    def verify_operands(self) -> None:
        if not shapes_compatible(shape_of(self.result), shape_of(self.input)):
            raise ShapeError(
                f"expected result shape {fmt_shape(shape_of(self.input))}, "
                f"got {fmt_shape(shape_of(self.result))}"
            )

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """cast to the input's own type -> the input"""
        return self.input if self.input.type == self.result.type else None


# endregion Select and cast

# region Unary


class UnaryElementwiseOp(RedOp):
    """Base of elementwise unary ops: the result has the operand's type."""

    SPLAT_PRESERVING: ClassVar[bool] = True

    T: ClassVar = VarConstraint("T", base(TensorType))

    input = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure(), canonicalization_patterns("red", "UnaryOfRepeatedConcat"))
    assembly_format = "$input attr-dict `:` type($input)"

    FLOAT_ONLY: ClassVar[bool] = True
    INVOLUTION: ClassVar[bool] = False
    """f(f(x)) == x (neg)."""

    def __init__(self, input: SSAValue | Operation):
        super().__init__(operands=[input], result_types=[SSAValue.get(input).type])

    def verify_operands(self) -> None:
        elt = element_type_of(self.input)
        if self.FLOAT_ONLY and not is_float_type(elt):
            raise ShapeError(f"expected a floating-point element type, got '{elt}'")
        if elt == i1:
            raise ShapeError("expected a numeric element type, got 'i1'")

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        inner = self.input.owner
        if self.INVOLUTION and type(inner) is type(self):
            assert isinstance(inner, UnaryElementwiseOp)
            return inner.input
        return None


@irdl_op_definition
class NegOp(UnaryElementwiseOp):
    """-x, e.g. %r = red.neg %x : tensor<4xf32>"""

    name = "red.neg"
    FLOAT_ONLY: ClassVar[bool] = False
    INVOLUTION: ClassVar[bool] = True


@irdl_op_definition
class AbsOp(UnaryElementwiseOp):
    """|x|, e.g. %r = red.abs %x : tensor<4xf32>"""

    name = "red.abs"
    FLOAT_ONLY: ClassVar[bool] = False


@irdl_op_definition
class ReluOp(UnaryElementwiseOp):
    """max(x, 0), e.g. %r = red.relu %x : tensor<4xf32>"""

    name = "red.relu"
    FLOAT_ONLY: ClassVar[bool] = False


@irdl_op_definition
class ExpOp(UnaryElementwiseOp):
    """e^x, e.g. %r = red.exp %x : tensor<4xf32>"""

    name = "red.exp"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class LogOp(UnaryElementwiseOp):
    """ln x, e.g. %r = red.log %x : tensor<4xf32>"""

    name = "red.log"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class SqrtOp(UnaryElementwiseOp):
    """sqrt x, e.g. %r = red.sqrt %x : tensor<4xf32>"""

    name = "red.sqrt"
    FLOPS_PER_ELEMENT: ClassVar[int] = 4


@irdl_op_definition
class RsqrtOp(UnaryElementwiseOp):
    """1 / sqrt x, e.g. %r = red.rsqrt %x : tensor<4xf32>"""

    name = "red.rsqrt"
    FLOPS_PER_ELEMENT: ClassVar[int] = 5


@irdl_op_definition
class TanhOp(UnaryElementwiseOp):
    """tanh x, e.g. %r = red.tanh %x : tensor<4xf32>"""

    name = "red.tanh"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class SigmoidOp(UnaryElementwiseOp):
    """1 / (1 + e^-x), e.g. %r = red.sigmoid %x : tensor<4xf32>"""

    name = "red.sigmoid"
    FLOPS_PER_ELEMENT: ClassVar[int] = 9


@irdl_op_definition
class SiluOp(UnaryElementwiseOp):
    """x * sigmoid(x), e.g. %r = red.silu %x : tensor<4xf32>"""

    name = "red.silu"
    FLOPS_PER_ELEMENT: ClassVar[int] = 10


@irdl_op_definition
class ErfOp(UnaryElementwiseOp):
    """The error function, e.g. %r = red.erf %x : tensor<4xf32>"""

    name = "red.erf"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class SinOp(UnaryElementwiseOp):
    """sin x, e.g. %r = red.sin %x : tensor<4xf32>"""

    name = "red.sin"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class CosOp(UnaryElementwiseOp):
    """cos x, e.g. %r = red.cos %x : tensor<4xf32>"""

    name = "red.cos"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


GELU_APPROXIMATIONS = ("none", "tanh")


@irdl_op_definition
class GeluOp(UnaryElementwiseOp):
    """x * Phi(x), exact (erf) or with torch's tanh approximation, e.g.
    %r = red.gelu %x approximate = "tanh" : tensor<4xf32>"""

    name = "red.gelu"

    approximate = opt_prop_def(StringAttr)

    assembly_format = "$input (`approximate` `=` $approximate^)? attr-dict `:` type($input)"
    FLOPS_PER_ELEMENT: ClassVar[int] = 12

    def __init__(self, input: SSAValue | Operation, approximate: str = "none"):
        props = {} if approximate == "none" else {"approximate": StringAttr(approximate)}
        RedOp.__init__(
            self, operands=[input], result_types=[SSAValue.get(input).type], properties=props
        )

    @property
    def approximation(self) -> str:
        return "none" if self.approximate is None else self.approximate.data

    def verify_operands(self) -> None:
        super().verify_operands()
        if self.approximation not in GELU_APPROXIMATIONS:
            raise ShapeError(
                f"expected approximate to be 'none' or 'tanh', got '{self.approximation}'"
            )


# endregion Unary
