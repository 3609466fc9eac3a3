"""The cost model: FLOPs and bytes per op, and per function the op count, FLOPs (first call
and later calls, which differ when red.memo caches work), bytes moved and peak live bytes.

FLOPs: matmul 2·M·N·K per batch; elementwise 1 per element, transcendental functions weighted
(TRANSCENDENTAL below); reductions 1 per input element; softmax and the norms by their
expansion. Bytes: every operand read and every result written, except ops that only
reinterpret (reshape) or produce constants, which move nothing at run time."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from xdsl.dialects import func, scf
from xdsl.dialects.arith import ConstantOp as ArithConstantOp
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter, PythonValues
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.traits import IsTerminator

from red.dialects import red

TRANSCENDENTAL = {
    red.ExpOp: 8,
    red.LogOp: 8,
    red.TanhOp: 8,
    red.SigmoidOp: 9,
    red.SiluOp: 10,
    red.ErfOp: 8,
    red.SinOp: 8,
    red.CosOp: 8,
    red.PowOp: 16,
    red.SqrtOp: 4,
    red.RsqrtOp: 5,
    red.GeluOp: 12,
}
"""FLOPs per element of the elementwise ops that call a math function."""

PER_ELEMENT = {red.SoftmaxOp: 12, red.LayerNormOp: 8, red.RmsNormOp: 5}
"""FLOPs per element of the ops that expand to several passes over their input."""

FREE_OPS = (red.ConstantOp, ArithConstantOp, red.ReshapeOp)


def element_count(typ: Attribute) -> int:
    if isinstance(typ, TensorType):
        return math.prod(max(d, 1) if d != red.DYNAMIC else 1 for d in typ.get_shape())
    return 1


def byte_size(typ: Attribute) -> int:
    if isinstance(typ, TensorType):
        elt = typ.get_element_type()
        width = getattr(elt, "bitwidth", None) or getattr(getattr(elt, "width", None), "data", 32)
        return element_count(typ) * max(1, (width + 7) // 8)
    return 8


def value_bytes(value: SSAValue) -> int:
    return byte_size(value.type)


@dataclass
class Cost:
    flops: int = 0
    bytes: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.bytes + other.bytes)


def _own_flops(op: Operation) -> int:
    """FLOPs of one op, not counting nested regions."""
    if isinstance(op, FREE_OPS) or not op.results:
        return 0
    out = element_count(op.results[0].type)
    if isinstance(op, red.MatmulOp):
        k = red.shape_of(op.lhs)[-1]
        return 2 * out * max(k, 1)
    if type(op) in TRANSCENDENTAL:
        return TRANSCENDENTAL[type(op)] * out
    if type(op) in PER_ELEMENT:
        return PER_ELEMENT[type(op)] * out
    if isinstance(op, red.ReduceOp):
        return element_count(op.input.type)
    if isinstance(
        op,
        red.TransposeOp
        | red.BroadcastToOp
        | red.SliceOp
        | red.ConcatOp
        | red.GatherOp
        | red.MemoOp,
    ):
        return 0
    if op.dialect_name() in ("red", "arith", "math"):
        return out
    return 0


def _own_bytes(op: Operation) -> int:
    if isinstance(op, FREE_OPS) or isinstance(op, red.MemoOp | func.CallOp | scf.ForOp | scf.IfOp):
        return 0
    return sum(value_bytes(v) for v in op.operands) + sum(value_bytes(r) for r in op.results)


class CostModel:
    """Costs of ops and functions of one module (calls are costed through their callee)."""

    def __init__(self, module: ModuleOp | None = None):
        self.functions: dict[str, func.FuncOp] = {}
        if module is not None:
            for op in module.body.ops:
                if isinstance(op, func.FuncOp):
                    self.functions[op.sym_name.data] = op
        self._in_progress: set[str] = set()

    def op_cost(self, op: Operation, first_call: bool = True) -> Cost:
        """Cost of an op including its regions; a memo costs its body on the first call
        and nothing on later calls."""
        cost = Cost(_own_flops(op), _own_bytes(op))
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
            trips = _trip_count(op)
            body = self.region_cost(op, first_call)
            return cost + Cost(body.flops * trips, body.bytes * trips)
        if isinstance(op, scf.IfOp):
            branches = [self.block_cost(r.blocks, first_call) for r in op.regions]
            return cost + max(branches, key=lambda c: c.flops, default=Cost())
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


def _trip_count(op: scf.ForOp) -> int:
    bounds = []
    for v in (op.lb, op.ub, op.step):
        owner = v.owner
        if isinstance(owner, ArithConstantOp) and hasattr(owner.value, "value"):
            bounds.append(int(owner.value.value.data))  # type: ignore[union-attr]
        else:
            return 1
    lb, ub, step = bounds
    return max(0, -(-(ub - lb) // step)) if step > 0 else 1


def count_ops(fn: Operation) -> int:
    """Ops nested in a function, terminators excluded."""
    return sum(1 for o in fn.walk() if o is not fn and not o.has_trait(IsTerminator))


def peak_live_bytes(fn: func.FuncOp) -> int:
    """The peak of the bytes held by live intermediate values when the function's top-level
    ops run in order (arguments and constants excluded; nested ops count with their parent)."""
    if not fn.body.blocks:
        return 0
    block = fn.body.block
    ops = list(block.ops)
    last_use: dict[SSAValue, int] = {}
    for i, o in enumerate(ops):
        for nested in o.walk():
            for v in nested.operands:
                last_use[v] = i
    frees: dict[int, int] = {}
    live = peak = 0
    for i, o in enumerate(ops):
        if isinstance(o, FREE_OPS):
            continue
        for r in o.results:
            size = value_bytes(r)
            live += size
            end = last_use.get(r, i)
            frees[end] = frees.get(end, 0) + size
        peak = max(peak, live)
        live -= frees.pop(i, 0)
    return peak


def function_metrics(fn: func.FuncOp, model: CostModel) -> dict[str, int]:
    """The `M` object of the redundancy report (DESIGN.md §3)."""
    first = model.block_cost(fn.body.blocks, first_call=True)
    later = model.block_cost(fn.body.blocks, first_call=False)
    return {
        "ops": count_ops(fn),
        "flops": first.flops,
        "bytes": first.bytes,
        "peak_bytes": peak_live_bytes(fn),
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
        self.flops += _own_flops(op)

    def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
        pass
