"""red-run: call a function of a red module on .npy inputs or seeded random ones, through the
interpreter or the JIT, and print (and optionally save) its results."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from tokenize import TokenError
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import UnsupportedTypeError, numpy_dtype
from red.dialects.red_interpreter import ModuleRunner, argument_label
from red.dialects.symbols import is_private
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.testing.random_inputs import random_inputs
from red.tools import diagnostics
from red.tools.cli import (
    ArgumentParser,
    Outputs,
    ToolError,
    fail,
    guarded_main,
    read_input,
    require_functions,
    require_text,
)


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="red-run", description="run a function of a red module")
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
    p.add_argument(
        "--profile",
        nargs="?",
        const="text",
        choices=["text", "json"],
        default=None,
        help="time, FLOPs and bytes per op of the compiled function over the --repeat "
        "calls (after one warm-up call), sorted by time, on stderr",
    )
    p.add_argument(
        "--profile-trace",
        metavar="OUT.json",
        default=None,
        help="write the profile as a Chrome trace (Perfetto, chrome://tracing); implies --profile",
    )
    return p


def load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    """The arrays of .npy files, in native byte order (a big-endian file holds the same
    values); anything else is a ToolError naming the file."""
    return [load_npy(path) for path in paths]


def load_npy(path: str) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":  # numpy's own message would speak of pickles
                raise ToolError(f"could not read input '{path}': not a .npy file")
            f.seek(0)
            _check_npy_size(f, path)
            f.seek(0)
            array = np.load(f, allow_pickle=False)
    except OSError as err:
        raise ToolError(f"could not read input '{path}': {err.strerror}") from None
    except (ValueError, EOFError) as err:
        raise ToolError(f"could not read input '{path}': {err}") from None
    except (SyntaxError, TokenError):  # numpy reads the header with Python's tokenizer
        raise ToolError(f"could not read input '{path}': malformed .npy header") from None
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _check_npy_size(f: Any, path: str) -> None:
    """The data the header declares must be in the file: numpy allocates the whole array
    before reading, so a 100-byte file declaring 40 GB is an allocation failure otherwise."""
    from numpy.lib import format as npy

    version = npy.read_magic(f)
    read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, _, dtype = read_header(f)
    if dtype.hasobject:
        return  # np.load refuses pickles with its own message
    need = math.prod(shape) * dtype.itemsize
    have = os.fstat(f.fileno()).st_size - f.tell()
    if have < need:
        raise ToolError(
            f"could not read input '{path}': its header declares an array of shape "
            f"{'x'.join(map(str, shape)) or 'scalar'} and dtype {dtype} ({_format_bytes(need)}), "
            f"but the file holds {_format_bytes(have)} of data"
        )


def _format_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def memory_limit() -> int:
    """The bytes this process may allocate: physical memory, or less under `ulimit -v`."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return min(limit, soft) if soft != resource.RLIM_INFINITY else limit


def check_random_sizes(fn: func.FuncOp, limit: int) -> None:
    """A located error, rather than an allocation failure, when the arguments `--random`
    would draw do not fit in `limit` bytes."""
    sizes: list[tuple[int, int, TensorType]] = []
    for i, typ in enumerate(fn.function_type.inputs.data):
        if not isinstance(typ, TensorType):
            continue  # random_inputs says why it cannot draw this one
        try:
            itemsize = numpy_dtype(typ.get_element_type()).itemsize
        except UnsupportedTypeError:
            continue
        shape = [d for d in typ.get_shape() if d >= 0]
        sizes.append((math.prod(shape) * itemsize, i, typ))
    total = sum(n for n, _, _ in sizes)
    if total <= limit:
        return
    largest, index, typ = max(sizes, key=lambda s: s[0])
    detail = (
        f" (argument {argument_label(fn, index)} '{typ}' alone is {_format_bytes(largest)})"
        if len(sizes) > 1
        else f" for '{typ}'"
    )
    raise DiagnosticError.at(
        fn,
        f"the arguments of '@{fn.sym_name.data}' are too large to draw with --random: "
        f"{_format_bytes(total)}{detail}, more than the {_format_bytes(limit)} this process "
        "may allocate",
    )


def check_peak_memory(fn: func.FuncOp, limit: int) -> None:
    """A located error when the intermediates of `fn` cannot fit in `limit` bytes at their
    peak: compiled code does not survive a failed allocation (it would crash), so the JIT
    must not start."""
    from red.transforms.analysis.cost_model import peak_live_bytes

    peak = peak_live_bytes(fn)
    if isinstance(peak, int) and peak > limit:
        raise DiagnosticError.at(
            fn,
            f"'@{fn.sym_name.data}' needs {_format_bytes(peak)} of intermediate tensors at "
            f"its peak, more than the {_format_bytes(limit)} this process may allocate",
        )


def entry_function(runner: ModuleRunner, name: str) -> func.FuncOp:
    """The function red-run calls: defined and public (the ABI the JIT exports)."""
    fn = runner.function(name)
    if is_private(fn):
        raise DiagnosticError.at(
            fn, f"entry function '@{name}' is private: red-run calls public functions only"
        )
    if not fn.body.blocks:
        raise DiagnosticError.at(
            fn, f"entry function '@{name}' is a declaration: it has no body to run"
        )
    return fn


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


def make_caller(module: ModuleOp, fn: func.FuncOp, engine: str) -> Callable[..., tuple[Any, ...]]:
    entry = fn.sym_name.data
    if engine == "interp":
        runner = ModuleRunner(module)
        return lambda *args: runner.call(entry, *args)
    from red.lowering.jit import compile_module

    require_functions(module, "red-run --engine jit")
    check_peak_memory(fn, memory_limit())
    return compile_module(module).function(entry).call


def run_profiled(
    module: ModuleOp, fn: func.FuncOp, inputs: Sequence[Any], args: argparse.Namespace
) -> tuple[Any, ...]:
    """Compile an instrumented copy, run it --repeat times and print its profile (stderr:
    stdout keeps the results); with --profile-trace also write the Chrome trace."""
    from red.lowering.profile import Profiler

    require_functions(module, "red-run --profile")
    check_peak_memory(fn, memory_limit())
    profile, results = Profiler(module, fn.sym_name.data).run(*inputs, repeat=args.repeat)
    if args.profile == "json":
        print(json.dumps(profile.to_json(), indent=1), file=sys.stderr)
    else:
        print(profile.table(), file=sys.stderr)
    if args.profile_trace:
        trace = json.dumps(profile.chrome_trace())
        files = Outputs(inputs=[args.input])
        files.stage_text(args.profile_trace, trace)
        files.commit("trace file")
    return results


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if args.repeat < 1:
        return fail(f"--repeat expects a positive count, got {args.repeat}")
    if args.seed < 0:
        return fail(f"--seed expects a non-negative integer, got {args.seed}")
    engine = args.engine or default_engine()
    files = Outputs(inputs=[args.input, *(args.inputs or [])])
    if args.output_dir:
        check_output_dir(args.output_dir)
    try:
        text, filename = read_input(args.input)
        require_text(text, filename)
        module = parse_mlir(text, filename, make_context())
        verify_module(module)
        runner = ModuleRunner(module)
        fn = entry_function(runner, args.entry)
        if args.inputs:
            inputs = load_inputs(args.inputs)
        else:
            check_random_sizes(fn, memory_limit())
            inputs = random_inputs(fn, args.seed)
        runner.check_arguments(fn, inputs)
        if args.profile or args.profile_trace:
            if engine != "jit":
                return fail("--profile times compiled code: it needs --engine jit")
            results = run_profiled(module, fn, inputs, args)
            for i, r in enumerate(results):
                print(f"result{i}: {summarize(r)}")
            if args.output_dir:
                save_results(files, args.output_dir, results)
            return 0
        call = make_caller(module, fn, engine)
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
        return fail(str(err))
    for i, r in enumerate(results):
        print(f"result{i}: {summarize(r)}")
    if args.output_dir:
        save_results(files, args.output_dir, results)
    return 0


def check_output_dir(path: str) -> None:
    """Before any work: `--output-dir` must be a directory or creatable as one."""
    head = os.path.abspath(path)
    while not os.path.exists(head):
        head = os.path.dirname(head)
    if not os.path.isdir(head):
        raise ToolError(f"could not write results to '{path}': File exists")
    if not os.access(head, os.W_OK):
        raise ToolError(f"could not write results to '{path}': Permission denied")


def save_results(files: Outputs, directory: str, results: Sequence[Any]) -> None:
    """result0.npy, result1.npy, ... all written, or none (and no directory created)."""
    try:
        files.make_dir(directory)
    except OSError as err:
        raise ToolError(f"could not write results to '{directory}': {err.strerror}") from None
    for i, r in enumerate(results):
        array = np.asarray(r)
        files.stage(os.path.join(directory, f"result{i}.npy"), lambda f, a=array: np.save(f, a))
    files.commit("result file")


def default_engine() -> str:
    """The JIT when the lowering is available, else the interpreter."""
    try:
        import red.lowering.jit  # noqa: F401
    except ImportError:
        return "interp"
    return "jit"


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
