"""The pass registry red-opt reads: pass name -> lazily imported pass class, and the
parsing of `-p a,b{opt=v}` and `--pass-pipeline='builtin.module(a,b)'` specs."""

from __future__ import annotations

import importlib
import os
from dataclasses import fields

from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError


class PipelineError(Exception):
    """A pipeline spec that names an unknown pass or gives a bad option."""


PASSES: dict[str, str] = {
    "cse": "red.transforms.cse:CSEPass",
    "canonicalize": "red.transforms.canonicalize:CanonicalizePass",
    "dce": "red.transforms.dce:DCEPass",
    "optimize-chains": "red.transforms.optimize_chains:OptimizeChainsPass",
    "narrow-to-uses": "red.transforms.narrow_to_uses:NarrowToUsesPass",
    "memoize": "red.transforms.memoize:MemoizePass",
    "incrementalize": "red.transforms.incrementalize:IncrementalizePass",
    "loop-invariant-code-motion": (
        "red.transforms.loop_invariant_code_motion:LoopInvariantCodeMotionPass"
    ),
    "red-pipeline": "red.transforms.red_pipeline:RedPipelinePass",
    "red-lower": "red.lowering.red_lower:RedLowerPass",
    "convert-red-to-loops": "red.lowering.convert_red_to_loops:ConvertRedToLoopsPass",
    "outline-loop-nests": "red.lowering.loops.outline:OutlineLoopNestsPass",
    "merge-identical-functions": "red.lowering.merge_functions:MergeIdenticalFunctionsPass",
    "convert-scf-to-cf": "red.lowering.convert_scf_to_cf:ConvertScfToCfPass",
    "convert-to-llvm": "red.lowering.convert_to_llvm:ConvertToLLVMPass",
}
"""Pass name -> `module:Class`, imported on first use: the registry names the transforms
and the lowering without importing them (no package cycle, and red-opt's startup loads
only the passes a pipeline uses)."""

TEST_PASSES: dict[str, str] = {
    "test-miscompile": "red.testing.test_miscompile:TestMiscompilePass",
}
"""Passes that exist for red's own tests, registered only when RED_TEST_PASSES=1."""


def registered() -> dict[str, str]:
    if os.environ.get("RED_TEST_PASSES") == "1":
        return {**PASSES, **TEST_PASSES}
    return PASSES


def _load(ref: str) -> type[ModulePass]:
    module_name, _, class_name = ref.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def available_passes() -> list[str]:
    """Names of the registered passes whose module exists in this build."""
    return list(registered())


def pass_class(name: str) -> type[ModulePass]:
    ref = registered().get(name)
    if ref is not None:
        return _load(ref)  # an ImportError here is a bug in red, not a bad pipeline
    raise PipelineError(f"'{name}' does not refer to a registered pass or pass pipeline")


def parse_pass_list(spec: str) -> list[ModulePass]:
    """Passes from `a,b{opt=v}` (xDSL's spec syntax; option names in kebab case)."""
    try:
        specs = list(parse_pipeline(spec))
    except ArgSpecParseError as err:
        msg = " ".join(str(a) for a in err.args).splitlines()
        raise PipelineError(
            f"invalid pass pipeline '{spec}': {msg[-1].strip() if msg else ''}"
        ) from None
    passes: list[ModulePass] = []
    for s in specs:
        cls = pass_class(s.name)
        known = {f.name.replace("_", "-") for f in fields(cls)}
        for option in s.normalize_parameter_names().parameters:
            if option.replace("_", "-") not in known:
                options = ", ".join(sorted(known)) or "none"
                raise PipelineError(
                    f"no option '{option}' for pass '{s.name}' (options: {options})"
                )
        try:
            passes.append(cls.from_spec(s))
        except (ValueError, TypeError) as err:
            raise PipelineError(f"bad option for pass '{s.name}': {err}") from None
    return passes


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def flatten_anchored_pipeline(text: str) -> str:
    """`builtin.module(a,func.func(b{x=1}))` -> `a,b{x=1}`. red's passes act on whole modules
    (function passes visit every function), so op anchors only group passes."""
    text = text.strip()
    if not (text.startswith("builtin.module(") or text.startswith("func.func(")):
        raise PipelineError(f"expected a pipeline anchored on 'builtin.module(...)', got '{text}'")
    flat: list[str] = []

    def walk(item: str) -> None:
        paren = item.find("(")
        brace = item.find("{")
        if paren != -1 and (brace == -1 or paren < brace):
            if not item.endswith(")"):
                raise PipelineError(f"unbalanced parentheses in pass pipeline '{item}'")
            for part in _split_top_level(item[paren + 1 : -1]):
                walk(part)
        else:
            flat.append(item)

    walk(text)
    return ",".join(flat)
