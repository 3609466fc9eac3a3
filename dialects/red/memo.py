"""Caching: `red.memo`, a region computed once per distinct invariant operands and cached,
and its terminator `red.yield` (DESIGN.md §3, memoize)."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, TensorType, UnitAttr
from xdsl.ir import Attribute, BlockArgument, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure, ReturnLike

from red.dialects.red.base import (
    INVARIANT_ATTR,
    TYPE_SIZES,
    Cost,
    RedOp,
    Sizes,
    canonicalization_patterns,
    op_error,
)
from red.dialects.symbols import is_private


@irdl_op_definition
class MemoOp(RedOp):
    """Computes its region once per distinct operand buffers and caches the results; the
    operands (invariant values) are the cache key and the region's block arguments, e.g.
    %wt = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
    ^bb0(%a: tensor<8x4xf32>):
      %t = red.transpose %a [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
      red.yield %t : tensor<4x8xf32>
    }"""

    name = "red.memo"

    keys = var_operand_def(TensorType)
    body = region_def("single_block")
    outputs = var_result_def(TensorType)

    # A memo is a pure function of its operands: caching is an implementation detail.
    traits = traits_def(
        Pure(),
        IsolatedFromAbove(),
        canonicalization_patterns(
            "memo", "ForwardMemoConstantsAndKeys", "EraseUnusedMemoResultsAndKeys"
        ),
    )

    def __init__(self, keys: Sequence[SSAValue], result_types: Sequence[Attribute], body: Region):
        super().__init__(operands=[list(keys)], result_types=[list(result_types)], regions=[body])

    @classmethod
    def parse(cls, parser: Parser) -> MemoOp:
        unresolved = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        parser.parse_punctuation(":")
        pos = parser.pos
        fn_type = parser.parse_function_type()
        keys = parser.resolve_operands(unresolved, fn_type.inputs.data, pos)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region()
        op = cls(keys, fn_type.outputs.data, body)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_list(self.keys, printer.print_operand)
        printer.print_string(") : ")
        # (print_operation_type would print `loc(...)` here under --mlir-print-debuginfo)
        printer.print_function_type(self.operand_types, self.result_types)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=True, print_empty_block=True)

    def cost(self, sizes: Sizes = TYPE_SIZES) -> Cost:
        """The memo itself moves nothing; its body is costed by the cost model."""
        return Cost()

    def row_sources(self, axis: int) -> Sequence[object] | None:
        return None

    def verify_(self) -> None:
        block = self.body.block
        arg_types = [a.type for a in block.args]
        key_types = [k.type for k in self.keys]
        if arg_types != key_types:
            raise op_error(
                self,
                f"block argument types ({', '.join(map(str, arg_types))}) differ from operand "
                f"types ({', '.join(map(str, key_types))})",
            )
        term = block.last_op
        if not isinstance(term, YieldOp):
            raise op_error(self, "expected the region to end with 'red.yield'")
        yielded = [v.type for v in term.values]
        out = [r.type for r in self.outputs]
        if yielded != out:
            raise op_error(
                self,
                f"yielded types ({', '.join(map(str, yielded))}) differ from result types "
                f"({', '.join(map(str, out))})",
            )
        self.verify_keys()

    def verify_keys(self) -> None:
        """Each key must be a `red.invariant` argument of the public function the memo is
        in: the promise that a buffer does not change between calls exists only for those
        (a computed value, or a private function's argument, can change behind the same
        address, and the cache would return stale results)."""
        fn = self.parent_op()
        while fn is not None and not isinstance(fn, func.FuncOp):
            fn = fn.parent_op()
        for i, key in enumerate(self.keys):
            entry = fn.body.blocks.first if isinstance(fn, func.FuncOp) else None
            ok = (
                isinstance(fn, func.FuncOp)
                and isinstance(key, BlockArgument)
                and key.block is entry
                and not is_private(fn)
                and fn.arg_attrs is not None
                and INVARIANT_ATTR in fn.arg_attrs.data[key.index].data
            )
            if not ok:
                raise op_error(
                    self,
                    f"key #{i} must be a '{INVARIANT_ATTR}' argument of the public function "
                    "the memo is in (only those stay unchanged between calls)",
                )


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Returns the values a red.memo caches, e.g. red.yield %t : tensor<4x8xf32>"""

    name = "red.yield"

    values = var_operand_def(TensorType)

    traits = traits_def(Pure(), IsTerminator(), ReturnLike(), HasParent(MemoOp))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue | Operation]):
        super().__init__(operands=[list(values)])


def verify_invariant_attrs(attrs: ArrayAttr[DictionaryAttr] | None) -> str | None:
    """Checks `red.invariant` argument attributes are unit; returns an error message or None."""
    if attrs is None:
        return None
    for i, d in enumerate(attrs.data):
        if INVARIANT_ATTR in d.data and not isinstance(d.data[INVARIANT_ATTR], UnitAttr):
            return f"argument #{i}: '{INVARIANT_ATTR}' must be a unit attribute"
    return None
