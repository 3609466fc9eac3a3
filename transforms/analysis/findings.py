"""Where passes record the redundancy they remove, for the redundancy report: a finding has
a kind (duplicate, dead, identity, foldable, invariant, unused-rows, shared-subchain), the
location and names of the ops involved, and the FLOPs and bytes its removal saves per call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from red.dialects.diagnostics import format_location, location_of
from red.transforms.analysis.cost_model import Cost, CostModel

_recorders: list[list[dict[str, Any]]] = []
_current_pass: list[str] = []


@contextmanager
def recording() -> Iterator[list[dict[str, Any]]]:
    """Collect the findings of the passes run inside the `with` block."""
    sink: list[dict[str, Any]] = []
    _recorders.append(sink)
    try:
        yield sink
    finally:
        _recorders.remove(sink)


@contextmanager
def in_pass(name: str) -> Iterator[None]:
    _current_pass.append(name)
    try:
        yield
    finally:
        _current_pass.pop()


def is_recording() -> bool:
    return bool(_recorders)


def enclosing_function(op: Operation) -> str | None:
    while op is not None:
        if isinstance(op, func.FuncOp):
            return op.sym_name.data
        op = op.parent_op()  # type: ignore[assignment]
    return None


def _enclosing_module(op: Operation) -> ModuleOp | None:
    while (parent := op.parent_op()) is not None:
        op = parent
    return op if isinstance(op, ModuleOp) else None


def record(
    kind: str,
    ops: Sequence[Operation],
    *,
    flops_saved: int | None = None,
    bytes_saved: int | None = None,
    note: str = "",
) -> None:
    """Record a finding (cheap no-op unless a report is being collected). By default the
    saving is the cost of `ops` (call before erasing them)."""
    if not _recorders or not ops:
        return
    if flops_saved is None or bytes_saved is None:
        # The model knows the module's functions, so a call costs what its callee does.
        model, cost = CostModel(_enclosing_module(ops[0])), Cost()
        for o in ops:
            cost = cost + model.op_cost(o)
        flops_saved = cost.flops if flops_saved is None else flops_saved
        bytes_saved = cost.bytes if bytes_saved is None else bytes_saved
    finding = {
        "kind": kind,
        "loc": format_location(location_of(ops[0])),
        "ops": [o.name for o in ops],
        "flops_saved": int(flops_saved),
        "bytes_saved": int(bytes_saved),
        "function": enclosing_function(ops[0]),
        "pass": _current_pass[-1] if _current_pass else None,
    }
    if note:
        finding["note"] = note
    for sink in _recorders:
        sink.append(finding)
