"""Contraction: `red.matmul` with numpy.matmul semantics (batch dims broadcast)."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, result_def, traits_def
from xdsl.traits import Pure

from red.dialects.red.base import (
    DYNAMIC,
    TYPE_SIZES,
    WHOLE,
    Cost,
    RedOp,
    RowSource,
    ShapeError,
    Sizes,
    broadcast_shapes,
    broadcast_source,
    element_type_of,
    fmt_shape,
    inferred,
    shape_of,
    tensor_type,
)


@irdl_op_definition
class MatmulOp(RedOp):
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
            lt, rt = SSAValue.get(lhs).type, SSAValue.get(rhs).type
            result_type = inferred(type(self), self.infer, lt, rt)
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    @staticmethod
    def infer(lhs: Attribute, rhs: Attribute) -> TensorType:
        ls, rs = shape_of(lhs), shape_of(rhs)
        if len(ls) < 2 or len(rs) < 2:
            raise ShapeError(f"expected operands of rank >= 2, got {len(ls)} and {len(rs)}")
        if DYNAMIC not in (ls[-1], rs[-2]) and ls[-1] != rs[-2]:
            raise ShapeError(f"contracting dimensions differ: lhs has {ls[-1]}, rhs has {rs[-2]}")
        batch = broadcast_shapes(ls[:-2], rs[:-2])
        if batch is None:
            raise ShapeError(
                f"batch dimensions {fmt_shape(ls[:-2])} and {fmt_shape(rs[:-2])} do not broadcast"
            )
        return tensor_type((*batch, ls[-2], rs[-1]), element_type_of(lhs))

    def verify_operands(self) -> None:
        lt, rt = element_type_of(self.lhs), element_type_of(self.rhs)
        if lt != rt:
            raise ShapeError(f"operand element types differ: lhs has '{lt}', rhs has '{rt}'")

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.lhs.type, self.rhs.type)]

    @property
    def contraction_size(self) -> int:
        return shape_of(self.lhs)[-1]

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        """2·M·N·K per batch entry."""
        k = sizes.dims(self.lhs)[-1]
        return Cost(2 * sizes.count(self.result) * k, self.bytes_moved(sizes))

    def row_sources(self, axis: int) -> Sequence[RowSource]:
        """Row i of the result reads row i of lhs and all of rhs; column j reads all of lhs
        and column j of rhs; batch entries read their (broadcast) batch entries."""
        rank = len(shape_of(self.result))
        if axis == rank - 2:
            return [len(shape_of(self.lhs)) - 2, WHOLE]
        if axis == rank - 1:
            return [WHOLE, len(shape_of(self.rhs)) - 1]
        return [broadcast_source(rank, self.lhs, axis), broadcast_source(rank, self.rhs, axis)]
