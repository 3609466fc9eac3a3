"""pytest setup: in CI (RED_CI=1) nothing skips. The optional packages and tools must all be
present (.ci/run installs them), and a test that skips anyway fails."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # the shared helpers of this folder

IN_CI = bool(os.environ.get("RED_CI"))
os.environ["RED_TEST_PASSES"] = "1"  # registers test-miscompile for the pass tests
# red.compile's cache: a directory of this session's own, not the user's (tests that need
# a particular cache set RED_CACHE_DIR themselves); RED_CACHE=off runs the suite without it
if "RED_CACHE_DIR" not in os.environ:
    os.environ["RED_CACHE_DIR"] = tempfile.mkdtemp(prefix="red-test-cache-")
CI_PACKAGES = (
    "torch", "transformers", "onnx", "onnxruntime", "onnxscript", "hypothesis", "redis",
)  # fmt: skip
CI_TOOLS = ("clang-16", "llvm-as-16", "valgrind", "redis-server")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not IN_CI:
        return
    missing = [p for p in CI_PACKAGES if importlib.util.find_spec(p) is None]
    missing += [t for t in CI_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.exit(f"RED_CI=1 but missing (see .ci/run): {', '.join(missing)}", returncode=1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (RED_CI=1), where nothing may skip: {reason}"
