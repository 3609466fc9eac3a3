"""The llvmlite builder layer the kernels share: types, counted loops with carried values,
vector splats, masks, masked loads and stores, horizontal reductions, intrinsic declarations
and the function attributes every kernel gets. Only what llvm-as-16 parses is emitted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import llvmlite.ir as ir

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

# llvmlite's values: Value declares no `type`, which every instance has.
Value = Any
Body = Callable[[Value, list[Value]], Sequence[Value] | None]


def elt_bytes(elt: ir.Type) -> int:
    return 8 if isinstance(elt, ir.DoubleType) else 4


def elt_suffix(elt: ir.Type) -> str:
    return "f64" if isinstance(elt, ir.DoubleType) else "f32"


def type_suffix(t: ir.Type) -> str:
    """LLVM's intrinsic name mangling of a type: f32, v16f32, v16i1, p0."""
    if isinstance(t, ir.VectorType):
        return f"v{t.count}{type_suffix(t.element)}"
    if isinstance(t, ir.PointerType):
        return "p0"
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    return {"float": "f32", "double": "f64"}[str(t)]


def intrinsic(module: ir.Module, name: str, ret: ir.Type, args: Sequence[ir.Type]) -> ir.Function:
    """The declaration of intrinsic `name` (already mangled), created once per module."""
    existing = module.globals.get(name)
    if isinstance(existing, ir.Function):
        return existing
    return ir.Function(module, ir.FunctionType(ret, list(args)), name)


def get_or_declare(
    module: ir.Module, name: str, ret: ir.Type, args: Sequence[ir.Type], weak: bool = False
) -> ir.Function:
    """An external function: the module's own if it has one, else a new declaration
    (`extern_weak` when `weak`: null at run time where nothing defines it)."""
    existing = module.globals.get(name)
    if isinstance(existing, ir.Function):
        return existing
    fn = ir.Function(module, ir.FunctionType(ret, list(args)), name)
    if weak:
        fn.linkage = "extern_weak"
    return fn


def define(
    module: ir.Module,
    name: str,
    ret: ir.Type,
    args: Sequence[tuple[str, ir.Type]],
    internal: bool = True,
    vector_bits: int = 0,
) -> ir.Function:
    """A new function, or the body of an existing declaration with the same type (so a module
    that already declares an entry point gets the definition in place)."""
    fnty = ir.FunctionType(ret, [t for _, t in args])
    existing = module.globals.get(name)
    if isinstance(existing, ir.Function) and existing.is_declaration:
        if existing.function_type != fnty:
            raise ValueError(f"'{name}' is declared as {existing.function_type}, not {fnty}")
        fn = existing
        fn.linkage = ""
    else:
        fn = ir.Function(module, fnty, name)
    if internal:
        fn.linkage = "internal"
    fn.attributes.add("nounwind")
    if vector_bits > 128:
        # Without it an x86 CPU tuned to prefer 256-bit vectors may split 512-bit operations
        # (clang sets it for functions using vector intrinsics). llvmlite only knows the
        # keyword attributes, so the string attribute bypasses its check.
        set.add(fn.attributes, f'"min-legal-vector-width"="{vector_bits}"')
    for arg, (arg_name, _) in zip(fn.args, args):
        arg.name = arg_name
    return fn


class Gen:
    """An IRBuilder positioned in `fn`, with loops and vector helpers."""

    def __init__(self, fn: ir.Function):
        self.fn = fn
        self.module: ir.Module = fn.module
        # Any: llvmlite's builder methods are wrapped by decorators that hide their types.
        self.b: Any = ir.IRBuilder(fn.append_basic_block("entry"))

    # region Scalars

    @staticmethod
    def i64(value: int) -> ir.Constant:
        return ir.Constant(I64, value)

    @staticmethod
    def i32(value: int) -> ir.Constant:
        return ir.Constant(I32, value)

    def alloca(self, ty: ir.Type, count: int = 1) -> Value:
        """Stack space in the entry block (a fixed frame slot, even when asked for in a loop)."""
        block = self.b.block
        entry = self.fn.entry_basic_block
        self.b.position_at_start(entry)
        slot = self.b.alloca(ty, size=count if count > 1 else None)
        # llvmlite types the result `ty*`, which prints as a typed pointer; LLVM wants `ptr`.
        slot.type = PTR
        self.b.position_at_end(block)
        return slot

    def min(self, a: Value, b: Value) -> Value:
        return self.b.select(self.b.icmp_signed("<", a, b), a, b)

    def max(self, a: Value, b: Value) -> Value:
        return self.b.select(self.b.icmp_signed(">", a, b), a, b)

    def ceil_div(self, a: Value, b: Value) -> Value:
        return self.b.sdiv(self.b.add(a, self.b.sub(b, self.i64(1))), b)

    def round_up(self, a: Value, step: Value | int) -> Value:
        step = self.i64(step) if isinstance(step, int) else step
        return self.b.mul(self.ceil_div(a, step), step)

    def offset(self, base: Value, index: Value, elt: ir.Type) -> Value:
        """&base[index] for elements of type `elt`."""
        return self.b.gep(base, [index], source_etype=elt)

    def load(self, base: Value, index: Value, elt: ir.Type) -> Value:
        return self.b.load(self.offset(base, index, elt), typ=elt)

    def store(self, value: Value, base: Value, index: Value) -> None:
        self.b.store(value, self.offset(base, index, value.type))

    # endregion Scalars

    # region Control flow

    def loop(
        self,
        lo: Value | int,
        hi: Value,
        step: Value | int,
        body: Body,
        carried: Sequence[Value] = (),
        name: str = "loop",
    ) -> list[Value]:
        """for (i = lo; i < hi; i += step) with values carried through iterations: `body(i,
        values)` returns the next values; the result is their final value."""
        b = self.b
        lo = self.i64(lo) if isinstance(lo, int) else lo
        step = self.i64(step) if isinstance(step, int) else step
        pre = b.block
        header = b.append_basic_block(f"{name}.header")
        block = b.append_basic_block(f"{name}.body")
        exit_ = b.append_basic_block(f"{name}.exit")
        b.branch(header)
        b.position_at_end(header)
        i = b.phi(I64, name=f"{name}.i")
        i.add_incoming(lo, pre)
        phis = [b.phi(v.type) for v in carried]
        for phi, v in zip(phis, carried):
            phi.add_incoming(v, pre)
        b.cbranch(b.icmp_signed("<", i, hi), block, exit_)
        b.position_at_end(block)
        out = body(i, list(phis))
        nxt = b.add(i, step)
        latch = b.block
        b.branch(header)
        i.add_incoming(nxt, latch)
        for phi, v in zip(phis, out or []):
            phi.add_incoming(v, latch)
        b.position_at_end(exit_)
        return list(phis)

    def if_then(self, cond: Value, then: Callable[[], object], likely: bool | None = None) -> None:
        with self.b.if_then(cond, likely=likely):
            then()

    def if_else(self, cond: Value, then: Callable[[], object], other: Callable[[], object]) -> None:
        with self.b.if_else(cond) as (then_block, else_block):
            with then_block:
                then()
            with else_block:
                other()

    # endregion Control flow

    # region Vectors

    @staticmethod
    def vec(elt: ir.Type, lanes: int) -> ir.VectorType:
        return ir.VectorType(elt, lanes)

    def splat(self, value: Value, lanes: int) -> Value:
        b = self.b
        vty = ir.VectorType(value.type, lanes)
        one = b.insert_element(ir.Constant(vty, ir.Undefined), value, self.i32(0))
        return b.shuffle_vector(
            one, ir.Constant(vty, ir.Undefined), ir.Constant(ir.VectorType(I32, lanes), [0] * lanes)
        )

    @staticmethod
    def const_vec(elt: ir.Type, lanes: int, value: float | int) -> ir.Constant:
        return ir.Constant(ir.VectorType(elt, lanes), [value] * lanes)

    def mask_below(self, count: Value, lanes: int, first: int = 0) -> Value:
        """<lanes x i1>: lane l is set when first + l < count."""
        iota = ir.Constant(ir.VectorType(I64, lanes), [first + lane for lane in range(lanes)])
        return self.b.icmp_signed("<", iota, self.splat(count, lanes))

    def vload(self, base: Value, index: Value, vty: ir.VectorType, align: int = 4) -> Value:
        ptr = self.offset(base, index, vty.element)
        return self.b.load(ptr, typ=vty, align=align)

    def vstore(self, value: Value, base: Value, index: Value, align: int = 4) -> None:
        ptr = self.offset(base, index, value.type.element)
        self.b.store(value, ptr, align=align)

    def masked_load(
        self, base: Value, index: Value, vty: ir.VectorType, mask: Value, align: int = 4
    ) -> Value:
        """Lanes where `mask` is clear read nothing and are 0."""
        fn = intrinsic(
            self.module,
            f"llvm.masked.load.{type_suffix(vty)}.p0",
            vty,
            [PTR, I32, ir.VectorType(I1, vty.count), vty],
        )
        ptr = self.offset(base, index, vty.element)
        return self.b.call(fn, [ptr, self.i32(align), mask, ir.Constant(vty, None)])

    def masked_store(
        self, value: Value, base: Value, index: Value, mask: Value, align: int = 4
    ) -> None:
        vty = value.type
        fn = intrinsic(
            self.module,
            f"llvm.masked.store.{type_suffix(vty)}.p0",
            VOID,
            [vty, PTR, I32, ir.VectorType(I1, vty.count)],
        )
        self.b.call(fn, [value, self.offset(base, index, vty.element), self.i32(align), mask])

    def fma(self, a: Value, b: Value, c: Value) -> Value:
        """a*b + c with one rounding."""
        fn = intrinsic(self.module, f"llvm.fma.{type_suffix(a.type)}", a.type, [a.type] * 3)
        return self.b.call(fn, [a, b, c])

    def sqrt(self, x: Value) -> Value:
        fn = intrinsic(self.module, f"llvm.sqrt.{type_suffix(x.type)}", x.type, [x.type])
        return self.b.call(fn, [x])

    def fmax(self, a: Value, b: Value) -> Value:
        """a > b ? a : b (b when either is NaN; callers that need NaN propagate it otherwise)."""
        return self.b.select(self.b.fcmp_ordered(">", a, b), a, b)

    def reduce(self, v: Value, combine: Callable[[Value, Value], Value]) -> Value:
        """Fold the lanes of v pairwise (halves, then quarters, ...) to a scalar."""
        b = self.b
        n = v.type.count
        while n > 1:
            half = n // 2
            lo = b.shuffle_vector(v, v, ir.Constant(ir.VectorType(I32, half), list(range(half))))
            hi = b.shuffle_vector(v, v, ir.Constant(ir.VectorType(I32, half), list(range(half, n))))
            v = combine(lo, hi)
            n = half
        return b.extract_element(v, self.i32(0))

    def transpose(self, rows: Sequence[Value]) -> list[Value]:
        """The n x n transpose of n vectors of n lanes (n a power of two) in log2(n) rounds of
        two-input shuffles: each round swaps the off-diagonal d x d blocks of every 2d x 2d
        block, for d = n/2, n/4, ..., 1."""
        n = len(rows)
        assert n & (n - 1) == 0, f"transpose of {n} vectors: not a power of two"
        assert all(r.type.count == n for r in rows), "transpose: vectors of other lengths"
        out = list(rows)
        d = n // 2
        while d >= 1:
            for i in range(n):
                if i & d:
                    continue
                a, c = out[i], out[i + d]
                # lo = [a's block, c's block] at block-even positions; hi the odd ones.
                lo = [j if not j & d else n + j - d for j in range(n)]
                hi = [j + d if not j & d else n + j for j in range(n)]
                mask_ty = ir.VectorType(I32, n)
                out[i] = self.b.shuffle_vector(a, c, ir.Constant(mask_ty, lo))
                out[i + d] = self.b.shuffle_vector(a, c, ir.Constant(mask_ty, hi))
            d //= 2
        return out

    # endregion Vectors
