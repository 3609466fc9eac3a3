"""The registry of convert-to-llvm's rules, by op class, and the type conversion they share.

An op rule, `@lowers(arith.AddfOp)`, converts one op inside a function: it reads the
converted operands with `conv.get(v)`, emits llvm ops with `conv.emit(op)` and records the
converted results with `conv.set(result, value)`. A symbol rule, `@lowers_symbol(memref.GlobalOp)`,
converts one op of the module body into the llvm op that replaces it. `conv` is the driver's
FunctionConverter, `module` its ModuleConverter (lowering/convert_to_llvm.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xdsl.dialects import llvm
from xdsl.dialects.builtin import (
    AnyFloat,
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    MemRefType,
    VectorType,
    i64,
)
from xdsl.ir import Attribute, Operation

from red.lowering.rule_table import RuleTable

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter, ModuleConverter

OpRule = Callable[["FunctionConverter", Any], None]
SymbolRule = Callable[["ModuleConverter", Any], Operation]

OP_RULES: RuleTable[OpRule] = RuleTable()
SYMBOL_RULES: RuleTable[SymbolRule] = RuleTable()


def lowers(*op_types: type[Operation]) -> Callable[[OpRule], OpRule]:
    """Register the rule converting ops of `op_types` inside a function."""
    return OP_RULES.register(*op_types)


def lowers_symbol(*op_types: type[Operation]) -> Callable[[SymbolRule], SymbolRule]:
    """Register the rule converting ops of `op_types` in the module body."""
    return SYMBOL_RULES.register(*op_types)


# region types

PTR = llvm.LLVMPointerType()

ICMP = {"eq": 0, "ne": 1, "slt": 2, "sle": 3, "sgt": 4, "sge": 5}
"""llvm.icmp predicates (the numbering of arith.cmpi's)."""
FCMP = {"ogt": 2, "oge": 3, "olt": 4, "ole": 5, "uno": 14}
"""llvm.fcmp predicates (the numbering of arith.cmpf's)."""


def convert_type(t: Attribute) -> Attribute:
    """A memref is a pointer to its data, index is i64, other types stay."""
    if isinstance(t, MemRefType):
        return PTR
    if isinstance(t, IndexType):
        return i64
    return t


def element_bytes(t: Attribute) -> int:
    if isinstance(t, AnyFloat):
        return t.bitwidth // 8
    if isinstance(t, IntegerType):
        return max(1, (t.width.data + 7) // 8)
    if isinstance(t, IndexType):
        return 8
    raise AssertionError(f"no size for element type '{t}'")


def intrinsic_suffix(t: Attribute) -> str:
    """The type-mangling suffix of an LLVM intrinsic: f32, i64, v8f32, ..."""
    if isinstance(t, VectorType):
        return f"v{t.get_shape()[0]}{intrinsic_suffix(t.get_element_type())}"
    if isinstance(t, Float16Type):
        return "f16"
    if isinstance(t, Float32Type):
        return "f32"
    if isinstance(t, Float64Type):
        return "f64"
    if isinstance(t, IntegerType):
        return f"i{t.width.data}"
    raise AssertionError(f"no intrinsic suffix for {t}")


# endregion types
