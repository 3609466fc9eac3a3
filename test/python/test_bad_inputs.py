"""The bad-input corpus (test/inputs/bad/<tool>/): every case runs its tool in a fresh directory
under resource limits and must fail cleanly (DESIGN.md §6): exit code 1, the diagnostic its
first line announces (located `file:line:col: error: ...`, or `error: ...` for files and flags)
as the first error printed, no traceback, no internal error, within the CPU limit, and every file
that existed before the run (the input, an `-o` target, earlier results) unchanged, with no new
file left behind.

A case file starts with
    // <what it tests>; expects <line:col: >error: <message>
and may add header lines:
    // ARGS: <arguments>        (default: the tool's usual run with an existing output, below)
    // NPY: a.npy=float32:2x3   (.npy files to create first; see make_inputs.npy_bytes)
    // MODEL: <name>            (red-import: the model make_inputs.MODELS writes as <name>.onnx)
    // FILES: <name> ...        (more files that exist before the run)
    // XFAIL: <reason>          (a fix outside the tools is pending: the case must still fail
                                 this test, and is reported as soon as it passes)
Arguments may use {input} (the case file, or the model), {out} (an existing output file) and
{results} (an existing --output-dir holding result0.npy)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "inputs" / "bad"
sys.path.insert(0, str(CORPUS))

from make_inputs import write_model, write_npy  # noqa: E402

TOOLS = ("red-opt", "red-translate", "red-run", "red-import")
DEFAULT_ARGS = {
    "red-opt": "{input} -o {out}",
    "red-translate": "--mlir-to-llvmir {input} -o {out}",
    "red-run": "{input} --engine interp --random --output-dir {results}",
    "red-import": "{input} -o {out}",
}
ADDRESS_SPACE = 2 << 30  # bytes: the tools need under 1 GiB; an expanded 8192^2 splat would not fit
CPU_SECONDS = 60
WALL_SECONDS = 180  # a backstop for a process that sleeps or blocks instead of computing
SENTINEL = b"// an existing file: a failed run must leave it as it was\n"

FIRST_LINE = re.compile(
    r"^// (?P<what>.+?); expects (?P<where>(?:\S.*?: )?)error:(?: (?P<message>.*))?$"
)
HEADER = re.compile(r"^// (?P<key>ARGS|NPY|MODEL|FILES|XFAIL): (?P<value>.*)$")


@dataclass(frozen=True)
class Case:
    tool: str
    path: Path
    what: str
    where: str  # `line:col: ` (`0:0: 'node': ` for ONNX) in the input, `<stdin>:1:1: `, or empty
    message: str
    args: str
    npy: tuple[tuple[str, str], ...]
    model: str | None
    files: tuple[str, ...]
    xfail: str | None

    @property
    def id(self) -> str:
        return f"{self.tool}/{self.path.stem}"


def read_case(tool: str, path: Path) -> Case:
    lines = path.read_bytes().split(b"\n")
    first = FIRST_LINE.match(lines[0].decode("utf-8"))
    assert first, f"{path}: the first line must read '// <what>; expects <where>error: <message>'"
    header: dict[str, str] = {}
    for raw in lines[1:]:
        m = HEADER.match(raw.decode("utf-8", errors="replace"))
        if m is None:
            break
        header[m.group("key")] = m.group("value")
    npy = tuple(tuple(item.split("=", 1)) for item in header.get("NPY", "").split())
    return Case(
        tool=tool,
        path=path,
        what=first.group("what"),
        where=first.group("where"),
        message=first.group("message") or "",
        args=header.get("ARGS", DEFAULT_ARGS[tool]),
        npy=npy,  # type: ignore[arg-type]
        model=header.get("MODEL"),
        files=tuple(header.get("FILES", "").split()),
        xfail=header.get("XFAIL"),
    )


def all_cases() -> list[Case]:
    cases = []
    for tool in TOOLS:
        for path in sorted((CORPUS / tool).iterdir()):
            if path.suffix in (".mlir", ".case"):
                cases.append(read_case(tool, path))
    return cases


CASES = all_cases()
NO_ONNX = pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None,
    reason="red-import cases need the onnx package (pip install 'red[onnx]')",
)


def marks(case: Case) -> list[pytest.MarkDecorator]:
    found = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return [*found, NO_ONNX] if case.tool == "red-import" else found


PARAMS = [pytest.param(c, id=c.id, marks=marks(c)) for c in CASES]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    input_name: str
    before: dict[str, str]
    after: dict[str, str]


def checksums(root: Path) -> dict[str, str]:
    """Every file and directory under `root`, by relative path, with its content's hash."""
    sums: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            sums[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            sums[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return sums


def limit_resources() -> None:
    """Runs in the child before exec: bounded memory and CPU time, no core file."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def prepare(case: Case, work: Path) -> dict[str, str]:
    """The case's directory: its input, an existing output and result directory, its .npy
    files and model; returns the substitutions for its arguments."""
    work.mkdir(parents=True)
    (work / "out.mlir").write_bytes(SENTINEL)
    (work / "results").mkdir()
    (work / "results" / "result0.npy").write_bytes(SENTINEL)
    for name in case.files:
        (work / name).write_bytes(SENTINEL)
    for name, spec in case.npy:
        write_npy(spec, work / name)
    if case.model is not None:
        input_name = f"{case.model}.onnx"
        write_model(case.model, work / input_name)
    else:
        input_name = case.path.name
        shutil.copyfile(case.path, work / input_name)
    return {"input": input_name, "out": "out.mlir", "results": "results"}


def substitute(text: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def run_case(case: Case, root: Path) -> Outcome:
    work = root / case.tool / case.path.stem
    names = prepare(case, work)
    argv = [case.tool, *(substitute(a, names) for a in shlex.split(case.args))]
    before = checksums(work)
    env = {k: v for k, v in os.environ.items() if k != "RED_TRACEBACK"}
    env["RED_TEST_PASSES"] = "1"  # test-miscompile, for failing-pass cases
    proc = subprocess.run(
        argv,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=WALL_SECONDS,
        preexec_fn=limit_resources,
    )
    return Outcome(
        proc.returncode,
        proc.stdout.decode("utf-8", errors="replace"),
        proc.stderr.decode("utf-8", errors="replace"),
        names["input"],
        before,
        checksums(work),
    )


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Every selected case, run two at a time (each is a process of its own)."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if item.module is request.module
        and hasattr(item, "callspec")
        and "case" in item.callspec.params
    ]
    root = tmp_path_factory.mktemp("bad-inputs")
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        results = pool.map(lambda c: (c.id, run_case(c, root)), selected)
        return dict(results)


def test_corpus_covers_every_tool_and_kind():
    per_tool = {tool: [c for c in CASES if c.tool == tool] for tool in TOOLS}
    kinds = {c.path.stem.split("-")[0] for c in CASES}

    assert len(CASES) >= 100
    assert all(len(cases) >= 10 for cases in per_tool.values()), {
        t: len(c) for t, c in per_tool.items()
    }
    assert {"lex", "syntax", "verify", "option", "io", "shape", "size"} <= kinds
    assert all(c.message for c in CASES if not c.xfail), "each case states its message"


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_fails_cleanly(case: Case, outcomes: dict[str, Outcome]):
    out = outcomes[case.id]
    names = {"input": out.input_name, "out": "out.mlir", "results": "results"}
    expected = substitute(f"{case.where}error: {case.message}", names)
    if case.where[:1].isdigit():  # `line:col: ` in the input; else a name such as <stdin>
        expected = f"{out.input_name}:{expected}"
    errors = [line for line in out.stderr.splitlines() if "error:" in line]

    assert out.returncode == 1, f"exit code {out.returncode}; stderr:\n{out.stderr}"
    assert "Traceback" not in out.stderr
    assert "internal compiler error" not in out.stderr
    assert errors, f"no error printed; stderr:\n{out.stderr}"
    assert errors[0].startswith(expected), f"expected: {expected}\nstderr:\n{out.stderr}"
    assert out.after == out.before, "files changed, appeared or disappeared"
