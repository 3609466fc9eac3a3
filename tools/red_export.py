"""red-export: write one function of a red module (MLIR text, usually after red-pipeline) as an
ONNX model of standard ops that onnxruntime runs (DESIGN.md §10); bad input is a located
error and exit code 1, and the output file is written only when the export succeeds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from red.dialects.context import make_context
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.tools.cli import (
    ArgumentParser,
    Outputs,
    ToolError,
    fail,
    guarded_main,
    read_input,
    require_text,
)


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="red-export", description="write a red function as an ONNX model")
    p.add_argument("input", nargs="?", default="-", help="input .mlir file (default: stdin)")
    p.add_argument("-o", "--output", default="-", help="output .onnx file (default: stdout)")
    p.add_argument("--entry", default="main", help="the function to export (default: main)")
    p.add_argument(
        "--opset",
        type=int,
        default=None,
        help="ONNX opset (from 17 to the newest onnx defines; default 17)",
    )
    p.add_argument(
        "--weights",
        metavar="FILE.npz",
        help="arrays for the red.invariant arguments, named by their SSA names: they become "
        "initializers and the memos keyed on them are computed at export time",
    )
    p.add_argument(
        "--max-fold-bytes",
        type=int,
        default=None,
        help="largest constant a memo computed at export time may add (default 1 MiB)",
    )
    return p


def load_weights(path: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz file by name (no pickles)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ToolError(f"--weights '{path}' is not an .npz archive")
            return {name: data[name] for name in data.files}
    except OSError as err:
        reason = err.strerror or str(err)
        raise ToolError(f"could not read --weights '{path}': {reason}") from None
    except ValueError as err:
        raise ToolError(f"could not read --weights '{path}': {err}") from None


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    files = Outputs(inputs=[args.input])
    files.check(args.output, may_be_input=False)
    if args.output == "-" and sys.stdout.isatty():
        raise ToolError("refusing to write a binary ONNX model to a terminal: give -o FILE")
    try:
        from red.frontends.onnx.export import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, to_onnx
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] != "onnx":
            raise  # red's own import failing is an internal error, not a missing extra
        return fail(f"red-export needs the 'onnx' package (pip install 'red[onnx]'): {err}")
    opset = DEFAULT_OPSET if args.opset is None else args.opset
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ToolError(f"--opset must be from {MIN_OPSET} to {MAX_OPSET}, got {opset}")
    if args.max_fold_bytes is not None and args.max_fold_bytes < 0:
        raise ToolError(f"--max-fold-bytes must be >= 0, got {args.max_fold_bytes}")
    weights = load_weights(args.weights) if args.weights else None
    text, filename = read_input(args.input)
    require_text(text, filename)
    module = parse_mlir(text, filename, make_context())
    verify_module(module)
    options: dict[str, Any] = {}
    if args.max_fold_bytes is not None:
        options["max_fold_bytes"] = args.max_fold_bytes
    model = to_onnx(module, function=args.entry, weights=weights, opset=opset, **options)
    try:
        data = model.SerializeToString()
    except ValueError as err:  # protobuf's 2 GiB limit
        raise ToolError(f"the ONNX model cannot be serialized: {err}") from None
    files.stage(args.output, lambda f: f.write(data))
    files.commit()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
