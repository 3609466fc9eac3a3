"""Large constants as dense resources: the blob store keeps views (no copy, no hex), the
parser decodes blobs once and memory-maps external data, red-import's weights are blobs that
compute exactly what inline constants compute, and the printer's choices round-trip."""

from __future__ import annotations

import io
import mmap
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

import red
from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import (
    blob_store,
    dense_to_numpy,
    numpy_to_dense,
    numpy_to_resource,
    resource_blob,
    splat_value,
)
from red.dialects.red import ConstantOp
from red.dialects.xdsl_fixes import needs_raw_bytes
from red.frontends.mlir_text import (
    Resources,
    module_to_text,
    print_module,
    write_external_data,
)

MODEL = """
func.func @main(%x: tensor<2x32xf32>) -> tensor<2x64xf32> {
  %w = red.constant dense<1.0> : tensor<32x64xf32>
  %y = red.matmul %x, %w : tensor<2x32xf32>, tensor<32x64xf32> -> tensor<2x64xf32>
  func.return %y : tensor<2x64xf32>
}
"""


def weight_module(weight: np.ndarray) -> ModuleOp:
    """MODEL with `weight` as its constant (dense elements)."""
    module = red.parse(MODEL)
    (const,) = [op for op in module.walk() if isinstance(op, ConstantOp)]
    const.value = numpy_to_dense(weight)
    return module


def constants(module) -> list[ConstantOp]:
    return [op for op in module.walk() if isinstance(op, ConstantOp)]


def test_resource_is_a_view_of_the_array():
    array = np.random.default_rng(0).standard_normal((32, 64)).astype(np.float32)

    attr = numpy_to_resource(array, "w")

    view = dense_to_numpy(attr)
    assert np.shares_memory(view, array)
    assert not view.flags.writeable
    np.testing.assert_array_equal(view, array)


def test_lookup_reports_size_without_building_hex():
    attr = numpy_to_resource(np.zeros(1 << 20, np.float32), "big")

    hex_text = blob_store().lookup(attr.resource_handle.data)

    assert hex_text is not None
    assert len(hex_text) == 2 + 2 * (4 + (4 << 20))
    assert hex_text[:10] == "0x04000000"


def test_printed_blob_parses_to_a_view_of_one_buffer():
    weight = np.random.default_rng(1).standard_normal((32, 64)).astype(np.float32)
    text = module_to_text(weight_module(weight))

    module = red.parse(text)

    (const,) = constants(module)
    assert "dense_resource<w>" in text
    blob = resource_blob(const.value)  # type: ignore[arg-type]
    assert blob is not None
    array = dense_to_numpy(const.value)
    assert np.shares_memory(array, np.frombuffer(blob.data, np.uint8))
    np.testing.assert_array_equal(array, weight)


def test_external_data_is_memory_mapped(tmp_path: Path):
    weight = np.random.default_rng(2).standard_normal((32, 64)).astype(np.float32)
    buf, resources = io.StringIO(), Resources(external_file="m.weights")
    blobs = print_module(weight_module(weight), buf, resources=resources)
    with open(tmp_path / "m.weights", "wb") as f:
        write_external_data(blobs, f)

    module = red.parse(buf.getvalue(), str(tmp_path / "m.mlir"))

    (const,) = constants(module)
    blob = resource_blob(const.value)  # type: ignore[arg-type]
    assert blob is not None
    assert isinstance(blob.data.obj, mmap.mmap)
    np.testing.assert_array_equal(dense_to_numpy(const.value), weight)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            '"offset=8,length=16,alignment=4"',
            "resource 'w' needs bytes 8..24 of the data file, which holds 16",
            id="past-the-end",
        ),
        pytest.param(
            '"at 0"',
            "resource 'w' expects \"offset=N,length=N[,alignment=N]\"",
            id="malformed-entry",
        ),
    ],
)
def test_bad_external_entry_is_located(tmp_path: Path, entry: str, message: str):
    np.arange(4, dtype=np.float32).tofile(tmp_path / "four.weights")
    line = f'      file: "four.weights", w: {entry}'
    text = (
        "func.func @f() -> tensor<1xf32> {\n"
        "  %c = red.constant dense_resource<w> : tensor<1xf32>\n"
        "  func.return %c : tensor<1xf32>\n"
        "}\n"
        f"{{-#\n  external_resources: {{\n    red.external_data: {{\n{line}\n    }}\n  }}\n#-}}\n"
    )

    with pytest.raises(DiagnosticError) as err:
        red.parse(text, str(tmp_path / "f.mlir"))

    loc = err.value.location
    assert err.value.message == message
    assert (loc.line.data, loc.column.data) == (8, line.index(entry) + 1)  # type: ignore[union-attr]


def small_gpt_onnx(path: Path) -> Path:
    """A 2-layer GPT-2 (random, noised weights) exported to ONNX, or skip without torch."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        n_layer=2, n_embd=32, n_head=2, vocab_size=64, n_positions=16, bos_token_id=0,
        eos_token_id=0,
    )  # fmt: skip
    model = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, ids):
            return self.m(ids, use_cache=False).logits

    out = path / "gpt.onnx"
    with torch.no_grad():
        torch.onnx.export(Logits(), (torch.zeros(1, 8, dtype=torch.long),), str(out), dynamo=True)
    return out


def test_imported_resources_compute_what_inline_constants_compute(tmp_path: Path):
    from red.frontends.onnx import import_onnx

    path = small_gpt_onnx(tmp_path)
    ids = np.random.default_rng(3).integers(0, 64, (1, 8))

    with_blobs = import_onnx(path)
    inline = import_onnx(path, resource_threshold=None)

    blobs = [op for op in constants(with_blobs) if not hasattr(op.value, "data")]
    assert blobs, "no weight imported as a dense resource"
    assert all(hasattr(op.value, "data") for op in constants(inline))
    (want,) = red.interpret(inline).call("main", ids)
    (got,) = red.interpret(with_blobs).call("main", ids)
    np.testing.assert_array_equal(got, want)

    red.optimize(with_blobs)
    (optimized,) = red.interpret(with_blobs).call("main", ids)
    np.testing.assert_allclose(optimized, want, rtol=1e-4, atol=1e-5)
    text = module_to_text(with_blobs)
    (reparsed,) = red.interpret(red.parse(text)).call("main", ids)
    np.testing.assert_array_equal(reparsed, optimized)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([1.0, 2.0, 3.0], False, id="finite"),
        pytest.param([0.0, -0.0], True, id="signed-zeros"),
        pytest.param([1.0, float("nan")], True, id="nan"),
        pytest.param([2.0, 2.0], False, id="splat"),
    ],
)
def test_needs_raw_bytes(values: list[float], expected: bool):
    assert needs_raw_bytes(numpy_to_dense(np.array(values, np.float32))) is expected


def test_transposed_weight_converts_in_one_pass_exactly():
    weight = np.random.default_rng(4).standard_normal((300, 70)).astype(np.float32)

    attr = numpy_to_dense(weight.T)

    np.testing.assert_array_equal(dense_to_numpy(attr), weight.T)
    assert splat_value(weight.T) is None
    assert splat_value(np.broadcast_to(np.float32(2), (5, 6)).T) is not None


def tied_embedding_onnx(path: Path, extra_transpose_reader: bool, external: bool) -> Path:
    """ids -> Gather(W) -> MatMul(Transpose(W)): a tied embedding and LM head; without
    `extra_transpose_reader` the Gather reads a second weight, so only the Transpose reads W."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    # 1.2 MB each: over the emitter's max_fold_bytes, and read from the file lazily
    w = rng.standard_normal((600, 512)).astype(np.float32)
    other = rng.standard_normal((600, 512)).astype(np.float32)
    table = "W" if extra_transpose_reader else "E"
    nodes = [
        helper.make_node("Gather", [table, "ids"], ["h"], name="embed"),
        helper.make_node("Transpose", ["W"], ["wt"], perm=[1, 0], name="head_t"),
        helper.make_node("MatMul", ["h", "wt"], ["logits"], name="head"),
    ]
    graph = helper.make_graph(
        nodes,
        "tied",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 5])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 5, 600])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(other, "E")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    out = path / "tied.onnx"
    if external:
        onnx.save_model(
            model, str(out), save_as_external_data=True, location="tied.bin", size_threshold=0
        )
    else:
        onnx.save_model(model, str(out))
    return out


@pytest.mark.parametrize("external", [False, True], ids=["embedded", "external-file"])
def test_shared_weight_keeps_its_transpose_and_loads_lazily(tmp_path: Path, external: bool):
    from red.dialects.red import TransposeOp
    from red.frontends.onnx import import_onnx, load_model, weight_arrays

    path = tied_embedding_onnx(tmp_path, extra_transpose_reader=True, external=external)
    ids = np.random.default_rng(6).integers(0, 600, (1, 5))
    w, _ = weight_arrays(path)
    want = w[ids] @ w.T

    parsed, _ = load_model(path)
    module = import_onnx(path)

    weights = {t.name: t for t in parsed.graph.initializer}
    assert weights["W"].raw_data == b"", "W's bytes were parsed"
    assert weights["W"].external_data
    (transpose,) = [op for op in module.walk() if isinstance(op, TransposeOp)]
    assert isinstance(transpose.input.owner, ConstantOp)
    assert len(constants(module)) == 1, "the transpose of W folded into a second weight"
    (got,) = red.interpret(module).call("main", ids)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)  # BLAS's order of sums


def test_no_transpose_kept_for_a_weight_read_once(tmp_path: Path):
    from red.dialects.red import TransposeOp
    from red.frontends.onnx import import_onnx

    path = tied_embedding_onnx(tmp_path, extra_transpose_reader=False, external=False)

    module = import_onnx(path)

    assert not [op for op in module.walk() if isinstance(op, TransposeOp)]
    assert len(constants(module)) == 2  # E, and W transposed at import


def test_missing_external_data_is_a_load_error(tmp_path: Path):
    from red.frontends.onnx import OnnxLoadError, import_onnx

    path = tied_embedding_onnx(tmp_path, extra_transpose_reader=True, external=True)
    (tmp_path / "tied.bin").unlink()

    with pytest.raises(OnnxLoadError, match=r"could not load the external data of '.*tied.onnx'"):
        import_onnx(path)


def test_weights_as_args_match_weight_arrays_read_lazily(tmp_path: Path):
    from red.frontends.onnx import import_onnx, weight_arrays

    path = tied_embedding_onnx(tmp_path, extra_transpose_reader=True, external=False)
    ids = np.random.default_rng(7).integers(0, 600, (1, 5))

    module = import_onnx(path, weights_as_args=True)
    weights = weight_arrays(path)

    assert [w.shape for w in weights] == [(600, 512), (600, 512)]
    assert all(w.flags.writeable and w.flags.aligned for w in weights)
    (got,) = red.interpret(module).call("main", ids, *weights)
    (want,) = red.interpret(import_onnx(path)).call("main", ids)
    np.testing.assert_array_equal(got, want)
