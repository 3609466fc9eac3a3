"""merge-identical-functions (lowering/merge_functions.py): the outlined nests of repeated layers
become one function per distinct body, calls are redirected, nests that differ in an op, a
constant or a shape stay apart, other functions are left alone, and the compiled code
computes what the interpreter computes."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import SymbolRefAttr

import red
from red.lowering.convert_red_to_loops import convert_module
from red.lowering.loops.outline import NOINLINE_ATTR, PARALLEL_NEST_ATTR, outline_module
from red.lowering.merge_functions import merge_identical_functions


def layers(count: int, scales: list[float] | None = None, name: str = "main", rows: int = 8) -> str:
    """`@name`: `count` layers of x -> tanh(x * s) * w + x, then a softmax: one nest per layer
    (and the softmax's), the same nest in every layer when the scales are equal."""
    scales = scales or [0.5] * count
    t, w = f"tensor<{rows}x16xf32>", "tensor<16xf32>"
    lines = [f"func.func @{name}(%x0: {t}, %w: {w}) -> {t} {{"]
    for i in range(count):
        lines += [
            f"  %c{i} = red.constant dense<{scales[i]:e}> : tensor<f32>",
            f"  %m{i} = red.mul %x{i}, %c{i} : {t}, tensor<f32> -> {t}",
            f"  %t{i} = red.tanh %m{i} : {t}",
            f"  %p{i} = red.mul %t{i}, %w : {t}, {w} -> {t}",
            f"  %x{i + 1} = red.add %p{i}, %x{i} : {t}, {t} -> {t}",
        ]
    lines += [f"  %s = red.softmax %x{count} axis = 1 : {t}", f"  func.return %s : {t}", "}"]
    return "\n".join(lines) + "\n"


def outlined(text: str) -> red.ModuleOp:
    module = red.parse(text, "model.mlir")
    convert_module(module)
    outline_module(module)
    return module


def nests(module: red.ModuleOp) -> list[str]:
    return [
        op.sym_name.data
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and NOINLINE_ATTR in op.attributes
    ]


def callees(module: red.ModuleOp) -> list[str]:
    return [op.callee.string_value() for op in module.walk() if isinstance(op, func.CallOp)]


def test_repeated_layers_share_one_nest():
    module = outlined(layers(4))
    before = nests(module)

    erased = merge_identical_functions(module)

    module.verify()
    after = nests(module)
    assert erased == 3
    assert len(after) == len(before) - 3
    layer_calls = [c for c in callees(module) if c in before]
    assert set(layer_calls) == set(after)
    assert max(layer_calls.count(name) for name in after) == 4


def test_other_references_to_a_duplicate_follow_it():
    module = outlined(layers(2))
    before = nests(module)
    main = next(
        op
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and op.sym_name.data == "red_main"
    )
    for name in before:  # e.g. an op taking a nest's address
        main.attributes[f"ref_{name}"] = SymbolRefAttr(name)

    merge_identical_functions(module)

    kept = set(nests(module))
    refs = {
        a.root_reference.data
        for k, a in main.attributes.items()
        if k.startswith("ref_") and isinstance(a, SymbolRefAttr)
    }
    assert refs == kept
    assert len(kept) == len(before) - 1


@pytest.mark.parametrize(
    "text",
    [layers(3, [0.5, 0.25, 2.0]), layers(1) + layers(1, name="other", rows=4)],
    ids=["constants-differ", "shapes-differ"],
)
def test_no_merge_of_nests_that_differ(text: str):
    module = outlined(text)
    before = nests(module)

    erased = merge_identical_functions(module)

    assert erased == 0
    assert nests(module) == before


def test_no_merge_of_functions_that_are_not_outlined_nests():
    text = (
        "\n".join(f"func.func private @mark{i}() {{\n  func.return\n}}" for i in range(2))
        + "\nfunc.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n"
        + "\n".join(
            [
                "  func.call @mark0() : () -> ()",
                "  func.call @mark1() : () -> ()",
                "  func.return %a : tensor<4xf32>",
                "}",
            ]
        )
    )
    module = red.parse(text, "marks.mlir")

    erased = merge_identical_functions(module)

    assert erased == 0
    assert callees(module) == ["mark0", "mark1"]


@pytest.mark.parametrize("scales", [[0.5] * 3, [0.5, 0.25, 2.0]], ids=["same", "different"])
def test_compiled_layers_compute_what_the_interpreter_computes(
    scales: list[float], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RED_CACHE", "off")
    module = red.parse(layers(3, scales), "model.mlir")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    w = rng.standard_normal(16).astype(np.float32)

    got = red.compile(module, threads=1).main(x, w)

    want = red.interpret(module).call("main", x, w)
    want = want[0] if isinstance(want, tuple) else want
    got = got[0] if isinstance(got, tuple) else got
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_repeated_parallel_nests_share_one_nest_and_one_caller():
    """Layers of 2^15 elements and more are parallel nests: each is outlined as a ranged
    nest and its caller; both merge (the callers once the nests they call have)."""
    module = outlined(layers(3, rows=2048))
    callers = [
        op
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and PARALLEL_NEST_ATTR in op.attributes
    ]
    assert len(callers) == 3

    erased = merge_identical_functions(module)

    module.verify()
    kept = [
        op
        for op in module.body.ops
        if isinstance(op, func.FuncOp) and PARALLEL_NEST_ATTR in op.attributes
    ]
    assert erased == 4  # two ranged nests and two callers
    assert len(kept) == 1
    target = kept[0].attributes[PARALLEL_NEST_ATTR]
    assert isinstance(target, SymbolRefAttr)
    assert target.root_reference.data in nests(module)
    assert callees(module).count(kept[0].sym_name.data) == 3
