"""Constant weights packed once: a registry of address ranges whose bytes do not change (a
JIT-compiled module's large constants, registered by lowering/constant_binding.py) and a cache
of B operands packed from them, so a matmul whose B lies in such a range streams panels packed
on its first call (as onnxruntime's MLAS prepacks constant weights at session creation) instead
of packing B again in every call.

Per gemm unit (red_sgemm, red_dgemm), in the unit's own globals:

    {prefix}_register_constant(base, bytes, precision) / {prefix}_unregister_constant(base,
        bytes, precision)
        add / remove a range (removing frees the packs made from it); precision 1 asks that
        matmuls reading B from the range multiply in bf16 (where the unit has a bf16 path),
        0 in the unit's own type;
    {prefix}.constant_packed(b, rs, cs, k, n, threads, want, used) -> packed B or null
        the pack of B (k x n at b with element strides rs, cs >= 0) when all of B lies in a
        registered range: found by (b, k, n, rs, cs, precision), else packed now and kept.
        The precision is `want` when it is >= 0, else the range's; it is stored at `used`
        (an i32); want = -2 packs (and returns) only from a range in bf16. The layout is
        {prefix}_pack_b's (precision 0) or the bf16 pack's for this unit's blocking, so a
        cache never mixes blockings or precisions;
    {prefix}_constant_packs() -> the number of packs held (for tests and reports).

A range is a singly linked list node [next, lo, hi, packs, precision] and a pack one of [next,
b, k, n, rs, cs, packed, precision] (8-byte fields, blocks from the runtime's malloc). One spin
lock per unit (an atomic compare-and-swap, sched_yield while it is taken) guards both lists:
calls only look up under it, and the first call of a shape packs under it, so two threads never
pack the same B twice. The caller keeps the ranges' bytes alive and unchanged while they are
registered."""

from __future__ import annotations

from typing import Any

import llvmlite.ir as ir

from red.lowering.kernels.irgen import I32, I64, PTR, VOID, Gen, Value, define, get_or_declare
from red.lowering.kernels.parallel import Runtime

RANGE_FIELDS = 5  # next, lo, hi, packs, precision
PACK_FIELDS = 8  # next, b, k, n, rs, cs, packed, precision
PRECISIONS = {"f32": 0, "bf16": 1}
"""The precisions a constant range may ask its matmuls for (bf16: products of bf16-rounded
operands accumulated in f32, where the target has AVX512-BF16)."""


def register_args() -> list[tuple[str, ir.Type]]:
    """The arguments of red_{s,d}gemm_{register,unregister}_constant, in order."""
    return [("base", PTR), ("bytes", I64), ("precision", I32)]


class ConstantPacks:
    """Emits the registry and the pack cache of one gemm unit (see the module docstring)."""

    def __init__(
        self,
        rt: Runtime,
        prefix: str,
        eb: int,
        packers: list[tuple[ir.Function, ir.Function]],
        bits: int,
    ):
        self.rt = rt
        self.module = rt.module
        self.prefix = prefix
        self.eb = eb  # bytes of an element of B
        # By precision: (pack_b(k, n, b, rs, cs, dst, nthreads), packed_b_size(k, n) in
        # bytes); a precision without a packer of its own (no bf16 path) packs as 0.
        self.packers = packers
        self.bits = bits
        self.ranges = self._global(f"{prefix}.constant_ranges", I64, ir.Constant(I64, 0))
        self.lock_word = self._global(f"{prefix}.constant_lock", I32, ir.Constant(I32, 0))
        self.sched_yield = get_or_declare(self.module, "sched_yield", I32, [])
        self.lock_fn = self._lock()
        self.unlock_fn = self._unlock()

    def _global(self, name: str, ty: ir.Type, init: ir.Constant) -> Any:
        var: Any = ir.GlobalVariable(self.module, ty, name)
        var.initializer = init
        var.linkage = "internal"
        var.align = 8
        return var

    def _define(self, name: str, ret: ir.Type, args: list[tuple[str, ir.Type]], internal=True):
        return define(self.module, name, ret, args, internal=internal, vector_bits=self.bits)

    def build(self) -> ir.Function:
        """The entry points; returns the internal lookup that the matmul calls."""
        self.register()
        self.unregister()
        self.count()
        return self.lookup()

    # region Lock and list helpers

    def _lock(self) -> ir.Function:
        fn = self._define(f"{self.prefix}.constant_lock_acquire", VOID, [])
        g = Gen(fn)
        spin = g.b.append_basic_block("spin")
        wait = g.b.append_basic_block("wait")
        done = g.b.append_basic_block("done")
        g.b.branch(spin)
        g.b.position_at_end(spin)
        pair = g.b.cmpxchg(self.lock_word, g.i32(0), g.i32(1), "acquire", "monotonic")
        g.b.cbranch(g.b.extract_value(pair, 1), done, wait)
        g.b.position_at_end(wait)
        g.b.call(self.sched_yield, [])
        g.b.branch(spin)
        g.b.position_at_end(done)
        g.b.ret_void()
        return fn

    def _unlock(self) -> ir.Function:
        fn = self._define(f"{self.prefix}.constant_lock_release", VOID, [])
        g = Gen(fn)
        g.b.store_atomic(g.i32(0), self.lock_word, "release", 4)
        g.b.ret_void()
        return fn

    @staticmethod
    def field(g: Gen, node: Value, index: int) -> Value:
        return g.load(node, g.i64(index), I64)

    @staticmethod
    def set_field(g: Gen, node: Value, index: int, value: Value) -> None:
        g.store(value, node, g.i64(index))

    @staticmethod
    def as_ptr(g: Gen, value: Value) -> Value:
        return g.b.inttoptr(value, PTR)

    @staticmethod
    def as_int(g: Gen, value: Value) -> Value:
        return g.b.ptrtoint(value, I64)

    def walk(self, g: Gen, first: Value, visit) -> None:
        """for (node = first; node; node = next) visit(node, exit_block), next read before the
        visit (which may free the node): `visit` may branch to `exit_block` to stop (it must
        leave its block open to continue)."""
        slot = g.alloca(PTR)
        g.b.store(first, slot)
        header = g.b.append_basic_block("walk.header")
        body = g.b.append_basic_block("walk.body")
        exit_ = g.b.append_basic_block("walk.exit")
        g.b.branch(header)
        g.b.position_at_end(header)
        node = g.b.load(slot, typ=PTR)
        g.b.cbranch(g.b.icmp_unsigned("==", node, ir.Constant(PTR, None)), exit_, body)
        g.b.position_at_end(body)
        g.b.store(self.as_ptr(g, self.field(g, node, 0)), slot)  # before `visit` frees node
        visit(node, exit_)
        g.b.branch(header)
        g.b.position_at_end(exit_)

    # endregion Lock and list helpers

    # region Entry points

    def register(self) -> None:
        fn = self._define(f"{self.prefix}_register_constant", VOID, register_args(), False)
        g = Gen(fn)
        base, size, precision = fn.args
        node = g.b.call(self.rt.malloc, [g.i64(8 * RANGE_FIELDS)])
        lo = self.as_int(g, base)
        g.b.call(self.lock_fn, [])
        self.set_field(g, node, 0, g.b.load(self.ranges, typ=I64))
        self.set_field(g, node, 1, lo)
        self.set_field(g, node, 2, g.b.add(lo, size))
        self.set_field(g, node, 3, g.i64(0))
        self.set_field(g, node, 4, g.b.sext(precision, I64))
        g.b.store_atomic(self.as_int(g, node), self.ranges, "release", 8)
        g.b.call(self.unlock_fn, [])
        g.b.ret_void()

    def unregister(self) -> None:
        """Unlink the first range [base, base + bytes) of that precision and free it and its
        packs."""
        fn = self._define(f"{self.prefix}_unregister_constant", VOID, register_args(), False)
        g = Gen(fn)
        base, size, precision = fn.args
        lo = self.as_int(g, base)
        hi = g.b.add(lo, size)
        g.b.call(self.lock_fn, [])
        # `link` is the address of the pointer to the current node (the head, then a next).
        link = g.alloca(PTR)
        g.b.store(self.ranges, link)

        def per_range(node: Value, exit_: ir.Block) -> None:
            same = g.b.and_(
                g.b.icmp_unsigned("==", self.field(g, node, 1), lo),
                g.b.icmp_unsigned("==", self.field(g, node, 2), hi),
            )
            same_precision = g.b.icmp_signed("==", self.field(g, node, 4), g.b.sext(precision, I64))
            same = g.b.and_(same, same_precision)
            with g.b.if_else(same) as (then, other):
                with then:
                    g.b.store(self.field(g, node, 0), g.b.load(link, typ=PTR))
                    packs = self.as_ptr(g, self.field(g, node, 3))
                    self.walk(g, packs, free_pack)
                    g.b.call(self.rt.free, [node])
                    g.b.branch(exit_)
                    g.b.position_at_end(g.b.append_basic_block("unreachable.after"))
                with other:
                    g.b.store(node, link)  # a node's first field is its next pointer

        def free_pack(pack: Value, _exit: ir.Block) -> None:
            g.b.call(self.rt.free, [self.as_ptr(g, self.field(g, pack, 6))])
            g.b.call(self.rt.free, [pack])

        self.walk(g, self.as_ptr(g, g.b.load(self.ranges, typ=I64)), per_range)
        g.b.call(self.unlock_fn, [])
        g.b.ret_void()

    def count(self) -> None:
        fn = self._define(f"{self.prefix}_constant_packs", I64, [], False)
        g = Gen(fn)
        total = g.alloca(I64)
        g.b.store(g.i64(0), total)
        g.b.call(self.lock_fn, [])

        def per_range(node: Value, _exit: ir.Block) -> None:
            def per_pack(_pack: Value, _e: ir.Block) -> None:
                g.b.store(g.b.add(g.b.load(total, typ=I64), g.i64(1)), total)

            self.walk(g, self.as_ptr(g, self.field(g, node, 3)), per_pack)

        self.walk(g, self.as_ptr(g, g.b.load(self.ranges, typ=I64)), per_range)
        g.b.call(self.unlock_fn, [])
        g.b.ret(g.b.load(total, typ=I64))

    def lookup(self) -> ir.Function:
        """`{prefix}.constant_packed(b, rs, cs, k, n, threads, want, used)`: see the module
        docstring."""
        args = [("b", PTR), ("rs", I64), ("cs", I64), ("k", I64), ("n", I64), ("threads", I64)]
        args += [("want", I32), ("used", PTR)]
        fn = self._define(f"{self.prefix}.constant_packed", PTR, args)
        g = Gen(fn)
        b, rs, cs, k, n, threads, want, used = fn.args
        null = ir.Constant(PTR, None)
        head = g.b.load_atomic(self.ranges, "acquire", 8, typ=I64)
        none_registered = g.b.icmp_unsigned("==", head, g.i64(0))
        negative = g.b.or_(g.b.icmp_signed("<", rs, g.i64(0)), g.b.icmp_signed("<", cs, g.i64(0)))
        with g.b.if_then(g.b.or_(none_registered, negative), likely=False):
            g.b.ret(null)
        lo = self.as_int(g, b)
        last = g.b.add(g.b.mul(g.b.sub(k, g.i64(1)), rs), g.b.mul(g.b.sub(n, g.i64(1)), cs))
        hi = g.b.add(lo, g.b.mul(g.b.add(last, g.i64(1)), g.i64(self.eb)))
        result = g.alloca(PTR)
        g.b.store(null, result)
        g.b.call(self.lock_fn, [])

        def per_range(node: Value, exit_: ir.Block) -> None:
            inside = g.b.and_(
                g.b.icmp_unsigned("<=", self.field(g, node, 1), lo),
                g.b.icmp_unsigned("<=", hi, self.field(g, node, 2)),
            )
            with g.b.if_then(inside):
                own = g.b.trunc(self.field(g, node, 4), I32)
                precision = g.b.select(g.b.icmp_signed("<", want, g.i32(0)), own, want)
                if len(self.packers) < 2:  # no bf16 path: every pack is in the unit's type
                    precision = g.i32(0)
                g.b.store(precision, used)
                # want = -2: only a range in bf16 is packed (the matrix-vector path reads an
                # f32 B as it is: no second copy of the weights for it).
                any_precision = g.b.icmp_signed("!=", want, g.i32(-2))
                wanted = g.b.or_(any_precision, g.b.icmp_signed("!=", precision, g.i32(0)))
                with g.b.if_then(wanted):
                    packed = self.packed_from(g, node, b, lo, rs, cs, k, n, threads, precision)
                    g.b.store(packed, result)
                g.b.branch(exit_)
                g.b.position_at_end(g.b.append_basic_block("unreachable.after"))

        self.walk(g, self.as_ptr(g, g.b.load(self.ranges, typ=I64)), per_range)
        g.b.call(self.unlock_fn, [])
        g.b.ret(g.b.load(result, typ=PTR))
        return fn

    def packed_from(self, g: Gen, node, b, lo, rs, cs, k, n, threads, precision) -> Value:
        """The pack of B in range `node` (the lock held): found, or made and prepended."""
        key = [lo, k, n, rs, cs]
        found = g.alloca(PTR)
        g.b.store(ir.Constant(PTR, None), found)

        wide_precision = g.b.sext(precision, I64)

        def per_pack(pack: Value, exit_: ir.Block) -> None:
            same = g.b.icmp_unsigned("==", self.field(g, pack, 1), key[0])
            for i, value in enumerate(key[1:], start=2):
                same = g.b.and_(same, g.b.icmp_unsigned("==", self.field(g, pack, i), value))
            same = g.b.and_(same, g.b.icmp_unsigned("==", self.field(g, pack, 7), wide_precision))
            with g.b.if_then(same):
                g.b.store(self.as_ptr(g, self.field(g, pack, 6)), found)
                g.b.branch(exit_)
                g.b.position_at_end(g.b.append_basic_block("unreachable.after"))

        self.walk(g, self.as_ptr(g, self.field(g, node, 3)), per_pack)

        def pack_with(pack_b: ir.Function, size: ir.Function) -> Value:
            dst = g.b.call(self.rt.malloc, [g.b.call(size, [k, n])])
            g.b.call(pack_b, [k, n, b, rs, cs, dst, g.b.trunc(threads, I32)])
            return dst

        def miss() -> None:
            slot = g.alloca(PTR)
            if len(self.packers) < 2:
                g.b.store(pack_with(*self.packers[0]), slot)
            else:
                g.if_else(
                    g.b.icmp_signed("==", precision, g.i32(0)),
                    lambda: g.b.store(pack_with(*self.packers[0]), slot),
                    lambda: g.b.store(pack_with(*self.packers[1]), slot),
                )
            dst = g.b.load(slot, typ=PTR)
            pack = g.b.call(self.rt.malloc, [g.i64(8 * PACK_FIELDS)])
            self.set_field(g, pack, 0, self.field(g, node, 3))
            for i, value in enumerate(key, start=1):
                self.set_field(g, pack, i, value)
            self.set_field(g, pack, 6, self.as_int(g, dst))
            self.set_field(g, pack, 7, wide_precision)
            self.set_field(g, node, 3, self.as_int(g, pack))
            g.b.store(dst, found)

        g.if_then(g.b.icmp_unsigned("==", g.b.load(found, typ=PTR), ir.Constant(PTR, None)), miss)
        return g.b.load(found, typ=PTR)

    # endregion Entry points
