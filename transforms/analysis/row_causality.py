"""Row causality of a decode loop: the proof `incrementalize` rests on.

A decode loop (as `red.frontends.generate.greedy` builds it) carries a token buffer; step t
reads row t-1 of the logits and writes one token at row t. The analysis proves, from the
ops' row facts and the values of the masks (not from op names), that row i of every value
the logits depend on is a function of the token rows <= i only ("causal"). Then rows < t-1
of every value are the same in step t as in step t-1, and a step need only compute row t-1,
carrying as state the rows that later rows read through non-row-local ops.

Each value of the loop body gets a class:
- fixed: the same in every step (defined outside, or from fixed values only);
- step: depends on the induction variable t, not on the tokens (allowed only as the offsets
  of the row read and of the writes);
- `Seq(row)`: token-dependent, causal along axis `row` (row i depends on tokens <= i);
- `Seq(row, col, upper)`: attention scores and what is computed from them: entry [i, j]
  depends on tokens <= max(i, j), and `upper` is what is known of the entries j > i:
  `Exact(v)`, the same constant whatever the tokens (after a select with a causal mask, or
  adding -inf), `Bound(b)`, at most b (after adding a large negative mask to scores), or
  nothing. Row i of such a value depends on tokens <= i when its upper entries are exact;
  a softmax over `col` turns entries at most -1e4 (or -inf) into exact zeros;
- derived: computed from the row read (the argmax and what follows).
The causal mask is never matched by name or shape: it is whatever makes the upper entries
exact or negligible, proven from constant values by evaluating the ops on them; a sliding
window or padding mask (which also masks some entries j <= i) is causal too. A matmul
contracting a `Seq(row)` operand over its rows is causal only against a value whose upper
entries are exact zeros (0·v adds exact zeros); a matmul producing scores reads the keys
whole: such "whole uses" are where state is needed. Anything else that mixes rows (a
reduction or cumsum over the sequence, attention with no mask or a mask that keeps a later
position, a mask that depends on t) stops the proof at a located op, with the reason.

Assumptions (the naive loop makes them too): token-dependent values are finite (so adding
-inf gives -inf), and the largest unmasked score of a row exceeds -9,896 (so masked scores
at most -1e4 vanish in the softmax)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Block, BlockArgument, Operation, SSAValue
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red import BROADCAST
from red.dialects.red_interpreter import evaluate_on_scalars

MASK_BOUND = -1.0e4
"""A masked score must be at most this (or -inf): exp(masked - max) is then exactly 0 in f32
for any row whose largest unmasked score exceeds -9,896."""

FIXED = "fixed"
STEP = "step"
DERIVED = "derived"


@dataclass(frozen=True)
class Exact:
    """Every upper entry (j > i) is this constant, whatever the tokens."""

    value: float | int | bool


@dataclass(frozen=True)
class Bound:
    """Every upper entry is at most this (it still depends on the tokens)."""

    value: float


Upper = Exact | Bound | None
"""What is known of a score-like value's entries j > i (None: nothing)."""

ZERO = Exact(0.0)


@dataclass(frozen=True)
class Seq:
    """A token-dependent value, causal along `row`; with `col`, attention-like scores."""

    row: int
    col: int | None = None
    upper: Upper = None

    @property
    def axes(self) -> tuple[int, ...]:
        return (self.row,) if self.col is None else (self.row, self.col)

    @property
    def is_scores(self) -> bool:
        return self.col is not None

    @property
    def upper_is_zero(self) -> bool:
        return isinstance(self.upper, Exact) and self.upper.value == 0


Class = Seq | str


class NotCausal(Exception):
    """The proof fails at `op`, for `reason`."""

    def __init__(self, op: Operation, reason: str):
        super().__init__(reason)
        self.op = op
        self.reason = reason


@dataclass
class DecodeLoop:
    """What the proof found in a decode loop."""

    loop: scf.ForOp
    tokens: BlockArgument
    seq_axis: int
    prompt_len: int
    total: int
    read: red.DynamicSliceOp
    write: red.DynamicUpdateSliceOp
    outputs: list[red.DynamicUpdateSliceOp] = field(default_factory=list[red.DynamicUpdateSliceOp])
    """Writes into the other carried values: output buffers (e.g. each step's logits)."""
    classes: dict[SSAValue, Class] = field(default_factory=dict[SSAValue, Class])
    whole_uses: list[tuple[Operation, int]] = field(default_factory=list[tuple[Operation, int]])

    @property
    def body(self) -> Block:
        return self.loop.body.block

    def seq(self, v: SSAValue) -> Seq | None:
        c = self.classes.get(v)
        return c if isinstance(c, Seq) else None


# region Loop form


def _index_constant(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _is_iv_minus_one(v: SSAValue, iv: SSAValue) -> bool:
    owner = v.owner
    return isinstance(owner, arith.SubiOp) and owner.lhs is iv and _index_constant(owner.rhs) == 1


def _offsets_are(offsets: list[SSAValue], axis: int, pred) -> bool:
    """offsets[axis] satisfies `pred`, every other offset is the constant 0."""
    for d, v in enumerate(offsets):
        if d == axis:
            if not pred(v):
                return False
        elif _index_constant(v) != 0:
            return False
    return True


def decode_loop(loop: scf.ForOp) -> DecodeLoop:
    """Check the form of a decode loop (bounds, the token buffer, its write); raise
    NotCausal when the loop has another form."""
    lb, ub, step = (_index_constant(v) for v in (loop.lb, loop.ub, loop.step))
    if lb is None or ub is None or step != 1:
        raise NotCausal(loop, "the loop bounds are not constants with step 1")
    if not loop.iter_args:
        raise NotCausal(loop, "the loop carries no token buffer")
    body = loop.body.block
    iv, tokens = body.args[:2]
    shape = red.shape_of(tokens)
    if not red.is_integer_type(red.element_type_of(tokens)) or len(shape) not in (1, 2):
        raise NotCausal(loop, f"the carried value '{tokens.type}' is not a token buffer")
    if len(shape) == 2 and shape[0] != 1:
        raise NotCausal(loop, f"the token buffer '{tokens.type}' has a batch of {shape[0]}")
    axis = len(shape) - 1
    if not 1 <= lb < ub <= shape[axis]:
        raise NotCausal(loop, f"the loop runs {lb}..{ub}, outside the buffer of {shape[axis]}")
    yielded = body.last_op
    assert isinstance(yielded, scf.YieldOp)
    write = yielded.operands[0].owner
    if not (
        isinstance(write, red.DynamicUpdateSliceOp)
        and write.input is tokens
        and red.shape_of(write.update)[axis] == 1
        and _offsets_are(list(write.offsets), axis, lambda v: v is iv)
    ):
        raise NotCausal(loop, "the step does not write one token at row t of the buffer")
    outputs = [_output_write(loop, i) for i in range(1, len(loop.iter_args))]
    reads = [
        op
        for op in body.ops
        if isinstance(op, red.DynamicSliceOp)
        and _offsets_are(list(op.offsets), _row_of_slice(op), lambda v: _is_iv_minus_one(v, iv))
    ]
    if len(reads) != 1:
        raise NotCausal(loop, f"expected one read of row t-1 of the logits, found {len(reads)}")
    return DecodeLoop(loop, tokens, axis, lb, ub, reads[0], write, outputs)


def _output_write(loop: scf.ForOp, index: int) -> red.DynamicUpdateSliceOp:
    """The one write into carried value `index` (not the tokens), yielded at its place."""
    arg = loop.body.block.args[1 + index]
    yielded = loop.body.block.last_op
    assert isinstance(yielded, scf.YieldOp)
    users = [u.operation for u in arg.uses]
    write = users[0] if len(users) == 1 else None
    if not (
        isinstance(write, red.DynamicUpdateSliceOp)
        and write.input is arg
        and yielded.operands[index] is write.result
        and write.result.has_one_use()
    ):
        raise NotCausal(
            loop, f"carried value #{index} is not an output buffer written once per step"
        )
    return write


def _row_of_slice(op: red.DynamicSliceOp) -> int:
    """The axis a one-row dynamic slice cuts (the first of size 1 where the input is longer)."""
    for d, (s, n) in enumerate(zip(op.size_list, red.shape_of(op.input))):
        if s == 1 and n > 1:
            return d
    return -1


# endregion Loop form

# region Transfer


@dataclass
class Analysis:
    info: DecodeLoop

    def run(self) -> DecodeLoop:
        info = self.info
        iv = info.body.args[0]
        info.classes[iv] = STEP
        info.classes[info.tokens] = Seq(info.seq_axis)
        for out in info.outputs:
            info.classes[out.input] = DERIVED
        for op in info.body.ops:
            if op.has_trait(IsTerminator):
                continue
            for r, c in zip(op.results, self.transfer(op)):
                info.classes[r] = c
        read = info.classes.get(info.read.input)
        if not isinstance(read, Seq) or read.col is not None:
            raise NotCausal(info.read, "the row read is not of a causal sequence value")
        if _row_of_slice(info.read) != read.row:
            raise NotCausal(info.read, "the row read cuts another axis than the sequence")
        return info

    def klass(self, v: SSAValue) -> Class:
        return self.info.classes.get(v, FIXED)  # values from outside the loop are fixed

    def transfer(self, op: Operation) -> list[Class]:
        classes = [self.klass(v) for v in op.operands]
        if all(c == FIXED for c in classes) and not op.regions:
            return [FIXED] * len(op.results)
        if op is self.info.read or op is self.info.write or op in self.info.outputs:
            return [DERIVED]
        if op.regions or not isinstance(op, red.RedOp):
            if any(isinstance(c, Seq) for c in classes) or op.regions:
                raise NotCausal(op, f"'{op.name}' on token-dependent values is not analysed")
            return [STEP if STEP in classes else DERIVED] * len(op.results)
        if any(isinstance(c, Seq) for c in classes) and STEP in classes:
            raise NotCausal(op, f"'{op.name}' mixes the step number into token-dependent values")
        if DERIVED in classes:
            if any(isinstance(c, Seq) for c in classes):
                raise NotCausal(op, f"'{op.name}' mixes the row read back into the sequence")
            return [DERIVED]
        if STEP in classes:
            return [STEP]
        return [self.transfer_seq(op, classes)]

    def transfer_seq(self, op: red.RedOp, classes: list[Class]) -> Seq:
        special = _SPECIAL.get(type(op), _scores_op)
        found = special(self, op, classes)
        if found is not None:
            return found
        if any(isinstance(c, Seq) and c.is_scores for c in classes):
            raise NotCausal(op, f"'{op.name}' on attention scores is not analysed")
        return self.row_local(op, classes)

    def axis_of_class(self, op: red.RedOp, classes: list[Class], scores: Seq) -> tuple[int, int]:
        """The result axes of a scores operand's row and column axes (every token-dependent
        operand read row by row along them, or broadcast along the columns)."""
        index = classes.index(scores)
        assert scores.col is not None
        row, col = self.axis_of(op, index, scores.row), self.axis_of(op, index, scores.col)
        if row is None or col is None:
            raise NotCausal(op, f"'{op.name}' mixes the axes of the attention scores")
        rows, cols = op.row_sources(row), op.row_sources(col)
        assert rows is not None
        assert cols is not None
        for k, c in enumerate(classes):
            if not isinstance(c, Seq):
                continue
            if rows[k] != c.row or (c.is_scores and cols[k] != c.col):
                raise NotCausal(op, f"'{op.name}' mixes rows along the sequence axis")
            if not c.is_scores and cols[k] is not BROADCAST:
                raise NotCausal(op, f"'{op.name}' combines scores with a sequence of columns")
        return row, col

    def row_local(self, op: red.RedOp, classes: list[Class]) -> Seq:
        """The result axis a along which every token-dependent operand is read row by row
        (its own sequence axis); fixed operands may be read in any way."""
        rank = len(red.shape_of(op.results[0]))
        for a in range(rank):
            sources = op.row_sources(a)
            if sources is None:
                continue
            if all(
                not isinstance(c, Seq) or s == c.row for c, s in zip(classes, sources, strict=True)
            ):
                return Seq(a)
        raise NotCausal(op, f"'{op.name}' mixes rows along the sequence axis")

    def axis_of(self, op: red.RedOp, operand: int, axis: int) -> int | None:
        """The result axis that reads `axis` of operand `operand` row by row."""
        for a in range(len(red.shape_of(op.results[0]))):
            sources = op.row_sources(a)
            if sources is not None and sources[operand] == axis:
                return a
        return None


# endregion Transfer

# region Attention


def _matmul(an: Analysis, op: red.MatmulOp, classes: list[Class]) -> Seq | None:
    lhs, rhs = classes
    lr, rr, res = (len(red.shape_of(v)) for v in (op.lhs, op.rhs, op.result))
    if isinstance(lhs, Seq) and isinstance(rhs, Seq) and not lhs.is_scores and not rhs.is_scores:
        if lhs.row == lr - 2 and rhs.row == rr - 1:  # q · kᵀ: scores
            an.info.whole_uses.append((op, 1))
            return Seq(res - 2, res - 1)
        if lhs.row == lr - 1 and rhs.row == rr - 2:
            raise NotCausal(op, "'red.matmul' contracts over the sequence without a causal mask")
    if isinstance(lhs, Seq) and lhs.col == lr - 1 and isinstance(rhs, Seq) and not rhs.is_scores:
        if lhs.row == lr - 2 and rhs.row == rr - 2:  # probabilities · v
            if not lhs.upper_is_zero:
                raise NotCausal(
                    op,
                    "attention reads later positions: its probabilities are not causally "
                    "masked (a bidirectional or missing mask)",
                )
            an.info.whole_uses.append((op, 1))
            return Seq(res - 2)
    if isinstance(rhs, Seq) and not rhs.is_scores and rhs.row == rr - 2 and lhs == FIXED:
        raise NotCausal(op, "'red.matmul' contracts a fixed matrix over the sequence axis")
    if any(isinstance(c, Seq) and c.is_scores for c in classes):
        raise NotCausal(op, "'red.matmul' on attention scores is not analysed")
    return None


ELEMENTWISE = (red.BinaryElementwiseOp, red.UnaryElementwiseOp, red.SelectOp, red.CastOp)


def _upper_mask(scores: Seq, shape: tuple[int, ...]) -> np.ndarray:
    """True at the entries j > i along the scores' (row, col) axes, broadcast to `shape`."""
    assert scores.col is not None

    def ramp(axis: int) -> np.ndarray:
        return np.arange(shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))])

    return np.broadcast_to(ramp(scores.col) > ramp(scores.row), shape)


def _constant_upper(v: SSAValue, scores: Seq, shape: tuple[int, ...]) -> np.ndarray | None:
    """The upper entries of a constant operand broadcast to the scores' shape."""
    value = red.constant_value(v) if red.is_constant(v) else None
    if value is None:
        return None
    try:
        return np.broadcast_to(value, shape)[_upper_mask(scores, shape)]
    except ValueError:
        return None


def _uniform(values: np.ndarray) -> Exact | None:
    """Exact(v) when every entry is bitwise the same value v."""
    if values.size == 0:
        return None
    first = values.reshape(-1)[:1]
    bits = first.dtype.kind == "f"
    same = (
        np.all(values.view(f"u{values.itemsize}") == first.view(f"u{values.itemsize}"))
        if bits
        else np.all(values == first)
    )
    return Exact(first[0].item()) if same else None


def _scores_op(an: Analysis, op: red.RedOp, classes: list[Class]) -> Seq | None:
    """An elementwise op on scores (and fixed values, or rows broadcast along the columns):
    the scores' axes are kept, and the upper entries follow by evaluating the op on them."""
    scores = next((c for c in classes if isinstance(c, Seq) and c.is_scores), None)
    if scores is None or not isinstance(op, ELEMENTWISE):
        return None
    assert scores.col is not None
    row, col = an.axis_of_class(op, classes, scores)
    shape = red.shape_of(op.results[0])
    scores = Seq(row, col, scores.upper)
    uppers: list[Upper] = []
    for v, c in zip(op.operands, classes):
        if isinstance(c, Seq) and c.is_scores:
            uppers.append(c.upper)
        elif isinstance(c, Seq):
            uppers.append(None)  # a row value broadcast along the columns
        else:
            values = _constant_upper(v, scores, shape)
            uppers.append(_uniform(values) if values is not None else None)
            if values is not None and uppers[-1] is None and values.size:
                uppers[-1] = Bound(float(np.max(values))) if values.dtype.kind == "f" else None
    return Seq(row, col, _combine_upper(op, uppers))


def _combine_upper(op: red.RedOp, uppers: list[Upper]) -> Upper:
    if all(isinstance(u, Exact) for u in uppers):
        scalars = [np.asarray(u.value) for u in uppers]  # type: ignore[union-attr]
        typed = [
            s.astype(numpy_dtype(red.element_type_of(v))) for s, v in zip(scalars, op.operands)
        ]
        return Exact(evaluate_on_scalars(op, typed).item())
    if isinstance(op, red.SelectOp):
        cond, a, b = uppers
        if isinstance(cond, Exact):
            return a if cond.value else b
        return a if a == b else None
    if isinstance(op, red.AddOp | red.SubOp):
        return _add_upper(op, uppers)
    if isinstance(op, red.MulOp | red.DivOp):
        return _scale_upper(op, uppers)
    if isinstance(op, red.CastOp) and isinstance(uppers[0], Bound):
        return uppers[0] if red.is_float_type(red.element_type_of(op.result)) else None
    return None


def _add_upper(op: red.AddOp | red.SubOp, uppers: list[Upper]) -> Upper:
    """scores + mask: -inf masks exactly (finite scores), a large negative bounds."""
    lhs, rhs = uppers
    if isinstance(op, red.SubOp):
        rhs = Exact(-rhs.value) if isinstance(rhs, Exact) else None  # x - b ≤ ? unknown
    for a, b in ((lhs, rhs), (rhs, lhs)):
        if isinstance(b, Exact) and b.value == -math.inf:
            return Exact(-math.inf)
    bounds = [u.value for u in (lhs, rhs) if isinstance(u, Bound | Exact)]
    if len(bounds) == 2 and any(isinstance(u, Bound) for u in (lhs, rhs)):
        return Bound(float(bounds[0]) + float(bounds[1]))
    if len(bounds) == 1 and None not in (lhs, rhs):
        return Bound(float(bounds[0]))
    if (isinstance(lhs, Exact) or isinstance(rhs, Exact)) and None in (lhs, rhs):
        known = lhs if isinstance(lhs, Exact) else rhs
        assert isinstance(known, Exact)
        if isinstance(known.value, float) and known.value <= MASK_BOUND:
            return None  # scores + large negative: unbounded scores keep it unknown
    return None


def _scale_upper(op: red.MulOp | red.DivOp, uppers: list[Upper]) -> Upper:
    """Bounded scores times (or over) a positive constant stay bounded."""
    lhs, rhs = uppers
    if isinstance(op, red.MulOp) and isinstance(rhs, Bound) and isinstance(lhs, Exact):
        lhs, rhs = rhs, lhs
    if isinstance(lhs, Bound) and isinstance(rhs, Exact):
        c = float(rhs.value)
        if c > 0 and math.isfinite(c):
            return Bound(lhs.value * c if isinstance(op, red.MulOp) else lhs.value / c)
    return None


def _softmax(an: Analysis, op: red.SoftmaxOp, classes: list[Class]) -> Seq | None:
    (scores,) = classes
    if not (isinstance(scores, Seq) and scores.is_scores):
        return None
    if op.axis.value.data != scores.col:
        raise NotCausal(op, "'red.softmax' normalises attention scores over the query axis")
    upper = scores.upper
    bound = upper.value if isinstance(upper, Exact | Bound) else math.inf
    if not (isinstance(bound, float | int) and bound <= MASK_BOUND):
        raise NotCausal(
            op,
            "attention reads later positions: its scores are not causally masked "
            "(a bidirectional or missing mask)",
        )
    return Seq(scores.row, scores.col, ZERO)


def _reduce(an: Analysis, op: red.RedOp, classes: list[Class]) -> Seq | None:
    """A reduction over the columns of scores is causal when the upper entries are exact
    (it reads later positions only through constants)."""
    (scores,) = classes[:1]
    if not (isinstance(scores, Seq) and scores.is_scores):
        return None
    axes = op.axis_list if isinstance(op, red.ReduceOp) else (op.axis.value.data,)  # type: ignore[attr-defined]
    if scores.row in axes:
        raise NotCausal(op, f"'{op.name}' reduces over the sequence axis")
    if scores.col in axes:
        if not isinstance(scores.upper, Exact):
            raise NotCausal(
                op, f"'{op.name}' reduces over later positions whose values are not masked"
            )
        row = an.axis_of(op, 0, scores.row)
        if row is None:
            raise NotCausal(op, f"'{op.name}' loses the sequence axis")
        return Seq(row)  # (a kept column axis has size 1: broadcast along the columns)
    return None


def _layout(an: Analysis, op: red.RedOp, classes: list[Class]) -> Seq | None:
    """Transposes and reshapes carry scores' two axes (each mapped on its own)."""
    (scores,) = classes[:1]
    if not (isinstance(scores, Seq) and scores.is_scores):
        return None
    row, col = an.axis_of(op, 0, scores.row), an.axis_of(op, 0, scores.col)  # type: ignore[arg-type]
    if row is None or col is None:
        raise NotCausal(op, f"'{op.name}' merges the axes of the attention scores")
    return Seq(row, col, scores.upper)


_SPECIAL = {
    red.MatmulOp: _matmul,
    red.SoftmaxOp: _softmax,
    red.TransposeOp: _layout,
    red.ReshapeOp: _layout,
    red.BroadcastToOp: _layout,
    red.ReduceSumOp: _reduce,
    red.ReduceMeanOp: _reduce,
    red.ReduceMaxOp: _reduce,
    red.ArgmaxOp: _reduce,
}


# endregion Attention


def analyse(loop: scf.ForOp) -> DecodeLoop:
    """Prove the decode loop causal (module docstring); raise NotCausal with the op that
    breaks the proof."""
    return Analysis(decode_loop(loop)).run()


LAYOUT_OPS = (red.TransposeOp, red.ReshapeOp, red.BroadcastToOp)
"""Ops that only rearrange or repeat data."""


def _chain_input(info: DecodeLoop, op: Operation) -> SSAValue | None:
    """The operand a state may be taken before: the input of a layout op, or the one
    token-dependent operand of an elementwise op whose other operands are fixed and the
    same for every position (a scale factor): cheap to redo on all rows at every step."""
    if op.parent is not info.body:
        return None
    if isinstance(op, LAYOUT_OPS):
        return op.operands[0]
    if not isinstance(op, ELEMENTWISE):
        return None
    seq = [v for v in op.operands if isinstance(info.classes.get(v), Seq)]
    if len(seq) != 1:
        return None
    klass = info.classes[seq[0]]
    assert isinstance(klass, Seq)
    result = info.classes.get(op.results[0])
    if not isinstance(result, Seq) or result.is_scores:
        return None
    sources = op.row_sources(result.row)
    if sources is None:
        return None
    for v, source in zip(op.operands, sources):
        if v is not seq[0] and (info.classes.get(v, FIXED) != FIXED or source is not BROADCAST):
            return None
    return seq[0]


def state_source(info: DecodeLoop, use: tuple[Operation, int]) -> tuple[SSAValue, list[Operation]]:
    """The value to carry for a whole use, and the ops from it to the use, in order: the
    walk back goes through layout ops and position-independent elementwise ops, so keys
    are cached before a head repeat or a scale, and values before their reshapes."""
    op, index = use
    v = op.operands[index]
    chain: list[Operation] = []
    while isinstance(owner := v.owner, Operation) and (prior := _chain_input(info, owner)):
        chain.append(owner)
        v = prior
    return v, list(reversed(chain))
