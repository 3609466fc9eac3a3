"""Writes the example models as a naive exporter would: examples/seed_chain.mlir,
examples/lstm_classifier.mlir, examples/gpt_decoder.mlir and examples/gpt_generate.mlir
(run from the repository root: `python examples/make_examples.py`). The committed .mlir
files are this script's output."""

from __future__ import annotations

import math
import os
import textwrap

import numpy as np

from red.frontends import builder as rb
from red.frontends.mlir_text import module_to_text

HERE = os.path.dirname(os.path.abspath(__file__))


def seed_chain():
    """@main(A, B, C) = A·B·C·A·B, left-associated: ((((A·B)·C)·A)·B)."""
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    a, b, c = (f.arg((64, 64), name=n) for n in ("A", "B", "C"))
    f.returns(a @ b @ c @ a @ b)
    return mb.build()


def linear(x, w, b):
    """torch.nn.Linear as exported: the (out, in) weight is transposed on every call."""
    return x @ w.T + b


def lstm_classifier(steps=16, inputs=32, hidden=64, classes=10):
    """An LSTM unrolled over `steps`, a linear layer over the whole output sequence, and only
    the last step's logits returned (`fc(lstm_out)[-1]`)."""
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    x = f.arg((steps, inputs), name="x")
    w_ih = f.arg((4 * hidden, inputs), name="w_ih", invariant=True)
    w_hh = f.arg((4 * hidden, hidden), name="w_hh", invariant=True)
    b_ih = f.arg((4 * hidden,), name="b_ih", invariant=True)
    b_hh = f.arg((4 * hidden,), name="b_hh", invariant=True)
    fc_w = f.arg((classes, hidden), name="fc_w", invariant=True)
    fc_b = f.arg((classes,), name="fc_b", invariant=True)
    h = f.constant(np.zeros((1, hidden), np.float32))
    c = f.constant(np.zeros((1, hidden), np.float32))
    outputs = []
    for t in range(steps):
        x_t = x[t : t + 1, :]
        gates = linear(x_t, w_ih, b_ih) + linear(h, w_hh, b_hh)
        i = rb.sigmoid(gates[:, 0:hidden])
        fg = rb.sigmoid(gates[:, hidden : 2 * hidden])
        g = rb.tanh(gates[:, 2 * hidden : 3 * hidden])
        o = rb.sigmoid(gates[:, 3 * hidden : 4 * hidden])
        c = fg * c + i * g
        h = o * rb.tanh(c)
        outputs.append(h)
    seq = rb.concat(outputs, axis=0)
    logits = linear(seq, fc_w, fc_b)
    f.returns(logits[steps - 1 : steps, :])
    return mb.build()


def gpt_decoder(seq=32, width=64, heads=4, vocab=512, layers=2, last_only=True):
    """A GPT-2-style decoder for next-token prediction: logits for every position are
    computed, then the last row is sliced out (all rows with `last_only=False`, as a decoder
    under a generation loop returns them)."""
    hd = width // heads
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    ids = f.arg((seq,), "i64", name="ids")
    wte = f.arg((vocab, width), name="wte", invariant=True)
    wpe = f.arg((seq, width), name="wpe", invariant=True)
    params = []
    for layer in range(layers):
        p = {}
        for name, shape in [
            ("ln1_g", (width,)), ("ln1_b", (width,)),
            ("attn_w", (width, 3 * width)), ("attn_b", (3 * width,)),
            ("proj_w", (width, width)), ("proj_b", (width,)),
            ("ln2_g", (width,)), ("ln2_b", (width,)),
            ("fc_w", (width, 4 * width)), ("fc_b", (4 * width,)),
            ("fc2_w", (4 * width, width)), ("fc2_b", (width,)),
        ]:  # fmt: skip
            p[name] = f.arg(shape, name=f"h{layer}_{name}", invariant=True)
        params.append(p)
    lnf_g = f.arg((width,), name="lnf_g", invariant=True)
    lnf_b = f.arg((width,), name="lnf_b", invariant=True)

    positions = f.iota((seq,), 0)
    x = rb.gather(wte, ids) + rb.gather(wpe, positions)
    for p in params:
        h = rb.layer_norm(x) * p["ln1_g"] + p["ln1_b"]
        qkv = h @ p["attn_w"] + p["attn_b"]
        q, k, v = (
            qkv[:, i * width : (i + 1) * width].reshape(seq, heads, hd).transpose(1, 0, 2)
            for i in range(3)
        )
        scores = (q @ k.transpose(0, 2, 1)) * (1.0 / math.sqrt(hd))
        # the causal mask, rebuilt in every layer as exporters do
        rows = f.iota((seq, seq), 0)
        cols = f.iota((seq, seq), 1)
        causal = cols.le(rows)
        scores = rb.select(causal, scores, -1e9)
        attn = rb.softmax(scores, axis=-1) @ v
        attn = attn.transpose(1, 0, 2).reshape(seq, width)
        x = x + (attn @ p["proj_w"] + p["proj_b"])
        h = rb.layer_norm(x) * p["ln2_g"] + p["ln2_b"]
        m = rb.gelu(h @ p["fc_w"] + p["fc_b"], approximate="tanh")
        x = x + (m @ p["fc2_w"] + p["fc2_b"])
    h = rb.layer_norm(x) * lnf_g + lnf_b
    logits = h @ wte.T  # LM head tied to the embedding, transposed on every call
    f.returns(logits[seq - 1 : seq, :] if last_only else logits)
    return mb.build()


def gpt_generate(prompt=8, new_tokens=8):
    """Greedy decoding with the GPT-2-style decoder: @generate pads an 8-token prompt to 16
    positions and, for t = 8..15, runs the whole decoder on the buffer, takes the argmax of
    row t-1 of the logits and writes it at t: the naive loop that recomputes every position
    at every step (red.frontends.generate.greedy around @main)."""
    from red.frontends.generate import greedy

    module = gpt_decoder(seq=prompt + new_tokens, last_only=False)
    return greedy(module, prompt, new_tokens)


def main() -> None:
    for name, make in [
        ("seed_chain", seed_chain),
        ("lstm_classifier", lstm_classifier),
        ("gpt_decoder", gpt_decoder),
        ("gpt_generate", gpt_generate),
    ]:
        path = os.path.join(HERE, f"{name}.mlir")
        with open(path, "w") as out:
            doc = " ".join(make.__doc__.split("\n\n")[0].split())
            out.write(textwrap.fill(doc, 96, initial_indent="// ", subsequent_indent="// "))
            out.write("\n// Generated by examples/make_examples.py.\n")
            out.write(module_to_text(make()))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
