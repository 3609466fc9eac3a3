"""The tuner (issue 15.3): compile a module under each candidate configuration (pipeline options,
compile arguments such as the thread count), check every candidate's results against the
reference interpreter on the original module, time the ones that pass, and keep the fastest;
the choice is stored in the compile cache's store, keyed by the module and this machine, so the
next tune or `red.compile(..., tune=True)` reuses it.

    from red.cache.tuning import tune, tuned_options, compile_tuned
    result = tune(module)               # searches (or reuses the stored choice), prints nothing
    print(result.table())               # what was tried, the verdicts, and the choice
    tuned_options(module)               # the stored choice, or None
    compiled = compile_tuned(module)    # the stored choice (tuned first on a miss), compiled

The knobs are data (`KNOBS`): a pipeline option or a keyword argument of `red.compile` is one
entry, and a compile argument that this build's `red.compile` does not take is left out (found
with `inspect.signature`). Candidates are the product of the knobs' values, the defaults first;
a candidate that fails to build or whose results differ from the interpreter's beyond the
tolerance of `red-opt --verify-equivalence` (DESIGN.md §7) is rejected and never chosen. An
interruption (KeyboardInterrupt, or the `stop` event set by a signal handler) ends the search
with the best candidate measured so far, which is stored as an incomplete search."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import os
import statistics
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from red.cache.compile_cache import CompileTarget
from red.cache.config import compile_store
from red.cache.fingerprint import model_fingerprint, toolchain
from red.cache.store import Store
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red_interpreter import ModuleRunner

KIND = "tuning"
SCHEMA = "tuning/1"
PIPELINE = "red-pipeline"

Caller = Callable[..., tuple[Any, ...]]


# region Knobs
@dataclass
class Build:
    """What a candidate's knob values turn into: the options of red-pipeline (None: the module
    is compiled as given), the keyword arguments of `red.compile`, and wrappers of the compiled
    function (a knob that changes how calls are made; tests inject wrong candidates this way)."""

    pipeline_options: dict[str, Any] | None = field(default_factory=dict[str, Any])
    compile_kwargs: dict[str, Any] = field(default_factory=dict[str, Any])
    call_wrappers: list[Callable[[Caller], Caller]] = field(
        default_factory=list[Callable[[Caller], Caller]]
    )

    def pipeline(self) -> str | None:
        """The pipeline as `-p` spells it, or None to compile the module unoptimised."""
        if self.pipeline_options is None:
            return None
        if not self.pipeline_options:
            return PIPELINE
        options = " ".join(f"{k}={_option_text(v)}" for k, v in self.pipeline_options.items())
        return f"{PIPELINE}{{{options}}}"


def _option_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class Knob(ABC):
    """One dimension of the search: a name (the config key), its candidate values (the first
    is the default), and what a value does to a Build."""

    name: str

    def available(self) -> bool:
        """Whether this build of red has the knob (unavailable knobs are not searched)."""
        return True

    @abstractmethod
    def candidates(self, overrides: Mapping[str, Sequence[Any]]) -> tuple[Any, ...]:
        """The values to try (`overrides[name]` when the user gave them)."""

    @abstractmethod
    def apply(self, value: Any, build: Build) -> None: ...


@dataclass(frozen=True)
class PipelineOption(Knob):
    """An option of red-pipeline (`red-pipeline{option=value}`)."""

    name: str
    option: str
    values: tuple[Any, ...]

    def candidates(self, overrides: Mapping[str, Sequence[Any]]) -> tuple[Any, ...]:
        return tuple(overrides.get(self.name, self.values))

    def apply(self, value: Any, build: Build) -> None:
        if build.pipeline_options is not None:
            build.pipeline_options[self.option] = value


@dataclass(frozen=True)
class CompileArgument(Knob):
    """A keyword argument of `red.compile`; available when red.compile takes it. `values` is a
    tuple or a function giving one (e.g. the thread counts of this machine)."""

    name: str
    argument: str
    values: tuple[Any, ...] | Callable[[], tuple[Any, ...]]

    def available(self) -> bool:
        return self.argument in compile_parameters()

    def candidates(self, overrides: Mapping[str, Sequence[Any]]) -> tuple[Any, ...]:
        if self.name in overrides:
            return tuple(overrides[self.name])
        return self.values() if callable(self.values) else self.values

    def apply(self, value: Any, build: Build) -> None:
        build.compile_kwargs[self.argument] = value


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def thread_counts() -> tuple[int, ...]:
    return tuple(range(1, usable_cpus() + 1))


def compile_parameters() -> frozenset[str]:
    """The keyword arguments `red.compile` takes in this build."""
    import red

    return frozenset(inspect.signature(red.compile).parameters)


KNOBS: tuple[Knob, ...] = (
    PipelineOption("strict-fp", "strict-fp", (False, True)),
    CompileArgument("opt", "opt", (3, 2)),
    CompileArgument("threads", "threads", thread_counts),
    CompileArgument("vector-bits", "vector_bits", (0, 256, 128)),
)
"""The search space; a new knob is one entry. The defaults come first."""


def available_knobs(knobs: Sequence[Knob] = KNOBS) -> list[Knob]:
    return [k for k in knobs if k.available()]


# endregion Knobs


# region Results
@dataclass
class Trial:
    """One candidate: its knob values, its median call time (None unless validated), and the
    verdict: "ok", "wrong" (results beyond the tolerance), "error" (it could not be built or
    run) or "interrupted"."""

    config: dict[str, Any]
    verdict: str
    seconds: float | None = None
    max_error: float | None = None
    final_seconds: float | None = None  # measured again in the final round (finalists)
    detail: str = ""
    chosen: bool = False

    def describe(self) -> str:
        return " ".join(f"{k}={_option_text(v)}" for k, v in self.config.items()) or "(default)"


@dataclass
class TuneResult:
    """The outcome of a search (or of the stored search it reused)."""

    function: str
    key: str
    trials: list[Trial]
    config: dict[str, Any] | None  # the chosen knob values; None if nothing validated
    pipeline: str | None
    compile_kwargs: dict[str, Any]
    complete: bool  # False when the search was interrupted
    cached: bool = False
    inputs: int = 0
    repeat: int = 0

    @property
    def chosen(self) -> Trial | None:
        return next((t for t in self.trials if t.chosen), None)

    def options(self) -> dict[str, Any] | None:
        """What `tuned_options` returns: the pipeline and red.compile's keyword arguments."""
        if self.config is None:
            return None
        return {"pipeline": self.pipeline, "compile": dict(self.compile_kwargs)}

    def table(self) -> str:
        """The table of what was tried and the sentence that says why the choice was made."""
        header = ("#", "configuration", "median ms", "final ms", "verdict", "max error", "")
        rows: list[tuple[str, ...]] = [header]
        for i, t in enumerate(self.trials, 1):
            ms = "-" if t.seconds is None else f"{t.seconds * 1e3:.4f}"
            final = "-" if t.final_seconds is None else f"{t.final_seconds * 1e3:.4f}"
            err = "-" if t.max_error is None else f"{t.max_error:.3g}"
            verdict = t.verdict + (f" ({t.detail})" if t.detail else "")
            mark = "<- chosen" if t.chosen else ""
            rows.append((str(i), t.describe(), ms, final, verdict, err, mark))
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        left = {1, 4}  # configuration and verdict read left-aligned
        lines = []
        for r in rows:
            cells = [
                c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
            ]
            lines.append("  ".join(cells).rstrip())
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        source = "stored choice reused" if self.cached else "searched"
        head = f"@{self.function}: {source}"
        if not self.complete:
            head += " (search interrupted: best of the candidates measured before it)"
        chosen = self.chosen
        if chosen is None:
            return f"{head}; no candidate passed validation, nothing chosen"
        ok = [t for t in self.trials if t.verdict == "ok"]
        rejected = sum(t.verdict in ("wrong", "error") for t in self.trials)
        finalists = [t for t in self.trials if t.final_seconds is not None]
        if finalists:
            how = (
                f"the fastest of {len(finalists)} finalists (of {len(ok)} validated "
                "candidates) measured again, alternating,"
            )
            seconds, default = chosen.final_seconds, self.trials[0].final_seconds
        else:
            how = f"the fastest of {len(ok)} validated candidate(s)"
            seconds, default = chosen.seconds, self.trials[0].seconds
        assert seconds is not None
        speedup = ""
        if self.trials[0] is not chosen and default:
            speedup = f", {default / seconds:.2f}x the first (default) candidate"
        return (
            f"{head}; chose #{self.trials.index(chosen) + 1} ({chosen.describe()}): {how} at "
            f"{seconds * 1e3:.4f} ms{speedup} (under {TIE_MARGIN:.0%} apart is a tie, won by "
            f"the earlier candidate); {rejected} rejected"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "key": self.key,
            "cached": self.cached,
            "complete": self.complete,
            "inputs": self.inputs,
            "repeat": self.repeat,
            "config": self.config,
            "pipeline": self.pipeline,
            "compile": self.compile_kwargs,
            "trials": [asdict(t) for t in self.trials],
        }


# endregion Results


# region Cache
def machine() -> dict[str, Any]:
    """What identifies this machine for a tuning choice: the CPU LLVM compiles for, its
    features, the CPUs the process may use, and the build of red and LLVM."""
    target = CompileTarget.host()
    return {
        "triple": target.triple,
        "cpu": target.cpu,
        "features": target.features,
        "cpus": usable_cpus(),
        **toolchain(),
    }


def tuning_key(module: ModuleOp, function: str = "main") -> str:
    """The store key of the tuning choice for `function` of `module` on this machine."""
    description = {
        "schema": SCHEMA,
        "model": model_fingerprint(module),
        "function": function,
        "machine": machine(),
    }
    text = json.dumps(description, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _load(store: Store, key: str) -> TuneResult | None:
    payload = store.get(KIND, key)
    if payload is None:
        return None
    try:
        data = json.loads(bytes(payload))
        trials = [Trial(**t) for t in data["trials"]]
        result = TuneResult(
            function=data["function"],
            key=key,
            trials=trials,
            config=data["config"],
            pipeline=data["pipeline"],
            compile_kwargs=dict(data["compile"]),
            complete=bool(data["complete"]),
            cached=True,
            inputs=int(data["inputs"]),
            repeat=int(data["repeat"]),
        )
    except (ValueError, KeyError, TypeError) as err:
        store.reject(KIND, key, f"unreadable tuning choice: {err}")
        return None
    if result.config is None or not set(result.compile_kwargs) <= compile_parameters():
        return None  # chosen with a red.compile argument this build does not have
    return result


def store_choice(store: Store, result: TuneResult) -> None:
    """Store a search under its key, replacing what was there (an interrupted search, or a
    search that `retune` redoes): a store keeps the first entry written under a key, so the
    old one is discarded first."""
    data = result.to_json()
    del data["cached"]
    store.delete(KIND, result.key)
    store.put(KIND, result.key, json.dumps(data).encode())  # key order: the knobs' order


def _store(store: Store | None, use_cache: bool) -> Store | None:
    if not use_cache:
        return None
    return store if store is not None else compile_store()


def tuned_options(
    module: ModuleOp, function: str = "main", store: Store | None = None
) -> dict[str, Any] | None:
    """The stored choice for `module` on this machine, `{"pipeline": str | None, "compile":
    {keyword: value}}`, or None when it was never tuned here (or the cache is off)."""
    backend = _store(store, True)
    if backend is None:
        return None
    result = _load(backend, tuning_key(module, function))
    return None if result is None else result.options()


# endregion Cache


# region Search
@dataclass
class _Case:
    inputs: list[Any]
    expected: tuple[Any, ...]


class _Reference:
    """The interpreter's results on the original module for N seeded random inputs, and the
    tolerance of each result (red-opt --verify-equivalence's)."""

    def __init__(self, module: ModuleOp, function: str, samples: int):
        from red.testing.random_inputs import random_inputs
        from red.transforms.analysis.equivalence import result_reduction_lengths

        runner = ModuleRunner(module.clone())
        self.fn = runner.function(function)
        if not self.fn.body.blocks:
            raise DiagnosticError.at(
                self.fn, f"'@{function}' is a declaration: it has no body to tune"
            )
        self.scales = result_reduction_lengths(self.fn)
        self.cases: list[_Case] = []
        for seed in range(max(1, samples)):
            try:
                inputs = random_inputs(self.fn, seed)
            except ValueError as err:
                raise DiagnosticError.at(
                    self.fn, f"cannot draw random inputs for '@{function}': {err}"
                ) from None
            self.cases.append(_Case(inputs, runner.call(function, *inputs)))

    def check(self, call: Caller) -> tuple[bool, float, str]:
        """(all results within tolerance, largest error, what differs): each input is run
        twice, so a memo's cached second call is checked too."""
        from red.transforms.analysis.equivalence import close

        worst = 0.0
        for n, case in enumerate(self.cases):
            for attempt in ("first", "second"):
                got = call(*case.inputs)
                if len(got) != len(case.expected):
                    return False, math.inf, f"{len(got)} results, expected {len(case.expected)}"
                for i, (want, have) in enumerate(zip(case.expected, got, strict=True)):
                    scale = self.scales[i] if i < len(self.scales) else 1
                    ok, err = close(np.asarray(want), np.asarray(have), scale, exact=False)
                    worst = max(worst, err)
                    if not ok:
                        return False, err, f"result #{i}, input {n}, {attempt} call"
        return True, worst, ""


@dataclass
class _Candidate:
    config: dict[str, Any]
    build: Build
    error: str = ""


def _candidates(knobs: Sequence[Knob], overrides: Mapping[str, Sequence[Any]]) -> list[_Candidate]:
    names = [k.name for k in knobs]
    values = [k.candidates(overrides) for k in knobs]
    found: list[_Candidate] = []
    for combo in itertools.product(*values):
        build = Build()
        candidate = _Candidate(dict(zip(names, combo, strict=True)), build)
        for knob, value in zip(knobs, combo, strict=True):
            knob.apply(value, build)
        found.append(candidate)
    return found


WARMUP_CALLS = 3
SAMPLE_SECONDS = 1e-3
"""Calls are timed in batches lasting about this long: a call of a few microseconds timed
alone measures the timer and the machine's noise more than the call."""
FINALISTS = 3
"""The fastest validated candidates (and the first validated one, the defaults) that are
measured again at the end, alternating, so that load which came and went during the search
does not decide the choice."""
TIE_MARGIN = 0.03
"""A candidate must be this much faster (relatively) than the best before it to replace it:
closer timings are noise on a shared machine, and the earlier candidate (the defaults come
first) wins the tie."""


@dataclass
class _Timer:
    """A validated candidate's compiled function, timed in batches of `batch` calls."""

    call: Caller
    inputs: Sequence[Any]
    batch: int = 1

    @classmethod
    def warmed(cls, call: Caller, inputs: Sequence[Any]) -> _Timer:
        """After warm-up calls (memos filled, code and data in cache), with the batch size
        that makes a sample last about SAMPLE_SECONDS."""
        start = time.perf_counter()
        for _ in range(WARMUP_CALLS):
            call(*inputs)
        one = (time.perf_counter() - start) / WARMUP_CALLS
        return cls(call, inputs, max(1, min(1000, int(SAMPLE_SECONDS / max(one, 1e-9)))))

    def sample(self) -> float:
        """Seconds per call over one batch."""
        start = time.perf_counter()
        for _ in range(self.batch):
            self.call(*self.inputs)
        return (time.perf_counter() - start) / self.batch

    def median(self, samples: int) -> float:
        return statistics.median(self.sample() for _ in range(max(1, samples)))


class _Interrupted(Exception):
    pass


def tune(
    module: ModuleOp,
    function: str = "main",
    *,
    inputs: int = 3,
    repeat: int = 20,
    overrides: Mapping[str, Sequence[Any]] | None = None,
    knobs: Sequence[Knob] | None = None,
    store: Store | None = None,
    use_cache: bool = True,
    retune: bool = False,
    stop: threading.Event | None = None,
    progress: Callable[[str], None] | None = None,
) -> TuneResult:
    """Find the fastest validated configuration of `function` (the module is left as it is).

    `inputs` random inputs validate each candidate (drawn as `red-run --random`); `repeat`
    timed samples give its median, and the finalists are measured `repeat` times more,
    alternating. `overrides` replaces a knob's values by name (e.g. `{"threads": (1, 2)}`);
    `knobs` replaces the search space (unavailable knobs are dropped). The choice goes to
    `store` (default: the compile cache's); a stored complete search of the same module on
    this machine that tried every candidate asked for now is reused unless `retune`. `stop`
    (an Event, set by a signal handler) or a KeyboardInterrupt ends the search early with the
    best so far."""
    overrides = dict(overrides or {})
    knobs = available_knobs(KNOBS if knobs is None else knobs)
    unknown = set(overrides) - {k.name for k in knobs}
    if unknown:
        raise ValueError(f"no knob named {', '.join(sorted(repr(n) for n in unknown))} here")
    backend = _store(store, use_cache)
    key = tuning_key(module, function)
    candidates = _candidates(knobs, overrides)
    if backend is not None and not retune:
        stored = _load(backend, key)
        if stored is not None and _covers(stored, candidates):
            return stored

    search = _Search(module, function, _Reference(module, function, inputs), repeat, stop)
    say = progress or (lambda _: None)
    complete = True
    for index, candidate in enumerate(candidates, 1):
        try:
            search.check_stop()
            say(f"[{index}/{len(candidates)}] {Trial(candidate.config, '').describe()}")
            search.run(candidate)
        except (KeyboardInterrupt, _Interrupted):
            complete = False
            del search.trials[index - 1 :]  # the candidate cut short while being timed
            search.finalists = {i: f for i, f in search.finalists.items() if i < index - 1}
            search.trials += [Trial(c.config, "interrupted") for c in candidates[index - 1 :]]
            break
    if complete and len(search.finalists) > 1:
        try:
            say(f"final round: {len(search.finalists)} finalists measured again, alternating")
            search.final_round()
        except (KeyboardInterrupt, _Interrupted):
            pass  # the choice falls back on the measurements of the search
    return _finish(function, key, search, candidates, complete, backend, inputs, repeat)


def _covers(stored: TuneResult, candidates: Sequence[_Candidate]) -> bool:
    """Whether a stored search answers this one: complete, and every candidate asked for now
    was tried then (a new knob or value searches again)."""
    tried = [t.config for t in stored.trials if t.verdict != "interrupted"]
    return stored.complete and all(c.config in tried for c in candidates)


class _Search:
    """The trials so far, the compiled pipelines' outputs, and the finalists' timers."""

    def __init__(
        self,
        module: ModuleOp,
        function: str,
        reference: _Reference,
        repeat: int,
        stop: threading.Event | None,
    ):
        self.module = module
        self.function = function
        self.reference = reference
        self.repeat = repeat
        self.stop = stop
        self.trials: list[Trial] = []
        self.optimized: dict[str | None, ModuleOp | str] = {}  # pipeline -> module or error
        self.finalists: dict[int, _Timer] = {}  # trial index -> timer

    def check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Interrupted

    def run(self, candidate: _Candidate) -> None:
        """Build, validate and time one candidate; keep it if it is a finalist."""
        trial, call = self._build_and_check(candidate)
        self.trials.append(trial)
        if call is None:
            return
        timer = _Timer.warmed(call, self.reference.cases[0].inputs)
        trial.seconds = timer.median(self.repeat)
        self.finalists[len(self.trials) - 1] = timer
        self._keep_fastest()

    def _build_and_check(self, candidate: _Candidate) -> tuple[Trial, Caller | None]:
        import red

        build = candidate.build
        pipeline = build.pipeline()
        try:
            if pipeline not in self.optimized:
                work = self.module.clone()
                if pipeline is not None:
                    red.run_pipeline(work, pipeline)
                self.optimized[pipeline] = work
            work = self.optimized[pipeline]
            if isinstance(work, str):
                return Trial(candidate.config, "error", detail=work), None
            compiled = red.compile(work, **build.compile_kwargs)
            call: Caller = compiled.function(self.function).call
            for wrap in build.call_wrappers:
                call = wrap(call)
            self.check_stop()
            ok, err, where = self.reference.check(call)
        except _Interrupted:
            raise
        except Exception as err:  # any failure to build or run rejects the candidate, visibly
            detail = (
                err.message if isinstance(err, DiagnosticError) else f"{type(err).__name__}: {err}"
            )
            if pipeline not in self.optimized:  # the pipeline failed: not rerun per candidate
                self.optimized[pipeline] = _short(detail)
            return Trial(candidate.config, "error", detail=_short(detail)), None
        if not ok:
            return Trial(candidate.config, "wrong", max_error=err, detail=where), None
        return Trial(candidate.config, "ok", max_error=err), call

    def _keep_fastest(self) -> None:
        """Drop the compiled code of candidates that cannot be finalists (memory): all but
        the FINALISTS fastest and the first validated one."""
        ranked = sorted(self.finalists, key=lambda i: self.trials[i].seconds or math.inf)
        first = min(self.finalists)
        for i in ranked[FINALISTS:]:
            if i != first:
                del self.finalists[i]

    def final_round(self) -> None:
        """Measure the finalists again, one sample each in turn, `repeat` rounds."""
        samples: dict[int, list[float]] = {i: [] for i in self.finalists}
        for _ in range(max(1, self.repeat)):
            self.check_stop()
            for i, timer in self.finalists.items():
                samples[i].append(timer.sample())
        for i, times in samples.items():
            self.trials[i].final_seconds = statistics.median(times)


def _short(text: str, limit: int = 100) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _choose(trials: list[Trial]) -> Trial | None:
    """The fastest validated trial, by the final round's times when there was one (its
    finalists only), else by the search's; ties go to the earlier trial."""
    final = [t for t in trials if t.final_seconds is not None]
    pool = [(t, t.final_seconds) for t in final] or [
        (t, t.seconds) for t in trials if t.verdict == "ok" and t.seconds is not None
    ]
    best: tuple[Trial, float] | None = None
    for t, seconds in pool:  # in trial order: the defaults first
        assert seconds is not None
        if best is None or seconds < best[1] * (1 - TIE_MARGIN):
            best = (t, seconds)
    return None if best is None else best[0]


def _finish(
    function: str,
    key: str,
    search: _Search,
    candidates: list[_Candidate],
    complete: bool,
    backend: Store | None,
    inputs: int,
    repeat: int,
) -> TuneResult:
    trials = search.trials
    best = _choose(trials)
    config: dict[str, Any] | None = None
    pipeline: str | None = None
    kwargs: dict[str, Any] = {}
    if best is not None:
        best.chosen = True
        build = candidates[trials.index(best)].build
        config, pipeline, kwargs = dict(best.config), build.pipeline(), dict(build.compile_kwargs)
    result = TuneResult(
        function, key, trials, config, pipeline, kwargs, complete, False, inputs, repeat
    )
    if backend is not None and best is not None:
        store_choice(backend, result)
    return result


# endregion Search


def compile_tuned(module: ModuleOp, function: str = "main", **tune_options: Any) -> Any:
    """`red.compile(module, tune=True)`: the stored choice for this module and machine (a
    search first on a miss), applied to a copy of the module (its pipeline) and to
    red.compile (its arguments)."""
    import red

    options = tuned_options(module, function, tune_options.get("store"))
    if options is None:
        options = tune(module, function, **tune_options).options()
    work = module.clone()
    if options is None:  # nothing validated: compile as red.compile would
        return red.compile(work)
    if options["pipeline"] is not None:
        red.run_pipeline(work, options["pipeline"])
    return red.compile(work, **options["compile"])


__all__ = [
    "KNOBS",
    "Build",
    "CompileArgument",
    "Knob",
    "PipelineOption",
    "Trial",
    "TuneResult",
    "compile_tuned",
    "store_choice",
    "tune",
    "tuned_options",
    "tuning_key",
]
