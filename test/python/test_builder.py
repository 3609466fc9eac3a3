"""The Python model builder: verified modules, ops located at the Python line that made
them, numpy-like operators, and the README's seed-chain example end to end."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from xdsl.dialects.builtin import FileLineColLoc

import red
from red.dialects import red as r
from red.dialects.diagnostics import DiagnosticError
from red.frontends import builder as rb


def test_every_op_is_located_at_the_line_that_built_it():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    x = f.arg((2, 3), name="x")
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    y = rb.exp(x) * 2.0
    f.returns(y)

    module = mb.build()

    located = {op.name: op.location for op in module.walk() if op.name.startswith("red.")}
    for name in ("red.exp", "red.mul", "red.constant"):
        loc = located[name]
        assert isinstance(loc, FileLineColLoc)
        assert loc.filename.data == __file__
        assert loc.line.data == line


def test_operators_build_the_ops_numpy_would_run():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    a, b = f.arg((2, 3)), f.arg((3,))
    f.returns(
        (a + b) * a - b / 2.0,
        (a @ a.T).sum(1),
        a[1, :],
        a.reshape(3, 2).transpose(1, 0),
        rb.softmax(a),
    )
    module = mb.build()
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    y = np.array([0.5, -1.0, 2.0], np.float32)

    got = red.interpret(module).call("main", x, y)

    np.testing.assert_allclose(got[0], (x + y) * x - y / 2, rtol=1e-6)
    np.testing.assert_allclose(got[1], (x @ x.T).sum(1), rtol=1e-6)
    np.testing.assert_array_equal(got[2], x[1, :])
    np.testing.assert_array_equal(got[3], x.reshape(3, 2).T)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(got[4], e / e.sum(1, keepdims=True), rtol=1e-6)


def test_invariant_arguments_carry_the_attribute():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    x = f.arg((4,), name="x")
    w = f.arg((4,), name="w", invariant=True)
    f.returns(x * w)

    fn = mb.build().body.block.first_op

    assert [r.INVARIANT_ATTR in d.data for d in fn.arg_attrs.data] == [False, True]


def test_build_fails_for_functions_without_returns():
    mb = rb.ModuleBuilder()
    mb.function("main").arg((2,))

    with pytest.raises(ValueError, match="functions without returns: main"):
        mb.build()


def test_shape_errors_are_reported_at_construction():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    a, b = f.arg((2, 3)), f.arg((4, 5))

    with pytest.raises(Exception, match=r"do not match|contracting"):
        _ = a @ b


def test_readme_seed_chain_example():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    a, b, c = (f.arg((64, 64), name=n) for n in "ABC")
    f.returns(a @ b @ c @ a @ b)
    module = mb.build()

    red.optimize(module)
    compiled = red.compile(module)
    x, y, z = (np.random.default_rng(i).random((64, 64), dtype=np.float32) for i in range(3))
    out = compiled.main(x, y, z)

    assert sum(1 for op in module.walk() if isinstance(op, r.MatmulOp)) == 3
    np.testing.assert_allclose(out, x @ y @ z @ x @ y, rtol=1e-4)


def test_private_functions_and_calls():
    mb = rb.ModuleBuilder()
    g = mb.function("square", private=True)
    v = g.arg((3,))
    g.returns(v * v)
    f = mb.function("main")
    x = f.arg((3,))
    (y,) = f.call(g, x)
    f.returns(y + 1.0)
    module = mb.build()

    got = red.interpret(module).call("main", np.array([1, 2, 3], np.float32))[0]

    np.testing.assert_array_equal(got, [2, 5, 10])


def test_parse_errors_are_located():
    with pytest.raises(
        DiagnosticError, match=r"^<string>:2:8: error: custom op .red.bogus. is unknown"
    ):
        red.parse("func.func @f() {\n  %x = red.bogus\n}")


def test_ops_on_constants_are_built_as_written_unless_folding():
    def build(fold: bool) -> list[str]:
        mb = rb.ModuleBuilder(fold=fold)
        f = mb.function("main")
        x = f.arg((3,))
        bias = f.constant(np.arange(3, dtype=np.float32)) * 2.0
        f.returns(x + bias)
        return [op.name for op in mb.build().walk() if op.name.startswith("red.")]

    written = build(fold=False)
    folded = build(fold=True)

    assert written == ["red.constant", "red.constant", "red.mul", "red.add"]
    assert folded == ["red.constant", "red.constant", "red.constant", "red.add"]


def test_folded_constants_compute_what_the_ops_would():
    mb = rb.ModuleBuilder(fold=True)
    f = mb.function("main")
    x = f.arg((2, 2))
    w = f.constant(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    f.returns(x @ rb.softmax(w.T, axis=0))
    module = mb.build()
    a = np.eye(2, dtype=np.float32)

    got = red.interpret(module).call("main", a)[0]

    e = np.exp(np.array([[1.0, 3.0], [2.0, 4.0]]))
    np.testing.assert_allclose(got, e / e.sum(0, keepdims=True), rtol=1e-6)
    assert {op.name for op in module.walk()} >= {"red.matmul"}
    assert not any(op.name in ("red.softmax", "red.transpose") for op in module.walk())


def test_tensors_of_different_element_types_are_promoted():
    mb = rb.ModuleBuilder()
    f = mb.function("main")
    n, x = f.arg((3,), "i32"), f.arg((3,), "f32")
    f.returns(n * x)
    module = mb.build()

    got = red.interpret(module).call(
        "main", np.array([1, 2, 3], np.int32), np.array([0.5, 0.5, 0.5], np.float32)
    )[0]

    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [0.5, 1.0, 1.5])
    assert [op.name for op in module.walk() if op.name.startswith("red.")] == [
        "red.cast",
        "red.mul",
    ]
