"""red-import: import an ONNX model as a red module (MLIR text), following mlir-opt's conventions
for output and diagnostics (DESIGN.md §5, §6)."""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Sequence

from red.dialects.diagnostics import DiagnosticError
from red.frontends.mlir_text import print_module
from red.tools import diagnostics
from red.tools.red_opt import _ArgumentParser, _write_output

_SHAPE = re.compile(r"^(?P<name>.+)=(?P<dims>\d+(?:x\d+)*)?$")


def build_arg_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="red-import", description="import an ONNX model as a red module")
    p.add_argument("input", help="the .onnx model")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="static shape of a graph input, e.g. input_ids=1x128 (repeatable; "
        "'NAME=' is a scalar)",
    )
    p.add_argument(
        "--weights-as-args",
        action="store_true",
        help="make floating-point initializers trailing {red.invariant} arguments",
    )
    p.add_argument("--mlir-print-debuginfo", action="store_true", help="print op locations")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print ops in generic form")
    return p


def parse_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """`NAME=DIMS` flags as a dict; a malformed or repeated flag is a SystemExit(1) error."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        m = _SHAPE.match(spec)
        if m is None:
            diagnostics.error(
                f"--shape expects NAME=DIMS with DIMS like 1x128 (or empty for a scalar), "
                f"got '{spec}'"
            )
            raise SystemExit(1)
        name, dims = m.group("name"), m.group("dims")
        if name in shapes:
            diagnostics.error(f"--shape gives input '{name}' twice")
            raise SystemExit(1)
        shapes[name] = tuple(int(d) for d in dims.split("x")) if dims else ()
    return shapes


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    shapes = parse_shapes(args.shape)
    try:
        from red.frontends.onnx_importer import OnnxLoadError, import_onnx
    except ImportError as err:  # the optional extra `red[onnx]` is not installed
        diagnostics.error(f"red-import needs the 'onnx' package (pip install 'red[onnx]'): {err}")
        return 1
    try:
        module = import_onnx(args.input, shapes, weights_as_args=args.weights_as_args)
    except OnnxLoadError as err:
        diagnostics.error(err.message)
        return 1
    except DiagnosticError as err:
        diagnostics.emit(err)
        return 1
    buf = io.StringIO()
    print_module(
        module, buf, generic=args.mlir_print_op_generic, debuginfo=args.mlir_print_debuginfo
    )
    _write_output(args.output, buf.getvalue())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return diagnostics.guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
