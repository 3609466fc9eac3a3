"""incrementalize: derive the KV cache of a decode loop (DESIGN.md §3, §10).

A naive decode loop recomputes every position of the sequence at every step. When the row
causality analysis (`transforms/analysis/row_causality.py`) proves that row i of everything
depends on token rows <= i only, step t need only compute row t-1; the rows that later
rows read through non-row-local ops (the keys and values of causal attention, found as the
"whole uses" of the proof, and taken before layout ops such as a head repeat) are carried
from step to step as state. The rewrite:
- prefill: before the loop, every value feeding the state is computed on the prompt rows
  [0, P-1) (all sequence axes restricted: causality makes that exact) and the state starts
  as those rows followed by zeros; with `narrow-prefill` (the default) the prefill's
  attention reads the computed rows, not the padded state, so its scores have P-1 columns
  (a hand-written prefill's P x P causal attention) instead of T;
- step t: each token-dependent op is rebuilt on row t-1 of its operands (fixed operands
  with a sequence extent, such as masks and position tables, are sliced at t-1); a state
  value gets its new row written at t-1 (`red.dynamic_update_slice`), and its whole uses
  read the updated state through the layout ops; the read of row t-1 of the logits reads
  the one computed row.
Entries of the state beyond t-1 hold zeros where the naive loop held values of pad tokens;
causal masking makes both contribute exact zeros, so tokens are identical and logits bit
for bit the same in the interpreter (with `narrow-prefill=false`; the narrow prefill sums
the same terms without the zeros, which reassociates the interpreter's pairwise sums). A
loop the proof rejects is left alone, with a located remark naming the op that broke it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    ModuleOp,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.traits import Pure

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.numpy_interop import splat_to_dense
from red.passes.rewriting import ReportingPass, is_observed, remark, report
from red.transforms.analysis.cost_model import CostModel
from red.transforms.analysis.row_causality import (
    DERIVED,
    FIXED,
    STEP,
    DecodeLoop,
    NotCausal,
    Seq,
    analyse,
    state_source,
)

STATE_AXES_ATTR = "red.state_axes"
"""On @<f>_prefill_block: the sequence axis of each state (how to cut it into blocks)."""
BLOCK_SIZE_ATTR = "red.block_size"
"""On @<f>_prefill_block: the rows one call computes."""

INCREMENTAL_ATTR = "red.incremental"
"""Marks a loop incrementalize derived (it carries state: not a naive loop any more)."""


def _with(shape: Sequence[int], axes: Sequence[int], size: int) -> list[int]:
    out = list(shape)
    for a in axes:
        out[a] = size
    return out


def _tensor(v: SSAValue) -> TensorType:
    assert isinstance(v.type, TensorType)
    return v.type


def _tensor_type(t: Attribute) -> TensorType:
    assert isinstance(t, TensorType)
    return t


def _retyped(v: SSAValue, axes: Sequence[int], size: int) -> Attribute:
    return red.tensor_type(_with(red.shape_of(v), axes, size), red.element_type_of(v))


@dataclass
class Builder:
    """Appends ops to a list (the prefill, or a new loop body)."""

    ops: list[Operation] = field(default_factory=list[Operation])

    def add(self, op: Operation, like: Operation | None = None) -> SSAValue:
        if like is not None:
            op.location = like.location
        self.ops.append(op)
        return op.results[0]

    def index(self, n: int, like: Operation) -> SSAValue:
        return self.add(arith.ConstantOp(IntegerAttr(n, IndexType())), like)


class _CannotNarrow(Exception):
    """The narrow prefill does not apply at `op` (a layout op that is not a red op, a mask
    without a column extent): the prefill reads the padded state instead."""

    def __init__(self, op: Operation):
        super().__init__(op.name)
        self.op = op


class Rows(ABC):
    """Which rows a block of the rewrite computes: `count` rows along every sequence axis,
    taken from a whole value by `take` (a static slice for the prefill, the dynamic row
    t-1 for a step), and how a state value is updated with them (`store`)."""

    def __init__(self, b: Builder, count: int):
        self.b = b
        self.count = count

    @abstractmethod
    def take(self, v: SSAValue, axis: int, like: Operation) -> SSAValue: ...

    @abstractmethod
    def store(self, state: SSAValue, rows: SSAValue, axis: int, like: Operation) -> SSAValue: ...


class PrefixRows(Rows):
    """Rows [0, n) of the prompt; the state starts as those rows followed by zeros."""

    def take(self, v: SSAValue, axis: int, like: Operation) -> SSAValue:
        limit = _with(red.shape_of(v), [axis], self.count)
        return self.b.add(red.SliceOp(v, [0] * len(limit), limit), like)

    def store(self, state: SSAValue, rows: SSAValue, axis: int, like: Operation) -> SSAValue:
        total = red.shape_of(state)[axis]
        rest = _retyped(state, [axis], total - self.count)
        zeros = self.b.add(red.ConstantOp(splat_to_dense(0, _tensor_type(rest))), like)
        return self.b.add(red.ConcatOp([rows, zeros], axis), like)


class BlockRows(Rows):
    """Rows [start, start + count) at a run-time `start` (clamped into the buffer, as a
    dynamic slice is), written into the state in place: row t-1 of a step (count 1), or a
    block of prompt rows computed on top of the state of the rows before it (the prefix
    cache's unit)."""

    def __init__(self, b: Builder, count: int, zero: SSAValue, start: SSAValue):
        super().__init__(b, count)
        self.zero = zero
        self.start = start

    def offsets(self, rank: int, axis: int) -> list[SSAValue]:
        return [self.start if d == axis else self.zero for d in range(rank)]

    def take(self, v: SSAValue, axis: int, like: Operation) -> SSAValue:
        shape = red.shape_of(v)
        sizes = _with(shape, [axis], self.count)
        return self.b.add(red.DynamicSliceOp(v, self.offsets(len(shape), axis), sizes), like)

    def store(self, state: SSAValue, rows: SSAValue, axis: int, like: Operation) -> SSAValue:
        offsets = self.offsets(len(red.shape_of(state)), axis)
        return self.b.add(red.DynamicUpdateSliceOp(state, rows, offsets), like)


@dataclass
class RowBlock:
    """Computes `rows` of the token-dependent ops of the naive step, in program order; the
    whole uses read the states (after this block's rows are stored) through their layout
    ops; fixed, step and derived ops are cloned."""

    inc: Incrementalizer
    rows: Rows
    tokens: SSAValue
    states: dict[SSAValue, SSAValue]
    narrow: bool = False
    """The prefill's form: whole uses read only the computed rows (not the state padded with
    zeros), so attention scores have as many columns as rows: prompt rows attend over the
    prompt, as a hand-written prefill does, instead of over the whole buffer."""
    mapping: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    part: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    full: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])

    @property
    def b(self) -> Builder:
        return self.rows.b

    def token_rows(self, like: Operation) -> SSAValue:
        tokens = self.inc.info.tokens
        if tokens not in self.part:
            self.part[tokens] = self.rows.take(self.tokens, self.inc.info.seq_axis, like)
        return self.part[tokens]

    def whole(self, op: Operation, index: int) -> SSAValue:
        """Operand `index` of `op` over all positions: the state through its layout ops (in
        the narrow form, the computed rows through them)."""
        if self.narrow:
            return self.whole_rows(op, index)
        source, chain = self.inc.whole[(op, index)]
        value = self.tokens if source is self.inc.info.tokens else self.states[source]
        for link in chain:
            if link.results[0] not in self.full:
                mapper = {**self.mapping, source: value}
                self.full[link.results[0]] = self.b.add(link.clone(value_mapper=mapper))
            source, value = link.results[0], self.full[link.results[0]]
        return value

    def whole_rows(self, op: Operation, index: int) -> SSAValue:
        """Operand `index` of `op` on the computed rows only: the rows of its state source
        through the layout ops, each resized to the rows' extent."""
        source, chain = self.inc.whole[(op, index)]
        if source is self.inc.info.tokens:
            value = self.token_rows(op)
        elif source in self.part:
            value = self.part[source]
        else:
            raise _CannotNarrow(op)
        for link in chain:
            result = link.results[0]
            if not isinstance(link, red.RedOp) or not isinstance(
                seq := self.inc.klass(result), Seq
            ):
                raise _CannotNarrow(link)
            operands = [value if v is source else self.mapping.get(v, v) for v in link.operands]
            new_type = _retyped(result, [seq.row], self.rows.count)
            value = self.b.add(link.resized(operands, [new_type]))
            source = result
        return value

    def lower(self, op: Operation) -> None:
        inc = self.inc
        if op is inc.info.read:
            part = self.part[op.input]  # type: ignore[attr-defined]
            zero = self.b.index(0, op)
            rank = len(red.shape_of(part))
            read = red.DynamicSliceOp(part, [zero] * rank, op.size_list)  # type: ignore[attr-defined]
            self.mapping[op.results[0]] = self.b.add(read, op)
            return
        if all(inc.klass(r) in (FIXED, STEP, DERIVED) for r in op.results):
            clone = op.clone(value_mapper=self.mapping)
            self.b.add(clone)
            self.mapping.update(zip(op.results, clone.results))
            return
        assert isinstance(op, red.RedOp)
        result = op.results[0]
        row = inc.seq(result).row
        operands = []
        for k, v in enumerate(op.operands):
            if (op, k) in inc.whole:
                operands.append(self.whole(op, k))
            elif v is inc.info.tokens:
                operands.append(self.token_rows(op))
            elif isinstance(inc.klass(v), Seq):
                operands.append(self.part[v])
            else:
                operands.append(self.fixed_rows(op, k, row))
        axes = inc.seq(result).axes if self.narrow else (row,)
        new_type = _retyped(result, axes, self.rows.count)
        self.part[result] = self.b.add(op.resized(operands, [new_type]))
        if result in self.states:
            self.states[result] = self.rows.store(self.states[result], self.part[result], row, op)

    def fixed_rows(self, op: red.RedOp, index: int, row: int) -> SSAValue:
        """A fixed operand as the computed rows of the result read it (its rows cut where
        it has a sequence extent)."""
        v = op.operands[index]
        value = self.mapping.get(v, v)
        result = op.results[0]
        axes = self.inc.seq(result).axes if self.narrow else (row,)
        for axis in axes:
            sources = op.row_sources(axis)
            source = sources[index] if sources is not None else None
            if isinstance(source, int) and red.shape_of(v)[source] > 1:
                value = self.rows.take(value, source, op)
            elif axis != row and sources is None:
                raise _CannotNarrow(op)  # not column-wise: a fixed operand's extent is unknown
        return value


class Incrementalizer:
    """The rewrite of one proven decode loop (module docstring)."""

    def __init__(self, info: DecodeLoop, narrow_prefill: bool = True):
        self.info = info
        self.narrow_prefill = narrow_prefill
        self.body = info.body
        self.loop = info.loop
        uses = [state_source(info, u) for u in info.whole_uses]
        self.whole = dict(zip(info.whole_uses, uses))
        self.states: list[SSAValue] = []
        for source, _ in uses:
            if source not in self.states and source is not info.tokens:
                self.states.append(source)
        self.prefix_len = info.prompt_len - 1

    def klass(self, v: SSAValue) -> object:
        return self.info.classes.get(v, FIXED)

    def seq(self, v: SSAValue) -> Seq:
        c = self.info.classes[v]
        assert isinstance(c, Seq)
        return c

    def prefill(self, before: Builder) -> list[SSAValue]:
        """The initial states: prompt rows [0, P-1) of each, then zeros (the naive step's
        ops needed for them, on those rows)."""
        zeros = {
            v: before.add(red.ConstantOp(splat_to_dense(0, _tensor(v))), self.loop)
            for v in self.states
        }
        if self.prefix_len == 0:
            return [zeros[v] for v in self.states]
        needed = self.needed_for(self.states)
        for narrow in (True, False) if self.narrow_prefill else (False,):
            attempt = Builder()
            rows = PrefixRows(attempt, self.prefix_len)
            block = RowBlock(self, rows, self.loop.iter_args[0], dict(zeros), narrow)
            try:
                for op in self.body.ops:
                    if op in needed:
                        block.lower(op)
            except _CannotNarrow:
                for op in reversed(attempt.ops):
                    op.drop_all_references()
                    op.erase(safe_erase=False)
                continue
            before.ops.extend(attempt.ops)
            return [block.states[v] for v in self.states]
        raise AssertionError("the padded prefill always builds")

    def needed_for(self, roots: Sequence[SSAValue]) -> set[Operation]:
        """The ops of the step the roots depend on (whole uses included)."""
        needed: set[Operation] = set()
        work = [v.owner for v in roots if isinstance(v.owner, Operation)]
        while work:
            op = work.pop()
            if op in needed or op.parent is not self.body:
                continue
            needed.add(op)
            work.extend(v.owner for v in op.operands if isinstance(v.owner, Operation))
        return needed

    def step_body(self) -> Block:
        carried = list(self.body.args[1:])
        arg_types = [IndexType(), *(a.type for a in carried), *(v.type for v in self.states)]
        body = Block(arg_types=arg_types)
        t = body.args[0]
        t.name_hint, body.args[1].name_hint = "t", "tokens"
        caches = body.args[1 + len(carried) :]
        for i, cache in enumerate(caches):
            cache.name_hint = f"state{i}"
        b = Builder()
        previous = b.add(arith.SubiOp(t, b.index(1, self.loop)), self.loop)
        rows = BlockRows(b, 1, b.index(0, self.loop), previous)
        block = RowBlock(self, rows, body.args[1], dict(zip(self.states, caches)))
        block.mapping[self.body.args[0]] = t
        block.mapping.update(zip(carried, body.args[1 : 1 + len(carried)]))
        for op in self.body.ops:
            if isinstance(op, scf.YieldOp):
                updates = [block.states[v] for v in self.states]
                b.ops.append(scf.YieldOp(*(block.mapping[v] for v in op.operands), *updates))
                break
            block.lower(op)
        for op in b.ops:
            body.add_op(op)
        return body

    def rewrite(self) -> scf.ForOp:
        before = Builder()
        initial = self.prefill(before)
        body = self.step_body()
        loop = scf.ForOp(
            self.loop.lb,
            self.loop.ub,
            self.loop.step,
            [*self.loop.iter_args, *initial],
            Region(body),
        )
        loop.location = self.loop.location
        loop.attributes[INCREMENTAL_ATTR] = UnitAttr()
        block = self.loop.parent
        assert block is not None
        for op in [*before.ops, loop]:
            block.insert_op_before(op, self.loop)
        for old, new in zip(self.loop.results, loop.results):
            old.replace_all_uses_with(new)
        self.loop.detach()
        self.loop.erase()
        return loop


# region Entry points


class EntryPoints:
    """`@<f>_prefill_block(tokens, <args>, states..., start) -> states...` computes rows
    [start, start + B) of the states (the unit of the prefix cache), and `@<f>_decode(tokens,
    <args>, states..., t0) -> tokens` runs the derived steps from t0: a generation runtime
    calls them to start from a cached prefix. `<args>` are the arguments of @f the loop
    reads (the weights), with their attributes."""

    def __init__(self, inc: Incrementalizer, fn: func.FuncOp, block_size: int):
        self.inc = inc
        self.fn = fn
        self.block_size = min(block_size, inc.info.total)  # a block fits in the buffer
        self.args = [
            a for a in fn.body.block.args if any(_inside(u.operation, inc.loop) for u in a.uses)
        ]

    def signature_args(self, extra: Sequence[Attribute]) -> tuple[Block, dict[SSAValue, SSAValue]]:
        """A function entry block: tokens, the loop's arguments, states, then `extra`."""
        tokens_type = self.inc.info.tokens.type
        types = [tokens_type, *(a.type for a in self.args), *(v.type for v in self.inc.states)]
        block = Block(arg_types=[*types, *extra])
        block.args[0].name_hint = "tokens"
        mapping: dict[SSAValue, SSAValue] = dict(zip(self.args, block.args[1 : 1 + len(self.args)]))
        for new, old in zip(block.args[1:], self.args):
            new.name_hint = old.name_hint
        for i, arg in enumerate(block.args[1 + len(self.args) : len(types)]):
            arg.name_hint = f"state{i}"
        return block, mapping

    def arg_attrs(self, extra: int) -> ArrayAttr[DictionaryAttr]:
        attrs = self.fn.arg_attrs.data if self.fn.arg_attrs is not None else None
        own = [attrs[a.index] if attrs else DictionaryAttr({}) for a in self.args]
        empty = DictionaryAttr({})
        return ArrayAttr([empty, *own, *[empty] * (len(self.inc.states) + extra)])

    def outside_values(
        self, mapping: dict[SSAValue, SSAValue], b: Builder, loop: scf.ForOp
    ) -> bool:
        """Clone the pure ops outside `loop` that its body reads (constants, hoisted weight
        work) into `b`, mapping them; False if one cannot be moved."""
        needed: list[Operation] = []
        seen: set[Operation] = set()

        def visit(v: SSAValue) -> bool:
            owner = v.owner
            if v in mapping or not isinstance(owner, Operation) or _inside(owner, loop):
                return v in mapping or _inside_value(v, loop)
            if owner in seen:
                return True
            seen.add(owner)
            if owner.regions or not (owner.has_trait(Pure) or isinstance(owner, red.RedOp)):
                return False
            if not all(visit(o) for o in owner.operands):
                return False
            needed.append(owner)
            return True

        for op in loop.body.walk():
            for v in op.operands:
                if not visit(v):
                    return False
        for op in sorted(needed, key=_position):
            clone = op.clone(value_mapper=mapping)
            b.add(clone)
            mapping.update(zip(op.results, clone.results))
        return True

    def prefill_block(self) -> func.FuncOp | None:
        block, mapping = self.signature_args([IndexType()])
        start = block.args[-1]
        start.name_hint = "start"
        b = Builder()
        if not self.outside_values(mapping, b, self.inc.loop):
            return None
        zero = b.index(0, self.inc.loop)
        states_in = block.args[1 + len(self.args) : 1 + len(self.args) + len(self.inc.states)]
        rows = BlockRows(b, self.block_size, zero, start)
        part = RowBlock(self.inc, rows, block.args[0], dict(zip(self.inc.states, states_in)))
        part.mapping.update(mapping)
        needed = self.inc.needed_for(self.inc.states)
        for op in self.inc.body.ops:
            if op in needed:
                part.lower(op)
        b.ops.append(func.ReturnOp(*(part.states[v] for v in self.inc.states)))
        for op in b.ops:
            block.add_op(op)
        name = f"{self.fn.sym_name.data}_prefill_block"
        outputs = [v.type for v in self.inc.states]
        new = func.FuncOp(name, ([a.type for a in block.args], outputs), Region(block))
        new.arg_attrs = self.arg_attrs(1)
        new.location = self.fn.location
        axes = [IntegerAttr(self.inc.seq(v).row, 64) for v in self.inc.states]
        new.attributes[STATE_AXES_ATTR] = ArrayAttr(axes)
        new.attributes[BLOCK_SIZE_ATTR] = IntegerAttr(self.block_size, 64)
        return new

    def decode(self, loop: scf.ForOp) -> func.FuncOp | None:
        block, mapping = self.signature_args([IndexType()])
        t0 = block.args[-1]
        t0.name_hint = "t0"
        b = Builder()
        if not self.outside_values(mapping, b, loop):
            return None
        if len(loop.iter_args) != 1 + len(self.inc.states):
            return None  # output buffers beside the tokens: not an entry point (yet)
        states_in = block.args[1 + len(self.args) : 1 + len(self.args) + len(self.inc.states)]
        for v in (loop.ub, loop.step):
            if v not in mapping and isinstance(v.owner, Operation):
                clone = v.owner.clone()
                b.add(clone)
                mapping[v] = clone.results[0]
        new_loop = loop.clone(value_mapper=mapping)
        new_loop.operands = [t0, mapping.get(loop.ub, loop.ub), mapping.get(loop.step, loop.step),
                             block.args[0], *states_in]  # fmt: skip
        b.add(new_loop)
        b.ops.append(func.ReturnOp(new_loop.results[0]))
        for op in b.ops:
            block.add_op(op)
        name = f"{self.fn.sym_name.data}_decode"
        tokens_type = self.inc.info.tokens.type
        new = func.FuncOp(name, ([a.type for a in block.args], [tokens_type]), Region(block))
        new.arg_attrs = self.arg_attrs(1)
        new.location = self.fn.location
        return new


def _used_by(arg: SSAValue, loop: Operation) -> bool:
    """Whether the loop reads `arg`, directly or through pure ops outside it."""
    work, seen = [arg], set()
    while work:
        v = work.pop()
        for use in v.uses:
            user = use.operation
            if _inside(user, loop):
                return True
            if user not in seen and user is not loop and not user.regions:
                seen.add(user)
                work.extend(user.results)
    return False


def _inside(op: Operation, loop: Operation) -> bool:
    node: Operation | None = op
    while node is not None:
        if node is loop:
            return True
        node = node.parent_op()
    return False


def _inside_value(v: SSAValue, loop: Operation) -> bool:
    owner = v.owner
    op = owner if isinstance(owner, Operation) else owner.parent_op()
    return op is not None and _inside(op, loop)


def _position(op: Operation) -> int:
    """The op's index in its block (only for sorting a handful of ops)."""
    block = op.parent
    assert block is not None
    return list(block.ops).index(op)


# endregion Entry points


def incrementalize_loop(
    loop: scf.ForOp,
    ctx: Context | None,
    entry_points: bool = False,
    block_size: int = 16,
    narrow_prefill: bool = True,
) -> bool:
    try:
        info = analyse(loop)
    except NotCausal as err:
        remark(ctx, err.op, f"incrementalize: decode loop left as is: {err.reason}")
        return False
    if not info.whole_uses:
        remark(ctx, loop, "incrementalize: the loop has no state to carry (no attention)")
    model = CostModel(loop.get_toplevel_object())  # type: ignore[arg-type]
    before = model.op_cost(loop).flops if is_observed(ctx) else 0
    inc = Incrementalizer(info, narrow_prefill)
    prefill_start = loop.prev_op
    fn = loop.parent_op()
    derived: list[func.FuncOp] = []
    points = None
    if entry_points and isinstance(fn, func.FuncOp) and inc.states:
        points = EntryPoints(inc, fn, block_size)  # (reads the naive loop: before the rewrite)
        derived = [f for f in [points.prefill_block()] if f is not None]
    new = inc.rewrite()
    if points is not None and isinstance(fn, func.FuncOp):
        decode = points.decode(new)
        derived += [decode] if decode is not None else []
        module = fn.parent
        assert module is not None
        for f in derived:
            module.insert_op_after(f, fn)
    if is_observed(ctx):
        block = new.parent
        assert block is not None
        first = prefill_start.next_op if prefill_start is not None else block.first_op
        after, op = 0, first
        while op is not None:
            after += model.op_cost(op).flops
            if op is new:
                break
            op = op.next_op
        steps = info.total - info.prompt_len
        state = sum(red.byte_size(v.type) for v in inc.states)
        report(
            ctx,
            "recomputed-prefix",
            [new],
            flops_saved=before - after,
            bytes_saved=0,
            note=f"{len(inc.states)} values carried as state ({state} bytes); "
            f"{before // steps} -> {after // steps} FLOPs per generated token",
        )
    return True


@dataclass(frozen=True)
class IncrementalizePass(ReportingPass):
    """Derive the KV cache of decode loops; see the module docstring."""

    name = "incrementalize"
    finding_kind: ClassVar[str] = "recomputed-prefix"

    entry_points: bool = False
    """Also emit @<f>_prefill_block and @<f>_decode (see EntryPoints)."""
    block_size: int = 16
    """Rows of a prefill block (the prefix cache's block size)."""
    narrow_prefill: bool = True
    """The prefill's attention over the prompt rows only (P-1 columns, not the whole
    buffer's T): what the masked columns add is exactly zero, but sums over fewer terms
    associate differently, so logits can differ in the last bits (tokens only on a tie);
    false keeps them bit for bit (red-pipeline{strict-fp=true})."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.block_size < 1:
            raise DiagnosticError(
                location_of(op), f"block-size must be >= 1, got {self.block_size}"
            )
        loops = [o for o in op.walk() if isinstance(o, scf.ForOp) and _looks_like_decode(o)]
        for loop in loops:
            incrementalize_loop(loop, ctx, self.entry_points, self.block_size, self.narrow_prefill)


def _looks_like_decode(loop: scf.ForOp) -> bool:
    """A loop carrying an integer tensor that it updates with a dynamic_update_slice and
    running a model (a matmul in its body), not incrementalized yet: worth a proof attempt
    (and a remark if the proof fails). Loops the importers write for `Range` or `CumSum`
    over a symbolic length carry and update integers too, but run no model: no remark."""
    if len(loop.iter_args) < 1 or INCREMENTAL_ATTR in loop.attributes:
        return False
    carried = loop.body.block.args[1:]
    if not carried or not isinstance(carried[0].type, TensorType):
        return False
    if not red.is_integer_type(red.element_type_of(carried[0])):
        return False
    yielded = loop.body.block.last_op
    return (
        isinstance(yielded, scf.YieldOp)
        and any(isinstance(v.owner, red.DynamicUpdateSliceOp) for v in yielded.operands)
        and any(isinstance(op, red.MatmulOp) for op in loop.body.walk())
    )
