"""red-translate: `--mlir-to-llvmir` prints the LLVM IR of a module at any level (running
red-lower on what is not yet lowered; never red-pipeline)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from red.dialects.context import make_context
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.tools import diagnostics
from red.tools.red_opt import _ArgumentParser, _write_output, read_input


def build_arg_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="red-translate", description="translate MLIR to other formats")
    p.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    p.add_argument("--mlir-to-llvmir", action="store_true", required=True, help="emit LLVM IR")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    return p


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    from red.lowering.llvm_ir import module_to_llvm_ir

    text, filename = read_input(args.input)
    ctx = make_context()
    module = parse_mlir(text, filename, ctx)
    verify_module(module)
    _write_output(args.output, module_to_llvm_ir(module, ctx))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return diagnostics.guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
