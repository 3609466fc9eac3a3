"""onnxruntime on red's optimised graph against the original (issue 15, item 2).

GPT-2 (HF transformers, random weights, generation-style: the logits of the last position)
is exported with torch.onnx's dynamo exporter, imported into red with its weights as
red.invariant arguments, optimised with red-pipeline and written back as ONNX with
`to_onnx(module, weights=...)` (the weights become initializers again, memos computed at
export time). Both graphs run in onnxruntime (CPU, ORT_ENABLE_ALL, same session options);
calls alternate between the two, and the table gives the median time per call of each, their
ratio, and the largest difference between their outputs. Models: the small config of the tests
(2 layers, 128 wide, vocabulary 2048, sequence 32) and GPT-2 small (GPT2Config() defaults: 12
layers, 768 wide, vocabulary 50257) at sequence 128. Run: `python bench/onnx_roundtrip.py
[--calls N] [--small-only] [--threads N]` (ORT on one thread unless --threads says otherwise)."""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)  # torch.onnx's registry warns about every missing torchvision op
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

import red  # noqa: E402
from red.frontends.onnx import import_onnx, weight_arrays  # noqa: E402
from red.frontends.onnx.export import to_onnx  # noqa: E402


class LastLogits(torch.nn.Module):
    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, ids: Any) -> Any:
        return self.model(ids, use_cache=False).logits[:, -1, :]


def gpt2(small: bool) -> Any:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    if small:
        cfg = GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=2048, n_positions=64)
    else:
        cfg = GPT2Config()
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # HF's zero biases and unit norms would look falsely removable
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return LastLogits(model).eval(), cfg.vocab_size


THREADS = 1
"""onnxruntime's intra-op threads (`--threads`): one by default, as the other benchmarks, so
that a shared machine's load does not turn ORT's spinning thread pool into the measurement."""


def session(model: onnx.ModelProto | str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    blob = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])


def timed(s: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    (out,) = s.run(None, feeds)
    return time.perf_counter() - start, out


def compare(label: str, small: bool, seq: int, calls: int, tmp: str) -> None:
    module, vocab = gpt2(small)
    ids = torch.randint(0, vocab, (1, seq))
    path = os.path.join(tmp, f"{label}.onnx")
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(
            module, (ids,), path, input_names=["input_ids"], dynamo=True, verbose=False
        )
    exported_s = time.perf_counter() - start
    original = onnx.load(path)

    start = time.perf_counter()
    imported = import_onnx(original, weights_as_args=True)
    red.optimize(imported)
    optimized = to_onnx(imported, weights=weight_arrays(original))
    red_s = time.perf_counter() - start
    opt_path = os.path.join(tmp, f"{label}.red.onnx")
    onnx.save_model(
        optimized, opt_path, save_as_external_data=True, location=f"{label}.red.onnx.data"
    )

    sessions = {"original": session(path), "red-optimised": session(opt_path)}
    feeds = {"input_ids": ids.numpy()}
    times: dict[str, list[float]] = {k: [] for k in sessions}
    outputs: dict[str, np.ndarray] = {}
    for k, s in sessions.items():  # warm-up
        outputs[k] = timed(s, feeds)[1]
    for _ in range(calls):
        for k, s in sessions.items():
            times[k].append(timed(s, feeds)[0])
    base = statistics.median(times["original"])
    diff = float(np.abs(outputs["red-optimised"] - outputs["original"]).max())
    print(
        f"== {label}: input {tuple(ids.shape)}, {len(original.graph.node)} nodes as exported "
        f"(torch.onnx {exported_s:.1f} s), {len(optimized.graph.node)} after red "
        f"(import + red-pipeline + export {red_s:.1f} s); {calls} interleaved calls, "
        f"{THREADS} ORT thread(s) =="
    )
    print(f"{'graph':<16} {'median ms/call':>15} {'original/graph':>15} {'max |diff|':>12}")
    for k in sessions:
        med = statistics.median(times[k])
        err = "reference" if k == "original" else f"{diff:.2e}"
        print(f"{k:<16} {1e3 * med:>15.3f} {base / med:>15.2f} {err:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--small-only", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="ORT intra-op threads")
    args = parser.parse_args()
    global THREADS
    THREADS = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        compare("gpt2-tiny", True, 32, args.calls, tmp)
        if not args.small_only:
            compare("gpt2-small", False, 128, max(5, args.calls // 5), tmp)


if __name__ == "__main__":
    main()
