# ruff: noqa: F821 (lit defines config and lit_config)
"""lit configuration: every .mlir file under test/ is a test; tools come from the installed package."""

import os
import shutil

import lit.formats

config.name = "red"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py", "python", "Inputs", "inputs"]
config.environment["PYTHONHASHSEED"] = "0"
config.environment["RED_TEST_PASSES"] = "1"  # registers test-miscompile
for var in ("PATH", "HOME", "PYTHONPATH"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.substitutions.append(
    ("%examples", os.path.join(os.path.dirname(config.test_source_root), "examples"))
)
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
for tool in ("clang-16", "llvm-as-16", "valgrind"):
    if shutil.which(tool):
        config.available_features.add(tool)
    elif os.environ.get("RED_CI"):  # in CI nothing skips: a missing tool is an error
        lit_config.fatal(f"RED_CI is set but '{tool}' is not installed (see .ci/run)")
