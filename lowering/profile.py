"""Where the time of compiled code goes, op by op (`red-run --profile`,
`red.compile(..., profile=True)`).

The module is instrumented at the red level: before each top-level op of the profiled
function that does work (constants do none) and before its return, a call to an empty
private function `@__red_profile_<k>` (calls keep their place through every lowering
step). In the LLVM IR each of those functions gets a body that reads the CPU's cycle
counter (`llvm.readcyclecounter`) and adds the cycles since the previous mark to the
previous mark's slot of a counter array (`__red_profile_cycles`, a global the JIT binds to a
numpy array). Slot k then holds the cycles of op k; a loop (`scf.for`), a `red.memo` or a
call is one op; an elementwise op fused into its consumer's loop nest shows its time under
the consumer. Seconds come from the cycles and the wall time of the same calls (the slot
after the last mark counts the time between calls, so all slots together span exactly the
calls' wall time): time of op k = cycles_k / all cycles x wall time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import llvmlite.ir as ir
import numpy as np
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType
from xdsl.ir import Block, Region
from xdsl.traits import IsTerminator

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, format_location, location_of
from red.dialects.red.dims import Dim, Poly, evaluate
from red.dialects.symbolic_shapes import SymbolicShapes, has_dynamic_shapes
from red.transforms.analysis.cost_model import CostModel

MARK_PREFIX = "__red_profile_"
CYCLES = "__red_profile_cycles"
"""The counter array: one i64 per op, then the slot of the time between calls, then the
mark that is current and the cycle count it was taken at."""

_FREE = (red.ConstantOp, arith.ConstantOp)


@dataclass(frozen=True)
class ProfiledOp:
    """One instrumented op: its name, location, and the cost model's FLOPs and bytes
    (polynomials in the symbols of a function with `?` dims until a call gives sizes)."""

    index: int
    name: str
    location: str
    flops: Dim
    bytes: Dim

    def at(self, sizes: Mapping[str, int]) -> ProfiledOp:
        """This op with its FLOPs and bytes at the given sizes of the symbols."""
        flops, nbytes = evaluate(self.flops, sizes), evaluate(self.bytes, sizes)
        if isinstance(flops, Poly) or isinstance(nbytes, Poly):
            raise ValueError(f"the cost of '{self.name}' needs sizes of {sorted(sizes)}")
        return replace(self, flops=flops, bytes=nbytes)


def symbol_sizes(fn: func.FuncOp, args: Sequence[Any]) -> dict[str, int]:
    """The size each symbol of `fn`'s `?` dims has in a call on `args` (none when the
    function's shapes are static)."""
    if not has_dynamic_shapes(fn):
        return {}
    shapes = SymbolicShapes(fn)
    sizes: dict[str, int] = {}
    for a, value in zip(fn.body.block.args, args):
        if isinstance(a.type, TensorType):
            for d, n in zip(shapes.of(a), np.shape(value)):
                if isinstance(d, Poly) and len(d.symbols) == 1:
                    sizes.setdefault(next(iter(d.symbols)), int(n))
    return sizes


def instrument(module: ModuleOp, function: str) -> list[ProfiledOp]:
    """Insert the marks into `@function` of `module` (in place); the ops they time."""
    fn = next(
        (
            op
            for op in module.body.ops
            if isinstance(op, func.FuncOp) and op.sym_name.data == function
        ),
        None,
    )
    if fn is None or not fn.body.blocks:
        raise DiagnosticError(location_of(module), f"no function '@{function}' to profile")
    model = CostModel(module)
    ops = [op for op in fn.body.block.ops if not isinstance(op, _FREE)]
    timed: list[ProfiledOp] = []
    for k, op in enumerate(ops):
        if not op.has_trait(IsTerminator):
            cost = model.op_cost(op)
            timed.append(
                ProfiledOp(k, op.name, format_location(op.location), cost.flops, cost.bytes)
            )
        mark = f"{MARK_PREFIX}{k}"
        body = Block()
        body.add_op(func.ReturnOp())
        module.body.block.add_op(
            func.FuncOp(mark, FunctionType.from_lists([], []), Region(body), "private")
        )
        call = func.CallOp(mark, [], [])
        call.location = op.location
        assert op.parent is not None
        op.parent.insert_op_before(call, op)
    return timed


def fill_marks(ir_module: ir.Module, marks: int) -> None:
    """Give each mark of the LLVM module its body (module docstring) and declare the
    counter array: slots 0..marks-2 the ops', marks-1 the time between calls (from the
    mark before the return to the next call's first), marks an unused slot the very first
    mark adds to, then the current mark and the cycle count it was taken at."""
    i64 = ir.IntType(64)
    array = ir.ArrayType(i64, marks + 3)
    cycles = ir.GlobalVariable(ir_module, array, CYCLES)
    cycles.linkage = "external"  # bound by the JIT to a numpy array
    counter = ir.Function(ir_module, ir.FunctionType(i64, []), "llvm.readcyclecounter")
    zero = ir.Constant(i64, 0)
    for k in range(marks):
        fn = ir_module.globals.get(f"{MARK_PREFIX}{k}")
        if not isinstance(fn, ir.Function):
            continue  # dropped by the lowering (never called)
        fn.blocks.clear()
        fn.linkage = "internal"
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        now = b.call(counter, [])
        current_slot = b.gep(cycles, [zero, ir.Constant(i64, marks + 1)], inbounds=True)
        last_slot = b.gep(cycles, [zero, ir.Constant(i64, marks + 2)], inbounds=True)
        current = b.load(current_slot)
        slot = b.gep(cycles, [zero, current], inbounds=True)
        b.store(b.add(b.load(slot), b.sub(now, b.load(last_slot))), slot)
        b.store(ir.Constant(i64, k), current_slot)
        b.store(now, last_slot)
        b.ret_void()


@dataclass
class OpTime:
    op: ProfiledOp
    """The op with its FLOPs and bytes at the sizes of the profiled calls (integers)."""
    seconds: float  # per call

    @property
    def gflops(self) -> float:
        return self._rate(self.op.flops)

    @property
    def gbytes(self) -> float:
        return self._rate(self.op.bytes)

    def _rate(self, amount: Dim) -> float:
        assert isinstance(amount, int), "an OpTime's op is evaluated at the call's sizes"
        return amount / self.seconds / 1e9 if self.seconds > 0 else 0.0


@dataclass
class Profile:
    """Time per op of `calls` calls of one function."""

    function: str
    calls: int
    seconds_per_call: float
    ops: list[OpTime]

    def sorted(self) -> list[OpTime]:
        return sorted(self.ops, key=lambda t: -t.seconds)

    def table(self, limit: int | None = None) -> str:
        total = sum(t.seconds for t in self.ops) or 1.0
        rows = [
            f"profile of @{self.function}: {self.calls} calls, "
            f"{self.seconds_per_call * 1e3:.3f} ms per call",
            f"{'time (ms)':>10} {'%':>6} {'GFLOP/s':>8} {'GB/s':>7} {'FLOPs':>12} "
            f"{'bytes':>12}  op  location",
        ]
        shown = self.sorted()[:limit] if limit else self.sorted()
        for t in shown:
            share = t.seconds / total
            # an op fused into a later op's loop nest has (almost) no time of its own
            rates = f"{t.gflops:8.2f} {t.gbytes:7.2f}" if share >= 0.005 else f"{'-':>8} {'-':>7}"
            rows.append(
                f"{t.seconds * 1e3:10.4f} {100 * share:6.1f} {rates} {t.op.flops:12d} "
                f"{t.op.bytes:12d}  {t.op.name}  {t.op.location}"
            )
        if limit and len(self.ops) > limit:
            rows.append(f"({len(self.ops) - limit} more ops)")
        return "\n".join(rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "calls": self.calls,
            "seconds_per_call": self.seconds_per_call,
            "ops": [
                {
                    "op": t.op.name,
                    "loc": t.op.location,
                    "seconds": t.seconds,
                    "flops": t.op.flops,
                    "bytes": t.op.bytes,
                }
                for t in self.sorted()
            ],
        }

    def chrome_trace(self) -> dict[str, Any]:
        """One call as a Chrome trace (the ops in program order, each lasting its mean
        time): opens in Perfetto or chrome://tracing."""
        events: list[dict[str, Any]] = []
        start = 0.0
        for t in sorted(self.ops, key=lambda t: t.op.index):
            events.append(
                {
                    "name": t.op.name,
                    "cat": "red",
                    "ph": "X",
                    "ts": start * 1e6,
                    "dur": t.seconds * 1e6,
                    "pid": 1,
                    "tid": 1,
                    "args": {"loc": t.op.location, "flops": t.op.flops, "bytes": t.op.bytes},
                }
            )
            start += t.seconds
        return {"traceEvents": events, "displayTimeUnit": "ms"}


class Profiler:
    """A compiled copy of a module with `@function` instrumented: `run(*args, repeat=N)`."""

    def __init__(
        self,
        module: ModuleOp,
        function: str = "main",
        compile: Callable[..., Any] | None = None,
        **options: Any,
    ):
        from red.lowering.jit import CompiledModule

        self.function = function
        instrumented = module.clone()
        self.timed = instrument(instrumented, function)
        self.fn = next(
            op
            for op in instrumented.body.ops
            if isinstance(op, func.FuncOp) and op.sym_name.data == function
        )
        marks = len(self.timed) + 1
        self.cycles = np.zeros(marks + 3, dtype=np.int64)
        build = compile or CompiledModule
        self.compiled = build(
            instrumented,
            edit_ir=lambda m: fill_marks(m, marks),
            bind={CYCLES: self.cycles},
            **options,
        )
        self.call = self.compiled.function(function).call

    def run(self, *args: Any, repeat: int = 1) -> tuple[Profile, tuple[np.ndarray, ...]]:
        """Call the function `repeat` times (after one call that is not counted)."""
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, got {repeat}")
        results = self.call(*args)
        self.cycles[:] = 0
        marks = len(self.timed) + 1
        self.cycles[marks + 1] = marks  # the first mark adds to the unused slot
        start = time.perf_counter()
        for _ in range(repeat):
            results = self.call(*args)
        wall = time.perf_counter() - start
        # the ops' slots and the between-calls slot span the calls' wall time
        spans = self.cycles[:marks].astype(np.float64)
        hz = spans.sum() / wall if wall > 0 else 0.0
        sizes = symbol_sizes(self.fn, args)
        ops = [
            OpTime(op.at(sizes), float(spans[op.index] / hz / repeat) if hz else 0.0)
            for op in self.timed
        ]
        profile = Profile(self.function, repeat, wall / repeat, ops)
        return profile, results


def write_trace(profile: Profile, path: str) -> None:
    with open(path, "w") as f:
        json.dump(profile.chrome_trace(), f)
