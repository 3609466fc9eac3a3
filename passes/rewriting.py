"""How passes tell an observer what they change, without global state (the role of TVM's
PassContext): the pass manager hands passes a `PassContext`, which may carry a
`RewriteObserver` (the redundancy report installs one). Passes mutate IR through xDSL's
`PatternRewriter` made by `rewriter_for(op, ctx)`, whose listener lets the observer classify
each replaced or erased op; findings that no single rewrite shows (rows no longer computed, a
shared sub-chain) are reported with `report(ctx, ...)`. With no observer both cost nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from xdsl.context import Context
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriterListener


class RewriteObserver(Protocol):
    """What the pass manager's passes report to (the redundancy report implements it)."""

    def listener(self) -> PatternRewriterListener:
        """Handlers for the rewriter: replaced and erased ops are classified as findings."""
        ...

    def report(
        self,
        kind: str,
        ops: Sequence[Operation],
        *,
        flops_saved: int | None = None,
        bytes_saved: int | None = None,
        note: str = "",
    ) -> None:
        """A finding the pass classifies itself (by default the saving is the cost of
        `ops`, which must still be in the IR)."""
        ...


@dataclass
class PassContext(Context):
    """xDSL's context plus what red's passes may use while they run: the observer of
    rewrites, and remarks (MLIR's `remark:` diagnostics: a pass explaining why it left
    something alone), which the pass manager prints once each."""

    observer: RewriteObserver | None = None
    remarks: list[tuple[Operation, str]] = field(default_factory=list[tuple[Operation, str]])

    @staticmethod
    def of(ctx: Context, observer: RewriteObserver | None) -> PassContext:
        """A PassContext sharing `ctx`'s loaded dialects."""
        pc = PassContext(allow_unregistered=ctx.allow_unregistered, observer=observer)
        for name, value in vars(ctx).items():
            if name not in ("allow_unregistered", "observer", "remarks"):
                setattr(pc, name, value)
        return pc


class ReportingPass(ModulePass):
    """A pass whose replacements the observer classifies as `finding_kind` (unless an op is
    replaced by constants, "foldable", or erased unused, "dead")."""

    finding_kind: ClassVar[str] = "identity"


def observer_of(ctx: Context | None) -> RewriteObserver | None:
    return ctx.observer if isinstance(ctx, PassContext) else None


def rewriter_for(op: Operation, ctx: Context | None) -> PatternRewriter:
    """A rewriter anchored at `op` whose changes the context's observer (if any) sees."""
    rewriter = PatternRewriter(op)
    if (observer := observer_of(ctx)) is not None:
        rewriter.extend_from_listener(observer.listener())
    return rewriter


def report(
    ctx: Context | None,
    kind: str,
    ops: Sequence[Operation],
    *,
    flops_saved: int | None = None,
    bytes_saved: int | None = None,
    note: str = "",
) -> None:
    """Tell the context's observer (if any) about a finding the pass classifies itself."""
    if (observer := observer_of(ctx)) is not None and ops:
        observer.report(kind, ops, flops_saved=flops_saved, bytes_saved=bytes_saved, note=note)


def is_observed(ctx: Context | None) -> bool:
    return observer_of(ctx) is not None


def remark(ctx: Context | None, op: Operation, message: str) -> None:
    """A located remark about `op` (printed by the pass manager as `loc: remark: ...`)."""
    if isinstance(ctx, PassContext):
        ctx.remarks.append((op, message))
