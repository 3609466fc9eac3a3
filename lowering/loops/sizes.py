"""Run-time sizes of a function with `?` dims (issue 12), for convert-red-to-loops.

Every dim of every tensor of the function is an integer polynomial in the symbols of its
arguments' `?` dims (dialects/symbolic_shapes.py: `seq`, `12*seq`, `seq - 1`). The lowered
function receives each `?` dim of each tensor argument as an i64 after the argument's
pointer (the sized ABI); a symbol is one `index` value for the whole function, taken from
the first argument dim that has it. A polynomial is computed once, in the function's entry
block, from those values, so that it dominates every use. The entry block also checks the
sizes: two argument dims with one symbol are equal, and every size the function computes is
non-negative; the function returns 1 without touching its results when a check fails, else
0 after computing them.

A tensor with a `?` dim lives in a flat buffer (`memref<?xT>`, its element count as the
dynamic size): accesses are linearised here from the tensor's sizes (row-major), so that
the llvm level only sees 1-D dynamic memrefs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.builder import Builder
from xdsl.dialects import arith, cf, func, memref
from xdsl.dialects.builtin import (
    FunctionType,
    MemRefType,
    TensorType,
    i1,
    i32,
    i64,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.dims import Dim, Poly, product
from red.dialects.symbolic_shapes import SymbolicShapes
from red.lowering.loops.emitter import INDEX, Bound, Emitter


def is_flat(typ: object) -> bool:
    """Whether a buffer type is the flat form of a tensor with `?` dims."""
    return isinstance(typ, MemRefType) and red.DYNAMIC in typ.get_shape()


def dynamic_dims(typ: object) -> list[int]:
    """The positions of the `?` dims of a tensor type (none for other types)."""
    if not isinstance(typ, TensorType):
        return []
    return [j for j, d in enumerate(typ.get_shape()) if d == red.DYNAMIC]


class Sizes:
    """The dims of a function's tensors, as polynomials (`dims`) and as loop bounds
    (`shape`: an int where static, else an `index` value computed in the entry block)."""

    def __init__(self, shapes: SymbolicShapes | None, e: Emitter):
        self.shapes = shapes
        self.e = e
        self.symbols: dict[str, SSAValue] = {}
        self._values: dict[Poly, SSAValue] = {}
        self._as_i64: dict[SSAValue, SSAValue] = {}
        self._prologue: Block | None = None

    @property
    def dynamic(self) -> bool:
        return self.shapes is not None

    def dims(self, v: SSAValue) -> tuple[Dim, ...]:
        """The dims of tensor `v`: ints, or polynomials in the arguments' symbols."""
        if self.shapes is None or red.DYNAMIC not in red.shape_of(v):
            return tuple(red.shape_of(v))
        return self.shapes.of(v)

    def shape(self, v: SSAValue) -> list[Bound]:
        """The dims of tensor `v` as loop bounds."""
        return [self.size(d, v) for d in self.dims(v)]

    def size(self, d: Dim, where: SSAValue | Operation | None = None) -> Bound:
        """`d` as a loop bound: the int, or the index value of the polynomial."""
        if isinstance(d, int):
            return d
        if (found := self._values.get(d)) is not None:
            return found
        unknown = [s for s in d.symbols if s not in self.symbols]
        if unknown:
            owner = where.owner if isinstance(where, SSAValue) else where
            op = owner if isinstance(owner, Operation) else None
            raise DiagnosticError.at(
                op if op is not None else self.e.entry.parent_op(),  # type: ignore[arg-type]
                f"'{op.name if op else 'func.func'}' op has a dynamic size the lowering cannot "
                f"compute from the arguments' sizes ('{d}')",
            )
        total: SSAValue | None = None
        for mono, coef in sorted(d.terms.items()):
            term: SSAValue | None = None
            for s, p in mono:
                for _ in range(p):
                    x = self.symbols[s]
                    term = x if term is None else self._prologue_op(arith.MuliOp(term, x))
            if term is None:
                term = self.e.index(coef)
            elif coef != 1:
                term = self._prologue_op(arith.MuliOp(term, self.e.index(coef)))
            total = term if total is None else self._prologue_op(arith.AddiOp(total, term))
        assert total is not None
        self._values[d] = total
        return total

    def _prologue_op(self, op: Operation) -> SSAValue:
        """Append `op` to the entry block (whose branch to the body comes last)."""
        assert self._prologue is not None
        self._prologue.add_op(op)
        return op.results[0]

    def elements(self, v: SSAValue) -> Bound:
        """The element count of tensor `v`."""
        return self.size(product(self.dims(v)), v)

    def strides(self, dims: Sequence[Dim], where: SSAValue | None = None) -> list[Bound]:
        """Row-major strides (in elements) of a tensor of `dims`."""
        return [self.size(product(dims[d + 1 :]), where) for d in range(len(dims))]

    def linear(self, idx: Sequence[SSAValue], dims: Sequence[Dim]) -> SSAValue:
        """The row-major linear index of `idx` in a tensor of `dims`."""
        e = self.e
        total: SSAValue | None = None
        for i, stride in zip(idx, self.strides(dims)):
            term = e.mul_index(i, stride)
            total = term if total is None else e.op(arith.AddiOp(total, term))
        return total if total is not None else e.index(0)

    # region entry

    def bind_arguments(
        self, prologue: Block, dims: Sequence[tuple[str, SSAValue]], checks: SizeChecks
    ) -> SSAValue:
        """Bind the symbols of the argument dims (`(symbol, i64 value)` in ABI order) in
        `prologue`; the i1 that holds when the sizes are consistent: repeated symbols
        equal, and `checks` hold."""
        self._prologue = prologue
        ok: SSAValue | None = None

        def both(c: SSAValue) -> None:
            nonlocal ok
            ok = c if ok is None else self._prologue_op(arith.AndIOp(ok, c))

        def cmp(a: Dim, b: Dim, predicate: str) -> SSAValue:
            x, y = self.e.bound(self.size(a)), self.e.bound(self.size(b))
            return self._prologue_op(arith.CmpiOp(x, y, predicate))

        for symbol, raw in dims:
            value = self._prologue_op(arith.IndexCastOp(raw, INDEX))
            if symbol in self.symbols:
                both(self._prologue_op(arith.CmpiOp(self.symbols[symbol], value, "eq")))
            else:
                self.symbols[symbol] = value
                both(cmp(Poly.symbol(symbol), 0, "sge"))
        known = self.symbols.keys()
        for d in checks.non_negative:
            if isinstance(d, Poly) and d.symbols <= known:
                both(cmp(d, 0, "sge"))
        for a, b, or_one, _ in checks.equal:
            if _symbols(a) <= known and _symbols(b) <= known:
                same = cmp(a, b, "eq")
                both(self._prologue_op(arith.OrIOp(same, cmp(a, 1, "eq"))) if or_one else same)
        return ok if ok is not None else self.e.scalar(1, i1)

    def as_i64(self, d: Dim) -> SSAValue:
        """`d` as an i64 (an argument of a kernel call or a stored size)."""
        b = self.size(d)
        if isinstance(b, int):
            return self.e.scalar(b, i64)
        if (found := self._as_i64.get(b)) is None:
            found = self._as_i64[b] = self._prologue_op(arith.IndexCastOp(b, i64))
        return found

    # endregion entry


def _is_symbol(d: Poly) -> bool:
    """Whether `d` is one symbol (an argument's size, checked where it is bound)."""
    return len(d.symbols) == 1 and d == Poly.symbol(next(iter(d.symbols)))


@dataclass
class SizeChecks:
    """What the sizes of a call must satisfy beyond the signature, each with the first op
    that needs it: polynomials that must be non-negative, and pairs of dims that must be
    equal (or the first 1: a numpy broadcast)."""

    non_negative: dict[Dim, Operation] = field(default_factory=dict[Dim, Operation])
    equal: list[tuple[Dim, Dim, bool, Operation]] = field(
        default_factory=list[tuple[Dim, Dim, bool, Operation]]
    )

    def need(self, d: Dim, op: Operation) -> None:
        if isinstance(d, Poly) and not _is_symbol(d):
            self.non_negative.setdefault(d, op)

    def same(self, a: Dim, b: Dim, op: Operation, or_one: bool = False) -> None:
        if a != b and not (or_one and a == 1) and (isinstance(a, Poly) or isinstance(b, Poly)):
            self.equal.append((a, b, or_one, op))


def size_checks(fn: func.FuncOp, shapes: SymbolicShapes) -> SizeChecks:
    """The checks of a function's sizes: every dynamic dim of a tensor it computes is
    non-negative, and so is what reading inside a dynamic dim takes (a slice's limit, a
    dynamic slice's or update's size, a gathered table's one row, an argmax's one element);
    dims the lowering reads as one are equal (an elementwise operand's and its result's, up
    to a broadcast of 1; a matmul's contracted dims; a concat's other dims; a reshape's
    element counts). Conservative: an
    op in a loop body that runs zero times still counts."""
    checks = SizeChecks()
    for op in fn.walk():
        for r in op.results:
            if isinstance(r.type, TensorType):
                for d in shapes.of(r):
                    checks.need(d, op)
        _op_checks(op, shapes, checks)
    return checks


def _op_checks(op: Operation, shapes: SymbolicShapes, checks: SizeChecks) -> None:
    if isinstance(op, red.SliceOp):
        _, limit, _ = op.bounds
        for n, hi in zip(shapes.of(op.input), limit):
            checks.need(n - hi, op)  # type: ignore[operator]
    elif isinstance(op, red.DynamicSliceOp | red.DynamicUpdateSliceOp):
        sizes = op.size_list if isinstance(op, red.DynamicSliceOp) else shapes.of(op.update)
        for n, size in zip(shapes.of(op.input), sizes):
            checks.need(n - size, op)  # type: ignore[operator]
    elif isinstance(op, red.GatherOp):
        checks.need(shapes.of(op.table)[op.axis.value.data] - 1, op)  # type: ignore[operator]
    elif isinstance(op, red.ArgmaxOp):  # the first element is the start
        checks.need(shapes.of(op.input)[op.axis.value.data] - 1, op)  # type: ignore[operator]
    elif isinstance(op, red.BinaryElementwiseOp | red.SelectOp | red.BroadcastToOp):
        out = shapes.of(op.results[0])
        for v in op.operands:
            dims = shapes.of(v)
            for d, r in zip(dims, out[len(out) - len(dims) :]):
                checks.same(d, r, op, or_one=True)
    elif isinstance(op, red.UnaryElementwiseOp | red.CastOp):
        for d, r in zip(shapes.of(op.operands[0]), shapes.of(op.results[0])):
            checks.same(d, r, op)
    elif isinstance(op, red.MatmulOp):
        lhs, rhs = shapes.of(op.lhs), shapes.of(op.rhs)
        if len(lhs) >= 2 and len(rhs) >= 2:
            checks.same(lhs[-1], rhs[-2], op)
    elif isinstance(op, red.ReshapeOp):
        checks.same(product(shapes.of(op.input)), product(shapes.of(op.result)), op)
    elif isinstance(op, red.ConcatOp):
        out, axis = shapes.of(op.result), op.axis.value.data
        for v in op.inputs:
            for d, (n, r) in enumerate(zip(shapes.of(v), out)):
                if d != axis:
                    checks.same(n, r, op)


def _symbols(d: Dim) -> set[str]:
    return d.symbols if isinstance(d, Poly) else set()


def result_shape_name(name: str) -> str:
    """The C symbol of the result-shape function of public function `name`."""
    return f"red_{name}_result_shape"


def result_shape_function(fn: func.FuncOp) -> func.FuncOp:
    """`int32_t red_f_result_shape(const int64_t *in_dims, int64_t *out_dims)`: from the
    `?` dims of the arguments (in the order `red_f` takes them), every dim of every result,
    result after result; 1 (nothing written) when the sizes are inconsistent, else 0."""
    shapes = SymbolicShapes(fn)
    flat = MemRefType(i64, [red.DYNAMIC])
    entry, body, fail = Block(arg_types=[flat, flat]), Block(), Block()
    in_dims, out_dims = entry.args
    in_dims.name_hint, out_dims.name_hint = "in_dims", "out_dims"
    e = Emitter(Builder(InsertPoint.at_end(body)), entry)
    sizes = Sizes(shapes, e)
    loaded: list[tuple[str, SSAValue]] = []
    for arg in fn.body.block.args:
        for j in dynamic_dims(arg.type):
            symbol = shapes.of(arg)[j]
            assert isinstance(symbol, Poly)
            load = memref.LoadOp.get(in_dims, [e.index(len(loaded))])
            entry.add_op(load)
            loaded.append((next(iter(symbol.symbols)), load.res))
    ok = sizes.bind_arguments(entry, loaded, size_checks(fn, shapes))
    ret = fn.body.block.last_op
    assert isinstance(ret, func.ReturnOp)
    k = 0
    for v in ret.arguments:
        for d in sizes.dims(v):
            e.op(memref.StoreOp.get(sizes.as_i64(d), out_dims, [e.index(k)]))
            k += 1
    body.add_op(func.ReturnOp(e.scalar(0, i32)))
    fail.add_op(func.ReturnOp(e.scalar(1, i32)))
    entry.add_op(cf.ConditionalBranchOp(ok, body, [], fail, []))
    return func.FuncOp(
        result_shape_name(fn.sym_name.data),
        FunctionType.from_lists([flat, flat], [i32]),
        Region([entry, body, fail]),
    )
