"""`red.compile(module, matmul_precision=...)`: "bf16" makes the matmuls by the module's large
constant weights products of bf16-rounded operands accumulated in f32 (PyTorch's "medium"
float32 matmul precision), "f32" and the default keep f32 bit for bit, the argument wins over
RED_MATMUL_PRECISION, and anything else is a ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from test_bf16_matmul import LINEAR, assert_bf16_product, needs_bf16

import red
from red.transforms.bind_arguments import bind_arguments


def linear(w: np.ndarray):
    module = red.parse(LINEAR)
    bind_arguments(module, "main", {1: w})
    return module


def operands(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((24, 256), dtype=np.float32),
        rng.standard_normal((256, 384), dtype=np.float32),
    )


@needs_bf16
def test_bf16_argument_rounds_the_constant_matmul():
    x, w = operands(0)

    got = np.asarray(red.compile(linear(w), threads=1, matmul_precision="bf16").main(x))

    assert_bf16_product(got, x, w)


@needs_bf16
def test_argument_wins_over_the_environment(monkeypatch):
    x, w = operands(1)
    default = np.asarray(red.compile(linear(w), threads=1).main(x))
    monkeypatch.setenv("RED_MATMUL_PRECISION", "bf16")

    f32 = np.asarray(red.compile(linear(w), threads=1, matmul_precision="f32").main(x))

    np.testing.assert_array_equal(f32, default)
    np.testing.assert_allclose(f32, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)


def test_argument_weights_stay_f32_under_bf16():
    x, w = operands(2)
    module = red.parse(LINEAR)  # w an argument: not a registered constant

    got = np.asarray(red.compile(module, threads=1, matmul_precision="bf16").main(x, w))

    np.testing.assert_allclose(got, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("bad", ["fp8", "BF16", ""])
def test_unknown_precision_names_the_argument(bad):
    with pytest.raises(ValueError, match="'matmul_precision' must be one of f32, bf16"):
        red.compile(red.parse(LINEAR), matmul_precision=bad)
