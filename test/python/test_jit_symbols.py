"""What the JIT links: the compiler runtime's soft-float helpers resolve (LLVM calls
`__truncdfhf2` for f64 -> f16 where the CPU has no AVX512-FP16, as on AMD Zen 4), and a symbol
the process does not provide is a located error before anything runs. MCJIT itself links a
missing symbol to address 0 and the whole object with it: the first call segfaulted."""

from __future__ import annotations

import llvmlite.binding as llvm
import llvmlite.ir as ir
import numpy as np
import pytest

import red
from red.dialects.diagnostics import DiagnosticError
from red.lowering.jit import CompiledModule, host_target_machine
from red.lowering.object_symbols import undefined_symbols

CAST = """
func.func @main(%a: tensor<3x5xf64>) -> tensor<3x5xf16> {
  %0 = red.cast %a : tensor<3x5xf64> -> tensor<3x5xf16>
  func.return %0 : tensor<3x5xf16>
}
"""

F16_MATMUL = """
func.func @main(%a: tensor<2x13x9xf16>, %b: tensor<9x37xf16>) -> tensor<2x13x37xf16> {
  %r = red.matmul %a, %b : tensor<2x13x9xf16>, tensor<9x37xf16> -> tensor<2x13x37xf16>
  func.return %r : tensor<2x13x37xf16>
}
"""


def test_f64_to_f16_cast_runs_and_rounds_once():
    compiled = red.compile(red.parse(CAST, "cast.mlir"))
    # 1 + 2^-11 + 2^-40: above the halfway point between two f16 values, so it rounds up;
    # rounding to f32 first would drop the 2^-40 and land on the halfway point (rounding
    # down to even)
    a = np.full((3, 5), 1 + 2.0**-11 + 2.0**-40)
    a[0, :] = [0.0, -1.5, 65520.0, 1e-9, np.nan]

    got = compiled.main(a)

    with np.errstate(over="ignore"):  # 65520 rounds to inf in f16, as it should
        np.testing.assert_array_equal(got, a.astype(np.float16))


def test_f16_matmul_runs():
    module = red.parse(F16_MATMUL, "f16.mlir")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 13, 9)).astype(np.float16)
    b = rng.standard_normal((9, 37)).astype(np.float16)

    got = red.compile(module).main(a, b)

    want = red.interpret(module).call("main", a, b)[0]
    np.testing.assert_allclose(got, want, rtol=4e-3, atol=4e-3)


def _calls_missing_helper(module: ir.Module) -> None:
    """Make red_main call an external function no library defines."""
    missing = ir.Function(module, ir.FunctionType(ir.VoidType(), []), "red_test_missing_helper")
    main = module.get_global("red_main")
    entry = main.blocks[0]
    builder = ir.IRBuilder(entry)
    builder.position_before(entry.instructions[0])
    builder.call(missing, [])


def test_a_symbol_the_process_lacks_is_a_located_error():
    module = red.parse(CAST, "cast.mlir")

    with pytest.raises(DiagnosticError) as err:
        CompiledModule(module, edit_ir=_calls_missing_helper)

    text = str(err.value)
    assert text.startswith("cast.mlir:")
    assert "'red_test_missing_helper'" in text


def test_undefined_symbols_lists_the_objects_needs_not_its_own():
    text = """
declare void @needed()
declare extern_weak void @optional()
define void @own() {
  call void @needed()
  call void @optional()
  ret void
}
define void @caller() {
  call void @own()
  ret void
}
"""
    tm = host_target_machine()
    object_code = tm.emit_object(llvm.parse_assembly(text))

    assert undefined_symbols(object_code) == ["needed"]
    assert undefined_symbols(b"not an object") == []
