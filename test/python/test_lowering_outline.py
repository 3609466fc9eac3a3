"""outline-loop-nests (lowering/loops/outline.py): top-level loop nests of the loop level become
private noinline functions called in their place; the module still verifies, LLVM IR marks
them noinline, and the compiled code computes what the interpreter computes."""

from __future__ import annotations

import numpy as np
import pytest
from lowering_helpers import RawJit
from xdsl.dialects import func, scf

import red
from red.lowering.convert_red_to_loops import convert_module
from red.lowering.llvm_ir import module_to_llvm_ir
from red.lowering.loops.outline import NOINLINE_ATTR, outline_module

MODEL = """
func.func @main(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %y = red.matmul %x, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %z = red.add %y, %b : tensor<8x16xf32>, tensor<16xf32> -> tensor<8x16xf32>
  %t = red.tanh %z : tensor<8x16xf32>
  %e = red.exp %y : tensor<8x16xf32>
  %r = red.mul %t, %e : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
  %s = red.reduce_sum %r axes = [1] keepdims : tensor<8x16xf32> -> tensor<8x1xf32>
  %o = red.sub %r, %s : tensor<8x16xf32>, tensor<8x1xf32> -> tensor<8x16xf32>
  func.return %o : tensor<8x16xf32>
}
"""


def loop_level(text: str) -> red.ModuleOp:
    module = red.parse(text, "model.mlir")
    convert_module(module)
    return module


def functions(module: red.ModuleOp) -> dict[str, func.FuncOp]:
    return {op.sym_name.data: op for op in module.body.ops if isinstance(op, func.FuncOp)}


def test_nests_become_noinline_functions():
    module = loop_level(MODEL)
    before = len([op for op in functions(module)["red_main"].body.block.ops])

    count = outline_module(module)

    module.verify()
    fns = functions(module)
    outlined = [f for name, f in fns.items() if NOINLINE_ATTR in f.attributes]
    main_ops = list(fns["red_main"].body.block.ops)
    calls = [op.callee.root_reference.data for op in main_ops if isinstance(op, func.CallOp)]
    assert count == len(outlined) >= 2
    assert not any(isinstance(op, scf.ForOp) for op in main_ops)
    assert {f.sym_name.data for f in outlined} <= set(calls)
    assert len(main_ops) <= before
    for f in outlined:
        assert f.sym_visibility is not None
        assert f.sym_visibility.data == "private"


def test_nests_below_min_ops_stay():
    module = loop_level(MODEL)

    count = outline_module(module, min_ops=10**6)

    assert count == 0
    assert not any(NOINLINE_ATTR in f.attributes for f in functions(module).values())


def test_outlined_module_computes_the_same():
    module = loop_level(MODEL)
    outline_module(module)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32) for s in ((8, 16), (16, 16), (16,))]

    ir = module_to_llvm_ir(module, with_kernels=False)
    got = RawJit(red.parse(MODEL, "model.mlir"), ir).call("main", *args)[0]

    assert "noinline" in ir
    want = red.interpret(red.parse(MODEL, "model.mlir")).call("main", *args)
    want = want[0] if isinstance(want, tuple) else want
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("taken", ["__red_red_main_nest0"], ids=["name-clash"])
def test_fresh_names_avoid_existing_symbols(taken: str):
    text = MODEL + (
        f"func.func private @{taken}(%a: tensor<2xf32>) -> tensor<2xf32> {{\n"
        "  func.return %a : tensor<2xf32>\n}\n"
    )
    module = loop_level(text)

    outline_module(module)

    module.verify()
    names = [op.sym_name.data for op in module.body.ops if isinstance(op, func.FuncOp)]
    assert len(names) == len(set(names))
