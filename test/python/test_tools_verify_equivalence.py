"""The time budget of `red-opt --verify-equivalence` (transforms/analysis/equivalence.py): fewer
inputs when one run is slow, no re-run after a pass that changed nothing, and once the budget is
spent one check of all remaining passes at the end, which still catches a miscompile."""

from __future__ import annotations

import io

import pytest
from xdsl.dialects.builtin import ModuleOp

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.frontends.mlir_text import parse_mlir
from red.passes.pass_manager import PassManager
from red.passes.registry import parse_pass_list
from red.transforms.analysis.equivalence import EquivalenceInstrumentation

TEXT = """
func.func @twice(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> tensor<4x8xf32> {
  %a = red.add %x, %y : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %b = red.add %x, %y : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %c = red.mul %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %c : tensor<4x8xf32>
}
func.func @once(%x: tensor<3xf32>) -> tensor<3xf32> {
  %n = red.neg %x : tensor<3xf32>
  func.return %n : tensor<3xf32>
}
"""


def module() -> ModuleOp:
    return parse_mlir(TEXT, "budget.mlir", make_context())


class Clock:
    """A clock that advances `step` seconds each time it is read."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def run(spec: str, check: EquivalenceInstrumentation, m: ModuleOp) -> None:
    PassManager(parse_pass_list(spec), [check]).run(make_context(), m)


def test_without_budget_each_pass_is_checked():
    m = module()
    check = EquivalenceInstrumentation(m, samples=2)

    with pytest.raises(DiagnosticError) as info:
        run("cse,test-miscompile,dce", check, m)

    assert info.value.message.startswith(
        "equivalence check failed after pass 'test-miscompile': '@twice' result #0"
    )
    assert check.pending == []


def test_passes_that_change_nothing_are_not_rerun():
    m = module()
    check = EquivalenceInstrumentation(m, samples=2)

    run("dce,cse,dce,cse", check, m)

    assert (check.checked, check.unchanged) == (1, 3)  # only the first cse merged anything


def test_spent_budget_checks_the_remaining_passes_together_at_the_end():
    m = module()
    progress = io.StringIO()
    check = EquivalenceInstrumentation(m, samples=1, budget=0.0, progress=progress)

    run("cse,test-miscompile,dce", check, m)  # nothing checked one by one
    with pytest.raises(DiagnosticError) as info:
        check.finish(m)

    assert check.checked == 0
    assert info.value.message.startswith(
        "equivalence check failed after passes 'cse', 'test-miscompile', 'dce' (checked "
        "together: the --verify-equivalence budget was spent): '@twice' result #0"
    )
    assert "remark: --verify-equivalence spent its 0 s budget (0 passes checked" in (
        progress.getvalue()
    )


def test_spent_budget_with_equivalent_passes_finishes_quietly():
    m = module()
    check = EquivalenceInstrumentation(m, samples=1, budget=0.0, progress=io.StringIO())

    run("cse,canonicalize,dce", check, m)
    check.finish(m)

    assert check.pending == []


def test_slow_module_draws_fewer_inputs():
    """With a clock that says each reading is 3 s apart, one run of the module takes 3 s; a
    20 s budget affords 20/10 s per check, so one input per function instead of three."""
    m = module()
    progress = io.StringIO()

    check = EquivalenceInstrumentation(m, samples=3, budget=20.0, progress=progress, clock=Clock(3))

    assert check.samples == 1
    assert sorted(c.name for c in check.cases) == ["once", "twice"]
    assert "draws 1 input(s) per function instead of 3: one run of the module takes 3.00 s" in (
        progress.getvalue()
    )


def test_fast_module_keeps_its_inputs():
    m = module()

    check = EquivalenceInstrumentation(m, samples=3, budget=20.0, clock=Clock(0.001))

    assert check.samples == 3
    assert len(check.cases) == 6


def test_progress_is_reported_on_long_runs():
    m = module()
    progress = io.StringIO()
    check = EquivalenceInstrumentation(m, samples=1, budget=1e6, progress=progress, clock=Clock(4))

    run("cse,dce,cse", check, m)

    assert "remark: --verify-equivalence: 1 passes checked, 2 unchanged" in progress.getvalue()
