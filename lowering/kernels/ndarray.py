"""The kernels on numpy arrays (for tests, benchmarks and Python callers): `matmul` with
numpy.matmul's semantics on any strided views (transposes and broadcast batches are passed as
strides, never copied), and the row kernels over the last axis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from red.lowering.kernels.library import KernelLibrary, library

_GEMM = {np.dtype(np.float32): "red_sgemm_batched", np.dtype(np.float64): "red_dgemm_batched"}


def element_strides(a: np.ndarray) -> tuple[int, ...]:
    """The strides of `a` in elements (numpy's are in bytes)."""
    if any(s % a.itemsize for s in a.strides):
        raise ValueError(f"strides {a.strides} are not multiples of the item size {a.itemsize}")
    return tuple(s // a.itemsize for s in a.strides)


def _merge_batches(shape: list[int], strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Fold adjacent batch dims (i, i+1) into one wherever every operand allows it (stride_i =
    stride_{i+1} * size_{i+1}), so that most layouts fit the library's two batch dims."""
    i = 0
    while i + 1 < len(shape):
        if all(s[i] == s[i + 1] * shape[i + 1] for s in strides):
            shape[i : i + 2] = [shape[i] * shape[i + 1]]
            for s in strides:
                s[i : i + 2] = [s[i + 1]]
        else:
            i += 1
    return shape, strides


def matmul(
    a: np.ndarray,
    b: np.ndarray,
    out: np.ndarray | None = None,
    accumulate: bool = False,
    threads: int = 0,
    lib: KernelLibrary | None = None,
) -> np.ndarray:
    """numpy.matmul(a, b) for 2-D or batched f32/f64 operands (`out += a @ b` when
    `accumulate`; `out` must not overlap a or b); `threads` 0 is the library's default."""
    lib = lib or library()
    if a.dtype != b.dtype or a.dtype not in _GEMM:
        raise TypeError(f"matmul needs two float32 or two float64 arrays, got {a.dtype}, {b.dtype}")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul shapes do not fit: {a.shape} and {b.shape}")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if out is None:
        out = np.empty((*batch, m, n), dtype=a.dtype)
    if out.shape != (*batch, m, n) or out.dtype != a.dtype:
        raise ValueError(f"out must be {a.dtype} of shape {(*batch, m, n)}, got {out.shape}")
    views = [np.broadcast_to(a, (*batch, m, k)), np.broadcast_to(b, (*batch, k, n)), out]
    strides = [list(element_strides(v)) for v in views]
    shape, batch_strides = _merge_batches(list(batch), [s[:-2] for s in strides])
    call = lib.function(_GEMM[a.dtype])
    lead = max(0, len(shape) - 2)  # dims beyond two are looped over here
    for index in np.ndindex(*shape[:lead]):
        offsets = [sum(i * s for i, s in zip(index, bs[:lead])) for bs in batch_strides]
        inner = shape[lead:]
        dims = [1] * (2 - len(inner)) + inner
        args: list[Any] = [dims[0], dims[1], m, n, k]
        for view, s, bs, off in zip(views, strides, batch_strides, offsets):
            inner_strides = [0] * (2 - len(inner)) + bs[lead:]
            args += [view.ctypes.data + off * view.itemsize, *inner_strides, s[-2], s[-1]]
        call(*args, int(accumulate), threads)  # type: ignore[operator]
    return out


@dataclass(frozen=True)
class PackedB:
    """A k x n matrix packed by red_{s,d}gemm_pack_b for one library (its target's layout)."""

    data: np.ndarray
    k: int
    n: int
    lib: KernelLibrary


def pack_b(b: np.ndarray, threads: int = 0, lib: KernelLibrary | None = None) -> PackedB:
    """b (k x n, any strides, f32 or f64) packed for matmul_prepacked."""
    lib = lib or library()
    if b.ndim != 2 or b.dtype not in _GEMM:
        raise TypeError(f"pack_b needs a 2-D float32 or float64 array, got {b.dtype} {b.shape}")
    prefix = _GEMM[b.dtype].removesuffix("_batched")
    k, n = b.shape
    size = lib.function(f"{prefix}_packed_b_size")(k, n)
    # 64-byte alignment: the micro-kernel's aligned vector loads (numpy aligns to 16 only).
    raw = np.empty(size * b.itemsize + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64
    data = raw[start : start + size * b.itemsize].view(b.dtype)
    rs, cs = element_strides(b)
    lib.function(f"{prefix}_pack_b")(k, n, b.ctypes.data, rs, cs, data.ctypes.data, threads)
    return PackedB(data, k, n, lib)


def matmul_prepacked(
    a: np.ndarray,
    packed: PackedB,
    out: np.ndarray | None = None,
    accumulate: bool = False,
    threads: int = 0,
) -> np.ndarray:
    """a (m x k) @ the packed matrix, with the library that packed it."""
    dtype = packed.data.dtype
    if a.dtype != dtype or a.ndim != 2 or a.shape[1] != packed.k:
        raise ValueError(f"a must be {dtype} of shape (m, {packed.k}), got {a.dtype} {a.shape}")
    m, n = a.shape[0], packed.n
    if out is None:
        out = np.empty((m, n), dtype=dtype)
    if out.shape != (m, n) or out.dtype != dtype:
        raise ValueError(f"out must be {dtype} of shape {(m, n)}, got {out.shape}")
    prefix = _GEMM[dtype].removesuffix("_batched")
    args: list[Any] = [m, n, packed.k, a.ctypes.data, *element_strides(a), packed.data.ctypes.data]
    args += [out.ctypes.data, *element_strides(out), int(accumulate), threads]
    packed.lib.function(f"{prefix}_prepacked")(*args)
    return out


def _rows_view(x: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """(x2, rows, n, ld): x as rows of its last axis with unit stride and a uniform row
    stride, copied only when its layout has neither."""
    n = x.shape[-1] if x.ndim else 1
    rows = math.prod(x.shape[:-1]) if x.ndim else 1
    if x.ndim == 2 and x.strides[-1] == x.itemsize and x.strides[0] % x.itemsize == 0:
        return x, rows, n, x.strides[0] // x.itemsize
    x2 = np.ascontiguousarray(x, dtype=np.float32).reshape(rows, n)
    return x2, rows, n, n


def row_kernel(
    name: str,
    x: np.ndarray,
    out: np.ndarray | None = None,
    eps: float | None = None,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    threads: int = 0,
    lib: KernelLibrary | None = None,
) -> np.ndarray:
    """red_<name>_f32 over the last axis of float32 `x` (out may be x)."""
    lib = lib or library()
    if x.dtype != np.float32:
        raise TypeError(f"the row kernels take float32, got {x.dtype}")
    src, rows, n, ldx = _rows_view(x)
    result = np.empty(x.shape, dtype=np.float32) if out is None else out
    dst, _, _, ldy = _rows_view(result)
    if dst is not result and not np.shares_memory(dst, result):
        raise ValueError("out must have a row layout (2-D, unit stride in the last axis)")
    args: list[Any] = [rows, n, src.ctypes.data, ldx, dst.ctypes.data, ldy]
    keep = []  # contiguous copies of gamma/beta, alive until the call returns
    if eps is not None:
        args.append(float(eps))
        for p in (gamma, beta) if name == "layer_norm" else (gamma,):
            if p is not None and (p.dtype != np.float32 or p.shape != (n,)):
                raise ValueError(f"gamma/beta must be float32 of shape ({n},)")
            keep.append(None if p is None else np.ascontiguousarray(p))
            args.append(None if keep[-1] is None else keep[-1].ctypes.data)
    lib.function(f"red_{name}_f32")(*args, threads)  # type: ignore[operator]
    return result
