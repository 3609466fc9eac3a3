"""memref -> llvm: a memref is a pointer to its contiguous row-major data; an access is one
`getelementptr inbounds` at the linear index (no ptrtoint/inttoptr, so LLVM keeps the
pointer's provenance); buffers come from malloc/free; memref.global becomes an llvm global
(flat array, 64-byte aligned); views (reinterpret_cast, cast) and a memref cast to `!llvm.ptr`
(an argument of a kernel library call) are the same pointer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.dialects import llvm, memref
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    MemRefType,
    TensorType,
    UnitAttr,
    UnrealizedConversionCastOp,
    i64,
)
from xdsl.ir import Operation, SSAValue

from red.dialects.diagnostics import DiagnosticError
from red.lowering.llvm.rules import PTR, convert_type, element_bytes, lowers, lowers_symbol

if TYPE_CHECKING:
    from red.lowering.convert_to_llvm import FunctionConverter, ModuleConverter

ZERO_INIT_ATTR = "red.zero_init"
"""Marks llvm globals that start zeroed (the LLVM IR emitter gives them zeroinitializer)."""

DYNAMIC = -(2**63)
"""xDSL's encoding of a `?` dimension in `get_shape()`."""


def address(
    conv: FunctionConverter, op: Operation, mem: SSAValue, indices: Sequence[SSAValue]
) -> tuple[SSAValue, int]:
    """Pointer to mem[indices] of a contiguous row-major buffer, and the alignment of
    its element type (what every load and store of it carries)."""
    typ = mem.type
    assert isinstance(typ, MemRefType)
    shape = typ.get_shape()
    if DYNAMIC in shape[1:]:
        msg = f"'{op.name}' op on '{typ}' (a dynamic stride) is not supported"
        raise DiagnosticError.at(op, msg)
    base = conv.get(mem)
    align = element_bytes(typ.get_element_type())
    elt = convert_type(typ.get_element_type())  # index is i64
    if not indices:
        # element 0 through a GEP: the base of a rank-0 global is an `[1 x T]` array, which
        # a load or store of T cannot use directly
        gep = llvm.GEPOp.from_mixed_indices(base, [0], elt, inbounds=True)
        return conv.emit(gep), align
    linear: SSAValue | None = None
    for d, idx in enumerate(indices):
        stride = math.prod(shape[d + 1 :])
        term = conv.get(idx)
        if stride != 1:
            term = conv.emit(llvm.MulOp(term, conv.const_int(stride)))
        linear = term if linear is None else conv.emit(llvm.AddOp(linear, term))
    assert linear is not None
    gep = llvm.GEPOp.from_mixed_indices(base, [linear], elt, inbounds=True)
    return conv.emit(gep), align


def load(
    conv: FunctionConverter, op: Operation, mem: SSAValue, indices: Sequence[SSAValue]
) -> None:
    """The result of `op` loaded from &mem[indices] (an element, or a vector of elements
    from there on), aligned like one element."""
    ptr, align = address(conv, op, mem, indices)
    result = op.results[0]
    conv.set(result, conv.emit(llvm.LoadOp(ptr, convert_type(result.type), alignment=align)))


def store(
    conv: FunctionConverter,
    op: Operation,
    value: SSAValue,
    mem: SSAValue,
    indices: Sequence[SSAValue],
) -> None:
    """`value` stored at &mem[indices], aligned like one element."""
    ptr, align = address(conv, op, mem, indices)
    conv.emit(llvm.StoreOp(conv.get(value), ptr, alignment=align))


@lowers(memref.LoadOp)
def _load(conv: FunctionConverter, op: memref.LoadOp) -> None:
    load(conv, op, op.memref, op.indices)


@lowers(memref.StoreOp)
def _store(conv: FunctionConverter, op: memref.StoreOp) -> None:
    store(conv, op, op.value, op.memref, op.indices)


@lowers(memref.AllocOp)
def _alloc(conv: FunctionConverter, op: memref.AllocOp) -> None:
    """malloc of the buffer's bytes (at least 1); a flat buffer of dynamic size (a tensor
    with `?` dims, lowering/loops/sizes.py) takes its element count as its one operand."""
    typ = op.memref.type
    assert isinstance(typ, MemRefType)
    conv.declare("malloc", [i64], PTR)
    shape = typ.get_shape()
    if DYNAMIC in shape:
        if len(shape) != 1 or len(op.dynamic_sizes) != 1:
            raise DiagnosticError.at(
                op, f"'{op.name}' op of '{typ}': only a 1-D buffer of dynamic size is supported"
            )
        count = conv.get(op.dynamic_sizes[0])
        nbytes = conv.emit(llvm.MulOp(count, conv.const_int(element_bytes(typ.get_element_type()))))
        # malloc(0) may return NULL: ask for one byte more (nothing reads an empty buffer)
        nbytes = conv.emit(llvm.AddOp(nbytes, conv.const_int(1)))
        conv.set(op.memref, conv.emit(llvm.CallOp("malloc", nbytes, return_type=PTR)))
        return
    size = max(1, math.prod(shape) * element_bytes(typ.get_element_type()))
    conv.set(op.memref, conv.emit(llvm.CallOp("malloc", conv.const_int(size), return_type=PTR)))


@lowers(memref.DeallocOp)
def _dealloc(conv: FunctionConverter, op: memref.DeallocOp) -> None:
    conv.declare("free", [PTR], None)
    conv.emit(llvm.CallOp("free", conv.get(op.memref)))


@lowers(memref.GetGlobalOp)
def _get_global(conv: FunctionConverter, op: memref.GetGlobalOp) -> None:
    conv.set(op.memref, conv.emit(llvm.AddressOfOp(op.name_.root_reference.data, PTR)))


@lowers(memref.ReinterpretCastOp)
def _reinterpret_cast(conv: FunctionConverter, op: memref.ReinterpretCastOp) -> None:
    """The same pointer: a view at offset 0 with the row-major strides of its shape."""
    shape = list(op.static_sizes.get_values())
    row_major = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    if any(o != 0 for o in op.static_offsets.get_values()):
        raise DiagnosticError.at(op, "a reinterpret_cast with an offset is not supported")
    if list(op.static_strides.get_values()) != row_major:
        msg = "a reinterpret_cast with non-row-major strides is not supported"
        raise DiagnosticError.at(op, msg)
    conv.set(op.result, conv.get(op.source))


@lowers(memref.CastOp)
def _cast(conv: FunctionConverter, op: memref.CastOp) -> None:
    """The same pointer (static <-> dynamic sizes)."""
    conv.set(op.dest, conv.get(op.source))


@lowers(UnrealizedConversionCastOp)
def _pointer_cast(conv: FunctionConverter, op: UnrealizedConversionCastOp) -> None:
    """A memref passed as `!llvm.ptr` (a kernel library argument): the same pointer."""
    src, res = op.inputs, op.outputs
    if (
        len(src) != 1
        or len(res) != 1
        or not isinstance(src[0].type, MemRefType | llvm.LLVMPointerType)
        or res[0].type != PTR
    ):
        raise DiagnosticError.at(
            op, f"'{op.name}' op other than memref -> '!llvm.ptr' is not supported"
        )
    conv.set(res[0], conv.get(src[0]))


@lowers(llvm.ZeroOp)
def _null(conv: FunctionConverter, op: llvm.ZeroOp) -> None:
    """The null pointer (an optional kernel argument left out)."""
    conv.set(op.res, conv.emit(llvm.ZeroOp.build(result_types=[op.res.type])))


@lowers(memref.ExtractAlignedPointerAsIndexOp)
def _extract_pointer(conv: FunctionConverter, op: memref.ExtractAlignedPointerAsIndexOp) -> None:
    conv.set(op.aligned_pointer, conv.emit(llvm.PtrToIntOp(conv.get(op.source), i64)))


@lowers_symbol(memref.GlobalOp)
def _global(module: ModuleConverter, op: memref.GlobalOp) -> llvm.GlobalOp:
    """An internal llvm global: a flat array with the initial value's bytes, or zeroed."""
    typ = op.type
    assert isinstance(typ, MemRefType)
    count = max(1, math.prod(typ.get_shape()))
    gtype = llvm.LLVMArrayType(count, convert_type(typ.get_element_type()))
    value = op.initial_value
    constant = op.constant is not None
    if isinstance(value, DenseIntOrFPElementsAttr) and math.prod(typ.get_shape()) > 0:
        flat = _flat(value, count)
        return llvm.GlobalOp(
            gtype, op.sym_name, "internal", constant=constant or None, value=flat, alignment=64
        )
    # no initial value, or no elements (a [1 x T] placeholder nobody reads)
    g = llvm.GlobalOp(gtype, op.sym_name, "internal", alignment=64)
    g.attributes[ZERO_INIT_ATTR] = UnitAttr()
    return g


def _flat(value: DenseIntOrFPElementsAttr, count: int) -> DenseIntOrFPElementsAttr:
    """The attribute with a 1-D type (LLVM globals are flat arrays), from its bytes."""
    elt = value.get_element_type()
    raw = value.data.data
    per = len(raw) // max(1, len(value))
    if len(value) == 1 and count > 1:  # a splat: LLVM needs every element
        raw = raw * count
    assert len(raw) == per * count
    return DenseIntOrFPElementsAttr(TensorType(elt, [count]), BytesAttr(raw))
