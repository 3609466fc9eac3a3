"""Random red programs for the differential fuzzer (test_differential_fuzz.py), and the inputs
to call them with: the generator of random_programs.py plus weights (`red.invariant`
arguments), explicit red.memo regions keyed on them, weight-only subexpressions and calls for
memoize to lift, integer arithmetic at its edges (0, -1, INT_MIN, INT_MAX: total division,
wrapping), float <-> integer casts (saturating, NaN -> 0), gathers, and reductions to rank-0
tensors. A program is drawn from a seed alone (`fuzz_program(seed)`), so a seed replays it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from random_programs import (
    ARG_STEPS,
    INT_BINARY,
    Choices,
    Program,
    ProgramGenerator,
    SeededChoices,
    Step,
    broadcast,
    matmul_shape,
    step_operands,
)

from red.frontends import builder as rb

I64 = np.iinfo(np.int64)
I32 = np.iinfo(np.int32)
INT_EDGES = {
    "i64": (
        0, -1, 1, 2, -2, 7, int(I64.min), int(I64.max), int(I64.min) + 1, int(I64.max) - 1,
        2**31, -(2**31) - 1, 2**32,
    ),
    "i32": (0, -1, 1, 2, -2, 7, int(I32.min), int(I32.max), int(I32.min) + 1, int(I32.max) - 1),
}  # fmt: skip
# Scales that push floats past the integer ranges before a cast (saturation), and values
# whose truncation toward zero matters.
CAST_SCALES = (1.0, 2.5, -0.75, 1e10, -3e9, 9.3e18, -9.3e18, 3.4e38, math.inf, -math.inf, math.nan)
FLOAT_INPUT_SPECIALS = np.array(
    [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 3e9, -2.5, 0.5],
    dtype=np.float32,
)
INT_KINDS = ("i64", "i32")
LARGE_SIZES = (1, 2, 3, 5, 8, 9, 16, 17, 33)
LARGE_MAX_ELEMENTS = 4096


class FuzzGenerator(ProgramGenerator):
    """ProgramGenerator with the fuzzer's extra steps. `region` says where the steps go:
    "main" (public @main: weights, memos and index arguments allowed), "callee" (a private
    function) or "memo" (a red.memo region: no new block arguments, constants instead)."""

    KINDS = (
        *ProgramGenerator.KINDS,
        "int_binary", "int_binary", "int_binary", "int_unary", "int_compare", "cast_to_int",
        "cast_to_int", "int_cast", "gather", "gather", "reduce_all", "reduce_all", "memo",
        "memo", "weight_expression", "weight_expression", "weight_call", "int_matmul",
    )  # fmt: skip
    MAIN_ONLY = ("memo", "weight_expression", "weight_call")

    def __init__(
        self,
        ch: Choices,
        mb: rb.ModuleBuilder,
        name: str = "main",
        allow_calls: bool = True,
        fb: rb.FunctionBuilder | None = None,
        region: str | None = None,
    ):
        super().__init__(ch, mb, name, allow_calls, fb)
        self.region = region or ("main" if name == "main" else "callee")
        self.memos: list[Program] = []
        self.pb.memos = self.memos  # the replayer sees the regions as they are drawn
        self.invariant: set[int] = set()  # values computed from weights and constants only
        self.weights_only = False

    # helpers

    def emit(self, step: Step) -> int:
        i = super().emit(step)
        kind = self.pb.steps[i][0]
        operands = step_operands(self.pb.steps[i])
        if kind in ("weight", "const", "iota") or (
            kind not in ARG_STEPS and operands and all(o in self.invariant for o in operands)
        ):
            self.invariant.add(i)
        return i

    def usable(self) -> Sequence[int]:
        if self.weights_only:
            return sorted(self.invariant)
        return super().usable()

    @contextmanager
    def only_weights(self) -> Iterator[None]:
        """Steps drawn inside use only weights, constants and values made of them (new
        arguments become new weights): the weight-only work memoize lifts."""
        self.weights_only = True
        try:
            yield
        finally:
            self.weights_only = False

    def new_arg(self, dtype: str = "f32", shape: Sequence[int] | None = None) -> int:
        shape = tuple(shape) if shape is not None else self.new_shape()
        if self.region == "memo":  # a region's block arguments are its keys: no new ones
            return self.constant(dtype, shape)
        if self.weights_only and self.region == "main":
            return self.emit(("weight", dtype, shape))
        return super().new_arg(dtype, shape)

    def new_weight(self, dtype: str = "f32", shape: Sequence[int] | None = None) -> int:
        shape = tuple(shape) if shape is not None else self.new_shape(1)
        return self.emit(("weight", dtype, shape))

    def constant(self, dtype: str, shape: Sequence[int], special: bool = True) -> int:
        if dtype not in INT_EDGES:
            return super().constant(dtype, shape, special)
        n = math.prod(shape)

        def value() -> int:
            return (
                self.pick(INT_EDGES[dtype]) if special and self.flag() else self.ch.integer(-3, 5)
            )

        values = (value(),) if self.flag() else tuple(value() for _ in range(n))
        return self.emit(("const", dtype, tuple(shape), values))

    def int_operand(self) -> int:
        cands = [i for d in INT_KINDS for i in self.values_of(d)]
        if cands and self.ch.integer(0, 3):
            return self.pick_recent(cands)
        dtype = "i32" if self.ch.integer(0, 3) == 0 else "i64"
        return self.new_arg(dtype, self.new_shape())

    def combine(self, x: int) -> int:
        """x used with a value computed at run time (so a weight-only x is not all there is)."""
        saved, self.weights_only = self.weights_only, False
        try:
            y = self.operand(("f32",)) if self.dtype(x) == "f32" else self.int_operand()
        finally:
            self.weights_only = saved
        if self.dtype(y) != self.dtype(x) or not self.fits(broadcast(self.shape(x), self.shape(y))):
            return x
        names = ("add", "sub", "mul", "max") if self.dtype(x) == "f32" else INT_BINARY
        a, b = (x, y) if self.flag() else (y, x)
        return self.emit(("binary", self.pick(names), a, b))

    # integer ops

    def op_int_binary(self) -> int:
        x = self.int_operand()
        y = self.partner(x)
        name = self.pick((*INT_BINARY, "div", "div", "mul"))  # division at 0 and -1 most
        a, b = (y, x) if self.flag() else (x, y)
        return self.emit(("binary", name, a, b))

    def op_int_matmul(self) -> int:
        """An integer matmul (wrapping products and sums), x @ xᵀ or with a new argument."""
        cands = [i for d in INT_KINDS for i in self.values_of(d) if len(self.shape(i)) >= 2]
        a = self.pick_recent(cands) if cands else self.new_arg("i64", (self.dim(), self.dim()))
        shape = self.shape(a)
        if self.flag():
            b = self.new_arg(self.dtype(a), (shape[-1], self.dim()))
        else:
            perm = [*range(len(shape) - 2), len(shape) - 1, len(shape) - 2]
            b = self.emit(("transpose", a, tuple(perm)))
        if not self.fits(matmul_shape(shape, self.shape(b))):
            return b
        return self.emit(("matmul", a, b))

    def op_int_unary(self) -> int:
        return self.emit(("unary", self.pick(("neg", "abs", "relu")), self.int_operand()))

    def op_int_compare(self) -> int:
        x = self.int_operand()
        mask = self.emit(
            ("binary", self.pick(("eq", "ne", "lt", "le", "gt", "ge")), x, self.partner(x))
        )
        a = self.int_operand() if self.flag() else self.operand(("f32",))
        b = self.partner(a)
        if not self.fits(broadcast(self.shape(mask), self.shape(a), self.shape(b))):
            return mask
        return self.emit(("select", mask, a, b))

    def op_cast_to_int(self) -> int:
        """f32 -> i64, i32 or i1, often scaled past the integer range first (saturation;
        NaN -> 0; NaN -> true for i1)."""
        x = self.operand(("f32",))
        if self.flag():
            scale = self.emit(("const", "f32", (), (self.pick(CAST_SCALES),)))
            x = self.emit(("binary", "mul", x, scale))
        out = self.emit(("cast", x, self.pick(("i64", "i64", "i32", "i1"))))
        if self.flag():  # back to a float, so the float ops see the integers
            return self.emit(("cast", out, "f32"))
        return out

    def op_int_cast(self) -> int:
        """Between integer widths (i64 -> i32 wraps), to f32 (rounding), to and from i1."""
        x = self.int_operand()
        target = self.pick(("i64", "i32", "f32", "i1"))
        if target == self.dtype(x):
            target = "f32"
        out = self.emit(("cast", x, target))
        if target == "i1" and self.flag():
            return self.emit(("cast", out, self.pick(("i64", "f32"))))
        return out

    # gather, rank-0

    def indices(self, n: int, shape: tuple[int, ...]) -> int:
        """i64 indices in [-n, n): an index argument (@main only), constants, or a run-time
        integer clamped into range with max and min."""
        choice = self.ch.integer(0, 2)
        if choice == 0 and self.region == "main" and not self.weights_only:
            return self.emit(("index_arg", shape, n))
        if choice == 1 or not self.values_of("i64"):
            values = tuple(self.ch.integer(-n, n - 1) for _ in range(math.prod(shape)))
            return self.emit(("const", "i64", shape, values or (0,)))
        v = self.pick_recent(self.values_of("i64"))
        lo = self.emit(("const", "i64", (), (-n,)))
        hi = self.emit(("const", "i64", (), (n - 1,)))
        return self.emit(("binary", "min", self.emit(("binary", "max", v, lo)), hi))

    def op_gather(self) -> int:
        weights = [i for i in self.usable() if self.pb.steps[i][0] == "weight"]
        if weights and self.flag():
            table = self.pick_recent(weights)
        else:
            table = self.operand(min_rank=1)
        shape = self.shape(table)
        if not shape:
            table = self.emit(("reshape", table, (1,)))
            shape = (1,)
        axis = self.ch.integer(0, len(shape) - 1)
        n = shape[axis]
        if n == 0:
            return table
        index_shape = self.pick(((), (2,), (3,), (2, 2), (1,)))
        result = (*shape[:axis], *index_shape, *shape[axis + 1 :])
        if not self.fits(result):
            index_shape = ()
        idx = self.indices(n, index_shape)
        if not self.fits((*shape[:axis], *self.shape(idx), *shape[axis + 1 :])):
            return table
        return self.emit(("gather", table, idx, axis))

    def op_reduce_all(self) -> int:
        """A reduction over every axis to a rank-0 tensor, often used with another value."""
        x = self.operand(min_rank=1)
        names = ("sum", "mean", "max") if self.dtype(x) == "f32" else ("sum", "max")
        name = self.pick(names)
        s = self.emit(("reduce", name, x, tuple(range(len(self.shape(x)))), False))
        return self.combine(s) if self.flag() else s

    # weights and memos

    def op_memo(self) -> int:
        """An explicit red.memo keyed on one or two weights (sometimes twice the same memo,
        for cse), its region a small random program of the keys."""
        weights = [i for i, s in enumerate(self.pb.steps) if s[0] == "weight"]
        if not weights or self.ch.integer(0, 3) == 0:
            weights.append(self.new_weight(self.pick(("f32", "f32", "f32", "i64"))))
        keys = tuple(dict.fromkeys(self.pick(weights) for _ in range(self.ch.integer(1, 2))))
        region_fb = rb.FunctionBuilder(self.mb, "memo")
        sub = FuzzGenerator(self.ch, self.mb, allow_calls=False, fb=region_fb, region="memo")
        sub.sizes, sub.max_elements = self.sizes, self.max_elements
        for k in keys:
            sub.emit(("arg", self.dtype(k), self.shape(k)))
        for _ in range(self.ch.integer(1, 4)):
            sub.step()
        body = Program(tuple(sub.pb.steps), sub.returns())
        m = len(self.memos)
        self.memos.append(body)
        out = self.emit(("memo", m, keys, self.ch.integer(0, len(body.returns) - 1)))
        if self.flag():
            again = self.emit(("memo", m, keys, self.ch.integer(0, len(body.returns) - 1)))
            out = again if self.flag() else out
        return self.combine(out) if self.flag() else out

    def op_weight_expression(self) -> int:
        """One to three ops on weights and constants only (memoize lifts them), then
        maybe used with a run-time value."""
        kinds = (
            "unary", "binary", "transpose", "matmul", "reduce", "reduce_all", "norm", "slice",
            "reshape", "concat", "gather", "cast_to_int", "int_binary", "identity",
        )  # fmt: skip
        x = -1
        with self.only_weights():
            if not self.invariant or self.flag():
                self.new_weight()
            for _ in range(self.ch.integer(1, 3)):
                x = getattr(self, f"op_{self.pick(kinds)}", self.plant_identity)()
        return self.combine(x) if self.flag() else x

    def op_weight_call(self) -> int:
        """A call whose arguments are weights or weight-only values (memoize memoizes the
        call, or its callee's weight-only work at the call site)."""
        with self.only_weights():
            if not self.invariant:
                self.new_weight()
            out = self.op_call()
        return self.combine(out) if self.flag() else out

    def sub_generator(self, name: str) -> ProgramGenerator:
        sub = super().sub_generator(name)
        sub.sizes, sub.max_elements = self.sizes, self.max_elements
        return sub

    def step(self) -> int:
        kind = self.pick(self.KINDS)
        if kind in self.MAIN_ONLY and self.region != "main":
            kind = "binary"
        if kind == "call" and not self.allow_calls:
            kind = "int_binary"
        return self.make(kind)


def fuzz_program(seed: int, min_ops: int = 4, max_ops: int = 20) -> Program:
    """The program of one fuzzer example: one to three run-time arguments, zero to three
    weights, then `min_ops..max_ops` random steps."""
    ch = SeededChoices(seed)
    g = FuzzGenerator(ch, rb.ModuleBuilder())
    lead = [2, 3, 4]
    if ch.integer(0, 2) == 0:  # sizes past the vector widths and the matmul kernel's tiles
        g.sizes, g.max_elements, lead = LARGE_SIZES, LARGE_MAX_ELEMENTS, [5, 8, 16, 17]
    for _ in range(ch.integer(1, 3)):
        dtype = ch.pick(("f32", "f32", "f32", "f32", "i64", "i32"))
        g.new_arg(dtype, tuple(ch.pick(lead) for _ in range(ch.pick([2, 3, 1, 0]))))
    for _ in range(ch.integer(0, 3)):
        rank = ch.pick([2, 2, 3, 1])
        g.new_weight(
            ch.pick(("f32", "f32", "f32", "i64")), tuple(ch.pick(lead) for _ in range(rank))
        )
    for _ in range(ch.integer(min_ops, max_ops)):
        g.step()
    return Program(tuple(g.pb.steps), g.returns(), tuple(g.callees), tuple(g.memos))


# region Inputs


def argument_specs(program: Program) -> list[Step]:
    """The steps that make @main's arguments, in argument order."""
    return [s for s in program.steps if s[0] in ARG_STEPS]


def is_weight(spec: Step) -> bool:
    return spec[0] == "weight"


def draw_input(spec: Step, rng: np.random.Generator, specials: float) -> np.ndarray:
    """One argument's value: floats from N(0, 1) with a `specials` fraction of signed zeros,
    ±1, ±inf, NaN and values beyond the integer ranges; integers small or at their edges
    (INT_MIN, INT_MAX, 0, -1, ...); index arguments in [-n, n)."""
    if spec[0] == "index_arg":
        _, shape, n = spec
        return np.array(rng.integers(-n, n, size=shape, dtype=np.int64), order="C")
    _, dtype, shape = spec
    if dtype == "i1":
        return np.array(rng.integers(0, 2, size=shape), dtype=np.bool_, order="C")
    if dtype in INT_EDGES:
        np_dtype = np.int64 if dtype == "i64" else np.int32
        small = rng.integers(-5, 9, size=shape).astype(np_dtype)
        edges = np.array(INT_EDGES[dtype], dtype=np.int64).astype(np_dtype)
        picks = rng.integers(0, len(edges), size=shape)
        out = np.where(rng.random(size=shape) < max(specials, 0.2), edges[picks], small)
        return np.array(out, dtype=np_dtype, order="C")
    out = np.asarray(rng.standard_normal(size=shape), dtype=np.float32)
    if specials:
        picks = FLOAT_INPUT_SPECIALS[rng.integers(0, len(FLOAT_INPUT_SPECIALS), size=shape)]
        out = np.where(rng.random(size=shape) < specials, picks, out)
    return np.array(out, dtype=np.float32, order="C")


def draw_inputs(program: Program, seed: int, draw: int) -> list[np.ndarray]:
    """@main's arguments for one draw (0, 1, ...) of an example: deterministic in (seed,
    draw). A third of the examples get special values in their floats."""
    specials = (0.0, 0.0, 0.15)[seed % 3]
    rng = np.random.default_rng([seed, draw])
    return [draw_input(spec, rng, specials) for spec in argument_specs(program)]


# endregion Inputs
