"""Common subexpression elimination by value numbering over dominance scopes.

Unlike xDSL 0.74's CSE it works across the blocks of multi-block regions (a block sees the
values of the blocks that dominate it), matches commutative operands as a multiset (red ops
and arith ops with the Commutative trait, plus arith ops xDSL does not tag, such as addf),
merges constants by value (red.constant and tensor arith.constant alike, float bits compared
exactly so 0.0 and -0.0 stay apart), compares pure region ops structurally, and merges calls
to pure functions. Ops with side effects are never merged or moved."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.traits import Commutative, IsolatedFromAbove, IsTerminator

from red.dialects import red
from red.dialects.dominance import DominatorTree
from red.dialects.numpy_interop import splat_bytes
from red.passes.rewriting import ReportingPass, rewriter_for
from red.transforms.analysis.purity import PurityOracle

COMMUTATIVE_ARITH: tuple[type[Operation], ...] = (
    arith.AddfOp,
    arith.MulfOp,
    arith.MaximumfOp,
    arith.MinimumfOp,
    arith.MaxnumfOp,
    arith.MinnumfOp,
    arith.MaxSIOp,
    arith.MinSIOp,
    arith.MaxUIOp,
    arith.MinUIOp,
)
"""arith ops that commute but that xDSL 0.74 does not tag Commutative."""


def is_commutative(op: Operation) -> bool:
    return op.has_trait(Commutative) or isinstance(op, COMMUTATIVE_ARITH)


def constant_key(value: Any) -> Any:
    """A key equal for equal constant values: float bits, not float equality."""
    match value:
        case DenseIntOrFPElementsAttr():
            # A splat and the explicit list of the same (bitwise) elements are one value.
            splat = splat_bytes(value)
            return ("dense", value.type, splat if splat is not None else value.data.data)
        case FloatAttr():
            # The attribute holds a Python float (a double) whatever the type: its double
            # bits are exact for every narrower type, and packing into the type's own
            # format would overflow for bf16 values beyond the f16 range.
            return ("float", value.type, struct.pack("<d", value.value.data))
        case IntegerAttr():
            return ("int", value.type, value.value.data)
        case _:
            return ("attr", value)


def _operand_ref(v: SSAValue, local: dict[SSAValue, int]) -> Any:
    n = local.get(v)
    return ("local", n) if n is not None else ("outer", id(v))


def region_fingerprint(op: Operation) -> tuple[Any, ...]:
    """A structural description of an op's regions: nested ops, their attributes and the
    dataflow between them; values from outside the op are named by identity."""
    local: dict[SSAValue, int] = {}
    out: list[Any] = []

    def visit(region: Region) -> None:
        blocks = {b: i for i, b in enumerate(region.blocks)}
        out.append(("region", len(blocks)))
        for block in region.blocks:
            for arg in block.args:
                local[arg] = len(local)
            out.append(("block", tuple(a.type for a in block.args)))
            for nested in block.ops:
                out.append(
                    (
                        nested.name,
                        tuple(r.type for r in nested.results),
                        tuple(_operand_ref(v, local) for v in nested.operands),
                        tuple(sorted(nested.properties.items())),
                        tuple(sorted(nested.attributes.items())),
                        tuple(blocks.get(s, -1) for s in nested.successors),
                    )
                )
                for inner in nested.regions:
                    visit(inner)
                for r in nested.results:
                    local[r] = len(local)

    for region in op.regions:
        visit(region)
    return tuple(out)


def op_key(op: Operation) -> Any:
    """Equal keys mean the ops compute the same values from the same operands."""
    if isinstance(op, red.ConstantOp | arith.ConstantOp):
        return ("constant", op.results[0].type, constant_key(op.value))
    operands: tuple[Any, ...] = tuple(op.operands)
    if is_commutative(op):
        operands = tuple(sorted(operands, key=id))
    key: tuple[Any, ...] = (
        op.name,
        tuple(r.type for r in op.results),
        operands,
        tuple(sorted(op.properties.items())),
        tuple(sorted(op.attributes.items())),
    )
    if op.regions:
        key = (*key, region_fingerprint(op))
    return key


@dataclass
class _Scope:
    table: dict[Any, Operation]
    parent: _Scope | None

    def lookup(self, key: Any) -> Operation | None:
        scope: _Scope | None = self
        while scope is not None:
            if (found := scope.table.get(key)) is not None:
                return found
            scope = scope.parent
        return None


class CSE:
    """One run of value numbering over a module."""

    def __init__(self, module: ModuleOp, ctx: Context | None = None):
        self.purity = PurityOracle(module)
        self.ctx = ctx
        self.erased = 0

    def run(self, module: ModuleOp) -> None:
        for region in module.regions:
            self.simplify_region(region, None)

    def simplify_region(self, region: Region, parent: _Scope | None) -> None:
        if not region.blocks:
            return
        if len(region.blocks) == 1:
            self.simplify_block(region.block, _Scope({}, parent))
            return
        tree = DominatorTree(region)
        # Pre-order over the dominator tree: each block's scope extends its idom's.
        stack: list[tuple[Block, _Scope]] = [(tree.rpo[0], _Scope({}, parent))]
        while stack:
            block, scope = stack.pop()
            self.simplify_block(block, scope)
            for child in reversed(tree.children(block)):
                stack.append((child, _Scope({}, scope)))
        for block in region.blocks:
            if not tree.is_reachable(block):
                self.simplify_block(block, _Scope({}, parent))

    def simplify_block(self, block: Block, scope: _Scope) -> None:
        op = block.first_op
        while op is not None:
            nxt = op.next_op
            for region in op.regions:
                inner_parent = None if op.has_trait(IsolatedFromAbove) else scope
                self.simplify_region(region, inner_parent)
            if op.results and not op.has_trait(IsTerminator) and self.purity.is_mergeable(op):
                key = op_key(op)
                existing = scope.lookup(key)
                if existing is None:
                    scope.table[key] = op
                else:
                    self.replace(op, existing)
            op = nxt

    def replace(self, op: Operation, existing: Operation) -> None:
        rewriter_for(op, self.ctx).replace(op, [], list(existing.results))
        self.erased += 1


@dataclass(frozen=True)
class CSEPass(ReportingPass):
    """Merge ops that compute the same value; see the module docstring."""

    name = "cse"
    finding_kind: ClassVar[str] = "duplicate"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        CSE(op, ctx).run(op)
