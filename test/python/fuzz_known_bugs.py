"""Bugs the differential fuzzer has found and that are still open, so that its runs go on
finding new ones: a known bug is recognised by its crash message (`matches`) or taken out of
the way by a rewrite of the module the JIT gets (`workaround`), one that is exact under red's
semantics and spells out what the lowering should do. An example that fails is run again with
the workarounds; a failure that disappears is counted against the bug whose workaround was
applied. Each bug has a strict-xfail reproducer in test_differential_fuzz.py: when it is
fixed, the reproducer passes, the xfail fails, and its entry here goes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from fuzz_engines import LOWERING_BUG, LOWERING_CRASH, PROCESS_DIED, Failure
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, Region, SSAValue

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype, numpy_to_dense


@dataclass(frozen=True)
class KnownBug:
    """An open bug: its name (as in the reproducer's xfail reason), what it is, and how the
    fuzzer recognises or sidesteps it."""

    name: str
    summary: str
    matches: Callable[[Failure], bool] | None = None
    workaround: Callable[[ModuleOp], bool] | None = None


# region Workarounds


def _insert(before: Operation, op: Operation) -> Operation:
    op.location = before.location
    assert before.parent is not None
    before.parent.insert_op_before(op, before)
    return op


def _scalar(before: Operation, value: int, like: SSAValue) -> SSAValue:
    """A rank-0 constant of `like`'s element type."""
    elt = red.element_type_of(like)
    dense = numpy_to_dense(np.array(value, dtype=numpy_dtype(elt)), elt)
    return _insert(before, red.ConstantOp(dense)).results[0]


def guard_integer_division(module: ModuleOp) -> bool:
    """Each integer `x / y` becomes red's total division spelled with ops whose lowering is
    sound: `select(y == 0, 0, select(y == -1, -x, x / y'))` where `y'` is y with 0 and -1
    replaced by 1 (so the machine division never sees 0, nor MIN / -1)."""
    divisions = [
        op
        for op in module.walk()
        if isinstance(op, red.DivOp) and red.is_integer_type(red.element_type_of(op.result))
    ]
    for op in divisions:
        x, y = op.lhs, op.rhs
        zero, one, minus_one = (_scalar(op, v, y) for v in (0, 1, -1))
        y_zero = _insert(op, red.EqOp(y, zero)).results[0]
        y_minus_one = _insert(op, red.EqOp(y, minus_one)).results[0]
        safe = _insert(op, red.SelectOp(y_zero, one, y)).results[0]
        safe = _insert(op, red.SelectOp(y_minus_one, one, safe)).results[0]
        quotient = _insert(op, red.DivOp(x, safe)).results[0]
        negated = _insert(op, red.NegOp(x)).results[0]
        result = _insert(op, red.SelectOp(y_minus_one, negated, quotient)).results[0]
        result = _insert(op, red.SelectOp(y_zero, zero, result, op.result.type)).results[0]
        op.result.replace_all_uses_with(result)
        op.detach()
        op.erase()
    return bool(divisions)


def rank1_memo_results(module: ModuleOp) -> bool:
    """A red.memo's rank-0 results are yielded as tensors of shape [1] and reshaped back
    outside, so no memo caches a rank-0 buffer."""
    memos = [
        op
        for op in module.walk()
        if isinstance(op, red.MemoOp) and any(not red.shape_of(r) for r in op.outputs)
    ]
    for op in memos:
        term = op.body.block.last_op
        assert isinstance(term, red.YieldOp)
        yielded = [
            _insert(term, red.ReshapeOp(v, (1,))).results[0] if not red.shape_of(v) else v
            for v in term.values
        ]
        term.detach()
        term.erase()
        op.body.block.add_op(red.YieldOp(yielded))
        body = Region()
        op.body.move_blocks(body)
        new = _insert(op, red.MemoOp(list(op.keys), [v.type for v in yielded], body))
        for old, r in zip(op.outputs, new.results):
            if red.shape_of(old):
                old.replace_all_uses_with(r)
            else:
                old.replace_all_uses_with(_insert(op, red.ReshapeOp(r, ())).results[0])
        op.detach()
        op.erase()
    return bool(memos)


def ieee_max_min(module: ModuleOp) -> bool:
    """Float red.max, red.min and red.relu spelled with compares and selects that give IEEE
    maximum/minimum (NaN propagates, -0 < +0) whatever the operand order:
    `max(a, b) = a != a ? a : b != b ? b : a == b ? (a == 0 ? a + b : a) : a > b ? a : b`,
    for min `-(-a + -b)` and `a < b`; relu(x) = max(x, +0)."""
    ops = [
        op
        for op in module.walk()
        if isinstance(op, red.MaxOp | red.MinOp | red.ReluOp)
        and red.is_float_type(red.element_type_of(op.results[0]))
    ]
    for op in ops:
        if isinstance(op, red.ReluOp):
            a, b = op.input, _scalar(op, 0, op.input)
        else:
            a, b = op.lhs, op.rhs
        is_max = not isinstance(op, red.MinOp)

        def emit(new: Operation) -> SSAValue:
            return _insert(op, new).results[0]

        zero = _scalar(op, 0, a)
        if is_max:
            both_zero_result = emit(red.AddOp(a, b))
            larger = emit(red.GtOp(a, b))
        else:
            both_zero_result = emit(
                red.NegOp(emit(red.AddOp(emit(red.NegOp(a)), emit(red.NegOp(b)))))
            )
            larger = emit(red.LtOp(a, b))
        ordered = emit(red.SelectOp(larger, a, b))
        equal_pick = emit(red.SelectOp(emit(red.EqOp(a, zero)), both_zero_result, a))
        result = emit(red.SelectOp(emit(red.EqOp(a, b)), equal_pick, ordered))
        result = emit(red.SelectOp(emit(red.NeOp(b, b)), b, result))
        typ = op.results[0].type
        result = emit(red.SelectOp(emit(red.NeOp(a, a)), a, result, typ))
        op.results[0].replace_all_uses_with(result)
        op.detach()
        op.erase()
    return bool(ops)


# endregion Workarounds


def _message(kind: str, pattern: str) -> Callable[[Failure], bool]:
    return lambda f: f.kind == kind and re.search(pattern, f.message) is not None


KNOWN_BUGS = (
    KnownBug(
        "lowering-integer-division",
        "integer red.div lowers to a bare sdiv: x / 0 and MIN / -1 kill the process with "
        "SIGFPE, and LLVM folds the undefined cases (x / x -> 1, a division by a constant 0 "
        "-> poison) where red's division is total (x / 0 = 0, MIN / -1 = MIN)",
        matches=lambda f: f.kind == PROCESS_DIED and "SIGFPE" in f.message,
        workaround=guard_integer_division,
    ),
    KnownBug(
        "lowering-rank0-memo-result",
        "a red.memo result of rank 0 does not lower: 'cannot store float to [1 x float]*' "
        "(the rank-0 memref global is stored through its address without an index)",
        matches=_message(LOWERING_CRASH, r"cannot store \w+ to \[1 x \w+\]\*"),
        workaround=rank1_memo_results,
    ),
    KnownBug(
        "lowering-max-signed-zero",
        "float red.max, red.min and red.relu lower to `a >= b || isnan(a) ? a : b` (and "
        "`<=`), which is not IEEE maximum/minimum on zeros: max(-0, +0) = -0, min(+0, -0) = "
        "+0 and relu(-0) = -0 in compiled code, where the interpreter gives +0, -0, +0; the "
        "result depends on the operand order of a Commutative op",
        matches=_message(LOWERING_BUG, r"only in the sign of zero"),
        workaround=ieee_max_min,
    ),
)
