"""optimize-chains: reassociate chains of 2-D matmuls, sharing repeated sub-chains.

A chain is a tree of red.matmul ops whose inner results have one use, flattened to its
sequence of factors; a transposed product is flattened as the reversed sequence of
transposed factors ((A·B)ᵀ = Bᵀ·Aᵀ). Sub-sequences that occur at least twice across the
chains of a block are candidates for sharing. For each set of shared products, dynamic
programming (the matrix-chain order problem) finds the cheapest parenthesization of every
chain, where an interval equal to a shared product costs nothing and each shared product is
paid for once. The cheapest plan replaces the chains when it saves FLOPs. `A·B·C·A·B`
becomes `t = A·B; (t·C)·t`: three matmuls instead of four. (`(A·B)²·C` would be wrong:
matrices do not commute.)

Reassociation changes rounding, so the pass does nothing with `reassoc=false`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import arith, func, scf, tensor
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, UnitAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.red.dims import Poly, evaluate
from red.dialects.symbolic_shapes import SymbolicShapes
from red.passes.rewriting import report

MAX_EXACT_CANDIDATES = 8
"""Up to this many candidate shared products, every subset is tried; beyond, greedily."""

DISPATCH_ATTR = "red.size_dispatch"
"""Marks an scf.if that selects a chain's order by size: the orders inside stay as built."""

SAMPLE_SIZES = tuple(2**i for i in range(17))
"""Sizes a symbolic dim is tried at to find where the best order changes (1 .. 65536)."""


class _Sizes:
    """The shapes the planner sees: the static ones, or symbolic ones evaluated at chosen
    sizes of the symbols (set while a plan is computed for those sizes)."""

    def __init__(self) -> None:
        self.shapes: SymbolicShapes | None = None
        self.at: dict[str, int] = {}

    def shape(self, v: SSAValue) -> tuple[int, ...]:
        if self.shapes is None:
            return red.shape_of(v)
        return tuple(int(evaluate(d, self.at)) for d in self.shapes.of(v))  # type: ignore[arg-type]


_SIZES = _Sizes()


@dataclass(frozen=True)
class Factor:
    """A chain factor: a value, possibly transposed (its last two dims swapped)."""

    value: SSAValue
    transposed: bool

    @property
    def rows(self) -> int:
        shape = _SIZES.shape(self.value)
        return shape[-1] if self.transposed else shape[-2]

    @property
    def cols(self) -> int:
        shape = _SIZES.shape(self.value)
        return shape[-2] if self.transposed else shape[-1]

    def flipped(self) -> Factor:
        return Factor(self.value, not self.transposed)


Seq = tuple[Factor, ...]


@dataclass
class Chain:
    root: red.MatmulOp
    factors: Seq
    inner: list[Operation] = field(default_factory=list[Operation])
    """The matmul and transpose ops inside the chain (they die when it is rewritten)."""


def _is_matrix(v: SSAValue) -> bool:
    return len(red.shape_of(v)) == 2


def _single_use(v: SSAValue) -> bool:
    return v.has_one_use()


def _is_swap(op: Operation) -> bool:
    return isinstance(op, red.TransposeOp) and op.perm == (1, 0)


def flatten(root: red.MatmulOp) -> Chain:
    """The factors of the chain rooted at `root`, seeing through transposes."""
    chain = Chain(root, ())
    block = root.parent

    def leaf(v: SSAValue, transposed: bool) -> Seq:
        owner = v.owner
        if _is_swap(owner) and owner.parent is block:  # type: ignore[arg-type]
            return (Factor(owner.input, not transposed),)  # type: ignore[union-attr]
        return (Factor(v, transposed),)

    def expand(v: SSAValue, transposed: bool) -> Seq:
        owner = v.owner
        inner = isinstance(owner, Operation) and owner.parent is block and _single_use(v)
        if (
            inner
            and isinstance(owner, red.MatmulOp)
            and _is_matrix(owner.lhs)
            and _is_matrix(owner.rhs)
        ):
            chain.inner.append(owner)
            factors = expand(owner.lhs, False) + expand(owner.rhs, False)
            return tuple(f.flipped() for f in reversed(factors)) if transposed else factors
        if inner and _is_swap(owner) and isinstance(owner.input.owner, red.MatmulOp):  # type: ignore[union-attr]
            chain.inner.append(owner)  # type: ignore[arg-type]
            return expand(owner.input, not transposed)  # type: ignore[union-attr]
        return leaf(v, transposed)

    chain.factors = expand(root.lhs, False) + expand(root.rhs, False)
    return chain


def collect_chains(block: Block) -> list[Chain]:
    """Chains of 2-D matmuls in a block; roots are matmuls not consumed inside a chain."""
    chains: list[Chain] = []
    claimed: set[Operation] = set()
    for op in reversed(list(block.ops)):
        if not isinstance(op, red.MatmulOp) or op in claimed:
            continue
        if not (_is_matrix(op.lhs) and _is_matrix(op.rhs)):
            continue
        chain = flatten(op)
        claimed.update(chain.inner)
        chains.append(chain)
    chains.reverse()
    return chains


def _key(seq: Seq) -> tuple[tuple[int, bool], ...]:
    return tuple((id(f.value), f.transposed) for f in seq)


def matmul_flops(rows: int, inner: int, cols: int) -> int:
    return 2 * rows * inner * cols


class Planner:
    """Matrix-chain dynamic programming where some products are shared (free)."""

    def __init__(self, free: set[tuple[tuple[int, bool], ...]]):
        self.free = free

    def solve(self, seq: Seq, allow_whole: bool = False) -> tuple[int, dict[tuple[int, int], int]]:
        """(cost, split points) for computing the product of `seq`; intervals equal to a
        free product cost nothing (the whole sequence only if allow_whole)."""
        n = len(seq)
        cost: dict[tuple[int, int], int] = {}
        split: dict[tuple[int, int], int] = {}
        for i in range(n):
            cost[(i, i)] = 0
        for length in range(2, n + 1):
            for i in range(0, n - length + 1):
                j = i + length - 1
                if (allow_whole or length < n) and _key(seq[i : j + 1]) in self.free:
                    cost[(i, j)] = 0
                    split[(i, j)] = -1
                    continue
                best, best_k = None, -1
                for k in range(i, j):
                    c = (
                        cost[(i, k)]
                        + cost[(k + 1, j)]
                        + matmul_flops(seq[i].rows, seq[k].cols, seq[j].cols)
                    )
                    if best is None or c <= best:  # ties: the later split (left-associated)
                        best, best_k = c, k
                assert best is not None
                cost[(i, j)] = best
                split[(i, j)] = best_k
        return cost[(0, n - 1)], split


def candidate_products(chains: Sequence[Chain]) -> dict[tuple[tuple[int, bool], ...], Seq]:
    """Sub-sequences (length >= 2) occurring at least twice, without overlap, in the chains."""
    where: dict[tuple[tuple[int, bool], ...], list[tuple[int, int]]] = {}
    seqs: dict[tuple[tuple[int, bool], ...], Seq] = {}
    for ci, chain in enumerate(chains):
        n = len(chain.factors)
        for i in range(n):
            for j in range(i + 2, n + 1):
                sub = chain.factors[i:j]
                key = _key(sub)
                seqs[key] = sub
                where.setdefault(key, []).append((ci, i))
    out = {}
    for key, places in where.items():
        length = len(key)
        count, last = 0, {}
        for ci, i in places:
            if ci not in last or i >= last[ci] + length:
                count += 1
                last[ci] = i
        if count >= 2:
            out[key] = seqs[key]
    return out


@dataclass
class Plan:
    cost: int
    shared: list[Seq]


def plan_cost(chains: Sequence[Chain], shared: Sequence[Seq]) -> int:
    free = {_key(s) for s in shared}
    planner = Planner(free)
    total = 0
    for s in shared:  # each shared product is paid once, using shorter shared products
        total += Planner({k for k in free if len(k) < len(s)}).solve(s)[0]
    for chain in chains:  # a chain equal to a shared product is that product
        total += planner.solve(chain.factors, allow_whole=True)[0]
    return total


def best_plan(chains: Sequence[Chain]) -> Plan:
    candidates = list(candidate_products(chains).values())
    candidates.sort(key=lambda s: (-len(s), [(id(f.value), f.transposed) for f in s]))
    best = Plan(plan_cost(chains, []), [])
    if len(candidates) <= MAX_EXACT_CANDIDATES:
        for r in range(1, len(candidates) + 1):
            for subset in itertools.combinations(candidates, r):
                c = plan_cost(chains, subset)
                if c < best.cost:
                    best = Plan(c, list(subset))
        return best
    chosen: list[Seq] = []
    for cand in candidates:  # greedy: keep a candidate if it lowers the cost
        c = plan_cost(chains, [*chosen, cand])
        if c < best.cost:
            best = Plan(c, [*chosen, cand])
            chosen.append(cand)
    return best


def current_cost(chains: Sequence[Chain]) -> int:
    total = 0
    for chain in chains:
        for op in [*chain.inner, chain.root]:
            if isinstance(op, red.MatmulOp):
                lhs, rhs = _SIZES.shape(op.lhs), _SIZES.shape(op.rhs)
                total += matmul_flops(lhs[0], lhs[1], rhs[1])
    return total


class Emitter:
    """Builds the matmul trees of a plan before a given op."""

    def __init__(self, shared: dict[tuple[tuple[int, bool], ...], SSAValue]):
        self.shared = shared
        self.replaced: dict[SSAValue, SSAValue] = {}
        """Roots of rewritten chains -> their new values: a later chain may use an earlier
        chain's root as a factor (e.g. a matmul with several uses), which is erased by then."""

    def build(self, seq: Seq, split: dict[tuple[int, int], int], before: Operation,
              allow_whole: bool = False) -> SSAValue:  # fmt: skip
        def rec(i: int, j: int) -> SSAValue:
            if i == j:
                return self.factor(seq[i], before)
            key = _key(seq[i : j + 1])
            if (allow_whole or (i, j) != (0, len(seq) - 1)) and key in self.shared:
                return self.shared[key]
            k = split[(i, j)]
            if k == -1:  # free in the plan but not yet emitted: cannot happen by ordering
                raise AssertionError("shared product used before it was emitted")
            lhs, rhs = rec(i, k), rec(k + 1, j)
            return self.insert(red.MatmulOp(lhs, rhs), before)

        return rec(0, len(seq) - 1)

    def factor(self, f: Factor, before: Operation) -> SSAValue:
        value = self.replaced.get(f.value, f.value)
        if not f.transposed:
            return value
        return self.insert(red.TransposeOp(value, [1, 0]), before)

    @staticmethod
    def insert(op: Operation, before: Operation) -> SSAValue:
        op.location = before.location
        assert before.parent is not None
        before.parent.insert_op_before(op, before)
        return op.results[0]


def rewrite_block(block: Block, ctx: Context | None = None) -> int:
    """Apply the best plan to the chains of a block; returns the FLOPs saved per call (at
    static sizes). Chains with a dynamic dim go to `dispatch_on_size`."""
    chains = [c for c in collect_chains(block) if len(c.factors) >= 2]
    if not chains:
        return 0
    fn = block.parent_op()
    while fn is not None and not isinstance(fn, func.FuncOp):
        fn = fn.parent_op()
    dynamic = [c for c in chains if any(red.DYNAMIC in red.shape_of(f.value) for f in c.factors)]
    if dynamic:
        if isinstance(fn, func.FuncOp):
            shapes = SymbolicShapes(fn)
            for chain in dynamic:
                dispatch_on_size(chain, shapes, ctx)
        chains = [c for c in chains if c not in dynamic]
        if not chains:
            return 0
    before_cost = current_cost(chains)
    plan = best_plan(chains)
    if plan.cost >= before_cost:
        return 0
    position = {op: i for i, op in enumerate(block.ops)}
    free = {_key(s) for s in plan.shared}
    planner = Planner(free)
    solutions = [planner.solve(c.factors, allow_whole=True) for c in chains]
    # Which chains use each shared product (directly or through another shared product),
    # so it can be emitted before the first of them: their factors dominate that point.
    users: dict[tuple[tuple[int, bool], ...], set[int]] = {k: set() for k in free}
    for ci, (chain, (_, split)) in enumerate(zip(chains, solutions)):
        for key in _free_intervals(chain.factors, split):
            users[key].add(ci)
    shared_sorted = sorted(plan.shared, key=len, reverse=True)
    for s in shared_sorted:  # a longer product using a shorter one passes on its users
        _, split = Planner({k for k in free if len(k) < len(s)}).solve(s)
        for key in _free_intervals(s, split):
            users[key] |= users[_key(s)]
    emitted: dict[tuple[tuple[int, bool], ...], SSAValue] = {}
    emitter = Emitter(emitted)
    for s in sorted(plan.shared, key=len):
        first = min(
            (chains[ci].root for ci in users[_key(s)]), key=position.__getitem__, default=None
        )
        if first is None:
            continue
        _, split = Planner({k for k in free if len(k) < len(s)}).solve(s)
        emitted[_key(s)] = emitter.build(s, split, first, allow_whole=False)
    saved = before_cost - plan.cost
    report(
        ctx,
        "shared-subchain" if plan.shared else "reassociated",
        [c.root for c in chains],
        flops_saved=saved,
        bytes_saved=0,
        note=f"{sum(len(c.factors) for c in chains)} factors in {len(chains)} chains, "
        f"{len(plan.shared)} shared products",
    )
    for chain, (_, split) in zip(chains, solutions):
        old_ops = [*chain.inner, chain.root]
        result = emitter.build(chain.factors, split, chain.root, allow_whole=True)
        chain.root.result.replace_all_uses_with(result)
        emitter.replaced[chain.root.result] = result
        for op in old_ops:
            op.detach()
        for op in old_ops:
            op.erase(safe_erase=False)
    return saved


def _free_intervals(
    seq: Seq, split: dict[tuple[int, int], int]
) -> list[tuple[tuple[int, bool], ...]]:
    """The shared products a solved tree uses."""
    out = []

    def rec(i: int, j: int) -> None:
        if i == j:
            return
        if split.get((i, j)) == -1:
            out.append(_key(seq[i : j + 1]))
            return
        k = split[(i, j)]
        rec(i, k)
        rec(k + 1, j)

    rec(0, len(seq) - 1)
    return out


@dataclass(frozen=True)
class OptimizeChainsPass(ModulePass):
    """Reassociate matmul chains to the cheapest order, computing repeated sub-chains once;
    `reassoc=false` disables it (reassociation changes rounding)."""

    name = "optimize-chains"

    reassoc: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.reassoc:
            return
        blocks = [
            b for o in op.walk() if not _under_dispatch(o) for r in o.regions for b in r.blocks
        ]
        for block in blocks:
            rewrite_block(block, ctx)


def _under_dispatch(op: Operation) -> bool:
    node: Operation | None = op
    while node is not None:
        if DISPATCH_ATTR in node.attributes:
            return True
        node = node.parent_op()
    return False


# region Dispatch on sizes


def _chain_symbols(chain: Chain, shapes: SymbolicShapes) -> set[str]:
    return {
        name
        for f in chain.factors
        for d in shapes.of(f.value)
        if isinstance(d, Poly)
        for name in d.symbols
    }


Split = tuple[tuple[tuple[int, int], int], ...]
"""Split points of a chain's order, hashable."""


def _plan_at(chain: Chain, symbol: str, size: int) -> tuple[int, Split]:
    """(cost, split points) of the cheapest order of a chain when `symbol` is `size`."""
    _SIZES.at = {symbol: size}
    cost, split = Planner(set()).solve(chain.factors, allow_whole=True)
    return cost, tuple(sorted(split.items()))


def _current_at(chain: Chain, symbol: str, size: int) -> int:
    _SIZES.at = {symbol: size}
    return current_cost([chain])


def _orders(chain: Chain, symbol: str) -> list[tuple[int, tuple[tuple[tuple[int, int], int], ...]]]:
    """[(first size, split points)] of the orders that are cheapest somewhere, in
    increasing size: each from the exact size on which it becomes the cheapest."""
    orders: list[tuple[int, Split]] = []
    previous = None
    for size in SAMPLE_SIZES:
        _, split = _plan_at(chain, symbol, size)
        if split == previous:
            continue
        start = size
        if orders:  # the exact size where the cheapest order changes, by bisection
            lo, hi = orders[-1][0], size
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _plan_at(chain, symbol, mid)[1] == split:
                    hi = mid
                else:
                    lo = mid
            start = hi
        orders.append((start, split))
        previous = split
    return orders


def dispatch_on_size(chain: Chain, shapes: SymbolicShapes, ctx: Context | None) -> bool:
    """A chain whose cheapest order depends on one symbolic dim S: every order that is the
    cheapest for some S is emitted, and `scf.if` on S (read with tensor.dim) selects one at
    run time; a chain with one best order everywhere is simply reordered."""
    symbols = _chain_symbols(chain, shapes)
    if len(symbols) != 1:
        return False  # no symbol (static chains are handled above) or several: left as is
    (symbol,) = symbols
    _SIZES.shapes = shapes
    try:
        orders = _orders(chain, symbol)
        current = {size: _current_at(chain, symbol, size) for size in (1, 1024)}
        costs = {size: _plan_at(chain, symbol, size)[0] for size in (1, 1024)}
    finally:
        _SIZES.shapes, _SIZES.at = None, {}
    if len(orders) == 1 and all(costs[s] >= current[s] for s in costs):
        return False  # the written order is already the cheapest everywhere
    size = _size_of(chain, shapes, symbol)
    if size is None:
        return False
    result = _emit_orders(chain, orders, size)
    report(
        ctx,
        "reassociated",
        [chain.root],
        flops_saved=max(0, current[1024] - costs[1024]),
        bytes_saved=0,
        note=f"{len(orders)} orders of {len(chain.factors)} factors, chosen at run time by "
        f"{symbol} (from {', '.join(str(s) for s, _ in orders)}); saving given at {symbol}=1024",
    )
    chain.root.result.replace_all_uses_with(result)
    old = [*chain.inner, chain.root]
    for op in old:
        op.detach()
    for op in old:
        op.erase(safe_erase=False)
    return True


def _size_of(chain: Chain, shapes: SymbolicShapes, symbol: str) -> SSAValue | None:
    """`tensor.dim` of a factor whose dim is exactly the symbol, inserted before the root."""
    for f in chain.factors:
        for axis, d in enumerate(shapes.of(f.value)):
            if d == Poly.symbol(symbol):
                index = arith.ConstantOp(IntegerAttr(axis, IndexType()))
                dim = tensor.DimOp(f.value, index)
                for op in (index, dim):
                    Emitter.insert(op, chain.root)
                return dim.result
    return None


def _emit_orders(chain: Chain, orders: list[tuple[int, Split]], size: SSAValue) -> SSAValue:
    """scf.if size < start(order 2) {order 1} else { scf.if ... {order 2} else {...} }."""
    first_split = dict(orders[0][1])
    if len(orders) == 1:
        return Emitter({}).build(chain.factors, first_split, chain.root, allow_whole=True)
    result_type = chain.root.result.type
    threshold = arith.ConstantOp(IntegerAttr(orders[1][0], IndexType()))
    Emitter.insert(threshold, chain.root)
    small = arith.CmpiOp(size, threshold.result, "ult")
    Emitter.insert(small, chain.root)
    branches: list[Region] = []
    for part in (orders[:1], orders[1:]):
        yield_op = scf.YieldOp()
        block = Block([yield_op])
        value = (
            Emitter({}).build(chain.factors, dict(part[0][1]), yield_op, allow_whole=True)
            if len(part) == 1
            else _emit_orders_into(chain, part, size, yield_op)
        )
        yield_op.operands = [value]
        branches.append(Region(block))
    select = scf.IfOp(small.result, [result_type], branches[0], branches[1])
    select.attributes[DISPATCH_ATTR] = UnitAttr()
    Emitter.insert(select, chain.root)
    return select.results[0]


def _emit_orders_into(
    chain: Chain,
    orders: list[tuple[int, Split]],
    size: SSAValue,
    before: Operation,
) -> SSAValue:
    """The dispatch of `orders` built before `before` (a nested else branch)."""
    marker = chain.root
    chain.root = before  # type: ignore[assignment]
    try:
        return _emit_orders(chain, orders, size)
    finally:
        chain.root = marker


# endregion Dispatch on sizes
