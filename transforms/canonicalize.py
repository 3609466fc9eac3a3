"""The canonicalize pass: folders and local patterns to a fixpoint (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import RewritePattern
from xdsl.traits import HasCanonicalizationPatternsTrait

from red.dialects.diagnostics import DiagnosticError, location_of
from red.transforms.canonicalization.arith import arith_patterns
from red.transforms.canonicalization.memo import memo_patterns
from red.transforms.canonicalization.red import CanonicalizeOptions, red_patterns
from red.transforms.dce import erase_unreachable_blocks
from red.transforms.greedy_driver import GreedyDriver


def canonicalization_patterns(
    options: CanonicalizeOptions,
) -> dict[type[Operation], list[RewritePattern]]:
    """red's patterns for red and arith ops (the arith ops keep the patterns xDSL registers
    for them, e.g. scalar constant folding, after red's); other ops keep the patterns their
    dialect registers (looked up on first use)."""
    table = red_patterns(options)
    for op_type, patterns in memo_patterns().items():
        table.setdefault(op_type, []).extend(patterns)
    for op_type, patterns in arith_patterns(options.fast_math).items():
        table.setdefault(op_type, []).extend([*patterns, *_dialect_patterns(op_type)])
    return table


def _dialect_patterns(op_type: type[Operation]) -> list[RewritePattern]:
    return [
        p
        for trait in op_type.get_traits_of_type(HasCanonicalizationPatternsTrait)
        for p in trait.get_patterns(op_type)
    ]


@dataclass(frozen=True)
class CanonicalizePass(ModulePass):
    """Constant folding (numpy, at most max-fold-bytes of new constants net of the constants
    it kills), IEEE-exact identities, inverse and identity shape ops, canonical operand
    order, dead code; `fast-math=true` adds rewrites wrong under NaN/Inf/signed zero;
    `test-convergence=true` fails when the patterns do not reach a fixpoint within
    max-iterations (a cycle)."""

    name = "canonicalize"

    fast_math: bool = False
    max_fold_bytes: int = 1 << 20
    max_iterations: int = 10
    test_convergence: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        options = CanonicalizeOptions(self.fast_math, self.max_fold_bytes)
        table = canonicalization_patterns(options)

        def patterns_for(o: Operation) -> Sequence[RewritePattern]:
            found = table.get(type(o))
            if found is None:
                found = table[type(o)] = _dialect_patterns(type(o))
            return found

        driver = GreedyDriver(op, patterns_for, ctx, max_iterations=self.max_iterations)
        options.position = driver.position
        result = driver.run()
        if erase_unreachable_blocks(op):  # region simplification, as MLIR's canonicalize
            result = driver.run()
        if not result.converged and self.test_convergence:
            raise DiagnosticError(
                location_of(op),
                f"canonicalize did not converge after {result.iterations} "
                f"iteration{'s' if result.iterations != 1 else ''} "
                f"({result.rewrites} rewrites); still firing: {', '.join(result.last_patterns)}",
            )
