"""Dense resource blobs live as long as the attributes naming them: a process that imports,
binds or parses many modules (a torch.compile backend, a server) does not keep every weight
it ever saw; a blob still named by a live attribute, a clone or a compiled module is never
lost."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import blob_store, dense_to_numpy, numpy_to_resource
from red.dialects.red import ConstantOp
from red.frontends.builder import ModuleBuilder
from red.frontends.mlir_text import module_to_text

BLOB_TEXT = """
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = red.constant dense_resource<w> : tensor<4x4xf32>
  %y = red.matmul %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000HEX"EXTRA
    }
  }
#-}
"""

IDENTITY = np.eye(4, dtype=np.float32)


def blob_text(extra: str = "") -> str:
    return BLOB_TEXT.replace("HEX", IDENTITY.tobytes().hex().upper()).replace("EXTRA", extra)


def stored_keys() -> set[str]:
    return set(blob_store()._blobs)  # pyright: ignore[reportPrivateUsage]


def bound_module(weight: np.ndarray):
    mb = ModuleBuilder()
    f = mb.function("main")
    x, w = f.arg((4, weight.shape[0])), f.arg(weight.shape)
    f.returns(x @ w)
    module = mb.build()
    red.bind_arguments(module, "main", {1: weight})
    return module


def resource_key(module) -> str:
    (const,) = [op for op in module.walk() if isinstance(op, ConstantOp)]
    return const.value.resource_handle.data  # pyright: ignore[reportAttributeAccessIssue]


def test_blob_leaves_the_store_with_its_attribute():
    attr = numpy_to_resource(np.arange(2048, dtype=np.float32), "lifetime")
    key = attr.resource_handle.data
    read = dense_to_numpy(attr)
    assert key in stored_keys()

    del attr
    gc.collect()

    assert key not in stored_keys()
    np.testing.assert_array_equal(read, np.arange(2048, dtype=np.float32))


def test_binding_in_a_loop_does_not_grow_the_store():
    before = stored_keys()
    for seed in range(4):
        weight = np.random.default_rng(seed).standard_normal((64, 32)).astype(np.float32)
        module = bound_module(weight)
        red.optimize(module)
        assert len(stored_keys() - before) == 1
        del module
        gc.collect()

    assert stored_keys() - before == set()


def test_compiled_module_outlives_its_source_module():
    weight = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((4, 64)).astype(np.float32)
    module = bound_module(weight)
    compiled = red.compile(module)

    del module
    gc.collect()

    np.testing.assert_allclose(compiled.main(x), x @ weight, rtol=1e-5, atol=1e-5)


def test_clone_keeps_the_blob_after_the_original_is_gone():
    module = bound_module(np.ones((64, 32), np.float32))
    key = resource_key(module)
    clone = module.clone()

    del module
    gc.collect()

    assert key in stored_keys()
    assert resource_key(clone) == key
    x = np.ones((4, 64), np.float32)
    np.testing.assert_array_equal(red.interpret(clone).call("main", x)[0], np.full((4, 32), 64.0))


def test_parsed_blob_lives_with_its_module():
    module = red.parse(blob_text())
    key = resource_key(module)
    x = np.arange(8, dtype=np.float32).reshape(2, 4)

    np.testing.assert_array_equal(red.interpret(module).call("main", x)[0], x)
    assert key in stored_keys()
    del module
    gc.collect()
    assert key not in stored_keys()


def test_two_parses_of_one_text_keep_their_own_blobs():
    first = red.parse(blob_text())
    second = red.parse(blob_text())
    x = np.ones((2, 4), np.float32)

    del first
    gc.collect()

    np.testing.assert_array_equal(red.interpret(second).call("main", x)[0], x)
    assert "dense_resource<w>" in module_to_text(second)


def test_unused_blob_of_a_parse_is_not_kept():
    before = stored_keys()
    extra = f',\n      unused: "0x04000000{IDENTITY.tobytes().hex().upper()}"'

    module = red.parse(blob_text(extra))

    assert stored_keys() - before == {resource_key(module)}


def test_failed_parse_keeps_no_blob():
    before = stored_keys()
    text = blob_text().replace("func.return %y", "func.return %undefined")

    with pytest.raises(DiagnosticError):
        red.parse(text)

    assert stored_keys() - before == set()


def test_a_name_declared_many_times_gets_distinct_keys_in_linear_time():
    """The n-th clash of a name starts at the suffix after the last one given (scanning
    w_0, w_1, ... from 0 each time made 3,000 declarations of "w" take 3 s)."""
    from red.dialects.numpy_interop import ResourceStore

    store = ResourceStore()
    keys = [store.declare_resource("w") for _ in range(3000)]
    taken = store.declare_resource("w_2999")  # the suffix the next clash would try first
    keys.append(store.declare_resource("w"))

    assert keys[:3] == ["w", "w_0", "w_1"]
    assert keys[-2:] == ["w_2998", "w_3000"]  # w_2999 skipped, not given twice
    assert taken == "w_2999"
    assert len(set(keys)) == len(keys)
    assert store.declared_name(keys[-1]) == "w"
