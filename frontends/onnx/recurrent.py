"""Converters of the ONNX recurrent networks (LSTM, GRU, RNN): each op says what one time step
computes for one direction; `Recurrence.run` is the one direction loop they share: it runs the
step over the static sequence (reversed for a reverse direction) with the frontends' shared
time loop (`red.frontends.recurrence`: an scf.for over the steps, or unrolled when the
emitter's `unroll_recurrences` is set) and lays out Y, Y_h (and Y_c) as ONNX does.

A step is a function (projected input x_t, state) -> state, where the state is (H,) or
(H, C) and an entry may be None for a zero initial state (exporters pass zeros), so the
first step skips its recurrent terms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.frontends.onnx.elementwise import clip
from red.frontends.onnx.node import Node, OnnxEmitter, converts
from red.frontends.recurrence import State, Step, run_recurrence
from red.frontends.symbolic import SymbolicSizeError, fmt_dims

Activation = Callable[[Any], Any]

_ACTIVATIONS: dict[str, type[red.UnaryElementwiseOp]] = {
    "sigmoid": red.SigmoidOp,
    "tanh": red.TanhOp,
    "relu": red.ReluOp,
}


@dataclass
class Direction:
    """One direction of a recurrence: the input projection of every step
    ([seq, batch, gates * hidden]), the step, and the initial state."""

    xw: Any
    step: Step
    initial: State


class Recurrence:
    """What LSTM, GRU and RNN share: their inputs and attributes, per-direction weights, and
    the direction loop (`run`)."""

    def __init__(self, n: Node, e: OnnxEmitter, gates: int, default_activations: list[str]):
        self.n, self.e, self.gates = n, e, gates
        self.x = n.required(0)
        self.w, self.r, self.b = n.required(1), n.required(2), n.input(3)
        self.layout = n.attr("layout", 0)
        direction = n.attr("direction", "forward")
        if direction not in ("forward", "reverse", "bidirectional"):
            raise n.error(f"'{n.op_type}' direction '{direction}' is invalid")
        self.directions = ["forward", "reverse"] if direction == "bidirectional" else [direction]
        if self.layout:  # batch-first: [batch, seq, in] -> [seq, batch, in]
            self.x = e.transpose(self.x, [1, 0, 2])
        self.seq, self.batch, _ = e.shape(self.x)
        if e.is_dynamic(self.x):
            raise SymbolicSizeError(
                f"'{n.op_type}' over a symbolic sequence ({fmt_dims(e.shape(self.x))}) is not "
                "supported: the time loop runs a static number of steps"
            )
        self.hidden = n.attr("hidden_size") or e.shape(self.r)[-1]
        self.activations = self._activations(default_activations)
        self.clip = n.attr("clip")
        self.zero_state: np.ndarray | None = None
        lens = n.const_input(4, "sequence_lens")
        if lens is not None and not (lens == self.seq).all():
            raise n.unsupported(
                f"'{n.op_type}' with sequence_lens shorter than the sequence is not supported"
            )

    def _activations(self, defaults: list[str]) -> list[list[Activation]]:
        """The activation functions of each direction (f, g[, h])."""
        n, dirs, per_dir = self.n, len(self.directions), len(defaults)
        names = n.attr("activations") or defaults * dirs
        if len(names) != per_dir * dirs:
            raise n.error(f"'{n.op_type}' expects {per_dir} activations per direction, got {names}")
        if n.attr("activation_alpha") or n.attr("activation_beta"):
            raise n.unsupported(f"'{n.op_type}' activation_alpha/activation_beta are not supported")
        return [
            [self._activation(a) for a in names[d * per_dir : (d + 1) * per_dir]]
            for d in range(dirs)
        ]

    def _activation(self, name: str) -> Activation:
        cls = _ACTIVATIONS.get(name.lower())
        if cls is None:
            raise self.n.unsupported(f"'{self.n.op_type}' activation '{name}' is not supported")
        return lambda v: self.e.unary(cls, v)

    # region Weights and states

    def weight(self, v: Any, d: int) -> Any:
        """v[d], transposed to [in, gates * hidden] for x @ w."""
        return self.e.transpose(self.e.take(v, 0, d), [1, 0])

    def bias(self, d: int) -> tuple[Any, Any] | None:
        """(Wb[d], Rb[d]) or None."""
        if self.b is None:
            return None
        e, size = self.e, self.gates * self.hidden
        bd = e.take(self.b, 0, d)
        return e.slice_axis(bd, 0, 0, size), e.slice_axis(bd, 0, size, 2 * size)

    def summed_bias(self, d: int) -> Any | None:
        """Wb[d] + Rb[d] (a constant when the biases are), or None."""
        biases = self.bias(d)
        return None if biases is None else self.e.add(*biases)

    def initial(self, index: int, d: int) -> Any | None:
        """The initial state of direction d; None when absent or a constant zero."""
        v = self.n.input(index)
        if v is None or (isinstance(v, np.ndarray) and not v.any()):
            return None
        return self.e.take(v, 1 if self.layout else 0, d)  # layout 1: [batch, dirs, hidden]

    def zeros(self, like: Any) -> np.ndarray:
        """The zero state [batch, hidden] (one array, so it is materialized once)."""
        if self.zero_state is None:
            dtype = numpy_dtype(self.e.elt(like))
            self.zero_state = np.zeros((self.batch, self.hidden), dtype=dtype)
        return self.zero_state

    def clipped(self, v: Any) -> Any:
        if self.clip is None:
            return v
        return clip(self.e, v, -float(self.clip), float(self.clip))

    def gate(self, v: Any, k: int, count: int = 1) -> Any:
        """Gates k .. k + count - 1 of v [..., gates * hidden] (along its last axis)."""
        return self.e.slice_axis(v, -1, k * self.hidden, (k + count) * self.hidden)

    def input_projection(self, d: int, bias: Any | None) -> Any:
        """x @ W[d]^T (+ bias) for every step at once: [seq, batch, gates * hidden]."""
        xw: Any = self.e.matmul(self.x, self.weight(self.w, d))
        return xw if bias is None else self.e.add(xw, bias)

    # endregion Weights and states

    def run(self, direction: Callable[[int], Direction]) -> list[Any]:
        """The direction loop: every step of every direction, then the outputs."""
        sequences: list[Any] = []
        finals: list[State] = []
        for d in range(len(self.directions)):
            current = direction(d)
            ys, final = run_recurrence(
                self.e,
                current.xw,
                current.step,
                current.initial,
                reverse=self.directions[d] == "reverse",
                sequence=self.n.has_output(0),
                unroll=self.e.unroll_recurrences,
            )
            sequences.append(ys)
            finals.append(final)
        return self.outputs(sequences, finals)

    def outputs(self, sequences: Sequence[Any], finals: Sequence[State]) -> list[Any]:
        """Y [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]) from each
        direction's [seq, batch, hidden], then each final state entry (Y_h, Y_c)
        [dirs, batch, hidden] (layout 1: [batch, dirs, hidden])."""
        n, e = self.n, self.e
        s, b, h = self.seq, self.batch, self.hidden
        y = None
        if n.has_output(0):
            y = e.concat([e.reshape(ys, [s, 1, b, h]) for ys in sequences], 1)
            if self.layout:
                y = e.transpose(y, [2, 0, 1, 3])

        def final(k: int) -> Any:
            if not n.has_output(k + 1):
                return None
            stacked = e.concat([e.reshape(state[k], [1, b, h]) for state in finals], 0)
            return e.transpose(stacked, [1, 0, 2]) if self.layout else stacked

        return [y, *(final(k) for k in range(len(finals[0])))]


@converts("LSTM")
def _lstm(n: Node, e: OnnxEmitter) -> list[Any]:
    """Gates i, o, f, c (the ONNX order): C = f * C + i * g(c~), H = o * h(C); peepholes
    P = [Pi, Po, Pf] when given; `input_forget` couples f = 1 - i."""
    r = Recurrence(n, e, 4, ["Sigmoid", "Tanh", "Tanh"])
    coupled = n.attr("input_forget", 0)
    peepholes = n.input(7)

    def direction(d: int) -> Direction:
        f, g, h = r.activations[d]
        xw = r.input_projection(d, r.summed_bias(d))
        rt = r.weight(r.r, d)
        pi = po = pf = None
        if peepholes is not None:
            p = e.take(peepholes, 0, d)
            pi, po, pf = (e.slice_axis(p, 0, k * r.hidden, (k + 1) * r.hidden) for k in range(3))

        def step(x_t: Any, state: State) -> State:
            h_t, c_t = state
            gates = x_t if h_t is None else e.add(x_t, e.matmul(h_t, rt))
            c_prev = c_t if c_t is not None else r.zeros(gates)
            gi, go, gf, gc = (r.clipped(r.gate(gates, k)) for k in range(4))
            if pi is not None:
                gi, gf = e.add(gi, e.mul(pi, c_prev)), e.add(gf, e.mul(pf, c_prev))
            i = f(gi)
            forget = e.sub(1.0, i) if coupled else f(gf)
            c_new = e.mul(i, g(gc))
            if c_t is not None:
                c_new = e.add(e.mul(forget, c_t), c_new)
            if po is not None:
                go = e.add(go, e.mul(po, c_new))
            return e.mul(f(go), h(c_new)), c_new

        return Direction(xw, step, (r.initial(5, d), r.initial(6, d)))

    return r.run(direction)


@converts("GRU")
def _gru(n: Node, e: OnnxEmitter) -> list[Any]:
    """Gates z, r, h (the ONNX order): H = (1 - z) * g(h~) + z * H, the reset applied after
    the recurrent matmul with `linear_before_reset`."""
    r = Recurrence(n, e, 3, ["Sigmoid", "Tanh"])
    linear_before_reset = n.attr("linear_before_reset", 0)

    def direction(d: int) -> Direction:
        f, g = r.activations[d]
        wb, rb = r.bias(d) or (None, None)
        xw = r.input_projection(d, wb)
        rt = r.weight(r.r, d)
        rt_zr, rt_h = r.gate(rt, 0, 2), r.gate(rt, 2)
        rb_zr, rb_h = (None, None) if rb is None else (r.gate(rb, 0, 2), r.gate(rb, 2))

        def step(x_t: Any, state: State) -> State:
            (h_t,) = state
            x_zr, x_h = r.gate(x_t, 0, 2), r.gate(x_t, 2)
            h_prev = h_t if h_t is not None else r.zeros(x_t)
            zr = x_zr if h_t is None else e.add(x_zr, e.matmul(h_prev, rt_zr))
            if rb_zr is not None:
                zr = e.add(zr, rb_zr)
            z, reset = f(r.clipped(r.gate(zr, 0))), f(r.clipped(r.gate(zr, 1)))
            if linear_before_reset:
                hr = e.matmul(h_prev, rt_h)
                pre = e.add(x_h, e.mul(reset, hr if rb_h is None else e.add(hr, rb_h)))
            else:
                pre = e.add(x_h, e.matmul(e.mul(reset, h_prev), rt_h))
                pre = pre if rb_h is None else e.add(pre, rb_h)
            candidate = g(r.clipped(pre))
            h_new = e.mul(e.sub(1.0, z), candidate)
            return (h_new if h_t is None else e.add(h_new, e.mul(z, h_t)),)

        return Direction(xw, step, (r.initial(5, d),))

    return r.run(direction)


@converts("RNN")
def _rnn(n: Node, e: OnnxEmitter) -> list[Any]:
    """H = f(x W^T + H R^T + Wb + Rb)."""
    r = Recurrence(n, e, 1, ["Tanh"])

    def direction(d: int) -> Direction:
        (f,) = r.activations[d]
        xw = r.input_projection(d, r.summed_bias(d))
        rt = r.weight(r.r, d)

        def step(x_t: Any, state: State) -> State:
            (h_t,) = state
            return (f(r.clipped(x_t if h_t is None else e.add(x_t, e.matmul(h_t, rt)))),)

        return Direction(xw, step, (r.initial(5, d),))

    return r.run(direction)
