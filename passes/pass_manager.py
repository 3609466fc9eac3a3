"""Runs a list of passes with verification after each and instrumentation hooks (IR printing,
timing, equivalence checking), the way MLIR's PassManager does; compound passes (pipelines)
run their steps through the same manager so every step is verified and observed."""

from __future__ import annotations

import sys
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.verifier import verify_module
from red.passes.rewriting import PassContext, RewriteObserver


class PassInstrumentation:
    """Callbacks around every pass (nested steps of pipelines included). An
    instrumentation may also observe the rewrites inside passes (`observer`)."""

    observer: RewriteObserver | None = None

    def before_pass(self, pass_: ModulePass, module: ModuleOp) -> None: ...

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None: ...


class CompoundPass(ModulePass):
    """A pass made of other passes; the manager runs its steps one by one."""

    @abstractmethod
    def run_steps(self, manager: PassManager, ctx: Context, module: ModuleOp) -> None:
        """Run each step through `manager.run_pass`."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PassManager([self]).run_steps_of(self, ctx, op)


def pass_label(pass_: ModulePass) -> str:
    return str(pass_.spec())


@dataclass
class PassManager:
    passes: Sequence[ModulePass]
    instrumentations: list[PassInstrumentation] = field(default_factory=list[PassInstrumentation])
    verify_each: bool = True
    remark_stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    """Where remarks go (each printed once, in order), or None to keep them quiet."""
    _printed: set[tuple[str, str]] = field(default_factory=set[tuple[str, str]])

    def run(self, ctx: Context, module: ModuleOp) -> None:
        ctx = self.context(ctx)
        for p in self.passes:
            self.run_pass(p, ctx, module)

    def context(self, ctx: Context) -> PassContext:
        """The context passes run with: `ctx` plus the instrumentations' observer."""
        if isinstance(ctx, PassContext):
            return ctx
        observers = [i.observer for i in self.instrumentations if i.observer is not None]
        return PassContext.of(ctx, observers[0] if observers else None)

    def run_steps_of(self, pass_: CompoundPass, ctx: Context, module: ModuleOp) -> None:
        pass_.run_steps(self, self.context(ctx), module)

    def run_pass(self, pass_: ModulePass, ctx: Context, module: ModuleOp) -> None:
        ctx = self.context(ctx)
        for inst in self.instrumentations:
            inst.before_pass(pass_, module)
        if isinstance(pass_, CompoundPass):
            pass_.run_steps(self, ctx, module)
        else:
            try:
                pass_.apply(ctx, module)
            except DiagnosticError:
                raise
            except DiagnosticException as err:
                msg = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise DiagnosticError(
                    location_of(module), f"pass '{pass_.name}' failed: {msg}"
                ) from None
        self.print_remarks(ctx)
        if self.verify_each:
            try:
                verify_module(module)
            except DiagnosticError as err:
                err.message = f"pass '{pass_.name}' produced invalid IR: {err.message}"
                raise
        for inst in self.instrumentations:
            inst.after_pass(pass_, module)

    def print_remarks(self, ctx: Context) -> None:
        if not isinstance(ctx, PassContext):
            return
        remarks, ctx.remarks[:] = list(ctx.remarks), []
        for op, message in remarks:
            where = format_location(location_of(op))
            if self.remark_stream is None or (where, message) in self._printed:
                continue
            self._printed.add((where, message))
            print(f"{where}: remark: {message}", file=self.remark_stream)


class TimingInstrumentation(PassInstrumentation):
    """Wall time per pass, nested passes indented under their pipeline (`--mlir-timing`)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float]] = []
        self._stack: list[tuple[int, float]] = []

    def add(self, name: str, seconds: float) -> None:
        self.rows.append((0, name, seconds))

    def before_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        self.rows.append((len(self._stack), pass_label(pass_), 0.0))
        self._stack.append((len(self.rows) - 1, time.perf_counter()))

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        index, start = self._stack.pop()
        depth, name, _ = self.rows[index]
        self.rows[index] = (depth, name, time.perf_counter() - start)

    def report(self) -> str:
        total = sum(s for d, _, s in self.rows if d == 0)
        bar = "===" + "-" * 73 + "==="
        lines = [
            bar,
            "                         ... Execution time report ...",
            bar,
            f"  Total Execution Time: {total:.4f} seconds",
            "",
            "  ----Wall Time----  ----Name----",
        ]
        for depth, name, seconds in self.rows:
            pct = 100.0 * seconds / total if total else 0.0
            lines.append(f"  {seconds:8.4f} ({pct:5.1f}%)  {'  ' * depth}{name}")
        lines.append(f"  {total:8.4f} (100.0%)  Total")
        return "\n".join(lines)
