"""Writes the small ONNX models of red-import-symbolic.mlir into the directory given as the
first argument: `positions.onnx` (token + position embeddings of ids [1, seq], the positions
a Range over the run-time length), `last.onnx` (the row at seq - 1 of x [1, seq, 4], its
bounds computed from Shape), `head.onnx` (embedding, an MLP and an LM head over every
position, of which only the last row is returned) and `undecided.onnx` (a Where on whether
seq == 1)."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(name: str, nodes: list, inputs: list, inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        name,
        inputs,
        [helper.make_empty_tensor_value_info("y")],
        [numpy_helper.from_array(a, n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def _seq(x: str) -> list:
    """n = [size of dim 1 of x]."""
    return [
        helper.make_node("Shape", [x], ["s"], start=1, end=2, name="shape"),
        helper.make_node("Squeeze", ["s"], ["n"], name="length"),
    ]


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, "seq"])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 4])
    scalar = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    positions = _model(
        "positions",
        [
            *_seq("ids"),
            helper.make_node("Range", ["zero", "n", "one"], ["pos"], name="arange"),
            helper.make_node("Gather", ["wpe", "pos"], ["p"], name="wpe_rows"),
            helper.make_node("Gather", ["wte", "ids"], ["t"], name="wte_rows"),
            helper.make_node("Add", ["t", "p"], ["y"], name="embed"),
        ],
        [ids],
        {
            "zero": scalar(0),
            "one": scalar(1),
            "wpe": rng.standard_normal((16, 8)).astype(np.float32),
            "wte": rng.standard_normal((32, 8)).astype(np.float32),
        },
    )
    last = _model(
        "last",
        [
            *_seq("x"),
            helper.make_node("Sub", ["s", "one1"], ["start"], name="minus_one"),
            helper.make_node("Slice", ["x", "start", "s", "one1"], ["y"], name="last_row"),
        ],
        [x],
        {"one1": np.asarray([1], dtype=np.int64)},
    )
    undecided = _model(
        "undecided",
        [
            *_seq("x"),
            helper.make_node("Equal", ["n", "one"], ["c"], name="is_one"),
            helper.make_node("Where", ["c", "x", "x"], ["y"], name="choose"),
        ],
        [x],
        {"one": scalar(1)},
    )
    head = _model(
        "head",
        [
            helper.make_node("Gather", ["wte", "ids"], ["e"], name="embed"),
            helper.make_node("MatMul", ["e", "w1"], ["h1"], name="fc"),
            helper.make_node("Tanh", ["h1"], ["a"], name="act"),
            helper.make_node("MatMul", ["a", "head_w"], ["logits"], name="lm_head"),
            helper.make_node("Shape", ["ids"], ["s"], start=1, end=2, name="shape"),
            helper.make_node("Sub", ["s", "one1"], ["start"], name="minus_one"),
            helper.make_node("Slice", ["logits", "start", "s", "one1"], ["y"], name="last_row"),
        ],
        [ids],
        {
            "wte": rng.standard_normal((32, 8)).astype(np.float32),
            "w1": rng.standard_normal((8, 16)).astype(np.float32),
            "head_w": rng.standard_normal((16, 32)).astype(np.float32),
            "one1": np.asarray([1], dtype=np.int64),
        },
    )
    models = {"positions": positions, "last": last, "head": head, "undecided": undecided}
    for name, model in models.items():
        onnx.save(model, os.path.join(out, f"{name}.onnx"))


if __name__ == "__main__":
    main()
