"""Constant weights packed once (lowering/kernels/weights.py): a matmul whose B lies in a
registered constant range packs B on its first call and reuses the pack; the result is the
same bits as without the pack (the micro-kernel runs the same sequence of operations); B
partly outside every range is packed per call; freeing the registered array frees its packs,
and a new array at the same address is packed afresh; concurrent callers with several kernel
threads see one pack per (B, shape, strides); a JIT-compiled module's large constants are
registered while the module lives."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import red
from red.dialects import red as red_dialect
from red.lowering import kernels
from red.lowering.constant_binding import PREPACK_MIN_BYTES
from red.lowering.kernels.ndarray import matmul
from red.transforms.bind_arguments import bind_arguments


@pytest.fixture(scope="module")
def lib() -> kernels.KernelLibrary:
    library = kernels.library()
    library.require(["red_sgemm", "red_dgemm"])
    return library


def rand(rng: np.random.Generator, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def layout(storage: np.ndarray, name: str, k: int, n: int) -> np.ndarray:
    """A k x n view of `storage` read as row-major, transposed (B^T's strides, as the LM
    head reads wte) or a column slice (a row stride wider than n)."""
    if name == "rows":
        return storage[: k * n].reshape(k, n)
    if name == "transposed":
        return storage[: k * n].reshape(n, k).T
    return storage[: k * (n + 5)].reshape(k, n + 5)[:, 3 : 3 + n]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["rows", "transposed", "column-slice"])
@pytest.mark.parametrize("threads", [1, 2])
def test_constant_b_is_packed_once_and_gives_the_same_bits(lib, dtype, name, threads):
    rng = np.random.default_rng(1)
    m, k, n = 37, 300, 211
    storage = rand(rng, (k * (n + 5),), dtype)
    a = rand(rng, (m, k), dtype)
    b = layout(storage, name, k, n)
    unpacked = matmul(a, b, threads=threads, lib=lib)  # not registered: packed per call
    gc.collect()  # packs of earlier tests' modules caught in reference cycles
    before = lib.constant_packs()

    lib.register_constant(storage)
    first = matmul(a, b, threads=threads, lib=lib)
    assert lib.constant_packs() == before + 1
    second = matmul(a, b, threads=threads, lib=lib)
    assert lib.constant_packs() == before + 1
    np.testing.assert_array_equal(first, unpacked)
    np.testing.assert_array_equal(second, unpacked)
    np.testing.assert_allclose(first, reference(a, b), rtol=1e-4, atol=1e-3)

    # Another shape or view of the same bytes is a pack of its own.
    matmul(a[:, :200], b[:200, :150], threads=threads, lib=lib)
    assert lib.constant_packs() == before + 2
    del b, storage
    gc.collect()
    assert lib.constant_packs() == before


def test_b_partly_outside_every_range_is_not_packed(lib):
    rng = np.random.default_rng(2)
    whole = rand(rng, (256, 128))
    a = rand(rng, (64, 256))
    part = whole[:128]
    lib.register_constant(part)
    before = lib.constant_packs()
    out = matmul(a, whole, lib=lib)
    assert lib.constant_packs() == before
    np.testing.assert_allclose(out, reference(a, whole), rtol=1e-4, atol=1e-3)
    matmul(a[:, :128], part, lib=lib)
    assert lib.constant_packs() == before + 1


def test_freed_array_drops_its_packs_and_new_bytes_at_its_address_are_packed_again(lib):
    """The same address with other bytes (a new array after the old one was freed) never
    reads the old pack."""
    rng = np.random.default_rng(3)
    buffer = rand(rng, (192, 160))
    a = rand(rng, (48, 192))
    before = lib.constant_packs()
    old = buffer.view()
    lib.register_constant(old)
    np.testing.assert_allclose(matmul(a, old, lib=lib), reference(a, buffer), rtol=1e-4, atol=1e-3)
    assert lib.constant_packs() == before + 1
    del old
    gc.collect()
    assert lib.constant_packs() == before

    buffer[:] = rand(rng, buffer.shape)
    new = buffer.view()
    assert new.ctypes.data == buffer.ctypes.data
    lib.register_constant(new)
    np.testing.assert_allclose(matmul(a, new, lib=lib), reference(a, buffer), rtol=1e-4, atol=1e-3)
    assert lib.constant_packs() == before + 1


def test_a_range_registered_twice_lives_until_both_arrays_are_freed(lib):
    rng = np.random.default_rng(4)
    buffer = rand(rng, (128, 128))
    a = rand(rng, (32, 128))
    before = lib.constant_packs()
    first, second = buffer.view(), buffer.view()
    lib.register_constant(first)
    lib.register_constant(second)
    matmul(a, buffer, lib=lib)
    del first
    gc.collect()
    assert lib.constant_packs() == before + 1
    del second
    gc.collect()
    assert lib.constant_packs() == before


def test_a_broadcast_b_of_a_batched_matmul_is_packed_once(lib):
    rng = np.random.default_rng(5)
    w = rand(rng, (96, 200))
    a = rand(rng, (3, 40, 96))
    unpacked = matmul(a, w, lib=lib)
    before = lib.constant_packs()
    lib.register_constant(w)
    packed = matmul(a, w, lib=lib)
    assert lib.constant_packs() == before + 1
    np.testing.assert_array_equal(packed, unpacked)


def test_matrix_vector_calls_read_the_constant_as_it_is(lib):
    """M = 1 and N = 1 stay on the matrix-vector paths (memory-bound: nothing to pack)."""
    rng = np.random.default_rng(6)
    w = rand(rng, (300, 500))
    lib.register_constant(w)
    before = lib.constant_packs()
    x = rand(rng, (1, 300))
    np.testing.assert_allclose(matmul(x, w, lib=lib), reference(x, w), rtol=1e-4, atol=1e-3)
    v = rand(rng, (500, 1))
    np.testing.assert_allclose(matmul(w, v, lib=lib), reference(w, v), rtol=1e-4, atol=1e-3)
    assert lib.constant_packs() == before


def test_concurrent_callers_share_one_pack_per_operand(lib):
    """Four application threads, each with a team of two kernel threads, call matmuls on
    the same freshly registered constants at once: every result is right and each
    (B, shape, strides) is packed once."""
    rng = np.random.default_rng(7)
    w = rand(rng, (256, 384))
    views = [w, w.T[:300, :200], w[:200, 100:]]
    inputs = [rand(rng, (64, v.shape[0])) for v in views]
    wants = [matmul(x, v, lib=lib) for x, v in zip(inputs, views)]
    before = lib.constant_packs()
    lib.register_constant(w)
    results: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(4)]

    def run(i: int) -> None:
        for round_ in range(6):
            j = (i + round_) % len(views)
            results[i].append((j, matmul(inputs[j], views[j], threads=2, lib=lib)))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert lib.constant_packs() == before + len(views)
    for per_thread in results:
        assert len(per_thread) == 6
        for j, out in per_thread:
            np.testing.assert_array_equal(out, wants[j])


LINEAR = """
func.func @main(%x: tensor<24x256xf32>, %w: tensor<256x384xf32>) -> tensor<24x384xf32> {
  %y = red.matmul %x, %w : tensor<24x256xf32>, tensor<256x384xf32> -> tensor<24x384xf32>
  func.return %y : tensor<24x384xf32>
}
"""


def test_compiled_module_packs_its_constant_weights_while_it_lives(lib):
    rng = np.random.default_rng(8)
    w = rand(rng, (256, 384))
    assert w.nbytes >= PREPACK_MIN_BYTES
    x = rand(rng, (24, 256))
    as_argument = red.compile(red.parse(LINEAR)).main(x, w)
    before = lib.constant_packs()

    module = red.parse(LINEAR)
    bind_arguments(module, "main", {1: w})
    compiled = red.compile(module, threads=1)
    first = compiled.main(x)
    assert lib.constant_packs() == before + 1
    second = compiled.main(x)
    assert lib.constant_packs() == before + 1
    np.testing.assert_array_equal(np.asarray(first), np.asarray(as_argument))
    np.testing.assert_array_equal(np.asarray(second), np.asarray(as_argument))
    want = red.interpret(red.parse(LINEAR)).call("main", x, w)[0]
    np.testing.assert_allclose(np.asarray(first), want, rtol=1e-4, atol=1e-3)
    del compiled, first, second
    gc.collect()
    assert lib.constant_packs() == before


TIED_HEAD = """
func.func @main(%x: tensor<24x256xf32>, %ids: tensor<24xi64>, %w: tensor<1152x256xf32>)
    -> (tensor<24x1152xf32>, tensor<24x256xf32>) {
  %wt = red.transpose %w [1, 0] : tensor<1152x256xf32> -> tensor<256x1152xf32>
  %y = red.matmul %x, %wt : tensor<24x256xf32>, tensor<256x1152xf32> -> tensor<24x1152xf32>
  %e = red.gather %w, %ids axis = 0 : tensor<1152x256xf32>, tensor<24xi64> -> tensor<24x256xf32>
  func.return %y, %e : tensor<24x1152xf32>, tensor<24x256xf32>
}
"""


def test_constant_read_as_transpose_is_packed_from_its_own_bytes(lib):
    # GPT-2's tied LM head: W (above canonicalize's 1 MiB fold budget) feeds a gather and, transposed, the last matmul. red-pipeline
    # keeps the transpose (no memo, no folded copy of W^T), the lowering passes W with swapped
    # strides, and the library packs W^T once from the registered constant.
    rng = np.random.default_rng(9)
    w = rand(rng, (1152, 256))
    x = rand(rng, (24, 256))
    ids = rng.integers(0, 1152, (24,))
    module = red.parse(TIED_HEAD)
    bind_arguments(module, "main", {2: w})
    red.optimize(module)
    kept = [op for op in module.walk() if isinstance(op, red_dialect.TransposeOp)]
    lowered = red.run_pipeline(module.clone(), "convert-red-to-loops")
    allocs = [op for op in lowered.walk() if op.name == "memref.alloc"]
    before = lib.constant_packs()

    compiled = red.compile(module, threads=1)
    y, e = compiled.main(x, ids)
    compiled.main(x, ids)

    assert len(kept) == 1
    assert not [op for op in module.walk() if isinstance(op, red_dialect.MemoOp)]
    assert allocs == []  # no buffer for W^T: the matmul writes the result buffer
    assert lib.constant_packs() == before + 1
    np.testing.assert_allclose(np.asarray(y), reference(x, w.T), rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(e), w[ids])
