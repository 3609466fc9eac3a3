"""torch.compile(model, backend="red") against eager PyTorch and backend="inductor" on one
thread: training step time, the losses step by step, and what red-pipeline removes from the
forward and backward graphs AOTAutograd hands it.

    python bench/torch_compile.py [--steps 200] [--gpt2-steps 50] [--no-inductor]

Models: the seed's SimplifiedLSTM (nn.LSTM 32 -> 64, nn.Linear 64 -> 10 on the last step;
sequences of 16 steps, batch 4, cross-entropy, SGD lr 0.1) and HF GPT-2 from a small config
(2 layers, 64 wide, 4 heads, vocabulary 128; batch 4 x 32 tokens; next-token cross-entropy
inside the compiled module; AdamW lr 1e-3; dropout 0). Each backend trains its own copy of
the same initial weights on the same batch; the steps of the backends are interleaved so
that machine load falls on all of them alike. A step is forward + backward + optimizer step
+ zero_grad; the first step (which compiles) is timed separately as "first step". The
minimum step time is shown beside the median: on a loaded shared machine it is the figure
least moved by other processes."""

from __future__ import annotations

import os

os.environ.setdefault("RED_NUM_THREADS", "1")  # red's kernels on one thread, as torch below

import argparse
import contextlib
import copy
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch

from red.frontends.torch_dynamo import RedBackend


class SimplifiedLSTM(torch.nn.Module):
    """The seed's example: nn.LSTM, then nn.Linear on the last step."""

    def __init__(self, inputs: int = 32, hidden: int = 64, classes: int = 10):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden)
        self.fc = torch.nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[-1])


class LMLoss(torch.nn.Module):
    """A causal LM's next-token cross-entropy."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = self.model(ids, use_cache=False).logits
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)
        )


def gpt2() -> torch.nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=32,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        bos_token_id=0, eos_token_id=0)  # fmt: skip
    return LMLoss(GPT2LMHeadModel(config))


class Run:
    """One backend training its own copy of the model."""

    def __init__(self, name: str, model: torch.nn.Module, backend: Any, make_opt: Callable):
        self.name = name
        self.backend = backend
        self.net = (
            model if backend is None else torch.compile(model, backend=backend, dynamic=False)
        )
        self.opt = make_opt(model.parameters())
        self.losses: list[float] = []
        self.times: list[float] = []
        self.error = ""
        # inductor cannot compile oneDNN's fused LSTM layer under AOTAutograd (a TypeError
        # in its fake-tensor kernel): it traces the decomposed LSTM, as red's backend does
        self.context = (
            (lambda: torch.backends.mkldnn.flags(enabled=False))
            if backend == "inductor"
            else contextlib.nullcontext
        )

    def step(self, loss_of: Callable[[Any], torch.Tensor]) -> None:
        if self.error:
            return
        start = time.perf_counter()
        try:
            with self.context():
                loss = loss_of(self.net)
                loss.backward()
                self.opt.step()
                self.opt.zero_grad()
        except Exception as err:  # inductor without a working C++ toolchain, say
            self.error = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
            return
        self.times.append(time.perf_counter() - start)
        self.losses.append(loss.item())


def train(model: torch.nn.Module, make_opt: Callable, loss_of: Callable, steps: int,
          inductor: bool) -> tuple[list[Run], RedBackend]:  # fmt: skip
    red_backend = RedBackend(report=True)
    runs = [Run("eager", copy.deepcopy(model), None, make_opt),
            Run("red", copy.deepcopy(model), red_backend, make_opt)]  # fmt: skip
    if inductor:
        runs.append(Run("inductor", copy.deepcopy(model), "inductor", make_opt))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            for run in runs:
                run.step(loss_of)
    for w in caught:
        if "red" in str(w.message)[:4]:
            print(f"warning: {w.message}")
    return runs, red_backend


def print_runs(title: str, runs: list[Run], backend: RedBackend) -> None:
    eager = runs[0]
    base = statistics.median(eager.times[1:])
    print(f"== {title} ==")
    best = min(eager.times[1:])
    print(f"{'backend':<10}{'first step (s)':>16}{'step median (ms)':>18}{'step mean (ms)':>16}"
          f"{'step min (ms)':>15}{'eager/backend':>15}{'(min)':>7}{'max rel loss diff':>19}"
          f"{'graphs red/eager':>18}")  # fmt: skip
    for run in runs:
        if run.error:
            print(f"{run.name:<10} failed: {run.error}")
            continue
        rest = run.times[1:]
        median = statistics.median(rest)
        diff = max(abs(a - b) / abs(b) for a, b in zip(run.losses, eager.losses, strict=False))
        graphs = "-"
        if run.backend is backend:
            engines = Counter(g.engine for g in backend.graphs)
            graphs = f"{engines['red']}/{engines['eager']}"
        print(f"{run.name:<10}{run.times[0]:>16.2f}{median * 1e3:>18.3f}"
              f"{statistics.fmean(rest) * 1e3:>16.3f}{min(rest) * 1e3:>15.3f}{base / median:>15.2f}"
              f"{best / min(rest):>7.2f}{diff:>19.2e}{graphs:>18}")  # fmt: skip
    print(
        f"losses: first {eager.losses[0]:.4f}, last {eager.losses[-1]:.4f} (eager), "
        f"{len(eager.losses)} steps"
    )


def print_redundancy(title: str, backend: RedBackend) -> None:
    print(f"== {title}: what red-pipeline removes (red.report of each graph) ==")
    print(f"{'graph':<10}{'aten ops':>9}{'red ops':>14}{'FLOPs per call':>30}  {'bytes moved':>28}"
          f"{'compile (s)':>12}  findings (bytes moved they saved)")  # fmt: skip
    for g in backend.graphs:
        if g.report is None:
            print(f"{g.kind:<10}{g.aten_ops:>9}  runs eagerly: {g.reason}")
            continue
        (fn,) = g.report["functions"]
        before, after = fn["before"], fn["after"]
        kinds = Counter(f["kind"] for f in fn["findings"])
        saved = Counter()
        for f in fn["findings"]:
            saved[f["kind"]] += f["bytes_saved"]
        findings = ", ".join(f"{k} {n} ({saved[k]:,} B)" for k, n in kinds.most_common())
        ops = f"{before['ops']} -> {after['ops']}"
        flops = f"{before['flops']:,} -> {after['flops_per_call']:,}"
        moved = f"{before['bytes']:,} -> {after['bytes']:,}"
        print(
            f"{g.kind:<10}{g.aten_ops:>9}{ops:>14}{flops:>30}  {moved:>28}{g.seconds:>12.1f}  "
            f"{findings or '-'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="LSTM training steps")
    parser.add_argument("--gpt2-steps", type=int, default=50, help="GPT-2 training steps")
    parser.add_argument("--no-inductor", action="store_true", help="skip backend='inductor'")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch._dynamo.config.allow_rnn = True  # else dynamo runs nn.LSTM eagerly (a graph break)
    torch.manual_seed(0)

    x, y = torch.randn(16, 4, 32), torch.randint(0, 10, (4,))
    runs, backend = train(
        SimplifiedLSTM(),
        lambda params: torch.optim.SGD(params, lr=0.1),
        lambda net: torch.nn.functional.cross_entropy(net(x), y),
        args.steps,
        not args.no_inductor,
    )
    title = f"SimplifiedLSTM (32 -> 64 -> 10), seq 16, batch 4, SGD, {args.steps} steps, 1 thread"
    print_runs(title, runs, backend)
    print_redundancy("SimplifiedLSTM", backend)

    ids = torch.randint(0, 128, (4, 32))
    runs, backend = train(
        gpt2(),
        lambda params: torch.optim.AdamW(params, lr=1e-3),
        lambda net: net(ids, ids),
        args.gpt2_steps,
        not args.no_inductor,
    )
    print_runs(f"GPT-2 (2 layers, 64 wide), batch 4 x 32, AdamW, {args.gpt2_steps} steps, 1 thread",
               runs, backend)  # fmt: skip
    print_redundancy("GPT-2", backend)


if __name__ == "__main__":
    main()
