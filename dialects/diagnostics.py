"""Located diagnostics: the error type every layer of red raises for bad input."""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.builtin import FileLineColLoc, NameLoc, UnknownLoc
from xdsl.ir import Attribute, Operation


def format_location(loc: Attribute | None) -> str:
    """`file:line:col` for a FileLineColLoc, the name (and nested location) for a NameLoc,
    `<unknown>` otherwise."""
    match loc:
        case FileLineColLoc():
            return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
        case NameLoc():
            inner = format_location(loc.location)
            return f"{inner}: '{loc.desc.data}'" if inner != "<unknown>" else f"'{loc.desc.data}'"
        case _:
            return "<unknown>"


def location_of(op: Operation | None) -> Attribute:
    """The location of an op, or of its closest located ancestor."""
    while op is not None:
        if not isinstance(op.location, UnknownLoc):
            return op.location
        op = op.parent_op()
    return UnknownLoc()


@dataclass
class Note:
    location: Attribute
    message: str


@dataclass
class DiagnosticError(Exception):
    """An input error with its source location: printed as `file:line:col: error: message`."""

    location: Attribute
    message: str
    op: Operation | None = None
    notes: list[Note] = field(default_factory=list[Note])
    severity: str = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @staticmethod
    def at(op: Operation, message: str) -> DiagnosticError:
        return DiagnosticError(location_of(op), message, op)

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        lines = [f"{format_location(self.location)}: {self.severity}: {self.message}"]
        lines += [f"{format_location(n.location)}: note: {n.message}" for n in self.notes]
        return "\n".join(lines)
