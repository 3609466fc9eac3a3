"""Per-pass equivalence checking (`red-opt --verify-equivalence[=N]`): after every pass the
interpreter runs each public function on N seeded random inputs and compares with the input
module, within the tolerances of DESIGN.md §7."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import public_functions
from red.passes.pass_manager import PassInstrumentation
from red.testing.random_inputs import random_inputs

RTOL = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-9}
ATOL = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-12}


def reduction_length(module: ModuleOp) -> int:
    """The longest reduction in the module (matmul K, reduced and normalised extents): the
    absolute tolerance scales with it, since reassociation errors grow with it."""
    longest = 1
    for op in module.walk():
        if isinstance(op, red.MatmulOp):
            longest = max(longest, red.shape_of(op.lhs)[-1])
        elif isinstance(op, red.ReduceOp):
            shape = red.shape_of(op.input)
            longest = max(longest, math.prod(shape[a] for a in op.axis_list))
        elif isinstance(op, red.SoftmaxOp | red.NormOp):
            longest = max(longest, red.shape_of(op.input)[op.axis.value.data])
    return max(longest, 1)


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
    """Reference results from the input module; after each pass, the transformed module must
    reproduce them (called twice, so a memo's cached second call is checked too)."""

    def __init__(self, module: ModuleOp, samples: int = 3, exact: bool = False):
        self.samples = max(1, samples)
        self.exact = exact
        self.scale = reduction_length(module)
        self.cases: list[_Case] = []
        reference = ModuleRunner(module.clone())
        for fn in public_functions(module):
            name = fn.sym_name.data
            for seed in range(self.samples):
                try:
                    inputs = random_inputs(fn, seed)
                except ValueError as err:
                    print(
                        f"{_where(fn)}: warning: --verify-equivalence skips '@{name}': {err}",
                        file=sys.stderr,
                    )
                    break
                try:
                    expected = reference.call(name, *inputs)
                except DiagnosticError as err:
                    # Nothing to compare with (e.g. a dtype the interpreter lacks): skip the
                    # function, as for inputs that cannot be drawn, rather than fail the run.
                    print(
                        f"{_where(fn)}: warning: --verify-equivalence skips '@{name}': the "
                        f"input module fails at run time: {format_location(err.location)}: "
                        f"{err.message}",
                        file=sys.stderr,
                    )
                    break
                self.cases.append(_Case(name, inputs, expected))

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        runner = ModuleRunner(module)
        for case in self.cases:
            for call in range(2):
                try:
                    got = runner.call(case.name, *case.inputs)
                except DiagnosticError as err:
                    raise DiagnosticError(
                        err.location,
                        f"equivalence check failed after pass '{pass_.name}': '@{case.name}' "
                        f"fails at run time where the input module did not: {err.message}",
                        err.op,
                    ) from None
                self._compare(pass_, module, case, got, call)

    def _tolerances(self, want: np.ndarray) -> str:
        if self.exact or want.dtype.kind != "f":
            return "exact comparison"
        atol = tolerance(want.dtype.name, self.scale, np.asarray(want, dtype=np.float64))
        return f"rtol {RTOL[want.dtype.name]}, atol {atol:.3g}"

    def _compare(
        self, pass_: ModulePass, module: ModuleOp, case: _Case, got: tuple[Any, ...], call: int
    ) -> None:
        fn = next(f for f in public_functions(module) if f.sym_name.data == case.name)
        if len(got) != len(case.expected):
            raise DiagnosticError(
                location_of(fn),
                f"equivalence check failed after pass '{pass_.name}': '@{case.name}' returns "
                f"{len(got)} results, the input module {len(case.expected)}",
                fn,
            )
        for i, (want, have) in enumerate(zip(case.expected, got)):
            ok, err = close(np.asarray(want), np.asarray(have), self.scale, self.exact)
            if not ok:
                which = "first" if call == 0 else "second (cached)"
                raise DiagnosticError(
                    location_of(fn),
                    f"equivalence check failed after pass '{pass_.name}': '@{case.name}' "
                    f"result #{i} differs from the input module on the {which} call: max abs "
                    f"error {err:.6g} ({self._tolerances(np.asarray(want))})",
                    fn,
                )


def _where(fn: func.FuncOp) -> str:
    return format_location(location_of(fn))
