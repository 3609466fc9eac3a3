"""The runtime kernel library against numpy, side by side (issue 10 items 1-2):

1. matmul GFLOP/s, C = A·B in f32 at GPT-2-small sizes (M x K x N): red's red_sgemm (B
   row-major, and B given transposed, as nn.Linear and the tied LM head store it) vs
   numpy.matmul on OpenBLAS, on 1 thread and on 2;
2. the row kernels' GB/s (one read and one write of each f32 element) vs numpy written as the
   interpreter computes them (numpy is single-threaded there whatever BLAS does).

Each (library, thread count) is measured in its own subprocess, so neither one's thread pool
(libgomp's, OpenBLAS's) spins on the cores while the other is timed; numpy's BLAS threads are
set by threadpoolctl where installed, else by OPENBLAS_NUM_THREADS before numpy loads.
Times are the best of several batches (the machine is shared: the minimum is the least noisy
statistic). Run: `python bench/kernels.py [--threads 1,2] [--rounds N] [--quick]`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

MATMUL_SHAPES = [
    (128, 768, 2304),
    (128, 768, 3072),
    (128, 3072, 768),
    (128, 768, 50257),
    (1, 768, 50257),
]
ROW_CASES = [
    ("softmax", (1536, 128)),  # attention probabilities: 12 heads x 128 rows of 128
    ("softmax", (1, 50257)),  # next-token distribution
    ("layer_norm", (128, 768)),
    ("rms_norm", (128, 768)),
    ("gelu", (128, 3072)),
    ("gelu_tanh", (128, 3072)),
    ("silu", (128, 3072)),
]


def best_time(fn: Callable[[], object], batches: int = 5, min_seconds: float = 0.05) -> float:
    """Seconds per call: the best batch average; batches grow until they last min_seconds."""
    fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_seconds or n >= 1 << 14:
            break
        n *= 2
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


# region Workers (one per library and thread count, in a subprocess)


def worker(library: str, threads: int, quick: bool) -> dict[str, float]:
    """{case: seconds} for one library at one thread count."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]

        threadpool_limits(threads)
    except ImportError:
        pass  # OPENBLAS_NUM_THREADS, set by the parent before numpy loaded, rules
    rng = np.random.default_rng(0)
    batches = 3 if quick else 5
    out: dict[str, float] = {}
    if library == "red":
        from red.lowering import kernels
        from red.lowering.kernels.ndarray import row_kernel

        lib = kernels.library()
        lib.require()
        gemm = lib.function("red_sgemm")
    for m, k, n in MATMUL_SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        bt = np.ascontiguousarray(b.T)
        c = np.empty((m, n), dtype=np.float32)
        if library == "red":
            pa, pb, pbt, pc = a.ctypes.data, b.ctypes.data, bt.ctypes.data, c.ctypes.data
            out[f"mm {m}x{k}x{n}"] = best_time(
                lambda: gemm(m, n, k, pa, k, 1, pb, n, 1, pc, n, 1, 0, threads), batches
            )
            out[f"mmT {m}x{k}x{n}"] = best_time(
                lambda: gemm(m, n, k, pa, k, 1, pbt, 1, k, pc, n, 1, 0, threads), batches
            )
        else:
            out[f"mm {m}x{k}x{n}"] = best_time(lambda: np.matmul(a, b, out=c), batches)
            out[f"mmT {m}x{k}x{n}"] = best_time(lambda: np.matmul(a, bt.T, out=c), batches)
    for name, shape in ROW_CASES:
        x = rng.standard_normal(shape, dtype=np.float32)
        y = np.empty_like(x)
        eps = 1e-5 if "norm" in name else None
        if library == "red":
            fn = lambda: row_kernel(name, x, out=y, eps=eps, threads=threads, lib=lib)  # noqa: E731
        else:
            fn = numpy_row(name, x, y)
        out[f"{name} {shape[0]}x{shape[1]}"] = best_time(fn, batches)
    return out


def numpy_row(name: str, x, y) -> Callable[[], object]:
    """The interpreter's numpy formulation of a row kernel, writing into y."""
    import numpy as np

    from red.dialects import red_interpreter as interp

    if name == "softmax":
        return lambda: np.copyto(y, interp.softmax(x, 1))
    if name == "layer_norm":
        return lambda: np.copyto(y, interp.layer_norm(x, 1, 1e-5))
    if name == "rms_norm":
        return lambda: np.copyto(y, interp.rms_norm(x, 1, 1e-5))
    if name == "gelu":
        return lambda: np.copyto(y, interp.gelu(x, "none"))
    if name == "gelu_tanh":
        return lambda: np.copyto(y, interp.gelu(x, "tanh"))
    return lambda: np.copyto(y, x * interp.sigmoid(x))


# endregion Workers


def measure(library: str, threads: int, quick: bool) -> dict[str, float]:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "RED_NUM_THREADS": str(threads),
    }
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        library,
        "--threads",
        str(threads),
    ]
    if quick:
        cmd.append("--quick")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"the {library} worker failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(threads: int, red: dict[str, float], ref: dict[str, float]) -> None:
    print(f"== matmul f32 GFLOP/s, {threads} thread(s): red_sgemm vs numpy (OpenBLAS) ==")
    print(f"{'M x K x N':>16} {'B':>4} {'red':>8} {'numpy':>8} {'red/numpy':>10}")
    for m, k, n in MATMUL_SHAPES:
        gflop = 2 * m * k * n / 1e9
        for key, form in (("mm", "K,N"), ("mmT", "N,K")):
            case = f"{key} {m}x{k}x{n}"
            r, p = gflop / red[case], gflop / ref[case]
            print(f"{f'{m}x{k}x{n}':>16} {form:>4} {r:8.1f} {p:8.1f} {r / p:10.2f}")
    print(f"== row kernels GB/s (8 bytes per element), {threads} thread(s): red vs numpy ==")
    print(f"{'kernel':>22} {'red':>8} {'numpy':>8} {'red/numpy':>10}")
    for name, (rows, n) in ROW_CASES:
        case = f"{name} {rows}x{n}"
        gb = 8 * rows * n / 1e9
        r, p = gb / red[case], gb / ref[case]
        print(f"{case:>22} {r:8.1f} {p:8.1f} {r / p:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--quick", action="store_true", help="fewer batches per case")
    parser.add_argument("--worker", choices=["red", "numpy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, int(args.threads), args.quick)))
        return
    for round_ in range(args.rounds):
        if args.rounds > 1:
            print(f"#### round {round_ + 1} of {args.rounds}")
        for threads in [int(t) for t in args.threads.split(",")]:
            red = measure("red", threads, args.quick)
            ref = measure("numpy", threads, args.quick)
            report(threads, red, ref)


if __name__ == "__main__":
    main()
