"""Cache benchmark (issue 14), measured side by side in one run:

1. Compile cache: engine creation for an optimised model in a fresh process, each way:
   `red.compile` as it is today (no cache), compile_with_cache cold (empty cache: key, lowering,
   LLVM, store) and warm (key and load only) on the local directory and on Redis; the warm/cold
   ratios. Each figure is the median of --repeat fresh processes (parse and red-pipeline are
   done before the clock starts; the key, which hashes the IR, is inside it).
2. Prefix cache: store and load throughput of the per-block state of a GPT-2-small-sized model
   (12 layers x keys and values, 12 heads x 64, f32: 1.2 MB per 16-token block) for a
   512-token prompt, in memory, on the local directory and on Redis.

Models: the examples (gpt_decoder, lstm_classifier); `--hf` adds HF GPT-2 with 4 layers and
GPT-2 small (random weights; needs torch and transformers; a few minutes).
Redis: a throwaway redis-server on a free port (or the server of `--redis-url`).

Run: `python bench/cache.py [--repeat 3] [--hf] [--redis-url redis://host:port/db]`."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

import red
from red.cache.directory import DirectoryStore
from red.cache.fingerprint import BUILD_VARIABLE, red_build
from red.cache.prefix_cache import PrefixCache, join_blocks, split_blocks
from red.cache.store import MemoryStore, Store

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


# region Compile cache, one measurement per process
def child(path: str, url: str | None, mode: str) -> dict[str, float | bool]:
    """Time one engine creation in this (fresh) process; parse and pipeline are not timed."""
    from red.cache.compile_cache import CompileCache, CompileTarget, compile_with_cache, key_for
    from red.cache.config import open_store
    from red.lowering.jit import optimize

    with open(path, encoding="utf-8") as f:
        module = red.parse(f.read(), path)
    if mode == "jit":
        start = time.perf_counter()
        red.compile(module)
        return {"seconds": time.perf_counter() - start}
    assert url is not None
    cache = CompileCache(open_store(url))
    lowered: list[int] = []

    def lower() -> str:
        lowered.append(1)
        return red.to_llvm_ir(module)

    start = time.perf_counter()
    target = CompileTarget.host(3)
    key = key_for(module, {"opt": 3}, target)
    keyed = time.perf_counter()
    engine = compile_with_cache(
        lower, target, cache, key=key, optimize=lambda m, tm: optimize(m, tm, 3)
    )
    done = time.perf_counter()
    assert engine.get_function_address("red_main")
    return {"seconds": done - start, "key": keyed - start, "hit": not lowered}


def measure(path: str, url: str | None, mode: str) -> dict[str, Any]:
    args = [sys.executable, os.path.abspath(__file__), "--child", path, "--mode", mode]
    if url is not None:
        args += ["--url", url]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def median_of(repeat: int, path: str, url: str | None, mode: str, reset: Any = None) -> dict:
    runs = []
    for _ in range(repeat):
        if reset is not None:
            reset()
        runs.append(measure(path, url, mode))
    seconds = statistics.median(r["seconds"] for r in runs)
    key = statistics.median(r.get("key", 0.0) for r in runs)
    hits = sum(bool(r.get("hit")) for r in runs)
    return {"seconds": seconds, "key": key, "hits": hits}


def _check_hits(cold: dict, cold_hits: int, warm: dict, warm_hits: int) -> None:
    """A figure is only reported for the path it names: cold runs missed, warm runs hit."""
    if (cold["hits"], warm["hits"]) != (cold_hits, warm_hits):
        raise RuntimeError(f"expected {cold_hits} and {warm_hits} hits: {cold}, {warm}")


def compile_section(models: dict[str, str], repeat: int, redis_url: str | None) -> None:
    start = time.perf_counter()
    build = red_build()
    seconds = time.perf_counter() - start
    # Other engineers edit this checkout while the benchmark runs: pin the build in the keys
    # (hashing red's sources, which each process does once, takes the time printed here).
    os.environ[BUILD_VARIABLE] = build
    print(f"== compile cache: engine creation in a fresh process, median of {repeat} ==")
    print(f"(red build {build}: hashing red's sources took {seconds:.4f} s, once per process)")
    header = (
        f"{'model':<16} {'ops':>5} {'red.compile':>11} {'cold local':>10} {'warm local':>10} "
        f"{'warm/cold':>9} {'key':>7}"
    )
    if redis_url:
        header += f" {'cold redis':>10} {'warm redis':>10} {'warm/cold':>9}"
    print(header)
    for name, path in models.items():
        with open(path, encoding="utf-8") as f:
            ops = sum(1 for _ in red.parse(f.read(), path).walk())
        directory = tempfile.mkdtemp(prefix="red-bench-cache-")
        store = DirectoryStore(directory, 1 << 30)
        jit = median_of(repeat, path, None, "jit")
        cold = median_of(repeat, path, directory, "cache", reset=store.clear)
        warm = median_of(repeat, path, directory, "cache")
        _check_hits(cold, 0, warm, repeat)
        row = (
            f"{name:<16} {ops:>5} {jit['seconds']:>10.3f}s {cold['seconds']:>9.3f}s "
            f"{warm['seconds']:>9.3f}s {100 * warm['seconds'] / cold['seconds']:>8.1f}% "
            f"{warm['key']:>6.3f}s"
        )
        if redis_url:
            remote = _redis_store(redis_url)
            rcold = median_of(repeat, path, redis_url, "cache", reset=remote.clear)
            rwarm = median_of(repeat, path, redis_url, "cache")
            _check_hits(rcold, 0, rwarm, repeat)
            row += (
                f" {rcold['seconds']:>9.3f}s {rwarm['seconds']:>9.3f}s "
                f"{100 * rwarm['seconds'] / rcold['seconds']:>8.1f}%"
            )
        print(row, flush=True)
    print(
        "(cold = key + lowering + LLVM O3 + object code + store + load; warm = key + load; "
        "key = hashing the IR, weights by content)"
    )


# endregion Compile cache, one measurement per process


# region Prefix cache throughput
def prefix_section(stores: dict[str, Store], prompt: int = 512, repeat: int = 3) -> None:
    layers, heads, head_dim, block = 12, 12, 64, 16
    rng = np.random.default_rng(0)
    state = [
        rng.standard_normal((heads, prompt, head_dim)).astype(np.float32) for _ in range(2 * layers)
    ]
    tokens = rng.integers(0, 50257, prompt)
    megabytes = sum(s.nbytes for s in state) / 1e6
    blocks = prompt // block
    print(
        f"== prefix cache: a {prompt}-token prompt, {blocks} blocks of {block} tokens, "
        f"{megabytes:.1f} MB of state (GPT-2-small shape), best of {repeat} =="
    )
    print(f"{'backend':<10} {'store s':>8} {'store MB/s':>10} {'load s':>8} {'load MB/s':>10}")
    for name, store in stores.items():
        cache = PrefixCache(store, block)
        stored, loaded = [], []
        for i in range(repeat):
            store.clear()
            fingerprint = f"bench{i}"
            start = time.perf_counter()
            written = cache.store(fingerprint, tokens, split_blocks(state, prompt, block, axis=1))
            stored.append(time.perf_counter() - start)
            start = time.perf_counter()
            n, got = cache.longest_prefix(fingerprint, tokens)
            joined = join_blocks(got, axis=1)
            loaded.append(time.perf_counter() - start)
            if (written, n) != (blocks, prompt):
                raise RuntimeError(f"stored {written} of {blocks} blocks, found {n} tokens")
            assert all(np.array_equal(a, b) for a, b in zip(joined, state, strict=True))
        s, ld = min(stored), min(loaded)
        print(f"{name:<10} {s:>8.4f} {megabytes / s:>10.0f} {ld:>8.4f} {megabytes / ld:>10.0f}")
        store.clear()
    print("(store = split into blocks + encode + write; load = read + check + decode + join)")


# endregion Prefix cache throughput


# region Models
def example_models(directory: str) -> dict[str, str]:
    models = {}
    for name in ("gpt_decoder", "lstm_classifier"):
        module = red.parse_file(os.path.join(EXAMPLES, f"{name}.mlir"))
        red.optimize(module)
        models[name] = _write(directory, name, module)
    return models


def hf_models(directory: str) -> dict[str, str]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from red.frontends.torch_importer import import_torch

    class LastLogits(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any) -> Any:
            return self.model(ids, use_cache=False).logits[:, -1, :]

    models = {}
    for name, cfg in (("gpt2-4layer", GPT2Config(n_layer=4)), ("gpt2-small", GPT2Config())):
        torch.manual_seed(0)
        model = LastLogits(GPT2LMHeadModel(cfg).eval()).eval()
        start = time.perf_counter()
        imported = import_torch(model, (torch.randint(0, cfg.vocab_size, (1, 32)),))
        red.optimize(imported.module)
        print(
            f"({name}: imported and optimised in {time.perf_counter() - start:.1f} s)", flush=True
        )
        models[name] = _write(directory, name, imported.module)
    return models


def _write(directory: str, name: str, module: Any) -> str:
    path = os.path.join(directory, f"{name}.mlir")
    with open(path, "w", encoding="utf-8") as f:
        f.write(red.to_text(module))
    return path


# endregion Models


def _redis_store(url: str) -> Store:
    from red.cache.redis_store import RedisStore

    return RedisStore(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hf", action="store_true", help="add HF GPT-2 (4 layers, small)")
    parser.add_argument("--redis-url", help="use this Redis instead of a throwaway server")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.mode)))
        return

    server = None
    redis_url = args.redis_url
    if redis_url is None:
        try:
            from red.cache.local_redis import LocalRedisServer

            server = LocalRedisServer().start()
            redis_url = server.url
        except (FileNotFoundError, RuntimeError) as err:
            print(f"(no Redis: {err}; Redis columns are left out)")
    try:
        with tempfile.TemporaryDirectory(prefix="red-bench-models-") as directory:
            models = example_models(directory)
            if args.hf:
                models.update(hf_models(directory))
            compile_section(models, args.repeat, redis_url)
        print()
        with tempfile.TemporaryDirectory(prefix="red-bench-prefix-") as directory:
            stores: dict[str, Store] = {
                "memory": MemoryStore(1 << 30),
                "local": DirectoryStore(directory, 1 << 30),
            }
            if redis_url:
                stores["redis"] = _redis_store(redis_url)
            prefix_section(stores)
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
