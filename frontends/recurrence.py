"""The time loop of recurrent layers, shared by the ONNX importer (LSTM, GRU, RNN) and the
PyTorch importer (nn.LSTM): a step function (projected input of one step, state) -> state
runs over the sequence, as an `scf.for` over the time steps (the default: the op count does
not grow with the sequence) or unrolled.

    ys, final = run_recurrence(e, xw, step, (h0, c0), reverse=False)

- `xw` is the input projection of every step, [seq, batch, width]; step t reads row t.
- The state is a tuple of [batch, hidden] values; an entry may be None for a zero initial
  state, which the step treats as absent (its recurrent terms vanish). The loop form runs that
  first step before the loop (peeled), so it costs what the unrolled form's first step costs.
- In the loop form, the state and the output buffer ys [seq, batch, hidden] are the loop's
  iter_args; step t reads its input with `red.dynamic_slice` and writes state[0] into ys
  with `red.dynamic_update_slice`. A reverse direction visits t = seq-1 .. 0 and writes row t,
  so ys is in time order either way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType
from xdsl.ir import Block, Region, SSAValue

from red.dialects.numpy_interop import numpy_dtype
from red.frontends.emitter import Emitter, Value

State = tuple[Any, ...]
Step = Callable[[Any, State], State]


def run_recurrence(
    e: Emitter,
    xw: Any,
    step: Step,
    initial: State,
    *,
    reverse: bool = False,
    sequence: bool = True,
    unroll: bool = False,
) -> tuple[Value | None, State]:
    """(ys, the final state): ys [seq, batch, hidden] holds state[0] after each step in time
    order (None unless `sequence`). See the module docstring."""
    seq = e.shape(xw)[0]
    order = list(reversed(range(seq))) if reverse else list(range(seq))
    if unroll:
        return _unrolled(e, xw, step, initial, order, sequence)
    return _loop(e, xw, step, initial, order, reverse, sequence)


def _input(e: Emitter, xw: Any, t: int) -> Value:
    """Row t of the input projection, [batch, width]."""
    return e.take(xw, 0, t)


def _unrolled(
    e: Emitter, xw: Any, step: Step, state: State, order: Sequence[int], sequence: bool
) -> tuple[Value | None, State]:
    outs: dict[int, Any] = {}
    for t in order:
        state = step(_input(e, xw, t), state)
        outs[t] = state[0]
    if not sequence:
        return None, state
    rows = [e.reshape(outs[t], [1, *e.shape(outs[t])]) for t in sorted(outs)]
    return e.concat(rows, 0), state


def _loop(
    e: Emitter,
    xw: Any,
    step: Step,
    state: State,
    order: Sequence[int],
    reverse: bool,
    sequence: bool,
) -> tuple[Value | None, State]:
    seq = len(order)
    zero = e.index(0)
    ys: Any = None
    if any(v is None for v in state):  # peel the step whose recurrent terms vanish
        t0 = order[0]
        state = step(_input(e, xw, t0), state)
        order = order[1:]
        if sequence:
            ys = _write(e, _zeros(e, state[0], seq), state[0], e.index(t0), zero)
    elif sequence:
        ys = _zeros(e, state[0], seq)
    if not order:
        return ys, state
    carried = [e.ssa(v) for v in state] + ([e.ssa(ys)] if sequence else [])
    lb = zero if len(order) == seq else e.index(seq - len(order))
    ub, one = e.index(seq), e.index(1)
    body = Block(arg_types=[IndexType(), *(v.type for v in carried)])
    iv, args = body.args[0], body.args[1:]
    iv.name_hint = "t"
    with e.inside(body):
        # iv runs over [seq - len(order), seq); a reverse direction visits t = seq - 1 - iv
        t = e.insert(arith.SubiOp(e.index(seq - 1), iv)).results[0] if reverse else iv
        width = e.shape(xw)[1:]
        row = e.dynamic_slice(xw, [t, zero, zero], [1, *width])
        new = step(e.reshape(row, list(width)), tuple(args[: len(state)]))
        yielded = [e.ssa(v) for v in new]
        if sequence:
            yielded.append(e.ssa(_write(e, args[-1], new[0], t, zero)))
        e.insert(scf.YieldOp(*yielded))
    loop = e.insert(scf.ForOp(lb, ub, one, carried, Region(body)))
    results = list(loop.results)
    return (results[-1] if sequence else None), tuple(results[: len(state)])


def _zeros(e: Emitter, like: Any, seq: int) -> np.ndarray:
    """The output buffer's initial value, [seq, *shape of like]."""
    return np.zeros((seq, *e.shape(like)), dtype=numpy_dtype(e.elt(like)))


def _write(e: Emitter, ys: Any, h: Any, t: SSAValue, zero: SSAValue) -> Value:
    """ys with row t set to h."""
    block = e.reshape(h, [1, *e.shape(h)])
    return e.dynamic_update_slice(ys, block, [t, *[zero] * len(e.shape(h))])
