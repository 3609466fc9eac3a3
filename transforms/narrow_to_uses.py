"""narrow-to-uses: compute only the rows that are used.

A backward demand analysis finds, for each value of a block, which indices along one axis
its users need (its "rows"; all of them when any user needs the whole value). Slices and
gathers by constant indices create narrow demands; row-wise ops pass them to their operands:
elementwise ops (with broadcasting), matmul rows or columns, softmax and norms over other
axes, reductions over other axes, transpose, reshape where the axis maps onto an input axis,
concat (an input outside the demanded range is not needed at all), slice and gather. Every
op whose result is demanded only in part is then rebuilt on narrowed operands; at the
frontier, where a value is needed whole by someone else, the rows are sliced out of it.
In `examples/gpt_decoder.mlir` the LM head then runs on the last position only, and in
`examples/lstm_classifier.mlir` the classifier on the last step only. Computing fewer rows
does not change the rows computed, so the rewrite is exact."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.numpy_interop import numpy_to_dense
from red.transforms.analysis import findings
from red.transforms.analysis.cost_model import CostModel
from red.transforms.analysis.purity import PurityOracle
from red.transforms.canonicalization.red import constant_array
from red.transforms.dce import erase_dead_ops


@dataclass(frozen=True)
class Rows:
    """The indices (sorted, unique) needed along one axis; every other axis whole."""

    axis: int
    indices: tuple[int, ...]


class _All:
    def __repr__(self) -> str:
        return "ALL"


ALL = _All()
Demand = Rows | _All | None  # None: not needed by this use


def _dims(v: SSAValue) -> tuple[int, ...]:
    return red.shape_of(v)


def normalize(v: SSAValue, d: Demand) -> Demand:
    """Rows covering a whole axis (or a dynamic one) are ALL."""
    if isinstance(d, Rows):
        n = _dims(v)[d.axis]
        if not d.indices:
            return None
        if n == red.DYNAMIC or len(d.indices) == n:
            return ALL
    return d


def combine(a: Demand, b: Demand) -> Demand:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, _All) or isinstance(b, _All) or a.axis != b.axis:
        return ALL
    return Rows(a.axis, tuple(sorted(set(a.indices) | set(b.indices))))


def _broadcast_operand(result: SSAValue, operand: SSAValue, d: Rows) -> Demand:
    """The rows of a broadcast operand that a demand on the result needs."""
    offset = len(_dims(result)) - len(_dims(operand))
    axis = d.axis - offset
    if axis < 0 or _dims(operand)[axis] == 1:
        return ALL  # the operand has no such axis, or a broadcast size-1 one: needed whole
    return Rows(axis, d.indices)


def _reshape_axis(src: Sequence[int], dst: Sequence[int], axis: int) -> int | None:
    """The axis of `src` that axis `axis` of `dst` is (same extent and same stride)."""
    before = math.prod(dst[:axis])
    for b in range(len(src)):
        if math.prod(src[:b]) == before and src[b] == dst[axis]:
            return b
    return None


def operand_demands(op: Operation, d: Demand) -> list[Demand] | None:
    """What each operand must provide for demand `d` on the op's result; None if the op is
    not row-wise (then every operand is needed whole)."""
    if d is None:
        return [None] * len(op.operands)
    if isinstance(op, red.SliceOp):
        start, limit, stride = op.bounds
        if isinstance(d, _All):
            cut = [
                a
                for a, n in enumerate(_dims(op.input))
                if (start[a], limit[a], stride[a]) != (0, n, 1)
            ]
            if len(cut) != 1:
                return [ALL]
            a = cut[0]
            return [Rows(a, tuple(range(start[a], limit[a], stride[a])))]
        return [Rows(d.axis, tuple(start[d.axis] + i * stride[d.axis] for i in d.indices))]
    if isinstance(op, red.GatherOp):
        axis = op.axis.value.data
        idx = _dims(op.indices)
        if isinstance(d, _All):
            const = _constant_indices(op.indices)
            if const is None:
                return [ALL, ALL]
            return [Rows(axis, tuple(sorted(set(const.reshape(-1).tolist())))), ALL]
        if d.axis < axis:
            return [Rows(d.axis, d.indices), ALL]
        if d.axis < axis + len(idx):
            return [ALL, Rows(d.axis - axis, d.indices)]
        return [Rows(d.axis - len(idx) + 1, d.indices), ALL]
    if isinstance(d, _All):
        return None
    if isinstance(op, red.BinaryElementwiseOp | red.SelectOp):
        return [_broadcast_operand(op.results[0], v, d) for v in op.operands]
    if isinstance(op, red.UnaryElementwiseOp | red.CastOp):
        return [Rows(d.axis, d.indices)]
    if isinstance(op, red.MatmulOp):
        rank = len(_dims(op.result))
        if d.axis == rank - 2:
            return [Rows(len(_dims(op.lhs)) - 2, d.indices), ALL]
        if d.axis == rank - 1:
            return [ALL, Rows(len(_dims(op.rhs)) - 1, d.indices)]
        return [_broadcast_operand(op.result, op.lhs, d), _broadcast_operand(op.result, op.rhs, d)]
    if isinstance(op, red.TransposeOp):
        return [Rows(op.perm[d.axis], d.indices)]
    if isinstance(op, red.ReshapeOp):
        b = _reshape_axis(_dims(op.input), _dims(op.result), d.axis)
        return None if b is None else [Rows(b, d.indices)]
    if isinstance(op, red.BroadcastToOp):
        return [_broadcast_operand(op.result, op.input, d)]
    if isinstance(op, red.SoftmaxOp):
        return None if d.axis == op.axis.value.data else [Rows(d.axis, d.indices)]
    if isinstance(op, red.NormOp):
        return None if d.axis >= op.axis.value.data else [Rows(d.axis, d.indices)]
    if isinstance(op, red.ReduceOp):
        kept = [a for a in range(len(_dims(op.input))) if a not in op.axis_list]
        if op.keeps_dims:
            return None if d.axis in op.axis_list else [Rows(d.axis, d.indices)]
        return [Rows(kept[d.axis], d.indices)]
    if isinstance(op, red.ConcatOp):
        axis = op.axis.value.data
        if d.axis != axis:
            return [Rows(d.axis, d.indices) for _ in op.inputs]
        out: list[Demand] = []
        offset = 0
        for v in op.inputs:
            n = _dims(v)[axis]
            mine = tuple(i - offset for i in d.indices if offset <= i < offset + n)
            out.append(Rows(axis, mine) if mine else None)
            offset += n
        return out
    return None


def _constant_indices(v: SSAValue) -> np.ndarray | None:
    return constant_array(v)


class Narrower:
    """Demand analysis and rewriting of one block."""

    def __init__(self, block: Block):
        self.block = block
        self.demand: dict[SSAValue, Demand] = {}
        self.narrowed: dict[SSAValue, tuple[SSAValue, Rows]] = {}
        self.cost = CostModel()
        self.saved = 0
        self.first_root: Attribute | None = None

    def analyse(self) -> None:
        pending: dict[SSAValue, Demand] = {}
        for op in reversed(list(self.block.ops)):
            for r in op.results:
                d: Demand = pending.pop(r, None)
                if any(u.operation.parent is not self.block for u in r.uses):
                    d = ALL
                self.demand[r] = normalize(r, d)
            d = self.demand.get(op.results[0]) if len(op.results) == 1 else ALL
            wants = operand_demands(op, d) if len(op.results) == 1 else None
            if wants is None:
                wants = [ALL] * len(op.operands)
            for v, w in zip(op.operands, wants):
                pending[v] = combine(pending.get(v), normalize(v, w))
        for v, d in pending.items():  # block arguments and values from outside
            self.demand.setdefault(v, d)

    def narrowable(self, op: Operation) -> bool:
        d = self.demand.get(op.results[0]) if len(op.results) == 1 else None
        return (
            isinstance(d, Rows)
            and operand_demands(op, d) is not None
            and not isinstance(op, red.SliceOp | red.GatherOp)
            and red.DYNAMIC not in _dims(op.results[0])
        )

    def rewrite(self) -> int:
        """Rebuild narrowly demanded ops, then point the frontier slices at them."""
        built = 0
        for op in list(self.block.ops):
            if self.narrowable(op):
                self.build_narrow(op)
                built += 1
        if not built:
            return 0
        frontier = [
            op
            for op in self.block.ops
            if isinstance(op, red.SliceOp | red.GatherOp) and op.operands[0] in self.narrowed
        ]
        # The finding is reported where the narrowing comes from: the first slice that only
        # wanted some rows (its location is the user's `logits[-1]`).
        self.first_root = frontier[0].location if frontier else None
        for op in frontier:
            self.redirect(op)
        return built

    def build_narrow(self, op: Operation) -> None:
        d = self.demand[op.results[0]]
        assert isinstance(d, Rows)
        wants = operand_demands(op, d)
        assert wants is not None
        views = [self.view(v, w, op) if w is not None else None for v, w in zip(op.operands, wants)]
        new = self.rebuild(op, views, d)
        new.location = op.location
        self.block.insert_op_before(new, op)
        self.narrowed[op.results[0]] = (new.results[0], d)
        self.saved += self.cost.op_cost(op).flops - self.cost.op_cost(new).flops

    def rebuild(self, op: Operation, views: list[SSAValue | None], d: Rows) -> Operation:
        shape = list(_dims(op.results[0]))
        shape[d.axis] = len(d.indices)
        match op:
            case red.ConcatOp():
                return red.ConcatOp([v for v in views if v is not None], op.axis.value.data)
            case red.GeluOp():
                return red.GeluOp(views[0], op.approximation)  # type: ignore[arg-type]
            case red.CastOp():
                return red.CastOp(views[0], red.element_type_of(op.result))  # type: ignore[arg-type]
            case red.UnaryElementwiseOp():
                return type(op)(views[0])  # type: ignore[arg-type]
            case red.BinaryElementwiseOp() | red.MatmulOp():
                return type(op)(views[0], views[1])  # type: ignore[arg-type]
            case red.SelectOp():
                return red.SelectOp(*views)  # type: ignore[arg-type]
            case red.TransposeOp():
                return red.TransposeOp(views[0], op.perm)  # type: ignore[arg-type]
            case red.ReshapeOp():
                return red.ReshapeOp(views[0], shape)  # type: ignore[arg-type]
            case red.BroadcastToOp():
                return red.BroadcastToOp(views[0], shape)  # type: ignore[arg-type]
            case red.SoftmaxOp():
                return red.SoftmaxOp(views[0], op.axis.value.data)  # type: ignore[arg-type]
            case red.NormOp():
                return type(op)(views[0], op.axis.value.data, op.eps.value.data)  # type: ignore[arg-type]
            case red.ReduceOp():
                return type(op)(views[0], op.axis_list, op.keeps_dims)  # type: ignore[arg-type]
        raise AssertionError(f"no narrow form for {op.name}")

    def view(self, v: SSAValue, want: Demand, before: Operation) -> SSAValue:
        """`v` restricted to the rows `want` (in order), from its narrowed form if any."""
        if not isinstance(want, Rows):
            return v
        source, have = v, tuple(range(_dims(v)[want.axis]))
        if v in self.narrowed and self.narrowed[v][1].axis == want.axis:
            source, rows = self.narrowed[v]
            have = rows.indices
        position = {row: i for i, row in enumerate(have)}
        picks = [position[i] for i in want.indices]
        return self.extract(source, want.axis, picks, before)

    def extract(self, v: SSAValue, axis: int, picks: list[int], before: Operation) -> SSAValue:
        n = _dims(v)[axis]
        if picks == list(range(n)):
            return v
        step = picks[1] - picks[0] if len(picks) > 1 else 1
        if step > 0 and picks == list(range(picks[0], picks[-1] + 1, step)):
            shape = _dims(v)
            start = [0] * len(shape)
            limit = list(shape)
            stride = [1] * len(shape)
            start[axis], limit[axis], stride[axis] = picks[0], picks[-1] + 1, step
            op: Operation = red.SliceOp(v, start, limit, stride)
        else:
            indices = red.ConstantOp(numpy_to_dense(np.asarray(picks, dtype=np.int64), i64))
            indices.location = before.location
            self.block.insert_op_before(indices, before)
            op = red.GatherOp(v, indices.result, axis)
        op.location = before.location
        self.block.insert_op_before(op, before)
        return op.results[0]

    def redirect(self, op: red.SliceOp | red.GatherOp) -> None:
        """A frontier slice or gather whose input was narrowed reads the narrowed value."""
        wants = operand_demands(op, ALL)
        if wants is None or not isinstance(want := normalize(op.operands[0], wants[0]), Rows):
            return
        _, have = self.narrowed[op.operands[0]]
        if have.axis != want.axis or not set(want.indices) <= set(have.indices):
            # Only part of this slice's rows is demanded (it is not rebuilt narrowly), so the
            # narrowed input may lack some of the rows it reads: it keeps the original input.
            return
        narrow = self.view(op.operands[0], want, op)
        if isinstance(op, red.SliceOp):
            start, limit, stride = op.bounds
            s, l_, st = list(start), list(limit), list(stride)
            s[want.axis], l_[want.axis], st[want.axis] = 0, len(want.indices), 1
            new: Operation = red.SliceOp(narrow, s, l_, st)
        else:
            const = _constant_indices(op.indices)
            assert const is not None
            position = {row: i for i, row in enumerate(want.indices)}
            remapped = np.vectorize(position.__getitem__, otypes=[np.int64])(const)
            idx = red.ConstantOp(
                numpy_to_dense(remapped.astype(np.int64), red.element_type_of(op.indices))
            )
            idx.location = op.location
            self.block.insert_op_before(idx, op)
            new = red.GatherOp(narrow, idx.result, op.axis.value.data)
        new.location = op.location
        self.block.insert_op_before(new, op)
        op.results[0].replace_all_uses_with(new.results[0])
        op.detach()
        op.erase()


def narrow_block(block: Block) -> int:
    n = Narrower(block)
    n.analyse()
    built = n.rewrite()
    if built and findings.is_recording():
        anchor = next((o for o in block.ops if o.location == n.first_root), None)
        anchor = anchor or block.first_op
        if anchor is not None:
            findings.record(
                "unused-rows",
                [anchor],
                flops_saved=n.saved,
                bytes_saved=0,
                note=f"{built} ops rebuilt on the rows their users need",
            )
    return built


@dataclass(frozen=True)
class NarrowToUsesPass(ModulePass):
    """Compute only the rows (indices along one axis) that users need; see the module
    docstring. Leaves the original ops dead for dce/canonicalize."""

    name = "narrow-to-uses"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks = [b for o in op.walk() for r in o.regions for b in r.blocks]
        changed = False
        for block in blocks:
            changed |= narrow_block(block) > 0
        if changed:
            erase_dead_ops(op, PurityOracle(op), record=False)
