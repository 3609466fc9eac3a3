"""The registry of convert-red-to-loops' rules, by op class.

Two kinds of rule:
- an elementwise rule, `@lowers_elementwise(red.ExpOp)`, gives the op's value at one index of
  its result as scalar code (`rule(bl, op, idx) -> SSAValue`). Such an op is fusable: when its
  only user is elementwise too and of the same shape, it is computed inside the user's loop
  nest, without a buffer; otherwise the driver writes it into a buffer with one loop nest.
- an op rule, `@lowers(red.MatmulOp)`, emits whatever computes the op's results
  (`rule(bl, op) -> None`) and records them with `bl.define` (usually through
  `bl.result_buffer(op)`, which allocates the result or takes its destination buffer).

`bl` is the driver's BlockLowering (lowering/convert_red_to_loops.py): the emitter `bl.e`, the
module state `bl.module`, and the reads and buffers of lowered values (`load`, `operand`,
`buffer`, `result_buffer`, `copy`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xdsl.ir import Operation, SSAValue

from red.lowering.rule_table import RuleTable

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

ElementRule = Callable[["BlockLowering", Any, list[SSAValue]], SSAValue]
OpRule = Callable[["BlockLowering", Any], None]

OP_RULES: RuleTable[OpRule] = RuleTable()
ELEMENT_RULES: RuleTable[ElementRule] = RuleTable(exclusive_with=OP_RULES)
NO_DESTINATION: set[type[Operation]] = set()
"""Ops whose op rule cannot write a returned result into the caller's buffer (views, cached
or constant results): the driver copies those results instead."""


def lowers_elementwise(*op_types: type[Operation]) -> Callable[[ElementRule], ElementRule]:
    """Register an elementwise rule (the op's value at one index) for `op_types`."""
    return ELEMENT_RULES.register(*op_types)


def lowers(*op_types: type[Operation], into_destination: bool = True) -> Callable[[OpRule], OpRule]:
    """Register an op rule for `op_types`; `into_destination=False` when the rule cannot
    write a returned result straight into the result buffer."""
    assert not any(t in ELEMENT_RULES for t in op_types)
    if not into_destination:
        NO_DESTINATION.update(op_types)
    return OP_RULES.register(*op_types)


def is_fusable(op: Operation) -> bool:
    """Whether the op has an elementwise rule (its value at an index is scalar code)."""
    return type(op) in ELEMENT_RULES
