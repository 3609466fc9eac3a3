"""Module verification: xDSL's per-op verifiers plus the dominance check xDSL 0.74 lacks,
reporting the first failure at the failing op's location."""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.ir import Operation
from xdsl.utils.exceptions import DiagnosticException

from red.dialects.diagnostics import DiagnosticError, Note, location_of
from red.dialects.dominance import DominanceInfo
from red.dialects.red import verify_invariant_attrs


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
    except (ValueError, AssertionError, TypeError, KeyError, IndexError) as err:
        # Verifiers written against well-typed operands can trip on ill-typed ones.
        raise DiagnosticError.at(op, _message(op, err)) from None
    if isinstance(op, func.FuncOp) and (msg := verify_invariant_attrs(op.arg_attrs)):
        raise DiagnosticError.at(op, f"'{op.name}' op {msg}")


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
