"""Symbolic sizes in the importers (ONNX, PyTorch), in the style of onnxruntime's
symbolic_shape_infer: a dimension is a `Dim` (an int, or a polynomial in the graph inputs' symbols,
e.g. `seq`), and a small integer tensor computed from sizes (Shape -> Gather -> Concat -> Reshape
chains) keeps its values as Dims (`SymInts`), so the ops that consume it get result types with `?`
exactly where a size is symbolic.

Comparisons of sizes are decided from bounds: every symbol is a size in [1, 2**31], so
`seq + 1 > 0`, `seq >= 1` and `INT64_MAX > seq` are known, while `seq == 1` or `seq < 32` is
not, and a decision that depends on it is a `SymbolicSizeError` (the importer locates it at
the node and suggests `--shape`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from red.dialects.red.dims import Dim, Poly, format_dim, product

SYMBOL_MAX = 2**31
"""The largest size a symbol is assumed to take (the smallest is 1)."""


class SymbolicSizeError(Exception):
    """A size the importer cannot keep symbolic: the model needs static input sizes."""


def is_symbolic(d: Any) -> bool:
    return isinstance(d, Poly)


def static(d: Dim) -> int:
    """A dim the caller knows is a number."""
    assert not isinstance(d, Poly), f"expected a static dim, got {format_dim(d)}"
    return int(d)


def fmt_dims(dims: Iterable[Dim]) -> str:
    """`1xseqx64` (a sum in parentheses: `1x(seq + 1)`)."""
    parts = [
        format_dim(d) if not is_symbolic(d) or len(d.terms) == 1 else f"({format_dim(d)})"  # type: ignore[union-attr]
        for d in dims
    ]
    return "x".join(parts) or "scalar"


# region Deciding comparisons


def bounds(d: Dim) -> tuple[int, int]:
    """Lower and upper bound of `d` over symbols in [1, SYMBOL_MAX]."""
    if not isinstance(d, Poly):
        return d, d
    lo = hi = 0
    for mono, c in d.terms.items():
        degree = sum(p for _, p in mono)
        small, large = c, c * SYMBOL_MAX**degree
        lo += min(small, large)
        hi += max(small, large)
    return lo, hi


def compare(a: Dim, b: Dim) -> int | None:
    """The sign of a - b (-1, 0 or 1) where the bounds decide it, else None."""
    diff = a - b
    if not isinstance(diff, Poly):
        return (diff > 0) - (diff < 0)
    lo, hi = bounds(diff)
    if lo > 0:
        return 1
    if hi < 0:
        return -1
    return None


def le(a: Dim, b: Dim) -> bool | None:
    """a <= b where decided, else None."""
    lo, hi = bounds(b - a)
    return True if lo >= 0 else False if hi < 0 else None


def lt(a: Dim, b: Dim) -> bool | None:
    lo, hi = bounds(b - a)
    return True if lo > 0 else False if hi <= 0 else None


def eq(a: Dim, b: Dim) -> bool | None:
    diff = a - b
    if diff == 0:
        return True
    return False if compare(a, b) is not None else None


def decided(answer: bool | None, what: str) -> bool:
    """`answer`, or a SymbolicSizeError saying which comparison depends on the sizes."""
    if answer is None:
        raise SymbolicSizeError(f"{what} depends on the input sizes")
    return answer


def max_dim(a: Dim, b: Dim) -> Dim:
    return a if decided(le(b, a), f"max({format_dim(a)}, {format_dim(b)})") else b


def min_dim(a: Dim, b: Dim) -> Dim:
    return a if decided(le(a, b), f"min({format_dim(a)}, {format_dim(b)})") else b


def clamp(x: Dim, lo: Dim, hi: Dim) -> Dim:
    """min(max(x, lo), hi), decided."""
    what = f"clamping {format_dim(x)} to [{format_dim(lo)}, {format_dim(hi)}]"
    y = x if le(lo, x) else lo if le(x, lo) else None
    if y is None:
        raise SymbolicSizeError(f"{what} depends on the input sizes")
    if le(y, hi):
        return y
    if decided(le(hi, y), what):
        return hi
    raise SymbolicSizeError(f"{what} depends on the input sizes")


def exact_div(a: Dim, b: int, what: str) -> Dim:
    """a / b when it divides exactly (ints: truncated, as ONNX's integer Div)."""
    if not isinstance(a, Poly):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b > 0) else -q
    try:
        return a // b
    except ValueError:
        raise SymbolicSizeError(f"{what}: {format_dim(a)} is not divisible by {b}") from None


def ceil_div(a: Dim, b: int, what: str) -> Dim:
    """ceil(a / b) for b > 0 (exact for a polynomial)."""
    if not isinstance(a, Poly):
        return -(-a // b)
    return exact_div(a + (b - 1), b, what) if b != 1 else a


# endregion Deciding comparisons

# region Integer tensors of sizes


@dataclass(eq=False)
class SymInts:
    """A small integer tensor (a shape, an index, a slice bound) whose elements are Dims, at
    least one of them symbolic: `values` is an object array of ints and Polys; `dtype` is the
    ONNX value's integer type."""

    values: np.ndarray
    dtype: np.dtype[Any]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


def sym_array(values: Any, dtype: Any = np.int64) -> np.ndarray | SymInts:
    """Dims as a constant array when all are ints, else as SymInts."""
    objects = np.empty(np.shape(values), dtype=object)
    objects[...] = values
    if any(is_symbolic(v) for v in objects.reshape(-1)):
        return SymInts(objects, np.dtype(dtype))
    return objects.astype(dtype)


def as_dims(value: np.ndarray | SymInts) -> np.ndarray:
    """Elements as an object array of Dims (Python ints for the constant ones)."""
    if isinstance(value, SymInts):
        return value.values
    out = np.empty(value.shape, dtype=object)
    out[...] = [int(v) for v in value.reshape(-1)] if value.size else []
    return out if value.ndim else np.asarray(int(value), dtype=object)


def dim_list(value: np.ndarray | SymInts) -> list[Dim]:
    return list(as_dims(value).reshape(-1))


def symbols_of(values: Iterable[Any]) -> list[str]:
    """The symbols appearing in some Dims, sorted."""
    names: set[str] = set()
    for v in values:
        if isinstance(v, Poly):
            names |= v.symbols
    return sorted(names)


# endregion Integer tensors of sizes

# region Shapes of Dims


def broadcast_dims(a: Sequence[Dim], b: Sequence[Dim]) -> list[Dim]:
    """numpy broadcasting of symbolic shapes: equal dims stay, a 1 takes the other dim, a
    symbol meeting a number is that number; two different symbols are an error."""
    rank = max(len(a), len(b))
    pa, pb = [1] * (rank - len(a)) + list(a), [1] * (rank - len(b)) + list(b)
    out: list[Dim] = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif is_symbolic(x) != is_symbolic(y):
            out.append(y if is_symbolic(x) else x)
        elif is_symbolic(x):
            raise SymbolicSizeError(
                f"broadcasting {fmt_dims(a)} with {fmt_dims(b)} depends on whether "
                f"{format_dim(x)} or {format_dim(y)} is 1"
            )
        else:
            raise ValueError(f"shapes {fmt_dims(a)} and {fmt_dims(b)} do not broadcast")
    return out


def reshape_dims(in_dims: Sequence[Dim], spec: Sequence[Dim], allowzero: bool) -> list[Dim]:
    """ONNX Reshape's target on symbolic sizes: 0 copies the input dim (unless allowzero),
    one -1 is the element count over the others. ValueError for a spec that cannot fit."""
    out = list(spec)
    for i, d in enumerate(out):
        if d == 0 and not allowzero:
            if i >= len(in_dims):
                raise ValueError(
                    f"shape {_fmt_spec(spec)} copies dimension {i}, past input rank {len(in_dims)}"
                )
            out[i] = in_dims[i]
    if sum(1 for d in out if d == -1) > 1:
        raise ValueError(f"shape {_fmt_spec(spec)} has more than one -1")
    total = product(in_dims)
    if any(d == -1 for d in out):
        known = product(d for d in out if d != -1)
        inferred = _divide(total, known)
        if inferred is None:
            raise ValueError(
                f"cannot infer the -1 in {_fmt_spec(spec)} for input shape {fmt_dims(in_dims)}"
            )
        out[next(i for i, d in enumerate(out) if d == -1)] = inferred
    if any(not is_symbolic(d) and d < 0 for d in out) or product(out) != total:  # type: ignore[operator]
        raise ValueError(f"to {_fmt_spec(spec)} does not fit input shape {fmt_dims(in_dims)}")
    return out


def _fmt_spec(spec: Sequence[Dim]) -> str:
    return "[" + ", ".join(format_dim(d) for d in spec) + "]"


def _divide(total: Dim, known: Dim) -> Dim | None:
    if known == 0:
        return None
    if not is_symbolic(total) and not is_symbolic(known):
        return None if total % known else total // known  # type: ignore[operator]
    try:
        return Poly.of(total) // known
    except ValueError:
        return None


def slice_range(dim: Dim, start: Dim, end: Dim, step: int) -> tuple[Dim, Dim]:
    """ONNX Slice along one axis of size `dim`: (first index, number of elements), with
    negative bounds counted from the end and clamping as the spec says."""
    if step > 0:
        lo = clamp(start + dim if _negative(start) else start, 0, dim)
        hi = _clamped_end(end + dim if _negative(end) else end, dim)
        empty = not decided(
            le(lo, hi), f"whether slice [{format_dim(lo)}:{format_dim(hi)}] is empty"
        )
        count = 0 if empty else ceil_div(hi - lo, step, "a slice's length")
    else:
        lo = clamp(start + dim if _negative(start) else start, 0, dim - 1)
        hi = clamp(end + dim if _negative(end) else end, -1, dim - 1)
        empty = not decided(
            le(hi, lo), f"whether slice [{format_dim(lo)}:{format_dim(hi)}] is empty"
        )
        count = 0 if empty else ceil_div(lo - hi, -step, "a slice's length")
    return lo, count


def _clamped_end(end: Dim, dim: Dim) -> Dim:
    """An end clamped to [0, dim]; a symbolic end whose order with a static dim the bounds
    leave open (`[:seq]` of a table of 64 rows) is taken as given: the slice is then a
    gather of `end - start` rows, which fails at run time if `end` is past the dim."""
    if is_symbolic(end) and not is_symbolic(dim) and le(0, end) and le(end, dim) is None:
        return end
    return clamp(end, 0, dim)


def _negative(d: Dim) -> bool:
    if not is_symbolic(d):
        return d < 0  # type: ignore[operator]
    return decided(lt(d, 0), f"whether {format_dim(d)} < 0")


# endregion Shapes of Dims
