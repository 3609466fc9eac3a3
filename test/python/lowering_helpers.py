"""Helpers shared by the lowering tests: the example models (parsed, optionally optimized, and
their LLVM IR, each computed once per session) and a C driver generated from a function's
signature following the ABI of DESIGN.md §4 (`void red_f(T0 *arg0, ..., R0 *res0, ...)`)."""

from __future__ import annotations

import ctypes
import functools
import math
import shutil
from pathlib import Path
from typing import ClassVar

import llvmlite.binding as llvm
import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute

import red
from red.dialects.numpy_interop import numpy_dtype
from red.lowering.convert_red_to_loops import Target, convert_module
from red.lowering.jit import host_target_machine, optimize
from red.lowering.llvm_ir import module_to_llvm_ir
from red.lowering.red_lower import lower_module
from red.testing.random_inputs import integer_bound

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = ("seed_chain", "lstm_classifier", "gpt_decoder")
EXAMPLE_VARIANTS = [(name, optimized) for name in EXAMPLES for optimized in (False, True)]
EXAMPLE_IDS = [
    f"{name}-{'optimized' if optimized else 'original'}" for name, optimized in EXAMPLE_VARIANTS
]


def missing_tools(*tools: str) -> str | None:
    """A skip reason naming the tools not on PATH, or None."""
    missing = [t for t in tools if shutil.which(t) is None]
    return f"{', '.join(missing)} not found on PATH" if missing else None


@functools.cache
def example_module(name: str, optimized: bool) -> ModuleOp:
    """An example model, after red-pipeline if `optimized` (shared: do not modify)."""
    module = red.parse_file(str(EXAMPLES_DIR / f"{name}.mlir"))
    if optimized:
        red.optimize(module)
    return module


@functools.cache
def example_llvm_ir(name: str, optimized: bool) -> str:
    return module_to_llvm_ir(example_module(name, optimized))


def public_function(module: ModuleOp, name: str = "main") -> func.FuncOp:
    return next(
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name
    )


def tensor_types(fn: func.FuncOp) -> tuple[list[TensorType], list[TensorType]]:
    inputs = [t for t in fn.function_type.inputs.data if isinstance(t, TensorType)]
    outputs = [t for t in fn.function_type.outputs.data if isinstance(t, TensorType)]
    return inputs, outputs


# region Raw JIT


class RawJit:
    """LLVM IR text compiled as red.compile does (host CPU, LLVM's O3), called through the C
    ABI with numpy arrays: for IR red.compile cannot take (renamed symbols, another target)."""

    _engines: ClassVar[list[llvm.ExecutionEngine]] = []  # engines live as long as the process

    def __init__(self, module: ModuleOp, ir: str):
        self.module = module
        tm = host_target_machine()
        parsed = llvm.parse_assembly(ir)
        parsed.verify()
        optimize(parsed, tm)
        self.engine = llvm.create_mcjit_compiler(parsed, tm)
        self.engine.finalize_object()
        RawJit._engines.append(self.engine)
        self.memo_reset = ctypes.CFUNCTYPE(None)(self.engine.get_function_address("red_memo_reset"))

    def call(self, name: str, *args: np.ndarray) -> tuple[np.ndarray, ...]:
        inputs, outputs = tensor_types(public_function(self.module, name))
        address = self.engine.get_function_address(f"red_{name}")
        assert address, f"no symbol red_{name}"
        cfunc = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * (len(inputs) + len(outputs)))(address)
        arrays = [np.ascontiguousarray(a) for a in args]
        outs = [np.empty(t.get_shape(), numpy_dtype(t.get_element_type())) for t in outputs]
        cfunc(*[a.ctypes.data for a in arrays], *[o.ctypes.data for o in outs])
        return tuple(outs)


def llvm_ir_for_target(module: ModuleOp, target: Target) -> str:
    """The LLVM IR of `module` with the matmul kernel generated for `target`."""
    lowered = module.clone()
    convert_module(lowered, target)
    lower_module(lowered)
    return module_to_llvm_ir(lowered)


# endregion Raw JIT

# region C driver

_C_TYPES = {
    "float32": "float",
    "float64": "double",
    "float16": "uint16_t",  # storage only: the driver never computes with it
    "int64": "int64_t",
    "int32": "int32_t",
    "int16": "int16_t",
    "int8": "int8_t",
    "bool": "uint8_t",
}


def c_type(element_type: Attribute) -> str:
    """The C element type of the ABI (bool as uint8_t)."""
    return _C_TYPES[numpy_dtype(element_type).name]


def count(t: TensorType) -> int:
    return math.prod(t.get_shape())


def c_driver(fn: func.FuncOp, calls: int = 3) -> str:
    """A C program calling `red_<fn>` `calls` times (`red_memo_reset()` before the last call)
    and writing every call's results, in order, to a binary file.

    `driver IN0 ... OUT` reads the inputs from raw files (numpy's `tofile`); `driver` with no
    arguments fills them deterministically (integers in [0, n) for the table they index) and
    writes nothing. Every buffer is freed at the end, so valgrind sees no leak of its own."""
    inputs, outputs = tensor_types(fn)
    symbol = f"red_{fn.sym_name.data}"
    params = [f"{c_type(t.get_element_type())} *" for t in (*inputs, *outputs)]
    lines = [
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "",
        f"void {symbol}({', '.join(params) or 'void'});",
        "void red_memo_reset(void);",
        "",
        "static void *buffer(size_t bytes) {",
        "  void *p = malloc(bytes ? bytes : 1);",
        '  if (!p) { fprintf(stderr, "out of memory\\n"); exit(2); }',
        "  return p;",
        "}",
        "",
        "static void *load(const char *path, size_t bytes) {",
        "  void *p = buffer(bytes);",
        '  FILE *f = fopen(path, "rb");',
        '  if (!f || fread(p, 1, bytes, f) != bytes) { fprintf(stderr, "cannot read %s\\n", path); exit(2); }',
        "  fclose(f);",
        "  return p;",
        "}",
        "",
        "int main(int argc, char **argv) {",
        f"  int from_files = argc == {len(inputs) + 2};",
        f'  if (argc != 1 && !from_files) {{ fprintf(stderr, "usage: %s [{len(inputs)} inputs and an output]\\n", argv[0]); return 2; }}',
    ]
    args = fn.body.block.args
    for i, t in enumerate(inputs):
        ct, n = c_type(t.get_element_type()), count(t)
        dtype = numpy_dtype(t.get_element_type())
        if dtype.kind == "f" and dtype != np.float16:
            value = f"({ct})((int)((k * 37) % 101) - 50) / ({ct})50"
        elif dtype.kind in "iu":
            value = f"({ct})(k % {integer_bound(args[i])})"
        else:
            value = f"({ct})(k % 2)" if dtype == np.bool_ else "0"
        lines += [
            f"  {ct} *arg{i};",
            f"  if (from_files) arg{i} = load(argv[{i + 1}], sizeof({ct}) * {n});",
            f"  else {{ arg{i} = buffer(sizeof({ct}) * {n}); for (size_t k = 0; k < {n}; k++) arg{i}[k] = {value}; }}",
        ]
    for j, t in enumerate(outputs):
        ct = c_type(t.get_element_type())
        lines.append(f"  {ct} *res{j} = buffer(sizeof({ct}) * {count(t)});")
    call_args = ", ".join(
        [f"arg{i}" for i in range(len(inputs))] + [f"res{j}" for j in range(len(outputs))]
    )
    lines += [
        f'  FILE *out = from_files ? fopen(argv[{len(inputs) + 1}], "wb") : NULL;',
        f'  if (from_files && !out) {{ fprintf(stderr, "cannot write %s\\n", argv[{len(inputs) + 1}]); return 2; }}',
        f"  for (int call = 0; call < {calls}; call++) {{",
        f"    if (call == {calls - 1}) red_memo_reset();",
        f"    {symbol}({call_args});",
    ]
    for j, t in enumerate(outputs):
        ct = c_type(t.get_element_type())
        lines.append(f"    if (out) fwrite(res{j}, sizeof({ct}), {count(t)}, out);")
    lines.append("  }")
    lines.append("  if (out) fclose(out);")
    lines += [f"  free(arg{i});" for i in range(len(inputs))]
    lines += [f"  free(res{j});" for j in range(len(outputs))]
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def read_results(path: Path, fn: func.FuncOp, calls: int = 3) -> list[tuple[np.ndarray, ...]]:
    """The results `c_driver` wrote: one tuple per call."""
    _, outputs = tensor_types(fn)
    raw = path.read_bytes()
    offset = 0
    per_call = []
    for _ in range(calls):
        results = []
        for t in outputs:
            dtype = numpy_dtype(t.get_element_type())
            n = count(t)
            storage = np.uint8 if dtype == np.bool_ else dtype
            arr = np.frombuffer(raw, dtype=storage, count=n, offset=offset)
            offset += n * np.dtype(storage).itemsize
            results.append((arr != 0 if dtype == np.bool_ else arr.copy()).reshape(t.get_shape()))
        per_call.append(tuple(results))
    assert offset == len(raw), f"{len(raw) - offset} unexpected bytes in {path}"
    return per_call


# endregion C driver
