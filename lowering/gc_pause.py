"""A context without cyclic garbage collection, for the lowering passes: they build many
objects that all live until they finish, and every full collection walks them all, which
makes a linear pass super-linear (measured: convert-scf-to-cf on the 98k-op loop level of
bench/compile_time.py's GPT-style module took 15.4 s with collections, 8.0 s without)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (nesting is fine; the state is restored)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
