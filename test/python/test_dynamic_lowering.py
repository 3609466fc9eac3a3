"""Functions with `?` dims, lowered and JIT-compiled once, run at several sizes (issue 12.4):
every result equals the interpreter's at every size (1 and 0 included where the function
allows them); the arguments are checked (rank, static dims, a symbol given two sizes, a
size that makes a dim negative) with a ValueError naming the argument and the dimension;
an op the lowering cannot size is a located error; the compile cache keeps working; at
every size 1 the entry runs the function's unit-size specialization (lowering/loops/
specialize.py), which equals the interpreter too."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

import red
from red.dialects import red as red_dialect
from red.dialects.diagnostics import DiagnosticError
from red.lowering import convert_red_to_loops
from red.lowering.loops.specialize import specialize, unit_sizes


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    args: tuple[tuple[str, tuple[int | str, ...]], ...]
    """Per argument: its dtype and its shape, with symbols for the dynamic dims."""
    sizes: tuple[dict[str, int], ...]
    rtol: float = 1e-5


def case(name: str, text: str, args: list[tuple[str, tuple]], sizes: list[dict[str, int]], **kw):
    return Case(name, text, tuple(args), tuple(sizes), **kw)


ROWS = [{"n": 1}, {"n": 0}, {"n": 5}, {"n": 33}]

NORMS = case(
    "norms_f32_kernels",
    """
func.func @main(%x: tensor<?x?xf32> {red.dims = ["m", "n"]}) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %p = red.softmax %x axis = 1 : tensor<?x?xf32>
  %l = red.layer_norm %x axis = 1 eps = 1.000000e-05 : tensor<?x?xf32>
  %r = red.rms_norm %x axis = 1 eps = 1.000000e-05 : tensor<?x?xf32>
  func.return %p, %l, %r : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}""",
    [("float32", ("m", "n"))],
    [{"m": 1, "n": 1}, {"m": 0, "n": 4}, {"m": 3, "n": 0}, {"m": 5, "n": 7}, {"m": 3, "n": 64}],
    rtol=1e-4,
)
"""softmax, layer_norm and rms_norm over rows of any width (f32: the kernel library's row
kernels; f64: loops)."""

CASES = [
    case(
        "elementwise_broadcast",
        """
func.func @main(%x: tensor<?x4xf32> {red.dims = ["n", ""]}, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %s = red.add %x, %b : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %e = red.tanh %s : tensor<?x4xf32>
  %m = red.mul %e, %x : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %m : tensor<?x4xf32>
}""",
        [("float32", ("n", 4)), ("float32", (4,))],
        ROWS,
    ),
    case(
        "outer_two_symbols",
        """
func.func @main(%a: tensor<?x1xf32> {red.dims = ["m", ""]}, %b: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?x?xf32> {
  %s = red.sub %a, %b : tensor<?x1xf32>, tensor<?xf32> -> tensor<?x?xf32>
  func.return %s : tensor<?x?xf32>
}""",
        [("float32", ("m", 1)), ("float32", ("n",))],
        [{"m": 1, "n": 1}, {"m": 3, "n": 1}, {"m": 1, "n": 6}, {"m": 4, "n": 0}, {"m": 7, "n": 9}],
    ),
    case(
        "matmul_rows",
        """
func.func @main(%x: tensor<?x8xf32> {red.dims = ["n", ""]}, %w: tensor<8x16xf32>) -> tensor<?x16xf32> {
  %y = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x16xf32> -> tensor<?x16xf32>
  func.return %y : tensor<?x16xf32>
}""",
        [("float32", ("n", 8)), ("float32", (8, 16))],
        ROWS,
    ),
    case(
        "matmul_contracting_symbol",
        """
func.func @main(%a: tensor<3x?xf32> {red.dims = ["", "k"]}, %b: tensor<?x?xf32> {red.dims = ["k", "n"]}) -> tensor<3x?xf32> {
  %y = red.matmul %a, %b : tensor<3x?xf32>, tensor<?x?xf32> -> tensor<3x?xf32>
  func.return %y : tensor<3x?xf32>
}""",
        [("float32", (3, "k")), ("float32", ("k", "n"))],
        [{"k": 1, "n": 1}, {"k": 0, "n": 4}, {"k": 9, "n": 0}, {"k": 17, "n": 5}],
        rtol=1e-4,
    ),
    case(
        "matmul_batched_attention",
        """
func.func @main(%q: tensor<2x?x8xf32> {red.dims = ["", "s", ""]}, %k: tensor<2x8x?xf32> {red.dims = ["", "", "s"]}) -> tensor<2x?x?xf32> {
  %y = red.matmul %q, %k : tensor<2x?x8xf32>, tensor<2x8x?xf32> -> tensor<2x?x?xf32>
  %p = red.softmax %y axis = 2 : tensor<2x?x?xf32>
  func.return %p : tensor<2x?x?xf32>
}""",
        [("float32", (2, "s", 8)), ("float32", (2, 8, "s"))],
        [{"s": 1}, {"s": 6}, {"s": 40}],
        rtol=1e-4,
    ),
    case(
        "matmul_integer_loops",
        """
func.func @main(%a: tensor<1x?xi64> {red.dims = ["", "s"]}, %b: tensor<?x?xi64> {red.dims = ["s", "s"]}) -> tensor<1x?xi64> {
  %y = red.matmul %a, %b : tensor<1x?xi64>, tensor<?x?xi64> -> tensor<1x?xi64>
  func.return %y : tensor<1x?xi64>
}""",
        [("int64", (1, "s")), ("int64", ("s", "s"))],
        [{"s": 1}, {"s": 0}, {"s": 7}],
    ),
    case(
        "reductions",
        """
func.func @main(%x: tensor<?x?xf32> {red.dims = ["m", "n"]}) -> (tensor<?xf32>, tensor<?x1xf32>, tensor<?xf32>) {
  %s = red.reduce_sum %x axes = [0] : tensor<?x?xf32> -> tensor<?xf32>
  %m = red.reduce_mean %x axes = [1] keepdims : tensor<?x?xf32> -> tensor<?x1xf32>
  %x2 = red.reduce_max %x axes = [1] : tensor<?x?xf32> -> tensor<?xf32>
  func.return %s, %m, %x2 : tensor<?xf32>, tensor<?x1xf32>, tensor<?xf32>
}""",
        [("float32", ("m", "n"))],
        [{"m": 1, "n": 1}, {"m": 3, "n": 5}, {"m": 8, "n": 33}],
        rtol=1e-4,
    ),
    NORMS,
    replace(
        NORMS,
        name="norms_f64_loops",
        text=NORMS.text.replace("f32", "f64"),
        args=(("float64", ("m", "n")),),
        sizes=({"m": 1, "n": 1}, {"m": 4, "n": 9}),
        rtol=1e-5,
    ),
    case(
        "argmax",
        """
func.func @main(%x: tensor<?x?xf32> {red.dims = ["m", "n"]}) -> tensor<?xi64> {
  %a = red.argmax %x axis = 1 : tensor<?x?xf32> -> tensor<?xi64>
  func.return %a : tensor<?xi64>
}""",
        [("float32", ("m", "n"))],
        [{"m": 1, "n": 1}, {"m": 0, "n": 3}, {"m": 4, "n": 9}],  # n = 0: refused (no first)
    ),
    case(
        "shape_ops",
        """
func.func @main(%x: tensor<?x12xf32> {red.dims = ["s", ""]}, %y: tensor<3x?xf32> {red.dims = ["", "s"]}) -> (tensor<4x?x3xf32>, tensor<?x3xf32>, tensor<?xf32>, tensor<2x?x3xf32>) {
  %r = red.reshape %x : tensor<?x12xf32> -> tensor<?x4x3xf32>
  %t = red.transpose %r [1, 0, 2] : tensor<?x4x3xf32> -> tensor<4x?x3xf32>
  %yt = red.transpose %y [1, 0] : tensor<3x?xf32> -> tensor<?x3xf32>
  %c = red.concat %yt, %yt axis = 0 : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  %f = red.reshape %x : tensor<?x12xf32> -> tensor<?xf32>
  %b = red.broadcast_to %yt : tensor<?x3xf32> -> tensor<2x?x3xf32>
  func.return %t, %c, %f, %b : tensor<4x?x3xf32>, tensor<?x3xf32>, tensor<?xf32>, tensor<2x?x3xf32>
}""",
        [("float32", ("s", 12)), ("float32", (3, "s"))],
        [{"s": 1}, {"s": 0}, {"s": 6}],
    ),
    case(
        "gather_select_cast",
        """
func.func @main(%ids: tensor<1x?xi64> {red.dims = ["", "s"]}, %table: tensor<10x4xf32>) -> (tensor<1x?x4xf32>, tensor<1x?xi32>) {
  %e = red.gather %table, %ids axis = 0 : tensor<10x4xf32>, tensor<1x?xi64> -> tensor<1x?x4xf32>
  %z = red.constant dense<0.0> : tensor<f32>
  %pos = red.gt %e, %z : tensor<1x?x4xf32>, tensor<f32> -> tensor<1x?x4xi1>
  %r = red.select %pos, %e, %z : tensor<1x?x4xi1>, tensor<1x?x4xf32>, tensor<f32> -> tensor<1x?x4xf32>
  %c = red.cast %ids : tensor<1x?xi64> -> tensor<1x?xi32>
  func.return %r, %c : tensor<1x?x4xf32>, tensor<1x?xi32>
}""",
        [("int64", (1, "s")), ("float32", (10, 4))],
        [{"s": 1}, {"s": 0}, {"s": 9}],
    ),
    case(
        "gather_constant_indices",
        """
func.func @main(%x: tensor<?x6xf32> {red.dims = ["s", ""]}) -> (tensor<?x3xf32>, tensor<?x2xf32>) {
  %run = red.constant dense<[2, 3, 4]> : tensor<3xi64>
  %a = red.gather %x, %run axis = 1 : tensor<?x6xf32>, tensor<3xi64> -> tensor<?x3xf32>
  %other = red.constant dense<[5, -6]> : tensor<2xi64>
  %b = red.gather %x, %other axis = 1 : tensor<?x6xf32>, tensor<2xi64> -> tensor<?x2xf32>
  func.return %a, %b : tensor<?x3xf32>, tensor<?x2xf32>
}""",
        [("float32", ("s", 6))],
        [{"s": 1}, {"s": 0}, {"s": 5}],
    ),
    case(
        "last_position",
        """
func.func @main(%h: tensor<?x8xf32> {red.dims = ["s", ""]}, %w: tensor<8x5xf32>) -> tensor<1x5xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = tensor.dim %h, %c0 : tensor<?x8xf32>
  %last = arith.subi %s, %c1 : index
  %row = red.dynamic_slice %h [%last, %c0] sizes = [1, 8] : (tensor<?x8xf32>, index, index) -> tensor<1x8xf32>
  %y = red.matmul %row, %w : tensor<1x8xf32>, tensor<8x5xf32> -> tensor<1x5xf32>
  func.return %y : tensor<1x5xf32>
}""",
        [("float32", ("s", 8)), ("float32", (8, 5))],
        [{"s": 1}, {"s": 2}, {"s": 30}],
    ),
    case(
        "if_on_a_size",
        """
func.func @main(%x: tensor<?x3xf32> {red.dims = ["n", ""]}) -> tensor<?x3xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %x, %c0 : tensor<?x3xf32>
  %big = arith.cmpi sgt, %n, %c2 : index
  %r = scf.if %big -> (tensor<?x3xf32>) {
    %e = red.exp %x : tensor<?x3xf32>
    scf.yield %e : tensor<?x3xf32>
  } else {
    %t = red.tanh %x : tensor<?x3xf32>
    scf.yield %t : tensor<?x3xf32>
  }
  %s = red.add %r, %x : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  func.return %s : tensor<?x3xf32>
}""",
        [("float32", ("n", 3))],
        [{"n": 0}, {"n": 2}, {"n": 3}, {"n": 9}],
    ),
    case(
        "loop_carried",
        """
func.func @main(%ids: tensor<?xi64> {red.dims = ["s"]}) -> tensor<?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = red.constant dense<1> : tensor<1xi64>
  %start = red.constant dense<0> : tensor<1xi64>
  %n = tensor.dim %ids, %c0 : tensor<?xi64>
  %r, %k = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %ids, %v = %start) -> (tensor<?xi64>, tensor<1xi64>) {
    %u = red.dynamic_update_slice %acc, %v[%i] : (tensor<?xi64>, tensor<1xi64>, index) -> tensor<?xi64>
    %w = red.add %v, %one : tensor<1xi64>, tensor<1xi64> -> tensor<1xi64>
    scf.yield %u, %w : tensor<?xi64>, tensor<1xi64>
  }
  func.return %r : tensor<?xi64>
}""",
        [("int64", ("s",))],
        [{"s": 1}, {"s": 12}],  # s = 0 is refused: the update of one row needs s >= 1
    ),
]


def draw(case: Case, sizes: dict[str, int], rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for dtype, dims in case.args:
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in dims)
        if dtype.startswith("int"):
            out.append(rng.integers(0, 10, shape).astype(dtype))
        else:
            out.append(rng.standard_normal(shape).astype(dtype))
    return out


_COMPILED: dict[str, object] = {}


def compiled(case: Case):
    """(module, compiled module), compiled once per case (the point: one compile)."""
    if case.name not in _COMPILED:
        module = red.parse(case.text)
        _COMPILED[case.name] = (module, red.compile(module))
    return _COMPILED[case.name]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_jit_matches_interpreter_at_every_size(case: Case) -> None:
    module, jit = compiled(case)  # type: ignore[misc]
    runner = red.interpret(module)
    rng = np.random.default_rng(0)
    for sizes in case.sizes:
        args = draw(case, sizes, rng)
        with warnings.catch_warnings():  # numpy's mean of an empty row (NaN, as compiled)
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = runner.call("main", *args)
        got = jit.function("main").call(*args)
        assert len(got) == len(expected)
        for g, x in zip(got, expected):
            assert g.shape == x.shape, (sizes, g.shape, x.shape)
            assert g.dtype == x.dtype
            np.testing.assert_allclose(g, x, rtol=case.rtol, atol=1e-5, err_msg=str(sizes))


def test_gpt2_like_static_function_keeps_the_static_abi() -> None:
    module = red.parse(
        """
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = red.exp %x : tensor<2x3xf32>
  func.return %e : tensor<2x3xf32>
}"""
    )
    jit = red.compile(module)
    assert jit.main.sized is None
    assert 'define void @"red_main"(ptr' in jit.llvm_ir
    assert "result_shape" not in jit.llvm_ir


# region bad input


def by_name(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def test_rank_mismatch_names_the_argument() -> None:
    _, jit = compiled(by_name("elementwise_broadcast"))  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"argument #0 \(%x\) of '@main' has rank 2 \(n x 4\)|"
                       r"argument #0 \(%x\) of '@main' has rank 2"):  # fmt: skip
        jit.main(np.zeros(4, np.float32), np.zeros(4, np.float32))


def test_static_dim_mismatch_names_the_dimension() -> None:
    _, jit = compiled(by_name("elementwise_broadcast"))  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"argument #1 \(%b\) of '@main': dim 0 must be 4, got 5"):
        jit.main(np.zeros((2, 4), np.float32), np.zeros(5, np.float32))


def test_symbol_given_two_sizes() -> None:
    _, jit = compiled(by_name("matmul_contracting_symbol"))  # type: ignore[misc]
    a, b = np.zeros((3, 4), np.float32), np.zeros((5, 2), np.float32)
    with pytest.raises(
        ValueError,
        match=r"argument #1 \(%b\) of '@main': dim 0 is 'k' = 5, but dim 1 of argument "
        r"#0 \(%a\) gave 'k' = 4",
    ):
        jit.main(a, b)


def test_size_the_model_forbids() -> None:
    """The last position of an empty sequence: s = 0 makes the slice read row -1."""
    _, jit = compiled(by_name("last_position"))  # type: ignore[misc]
    with pytest.raises(
        ValueError, match=r"at s = 0: the 'red.dynamic_slice' op .*needs s - 1 >= 0"
    ):
        jit.main(np.zeros((0, 8), np.float32), np.zeros((8, 5), np.float32))


def test_argmax_of_empty_rows_is_refused() -> None:
    _, jit = compiled(by_name("argmax"))  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"m = 2, n = 0: the 'red\.argmax' op .*needs n - 1 >= 0"):
        jit.main(np.zeros((2, 0), np.float32))


BROADCAST = """
func.func @main(%a: tensor<?xf32> {red.dims = ["m"]}, %b: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %s = red.add %a, %b : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  func.return %s : tensor<?xf32>
}"""


def test_broadcast_between_symbols_is_checked() -> None:
    """The result has `m` rows (the symbolic shape): `n` must be `m` or 1 (then %b is read
    at 0); any other `n`, and an `m` of 1 that numpy would broadcast to `n`, are refused
    by the JIT and by the compiled entry itself (status 1)."""
    module = red.parse(BROADCAST)
    jit, runner = red.compile(module), red.interpret(module)
    for m, n in ((3, 3), (3, 1), (1, 1)):
        a, b = np.arange(m, dtype=np.float32), np.arange(10, 10 + n, dtype=np.float32)
        np.testing.assert_array_equal(jit.main(a, b), runner.call("main", a, b)[0])
    for m, n in ((3, 2), (1, 4)):
        a, b = np.zeros(m, np.float32), np.zeros(n, np.float32)
        with pytest.raises(ValueError, match=r"the 'red\.add' op .*needs n = m \(or n = 1\)"):
            jit.main(a, b)
        out = np.zeros(m, np.float32)
        assert jit.main._cfunc(a.ctypes.data, m, b.ctypes.data, n, out.ctypes.data) == 1


def test_dtype_mismatch() -> None:
    _, jit = compiled(by_name("matmul_rows"))  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"argument #0 \(%x\) of '@main' expects float32"):
        jit.main(np.zeros((2, 8), np.float64), np.zeros((8, 16), np.float32))


def test_compiled_entry_checks_the_sizes_itself() -> None:
    """The C entry refuses inconsistent sizes (status 1) without touching the results,
    whatever the caller checked: called here through ctypes past the Python checks."""
    _, jit = compiled(by_name("matmul_contracting_symbol"))  # type: ignore[misc]
    fn = jit.main
    a, b = np.ones((3, 4), np.float32), np.ones((5, 2), np.float32)
    out = np.full((3, 2), 7.0, np.float32)
    status = fn._cfunc(a.ctypes.data, 4, b.ctypes.data, 5, 2, out.ctypes.data)
    assert status == 1
    assert (out == 7.0).all()
    b = np.ones((4, 2), np.float32)
    assert fn._cfunc(a.ctypes.data, 4, b.ctypes.data, 4, 2, out.ctypes.data) == 0
    assert (out == 4.0).all()


def test_unsizable_op_is_a_located_error() -> None:
    module = red.parse(
        """
func.func @main(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xi64> {
  %i = red.iota dim = 0 : tensor<?xi64>
  func.return %i : tensor<?xi64>
}""",
        filename="iota.mlir",
    )
    with pytest.raises(DiagnosticError, match=r"'red\.iota' op has a dynamic size the lowering"):
        red.compile(module)


# endregion bad input


def test_compile_cache_serves_a_dynamic_module(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RED_CACHE", raising=False)
    text = by_name("matmul_rows").text
    first = red.compile(red.parse(text))
    second = red.compile(red.parse(text))
    assert not first.cache_hit
    assert second.cache_hit
    x, w = np.ones((3, 8), np.float32), np.ones((8, 16), np.float32)
    np.testing.assert_array_equal(second.main(x, w), first.main(x, w))
    assert second.main(x[:1], w).shape == (1, 16)


# region the sized C ABI from C

C_DRIVER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int32_t red_main(float *a, int64_t a_d1, float *b, int64_t b_d0, int64_t b_d1, float *res0);
int32_t red_main_result_shape(const int64_t *in_dims, int64_t *out_dims);

/* One call at k x n: the result's shape from red_main_result_shape, then red_main. */
static int run(FILE *out, int64_t k, int64_t n) {
  int64_t in_dims[3] = {k, k, n}, out_dims[2];
  if (red_main_result_shape(in_dims, out_dims) != 0) return 1;
  float *a = malloc(sizeof(float) * (3 * k + 1)), *b = malloc(sizeof(float) * (k * n + 1));
  float *c = malloc(sizeof(float) * (out_dims[0] * out_dims[1] + 1));
  for (int64_t i = 0; i < 3 * k; i++) a[i] = (float)(i % 7) - 3.0f;
  for (int64_t i = 0; i < k * n; i++) b[i] = (float)(i % 5) * 0.5f;
  int32_t status = red_main(a, k, b, k, n, c);
  fwrite(out_dims, sizeof(int64_t), 2, out);
  fwrite(c, sizeof(float), out_dims[0] * out_dims[1], out);
  free(a); free(b); free(c);
  return status;
}

int main(int argc, char **argv) {
  FILE *out = fopen(argv[1], "wb");
  if (!out || run(out, 4, 5) || run(out, 33, 2)) return 1;
  fclose(out);
  /* inconsistent sizes (k = 4 and k = 5): refused, nothing written */
  int64_t in_dims[3] = {4, 5, 2}, out_dims[2] = {-1, -1};
  if (red_main_result_shape(in_dims, out_dims) != 1 || out_dims[0] != -1) return 3;
  float a[12] = {0}, b[10] = {0}, c[6] = {42, 42, 42, 42, 42, 42};
  if (red_main(a, 4, b, 5, 2, c) != 1 || c[0] != 42) return 4;
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-16") is None, reason="clang-16 not found on PATH")
def test_c_driver_calls_a_dynamic_function_at_two_sizes(tmp_path) -> None:
    """red-translate's LLVM IR and a C driver, built with clang-16: the driver asks
    red_main_result_shape for the result's shape, allocates it and calls red_main at
    3x4·4x5 and 3x33·33x2; the results equal numpy's; inconsistent sizes return 1."""
    ll, driver, exe, out = (tmp_path / n for n in ("m.ll", "driver.c", "driver", "out.bin"))
    source = tmp_path / "m.mlir"
    source.write_text(by_name("matmul_contracting_symbol").text)
    subprocess.run(["red-translate", "--mlir-to-llvmir", str(source), "-o", str(ll)], check=True)
    driver.write_text(C_DRIVER)
    build = subprocess.run(
        ["clang-16", "-O2", "-Wall", "-Werror", "-Wno-override-module", str(driver), str(ll),
         "-o", str(exe), "-lm"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, (run.returncode, run.stderr)
    raw = out.read_bytes()
    at = 0
    for k, n in ((4, 5), (33, 2)):
        shape = tuple(np.frombuffer(raw, np.int64, 2, at))
        at += 16
        assert shape == (3, n)
        got = np.frombuffer(raw, np.float32, 3 * n, at).reshape(3, n)
        at += 4 * 3 * n
        a = ((np.arange(3 * k) % 7) - 3.0).astype(np.float32).reshape(3, k)
        b = ((np.arange(k * n) % 5) * 0.5).astype(np.float32).reshape(k, n)
        np.testing.assert_allclose(got, a @ b, rtol=1e-5)
    assert at == len(raw)


# endregion the sized C ABI from C


# region the unit-size specialization

SPLIT_ATTENTION = """
func.func @main(%x: tensor<?x6xf32> {red.dims = ["n", ""]}) -> tensor<?x3xf32> {
  %lo = red.constant dense<[0, 1, 2]> : tensor<3xi64>
  %hi = red.constant dense<[3, 4, 5]> : tensor<3xi64>
  %q = red.gather %x, %lo axis = 1 : tensor<?x6xf32>, tensor<3xi64> -> tensor<?x3xf32>
  %k = red.gather %x, %hi axis = 1 : tensor<?x6xf32>, tensor<3xi64> -> tensor<?x3xf32>
  %kt = red.transpose %k [1, 0] : tensor<?x3xf32> -> tensor<3x?xf32>
  %s = red.matmul %q, %kt : tensor<?x3xf32>, tensor<3x?xf32> -> tensor<?x?xf32>
  %p = red.softmax %s axis = 1 : tensor<?x?xf32>
  %o = red.matmul %p, %q : tensor<?x?xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  func.return %o : tensor<?x3xf32>
}"""

GROWING_LOOP = """
func.func @main(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %x) -> (tensor<?xf32>) {
    %g = red.concat %acc, %x axis = 0 : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    scf.yield %g : tensor<?xf32>
  }
  func.return %r : tensor<?xf32>
}"""


def main_of(module: ModuleOp) -> func.FuncOp:
    fn = module.body.block.first_op
    assert isinstance(fn, func.FuncOp)
    return fn


def test_unit_specialization_is_static_and_folded() -> None:
    fn = main_of(red.parse(SPLIT_ATTENTION))

    sizes = unit_sizes(fn)
    unit = specialize(fn, sizes, "__red_main_unit")

    assert sizes == {"n": 1}
    assert unit is not None
    assert str(unit.function_type) == "(tensor<1x6xf32>) -> tensor<1x3xf32>"
    names = [op.name for op in unit.walk()]
    assert "red.gather" not in names
    assert names.count("red.slice") == 2  # the split, a view once static


def test_unit_specialization_refuses_a_size_it_cannot_make_static() -> None:
    fn = main_of(red.parse(GROWING_LOOP))

    assert specialize(fn, unit_sizes(fn), "__red_main_unit") is None


def test_jit_matches_interpreter_through_the_unit_specialization() -> None:
    module = red.parse(SPLIT_ATTENTION)
    jit = red.compile(module)
    runner = red.interpret(module)
    rng = np.random.default_rng(1)

    for n in (1, 2, 7):
        x = rng.standard_normal((n, 6)).astype(np.float32)
        (expected,) = runner.call("main", x)
        np.testing.assert_allclose(jit.main(x), expected, rtol=1e-5, atol=1e-6, err_msg=str(n))


def test_entry_calls_the_unit_specialization_only_when_every_size_is_1(monkeypatch) -> None:
    """The specialization made to negate its result: the entry's choice shows in the sign."""
    monkeypatch.setenv("RED_CACHE", "off")

    def negated(fn: func.FuncOp, sizes: dict[str, int], name: str) -> func.FuncOp | None:
        unit = specialize(fn, sizes, name)
        assert unit is not None
        ret = unit.body.block.last_op
        assert isinstance(ret, func.ReturnOp)
        neg = red_dialect.NegOp(ret.operands[0])
        unit.body.block.insert_op_before(neg, ret)
        ret.operands = [neg.result]
        return unit

    monkeypatch.setattr(convert_red_to_loops, "specialize", negated)
    module = red.parse(by_name("matmul_contracting_symbol").text)
    jit = red.compile(module)
    runner = red.interpret(module)
    rng = np.random.default_rng(2)

    for k, n, sign in ((1, 1, -1), (1, 4, 1), (3, 1, 1), (2, 5, 1)):
        a = rng.standard_normal((3, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        (expected,) = runner.call("main", a, b)
        np.testing.assert_allclose(jit.main(a, b), sign * expected, rtol=1e-5, err_msg=str((k, n)))


def test_a_unit_specialization_the_lowering_refuses_is_left_out(monkeypatch) -> None:
    """An op the static lowering refuses in the specialization: the function keeps its one
    generic body (the compile does not fail) and runs at size 1 through it."""
    monkeypatch.setenv("RED_CACHE", "off")
    lower = convert_red_to_loops.FunctionLowering.lower

    def refusing(self: convert_red_to_loops.FunctionLowering) -> func.FuncOp:
        if self.fn.sym_name.data.endswith("_unit"):
            raise DiagnosticError.at(self.fn, "refused for the test")
        return lower(self)

    monkeypatch.setattr(convert_red_to_loops.FunctionLowering, "lower", refusing)
    module = red.parse(SPLIT_ATTENTION)
    jit = red.compile(module)
    x = np.random.default_rng(3).standard_normal((1, 6)).astype(np.float32)

    (expected,) = red.interpret(module).call("main", x)

    assert "__red_main_unit" not in jit.llvm_ir
    np.testing.assert_allclose(jit.main(x), expected, rtol=1e-5, atol=1e-6)


# endregion the unit-size specialization
