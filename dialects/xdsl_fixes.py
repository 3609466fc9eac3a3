"""Fixes to xDSL 0.74 that red depends on, applied when the dialects load.

Dense float attributes: xDSL 0.74 prints inf and NaN as hex bit patterns (`dense<0x7F800000>`)
that its parser reads back as the integer's value (2.139095e+09), as it does a finite value
whose short decimal form would not read back and whose 9 (f32) or 17 (f64) digit form has no
point (2618497.0 prints `0x4A1FD204`, read back as 1.2435994e+09), and prints a constant
whose elements compare equal as a splat, so `dense<[0.0, -0.0]>` comes back as `+0.0`
everywhere.
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
    if not np.isfinite(values).all() or _prints_as_hex(values, elt.bitwidth):
        return True
    if not (values == values[0]).all():
        return False  # the stock printer lists the elements: each prints as itself
    bits = values.view(bits_type)
    return not (bits == bits[0]).all()  # equal as numbers, different as bits: not a splat


def _prints_as_hex(values: np.ndarray, bitwidth: int) -> bool:
    """Whether xDSL's `print_float` would print one of these finite values as hex bits: its
    `%.5e` form does not read back and its `%.9g` (f32) / `%.17g` (f64) form has no point."""
    if bitwidth not in (32, 64):
        return False  # f16 prints as Python's repr
    unique = np.unique(values).astype(np.float64)
    short = np.char.mod("%.5e", unique).astype(np.float64).astype(values.dtype)
    lossy = unique[short != unique.astype(values.dtype)]
    if lossy.size == 0:
        return False
    long = np.char.mod("%.9g" if bitwidth == 32 else "%.17g", lossy)
    return bool((np.char.find(long, ".") < 0).any())


_stock_print_without_type = DenseIntOrFPElementsAttr.print_without_type


def _print_without_type(self: DenseIntOrFPElementsAttr, printer: Printer) -> None:
    if len(self) and needs_raw_bytes(self):
        printer.print_string(f'dense<"0x{self.data.data.hex().upper()}">')
        return
    _stock_print_without_type(self, printer)


DenseIntOrFPElementsAttr.print_without_type = _print_without_type  # type: ignore[method-assign]
blob_store()  # installed before any module is parsed
