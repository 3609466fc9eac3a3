"""A table of lowering rules by op class, filled by decorators (`@lowers(arith.AddfOp)`), as
both lowerings register theirs (lowering/loops/rules.py, lowering/llvm/rules.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from xdsl.ir import Operation

R = TypeVar("R", bound=Callable[..., object])


class RuleTable(Generic[R]):
    """Op class -> its rule; one rule per class (a second registration is a bug)."""

    def __init__(self, exclusive_with: RuleTable[Any] | None = None):
        self._rules: dict[type[Operation], R] = {}
        self._exclusive_with = exclusive_with

    def register(self, *op_types: type[Operation]) -> Callable[[R], R]:
        """A decorator registering its function as the rule of `op_types`."""

        def register(rule: R) -> R:
            for t in op_types:
                assert t not in self, f"two rules for {t.__name__}"
                assert self._exclusive_with is None or t not in self._exclusive_with
                self._rules[t] = rule
            return rule

        return register

    def get(self, op: Operation) -> R | None:
        """The rule of `op`'s class (exactly: a subclass needs its own registration)."""
        return self._rules.get(type(op))

    def __contains__(self, op_type: object) -> bool:
        return op_type in self._rules

    def __iter__(self) -> Iterator[type[Operation]]:
        return iter(self._rules)
