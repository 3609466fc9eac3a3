"""Decoders for the generation tests: a GPT-style model built with the builder over a fixed
number of positions, its random inputs, and look-ups into a module."""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects import func, scf
from xdsl.dialects.builtin import ModuleOp

from red.dialects import red as r
from red.frontends import builder as rb


def decoder(
    seq: int,
    width: int = 16,
    heads: int = 2,
    kv_heads: int | None = None,
    vocab: int = 32,
    layers: int = 2,
    additive_mask: bool = False,
) -> ModuleOp:
    """A GPT-style decoder over `seq` positions returning every position's logits; with
    kv_heads < heads, keys and values are shared by groups of heads (GQA, repeated by a
    broadcast as HF's repeat_kv does); the mask is a select, or added (0 / -inf)."""
    kv_heads = kv_heads or heads
    hd = width // heads
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    ids = f.arg((1, seq), "i64", name="ids")
    wte = f.arg((vocab, width), name="wte", invariant=True)
    wpe = f.arg((seq, width), name="wpe", invariant=True)
    params = [
        {
            n: f.arg(s, name=f"h{layer}_{n}", invariant=True)
            for n, s in [
                ("wq", (width, width)),
                ("wk", (width, kv_heads * hd)),
                ("wv", (width, kv_heads * hd)),
                ("proj", (width, width)),
                ("fc", (width, 4 * width)),
                ("fc2", (4 * width, width)),
            ]
        }
        for layer in range(layers)
    ]
    rows, cols = f.iota((seq, seq), 0), f.iota((seq, seq), 1)
    if additive_mask:
        mask = f.constant(np.where(np.tri(seq, dtype=bool), 0.0, -np.inf).astype(np.float32))
    x = rb.gather(wte, ids.reshape(seq)) + rb.gather(wpe, f.iota((seq,), 0))
    for p in params:
        h = rb.layer_norm(x)
        q = (h @ p["wq"]).reshape(seq, heads, hd).transpose(1, 0, 2)
        k = (h @ p["wk"]).reshape(seq, kv_heads, hd).transpose(1, 0, 2)
        v = (h @ p["wv"]).reshape(seq, kv_heads, hd).transpose(1, 0, 2)
        if kv_heads != heads:  # repeat_kv: (kv, s, d) -> (kv, rep, s, d) -> (heads, s, d)
            rep = heads // kv_heads
            k = k.reshape(kv_heads, 1, seq, hd).broadcast_to((kv_heads, rep, seq, hd))
            v = v.reshape(kv_heads, 1, seq, hd).broadcast_to((kv_heads, rep, seq, hd))
            k, v = k.reshape(heads, seq, hd), v.reshape(heads, seq, hd)
        scores = (q @ k.transpose(0, 2, 1)) * (1.0 / math.sqrt(hd))
        scores = scores + mask if additive_mask else rb.select(cols.le(rows), scores, -1e9)
        a = (rb.softmax(scores, axis=-1) @ v).transpose(1, 0, 2).reshape(seq, width)
        x = x + a @ p["proj"]
        x = x + rb.gelu(rb.layer_norm(x) @ p["fc"], approximate="tanh") @ p["fc2"]
    logits = rb.layer_norm(x) @ wte.T
    f.returns(logits.reshape(1, seq, vocab))
    return mb.build()


def generate_inputs(module: ModuleOp, prompt_len: int, seed: int = 0) -> list[np.ndarray]:
    fn = function(module, "generate")
    rng = np.random.default_rng(seed)
    vocab = r.shape_of(fn.body.block.args[1])[0]
    prompt = rng.integers(0, vocab, size=(1, prompt_len)).astype(np.int64)
    weights = [
        (rng.standard_normal(r.shape_of(a)) * 0.5).astype(np.float32)
        for a in fn.body.block.args[1:]
    ]
    return [prompt, *weights]


def function(module: ModuleOp, name: str) -> func.FuncOp:
    return next(
        o for o in module.body.ops if isinstance(o, func.FuncOp) and o.sym_name.data == name
    )


def loops(module: ModuleOp) -> list[scf.ForOp]:
    return [o for o in module.walk() if isinstance(o, scf.ForOp)]


def bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
