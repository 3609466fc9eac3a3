"""convert-to-llvm: the loop level (func, cf, memref, arith, math, vector; run after xDSL's
convert-scf-to-cf) -> the llvm dialect, in one walk per function.

xDSL 0.74 has no arith, math, func or cf lowering to llvm, and its memref -> ptr -> llvm
path computes addresses with ptrtoint/add/inttoptr, which hides provenance from LLVM's alias
analysis and vectorizer. Here a memref is a pointer to its (contiguous, static-shape) data,
an access is one `getelementptr inbounds` at the row-major linear index, `index` is i64,
buffers come from malloc/free, memref globals become llvm globals, and the math functions
LLVM has no intrinsic for (tanh, erf) call libm."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, cf, func, llvm, memref, vector
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import (
    AnyFloat,
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    TensorType,
    UnitAttr,
    VectorType,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.dialects.diagnostics import DiagnosticError
from red.dialects.symbols import is_private
from red.lowering.math_approximations import F32Math

PTR = llvm.LLVMPointerType()
ZERO_INIT_ATTR = "red.zero_init"
"""Marks llvm globals that start zeroed (the LLVM IR emitter gives them zeroinitializer)."""


def convert_type(t: Attribute) -> Attribute:
    if isinstance(t, MemRefType):
        return PTR
    if isinstance(t, IndexType):
        return i64
    return t


def element_bytes(t: Attribute) -> int:
    if isinstance(t, AnyFloat):
        return t.bitwidth // 8
    if isinstance(t, IntegerType):
        return max(1, (t.width.data + 7) // 8)
    if isinstance(t, IndexType):
        return 8
    raise AssertionError(f"no size for element type '{t}'")


def intrinsic_suffix(t: Attribute) -> str:
    if isinstance(t, VectorType):
        return f"v{t.get_shape()[0]}{intrinsic_suffix(t.get_element_type())}"
    if isinstance(t, Float16Type):
        return "f16"
    if isinstance(t, Float32Type):
        return "f32"
    if isinstance(t, Float64Type):
        return "f64"
    if isinstance(t, IntegerType):
        return f"i{t.width.data}"
    raise AssertionError(f"no intrinsic suffix for {t}")


_FLOAT_BINARY: dict[type[Operation], type[Operation]] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
}
_INT_BINARY: dict[type[Operation], type[Operation]] = {
    arith.AddiOp: llvm.AddOp,
    arith.SubiOp: llvm.SubOp,
    arith.MuliOp: llvm.MulOp,
    arith.DivSIOp: llvm.SDivOp,
    arith.RemSIOp: llvm.SRemOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
}
# Called by their type-mangled names (`llvm.sqrt.f32`): xDSL's backend declares llvm.FSqrtOp
# and friends unmangled (`llvm.sqrt`), so two element types in one module clash, and
# llvm.FAbsOp cannot even be built without a result type.
_UNARY_INTRINSIC: dict[type[Operation], str] = {
    mathd.ExpOp: "exp",
    mathd.LogOp: "log",
    mathd.SqrtOp: "sqrt",
    mathd.SinOp: "sin",
    mathd.CosOp: "cos",
    mathd.AbsFOp: "fabs",
}
_LIBM: dict[type[Operation], str] = {mathd.TanhOp: "tanh", mathd.ErfOp: "erf"}


@dataclass
class _Decl:
    name: str
    inputs: list[Attribute]
    output: Attribute | None


class FunctionConverter:
    """Converts one func.func (memrefs, cf) into an llvm.func."""

    def __init__(self, module: ModuleConverter, fn: func.FuncOp):
        self.module = module
        self.fn = fn
        self.map: dict[SSAValue, SSAValue] = {}
        self.blocks: dict[Block, Block] = {}
        self.current: Block | None = None

    def emit(self, op: Operation) -> SSAValue:
        assert self.current is not None
        self.current.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def get(self, v: SSAValue) -> SSAValue:
        return self.map[v]

    def const_int(self, value: int, typ: Attribute = i64) -> SSAValue:
        return self.emit(llvm.ConstantOp(IntegerAttr(value, typ), typ))

    def convert(self) -> llvm.FuncOp:
        fn = self.fn
        inputs = [convert_type(t) for t in fn.function_type.inputs.data]
        if fn.function_type.outputs.data:
            output = convert_type(fn.function_type.outputs.data[0])
        else:
            output = llvm.LLVMVoidType()
        ftype = llvm.LLVMFunctionType(inputs, output)
        linkage = llvm.LinkageAttr("internal" if is_private(fn) else "external")
        if not fn.body.blocks:
            return llvm.FuncOp(fn.sym_name.data, ftype, linkage=llvm.LinkageAttr("external"))
        for block in fn.body.blocks:
            self.blocks[block] = Block(arg_types=[convert_type(a.type) for a in block.args])
            for old, new in zip(block.args, self.blocks[block].args):
                self.map[old] = new
                new.name_hint = old.name_hint
        for block in fn.body.blocks:
            self.current = self.blocks[block]
            for op in block.ops:
                self.convert_op(op)
        region = Region([self.blocks[b] for b in fn.body.blocks])
        new = llvm.FuncOp(fn.sym_name.data, ftype, linkage=linkage, body=region)
        new.location = fn.location
        return new

    # region memory

    def address(self, mem: SSAValue, indices: Sequence[SSAValue]) -> tuple[SSAValue, int]:
        """Pointer to mem[indices] of a contiguous row-major buffer, and the alignment of
        its element type (what every load and store of it carries)."""
        typ = mem.type
        assert isinstance(typ, MemRefType)
        shape = typ.get_shape()
        base = self.get(mem)
        align = element_bytes(typ.get_element_type())
        if not indices:
            return base, align
        linear: SSAValue | None = None
        for d, idx in enumerate(indices):
            stride = math.prod(shape[d + 1 :])
            term = self.get(idx)
            if stride != 1:
                term = self.emit(llvm.MulOp(term, self.const_int(stride)))
            linear = term if linear is None else self.emit(llvm.AddOp(linear, term))
        assert linear is not None
        gep = llvm.GEPOp.from_mixed_indices(base, [linear], typ.get_element_type(), inbounds=True)
        return self.emit(gep), align

    # endregion memory

    def convert_op(self, op: Operation) -> None:
        m = self.map
        match op:
            case arith.ConstantOp():
                typ = convert_type(op.result.type)
                value = op.value
                if isinstance(value, IntegerAttr):
                    value = IntegerAttr(value.value.data, typ)
                elif isinstance(value, FloatAttr):
                    value = FloatAttr(value.value.data, typ)
                m[op.result] = self.emit(llvm.ConstantOp(value, typ))
            case _ if type(op) in _FLOAT_BINARY:
                m[op.results[0]] = self.emit(
                    _FLOAT_BINARY[type(op)](self.get(op.operands[0]), self.get(op.operands[1]))
                )
            case _ if type(op) in _INT_BINARY:
                m[op.results[0]] = self.emit(
                    _INT_BINARY[type(op)](self.get(op.operands[0]), self.get(op.operands[1]))
                )
            case arith.NegfOp():
                m[op.result] = self.emit(llvm.FNegOp(self.get(op.operand)))
            case arith.MaximumfOp() | arith.MinimumfOp():
                # numpy's `a >= b || isnan(a) ? a : b` (NaN propagates), as compares and a
                # select: clang-16's x86 backend cannot select llvm.maximum ("Cannot select:
                # fmaximum"), and LLVM 20 miscompiles vectorized llvm.maxnum reductions.
                a, b = self.get(op.lhs), self.get(op.rhs)
                ordered = _FCMP["oge"] if isinstance(op, arith.MaximumfOp) else _FCMP["ole"]
                keep = self.emit(llvm.FCmpOp(a, b, IntegerAttr(ordered, i64)))
                nan = self.emit(llvm.FCmpOp(a, a, IntegerAttr(_FCMP["uno"], i64)))
                m[op.result] = self.emit(llvm.SelectOp(self.emit(llvm.OrOp(keep, nan)), a, b))
            case arith.MaxnumfOp() | arith.MinnumfOp():
                kind = "maxnum" if isinstance(op, arith.MaxnumfOp) else "minnum"
                m[op.result] = self.intrinsic(
                    kind, [self.get(op.lhs), self.get(op.rhs)], op.result.type
                )
            case arith.MaxSIOp() | arith.MinSIOp():
                pred = "sgt" if isinstance(op, arith.MaxSIOp) else "slt"
                a, b = self.get(op.lhs), self.get(op.rhs)
                c = self.emit(llvm.ICmpOp(a, b, IntegerAttr(_ICMP[pred], i64)))
                m[op.result] = self.emit(llvm.SelectOp(c, a, b))
            case arith.CmpfOp():
                pred = op.predicate.value.data
                m[op.result] = self.emit(
                    llvm.FCmpOp(self.get(op.lhs), self.get(op.rhs), IntegerAttr(pred, i64))
                )
            case arith.CmpiOp():
                pred = op.predicate.value.data
                m[op.result] = self.emit(
                    llvm.ICmpOp(self.get(op.lhs), self.get(op.rhs), IntegerAttr(pred, i64))
                )
            case arith.SelectOp():
                m[op.result] = self.emit(
                    llvm.SelectOp(self.get(op.cond), self.get(op.lhs), self.get(op.rhs))
                )
            case arith.IndexCastOp():
                m[op.result] = self.int_resize(
                    self.get(op.input), convert_type(op.result.type), signed=True
                )
            case arith.ExtSIOp() | arith.TruncIOp():
                m[op.result] = self.int_resize(self.get(op.input), op.result.type, signed=True)
            case arith.ExtUIOp():
                m[op.result] = self.int_resize(self.get(op.input), op.result.type, signed=False)
            case arith.SIToFPOp():
                m[op.result] = self.emit(llvm.SIToFPOp(self.get(op.input), op.result.type))
            case arith.FPToSIOp():
                src, dst = op.input.type, op.result.type
                name = f"llvm.fptosi.sat.{intrinsic_suffix(dst)}.{intrinsic_suffix(src)}"
                m[op.result] = self.emit(llvm.CallIntrinsicOp(name, [self.get(op.input)], [dst]))
            case arith.ExtFOp():
                m[op.result] = self.emit(llvm.FPExtOp(self.get(op.input), op.result.type))
            case arith.TruncFOp():
                m[op.result] = self.emit(llvm.FPTruncOp(self.get(op.input), op.result.type))
            case mathd.ExpOp() | mathd.TanhOp() | mathd.ErfOp() if _narrow_float(
                op.results[0].type
            ):
                m[op.results[0]] = self.approximate(
                    op, self.get(op.operands[0]), op.results[0].type
                )
            case _ if type(op) in _UNARY_INTRINSIC:
                t = op.results[0].type
                m[op.results[0]] = self.intrinsic(
                    _UNARY_INTRINSIC[type(op)], [self.get(op.operands[0])], t
                )
            case mathd.PowFOp():
                m[op.result] = self.intrinsic(
                    "pow", [self.get(op.lhs), self.get(op.rhs)], op.result.type
                )
            case _ if type(op) in _LIBM:
                m[op.results[0]] = self.libm(
                    _LIBM[type(op)], self.get(op.operands[0]), op.results[0].type
                )
            case memref.LoadOp():
                ptr, align = self.address(op.memref, op.indices)
                m[op.res] = self.emit(llvm.LoadOp(ptr, convert_type(op.res.type), alignment=align))
            case memref.StoreOp():
                ptr, align = self.address(op.memref, op.indices)
                self.emit(llvm.StoreOp(self.get(op.value), ptr, alignment=align))
            case vector.LoadOp():
                ptr, align = self.address(op.base, op.indices)
                m[op.result] = self.emit(llvm.LoadOp(ptr, op.result.type, alignment=align))
            case vector.StoreOp():
                ptr, align = self.address(op.base, op.indices)
                self.emit(llvm.StoreOp(self.get(op.vector), ptr, alignment=align))
            case vector.BroadcastOp():
                vt = op.vector.type
                assert isinstance(vt, VectorType)
                undef = self.emit(llvm.UndefOp(vt))
                first = self.emit(
                    llvm.InsertElementOp(undef, self.get(op.source), self.const_int(0, i32))
                )
                mask = DenseArrayBase.from_list(i32, [0] * vt.get_shape()[0])
                m[op.vector] = self.emit(llvm.ShuffleVectorOp(first, undef, mask, vt))
            case vector.FMAOp():
                m[op.res] = self.emit(
                    llvm.FMAOp(self.get(op.lhs), self.get(op.rhs), self.get(op.acc))
                )
            case memref.AllocOp():
                typ = op.memref.type
                assert isinstance(typ, MemRefType)
                size = max(1, math.prod(typ.get_shape()) * element_bytes(typ.get_element_type()))
                self.module.declare("malloc", [i64], PTR)
                m[op.memref] = self.emit(
                    llvm.CallOp("malloc", self.const_int(size), return_type=PTR)
                )
            case memref.DeallocOp():
                self.module.declare("free", [PTR], None)
                self.emit(llvm.CallOp("free", self.get(op.memref)))
            case memref.GetGlobalOp():
                m[op.memref] = self.emit(llvm.AddressOfOp(op.name_.root_reference.data, PTR))
            case memref.ReinterpretCastOp():
                if any(o != 0 for o in op.static_offsets.iter_values()):
                    raise DiagnosticError.at(
                        op, "a reinterpret_cast with an offset is not supported"
                    )
                m[op.result] = self.get(op.source)
            case memref.CastOp():
                m[op.dest] = self.get(op.source)
            case memref.ExtractAlignedPointerAsIndexOp():
                m[op.aligned_pointer] = self.emit(llvm.PtrToIntOp(self.get(op.source), i64))
            case cf.BranchOp():
                self.emit(
                    llvm.BrOp(self.blocks[op.successor], *[self.get(a) for a in op.arguments])
                )
            case cf.ConditionalBranchOp():
                self.emit(
                    llvm.CondBrOp(
                        self.get(op.cond),
                        self.blocks[op.then_block],
                        [self.get(a) for a in op.then_arguments],
                        self.blocks[op.else_block],
                        [self.get(a) for a in op.else_arguments],
                    )
                )
            case func.CallOp():
                results = op.result_types
                ret = convert_type(results[0]) if results else None
                call = llvm.CallOp(
                    op.callee.root_reference.data,
                    *[self.get(a) for a in op.arguments],
                    return_type=ret,
                )
                r = self.emit(call)
                if results:
                    m[op.results[0]] = r
            case func.ReturnOp():
                self.emit(llvm.ReturnOp(self.get(op.arguments[0]) if op.arguments else None))
            case _:
                raise DiagnosticError.at(
                    op, f"'{op.name}' op cannot be converted to the llvm dialect"
                )

    def intrinsic(self, base: str, args: list[SSAValue], typ: Attribute) -> SSAValue:
        """A call of `llvm.<base>.<type suffix>` returning `typ`."""
        return self.emit(llvm.CallIntrinsicOp(f"llvm.{base}.{intrinsic_suffix(typ)}", args, [typ]))

    def int_resize(self, v: SSAValue, dst: Attribute, signed: bool) -> SSAValue:
        src = v.type
        assert isinstance(src, IntegerType)
        assert isinstance(dst, IntegerType)
        sw, dw = src.width.data, dst.width.data
        if sw == dw:
            return v
        if dw < sw:
            return self.emit(llvm.TruncOp(v, dst))
        return self.emit(llvm.SExtOp(v, dst) if signed else llvm.ZExtOp(v, dst))

    def approximate(self, op: Operation, x: SSAValue, typ: Attribute) -> SSAValue:
        """exp/tanh/erf of f32 (f16 through f32) as vectorizable arithmetic."""
        f32 = Float32Type()
        arg = x if isinstance(typ, Float32Type) else self.emit(llvm.FPExtOp(x, f32))
        fm = F32Math(self.emit)
        r = {mathd.ExpOp: fm.exp, mathd.TanhOp: fm.tanh, mathd.ErfOp: fm.erf}[type(op)](arg)
        return r if isinstance(typ, Float32Type) else self.emit(llvm.FPTruncOp(r, typ))

    def libm(self, base: str, x: SSAValue, typ: Attribute) -> SSAValue:
        """tanh/erf through libm (computing f16 in f32)."""
        if isinstance(typ, VectorType):
            raise DiagnosticError.at(self.fn, f"vector '{base}' is not supported")
        work = typ if isinstance(typ, Float32Type | Float64Type) else Float32Type()
        name = base + ("f" if isinstance(work, Float32Type) else "")
        self.module.declare(name, [work], work)
        arg = x if work == typ else self.emit(llvm.FPExtOp(x, work))
        r = self.emit(llvm.CallOp(name, arg, return_type=work))
        return r if work == typ else self.emit(llvm.FPTruncOp(r, typ))


def _narrow_float(t: Attribute) -> bool:
    return isinstance(t, Float32Type | Float16Type)


_ICMP = {"eq": 0, "ne": 1, "slt": 2, "sle": 3, "sgt": 4, "sge": 5}
_FCMP = {"oge": 3, "ole": 5, "uno": 14}


class ModuleConverter:
    def __init__(self, module: ModuleOp):
        self.module = module
        self.decls: dict[str, _Decl] = {}

    def declare(self, name: str, inputs: list[Attribute], output: Attribute | None) -> None:
        self.decls.setdefault(name, _Decl(name, inputs, output))

    def run(self) -> None:
        new_ops: list[Operation] = []
        defined: set[str] = set()
        for op in list(self.module.body.ops):
            match op:
                case memref.GlobalOp():
                    new_ops.append(self.convert_global(op))
                case func.FuncOp():
                    new_ops.append(FunctionConverter(self, op).convert())
                    defined.add(op.sym_name.data)
                case llvm.FuncOp() | llvm.GlobalOp():
                    new_ops.append(op.clone())
                    if isinstance(op, llvm.FuncOp):
                        defined.add(op.sym_name.data)
                case _:
                    raise DiagnosticError.at(
                        op, f"'{op.name}' op cannot be converted to the llvm dialect"
                    )
        for decl in self.decls.values():
            if decl.name in defined:
                continue
            out = decl.output if decl.output is not None else llvm.LLVMVoidType()
            new_ops.append(
                llvm.FuncOp(
                    decl.name,
                    llvm.LLVMFunctionType(decl.inputs, out),
                    linkage=llvm.LinkageAttr("external"),
                )
            )
        for op in list(self.module.body.ops):
            op.detach()
            op.erase(safe_erase=False)
        for op in new_ops:
            self.module.body.block.add_op(op)

    @staticmethod
    def convert_global(op: memref.GlobalOp) -> llvm.GlobalOp:
        typ = op.type
        assert isinstance(typ, MemRefType)
        count = max(1, math.prod(typ.get_shape()))
        gtype = llvm.LLVMArrayType(count, typ.get_element_type())
        value = op.initial_value
        constant = op.constant is not None
        if isinstance(value, DenseIntOrFPElementsAttr) and math.prod(typ.get_shape()) > 0:
            flat = _flat(value, count)
            g = llvm.GlobalOp(
                gtype, op.sym_name, "internal", constant=constant or None, value=flat, alignment=64
            )
        else:  # no initial value, or no elements (a [1 x T] placeholder nobody reads)
            g = llvm.GlobalOp(gtype, op.sym_name, "internal", alignment=64)
            g.attributes[ZERO_INIT_ATTR] = UnitAttr()
        return g


def _flat(value: DenseIntOrFPElementsAttr, count: int) -> DenseIntOrFPElementsAttr:
    """The attribute with a 1-D type (LLVM globals are flat arrays)."""
    elt = value.get_element_type()
    raw = value.data.data
    per = len(raw) // max(1, len(value))
    if len(value) == 1 and count > 1:  # a splat: LLVM needs every element
        raw = raw * count
    assert len(raw) == per * count
    return DenseIntOrFPElementsAttr(TensorType(elt, [count]), BytesAttr(raw))


def convert_module_to_llvm(module: ModuleOp) -> None:
    ModuleConverter(module).run()


@dataclass(frozen=True)
class ConvertToLLVMPass(ModulePass):
    """func/cf/memref/arith/math/vector -> llvm dialect (after convert-scf-to-cf)."""

    name = "convert-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        convert_module_to_llvm(op)
