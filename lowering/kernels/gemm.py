"""Matrix multiplication for the kernel library: C (+)= A·B on strided operands, batched over two
batch dimensions, with the GotoBLAS/BLIS structure.

Every operand is a base pointer and strides in elements (a row stride, a column stride, and
one stride per batch dimension; 0 broadcasts), so transposed operands (A^T, B^T), leading
dimensions and head-split views of attention are read in place, never materialised.

`gemm`: A is packed whole into micro-panels of MR rows (for each k the MR values, contiguous;
zero rows pad the last panel), in parallel. Then parallel tasks each cover a block of rows
(at most MC) by a block of columns (at most NC; with several threads, narrower blocks so that
each thread has about four tasks) of one batch: for each KC slice of k the task
packs its KC x NC block of B into micro-panels of NR columns (zero columns pad the last), and
for each MR-row micro-panel of A (kept in L1) sweeps the NR-column micro-panels of B (streamed
from L2) with the register-blocked micro-kernel: MR x NV vector accumulators, one FMA per
(row, vector) per k. Packing reads row-contiguous operands with vector loads and transposed
ones through in-register transposes, so the micro-kernel's loads are always contiguous.
Edge tiles use narrower kernels (fewer vectors) and masked stores.

`gemv` (M = 1, and N = 1 as its transpose): memory-bound, so no packing: with contiguous rows
of B, y accumulates rows of B scaled by x eight rows at a time over a column chunk kept in L1;
with contiguous columns (B^T), each y[j] is a vectorised dot product.

Results do not depend on the thread count: every element is computed by the same sequence of
operations whichever task or thread computes it.

The depth of k (packed rows per k, `steps`/`source_row`/`rows_from`), what a packed element is
(`pelt`), the micro-kernel's step and accumulators and where A's panels are read are methods a
variant overrides: gemm_bf16.py packs pairs of bf16 and multiplies them on AMX tiles or with
vdpbf16ps, behind the same drivers, task grid and constant packs."""

from __future__ import annotations

from dataclasses import dataclass

import llvmlite.ir as ir

from red.lowering.kernels.irgen import (
    I1,
    I8,
    I32,
    I64,
    PTR,
    VOID,
    Gen,
    Value,
    define,
    elt_bytes,
    intrinsic,
)
from red.lowering.kernels.parallel import Runtime, balanced_split
from red.lowering.kernels.target import Blocking, KernelTarget
from red.lowering.kernels.weights import ConstantPacks

# Below this many flops a call runs on one thread (a parallel region costs a few µs, as much
# as a quarter of a 4 MFLOP matmul on one core).
PARALLEL_MIN_FLOPS = 1 << 22
# The row-streaming gemv: a chunk of y (16 KiB of f32) stays in L1 while passes over it add
# GEMV_ROWS_GROUP rows of B each (measured ~5% faster than 4 rows over 8 KiB chunks).
GEMV_CHUNK = 4096
GEMV_ROWS_GROUP = 8
GEMV_DOT_COLUMNS = 64  # columns per task of the dot-product (B^T) gemv

OPERAND_ARGS = ("bs0", "bs1", "rs", "cs")
PACK_A_ARGS: list[tuple[str, ir.Type]] = [
    ("a", PTR), ("rs", I64), ("cs", I64), ("mv", I64), ("k", I64), ("dst", PTR),
]  # fmt: skip
"""The internal pack_a(a, rs, cs, mv, k, dst): the MR-row panel of A at a (mv rows valid)."""
PACK_B_ARGS: list[tuple[str, ir.Type]] = [
    ("b", PTR), ("rs", I64), ("cs", I64), ("kc", I64), ("ncols", I64), ("dst", PTR),
    ("krows", I64),
]  # fmt: skip
"""The internal pack_b(b, rs, cs, kc, ncols, dst, krows): kc packed rows from krows rows of B."""


def batched_args(elt: ir.Type) -> list[tuple[str, ir.Type]]:
    """The arguments of red_{s,d}gemm_batched, in order."""
    args: list[tuple[str, ir.Type]] = [(n, I64) for n in ("batch0", "batch1", "m", "n", "k")]
    for operand in ("a", "b", "c"):
        args.append((operand, PTR))
        args += [(f"{operand}_{s}", I64) for s in OPERAND_ARGS]
    return [*args, ("accumulate", I32), ("nthreads", I32)]


def prepacked_args() -> list[tuple[str, ir.Type]]:
    """The arguments of red_{s,d}gemm_prepacked, in order."""
    args: list[tuple[str, ir.Type]] = [(n, I64) for n in ("m", "n", "k")]
    args += [("a", PTR), ("a_rs", I64), ("a_cs", I64), ("b_packed", PTR)]
    args += [("c", PTR), ("c_rs", I64), ("c_cs", I64)]
    return [*args, ("accumulate", I32), ("nthreads", I32)]


def pack_b_args() -> list[tuple[str, ir.Type]]:
    """The arguments of red_{s,d}gemm_pack_b, in order."""
    args: list[tuple[str, ir.Type]] = [("k", I64), ("n", I64)]
    args += [("b", PTR), ("b_rs", I64), ("b_cs", I64), ("dst", PTR)]
    return [*args, ("nthreads", I32)]


def gemm_args() -> list[tuple[str, ir.Type]]:
    """The arguments of red_{s,d}gemm, in order."""
    args: list[tuple[str, ir.Type]] = [(n, I64) for n in ("m", "n", "k")]
    for operand in ("a", "b", "c"):
        args += [(operand, PTR), (f"{operand}_rs", I64), (f"{operand}_cs", I64)]
    return [*args, ("accumulate", I32), ("nthreads", I32)]


@dataclass
class Operand:
    """A strided operand in the IR: element (batch, i, j) at base + batch offset + i*rs + j*cs."""

    base: Value
    bs0: Value
    bs1: Value
    rs: Value
    cs: Value

    def fields(self) -> list[Value]:
        return [self.base, self.bs0, self.bs1, self.rs, self.cs]

    @staticmethod
    def of(values: list[Value]) -> Operand:
        return Operand(*values[:5])

    def at_batch(self, g: Gen, batch: Value, batch1: Value, elt: ir.Type) -> Value:
        """The base pointer of batch number `batch` (batch = i0 * batch1 + i1)."""
        i0 = g.b.sdiv(batch, batch1)
        i1 = g.b.srem(batch, batch1)
        off = g.b.add(g.b.mul(i0, self.bs0), g.b.mul(i1, self.bs1))
        return g.offset(self.base, off, elt)

    def transposed(self) -> Operand:
        return Operand(self.base, self.bs0, self.bs1, self.cs, self.rs)


class GemmGenerator:
    """Emits red_{s,d}gemm and red_{s,d}gemm_batched (and their internal pieces) for one
    element type into a module."""

    def __init__(self, rt: Runtime, target: KernelTarget, elt: ir.Type, prefix: str):
        self.rt = rt
        self.module = rt.module
        self.target = target
        self.elt = elt
        self.eb = elt_bytes(elt)
        self.blk: Blocking = target.blocking(self.eb)
        self.lanes = self.blk.lanes
        self.vty = ir.VectorType(elt, self.lanes)
        self.prefix = prefix  # "red_sgemm" / "red_dgemm"
        self.bits = target.vector_bits
        # What packed panels hold: elements of the type (a bf16 variant: pairs in 32 bits).
        self.pelt: ir.Type = elt
        self.peb = self.eb
        self.public = True  # whether {prefix}_pack_b and _packed_b_size are entry points
        self.kernel_inlining = "noinline"
        self.gemv_p: ir.Function | None = None  # a bf16 generator's gemv on its packs
        self.columns_outer = False  # the tile loops of a task: B's micro-panels outside

    def _define(self, name: str, ret: ir.Type, args: list[tuple[str, ir.Type]], internal=True):
        return define(self.module, name, ret, args, internal=internal, vector_bits=self.bits)

    def build(self, bf16: GemmGenerator | None = None) -> None:
        """The unit: this type's matmul, and with `bf16` (f32 only, a target with
        AVX512-BF16) its bf16-product variant, whose constant packs share this unit's
        registry: red_sgemm on a B registered with precision bf16 multiplies in bf16."""
        self.build_core()
        packers = [(self.pack_b_fn, self.packed_bytes)]
        if bf16 is not None:
            bf16.build_core()
            packers.append((bf16.pack_b_fn, bf16.packed_bytes))
        packs = ConstantPacks(self.rt, self.prefix, self.eb, packers, self.bits)
        self.constant_packed = packs.build()
        batched = self.batched(f"{self.prefix}_batched", -1, bf16, False)
        self.prepacked()
        self.gemm_entry(self.prefix, batched)
        if self.prefix == "red_sgemm":
            # red_sgemm_bf16: bf16 products for any B; f32 where the target has no bf16.
            batched = self.batched(f"{self.prefix}_bf16_batched", 1, bf16, True)
            self.gemm_entry(f"{self.prefix}_bf16", batched)

    def build_core(self) -> None:
        """The internal pieces: micro-kernels, packing, the blocked core, the gemv and the
        pack_b entry (with its size in bytes) that constant packs use."""
        self.kernels = {nv: self.micro_kernel(nv) for nv in range(1, self.blk.nv + 1)}
        self.pack_a = self.pack_a_panel()
        self.pack_b = self.pack_b_block()
        self.gemv = self.gemv_batched()
        self.gemm_fn = self.gemm_core()
        self.pack_b_fn = self.pack_b_entry()

    def gemm_entry(self, name: str, batched: ir.Function) -> None:
        """`name`(m, n, k, a, a_rs, a_cs, b, ..., c, ..., accumulate, nthreads): one batch of
        `batched`."""
        fn = self._define(name, VOID, gemm_args(), internal=False)
        g = Gen(fn)
        a = list(fn.args)
        m, n, k = a[0:3]
        zero, one = g.i64(0), g.i64(1)
        operands = []
        for i in range(3):
            base, rs, cs = a[3 + 3 * i : 6 + 3 * i]
            operands += [base, zero, zero, rs, cs]
        g.b.call(batched, [one, one, m, n, k, *operands, a[12], a[13]])
        g.b.ret_void()

    # region Depth of k

    def steps(self, g: Gen, k: Value) -> Value:
        """Steps of the micro-kernel along k (rows of a packed panel): k for f32 and f64."""
        return k

    def source_row(self, g: Gen, step: Value) -> Value:
        """The row of k where packed row `step` starts."""
        return step

    def rows_from(self, g: Gen, k: Value, step: Value, kc: Value) -> Value:
        """Rows of k that the `kc` packed rows from `step` cover."""
        return kc

    def ready(self, g: Gen) -> Value:
        """Whether this process may run these kernels (a run-time check where the CPU needs
        the operating system's permission)."""
        return ir.Constant(I1, 1)

    def a_offset(self, g: Gen, panel: Value, k: Value, step: Value) -> Value:
        """Where packed A's micro-panel `panel` is read from at packed row `step` (of k)."""
        return g.b.mul(g.b.add(g.b.mul(panel, k), step), g.i64(self.blk.mr))

    # endregion Depth of k

    # region Micro-kernel

    def micro_kernel(self, nv: int) -> ir.Function:
        """C[0:mv, 0:nvalid] (+)= Ã(MR x kc) · B̃(kc x nv·lanes) for one MR x NR tile: Ã holds
        MR values per k, B̃ NR (of which the first nv vectors are read) per k. The full tile
        (mv = MR, nvalid = nv·lanes, unit column stride) stores whole vectors; an edge tile
        stores the valid rows with masked vectors; a strided C goes through a stack tile.
        `lda` is the row stride of Ã for kernels reading it by rows (AMX)."""
        blk, lanes = self.blk, self.lanes
        mr = blk.mr
        fn = self._define(
            f"{self.prefix}.kernel_{mr}x{nv * lanes}",
            VOID,
            [
                ("kc", I64),
                ("a", PTR),
                ("b", PTR),
                ("c", PTR),
                ("rsc", I64),
                ("csc", I64),
                ("mv", I64),
                ("nvalid", I64),
                ("accumulate", I1),
                ("prefetch", PTR),
                ("lda", I64),
            ],
        )
        fn.attributes.add(self.kernel_inlining)
        for arg in fn.args[1:4]:
            arg.add_attribute("noalias")
        g = Gen(fn)
        kc, a, b, c, rsc, csc, mv, nvalid, accumulate, prefetch, lda = fn.args
        c_tile = (c, rsc, csc, mv, nvalid, accumulate)
        acc = self.accumulators(g, kc, a, b, prefetch, lda, nv, c_tile)
        self.store_tile(g, acc, c, rsc, csc, mv, nvalid, accumulate, nv)
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
        """The MR x nv tile of Ã·B̃ as MR·nv vectors (row r's vector v at r·nv + v), for
        store_tile to write into C (c_tile: c, rsc, csc, mv, nvalid, accumulate)."""
        blk, vty = self.blk, self.vty
        mr = blk.mr

        def step(k: Value, acc: list[Value]) -> list[Value]:
            return self.kernel_step(g, a, b, k, acc, nv)

        unroll = blk.ku
        zero = ir.Constant(vty, None)
        kmain = g.b.sub(kc, g.b.srem(kc, g.i64(unroll)))

        touch = intrinsic(self.module, "llvm.prefetch.p0", VOID, [PTR, I32, I32, I32])

        def unrolled(k0: Value, acc: list[Value]) -> list[Value]:
            # One cache line of `prefetch` per unrolled step: the caller points it at B's
            # panels of a later slice, streamed into L2 while this tile computes.
            line = g.offset(prefetch, g.b.mul(k0, g.i64(64 // unroll)), I8)
            g.b.call(touch, [line, g.i32(0), g.i32(2), g.i32(1)])
            for u in range(unroll):
                acc = step(g.b.add(k0, g.i64(u)), acc)
            return acc

        acc = g.loop(0, kmain, unroll, unrolled, [zero] * (mr * nv), name="k")
        return g.loop(kmain, kc, 1, step, acc, name="ktail")

    def store_tile(
        self, g: Gen, acc: list[Value], c, rsc, csc, mv, nvalid, accumulate, nv: int
    ) -> None:
        """C[0:mv, 0:nvalid] (+)= the tile `acc`, then return."""
        lanes, elt, vty, mr = self.lanes, self.elt, self.vty, self.blk.mr

        full = g.b.and_(
            g.b.and_(g.b.icmp_signed("==", mv, g.i64(mr)), g.b.icmp_signed("==", csc, g.i64(1))),
            g.b.icmp_signed("==", nvalid, g.i64(nv * lanes)),
        )
        done = g.b.append_basic_block("done")
        fast = g.b.append_basic_block("store.full")
        partial = g.b.append_basic_block("store.partial")
        g.b.cbranch(full, fast, partial)

        g.b.position_at_end(fast)

        def store_tile(add: bool) -> None:
            for r in range(mr):
                row = g.b.mul(g.i64(r), rsc)
                for v in range(nv):
                    idx = g.b.add(row, g.i64(v * lanes))
                    value = acc[r * nv + v]
                    if add:
                        value = g.b.fadd(value, g.vload(c, idx, vty))
                    g.vstore(value, c, idx)

        # Separate paths so that the non-accumulating store never reads C.
        g.if_else(accumulate, lambda: store_tile(True), lambda: store_tile(False))
        g.b.branch(done)

        # Edge tiles and strided C (rare): through a tile on the stack.
        g.b.position_at_end(partial)
        width = nv * lanes
        tile = g.alloca(elt, mr * width)
        for r in range(mr):
            for v in range(nv):
                g.vstore(acc[r * nv + v], tile, g.i64(r * width + v * lanes))

        def masked_rows() -> None:
            masks = [g.mask_below(nvalid, lanes, v * lanes) for v in range(nv)]

            def row(i: Value, _: list[Value]) -> None:
                for v in range(nv):
                    src = g.b.add(g.b.mul(i, g.i64(width)), g.i64(v * lanes))
                    value = g.vload(tile, src, vty)
                    dst = g.b.add(g.b.mul(i, rsc), g.i64(v * lanes))
                    old = g.masked_load(c, dst, vty, masks[v])
                    value = g.b.select(accumulate, g.b.fadd(value, old), value)
                    g.masked_store(value, c, dst, masks[v])

            g.loop(0, mv, 1, row, name="er")

        def strided_rows() -> None:
            def row(i: Value, _: list[Value]) -> None:
                def col(j: Value, _c: list[Value]) -> None:
                    idx = g.b.add(g.b.mul(i, rsc), g.b.mul(j, csc))
                    value = g.load(tile, g.b.add(g.b.mul(i, g.i64(width)), j), elt)
                    old = g.load(c, idx, elt)
                    g.store(g.b.select(accumulate, g.b.fadd(value, old), value), c, idx)

                g.loop(0, nvalid, 1, col, name="sj")

            g.loop(0, mv, 1, row, name="si")

        g.if_else(g.b.icmp_signed("==", csc, g.i64(1)), masked_rows, strided_rows)
        g.b.branch(done)

        g.b.position_at_end(done)
        g.b.ret_void()

    def kernel_step(self, g: Gen, a: Value, b: Value, k: Value, acc: list[Value], nv: int):
        """One k step of the MR x nv·lanes tile: MR broadcasts of Ã times nv vectors of B̃."""
        mr, nr, lanes, elt, vty = self.blk.mr, self.blk.nr, self.lanes, self.elt, self.vty
        valign = lanes * self.eb
        bvec = [g.vload(b, g.b.add(g.b.mul(k, g.i64(nr)), g.i64(v * lanes)), vty, valign)
                for v in range(nv)]  # fmt: skip
        out = list(acc)
        for r in range(mr):
            av = g.splat(g.load(a, g.b.add(g.b.mul(k, g.i64(mr)), g.i64(r)), elt), lanes)
            for v in range(nv):
                out[r * nv + v] = g.fma(av, bvec[v], acc[r * nv + v])
        return out

    # endregion Micro-kernel

    # region Packing

    def pack_a_panel(self) -> ir.Function:
        """dst[kk·MR + r] = A[r, kk] for kk < k, r < MR (0 for rows r >= mv).

        Row-contiguous A (cs = 1): MR rows of w = MR values are loaded as vectors and
        transposed in registers (MR a power of two); A^T (rs = 1): each kk is one masked vector
        load of MR values; any other strides: scalar copies."""
        mr, elt, lanes = self.blk.mr, self.elt, self.lanes
        fn = self._define(f"{self.prefix}.pack_a", VOID, PACK_A_ARGS)
        g = Gen(fn)
        a, rs, cs, mv, k, dst = fn.args
        power_of_two = mr & (mr - 1) == 0 and mr <= lanes
        wty = ir.VectorType(elt, mr)

        def scalar(lo: Value, hi: Value) -> None:
            def col(kk: Value, _: list[Value]) -> None:
                def row(r: Value, _r: list[Value]) -> None:
                    # A missing row reads A[0, kk] (which exists) and stores 0.
                    ok = g.b.icmp_signed("<", r, mv)
                    src = g.b.add(g.b.mul(g.b.select(ok, r, g.i64(0)), rs), g.b.mul(kk, cs))
                    value = g.b.select(ok, g.load(a, src, elt), ir.Constant(elt, 0.0))
                    g.store(value, dst, g.b.add(g.b.mul(kk, g.i64(mr)), r))

                g.loop(0, g.i64(mr), 1, row, name="par")

            g.loop(lo, hi, 1, col, name="pa")

        if not power_of_two:
            scalar(g.i64(0), k)
            g.b.ret_void()
            return fn

        def row_major() -> None:
            kmain = g.b.sub(k, g.b.srem(k, g.i64(mr)))

            def block(kk0: Value, _: list[Value]) -> None:
                rows = []
                for r in range(mr):
                    idx = g.b.add(g.b.mul(g.i64(r), rs), kk0)
                    ok = g.splat(g.b.icmp_signed("<", g.i64(r), mv), mr)
                    rows.append(g.masked_load(a, idx, wty, ok))
                for t, col in enumerate(g.transpose(rows)):
                    g.vstore(col, dst, g.b.mul(g.b.add(kk0, g.i64(t)), g.i64(mr)), mr * self.eb)

            g.loop(0, kmain, mr, block, name="pa")
            scalar(kmain, k)

        def transposed() -> None:
            mask = g.mask_below(mv, mr)

            def col(kk: Value, _: list[Value]) -> None:
                value = g.masked_load(a, g.b.mul(kk, cs), wty, mask)
                g.vstore(value, dst, g.b.mul(kk, g.i64(mr)), mr * self.eb)

            g.loop(0, k, 1, col, name="pt")

        def other() -> None:
            g.if_else(g.b.icmp_signed("==", rs, g.i64(1)), transposed, lambda: scalar(g.i64(0), k))

        g.if_else(g.b.icmp_signed("==", cs, g.i64(1)), row_major, other)
        g.b.ret_void()
        return fn

    def pack_b_block(self) -> ir.Function:
        """dst[q·kc·NR + kk·NR + c] = B[kk, q·NR + c] for kk < kc, columns < ncols (0 beyond).

        Row-contiguous B (cs = 1): vector copies (masked in the last panel); B^T (rs = 1):
        lanes x lanes blocks loaded along k and transposed in registers; else scalar."""
        blk, elt, lanes, vty = self.blk, self.elt, self.lanes, self.vty
        nr, nv = blk.nr, blk.nv
        fn = self._define(
            f"{self.prefix}.pack_b",
            VOID,
            PACK_B_ARGS,
        )
        fn.args[0].add_attribute("noalias")
        fn.args[5].add_attribute("noalias")
        g = Gen(fn)
        b, rs, cs, kc, ncols, dst, _krows = fn.args
        panels = g.ceil_div(ncols, g.i64(nr))
        valign = lanes * self.eb

        def dst_index(q: Value, kk: Value, col: int | Value) -> Value:
            col = g.i64(col) if isinstance(col, int) else col
            return g.b.add(g.b.mul(g.b.add(g.b.mul(q, kc), kk), g.i64(nr)), col)

        def scalar(q: Value, lo: Value, hi: Value) -> None:
            def row(kk: Value, _: list[Value]) -> None:
                def col(c: Value, _c: list[Value]) -> None:
                    j = g.b.add(g.b.mul(q, g.i64(nr)), c)
                    idx = g.b.add(g.b.mul(kk, rs), g.b.mul(j, cs))
                    ok = g.b.icmp_signed("<", j, ncols)
                    # A missing column reads B[kk, 0] (which exists) and stores 0.
                    safe = g.b.select(ok, idx, g.b.mul(kk, rs))
                    value = g.b.select(ok, g.load(b, safe, elt), ir.Constant(elt, 0.0))
                    g.store(value, dst, dst_index(q, kk, c))

                g.loop(0, g.i64(nr), 1, col, name="pbc")

            g.loop(lo, hi, 1, row, name="pbr")

        def row_major() -> None:
            def panel(q: Value, _: list[Value]) -> None:
                first = g.b.mul(q, g.i64(nr))
                masks = [g.mask_below(g.b.sub(ncols, first), lanes, v * lanes) for v in range(nv)]
                whole = g.b.icmp_signed(">=", g.b.sub(ncols, first), g.i64(nr))

                def row(kk: Value, _r: list[Value], masked: bool) -> None:
                    src = g.b.add(g.b.mul(kk, rs), first)
                    for v in range(nv):
                        idx = g.b.add(src, g.i64(v * lanes))
                        if masked:
                            value = g.masked_load(b, idx, vty, masks[v])
                        else:
                            value = g.vload(b, idx, vty)
                        g.vstore(value, dst, dst_index(q, kk, v * lanes), valign)

                g.if_else(
                    whole,
                    lambda: g.loop(0, kc, 1, lambda kk, r: row(kk, r, False), name="pbf"),
                    lambda: g.loop(0, kc, 1, lambda kk, r: row(kk, r, True), name="pbm"),
                )

            g.loop(0, panels, 1, panel, name="pb")

        def transposed() -> None:
            kmain = g.b.sub(kc, g.b.srem(kc, g.i64(lanes)))

            def panel(q: Value, _: list[Value]) -> None:
                first = g.b.mul(q, g.i64(nr))

                def block(kk0: Value, _b: list[Value]) -> None:
                    for v in range(nv):
                        rows = []
                        for lane in range(lanes):
                            j = g.b.add(first, g.i64(v * lanes + lane))
                            rows.append(g.vload(b, g.b.add(g.b.mul(j, cs), kk0), vty))
                        for t, col in enumerate(g.transpose(rows)):
                            idx = dst_index(q, g.b.add(kk0, g.i64(t)), v * lanes)
                            g.vstore(col, dst, idx, valign)

                g.loop(0, kmain, lanes, block, name="pbt")
                scalar(q, kmain, kc)

            # Whole panels through lanes x lanes transposes, the last partial one by scalars.
            whole = g.b.sdiv(ncols, g.i64(nr))
            g.loop(0, whole, 1, panel, name="pb")
            g.loop(whole, panels, 1, lambda q, _: scalar(q, g.i64(0), kc), name="pbs")

        def general() -> None:
            g.loop(0, panels, 1, lambda q, _: scalar(q, g.i64(0), kc), name="pbg")

        g.if_else(
            g.b.icmp_signed("==", cs, g.i64(1)),
            row_major,
            lambda: g.if_else(g.b.icmp_signed("==", rs, g.i64(1)), transposed, general),
        )
        g.b.ret_void()
        return fn

    # endregion Packing

    # region Driver

    def batched(
        self, name: str, want: int, bf16: GemmGenerator | None, bf16_default: bool
    ) -> ir.Function:
        """red_{s,d}gemm_batched (and red_sgemm_bf16_batched): the dispatch to gemv (M = 1,
        N = 1: memory-bound, in the operands' own type) or a blocked core: this type's, or
        `bf16`'s when B comes from a constant pack in bf16, or with `bf16_default` when it
        is packed per call. `want` is the precision asked of constant packs (-1: the
        registered range's); bf16 only where `bf16.ready` (the CPU lets the process use it)."""
        fn = self._define(name, VOID, batched_args(self.elt), internal=False)
        g = Gen(fn)
        args = list(fn.args)
        batch0, batch1, m, n, k = args[0:5]
        a, b, c = Operand.of(args[5:10]), Operand.of(args[10:15]), Operand.of(args[15:20])
        accumulate = g.b.icmp_signed("!=", args[20], g.i32(0))
        requested = args[21]
        batch = g.b.mul(batch0, batch1)
        empty = g.b.or_(
            g.b.or_(g.b.icmp_signed("<=", batch, g.i64(0)), g.b.icmp_signed("<=", m, g.i64(0))),
            g.b.icmp_signed("<=", n, g.i64(0)),
        )
        with g.b.if_then(empty, likely=False):
            g.b.ret_void()
        with g.b.if_then(g.b.icmp_signed("<=", k, g.i64(0)), likely=False):
            with g.b.if_then(g.b.not_(accumulate)):
                self.zero_c(g, batch, batch1, m, n, c)
            g.b.ret_void()
        macs = g.b.mul(g.b.mul(batch, m), g.b.mul(n, k))  # multiply-adds: 2 flops each
        threads = g.b.select(
            g.b.icmp_signed("<", macs, g.i64(PARALLEL_MIN_FLOPS // 2)),
            g.i64(1),
            g.b.call(self.rt.threads, [requested]),
        )
        acc_arg = args[20]
        with g.b.if_then(g.b.icmp_signed("==", m, g.i64(1))):
            # One row: y(1 x N) = x(1 x K) · B, from B's bf16 pack when B is a constant in
            # bf16 (half the bytes to stream), else B read as it is.
            if bf16 is not None:
                self.bf16_gemv(g, bf16, batch, n, k, a, b, c, acc_arg, threads)
            g.b.call(
                self.gemv,
                [batch, batch1, n, k, *a.fields(), *b.fields(), *c.fields(), acc_arg, threads],
            )
            g.b.ret_void()
        with g.b.if_then(g.b.icmp_signed("==", n, g.i64(1))):
            # One column: C^T(1 x M) = B^T(1 x K) · A^T(K x M).
            x, mat, y = b.transposed(), a.transposed(), c.transposed()
            g.b.call(
                self.gemv,
                [batch, batch1, m, k, *x.fields(), *mat.fields(), *y.fields(), acc_arg, threads],
            )
            g.b.ret_void()

        # B in a registered constant range (one B for every batch): its panels packed once.
        one_b = g.b.or_(
            g.b.icmp_signed("==", batch, g.i64(1)),
            g.b.and_(
                g.b.icmp_signed("==", b.bs0, g.i64(0)), g.b.icmp_signed("==", b.bs1, g.i64(0))
            ),
        )
        packed = g.alloca(PTR)
        g.b.store(ir.Constant(PTR, None), packed)
        used = g.alloca(I32)
        g.b.store(g.i32(0), used)
        ready = bf16.ready(g) if bf16 is not None else ir.Constant(I1, 0)
        asked = g.b.select(ready, g.i32(want), g.i32(0))
        lookup = [b.base, b.rs, b.cs, k, n, threads, asked, used]
        g.if_then(one_b, lambda: g.b.store(g.b.call(self.constant_packed, lookup), packed))
        operands = [*a.fields(), *b.fields(), *c.fields()]
        packed_b = g.b.load(packed, typ=PTR)
        call_args = [batch, batch1, m, n, k, *operands, accumulate, threads, packed_b]
        if bf16 is None:
            g.b.call(self.gemm_fn, call_args)
        else:
            in_bf16 = g.b.select(
                g.b.icmp_unsigned("!=", packed_b, ir.Constant(PTR, None)),
                g.b.icmp_signed("==", g.b.load(used, typ=I32), g.i32(1)),
                g.b.and_(ready, ir.Constant(I1, int(bf16_default))),
            )
            g.if_else(
                in_bf16,
                lambda: g.b.call(bf16.gemm_fn, call_args),
                lambda: g.b.call(self.gemm_fn, call_args),
            )
        g.b.ret_void()
        return fn

    def bf16_gemv(self, g: Gen, bf16: GemmGenerator, batch, n, k, a, b, c, acc_arg, threads):
        """Return after y = x · B from the bf16 pack of B, when B (one batch) lies in a range
        registered in bf16 and the process may use bf16; else fall through."""
        packed = g.alloca(PTR)
        g.b.store(ir.Constant(PTR, None), packed)
        used = g.alloca(I32)
        lookup = [b.base, b.rs, b.cs, k, n, threads, g.i32(-2), used]
        one = g.b.and_(bf16.ready(g), g.b.icmp_signed("==", batch, g.i64(1)))
        g.if_then(one, lambda: g.b.store(g.b.call(self.constant_packed, lookup), packed))
        found = g.b.load(packed, typ=PTR)
        with g.b.if_then(g.b.icmp_unsigned("!=", found, ir.Constant(PTR, None))):
            args = [n, k, a.base, a.cs, found, c.base, c.cs, acc_arg, threads]
            assert bf16.gemv_p is not None, "the bf16 generator's build_core makes it"
            g.b.call(bf16.gemv_p, args)
            g.b.ret_void()

    def prepacked(self) -> ir.Function:
        """red_{s,d}gemm_prepacked: C (+)= A·B with B packed beforehand by ..._pack_b (weights
        packed once, e.g. in a memo). M = 1 takes the same path: with B packed, reading it is
        the cost whatever the row count."""
        fn = self._define(f"{self.prefix}_prepacked", VOID, prepacked_args(), internal=False)
        g = Gen(fn)
        m, n, k, a_ptr, a_rs, a_cs, packed, c_ptr, c_rs, c_cs, acc_arg, requested = fn.args
        zero, one = g.i64(0), g.i64(1)
        a = Operand(a_ptr, zero, zero, a_rs, a_cs)
        c = Operand(c_ptr, zero, zero, c_rs, c_cs)
        accumulate = g.b.icmp_signed("!=", acc_arg, g.i32(0))
        empty = g.b.or_(g.b.icmp_signed("<=", m, zero), g.b.icmp_signed("<=", n, zero))
        with g.b.if_then(empty, likely=False):
            g.b.ret_void()
        with g.b.if_then(g.b.icmp_signed("<=", k, zero), likely=False):
            with g.b.if_then(g.b.not_(accumulate)):
                self.zero_c(g, one, one, m, n, c)
            g.b.ret_void()
        macs = g.b.mul(m, g.b.mul(n, k))
        threads = g.b.select(
            g.b.icmp_signed("<", macs, g.i64(PARALLEL_MIN_FLOPS // 2)),
            one,
            g.b.call(self.rt.threads, [requested]),
        )
        with g.b.if_then(g.b.icmp_signed("==", m, one)):
            # One row: the packed panels streamed once, NR columns of y at a time.
            gemv = self.gemv_packed()
            g.b.call(gemv, [n, k, a_ptr, a_cs, packed, c_ptr, c_cs, acc_arg, threads])
            g.b.ret_void()
        unused = Operand(ir.Constant(PTR, None), zero, zero, zero, zero)
        operands = [*a.fields(), *unused.fields(), *c.fields()]
        g.b.call(self.gemm_fn, [one, one, m, n, k, *operands, accumulate, threads, packed])
        g.b.ret_void()
        return fn

    def gemv_packed(self) -> ir.Function:
        """y (+)= x · B for a packed B: per NR-column panel, NV vector accumulators over all of
        k (each KC slice's kc x NR rows are contiguous), then one store of the panel's y."""
        blk, elt, lanes, vty = self.blk, self.elt, self.lanes, self.vty
        nr, nv = blk.nr, blk.nv
        args = [("n", I64), ("k", I64), ("x", PTR), ("incx", I64), ("packed", PTR)]
        args += [("y", PTR), ("incy", I64), ("accumulate", I32), ("threads", I64)]
        fn = self._define(f"{self.prefix}.gemv_packed", VOID, args)
        g = Gen(fn)
        n, k_real, x_real, incx_real, packed, y, incy, acc_arg, threads = fn.args
        x, incx, k = self.gemv_input(g, x_real, incx_real, k_real)
        panels = g.ceil_div(n, g.i64(nr))
        per_task, count = balanced_split(g, panels, g.b.mul(threads, g.i64(4)), 1)
        fields = [n, k, x, incx, packed, y, incy, acc_arg, per_task, self.packed_columns(g, n)]
        valign = lanes * self.peb
        pvty = ir.VectorType(self.pelt, lanes)

        def task(wg: Gen, f: list[Value], t: Value, _s: list[Value]) -> None:
            wn, wk, wx, wincx, wpacked, wy, wincy, wacc, wper, columns = f
            accumulate = wg.b.icmp_signed("!=", wacc, wg.i32(0))
            q0 = wg.b.mul(t, wper)
            q1 = wg.min(wg.ceil_div(wn, wg.i64(nr)), wg.b.add(q0, wper))

            def panel(q: Value, _: list[Value]) -> None:
                def k_slice(pc: Value, acc: list[Value]) -> list[Value]:
                    kc = wg.min(wg.i64(blk.kc), wg.b.sub(wk, pc))
                    off = wg.b.add(wg.b.mul(pc, columns), wg.b.mul(wg.b.mul(q, kc), wg.i64(nr)))
                    base = wg.offset(wpacked, off, self.pelt)

                    def row(kk: Value, acc1: list[Value]) -> list[Value]:
                        xk = wg.load(wx, wg.b.mul(wg.b.add(pc, kk), wincx), self.pelt)
                        xs = self.splat_packed(wg, xk)
                        row0 = wg.b.mul(kk, wg.i64(nr))
                        return [self.multiply_add(wg, xs, wg.vload(
                                    base, wg.b.add(row0, wg.i64(v * lanes)), pvty, valign), acc1[v])
                                for v in range(nv)]  # fmt: skip

                    return wg.loop(0, kc, 1, row, acc, name="gpk")

                zero = ir.Constant(vty, None)
                acc = wg.loop(0, wk, blk.kc, k_slice, [zero] * nv, name="gpc")
                j0 = wg.b.mul(q, wg.i64(nr))
                valid = wg.min(wg.i64(nr), wg.b.sub(wn, j0))

                def unit() -> None:
                    for v in range(nv):
                        mask = wg.mask_below(valid, lanes, v * lanes)
                        idx = wg.b.add(j0, wg.i64(v * lanes))
                        old = wg.masked_load(wy, idx, vty, mask)
                        value = wg.b.select(accumulate, wg.b.fadd(acc[v], old), acc[v])
                        wg.masked_store(value, wy, idx, mask)

                def strided() -> None:
                    tile = wg.alloca(elt, nr)
                    for v in range(nv):
                        wg.vstore(acc[v], tile, wg.i64(v * lanes))

                    def col(j: Value, _c: list[Value]) -> None:
                        yi = wg.b.mul(wg.b.add(j0, j), wincy)
                        value = wg.load(tile, j, elt)
                        old = wg.load(wy, yi, elt)
                        wg.store(wg.b.select(accumulate, wg.b.fadd(old, value), value), wy, yi)

                    wg.loop(0, valid, 1, col, name="gps")

                wg.if_else(wg.b.icmp_signed("==", wincy, wg.i64(1)), unit, strided)

            wg.loop(q0, q1, 1, panel, name="gpq")

        self.rt.parallel_tasks(g, f"{fn.name}.tasks", count, threads, fields, task)
        self.gemv_release(g, x_real, x)
        g.b.ret_void()
        return fn

    def gemv_input(self, g: Gen, x: Value, incx: Value, k: Value) -> tuple[Value, Value, Value]:
        """x as the packed gemv reads it, its stride and its length in packed rows."""
        return x, incx, k

    def gemv_release(self, g: Gen, given: Value, used: Value) -> None:
        """Free what gemv_input made."""

    def splat_packed(self, g: Gen, value: Value) -> Value:
        """A packed element in every lane."""
        return g.splat(value, self.lanes)

    def multiply_add(self, g: Gen, x: Value, b: Value, acc: Value) -> Value:
        """acc + x·b on vectors of packed elements."""
        return g.fma(x, b, acc)

    def packed_columns(self, g: Gen, n: Value) -> Value:
        """Elements per row of k in a packed B: n rounded up to whole panels."""
        return g.round_up(n, self.blk.nr)

    def pack_b_entry(self) -> ir.Function:
        """red_{s,d}gemm_pack_b(k, n, b, b_rs, b_cs, dst, nthreads) and
        red_{s,d}gemm_packed_b_size(k, n) (elements): B in the layout the tasks read, for
        each KC slice of k (at pc·packed_columns) its NR-column panels of kc x NR."""
        blk, elt = self.blk, self.elt
        private = not self.public
        size = self._define(f"{self.prefix}_packed_b_size", I64, [("k", I64), ("n", I64)], private)
        g = Gen(size)
        k, n = size.args
        zero = g.i64(0)
        empty = g.b.or_(g.b.icmp_signed("<=", k, zero), g.b.icmp_signed("<=", n, zero))
        g.b.ret(g.b.select(empty, zero, g.b.mul(self.steps(g, k), self.packed_columns(g, n))))
        self.packed_size = size

        fn = self._define(f"{self.prefix}_pack_b", VOID, pack_b_args(), internal=private)
        g = Gen(fn)
        k, n, b, rs, cs, dst, requested = fn.args
        empty = g.b.or_(g.b.icmp_signed("<=", k, g.i64(0)), g.b.icmp_signed("<=", n, g.i64(0)))
        with g.b.if_then(empty, likely=False):
            g.b.ret_void()
        small = g.b.icmp_signed("<", g.b.mul(k, n), g.i64(1 << 18))
        threads = g.b.select(small, g.i64(1), g.b.call(self.rt.threads, [requested]))
        k_blocks = g.ceil_div(self.steps(g, k), g.i64(blk.kc))
        width, col_blocks = balanced_split(g, n, g.ceil_div(n, g.i64(blk.nc)), blk.nr)
        fields = [k, n, b, rs, cs, dst, width, col_blocks, self.packed_columns(g, n)]

        def task(wg: Gen, f: list[Value], t: Value, _s: list[Value]) -> None:
            wk, wn, wb, wrs, wcs, wdst, wwidth, wblocks, columns = f
            pc = wg.b.mul(wg.b.sdiv(t, wblocks), wg.i64(blk.kc))
            j0 = wg.b.mul(wg.b.srem(t, wblocks), wwidth)
            kc = wg.min(wg.i64(blk.kc), wg.b.sub(self.steps(wg, wk), pc))
            cols = wg.b.sub(wg.min(wn, wg.b.add(j0, wwidth)), j0)
            row = self.source_row(wg, pc)
            src = wg.offset(wb, wg.b.add(wg.b.mul(row, wrs), wg.b.mul(j0, wcs)), elt)
            out = wg.offset(wdst, wg.b.add(wg.b.mul(pc, columns), wg.b.mul(j0, kc)), self.pelt)
            krows = self.rows_from(wg, wk, pc, kc)
            wg.b.call(self.pack_b, [src, wrs, wcs, kc, cols, out, krows])

        tasks = g.b.mul(k_blocks, col_blocks)
        self.rt.parallel_tasks(g, f"{fn.name}.tasks", tasks, threads, fields, task)
        g.b.ret_void()

        bytes_fn = self._define(f"{self.prefix}.packed_b_bytes", I64, [("k", I64), ("n", I64)])
        g = Gen(bytes_fn)
        g.b.ret(g.b.mul(g.b.call(size, list(bytes_fn.args)), g.i64(self.peb)))
        self.packed_bytes = bytes_fn
        return fn

    def gemm_core(self) -> ir.Function:
        """The internal `gemm(batch, batch1, m, n, k, a, b, c (5 fields each), accumulate,
        threads, packed)`: A packed whole, then the task grid; B packed by each task, or read
        from `packed` (red_{s,d}gemm_pack_b's layout) when that is not null."""
        blk, elt = self.blk, self.elt
        mr, nr, kcmax = blk.mr, blk.nr, blk.kc
        args: list[tuple[str, ir.Type]] = [(n, I64) for n in ("batch", "batch1", "m", "n", "k")]
        for operand in ("a", "b", "c"):
            args.append((operand, PTR))
            args += [(f"{operand}_{s}", I64) for s in OPERAND_ARGS]
        args += [("accumulate", I1), ("threads", I64), ("packed", PTR)]
        fn = self._define(f"{self.prefix}.gemm", VOID, args)
        g = Gen(fn)
        fa = list(fn.args)
        batch, batch1, m, n, k = fa[0:5]
        a, b, c = Operand.of(fa[5:10]), Operand.of(fa[10:15]), Operand.of(fa[15:20])
        accumulate, threads, packed = fa[20:23]
        name = fn.name
        # Pack all of A: panel t = batch * P + p holds rows p*MR .. of that batch.
        panels = g.ceil_div(m, g.i64(mr))
        a_panels = g.b.mul(batch, panels)
        panel_size = g.b.mul(g.i64(mr), self.steps(g, k))
        apack = g.b.call(self.rt.malloc, [g.b.mul(g.b.mul(a_panels, panel_size), g.i64(self.peb))])

        def pack_task(wg: Gen, f: list[Value], t: Value, _s: list[Value]) -> None:
            op, b1, wm, wk, wpanels, wdst = Operand.of(f[0:5]), f[5], f[6], f[7], f[8], f[9]
            bt, p = wg.b.sdiv(t, wpanels), wg.b.srem(t, wpanels)
            row0 = wg.b.mul(p, wg.i64(mr))
            base = wg.offset(op.at_batch(wg, bt, b1, elt), wg.b.mul(row0, op.rs), elt)
            mv = wg.min(wg.i64(mr), wg.b.sub(wm, row0))
            size = wg.b.mul(wg.i64(mr), self.steps(wg, wk))
            out = wg.offset(wdst, wg.b.mul(t, size), self.pelt)
            wg.b.call(self.pack_a, [base, op.rs, op.cs, mv, wk, out])

        self.rt.parallel_tasks(
            g,
            f"{name}.pack_a_tasks",
            a_panels,
            threads,
            [*a.fields(), batch1, m, k, panels, apack],
            pack_task,
        )

        # The task grid: batch x row blocks x column blocks.
        mc_width, m_blocks = balanced_split(g, m, g.ceil_div(m, g.i64(blk.mc)), mr)
        n_blocks = g.ceil_div(n, g.i64(blk.nc))
        outer = g.b.mul(batch, m_blocks)
        # With several threads, split columns until each thread has about `tasks_per_thread`
        # equal tasks and the count shares out evenly: a thread slowed down (a shared core)
        # leaves its later tasks to the others. Narrower column blocks cost nothing: each
        # task packs only its own columns of B, and A is packed once for all.
        wanted = g.ceil_div(g.b.mul(threads, g.i64(blk.tasks_per_thread)), outer)
        wanted = g.round_up(g.max(n_blocks, wanted), threads)
        parallel = g.b.icmp_signed(">", threads, g.i64(1))
        n_blocks = g.b.select(parallel, g.min(wanted, g.ceil_div(n, g.i64(nr))), n_blocks)
        nc_width, n_blocks = balanced_split(g, n, n_blocks, nr)
        tasks = g.b.mul(outer, n_blocks)

        fields = [
            *b.fields(), *c.fields(), batch1, m, n, k, accumulate, apack, panels,
            m_blocks, n_blocks, mc_width, nc_width, packed, self.packed_columns(g, n),
        ]  # fmt: skip

        def setup(wg: Gen, f: list[Value]) -> list[Value]:
            """The thread's buffer for B's panels (none when B comes packed)."""
            slot = wg.alloca(PTR)
            wg.b.store(ir.Constant(PTR, None), slot)

            def allocate() -> None:
                bytes_ = wg.b.mul(wg.b.mul(wg.i64(kcmax), f[20]), wg.i64(self.peb))
                wg.b.store(wg.b.call(self.rt.malloc, [bytes_]), slot)

            wg.if_then(wg.b.icmp_unsigned("==", f[21], ir.Constant(PTR, None)), allocate)
            return [wg.b.load(slot, typ=PTR)]

        def teardown(wg: Gen, scratch: list[Value]) -> None:
            wg.b.call(self.rt.free, scratch)

        def task(wg: Gen, f: list[Value], t: Value, scratch: list[Value]) -> None:
            self.gemm_task(wg, f, t, scratch[0])

        self.rt.parallel_tasks(g, f"{name}.tasks", tasks, threads, fields, task, setup, teardown)
        g.b.call(self.rt.free, [apack])
        g.b.ret_void()
        return fn

    def gemm_task(self, g: Gen, f: list[Value], t: Value, bpack: Value) -> None:
        """One task: rows [i0, i1) x columns [j0, j1) of one batch, all of k. B is packed into
        `bpack` slice by slice, or read from the packed B of the fields when that is given
        (red_{s,d}gemm_pack_b's layout: slice pc at pc·packed_columns, this task's panels at
        j0·kc within it)."""
        blk, elt = self.blk, self.elt
        mr, nr, kcmax = blk.mr, blk.nr, blk.kc
        b, c = Operand.of(f[0:5]), Operand.of(f[5:10])
        batch1, m, n, k, accumulate, apack, panels = f[10:17]
        m_blocks, n_blocks, mc_width, nc_width, packed, packed_columns = f[17:23]
        is_packed = g.b.icmp_unsigned("!=", packed, ir.Constant(PTR, None))
        per_batch = g.b.mul(m_blocks, n_blocks)
        bt = g.b.sdiv(t, per_batch)
        rest = g.b.srem(t, per_batch)
        i0 = g.b.mul(g.b.sdiv(rest, n_blocks), mc_width)
        j0 = g.b.mul(g.b.srem(rest, n_blocks), nc_width)
        i1 = g.min(m, g.b.add(i0, mc_width))
        width = g.b.sub(g.min(n, g.b.add(j0, nc_width)), j0)
        b_base = g.offset(b.at_batch(g, bt, batch1, elt), g.b.mul(j0, b.cs), elt)
        c_base = g.offset(c.at_batch(g, bt, batch1, elt), g.b.mul(j0, c.cs), elt)
        k_real, k = k, self.steps(g, k)  # k counts packed rows from here on
        pelt = self.pelt

        def k_slice(pc: Value, _: list[Value]) -> None:
            kc = g.min(g.i64(kcmax), g.b.sub(k, pc))
            src = g.offset(b_base, g.b.mul(self.source_row(g, pc), b.rs), elt)
            krows = self.rows_from(g, k_real, pc, kc)
            g.if_then(
                g.b.not_(is_packed),
                lambda: g.b.call(self.pack_b, [src, b.rs, b.cs, kc, width, bpack, krows]),
            )
            offset = g.b.add(g.b.mul(pc, packed_columns), g.b.mul(j0, kc))
            panels_of_b = g.b.select(is_packed, g.offset(packed, offset, pelt), bpack)
            acc = g.b.or_(accumulate, g.b.icmp_signed(">", pc, g.i64(0)))
            # A packed B comes from memory (a weight read once per call): each tile prefetches
            # a share of the panels the task reads next (its next slice of k, else the next
            # column block's first), so they are in L2 when their slice starts.
            last_slice = g.b.icmp_signed(">=", g.b.add(pc, g.i64(kcmax)), k)
            next_pc = g.b.select(last_slice, g.i64(0), g.b.add(pc, g.i64(kcmax)))
            next_j0 = g.b.select(last_slice, g.b.add(j0, width), j0)
            next_kc = g.min(g.i64(kcmax), g.b.sub(k, next_pc))
            next_off = g.b.add(g.b.mul(next_pc, packed_columns), g.b.mul(next_j0, next_kc))
            next_bytes = g.b.mul(g.b.mul(g.round_up(width, nr), next_kc), g.i64(self.peb))
            row_tiles = g.ceil_div(width, g.i64(nr))
            tile_bytes = g.b.mul(g.b.sdiv(kc, g.i64(blk.ku)), g.i64(64))

            def tile(ir_: Value, jr: Value) -> None:
                panel = g.b.add(g.b.mul(bt, panels), g.b.sdiv(ir_, g.i64(mr)))
                a_off = self.a_offset(g, panel, k, pc)
                a_ptr = g.offset(apack, a_off, pelt)
                mv = g.min(g.i64(mr), g.b.sub(m, ir_))
                nvalid = g.min(g.i64(nr), g.b.sub(width, jr))
                b_ptr = g.offset(panels_of_b, g.b.mul(jr, kc), pelt)
                c_off = g.b.add(g.b.mul(ir_, c.rs), g.b.mul(jr, c.cs))
                c_ptr = g.offset(c_base, c_off, elt)
                q = g.b.add(g.b.mul(g.b.sdiv(g.b.sub(ir_, i0), g.i64(mr)), row_tiles),
                            g.b.sdiv(jr, g.i64(nr)))  # fmt: skip
                share = g.b.mul(q, tile_bytes)
                share = g.b.select(g.b.icmp_signed("<", share, next_bytes), share, g.i64(0))
                ahead = g.offset(g.offset(packed, next_off, pelt), share, I8)
                pf = g.b.select(is_packed, ahead, b_ptr)
                call_args = [kc, a_ptr, b_ptr, c_ptr, c.rs, c.cs, mv, nvalid, acc, pf, k]
                self.dispatch_kernel(g, nvalid, call_args)

            # The A micro-panel stays in L1 while the B micro-panels stream from L2 (measured
            # no slower than the opposite order at GPT-2 sizes on this AVX-512 core).
            def row_panel(ir_: Value, _: list[Value]) -> None:
                g.loop(0, width, nr, lambda jr, _c: tile(ir_, jr), name="jr")

            def column_panel(jr: Value, _: list[Value]) -> None:
                g.loop(i0, i1, mr, lambda ir_, _c: tile(ir_, jr), name="ir")

            if self.columns_outer:
                g.loop(0, width, nr, column_panel, name="jr")
            else:
                g.loop(i0, i1, mr, row_panel, name="ir")

        g.loop(0, k, kcmax, k_slice, name="pc")

    def dispatch_kernel(self, g: Gen, nvalid: Value, call_args: list[Value]) -> None:
        """Call the narrowest micro-kernel covering `nvalid` columns."""
        done = g.b.append_basic_block("tile.done")
        for nv in range(self.blk.nv, 1, -1):
            this = g.b.append_basic_block(f"tile.{nv}")
            narrower = g.b.append_basic_block(f"tile.lt{nv}")
            wide = g.b.icmp_signed(">", nvalid, g.i64((nv - 1) * self.lanes))
            g.b.cbranch(wide, this, narrower)
            g.b.position_at_end(this)
            g.b.call(self.kernels[nv], call_args)
            g.b.branch(done)
            g.b.position_at_end(narrower)
        g.b.call(self.kernels[1], call_args)
        g.b.branch(done)
        g.b.position_at_end(done)

    def zero_c(self, g: Gen, batch: Value, batch1: Value, m: Value, n: Value, c: Operand) -> None:
        """C = 0 (k = 0 and not accumulating)."""

        def per_batch(bt: Value, _: list[Value]) -> None:
            base = c.at_batch(g, bt, batch1, self.elt)

            def row(i: Value, _r: list[Value]) -> None:
                def col(j: Value, _c: list[Value]) -> None:
                    idx = g.b.add(g.b.mul(i, c.rs), g.b.mul(j, c.cs))
                    g.store(ir.Constant(self.elt, 0.0), base, idx)

                g.loop(0, n, 1, col, name="zj")

            g.loop(0, m, 1, row, name="zi")

        g.loop(0, batch, 1, per_batch, name="zb")

    # endregion Driver

    # region Matrix-vector

    def gemv_batched(self) -> ir.Function:
        """y (+)= x · B for each batch: x has k elements (stride x.cs), B is k x n, y has n
        elements (stride y.cs)."""
        elt = self.elt
        args: list[tuple[str, ir.Type]] = [("batch", I64), ("batch1", I64), ("n", I64), ("k", I64)]
        for operand in ("x", "b", "y"):
            args.append((operand, PTR))
            args += [(f"{operand}_{s}", I64) for s in OPERAND_ARGS]
        args += [("accumulate", I32), ("threads", I64)]
        fn = self._define(f"{self.prefix}.gemv", VOID, args)
        g = Gen(fn)
        a = list(fn.args)
        batch, batch1, n, k = a[0:4]
        x, mat, y = Operand.of(a[4:9]), Operand.of(a[9:14]), Operand.of(a[14:19])
        accumulate = g.b.icmp_signed("!=", a[19], g.i32(0))
        threads = a[20]
        one = g.i64(1)
        rows_path = g.b.and_(g.b.icmp_signed("==", mat.cs, one), g.b.icmp_signed("==", y.cs, one))
        dot_path = g.b.icmp_signed("==", mat.rs, one)
        fields = [*x.fields(), *mat.fields(), *y.fields(), batch1, n, k, accumulate]

        def split(chunk: int) -> tuple[Value, Value, Value]:
            width, count = balanced_split(g, n, g.ceil_div(n, g.i64(chunk)), self.lanes)
            uneven = g.b.icmp_signed("!=", g.b.srem(g.b.mul(batch, count), threads), g.i64(0))
            wanted = g.min(g.round_up(count, threads), g.ceil_div(n, g.i64(self.lanes)))
            count = g.b.select(uneven, wanted, count)
            width, count = balanced_split(g, n, count, self.lanes)
            return width, count, g.b.mul(batch, count)

        def run(name: str, chunk: int, body, scratch: bool = False) -> None:
            width, count, tasks = split(chunk)

            def task(wg: Gen, f: list[Value], t: Value, s: list[Value]) -> None:
                wx, wm, wy = Operand.of(f[0:5]), Operand.of(f[5:10]), Operand.of(f[10:15])
                b1, wn, wk, wacc, wwidth, wcount = f[15:21]
                bt, chunk_index = wg.b.sdiv(t, wcount), wg.b.srem(t, wcount)
                j0 = wg.b.mul(chunk_index, wwidth)
                cols = wg.b.sub(wg.min(wn, wg.b.add(j0, wwidth)), j0)
                xb = wx.at_batch(wg, bt, b1, elt)
                if scratch:  # x contiguous: as given, or gathered into the thread's buffer
                    xb = self.contiguous_vector(wg, xb, wx.cs, wk, s[0])
                mb = wg.offset(wm.at_batch(wg, bt, b1, elt), wg.b.mul(j0, wm.cs), elt)
                yb = wg.offset(wy.at_batch(wg, bt, b1, elt), wg.b.mul(j0, wy.cs), elt)
                body(wg, xb, wx.cs, mb, wm, yb, wy.cs, cols, wk, wacc)

            def setup(wg: Gen, f: list[Value]) -> list[Value]:
                return [wg.b.call(self.rt.malloc, [wg.b.mul(f[17], wg.i64(self.eb))])]

            def teardown(wg: Gen, s: list[Value]) -> None:
                wg.b.call(self.rt.free, s)

            self.rt.parallel_tasks(
                g,
                f"{fn.name}.{name}",
                tasks,
                threads,
                [*fields, width, count],
                task,
                setup if scratch else None,
                teardown if scratch else None,
            )

        g.if_else(
            rows_path,
            lambda: run("rows", GEMV_CHUNK, self.gemv_rows),
            lambda: g.if_else(
                dot_path,
                lambda: run("dot", GEMV_DOT_COLUMNS, self.gemv_dot, scratch=True),
                lambda: run("scalar", GEMV_DOT_COLUMNS, self.gemv_scalar),
            ),
        )
        g.b.ret_void()
        return fn

    def gemv_rows(self, g, x, incx, mat, mop, y, _incy, cols, k, accumulate) -> None:
        """B rows contiguous: y[0:cols] = (acc ? y : 0) + sum_k x[k]·B[k, 0:cols], GEMV_ROWS_GROUP
        rows of B per pass over the chunk of y."""
        elt, lanes, vty = self.elt, self.lanes, self.vty
        rs = mop.rs
        vmain = g.b.sub(cols, g.b.srem(cols, g.i64(lanes)))
        tail_mask = g.mask_below(g.b.sub(cols, vmain), lanes)
        with g.b.if_then(g.b.not_(accumulate)):
            g.loop(0, vmain, lanes, lambda j, _: g.vstore(ir.Constant(vty, None), y, j), name="z")
            g.masked_store(ir.Constant(vty, None), y, vmain, tail_mask)
        group = GEMV_ROWS_GROUP
        kmain = g.b.sub(k, g.b.srem(k, g.i64(group)))

        def rows_step(k0: Value, count: int) -> None:
            xs = [g.splat(g.load(x, g.b.mul(g.b.add(k0, g.i64(u)), incx), elt), lanes)
                  for u in range(count)]  # fmt: skip
            row_offsets = [g.b.mul(g.b.add(k0, g.i64(u)), rs) for u in range(count)]

            def vec(j: Value, masked: bool) -> None:
                acc = g.masked_load(y, j, vty, tail_mask) if masked else g.vload(y, j, vty)
                for u in range(count):
                    idx = g.b.add(row_offsets[u], j)
                    bv = (
                        g.masked_load(mat, idx, vty, tail_mask)
                        if masked
                        else g.vload(mat, idx, vty)
                    )
                    acc = g.fma(xs[u], bv, acc)
                if masked:
                    g.masked_store(acc, y, j, tail_mask)
                else:
                    g.vstore(acc, y, j)

            g.loop(0, vmain, lanes, lambda j, _: vec(j, False), name="gv")
            with g.b.if_then(g.b.icmp_signed("<", vmain, cols)):
                vec(vmain, True)

        g.loop(0, kmain, group, lambda k0, _: rows_step(k0, group), name="gk")
        g.loop(kmain, k, 1, lambda k0, _: rows_step(k0, 1), name="gkt")

    def contiguous_vector(self, g: Gen, x: Value, inc: Value, k: Value, buffer: Value) -> Value:
        """x itself when its stride is 1, else its k elements copied into `buffer`."""
        elt = self.elt
        slot = g.alloca(PTR)
        g.b.store(x, slot)

        def gather() -> None:
            def copy(kk: Value, _: list[Value]) -> None:
                g.store(g.load(x, g.b.mul(kk, inc), elt), buffer, kk)

            g.loop(0, k, 1, copy, name="gx")
            g.b.store(buffer, slot)

        g.if_then(g.b.icmp_signed("!=", inc, g.i64(1)), gather)
        return g.b.load(slot, typ=PTR)

    def gemv_dot(self, g, x, _incx, mat, mop, y, incy, cols, k, accumulate) -> None:
        """B^T rows contiguous (B's columns), x contiguous: y[j] = (acc ? y[j] : 0) +
        dot(x, B[:, j]), four columns at a time with two accumulators each."""
        elt, lanes, vty = self.elt, self.lanes, self.vty
        cs = mop.cs
        group, unroll = 4, 2
        step = lanes * unroll
        kmain = g.b.sub(k, g.b.srem(k, g.i64(step)))
        kvec = g.b.sub(k, g.b.srem(k, g.i64(lanes)))
        tail_mask = g.mask_below(g.b.sub(k, kvec), lanes)

        def columns(j0: Value, count: int) -> None:
            bases = [g.b.mul(g.b.add(j0, g.i64(u)), cs) for u in range(count)]

            def body(kk: Value, acc: list[Value]) -> list[Value]:
                out = list(acc)
                for s in range(unroll):
                    ks = g.b.add(kk, g.i64(s * lanes))
                    xv = g.vload(x, ks, vty)
                    for u in range(count):
                        bv = g.vload(mat, g.b.add(bases[u], ks), vty)
                        out[u * unroll + s] = g.fma(xv, bv, acc[u * unroll + s])
                return out

            zero = ir.Constant(vty, None)
            acc = g.loop(0, kmain, step, body, [zero] * (count * unroll), name="dk")

            def single(kk: Value, acc1: list[Value]) -> list[Value]:
                xv = g.vload(x, kk, vty)
                return [g.fma(xv, g.vload(mat, g.b.add(bases[u], kk), vty), acc1[u])
                        for u in range(count)]  # fmt: skip

            first = [acc[u * unroll] for u in range(count)]
            acc1 = g.loop(kmain, kvec, lanes, single, first, name="dk1")
            xt = g.masked_load(x, kvec, vty, tail_mask)
            for u in range(count):
                bt = g.masked_load(mat, g.b.add(bases[u], kvec), vty, tail_mask)
                total = g.fma(xt, bt, acc1[u])
                for s in range(1, unroll):
                    total = g.b.fadd(total, acc[u * unroll + s])
                dot = g.reduce(total, g.b.fadd)
                yi = g.b.mul(g.b.add(j0, g.i64(u)), incy)
                old = g.load(y, yi, elt)
                g.store(g.b.select(accumulate, g.b.fadd(old, dot), dot), y, yi)

        cmain = g.b.sub(cols, g.b.srem(cols, g.i64(group)))
        g.loop(0, cmain, group, lambda j0, _: columns(j0, group), name="dj")
        g.loop(cmain, cols, 1, lambda j0, _: columns(j0, 1), name="dj1")

    def gemv_scalar(self, g, x, incx, mat, mop, y, incy, cols, k, accumulate) -> None:
        """Any strides: plain dot products in k order."""
        elt = self.elt

        def col(j: Value, _: list[Value]) -> None:
            def step(kk: Value, acc: list[Value]) -> list[Value]:
                bv = g.load(mat, g.b.add(g.b.mul(kk, mop.rs), g.b.mul(j, mop.cs)), elt)
                return [g.b.fadd(acc[0], g.b.fmul(g.load(x, g.b.mul(kk, incx), elt), bv))]

            dot = g.loop(0, k, 1, step, [ir.Constant(elt, 0.0)], name="sk")[0]
            yi = g.b.mul(j, incy)
            old = g.load(y, yi, elt)
            g.store(g.b.select(accumulate, g.b.fadd(old, dot), dot), y, yi)

        g.loop(0, cols, 1, col, name="sj")

    # endregion Matrix-vector
