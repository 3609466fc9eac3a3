"""The red tensor dialect: value-semantics tensor ops with numpy semantics (DESIGN.md §2)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    I64,
    AnyFloat,
    ArrayAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    UnitAttr,
    f64,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    Commutative,
    ConstantLike,
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    ReturnLike,
)
from xdsl.utils.exceptions import VerifyException

DYNAMIC = DYNAMIC_INDEX
"""xDSL's encoding of a `?` dimension in `get_shape()` (-2**63 in 0.74, not -1)."""

INVARIANT_ATTR = "red.invariant"
"""Unit argument attribute: the argument does not change between calls (weights)."""


# region Helpers


def op_error(op: Operation, message: str) -> VerifyException:
    """A verifier error prefixed with the op name, MLIR style: `'red.matmul' op ...`."""
    return VerifyException(f"'{op.name}' op {message}")


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    typ = value.type if isinstance(value, SSAValue) else value
    assert isinstance(typ, TensorType), f"expected a tensor type, got {typ}"
    return tuple(typ.get_shape())


def element_type_of(value: SSAValue | Attribute) -> Attribute:
    typ = value.type if isinstance(value, SSAValue) else value
    assert isinstance(typ, TensorType)
    return typ.get_element_type()


def fmt_shape(shape: Sequence[int]) -> str:
    return "x".join("?" if d == DYNAMIC else str(d) for d in shape) if shape else "scalar"


def fmt_type(typ: Attribute) -> str:
    return str(typ)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...] | None:
    """numpy broadcasting of static shapes (a `?` is compatible with anything); None if
    the shapes do not broadcast."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for i in range(rank):
        dims = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0}
        dims.discard(1)
        static = dims - {DYNAMIC}
        if len(static) > 1:
            return None
        if static:
            out.append(static.pop())
        elif DYNAMIC in dims:
            out.append(DYNAMIC)
        else:
            out.append(1)
    return tuple(out)


def shapes_compatible(actual: Sequence[int], expected: Sequence[int]) -> bool:
    """Equal ranks and equal dims, where a `?` on either side matches any dim."""
    return len(actual) == len(expected) and all(
        a == e or DYNAMIC in (a, e) for a, e in zip(actual, expected)
    )


def is_float_type(typ: Attribute) -> bool:
    return isinstance(typ, AnyFloat)


def is_integer_type(typ: Attribute) -> bool:
    return isinstance(typ, IntegerType | IndexType)


def num_elements(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _tensor(shape: Sequence[int], element_type: Attribute) -> TensorType:
    return TensorType(element_type, list(shape))


def _check_axis(op: Operation, axis: int, rank: int, what: str = "axis") -> None:
    if not 0 <= axis < rank:
        raise op_error(
            op, f"{what} {axis} is out of range for rank {rank} (expected 0 <= {what} < {rank})"
        )


def _check_result_type(
    op: Operation, result: SSAValue, shape: Sequence[int], elt: Attribute
) -> None:
    expected = _tensor(shape, elt)
    actual = result.type
    assert isinstance(actual, TensorType)
    if actual.get_element_type() != elt or not shapes_compatible(shape_of(actual), shape):
        raise op_error(op, f"expected result type '{fmt_type(expected)}', got '{fmt_type(actual)}'")


# endregion Helpers

# region Constants


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A tensor constant (dense elements, splat or a dense resource blob), e.g.
    %c = red.constant dense<[1.0, 2.0]> : tensor<2xf32>"""

    name = "red.constant"

    value = prop_def(base(DenseIntOrFPElementsAttr) | base(DenseResourceAttr))
    result = result_def(TensorType)

    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: DenseIntOrFPElementsAttr | DenseResourceAttr):
        super().__init__(properties={"value": value}, result_types=[value.get_type()])

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        pos = parser.pos
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr | DenseResourceAttr):
            parser.raise_error("expected a dense elements attribute", pos, parser.pos)
        attrs = parser.parse_optional_attr_dict()
        op = cls(value)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)

    def verify_(self) -> None:
        if self.value.get_type() != self.result.type:
            raise op_error(
                self,
                f"value type '{self.value.get_type()}' differs from result type "
                f"'{self.result.type}'",
            )


@irdl_op_definition
class IotaOp(IRDLOperation):
    """Counts 0, 1, 2, ... along one dimension, broadcast over the others, e.g.
    %i = red.iota dim = 1 : tensor<4x8xi64>"""

    name = "red.iota"

    dimension = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "`dim` `=` $dimension attr-dict `:` type($result)"

    def __init__(self, result_type: TensorType, dimension: int):
        super().__init__(
            properties={"dimension": IntegerAttr(dimension, i64)}, result_types=[result_type]
        )

    def verify_(self) -> None:
        shape = shape_of(self.result)
        _check_axis(self, self.dimension.value.data, len(shape), "dimension")


# endregion Constants

# region Elementwise


class BinaryElementwiseOp(IRDLOperation):
    """Base of elementwise binary ops with numpy broadcasting."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"

    FLOAT_ONLY: ClassVar[bool] = False
    IS_COMPARE: ClassVar[bool] = False

    def __init__(
        self,
        lhs: SSAValue | Operation,
        rhs: SSAValue | Operation,
        result_type: Attribute | None = None,
    ):
        if result_type is None:
            lhs_v, rhs_v = SSAValue.get(lhs), SSAValue.get(rhs)
            shape = broadcast_shapes(shape_of(lhs_v), shape_of(rhs_v))
            if shape is None:
                raise VerifyException(
                    f"'{self.name}' op operand shapes {fmt_shape(shape_of(lhs_v))} and "
                    f"{fmt_shape(shape_of(rhs_v))} do not broadcast"
                )
            elt = i1 if self.IS_COMPARE else element_type_of(lhs_v)
            result_type = _tensor(shape, elt)
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    def verify_(self) -> None:
        lt, rt = element_type_of(self.lhs), element_type_of(self.rhs)
        if lt != rt:
            raise op_error(self, f"operand element types differ: lhs has '{lt}', rhs has '{rt}'")
        if self.FLOAT_ONLY and not is_float_type(lt):
            raise op_error(self, f"expected a floating-point element type, got '{lt}'")
        if lt == i1 and not self.IS_COMPARE:
            raise op_error(self, "expected a numeric element type, got 'i1' (use select for logic)")
        shape = broadcast_shapes(shape_of(self.lhs), shape_of(self.rhs))
        if shape is None:
            raise op_error(
                self,
                f"operand shapes {fmt_shape(shape_of(self.lhs))} and "
                f"{fmt_shape(shape_of(self.rhs))} do not broadcast",
            )
        _check_result_type(self, self.result, shape, i1 if self.IS_COMPARE else lt)


@irdl_op_definition
class AddOp(BinaryElementwiseOp):
    """Elementwise sum, e.g.
    %c = red.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>"""

    name = "red.add"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class SubOp(BinaryElementwiseOp):
    """Elementwise difference, e.g.
    %c = red.sub %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.sub"


@irdl_op_definition
class MulOp(BinaryElementwiseOp):
    """Elementwise product, e.g.
    %c = red.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.mul"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class DivOp(BinaryElementwiseOp):
    """Elementwise quotient (integers truncate toward zero), e.g.
    %c = red.div %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>"""

    name = "red.div"


@irdl_op_definition
class MaxOp(BinaryElementwiseOp):
    """Elementwise maximum (NaN propagates), e.g.
    %c = red.max %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.max"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class MinOp(BinaryElementwiseOp):
    """Elementwise minimum (NaN propagates), e.g.
    %c = red.min %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"""

    name = "red.min"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class PowOp(BinaryElementwiseOp):
    """Elementwise power, e.g. %c = red.pow %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>"""

    name = "red.pow"
    FLOAT_ONLY: ClassVar[bool] = True


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


@irdl_op_definition
class SelectOp(IRDLOperation):
    """where(cond, a, b) with broadcasting, e.g.
    %r = red.select %m, %a, %b : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>"""

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
        if result_type is None:
            shapes = [shape_of(SSAValue.get(v)) for v in (condition, true_value, false_value)]
            shape = broadcast_shapes(*shapes)
            if shape is None:
                raise VerifyException(f"'{self.name}' op operand shapes do not broadcast")
            result_type = _tensor(shape, element_type_of(SSAValue.get(true_value)))
        super().__init__(operands=[condition, true_value, false_value], result_types=[result_type])

    def verify_(self) -> None:
        if (ct := element_type_of(self.condition)) != i1:
            raise op_error(self, f"expected an 'i1' condition, got '{ct}'")
        tt, ft = element_type_of(self.true_value), element_type_of(self.false_value)
        if tt != ft:
            raise op_error(self, f"value element types differ: true has '{tt}', false has '{ft}'")
        shapes = [shape_of(v) for v in (self.condition, self.true_value, self.false_value)]
        shape = broadcast_shapes(*shapes)
        if shape is None:
            raise op_error(
                self, f"operand shapes {', '.join(fmt_shape(s) for s in shapes)} do not broadcast"
            )
        _check_result_type(self, self.result, shape, tt)


@irdl_op_definition
class CastOp(IRDLOperation):
    """Converts the element type (float -> int truncates toward zero; nonzero -> i1 true), e.g.
    %r = red.cast %x : tensor<4xi64> -> tensor<4xf32>"""

    name = "red.cast"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, element_type: Attribute):
        shape = shape_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[_tensor(shape, element_type)])

    def verify_(self) -> None:
        if not shapes_compatible(shape_of(self.result), shape_of(self.input)):
            raise op_error(
                self,
                f"expected result shape {fmt_shape(shape_of(self.input))}, "
                f"got {fmt_shape(shape_of(self.result))}",
            )


class UnaryElementwiseOp(IRDLOperation):
    """Base of elementwise unary ops: the result has the operand's type."""

    T: ClassVar = VarConstraint("T", base(TensorType))

    input = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input)"

    FLOAT_ONLY: ClassVar[bool] = True

    def __init__(self, input: SSAValue | Operation):
        super().__init__(operands=[input], result_types=[SSAValue.get(input).type])

    def verify_(self) -> None:
        elt = element_type_of(self.input)
        if self.FLOAT_ONLY and not is_float_type(elt):
            raise op_error(self, f"expected a floating-point element type, got '{elt}'")
        if elt == i1:
            raise op_error(self, "expected a numeric element type, got 'i1'")


@irdl_op_definition
class NegOp(UnaryElementwiseOp):
    """-x, e.g. %r = red.neg %x : tensor<4xf32>"""

    name = "red.neg"
    FLOAT_ONLY: ClassVar[bool] = False


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


@irdl_op_definition
class LogOp(UnaryElementwiseOp):
    """ln x, e.g. %r = red.log %x : tensor<4xf32>"""

    name = "red.log"


@irdl_op_definition
class SqrtOp(UnaryElementwiseOp):
    """sqrt x, e.g. %r = red.sqrt %x : tensor<4xf32>"""

    name = "red.sqrt"


@irdl_op_definition
class RsqrtOp(UnaryElementwiseOp):
    """1 / sqrt x, e.g. %r = red.rsqrt %x : tensor<4xf32>"""

    name = "red.rsqrt"


@irdl_op_definition
class TanhOp(UnaryElementwiseOp):
    """tanh x, e.g. %r = red.tanh %x : tensor<4xf32>"""

    name = "red.tanh"


@irdl_op_definition
class SigmoidOp(UnaryElementwiseOp):
    """1 / (1 + e^-x), e.g. %r = red.sigmoid %x : tensor<4xf32>"""

    name = "red.sigmoid"


@irdl_op_definition
class SiluOp(UnaryElementwiseOp):
    """x * sigmoid(x), e.g. %r = red.silu %x : tensor<4xf32>"""

    name = "red.silu"


@irdl_op_definition
class ErfOp(UnaryElementwiseOp):
    """The error function, e.g. %r = red.erf %x : tensor<4xf32>"""

    name = "red.erf"


@irdl_op_definition
class SinOp(UnaryElementwiseOp):
    """sin x, e.g. %r = red.sin %x : tensor<4xf32>"""

    name = "red.sin"


@irdl_op_definition
class CosOp(UnaryElementwiseOp):
    """cos x, e.g. %r = red.cos %x : tensor<4xf32>"""

    name = "red.cos"


GELU_APPROXIMATIONS = ("none", "tanh")


@irdl_op_definition
class GeluOp(UnaryElementwiseOp):
    """x * Phi(x), exact (erf) or with torch's tanh approximation, e.g.
    %r = red.gelu %x approximate = "tanh" : tensor<4xf32>"""

    name = "red.gelu"

    approximate = opt_prop_def(StringAttr)

    assembly_format = "$input (`approximate` `=` $approximate^)? attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, approximate: str = "none"):
        props = {} if approximate == "none" else {"approximate": StringAttr(approximate)}
        IRDLOperation.__init__(
            self, operands=[input], result_types=[SSAValue.get(input).type], properties=props
        )

    @property
    def approximation(self) -> str:
        return "none" if self.approximate is None else self.approximate.data

    def verify_(self) -> None:
        super().verify_()
        if self.approximation not in GELU_APPROXIMATIONS:
            raise op_error(
                self, f"expected approximate to be 'none' or 'tanh', got '{self.approximation}'"
            )


# endregion Elementwise

# region Contraction


@irdl_op_definition
class MatmulOp(IRDLOperation):
    """(... x M x K) * (... x K x N) -> (... x M x N) with numpy.matmul batch broadcasting, e.g.
    %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>"""

    name = "red.matmul"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"

    def __init__(
        self,
        lhs: SSAValue | Operation,
        rhs: SSAValue | Operation,
        result_type: Attribute | None = None,
    ):
        if result_type is None:
            shape = self.infer_shape(shape_of(SSAValue.get(lhs)), shape_of(SSAValue.get(rhs)))
            if shape is None:
                raise VerifyException(f"'{self.name}' op operand shapes do not match")
            result_type = _tensor(shape, element_type_of(SSAValue.get(lhs)))
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    @staticmethod
    def infer_shape(lhs: Sequence[int], rhs: Sequence[int]) -> tuple[int, ...] | None:
        if len(lhs) < 2 or len(rhs) < 2:
            return None
        if DYNAMIC not in (lhs[-1], rhs[-2]) and lhs[-1] != rhs[-2]:
            return None
        batch = broadcast_shapes(lhs[:-2], rhs[:-2])
        if batch is None:
            return None
        return (*batch, lhs[-2], rhs[-1])

    def verify_(self) -> None:
        lhs, rhs = shape_of(self.lhs), shape_of(self.rhs)
        lt, rt = element_type_of(self.lhs), element_type_of(self.rhs)
        if lt != rt:
            raise op_error(self, f"operand element types differ: lhs has '{lt}', rhs has '{rt}'")
        if len(lhs) < 2 or len(rhs) < 2:
            raise op_error(self, f"expected operands of rank >= 2, got {len(lhs)} and {len(rhs)}")
        if DYNAMIC not in (lhs[-1], rhs[-2]) and lhs[-1] != rhs[-2]:
            raise op_error(
                self, f"contracting dimensions differ: lhs has {lhs[-1]}, rhs has {rhs[-2]}"
            )
        batch = broadcast_shapes(lhs[:-2], rhs[:-2])
        if batch is None:
            raise op_error(
                self,
                f"batch dimensions {fmt_shape(lhs[:-2])} and {fmt_shape(rhs[:-2])} "
                "do not broadcast",
            )
        _check_result_type(self, self.result, (*batch, lhs[-2], rhs[-1]), lt)


# endregion Contraction

# region Shape


@irdl_op_definition
class TransposeOp(IRDLOperation):
    """Permutes dimensions: result dim i is input dim permutation[i], e.g.
    %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>"""

    name = "red.transpose"

    input = operand_def(TensorType)
    permutation = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input $permutation attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, permutation: Sequence[int]):
        shape = shape_of(SSAValue.get(input))
        result_type = _tensor([shape[p] for p in permutation], element_type_of(SSAValue.get(input)))
        super().__init__(
            operands=[input],
            result_types=[result_type],
            properties={"permutation": DenseArrayBase.from_list(i64, list(permutation))},
        )

    @property
    def perm(self) -> tuple[int, ...]:
        return tuple(self.permutation.get_values())

    def verify_(self) -> None:
        shape, perm = shape_of(self.input), self.perm
        if sorted(perm) != list(range(len(shape))):
            raise op_error(
                self,
                f"permutation [{', '.join(map(str, perm))}] is not a permutation of "
                f"0..{len(shape) - 1} (input rank {len(shape)})",
            )
        _check_result_type(self, self.result, [shape[p] for p in perm], element_type_of(self.input))


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    """Reinterprets the row-major elements with a new shape of equal size, e.g.
    %r = red.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>"""

    name = "red.reshape"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        elt = element_type_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[_tensor(shape, elt)])

    def verify_(self) -> None:
        src, dst = shape_of(self.input), shape_of(self.result)
        if (it := element_type_of(self.input)) != (rt := element_type_of(self.result)):
            raise op_error(self, f"element types differ: input has '{it}', result has '{rt}'")
        if DYNAMIC not in src and DYNAMIC not in dst and num_elements(src) != num_elements(dst):
            raise op_error(
                self,
                f"reshape changes the element count: input {fmt_shape(src)} has "
                f"{num_elements(src)}, result {fmt_shape(dst)} has {num_elements(dst)}",
            )


@irdl_op_definition
class BroadcastToOp(IRDLOperation):
    """Broadcasts to a larger shape with numpy rules, e.g.
    %b = red.broadcast_to %x : tensor<1x3xf32> -> tensor<4x3xf32>"""

    name = "red.broadcast_to"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        elt = element_type_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[_tensor(shape, elt)])

    def verify_(self) -> None:
        src, dst = shape_of(self.input), shape_of(self.result)
        if (it := element_type_of(self.input)) != (rt := element_type_of(self.result)):
            raise op_error(self, f"element types differ: input has '{it}', result has '{rt}'")
        ok = len(src) <= len(dst) and all(
            s in (1, d) or DYNAMIC in (s, d) for s, d in zip(src, dst[len(dst) - len(src) :])
        )
        if not ok:
            raise op_error(
                self, f"input shape {fmt_shape(src)} does not broadcast to {fmt_shape(dst)}"
            )


@irdl_op_definition
class SliceOp(IRDLOperation):
    """Takes elements start <= i < limit with a stride, per dimension, e.g.
    %s = red.slice %x [1, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>"""

    name = "red.slice"

    input = operand_def(TensorType)
    start = prop_def(DenseArrayBase.constr(i64))
    limit = prop_def(DenseArrayBase.constr(i64))
    stride = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input $start $limit $stride attr-dict `:` type($input) `->` type($result)"

    def __init__(
        self,
        input: SSAValue | Operation,
        start: Sequence[int],
        limit: Sequence[int],
        stride: Sequence[int] | None = None,
    ):
        if stride is None:
            stride = [1] * len(start)
        shape = [-(-(hi - lo) // st) for lo, hi, st in zip(start, limit, stride)]
        super().__init__(
            operands=[input],
            result_types=[_tensor(shape, element_type_of(SSAValue.get(input)))],
            properties={
                "start": DenseArrayBase.from_list(i64, list(start)),
                "limit": DenseArrayBase.from_list(i64, list(limit)),
                "stride": DenseArrayBase.from_list(i64, list(stride)),
            },
        )

    @property
    def bounds(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return (
            tuple(self.start.get_values()),
            tuple(self.limit.get_values()),
            tuple(self.stride.get_values()),
        )

    def verify_(self) -> None:
        shape = shape_of(self.input)
        start, limit, stride = self.bounds
        for name, arr in (("start", start), ("limit", limit), ("stride", stride)):
            if len(arr) != len(shape):
                raise op_error(
                    self, f"expected {len(shape)} {name} values (input rank), got {len(arr)}"
                )
        for d, (lo, hi, st, n) in enumerate(zip(start, limit, stride, shape)):
            if st < 1:
                raise op_error(self, f"stride {st} of dimension {d} must be >= 1")
            if not 0 <= lo <= hi or (n != DYNAMIC and hi > n):
                raise op_error(
                    self,
                    f"slice [{lo}, {hi}) of dimension {d} is out of bounds for size "
                    f"{fmt_shape([n])} (expected 0 <= start <= limit <= size)",
                )
        out = [-(-(hi - lo) // st) for lo, hi, st in zip(start, limit, stride)]
        _check_result_type(self, self.result, out, element_type_of(self.input))


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Joins tensors along an axis, e.g.
    %c = red.concat %a, %b axis = 0 : tensor<2x3xf32>, tensor<1x3xf32> -> tensor<3x3xf32>"""

    name = "red.concat"

    inputs = var_operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$inputs `axis` `=` $axis attr-dict `:` type($inputs) `->` type($result)"

    def __init__(self, inputs: Sequence[SSAValue | Operation], axis: int):
        values = [SSAValue.get(v) for v in inputs]
        shape = list(shape_of(values[0]))
        shape[axis] = sum(shape_of(v)[axis] for v in values)
        if any(shape_of(v)[axis] == DYNAMIC for v in values):
            shape[axis] = DYNAMIC
        super().__init__(
            operands=[values],
            result_types=[_tensor(shape, element_type_of(values[0]))],
            properties={"axis": IntegerAttr(axis, i64)},
        )

    def verify_(self) -> None:
        if not self.inputs:
            raise op_error(self, "expected at least one input")
        first = shape_of(self.inputs[0])
        elt = element_type_of(self.inputs[0])
        axis = self.axis.value.data
        _check_axis(self, axis, len(first))
        total = 0
        for i, v in enumerate(self.inputs):
            s = shape_of(v)
            if element_type_of(v) != elt:
                raise op_error(
                    self, f"input #{i} has element type '{element_type_of(v)}', expected '{elt}'"
                )
            if len(s) != len(first) or not all(
                a == b or DYNAMIC in (a, b) for d, (a, b) in enumerate(zip(s, first)) if d != axis
            ):
                raise op_error(
                    self,
                    f"input #{i} has shape {fmt_shape(s)}, expected {fmt_shape(first)} "
                    f"except along axis {axis}",
                )
            total = DYNAMIC if DYNAMIC in (total, s[axis]) else total + s[axis]
        out = list(first)
        out[axis] = total
        _check_result_type(self, self.result, out, elt)


@irdl_op_definition
class GatherOp(IRDLOperation):
    """numpy.take(table, indices, axis) (indices in [-n, n)): embedding lookup by ids, e.g.
    %e = red.gather %wte, %ids axis = 0 : tensor<512x64xf32>, tensor<32xi64> -> tensor<32x64xf32>"""

    name = "red.gather"

    table = operand_def(TensorType)
    indices = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$table `,` $indices `axis` `=` $axis attr-dict `:` type($table) `,` type($indices) "
        "`->` type($result)"
    )

    def __init__(self, table: SSAValue | Operation, indices: SSAValue | Operation, axis: int = 0):
        t, i = shape_of(SSAValue.get(table)), shape_of(SSAValue.get(indices))
        shape = (*t[:axis], *i, *t[axis + 1 :])
        super().__init__(
            operands=[table, indices],
            result_types=[_tensor(shape, element_type_of(SSAValue.get(table)))],
            properties={"axis": IntegerAttr(axis, i64)},
        )

    def verify_(self) -> None:
        t, i = shape_of(self.table), shape_of(self.indices)
        axis = self.axis.value.data
        _check_axis(self, axis, len(t))
        if not is_integer_type(it := element_type_of(self.indices)) or it == i1:
            raise op_error(self, f"expected integer indices, got element type '{it}'")
        _check_result_type(
            self, self.result, (*t[:axis], *i, *t[axis + 1 :]), element_type_of(self.table)
        )


# endregion Shape

# region Reductions and normalizations


class ReduceOp(IRDLOperation):
    """Base of reductions over a set of axes."""

    input = operand_def(TensorType)
    axes = prop_def(DenseArrayBase.constr(i64))
    keepdims = opt_prop_def(UnitAttr)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$input `axes` `=` $axes (`keepdims` $keepdims^)? attr-dict `:` type($input) "
        "`->` type($result)"
    )

    FLOAT_ONLY: ClassVar[bool] = False

    def __init__(self, input: SSAValue | Operation, axes: Sequence[int], keepdims: bool = False):
        shape = self.reduced_shape(shape_of(SSAValue.get(input)), axes, keepdims)
        props: dict[str, Attribute] = {"axes": DenseArrayBase.from_list(i64, list(axes))}
        if keepdims:
            props["keepdims"] = UnitAttr()
        super().__init__(
            operands=[input],
            result_types=[_tensor(shape, element_type_of(SSAValue.get(input)))],
            properties=props,
        )

    @staticmethod
    def reduced_shape(shape: Sequence[int], axes: Sequence[int], keepdims: bool) -> tuple[int, ...]:
        if keepdims:
            return tuple(1 if d in axes else n for d, n in enumerate(shape))
        return tuple(n for d, n in enumerate(shape) if d not in axes)

    @property
    def axis_list(self) -> tuple[int, ...]:
        return tuple(self.axes.get_values())

    @property
    def keeps_dims(self) -> bool:
        return self.keepdims is not None

    def verify_(self) -> None:
        shape, axes = shape_of(self.input), self.axis_list
        elt = element_type_of(self.input)
        if self.FLOAT_ONLY and not is_float_type(elt):
            raise op_error(self, f"expected a floating-point element type, got '{elt}'")
        if elt == i1:
            raise op_error(self, "expected a numeric element type, got 'i1'")
        for a in axes:
            _check_axis(self, a, len(shape))
        if len(set(axes)) != len(axes):
            raise op_error(self, f"axes [{', '.join(map(str, axes))}] repeat an axis")
        _check_result_type(self, self.result, self.reduced_shape(shape, axes, self.keeps_dims), elt)


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    """Sum over axes, e.g.
    %s = red.reduce_sum %x axes = [1] keepdims : tensor<2x3xf32> -> tensor<2x1xf32>"""

    name = "red.reduce_sum"


@irdl_op_definition
class ReduceMeanOp(ReduceOp):
    """Mean over axes, e.g. %m = red.reduce_mean %x axes = [1] : tensor<2x3xf32> -> tensor<2xf32>"""

    name = "red.reduce_mean"
    FLOAT_ONLY: ClassVar[bool] = True


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    """Maximum over axes (NaN propagates), e.g.
    %m = red.reduce_max %x axes = [0, 1] : tensor<2x3xf32> -> tensor<f32>"""

    name = "red.reduce_max"


class AxisNormOp(IRDLOperation):
    """Base of ops that normalise over one axis (softmax) or trailing axes (norms)."""

    T: ClassVar = VarConstraint("T", base(TensorType))

    input = operand_def(T)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(T)

    traits = traits_def(Pure())

    def verify_(self) -> None:
        elt = element_type_of(self.input)
        if not is_float_type(elt):
            raise op_error(self, f"expected a floating-point element type, got '{elt}'")
        _check_axis(self, self.axis.value.data, len(shape_of(self.input)))


@irdl_op_definition
class SoftmaxOp(AxisNormOp):
    """exp(x - max) / sum(exp(x - max)) along one axis, e.g.
    %p = red.softmax %x axis = 1 : tensor<4x8xf32>"""

    name = "red.softmax"

    assembly_format = "$input `axis` `=` $axis attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, axis: int):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"axis": IntegerAttr(axis, i64)},
        )


class NormOp(AxisNormOp):
    """Base of layer_norm and rms_norm: normalise over dims axis..rank-1 (ONNX convention)."""

    eps = prop_def(FloatAttr[Float64Type])

    assembly_format = "$input `axis` `=` $axis `eps` `=` $eps attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, axis: int, eps: float = 1e-5):
        super().__init__(
            operands=[input],
            result_types=[SSAValue.get(input).type],
            properties={"axis": IntegerAttr(axis, i64), "eps": FloatAttr(eps, f64)},
        )

    def verify_(self) -> None:
        super().verify_()
        if not self.eps.value.data >= 0:
            raise op_error(self, f"expected eps >= 0, got {self.eps.value.data}")


@irdl_op_definition
class LayerNormOp(NormOp):
    """(x - mean) / sqrt(var + eps) over dims axis.. (no scale or bias), e.g.
    %n = red.layer_norm %x axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>"""

    name = "red.layer_norm"


@irdl_op_definition
class RmsNormOp(NormOp):
    """x / sqrt(mean(x^2) + eps) over dims axis.. (no scale), e.g.
    %n = red.rms_norm %x axis = 1 eps = 1.000000e-06 : tensor<4x8xf32>"""

    name = "red.rms_norm"


# endregion Reductions and normalizations

# region Caching


@irdl_op_definition
class MemoOp(IRDLOperation):
    """Computes its region once per distinct operand buffers and caches the results; the
    operands (invariant values) are the cache key and the region's block arguments, e.g.
    %wt = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
    ^bb0(%a: tensor<8x4xf32>):
      %t = red.transpose %a [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
      red.yield %t : tensor<4x8xf32>
    }"""

    name = "red.memo"

    keys = var_operand_def(TensorType)
    body = region_def("single_block")
    outputs = var_result_def(TensorType)

    # A memo is a pure function of its operands: caching is an implementation detail.
    traits = traits_def(Pure(), IsolatedFromAbove())

    def __init__(self, keys: Sequence[SSAValue], result_types: Sequence[Attribute], body: Region):
        super().__init__(operands=[list(keys)], result_types=[list(result_types)], regions=[body])

    @classmethod
    def parse(cls, parser: Parser) -> MemoOp:
        unresolved = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        parser.parse_punctuation(":")
        pos = parser.pos
        fn_type = parser.parse_function_type()
        keys = parser.resolve_operands(unresolved, fn_type.inputs.data, pos)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region()
        op = cls(keys, fn_type.outputs.data, body)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_list(self.keys, printer.print_operand)
        printer.print_string(") : ")
        # (print_operation_type would print `loc(...)` here under --mlir-print-debuginfo)
        printer.print_function_type(self.operand_types, self.result_types)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=True, print_empty_block=True)

    def verify_(self) -> None:
        block = self.body.block
        arg_types = [a.type for a in block.args]
        key_types = [k.type for k in self.keys]
        if arg_types != key_types:
            raise op_error(
                self,
                f"block argument types ({', '.join(map(str, arg_types))}) differ from operand "
                f"types ({', '.join(map(str, key_types))})",
            )
        term = block.last_op
        if not isinstance(term, YieldOp):
            raise op_error(self, "expected the region to end with 'red.yield'")
        yielded = [v.type for v in term.values]
        out = [r.type for r in self.outputs]
        if yielded != out:
            raise op_error(
                self,
                f"yielded types ({', '.join(map(str, yielded))}) differ from result types "
                f"({', '.join(map(str, out))})",
            )


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Returns the values a red.memo caches, e.g. red.yield %t : tensor<4x8xf32>"""

    name = "red.yield"

    values = var_operand_def(TensorType)

    traits = traits_def(Pure(), IsTerminator(), ReturnLike(), HasParent(MemoOp))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue | Operation]):
        super().__init__(operands=[list(values)])


# endregion Caching


def verify_invariant_attrs(attrs: ArrayAttr[DictionaryAttr] | None) -> str | None:
    """Checks `red.invariant` argument attributes are unit; returns an error message or None."""
    if attrs is None:
        return None
    for i, d in enumerate(attrs.data):
        if INVARIANT_ATTR in d.data and not isinstance(d.data[INVARIANT_ATTR], UnitAttr):
            return f"argument #{i}: '{INVARIANT_ATTR}' must be a unit attribute"
    return None


Red = Dialect(
    "red",
    [
        ConstantOp,
        IotaOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        MaxOp,
        MinOp,
        PowOp,
        EqOp,
        NeOp,
        LtOp,
        LeOp,
        GtOp,
        GeOp,
        SelectOp,
        CastOp,
        NegOp,
        AbsOp,
        ReluOp,
        ExpOp,
        LogOp,
        SqrtOp,
        RsqrtOp,
        TanhOp,
        SigmoidOp,
        SiluOp,
        ErfOp,
        SinOp,
        CosOp,
        GeluOp,
        MatmulOp,
        TransposeOp,
        ReshapeOp,
        BroadcastToOp,
        SliceOp,
        ConcatOp,
        GatherOp,
        ReduceSumOp,
        ReduceMeanOp,
        ReduceMaxOp,
        SoftmaxOp,
        LayerNormOp,
        RmsNormOp,
        MemoOp,
        YieldOp,
    ],
    [],
)
