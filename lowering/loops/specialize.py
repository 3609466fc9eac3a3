"""The unit-size specialization of a public function with `?` dims, for convert-red-to-loops.

A function compiled once for every size is slower than a static compile where sizes are
tiny: at sequence length 1 (a decode step, a one-token prompt) the per-op costs of work
that a static compile folds away dominate (a causal mask computed from run-time positions,
gathers where slices would be views, size arithmetic). So, like `torch.compile`'s 0/1
specialization, the lowering also compiles the function at every symbol = 1: the clone's
tensors take the static types their symbolic dims have there (dialects/symbolic_shapes.py),
gathers of consecutive constant indices become slices, and canonicalize, cse and dce fold
it as they would a static import. These rewrites are exact (no reassociation), so the
specialization computes what the function computes at those sizes. The sized entry
(convert_red_to_loops.py) calls it when every symbol is 1, after the size checks.

No specialization is made (the function keeps one body) when a dim is not a polynomial in
the arguments' symbols (a size only known at run time, e.g. grown by a loop) or when the
clone does not verify with static types."""

from __future__ import annotations

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FunctionType,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import Rewriter

from red.dialects import red
from red.dialects.context import make_context
from red.dialects.diagnostics import DiagnosticError
from red.dialects.red.constants import constant_value
from red.dialects.red.dims import evaluate
from red.dialects.symbolic_shapes import DIMS_ATTR, SymbolicShapes
from red.dialects.verifier import verify_module


def _values(op: Operation) -> list[SSAValue]:
    """Every value `op` defines, nested ones included, in a deterministic order."""
    out: list[SSAValue] = []
    for o in op.walk():
        for region in o.regions:
            for block in region.blocks:
                out.extend(block.args)
        out.extend(o.results)
    return out


def unit_sizes(fn: func.FuncOp) -> dict[str, int]:
    """Every symbol of the arguments' `?` dims at 1."""
    shapes = SymbolicShapes(fn)
    symbols: set[str] = set()
    for arg in fn.body.block.args:
        for d in shapes.of(arg):
            if not isinstance(d, int):
                symbols |= d.symbols
    return dict.fromkeys(sorted(symbols), 1)


def specialize(fn: func.FuncOp, sizes: dict[str, int], name: str) -> func.FuncOp | None:
    """A private copy of `fn` named `name` with every tensor's dims evaluated at `sizes`,
    folded (module docstring); None when it cannot be made static."""
    shapes = SymbolicShapes(fn)
    static: list[TensorType | None] = []
    for v in _values(fn):
        typ = v.type
        if not isinstance(typ, TensorType) or red.DYNAMIC not in typ.get_shape():
            static.append(None)
            continue
        dims = [evaluate(d, sizes) for d in shapes.of(v)]
        ints = [d for d in dims if isinstance(d, int) and d >= 0]
        if len(ints) != len(dims):
            return None
        static.append(TensorType(typ.get_element_type(), ints))
    clone = fn.clone()
    for v, typ in zip(_values(clone), static):
        if typ is not None:
            Rewriter.replace_value_with_new_type(v, typ)
    clone.sym_name = StringAttr(name)
    block = clone.body.block
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)
    clone.function_type = FunctionType.from_lists(
        [a.type for a in block.args], [v.type for v in ret.operands]
    )
    if clone.arg_attrs is not None:  # the symbols' names belong to `?` dims
        clone.arg_attrs = ArrayAttr(
            [
                DictionaryAttr({k: v for k, v in d.data.items() if k != DIMS_ATTR})
                for d in clone.arg_attrs.data
            ]
        )
    scratch = ModuleOp([])
    for callee in _callees(fn):
        scratch.body.block.add_op(func.FuncOp.external(callee.sym_name.data, *_io(callee)))
    scratch.body.block.add_op(clone)
    try:
        verify_module(scratch)
    except DiagnosticError:
        return None
    _gathers_to_slices(clone)
    _fold(scratch)
    clone.detach()
    clone.sym_visibility = StringAttr("private")
    return clone


def _io(fn: func.FuncOp) -> tuple[list, list]:
    t = fn.function_type
    return list(t.inputs.data), list(t.outputs.data)


def _callees(fn: func.FuncOp) -> list[func.FuncOp]:
    """The functions `fn` calls (declared in the scratch module so that it verifies)."""
    module = fn.parent_op()
    if not isinstance(module, ModuleOp):
        return []
    names = {op.callee.root_reference.data for op in fn.walk() if isinstance(op, func.CallOp)}
    return [
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data in names
    ]


def _gathers_to_slices(fn: func.FuncOp) -> None:
    """gather(t, [k, k+1, ..., k+n-1], axis) -> slice(t, [k, k+n) along axis): what an
    importer writes for a split of a tensor with a `?` dim is a slice once it is static
    (which the lowering may read as a view)."""
    for op in list(fn.walk()):
        if not isinstance(op, red.GatherOp):
            continue
        ids = constant_value(op.indices)
        shape = red.shape_of(op.table)
        axis = op.axis.value.data
        if ids is None or ids.ndim != 1 or not ids.size or red.DYNAMIC in shape:
            continue
        start = int(ids[0])
        if not 0 <= start <= shape[axis] - ids.size:
            continue
        if not np.array_equal(ids, np.arange(start, start + ids.size)):
            continue
        lo, hi = [0] * len(shape), list(shape)
        lo[axis], hi[axis] = start, start + ids.size
        new = red.SliceOp(op.table, lo, hi)
        new.location = op.location
        Rewriter.replace_op(op, new)


def _fold(module: ModuleOp) -> None:
    """canonicalize, cse and dce: exact rewrites (canonicalize without reassociation).
    Imported here: the lowering loads the pass machinery only when it specializes."""
    from red.transforms.canonicalize import CanonicalizePass
    from red.transforms.cse import CSEPass
    from red.transforms.dce import DCEPass

    ctx = make_context()
    for _ in range(2):
        CanonicalizePass().apply(ctx, module)
        CSEPass().apply(ctx, module)
        DCEPass().apply(ctx, module)
