"""The kernel library's thread pool, on pthreads from libc: `red_kernels_parallel(worker, ctx, n)`
runs `worker(ctx)` on the calling thread and on up to n - 1 pool threads, and returns once the
calling thread's run and every pool thread's run that *started* have returned. A pool thread
that has not woken up by the time the caller has run out of tasks (the workers share tasks
through an atomic counter in ctx) is not waited for: it finds the job closed and sleeps again.
With libgomp a parallel region ends only when every thread of its team has run, so on a
machine with more runnable processes than cores one descheduled thread delayed every call by a
scheduler time slice; and a libgomp loaded earlier by another library (torch's, under the same
soname) spins after each region whatever OMP_WAIT_POLICY says later (measured: a 12 MFLOP
2-thread matmul took 16 ms instead of 1.5 ms with torch imported first).

One job at a time per pool: a caller that finds the pool busy (another application thread's
call) runs its worker alone, as a 1-thread call (the results do not depend on the thread count).
Pool threads are created on first need (detached, at most MAX_WORKERS) and, between jobs, poll
for the next one for SPIN_CYCLES, then sleep on a condition variable. The state is globals of
the module that defines the pool (the library's state unit): a mutex, two condition variables
(glibc's zero initializers), the job (worker, ctx, wanted threads, open flag, generation) and
the count of running participants."""

from __future__ import annotations

from typing import Any

import llvmlite.ir as ir

from red.lowering.kernels.irgen import I8, I32, I64, PTR, VOID, Gen, Value, define, get_or_declare

PARALLEL = "red_kernels_parallel"
MAX_WORKERS = 255
SPIN_CYCLES = 200_000
"""How long a pool thread polls for the next job, and the caller for the helpers' end, before
sleeping on a condition variable: about 60-100 µs at 2-3.5 GHz time-stamp counters (libgomp's
default spin, which torch's copy applies, lasts milliseconds)."""
# Bytes reserved for pthread_mutex_t (40 on x86-64 glibc) and pthread_cond_t (48).
SYNC_BYTES = 64


class _Callee:
    """A function pointer as llvmlite's `call` wants its callee (the function type it calls
    through: llvmlite's opaque pointers do not carry one)."""

    def __init__(self, pointer: Value, function_type: ir.FunctionType):
        self.pointer = pointer
        self.function_type = function_type
        self.type = PTR

    def get_reference(self) -> str:
        return self.pointer.get_reference()


WORKER_TYPE = ir.FunctionType(VOID, [PTR])


class Pool:
    """Emits the pool (globals, the pool threads' loop and the PARALLEL entry) into a module."""

    def __init__(self, module: ir.Module):
        self.module = module
        sync = ir.ArrayType(I8, SYNC_BYTES)
        self.mutex = self._global("red_kernels.pool_mutex", sync, ir.Constant(sync, None), 16)
        self.wake = self._global("red_kernels.pool_wake", sync, ir.Constant(sync, None), 16)
        self.done = self._global("red_kernels.pool_done", sync, ir.Constant(sync, None), 16)
        names = ("worker", "ctx", "wanted", "open", "generation", "running", "busy", "spawned")
        self.fields = {
            name: self._global(f"red_kernels.pool_{name}", I64, ir.Constant(I64, 0), 8)
            for name in names
        }
        declare = get_or_declare
        self.lock = declare(module, "pthread_mutex_lock", I32, [PTR])
        self.unlock = declare(module, "pthread_mutex_unlock", I32, [PTR])
        self.wait = declare(module, "pthread_cond_wait", I32, [PTR, PTR])
        self.broadcast = declare(module, "pthread_cond_broadcast", I32, [PTR])
        self.create = declare(module, "pthread_create", I32, [PTR, PTR, PTR, PTR])
        self.detach = declare(module, "pthread_detach", I32, [I64])
        self.cycles = declare(module, "llvm.readcyclecounter", I64, [])  # intrinsics
        self.pause = declare(module, "llvm.x86.sse2.pause", VOID, [])

    def _global(self, name: str, ty: ir.Type, init: ir.Constant, align: int) -> Any:
        var: Any = ir.GlobalVariable(self.module, ty, name)
        var.initializer = init
        var.linkage = "internal"
        var.align = align
        return var

    def get(self, g: Gen, name: str) -> Value:
        return g.b.load(self.fields[name], typ=I64)

    def set(self, g: Gen, name: str, value: Value) -> None:
        g.b.store(value, self.fields[name])

    def build(self) -> ir.Function:
        thread_main = self.thread_main()
        return self.parallel(thread_main)

    def thread_main(self) -> ir.Function:
        """A pool thread (`arg` is its index): sleep until a new job, run it when it is still
        open and wants this thread, repeat."""
        fn = define(self.module, "red_kernels.pool_thread", PTR, [("arg", PTR)])
        g = Gen(fn)
        index = g.b.ptrtoint(fn.args[0], I64)
        seen = g.alloca(I64)
        g.b.store(g.i64(0), seen)
        g.b.call(self.lock, [self.mutex])
        loop = g.b.append_basic_block("job.wait")
        g.b.branch(loop)
        g.b.position_at_end(loop)
        # A model calls regions back to back: spin a little for the next job before sleeping
        # (waking a sleeping thread took 20-40 µs under KVM, as long as a 4 MFLOP matmul).
        g.b.call(self.unlock, [self.mutex])
        self.spin_until(
            g, lambda: g.b.icmp_unsigned("!=", self.peek(g, "generation"), g.b.load(seen, typ=I64))
        )  # fmt: skip
        g.b.call(self.lock, [self.mutex])
        self.wait_until(
            g, lambda: g.b.icmp_unsigned("!=", self.get(g, "generation"), g.b.load(seen, typ=I64)),
            self.wake,
        )  # fmt: skip
        current = self.get(g, "generation")
        g.b.store(current, seen)
        wanted = g.b.icmp_signed("<", index, self.get(g, "wanted"))
        join = g.b.and_(g.b.icmp_unsigned("!=", self.get(g, "open"), g.i64(0)), wanted)
        with g.b.if_then(join):
            self.set(g, "running", g.b.add(self.get(g, "running"), g.i64(1)))
            worker = g.b.inttoptr(self.get(g, "worker"), PTR)
            ctx = g.b.inttoptr(self.get(g, "ctx"), PTR)
            g.b.call(self.unlock, [self.mutex])
            g.b.call(_Callee(worker, WORKER_TYPE), [ctx])
            g.b.call(self.lock, [self.mutex])
            left = g.b.sub(self.get(g, "running"), g.i64(1))
            self.set(g, "running", left)
            with g.b.if_then(g.b.icmp_unsigned("==", left, g.i64(0))):
                g.b.call(self.broadcast, [self.done])
        g.b.branch(loop)
        return fn

    def parallel(self, thread_main: ir.Function) -> ir.Function:
        fn = define(
            self.module,
            PARALLEL,
            VOID,
            [("worker", PTR), ("ctx", PTR), ("n", I64)],
            internal=False,
        )
        g = Gen(fn)
        pointer, ctx, n = fn.args
        worker = _Callee(pointer, WORKER_TYPE)
        with g.b.if_then(g.b.icmp_signed("<=", n, g.i64(1))):
            g.b.call(worker, [ctx])
            g.b.ret_void()
        g.b.call(self.lock, [self.mutex])
        with g.b.if_then(g.b.icmp_unsigned("!=", self.get(g, "busy"), g.i64(0))):
            # Another application thread's call has the pool: run alone.
            g.b.call(self.unlock, [self.mutex])
            g.b.call(worker, [ctx])
            g.b.ret_void()
        self.set(g, "busy", g.i64(1))
        wanted = g.min(g.b.sub(n, g.i64(1)), g.i64(MAX_WORKERS))
        self.spawn(g, wanted, thread_main)
        self.set(g, "worker", g.b.ptrtoint(pointer, I64))
        self.set(g, "ctx", g.b.ptrtoint(ctx, I64))
        self.set(g, "wanted", wanted)
        self.set(g, "open", g.i64(1))
        generation = g.b.add(self.get(g, "generation"), g.i64(1))
        g.b.store_atomic(generation, self.fields["generation"], "monotonic", 8)  # spinners read it
        g.b.call(self.broadcast, [self.wake])
        g.b.call(self.unlock, [self.mutex])
        g.b.call(worker, [ctx])
        g.b.call(self.lock, [self.mutex])
        self.set(g, "open", g.i64(0))
        g.b.call(self.unlock, [self.mutex])
        self.spin_until(g, lambda: g.b.icmp_unsigned("==", self.peek(g, "running"), g.i64(0)))
        g.b.call(self.lock, [self.mutex])
        self.wait_until(
            g, lambda: g.b.icmp_unsigned("==", self.get(g, "running"), g.i64(0)), self.done
        )
        self.set(g, "busy", g.i64(0))
        g.b.call(self.unlock, [self.mutex])
        g.b.ret_void()
        return fn

    def peek(self, g: Gen, name: str) -> Value:
        """A field read without the mutex (an atomic load: a hint, checked again locked)."""
        return g.b.load_atomic(self.fields[name], "monotonic", 8, typ=I64)

    def spin_until(self, g: Gen, condition) -> None:
        """Poll `condition()` (the mutex not held), pausing between polls, until it holds or
        about SPIN_CYCLES time-stamp counter ticks have passed."""
        start = g.b.call(self.cycles, [])

        def pause() -> Value:
            g.b.call(self.pause, [])
            elapsed = g.b.sub(g.b.call(self.cycles, []), start)
            return g.b.icmp_unsigned("<", elapsed, g.i64(SPIN_CYCLES))

        self._loop_until(g, condition, pause)

    def wait_until(self, g: Gen, condition, condvar: Value) -> None:
        """while (!condition()) pthread_cond_wait(condvar, mutex) (the mutex held)."""

        def sleep() -> None:
            g.b.call(self.wait, [condvar, self.mutex])

        self._loop_until(g, condition, sleep)

    @staticmethod
    def _loop_until(g: Gen, condition, miss) -> None:
        """Test `condition()`; while it fails run `miss()`, which may return a flag: false
        ends the loop whatever the condition."""
        header = g.b.append_basic_block("until.header")
        missed = g.b.append_basic_block("until.miss")
        done = g.b.append_basic_block("until.done")
        g.b.branch(header)
        g.b.position_at_end(header)
        g.b.cbranch(condition(), done, missed)
        g.b.position_at_end(missed)
        again = miss()
        if again is None:
            g.b.branch(header)
        else:
            g.b.cbranch(again, header, done)
        g.b.position_at_end(done)

    def spawn(self, g: Gen, wanted: Value, thread_main: ir.Function) -> None:
        """Create pool threads until there are `wanted` (the mutex held); a failed create
        leaves fewer (the job then has fewer helpers)."""
        tid = g.alloca(I64)
        header = g.b.append_basic_block("spawn.header")
        body = g.b.append_basic_block("spawn.body")
        created = g.b.append_basic_block("spawn.created")
        done = g.b.append_basic_block("spawn.done")
        g.b.branch(header)
        g.b.position_at_end(header)
        count = self.get(g, "spawned")
        g.b.cbranch(g.b.icmp_signed("<", count, wanted), body, done)
        g.b.position_at_end(body)
        arg = g.b.inttoptr(count, PTR)
        status = g.b.call(self.create, [tid, ir.Constant(PTR, None), thread_main, arg])
        g.b.cbranch(g.b.icmp_signed("==", status, g.i32(0)), created, done)
        g.b.position_at_end(created)
        g.b.call(self.detach, [g.b.load(tid, typ=I64)])
        self.set(g, "spawned", g.b.add(count, g.i64(1)))
        g.b.branch(header)
        g.b.position_at_end(done)
