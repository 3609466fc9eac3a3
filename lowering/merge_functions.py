"""merge-identical-functions: outlined loop nests (private `red.noinline` functions, made by
outline-loop-nests) whose bodies are the same op for op keep one copy; every call of a
duplicate calls that copy.

A model's repeated layers lower to the same loop nests over different buffers, which
outline-loop-nests passes as arguments: GPT-2-small's 257 nests are 23 distinct functions
(12 layers). Merging them before the rest of red-lower means that convert-scf-to-cf,
convert-to-llvm, the LLVM IR emission, LLVM's optimisation and its code generation each see
one copy (LLVM's own MergeFunctions pass would run after all that work is done).

Two functions are merged when they have the same type and attributes (the name aside) and
their bodies have the same ops in the same order with the same names, attributes,
properties, result types and operands (up to a consistent renaming of values and blocks).
The key is built in one walk of each function, so the pass is linear in the module's size."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, SymbolRefAttr
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from red.lowering.loops.outline import NOINLINE_ATTR, PARALLEL_NEST_ATTR


def merge_identical_functions(module: ModuleOp) -> int:
    """Erase each outlined function equal to an earlier one and redirect its calls (and any
    other reference by name) to that one; returns how many were erased. The callers of
    parallel nests are merged after the nests they call (they are equal once those are)."""
    return _merge(module, _mergeable) + _merge(module, _mergeable_caller)


def _merge(module: ModuleOp, mergeable: Callable[[Operation], bool]) -> int:
    kept: dict[Hashable, str] = {}
    replaced: dict[str, str] = {}
    duplicates: list[func.FuncOp] = []
    for op in module.body.ops:
        if not mergeable(op):
            continue
        assert isinstance(op, func.FuncOp)
        name = op.sym_name.data
        try:
            first = kept.setdefault(_function_key(op), name)
        except TypeError:  # an attribute that cannot be hashed: the function stays as it is
            continue
        if first != name:
            replaced[name] = first
            duplicates.append(op)
    if not replaced:
        return 0
    for op in module.walk():  # calls, and any other op naming a duplicate (its address)
        for fields in (op.properties, op.attributes):
            for key, attr in fields.items():
                if (to := _redirected(attr, replaced)) is not None:
                    fields[key] = to
    for fn in duplicates:
        module.body.block.erase_op(fn, safe_erase=False)
    return len(duplicates)


def _redirected(attr: Attribute, replaced: Mapping[str, str]) -> Attribute | None:
    """`attr` with every reference to a duplicate naming the function kept instead (in
    arrays and dictionaries too), or None when it names none."""
    if isinstance(attr, SymbolRefAttr):
        to = replaced.get(attr.root_reference.data)
        return None if to is None else SymbolRefAttr(to, attr.nested_references)
    if isinstance(attr, ArrayAttr | DictionaryAttr):
        entries: dict[Any, Attribute] = (
            dict(enumerate(attr.data)) if isinstance(attr, ArrayAttr) else dict(attr.data)
        )
        new = {k: n for k, a in entries.items() if (n := _redirected(a, replaced)) is not None}
        if not new:
            return None
        merged = {**entries, **new}
        return ArrayAttr(merged.values()) if isinstance(attr, ArrayAttr) else DictionaryAttr(merged)
    return None


def _mergeable(op: Operation) -> bool:
    """An outlined nest: private, with a body, marked noinline (the profiler's empty marks
    and the model's own functions are left alone)."""
    return _private_with(op, NOINLINE_ATTR)


def _mergeable_caller(op: Operation) -> bool:
    """The private caller of a parallel nest (lowering/loops/outline.py)."""
    return _private_with(op, PARALLEL_NEST_ATTR)


def _private_with(op: Operation, attribute: str) -> bool:
    return (
        isinstance(op, func.FuncOp)
        and attribute in op.attributes
        and op.sym_visibility is not None
        and op.sym_visibility.data == "private"
        and bool(op.body.blocks)
    )


def _function_key(fn: func.FuncOp) -> Hashable:
    """What the function computes, as a hashable: its signature and attributes without its
    name, then its body (see `_BodyKey`)."""
    properties = tuple(sorted((k, v) for k, v in fn.properties.items() if k != "sym_name"))
    attributes = tuple(sorted(fn.attributes.items()))
    return (properties, attributes, _BodyKey().region(fn.body))


class _BodyKey:
    """Values and blocks are numbered in the order they are defined (uses of values from
    outside the function, which an outlined nest does not have, compare by identity)."""

    def __init__(self) -> None:
        self.values: dict[SSAValue, int] = {}
        self.blocks: dict[Block, int] = {}

    def region(self, region: Region) -> tuple[Hashable, ...]:
        blocks = list(region.blocks)
        for block in blocks:  # successors may name a later block
            self.blocks[block] = len(self.blocks)
        return tuple(self.block(block) for block in blocks)

    def block(self, block: Block) -> tuple[Hashable, ...]:
        for arg in block.args:
            self.values[arg] = len(self.values)
        ops = tuple(self.op(op) for op in block.ops)
        return (tuple(arg.type for arg in block.args), ops)

    def op(self, op: Operation) -> tuple[Hashable, ...]:
        operands = tuple(self.values.get(v, ("outside", id(v))) for v in op.operands)
        successors = tuple(self.blocks.get(b, ("outside", id(b))) for b in op.successors)
        regions = tuple(self.region(r) for r in op.regions)
        for result in op.results:
            self.values[result] = len(self.values)
        return (
            op.name,
            operands,
            tuple(r.type for r in op.results),
            tuple(sorted(op.properties.items())),
            tuple(sorted(op.attributes.items())),
            successors,
            regions,
        )


@dataclass(frozen=True)
class MergeIdenticalFunctionsPass(ModulePass):
    """Outlined loop nests with the same body become one function (see the module
    docstring). Runs after outline-loop-nests, on any level that still has func.func."""

    name = "merge-identical-functions"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        merge_identical_functions(op)
