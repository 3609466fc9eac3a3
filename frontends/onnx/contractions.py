"""Converters of the ONNX contractions: MatMul (1-d operands included), Gemm, and CumSum as a
matmul with a constant triangle (along a symbolic axis: a loop of running sums)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.frontends.onnx.node import Node, OnnxEmitter, converts
from red.frontends.symbolic import is_symbolic


def matmul_nd(e: OnnxEmitter, a: Any, b: Any) -> Any:
    """numpy.matmul, 1-d operands included (promoted, then the added dim dropped)."""
    sa, sb = e.shape(a), e.shape(b)
    if len(sa) == 1:
        a = e.reshape(a, [1, sa[0]])
    if len(sb) == 1:
        b = e.reshape(b, [sb[0], 1])
    out: Any = e.matmul(a, b)
    shape = list(e.shape(out))
    if len(sb) == 1:
        shape.pop(-1)
    if len(sa) == 1:
        shape.pop(-1 if len(sb) == 1 else -2)
    return e.reshape(out, shape)


@converts("MatMul")
def _matmul(n: Node, e: OnnxEmitter) -> list[Any]:
    return [matmul_nd(e, n.required(0), n.required(1))]


@converts("Gemm")
def _gemm(n: Node, e: OnnxEmitter) -> list[Any]:
    """alpha * op(A) @ op(B) + beta * C."""
    a, b, c = n.required(0), n.required(1), n.input(2)
    alpha, beta = n.attr("alpha", 1.0), n.attr("beta", 1.0)
    n.attr("broadcast")  # opset < 7: C always broadcasts here
    if n.attr("transA", 0):
        a = e.transpose(a, [1, 0])
    if n.attr("transB", 0):
        b = e.transpose(b, [1, 0])
    y: Any = e.matmul(a, b)
    if alpha != 1.0:
        y = e.mul(y, alpha)
    if c is not None:
        y = e.add(y, c if beta == 1.0 else e.mul(c, beta))
    return [y]


@converts("CumSum")
def _cumsum(n: Node, e: OnnxEmitter) -> list[Any]:
    """A matmul with a constant 0/1 triangle along the (moved-last) axis; along a symbolic
    axis, running sums in a loop (SizedEmitter.running_sum), else a run-time triangle."""
    x = n.required(0)
    axis_array = n.required_const(1, "axis")
    shape = e.shape(x)
    rank = len(shape)
    axis = n.axis(int(axis_array.reshape(-1)[0]), rank)
    size = shape[axis]
    reverse, exclusive = n.attr("reverse", 0), n.attr("exclusive", 0)
    triangle: Any
    if not is_symbolic(size):
        j, i = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")  # term j into sum i
        take = j >= i if reverse else j <= i
        if exclusive:
            take &= j != i
        triangle = take.astype(numpy_dtype(e.elt(x)))
    elif (summed := e.running_sum(x, axis, bool(reverse), bool(exclusive))) is not None:
        return [summed]
    else:  # the same triangle from run-time iotas
        j, i = e.iota([size, 1], 0), e.iota([1, size], 1)
        cls = (
            (red.GtOp if reverse else red.LtOp)
            if exclusive
            else (red.GeOp if reverse else red.LeOp)
        )
        triangle = e.cast(e.binary(cls, j, i), e.elt(x))
    perm = [d for d in range(rank) if d != axis] + [axis]
    moved = e.transpose(x, perm)
    rows = e.reshape(moved, [math.prod(e.shape(moved)[:-1]), size])
    summed = e.reshape(e.matmul(rows, triangle), e.shape(moved))
    inverse = [perm.index(d) for d in range(rank)]
    return [e.transpose(summed, inverse)]
