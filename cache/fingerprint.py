"""Content hashes that cache keys are made of: the IR with every weight hashed by its bytes (not
by its text, and not by a resource handle's name), the weights passed as arrays, and the build of
red and LLVM that turns IR into code."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DenseResourceAttr
from xdsl.ir import Attribute, Operation, SSAValue, TypeAttribute
from xdsl.printer import Printer

from red.dialects.numpy_interop import resource_blob

SOURCE_PACKAGES = (
    "red",
    "red.dialects",
    "red.transforms",
    "red.lowering",
    "red.passes",
    "red.frontends",
    "red.cache",
)
"""The packages whose source decides what code a module compiles to (editing any of them in a
checkout must not serve code compiled before the edit)."""


class _ContentPrinter(Printer):
    """The generic form with dense constants and dense resources printed as the SHA-256 of their
    bytes, and values numbered in order (name hints do not change the code). Each distinct type
    is rendered once (types repeat on every op: rendering them dominated the time)."""

    def __init__(
        self,
        stream: io.StringIO,
        rendered: dict[Attribute, str],
        digests: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__(stream=stream, print_generic_format=True)
        self._rendered = rendered
        self._digests = digests or {}

    def print_attribute(self, attribute: Attribute) -> None:
        if not isinstance(attribute, TypeAttribute):  # only types: equal means same text
            self._render(attribute, self)
            return
        text = self._rendered.get(attribute)
        if text is None:
            buffer = io.StringIO()
            self._render(attribute, _ContentPrinter(buffer, self._rendered, self._digests))
            text = self._rendered[attribute] = buffer.getvalue()
        self.print_string(text)

    @staticmethod
    def _render(attribute: Attribute, printer: _ContentPrinter) -> None:
        if isinstance(attribute, DenseIntOrFPElementsAttr | DenseResourceAttr):
            digest = printer._digests.get(id(attribute)) or _digest(attribute)
            kind = "dense" if isinstance(attribute, DenseIntOrFPElementsAttr) else "dense_resource"
            printer.print_string(f"{kind}<sha256:{digest}> : ")
            printer.print_attribute(attribute.get_type())
        else:
            Printer.print_attribute(printer, attribute)

    def print_ssa_value(self, value: SSAValue) -> str:
        name = self._ssa_values.get(value)
        if name is None:
            name = self._ssa_values[value] = self._get_new_valid_name_id()
        self.print_string(f"%{name}")
        return name


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _resource_digest(attr: DenseResourceAttr) -> str:
    """SHA-256 of the blob's data (no hex text is built: the store holds bytes)."""
    blob = resource_blob(attr)
    if blob is None:  # the verifier rejects this; hash the handle so a key can still be made
        return "missing:" + _sha256(attr.resource_handle.data.encode())
    return _sha256(blob.data)


def _digest(attr: DenseIntOrFPElementsAttr | DenseResourceAttr) -> str:
    if isinstance(attr, DenseIntOrFPElementsAttr):
        return _sha256(attr.data.data)
    return _resource_digest(attr)


PARALLEL_HASH_BYTES = 1 << 20
"""Constants of at least this many bytes are hashed on a thread pool before the IR is printed
(hashlib releases the GIL: a model with its weights as constants is hashed on every core)."""


def _large_constant_digests(op: Operation) -> dict[int, str]:
    """The digests of the large dense constants and resources of `op`'s operations (their
    properties and attributes), by the attribute's id, computed in parallel."""
    large: dict[int, DenseIntOrFPElementsAttr | DenseResourceAttr] = {}
    for nested in op.walk():
        for attr in chain(nested.properties.values(), nested.attributes.values()):
            if isinstance(attr, DenseIntOrFPElementsAttr):
                size = len(attr.data.data)
            elif isinstance(attr, DenseResourceAttr):
                blob = resource_blob(attr)
                size = blob.nbytes if blob is not None else 0
            else:
                continue
            if size >= PARALLEL_HASH_BYTES:
                large[id(attr)] = attr
    workers = min(len(large), _hash_workers())
    if workers < 2:
        return {}
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(large, pool.map(_digest, large.values())))


def _hash_workers() -> int:
    """The CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ir_text(op: Operation) -> str:
    """The canonical text of `op` that `ir_hash` digests."""
    stream = io.StringIO()
    _ContentPrinter(stream, {}, _large_constant_digests(op)).print_op(op)
    return stream.getvalue()


def ir_hash(op: Operation) -> str:
    """SHA-256 of the IR, weights by content: equal for modules that compile to the same code
    whatever their value names, locations or resource handle names."""
    return _sha256(ir_text(op).encode())


def weights_hash(weights: Iterable[Any] | Mapping[str, Any]) -> str:
    """SHA-256 of arrays by dtype, shape and bytes (in order; a mapping in key order, names
    included)."""
    h = hashlib.sha256()
    items = sorted(weights.items()) if isinstance(weights, Mapping) else enumerate(weights)
    for name, value in items:
        array = np.ascontiguousarray(value)
        h.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        h.update(array.data.cast("B"))
    return h.hexdigest()


def model_fingerprint(module: Operation, weights: Iterable[Any] | Mapping[str, Any] = ()) -> str:
    """The model's identity for the prefix cache: its IR hash and its weights' content hash (a
    cache never serves state computed with other weights or another graph)."""
    return _sha256(f"model:{ir_hash(module)}:{weights_hash(weights)}".encode())


BUILD_VARIABLE = "RED_CACHE_BUILD"


@functools.cache
def red_build() -> str:
    """red's version and a hash of its source files (an edit in a checkout is a new build), or
    `$RED_CACHE_BUILD` when set: it pins the build in keys across source edits (for benchmarks
    in a checkout others edit; code compiled before an edit is then served after it)."""
    if pinned := os.environ.get(BUILD_VARIABLE):
        return pinned
    h = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(package)
        for root in (spec.submodule_search_locations or []) if spec else []:
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(f for f in files if f.endswith(".py")):
                    path = os.path.join(folder, name)
                    h.update(f"{package}/{os.path.relpath(path, root)}\0".encode())
                    with open(path, "rb") as f:
                        h.update(f.read())
    try:
        version = importlib.metadata.version("red")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{h.hexdigest()[:16]}"


@functools.cache
def toolchain() -> dict[str, str]:
    """What besides the IR and the target decides the object code."""
    import llvmlite
    import llvmlite.binding as llvm

    return {
        "red": red_build(),
        "llvmlite": llvmlite.__version__,
        "llvm": ".".join(map(str, llvm.llvm_version_info)),
    }
