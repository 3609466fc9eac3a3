"""numpy <-> MLIR: the one table of element types red supports (MLIR type, numpy dtype, C
type), and the conversions between dense elements attributes and numpy arrays that the
interpreter, the passes, the lowering and the frontends all use."""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    ArrayAttr,
    Builtin,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
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
from xdsl.ir import Attribute, Operation, ParametrizedAttribute


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


# region Dense resource blobs


@dataclass(frozen=True)
class Blob:
    """The data of one dense resource: a read-only byte buffer (bytes, an array's memory or
    a memory-mapped file) and the alignment MLIR's blob header records."""

    data: memoryview
    alignment: int

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    def header(self) -> bytes:
        """MLIR's 4-byte little-endian alignment word that starts a blob's hex text."""
        return self.alignment.to_bytes(4, "little")


class _BlobHex(str):
    """What xDSL's `lookup` returns for a blob (`"0x"`, the alignment word, the data, in
    hex), without building that text until its characters are read: `len()` and truth are
    O(1), so a caller that only checks a blob's size never hex-encodes the weights."""

    _blob: Blob

    def __new__(cls, blob: Blob) -> _BlobHex:
        self = super().__new__(cls, "0x")
        self._blob = blob
        return self

    def text(self) -> str:
        return "0x" + (self._blob.header() + self._blob.data.tobytes()).hex().upper()

    def __len__(self) -> int:
        return 2 + 2 * (4 + self._blob.nbytes)

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.text()

    def __getitem__(self, index: Any) -> str:  # pyright: ignore[reportIncompatibleMethodOverride]
        return self.text()[index]


class ResourceStore(OpAsmDialectInterface):
    """builtin's store of dense resource blobs, holding bytes rather than xDSL 0.74's hex
    strings (twice the size, decoded again on every read): a blob is a view of the buffer
    it was made from (an imported array, the bytes decoded once from the text, a memory map
    of an external data file), never copied by a read. Keys are unique per process; xDSL's
    parser and printer use it through the `OpAsmDialectInterface` methods.

    A blob lives as long as the attributes naming it: `hold` ties a key to an attribute
    object, and when the last attribute held for a key is garbage-collected the blob leaves
    the store (arrays already read from it keep its memory). Keys never held (declared by a
    caller that does not track its attributes) stay until `clear`."""

    def __init__(self) -> None:
        super().__init__()
        self._blobs: dict[str, Blob | None] = {}
        self._names: dict[str, str] = {}  # key -> the name it was declared with
        # name -> the suffix its next clash tries first: 3,000 weights named "w" each scanned
        # w_0, w_1, ... from 0 (3 s of declarations); a freed suffix is not reused
        self._next_suffix: dict[str, int] = {}
        self._holders: dict[str, int] = {}  # key -> live attribute objects held for it
        self._lock = threading.RLock()  # a blob released by GC inside a locked section
        self._recording = threading.local()

    def declare_resource(self, key: str) -> str:
        """Reserve `key` (or `key_0`, `key_1`, ... if taken) and return it."""
        name = key
        with self._lock:  # two threads importing at once never get the same key
            if key in self._blobs:
                counter = self._next_suffix.get(key, 0)
                while f"{key}_{counter}" in self._blobs:
                    counter += 1
                self._next_suffix[name] = counter + 1
                key = f"{key}_{counter}"
            self._blobs[key] = None
            self._names[key] = name
        for keys in getattr(self._recording, "stack", ()):
            keys.append(key)
        return key

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The keys this thread declares inside the block (e.g. while parsing one module);
        if the block raises, they are discarded with their blobs."""
        stack = self._recording.__dict__.setdefault("stack", [])
        keys: list[str] = []
        stack.append(keys)
        try:
            yield keys
        except BaseException:
            for key in keys:
                self.discard(key)
            raise
        finally:
            stack.remove(keys)

    def parse_resource(self, key: str, val: str) -> None:
        """A blob from its hex text (`0x`, alignment word, data)."""
        if not val.startswith("0x"):
            raise ValueError(f"Blob must be a hex string, got: {val[:16]}")
        if key not in self._blobs:
            raise KeyError(f"Resource with key {key} wasn't declared")
        raw = bytes.fromhex(val[2:])
        self.set(key, memoryview(raw)[4:], int.from_bytes(raw[:4], "little") or 1)

    def set(self, key: str, data: Any, alignment: int) -> None:
        """Give a declared key its data (any C-contiguous buffer; kept, not copied)."""
        self._blobs[key] = Blob(memoryview(data).cast("B"), alignment)

    def add(self, name: str, data: Any, alignment: int) -> str:
        """Declare a key from `name` holding `data`; return the key."""
        key = self.declare_resource(name)
        self.set(key, data, alignment)
        return key

    def blob(self, key: str) -> Blob | None:
        return self._blobs.get(key)

    def is_declared(self, key: str) -> bool:
        return key in self._blobs

    def declared_name(self, key: str) -> str:
        """The name `key` was declared with (a file's name for the blob, before renaming)."""
        return self._names.get(key, key)

    def lookup(self, key: str) -> str | None:
        """xDSL's interface: the blob's hex text, built lazily (see `_BlobHex`)."""
        blob = self._blobs.get(key)
        return _BlobHex(blob) if blob is not None else None

    def build_resources(self, keys: Iterable[str]) -> dict[str, str]:
        return {k: b.text() for k in keys if (b := self.lookup(k)) is not None}  # type: ignore[union-attr]

    def hold(self, key: str, attribute: DenseResourceAttr) -> None:
        """Keep `key`'s blob while `attribute` (an object naming it) is alive."""
        with self._lock:
            self._holders[key] = self._holders.get(key, 0) + 1
        weakref.finalize(attribute, self._release, key).atexit = False

    def discard(self, key: str) -> None:
        """Drop `key` and its blob now (a key that nothing names any more)."""
        with self._lock:
            self._holders.pop(key, None)
            self._blobs.pop(key, None)
            self._names.pop(key, None)

    def _release(self, key: str) -> None:
        with self._lock:
            count = self._holders.get(key)
            if count is None:  # cleared meanwhile
                return
            if count > 1:
                self._holders[key] = count - 1
                return
            del self._holders[key]
            self._blobs.pop(key, None)
            self._names.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._blobs.clear()
            self._names.clear()
            self._next_suffix.clear()
            self._holders.clear()


def blob_store() -> ResourceStore:
    """The process-wide store of builtin's dense resources (installed in place of xDSL's
    on first use, before any module is parsed or built)."""
    interfaces = Builtin._interfaces  # pyright: ignore[reportPrivateUsage]
    for i, interface in enumerate(interfaces):
        if isinstance(interface, ResourceStore):
            return interface
        if isinstance(interface, OpAsmDialectInterface):
            interfaces[i] = store = ResourceStore()
            return store
    store = ResourceStore()
    interfaces.append(store)
    return store


def hold_resources(root: Operation, keys: Iterable[str]) -> None:
    """Tie each of `keys` (declared while `root` was built, e.g. by its parse) to the dense
    resource attributes under `root` that name it, so the blob leaves the store with the
    last of them; a key that none names is discarded now."""
    store, wanted = blob_store(), set(keys)
    found: set[str] = set()
    for op in root.walk():
        for value in (*op.attributes.values(), *op.properties.values()):
            for attr in _dense_resources(value):
                key = attr.resource_handle.data
                if key in wanted:
                    store.hold(key, attr)
                    found.add(key)
    for key in wanted - found:
        store.discard(key)


def _dense_resources(attr: Attribute) -> Iterator[DenseResourceAttr]:
    stack = [attr]
    while stack:
        a = stack.pop()
        if isinstance(a, DenseResourceAttr):
            yield a
        elif isinstance(a, ArrayAttr):
            stack.extend(a.data)
        elif isinstance(a, DictionaryAttr):
            stack.extend(a.data.values())
        elif isinstance(a, ParametrizedAttribute):
            stack.extend(p for p in a.parameters if isinstance(p, Attribute))


def _same_attribute(attr: DenseResourceAttr, memo: dict[int, Any] | None = None) -> Any:
    return attr


def _reduce_resource(attr: DenseResourceAttr) -> tuple[Any, ...]:
    blob = resource_blob(attr)
    data = None if blob is None else (blob.data.tobytes(), blob.alignment)
    return (_unpickle_resource, (attr.resource_handle.data, attr.type, data))


def _unpickle_resource(
    key: str, typ: TensorType, data: tuple[bytes, int] | None
) -> DenseResourceAttr:
    """A pickled dense resource: its key when the store holds those bytes under it (then
    held by the new attribute too), else its bytes under a key of their own."""
    store = blob_store()
    if data is None:
        return DenseResourceAttr.from_params(key, typ)
    blob = store.blob(key)
    with store._lock:  # pyright: ignore[reportPrivateUsage]
        shared = blob is not None and key in store._holders and blob.data == data[0]  # pyright: ignore[reportPrivateUsage]
    if not shared:
        key = store.add(store.declared_name(key), data[0], data[1])
    attr = DenseResourceAttr.from_params(key, typ)
    store.hold(key, attr)
    return attr


# Copies of a module keep their blobs. copy.copy and copy.deepcopy share the (immutable)
# dense resource attributes, as Operation.clone does: a new attribute object would name a
# blob that nothing holds, gone from the store once the original module is freed. A pickle
# carries the blob's bytes (MLIR's text carries them too) and its load holds them.
DenseResourceAttr.__copy__ = _same_attribute  # pyright: ignore[reportAttributeAccessIssue]
DenseResourceAttr.__deepcopy__ = _same_attribute  # pyright: ignore[reportAttributeAccessIssue]
DenseResourceAttr.__reduce__ = _reduce_resource  # pyright: ignore[reportAttributeAccessIssue]


def resource_blob(attr: DenseResourceAttr) -> Blob | None:
    """The blob a dense resource names, or None when the store has no data for it."""
    return blob_store().blob(attr.resource_handle.data)


def numpy_to_resource(array: np.ndarray, name: str) -> DenseResourceAttr:
    """A dense resource holding `array` (int or float; the store keeps a view of its memory,
    copying only an array that is not C-contiguous, while the returned attribute lives); its
    key is `name`, made unique."""
    arr = np.ascontiguousarray(array)
    elt = element_type_for(arr.dtype)
    if arr.dtype == np.bool_:
        raise UnsupportedTypeError("i1 tensors are not stored as dense resources")
    view = arr.view()
    view.flags.writeable = False  # attributes are immutable: reads through it must not write
    store = blob_store()
    key = store.add(name, view, max(1, arr.dtype.itemsize))
    attr = DenseResourceAttr.from_params(key, TensorType(elt, list(arr.shape)))
    store.hold(key, attr)
    return attr


def _resource_bytes(attr: DenseResourceAttr) -> memoryview:
    blob = resource_blob(attr)
    if blob is None:
        raise ValueError(f"dense resource '{attr.resource_handle.data}' has no data")
    return blob.data


# endregion Dense resource blobs


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


_BLOCK_BYTES = 1 << 21


def c_order(array: np.ndarray) -> np.ndarray:
    """`array` in C order: itself when it is, else a copy made in blocks that are contiguous
    in the source (numpy's element-wise copy of a transposed weight misses the cache on every
    element: 4x slower on a 50257x768 matrix)."""
    if array.flags.c_contiguous or array.ndim < 2:
        return np.ascontiguousarray(array)
    axis = int(np.argmax([abs(s) for s in array.strides]))
    row_bytes = array.nbytes // max(1, array.shape[axis])
    step = max(1, _BLOCK_BYTES // max(1, row_bytes))
    out = np.empty(array.shape, dtype=array.dtype)
    index: list[slice] = [slice(None)] * array.ndim
    for start in range(0, array.shape[axis], step):
        index[axis] = slice(start, start + step)
        out[tuple(index)] = array[tuple(index)]
    return out


def numpy_to_dense(array: Any, element_type: Attribute | None = None) -> DenseIntOrFPElementsAttr:
    """A dense elements attribute holding an array (converted to `element_type` if given):
    one copy of the data, whatever the array's strides."""
    arr = np.asarray(array)
    elt = element_type if element_type is not None else element_type_for(arr.dtype)
    dtype = numpy_dtype(elt)
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    raw = (arr.astype(np.int8) * -1).tobytes() if dtype == np.bool_ else c_order(arr).tobytes()
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
    +0.0 and -0.0 differ), as a 1-element array; None otherwise or when empty. Any strides
    (no flattening copy); a few elements are compared first, so a weight is refused in O(1)."""
    if array.size == 0:
        return None
    first = np.array([array.flat[0]], dtype=array.dtype)
    if array.strides and all(s == 0 for s in array.strides):
        return first  # a broadcast view of one element
    view, one = array, first
    if array.dtype.kind == "f":
        bits = np.dtype(f"u{array.itemsize}")
        view, one = (
            array.view(bits) if array.ndim else array.reshape(1).view(bits),
            first.view(bits),
        )
    sample = view.flat[:: max(1, array.size // 8)]
    if not bool(np.all(sample == one[0])):
        return None
    return first if bool(np.all(view == one[0])) else None


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
    if raw[-step:] != first or raw[len(raw) // 2 // step * step :][:step] != first:
        return None  # a weight differs at once: no MiB-sized comparison chunk is made
    view = memoryview(raw)
    chunk = first * max(1, (1 << 20) // step)  # compare a MiB at a time: no full-size copy
    for start in range(0, len(raw), len(chunk)):
        part = view[start : start + len(chunk)]
        if part != chunk[: len(part)]:
            return None
    return first
