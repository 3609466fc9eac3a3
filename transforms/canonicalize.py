"""The canonicalize pass: folders and local patterns to a fixpoint (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.ir import Attribute, Operation
from xdsl.pattern_rewriter import RewritePattern
from xdsl.traits import HasCanonicalizationPatternsTrait

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.red.elementwise import PowByConstant
from red.passes.rewriting import ReportingPass
from red.transforms.canonicalization.arith import FAST, arith_patterns
from red.transforms.canonicalization.tensor import tensor_patterns
from red.transforms.dce import erase_unreachable_blocks
from red.transforms.greedy_driver import GreedyDriver


def op_patterns(op_type: type[Operation]) -> list[RewritePattern]:
    """The patterns an op registers through HasCanonicalizationPatternsTrait (red's ops and
    xDSL's alike)."""
    return [
        p
        for trait in op_type.get_traits_of_type(HasCanonicalizationPatternsTrait)
        for p in trait.get_patterns(op_type)
    ]


def canonicalization_patterns() -> dict[type[Operation], list[RewritePattern]]:
    """red's patterns for arith and tensor ops (before the ones xDSL registers for them);
    every other op's patterns are its own (looked up on first use)."""
    table = {**arith_patterns(), **tensor_patterns()}
    return {op_type: [*patterns, *op_patterns(op_type)] for op_type, patterns in table.items()}


@contextmanager
def fast_math_everywhere(module: ModuleOp) -> Iterator[None]:
    """Mark every float op that has a fast-math flag as fast for the duration of the block,
    then restore the flags: `canonicalize{fast-math=true}` is the same as running on IR
    whose float ops all carry `fastmath` (red) or `fastmath<fast>` (arith)."""
    marked: list[tuple[Operation, Attribute | None]] = []
    for op in module.walk():
        if isinstance(op, red.BinaryElementwiseOp) and not op.fast_math:
            op.properties[red.FASTMATH] = UnitAttr()
            marked.append((op, None))
        elif isinstance(op, arith.FloatingPointLikeBinaryOperation) and op.fastmath != FAST:
            marked.append((op, op.fastmath))
            op.fastmath = FAST
    try:
        yield
    finally:
        for op, before in marked:
            if isinstance(op, arith.FloatingPointLikeBinaryOperation):
                assert isinstance(before, arith.FastMathFlagsAttr)
                op.fastmath = before
            else:
                op.properties.pop(red.FASTMATH, None)


@dataclass(frozen=True)
class CanonicalizePass(ReportingPass):
    """Folding (each op's `fold`; constants evaluated with numpy, at most max-fold-bytes of
    new constants net of the constants it kills), IEEE-exact identities, inverse and identity
    shape ops, canonical operand order, dead code; rewrites wrong under NaN/Inf/signed zero
    apply to ops carrying a fast-math flag, and `fast-math=true` treats every op as if it
    did; `reassoc=true` also applies rewrites exact up to rounding to every op (pow by a
    small integer as products: red-pipeline sets it unless strict-fp); `test-convergence=true`
    fails when the patterns do not reach a fixpoint within max-iterations (a cycle)."""

    name = "canonicalize"
    finding_kind: ClassVar[str] = "identity"

    fast_math: bool = False
    reassoc: bool = False
    max_fold_bytes: int = 1 << 20
    max_iterations: int = 10
    test_convergence: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.max_iterations < 1:
            raise DiagnosticError(
                location_of(op), f"max-iterations must be >= 1, got {self.max_iterations}"
            )
        if self.max_fold_bytes < 0:
            raise DiagnosticError(
                location_of(op), f"max-fold-bytes must be >= 0, got {self.max_fold_bytes}"
            )
        table = canonicalization_patterns()
        if self.reassoc:
            table[red.PowOp] = [*op_patterns(red.PowOp), PowByConstant(inexact=True)]

        def patterns_for(o: Operation) -> Sequence[RewritePattern]:
            found = table.get(type(o))
            if found is None:
                found = table[type(o)] = op_patterns(type(o))
            return found

        driver = GreedyDriver(
            op,
            patterns_for,
            ctx,
            max_iterations=self.max_iterations,
            max_fold_bytes=self.max_fold_bytes,
        )
        if self.fast_math:
            with fast_math_everywhere(op):
                result = self._run(driver, op)
        else:
            result = self._run(driver, op)
        if not result.converged and self.test_convergence:
            raise DiagnosticError(
                location_of(op),
                f"canonicalize did not converge after {result.iterations} "
                f"iteration{'s' if result.iterations != 1 else ''} "
                f"({result.rewrites} rewrites); still firing: {', '.join(result.last_patterns)}",
            )

    @staticmethod
    def _run(driver: GreedyDriver, op: ModuleOp):
        result = driver.run()
        if erase_unreachable_blocks(op):  # region simplification, as MLIR's canonicalize
            result = driver.run()
        return result
