"""Random well-typed red functions for property tests, with redundancy planted on purpose.

A program is plain data: a tuple of steps, each of which makes exactly one value (so a value's
index is the index of the step that made it), and the indices of the values `@main` returns.
`Program.build()` replays the steps through the Python builder, so a program printed by
hypothesis can be pasted back into a test and rebuilt exactly. The `programs()` strategy draws
steps one by one, replaying each as it goes to know the shapes it can use next.

Steps:
    ("arg", dtype, shape)                    a new argument of @main
    ("const", dtype, shape, values)          values: one (a splat) or one per element
    ("iota", shape, dim)                     i64
    ("binary", name, lhs, rhs)               add sub mul div max min pow, eq ne lt le gt ge
    ("unary", name, x)                       neg abs relu exp tanh sigmoid sqrt log ...
    ("matmul", lhs, rhs)
    ("transpose", x, perm)
    ("reshape", x, shape)
    ("broadcast_to", x, shape)
    ("slice", x, start, limit, stride)
    ("concat", (x0, x1, ...), axis)
    ("reduce", name, x, axes, keepdims)      sum mean max
    ("softmax", x, axis) / ("layer_norm", x, axis)
    ("select", cond, a, b)
    ("cast", x, dtype)
    ("call", k, (x0, x1, ...), j)            result j of a call of @f<k> (Program.callees[k])
    ("weight", dtype, shape)                 a new `red.invariant` argument of @main
    ("index_arg", shape, n)                  a new i64 argument holding indices in [-n, n)
    ("gather", table, indices, axis)
    ("memo", m, (k0, k1, ...), j)            result j of a red.memo keyed on weights k0, k1, ...
                                             whose region is Program.memos[m] (its leading
                                             "arg" steps are the region's block arguments)
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Region

from red.dialects import red
from red.frontends import builder as rb

Step = tuple[Any, ...]

MAX_ELEMENTS = 256
MAX_RANK = 4

COMMUTATIVE = frozenset({"add", "mul", "max", "min", "eq", "ne"})
FLOAT_BINARY = ("add", "sub", "mul", "div", "max", "min", "pow")
INT_BINARY = ("add", "sub", "mul", "div", "max", "min")
COMPARES = ("eq", "ne", "lt", "le", "gt", "ge")
FLOAT_UNARY = (
    "neg", "abs", "relu", "exp", "tanh", "sigmoid", "sqrt", "log", "rsqrt", "silu", "erf",
    "sin", "cos", "gelu", "gelu_tanh",
)  # fmt: skip
INT_UNARY = ("neg", "abs", "relu")
SPECIAL_FLOATS = (0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 3.0, math.inf, -math.inf, math.nan)

_BINARY_OPS: dict[str, type[red.BinaryElementwiseOp]] = {
    "add": red.AddOp, "sub": red.SubOp, "mul": red.MulOp, "div": red.DivOp, "max": red.MaxOp,
    "min": red.MinOp, "pow": red.PowOp, "eq": red.EqOp, "ne": red.NeOp, "lt": red.LtOp,
    "le": red.LeOp, "gt": red.GtOp, "ge": red.GeOp,
}  # fmt: skip
_UNARY_FUNCS = {
    "neg": lambda x: -x, "abs": rb.abs, "relu": rb.relu, "exp": rb.exp, "tanh": rb.tanh,
    "sigmoid": rb.sigmoid, "sqrt": rb.sqrt, "log": rb.log, "rsqrt": rb.rsqrt, "silu": rb.silu,
    "erf": rb.erf, "sin": rb.sin, "cos": rb.cos, "gelu": rb.gelu,
    "gelu_tanh": lambda x: rb.gelu(x, "tanh"),
}  # fmt: skip
ARG_STEPS = ("arg", "weight", "index_arg")  # the steps that make an argument

_NP_DTYPES = {
    "f32": np.float32,
    "f64": np.float64,
    "i64": np.int64,
    "i32": np.int32,
    "i1": np.bool_,
}


# region Programs


def _fmt(obj: Any) -> str:
    """repr, except that NaN and infinities print as Python that evaluates back to them."""
    if isinstance(obj, float):
        if math.isnan(obj):
            return "math.nan"
        if math.isinf(obj):
            return "math.inf" if obj > 0 else "-math.inf"
        return repr(obj)
    if isinstance(obj, tuple):
        inner = ", ".join(_fmt(o) for o in obj)
        return f"({inner},)" if len(obj) == 1 else f"({inner})"
    return repr(obj)


@dataclass(frozen=True)
class Program:
    """A random function `@main`: its steps and the values it returns, and the private
    functions `@f0, @f1, ...` it calls (Programs themselves, without callees)."""

    steps: tuple[Step, ...]
    returns: tuple[int, ...]
    callees: tuple[Program, ...] = ()
    memos: tuple[Program, ...] = ()

    def build(self) -> ModuleOp:
        """A fresh, verified module (passes mutate modules: build one per use)."""
        mb, main = self.replay_main()
        main.finish(self.returns)
        return mb.build()

    def replay_main(self) -> tuple[rb.ModuleBuilder, FunctionReplayer]:
        """The callees built and @main's steps replayed, before @main returns: the module
        builder and @main's replayer (whose `values` are the steps' values)."""
        mb = rb.ModuleBuilder()
        built: list[rb.FunctionBuilder] = []
        for k, callee in enumerate(self.callees):
            replayer = FunctionReplayer(mb.function(f"f{k}", private=True), built)
            replayer.replay(callee.steps, callee.returns)
            built.append(replayer.fb)
        main = FunctionReplayer(mb.function("main"), built, self.memos)
        for step in self.steps:
            main.apply(step)
        return mb, main

    def __repr__(self) -> str:
        return self._format("")

    def _format(self, indent: str) -> str:
        steps = "".join(f"\n{indent}        {_fmt(s)}," for s in self.steps)
        text = f"Program(\n{indent}    steps=({steps}\n{indent}    ),\n"
        text += f"{indent}    returns={_fmt(self.returns)},\n"
        if self.callees:
            callees = "".join(
                f"\n{indent}        {c._format(indent + '        ')}," for c in self.callees
            )
            text += f"{indent}    callees=({callees}\n{indent}    ),\n"
        if self.memos:
            memos = "".join(
                f"\n{indent}        {c._format(indent + '        ')}," for c in self.memos
            )
            text += f"{indent}    memos=({memos}\n{indent}    ),\n"
        return text + f"{indent})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis prints a falsifying example: as replayable Python."""
        printer.text(repr(self))


class FunctionReplayer:
    """Replays steps into one function through the Python builder; `values[i]` is the value
    step i made; `callees[k]` is the function `("call", k, ...)` steps call and `memos[m]` the
    region of `("memo", m, ...)` steps."""

    def __init__(
        self,
        fb: rb.FunctionBuilder,
        callees: Sequence[rb.FunctionBuilder] = (),
        memos: Sequence[Program] = (),
    ):
        self.fb = fb
        self.callees = callees
        self.memos = memos
        self.values: list[rb.Tensor] = []
        self.steps: list[Step] = []

    def replay(self, steps: Sequence[Step], returns: Sequence[int]) -> None:
        for step in steps:
            self.apply(step)
        self.finish(returns)

    def shape(self, i: int) -> tuple[int, ...]:
        return self.values[i].shape

    def dtype(self, i: int) -> str:
        """The element type: `f32`, `i64` or `i1`."""
        return str(self.values[i].element_type)

    def apply(self, step: Step) -> int:
        fb, v = self.fb, self.values
        kind = step[0]
        match step:
            case ("arg", dtype, shape):
                out = fb.arg(shape, dtype)
            case ("const", dtype, shape, values):
                np_dtype = _NP_DTYPES[dtype]
                if len(values) == 1:
                    array = np.full(shape, values[0], dtype=np_dtype)
                else:
                    array = np.array(values, dtype=np_dtype).reshape(shape)
                out = fb.constant(array, dtype)
            case ("iota", shape, dim):
                out = fb.iota(shape, dim)
            case ("binary", name, a, b):
                out = fb.emit(_BINARY_OPS[name](v[a].value, v[b].value))
            case ("unary", name, a):
                out = _UNARY_FUNCS[name](v[a])
            case ("matmul", a, b):
                out = v[a] @ v[b]
            case ("transpose", a, perm):
                out = v[a].transpose(*perm)
            case ("reshape", a, shape):
                out = v[a].reshape(*shape)
            case ("broadcast_to", a, shape):
                out = v[a].broadcast_to(shape)
            case ("slice", a, start, limit, stride):
                out = fb.emit(red.SliceOp(v[a].value, start, limit, stride))
            case ("concat", xs, axis):
                out = rb.concat([v[x] for x in xs], axis)
            case ("reduce", name, a, axes, keepdims):
                out = getattr(v[a], {"sum": "sum", "mean": "mean", "max": "max"}[name])(
                    list(axes), keepdims
                )
            case ("softmax", a, axis):
                out = rb.softmax(v[a], axis)
            case ("layer_norm", a, axis):
                out = rb.layer_norm(v[a], axis)
            case ("select", c, a, b):
                out = rb.select(v[c], v[a], v[b])
            case ("cast", a, dtype):
                out = v[a].astype(dtype)
            case ("call", k, args, j):
                out = fb.call(self.callees[k], *[v[a] for a in args])[j]
            case ("weight", dtype, shape):
                out = fb.arg(shape, dtype, invariant=True)
            case ("index_arg", shape, _):
                out = fb.arg(shape, "i64")
            case ("gather", table, indices, axis):
                out = rb.gather(v[table], v[indices], axis)
            case ("memo", m, keys, j):
                out = self.memo(self.memos[m], [v[k] for k in keys])[j]
            case _:
                raise ValueError(f"unknown step {kind!r}: {step}")
        self.values.append(out)
        self.steps.append(step)
        return len(self.values) - 1

    def finish(self, returns: Sequence[int]) -> None:
        self.fb.returns(*[self.values[i] for i in returns])

    def memo(self, body: Program, keys: Sequence[rb.Tensor]) -> list[rb.Tensor]:
        """A red.memo keyed on `keys` whose region replays `body` and yields its returns."""
        region_fb = rb.FunctionBuilder(self.fb.module, "memo")  # a block, not a function
        replayer = FunctionReplayer(region_fb, self.callees)
        for step in body.steps:
            replayer.apply(step)
        yielded = [replayer.values[i].value for i in body.returns]
        region_fb.em.insert(red.YieldOp(yielded))
        memo = red.MemoOp(
            [k.value for k in keys], [y.type for y in yielded], Region(region_fb.block)
        )
        self.fb.em.insert(memo)
        return [rb.Tensor(r, self.fb) for r in memo.results]


def step_operands(step: Step) -> tuple[int, ...]:
    """The indices of the values a step uses."""
    match step:
        case ("binary", _, a, b):
            return (a, b)
        case ("unary" | "reduce", _, a, *_):
            return (a,)
        case ("matmul", a, b):
            return (a, b)
        case ("transpose" | "reshape" | "broadcast_to" | "slice" | "softmax" | "layer_norm", a, *_):
            return (a,)
        case ("cast", a, _):
            return (a,)
        case ("concat", xs, _):
            return tuple(xs)
        case ("select", c, a, b):
            return (c, a, b)
        case ("call" | "memo", _, args, _):
            return tuple(args)
        case ("gather", table, indices, _):
            return (table, indices)
    return ()


# endregion Programs

# region Shapes


def broadcast(*shapes: Sequence[int]) -> tuple[int, ...] | None:
    return red.broadcast_shapes(*shapes)


def matmul_shape(lhs: Sequence[int], rhs: Sequence[int]) -> tuple[int, ...] | None:
    """The result shape red.matmul infers, or None where it rejects the operands."""
    try:
        typ = red.MatmulOp.infer(TensorType(f32, list(lhs)), TensorType(f32, list(rhs)))
    except red.ShapeError:
        return None
    return red.shape_of(typ)


def _factor(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def inverse_permutation(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


# endregion Shapes

# region Choices


class Choices:
    """The random choices a generator makes. `HypothesisChoices` takes them from a hypothesis
    `draw` (so failing programs shrink), `SeededChoices` from a seeded `random.Random` (so a
    program is replayed from its seed alone, as the differential fuzzer does)."""

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        raise NotImplementedError

    def pick(self, options: Sequence[Any]) -> Any:
        raise NotImplementedError

    def flag(self) -> bool:
        raise NotImplementedError

    def permutation(self, n: int) -> tuple[int, ...]:
        """A permutation of range(n)."""
        raise NotImplementedError

    def axes(self, rank: int) -> tuple[int, ...]:
        """Between 1 and `rank` distinct axes of range(rank), in random order."""
        raise NotImplementedError

    def float32(self, pool: Sequence[float]) -> float:
        """One of `pool`, or a float32 in [-4, 4] (no subnormals)."""
        raise NotImplementedError


class HypothesisChoices(Choices):
    def __init__(self, draw: Any):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, options: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def permutation(self, n: int) -> tuple[int, ...]:
        return tuple(self.draw(st.permutations(range(n))))

    def axes(self, rank: int) -> tuple[int, ...]:
        axes = st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True)
        return tuple(self.draw(axes))

    def float32(self, pool: Sequence[float]) -> float:
        floats = st.one_of(
            st.sampled_from(list(pool)), st.floats(-4, 4, width=32, allow_subnormal=False)
        )
        return self.draw(floats)


class SeededChoices(Choices):
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))

    def flag(self) -> bool:
        return self.rng.random() < 0.5

    def permutation(self, n: int) -> tuple[int, ...]:
        perm = list(range(n))
        self.rng.shuffle(perm)
        return tuple(perm)

    def axes(self, rank: int) -> tuple[int, ...]:
        return tuple(self.rng.sample(range(rank), self.rng.randint(1, rank)))

    def float32(self, pool: Sequence[float]) -> float:
        if self.flag():
            return self.rng.choice(list(pool))
        return float(np.float32(self.rng.uniform(-4, 4)))


# endregion Choices

# region Generation


class ProgramGenerator:
    """Draws steps, replaying each at once so later draws see real shapes. `fb` is the
    function the steps go to (by default a new function `name` of `mb`, private unless it
    is @main)."""

    def __init__(
        self,
        ch: Choices,
        mb: rb.ModuleBuilder,
        name: str = "main",
        allow_calls: bool = True,
        fb: rb.FunctionBuilder | None = None,
    ):
        self.ch = ch
        self.mb = mb
        self.allow_calls = allow_calls
        self.callees: list[Program] = []
        self.callee_fbs: list[rb.FunctionBuilder] = []
        fb = fb or mb.function(name, private=name != "main")
        self.pb = FunctionReplayer(fb, self.callee_fbs)

    # helpers

    def emit(self, step: Step) -> int:
        if step[0] == "reduce" and step[1] == "max":
            _, _, x, axes, keepdims = step
            if 0 in self.shape(x) and 0 not in red.ReduceOp.reduced_shape(
                self.shape(x), axes, keepdims
            ):  # max over an empty axis has no identity: a run-time error
                step = ("reduce", "sum", x, axes, keepdims)
        return self.pb.apply(step)

    def shape(self, i: int) -> tuple[int, ...]:
        return self.pb.shape(i)

    def dtype(self, i: int) -> str:
        return self.pb.dtype(i)

    max_elements = MAX_ELEMENTS
    sizes: Sequence[int] = (2, 3, 1, 4)  # the dims new shapes draw from

    def fits(self, shape: Sequence[int] | None) -> bool:
        """Whether a shape exists and stays within the rank and size limits."""
        return (
            shape is not None and len(shape) <= MAX_RANK and math.prod(shape) <= self.max_elements
        )

    def usable(self) -> Sequence[int]:
        """The values new steps may use (all of them here; subclasses restrict it)."""
        return range(len(self.pb.values))

    def values_of(self, dtype: str) -> list[int]:
        return [i for i in self.usable() if self.dtype(i) == dtype]

    def pick(self, candidates: Sequence[Any]) -> Any:
        return self.ch.pick(list(candidates))

    def pick_recent(self, candidates: Sequence[int]) -> int:
        """Prefer recent values so chains grow deep and most values stay live."""
        cands = list(candidates)
        if self.ch.flag():
            cands = cands[-3:]
        return self.pick(cands)

    def flag(self) -> bool:
        return self.ch.flag()

    def dim(self) -> int:
        return self.ch.pick(self.sizes)

    def new_shape(self, min_rank: int = 0) -> tuple[int, ...]:
        """Mostly rank 2 or 3 (where permutations stop commuting), now and then a scalar."""
        rank = max(min_rank, self.ch.pick([3, 2, 1, 3, 2, 0]))
        return tuple(self.dim() for _ in range(rank))

    def broadcastable_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """A shape that broadcasts with `shape` without growing it: a suffix with some 1s."""
        k = self.ch.integer(0, len(shape))
        tail = shape[len(shape) - k :]
        return tuple(1 if self.ch.flag() else d for d in tail)

    def constant(self, dtype: str, shape: Sequence[int], special: bool = True) -> int:
        n = math.prod(shape)
        if dtype == "i1":
            values: tuple[Any, ...] = (
                (self.flag(),) if self.flag() else tuple(self.ch.flag() for _ in range(n))
            )
        elif dtype == "i64":
            values = (
                (self.ch.integer(-3, 5),)
                if self.flag()
                else tuple(self.ch.integer(-3, 5) for _ in range(n))
            )
        else:
            pool = SPECIAL_FLOATS if special else SPECIAL_FLOATS[:7]
            values = (
                (self.ch.float32(pool),)
                if self.flag()
                else tuple(self.ch.float32(pool) for _ in range(n))
            )
        return self.emit(("const", dtype, tuple(shape), values))

    def new_arg(self, dtype: str = "f32", shape: Sequence[int] | None = None) -> int:
        return self.emit(("arg", dtype, tuple(shape) if shape is not None else self.new_shape()))

    def operand(self, dtypes: Sequence[str] = ("f32", "i64"), min_rank: int = 0) -> int:
        """An existing value of one of `dtypes` (f32 preferred), or a new argument."""
        for dtype in dtypes:
            cands = [i for i in self.values_of(dtype) if len(self.shape(i)) >= min_rank]
            if cands and (dtype != "i64" or self.ch.integer(0, 3) == 0):
                return self.pick_recent(cands)
        return self.new_arg(dtypes[0], self.new_shape(max(min_rank, 1)))

    def partner(self, x: int, dtype: str | None = None) -> int:
        """A value of x's dtype whose shape broadcasts with x's (within the size limits)."""
        dtype = dtype or self.dtype(x)
        cands = [
            i for i in self.values_of(dtype) if self.fits(broadcast(self.shape(i), self.shape(x)))
        ]
        choice = self.ch.integer(0, 7)
        if choice < 2:
            return self.constant(dtype, self.broadcastable_shape(self.shape(x)))
        if choice == 2 and dtype != "i1":
            return self.new_arg(dtype, self.broadcastable_shape(self.shape(x)))
        return self.pick_recent(cands or [x])  # x itself, unless x is already too big

    # ops

    def op_binary(self) -> int:
        x = self.operand()
        dtype = self.dtype(x)
        name = self.pick(FLOAT_BINARY if dtype == "f32" else INT_BINARY)
        y = self.partner(x)
        a, b = (y, x) if self.flag() else (x, y)
        return self.emit(("binary", name, a, b))

    def op_unary(self) -> int:
        x = self.operand()
        if self.dtype(x) == "i64":
            return self.emit(("unary", self.pick(INT_UNARY), x))
        name = self.pick(FLOAT_UNARY)
        if name in ("sqrt", "log", "rsqrt") and self.ch.integer(0, 3) != 0:
            x = self.emit(("unary", "abs", x))  # mostly keep NaNs away
        return self.emit(("unary", name, x))

    def op_matmul(self) -> int:
        a = self.operand(("f32",), min_rank=2)
        sa = self.shape(a)
        cands = [
            i
            for i in self.values_of("f32")
            if len(s := self.shape(i)) >= 2 and s[-2] == sa[-1] and self.fits(matmul_shape(sa, s))
        ]
        choice = self.ch.integer(0, 2)
        if choice == 0 or not cands:
            # a @ aᵀ is always defined
            perm = list(range(len(sa)))
            perm[-1], perm[-2] = perm[-2], perm[-1]
            b = self.emit(("transpose", a, tuple(perm)))
        elif choice == 1:
            b = self.new_arg("f32", (sa[-1], self.dim()))
        else:
            b = self.pick(cands)
        return self.emit(("matmul", a, b))

    def op_transpose(self) -> int:
        x = self.operand(min_rank=2)
        perm = self.ch.permutation(len(self.shape(x)))
        return self.emit(("transpose", x, tuple(perm)))

    def random_shape_of_size(self, n: int) -> tuple[int, ...]:
        rank = self.ch.integer(1, 3)
        dims = [1] * rank
        if n == 0:
            dims[self.ch.integer(0, rank - 1)] = 0
        for p in _factor(n):
            dims[self.ch.integer(0, rank - 1)] *= p
        return tuple(dims)

    def op_reshape(self) -> int:
        x = self.operand()
        return self.emit(("reshape", x, self.random_shape_of_size(math.prod(self.shape(x)))))

    def op_broadcast_to(self) -> int:
        x = self.operand()
        shape = self.shape(x)
        lead = tuple(self.dim() for _ in range(self.ch.integer(0, 1)))
        target = lead + tuple(self.dim() if d == 1 else d for d in shape)
        if not self.fits(target):
            target = shape
        return self.emit(("broadcast_to", x, target))

    def slice_bounds(
        self, shape: Sequence[int]
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        start, limit, stride = [], [], []
        for n in shape:
            if n == 0 or self.ch.integer(0, 15) == 0:  # now and then an empty slice
                lo = hi = self.ch.integer(0, n)
            else:
                lo = self.ch.integer(0, n - 1)
                hi = self.ch.integer(lo + 1, n)
            start.append(lo)
            limit.append(hi)
            stride.append(self.ch.integer(1, 3))
        return tuple(start), tuple(limit), tuple(stride)

    def op_slice(self) -> int:
        x = self.operand(min_rank=1)
        return self.emit(("slice", x, *self.slice_bounds(self.shape(x))))

    def op_concat(self) -> int:
        x = self.operand(min_rank=1)
        sx, dtype = self.shape(x), self.dtype(x)
        axis = self.ch.integer(0, len(sx) - 1)

        def compatible(i: int) -> bool:
            s = self.shape(i)
            return len(s) == len(sx) and all(
                a == b for d, (a, b) in enumerate(zip(s, sx)) if d != axis
            )

        cands = [i for i in self.values_of(dtype) if compatible(i)]
        others = [self.pick_recent(cands) for _ in range(self.ch.integer(1, 2))]
        xs = [x, *others]
        if self.flag():
            xs.reverse()
        total = list(sx)
        total[axis] = sum(self.shape(i)[axis] for i in xs)
        if not self.fits(total):
            xs = [x]  # a single-input concat: an identity for canonicalize
        return self.emit(("concat", tuple(xs), axis))

    def op_reduce(self) -> int:
        x = self.operand(min_rank=1)
        rank = len(self.shape(x))
        name = self.pick(("sum", "mean", "max") if self.dtype(x) == "f32" else ("sum", "max"))
        axes = self.ch.axes(rank)
        return self.emit(("reduce", name, x, tuple(axes), self.flag()))

    def op_norm(self) -> int:
        x = self.operand(("f32",), min_rank=1)
        axis = self.ch.integer(0, len(self.shape(x)) - 1)
        return self.emit((self.pick(("softmax", "layer_norm")), x, axis))

    def mask(self) -> int:
        masks = self.values_of("i1")
        if masks and self.flag():
            return self.pick_recent(masks)
        x = self.operand()
        if self.ch.integer(0, 3) == 0:  # select(true, a, b) and the like fold
            return self.constant("i1", self.broadcastable_shape(self.shape(x)))
        y = self.partner(x)
        return self.emit(("binary", self.pick(COMPARES), x, y))

    def op_select(self) -> int:
        c = self.mask()
        sc = self.shape(c)
        dtype = "f32" if self.ch.integer(0, 3) else "i64"
        cands = [i for i in self.values_of(dtype) if self.fits(broadcast(self.shape(i), sc))]
        a = self.pick_recent(cands) if cands else self.constant(dtype, self.broadcastable_shape(sc))
        b = self.partner(a)
        if not self.fits(broadcast(sc, self.shape(a), self.shape(b))):
            b = a
        return self.emit(("select", c, a, b))

    def op_relu(self) -> int:
        """relu makes +0.0 where its input is negative: signed zeros meet max, min, neg."""
        return self.emit(("unary", "relu", self.operand(("f32",))))

    def op_cast(self) -> int:
        sources = self.values_of("i64") + self.values_of("i1")
        x = self.pick_recent(sources) if sources else self.new_arg("i64", self.new_shape(1))
        return self.emit(("cast", x, "f32"))

    def op_constant_expression(self) -> int:
        """A foldable subexpression: ops on constants only, then used with a live value."""
        shape = self.new_shape()
        c = self.constant("f32", shape, special=self.flag())
        kind = self.ch.integer(0, 3)
        if kind == 0:
            d = self.constant("f32", self.broadcastable_shape(shape), special=False)
            c = self.emit(("binary", self.pick(FLOAT_BINARY), c, d))
        elif kind == 1:
            c = self.emit(("unary", self.pick(FLOAT_UNARY), c))
        elif kind == 2 and len(shape) >= 1:
            c = self.emit(("reduce", "sum", c, (0,), True))
        else:
            i = self.emit(("iota", shape or (1,), 0))
            c = self.emit(("cast", i, "f32"))
        x = self.partner(c, "f32") if self.flag() else self.operand(("f32",))
        if not self.fits(broadcast(self.shape(x), self.shape(c))):
            return c
        return self.emit(("binary", self.pick(FLOAT_BINARY), x, c))

    def op_shape_chain(self) -> int:
        """Two to four shape ops in a row: compositions for the inverse-pair and
        slice-of-slice rewrites, with permutations and strides that are not inverses."""
        x = self.operand(min_rank=1)
        for _ in range(self.ch.integer(2, 4)):
            shape = self.shape(x)
            kind = self.pick(
                ("transpose", "slice", "reshape", "concat", "broadcast_to", "transpose")
            )
            if kind == "transpose" and len(shape) >= 2:
                perm = tuple(self.ch.permutation(len(shape)))
                x = self.emit(("transpose", x, perm))
            elif kind == "slice" and shape:
                x = self.emit(("slice", x, *self.slice_bounds(shape)))
            elif kind == "concat" and shape and self.fits((*shape[:-1], 3 * shape[-1])):
                axis = self.ch.integer(0, len(shape) - 1)
                x = self.emit(("concat", (x,) * self.ch.integer(2, 3), axis))
            elif (
                kind == "broadcast_to"
                and len(shape) < MAX_RANK
                and self.fits((lead := self.dim(), *shape))
            ):
                x = self.emit(("broadcast_to", x, (lead, *shape)))
            else:
                x = self.emit(("reshape", x, self.random_shape_of_size(math.prod(shape))))
        return x

    # planted redundancy

    def plant_near_duplicate(self) -> int:
        """Two ops that look alike but differ (a permutation, bounds, axes, the operand
        order of a non-commutative op): cse must keep both."""
        x = self.operand(min_rank=1)
        shape, dtype = self.shape(x), self.dtype(x)
        rank = len(shape)
        kind = self.pick(("transpose", "slice", "reduce", "axis", "operands", "concat"))
        if kind == "transpose" and rank >= 2:
            p = tuple(self.ch.permutation(rank))
            # Mostly another permutation with the same result type: only the property
            # tells the two apart.
            alike = [
                q
                for q in itertools.permutations(range(rank))
                if q != p and [shape[i] for i in q] == [shape[i] for i in p]
            ]
            q = self.pick(alike) if alike and self.flag() else self.ch.permutation(rank)
            a = self.emit(("transpose", x, p))
            b = self.emit(("transpose", x, tuple(q)))
        elif kind == "slice":
            start, limit, stride = self.slice_bounds(shape)
            a = self.emit(("slice", x, start, limit, stride))
            if self.flag():  # the same window size elsewhere: the same result type
                shift = [self.ch.integer(-lo, n - hi) for lo, hi, n in zip(start, limit, shape)]
                start = tuple(lo + d for lo, d in zip(start, shift))
                limit = tuple(hi + d for hi, d in zip(limit, shift))
                b = self.emit(("slice", x, start, limit, stride))
            else:
                b = self.emit(("slice", x, *self.slice_bounds(shape)))
        elif kind == "reduce":
            name = "sum" if dtype == "i64" else self.pick(("sum", "mean", "max"))
            a = self.emit(("reduce", name, x, self.ch.axes(rank), self.flag()))
            b = self.emit(("reduce", name, x, self.ch.axes(rank), self.flag()))
        elif kind == "axis" and dtype == "f32":
            name = self.pick(("softmax", "layer_norm"))
            a = self.emit((name, x, self.ch.integer(0, rank - 1)))
            b = self.emit((name, x, self.ch.integer(0, rank - 1)))
        elif kind == "concat" and self.fits((*shape[:-1], 2 * shape[-1])):
            axis = self.ch.integer(0, rank - 1)
            y = self.emit(("unary", "neg", x))
            a = self.emit(("concat", (x, y), axis))
            b = self.emit(("concat", (y, x), axis))
        else:
            y = self.partner(x)
            name = self.pick(
                ("sub", "div", "lt", "le", "pow") if dtype == "f32" else ("sub", "div")
            )
            a = self.emit(("binary", name, x, y))
            b = self.emit(("binary", name, y, x))
        if self.shape(a) == self.shape(b) and self.dtype(a) != "i1":
            return self.emit(("binary", self.pick(("add", "sub", "mul")), a, b))
        return b

    def plant_duplicate(self) -> int:
        """The same op on the same operands again (commutative operands maybe swapped)."""
        made = [i for i in self.usable() if self.pb.steps[i][0] not in ARG_STEPS]
        if not made:
            return self.op_binary()
        original = self.pick_recent(made)
        step = self.pb.steps[original]
        if step[0] == "binary" and step[1] in COMMUTATIVE and self.flag():
            step = ("binary", step[1], step[3], step[2])
        copy = self.emit(step)
        if self.dtype(copy) == "i1" or self.flag():
            return copy
        # Use both copies together, as `f(x) op f(x)` written out twice would.
        name = self.pick(FLOAT_BINARY + COMPARES if self.dtype(copy) == "f32" else INT_BINARY)
        a, b = (copy, original) if self.flag() else (original, copy)
        return self.emit(("binary", name, a, b))

    def plant_identity(self) -> int:
        x = self.operand()
        dtype, shape = self.dtype(x), self.shape(x)
        kind = self.pick(
            ("mul1", "div1", "sub0", "addneg0", "negneg", "transpose2", "reshape2", "slice",
             "slice2", "sliceconcat", "add0", "mul0", "subneg0", "self")
        )  # fmt: skip
        one = (1.0,) if dtype == "f32" else (1,)
        zero = (0.0,) if dtype == "f32" else (0,)
        cshape = self.broadcastable_shape(shape)
        match kind:
            case "mul1" | "div1":
                c = self.emit(("const", dtype, cshape, one))
                name = "mul" if kind == "mul1" else "div"
                a, b = (c, x) if name == "mul" and self.flag() else (x, c)
                return self.emit(("binary", name, a, b))
            case "sub0" | "addneg0" | "add0" | "subneg0" | "mul0":
                # add0 (x + +0), subneg0 (x - -0) and mul0 (x * 0) are not exact for floats:
                # the passes must leave them, and the results must still match bit for bit.
                negative = kind in ("addneg0", "subneg0") and dtype == "f32"
                c = self.emit(("const", dtype, cshape, (-0.0,) if negative else zero))
                name = {"sub0": "sub", "subneg0": "sub", "mul0": "mul"}.get(kind, "add")
                a, b = (c, x) if name != "sub" and self.flag() else (x, c)
                return self.emit(("binary", name, a, b))
            case "negneg":
                return self.emit(("unary", "neg", self.emit(("unary", "neg", x))))
            case "transpose2" if len(shape) >= 2:
                p = tuple(self.ch.permutation(len(shape)))
                t = self.emit(("transpose", x, p))
                q = (
                    inverse_permutation(p)
                    if self.flag()
                    else tuple(self.ch.permutation(len(shape)))
                )
                return self.emit(("transpose", t, q))
            case "reshape2":
                r = self.emit(("reshape", x, self.random_shape_of_size(math.prod(shape))))
                back = shape if self.flag() else self.random_shape_of_size(math.prod(shape))
                return self.emit(("reshape", r, back))
            case "slice" if shape:
                full = (tuple(0 for _ in shape), shape, tuple(1 for _ in shape))
                return self.emit(("slice", x, *full))
            case "slice2" if shape:
                s = self.emit(("slice", x, *self.slice_bounds(shape)))
                return self.emit(("slice", s, *self.slice_bounds(self.shape(s))))
            case "sliceconcat" if shape:
                axis = self.ch.integer(0, len(shape) - 1)
                other = list(shape)
                other[axis] = self.dim()
                compatible = [i for i in self.values_of(dtype) if self.shape(i) == tuple(other)]
                if compatible and self.flag():
                    y = self.pick_recent(compatible)
                elif self.fits(other) and self.flag():
                    y = self.new_arg(dtype, other)
                else:
                    y = self.emit(("unary", "neg", x))
                first = self.flag()
                cat = self.emit(("concat", (x, y) if first else (y, x), axis))
                n, m = shape[axis], self.shape(y)[axis]
                start = [0] * len(shape)
                limit = list(self.shape(cat))
                if self.flag():  # exactly x back
                    start[axis] = 0 if first else m
                    limit[axis] = start[axis] + n
                else:  # a window that may straddle both
                    start[axis] = self.ch.integer(0, max(n + m - 1, 0))
                    limit[axis] = self.ch.integer(min(start[axis] + 1, n + m), n + m)
                return self.emit(("slice", cat, tuple(start), tuple(limit), (1,) * len(shape)))
            case "self":
                name = self.pick(("max", "min", "sub", "div", "mul", "add"))
                return self.emit(("binary", name, x, x))
            case _:
                return self.emit(("unary", "neg", x))

    # calls to private functions

    def new_callee(self) -> None:
        """A private function @f<k> whose first arguments have the types of values here."""
        k = len(self.callees)
        sub = self.sub_generator(f"f{k}")
        for _ in range(self.ch.integer(1, 2)):
            x = self.operand()
            sub.emit(("arg", self.dtype(x), self.shape(x)))
        for _ in range(self.ch.integer(1, 5)):
            sub.step()
        returns = sub.returns()
        sub.pb.finish(returns)
        self.callees.append(Program(tuple(sub.pb.steps), returns))
        self.callee_fbs.append(sub.pb.fb)

    def sub_generator(self, name: str) -> ProgramGenerator:
        """The generator of a private function @name (no calls of its own)."""
        return type(self)(self.ch, self.mb, name, allow_calls=False)

    def op_call(self) -> int:
        """A call (maybe two equal calls, for cse) of a new or an earlier private function."""
        if not self.allow_calls:
            return self.op_binary()
        if not self.callees or (len(self.callees) < 3 and self.flag()):
            self.new_callee()
        k = self.ch.integer(0, len(self.callees) - 1)
        fb = self.callee_fbs[k]
        args = []
        for arg in fb.block.args:
            cands = [i for i in self.usable() if self.pb.values[i].value.type == arg.type]
            if cands and self.ch.integer(0, 3):
                args.append(self.pick_recent(cands))
            else:
                args.append(self.new_arg(str(red.element_type_of(arg)), red.shape_of(arg)))
        n = len(fb.result_types)
        out = self.emit(("call", k, tuple(args), self.ch.integer(0, n - 1)))
        if self.flag():
            out = self.emit(("call", k, tuple(args), self.ch.integer(0, n - 1)))
        return out

    KINDS = (
        "binary", "binary", "unary", "unary", "relu", "duplicate", "duplicate", "identity",
        "identity", "near_duplicate", "near_duplicate", "shape_chain", "shape_chain", "matmul", "transpose",
        "reshape", "slice", "concat", "reduce", "norm", "select", "cast", "broadcast_to",
        "constant_expression", "call",
    )  # fmt: skip

    def step(self) -> int:
        return self.make(self.pick(self.KINDS))

    def make(self, kind: str) -> int:
        """A step (or a few) of the kind named in KINDS."""
        planted = {
            "duplicate": self.plant_duplicate,
            "near_duplicate": self.plant_near_duplicate,
            "identity": self.plant_identity,
        }
        method = planted.get(kind, getattr(self, f"op_{kind}", None))
        assert method is not None, kind
        return method()

    def returns(self) -> tuple[int, ...]:
        """The last value and most other values nothing uses (the rest stays dead)."""
        steps = self.pb.steps
        used = {i for step in steps for i in step_operands(step)}
        sinks = [
            i for i, s in enumerate(steps) if i not in used and s[0] not in (*ARG_STEPS, "const")
        ]
        kept = [i for i in sinks if self.ch.integer(0, 7)]
        return tuple(dict.fromkeys([len(steps) - 1, *kept[-6:]]))


@st.composite
def programs(draw: Any, min_ops: int = 3, max_ops: int = 24) -> Program:
    """A random program: 1-3 arguments (f32, sometimes i64), then `min_ops..max_ops` random
    ops, planted redundancies and calls of private functions (random programs too),
    returning the last value and most values nothing else uses."""
    ch = HypothesisChoices(draw)
    g = ProgramGenerator(ch, rb.ModuleBuilder())
    for _ in range(ch.integer(1, 3)):
        # Leading arguments without size-1 dims, so permutations and slices move data;
        # size-1 dims come with the broadcasting partners drawn later.
        dtype = "i64" if ch.integer(0, 4) == 0 else "f32"
        rank = ch.pick([2, 3, 1])
        g.new_arg(dtype, tuple(ch.pick([2, 3, 4]) for _ in range(rank)))
    # sampled_from, not integers: hypothesis draws small integers far more often.
    for _ in range(ch.pick(range(min_ops, max_ops + 1))):
        g.step()
    return Program(tuple(g.pb.steps), g.returns(), tuple(g.callees))


# endregion Generation
