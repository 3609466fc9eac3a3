"""Dead code elimination: side-effect-free ops whose results are unused, blocks no path
reaches, private functions nothing calls, and the unused arguments and results of private
functions whose every use is a direct call (so the signature can change safely)."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FunctionType, ModuleOp, SymbolRefAttr
from xdsl.ir import Attribute, Operation
from xdsl.passes import ModulePass

from red.dialects.dominance import DominatorTree
from red.dialects.symbols import is_private
from red.passes.rewriting import report, rewriter_for
from red.transforms.analysis.purity import PurityOracle, is_dead


def erase_dead_ops(root: Operation, purity: PurityOracle, ctx: Context | None = None) -> int:
    """Erase unused side-effect-free ops under `root` (a worklist, so chains die in one
    run), where `ctx`'s observer (if any) sees them; returns how many were erased."""
    work = [o for o in root.walk() if o is not root]
    erased = 0
    while work:
        op = work.pop()
        if op.parent is None or not is_dead(op, purity):
            continue
        owners = [v.owner for v in op.operands if isinstance(v.owner, Operation)]
        rewriter_for(op, ctx).erase(op)
        erased += 1
        work.extend(o for o in owners if o.parent is not None)
    return erased


def erase_unreachable_blocks(root: Operation) -> int:
    """Erase the blocks of multi-block regions that no path from the entry reaches. Their
    values can only be used by other unreachable blocks, so dropping every reference inside
    the dead blocks first leaves nothing dangling."""
    count = 0
    for op in list(root.walk()):
        for region in op.regions:
            if len(region.blocks) < 2:
                continue
            tree = DominatorTree(region)
            dead = [b for b in region.blocks if not tree.is_reachable(b)]
            for b in dead:
                for o in b.ops:
                    o.drop_all_references()
            for b in dead:
                region.detach_block(b)
                b.erase(safe_erase=False)
                count += 1
    return count


def _symbol_uses(module: Operation) -> dict[str, list[Operation]]:
    """Ops under `module` that reference each symbol name in their properties or
    attributes."""
    uses: dict[str, list[Operation]] = {}

    def scan(attr: Attribute, op: Operation) -> None:
        if isinstance(attr, SymbolRefAttr):
            uses.setdefault(attr.root_reference.data, []).append(op)
        elif isinstance(attr, ArrayAttr):
            for a in attr.data:
                scan(a, op)
        elif isinstance(attr, DictionaryAttr):
            for a in attr.data.values():
                scan(a, op)

    for op in module.walk():
        for attr in (*op.properties.values(), *op.attributes.values()):
            scan(attr, op)
    return uses


def _drop_at(attrs: ArrayAttr | None, dead: set[int]) -> ArrayAttr | None:
    if attrs is None:
        return None
    return ArrayAttr([a for i, a in enumerate(attrs.data) if i not in dead])


def unreachable_private_functions(module: ModuleOp) -> list[func.FuncOp]:
    """Private functions no public function (or other top-level op) reaches through symbol
    references, even if they reference each other (recursion)."""
    functions = {op.sym_name.data: op for op in module.body.ops if isinstance(op, func.FuncOp)}
    work: list[Operation] = [
        op for op in module.body.ops if not (isinstance(op, func.FuncOp) and is_private(op))
    ]
    reached: set[str] = set()
    while work:
        for name in _symbol_uses(work.pop()):
            if name in functions and name not in reached:
                reached.add(name)
                work.append(functions[name])
    return [fn for name, fn in functions.items() if is_private(fn) and name not in reached]


def trim_private_functions(module: ModuleOp, ctx: Context | None = None) -> bool:
    """Remove private functions nothing reaches, and the unused arguments and results of
    private functions only called directly; returns whether anything changed."""
    dead = unreachable_private_functions(module)
    for fn in dead:
        note = f"private function '@{fn.sym_name.data}' is never used"
        report(ctx, "dead", [fn], note=note)
    for fn in dead:
        fn.detach()
    for fn in dead:
        fn.erase(safe_erase=False)
    changed = bool(dead)
    uses = _symbol_uses(module)
    for fn in [op for op in module.body.ops if isinstance(op, func.FuncOp)]:
        if not is_private(fn):
            continue
        name = fn.sym_name.data
        callers = uses.get(name, [])
        if not fn.body.blocks or not all(
            isinstance(c, func.CallOp) and c.callee.root_reference.data == name for c in callers
        ):
            continue
        calls = [c for c in callers if isinstance(c, func.CallOp)]
        calls, dropped = _drop_unused_results(fn, calls)
        changed |= dropped
        changed |= _drop_unused_arguments(fn, calls)
    return changed


def _drop_unused_arguments(fn: func.FuncOp, calls: list[func.CallOp]) -> bool:
    block = fn.body.block
    dead = {i for i, a in enumerate(block.args) if not a.uses}
    if not dead:
        return False
    for i in sorted(dead, reverse=True):
        block.erase_arg(block.args[i])
    inputs = [t for i, t in enumerate(fn.function_type.inputs.data) if i not in dead]
    fn.function_type = FunctionType.from_lists(inputs, list(fn.function_type.outputs.data))
    fn.arg_attrs = _drop_at(fn.arg_attrs, dead)  # pyright: ignore[reportAttributeAccessIssue]
    for call in calls:
        call.operands = [v for i, v in enumerate(call.operands) if i not in dead]
    return True


def _drop_unused_results(
    fn: func.FuncOp, calls: list[func.CallOp]
) -> tuple[list[func.CallOp], bool]:
    """Drop results no call uses; returns the (rebuilt) calls and whether anything changed."""
    n = len(fn.function_type.outputs.data)
    dead = {j for j in range(n) if all(not c.results[j].uses for c in calls)}
    if not dead:
        return calls, False
    for ret in [o for o in fn.walk() if isinstance(o, func.ReturnOp)]:
        ret.operands = [v for j, v in enumerate(ret.operands) if j not in dead]
    outputs = [t for j, t in enumerate(fn.function_type.outputs.data) if j not in dead]
    fn.function_type = FunctionType.from_lists(list(fn.function_type.inputs.data), outputs)
    fn.res_attrs = _drop_at(fn.res_attrs, dead)  # pyright: ignore[reportAttributeAccessIssue]
    rebuilt: list[func.CallOp] = []
    for call in calls:
        new = func.CallOp(call.callee, list(call.operands), outputs)
        new.location = call.location
        kept = [r for j, r in enumerate(call.results) if j not in dead]
        assert call.parent is not None
        call.parent.insert_op_before(new, call)
        for old, repl in zip(kept, new.results):
            old.replace_all_uses_with(repl)
        call.detach()
        call.erase()
        rebuilt.append(new)
    return rebuilt, True


def run_dce(module: ModuleOp, ctx: Context | None = None) -> None:
    while True:
        erase_unreachable_blocks(module)
        erase_dead_ops(module, PurityOracle(module), ctx)
        if not trim_private_functions(module, ctx):
            break


@dataclass(frozen=True)
class DCEPass(ModulePass):
    """Erase dead ops, unreachable blocks, unused private functions and the unused arguments
    and results of private functions called only directly."""

    name = "dce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_dce(op, ctx)
