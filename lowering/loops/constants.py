"""Constant tensors: recorded as constants (a splat is a scalar where it is read) and, when
read as a whole buffer, one constant module global per distinct value."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Operation, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import dense_to_numpy, numpy_to_dense, resource_blob
from red.lowering.loops.rules import lowers
from red.lowering.loops.values import Const, memref_of

if TYPE_CHECKING:
    from red.lowering.convert_red_to_loops import BlockLowering


@lowers(red.ConstantOp, arith.ConstantOp, into_destination=False)
def _constant(bl: BlockLowering, op: red.ConstantOp | arith.ConstantOp) -> None:
    """No code: the value is read where it is used (a returned one is copied)."""
    attr = op.value
    if not isinstance(op.result.type, TensorType) or not isinstance(
        attr, DenseIntOrFPElementsAttr | DenseResourceAttr
    ):
        raise DiagnosticError.at(op, f"'{op.name}' op is not supported by the lowering")
    bl.define(op.result, Const(attr, dense_to_numpy(attr)))


IDENTITY_KEY_BYTES = 4096
"""A constant global of at least this many bytes is made once per buffer (its address and
length), not per content: keying globals by their bytes hashed all of GPT-2-small's weights
(0.28 s of a compile). Equal bytes in two buffers then make two globals, which only the
weights-as-constants import could produce, and its cse already merged equal constants."""


def global_buffer(bl: BlockLowering, v: SSAValue, const: Const) -> SSAValue:
    """The module global holding `const` (one per distinct type and bytes, or per buffer
    when large), as a memref. The global's value views the constant's bytes (a dense
    resource's blob too): a weight is never copied here."""
    attr = const.attr
    typ = attr.get_type()
    dense, viewed = _dense_view(attr, const.array)

    def make(name: str) -> Operation:
        return memref.GlobalOp.get(StringAttr(name), memref_of(typ), dense, constant=UnitAttr())

    raw = dense.data.data
    if viewed and len(raw) >= IDENTITY_KEY_BYTES:
        # the global made first holds these bytes for the whole lowering: an address seen
        # again is the same buffer, never a reused one
        key: Hashable = ("constant", typ, np.frombuffer(raw, np.uint8).ctypes.data, len(raw))
    else:
        key = ("constant", typ, bytes(raw))
    name = bl.module.unique_global(key, "__red_constant_", make)
    # at the top of the function: the first read may be inside a loop, later ones outside
    return bl.e.at_entry(memref.GetGlobalOp(SymbolRefAttr(name), memref_of(v.type)))


def _dense_view(
    attr: DenseIntOrFPElementsAttr | DenseResourceAttr, array: np.ndarray
) -> tuple[DenseIntOrFPElementsAttr, bool]:
    """A dense elements attribute of `attr`'s value, and whether it views `attr`'s own
    bytes: a dense resource whose blob holds every element becomes one on the blob's memory
    (no copy); one holding a single element for many (a splat) is expanded."""
    if isinstance(attr, DenseIntOrFPElementsAttr):
        return attr, True
    typ = attr.get_type()
    blob = resource_blob(attr)
    if blob is not None and blob.nbytes == array.nbytes and array.dtype != np.bool_:
        # BytesAttr's data is read as a buffer downstream (len, hex, np.frombuffer)
        view = BytesAttr(blob.data)  # pyright: ignore[reportArgumentType]
        return DenseIntOrFPElementsAttr(typ, view), True  # pyright: ignore[reportArgumentType]
    return numpy_to_dense(array, red.element_type_of(typ)), False
