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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.numpy_interop import numpy_to_dense
from red.dialects.red import ALL, Demand, Rows
from red.passes.rewriting import is_observed, report
from red.transforms.analysis.cost_model import CostModel
from red.transforms.analysis.purity import PurityOracle
from red.transforms.dce import erase_dead_ops


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
    if not isinstance(a, Rows) or not isinstance(b, Rows) or a.axis != b.axis:
        return ALL
    return Rows(a.axis, tuple(sorted(set(a.indices) | set(b.indices))))


def operand_demands(op: Operation, d: Demand) -> Sequence[Demand] | None:
    """What each operand must provide for demand `d` on the op's result (the op's own
    fact); None if the op is not row-wise for it (every operand is then needed whole)."""
    if d is None:
        return [None] * len(op.operands)
    if not isinstance(op, red.RedOp) or len(op.results) != 1:
        return None
    return op.operand_demands(d)


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
            and not op.regions
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
        shape = list(_dims(op.results[0]))
        shape[d.axis] = len(d.indices)
        result_type = red.tensor_type(shape, red.element_type_of(op.results[0]))
        operands = [v for v in views if v is not None]
        new = red.rebuilt(op, operands, [result_type])
        self.block.insert_op_before(new, op)
        self.narrowed[op.results[0]] = (new.results[0], d)
        self.saved += self.cost.op_cost(op).flops - self.cost.op_cost(new).flops

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
            const = red.constant_value(op.indices)
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


def narrow_block(block: Block, ctx: Context | None = None) -> int:
    n = Narrower(block)
    n.analyse()
    built = n.rewrite()
    if built and is_observed(ctx):
        anchor = next((o for o in block.ops if o.location == n.first_root), None)
        anchor = anchor or block.first_op
        if anchor is not None:
            report(
                ctx,
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
            changed |= narrow_block(block, ctx) > 0
        if changed:  # the original ops are dead now; the finding above covers them
            erase_dead_ops(op, PurityOracle(op))
