"""Large constant globals (lowering/llvm_ir.py, lowering/jit.py): the JIT binds them by address
(an external declaration, no element in the IR text), red-translate's text holds their bytes
as one string that llvmlite and clang accept, small constants stay readable, and two
compiled modules whose constants share a name each compute with their own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest
from lowering_helpers import missing_tools

import red
from red.lowering.llvm_ir import LARGE_CONSTANT_BYTES, llvm_ir_module, module_to_llvm_ir
from red.lowering.red_lower import lower_module

NO_CLANG = missing_tools("clang-16")


def weight_module(w: np.ndarray) -> str:
    """@main(x) = x · W + [1, 2, 3] with W (f32, k x n) a constant in hex."""
    k, n = w.shape
    data = "0x" + w.astype(np.float32).tobytes().hex().upper()
    return f"""
func.func @main(%x: tensor<3x{k}xf32>) -> tensor<3x{n}xf32> {{
  %w = red.constant dense<"{data}"> : tensor<{k}x{n}xf32>
  %b = red.constant dense<[[1.0], [2.0], [3.0]]> : tensor<3x1xf32>
  %y = red.matmul %x, %w : tensor<3x{k}xf32>, tensor<{k}x{n}xf32> -> tensor<3x{n}xf32>
  %z = red.add %y, %b : tensor<3x{n}xf32>, tensor<3x1xf32> -> tensor<3x{n}xf32>
  func.return %z : tensor<3x{n}xf32>
}}
"""


def weights(seed: int, k: int = 64, n: int = 40) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((k, n)).astype(np.float32)


def expected(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x @ w + np.array([[1.0], [2.0], [3.0]], dtype=np.float32)


def test_jit_binds_large_constants_by_address():
    w = weights(0)
    assert w.nbytes >= LARGE_CONSTANT_BYTES
    x = np.random.default_rng(1).standard_normal((3, 64)).astype(np.float32)

    compiled = red.compile(red.parse(weight_module(w), "w.mlir"))

    assert list(compiled.bound_constants) == ["__red_constant_0"]
    assert compiled.bound_constants["__red_constant_0"].tobytes() == w.tobytes()
    assert '@"__red_constant_0" = external constant' in compiled.llvm_ir
    np.testing.assert_allclose(compiled.main(x), expected(x, w), rtol=1e-5, atol=1e-5)


def test_modules_with_same_constant_names_keep_their_own():
    w1, w2 = weights(2), weights(3)
    x = np.random.default_rng(4).standard_normal((3, 64)).astype(np.float32)

    first = red.compile(red.parse(weight_module(w1), "a.mlir"))
    second = red.compile(red.parse(weight_module(w2), "b.mlir"))

    np.testing.assert_allclose(first.main(x), expected(x, w1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second.main(x), expected(x, w2), rtol=1e-5, atol=1e-5)


def test_text_holds_large_constants_as_bytes_and_small_ones_as_values():
    w = weights(5)

    text = module_to_llvm_ir(red.parse(weight_module(w), "w.mlir"), with_kernels=False)

    line = next(t for t in text.splitlines() if t.startswith('@"__red_constant_0" ='))
    expected_bytes = "\\" + w.tobytes()[:4].hex("\\")
    assert line.startswith(f'@"__red_constant_0" = internal constant [{w.nbytes} x i8] c"')
    assert f'c"{expected_bytes}' in line
    assert "[3 x float] [float 0x3ff0000000000000, float 0x4000000000000000" in text
    parsed = llvm.parse_assembly(text)
    parsed.verify()


def test_caller_lowered_module_keeps_its_values():
    module = red.parse(weight_module(weights(6)), "w.mlir")
    lower_module(module)
    before = str(module)

    llvm_ir_module(module, bound_constants={})

    assert str(module) == before


@pytest.mark.skipif(bool(NO_CLANG), reason=str(NO_CLANG))
def test_clang_compiles_bytes_constants(tmp_path: Path):
    path = tmp_path / "w.ll"
    path.write_text(module_to_llvm_ir(red.parse(weight_module(weights(7)), "w.mlir")))

    run = subprocess.run(["clang-16", "-O1", "-c", "-Wno-override-module", str(path), "-o", str(tmp_path / "w.o")],
                         capture_output=True, text=True)  # fmt: skip

    assert run.returncode == 0, run.stderr[:2000]
