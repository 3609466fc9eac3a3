"""bind_arguments: weight arguments become constants (dense resources viewing the arrays) and
leave the signature; the bound module computes, in the interpreter and compiled, what the
unbound one computes with the arrays passed; a bad index, shape or dtype is a ValueError
naming it, and leaves the module as it was."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DenseResourceAttr, ModuleOp

import red
from red.dialects.numpy_interop import dense_to_numpy
from red.dialects.red import ConstantOp
from red.transforms.bind_arguments import bind_arguments

MLP = """
func.func @main(%x: tensor<4x32xf32>, %w1: tensor<32x64xf32> {red.invariant},
                %b1: tensor<64xf32> {red.invariant}, %w2: tensor<64x16xf32> {red.invariant},
                %keep: tensor<4x16xi1>) -> tensor<4x16xf32> {
  %h = red.matmul %x, %w1 : tensor<4x32xf32>, tensor<32x64xf32> -> tensor<4x64xf32>
  %hb = red.add %h, %b1 : tensor<4x64xf32>, tensor<64xf32> -> tensor<4x64xf32>
  %a = red.gelu %hb : tensor<4x64xf32>
  %y = red.matmul %a, %w2 : tensor<4x64xf32>, tensor<64x16xf32> -> tensor<4x16xf32>
  %z = red.constant dense<0.0> : tensor<4x16xf32>
  %r = red.select %keep, %y, %z : tensor<4x16xi1>, tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  func.return %r : tensor<4x16xf32>
}
"""


def mlp_arrays() -> list[np.ndarray]:
    """x, w1, b1, w2 and the i1 mask `keep`, in argument order."""
    rng = np.random.default_rng(0)
    return [
        rng.standard_normal((4, 32)).astype(np.float32),
        rng.standard_normal((32, 64)).astype(np.float32) * 0.2,
        rng.standard_normal(64).astype(np.float32),
        rng.standard_normal((64, 16)).astype(np.float32) * 0.2,
        rng.random((4, 16)) > 0.3,
    ]


def main_fn(module: ModuleOp) -> func.FuncOp:
    return next(op for op in module.body.ops if isinstance(op, func.FuncOp))


def constants(module: ModuleOp) -> list[ConstantOp]:
    return [op for op in module.walk() if isinstance(op, ConstantOp)]


def mlp_module() -> ModuleOp:
    return red.parse(MLP)


@pytest.mark.parametrize(
    "bound",
    [
        pytest.param([1, 2, 3], id="all-weights"),
        pytest.param([2], id="middle-argument-only"),
        pytest.param([0, 4], id="first-and-last-arguments"),
        pytest.param([], id="nothing"),
    ],
)
def test_bound_module_computes_what_the_arguments_did(bound: list[int]):
    arrays = mlp_arrays()
    want = red.interpret(mlp_module()).call("main", *arrays)[0]
    module = mlp_module()

    bind_arguments(module, "main", {i: arrays[i] for i in bound})

    red.verify(module)
    rest = [a for i, a in enumerate(arrays) if i not in bound]
    assert len(main_fn(module).body.block.args) == len(rest)
    got = red.interpret(module).call("main", *rest)[0]
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    jit = red.compile(module).main(*rest)
    np.testing.assert_allclose(np.asarray(jit), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_signature_and_argument_attributes_lose_the_bound_arguments():
    module = mlp_module()
    arrays = mlp_arrays()

    bind_arguments(module, "main", {1: arrays[1], 3: arrays[3]})

    fn = main_fn(module)
    assert [str(t) for t in fn.function_type.inputs.data] == [
        "tensor<4x32xf32>",
        "tensor<64xf32>",
        "tensor<4x16xi1>",
    ]
    assert fn.arg_attrs is not None
    assert ["red.invariant" in a.data for a in fn.arg_attrs.data] == [False, True, False]
    assert [a.name_hint for a in fn.body.block.args] == ["x", "b1", "keep"]


def test_large_arrays_are_resources_viewing_the_array_and_small_ones_inline():
    module = mlp_module()
    arrays = mlp_arrays()

    bind_arguments(module, "main", {1: arrays[1], 2: arrays[2], 4: arrays[4]})

    by_name = {op.result.name_hint: op for op in constants(module)}
    w1, b1, keep = by_name["w1"], by_name["b1"], by_name["keep"]
    assert isinstance(w1.value, DenseResourceAttr)  # 8 KiB
    assert np.shares_memory(dense_to_numpy(w1.value), arrays[1])
    assert isinstance(b1.value, DenseIntOrFPElementsAttr)  # 256 bytes
    assert isinstance(keep.value, DenseIntOrFPElementsAttr)  # i1: never a resource
    np.testing.assert_array_equal(dense_to_numpy(keep.value), arrays[4])
    first = list(main_fn(module).body.block.ops)[:3]
    assert [op.results[0].name_hint for op in first] == ["w1", "b1", "keep"]


def test_transposed_array_is_copied_into_c_order():
    module = mlp_module()
    arrays = mlp_arrays()
    w1 = np.asfortranarray(arrays[1])

    bind_arguments(module, "main", {1: w1})

    (resource,) = [op for op in constants(module) if isinstance(op.value, DenseResourceAttr)]
    np.testing.assert_array_equal(dense_to_numpy(resource.value), arrays[1])


def test_bound_module_optimizes_and_round_trips_through_text():
    arrays = mlp_arrays()
    want = red.interpret(mlp_module()).call("main", *arrays)[0]
    module = mlp_module()
    bind_arguments(module, "main", {1: arrays[1], 2: arrays[2], 3: arrays[3]})

    red.optimize(module)
    reparsed = red.parse(red.to_text(module))

    got = red.interpret(reparsed).call("main", arrays[0], arrays[4])[0]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("function", "arrays", "message"),
    [
        pytest.param(
            "main", {5: np.zeros(3, np.float32)},
            r"argument 5 of '@main' does not exist: the function has 5 arguments \(indices 0 "
            r"to 4\)",
            id="index-past-the-end",
        ),
        pytest.param(
            "main", {-1: np.zeros(3, np.float32)}, r"argument -1 of '@main' does not exist",
            id="negative-index",
        ),
        pytest.param(
            "main", {"w2": np.zeros((64, 16), np.float32)},
            r"argument w2 of '@main': an argument index is an int, got str",
            id="name-for-an-index",
        ),
        pytest.param(
            "main", {1: np.zeros((64, 32), np.float32)},
            r"argument 1 of '@main' has shape \(32, 64\), the array \(64, 32\)",
            id="wrong-shape",
        ),
        pytest.param(
            "main", {2: np.zeros(64, np.float64)},
            r"argument 2 of '@main' holds float32 elements, the array float64",
            id="wrong-dtype",
        ),
        pytest.param(
            "main", {3: [[0.0] * 16] * 64},
            r"argument 3 of '@main': expected a numpy array, got list",
            id="not-an-array",
        ),
        pytest.param(
            "forward", {1: np.zeros((32, 64), np.float32)},
            r"no function '@forward' in the module \(it has '@main'\)",
            id="unknown-function",
        ),
    ],
)  # fmt: skip
def test_bad_binding_is_a_value_error_naming_it(function: str, arrays: dict, message: str):
    module = mlp_module()
    before = red.to_text(module)
    good = {1: mlp_arrays()[1]}  # checked first, bound only if every entry is good

    with pytest.raises(ValueError, match=message):
        bind_arguments(module, function, {**good, **arrays} if function == "main" else arrays)

    assert red.to_text(module) == before


def test_dynamic_argument_is_refused():
    module = red.parse(
        "func.func @main(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {\n"
        "  func.return %x : tensor<?x8xf32>\n}\n"
    )

    with pytest.raises(ValueError, match=r"argument 0 of '@main' has the dynamic type"):
        bind_arguments(module, "main", {0: np.zeros((2, 8), np.float32)})


def test_function_with_callers_is_refused():
    module = red.parse(
        "func.func private @scale(%x: tensor<4xf32>, %s: tensor<4xf32>) -> tensor<4xf32> {\n"
        "  %y = red.mul %x, %s : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>\n"
        "  func.return %y : tensor<4xf32>\n}\n"
        "func.func @main(%x: tensor<4xf32>, %s: tensor<4xf32>) -> tensor<4xf32> {\n"
        "  %y = func.call @scale(%x, %s) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>\n"
        "  func.return %y : tensor<4xf32>\n}\n"
    )

    with pytest.raises(ValueError, match=r"function '@scale' is called inside the module"):
        bind_arguments(module, "scale", {1: np.ones(4, np.float32)})

    bind_arguments(module, "main", {1: np.full(4, 2.0, np.float32)})
    got = red.interpret(module).call("main", np.arange(4, dtype=np.float32))[0]
    np.testing.assert_array_equal(np.asarray(got), [0.0, 2.0, 4.0, 6.0])


def test_torch_import_with_weights_bound_matches_weights_passed():
    torch = pytest.importorskip("torch", reason="import_torch needs the red[torch] extra")
    from red.frontends.torch_importer import import_torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(48, 96), torch.nn.GELU(), torch.nn.LayerNorm(96), torch.nn.Linear(96, 10)
    ).eval()
    x = torch.randn(6, 48)
    imported = import_torch(model, (x,))
    want = red.compile(imported.module).main(x.numpy(), *imported.weights)

    first = len(imported.input_names)
    red.bind_arguments(imported.module, "main", dict(enumerate(imported.weights, start=first)))
    red.optimize(imported.module)

    red.verify(imported.module)
    got = red.compile(imported.module).main(x.numpy())
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(np.asarray(got), model(x).numpy(), rtol=1e-4, atol=1e-4)


def test_declaration_is_refused():
    module = red.parse("func.func private @external(tensor<4xf32>) -> tensor<4xf32>\n")

    with pytest.raises(ValueError, match=r"function '@external' is a declaration"):
        bind_arguments(module, "external", {0: np.ones(4, np.float32)})
