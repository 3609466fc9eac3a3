"""convert-scf-to-cf (lowering/convert_scf_to_cf.py) by what the code computes: loop-level
functions on scalars with scf.for (iter_args), scf.if, scf.while and scf.execute_region are
converted, lowered to LLVM IR, JIT-compiled and called on several inputs, and compared with
the same computation in Python; where xDSL 0.74's pass of the same name applies (for and if),
both conversions give the same results. The converted IR verifies, dominance included."""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import llvmlite.binding as llvm
import pytest
from lowering_helpers import RawJit
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf

import red
from red.dialects.context import make_context
from red.dialects.verifier import verify_module
from red.lowering.convert_scf_to_cf import ConvertScfToCfPass
from red.lowering.convert_to_llvm import ConvertToLLVMPass
from red.lowering.jit import host_target_machine, optimize
from red.lowering.llvm_ir import module_to_llvm_ir

COLLATZ = """
func.func @collatz(%n: i64) -> i64 {
  %zero = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %two = arith.constant 2 : i64
  %three = arith.constant 3 : i64
  %r:2 = scf.while (%x = %n, %steps = %zero) : (i64, i64) -> (i64, i64) {
    %more = arith.cmpi sgt, %x, %one : i64
    scf.condition(%more) %x, %steps : i64, i64
  } do {
  ^bb0(%y: i64, %s: i64):
    %rem = arith.remsi %y, %two : i64
    %odd = arith.cmpi ne, %rem, %zero : i64
    %next = scf.if %odd -> (i64) {
      %t = arith.muli %y, %three : i64
      %u = arith.addi %t, %one : i64
      scf.yield %u : i64
    } else {
      %h = arith.divsi %y, %two : i64
      scf.yield %h : i64
    }
    %s1 = arith.addi %s, %one : i64
    scf.yield %next, %s1 : i64, i64
  }
  func.return %r#1 : i64
}
"""

NESTED_SUM = """
func.func @nested_sum(%n: i64) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i64
  %ub = arith.index_cast %n : i64 to index
  %total = scf.for %i = %c0 to %ub step %c1 iter_args(%acc = %zero) -> (i64) {
    %row = scf.for %j = %c0 to %i step %c1 iter_args(%r = %acc) -> (i64) {
      %ij = arith.muli %i, %j : index
      %v = arith.index_cast %ij : index to i64
      %even = arith.remsi %v, %c1_i64 : i64
      %w = arith.addi %r, %v : i64
      scf.yield %w : i64
    }
    %small = arith.cmpi slt, %row, %limit : i64
    %kept = scf.if %small -> (i64) {
      scf.yield %row : i64
    } else {
      %halved = arith.divsi %row, %two : i64
      scf.yield %halved : i64
    }
    scf.yield %kept : i64
  }
  func.return %total : i64
}
""".replace(
    "  %zero = arith.constant 0 : i64\n",
    "  %zero = arith.constant 0 : i64\n  %c1_i64 = arith.constant 1 : i64\n"
    "  %two = arith.constant 2 : i64\n  %limit = arith.constant 1000 : i64\n",
)

SIGN = """
func.func @sign(%x: i64) -> i64 {
  %zero = arith.constant 0 : i64
  %r = scf.execute_region -> i64 {
    %neg = arith.cmpi slt, %x, %zero : i64
    cf.cond_br %neg, ^minus, ^rest
  ^minus:
    %m = arith.constant -1 : i64
    scf.yield %m : i64
  ^rest:
    %pos = arith.cmpi sgt, %x, %zero : i64
    %p = arith.extui %pos : i1 to i64
    scf.yield %p : i64
  }
  func.return %r : i64
}
"""


def _collatz(n: int) -> int:
    steps = 0
    while n > 1:
        n = 3 * n + 1 if n % 2 else n // 2
        steps += 1
    return steps


def _nested_sum(n: int) -> int:
    total = 0
    for i in range(n):
        row = total
        for j in range(i):
            row += i * j
        total = row if row < 1000 else int(row / 2)
    return total


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


CASES: list[tuple[str, str, Callable[[int], int], list[int]]] = [
    ("collatz", COLLATZ, _collatz, [1, 2, 3, 7, 27, 97]),
    ("nested_sum", NESTED_SUM, _nested_sum, [0, 1, 2, 5, 9, 20]),
    ("sign", SIGN, _sign, [-5, 0, 3]),
]


def scalar_function(module: ModuleOp, name: str) -> Callable[[int], int]:
    """JIT `i64 @name(i64)` of a module converted to the llvm dialect."""
    tm = host_target_machine()
    parsed = llvm.parse_assembly(module_to_llvm_ir(module))
    parsed.verify()
    optimize(parsed, tm)
    engine = llvm.create_mcjit_compiler(parsed, tm)
    engine.finalize_object()
    RawJit._engines.append(engine)  # keep the code alive for the process
    address = engine.get_function_address(name)
    return ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)(address)


def converted(text: str, scf_pass: ConvertScfToCfPass | ConvertScfToCf) -> ModuleOp:
    module = red.parse(text)
    scf_pass.apply(make_context(), module)
    return module


@pytest.mark.parametrize(("name", "text", "reference", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_converted_code_computes_the_loops(
    name: str, text: str, reference: Callable[[int], int], inputs: list[int]
) -> None:
    module = converted(text, ConvertScfToCfPass())
    verify_module(module)
    assert not any(op.dialect_name() == "scf" for op in module.walk())
    ConvertToLLVMPass().apply(make_context(), module)

    fn = scalar_function(module, name)

    assert [fn(x) for x in inputs] == [reference(x) for x in inputs]


def test_same_results_as_xdsl_conversion() -> None:
    ours = converted(NESTED_SUM, ConvertScfToCfPass())
    theirs = converted(NESTED_SUM, ConvertScfToCf())
    for module in (ours, theirs):
        ConvertToLLVMPass().apply(make_context(), module)

    ours_fn, theirs_fn = scalar_function(ours, "nested_sum"), scalar_function(theirs, "nested_sum")

    inputs = [0, 1, 3, 8, 15]
    assert [ours_fn(x) for x in inputs] == [theirs_fn(x) for x in inputs]


def test_each_op_moves_once() -> None:
    """Linear work: a block of many loops in sequence is rebuilt without splitting it at
    each loop (xDSL's pass moves every later op at every split)."""
    loops = 40
    body = "\n".join(
        f"  scf.for %i{k} = %c0 to %n step %c1 {{\n    memref.store %v, %m[%i{k}] : memref<8xf32>\n  }}"
        for k in range(loops)
    )
    text = (
        "func.func @many(%m: memref<8xf32>, %v: f32, %n: index) {\n"
        "  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
        f"{body}\n  func.return\n}}\n"
    )
    module = red.parse(text)
    moves = 0
    original = type(module.body.block).add_op

    def counting_add_op(self, op):  # type: ignore[no-untyped-def]
        nonlocal moves
        moves += 1
        return original(self, op)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(module.body.block), "add_op", counting_add_op)
        ConvertScfToCfPass().apply(make_context(), module)

    verify_module(module)
    blocks = list(module.body.block.first_op.body.blocks)  # type: ignore[union-attr]
    assert not any(isinstance(op, scf.ForOp) for op in module.walk())
    assert len(blocks) == 1 + 3 * loops
    # Per loop: the entry branch, the step, the back branch, the compare and the header
    # branch, and the ops after it moved once into its exit block (the store moves once).
    assert moves <= 8 * loops + 2
