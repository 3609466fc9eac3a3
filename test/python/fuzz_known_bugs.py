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

from fuzz_engines import LOWERING_CRASH, Failure
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, Region

from red.dialects import red


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


# endregion Workarounds


def _message(kind: str, pattern: str) -> Callable[[Failure], bool]:
    return lambda f: f.kind == kind and re.search(pattern, f.message) is not None


KNOWN_BUGS = (
    KnownBug(
        "lowering-rank0-memo-result",
        "a red.memo result of rank 0 does not lower: 'cannot store float to [1 x float]*' "
        "(the rank-0 memref global is stored through its address without an index)",
        matches=_message(LOWERING_CRASH, r"cannot store \w+ to \[1 x \w+\]\*"),
        workaround=rank1_memo_results,
    ),
)
