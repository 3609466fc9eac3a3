"""A greedy pattern driver in the manner of MLIR's GreedyPatternRewriteDriver: a worklist of
ops; each op is erased if trivially dead, else folded, else offered to its patterns; what a
rewrite touches goes back on the worklist. Unlike xDSL 0.74's walker it has an iteration cap
and a rewrite cap, so cycling patterns stop and are reported instead of running forever, and
new ops inherit the location of the op they replace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import UnknownLoc
from xdsl.folder import Folder
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriterListener, RewritePattern
from xdsl.traits import ConstantLike
from xdsl.utils.worklist import Worklist

from red.transforms.analysis import findings
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
                self._try_erase_dead(op)
                or self._try_fold(op, listener)
                or self._try_patterns(op, listener)
            ):
                count += 1
                if count > cap:
                    while self._worklist:
                        self._worklist.pop()
                    return count, None
        self._current = None
        return count, self._fired_names

    def _try_erase_dead(self, op: Operation) -> bool:
        if self._purity is None or not is_dead(op, self._purity):
            return False
        findings.record("dead", [op])
        self._push_operand_owners(op)
        for nested in op.walk():
            self._worklist.remove(nested)
        op.detach()
        op.erase()
        self._note("erase-dead")
        return True

    def _try_fold(self, op: Operation, listener: PatternRewriterListener) -> bool:
        if not self.fold or op.has_trait(ConstantLike):
            return False  # a constant "folds" to itself: skipping it avoids a cycle
        folded = self._folder.try_fold(op)
        if folded is None:
            return False
        values, new_ops = folded
        if all(v is r for v, r in zip(values, op.results)):
            return False  # in-place fold: nothing to replace
        rewriter = PatternRewriter(op)
        rewriter.extend_from_listener(listener)
        rewriter.replace(op, new_ops, values)
        self._note(f"fold {op.name}")
        return True

    def _try_patterns(self, op: Operation, listener: PatternRewriterListener) -> bool:
        for pattern in self.patterns(op):
            rewriter = PatternRewriter(op)
            rewriter.extend_from_listener(listener)
            pattern.match_and_rewrite(op, rewriter)
            if rewriter.has_done_action:
                self._note(type(pattern).__name__)
                return True
        return False

    def _note(self, name: str) -> None:
        """Remember (a few, distinct) names of what fired, for the non-convergence error."""
        if name not in self._fired_names and len(self._fired_names) < 20:
            self._fired_names.append(name)
