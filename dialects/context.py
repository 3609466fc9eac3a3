"""The xDSL context with every dialect red reads (DESIGN.md §6) registered."""

from xdsl.context import Context
from xdsl.dialects.affine import Affine
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin
from xdsl.dialects.cf import Cf
from xdsl.dialects.func import Func
from xdsl.dialects.llvm import LLVM
from xdsl.dialects.math import Math
from xdsl.dialects.memref import MemRef
from xdsl.dialects.scf import Scf
from xdsl.dialects.tensor import Tensor
from xdsl.dialects.vector import Vector

from red.dialects import xdsl_fixes  # noqa: F401 - applies the printer fix
from red.dialects.red import Red

DIALECTS = (Builtin, Func, Arith, Math, Scf, Cf, MemRef, Tensor, Affine, Vector, LLVM, Red)


def make_context(allow_unregistered: bool = False) -> Context:
    """A fresh context with builtin, func, arith, math, scf, cf, memref, tensor, affine,
    vector (the lowering's matmul kernel), llvm and red loaded."""
    ctx = Context(allow_unregistered=allow_unregistered)
    for dialect in DIALECTS:
        ctx.load_dialect(dialect)
    return ctx
