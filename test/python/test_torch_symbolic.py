"""`import_torch(..., dynamic_shapes=...)` of HF GPT-2 and Llama (small configs, noised random
weights) with a symbolic sequence length: the sizes only known at run time (HF's position ids
and causal mask: arange over the length, slices and prefix sums of it, advanced indexing, views
of several symbolic dims) import as red ops, so the module is imported once, keeps `seq` on its
input and output, and the interpreter matches eager PyTorch at every length; what red still
cannot express over a symbolic size stays a located error."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch frontend needs the red[torch] extra")
if os.environ.get("RED_CI") is None:
    pytest.importorskip("transformers", reason="the HF models need transformers")

from xdsl.dialects import func  # noqa: E402

import red  # noqa: E402
from red.dialects.red.dims import Poly  # noqa: E402
from red.dialects.symbolic_shapes import function_shapes  # noqa: E402
from red.frontends.torch_importer import import_torch  # noqa: E402

VOCAB = 500
LENGTHS = (1, 5, 16)
SEQ = Poly.symbol("seq")


class Logits(torch.nn.Module):
    """A causal LM's logits: every position, or the last one only (`logits[:, -1:]`)."""

    def __init__(self, model: Any, last: bool):
        super().__init__()
        self.model = model
        self.last = last

    def forward(self, ids: Any) -> Any:
        logits = self.model(ids, use_cache=False).logits
        return logits[:, -1:] if self.last else logits


def hf_model(kind: str) -> Any:
    """GPT-2 or Llama of 2 layers, 64 wide, 4 heads (Llama: 2 KV heads), noised weights."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "gpt2":
        config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=VOCAB,
                            bos_token_id=0, eos_token_id=0)  # fmt: skip
        model = GPT2LMHeadModel(config)
    else:
        config = LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, intermediate_size=128, vocab_size=VOCAB,
                             bos_token_id=0, eos_token_id=0)  # fmt: skip
        model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def main_of(module: Any) -> func.FuncOp:
    return next(op for op in module.body.ops if isinstance(op, func.FuncOp))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("last", [False, True], ids=["all-positions", "last-position"])
@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_hf_decoder_imported_once_matches_eager_at_every_length(kind: str, last: bool):
    model = Logits(hf_model(kind), last)
    seq = torch.export.Dim("seq", min=1, max=64)
    example = torch.randint(0, VOCAB, (1, 8), generator=torch.Generator().manual_seed(0))

    imported = import_torch(model, (example,), dynamic_shapes=({1: seq},))

    imported.module.verify()
    fn = main_of(imported.module)
    assert str(fn.function_type.inputs.data[0]) == "tensor<1x?xi64>"
    assert fn.arg_attrs is not None
    assert str(fn.arg_attrs.data[0]) == '{red.dims = ["", "seq"]}'
    (returned,) = fn.body.block.last_op.operands  # type: ignore[union-attr]
    assert function_shapes(fn).of(returned) == (1, 1 if last else SEQ, VOCAB)
    runner = red.interpret(imported.module)
    for n in LENGTHS:
        ids = torch.randint(0, VOCAB, (1, n), generator=torch.Generator().manual_seed(n))
        (got,) = runner.call("main", ids.numpy(), *imported.weights)
        with torch.no_grad():
            want = model(ids).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore")
def test_arange_over_a_symbolic_size_runs_at_every_length():
    """x + arange(len(x)) as a column: the positions are a loop over the run-time length."""

    class Positions(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return x + torch.arange(x.shape[0], dtype=x.dtype)[:, None]

    seq = torch.export.Dim("seq", max=64)
    imported = import_torch(Positions(), (torch.randn(3, 4),), dynamic_shapes={"x": {0: seq}})
    runner = red.interpret(imported.module)

    for n in LENGTHS:
        x = np.random.default_rng(n).standard_normal((n, 4)).astype(np.float32)
        (got,) = runner.call("main", x)
        np.testing.assert_array_equal(got, x + np.arange(n, dtype=np.float32)[:, None])


@pytest.mark.filterwarnings("ignore")
def test_cumsum_along_a_symbolic_axis_matches_torch():
    class Prefix(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.cumsum(x, dim=1) + torch.cumsum(x > 0, dim=0)

    seq = torch.export.Dim("seq", max=64)
    imported = import_torch(Prefix(), (torch.randn(2, 6),), dynamic_shapes={"x": {1: seq}})
    runner = red.interpret(imported.module)

    for n in LENGTHS:
        x = torch.randn(2, n, generator=torch.Generator().manual_seed(n))
        (got,) = runner.call("main", x.numpy())
        np.testing.assert_allclose(got, Prefix()(x).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore")
def test_unsupported_symbolic_construct_is_a_located_error():
    """torch.gather over a symbolic length needs the coordinates of every element at import
    time: the error names the node, the op and the symbolic size, at the model's line."""

    class Take(torch.nn.Module):
        def forward(self, x: Any, index: Any) -> Any:
            return torch.gather(x, 1, index)

    seq = torch.export.Dim("seq", max=64)
    x, index = torch.randn(3, 5), torch.zeros(3, 5, dtype=torch.int64)

    with pytest.raises(red.DiagnosticError) as err:
        import_torch(Take(), (x, index), dynamic_shapes=({1: seq}, {1: seq}))

    message = str(err.value)
    assert "test_torch_symbolic.py:" in message
    assert "error: cannot import 'aten.gather.default' (node 'gather') with the symbolic sizes" in (
        message
    )
    assert "export with static shapes (no dynamic_shapes)" in message
