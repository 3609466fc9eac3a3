"""numpy <-> MLIR: the one table of element types red supports (MLIR type, numpy dtype, C
type), and the conversions between dense elements attributes and numpy arrays that the
interpreter, the passes, the lowering and the frontends all use."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IndexType,
    TensorType,
    f16,
    f32,
    f64,
    i1,
    i8,
    i16,
    i32,
    i64,
)
from xdsl.ir import Attribute


class UnsupportedTypeError(ValueError):
    """An element type or numpy dtype red has no mapping for."""


@dataclass(frozen=True)
class ElementType:
    """One supported element type: its MLIR type, short name, numpy dtype and C type."""

    mlir: Attribute
    name: str
    dtype: np.dtype[Any]
    c_type: str


ELEMENT_TYPES: tuple[ElementType, ...] = (
    ElementType(f16, "f16", np.dtype(np.float16), "_Float16"),
    ElementType(f32, "f32", np.dtype(np.float32), "float"),
    ElementType(f64, "f64", np.dtype(np.float64), "double"),
    ElementType(i1, "i1", np.dtype(np.bool_), "uint8_t"),
    ElementType(i8, "i8", np.dtype(np.int8), "int8_t"),
    ElementType(i16, "i16", np.dtype(np.int16), "int16_t"),
    ElementType(i32, "i32", np.dtype(np.int32), "int32_t"),
    ElementType(i64, "i64", np.dtype(np.int64), "int64_t"),
)
"""Every element type red's interpreter, lowering and frontends handle (index is i64)."""

_BY_MLIR: dict[Attribute, ElementType] = {e.mlir: e for e in ELEMENT_TYPES}
_BY_NAME: dict[str, ElementType] = {e.name: e for e in ELEMENT_TYPES}
_BY_DTYPE: dict[np.dtype[Any], ElementType] = {e.dtype: e for e in ELEMENT_TYPES}


def element_info(element_type: Attribute) -> ElementType:
    """The table entry of an MLIR element type (`index` reads as i64)."""
    if isinstance(element_type, IndexType):
        return _BY_MLIR[i64]
    found = _BY_MLIR.get(element_type)
    if found is None:
        raise UnsupportedTypeError(f"element type '{element_type}' is not supported")
    return found


def numpy_dtype(element_type: Attribute) -> np.dtype[Any]:
    """The numpy dtype that holds an MLIR element type exactly."""
    return element_info(element_type).dtype


def element_type_for(dtype: Any) -> Attribute:
    """The MLIR element type of a numpy dtype."""
    found = _BY_DTYPE.get(np.dtype(dtype))
    if found is None:
        raise UnsupportedTypeError(f"numpy dtype {np.dtype(dtype)} has no red element type")
    return found.mlir


def element_type_named(name: str) -> Attribute:
    """`"f32"` -> f32 (the builder's and the command line's spelling)."""
    found = _BY_NAME.get(name)
    if found is None:
        names = ", ".join(_BY_NAME)
        raise UnsupportedTypeError(f"unknown dtype '{name}' (expected one of {names})")
    return found.mlir


def is_supported_element_type(element_type: Attribute) -> bool:
    return isinstance(element_type, IndexType) or element_type in _BY_MLIR


def _resource_bytes(attr: DenseResourceAttr) -> bytes:
    from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
    from xdsl.dialects.builtin import Builtin

    interface = Builtin.get_interface(OpAsmDialectInterface)
    blob = interface.lookup(attr.resource_handle.data) if interface else None
    if not blob:
        raise ValueError(f"dense resource '{attr.resource_handle.data}' has no data")
    raw = bytes.fromhex(blob[2:])
    return raw[4:]  # MLIR blobs start with a 4-byte alignment word


def dense_to_numpy(attr: DenseIntOrFPElementsAttr | DenseResourceAttr) -> np.ndarray:
    """The array a dense elements attribute (or dense resource) denotes (read-only view of
    the attribute's bytes where possible)."""
    typ = attr.get_type()
    assert isinstance(typ, TensorType)
    dtype = numpy_dtype(typ.get_element_type())
    shape = tuple(typ.get_shape())
    raw = _resource_bytes(attr) if isinstance(attr, DenseResourceAttr) else attr.data.data
    if dtype == np.bool_:
        flat = np.frombuffer(raw, dtype=np.int8) != 0
    else:
        flat = np.frombuffer(raw, dtype=dtype)
    count = math.prod(shape)
    if flat.size == 1 and count != 1:
        return np.broadcast_to(flat[0], shape)
    if flat.size != count:
        raise ValueError(f"dense attribute holds {flat.size} elements, its type {count}")
    return flat.reshape(shape)


def numpy_to_dense(array: Any, element_type: Attribute | None = None) -> DenseIntOrFPElementsAttr:
    """A dense elements attribute holding an array (converted to `element_type` if given)."""
    arr = np.asarray(array)
    elt = element_type if element_type is not None else element_type_for(arr.dtype)
    dtype = numpy_dtype(elt)
    arr = np.array(arr, dtype=dtype, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    raw = (arr.astype(np.int8) * -1).tobytes() if dtype == np.bool_ else arr.tobytes()
    typ = TensorType(elt, list(arr.shape))
    return DenseIntOrFPElementsAttr(typ, BytesAttr(raw))  # pyright: ignore[reportArgumentType]


def splat_to_dense(value: Any, typ: TensorType) -> DenseIntOrFPElementsAttr:
    """A splat attribute (one element stored) of `typ` holding `value` everywhere."""
    elt = typ.get_element_type()
    one = np.asarray(value, dtype=numpy_dtype(elt)).reshape(())
    raw = (one.astype(np.int8) * -1).tobytes() if one.dtype == np.bool_ else one.tobytes()
    return DenseIntOrFPElementsAttr(typ, BytesAttr(raw))  # pyright: ignore[reportArgumentType]


def splat_value(array: np.ndarray) -> np.ndarray | None:
    """The single element of an array whose elements are all equal (bitwise for floats, so
    +0.0 and -0.0 differ), as a 1-element array; None otherwise or when empty."""
    if array.size == 0:
        return None
    flat = array.reshape(-1)
    first = flat[:1]
    if array.strides and all(s == 0 for s in array.strides):
        return first  # a broadcast view of one element
    if flat.dtype.kind == "f":
        bits = f"u{flat.itemsize}"
        same = bool(np.all(flat.view(bits) == first.view(bits)))
    else:
        same = bool(np.all(flat == first))
    return first if same else None


def splat_bytes(attr: DenseIntOrFPElementsAttr) -> bytes | None:
    """The bytes of the one element of a dense attribute whose elements are all bitwise
    equal (any element type, bf16 included), else None."""
    raw = attr.data.data
    elt = attr.get_element_type()
    width = getattr(elt, "bitwidth", None) or getattr(getattr(elt, "width", None), "data", 8)
    step = max(1, (width + 7) // 8)
    if not raw or len(raw) % step:
        return None
    first = raw[:step]
    view = memoryview(raw)
    chunk = first * max(1, (1 << 20) // step)  # compare a MiB at a time: no full-size copy
    for start in range(0, len(raw), len(chunk)):
        part = view[start : start + len(chunk)]
        if part != chunk[: len(part)]:
            return None
    return first
