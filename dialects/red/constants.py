"""Constants: `red.constant` (dense elements, splats, dense resource blobs) and `red.iota`,
and `constant_value`, the one way passes read the value of a constant-like op."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IntegerAttr,
    TensorType,
    i64,
)
from xdsl.ir import SSAValue
from xdsl.irdl import base, irdl_op_definition, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, Pure

from red.dialects.numpy_interop import dense_to_numpy, numpy_dtype
from red.dialects.red.base import RedOp, ShapeError, check_axis, shape_of


@irdl_op_definition
class ConstantOp(RedOp):
    """A tensor constant (dense elements, splat or a dense resource blob), e.g.
    %c = red.constant dense<[1.0, 2.0]> : tensor<2xf32>"""

    name = "red.constant"

    value = prop_def(base(DenseIntOrFPElementsAttr) | base(DenseResourceAttr))
    result = result_def(TensorType)

    traits = traits_def(Pure(), ConstantLike())
    MOVES_DATA: ClassVar[bool] = False
    FLOPS_PER_ELEMENT: ClassVar[int] = 0

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

    def row_sources(self, axis: int) -> None:
        """Not row-wise: fewer rows of a constant are another constant (folding's job)."""
        return None

    def verify_operands(self) -> None:
        if self.value.get_type() != self.result.type:
            raise ShapeError(
                f"value type '{self.value.get_type()}' differs from result type "
                f"'{self.result.type}'"
            )


@irdl_op_definition
class IotaOp(RedOp):
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

    def verify_operands(self) -> None:
        check_axis(self.dimension.value.data, len(shape_of(self.result)), "dimension")

    def row_sources(self, axis: int) -> list[int] | None:
        """Rows along the counting dimension hold their own indices: not row-wise there."""
        return None if axis == self.dimension.value.data else []

    def values(self) -> np.ndarray:
        shape = shape_of(self.result)
        dim = self.dimension.value.data
        ramp = np.arange(shape[dim]).reshape([-1 if d == dim else 1 for d in range(len(shape))])
        typ = self.result.type
        assert isinstance(typ, TensorType)
        return np.broadcast_to(ramp, shape).astype(numpy_dtype(typ.get_element_type()))


CONSTANT_OPS = (ConstantOp, arith.ConstantOp, IotaOp)
"""Ops whose tensor result is known at compile time."""


def constant_value(value: SSAValue) -> np.ndarray | None:
    """The array a constant-like op's tensor result holds (a broadcast view for splats), or
    None when `value` is not such a result or its data is unavailable."""
    owner = value.owner
    if isinstance(owner, ConstantOp | arith.ConstantOp) and isinstance(
        owner.value, DenseIntOrFPElementsAttr | DenseResourceAttr
    ):
        try:
            return dense_to_numpy(owner.value)
        except ValueError:  # a resource without data, an unsupported dtype: not foldable
            return None
    if isinstance(owner, IotaOp):
        return owner.values()
    return None


def is_constant(value: SSAValue) -> bool:
    """Whether `value` is the result of a constant-like op (without reading its data)."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp):
        return isinstance(owner.value, DenseIntOrFPElementsAttr | DenseResourceAttr)
    return isinstance(owner, ConstantOp | IotaOp)
