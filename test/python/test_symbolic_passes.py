"""Every pass on symbolic shapes (issue 12.2): HF GPT-2 (last position) and Llama exported
with a symbolic sequence and imported once, and small symbolic models for what those do not
contain (an invariant chain for memoize, a loop for loop-invariant-code-motion). Each pass
runs, the result verifies (dominance included), and the interpreter gives the same results
as before the pass at several lengths; where the pass has work to do, it did it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx", reason="the HF models come through the ONNX importer")
pytest.importorskip("onnxruntime", reason="the ONNX tests' helpers need onnxruntime")

from test_onnx_importer import _hf_model
from test_onnx_symbolic import _export_symbolic, _last_position
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp

import red
from red.dialects.red.dims import evaluate
from red.frontends.onnx import import_onnx
from red.transforms.analysis.cost_model import module_metrics

LENGTHS = (1, 7, 32)
EXACT = {"cse", "canonicalize", "dce", "narrow-to-uses", "memoize", "incrementalize",
         "loop-invariant-code-motion"}  # fmt: skip
"""Passes whose results are bit for bit those of the input (optimize-chains reassociates)."""


def op_counts(module: ModuleOp) -> Counter[str]:
    return Counter(o.name for o in module.walk())


def flops_at(module: ModuleOp, seq: int) -> int:
    return int(evaluate(module_metrics(module)["main"]["flops_per_call"], {"seq": seq}))  # type: ignore[arg-type]


def assert_same(got: Any, expected: Any, exact: bool) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        if exact:
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


# region HF models with a symbolic sequence


@pytest.fixture(scope="module")
def hf_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """MLIR text of GPT-2 returning the last position's logits, and of Llama returning every
    position's, each imported once with a symbolic `seq`."""
    out: dict[str, str] = {}
    folder: Path = tmp_path_factory.mktemp("symbolic")
    for kind, model in (("gpt2", _last_position(_hf_model("gpt2"))), ("llama", _hf_model("llama"))):
        onnx_model = _export_symbolic(model, folder / f"{kind}.onnx")
        out[kind] = red.to_text(import_onnx(onnx_model))
    return out


def _fewer_ops(before: ModuleOp, after: ModuleOp) -> None:
    assert sum(op_counts(after).values()) < sum(op_counts(before).values())


def _last_rows_only(before: ModuleOp, after: ModuleOp) -> None:
    """The LM head and the last layer's MLP run on one row: the FLOPs' seq term drops."""
    saved = [flops_at(before, n) - flops_at(after, n) for n in (8, 16)]
    assert saved[0] > 0
    assert saved[1] > saved[0]  # the saving grows with the length


EFFECTS: dict[tuple[str, str], Callable[[ModuleOp, ModuleOp], None]] = {
    ("gpt2", "cse"): _fewer_ops,
    ("gpt2", "canonicalize"): _fewer_ops,
    ("gpt2", "dce"): _fewer_ops,
    ("gpt2", "narrow-to-uses"): _last_rows_only,
    ("gpt2", "red-pipeline"): _last_rows_only,
    ("llama", "cse"): _fewer_ops,
    ("llama", "canonicalize"): _fewer_ops,
    ("llama", "dce"): _fewer_ops,
    ("llama", "red-pipeline"): _fewer_ops,
}
"""What each pass must have done on each model (the others only run and keep results)."""

PASSES = [
    "cse",
    "canonicalize",
    "dce",
    "narrow-to-uses",
    "optimize-chains",
    "memoize",
    "incrementalize",
    "loop-invariant-code-motion",
    "red-pipeline",
]


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
@pytest.mark.parametrize("name", PASSES)
def test_pass_keeps_results_at_every_length(hf_models: dict[str, str], kind: str, name: str):
    before, after = red.parse(hf_models[kind]), red.parse(hf_models[kind])
    inputs = [np.random.default_rng(n).integers(0, 128, (1, n)).astype(np.int64) for n in LENGTHS]
    expected = [red.interpret(before).call("main", ids) for ids in inputs]

    red.run_pipeline(after, name)

    red.verify(after)
    runner = red.interpret(after)
    for ids, want in zip(inputs, expected):
        assert_same(runner.call("main", ids), want, exact=name in EXACT)
    if (check := EFFECTS.get((kind, name))) is not None:
        check(before, after)


# endregion HF models with a symbolic sequence

# region Small symbolic models

WEIGHT_CHAIN = """
func.func @main(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x4096xf32> {red.invariant}, %b: tensor<4096x64xf32> {red.invariant}) -> tensor<?x64xf32> {
  %xa = red.matmul %x, %a : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
  %y = red.matmul %xa, %b : tensor<?x4096xf32>, tensor<4096x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}
"""

LOOP = """
func.func @main(%x: tensor<?x8xf32> {red.dims = ["seq", ""]}, %w: tensor<8x8xf32>) -> tensor<?x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %x) -> (tensor<?x8xf32>) {
    %h = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
    %t = red.tanh %h : tensor<?x8xf32>
    %n = red.add %acc, %t : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
    scf.yield %n : tensor<?x8xf32>
  }
  func.return %r : tensor<?x8xf32>
}
"""


def _chain_inputs(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(n)
    return [
        rng.standard_normal((n, 64)).astype(np.float32),
        (rng.standard_normal((64, 4096)) * 0.05).astype(np.float32),
        (rng.standard_normal((4096, 64)) * 0.05).astype(np.float32),
    ]


def test_memoize_caches_the_weight_product_of_a_size_dispatch():
    """After optimize-chains, the large-seq branch computes A·B from weights alone: memoize
    caches it inside the branch; calls at lengths on both sides of the threshold (33), and
    again with the memo warm, equal x·A·B."""
    module = red.parse(WEIGHT_CHAIN)

    red.run_pipeline(module, "optimize-chains,memoize")

    red.verify(module)
    memos = [o for o in module.walk() if o.name == "red.memo"]
    assert len(memos) == 1
    branch_owner = memos[0].parent_op()
    assert isinstance(branch_owner, scf.IfOp)
    runner = red.interpret(module)
    for n in (4, 100, 7, 33):
        x, a, b = _chain_inputs(n)
        for _ in range(2):  # the second call reads the cached A·B where a memo is taken
            (got,) = runner.call("main", x, a, b)
            np.testing.assert_allclose(got, (x @ a) @ b, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("length", [1, 5, 16])
def test_loop_invariant_code_motion_hoists_symbolic_work(length: int):
    before, after = red.parse(LOOP), red.parse(LOOP)
    rng = np.random.default_rng(length)
    x = rng.standard_normal((length, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    (expected,) = red.interpret(before).call("main", x, w)

    red.run_pipeline(after, "loop-invariant-code-motion")

    red.verify(after)
    loop = next(o for o in after.walk() if o.name == "scf.for")
    assert [o.name for o in loop.walk() if o.name.startswith("red.")] == ["red.add"]
    (got,) = red.interpret(after).call("main", x, w)
    np.testing.assert_array_equal(got, expected)


# endregion Small symbolic models
