"""The pass registry red-opt reads: pass name -> lazy factory of the pass class, and the
parsing of `-p a,b{opt=v}` and `--pass-pipeline='builtin.module(a,b)'` specs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError


class PipelineError(Exception):
    """A pipeline spec that names an unknown pass or gives a bad option."""


def _cse() -> type[ModulePass]:
    from red.transforms.cse import CSEPass

    return CSEPass


def _canonicalize() -> type[ModulePass]:
    from red.transforms.canonicalize import CanonicalizePass

    return CanonicalizePass


def _dce() -> type[ModulePass]:
    from red.transforms.dce import DCEPass

    return DCEPass


def _test_miscompile() -> type[ModulePass]:
    from red.transforms.test_miscompile import TestMiscompilePass

    return TestMiscompilePass


def _optimize_chains() -> type[ModulePass]:
    from red.transforms.optimize_chains import OptimizeChainsPass

    return OptimizeChainsPass


def _narrow_to_uses() -> type[ModulePass]:
    from red.transforms.narrow_to_uses import NarrowToUsesPass

    return NarrowToUsesPass


def _memoize() -> type[ModulePass]:
    from red.transforms.memoize import MemoizePass

    return MemoizePass


def _red_pipeline() -> type[ModulePass]:
    from red.transforms.red_pipeline import RedPipelinePass

    return RedPipelinePass


def _red_lower() -> type[ModulePass]:
    from red.lowering.red_lower import RedLowerPass

    return RedLowerPass


def _convert_red_to_loops() -> type[ModulePass]:
    from red.lowering.convert_red_to_loops import ConvertRedToLoopsPass

    return ConvertRedToLoopsPass


def _convert_scf_to_cf() -> type[ModulePass]:
    from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf

    return ConvertScfToCf


def _convert_to_llvm() -> type[ModulePass]:
    from red.lowering.convert_to_llvm import ConvertToLLVMPass

    return ConvertToLLVMPass


PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    "cse": _cse,
    "canonicalize": _canonicalize,
    "dce": _dce,
    "test-miscompile": _test_miscompile,
    "optimize-chains": _optimize_chains,
    "narrow-to-uses": _narrow_to_uses,
    "memoize": _memoize,
    "red-pipeline": _red_pipeline,
    "red-lower": _red_lower,
    "convert-red-to-loops": _convert_red_to_loops,
    "convert-scf-to-cf": _convert_scf_to_cf,
    "convert-to-llvm": _convert_to_llvm,
}


def available_passes() -> list[str]:
    """Names of the registered passes whose module exists in this build."""
    names = []
    for name, factory in PASSES.items():
        try:
            factory()
        except ImportError:
            continue
        names.append(name)
    return names


def pass_class(name: str) -> type[ModulePass]:
    factory = PASSES.get(name)
    if factory is not None:
        try:
            return factory()
        except ImportError:
            pass
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
