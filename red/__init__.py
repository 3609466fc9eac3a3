"""red: a compiler that removes redundant computation from neural-network and LLM models.

import red
module = red.parse_file("examples/gpt_decoder.mlir")   # or red.builder / importers
red.optimize(module)                                   # red-pipeline, in place
compiled = red.compile(module)                         # LLVM JIT
logits = compiled.main(ids, wte, ...)                  # numpy in, numpy out
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.verifier import verify_module
from red.frontends.mlir_text import module_to_text, parse_mlir

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    from xdsl.dialects.builtin import ModuleOp

    from red.dialects.red_interpreter import ModuleRunner
    from red.frontends import builder
    from red.frontends.builder import ModuleBuilder
    from red.lowering.jit import CompiledModule


def __getattr__(name: str) -> Any:
    """`red.builder` and `red.ModuleBuilder` load on first use: the command-line tools
    import this package and should not pay for the builder and the interpreter."""
    if name == "builder":
        from red.frontends import builder

        return builder
    if name == "ModuleBuilder":
        from red.frontends.builder import ModuleBuilder

        return ModuleBuilder
    raise AttributeError(f"module 'red' has no attribute '{name}'")


__all__ = [
    "DiagnosticError",
    "ModuleBuilder",
    "bind_arguments",
    "builder",
    "compile",
    "interpret",
    "lower",
    "optimize",
    "parse",
    "parse_file",
    "report",
    "run_pipeline",
    "to_llvm_ir",
    "to_onnx",
    "to_text",
    "verify",
]


def parse(text: str, filename: str = "<string>") -> ModuleOp:
    """Parse and verify MLIR text (raises DiagnosticError with file:line:col)."""
    module = parse_mlir(text, filename, make_context())
    verify_module(module)
    return module


def parse_file(path: str) -> ModuleOp:
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path)


def verify(module: ModuleOp) -> None:
    """Verify the module, dominance included."""
    verify_module(module)


def to_text(module: ModuleOp, generic: bool = False) -> str:
    return module_to_text(module, generic=generic)


def run_pipeline(
    module: ModuleOp, pipeline: str, verify_equivalence: int | None = None
) -> ModuleOp:
    """Run passes given as `-p` spells them (`"cse,canonicalize{fast-math=true}"`) in place;
    with verify_equivalence=N, check results after every pass as red-opt does."""
    from red.passes.pass_manager import PassInstrumentation, PassManager
    from red.passes.registry import parse_pass_list

    instrumentations: list[PassInstrumentation] = []
    if verify_equivalence:
        from red.transforms.analysis.equivalence import EquivalenceInstrumentation

        instrumentations.append(EquivalenceInstrumentation(module, verify_equivalence))
    PassManager(parse_pass_list(pipeline), instrumentations).run(make_context(), module)
    return module


def optimize(module: ModuleOp, strict_fp: bool = False) -> ModuleOp:
    """red-pipeline in place (strict_fp keeps only exact rewrites)."""
    return run_pipeline(module, "red-pipeline{strict-fp=true}" if strict_fp else "red-pipeline")


def report(module: ModuleOp, pipeline: str = "red-pipeline") -> dict[str, Any]:
    """The redundancy report (the JSON of red-opt) of running a pipeline on a copy of the
    module; the module itself is left as it is (`optimize` changes it)."""
    from red.passes.pass_manager import PassManager
    from red.passes.registry import parse_pass_list
    from red.transforms.analysis.redundancy_report import ReportInstrumentation

    work = module.clone()
    inst = ReportInstrumentation(work)
    PassManager(parse_pass_list(pipeline), [inst]).run(make_context(), work)
    return inst.finish(work)


def lower(module: ModuleOp) -> ModuleOp:
    """red-lower in place: the module ends in the llvm dialect."""
    from red.lowering.red_lower import lower_module

    lower_module(module, verify=True)
    return module


def to_llvm_ir(module: ModuleOp) -> str:
    """LLVM IR text (the module itself is left as it is)."""
    from red.lowering.llvm_ir import module_to_llvm_ir

    return module_to_llvm_ir(module)


def compile(
    module: ModuleOp,
    opt: int = 3,
    threads: int | None = None,
    tune: bool = False,
    matmul_precision: str | None = None,
) -> CompiledModule:
    """JIT-compile: returns an object whose attributes are the public functions. `threads`:
    how many threads its matmuls and row kernels use (default: the RED_NUM_THREADS
    environment variable, else the CPUs this process may use, os.sched_getaffinity); every
    call of a compiled function is made from, and returns on, the calling thread. `tune`:
    the configuration `red-tune` chose for this module on this machine (searched first, and
    stored, when there is none): its pipeline runs on a copy, its arguments replace `opt`
    and `threads`. `matmul_precision`: "f32" (the default, or the RED_MATMUL_PRECISION
    environment variable), or "bf16", PyTorch's "medium" float32 matmul precision: matmuls
    by the module's large constant weights (64 KiB and more) round both operands to bfloat16
    and accumulate in f32, on AMX or AVX512-BF16 (about 1e-3 relative error against f32;
    where the CPU has neither, a RuntimeWarning and f32). Other matmuls stay f32."""
    if tune:
        from red.cache.tuning import compile_tuned

        return compile_tuned(module)
    from red.lowering.jit import compile_module

    return compile_module(module, opt, threads, matmul_precision)


def profile(
    module: ModuleOp,
    *args: Any,
    function: str = "main",
    repeat: int = 10,
    opt: int = 3,
    threads: int | None = None,
) -> Any:
    """Time `@function` of a compiled copy of `module` op by op over `repeat` calls on
    `args` (what `red-run --profile` prints): a `red.lowering.profile.Profile` with
    `.table()`, `.to_json()`, `.chrome_trace()`, `.ops` (seconds, FLOPs, bytes, location)."""
    from red.lowering.profile import Profiler

    report, _ = Profiler(module, function, opt=opt, threads=threads).run(*args, repeat=repeat)
    return report


def bind_arguments(
    module: ModuleOp, function: str, arrays_by_argument_index: Mapping[int, np.ndarray]
) -> ModuleOp:
    """Make arguments of `@function` constants holding the given arrays, in place (large
    ones as dense resources viewing the arrays: do not write into them afterwards): an
    import with its weights as arguments then compiles with them as constants, which the
    kernel library packs once. `ValueError` names a bad index, shape or dtype."""
    from red.transforms.bind_arguments import bind_arguments as bind

    bind(module, function, arrays_by_argument_index)
    return module


def to_onnx(module: ModuleOp, **options: Any) -> Any:
    """The module's `@main` (or `function=`) as an ONNX model (opset 17+; memo results
    precomputed where their weights are known; locations kept as node names); options as
    `red.frontends.onnx.to_onnx`. Needs the `red[onnx]` extra."""
    from red.frontends.onnx import to_onnx as export

    return export(module, **options)


def interpret(module: ModuleOp) -> ModuleRunner:
    """The reference interpreter: `interpret(m).call("main", *arrays)`."""
    from red.dialects.red_interpreter import ModuleRunner

    return ModuleRunner(module)
