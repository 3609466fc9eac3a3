"""func -> llvm: functions (memref arguments are pointers; private is internal linkage, a
declaration is external), calls and returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import UnitAttr

from red.dialects.diagnostics import DiagnosticError
from red.dialects.symbols import is_private
from red.lowering.llvm.rules import convert_type, lowers, lowers_symbol
from red.lowering.loops.outline import NOINLINE_ATTR, PARALLEL_NEST_ATTR

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter, ModuleConverter


@lowers_symbol(func.FuncOp)
def _function(module: ModuleConverter, op: func.FuncOp) -> llvm.FuncOp:
    """llvm.func with the converted signature (at most one result) and body."""
    inputs = [convert_type(t) for t in op.function_type.inputs.data]
    outputs = op.function_type.outputs.data
    if len(outputs) > 1:
        raise DiagnosticError.at(
            op, f"'@{op.sym_name.data}' has {len(outputs)} results: convert-to-llvm handles one"
        )
    output = convert_type(outputs[0]) if outputs else llvm.LLVMVoidType()
    ftype = llvm.LLVMFunctionType(inputs, output)
    if not op.body.blocks:
        return llvm.FuncOp(op.sym_name.data, ftype, linkage=llvm.LinkageAttr("external"))
    linkage = llvm.LinkageAttr("internal" if is_private(op) else "external")
    new = llvm.FuncOp(op.sym_name.data, ftype, linkage=linkage, body=module.convert_body(op))
    new.location = op.location
    if NOINLINE_ATTR in op.attributes:  # an outlined loop nest (lowering/loops/outline.py)
        new.attributes[NOINLINE_ATTR] = UnitAttr()
    if (nest := op.attributes.get(PARALLEL_NEST_ATTR)) is not None:  # its parallel caller
        new.attributes[PARALLEL_NEST_ATTR] = nest
    return new


@lowers(func.CallOp)
def _call(conv: FunctionConverter, op: func.CallOp) -> None:
    results = op.result_types
    if len(results) > 1:
        raise DiagnosticError.at(op, f"'{op.name}' op with {len(results)} results is not supported")
    ret = convert_type(results[0]) if results else None
    args = [conv.get(a) for a in op.arguments]
    r = conv.emit(llvm.CallOp(op.callee.root_reference.data, *args, return_type=ret))
    if results:
        conv.set(op.results[0], r)


@lowers(func.ReturnOp)
def _return(conv: FunctionConverter, op: func.ReturnOp) -> None:
    conv.emit(llvm.ReturnOp(conv.get(op.arguments[0]) if op.arguments else None))
