"""red-import: import an ONNX model as a red module (MLIR text), following mlir-opt's conventions
for output and diagnostics (DESIGN.md §5, §6)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from red.frontends.mlir_text import Resources, render_module
from red.tools.cli import (
    ArgumentParser,
    Outputs,
    ToolError,
    add_resource_options,
    check_external_data,
    fail,
    guarded_main,
    require_regular_file,
    stage_module,
)

_SHAPE = re.compile(r"^(?P<name>.+)=(?P<dims>\d+(?:x\d+)*)?$")


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="red-import", description="import an ONNX model as a red module")
    p.add_argument("input", help="the .onnx model")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="static shape of a graph input, e.g. input_ids=1x128, fixing its symbolic dims "
        "(repeatable; 'NAME=' is a scalar); without it a symbolic dim imports as '?', named "
        "in the argument's red.dims",
    )
    p.add_argument(
        "--weights-as-args",
        action="store_true",
        help="make floating-point initializers trailing {red.invariant} arguments",
    )
    p.add_argument(
        "--unroll-recurrences",
        action="store_true",
        help="unroll LSTM/GRU/RNN over the time steps (default: an scf.for loop)",
    )
    add_resource_options(p)
    p.add_argument("--mlir-print-debuginfo", action="store_true", help="print op locations")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print ops in generic form")
    return p


def parse_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """`NAME=DIMS` flags as a dict; a malformed or repeated flag is a ToolError."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        m = _SHAPE.match(spec)
        if m is None:
            raise ToolError(
                f"--shape expects NAME=DIMS with DIMS like 1x128 (or empty for a scalar), "
                f"got '{spec}'"
            )
        name, dims = m.group("name"), m.group("dims")
        if name in shapes:
            raise ToolError(f"--shape gives input '{name}' twice")
        shapes[name] = tuple(int(d) for d in dims.split("x")) if dims else ()
    return shapes


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    shapes = parse_shapes(args.shape)
    files = Outputs(inputs=[args.input])
    files.check(args.output)
    check_external_data(files, args.output, args.external_data)
    require_regular_file(args.input)
    try:
        from red.frontends.onnx import OnnxLoadError, import_onnx
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] != "onnx":
            raise  # red's own import failing is an internal error, not a missing extra
        return fail(f"red-import needs the 'onnx' package (pip install 'red[onnx]'): {err}")
    try:
        module = import_onnx(
            args.input,
            shapes,
            weights_as_args=args.weights_as_args,
            unroll_recurrences=args.unroll_recurrences,
            resource_threshold=args.resource_threshold,
        )
    except OnnxLoadError as err:
        return fail(err.message)
    printed = render_module(
        module,
        generic=args.mlir_print_op_generic,
        debuginfo=args.mlir_print_debuginfo,
        resources=Resources(threshold=args.resource_threshold),
    )
    stage_module(files, args.output, printed, args.external_data, args.external_data_threshold)
    files.commit()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
