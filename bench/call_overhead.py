"""The JIT's per-call overhead in Python: a tiny function called many times through
CompiledFunction, static against `?` dims (the sized ABI) and with a scalar argument, so the
cost of the call path (argument checks, size binding, result allocation, the ctypes call)
is what is measured, not the kernel.

    python bench/call_overhead.py [--calls 100000] [--repeat 5]

Prints us per call (the fastest of --repeat runs of --calls calls, each kind in turn in
one process) and the ratio of each to the static call."""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import red

MODULE = """
func.func @static(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = red.exp %x : tensor<4x8xf32>
  func.return %e : tensor<4x8xf32>
}
func.func @sized(%x: tensor<?x8xf32> {red.dims = ["seq", ""]}) -> tensor<?x8xf32> {
  %e = red.exp %x : tensor<?x8xf32>
  func.return %e : tensor<?x8xf32>
}
func.func @scalar(%x: tensor<4x8xf32>, %n: index) -> tensor<4x8xf32> {
  %e = red.exp %x : tensor<4x8xf32>
  func.return %e : tensor<4x8xf32>
}
"""


def per_call_us(fn, args, calls: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        best = min(best, time.perf_counter() - start)
    return best / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    ns = parser.parse_args()
    os.environ.setdefault("RED_CACHE", "off")
    compiled = red.compile(red.parse(MODULE), threads=1)
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    kinds = {
        "static 4x8": (compiled.static, (x,)),
        "sized ?x8 at 4x8": (compiled.sized, (x,)),
        "static + index scalar": (compiled.scalar, (x, 3)),
    }
    for fn, args in kinds.values():  # each path warm (its shape seen once)
        np.testing.assert_allclose(fn(*args), np.exp(x), rtol=1e-6)
    times = {name: per_call_us(fn, args, ns.calls, ns.repeat) for name, (fn, args) in kinds.items()}
    base = times["static 4x8"]
    print(f"{ns.calls} calls, fastest of {ns.repeat}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'call':<24}{'us/call':>10}{'vs static':>11}")
    for name, t in times.items():
        print(f"{name:<24}{t:>10.2f}{t / base:>10.2f}x")


if __name__ == "__main__":
    main()
