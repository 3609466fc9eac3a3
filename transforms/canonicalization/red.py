"""Canonicalization patterns of the red dialect: constant folding with numpy (bounded by
max-fold-bytes), identities that are exact in IEEE arithmetic, inverse and identity shape
ops, and a canonical operand order for commutative ops. Rewrites that are wrong under
NaN, Inf or signed zero (x+0, x*0, x-x on floats) run only with fast-math."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DenseResourceAttr, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.traits import Commutative

from red.dialects import red
from red.dialects.numpy_interop import dense_to_numpy, numpy_to_dense
from red.dialects.red_interpreter import can_evaluate, evaluate_op
from red.transforms.analysis import findings

# region Constants


def constant_array(value: SSAValue) -> np.ndarray | None:
    """The value of a red.constant, tensor arith.constant or red.iota result, else None."""
    owner = value.owner
    if isinstance(owner, red.ConstantOp | arith.ConstantOp) and isinstance(
        owner.value, DenseIntOrFPElementsAttr | DenseResourceAttr
    ):
        try:
            return dense_to_numpy(owner.value)
        except Exception:  # a resource without data, an unsupported dtype: not foldable
            return None
    if isinstance(owner, red.IotaOp):
        return _evaluate(owner, [])
    return None


def is_constant(value: SSAValue) -> bool:
    return isinstance(value.owner, red.ConstantOp | arith.ConstantOp | red.IotaOp)


def _splat_value(value: SSAValue) -> np.ndarray | None:
    """The single value of a constant whose elements are all equal (bitwise for floats)."""
    owner = value.owner
    if not isinstance(owner, red.ConstantOp | arith.ConstantOp):
        return None
    arr = constant_array(value)
    if arr is None or arr.size == 0:
        return None
    first = arr.reshape(-1)[:1]
    if arr.dtype.kind == "f":
        same = np.all(arr.view(f"u{arr.itemsize}") == first.view(f"u{arr.itemsize}"))
    else:
        same = np.all(arr == first)
    return first if same else None


def is_splat(value: SSAValue, scalar: float, negative_zero: bool | None = None) -> bool:
    """Whether every element equals `scalar`; for zero, `negative_zero` picks the sign."""
    first = _splat_value(value)
    if first is None or first[0] != scalar:
        return False
    if scalar == 0 and negative_zero is not None and first.dtype.kind == "f":
        return bool(np.signbit(first[0])) == negative_zero
    return True


def _evaluate(op: Operation, args: Sequence[np.ndarray]) -> np.ndarray | None:
    if not can_evaluate(op):
        return None
    try:
        return np.asarray(evaluate_op(op, args)[0])
    except Exception:  # e.g. an out-of-range gather: leave the error to run time
        return None


def make_constant(rewriter: PatternRewriter, op: Operation, array: np.ndarray) -> None:
    typ = op.results[0].type
    assert isinstance(typ, TensorType)
    rewriter.replace(op, red.ConstantOp(numpy_to_dense(array, typ.get_element_type())))


# endregion Constants


@dataclass
class CanonicalizeOptions:
    fast_math: bool = False
    max_fold_bytes: int = 1 << 20
    position: Callable[[Operation], int | None] = lambda op: None


def _replace_with_value(
    rewriter: PatternRewriter, op: Operation, value: SSAValue, kind: str
) -> bool:
    """Replace op by an existing value of the same type; False if the types differ (a
    broadcast would be needed)."""
    if value.type != op.results[0].type:
        return False
    findings.record(kind, [op])
    rewriter.replace(op, [], [value])
    return True


class FoldConstantOperands(RewritePattern):
    """op(constants...) -> constant, evaluated with the interpreter's numpy implementation,
    unless it would add more than max-fold-bytes of constants net of the constants it kills."""

    def __init__(self, options: CanonicalizeOptions):
        self.options = options

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if (
            isinstance(op, red.ConstantOp | red.IotaOp | red.MemoOp | red.YieldOp)
            or not op.operands
            or len(op.results) != 1
            or not all(is_constant(v) for v in op.operands)
        ):
            return
        typ = op.results[0].type
        if not isinstance(typ, TensorType) or red.DYNAMIC in typ.get_shape():
            return
        new_bytes = _nbytes(typ)
        freed = sum(
            _nbytes(v.type)
            for v in set(op.operands)
            if isinstance(v.owner, red.ConstantOp | arith.ConstantOp)
            and all(u.operation is op for u in v.uses)
        )
        if new_bytes - freed > self.options.max_fold_bytes:
            return
        args = [constant_array(v) for v in op.operands]
        if any(a is None for a in args):
            return
        result = _evaluate(op, args)  # type: ignore[arg-type]
        if result is None:
            return
        findings.record("foldable", [op])
        make_constant(rewriter, op, np.asarray(result))


def _nbytes(typ: Any) -> int:
    from red.transforms.analysis.cost_model import byte_size

    return byte_size(typ)


class ConvertArithTensorConstant(RewritePattern):
    """arith.constant dense<...> : tensor<...> -> red.constant (one constant op for tensors)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /):
        if isinstance(op.value, DenseIntOrFPElementsAttr | DenseResourceAttr) and isinstance(
            op.result.type, TensorType
        ):
            rewriter.replace(op, red.ConstantOp(op.value))


# region Arithmetic identities


def _is_int(op: Operation) -> bool:
    return not red.is_float_type(red.element_type_of(op.results[0]))


class MoveConstantsRight(RewritePattern):
    """commutative(c, x) -> commutative(x, c); two non-constants in program order."""

    def __init__(self, options: CanonicalizeOptions):
        self.options = options

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if not isinstance(op, red.BinaryElementwiseOp) or not op.has_trait(Commutative):
            return
        lhs, rhs = op.lhs, op.rhs
        if is_constant(lhs) and not is_constant(rhs):
            swap = True
        elif is_constant(lhs) == is_constant(rhs):
            kl, kr = _order_key(lhs, self.options), _order_key(rhs, self.options)
            swap = kl is not None and kr is not None and kr < kl
        else:
            swap = False
        if swap:
            rewriter.replace(op, type(op)(rhs, lhs, op.result.type))


def _order_key(v: SSAValue, options: CanonicalizeOptions) -> tuple[int, int] | None:
    owner = v.owner
    if isinstance(owner, Operation):
        pos = options.position(owner)
        return None if pos is None else (1, pos)
    return (0, v.index)  # type: ignore[attr-defined]


class EraseMultiplyByOne(RewritePattern):
    """x * 1 -> x, 1 * x -> x (exact, including NaN, Inf and -0)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MulOp, rewriter: PatternRewriter, /):
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if is_splat(c, 1) and _replace_with_value(rewriter, op, x, "identity"):
                return


class EraseDivideByOne(RewritePattern):
    """x / 1 -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.DivOp, rewriter: PatternRewriter, /):
        if is_splat(op.rhs, 1):
            _replace_with_value(rewriter, op, op.lhs, "identity")


class EraseSubtractZero(RewritePattern):
    """x - (+0) -> x (x - (-0) would turn -0 into +0)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SubOp, rewriter: PatternRewriter, /):
        if is_splat(op.rhs, 0, negative_zero=False):
            _replace_with_value(rewriter, op, op.lhs, "identity")


class EraseAddZero(RewritePattern):
    """x + (-0) -> x always; x + (+0) -> x for integers, or for floats with fast-math (it
    turns -0 into +0)"""

    def __init__(self, options: CanonicalizeOptions):
        self.options = options

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.AddOp, rewriter: PatternRewriter, /):
        exact_sign = None if (_is_int(op) or self.options.fast_math) else True
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if is_splat(c, 0, negative_zero=exact_sign) and _replace_with_value(
                rewriter, op, x, "identity"
            ):
                return


class FoldMultiplyByZero(RewritePattern):
    """x * 0 -> 0 for integers, or for floats with fast-math (NaN * 0 is NaN)"""

    def __init__(self, options: CanonicalizeOptions):
        self.options = options

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MulOp, rewriter: PatternRewriter, /):
        if not (_is_int(op) or self.options.fast_math):
            return
        if is_splat(op.lhs, 0) or is_splat(op.rhs, 0):
            _replace_with_zeros(rewriter, op)


class FoldSubtractSelf(RewritePattern):
    """x - x -> 0 for integers, or for floats with fast-math (Inf - Inf is NaN)"""

    def __init__(self, options: CanonicalizeOptions):
        self.options = options

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SubOp, rewriter: PatternRewriter, /):
        if op.lhs is op.rhs and (_is_int(op) or self.options.fast_math):
            _replace_with_zeros(rewriter, op)


def _replace_with_zeros(rewriter: PatternRewriter, op: Operation) -> None:
    typ = op.results[0].type
    assert isinstance(typ, TensorType)
    if red.DYNAMIC in typ.get_shape():
        return
    findings.record("identity", [op])
    zero = np.zeros((), dtype=_dtype(typ))
    splat = numpy_to_dense(np.broadcast_to(zero, typ.get_shape()), typ.get_element_type())
    rewriter.replace(op, red.ConstantOp(splat))


def _dtype(typ: TensorType) -> Any:
    from red.dialects.numpy_interop import numpy_dtype

    return numpy_dtype(typ.get_element_type())


class EraseDoubleNegation(RewritePattern):
    """neg(neg(x)) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.NegOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.input.owner, red.NegOp):
            _replace_with_value(rewriter, op, inner.input, "identity")


class EraseSelfMaxMin(RewritePattern):
    """max(x, x) -> x, min(x, x) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.MaxOp | red.MinOp, rewriter: PatternRewriter, /):
        if op.lhs is op.rhs:
            _replace_with_value(rewriter, op, op.lhs, "identity")


class SimplifySelect(RewritePattern):
    """select(c, x, x) -> x; select(true, x, y) -> x; select(false, x, y) -> y"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SelectOp, rewriter: PatternRewriter, /):
        if op.true_value is op.false_value:
            _replace_with_value(rewriter, op, op.true_value, "identity")
        elif is_splat(op.condition, True):
            _replace_with_value(rewriter, op, op.true_value, "identity")
        elif is_splat(op.condition, False):
            _replace_with_value(rewriter, op, op.false_value, "identity")


class ErasePowOne(RewritePattern):
    """pow(x, 1) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.PowOp, rewriter: PatternRewriter, /):
        if is_splat(op.rhs, 1):
            _replace_with_value(rewriter, op, op.lhs, "identity")


# endregion Arithmetic identities

# region Shape ops


class FoldTransposeOfTranspose(RewritePattern):
    """transpose(transpose(x, p), q) -> transpose(x, [p[i] for i in q])"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.TransposeOp, rewriter: PatternRewriter, /):
        if not isinstance(inner := op.input.owner, red.TransposeOp):
            return
        p, q = inner.perm, op.perm
        findings.record("identity", [op])
        rewriter.replace(op, red.TransposeOp(inner.input, [p[i] for i in q]))


class EraseIdentityTranspose(RewritePattern):
    """transpose(x, [0, 1, ...]) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.TransposeOp, rewriter: PatternRewriter, /):
        if op.perm == tuple(range(len(op.perm))):
            _replace_with_value(rewriter, op, op.input, "identity")


class FoldReshapeOfReshape(RewritePattern):
    """reshape(reshape(x)) -> reshape(x)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.ReshapeOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.input.owner, red.ReshapeOp):
            findings.record("identity", [op])
            rewriter.replace(op, red.ReshapeOp(inner.input, red.shape_of(op.result)))


class EraseIdentityShapeOp(RewritePattern):
    """reshape, broadcast_to or cast to the input's own type -> the input"""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: red.ReshapeOp | red.BroadcastToOp | red.CastOp, rewriter: PatternRewriter, /
    ):
        if op.input.type == op.result.type:
            _replace_with_value(rewriter, op, op.input, "identity")


class FoldBroadcastOfBroadcast(RewritePattern):
    """broadcast_to(broadcast_to(x)) -> broadcast_to(x)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.BroadcastToOp, rewriter: PatternRewriter, /):
        if isinstance(inner := op.input.owner, red.BroadcastToOp):
            findings.record("identity", [op])
            rewriter.replace(op, red.BroadcastToOp(inner.input, red.shape_of(op.result)))


class EraseFullSlice(RewritePattern):
    """slice(x, 0, dims, 1) -> x (any stride over a dim of size 1 takes all of it)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SliceOp, rewriter: PatternRewriter, /):
        start, limit, stride = op.bounds
        shape = red.shape_of(op.input)
        if all(
            lo == 0 and hi == n and (st == 1 or n <= 1)
            for lo, hi, st, n in zip(start, limit, stride, shape)
        ):
            _replace_with_value(rewriter, op, op.input, "identity")


class FoldGatherOfIota(RewritePattern):
    """gather(t, iota(k) = [0, 1, ..., k-1], axis) -> slice(t, [0, k) along axis) (-> t when
    k is t's extent): a lookup of consecutive rows is those rows (e.g. position embeddings)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.GatherOp, rewriter: PatternRewriter, /):
        indices = op.indices.owner
        if not (isinstance(indices, red.IotaOp) and len(red.shape_of(op.indices)) == 1):
            return
        axis = op.axis.value.data
        shape = red.shape_of(op.table)
        k = red.shape_of(op.indices)[0]
        if red.DYNAMIC in (k, shape[axis]) or k > shape[axis]:
            return
        limit = list(shape)
        limit[axis] = k
        findings.record("identity", [op])
        if k == shape[axis]:
            rewriter.replace(op, [], [op.table])
        else:
            rewriter.replace(op, red.SliceOp(op.table, [0] * len(shape), limit))


class FoldSliceOfSlice(RewritePattern):
    """slice(slice(x, a, _, s), b, c, t) -> slice(x, a + b·s, a + (c-1)·s + 1, s·t)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SliceOp, rewriter: PatternRewriter, /):
        if not isinstance(inner := op.input.owner, red.SliceOp):
            return
        a, _, s = inner.bounds
        b, c, t = op.bounds
        start: list[int] = []
        limit: list[int] = []
        for ai, bi, ci, si in zip(a, b, c, s):
            if ci > bi:
                start.append(ai + bi * si)
                limit.append(ai + (ci - 1) * si + 1)
            else:  # empty: a + b·s may lie past the end of x, a is in bounds
                start.append(ai)
                limit.append(ai)
        stride = [si * ti for si, ti in zip(s, t)]
        findings.record("identity", [op])
        rewriter.replace(op, red.SliceOp(inner.input, start, limit, stride))


class FoldSliceOfConcat(RewritePattern):
    """slice(concat(x0, x1, ...)) along the concat axis with stride 1 -> the part of the one
    input it lies in, or the concat of the inputs it covers exactly; a slice that would need
    several partial slices is left to narrow-to-uses (it would grow the op count)"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.SliceOp, rewriter: PatternRewriter, /):
        if not isinstance(concat := op.input.owner, red.ConcatOp):
            return
        axis = concat.axis.value.data
        start, limit, stride = op.bounds
        if stride[axis] != 1:
            return
        lo, hi = start[axis], limit[axis]
        pieces: list[tuple[SSAValue, list[int], list[int]]] = []
        offset = 0
        for x in concat.inputs:
            n = red.shape_of(x)[axis]
            if n == red.DYNAMIC:
                return
            a, b = max(lo, offset), min(hi, offset + n)
            if a < b:
                s, l_ = list(start), list(limit)
                s[axis], l_[axis] = a - offset, b - offset
                pieces.append((x, s, l_))
            offset += n
        if not pieces or (len(pieces) == len(concat.inputs) and len(pieces) > 1):
            return  # nothing, or every input: nothing gained
        shape_of = red.shape_of
        partial = [
            (x, s, l_) for x, s, l_ in pieces
            if any(v != 0 for v in s) or tuple(l_) != shape_of(x) or any(t != 1 for t in stride)
        ]  # fmt: skip
        if len(pieces) > 1 and partial:
            return
        findings.record("identity", [op])
        if len(pieces) == 1:
            x, s, l_ = pieces[0]
            if partial:
                rewriter.replace(op, red.SliceOp(x, s, l_, list(stride)))
            else:
                rewriter.replace(op, [], [x])
            return
        rewriter.replace(op, red.ConcatOp([x for x, _, _ in pieces], axis))


class EraseSingleInputConcat(RewritePattern):
    """concat(x) -> x"""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: red.ConcatOp, rewriter: PatternRewriter, /):
        if len(op.inputs) == 1:
            _replace_with_value(rewriter, op, op.inputs[0], "identity")


# endregion Shape ops


def red_patterns(options: CanonicalizeOptions) -> dict[type[Operation], list[RewritePattern]]:
    """The canonicalization patterns of each red op type (constant folding first)."""
    fold = FoldConstantOperands(options)
    order = MoveConstantsRight(options)
    table: dict[type[Operation], list[RewritePattern]] = {}
    for op_type in red.Red.operations:
        table[op_type] = [fold]
        if op_type.has_trait(Commutative) and issubclass(op_type, red.BinaryElementwiseOp):
            table[op_type].append(order)
    extra: dict[type[Operation], list[RewritePattern]] = {
        red.MulOp: [EraseMultiplyByOne(), FoldMultiplyByZero(options)],
        red.DivOp: [EraseDivideByOne()],
        red.SubOp: [EraseSubtractZero(), FoldSubtractSelf(options)],
        red.AddOp: [EraseAddZero(options)],
        red.NegOp: [EraseDoubleNegation()],
        red.MaxOp: [EraseSelfMaxMin()],
        red.MinOp: [EraseSelfMaxMin()],
        red.SelectOp: [SimplifySelect()],
        red.PowOp: [ErasePowOne()],
        red.TransposeOp: [FoldTransposeOfTranspose(), EraseIdentityTranspose()],
        red.ReshapeOp: [FoldReshapeOfReshape(), EraseIdentityShapeOp()],
        red.BroadcastToOp: [FoldBroadcastOfBroadcast(), EraseIdentityShapeOp()],
        red.CastOp: [EraseIdentityShapeOp()],
        red.SliceOp: [EraseFullSlice(), FoldSliceOfSlice(), FoldSliceOfConcat()],
        red.ConcatOp: [EraseSingleInputConcat()],
        red.GatherOp: [FoldGatherOfIota()],
    }
    for op_type, patterns in extra.items():
        table[op_type].extend(patterns)
    table[arith.ConstantOp] = [ConvertArithTensorConstant()]
    return table
