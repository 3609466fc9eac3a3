"""Threads for the kernels, on the library's pthread pool (pool.py): a parallel region runs a
worker on the calling thread and on up to nthreads - 1 pool threads with
`red_kernels_parallel(worker, ctx, nthreads)`, and the workers take task numbers from an atomic
counter in the shared context (dynamic scheduling: equal tasks balance, and a thread slowed
down by another process leaves its remaining tasks to the others). A region ends when the
threads that started it are done: a pool thread still asleep when the tasks run out is not
waited for, so on a machine with more runnable processes than cores a descheduled thread no
longer delays the call by a scheduler time slice (as libgomp's team barrier did), and the pool
sleeps between regions instead of spinning.

libgomp is still loaded by the Python API (JIT-compiled code may reference its symbols) and
its `omp_get_max_threads` is referenced weakly for the default thread count. The thread count
is an argument of every entry point (0: the library default), and the default lives in the
global `red_kernels_num_threads`: set by `red_kernels_set_num_threads` (the Python API sets
RED_NUM_THREADS, else the CPUs the process may use), else read on first use from
RED_NUM_THREADS, else libgomp's `omp_get_max_threads()` where libgomp is linked, else 1.

Every buffer a call needs (packed panels) is allocated by that call, so concurrent calls from
several threads are safe; one call at a time has the pool, the others run on their calling
thread alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import llvmlite.ir as ir

from red.lowering.kernels.irgen import I8, I32, I64, PTR, VOID, Gen, Value, define, get_or_declare
from red.lowering.kernels.pool import PARALLEL, Pool

NUM_THREADS_GLOBAL = "red_kernels_num_threads"
SET_NUM_THREADS = "red_kernels_set_num_threads"
GET_NUM_THREADS = "red_kernels_get_num_threads"
ENV_VAR = "RED_NUM_THREADS"
ALIGN = 64  # bytes: a cache line and an AVX-512 vector

Setup = Callable[[Gen, list[Value]], list[Value]]
TaskBody = Callable[[Gen, list[Value], Value, list[Value]], None]
Teardown = Callable[[Gen, list[Value]], None]


@dataclass
class Runtime:
    """The runtime functions of one module (built once by `Runtime.build`)."""

    module: ir.Module
    threads: ir.Function  # i64 (i32 requested): requested > 0 ? requested : the default
    parallel: ir.Function  # (worker, ctx, n): the pool's region (pool.py)
    malloc: ir.Function  # ptr (i64 bytes): 64-byte aligned; abort() when out of memory
    free: ir.Function  # of a block from `malloc` (null: nothing)

    @staticmethod
    def build(module: ir.Module, state: bool = True, getter: str = GET_NUM_THREADS) -> Runtime:
        """The runtime in `module`; with `state` False the thread-count state (global, getter,
        setter) lives in another module and only its getter is declared here, as `getter`."""
        if state:
            parallel = Pool(module).build()
        else:  # the state unit's pool, by the name of the getter's library
            name = PARALLEL + getter.removeprefix(GET_NUM_THREADS)
            parallel = get_or_declare(module, name, VOID, [PTR, PTR, I64])
        c_malloc = get_or_declare(module, "malloc", PTR, [I64])
        c_free = get_or_declare(module, "free", VOID, [PTR])
        get = build_state(module) if state else get_or_declare(module, getter, I32, [])
        threads = define(module, "red_kernels.threads", I64, [("requested", I32)])
        g = Gen(threads)
        requested = threads.args[0]
        chosen = g.b.select(g.b.icmp_signed(">", requested, g.i32(0)), requested, g.b.call(get, []))
        positive = g.b.select(g.b.icmp_signed(">", chosen, g.i32(0)), chosen, g.i32(1))
        g.b.ret(g.b.sext(positive, I64))

        # 64-byte aligned blocks from plain malloc/free (the block's start is stored just
        # before the aligned address): a library built into a model's module then allocates
        # through the same two functions as the model's code, which tools that count or
        # replace them (leak checks, a custom allocator linked in) see whole.
        malloc = define(module, "red_kernels.malloc", PTR, [("bytes", I64)])
        g = Gen(malloc)
        size = g.b.add(g.round_up(g.max(malloc.args[0], g.i64(1)), ALIGN), g.i64(ALIGN))
        block = g.b.call(c_malloc, [size])
        # Out of memory: the C ABI has no error result, so stop rather than write through null.
        abort = get_or_declare(module, "abort", VOID, [])
        with g.b.if_then(g.b.icmp_unsigned("==", block, ir.Constant(PTR, None)), likely=False):
            g.b.call(abort, [])
            g.b.unreachable()
        # malloc aligns to at least 16 bytes, so the skip is 16..64 and the slot fits before
        skip = g.b.sub(g.i64(ALIGN), g.b.and_(g.b.ptrtoint(block, I64), g.i64(ALIGN - 1)))
        aligned = g.offset(block, skip, I8)
        g.b.store(block, g.offset(aligned, g.i64(-1), PTR))
        g.b.ret(aligned)

        free = define(module, "red_kernels.free", VOID, [("block", PTR)])
        g = Gen(free)
        with g.b.if_then(g.b.icmp_unsigned("!=", free.args[0], ir.Constant(PTR, None))):
            g.b.call(c_free, [g.load(free.args[0], g.i64(-1), PTR)])
        g.b.ret_void()
        return Runtime(module, threads, parallel, malloc, free)

    def parallel_tasks(
        self,
        g: Gen,
        name: str,
        ntasks: Value,
        nthreads: Value,
        fields: Sequence[Value],
        body: TaskBody,
        setup: Setup | None = None,
        teardown: Teardown | None = None,
    ) -> None:
        """Run `body(wg, fields, task, scratch)` for task = 0 .. ntasks-1 on min(nthreads,
        ntasks) threads. `fields` are values of the caller passed to the workers; `setup`
        runs once per thread before its first task and returns its scratch values, which
        `teardown` releases after its last."""
        ctx_type = ir.LiteralStructType([I64, I64, *[f.type for f in fields]])
        worker = define(self.module, f"{name}.worker", VOID, [("ctx", PTR)])
        wg = Gen(worker)
        ctx = worker.args[0]

        def field_ptr(gen: Gen, base: Value, i: int) -> Value:
            return gen.b.gep(base, [gen.i32(0), gen.i32(i)], source_etype=ctx_type)

        counter = field_ptr(wg, ctx, 0)
        total = wg.b.load(field_ptr(wg, ctx, 1), typ=I64)
        values = [wg.b.load(field_ptr(wg, ctx, i + 2), typ=f.type) for i, f in enumerate(fields)]
        scratch = setup(wg, values) if setup else []
        header = wg.b.append_basic_block("tasks.next")
        block = wg.b.append_basic_block("tasks.body")
        done = wg.b.append_basic_block("tasks.done")
        wg.b.branch(header)
        wg.b.position_at_end(header)
        task = wg.b.atomic_rmw("add", counter, wg.i64(1), "monotonic")
        wg.b.cbranch(wg.b.icmp_signed("<", task, total), block, done)
        wg.b.position_at_end(block)
        body(wg, values, task, scratch)
        wg.b.branch(header)
        wg.b.position_at_end(done)
        if teardown:
            teardown(wg, scratch)
        wg.b.ret_void()

        ctx_ptr = g.alloca(ctx_type)
        g.b.store(g.i64(0), field_ptr(g, ctx_ptr, 0))
        g.b.store(ntasks, field_ptr(g, ctx_ptr, 1))
        for i, f in enumerate(fields):
            g.b.store(f, field_ptr(g, ctx_ptr, i + 2))
        self.run(g, worker, ctx_ptr, g.min(nthreads, ntasks))

    def run(self, g: Gen, worker: ir.Function, ctx: Value, nthreads: Value) -> None:
        """worker(ctx) on the calling thread, and on the pool's threads when nthreads > 1."""
        g.b.call(self.parallel, [worker, ctx, nthreads])


def build_state(module: ir.Module) -> ir.Function:
    """The default thread count: its global and the exported setter and getter; the getter
    resolves an unset count from RED_NUM_THREADS, else omp_get_max_threads(), else 1."""
    max_threads = get_or_declare(module, "omp_get_max_threads", I32, [], weak=True)
    getenv = get_or_declare(module, "getenv", PTR, [PTR])
    strtol = get_or_declare(module, "strtol", I64, [PTR, PTR, I32])

    count: Any = ir.GlobalVariable(module, I32, NUM_THREADS_GLOBAL)
    count.initializer = ir.Constant(I32, 0)
    count.align = 4
    name_bytes = bytearray(ENV_VAR.encode() + b"\0")
    env_type = ir.ArrayType(I8, len(name_bytes))
    env_name: Any = ir.GlobalVariable(module, env_type, "red_kernels.env_name")
    env_name.initializer = ir.Constant(env_type, name_bytes)
    env_name.global_constant = True
    env_name.linkage = "private"

    setter = define(module, SET_NUM_THREADS, VOID, [("n", I32)], internal=False)
    g = Gen(setter)
    g.b.store_atomic(setter.args[0], count, "monotonic", 4)
    g.b.ret_void()

    getter = define(module, GET_NUM_THREADS, I32, [], internal=False)
    g = Gen(getter)
    current = g.b.load_atomic(count, "monotonic", 4, typ=I32)
    with g.b.if_then(g.b.icmp_signed("<=", current, g.i32(0)), likely=False):
        text = g.b.call(getenv, [env_name])
        parsed = g.alloca(I32)
        g.b.store(g.i32(0), parsed)
        with g.b.if_then(g.b.icmp_unsigned("!=", text, ir.Constant(PTR, None))):
            value = g.b.call(strtol, [text, ir.Constant(PTR, None), g.i32(10)])
            clamped = g.min(g.max(value, g.i64(0)), g.i64(1 << 16))
            g.b.store(g.b.trunc(clamped, I32), parsed)
        with g.b.if_then(g.b.icmp_signed("<=", g.b.load(parsed, typ=I32), g.i32(0))):
            g.b.store(g.i32(1), parsed)
            has_gomp = g.b.icmp_unsigned("!=", max_threads, ir.Constant(PTR, None))
            with g.b.if_then(has_gomp):
                g.b.store(g.b.call(max_threads, []), parsed)
        g.b.store_atomic(g.b.load(parsed, typ=I32), count, "monotonic", 4)
    g.b.ret(g.b.load_atomic(count, "monotonic", 4, typ=I32))
    return getter


def balanced_split(g: Gen, extent: Value, chunks: Value, step: int) -> tuple[Value, Value]:
    """(width, count): `extent` cut into about `chunks` equal pieces whose width is a multiple
    of `step` (the last piece may be shorter)."""
    chunks = g.max(chunks, g.i64(1))
    width = g.round_up(g.ceil_div(extent, chunks), step)
    width = g.max(width, g.i64(step))
    return width, g.ceil_div(extent, width)
