"""Opt-in bf16 matmul precision (lowering/kernels/gemm_bf16.py, constant_binding.py): f32 in
and out, each product of bf16-rounded operands (round to nearest even), accumulated in f32.
red_sgemm_bf16 must equal numpy's product of the rounded operands up to f32 summation order
(elementwise within k·2^-23·(|A|·|B|), the classic bound), at edge sizes and strides, on the
AMX micro-kernel and the vdpbf16ps one; a constant registered in bf16 makes red_sgemm multiply
in bf16 with B packed once; f32 stays the default, bit for bit."""

from __future__ import annotations

import dataclasses
import gc
import warnings

import numpy as np
import pytest

import red
from red.lowering import kernels
from red.lowering.constant_binding import PREPACK_MIN_BYTES, bind_constants
from red.lowering.kernels.ndarray import element_strides, matmul
from red.transforms.bind_arguments import bind_arguments

HOST = kernels.KernelTarget.host()
needs_bf16 = pytest.mark.skipif(
    not kernels.library().bf16, reason="the CPU has no AVX512-BF16 (or AMX is not permitted)"
)


def without(target: kernels.KernelTarget, *features: str) -> kernels.KernelTarget:
    flags = target.features.split(",")
    flags = [f"-{f[1:]}" if f[1:] in features else f for f in flags]
    return dataclasses.replace(target, features=",".join(flags))


def bf16_round(x: np.ndarray) -> np.ndarray:
    """x (f32) rounded to the nearest bf16, ties to even, as f32."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def sgemm(lib, name: str, a: np.ndarray, b: np.ndarray, threads: int = 1, c=None, acc=False):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), np.float32) if c is None else c
    args = [m, n, k, a.ctypes.data, *element_strides(a), b.ctypes.data, *element_strides(b)]
    lib.function(name)(*args, c.ctypes.data, *element_strides(c), int(acc), threads)
    return c


def assert_bf16_product(got: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """got equals bf16(a)·bf16(b) up to the order of f32 sums, and is not the f32 product."""
    ra, rb = bf16_round(a).astype(np.float64), bf16_round(b).astype(np.float64)
    want = ra @ rb
    bound = a.shape[1] * 2.0**-23 * (np.abs(ra) @ np.abs(rb)) + 1e-30
    assert (np.abs(got - want) <= bound).all(), float(np.abs(got - want).max())
    f32_err = np.abs(a.astype(np.float64) @ b.astype(np.float64) - want).max()
    assert f32_err > 10 * np.abs(got - want).max()  # rounding the operands shows


def layout(rng: np.random.Generator, name: str, k: int, n: int) -> np.ndarray:
    if name == "rows":
        return rng.standard_normal((k, n), dtype=np.float32)
    if name == "transposed":  # B^T contiguous along k (an LM head read as W^T)
        return rng.standard_normal((n, k), dtype=np.float32).T
    return rng.standard_normal((2 * k, 3 * n), dtype=np.float32)[::2, ::3]  # strided


SHAPES = [
    pytest.param((16, 32, 48), id="one-tile"),
    pytest.param((37, 300, 211), id="edges"),
    pytest.param((37, 301, 211), id="odd-k"),
    pytest.param((9, 7, 5), id="tiny"),
    pytest.param((130, 1030, 97), id="two-k-slices"),
]


@needs_bf16
@pytest.mark.parametrize("name", ["rows", "transposed", "strided"])
@pytest.mark.parametrize("shape", SHAPES)
def test_sgemm_bf16_is_the_product_of_rounded_operands(shape, name):
    m, k, n = shape
    rng = np.random.default_rng(m * k + n)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = layout(rng, name, k, n)

    got = sgemm(kernels.library(), "red_sgemm_bf16", a, b)

    assert_bf16_product(got, a, b)


@pytest.mark.skipif(not HOST.has_bf16, reason="the CPU has no AVX512-BF16")
@pytest.mark.parametrize("shape", SHAPES[1:3])
def test_vdpbf16ps_kernel_without_amx(shape):
    # The micro-kernel of AVX512-BF16 CPUs without AMX, generated here for the host minus AMX.
    lib = kernels.library(without(HOST, "amx-bf16", "amx-tile"))
    m, k, n = shape
    rng = np.random.default_rng(3)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = layout(rng, "rows", k, n)

    got = sgemm(lib, "red_sgemm_bf16", a, b)

    assert not lib.target.has_amx
    assert_bf16_product(got, a, b)


def test_without_bf16_the_bf16_entry_is_the_f32_matmul():
    lib = kernels.library(without(HOST, "avx512bf16"))
    rng = np.random.default_rng(4)
    a = rng.standard_normal((37, 300), dtype=np.float32)
    b = rng.standard_normal((300, 211), dtype=np.float32)

    got = sgemm(lib, "red_sgemm_bf16", a, b)

    assert not lib.bf16
    np.testing.assert_array_equal(got, sgemm(lib, "red_sgemm", a, b))


@needs_bf16
def test_matrix_vector_paths_stay_f32():
    lib = kernels.library()
    rng = np.random.default_rng(5)
    a = rng.standard_normal((1, 300), dtype=np.float32)
    b = rng.standard_normal((300, 211), dtype=np.float32)

    got = sgemm(lib, "red_sgemm_bf16", a, b)

    np.testing.assert_array_equal(got, sgemm(lib, "red_sgemm", a, b))


@needs_bf16
@pytest.mark.parametrize("threads", [1, 2])
def test_bf16_accumulates_and_does_not_depend_on_threads(threads):
    lib = kernels.library()
    rng = np.random.default_rng(6)
    a = rng.standard_normal((64, 512), dtype=np.float32)
    b = rng.standard_normal((512, 480), dtype=np.float32)
    c0 = rng.standard_normal((64, 480), dtype=np.float32)

    one = sgemm(lib, "red_sgemm_bf16", a, b, threads=1)
    many = sgemm(lib, "red_sgemm_bf16", a, b, threads=threads)
    added = sgemm(lib, "red_sgemm_bf16", a, b, threads=threads, c=c0.copy(), acc=True)

    np.testing.assert_array_equal(many, one)
    # C += A·B adds each KC slice's products to C in turn: bit-equal to c0 + (A·B) only when
    # K fits one slice (KC depends on the L1 size: 512 = K on a 48 KiB L1, less on 32 KiB)
    np.testing.assert_allclose(added, c0 + one, rtol=2e-6, atol=2e-5)


@needs_bf16
def test_constant_registered_in_bf16_is_packed_once_and_read_in_bf16():
    lib = kernels.library()
    rng = np.random.default_rng(7)
    a = rng.standard_normal((37, 300), dtype=np.float32)
    w = rng.standard_normal((300, 211), dtype=np.float32)
    f32 = sgemm(lib, "red_sgemm", a, w)
    bf16 = sgemm(lib, "red_sgemm_bf16", a, w)
    before = lib.constant_packs()

    lib.register_constant(w, "bf16")
    first = sgemm(lib, "red_sgemm", a, w)
    second = sgemm(lib, "red_sgemm", a, w)
    packs = lib.constant_packs() - before
    explicit = sgemm(lib, "red_sgemm_bf16", a, w)  # the same pack: same precision asked

    assert packs == 1
    assert lib.constant_packs() - before == 1
    np.testing.assert_array_equal(first, bf16)
    np.testing.assert_array_equal(second, bf16)
    np.testing.assert_array_equal(explicit, bf16)
    del w
    gc.collect()
    assert lib.constant_packs() == before
    assert not np.array_equal(f32, bf16)


@needs_bf16
def test_constant_registered_in_f32_keeps_f32_bits_and_bf16_entry_packs_its_own():
    lib = kernels.library()
    rng = np.random.default_rng(8)
    a = rng.standard_normal((37, 300), dtype=np.float32)
    w = rng.standard_normal((300, 211), dtype=np.float32)
    f32 = matmul(a, w, threads=1, lib=lib)
    bf16 = sgemm(lib, "red_sgemm_bf16", a, w)
    before = lib.constant_packs()

    lib.register_constant(w)
    got = matmul(a, w, threads=1, lib=lib)
    explicit = sgemm(lib, "red_sgemm_bf16", a, w)

    np.testing.assert_array_equal(got, f32)
    np.testing.assert_array_equal(explicit, bf16)
    assert lib.constant_packs() - before == 2  # one f32 pack, one bf16 pack


LINEAR = """
func.func @main(%x: tensor<24x256xf32>, %w: tensor<256x384xf32>) -> tensor<24x384xf32> {
  %y = red.matmul %x, %w : tensor<24x256xf32>, tensor<256x384xf32> -> tensor<24x384xf32>
  func.return %y : tensor<24x384xf32>
}
"""


def compiled_linear(w: np.ndarray):
    module = red.parse(LINEAR)
    bind_arguments(module, "main", {1: w})
    return red.compile(module, threads=1)


@needs_bf16
def test_compiled_module_in_bf16_from_the_environment(monkeypatch):
    rng = np.random.default_rng(9)
    w = rng.standard_normal((256, 384), dtype=np.float32)
    x = rng.standard_normal((24, 256), dtype=np.float32)
    assert w.nbytes >= PREPACK_MIN_BYTES
    f32 = np.asarray(compiled_linear(w).main(x))

    monkeypatch.setenv("RED_MATMUL_PRECISION", "bf16")
    bf16 = np.asarray(compiled_linear(w).main(x))

    np.testing.assert_allclose(f32, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)
    assert_bf16_product(bf16, x, w)


def test_unknown_precision_is_an_error(monkeypatch):
    w = np.ones((128, 256), np.float32)

    with pytest.raises(ValueError, match="matmul precision 'fp8' is not one of f32, bf16"):
        bind_constants({}, "fp8")
    monkeypatch.setenv("RED_MATMUL_PRECISION", "half")
    with pytest.raises(ValueError, match="RED_MATMUL_PRECISION='half' is not a matmul"):
        bind_constants({"unused": w})
    with pytest.raises(ValueError, match="matmul precision 'int4' is not one of f32, bf16"):
        kernels.library().register_constant(w, "int4")


def test_bf16_without_the_instructions_warns_and_stays_f32(monkeypatch):
    monkeypatch.setattr(kernels.KernelLibrary, "bf16", property(lambda self: False))
    rng = np.random.default_rng(10)
    w = rng.standard_normal((256, 384), dtype=np.float32)
    x = rng.standard_normal((24, 256), dtype=np.float32)
    want = np.asarray(compiled_linear(w).main(x))
    monkeypatch.setenv("RED_MATMUL_PRECISION", "bf16")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = np.asarray(compiled_linear(w).main(x))

    assert any("the matmuls stay f32" in str(w.message) for w in caught)
    np.testing.assert_array_equal(got, want)


@needs_bf16
@pytest.mark.parametrize("name", ["rows", "transposed"])
def test_matrix_vector_on_a_bf16_constant_reads_its_bf16_pack(name):
    # The decode step's LM head: M = 1 streams the bf16 pack (half the bytes of B), packed
    # on the first call; a constant in f32 is read as it is, with no pack made for it.
    lib = kernels.library()
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 300), dtype=np.float32)
    w = layout(rng, name, 300, 1000)
    w_f32 = layout(rng, name, 300, 1000)
    lib.register_constant(w.base if w.base is not None else w, "bf16")
    lib.register_constant(w_f32.base if w_f32.base is not None else w_f32)
    before = lib.constant_packs()

    got = sgemm(lib, "red_sgemm", x, w)
    again = sgemm(lib, "red_sgemm", x, w)
    f32 = sgemm(lib, "red_sgemm", x, w_f32)

    assert lib.constant_packs() - before == 1
    assert_bf16_product(got, x, w)
    np.testing.assert_array_equal(again, got)
    np.testing.assert_allclose(f32, x.astype(np.float64) @ w_f32, rtol=1e-5, atol=1e-4)


def batched(lib, name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (batch, m, k) @ b (batch or broadcast, k, n) by one call of `name` (_batched)."""
    batch, m, k = a.shape
    n = b.shape[-1]
    c = np.zeros((batch, m, n), np.float32)
    b_batch = 0 if b.ndim == 2 else element_strides(b)[0]
    args = [1, batch, m, n, k]
    args += [a.ctypes.data, 0, element_strides(a)[0], *element_strides(a)[1:]]
    args += [b.ctypes.data, 0, b_batch, *element_strides(b)[-2:]]
    args += [c.ctypes.data, 0, m * n, n, 1, 0, 1]
    lib.function(name)(*args)
    return c


@needs_bf16
def test_batched_bf16_on_head_views_and_a_broadcast_constant():
    # Attention's head views (per-batch B, packed per call) and a weight shared by every
    # batch entry (registered in bf16: red_sgemm_batched reads its bf16 pack).
    lib = kernels.library()
    rng = np.random.default_rng(12)
    q = rng.standard_normal((4, 33, 64), dtype=np.float32)
    kt = rng.standard_normal((4, 40, 64), dtype=np.float32).transpose(0, 2, 1)
    w = rng.standard_normal((64, 130), dtype=np.float32)
    lib.register_constant(w, "bf16")

    heads = batched(lib, "red_sgemm_bf16_batched", q, kt)
    shared = batched(lib, "red_sgemm_batched", q, w)

    for i in range(4):
        assert_bf16_product(heads[i], q[i], kt[i])
        assert_bf16_product(shared[i], q[i], w)
