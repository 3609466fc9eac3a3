"""red-run: call a function of a red module on .npy inputs or seeded random ones, through the
interpreter or the JIT, and print (and optionally save) its results."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.testing.random_inputs import random_inputs
from red.tools import diagnostics
from red.tools.red_opt import _ArgumentParser, read_input


def build_arg_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="red-run", description="run a function of a red module")
    p.add_argument("input", help="the .mlir module")
    p.add_argument("--entry", default="main", help="function to call (default: main)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--inputs", nargs="+", metavar="A.npy", help="one .npy file per argument, in order"
    )
    src.add_argument("--random", action="store_true", help="seeded random arguments")
    p.add_argument("--seed", type=int, default=0, help="seed for --random (default 0)")
    p.add_argument("--engine", choices=["jit", "interp"], default=None, help="default: jit")
    p.add_argument(
        "--repeat", type=int, default=1, help="call N times; results are the last call's"
    )
    p.add_argument("--output-dir", default=None, help="write result0.npy, result1.npy, ...")
    return p


def load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    arrays = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                if f.read(6) != b"\x93NUMPY":  # numpy's own message would speak of pickles
                    raise SystemExit(_fail(f"could not read input '{path}': not a .npy file"))
            arrays.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as err:
            raise SystemExit(_fail(f"could not read input '{path}': {err}")) from None
    return arrays


def _fail(message: str) -> int:
    diagnostics.error(message)
    return 1


def summarize(value: Any) -> str:
    arr = np.asarray(value)
    shape = "x".join(map(str, arr.shape)) or "scalar"
    head = np.array2string(arr.reshape(-1)[:6], precision=5, separator=", ")
    text = f"shape {shape} dtype {arr.dtype}"
    if arr.size and np.issubdtype(arr.dtype, np.number):
        with np.errstate(all="ignore"):  # inf + -inf in the mean is a summary, not an error
            mean = arr.mean(dtype=np.float64)
        text += f" min {arr.min():.6g} max {arr.max():.6g} mean {mean:.6g}"
    return f"{text} first {head}"


def make_caller(module: Any, entry: str, engine: str) -> Callable[..., tuple[Any, ...]]:
    if engine == "interp":
        runner = ModuleRunner(module)
        runner.function(entry)  # an unknown entry is an error before any call
        return lambda *args: runner.call(entry, *args)
    from red.lowering.jit import compile_module

    return compile_module(module).function(entry).call


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if args.repeat < 1:
        return _fail(f"--repeat expects a positive count, got {args.repeat}")
    engine = args.engine or default_engine()
    try:
        text, filename = read_input(args.input)
        module = parse_mlir(text, filename, make_context())
        verify_module(module)
        runner = ModuleRunner(module)
        fn = runner.function(args.entry)
        inputs = load_inputs(args.inputs) if args.inputs else random_inputs(fn, args.seed)
        runner.check_arguments(fn, inputs)
        call = make_caller(module, args.entry, engine)
        results: tuple[Any, ...] = ()
        for i in range(args.repeat):
            start = time.perf_counter()
            results = call(*inputs)
            elapsed = time.perf_counter() - start
            if args.repeat > 1:
                print(f"call {i}: {elapsed * 1e3:.3f} ms")
    except DiagnosticError as err:
        diagnostics.emit(err)
        return 1
    except ValueError as err:
        return _fail(str(err))
    for i, r in enumerate(results):
        print(f"result{i}: {summarize(r)}")
    if args.output_dir:
        try:
            os.makedirs(args.output_dir, exist_ok=True)
            for i, r in enumerate(results):
                np.save(os.path.join(args.output_dir, f"result{i}.npy"), np.asarray(r))
        except OSError as err:
            return _fail(f"could not write results to '{args.output_dir}': {err.strerror}")
    return 0


def default_engine() -> str:
    """The JIT when the lowering is available, else the interpreter."""
    try:
        import red.lowering.jit  # noqa: F401
    except ImportError:
        return "interp"
    return "jit"


def main(argv: Sequence[str] | None = None) -> int:
    return diagnostics.guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
