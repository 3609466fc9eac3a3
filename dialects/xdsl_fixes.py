"""Fixes to xDSL 0.74 that red depends on, applied when the dialects load.

Dense float attributes: xDSL 0.74 prints inf and NaN as hex bit patterns (`dense<0x7F800000>`)
that its parser reads back as the integer's value (2.139095e+09), and prints a constant whose
elements compare equal as a splat, so `dense<[0.0, -0.0]>` comes back as `+0.0` everywhere.
Such attributes print in the raw-bytes form `dense<"0x...">` instead, which xDSL and MLIR
both read back bit for bit; every other attribute prints as before."""

from __future__ import annotations

import math
import struct

from xdsl.dialects.builtin import AnyFloat, DenseIntOrFPElementsAttr
from xdsl.printer import Printer

_FORMATS = {16: "<e", 32: "<f", 64: "<d"}


def needs_raw_bytes(attr: DenseIntOrFPElementsAttr) -> bool:
    """A float attribute the stock printer would not print faithfully: one holding a
    non-finite value, or elements equal as numbers but different as bits (+0.0, -0.0)."""
    elt = attr.get_element_type()
    if not isinstance(elt, AnyFloat) or elt.bitwidth not in _FORMATS:
        return False
    step, fmt = elt.bitwidth // 8, _FORMATS[elt.bitwidth]
    raw = attr.data.data
    words = {raw[i : i + step] for i in range(0, len(raw), step)}
    values = [struct.unpack(fmt, w)[0] for w in words]
    if len(words) > 1 and len(set(values)) == 1:
        return True
    return any(not math.isfinite(v) for v in values)


_stock_print_without_type = DenseIntOrFPElementsAttr.print_without_type


def _print_without_type(self: DenseIntOrFPElementsAttr, printer: Printer) -> None:
    if len(self) and needs_raw_bytes(self):
        printer.print_string(f'dense<"0x{self.data.data.hex().upper()}">')
        return
    _stock_print_without_type(self, printer)


DenseIntOrFPElementsAttr.print_without_type = _print_without_type  # type: ignore[method-assign]
