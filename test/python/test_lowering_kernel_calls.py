"""The lowering's calls of the kernel library (lowering/loops/matmul.py, reductions.py,
kernel_calls.py): matmuls, softmax and the norms JIT-compiled through the library compute
what the interpreter computes, on 1 and 2 threads, for rows of one, odd sizes, transposed
operands, batches and broadcasts; the IR calls the library where it should and only there;
the thread count follows `threads=` and RED_NUM_THREADS; red-translate's IR defines the
library parts it calls."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import TensorType

import red
from red.lowering.jit import resolve_threads
from red.lowering.llvm_ir import called_kernels, llvm_ir_module, module_to_llvm_ir


def _t(shape: tuple[int, ...], elt: str = "f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{elt}>"


def matmul_module(
    a: tuple[int, ...],
    b: tuple[int, ...],
    elt: str = "f32",
    transpose_a: bool = False,
    transpose_b: bool = False,
) -> str:
    """@main(A, B) = matmul(A or A^T, B or B^T) (the transposes swap the last two dims)."""

    def swapped(s: tuple[int, ...]) -> tuple[int, ...]:
        return (*s[:-2], s[-1], s[-2])

    lines, names = [], []
    for name, shape, transpose in (("a", a, transpose_a), ("b", b, transpose_b)):
        if transpose:
            perm = [*range(len(shape) - 2), len(shape) - 1, len(shape) - 2]
            lines.append(
                f"  %{name}t = red.transpose %{name} {perm} : {_t(shape, elt)} -> "
                f"{_t(swapped(shape), elt)}"
            )
            names.append((f"%{name}t", swapped(shape)))
        else:
            names.append((f"%{name}", shape))
    (lhs, ls), (rhs, rs) = names
    out = (*np.broadcast_shapes(ls[:-2], rs[:-2]), ls[-2], rs[-1])
    lines.append(f"  %c = red.matmul {lhs}, {rhs} : {_t(ls, elt)}, {_t(rs, elt)} -> {_t(out, elt)}")
    body = "\n".join(lines)
    return (
        f"func.func @main(%a: {_t(a, elt)}, %b: {_t(b, elt)}) -> {_t(out, elt)} {{\n{body}\n"
        f"  func.return %c : {_t(out, elt)}\n}}\n"
    )


def inputs(module: str, seed: int = 0) -> list[np.ndarray]:
    fn = red.parse(module, "m.mlir")
    rng = np.random.default_rng(seed)
    arrays = []
    for t in red.interpret(fn).function("main").function_type.inputs.data:
        assert isinstance(t, TensorType)
        dtype = {"f32": np.float32, "f64": np.float64, "i32": np.int32}[str(t.element_type)]
        shape = t.get_shape()
        if dtype is np.int32:
            arrays.append(rng.integers(-4, 5, size=shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def assert_jit_matches_interpreter(text: str, threads: int, rtol: float = 2e-5) -> str:
    """JIT (with `threads`) vs interpreter on random inputs; returns the JIT's LLVM IR."""
    module = red.parse(text, "m.mlir")
    args = inputs(text)

    compiled = red.compile(module, threads=threads)
    got = compiled.main(*args)

    want = red.interpret(module).call("main", *args)
    want = want[0] if isinstance(want, tuple) else want
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)
    return compiled.llvm_ir


MATMULS = [
    pytest.param((7, 13), (13, 9), False, False, "red_sgemm", id="odd-2d"),
    pytest.param((1, 33), (33, 70), False, False, "red_sgemm", id="one-row-gemv"),
    pytest.param((5, 1), (1, 6), False, False, "red_sgemm", id="k-one"),
    pytest.param((17, 24), (24, 1), False, False, "red_sgemm", id="one-column"),
    pytest.param((130, 70), (70, 50), False, False, "red_sgemm", id="over-a-tile"),
    pytest.param((257, 96), (96, 200), False, False, "red_sgemm", id="threaded-size"),
    pytest.param((11, 6), (11, 5), True, False, "red_sgemm", id="transposed-a"),
    pytest.param((6, 11), (5, 11), False, True, "red_sgemm", id="transposed-b"),
    pytest.param((3, 5, 7), (7, 4), False, False, "red_sgemm", id="shared-weight-folds-rows"),
    pytest.param((2, 3, 5, 8), (2, 3, 8, 6), False, False, "red_sgemm_batched", id="heads"),
    pytest.param((2, 3, 5, 8), (2, 3, 6, 8), False, True, "red_sgemm_batched", id="heads-kt"),
    pytest.param((2, 1, 5, 8), (1, 3, 8, 6), False, False, "red_sgemm_batched", id="broadcast"),
    pytest.param((4, 5, 8), (1, 8, 6), False, False, "red_sgemm", id="broadcast-batch-one"),
    pytest.param((3, 1, 9), (3, 9, 4), False, False, "red_sgemm_batched", id="batched-rows"),
    pytest.param(
        (2, 8, 65, 64), (2, 8, 64, 63), False, False, "red_sgemm_batched", id="threaded-heads"
    ),
]


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize(("a", "b", "transpose_a", "transpose_b", "entry"), MATMULS)
def test_matmul_calls_library(
    a: tuple[int, ...],
    b: tuple[int, ...],
    transpose_a: bool,
    transpose_b: bool,
    entry: str,
    threads: int,
):
    text = matmul_module(a, b, "f32", transpose_a, transpose_b)

    ir = assert_jit_matches_interpreter(text, threads)

    assert f'@"{entry}"(' in ir
    assert "__red_matmul" not in ir


@pytest.mark.parametrize(
    ("a", "b", "elt", "entry"),
    [
        pytest.param((5, 7), (7, 3), "f64", "red_dgemm", id="f64"),
        pytest.param((5, 7), (7, 3), "i32", None, id="i32-loops"),
        pytest.param((2, 2, 2, 3, 4), (2, 1, 2, 4, 5), "f32", None, id="three-batch-dims-loops"),
    ],
)
def test_matmul_library_or_fallback(
    a: tuple[int, ...], b: tuple[int, ...], elt: str, entry: str | None
):
    text = matmul_module(a, b, elt)

    ir = assert_jit_matches_interpreter(text, threads=2, rtol=1e-12 if elt == "f64" else 2e-5)

    if entry is None:
        assert "red_sgemm" not in ir
        assert "__red_matmul" in ir
    else:
        assert f'@"{entry}"(' in ir


ROW_OPS = [
    pytest.param("red.softmax %x axis = {last}", "red_softmax_f32", id="softmax"),
    pytest.param(
        "red.layer_norm %x axis = {last} eps = 1.0e-05", "red_layer_norm_f32", id="layer-norm"
    ),
    pytest.param(
        "red.layer_norm %x axis = 1 eps = 1.0e-05", "red_layer_norm_f32", id="layer-norm-2-axes"
    ),
    pytest.param("red.rms_norm %x axis = {last} eps = 1.0e-06", "red_rms_norm_f32", id="rms-norm"),
    pytest.param("red.softmax %x axis = 0", None, id="softmax-leading-axis-loops"),
]


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("shape", [(3, 5, 37), (1, 1, 768), (2, 64, 128), (6, 64, 770)], ids=str)
@pytest.mark.parametrize(("op", "entry"), ROW_OPS)
def test_row_ops_call_library(op: str, entry: str | None, shape: tuple[int, ...], threads: int):
    t = _t(shape)
    text = (
        f"func.func @main(%x: {t}) -> {t} {{\n  %y = {op.format(last=len(shape) - 1)} : {t}\n"
        f"  func.return %y : {t}\n}}\n"
    )

    ir = assert_jit_matches_interpreter(text, threads, rtol=3e-5)

    if entry is None:
        assert "red_softmax_f32" not in ir
    else:
        assert f'@"{entry}"(' in ir


DECODER_BLOCK = """
func.func @main(%x: tensor<1x8x32xf32>, %wqkv: tensor<32x96xf32> {red.invariant},
                %wo: tensor<32x32xf32> {red.invariant}) -> tensor<1x8x32xf32> {
  %n = red.layer_norm %x axis = 2 eps = 1.0e-05 : tensor<1x8x32xf32>
  %qkv = red.matmul %n, %wqkv : tensor<1x8x32xf32>, tensor<32x96xf32> -> tensor<1x8x96xf32>
  %q = red.slice %qkv [0, 0, 0] [1, 8, 32] [1, 1, 1] : tensor<1x8x96xf32> -> tensor<1x8x32xf32>
  %k = red.slice %qkv [0, 0, 32] [1, 8, 64] [1, 1, 1] : tensor<1x8x96xf32> -> tensor<1x8x32xf32>
  %v = red.slice %qkv [0, 0, 64] [1, 8, 96] [1, 1, 1] : tensor<1x8x96xf32> -> tensor<1x8x32xf32>
  %q4 = red.reshape %q : tensor<1x8x32xf32> -> tensor<1x8x4x8xf32>
  %k4 = red.reshape %k : tensor<1x8x32xf32> -> tensor<1x8x4x8xf32>
  %v4 = red.reshape %v : tensor<1x8x32xf32> -> tensor<1x8x4x8xf32>
  %qh = red.transpose %q4 [0, 2, 1, 3] : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
  %kh = red.transpose %k4 [0, 2, 3, 1] : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
  %vh = red.transpose %v4 [0, 2, 1, 3] : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
  %s = red.matmul %qh, %kh : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %p = red.softmax %s axis = 3 : tensor<1x4x8x8xf32>
  %o = red.matmul %p, %vh : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %ot = red.transpose %o [0, 2, 1, 3] : tensor<1x4x8x8xf32> -> tensor<1x8x4x8xf32>
  %o3 = red.reshape %ot : tensor<1x8x4x8xf32> -> tensor<1x8x32xf32>
  %y = red.matmul %o3, %wo : tensor<1x8x32xf32>, tensor<32x32xf32> -> tensor<1x8x32xf32>
  %r = red.add %x, %y : tensor<1x8x32xf32>, tensor<1x8x32xf32> -> tensor<1x8x32xf32>
  func.return %r : tensor<1x8x32xf32>
}
"""


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
def test_attention_block(threads: int):
    ir = assert_jit_matches_interpreter(DECODER_BLOCK, threads, rtol=3e-5)

    assert ir.count('call ccc void @"red_sgemm"(') == 2
    assert ir.count('call ccc void @"red_sgemm_batched"(') == 2
    assert ir.count('call ccc void @"red_layer_norm_f32"(') == 1
    assert ir.count('call ccc void @"red_softmax_f32"(') == 1


def test_threads_argument_is_the_kernel_thread_count():
    module = red.parse(matmul_module((128, 256), (256, 128)), "m.mlir")

    ir = red.compile(module, threads=3).llvm_ir

    assert '@"__red_num_threads0" = internal constant [1 x i32] [i32 3]' in ir


def test_threads_default_from_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RED_NUM_THREADS", "5")

    assert resolve_threads(None) == 5
    assert resolve_threads(2) == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True], ids=str)
def test_threads_must_be_positive(bad: object):
    module = red.parse(matmul_module((2, 2), (2, 2)), "m.mlir")

    with pytest.raises(ValueError, match="'threads' must be a positive integer"):
        red.compile(module, threads=bad)  # type: ignore[arg-type]


def test_translated_ir_defines_the_library_it_calls():
    module = red.parse(matmul_module((4, 8), (8, 4)), "m.mlir")

    declared = llvm_ir_module(module)
    standalone = module_to_llvm_ir(module)

    assert called_kernels(declared) == ["red_sgemm"]
    assert 'declare void @"red_sgemm"(' in str(declared)
    assert 'define void @"red_sgemm"(' in standalone
    assert 'define void @"red_softmax_f32"(' not in standalone  # only the units it calls
    assert "red_sgemm" not in module_to_llvm_ir(red.parse(matmul_module((2, 2), (2, 2), "i32")))
