"""Differential fuzzing of red's engines (issue 13): random red programs (fuzz_programs.py)
run through the interpreter, red-pipeline (and red-pipeline{strict-fp=true}) and the JIT must
agree, on first and cached calls, after new inputs and after a weight changes (fuzz_engines.py
says what agreeing means for each result).

    python -m pytest -q test/python/test_differential_fuzz.py           # CI: 40 programs
    RED_FUZZ_EXAMPLES=5000 nice python -m pytest -s test/python/test_differential_fuzz.py \\
        -k random_programs                                               # soak
    RED_FUZZ_SEED=1234 python -m pytest -s ... -k random_programs       # replay one seed

Each example's program and inputs follow from its seed alone (seeds 0, 1, ... by default;
RED_FUZZ_SEED=S starts at S, and alone runs just that seed). A new failure prints its seed,
the program (as `Program(...)` Python, minimised within RED_FUZZ_MINIMIZE seconds, default
120, 0 for none) and its modules' text. RED_FUZZ_REPORT=PATH also writes the summary there;
RED_FUZZ_BUDGET=SECONDS stops a soak after that long (the summary says how many ran).

Bugs the fuzzer found that are still open are listed in fuzz_known_bugs.py; their failures
are counted, not failed on, and each has a strict-xfail reproducer below (the marker comes off
with the fix, and so does the known-bug entry)."""

from __future__ import annotations

import math
import os
import re
import signal
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest
from fuzz_engines import (
    EXACT,
    INEXACT,
    LOWERING_BUG,
    PASS_BUG,
    PROCESS_DIED,
    UNSTABLE,
    Failure,
    Tally,
    check_example,
    compare_close,
    compare_exact,
    in_child,
    jit_inexact,
    minimize,
    result_levels,
    run_example,
    run_isolated,
)
from fuzz_known_bugs import KNOWN_BUGS, KnownBug
from fuzz_programs import draw_inputs, fuzz_program
from random_programs import Program
from xdsl.dialects.builtin import ModuleOp

import red
from red.dialects import red as rd

DEFAULT_EXAMPLES = 40
MINIMIZE_BUDGET = float(os.environ.get("RED_FUZZ_MINIMIZE", "120"))
TIME_BUDGET = float(os.environ.get("RED_FUZZ_BUDGET", "inf"))


def fuzz_seeds() -> range:
    """RED_FUZZ_SEED and RED_FUZZ_EXAMPLES as the module docstring says."""
    first = os.environ.get("RED_FUZZ_SEED")
    count = os.environ.get("RED_FUZZ_EXAMPLES")
    if first is not None:
        return range(int(first), int(first) + (int(count) if count else 1))
    return range(int(count) if count else DEFAULT_EXAMPLES)


# region The fuzzer


def _known_name(failure: Failure) -> str | None:
    return next((b.name for b in KNOWN_BUGS if b.matches and b.matches(failure)), None)


def describe(seed: int, failure: Failure, program: Program, texts: dict[str, str]) -> str:
    """A new failure as the report shows it: what, how to replay, the (minimised) program
    and its modules."""
    lines = [
        f"seed {seed}: {failure.kind} ({failure.stage}): {failure.message}",
        f"  replay: RED_FUZZ_SEED={seed} python -m pytest -s "
        "test/python/test_differential_fuzz.py -k random_programs",
    ]
    small = program
    if MINIMIZE_BUDGET > 0:
        signature = failure.signature()

        def still_fails(candidate: Program) -> bool:
            outcome = run_isolated(candidate, seed, workarounds=_workarounds())
            return any(f.signature() == signature for f in outcome.failures)

        small = minimize(program, still_fails, MINIMIZE_BUDGET, failure.result)
    if small is not program:
        again = run_isolated(small, seed, workarounds=_workarounds())
        lines.append(f"  minimised from {len(program.steps)} to {len(small.steps)} steps:")
        lines.append(repr(small))
        lines.extend(f"  now: {f.kind} ({f.stage}): {f.message}" for f in again.failures)
        texts = again.texts or texts
    else:
        lines.append(repr(program))
    for name, text in texts.items():
        lines.append(f"  {name} module:\n{text}")
    return "\n".join(lines)


def _workarounds() -> list[KnownBug]:
    return [b for b in KNOWN_BUGS if b.workaround is not None]


def test_engines_agree_on_random_programs():
    """The interpreter before and after red-pipeline (bit for bit after strict-fp) and the
    JIT agree on every random program, apart from the open known bugs (counted)."""
    seeds = fuzz_seeds()
    start = time.monotonic()
    known: Counter[str] = Counter()
    new: Counter[str] = Counter()
    reports: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    tally, with_memos, jit_original, agreed, ran = Tally(), 0, 0, 0, 0
    for n, seed in enumerate(seeds, 1):
        if time.monotonic() - start > TIME_BUDGET:
            break
        ran = n
        program = fuzz_program(seed)
        verdict = check_example(program, seed, KNOWN_BUGS)
        known.update(verdict.known)
        tally.add(verdict.outcome.tally)
        with_memos += verdict.outcome.memos_after > 0
        jit_original += verdict.outcome.jit_original
        agreed += not verdict.known and not verdict.new
        for failure in verdict.new:
            new[f"{failure.kind} ({failure.stage})"] += 1
            print(f"seed {seed}: {failure.kind} ({failure.stage}): {failure.message}", flush=True)
            if failure.signature() not in seen:  # one full report per distinct failure
                seen.add(failure.signature())
                reports.append(describe(seed, failure, program, verdict.outcome.texts))
        if n % 100 == 0:
            print(f"{n} programs, {time.monotonic() - start:.0f} s", flush=True)
    exact, close, unchecked = tally.counts
    summary = "\n".join(
        [
            f"programs run: {ran} (seeds {seeds.start}..{seeds.start + ran - 1}) in "
            f"{time.monotonic() - start:.1f} s",
            f"engines agreed on all results: {agreed}",
            f"optimized modules with red.memo: {with_memos}; also JIT-run unoptimized: "
            f"{jit_original}",
            f"result comparisons: {exact} bit for bit, {close} within tolerance, {unchecked} "
            "unchecked (discrete values taken from inexact floats)",
            f"failures of open known bugs: {dict(sorted(known.items())) or 'none'}",
            f"new failures: {dict(sorted(new.items())) or 'none'}",
        ]
    )
    print(summary)
    if path := os.environ.get("RED_FUZZ_REPORT"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(summary + "\n\n" + "\n\n".join(reports) + "\n")
    assert not reports, summary + "\n\n" + "\n\n".join(reports)


# endregion The fuzzer

# region Reproducers of the open bugs, and of fixed ones


def known_bug(name: str) -> KnownBug:
    return next(b for b in KNOWN_BUGS if b.name == name)


def check_engines(text: str, *inputs: np.ndarray, optimize: bool = False) -> str | None:
    """The module's @main on `inputs` in the interpreter and, in a forked child, the JIT
    (after red-pipeline if `optimize`): None if they agree bit for bit, else what differs."""
    module = red.parse(text)
    if optimize:
        red.optimize(module)
    expected = red.interpret(module.clone()).call("main", *inputs)

    def jit(stage: Any) -> tuple[Any, ...]:
        stage("JIT")
        return red.compile(module).function("main").call(*inputs)

    got, failure = in_child(jit, timeout=120)
    if failure is not None:
        return f"{failure.kind} ({failure.stage}): {failure.message}"
    problems = [compare_exact(np.asarray(w), np.asarray(g)) for w, g in zip(expected, got)]
    return "; ".join(f"result #{i}: {p}" for i, p in enumerate(problems) if p) or None


I64_MIN = int(np.iinfo(np.int64).min)
DIVISION = """
func.func @main(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %q = red.div %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  func.return %q : tensor<4xi64>
}
"""
SELF_DIVISION = """
func.func @main(%a: tensor<2xi64>) -> tensor<2xi64> {
  %q = red.div %a, %a : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  func.return %q : tensor<2xi64>
}
"""


@pytest.mark.parametrize(
    ("text", "inputs"),
    [
        pytest.param(
            DIVISION,
            (np.array([7, I64_MIN, 7, -7]), np.array([0, -1, 2, -2])),
            id="by-zero-and-min-by-minus-one",  # [0, MIN, 3, 3]; the JIT died of SIGFPE
        ),
        pytest.param(
            SELF_DIVISION,
            (np.array([0, 3]),),
            id="x-by-x",  # [0, 1]; LLVM folded x / x to 1
        ),
    ],
)
def test_integer_division_is_total_in_both_engines(text: str, inputs: tuple[np.ndarray, ...]):
    """Fixed (was the known bug lowering-integer-division: a bare sdiv): x / 0 = 0 and
    MIN / -1 = MIN under the JIT as in the interpreter."""
    assert check_engines(text, *inputs) is None


RANK0_MEMO = """
func.func @main(%w: tensor<4xf32> {red.invariant}) -> tensor<f32> {
  %s = red.memo(%w) : (tensor<4xf32>) -> tensor<f32> {
  ^bb0(%a: tensor<4xf32>):
    %t = red.reduce_sum %a axes = [0] : tensor<4xf32> -> tensor<f32>
    red.yield %t : tensor<f32>
  }
  func.return %s : tensor<f32>
}
"""


def test_rank0_memo_result_lowers():
    """Was the fuzzer's bug lowering-rank0-memo-result: a rank-0 memo global was stored
    through its [1 x T] base address ('cannot store float to [1 x float]*')."""
    assert check_engines(RANK0_MEMO, np.arange(4, dtype=np.float32)) is None


SIGNED_ZEROS = """
func.func @main(%x: tensor<2xf32>, %y: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %max = red.max %x, %y : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %min = red.min %y, %x : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %relu = red.relu %x : tensor<2xf32>
  func.return %max, %min, %relu : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}
"""
REDUCE_MAX_ZEROS = """
func.func @main(%x: tensor<2x2xf32>) -> tensor<2xf32> {
  %m = red.reduce_max %x axes = [1] : tensor<2x2xf32> -> tensor<2xf32>
  func.return %m : tensor<2xf32>
}
"""
NEG_ZERO_POS_ZERO = np.array([-0.0, -0.0], dtype=np.float32), np.array([0.0, 0.0], np.float32)


@pytest.mark.parametrize(
    ("text", "inputs"),
    [
        # max(-0, +0) = +0, min(+0, -0) = -0, relu(-0) = +0 (the JIT gave -0, +0, -0)
        pytest.param(SIGNED_ZEROS, NEG_ZERO_POS_ZERO, id="max-min-relu"),
        # +0 for both rows (np.max gave +0 and -0, the JIT -0 and +0)
        pytest.param(
            REDUCE_MAX_ZEROS, (np.array([[-0.0, 0.0], [0.0, -0.0]], np.float32),), id="reduce-max"
        ),
    ],
)
def test_max_min_order_signed_zeros_in_both_engines(text: str, inputs: tuple[np.ndarray, ...]):
    """Fixed (was the known bug lowering-max-signed-zero): max, min, relu and reduce_max
    are IEEE maximum/minimum in both engines, -0 < +0 whatever the operand order."""
    assert check_engines(text, *inputs) is None


NEGATIVE_GATHER = """
func.func @main(%x: tensor<4x3xf32>) -> tensor<1x3xf32> {
  %e = red.exp %x : tensor<4x3xf32>
  %i = red.constant dense<-1> : tensor<1xi64>
  %g = red.gather %e, %i axis = 0 : tensor<4x3xf32>, tensor<1xi64> -> tensor<1x3xf32>
  func.return %g : tensor<1x3xf32>
}
"""


def test_narrow_to_uses_wraps_negative_gather_indices():
    """Fixed (was the known bug narrow-negative-gather-indices: KeyError -1 in
    narrow-to-uses): a gather's index in [-n, 0) demands row n + i of its table."""
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 4
    expected = red.interpret(red.parse(NEGATIVE_GATHER)).call("main", x)

    module = red.optimize(red.parse(NEGATIVE_GATHER))

    text = str(module)
    assert "red.slice %x [3, 0] [4, 3] [1, 1]" in text  # row -1 is row 3
    assert re.search(r"red\.exp %\w+ : tensor<1x3xf32>", text), text
    np.testing.assert_array_equal(red.interpret(module).call("main", x)[0], expected[0])


def call_chain(depth: int) -> str:
    """@main calls @f1, which calls @f2, ..., down to @f{depth - 1}, which doubles."""
    functions = []
    for i in range(depth):
        name, visibility = ("main", "") if i == 0 else (f"f{i}", "private ")
        if i < depth - 1:
            body = f"%y = func.call @f{i + 1}(%x) : (tensor<4xf32>) -> tensor<4xf32>"
        else:
            body = "%y = red.add %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>"
        functions.append(
            f"func.func {visibility}@{name}(%x: tensor<4xf32>) -> tensor<4xf32> {{\n"
            f"  {body}\n  func.return %y : tensor<4xf32>\n}}\n"
        )
    return "".join(functions)


def test_deep_call_chains_run_in_every_engine():
    """Fixed (issue 13: a chain of 200 calls exhausted Python's recursion in the interpreter
    and the pipeline): the interpreter runs deep chains in a thread with a deep stack, so a
    chain of 500 runs in it and the JIT; red-pipeline takes one through the Python API too
    (its purity analysis walked the call graph recursively and stopped near 300 calls; it is
    an explicit walk now: a chain of 2,000 was checked by hand)."""
    x = np.array([1.5, -2.0, 0.0, 3.25], np.float32)

    assert check_engines(call_chain(500), x) is None
    assert check_engines(call_chain(500), x, optimize=True) is None


# endregion Reproducers of the open bugs, and of fixed ones

# region The fuzzer's own checks

ADD_PROGRAM = Program(
    steps=(("arg", "f32", (2, 3)), ("weight", "f32", (3,)), ("binary", "add", 0, 1)),
    returns=(2,),
)


def test_a_pass_miscompile_is_a_pass_bug():
    """test-miscompile (add -> sub) after red-pipeline shows as a pass bug on the result."""
    outcome = run_example(ADD_PROGRAM, 0, pipeline="red-pipeline,test-miscompile")

    assert [(f.kind, f.result) for f in outcome.failures] == [(PASS_BUG, 0)]
    assert "red-pipeline,test-miscompile" in outcome.failures[0].stage


def _add_to_sub(module: ModuleOp) -> bool:
    for op in list(module.walk()):
        if isinstance(op, rd.AddOp):
            sub = rd.SubOp(op.lhs, op.rhs, op.result.type)
            assert op.parent is not None
            op.parent.insert_op_before(sub, op)
            op.result.replace_all_uses_with(sub.result)
            op.detach()
            op.erase()
            return True
    return False


def test_a_wrong_jit_result_is_a_lowering_bug():
    """A module the JIT gets miscompiled (add -> sub) shows as a lowering bug, on the
    optimized module and on the original."""
    breaker = KnownBug("add-to-sub", "test only", workaround=_add_to_sub)

    outcome = run_example(ADD_PROGRAM, 0, jit_original=True, workarounds=[breaker])

    assert [f.kind for f in outcome.failures] == [LOWERING_BUG, LOWERING_BUG]
    assert outcome.workarounds == ["add-to-sub"]


def test_a_process_that_dies_or_hangs_is_a_finding():
    def segfault(stage: Any) -> None:
        stage("crashing")
        os.kill(os.getpid(), signal.SIGSEGV)

    def hang(stage: Any) -> None:
        stage("sleeping")
        time.sleep(60)

    _, died = in_child(segfault)
    _, hung = in_child(hang, timeout=0.5)

    assert died is not None
    assert (died.kind, died.stage) == (PROCESS_DIED, "crashing")
    assert "SIGSEGV" in died.message
    assert hung is not None
    assert (hung.kind, hung.stage) == ("hang", "sleeping")


@pytest.mark.parametrize(
    ("want", "got", "differs"),
    [
        pytest.param([1.0, np.nan], [1.0, np.nan], None, id="nan-equals-nan"),
        pytest.param(
            [1.0, 2.0],
            [1.0, np.nextafter(np.float32(2), np.float32(3))],
            "bit for bit",
            id="one-ulp",
        ),
        pytest.param([0.0, 1.0], [-0.0, 1.0], "only in the sign of zero", id="signed-zero"),
        pytest.param([np.nan, 1.0], [0.0, 1.0], "bit for bit", id="nan-position"),
    ],
)
def test_compare_exact(want: list[float], got: list[float], differs: str | None):
    problem = compare_exact(np.array(want, np.float32), np.array(got, np.float32))

    assert (problem is None) if differs is None else (differs in (problem or ""))


@pytest.mark.parametrize(
    ("got", "ok"),
    [
        pytest.param([1.00001, 2.0, np.inf], True, id="rounding-noise"),
        pytest.param([1.01, 2.0, np.inf], False, id="one-percent-off"),
        pytest.param([1.0, np.nan, np.inf], False, id="nan-position"),
        pytest.param([1.0, 2.0, 1e30], False, id="inf-position"),
    ],
)
def test_compare_close(got: list[float], ok: bool):
    want = np.array([1.0, 2.0, np.inf], np.float32)

    problem = compare_close(want, np.array(got, np.float32), scale=1)

    assert (problem is None) == ok


def test_result_levels_follow_each_computation():
    """Exact ops keep a result exact; a transcendental makes it inexact; a comparison of an
    inexact float makes the mask and what it selects unstable; an integer sum stays exact."""
    program = Program(
        steps=(
            ("arg", "f32", (4,)),
            ("arg", "i64", (4,)),
            ("binary", "mul", 0, 0),  # 2: exact
            ("unary", "exp", 0),  # 3: inexact
            ("binary", "lt", 3, 0),  # 4: unstable
            ("select", 4, 0, 2),  # 5: unstable
            ("reduce", "sum", 1, (0,), False),  # 6: exact
            ("cast", 2, "i64"),  # 7: exact
        ),
        returns=(2, 3, 4, 5, 6, 7),
    )

    levels = result_levels(program.build(), jit_inexact)

    assert levels == (EXACT, INEXACT, UNSTABLE, UNSTABLE, EXACT, EXACT)


def test_programs_replay_from_their_seed():
    """A seed gives the same program and inputs every time; its printed form evaluates
    back to it."""
    program = fuzz_program(7)

    again = fuzz_program(7)

    assert again == program
    assert eval(repr(program), {"Program": Program, "math": math}) == program
    for a, b in zip(draw_inputs(program, 7, 1), draw_inputs(again, 7, 1), strict=True):
        np.testing.assert_array_equal(a, b)


def test_generator_covers_what_the_fuzzer_is_for():
    """Across the first 60 seeds: memo regions keyed on weights, calls of private
    functions, gathers, integer ops with INT_MIN/INT_MAX, float -> integer casts, i32,
    rank-0 results, NaN and inf constants, and memos that red-pipeline creates itself."""
    names: Counter[str] = Counter()
    features: Counter[str] = Counter()
    for seed in range(60):
        program = fuzz_program(seed)
        module = program.build()
        names.update(op.name for op in module.walk())
        for op in module.walk():
            if isinstance(op, rd.CastOp) and rd.is_float_type(rd.element_type_of(op.input)):
                features["float-to-int cast"] += not rd.is_float_type(rd.element_type_of(op.result))
            if (
                isinstance(op, rd.ConstantOp)
                and (array := rd.constant_value(op.result)) is not None
            ):
                if array.dtype == np.int64 and array.size:
                    features["INT64_MIN/MAX"] += bool(np.isin(array, [I64_MIN, -I64_MIN - 1]).any())
                if array.dtype.kind == "f":
                    features["nan/inf constant"] += bool((~np.isfinite(array)).any())
            for r in op.results:
                if isinstance(op, rd.RedOp) and not rd.shape_of(r):
                    features["rank-0 value"] += 1
                if "i32" in str(r.type):
                    features["i32 value"] += 1
        if seed < 12:
            red.optimize(module)
            features["memo after red-pipeline"] += any(
                isinstance(op, rd.MemoOp) for op in module.walk()
            )

    wanted = {"red.memo", "func.call", "red.gather", "red.div", "red.cast", "red.matmul",
              "red.softmax", "red.layer_norm", "red.concat", "red.slice", "red.select",
              "red.reduce_sum", "red.reduce_max", "red.transpose", "red.reshape"}  # fmt: skip
    assert wanted <= set(names), f"never generated: {sorted(wanted - set(names))}"
    features_wanted = (
        "float-to-int cast", "INT64_MIN/MAX", "nan/inf constant", "rank-0 value", "i32 value",
        "memo after red-pipeline",
    )  # fmt: skip
    missing = [f for f in features_wanted if not features[f]]
    assert not missing, f"never generated: {missing}"


def test_minimize_keeps_the_failure_and_shrinks():
    """The minimiser cuts a failing program down to what the failure needs."""
    failing = Program(
        steps=(
            *ADD_PROGRAM.steps,  # 2: the add test-miscompile turns into a sub
            ("arg", "f32", (3, 3)),
            ("unary", "tanh", 3),
            ("matmul", 4, 3),
            ("transpose", 5, (1, 0)),
            ("binary", "mul", 2, 2),
            ("reduce", "sum", 7, (1,), False),
            ("softmax", 6, 0),
        ),
        returns=(9, 8, 6),
    )

    def still_fails(candidate: Program) -> bool:
        outcome = run_example(candidate, 3, pipeline="red-pipeline,test-miscompile")
        return any(f.kind == PASS_BUG for f in outcome.failures)

    assert still_fails(failing)
    small = minimize(failing, still_fails, budget=60)

    assert still_fails(small)
    assert len(small.returns) == 1, repr(small)
    assert len(small.steps) <= 4, repr(small)  # the add, and at most the sum of it


# endregion The fuzzer's own checks
