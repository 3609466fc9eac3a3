"""The tuner (issue 15.3) on the examples: every candidate configuration validated against the
interpreter and timed on this machine, with the unoptimised module as one more candidate (a
pipeline knob added here the way a new knob is added: one entry), so the table shows what
red-pipeline and each knob are worth, side by side, in one run.

    python bench/tune.py [--repeat K] [--inputs N] [--quick] [examples/x.mlir ...]

The search runs afresh (an in-memory store: nothing is read from or written to the compile
cache); `--quick` tunes only examples/seed_chain.mlir and gpt_decoder.mlir."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Any

import red
from red.cache.store import MemoryStore
from red.cache.tuning import KNOBS, Build, Knob, PipelineOption, tune

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = ["seed_chain.mlir", "gpt_decoder.mlir", "lstm_classifier.mlir"]
QUICK = ["seed_chain.mlir", "gpt_decoder.mlir"]


@dataclass(frozen=True)
class Pipeline(Knob):
    """red-pipeline with or without strict-fp, or no pipeline at all (the module compiled as
    given): replaces the strict-fp knob of the default search."""

    name: str = "pipeline"
    values: tuple[str, ...] = ("red-pipeline", "red-pipeline{strict-fp=true}", "none")

    def candidates(self, overrides: Any) -> tuple[Any, ...]:
        return self.values

    def apply(self, value: Any, build: Build) -> None:
        if value == "none":
            build.pipeline_options = None
        elif value.endswith("{strict-fp=true}"):
            build.pipeline_options = {"strict-fp": True}
        else:
            build.pipeline_options = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="modules to tune (default: the examples)")
    parser.add_argument("--repeat", type=int, default=10, help="timed samples per candidate")
    parser.add_argument("--inputs", type=int, default=3, help="validation inputs")
    parser.add_argument("--quick", action="store_true", help="two small examples")
    args = parser.parse_args()
    names = QUICK if args.quick else EXAMPLES
    files = args.files or [os.path.join(ROOT, "examples", n) for n in names]
    knobs = [Pipeline(), *(k for k in KNOBS if not isinstance(k, PipelineOption))]
    for path in files:
        module = red.parse_file(path)
        start = time.perf_counter()
        result = tune(
            module, knobs=knobs, store=MemoryStore(1 << 20), inputs=args.inputs,
            repeat=args.repeat,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        print(f"== {os.path.relpath(path, ROOT)}: {len(result.trials)} candidates, "
              f"{args.inputs} validation inputs, {args.repeat} samples each, search {seconds:.1f} s ==")  # fmt: skip
        print(result.table())
        default = result.trials[0]
        unoptimised = [t for t in result.trials if t.config.get("pipeline") == "none"]
        chosen = result.chosen
        if chosen is not None and chosen.seconds and unoptimised and unoptimised[0].seconds:
            base = unoptimised[0]
            print(f"search medians: unoptimised ({base.describe()}) / chosen: "
                  f"{base.seconds / chosen.seconds:.2f}x; default ({default.describe()}) / "  # type: ignore[operator]
                  f"chosen: {(default.seconds or float('nan')) / chosen.seconds:.2f}x")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
