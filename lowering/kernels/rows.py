"""Vectorised row kernels of the library, over the last axis of a row-major [rows, n] f32
buffer (leading dimensions ldx/ldy in elements; y may be x): softmax, layer_norm, rms_norm
with red's semantics (dialects/red_interpreter.py) plus an optional scale (gamma) and shift
(beta), and the elementwise gelu (erf and tanh forms) and silu.

Sums and maxima are vector partial results (four accumulators) folded pairwise, so they differ
from numpy's pairwise sums in the last bits; softmax multiplies by 1/sum and the norms by
1/sqrt(var + eps) (one rounding more than a division). Softmax follows numpy on NaN/inf rows:
a NaN or +inf anywhere, or a row of -inf, gives a row of NaN (NaN reaches every output
through the sum). Rows are shared out over threads in chunks; the elementwise kernels also
split long rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import llvmlite.ir as ir

from red.lowering.kernels.irgen import F32, I32, I64, PTR, VOID, Gen, Value, define
from red.lowering.kernels.parallel import Runtime, balanced_split
from red.lowering.kernels.target import KernelTarget
from red.lowering.kernels.vmath import VectorMath

# Below this many elements a call runs on one thread: a parallel region costs a few µs (far
# more on a loaded machine), as much as 64K exps or 256K elements of a norm.
PARALLEL_MIN_ELEMENTS = {"softmax": 1 << 16, "layer_norm": 1 << 18, "rms_norm": 1 << 18}
PARALLEL_MIN_ELEMENTWISE = 1 << 16
ELEMENTWISE_CHUNK = 8192  # elements per task of the elementwise kernels
UNROLL = 4

VectorBody = Callable[[Value, Value | None, Value], Value]


@dataclass(frozen=True)
class RowKernel:
    """One exported row kernel: `symbol(rows, n, x, ldx, y, ldy, [eps, gamma, beta,]
    nthreads)`."""

    kind: str  # softmax, layer_norm, rms_norm, gelu, gelu_tanh, silu
    doc: str

    @property
    def symbol(self) -> str:
        return f"red_{self.kind}_f32"

    @property
    def elementwise(self) -> bool:
        return self.kind in ("gelu", "gelu_tanh", "silu")

    def args(self) -> list[tuple[str, ir.Type]]:
        args: list[tuple[str, ir.Type]] = [
            ("rows", I64), ("n", I64), ("x", PTR), ("ldx", I64), ("y", PTR), ("ldy", I64),
        ]  # fmt: skip
        if self.kind == "layer_norm":
            args += [("eps", F32), ("gamma", PTR), ("beta", PTR)]
        elif self.kind == "rms_norm":
            args += [("eps", F32), ("gamma", PTR)]
        return [*args, ("nthreads", I32)]


ROW_KERNELS = (
    RowKernel("softmax", "y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max))"),
    RowKernel(
        "layer_norm",
        "y[r, :] = (x[r, :] - mean) / sqrt(var + eps), then * gamma and + beta where those "
        "pointers are not null",
    ),
    RowKernel(
        "rms_norm", "y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps), then * gamma if not null"
    ),
    RowKernel("gelu", "y = 0.5 * x * (1 + erf(x / sqrt(2)))"),
    RowKernel("gelu_tanh", "y = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))"),
    RowKernel("silu", "y = x * sigmoid(x) = x / (1 + exp(-x))"),
)


class RowKernelGenerator:
    """Emits every kernel of ROW_KERNELS into the runtime's module."""

    def __init__(self, rt: Runtime, target: KernelTarget):
        self.rt = rt
        self.module = rt.module
        self.bits = target.vector_bits
        self.lanes = target.lanes(4)
        self.vty = ir.VectorType(F32, self.lanes)

    def build(self) -> None:
        for kernel in ROW_KERNELS:
            self.entry(kernel, self.row_function(kernel))

    # region Per-row functions

    def row_function(self, kernel: RowKernel) -> ir.Function:
        """The internal `kernel(n, x, y, [eps, gamma, beta])` computing one row (or, for the
        elementwise kernels, one run of n elements)."""
        args: list[tuple[str, ir.Type]] = [("n", I64), ("x", PTR), ("y", PTR)]
        args += [a for a in kernel.args() if a[0] in ("eps", "gamma", "beta")]
        fn = define(self.module, f"{kernel.symbol}.row", VOID, args, vector_bits=self.bits)
        g = Gen(fn)
        values = dict(zip([name for name, _ in args], fn.args))
        getattr(self, f"_{kernel.kind}")(g, VectorMath(g, self.lanes), values)
        g.b.ret_void()
        return fn

    def sweep(
        self, g: Gen, n: Value, body: VectorBody, init: Value, unroll: int = UNROLL
    ) -> list[Value]:
        """Run `body(j, mask, acc) -> acc` over the vectors of a row: `unroll` accumulators in
        the main loop, then whole vectors into the first, then one masked vector (lanes past
        n clear; mask None for whole vectors). Returns the accumulators."""
        lanes = self.lanes
        step = lanes * unroll
        main = g.b.sub(n, g.b.srem(n, g.i64(step)))
        vmain = g.b.sub(n, g.b.srem(n, g.i64(lanes)))

        def unrolled(j: Value, accs: list[Value]) -> list[Value]:
            return [body(g.b.add(j, g.i64(u * lanes)), None, accs[u]) for u in range(unroll)]

        accs = g.loop(0, main, step, unrolled, [init] * unroll, name="u")
        first = g.loop(main, vmain, lanes, lambda j, a: [body(j, None, a[0])], [accs[0]], "v")
        mask = g.mask_below(g.b.sub(n, vmain), lanes)
        return [body(vmain, mask, first[0]), *accs[1:]]

    def fold(self, g: Gen, accs: list[Value], combine: Callable[[Value, Value], Value]) -> Value:
        """The accumulators combined lane-wise (pairwise), then across lanes."""
        while len(accs) > 1:
            pairs = [combine(accs[i], accs[i + 1]) for i in range(0, len(accs) - 1, 2)]
            accs = pairs + ([accs[-1]] if len(accs) % 2 else [])
        return g.reduce(accs[0], combine)

    def load(self, g: Gen, base: Value, j: Value, mask: Value | None) -> Value:
        return (
            g.vload(base, j, self.vty) if mask is None else g.masked_load(base, j, self.vty, mask)
        )

    def store(self, g: Gen, value: Value, base: Value, j: Value, mask) -> None:
        if mask is None:
            g.vstore(value, base, j)
        else:
            g.masked_store(value, base, j, mask)

    def keep(self, g: Gen, mask: Value | None, value: Value, neutral: float) -> Value:
        """value where the mask is set, `neutral` in the lanes past the row's end."""
        if mask is None:
            return value
        return g.b.select(mask, value, g.const_vec(F32, self.lanes, neutral))

    def splat(self, g: Gen, value: Value) -> Value:
        return g.splat(value, self.lanes)

    def c(self, g: Gen, value: float) -> Value:
        return g.const_vec(F32, self.lanes, value)

    def _softmax(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        n, x, y = v["n"], v["x"], v["y"]
        b = g.b
        neg_inf = self.c(g, -math.inf)

        def row_max(j, mask, acc):
            return g.fmax(self.keep(g, mask, self.load(g, x, j, mask), -math.inf), acc)

        mx = self.splat(g, self.fold(g, self.sweep(g, n, row_max, neg_inf), g.fmax))

        def exps(j, mask, acc):
            e = vm.exp(b.fsub(self.load(g, x, j, mask), mx))
            self.store(g, e, y, j, mask)
            return b.fadd(acc, self.keep(g, mask, e, 0.0))

        total = self.fold(g, self.sweep(g, n, exps, self.c(g, 0.0)), b.fadd)
        inv = self.splat(g, b.fdiv(ir.Constant(F32, 1.0), total))

        def scale(j, mask, acc):
            self.store(g, b.fmul(self.load(g, y, j, mask), inv), y, j, mask)
            return acc

        self.sweep(g, n, scale, self.c(g, 0.0))

    def _normalize(
        self, g: Gen, v: dict[str, Value], centered: bool, gamma: Value, beta: Value
    ) -> None:
        """layer_norm (centered) or rms_norm: statistics, then y = (x - mean)·rstd·gamma + beta."""
        n, x, y, eps = v["n"], v["x"], v["y"], v["eps"]
        b = g.b
        count = b.sitofp(n, F32)
        mean = ir.Constant(F32, 0.0)
        if centered:

            def sums(j, mask, acc):
                return b.fadd(acc, self.load(g, x, j, mask))

            mean = b.fdiv(self.fold(g, self.sweep(g, n, sums, self.c(g, 0.0)), b.fadd), count)
        mean_v = self.splat(g, mean)

        def squares(j, mask, acc):
            d = self.keep(g, mask, b.fsub(self.load(g, x, j, mask), mean_v), 0.0)
            return g.fma(d, d, acc)

        var = b.fdiv(self.fold(g, self.sweep(g, n, squares, self.c(g, 0.0)), b.fadd), count)
        rstd = self.splat(g, b.fdiv(ir.Constant(F32, 1.0), g.sqrt(b.fadd(var, eps))))
        null = ir.Constant(PTR, None)

        def write(scaled: bool, shifted: bool) -> None:
            def out(j, mask, acc):
                r = b.fmul(b.fsub(self.load(g, x, j, mask), mean_v), rstd)
                if scaled:
                    r = b.fmul(r, self.load(g, gamma, j, mask))
                if shifted:
                    r = b.fadd(r, self.load(g, beta, j, mask))
                self.store(g, r, y, j, mask)
                return acc

            self.sweep(g, n, out, self.c(g, 0.0))

        has_gamma = b.icmp_unsigned("!=", gamma, null)
        has_beta = b.icmp_unsigned("!=", beta, null)
        g.if_else(
            has_gamma,
            lambda: g.if_else(has_beta, lambda: write(True, True), lambda: write(True, False)),
            lambda: g.if_else(has_beta, lambda: write(False, True), lambda: write(False, False)),
        )

    def _layer_norm(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        self._normalize(g, v, True, v["gamma"], v["beta"])

    def _rms_norm(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        self._normalize(g, v, False, v["gamma"], ir.Constant(PTR, None))

    def _elementwise(self, g: Gen, v: dict[str, Value], f: Callable[[Value], Value]):
        def body(j, mask, acc):
            self.store(g, f(self.load(g, v["x"], j, mask)), v["y"], j, mask)
            return acc

        self.sweep(g, v["n"], body, self.c(g, 0.0), unroll=2)

    def _gelu(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        b = g.b

        def gelu(x: Value) -> Value:
            phi = b.fadd(self.c(g, 1.0), vm.erf(b.fmul(x, self.c(g, 1.0 / math.sqrt(2.0)))))
            return b.fmul(b.fmul(self.c(g, 0.5), x), phi)

        self._elementwise(g, v, gelu)

    def _gelu_tanh(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        b = g.b

        def gelu(x: Value) -> Value:
            cube = b.fmul(b.fmul(b.fmul(self.c(g, 0.044715), x), x), x)
            inner = b.fmul(self.c(g, math.sqrt(2.0 / math.pi)), b.fadd(x, cube))
            return b.fmul(b.fmul(self.c(g, 0.5), x), b.fadd(self.c(g, 1.0), vm.tanh(inner)))

        self._elementwise(g, v, gelu)

    def _silu(self, g: Gen, vm: VectorMath, v: dict[str, Value]) -> None:
        b = g.b

        def silu(x: Value) -> Value:
            e = vm.exp(b.fsub(self.c(g, 0.0), x))
            return b.fmul(x, b.fdiv(self.c(g, 1.0), b.fadd(self.c(g, 1.0), e)))

        self._elementwise(g, v, silu)

    # endregion Per-row functions

    def entry(self, kernel: RowKernel, row: ir.Function) -> None:
        """The exported function: tasks of whole rows (and, elementwise, column chunks)."""
        fn = define(self.module, kernel.symbol, VOID, kernel.args(), internal=False)
        g = Gen(fn)
        values = dict(zip([name for name, _ in kernel.args()], fn.args))
        rows, n = values["rows"], values["n"]
        extra = [values[name] for name in ("eps", "gamma", "beta") if name in values]
        with g.b.if_then(
            g.b.or_(g.b.icmp_signed("<=", rows, g.i64(0)), g.b.icmp_signed("<=", n, g.i64(0)))
        ):
            g.b.ret_void()
        least = PARALLEL_MIN_ELEMENTS.get(kernel.kind, PARALLEL_MIN_ELEMENTWISE)
        small = g.b.icmp_signed("<", g.b.mul(rows, n), g.i64(least))
        threads = g.b.select(small, g.i64(1), g.b.call(self.rt.threads, [values["nthreads"]]))
        if kernel.elementwise:
            col_width, col_count = balanced_split(
                g, n, g.ceil_div(n, g.i64(ELEMENTWISE_CHUNK)), self.lanes
            )
            rows_per = g.max(g.i64(1), g.b.sdiv(g.i64(ELEMENTWISE_CHUNK), n))
        else:
            col_width, col_count = n, g.i64(1)
            rows_per = g.ceil_div(rows, g.b.mul(threads, g.i64(4)))
        row_width, row_count = balanced_split(g, rows, g.ceil_div(rows, rows_per), 1)
        tasks = g.b.mul(row_count, col_count)
        fields = [values["x"], values["ldx"], values["y"], values["ldy"], rows, n,
                  row_width, col_width, col_count, *extra]  # fmt: skip

        def task(wg: Gen, f: list[Value], t: Value, _s: list[Value]) -> None:
            x, ldx, y, ldy, wrows, wn, rwidth, cwidth, ccount = f[:9]
            r0 = wg.b.mul(wg.b.sdiv(t, ccount), rwidth)
            j0 = wg.b.mul(wg.b.srem(t, ccount), cwidth)
            cols = wg.b.sub(wg.min(wn, wg.b.add(j0, cwidth)), j0)

            def one_row(r: Value, _r: list[Value]) -> None:
                xr = wg.offset(x, wg.b.add(wg.b.mul(r, ldx), j0), F32)
                yr = wg.offset(y, wg.b.add(wg.b.mul(r, ldy), j0), F32)
                wg.b.call(row, [cols, xr, yr, *f[9:]])

            wg.loop(r0, wg.min(wrows, wg.b.add(r0, rwidth)), 1, one_row, name="r")

        self.rt.parallel_tasks(g, kernel.symbol, tasks, threads, fields, task)
        g.b.ret_void()
