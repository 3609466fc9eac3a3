"""Greedy generation: red's naive loop, the KV cache red derives (incrementalize), and HF
`generate(use_cache=True)` in PyTorch eager, side by side in one run (issue 11).

For each model (HF GPT-2 and Llama built from configs with random weights):
- FLOPs per generate call: red's cost model on the naive loop and on the incrementalized
  one, next to the FLOPs of HF's own KV-cache generation counted by
  `torch.utils.flop_counter` (matmuls and attention, as that counter counts). The matmul
  part of red's count is shown too, so the like-for-like ratio is `red matmul / HF`.
- Time per generated token, 1 thread, medians of `--repeat` calls: the naive loop compiled
  by red, the incrementalized loop compiled by red, HF generate with its cache; and whether
  the tokens are identical across all three (they must be).

Run: `python bench/generate.py` (small configs at P=64, N=64, then GPT-2-small's
architecture at P=128, N=32; `--quick` only the small configs, `--large` only GPT-2-small;
`--engine interp` runs red's rows in the interpreter instead of the JIT)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RED_NUM_THREADS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from xdsl.dialects import func, scf  # noqa: E402
from xdsl.dialects.builtin import ModuleOp  # noqa: E402

import red  # noqa: E402
from red.dialects import red as r  # noqa: E402
from red.dialects.symbols import is_private  # noqa: E402
from red.frontends.generate import greedy  # noqa: E402
from red.frontends.torch_importer import import_torch  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    prompt_len: int
    new_tokens: int
    build: Callable[[], Any]


def gpt2(n_layer: int, n_embd: int, n_head: int, vocab: int, positions: int) -> Callable[[], Any]:
    def build():
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(n_layer=n_layer, n_embd=n_embd, n_head=n_head, vocab_size=vocab,
                            n_positions=positions, bos_token_id=0, eos_token_id=0)  # fmt: skip
        return GPT2LMHeadModel(config)

    return build


def llama(hidden: int, layers: int, heads: int, kv_heads: int, inter: int, vocab: int):
    def build():
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(hidden_size=hidden, intermediate_size=inter,
                             num_hidden_layers=layers, num_attention_heads=heads,
                             num_key_value_heads=kv_heads, vocab_size=vocab,
                             max_position_embeddings=256, bos_token_id=0, eos_token_id=0)  # fmt: skip
        return LlamaForCausalLM(config)

    return build


SMALL = [
    Case("GPT-2 4x64", 64, 64, gpt2(4, 64, 4, 512, 128)),
    Case("Llama 4x64 (GQA 4/2)", 64, 64, llama(64, 4, 4, 2, 176, 512)),
]
LARGE = [Case("GPT-2-small 12x768", 128, 32, gpt2(12, 768, 12, 50257, 1024))]


class AllLogits(torch.nn.Module):
    """The usual export: logits of every position, no cache."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=False).logits


def model_of(case: Case) -> torch.nn.Module:
    torch.manual_seed(0)
    model = case.build()
    with torch.no_grad():  # random weights of a trained model's spread, so argmax varies
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up (memos, caches, first-call work)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_flops(module: ModuleOp, function: str) -> int:
    """FLOPs of the red.matmul ops of `function` per call, loops multiplied by their trip
    counts (static bounds), memo regions counted once as the first call does."""
    fn = next(
        o for o in module.body.ops if isinstance(o, func.FuncOp) and o.sym_name.data == function
    )
    total = 0
    for op in fn.walk():
        if not isinstance(op, r.MatmulOp):
            continue
        flops = op.cost().flops
        parent = op.parent_op()
        while parent is not None and parent is not fn:
            if isinstance(parent, scf.ForOp):
                flops *= trip_count(parent)
            parent = parent.parent_op()
        total += flops
    return total


def trip_count(loop: scf.ForOp) -> int:
    from xdsl.dialects import arith

    def value(v) -> int:
        owner = v.owner
        assert isinstance(owner, arith.ConstantOp), "bench loops have constant bounds"
        return owner.value.value.data  # type: ignore[union-attr]

    lb, ub, step = value(loop.lb), value(loop.ub), value(loop.step)
    return max(0, (ub - lb + step - 1) // step)


def only_generate(module: ModuleOp) -> ModuleOp:
    """A copy without the public functions other than @generate (the imported @main), which
    the JIT would compile for nothing."""
    pruned = module.clone()
    for op in list(pruned.body.ops):
        if isinstance(op, func.FuncOp) and op.sym_name.data != "generate" and not is_private(op):
            op.detach()
            op.erase(safe_erase=False)
    return pruned


def hf_generate(model, prompt: torch.Tensor, new_tokens: int):
    return model.generate(
        prompt, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
        use_cache=True, pad_token_id=0,
    )  # fmt: skip


def hf_flops(model, prompt: torch.Tensor, new_tokens: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        hf_generate(model, prompt, new_tokens)
    return counter.get_total_flops()


def run_case(case: Case, engine: str, repeat: int) -> list[tuple[str, str]]:
    model = model_of(case)
    total = case.prompt_len + case.new_tokens
    vocab = model.config.vocab_size
    prompt = torch.randint(
        0, vocab, (1, case.prompt_len), generator=torch.Generator().manual_seed(1)
    )

    start = time.perf_counter()
    imported = import_torch(AllLogits(model), (torch.zeros(1, total, dtype=torch.long),))
    naive = greedy(imported.module, case.prompt_len, case.new_tokens)
    derived = naive.clone()
    red.optimize(derived)
    prepare = time.perf_counter() - start
    args = [prompt.numpy().astype(np.int64), *(np.asarray(w) for w in imported.weights)]

    def runner(module: ModuleOp):
        if engine == "interp":
            interp = red.interpret(module)
            return lambda: interp.call("generate", *args)[0]
        fn = red.compile(only_generate(module)).function("generate")
        return lambda: fn.call(*args)[0]

    start = time.perf_counter()
    run_naive, run_derived = runner(naive), runner(derived)
    compile_s = time.perf_counter() - start
    with torch.no_grad():
        expected = hf_generate(model, prompt, case.new_tokens).numpy()
    naive_tokens, derived_tokens = run_naive(), run_derived()
    same = np.array_equal(naive_tokens, expected) and np.array_equal(derived_tokens, expected)

    report = {f["name"]: f for f in red.report(naive)["functions"]}["generate"]
    flops_naive, flops_derived = report["before"]["flops"], report["after"]["flops_per_call"]
    mm_naive, mm_derived = matmul_flops(naive, "generate"), matmul_flops(derived, "generate")
    flops_hf = hf_flops(model, prompt, case.new_tokens)

    t_naive = median_seconds(run_naive, max(1, repeat // 3))
    t_derived = median_seconds(run_derived, repeat)
    with torch.no_grad():
        t_hf = median_seconds(lambda: hf_generate(model, prompt, case.new_tokens), repeat)
    n = case.new_tokens
    ms = lambda s: f"{s / n * 1e3:.2f} ms"  # noqa: E731
    return [
        ("tokens identical (red naive, red incremental, HF)", str(same)),
        ("import + optimize / compile both", f"{prepare:.1f} s / {compile_s:.1f} s"),
        ("FLOPs per call: red naive", f"{flops_naive / 1e9:.3f} G (matmul {mm_naive / 1e9:.3f} G)"),
        ("FLOPs per call: red incremental", f"{flops_derived / 1e9:.3f} G (matmul {mm_derived / 1e9:.3f} G)"),
        ("FLOPs per call: HF KV cache (flop_counter)", f"{flops_hf / 1e9:.3f} G"),
        ("naive / incremental FLOPs", f"{flops_naive / flops_derived:.1f}x"),
        ("red incremental matmul / HF FLOPs", f"{mm_derived / flops_hf:.3f}x"),
        (f"per token: red naive ({engine})", ms(t_naive)),
        (f"per token: red incremental ({engine})", ms(t_derived)),
        ("per token: HF generate(use_cache=True), eager", ms(t_hf)),
        ("speed-up incremental over naive", f"{t_naive / t_derived:.1f}x"),
        ("HF time / red incremental time", f"{t_hf / t_derived:.2f}x"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the small configs")
    parser.add_argument("--large", action="store_true", help="only GPT-2-small's architecture")
    parser.add_argument("--engine", choices=["jit", "interp"], default="jit")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    torch.set_num_threads(1)
    cases = SMALL if options.quick else LARGE if options.large else SMALL + LARGE
    for case in cases:
        print(f"\n## {case.name}, P={case.prompt_len}, N={case.new_tokens}, 1 thread")
        rows = run_case(case, options.engine, options.repeat)
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
