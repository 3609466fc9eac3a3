"""Symbol visibility of func.func, as MLIR's symbol table defines it: a function is public
unless marked private; public functions are the module's entry points (what red-run, the
JIT and the equivalence check call, and what dce keeps)."""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp


def is_private(fn: func.FuncOp) -> bool:
    return fn.sym_visibility is not None and fn.sym_visibility.data == "private"


def public_functions(module: ModuleOp) -> list[func.FuncOp]:
    """The public functions with a body (declarations are not entry points)."""
    return [
        op
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and op.body.blocks and not is_private(op)
    ]
