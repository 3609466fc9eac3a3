"""Greedy generation around a decoder: the naive loop that red's `incrementalize` derives a
KV cache for (DESIGN.md §10).

`greedy(module, prompt_len, new_tokens)` takes a module whose `@main` is a decoder over a
token buffer of T = prompt_len + new_tokens positions (ids `tensor<1xTxi64>` or
`tensor<Txi64>`, then any number of other arguments, usually `red.invariant` weights) that
returns the logits of every position (`tensor<1xTxVxf32>` or `tensor<TxVxf32>`), and adds

    func.func @generate(%prompt: tensor<1xPxi64>, <the other arguments of @main>)
        -> tensor<1xTxi64>

which pads the prompt with zeros to T tokens and, for t = P .. T-1, runs the whole decoder
on the buffer (its body inlined into an `scf.for`), takes the argmax of row t-1 of the
logits (the first index on ties, as HF `generate(do_sample=False)`), and writes it at
position t. Static shapes throughout; every step recomputes all T positions, which is the
redundancy incrementalize removes."""

from __future__ import annotations

from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IndexType, IntegerAttr, ModuleOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from red.dialects import red
from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.numpy_interop import splat_to_dense
from red.dialects.verifier import verify_module

GENERATE = "generate"


def _function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.body.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name and op.body.blocks:
            return op
    raise DiagnosticError(
        location_of(module), f"no function '@{name}' with a body to generate from"
    )


def _check_signature(main: func.FuncOp, total: int) -> tuple[int, int]:
    """(rank of the ids, vocabulary size); a located error if @main is not a decoder over
    `total` positions."""
    inputs, outputs = main.function_type.inputs.data, main.function_type.outputs.data
    if not inputs or len(outputs) != 1:
        raise DiagnosticError.at(
            main, "'@main' must take the token ids first and return the logits, one result"
        )
    ids_shape, ids_elt = red.shape_of(inputs[0]), red.element_type_of(inputs[0])
    if ids_shape not in ((total,), (1, total)) or not red.is_integer_type(ids_elt):
        raise DiagnosticError.at(
            main,
            f"'@main' argument #0 must be integer ids 'tensor<1x{total}xi64>' (prompt + new "
            f"tokens), got '{inputs[0]}'",
        )
    logits = red.shape_of(outputs[0])
    if logits[:-1] != ids_shape or not red.is_float_type(red.element_type_of(outputs[0])):
        raise DiagnosticError.at(
            main,
            f"'@main' must return float logits for every position (shape "
            f"{'x'.join(map(str, ids_shape))}xV), got '{outputs[0]}'",
        )
    return len(ids_shape), logits[-1]


def greedy(
    module: ModuleOp, prompt_len: int, new_tokens: int, return_logits: bool = False
) -> ModuleOp:
    """Add `@generate` (module docstring) to `module`, in place; returns the module. With
    `return_logits`, `@generate` also returns the logits each step chose from
    (`tensor<1xNxVxf32>`, row n for the token at position P + n)."""
    if prompt_len < 1 or new_tokens < 1:
        raise ValueError(
            f"expected prompt_len >= 1 and new_tokens >= 1, got {prompt_len}, {new_tokens}"
        )
    main = _function(module, "main")
    total = prompt_len + new_tokens
    rank, vocab = _check_signature(main, total)
    ids_type = main.function_type.inputs.data[0]
    ids_elt = red.element_type_of(ids_type)
    others = list(main.function_type.inputs.data[1:])
    prompt_type = red.tensor_type((1, prompt_len), ids_elt)
    tokens_type = red.tensor_type((1, total), ids_elt)

    entry = Block(arg_types=[prompt_type, *others])
    entry.args[0].name_hint = "prompt"
    for new, old in zip(entry.args[1:], main.body.block.args[1:]):
        new.name_hint = old.name_hint
    ops: list[Operation] = []

    def emit(op: Operation) -> SSAValue:
        op.location = main.location
        ops.append(op)
        return op.results[0]

    pad = emit(red.ConstantOp(splat_to_dense(0, red.tensor_type((1, new_tokens), ids_elt))))
    tokens0 = emit(red.ConcatOp([entry.args[0], pad], axis=1))
    bounds = [emit(arith.ConstantOp(IntegerAttr(n, IndexType()))) for n in (prompt_len, total, 1)]
    logits_type = main.function_type.outputs.data[0]
    chosen_type = red.tensor_type((1, new_tokens, vocab), red.element_type_of(logits_type))
    carried = [tokens0]
    if return_logits:
        carried.append(emit(red.ConstantOp(splat_to_dense(0, chosen_type))))
    body = _loop_body(main, entry, [tokens_type, *([chosen_type] if return_logits else [])], rank)
    loop = scf.ForOp(bounds[0], bounds[1], bounds[2], carried, Region(body))
    loop.location = main.location
    ops.append(loop)
    ops.append(func.ReturnOp(*loop.results))
    for op in ops:
        entry.add_op(op)
    result_types = [tokens_type, *([chosen_type] if return_logits else [])]
    generate = func.FuncOp(GENERATE, ([prompt_type, *others], result_types), Region(entry))
    generate.location = main.location
    if main.arg_attrs is not None:
        attrs = [DictionaryAttr({}), *main.arg_attrs.data[1:]]
        generate.arg_attrs = ArrayAttr(attrs)
    module.body.block.add_op(generate)
    verify_module(module)
    return module


def _loop_body(main: func.FuncOp, outer: Block, carried: list[Attribute], rank: int) -> Block:
    """One step: the decoder on the whole buffer, argmax of row t-1, written at t (and the
    row of logits written at t - P when they are carried too)."""
    body = Block(arg_types=[IndexType(), *carried])
    t, tokens = body.args[:2]
    t.name_hint, tokens.name_hint = "t", "tokens"
    ids_type = main.function_type.inputs.data[0]
    ops: list[Operation] = []

    def emit(op: Operation) -> SSAValue:
        op.location = main.location
        ops.append(op)
        return op.results[0]

    ids = tokens if rank == 2 else emit(red.ReshapeOp(tokens, red.shape_of(ids_type)))
    mapping: dict[SSAValue, SSAValue] = {main.body.block.args[0]: ids}
    mapping.update(zip(main.body.block.args[1:], outer.args[1:]))
    logits: SSAValue | None = None
    for op in main.body.block.ops:
        if isinstance(op, func.ReturnOp):
            logits = mapping.get(op.arguments[0], op.arguments[0])
            break
        clone = op.clone(value_mapper=mapping)
        ops.append(clone)
        mapping.update(zip(op.results, clone.results))
    assert logits is not None
    if rank == 1:
        shape = red.shape_of(logits)
        logits = emit(red.ReshapeOp(logits, (1, *shape)))
    vocab = red.shape_of(logits)[-1]
    one = emit(arith.ConstantOp(IntegerAttr(1, IndexType())))
    zero = emit(arith.ConstantOp(IntegerAttr(0, IndexType())))
    previous = emit(arith.SubiOp(t, one))
    row = emit(red.DynamicSliceOp(logits, [zero, previous, zero], [1, 1, vocab]))
    token = emit(red.ArgmaxOp(row, axis=2))
    if red.element_type_of(token) != red.element_type_of(tokens):
        token = emit(red.CastOp(token, red.element_type_of(tokens)))
    updated = emit(red.DynamicUpdateSliceOp(tokens, token, [zero, t]))
    outputs = [updated]
    if len(body.args) > 2:
        prompt = emit(
            arith.ConstantOp(
                IntegerAttr(red.shape_of(tokens)[1] - red.shape_of(body.args[2])[1], IndexType())
            )
        )
        step = emit(arith.SubiOp(t, prompt))
        outputs.append(emit(red.DynamicUpdateSliceOp(body.args[2], row, [zero, step, zero])))
    ops.append(scf.YieldOp(*outputs))
    for op in ops:
        body.add_op(op)
    return body
