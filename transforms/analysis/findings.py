"""The redundancy report's observer of rewrites (a `RewriteObserver`): it classifies every op
a pass replaces or erases as a finding, with a kind (duplicate, dead, identity, foldable,
invariant, unused-rows, shared-subchain, ...), the location and names of the ops, and the
FLOPs and bytes its removal saves per call. An op replaced by constants is `foldable`, an op
erased unused is `dead`, any other replacement takes the running pass's `finding_kind`
(cse: duplicate; canonicalize: identity). Passes add findings no single rewrite shows with
`red.passes.rewriting.report`. Nothing is observed unless a report is asked for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriterListener
from xdsl.traits import ConstantLike

from red.dialects.diagnostics import format_location, location_of
from red.dialects.red.dims import Poly, magnitude
from red.passes.rewriting import ReportingPass
from red.transforms.analysis.cost_model import Cost, CostModel


def enclosing_function(op: Operation) -> str | None:
    current: Operation | None = op
    while current is not None:
        if isinstance(current, func.FuncOp):
            return current.sym_name.data
        current = current.parent_op()
    return None


def _enclosing_module(op: Operation) -> ModuleOp | None:
    while (parent := op.parent_op()) is not None:
        op = parent
    return op if isinstance(op, ModuleOp) else None


def _count(value: Any) -> Any:
    """An int, or a polynomial in the symbols of dynamic dims."""
    return value if isinstance(value, Poly) else int(value)


class FindingsObserver:
    """Collects findings while passes run (see the module docstring)."""

    def __init__(self) -> None:
        self.findings: list[dict[str, Any]] = []
        self._passes: list[ModulePass] = []
        self._replaced: set[int] = set()
        self._inserted: list[Operation] = []

    # region pass scope

    def begin_pass(self, pass_: ModulePass) -> None:
        self._passes.append(pass_)

    def end_pass(self) -> None:
        self._passes.pop()
        self._replaced.clear()

    @property
    def _pass(self) -> ModulePass | None:
        return self._passes[-1] if self._passes else None

    # endregion pass scope

    def listener(self) -> PatternRewriterListener:
        return PatternRewriterListener(
            operation_insertion_handler=[self._inserted.append],
            operation_removal_handler=[self._on_remove],
            operation_replacement_handler=[self._on_replace],
        )

    def _on_replace(self, op: Operation, new_results: Sequence[SSAValue | None]) -> None:
        """A replaced op saves its cost net of the ops the rewrite inserted for it; a
        rewrite that saves nothing (a rebuilt op, an operand swap) is no finding."""
        self._replaced.add(id(op))
        inserted, self._inserted[:] = list(self._inserted), []
        owners = [v.owner for v in new_results if v is not None]
        model = CostModel(_enclosing_module(op))
        saved = model.op_cost(op)
        for new in inserted:
            added = model.op_cost(new)
            saved = Cost(saved.flops - added.flops, saved.bytes - added.bytes)
        if magnitude(saved.flops) <= 0 and magnitude(saved.bytes) <= 0:
            return
        if owners and all(isinstance(o, Operation) and o.has_trait(ConstantLike) for o in owners):
            kind, note = "foldable", ""
        else:
            kind = self._pass.finding_kind if isinstance(self._pass, ReportingPass) else "identity"
            note = ""
            if kind == "duplicate" and owners and isinstance(owners[0], Operation):
                note = f"same as the op at {format_location(location_of(owners[0]))}"
        self.report(kind, [op], flops_saved=saved.flops, bytes_saved=saved.bytes, note=note)

    def _on_remove(self, op: Operation) -> None:
        self._inserted.clear()
        if id(op) in self._replaced:
            self._replaced.discard(id(op))
            return
        self.report("dead", [op])

    def report(
        self,
        kind: str,
        ops: Sequence[Operation],
        *,
        flops_saved: int | None = None,
        bytes_saved: int | None = None,
        note: str = "",
    ) -> None:
        if not ops:
            return
        if flops_saved is None or bytes_saved is None:
            # The model knows the module's functions, so a call costs what its callee does.
            model, cost = CostModel(_enclosing_module(ops[0])), Cost()
            for o in ops:
                cost = cost + model.op_cost(o)
            flops_saved = cost.flops if flops_saved is None else flops_saved
            bytes_saved = cost.bytes if bytes_saved is None else bytes_saved
        finding: dict[str, Any] = {
            "kind": kind,
            "loc": format_location(location_of(ops[0])),
            "ops": [o.name for o in ops],
            "flops_saved": _count(flops_saved),
            "bytes_saved": _count(bytes_saved),
            "function": enclosing_function(ops[0]),
            "pass": self._pass.name if self._pass is not None else None,
        }
        if note:
            finding["note"] = note
        self.findings.append(finding)
