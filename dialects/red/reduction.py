"""Reductions and normalisations: reduce_sum/mean/max over axes, argmax along one axis,
softmax along one axis, layer_norm and rms_norm over the trailing axes. They are row-wise
along every axis they do not reduce or normalise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    TensorType,
    UnitAttr,
    f64,
    i1,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure

from red.dialects.red.base import (
    TYPE_SIZES,
    Cost,
    RedOp,
    RowSource,
    ShapeError,
    Sizes,
    check_axis,
    element_type_of,
    inferred,
    is_float_type,
    shape_of,
    tensor_type,
)


def reduced_shape(shape: Sequence[int], axes: Sequence[int], keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def reduced_row_sources(
    input: SSAValue, axes: Sequence[int], keepdims: bool, axis: int
) -> Sequence[RowSource] | None:
    """Result axis -> input axis of a reduction over `axes` (None along a reduced axis)."""
    if keepdims:
        return None if axis in axes else [axis]
    kept = [a for a in range(len(shape_of(input))) if a not in axes]
    return [kept[axis]]


class ReduceOp(RedOp):
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
        shape = reduced_shape(shape_of(SSAValue.get(input)), axes, keepdims)
        props: dict[str, Attribute] = {"axes": DenseArrayBase.from_list(i64, list(axes))}
        if keepdims:
            props["keepdims"] = UnitAttr()
        super().__init__(
            operands=[input],
            result_types=[tensor_type(shape, element_type_of(SSAValue.get(input)))],
            properties=props,
        )

    reduced_shape = staticmethod(reduced_shape)

    @property
    def axis_list(self) -> tuple[int, ...]:
        return tuple(self.axes.get_values())

    @property
    def keeps_dims(self) -> bool:
        return self.keepdims is not None

    def verify_operands(self) -> None:
        elt = element_type_of(self.input)
        if self.FLOAT_ONLY and not is_float_type(elt):
            raise ShapeError(f"expected a floating-point element type, got '{elt}'")
        if elt == i1:
            raise ShapeError("expected a numeric element type, got 'i1'")

    def infer_result_types(self) -> Sequence[Attribute]:
        shape, axes = shape_of(self.input), self.axis_list
        for a in axes:
            check_axis(a, len(shape))
        if len(set(axes)) != len(axes):
            raise ShapeError(f"axes [{', '.join(map(str, axes))}] repeat an axis")
        out = reduced_shape(shape, axes, self.keeps_dims)
        return [tensor_type(out, element_type_of(self.input))]

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        """One FLOP per input element."""
        return Cost(sizes.count(self.input), self.bytes_moved(sizes))

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        return reduced_row_sources(self.input, self.axis_list, self.keeps_dims, axis)


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


@irdl_op_definition
class ArgmaxOp(RedOp):
    """Index of the largest element along one axis, the first one on ties; NaN counts as
    the largest (the first NaN wins), as numpy.argmax and torch.argmax, e.g.
    %i = red.argmax %x axis = 1 : tensor<4x8xf32> -> tensor<4xi64>"""

    name = "red.argmax"

    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    keepdims = opt_prop_def(UnitAttr)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = (
        "$input `axis` `=` $axis (`keepdims` $keepdims^)? attr-dict `:` type($input) "
        "`->` type($result)"
    )

    def __init__(self, input: SSAValue | Operation, axis: int, keepdims: bool = False):
        typ = SSAValue.get(input).type
        props: dict[str, Attribute] = {"axis": IntegerAttr(axis, i64)}
        if keepdims:
            props["keepdims"] = UnitAttr()
        super().__init__(
            operands=[input],
            result_types=[inferred(type(self), self.infer, typ, axis, keepdims)],
            properties=props,
        )

    @staticmethod
    def infer(input: Attribute, axis: int, keepdims: bool) -> TensorType:
        shape = shape_of(input)
        check_axis(axis, len(shape))
        if element_type_of(input) == i1:
            raise ShapeError("expected a numeric element type, got 'i1'")
        return tensor_type(reduced_shape(shape, [axis], keepdims), i64)

    @property
    def keeps_dims(self) -> bool:
        return self.keepdims is not None

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.input.type, self.axis.value.data, self.keeps_dims)]

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        return Cost(sizes.count(self.input), self.bytes_moved(sizes))

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        return reduced_row_sources(self.input, [self.axis.value.data], self.keeps_dims, axis)


class AxisNormOp(RedOp):
    """Base of ops that normalise over one axis (softmax) or trailing axes (norms)."""

    T: ClassVar = VarConstraint("T", base(TensorType))

    input = operand_def(T)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(T)

    traits = traits_def(Pure())

    def normalized_axes(self) -> list[int]:
        """The axes whose elements are normalised together."""
        return [self.axis.value.data]

    def verify_operands(self) -> None:
        elt = element_type_of(self.input)
        if not is_float_type(elt):
            raise ShapeError(f"expected a floating-point element type, got '{elt}'")
        check_axis(self.axis.value.data, len(shape_of(self.input)))

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        return None if axis in self.normalized_axes() else [axis]


@irdl_op_definition
class SoftmaxOp(AxisNormOp):
    """exp(x - max) / sum(exp(x - max)) along one axis, e.g.
    %p = red.softmax %x axis = 1 : tensor<4x8xf32>"""

    name = "red.softmax"

    assembly_format = "$input `axis` `=` $axis attr-dict `:` type($input)"
    FLOPS_PER_ELEMENT: ClassVar[int] = 12

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

    def normalized_axes(self) -> list[int]:
        return list(range(self.axis.value.data, len(shape_of(self.input))))

    def verify_operands(self) -> None:
        super().verify_operands()
        if not self.eps.value.data >= 0:
            raise ShapeError(f"expected eps >= 0, got {self.eps.value.data}")


@irdl_op_definition
class LayerNormOp(NormOp):
    """(x - mean) / sqrt(var + eps) over dims axis.. (no scale or bias), e.g.
    %n = red.layer_norm %x axis = 1 eps = 1.000000e-05 : tensor<4x8xf32>"""

    name = "red.layer_norm"
    FLOPS_PER_ELEMENT: ClassVar[int] = 8


@irdl_op_definition
class RmsNormOp(NormOp):
    """x / sqrt(mean(x^2) + eps) over dims axis.. (no scale), e.g.
    %n = red.rms_norm %x axis = 1 eps = 1.000000e-06 : tensor<4x8xf32>"""

    name = "red.rms_norm"
    FLOPS_PER_ELEMENT: ClassVar[int] = 5
