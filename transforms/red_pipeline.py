"""red-pipeline: the default optimisation pipeline, iterated to a fixpoint (DESIGN.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass

from red.passes.pass_manager import CompoundPass, PassManager
from red.transforms.canonicalize import CanonicalizePass
from red.transforms.cse import CSEPass
from red.transforms.dce import DCEPass
from red.transforms.incrementalize import IncrementalizePass
from red.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass
from red.transforms.memoize import MemoizePass
from red.transforms.narrow_to_uses import NarrowToUsesPass
from red.transforms.optimize_chains import OptimizeChainsPass


def module_fingerprint(module: ModuleOp) -> int:
    """A hash of the module's structure (ops, dataflow, types, properties, attributes):
    equal for an unchanged module, without printing it (a dense constant's bytes are hashed
    once, by Python's cached bytes hash)."""
    numbering: dict[SSAValue, int] = {}
    parts: list[int] = []
    for op in module.walk():
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    numbering[arg] = len(numbering)
        parts.append(
            hash(
                (
                    op.name,
                    tuple(numbering.get(v, -1) for v in op.operands),
                    tuple(r.type for r in op.results),
                    tuple(sorted(op.properties.items())),
                    tuple(sorted(op.attributes.items())),
                    len(op.successors),
                )
            )
        )
        for r in op.results:
            numbering[r] = len(numbering)
    return hash(tuple(parts))


@dataclass(frozen=True)
class RedPipelinePass(CompoundPass):
    """canonicalize, cse, incrementalize, loop-invariant-code-motion, narrow-to-uses,
    optimize-chains, memoize, canonicalize, cse, dce, repeated until the module stops
    changing (at most max-iterations rounds). Narrowing comes before reassociation: the
    rows a chain needs decide its best order (and a chain whose order is chosen at run time
    by its length is one the demand for a single row cannot narrow through).
    `strict-fp=true` keeps only rewrites that are exact (no reassociation, no pow as products;
    incrementalize without its narrow prefill)."""

    name = "red-pipeline"

    strict_fp: bool = False
    max_iterations: int = 4

    def steps(self) -> list[ModulePass]:
        return [
            CanonicalizePass(reassoc=not self.strict_fp),
            CSEPass(),
            IncrementalizePass(narrow_prefill=not self.strict_fp),
            LoopInvariantCodeMotionPass(),
            NarrowToUsesPass(),
            OptimizeChainsPass(reassoc=not self.strict_fp),
            MemoizePass(),
            CanonicalizePass(reassoc=not self.strict_fp),
            CSEPass(),
            DCEPass(),
        ]

    def run_steps(self, manager: PassManager, ctx: Context, module: ModuleOp) -> None:
        steps = self.steps()
        for _ in range(max(1, self.max_iterations)):
            before = module_fingerprint(module)
            for step in steps:
                manager.run_pass(step, ctx, module)
            if module_fingerprint(module) == before:
                return
