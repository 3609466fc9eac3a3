"""Review of dense resource blob lifetime (dialects/numpy_interop.py): a blob lives as long as
the attributes naming it, so every way of copying a module must keep its blobs reachable
after the original module is freed."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
import time

import numpy as np
import pytest
from xdsl.dialects.builtin import DenseResourceAttr

import red
from red.dialects.numpy_interop import blob_store, dense_to_numpy, numpy_to_resource
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


COPIES = {
    "deepcopy": copy.deepcopy,
    "clone": lambda module: module.clone(),
    "pickle": lambda module: pickle.dumps(module),  # loaded after the original is freed
}


@pytest.mark.parametrize("how", list(COPIES))
def test_a_copy_keeps_its_weights_after_the_original_is_freed(how):
    w, x = weight(), np.linspace(-1, 1, 256, dtype=np.float32).reshape(4, 64)
    original = bound_module(w)
    expected = red.interpret(original).call("main", x)[0]

    duplicate = COPIES[how](original)
    del original
    gc.collect()
    if how == "pickle":
        duplicate = pickle.loads(duplicate)

    np.testing.assert_array_equal(red.interpret(duplicate).call("main", x)[0], expected)


def test_deep_copied_attribute_reads_its_data_after_the_module_died():
    original = bound_module(weight())
    constant = next(op for op in original.walk() if op.name == "red.constant")
    attr = copy.deepcopy(constant.properties["value"])
    assert isinstance(attr, DenseResourceAttr)
    del original, constant
    gc.collect()

    np.testing.assert_array_equal(dense_to_numpy(attr), weight())


def test_pickle_loaded_beside_its_original_shares_the_blob_and_outlives_it():
    w, x = weight(), np.ones((4, 64), np.float32)
    original = bound_module(w)
    expected = red.interpret(original).call("main", x)[0]
    keys = set(blob_store()._blobs)  # pyright: ignore[reportPrivateUsage]

    loaded = pickle.loads(pickle.dumps(original))
    assert not set(blob_store()._blobs) - keys  # no new blob  # pyright: ignore[reportPrivateUsage]
    del original
    gc.collect()

    np.testing.assert_array_equal(red.interpret(loaded).call("main", x)[0], expected)


def test_pickled_resource_whose_key_now_names_other_bytes_gets_a_key_of_its_own():
    attr = numpy_to_resource(weight(), "review_pickled")
    data = pickle.dumps(attr)
    key = attr.resource_handle.data
    del attr
    gc.collect()
    other = numpy_to_resource(-weight(), "review_pickled")
    assert other.resource_handle.data == key  # the freed key is taken by other bytes

    loaded = pickle.loads(data)

    assert loaded.resource_handle.data != key
    np.testing.assert_array_equal(dense_to_numpy(loaded), weight())
    np.testing.assert_array_equal(dense_to_numpy(other), -weight())


class _SlowDict(dict):
    """A dict whose membership test lets other threads run (widens a check-then-set race)."""

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        time.sleep(0.002)
        return found


def test_two_threads_declaring_one_name_get_two_keys():
    store = blob_store()
    slow = store._blobs = _SlowDict(store._blobs)  # pyright: ignore[reportPrivateUsage]
    made: dict[int, DenseResourceAttr] = {}
    start = threading.Barrier(2)

    def declare(value: int) -> None:
        start.wait()
        made[value] = numpy_to_resource(np.full(16, value, np.float32), "review_race")

    threads = [threading.Thread(target=declare, args=(v,)) for v in (1, 2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        store._blobs = dict(slow)  # pyright: ignore[reportPrivateUsage]

    assert made[1].resource_handle.data != made[2].resource_handle.data
    for value, attr in made.items():
        np.testing.assert_array_equal(dense_to_numpy(attr), np.full(16, value, np.float32))
