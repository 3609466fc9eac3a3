"""`torch.compile(model, backend="red")`: training through AOTAutograd's forward and backward
graphs equals eager PyTorch step by step (the seed's LSTM classifier with SGD, an HF GPT-2
with AdamW), inference memos follow weight updates, and whatever red cannot run falls back
to eager with one warning naming the op, never an exception in the user's loop."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the dynamo backend needs the red[torch] extra")

from test_torch_importer import LSTMClassifier  # noqa: E402

from red.dialects.diagnostics import DiagnosticError  # noqa: E402
from red.frontends import torch_dynamo, torch_importer  # noqa: E402
from red.frontends.torch_dynamo import RedBackend, RedFallbackWarning  # noqa: E402
from red.frontends.torch_importer import import_graph  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each test starts with dynamo's caches empty and nn.LSTM traced (not a graph break)."""
    torch._dynamo.reset()
    with torch._dynamo.config.patch(allow_rnn=True):
        yield
    torch._dynamo.reset()


def SimplifiedLSTM(inputs: int = 32, hidden: int = 64, classes: int = 10):
    """The seed's example: nn.LSTM, then nn.Linear on the last step."""
    return LSTMClassifier(inputs, hidden, classes)


class LMLoss(torch.nn.Module):
    """A causal LM's next-token loss (the loss inside the compiled graph)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, labels):
        logits = self.model(ids, use_cache=False).logits
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)
        )


def gpt2_loss():
    if os.environ.get("RED_CI") is None:
        pytest.importorskip("transformers", reason="the GPT-2 model needs transformers")
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=32,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        bos_token_id=0, eos_token_id=0)  # fmt: skip
    return LMLoss(GPT2LMHeadModel(config))


def train_both(model, reference, backend, optimizer, lr, loss_of, steps):
    """The losses of `steps` training steps of `model` compiled with `backend` and of the
    eager `reference`, each with its own optimizer, interleaved step by step."""
    compiled = torch.compile(model, backend=backend, dynamic=False)
    runs = [(compiled, optimizer(model.parameters(), lr=lr), []),
            (reference, optimizer(reference.parameters(), lr=lr), [])]  # fmt: skip
    for _ in range(steps):
        for net, opt, losses in runs:
            loss = loss_of(net)
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
    return runs[0][2], runs[1][2]


def engines(backend: RedBackend) -> list[tuple[str, str]]:
    return [(g.kind, g.engine) for g in backend.graphs]


def test_lstm_sgd_training_equals_eager_at_every_step():
    """200 SGD steps from the same initial weights: the loss under backend="red" equals the
    eager loss within 1e-4 relative at every step; forward and backward both run in red."""
    torch.manual_seed(0)
    model = SimplifiedLSTM()
    reference = copy.deepcopy(model)
    backend = RedBackend()
    x, y = torch.randn(8, 4, 32), torch.randint(0, 10, (4,))

    def loss_of(net):
        return torch.nn.functional.cross_entropy(net(x), y)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RedFallbackWarning)
        losses, expected = train_both(model, reference, backend, torch.optim.SGD, 0.1, loss_of, 200)

    assert engines(backend) == [("forward", "red"), ("backward", "red")]
    np.testing.assert_allclose(losses, expected, rtol=1e-4)
    assert expected[-1] < 0.5 * expected[0]  # it trained


def test_gpt2_adamw_training_steps_equal_eager():
    """A GPT-2 training step (forward, backward, AdamW) under backend="red", three times:
    losses and updated weights equal eager's; the backward graph's report is kept."""
    torch.manual_seed(0)
    model = gpt2_loss()
    reference = copy.deepcopy(model)
    backend = RedBackend(report=True)
    ids = torch.randint(0, 128, (2, 16))

    losses, expected = train_both(
        model, reference, backend, torch.optim.AdamW, 1e-3, lambda net: net(ids, ids), 3
    )

    assert engines(backend) == [("forward", "red"), ("backward", "red")]
    np.testing.assert_allclose(losses, expected, rtol=1e-4)
    # AdamW's step is m / sqrt(v): on a weight whose gradient is near zero, last-bit gradient
    # differences (the kernel library sums in another order than ATen) move it by up to
    # ~lr * 1e-2 after 3 steps, so parameters are compared at 5e-5 (lr 1e-3) and the losses
    # at 1e-4 relative
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-3, atol=5e-5)
    backward = backend.graphs[1].report
    assert backward is not None
    assert backward["functions"][0]["name"] == "backward"


def test_parameters_are_invariant_arguments():
    """AOTAutograd's static inputs (the parameters) become red.invariant arguments of the
    forward graph; the input x does not."""
    torch.manual_seed(0)
    captured = {}

    def spy(gm, invariant, name, unroll_recurrences):
        captured[name] = import_graph(gm, invariant, name, unroll_recurrences)
        return captured[name]

    model = SimplifiedLSTM(8, 16, 4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch_dynamo, "import_graph", spy)
        torch.compile(model, backend=RedBackend(), dynamic=False)(torch.randn(3, 2, 8)).sum()

    fn = captured["forward"].module.body.block.first_op
    flags = ["red.invariant" in d.data for d in fn.arg_attrs.data]
    # dynamo's inputs: the LSTM's 4 parameters, x, the Linear's 2 parameters
    assert flags == [True, True, True, True, False, True, True]


def test_inference_memos_are_reset_when_weights_change():
    """Under no_grad, the inference graph caches weight-only work in red.memo; an in-place
    update of a weight (it bumps the version counter) resets the memos: outputs follow."""
    torch.manual_seed(0)
    model = SimplifiedLSTM(8, 16, 4).eval()
    backend = RedBackend()
    compiled = torch.compile(model, backend=backend, dynamic=False)
    x = torch.randn(5, 2, 8)

    with torch.no_grad():
        before = compiled(x)
        model.fc.weight.mul_(2.0)
        model.lstm.weight_hh_l0.add_(0.5)
        after = compiled(x)
        expected = model(x)

    assert engines(backend) == [("inference", "red")]
    memos = [op for op in backend.graphs[0].module.walk() if op.name == "red.memo"]
    assert memos, "the inference graph has weight-only work cached in red.memo"
    assert not torch.allclose(before, after)
    np.testing.assert_allclose(after.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_memo_reset_policy_sees_writes_through_data():
    """A write through `.data` bypasses the version counter: with memo="reset" the result
    still follows it."""
    torch.manual_seed(0)
    model = SimplifiedLSTM(8, 16, 4).eval()
    compiled = torch.compile(model, backend=RedBackend(memo="reset"), dynamic=False)
    x = torch.randn(5, 2, 8)

    with torch.no_grad():
        compiled(x)
        model.lstm.weight_ih_l0.data -= 0.25
        got = compiled(x)
        expected = model(x)

    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_unsupported_op_falls_back_to_eager_with_one_warning():
    class Flipped(torch.nn.Module):
        def forward(self, x):
            return torch.flip(x, [0]) * 2

    backend = RedBackend()
    compiled = torch.compile(Flipped(), backend=backend, dynamic=False)
    x = torch.randn(4, 3)

    with pytest.warns(RedFallbackWarning, match=r"cannot import 'aten\.flip\.default'"):
        got = compiled(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RedFallbackWarning)
        again = compiled(x + 1)

    assert engines(backend) == [("inference", "eager")]
    np.testing.assert_allclose(got.numpy(), (torch.flip(x, [0]) * 2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(again.numpy(), (torch.flip(x + 1, [0]) * 2).numpy(), rtol=1e-6)


def test_dropout_in_training_falls_back_naming_it():
    class Dropping(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x):
            return torch.nn.functional.dropout(self.fc(x), 0.5, training=True)

    backend = RedBackend()
    compiled = torch.compile(Dropping(), backend=backend, dynamic=False)

    with pytest.warns(RedFallbackWarning, match=r"aten\.native_dropout\.default.*random"):
        compiled(torch.randn(2, 4)).sum().backward()

    assert ("forward", "eager") in engines(backend)


def test_in_place_op_left_in_a_graph_is_named():
    """A graph dynamo could not functionalise (here traced without functionalization): the
    import names the in-place op, and the backend runs that graph eagerly."""
    from torch.fx.experimental.proxy_tensor import make_fx

    def step(x, y):
        x.add_(y)
        return x * 2

    gm = make_fx(step)(torch.randn(3), torch.randn(3))
    backend = RedBackend()

    with pytest.raises(DiagnosticError, match=r"in-place 'aten\.add_\.Tensor' \(node 'add_'\)"):
        import_graph(gm)
    with pytest.warns(RedFallbackWarning, match=r"in-place 'aten\.add_\.Tensor'"):
        run = backend.compile_graph("forward", gm, [], {"params": []})
    out = run([torch.ones(3), torch.full((3,), 2.0)])

    assert engines(backend) == [("forward", "eager")]
    np.testing.assert_allclose(out.numpy(), np.full(3, 6.0))


def test_new_shapes_recompile_with_static_shapes():
    """dynamic=False: a new batch size is a new dynamo graph, compiled by red again."""
    torch.manual_seed(0)
    model = SimplifiedLSTM(8, 16, 4).eval()
    backend = RedBackend()
    compiled = torch.compile(model, backend=backend, dynamic=False)

    with torch.no_grad():
        outs = [(compiled(x), model(x)) for x in (torch.randn(5, 2, 8), torch.randn(5, 3, 8))]

    assert engines(backend) == [("inference", "red"), ("inference", "red")]
    for got, expected in outs:
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_symbolic_shapes_run_eagerly_with_a_warning():
    model = torch.nn.Linear(4, 3)
    backend = RedBackend()
    compiled = torch.compile(model, backend=backend, dynamic=True)
    x = torch.randn(5, 4)

    with pytest.warns(RedFallbackWarning, match=r"symbolic sizes.*dynamic=False"):
        got = compiled(x)

    assert engines(backend) == [("dynamo", "eager")]
    np.testing.assert_allclose(got.detach().numpy(), model(x).detach().numpy(), rtol=1e-6)


def test_a_wrong_result_is_caught_on_the_first_call(monkeypatch):
    """verify (the default) compares the first call with the eager graph: a translation
    that computes the wrong thing (relu imported as sigmoid here) makes the graph run
    eagerly, with a warning naming the output."""
    monkeypatch.setitem(
        torch_importer._HANDLERS,
        "aten.relu.default",
        torch_importer._HANDLERS["aten.sigmoid.default"],
    )
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
    backend = RedBackend()
    compiled = torch.compile(model, backend=backend, dynamic=False)
    x = torch.randn(3, 4)

    with pytest.warns(RedFallbackWarning, match=r"output 0 \('relu'\) differs from eager"):
        with torch.no_grad():
            got = compiled(x)

    assert engines(backend) == [("inference", "eager")]
    with torch.no_grad():
        np.testing.assert_allclose(got.numpy(), model(x).numpy(), rtol=1e-6)


def test_registered_by_name_with_options():
    """register() (what the torch_dynamo_backends entry point does) makes backend="red"
    work; options reach the backend."""
    torch_dynamo.register()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x = torch.randn(3, 4)

    compiled = torch.compile(model, backend="red", dynamic=False, options={"memo": "reset"})
    got = compiled(x)
    got.sum().backward()

    shared = torch_dynamo.backend_for(memo="reset")
    assert engines(shared)[-2:] == [("forward", "red"), ("backward", "red")]
    np.testing.assert_allclose(got.detach().numpy(), model(x).detach().numpy(), rtol=1e-5)


def test_entry_point_registers_red_in_a_fresh_process():
    """The installed `torch_dynamo_backends` entry point alone (no register() call, no
    import of red) makes backend="red" resolve, as it does for a user's script."""
    script = (
        "import torch\n"
        "from torch._dynamo.backends.registry import lookup_backend\n"
        "print(lookup_backend('red').__module__)\n"
        "f = torch.compile(lambda x: torch.tanh(x) * 2, backend='red')\n"
        "x = torch.randn(5)\n"
        "print(bool(torch.allclose(f(x), torch.tanh(x) * 2)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["red.frontends.torch_dynamo", "True"]
