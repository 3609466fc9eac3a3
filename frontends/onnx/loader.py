"""Reading an ONNX model for import: the file (external data loaded, local functions inlined),
the element types red has, the types of the graph inputs (a symbolic dimension is a `?`
named by its `dim_param`, unless `--shape NAME=DIMS` fixes it) and the initializers."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import onnx
from onnx import external_data_helper, helper, numpy_helper
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
    """The model and the file name its locations use (`<onnx>` for an in-memory model)."""
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path, "<onnx>"
    path = os.fspath(model_or_path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise OnnxLoadError(
            UnknownLoc(), f"could not open input file '{path}': {err.strerror}"
        ) from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: {reason}"
        ) from None
    if not model.HasField("graph"):
        raise OnnxLoadError(
            UnknownLoc(), f"could not read '{path}' as an ONNX model: it has no graph"
        )
    try:
        external_data_helper.load_external_data_for_model(model, os.path.dirname(path) or ".")
    except Exception as err:
        raise OnnxLoadError(
            UnknownLoc(), f"could not load the external data of '{path}': {err}"
        ) from None
    return model, path


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
    model, _ = load_model(model_or_path)
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    return [a for a in arrays if is_weight(a)]


def read_initializer(tensor: onnx.TensorProto, loc: Attribute) -> np.ndarray:
    try:
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
