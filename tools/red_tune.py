"""red-tune: find the fastest configuration of a function on this machine whose results match
the reference interpreter's (issue 15.3), print what was tried and why the choice was made,
and store the choice in the compile cache for `red.compile(..., tune=True)` to reuse.

    red-tune model.mlir [--function main] [--inputs N] [--repeat K] [--threads 1,2] [--json]
                        [--retune]

Ctrl-C ends the search after the candidate being measured and keeps (and stores) the best so
far; a second Ctrl-C aborts. Bad input is a located error and exit code 1 (DESIGN.md §6)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from xdsl.dialects import func

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbols import is_private
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.tools import diagnostics
from red.tools.cli import (
    ArgumentParser,
    ToolError,
    guarded_main,
    read_input,
    require_functions,
    require_text,
)
from red.tools.red_run import check_peak_memory, check_random_sizes, memory_limit

STOP = threading.Event()
"""Set by the first Ctrl-C: the search stops after the candidate being measured."""


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="red-tune",
        description="measure candidate configurations of a function, reject those whose "
        "results differ from the interpreter's, and keep the fastest",
    )
    p.add_argument("input", help="the .mlir module (before red-pipeline: the tuner runs it)")
    p.add_argument("--function", default="main", help="the function to tune (default: main)")
    p.add_argument(
        "--inputs",
        type=int,
        default=3,
        metavar="N",
        help="random inputs each candidate is validated on (default 3)",
    )
    p.add_argument(
        "--repeat", type=int, default=20, metavar="K", help="timed calls per candidate (default 20)"
    )
    p.add_argument(
        "--threads",
        default=None,
        metavar="N,M,...",
        help="thread counts to try (default: 1 to the CPUs this process may use)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--retune", action="store_true", help="search again even if a choice is stored")
    return p


def parse_counts(flag: str, text: str) -> tuple[int, ...]:
    """`1,2,4` -> (1, 2, 4): positive integers, each once."""
    counts: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise ToolError(f"{flag} expects positive integers separated by commas, got '{text}'")
        if int(part) not in counts:
            counts.append(int(part))
    return tuple(counts)


def tuned_function(runner: ModuleRunner, name: str) -> func.FuncOp:
    """The function to tune: defined and public (what red.compile exports)."""
    fn = runner.function(name)
    if is_private(fn):
        raise DiagnosticError.at(
            fn, f"'@{name}' is private: red-tune tunes public functions (what red.compile exports)"
        )
    if not fn.body.blocks:
        raise DiagnosticError.at(fn, f"'@{name}' is a declaration: it has no body to tune")
    return fn


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if args.inputs < 1:
        raise ToolError(f"--inputs expects a positive count, got {args.inputs}")
    if args.repeat < 1:
        raise ToolError(f"--repeat expects a positive count, got {args.repeat}")
    from red.cache.tuning import KNOBS, available_knobs, tune

    overrides: dict[str, tuple[int, ...]] = {}
    if args.threads is not None:
        overrides["threads"] = parse_counts("--threads", args.threads)
        if "threads" not in {k.name for k in available_knobs(KNOBS)}:
            raise ToolError("--threads: red.compile of this build takes no 'threads' argument")
    text, filename = read_input(args.input)
    require_text(text, filename)
    module = parse_mlir(text, filename, make_context())
    verify_module(module)
    require_functions(module, "red-tune")
    fn = tuned_function(ModuleRunner(module), args.function)
    check_random_sizes(fn, memory_limit())
    check_peak_memory(fn, memory_limit())

    def progress(line: str) -> None:
        print(f"red-tune: {line}", file=sys.stderr, flush=True)

    result = tune(
        module,
        args.function,
        inputs=args.inputs,
        repeat=args.repeat,
        overrides=overrides,
        retune=args.retune,
        stop=STOP,
        progress=progress,
    )
    if args.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        print(result.table())
    if result.config is None:
        diagnostics.emit(
            DiagnosticError.at(
                fn,
                f"no configuration of '@{args.function}' passed validation "
                f"({len(result.trials)} tried): nothing was chosen or stored",
            )
        )
        return 1
    return 0


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """The first Ctrl-C asks the search to stop; the next one aborts."""
    del signum, frame
    print(
        "red-tune: interrupted: keeping the best configuration measured so far "
        "(Ctrl-C again to abort)",
        file=sys.stderr,
        flush=True,
    )
    STOP.set()
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    STOP.clear()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_interrupt) if in_main_thread else None
    try:
        return guarded_main(run, argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
