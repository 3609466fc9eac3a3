"""A test-only pass that miscompiles on purpose, to prove `--verify-equivalence` fires."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from red.dialects import red


@dataclass(frozen=True)
class TestMiscompilePass(ModulePass):
    """Rewrites the first red.add into a red.sub (wrong unless the rhs is zero)."""

    name = "test-miscompile"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for add in op.walk():
            if isinstance(add, red.AddOp):
                sub = red.SubOp(add.lhs, add.rhs, add.result.type)
                sub.location = add.location
                assert add.parent is not None
                add.parent.insert_op_before(sub, add)
                add.result.replace_all_uses_with(sub.result)
                add.detach()
                add.erase()
                return
