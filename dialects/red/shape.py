"""Shape ops: transpose, reshape, broadcast_to, slice, concat and gather. They move or
reinterpret data (no FLOPs); their row facts say how a row of the result maps to a row of
the input, which is what lets demand and causality pass through attention's reshapes and
head transposes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import I64, DenseArrayBase, IntegerAttr, TensorType, i1, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
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
    WHOLE,
    Demand,
    RedOp,
    RowAt,
    Rows,
    RowSource,
    ShapeError,
    canonicalization_patterns,
    check_axis,
    element_type_of,
    fmt_shape,
    inferred,
    is_integer_type,
    num_elements,
    shape_of,
    tensor_type,
)
from red.dialects.red.constants import constant_value
from red.dialects.red.dims import Dim, product


class ShapeOp(RedOp):
    """Base of the ops that move data without arithmetic."""

    FLOPS_PER_ELEMENT: ClassVar[int] = 0


@irdl_op_definition
class TransposeOp(ShapeOp):
    """Permutes dimensions: result dim i is input dim permutation[i], e.g.
    %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.transpose"

    input = operand_def(TensorType)
    permutation = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)

    traits = traits_def(Pure(), canonicalization_patterns("red", "FoldTransposeOfTranspose"))
    assembly_format = "$input $permutation attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, permutation: Sequence[int]):
        typ = SSAValue.get(input).type
        result_type = inferred(type(self), self.infer, typ, tuple(permutation))
        super().__init__(
            operands=[input],
            result_types=[result_type],
            properties={"permutation": DenseArrayBase.from_list(i64, list(permutation))},
        )

    @staticmethod
    def infer(input: Attribute, perm: Sequence[int]) -> TensorType:
        shape = shape_of(input)
        if sorted(perm) != list(range(len(shape))):
            raise ShapeError(
                f"permutation [{', '.join(map(str, perm))}] is not a permutation of "
                f"0..{len(shape) - 1} (input rank {len(shape)})"
            )
        return tensor_type([shape[p] for p in perm], element_type_of(input))

    @property
    def perm(self) -> tuple[int, ...]:
        return tuple(self.permutation.get_values())

    def feeds_matmul_as_strides(self) -> bool:
        """Whether it exchanges the last two dims only and its one use is a red.matmul
        operand in the same block: the lowering then reads its input with the row and
        column strides swapped (no copy), so folding or caching it gains nothing."""
        from red.dialects.red.contraction import MatmulOp  # contraction imports this module

        rank = len(self.perm)
        if rank < 2 or self.perm != (*range(rank - 2), rank - 1, rank - 2):
            return False
        user = self.result.get_user_of_unique_use()
        return isinstance(user, MatmulOp) and user.parent is self.parent

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.input.type, self.perm)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """transpose(x, [0, 1, ...]) -> x"""
        return self.input if self.perm == tuple(range(len(self.perm))) else None

    def row_sources(self, axis: int) -> Sequence[RowSource]:
        return [self.perm[axis]]


def reshape_axis(src: Sequence[int], dst: Sequence[int], axis: int) -> int | None:
    """The axis of `src` that axis `axis` of `dst` is (same extent and same stride), if any."""
    before = math.prod(dst[:axis])
    for b in range(len(src)):
        if math.prod(src[:b]) == before and src[b] == dst[axis]:
            return b
    return None


@irdl_op_definition
class ReshapeOp(ShapeOp):
    """Reinterprets the row-major elements with a new shape of equal size, e.g.
    %r = red.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.reshape"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure(), canonicalization_patterns("red", "FoldReshapeOfReshape"))
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"
    MOVES_DATA: ClassVar[bool] = False

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        elt = element_type_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[tensor_type(shape, elt)])

    def verify_operands(self) -> None:
        src, dst = shape_of(self.input), shape_of(self.result)
        if (it := element_type_of(self.input)) != (rt := element_type_of(self.result)):
            raise ShapeError(f"element types differ: input has '{it}', result has '{rt}'")
        if DYNAMIC not in src and DYNAMIC not in dst and num_elements(src) != num_elements(dst):
            raise ShapeError(
                f"reshape changes the element count: input {fmt_shape(src)} has "
                f"{num_elements(src)}, result {fmt_shape(dst)} has {num_elements(dst)}"
            )

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """reshape to the input's own type -> the input"""
        return self.input if self.input.type == self.result.type else None

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        src = reshape_axis(shape_of(self.input), shape_of(self.result), axis)
        return None if src is None else [src]

    def symbolic_dims(self, operand_shapes: Sequence[Sequence[Dim]]) -> list[list[Dim | None]]:
        """One `?` is the input's element count over the known dims (numpy's -1)."""
        out: list[Dim | None] = [None if d == DYNAMIC else d for d in shape_of(self.result)]
        unknown = [a for a, d in enumerate(out) if d is None]
        if len(unknown) == 1:
            try:
                out[unknown[0]] = product(operand_shapes[0]) // product(
                    d for d in out if d is not None
                )
            except ValueError:
                pass
        return [out]


@irdl_op_definition
class BroadcastToOp(ShapeOp):
    """Broadcasts to a larger shape with numpy rules, e.g.
    %b = red.broadcast_to %x : tensor<1x3xf32> -> tensor<4x3xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.broadcast_to"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure(), canonicalization_patterns("red", "FoldBroadcastOfBroadcast"))
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue | Operation, shape: Sequence[int]):
        elt = element_type_of(SSAValue.get(input))
        super().__init__(operands=[input], result_types=[tensor_type(shape, elt)])

    def verify_operands(self) -> None:
        src, dst = shape_of(self.input), shape_of(self.result)
        if (it := element_type_of(self.input)) != (rt := element_type_of(self.result)):
            raise ShapeError(f"element types differ: input has '{it}', result has '{rt}'")
        ok = len(src) <= len(dst) and all(
            s in (1, d) or DYNAMIC in (s, d) for s, d in zip(src, dst[len(dst) - len(src) :])
        )
        if not ok:
            raise ShapeError(f"input shape {fmt_shape(src)} does not broadcast to {fmt_shape(dst)}")

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """broadcast_to the input's own type -> the input"""
        return self.input if self.input.type == self.result.type else None


@irdl_op_definition
class SliceOp(ShapeOp):
    """Takes elements start <= i < limit with a stride, per dimension, e.g.
    %s = red.slice %x [1, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>"""

    SPLAT_PRESERVING: ClassVar[bool] = True

    name = "red.slice"

    input = operand_def(TensorType)
    start = prop_def(DenseArrayBase.constr(i64))
    limit = prop_def(DenseArrayBase.constr(i64))
    stride = prop_def(DenseArrayBase.constr(i64))
    result = result_def(TensorType)

    traits = traits_def(
        Pure(), canonicalization_patterns("red", "FoldSliceOfSlice", "FoldSliceOfConcat")
    )
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
            result_types=[tensor_type(shape, element_type_of(SSAValue.get(input)))],
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

    def infer_result_types(self) -> Sequence[Attribute]:
        shape = shape_of(self.input)
        start, limit, stride = self.bounds
        for name, arr in (("start", start), ("limit", limit), ("stride", stride)):
            if len(arr) != len(shape):
                raise ShapeError(
                    f"expected {len(shape)} {name} values (input rank), got {len(arr)}"
                )
        for d, (lo, hi, st, n) in enumerate(zip(start, limit, stride, shape)):
            if st < 1:
                raise ShapeError(f"stride {st} of dimension {d} must be >= 1")
            if not 0 <= lo <= hi or (n != DYNAMIC and hi > n):
                raise ShapeError(
                    f"slice [{lo}, {hi}) of dimension {d} is out of bounds for size "
                    f"{fmt_shape([n])} (expected 0 <= start <= limit <= size)"
                )
        out = [-(-(hi - lo) // st) for lo, hi, st in zip(start, limit, stride)]
        return [tensor_type(out, element_type_of(self.input))]

    def cut_axes(self) -> list[int]:
        """The axes this slice does not take whole."""
        start, limit, stride = self.bounds
        shape = shape_of(self.input)
        return [a for a, n in enumerate(shape) if (start[a], limit[a], stride[a]) != (0, n, 1)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """slice(x, 0, dims, 1) -> x (any stride over a dim of size 1 takes all of it)"""
        start, limit, stride = self.bounds
        whole = all(
            lo == 0 and hi == n and (st == 1 or n <= 1)
            for lo, hi, st, n in zip(start, limit, stride, shape_of(self.input))
        )
        return _same(self, self.input) if whole else None

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        """Row r reads row r of the input along an axis the slice starts at 0 with stride 1."""
        start, _, stride = self.bounds
        return [axis] if (start[axis], stride[axis]) == (0, 1) else None

    def resized(self, operands: Sequence[SSAValue], result_types: Sequence[Attribute]) -> Operation:
        """Axes taken whole stay whole at the input's new extent."""
        start, limit, stride = self.bounds
        old, new = shape_of(self.input), shape_of(operands[0])
        whole = [(start[d], limit[d], stride[d]) == (0, old[d], 1) for d in range(len(old))]
        limits = [new[d] if whole[d] else limit[d] for d in range(len(old))]
        op = SliceOp(operands[0], start, limits, stride)
        op.location = self.location
        return op

    def operand_demands(self, demand: Demand) -> Sequence[Demand] | None:
        start, limit, stride = self.bounds
        if demand is None:
            return [None]
        if isinstance(demand, RowAt):  # row r of the slice is row r of the input from 0
            whole = (start[demand.axis], stride[demand.axis]) == (0, 1)
            return [demand] if whole else [ALL]
        if not isinstance(demand, Rows):
            cut = self.cut_axes()
            if len(cut) != 1:
                return [ALL]
            a = cut[0]
            return [Rows(a, tuple(range(start[a], limit[a], stride[a])))]
        a = demand.axis
        return [Rows(a, tuple(start[a] + i * stride[a] for i in demand.indices))]


def _same(op: Operation, value: SSAValue) -> SSAValue | None:
    return value if value.type == op.results[0].type else None


@irdl_op_definition
class ConcatOp(ShapeOp):
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
        result_type = inferred(type(self), self.infer, [v.type for v in values], axis)
        super().__init__(
            operands=[values],
            result_types=[result_type],
            properties={"axis": IntegerAttr(axis, i64)},
        )

    @staticmethod
    def infer(types: Sequence[Attribute], axis: int) -> TensorType:
        if not types:
            raise ShapeError("expected at least one input")
        first = shape_of(types[0])
        elt = element_type_of(types[0])
        check_axis(axis, len(first))
        total = 0
        for i, t in enumerate(types):
            s = shape_of(t)
            if element_type_of(t) != elt:
                raise ShapeError(
                    f"input #{i} has element type '{element_type_of(t)}', expected '{elt}'"
                )
            if len(s) != len(first) or not all(
                a == b or DYNAMIC in (a, b) for d, (a, b) in enumerate(zip(s, first)) if d != axis
            ):
                raise ShapeError(
                    f"input #{i} has shape {fmt_shape(s)}, expected {fmt_shape(first)} "
                    f"except along axis {axis}"
                )
            total = DYNAMIC if DYNAMIC in (total, s[axis]) else total + s[axis]
        out = list(first)
        out[axis] = total
        return tensor_type(out, elt)

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer([v.type for v in self.inputs], self.axis.value.data)]

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """concat(x) -> x"""
        return _same(self, self.inputs[0]) if len(self.inputs) == 1 else None

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        return None if axis == self.axis.value.data else [axis] * len(self.inputs)

    def symbolic_dims(self, operand_shapes: Sequence[Sequence[Dim]]) -> list[list[Dim | None]]:
        """Along the axis, the sum of the inputs' extents."""
        axis = self.axis.value.data
        out: list[Dim | None] = [None] * len(shape_of(self.result))
        total: Dim = 0
        for shape in operand_shapes:
            total = total + shape[axis]
        out[axis] = total
        return [out]

    def operand_demands(self, demand: Demand) -> Sequence[Demand] | None:
        """Along the concat axis an input outside the demanded rows is not needed at all."""
        axis = self.axis.value.data
        if isinstance(demand, RowAt) and demand.axis == axis:
            return None  # which input holds the row is only known at run time
        if not isinstance(demand, Rows) or demand.axis != axis:
            return super().operand_demands(demand)
        out: list[Demand] = []
        offset = 0
        for v in self.inputs:
            n = shape_of(v)[axis]
            mine = tuple(i - offset for i in demand.indices if offset <= i < offset + n)
            out.append(Rows(axis, mine) if mine else None)
            offset += n
        return out


@irdl_op_definition
class GatherOp(ShapeOp):
    """numpy.take(table, indices, axis) (indices in [-n, n)): embedding lookup by ids, e.g.
    %e = red.gather %wte, %ids axis = 0 : tensor<512x64xf32>, tensor<32xi64> -> tensor<32x64xf32>"""

    name = "red.gather"

    table = operand_def(TensorType)
    indices = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)

    traits = traits_def(Pure(), canonicalization_patterns("red", "FoldGatherOfIota"))
    assembly_format = (
        "$table `,` $indices `axis` `=` $axis attr-dict `:` type($table) `,` type($indices) "
        "`->` type($result)"
    )

    def __init__(self, table: SSAValue | Operation, indices: SSAValue | Operation, axis: int = 0):
        t, i = SSAValue.get(table).type, SSAValue.get(indices).type
        super().__init__(
            operands=[table, indices],
            result_types=[inferred(type(self), self.infer, t, i, axis)],
            properties={"axis": IntegerAttr(axis, i64)},
        )

    @staticmethod
    def infer(table: Attribute, indices: Attribute, axis: int) -> TensorType:
        t, i = shape_of(table), shape_of(indices)
        check_axis(axis, len(t))
        if not is_integer_type(it := element_type_of(indices)) or it == i1:
            raise ShapeError(f"expected integer indices, got element type '{it}'")
        return tensor_type((*t[:axis], *i, *t[axis + 1 :]), element_type_of(table))

    def infer_result_types(self) -> Sequence[Attribute]:
        return [self.infer(self.table.type, self.indices.type, self.axis.value.data)]

    def row_sources(self, axis: int) -> Sequence[RowSource]:
        """Along the index axes a row reads one row of the indices and any row of the
        table; along the table's other axes, that axis of the table."""
        gather_axis = self.axis.value.data
        index_rank = len(shape_of(self.indices))
        if axis < gather_axis:
            return [axis, BROADCAST]
        if axis < gather_axis + index_rank:
            return [WHOLE, axis - gather_axis]
        return [axis - index_rank + 1, BROADCAST]

    def operand_demands(self, demand: Demand) -> Sequence[Demand] | None:
        """With constant indices, the table rows they pick are all it needs."""
        if demand is ALL:
            const = constant_value(self.indices)
            if const is None:
                return [ALL, ALL]
            picked = tuple(sorted(set(const.reshape(-1).tolist())))
            return [Rows(self.axis.value.data, picked), ALL]
        return super().operand_demands(demand)
