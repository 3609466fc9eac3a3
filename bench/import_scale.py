"""Weights at real-model scale through the tools (issue 10, item 4): GPT-2-small (GPT2Config(),
124M parameters, random noised weights, ONNX from `torch.onnx.export(dynamo=True)`, input
1x128, full logits) imported with its weights as constants, beside its `--weights-as-args` twin.

Each tool runs as a child process (wall seconds, CPU seconds and peak RSS from `os.wait4`):
1. `red-import` (weights as dense resources: in an external data file, the default past
   64 MiB, or as hex blobs in the text with `--external-data-threshold none`; and the twin),
   with the sizes of the text and of the data file;
2. `red-opt -p red-pipeline` on each output;
3. in Python, `import_onnx` then `red.optimize`, for both.
Ratios are to the twin (same run) and peak RSS to the weights' bytes. The machine is shared:
wall time counts waiting for a core, CPU time does not; both are printed. The export and the
count of the weights' bytes run in child processes too: a child's peak RSS (`ru_maxrss`)
includes what its parent held when it was forked, so this process stays small.

Run: `python bench/import_scale.py [--quick] [--model MODEL.onnx]` (--quick: a 4-layer,
64-wide GPT-2 instead of GPT-2-small)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PYTHON_OPTIMIZE = """
import sys, time
from red.frontends.onnx import import_onnx
import red
start = time.perf_counter()
module = import_onnx(sys.argv[1], weights_as_args=sys.argv[2] == "1")
imported = time.perf_counter()
red.optimize(module)
print(f"{imported - start} {time.perf_counter() - imported}")
"""


@dataclass
class Run:
    """One child process: wall and CPU seconds, peak RSS in bytes, what it printed."""

    wall: float
    cpu: float
    rss: int
    stdout: str


def run(command: list[str]) -> Run:
    """Run `command` to completion; raise with its stderr if it fails."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        text = out.read().decode()
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, text)


def export_gpt2(path: Path, quick: bool) -> None:
    """GPT-2 (GPT2Config() or, quick, 4 layers 64 wide) with noised random weights, as ONNX."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = (
        GPT2Config(n_layer=4, n_embd=64, n_head=4, vocab_size=512, n_positions=128)
        if quick
        else GPT2Config()
    )
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.model(ids, use_cache=False).logits

    ids = torch.randint(0, cfg.vocab_size, (1, 128))
    with torch.no_grad():
        torch.onnx.export(Logits(), (ids,), str(path), dynamo=True, external_data=False)


WEIGHT_BYTES = """
import sys, math
from onnx import helper
from red.frontends.onnx import load_model
model, _ = load_model(sys.argv[1])  # the initializers' metadata, not their bytes
print(sum(
    math.prod(t.dims) * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    for t in model.graph.initializer
))
"""


def weight_bytes(path: Path) -> int:
    """The initializers' bytes (counted in a child process)."""
    return int(run([sys.executable, "-c", WEIGHT_BYTES, str(path)]).stdout)


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 4-layer 64-wide GPT-2")
    parser.add_argument("--model", default=None, help="an ONNX model to use instead")
    parser.add_argument("--export-to", default=None, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.export_to:
        export_gpt2(Path(args.export_to), args.quick)
        return
    work = Path(tempfile.mkdtemp(prefix="red-import-scale-"))
    model = Path(args.model) if args.model else work / "gpt2.onnx"
    if not args.model:
        start = time.perf_counter()
        run([sys.executable, __file__, "--export-to", str(model), *(["--quick"] * args.quick)])
        print(f"exported {model.name} in {time.perf_counter() - start:.1f} s")
    weights = weight_bytes(model)
    print(f"model {model}: {mb(size(model))}, initializers {mb(weights)}\n")

    variants = {
        "constants, external data": ["--external-data-threshold", "0"],
        "constants, blobs in text": ["--external-data-threshold", "none"],
        "--weights-as-args": ["--weights-as-args"],
    }
    twin = "--weights-as-args"
    imports: dict[str, Run] = {}
    opts: dict[str, Run] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for name, flags in variants.items():
        out = work / f"{name.split(',')[-1].strip().replace(' ', '_').strip('-')}.mlir"
        imports[name] = run(["red-import", str(model), "-o", str(out), *flags])
        sizes[name] = (size(out), size(Path(str(out) + ".weights")))
        optimized = work / f"opt_{out.name}"
        opts[name] = run(
            ["red-opt", str(out), "-p", "red-pipeline", "-o", str(optimized), *flags[:2]]
            if flags[0] != "--weights-as-args"
            else ["red-opt", str(out), "-p", "red-pipeline", "-o", str(optimized)]
        )
    python: dict[str, tuple[Run, float, float]] = {}
    for name, as_args in (("constants", "0"), (twin, "1")):
        r = run([sys.executable, "-c", PYTHON_OPTIMIZE, str(model), as_args])
        imported, optimized = (float(x) for x in r.stdout.split())
        python[name] = (r, imported, optimized)

    header = f"{'':28} {'wall s':>8} {'CPU s':>8} {'x twin':>7} {'peak RSS':>12} {'/weights':>9}"
    print("red-import")
    print(header + f" {'text':>12} {'data file':>12}")
    for name, r in imports.items():
        text, data = sizes[name]
        print(
            f"{name:28} {r.wall:8.2f} {r.cpu:8.2f} {r.cpu / imports[twin].cpu:7.2f} "
            f"{mb(r.rss):>12} {r.rss / weights:9.2f} {mb(text):>12} {mb(data):>12}"
        )
    print("\nred-opt -p red-pipeline on that output")
    print(header)
    for name, r in opts.items():
        print(
            f"{name:28} {r.wall:8.2f} {r.cpu:8.2f} {r.cpu / opts[twin].cpu:7.2f} "
            f"{mb(r.rss):>12} {r.rss / weights:9.2f}"
        )
    print("\nin Python: import_onnx, then red.optimize (seconds of wall time in the child)")
    print(f"{'':28} {'import':>8} {'optimize':>9} {'x twin':>7} {'CPU s':>8} {'peak RSS':>12}")
    for name, (r, imported, optimized) in python.items():
        print(
            f"{name:28} {imported:8.2f} {optimized:9.2f} {optimized / python[twin][2]:7.2f} "
            f"{r.cpu:8.2f} {mb(r.rss):>12}"
        )
    print(f"\n(outputs kept in {work}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
