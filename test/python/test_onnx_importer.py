"""The ONNX importer (frontends/onnx/) and red-import: per-op results against
onnxruntime through the interpreter and the JIT, models exported from PyTorch (an nn.LSTM
classifier, HF GPT-2 and Llama from tiny configs, with the dynamo exporter with and without its
optimizer and with the legacy exporter) through red.optimize and red.compile, locations,
--weights-as-args, and the errors for unsupported ops, symbolic shapes and bad files."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the 'onnx' package")
ort = pytest.importorskip("onnxruntime", reason="results are compared with onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
from xdsl.dialects import func  # noqa: E402
from xdsl.dialects.builtin import FileLineColLoc, ModuleOp, NameLoc  # noqa: E402

import red  # noqa: E402
from red.dialects import red as redd  # noqa: E402
from red.dialects.diagnostics import DiagnosticError  # noqa: E402
from red.frontends.onnx import (  # noqa: E402
    OnnxLoadError,
    UnsupportedError,
    import_onnx,
    weight_arrays,
)
from red.frontends.onnx.indexing import MAX_RUNTIME_UPDATES  # noqa: E402
from red.tools import red_import  # noqa: E402

OPSET = 20
RTOL, ATOL = 1e-4, 1e-5
INT_MAX = 2**63 - 1

# region Helpers


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: dict[str, np.ndarray],
    outputs: Sequence[str] = ("y",),
    initializers: dict[str, np.ndarray] | None = None,
    opset: int = OPSET,
    symbolic: dict[str, Sequence[int | str]] | None = None,
) -> onnx.ModelProto:
    """A model over `nodes`; input types from the example arrays (or `symbolic` shapes),
    output types by ONNX shape inference."""
    symbolic = symbolic or {}
    graph = helper.make_graph(
        list(nodes),
        "test",
        [
            helper.make_tensor_value_info(
                name,
                helper.np_dtype_to_tensor_dtype(a.dtype),
                symbolic.get(name, a.shape),
            )
            for name, a in inputs.items()
        ],
        [helper.make_empty_tensor_value_info(name) for name in outputs],
        [numpy_helper.from_array(a, name) for name, a in (initializers or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10  # what onnxruntime 1.32 reads
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def run_onnxruntime(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def assert_close(
    got: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Same count, shapes and dtypes; floats within tolerance, everything else equal."""
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        e = np.asarray(e)
        assert g.dtype == e.dtype, f"result {i}: dtype {g.dtype}, expected {e.dtype}"
        assert g.shape == e.shape, f"result {i}: shape {g.shape}, expected {e.shape}"
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"result {i}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"result {i}")


def rand(*shape: int, seed: int = 0, positive: bool = False) -> np.ndarray:
    x = np.random.default_rng(seed + len(shape)).standard_normal(shape).astype(np.float32)
    return np.abs(x) + np.float32(0.5) if positive else x


def ints(*shape: int, high: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-high, high, shape).astype(np.int64)


def bools(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, shape).astype(bool)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str] = ("y",), **attrs: Any):
    return helper.make_node(op_type, list(inputs), list(outputs), **attrs)


def red_ops(module: ModuleOp) -> list[str]:
    return [op.name for op in module.walk() if op.name.startswith("red.")]


# endregion Helpers

# region Per-op results against onnxruntime


@dataclass
class OpCase:
    nodes: list[onnx.NodeProto]
    inputs: dict[str, np.ndarray]
    outputs: tuple[str, ...] = ("y",)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    opset: int = OPSET
    oracle: str = "onnxruntime"  # or "reference": onnx's evaluator, where onnxruntime lacks it

    def model(self) -> onnx.ModelProto:
        return make_model(self.nodes, self.inputs, self.outputs, self.initializers, self.opset)


def unary(op_type: str, positive: bool = False, **attrs: Any) -> Any:
    case = OpCase([node(op_type, ["x"], **attrs)], {"x": rand(2, 3, 4, positive=positive)})
    return pytest.param(case, id=op_type.lower() + "".join(f"-{k}" for k in attrs))


def binary(op_type: str, a: np.ndarray, b: np.ndarray, id: str | None = None) -> Any:
    case = OpCase([node(op_type, ["a", "b"])], {"a": a, "b": b})
    return pytest.param(case, id=id or op_type.lower())


def single(
    id: str,
    op_type: str,
    inputs: dict[str, np.ndarray],
    opset: int = OPSET,
    initializers: dict[str, np.ndarray] | None = None,
    outputs: Sequence[str] = ("y",),
    **attrs: Any,
) -> Any:
    """One node reading its inputs then its initializers, in the order given."""
    names = [*inputs, *(initializers or {})]
    nodes = [node(op_type, names, outputs, **attrs)]
    return pytest.param(
        OpCase(nodes, inputs, tuple(outputs), dict(initializers or {}), opset), id=id
    )


def i64(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def recurrent(
    id: str,
    op_type: str,
    gates: int,
    opt: dict[str, bool],
    oracle: str = "onnxruntime",
    **attrs: Any,
) -> Any:
    """LSTM / GRU / RNN with seq 5, batch 2, input 3, hidden 4 and the optional inputs in `opt`."""
    seq, batch, size, hidden = 5, 2, 3, 4
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    layout = attrs.get("layout", 0)
    x = rand(batch, seq, size) if layout else rand(seq, batch, size)
    state = (batch, dirs, hidden) if layout else (dirs, batch, hidden)
    inits = {
        "W": rand(dirs, gates * hidden, size, seed=1),
        "R": rand(dirs, gates * hidden, hidden, seed=2),
    }
    names = ["x", "W", "R"]
    optional = {
        "B": rand(dirs, 2 * gates * hidden, seed=3),
        "sequence_lens": None,
        "initial_h": rand(*state, seed=4),
        "initial_c": rand(*state, seed=5),
        "P": rand(dirs, 3 * hidden, seed=6),
    }
    inputs = {"x": x}
    for name, value in optional.items():
        if opt.get(name):
            names.append(name)
            (inputs if name.startswith("initial") else inits)[name] = value
        else:
            names.append("")
    while names[-1] == "":
        names.pop()
    outputs = ["Y", "Y_h", "Y_c"] if op_type == "LSTM" else ["Y", "Y_h"]
    nodes = [node(op_type, names, outputs, hidden_size=hidden, **attrs)]
    return pytest.param(OpCase(nodes, inputs, tuple(outputs), inits, oracle=oracle), id=id)


def scatter(
    id: str, op_type: str, data: np.ndarray, indices: Any, updates: np.ndarray, **attrs: Any
) -> Any:
    """A scatter whose indices are an initializer (data and updates are graph inputs)."""
    nodes = [node(op_type, ["x", "i", "u"], **attrs)]
    inits = {"i": np.array(indices, dtype=np.int64)}
    return pytest.param(OpCase(nodes, {"x": data, "u": updates}, initializers=inits), id=id)


SLICE_INPUTS = {"x": rand(4, 5, 6)}
OP_CASES = [
    *(unary(t) for t in ("Neg", "Abs", "Exp", "Tanh", "Sigmoid", "Relu", "Erf", "Sin", "Cos")),
    *(unary(t, positive=True) for t in ("Log", "Sqrt", "Reciprocal")),
    *(unary(t) for t in ("Softplus", "Softsign", "Sign", "Elu", "Selu", "HardSwish", "Identity")),
    *(
        unary(t)
        for t in ("Mish", "Tan", "Sinh", "Cosh", "Celu", "ThresholdedRelu", "IsNaN", "IsInf")
    ),
    unary("HardSigmoid", alpha=0.3, beta=0.4),
    unary("LeakyRelu", alpha=0.2),
    unary("Gelu"),
    unary("Gelu", approximate="tanh"),
    binary("Add", rand(2, 3, 4), rand(4, seed=1)),
    binary("Sub", rand(2, 1, 4), rand(3, 1, seed=1)),
    binary("Mul", rand(2, 3, 4), rand(2, 3, 4, seed=1)),
    binary("Div", rand(2, 3, 4), rand(3, 4, seed=1, positive=True)),
    binary("Div", i64(7, -7, 6, -1), i64(2, 2, -4, 3), id="div-int-truncates"),
    binary("PRelu", rand(2, 3, 4), rand(4, seed=1)),
    binary("Pow", rand(2, 3, positive=True), rand(3, seed=1)),
    binary("Pow", rand(2, 3, positive=True), np.array(2, dtype=np.int64), id="pow-int-exponent"),
    *(
        binary(t, np.round(rand(3, 4) * 2), np.round(rand(4, seed=1) * 2))
        for t in ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual")
    ),
    binary("Equal", ints(3, 4), ints(4, seed=1), id="equal-int"),
    binary("And", bools(3, 4), bools(3, 4, seed=1)),
    binary("Or", bools(3, 4), bools(4, seed=1)),
    binary("Xor", bools(3, 4), bools(3, 4, seed=1)),
    single("not", "Not", {"x": bools(3, 4)}),
    single("max-3ary", "Max", {"a": rand(2, 3), "b": rand(3, seed=1), "c": rand(2, 1, seed=2)}),
    single("min-3ary", "Min", {"a": rand(2, 3), "b": rand(3, seed=1), "c": rand(2, 1, seed=2)}),
    single("sum-3ary", "Sum", {"a": rand(2, 3), "b": rand(3, seed=1), "c": rand(2, 1, seed=2)}),
    single("mean-3ary", "Mean", {"a": rand(2, 3), "b": rand(3, seed=1), "c": rand(2, 1, seed=2)}),
    single("where", "Where", {"c": bools(3, 4), "a": rand(3, 4), "b": rand(4, seed=1)}),
    single(
        "clip",
        "Clip",
        {"x": rand(3, 4)},
        initializers={"lo": np.float32(-0.5), "hi": np.float32(0.7)},
    ),
    single("cast-f32-to-i64", "Cast", {"x": rand(3, 4) * 3}, to=TensorProto.INT64),
    single("cast-i64-to-f32", "Cast", {"x": ints(3, 4)}, to=TensorProto.FLOAT),
    single("cast-f32-to-bool", "Cast", {"x": np.round(rand(3, 4))}, to=TensorProto.BOOL),
    single("cast-bool-to-f32", "Cast", {"x": bools(3, 4)}, to=TensorProto.FLOAT),
    single("castlike", "CastLike", {"x": ints(3, 4), "like": rand(1)}),
    single("matmul-3d-2d", "MatMul", {"a": rand(2, 3, 4), "b": rand(4, 5, seed=1)}),
    single("matmul-batch-broadcast", "MatMul", {"a": rand(2, 1, 3, 4), "b": rand(3, 4, 5, seed=1)}),
    single("matmul-1d-lhs", "MatMul", {"a": rand(4), "b": rand(2, 4, 5, seed=1)}),
    single("matmul-1d-rhs", "MatMul", {"a": rand(2, 3, 4), "b": rand(4, seed=1)}),
    single(
        "gemm-alpha-beta-trans",
        "Gemm",
        {"a": rand(4, 3), "b": rand(5, 4, seed=1)},
        initializers={"c": rand(5, seed=2)},
        alpha=0.5,
        beta=2.0,
        transA=1,
        transB=1,
    ),
    single("gemm-no-c", "Gemm", {"a": rand(3, 4), "b": rand(4, 5, seed=1)}),
    single("transpose", "Transpose", {"x": rand(2, 3, 4)}, perm=[1, 2, 0]),
    single("transpose-default", "Transpose", {"x": rand(2, 3, 4)}),
    single(
        "reshape-0-and-minus-1", "Reshape", {"x": rand(2, 3, 4)}, initializers={"s": i64(0, -1)}
    ),
    single(
        "reshape-allowzero",
        "Reshape",
        {"x": rand(2, 3, 4)},
        initializers={"s": i64(4, 6)},
        allowzero=1,
    ),
    single("flatten-axis-2", "Flatten", {"x": rand(2, 3, 4, 5)}, axis=2),
    single("flatten-axis-0", "Flatten", {"x": rand(2, 3, 4)}, axis=0),
    single("squeeze", "Squeeze", {"x": rand(2, 1, 4, 1)}, initializers={"axes": i64(1, -1)}),
    single("squeeze-all", "Squeeze", {"x": rand(2, 1, 4, 1)}),
    single("unsqueeze", "Unsqueeze", {"x": rand(2, 3)}, initializers={"axes": i64(0, -1)}),
    single("unsqueeze-opset11-attr", "Unsqueeze", {"x": rand(2, 3)}, opset=11, axes=[1]),
    single("expand", "Expand", {"x": rand(3, 1)}, initializers={"s": i64(2, 1, 4)}),
    single(
        "slice-negative-and-steps",
        "Slice",
        SLICE_INPUTS,
        initializers={
            "starts": i64(-3, 0),
            "ends": i64(INT_MAX, 10),
            "axes": i64(1, 2),
            "steps": i64(1, 2),
        },
    ),
    single(
        "slice-negative-step",
        "Slice",
        SLICE_INPUTS,
        initializers={
            "starts": i64(-1, 4),
            "ends": i64(-INT_MAX, 0),
            "axes": i64(0, 2),
            "steps": i64(-1, -2),
        },
    ),
    single(
        "slice-empty",
        "Slice",
        SLICE_INPUTS,
        initializers={"starts": i64(3), "ends": i64(1), "axes": i64(1)},
    ),
    single("slice-opset9-attrs", "Slice", SLICE_INPUTS, opset=9, starts=[1], ends=[-1], axes=[2]),
    single(
        "concat",
        "Concat",
        {"a": rand(2, 3), "b": rand(2, 1, seed=1)},
        initializers={"c": rand(2, 2, seed=2)},
        axis=-1,
    ),
    single(
        "split-sizes",
        "Split",
        {"x": rand(2, 7)},
        initializers={"split": i64(3, 4)},
        outputs=["p", "q"],
        axis=1,
    ),
    single("split-num-outputs", "Split", {"x": rand(7, 2)}, outputs=["p", "q", "r"], num_outputs=3),
    single("split-opset11-equal", "Split", {"x": rand(6, 2)}, opset=11, outputs=["p", "q"]),
    single(
        "gather-const-negative-indices",
        "Gather",
        {"x": rand(3, 4, 2)},
        initializers={"i": i64(0, -1, 2, -4).reshape(2, 2)},
        axis=1,
    ),
    single(
        "gather-runtime-indices", "Gather", {"table": rand(10, 4), "ids": np.array([[1, 9, 0]])}
    ),
    single(
        "reduce-sum-axes-input",
        "ReduceSum",
        {"x": rand(2, 3, 4)},
        initializers={"axes": i64(1)},
        keepdims=0,
    ),
    single("reduce-sum-all", "ReduceSum", {"x": rand(2, 3, 4)}),
    single(
        "reduce-mean-opset18", "ReduceMean", {"x": rand(2, 3, 4)}, initializers={"axes": i64(-1, 0)}
    ),
    single(
        "reduce-mean-opset13-attr",
        "ReduceMean",
        {"x": rand(2, 3, 4)},
        opset=13,
        axes=[1],
        keepdims=0,
    ),
    single("reduce-max-noop", "ReduceMax", {"x": rand(2, 3)}, noop_with_empty_axes=1),
    single("reduce-max", "ReduceMax", {"x": rand(2, 3, 4)}, initializers={"axes": i64(2)}),
    single("reduce-min", "ReduceMin", {"x": rand(2, 3, 4)}, initializers={"axes": i64(0)}),
    single("reduce-l2", "ReduceL2", {"x": rand(2, 3, 4)}, initializers={"axes": i64(1)}),
    single(
        "reduce-log-sum-exp", "ReduceLogSumExp", {"x": rand(2, 3, 4)}, initializers={"axes": i64(1)}
    ),
    single("softmax-axis-1", "Softmax", {"x": rand(2, 3, 4)}, axis=1),
    single("softmax-opset11-coerced-2d", "Softmax", {"x": rand(2, 3, 4)}, opset=11),
    single("log-softmax", "LogSoftmax", {"x": rand(2, 3, 4)}),
    single(
        "layer-norm-scale-bias",
        "LayerNormalization",
        {"x": rand(2, 3, 8)},
        initializers={"scale": rand(8, seed=1), "bias": rand(8, seed=2)},
        epsilon=1e-3,
    ),
    single(
        "layer-norm-axis-1-mean-invstd",
        "LayerNormalization",
        {"x": rand(2, 3, 4)},
        initializers={"scale": rand(3, 4, seed=1)},
        outputs=["y", "mean", "inv_std"],
        axis=1,
    ),
    single(
        "dropout-inference-mask",
        "Dropout",
        {"x": rand(3, 4)},
        initializers={"ratio": np.float32(0.5)},
        outputs=["y", "mask"],
    ),
    single("trilu-upper-k1", "Trilu", {"x": rand(2, 4, 5)}, initializers={"k": np.int64(1)}),
    single("trilu-lower", "Trilu", {"x": rand(4, 5)}, upper=0),
    single("tile", "Tile", {"x": rand(2, 3)}, initializers={"r": i64(2, 3)}),
    single("argmax", "ArgMax", {"x": np.round(rand(3, 4, 5))}, axis=1),
    single(
        "argmin-last-index",
        "ArgMin",
        {"x": np.round(rand(3, 4))},
        axis=-1,
        keepdims=0,
        select_last_index=1,
    ),
    single("hardmax", "Hardmax", {"x": rand(3, 4)}),
    single(
        "one-hot",
        "OneHot",
        {"i": i64(0, -1, 3).reshape(3, 1)},
        initializers={"depth": np.int64(4), "v": np.array([0.5, 2.0], np.float32)},
        axis=1,
    ),
    single(
        "cumsum-exclusive-reverse",
        "CumSum",
        {"x": rand(2, 5)},
        initializers={"axis": np.int64(1)},
        exclusive=1,
        reverse=1,
    ),
    single(
        "gather-elements",
        "GatherElements",
        {"x": rand(3, 4), "i": np.array([[0, -1, 2], [3, 1, 0]])},
        axis=1,
    ),
    single(
        "gather-nd-runtime",
        "GatherND",
        {"x": rand(3, 4, 5), "i": np.array([[[2, -1], [0, 0]], [[1, 3], [-3, 2]]])},
    ),
    single(
        "gather-nd-constant-full-tuples",
        "GatherND",
        {"x": rand(3, 4)},
        initializers={"i": np.array([[2, 1], [0, 3], [-1, -1]])},
    ),
    single(
        "gather-nd-batch-dims",
        "GatherND",
        {"x": rand(2, 3, 4, 5), "i": np.array([[[1], [2]], [[0], [-1]]])},
        batch_dims=1,
    ),
    single(
        "gather-nd-batch-dims-2",
        "GatherND",
        {"x": rand(2, 3, 4), "i": np.array([[[1], [3], [0]], [[2], [2], [-1]]])},
        batch_dims=2,
    ),
    scatter("scatter-nd-constant-contiguous", "ScatterND", rand(5, 3), [[1], [2]], rand(2, 3)),
    scatter("scatter-nd-constant-scattered", "ScatterND", rand(5, 3), [[4], [0], [-3]], rand(3, 3)),
    scatter(
        "scatter-nd-constant-elements-add-duplicates",
        "ScatterND",
        rand(3, 4),
        [[0, 1], [2, 3], [0, 1]],
        rand(3),
        reduction="add",
    ),
    scatter(
        "scatter-nd-constant-max-duplicates",
        "ScatterND",
        rand(4, 2),
        [[1], [1], [3]],
        rand(3, 2),
        reduction="max",
    ),
    single(
        "scatter-nd-runtime-one-row",
        "ScatterND",
        {"x": rand(4, 3, 2), "i": np.array([[2]]), "u": rand(1, 3, 2, seed=2)},
    ),
    single(
        "scatter-nd-runtime-one-row-mul",
        "ScatterND",
        {"x": rand(4, 3), "i": np.array([[-1]]), "u": rand(1, 3, seed=2)},
        reduction="mul",
    ),
    single(
        "scatter-nd-runtime-rows",
        "ScatterND",
        {"x": rand(4, 3, 2), "i": np.array([[3, 0], [-4, 2], [1, 1]]), "u": rand(3, 2, seed=2)},
    ),
    single(
        "scatter-nd-runtime-rows-min",
        "ScatterND",
        {"x": rand(4, 2), "i": np.array([[0], [3], [0]]), "u": rand(3, 2, seed=2)},
        reduction="min",
    ),
    single(
        "scatter-elements-runtime",
        "ScatterElements",
        {"x": rand(3, 4), "i": np.array([[1, -1], [0, 2]]), "u": rand(2, 2, seed=2)},
        axis=1,
    ),
    scatter(
        "scatter-elements-constant-add",
        "ScatterElements",
        rand(3, 4),
        [[2, 0, 1, 2], [2, 1, 1, 0]],
        rand(2, 4),
        reduction="add",
    ),
    single("lp-normalization", "LpNormalization", {"x": rand(3, 4)}, axis=0),
    single("mod-int", "Mod", {"a": i64(7, -7, 7, -7, 0), "b": i64(3, 3, -3, -3, 5)}),
    single("mod-int-fmod", "Mod", {"a": i64(7, -7, 7, -7), "b": i64(3, 3, -3, -3)}, fmod=1),
    single("depth-to-space-crd", "DepthToSpace", {"x": rand(1, 8, 2, 3)}, blocksize=2, mode="CRD"),
    single("space-to-depth", "SpaceToDepth", {"x": rand(1, 2, 4, 6)}, blocksize=2),
    single(
        "batch-norm",
        "BatchNormalization",
        {"x": rand(2, 3, 4)},
        initializers={
            "s": rand(3, seed=1),
            "b": rand(3, seed=2),
            "m": rand(3, seed=3),
            "v": rand(3, seed=4, positive=True),
        },
    ),
    single(
        "instance-norm",
        "InstanceNormalization",
        {"x": rand(2, 3, 5)},
        initializers={"s": rand(3, seed=1), "b": rand(3, seed=2)},
    ),
    single("global-average-pool", "GlobalAveragePool", {"x": rand(2, 3, 4, 5)}),
    pytest.param(
        OpCase(
            [
                node("Shape", ["x"], ["s"]),
                node(
                    "ConstantOfShape",
                    ["s"],
                    ["ones"],
                    value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.5]),
                ),
                node("Range", ["start", "limit", "delta"], ["r"]),
                node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
                node("Mul", ["ones", "rf"], ["m"]),
                node("Size", ["x"], ["n"]),
                node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
                node("Constant", [], ["c"], value_float=0.25),
                node("Add", ["m", "nf"], ["a"]),
                node("Mul", ["a", "c"], ["b"]),
                node("Add", ["x", "b"], ["y"]),
            ],
            {"x": rand(2, 4)},
            initializers={"start": np.int64(1), "limit": np.int64(9), "delta": np.int64(2)},
        ),
        id="constant-propagation",
    ),
    recurrent("lstm", "LSTM", 4, {"B": True}),
    recurrent("lstm-no-bias", "LSTM", 4, {}),
    recurrent("lstm-initial-state", "LSTM", 4, {"B": True, "initial_h": True, "initial_c": True}),
    recurrent("lstm-peepholes", "LSTM", 4, {"B": True, "initial_c": True, "P": True}),
    recurrent("lstm-reverse", "LSTM", 4, {"B": True}, direction="reverse"),
    recurrent(
        "lstm-bidirectional", "LSTM", 4, {"B": True, "initial_h": True}, direction="bidirectional"
    ),
    recurrent(
        "lstm-batch-first",
        "LSTM",
        4,
        {"B": True, "initial_h": True, "initial_c": True},
        oracle="reference",
        layout=1,
    ),  # onnxruntime has no layout=1
    recurrent("gru", "GRU", 3, {"B": True, "initial_h": True}),
    recurrent("gru-linear-before-reset", "GRU", 3, {"B": True}, linear_before_reset=1),
    recurrent("rnn", "RNN", 1, {"B": True, "initial_h": True}),
    # The three share one direction loop: each op in each direction order.
    recurrent(
        "gru-bidirectional", "GRU", 3, {"B": True, "initial_h": True}, direction="bidirectional"
    ),
    recurrent("gru-reverse", "GRU", 3, {"B": True}, direction="reverse", linear_before_reset=1),
    recurrent(
        "rnn-bidirectional-relu",
        "RNN",
        1,
        {"B": True},
        direction="bidirectional",
        activations=["Relu", "Relu"],
    ),
    recurrent("lstm-clip", "LSTM", 4, {"B": True, "initial_h": True}, clip=0.5),
]


RECURRENT = ("LSTM", "GRU", "RNN")


def expected_outputs(case: OpCase, model: onnx.ModelProto) -> list[np.ndarray]:
    if case.oracle == "reference":
        return ReferenceEvaluator(model).run(None, case.inputs)
    return run_onnxruntime(model, case.inputs)


@pytest.mark.parametrize("case", OP_CASES)
def test_op_matches_onnxruntime(case: OpCase):
    """The interpreter and the JIT (recurrences JIT-compiled in both forms: the scf.for over
    the time steps and unrolled)."""
    model = case.model()
    expected = expected_outputs(case, model)
    args = list(case.inputs.values())
    recurrent = any(n.op_type in RECURRENT for n in case.nodes)

    module = import_onnx(model)
    interpreted = red.interpret(module).call("main", *args)
    assert_close(interpreted, expected)

    assert_close(red.compile(module).main.call(*args), expected)
    if recurrent:
        unrolled = import_onnx(model, unroll_recurrences=True)
        assert_close(red.compile(unrolled).main.call(*args), expected)


RECURRENT_CASES = [p for p in OP_CASES if any(n.op_type in RECURRENT for n in p.values[0].nodes)]


@pytest.mark.parametrize(
    "unroll", [pytest.param(False, id="loop"), pytest.param(True, id="unrolled")]
)
@pytest.mark.parametrize("case", RECURRENT_CASES)
def test_recurrence_forms_match_onnxruntime(case: OpCase, unroll: bool):
    """LSTM/GRU/RNN as an scf.for over the time steps (the default) and unrolled compute the
    same outputs; the loop form has one scf.for per direction and no copy of the step per
    time step."""
    model = case.model()
    attrs = {a.name: helper.get_attribute_value(a) for a in case.nodes[0].attribute}
    directions = 2 if attrs.get("direction") == b"bidirectional" else 1

    module = import_onnx(model, unroll_recurrences=unroll)
    got = red.interpret(module).call("main", *case.inputs.values())

    assert_close(got, expected_outputs(case, model))
    loops = [op for op in module.walk() if op.name == "scf.for"]
    assert len(loops) == (0 if unroll else directions)


def lstm_over(steps: int) -> onnx.ModelProto:
    """One LSTM node over `steps` time steps (batch 1, input 8, hidden 16)."""
    hidden = 16
    inits = {
        "W": rand(1, 4 * hidden, 8, seed=1),
        "R": rand(1, 4 * hidden, hidden, seed=2),
        "B": rand(1, 8 * hidden, seed=3),
    }
    nodes = [node("LSTM", ["x", "W", "R", "B"], ["Y", "Y_h", "Y_c"], hidden_size=hidden)]
    return make_model(nodes, {"x": rand(steps, 1, 8)}, ("Y", "Y_h", "Y_c"), inits)


def test_recurrence_op_count_does_not_grow_with_the_sequence():
    """16 and 128 steps import to the same ops as a loop; unrolled, every step adds its own."""
    loop = {s: import_onnx(lstm_over(s)) for s in (16, 128)}
    unrolled = {s: import_onnx(lstm_over(s), unroll_recurrences=True) for s in (16, 128)}
    x = rand(128, 1, 8, seed=7)

    got = red.interpret(loop[128]).call("main", x)

    assert len(red_ops(loop[16])) == len(red_ops(loop[128]))
    assert len(red_ops(unrolled[128])) > 7 * len(red_ops(unrolled[16]))
    assert_close(got, run_onnxruntime(lstm_over(128), {"x": x}))


def test_constant_subgraphs_fold_at_import():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape with a symbolic batch: with the batch
    given, the shape arithmetic folds and only the reshape remains."""
    nodes = [
        node("Shape", ["x"], ["s"]),
        node("Gather", ["s", "zero"], ["n"], axis=0),
        node("Unsqueeze", ["n", "axes"], ["n1"]),
        node("Concat", ["n1", "minus_one"], ["target"], axis=0),
        node("Reshape", ["x", "target"], ["y"]),
    ]
    inits = {"zero": np.int64(0), "axes": i64(0), "minus_one": i64(-1)}
    model = make_model(nodes, {"x": rand(2, 3, 4)}, initializers=inits, symbolic={"x": ["N", 3, 4]})

    module = import_onnx(model, shapes={"x": (5, 3, 4)})

    assert red_ops(module) == ["red.reshape"]
    main = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    assert [str(t) for t in main.function_type.outputs] == ["tensor<5x12xf32>"]


def test_red_ops_on_constants_fold_inside_a_converter():
    """BatchNormalization's sqrt(var + eps) of constant statistics is computed at import (by
    the interpreter's kernels, through the shared emitter); only the ops on x remain."""
    stats = {
        "s": rand(3, seed=1),
        "b": rand(3, seed=2),
        "m": rand(3, seed=3),
        "v": rand(3, seed=4, positive=True),
    }
    model = make_model(
        [node("BatchNormalization", ["x", *stats])], {"x": rand(2, 3, 4)}, initializers=stats
    )
    x = rand(2, 3, 4, seed=5)

    module = import_onnx(model)
    got = red.interpret(module).call("main", x)

    assert red_ops(module) == [
        "red.constant",
        "red.sub",
        "red.constant",
        "red.div",
        "red.constant",
        "red.mul",
        "red.constant",
        "red.add",
    ]
    assert_close(got, run_onnxruntime(model, {"x": x}))


# endregion Per-op results against onnxruntime

# region Index tuples: GatherND, ScatterND


def scatter_ops(indices: np.ndarray, constant: bool, count_rows: int = 6) -> list[str]:
    """The red ops of a ScatterND of rows of a [count_rows, 3] tensor."""
    updates = rand(indices.shape[0], 3, seed=2)
    inputs = {"x": rand(count_rows, 3), "u": updates}
    if not constant:
        inputs = {"x": inputs["x"], "i": indices, "u": updates}
    nodes = [node("ScatterND", ["x", "i", "u"])]
    model = make_model(nodes, inputs, initializers={"i": indices} if constant else None)
    module = import_onnx(model)
    args = [inputs["x"], *([] if constant else [indices]), updates]
    assert_close(red.interpret(module).call("main", *args), run_onnxruntime(model, inputs))
    return red_ops(module)


@pytest.mark.parametrize(
    ("indices", "constant", "expected"),
    [
        pytest.param(i64(2, 3).reshape(2, 1), True, {"red.concat": 1}, id="constant-contiguous-concat"),
        pytest.param(i64(5, 0).reshape(2, 1), True, {"red.gather": 1, "red.select": 1}, id="constant-scattered-gather-select"),
        pytest.param(i64(3).reshape(1, 1), False, {"red.dynamic_update_slice": 1, "red.select": 1}, id="runtime-one-row-dynamic-update"),
        pytest.param(i64(3, 1).reshape(2, 1), False, {"red.eq": 2, "red.select": 3}, id="runtime-rows-selects"),
    ],
)  # fmt: skip
def test_scatter_nd_is_written_by_what_is_constant(
    indices: np.ndarray, constant: bool, expected: dict[str, int]
):
    """Run-time indices add one select that wraps negative indices."""
    ops = scatter_ops(indices, constant)

    kinds = ("red.concat", "red.gather", "red.select", "red.eq", "red.dynamic_update_slice")
    assert {k: ops.count(k) for k in kinds if k in ops} == expected


def test_scatter_nd_with_many_runtime_indices_is_unsupported():
    count = MAX_RUNTIME_UPDATES + 1
    inputs = {"x": rand(count, 2), "i": np.arange(count).reshape(count, 1), "u": rand(count, 2)}
    model = make_model([node("ScatterND", ["x", "i", "u"])], inputs)

    with pytest.raises(
        UnsupportedError,
        match=f"'ScatterND' with {count} run-time index tuples is not supported \\(at most {MAX_RUNTIME_UPDATES}: red has no scatter op\\)",
    ):
        import_onnx(model)


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_dynamic_axes_exports_with_gather_nd_import(kind: str, tmp_path: Path):
    """torch.onnx.export(dynamo=True) with dynamic batch and sequence axes and an attention
    mask emits GatherND (issue 13); with --shape given the models import and match
    onnxruntime, left padding included."""
    torch = _torch()
    from torch.export import Dim

    batch, seq = Dim("batch"), Dim("seq", max=64)
    path = tmp_path / f"{kind}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _hf_model(kind),
            (torch.tensor(_ids(0)), torch.ones(1, SEQ, dtype=torch.int64)),
            str(path),
            dynamo=True,
            input_names=["input_ids", "attention_mask"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            verbose=False,
        )
    model = onnx.load(str(path))
    ids = np.concatenate([_ids(1), _ids(2)])
    padded = np.ones((2, SEQ), dtype=np.int64)
    padded[1, :3] = 0

    check_model(
        model,
        [{"input_ids": ids, "attention_mask": padded}],
        shapes={"input_ids": (2, SEQ), "attention_mask": (2, SEQ)},
    )

    assert "GatherND" in {n.op_type for n in model.graph.node}


# endregion Index tuples: GatherND, ScatterND

# region Locations and weights


def test_every_op_is_located_at_its_onnx_node(tmp_path: Path):
    nodes = [node("MatMul", ["x", "w"], ["h"], name="proj"), node("Tanh", ["h"], ["y"])]
    model = make_model(nodes, {"x": rand(2, 3)}, initializers={"w": rand(3, 4, seed=1)})
    path = tmp_path / "model.onnx"
    onnx.save(model, path)

    module = import_onnx(path)

    located = {}
    for op in module.walk():
        if op is module:
            continue
        assert isinstance(op.location, NameLoc), f"{op.name} has location {op.location}"
        inner = op.location.location
        assert isinstance(inner, FileLineColLoc)
        assert inner.filename.data == str(path)
        located[op.name] = op.location.desc.data
    assert located["red.matmul"] == "proj"
    assert located["red.tanh"] == "Tanh#1"  # unnamed: op_type#index
    assert located["red.constant"] == "w"  # a materialized initializer: its name


def test_weights_as_args_are_trailing_invariant_arguments():
    nodes = [node("Gemm", ["x", "w", "b"], ["h"]), node("Reshape", ["h", "shape"], ["y"])]
    inits = {"w": rand(3, 4, seed=1), "b": rand(4, seed=2), "shape": i64(-1)}
    model = make_model(nodes, {"x": rand(2, 3)}, initializers=inits)
    x = rand(2, 3, seed=7)

    module = import_onnx(model, weights_as_args=True)
    main = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    weights = weight_arrays(model)
    results = red.compile(module).main.call(x, *weights)

    types = [str(t) for t in main.function_type.inputs]
    assert types == ["tensor<2x3xf32>", "tensor<3x4xf32>", "tensor<4xf32>"]  # shape stays constant
    attrs = [set(d.data) for d in main.arg_attrs.data] if main.arg_attrs else []
    assert attrs == [set(), {redd.INVARIANT_ATTR}, {redd.INVARIANT_ATTR}]
    assert [w.shape for w in weights] == [(3, 4), (4,)]
    assert_close(results, run_onnxruntime(model, {"x": x}))


# endregion Locations and weights

# region Errors


def test_unsupported_op_names_op_type_and_node():
    model = make_model([node("Det", ["x"], name="determinant")], {"x": rand(3, 3)})

    with pytest.raises(UnsupportedError) as info:
        import_onnx(model)

    assert info.value.message == "ONNX op 'Det' is not supported (ONNX node 'determinant')"
    assert isinstance(info.value.location, NameLoc)
    assert info.value.location.desc.data == "determinant"


def test_unsupported_attribute_is_named():
    model = make_model(
        [node("LSTM", ["x", "W", "R"], ["Y"], hidden_size=2, clip=1.0, foo=1)],
        {"x": rand(2, 1, 3)},
        initializers={"W": rand(1, 8, 3), "R": rand(1, 8, 2)},
    )

    with pytest.raises(UnsupportedError, match=r"attribute 'foo' of 'LSTM' is not supported"):
        import_onnx(model)


def test_runtime_shape_operand_is_unsupported():
    model = make_model([node("Reshape", ["x", "s"])], {"x": rand(2, 3), "s": i64(3, 2)})

    with pytest.raises(UnsupportedError, match=r"'Reshape' needs a compile-time constant 'shape'"):
        import_onnx(model)


def test_missing_constant_input_is_named():
    graph = helper.make_graph(
        [node("Tile", ["x", ""], name="tile")],
        "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_empty_tensor_value_info("y")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])

    with pytest.raises(DiagnosticError) as info:
        import_onnx(model)

    assert info.value.message == (
        "'Tile' is missing its required 'repeats' input #1 (ONNX node 'tile')"
    )


def test_symbolic_dimension_imports_as_named_dynamic_dim():
    """Without --shape a dim_param is a `?` named in red.dims (test_onnx_symbolic covers the
    shape arithmetic); with --shape the dims are fixed."""
    model = make_model(
        [node("Relu", ["input_ids"])], {"input_ids": rand(1, 8)}, symbolic={"input_ids": [1, "seq"]}
    )

    symbolic = import_onnx(model)
    fixed = import_onnx(model, shapes={"input_ids": (1, 16)})

    main = next(op for op in symbolic.walk() if isinstance(op, func.FuncOp))
    assert str(main.function_type) == "(tensor<1x?xf32>) -> tensor<1x?xf32>"
    assert main.arg_attrs is not None
    assert str(main.arg_attrs.data[0]) == '{red.dims = ["", "seq"]}'
    fixed_main = next(op for op in fixed.walk() if isinstance(op, func.FuncOp))
    assert str(fixed_main.function_type) == "(tensor<1x16xf32>) -> tensor<1x16xf32>"
    assert red_ops(fixed) == ["red.relu"]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        pytest.param({"x": (2,)}, r"has rank 1, but graph input 'x' has rank 2", id="rank"),
        pytest.param({"x": (3, 3)}, r"gives dimension 0 size 3, but .* static size 2", id="static"),
        pytest.param({"z": (1,)}, r"--shape names 'z', which is not a graph input", id="unknown"),
    ],
)
def test_bad_shapes_are_errors(shapes: dict[str, tuple[int, ...]], message: str):
    model = make_model([node("Relu", ["x"])], {"x": rand(2, 3)})

    with pytest.raises(DiagnosticError, match=message):
        import_onnx(model, shapes=shapes)


def test_missing_and_garbage_files(tmp_path: Path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x0fnot an onnx model\xff")

    with pytest.raises(OnnxLoadError, match="could not open input file"):
        import_onnx(tmp_path / "missing.onnx")
    with pytest.raises(OnnxLoadError, match="as an ONNX model"):
        import_onnx(garbage)


# endregion Errors

# region red-import


def save(model: onnx.ModelProto, path: Path) -> str:
    onnx.save(model, path)
    return str(path)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = red_import.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_the_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = make_model([node("Relu", ["x"])], {"x": rand(2, 3)}, symbolic={"x": ["B", 3]})
    path = save(model, tmp_path / "m.onnx")
    out_path = tmp_path / "m.mlir"

    code, out, err = run_cli(capsys, path, "--shape", "x=4x3", "-o", str(out_path))

    assert (code, out, err) == (0, "", "")
    module = red.parse_file(str(out_path))
    assert red_ops(module) == ["red.relu"]
    assert "tensor<4x3xf32>" in out_path.read_text()


@pytest.mark.parametrize(
    ("model_kind", "extra", "expected"),
    [
        pytest.param(
            "det",
            [],
            "error: ONNX op 'Det' is not supported (ONNX node 'det')",
            id="unsupported-op",
        ),
        pytest.param(
            "size-decision",
            [],
            "error: whether B == 1 depends on the input sizes (ONNX node 'is_one'); import with "
            "static sizes: --shape x=Nx3",
            id="symbolic-size-decision",
        ),
        pytest.param(
            "symbolic", ["--shape", "x=2"], "error: --shape x=2 has rank 1", id="shape-rank"
        ),
        pytest.param(
            "symbolic", ["--shape", "x"], "error: --shape expects NAME=DIMS", id="bad-shape-flag"
        ),
        pytest.param(
            "symbolic",
            ["--shape", "x=1x3", "--shape", "x=2x3"],
            "error: --shape gives input 'x' twice",
            id="repeated-shape",
        ),
        pytest.param("missing", [], "error: could not open input file", id="missing-file"),
        pytest.param("garbage", [], "as an ONNX model", id="garbage-file"),
        pytest.param(
            "symbolic", ["--no-such-flag"], "error: unrecognized arguments", id="bad-flag"
        ),
    ],
)
def test_cli_errors_exit_1_without_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    model_kind: str,
    extra: list[str],
    expected: str,
):
    path = tmp_path / f"{model_kind}.onnx"
    if model_kind == "det":
        save(make_model([node("Det", ["x"], name="det")], {"x": rand(3, 3)}), path)
    elif model_kind == "symbolic":
        save(make_model([node("Relu", ["x"])], {"x": rand(2, 3)}, symbolic={"x": ["B", 3]}), path)
    elif model_kind == "size-decision":
        nodes = [
            node("Shape", ["x"], ["s"]),
            node("Gather", ["s", "zero"], ["b"]),
            node("Equal", ["b", "one"], ["c"], name="is_one"),
            node("Where", ["c", "x", "x"]),
        ]
        inits = {"zero": i64(0).reshape(()), "one": i64(1).reshape(())}
        model = make_model(nodes, {"x": rand(2, 3)}, initializers=inits, symbolic={"x": ["B", 3]})
        save(model, path)
    elif model_kind == "garbage":
        path.write_bytes(b"\x0fnot an onnx model\xff")

    code, out, err = run_cli(capsys, str(path), *extra)

    assert code == 1
    assert out == ""
    assert expected in err
    assert "Traceback" not in err
    assert "internal compiler error" not in err


# endregion red-import

# region Models exported from PyTorch


def _torch() -> Any:
    return pytest.importorskip("torch", reason="the exported-model tests need PyTorch")


def _export(
    module: Any,
    args: tuple[Any, ...],
    path: Path,
    *,
    dynamo: bool,
    optimize: bool = True,
    input_names: Sequence[str],
) -> onnx.ModelProto:
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(
                module,
                args,
                str(path),
                dynamo=True,
                optimize=optimize,
                input_names=list(input_names),
                verbose=False,
            )
        else:
            torch.onnx.export(module, args, str(path), dynamo=False, input_names=list(input_names))
    return onnx.load(str(path))


def _add_noise(model: Any, scale: float = 0.05) -> None:
    """HF initializes biases to 0 and norm weights to 1: perturb every parameter."""
    torch = _torch()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def check_model(
    model: onnx.ModelProto,
    feeds: Sequence[dict[str, np.ndarray]],
    rtol: float = RTOL,
    atol: float = 1e-4,
    **import_args: Any,
) -> ModuleOp:
    """Import, red.optimize, red.compile; every feed matches onnxruntime."""
    module = import_onnx(model, **import_args)
    red.optimize(module)
    compiled = red.compile(module)
    extra = weight_arrays(model) if import_args.get("weights_as_args") else []
    for feed in feeds:
        expected = run_onnxruntime(model, feed)
        got = compiled.main.call(*feed.values(), *extra)
        assert_close(got, expected, rtol=rtol, atol=atol)
    return module


@pytest.fixture(scope="module")
def lstm_classifier() -> Any:
    torch = _torch()

    class LSTMClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(16, 32, batch_first=True)
            self.head = torch.nn.Linear(32, 4)

        def forward(self, x: Any) -> Any:
            y, _ = self.lstm(x)
            return self.head(y[:, -1])

    torch.manual_seed(0)
    return LSTMClassifier().eval()


@pytest.mark.parametrize(
    "dynamo", [pytest.param(False, id="legacy"), pytest.param(True, id="dynamo")]
)
def test_lstm_classifier(lstm_classifier: Any, tmp_path: Path, dynamo: bool):
    torch = _torch()
    example = (torch.randn(1, 8, 16),)
    model = _export(
        lstm_classifier, example, tmp_path / "lstm.onnx", dynamo=dynamo, input_names=["x"]
    )
    feeds = [{"x": rand(1, 8, 16, seed=s)} for s in (1, 2)]

    # TODO(issue 10): JIT-compile the loop form once scf.for over tensors lowers.
    module = check_model(model, feeds, unroll_recurrences=True)
    looped = import_onnx(model)
    red.optimize(looped)
    interpreted = [red.interpret(looped).call("main", *f.values()) for f in feeds]

    assert "LSTM" in {n.op_type for n in model.graph.node}
    assert "red.matmul" in red_ops(module)
    assert [op.name for op in looped.walk()].count("scf.for") == 1
    for got, feed in zip(interpreted, feeds):
        assert_close(got, run_onnxruntime(model, feed), atol=1e-4)


VOCAB, SEQ = 128, 8


def _hf_model(kind: str) -> Any:
    torch = _torch()
    transformers = pytest.importorskip(
        "transformers", reason="the HF model tests need transformers"
    )
    torch.manual_seed(0)
    if kind == "gpt2":
        config = transformers.GPT2Config(
            n_layer=2, n_embd=64, n_head=4, vocab_size=VOCAB, n_positions=32
        )
        model = transformers.GPT2LMHeadModel(config)
    elif kind == "bert":
        config = transformers.BertConfig(
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            vocab_size=VOCAB,
            max_position_embeddings=64,
        )
        model = transformers.BertModel(config)
    else:
        config = transformers.LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=VOCAB,
            max_position_embeddings=64,
        )
        model = transformers.LlamaForCausalLM(config)
    model.eval()
    _add_noise(model)

    class Logits(torch.nn.Module):
        """input_ids (and attention_mask) -> logits without the KV cache (BERT: the last
        hidden state)."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any = None) -> Any:
            if kind == "bert":
                return self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
            return out.logits

    return Logits(model).eval()


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def hf_model(request: pytest.FixtureRequest) -> tuple[str, Any]:
    return request.param, _hf_model(request.param)


def _ids(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCAB, (1, SEQ)).astype(np.int64)


@pytest.mark.parametrize(
    ("dynamo", "optimize"),
    [
        pytest.param(True, True, id="dynamo"),
        pytest.param(True, False, id="dynamo-unoptimized"),
        pytest.param(False, False, id="legacy"),
    ],
)
def test_hf_decoder(hf_model: tuple[str, Any], tmp_path: Path, dynamo: bool, optimize: bool):
    """GPT-2 and Llama logits, from every exporter variant, match onnxruntime; the legacy
    exporter needs an explicit attention_mask (DESIGN.md §5), tested with left padding too."""
    torch = _torch()
    kind, module = hf_model
    ids = torch.tensor(_ids(0))
    if dynamo:
        model = _export(
            module,
            (ids,),
            tmp_path / f"{kind}.onnx",
            dynamo=True,
            optimize=optimize,
            input_names=["input_ids"],
        )
        feeds = [{"input_ids": _ids(s)} for s in (1, 2)]
    else:
        mask = torch.ones(1, SEQ, dtype=torch.int64)
        model = _export(
            module,
            (ids, mask),
            tmp_path / f"{kind}.onnx",
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
        )
        padded = np.ones((1, SEQ), dtype=np.int64)
        padded[0, :2] = 0
        feeds = [
            {"input_ids": _ids(1), "attention_mask": np.ones((1, SEQ), dtype=np.int64)},
            {"input_ids": _ids(2), "attention_mask": padded},
        ]

    check_model(model, feeds)


def test_gpt2_weights_as_args_memoizes(tmp_path: Path):
    """With --weights-as-args the weights are red.invariant arguments: red.optimize may move
    weight-only work into red.memo, and results still match."""
    torch = _torch()
    module = _hf_model("gpt2")
    model = _export(
        module,
        (torch.tensor(_ids(0)),),
        tmp_path / "gpt2.onnx",
        dynamo=True,
        input_names=["input_ids"],
    )

    imported = check_model(model, [{"input_ids": _ids(3)}], weights_as_args=True)

    main = next(op for op in imported.walk() if isinstance(op, func.FuncOp))
    assert len(main.function_type.inputs) == 1 + len(weight_arrays(model))


# endregion Models exported from PyTorch
