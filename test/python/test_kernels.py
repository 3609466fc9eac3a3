"""The runtime kernel library (red.lowering.kernels): every entry point called through ctypes on
numpy arrays and compared with numpy (matmul, in float64) and the interpreter's functions (row
kernels), on several shapes with remainders, transposed and strided operands, M = 1 and N = 1,
batch strides and broadcasts, prepacked B, 1, 2 and 3 threads and concurrent callers; the AVX2
and SSE2 fallbacks and small cache blocks run the same matmul cases; the library's IR passes
llvm-as-16, and clang-16 builds it into a C program that calls it, with and without libgomp."""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import llvmlite.binding as llvm
import llvmlite.ir as ir
import numpy as np
import pytest
from lowering_helpers import missing_tools

from red.dialects import red_interpreter as interp
from red.lowering import kernels
from red.lowering.kernels.ndarray import (
    element_strides,
    matmul,
    matmul_prepacked,
    pack_b,
    row_kernel,
)

HOST = kernels.KernelTarget.host()
SMALL_BLOCKS = dataclasses.replace(
    HOST,
    overrides={"f32": {"kc": 64, "nc": 2 * HOST.blocking(4).nr, "mc": 2 * HOST.blocking(4).mr}},
)
AVX2 = kernels.KernelTarget(vector_bits=256, registers=16, cpu="haswell")
SSE2 = kernels.KernelTarget.baseline()


def _host_has(feature: str) -> bool:
    llvm.initialize_native_target()
    return bool(llvm.get_host_cpu_features().get(feature))


TARGETS = [
    pytest.param(HOST, id="host"),
    pytest.param(SMALL_BLOCKS, id="small-blocks"),
    pytest.param(
        AVX2,
        id="avx2",
        marks=pytest.mark.skipif(not _host_has("avx2"), reason="the host has no AVX2"),
    ),
    pytest.param(SSE2, id="sse2"),
]


@pytest.fixture(scope="module")
def lib() -> kernels.KernelLibrary:
    return kernels.library()


def tolerance(k: int, dtype: type) -> float:
    """Absolute error allowed on a sum of k products of N(0, 1) values (rounding grows with
    k; a missing or doubled term is off by about 1)."""
    return (1e-6 if dtype == np.float32 else 1e-13) * (k + 1)


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def layout(x: np.ndarray, kind: str) -> np.ndarray:
    """x with the same values in another layout: row-major, transposed (column-major), or a
    view with neither stride 1."""
    if kind == "n":
        return np.ascontiguousarray(x)
    if kind == "t":
        return np.asfortranarray(x)
    big = np.zeros((x.shape[0] * 2, x.shape[1] * 3), dtype=x.dtype)
    view = big[::2, ::3]
    view[...] = x
    return view


def rand(rng: np.random.Generator, shape: tuple[int, ...], dtype: type = np.float32):
    return rng.standard_normal(shape).astype(dtype)


def call_gemm(
    lib: kernels.KernelLibrary,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    accumulate: int = 0,
    threads: int = 1,
) -> None:
    """red_sgemm / red_dgemm on the arrays' own strides."""
    name = "red_sgemm" if a.dtype == np.float32 else "red_dgemm"
    (m, k), n = a.shape, b.shape[1]
    args = [m, n, k]
    for x in (a, b, c):
        args += [x.ctypes.data, *element_strides(x)]
    lib.function(name)(*args, accumulate, threads)


GEMM_SHAPES = [
    pytest.param((8, 16, 48), id="one-tile"),
    pytest.param((2, 1, 3), id="k1"),
    pytest.param((13, 37, 50), id="remainders"),
    pytest.param((33, 20, 17), id="narrow"),
    pytest.param((128, 64, 130), id="attention-scores"),
    pytest.param((20, 600, 70), id="k-slices"),
    pytest.param((9, 40, 1100), id="column-blocks"),
]


# region Matmul


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", GEMM_SHAPES)
@pytest.mark.parametrize("layouts", ["nn", "tn", "nt", "tt", "ss"])
def test_sgemm_matches_numpy(target, shape: tuple[int, int, int], layouts: str):
    m, k, n = shape
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = rand(rng, (m, k)), rand(rng, (k, n))
    c = np.full((m, n), np.nan, dtype=np.float32)

    call_gemm(kernels.library(target), layout(a, layouts[0]), layout(b, layouts[1]), c)

    np.testing.assert_allclose(c, reference(a, b), rtol=0, atol=tolerance(k, np.float32))


@pytest.mark.parametrize("shape", GEMM_SHAPES[:4])
@pytest.mark.parametrize("layouts", ["nn", "tt", "ss"])
def test_dgemm_matches_numpy(lib, shape: tuple[int, int, int], layouts: str):
    m, k, n = shape
    rng = np.random.default_rng(7)
    a, b = rand(rng, (m, k), np.float64), rand(rng, (k, n), np.float64)
    c = np.full((m, n), np.nan)

    call_gemm(lib, layout(a, layouts[0]), layout(b, layouts[1]), c)

    np.testing.assert_allclose(c, a @ b, rtol=0, atol=tolerance(k, np.float64))


@pytest.mark.parametrize(
    "out_layout",
    [pytest.param("t", id="transposed-c"), pytest.param("s", id="strided-c")],
)
def test_sgemm_writes_strided_c(lib, out_layout: str):
    rng = np.random.default_rng(3)
    a, b = rand(rng, (19, 30)), rand(rng, (30, 53))
    c = layout(np.zeros((19, 53), np.float32), out_layout)

    call_gemm(lib, a, b, c)

    np.testing.assert_allclose(c, reference(a, b), rtol=0, atol=tolerance(30, np.float32))


@pytest.mark.parametrize("m", [pytest.param(1, id="gemv"), pytest.param(21, id="gemm")])
def test_sgemm_reads_negative_strides(lib, m: int):
    rng = np.random.default_rng(12)
    a, b = rand(rng, (m, 33)), rand(rng, (33, 40))
    c = np.zeros((m, 40), np.float32)

    call_gemm(lib, a[::-1, ::-1], b[::-1, ::-1], c)

    expected = reference(a[::-1, ::-1], b[::-1, ::-1])
    np.testing.assert_allclose(c, expected, rtol=0, atol=tolerance(33, np.float32))


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param((16, 50, 96), id="full-tiles"),
        pytest.param((13, 50, 40), id="edge-tiles"),
        pytest.param((1, 50, 40), id="gemv"),
    ],
)
def test_sgemm_accumulates(lib, shape: tuple[int, int, int]):
    m, k, n = shape
    rng = np.random.default_rng(11)
    a, b, c0 = rand(rng, (m, k)), rand(rng, (k, n)), rand(rng, (m, n))
    c = c0.copy()

    call_gemm(lib, a, b, c, accumulate=1)

    np.testing.assert_allclose(c, c0 + reference(a, b), rtol=0, atol=tolerance(k, np.float32))


def test_sgemm_k0_zeroes_or_keeps_c(lib):
    a, b = np.zeros((4, 0), np.float32), np.zeros((0, 5), np.float32)
    kept = np.full((4, 5), 3.0, np.float32)
    zeroed = kept.copy()

    call_gemm(lib, a, b, kept, accumulate=1)
    call_gemm(lib, a, b, zeroed, accumulate=0)

    assert (kept == 3.0).all()
    assert (zeroed == 0.0).all()


def test_sgemm_empty_writes_nothing(lib):
    a, b = np.ones((0, 4), np.float32), np.ones((4, 6), np.float32)
    c = np.full((1, 6), 5.0, np.float32)  # a sentinel row past the empty C

    call_gemm(lib, a, b, c[:0])

    assert (c == 5.0).all()


# endregion Matmul

# region Matrix-vector


@pytest.mark.parametrize(
    ("b_layout", "x_strided", "y_strided"),
    [
        pytest.param("n", False, False, id="rows-of-b"),
        pytest.param("t", False, False, id="b-transposed"),
        pytest.param("t", True, False, id="b-transposed-x-strided"),
        pytest.param("s", False, False, id="b-strided"),
        pytest.param("n", False, True, id="y-strided"),
        pytest.param("n", True, False, id="x-strided"),
    ],
)
@pytest.mark.parametrize(
    "kn",
    [
        pytest.param((1, 1), id="1x1"),
        pytest.param((77, 300), id="77x300"),
        pytest.param((768, 2100), id="768x2100"),
    ],
)
def test_sgemm_m1_is_a_vector_times_matrix(lib, b_layout, x_strided, y_strided, kn):
    k, n = kn
    rng = np.random.default_rng(k + n)
    x, b = rand(rng, (1, k)), rand(rng, (k, n))
    xv = layout(x, "s") if x_strided else x
    y = layout(np.zeros((1, n), np.float32), "s") if y_strided else np.zeros((1, n), np.float32)

    call_gemm(lib, xv, layout(b, b_layout), y)

    np.testing.assert_allclose(y, reference(x, b), rtol=0, atol=tolerance(k, np.float32))


@pytest.mark.parametrize("a_layout", ["n", "t", "s"])
def test_sgemm_n1_is_a_matrix_times_vector(lib, a_layout: str):
    rng = np.random.default_rng(5)
    a, x = rand(rng, (301, 67)), rand(rng, (67, 1))
    y = np.zeros((301, 1), np.float32)

    call_gemm(lib, layout(a, a_layout), x, y)

    np.testing.assert_allclose(y, reference(a, x), rtol=0, atol=tolerance(67, np.float32))


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(HOST, id="host"),
        pytest.param(SMALL_BLOCKS, id="small-blocks"),
        pytest.param(SSE2, id="sse2"),
    ],
)
@pytest.mark.parametrize(
    "shape",
    [
        pytest.param((1, 1, 1), id="1x1x1"),
        pytest.param((1, 600, 1100), id="gemv"),
        pytest.param((13, 37, 50), id="remainders"),
        pytest.param((20, 600, 70), id="k-slices"),
        pytest.param((9, 40, 1100), id="column-blocks"),
    ],
)
@pytest.mark.parametrize("b_layout", ["n", "t", "s"])
def test_prepacked_b_matches_numpy(target, shape: tuple[int, int, int], b_layout: str):
    m, k, n = shape
    lib = kernels.library(target)
    rng = np.random.default_rng(m + k + n)
    a, b, c0 = rand(rng, (m, k)), rand(rng, (k, n)), rand(rng, (m, n))

    packed = pack_b(layout(b, b_layout), threads=2, lib=lib)
    c = matmul_prepacked(a, packed, threads=2)
    strided = layout(np.zeros((m, n), np.float32), "s")
    matmul_prepacked(a, packed, out=strided, threads=1)
    summed = c0.copy()
    matmul_prepacked(a, packed, out=summed, accumulate=True)

    assert packed.data.size == lib.function("red_sgemm_packed_b_size")(k, n)
    assert packed.data.ctypes.data % 64 == 0
    tol = tolerance(k, np.float32)
    np.testing.assert_allclose(c, reference(a, b), rtol=0, atol=tol)
    np.testing.assert_allclose(strided, reference(a, b), rtol=0, atol=tol)
    np.testing.assert_allclose(summed, c0 + reference(a, b), rtol=0, atol=tol)


def test_prepacked_b_in_f64_and_for_many_a(lib):
    rng = np.random.default_rng(13)
    b = rand(rng, (300, 90), np.float64)
    packed = pack_b(b, lib=lib)

    products = [
        (a, matmul_prepacked(a, packed))
        for a in (rand(rng, (m, 300), np.float64) for m in (1, 7, 64))
    ]

    for a, c in products:
        np.testing.assert_allclose(c, a @ b, rtol=0, atol=tolerance(300, np.float64))
    assert lib.function("red_dgemm_packed_b_size")(0, 5) == 0


# endregion Matrix-vector

# region Batched


def heads(x: np.ndarray, h: int) -> np.ndarray:
    """(B, S, H*D) -> the (B, H, S, D) view of its heads (no copy)."""
    b, s, hd = x.shape
    return x.reshape(b, s, h, hd // h).transpose(0, 2, 1, 3)


@pytest.mark.parametrize("s_q", [pytest.param(37, id="prefill"), pytest.param(1, id="decode")])
def test_batched_attention_on_head_views(lib, s_q: int):
    rng = np.random.default_rng(s_q)
    batch, s, h, d = 2, 37, 3, 16
    q = heads(rand(rng, (batch, s_q, h * d)), h)
    kv = rand(rng, (batch, s, 2 * h * d))
    k, v = heads(kv[..., : h * d], h), heads(kv[..., h * d :], h)

    scores = matmul(q, k.transpose(0, 1, 3, 2), lib=lib)
    out = matmul(scores, v, lib=lib)

    assert scores.shape == (batch, h, s_q, s)
    np.testing.assert_allclose(
        scores, reference(q, k.transpose(0, 1, 3, 2)), atol=tolerance(d, np.float32)
    )
    np.testing.assert_allclose(out, reference(scores, v), atol=tolerance(s, np.float32))


def test_batched_raw_strides_and_broadcast(lib):
    """red_sgemm_batched called directly: A (2, 3, 5, 7) contiguous, B (7, 4) shared by every
    batch (batch strides 0), C written in a (3, 2) batch order through its strides."""
    rng = np.random.default_rng(2)
    a, b = rand(rng, (2, 3, 5, 7)), rand(rng, (7, 4))
    c = np.zeros((3, 2, 5, 4), np.float32)
    cs = element_strides(c)

    kernels.library().function("red_sgemm_batched")(
        2, 3, 5, 4, 7,
        a.ctypes.data, 105, 35, 7, 1,
        b.ctypes.data, 0, 0, 4, 1,
        c.ctypes.data, cs[1], cs[0], cs[2], cs[3],
        0, 2,
    )  # fmt: skip

    expected = reference(a, b).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(c, expected, atol=tolerance(7, np.float32))


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        pytest.param((2, 3, 4, 6, 5), (4, 5, 9), id="three-batch-dims-broadcast"),
        pytest.param((2, 3, 40, 70), (70, 1), id="batched-n1"),
        pytest.param((3, 1, 70), (2, 1, 70, 33), id="batched-m1-broadcast-a"),
    ],
)
def test_matmul_broadcasts_and_folds_batch_dims(lib, a_shape, b_shape):
    rng = np.random.default_rng(4)
    a, b = rand(rng, a_shape), rand(rng, b_shape)

    c = matmul(a, b, lib=lib)

    np.testing.assert_allclose(c, reference(a, b), atol=tolerance(a_shape[-1], np.float32))


# endregion Batched

# region Threads


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param((128, 300, 500), id="gemm"),
        pytest.param((1, 700, 5000), id="gemv"),
        pytest.param((5000, 600, 1), id="gemv-n1"),
    ],
)
def test_gemm_results_do_not_depend_on_threads(lib, shape: tuple[int, int, int]):
    m, k, n = shape
    rng = np.random.default_rng(9)
    a, b = rand(rng, (m, k)), rand(rng, (k, n))
    one, two, three = (np.empty((m, n), np.float32) for _ in range(3))

    call_gemm(lib, a, b, one, threads=1)
    call_gemm(lib, a, b, two, threads=2)
    call_gemm(lib, a, b, three, threads=3)  # more threads than this machine may have cores

    assert np.array_equal(one, two)
    assert np.array_equal(one, three)
    np.testing.assert_allclose(one, reference(a, b), atol=tolerance(k, np.float32))


@pytest.mark.parametrize("name", ["softmax", "layer_norm", "rms_norm", "gelu", "gelu_tanh", "silu"])
def test_row_kernels_do_not_depend_on_threads(lib, name: str):
    x = rand(np.random.default_rng(1), (1100, 257))  # above every kernel's serial threshold
    eps = 1e-5 if "norm" in name else None

    one = row_kernel(name, x, eps=eps, threads=1, lib=lib)
    two = row_kernel(name, x, eps=eps, threads=2, lib=lib)

    assert np.array_equal(one, two)


def test_concurrent_calls_from_several_threads(lib):
    """Calls from several application threads at once (ctypes releases the GIL), each with
    a team of its own: every result is right."""
    rng = np.random.default_rng(10)
    problems = [(rand(rng, (64, 200)), rand(rng, (200, 300))) for _ in range(4)]
    results = [np.empty((64, 300), np.float32) for _ in problems]

    def run(i: int) -> None:
        for _ in range(5):
            call_gemm(lib, *problems[i], results[i], threads=2)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(problems))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    for (a, b), c in zip(problems, results):
        np.testing.assert_allclose(c, reference(a, b), atol=tolerance(200, np.float32))


def test_exit_right_after_a_threaded_call():
    """libgomp's threads spin (OMP_WAIT_POLICY=active: forever) after a region; at exit LLVM
    closes the libraries it loaded, so libgomp must stay mapped or they crash the process."""
    script = (
        "import numpy as np\n"
        "from red.lowering import kernels\n"
        "x = np.ones((512, 512), np.float32)\n"
        "kernels.row_kernel('softmax', x, threads=2)\n"
    )
    env = {**os.environ, "OMP_WAIT_POLICY": "active"}

    codes = [
        subprocess.run([sys.executable, "-c", script], env=env, check=False).returncode
        for _ in range(3)
    ]

    assert codes == [0, 0, 0]


def test_thread_count_default_and_setter(lib):
    default = lib.num_threads()

    lib.set_num_threads(3)
    changed = lib.num_threads()
    lib.set_num_threads(default)

    assert default == kernels.default_threads()
    assert changed == 3
    assert lib.threaded


# endregion Threads

# region Row kernels

ROW_SHAPES = [
    pytest.param((1, 1), id="1x1"),
    pytest.param((3, 17), id="3x17"),
    pytest.param((5, 64), id="5x64"),
    pytest.param((128, 128), id="128x128"),
    pytest.param((4, 1000), id="4x1000"),
    pytest.param((2, 50257), id="2x50257"),
]


def expected_row(name: str, x: np.ndarray, eps: float) -> np.ndarray:
    if name == "softmax":
        return interp.softmax(x, x.ndim - 1)
    if name == "layer_norm":
        return interp.layer_norm(x, x.ndim - 1, eps)
    if name == "rms_norm":
        return interp.rms_norm(x, x.ndim - 1, eps)
    if name == "gelu":
        return interp.gelu(x, "none")
    if name == "gelu_tanh":
        return interp.gelu(x, "tanh")
    return x * interp.sigmoid(x)


@pytest.mark.parametrize("target", [pytest.param(HOST, id="host"), pytest.param(SSE2, id="sse2")])
@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("name", ["softmax", "layer_norm", "rms_norm", "gelu", "gelu_tanh", "silu"])
def test_row_kernel_matches_interpreter(target, shape: tuple[int, int], name: str):
    x = (rand(np.random.default_rng(shape[1]), shape) * 3).astype(np.float32)
    eps = 0.25 if "norm" in name else None  # large, so a dropped eps shows

    y = row_kernel(name, x, eps=eps, lib=kernels.library(target))

    np.testing.assert_allclose(y, expected_row(name, x, eps or 0.0), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm"])
def test_norms_scale_and_shift(lib, name: str):
    rng = np.random.default_rng(8)
    x, gamma, beta = rand(rng, (6, 100)), rand(rng, (100,)), rand(rng, (100,))
    shift = beta if name == "layer_norm" else None

    y = row_kernel(name, x, eps=1e-5, gamma=gamma, beta=shift, lib=lib)

    expected = expected_row(name, x, 1e-5) * gamma + (beta if shift is not None else 0)
    np.testing.assert_allclose(y, expected, rtol=2e-6, atol=2e-6)


def test_row_kernels_leading_dimensions_and_in_place(lib):
    rng = np.random.default_rng(6)
    padded = rand(rng, (9, 80))
    x = padded[:, :70]  # rows 80 apart, 10 columns of padding each
    before = padded.copy()

    expected = interp.softmax(np.ascontiguousarray(x), 1)
    row_kernel("softmax", x, out=x, lib=lib)

    np.testing.assert_allclose(x, expected, rtol=2e-6, atol=2e-6)
    assert np.array_equal(padded[:, 70:], before[:, 70:])


def test_softmax_nan_and_inf_rows_follow_numpy(lib):
    inf, nan = math.inf, math.nan
    x = np.array(
        [
            [nan, 1.0, 2.0, 0.5],
            [inf, 1.0, 2.0, 0.5],
            [-inf, -inf, -inf, -inf],
            [-inf, 0.0, 1.0, -inf],
            [1e30, -1e30, 0.0, 3.0],
            [100.0, 100.0, 100.0, 100.0],
        ],
        np.float32,
    )
    x = np.tile(x, (1, 5))  # 20 columns: whole vectors and a masked tail

    y = row_kernel("softmax", x, lib=lib)

    with np.errstate(invalid="ignore"):
        expected = interp.softmax(x, 1)
    np.testing.assert_allclose(y, expected, rtol=2e-6, atol=1e-7, equal_nan=True)
    assert np.isnan(y[:3]).all()
    assert not np.isnan(y[3:]).any()


# endregion Row kernels

# region Library, IR and callers


def test_entry_points_are_described(lib):
    prototypes = {name: point.c_prototype() for name, point in kernels.ENTRY_POINTS.items()}

    assert prototypes["red_sgemm"] == (
        "void red_sgemm(int64_t m, int64_t n, int64_t k, void *a, int64_t a_rs, int64_t a_cs, "
        "void *b, int64_t b_rs, int64_t b_cs, void *c, int64_t c_rs, int64_t c_cs, "
        "int32_t accumulate, int32_t nthreads);"
    )
    assert "float eps" in prototypes["red_layer_norm_f32"]
    inputs, result = kernels.ENTRY_POINTS["red_layer_norm_f32"].xdsl_types()
    assert len(inputs) == 10
    assert result is None
    assert all(lib.address(name) for name in kernels.ENTRY_POINTS)


def test_jit_module_calls_the_library_through_declarations(lib):
    """A module compiled afterwards in its own engine declares red_softmax_f32 (declare_in)
    and calls it: the symbol resolves to the library's."""
    lib.require(["red_softmax_f32"])
    module = ir.Module("caller")
    module.triple = llvm.get_process_triple()
    decls = kernels.declare_in(module)
    ptr, i64 = ir.PointerType(), ir.IntType(64)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ptr, ptr]), "caller")
    builder = ir.IRBuilder(fn.append_basic_block())
    args = [i64(2), i64(3), fn.args[0], i64(3), fn.args[1], i64(3), ir.IntType(32)(1)]
    builder.call(decls["red_softmax_f32"], args)
    builder.ret_void()
    parsed = llvm.parse_assembly(str(module))
    tm = llvm.Target.from_default_triple().create_target_machine()
    engine = llvm.create_mcjit_compiler(parsed, tm)
    engine.finalize_object()
    x = np.array([[1, 2, 3], [0, 0, 0]], np.float32)
    y = np.zeros_like(x)

    ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(engine.get_function_address("caller"))(
        x.ctypes.data, y.ctypes.data
    )

    np.testing.assert_allclose(y, interp.softmax(x, 1), rtol=2e-6)


def test_a_second_library_works_without_the_hosts(tmp_path: Path):
    """A library for another target (not registered as process symbols) finds its own
    thread-count state even in a process where the host's library was never built."""
    script = (
        "import numpy as np\n"
        "from red.lowering import kernels\n"
        "lib = kernels.library(kernels.KernelTarget.baseline())\n"
        "a = np.ones((3, 4), np.float32)\n"
        "print(kernels.matmul(a, a.T, lib=lib)[0, 0], lib.num_threads() >= 1)\n"
    )

    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["4.0", "True"]


def test_build_into_defines_declared_entry_points():
    """A model module that declares every entry point (declare_in) gets the bodies of the
    units built into it, as red-translate's self-contained .ll would."""
    module = ir.Module("model")
    module.triple = llvm.get_process_triple()
    kernels.declare_in(module)

    kernels.build_into(module, SSE2, units=("rows",))

    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    defined = {f.name for f in parsed.functions if not f.is_declaration}
    assert {"red_softmax_f32", "red_kernels_get_num_threads"} <= defined
    assert "red_sgemm" not in defined


def test_object_code_is_an_elf_object():
    code = kernels.object_code(SSE2)

    assert code[:4] == b"\x7fELF"


NO_LLVM_AS = missing_tools("llvm-as-16")
NO_CLANG = missing_tools("clang-16")


@pytest.mark.skipif(NO_LLVM_AS is not None, reason=NO_LLVM_AS or "")
@pytest.mark.parametrize("target", [pytest.param(HOST, id="host"), pytest.param(SSE2, id="sse2")])
def test_library_ir_passes_llvm_as_16(target, tmp_path: Path):
    path = tmp_path / "kernels.ll"
    path.write_text(kernels.library_ir(target))

    result = subprocess.run(
        ["llvm-as-16", str(path), "-o", str(tmp_path / "kernels.bc")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


C_DRIVER = r"""
#include <stdint.h>
#include <stdio.h>
#include <math.h>
%(prototypes)s
int main(void) {
  enum { M = 37, K = 70, N = 53 };
  static float a[M * K], b[N * K], c[M * N], x[3 * 5], y[3 * 5];
  for (int i = 0; i < M * K; ++i) a[i] = (float)((i * 7) %% 13) - 6.0f;
  for (int i = 0; i < N * K; ++i) b[i] = (float)((i * 5) %% 11) - 5.0f;
  /* C = A · B with B given transposed (N x K row-major): b_rs = 1, b_cs = K. */
  red_sgemm(M, N, K, a, K, 1, b, 1, K, c, N, 1, 0, 0);
  double err = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int p = 0; p < K; ++p) s += (double)a[i * K + p] * b[j * K + p];
      err = fmax(err, fabs(s - c[i * N + j]));
    }
  for (int i = 0; i < 15; ++i) x[i] = (float)(i %% 5);
  red_softmax_f32(3, 5, x, 5, y, 5, 0);
  printf("%%d %%g %%.6f\n", red_kernels_get_num_threads(), err, y[4]);
  return 0;
}
"""


@pytest.mark.skipif(NO_CLANG is not None, reason=NO_CLANG or "")
@pytest.mark.parametrize(
    ("target", "flags", "gomp"),
    [
        pytest.param(SSE2, [], True, id="sse2-libgomp"),
        pytest.param(SSE2, [], False, id="sse2-serial"),
        pytest.param(HOST, ["-march=native"], True, id="host-native-libgomp"),
    ],
)
def test_clang_builds_a_program_calling_the_library(
    tmp_path: Path, target: kernels.KernelTarget, flags: list[str], gomp: bool
):
    ll = tmp_path / "kernels.ll"
    ll.write_text(kernels.library_ir(target, units=("sgemm", "rows")))
    names = ("red_sgemm", "red_softmax_f32", "red_kernels_get_num_threads")
    prototypes = "\n".join(kernels.ENTRY_POINTS[n].c_prototype() for n in names)
    driver = tmp_path / "driver.c"
    driver.write_text(C_DRIVER % {"prototypes": prototypes})
    exe = tmp_path / "driver"
    libs = ["-lgomp"] if gomp else []

    build = subprocess.run(
        ["clang-16", "-O2", *flags, str(driver), str(ll), "-o", str(exe), "-lm", *libs],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    env = {**os.environ, "RED_NUM_THREADS": "3"}
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True, env=env)

    threads, err, last = run.stdout.split()
    assert int(threads) == 3
    assert float(err) == 0.0  # small integers: every product and sum is exact
    assert float(last) == pytest.approx(np.exp(4) / np.exp(np.arange(5)).sum(), rel=1e-6)


# endregion Library, IR and callers


GELU_TANH = """
func.func @main(%x: tensor<64x96xf32>) -> tensor<64x96xf32> {
  %half = red.constant dense<0.5> : tensor<f32>
  %one = red.constant dense<1.0> : tensor<f32>
  %three = red.constant dense<3.0> : tensor<f32>
  %k = red.constant dense<0.044715> : tensor<f32>
  %c = red.constant dense<0.7978845608> : tensor<f32>
  %cube = red.pow %x, %three : tensor<64x96xf32>, tensor<f32> -> tensor<64x96xf32>
  %kc = red.mul %k, %cube : tensor<f32>, tensor<64x96xf32> -> tensor<64x96xf32>
  %inner = red.add %x, %kc : tensor<64x96xf32>, tensor<64x96xf32> -> tensor<64x96xf32>
  %scaled = red.mul %c, %inner : tensor<f32>, tensor<64x96xf32> -> tensor<64x96xf32>
  %t = red.tanh %scaled : tensor<64x96xf32>
  %t1 = red.add %one, %t : tensor<f32>, tensor<64x96xf32> -> tensor<64x96xf32>
  %hx = red.mul %half, %x : tensor<f32>, tensor<64x96xf32> -> tensor<64x96xf32>
  %y = red.mul %hx, %t1 : tensor<64x96xf32>, tensor<64x96xf32> -> tensor<64x96xf32>
  func.return %y : tensor<64x96xf32>
}
"""


def test_gelu_tanh_chain_pow_as_multiplies_matches_interpreter():
    """GELU's x**3 canonicalized to multiplies (no pow left, as red-pipeline's canonicalize
    does with reassoc) computes what the interpreter computes on the original pow,
    interpreted and compiled (the fused loop with the vector tanh), to a few ulp."""
    import red

    x = np.random.default_rng(3).standard_normal((64, 96)).astype(np.float32) * 4
    want = red.interpret(red.parse(GELU_TANH)).call("main", x)[0]
    module = red.run_pipeline(red.parse(GELU_TANH), "canonicalize{reassoc=true}")
    text = red.to_text(module)
    assert "red.pow" not in text
    assert text.count("red.mul") == 6
    interpreted = red.interpret(module).call("main", x)[0]
    np.testing.assert_allclose(interpreted, want, rtol=4e-7, atol=1e-7)
    compiled = red.compile(module).main(x)
    np.testing.assert_allclose(compiled, want, rtol=2e-6, atol=2e-6)


def test_units_come_from_the_compile_cache_in_a_new_library(tmp_path, monkeypatch):
    """A unit's object code is stored in the compile cache (keyed by the kernel sources, the
    target and the unit): a library created later (a new process) loads it instead of
    compiling, and computes the same bits; with RED_CACHE=off every unit is compiled."""
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RED_CACHE", raising=False)
    target = dataclasses.replace(HOST, overrides={"f32": {"kc": 80, "nc": 96, "mc": 32}})
    rng = np.random.default_rng(11)
    a, b = rand(rng, (45, 170)), rand(rng, (170, 130))

    first = kernels.KernelLibrary(target, register=False)
    first.require(["red_sgemm"])
    assert first.cached_units == set()
    want = matmul(a, b, threads=2, lib=first)

    second = kernels.KernelLibrary(target, register=False)
    second.require(["red_sgemm"])
    assert second.cached_units == {"state", "sgemm"}
    np.testing.assert_array_equal(matmul(a, b, threads=2, lib=second), want)

    monkeypatch.setenv("RED_CACHE", "off")
    third = kernels.KernelLibrary(target, register=False)
    third.require(["red_sgemm"])
    assert third.cached_units == set()
    np.testing.assert_array_equal(matmul(a, b, threads=2, lib=third), want)
