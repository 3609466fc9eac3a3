"""Printing diagnostics the mlir-opt way, and checking them against `expected-error`
annotations for `--verify-diagnostics`."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import IO

from xdsl.dialects.builtin import FileLineColLoc
from xdsl.ir import Attribute, Operation
from xdsl.printer import Printer

from red.dialects.diagnostics import DiagnosticError, format_location


def generic_form(op: Operation) -> str:
    """The op in generic form, without its regions' bodies (as MLIR's "see current operation")."""
    import io

    buf = io.StringIO()
    clone = op.clone_without_regions()
    Printer(stream=buf, print_generic_format=True).print_op(clone)
    clone.erase(safe_erase=False)
    return re.sub(r"\(\{\s*\}\)", "({...})", buf.getvalue().strip())


def emit(err: DiagnosticError, stream: IO[str] | None = None, show_op: bool = True) -> None:
    """`file:line:col: error: message`, its notes, and the failing op in generic form."""
    stream = stream or sys.stderr
    print(err.format(), file=stream)
    if show_op and err.op is not None and not err.op.regions:  # a function would be noise
        try:
            text = generic_form(err.op)
        except Exception:  # a malformed op may not print; the error itself is what matters
            return
        print(f"{format_location(err.location)}: note: see current operation: {text}", file=stream)


def error(message: str, stream: IO[str] | None = None) -> None:
    """An error without a location (missing file, bad flag)."""
    print(f"error: {message}", file=stream or sys.stderr)


# region --verify-diagnostics

EXPECTATION = re.compile(
    r"expected-(?P<kind>error|warning|note|remark)\s*(?:@(?P<offset>[+-]\d+|above|below))?\s*\{\{(?P<msg>.*?)\}\}"
)


@dataclass
class Expectation:
    kind: str
    line: int  # 1-based line in the file
    message: str
    comment_line: int
    column: int
    matched: bool = False


def parse_expectations(text: str, line_offset: int) -> list[Expectation]:
    out: list[Expectation] = []
    for i, line in enumerate(text.splitlines()):
        for m in EXPECTATION.finditer(line):
            here = i + 1 + line_offset
            offset = m.group("offset")
            if offset is None:
                target = here
            elif offset == "above":
                target = here - 1
            elif offset == "below":
                target = here + 1
            else:
                target = here + int(offset)
            out.append(Expectation(m.group("kind"), target, m.group("msg"), here, m.start() + 1))
    return out


def _line_of(loc: Attribute) -> int | None:
    return loc.line.data if isinstance(loc, FileLineColLoc) else None


def check_expectations(
    diagnostics: list[DiagnosticError], expected: list[Expectation], filename: str
) -> list[str]:
    """Match emitted diagnostics against annotations (same kind and line, message contains
    the annotation text); return the failures as printable errors."""
    failures: list[str] = []
    emitted = [(d.severity, d.location, d.message) for d in diagnostics]
    emitted += [("note", n.location, n.message) for d in diagnostics for n in d.notes]
    for kind, loc, message in emitted:
        line = _line_of(loc)
        match = next(
            (
                e
                for e in expected
                if not e.matched and e.kind == kind and e.line == line and e.message in message
            ),
            None,
        )
        if match is not None:
            match.matched = True
        elif kind != "note":  # unexpected notes are tolerated, as in MLIR
            failures.append(f"{format_location(loc)}: error: unexpected {kind}: {message}")
    for e in expected:
        if not e.matched:
            failures.append(
                f"{filename}:{e.comment_line}:{e.column}: error: expected {e.kind} "
                f'"{e.message}" was not produced'
            )
    return failures


# endregion --verify-diagnostics
