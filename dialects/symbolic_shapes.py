"""Symbolic shapes: every tensor of a function gets a shape of `Dim`s (ints, or polynomials
in named symbols such as `seq`), and every index scalar computed from sizes gets its value.

Names come from the function's arguments: `%ids: tensor<1x?xi64> {red.dims = ["", "seq"]}`
names dim 1 `seq`; an unnamed `?` of argument i, dim j is the symbol `arg{i}_{j}`. Inside,
a result dim is static when its type says so; a `?` follows the op's row facts (the
operand axis the result axis reads row by row has the same extent), or the op's own rule
(`symbolic_dims`: concat sums, reshape solves its one unknown dim from the element count);
`tensor.dim` gives a dim as an index value and arith on index values stays symbolic, so the
offset `seq - 1` of the last position is known to be `seq - 1`. Two dims with the same
symbol are equal. A dim nothing determines gets a fresh symbol (`?0`, `?1`, ...)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from xdsl.dialects import arith, func, scf, tensor
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, StringAttr, TensorType
from xdsl.ir import Block, Operation, SSAValue

from red.dialects import red
from red.dialects.red.dims import Dim, Poly, format_dim, is_static

DIMS_ATTR = "red.dims"
"""Argument attribute naming the dims of a tensor argument: one string per dim, "" for a
static or anonymous one."""

Shape = tuple[Dim, ...]

SIZE_DISPATCH_ATTR = "red.size_dispatch"
"""Marks an scf.if that selects by a size the cheapest of equivalent computations (the
order of a matmul chain): the branch taken at a size is the cheapest there."""


def argument_dim_names(fn: func.FuncOp, index: int) -> list[str] | None:
    """The names `red.dims` gives the dims of argument `index` (None without the attribute)."""
    if fn.arg_attrs is None:
        return None
    attr = fn.arg_attrs.data[index].data.get(DIMS_ATTR)
    if not isinstance(attr, ArrayAttr):
        return None
    return [a.data if isinstance(a, StringAttr) else "" for a in attr.data]


def verify_dim_names(fn: func.FuncOp) -> str | None:
    """An error message if a `red.dims` attribute does not fit its argument, else None."""
    if fn.arg_attrs is None:
        return None
    for i, (attrs, typ) in enumerate(zip(fn.arg_attrs.data, fn.function_type.inputs.data)):
        attr = attrs.data.get(DIMS_ATTR)
        if attr is None:
            continue
        if not isinstance(attr, ArrayAttr) or not all(isinstance(a, StringAttr) for a in attr.data):
            return f"argument #{i}: '{DIMS_ATTR}' must be an array of strings"
        if not isinstance(typ, TensorType) or len(attr.data) != len(typ.get_shape()):
            rank = len(typ.get_shape()) if isinstance(typ, TensorType) else 0
            return f"argument #{i}: '{DIMS_ATTR}' names {len(attr.data)} dims, the type has {rank}"
        for j, (name, d) in enumerate(zip(attr.data, typ.get_shape())):
            if isinstance(name, StringAttr) and name.data and d != red.DYNAMIC:
                return f"argument #{i}: dim {j} is {d}, not '?': it cannot be named '{name.data}'"
    return None


def _name(names: list[str] | None, arg: int, dim: int) -> str:
    return names[dim] if names and names[dim] else f"arg{arg}_{dim}"


SHAPE_OF_INPUT = (red.AxisNormOp, red.DynamicUpdateSliceOp)
"""Ops whose result has their first operand's shape on every axis, also where the row
facts have nothing to say (a softmax's normalized axis, the axis an update is written
along). TODO(issue 12): a `symbolic_dims` of their own on these ops."""


class SymbolicShapes:
    """Shapes of the tensors of one function, and values of its index scalars, in dims."""

    def __init__(self, fn: func.FuncOp):
        self.fn = fn
        self.shapes: dict[SSAValue, Shape] = {}
        self.scalars: dict[SSAValue, Dim] = {}
        self._fresh = 0
        if not fn.body.blocks:
            return
        for i, arg in enumerate(fn.body.block.args):
            if isinstance(arg.type, TensorType):
                names = argument_dim_names(fn, i)
                self.shapes[arg] = tuple(
                    d if d != red.DYNAMIC else Poly.symbol(_name(names, i, j))
                    for j, d in enumerate(arg.type.get_shape())
                )
        for block in fn.body.blocks:
            self.visit(block)

    def fresh(self) -> Poly:
        self._fresh += 1
        return Poly.symbol(f"?{self._fresh - 1}")

    def of(self, v: SSAValue) -> Shape:
        found = self.shapes.get(v)
        if found is None:
            if not isinstance(v.type, TensorType):
                return ()
            owner = v.owner
            if (
                isinstance(owner, red.RedOp)
                and not owner.regions
                and red.DYNAMIC in red.shape_of(v)
            ):
                # An op built after the analysis (a pass asking the cost of what it built):
                # its dims follow from its operands' as during the walk.
                for r, shape in zip(owner.results, self.result_shapes(owner)):
                    self.shapes[r] = shape
                if v in self.shapes:
                    return self.shapes[v]
            found = self.shapes[v] = tuple(
                d if d != red.DYNAMIC else self.fresh() for d in v.type.get_shape()
            )
        return found

    def scalar(self, v: SSAValue) -> Dim | None:
        return self.scalars.get(v)

    # region walk

    def visit(self, block: Block) -> None:
        for op in block.ops:
            self.visit_op(op)

    def visit_op(self, op: Operation) -> None:
        if isinstance(op, scf.ForOp):
            body = op.body.block
            for arg, init in zip(body.args[1:], op.iter_args):
                self._copy(arg, init)
            self.visit(body)
            for result, init in zip(op.results, op.iter_args):
                self._copy(result, init)
            return
        for region in op.regions:
            for b in region.blocks:
                self.visit(b)
        if isinstance(op, scf.IfOp):
            yields = [b.last_op for b in op.true_region.blocks] if op.true_region.blocks else []
            for i, r in enumerate(op.results):
                if yields and isinstance(yields[0], scf.YieldOp):
                    self._copy(r, yields[0].operands[i])
            return
        if self._scalar_op(op):
            return
        if isinstance(op, red.RedOp) and op.results:
            for r, shape in zip(op.results, self.result_shapes(op)):
                self.shapes[r] = shape

    def _copy(self, target: SSAValue, source: SSAValue) -> None:
        if isinstance(target.type, TensorType):
            self.shapes[target] = self.of(source)
        elif source in self.scalars:
            self.scalars[target] = self.scalars[source]

    def _scalar_op(self, op: Operation) -> bool:
        """tensor.dim, index constants and index arithmetic: values as dims."""
        if isinstance(op, tensor.DimOp):
            index = self.scalar(op.index)
            if isinstance(index, int):
                self.scalars[op.result] = self.of(op.source)[index]
            return True
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
            self.scalars[op.result] = op.value.value.data
            return True
        if isinstance(op, arith.AddiOp | arith.SubiOp | arith.MuliOp | arith.IndexCastOp):
            args = [self.scalar(v) for v in op.operands]
            if all(a is not None for a in args):
                a = args[0]
                if isinstance(op, arith.IndexCastOp):
                    self.scalars[op.result] = a  # type: ignore[assignment]
                elif isinstance(op, arith.AddiOp):
                    self.scalars[op.result] = a + args[1]  # type: ignore[operator]
                elif isinstance(op, arith.SubiOp):
                    self.scalars[op.result] = a - args[1]  # type: ignore[operator]
                else:
                    self.scalars[op.result] = a * args[1]  # type: ignore[operator]
            return True
        return False

    # endregion walk

    def result_shapes(self, op: red.RedOp) -> list[Shape]:
        """A result dim is its static size, else what the op's own rule or its row facts
        give, else a fresh symbol."""
        custom = op.symbolic_dims([self.of(v) for v in op.operands])
        out: list[Shape] = []
        for k, r in enumerate(op.results):
            declared = red.shape_of(r) if isinstance(r.type, TensorType) else ()
            dims: list[Dim] = []
            for a, d in enumerate(declared):
                if d != red.DYNAMIC:
                    dims.append(d)
                elif custom is not None and custom[k][a] is not None:
                    dims.append(custom[k][a])  # type: ignore[arg-type]
                elif k == 0 and isinstance(op, SHAPE_OF_INPUT):
                    dims.append(self.of(op.operands[0])[a])
                else:
                    dims.append(self._from_rows(op, a) if k == 0 else self.fresh())
            out.append(tuple(dims))
        return out

    def _from_rows(self, op: red.RedOp, axis: int) -> Dim:
        sources = op.row_sources(axis)
        if sources is not None:
            for v, s in zip(op.operands, sources):
                if isinstance(s, int):
                    d = self.of(v)[s]
                    if not is_static(d) or d != 1:
                        return d
        return self.fresh()


def _anonymous(symbol: str) -> bool:
    """A symbol the analysis made up: a fresh `?N`, or `argI_J` for an unnamed `?`."""
    return symbol.startswith("?") or re.fullmatch(r"arg\d+_\d+", symbol) is not None


def contraction_mismatch(a: Dim, b: Dim) -> bool:
    """Whether two dims that must be equal are different symbols: different ints, or
    different polynomials in names the user gave (an int and a symbol, or an unnamed `?`,
    may still be equal at run time)."""
    if is_static(a) and is_static(b):
        return a != b
    if is_static(a) or is_static(b):
        return False
    symbols = a.symbols | b.symbols  # type: ignore[union-attr]
    return not any(_anonymous(s) for s in symbols) and a != b


def _equal_dims(op: Operation, shapes: SymbolicShapes) -> list[tuple[str, Dim, Dim]]:
    """The dims `op` requires equal, each with what they are: a matmul's contracted dims, a
    concat's dims besides its axis."""
    if isinstance(op, red.MatmulOp):
        lhs, rhs = shapes.of(op.lhs), shapes.of(op.rhs)
        if len(lhs) >= 2 and len(rhs) >= 2:
            a, b = format_dim(lhs[-1]), format_dim(rhs[-2])
            what = f"contracts lhs dim {len(lhs) - 1} = {a} with rhs dim {len(rhs) - 2} = {b}"
            return [(what, lhs[-1], rhs[-2])]
    if isinstance(op, red.ConcatOp):
        axis = op.axis.value.data
        first = shapes.of(op.operands[0])
        return [
            (
                f"joins operand #{i} with dim {d} = {format_dim(o[d])} to operand #0's "
                f"{format_dim(first[d])}",
                first[d],
                o[d],
            )
            for i, other in enumerate(op.operands[1:], 1)
            for o in [shapes.of(other)]
            for d in range(min(len(first), len(o)))
            if d != axis
        ]
    return []


def symbolic_shape_problem(fn: func.FuncOp) -> tuple[Operation, str] | None:
    """The first op of `fn` whose operands' symbolic dims cannot be equal although it needs
    them equal (e.g. a matmul contracting `seq` with `hidden`), or bad `red.dims` names."""
    problem = verify_dim_names(fn)
    if problem is not None:
        return fn, problem
    if not has_dynamic_shapes(fn):
        return None
    shapes = SymbolicShapes(fn)
    for op in fn.walk():
        for what, a, b in _equal_dims(op, shapes):
            if contraction_mismatch(a, b):
                return op, f"'{op.name}' op {what}: different symbols, not proven equal"
    return None


def function_shapes(fn: func.FuncOp) -> SymbolicShapes:
    return SymbolicShapes(fn)


def dims_text(shape: Sequence[Dim]) -> str:
    return "x".join(format_dim(d) if is_static(d) else f"({format_dim(d)})" for d in shape)


class SymbolicSizes(red.Sizes):
    """Sizes for the cost rules from a symbolic shape analysis: a `?` dim is its symbol, so
    costs come out as polynomials in the named dims."""

    def __init__(self, shapes: SymbolicShapes):
        self.shapes = shapes

    def dims(self, v: SSAValue) -> Sequence[Dim]:
        return self.shapes.of(v)


def has_dynamic_shapes(fn: func.FuncOp) -> bool:
    """Whether any tensor of the function has a `?` dim."""
    for op in fn.walk():
        for v in (*op.results, *(a for r in op.regions for b in r.blocks for a in b.args)):
            if isinstance(v.type, TensorType) and red.DYNAMIC in v.type.get_shape():
                return True
    return False
