"""The textual MLIR frontend: parse with a source location on every op, print back."""

from __future__ import annotations

import bisect
import functools
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from xdsl.context import Context
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyDenseElement,
    Builtin,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IntAttr,
    IntegerType,
    ModuleOp,
    RankedStructure,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.exceptions import MultipleSpansParseError, ParseError
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRTokenKind

from red.dialects.diagnostics import DiagnosticError

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.MULTILINE)


@functools.cache
def _dense_literal_constraint():
    from xdsl.dialects.builtin import AnyFloat, ComplexType, IndexType, IntegerType, RankedStructure
    from xdsl.irdl import base

    return base(RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType])


class LocatedParser(Parser):
    """xDSL's parser, but every op without an explicit `loc(...)` gets the file, line and
    column where its text starts (xDSL 0.74 leaves them unknown)."""

    def __init__(self, ctx: Context, text: str, filename: str, line_offset: int = 0):
        self._filename = StringAttr(filename)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._line_offset = line_offset
        self.text_length = len(text)
        # Where each name was first used before its definition: xDSL 0.74 reports undefined
        # values at the end of the input, without the place of their use.
        self.first_forward_use: dict[str, int] = {}
        self._resource_keys: dict[tuple[str, str], str] = {}
        try:
            super().__init__(ctx, text, filename)  # lexes the first token: it can fail
        except ParseError as err:
            raise DiagnosticError(
                self.location_at(err.span.start), _printable(err.msg.strip())
            ) from None

    def location_at(self, position: int) -> FileLineColLoc:
        line = bisect.bisect_right(self._line_starts, position) - 1
        column = position - self._line_starts[line] + 1
        return FileLineColLoc(
            self._filename, IntAttr(line + 1 + self._line_offset), IntAttr(column)
        )

    def _consume_token(self, expected_kind=None):  # type: ignore[no-untyped-def]
        token = super()._consume_token(expected_kind)
        self._last_span = token.span
        return token

    def _get_op_by_name(self, name: str):  # type: ignore[no-untyped-def]
        """xDSL reports an unknown op at the token after its name; MLIR at the name, with
        MLIR's wording."""
        try:
            return super()._get_op_by_name(name)
        except ParseError:
            span = getattr(self, "_last_span", None)
            if span is None:
                raise
            if span.text.startswith('"'):  # generic form
                dialect = name.split(".")[0]
                message = (
                    f"unregistered operation '{name}' found in dialect ('{dialect}') that does "
                    "not allow unknown operations (use --allow-unregistered-dialect)"
                )
            else:
                message = f"custom op '{name}' is unknown"
            raise ParseError(span, message) from None

    def resolve_operand(self, operand: UnresolvedOperand, type: Attribute) -> SSAValue:
        name = operand.operand_name
        if name not in self.ssa_values and name not in self.first_forward_use:
            self.first_forward_use[name] = operand.span.start
        return super().resolve_operand(operand, type)

    def _parse_dense_literal_type(self):  # type: ignore[override]
        """xDSL 0.74 rebuilds the type constraint of `dense<...> : T` on every literal
        (about 5 ms each: most of the time of parsing a module with constants); the same
        check with the constraint built once."""
        typ = self.expect(self.parse_optional_type, "Dense attribute must be typed!")
        if not _dense_literal_constraint().verifies(typ):
            self.raise_error(
                "Expected memref, vector or tensor type of integer, index, float, or complex type"
            )
        if any(dim == DYNAMIC_INDEX for dim in typ.get_shape()):  # type: ignore[union-attr]
            self.raise_error("Dense literal attribute should have a static shape.")
        return typ

    def parse_dense_int_or_fp_elements_attr(  # type: ignore[override]
        self, type: RankedStructure[AnyDenseElement] | None
    ) -> DenseIntOrFPElementsAttr:
        """xDSL 0.74's `dense<...>`, except that a splat keeps one stored element (xDSL
        expanded `dense<1.0> : tensor<8192x8192xf32>` to 256 MiB, as a Python list first),
        raw bytes must fill the type exactly (xDSL kept a partial last element), and errors
        point at the literal rather than at the token after its type."""
        start = self._current_token.span.start
        self.parse_punctuation("<", " in dense attribute")
        contents: tuple[list[Any], list[int]] | str | None = None
        literal_at = self._current_token.span
        if self.parse_optional_punctuation(">") is None:
            hex_string = self.parse_optional_str_literal()
            contents = hex_string if hex_string is not None else self._parse_tensor_literal()
            self.parse_punctuation(">", " in dense attribute")
        if type is None:
            self.parse_punctuation(":", " in dense attribute")
            type = self._parse_dense_literal_type()
        shape = list(type.get_shape())
        count = math.prod(shape)
        elt = type.get_element_type()
        if contents is None:
            if count != 0:
                self.raise_error(f"expected {count} elements in the dense literal, got none", start)
            return DenseIntOrFPElementsAttr(type, BytesAttr(b""))
        if isinstance(contents, str):
            return DenseIntOrFPElementsAttr(
                type, BytesAttr(self._dense_bytes(contents, type, literal_at))
            )
        values, literal_shape = contents
        if literal_shape and literal_shape != shape:
            self.raise_error(
                f"dense literal has shape {literal_shape}, its type '{type}' has shape {shape}",
                literal_at,
            )
        data = [v.to_type(self, elt) for v in values]  # a splat when literal_shape is []
        if isinstance(elt, IntegerType):
            for i, x in enumerate(data):
                try:
                    data[i] = elt.get_normalized_value(x)
                except ValueError as err:
                    self.raise_error(str(err), values[i].span)
        return DenseIntOrFPElementsAttr(type, BytesAttr(cast(Any, elt).pack(data)))

    def parse_shape_dimension(self, allow_dynamic: bool = True) -> int:
        """A dimension, bounded as MLIR's are (int64); xDSL 0.74 takes any integer."""
        at = self._current_token.span
        dim = super().parse_shape_dimension(allow_dynamic)
        if dim >= 1 << 63:
            self.raise_error(f"dimension {dim} is too large: dimensions are 64-bit integers", at)
        return dim

    def _parse_dialect_resource_handle(
        self, dialect_name: str, interface: OpAsmDialectInterface
    ) -> str:
        """The stored key of a resource name: xDSL 0.74 keeps blobs in one store per process
        and renames a name already stored (`blob` -> `blob_0`), but only remembers the new
        name, so a second module's `dense_resource<blob>` and its `blob: "0x..."` got
        different keys (the data was lost). One file's name maps to one key."""
        name = self.parse_identifier(" for resource handle")
        key = self._resource_keys.get((dialect_name, name))
        if key is None:
            key = self._resource_keys[(dialect_name, name)] = interface.declare_resource(name)
        return key

    def _parse_resource(self, dialect_name: str, interface: OpAsmDialectInterface) -> None:
        """A `key: "0x..."` blob of the file's dialect_resources, checked where it is written
        (xDSL 0.74 accepts any text after `0x`): hex, with MLIR's 4-byte alignment header."""
        key = self._parse_dialect_resource_handle(dialect_name, interface)
        self._parse_token(MLIRTokenKind.COLON, "expected `:`")
        at = self._current_token.span
        value = self.parse_str_literal()
        if (problem := blob_problem(value)) is not None:
            self.raise_error(f"dense resource blob '{key}' {problem}", at)
        interface.parse_resource(key, value)

    def _dense_bytes(self, text: str, type: Attribute, at: Span) -> bytes:
        """The bytes of `dense<"0x...">`: one element (a splat) or exactly the type's."""
        if not text.startswith(("0x", "0X")):
            self.raise_error("expected a hex string starting with '0x' in dense literal", at)
        try:
            raw = bytes.fromhex(text[2:])
        except ValueError:
            self.raise_error("dense literal holds a malformed hex string", at)
        size = type.get_element_type().compile_time_size  # type: ignore[union-attr]
        count = math.prod(type.get_shape())  # type: ignore[union-attr]
        if len(raw) not in (size, size * count):
            self.raise_error(
                f"dense literal of type '{type}' needs {size * count} bytes ({count} x {size}), "
                f"or {size} for a splat; got {len(raw)}",
                at,
            )
        return raw

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        op = super().parse_operation()
        if isinstance(op.location, UnknownLoc):
            op.location = self.location_at(start)
        return op


def blob_problem(value: str) -> str | None:
    """What is wrong with the text of a resource blob, or None: MLIR blobs are hex strings
    whose first 4 bytes give the data's alignment (a power of two, little-endian)."""
    if not value.startswith("0x"):
        return "must be a hex string starting with '0x'"
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        return "holds a malformed hex string"
    if len(raw) < 4:
        return f"is {len(raw)} bytes long: expected a 4-byte alignment header before the data"
    align = int.from_bytes(raw[:4], "little")
    if align & (align - 1):
        return f"has alignment {align} in its header: expected a power of two"
    return None


def _parse_error(err: ParseError, parser: LocatedParser) -> DiagnosticError:
    span, message = err.span, err.msg
    undefined = [n for n in parser.forward_ssa_references if n in parser.first_forward_use]
    if message.startswith("values used but not defined") and undefined:
        name = min(undefined, key=parser.first_forward_use.__getitem__)
        position = parser.first_forward_use[name]
        return DiagnosticError(
            parser.location_at(position), f"use of undeclared SSA value name '%{name}'"
        )
    if span.start >= parser.text_length:  # e.g. a missing `}`: xDSL says " in block definition"
        message = f"unexpected end of input ({message.strip()})"
    if isinstance(err, MultipleSpansParseError) and err.refs:
        # "values used but not defined" points at the end of the input; the first use is
        # where a reader wants to look.
        span = err.refs[0][0]
        message = f"{message.rstrip(':')} ({err.refs[0][1] or span.text})".replace(
            "values used but not defined", "use of undeclared SSA value name"
        )
    if "{first_char}" in message:  # an unformatted f-string in xDSL 0.74's lexer
        message = message.replace("{first_char}", f"'{span.input.content[span.start]}'")
    return DiagnosticError(parser.location_at(span.start), _printable(message.strip()))


def _printable(text: str) -> str:
    """Control characters escaped, so a message about a stray byte stays printable text."""
    return "".join(
        c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
        for c in text
    )


def parse_mlir(text: str, filename: str, ctx: Context, line_offset: int = 0) -> ModuleOp:
    """Parse MLIR text into a module (top-level ops are wrapped in one if needed); raise
    DiagnosticError with the offending position on malformed input."""
    parser = LocatedParser(ctx, text, filename, line_offset)
    if parser._current_token.kind == MLIRTokenKind.EOF:  # pyright: ignore[reportPrivateUsage]
        # Only whitespace and comments (e.g. after a trailing `// -----`): an empty module,
        # as in mlir-opt; xDSL 0.74 says "Could not parse entire input!".
        empty = ModuleOp([])
        empty.location = parser.location_at(0)
        return empty
    try:
        module = parser.parse_module()
    except ParseError as err:
        raise _parse_error(err, parser) from None
    except DiagnosticError:
        raise
    except RecursionError:
        position = parser._current_token.span.start  # pyright: ignore[reportPrivateUsage]
        raise DiagnosticError(
            parser.location_at(position),
            "input nests too deeply to parse (Python's recursion limit was reached)",
        ) from None
    except Exception as err:  # xDSL's parser raises more than ParseError on odd input
        position = parser._current_token.span.start  # pyright: ignore[reportPrivateUsage]
        raise DiagnosticError(
            parser.location_at(position), f"{type(err).__name__}: {err}"
        ) from None
    if isinstance(module.location, UnknownLoc):  # an implicit module: at the chunk's start
        module.location = parser.location_at(0)
    return module


def forget_resources() -> None:
    """Empty the process-wide store of dense resource blobs (xDSL keeps one per dialect), so
    that the next module parsed keeps its blob names: only when no parsed module is in use."""
    interface = Builtin.get_interface(OpAsmDialectInterface)
    if interface is not None:
        interface._blob_storage.clear()  # pyright: ignore[reportPrivateUsage]


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
