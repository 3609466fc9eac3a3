"""incrementalize end to end in the interpreter: greedy loops around decoders (built with the
builder, and HF GPT-2 / Llama imported from PyTorch) give identical tokens and bit-identical
logits after the rewrite, at a fraction of the FLOPs; loops it cannot prove stay as they are
with a remark."""

from __future__ import annotations

import os

import numpy as np
import pytest
from decoder_models import bitwise_equal, decoder, generate_inputs, loops

import red
from red.dialects import red as r
from red.frontends import builder as rb
from red.frontends.generate import greedy
from red.transforms.incrementalize import INCREMENTAL_ATTR


@pytest.mark.parametrize(
    ("prompt_len", "new_tokens", "options"),
    [
        pytest.param(1, 5, {}, id="no-prefill"),
        pytest.param(4, 8, {}, id="select-mask"),
        pytest.param(6, 3, {"additive_mask": True}, id="additive-inf-mask"),
        pytest.param(3, 6, {"heads": 4, "kv_heads": 2}, id="grouped-query"),
        pytest.param(5, 5, {"layers": 1, "heads": 1}, id="one-head"),
    ],
)
def test_tokens_and_logits_are_unchanged(prompt_len: int, new_tokens: int, options: dict):
    module = greedy(decoder(prompt_len + new_tokens, **options), prompt_len, new_tokens, True)
    args = generate_inputs(module, prompt_len)
    tokens, logits = red.interpret(module).call("generate", *args)

    red.run_pipeline(
        module, "canonicalize,cse,incrementalize{narrow-prefill=false},canonicalize,cse,dce"
    )

    assert [INCREMENTAL_ATTR in loop.attributes for loop in loops(module)] == [True]
    got_tokens, got_logits = red.interpret(module).call("generate", *args)
    np.testing.assert_array_equal(got_tokens, tokens)
    assert bitwise_equal(got_logits, logits), np.abs(got_logits - logits).max()


@pytest.mark.parametrize(
    ("prompt_len", "new_tokens", "options"),
    [
        pytest.param(4, 8, {}, id="select-mask"),
        pytest.param(6, 3, {"additive_mask": True}, id="additive-inf-mask"),
        pytest.param(5, 4, {"heads": 4, "kv_heads": 2}, id="grouped-query"),
    ],
)
def test_narrow_prefill_attends_over_the_prompt_rows_only(
    prompt_len: int, new_tokens: int, options: dict
):
    """The default prefill's attention scores have P-1 columns (not the buffer's T); the
    tokens are the naive loop's and the logits equal up to the reassociated sums."""
    total = prompt_len + new_tokens
    module = greedy(decoder(total, **options), prompt_len, new_tokens, True)
    args = generate_inputs(module, prompt_len)
    tokens, logits = red.interpret(module).call("generate", *args)
    narrow, padded = module.clone(), module.clone()

    red.run_pipeline(narrow, "canonicalize,cse,incrementalize")
    red.run_pipeline(padded, "canonicalize,cse,incrementalize{narrow-prefill=false}")

    def prefill_softmax_shapes(m) -> list[list[int]]:
        (loop,) = loops(m)
        fn = loop.parent_op()
        return [
            r.shape_of(op.results[0]) for op in fn.body.block.ops if isinstance(op, r.SoftmaxOp)
        ]

    rows = prompt_len - 1
    assert {tuple(s[-2:]) for s in prefill_softmax_shapes(narrow)} == {(rows, rows)}
    assert {tuple(s[-2:]) for s in prefill_softmax_shapes(padded)} == {(rows, total)}
    assert (
        red.report(narrow)["functions"][-1]["before"]["flops"]
        < (red.report(padded)["functions"][-1]["before"]["flops"])
    )
    got_tokens, got_logits = red.interpret(narrow).call("generate", *args)
    np.testing.assert_array_equal(got_tokens, tokens)
    np.testing.assert_allclose(got_logits, logits, rtol=1e-5, atol=1e-5)


def test_state_is_the_keys_and_values_before_the_head_repeat():
    seq, kv_heads, hd = 9, 2, 4
    module = greedy(decoder(seq, heads=4, kv_heads=kv_heads, layers=1), 3, 6)
    red.run_pipeline(module, "canonicalize,cse,incrementalize")

    (loop,) = loops(module)
    states = [a.type for a in loop.body.block.args[2:]]
    # keys and values as projected (seq, kv_heads * hd), before the head split, the
    # transposes and the repeat to 4 heads (the layout ops redo on the state each step)
    assert [str(t) for t in states] == [f"tensor<{seq}x{kv_heads * hd}xf32>"] * 2


def test_report_counts_the_recomputed_prefix():
    module = greedy(decoder(16), 8, 8)

    report = red.report(module, "canonicalize,cse,incrementalize,canonicalize,cse,dce")

    generate = next(f for f in report["functions"] if f["name"] == "generate")
    (finding,) = [f for f in generate["findings"] if f["kind"] == "recomputed-prefix"]
    assert finding["flops_saved"] > 0.8 * generate["before"]["flops"]
    assert generate["after"]["flops"] * 4 < generate["before"]["flops"]
    assert "values carried as state" in finding["note"]
    assert "FLOPs per generated token" in finding["note"]


def test_red_pipeline_incrementalizes_and_stays_equal():
    module = greedy(decoder(12), 4, 8, return_logits=True)
    args = generate_inputs(module, 4, seed=3)
    tokens, logits = red.interpret(module).call("generate", *args)

    red.optimize(module)

    got_tokens, got_logits = red.interpret(module).call("generate", *args)
    np.testing.assert_array_equal(got_tokens, tokens)
    np.testing.assert_allclose(got_logits, logits, rtol=1e-5, atol=1e-5)
    assert any(INCREMENTAL_ATTR in loop.attributes for loop in loops(module))


def test_bidirectional_attention_is_left_alone_with_a_remark(capsys: pytest.CaptureFixture[str]):
    module = greedy(decoder(8), 4, 4)
    for op in list(module.walk()):  # drop the mask: every row sees every position
        if isinstance(op, r.SelectOp):
            op.results[0].replace_all_uses_with(op.true_value)
            op.detach()
            op.erase()
    before = red.to_text(module)

    red.run_pipeline(module, "incrementalize")

    assert red.to_text(module) == before
    err = capsys.readouterr().err
    assert "remark: incrementalize: decode loop left as is: attention reads later positions" in err


def test_greedy_rejects_a_model_without_all_logits():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    ids = f.arg((1, 6), "i64", name="ids")
    table = f.arg((8, 4), name="table")
    f.returns(rb.gather(table, ids.reshape(6))[5:6, :])
    module = mb.build()

    with pytest.raises(red.DiagnosticError, match="must return float logits for every position"):
        greedy(module, 2, 4)


# region HF models (PyTorch)


@pytest.fixture(scope="module")
def torch_modules():
    torch = pytest.importorskip("torch", reason="the HF models need the red[torch] extra")
    if os.environ.get("RED_CI") is None:
        pytest.importorskip("transformers", reason="the HF models need transformers")
    return torch


def hf_model(name: str):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if name == "gpt2":
        config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=32,
                            bos_token_id=0, eos_token_id=0)  # fmt: skip
        model = GPT2LMHeadModel(config)
    else:
        config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, vocab_size=128,
                             max_position_embeddings=64)  # fmt: skip
        model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


@pytest.mark.parametrize(
    "name", [pytest.param("gpt2", id="hf-gpt2"), pytest.param("llama", id="hf-llama")]
)
def test_hf_models_generate_the_tokens_of_hf_generate(torch_modules, name: str):
    import torch

    from red.frontends.torch_importer import import_torch

    class AllLogits(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, ids):
            return self.model(ids, use_cache=False).logits

    model, prompt_len, new_tokens = hf_model(name), 6, 10
    prompt = torch.randint(0, 128, (1, prompt_len))
    expected = model.generate(
        prompt, max_new_tokens=new_tokens, do_sample=False, use_cache=True, pad_token_id=0
    )
    total = prompt_len + new_tokens
    imported = import_torch(AllLogits(model), (torch.zeros(1, total, dtype=torch.long),))
    module = greedy(imported.module, prompt_len, new_tokens)
    args = [prompt.numpy().astype(np.int64), *(np.asarray(w) for w in imported.weights)]

    report = red.report(module)
    red.optimize(module)

    assert any(INCREMENTAL_ATTR in loop.attributes for loop in loops(module))
    (tokens,) = red.interpret(module).call("generate", *args)
    np.testing.assert_array_equal(tokens, expected.numpy())
    generate = next(f for f in report["functions"] if f["name"] == "generate")
    assert generate["after"]["flops_per_call"] * 5 < generate["before"]["flops"]


# endregion HF models (PyTorch)
