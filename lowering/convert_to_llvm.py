"""convert-to-llvm: the loop level (func, cf, memref, arith, math, vector; after
convert-scf-to-cf) -> the llvm dialect, in one walk per function.

xDSL 0.74 has no arith, math, func or cf lowering to llvm, and its memref -> ptr -> llvm
path computes addresses with ptrtoint/add/inttoptr, which hides provenance from LLVM's alias
analysis and vectorizer. Here a memref is a pointer to its contiguous data (of a static
shape, or flat with a dynamic size: a tensor with `?` dims), an access is one
`getelementptr inbounds` at the row-major linear index, `index` is i64, buffers come from
malloc/free, memref globals become llvm globals, and the math functions
LLVM has no intrinsic for (tanh, erf) call libm or, for f32, inline approximations.

This file is the driver: it walks the module and each function's blocks and applies the
rule registered for each op's class (lowering/llvm/rules.py); the rules live in one module
per source dialect in lowering/llvm/. An op without a rule is a located error."""

from __future__ import annotations

import struct
from collections.abc import Hashable
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, IntegerType, ModuleOp, i64
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.dialects.diagnostics import DiagnosticError
from red.lowering.gc_pause import gc_paused
from red.lowering.llvm import arith, cf, math, memref, vector
from red.lowering.llvm import func as func_rules
from red.lowering.llvm.memref import ZERO_INIT_ATTR
from red.lowering.llvm.rules import OP_RULES, SYMBOL_RULES, convert_type, intrinsic_suffix

RULE_MODULES = (arith, cf, func_rules, math, memref, vector)
"""The rule modules; importing them registers their rules."""

__all__ = ["ZERO_INIT_ATTR", "ConvertToLLVMPass", "convert_module_to_llvm"]


def _unconvertible(op: Operation) -> DiagnosticError:
    return DiagnosticError.at(op, f"'{op.name}' op cannot be converted to the llvm dialect")


@dataclass
class _Decl:
    name: str
    inputs: list[Attribute]
    output: Attribute | None


class ModuleConverter:
    """Converts the ops of a module body by their symbol rules, and declares the external
    functions (malloc, libm) the converted code calls."""

    def __init__(self, module: ModuleOp):
        self.module = module
        self.decls: dict[str, _Decl] = {}

    def declare(self, name: str, inputs: list[Attribute], output: Attribute | None) -> None:
        self.decls.setdefault(name, _Decl(name, inputs, output))

    def convert_body(self, fn: func.FuncOp) -> Region:
        """The converted blocks of a function (whose signature the caller converts)."""
        return FunctionConverter(self, fn).convert()

    def run(self) -> None:
        new_ops: list[Operation] = []
        for op in self.module.body.ops:
            if isinstance(op, llvm.FuncOp | llvm.GlobalOp):
                new_ops.append(op.clone())
            elif (rule := SYMBOL_RULES.get(op)) is not None:
                new_ops.append(rule(self, op))
            else:
                raise _unconvertible(op)
        defined = {op.sym_name.data for op in new_ops if isinstance(op, llvm.FuncOp)}
        for decl in self.decls.values():
            if decl.name not in defined:
                out = decl.output if decl.output is not None else llvm.LLVMVoidType()
                ftype = llvm.LLVMFunctionType(decl.inputs, out)
                new_ops.append(llvm.FuncOp(decl.name, ftype, linkage=llvm.LinkageAttr("external")))
        for op in list(self.module.body.ops):
            op.detach()
            op.erase(safe_erase=False)
        self.module.body.block.add_ops(new_ops)


class FunctionConverter:
    """Converts the blocks of one func.func into llvm blocks: the state the op rules read
    and write (converted values and blocks) and the helpers they share."""

    def __init__(self, module: ModuleConverter, fn: func.FuncOp):
        self.module = module
        self.fn = fn
        self._values: dict[SSAValue, SSAValue] = {}
        self._blocks: dict[Block, Block] = {}
        self._constants: dict[Hashable, SSAValue] = {}
        self._last_constant: Operation | None = None
        self.current: Block | None = None
        entry = fn.body.first_block
        assert entry is not None, "a declaration has no body to convert"
        self._entry = entry

    def convert(self) -> Region:
        for block in self.fn.body.blocks:
            new = Block(arg_types=[convert_type(a.type) for a in block.args])
            self._blocks[block] = new
            for old, arg in zip(block.args, new.args):
                self.set(old, arg)
                arg.name_hint = old.name_hint
        for block in _dominance_order(self.fn.body):
            self.current = self._blocks[block]
            for op in block.ops:
                if (rule := OP_RULES.get(op)) is None:
                    raise _unconvertible(op)
                rule(self, op)
        return Region([self._blocks[b] for b in self.fn.body.blocks])

    # region the rules' interface

    def emit(self, op: Operation) -> SSAValue:
        """Append `op` to the current block; its first result (None without results). A
        scalar constant is made once per function, at the top of the entry block (LLVM IR
        writes constants inline: this only saves ops; measured on the LSTM example, 2176 of
        the 8474 ops convert-to-llvm made were constants)."""
        if isinstance(op, llvm.ConstantOp) and (key := _constant_key(op)) is not None:
            return self._constant(key, op)
        assert self.current is not None
        self.current.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def _constant(self, key: Hashable, op: llvm.ConstantOp) -> SSAValue:
        if (found := self._constants.get(key)) is None:
            entry = self._blocks[self._entry]
            if self._last_constant is not None:  # in the order of first use
                entry.insert_op_after(op, self._last_constant)
            elif (first := entry.first_op) is not None:
                entry.insert_op_before(op, first)
            else:
                entry.add_op(op)
            self._last_constant = op
            found = self._constants[key] = op.result
        return found

    def get(self, v: SSAValue) -> SSAValue:
        """The converted value of `v`."""
        return self._values[v]

    def set(self, v: SSAValue, new: SSAValue) -> None:
        """Record that `v` converts to `new`."""
        self._values[v] = new

    def block(self, b: Block) -> Block:
        """The converted block of `b` (a branch target)."""
        return self._blocks[b]

    def declare(self, name: str, inputs: list[Attribute], output: Attribute | None) -> None:
        """Declare external function `name` in the module (once)."""
        self.module.declare(name, inputs, output)

    def const_int(self, value: int, typ: IntegerType = i64) -> SSAValue:
        return self.emit(llvm.ConstantOp(IntegerAttr(value, typ), typ))

    def intrinsic(self, base: str, args: list[SSAValue], typ: Attribute) -> SSAValue:
        """A call of `llvm.<base>.<type suffix>` returning `typ`."""
        name = f"llvm.{base}.{intrinsic_suffix(typ)}"
        return self.emit(llvm.CallIntrinsicOp(name, args, [typ]))

    # endregion the rules' interface


def _constant_key(op: llvm.ConstantOp) -> Hashable | None:
    """What makes two scalar constants the same: their type and their bits (0.0 and -0.0
    differ; NaNs of one payload are one constant)."""
    value, typ = op.value, op.result.type
    if isinstance(value, FloatAttr):
        return (typ, struct.pack("<d", value.value.data))
    if isinstance(value, IntegerAttr):
        return (typ, value.value.data)
    return None


def _dominance_order(region: Region) -> list[Block]:
    """The blocks in reverse post-order from the entry (a definition is converted before its
    uses in any order the blocks are listed), then the unreachable ones."""
    entry = region.first_block
    if entry is None:
        return []
    seen, post = {entry}, []
    stack: list[tuple[Block, list[Block]]] = [(entry, _successors(entry))]
    while stack:
        todo = stack[-1][1]
        if todo:
            succ = todo.pop()
            if succ not in seen:
                seen.add(succ)
                stack.append((succ, _successors(succ)))
        else:
            post.append(stack.pop()[0])
    order = post[::-1]
    return order + [b for b in region.blocks if b not in seen]


def _successors(block: Block) -> list[Block]:
    last = block.last_op
    return list(reversed(last.successors)) if last is not None else []


def convert_module_to_llvm(module: ModuleOp) -> None:
    ModuleConverter(module).run()


@dataclass(frozen=True)
class ConvertToLLVMPass(ModulePass):
    """func/cf/memref/arith/math/vector -> llvm dialect (after convert-scf-to-cf)."""

    name = "convert-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with gc_paused():
            convert_module_to_llvm(op)
