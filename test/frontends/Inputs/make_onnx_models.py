"""Writes the small ONNX models test/frontends/red-import.mlir imports into the directory given
as the first argument (generated at test time, so no binary files are committed)."""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(graph: onnx.GraphProto, path: Path, opset: int = 20) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, path)


def mlp() -> onnx.GraphProto:
    """y = relu(x @ w + b): two named nodes, float initializers w and b, int initializer."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.arange(3, dtype=np.float32), "b")
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc"),
        helper.make_node("Relu", ["h"], ["y"]),  # unnamed: located as 'Relu#1'
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    return helper.make_graph(nodes, "mlp", [x], [y], [w, b])


def dynamic_reshape() -> onnx.GraphProto:
    """A batch dimension 'N' and the Shape -> Gather -> Concat -> Reshape subgraph exporters
    emit to flatten x: it folds to a constant shape once N is known."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["n", "zero_axes"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="flatten"),
    ]
    inits = [
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero_axes"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 12])
    return helper.make_graph(nodes, "dynamic_reshape", [x], [y], inits)


def batch_norm() -> onnx.GraphProto:
    """BatchNormalization with constant statistics whose sqrt(var + eps) is exact: 2 and 3."""
    stats = {
        "scale": [0.5, 2.0],
        "bias": [0.0, 1.0],
        "mean": [1.0, 2.0],
        "var": [3.0, 8.0],
    }
    inits = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in stats.items()]
    nodes = [helper.make_node("BatchNormalization", ["x", *stats], ["y"], name="bn", epsilon=1.0)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3])
    return helper.make_graph(nodes, "batch_norm", [x], [y], inits)


def rnn(direction: str) -> onnx.GraphProto:
    """An RNN over 3 steps (batch 1, input 3, hidden 4) without an initial state."""
    rng = np.random.default_rng(1)
    dirs = 2 if direction == "bidirectional" else 1
    inits = [
        numpy_helper.from_array(rng.standard_normal((dirs, 4, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal((dirs, 4, 4)).astype(np.float32), "R"),
    ]
    node = helper.make_node(
        "RNN", ["x", "W", "R"], ["y", "y_h"], name="rnn", hidden_size=4, direction=direction
    )
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, dirs, 1, 4])
    y_h = helper.make_tensor_value_info("y_h", TensorProto.FLOAT, [dirs, 1, 4])
    return helper.make_graph([node], f"rnn_{direction}", [x], [y, y_h], inits)


def unsupported() -> onnx.GraphProto:
    nodes = [helper.make_node("Det", ["x"], ["y"], name="determinant")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [])
    return helper.make_graph(nodes, "unsupported", [x], [y])


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    save(mlp(), out / "mlp.onnx")
    save(dynamic_reshape(), out / "dynamic_reshape.onnx")
    save(unsupported(), out / "unsupported.onnx")
    save(batch_norm(), out / "batch_norm.onnx")
    save(rnn("forward"), out / "rnn_forward.onnx")
    save(rnn("reverse"), out / "rnn_reverse.onnx")


if __name__ == "__main__":
    main()
