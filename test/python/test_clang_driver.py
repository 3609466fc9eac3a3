"""The emitted LLVM IR outside red (DESIGN.md §4): llvmlite's parser and verifier accept, and
llvm-as-16 and clang-16 -O2 compile, every lowered module the lowering tests use (every op);
the examples, built with clang-16 -O2 together with a C driver generated from the signature
(the ABI `void red_main(T0 *arg0, ..., R0 *res0, ...)`), compute what the JIT computes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest
import test_lowering_memory as memory
import test_lowering_ops as ops
from lowering_helpers import (
    EXAMPLE_IDS,
    EXAMPLE_VARIANTS,
    c_driver,
    example_llvm_ir,
    example_module,
    missing_tools,
    public_function,
    read_results,
)

import red
from red.lowering.llvm_ir import module_to_llvm_ir
from red.testing.random_inputs import random_inputs

NO_CLANG = missing_tools("clang-16")
NO_LLVM_AS = missing_tools("llvm-as-16")
CALLS = 3  # a first call, a warm one (memos hit), one after red_memo_reset()


def lowered_modules() -> list[tuple[str, str]]:
    """(id, how to get its LLVM IR) for every lowered module of the lowering tests."""
    cases = [
        (f"example-{i}", f"example:{name}:{int(opt)}")
        for i, (name, opt) in zip(EXAMPLE_IDS, EXAMPLE_VARIANTS)
    ]
    cases += [(f"ops-{g}", f"ops:{g}") for g in dict.fromkeys(c.group for c in ops.CASES)]
    cases += [
        ("memory-long-chain", "text:LONG_CHAIN"),
        ("memory-tricky", "text:TRICKY"),
        ("memory-memo", "text:MEMO"),
    ]
    return cases


def llvm_ir_of(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "example":
        name, opt = rest.split(":")
        return example_llvm_ir(name, bool(int(opt)))
    if kind == "ops":
        return ops.group_module(rest)[1].llvm_ir
    text = {"LONG_CHAIN": memory.LONG_CHAIN, "TRICKY": memory.TRICKY, "MEMO": ops.MEMO}[rest]
    return module_to_llvm_ir(red.parse(text, f"{rest}.mlir"))


_MODULES = lowered_modules()


@pytest.mark.parametrize("key", [k for _, k in _MODULES], ids=[i for i, _ in _MODULES])
def test_llvmlite_parses_and_verifies(key: str, tmp_path: Path) -> None:
    ir = llvm_ir_of(key)

    parsed = llvm.parse_assembly(ir)
    parsed.verify()

    assert "define void @" in ir.replace('@"', "@")
    if not NO_LLVM_AS:
        path = tmp_path / "module.ll"
        path.write_text(ir)
        run = subprocess.run(
            ["llvm-as-16", str(path), "-o", "/dev/null"], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr


@pytest.mark.skipif(bool(NO_CLANG), reason=str(NO_CLANG))
@pytest.mark.parametrize("key", [k for _, k in _MODULES], ids=[i for i, _ in _MODULES])
def test_clang_compiles_every_module(key: str, tmp_path: Path) -> None:
    """LLVM 16's code generator handles every op (LLVM 20 in llvmlite handles more)."""
    path = tmp_path / "module.ll"
    path.write_text(llvm_ir_of(key))

    run = subprocess.run(["clang-16", "-O2", "-c", "-Wno-override-module", str(path), "-o", str(tmp_path / "module.o")],
                         capture_output=True, text=True)  # fmt: skip

    assert run.returncode == 0, run.stderr[:2000]


@pytest.mark.skipif(bool(NO_LLVM_AS), reason=str(NO_LLVM_AS))
@pytest.mark.parametrize(("example", "optimized"), EXAMPLE_VARIANTS, ids=EXAMPLE_IDS)
def test_examples_pass_llvm_as(example: str, optimized: bool, tmp_path: Path) -> None:
    path = tmp_path / f"{example}.ll"
    path.write_text(example_llvm_ir(example, optimized))

    run = subprocess.run(
        ["llvm-as-16", str(path), "-o", str(tmp_path / "out.bc")], capture_output=True, text=True
    )

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.bc").stat().st_size > 0


@pytest.mark.skipif(bool(NO_CLANG), reason=str(NO_CLANG))
@pytest.mark.parametrize(("example", "optimized"), EXAMPLE_VARIANTS, ids=EXAMPLE_IDS)
def test_clang_build_matches_jit(example: str, optimized: bool, tmp_path: Path) -> None:
    module = example_module(example, optimized)
    fn = public_function(module)
    args = random_inputs(fn, 1)
    ll, driver, exe, out = (
        tmp_path / "model.ll",
        tmp_path / "driver.c",
        tmp_path / "model",
        tmp_path / "results.bin",
    )
    ll.write_text(example_llvm_ir(example, optimized))
    driver.write_text(c_driver(fn, CALLS))
    inputs = []
    for i, a in enumerate(args):
        inputs.append(tmp_path / f"arg{i}.bin")
        np.ascontiguousarray(a).tofile(inputs[-1])

    build = subprocess.run(["clang-16", "-O2", "-Wall", "-Werror", "-Wno-override-module", str(driver), str(ll), "-o", str(exe), "-lm"],
                           capture_output=True, text=True)  # fmt: skip
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe), *map(str, inputs), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    per_call = read_results(out, fn, CALLS)

    compiled = red.compile(module)
    want = compiled.main.call(*args)
    for call, got in enumerate(per_call):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            assert g.shape == w.shape
            assert np.allclose(g, w, rtol=1e-5, atol=1e-6), (
                f"call {call}: max error {np.abs(g - w).max()}"
            )
