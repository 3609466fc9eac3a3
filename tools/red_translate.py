"""red-translate: `--mlir-to-llvmir` prints the LLVM IR of a module at any level (running
red-lower on what is not yet lowered; never red-pipeline). A public function with `?` dims
comes with the sized ABI: `int32_t red_f(T *a, int64_t a_d<j>..., ..., R *r, ...)` and
`int32_t red_f_result_shape(const int64_t *in_dims, int64_t *out_dims)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from red.dialects.context import make_context
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import parse_mlir
from red.tools.cli import (
    ArgumentParser,
    Outputs,
    guarded_main,
    read_input,
    require_functions,
    require_text,
)


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="red-translate", description="translate MLIR to other formats")
    p.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    p.add_argument("--mlir-to-llvmir", action="store_true", required=True, help="emit LLVM IR")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    return p


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    files = Outputs(inputs=[args.input])
    files.check(args.output)
    from red.lowering.llvm_ir import module_to_llvm_ir

    text, filename = read_input(args.input)
    require_text(text, filename)
    ctx = make_context()
    module = parse_mlir(text, filename, ctx)
    verify_module(module)
    require_functions(module, "red-translate")
    files.stage_text(args.output, module_to_llvm_ir(module, ctx))
    files.commit()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
