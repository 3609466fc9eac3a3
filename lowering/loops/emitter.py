"""The Emitter: inserts loop-level ops (scf, arith, memref) at a builder's insertion point,
with scalar constants hoisted to the top of the function and loops built from callbacks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeGuard

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IndexType, IntegerAttr, i1
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

INDEX = IndexType()

Bound = int | SSAValue
"""A loop bound or a size: a static integer, or an SSA `index` value."""


def is_float(t: Attribute) -> TypeGuard[AnyFloat]:
    return isinstance(t, AnyFloat)


class Emitter:
    """Helpers that insert loop-level ops at a builder's insertion point. Scalar constants
    are created once, at the top of the function's entry block, so they dominate every use."""

    def __init__(self, builder: Builder, entry: Block | None = None):
        self.b = builder
        self.entry = entry if entry is not None else builder.insertion_point.block
        self._constants: dict[tuple[Attribute, object], SSAValue] = {}
        self.last_loop: scf.ForOp | None = None

    def op(self, op: Operation) -> SSAValue:
        """Insert `op`; its first result (None for an op without results)."""
        self.b.insert(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    # region constants

    def constant(self, attr: IntegerAttr | FloatAttr) -> SSAValue:
        # Floats are keyed by their bits, so 0.0 and -0.0 (equal as Python floats) differ.
        value = attr.value.data
        key = (attr.type, np.float64(value).tobytes() if isinstance(attr, FloatAttr) else value)
        if (found := self._constants.get(key)) is None:
            found = self._constants[key] = self.at_entry(arith.ConstantOp(attr))
        return found

    def at_entry(self, op: Operation) -> SSAValue:
        """Insert `op` (which has no operands) at the top of the function, so that its
        result dominates every use wherever it is first needed."""
        assert not op.operands
        first = self.entry.first_op
        if first is None:
            self.entry.add_op(op)
        else:
            self.entry.insert_op_before(op, first)
        return op.results[0]

    def index(self, n: int) -> SSAValue:
        return self.constant(IntegerAttr(n, INDEX))

    def bound(self, n: Bound) -> SSAValue:
        return self.index(n) if isinstance(n, int) else n

    def scalar(self, value: float | int | bool, elt: Attribute) -> SSAValue:
        """A constant of element type `elt` (bool for i1)."""
        if is_float(elt):
            return self.constant(FloatAttr(float(value), elt))  # type: ignore[arg-type]
        if elt == i1:
            return self.constant(IntegerAttr(int(bool(value)), i1))
        return self.constant(IntegerAttr(int(value), elt))  # type: ignore[arg-type]

    # endregion constants

    # region control flow

    def in_block(self, block: Block, body: Callable[[], None]) -> None:
        """Run `body` with the insertion point at the end of `block`, then restore it."""
        saved = self.b.insertion_point
        self.b.insertion_point = InsertPoint.at_end(block)
        try:
            body()
        finally:
            self.b.insertion_point = saved

    def for_loop(
        self,
        lo: Bound,
        hi: Bound,
        step: Bound,
        carried: Sequence[SSAValue],
        body: Callable[[SSAValue, list[SSAValue]], list[SSAValue]],
    ) -> list[SSAValue]:
        """scf.for lo..hi step `step`; `body(iv, carried)` emits the body and returns the
        values carried to the next iteration; the loop's results are returned."""
        lo_v, hi_v, step_v = self.bound(lo), self.bound(hi), self.bound(step)
        block = Block(arg_types=[INDEX, *[c.type for c in carried]])

        def emit_body() -> None:
            self.b.insert(scf.YieldOp(*body(block.args[0], list(block.args[1:]))))

        self.in_block(block, emit_body)
        loop = scf.ForOp(lo_v, hi_v, step_v, list(carried), Region(block))
        self.b.insert(loop)
        self.last_loop = loop  # inserted after the loops of its body: a nest's outermost
        return list(loop.results)

    def loop_nest(
        self, shape: Sequence[Bound], body: Callable[[list[SSAValue]], object]
    ) -> scf.ForOp | None:
        """Nested loops over every index of `shape` (row-major, last dim innermost); the
        outermost loop (None for a 0-d shape: the body alone)."""

        def rec(d: int, ivs: list[SSAValue]) -> None:
            if d == len(shape):
                body(ivs)
                return

            def inner(iv: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                rec(d + 1, [*ivs, iv])
                return []

            self.for_loop(0, shape[d], 1, [], inner)

        rec(0, [])
        return self.last_loop if shape else None

    def fold_nest(
        self,
        shape: Sequence[Bound],
        init: SSAValue,
        step: Callable[[SSAValue, list[SSAValue]], SSAValue],
    ) -> SSAValue:
        """Nested loops over every index of `shape` carrying one value from `init`:
        `step(acc, idx)` emits the body and returns the next value; the last is returned."""

        def rec(d: int, ivs: list[SSAValue], acc: SSAValue) -> SSAValue:
            if d == len(shape):
                return step(acc, ivs)

            def inner(iv: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
                return [rec(d + 1, [*ivs, iv], carried[0])]

            return self.for_loop(0, shape[d], 1, [acc], inner)[0]

        return rec(0, [], init)

    def if_then(self, cond: SSAValue, then: Callable[[], None]) -> None:
        """scf.if `cond` with the ops `then()` emits, and no else branch."""
        block = Block()

        def emit_then() -> None:
            then()
            self.b.insert(scf.YieldOp())

        self.in_block(block, emit_then)
        self.b.insert(scf.IfOp(cond, [], Region(block), Region(Block([scf.YieldOp()]))))

    # endregion control flow

    # region index arithmetic

    def add_index(self, a: SSAValue, b: Bound) -> SSAValue:
        if isinstance(b, int):
            if b == 0:
                return a
            b = self.index(b)
        return self.op(arith.AddiOp(a, b))

    def mul_index(self, a: SSAValue, n: Bound) -> SSAValue:
        return a if isinstance(n, int) and n == 1 else self.op(arith.MuliOp(a, self.bound(n)))

    def broadcast_index(self, idx: Sequence[SSAValue], shape: Sequence[int]) -> list[SSAValue]:
        """The index into a numpy-broadcast operand of `shape` at result index `idx`."""
        offset = len(idx) - len(shape)
        return [self.index(0) if n == 1 else idx[offset + d] for d, n in enumerate(shape)]

    # endregion index arithmetic
