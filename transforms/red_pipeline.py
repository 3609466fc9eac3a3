"""red-pipeline: the default optimisation pipeline, iterated to a fixpoint (DESIGN.md §3)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.printer import Printer

from red.passes.pass_manager import CompoundPass, PassManager
from red.transforms.canonicalize import CanonicalizePass
from red.transforms.cse import CSEPass
from red.transforms.dce import DCEPass
from red.transforms.memoize import MemoizePass
from red.transforms.narrow_to_uses import NarrowToUsesPass
from red.transforms.optimize_chains import OptimizeChainsPass


def _fingerprint(module: ModuleOp) -> str:
    buf = io.StringIO()
    Printer(stream=buf, print_generic_format=True).print_op(module)
    return buf.getvalue()


@dataclass(frozen=True)
class RedPipelinePass(CompoundPass):
    """canonicalize, cse, optimize-chains, narrow-to-uses, memoize, canonicalize, cse, dce,
    repeated until the module stops changing (at most max-iterations rounds).
    `strict-fp=true` keeps only rewrites that are exact (no reassociation)."""

    name = "red-pipeline"

    strict_fp: bool = False
    max_iterations: int = 4

    def steps(self) -> list[ModulePass]:
        return [
            CanonicalizePass(),
            CSEPass(),
            OptimizeChainsPass(reassoc=not self.strict_fp),
            NarrowToUsesPass(),
            MemoizePass(),
            CanonicalizePass(),
            CSEPass(),
            DCEPass(),
        ]

    def run_steps(self, manager: PassManager, ctx: Context, module: ModuleOp) -> None:
        steps = self.steps()
        for _ in range(max(1, self.max_iterations)):
            before = _fingerprint(module)
            for step in steps:
                manager.run_pass(step, ctx, module)
            if _fingerprint(module) == before:
                return
