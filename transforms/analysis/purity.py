"""Purity: which ops and functions have no side effects, so that passes may merge, move or
erase them (a call is pure when its callee's body is, recursively; recursion counts as
impure). One analysis object per module; results are cached per function."""

from __future__ import annotations

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
        if name in self._pure:
            return self._pure[name]
        fn = self.functions.get(name)
        if fn is None or not fn.body.blocks:
            return False
        self._pure[name] = False  # recursion is treated as impure
        pure = all(
            o.has_trait(IsTerminator) or self.is_mergeable(o) for o in fn.walk() if o is not fn
        )
        self._pure[name] = pure
        return pure

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
