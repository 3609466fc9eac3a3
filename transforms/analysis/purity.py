"""Purity: which ops and functions have no side effects, so that passes may merge, move or
erase them (a call is pure when its callee's body is, recursively; recursion counts as
impure). One analysis object per module; results are cached per function."""

from __future__ import annotations

from collections.abc import Iterator

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.traits import IsTerminator, SymbolOpInterface, is_side_effect_free


class PurityOracle:
    """Which functions are pure (no side effects anywhere in their bodies, calls to pure
    functions allowed), so calls to them can be merged."""

    def __init__(self, module: ModuleOp):
        self.functions = {
            op.sym_name.data: op for op in module.body.ops if isinstance(op, func.FuncOp)
        }
        self._pure: dict[str, bool] = {}

    def is_pure_function(self, name: str) -> bool:
        """Whether `@name` and every function it calls, transitively, have no side effects
        (a missing or external callee, or a call cycle on the way, makes it impure). An
        explicit depth-first walk of the call graph: a chain of thousands of calls needs no
        Python recursion."""
        if name in self._pure:
            return self._pure[name]
        if not self._enter(name):
            return False
        pure_so_far = {name: self._locally_pure(name)}
        stack = [(name, iter(self._callees(name)))]
        while stack:
            caller, callees = stack[-1]
            callee = next(callees, None)
            if callee is None:
                stack.pop()
                self._pure[caller] = pure_so_far.pop(caller)
                if stack:
                    parent = stack[-1][0]
                    pure_so_far[parent] = pure_so_far[parent] and self._pure[caller]
            elif callee in self._pure:  # done, or on the path (recursion: impure)
                pure_so_far[caller] = pure_so_far[caller] and self._pure[callee]
            elif not self._enter(callee):
                pure_so_far[caller] = False
            else:
                pure_so_far[callee] = self._locally_pure(callee)
                stack.append((callee, iter(self._callees(callee))))
        return self._pure[name]

    def _enter(self, name: str) -> bool:
        """Mark `@name` as on the walk's path (impure until proven pure); False (and
        impure) when it has no body to inspect."""
        fn = self.functions.get(name)
        self._pure[name] = False
        return fn is not None and bool(fn.body.blocks)

    def _ops(self, name: str) -> Iterator[Operation]:
        fn = self.functions[name]
        return (o for o in fn.walk() if o is not fn and not o.has_trait(IsTerminator))

    def _locally_pure(self, name: str) -> bool:
        """No side effects in the body, calls aside."""
        return all(isinstance(o, func.CallOp) or is_side_effect_free(o) for o in self._ops(name))

    def _callees(self, name: str) -> list[str]:
        return [o.callee.root_reference.data for o in self._ops(name) if isinstance(o, func.CallOp)]

    def is_mergeable(self, op: Operation) -> bool:
        if isinstance(op, func.CallOp):
            return self.is_pure_function(op.callee.root_reference.data)
        return is_side_effect_free(op)


def is_dead(op: Operation, purity: PurityOracle) -> bool:
    """An op whose results are unused and that may be erased (pure, not a terminator or a
    symbol)."""
    if op.has_trait(IsTerminator) or op.has_trait(SymbolOpInterface):
        return False
    if any(r.uses for r in op.results):
        return False
    return purity.is_mergeable(op)
