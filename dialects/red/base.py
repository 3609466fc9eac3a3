"""What every red op shares: shape helpers, and `RedOp`, the base class that carries the
per-op facts the passes ask for (DESIGN.md §2, README "How to add an op").

Each op answers, in its own class:
- its result type (`infer_result_types`), used by its constructor and by its verifier alike;
- `fold`: the existing value or the constant it equals, given which operands are constants;
- its canonicalization patterns (xDSL's `HasCanonicalizationPatternsTrait`);
- `cost`: FLOPs and bytes moved;
- `row_sources`: how row r of the result along an axis reads each operand, the fact both
  narrow-to-uses (demand) and incrementalize (row causality) are built on; ops that move
  rows around (slice, gather, concat, ...) refine `operand_demands` instead.
Passes ask the op (`op.cost()`, `op.operand_demands(d)`); they never keep tables of op
classes of their own."""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    IndexType,
    IntegerType,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.pattern_rewriter import RewritePattern
from xdsl.traits import HasCanonicalizationPatternsTrait
from xdsl.utils.exceptions import VerifyException

if TYPE_CHECKING:
    import numpy as np

    from red.dialects.red.dims import Dim

DYNAMIC = DYNAMIC_INDEX
"""xDSL's encoding of a `?` dimension in `get_shape()` (-2**63 in 0.74, not -1)."""

INVARIANT_ATTR = "red.invariant"
"""Unit argument attribute: the argument does not change between calls (weights)."""

FASTMATH = "fastmath"
"""Unit property of the float ops whose rewrites may ignore NaN, Inf and signed zero
(`x + 0 -> x`, `x * 0 -> 0`, `x - x -> 0`), as MLIR's arith `fastmath<...>` flags do."""


# region Helpers


class ShapeError(VerifyException):
    """A type or shape rule an op's operands break; the message names expected and actual
    values and lacks the `'red.x' op ` prefix, which the caller adds."""


def op_error(op: Operation | type[Operation], message: str) -> VerifyException:
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


def tensor_type(shape: Sequence[int], element_type: Attribute) -> TensorType:
    return TensorType(element_type, list(shape))


def fmt_shape(shape: Sequence[int]) -> str:
    return "x".join("?" if d == DYNAMIC else str(d) for d in shape) if shape else "scalar"


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


def element_count(typ: Attribute) -> int:
    """Elements of a tensor type (a `?` counts as 1); 1 for scalars."""
    if isinstance(typ, TensorType):
        return math.prod(max(d, 1) if d != DYNAMIC else 1 for d in typ.get_shape())
    return 1


def byte_size(typ: Attribute) -> int:
    """Bytes of a value of this type (scalars count 8: an index or a pointer)."""
    if isinstance(typ, TensorType):
        elt = typ.get_element_type()
        width = getattr(elt, "bitwidth", None) or getattr(getattr(elt, "width", None), "data", 32)
        return element_count(typ) * max(1, (width + 7) // 8)
    return 8


def check_axis(axis: int, rank: int, what: str = "axis") -> None:
    if not 0 <= axis < rank:
        raise ShapeError(
            f"{what} {axis} is out of range for rank {rank} (expected 0 <= {what} < {rank})"
        )


def check_result_type(op: Operation, result: SSAValue, expected: Attribute) -> None:
    """The declared result type must be the inferred one (a `?` matches either way)."""
    actual = result.type
    assert isinstance(actual, TensorType)
    assert isinstance(expected, TensorType)
    if actual.get_element_type() != expected.get_element_type() or not shapes_compatible(
        shape_of(actual), shape_of(expected)
    ):
        raise op_error(op, f"expected result type '{expected}', got '{actual}'")


def inferred(op_class: type[Operation], infer: object, *args: object) -> TensorType:
    """Call an op class's inference for its constructor: a ShapeError becomes the op's
    located-style verifier message."""
    try:
        result = infer(*args)  # type: ignore[operator]
    except ShapeError as err:
        raise op_error(op_class, str(err)) from None
    assert isinstance(result, TensorType)
    return result


# endregion Helpers

# region Facts


@dataclass(frozen=True)
class Cost:
    """FLOPs and bytes moved (read + written) of an op or a region: ints, or polynomials
    in the symbols of dynamic dims (`red.dialects.red.dims.Poly`)."""

    flops: Any = 0
    bytes: Any = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.bytes + other.bytes)

    def scaled(self, times: Any) -> Cost:
        return Cost(self.flops * times, self.bytes * times)


class Sizes:
    """Sizes of values as the cost rules read them: from the types (a `?` dim counts as 1),
    or, in a subclass, from a symbolic shape analysis (a `?` dim is its symbol)."""

    def dims(self, v: SSAValue) -> Sequence[Any]:
        return [max(d, 1) if d != DYNAMIC else 1 for d in shape_of(v)]

    def count(self, v: SSAValue) -> Any:
        if not isinstance(v.type, TensorType):
            return 1
        total: Any = 1
        for d in self.dims(v):
            total = total * d
        return total

    def bytes(self, v: SSAValue) -> Any:
        if not isinstance(v.type, TensorType):
            return 8
        elt = element_type_of(v)
        width = getattr(elt, "bitwidth", None) or getattr(getattr(elt, "width", None), "data", 32)
        return self.count(v) * max(1, (width + 7) // 8)


TYPE_SIZES = Sizes()


class _Whole:
    """Row r of the result reads all of this operand, its own rows included."""

    def __repr__(self) -> str:
        return "WHOLE"


class _Broadcast:
    """The operand has no extent along this axis (it is broadcast): every row reads all of
    it, and it does not vary from row to row."""

    def __repr__(self) -> str:
        return "BROADCAST"


WHOLE = _Whole()
BROADCAST = _Broadcast()
RowSource = int | _Whole | _Broadcast
"""How one row of a result along an axis reads an operand: the operand axis whose row of
the same index it reads, WHOLE or BROADCAST."""


@dataclass(frozen=True)
class Rows:
    """The indices (sorted, unique) needed along one axis; every other axis whole."""

    axis: int
    indices: tuple[int, ...]


@dataclass(frozen=True)
class RowAt:
    """One row along `axis`, at the run-time index `offset` (an index or integer scalar, or
    a 0-d integer tensor), e.g. the last position of a sequence of unknown length; the
    other axes whole."""

    axis: int
    offset: SSAValue


class _All:
    def __repr__(self) -> str:
        return "ALL"


ALL = _All()
Demand = Rows | RowAt | _All | None
"""What a use needs of a value: some rows, one row at a run-time index, ALL of it, or
nothing (None)."""


def demand_along(demand: Rows | RowAt, axis: int) -> Demand:
    """The same rows of another axis (an operand's axis the demanded one reads)."""
    if isinstance(demand, Rows):
        return Rows(axis, demand.indices)
    return RowAt(axis, demand.offset)


def broadcast_source(result_rank: int, operand: SSAValue, axis: int) -> RowSource:
    """The row source of a numpy-broadcast operand for result axis `axis`."""
    shape = shape_of(operand)
    own = axis - (result_rank - len(shape))
    if own < 0 or shape[own] == 1:
        return BROADCAST
    return own


class RedOp(IRDLOperation):
    """Base class of the red ops: the facts every pass asks of an op (module docstring).
    Subclasses override what differs from the defaults, which describe an elementwise op."""

    FLOPS_PER_ELEMENT: ClassVar[int] = 1
    """FLOPs per result element (transcendental functions weigh more)."""

    SPLAT_PRESERVING: ClassVar[bool] = False
    """Whether the result is a splat when every operand is one (elementwise ops, and shape
    ops that only move elements): folding then computes one element, whatever the size."""

    MOVES_DATA: ClassVar[bool] = True
    """False for ops that only reinterpret or create data (reshape views, constants): they
    move no bytes at run time."""

    # region result types

    def infer_result_types(self) -> Sequence[Attribute] | None:
        """The result types the operands and properties imply (raise ShapeError when they
        break the op's rules); None when the result type is itself part of the op's
        specification (a reshape's target, a cast's element type) and checked elsewhere."""
        return None

    def verify_(self) -> None:
        try:
            self.verify_operands()
            expected = self.infer_result_types()
        except ShapeError as err:
            raise op_error(self, str(err)) from None
        if expected is not None:
            for result, typ in zip(self.results, expected, strict=True):
                check_result_type(self, result, typ)

    def verify_operands(self) -> None:
        """Checks beyond the result type (raise ShapeError)."""

    # endregion result types

    # region folding

    def fold(self, constants: Sequence[np.ndarray | None]) -> SSAValue | np.ndarray | None:
        """The value this op equals when some operands are constants (`constants[i]` is the
        value of operand i, or None): an existing SSA value, or an array (a 0-d array means
        a splat of the result type); None if nothing folds. Constant evaluation of ops whose
        operands are all constants is done by canonicalize (under its size guard) when
        `fold` returns None."""
        return None

    @property
    def fast_math(self) -> bool:
        return FASTMATH in self.properties and isinstance(self.properties[FASTMATH], UnitAttr)

    # endregion folding

    # region cost

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        """FLOPs and bytes of this op alone (nested regions are the cost model's business),
        with sizes read from the types or from a symbolic shape analysis."""
        if not self.results:
            return Cost()
        flops = self.FLOPS_PER_ELEMENT * sizes.count(self.results[0])
        return Cost(flops, self.bytes_moved(sizes))

    def bytes_moved(self, sizes: Sizes = TYPE_SIZES) -> Any:
        if not self.MOVES_DATA:
            return 0
        total: Any = 0
        for v in (*self.operands, *self.results):
            total = total + sizes.bytes(v)
        return total

    # endregion cost

    # region rows

    def row_sources(self, axis: int) -> Sequence[RowSource] | None:
        """How row r along result `axis` reads each operand (module docstring); None when
        the op is not row-wise along `axis` (row r depends on other rows of some operand in
        a way no single axis describes). The default is elementwise with broadcasting."""
        rank = len(shape_of(self.results[0]))
        return [broadcast_source(rank, v, axis) for v in self.operands]

    def operand_demands(self, demand: Demand) -> Sequence[Demand] | None:
        """What each operand must provide for `demand` on the (single) result; None when
        the op is not row-wise for it (then every operand is needed whole)."""
        if demand is None:
            return [None] * len(self.operands)
        if not isinstance(demand, Rows | RowAt):
            return None
        sources = self.row_sources(demand.axis)
        if sources is None:
            return None
        return [demand_along(demand, s) if isinstance(s, int) else ALL for s in sources]

    def symbolic_dims(
        self, operand_shapes: Sequence[Sequence[Dim]]
    ) -> list[list[Dim | None]] | None:
        """Result dims (per result, per axis; None where unknown) for `?` dims the row facts
        do not determine, given the operands' symbolic shapes; None: no rule of its own."""
        return None

    def resized(self, operands: Sequence[SSAValue], result_types: Sequence[Attribute]) -> Operation:
        """This op on operands whose row-wise axes have other extents, giving `result_types`
        (the rebuild narrow-to-uses and incrementalize do). Ops whose properties name
        extents (slice limits, dynamic slice sizes) override it."""
        return rebuilt(self, operands, result_types)

    # endregion rows


def canonicalization_patterns(dialect_module: str, *names: str) -> HasCanonicalizationPatternsTrait:
    """A canonicalization trait returning the named patterns of red's canonicalization
    module for a dialect (imported on first use, the exception to the layering that xDSL's
    own dialects make too: patterns live with the transforms, ops only name them)."""

    class Patterns(HasCanonicalizationPatternsTrait):
        @classmethod
        def get_canonicalization_patterns(cls) -> tuple[RewritePattern, ...]:
            module = importlib.import_module(f"red.transforms.canonicalization.{dialect_module}")
            return tuple(getattr(module, n)() for n in names)

    return Patterns()


def rebuilt(op: Operation, operands: Sequence[SSAValue], result_types: Sequence[Attribute]):
    """A copy of `op` (same class, properties and attributes) on other operands with other
    result types, e.g. narrowed ones; the caller inserts and verifies it."""
    new = type(op).create(
        operands=list(operands),
        result_types=list(result_types),
        properties=dict(op.properties),
        attributes=dict(op.attributes),
    )
    new.location = op.location
    return new


# endregion Facts
