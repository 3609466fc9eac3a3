"""red.cache.tuning and red-tune (issue 15.3): a candidate whose results differ from the
interpreter's is never chosen, the choice is stored and reused, an interrupted search keeps
(and stores) the best candidate measured so far, and bad input to red-tune is a located error
with exit code 1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import red
from red.cache.store import MemoryStore
from red.cache.tuning import (
    KNOBS,
    Build,
    CompileArgument,
    Knob,
    PipelineOption,
    compile_tuned,
    store_choice,
    tune,
    tuned_options,
    tuning_key,
)
from red.testing.random_inputs import random_inputs
from red.tools.red_tune import main

# A·B·C where reassociation changes the order ((8x16·16x16)·16x4 -> 8x16·(16x16·16x4)): the
# pipeline knob gives two valid candidates that round differently.
CHAIN = """\
func.func @main(%a: tensor<8x16xf32>, %b: tensor<16x16xf32>, %c: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %ab = red.matmul %a, %b : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %abc = red.matmul %ab, %c : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  func.return %abc : tensor<8x4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
"""

Caller = Callable[..., tuple[Any, ...]]
STRICT_FP = PipelineOption("strict-fp", "strict-fp", (False, True))


@dataclass(frozen=True)
class WrapCall(Knob):
    """A test-only knob: its value True wraps the compiled function with `wrap`."""

    name: str
    wrap: Callable[[Caller], Caller]

    def candidates(self, overrides: Any) -> tuple[Any, ...]:
        return (False, True)

    def apply(self, value: Any, build: Build) -> None:
        if value:
            build.call_wrappers.append(self.wrap)


def fast_and_wrong(call: Caller) -> Caller:
    """Zeros, computed once: faster than any real candidate, and wrong."""
    cached: list[tuple[Any, ...]] = []

    def wrong(*args: Any) -> tuple[Any, ...]:
        if not cached:
            cached.append(tuple(np.zeros_like(r) for r in call(*args)))
        return cached[0]

    return wrong


def scaled(factor: float) -> Callable[[Caller], Caller]:
    def wrap(call: Caller) -> Caller:
        return lambda *args: tuple((r * np.float32(factor)).astype(r.dtype) for r in call(*args))

    return wrap


def interrupting(call: Caller) -> Caller:
    def interrupt(*args: Any) -> tuple[Any, ...]:
        raise KeyboardInterrupt

    return interrupt


@pytest.fixture
def chain() -> Any:
    return red.parse(CHAIN, "chain.mlir")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(1 << 20)


# region Validation


@pytest.mark.parametrize(
    ("wrap", "verdict"),
    [
        pytest.param(fast_and_wrong, "wrong", id="zeros-faster-than-anything"),
        pytest.param(scaled(1 + 1e-3), "wrong", id="relative-error-1e-3-beyond-rtol"),
        pytest.param(scaled(1 + 1e-7), "ok", id="relative-error-1e-7-within-tolerance"),
    ],
)
def test_candidate_with_wrong_results_is_never_chosen(chain, store, wrap, verdict):
    knobs = [WrapCall("test-wrap", wrap)]

    result = tune(chain, knobs=knobs, store=store, inputs=2, repeat=3)

    honest, wrapped = result.trials
    assert honest.config == {"test-wrap": False}
    assert honest.verdict == "ok"
    assert wrapped.verdict == verdict
    if verdict == "wrong":
        assert result.config == {"test-wrap": False}
        assert wrapped.seconds is None
        assert not wrapped.chosen
        assert wrapped.max_error is not None
        assert wrapped.max_error > 0
        assert "wrong (result #0, input 0, first call)" in result.table()
    assert tuned_options(chain, store=store) == result.options()


def test_candidate_that_fails_to_build_is_an_error_verdict(chain, store):
    def broken(call: Caller) -> Caller:
        raise RuntimeError("this candidate cannot be built")

    result = tune(chain, knobs=[WrapCall("test-broken", broken)], store=store, repeat=3)

    assert [t.verdict for t in result.trials] == ["ok", "error"]
    assert result.trials[1].detail == "RuntimeError: this candidate cannot be built"
    assert result.config == {"test-broken": False}


def test_no_valid_candidate_chooses_and_stores_nothing(chain, store):
    all_wrong = [_AlwaysWrap("test-all", fast_and_wrong)]

    result = tune(chain, knobs=all_wrong, store=store, repeat=3)

    assert result.config is None
    assert result.options() is None
    assert [t.verdict for t in result.trials] == ["wrong"]
    assert "no candidate passed validation, nothing chosen" in result.summary()
    assert tuned_options(chain, store=store) is None


def test_failed_search_leaves_the_stored_choice(chain, store):
    good = tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)

    failed = tune(chain, knobs=[_AlwaysWrap("test-all", fast_and_wrong)], store=store, repeat=3)

    assert failed.config is None
    assert not failed.cached
    assert tuned_options(chain, store=store) == good.options()


@dataclass(frozen=True)
class _AlwaysWrap(WrapCall):
    def candidates(self, overrides: Any) -> tuple[Any, ...]:
        return (True,)


def slower_by(value: int) -> Callable[[Caller], Caller]:
    def wrap(call: Caller) -> Caller:
        def slow(*args: Any) -> tuple[Any, ...]:
            time.sleep(0.005 * value)
            return call(*args)

        return slow if value else call  # sleep(0) yields the CPU: on a loaded machine, ms

    return wrap


@dataclass(frozen=True)
class Slowdown(Knob):
    """A test-only knob: value v makes each call 5·v ms slower."""

    name: str = "test-slowdown"

    def candidates(self, overrides: Any) -> tuple[Any, ...]:
        return (3, 4, 0, 2, 1)

    def apply(self, value: Any, build: Build) -> None:
        build.call_wrappers.append(slower_by(value))


def test_fastest_finalists_are_measured_again_and_the_fastest_chosen(chain, store):
    result = tune(chain, knobs=[Slowdown()], store=store, inputs=1, repeat=3)

    finals = {t.config["test-slowdown"]: t.final_seconds for t in result.trials}
    assert result.config == {"test-slowdown": 0}
    assert [v for v, s in finals.items() if s is not None] == [3, 0, 2, 1]  # first, top 3
    assert finals[0] < finals[1] < finals[2] < finals[3]  # type: ignore[operator]
    assert "the fastest of 4 finalists (of 5 validated candidates)" in result.summary()


# endregion Validation

# region The stored choice


def test_second_tune_reuses_the_stored_choice_without_compiling(chain, store, monkeypatch):
    first = tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)

    def no_compile(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stored choice must not be compiled again")

    monkeypatch.setattr(red, "compile", no_compile)
    second = tune(chain, knobs=[STRICT_FP], store=store)

    assert not first.cached
    assert second.cached
    assert second.config == first.config
    assert second.pipeline == first.pipeline
    assert [t.verdict for t in second.trials] == [t.verdict for t in first.trials]
    assert "stored choice reused" in second.summary()


def test_choice_is_keyed_by_the_module(chain, store):
    other = red.parse(CHAIN.replace("8x", "6x"), "other.mlir")

    tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)

    assert tuning_key(chain) != tuning_key(other)
    assert tuning_key(chain) == tuning_key(red.parse(CHAIN, "elsewhere.mlir"))  # no locations
    assert tuned_options(other, store=store) is None
    assert tuned_options(chain, store=store) is not None


def test_retune_searches_again_and_replaces_the_choice(chain, store):
    tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)
    strict_only = PipelineOption("strict-fp", "strict-fp", (True,))

    again = tune(chain, knobs=[strict_only], store=store, inputs=1, repeat=3, retune=True)

    assert not again.cached
    assert tuned_options(chain, store=store) == {
        "pipeline": "red-pipeline{strict-fp=true}",
        "compile": {},
    }


def test_compile_tuned_applies_the_stored_choice(chain, store):
    tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)
    inputs = random_inputs(chain.body.block.first_op, 5)

    compiled = compile_tuned(chain, store=store)

    (want,) = red.interpret(chain).call("main", *inputs)
    np.testing.assert_allclose(compiled.main(*inputs), want, rtol=1e-4, atol=1e-4)


def test_compile_tuned_searches_first_on_a_miss(chain, store):
    compiled = compile_tuned(chain, store=store, knobs=[STRICT_FP], inputs=1, repeat=3)

    assert tuned_options(chain, store=store) is not None
    inputs = random_inputs(chain.body.block.first_op, 1)
    (want,) = red.interpret(chain).call("main", *inputs)
    np.testing.assert_allclose(compiled.main(*inputs), want, rtol=1e-4, atol=1e-4)


def test_stored_choice_with_an_argument_red_compile_lacks_is_ignored(chain, store):
    result = tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)
    result.compile_kwargs = {"no_such_argument": 4}
    store_choice(store, result)

    assert tuned_options(chain, store=store) is None


# endregion The stored choice

# region Interruption


def test_interrupted_search_keeps_and_stores_the_best_so_far(chain, store):
    knobs = [STRICT_FP, WrapCall("test-interrupt", interrupting)]

    result = tune(chain, knobs=knobs, store=store, inputs=1, repeat=3)

    assert not result.complete
    assert [t.verdict for t in result.trials] == ["ok", "interrupted", "interrupted", "interrupted"]
    assert result.config == {"strict-fp": False, "test-interrupt": False}
    assert "search interrupted" in result.summary()
    assert tuned_options(chain, store=store) == result.options()
    resumed = tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3)
    assert not resumed.cached
    assert resumed.complete


def test_stop_event_ends_the_search_after_the_current_candidate(chain, store):
    stop = threading.Event()

    def progress(line: str) -> None:
        if line.startswith("[2/"):
            stop.set()  # as red-tune's Ctrl-C handler does, while candidate 2 is next

    result = tune(chain, knobs=[STRICT_FP], store=store, inputs=1, repeat=3, stop=stop,
                  progress=progress)  # fmt: skip

    assert [t.verdict for t in result.trials] == ["ok", "interrupted"]
    assert result.trials[0].chosen
    assert not result.complete


# endregion Interruption

# region Knobs


def test_compile_arguments_red_compile_lacks_are_not_searched(chain, store):
    missing = CompileArgument("test-missing", "no_such_argument", (1, 2))

    result = tune(chain, knobs=[STRICT_FP, missing], store=store, inputs=1, repeat=3)

    assert not missing.available()
    assert [t.config for t in result.trials] == [{"strict-fp": False}, {"strict-fp": True}]


def test_default_knobs_follow_red_compile():
    import inspect

    parameters = inspect.signature(red.compile).parameters
    searched = {k.name for k in KNOBS if k.available()}

    assert "strict-fp" in searched
    assert "opt" in searched
    assert ("threads" in searched) == ("threads" in parameters)


def test_override_of_an_unknown_knob_is_refused(chain, store):
    with pytest.raises(ValueError, match="no knob named 'warp-size'"):
        tune(chain, knobs=[STRICT_FP], store=store, overrides={"warp-size": (32,)})


# endregion Knobs

# region red-tune


@pytest.fixture
def cache_env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("RED_CACHE_URL", raising=False)
    monkeypatch.delenv("RED_CACHE", raising=False)
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def chain_file(tmp_path: Path) -> Path:
    path = tmp_path / "chain.mlir"
    path.write_text(CHAIN)
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["missing.mlir"], "error: could not open input file 'missing.mlir'", id="missing-file"
        ),
        pytest.param(
            ["{chain}", "--inputs", "0"],
            "error: --inputs expects a positive count, got 0",
            id="no-inputs",
        ),
        pytest.param(
            ["{chain}", "--repeat", "-2"],
            "error: --repeat expects a positive count, got -2",
            id="bad-repeat",
        ),
        pytest.param(
            ["{chain}", "--threads", "0,2"],
            "error: --threads expects positive integers separated by commas, got '0,2'",
            id="bad-threads",
        ),
        pytest.param(
            ["{chain}", "--inputs", "x"],
            "error: argument --inputs: invalid int value: 'x'",
            id="bad-flag-value",
        ),
        pytest.param(
            ["{chain}", "--function", "nope"],
            "{chain}:1:1: error: no function '@nope' in the module",
            id="no-function",
        ),
        pytest.param(
            ["{chain}", "--function", "helper"],
            "{chain}:6:1: error: '@helper' is private: red-tune tunes public functions",
            id="private-function",
        ),
        pytest.param(["{bad}"], "{bad}:2:1: error: unexpected end of input", id="syntax-error"),
    ],
)
def test_bad_input_is_a_located_error_without_traceback(
    cache_env, chain_file, capsys, argv, message
):
    bad = cache_env / "bad.mlir"
    bad.write_text("func.func @main(\n")
    names = {"chain": str(chain_file), "bad": str(bad)}

    code = main([a.format(**names) for a in argv])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(message.format(**names)), err
    assert "Traceback" not in err
    assert not (cache_env / "cache").exists() or not any((cache_env / "cache").rglob("*tuning*"))


def test_red_tune_prints_the_table_and_reuses_the_choice(cache_env, chain_file, capsys):
    code = main([str(chain_file), "--inputs", "1", "--repeat", "3", "--json"])
    first = json.loads(capsys.readouterr().out)
    code_again = main([str(chain_file), "--repeat", "3"])
    table = capsys.readouterr().out

    assert code == code_again == 0
    assert not first["cached"]
    assert first["complete"]
    assert sum(t["chosen"] for t in first["trials"]) == 1
    assert all(t["verdict"] == "ok" for t in first["trials"])
    assert table.splitlines()[0].split() == [
        "#",
        "configuration",
        "median",
        "ms",
        "final",
        "ms",
        "verdict",
        "max",
        "error",
    ]
    assert "<- chosen" in table
    assert "@main: stored choice reused; chose #" in table


def test_ctrl_c_keeps_the_best_so_far(cache_env, chain_file):
    env = {**os.environ, "RED_CACHE_DIR": str(cache_env / "cache")}
    command = [sys.executable, "-m", "red.tools.red_tune", str(chain_file), "--inputs", "1",
               "--repeat", "3", "--json"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("red-tune: [2/"):  # candidate 1 is measured
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=600)

    result = json.loads(out)
    assert proc.returncode == 0, err
    assert "interrupted: keeping the best configuration measured so far" in err
    assert not result["complete"]
    assert result["trials"][0]["chosen"]
    assert result["trials"][0]["verdict"] == "ok"
    assert {t["verdict"] for t in result["trials"][1:]} == {"interrupted"}


# endregion red-tune


def test_red_compile_tune_uses_the_tuner(monkeypatch, tmp_path):
    """red.compile(..., tune=True) is compile_tuned: the stored choice, searched on a miss."""
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    seen = []
    monkeypatch.setattr(
        "red.cache.tuning.compile_tuned", lambda module: seen.append(module) or "compiled"
    )
    examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
    module = red.parse_file(os.path.join(examples, "seed_chain.mlir"))

    assert red.compile(module, tune=True) == "compiled"
    assert seen == [module]
