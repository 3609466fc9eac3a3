"""red-opt: parse, verify, transform and print red modules, following mlir-opt's conventions."""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import (
    Chunk,
    PrintedModule,
    Resources,
    forget_resources,
    parse_mlir,
    render_module,
    split_input,
)
from red.passes.pass_manager import (
    PassInstrumentation,
    PassManager,
    TimingInstrumentation,
    pass_label,
)
from red.passes.registry import (
    PipelineError,
    available_passes,
    flatten_anchored_pipeline,
    parse_pass_list,
)
from red.tools import diagnostics
from red.tools.cli import (
    ArgumentParser,
    Outputs,
    ToolError,
    add_resource_options,
    check_external_data,
    fail,
    guarded_main,
    read_input,
    require_text,
    stage_module,
    write_stdout,
)

DEFAULT_EQUIVALENCE_BUDGET = 20.0
"""Seconds of per-pass `--verify-equivalence` checks before they collapse into one check at the
end: a large module otherwise spends minutes interpreting after every pipeline step."""


def build_arg_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="red-opt", description="red's modular optimizer driver")
    p.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    p.add_argument(
        "-p",
        "--passes",
        default=None,
        help="comma-separated passes, e.g. cse,canonicalize{fast-math=true}",
    )
    p.add_argument(
        "--pass-pipeline",
        default=None,
        help="MLIR textual pipeline, e.g. 'builtin.module(cse,dce)'",
    )
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.add_argument("-t", "--target", choices=["mlir", "llvm"], default="mlir", help="output format")
    p.add_argument(
        "--split-input-file", action="store_true", help="process each '// -----' chunk separately"
    )
    p.add_argument(
        "--verify-diagnostics",
        action="store_true",
        help="check emitted diagnostics against expected-* annotations",
    )
    p.add_argument("--allow-unregistered-dialect", action="store_true")
    p.add_argument(
        "--mlir-print-ir-after-all",
        action="store_true",
        help="print the IR after every pass to stderr",
    )
    p.add_argument("--mlir-timing", action="store_true", help="print pass timings to stderr")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print ops in generic form")
    p.add_argument("--mlir-print-debuginfo", action="store_true", help="print op locations")
    p.add_argument(
        "--verify-equivalence",
        nargs="?",
        const=3,
        type=int,
        default=None,
        metavar="N",
        help="after every pass, compare interpreter results on N seeded random inputs",
    )
    p.add_argument(
        "--verify-equivalence-budget",
        type=float,
        default=DEFAULT_EQUIVALENCE_BUDGET,
        metavar="SECONDS",
        help="time for the per-pass checks; past it, one check at the end of the pipeline "
        f"(default {DEFAULT_EQUIVALENCE_BUDGET:g})",
    )
    p.add_argument(
        "--redundancy-report",
        nargs="?",
        const="text",
        choices=["text", "json"],
        default=None,
        help="report what the pipeline removed (to stderr or --report-file)",
    )
    p.add_argument("--report-file", default=None, help="write the redundancy report to PATH")
    p.add_argument(
        "--assume",
        default=None,
        metavar="NAME=SIZE,...",
        help="evaluate the report's costs in dynamic dims at these sizes, e.g. seq=128,batch=1",
    )
    p.add_argument("--list-passes", action="store_true", help="list registered passes and exit")
    add_resource_options(p)
    return p


class PrintIRAfterAll(PassInstrumentation):
    """The IR after every pass, to stderr; dense resource blobs are elided (the handles
    print, not megabytes of hex per pass), as mlir-opt's `--mlir-elide-resource-strings`."""

    def __init__(self, generic: bool, resource_threshold: int | None):
        self.generic = generic
        self.resource_threshold = resource_threshold

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        print(f"// -----// IR Dump After {pass_label(pass_)} //----- //", file=sys.stderr)
        resources = Resources(threshold=self.resource_threshold)
        sys.stderr.write(render_module(module, generic=self.generic, resources=resources).ir)
        sys.stderr.write("\n")


@dataclass
class Options:
    passes: list[ModulePass]
    target: str
    generic: bool
    debuginfo: bool
    print_ir_after_all: bool
    timing: bool
    equivalence_inputs: int | None
    equivalence_budget: float
    report_format: str | None
    report_file: str | None
    allow_unregistered: bool
    resource_threshold: int | None = None
    assume: dict[str, int] | None = None
    reports: list[dict] = field(default_factory=list[dict])


def _pipeline(args: argparse.Namespace) -> list[ModulePass]:
    specs: list[str] = []
    if args.pass_pipeline and (flat := flatten_anchored_pipeline(args.pass_pipeline)):
        specs.append(flat)  # `builtin.module()` is empty: no leading comma before `-p`'s passes
    if args.passes:
        specs.append(args.passes)
    return parse_pass_list(",".join(specs)) if specs else []


def process_chunk(
    chunk: Chunk, filename: str, opts: Options, timing: TimingInstrumentation | None
) -> str | PrintedModule:
    """Parse, verify, transform and print one chunk; raise DiagnosticError on bad input."""
    ctx: Context = make_context(opts.allow_unregistered)
    forget_resources()  # the previous chunk is printed: its blob names may be reused
    start = time.perf_counter()
    module = parse_mlir(chunk.text, filename, ctx, chunk.line_offset)
    verify_module(module)
    if timing is not None:
        timing.add("Parser", time.perf_counter() - start)
    instrumentations: list[PassInstrumentation] = []
    if opts.print_ir_after_all:
        instrumentations.append(PrintIRAfterAll(opts.generic, opts.resource_threshold))
    if timing is not None:
        instrumentations.append(timing)
    report = None
    if opts.report_format is not None:
        from red.transforms.analysis.redundancy_report import ReportInstrumentation

        report = ReportInstrumentation(module)
        instrumentations.append(report)
    equivalence = None
    if opts.equivalence_inputs is not None:
        from red.transforms.analysis.equivalence import EquivalenceInstrumentation

        equivalence = EquivalenceInstrumentation(
            module, opts.equivalence_inputs, budget=opts.equivalence_budget
        )
        instrumentations.append(equivalence)
    PassManager(opts.passes, instrumentations).run(ctx, module)
    if equivalence is not None:
        equivalence.finish(module)
    if report is not None:
        opts.reports.append(report.finish(module))
    start = time.perf_counter()
    if opts.target == "llvm":
        from red.lowering.llvm_ir import module_to_llvm_ir

        text: str | PrintedModule = module_to_llvm_ir(module, ctx)
    else:
        text = render_module(
            module,
            generic=opts.generic,
            debuginfo=opts.debuginfo,
            resources=Resources(threshold=opts.resource_threshold),
        )
    if timing is not None:
        timing.add("Output", time.perf_counter() - start)
    return text


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if args.list_passes:
        print("\n".join(available_passes()))
        return 0
    try:
        passes = _pipeline(args)
    except PipelineError as err:
        return fail(str(err))
    if not (budget := args.verify_equivalence_budget) >= 0:  # NaN included
        return fail(f"--verify-equivalence-budget expects seconds >= 0, got {budget:g}")
    assume = None
    if args.assume is not None:
        from red.dialects.red.dims import parse_assumptions

        try:
            assume = parse_assumptions(args.assume)
        except ValueError as err:
            return fail(f"--assume: {err}")
    if args.verify_equivalence is not None and args.verify_equivalence < 1:
        return fail(f"--verify-equivalence expects a positive count, got {args.verify_equivalence}")
    opts = Options(
        passes=passes,
        target=args.target,
        generic=args.mlir_print_op_generic,
        debuginfo=args.mlir_print_debuginfo,
        print_ir_after_all=args.mlir_print_ir_after_all,
        timing=args.mlir_timing,
        equivalence_inputs=args.verify_equivalence,
        equivalence_budget=args.verify_equivalence_budget,
        report_format=args.redundancy_report,
        report_file=args.report_file,
        allow_unregistered=args.allow_unregistered_dialect,
        resource_threshold=args.resource_threshold,
        assume=assume,
    )
    files = Outputs(inputs=[args.input])
    files.check(args.output)
    check_external_data(files, args.output, args.external_data)
    if args.external_data is not None and args.split_input_file:
        raise ToolError("--external-data applies to one module: not with --split-input-file")
    if args.report_file:
        files.check(args.report_file, "report file", may_be_input=False)
    text, filename = read_input(args.input)
    require_text(text, filename)
    timing = TimingInstrumentation() if args.mlir_timing else None
    outputs: list[str | PrintedModule] = []
    failed = False
    for chunk in split_input(text, args.split_input_file):
        if args.verify_diagnostics:
            found: list[DiagnosticError] = []
            result = None
            try:
                result = process_chunk(chunk, filename, opts, timing)
            except DiagnosticError as err:
                found.append(err)
            expected = diagnostics.parse_expectations(chunk.text, chunk.line_offset)
            failures = diagnostics.check_expectations(found, expected, filename)
            for f in failures:
                print(f, file=sys.stderr)
            failed |= bool(failures)
            if result is not None and not found:
                outputs.append(result)
            continue
        try:
            outputs.append(process_chunk(chunk, filename, opts, timing))
        except DiagnosticError as err:
            diagnostics.emit(err)
            failed = True
    if len(outputs) == 1 and isinstance(outputs[0], PrintedModule) and not failed:
        # one module: its blobs written a chunk at a time, or to an external data file
        stage_module(
            files, args.output, outputs[0], args.external_data, args.external_data_threshold
        )
    else:
        result_text = "// -----\n".join(_text(o) for o in outputs)
        if args.output == "-":
            write_stdout(result_text)  # as mlir-opt: the chunks that succeeded, even if one failed
        else:
            files.stage_text(args.output, result_text)
    if timing is not None:
        print(timing.report(), file=sys.stderr)
    if opts.report_format is not None and opts.reports:
        from red.transforms.analysis.redundancy_report import render_report

        rendered = render_report(opts.reports, opts.report_format, opts.assume)
        if opts.report_file:
            files.stage_text(opts.report_file, rendered)
        else:
            sys.stderr.write(rendered)
    if failed:
        return 1  # files are written only by a run that succeeds
    files.commit()
    return 0


def _text(output: str | PrintedModule) -> str:
    if isinstance(output, str):
        return output
    buf = io.StringIO()
    output.write(buf)
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
