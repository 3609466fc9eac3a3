"""CompiledModule.checker (lowering/jit.py): the interpreter's argument checks are made on first
need, not by every compile: a call whose arrays fit never builds them, one that does not fit
still gets the located error naming the argument, and an unknown function its own error."""

from __future__ import annotations

import numpy as np
import pytest

import red
from red.dialects.diagnostics import DiagnosticError

MODEL = """
func.func @main(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = red.add %x, %y : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %s : tensor<4x8xf32>
}
"""


@pytest.fixture
def compiled(monkeypatch):
    monkeypatch.setenv("RED_CACHE", "off")
    return red.compile(red.parse(MODEL), threads=1)


def test_a_fitting_call_builds_no_checker(compiled):
    x = np.ones((4, 8), np.float32)

    got = compiled.main(x, 2 * x)

    np.testing.assert_array_equal(got, 3 * x)
    assert "checker" not in vars(compiled)


def test_a_call_that_does_not_fit_names_the_argument(compiled):
    x = np.ones((4, 8), np.float32)

    with pytest.raises((DiagnosticError, ValueError), match="y"):
        compiled.main(x, np.ones((4, 7), np.float32))

    assert "checker" in vars(compiled)
    strided = np.ones((4, 16), np.float32)[:, ::2]  # checked, then copied
    np.testing.assert_array_equal(compiled.main(x, strided), 2 * x)


def test_an_unknown_function_is_a_located_error(compiled):
    with pytest.raises(DiagnosticError, match="nope"):
        compiled.function("nope")
