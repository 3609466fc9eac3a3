"""A greedy pattern driver in the manner of MLIR's GreedyPatternRewriteDriver: a worklist of
ops; each op is erased if trivially dead, else folded (red ops through their own `fold`, then
constant evaluation under a size budget; other ops through xDSL's folders), else its
commutative operands are put in canonical order, else it is offered to its patterns; what a
rewrite touches goes back on the worklist. Unlike xDSL 0.74's walker it has an iteration cap
and a rewrite cap, so cycling patterns stop and are reported instead of running forever, and
new ops inherit the location of the op they replace. Every change goes through a
PatternRewriter that the pass context's observer listens to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import TensorType, UnknownLoc
from xdsl.folder import Folder
from xdsl.ir import BlockArgument, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriterListener, RewritePattern
from xdsl.traits import Commutative, ConstantLike
from xdsl.utils.worklist import Worklist

from red.dialects import red
from red.dialects.numpy_interop import numpy_to_dense, splat_to_dense
from red.dialects.red_interpreter import (
    can_evaluate,
    evaluate_on_scalars,
    evaluate_op,
    splat_scalar,
)
from red.passes.rewriting import rewriter_for
from red.transforms.analysis.purity import PurityOracle, is_dead

PatternTable = Callable[[Operation], Sequence[RewritePattern]]


@dataclass
class DriverResult:
    changed: bool
    converged: bool
    iterations: int
    rewrites: int
    last_patterns: list[str] = field(default_factory=list[str])


@dataclass
class GreedyDriver:
    root: Operation
    patterns: PatternTable
    ctx: Context
    max_iterations: int = 10
    max_rewrites_per_iteration: int | None = None
    fold: bool = True
    max_fold_bytes: int = 1 << 20
    """Constant evaluation may add at most this many bytes of constants, net of the
    constants it kills (a splat costs one element)."""

    def __post_init__(self) -> None:
        self._worklist: Worklist[Operation] = Worklist()
        self._folder = Folder(self.ctx)
        self._current: Operation | None = None
        self._purity = PurityOracle(self.root) if hasattr(self.root, "body") else None  # type: ignore[arg-type]
        self._positions: dict[Operation, int] | None = None

    # region listener

    def _on_insert(self, op: Operation) -> None:
        if isinstance(op.location, UnknownLoc) and self._current is not None:
            op.location = self._current.location
        for nested in op.walk():
            self._worklist.push(nested)

    def _on_remove(self, op: Operation) -> None:
        for nested in op.walk():
            self._worklist.remove(nested)
        self._push_operand_owners(op)

    def _on_modify(self, op: Operation) -> None:
        self._worklist.push(op)

    def _on_replace(self, op: Operation, new_results: Sequence[SSAValue | None]) -> None:
        for result in op.results:
            for use in result.uses:
                self._worklist.push(use.operation)

    def _push_operand_owners(self, op: Operation) -> None:
        for v in op.operands:
            if isinstance(owner := v.owner, Operation) and owner.parent is not None:
                self._worklist.push(owner)

    def listener(self) -> PatternRewriterListener:
        return PatternRewriterListener(
            operation_insertion_handler=[self._on_insert],
            operation_removal_handler=[self._on_remove],
            operation_modification_handler=[self._on_modify],
            operation_replacement_handler=[self._on_replace],
        )

    def rewriter(self, op: Operation, listener: PatternRewriterListener) -> PatternRewriter:
        rewriter = rewriter_for(op, self.ctx)
        rewriter.extend_from_listener(listener)
        return rewriter

    # endregion listener

    def position(self, op: Operation) -> int | None:
        """The op's index in a pre-order walk taken at the start of this iteration (None for
        ops created since): a deterministic order without per-op linear scans."""
        if self._positions is None:
            self._positions = {o: i for i, o in enumerate(self.root.walk())}
        return self._positions.get(op)

    def run(self) -> DriverResult:
        changed = False
        rewrites = 0
        for iteration in range(1, self.max_iterations + 1):
            self._positions = None
            ops = [o for o in self.root.walk() if o is not self.root]
            for o in reversed(ops):
                self._worklist.push(o)
            n, fired = self._process(len(ops))
            rewrites += n
            if n == 0:
                return DriverResult(changed, True, iteration, rewrites)
            changed = True
            if fired is None:  # rewrite cap hit: a cycle inside one iteration
                return DriverResult(changed, False, iteration, rewrites, self._fired_names)
        return DriverResult(changed, False, self.max_iterations, rewrites, self._fired_names)

    def _process(self, op_count: int) -> tuple[int, list[str] | None]:
        cap = self.max_rewrites_per_iteration or (50 * op_count + 1000)
        listener = self.listener()
        count = 0
        self._fired_names: list[str] = []
        while self._worklist:
            op = self._worklist.pop()
            if op.parent is None:
                continue
            self._current = op
            if (
                self._try_erase_dead(op, listener)
                or self._try_fold(op, listener)
                or self._try_order_operands(op, listener)
                or self._try_patterns(op, listener)
            ):
                count += 1
                if count > cap:
                    while self._worklist:
                        self._worklist.pop()
                    return count, None
        self._current = None
        return count, self._fired_names

    def _try_erase_dead(self, op: Operation, listener: PatternRewriterListener) -> bool:
        if self._purity is None or not is_dead(op, self._purity):
            return False
        self.rewriter(op, listener).erase(op)
        self._note("erase-dead")
        return True

    def _try_fold(self, op: Operation, listener: PatternRewriterListener) -> bool:
        if not self.fold or op.has_trait(ConstantLike):
            return False  # a constant "folds" to itself: skipping it avoids a cycle
        if isinstance(op, red.RedOp):
            return self._fold_red(op, listener)
        folded = self._folder.try_fold(op)
        if folded is None:
            return False
        values, new_ops = folded
        if all(v is r for v, r in zip(values, op.results)):
            return False  # in-place fold: nothing to replace
        self.rewriter(op, listener).replace(op, new_ops, values)
        self._note(f"fold {op.name}")
        return True

    def _fold_red(self, op: red.RedOp, listener: PatternRewriterListener) -> bool:
        """The op's own fold, else constant evaluation within the byte budget."""
        if len(op.results) != 1 or op.regions:
            return False
        constants = [red.constant_value(v) if red.is_constant(v) else None for v in op.operands]
        folded = op.fold(constants)
        if folded is None and op.operands and all(c is not None for c in constants):
            folded = self._evaluate(op, constants)  # type: ignore[arg-type]
        if folded is None:
            return False
        rewriter = self.rewriter(op, listener)
        if isinstance(folded, SSAValue):
            rewriter.replace(op, [], [folded])
        else:
            typ = op.results[0].type
            assert isinstance(typ, TensorType)
            attr = (
                splat_to_dense(folded, typ)
                if folded.ndim == 0
                else numpy_to_dense(folded, typ.get_element_type())
            )
            rewriter.replace(op, red.ConstantOp(attr))
        self._note(f"fold {op.name}")
        return True

    def _evaluate(self, op: red.RedOp, constants: list[np.ndarray]) -> np.ndarray | None:
        """The op on constant operands, if its kernel can run it and the new constant fits
        the budget (net of operand constants only this op uses)."""
        typ = op.results[0].type
        if not isinstance(typ, TensorType) or red.DYNAMIC in typ.get_shape():
            return None
        if not can_evaluate(op):
            return None
        splats = [splat_scalar(c) for c in constants]
        if all(s is not None for s in splats) and op.SPLAT_PRESERVING:
            try:
                return evaluate_on_scalars(op, splats)  # type: ignore[arg-type]
            except Exception:
                return None
        if (
            isinstance(op, red.TransposeOp)
            and op.feeds_matmul_as_strides()
            and red.byte_size(typ) > self.max_fold_bytes
        ):
            # The lowering reads it through swapped strides (a constant weight as W^T, which
            # the kernel library packs once): a folded copy would only cost time and memory.
            return None
        freed = sum(
            red.byte_size(v.type)
            for v in set(op.operands)
            if isinstance(v.owner, red.ConstantOp | arith.ConstantOp)
            and all(u.operation is op for u in v.uses)
        )
        if red.byte_size(typ) - freed > self.max_fold_bytes:
            return None
        try:
            return np.asarray(evaluate_op(op, constants)[0])
        except Exception:  # e.g. an out-of-range gather: leave the error to run time
            return None

    def _try_order_operands(self, op: Operation, listener: PatternRewriterListener) -> bool:
        """commutative(c, x) -> commutative(x, c); two non-constants in program order (an
        in-place change: the op computes the same value)."""
        if not (isinstance(op, red.BinaryElementwiseOp) and op.has_trait(Commutative)):
            return False
        lhs, rhs = op.lhs, op.rhs
        if red.is_constant(lhs) != red.is_constant(rhs):
            swap = red.is_constant(lhs)
        else:
            kl, kr = self._order_key(lhs), self._order_key(rhs)
            swap = kl is not None and kr is not None and kr < kl
        if not swap:
            return False
        rewriter = self.rewriter(op, listener)
        op.operands = (rhs, lhs)
        rewriter.notify_op_modified(op)
        self._note("order-commutative-operands")
        return True

    def _order_key(self, v: SSAValue) -> tuple[int, int] | None:
        owner = v.owner
        if isinstance(owner, Operation):
            pos = self.position(owner)
            return None if pos is None else (1, pos)
        assert isinstance(v, BlockArgument)
        return (0, v.index)

    def _try_patterns(self, op: Operation, listener: PatternRewriterListener) -> bool:
        for pattern in self.patterns(op):
            rewriter = self.rewriter(op, listener)
            pattern.match_and_rewrite(op, rewriter)
            if rewriter.has_done_action:
                self._note(type(pattern).__name__)
                return True
        return False

    def _note(self, name: str) -> None:
        """Remember (a few, distinct) names of what fired, for the non-convergence error."""
        if name not in self._fired_names and len(self._fired_names) < 20:
            self._fired_names.append(name)
