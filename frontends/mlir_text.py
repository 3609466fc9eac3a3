"""The textual MLIR frontend: parse with a source location on every op, print back."""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, FileLineColLoc, IntAttr, ModuleOp, StringAttr, UnknownLoc
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import MultipleSpansParseError, ParseError

from red.dialects.diagnostics import DiagnosticError

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.MULTILINE)


class LocatedParser(Parser):
    """xDSL's parser, but every op without an explicit `loc(...)` gets the file, line and
    column where its text starts (xDSL 0.74 leaves them unknown)."""

    def __init__(self, ctx: Context, text: str, filename: str, line_offset: int = 0):
        super().__init__(ctx, text, filename)
        self._filename = StringAttr(filename)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._line_offset = line_offset

    def location_at(self, position: int) -> FileLineColLoc:
        line = bisect.bisect_right(self._line_starts, position) - 1
        column = position - self._line_starts[line] + 1
        return FileLineColLoc(
            self._filename, IntAttr(line + 1 + self._line_offset), IntAttr(column)
        )

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        op = super().parse_operation()
        if isinstance(op.location, UnknownLoc):
            op.location = self.location_at(start)
        return op


def _parse_error(err: ParseError, parser: LocatedParser) -> DiagnosticError:
    span, message = err.span, err.msg
    if isinstance(err, MultipleSpansParseError) and err.refs:
        # "values used but not defined" points at the end of the input; the first use is
        # where a reader wants to look.
        span = err.refs[0][0]
        message = f"{message.rstrip(':')} ({err.refs[0][1] or span.text})".replace(
            "values used but not defined", "use of undeclared SSA value name"
        )
    return DiagnosticError(parser.location_at(span.start), message.strip())


def parse_mlir(text: str, filename: str, ctx: Context, line_offset: int = 0) -> ModuleOp:
    """Parse MLIR text into a module (top-level ops are wrapped in one if needed); raise
    DiagnosticError with the offending position on malformed input."""
    parser = LocatedParser(ctx, text, filename, line_offset)
    try:
        return parser.parse_module()
    except ParseError as err:
        raise _parse_error(err, parser) from None
    except DiagnosticError:
        raise
    except Exception as err:  # xDSL's parser raises more than ParseError on odd input
        position = parser._current_token.span.start  # pyright: ignore[reportPrivateUsage]
        raise DiagnosticError(
            parser.location_at(position), f"{type(err).__name__}: {err}"
        ) from None


def decode_source(data: bytes, filename: str) -> str:
    """UTF-8 text, or a located error at the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        prefix = data[: err.start]
        line = prefix.count(b"\n") + 1
        column = err.start - (prefix.rfind(b"\n") + 1) + 1
        loc = FileLineColLoc(StringAttr(filename), IntAttr(line), IntAttr(column))
        raise DiagnosticError(
            loc,
            f"input is not valid UTF-8 text (byte 0x{data[err.start]:02x}); is it a binary file?",
        ) from None


@dataclass
class Chunk:
    text: str
    line_offset: int


def split_input(text: str, split: bool) -> Iterator[Chunk]:
    """The `// -----` chunks of a file (or the whole file), with their first line's offset."""
    if not split:
        yield Chunk(text, 0)
        return
    start, line = 0, 0
    for m in SPLIT_MARKER.finditer(text):
        yield Chunk(text[start : m.start()], line)
        line += text.count("\n", start, m.end())
        start = m.end()
    yield Chunk(text[start:], line)


def print_module(
    module: Operation, stream: IO[str], *, generic: bool = False, debuginfo: bool = False
) -> None:
    """Print like mlir-opt: custom (or generic) form, then any dialect resources."""
    printer = Printer(stream=stream, print_generic_format=generic, print_debuginfo=debuginfo)
    printer.print_op(module)
    printer.print_metadata([Builtin])  # builtin owns dense_resource blobs
    stream.write("\n")


def module_to_text(module: Operation, *, generic: bool = False) -> str:
    buf = io.StringIO()
    print_module(module, buf, generic=generic)
    return buf.getvalue()
