"""What a tensor value of red becomes during convert-red-to-loops: a buffer, an elementwise
op computed inside its consumer's loops, or a constant."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DenseResourceAttr, MemRefType
from xdsl.ir import Attribute, Operation, SSAValue

from red.dialects import red
from red.dialects.numpy_interop import splat_value


@functools.lru_cache(maxsize=4096)
def memref_of(typ: Attribute) -> MemRefType:
    """The buffer type of a tensor type (same shape and element type, row-major); with a
    `?` dim, a flat buffer of dynamic size (lowering/loops/sizes.py). Cached per type
    (attributes are immutable): building and verifying a MemRefType takes ~25 us, the
    lowering asks for one per buffer it reads or writes."""
    shape = list(red.shape_of(typ))
    if red.DYNAMIC in shape:
        return MemRefType(red.element_type_of(typ), [red.DYNAMIC])
    return MemRefType(red.element_type_of(typ), shape)


@dataclass
class Buffer:
    """A materialized tensor: a memref, and whether this function owns (and frees) it."""

    mem: SSAValue
    owned: bool = False
    root: SSAValue | None = None
    """The owned buffer this one is a view of (None: `mem` itself)."""

    @property
    def storage(self) -> SSAValue:
        """The buffer that is allocated and freed: the root of a view, else `mem`."""
        return self.root or self.mem


@dataclass
class Fused:
    """An elementwise-like op computed inside its consumer's loops."""

    op: Operation


@dataclass
class Const:
    """A constant tensor: a module global when read as a whole, a scalar when a splat."""

    attr: DenseIntOrFPElementsAttr | DenseResourceAttr
    array: np.ndarray

    @cached_property
    def splat(self) -> bool:
        """Whether every element is bitwise equal to the first (then it is a scalar). A
        splat attribute is a broadcast view: this looks at its one element, never at all."""
        return splat_value(self.array) is not None


Lowered = Buffer | Fused | Const
