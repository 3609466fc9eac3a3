"""Review of ONNX CumSum along a symbolic axis as a loop of running sums (frontends/sizes.py
running_sum): axes given negative or as a 1-element array, the symbolic axis first or alone,
and a second symbolic dim (the triangle path), each against onnxruntime at every length,
interpreted and compiled."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_onnx_importer import assert_close, node, run_onnxruntime
from test_onnx_symbolic import F32, I64, LENGTHS, Pattern, result_types, scalar

import red
from red.frontends.onnx import import_onnx


def cumsum(shape: list[Any], axis: np.ndarray, dtype: Any = F32, **attrs: Any) -> Pattern:
    elt = "i64" if dtype == I64 else "f32"
    dims = "x".join("?" if isinstance(d, str) else str(d) for d in shape)
    return Pattern(
        [node("CumSum", ["x", "axis"], **attrs)],
        {"x": (dtype, shape)},
        f"tensor<{dims}x{elt}>",
        {"axis": axis},
    )


@pytest.mark.parametrize(
    ("shape", "axis", "attrs", "dtype"),
    [
        pytest.param([2, "seq", 3], scalar(-2), {"reverse": 1}, F32, id="negative-axis-reverse"),
        pytest.param([2, "seq", 3], np.asarray([1]), {"exclusive": 1}, F32, id="axis-array"),
        pytest.param(["seq", 5], scalar(0), {"reverse": 1, "exclusive": 1}, F32, id="first-axis"),
        pytest.param(["seq"], scalar(0), {"exclusive": 1}, F32, id="one-dim"),
        pytest.param([2, "seq", 3], scalar(-2), {"reverse": 1}, I64, id="i64"),
    ],
)
def test_cumsum_along_a_symbolic_axis_matches_onnxruntime(shape, axis, attrs, dtype):
    pattern = cumsum(shape, axis, dtype, **attrs)
    model = pattern.model()

    module = import_onnx(model)

    assert result_types(module) == [pattern.result_type]
    assert any(op.name == "scf.for" for op in module.walk())
    runner, jit = red.interpret(module), red.compile(module)
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        expected = run_onnxruntime(model, feeds)
        assert_close(runner.call("main", *feeds.values()), expected)
        assert_close((jit.main(*feeds.values()),), expected)


def test_cumsum_with_another_symbolic_dim_keeps_the_triangle():
    pattern = Pattern(
        [node("CumSum", ["x", "axis"], exclusive=1, reverse=1)],
        {"x": (F32, ["b", "seq"])},
        "tensor<?x?xf32>",
        {"axis": scalar(1)},
    )
    model = pattern.model()

    module = import_onnx(model)

    assert any(op.name == "red.matmul" for op in module.walk())  # by the run-time triangle
    runner = red.interpret(module)
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        assert_close(runner.call("main", *feeds.values()), run_onnxruntime(model, feeds))
