"""Slices at run-time offsets, as decode loops need them: `red.dynamic_slice` reads a block
of static sizes at offsets given by integer scalars (or 0-d integer tensors), and
`red.dynamic_update_slice` writes one. Out-of-range offsets are clamped as XLA's
DynamicSlice does: each start becomes min(max(offset, 0), dim - size), so the block always
lies inside the tensor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import DenseArrayBase, IndexType, IntegerType, TensorType, i1, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    AnyAttr,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure

from red.dialects.red.base import (
    ALL,
    BROADCAST,
    DYNAMIC,
    TYPE_SIZES,
    Cost,
    Demand,
    RedOp,
    RowAt,
    Rows,
    RowSource,
    ShapeError,
    Sizes,
    canonicalization_patterns,
    element_type_of,
    fmt_shape,
    inferred,
    shape_of,
    tensor_type,
)


def is_offset_type(typ: Attribute) -> bool:
    """An integer scalar (not i1), index, or a 0-d tensor of one."""
    if isinstance(typ, TensorType):
        if typ.get_shape():
            return False
        typ = typ.get_element_type()
    return isinstance(typ, IndexType) or (isinstance(typ, IntegerType) and typ != i1)


def check_offsets(offsets: Sequence[SSAValue], rank: int) -> None:
    if len(offsets) != rank:
        raise ShapeError(f"expected {rank} offsets (input rank), got {len(offsets)}")
    for i, v in enumerate(offsets):
        if not is_offset_type(v.type):
            raise ShapeError(
                f"offset #{i} has type '{v.type}', expected an integer scalar or a 0-d "
                "integer tensor"
            )


def clamped_starts(offsets: Sequence[int], dims: Sequence[int], sizes: Sequence[int]) -> list[int]:
    """XLA's rule: each start is clamped to [0, dim - size]."""
    return [min(max(int(o), 0), d - s) for o, d, s in zip(offsets, dims, sizes)]


class DynamicOffsetsOp(RedOp):
    """Base of the ops addressed by run-time offsets (operands after the tensors)."""

    FLOPS_PER_ELEMENT: ClassVar[int] = 0


@irdl_op_definition
class DynamicSliceOp(DynamicOffsetsOp):
    """The block of static `sizes` starting at run-time offsets (clamped into range), e.g.
    %r = red.dynamic_slice %x [%i, %c0] sizes = [1, 64] : (tensor<8x64xf32>, i64, i64)
      -> tensor<1x64xf32>"""

    name = "red.dynamic_slice"

    input = operand_def(TensorType)
    offsets = var_operand_def(AnyAttr())
    sizes = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)

    traits = traits_def(
        Pure(), canonicalization_patterns("red", "FoldDynamicSliceWithConstantOffsets")
    )
    assembly_format = (
        "$input `[` $offsets `]` `sizes` `=` $sizes attr-dict `:` "
        "functional-type(operands, results)"
    )

    def __init__(
        self,
        input: SSAValue | Operation,
        offsets: Sequence[SSAValue | Operation],
        sizes: Sequence[int],
    ):
        typ = SSAValue.get(input).type
        super().__init__(
            operands=[input, list(offsets)],
            result_types=[inferred(type(self), self.infer, typ, tuple(sizes))],
            properties={"sizes": DenseArrayBase.from_list(i64, list(sizes))},
        )

    @staticmethod
    def infer(input: Attribute, sizes: Sequence[int]) -> TensorType:
        shape = shape_of(input)
        if len(sizes) != len(shape):
            raise ShapeError(f"expected {len(shape)} sizes (input rank), got {len(sizes)}")
        for d, (s, n) in enumerate(zip(sizes, shape)):
            if s < 0 or (n != DYNAMIC and s > n):
                raise ShapeError(
                    f"size {s} of dimension {d} does not fit in {fmt_shape([n])} "
                    "(expected 0 <= size <= dim)"
                )
        return tensor_type(sizes, element_type_of(input))

    @property
    def size_list(self) -> tuple[int, ...]:
        return tuple(self.sizes.get_values())

    def verify_operands(self) -> None:
        check_offsets(self.offsets, len(shape_of(self.input)))

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.input.type, self.size_list)]

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        return Cost(0, 2 * sizes.bytes(self.result))

    def whole_axes(self) -> list[int]:
        """The axes taken whole (size == dim): the offset there can only be 0."""
        return [a for a, (s, n) in enumerate(zip(self.size_list, shape_of(self.input))) if s == n]

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        if axis not in self.whole_axes():
            return None  # which row is read depends on a run-time offset
        return [axis, *[BROADCAST] * len(self.offsets)]

    def operand_demands(self, demand: Demand) -> Sequence[Demand] | None:
        """A block of one row along one axis (every other axis whole) reads the input's row
        at its offset: `RowAt`; the offsets are needed as they are."""
        if isinstance(demand, Rows | RowAt):
            return super().operand_demands(demand)
        if demand is None:
            return [None] * len(self.operands)
        cut = [a for a in range(len(self.size_list)) if a not in self.whole_axes()]
        if len(cut) != 1 or self.size_list[cut[0]] != 1:
            return None
        return [RowAt(cut[0], self.offsets[cut[0]]), *[ALL] * len(self.offsets)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """a block the size of the input -> the input"""
        return self.input if self.input.type == self.result.type else None

    def resized(self, operands: Sequence[SSAValue], result_types: Sequence[Attribute]) -> Operation:
        """The block's sizes follow the result type."""
        op = DynamicSliceOp(operands[0], operands[1:], shape_of(result_types[0]))
        op.location = self.location
        return op


@irdl_op_definition
class DynamicUpdateSliceOp(DynamicOffsetsOp):
    """The input with the block `update` written at run-time offsets (clamped into range), e.g.
    %r = red.dynamic_update_slice %x, %u [%i, %c0] : (tensor<8x64xf32>, tensor<1x64xf32>,
      i64, i64) -> tensor<8x64xf32>"""

    name = "red.dynamic_update_slice"

    input = operand_def(TensorType)
    update = operand_def(TensorType)
    offsets = var_operand_def(AnyAttr())
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` $update `[` $offsets `]` attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        input: SSAValue | Operation,
        update: SSAValue | Operation,
        offsets: Sequence[SSAValue | Operation],
    ):
        it, ut = SSAValue.get(input).type, SSAValue.get(update).type
        super().__init__(
            operands=[input, update, list(offsets)],
            result_types=[inferred(type(self), self.infer, it, ut)],
        )

    @staticmethod
    def infer(input: Attribute, update: Attribute) -> TensorType:
        shape, block = shape_of(input), shape_of(update)
        if element_type_of(input) != element_type_of(update):
            raise ShapeError(
                f"element types differ: input has '{element_type_of(input)}', update has "
                f"'{element_type_of(update)}'"
            )
        if len(block) != len(shape) or any(
            b > n for b, n in zip(block, shape) if DYNAMIC not in (b, n)
        ):
            raise ShapeError(
                f"update of shape {fmt_shape(block)} does not fit in {fmt_shape(shape)}"
            )
        return tensor_type(shape, element_type_of(input))

    def verify_operands(self) -> None:
        check_offsets(self.offsets, len(shape_of(self.input)))

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.input.type, self.update.type)]

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        """Written in place when the input dies here (the lowering's job): the block moves."""
        return Cost(0, 2 * sizes.bytes(self.update))

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        if shape_of(self.update)[axis] != shape_of(self.input)[axis]:
            return None  # the written row depends on a run-time offset
        return [axis, axis, *[BROADCAST] * len(self.offsets)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """an update covering the whole input -> the update"""
        return self.update if self.update.type == self.result.type else None
