"""Constant tensors: recorded as constants (a splat is a scalar where it is read) and, when
read as a whole buffer, one constant module global per distinct value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Operation, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import dense_to_numpy, numpy_to_dense
from red.lowering.loops.rules import lowers
from red.lowering.loops.values import Const, memref_of

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


@lowers(red.ConstantOp, arith.ConstantOp, into_destination=False)
def _constant(bl: BlockLowering, op: red.ConstantOp | arith.ConstantOp) -> None:
    """No code: the value is read where it is used (a returned one is copied)."""
    attr = op.value
    if not isinstance(op.result.type, TensorType) or not isinstance(
        attr, DenseIntOrFPElementsAttr | DenseResourceAttr
    ):
        raise DiagnosticError.at(op, f"'{op.name}' op is not supported by the lowering")
    bl.define(op.result, Const(attr, dense_to_numpy(attr)))


def global_buffer(bl: BlockLowering, v: SSAValue, const: Const) -> SSAValue:
    """The module global holding `const` (one per distinct type and bytes), as a memref."""
    attr = const.attr
    typ = attr.get_type()
    dense = (
        attr
        if isinstance(attr, DenseIntOrFPElementsAttr)
        else numpy_to_dense(const.array, red.element_type_of(typ))
    )

    def make(name: str) -> Operation:
        return memref.GlobalOp.get(StringAttr(name), memref_of(typ), dense, constant=UnitAttr())

    name = bl.module.unique_global(("constant", typ, dense.data.data), "__red_constant_", make)
    # at the top of the function: the first read may be inside a loop, later ones outside
    return bl.e.at_entry(memref.GetGlobalOp(SymbolRefAttr(name), memref_of(v.type)))
