"""The differential fuzzer's engine: one example runs a random program (fuzz_programs.py)
through (a) the interpreter on the original module, (b) the interpreter after red-pipeline
and after red-pipeline{strict-fp=true}, and (c) the JIT on the optimized module (and, for
every fourth seed, on the original), calling each several times so memos are hit, missed and
reset, and compares the results.

What "agree" means, per result (`result_levels`): a result computed only by operations that
both sides round the same way must match bit for bit (integers, NaN positions, signed zeros);
one that went through an operation the two sides may round differently (a transcendental
function or a reordered sum in the JIT; a reassociated matmul chain in red-pipeline) must
match within the tolerance of --verify-equivalence for its own reductions, with NaN positions
equal; and a discrete value taken from such an inexact float (a comparison, a cast to an
integer) is unstable, so it and everything computed from it are not compared (they still
run). red-pipeline{strict-fp=true} must reproduce every result bit for bit.

Each example runs in a forked child, so a JIT that dies (SIGFPE, SIGSEGV) or hangs becomes a
finding instead of the end of the test run."""

from __future__ import annotations

import faulthandler
import math
import os
import pickle
import re
import select
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from fuzz_programs import argument_specs, draw_inputs, is_weight
from random_programs import ARG_STEPS, Program, Step, step_operands
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import IsTerminator

import red
from red.dialects import red as rd
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red_interpreter import ModuleRunner
from red.transforms.analysis.equivalence import (
    RTOL,
    max_error,
    result_reduction_lengths,
    tolerance,
)

PIPELINE = "red-pipeline"
STRICT_PIPELINE = "red-pipeline{strict-fp=true}"
EXACT, INEXACT, UNSTABLE = 0, 1, 2
LEVEL_NAMES = ("exact", "within tolerance", "unchecked (unstable)")

# Failure kinds, as the report classifies them.
PASS_BUG = "pass bug"  # the interpreter disagrees with itself before and after a pipeline
LOWERING_BUG = "lowering bug"  # the JIT disagrees with the interpreter on the same module
PASS_CRASH = "pass crash"  # a pipeline raised
LOWERING_CRASH = "lowering crash"  # red.compile or a compiled call raised
PROCESS_DIED = "process died"  # a signal (SIGFPE, SIGSEGV, ...) killed the JIT's process
HANG = "hang"
INTERPRETER_ERROR = "interpreter error"  # the oracle itself failed on the original
GENERATOR_ERROR = "generator error"  # the program did not build
FUZZER_ERROR = "fuzzer error"  # an exception escaped the fuzzer itself

# region Which results must agree how


def _float(value: SSAValue) -> bool:
    t = value.type
    return isinstance(t, TensorType) and numpy_dtype(t.get_element_type()).kind == "f"


def jit_inexact(op: Operation) -> bool:
    """Ops whose float results the JIT may round differently from the interpreter: libm or
    intrinsic transcendentals against numpy's, and sums in another order (a sum of two terms
    has one rounding whatever the order)."""
    if isinstance(
        op,
        rd.ExpOp | rd.LogOp | rd.TanhOp | rd.SigmoidOp | rd.SiluOp | rd.ErfOp | rd.SinOp
        | rd.CosOp | rd.GeluOp | rd.RsqrtOp | rd.PowOp | rd.MatmulOp | rd.ReduceMeanOp
        | rd.SoftmaxOp | rd.NormOp,
    ):  # fmt: skip
        return True
    if isinstance(op, rd.ReduceSumOp):
        shape = rd.shape_of(op.input)
        return math.prod(shape[a] for a in op.axis_list) > 2
    return False


def pipeline_inexact(op: Operation) -> bool:
    """red-pipeline's only rounding change: optimize-chains reassociates matmul chains."""
    return isinstance(op, rd.MatmulOp)


class _Levels:
    """Per-value levels (EXACT, INEXACT, UNSTABLE) through blocks, calls and memo regions."""

    def __init__(self, module: ModuleOp, inexact: Callable[[Operation], bool]):
        self.inexact = inexact
        self.functions = {f.sym_name.data: f for f in module.body.ops if isinstance(f, func.FuncOp)}
        self.cache: dict[tuple[str, tuple[int, ...]], tuple[int, ...]] = {}

    def function(self, name: str, args: Sequence[int]) -> tuple[int, ...]:
        key = (name, tuple(args))
        if key not in self.cache:
            fn = self.functions[name]
            assert fn.body.blocks.first is not None
            self.cache[key] = self.block(fn.body.blocks.first, args)
        return self.cache[key]

    def block(self, block: Block, args: Sequence[int]) -> tuple[int, ...]:
        level: dict[SSAValue, int] = dict(zip(block.args, args))
        for op in block.ops:
            ins = [level.get(v, EXACT) for v in op.operands]
            if op.has_trait(IsTerminator):
                return tuple(ins)
            if isinstance(op, func.CallOp):
                outs = self.function(op.callee.string_value(), ins)
            elif isinstance(op, rd.MemoOp):
                outs = self.block(op.body.block, ins)
            else:
                outs = tuple(self.result_level(op, r, ins) for r in op.results)
            level.update(zip(op.results, outs))
        return ()

    def result_level(self, op: Operation, result: SSAValue, ins: Sequence[int]) -> int:
        base = max(ins, default=EXACT)
        for inner in op.walk():  # an op with regions (scf): its ops count too
            if inner is not op and self.inexact(inner):
                base = max(base, INEXACT)
        if _float(result):
            return max(base, INEXACT) if self.inexact(op) else base
        # A discrete value taken from a float that may differ in its last bits can differ
        # entirely (a comparison flips, a truncation steps): unstable.
        if any(_float(v) and lvl >= INEXACT for v, lvl in zip(op.operands, ins)):
            return UNSTABLE
        return base


def result_levels(module: ModuleOp, inexact: Callable[[Operation], bool]) -> tuple[int, ...]:
    """The level of each result of @main (its arguments are exact inputs)."""
    levels = _Levels(module, inexact)
    fn = levels.functions["main"]
    return levels.function("main", [EXACT] * len(fn.function_type.inputs.data))


# endregion Which results must agree how

# region Comparing results


def _positions(mask: np.ndarray, limit: int = 3) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in p) for p in np.argwhere(mask)[:limit]]


def _show(a: np.ndarray, where: list[tuple[int, ...]]) -> str:
    return "[" + ", ".join(repr(a[p].item()) if a.ndim else repr(a.item()) for p in where) + "]"


def compare_exact(want: np.ndarray, got: np.ndarray) -> str | None:
    """None if `got` has `want`'s dtype, shape and bits (any NaN equals any NaN), else what
    differs."""
    if want.dtype != got.dtype or want.shape != got.shape:
        return f"dtype/shape {got.dtype}{list(got.shape)}, expected {want.dtype}{list(want.shape)}"
    if want.dtype.kind != "f":
        differ = want != got
    else:
        nan_w, nan_g = np.isnan(want), np.isnan(got)
        differ = (nan_w != nan_g) | (
            ~nan_w & ~nan_g & ((want != got) | (np.signbit(want) != np.signbit(got)))
        )
    if not differ.any():
        return None
    where = _positions(differ)
    how = "bit for bit"
    if want.dtype.kind == "f" and not (want[differ] != 0).any() and not (got[differ] != 0).any():
        how = "only in the sign of zero"
    return (
        f"{int(differ.sum())} of {want.size} elements differ ({how}), e.g. at {where}: "
        f"expected {_show(want, where)}, got {_show(got, where)}"
    )


def compare_close(want: np.ndarray, got: np.ndarray, scale: int, extra: float = 0.0) -> str | None:
    """None if `got` matches `want` within the tolerance --verify-equivalence gives a result
    with reductions of length `scale` (NaN and infinity positions equal), widened by `extra`
    (an absolute error the result's layer norms may amplify rounding into), else what
    differs."""
    if want.dtype != got.dtype or want.shape != got.shape:
        return compare_exact(want, got)
    w, g = want.astype(np.float64), got.astype(np.float64)
    finite = w[np.isfinite(w)]
    rms = float(np.sqrt(np.mean(finite * finite))) if finite.size else 0.0
    atol = tolerance(want.dtype.name, scale, w) + extra * max(1.0, rms)
    with np.errstate(all="ignore"):
        bad = (np.isnan(w) != np.isnan(g)) | ~np.isclose(
            g, w, rtol=RTOL[want.dtype.name], atol=atol, equal_nan=True
        )
    if not bad.any():
        return None
    where = _positions(bad)
    return (
        f"beyond tolerance (max abs error {max_error(want, got):.6g}; rtol "
        f"{RTOL[want.dtype.name]}, atol {atol:.3g} for reductions of length {scale}), e.g. at "
        f"{where}: expected {_show(want, where)}, got {_show(got, where)}"
    )


class Conditioning(Interpreter.Listener):
    """Records, for each red.layer_norm the interpreter runs, the absolute error its output
    may carry when its mean is rounded differently (a sum in another order): about
    n·u·max|x| / sqrt(var + eps) per row, large where a row is nearly constant."""

    def __init__(self) -> None:
        self.bounds: dict[Operation, float] = {}

    def will_interpret_op(self, op: Operation, args: Any) -> None:
        if not isinstance(op, rd.LayerNormOp) or not args:
            return
        x = np.asarray(args[0])
        if x.dtype.kind != "f" or x.size == 0:
            return
        axes = tuple(op.normalized_axes())
        n = math.prod(x.shape[a] for a in axes)
        with np.errstate(all="ignore"):
            x64 = x.astype(np.float64)
            var = x64.var(axis=axes)
            amplification = np.abs(x64).max(axis=axes) / np.sqrt(var + op.eps.value.data)
        amplification = amplification[np.isfinite(amplification)]
        if amplification.size:
            bound = 4 * n * float(np.finfo(x.dtype).eps) * float(amplification.max())
            self.bounds[op] = max(self.bounds.get(op, 0.0), bound)

    def result_allowances(self, module: ModuleOp) -> list[float]:
        """For each result of @main, the largest bound among the layer norms it depends on
        (through calls and memo regions too)."""
        functions = {f.sym_name.data: f for f in module.body.ops if isinstance(f, func.FuncOp)}
        ret = functions["main"].body.blocks.last.last_op  # type: ignore[union-attr]
        assert ret is not None
        out = []
        for value in ret.operands:
            ops = _backward_slice(value, functions)
            out.append(max((self.bounds.get(op, 0.0) for op in ops), default=0.0))
        return out


def _backward_slice(root: SSAValue, functions: dict[str, func.FuncOp]) -> set[Operation]:
    """The ops `root` is computed from, with the ops nested in them and in the functions
    they call."""
    seen: set[Operation] = set()
    work = [root]
    while work:
        owner = work.pop().owner
        if not isinstance(owner, Operation) or owner in seen:
            continue
        for op in owner.walk():
            seen.add(op)
            if isinstance(op, func.CallOp) and (callee := functions.get(op.callee.string_value())):
                for inner in callee.walk():
                    seen.add(inner)
                    if isinstance(inner, func.CallOp):
                        work.extend(inner.operands)  # (callees have no calls of their own)
        work.extend(owner.operands)
    return seen


@dataclass
class Tally:
    """How many result comparisons were made at each level."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, other: Tally) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]


def compare_runs(
    want: list[tuple[str, tuple[Any, ...]]],
    got: list[tuple[str, tuple[Any, ...]]],
    levels: Sequence[int],
    scales: Sequence[int],
    tally: Tally,
    exact: bool = False,
    allowances: Sequence[float] = (),
) -> tuple[str, int | None] | None:
    """The first disagreement between two engines' call sequences (what, and the result
    index), or None. `allowances` widen the tolerance of each result (`Conditioning`)."""
    for (label, w), (_, g) in zip(want, got, strict=True):
        if len(w) != len(g):
            return f"{label}: {len(g)} results, expected {len(w)}", None
        for i, (a, b) in enumerate(zip(w, g)):
            level = EXACT if exact else levels[i]
            tally.counts[level] += 1
            a, b = np.asarray(a), np.asarray(b)
            if level == UNSTABLE:
                problem = None if (a.shape, a.dtype) == (b.shape, b.dtype) else compare_exact(a, b)
            elif level == EXACT or a.dtype.kind != "f":
                problem = compare_exact(a, b)
            else:
                scale = scales[i] if i < len(scales) else 1
                problem = compare_close(a, b, scale, allowances[i] if i < len(allowances) else 0)
            if problem:
                return f"{label}, result #{i} ({LEVEL_NAMES[level]}): {problem}", i
    return None


# endregion Comparing results

# region One example


@dataclass
class Failure:
    """One disagreement or crash: its class, where, and what."""

    kind: str
    stage: str
    message: str
    result: int | None = None  # the result index of a disagreement

    def signature(self) -> tuple[str, str, str]:
        """What two failures of the same bug share: kind, stage and, for crashes, the
        message without its numbers and SSA names."""
        if self.kind in (PASS_BUG, LOWERING_BUG):
            return (self.kind, self.stage, "")
        text = re.sub(r"%[\w.:]+|\d+(\.\d+)?(e[-+]?\d+)?", "N", self.message.splitlines()[0])
        return (self.kind, self.stage, text[:160])


@dataclass
class Outcome:
    """What one example did: its failures (empty when the engines agree) and statistics."""

    seed: int
    failures: list[Failure] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    ops_before: int = 0
    ops_after: int = 0
    memos_after: int = 0
    calls: int = 0
    jit_original: bool = False
    workarounds: list[str] = field(default_factory=list)  # known bugs worked around
    texts: dict[str, str] = field(default_factory=dict)  # module texts, kept for reports


Calls = list[tuple[str, tuple[Any, ...]]]


def run_calls(
    call: Callable[..., tuple[Any, ...]], reset: Callable[[], None], program: Program, seed: int
) -> Calls:
    """The call sequence every engine gets: a first call; the same arrays again (memos
    hit); new run-time inputs with the same weight arrays; one weight replaced by a new
    array with new values (its memos miss); that weight changed in place, then the memos
    reset. Each engine gets its own copies of the inputs (memos key on the arrays)."""
    specs = argument_specs(program)
    weights = [i for i, s in enumerate(specs) if is_weight(s)]
    varying = [i for i, s in enumerate(specs) if not is_weight(s)]
    draws = [draw_inputs(program, seed, k) for k in range(4)]
    args = [a.copy() for a in draws[0]]
    out: Calls = [("first call", call(*args)), ("second call, same arrays", call(*args))]
    if varying:
        args = [draws[1][i].copy() if i in varying else a for i, a in enumerate(args)]
        out.append(("new run-time inputs, same weight arrays", call(*args)))
    if weights:
        k = weights[seed % len(weights)]
        args = list(args)
        args[k] = draws[2][k].copy()
        out.append((f"weight argument #{k} replaced by a new array", call(*args)))
        args[k][...] = draws[3][k]
        reset()
        out.append((f"weight argument #{k} changed in place, then memos reset", call(*args)))
    return out


def interpreter_calls(module: ModuleOp, program: Program, seed: int) -> tuple[Calls, list[float]]:
    """The interpreter's call sequence, and each result's allowance for amplified rounding
    (see `Conditioning`)."""
    conditioning = Conditioning()
    runner = ModuleRunner(module, [conditioning])
    calls = run_calls(lambda *a: runner.call("main", *a), runner.reset_memos, program, seed)
    return calls, conditioning.result_allowances(module)


def jit_calls(module: ModuleOp, program: Program, seed: int) -> Calls:
    compiled = red.compile(module)
    fn = compiled.function("main")
    return run_calls(fn.call, compiled.memo_reset, program, seed)


def _error(err: BaseException) -> str:
    """An exception as one line (a DiagnosticError's located message, else the type and
    message with the innermost frame)."""
    if isinstance(err, red.DiagnosticError):
        return str(err).splitlines()[0]
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    first = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {first}{where}"


def count_ops(module: ModuleOp) -> int:
    return sum(1 for op in module.walk() if not isinstance(op, ModuleOp | func.FuncOp))


def run_example(
    program: Program,
    seed: int,
    pipeline: str = PIPELINE,
    jit_original: bool | None = None,
    workarounds: Sequence[Any] = (),
    stage: Callable[[str], None] = lambda name: None,
) -> Outcome:
    """Run one program through every engine and compare (in this process: see
    `run_isolated`). `workarounds` (KnownBug objects) rewrite the modules the JIT gets;
    `stage` is told the name of each stage before it starts."""
    out = Outcome(seed, jit_original=seed % 4 == 0 if jit_original is None else jit_original)

    def fail(kind: str, where: str, message: str) -> None:
        out.failures.append(Failure(kind, where, message))

    stage("build")
    try:
        original = program.build()
    except Exception as err:  # every failure is a finding
        fail(GENERATOR_ERROR, "build", _error(err))
        return out
    out.texts["original"] = red.to_text(original)
    out.ops_before = count_ops(original)
    main = next(
        f for f in original.body.ops if isinstance(f, func.FuncOp) and f.sym_name.data == "main"
    )
    scales = result_reduction_lengths(main)

    stage("interpreter, original module")
    try:
        reference, reference_allowances = interpreter_calls(original.clone(), program, seed)
    except Exception as err:
        fail(INTERPRETER_ERROR, "interpreter, original module", _error(err))
        return out
    out.calls = len(reference)

    for spec, exact in ((STRICT_PIPELINE, True), (pipeline, False)):
        stage(spec)
        module = original.clone()
        try:
            red.run_pipeline(module, spec)
        except Exception as err:
            fail(PASS_CRASH, spec, _error(err))
            continue
        stage(f"interpreter after {spec}")
        try:
            after, allowances = interpreter_calls(module, program, seed)
        except Exception as err:
            fail(PASS_BUG, f"interpreter after {spec}", f"fails at run time: {_error(err)}")
            continue
        levels = result_levels(original, pipeline_inexact)
        problem = compare_runs(
            reference, after, levels, scales, out.tally, exact, reference_allowances
        )
        if problem:
            where = f"interpreter: original vs after {spec}"
            out.failures.append(Failure(PASS_BUG, where, *problem))
        if spec == pipeline:
            out.texts["optimized"] = red.to_text(module)
            out.ops_after = count_ops(module)
            out.memos_after = sum(isinstance(op, rd.MemoOp) for op in module.walk())
            jit = _JitStage(out, program, seed, scales, workarounds, stage)
            jit.run(module, after, allowances, "optimized module")
    if out.jit_original:
        _JitStage(out, program, seed, scales, workarounds, stage).run(
            original.clone(), reference, reference_allowances, "original module"
        )
    return out


@dataclass
class _JitStage:
    out: Outcome
    program: Program
    seed: int
    scales: Sequence[int]
    workarounds: Sequence[Any]
    stage: Callable[[str], None]

    def run(
        self, module: ModuleOp, expected: Calls, allowances: Sequence[float], which: str
    ) -> None:
        for bug in self.workarounds:
            if bug.workaround(module) and bug.name not in self.out.workarounds:
                self.out.workarounds.append(bug.name)
        levels = result_levels(module, jit_inexact)
        self.stage(f"JIT, {which}")
        try:
            got = jit_calls(module, self.program, self.seed)
        except Exception as err:
            self.out.failures.append(Failure(LOWERING_CRASH, f"JIT, {which}", _error(err)))
            return
        problem = compare_runs(
            expected, got, levels, self.scales, self.out.tally, allowances=allowances
        )
        if problem:
            where = f"interpreter vs JIT, {which}"
            self.out.failures.append(Failure(LOWERING_BUG, where, *problem))


# endregion One example

# region Isolation


def in_child(
    work: Callable[[Callable[[str], None]], Any], timeout: float = 300.0
) -> tuple[Any, Failure | None]:
    """`work(stage)` in a forked child: (its value, None), or (None, the failure) when it
    raised, died by a signal or ran past `timeout` seconds; the failure names the last stage
    `work` announced through `stage(name)`."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report stages and the value through the pipe, then exit
        os.close(read_fd)
        faulthandler.disable()  # a signal is the finding: no traceback dump on stderr
        warnings.simplefilter("ignore")  # numpy's "mean of empty slice" and the like
        code = 0
        try:
            value = work(lambda name: _send(write_fd, ("stage", name)))
            _send(write_fd, ("value", value))
        except BaseException as err:
            _send(write_fd, ("error", _error(err)))
            code = 1
        finally:
            os._exit(code)  # no atexit handlers, no pytest teardown in the child
    os.close(write_fd)
    records, timed_out = _receive(read_fd, time.monotonic() + timeout)
    os.close(read_fd)
    if timed_out:
        os.kill(pid, signal.SIGKILL)  # the child this call forked
    _, status = os.waitpid(pid, 0)
    stages = [r[1] for r in records if r[0] == "stage"]
    last = stages[-1] if stages else "start"
    for tag, value in records:
        if tag == "value":
            return value, None
        if tag == "error":
            return None, Failure(FUZZER_ERROR, last, value)
    if timed_out:
        return None, Failure(HANG, last, f"no result after {timeout:g} s")
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return None, Failure(PROCESS_DIED, last, f"killed by {name}")
    return None, Failure(PROCESS_DIED, last, f"exited with status {os.WEXITSTATUS(status)}")


def run_isolated(program: Program, seed: int, timeout: float = 300.0, **options: Any) -> Outcome:
    """`run_example` in a forked child: a signal or a hang in the child is a finding (with
    the stage it was in), not the end of this process."""
    outcome, failure = in_child(
        lambda stage: run_example(program, seed, stage=stage, **options), timeout
    )
    return outcome if failure is None else Outcome(seed, [failure])


def _send(fd: int, record: tuple[str, Any]) -> None:
    data = pickle.dumps(record)
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int, deadline: float) -> tuple[list[tuple[str, Any]], bool]:
    buffer = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _records(buffer), True
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return _records(buffer), False
        buffer += chunk


def _records(buffer: bytearray) -> list[tuple[str, Any]]:
    out, at = [], 0
    while at + 8 <= len(buffer):
        n = int.from_bytes(buffer[at : at + 8], "little")
        if at + 8 + n > len(buffer):
            break
        out.append(pickle.loads(bytes(buffer[at + 8 : at + 8 + n])))
        at += 8 + n
    return out


# endregion Isolation

# region Verdicts


@dataclass
class Verdict:
    """An example's failures sorted out: those open known bugs explain (by name), and the
    rest (new). `outcome` is the last run's (with the workarounds, if it was run again)."""

    outcome: Outcome
    known: dict[str, int] = field(default_factory=dict)
    new: list[Failure] = field(default_factory=list)
    first: Outcome | None = None  # the run without workarounds, when there were two


def check_example(
    program: Program, seed: int, known_bugs: Sequence[Any] = (), **options: Any
) -> Verdict:
    """Run an example (isolated); if anything fails, run it again with the known bugs'
    workarounds. A failure recognised by a known bug's `matches`, or gone once the
    workarounds applied, is that bug's; the rest is new."""
    first = run_isolated(program, seed, **options)
    workarounds = [b for b in known_bugs if b.workaround is not None]
    verdict = Verdict(first)
    if first.failures and workarounds:
        second = run_isolated(program, seed, workarounds=workarounds, **options)
        remaining = {f.signature() for f in second.failures}
        gone = [
            f
            for f in first.failures
            if f.signature() not in remaining and _known(f, known_bugs) is None
        ]
        for f in gone:
            name = _workaround_for(f, program, seed, second.workarounds, known_bugs, options)
            verdict.known[name] = verdict.known.get(name, 0) + 1
        verdict.outcome, verdict.first = second, first
    for f in verdict.outcome.failures:
        name = _known(f, known_bugs)
        if name is None:
            verdict.new.append(f)
        else:
            verdict.known[name] = verdict.known.get(name, 0) + 1
    if verdict.first is not None:  # a crash the workaround avoided, matched on sight
        for f in verdict.first.failures:
            name = _known(f, known_bugs)
            if name is not None and f.signature() not in {
                g.signature() for g in verdict.outcome.failures
            }:
                verdict.known[name] = verdict.known.get(name, 0) + 1
    return verdict


def _workaround_for(
    failure: Failure,
    program: Program,
    seed: int,
    applied: Sequence[str],
    known_bugs: Sequence[Any],
    options: dict[str, Any],
) -> str:
    """The known bug whose workaround alone makes `failure` go (tried one by one when
    several applied; their names joined if none does alone)."""
    if len(applied) == 1:
        return applied[0]
    for bug in known_bugs:
        if bug.name in applied:
            alone = run_isolated(program, seed, workarounds=[bug], **options)
            if failure.signature() not in {f.signature() for f in alone.failures}:
                return bug.name
    return "+".join(applied) or "?"


def _known(failure: Failure, known_bugs: Sequence[Any]) -> str | None:
    return next((b.name for b in known_bugs if b.matches and b.matches(failure)), None)


# endregion Verdicts

# region Minimizing


def _renumber(program: Program, keep: Sequence[int], returns: Sequence[int]) -> Program:
    """The program with only the steps `keep` (which must be closed under operands)."""
    index = {old: new for new, old in enumerate(keep)}
    steps = [_remap(program.steps[i], index) for i in keep]
    return replace(program, steps=tuple(steps), returns=tuple(index[r] for r in returns))


def _remap(step: Step, index: dict[int, int]) -> Step:
    match step:
        case ("binary", name, a, b):
            return ("binary", name, index[a], index[b])
        case ("select", c, a, b):
            return ("select", index[c], index[a], index[b])
        case ("matmul", a, b):
            return ("matmul", index[a], index[b])
        case ("concat", xs, axis):
            return ("concat", tuple(index[x] for x in xs), axis)
        case ("call" | "memo", k, args, j):
            return (step[0], k, tuple(index[a] for a in args), j)
        case ("gather", table, indices, axis):
            return ("gather", index[table], index[indices], axis)
        case ("unary" | "reduce", name, a, *rest):
            return (step[0], name, index[a], *rest)
        case (kind, a, *rest) if kind not in (*ARG_STEPS, "const", "iota"):
            return (kind, index[a], *rest)
    return step


def live_steps(program: Program, returns: Sequence[int]) -> list[int]:
    """The steps the returns depend on, and every argument (the signature, and so the
    drawn inputs, stay as they were)."""
    live = set(returns)
    for i in range(len(program.steps) - 1, -1, -1):
        if i in live:
            live.update(step_operands(program.steps[i]))
    return [i for i, s in enumerate(program.steps) if i in live or s[0] in ARG_STEPS]


def prune(program: Program, returns: Sequence[int] | None = None) -> Program:
    """Dead steps, unused callees and unused memo regions removed."""
    returns = program.returns if returns is None else returns
    small = _renumber(program, live_steps(program, returns), returns)
    return _drop_unused(_drop_unused(small, "call", "callees"), "memo", "memos")


def _drop_unused(program: Program, kind: str, attr: str) -> Program:
    used = sorted({s[1] for s in program.steps if s[0] == kind})
    if len(used) == len(getattr(program, attr)):
        return program
    index = {old: new for new, old in enumerate(used)}
    steps = tuple((s[0], index[s[1]], *s[2:]) if s[0] == kind else s for s in program.steps)
    return replace(program, steps=steps, **{attr: tuple(getattr(program, attr)[k] for k in used)})


def _step_types(program: Program) -> list[Any]:
    return [v.value.type for v in program.replay_main()[1].values]


def candidates(program: Program) -> list[Program]:
    """Smaller variants of a program, most promising first: one return dropped; a step
    bypassed (its uses take an operand of the same type instead); a step replaced by a
    constant of its type; an unused argument dropped (the inputs drawn for the arguments
    after it change)."""
    out = []
    if len(program.returns) > 1:
        for r in program.returns:
            out.append(prune(program, tuple(x for x in program.returns if x != r)))
    types = _step_types(program)
    for i in range(len(program.steps) - 1, -1, -1):
        step = program.steps[i]
        if step[0] in ARG_STEPS:
            continue
        for operand in dict.fromkeys(step_operands(step)):
            if types[operand] == types[i]:
                out.append(_substitute(program, i, operand))
                break
    for i in range(len(program.steps) - 1, -1, -1):
        if program.steps[i][0] not in (*ARG_STEPS, "const"):
            out.append(_constant_instead(program, i, types[i]))
    used = {o for s in program.steps for o in step_operands(s)} | set(program.returns)
    for i, step in enumerate(program.steps):
        if step[0] in ARG_STEPS and i not in used:
            keep = [j for j in range(len(program.steps)) if j != i]
            out.append(_renumber(program, keep, program.returns))
    return out


def _substitute(program: Program, i: int, value: int) -> Program:
    """Uses of step i take `value` instead; the dead steps go."""
    index = {j: j for j in range(len(program.steps))}
    index[i] = value
    steps = tuple(s if j <= i else _remap(s, index) for j, s in enumerate(program.steps))
    returns = tuple(dict.fromkeys(index[r] for r in program.returns))
    return prune(replace(program, steps=steps), returns)


def _constant_instead(program: Program, i: int, typ: Any) -> Program:
    """Step i replaced by a splat constant of its type (ones, or true)."""
    dtype = str(typ.get_element_type())
    one = {"i1": True, "f32": 1.0, "f64": 1.0}.get(dtype, 1)
    steps = list(program.steps)
    steps[i] = ("const", dtype, tuple(typ.get_shape()), (one,))
    return prune(replace(program, steps=tuple(steps)))


def minimize(
    program: Program,
    still_fails: Callable[[Program], bool],
    budget: float,
    result: int | None = None,
) -> Program:
    """A smaller program that still fails (greedy: returns cut to the failing one, dead
    steps removed, steps bypassed one at a time), within `budget` seconds."""
    deadline = time.monotonic() + budget
    best = program
    first = [prune(program, (program.returns[result],))] if result is not None else []
    first += [prune(program)]
    for cand in first:
        if time.monotonic() > deadline:
            return best
        if len(cand.steps) < len(best.steps) and still_fails(cand):
            best = cand
            break
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for cand in candidates(best):
            if time.monotonic() > deadline:
                break
            if len(cand.steps) < len(best.steps) and still_fails(cand):
                best, progress = cand, True
                break
    return best


# endregion Minimizing
