"""ONNX backend node conformance: every test case of `onnx.backend.test.case.node` (1884 in
onnx 1.23) whose ops, attributes and types the importer supports is imported and run, and its
outputs are compared with the expected ones (np.allclose rtol 1e-3, atol 1e-5, equal_nan; f16
outputs rtol 1e-2, atol 1e-3; integers and booleans exactly).

Engines: every supported case runs through the interpreter (red's semantic oracle); a
deterministic sample of about a sixth of them (by a CRC of the case name) also runs through
red.compile, the JIT, which lowers with red-lower. RED_ONNX_CONFORMANCE_JIT=all runs every case
through the JIT instead (about four minutes more). The summary (attempted, passed, failed,
unsupported and the reasons) is printed at the end of the module, `-s` or not."""

from __future__ import annotations

import os
import re
import textwrap
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX conformance tests need the 'onnx' package")

import red  # noqa: E402
from red.frontends.onnx import UnsupportedError, import_onnx  # noqa: E402

JIT_SAMPLE_MODULUS = 6
"""A case runs through the JIT when crc32(name) % JIT_SAMPLE_MODULUS == 0 (about 100 cases)."""

KNOWN_FAILURES: dict[str, str] = {}
"""Cases that fail through every engine, with the reason (xfail, strict)."""

KNOWN_JIT_FAILURES: dict[str, str] = {}
"""Cases the interpreter passes and the JIT fails, with the reason (xfail, strict, when the
case runs through the JIT)."""

JIT_CRASHES: dict[str, str] = {}
"""Cases that must not reach the JIT, since they abort the process."""

INDEX_TUPLE_CASES = {
    "test_gathernd_example_float32",
    "test_gathernd_example_int32",
    "test_gathernd_example_int32_batch_dim1",
    "test_scatternd",
    "test_scatternd_add",
    "test_scatternd_multiply",
    "test_scatternd_max",
    "test_scatternd_min",
    "test_scatternd_max_with_element_indices",
    "test_scatternd_min_with_element_indices",
    "test_scatter_elements_without_axis",
    "test_scatter_elements_with_axis",
    "test_scatter_elements_with_negative_indices",
    "test_scatter_elements_with_duplicate_indices",
    "test_scatter_elements_with_reduction_mul",
    "test_scatter_elements_with_reduction_max",
    "test_scatter_elements_with_reduction_min",
}
"""GatherND, ScatterND and ScatterElements (issue 13): every case of the backend tests is
supported (and run by test_node_conformance)."""


# region Collecting the cases


@dataclass
class Case:
    name: str
    model: Any
    shapes: dict[str, tuple[int, ...]]
    data_sets: list[tuple[list[np.ndarray], list[np.ndarray]]]


def _array(value: Any) -> Any:
    from onnx import numpy_helper

    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


_REASONS = [
    (re.compile(r"^ONNX op '(?P<x>[^']+)' is not supported"), "op {x}"),
    (re.compile(r"element type '(?P<x>[^']+)'"), "element type {x}"),
    (
        re.compile(r"'(?P<op>\w+)' needs a compile-time constant '(?P<x>\w+)'"),
        "runtime '{x}' of {op}",
    ),
    (re.compile(r"(?P<x>sequence|optional)"), "{x} values"),
]


def reason_key(message: str) -> str:
    """A short, groupable reason: `op Attention`, `element type uint8`, `runtime 'axes' of
    ReduceSum`, ... (else the message without its node)."""
    for pattern, key in _REASONS:
        if m := pattern.search(message):
            return key.format(**m.groupdict())
    return message.split(" (ONNX node")[0]


def _collect() -> tuple[list[Case], Counter[str]]:
    """The supported cases and the reasons of the unsupported ones (an UnsupportedError's
    message without its node, or a non-tensor input such as a sequence or an optional)."""
    import warnings

    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        testcases = collect_testcases(None)
    supported: list[Case] = []
    unsupported: Counter[str] = Counter()
    for tc in testcases:
        data_sets = [([_array(a) for a in i], [_array(a) for a in o]) for i, o in tc.data_sets]
        inputs = data_sets[0][0]
        if not all(isinstance(a, np.ndarray) for i, _ in data_sets for a in i):
            unsupported["sequence values"] += 1  # or optional, or missing
            continue
        graph = tc.model.graph
        initializers = {t.name for t in graph.initializer}
        names = [vi.name for vi in graph.input if vi.name not in initializers]
        shapes = {n: tuple(a.shape) for n, a in zip(names, inputs)}
        try:
            import_onnx(tc.model, shapes)
        except UnsupportedError as err:
            unsupported[reason_key(err.message)] += 1
            continue
        except Exception:
            pass  # an import failure of a supported op is a test failure, reported below
        supported.append(Case(tc.name, tc.model, shapes, data_sets))
    return supported, unsupported


SUPPORTED, UNSUPPORTED = _collect()
JIT_ALL = os.environ.get("RED_ONNX_CONFORMANCE_JIT") == "all"


def engine_of(name: str) -> str:
    if name in JIT_CRASHES or name in KNOWN_FAILURES:
        # (a runtime index out of range is an interpreter error but an unchecked read in
        # the JIT: keep the known failures on the interpreter)
        return "interp"
    if JIT_ALL or zlib.crc32(name.encode()) % JIT_SAMPLE_MODULUS == 0:
        return "jit"
    return "interp"


def _params() -> Iterator[Any]:
    for case in SUPPORTED:
        engine = engine_of(case.name)
        reason = KNOWN_FAILURES.get(case.name)
        if reason is None and engine == "jit":
            reason = KNOWN_JIT_FAILURES.get(case.name)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        yield pytest.param(case, engine, id=f"{case.name}-{engine}", marks=marks)


# endregion Collecting the cases

# region Results


@dataclass
class Tally:
    passed: Counter[str]
    failed: dict[str, str]


TALLY = Tally(Counter(), {})


def _tolerance(dtype: np.dtype[Any]) -> tuple[float, float]:
    return (1e-2, 1e-3) if dtype == np.float16 else (1e-3, 1e-5)


def mismatch(got: tuple[np.ndarray, ...], expected: list[np.ndarray]) -> str | None:
    """Why the results differ from the expected ones, or None."""
    if len(got) != len(expected):
        return f"{len(got)} results, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        e = np.asarray(e)
        if g.dtype != e.dtype or g.shape != e.shape:
            return f"result {i} is {g.dtype}{list(g.shape)}, expected {e.dtype}{list(e.shape)}"
        if e.dtype.kind in "fc":
            rtol, atol = _tolerance(e.dtype)
            if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
                diff = np.abs(g.astype(np.float64) - e.astype(np.float64))
                return f"result {i} differs by up to {np.nanmax(diff):.3g} (or in NaN placement)"
        elif not np.array_equal(g, e):
            return f"result {i} differs in {int((g != e).sum())} of {e.size} elements"
    return None


@pytest.fixture(scope="module", autouse=True)
def conformance_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the tally at the end of the module, with output capture suspended (shown with or
    without -s)."""
    yield
    attempted = sum(TALLY.passed.values()) + len(TALLY.failed)
    if not attempted:
        return
    lines = [
        "",
        "ONNX backend node conformance "
        f"({len(SUPPORTED) + sum(UNSUPPORTED.values())} cases in onnx {onnx.__version__}):",
        f"  attempted {attempted} (interpreter {TALLY.passed['interp'] + _failed('interp')}, "
        f"JIT {TALLY.passed['jit'] + _failed('jit')}), passed {sum(TALLY.passed.values())}, "
        f"failed {len(TALLY.failed)}, unsupported {sum(UNSUPPORTED.values())}",
    ]
    lines += [f"  failed: {name}: {why}" for name, why in sorted(TALLY.failed.items())]
    lines += [f"  not run through the JIT: {name}: {why}" for name, why in JIT_CRASHES.items()]
    lines += [
        f"  known JIT failure{'' if engine_of(name) == 'jit' else ' (not in the JIT sample)'}: "
        f"{name}: {why}"
        for name, why in KNOWN_JIT_FAILURES.items()
    ]
    reasons = ", ".join(f"{reason} ({count})" for reason, count in UNSUPPORTED.most_common())
    lines.append("  unsupported, by reason (cases):")
    lines += textwrap.wrap(reasons, 100, initial_indent="    ", subsequent_indent="    ")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():  # what capsys.disabled() does
        for line in lines:
            reporter.write_line(line)


def _failed(engine: str) -> int:
    return sum(1 for key in TALLY.failed if key.endswith(f"[{engine}]"))


# endregion Results


def test_index_tuple_ops_are_supported():
    assert INDEX_TUPLE_CASES <= {c.name for c in SUPPORTED}


@pytest.mark.parametrize(("case", "engine"), _params())
def test_node_conformance(case: Case, engine: str):
    label = f"{case.name} [{engine}]"
    try:
        # TODO(issue 10): the JIT takes recurrences unrolled until scf.for over tensors lowers
        # (the interpreter runs their loop form).
        module = import_onnx(case.model, case.shapes, unroll_recurrences=engine == "jit")
        if engine == "jit":
            call = red.compile(module).main.call
        else:
            runner = red.interpret(module)

            def call(*args: Any) -> tuple[Any, ...]:
                return runner.call("main", *args)

        why = None
        for inputs, outputs in case.data_sets:
            if (why := mismatch(call(*inputs), outputs)) is not None:
                break
    except Exception as err:
        why = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    if why is None:
        TALLY.passed[engine] += 1
    else:
        TALLY.failed[label] = why
    assert why is None, why
