"""What every red command-line tool shares (DESIGN.md §6): the argument parser whose bad flag
is `error: ...` with exit code 1, reading the input, all-or-nothing writing of outputs, and the
wrapper that turns any failure into a diagnostic and exit code 1, never a traceback."""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, NoReturn

from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr

from red.dialects.diagnostics import DiagnosticError
from red.frontends.mlir_text import (
    DEFAULT_EXTERNAL_THRESHOLD,
    DEFAULT_RESOURCE_THRESHOLD,
    PrintedModule,
    decode_source,
    write_external_data,
)
from red.tools import diagnostics


class ToolError(Exception):
    """An error without a source location (missing file, unwritable output, bad flag value):
    printed as `error: message`, exit code 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is `error: ...` with exit code 1 (argparse exits with 2)."""

    def error(self, message: str) -> NoReturn:
        diagnostics.error(message)
        sys.exit(1)


def fail(message: str) -> int:
    """Print `error: message` and return the exit code of a failed run."""
    diagnostics.error(message)
    return 1


MAX_STREAM_BYTES = 1 << 30
"""How much red reads from a pipe or device (a regular file is read whole): `/dev/zero` as the
input is an error, not a process that grows until it is killed."""


def read_input(path: str) -> tuple[str, str]:
    """(text, name for diagnostics) of an input file, or of stdin for `-`; a file that cannot
    be read is a ToolError, text that is not UTF-8 a located DiagnosticError."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = _read_stream(sys.stdin.buffer, name)
        else:
            with open(path, "rb") as f:
                regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
                data = f.read() if regular else _read_stream(f, name)
    except OSError as err:
        raise ToolError(f"could not open input file '{path}': {err.strerror}") from None
    return decode_source(data, name), name


def _read_stream(stream: IO[bytes], name: str) -> bytes:
    data = stream.read(MAX_STREAM_BYTES + 1)
    if len(data) > MAX_STREAM_BYTES:
        raise ToolError(f"input '{name}' is larger than {MAX_STREAM_BYTES >> 30} GiB")
    return data


def require_regular_file(path: str) -> None:
    """For inputs read by libraries without a size bound (ONNX models): a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise ToolError(f"could not open input file '{path}': {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ToolError(f"could not open input file '{path}': Is a directory")
    if not stat.S_ISREG(mode):
        raise ToolError(f"input file '{path}' is not a regular file")


def require_text(text: str, filename: str) -> None:
    """An input of only whitespace is an error at 1:1 (a file of comments is an empty
    module, as in mlir-opt)."""
    if not text.strip():
        loc = FileLineColLoc(StringAttr(filename), IntAttr(1), IntAttr(1))
        raise DiagnosticError(loc, "input is empty: expected a module or operations")


def require_functions(module: ModuleOp, tool: str) -> None:
    """What the lowering needs of a module's layout: functions at its top level (a nested
    module is an error at that module) and at least one of them."""
    for op in module.body.ops:
        if isinstance(op, ModuleOp):
            raise DiagnosticError.at(
                op,
                f"'{op.name}' op nested modules are not supported: {tool} lowers the "
                "functions at the top level of the module",
            )
    if not any(isinstance(op, func.FuncOp | llvm.FuncOp) for op in module.body.ops):
        raise DiagnosticError.at(module, "module defines no function: there is nothing to lower")


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (through links; a path that does not exist is
    compared by its resolved name)."""
    if a == "-" or b == "-":
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _writes_in_place(path: str) -> bool:
    """Whether `path` is an existing file that is not a regular file (/dev/null, a FIFO, a
    terminal): it is written directly, never replaced by a rename."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _check_writable(path: str, what: str) -> None:
    """Fail early, as `open(path, "w")` would, rather than after the work is done."""
    real = os.path.realpath(path)
    if os.path.isdir(real):
        raise ToolError(f"could not open {what} '{path}': Is a directory")
    if _writes_in_place(real):
        return
    parent = os.path.dirname(real) or "."
    if not os.path.isdir(parent):
        raise ToolError(f"could not open {what} '{path}': No such file or directory")
    exists = os.path.exists(real)
    if not os.access(parent, os.W_OK) or (exists and not os.access(real, os.W_OK)):
        raise ToolError(f"could not open {what} '{path}': Permission denied")


@dataclass
class _Staged:
    path: str  # as the user wrote it (for messages)
    real: str  # where it goes (links followed)
    write: Callable[[IO[bytes]], object]


@dataclass
class Outputs:
    """The files a run writes, written only when the run succeeds: each goes to a temporary
    file in its destination's directory and is renamed over the destination once all are
    written, so a failed run (bad input, a failing pass, a full disk) leaves every existing
    file as it was, the input included when it is also the output."""

    inputs: Sequence[str] = ()
    staged: list[_Staged] = field(default_factory=list[_Staged])
    made_dirs: list[str] = field(default_factory=list[str])

    def check(self, path: str, what: str = "output file", may_be_input: bool = True) -> None:
        """Validate a destination before any work: writable, not a directory, not given twice,
        and (unless `may_be_input`) not one of the inputs."""
        if path == "-":
            return
        if not may_be_input and any(same_file(path, i) for i in self.inputs):
            raise ToolError(f"{what} '{path}' is the input file; refusing to overwrite it")
        _check_writable(path, what)

    def stage(self, path: str, write: Callable[[IO[bytes]], object]) -> None:
        """Write `path` on commit by calling `write` on a binary stream (stdout for `-`)."""
        real = os.path.realpath(path) if path != "-" else "-"
        if real != "-" and any(same_file(s.real, real) for s in self.staged):
            raise ToolError(f"'{path}' is given for two outputs")
        self.staged.append(_Staged(path, real, write))

    def stage_text(self, path: str, text: str) -> None:
        self.stage(path, lambda f: f.write(text.encode("utf-8")))

    def make_dir(self, path: str) -> None:
        """Create a directory (and its parents) now, remembering which ones to remove if the
        commit fails."""
        missing: list[str] = []
        head = os.path.abspath(path)
        while not os.path.exists(head):
            missing.append(head)
            head = os.path.dirname(head)
        os.makedirs(path, exist_ok=True)
        self.made_dirs += reversed(missing)

    def commit(self, what: str = "output file") -> None:
        """Write every staged output; on any failure remove what this run created and raise
        ToolError (no destination has been touched then)."""
        temps: list[tuple[_Staged, str]] = []
        current = ""
        try:
            for s in self.staged:
                current = s.path
                if s.real == "-":
                    continue
                if _writes_in_place(s.real):
                    with open(s.real, "wb") as f:
                        s.write(f)
                    continue
                temps.append((s, self._write_temporary(s)))
        except BaseException as err:
            for _, temp in temps:
                _remove(temp)
            self.discard()
            if isinstance(err, OSError):
                raise ToolError(f"could not write {what} '{current}': {err.strerror}") from None
            raise
        for i, (s, temp) in enumerate(temps):
            try:
                os.replace(temp, s.real)
            except OSError as err:  # e.g. the destination became a directory meanwhile
                for _, left in temps[i:]:
                    _remove(left)
                raise ToolError(f"could not write {what} '{s.path}': {err.strerror}") from None
        for s in self.staged:
            if s.real == "-":
                _write_stdout(s)
        self.staged.clear()
        self.made_dirs.clear()

    @staticmethod
    def _write_temporary(s: _Staged) -> str:
        directory = os.path.dirname(s.real) or "."
        fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(s.real)}.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                s.write(f)
            os.chmod(temp, _mode_for(s.real))
        except BaseException:
            _remove(temp)
            raise
        return temp

    def discard(self) -> None:
        """Forget the staged outputs and remove directories this run created."""
        self.staged.clear()
        for d in reversed(self.made_dirs):
            _remove_dir(d)
        self.made_dirs.clear()


def _write_stdout(s: _Staged) -> None:
    """Through stdout's byte buffer, or as text where stdout has none (a StringIO)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        data = io.BytesIO()
        s.write(data)
        sys.stdout.write(data.getvalue().decode("utf-8", errors="replace"))
    else:
        s.write(buffer)
        buffer.flush()


def _mode_for(path: str) -> int:
    """The permission bits the destination has, or those `open` would give a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _remove_dir(path: str) -> None:
    try:
        os.rmdir(path)  # only if still empty
    except OSError:
        pass


# region Weights in the output


def _byte_count(text: str) -> int | None:
    """A byte count flag: an integer >= 0 (with an optional K/M/G suffix), or `none`."""
    if text.lower() == "none":
        return None
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale != 1 else text
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a byte count such as 4096, 64M or none, got '{text}'"
        )
    return int(digits) * scale


def add_resource_options(p: argparse.ArgumentParser) -> None:
    """The flags that say where large constants go in an output module."""
    p.add_argument(
        "--resource-threshold",
        type=_byte_count,
        default=DEFAULT_RESOURCE_THRESHOLD,
        metavar="BYTES",
        help="constants of at least BYTES print as dense_resource blobs, not as numbers "
        f"('none': never; default {DEFAULT_RESOURCE_THRESHOLD})",
    )
    p.add_argument(
        "--external-data",
        default=None,
        metavar="FILE",
        help="write the blobs to FILE (the text records its path relative to the output) "
        "instead of hex text in the output",
    )
    p.add_argument(
        "--external-data-threshold",
        type=_byte_count,
        default=DEFAULT_EXTERNAL_THRESHOLD,
        metavar="BYTES",
        help="without --external-data, blobs totalling at least BYTES go to OUTPUT.weights "
        f"beside an output file ('none': never; default {DEFAULT_EXTERNAL_THRESHOLD >> 20}M)",
    )


def check_external_data(files: Outputs, output: str, external: str | None) -> None:
    """Validate `--external-data` before any work (an output file is needed to place it
    relative to; it may not be the input or the output)."""
    if external is None:
        return
    if output == "-":
        raise ToolError("--external-data needs an output file (-o) to name it relative to")
    files.check(external, "external data file", may_be_input=False)
    if same_file(external, output):
        raise ToolError(f"--external-data '{external}' is also the output file")


def stage_module(
    files: Outputs,
    output: str,
    printed: PrintedModule,
    external: str | None,
    external_threshold: int | None,
) -> None:
    """Stage a printed module for `output`, with its blobs as hex in it or, given
    `--external-data` or past the threshold (for an output file), in an external data file
    whose path the text records relative to the output's directory."""
    data_path = external
    if (
        data_path is None
        and output != "-"
        and external_threshold is not None
        and printed.resources.blobs
        and printed.blob_bytes >= external_threshold
    ):
        data_path = output + ".weights"
        files.check(data_path, "external data file", may_be_input=False)
    if data_path is not None:
        base = os.path.dirname(os.path.abspath(output))
        printed.resources.external_file = os.path.relpath(os.path.abspath(data_path), base)
        blobs = printed.resources.blobs
        files.stage(data_path, lambda f: write_external_data(blobs, f))

    def write(f: IO[bytes]) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        printed.write(text)
        text.flush()
        text.detach()

    files.stage(output, write)


# endregion Weights in the output


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


STACK_BYTES = 512 << 20
"""The stack of the thread a tool runs in: xDSL parses, verifies and prints nested regions
recursively, and the main thread's 8 MiB (with Python's default limit of 1000 frames) stops at
about 120 nested `scf.if`s; this allows thousands."""
RECURSION_LIMIT = 100_000


def guarded_main(run: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    """Run a tool in a thread with a deep stack: bad input never shows a traceback; an internal
    error says so (and shows one with RED_TRACEBACK=1)."""
    result: list[int] = []
    previous_stack, previous_limit = threading.stack_size(), sys.getrecursionlimit()
    try:
        threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform without adjustable thread stacks
        return _guarded(run, argv)
    sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
    try:
        worker = threading.Thread(target=lambda: result.append(_guarded(run, argv)), daemon=True)
        worker.start()
        threading.stack_size(previous_stack)
        worker.join()
    except KeyboardInterrupt:
        return 130
    finally:
        sys.setrecursionlimit(previous_limit)
    return result[0] if result else 1


def _guarded(run: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    try:
        return run(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except DiagnosticError as err:
        diagnostics.emit(err)
        return 1
    except ToolError as err:
        return fail(str(err))
    except MemoryError:
        return fail("out of memory: the input needs more memory than this process may use")
    except RecursionError:
        return fail("input nests too deeply (Python's recursion limit was reached)")
    except Exception as err:
        if os.environ.get("RED_TRACEBACK"):
            traceback.print_exc()
        return fail(
            f"internal compiler error: {type(err).__name__}: {err} "
            "(set RED_TRACEBACK=1 for a traceback)"
        )
