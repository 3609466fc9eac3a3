"""Seeded random arguments for a function, drawn as `red-run --random` does (DESIGN.md §6):
floats from N(0, 1); integers uniformly in [0, n) where n is the size of the table dimension
they index through red.gather, else 8; i1 uniformly true or false."""

from __future__ import annotations

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType
from xdsl.ir import SSAValue

from red.dialects import red
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.symbolic_shapes import argument_dim_names

DEFAULT_INTEGER_BOUND = 8

# Ops through which an integer value still holds the same ids (only rearranged).
_ID_PRESERVING = (
    red.ReshapeOp,
    red.TransposeOp,
    red.SliceOp,
    red.BroadcastToOp,
    red.ConcatOp,
    red.CastOp,
)


def integer_bound(value: SSAValue) -> int:
    """The smallest table size any red.gather indexes with (a rearrangement of) `value`."""
    bounds: list[int] = []
    seen: set[SSAValue] = set()
    work = [value]
    while work:
        v = work.pop()
        if v in seen:
            continue
        seen.add(v)
        for use in v.uses:
            user = use.operation
            if isinstance(user, red.GatherOp) and use.index == 1:
                n = red.shape_of(user.table)[user.axis.value.data]
                if n != red.DYNAMIC:
                    bounds.append(n)
            elif isinstance(user, _ID_PRESERVING):
                work.append(user.results[0])
            elif isinstance(user, func.CallOp) and (callee := _callee(user)) is not None:
                work.append(callee.body.block.args[use.index])  # the ids inside the callee
    return min(bounds) if bounds else DEFAULT_INTEGER_BOUND


def _callee(call: func.CallOp) -> func.FuncOp | None:
    """The function a call calls, when it is defined in the same module."""
    module = call.get_toplevel_object()
    if not isinstance(module, ModuleOp):
        return None
    name = call.callee.root_reference.data
    for op in module.body.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name and op.body.blocks:
            return op
    return None


DEFAULT_DYNAMIC_SIZE = 5
"""The size a `?` dim gets when no size is given for its symbol."""


def concrete_shape(
    fn: func.FuncOp, index: int, sizes: dict[str, int] | None = None
) -> tuple[int, ...]:
    """Argument `index`'s shape with each `?` dim at the size of its symbol (`red.dims`
    names; the same name gets the same size), `sizes[name]` or DEFAULT_DYNAMIC_SIZE."""
    typ = fn.function_type.inputs.data[index]
    assert isinstance(typ, TensorType)
    names = argument_dim_names(fn, index)
    out = []
    for j, d in enumerate(typ.get_shape()):
        if d != red.DYNAMIC:
            out.append(d)
            continue
        name = names[j] if names and names[j] else f"arg{index}_{j}"
        out.append((sizes or {}).get(name, DEFAULT_DYNAMIC_SIZE))
    return tuple(out)


def random_inputs(
    fn: func.FuncOp, seed: int = 0, sizes: dict[str, int] | None = None
) -> list[np.ndarray]:
    """One array per argument of `fn`; a `?` dim takes the size of its symbol (see
    `concrete_shape`) when `sizes` is given (an empty dict: every symbol at the default
    size), else a dynamic shape is an error."""
    rng = np.random.default_rng(seed)
    first = fn.body.blocks.first
    args = first.args if first is not None else ()
    out: list[np.ndarray] = []
    for i, typ in enumerate(fn.function_type.inputs.data):
        if not isinstance(typ, TensorType):
            raise ValueError(f"argument #{i} has non-tensor type '{typ}'")
        if sizes is None and red.DYNAMIC in typ.get_shape():
            raise ValueError(f"argument #{i} has a dynamic shape '{typ}': pass --inputs")
        shape = concrete_shape(fn, i, sizes)
        dtype = numpy_dtype(typ.get_element_type())
        elt = typ.get_element_type()
        if dtype == np.bool_:
            out.append(rng.integers(0, 2, size=shape).astype(np.bool_))
        elif isinstance(elt, IntegerType) or np.issubdtype(dtype, np.integer):
            bound = integer_bound(args[i]) if args else DEFAULT_INTEGER_BOUND
            out.append(rng.integers(0, bound, size=shape).astype(dtype))
        else:
            out.append(rng.standard_normal(size=shape).astype(dtype))
    return out
