"""Runtime benchmark, measured side by side in one run (DESIGN.md §4, issue 5):

1. matmul GFLOP/s of red's compiled code (red.compile(threads=1): a call of the kernel
   library) vs numpy with single-threaded BLAS: squares 64, 256, 512 and the GPT-2-small
   shapes of issue 10 (M x K x N = 128x768x2304, 128x768x3072, 128x3072x768, 128x768x50257,
   1x768x50257; goal >= 0.9x numpy at each), times interleaved red/numpy; then the same
   shapes with B cold (rotating through more B matrices than the last-level cache holds),
   red with B an argument and registered as constant (packed once), beside numpy; the f32
   micro-kernel in cache (operands in L1/L2, B packed once: its ceiling); then the
   opt-in bf16 matmul precision at the issue's shapes (red_sgemm_bf16: products of
   bf16-rounded operands accumulated in f32, AMX-BF16 or AVX512-BF16) against red's f32, B an
   argument and B a constant, with the error against both references (not an f32 result);
2. each example's forward time: a hand-written numpy forward pass (as written, and as a
   careful programmer would write it), red's interpreter and red's JIT, each on the module
   as exported and after red-pipeline; ratios against the numpy forward pass.

GPT-2-small, Llama and BERT-base against onnxruntime and eager: `python bench/peers.py
--runtime-only`.

Run: `python bench/runtime.py [--quick] [--matmul-only | --precision-only] [--cold-mib N]`. Matmul and example
times are the best of several batches of calls (this machine is shared: the minimum is the
least noisy statistic)."""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # single-threaded BLAS, set before numpy loads

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_models as nm  # noqa: E402

import red  # noqa: E402
from red.frontends import builder as rb  # noqa: E402
from red.testing.random_inputs import random_inputs  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def best_time(fn: Callable[[], object], batches: int = 7, min_seconds: float = 0.05) -> float:
    """Seconds per call: the best batch average; batches grow until they last min_seconds."""
    fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_seconds or n >= 1 << 16:
            break
        n *= 2
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


ISSUE_SHAPES = [(128, 768, 2304), (128, 768, 3072), (128, 3072, 768), (128, 768, 50257),
                (1, 768, 50257)]  # fmt: skip
"""(M, K, N) of GPT-2-small's matmuls at 1x128 (issue 10) and the decode step's LM head."""


def interleaved_best(fns: list[Callable[[], object]], rounds: int = 3) -> list[float]:
    """Seconds per call of each function: the best of `rounds` measurements taken in turn
    (red, numpy, red, numpy, ...), so that both see the same load of this shared machine."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_time(fn, batches=2))
    return best


def matmul_table(shapes: list[tuple[int, int, int]], rounds: int) -> None:
    print("== matmul f32, C = A·B (single-threaded: red.compile(threads=1), OpenBLAS 1 thread) ==")
    print(
        f"{'M x K x N':>16} {'red GFLOP/s':>12} {'numpy GFLOP/s':>14} {'red/numpy':>10} "
        f"{'max |err|':>10}"
    )
    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        mb = rb.ModuleBuilder()
        f = mb.function("main")
        a, b = f.arg((m, k)), f.arg((k, n))
        f.returns(a @ b)
        call = red.compile(mb.build(), threads=1).main.call
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((k, n)).astype(np.float32)
        want = x @ y
        err = float(np.abs(call(x, y)[0] - want).max() / max(1.0, np.abs(want).max()))
        t_red, t_np = interleaved_best([lambda: call(x, y), lambda: x @ y], rounds)
        flops = 2.0 * m * n * k
        print(
            f"{f'{m}x{k}x{n}':>16} {flops / t_red / 1e9:>12.1f} {flops / t_np / 1e9:>14.1f} "
            f"{t_np / t_red:>10.2f} {err:>10.2e}"
        )
    print("(max |err| relative to the largest |C| element)")


def cold_b_table(shapes: list[tuple[int, int, int]], rounds: int, cold_bytes: int) -> None:
    """The same matmuls with B cold, as a model's layers see their weights: each call takes
    the next of enough B matrices to exceed `cold_bytes` (the last-level cache), numpy and
    red with B an argument (packed per call), and red with B registered as constant (packed
    on its first call, as a compiled module's constant weights are: bind_constants)."""
    import gc

    from red.lowering import kernels
    from red.lowering.kernels.ndarray import matmul

    lib = kernels.library()
    print(
        f"== matmul f32 with B cold: B rotating through >= {cold_bytes >> 20} MiB "
        "(single-threaded) =="
    )
    print(
        f"{'M x K x N':>16} {'count':>6} {'red GFLOP/s':>12} {'red const B':>12} "
        f"{'numpy GFLOP/s':>14} {'red/numpy':>10} {'const/numpy':>12}"
    )
    rng = np.random.default_rng(1)
    for m, k, n in shapes:
        count = max(2, -(-cold_bytes // (4 * k * n)))
        bs = [rng.standard_normal((k, n), dtype=np.float32) for _ in range(count)]
        x = rng.standard_normal((m, k)).astype(np.float32)
        out = np.empty((m, n), np.float32)

        def rotate(fn: Callable[[np.ndarray], object]) -> Callable[[], object]:
            return lambda: [fn(b) for b in bs]

        best = [float("inf")] * 3
        for _ in range(rounds):
            views = [b.view() for b in bs]
            for v in views:  # the bytes are constant while the views live
                lib.register_constant(v)
            best[1] = min(best[1], best_time(rotate(lambda b: matmul(x, b, out, threads=1)), 2))
            del views
            gc.collect()  # unregistered: the next calls pack B per call
            best[0] = min(best[0], best_time(rotate(lambda b: matmul(x, b, out, threads=1)), 2))
            best[2] = min(best[2], best_time(rotate(lambda b: np.matmul(x, b, out=out)), 2))
        gflops = [2.0 * m * n * k * count / t / 1e9 for t in best]
        print(
            f"{f'{m}x{k}x{n}':>16} {count:>6} {gflops[0]:>12.1f} {gflops[1]:>12.1f} "
            f"{gflops[2]:>14.1f} {gflops[0] / gflops[2]:>10.2f} {gflops[1] / gflops[2]:>12.2f}"
        )
        bs.clear()  # before the next shape's matrices
        gc.collect()


IN_CACHE_SHAPES = [(64, 256, 192), (128, 256, 384), (128, 256, 768), (256, 512, 480)]
"""(M, K, N) whose A, packed B and C fit this core's L2 (2 MiB): the micro-kernel's ceiling."""


def in_cache_table(rounds: int) -> None:
    """f32 GFLOP/s of red_sgemm_prepacked (B packed beforehand, single-threaded) on operands
    that stay in L1/L2, repeated: what the f32 micro-kernel reaches with no memory traffic,
    against the core's measured FMA peak."""
    from fma_peak import measured_fma_peak

    from red.lowering import kernels

    lib = kernels.library()
    peak = f"{measured_fma_peak():.1f} GFLOP/s, measured by bench/fma_peak.py"
    print(f"== f32 in cache: red_sgemm_prepacked, B packed once (one core's FMA peak {peak}) ==")
    print(f"{'M x K x N':>16} {'KiB (A+B+C)':>12} {'GFLOP/s':>8}")
    rng = np.random.default_rng(3)
    for m, k, n in IN_CACHE_SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        packed = kernels.pack_b(rng.standard_normal((k, n), dtype=np.float32), threads=1)
        c = np.empty((m, n), np.float32)
        fn = lib.function("red_sgemm_prepacked")
        args = [m, n, k, a.ctypes.data, k, 1, packed.data.ctypes.data, c.ctypes.data, n, 1, 0, 1]
        best = min(best_time(lambda: fn(*args), batches=3) for _ in range(rounds))
        kib = (a.nbytes + packed.data.nbytes + c.nbytes) >> 10
        print(f"{f'{m}x{k}x{n}':>16} {kib:>12} {2.0 * m * n * k / best / 1e9:>8.1f}")
    print("(best batch average; each call includes a ctypes call and the packing of A)")


def bf16_table(shapes: list[tuple[int, int, int]], rounds: int) -> None:
    """GFLOP/s of red's f32 and bf16 matmuls (single-threaded, the kernel library called
    directly, B warm): B an argument (packed per call) and B a registered constant (packed
    once: f32 panels, or bf16 pairs for a constant registered in bf16)."""
    import gc

    from red.lowering import kernels
    from red.lowering.kernels.ndarray import element_strides

    lib = kernels.library()
    print("== matmul precision bf16 vs f32 (single-threaded; bf16 is not an f32 result) ==")
    if not lib.bf16:
        print("(this CPU has no AVX512-BF16, or AMX is not permitted: red_sgemm_bf16 is f32)")
        return
    kernel = "AMX-BF16" if lib.target.has_amx else "AVX512-BF16 vdpbf16ps"
    print(f"(bf16 micro-kernel: {kernel})")
    print(
        f"{'M x K x N':>16} {'f32 B arg':>10} {'bf16 B arg':>11} {'f32 const':>10} "
        f"{'bf16 const':>11} {'bf16/f32':>9} {'err vs bf16 ref':>16} {'err vs f32 ref':>15}"
    )
    rng = np.random.default_rng(2)
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)

        def call(name: str, b: np.ndarray = b) -> Callable[[], object]:
            args = [m, n, k, a.ctypes.data, *element_strides(a), b.ctypes.data]
            args += [*element_strides(b), c.ctypes.data, n, 1, 0, 1]
            fn = lib.function(name)
            return lambda: fn(*args)

        f32_arg, bf16_arg = interleaved_best([call("red_sgemm"), call("red_sgemm_bf16")], rounds)
        in_f32, in_bf16 = b.copy(), b.copy()  # constants of their own (one precision each)
        lib.register_constant(in_f32)
        lib.register_constant(in_bf16, "bf16")
        f32_const, bf16_const = interleaved_best(
            [call("red_sgemm", in_f32), call("red_sgemm", in_bf16)], rounds
        )
        call("red_sgemm", in_bf16)()
        got = c.astype(np.float64)
        rounded = [_bf16(x).astype(np.float64) for x in (a, b)]
        scale = max(1.0, float(np.abs(a.astype(np.float64) @ b).max()))
        err_bf16 = float(np.abs(got - rounded[0] @ rounded[1]).max()) / scale
        err_f32 = float(np.abs(got - a.astype(np.float64) @ b).max()) / scale
        rates = [2.0 * m * n * k / t / 1e9 for t in (f32_arg, bf16_arg, f32_const, bf16_const)]
        print(
            f"{f'{m}x{k}x{n}':>16} {rates[0]:>10.1f} {rates[1]:>11.1f} {rates[2]:>10.1f} "
            f"{rates[3]:>11.1f} {rates[3] / rates[2]:>9.2f} {err_bf16:>16.2e} {err_f32:>15.2e}"
        )
        del in_f32, in_bf16
        gc.collect()
    print(
        "(GFLOP/s; bf16/f32: bf16 const over f32 const; errors: max |C - reference| over the "
        "largest |C|, the bf16 reference being numpy's float64 product of the bf16-rounded "
        "operands)"
    )


def _bf16(x: np.ndarray) -> np.ndarray:
    """x rounded to the nearest bf16 (ties to even), as f32."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)


def example_rows(name: str, naive: Callable, careful: Callable) -> None:
    path = os.path.join(EXAMPLES, f"{name}.mlir")
    module = red.parse_file(path)
    inputs = random_inputs(red.interpret(module).function("main"), seed=0)
    optimized = red.optimize(red.parse_file(path))
    reference = red.interpret(module).call("main", *inputs)[0]
    interp_raw, interp_opt = red.interpret(module), red.interpret(optimized)
    start = time.perf_counter()
    jit_raw = red.compile(module).main.call
    compile_raw = time.perf_counter() - start
    start = time.perf_counter()
    jit_opt = red.compile(optimized).main.call
    compile_opt = time.perf_counter() - start
    rows: list[tuple[str, Callable[[], object], Callable[[], np.ndarray]]] = [
        ("numpy forward", lambda: naive(*inputs), lambda: naive(*inputs)),
        ("numpy forward, hand-optimized", careful, careful),
        ("red interpreter", lambda: interp_raw.call("main", *inputs), lambda: interp_raw.call("main", *inputs)[0]),
        ("red interpreter, red-pipeline", lambda: interp_opt.call("main", *inputs),
         lambda: interp_opt.call("main", *inputs)[0]),
        ("red JIT", lambda: jit_raw(*inputs), lambda: jit_raw(*inputs)[0]),
        ("red JIT, red-pipeline", lambda: jit_opt(*inputs), lambda: jit_opt(*inputs)[0]),
    ]  # fmt: skip
    base = best_time(rows[0][1])
    print(
        f"== {name} (JIT compile: {compile_raw:.2f} s as exported, {compile_opt:.2f} s optimized) =="
    )
    print(f"{'variant':<32} {'time (us)':>12} {'numpy/variant':>14} {'max |err|':>10}")
    for label, fn, value in rows:
        t = base if label == "numpy forward" else best_time(fn, batches=5)
        err = float(np.abs(np.asarray(value()) - reference).max())
        print(f"{label:<32} {t * 1e6:>12.1f} {base / t:>14.2f} {err:>10.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes (for a smoke run)")
    parser.add_argument("--matmul-only", action="store_true", help="only the matmul tables")
    parser.add_argument(
        "--cold-mib",
        type=int,
        default=512,
        help="MiB of B matrices the cold-B table rotates through (default 512: more than the "
        "480 MiB last-level cache sysfs reports here)",
    )
    parser.add_argument(
        "--precision-only",
        action="store_true",
        help="only the f32 in-cache table and the bf16 vs f32 table (the issue's five shapes)",
    )
    args = parser.parse_args()
    if args.precision_only:
        in_cache_table(rounds=3)
        bf16_table(ISSUE_SHAPES, rounds=3)
        return
    squares = [(n, n, n) for n in ([64, 256] if args.quick else [64, 256, 512])]
    issue = ISSUE_SHAPES[::2] if args.quick else ISSUE_SHAPES
    matmul_table(squares + issue, rounds=1 if args.quick else 3)
    cold_b_table(issue, rounds=1 if args.quick else 3, cold_bytes=args.cold_mib << 20)
    in_cache_table(rounds=1 if args.quick else 3)
    bf16_table(issue, rounds=1 if args.quick else 3)
    if args.matmul_only:
        return
    mod = red.parse_file(os.path.join(EXAMPLES, "gpt_decoder.mlir"))
    gpt_inputs = random_inputs(red.interpret(mod).function("main"), seed=0)
    gpt_careful = nm.GptOptimized(*gpt_inputs)
    example_rows("gpt_decoder", nm.gpt_naive, lambda: gpt_careful(gpt_inputs[0]))
    mod = red.parse_file(os.path.join(EXAMPLES, "lstm_classifier.mlir"))
    lstm_inputs = random_inputs(red.interpret(mod).function("main"), seed=0)
    lstm_careful = nm.LstmOptimized(*lstm_inputs[1:])
    example_rows("lstm_classifier", nm.lstm_naive, lambda: lstm_careful(lstm_inputs[0]))
    mod = red.parse_file(os.path.join(EXAMPLES, "seed_chain.mlir"))
    chain_inputs = random_inputs(red.interpret(mod).function("main"), seed=0)
    example_rows("seed_chain", nm.chain_naive, lambda: nm.chain_optimized(*chain_inputs))


if __name__ == "__main__":
    main()
