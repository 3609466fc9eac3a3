"""The ONNX importer with symbolic dims (issue 12): a `dim_param` is a `?` named in red.dims;
each shape-arithmetic pattern of the exporters (Shape -> Gather -> Concat -> Reshape, Range,
ConstantOfShape, Expand, symbolic Slice bounds, Where/Equal on sizes, attention masks) is
imported once and run in the interpreter at several sizes against onnxruntime; HF GPT-2 and
Llama exported with a symbolic sequence length likewise; what cannot stay symbolic is a
located error naming the --shape flags."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the 'onnx' package")
pytest.importorskip("onnxruntime", reason="results are compared with onnxruntime")

from onnx import helper  # noqa: E402
from test_onnx_importer import (  # noqa: E402 (the importer tests' helpers)
    INT_MAX,
    _hf_model,
    _ids,
    _torch,
    assert_close,
    i64,
    make_model,
    node,
    rand,
    red_ops,
    run_onnxruntime,
)
from xdsl.dialects import func  # noqa: E402
from xdsl.dialects.builtin import ModuleOp  # noqa: E402

import red  # noqa: E402
from red.dialects.diagnostics import DiagnosticError  # noqa: E402
from red.frontends.onnx import UnsupportedError, import_onnx  # noqa: E402
from red.tools import red_opt  # noqa: E402

LENGTHS = (1, 7, 32)


def scalar(value: int) -> np.ndarray:
    return np.asarray(value, dtype=np.int64)


def main_of(module: ModuleOp) -> func.FuncOp:
    return next(op for op in module.walk() if isinstance(op, func.FuncOp))


def result_types(module: ModuleOp) -> list[str]:
    return [str(t) for t in main_of(module).function_type.outputs]


# region Shape arithmetic patterns


@dataclass
class Pattern:
    """A graph over inputs with symbolic dims; `feeds(n)` gives inputs at size n."""

    nodes: list[Any]
    inputs: dict[str, tuple[np.dtype[Any], list[int | str]]]
    result_type: str
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    op_kinds: Sequence[str] = ()
    """red ops the import must contain (e.g. the dynamic_slice of a last position)."""

    def model(self) -> Any:
        examples = {name: np.zeros([2 if isinstance(d, str) else d for d in shape], dtype)
                    for name, (dtype, shape) in self.inputs.items()}  # fmt: skip
        symbolic: dict[str, Sequence[int | str]] = {
            name: shape for name, (_, shape) in self.inputs.items()
        }
        return make_model(self.nodes, examples, initializers=self.initializers, symbolic=symbolic)

    def feeds(self, n: int, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed + n)
        out = {}
        for name, (dtype, shape) in self.inputs.items():
            dims = [n if d == "seq" else 3 if isinstance(d, str) else d for d in shape]
            if dtype.kind == "f":
                out[name] = rng.standard_normal(dims).astype(dtype)
            else:
                out[name] = rng.integers(0, 16, dims).astype(dtype)
        return out


F32, I64 = np.dtype(np.float32), np.dtype(np.int64)
X = {"x": (F32, [1, "seq", 64])}


def _seq_of(x: str, out: str) -> list[Any]:
    """out = [size of dim 1 of x] (Shape -> Gather -> Unsqueeze)."""
    return [
        node("Shape", [x], [f"{out}_shape"]),
        node("Gather", [f"{out}_shape", "one"], [f"{out}_n"], axis=0),
        node("Unsqueeze", [f"{out}_n", "zero_axis"], [out]),
    ]


CONSTS = {"one": scalar(1), "zero_axis": i64(0)}

PATTERNS = [
    pytest.param(
        Pattern(
            [
                *_seq_of("x", "n"),
                node("Concat", ["c1", "n", "heads"], ["shape"], axis=0),
                node("Reshape", ["x", "shape"]),
            ],
            X,
            "tensor<1x?x4x16xf32>",
            {**CONSTS, "c1": i64(1), "heads": i64(4, 16)},
        ),
        id="shape-gather-concat-reshape",
    ),
    pytest.param(
        Pattern(
            [node("Reshape", ["x", "spec"])], X, "tensor<1x?x16xf32>", {"spec": i64(0, -1, 16)}
        ),
        id="reshape-copy-and-infer",
    ),
    pytest.param(
        Pattern(
            [
                *_seq_of("x", "n"),
                node("Add", ["n", "three"], ["n3"]),
                node("Sub", ["n3", "three"], ["n0"]),
                node("Mul", ["n0", "two"], ["rows"]),
                node("Div", ["sixty_four", "two"], ["cols"]),
                node("Concat", ["rows", "cols"], ["shape"], axis=0),
                node("Reshape", ["x", "shape"]),
            ],
            X,
            "tensor<?x32xf32>",
            {**CONSTS, "three": i64(3), "two": i64(2), "sixty_four": i64(64)},
        ),
        id="add-sub-mul-div-of-sizes",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"]),
                node("Cast", ["s"], ["s32"], to=onnx.TensorProto.INT32),
                node("Cast", ["s32"], ["s64"], to=onnx.TensorProto.INT64),
                node("Slice", ["s64", "start", "end"], ["lead"]),
                node("Concat", ["lead", "minus_one"], ["shape"], axis=0),
                node("Reshape", ["x", "shape"]),
            ],
            X,
            "tensor<1x?x64xf32>",
            {"start": i64(0), "end": i64(2), "minus_one": i64(-1)},
        ),
        id="cast-and-slice-of-a-shape",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["ids"], ["s"], start=1, end=2),
                node("Squeeze", ["s"], ["n"]),
                node("Range", ["zero", "n", "one"], ["positions"]),
                node("Unsqueeze", ["positions", "zero_axis"], ["rows"]),
                node("Gather", ["wpe", "rows"], ["pos"], axis=0),
                node("Gather", ["wte", "ids"], ["tok"], axis=0),
                node("Add", ["tok", "pos"]),
            ],
            {"ids": (I64, [1, "seq"])},
            "tensor<1x?x8xf32>",
            {**CONSTS, "zero": scalar(0), "wpe": rand(32, 8, seed=1), "wte": rand(16, 8, seed=2)},
            op_kinds=["scf.for"],
        ),
        id="range-position-embeddings",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"], end=2),
                node("ConstantOfShape", ["s"], ["c"], value=helper.make_tensor("v", 1, [1], [1.5])),
                node("ReduceMean", ["x", "last"], ["m"], keepdims=0),
                node("Add", ["c", "m"]),
            ],
            X,
            "tensor<1x?xf32>",
            {"last": i64(2)},
        ),
        id="constant-of-shape",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"]),
                node("Expand", ["b", "s"], ["e"]),
                node("Add", ["e", "x"]),
            ],
            X,
            "tensor<1x?x64xf32>",
            {"b": rand(1, 1, 64, seed=3)},
        ),
        id="expand-to-a-shape",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"]),
                node("Equal", ["s", "minus_one"], ["unknown"]),
                node("Where", ["unknown", "ones", "s"], ["target"]),
                node("Max", ["target", "ones"], ["at_least_one"]),
                node("Expand", ["b", "at_least_one"]),
            ],
            X,
            "tensor<1x?x64xf32>",
            {"minus_one": i64(-1), "ones": i64(1, 1, 1), "b": rand(1, 1, 64, seed=4)},
        ),
        id="where-equal-max-of-sizes",
    ),
    pytest.param(
        Pattern(
            [
                *_seq_of("x", "n"),
                node("Concat", ["x", "x"], ["xx"], axis=1),
                node("Mul", ["n", "two"], ["end"]),
                node("Slice", ["xx", "n", "end", "axis1"]),
            ],
            X,
            "tensor<1x?x64xf32>",
            {**CONSTS, "two": i64(2), "axis1": i64(1)},
        ),
        id="slice-at-symbolic-bounds",
    ),
    pytest.param(
        Pattern(
            [
                *_seq_of("ids", "n"),
                node("Slice", ["wpe", "zero1", "n", "zero1"], ["rows"]),
                node("Gather", ["wte", "ids"], ["tok"], axis=0),
                node("Add", ["tok", "rows"]),
            ],
            {"ids": (I64, [1, "seq"])},
            "tensor<1x?x8xf32>",
            {**CONSTS, "zero1": i64(0), "wpe": rand(32, 8, seed=5), "wte": rand(16, 8, seed=6)},
        ),
        id="slice-of-a-table-to-seq-rows",
    ),
    pytest.param(
        Pattern(
            [node("Gather", ["x", "last"], axis=1)],
            X,
            "tensor<1x64xf32>",
            {"last": scalar(-1)},
            op_kinds=["red.dynamic_slice"],
        ),
        id="gather-last-position",
    ),
    pytest.param(
        Pattern(
            [node("Slice", ["x", "minus_one", "int_max", "axis1"])],
            X,
            "tensor<1x1x64xf32>",
            {"minus_one": i64(-1), "int_max": i64(INT_MAX), "axis1": i64(1)},
            op_kinds=["red.dynamic_slice"],
        ),
        id="slice-last-position",
    ),
    pytest.param(
        Pattern(
            [node("Split", ["x"], ["q", "k", "v"], axis=2, num_outputs=3), node("Sub", ["q", "v"])],
            {"x": (F32, [1, "seq", 96])},
            "tensor<1x?x32xf32>",
            op_kinds=["red.gather"],
        ),
        id="split-a-static-axis",
    ),
    pytest.param(
        Pattern(
            [
                node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
                node("MatMul", ["x", "xt"], ["scores"]),
                node("Trilu", ["scores"], upper=0),
            ],
            X,
            "tensor<1x?x?xf32>",
        ),
        id="trilu-of-seq-by-seq",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"], start=1, end=2),
                node("Squeeze", ["s"], ["n"]),
                node("Range", ["zero", "n", "one"], ["pos"]),
                node("Unsqueeze", ["pos", "zero_axis"], ["keys"]),
                node("Unsqueeze", ["pos", "one_axis"], ["queries"]),
                node("LessOrEqual", ["keys", "queries"], ["causal"]),
                node("Where", ["causal", "zero_f", "minus_inf"], ["bias"]),
                node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
                node("MatMul", ["x", "xt"], ["scores"]),
                node("Add", ["scores", "bias"], ["masked"]),
                node("Softmax", ["masked"], ["p"], axis=-1),
                node("MatMul", ["p", "x"]),
            ],
            X,
            "tensor<1x?x64xf32>",
            {
                **CONSTS,
                "zero": scalar(0),
                "one_axis": i64(1),
                "zero_f": np.asarray(0.0, dtype=np.float32),
                "minus_inf": np.asarray(-np.inf, dtype=np.float32),
            },
        ),
        id="causal-attention-mask",
    ),
    pytest.param(
        Pattern(
            [node("CumSum", ["x", "axis"])],
            {"x": (F32, [1, "seq", 4])},
            "tensor<1x?x4xf32>",
            {"axis": scalar(1)},
            op_kinds=["scf.for"],
        ),
        id="cumsum-along-seq",
    ),
    pytest.param(
        Pattern(
            [
                node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
                node("MatMul", ["x", "xt"], ["scores"]),
                node("Squeeze", ["scores", "zero_axis"], ["square"]),
                node("Unsqueeze", ["square", "one_axis"]),
            ],
            X,
            "tensor<?x1x?xf32>",
            {"zero_axis": i64(0), "one_axis": i64(1)},
        ),
        id="squeeze-unsqueeze-beside-two-symbolic-dims",
    ),
    pytest.param(
        Pattern(
            [
                node("Shape", ["x"], ["s"], end=2),
                node("Reshape", ["x", "rows"], ["flat"]),
                node("MatMul", ["flat", "w"], ["h"]),
                node("Concat", ["s", "thirty_two"], ["shape"], axis=0),
                node("Reshape", ["h", "shape"]),
            ],
            {"x": (F32, ["batch", "seq", 64])},
            "tensor<?x?x32xf32>",
            {"rows": i64(-1, 64), "w": rand(64, 32, seed=7), "thirty_two": i64(32)},
        ),
        id="two-symbols-merged-and-split",
    ),
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_imports_once_and_runs_at_every_length(pattern: Pattern):
    model = pattern.model()

    module = import_onnx(model)
    runner = red.interpret(module)

    assert result_types(module) == [pattern.result_type]
    for kind in pattern.op_kinds:
        assert kind in red_ops(module) or any(op.name == kind for op in module.walk())
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        assert_close(runner.call("main", *feeds.values()), run_onnxruntime(model, feeds))


def test_dim_params_name_the_dynamic_dims():
    model = make_model(
        [node("Add", ["a", "b"])],
        {"a": rand(2, 3, 4), "b": rand(2, 3, 4)},
        symbolic={"a": ["batch", "seq", 4], "b": ["batch", None, 4]},  # type: ignore[list-item]
    )

    main = main_of(import_onnx(model))

    assert main.arg_attrs is not None
    names = [str(d) for d in main.arg_attrs.data]
    assert names == ['{red.dims = ["batch", "seq", ""]}', '{red.dims = ["batch", "", ""]}']
    assert [str(t) for t in main.function_type.inputs] == ["tensor<?x?x4xf32>"] * 2


def test_shape_flags_fix_the_dims():
    model = Pattern([node("Relu", ["x"])], X, "tensor<1x?x64xf32>").model()

    module = import_onnx(model, shapes={"x": (1, 5, 64)})

    assert result_types(module) == ["tensor<1x5x64xf32>"]
    assert main_of(module).arg_attrs is None


def test_sizes_fold_to_constants_and_a_last_position_is_one_row():
    """The size arithmetic leaves no op behind; only the run-time row offset remains."""
    model = Pattern(
        [
            *_seq_of("x", "n"),
            node("Sub", ["n", "one1"], ["last"]),
            node("Slice", ["x", "last", "n", "axis1"]),
        ],
        X,
        "tensor<1x1x64xf32>",
        {**CONSTS, "one1": i64(1), "axis1": i64(1)},
    ).model()

    module = import_onnx(model)

    text = str(module)
    assert re.search(r"tensor\.dim %x, %\S+ : tensor<1x\?x64xf32>", text)
    assert "arith.subi" in text
    assert red_ops(module) == ["red.dynamic_slice"]


def test_a_run_time_size_from_unit_dims_is_a_view_of_the_input():
    """Range over `seq` of ids [1, seq]: the loop's size comes from a reshape of the ids (a
    view), not from a gather copying their first row."""
    pattern = Pattern(
        [
            node("Shape", ["ids"], ["s"], start=1, end=2),
            node("Squeeze", ["s"], ["n"]),
            node("Range", ["zero", "n", "one"], ["positions"]),
            node("Add", ["ids", "positions"]),
        ],
        {"ids": (I64, [1, "seq"])},
        "tensor<1x?xi64>",
        {**CONSTS, "zero": scalar(0)},
    )
    model = pattern.model()

    module = import_onnx(model)

    assert "red.gather" not in red_ops(module)
    assert re.search(r"red\.reshape %ids : tensor<1x\?xi64> -> tensor<\?xi64>", str(module))
    runner = red.interpret(module)
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        assert_close(runner.call("main", *feeds.values()), run_onnxruntime(model, feeds))


@pytest.mark.parametrize(
    ("reverse", "exclusive", "dtype"),
    [
        pytest.param(0, 0, I64, id="inclusive-i64"),
        pytest.param(1, 0, F32, id="reverse-f32"),
        pytest.param(0, 1, I64, id="exclusive-i64"),
        pytest.param(1, 1, F32, id="reverse-exclusive-f32"),
    ],
)
def test_cumsum_along_a_symbolic_axis_is_one_loop(reverse: int, exclusive: int, dtype: Any):
    """Running sums in an scf.for (no size x size triangle, no matmul), interpreted and
    compiled once, against onnxruntime at every length (1 included)."""
    pattern = Pattern(
        [node("CumSum", ["x", "axis"], reverse=reverse, exclusive=exclusive)],
        {"x": (dtype, [2, "seq", 3])},
        f"tensor<2x?x3x{'i64' if dtype == I64 else 'f32'}>",
        {"axis": scalar(1)},
    )
    model = pattern.model()

    module = import_onnx(model)

    assert result_types(module) == [pattern.result_type]
    assert "red.matmul" not in red_ops(module)
    assert any(op.name == "scf.for" for op in module.walk())
    runner, jit = red.interpret(module), red.compile(module)
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        expected = run_onnxruntime(model, feeds)
        assert_close(runner.call("main", *feeds.values()), expected)
        assert_close((jit.main(*feeds.values()),), expected)


def test_index_tuples_concatenated_from_columns_are_read_as_those_columns():
    """GatherND by tuples Concat([batch 0s, positions]) (HF's mask indexing): each column of
    the tuples is the concatenated input (a view), not a gather from the concat (which dce
    then removes)."""
    pattern = Pattern(
        [
            node("Shape", ["x"], ["s"], start=1, end=2),
            node("Squeeze", ["s"], ["n"]),
            node("Range", ["zero", "n", "one"], ["positions"]),
            node("Unsqueeze", ["positions", "one_axis"], ["column"]),
            node("Mul", ["column", "zero"], ["batch"]),
            node("Concat", ["batch", "column"], ["tuples"], axis=1),
            node("GatherND", ["x", "tuples"]),
        ],
        X,
        "tensor<?x64xf32>",
        {**CONSTS, "zero": scalar(0), "one_axis": i64(1)},
    )
    model = pattern.model()

    module = import_onnx(model)

    assert result_types(module) == [pattern.result_type]
    gathers = [op for op in module.walk() if op.name == "red.gather"]
    assert not any(getattr(g.operands[0].owner, "name", "") == "red.concat" for g in gathers)
    runner = red.interpret(module)
    for n in LENGTHS:
        feeds = pattern.feeds(n)
        assert_close(runner.call("main", *feeds.values()), run_onnxruntime(model, feeds))


# endregion Shape arithmetic patterns

# region What needs static sizes


@pytest.mark.parametrize(
    ("nodes", "inits", "message"),
    [
        pytest.param(
            [
                *_seq_of("x", "n"),
                node("Equal", ["n", "one1"], ["c"], name="is_one"),
                node("Where", ["c", "x", "x"]),
            ],
            {**CONSTS, "one1": i64(1)},
            "whether seq == 1 depends on the input sizes (ONNX node 'is_one')",
            id="undecided-comparison",
        ),
        pytest.param(
            [*_seq_of("x", "n"), node("Slice", ["x", "one1", "n", "one1"], name="drop_first")],
            {**CONSTS, "one1": i64(1)},
            "a run-time size seq - 1 is needed, which no value has and red cannot make "
            "(red.iota takes no run-time size) (ONNX node 'drop_first')",
            id="slice-of-seq-minus-one-rows",
        ),
        pytest.param(
            [
                node("ReduceMax", ["x"], ["m"], keepdims=0),
                node("Cast", ["m"], ["k"], to=onnx.TensorProto.INT64),
                node("Reshape", ["k", "one1"], ["k1"]),
                node("Concat", ["k1", "minus_one"], ["shape"], axis=0),
                node("Reshape", ["x", "shape"], name="by_data"),
            ],
            {"one1": i64(1), "minus_one": i64(-1)},
            "'Reshape' needs a compile-time constant 'shape' input (input #1); it is computed "
            "at run time (ONNX node 'by_data')",
            id="shape-computed-from-data",
        ),
        pytest.param(
            [
                *_seq_of("x", "n"),
                node("Mod", ["n", "three"], ["r"]),
                node("Reshape", ["x", "r"], name="mod"),
            ],
            {**CONSTS, "three": i64(3)},
            "'Reshape' needs a compile-time constant 'shape' input (input #1); it is computed "
            "at run time (ONNX node 'mod')",
            id="size-arithmetic-without-a-rule",
        ),
    ],
)
def test_what_needs_static_sizes_is_a_located_error_naming_the_flags(
    nodes: list[Any], inits: dict[str, np.ndarray], message: str
):
    model = make_model(
        nodes, {"x": rand(1, 2, 64)}, initializers=inits, symbolic={"x": [1, "seq", 64]}
    )

    with pytest.raises(UnsupportedError) as info:
        import_onnx(model)

    assert info.value.message == f"{message}; import with static sizes: --shape x=1xNx64"
    assert info.value.location.desc.data == re.search(r"ONNX node '(\w+)'", message)[1]  # type: ignore[union-attr,index]


def test_recurrence_over_a_symbolic_sequence_needs_static_sizes():
    model = make_model(
        [node("LSTM", ["x", "W", "R"], ["Y"], hidden_size=2, name="lstm")],
        {"x": rand(2, 1, 3)},
        outputs=("Y",),
        initializers={"W": rand(1, 8, 3), "R": rand(1, 8, 2)},
        symbolic={"x": ["seq", 1, 3]},
    )

    with pytest.raises(UnsupportedError, match=r"'LSTM' over a symbolic sequence \(seqx1x3\)"):
        import_onnx(model)


def test_a_call_breaking_a_symbol_equality_is_refused():
    """Both inputs name their first dim `seq`: the interpreter checks the sizes agree."""
    model = make_model(
        [node("Add", ["a", "b"])],
        {"a": rand(2, 4), "b": rand(2, 4)},
        symbolic={"a": ["seq", 4], "b": ["seq", 4]},
    )
    runner = red.interpret(import_onnx(model))

    (same,) = runner.call("main", rand(3, 4), rand(3, 4, seed=1))
    with pytest.raises(DiagnosticError, match=r"dim 0 is 'seq' = 5, but argument #0 .* 'seq' = 3"):
        runner.call("main", rand(3, 4), rand(5, 4))

    assert same.shape == (3, 4)


# endregion What needs static sizes

# region Models exported from PyTorch with a symbolic sequence


def _export_symbolic(module: Any, path: Path, optimize: bool = True) -> Any:
    """torch.onnx.export(dynamo=True) of input_ids [1, seq] with seq a torch.export Dim
    (`optimize=False`: without onnxscript's optimizer, all the shape arithmetic stays)."""
    torch = _torch()
    from torch.export import Dim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.tensor(_ids(0)),),
            str(path),
            dynamo=True,
            optimize=optimize,
            input_names=["input_ids"],
            dynamic_shapes={"input_ids": {1: Dim("seq", max=32)}},
            verbose=False,
        )
    return onnx.load(str(path))


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
@pytest.mark.parametrize(
    "optimize", [pytest.param(True, id="dynamo"), pytest.param(False, id="dynamo-unoptimized")]
)
def test_hf_decoder_imported_once_runs_at_every_length(kind: str, optimize: bool, tmp_path: Path):
    model = _export_symbolic(_hf_model(kind), tmp_path / f"{kind}.onnx", optimize)

    module = import_onnx(model)
    runner = red.interpret(module)

    assert str(main_of(module).function_type.inputs.data[0]) == "tensor<1x?xi64>"
    assert result_types(module) == ["tensor<1x?x128xf32>"]
    for n in LENGTHS:
        ids = np.random.default_rng(n).integers(0, 128, (1, n)).astype(np.int64)
        expected = run_onnxruntime(model, {"input_ids": ids})
        assert_close(runner.call("main", ids), expected, atol=1e-4)


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_symbolic_batch_and_sequence_with_a_padding_mask(kind: str, tmp_path: Path):
    """Two symbols (batch, seq) and an attention mask with left padding: the masks' GatherND
    and the reshapes between [batch * seq, width] and [batch, seq, width] import too."""
    torch = _torch()
    from torch.export import Dim

    batch, seq = Dim("batch"), Dim("seq", max=32)
    path = tmp_path / f"{kind}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _hf_model(kind),
            (torch.tensor(_ids(0)), torch.ones(1, 8, dtype=torch.int64)),
            str(path),
            dynamo=True,
            input_names=["input_ids", "attention_mask"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            verbose=False,
        )
    model = onnx.load(str(path))

    module = import_onnx(model)
    runner = red.interpret(module)

    attrs = main_of(module).arg_attrs
    assert attrs is not None
    assert [str(a) for a in attrs.data] == ['{red.dims = ["batch", "seq"]}'] * 2
    for b, n in ((1, 1), (2, 7), (3, 32)):
        rng = np.random.default_rng(n)
        mask = np.ones((b, n), dtype=np.int64)
        mask[-1, : n // 2] = 0
        feeds = {"input_ids": rng.integers(0, 128, (b, n)).astype(np.int64), "attention_mask": mask}
        assert_close(runner.call("main", *feeds.values()), run_onnxruntime(model, feeds), atol=1e-4)


def _last_position(inner: Any) -> Any:
    torch = _torch()

    class LastPosition(torch.nn.Module):
        """The logits of the last position only."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any) -> Any:
            return self.inner(input_ids)[:, -1, :]

    return LastPosition().eval()


def test_gpt2_last_position_report_gives_the_saving_in_seq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The last position's logits of GPT-2 with a symbolic length: red-pipeline narrows the
    last layer and the LM head to one row, a saving the report gives in `seq` alone
    (test/tools/red-import-symbolic.mlir checks the same on a model without attention)."""
    model = _export_symbolic(_last_position(_hf_model("gpt2")), tmp_path / "gpt2.onnx")
    path = tmp_path / "gpt2.mlir"
    path.write_text(red.to_text(import_onnx(model)))

    code = red_opt.main([str(path), "-p", "red-pipeline", "--redundancy-report", "-o", "/dev/null"])
    report = capsys.readouterr().err

    assert code == 0, report
    saving = re.search(r"unused-rows .* saving (.*) FLOPs", report)
    assert saving is not None, report
    assert "seq" in saving[1]
    assert "?" not in saving[1], saving[1]


# endregion Models exported from PyTorch with a symbolic sequence
