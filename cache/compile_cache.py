"""The compile cache: object code keyed by a hash of everything that determines it (the IR with
weights by content, the compile options, the target CPU and its features, red's build, LLVM's
version), and `compile_with_cache`, which builds a JIT engine from cached object code without
running LLVM, or compiles, stores and loads the same way on a miss.

The JIT calls it like this (lowering/jit.py):

    target = CompileTarget.host(opt)
    key = key_for(module, {"opt": opt})
    engine = compile_with_cache(lambda: str(llvm_ir_module(module)), target, CompileCache.open(),
                                key=key, optimize=lambda m, tm: optimize(m, tm, opt))
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import llvmlite.binding as llvm
from xdsl.ir import Operation

from red.cache.config import compile_store
from red.cache.fingerprint import ir_hash, toolchain
from red.cache.store import Store

KIND = "object"
_META = struct.Struct("<I")  # length of the JSON metadata that precedes the object code


@functools.cache
def _init_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


@dataclass(frozen=True)
class CompileTarget:
    """A description of a target machine, from which machines are made: llvmlite cannot report
    a TargetMachine's CPU and features (which the key needs), and an execution engine takes
    ownership of the machine it is given, so each engine needs a fresh one."""

    triple: str
    cpu: str
    features: str
    opt: int = 3
    reloc: str = "default"
    codemodel: str = "jitdefault"

    @classmethod
    def host(cls, opt: int = 3) -> CompileTarget:
        """The host CPU with all its features (as red's JIT compiles)."""
        _init_llvm()
        return cls(
            llvm.get_default_triple(),
            llvm.get_host_cpu_name(),
            llvm.get_host_cpu_features().flatten(),
            opt,
        )

    def machine(self) -> llvm.TargetMachine:
        _init_llvm()
        return llvm.Target.from_triple(self.triple).create_target_machine(
            cpu=self.cpu,
            features=self.features,
            opt=self.opt,
            reloc=self.reloc,
            codemodel=self.codemodel,
        )


def _key(source: dict[str, str], options: Mapping[str, Any] | None, target: CompileTarget) -> str:
    description = {
        "schema": f"{KIND}/1",
        **source,
        "options": dict(options or {}),
        "target": asdict(target),
        "toolchain": toolchain(),
    }
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def key_for(
    module: Operation,
    options: Mapping[str, Any] | None = None,
    target: CompileTarget | None = None,
) -> str:
    """The cache key of compiling `module` (at any level, after the pipeline) with `options`
    (JSON-like values) for `target` (default: the host at the options' "opt", else O3)."""
    if target is None:
        target = CompileTarget.host(int((options or {}).get("opt", 3)))
    return _key({"ir": ir_hash(module)}, options, target)


def key_for_llvm_ir(llvm_ir: str, options: Mapping[str, Any] | None, target: CompileTarget) -> str:
    """The cache key of compiling LLVM IR text."""
    return _key({"llvm_ir": hashlib.sha256(llvm_ir.encode()).hexdigest()}, options, target)


@dataclass
class CachedObject:
    object_code: bytes
    metadata: dict[str, Any]


class CompileCache:
    """Object code and its metadata (JSON) in a Store, under kind "object"."""

    def __init__(self, store: Store) -> None:
        self.storage = store

    @classmethod
    def open(cls) -> CompileCache | None:
        """The configured cache (`RED_CACHE_URL`, `RED_CACHE_DIR`; None if `RED_CACHE=off`)."""
        store = compile_store()
        return None if store is None else cls(store)

    def get(self, key: str) -> CachedObject | None:
        payload = self.storage.get(KIND, key)
        if payload is None:
            return None
        try:
            (length,) = _META.unpack_from(payload)
            metadata = json.loads(bytes(payload[_META.size : _META.size + length]))
            if not isinstance(metadata, dict):
                raise ValueError("metadata is not an object")
        except (struct.error, ValueError) as err:
            self.storage.reject(KIND, key, f"unreadable metadata: {err}")
            return None
        return CachedObject(bytes(payload[_META.size + length :]), metadata)

    def put(self, key: str, object_code: bytes, metadata: Mapping[str, Any]) -> bool:
        meta = json.dumps(dict(metadata), sort_keys=True, default=repr).encode()
        return self.storage.put(KIND, key, b"".join((_META.pack(len(meta)), meta, object_code)))


def compile_object(
    llvm_ir: str,
    target: CompileTarget,
    optimize: Callable[[llvm.ModuleRef, llvm.TargetMachine], None] | None = None,
) -> bytes:
    """Parse, verify, optimize (with the caller's pipeline) and emit object code. LLVM's
    RuntimeError for IR it rejects is raised as is."""
    module = llvm.parse_assembly(llvm_ir)
    module.verify()
    tm = target.machine()
    if optimize is not None:
        optimize(module, tm)
    return tm.emit_object(module)


def engine_from_object(object_code: bytes, target: CompileTarget) -> llvm.ExecutionEngine:
    """An MCJIT engine holding only the given object code (no LLVM pass or codegen runs);
    RuntimeError if LLVM cannot read it as an object file."""
    obj = llvm.ObjectFileRef.from_data(object_code)
    if not obj._ptr:  # LLVM could not parse it: never hand a null object to the engine
        raise RuntimeError("not an object file")
    tm = target.machine()
    shell = llvm.parse_assembly("")
    shell.triple = target.triple
    shell.data_layout = str(tm.target_data)
    engine = llvm.create_mcjit_compiler(shell, tm)
    engine.add_object_file(obj)
    engine.finalize_object()
    return engine


def compile_with_cache(
    llvm_ir: str | Callable[[], str],
    target: CompileTarget,
    cache: CompileCache | None,
    *,
    key: str | None = None,
    options: Mapping[str, Any] | None = None,
    optimize: Callable[[llvm.ModuleRef, llvm.TargetMachine], None] | None = None,
) -> llvm.ExecutionEngine:
    """A finalized engine for `llvm_ir`. On a hit the engine is made from the cached object
    code and no LLVM work runs (`llvm_ir` may then be a function that lowers the module, which
    is not called). On a miss the IR is compiled to object code, stored, and loaded the same
    way. `key` defaults to a hash of the IR text, `options` and `target`; pass `key_for(module,
    options)` to skip the lowering on a hit. `optimize` must be the same for equal keys (its
    code is part of red's build, which the key covers)."""
    if key is None:
        if not isinstance(llvm_ir, str):
            raise TypeError("compile_with_cache needs a key when the IR is made on demand")
        key = key_for_llvm_ir(llvm_ir, options, target)
    if cache is not None and (hit := cache.get(key)) is not None:
        try:
            return engine_from_object(hit.object_code, target)
        except RuntimeError as err:
            cache.storage.reject(KIND, key, f"LLVM cannot load the object code: {err}")
    text = llvm_ir if isinstance(llvm_ir, str) else llvm_ir()
    start = time.perf_counter()
    object_code = compile_object(text, target, optimize)
    seconds = time.perf_counter() - start
    if cache is not None:
        metadata = {"compile_seconds": round(seconds, 6), "created": time.time(), **toolchain()}
        cache.put(key, object_code, metadata)
    return engine_from_object(object_code, target)
