"""func.call between functions on tensors: buffers for the arguments, the result buffers
passed after them (destination-passing style), the callee by its lowered name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.lowering.loops.rules import lowers

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


@lowers(func.CallOp)
def _call(bl: BlockLowering, op: func.CallOp) -> None:
    """call @f(args) -> results  ->  call @f(arg buffers, result buffers); scalar
    arguments are passed as they are; public callees are called by their C name (`red_f`)."""
    for v in (*op.operands, *op.results):
        if isinstance(v.type, TensorType) and red.DYNAMIC in v.type.get_shape():
            raise DiagnosticError.at(
                op, f"'{op.name}' op on '{v.type}': calls with dynamic shapes are not supported"
            )
    args = [bl.buffer(v) if isinstance(v.type, TensorType) else bl.scalar(v) for v in op.operands]
    outs = [bl.result_buffer(op, i) for i in range(len(op.results))]
    callee = bl.module.callee_name(op.callee.root_reference.data)
    bl.e.op(func.CallOp(callee, [*args, *outs], []))
