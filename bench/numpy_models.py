"""Hand-written numpy forward passes of the example models (the baselines of
bench/runtime.py): `naive` computes what the model as written computes, `optimized` is what a
careful numpy programmer would write (weights transposed once, last row only)."""

from __future__ import annotations

import math

import numpy as np

# region GPT decoder (examples/gpt_decoder.mlir)


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    c = x - mean
    return c / np.sqrt((c * c).mean(-1, keepdims=True) + np.float32(eps)) * g + b


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    k = np.float32(math.sqrt(2.0 / math.pi))
    return (
        np.float32(0.5) * x * (np.float32(1) + np.tanh(k * (x + np.float32(0.044715) * x * x * x)))
    )


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def gpt_params(args: list[np.ndarray], layers: int = 2) -> tuple:
    ids, wte, wpe = args[0], args[1], args[2]
    rest = args[3:]
    per = [rest[12 * i : 12 * (i + 1)] for i in range(layers)]
    return ids, wte, wpe, per, rest[12 * layers], rest[12 * layers + 1]


def gpt_naive(*args: np.ndarray, heads: int = 4) -> np.ndarray:
    ids, wte, wpe, per, lnf_g, lnf_b = gpt_params(list(args))
    seq, width = ids.shape[0], wte.shape[1]
    hd = width // heads
    x = wte[ids] + wpe[np.arange(seq)]
    for ln1_g, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_g, ln2_b, fc_w, fc_b, fc2_w, fc2_b in per:
        h = _layer_norm(x, ln1_g, ln1_b)
        qkv = h @ attn_w + attn_b
        q, k, v = (
            qkv[:, i * width : (i + 1) * width].reshape(seq, heads, hd).transpose(1, 0, 2)
            for i in range(3)
        )
        scores = (q @ k.transpose(0, 2, 1)) * np.float32(1.0 / math.sqrt(hd))
        mask = np.arange(seq)[None, :] <= np.arange(seq)[:, None]
        scores = np.where(mask, scores, np.float32(-1e9))
        attn = (_softmax(scores) @ v).transpose(1, 0, 2).reshape(seq, width)
        x = x + (attn @ proj_w + proj_b)
        m = _gelu_tanh(_layer_norm(x, ln2_g, ln2_b) @ fc_w + fc_b)
        x = x + (m @ fc2_w + fc2_b)
    logits = _layer_norm(x, lnf_g, lnf_b) @ wte.T
    return logits[seq - 1 : seq]


class GptOptimized:
    """The careful numpy version: tied head transposed once, mask built once, the last
    layer's queries, MLP and head only for the last position."""

    def __init__(self, *args: np.ndarray, heads: int = 4):
        self.ids, self.wte, self.wpe, self.per, self.lnf_g, self.lnf_b = gpt_params(list(args))
        self.heads = heads
        self.head_w = np.ascontiguousarray(self.wte.T)
        seq = self.ids.shape[0]
        self.mask = np.arange(seq)[None, :] <= np.arange(seq)[:, None]
        self.pos = self.wpe[np.arange(seq)]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        seq, width = ids.shape[0], self.wte.shape[1]
        heads, hd = self.heads, width // self.heads
        x = self.wte[ids] + self.pos
        for i, (
            ln1_g,
            ln1_b,
            attn_w,
            attn_b,
            proj_w,
            proj_b,
            ln2_g,
            ln2_b,
            fc_w,
            fc_b,
            fc2_w,
            fc2_b,
        ) in enumerate(self.per):
            last = i == len(self.per) - 1
            h = _layer_norm(x, ln1_g, ln1_b)
            kv = h @ attn_w[:, width:] + attn_b[width:]
            k = kv[:, :width].reshape(seq, heads, hd).transpose(1, 0, 2)
            v = kv[:, width:].reshape(seq, heads, hd).transpose(1, 0, 2)
            rows = slice(seq - 1, seq) if last else slice(0, seq)
            q = (
                (h[rows] @ attn_w[:, :width] + attn_b[:width])
                .reshape(-1, heads, hd)
                .transpose(1, 0, 2)
            )
            scores = (q @ k.transpose(0, 2, 1)) * np.float32(1.0 / math.sqrt(hd))
            scores = np.where(self.mask[rows], scores, np.float32(-1e9))
            attn = (_softmax(scores) @ v).transpose(1, 0, 2).reshape(-1, width)
            x = x[rows] + (attn @ proj_w + proj_b)
            m = _gelu_tanh(_layer_norm(x, ln2_g, ln2_b) @ fc_w + fc_b)
            x = x + (m @ fc2_w + fc2_b)
        return _layer_norm(x, self.lnf_g, self.lnf_b) @ self.head_w


# endregion GPT decoder

# region LSTM classifier (examples/lstm_classifier.mlir)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.float32(1) / (np.float32(1) + np.exp(-x))


def lstm_naive(x, w_ih, w_hh, b_ih, b_hh, fc_w, fc_b):
    hidden = w_hh.shape[1]
    h = np.zeros((1, hidden), np.float32)
    c = np.zeros((1, hidden), np.float32)
    outs = []
    for t in range(x.shape[0]):
        gates = (x[t : t + 1] @ w_ih.T + b_ih) + (h @ w_hh.T + b_hh)
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    logits = np.concatenate(outs, 0) @ fc_w.T + fc_b
    return logits[-1:]


class LstmOptimized:
    """Weights transposed and biases summed once; the classifier on the last step only."""

    def __init__(self, w_ih, w_hh, b_ih, b_hh, fc_w, fc_b):
        self.w_ih, self.w_hh = np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T)
        self.b = b_ih + b_hh
        self.fc_w, self.fc_b = np.ascontiguousarray(fc_w.T), fc_b

    def __call__(self, x: np.ndarray) -> np.ndarray:
        hidden = self.w_hh.shape[0]
        h = np.zeros((1, hidden), np.float32)
        c = np.zeros((1, hidden), np.float32)
        pre = x @ self.w_ih + self.b
        for t in range(x.shape[0]):
            gates = pre[t : t + 1] + h @ self.w_hh
            i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        return h @ self.fc_w + self.fc_b


# endregion LSTM classifier

# region Seed chain (examples/seed_chain.mlir)


def chain_naive(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return a @ b @ c @ a @ b


def chain_optimized(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    t = a @ b
    return (t @ c) @ t


# endregion Seed chain
