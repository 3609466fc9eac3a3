"""The redundancy report (`red-opt --redundancy-report[=text|json]`): per function, the cost
before and after the pipeline and every redundancy the passes removed (DESIGN.md §3)."""

from __future__ import annotations

import json
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from red.dialects.red.dims import Poly, evaluate, format_dim
from red.passes.pass_manager import PassInstrumentation
from red.transforms.analysis.cost_model import module_metrics
from red.transforms.analysis.findings import FindingsObserver


class ReportInstrumentation(PassInstrumentation):
    """Measures the module before the first pass and observes the passes' rewrites."""

    def __init__(self, module: ModuleOp):
        self.before = module_metrics(module)
        self.findings_observer = FindingsObserver()
        self.observer = self.findings_observer

    def before_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        self.findings_observer.begin_pass(pass_)

    def after_pass(self, pass_: ModulePass, module: ModuleOp) -> None:
        self.findings_observer.end_pass()

    def finish(self, module: ModuleOp) -> dict[str, Any]:
        """The report of this module as a JSON-ready dict."""
        found = self.findings_observer.findings
        return build_report(self.before, module_metrics(module), found)


def build_report(
    before: dict[str, dict[str, int]],
    after: dict[str, dict[str, int]],
    found: list[dict[str, Any]],
) -> dict[str, Any]:
    functions = []
    for name in list(before) + [n for n in after if n not in before]:
        empty = dict.fromkeys(
            ("ops", "flops", "bytes", "peak_bytes", "flops_first_call", "flops_per_call"), 0
        )
        functions.append(
            {
                "name": name,
                "before": before.get(name, empty),
                "after": after.get(name, empty),
                "findings": [f for f in found if f.get("function") == name],
            }
        )
    return {"functions": functions}


def _pct(before: Any, after: Any) -> str:
    if not isinstance(before, int) or not isinstance(after, int) or before == 0:
        return ""
    return f" ({100.0 * (after - before) / before:+.1f}%)"


def _fmt(n: Any) -> str:
    if not isinstance(n, int):
        return format_dim(n)  # a polynomial in the symbols of dynamic dims
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3f}{unit}"
    return str(n)


def _negated(n: Any) -> str:
    """`-N`, and `-(p)` for a polynomial of several terms (`-(99584*seq - 99584)`)."""
    text = _fmt(n)
    return f"-({text})" if not isinstance(n, int) and len(n.terms) > 1 else f"-{text}"


def assume_sizes(report: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
    """The report with every polynomial evaluated at `sizes` (`--assume seq=128`); the
    polynomials stay beside the numbers as `<key>_symbolic`."""

    def fix(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(value, Poly):
                out[key] = evaluate(value, sizes)
                out[f"{key}_symbolic"] = format_dim(value)
            else:
                out[key] = value
        return out

    functions = [
        {
            **fn,
            "before": fix(fn["before"]),
            "after": fix(fn["after"]),
            "findings": [fix(f) for f in fn["findings"]],
        }
        for fn in report["functions"]
    ]
    return {**report, "functions": functions}


def _json_ready(obj: Any) -> Any:
    if isinstance(obj, Poly):
        return format_dim(obj)
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_ready(v) for v in obj]
    return obj


def render_text(report: dict[str, Any]) -> str:
    lines = ["=== red redundancy report ==="]
    for fn in report["functions"]:
        b, a = fn["before"], fn["after"]
        lines.append(f"@{fn['name']}")
        for key, label in (
            ("ops", "ops"),
            ("flops_first_call", "FLOPs (first call)"),
            ("flops_per_call", "FLOPs (later calls)"),
            ("bytes", "bytes moved"),
            ("peak_bytes", "peak live bytes"),
        ):
            lines.append(
                f"  {label:<20} {_fmt(b[key]):>10} -> {_fmt(a[key]):>10}{_pct(b[key], a[key])}"
            )
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for f in fn["findings"]:
            by_kind.setdefault(f["kind"], []).append(f)
        if by_kind:
            lines.append("  findings:")
        for kind, items in by_kind.items():
            flops = sum(f["flops_saved"] for f in items)
            nbytes = sum(f["bytes_saved"] for f in items)
            lines.append(
                f"    {kind:<16} {len(items):>4} x, saving {_fmt(flops)} FLOPs, "
                f"{_fmt(nbytes)} bytes"
            )
            for f in items:
                ops = ", ".join(f["ops"])
                note = f"  ({f['note']})" if f.get("note") else ""
                saved = _negated(f["flops_saved"])
                lines.append(f"      {f['loc']}: {ops} [{f['pass']}] {saved} FLOPs{note}")
    return "\n".join(lines) + "\n"


def render_report(
    reports: list[dict[str, Any]], fmt: str, assume: dict[str, int] | None = None
) -> str:
    """One report for all processed chunks (their functions concatenated); costs that are
    polynomials in dynamic dims print as such, or evaluated at `assume`'s sizes."""
    merged: dict[str, Any] = {"functions": [f for r in reports for f in r["functions"]]}
    if assume:
        merged = assume_sizes(merged, assume)
    if fmt == "json":
        return json.dumps(_json_ready(merged), indent=2) + "\n"
    return render_text(merged)
