"""red against its peers on the same ONNX graphs (issue 6, item 4).

GPT-2 and Llama (HF transformers, small configs, random weights; generation-style: the logits
of the last position) exported with torch.onnx's dynamo exporter, and the classic LSTM
classifier exported with the legacy exporter. For each graph: the node count and FLOPs of
the graph as exported, after onnxruntime's offline optimizer (ORT_ENABLE_ALL), after onnxsim,
and after red-pipeline; and whether each still computes the same outputs.

FLOPs use red's cost model: red's own graphs through its cost model; the ONNX graphs through
the same per-node rules (matmul 2·M·N·K, elementwise 1 per element, transcendental functions
weighted, reductions 1 per input element, shape ops free), applied to the shapes obtained by
running each graph once in onnxruntime. The first row of each model checks that the two
counts agree on the exported graph.

The runtime table (issue 10): GPT-2-small (GPT2Config() defaults, random weights, input 1x128,
full logits) per call: red (import_torch, red.optimize, red.compile(threads=N), weights as
arguments) against onnxruntime (ORT_ENABLE_ALL, intra_op_num_threads=N, the legacy
exporter's graph with an explicit attention mask) and PyTorch eager (torch.set_num_threads(N)),
medians of interleaved calls, on 1 and 2 threads, outputs compared with eager's.

Run: `python bench/peers.py [--runtime-only | --graphs-only] [--calls N]`."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

import red  # noqa: E402
from red.dialects import red as red_dialect  # noqa: E402
from red.frontends.onnx import import_onnx  # noqa: E402
from red.transforms.analysis.cost_model import module_metrics  # noqa: E402

WEIGHT = {  # FLOPs per element, as red's cost model counts each op
    op.name.split(".")[1]: op.FLOPS_PER_ELEMENT
    for op in red_dialect.Red.operations
    if issubclass(op, red_dialect.RedOp)
}
ONNX_TRANSCENDENTAL = {
    "Exp": WEIGHT["exp"], "Log": WEIGHT["log"], "Tanh": WEIGHT["tanh"], "Sigmoid": WEIGHT["sigmoid"],
    "Erf": WEIGHT["erf"], "Sin": WEIGHT["sin"], "Cos": WEIGHT["cos"], "Pow": WEIGHT["pow"],
    "Sqrt": WEIGHT["sqrt"], "Gelu": WEIGHT["gelu"], "FastGelu": WEIGHT["gelu"] + 1,
    "BiasGelu": WEIGHT["gelu"] + 1, "QuickGelu": WEIGHT["sigmoid"] + 2,
}  # fmt: skip
PER_ELEMENT = {"Softmax": 12, "LayerNormalization": 10, "SkipLayerNormalization": 11,
               "SimplifiedLayerNormalization": 7, "SkipSimplifiedLayerNormalization": 8}  # fmt: skip
FREE = {
    "Reshape", "Transpose", "Gather", "Split", "Concat", "Slice", "Expand", "Squeeze",
    "Unsqueeze", "Identity", "Shape", "Constant", "ConstantOfShape", "Cast", "Flatten", "Range",
}  # fmt: skip
REDUCE = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"}


# region FLOPs of an ONNX graph


def value_shapes(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray]
) -> dict[str, tuple[int, ...]]:
    """The shape of every value of the graph, by running it once with every value exposed."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    known = {o.name for o in exposed.graph.output}
    for node in exposed.graph.node:
        for out in node.output:
            if out and out not in known:
                exposed.graph.output.append(onnx.ValueInfoProto(name=out))
                known.add(out)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        exposed.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, feeds)
    shapes = {n: np.asarray(v).shape for n, v in zip(names, values)}
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    for name, value in feeds.items():
        shapes[name] = value.shape
    return shapes


def lstm_flops(x: tuple[int, ...], r: tuple[int, ...]) -> int:
    """An ONNX LSTM node (forward, default activations) as red counts its unrolled form: per
    step and batch row, the gate matmuls and bias adds, 3 sigmoids, 2 tanh, the cell update."""
    steps, batch, inputs = x[0], x[1], x[2]
    directions, hidden = r[0], r[2]
    gates = 4 * hidden
    per_row = (2 * gates * (inputs + hidden) + 3 * gates + 3 * hidden * WEIGHT["sigmoid"]
               + 2 * hidden * WEIGHT["tanh"] + 3 * hidden)  # fmt: skip
    return directions * steps * batch * per_row


def onnx_flops(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> int:
    shapes = value_shapes(model, feeds)
    total = 0
    for node in model.graph.node:
        if node.op_type in FREE or not node.output:
            continue
        out = shapes.get(node.output[0], ())
        n_out = int(np.prod(out)) if out else 1
        if node.op_type in ("MatMul", "FusedMatMul", "Gemm"):
            a = shapes[node.input[0]]
            trans_a = any(at.name in ("transA",) and at.i for at in node.attribute)
            k = a[-2] if trans_a else a[-1]
            total += 2 * n_out * k
            if node.op_type == "Gemm" and len(node.input) > 2:
                total += n_out  # + C
        elif node.op_type == "LSTM":
            total += lstm_flops(shapes[node.input[0]], shapes[node.input[2]])
        elif node.op_type in ONNX_TRANSCENDENTAL:
            total += ONNX_TRANSCENDENTAL[node.op_type] * n_out
        elif node.op_type in PER_ELEMENT:
            total += PER_ELEMENT[node.op_type] * n_out
        elif node.op_type in REDUCE:
            total += int(np.prod(shapes[node.input[0]]))
        else:
            total += n_out
    return total


# endregion FLOPs of an ONNX graph

# region Models


class LastLogits(torch.nn.Module):
    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=False).logits[:, -1, :]


class LSTMClassifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(32, 64)
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[-1])


def noised(model: Any) -> Any:
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def gpt2() -> tuple[torch.nn.Module, torch.Tensor]:
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=2048, n_positions=64,
                     bos_token_id=0, eos_token_id=0)  # fmt: skip
    return LastLogits(noised(GPT2LMHeadModel(cfg))), torch.randint(0, 2048, (1, 32))


def llama() -> tuple[torch.nn.Module, torch.Tensor]:
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, vocab_size=2048,
                      max_position_embeddings=64)  # fmt: skip
    return LastLogits(noised(LlamaForCausalLM(cfg))), torch.randint(0, 2048, (1, 32))


def lstm() -> tuple[torch.nn.Module, torch.Tensor]:
    return LSTMClassifier().eval(), torch.randn(16, 1, 32)


def export(model: torch.nn.Module, x: torch.Tensor, path: str, dynamo: bool) -> None:
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], dynamo=dynamo)


# endregion Models


def ort_run(path_or_model: Any, feeds: dict[str, np.ndarray], level: Any) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    blob = path_or_model if isinstance(path_or_model, str) else path_or_model.SerializeToString()
    session = ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, feeds)[0])


def compare(
    name: str, make: Callable[[], tuple[torch.nn.Module, torch.Tensor]], dynamo: bool, tmp: str
) -> None:
    torch.manual_seed(0)
    model, x = make()
    path = os.path.join(tmp, f"{name}.onnx")
    export(model, x, path, dynamo)
    graph = onnx.load(path)
    feeds = {graph.graph.input[0].name: x.numpy()}
    reference = ort_run(path, feeds, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)

    rows: list[tuple[str, int, int, str]] = []
    flops_onnx = onnx_flops(graph, feeds)
    imported = import_onnx(path)
    m = module_metrics(imported)["main"]
    rows.append(("as exported (ONNX rules)", len(graph.graph.node), flops_onnx, "reference"))
    rows.append(("as exported (red cost model)", m["ops"], m["flops"], "-"))

    ort_path = os.path.join(tmp, f"{name}.ort.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = ort_path
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    optimized = onnx.load(ort_path)
    out = ort_run(ort_path, feeds, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    rows.append(
        (
            "onnxruntime ORT_ENABLE_ALL",
            len(optimized.graph.node),
            onnx_flops(optimized, feeds),
            _match(out, reference),
        )
    )

    try:
        import onnxsim

        simplified, _ = onnxsim.simplify(graph)
        out = ort_run(simplified, feeds, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        rows.append(
            (
                "onnxsim",
                len(simplified.graph.node),
                onnx_flops(simplified, feeds),
                _match(out, reference),
            )
        )
    except ImportError:
        rows.append(("onnxsim (not installed)", 0, 0, "-"))

    red.optimize(imported)
    after = module_metrics(imported)["main"]
    got = red.compile(imported).main.call(x.numpy())[0]
    rows.append(
        ("red-pipeline (per call)", after["ops"], after["flops_per_call"], _match(got, reference))
    )

    exporter = "dynamo" if dynamo else "legacy"
    print(f"== {name} ({exporter} exporter), input {tuple(x.shape)} ==")
    print(f"{'graph':<32} {'nodes/ops':>10} {'FLOPs':>12} {'vs exported':>12} {'outputs':>10}")
    for label, nodes, flops, match in rows:
        pct = f"{100.0 * (flops - flops_onnx) / flops_onnx:+.1f}%" if flops else "-"
        print(f"{label:<32} {nodes:>10} {flops:>12} {pct:>12} {match:>10}")


def _match(got: np.ndarray, want: np.ndarray) -> str:
    return (
        "match"
        if np.allclose(got, want, rtol=1e-4, atol=1e-4)
        else f"DIFF {np.abs(got - want).max():.2e}"
    )


# region Runtime


class AllLogits(torch.nn.Module):
    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=False).logits


class MaskedLogits(torch.nn.Module):
    """The legacy exporter needs the attention mask as an input (DESIGN.md §5)."""

    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, ids, mask):
        return self.model(ids, attention_mask=mask, use_cache=False).logits


def runtime_table(calls: int, threads: list[int], tmp: str) -> None:
    import statistics
    import time

    from transformers import GPT2Config, GPT2LMHeadModel

    from red.frontends.torch_importer import import_torch
    from red.transforms.analysis.cost_model import module_metrics

    torch.manual_seed(0)
    model = noised(GPT2LMHeadModel(GPT2Config()))
    ids = torch.randint(
        0, model.config.vocab_size, (1, 128), generator=torch.Generator().manual_seed(1)
    )
    mask = torch.ones_like(ids)
    model.eval()
    with torch.no_grad():
        want = model(ids, use_cache=False).logits.numpy()

    start = time.perf_counter()
    imported = import_torch(AllLogits(model), (ids,))
    t_import = time.perf_counter() - start
    start = time.perf_counter()
    red.optimize(imported.module)
    t_optimize = time.perf_counter() - start
    flops = module_metrics(imported.module)["main"]["flops_per_call"]
    args = [ids.numpy().astype(np.int64), *(np.asarray(w) for w in imported.weights)]

    path = os.path.join(tmp, "gpt2_small.onnx")
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(MaskedLogits(model), (ids, mask), path, input_names=["ids", "mask"],
                          output_names=["logits"], dynamo=False)  # fmt: skip
    t_export = time.perf_counter() - start
    model.eval()  # the exporter restores the wrapper's (training) mode on the model: dropout
    feeds = {"ids": ids.numpy(), "mask": mask.numpy()}

    print(f"== GPT-2-small (GPT2Config()), input 1x128, full logits: {flops / 1e9:.1f} GFLOP ==")
    print(f"red: import_torch {t_import:.1f} s, red.optimize {t_optimize:.1f} s; "
          f"ONNX legacy export {t_export:.1f} s")  # fmt: skip
    print(f"{'threads':>7} {'engine':<12} {'ready (s)':>10} {'per call (s)':>13} {'CPU (s)':>8} "
          f"{'GFLOP/s':>8} {'red/engine':>11} {'max |err|':>10} {'argmax':>7}")  # fmt: skip
    for n in threads:
        torch.set_num_threads(n)
        start = time.perf_counter()
        compiled = red.compile(imported.module, threads=n).main
        t_red_ready = time.perf_counter() - start
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = n
        options.inter_op_num_threads = 1
        start = time.perf_counter()
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        t_ort_ready = time.perf_counter() - start

        def eager() -> np.ndarray:
            with torch.no_grad():
                return model(ids, use_cache=False).logits.numpy()

        engines: dict[str, Callable[[], Any]] = {
            "red": lambda: compiled(*args),
            "onnxruntime": lambda: session.run(None, feeds)[0],
            "torch eager": eager,
        }
        ready = {"red": t_red_ready, "onnxruntime": t_ort_ready, "torch eager": 0.0}
        outputs = {name: fn() for name, fn in engines.items()}  # warm-up (memos, caches)
        times: dict[str, list[float]] = {name: [] for name in engines}
        cpu: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(calls):
            for name, fn in engines.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        median = {name: statistics.median(ts) for name, ts in times.items()}
        for name in engines:
            err = float(np.abs(outputs[name] - want).max())
            same = bool((outputs[name].argmax(-1) == want.argmax(-1)).all())
            ratio = median["red"] / median[name]
            print(f"{n:>7} {name:<12} {ready[name]:>10.2f} {median[name]:>13.3f} "
                  f"{statistics.median(cpu[name]):>8.3f} "
                  f"{flops / median[name] / 1e9:>8.1f} {ratio:>11.2f} {err:>10.2e} "
                  f"{'equal' if same else 'DIFF':>7}")  # fmt: skip
    print("(median wall and CPU seconds of the process per call: this machine is shared, and CPU "
          "time is what a call costs when others wait; red/engine: red's wall time over the "
          "engine's, < 1 is red faster; max |err| against "
          f"eager's logits, whose largest |value| is {np.abs(want).max():.2f})")  # fmt: skip


# endregion Runtime


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runtime-only", action="store_true", help="only GPT-2-small runtimes")
    parser.add_argument("--graphs-only", action="store_true", help="only the graph table")
    parser.add_argument("--calls", type=int, default=10, help="interleaved calls per engine")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.runtime_only:
            compare("gpt2", gpt2, True, tmp)
            compare("llama", llama, True, tmp)
            compare("lstm_classifier", lstm, False, tmp)
        if not args.graphs_only:
            runtime_table(args.calls, [int(t) for t in args.threads.split(",")], tmp)


if __name__ == "__main__":
    main()
