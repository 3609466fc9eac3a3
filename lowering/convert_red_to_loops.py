"""convert-red-to-loops: red ops on tensors -> loop nests on memrefs (scf, memref, arith,
math and vector), in destination-passing style.

Every function on tensors becomes one on memrefs that writes its results into buffers passed
after its arguments (public `@f` is renamed `@red_f`, the C ABI of DESIGN.md §4). Each op
gets a loop nest writing a fresh buffer (malloc'd, freed after its last use) unless it is
fused: a chain of elementwise-like ops of equal shape (each feeding a single consumer) is
computed in the consumer's loop nest without intermediate buffers. A returned value is
written straight into its result buffer.

This file is the driver: per function, per block, it plans fusion and buffer lifetimes
(lowering/loops/plan.py), looks up each op's rule by class (lowering/loops/rules.py) and frees
buffers after their last use. The rules live with their op family in lowering/loops/:
elementwise.py, shape.py, reductions.py, matmul.py, constants.py, memo.py, calls.py, and
control_flow.py (scf loops and conditionals over tensors). Scalar arithmetic (loop bounds,
offsets: arith and math ops on scalars) is copied as it is, on the lowered scalars; a scalar
argument of a function stays a scalar (passed by value: `index` is `int64_t` in C).

A public function with `?` dims takes the sized ABI (lowering/loops/sizes.py): each `?` dim
of a tensor argument as an i64 after its pointer, an i32 status returned (0, or 1 when the
sizes are inconsistent: nothing is written), and a companion `red_f_result_shape`. Every
size is a polynomial in the arguments' symbols (dialects/symbolic_shapes.py) computed once
in the entry block; a tensor with a `?` dim lives in a flat buffer indexed linearly. When
every symbol is 1, the entry calls `@__red_f_unit` instead, the function specialized and
folded at those sizes (lowering/loops/specialize.py): what a static compile at size 1 runs."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import arith, cf, func, memref, scf
from xdsl.dialects.builtin import (
    AnyFloat,
    FloatAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.dims import Dim, Poly
from red.dialects.symbolic_shapes import SymbolicShapes, has_dynamic_shapes
from red.dialects.symbols import is_private
from red.lowering.gc_pause import gc_paused
from red.lowering.loops import (
    calls,
    constants,
    control_flow,
    elementwise,
    matmul,
    memo,
    reductions,
    shape,
)
from red.lowering.loops.emitter import Bound, Emitter
from red.lowering.loops.outline import NOINLINE_ATTR, PARALLEL_ATTR
from red.lowering.loops.plan import BlockPlan, BufferLiveness, defined_in, plan_block
from red.lowering.loops.rules import ELEMENT_RULES, NO_DESTINATION, OP_RULES, is_fusable
from red.lowering.loops.shape import reshaped_view
from red.lowering.loops.sizes import (
    Sizes,
    dynamic_dims,
    is_flat,
    result_shape_function,
    result_shape_name,
    size_checks,
)
from red.lowering.loops.specialize import specialize, unit_sizes
from red.lowering.loops.target import Target, host_target
from red.lowering.loops.values import Buffer, Const, Fused, Lowered, memref_of

RULE_MODULES = (calls, constants, control_flow, elementwise, matmul, memo, reductions, shape)
"""The rule modules; importing them registers their rules."""

MEMO_RESET = memo.MEMO_RESET

__all__ = ["MEMO_RESET", "ConvertRedToLoopsPass", "Target", "abi_name", "convert_module"]


def abi_name(name: str) -> str:
    """The C symbol of a public function (DESIGN.md §4)."""
    return f"red_{name}"


class ModuleLowering:
    """State shared by the functions of a module: the globals and helper functions their
    rules add (created once, by key), and the memo flags `red_memo_reset` clears."""

    def __init__(self, module: ModuleOp, target: Target):
        self.module = module
        self.target = target
        self.globals: list[Operation] = []
        self.functions: dict[str, func.FuncOp] = {}
        self.memo_flags: list[str] = []
        self.units: dict[str, func.FuncOp] = {}
        """Public functions with `?` dims -> their specialization at unit sizes (on tensors:
        lowering/loops/specialize.py), which their sized entry calls when every size is 1."""
        self._unique: dict[Hashable, str] = {}
        self._counts: dict[str, int] = {}
        self.public = {
            op.sym_name.data
            for op in module.body.ops
            if isinstance(op, func.FuncOp) and not is_private(op)
        }

    def callee_name(self, name: str) -> str:
        return abi_name(name) if name in self.public else name

    def new_global(self, name: str, typ: MemRefType) -> str:
        """An uninitialized (zeroed) mutable global."""
        self.globals.append(memref.GlobalOp.get(StringAttr(name), typ, UnitAttr()))
        return name

    def unique_global(self, key: Hashable, prefix: str, make: Callable[[str], Operation]) -> str:
        """The name of the global for `key`: `make(<prefix><n>)` is added on first use."""
        if key not in self._unique:
            name = f"{prefix}{self._counts.get(prefix, 0)}"
            self._counts[prefix] = self._counts.get(prefix, 0) + 1
            self.globals.append(make(name))
            self._unique[key] = name
        return self._unique[key]

    def function(self, name: str, make: Callable[[str], func.FuncOp]) -> str:
        """`name`, a helper function of the module, emitted by `make(name)` on first use."""
        if name not in self.functions:
            self.functions[name] = make(name)
        return name


class FunctionLowering:
    """Lowers one func.func on tensors to a func.func on memrefs."""

    def __init__(self, module: ModuleLowering, fn: func.FuncOp):
        self.module = module
        self.fn = fn
        self.values: dict[SSAValue, Lowered] = {}
        self.scalars: dict[SSAValue, SSAValue] = {}
        """Scalar (non-tensor) values -> their lowered values."""
        self.builder = Builder(InsertPoint.at_end(Block()))
        self.e = Emitter(self.builder)

    def lower(self) -> func.FuncOp:
        fn = self.fn
        name = fn.sym_name.data
        _check_signature(fn)
        public = name in self.module.public
        dynamic = has_dynamic_shapes(fn)
        if dynamic and not public:
            raise DiagnosticError.at(
                fn,
                f"'@{name}' is private and has dynamic shapes: the lowering handles dynamic "
                "shapes in public functions (the sized ABI)",
            )
        self.sizes = Sizes(SymbolicShapes(fn) if dynamic else None, self.e)
        inputs, outputs = fn.function_type.inputs.data, fn.function_type.outputs.data
        arg_types: list[Attribute] = []
        for t in inputs:
            arg_types += [_lowered_type(t), *[i64] * len(dynamic_dims(t))]
        block = Block(arg_types=[*arg_types, *[_lowered_type(t) for t in outputs]])
        new_args = iter(block.args)
        arg_dims: list[tuple[str, SSAValue]] = []
        lowered_args: list[SSAValue] = []
        for i, arg in enumerate(fn.body.block.args):
            new = next(new_args)
            lowered_args.append(new)
            if isinstance(arg.type, TensorType):
                self.values[arg] = Buffer(new)
            else:
                self.scalars[arg] = new
            new.name_hint = arg.name_hint
            for j in dynamic_dims(arg.type):
                size = next(new_args)
                size.name_hint = f"{arg.name_hint or f'arg{i}'}_d{j}"
                symbol = self.sizes.dims(arg)[j]
                assert isinstance(symbol, Poly)
                arg_dims.append((next(iter(symbol.symbols)), size))
        outs = list(new_args)
        for i, o in enumerate(outs):
            o.name_hint = f"res{i}"
        self.e.entry = block
        ret = fn.body.block.last_op
        assert isinstance(ret, func.ReturnOp)
        if not dynamic:
            self.builder.insertion_point = InsertPoint.at_end(block)
            self.lower_body(fn.body.block, list(ret.arguments), outs)
            self.builder.insert(func.ReturnOp())
            blocks, results = [block], []
        else:
            # the entry block binds and checks the sizes, then branches to the body or to
            # a block returning 1 (the results untouched)
            assert self.sizes.shapes is not None
            ok = self.sizes.bind_arguments(block, arg_dims, size_checks(fn, self.sizes.shapes))
            body, fail = Block(), Block()
            self.builder.insertion_point = InsertPoint.at_end(body)
            self.lower_body(fn.body.block, list(ret.arguments), outs)
            self.builder.insert(func.ReturnOp(self.e.scalar(0, i32)))
            fail.add_op(func.ReturnOp(self.e.scalar(1, i32)))
            blocks, results = [block, body, fail], [i32]
            if (unit := self.module.units.get(name)) is not None:
                # every size 1: the specialization, after the checks
                call = self._call_unit(unit, lowered_args, outs)
                dispatch = Block()
                self.builder.insertion_point = InsertPoint.at_end(dispatch)
                ones = [
                    self.e.op(arith.CmpiOp(v, self.e.index(1), "eq"))
                    for _, v in sorted(self.sizes.symbols.items())
                ]
                all_one = ones[0]
                for c in ones[1:]:
                    all_one = self.e.op(arith.AndIOp(all_one, c))
                self.builder.insert(cf.ConditionalBranchOp(all_one, call, [], body, []))
                blocks[1:1] = [dispatch, call]
                body = dispatch
            block.add_op(cf.ConditionalBranchOp(ok, body, [], fail, []))
        self.scalars.clear()
        new_fn = func.FuncOp(
            abi_name(name) if public else name,
            FunctionType.from_lists([b.type for b in block.args], results),
            Region(blocks),
            visibility=None if public else "private",
        )
        new_fn.location = fn.location
        if dynamic:
            self.module.functions[result_shape_name(name)] = result_shape_function(fn)
        return new_fn

    def _call_unit(
        self, unit: func.FuncOp, args: Sequence[SSAValue], outs: Sequence[SSAValue]
    ) -> Block:
        """A block calling `unit` (the specialization at unit sizes, lowered as a private
        function on static buffers) on this function's buffers, then returning 0."""
        block = Block()
        self.builder.insertion_point = InsertPoint.at_end(block)
        inputs, outputs = unit.function_type.inputs.data, unit.function_type.outputs.data
        values = [
            self._static_view(v, t) if isinstance(t, TensorType) else v
            for v, t in zip([*args, *outs], [*inputs, *outputs])
        ]
        self.builder.insert(func.CallOp(unit.sym_name.data, values, []))
        self.builder.insert(func.ReturnOp(self.e.scalar(0, i32)))
        return block

    def _static_view(self, mem: SSAValue, typ: TensorType) -> SSAValue:
        """Buffer `mem` (flat when its tensor has `?` dims) as a buffer of static `typ`."""
        target = memref_of(typ)
        if mem.type == target:
            return mem
        elt = target.get_element_type()
        count = MemRefType(elt, [prod(target.get_shape())])
        flat = self.e.op(memref.CastOp.get(mem, count))
        return flat if count == target else reshaped_view(flat, target, self.e)

    def _result_view(self, out: SSAValue, typ: MemRefType) -> SSAValue | None:
        """Result buffer `out` viewed as a buffer of `typ` (the same elements, row-major),
        or None when one is flat (`?` dims) and the other is not."""
        assert isinstance(out.type, MemRefType)
        if is_flat(out.type) != is_flat(typ):
            return None
        return out if is_flat(typ) else reshaped_view(out, typ, self.e)

    def scalar(self, v: SSAValue) -> SSAValue:
        """The lowered value of scalar `v`."""
        if (lowered := self.scalars.get(v)) is None:
            raise DiagnosticError.at(
                v.owner if isinstance(v.owner, Operation) else self.fn,
                f"the scalar '{v.type}' is not supported by the lowering",
            )
        return lowered

    def lower_body(
        self, body: Block, results: Sequence[SSAValue], outs: Sequence[SSAValue]
    ) -> None:
        """Lower a block whose terminator returns `results` into the buffers `outs`, at the
        emitter's insertion point."""
        dests: dict[SSAValue, SSAValue] = {}
        through_source: set[int] = set()  # results written by the op their reshapes view
        for i, (v, out) in enumerate(zip(results, outs)):
            owner = v.owner
            if isinstance(owner, Operation) and owner.parent is body and v not in dests:
                if type(owner) not in NO_DESTINATION:
                    dests[v] = out
                elif (src := _reshaped_source(v, body)) is not None and src not in dests:
                    view = self._result_view(out, memref_of(src.type))
                    if view is not None:
                        dests[src] = view
                        through_source.add(i)
        bl = BlockLowering(self, body, dests)
        bl.lower()
        for i, (v, out) in enumerate(zip(results, outs)):
            if dests.get(v) is not out and i not in through_source:
                bl.copy(v, out)
        terminator = body.last_op
        assert terminator is not None
        bl.free_dead(bl.plan.position[terminator])


def _reshaped_source(v: SSAValue, body: Block) -> SSAValue | None:
    """The value a returned reshape (or chain of reshapes) `v` views, when an op of `body`
    computes it into a buffer of its own: that op can write straight into the result buffer
    (viewed at its shape) instead of the driver copying the reshape after it (GPT-2's
    logits, `reshape(matmul)`: 25.7 MB allocated, page-faulted and copied per call)."""
    while isinstance(owner := v.owner, red.ReshapeOp) and owner.parent is body:
        v = owner.input
    owner = v.owner
    if isinstance(owner, Operation) and owner.parent is body and type(owner) not in NO_DESTINATION:
        return v
    return None


def _check_signature(fn: func.FuncOp) -> None:
    name = fn.sym_name.data
    if len(fn.body.blocks) != 1:
        raise DiagnosticError.at(
            fn, f"'@{name}' has {len(fn.body.blocks)} blocks: the lowering handles one"
        )
    inputs, outputs = fn.function_type.inputs.data, fn.function_type.outputs.data
    for t in outputs:
        if not isinstance(t, TensorType):
            raise DiagnosticError.at(fn, f"'@{name}' has a non-tensor result '{t}'")
    for t in inputs:
        if not isinstance(t, TensorType) and not is_scalar_type(t):
            raise DiagnosticError.at(fn, f"'@{name}' has an argument of type '{t}'")
    for t in (*inputs, *outputs):
        if not isinstance(t, TensorType):
            continue
        if isinstance(t.get_element_type(), IndexType):
            raise DiagnosticError.at(fn, f"'@{name}' has {_INDEX_ELEMENTS} ('{t}')")


def is_scalar_type(t: Attribute) -> bool:
    """index, an integer or a float: what the lowering keeps as a scalar."""
    return isinstance(t, IndexType | IntegerType | AnyFloat)


def _lowered_type(t: Attribute) -> Attribute:
    return memref_of(t) if isinstance(t, TensorType) else t


_INDEX_ELEMENTS = "tensors of 'index' elements, which the C ABI has no type for (use i64)"


class BlockLowering:
    """Lowers the ops of one block of red (a function body or a memo body) at the emitter's
    insertion point. Rules read lowered values and make buffers through it."""

    def __init__(self, fn: FunctionLowering, block: Block, dests: dict[SSAValue, SSAValue]):
        self.fn = fn
        self.module = fn.module
        self.block = block
        self.e = fn.e
        self.values = fn.values
        self.dests = dests
        self.plan: BlockPlan = plan_block(block, dests, is_fusable, fn.sizes.dims)
        self.liveness = BufferLiveness()
        self.liveness.writable.update(dests.values())

    # region driver

    def lower(self) -> None:
        """Lower every op but the terminator, freeing buffers after their last use."""
        for op in list(self.block.ops):
            if isinstance(op, func.ReturnOp | red.YieldOp | scf.YieldOp):
                break
            if op in self.plan.fused:
                self.values[op.results[0]] = Fused(op)
                continue
            self.lower_op(op)
            self.plan.note_results(op)
            self.free_dead(self.plan.position[op])

    def lower_op(self, op: Operation) -> None:
        """Apply the op's rule (an elementwise rule writes a buffer with one loop nest)."""
        for r in op.results:
            if not isinstance(r.type, TensorType):
                continue
            if isinstance(r.type.get_element_type(), IndexType):
                raise DiagnosticError.at(op, f"'{op.name}' op makes {_INDEX_ELEMENTS}")
        if _is_scalar_op(op):
            self.lower_scalar_op(op)
        elif (rule := OP_RULES.get(op)) is not None:
            rule(self, op)
        elif type(op) in ELEMENT_RULES:
            self.emit_elementwise(op, self.result_buffer(op))
        else:
            raise DiagnosticError.at(op, f"'{op.name}' op is not supported by the lowering")

    def scalar(self, v: SSAValue) -> SSAValue:
        """The lowered value of scalar `v` (an index, an integer or a float)."""
        return self.fn.scalar(v)

    def can_overwrite(self, v: SSAValue, op: Operation) -> bool:
        """Whether `op` may write into the buffer of tensor `v`: `v` is defined in this
        block and dies at `op`, and its buffer is one this block may overwrite (not an
        argument, a constant or a memo's cache) that no other live value holds."""
        return (
            defined_in(v, self.block)
            and self.plan.dies_at_op(v, op)
            and self.liveness.sole_writable_holder(self.values.get(v))  # type: ignore[arg-type]
        )

    def lower_scalar_op(self, op: Operation) -> None:
        """A copy of `op` on the lowered scalars; a constant is made once per function."""
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr | FloatAttr):
            self.fn.scalars[op.result] = self.e.constant(op.value)
            return
        new = op.clone(value_mapper={v: self.scalar(v) for v in op.operands})
        self.e.op(new)
        for old, lowered in zip(op.results, new.results):
            self.fn.scalars[old] = lowered

    def free_dead(self, position: int) -> None:
        """Free the owned buffers whose values (and views) all die at `position`."""
        dying = self.plan.dies_at.pop(position, [])
        for storage in self.liveness.release([self.values.get(v) for v in dying]):
            self.e.op(memref.DeallocOp.get(storage))

    # endregion driver

    # region buffers

    def define(self, v: SSAValue, lowered: Lowered) -> None:
        """Record what tensor `v` became (an owned buffer lives until `v`'s last use)."""
        self.values[v] = lowered
        self.liveness.define(lowered)

    def alloc(self, v: SSAValue) -> SSAValue:
        """A buffer for `v`: its destination if it is returned, else a new one."""
        if v in self.dests:
            return self.dests[v]
        typ = memref_of(v.type)
        if is_flat(typ):
            count = self.e.bound(self.fn.sizes.elements(v))
            return self.e.op(memref.AllocOp([count], [], typ))
        return self.e.op(memref.AllocOp.get(typ.get_element_type(), shape=typ.get_shape()))

    def result_buffer(self, op: Operation, index: int = 0) -> SSAValue:
        """Allocate (or take the destination of) result `index` of `op` and record it."""
        r = op.results[index]
        mem = self.alloc(r)
        self.define(r, Buffer(mem, owned=r not in self.dests))
        return mem

    def buffer(self, v: SSAValue) -> SSAValue:
        """`v` as a memref (computing a fused value or loading a constant global)."""
        lowered = self.values[v]
        match lowered:
            case Buffer():
                return lowered.mem
            case Const():
                mem = constants.global_buffer(self, v, lowered)
                self.define(v, Buffer(mem))
                return mem
            case Fused():
                dest = self.alloc(v)
                self.emit_elementwise(lowered.op, dest)
                self.define(v, Buffer(dest, owned=v not in self.dests))
                return dest

    def copy(self, v: SSAValue, dest: SSAValue) -> None:
        """dest[i] = v[i] for every index."""
        self.e.loop_nest(self.shape(v), lambda idx: self.store(self.load(v, idx), dest, idx, v))

    # endregion buffers

    # region sizes

    def dims(self, v: SSAValue) -> tuple[Dim, ...]:
        """The dims of tensor `v` (ints, or polynomials in the arguments' `?` sizes)."""
        return self.fn.sizes.dims(v)

    def shape(self, v: SSAValue) -> list[Bound]:
        """The dims of tensor `v` as loop bounds (ints, or index values)."""
        return self.fn.sizes.shape(v)

    def size(self, d: Dim, where: SSAValue | Operation | None = None) -> Bound:
        """Dim `d` as a loop bound."""
        return self.fn.sizes.size(d, where)

    def at(self, mem: SSAValue, idx: list[SSAValue], like: SSAValue) -> list[SSAValue]:
        """The indices of element `idx` of tensor `like` in its buffer `mem` (one linear
        index in a flat buffer)."""
        if is_flat(mem.type):
            return [self.fn.sizes.linear(idx, self.dims(like))]
        return idx

    def store(self, x: SSAValue, mem: SSAValue, idx: list[SSAValue], like: SSAValue) -> None:
        """mem[idx] = x, `mem` holding tensor `like` (or one of its shape)."""
        self.e.op(memref.StoreOp.get(x, mem, self.at(mem, idx, like)))

    def load_from(self, mem: SSAValue, idx: list[SSAValue], like: SSAValue) -> SSAValue:
        """mem[idx], `mem` holding tensor `like` (or one of its shape)."""
        return self.e.op(memref.LoadOp.get(mem, self.at(mem, idx, like)))

    # endregion sizes

    # region scalar reads

    def load(self, v: SSAValue, idx: list[SSAValue]) -> SSAValue:
        """The element of tensor `v` at `idx`, as a scalar."""
        lowered = self.values[v]
        if isinstance(lowered, Fused):
            return self.scalar_of(lowered.op, idx)
        if isinstance(lowered, Const) and lowered.splat:
            return self.e.scalar(lowered.array.reshape(-1)[0].item(), red.element_type_of(v))
        return self.load_from(self.buffer(v), idx, v)

    def operand(self, v: SSAValue, idx: list[SSAValue], result: SSAValue) -> SSAValue:
        """A numpy-broadcast operand's element at index `idx` of `result`."""
        return self.load(v, self.broadcast_index(idx, v, result))

    def broadcast_index(self, idx: list[SSAValue], v: SSAValue, result: SSAValue) -> list[SSAValue]:
        """The index into numpy-broadcast operand `v` at index `idx` of `result`: 0 along
        a dim of size 1; a dynamic dim that may be 1 where the result's is not (another
        polynomial) is chosen at run time."""
        dims, out = self.dims(v), self.dims(result)
        if all(isinstance(d, int) for d in dims):
            return self.e.broadcast_index(idx, dims)  # type: ignore[arg-type]
        offset = len(out) - len(dims)
        e, zero = self.e, self.e.index(0)
        at: list[SSAValue] = []
        for d, n in enumerate(dims):
            i = idx[offset + d]
            if n == 1:
                at.append(zero)
            elif n == out[offset + d]:
                at.append(i)
            else:
                one = e.op(arith.CmpiOp(e.bound(self.size(n, v)), e.index(1), "eq"))
                at.append(e.op(arith.SelectOp(one, zero, i)))
        return at

    def scalar_of(self, op: Operation, idx: list[SSAValue]) -> SSAValue:
        """The value of elementwise `op` at `idx`, by its elementwise rule."""
        rule = ELEMENT_RULES.get(op)
        assert rule is not None, f"'{op.name}' has no elementwise rule"
        return rule(self, op, idx)

    def emit_elementwise(self, op: Operation, dest: SSAValue) -> None:
        """One loop nest storing `op`'s value at every index into `dest`. Leading unit dims
        get no loop (index 0), so the outermost loop is the first dim of extent > 1; when
        the nest is large it is marked `red.parallel` (its iterations write disjoint
        elements: outline-loop-nests makes it a nest the JIT may split over threads)."""
        r = op.results[0]
        shape = self.shape(r)
        lead = 0
        while lead < len(shape) - 1 and shape[lead] == 1:
            lead += 1
        zeros = [self.e.index(0)] * lead

        def body(idx: list[SSAValue]) -> None:
            full = [*zeros, *idx]
            self.store(self.scalar_of(op, full), dest, full, r)

        nest = self.e.loop_nest(shape[lead:], body)
        static = [d for d in shape if isinstance(d, int)]
        if (
            nest is not None
            and len(static) == len(shape)
            and isinstance(first := shape[lead], int)
            and first > 1
            and prod(static) >= PARALLEL_MIN_ELEMENTS
        ):
            nest.attributes[PARALLEL_ATTR] = UnitAttr()

    # endregion scalar reads


SCALAR_DIALECTS = ("arith", "math", "index")
PARALLEL_MIN_ELEMENTS = 1 << 15
"""Elementwise nests of at least this many elements are marked parallel (a region of the
kernel library's pool costs a few µs: about 2^13 elements of a fused chain)."""


def _is_scalar_op(op: Operation) -> bool:
    """An arith/math/index op on scalars (loop bounds, offsets), copied as it is."""
    return (
        op.dialect_name() in SCALAR_DIALECTS
        and not op.regions
        and all(is_scalar_type(v.type) for v in (*op.operands, *op.results))
    )


def convert_module(
    module: ModuleOp, target: Target | None = None, specialize_units: bool = True
) -> None:
    """Replace every function on tensors by its loop-level form (in place). With
    `specialize_units`, a public function with `?` dims also gets its specialization at
    unit sizes (lowering/loops/specialize.py), called when every size is 1."""
    functions = [op for op in module.body.ops if isinstance(op, func.FuncOp)]
    if not any(_on_tensors(f) for f in functions):
        return  # already lowered
    lowering = ModuleLowering(module, target or host_target())
    for fn in functions:
        if not fn.body.blocks:
            raise DiagnosticError.at(
                fn, f"'@{fn.sym_name.data}' is a declaration: the lowering needs bodies"
            )
    units: list[func.FuncOp] = []
    lowered_units: list[func.FuncOp] = []
    if specialize_units:
        for fn in functions:
            name = fn.sym_name.data
            if name in lowering.public and has_dynamic_shapes(fn) and (sizes := unit_sizes(fn)):
                unit = specialize(fn, sizes, f"__red_{name}_unit")
                if unit is None:
                    continue
                try:  # an op the static lowering refuses: the function keeps one body
                    lowered = FunctionLowering(lowering, unit).lower()
                except DiagnosticError:
                    continue
                lowered.attributes[NOINLINE_ATTR] = UnitAttr()
                lowered_units.append(lowered)
                lowering.units[name] = unit
                units.append(unit)
    new_functions = [FunctionLowering(lowering, fn).lower() for fn in functions]
    new_functions += lowered_units
    _check_names(lowering, [*functions, *units], new_functions)
    for fn in functions:
        fn.detach()
        fn.erase(safe_erase=False)
    for g in lowering.globals:
        module.body.block.add_op(g)
    for fn in [*lowering.functions.values(), *new_functions]:
        module.body.block.add_op(fn)
    module.body.block.add_op(memo.memo_reset_function(lowering.memo_flags))


def _check_names(
    lowering: ModuleLowering, functions: list[func.FuncOp], lowered: list[func.FuncOp]
) -> None:
    """No symbol twice. The names the lowering adds (`@red_memo_reset`, `__red_*` helpers and
    globals) come first, then the C names of public functions (`@f` -> `@red_f`, DESIGN.md
    §4), then private functions (which keep theirs): a clash is reported at the later one."""
    taken = {MEMO_RESET: "the memo reset function the lowering exports"}
    taken |= {name: "a function the lowering adds" for name in lowering.functions}
    taken |= {
        g.sym_name.data: "a global the lowering adds"
        for g in lowering.globals
        if isinstance(g, memref.GlobalOp)
    }
    pairs = sorted(zip(functions, lowered), key=lambda pair: is_private(pair[0]))
    for fn, new in pairs:
        name, original = new.sym_name.data, fn.sym_name.data
        if name in taken:
            raise DiagnosticError.at(
                fn, f"'@{original}' lowers to '@{name}', which is also {taken[name]}"
            )
        taken[name] = f"the C name of the public function '@{original}'"


def _on_tensors(fn: func.FuncOp) -> bool:
    return any(
        isinstance(t, TensorType)
        for t in (*fn.function_type.inputs.data, *fn.function_type.outputs.data)
    ) or any(op.dialect_name() == "red" for op in fn.walk())


@dataclass(frozen=True)
class ConvertRedToLoopsPass(ModulePass):
    """red on tensors -> scf/memref/arith/math/vector loop nests in destination-passing
    style; see the module docstring. `vector-bits` (512, 256 or 128) sets the register
    width the matmul kernel is tiled for; 0, the default, takes the host CPU's.
    `specialize-units` (default true): a public function with `?` dims also gets its
    specialization at unit sizes, which its entry calls when every size is 1."""

    name = "convert-red-to-loops"

    vector_bits: int = 0
    specialize_units: bool = True

    def __post_init__(self) -> None:
        if self.vector_bits not in (0, 128, 256, 512):
            raise ValueError(f"'vector-bits' must be 0, 128, 256 or 512, got {self.vector_bits}")

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = Target.with_vector_bits(self.vector_bits) if self.vector_bits else None
        with gc_paused():
            convert_module(op, target, self.specialize_units)
