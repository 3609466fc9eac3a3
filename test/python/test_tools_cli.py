"""tools/cli.py (outputs written all-or-nothing, input reading) and the inputs a careless or
hostile user sends that are valid: they must work, within the resource limits of the bad-input
corpus (a splat of 2^26 elements in a 200-byte file, big-endian .npy files, deep nesting, an
output that is its own input)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_bad_inputs import limit_resources

from red.dialects import red
from red.dialects.context import make_context
from red.dialects.numpy_interop import dense_to_numpy
from red.frontends.mlir_text import parse_mlir
from red.tools.cli import Outputs, ToolError, read_input, require_regular_file

# region Outputs


def test_outputs_are_written_only_on_commit(tmp_path: Path):
    out = tmp_path / "out.mlir"
    out.write_text("old")
    files = Outputs(inputs=[str(tmp_path / "in.mlir")])
    files.check(str(out))

    files.stage_text(str(out), "new")

    assert out.read_text() == "old"
    files.commit()
    assert out.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mlir"]


def test_failed_commit_leaves_every_file_and_no_temporary(tmp_path: Path):
    first, second = tmp_path / "a.mlir", tmp_path / "gone" / "b.mlir"
    first.write_text("old a")
    second.parent.mkdir()
    files = Outputs()
    files.check(str(first))
    files.check(str(second))
    files.stage_text(str(first), "new a")
    files.stage_text(str(second), "new b")
    second.parent.rmdir()  # the directory vanishes between the check and the commit

    with pytest.raises(ToolError, match=r"could not write output file '.*b\.mlir'"):
        files.commit()

    assert first.read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mlir"]


def test_failed_writer_removes_its_temporary(tmp_path: Path):
    out = tmp_path / "out.npy"
    out.write_bytes(b"old")
    files = Outputs()

    def broken(f) -> None:
        f.write(b"partial")
        raise RuntimeError("writer failed")

    files.stage(str(out), broken)
    with pytest.raises(RuntimeError, match="writer failed"):
        files.commit()

    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy"]


def test_output_through_a_link_writes_its_target(tmp_path: Path):
    target, link = tmp_path / "target.mlir", tmp_path / "link.mlir"
    target.write_text("old")
    link.symlink_to(target)
    files = Outputs()

    files.stage_text(str(link), "new")
    files.commit()

    assert link.is_symlink()
    assert target.read_text() == "new"


def test_output_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path):
    out = tmp_path / "out.mlir"
    out.write_text("old")
    out.chmod(0o640)
    files = Outputs()

    files.stage_text(str(out), "new")
    files.commit()

    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_output_to_a_device_is_written_in_place():
    files = Outputs()
    files.check(os.devnull)

    files.stage_text(os.devnull, "anything")
    files.commit()

    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("dir", "could not open report file '{p}': Is a directory", id="directory"),
        pytest.param(
            "missing-parent",
            "could not open report file '{p}': No such file or directory",
            id="missing-parent",
        ),
        pytest.param("input", "report file '{p}' is the input file; refusing", id="input"),
    ],
)
def test_check_refuses_bad_destinations(tmp_path: Path, setup: str, message: str):
    source = tmp_path / "in.mlir"
    source.write_text("module")
    path = {
        "dir": tmp_path,
        "missing-parent": tmp_path / "no" / "report.txt",
        "input": source,
    }[setup]
    files = Outputs(inputs=[str(source)])

    with pytest.raises(ToolError) as info:
        files.check(str(path), "report file", may_be_input=False)

    assert str(info.value).startswith(message.format(p=path))


def test_one_file_for_two_outputs_is_refused(tmp_path: Path):
    files = Outputs()
    files.stage_text(str(tmp_path / "x"), "a")

    with pytest.raises(ToolError, match="is given for two outputs"):
        files.stage_text(str(tmp_path / "." / "x"), "b")


def test_discard_removes_the_directories_it_made(tmp_path: Path):
    files = Outputs()

    files.make_dir(str(tmp_path / "a" / "b"))
    files.discard()

    assert list(tmp_path.iterdir()) == []


# endregion Outputs

# region Inputs


def test_read_input_refuses_directories(tmp_path: Path):
    with pytest.raises(ToolError, match=r"could not open input file '.*': Is a directory"):
        read_input(str(tmp_path))


def test_require_regular_file_refuses_devices():
    with pytest.raises(ToolError, match="'/dev/zero' is not a regular file"):
        require_regular_file("/dev/zero")


RESOURCE = """func.func @f() -> tensor<2xf32> {
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x04000000{data}"
    }
  }
#-}
"""


def test_each_parse_finds_its_own_resource_blobs():
    """xDSL 0.74 stores blobs per process: a second module defining `blob` got its data
    under another key than its use (and lost it)."""
    first = parse_mlir(RESOURCE.replace("{data}", "0000803F00000040"), "a.mlir", make_context())
    second = parse_mlir(RESOURCE.replace("{data}", "0000404000008040"), "b.mlir", make_context())

    values = [
        dense_to_numpy(next(op for op in m.walk() if isinstance(op, red.ConstantOp)).value)
        for m in (first, second)
    ]

    np.testing.assert_array_equal(values[0], [1.0, 2.0])
    np.testing.assert_array_equal(values[1], [3.0, 4.0])


# endregion Inputs

# region Hostile but valid inputs, end to end


def run_tool(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        preexec_fn=limit_resources,
    )


SPLAT = """func.func @main() -> tensor<8192x8192xf32> {
  %c = red.constant dense<1.5> : tensor<8192x8192xf32>
  func.return %c : tensor<8192x8192xf32>
}
"""


def test_huge_splat_stays_a_splat(tmp_path: Path):
    """256 MiB of elements in a 4-byte attribute: expanded (xDSL 0.74 built a Python list of
    67M floats) this needs several GiB; the limit is 2 GiB."""
    (tmp_path / "splat.mlir").write_text(SPLAT)

    proc = run_tool("red-opt", "splat.mlir", "-p", "canonicalize,cse", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "red.constant dense<1.500000e+00> : tensor<8192x8192xf32>" in proc.stdout


def test_output_may_be_the_input_when_the_run_succeeds(tmp_path: Path):
    source = tmp_path / "model.mlir"
    source.write_text(
        "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
        "  %a = red.neg %x : tensor<4xf32>\n"
        "  %b = red.neg %x : tensor<4xf32>\n"
        "  %c = red.add %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>\n"
        "  func.return %c : tensor<4xf32>\n"
        "}\n"
    )

    proc = run_tool("red-opt", "model.mlir", "-p", "cse", "-o", "model.mlir", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert source.read_text().count("red.neg") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mlir"]


def test_deeply_nested_regions_parse_verify_and_print(tmp_path: Path):
    depth = 3000  # the main thread's stack stopped at about 120
    text = "func.func @f(%c: i1) {\n" + "scf.if %c {\n" * depth + "}\n" * depth
    (tmp_path / "deep.mlir").write_text(text + "  func.return\n}\n")

    printed = run_tool("red-opt", "deep.mlir", cwd=tmp_path)
    folded = run_tool("red-opt", "deep.mlir", "-p", "canonicalize,cse", cwd=tmp_path)

    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.count("scf.if") == depth
    assert folded.returncode == 0, folded.stderr
    assert "scf.if" not in folded.stdout  # empty ifs fold away


def test_crlf_line_endings_parse(tmp_path: Path):
    text = "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\r\n  func.return %x : tensor<4xf32>\r\n}\r\n"
    (tmp_path / "crlf.mlir").write_bytes(text.encode())

    proc = run_tool("red-opt", "crlf.mlir", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "func.func @f" in proc.stdout


RUN_MODULE = """func.func @main(%x: tensor<2x3xf32>, %i: tensor<4xi64>) -> (tensor<2x3xf32>, tensor<4xi64>) {
  %y = red.mul %x, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %j = red.add %i, %i : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  func.return %y, %j : tensor<2x3xf32>, tensor<4xi64>
}
"""


@pytest.mark.parametrize("engine", ["interp", "jit"])
@pytest.mark.parametrize(
    ("x_layout", "i_dtype"),
    [
        pytest.param(">f4", ">i8", id="big-endian"),
        pytest.param("fortran", "<i8", id="fortran-order"),
    ],
)
def test_red_run_accepts_any_byte_order_and_layout(
    tmp_path: Path, engine: str, x_layout: str, i_dtype: str
):
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    i = np.array([3, -1, 7, 0], dtype=np.int64)
    stored = np.asfortranarray(x) if x_layout == "fortran" else x.astype(x_layout)
    np.save(tmp_path / "x.npy", stored)
    np.save(tmp_path / "i.npy", i.astype(i_dtype))
    (tmp_path / "m.mlir").write_text(RUN_MODULE)

    proc = run_tool(
        "red-run",
        "m.mlir",
        "--engine",
        engine,
        "--inputs",
        "x.npy",
        "i.npy",
        "--output-dir",
        "out",
        cwd=tmp_path,
    )

    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "result0.npy"), x * x)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "result1.npy"), i + i)


def test_red_run_failure_creates_no_output_dir(tmp_path: Path):
    (tmp_path / "m.mlir").write_text(RUN_MODULE)
    np.save(tmp_path / "x.npy", np.zeros((3, 2), np.float32))
    np.save(tmp_path / "i.npy", np.zeros(4, np.int64))

    proc = run_tool(
        "red-run",
        "m.mlir",
        "--engine",
        "interp",
        "--inputs",
        "x.npy",
        "i.npy",
        "--output-dir",
        "new/out",
        cwd=tmp_path,
    )

    assert proc.returncode == 1
    assert "expects 'tensor<2x3xf32>', got an array of shape 3x2" in proc.stderr
    assert not (tmp_path / "new").exists()


# endregion Hostile but valid inputs, end to end
