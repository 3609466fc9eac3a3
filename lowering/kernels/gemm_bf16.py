"""Matrix multiplication with bf16 products for the kernel library (the analogue of PyTorch's
`torch.set_float32_matmul_precision("medium")`): f32 operands and result, each product taken
of bf16-rounded operands (round to nearest even) and accumulated in f32 with AVX512-BF16's
`vdpbf16ps`, which adds two products of bf16 pairs into each f32 lane.

The structure is the f32 matmul's (gemm.py), over pairs of k: a packed row holds, for each
column, the bf16 values of rows 2p and 2p+1 in one 32-bit word (B), or for each row of A those
of columns 2p and 2p+1; an odd k pads with a bf16 zero. Packing rounds the f32 operand into
such words (a scratch laid out as the f32 packer reads it) and hands them to the f32 packer,
which moves 32-bit values without looking at them. A constant B is packed once in this layout:
half the bytes of an f32 pack, half the memory traffic per call. The matrix-vector paths
(M = 1, N = 1) stay f32: they are memory-bound and read B as it is, unpacked.

Only for targets with AVX512-BF16 (`KernelTarget.has_bf16`); elsewhere red_sgemm_bf16 is the
f32 matmul."""

from __future__ import annotations

import dataclasses
from typing import Any

import llvmlite.ir as ir

from red.lowering.kernels.gemm import PACK_A_ARGS, PACK_B_ARGS, GemmGenerator
from red.lowering.kernels.irgen import (
    F32,
    I1,
    I8,
    I32,
    I64,
    PTR,
    VOID,
    Gen,
    Value,
    intrinsic,
)
from red.lowering.kernels.parallel import Runtime
from red.lowering.kernels.target import KernelTarget

AMX_ROWS = 16  # rows of a tile; 64 bytes each (16 f32 of C, 16 pairs of bf16 of A and B)
AMX_KC = 512  # k steps per slice: GPT-2's k = 768 in one slice (C written once)
ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA, SYS_ARCH_PRCTL = 0x1023, 18, 158
DOT = "llvm.x86.avx512bf16.dpbf16ps.512"
"""Declared with i32 vectors for the bf16 pairs, as LLVM 16 spells it (clang-16 builds the
library's IR; newer LLVMs, llvmlite's included, upgrade it to their <32 x bfloat> form)."""
I16 = ir.IntType(16)


class AmxTile(ir.Type):
    """LLVM's `x86_amx` (llvmlite 0.50 has no type for it): a tile register's value."""

    def _to_string(self) -> str:
        return "x86_amx"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AmxTile)

    def __hash__(self) -> int:
        return hash("x86_amx")


TILE = AmxTile()
I16 = ir.IntType(16)


def rounded_bits(g: Gen, bits: Value) -> Value:
    """f32 bits (i32 or a vector of them) rounded to nearest even at bit 16: the bf16 value is
    the high half. NaNs stay NaNs (made quiet) instead of carrying into the exponent."""
    ty = bits.type
    lanes = ty.count if isinstance(ty, ir.VectorType) else 0

    def const(value: int) -> ir.Constant:
        return ir.Constant(ty, [value] * lanes) if lanes else ir.Constant(I32, value)

    odd = g.b.and_(g.b.lshr(bits, const(16)), const(1))
    rounded = g.b.add(bits, g.b.add(const(0x7FFF), odd))
    nan = g.b.icmp_unsigned(">", g.b.and_(bits, const(0x7FFFFFFF)), const(0x7F800000))
    return g.b.select(nan, g.b.or_(bits, const(0x00400000)), rounded)


def zero_words(g: Gen, dst: Value, lo: Value, hi: Value) -> None:
    """dst[lo:hi] = 0 (32-bit words)."""
    g.loop(lo, hi, 1, lambda p, _: g.store(g.i32(0), dst, p), name="zw")


class Bf16GemmGenerator(GemmGenerator):
    """Emits red_sgemm_bf16's internal pieces (micro-kernels, packing, the blocked core) into
    the f32 unit's module; the f32 generator defines the entry points that call them."""

    def __init__(self, rt: Runtime, target: KernelTarget, f32: GemmGenerator):
        super().__init__(rt, target, F32, "red_sgemm_bf16")
        self.f32 = f32
        self.public = False  # its pack_b entry and size stay internal (no prepacked bf16 ABI)
        self.pelt = I32  # a packed element: a pair of bf16
        self.peb = 4
        self.wty = ir.VectorType(I32, self.lanes)
        # AMX (AMX-BF16 and AMX-TILE): 16-row tiles, C kept in tile registers over k, the
        # micro-kernel inlined into the task so that the tile configuration is loaded once
        # per task, B's micro-panel reused by every row panel; else vdpbf16ps.
        self.amx = target.has_amx
        if self.amx:
            self.blk = dataclasses.replace(self.blk, mr=AMX_ROWS, kc=AMX_KC)
            self.kernel_inlining = "alwaysinline"
            self.columns_outer = True

    def build_core(self) -> None:
        """As the f32 generator's, without a gemv (the entry points use the f32 one)."""
        self.kernels = {nv: self.micro_kernel(nv) for nv in range(1, self.blk.nv + 1)}
        self.pack_a = self.pack_a_panel()
        self.pack_b = self.pack_b_block()
        self.gemm_fn = self.gemm_core()
        self.pack_b_fn = self.pack_b_entry()
        self.gemv_p = self.gemv_packed()

    def gemv_input(self, g: Gen, x: Value, incx: Value, k: Value) -> tuple[Value, Value, Value]:
        """x rounded into pairs of bf16 (a buffer of steps(k) words, zero past k)."""
        steps = self.steps(g, k)
        words = g.b.call(self.rt.malloc, [g.b.mul(steps, g.i64(4))])
        self.pairs_along(g, x, incx, k, words, steps)
        return words, g.i64(1), steps

    def gemv_release(self, g: Gen, given: Value, used: Value) -> None:
        g.b.call(self.rt.free, [used])

    def splat_packed(self, g: Gen, value: Value) -> Value:
        """The pair in every lane, splat as a float: LLVM 16's VectorCombine (clang-16) loops
        forever on an i32 splat feeding vdpbf16ps."""
        return g.b.bitcast(g.splat(g.b.bitcast(value, F32), self.lanes), self.wty)

    def multiply_add(self, g: Gen, x: Value, b: Value, acc: Value) -> Value:
        dot = intrinsic(self.module, DOT, self.vty, [self.vty, self.wty, self.wty])
        return g.b.call(dot, [acc, x, b])

    # region Depth of k

    def steps(self, g: Gen, k: Value) -> Value:
        pairs = g.b.ashr(g.b.add(k, g.i64(1)), g.i64(1))
        return g.round_up(pairs, AMX_ROWS) if self.amx else pairs  # AMX: whole tiles of k

    def source_row(self, g: Gen, step: Value) -> Value:
        return g.b.mul(step, g.i64(2))

    def rows_from(self, g: Gen, k: Value, step: Value, kc: Value) -> Value:
        return g.min(g.b.mul(kc, g.i64(2)), g.b.sub(k, self.source_row(g, step)))

    def a_offset(self, g: Gen, panel: Value, k: Value, step: Value) -> Value:
        if not self.amx:
            return super().a_offset(g, panel, k, step)
        return g.b.add(g.b.mul(g.b.mul(panel, g.i64(self.blk.mr)), k), step)  # rows of k

    # endregion Depth of k

    def ready(self, g: Gen) -> Value:
        """Whether this process may run the bf16 kernels: always for vdpbf16ps; for AMX once
        Linux has granted the tile data state (arch_prctl(ARCH_REQ_XCOMP_PERM), asked on the
        first call; refused, the matmuls stay f32)."""
        if not self.amx:
            return ir.Constant(I1, 1)
        name = f"{self.prefix}.amx_ready"
        fn = self.module.globals.get(name)
        if fn is None:
            fn = self.amx_ready(name)
        return g.b.call(fn, [])

    def amx_ready(self, name: str) -> ir.Function:
        state: Any = ir.GlobalVariable(self.module, I32, f"{self.prefix}.amx_state")
        state.initializer = ir.Constant(I32, 0)  # 0 unknown, 1 granted, 2 refused
        state.linkage = "internal"
        syscall = self.module.globals.get("syscall") or ir.Function(
            self.module, ir.FunctionType(I64, [I64], var_arg=True), "syscall"
        )
        fn = self._define(name, I1, [])
        g = Gen(fn)
        known = g.b.load_atomic(state, "monotonic", 4, typ=I32)

        def ask() -> None:
            # Idempotent: two threads asking at once both get the same answer.
            args = [g.i64(SYS_ARCH_PRCTL), g.i64(ARCH_REQ_XCOMP_PERM), g.i64(XFEATURE_XTILEDATA)]
            granted = g.b.icmp_signed("==", g.b.call(syscall, args), g.i64(0))
            answer = g.b.select(granted, g.i32(1), g.i32(2))
            g.b.store_atomic(answer, state, "monotonic", 4)

        g.if_then(g.b.icmp_signed("==", known, g.i32(0)), ask)
        g.b.ret(g.b.icmp_signed("==", g.b.load_atomic(state, "monotonic", 4, typ=I32), g.i32(1)))
        return fn

    def accumulators(
        self,
        g: Gen,
        kc: Value,
        a: Value,
        b: Value,
        prefetch: Value,
        lda: Value,
        nv: int,
        c_tile: tuple[Value, ...],
    ) -> list[Value]:
        """AMX: C in nv tile registers over k; a whole tile stored straight into C (rows of
        unit stride, not accumulating: the first slice of k), else through a stack buffer
        whose rows become the vectors store_tile writes."""
        if not self.amx:
            return super().accumulators(g, kc, a, b, prefetch, lda, nv, c_tile)
        mr, nr, lanes = self.blk.mr, self.blk.nr, self.lanes
        rows, width = ir.Constant(I16, AMX_ROWS), ir.Constant(I16, 64)
        load = intrinsic(self.module, "llvm.x86.tileloadd64.internal", TILE, [I16, I16, PTR, I64])
        dot = intrinsic(
            self.module, "llvm.x86.tdpbf16ps.internal", TILE, [I16, I16, I16, TILE, TILE, TILE]
        )
        zero = intrinsic(self.module, "llvm.x86.tilezero.internal", TILE, [I16, I16])
        store = intrinsic(
            self.module, "llvm.x86.tilestored64.internal", VOID, [I16, I16, PTR, I64, TILE]
        )
        a_stride = g.b.mul(lda, g.i64(4))
        touch = intrinsic(self.module, "llvm.prefetch.p0", VOID, [PTR, I32, I32, I32])
        # The f32 kernel's share of B's next panels (kc/KU cache lines per tile), spread
        # over the tile's steps of AMX_ROWS k.
        lines = max(1, AMX_ROWS // self.blk.ku)

        def step(kk0: Value, tiles: list[Value]) -> list[Value]:
            ahead = g.offset(prefetch, g.b.mul(g.b.sdiv(kk0, g.i64(AMX_ROWS)), g.i64(64 * lines)),
                             I8)  # fmt: skip
            for line in range(lines):
                g.b.call(touch, [g.offset(ahead, g.i64(64 * line), I8), g.i32(0), g.i32(2),
                                 g.i32(1)])  # fmt: skip
            at = g.b.call(load, [rows, width, g.offset(a, kk0, I32), a_stride])
            row0 = g.b.mul(kk0, g.i64(nr))
            # Every B tile loaded before the products: each in a register of its own.
            bts = [
                g.b.call(load, [rows, width, g.offset(b, g.b.add(row0, g.i64(v * lanes)), I32),
                                g.i64(nr * 4)])
                for v in range(nv)
            ]  # fmt: skip
            return [g.b.call(dot, [rows, width, width, tiles[v], at, bts[v]]) for v in range(nv)]

        start = [g.b.call(zero, [rows, width]) for _ in range(nv)]
        tiles = g.loop(0, kc, AMX_ROWS, step, start, name="kt")
        c, rsc, csc, mv, nvalid, accumulate = c_tile
        whole = g.b.and_(
            g.b.and_(g.b.icmp_signed("==", mv, g.i64(mr)), g.b.icmp_signed("==", csc, g.i64(1))),
            g.b.icmp_signed("==", nvalid, g.i64(nv * lanes)),
        )
        with g.b.if_then(g.b.and_(whole, g.b.not_(accumulate))):
            for v in range(nv):
                dst = g.offset(c, g.i64(v * lanes), F32)
                g.b.call(store, [rows, width, dst, g.b.mul(rsc, g.i64(4)), tiles[v]])
            g.b.ret_void()
        buffer = g.alloca(F32, mr * nr)
        for v in range(nv):
            dst = g.offset(buffer, g.i64(v * lanes), F32)
            g.b.call(store, [rows, width, dst, g.i64(nr * 4), tiles[v]])
        return [g.vload(buffer, g.i64(r * nr + v * lanes), self.vty)
                for r in range(mr) for v in range(nv)]  # fmt: skip

    def kernel_step(self, g: Gen, a: Value, b: Value, k: Value, acc: list[Value], nv: int):
        """One pair of k: MR broadcast pairs of Ã against nv vectors of B̃'s pairs."""
        mr, nr, lanes = self.blk.mr, self.blk.nr, self.lanes
        dot = intrinsic(self.module, DOT, self.vty, [self.vty, self.wty, self.wty])
        bvec = [
            g.vload(b, g.b.add(g.b.mul(k, g.i64(nr)), g.i64(v * lanes)), self.wty, lanes * 4)
            for v in range(nv)
        ]
        out = list(acc)
        for r in range(mr):
            av = self.splat_packed(g, g.load(a, g.b.add(g.b.mul(k, g.i64(mr)), g.i64(r)), I32))
            for v in range(nv):
                out[r * nv + v] = g.b.call(dot, [acc[r * nv + v], av, bvec[v]])
        return out

    # region Rounding into pairs

    def pairs_along(
        self, g: Gen, src: Value, stride: Value, count: Value, dst: Value, total: Value
    ) -> None:
        """dst[p] = bf16(src[2p·stride]) | bf16(src[(2p+1)·stride]) << 16 for p < ceil(count /
        2) (a missing odd partner is 0), then 0 up to `total` words: a row of A along k, a
        column of B^T."""
        lanes = self.lanes
        words = g.b.ashr(g.b.add(count, g.i64(1)), g.i64(1))
        full = g.b.ashr(count, g.i64(1))  # words with both halves
        vmain = g.b.sub(full, g.b.srem(full, g.i64(lanes)))
        wide_f = ir.VectorType(F32, 2 * lanes)
        wide_i = ir.VectorType(I32, 2 * lanes)

        def vector(p0: Value, _: list[Value]) -> None:
            x = g.vload(src, g.b.mul(p0, g.i64(2)), wide_f)
            bits = rounded_bits(g, g.b.bitcast(x, wide_i))
            halves = g.b.trunc(g.b.lshr(bits, ir.Constant(wide_i, [16] * 2 * lanes)),
                               ir.VectorType(I16, 2 * lanes))  # fmt: skip
            g.vstore(g.b.bitcast(halves, self.wty), dst, p0)

        def scalar(lo: Value) -> None:
            def word(p: Value, _: list[Value]) -> None:
                first = g.b.mul(p, g.i64(2))
                second = g.b.add(first, g.i64(1))
                low = self.scalar_half(g, src, g.b.mul(first, stride))
                has_second = g.b.icmp_signed("<", second, count)
                safe = g.b.select(has_second, second, first)
                high = self.scalar_half(g, src, g.b.mul(safe, stride))
                high = g.b.select(has_second, high, g.i32(0))
                g.store(g.b.or_(low, g.b.shl(high, g.i32(16))), dst, p)

            g.loop(lo, words, 1, word, name="pw")

        def contiguous() -> None:
            g.loop(0, vmain, lanes, vector, name="pv")
            scalar(vmain)

        g.if_else(g.b.icmp_signed("==", stride, g.i64(1)), contiguous, lambda: scalar(g.i64(0)))
        zero_words(g, dst, words, total)

    def scalar_half(self, g: Gen, src: Value, index: Value) -> Value:
        """bf16(src[index]) in the low 16 bits of an i32."""
        bits = g.b.bitcast(g.load(src, index, F32), I32)
        return g.b.lshr(rounded_bits(g, bits), g.i32(16))

    def pairs_across(
        self, g: Gen, row0: Value, row1: Value, has_second: Value, cs: Value, n: Value, dst: Value
    ) -> None:
        """dst[j] = bf16(row0[j·cs]) | bf16(row1[j·cs]) << 16 for j < n (0 for the high half
        without `has_second`): two rows of B."""
        lanes, vty, wty = self.lanes, self.vty, self.wty
        high_mask = ir.Constant(wty, [-65536] * lanes)  # 0xFFFF0000
        shift = ir.Constant(wty, [16] * lanes)
        keep = g.splat(has_second, lanes)

        def vector(j0: Value, _: list[Value]) -> None:
            mask = g.mask_below(g.b.sub(n, j0), lanes)
            low = rounded_bits(g, g.b.bitcast(g.masked_load(row0, j0, vty, mask), wty))
            second = g.b.and_(mask, keep)
            high = rounded_bits(g, g.b.bitcast(g.masked_load(row1, j0, vty, second), wty))
            high = g.b.select(keep, g.b.and_(high, high_mask), ir.Constant(wty, None))
            word = g.b.or_(g.b.lshr(low, shift), high)
            g.masked_store(word, dst, j0, mask)

        def scalar() -> None:
            def word(j: Value, _: list[Value]) -> None:
                low = self.scalar_half(g, row0, g.b.mul(j, cs))
                idx = g.b.select(has_second, g.b.mul(j, cs), g.i64(0))
                high = g.b.select(has_second, self.scalar_half(g, row1, idx), g.i32(0))
                g.store(g.b.or_(low, g.b.shl(high, g.i32(16))), dst, j)

            g.loop(0, n, 1, word, name="px")

        g.if_else(
            g.b.icmp_signed("==", cs, g.i64(1)),
            lambda: g.loop(0, n, lanes, vector, name="pxv"),
            scalar,
        )

    # endregion Rounding into pairs

    # region Packing

    def pack_a_panel(self) -> ir.Function:
        """pack_a(a, rs, cs, mv, k, dst): the MR-row panel of A as ceil(k/2) x MR words,
        through a scratch of mv rows of words that the f32 pack_a transposes."""
        mr = self.blk.mr
        fn = self._define(f"{self.prefix}.pack_a", VOID, PACK_A_ARGS)
        g = Gen(fn)
        a, rs, cs, mv, k, dst = fn.args
        kp = self.steps(g, k)
        if self.amx:  # the tiles read A by rows: MR rows of kp words, zero rows below mv

            def amx_row(r: Value, _: list[Value]) -> None:
                src = g.offset(a, g.b.mul(r, rs), F32)
                self.pairs_along(g, src, cs, k, g.offset(dst, g.b.mul(r, kp), I32), kp)

            g.loop(0, mv, 1, amx_row, name="ar")
            zero_words(g, dst, g.b.mul(mv, kp), g.b.mul(g.i64(mr), kp))
            g.b.ret_void()
            return fn
        scratch = g.b.call(self.rt.malloc, [g.b.mul(g.b.mul(kp, g.i64(mr)), g.i64(4))])

        def row(r: Value, _: list[Value]) -> None:
            src = g.offset(a, g.b.mul(r, rs), F32)
            self.pairs_along(g, src, cs, k, g.offset(scratch, g.b.mul(r, kp), I32), kp)

        g.loop(0, mv, 1, row, name="ar")
        g.b.call(self.f32.pack_a, [scratch, kp, g.i64(1), mv, kp, dst])
        g.b.call(self.rt.free, [scratch])
        g.b.ret_void()
        return fn

    def pack_b_block(self) -> ir.Function:
        """pack_b(b, rs, cs, kc, ncols, dst, krows): kc rows of pairs from the krows rows of B
        at b, through a scratch of words the f32 pack_b lays out in NR-column panels: row-major
        (pairs of rows combined along a row) unless B^T is contiguous along k (rs = 1, cs !=
        1: pairs of a column, one column of words after another)."""
        fn = self._define(f"{self.prefix}.pack_b", VOID, PACK_B_ARGS)
        g = Gen(fn)
        b, rs, cs, kc, ncols, dst, krows = fn.args
        scratch = g.b.call(self.rt.malloc, [g.b.mul(g.b.mul(kc, ncols), g.i64(4))])

        def along_k() -> None:
            def column(j: Value, _: list[Value]) -> None:
                src = g.offset(b, g.b.mul(j, cs), F32)
                out = g.offset(scratch, g.b.mul(j, kc), I32)
                self.pairs_along(g, src, rs, krows, out, kc)

            g.loop(0, ncols, 1, column, name="bj")
            g.b.call(self.f32.pack_b, [scratch, g.i64(1), kc, kc, ncols, dst, kc])

        def across() -> None:
            def pair(p: Value, _: list[Value]) -> None:
                first = g.b.mul(p, g.i64(2))
                has_second = g.b.icmp_signed("<", g.b.add(first, g.i64(1)), krows)
                row0 = g.offset(b, g.b.mul(first, rs), F32)
                row1 = g.offset(row0, g.b.select(has_second, rs, g.i64(0)), F32)
                out = g.offset(scratch, g.b.mul(p, ncols), I32)
                g.if_else(
                    g.b.icmp_signed("<", first, krows),
                    lambda: self.pairs_across(g, row0, row1, has_second, cs, ncols, out),
                    lambda: zero_words(g, out, g.i64(0), ncols),  # rows past k (AMX padding)
                )

            g.loop(0, kc, 1, pair, name="bp")
            g.b.call(self.f32.pack_b, [scratch, ncols, g.i64(1), kc, ncols, dst, kc])

        transposed = g.b.and_(
            g.b.icmp_signed("==", rs, g.i64(1)), g.b.icmp_signed("!=", cs, g.i64(1))
        )
        g.if_else(transposed, along_k, across)
        g.b.call(self.rt.free, [scratch])
        g.b.ret_void()
        return fn

    # endregion Packing
