"""Time to first token with the prefix cache (issue 14): a request whose first 448 of 512
prompt tokens were computed by an earlier request, against the same request with no cache,
in one run, red's JIT, 1 thread; the prefix cache in memory and in Redis.

The model is HF GPT-2 (random weights) in red's greedy loop with one new token (the call is
the time to first token: prefill, then one decoding step), incrementalized and driven by
`red.generation.Generator` (prompt blocks of 16 tokens). Each timed cached request has a
fresh 64-token suffix after the shared 448 tokens, so that each finds exactly 448 tokens
cached; its tokens are compared with the same request run without a cache.

Run: `python bench/prefix_cache.py` (GPT-2-small's architecture, 12x768, vocab 50257);
`--quick` for a 4x64 GPT-2; `--repeat N` timed requests per row (medians)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RED_NUM_THREADS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from generate import AllLogits  # noqa: E402  (bench/generate.py, this script's folder)

from red.cache.prefix_cache import PrefixCache  # noqa: E402
from red.cache.store import MemoryStore  # noqa: E402
from red.frontends.generate import greedy  # noqa: E402
from red.frontends.torch_importer import import_torch  # noqa: E402
from red.generation import Generator  # noqa: E402

PROMPT, SHARED, BLOCK = 512, 448, 16


def gpt2(quick: bool) -> tuple[str, Any]:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    if quick:
        name, config = "GPT-2 4x64", GPT2Config(n_layer=4, n_embd=64, n_head=4, vocab_size=512,
                                                n_positions=PROMPT + 1)  # fmt: skip
    else:
        name, config = "GPT-2-small 12x768", GPT2Config(n_positions=1024)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # a trained model's spread of weights, so argmax varies
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return name, model.eval()


def seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure(gen: Generator, cache: PrefixCache | None, repeat: int, vocab: int) -> dict[str, Any]:
    """Median time to first token of requests sharing their first SHARED tokens with an
    earlier request (cached when `cache` is given), and whether the tokens equal those of the
    same requests without a cache."""
    rng = np.random.default_rng(1)
    shared = rng.integers(0, vocab, SHARED)

    def request() -> np.ndarray:
        return np.concatenate([shared, rng.integers(0, vocab, PROMPT - SHARED)])

    gen.cache = cache
    gen(request())  # the earlier request: fills the cache (and warms memos up)
    times, cached, same = [], [], True
    for _ in range(repeat):
        prompt = request()
        gen.cache = cache
        t, tokens = seconds(lambda prompt=prompt: gen(prompt))
        times.append(t)
        cached.append(gen.last_cached_tokens)
        if cache is not None:
            gen.cache = None
            same &= bool(np.array_equal(tokens, gen(prompt)))
    return {"seconds": statistics.median(times), "cached": sorted(set(cached)), "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 4x64 GPT-2 instead")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis row")
    options = parser.parse_args()
    torch.set_num_threads(1)
    name, model = gpt2(options.quick)
    vocab = model.config.vocab_size

    start = time.perf_counter()
    zeros = torch.zeros(1, PROMPT + 1, dtype=torch.long)
    imported = import_torch(AllLogits(model), (zeros,))
    # Room for PROMPT + 1 tokens: a request of PROMPT tokens decodes one. (The loop is built
    # for a prompt one shorter, so that it has two steps: canonicalize unrolls a one-step
    # loop, leaving nothing to incrementalize; the entry points take prompts of any length.)
    naive = greedy(imported.module, PROMPT - 1, 2)
    weights = [np.asarray(w) for w in imported.weights]
    gen = Generator(naive, weights, block_size=BLOCK, engine="jit", use_cache=False)
    prepared = time.perf_counter() - start

    rows: list[tuple[str, str]] = [("import, incrementalize and compile", f"{prepared:.1f} s")]
    none = measure(gen, None, options.repeat, vocab)
    rows.append(("time to first token, no cache", f"{none['seconds'] * 1e3:.1f} ms"))
    backends: list[tuple[str, Callable[[], Any]]] = [
        ("memory", lambda: PrefixCache(MemoryStore(1 << 31), block_size=BLOCK))
    ]
    server = None
    if not options.no_redis:
        from red.cache.local_redis import LocalRedisServer
        from red.cache.redis_store import RedisStore

        server = LocalRedisServer().start()
        backends.append(("Redis", lambda: PrefixCache(RedisStore(server.url), block_size=BLOCK)))
    try:
        for backend, make in backends:
            got = measure(gen, make(), options.repeat, vocab)
            label = f"{SHARED} of {PROMPT} cached ({backend})"
            rows += [
                (f"time to first token, {label}", f"{got['seconds'] * 1e3:.1f} ms"),
                ("  cached tokens found / tokens identical", f"{got['cached']} / {got['same']}"),
                ("  cached / no cache", f"{got['seconds'] / none['seconds']:.3f}x"),
            ]
    finally:
        if server is not None:
            server.stop()
    print(f"\n## {name}, prompt {PROMPT} tokens, first token, blocks of {BLOCK}, 1 thread, "
          f"medians of {options.repeat}")  # fmt: skip
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
