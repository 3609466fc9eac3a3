"""Compile-time benchmark: red's passes must scale linearly (issue 3, item 7).

1. GPT-style modules of about 1k, 10k and 100k ops: seconds and ops/s for parse, each pass
   of red-pipeline's steps and print, and the 100k/10k time ratio (a linear step gives ~10).
2. red's cse and canonicalize against xDSL 0.74's (what `xdsl-opt -p cse` runs) on the same
   arith-only module, and on the trap of DESIGN.md §9: many pure scf.if on one condition.
3. red-lower's steps (convert-red-to-loops, convert-scf-to-cf, convert-to-llvm, LLVM IR
   text) on GPT-style modules of about 1k and 10k tensor ops, with the 10k/1k time ratio.
4. convert-scf-to-cf, red's against xDSL 0.74's, on the loop level of GPT-style modules of
   about 1k, 10k and 100k ops (xDSL's up to 10k: it is quadratic).

5. `red.compile` of GPT-2-small (issue 10: GPT2Config(), random weights, input 1x128, full
   logits, through import_torch with the weights as arguments, after red.optimize): wall and
   CPU seconds of red.compile cold (an empty compile cache: the kernel library is compiled
   too), of a model not yet in the cache (the library ready), and of a compile-cache hit;
   then of each step of a compile (red-lower's passes, LLVM IR, LLVM's parse, optimisation
   and code generation) and the IR's size. `--weights-as-constants`: the same model with its
   weights bound as constants (`red.bind_arguments`, as bench/peers.py's "red const").

Run: `python bench/compile_time.py [--quick] [--only-lowering] [--gpt2 | --only-gpt2]
[--weights-as-constants]`
(--quick stops at 10k ops, and lowers 1k)."""

from __future__ import annotations

import argparse
import gc
import io
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any, TypeVar

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.printer import Printer
from xdsl.transforms.canonicalize import CanonicalizePass as XdslCanonicalize
from xdsl.transforms.common_subexpression_elimination import (
    CommonSubexpressionElimination as XdslCSE,
)
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf

from red.dialects.context import make_context
from red.frontends.mlir_text import parse_mlir
from red.lowering.convert_red_to_loops import ConvertRedToLoopsPass
from red.lowering.convert_scf_to_cf import ConvertScfToCfPass
from red.lowering.convert_to_llvm import ConvertToLLVMPass
from red.lowering.llvm_ir import module_to_llvm_ir
from red.lowering.loops.outline import OutlineLoopNestsPass
from red.lowering.merge_functions import MergeIdenticalFunctionsPass
from red.passes.registry import pass_class
from red.transforms.canonicalize import CanonicalizePass
from red.transforms.cse import CSEPass
from red.transforms.dce import DCEPass
from red.transforms.memoize import MemoizePass
from red.transforms.narrow_to_uses import NarrowToUsesPass
from red.transforms.optimize_chains import OptimizeChainsPass


def gpt_text(layers: int, seq: int = 8, width: int = 16) -> str:
    """A GPT-style decoder written as a naive exporter would (per-layer mask rebuilt, weight
    transposes on every call), about 40 ops per layer."""
    t = f"tensor<{seq}x{width}xf32>"
    lines = [f"func.func @main(%x0: {t}, %w: tensor<{width}x{width}xf32> {{red.invariant}}, "
             f"%g: tensor<{width}xf32> {{red.invariant}}) -> tensor<1x{width}xf32> {{"]  # fmt: skip
    x = "%x0"
    for i in range(layers):
        p = f"%l{i}_"
        lines += [
            f"  {p}n = red.layer_norm {x} axis = 1 eps = 1.000000e-05 : {t}",
            f"  {p}s = red.mul {p}n, %g : {t}, tensor<{width}xf32> -> {t}",
            f"  {p}wt = red.transpose %w [1, 0] : tensor<{width}x{width}xf32> -> tensor<{width}x{width}xf32>",
            f"  {p}q = red.matmul {p}s, {p}wt : {t}, tensor<{width}x{width}xf32> -> {t}",
            f"  {p}k = red.matmul {p}s, %w : {t}, tensor<{width}x{width}xf32> -> {t}",
            f"  {p}kt = red.transpose {p}k [1, 0] : {t} -> tensor<{width}x{seq}xf32>",
            f"  {p}a = red.matmul {p}q, {p}kt : {t}, tensor<{width}x{seq}xf32> -> tensor<{seq}x{seq}xf32>",
            f"  {p}c = red.constant dense<2.500000e-01> : tensor<f32>",
            f"  {p}as = red.mul {p}a, {p}c : tensor<{seq}x{seq}xf32>, tensor<f32> -> tensor<{seq}x{seq}xf32>",
            f"  {p}r = red.iota dim = 0 : tensor<{seq}x{seq}xi64>",
            f"  {p}co = red.iota dim = 1 : tensor<{seq}x{seq}xi64>",
            f"  {p}m = red.le {p}co, {p}r : tensor<{seq}x{seq}xi64>, tensor<{seq}x{seq}xi64> -> tensor<{seq}x{seq}xi1>",
            f"  {p}ninf = red.constant dense<-1.000000e+09> : tensor<f32>",
            f"  {p}am = red.select {p}m, {p}as, {p}ninf : tensor<{seq}x{seq}xi1>, tensor<{seq}x{seq}xf32>, tensor<f32> -> tensor<{seq}x{seq}xf32>",
            f"  {p}p = red.softmax {p}am axis = 1 : tensor<{seq}x{seq}xf32>",
            f"  {p}v = red.matmul {p}p, {p}s : tensor<{seq}x{seq}xf32>, {t} -> {t}",
            f"  {p}one = red.constant dense<1.000000e+00> : tensor<f32>",
            f"  {p}v1 = red.mul {p}v, {p}one : {t}, tensor<f32> -> {t}",
            f"  {p}y = red.add {x}, {p}v1 : {t}, {t} -> {t}",
            f"  {p}y2 = red.add {p}v1, {x} : {t}, {t} -> {t}",
            f"  {p}dead = red.exp {p}y2 : {t}",
            f'  {p}h = red.gelu {p}y approximate = "tanh" : {t}',
            f"  {p}hh = red.matmul {p}h, {p}wt : {t}, tensor<{width}x{width}xf32> -> {t}",
            f"  {p}z = red.add {p}y, {p}hh : {t}, {t} -> {t}",
        ]
        x = f"{p}z"
    lines += [
        f"  %last = red.slice {x} [{seq - 1}, 0] [{seq}, {width}] [1, 1] : {t} -> tensor<1x{width}xf32>",
        f"  func.return %last : tensor<1x{width}xf32>",
        "}",
    ]
    return "\n".join(lines) + "\n"


def arith_text(blocks: int) -> str:
    """An arith-only module with duplicates, commuted duplicates and constants."""
    lines = ["func.func @main(%a: f32, %b: f32) -> f32 {", "  %acc0 = arith.addf %a, %b : f32"]
    acc = "%acc0"
    for i in range(blocks):
        lines += [
            f"  %c{i} = arith.constant 2.000000e+00 : f32",
            f"  %d{i} = arith.constant 2.000000e+00 : f32",
            f"  %x{i} = arith.mulf {acc}, %c{i} : f32",
            f"  %y{i} = arith.mulf %d{i}, {acc} : f32",
            f"  %s{i} = arith.addf %x{i}, %y{i} : f32",
            f"  %t{i} = arith.subf %s{i}, %a : f32",
        ]
        acc = f"%t{i}"
    lines += [f"  func.return {acc} : f32", "}"]
    return "\n".join(lines) + "\n"


def scf_if_text(count: int) -> str:
    """DESIGN.md §9's trap: many pure scf.if on one condition (xDSL's CSE hashes them into
    one bucket and compares each pair)."""
    lines = ["func.func @main(%c: i1, %a: i32) -> i32 {", "  %acc0 = arith.addi %a, %a : i32"]
    acc = "%acc0"
    for i in range(count):
        lines += [
            f"  %r{i} = scf.if %c -> (i32) {{",
            f"    %k{i} = arith.constant {i} : i32",
            f"    %v{i} = arith.addi {acc}, %k{i} : i32",
            f"    scf.yield %v{i} : i32",
            "  } else {",
            f"    scf.yield {acc} : i32",
            "  }",
        ]
        acc = f"%r{i}"
    lines += [f"  func.return {acc} : i32", "}"]
    return "\n".join(lines) + "\n"


T = TypeVar("T")


def count_ops(module: ModuleOp) -> int:
    return sum(1 for _ in module.walk())


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


STEPS: list[tuple[str, Callable[[], ModulePass]]] = [
    ("canonicalize", CanonicalizePass),
    ("cse", CSEPass),
    ("optimize-chains", OptimizeChainsPass),
    ("narrow-to-uses", NarrowToUsesPass),
    ("memoize", MemoizePass),
    ("dce", DCEPass),
]


def scaling(sizes: list[int]) -> None:
    print("== GPT-style modules: seconds (ops/s) per step ==")
    header = (
        f"{'ops':>8} {'parse':>16}" + "".join(f" {n:>18}" for n, _ in STEPS) + f" {'print':>16}"
    )
    print(header)
    results: dict[int, dict[str, float]] = {}
    for target in sizes:
        text = gpt_text(max(1, target // 24))
        ctx = make_context()
        t_parse, module = timed(lambda: parse_mlir(text, "gpt.mlir", ctx))
        assert isinstance(module, ModuleOp)
        n = count_ops(module)
        row = {"parse": t_parse}
        cells = [f"{t_parse:7.3f} ({n / t_parse:6.0f})"]
        for name, make in STEPS:
            before = count_ops(module)
            t, _ = timed(lambda make=make: make().apply(ctx, module))
            row[name] = t
            cells.append(f"{t:8.3f} ({before / t:7.0f})")
        buf = io.StringIO()
        t_print, _ = timed(lambda: Printer(stream=buf).print_op(module))
        row["print"] = t_print
        cells.append(f"{t_print:7.3f} ({count_ops(module) / t_print:6.0f})")
        results[n] = row
        print(f"{n:>8} " + " ".join(cells))
    sizes_seen = sorted(results)
    if len(sizes_seen) >= 2:
        small, big = sizes_seen[-2], sizes_seen[-1]
        print(
            f"ratio of the {big}-op time to the {small}-op time (x{big / small:.1f} more ops; linear ~ that):"
        )
        print(
            "  " + ", ".join(f"{k} {results[big][k] / results[small][k]:.1f}" for k in results[big])
        )


def versus_xdsl(arith_blocks: int, scf_ifs: int) -> None:
    print("== red vs xDSL 0.74 passes, same module, same process ==")
    print(
        f"{'module':<28} {'pass':<14} {'red s':>8} {'xDSL s':>8} {'xDSL/red':>9} {'ops left red/xDSL':>18}"
    )
    for label, text in (
        (f"arith-only, {arith_blocks * 6} ops", arith_text(arith_blocks)),
        (f"{scf_ifs} scf.if on one cond", scf_if_text(scf_ifs)),
    ):
        for name, mine, theirs in (
            ("cse", CSEPass, XdslCSE),
            ("canonicalize", CanonicalizePass, XdslCanonicalize),
        ):
            ctx = make_context()
            a, b = parse_mlir(text, "m.mlir", ctx), parse_mlir(text, "m.mlir", ctx)
            t_red, _ = timed(lambda: mine().apply(ctx, a))
            t_x, _ = timed(lambda: theirs().apply(ctx, b))
            print(
                f"{label:<28} {name:<14} {t_red:8.3f} {t_x:8.3f} {t_x / t_red:9.1f} {count_ops(a):>8}/{count_ops(b):<8}"
            )


LOWER_STEPS = ("convert-red-to-loops", "convert-scf-to-cf", "convert-to-llvm")


def lowering_scaling(sizes: list[int]) -> None:
    """red-lower's steps by name (whatever the registry maps them to), then the LLVM IR."""
    print("== red-lower steps on GPT-style modules: seconds (ops/s of each step's input) ==")
    print(f"{'ops':>8}" + "".join(f" {n:>22}" for n in (*LOWER_STEPS, "LLVM IR text")))
    results: dict[int, dict[str, float]] = {}
    for target in sizes:
        ctx = make_context()
        module = parse_mlir(gpt_text(max(1, target // 24)), "gpt.mlir", ctx)
        assert isinstance(module, ModuleOp)
        n = count_ops(module)
        row, cells = {}, []
        for name in LOWER_STEPS:
            before = count_ops(module)
            t, _ = timed(lambda name=name: pass_class(name)().apply(ctx, module))
            row[name] = t
            cells.append(f"{t:8.3f} ({before:7d}: {before / t:5.0f})")
        before = count_ops(module)
        t, _ = timed(lambda: module_to_llvm_ir(module))
        row["LLVM IR text"] = t
        cells.append(f"{t:8.3f} ({before:7d}: {before / t:5.0f})")
        results[n] = row
        print(f"{n:>8} " + " ".join(f"{c:>22}" for c in cells))
    if len(results) >= 2:
        small, big = sorted(results)[-2:]
        print(f"ratio of the {big}-op time to the {small}-op time (x{big / small:.1f} more ops):")
        print(
            "  " + ", ".join(f"{k} {results[big][k] / results[small][k]:.1f}" for k in results[big])
        )


def scf_to_cf_versus_xdsl(sizes: list[int], xdsl_up_to: int) -> None:
    """The loop level of GPT-style modules, converted by red's pass and by xDSL's."""
    print("== convert-scf-to-cf: red vs xDSL 0.74 on the loop level of GPT-style modules ==")
    print(f"{'ops':>8} {'scf ops':>8} {'red s':>8} {'red ops/s':>10} {'xDSL s':>8} {'xDSL/red':>9}")
    times: dict[int, float] = {}
    for target in sizes:
        ctx = make_context()
        # about 190 loop-level ops per layer of gpt_text
        module = parse_mlir(gpt_text(max(1, target // 190)), "gpt.mlir", ctx)
        pass_class("convert-red-to-loops")().apply(ctx, module)
        n = count_ops(module)
        scf_ops = sum(1 for op in module.walk() if op.dialect_name() == "scf")
        other = module.clone() if n <= xdsl_up_to else None
        t_red, _ = timed(lambda: pass_class("convert-scf-to-cf")().apply(ctx, module))
        times[n] = t_red
        cells = f"{n:>8} {scf_ops:>8} {t_red:8.3f} {n / t_red:10.0f}"
        if other is not None:
            theirs = other
            t_x, _ = timed(lambda: ConvertScfToCf().apply(ctx, theirs))
            cells += f" {t_x:8.3f} {t_x / t_red:9.1f}"
        else:
            cells += f" {'not run':>8} {'':>9}"
        print(cells)
    seen = sorted(times)
    print(
        "red's time ratios: "
        + ", ".join(
            f"{b}/{a} ops (x{b / a:.1f}): x{times[b] / times[a]:.1f}" for a, b in pairwise(seen)
        )
    )


def gpt2_compile(constants: bool = False) -> None:
    """Section 5: where red.compile's time goes on GPT-2-small (its weights bound as
    constants if `constants`)."""
    import os
    import tempfile
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore")
    import llvmlite.binding as llvm
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    import red
    from red.frontends.torch_importer import import_torch
    from red.lowering import jit, kernels
    from red.lowering.gc_pause import gc_paused
    from red.lowering.llvm_ir import called_kernels, llvm_ir_module

    class AllLogits(torch.nn.Module):
        def __init__(self, model: torch.nn.Module):
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.model(ids, use_cache=False).logits

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config()).eval()
    ids = torch.zeros(1, 128, dtype=torch.long)
    t_import, imported = timed(lambda: import_torch(AllLogits(model), (ids,)))
    module = imported.module
    weights = "as arguments"
    if constants:
        first = len(imported.input_names)
        red.bind_arguments(module, "main", dict(enumerate(imported.weights, start=first)))
        weights = "as constants"
    t_opt, _ = timed(lambda: red.optimize(module))
    print(f"== red.compile of GPT-2-small, 1x128 full logits, weights {weights} "
          f"({count_ops(module)} ops after red.optimize; import_torch {t_import:.1f} s, "
          f"red.optimize {t_opt:.1f} s) ==")  # fmt: skip
    print(f"{'step':<52} {'wall (s)':>9} {'CPU (s)':>8}")

    def step(label: str, fn: Callable[[], T]) -> T:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        print(f"{label:<52} {time.perf_counter() - wall:>9.2f} {time.process_time() - cpu:>8.2f}")
        return result

    saved = {k: os.environ.pop(k, None) for k in ("RED_CACHE_URL", "RED_CACHE", "RED_CACHE_DIR")}
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as fresh:
        os.environ["RED_CACHE_DIR"] = empty
        step(
            "red.compile, cold: empty cache (kernel library too)",
            lambda: red.compile(module, threads=1),
        )
        os.environ["RED_CACHE_DIR"] = fresh  # the library is in the process now
        step(
            "red.compile, the model not in the compile cache",
            lambda: red.compile(module, threads=1),
        )
        hit = step("red.compile, compile-cache hit", lambda: red.compile(module, threads=1))
        assert hit.cache_hit
        step("  of which the cache key (IR and weights hashed)", hit._cache_key)
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value

    lowered = module.clone()
    ctx = make_context()
    with gc_paused():
        for name, make in LOWER_PASSES:
            step(f"  red-lower: {name}", lambda make=make: make().apply(ctx, lowered))
    ir_module = step("  LLVM IR (xDSL's llvmlite backend)", lambda: llvm_ir_module(lowered))
    text = str(ir_module)
    functions = sum(1 for f in ir_module.functions if not f.is_declaration)
    tm = jit.host_target_machine()
    parsed = step("  LLVM parse and verify", lambda: _parsed(llvm, text))
    step("  LLVM optimisation (O3 pipeline)", lambda: jit.optimize(parsed, tm))
    optimized = len(str(parsed).splitlines())
    step(
        "  LLVM code generation (MCJIT)",
        lambda: llvm.create_mcjit_compiler(parsed, tm).finalize_object(),
    )
    names = called_kernels(ir_module)
    units = [u for u, entries in kernels.UNITS.items() if set(entries) & set(names)]
    seconds = kernels.library().compile_seconds
    print(
        f"kernel library units {', '.join(units)}: compiled once per process in "
        f"{sum(seconds.get(u, 0.0) for u in units):.2f} s wall (part of the cold compile)"
    )
    print(f"LLVM IR: {len(text.splitlines())} lines in {functions} functions; "
          f"{optimized} lines after optimisation")  # fmt: skip


LOWER_PASSES: list[tuple[str, Callable[[], ModulePass]]] = [
    ("convert-red-to-loops", ConvertRedToLoopsPass),
    ("outline-loop-nests", OutlineLoopNestsPass),
    ("merge-identical-functions", MergeIdenticalFunctionsPass),
    ("convert-scf-to-cf", ConvertScfToCfPass),
    ("convert-to-llvm", ConvertToLLVMPass),
]
"""red-lower's steps, as RedLowerPass runs them."""


def _parsed(llvm: Any, text: str) -> Any:
    parsed = llvm.parse_assembly(text)
    parsed.verify()
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k ops only")
    parser.add_argument(
        "--only-lowering", action="store_true", help="sections 3 and 4 only (red-lower)"
    )
    parser.add_argument("--gpt2", action="store_true", help="also section 5 (GPT-2-small)")
    parser.add_argument("--only-gpt2", action="store_true", help="section 5 only")
    parser.add_argument(
        "--weights-as-constants",
        action="store_true",
        help="section 5 with GPT-2-small's weights bound as constants",
    )
    args = parser.parse_args()
    if args.only_gpt2:
        gpt2_compile(args.weights_as_constants)
        return
    if not args.only_lowering:
        scaling([1000, 10000] if args.quick else [1000, 10000, 100000])
        versus_xdsl(2000 if args.quick else 5000, 500 if args.quick else 2000)
    lowering_scaling([1000] if args.quick else [1000, 10000])
    scf_to_cf_versus_xdsl([1000, 10000] if args.quick else [1000, 10000, 100000], 12000)
    if args.gpt2:
        gpt2_compile(args.weights_as_constants)


if __name__ == "__main__":
    main()
