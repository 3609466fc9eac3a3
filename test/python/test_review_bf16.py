"""Review of the opt-in bf16 matmul precision: a module compiled in one precision must keep
its numerics whatever other modules bind the same constant bytes in another precision (the
kernel library's ranges are per address range, so the same weights bound by an f32 module and
a bf16 module would otherwise be read in whichever precision was registered last)."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from test_bf16_matmul import assert_bf16_product, needs_bf16

import red
from red.transforms.bind_arguments import bind_arguments


def linear(w: np.ndarray, m: int = 24) -> red.ModuleOp:
    """x @ w with w bound as a constant (a dense resource viewing w's bytes)."""
    x, y = f"tensor<{m}x256xf32>", f"tensor<{m}x384xf32>"
    module = red.parse(
        f"func.func @main(%x: {x}, %w: tensor<256x384xf32>) -> {y} {{\n"
        f"  %y = red.matmul %x, %w : {x}, tensor<256x384xf32> -> {y}\n"
        f"  func.return %y : {y}\n}}\n"
    )
    bind_arguments(module, "main", {1: w})
    return module


def operands(seed: int, m: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, 256), dtype=np.float32)
    return x, rng.standard_normal((256, 384), dtype=np.float32)


def f32_close(got: np.ndarray, x: np.ndarray, w: np.ndarray) -> None:
    np.testing.assert_allclose(got, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)


@needs_bf16
@pytest.mark.parametrize("m", [24, 1], ids=["matmul", "matrix-vector"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("first", ["f32", "bf16"])
def test_one_module_in_two_precisions_keeps_each_its_own(first, threads, m):
    x, w = operands(10, m)
    module = linear(w, m)
    second = "bf16" if first == "f32" else "f32"

    one = red.compile(module, threads=threads, matmul_precision=first)
    before = np.asarray(one.main(x)).copy()
    other = red.compile(module, threads=threads, matmul_precision=second)
    by_other = np.asarray(other.main(x)).copy()
    after = np.asarray(one.main(x)).copy()

    np.testing.assert_array_equal(after, before)
    f32, bf16 = (before, by_other) if first == "f32" else (by_other, before)
    f32_close(f32, x, w)
    assert_bf16_product(bf16, x, w)


@needs_bf16
def test_the_other_precision_freed_leaves_the_first_as_it_was():
    x, w = operands(11)
    module = linear(w)
    f32 = red.compile(module, threads=1, matmul_precision="f32")
    bf16 = red.compile(module, threads=1, matmul_precision="bf16")
    assert_bf16_product(np.asarray(bf16.main(x)), x, w)

    del bf16
    gc.collect()

    f32_close(np.asarray(f32.main(x)), x, w)
