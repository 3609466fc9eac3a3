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

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func, scf, tensor
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, UnitAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.dialects import red
from red.dialects.red.dims import Dim, Poly, evaluate, format_dim
from red.dialects.symbolic_shapes import SIZE_DISPATCH_ATTR, SymbolicShapes
from red.passes.rewriting import report

MAX_EXACT_CANDIDATES = 8
"""Up to this many candidate shared products, every subset is tried; beyond, greedily."""

DISPATCH_ATTR = SIZE_DISPATCH_ATTR
"""Marks an scf.if that selects a chain's order by size: the orders inside stay as built."""

MAX_DISPATCH_FACTORS = 8
"""Chains up to this many factors with a symbolic dim get every parenthesization costed as
a polynomial (Catalan(7) = 429 orders at 8 factors); longer ones are left as written."""

REPORT_SIZE = 1024
"""The size of the symbol at which a dispatched chain's FLOPs saved are reported (the
finding's note gives every branch's cost polynomial)."""


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
    return cost, tree_of(split, len(chain.factors))


def tree_of(split: dict[tuple[int, int], int], n: int) -> Split:
    """The split points of the tree a solution builds over n factors (the planner's table
    also holds intervals the tree does not use)."""
    out: list[tuple[tuple[int, int], int]] = []
    pending = [(0, n - 1)]
    while pending:
        i, j = pending.pop()
        if i < j:
            k = split[(i, j)]
            out.append(((i, j), k))
            pending += [(i, k), (k + 1, j)]
    return tuple(sorted(out))


def order_costs(seq: Seq, shapes: SymbolicShapes) -> dict[Split, Dim]:
    """Every parenthesization of `seq` (as split points) with its FLOPs as a polynomial in
    the symbols of the factors' dims."""
    dims = {f: tuple(shapes.of(f.value)) for f in seq}

    def rows(f: Factor) -> Dim:
        return dims[f][-1] if f.transposed else dims[f][-2]

    def cols(f: Factor) -> Dim:
        return dims[f][-2] if f.transposed else dims[f][-1]

    trees: dict[tuple[int, int], list[tuple[Split, Dim]]] = {}
    for i in range(len(seq)):
        trees[(i, i)] = [((), 0)]
    for length in range(2, len(seq) + 1):
        for i in range(len(seq) - length + 1):
            j = i + length - 1
            out: list[tuple[Split, Dim]] = []
            for k in range(i, j):
                step = 2 * rows(seq[i]) * cols(seq[k]) * cols(seq[j])
                for left, lc in trees[(i, k)]:
                    for right, rc in trees[(k + 1, j)]:
                        out.append(((*left, *right, ((i, j), k)), lc + rc + step))  # type: ignore[operator]
            trees[(i, j)] = out
    return {tuple(sorted(split)): cost for split, cost in trees[(0, len(seq) - 1)]}


def crossovers(costs: Sequence[Dim], symbol: str) -> list[int]:
    """1 and the sizes of `symbol` next to which two of the cost polynomials (in that symbol
    alone) cross: the integers around the real roots >= 1/2 of their differences."""
    points = {1}
    polys = [np.polynomial.Polynomial(_coefficients(c, symbol)) for c in costs]
    for a, b in itertools.combinations(polys, 2):
        diff = a - b
        if not np.any(diff.coef):
            continue
        for root in diff.roots():
            if abs(root.imag) < 1e-9 and root.real >= 0.5:
                base = int(np.floor(root.real))
                points.update(p for p in (base, base + 1, base + 2) if p >= 1)
    return sorted(points)


def _coefficients(d: Dim, symbol: str) -> list[float]:
    """Coefficients (constant first) of a polynomial in `symbol` alone."""
    poly = Poly.of(d)
    coef = [0.0] * (1 + max((p for m in poly.terms for _, p in m), default=0))
    for mono, c in poly.terms.items():
        assert all(s == symbol for s, _ in mono), f"{poly} is not a polynomial in {symbol}"
        coef[sum(p for _, p in mono)] += float(c)
    return coef


def _orders(chain: Chain, symbol: str, costs: dict[Split, Dim]) -> list[tuple[int, Split]]:
    """[(first size, split points)] of the orders that are the cheapest for some size of
    `symbol`, in increasing size. Between consecutive crossovers of the cost polynomials no
    two orders swap, so the cheapest order at a crossover (by the exact planner, whose
    tie-break is the static case's) holds until the next one."""
    orders: list[tuple[int, Split]] = []
    for size in crossovers(list(costs.values()), symbol):
        _, split = _plan_at(chain, symbol, size)
        if not orders or orders[-1][1] != split:
            orders.append((size, split))
    return orders


def _written_split(chain: Chain) -> Split | None:
    """The split points of the chain as written, if its matmuls form one tree over the
    factors without a transpose inside (else None: it cannot be compared by splits)."""
    spans: list[tuple[tuple[int, int], int]] = []
    count = 0

    def walk(v: SSAValue) -> tuple[int, int] | None:
        nonlocal count
        op = v.owner
        if isinstance(op, red.MatmulOp) and (op is chain.root or op in chain.inner):
            left, right = walk(op.lhs), walk(op.rhs)
            if left is None or right is None:
                return None
            spans.append(((left[0], right[1]), left[1]))
            return (left[0], right[1])
        if isinstance(op, Operation) and op in chain.inner:
            return None
        count += 1
        return (count - 1, count - 1)

    if walk(chain.root.result) is None or count != len(chain.factors):
        return None
    return tuple(sorted(spans))


def dispatch_on_size(chain: Chain, shapes: SymbolicShapes, ctx: Context | None) -> bool:
    """A chain whose cheapest order depends on one symbolic dim S: every order that is the
    cheapest for some S is emitted, and `scf.if` on S (read with tensor.dim) selects one at
    run time, with thresholds at the crossovers of the orders' cost polynomials. A chain
    with one best order everywhere is reordered without a branch, or left alone when it is
    written in that order."""
    symbols = _chain_symbols(chain, shapes)
    if len(symbols) != 1 or len(chain.factors) > MAX_DISPATCH_FACTORS:
        return False  # no symbol (static chains are handled above), several, or too long
    (symbol,) = symbols
    costs = order_costs(chain.factors, shapes)
    _SIZES.shapes = shapes
    try:
        orders = _orders(chain, symbol, costs)
    finally:
        _SIZES.shapes, _SIZES.at = None, {}
    written = _written_split(chain)
    if len(orders) == 1 and written is not None and costs[orders[0][1]] == costs[written]:
        return False  # the written order is already the cheapest everywhere
    size = _size_of(chain, shapes, symbol) if len(orders) > 1 else chain.root.result
    if size is None:
        return False
    pieces = "; ".join(f"{symbol} >= {start}: {format_dim(costs[s])}" for start, s in orders)
    note = f"{len(orders)} orders of {len(chain.factors)} factors by {symbol}, FLOPs {pieces}"
    saved = None
    if written is not None:
        note += f" (as written: {format_dim(costs[written])})"
        best = [s for start, s in orders if start <= REPORT_SIZE][-1]
        at = {symbol: REPORT_SIZE}
        saved = int(evaluate(costs[written], at)) - int(evaluate(costs[best], at))  # type: ignore[arg-type]
    result = _emit_orders(chain, orders, size, chain.root)
    report(ctx, "reassociated", [chain.root], flops_saved=saved, bytes_saved=0, note=note)
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


def _emit_orders(
    chain: Chain, orders: list[tuple[int, Split]], size: SSAValue, before: Operation
) -> SSAValue:
    """Before `before`: scf.if size < start(order 2) {order 1} else {order 2 if it is the
    last, else the dispatch of orders 2, 3, ... nested the same way}."""
    if len(orders) == 1:
        return Emitter({}).build(chain.factors, dict(orders[0][1]), before, allow_whole=True)
    threshold = arith.ConstantOp(IntegerAttr(orders[1][0], IndexType()))
    small = arith.CmpiOp(size, threshold.result, "ult")
    for op in (threshold, small):
        Emitter.insert(op, before)
    branches: list[Region] = []
    for part in (orders[:1], orders[1:]):
        yield_op = scf.YieldOp()
        yield_op.location = chain.root.location
        block = Block([yield_op])
        yield_op.operands = [_emit_orders(chain, part, size, yield_op)]
        branches.append(Region(block))
    select = scf.IfOp(small.result, [chain.root.result.type], branches[0], branches[1])
    select.attributes[DISPATCH_ATTR] = UnitAttr()
    Emitter.insert(select, before)
    return select.results[0]


# endregion Dispatch on sizes
