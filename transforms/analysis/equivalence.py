"""Per-pass equivalence checking (`red-opt --verify-equivalence[=N]`): after every pass the
interpreter runs each public function on N seeded random inputs and compares with the input
module, within the tolerances of DESIGN.md §7. With a time budget, a large module draws fewer
inputs, and once the budget is spent the remaining passes are checked together at the end."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import public_functions
from red.passes.pass_manager import PassInstrumentation
from red.testing.random_inputs import random_inputs

RTOL = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-9}
ATOL = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-12}


def _reduction(op: Operation) -> int:
    """The number of terms an op sums per result element (1 for an elementwise op)."""
    if isinstance(op, red.MatmulOp):
        return max(1, red.shape_of(op.lhs)[-1])
    if isinstance(op, red.ReduceOp):
        shape = red.shape_of(op.input)
        return max(1, math.prod(shape[a] for a in op.axis_list))
    if isinstance(op, red.SoftmaxOp | red.NormOp):
        shape = red.shape_of(op.input)
        return max(1, math.prod(shape[a] for a in op.normalized_axes()))
    return 1


def reduction_length(module: ModuleOp) -> int:
    """The longest reduction anywhere in the module (matmul K, reduced and normalised
    extents)."""
    return max((_reduction(op) for op in module.walk()), default=1)


def result_reduction_lengths(fn: func.FuncOp) -> list[int]:
    """For each result of `fn`, the longest reduction among the ops it is computed from
    (its backward slice, nested regions and called functions included): the absolute
    tolerance of that result scales with it, since reassociation errors grow with it. A
    result computed without reductions keeps the plain tolerance, however long the other
    results' reductions are."""
    if not fn.body.blocks:
        return []
    module = fn.get_toplevel_object()
    functions = {
        f.sym_name.data: f for f in getattr(module, "ops", []) if isinstance(f, func.FuncOp)
    }
    ret = fn.body.blocks.last.last_op  # type: ignore[union-attr]
    assert ret is not None
    return [_slice_reduction(v, functions) for v in ret.operands]


def _slice_reduction(root: SSAValue, functions: dict[str, func.FuncOp]) -> int:
    longest, seen, work = 1, set(), [root]
    while work:
        v = work.pop()
        owner = v.owner
        if not isinstance(owner, Operation) or owner in seen:
            continue
        seen.add(owner)
        for op in owner.walk():  # an op with regions: everything inside it counts
            longest = max(longest, _reduction(op))
            if isinstance(op, func.CallOp) and (callee := functions.get(op.callee.string_value())):
                longest = max(longest, max((_reduction(o) for o in callee.walk()), default=1))
            work.extend(op.operands)
    return longest


def max_error(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    nan_mismatch = np.isnan(e) != np.isnan(a)
    if nan_mismatch.any():
        return math.inf
    finite = ~np.isnan(e)
    if not finite.any():
        return 0.0
    diff = np.abs(e[finite] - a[finite])
    same_inf = np.isinf(e[finite]) & (e[finite] == a[finite])
    diff[same_inf] = 0.0
    return float(diff.max(initial=0.0))


def tolerance(dtype: str, scale: int, expected: np.ndarray) -> float:
    """The absolute tolerance: ATOL scaled by the reduction length and by the values' RMS
    magnitude (a reassociated sum errs relative to its terms, not to its result, so results
    near zero by cancellation need an absolute allowance of the terms' size)."""
    finite = expected[np.isfinite(expected)]
    rms = float(np.sqrt(np.mean(finite * finite))) if finite.size else 0.0
    return ATOL[dtype] * scale * max(1.0, rms)


def close(expected: np.ndarray, actual: np.ndarray, scale: int, exact: bool) -> tuple[bool, float]:
    """(within tolerance, largest absolute error)."""
    if expected.shape != actual.shape or expected.dtype != actual.dtype:
        return False, math.inf
    err = max_error(expected, actual)
    if exact or expected.dtype.kind != "f":
        same = np.array_equal(expected, actual, equal_nan=expected.dtype.kind == "f")
        return bool(same), err
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    rtol, atol = RTOL[expected.dtype.name], tolerance(expected.dtype.name, scale, e)
    ok = np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    return bool(ok), err


@dataclass
class _Case:
    name: str
    inputs: list[np.ndarray]
    expected: tuple[Any, ...]


class EquivalenceInstrumentation(PassInstrumentation):
    """Reference results from the input module; after each pass that changed the module, the
    transformed module must reproduce them (called twice when it holds memos, so a memo's
    cached second call is checked too).

    `budget` (seconds, None for no limit) bounds the time spent checking: the reference draws
    fewer than `samples` inputs when one check would take more than a tenth of it, and once it
    is spent, the passes that follow are checked together by `finish`. Long runs print progress
    remarks to `progress` (stderr by default)."""

    PROGRESS_EVERY = 10.0  # seconds between progress remarks

    def __init__(
        self,
        module: ModuleOp,
        samples: int = 3,
        exact: bool = False,
        budget: float | None = None,
        progress: IO[str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.samples = max(1, samples)
        self.exact = exact
        self.budget = budget
        self.progress = progress
        self.clock = clock
        self.where = format_location(location_of(module))
        self.scales = {
            fn.sym_name.data: result_reduction_lengths(fn) for fn in public_functions(module)
        }
        self.cases: list[_Case] = []
        self.checked = 0  # passes checked one by one
        self.unchanged = 0  # passes that left the module as it was last checked
        self.pending: list[str] = []  # passes run since the budget was spent
        self.last_checked_pass: str | None = None
        start = self.clock()
        reference_module = module.clone()
        self.last = reference_module  # the module as last checked (reference runs leave it be)
        reference = ModuleRunner(reference_module)
        functions = [f for f in public_functions(module) if self._draw(reference, f, 0)]
        self.samples = self._affordable_samples(self.clock() - start)
        for fn in functions:
            for seed in range(1, self.samples):
                if not self._draw(reference, fn, seed):
                    break
        self.spent = self.clock() - start
        self._last_progress = self.clock()

    def _draw(self, reference: ModuleRunner, fn: func.FuncOp, seed: int) -> bool:
        """Add the case of `fn` on seed `seed`; False (with a warning) if it cannot be run."""
        name = fn.sym_name.data
        try:
            inputs = random_inputs(fn, seed)
        except (ValueError, MemoryError) as err:
            reason = str(err) if isinstance(err, ValueError) else "its inputs do not fit in memory"
            self._say(f"{_where(fn)}: warning: --verify-equivalence skips '@{name}': {reason}")
            return False
        try:
            expected = reference.call(name, *inputs)
        except DiagnosticError as err:
            # Nothing to compare with (e.g. a dtype the interpreter lacks): skip the
            # function, as for inputs that cannot be drawn, rather than fail the run.
            self._say(
                f"{_where(fn)}: warning: --verify-equivalence skips '@{name}': the "
                f"input module fails at run time: {format_location(err.location)}: "
                f"{err.message}"
            )
            return False
        self.cases.append(_Case(name, inputs, expected))
        return True

    def _affordable_samples(self, one_sample: float) -> int:
        """As many samples as asked, unless one check (two calls per sample, for memos)
        would take more than a tenth of the budget; at least one."""
        if self.budget is None or self.samples == 1 or not self.cases:
            return self.samples
        affordable = int(self.budget / 10 / max(2 * one_sample, 1e-9))
        samples = max(1, min(self.samples, affordable))
        if samples < self.samples:
            self._say(
                f"{self.where}: remark: --verify-equivalence draws {samples} input(s) per "
                f"function instead of {self.samples}: one run of the module takes "
                f"{one_sample:.2f} s and the budget is {self.budget:g} s"
            )
        return samples

    def _say(self, line: str) -> None:
        print(line, file=self.progress or sys.stderr, flush=True)

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        if self._out_of_budget():
            if not self.pending:
                after = f"after pass '{self.last_checked_pass}' " if self.last_checked_pass else ""
                self._say(
                    f"{self.where}: remark: --verify-equivalence spent its {self.budget:g} s "
                    f"budget {after}({self.checked} passes checked, {self.unchanged} unchanged); "
                    "the passes that follow are checked together at the end"
                )
            self.pending.append(pass_.name)
            return
        start = self.clock()
        if module.is_structurally_equivalent(self.last):
            self.unchanged += 1
        else:
            self._check(f"pass '{pass_.name}'", module)
            self.last = module.clone()
            self.checked += 1
            self.last_checked_pass = pass_.name
        self.spent += self.clock() - start
        if self.clock() - self._last_progress >= self.PROGRESS_EVERY:
            self._last_progress = self.clock()
            self._say(
                f"{self.where}: remark: --verify-equivalence: {self.checked} passes checked, "
                f"{self.unchanged} unchanged, {self.spent:.1f} s"
            )

    def _out_of_budget(self) -> bool:
        return self.budget is not None and self.spent >= self.budget

    def finish(self, module: ModuleOp) -> None:
        """Check the passes run since the budget was spent, together (nothing to do if the
        budget was never spent)."""
        if not self.pending or module.is_structurally_equivalent(self.last):
            self.pending.clear()
            return
        names = list(dict.fromkeys(self.pending))
        shown = ", ".join(f"'{n}'" for n in names[:8]) + (", ..." if len(names) > 8 else "")
        self.pending.clear()
        self._check(
            f"passes {shown} (checked together: the --verify-equivalence budget was spent)",
            module,
        )

    def _check(self, label: str, module: ModuleOp) -> None:
        runner = ModuleRunner(module)
        calls = 2 if any(isinstance(op, red.MemoOp) for op in module.walk()) else 1
        for case in self.cases:
            for call in range(calls):
                try:
                    got = runner.call(case.name, *case.inputs)
                except DiagnosticError as err:
                    raise DiagnosticError(
                        err.location,
                        f"equivalence check failed after {label}: '@{case.name}' "
                        f"fails at run time where the input module did not: {err.message}",
                        err.op,
                    ) from None
                self._compare(label, module, case, got, call)

    def _scale(self, name: str, index: int) -> int:
        scales = self.scales.get(name, [])
        return scales[index] if index < len(scales) else 1

    def _tolerances(self, want: np.ndarray, scale: int) -> str:
        if self.exact or want.dtype.kind != "f":
            return "exact comparison"
        atol = tolerance(want.dtype.name, scale, np.asarray(want, dtype=np.float64))
        return f"rtol {RTOL[want.dtype.name]}, atol {atol:.3g}"

    def _compare(
        self, label: str, module: ModuleOp, case: _Case, got: tuple[Any, ...], call: int
    ) -> None:
        fn = next(f for f in public_functions(module) if f.sym_name.data == case.name)
        if len(got) != len(case.expected):
            raise DiagnosticError(
                location_of(fn),
                f"equivalence check failed after {label}: '@{case.name}' returns "
                f"{len(got)} results, the input module {len(case.expected)}",
                fn,
            )
        for i, (want, have) in enumerate(zip(case.expected, got)):
            scale = self._scale(case.name, i)
            ok, err = close(np.asarray(want), np.asarray(have), scale, self.exact)
            if not ok:
                which = "first" if call == 0 else "second (cached)"
                raise DiagnosticError(
                    location_of(fn),
                    f"equivalence check failed after {label}: '@{case.name}' "
                    f"result #{i} differs from the input module on the {which} call: max abs "
                    f"error {err:.6g} ({self._tolerances(np.asarray(want), scale)})",
                    fn,
                )


def _where(fn: func.FuncOp) -> str:
    return format_location(location_of(fn))
