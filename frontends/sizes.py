"""Run-time sizes in the importers (ONNX, PyTorch): an emitter that knows the symbolic shape
(`Dim`s) of every value it creates and builds the ops a symbolic size needs.

- Shapes: `dims(x)` is the shape of a value as Dims (ints, or polynomials in the graph inputs'
  symbols), kept by the dialect's own analysis (`SymbolicShapes`, fed op by op), so what the
  importer assumes is what the passes will compute. `shape(x)` returns the same, so the
  converters' shape arithmetic (`math.prod`, comparisons) works on symbols unchanged.
- A size as a value: `index_of(d)` is an `index` scalar (`tensor.dim` of the argument that
  carries each symbol, then arith), `size_value(d)` a 0-d i64 tensor (for arithmetic with
  data), `witness(d)` a 1-d tensor with `d` elements (what broadcasting to `d` needs).
- Ops with sizes: `reshape`, `broadcast_to`, `slice_axis`, `take` and `iota` take Dims. A
  static shape is emitted exactly as before; with symbols, each is expressed with ops whose
  `?` dims the interpreter and the passes can size:
  - reshape: red.reshape with one `?`; with several, unit dims are added or removed (gathers
    at 0 drop them; a select against a constant mask and a transpose add them), and any
    other reshape is a gather from the flattened elements (a copy);
  - broadcast_to: red.broadcast_to where the input has the `?` dim, else a select whose
    condition has the target's symbolic dims (its values do not matter: both branches are
    the input);
  - a slice: red.slice or red.dynamic_slice when every other dim is static, else a gather
    of the rows (the index vector `lo + step * iota`);
  - iota of a symbolic length: `arange`, see its docstring (red.iota has no run-time size)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import arith, func, scf, tensor
from xdsl.dialects.builtin import IndexType, TensorType, i1, i64
from xdsl.ir import Attribute, Block, Region, SSAValue

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red.dims import Dim, Poly, format_dim, product
from red.dialects.symbolic_shapes import SymbolicShapes
from red.frontends.emitter import Emitter, Value
from red.frontends.symbolic import (
    SymbolicSizeError,
    SymInts,
    ceil_div,
    fmt_dims,
    is_symbolic,
    static,
)

Shape = tuple[Dim, ...]


def _anonymous(d: Dim) -> bool:
    """A symbol the analysis made up for a dim it could not size."""
    return isinstance(d, Poly) and any(s.startswith("?") for s in d.symbols)


def static_or_dynamic(dims: Sequence[Dim]) -> list[int]:
    """A red type's shape: `?` for a symbolic dim."""
    return [static(d) if not is_symbolic(d) else red.DYNAMIC for d in dims]


class SizedEmitter(Emitter):
    """An emitter whose values have symbolic shapes (see the module docstring). Arguments
    with symbolic dims are declared with `declare_argument`."""

    def __init__(self, block: Block, **kwargs: Any):
        super().__init__(block, **kwargs)
        self.top_block = block
        self.shapes = SymbolicShapes(func.FuncOp("sizes", ([], [])))
        # A symbolic dim -> (a value of the function's top block with that dim, the axis).
        self._carriers: dict[Dim, tuple[SSAValue, int]] = {}
        # (kind, key, id(block)) -> (block, value): sizes built once per block.
        self._built: dict[tuple[str, Any, int], tuple[Block, Any]] = {}

    # region Shapes

    def declare_argument(self, arg: SSAValue, dims: Sequence[Dim]) -> None:
        self.shapes.shapes[arg] = tuple(dims)
        self._note_carrier(arg)

    def dims(self, x: Any) -> Shape:
        x = self.value(x)
        if isinstance(x, SSAValue):
            return self.shapes.of(x) if isinstance(x.type, TensorType) else ()
        return tuple(np.shape(x))

    def shape(self, x: Any) -> tuple[Any, ...]:
        """`dims(x)`, typed loosely: the converters' int arithmetic works on Polys too."""
        return self.dims(x)

    def is_dynamic(self, x: Any) -> bool:
        return any(is_symbolic(d) for d in self.dims(x))

    def _note_carrier(self, v: SSAValue) -> None:
        for axis, d in enumerate(self.shapes.of(v)):
            if is_symbolic(d):
                self._carriers.setdefault(d, (v, axis))

    def insert(self, op: Any) -> Any:
        """Append `op` and record its results' symbolic shapes."""
        op = super().insert(op)
        self.shapes.visit_op(op)
        self._same_shape_as_input(op)
        if self.block is self.top_block:
            for r in op.results:
                if isinstance(r.type, TensorType):
                    self._note_carrier(r)
        return op

    def _same_shape_as_input(self, op: Any) -> None:
        """A `?` result dim the analysis could not size (a fresh `?N`: e.g. the axis a softmax
        normalizes along) is its first operand's dim when the two have one type: such ops
        keep their input's shape."""
        if not op.results or not op.operands or op.operands[0].type != op.results[0].type:
            return
        result, source = op.results[0], op.operands[0]
        dims, known = self.shapes.of(result), self.shapes.of(source)
        if any(_anonymous(d) for d in dims):
            self.shapes.shapes[result] = tuple(
                k if _anonymous(d) else d for d, k in zip(dims, known)
            )

    def _record(self, value: Value, dims: Sequence[Dim]) -> Value:
        """What the importer knows of a result's dims where the analysis would not."""
        if isinstance(value, SSAValue):
            self.shapes.shapes[value] = tuple(dims)
        return value

    def _once(self, kind: str, key: Any, build: Callable[[], Any]) -> Any:
        """`build()` once per key and block."""
        cache_key = (kind, key, id(self.block))
        found = self._built.get(cache_key)
        if found is not None and found[0] is self.block:
            return found[1]
        value = build()
        self._built[cache_key] = (self.block, value)
        return value

    # endregion Shapes

    # region Sizes as values

    def _symbol_carrier(self, name: str) -> tuple[SSAValue, int]:
        found = self._carriers.get(Poly.symbol(name))
        if found is None:
            raise SymbolicSizeError(f"no value carries the size '{name}'")
        return found

    def index_of(self, d: Dim) -> SSAValue:
        """`d` as an `index` scalar: tensor.dim of the values carrying its symbols, then
        arith."""
        if not isinstance(d, Poly):
            return self.index(d)

        def build() -> SSAValue:
            total: SSAValue | None = None
            # Positive terms first, the constant last: seq - 1 is dim - 1, not (0 - 1) + dim.
            order = sorted(d.terms.items(), key=lambda mc: (not mc[0], mc[1] < 0, mc[0]))
            for mono, coef in order:
                term: SSAValue | None = None
                for name, power in mono:
                    carrier, axis = self._symbol_carrier(name)
                    size = self.insert(tensor.DimOp(carrier, self.index(axis))).results[0]
                    for _ in range(power):
                        term = size if term is None else self._arith(arith.MuliOp, term, size)
                if term is None:
                    term = self.index(abs(coef))
                elif abs(coef) != 1:
                    term = self._arith(arith.MuliOp, term, self.index(abs(coef)))
                if total is None:
                    total = term if coef > 0 else self._arith(arith.SubiOp, self.index(0), term)
                else:
                    total = self._arith(arith.AddiOp if coef > 0 else arith.SubiOp, total, term)
            assert total is not None
            return total

        return self._once("index", d, build)

    def _arith(self, cls: type, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.insert(cls(a, b)).results[0]

    def witness(self, d: Dim) -> Value:
        """A 1-d tensor with `d` elements (of any values and element type): what makes a
        broadcast or a loop take that size at run time."""
        if not isinstance(d, Poly):
            return np.zeros(d, dtype=np.bool_)

        def build() -> Value:
            found = self._carriers.get(d)
            if found is not None:
                v, axis = found
                dims = self.dims(v)
                if all(n == 1 for a, n in enumerate(dims) if a != axis):
                    return self.reshape(v, [d])  # a view: the other dims are units
                x: Value = v
                for other in reversed(range(len(dims))):
                    if other != axis:  # drop the axis: the rows at 0 (every size is >= 1)
                        x = self.gather(x, np.asarray(0, dtype=np.int64), other)
                return x
            parts: list[Value] = []
            for mono, coef in sorted(d.terms.items()):
                if coef < 0 or (mono and (len(mono) != 1 or mono[0][1] != 1)):
                    raise SymbolicSizeError(
                        f"a run-time size {format_dim(d)} is needed, which no value has and "
                        "red cannot make (red.iota takes no run-time size)"
                    )
                part = (
                    np.zeros(coef, dtype=np.bool_)
                    if not mono
                    else self.cast(self.witness(Poly.symbol(mono[0][0])), i1)
                )
                parts.extend([part] * (coef if mono else 1))
            return self.concat([self.ssa(p) for p in parts], 0)

        return self._once("witness", d, build)

    def size_value(self, d: Dim) -> Value:
        """`d` as a 0-d i64 tensor (a constant when static): the size of a symbol is the sum
        of ones over a value that carries it."""
        if not isinstance(d, Poly):
            return np.asarray(d, dtype=np.int64)

        def build() -> Value:
            total: Any = None
            for mono, coef in sorted(d.terms.items()):
                term: Any = None
                for name, power in mono:
                    for _ in range(power):
                        symbol = self._symbol_size(name)
                        term = symbol if term is None else self.mul(term, symbol)
                if term is None:
                    term = np.asarray(coef, dtype=np.int64)
                elif coef != 1:
                    term = self.mul(term, np.int64(coef))
                total = term if total is None else self.add(total, term)
            return total

        return self._once("size", d, build)

    def _symbol_size(self, name: str) -> Value:
        def build() -> Value:
            mask = self.cast(self.witness(Poly.symbol(name)), i1)
            ones = self.select(mask, np.int64(1), np.int64(1))
            return self.reduce(red.ReduceSumOp, ones, [0], keepdims=False)

        return self._once("symbol-size", name, build)

    def materialize(self, sym: SymInts) -> Value:
        """A tensor of sizes as a run-time value of its integer type."""
        elements = [self.size_value(d) for d in sym.values.reshape(-1)]
        if not sym.shape:
            flat: Value = elements[0]
        else:
            flat = self.concat([self.reshape(v, [1]) for v in elements], 0)
        return self.cast(self.reshape(flat, list(sym.shape)), self.element_type(sym.dtype))

    # endregion Sizes as values

    # region Ops with sizes

    def arange(self, n: Dim) -> Value:
        """[0, 1, ..., n-1] as i64. For a symbolic n, an scf.for over [0, n) writes each
        position: red.iota has no run-time size (TODO(issue 12): a red.iota with `?` sizes
        taking index operands would replace this loop)."""
        if not isinstance(n, Poly):
            return super().iota([n], 0)

        def build() -> Value:
            start = self.cast(self.witness(n), i64)  # values overwritten: only the size counts
            one = np.ones(1, dtype=np.int64)
            carried = [self.ssa(start), self.ssa(np.zeros(1, dtype=np.int64))]
            body = Block(arg_types=[IndexType(), *(v.type for v in carried)])
            iv, acc, count = body.args
            iv.name_hint = "i"
            with self.inside(body):
                written = self.dynamic_update_slice(acc, count, [iv])
                self.insert(scf.YieldOp(self.ssa(written), self.ssa(self.add(count, one))))
            lb, ub, step = self.index(0), self.index_of(n), self.index(1)
            loop = self.insert(scf.ForOp(lb, ub, step, carried, Region(body)))
            return self._record(loop.results[0], [n])

        return self._once("arange", n, build)

    def running_sum(self, x: Any, axis: int, reverse: bool, exclusive: bool) -> Value | None:
        """numpy.cumsum of `x` along a symbolic `axis` (`reverse`: from the end; `exclusive`:
        each position leaves itself out) as an scf.for over the positions, each step adding
        one slice to the sum so far: one pass in numpy's order, where a matmul by a triangle
        would build and multiply size x size. None when another dim is symbolic (a step's
        slice has static sizes)."""
        dims = list(self.dims(x))
        size = dims[axis]
        if any(is_symbolic(d) for a, d in enumerate(dims) if a != axis):
            return None
        perm = [d for d in range(len(dims)) if d != axis] + [axis]
        moved = self.transpose(x, perm)
        rows = product(d for a, d in enumerate(dims) if a != axis)
        table = self.reshape(moved, [rows, size])
        zero = np.zeros((static(rows), 1), dtype=numpy_dtype(self.elt(x)))
        carried = [self.ssa(table), self.ssa(zero)]
        body = Block(arg_types=[IndexType(), *(v.type for v in carried)])
        iv, acc, total = body.args
        iv.name_hint = "i"
        last = self.index_of(size - 1) if reverse else None
        with self.inside(body):
            at = iv if last is None else self.insert(arith.SubiOp(last, iv)).results[0]
            offsets = [self.index(0), at]
            step = self.dynamic_slice(acc, offsets, [static(rows), 1])
            new_total = self.add(total, step)
            written = self.dynamic_update_slice(acc, total if exclusive else new_total, offsets)
            self.insert(scf.YieldOp(self.ssa(written), self.ssa(new_total)))
        loop = self.insert(
            scf.ForOp(self.index(0), self.index_of(size), self.index(1), carried, Region(body))
        )
        summed = self._record(loop.results[0], [rows, size])
        out = self.reshape(summed, [dims[d] for d in perm])
        return self.transpose(out, [perm.index(d) for d in range(len(dims))])

    def iota(self, shape: Sequence[Dim], axis: int, elt: Attribute = i64) -> Any:
        """Counts along `axis`, broadcast over the other dims."""
        if all(not is_symbolic(d) for d in shape):
            return super().iota([static(d) for d in shape], axis, elt)
        ramp = self.cast(self.arange(shape[axis]), elt)
        unit: list[Dim] = [1] * len(shape)
        unit[axis] = shape[axis]
        return self.broadcast_to(self.reshape(ramp, unit), shape)

    def reshape(self, x: Any, shape: Sequence[Dim]) -> Value:
        dims = list(shape)
        current = self.dims(x)
        if tuple(dims) == current:
            return self.value(x)  # type: ignore[return-value]
        if all(not is_symbolic(d) for d in dims) and all(not is_symbolic(d) for d in current):
            return super().reshape(x, [static(d) for d in dims])
        if product(dims) != product(current):
            raise SymbolicSizeError(
                f"reshape from {fmt_dims(current)} to {fmt_dims(dims)} changes the element count"
            )
        if sum(1 for d in dims if is_symbolic(d)) <= 1:
            target = static_or_dynamic(dims)
            return self._record(self.op(lambda v: red.ReshapeOp(v, target), x), dims)
        return self._reshape_unit_dims(x, current, dims)

    def _reshape_unit_dims(self, x: Any, current: Shape, dims: Sequence[Dim]) -> Value:
        """A reshape that only adds or removes dims of size 1 (red.reshape cannot size
        several `?` dims): gathers at 0 drop them, a select and a transpose add them."""
        kept = [d for d in current if d != 1]
        if kept != [d for d in dims if d != 1]:
            return self._reshape_by_gather(x, dims)
        y: Any = self.value(x)
        for axis in reversed(range(len(current))):
            if current[axis] == 1:
                y = self.gather(y, np.asarray(0, dtype=np.int64), axis)
        units = len(dims) - len(kept)
        if units:
            mask = np.ones([1] * len(dims), dtype=np.bool_)
            y = self.select(mask, y, y)  # [1] * units + kept
            unit_axes = iter(range(units))
            kept_axes = iter(range(units, len(dims)))
            perm = [next(unit_axes) if d == 1 else next(kept_axes) for d in dims]
            y = self.transpose(y, perm)
        return self._record(y, dims)

    def _reshape_by_gather(self, x: Any, dims: Sequence[Dim]) -> Value:
        """Any reshape as a gather from the flattened elements at the row-major position of
        each result element (sum of iota_a * stride_a): a copy, where red.reshape would be a
        view, but red.reshape sizes at most one `?` dim (TODO(issue 12): a red.reshape taking
        run-time sizes would replace this)."""
        flat = self.reshape(x, [product(self.dims(x))])
        position: Any = None
        for axis, d in enumerate(dims):
            unit: list[Dim] = [1] * len(dims)
            unit[axis] = d
            term: Any = self.reshape(self.arange(d), unit)
            stride = product(dims[axis + 1 :])
            if stride != 1:
                term = self.mul(term, self.size_value(stride))
            position = term if position is None else self.add(position, term)
        if position is None:  # a 0-d result
            position = np.asarray(0, dtype=np.int64)
        return self._record(self.gather(flat, position, 0), dims)

    def broadcast_to(self, x: Any, shape: Sequence[Dim]) -> Value:
        dims = list(shape)
        current = self.dims(x)
        if tuple(dims) == current:
            return self.value(x)  # type: ignore[return-value]
        if all(not is_symbolic(d) for d in dims):
            return super().broadcast_to(x, [static(d) for d in dims])
        rank = len(dims)
        aligned = [1] * (rank - len(current)) + list(current)
        staged: list[Dim] = []
        for have, want in zip(aligned, dims):
            if have == want or (not is_symbolic(want) and want != 1):
                staged.append(want)
            elif have == 1:
                staged.append(1)  # a symbolic dim the select below gives
            else:
                raise SymbolicSizeError(
                    f"broadcasting {fmt_dims(current)} to {fmt_dims(dims)} depends on the sizes"
                )
        y: Any = self.value(x)
        if tuple(staged) != current:
            y = self._record(
                self.op(lambda v: red.BroadcastToOp(v, static_or_dynamic(staged)), y), staged
            )
        condition: Value | None = None
        for axis, (have, want) in enumerate(zip(staged, dims)):
            if have == want:
                continue
            unit: list[Dim] = [1] * rank
            unit[axis] = want
            along = self.reshape(self.cast(self.witness(want), i1), unit)
            condition = along if condition is None else self.select(condition, along, along)
        if condition is not None:
            y = self.select(condition, y, y)  # only the shape of the condition counts
        return self._record(y, dims)

    def slice(
        self, x: Any, start: Sequence[Dim], limit: Sequence[Dim], stride: Sequence[int]
    ) -> Value:
        dims = self.dims(x)
        if all(not is_symbolic(d) for d in (*dims, *start, *limit)):
            return super().slice(x, start, limit, stride)  # type: ignore[arg-type]
        y: Any = self.value(x)
        for axis, (lo, hi, st, n) in enumerate(zip(start, limit, stride, dims)):
            if (lo, hi, st) != (0, n, 1):
                y = self.slice_axis(y, axis, lo, hi, st)
        return y

    def slice_axis(self, x: Any, axis: int, lo: Any, hi: Any, step: int = 1) -> Value:
        """x[lo:hi:step] along `axis` (lo and hi already in range)."""
        dims = self.dims(x)
        if all(not is_symbolic(d) for d in (*dims, lo, hi)):
            return super().slice_axis(x, axis, int(lo), int(hi), step)
        if step > 0:
            count = ceil_div(hi - lo, step, "a slice's length")
        else:
            count = ceil_div(lo - hi, -step, "a slice's length")
        return self.cut(x, axis, lo, count, step)

    def cut(self, x: Any, axis: int, lo: Dim, count: Dim, step: int = 1) -> Value:
        """Elements lo, lo + step, ... (count of them) along `axis`."""
        dims = self.dims(x)
        out = list(dims)
        out[axis] = count
        others_static = all(not is_symbolic(d) for a, d in enumerate(dims) if a != axis)
        if others_static and not is_symbolic(lo) and not is_symbolic(count) and step > 0:
            start = [0] * len(dims)
            limit = [static(d) if not is_symbolic(d) else 0 for d in dims]
            start[axis] = static(lo)
            limit[axis] = static(lo) + (static(count) - 1) * step + 1
            stride = [1] * len(dims)
            stride[axis] = step
            op = red.SliceOp
            return self._record(self.op(lambda v: op(v, start, limit, stride), x), out)
        if others_static and not is_symbolic(count) and step == 1:
            offsets = [self.index(0)] * len(dims)
            offsets[axis] = self.index_of(lo)
            sizes = [static(d) for d in out]
            return self._record(self.dynamic_slice(x, offsets, sizes), out)
        if not is_symbolic(lo) and not is_symbolic(count):
            first, last = static(lo), static(lo) + static(count) * step
            rows: Value = np.arange(first, last, step, dtype=np.int64)
        else:
            rows = self.arange(count)
            if step != 1:
                rows = self.mul(rows, np.int64(step))
            if lo != 0:
                rows = self.add(rows, self.size_value(lo))
        return self._record(self.gather(x, rows, axis), out)

    def take(self, x: Any, axis: int, index: int) -> Value:
        """x[index] along `axis`, dropping the axis: a reshape (a view) when the axis is a
        unit one and the rest has at most one symbolic dim, else a gather."""
        if not self.is_dynamic(x):
            return super().take(x, axis, index)
        dims = self.dims(x)
        if (part := self._concat_part(x, axis, index)) is not None:
            return self.take(*part)
        rest = [*dims[:axis], *dims[axis + 1 :]]
        if dims[axis] == 1 and index in (0, -1) and sum(map(is_symbolic, rest)) <= 1:
            return self.reshape(x, rest)
        return self.gather(x, np.asarray(index, dtype=np.int64), axis)

    def _concat_part(self, x: Any, axis: int, index: int) -> tuple[Any, int, int] | None:
        """(input, axis, index in it) when `x` is a red.concat along `axis` of inputs with
        static extents there: x[index] is that input's row (e.g. a column of index tuples
        concatenated from their parts)."""
        value = self.value(x)
        owner = value.owner if isinstance(value, SSAValue) else None
        if not isinstance(owner, red.ConcatOp) or owner.axis.value.data != axis:
            return None
        extents = [self.dims(v)[axis] for v in owner.inputs]
        if any(is_symbolic(n) for n in extents):
            return None
        offset = 0
        at = index + sum(static(n) for n in extents) if index < 0 else index
        for v, n in zip(owner.inputs, extents):
            if offset <= at < offset + static(n):
                return v, axis, at - offset
            offset += static(n)
        return None

    def scalar_size(self, d: Dim, like: Any) -> Value:
        """`d` in the element type of `like` (a Python scalar when static)."""
        if not is_symbolic(d):
            return np.asarray(d, dtype=numpy_dtype(self.elt(like)))
        return self.cast(self.size_value(d), self.elt(like))

    # endregion Ops with sizes
