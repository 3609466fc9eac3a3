"""Review of dense resource blob lifetime (dialects/numpy_interop.py): a blob lives as long as
the attributes naming it, so every way of copying a module must keep its blobs reachable
after the original module is freed."""

from __future__ import annotations

import copy
import gc

import numpy as np
from xdsl.dialects.builtin import DenseResourceAttr

import red
from red.dialects.numpy_interop import dense_to_numpy
from red.transforms.bind_arguments import bind_arguments

BOUND_WEIGHT = """
func.func @main(%x: tensor<4x64xf32>, %w: tensor<64x64xf32>) -> tensor<4x64xf32> {
  %y = red.matmul %x, %w : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
"""


def bound_module(w: np.ndarray) -> red.ModuleOp:
    module = red.parse(BOUND_WEIGHT)
    bind_arguments(module, "main", {1: w})
    return module


def weight() -> np.ndarray:
    return np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 4096


def test_deep_copy_keeps_its_blobs_after_the_original_is_freed():
    w, x = weight(), np.linspace(-1, 1, 256, dtype=np.float32).reshape(4, 64)
    original = bound_module(w)
    expected = red.interpret(original).call("main", x)[0]

    duplicate = copy.deepcopy(original)
    del original
    gc.collect()

    np.testing.assert_array_equal(red.interpret(duplicate).call("main", x)[0], expected)


def test_deep_copied_attribute_reads_its_data_after_the_module_died():
    original = bound_module(weight())
    constant = next(op for op in original.walk() if op.name == "red.constant")
    attr = copy.deepcopy(constant.properties["value"])
    assert isinstance(attr, DenseResourceAttr)
    del original, constant
    gc.collect()

    np.testing.assert_array_equal(dense_to_numpy(attr), weight())


def test_clone_keeps_its_blobs_after_the_original_is_freed():
    w, x = weight(), np.ones((4, 64), np.float32)
    original = bound_module(w)
    expected = red.interpret(original).call("main", x)[0]

    duplicate = original.clone()
    del original
    gc.collect()

    np.testing.assert_array_equal(red.interpret(duplicate).call("main", x)[0], expected)
