"""The cost model: FLOPs and bytes per op, and per function the op count, FLOPs (first call
and later calls, which differ when red.memo caches work), bytes moved and peak live bytes.

Each red op states its own FLOPs and bytes (`RedOp.cost`: matmul 2·M·N·K per batch;
elementwise 1 per element, transcendental functions weighted; reductions 1 per input element;
softmax and the norms by their expansion; bytes read and written, none for reshape views and
constants); this module adds regions (a loop costs its body times its trip count, a memo its
body on the first call only), calls (their callee) and per-function metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xdsl.dialects import func, scf, tensor
from xdsl.dialects.arith import ConstantOp as ArithConstantOp
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.interpreter import Interpreter, PythonValues
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.red import TYPE_SIZES, Cost, Sizes, byte_size
from red.dialects.red.dims import magnitude
from red.dialects.symbolic_shapes import (
    SIZE_DISPATCH_ATTR,
    SymbolicShapes,
    SymbolicSizes,
    has_dynamic_shapes,
)

FREE_OPS = (red.ConstantOp, ArithConstantOp, red.ReshapeOp, tensor.DimOp)
"""Ops that move no data at run time (constants, reshape views, size queries)."""


def value_bytes(value: SSAValue) -> int:
    return byte_size(value.type)


def own_cost(op: Operation, sizes: Sizes = TYPE_SIZES) -> Cost:
    """Cost of one op, not counting nested regions: red ops know their own (`op.cost()`);
    arith and math count one FLOP per element; calls, loops and conditionals move nothing
    themselves; other ops (returns, yields) the bytes of their operands and results."""
    if isinstance(op, red.RedOp):
        return op.cost(sizes)
    if isinstance(op, FREE_OPS) or isinstance(op, func.CallOp | scf.ForOp | scf.IfOp):
        return Cost()
    flops: Any = 0
    if op.results and op.dialect_name() in ("arith", "math"):
        flops = sizes.count(op.results[0])
    data: Any = 0
    for v in (*op.operands, *op.results):
        data = data + sizes.bytes(v)
    return Cost(flops, data)


class CostModel:
    """Costs of ops and functions of one module (calls are costed through their callee)."""

    def __init__(self, module: ModuleOp | None = None):
        self.functions: dict[str, func.FuncOp] = {}
        if module is not None:
            for op in module.body.ops:
                if isinstance(op, func.FuncOp):
                    self.functions[op.sym_name.data] = op
        self._in_progress: set[str] = set()
        self._sizes: dict[Operation, Sizes] = {}

    def sizes_for(self, op: Operation) -> Sizes:
        """Sizes from the types, or from the symbolic shapes of the op's function when it
        has dynamic dims (costs are then polynomials in the dims' symbols)."""
        fn = op if isinstance(op, func.FuncOp) else op.parent_op()
        while fn is not None and not isinstance(fn, func.FuncOp):
            fn = fn.parent_op()
        if fn is None:
            return TYPE_SIZES
        if fn not in self._sizes:
            dynamic = has_dynamic_shapes(fn)
            self._sizes[fn] = SymbolicSizes(SymbolicShapes(fn)) if dynamic else TYPE_SIZES
        return self._sizes[fn]

    def op_cost(self, op: Operation, first_call: bool = True) -> Cost:
        """Cost of an op including its regions; a memo costs its body on the first call
        and nothing on later calls."""
        sizes = self.sizes_for(op)
        cost = own_cost(op, sizes)
        if isinstance(op, red.MemoOp):
            return cost + self.region_cost(op, first_call) if first_call else cost
        if isinstance(op, func.CallOp):
            callee = self.functions.get(op.callee.root_reference.data)
            name = op.callee.root_reference.data
            if callee is not None and name not in self._in_progress:
                self._in_progress.add(name)
                try:
                    cost = cost + self.region_cost(callee, first_call)
                finally:
                    self._in_progress.discard(name)
            return cost
        if isinstance(op, scf.ForOp):
            trips = _trip_count(op, sizes)
            body = self.region_cost(op, first_call)
            return cost + body.scaled(trips)
        if isinstance(op, scf.IfOp):
            branches = [self.block_cost(r.blocks, first_call) for r in op.regions]
            # A size dispatch takes the cheapest branch (at the size symbols are ranked
            # at); another branch may cost the most.
            pick = min if SIZE_DISPATCH_ATTR in op.attributes else max
            return cost + pick(branches, key=lambda c: _magnitude(c.flops), default=Cost())
        if op.regions:
            return cost + self.region_cost(op, first_call)
        return cost

    def region_cost(self, op: Operation, first_call: bool = True) -> Cost:
        total = Cost()
        for region in op.regions:
            total = total + self.block_cost(region.blocks, first_call)
        return total

    def block_cost(self, blocks: Iterable, first_call: bool = True) -> Cost:
        total = Cost()
        for block in blocks:
            for o in block.ops:
                total = total + self.op_cost(o, first_call)
        return total


def _trip_count(op: scf.ForOp, sizes: Sizes) -> Any:
    """Iterations of a loop: from constant bounds, or symbolic (`seq - 1`) when the bounds
    are sizes; 1 when unknown."""
    bounds: list[Any] = []
    for v in (op.lb, op.ub, op.step):
        owner = v.owner
        if isinstance(owner, ArithConstantOp) and isinstance(owner.value, IntegerAttr):
            bounds.append(int(owner.value.value.data))
        elif isinstance(sizes, SymbolicSizes) and (d := sizes.shapes.scalar(v)) is not None:
            bounds.append(d)
        else:
            return 1
    lb, ub, step = bounds
    if all(isinstance(b, int) for b in bounds):
        return max(0, -(-(ub - lb) // step)) if step > 0 else 1
    return ub - lb if step == 1 else 1


_magnitude = magnitude


def count_ops(fn: Operation) -> int:
    """Ops nested in a function, terminators excluded."""
    return sum(1 for o in fn.walk() if o is not fn and not o.has_trait(IsTerminator))


def peak_live_bytes(fn: func.FuncOp, sizes: Sizes = TYPE_SIZES) -> Any:
    """The peak of the bytes held by live intermediate values when the function's ops run
    in order (arguments and constants excluded); an op with regions (a loop, a branch)
    adds the peak of its bodies while it runs. Symbolic sizes are ranked by `_magnitude`."""
    if not fn.body.blocks:
        return 0
    return _block_peak(fn.body.block, sizes)


def _larger(a: Any, b: Any) -> Any:
    return a if _magnitude(a) >= _magnitude(b) else b


def _block_peak(block: Block, sizes: Sizes) -> Any:
    ops = list(block.ops)
    last_use: dict[SSAValue, int] = {}
    for i, o in enumerate(ops):
        for nested in o.walk():
            for v in nested.operands:
                last_use[v] = i
    frees: dict[int, Any] = {}
    live: Any = 0
    peak: Any = 0
    for i, o in enumerate(ops):
        if isinstance(o, FREE_OPS):
            continue
        inner: Any = 0
        for r in o.regions:
            for b in r.blocks:
                inner = _larger(inner, _block_peak(b, sizes))
        peak = _larger(peak, live + inner)
        for r in o.results:
            size = sizes.bytes(r)
            live = live + size
            end = last_use.get(r, i)
            frees[end] = frees.get(end, 0) + size
        peak = _larger(peak, live)
        live = live - frees.pop(i, 0)
    return peak


def function_metrics(fn: func.FuncOp, model: CostModel) -> dict[str, int]:
    """The `M` object of the redundancy report (DESIGN.md §3)."""
    first = model.block_cost(fn.body.blocks, first_call=True)
    later = model.block_cost(fn.body.blocks, first_call=False)
    return {
        "ops": count_ops(fn),
        "flops": first.flops,
        "bytes": first.bytes,
        "peak_bytes": peak_live_bytes(fn, model.sizes_for(fn)),
        "flops_first_call": first.flops,
        "flops_per_call": later.flops,
    }


def module_metrics(module: ModuleOp) -> dict[str, dict[str, int]]:
    model = CostModel(module)
    return {
        op.sym_name.data: function_metrics(op, model)
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and op.body.blocks
    }


class FlopCounter(Interpreter.Listener):
    """Counts the FLOPs the interpreter actually executes (memo hits execute nothing)."""

    def __init__(self) -> None:
        self.flops = 0

    def will_interpret_op(self, op: Operation, args: PythonValues) -> None:
        self.flops += own_cost(op).flops

    def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
        pass
