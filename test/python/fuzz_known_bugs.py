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

from fuzz_engines import Failure
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation


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


# endregion Workarounds


def _message(kind: str, pattern: str) -> Callable[[Failure], bool]:
    return lambda f: f.kind == kind and re.search(pattern, f.message) is not None


KNOWN_BUGS: tuple[KnownBug, ...] = ()
