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

The runtime tables (issue 10), input 1x128, random weights: GPT-2-small (GPT2Config()) with
full logits and with last-position logits (`logits[:, -1:]`, what narrow-to-uses shrinks),
Llama (hidden 512, 8 layers, 8 heads, intermediate 1376, vocab 32000, full logits) and
BERT-base (BertConfig(), last_hidden_state). Per call, on 1 and 2 threads: red readied two
ways, import_torch with the weights as arguments ("red args") and the same import with them
bound as constants by bind_arguments ("red const"), each through red.optimize and
red.compile(threads=N) with the compile cache off; onnxruntime (ORT_ENABLE_ALL,
intra_op_num_threads=N, the legacy exporter's graph of the same wrapper with an explicit
attention mask); PyTorch eager (torch.set_num_threads(N)). Medians of interleaved calls, ready
time and peak RSS growth of readying each engine, outputs compared with eager's (max |err|,
argmax of logits), the issue's goals as measured ratios, and the "weights as constants: import,
red.optimize and red.compile each within 2x of the weights-as-arguments times" comparison. Each
table runs in a process of its own (peak RSS growth is then the table's alone).

With `--matmul-precision bf16` each runtime table gains a row "red bf16": the constants variant
compiled with its matmuls on weights in bf16 (matmul_precision="bf16": products of
bf16-rounded operands accumulated in f32, PyTorch's "medium" precision), its ratios to the
f32 engines and its distance from onnxruntime's f32 output (max |red bf16 - ort| over the
largest |output|, argmax agreement). It is not an f32 result: the f32 goals ignore it.

Run: `python bench/peers.py [--runtime-only | --graphs-only] [--calls N] [--threads 1,2]
[--models gpt2,gpt2-last,llama,bert] [--matmul-precision f32|bf16]` (a short run:
`--runtime-only --models llama --calls 2 --threads 1`)."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("RED_CACHE", "off")  # ready times are cold compiles

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


def _status_mib(field: str) -> float | None:
    """A `VmRSS`/`VmHWM` line of /proc/self/status in MiB (None where there is none)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Restart the process's peak RSS (VmHWM) at its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


class Measured:
    """`with Measured() as m:` wall and CPU seconds of the process and its peak RSS (MiB)
    during the block, and its RSS before it; `peak` is None where the peak cannot be
    restarted."""

    seconds: float = 0.0
    cpu: float = 0.0
    before: float | None = None
    peak: float | None = None

    def __enter__(self) -> Measured:
        import time

        resettable = _reset_peak_rss()
        self.before = _status_mib("VmRSS") if resettable else None
        self._start, self._start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        import time

        self.seconds = time.perf_counter() - self._start
        self.cpu = time.process_time() - self._start_cpu
        self.peak = _status_mib("VmHWM") if self.before is not None else None


def growth(phases: list[Measured]) -> float | None:
    """Peak RSS over consecutive phases above the RSS before the first, in MiB."""
    first = phases[0].before
    peaks = [p.peak for p in phases]
    if first is None or any(p is None for p in peaks):
        return None
    return max(p for p in peaks if p is not None) - first


def _load() -> str:
    """The 1, 5 and 15 minute load averages of the machine, as `uptime` prints them."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "-"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


class Output(torch.nn.Module):
    """What a runtime row computes: the model's `field` (`logits`, `last_hidden_state`),
    only the last position's with `last` (`[:, -1:]`, what narrow-to-uses shrinks). The
    attention mask is an argument for the legacy ONNX exporter (DESIGN.md §5); red's import
    traces the call without it."""

    def __init__(self, model: Any, field: str, last: bool, causal: bool):
        super().__init__()
        self.model, self.field, self.last, self.causal = model, field, last, causal

    def forward(self, ids, mask=None):
        extra: dict[str, Any] = {"use_cache": False} if self.causal else {}
        if mask is not None:
            extra["attention_mask"] = mask
        out = getattr(self.model(ids, **extra), self.field)
        return out[:, -1:] if self.last else out


@dataclass(frozen=True)
class RuntimeCase:
    """One runtime table: a HF model with random weights on a 1x128 input."""

    key: str  # its name for --models
    title: str
    make: Callable[[bool], Any]  # the model (noised, eval); True: a tiny one of its family
    field: str = "logits"
    last: bool = False
    causal: bool = True
    goals: tuple[tuple[str, float], ...] = ()  # (engine, red/engine wall ratio to reach)


def _gpt2_small(tiny: bool) -> Any:
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(n_layer=1, n_embd=64, n_head=4, vocab_size=512) if tiny else GPT2Config()
    return noised(GPT2LMHeadModel(cfg))


def _llama_512(tiny: bool) -> Any:
    from transformers import LlamaConfig, LlamaForCausalLM

    if tiny:
        cfg = LlamaConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                          num_key_value_heads=4, intermediate_size=128, vocab_size=512)  # fmt: skip
    else:
        cfg = LlamaConfig(hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
                          num_key_value_heads=8, intermediate_size=1376, vocab_size=32000)  # fmt: skip
    return noised(LlamaForCausalLM(cfg))


def _bert_base(tiny: bool) -> Any:
    from transformers import BertConfig, BertModel

    cfg = BertConfig()
    if tiny:
        cfg = BertConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                         intermediate_size=128, vocab_size=512)  # fmt: skip
    return noised(BertModel(cfg))


RUNTIME_CASES = (
    RuntimeCase("gpt2", "GPT-2-small (GPT2Config()), full logits", _gpt2_small,
                goals=(("onnxruntime", 0.8), ("torch eager", 1.0))),
    RuntimeCase("gpt2-last", "GPT-2-small (GPT2Config()), last-position logits [:, -1:]",
                _gpt2_small, last=True, goals=(("onnxruntime", 0.5),)),
    RuntimeCase("llama", "Llama (hidden 512, 8 layers, 8 heads, intermediate 1376, vocab "
                "32000), full logits", _llama_512),
    RuntimeCase("bert", "BERT-base (BertConfig()), last_hidden_state", _bert_base,
                field="last_hidden_state", causal=False),
)  # fmt: skip


@dataclass
class RedReady:
    """red readied one way: the optimised module, the arrays each call passes after the
    input ids (the weights, or none when they are bound), and its phases."""

    label: str
    module: Any
    weights: list[np.ndarray]
    load: Measured  # import_torch (+ bind_arguments)
    optimize: Measured
    imported_flops: int  # per call, before red.optimize
    compiles: dict[int, Measured] = field(default_factory=dict[int, Measured])


def ready_red(wrapper: torch.nn.Module, ids: torch.Tensor, bind: bool) -> RedReady:
    """import_torch (weights as arguments), bound as constants with `bind`, red.optimize."""
    from red.frontends.torch_importer import import_torch
    from red.transforms.bind_arguments import bind_arguments

    with Measured() as load:
        imported = import_torch(wrapper, (ids,))
        weights = imported.weights
        if bind:
            first = len(imported.input_names)
            bind_arguments(imported.module, "main", dict(enumerate(weights, start=first)))
            weights = []
    flops = module_metrics(imported.module)["main"]["flops_per_call"]
    with Measured() as optimize:
        red.optimize(imported.module)
    label = "red const" if bind else "red args"
    return RedReady(label, imported.module, weights, load, optimize, flops)


def warm_up(case: RuntimeCase, threads: list[int], wrapper: torch.nn.Module, ids: Any) -> None:
    """Ready and call a tiny model of the case's family both ways on every thread count, and
    import the case's model once, so that neither timed variant pays alone for what a process
    does once (lazy imports, the kernel library's parts compiled on first use, and what
    torch.export keeps from exporting a model: a second import_torch of it took 3.0 s
    against the first's 5.3 s for Llama)."""
    from red.frontends.torch_importer import import_torch

    torch.manual_seed(0)
    tiny = Output(case.make(True), case.field, case.last, case.causal).eval()
    tiny_ids = torch.randint(0, tiny.model.config.vocab_size, (1, 128))
    for bind in (False, True):
        ready = ready_red(tiny, tiny_ids, bind)
        for n in threads:
            red.compile(ready.module, threads=n).main(tiny_ids.numpy(), *ready.weights)
    import_torch(wrapper, (ids,))


def weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of the parameters and buffers, each storage once (GPT-2's tied LM head)."""
    seen: dict[int, int] = {}
    for t in [*model.parameters(), *model.buffers()]:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(seen.values())


def print_ready_comparison(title: str, variants: list[RedReady], weights: int) -> None:
    """The issue's line: with weights as constants, import, red.optimize and red.compile each
    within 2x of the weights-as-arguments times; peak memory against the weights' bytes."""
    args, const = variants
    n = min(args.compiles)
    print(f"-- {title}: ready with weights as arguments vs as constants (weights "
          f"{weights / 2**20:,.0f} MiB) --")  # fmt: skip
    print(f"{'step':<34} {'args (s)':>9} {'const (s)':>10} {'const/args':>11} {'<= 2x':>6}"
          f" {'CPU args':>9} {'CPU const':>10} {'const/args':>11} {'<= 2x':>6}")  # fmt: skip
    steps = [
        ("import_torch (const: + bind)", args.load, const.load),
        ("red.optimize", args.optimize, const.optimize),
        (f"red.compile (threads={n})", args.compiles[n], const.compiles[n]),
    ]
    for label, a, c in steps:
        ratio, cpu_ratio = c.seconds / a.seconds, c.cpu / a.cpu
        print(f"{label:<34} {a.seconds:>9.2f} {c.seconds:>10.2f} {ratio:>11.2f} "
              f"{'yes' if ratio <= 2 else 'NO':>6} {a.cpu:>9.2f} {c.cpu:>10.2f} "
              f"{cpu_ratio:>11.2f} {'yes' if cpu_ratio <= 2 else 'NO':>6}")  # fmt: skip
    phases = {v.label: [v.load, v.optimize, v.compiles[n]] for v in variants}
    grown = {label: growth(p) for label, p in phases.items()}
    peak = {label: max((m.peak or 0.0) for m in p) or None for label, p in phases.items()}
    print(f"{'peak RSS growth while readying':<34} {_mib(grown['red args']):>9} "
          f"{_mib(grown['red const']):>10} MiB over the RSS before the import")  # fmt: skip
    print(f"{'  over the weights bytes':<34} {_times(grown['red args'], weights):>9} "
          f"{_times(grown['red const'], weights):>10} (growth / weights bytes; PyTorch's "
          "model holds the weights themselves)")  # fmt: skip
    print(f"{'process peak RSS':<34} {_mib(peak['red args']):>9} {_mib(peak['red const']):>10} "
          "MiB (Python, torch and the model included)")  # fmt: skip


def _times(mib: float | None, weights: int) -> str:
    return "-" if mib is None else f"{mib * 2**20 / weights:.2f}x"


BF16 = "red bf16"


def compile_in(module: Any, threads: int, precision: str) -> Any:
    """red.compile with the matmul precision of its bound constants."""
    return red.compile(module, threads=threads, matmul_precision=precision).main


def runtime_table(
    case: RuntimeCase, calls: int, threads: list[int], tmp: str, precision: str = "f32"
) -> None:
    import gc
    import statistics
    import time

    torch.manual_seed(0)
    model = case.make(False)
    ids = torch.randint(0, model.config.vocab_size, (1, 128),
                        generator=torch.Generator().manual_seed(1))  # fmt: skip
    mask = torch.ones_like(ids)
    wrapper = Output(model, case.field, case.last, case.causal).eval()
    with torch.no_grad():
        want = wrapper(ids).numpy()
    warm_up(case, threads, wrapper, ids)
    gc.collect()

    # Constants first: what an earlier readying leaves warm helps the later one, and the
    # variant the 2x line judges should not be the one helped.
    const = ready_red(wrapper, ids, True)
    variants = [ready_red(wrapper, ids, False), const]
    graph_flops = variants[0].imported_flops
    flops = module_metrics(variants[0].module)["main"]["flops_per_call"]

    path = os.path.join(tmp, f"{case.key}.onnx")
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(wrapper, (ids, mask), path, input_names=["ids", "mask"],
                          output_names=["out"], dynamo=False)  # fmt: skip
    t_export = time.perf_counter() - start
    wrapper.eval()  # the exporter restores the wrapper's (training) mode: dropout
    feeds = {"ids": ids.numpy(), "mask": mask.numpy()}

    print(f"== {case.title}, input 1x128: {flops / 1e9:.2f} GFLOP per call in red ==")
    for v in variants:
        print(f"{v.label}: import_torch{' + bind_arguments' if not v.weights else ''} "
              f"{v.load.seconds:.2f} s, red.optimize {v.optimize.seconds:.2f} s")  # fmt: skip
    print(f"ONNX legacy export {t_export:.1f} s; graph as imported {graph_flops / 1e9:.2f} GFLOP")
    print(f"load average before the calls: {_load()} (2 cores here are shared: a load above "
          "the threads used slows the engines unequally)")  # fmt: skip
    bf16 = precision == "bf16"
    bf16_head = f" {'bf16/eng':>9}" if bf16 else ""
    print(f"{'threads':>7} {'engine':<12} {'ready (s)':>10} {'peak+ MiB':>10} "
          f"{'per call (s)':>13} {'CPU (s)':>8} {'GFLOP/s':>8} {'args/eng':>9} "
          f"{'const/eng':>10}{bf16_head} {'max |err|':>10} {'argmax':>7}")  # fmt: skip
    ratios: dict[tuple[int, str, str], float] = {}
    engine_time: dict[tuple[int, str], float] = {}  # (threads, engine) -> median seconds
    for n in threads:
        torch.set_num_threads(n)
        compiled = {}
        for v in variants:
            with Measured() as m:
                compiled[v.label] = compile_in(v.module, n, "f32")
            v.compiles[n] = m
        if bf16:
            with Measured() as bf16_ready:
                compiled[BF16] = compile_in(const.module, n, "bf16")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = n
        options.inter_op_num_threads = 1
        with Measured() as ort_ready:
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

        def eager() -> np.ndarray:
            with torch.no_grad():
                return wrapper(ids).numpy()

        arrays = {v.label: [ids.numpy().astype(np.int64), *v.weights] for v in variants}
        engines: dict[str, Callable[[], Any]] = {
            v.label: (lambda f=compiled[v.label], a=arrays[v.label]: f(*a)) for v in variants
        }
        if bf16:
            engines[BF16] = lambda f=compiled[BF16], a=arrays["red const"]: f(*a)
        engines["onnxruntime"] = lambda: session.run(None, feeds)[0]
        engines["torch eager"] = eager
        ready = {v.label: v.load.seconds + v.optimize.seconds + v.compiles[n].seconds
                 for v in variants}  # fmt: skip
        ready["onnxruntime"] = ort_ready.seconds
        if bf16:
            ready[BF16] = const.load.seconds + const.optimize.seconds + bf16_ready.seconds
        peak: dict[str, float | None] = {
            v.label: growth([v.load, v.optimize, v.compiles[n]]) if n == threads[0] else None
            for v in variants
        }
        peak["onnxruntime"] = growth([ort_ready])
        outputs = {name: np.asarray(fn()) for name, fn in engines.items()}  # warm-up
        times: dict[str, list[float]] = {name: [] for name in engines}
        cpu: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(calls):
            for name, fn in engines.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        median = {name: statistics.median(ts) for name, ts in times.items()}
        engine_time.update({(n, name): t for name, t in median.items()})
        for name in engines:
            err = float(np.abs(outputs[name] - want).max())
            same = (
                ("equal" if (outputs[name].argmax(-1) == want.argmax(-1)).all() else "DIFF")
                if case.field == "logits"
                else "-"
            )
            work = flops if name.startswith("red") else graph_flops
            for v in variants:
                ratios[(n, v.label, name)] = median[v.label] / median[name]
            bf16_cell = ""
            if bf16:
                ratios[(n, BF16, name)] = median[BF16] / median[name]
                bf16_cell = f" {ratios[(n, BF16, name)]:>9.2f}"
            print(f"{n:>7} {name:<12} {ready.get(name, 0.0):>10.2f} {_mib(peak.get(name)):>10} "
                  f"{median[name]:>13.3f} {statistics.median(cpu[name]):>8.3f} "
                  f"{work / median[name] / 1e9:>8.1f} {ratios[(n, 'red args', name)]:>9.2f} "
                  f"{ratios[(n, 'red const', name)]:>10.2f}{bf16_cell} {err:>10.2e} "
                  f"{same:>7}")  # fmt: skip
        if bf16:
            ort_out = outputs["onnxruntime"].reshape(outputs[BF16].shape)
            gap = float(np.abs(outputs[BF16] - ort_out).max()) / float(np.abs(ort_out).max())
            agree = float((outputs[BF16].argmax(-1) == ort_out.argmax(-1)).mean())
            print(f"{n:>7} {BF16} against onnxruntime (f32): max |red bf16 - ort| / max |ort| = "
                  f"{gap:.2e}; argmax equal at {100 * agree:.1f}% of positions")  # fmt: skip
        engines.clear()  # the compiled modules (prepacked weights) go before the next compile
        compiled.clear()
        gc.collect()
    print("(median wall and CPU seconds of the process per call over interleaved calls; ready: "
          "red's import + optimize + compile (compile cache off), onnxruntime's "
          "InferenceSession; peak+: peak RSS over the RSS before readying (red: on the first thread "
          "count, import to compile); GFLOP/s: red's "
          "FLOPs after red-pipeline for red, the graph's as imported for the others; "
          "args/eng, const/eng: red's wall time (weights as arguments, as constants) over the "
          "engine's, < 1 is red faster; max |err| against eager's output, whose largest "
          f"|value| is {np.abs(want).max():.2f})")  # fmt: skip
    if bf16:
        print("(bf16/eng: red bf16's wall time over the engine's; red bf16 is the constants "
              "variant with the matmuls on weights in bf16, not an f32 result)")  # fmt: skip
    print(f"load average after the calls: {_load()}")
    for engine, goal in case.goals:
        parts = [f"{n} thread{'s' if n > 1 else ''}: args {ratios[(n, 'red args', engine)]:.2f}, "
                 f"const {ratios[(n, 'red const', engine)]:.2f}" for n in threads]  # fmt: skip
        met = [r <= goal for (_, lab, e), r in ratios.items() if e == engine and lab != BF16]
        verdict = "met by every row" if all(met) else ("met by some" if any(met) else "not met")
        print(f"goal (issue 10): red/{engine} <= {goal}: {'; '.join(parts)} ({verdict})")
        if engine == "onnxruntime":
            print_goal_against_peak(flops, goal, {n: engine_time[(n, engine)] for n in threads})
        if bf16:
            cells = "; ".join(f"{n} thread{'s' if n > 1 else ''}: {ratios[(n, BF16, engine)]:.2f}"
                              for n in threads)  # fmt: skip
            print(f"  not an f32 result: red bf16/{engine} (f32): {cells}")
    name = case.title.split(" (")[0] + (", last-position logits" if case.last else "")
    print_ready_comparison(name, variants, weight_bytes(model))


def print_goal_against_peak(flops: int, goal: float, engine_seconds: dict[int, float]) -> None:
    """What reaching `goal` x the engine's time would take of red's FLOPs per call: the
    GFLOP/s per thread, against this core's measured f32 FMA peak (bench/fma_peak.py): a
    goal above the peak cannot be met in f32 with these FLOPs, however good the code."""
    from fma_peak import measured_fma_peak

    peak = measured_fma_peak()
    for n, seconds in engine_seconds.items():
        need = flops / (goal * seconds) / n / 1e9
        verdict = "above the peak" if need > peak else f"{need / peak:.0%} of the peak"
        print(f"  {n} thread{'s' if n > 1 else ''}: red's {flops / 1e9:.2f} GFLOP in {goal} x "
              f"{seconds:.3f} s needs {need:.1f} GFLOP/s per thread; this core's measured f32 "
              f"FMA peak is {peak:.1f} ({verdict})")  # fmt: skip


# endregion Runtime


def main() -> None:
    import argparse
    import subprocess
    import sys

    keys = [c.key for c in RUNTIME_CASES]
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runtime-only", action="store_true", help="only the runtime tables")
    parser.add_argument("--graphs-only", action="store_true", help="only the graph table")
    parser.add_argument("--calls", type=int, default=10, help="interleaved calls per engine")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument(
        "--models", default=",".join(keys), help=f"runtime tables, comma-separated: {keys}"
    )
    parser.add_argument(
        "--matmul-precision",
        choices=("f32", "bf16"),
        default="f32",
        help="bf16: each runtime table gains a 'red bf16' row (weights' matmuls in bf16)",
    )
    args = parser.parse_args()
    chosen = [k for k in args.models.split(",") if k]
    unknown = [k for k in chosen if k not in keys]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)} in --models (expected {keys})")
    threads = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.runtime_only:
            compare("gpt2", gpt2, True, tmp)
            compare("llama", llama, True, tmp)
            compare("lstm_classifier", lstm, False, tmp)
        if args.graphs_only:
            return
        if len(chosen) == 1:
            (case,) = [c for c in RUNTIME_CASES if c.key == chosen[0]]
            runtime_table(case, args.calls, threads, tmp, args.matmul_precision)
            return
    # One process per table: memory an earlier table freed but the allocator kept would hide
    # a later table's peak RSS growth.
    for key in [k for k in keys if k in chosen]:
        command = [sys.executable, __file__, "--runtime-only", "--models", key,
                   "--calls", str(args.calls), "--threads", args.threads,
                   "--matmul-precision", args.matmul_precision]  # fmt: skip
        sys.stdout.flush()
        if subprocess.run(command, check=False).returncode != 0:
            sys.exit(f"bench/peers.py: the runtime table of {key} failed")


if __name__ == "__main__":
    main()
