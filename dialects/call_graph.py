"""The call graph of a module, and the rule that it has no cycles: red functions do not
recurse, directly or through other functions (README "Run-time semantics"). Neural-network
models have no use for recursion, the interpreter and compiled code would need different
depth limits, and a cycle-free graph lets every analysis of calls finish."""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from red.dialects.diagnostics import DiagnosticError


def call_graph(module: ModuleOp) -> dict[str, list[func.CallOp]]:
    """Function name -> the calls in its body (to functions of the module or not)."""
    graph: dict[str, list[func.CallOp]] = {}
    for op in module.body.ops:
        if isinstance(op, func.FuncOp):
            graph[op.sym_name.data] = [c for c in op.walk() if isinstance(c, func.CallOp)]
    return graph


def verify_no_recursion(root: Operation) -> None:
    """Raise a located DiagnosticError at a call that closes a cycle of calls."""
    modules = [op for op in root.walk() if isinstance(op, ModuleOp)]
    for module in modules:
        graph = call_graph(module)
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in graph:
            if state.get(start):
                continue
            # iterative depth-first search: a deep call chain must not exhaust Python's stack
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = [start]
            state[start] = 1
            while stack:
                name, i = stack.pop()
                calls = graph[name]
                if i == len(calls):
                    state[name] = 2
                    path.pop()
                    continue
                stack.append((name, i + 1))
                callee = calls[i].callee.string_value()
                if callee not in graph:
                    continue
                if state.get(callee) == 1:
                    cycle = [*path[path.index(callee) :], callee]
                    raise DiagnosticError.at(
                        calls[i],
                        f"'func.call' op recursion is not supported: "
                        f"{' -> '.join('@' + n for n in cycle)}",
                    )
                if not state.get(callee):
                    state[callee] = 1
                    path.append(callee)
                    stack.append((callee, 0))
