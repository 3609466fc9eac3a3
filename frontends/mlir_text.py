"""The textual MLIR frontend: parse with a source location on every op, print back."""

from __future__ import annotations

import bisect
import functools
import io
import math
import mmap
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

from xdsl.context import Context
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyDenseElement,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IntAttr,
    IntegerType,
    ModuleOp,
    NameLoc,
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
from red.dialects.numpy_interop import Blob, blob_store, hold_resources
from red.dialects.red.constants import ConstantOp

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


# region Reading file metadata


_SPACE = re.compile(r"(?:\s|//[^\n]*)*")
_IDENT = re.compile(r"[A-Za-z_][\w$.-]*")
_NON_HEX = re.compile(r"[^0-9A-Fa-f]")
_EXTERNAL_ENTRY = re.compile(r"offset=(\d+),length=(\d+)(?:,alignment=(\d+))?")


class _MetadataReader:
    """Reads the `{-# ... #-}` section that ends a file before xDSL's parser sees the text:
    blobs are decoded from hex once, a chunk at a time, into the blob store (xDSL 0.74 would
    lex each blob as one string token, then keep it as hex), and the external data file is
    memory-mapped. Errors are located at the offending character."""

    def __init__(self, text: str, start: int, locate: Callable[[int], FileLineColLoc], path: str):
        self.text, self.pos, self.locate = text, start, locate
        self.directory = os.path.dirname(path) if path not in ("-", "<stdin>") else ""
        self.keys: dict[str, str] = {}
        """The file's resource names -> their keys in the blob store."""

    def error(self, message: str, at: int | None = None) -> DiagnosticError:
        return DiagnosticError(self.locate(self.pos if at is None else at), message)

    def skip(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()  # pyright: ignore[reportOptionalMemberAccess]

    def punct(self, token: str, context: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.pos):
            raise self.error(f"expected '{token}' {context}")
        self.pos += len(token)

    def optional(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def ident(self, what: str) -> tuple[str, int]:
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if m is None:
            raise self.error(f"expected {what}")
        self.pos = m.end()
        return m.group(), m.start()

    def string(self, what: str) -> tuple[int, int]:
        """The span of a string literal's contents (no escapes: blobs and names need none)."""
        self.skip()
        if not self.text.startswith('"', self.pos):
            raise self.error(f"expected a string for {what}")
        end = self.text.find('"', self.pos + 1)
        if end < 0:
            raise self.error("unterminated string")
        start, self.pos = self.pos + 1, end + 1
        return start, end

    def read(self) -> None:
        """`{-# name: {...}, ... #-}`, then nothing but whitespace and comments."""
        self.punct("{-#", "to open the file metadata")
        while True:
            section, _ = self.ident("a file metadata key")
            self.punct(":", f"after '{section}'")
            if section == "dialect_resources":
                self.named_items("resource group", self.dialect_group)
            elif section == "external_resources":
                self.named_items("resource group", self.external_group)
            else:
                self.skip()  # at the value, as xDSL 0.74 says it
                raise self.error(f"got an unexpected key in file metadata: {section}")
            if self.optional("#-}"):
                break
            self.punct(",", "or '#-}' in the file metadata")

    def named_items(self, what: str, item: Callable[[str, int], None]) -> None:
        """`{ name: <item>, ... }`, calling `item(name, position of name)` for each."""
        self.punct("{", f"to open a {what} list")
        if self.optional("}"):
            return
        while True:
            name, at = self.ident(f"a {what} name")
            self.punct(":", f"after '{name}'")
            item(name, at)
            if self.optional("}"):
                return
            self.punct(",", f"or '}}' after a {what}")

    def declare(self, name: str, at: int) -> str:
        if name in self.keys:
            raise self.error(f"resource '{name}' is given twice", at)
        key = self.keys[name] = blob_store().declare_resource(name)
        return key

    def dialect_group(self, dialect: str, at: int) -> None:
        if dialect != "builtin":
            raise self.error(f"dialect '{dialect}' has no resources (only builtin's are read)", at)
        self.named_items("resource", self.hex_blob)

    def hex_blob(self, name: str, at: int) -> None:
        """`name: "0x..."`: the 4-byte alignment word, then the data, decoded a chunk at a
        time into one buffer (errors located at the string, as MLIR does)."""
        start, end = self.string(f"blob '{name}'")
        text, quote = self.text, start - 1
        if not text.startswith("0x", start):
            raise self.error(
                f"dense resource blob '{name}' must be a hex string starting with '0x'", quote
            )
        if (bad := _NON_HEX.search(text, start + 2, end)) is not None:
            column = bad.start() - text.rfind("\n", 0, bad.start())
            char = _printable(bad.group())
            raise self.error(
                f"dense resource blob '{name}' holds a malformed hex string ('{char}' at "
                f"column {column})",
                quote,
            )
        digits = end - start - 2
        if digits % 2:
            raise self.error(
                f"dense resource blob '{name}' holds a malformed hex string (an odd number "
                f"of digits, {digits})",
                quote,
            )
        if digits < 8:
            raise self.error(
                f"dense resource blob '{name}' is {digits // 2} bytes long: expected a 4-byte "
                "alignment header before the data",
                quote,
            )
        align = int.from_bytes(bytes.fromhex(text[start + 2 : start + 10]), "little")
        if align == 0 or align & (align - 1):
            raise self.error(
                f"dense resource blob '{name}' has alignment {align} in its header: expected a "
                "power of two",
                quote,
            )
        data = bytearray(digits // 2 - 4)
        first = start + 10
        for offset in range(0, len(data), _HEX_CHUNK):
            count = min(_HEX_CHUNK, len(data) - offset)
            a = first + 2 * offset
            data[offset : offset + count] = bytes.fromhex(text[a : a + 2 * count])
        blob_store().set(self.declare(name, at), data, align)

    def external_group(self, group: str, at: int) -> None:
        if group != EXTERNAL_GROUP:
            raise self.error(
                f"unknown external resource group '{group}' (red reads '{EXTERNAL_GROUP}')", at
            )
        self.punct("{", "to open a resource group")
        name, at = self.ident("'file'")
        if name != "file":
            raise self.error(f"expected 'file' first in '{EXTERNAL_GROUP}', got '{name}'", at)
        self.punct(":", "after 'file'")
        start, end = self.string("the data file's name")
        data = self.map_file(self.text[start:end], start)
        while not self.optional("}"):
            self.punct(",", "or '}' after a resource")
            key, at = self.ident("a resource key")
            self.punct(":", f"after resource key '{key}'")
            s, e = self.string(f"resource '{key}'")
            m = _EXTERNAL_ENTRY.fullmatch(self.text, s, e)
            if m is None:
                raise self.error(
                    f"resource '{key}' expects \"offset=N,length=N[,alignment=N]\"", s - 1
                )
            offset, length = int(m.group(1)), int(m.group(2))
            if offset + length > data.nbytes:
                raise self.error(
                    f"resource '{key}' needs bytes {offset}..{offset + length} of the data "
                    f"file, which holds {data.nbytes}",
                    s - 1,
                )
            align = int(m.group(3) or 1)
            blob_store().set(self.declare(key, at), data[offset : offset + length], align)

    def map_file(self, name: str, at: int) -> memoryview:
        path = os.path.join(self.directory, name)
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    return memoryview(b"")
                return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
        except OSError as err:
            raise self.error(f"cannot read the data file '{path}': {err.strerror}", at) from None


def _split_metadata(text: str) -> int | None:
    """Where the file metadata section (`{-#` at the start of a line) begins, if the text
    has one: the last `{-#`, since the section ends the file."""
    start = text.rfind("{-#")
    if start < 0 or text[text.rfind("\n", 0, start) + 1 : start].strip():
        return None
    return start


# endregion Reading file metadata


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
    DiagnosticError with the offending position on malformed input. The module's dense
    resource blobs live as long as its attributes naming them (a failed parse keeps none)."""
    with blob_store().recording() as declared:
        parser = _located_parser(text, filename, ctx, line_offset)
        if parser._current_token.kind == MLIRTokenKind.EOF:  # pyright: ignore[reportPrivateUsage]
            # Only whitespace and comments (e.g. after a trailing `// -----`): an empty
            # module, as in mlir-opt; xDSL 0.74 says "Could not parse entire input!".
            module = ModuleOp([])
            module.location = parser.location_at(0)
        else:
            # Called from here, not from a helper: the depth at which Python's recursion
            # limit stops a deeply nested input (and so the error's column) stays as it was.
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
            if isinstance(module.location, UnknownLoc):  # an implicit module: at its start
                module.location = parser.location_at(0)
    hold_resources(module, declared)
    return module


def _located_parser(text: str, filename: str, ctx: Context, line_offset: int) -> LocatedParser:
    """A parser of `text` without its file metadata section, whose resources it has read."""
    keys: dict[str, str] = {}
    if (start := _split_metadata(text)) is not None:

        def locate(position: int) -> FileLineColLoc:  # only for an error: may scan the text
            line = text.count("\n", 0, position) + 1 + line_offset
            column = position - (text.rfind("\n", 0, position) + 1) + 1
            return FileLineColLoc(StringAttr(filename), IntAttr(line), IntAttr(column))

        reader = _MetadataReader(text, start, locate, filename)
        reader.read()
        keys, rest = reader.keys, text[reader.pos :]
        # The parser reads the text without the section; what follows it (IR after file
        # metadata: legal, but rare) keeps its lines and columns.
        blank = re.sub(r"[^\n]", " ", text[start : reader.pos]) if rest.strip() else ""
        text = text[:start] + blank + rest
    parser = LocatedParser(ctx, text, filename, line_offset)
    parser._resource_keys.update({("builtin", n): k for n, k in keys.items()})  # pyright: ignore[reportPrivateUsage]
    return parser


def forget_resources() -> None:
    """Empty the process-wide store of dense resource blobs, so that the next module parsed
    keeps its blob names: only when no parsed module is in use."""
    blob_store().clear()


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


# region Printing


DEFAULT_RESOURCE_THRESHOLD = 4096
"""Bytes from which a dense constant prints as a `dense_resource` blob (1024 f32 elements:
a 32x32 matrix stays inline, readable; every weight of a real model becomes a blob)."""

DEFAULT_EXTERNAL_THRESHOLD = 64 << 20
"""Total blob bytes from which red-import and red-opt, writing a file, put the blobs in an
external data file beside it instead of hex text in it."""

EXTERNAL_GROUP = "red.external_data"
"""The `external_resources` group that maps dense resources to ranges of a data file."""

_EXTERNAL_ALIGNMENT = 64
_HEX_CHUNK = 1 << 24  # bytes of blob hex-encoded (or decoded) at a time
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.]")


@dataclass
class Resources:
    """How the printer writes large constants: a dense constant of at least `threshold`
    bytes (None: none) prints as `dense_resource<key>`; blobs go to the text's
    `dialect_resources`, or, with `external_file`, to that data file (its name as the text
    records it, relative to the text's directory), which `write_external_data` writes."""

    threshold: int | None = DEFAULT_RESOURCE_THRESHOLD
    external_file: str | None = None
    blobs: list[tuple[str, Blob]] = field(default_factory=list[tuple[str, Blob]])
    """Filled by the printer: the blobs the text refers to, in the order printed."""


class _ResourcePrinter(Printer):
    """xDSL's printer, printing the large dense constants of constant ops as
    `dense_resource<key>` (keys from the op's SSA name or location) and recording every
    blob the text refers to."""

    def __init__(self, resources: Resources, **kwargs: Any):
        super().__init__(**kwargs)
        self.resources = resources
        self._op: Operation | None = None
        self._keys: dict[str, Blob | None] = {}  # printed keys in order (None: no data)
        self._made: dict[int, str] = {}  # id(attribute) -> key made for it
        self._shown: dict[str, str] = {}  # store key -> key printed

    def print_op(self, op: Operation) -> None:
        outer, self._op = self._op, op
        try:
            super().print_op(op)
        finally:
            self._op = outer

    def print_attribute(self, attribute: Attribute) -> None:
        if isinstance(attribute, DenseIntOrFPElementsAttr) and self._as_resource(attribute):
            key = self._made.get(id(attribute))
            if key is None:
                key = self._made[id(attribute)] = self._new_key(self._hint())
                self._keys[key] = Blob(
                    memoryview(attribute.data.data).cast("B"), _alignment_of(attribute)
                )
            self.print_string("dense_resource<")
            Printer.print_resource_handle(self, "builtin", key)
            self.print_string("> : ")
            self.print_attribute(attribute.get_type())
            return
        super().print_attribute(attribute)

    def print_resource_handle(self, dialect: str, handle: str) -> None:
        """A stored blob prints under the name it was declared with (the parsed file's,
        not the store's `name_0`), made unique in this text."""
        if dialect == "builtin":
            shown = self._shown.get(handle)
            if shown is None:
                store = blob_store()
                shown = self._shown[handle] = self._new_key(store.declared_name(handle))
                self._keys[shown] = store.blob(handle)
            handle = shown
        super().print_resource_handle(dialect, handle)

    def _as_resource(self, attribute: DenseIntOrFPElementsAttr) -> bool:
        threshold = self.resources.threshold
        op = self._op
        return (
            threshold is not None
            and len(attribute.data.data) >= threshold
            and isinstance(op, ConstantOp | arith.ConstantOp)
            and op.value is attribute
            and _alignment_of(attribute) > 0
        )

    def _hint(self) -> str:
        """A name for the blob of the op being printed: its SSA name or its location's."""
        op = self._op
        if op is None or not op.results:
            return "blob"
        hint = op.results[0].name_hint
        if hint is None and isinstance(op.location, NameLoc):
            hint = op.location.desc.data
        return hint or "blob"

    def _new_key(self, hint: str) -> str:
        """`hint` as a resource key not yet printed in this text."""
        base = _KEY_CHARS.sub("_", hint)
        if not (base[:1].isalpha() or base[:1] == "_"):
            base = "_" + base
        key, n = base, 0
        while key in self._keys:
            key, n = f"{base}_{n}", n + 1
        return key

    def blobs(self) -> list[tuple[str, Blob]]:
        return [(k, b) for k, b in self._keys.items() if b is not None]


def _alignment_of(attribute: DenseIntOrFPElementsAttr) -> int:
    """The blob alignment of an attribute's elements: their byte size (0 when they have no
    whole-byte size, e.g. i1, which stays inline)."""
    width = getattr(attribute.get_element_type(), "bitwidth", None)
    if not isinstance(width, int) or width % 8 or width == 0:
        return 0
    return width // 8


def external_layout(blobs: list[tuple[str, Blob]]) -> list[tuple[str, Blob, int]]:
    """Where each blob lies in an external data file: one after another, each at an offset
    aligned to 64 bytes."""
    placed: list[tuple[str, Blob, int]] = []
    offset = 0
    for key, blob in blobs:
        offset = -(-offset // _EXTERNAL_ALIGNMENT) * _EXTERNAL_ALIGNMENT
        placed.append((key, blob, offset))
        offset += blob.nbytes
    return placed


def write_external_data(blobs: list[tuple[str, Blob]], stream: IO[bytes]) -> None:
    """The external data file of `blobs` (as `external_layout` places them)."""
    position = 0
    for _, blob, offset in external_layout(blobs):
        stream.write(b"\0" * (offset - position))
        stream.write(blob.data)
        position = offset + blob.nbytes


def _print_resources(stream: IO[str], resources: Resources) -> None:
    """The file metadata (`{-# ... #-}`) of the blobs the text refers to: hex blobs in
    `dialect_resources` (as MLIR prints them), or offsets into the external data file."""
    if not resources.blobs:
        return
    stream.write("\n\n{-#\n")
    if resources.external_file is not None:
        stream.write(f"  external_resources: {{\n    {EXTERNAL_GROUP}: {{\n")
        stream.write(f'      file: "{_escape(resources.external_file)}"')
        for key, blob, offset in external_layout(resources.blobs):
            stream.write(
                f',\n      {key}: "offset={offset},length={blob.nbytes},alignment={blob.alignment}"'
            )
    else:
        stream.write("  dialect_resources: {\n    builtin: {\n")
        for i, (key, blob) in enumerate(sorted(resources.blobs, key=lambda kb: kb[0])):
            separator = ",\n" if i else ""
            stream.write(f'{separator}      {key}: "0x{blob.header().hex().upper()}')
            for start in range(0, blob.nbytes, _HEX_CHUNK):
                stream.write(blob.data[start : start + _HEX_CHUNK].hex().upper())
            stream.write('"')
    stream.write("\n    }\n  }\n#-}")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class PrintedModule:
    """A module's text without its file metadata, and the blobs that metadata lists: what a
    tool writes, as text (blobs in hex, a chunk at a time) or text and external data file."""

    ir: str
    resources: Resources

    @property
    def blob_bytes(self) -> int:
        return sum(blob.nbytes for _, blob in self.resources.blobs)

    def write(self, stream: IO[str]) -> None:
        stream.write(self.ir)
        _print_resources(stream, self.resources)
        stream.write("\n")


def render_module(
    module: Operation,
    *,
    generic: bool = False,
    debuginfo: bool = False,
    resources: Resources | None = None,
) -> PrintedModule:
    """The module printed like mlir-opt (custom or generic form); constants of
    `resources.threshold` bytes or more become dense resource blobs."""
    resources = resources if resources is not None else Resources()
    buf = io.StringIO()
    printer = _ResourcePrinter(
        resources, stream=buf, print_generic_format=generic, print_debuginfo=debuginfo
    )
    printer.print_op(module)
    resources.blobs = printer.blobs()
    return PrintedModule(buf.getvalue(), resources)


def print_module(
    module: Operation,
    stream: IO[str],
    *,
    generic: bool = False,
    debuginfo: bool = False,
    resources: Resources | None = None,
) -> list[tuple[str, Blob]]:
    """Print like mlir-opt, then the dense resource blobs the text refers to; returns those
    blobs (written by `write_external_data` when `resources.external_file` is set)."""
    printed = render_module(module, generic=generic, debuginfo=debuginfo, resources=resources)
    printed.write(stream)
    return printed.resources.blobs


def module_to_text(module: Operation, *, generic: bool = False) -> str:
    buf = io.StringIO()
    print_module(module, buf, generic=generic)
    return buf.getvalue()


# endregion Printing
