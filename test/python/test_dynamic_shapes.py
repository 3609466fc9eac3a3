"""Dynamic shapes in the passes and the interpreter: symbolic shapes and costs, one row at a
run-time index (the last position of a sequence of unknown length), and the matmul order
chosen at run time by the length a call brings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.interpreter import Interpreter
from xdsl.ir import Operation

import red
from red.dialects import red as r
from red.dialects.red.dims import Poly, format_dim, parse_assumptions
from red.dialects.red_interpreter import ModuleRunner
from red.dialects.symbolic_shapes import SymbolicShapes
from red.transforms.analysis.redundancy_report import render_report

CHAIN = """
func.func @main(%x: tensor<?x64xf32> {red.dims = ["seq", ""]}, %a: tensor<64x4096xf32>, %b: tensor<4096x64xf32>) -> tensor<?x64xf32> {
  %xa = red.matmul %x, %a : tensor<?x64xf32>, tensor<64x4096xf32> -> tensor<?x4096xf32>
  %y = red.matmul %xa, %b : tensor<?x4096xf32>, tensor<4096x64xf32> -> tensor<?x64xf32>
  func.return %y : tensor<?x64xf32>
}
"""

LAST_ROW = """
func.func @main(%ids: tensor<1x?xi64> {red.dims = ["", "seq"]}, %wte: tensor<50x8xf32> {red.invariant}, %w: tensor<8x8xf32>) -> tensor<1x50xf32> {
  %r = red.reshape %ids : tensor<1x?xi64> -> tensor<?xi64>
  %x = red.gather %wte, %r axis = 0 : tensor<50x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %h = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %t = red.transpose %wte [1, 0] : tensor<50x8xf32> -> tensor<8x50xf32>
  %l = red.matmul %h, %t : tensor<?x8xf32>, tensor<8x50xf32> -> tensor<?x50xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = tensor.dim %l, %c0 : tensor<?x50xf32>
  %sm1 = arith.subi %s, %c1 : index
  %last = red.dynamic_slice %l [%sm1, %c0] sizes = [1, 50] : (tensor<?x50xf32>, index, index) -> tensor<1x50xf32>
  func.return %last : tensor<1x50xf32>
}
"""


class MatmulShapes(Interpreter.Listener):
    """Records the operand shapes of every red.matmul the interpreter runs."""

    def __init__(self) -> None:
        self.shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def will_interpret_op(self, op: Operation, args: tuple) -> None:
        if isinstance(op, r.MatmulOp):
            self.shapes.append((np.shape(args[0]), np.shape(args[1])))

    def did_interpret_op(self, op: Operation, results: tuple) -> None:
        pass


@pytest.mark.parametrize(
    ("length", "first_product"),
    [
        pytest.param(4, ((4, 64), (64, 4096)), id="short-x-times-a-first"),
        pytest.param(32, ((32, 64), (64, 4096)), id="threshold-minus-one"),
        pytest.param(33, ((64, 4096), (4096, 64)), id="threshold-a-times-b-first"),
        pytest.param(100, ((64, 4096), (4096, 64)), id="long-a-times-b-first"),
    ],
)
def test_each_order_is_taken_at_its_lengths(length: int, first_product: tuple):
    module = red.parse(CHAIN)
    red.run_pipeline(module, "optimize-chains")
    rng = np.random.default_rng(length)
    x = rng.standard_normal((length, 64)).astype(np.float32)
    a = (rng.standard_normal((64, 4096)) * 0.05).astype(np.float32)
    b = (rng.standard_normal((4096, 64)) * 0.05).astype(np.float32)
    listener = MatmulShapes()

    (got,) = ModuleRunner(module, [listener]).call("main", x, a, b)

    assert listener.shapes[0] == first_product
    np.testing.assert_allclose(got, (x @ a) @ b, rtol=1e-3, atol=1e-3)


THREE_ORDERS = """
func.func @main(%x: tensor<?x16xf32> {red.dims = ["seq", ""]}, %a: tensor<16x256xf32>, %b: tensor<256x32xf32>, %c: tensor<32x512xf32>) -> tensor<?x512xf32> {
  %xa = red.matmul %x, %a : tensor<?x16xf32>, tensor<16x256xf32> -> tensor<?x256xf32>
  %xb = red.matmul %xa, %b : tensor<?x256xf32>, tensor<256x32xf32> -> tensor<?x32xf32>
  %y = red.matmul %xb, %c : tensor<?x32xf32>, tensor<32x512xf32> -> tensor<?x512xf32>
  func.return %y : tensor<?x512xf32>
}
"""


@pytest.mark.parametrize(
    ("length", "products"),
    [
        pytest.param(
            1,
            [((1, 16), (16, 256)), ((1, 256), (256, 32)), ((1, 32), (32, 512))],
            id="1-left-to-right",
        ),
        pytest.param(
            11,
            [((11, 16), (16, 256)), ((11, 256), (256, 32)), ((11, 32), (32, 512))],
            id="11-left-to-right",
        ),
        pytest.param(
            12,
            [((16, 256), (256, 32)), ((12, 16), (16, 32)), ((12, 32), (32, 512))],
            id="12-x-times-ab-first",
        ),
        pytest.param(
            30,
            [((16, 256), (256, 32)), ((30, 16), (16, 32)), ((30, 32), (32, 512))],
            id="30-x-times-ab-first",
        ),
        pytest.param(
            31,
            [((16, 256), (256, 32)), ((16, 32), (32, 512)), ((31, 16), (16, 512))],
            id="31-x-last",
        ),
        pytest.param(
            128,
            [((16, 256), (256, 32)), ((16, 32), (32, 512)), ((128, 16), (16, 512))],
            id="128-x-last",
        ),
    ],
)
def test_three_orders_each_taken_and_exact(length: int, products: list):
    module = red.parse(THREE_ORDERS)
    red.run_pipeline(module, "optimize-chains")
    rng = np.random.default_rng(length)
    x = rng.standard_normal((length, 16)).astype(np.float32)
    a, b, c = (
        (rng.standard_normal(shape) * 0.1).astype(np.float32)
        for shape in ((16, 256), (256, 32), (32, 512))
    )
    listener = MatmulShapes()

    (got,) = ModuleRunner(module, [listener]).call("main", x, a, b, c)

    assert listener.shapes == products
    expected = ((x.astype(np.float64) @ a) @ b) @ c
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_symbolic_shapes_follow_the_row_facts():
    module = red.parse(LAST_ROW)
    fn = next(o for o in module.body.ops if isinstance(o, func.FuncOp))

    shapes = SymbolicShapes(fn)

    seq = Poly.symbol("seq")
    by_name = {
        r0.name_hint: shapes.of(r0) if r0 in shapes.shapes else shapes.scalar(r0)
        for op in fn.walk()
        for r0 in op.results
        if r0.name_hint
    }
    assert by_name["x"] == (seq, 8)
    assert by_name["l"] == (seq, 50)
    offset = by_name["sm1"]
    assert isinstance(offset, Poly)
    assert format_dim(offset) == "seq - 1"


def test_costs_are_polynomials_and_narrowing_removes_the_seq_term():
    module = red.parse(LAST_ROW)

    report = red.report(module)

    main = report["functions"][0]
    assert format_dim(main["before"]["flops"]) == "928*seq + 1"
    assert main["after"]["flops"] == 929  # one row, whatever the length
    text = render_report([report], "json", parse_assumptions("seq=128"))
    assert '"flops": 118785' in text
    assert '"flops_symbolic": "928*seq + 1"' in text


@pytest.mark.parametrize("length", [1, 7, 32])
def test_narrowed_last_row_is_exact_at_every_length(length: int):
    original, optimized = red.parse(LAST_ROW), red.parse(LAST_ROW)
    red.optimize(optimized)
    rng = np.random.default_rng(length)
    ids = rng.integers(0, 50, size=(1, length)).astype(np.int64)
    wte, w = (
        rng.standard_normal((50, 8)).astype(np.float32),
        rng.standard_normal((8, 8)).astype(np.float32),
    )

    (expected,) = red.interpret(original).call("main", ids, wte, w)
    (got,) = red.interpret(optimized).call("main", ids, wte, w)

    np.testing.assert_array_equal(got, expected)
    assert not any(
        isinstance(op, r.MatmulOp) and r.DYNAMIC in r.shape_of(op.result) for op in optimized.walk()
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("seq=128,batch=x", "expected NAME=SIZE, got 'batch=x'", id="not-a-number"),
        pytest.param("=3", "expected NAME=SIZE, got '=3'", id="no-name"),
    ],
)
def test_bad_assumptions_are_named(text: str, error: str):
    with pytest.raises(ValueError, match=error):
        parse_assumptions(text)


TWO_SEQ = """
func.func @main(%a: tensor<?x4xf32> {red.dims = ["seq", ""]}, %b: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x4xf32> {
  %s = red.add %a, %b : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %s : tensor<?x4xf32>
}
"""


def test_a_call_that_breaks_a_symbol_equality_is_refused():
    runner = red.interpret(red.parse(TWO_SEQ))
    a = np.ones((3, 4), np.float32)
    (same,) = runner.call("main", a, a)
    np.testing.assert_array_equal(same, 2 * a)

    with pytest.raises(red.DiagnosticError) as err:
        runner.call("main", a, np.ones((5, 4), np.float32))
    assert (
        "argument #1 (%b) of '@main': dim 0 is 'seq' = 5, but argument #0 (%a) gave 'seq' = 3"
        in str(err.value)
    )


# region PyTorch: import_torch(..., dynamic_shapes=...)


def _torch_dim(name: str) -> tuple[Any, Any]:
    torch = pytest.importorskip("torch", reason="the PyTorch frontend needs torch")
    from torch.export import Dim

    return torch, Dim(name, max=64)


class _Encoder:
    """A torch TransformerEncoderLayer (attention, layer norms, MLP) with noisy weights."""

    @staticmethod
    def build() -> Any:
        torch = pytest.importorskip("torch", reason="the PyTorch frontend needs torch")
        torch.manual_seed(0)
        layer = torch.nn.TransformerEncoderLayer(
            d_model=16, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0
        ).eval()
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        return layer


@pytest.mark.filterwarnings("ignore")
def test_torch_dynamic_shapes_name_the_dims_and_run_at_every_length():
    torch, seq = _torch_dim("seq")
    from red.frontends.torch_importer import import_torch

    layer = _Encoder.build()
    imported = import_torch(layer, (torch.randn(1, 5, 16),), dynamic_shapes={"src": {1: seq}})

    fn = next(o for o in imported.module.body.ops if isinstance(o, func.FuncOp))
    assert str(fn.function_type.inputs.data[0]) == "tensor<1x?x16xf32>"
    assert fn.arg_attrs is not None
    assert str(fn.arg_attrs.data[0]) == '{red.dims = ["", "seq", ""]}'
    runner = red.interpret(imported.module)
    for n in (1, 7, 32):
        x = torch.randn(1, n, 16, generator=torch.Generator().manual_seed(n))
        (got,) = runner.call("main", x.numpy(), *imported.weights)
        with torch.no_grad():
            np.testing.assert_allclose(got, layer(x).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore")
def test_torch_static_import_has_no_symbolic_dims():
    torch, _ = _torch_dim("seq")
    from red.frontends.torch_importer import import_torch

    imported = import_torch(_Encoder.build(), (torch.randn(1, 5, 16),))

    fn = next(o for o in imported.module.body.ops if isinstance(o, func.FuncOp))
    assert str(fn.function_type.inputs.data[0]) == "tensor<1x5x16xf32>"
    assert fn.arg_attrs is not None
    assert "red.dims" not in str(fn.arg_attrs.data[0])


class _Pair:
    """x + y, both of `seq` rows (one torch.export Dim for both)."""

    @staticmethod
    def build() -> Any:
        torch = pytest.importorskip("torch", reason="the PyTorch frontend needs torch")

        class Pair(torch.nn.Module):
            def forward(self, x: Any, y: Any) -> Any:
                return torch.tanh(x) + y

        return Pair()


@pytest.mark.filterwarnings("ignore")
def test_torch_shared_dim_is_one_symbol_checked_at_call():
    torch, seq = _torch_dim("seq")
    from red.frontends.torch_importer import import_torch

    pair = torch.randn(3, 4), torch.randn(3, 4)
    imported = import_torch(_Pair.build(), pair, dynamic_shapes=({0: seq}, {0: seq}))
    runner = red.interpret(imported.module)

    (same,) = runner.call("main", np.ones((6, 4), np.float32), np.ones((6, 4), np.float32))
    assert same.shape == (6, 4)
    with pytest.raises(
        red.DiagnosticError, match=r"dim 0 is 'seq' = 5, but argument #0 .* 'seq' = 6"
    ):
        runner.call("main", np.ones((6, 4), np.float32), np.ones((5, 4), np.float32))


@pytest.mark.filterwarnings("ignore")
def test_torch_computation_on_a_symbolic_size_is_a_located_error():
    """What red cannot express over a run-time size (a torch.gather along the symbolic axis)
    is a located import error naming the op and the symbol (arange over it imports: see
    test_torch_symbolic.py)."""
    torch, seq = _torch_dim("seq")
    from red.frontends.torch_importer import import_torch

    class Gathered(torch.nn.Module):
        def forward(self, x: Any, idx: Any) -> Any:
            return torch.gather(x, 1, idx)

    x = torch.randn(2, 5)
    idx = torch.zeros(2, 5, dtype=torch.int64)
    with pytest.raises(red.DiagnosticError) as err:
        import_torch(Gathered(), (x, idx), dynamic_shapes={"x": {1: seq}, "idx": {1: seq}})

    message = str(err.value)
    assert "error: cannot import 'aten.gather.default'" in message
    assert "symbolic sizes" in message


# endregion PyTorch: import_torch(..., dynamic_shapes=...)
