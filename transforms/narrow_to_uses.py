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
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, tensor
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.numpy_interop import numpy_to_dense
from red.dialects.red import ALL, Demand, RowAt, Rows
from red.passes.rewriting import is_observed, report
from red.transforms.analysis.cost_model import CostModel
from red.transforms.analysis.purity import PurityOracle
from red.transforms.dce import erase_dead_ops


def _dims(v: SSAValue) -> tuple[int, ...]:
    return red.shape_of(v)


def normalize(v: SSAValue, d: Demand) -> Demand:
    """Rows in [0, n): a negative row (a gather's index in [-n, 0)) counts from the end; rows
    covering a whole axis (or a dynamic one) are ALL, and so are rows out of range (the
    gather that reads them keeps its whole input and its run-time semantics)."""
    if isinstance(d, Rows):
        n = _dims(v)[d.axis]
        if not d.indices:
            return None
        if n == red.DYNAMIC or not all(-n <= i < n for i in d.indices):
            return ALL
        d = Rows(d.axis, tuple(sorted({i % n for i in d.indices})))
        if len(d.indices) == n:
            return ALL
    return d


def combine(a: Demand, b: Demand) -> Demand:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, RowAt) or isinstance(b, RowAt):
        return a if a == b else ALL  # the same row at the same run-time index
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


_SCALAR_OPS = (tensor.DimOp, arith.ConstantOp, arith.AddiOp, arith.SubiOp, arith.MuliOp)


def _scalar_chain(v: SSAValue, block: Block) -> list[Operation] | None:
    """The ops of `block` computing scalar `v` from sizes and constants (in order), when
    they read nothing else of the block; None otherwise."""
    chain: list[Operation] = []

    def visit(x: SSAValue) -> bool:
        owner = x.owner
        if not isinstance(owner, Operation) or owner.parent is not block:
            return True  # an argument or a value from outside
        if owner in chain:
            return True
        if not isinstance(owner, _SCALAR_OPS):
            return False
        if isinstance(owner, tensor.DimOp):
            src = owner.source.owner
            if isinstance(src, Operation) and src.parent is block:
                return False  # the size of a value computed here: it cannot move up
            if not visit(owner.index):
                return False
        elif not all(visit(o) for o in owner.operands):
            return False
        chain.append(owner)
        return True

    return chain if visit(v) else None


class Narrower:
    """Demand analysis and rewriting of one block."""

    def __init__(self, block: Block):
        self.block = block
        self.demand: dict[SSAValue, Demand] = {}
        self.narrowed: dict[SSAValue, tuple[SSAValue, Rows | RowAt]] = {}
        self.cost = CostModel()
        self.saved: Any = 0
        self.built: list[tuple[Operation, Operation, Any, Any]] = []
        """(original op, its narrowed rebuild, their FLOPs), in build order."""
        self.first_root: Attribute | None = None

    def hoist_offsets(self) -> None:
        """Move the pure scalar computations of dynamic slices' offsets (`tensor.dim` of an
        argument minus 1, ...) to the top of the block, so that every op narrowed to the row
        they name can read them."""
        for op in list(self.block.ops):
            if isinstance(op, red.DynamicSliceOp):
                for offset in op.offsets:
                    chain = _scalar_chain(offset, self.block)
                    if chain is None:
                        continue
                    first = self.block.first_op
                    for c in chain:
                        if c is first:
                            first = c.next_op
                            continue
                        c.detach()
                        if first is None:
                            self.block.add_op(c)
                        else:
                            self.block.insert_op_before(c, first)

    def analyse(self) -> None:
        self.hoist_offsets()
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
        if isinstance(d, RowAt):  # one row at a run-time index
            wants = operand_demands(op, d)
            return (
                wants is not None
                and not isinstance(op, red.SliceOp | red.DynamicSliceOp)
                and not op.regions
                and all(self.has_row(v, w) for v, w in zip(op.operands, wants))
            )
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
            if isinstance(op, red.SliceOp | red.GatherOp | red.DynamicSliceOp)
            and op.operands[0] in self.narrowed
        ]
        # The finding is reported where the narrowing comes from: the first slice that only
        # wanted some rows (its location is the user's `logits[-1]`).
        self.first_root = frontier[0].location if frontier else None
        for op in frontier:
            self.redirect(op)
        self.saved = self.saving()
        return built

    def saving(self) -> Any:
        """FLOPs saved: an original op whose rebuild is used and which no one else uses
        any more saves the difference; a rebuild used beside its original costs its own
        FLOPs; a rebuild no one uses (a frontier further down could not take it) dies
        and changes nothing."""
        rebuilt = {new for _, new, _, _ in self.built}
        live: set[Operation] = set()
        dead: set[Operation] = set()
        saved: Any = 0
        for op, new, old_flops, new_flops in reversed(self.built):  # users come later
            if all(u.operation in dead for r in op.results for u in r.uses):
                dead.add(op)
                saved = saved + old_flops
            users = {u.operation for r in new.results for u in r.uses}
            if any(u not in rebuilt or u in live for u in users):
                live.add(new)
                saved = saved - new_flops
        return saved

    def has_row(self, v: SSAValue, want: Demand) -> bool:
        """Whether `view` can give `v`'s row `want`: from the narrowed `v`, or sliced out by
        a red.dynamic_slice, whose sizes must be static (the row's other axes are; a row of
        attention scores, whose key axis has the sequence's length, comes narrowed only)."""
        if not isinstance(want, RowAt):
            return True
        if v in self.narrowed and self.narrowed[v][1] == want:
            return True
        return all(n != red.DYNAMIC for a, n in enumerate(_dims(v)) if a != want.axis)

    def build_narrow(self, op: Operation) -> None:
        d = self.demand[op.results[0]]
        assert isinstance(d, Rows | RowAt)
        wants = operand_demands(op, d)
        assert wants is not None
        views = [self.view(v, w, op) if w is not None else None for v, w in zip(op.operands, wants)]
        shape = list(_dims(op.results[0]))
        shape[d.axis] = len(d.indices) if isinstance(d, Rows) else 1
        result_type = red.tensor_type(shape, red.element_type_of(op.results[0]))
        operands = [v for v in views if v is not None]
        new = red.rebuilt(op, operands, [result_type])
        self.block.insert_op_before(new, op)
        self.narrowed[op.results[0]] = (new.results[0], d)
        self.built.append((op, new, self.cost.op_cost(op).flops, self.cost.op_cost(new).flops))

    def view(self, v: SSAValue, want: Demand, before: Operation) -> SSAValue:
        """`v` restricted to the rows `want` (in order), from its narrowed form if any."""
        if isinstance(want, RowAt):
            if v in self.narrowed and self.narrowed[v][1] == want:
                return self.narrowed[v][0]
            return self.row_at(v, want, before)
        if not isinstance(want, Rows):
            return v
        source, have = v, tuple(range(_dims(v)[want.axis]))
        if v in self.narrowed and isinstance(rows := self.narrowed[v][1], Rows):
            if rows.axis == want.axis:
                source, have = self.narrowed[v][0], rows.indices
        position = {row: i for i, row in enumerate(have)}
        picks = [position[i] for i in want.indices]
        return self.extract(source, want.axis, picks, before)

    def row_at(self, v: SSAValue, want: RowAt, before: Operation) -> SSAValue:
        """Row `want.offset` of `v` along `want.axis` (every other axis whole and static)."""
        zero = arith.ConstantOp(IntegerAttr(0, IndexType()))
        zero.location = before.location
        self.block.insert_op_before(zero, before)
        shape = list(_dims(v))
        offsets = [want.offset if a == want.axis else zero.result for a in range(len(shape))]
        shape[want.axis] = 1
        op = red.DynamicSliceOp(v, offsets, shape)
        op.location = before.location
        self.block.insert_op_before(op, before)
        return op.results[0]

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

    def redirect(self, op: red.SliceOp | red.GatherOp | red.DynamicSliceOp) -> None:
        """A frontier slice or gather whose input was narrowed reads the narrowed value."""
        wants = operand_demands(op, ALL)
        if isinstance(op, red.DynamicSliceOp):
            if wants is not None and wants[0] == self.narrowed[op.input][1]:
                narrow = self.narrowed[op.input][0]
                if narrow.type == op.result.type:
                    op.result.replace_all_uses_with(narrow)
                    op.detach()
                    op.erase()
            return
        if wants is None or not isinstance(want := normalize(op.operands[0], wants[0]), Rows):
            return
        _, have = self.narrowed[op.operands[0]]
        if (
            not isinstance(have, Rows)
            or have.axis != want.axis
            or not set(want.indices) <= set(have.indices)
        ):
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
            n = _dims(op.operands[0])[want.axis]
            rows = np.where(const < 0, const + n, const)  # normalize counts from the end too
            remapped = np.vectorize(position.__getitem__, otypes=[np.int64])(rows)
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
    if built and is_observed(ctx) and n.saved != 0:
        at_root = [o for o in block.ops if o.location == n.first_root]
        anchor = next((o for o in at_root if isinstance(o, red.RedOp)), None)
        anchor = anchor or next(iter(at_root), None)
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
