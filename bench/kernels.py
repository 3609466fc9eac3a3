"""The runtime kernel library against numpy, side by side (issue 10 items 1-2):

1. matmul GFLOP/s, C = A·B in f32 at GPT-2-small sizes (M x K x N): red's red_sgemm (B
   row-major "K,N", B given transposed "N,K" as nn.Linear and the tied LM head store it, and
   B packed beforehand "pre" by red_sgemm_pack_b, as a memo of the weights would) and one
   layer's attention as batched matmuls on head views (red_sgemm_batched) vs numpy.matmul on
   OpenBLAS, on 1 thread and on 2;
2. the row kernels' GB/s (one read and one write of each f32 element) vs numpy written as the
   interpreter computes them (numpy is single-threaded there whatever BLAS does).

Each thread count is measured in its own subprocess, whose numpy has that many BLAS threads
(threadpoolctl where installed, else OPENBLAS_NUM_THREADS set before numpy loads). There, case
by case, red's batches and numpy's alternate, `--rounds` times (default 3), with a pause
between the libraries so that neither one's thread pool (libgomp's, OpenBLAS's) still spins
on the cores while the other is timed. Each figure is the best batch average over the rounds
(the machine is shared: the minimum is the least noisy statistic).
Run: `python bench/kernels.py [--threads 1,2] [--rounds N] [--quick]`."""

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
PAUSE = 0.3  # seconds between libraries with threads: the other's pool goes to sleep
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


# region Worker (one per thread count, in a subprocess)


def cases(
    threads: int, quick: bool
) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """(case, red's call, numpy's call) for every matmul shape and row kernel."""
    import numpy as np

    from red.lowering import kernels
    from red.lowering.kernels.ndarray import row_kernel

    lib = kernels.library()
    lib.require(["red_sgemm", "red_softmax_f32"])  # the f32 units
    gemm = lib.function("red_sgemm")
    rng = np.random.default_rng(0)
    out: list[tuple[str, Callable[[], object], Callable[[], object]]] = []
    for m, k, n in MATMUL_SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        bt = np.ascontiguousarray(b.T)
        c = np.empty((m, n), dtype=np.float32)
        out.append((f"mm {m}x{k}x{n}", red_gemm(gemm, a, b, c, threads), numpy_gemm(a, b, c)))
        out.append(
            (f"mmT {m}x{k}x{n}", red_gemm(gemm, a, bt.T, c, threads), numpy_gemm(a, bt.T, c))
        )
        packed = kernels.pack_b(b, lib=lib)
        out.append((
            f"mmP {m}x{k}x{n}",
            lambda a=a, packed=packed, c=c: kernels.matmul_prepacked(a, packed, out=c, threads=threads),
            numpy_gemm(a, b, c),
        ))  # fmt: skip
    # Attention of one GPT-2 layer at 128 tokens, on the heads' views of the qkv buffer
    # (12 heads of 64): scores = Q·K^T, then probabilities·V; no transpose is copied.
    qkv = rng.standard_normal((128, 3, 12, 64), dtype=np.float32)
    q, k_ = qkv[:, 0].transpose(1, 0, 2), qkv[:, 1].transpose(1, 0, 2)
    v = qkv[:, 2].transpose(1, 0, 2)
    scores = np.empty((12, 128, 128), dtype=np.float32)
    heads = np.empty((12, 128, 64), dtype=np.float32)
    for case, x, y, out_ in (("QK^T", q, k_.transpose(0, 2, 1), scores), ("PV", scores, v, heads)):
        out.append((
            f"attention {case}",
            lambda x=x, y=y, o=out_: kernels.matmul(x, y, out=o, threads=threads, lib=lib),
            lambda x=x, y=y, o=out_: np.matmul(x, y, out=o),
        ))  # fmt: skip
    for name, shape in ROW_CASES:
        x = rng.standard_normal(shape, dtype=np.float32)
        y = np.empty_like(x)
        eps = 1e-5 if "norm" in name else None
        out.append((
            f"{name} {shape[0]}x{shape[1]}",
            lambda name=name, x=x, y=y, eps=eps: row_kernel(
                name, x, out=y, eps=eps, threads=threads, lib=lib
            ),
            numpy_row(name, x, y),
        ))  # fmt: skip
    return out


def red_gemm(gemm, a, b, c, threads: int) -> Callable[[], object]:
    """red_sgemm(C = A·B) on the arrays' own strides (B^T when b is a transposed view)."""
    from red.lowering.kernels.ndarray import element_strides

    (m, k), n = a.shape, b.shape[1]
    args = [m, n, k]
    for x in (a, b, c):
        args += [x.ctypes.data, *element_strides(x)]
    return lambda: gemm(*args, 0, threads)


def numpy_gemm(a, b, c) -> Callable[[], object]:
    import numpy as np

    return lambda: np.matmul(a, b, out=c)


def worker(threads: int, rounds: int, quick: bool) -> dict[str, dict[str, float]]:
    """{"red": {case: seconds}, "numpy": {...}}: per case, red's batches then numpy's,
    `rounds` times, with a pause between the two libraries so that the other's thread pool
    has gone to sleep (OpenBLAS's threads spin for a while after a call, libgomp's too)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]

        threadpool_limits(threads)
    except ImportError:
        pass  # OPENBLAS_NUM_THREADS, set by the parent before numpy loaded, rules
    batches = 3 if quick else 5
    best: dict[str, dict[str, float]] = {"red": {}, "numpy": {}}
    for _ in range(rounds):
        for case, red_call, numpy_call in cases(threads, quick):
            for library, call in (("red", red_call), ("numpy", numpy_call)):
                seconds = best_time(call, batches)
                best[library][case] = min(best[library].get(case, seconds), seconds)
                time.sleep(PAUSE if threads > 1 else 0)
    return best


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


# endregion Worker


def measure(threads: int, rounds: int, quick: bool) -> dict[str, dict[str, float]]:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "RED_NUM_THREADS": str(threads),
    }
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads)]
    cmd += ["--rounds", str(rounds)]
    if quick:
        cmd.append("--quick")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"the worker for {threads} thread(s) failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(threads: int, red: dict[str, float], ref: dict[str, float]) -> None:
    print(f"== matmul f32 GFLOP/s, {threads} thread(s): red_sgemm vs numpy (OpenBLAS) ==")
    print(f"{'M x K x N':>16} {'B':>4} {'red':>8} {'numpy':>8} {'red/numpy':>10}")
    for m, k, n in MATMUL_SHAPES:
        gflop = 2 * m * k * n / 1e9
        for key, form in (("mm", "K,N"), ("mmT", "N,K"), ("mmP", "pre")):
            case = f"{key} {m}x{k}x{n}"
            r, p = gflop / red[case], gflop / ref[case]
            print(f"{f'{m}x{k}x{n}':>16} {form:>4} {r:8.1f} {p:8.1f} {r / p:10.2f}")
    for case, label in (("QK^T", "12x128x64x128"), ("PV", "12x128x128x64")):
        gflop = 2 * 12 * 128 * 128 * 64 / 1e9
        r, p = gflop / red[f"attention {case}"], gflop / ref[f"attention {case}"]
        print(f"{label:>16} {case:>4} {r:8.1f} {p:8.1f} {r / p:10.2f}")
    print(f"== row kernels GB/s (8 bytes per element), {threads} thread(s): red vs numpy ==")
    print(f"{'kernel':>22} {'red':>8} {'numpy':>8} {'red/numpy':>10}")
    for name, (rows, n) in ROW_CASES:
        case = f"{name} {rows}x{n}"
        gb = 8 * rows * n / 1e9
        r, p = gb / red[case], gb / ref[case]
        print(f"{case:>22} {r:8.1f} {p:8.1f} {r / p:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurements")
    parser.add_argument("--quick", action="store_true", help="fewer batches per case")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(int(args.threads), args.rounds, args.quick)))
        return
    print(f"(per case the best of {args.rounds} interleaved rounds of red and numpy)")
    for threads in [int(t) for t in args.threads.split(",")]:
        best = measure(threads, args.rounds, args.quick)
        report(threads, best["red"], best["numpy"])


if __name__ == "__main__":
    main()
