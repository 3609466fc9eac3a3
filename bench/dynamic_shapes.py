"""Dynamic shapes (issue 12): HF GPT-2 and Llama (small configs, random weights) exported
once with a symbolic sequence length, imported once, optimised once by red-pipeline, then run
at several lengths, side by side with onnxruntime on the same ONNX file.

Printed, per model and length: the max absolute error of red's output (interpreter) against
onnxruntime's, and the time per call of each (medians of `--repeat`; the interpreter is the
numpy reference, not a fast engine, so its time is context, not a target). Then the module
compiled once (red.compile of the symbolic module) and run at every length, beside a static
compile at each length (the ONNX file imported with the length fixed): max error against
onnxruntime, per-call times and their ratio by the wall clock and by the calling thread's CPU
time (goal: within 1.15x), compile count 1 against one per length, the machine's load
average before and after (at length 1 the module runs its unit-size specialization,
lowering/loops/specialize.py). Then GPT-2 with a last-position output: the redundancy
report's `unused-rows` saving (the LM head and the last layer on one row) as a polynomial in
`seq`, evaluated at each length, beside the FLOPs per call before and after red-pipeline.
Kernel calls run on one thread (RED_NUM_THREADS=1, onnxruntime likewise).

Run: `python bench/dynamic_shapes.py` (lengths 1, 7, 32, 128); `--quick` (1 and 7)."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RED_NUM_THREADS", "1")
os.environ["RED_CACHE"] = "off"  # every compile timed is a compile
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

import red  # noqa: E402
from red.dialects.red.dims import evaluate, format_dim  # noqa: E402
from red.frontends.onnx import import_onnx  # noqa: E402
from red.lowering import kernels  # noqa: E402

VOCAB = 1000
WIDTH = 128
POSITIONS = 256


def gpt2() -> Any:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=WIDTH, n_head=4, vocab_size=VOCAB,
                        n_positions=POSITIONS, bos_token_id=0, eos_token_id=0)  # fmt: skip
    return GPT2LMHeadModel(config)


def llama() -> Any:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=WIDTH, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, vocab_size=VOCAB,
                         max_position_embeddings=POSITIONS, bos_token_id=0,
                         eos_token_id=0)  # fmt: skip
    return LlamaForCausalLM(config)


class Logits(torch.nn.Module):
    """input_ids -> logits of every position (no KV cache), or of the last one."""

    def __init__(self, inner: Any, last_only: bool):
        super().__init__()
        self.inner = inner
        self.last_only = last_only

    def forward(self, input_ids: Any) -> Any:
        logits = self.inner(input_ids=input_ids, use_cache=False).logits
        return logits[:, -1, :] if self.last_only else logits


def build(make: Callable[[], Any], last_only: bool) -> torch.nn.Module:
    """The model in eval mode with noise on every weight (HF's zero biases and unit norms
    would make identities and duplicates look removable)."""
    torch.manual_seed(0)
    model = make().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return Logits(model, last_only).eval()


def export(model: torch.nn.Module, path: Path) -> onnx.ModelProto:
    """torch.onnx.export (dynamo) of input_ids [1, seq], seq a torch.export Dim."""
    from torch.export import Dim

    ids = torch.zeros((1, 8), dtype=torch.int64)
    torch.onnx.export(model, (ids,), str(path), dynamo=True, input_names=["input_ids"],
                      dynamic_shapes={"input_ids": {1: Dim("seq", max=POSITIONS)}},
                      verbose=False)  # fmt: skip
    return onnx.load(str(path))


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (what else runs skews the ratios)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def side_by_side(
    a: Callable[[], Any], b: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float]]:
    """ms per call of `a` and of `b`, as ([wall a, wall b], [cpu a, cpu b]): batches of calls
    (about 5 ms each) alternating between the two, `repeat` batches each, the fastest batch of
    each by the wall clock and by the calling thread's CPU time (the machine is shared: a
    batch another process slowed down says nothing about the code; the calls run on the
    calling thread, so its CPU time leaves out the time the scheduler gave others)."""
    a(), b()
    t0 = time.perf_counter()
    a()
    calls = max(1, int(0.005 / max(time.perf_counter() - t0, 1e-6)))
    wall, cpu = [float("inf")] * 2, [float("inf")] * 2
    for _ in range(repeat):
        for i, fn in enumerate((a, b)):
            w0, c0 = time.perf_counter(), time.thread_time()
            for _ in range(calls):
                fn()
            cpu[i] = min(cpu[i], (time.thread_time() - c0) / calls)
            wall[i] = min(wall[i], (time.perf_counter() - w0) / calls)
    return [1e3 * t for t in wall], [1e3 * t for t in cpu]


def compare(name: str, model: onnx.ModelProto, lengths: tuple[int, ...], repeat: int) -> None:
    """Import once, red-pipeline once, run at every length against onnxruntime."""
    t0 = time.perf_counter()
    module = import_onnx(model)
    imported = time.perf_counter() - t0
    signature = str(module.body.block.first_op.function_type)  # type: ignore[union-attr]
    t0 = time.perf_counter()
    red.optimize(module)
    optimized = time.perf_counter() - t0
    print(f"\n{name}: imported once ({imported:.1f} s), red-pipeline once ({optimized:.1f} s)")
    print(f"  @main : {signature}")
    runner = red.interpret(module)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    print(f"  {'seq':>5} {'max |red - ort|':>16} {'red interp ms':>14} {'ort ms':>8}")
    for n in lengths:
        ids = np.random.default_rng(n).integers(0, VOCAB, (1, n)).astype(np.int64)
        expected = np.asarray(session.run(None, {"input_ids": ids})[0])
        (got,) = runner.call("main", ids)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        error = float(np.max(np.abs(got - expected)))
        red_ms = 1e3 * median_time(lambda ids=ids: runner.call("main", ids), repeat)
        ort_ms = 1e3 * median_time(lambda ids=ids: session.run(None, {"input_ids": ids}), repeat)
        print(f"  {n:>5} {error:>16.3g} {red_ms:>14.1f} {ort_ms:>8.2f}")
    compiled_once(model, module, session, lengths, repeat)


def compiled_once(
    model: onnx.ModelProto,
    module: Any,
    session: ort.InferenceSession,
    lengths: tuple[int, ...],
    repeat: int,
) -> None:
    """The symbolic module compiled once and run at every length, against a static compile
    at each length (the same ONNX file imported with the length fixed, red-pipeline, compile):
    outputs against onnxruntime's, per-call times side by side, compile counts."""
    t0 = time.perf_counter()
    dynamic = red.compile(module)
    dynamic_s = time.perf_counter() - t0
    print(f"  compiled once ({dynamic_s:.1f} s), run at every length; a static compile per length")
    print(f"  load average before the calls: {load_average()} (the 2 cores are shared)")
    print(
        "  (ms per call: the fastest of --repeat batches of ~5 ms, dynamic and static alternating,"
    )
    print("  by the wall clock; cpu: the same by the calling thread's CPU time)")
    print(
        f"  {'seq':>5} {'max |dyn - ort|':>16} {'dynamic ms':>11} {'static ms':>10} "
        f"{'dyn/static':>11} {'cpu dyn/static':>15} {'static compile s':>17}"
    )
    static_total = 0.0
    for n in lengths:
        ids = np.random.default_rng(n).integers(0, VOCAB, (1, n)).astype(np.int64)
        expected = np.asarray(session.run(None, {"input_ids": ids})[0])
        got = dynamic.main(ids)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        error = float(np.max(np.abs(got - expected)))
        fixed = import_onnx(model, shapes={"input_ids": (1, n)})
        red.optimize(fixed)
        t0 = time.perf_counter()
        static = red.compile(fixed)
        static_s = time.perf_counter() - t0
        static_total += static_s
        np.testing.assert_allclose(static.main(ids), got, rtol=1e-4, atol=1e-4)
        (dyn_ms, static_ms), (dyn_cpu, static_cpu) = side_by_side(
            lambda ids=ids: dynamic.main(ids), lambda ids=ids: static.main(ids), repeat
        )
        print(
            f"  {n:>5} {error:>16.3g} {dyn_ms:>11.3f} {static_ms:>10.3f} "
            f"{dyn_ms / static_ms:>11.3f} {dyn_cpu / static_cpu:>15.3f} {static_s:>17.1f}"
        )
    print(
        f"  compiles: 1 ({dynamic_s:.1f} s) against {len(lengths)} ({static_total:.1f} s); "
        "red.compile of each module (its compile cache off for this run)"
    )
    print(f"  load average after the calls: {load_average()}")


def lm_head_saving(model: onnx.ModelProto, lengths: tuple[int, ...]) -> None:
    """The report of red-pipeline on GPT-2's last-position module: FLOPs per call before and
    after, and the unused-rows saving, as polynomials in seq and at each length."""
    report = red.report(import_onnx(model))
    main = report["functions"][0]
    before, after = main["before"]["flops_per_call"], main["after"]["flops_per_call"]
    rows = [f for f in main["findings"] if f["kind"] == "unused-rows"]
    saving: Any = sum((f["flops_saved"] for f in rows), 0)
    lm_head = 2 * WIDTH * VOCAB  # one row of the LM head
    print("\nGPT-2, last position only, red-pipeline's report (FLOPs per call):")
    print(f"  before         : {format_dim(before)}")
    print(f"  after          : {format_dim(after)}")
    print(f"  unused-rows    : {format_dim(saving)}  ({len(rows)} finding(s))")
    print(
        f"  LM head alone  : {lm_head}*seq before, {lm_head} after (2 x {WIDTH} x {VOCAB} per row)"
    )
    print(
        f"  {'seq':>5} {'before':>12} {'after':>12} {'unused-rows saved':>18} {'after/before':>13}"
    )
    for n in lengths:
        at = {"seq": n}
        b, a, s = (int(evaluate(x, at)) for x in (before, after, saving))  # type: ignore[arg-type]
        print(f"  {n:>5} {b:>12} {a:>12} {s:>18} {a / b:>13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="lengths 1 and 7 only")
    parser.add_argument("--repeat", type=int, default=5, help="calls timed per length")
    args = parser.parse_args()
    lengths = (1, 7) if args.quick else (1, 7, 32, 128)
    with tempfile.TemporaryDirectory() as tmp:
        models = {
            "HF GPT-2 (2 layers, width 128, vocab 1000)": export(build(gpt2, False), Path(tmp) / "g.onnx"),
            "HF Llama (2 layers, width 128, GQA 4/2, vocab 1000)": export(build(llama, False), Path(tmp) / "l.onnx"),
        }  # fmt: skip
        last = export(build(gpt2, True), Path(tmp) / "g_last.onnx")
    # The kernel library's units, compiled once per process (without the compile cache): not
    # in the first timed compile, which would then pay for every later one.
    t0 = time.perf_counter()
    kernels.library().require()
    print(f"Kernel library compiled before the timed compiles ({time.perf_counter() - t0:.1f} s).")
    print("One ONNX export per model with input_ids [1, seq], seq a torch.export Dim;")
    print("one red import and one red-pipeline per model, then calls at each length.")
    for name, model in models.items():
        compare(name, model, lengths, args.repeat)
    lm_head_saving(last, lengths)


if __name__ == "__main__":
    main()
