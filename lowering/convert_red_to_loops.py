"""convert-red-to-loops: red ops on tensors -> loop nests on memrefs (scf, memref, arith,
math and vector), in destination-passing style.

Every function on tensors becomes one on memrefs that writes its results into buffers passed
after its arguments (public `@f` is renamed `@red_f`, the C ABI of DESIGN.md §4). Each op
gets a loop nest writing a fresh buffer (malloc'd, freed after its last use) unless it is
fused: a chain of elementwise-like ops of equal shape (elementwise, select, cast, iota,
broadcast_to, transpose, slice, gather; each feeding a single consumer) is computed in the
consumer's loop nest without intermediate buffers. A returned value is written straight into
its result buffer. Constants become memref globals (splats become scalars in the loops),
reshapes are views, matmul uses a register-blocked vector micro-kernel, and red.memo becomes
globals: cached result buffers, a valid flag and the key (the addresses of the buffers it was
computed from), reset by the generated `red_memo_reset()`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import arith, func, memref, scf, vector
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
    VectorType,
    i1,
    i8,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import dense_to_numpy, numpy_to_dense
from red.dialects.symbols import is_private

INDEX = IndexType()
MEMO_RESET = "red_memo_reset"


def abi_name(name: str) -> str:
    """The C symbol of a public function (DESIGN.md §4)."""
    return f"red_{name}"


def memref_of(typ: Attribute) -> MemRefType:
    assert isinstance(typ, TensorType)
    return MemRefType(typ.get_element_type(), list(typ.get_shape()))


def _elt(v: SSAValue) -> Attribute:
    return red.element_type_of(v)


def _is_float(t: Attribute) -> bool:
    return isinstance(t, AnyFloat)


# region Target


@dataclass(frozen=True)
class Target:
    """Code generation parameters taken from the host CPU."""

    vector_bits: int = 512
    rows: int = 8
    vectors: int = 2

    def lanes(self, elt: Attribute) -> int:
        width = getattr(elt, "bitwidth", 32)
        return max(1, self.vector_bits // width)


def host_target() -> Target:
    """The vector width of this machine (AVX-512, AVX2 or SSE), for the matmul kernel."""
    try:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        features = llvm.get_host_cpu_features()
    except Exception:  # no llvmlite or no native target: a conservative width
        return Target(128, 4, 2)
    if features.get("avx512f"):
        return Target(512, 8, 2)
    if features.get("avx2") or features.get("avx"):
        return Target(256, 6, 2)
    return Target(128, 4, 2)


# endregion Target

# region Lowered values


@dataclass
class Buffer:
    """A materialized tensor: a memref, and whether this function owns (and frees) it."""

    mem: SSAValue
    owned: bool = False
    root: SSAValue | None = None  # the owned buffer a view aliases


@dataclass
class Fused:
    """An elementwise-like op computed inside its consumer's loops."""

    op: Operation


@dataclass
class Const:
    attr: DenseIntOrFPElementsAttr | DenseResourceAttr
    array: np.ndarray

    @property
    def splat(self) -> bool:
        """Whether every element is bitwise equal to the first (then it is a scalar)."""
        flat = self.array.reshape(-1)
        if flat.size == 0:
            return False
        bits = flat.view(f"u{flat.itemsize}") if flat.dtype.kind == "f" else flat
        return bool(np.all(bits == bits[0]))


Lowered = Buffer | Fused | Const

FUSABLE = (
    red.BinaryElementwiseOp,
    red.UnaryElementwiseOp,
    red.SelectOp,
    red.CastOp,
    red.IotaOp,
    red.BroadcastToOp,
    red.TransposeOp,
    red.SliceOp,
    red.GatherOp,
)
"""Ops whose value at an index is computed from their operands at (other) indices."""


# endregion Lowered values


class ModuleLowering:
    """State shared by the functions of a module: globals for constants and memos."""

    def __init__(self, module: ModuleOp, target: Target):
        self.module = module
        self.target = target
        self.globals: list[Operation] = []
        self.constant_names: dict[tuple[Attribute, bytes], str] = {}
        self.memo_flags: list[str] = []
        self.kernels: dict[str, func.FuncOp] = {}
        self.public = {
            op.sym_name.data
            for op in module.body.ops
            if isinstance(op, func.FuncOp) and not is_private(op)
        }

    def callee_name(self, name: str) -> str:
        return abi_name(name) if name in self.public else name

    def constant_global(
        self, attr: DenseIntOrFPElementsAttr | DenseResourceAttr, array: np.ndarray
    ) -> str:
        typ = attr.get_type()
        dense = (
            attr
            if isinstance(attr, DenseIntOrFPElementsAttr)
            else numpy_to_dense(array, red.element_type_of(typ))
        )
        key = (typ, dense.data.data)
        if key not in self.constant_names:
            name = f"__red_constant_{len(self.constant_names)}"
            self.constant_names[key] = name
            self.globals.append(
                memref.GlobalOp.get(StringAttr(name), memref_of(typ), dense, constant=UnitAttr())
            )
        return self.constant_names[key]

    def matmul_kernel(self, elt: Attribute) -> str:
        """The name of the module's matmul kernel for `elt`, emitted on first use."""
        name = f"__red_matmul_{elt}"
        if name not in self.kernels:
            self.kernels[name] = matmul_kernel_function(name, elt, self.target)
        return name

    def new_global(self, name: str, typ: MemRefType) -> str:
        self.globals.append(memref.GlobalOp.get(StringAttr(name), typ, UnitAttr()))
        return name


class Emitter:
    """Helpers that insert loop-level ops at a builder's insertion point. Scalar constants
    are created once, at the top of the function's entry block, so they dominate every use."""

    def __init__(self, builder: Builder, entry: Block | None = None):
        self.b = builder
        self.entry = entry if entry is not None else builder.insertion_point.block
        self._constants: dict[tuple[Attribute, object], SSAValue] = {}

    def op(self, op: Operation) -> SSAValue:
        self.b.insert(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def constant(self, attr: IntegerAttr | FloatAttr) -> SSAValue:
        key = (
            attr.type,
            attr.value.data
            if not isinstance(attr, FloatAttr)
            else np.float64(attr.value.data).tobytes(),
        )
        if (found := self._constants.get(key)) is None:
            const = arith.ConstantOp(attr)
            first = self.entry.first_op
            if first is None:
                self.entry.add_op(const)
            else:
                self.entry.insert_op_before(const, first)
            found = self._constants[key] = const.result
        return found

    def index(self, n: int) -> SSAValue:
        return self.constant(IntegerAttr(n, INDEX))

    def scalar(self, value: float | int | bool, elt: Attribute) -> SSAValue:
        if _is_float(elt):
            return self.constant(FloatAttr(float(value), elt))
        if elt == i1:
            return self.constant(IntegerAttr(int(bool(value)), i1))
        return self.constant(IntegerAttr(int(value), elt))

    def for_loop(
        self,
        lo: int | SSAValue,
        hi: int | SSAValue,
        step: int,
        carried: Sequence[SSAValue],
        body: Callable[[SSAValue, list[SSAValue]], list[SSAValue]],
    ) -> list[SSAValue]:
        """scf.for lo..hi step `step`; `body(iv, carried)` emits the body and returns the
        values carried to the next iteration."""
        lo_v = self.index(lo) if isinstance(lo, int) else lo
        hi_v = self.index(hi) if isinstance(hi, int) else hi
        step_v = self.index(step)
        block = Block(arg_types=[INDEX, *[c.type for c in carried]])
        saved = self.b.insertion_point
        self.b.insertion_point = InsertPoint.at_end(block)
        out = body(block.args[0], list(block.args[1:]))
        self.b.insert(scf.YieldOp(*out))
        self.b.insertion_point = saved
        loop = scf.ForOp(lo_v, hi_v, step_v, list(carried), Region(block))
        self.b.insert(loop)
        return list(loop.results)

    def loop_nest(self, shape: Sequence[int], body: Callable[[list[SSAValue]], None]) -> None:
        """Nested loops over every index of `shape` (row-major, last dim innermost)."""

        def rec(d: int, ivs: list[SSAValue]) -> None:
            if d == len(shape):
                body(ivs)
                return

            def inner(iv: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                rec(d + 1, [*ivs, iv])
                return []

            self.for_loop(0, shape[d], 1, [], inner)

        rec(0, [])

    def add_index(self, a: SSAValue, b: int | SSAValue) -> SSAValue:
        if isinstance(b, int):
            if b == 0:
                return a
            b = self.index(b)
        return self.op(arith.AddiOp(a, b))

    def mul_index(self, a: SSAValue, n: int) -> SSAValue:
        return a if n == 1 else self.op(arith.MuliOp(a, self.index(n)))


def _broadcast_index(idx: Sequence[SSAValue], shape: Sequence[int], e: Emitter) -> list[SSAValue]:
    """The index of a numpy-broadcast operand of `shape` at result index `idx`."""
    offset = len(idx) - len(shape)
    return [e.index(0) if n == 1 else idx[offset + d] for d, n in enumerate(shape)]


class BlockLowering:
    """Lowers the ops of one block of red (a function body or a memo body)."""

    def __init__(self, fn: FunctionLowering, block: Block):
        self.fn = fn
        self.block = block
        self.e = fn.e
        self.values = fn.values

    # region analysis

    def plan(self, dests: dict[SSAValue, SSAValue]) -> None:
        """Fusion decisions and last uses, given the results' destination buffers."""
        ops = list(self.block.ops)
        self.position = {op: i for i, op in enumerate(ops)}
        self.dests = dests
        self._freed: set[SSAValue] = set()
        self.fused: set[Operation] = set()
        for op in reversed(ops):  # consumers first: a fused op's consumer decides
            if not isinstance(op, FUSABLE) or len(op.results) != 1:
                continue
            r = op.results[0]
            if r in dests or not r.has_one_use():
                continue
            user = r.get_user_of_unique_use()
            if (
                isinstance(user, FUSABLE)
                and user.parent is self.block
                and red.shape_of(user.results[0]) == red.shape_of(r)
            ):
                self.fused.add(op)
        # A fused op reads its operands in its consumer's loop nest: their use counts there
        # (else a buffer whose last reader is fused would never be freed).
        at: dict[Operation, int] = {}
        for i in reversed(range(len(ops))):
            op = ops[i]
            at[op] = at[op.results[0].get_user_of_unique_use()] if op in self.fused else i  # type: ignore[index]
        self.last_use: dict[SSAValue, int] = {}
        for op in ops:
            for nested in op.walk():  # a use inside an op's regions counts at the op
                for v in nested.operands:
                    if self._defined_here(v):
                        self.last_use[v] = max(self.last_use.get(v, -1), at[op])

    def _defined_here(self, v: SSAValue) -> bool:
        owner = v.owner
        return (owner.parent if isinstance(owner, Operation) else owner) is self.block

    # endregion analysis

    def lower(self) -> None:
        """Lower every op but the terminator, freeing buffers after their last use."""
        for op in list(self.block.ops):
            if isinstance(op, func.ReturnOp | red.YieldOp):
                break
            if op in self.fused:
                self.values[op.results[0]] = Fused(op)
                continue
            self.lower_op(op)
            for r in op.results:  # a result nobody uses dies at once
                if r not in self.last_use:
                    self.last_use[r] = self.position[op]
            self.free_dead(self.position[op])

    def free_dead(self, position: int) -> None:
        """Free the owned buffers whose last use (and whose views' last use) is `position`."""
        dying = [v for v, last in self.last_use.items() if last == position]
        for v in dying:
            del self.last_use[v]
        for v in dying:
            lowered = self.values.get(v)
            if not isinstance(lowered, Buffer) or not lowered.owned:
                continue
            root = lowered.root or lowered.mem
            if root in self._freed:
                continue
            alive = any(
                isinstance(o := self.values.get(other), Buffer) and (o.root or o.mem) is root
                for other in self.last_use
            )
            if not alive:
                self._freed.add(root)
                self.e.op(memref.DeallocOp.get(root))

    # region materialization

    def buffer(self, v: SSAValue) -> SSAValue:
        """`v` as a memref (computing a fused value or loading a constant global)."""
        lowered = self.values[v]
        match lowered:
            case Buffer():
                return lowered.mem
            case Const():
                name = self.fn.module.constant_global(lowered.attr, lowered.array)
                mem = self.e.op(memref.GetGlobalOp(SymbolRefAttr(name), memref_of(v.type)))
                self.values[v] = Buffer(mem)
                return mem
            case Fused():
                dest = self.alloc(v)
                self.emit_elementwise(lowered.op, dest)
                self.values[v] = Buffer(dest, owned=True)
                return dest

    def alloc(self, v: SSAValue) -> SSAValue:
        if v in self.dests:
            return self.dests[v]
        return self.e.op(
            memref.AllocOp.get(memref_of(v.type).get_element_type(), shape=red.shape_of(v))
        )

    def result_buffer(self, op: Operation) -> SSAValue:
        """Allocate (or take the destination of) the op's result and record it."""
        r = op.results[0]
        mem = self.alloc(r)
        self.values[r] = Buffer(mem, owned=r not in self.dests)
        return mem

    # endregion materialization

    # region scalar code

    def load(self, v: SSAValue, idx: list[SSAValue]) -> SSAValue:
        """The element of tensor `v` at `idx`, as a scalar."""
        lowered = self.values[v]
        if isinstance(lowered, Fused):
            return self.scalar_of(lowered.op, idx)
        if isinstance(lowered, Const) and lowered.splat:
            return self.e.scalar(lowered.array.reshape(-1)[0].item(), _elt(v))
        return self.e.op(memref.LoadOp.get(self.buffer(v), idx))

    def operand(self, v: SSAValue, idx: list[SSAValue]) -> SSAValue:
        """A broadcast operand's element at result index `idx`."""
        return self.load(v, _broadcast_index(idx, red.shape_of(v), self.e))

    def scalar_of(self, op: Operation, idx: list[SSAValue]) -> SSAValue:
        e = self.e
        match op:
            case red.BinaryElementwiseOp():
                a, b = self.operand(op.lhs, idx), self.operand(op.rhs, idx)
                return scalar_binary(op, a, b, _elt(op.lhs), e)
            case red.UnaryElementwiseOp():
                return scalar_unary(op, self.load(op.input, idx), _elt(op.input), e)
            case red.SelectOp():
                c = self.operand(op.condition, idx)
                t, f = self.operand(op.true_value, idx), self.operand(op.false_value, idx)
                return e.op(arith.SelectOp(c, t, f))
            case red.CastOp():
                return scalar_cast(self.load(op.input, idx), _elt(op.input), _elt(op.result), e)
            case red.IotaOp():
                i = e.op(arith.IndexCastOp(idx[op.dimension.value.data], i64))
                return scalar_cast(i, i64, _elt(op.result), e)
            case red.BroadcastToOp():
                return self.operand(op.input, idx)
            case red.TransposeOp():
                src = [idx[0]] * len(idx)
                for i, p in enumerate(op.perm):
                    src[p] = idx[i]
                return self.load(op.input, src)
            case red.SliceOp():
                start, _, stride = op.bounds
                src = [e.add_index(e.mul_index(i, st), s) for i, s, st in zip(idx, start, stride)]
                return self.load(op.input, src)
            case red.GatherOp():
                axis = op.axis.value.data
                rank = len(red.shape_of(op.indices))
                raw = self.load(op.indices, list(idx[axis : axis + rank]))
                n = red.shape_of(op.table)[axis]
                row = clamp_index(raw, _elt(op.indices), n, e)
                return self.load(op.table, [*idx[:axis], row, *idx[axis + rank :]])
        raise AssertionError(f"not elementwise-like: {op.name}")

    def emit_elementwise(self, op: Operation, dest: SSAValue) -> None:
        shape = red.shape_of(op.results[0])
        self.e.loop_nest(
            shape, lambda idx: self.e.op(memref.StoreOp.get(self.scalar_of(op, idx), dest, idx))
        )

    # endregion scalar code

    def lower_op(self, op: Operation) -> None:
        if any(
            isinstance(r.type, TensorType) and red.DYNAMIC in red.shape_of(r) for r in op.results
        ):
            raise DiagnosticError.at(
                op, f"'{op.name}' op has a dynamic shape: the lowering needs static shapes"
            )
        match op:
            case red.ConstantOp() | arith.ConstantOp() if isinstance(
                op.results[0].type, TensorType
            ):
                attr = op.value
                self.values[op.results[0]] = Const(attr, dense_to_numpy(attr))  # type: ignore[arg-type]
                if op.results[0] in self.dests:
                    self.copy(op.results[0], self.dests[op.results[0]])
            case _ if isinstance(op, FUSABLE):
                self.emit_elementwise(op, self.result_buffer(op))
            case red.ReshapeOp():
                self.lower_reshape(op)
            case red.MatmulOp():
                lower_matmul(self, op)
            case red.ConcatOp():
                self.lower_concat(op)
            case red.ReduceOp():
                self.lower_reduce(op)
            case red.SoftmaxOp() | red.NormOp():
                self.lower_normalization(op)
            case red.MemoOp():
                self.fn.lower_memo(self, op)
            case func.CallOp():
                self.lower_call(op)
            case _:
                raise DiagnosticError.at(op, f"'{op.name}' op is not supported by the lowering")

    def copy(self, v: SSAValue, dest: SSAValue) -> None:
        self.e.loop_nest(
            red.shape_of(v), lambda idx: self.e.op(memref.StoreOp.get(self.load(v, idx), dest, idx))
        )

    def lower_reshape(self, op: red.ReshapeOp) -> None:
        """A view of the input's buffer (a returned reshape is copied by the caller)."""
        r = op.result
        src = self.buffer(op.input)
        parent = self.values[op.input]
        assert isinstance(parent, Buffer)
        root = (parent.root or parent.mem) if parent.owned else None
        view = _view(src, memref_of(r.type), self.e)
        self.values[r] = Buffer(view, owned=parent.owned, root=root)

    def lower_concat(self, op: red.ConcatOp) -> None:
        dest = self.result_buffer(op)
        axis = op.axis.value.data
        offset = 0
        for v in op.inputs:
            shape = red.shape_of(v)

            def body(idx: list[SSAValue], v: SSAValue = v, offset: int = offset) -> None:
                out = list(idx)
                out[axis] = self.e.add_index(idx[axis], offset)
                self.e.op(memref.StoreOp.get(self.load(v, idx), dest, out))

            self.e.loop_nest(shape, body)
            offset += shape[axis]

    def lower_reduce(self, op: red.ReduceOp) -> None:
        dest = self.result_buffer(op)
        in_shape = red.shape_of(op.input)
        axes = op.axis_list
        kept = [d for d in range(len(in_shape)) if d not in axes]
        elt = _elt(op.input)
        e = self.e

        def outer(out_idx: list[SSAValue]) -> None:
            kept_idx = [out_idx[axes_pos] for axes_pos in _kept_positions(op, in_shape)]

            def reduce(d: int, red_idx: list[SSAValue], acc: SSAValue) -> SSAValue:
                if d == len(axes):
                    full = [e.index(0)] * len(in_shape)
                    for k, i in zip(kept, kept_idx):
                        full[k] = i
                    for a, i in zip(axes, red_idx):
                        full[a] = i
                    x = self.load(op.input, full)
                    if elt == i1:  # numpy: the sum and the max of bools are both `any`
                        return e.op(arith.OrIOp(acc, x))
                    if isinstance(op, red.ReduceMaxOp):
                        return scalar_max(acc, x, elt, e)
                    return e.op(arith.AddfOp(acc, x) if _is_float(elt) else arith.AddiOp(acc, x))

                def body(iv: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
                    return [reduce(d + 1, [*red_idx, iv], carried[0])]

                return e.for_loop(0, in_shape[axes[d]], 1, [acc], body)[0]

            init = e.scalar(_reduction_identity(op, elt), elt)
            total = reduce(0, [], init)
            if isinstance(op, red.ReduceMeanOp):
                count = math.prod(in_shape[a] for a in axes)
                total = e.op(arith.DivfOp(total, e.scalar(count, elt)))
            e.op(memref.StoreOp.get(total, dest, out_idx))

        e.loop_nest(red.shape_of(op.result), outer)

    def lower_normalization(self, op: red.SoftmaxOp | red.NormOp) -> None:
        """softmax over one axis, layer_norm and rms_norm over the trailing axes: loops over
        the other indices, and two or three passes over the normalized ones."""
        dest = self.result_buffer(op)
        shape = red.shape_of(op.input)
        axis = op.axis.value.data
        norm_axes = [axis] if isinstance(op, red.SoftmaxOp) else list(range(axis, len(shape)))
        outer_axes = [d for d in range(len(shape)) if d not in norm_axes]
        elt = _elt(op.input)
        e = self.e
        count = math.prod(shape[a] for a in norm_axes)

        def full(outer_idx: list[SSAValue], inner_idx: list[SSAValue]) -> list[SSAValue]:
            idx: list[SSAValue] = [outer_idx[0]] * len(shape) if outer_idx else list(inner_idx)
            for a, i in zip(outer_axes, outer_idx):
                idx[a] = i
            for a, i in zip(norm_axes, inner_idx):
                idx[a] = i
            return idx

        def fold(outer_idx: list[SSAValue], init: SSAValue,
                 step: Callable[[SSAValue, list[SSAValue]], SSAValue]) -> SSAValue:  # fmt: skip
            def rec(d: int, inner: list[SSAValue], acc: SSAValue) -> SSAValue:
                if d == len(norm_axes):
                    return step(acc, full(outer_idx, inner))
                return e.for_loop(0, shape[norm_axes[d]], 1, [acc],
                                  lambda iv, c: [rec(d + 1, [*inner, iv], c[0])])[0]  # fmt: skip

            return rec(0, [], init)

        def each(outer_idx: list[SSAValue], body: Callable[[list[SSAValue]], None]) -> None:
            e.loop_nest([shape[a] for a in norm_axes], lambda inner: body(full(outer_idx, inner)))

        def row(outer_idx: list[SSAValue]) -> None:
            zero = e.scalar(0.0, elt)
            n = e.scalar(float(count), elt)
            if isinstance(op, red.SoftmaxOp):
                # maximum (NaN propagates, as in the interpreter), not maxnum: LLVM 20's loop
                # vectorizer (llvmlite 0.50) miscompiles maxnum reductions (f32 rows of 9 to
                # 11 whose first 8 are -inf give -inf) and fails an assertion on some
                # ("VPlan cost model and legacy cost model disagreed": f16 rows of 4, 8 or
                # 16, f64 rows of 6 or 7), aborting the process.
                neg_inf = e.scalar(-math.inf, elt)
                peak = fold(
                    outer_idx,
                    neg_inf,
                    lambda acc, i: e.op(arith.MaximumfOp(acc, self.load(op.input, i))),
                )

                # exp in a loop of its own (no loop-carried sum), so it vectorizes
                def store_exp(i: list[SSAValue]) -> None:
                    shifted = e.op(arith.SubfOp(self.load(op.input, i), peak))
                    e.op(memref.StoreOp.get(e.op(mathd.ExpOp(shifted)), dest, i))

                each(outer_idx, store_exp)
                total = fold(
                    outer_idx,
                    zero,
                    lambda acc, i: e.op(arith.AddfOp(acc, e.op(memref.LoadOp.get(dest, i)))),
                )

                def divide(i: list[SSAValue]) -> None:
                    q = e.op(arith.DivfOp(e.op(memref.LoadOp.get(dest, i)), total))
                    e.op(memref.StoreOp.get(q, dest, i))

                each(outer_idx, divide)
                return
            eps = e.scalar(op.eps.value.data, elt)
            if isinstance(op, red.LayerNormOp):
                s = fold(
                    outer_idx, zero, lambda acc, i: e.op(arith.AddfOp(acc, self.load(op.input, i)))
                )
                mean = e.op(arith.DivfOp(s, n))

                def sq(acc: SSAValue, i: list[SSAValue]) -> SSAValue:
                    c = e.op(arith.SubfOp(self.load(op.input, i), mean))
                    return e.op(arith.AddfOp(acc, e.op(arith.MulfOp(c, c))))

                var = e.op(arith.DivfOp(fold(outer_idx, zero, sq), n))
            else:
                mean = zero

                def sq(acc: SSAValue, i: list[SSAValue]) -> SSAValue:
                    x = self.load(op.input, i)
                    return e.op(arith.AddfOp(acc, e.op(arith.MulfOp(x, x))))

                var = e.op(arith.DivfOp(fold(outer_idx, zero, sq), n))
            denom = e.op(mathd.SqrtOp(e.op(arith.AddfOp(var, eps))))

            def normalize(i: list[SSAValue]) -> None:
                x = self.load(op.input, i)
                c = e.op(arith.SubfOp(x, mean)) if isinstance(op, red.LayerNormOp) else x
                e.op(memref.StoreOp.get(e.op(arith.DivfOp(c, denom)), dest, i))

            each(outer_idx, normalize)

        e.loop_nest([shape[a] for a in outer_axes], row)

    def lower_call(self, op: func.CallOp) -> None:
        args = [self.buffer(v) if isinstance(v.type, TensorType) else v for v in op.operands]
        outs = [self.result_buffer_of(r) for r in op.results]
        callee = self.fn.module.callee_name(op.callee.root_reference.data)
        self.e.op(func.CallOp(callee, [*args, *outs], []))

    def result_buffer_of(self, r: SSAValue) -> SSAValue:
        mem = self.alloc(r)
        self.values[r] = Buffer(mem, owned=r not in self.dests)
        return mem


def _kept_positions(op: red.ReduceOp, in_shape: Sequence[int]) -> list[int]:
    """Positions in the output index of the input's kept dims."""
    kept = [d for d in range(len(in_shape)) if d not in op.axis_list]
    return kept if op.keeps_dims else list(range(len(kept)))


def _reduction_identity(op: red.ReduceOp, elt: Attribute) -> float | int:
    if isinstance(op, red.ReduceMaxOp) and elt != i1:
        if _is_float(elt):
            return -math.inf
        width = elt.width.data if isinstance(elt, IntegerType) else 64
        return -(1 << (width - 1))
    return 0.0 if _is_float(elt) else 0


def _view(src: SSAValue, typ: MemRefType, e: Emitter) -> SSAValue:
    """A reshaped view of a contiguous buffer."""
    shape = list(typ.get_shape())
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    return e.op(memref.ReinterpretCastOp.from_dynamic(src, [0], shape, strides, typ))  # type: ignore[arg-type]


# region Scalar semantics


def scalar_max(a: SSAValue, b: SSAValue, elt: Attribute, e: Emitter) -> SSAValue:
    return e.op(arith.MaximumfOp(a, b) if _is_float(elt) else arith.MaxSIOp(a, b))


def scalar_binary(op: Operation, a: SSAValue, b: SSAValue, elt: Attribute, e: Emitter) -> SSAValue:
    f = _is_float(elt)
    if isinstance(op, red.CompareOp):
        preds = {
            red.EqOp: ("oeq", "eq"),
            red.NeOp: ("une", "ne"),
            red.LtOp: ("olt", "slt"),
            red.LeOp: ("ole", "sle"),
            red.GtOp: ("ogt", "sgt"),
            red.GeOp: ("oge", "sge"),
        }
        fp, ip = preds[type(op)]
        if elt == i1 and ip[0] == "s":  # numpy orders False < True: unsigned (true is -1 signed)
            ip = "u" + ip[1:]
        return e.op(arith.CmpfOp(a, b, fp) if f else arith.CmpiOp(a, b, ip))
    if elt == i1:  # numpy's bool arithmetic is logical
        table = {red.AddOp: arith.OrIOp, red.MaxOp: arith.OrIOp, red.MulOp: arith.AndIOp,
                 red.MinOp: arith.AndIOp, red.SubOp: arith.XOrIOp}  # fmt: skip
        if type(op) not in table:  # (the verifier rejects i1 arithmetic; unverified IR may not)
            raise DiagnosticError.at(op, f"'{op.name}' op on 'i1' is not supported by the lowering")
        return e.op(table[type(op)](a, b))
    if f:
        table_f: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
            red.AddOp: arith.AddfOp, red.SubOp: arith.SubfOp, red.MulOp: arith.MulfOp,
            red.DivOp: arith.DivfOp, red.MaxOp: arith.MaximumfOp, red.MinOp: arith.MinimumfOp,
            red.PowOp: mathd.PowFOp,
        }  # fmt: skip
        return e.op(table_f[type(op)](a, b))
    table_i: dict[type[Operation], Callable[[SSAValue, SSAValue], Operation]] = {
        red.AddOp: arith.AddiOp, red.SubOp: arith.SubiOp, red.MulOp: arith.MuliOp,
        red.DivOp: arith.DivSIOp, red.MaxOp: arith.MaxSIOp, red.MinOp: arith.MinSIOp,
    }  # fmt: skip
    return e.op(table_i[type(op)](a, b))


def scalar_unary(op: Operation, x: SSAValue, elt: Attribute, e: Emitter) -> SSAValue:
    if not _is_float(elt):
        zero = e.scalar(0, elt)
        if isinstance(op, red.NegOp):
            return e.op(arith.SubiOp(zero, x))
        if isinstance(op, red.AbsOp):
            return e.op(
                arith.SelectOp(e.op(arith.CmpiOp(x, zero, "slt")), e.op(arith.SubiOp(zero, x)), x)
            )
        if isinstance(op, red.ReluOp):
            return e.op(arith.MaxSIOp(x, zero))
        raise AssertionError(op.name)
    one = lambda: e.scalar(1.0, elt)  # noqa: E731

    def sigmoid(v: SSAValue) -> SSAValue:
        return e.op(
            arith.DivfOp(one(), e.op(arith.AddfOp(one(), e.op(mathd.ExpOp(e.op(arith.NegfOp(v)))))))
        )

    match op:
        case red.NegOp():
            return e.op(arith.NegfOp(x))
        case red.AbsOp():
            return e.op(mathd.AbsFOp(x))
        case red.ReluOp():
            return e.op(arith.MaximumfOp(x, e.scalar(0.0, elt)))
        case red.ExpOp():
            return e.op(mathd.ExpOp(x))
        case red.LogOp():
            return e.op(mathd.LogOp(x))
        case red.SqrtOp():
            return e.op(mathd.SqrtOp(x))
        case red.RsqrtOp():
            return e.op(arith.DivfOp(one(), e.op(mathd.SqrtOp(x))))
        case red.TanhOp():
            return e.op(mathd.TanhOp(x))
        case red.SigmoidOp():
            return sigmoid(x)
        case red.SiluOp():
            return e.op(arith.MulfOp(x, sigmoid(x)))
        case red.ErfOp():
            return e.op(mathd.ErfOp(x))
        case red.SinOp():
            return e.op(mathd.SinOp(x))
        case red.CosOp():
            return e.op(mathd.CosOp(x))
        case red.GeluOp():
            half = e.scalar(0.5, elt)
            if op.approximation == "tanh":
                cube = e.op(arith.MulfOp(e.op(arith.MulfOp(x, x)), x))
                inner = e.op(arith.AddfOp(x, e.op(arith.MulfOp(e.scalar(0.044715, elt), cube))))
                t = e.op(
                    mathd.TanhOp(e.op(arith.MulfOp(e.scalar(math.sqrt(2.0 / math.pi), elt), inner)))
                )
            else:
                t = e.op(mathd.ErfOp(e.op(arith.MulfOp(x, e.scalar(1.0 / math.sqrt(2.0), elt)))))
            return e.op(arith.MulfOp(e.op(arith.MulfOp(half, x)), e.op(arith.AddfOp(one(), t))))
    raise AssertionError(op.name)


def scalar_cast(x: SSAValue, src: Attribute, dst: Attribute, e: Emitter) -> SSAValue:
    if src == dst:
        return x
    if dst == i1:
        zero = e.scalar(0, src)
        return e.op(arith.CmpfOp(x, zero, "une") if _is_float(src) else arith.CmpiOp(x, zero, "ne"))
    if src == i1:
        if _is_float(dst):
            return e.op(arith.SelectOp(x, e.scalar(1.0, dst), e.scalar(0.0, dst)))
        return e.op(arith.ExtUIOp(x, dst))
    if _is_float(src) and _is_float(dst):
        wider = dst.bitwidth > src.bitwidth  # type: ignore[attr-defined]
        return e.op(arith.ExtFOp(x, dst) if wider else arith.TruncFOp(x, dst))
    if _is_float(src):
        return e.op(arith.FPToSIOp(x, dst))
    if _is_float(dst):
        return e.op(arith.SIToFPOp(x, dst))
    sw, dw = src.width.data, dst.width.data  # type: ignore[attr-defined]
    return e.op(arith.ExtSIOp(x, dst) if dw > sw else arith.TruncIOp(x, dst))


def clamp_index(raw: SSAValue, elt: Attribute, n: int, e: Emitter) -> SSAValue:
    """An id as an index: negative ids count from the end (numpy.take); anything still out
    of [0, n) is clamped, so a bad id cannot read out of bounds (the interpreter reports it)."""
    i = e.op(arith.IndexCastOp(raw, INDEX))
    zero, top = e.index(0), e.index(n - 1)
    i = e.op(
        arith.SelectOp(e.op(arith.CmpiOp(i, zero, "slt")), e.op(arith.AddiOp(i, e.index(n))), i)
    )
    i = e.op(arith.SelectOp(e.op(arith.CmpiOp(i, zero, "slt")), zero, i))
    return e.op(arith.SelectOp(e.op(arith.CmpiOp(i, top, "sgt")), top, i))


# endregion Scalar semantics

# region Matmul


def _flat(mem: SSAValue, e: Emitter) -> SSAValue:
    """A contiguous buffer as a 1-D memref of dynamic size (for the shared kernels)."""
    typ = mem.type
    assert isinstance(typ, MemRefType)
    count = math.prod(typ.get_shape())
    flat = MemRefType(typ.get_element_type(), [count])
    view = e.op(memref.ReinterpretCastOp.from_dynamic(mem, [0], [count], [1], flat))  # type: ignore[arg-type]
    return e.op(memref.CastOp.get(view, MemRefType(typ.get_element_type(), [red.DYNAMIC])))


def lower_matmul(bl: BlockLowering, op: red.MatmulOp) -> None:
    """C = A·B: a call of the module's shared matmul kernel per (broadcast) batch entry."""
    dest = bl.result_buffer(op)
    e = bl.e
    a, b, c = _flat(bl.buffer(op.lhs), e), _flat(bl.buffer(op.rhs), e), _flat(dest, e)
    a_shape, b_shape, c_shape = red.shape_of(op.lhs), red.shape_of(op.rhs), red.shape_of(op.result)
    m, k, n = c_shape[-2], a_shape[-1], c_shape[-1]
    kernel = bl.fn.module.matmul_kernel(_elt(op.result))

    def offset(idx: list[SSAValue], batch: Sequence[int], block: int) -> SSAValue:
        total = e.index(0)
        for d, (i, size) in enumerate(zip(_broadcast_index(idx, batch, e), batch)):
            stride = math.prod(batch[d + 1 :]) * block
            if size != 1:
                total = e.op(arith.AddiOp(total, e.mul_index(i, stride)))
        return total

    def call(idx: list[SSAValue]) -> None:
        a_off = offset(idx, a_shape[:-2], m * k)
        b_off = offset(idx, b_shape[:-2], k * n)
        c_off = offset(idx, c_shape[:-2], m * n)
        args = [a, a_off, b, b_off, c, c_off, e.index(m), e.index(n), e.index(k)]
        e.op(func.CallOp(kernel, args, []))

    e.loop_nest(c_shape[:-2], call)


def matmul_kernel_function(name: str, elt: Attribute, target: Target) -> func.FuncOp:
    """`name(A, a_off, B, b_off, C, c_off, M, N, K)`: C[i, j] = sum_k A[i, k]·B[k, j] on
    row-major 1-D buffers at the given offsets. Floats use tiles of MR rows by NV vectors of
    C held in registers across the k loop (FMA); row and column remainders are narrower."""
    dyn = MemRefType(elt, [red.DYNAMIC])
    block = Block(arg_types=[dyn, INDEX, dyn, INDEX, dyn, INDEX, INDEX, INDEX, INDEX])
    for arg, hint in zip(block.args, ("A", "a_off", "B", "b_off", "C", "c_off", "M", "N", "K")):
        arg.name_hint = hint
    e = Emitter(Builder(InsertPoint.at_end(block)))
    MatmulKernel(e, target, elt, *block.args).emit()  # type: ignore[arg-type]
    block.add_op(func.ReturnOp())
    return func.FuncOp(
        name,
        FunctionType.from_lists(list(block.arg_types), []),
        Region(block),
        visibility="private",
    )


@dataclass
class MatmulKernel:
    e: Emitter
    target: Target
    elt: Attribute
    a: SSAValue
    a_off: SSAValue
    b: SSAValue
    b_off: SSAValue
    c: SSAValue
    c_off: SSAValue
    m: SSAValue
    n: SSAValue
    k: SSAValue
    vec: VectorType | None = field(default=None, init=False)

    def sub(self, x: SSAValue, y: SSAValue) -> SSAValue:
        return self.e.op(arith.SubiOp(x, y))

    def round_down(self, x: SSAValue, step: int) -> SSAValue:
        """x - x % step."""
        return self.sub(x, self.e.op(arith.RemSIOp(x, self.e.index(step))))

    def at(self, off: SSAValue, row: SSAValue, width: SSAValue, col: SSAValue) -> SSAValue:
        """off + row·width + col."""
        e = self.e
        return e.op(arith.AddiOp(e.op(arith.AddiOp(off, e.op(arith.MuliOp(row, width)))), col))

    def emit(self) -> None:
        lanes = self.target.lanes(self.elt)
        if not (_is_float(self.elt) and lanes > 1):
            self.scalar_columns(self.e.index(0), self.n)
            return
        self.vec = VectorType(self.elt, [lanes])
        nv = self.target.vectors
        full = self.round_down(self.n, nv * lanes)
        self.columns(self.e.index(0), full, nv)
        vec_end = self.round_down(self.n, lanes)
        self.columns(full, vec_end, 1)
        self.scalar_columns(vec_end, self.n)

    def columns(self, j_lo: SSAValue, j_hi: SSAValue, nv: int) -> None:
        """Column blocks of nv vectors in [j_lo, j_hi); rows in blocks of MR, then one by one."""
        assert self.vec is not None
        lanes = self.vec.get_shape()[0]
        mr = self.target.rows
        e = self.e
        rows_full = self.round_down(self.m, mr)

        def per_block(j0: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            e.for_loop(
                e.index(0), rows_full, mr, [], lambda i0, _c: self.tile(i0, j0, mr, nv, lanes)
            )
            e.for_loop(rows_full, self.m, 1, [], lambda i0, _c: self.tile(i0, j0, 1, nv, lanes))
            return []

        e.for_loop(j_lo, j_hi, nv * lanes, [], per_block)

    def tile(self, i0: SSAValue, j0: SSAValue, mr: int, nv: int, lanes: int) -> list[SSAValue]:
        e = self.e
        assert self.vec is not None
        zero = e.op(vector.BroadcastOp(e.scalar(0.0, self.elt), self.vec))
        cols = [e.add_index(j0, v * lanes) for v in range(nv)]
        rows = [e.add_index(i0, r) for r in range(mr)]

        def step(kk: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
            b_vecs = [
                e.op(vector.LoadOp(self.b, [self.at(self.b_off, kk, self.n, c)], self.vec))
                for c in cols
            ]  # type: ignore[arg-type]
            out = list(acc)
            for r in range(mr):
                a_s = e.op(memref.LoadOp.get(self.a, [self.at(self.a_off, rows[r], self.k, kk)]))
                a_v = e.op(vector.BroadcastOp(a_s, self.vec))  # type: ignore[arg-type]
                for v in range(nv):
                    out[r * nv + v] = e.op(vector.FMAOp(a_v, b_vecs[v], acc[r * nv + v]))
            return out

        acc = e.for_loop(e.index(0), self.k, 1, [zero] * (mr * nv), step)
        for r in range(mr):
            for v in range(nv):
                e.op(
                    vector.StoreOp(
                        acc[r * nv + v], self.c, [self.at(self.c_off, rows[r], self.n, cols[v])]
                    )
                )
        return []

    def scalar_columns(self, j_lo: SSAValue, j_hi: SSAValue) -> None:
        """Plain loops: C[i, j] = sum_k A[i, k]·B[k, j] in k order."""
        e = self.e

        def row(i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            def col(j: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
                def step(kk: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
                    x = e.op(memref.LoadOp.get(self.a, [self.at(self.a_off, i, self.k, kk)]))
                    y = e.op(memref.LoadOp.get(self.b, [self.at(self.b_off, kk, self.n, j)]))
                    if _is_float(self.elt):
                        return [e.op(arith.AddfOp(acc[0], e.op(arith.MulfOp(x, y))))]
                    if self.elt == i1:
                        return [e.op(arith.OrIOp(acc[0], e.op(arith.AndIOp(x, y))))]
                    return [e.op(arith.AddiOp(acc[0], e.op(arith.MuliOp(x, y))))]

                total = e.for_loop(e.index(0), self.k, 1, [e.scalar(0, self.elt)], step)[0]
                e.op(memref.StoreOp.get(total, self.c, [self.at(self.c_off, i, self.n, j)]))
                return []

            e.for_loop(j_lo, j_hi, 1, [], col)
            return []

        e.for_loop(e.index(0), self.m, 1, [], row)


# endregion Matmul


class FunctionLowering:
    """Lowers one func.func on tensors to a func.func on memrefs."""

    def __init__(self, module: ModuleLowering, fn: func.FuncOp):
        self.module = module
        self.fn = fn
        self.values: dict[SSAValue, Lowered] = {}
        self.builder = Builder(InsertPoint.at_end(Block()))
        self.e = Emitter(self.builder)

    def lower(self) -> func.FuncOp:
        fn = self.fn
        name = fn.sym_name.data
        if len(fn.body.blocks) != 1:
            raise DiagnosticError.at(
                fn, f"'@{name}' has {len(fn.body.blocks)} blocks: the lowering handles one"
            )
        inputs = fn.function_type.inputs.data
        outputs = fn.function_type.outputs.data
        for t in (*inputs, *outputs):
            if not isinstance(t, TensorType):
                raise DiagnosticError.at(fn, f"'@{name}' has a non-tensor argument or result '{t}'")
            if red.DYNAMIC in t.get_shape():
                raise DiagnosticError.at(
                    fn, f"'@{name}' has a dynamic shape '{t}': the lowering needs static shapes"
                )
        block = Block(arg_types=[memref_of(t) for t in (*inputs, *outputs)])
        for arg, new in zip(fn.body.block.args, block.args):
            self.values[arg] = Buffer(new)
            new.name_hint = arg.name_hint
        outs = list(block.args[len(inputs) :])
        for i, o in enumerate(outs):
            o.name_hint = f"res{i}"
        self.builder.insertion_point = InsertPoint.at_end(block)
        self.e.entry = block
        ret = fn.body.block.last_op
        assert isinstance(ret, func.ReturnOp)
        self.lower_body(fn.body.block, list(ret.arguments), outs)
        self.builder.insert(func.ReturnOp())
        public = name in self.module.public
        new_fn = func.FuncOp(
            abi_name(name) if public else name,
            FunctionType.from_lists([b.type for b in block.args], []),
            Region(block),
            visibility=None if public else "private",
        )
        new_fn.location = fn.location
        return new_fn

    def lower_body(self, body: Block, results: list[SSAValue], outs: list[SSAValue]) -> None:
        """Lower a block whose terminator returns `results` into the buffers `outs`."""
        dests: dict[SSAValue, SSAValue] = {}
        for v, out in zip(results, outs):
            if isinstance(v.owner, Operation) and v.owner.parent is body and v not in dests:
                if not isinstance(
                    v.owner, red.ReshapeOp | red.MemoOp | red.ConstantOp | arith.ConstantOp
                ):
                    dests[v] = out
        bl = BlockLowering(self, body)
        bl.plan(dests)
        bl.lower()
        for v, out in zip(results, outs):
            if dests.get(v) is not out:
                bl.copy(v, out)
        terminator = body.last_op
        assert terminator is not None
        bl.free_dead(bl.position[terminator])

    def lower_memo(self, bl: BlockLowering, op: red.MemoOp) -> None:
        """Globals for the cached results, the key and a valid flag; recompute when the flag
        is clear or a key buffer's address differs from the cached one."""
        module = self.module
        n = len(module.memo_flags)
        outs = []
        for j, r in enumerate(op.outputs):
            name = module.new_global(f"__red_memo_{n}_result_{j}", memref_of(r.type))
            outs.append(name)
        flag = module.new_global(f"__red_memo_{n}_valid", MemRefType(i8, [1]))
        module.memo_flags.append(flag)
        keys = module.new_global(f"__red_memo_{n}_key", MemRefType(i64, [max(1, len(op.keys))]))
        e = self.e
        zero = e.index(0)
        flag_mem = e.op(memref.GetGlobalOp(SymbolRefAttr(flag), MemRefType(i8, [1])))
        key_mem = e.op(
            memref.GetGlobalOp(SymbolRefAttr(keys), MemRefType(i64, [max(1, len(op.keys))]))
        )
        valid = e.op(arith.CmpiOp(e.op(memref.LoadOp.get(flag_mem, [zero])), e.scalar(0, i8), "ne"))
        addresses = []
        for i, k in enumerate(op.keys):
            addr = e.op(
                arith.IndexCastOp(
                    e.op(memref.ExtractAlignedPointerAsIndexOp.get(bl.buffer(k))), i64
                )
            )
            addresses.append(addr)
            same = e.op(arith.CmpiOp(e.op(memref.LoadOp.get(key_mem, [e.index(i)])), addr, "eq"))
            valid = e.op(arith.AndIOp(valid, same))
        stale = e.op(arith.XOrIOp(valid, e.scalar(1, i1)))
        result_mems = [
            e.op(memref.GetGlobalOp(SymbolRefAttr(name), memref_of(r.type)))
            for name, r in zip(outs, op.outputs)
        ]
        then = Block()
        saved = self.builder.insertion_point
        self.builder.insertion_point = InsertPoint.at_end(then)
        for arg, k in zip(op.body.block.args, op.keys):
            self.values[arg] = Buffer(bl.buffer(k))
        term = op.body.block.last_op
        assert isinstance(term, red.YieldOp)
        self.lower_body(op.body.block, list(term.values), result_mems)
        for i, addr in enumerate(addresses):
            e.op(memref.StoreOp.get(addr, key_mem, [e.index(i)]))
        e.op(memref.StoreOp.get(e.scalar(1, i8), flag_mem, [e.index(0)]))
        self.builder.insert(scf.YieldOp())
        self.builder.insertion_point = saved
        self.builder.insert(scf.IfOp(stale, [], Region(then), Region(Block([scf.YieldOp()]))))
        for r, mem in zip(op.outputs, result_mems):
            bl.values[r] = Buffer(mem)
            if r in bl.dests:
                bl.copy(r, bl.dests[r])


def memo_reset_function(module: ModuleLowering) -> func.FuncOp:
    """`red_memo_reset()`: clear every memo's valid flag."""
    block = Block()
    e = Emitter(Builder(InsertPoint.at_end(block)))
    for flag in module.memo_flags:
        mem = e.op(memref.GetGlobalOp(SymbolRefAttr(flag), MemRefType(i8, [1])))
        e.op(memref.StoreOp.get(e.scalar(0, i8), mem, [e.index(0)]))
    block.add_op(func.ReturnOp())
    return func.FuncOp(MEMO_RESET, FunctionType.from_lists([], []), Region(block))


def convert_module(module: ModuleOp, target: Target | None = None) -> None:
    """Replace every function on tensors by its loop-level form (in place)."""
    functions = [op for op in module.body.ops if isinstance(op, func.FuncOp)]
    if not any(_on_tensors(f) for f in functions):
        return  # already lowered
    lowering = ModuleLowering(module, target or host_target())
    new_functions = []
    for fn in functions:
        if not fn.body.blocks:
            raise DiagnosticError.at(
                fn, f"'@{fn.sym_name.data}' is a declaration: the lowering needs bodies"
            )
        new_functions.append(FunctionLowering(lowering, fn).lower())
    for fn in functions:
        fn.detach()
        fn.erase(safe_erase=False)
    for g in lowering.globals:
        module.body.block.add_op(g)
    for fn in [*lowering.kernels.values(), *new_functions]:
        module.body.block.add_op(fn)
    module.body.block.add_op(memo_reset_function(lowering))


def _on_tensors(fn: func.FuncOp) -> bool:
    return any(
        isinstance(t, TensorType)
        for t in (*fn.function_type.inputs.data, *fn.function_type.outputs.data)
    ) or any(op.dialect_name() == "red" for op in fn.walk())


@dataclass(frozen=True)
class ConvertRedToLoopsPass(ModulePass):
    """red on tensors -> scf/memref/arith/math/vector loop nests in destination-passing
    style; see the module docstring."""

    name = "convert-red-to-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        convert_module(op)
