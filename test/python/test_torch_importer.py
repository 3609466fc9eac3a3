"""The PyTorch frontend end to end: torch.export -> red -> red-pipeline -> red-lower -> JIT
reproduces PyTorch's outputs (rtol 1e-4) for an nn.Linear, the classic LSTM classifier and
HF GPT-2 and Llama built from small configs with random (noised) weights."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch frontend needs the red[torch] extra")
if os.environ.get("RED_CI") is None:
    pytest.importorskip("transformers", reason="the HF models need transformers")

from xdsl.dialects import func  # noqa: E402

import red  # noqa: E402
from red.dialects.diagnostics import DiagnosticError  # noqa: E402
from red.frontends.torch_importer import import_torch  # noqa: E402


class LSTMClassifier(torch.nn.Module):
    """nn.LSTM + nn.Linear on lstm_out[-1]."""

    def __init__(self, inputs: int = 16, hidden: int = 32, classes: int = 5):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden)
        self.fc = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[-1])


class LastLogits(torch.nn.Module):
    """A causal LM as generation code uses it: the logits of the last position."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=False).logits[:, -1, :]


def noised(model):
    """HF initializes biases to 0 and norm weights to 1: noise keeps them from looking
    removable."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=32,
                        bos_token_id=0, eos_token_id=0)  # fmt: skip
    return LastLogits(noised(GPT2LMHeadModel(config)))


def llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, vocab_size=128,
                         max_position_embeddings=64)  # fmt: skip
    return LastLogits(noised(LlamaForCausalLM(config)))


def linear():
    return torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))


CASES = [
    pytest.param(linear, lambda: (torch.randn(3, 16),), id="linear-relu-linear"),
    pytest.param(LSTMClassifier, lambda: (torch.randn(8, 1, 16),), id="lstm-classifier"),
    pytest.param(gpt2, lambda: (torch.randint(0, 128, (1, 8)),), id="hf-gpt2"),
    pytest.param(llama, lambda: (torch.randint(0, 128, (1, 8)),), id="hf-llama"),
]


@pytest.mark.parametrize(("make_model", "make_inputs"), CASES)
def test_import_optimize_lower_jit_matches_pytorch(make_model, make_inputs):
    """TODO(issue 10): JIT-compile the LSTM's loop form once scf.for over tensors lowers
    (unrolled here; the loop form is checked in the interpreter)."""
    torch.manual_seed(0)
    model, inputs = make_model().eval(), make_inputs()
    with torch.no_grad():
        expected = model(*inputs).numpy()
    imported = import_torch(model, inputs, unroll_recurrences=True)
    args = [t.numpy() for t in inputs] + imported.weights

    red.optimize(imported.module)
    got = red.compile(imported.module).main.call(*args)[0]

    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("make_model", "make_inputs"), CASES)
def test_interpreter_matches_pytorch_before_optimization(make_model, make_inputs):
    torch.manual_seed(1)
    model, inputs = make_model().eval(), make_inputs()
    with torch.no_grad():
        expected = model(*inputs).numpy()

    imported = import_torch(model, inputs)
    got = red.interpret(imported.module).call(
        "main", *[t.numpy() for t in inputs], *imported.weights
    )[0]

    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


class LSTMStates(torch.nn.Module):
    """nn.LSTM returning its output sequence and final states, from given initial states."""

    def __init__(self, **options):
        super().__init__()
        self.lstm = torch.nn.LSTM(6, 5, **options)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


@pytest.mark.parametrize(
    "unroll", [pytest.param(False, id="loop"), pytest.param(True, id="unrolled")]
)
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="one-layer"),
        pytest.param({"batch_first": True}, id="batch-first"),
        pytest.param({"bidirectional": True}, id="bidirectional"),
        pytest.param({"num_layers": 2, "bias": False}, id="two-layers-no-bias"),
        pytest.param({"num_layers": 2, "bidirectional": True}, id="two-layers-bidirectional"),
    ],
)
def test_lstm_as_loop_or_unrolled_matches_pytorch(options: dict, unroll: bool):
    """aten.lstm imports as an scf.for per layer and direction (or unrolled): the output
    sequence and both final states equal PyTorch's."""
    torch.manual_seed(2)
    model = LSTMStates(**options).eval()
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    x = torch.randn(3, 4, 6) if options.get("batch_first") else torch.randn(4, 3, 6)
    h0, c0 = torch.randn(layers, 3, 5), torch.randn(layers, 3, 5)
    with torch.no_grad():
        expected = [t.numpy() for t in model(x, h0, c0)]

    imported = import_torch(model, (x, h0, c0), unroll_recurrences=unroll)
    got = red.interpret(imported.module).call(
        "main", x.numpy(), h0.numpy(), c0.numpy(), *imported.weights
    )

    loops = [op for op in imported.module.walk() if op.name == "scf.for"]
    assert len(loops) == (0 if unroll else layers)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_lstm_op_count_does_not_grow_with_the_sequence():
    """The classifier over 16 and 128 steps imports to the same ops (one scf.for); the zero
    initial state makes the first step a peeled copy without recurrent terms."""
    torch.manual_seed(0)
    model = LSTMClassifier()
    x = torch.randn(128, 1, 16)
    with torch.no_grad():
        expected = model(x).numpy()

    short = import_torch(model, (torch.randn(16, 1, 16),))
    long = import_torch(model, (x,))
    got = red.interpret(long.module).call("main", x.numpy(), *long.weights)[0]

    def count(module):
        return len([op for op in module.walk() if op.name.startswith(("red.", "scf."))])

    assert count(short.module) == count(long.module)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_arguments_are_user_inputs_then_weights_in_signature_order():
    torch.manual_seed(0)
    model = LSTMClassifier()

    imported = import_torch(model, (torch.randn(8, 1, 16),))

    fn = imported.module.body.block.first_op
    assert isinstance(fn, func.FuncOp)
    assert fn.arg_attrs is not None
    attrs = [("red.invariant" in d.data) for d in fn.arg_attrs.data]
    assert attrs == [False] + [True] * len(imported.weights)
    assert imported.weight_names == [name for name, _ in model.named_parameters()]


def test_ops_are_located_at_the_model_source():
    torch.manual_seed(0)

    imported = import_torch(LSTMClassifier(), (torch.randn(4, 1, 16),))

    locations = {str(op.location) for op in imported.module.walk() if op.name.startswith("red.")}
    assert any("test_torch_importer.py" in loc or "torch/nn/modules" in loc for loc in locations)


def test_llm_head_only_for_the_last_position_after_red_pipeline():
    torch.manual_seed(0)
    model, ids = gpt2(), torch.randint(0, 128, (1, 8))
    imported = import_torch(model, (ids,))

    report = red.report(imported.module)

    main = report["functions"][0]
    head = 2 * 8 * 64 * 128  # logits for all 8 positions
    assert main["before"]["flops"] - main["after"]["flops_per_call"] >= head - head // 8


def test_unsupported_op_is_a_located_error():
    class Flipped(torch.nn.Module):
        def forward(self, x):
            return torch.flip(x, [0])

    with pytest.raises(DiagnosticError, match=r"cannot import 'aten.flip.default' \(node 'flip'\)"):
        import_torch(Flipped(), (torch.randn(4),))


def test_views_that_keep_the_shape_emit_nothing():
    class Views(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x.reshape(2, 3).expand(2, 3))

    imported = import_torch(Views(), (torch.randn(2, 3),))

    assert [op.name for op in imported.module.walk() if op.name.startswith("red.")] == ["red.relu"]


def test_a_constant_tensor_is_materialized_once():
    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.tensor([1.0, 2.0, 3.0])  # a plain attribute: a lifted constant

        def forward(self, x):
            return x * self.c + self.c

    x = torch.randn(2, 3)

    imported = import_torch(Shared(), (x,))
    got = red.interpret(imported.module).call("main", x.numpy())[0]

    ops = [op.name for op in imported.module.walk() if op.name.startswith("red.")]
    assert ops == ["red.constant", "red.mul", "red.add"]
    np.testing.assert_allclose(got, (x * Shared().c + Shared().c).numpy(), rtol=1e-6)


class Fn(torch.nn.Module):
    """A module around a function of the inputs (one case of the ATen translations)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _ids(*shape, high, negative=False):
    """Random indices into an axis of size `high` (negative ones count from its end)."""
    return torch.randint(-high if negative else 0, high, shape)


ATEN_CASES = [
    pytest.param(lambda x, i: torch.gather(x, 1, i), lambda: (torch.randn(4, 6), _ids(4, 3, high=6)), id="gather-dim1"),
    pytest.param(lambda x, i: torch.gather(x, 0, i), lambda: (torch.randn(4, 6), _ids(2, 6, high=4)), id="gather-dim0"),
    pytest.param(lambda x, i: x.scatter(1, i, -1.0), lambda: (torch.randn(4, 6), _ids(4, 1, high=6)), id="scatter-one-index"),
    pytest.param(lambda x, i: x.scatter(1, i, 2.5), lambda: (torch.randn(4, 6), torch.tensor([[0, 5], [1, 1], [2, 3], [4, 0]])), id="scatter-two-indices"),
    pytest.param(lambda t, i, v: t.index_put((i,), v, accumulate=True), lambda: (torch.randn(8, 3), torch.tensor([1, 5, 1, -1, 0]), torch.randn(5, 3)), id="index-put-accumulate"),
    pytest.param(lambda x, i, j: x[i, j], lambda: (torch.randn(5, 6, 2), _ids(3, high=5, negative=True), _ids(3, high=6)), id="index-two-tensors"),
    pytest.param(lambda x, i: x[:, i], lambda: (torch.randn(5, 6), _ids(2, 2, high=6, negative=True)), id="index-second-axis"),
    pytest.param(lambda x: torch.log_softmax(x * 30, -1), lambda: (torch.randn(3, 7),), id="log-softmax-large-logits"),
    pytest.param(lambda x, w, b: torch.ops.aten.native_layer_norm(x, [4], w, b, 1e-5), lambda: (torch.randn(2, 3, 4), torch.randn(4), torch.randn(4)), id="layer-norm-statistics"),
    pytest.param(lambda x: x.clamp(-0.5, 0.25), lambda: (torch.randn(3, 5),), id="clamp"),
    pytest.param(lambda x: (~(x > 0)).to(torch.float32), lambda: (torch.randn(3, 5),), id="bitwise-not-mask"),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "make_inputs"), ATEN_CASES)
def test_aten_translation_matches_pytorch(fn, make_inputs):
    """Each translation training graphs need, against PyTorch, with run-time indices
    (negative ones included where torch allows them)."""
    torch.manual_seed(3)
    inputs = make_inputs()
    with torch.no_grad():
        expected = fn(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)

    imported = import_torch(Fn(fn), inputs)
    got = red.interpret(imported.module).call("main", *[t.numpy() for t in inputs])

    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)
