"""Parallel loop nests in the JIT: each function outline-loop-nests made for a parallel nest
(`red.parallel_nest`: it takes the nest's arguments and its outer loop's [lo, hi) and calls the
outlined nest on the whole range) is redefined in the LLVM module to cut [lo, hi) into about
four chunks per thread and run them on the kernel library's pool (`red_kernels_parallel`,
lowering/kernels/pool.py), the calling thread included.

A worker takes chunk numbers from an atomic counter in the context the caller fills (the
nest's arguments, the range and the chunk size), so a thread slowed down by another process
leaves its chunks to the others. The nests are elementwise (each iteration writes its own
elements and reads none another writes), and every element is computed by the same code
whichever thread runs it: results do not depend on the thread count."""

from __future__ import annotations

from collections.abc import Mapping

import llvmlite.ir as ir

from red.lowering.kernels.irgen import I64, PTR, VOID, Gen, define, get_or_declare
from red.lowering.kernels.pool import PARALLEL

CHUNKS_PER_THREAD = 4


def run_nests_on_threads(ir_module: ir.Module, nests: Mapping[str, str], threads: int) -> None:
    """Redefine each function `caller` of `nests` (caller -> the ranged nest it calls) to
    run the nest's range in chunks on `threads` threads."""
    if threads <= 1 or not nests:
        return
    parallel = get_or_declare(ir_module, PARALLEL, VOID, [PTR, PTR, I64])
    for caller_name, nest_name in nests.items():
        caller = ir_module.get_global(caller_name)
        nest = ir_module.get_global(nest_name)
        assert isinstance(caller, ir.Function)
        assert isinstance(nest, ir.Function)
        _split(ir_module, caller, nest, parallel, threads)


def _split(
    module: ir.Module, caller: ir.Function, nest: ir.Function, parallel: ir.Function, threads: int
) -> None:
    *passed, lo, hi = caller.args
    fields = [I64, I64, I64, I64, *[a.type for a in passed]]  # counter, lo, hi, chunk, args
    ctx_type = ir.LiteralStructType(fields)
    worker = define(module, f"{caller.name}.worker", VOID, [("ctx", PTR)])
    _worker_body(worker, nest, ctx_type, len(passed))

    caller.blocks = []  # the serial body (one call of the nest) is replaced
    g = Gen(caller)
    n = g.b.sub(hi, lo)
    with g.b.if_then(g.b.icmp_signed("<=", n, g.i64(0)), likely=False):
        g.b.ret_void()
    chunks = g.min(n, g.i64(threads * CHUNKS_PER_THREAD))
    chunk = g.ceil_div(n, chunks)
    ctx = g.alloca(ctx_type)
    for i, value in enumerate([g.i64(0), lo, hi, chunk, *passed]):
        g.b.store(value, g.b.gep(ctx, [g.i32(0), g.i32(i)], source_etype=ctx_type))
    g.b.call(parallel, [worker, ctx, g.min(chunks, g.i64(threads))])
    g.b.ret_void()


def _worker_body(
    worker: ir.Function, nest: ir.Function, ctx_type: ir.LiteralStructType, count: int
) -> None:
    """worker(ctx): take chunk numbers until the range is done, calling the nest on each."""
    g = Gen(worker)
    ctx = worker.args[0]

    def field(i: int) -> ir.Value:
        return g.b.gep(ctx, [g.i32(0), g.i32(i)], source_etype=ctx_type)

    lo = g.b.load(field(1), typ=I64)
    hi = g.b.load(field(2), typ=I64)
    chunk = g.b.load(field(3), typ=I64)
    args = [g.b.load(field(4 + i), typ=ctx_type.elements[4 + i]) for i in range(count)]
    header = g.b.append_basic_block("chunk.next")
    body = g.b.append_basic_block("chunk.body")
    done = g.b.append_basic_block("chunk.done")
    g.b.branch(header)
    g.b.position_at_end(header)
    task = g.b.atomic_rmw("add", field(0), g.i64(1), "monotonic")
    start = g.b.add(lo, g.b.mul(task, chunk))
    g.b.cbranch(g.b.icmp_signed("<", start, hi), body, done)
    g.b.position_at_end(body)
    g.b.call(nest, [*args, start, g.min(hi, g.b.add(start, chunk))])
    g.b.branch(header)
    g.b.position_at_end(done)
    g.b.ret_void()
