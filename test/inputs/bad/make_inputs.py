"""Writes the binary inputs of the bad-input corpus (test/inputs/bad/): the .npy files red-run
cases read and the .onnx models red-import cases import, many of them deliberately broken.
test/python/test_bad_inputs.py calls `write_npy` and `write_model`; run this file with a
directory to get every model there (nothing binary is committed).

A case file names what it needs in its header:
  // NPY: x.npy=float32:2x3 be.npy=>f4:4 junk.npy=text:not numpy
  // MODEL: symbolic_dim
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

# region .npy files


def npy_bytes(spec: str) -> bytes:
    """The bytes of a .npy file described by `spec`:
    `DTYPE:DIMS`            np.arange in that dtype and shape (`float32:2x3`, `>f4:4`, `int64:`
                            for a scalar, `object:2` for a pickled object array)
    `fortran:DTYPE:DIMS`    the same in Fortran order
    `truncated:DTYPE:DIMS`  a valid file missing its last 3 bytes
    `liar:DTYPE:DIMS`       a header declaring that array, followed by 4 bytes of data
    `badheader:`            the .npy magic followed by a header that is not a dict
    `text:CONTENT`          a file that is not .npy at all"""
    kind, _, rest = spec.partition(":")
    if kind == "text":
        return rest.encode("utf-8")
    if kind == "badheader":
        return b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4,   \n"
    if kind == "liar":
        dtype, _, dims = rest.partition(":")
        header = {"descr": dtype, "fortran_order": False, "shape": _shape(dims)}
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, header)
        return buf.getvalue() + b"\x00" * 4
    if kind in ("fortran", "truncated"):
        array = _array(rest)
        if kind == "fortran":
            array = np.asfortranarray(array)
        data = _save(array)
        return data if kind == "fortran" else data[:-3]
    return _save(_array(spec))


def _shape(dims: str) -> tuple[int, ...]:
    return tuple(int(d) for d in dims.split("x")) if dims else ()


def _array(spec: str) -> np.ndarray:
    dtype, _, dims = spec.partition(":")
    shape = _shape(dims)
    count = int(np.prod(shape, dtype=np.int64))
    if dtype == "object":
        return np.array([f"item{i}" for i in range(count)], dtype=object).reshape(shape)
    return np.arange(count).astype(np.dtype(dtype)).reshape(shape)


def _save(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=array.dtype == object)
    return buf.getvalue()


def write_npy(spec: str, path: Path) -> None:
    path.write_bytes(npy_bytes(spec))


# endregion .npy files

# region .onnx models


def _onnx():  # imported on use: only red-import cases need the optional onnx package
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    return onnx, TensorProto, helper, numpy_helper


def _model(nodes, inputs, outputs, initializers=(), opset: int = 20, domain: str = "") -> bytes:
    """A serialized model (not run through onnx.checker: most are meant to be wrong)."""
    _, _, helper, _ = _onnx()
    graph = helper.make_graph(list(nodes), "bad", list(inputs), list(outputs), list(initializers))
    opsets = [helper.make_opsetid("", opset)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 10
    return model.SerializeToString()


def _value(name: str, dims: list, elem: int | None = None):
    _, TensorProto, helper, _ = _onnx()
    return helper.make_tensor_value_info(name, elem or TensorProto.FLOAT, dims)


def _raw_tensor(name: str, dims: list[int], data: bytes):
    """A float tensor with raw data, unchecked (helper.make_tensor refuses a size mismatch)."""
    _, TensorProto, _, _ = _onnx()
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, raw_data=data)
    tensor.dims.extend(dims)
    return tensor


def _unary(
    op_type: str, x_dims: list | None, y_dims: list, name: str, output: str = "y", **attrs
) -> bytes:
    """One node named `name`, y = op_type(x); the graph's output is `output`."""
    _, _, helper, _ = _onnx()
    node = helper.make_node(op_type, ["x"], ["y"], name=name, **attrs)
    return _model([node], [_value("x", x_dims)], [_value(output, y_dims)])


def relu() -> bytes:
    """A valid model, y = relu(x) with x: 2x4 (for the command-line cases)."""
    return _unary("Relu", [2, 4], [2, 4], "r")


def symbolic_dim() -> bytes:
    """x has a symbolic batch dimension 'n': red-import needs --shape x=..."""
    return _unary("Relu", ["n", 4], ["n", 4], "r")


def unshaped_input() -> bytes:
    """x has an element type and no shape at all: red-import needs --shape x=..."""
    return _unary("Relu", None, [2, 4], "r")


def truncated() -> bytes:
    """The first half of a valid model."""
    data = relu()
    return data[: len(data) // 2]


def unsupported_op() -> bytes:
    """Det: an ONNX op red does not import."""
    return _unary("Det", [3, 3], [], "det")


def unknown_op() -> bytes:
    """An op type no opset defines."""
    return _unary("FrobnicateAll", [2, 4], [2, 4], "frob")


def unknown_domain() -> bytes:
    """An op from a custom domain."""
    _, _, helper, _ = _onnx()
    node = helper.make_node("Relu", ["x"], ["y"], name="custom", domain="com.example")
    return _model([node], [_value("x", [2, 4])], [_value("y", [2, 4])], domain="com.example")


def undefined_input() -> bytes:
    """A node reads a tensor nothing produces."""
    _, _, helper, _ = _onnx()
    node = helper.make_node("Add", ["x", "ghost"], ["y"], name="add")
    return _model([node], [_value("x", [2, 4])], [_value("y", [2, 4])])


def short_initializer() -> bytes:
    """An initializer whose raw data holds 2 floats where its dims say 12."""
    _, _, helper, _ = _onnx()
    w = _raw_tensor("w", [4, 3], b"\x00" * 8)
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    return _model([node], [_value("x", [2, 4])], [_value("y", [2, 3])], [w])


def huge_initializer() -> bytes:
    """An initializer claiming 100000 x 100000 floats (40 GB) with 4 bytes of data."""
    _, _, helper, _ = _onnx()
    w = _raw_tensor("w", [100000, 100000], b"\x00" * 4)
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    return _model([node], [_value("x", [100000, 100000])], [_value("y", [100000, 100000])], [w])


def string_input() -> bytes:
    """A graph input of element type string."""
    _, TensorProto, helper, _ = _onnx()
    node = helper.make_node("Identity", ["x"], ["y"], name="id")
    return _model(
        [node], [_value("x", [2], TensorProto.STRING)], [_value("y", [2], TensorProto.STRING)]
    )


def matmul_mismatch() -> bytes:
    """MatMul of 2x3 by 4x5: the contracting dimensions differ."""
    _, _, helper, _ = _onnx()
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    return _model([node], [_value("a", [2, 3]), _value("b", [4, 5])], [_value("y", [2, 5])])


def bad_perm() -> bytes:
    """Transpose with a permutation of the wrong length."""
    return _unary("Transpose", [2, 4], [4, 2], "t", perm=[0, 1, 2])


def cycle() -> bytes:
    """Two nodes each reading the other's output."""
    _, _, helper, _ = _onnx()
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
    ]
    return _model(nodes, [_value("x", [2, 4])], [_value("b", [2, 4])])


def missing_output() -> bytes:
    """A graph output nothing produces."""
    return _unary("Relu", [2, 4], [2, 4], "r", output="z")


def external_escape() -> bytes:
    """An initializer whose external data lives outside the model's directory."""
    _, TensorProto, helper, _ = _onnx()
    w = _raw_tensor("w", [2, 4], b"")
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    return _model([node], [_value("x", [2, 4])], [_value("y", [2, 4])], [w])


def _raw(data: bytes) -> Callable[[], bytes]:
    return lambda: data


MODELS: dict[str, Callable[[], bytes]] = {
    "garbage": _raw(b"this is not an ONNX model\n"),
    "empty": _raw(b""),
    "relu": relu,
    "symbolic_dim": symbolic_dim,
    "unshaped_input": unshaped_input,
    "truncated": truncated,
    "unsupported_op": unsupported_op,
    "unknown_op": unknown_op,
    "unknown_domain": unknown_domain,
    "undefined_input": undefined_input,
    "short_initializer": short_initializer,
    "huge_initializer": huge_initializer,
    "string_input": string_input,
    "matmul_mismatch": matmul_mismatch,
    "bad_perm": bad_perm,
    "cycle": cycle,
    "missing_output": missing_output,
    "external_escape": external_escape,
}


def write_model(name: str, path: Path) -> None:
    path.write_bytes(MODELS[name]())


# endregion .onnx models


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        write_model(name, out / f"{name}.onnx")


if __name__ == "__main__":
    main()
