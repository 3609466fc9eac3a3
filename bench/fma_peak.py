"""This core's f32 FMA peak, measured: a JIT-compiled loop of independent vector FMA chains
(as many accumulators as the register file holds, no memory traffic) at the host's vector
width, timed on one thread. What a matmul can reach at most on this machine, whatever the
clock /proc/cpuinfo reports and however many FMA units the core has (an AVX-512 FMA is one
per cycle on AMD Zen 4, which splits it over its two 256-bit units; two per cycle on Intel
server cores).

    python bench/fma_peak.py"""

from __future__ import annotations

import ctypes
import time
from functools import cache

import llvmlite.binding as llvm

import red  # noqa: F401  (the package's LLVM setup)
from red.lowering.jit import host_target_machine
from red.lowering.kernels.target import KernelTarget

ITERATIONS = 20_000_000
_engines: list[llvm.ExecutionEngine] = []  # the compiled loops stay mapped


def _loop_ir(lanes: int, chains: int) -> str:
    """@fma_loop(i64 n, ptr out): `chains` accumulators of <lanes x float>, each updated by
    one FMA per iteration, summed into *out at the end (so nothing is dead)."""
    vec = f"<{lanes} x float>"
    a = ", ".join(["float 0x3FEFFFFFE0000000"] * lanes)  # just below 1: stays finite
    b = ", ".join(["float 0x3EB0C6F7A0000000"] * lanes)  # 1e-6
    phis = "\n".join(
        f"  %acc{i} = phi {vec} [zeroinitializer, %entry], [%next{i}, %loop]" for i in range(chains)
    )
    fmas = "\n".join(
        f"  %next{i} = call {vec} @llvm.fma.v{lanes}f32({vec} <{a}>, {vec} <{b}>, {vec} %acc{i})"
        for i in range(chains)
    )
    sums = [f"%next{i}" for i in range(chains)]
    adds = []
    total = sums[0]
    for i, s in enumerate(sums[1:]):
        adds.append(f"  %sum{i} = fadd {vec} {total}, {s}")
        total = f"%sum{i}"
    return f"""
declare {vec} @llvm.fma.v{lanes}f32({vec}, {vec}, {vec})
define void @fma_loop(i64 %n, ptr %out) {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i.next, %loop]
{phis}
{fmas}
  %i.next = add i64 %i, 1
  %more = icmp slt i64 %i.next, %n
  br i1 %more, label %loop, label %done
done:
{chr(10).join(adds)}
  store {vec} {total}, ptr %out, align 4
  ret void
}}
"""


@cache
def measured_fma_peak(repeats: int = 3) -> float:
    """This core's f32 FMA peak in GFLOP/s (best of `repeats` timed loops, one thread)."""
    target = KernelTarget.host()
    lanes = target.lanes(4)
    chains = target.registers - 8  # independent chains: more than latency x units
    tm = host_target_machine()
    module = llvm.parse_assembly(_loop_ir(lanes, chains))
    module.verify()
    engine = llvm.create_mcjit_compiler(module, tm)
    engine.finalize_object()
    _engines.append(engine)
    loop = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_void_p)(
        engine.get_function_address("fma_loop")
    )
    out = (ctypes.c_float * lanes)()
    loop(1000, ctypes.addressof(out))  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        loop(ITERATIONS, ctypes.addressof(out))
        best = min(best, time.perf_counter() - start)
    flops = 2.0 * lanes * chains * ITERATIONS
    return flops / best / 1e9


if __name__ == "__main__":
    print(f"f32 FMA peak of one core: {measured_fma_peak():.1f} GFLOP/s")
