"""Symbolic dimensions: a dimension is an int or a `Poly`, a polynomial with integer
coefficients in named symbols (`seq`, `batch`, ...). Shapes, costs and the redundancy report
compute with them as with ints (`2 * seq * 768`), compare them structurally (two dims are
equal when their polynomials are), and evaluate them at given sizes (`--assume seq=128`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Union

Monomial = tuple[tuple[str, int], ...]
"""Sorted (symbol, power) pairs; () is the constant term."""

Dim = Union[int, "Poly"]


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    powers = dict(a)
    for s, p in b:
        powers[s] = powers.get(s, 0) + p
    return tuple(sorted(powers.items()))


class Poly:
    """An integer polynomial in named symbols, immutable and hashable. Arithmetic with ints
    and other polys; `//` divides exactly by an int or by a single-term poly (a reshape's
    inferred size), else raises ValueError."""

    __slots__ = ("_hash", "terms")

    def __init__(self, terms: Mapping[Monomial, int]):
        self.terms: dict[Monomial, int] = {m: c for m, c in terms.items() if c != 0}
        self._hash = hash(tuple(sorted(self.terms.items())))

    @staticmethod
    def symbol(name: str) -> Poly:
        return Poly({((name, 1),): 1})

    @staticmethod
    def of(value: Dim) -> Poly:
        return value if isinstance(value, Poly) else Poly({(): int(value)})

    # region arithmetic

    def __add__(self, other: Dim) -> Dim:
        o = Poly.of(other)
        terms = dict(self.terms)
        for m, c in o.terms.items():
            terms[m] = terms.get(m, 0) + c
        return simplify(Poly(terms))

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({m: -c for m, c in self.terms.items()})

    def __sub__(self, other: Dim) -> Dim:
        return self + (-Poly.of(other))

    def __rsub__(self, other: Dim) -> Dim:
        return Poly.of(other) + (-self)

    def __mul__(self, other: Dim) -> Dim:
        o = Poly.of(other)
        terms: dict[Monomial, int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in o.terms.items():
                m = _mono_mul(m1, m2)
                terms[m] = terms.get(m, 0) + c1 * c2
        return simplify(Poly(terms))

    __rmul__ = __mul__

    def __floordiv__(self, other: Dim) -> Dim:
        if isinstance(other, int) or (isinstance(other, Poly) and other.is_constant):
            d = int(other) if isinstance(other, int) else other.constant
            if d != 0 and all(c % d == 0 for c in self.terms.values()):
                return simplify(Poly({m: c // d for m, c in self.terms.items()}))
        elif isinstance(other, Poly) and len(other.terms) == 1:
            ((mono, coef),) = other.terms.items()
            out: dict[Monomial, int] = {}
            for m, c in self.terms.items():
                powers = dict(m)
                for s, p in mono:
                    if powers.get(s, 0) < p:
                        raise ValueError(f"{self} is not divisible by {other}")
                    powers[s] -= p
                if c % coef:
                    raise ValueError(f"{self} is not divisible by {other}")
                out[tuple(sorted((s, p) for s, p in powers.items() if p))] = c // coef
            return simplify(Poly(out))
        raise ValueError(f"{self} is not divisible by {other}")

    def __rfloordiv__(self, other: Dim) -> Dim:
        return Poly.of(other) // self

    # endregion arithmetic

    @property
    def is_constant(self) -> bool:
        return all(m == () for m in self.terms)

    @property
    def constant(self) -> int:
        return self.terms.get((), 0)

    @property
    def symbols(self) -> set[str]:
        return {s for m in self.terms for s, _ in m}

    def evaluate(self, sizes: Mapping[str, int]) -> Dim:
        """The value at `sizes` (symbols not given stay symbolic)."""
        total: Dim = 0
        for m, c in self.terms.items():
            term: Dim = c
            for s, p in m:
                term = term * (sizes[s] ** p if s in sizes else Poly.symbol(s) ** p)  # type: ignore[operator]
            total = total + term
        return total

    def __pow__(self, n: int) -> Dim:
        out: Dim = 1
        for _ in range(n):
            out = out * self
        return out

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            return self.is_constant and self.constant == other
        return isinstance(other, Poly) and self.terms == other.terms

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return format_dim(self)


def simplify(p: Poly) -> Dim:
    """A constant poly is its int."""
    return p.constant if p.is_constant else p


def is_static(d: Dim) -> bool:
    return isinstance(d, int)


def evaluate(d: Dim, sizes: Mapping[str, int]) -> Dim:
    return d.evaluate(sizes) if isinstance(d, Poly) else d


def product(dims: Iterable[Dim]) -> Dim:
    out: Dim = 1
    for d in dims:
        out = out * d
    return out


def format_dim(d: Dim) -> str:
    """`2*seq^2 + 768*seq + 4`: highest degree first, symbols by name."""
    if isinstance(d, int):
        return str(d)
    parts: list[str] = []
    for m, c in sorted(d.terms.items(), key=lambda mc: (-sum(p for _, p in mc[0]), mc[0])):
        names = "*".join(s if p == 1 else f"{s}^{p}" for s, p in m)
        if not names:
            parts.append(str(c))
        elif c == 1:
            parts.append(names)
        elif c == -1:
            parts.append(f"-{names}")
        else:
            parts.append(f"{c}*{names}")
    text = " + ".join(parts) if parts else "0"
    return text.replace("+ -", "- ")


_ASSUME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+)\s*$")


def parse_assumptions(text: str) -> dict[str, int]:
    """`seq=128,batch=1` -> {"seq": 128, "batch": 1}; a ValueError names a bad entry."""
    sizes: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        m = _ASSUME.match(part)
        if m is None:
            raise ValueError(f"expected NAME=SIZE, got '{part.strip()}'")
        sizes[m.group(1)] = int(m.group(2))
    return sizes


def magnitude(d: Dim) -> float:
    """A number to rank or test sizes by: an int itself, a polynomial at every symbol =
    1024 (a typical sequence length; only the order of costs matters here)."""
    if isinstance(d, Poly):
        value = d.evaluate(dict.fromkeys(d.symbols, 1024))
        return float(value) if isinstance(value, int) else 0.0
    return float(d)
