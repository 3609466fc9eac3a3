"""Fixes to xDSL 0.74 that red depends on, applied when the dialects load.

Dense float attributes: xDSL 0.74 prints inf and NaN as hex bit patterns (`dense<0x7F800000>`)
that its parser reads back as the integer's value (2.139095e+09), and prints a constant whose
elements compare equal as a splat, so `dense<[0.0, -0.0]>` comes back as `+0.0` everywhere.
Such attributes print in the raw-bytes form `dense<"0x...">` instead, which xDSL and MLIR
both read back bit for bit; every other attribute prints as before.

Dense resources: builtin's blob store holds bytes (views, never hex text); see
`numpy_interop.ResourceStore`."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import AnyFloat, DenseIntOrFPElementsAttr
from xdsl.printer import Printer

from red.dialects.numpy_interop import blob_store

_BITS = {16: (np.float16, np.uint16), 32: (np.float32, np.uint32), 64: (np.float64, np.uint64)}


def needs_raw_bytes(attr: DenseIntOrFPElementsAttr) -> bool:
    """A float attribute the stock printer would not print faithfully: one holding a
    non-finite value, or elements equal as numbers but different as bits (+0.0, -0.0).
    Two vectorised passes over the data, whatever its size."""
    elt = attr.get_element_type()
    if not isinstance(elt, AnyFloat) or elt.bitwidth not in _BITS:
        return False
    float_type, bits_type = _BITS[elt.bitwidth]
    raw = attr.data.data
    values = np.frombuffer(raw, dtype=float_type, count=len(raw) // np.dtype(float_type).itemsize)
    if values.size == 0:
        return False
    if not np.isfinite(values).all():
        return True
    if not (values == values[0]).all():
        return False  # the stock printer lists the elements: each prints as itself
    bits = values.view(bits_type)
    return not (bits == bits[0]).all()  # equal as numbers, different as bits: not a splat


_stock_print_without_type = DenseIntOrFPElementsAttr.print_without_type


def _print_without_type(self: DenseIntOrFPElementsAttr, printer: Printer) -> None:
    if len(self) and needs_raw_bytes(self):
        printer.print_string(f'dense<"0x{self.data.data.hex().upper()}">')
        return
    _stock_print_without_type(self, printer)


DenseIntOrFPElementsAttr.print_without_type = _print_without_type  # type: ignore[method-assign]
blob_store()  # installed before any module is parsed
