"""`red.compile` of GPT-2-small with its weights as constants (issue 10: "the same model with
weights as constants"), readied as bench/peers.py's "red const" variant (GPT2Config(), noised
random weights, input 1x128, full logits; import_torch, bind_arguments, red.optimize): then
red.compile with an empty compile cache, and each step of a compile on its own (red-lower's
passes, LLVM IR, LLVM's parse, optimisation and code generation), wall and CPU seconds.
`--profile N` adds cProfile's N most expensive functions (cumulative) of a red.compile of the
model not in the compile cache.

Run: `python bench/const_compile.py [--profile 30]`"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def step(label: str, fn: Callable[[], T]) -> T:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label:<52} {time.perf_counter() - wall:>9.2f} {time.process_time() - cpu:>8.2f}")
    return result


def gpt2_with_constants() -> Any:
    """GPT-2-small's module as bench/peers.py readies its "red const" variant: import_torch,
    bind_arguments, red.optimize (the peers' own functions: the same model and wrapper)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch
    from peers import Output, _gpt2_small, ready_red  # pyright: ignore[reportPrivateUsage]

    torch.manual_seed(0)
    wrapper = Output(_gpt2_small(False), "logits", last=False, causal=True).eval()
    ready = ready_red(wrapper, torch.zeros(1, 128, dtype=torch.long), bind=True)
    for label, m in [
        ("import_torch + bind_arguments", ready.load),
        ("red.optimize", ready.optimize),
    ]:
        print(f"{label:<52} {m.seconds:>9.2f} {m.cpu:>8.2f}")
    return ready.module


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    ns = parser.parse_args()
    import llvmlite.binding as llvm

    import red
    from red.dialects.context import make_context
    from red.lowering import jit
    from red.lowering.convert_red_to_loops import ConvertRedToLoopsPass
    from red.lowering.convert_scf_to_cf import ConvertScfToCfPass
    from red.lowering.convert_to_llvm import ConvertToLLVMPass
    from red.lowering.gc_pause import gc_paused
    from red.lowering.llvm_ir import llvm_ir_module
    from red.lowering.loops.outline import OutlineLoopNestsPass
    from red.lowering.merge_functions import MergeIdenticalFunctionsPass

    print(f"{'GPT-2-small, weights as constants (1x128)':<52} {'wall (s)':>9} {'CPU (s)':>8}")
    module = gpt2_with_constants()
    for key in ("RED_CACHE_URL", "RED_CACHE"):
        os.environ.pop(key, None)
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as fresh:
        os.environ["RED_CACHE_DIR"] = empty
        step("red.compile, cold: empty cache (kernel library too)", lambda: red.compile(module))
        os.environ["RED_CACHE_DIR"] = fresh
        step("red.compile, the model not in the compile cache", lambda: red.compile(module))
        hit = step("red.compile, compile-cache hit", lambda: red.compile(module))
        assert hit.cache_hit

    passes = [
        ConvertRedToLoopsPass,
        OutlineLoopNestsPass,
        MergeIdenticalFunctionsPass,
        ConvertScfToCfPass,
        ConvertToLLVMPass,
    ]

    lowered = module.clone()
    ctx = make_context()
    with gc_paused():
        for make in passes:
            p = make()
            step(f"  red-lower: {p.name}", lambda p=p: p.apply(ctx, lowered))
    bound: dict[str, Any] = {}
    ir_module = step(
        "  LLVM IR (llvm_ir_module)", lambda: llvm_ir_module(lowered, bound_constants=bound)
    )
    text = str(ir_module)
    tm = jit.host_target_machine()
    parsed = step("  LLVM parse and verify", lambda: llvm.parse_assembly(text))
    step("  LLVM optimisation (O3 pipeline)", lambda: jit.optimize(parsed, tm))
    step("  LLVM code generation", lambda: tm.emit_object(parsed))
    print(f"LLVM IR: {len(text.splitlines())} lines, {len(text) / 1e6:.1f} MB")
    if ns.profile:
        with tempfile.TemporaryDirectory() as empty:
            os.environ["RED_CACHE_DIR"] = empty
            profile = cProfile.Profile()
            profile.runcall(red.compile, module)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(ns.profile)


if __name__ == "__main__":
    main()
