"""Reading an ONNX model for import: the file (external data loaded, local functions inlined),
the element types red has, the types of the graph inputs (a symbolic dimension is a `?`
named by its `dim_param`, unless `--shape NAME=DIMS` fixes it) and the initializers."""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np
import onnx
from onnx import helper, numpy_helper
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    FileLineColLoc,
    NameLoc,
    StringAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.ir import Attribute

from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import UnsupportedTypeError, element_type_for


class UnsupportedError(DiagnosticError):
    """The model uses an op, attribute, element type or shape the importer does not handle."""


class OnnxLoadError(DiagnosticError):
    """The model file is missing or is not an ONNX model (a file-level error: no location)."""


ModelSource = onnx.ModelProto | str | os.PathLike[str]


# region Element types


def element_type(elem_type: int) -> Attribute | None:
    """The red element type of an ONNX one (numpy_interop's table), or None where red has
    none (the unsigned, bfloat16, float8, complex and string types)."""
    try:
        return element_type_for(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, UnsupportedTypeError):
        return None


def type_name(elem_type: int) -> str:
    """`float`, `uint8`, ... (`#N` for a number ONNX does not define)."""
    try:
        return onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"#{elem_type}"


# endregion Element types

# region Loading


def load_model(model_or_path: ModelSource) -> tuple[onnx.ModelProto, str]:
    """The model and the file name its locations use (`<onnx>` for an in-memory model).

    A file's tensor data is not held twice: the file is memory-mapped, its large raw tensors
    are left out of the bytes protobuf parses (each becomes an external-data reference into
    the file itself), and `read_initializer` reads a tensor's bytes when the importer asks
    for it. External data files are read the same way, one tensor at a time."""
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path, "<onnx>"
    path = os.fspath(model_or_path)
    try:
        with open(path, "rb") as f:
            model = _parse_without_raw_data(f, os.path.abspath(path))
    except OSError as err:
        raise OnnxLoadError(
            UnknownLoc(), f"could not open input file '{path}': {err.strerror}"
        ) from None
    if model is None:  # not the wire format the lazy reader expects: protobuf says why
        model = _parse_whole_file(path)
    if not model.HasField("graph"):
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: it has no graph"
        )
    base_dir = os.path.dirname(path) or "."
    for tensor in model.graph.initializer:
        if problem := _external_data_problem(tensor, base_dir):
            raise OnnxLoadError(
                UnknownLoc(), f"could not load the external data of '{path}': {problem}"
            )
    return model, path


def _parse_whole_file(path: str) -> onnx.ModelProto:
    """The model parsed from the file's bytes in one piece (the path that reports why a
    file is not an ONNX model)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return onnx.load_model_from_string(data)
    except Exception as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: {reason}"
        ) from None


# region Tensor data outside the parsed model

# Protobuf field numbers (onnx/onnx.proto3) and wire types.
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_TENSOR_RAW_DATA = 9
_TENSOR_EXTERNAL_DATA = 13
_TENSOR_DATA_LOCATION = 14
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

LAZY_RAW_BYTES = 1024
"""Raw tensor data of at least this many bytes is left in the file (read on demand)."""


def _varint(buf: Any, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(buf: Any, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """The fields of the message in `buf[start:end]`: (number, wire type, start of the tag,
    start of the payload, end of the field); a length-delimited payload is
    `buf[payload:end]`."""
    pos = start
    while pos < end:
        tag, payload = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            _, after = _varint(buf, payload, end)
        elif wire == _I64:
            after = payload + 8
        elif wire == _I32:
            after = payload + 4
        elif wire == _LEN:
            length, payload = _varint(buf, payload, end)
            after = payload + length
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if after > end:
            raise ValueError("field runs past its message")
        yield number, wire, pos, payload, after
        pos = after


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | _LEN) + _encode_varint(len(payload)) + payload


def _external_entry(key: str, value: str) -> bytes:
    entry = _length_delimited(1, key.encode()) + _length_delimited(2, value.encode())
    return _length_delimited(_TENSOR_EXTERNAL_DATA, entry)


def _tensor_without_raw_data(buf: Any, start: int, end: int, path: str) -> bytes:
    """A TensorProto whose large raw data is replaced by a reference to its bytes in the
    file (`path`, absolute); a smaller or differently stored tensor is copied as it is."""
    parts: list[bytes] = []
    raw: tuple[int, int] | None = None
    for number, wire, tag, payload, after in _fields(buf, start, end):
        if number == _TENSOR_RAW_DATA and wire == _LEN and after - payload >= LAZY_RAW_BYTES:
            raw = payload, after - payload
        elif number in (_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION):
            return bytes(buf[start:end])  # already external: nothing in this file to skip
        else:
            parts.append(bytes(buf[tag:after]))
    if raw is None:
        return bytes(buf[start:end])
    offset, length = raw
    parts.append(_external_entry("location", path))
    parts.append(_external_entry("offset", str(offset)))
    parts.append(_external_entry("length", str(length)))
    parts.append(_encode_varint(_TENSOR_DATA_LOCATION << 3 | _VARINT) + _encode_varint(1))
    return b"".join(parts)


def _graph_without_raw_data(buf: Any, start: int, end: int, path: str) -> bytes:
    parts: list[bytes] = []
    for number, wire, tag, payload, after in _fields(buf, start, end):
        if number == _GRAPH_INITIALIZER and wire == _LEN:
            tensor = _tensor_without_raw_data(buf, payload, after, path)
            parts.append(_length_delimited(number, tensor))
        else:
            parts.append(bytes(buf[tag:after]))
    return b"".join(parts)


def _parse_without_raw_data(f: IO[bytes], path: str) -> onnx.ModelProto | None:
    """The model in file `f` (at `path`) without the bytes of its large initializers, or
    None when the file is not well-formed protobuf (or is empty)."""
    if os.fstat(f.fileno()).st_size == 0:
        return None
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        end = len(buf)
        parts: list[bytes] = []
        try:
            for number, wire, tag, payload, after in _fields(buf, 0, end):
                if number == _MODEL_GRAPH and wire == _LEN:
                    graph = _graph_without_raw_data(buf, payload, after, path)
                    parts.append(_length_delimited(number, graph))
                else:
                    parts.append(bytes(buf[tag:after]))
        except ValueError:
            return None
    try:
        return onnx.load_model_from_string(b"".join(parts))
    except Exception:
        return None


def _external_data(tensor: onnx.TensorProto) -> dict[str, str] | None:
    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return None
    return {e.key: e.value for e in tensor.external_data}


def _external_range(tensor: onnx.TensorProto, base_dir: str) -> tuple[str, int, int | None]:
    """The file, offset and length (None: to the end) of an external tensor's bytes."""
    info = _external_data(tensor) or {}
    if "location" not in info:
        raise ValueError(f"tensor '{tensor.name}' has external data without a location")
    offset = int(info.get("offset", "0"))
    length = int(info["length"]) if "length" in info else None
    return os.path.join(base_dir, info["location"]), offset, length


def _external_data_problem(tensor: onnx.TensorProto, base_dir: str) -> str | None:
    """Why an external tensor's bytes cannot be read (a missing file, a range past its
    end), None when they can or the tensor is not external."""
    if _external_data(tensor) is None:
        return None
    try:
        location, offset, length = _external_range(tensor, base_dir)
        size = os.stat(location).st_size
    except (ValueError, OSError) as err:
        return str(err)
    if offset < 0 or offset + (length or 0) > size:
        return f"tensor '{tensor.name}' lies past the end of '{location}' ({size} bytes)"
    return None


def _read_external(tensor: onnx.TensorProto, base_dir: str) -> np.ndarray:
    """An external tensor read into a fresh array (aligned, writable: a tensor inside a
    protobuf file starts at any byte, and the JIT binds constants by address)."""
    location, offset, length = _external_range(tensor, base_dir)
    with open(location, "rb") as f:
        if length is None:
            length = os.fstat(f.fileno()).st_size - offset
        dtype = _plain_dtype(tensor)
        shape = tuple(tensor.dims)
        if dtype is not None and length == math.prod(shape) * dtype.itemsize:
            array = np.empty(shape, dtype.newbyteorder("<"))
            f.seek(offset)
            if f.readinto(array.data.cast("B")) != length:
                raise ValueError(f"tensor '{tensor.name}' is truncated in '{location}'")
            return array.astype(dtype, copy=False)
        f.seek(offset)
        data = f.read(length)
    inline = onnx.TensorProto()
    inline.CopyFrom(tensor)
    del inline.external_data[:]
    inline.data_location = onnx.TensorProto.DEFAULT
    inline.raw_data = data
    return numpy_helper.to_array(inline)


def initializer_dtype(tensor: onnx.TensorProto) -> np.dtype | None:
    """The numpy dtype of an initializer's array, without reading it (None when onnx has
    none for its type)."""
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    except (KeyError, TypeError, ValueError):
        return None


def _plain_dtype(tensor: onnx.TensorProto) -> np.dtype | None:
    """The numpy dtype whose little-endian bytes are the tensor's raw data (None for the
    types onnx packs or maps specially: bfloat16, float8, int4, strings, complex)."""
    dtype = initializer_dtype(tensor)
    if dtype is None:
        return None
    plain = dtype.kind in "fiub" and dtype.fields is None
    if tensor.data_type in _SPECIAL_TYPES or not plain:
        return None
    return dtype


_SPECIAL_TYPES = {
    getattr(onnx.TensorProto, name)
    for name in (
        "BFLOAT16",
        "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ",
        "FLOAT8E8M0",
        "UINT4",
        "INT4",
        "FLOAT4E2M1",
        "UINT2",
        "INT2",
    )
    if hasattr(onnx.TensorProto, name)
}


# endregion Tensor data outside the parsed model


def inline_functions(model: onnx.ModelProto) -> onnx.ModelProto:
    """Inline model-local functions (exporters may emit them) so the graph has only ops."""
    if not model.functions:
        return model
    from onnx import inliner

    return inliner.inline_local_functions(model)


def is_weight(array: np.ndarray) -> bool:
    """Whether `--weights-as-args` makes an initializer an argument: floating-point ones only,
    since static shapes need the values of the integer ones (shapes, axes, indices)."""
    return array.dtype.kind == "f"


def weight_arrays(model_or_path: ModelSource) -> list[np.ndarray]:
    """The arrays to pass for the trailing arguments `import_onnx(..., weights_as_args=True)`
    adds: the floating-point initializers, in initializer order."""
    model, filename = load_model(model_or_path)
    base_dir = base_dir_of(filename)
    arrays = (read_initializer(t, UnknownLoc(), base_dir) for t in model.graph.initializer)
    return [a for a in arrays if is_weight(a)]


def base_dir_of(filename: str) -> str | None:
    """Where the external data of the model `load_model` named `filename` lies (None for an
    in-memory model, whose external data must already be loaded)."""
    return None if filename == "<onnx>" else os.path.dirname(filename) or "."


def read_initializer(
    tensor: onnx.TensorProto, loc: Attribute, base_dir: str | None = None
) -> np.ndarray:
    """An initializer's array; external data (in `base_dir`) is read now, once."""
    try:
        if base_dir is not None and _external_data(tensor) is not None:
            return _read_external(tensor, base_dir)
        return numpy_helper.to_array(tensor)
    except Exception as err:
        raise UnsupportedError(
            loc, f"initializer '{tensor.name}' could not be read: {err}"
        ) from None


# endregion Loading

# region Graph input types


def name_loc(name: str, file_loc: FileLineColLoc) -> NameLoc:
    return NameLoc(StringAttr(name), file_loc)


def check_shape_names(
    shapes: dict[str, tuple[int, ...]], inputs: Sequence[onnx.ValueInfoProto], loc: Attribute
) -> None:
    """Every `--shape` name is a graph input."""
    unknown = sorted(set(shapes) - {vi.name for vi in inputs})
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        choices = ", ".join(f"'{vi.name}'" for vi in inputs) or "none"
        raise DiagnosticError(
            loc, f"--shape names {names}, which is not a graph input (inputs: {choices})"
        )


def input_type(
    vi: onnx.ValueInfoProto, given: tuple[int, ...] | None, loc: Attribute
) -> tuple[TensorType, list[str]]:
    """The type of a graph input and the names of its dims: a symbolic dim is `?`, named by
    its `dim_param` ("" for a static dim or an unnamed unknown one); `given` (from
    `--shape`) fixes every dim."""
    if not vi.type.HasField("tensor_type"):
        kind = vi.type.WhichOneof("value") or "unknown"
        raise UnsupportedError(loc, f"graph input '{vi.name}' has {kind} type: red needs tensors")
    tt = vi.type.tensor_type
    elt = element_type(tt.elem_type)
    if elt is None:
        raise UnsupportedError(
            loc,
            f"graph input '{vi.name}' has element type '{type_name(tt.elem_type)}', "
            "which red does not support",
        )
    if not tt.HasField("shape"):
        if given is None:
            raise DiagnosticError(
                loc, f"graph input '{vi.name}' has no shape: give one with --shape {vi.name}=DIMS"
            )
        return TensorType(elt, list(given)), [""] * len(given)
    dims = list(tt.shape.dim)
    if given is not None:
        _check_given_shape(vi.name, dims, given, loc)
        return TensorType(elt, list(given)), [""] * len(given)
    shape = [d.dim_value if d.HasField("dim_value") else DYNAMIC_INDEX for d in dims]
    names = ["" if d.HasField("dim_value") else d.dim_param for d in dims]
    return TensorType(elt, shape), names


def shape_flags(inputs: Sequence[onnx.ValueInfoProto], shapes: dict[str, tuple[int, ...]]) -> str:
    """`--shape input_ids=1xN ...` for the inputs with symbolic dims that `shapes` leaves
    open: what makes a model that needs static sizes importable."""
    flags = []
    for vi in inputs:
        if vi.name in shapes or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            continue
        example = "x".join(str(d.dim_value) if d.HasField("dim_value") else "N" for d in dims)
        flags.append(f"--shape {vi.name}={example}")
    return " ".join(flags)


def _fmt_dims(dims: Sequence[int]) -> str:
    return "x".join(map(str, dims))


def _check_given_shape(
    name: str, dims: Sequence[onnx.TensorShapeProto.Dimension], given: Sequence[int], loc: Attribute
) -> None:
    """`--shape NAME=DIMS` has the input's rank and agrees with its static dimensions."""
    flag = f"--shape {name}={_fmt_dims(given)}"
    if len(given) != len(dims):
        raise DiagnosticError(
            loc,
            f"{flag} has rank {len(given)}, but graph input '{name}' has rank {len(dims)}",
        )
    for i, (d, g) in enumerate(zip(dims, given)):
        if d.HasField("dim_value") and d.dim_value != g:
            raise DiagnosticError(
                loc,
                f"{flag} gives dimension {i} size {g}, but graph input '{name}' has static "
                f"size {d.dim_value} there",
            )


# endregion Graph input types
