"""Binding arguments to known arrays: a function's weight arguments become `red.constant`s (dense
resources holding views of the arrays), so that a module imported with its weights as arguments
(`import_torch`, `import_onnx(weights_as_args=True)`) compiles with them as constants, as
onnxruntime holds its initializers."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    FunctionType,
    ModuleOp,
    NameLoc,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, BlockArgument

from red.dialects import red
from red.dialects.numpy_interop import (
    UnsupportedTypeError,
    numpy_dtype,
    numpy_to_dense,
    numpy_to_resource,
)

RESOURCE_THRESHOLD = 4096
"""Bytes from which a bound array is a dense resource (a view, printed as a blob) rather than
dense elements (copied, printed as numbers): the importers' and the printer's threshold."""

_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.$-]")


def bind_arguments(
    module: ModuleOp,
    function_name: str,
    arrays_by_argument_index: Mapping[int, np.ndarray],
    resource_threshold: int = RESOURCE_THRESHOLD,
) -> None:
    """Replace arguments of `@function_name` by `red.constant`s of the given arrays, in place:
    argument `i` becomes a constant holding `arrays_by_argument_index[i]` (indices as in the
    signature before binding) and leaves the signature, with its argument attributes.

    An array of `resource_threshold` bytes or more (bool excepted) is a dense resource whose
    blob is a read-only view of the array's memory (copied only when the array is not
    C-contiguous); smaller ones are dense elements. The module keeps those views: the caller
    must not write into the arrays afterwards. The array's dtype and shape must be the
    argument's element type and static shape exactly (no conversion). A function that is called
    inside the module cannot be bound (its calls pass those arguments).

    ValueError names the function, the argument index and what is wrong; nothing is changed
    then."""
    fn = _function(module, function_name)
    if not fn.body.blocks:
        raise ValueError(f"function '@{function_name}' is a declaration: it has no body to bind")
    args = fn.body.block.args
    for index, array in arrays_by_argument_index.items():
        _check(function_name, index, args, array)
    if not arrays_by_argument_index:
        return
    _refuse_callers(module, function_name)

    block = fn.body.block
    anchor = block.first_op
    for index in sorted(arrays_by_argument_index):
        arg = args[index]
        array = np.asarray(arrays_by_argument_index[index])
        name = arg.name_hint or f"{function_name}_arg{index}"
        op = red.ConstantOp(_value(array, name, resource_threshold))
        op.location = NameLoc(StringAttr(name), fn.location)
        op.result.name_hint = arg.name_hint
        if anchor is not None:
            block.insert_op_before(op, anchor)
        else:
            block.add_op(op)
        arg.replace_all_uses_with(op.result)

    bound = set(arrays_by_argument_index)
    for index in sorted(bound, reverse=True):
        block.erase_arg(args[index])
    inputs = [t for i, t in enumerate(fn.function_type.inputs.data) if i not in bound]
    fn.function_type = FunctionType.from_lists(inputs, list(fn.function_type.outputs.data))
    if fn.arg_attrs is not None:
        kept = [a for i, a in enumerate(fn.arg_attrs.data) if i not in bound]
        fn.arg_attrs = ArrayAttr[DictionaryAttr](kept)


def _function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.body.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    names = ", ".join(
        f"'@{op.sym_name.data}'" for op in module.body.ops if isinstance(op, func.FuncOp)
    )
    raise ValueError(f"no function '@{name}' in the module (it has {names or 'none'})")


def _check(
    function_name: str, index: object, args: tuple[BlockArgument, ...], array: object
) -> None:
    """ValueError unless `array` can stand for argument `index` as it is (no conversion)."""
    where = f"argument {index} of '@{function_name}'"
    if not isinstance(index, int | np.integer) or isinstance(index, bool):
        raise ValueError(f"{where}: an argument index is an int, got {type(index).__name__}")
    if not 0 <= index < len(args):
        raise ValueError(
            f"{where} does not exist: the function has {len(args)} arguments "
            f"(indices 0 to {len(args) - 1})"
        )
    typ: Attribute = args[index].type
    if not isinstance(typ, TensorType):
        raise ValueError(f"{where} has type '{typ}', not a tensor")
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array, got {type(array).__name__}")
    shape = tuple(typ.get_shape())
    if any(d < 0 for d in shape):
        raise ValueError(f"{where} has the dynamic type '{typ}': only static shapes are bound")
    if array.shape != shape:
        raise ValueError(f"{where} has shape {shape}, the array {array.shape}")
    try:
        dtype = numpy_dtype(typ.get_element_type())
    except UnsupportedTypeError as err:
        raise ValueError(f"{where}: {err}") from None
    if array.dtype != dtype:
        raise ValueError(f"{where} holds {dtype} elements, the array {array.dtype}")


def _refuse_callers(module: ModuleOp, name: str) -> None:
    for op in module.walk():
        if isinstance(op, func.CallOp) and op.callee.root_reference.data == name:
            raise ValueError(
                f"function '@{name}' is called inside the module: binding its arguments would "
                "drop what its calls pass"
            )


def _value(
    array: np.ndarray, name: str, resource_threshold: int
) -> DenseResourceAttr | DenseIntOrFPElementsAttr:
    if array.dtype != np.bool_ and array.nbytes >= resource_threshold:
        return numpy_to_resource(array, _KEY_CHARS.sub("_", name) or "weight")
    return numpy_to_dense(array)
