"""red.matmul: a call of the kernel library's matmul (lowering/kernels: packed, cache-blocked,
threaded; the matrix-vector path when M = 1) for f32 and f64 on at most two batch dims after
merging, with a transposed operand read through strides; otherwise (integers, f16, more batch
dims, empty operands) a call of the module's own matmul kernel per (broadcast) batch entry,
one private function per element type: a register-blocked micro-kernel whose tiles of C stay
in vector registers across the k loop (FMA)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdsl.builder import Builder
from xdsl.dialects import arith, func, memref, vector
from xdsl.dialects.builtin import FunctionType, MemRefType, VectorType, f32, f64, i1
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.rewriter import InsertPoint

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.dims import Dim, Poly, product
from red.lowering.loops.emitter import INDEX, Emitter, is_float
from red.lowering.loops.kernel_calls import (
    KernelArg,
    call_kernel,
    kernel_int,
    num_threads,
    pointer,
)
from red.lowering.loops.rules import lowers
from red.lowering.loops.sizes import is_flat
from red.lowering.loops.target import Target
from red.lowering.loops.values import Fused

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering

_GEMM = {f32: "red_sgemm", f64: "red_dgemm"}
"""The library's matmul entry points by element type."""


@lowers(red.MatmulOp)
def _matmul(bl: BlockLowering, op: red.MatmulOp) -> None:
    """C = A·B: a library call where it covers the op, else the module's loop kernel."""
    c_shape = bl.dims(op.result)
    for v in (op.lhs, op.rhs):
        batch = bl.dims(v)[:-2]
        lead = len(c_shape) - 2 - len(batch)
        if any(isinstance(d, Poly) and d != c_shape[lead + j] for j, d in enumerate(batch)):
            raise DiagnosticError.at(
                op, f"'{op.name}' op broadcasts a dynamic batch dim: not supported by the lowering"
            )
    if not library_matmul(bl, op):
        loop_matmul(bl, op)


@dataclass
class StridedOperand:
    """A matmul operand as the library reads it: element (batch..., i, j) of `mem` at
    sum(batch index * batch stride) + i*rs + j*cs (in elements; stride 0 broadcasts)."""

    mem: SSAValue
    batch: list[Dim]
    rs: Dim
    cs: Dim


def strided_operand(bl: BlockLowering, v: SSAValue, batch_shape: Sequence[Dim]) -> StridedOperand:
    """`v` (a matmul operand) over the result's batch dims `batch_shape`. A transpose of the
    last two dims that the driver left unmaterialized (fused into this use) is read from its
    input with the row and column strides swapped."""
    lowered = bl.values.get(v)
    swap = False
    if isinstance(lowered, Fused) and isinstance(t := lowered.op, red.TransposeOp):
        perm = list(t.permutation.get_values())
        rank = len(perm)
        if perm == [*range(rank - 2), rank - 1, rank - 2]:
            v, swap = t.input, True
    shape = bl.dims(v)
    strides = [product(shape[d + 1 :]) for d in range(len(shape))]
    rs, cs = strides[-2], strides[-1]
    if swap:
        rs, cs = cs, rs
    lead = len(batch_shape) - (len(shape) - 2)
    batch = [
        0 if d < 0 or shape[d] == 1 else strides[d]
        for d in (j - lead for j in range(len(batch_shape)))
    ]
    return StridedOperand(bl.buffer(v), batch, rs, cs)


def merge_batch_dims(
    sizes: Sequence[Dim], operands: Sequence[StridedOperand]
) -> tuple[list[Dim], list[list[Dim]]]:
    """The batch dims with those of size 1 dropped and neighbours merged where every operand
    steps through both as through one (stride[d] = stride[d+1]·size[d+1]): (sizes, strides
    per operand)."""
    dims = [(n, [o.batch[d] for o in operands]) for d, n in enumerate(sizes) if n != 1]
    merged: list[tuple[Dim, list[Dim]]] = []
    for n, st in dims:
        if merged:
            pn, pst = merged[-1]
            if all(p == s * n for p, s in zip(pst, st)):
                merged[-1] = (pn * n, st)
                continue
        merged.append((n, st))
    return [n for n, _ in merged], [[st[i] for _, st in merged] for i in range(len(operands))]


def library_matmul(bl: BlockLowering, op: red.MatmulOp) -> bool:
    """C = A·B as one call of red_{s,d}gemm (or _batched, on up to two merged batch dims;
    a broadcast B whose A and C rows run on through the batch is one gemm of batch·M rows).
    False when the library does not cover the op (nothing is emitted then)."""
    elt = red.element_type_of(op.result)
    c_shape = bl.dims(op.result)
    if elt not in _GEMM or product(c_shape) == 0 or bl.dims(op.lhs)[-1] == 0:
        return False
    m, n, k = c_shape[-2], c_shape[-1], bl.dims(op.lhs)[-1]
    batch_shape = c_shape[:-2]
    a = strided_operand(bl, op.lhs, batch_shape)
    b = strided_operand(bl, op.rhs, batch_shape)
    dest = bl.result_buffer(op)
    c = StridedOperand(dest, [product(c_shape[d + 1 :]) for d in range(len(batch_shape))], n, 1)
    sizes, (a_bs, b_bs, c_bs) = merge_batch_dims(batch_shape, [a, b, c])
    if len(sizes) == 1 and b_bs[0] == 0 and a_bs[0] == m * a.rs and c_bs[0] == m * c.rs:
        m, sizes = m * sizes[0], []  # B shared by every batch entry: one taller product
    if len(sizes) > 2:
        loop_matmul(bl, op, dest)
        return True
    name = _GEMM[elt]
    threads = num_threads(bl, 2 * m * n * k * product(sizes))
    ptrs = [pointer(bl, x.mem) for x in (a, b, c)]
    if not sizes:
        args: list[KernelArg | Dim] = [m, n, k]
        for ptr, x in zip(ptrs, (a, b, c)):
            args += [ptr, x.rs, x.cs]
    else:
        pad = [1] * (2 - len(sizes))
        args = [*pad, *sizes, m, n, k]
        for ptr, x, bs in zip(ptrs, (a, b, c), (a_bs, b_bs, c_bs)):
            args += [ptr, *[0] * len(pad), *bs, x.rs, x.cs]
        name = f"{name}_batched"
    values = [kernel_int(bl, x) if isinstance(x, Poly) else x for x in args]
    call_kernel(bl, name, [*values, 0, threads])
    return True


def loop_matmul(bl: BlockLowering, op: red.MatmulOp, dest: SSAValue | None = None) -> None:
    """C = A·B: one call of the module's kernel per entry of the broadcast batch dims, on
    flat views (`dest`: the result buffer if already made)."""
    dest = dest if dest is not None else bl.result_buffer(op)
    e = bl.e
    a, b, c = flat_view(bl.buffer(op.lhs), e), flat_view(bl.buffer(op.rhs), e), flat_view(dest, e)
    a_shape, b_shape, c_shape = bl.dims(op.lhs), bl.dims(op.rhs), bl.dims(op.result)
    m, k, n = c_shape[-2], a_shape[-1], c_shape[-1]
    elt = red.element_type_of(op.result)
    target = bl.module.target
    kernel = bl.module.function(
        f"__red_matmul_{elt}", lambda name: matmul_kernel_function(name, elt, target)
    )

    def offset(idx: list[SSAValue], batch: Sequence[Dim], block: Dim) -> SSAValue:
        """The start of this batch entry's matrix in an operand with batch dims `batch`."""
        total: SSAValue | None = None
        lead = len(idx) - len(batch)
        for d, size in enumerate(batch):
            if size != 1:
                term = e.mul_index(idx[lead + d], bl.size(product(batch[d + 1 :]) * block))
                total = term if total is None else e.op(arith.AddiOp(total, term))
        return e.index(0) if total is None else total

    def call(idx: list[SSAValue]) -> None:
        a_off = offset(idx, a_shape[:-2], m * k)
        b_off = offset(idx, b_shape[:-2], k * n)
        c_off = offset(idx, c_shape[:-2], m * n)
        sizes = [e.bound(bl.size(x)) for x in (m, n, k)]
        e.op(func.CallOp(kernel, [a, a_off, b, b_off, c, c_off, *sizes], []))

    e.loop_nest([bl.size(d) for d in c_shape[:-2]], call)


def flat_view(mem: SSAValue, e: Emitter) -> SSAValue:
    """A contiguous buffer as a 1-D memref of dynamic size (the kernel's argument type)."""
    typ = mem.type
    assert isinstance(typ, MemRefType)
    if is_flat(typ):
        return mem
    count = math.prod(typ.get_shape())
    flat = MemRefType(typ.get_element_type(), [count])
    view = e.op(memref.ReinterpretCastOp.from_dynamic(mem, [0], [count], [1], flat))  # type: ignore[arg-type]
    return e.op(memref.CastOp.get(view, MemRefType(typ.get_element_type(), [red.DYNAMIC])))


def matmul_kernel_function(name: str, elt: Attribute, target: Target) -> func.FuncOp:
    """`name(A, a_off, B, b_off, C, c_off, M, N, K)`: C[i, j] = sum_k A[i, k]·B[k, j] on
    row-major 1-D buffers at the given offsets. Floats use tiles of MR rows by NV vectors of
    C held in registers across the k loop (FMA); row and column remainders are narrower."""
    dyn = MemRefType(elt, [red.DYNAMIC])
    block = Block(arg_types=[dyn, INDEX, dyn, INDEX, dyn, INDEX, INDEX, INDEX, INDEX])
    for arg, hint in zip(block.args, ("A", "a_off", "B", "b_off", "C", "c_off", "M", "N", "K")):
        arg.name_hint = hint
    e = Emitter(Builder(InsertPoint.at_end(block)))
    MatmulKernel(e, target, elt, *block.args).emit()
    block.add_op(func.ReturnOp())
    return func.FuncOp(
        name,
        FunctionType.from_lists(list(block.arg_types), []),
        Region(block),
        visibility="private",
    )


@dataclass
class MatmulKernel:
    """Emits the kernel's body; the arguments are the function's block arguments."""

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
    vec: VectorType = field(init=False)

    def round_down(self, x: SSAValue, step: int) -> SSAValue:
        """x - x % step."""
        return self.e.op(arith.SubiOp(x, self.e.op(arith.RemSIOp(x, self.e.index(step)))))

    def at(self, off: SSAValue, row: SSAValue, width: SSAValue, col: SSAValue) -> SSAValue:
        """off + row·width + col."""
        e = self.e
        return e.op(arith.AddiOp(e.op(arith.AddiOp(off, e.op(arith.MuliOp(row, width)))), col))

    def emit(self) -> None:
        lanes = self.target.lanes(self.elt)
        if not (is_float(self.elt) and lanes > 1):
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
        """C[i0 : i0+mr, j0 : j0+nv·lanes] = A[rows, :]·B[:, cols] in mr·nv vector registers."""
        e = self.e
        zero = e.op(vector.BroadcastOp(e.scalar(0.0, self.elt), self.vec))
        cols = [e.add_index(j0, v * lanes) for v in range(nv)]
        rows = [e.add_index(i0, r) for r in range(mr)]

        def step(kk: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
            b_vecs = [
                e.op(vector.LoadOp(self.b, [self.at(self.b_off, kk, self.n, c)], self.vec))
                for c in cols
            ]
            out = list(acc)
            for r in range(mr):
                a_s = e.op(memref.LoadOp.get(self.a, [self.at(self.a_off, rows[r], self.k, kk)]))
                a_v = e.op(vector.BroadcastOp(a_s, self.vec))
                for v in range(nv):
                    out[r * nv + v] = e.op(vector.FMAOp(a_v, b_vecs[v], acc[r * nv + v]))
            return out

        acc = e.for_loop(e.index(0), self.k, 1, [zero] * (mr * nv), step)
        for r in range(mr):
            for v in range(nv):
                where = self.at(self.c_off, rows[r], self.n, cols[v])
                e.op(vector.StoreOp(acc[r * nv + v], self.c, [where]))
        return []

    def scalar_columns(self, j_lo: SSAValue, j_hi: SSAValue) -> None:
        """Plain loops: C[i, j] = sum_k A[i, k]·B[k, j] in k order."""
        e = self.e

        def row(i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            def col(j: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
                def step(kk: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
                    x = e.op(memref.LoadOp.get(self.a, [self.at(self.a_off, i, self.k, kk)]))
                    y = e.op(memref.LoadOp.get(self.b, [self.at(self.b_off, kk, self.n, j)]))
                    return [self.multiply_add(acc[0], x, y)]

                total = e.for_loop(e.index(0), self.k, 1, [e.scalar(0, self.elt)], step)[0]
                e.op(memref.StoreOp.get(total, self.c, [self.at(self.c_off, i, self.n, j)]))
                return []

            e.for_loop(j_lo, j_hi, 1, [], col)
            return []

        e.for_loop(e.index(0), self.m, 1, [], row)

    def multiply_add(self, acc: SSAValue, x: SSAValue, y: SSAValue) -> SSAValue:
        """acc + x·y (on i1: acc or (x and y))."""
        e = self.e
        if is_float(self.elt):
            return e.op(arith.AddfOp(acc, e.op(arith.MulfOp(x, y))))
        if self.elt == i1:
            return e.op(arith.OrIOp(acc, e.op(arith.AndIOp(x, y))))
        return e.op(arith.AddiOp(acc, e.op(arith.MuliOp(x, y))))
