"""Module verification: xDSL's per-op verifiers plus what xDSL 0.74 does not check (dominance,
a function's parent being a symbol table, dense resources holding the data their type needs,
red ops on element types red computes with), reporting the first failure at the failing op's
location."""

from __future__ import annotations

import math

from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    AnyFloat,
    Builtin,
    ContainerType,
    DenseResourceAttr,
    IndexType,
    IntegerType,
    ModuleOp,
    ShapedType,
    TensorType,
)
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import DiagnosticException

from red.dialects import red
from red.dialects.call_graph import verify_no_recursion
from red.dialects.diagnostics import DiagnosticError, Note, location_of
from red.dialects.dominance import DominanceInfo
from red.dialects.red import INVARIANT_ATTR, verify_invariant_attrs
from red.dialects.symbolic_shapes import symbolic_shape_problem
from red.dialects.symbols import is_private


def _message(op: Operation, err: Exception) -> str:
    """One line, prefixed `'name' op ` once (xDSL's trait errors already name the op)."""
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    for prefix in (f"'{op.name}' op ", f"'{op.name}' "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return f"'{op.name}' op {text}"


def _verify_op(op: Operation) -> None:
    try:
        op.verify(verify_nested_ops=False)
    except DiagnosticException as err:
        raise DiagnosticError.at(op, _message(op, err)) from None
    except Exception as err:
        # Verifiers written against well-typed operands can trip on ill-typed ones (a
        # ValueError, an AttributeError on an unexpected type): still a located error.
        raise DiagnosticError.at(op, _message(op, err)) from None
    if isinstance(op, func.FuncOp) and (msg := verify_invariant_attrs(op.arg_attrs)):
        raise DiagnosticError.at(op, f"'{op.name}' op {msg}")
    if (msg := _structure_problem(op)) is not None:
        raise DiagnosticError.at(op, f"'{op.name}' op {msg}")


def _structure_problem(op: Operation) -> str | None:
    """What xDSL 0.74 lets through that MLIR (or red's interpreter and lowering) rejects."""
    if isinstance(op, func.FuncOp):
        parent = op.parent_op()
        if parent is not None and not parent.has_trait(SymbolTable):
            return "symbol's parent must have the SymbolTable trait"
    for attr in (*op.properties.values(), *op.attributes.values()):
        if isinstance(attr, DenseResourceAttr) and (msg := resource_problem(attr)) is not None:
            return msg
    if op.name.startswith("red."):
        for value in (*op.operands, *op.results):
            typ = value.type
            if isinstance(typ, TensorType) and not _is_numeric(typ.get_element_type()):
                return (
                    f"element type '{typ.get_element_type()}' is not supported: red computes "
                    "on integer, index and floating-point tensors"
                )
    return None


def _is_numeric(element_type: Attribute) -> bool:
    return isinstance(element_type, IntegerType | IndexType | AnyFloat)


def resource_problem(attr: DenseResourceAttr) -> str | None:
    """Why a dense resource cannot give its elements, or None: its blob must exist in the
    file's dialect_resources and hold exactly the bytes of its type (after the 4-byte
    alignment header)."""
    key = attr.resource_handle.data
    interface = Builtin.get_interface(OpAsmDialectInterface)
    blob = interface.lookup(key) if interface is not None else None
    if not blob:
        return f"dense resource '{key}' has no data: no blob '{key}' in the dialect_resources"
    typ = attr.type
    if not isinstance(typ, ShapedType) or not isinstance(typ, ContainerType):
        return None
    if any(d < 0 for d in typ.get_shape()):
        return None
    element = typ.get_element_type()
    size = getattr(element, "compile_time_size", None)
    if not isinstance(size, int):
        return None
    have = (len(blob) - 2) // 2 - 4
    need = math.prod(typ.get_shape()) * size
    if have != need:
        return f"dense resource '{key}' holds {have} bytes of data, its type '{typ}' needs {need}"
    return None


def verify_module(root: Operation) -> None:
    """Verify every op under `root` (pre-order), then dominance; raise the first
    DiagnosticError found."""
    ops = list(root.walk())
    for op in ops:
        _verify_op(op)
    dom = DominanceInfo()
    for op in ops:
        for i, operand in enumerate(op.operands):
            if not dom.value_dominates(operand, op):
                err = DiagnosticError.at(
                    op, f"'{op.name}' op operand #{i} does not dominate this use"
                )
                owner = operand.owner
                if isinstance(owner, Operation):
                    err.notes.append(Note(location_of(owner), "operand defined here"))
                raise err
    verify_no_recursion(root)
    verify_memo_keys_across_calls(root)
    for op in ops:
        if isinstance(op, func.FuncOp):
            found = symbolic_shape_problem(op)
            if found is not None:
                raise DiagnosticError.at(found[0], found[1])


def _memo_key_parameters(fn: func.FuncOp) -> set[int]:
    """The argument positions of `fn` that key a red.memo in its body."""
    entry = fn.body.blocks.first
    return {
        key.index
        for op in fn.walk()
        if isinstance(op, red.MemoOp)
        for key in op.keys
        if isinstance(key, BlockArgument) and key.block is entry
    }


def _is_public_invariant_argument(v: SSAValue) -> bool:
    if not isinstance(v, BlockArgument):
        return False
    fn = v.block.parent_op()
    return (
        isinstance(fn, func.FuncOp)
        and fn.body.blocks.first is v.block
        and not is_private(fn)
        and fn.arg_attrs is not None
        and INVARIANT_ATTR in fn.arg_attrs.data[v.index].data
    )


def verify_memo_keys_across_calls(root: Operation) -> None:
    """red.memo's own rule (its keys are `red.invariant` arguments of its public function)
    followed through calls: a call into a function with a memo must pass, for each key,
    an invariant argument of the public function the call is in. Compiled memos are keyed
    on buffer addresses, and a computed value can change behind the same address: a call
    `@h(%w * %v)` would get @h's cached result for the old weights."""
    for module in (op for op in root.walk() if isinstance(op, ModuleOp)):
        functions = [op for op in module.body.ops if isinstance(op, func.FuncOp)]
        keyed = {fn.sym_name.data: k for fn in functions if (k := _memo_key_parameters(fn))}
        if not keyed:
            continue
        for fn in functions:
            for call in fn.walk():
                if not isinstance(call, func.CallOp):
                    continue
                callee = call.callee.string_value()
                for i in sorted(keyed.get(callee, ())):
                    if i < len(call.arguments) and not _is_public_invariant_argument(
                        call.arguments[i]
                    ):
                        raise DiagnosticError.at(
                            call,
                            f"'{call.name}' op operand #{i} keys a red.memo of '@{callee}': it "
                            f"must be a '{INVARIANT_ATTR}' argument of the public function "
                            "the call is in (a computed value can change behind the same "
                            "address, and the memo would return stale results)",
                        )
