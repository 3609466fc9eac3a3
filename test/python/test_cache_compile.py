"""The compile cache: keys cover what determines the object code (weights by content, not by
text or resource handle; options; target; red's build) and nothing else (value names,
locations); compile_with_cache loads a hit without any LLVM work and gives the same code as a
miss; a damaged entry is recompiled and replaced."""

from __future__ import annotations

import ctypes
import os
import warnings

import numpy as np
import pytest
from xdsl.dialects import func

import red
from red.cache import compile_cache, fingerprint
from red.cache.compile_cache import (
    KIND,
    CompileCache,
    CompileTarget,
    compile_with_cache,
    key_for,
    key_for_llvm_ir,
)
from red.cache.directory import DirectoryStore
from red.cache.entry import encode
from red.cache.fingerprint import ir_hash, ir_text
from red.cache.store import CacheWarning, MemoryStore
from red.testing.random_inputs import random_inputs

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")

MLP = """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %b = red.constant dense<[0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 0.25, 3.0]> : tensor<8xf32>
  %y = red.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %z = red.add %y, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %t = red.tanh %z : tensor<4x8xf32>
  func.return %t : tensor<4x8xf32>
}
"""

# The same function: other value names, a location, and the constant spelled differently.
MLP_RESPELLED = """
func.func @main(%input: tensor<4x8xf32>, %weight: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %bias = red.constant dense<[5.0e-01, -1.0, 2.000, 0.0, 1.5, -0.5, 2.5e-01, 3.0]> : tensor<8xf32> loc("model.py":3:7)
  %mm = red.matmul %input, %weight : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %sum = red.add %mm, %bias : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %out = red.tanh %sum : tensor<4x8xf32>
  func.return %out : tensor<4x8xf32>
}
"""

RESOURCE = """
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {{
  %c = red.constant dense_resource<{handle}> : tensor<2xf32>
  %y = red.add %x, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}}
{{-#
  dialect_resources: {{
    builtin: {{
      {handle}: "0x04000000{data}"
    }}
  }}
#-}}
"""
ONE_TWO = "0000803F00000040"  # [1.0, 2.0] little-endian f32
ONE_THREE = "0000803F00004040"  # [1.0, 3.0]


@pytest.fixture(scope="module")
def target() -> CompileTarget:
    return CompileTarget.host(3)


def mlp_ir() -> str:
    return red.to_llvm_ir(red.parse(MLP))


def call(engine, shape, *arrays: np.ndarray) -> np.ndarray:
    """red_main(args..., out) through the engine (DESIGN.md §4's ABI)."""
    address = engine.get_function_address("red_main")
    assert address, "red_main is not in the engine"
    fn = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * (len(arrays) + 1)))(address)
    out = np.empty(shape, np.float32)
    fn(*[a.ctypes.data for a in arrays], out.ctypes.data)
    return out


def mlp_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((4, 8)).astype(np.float32),
        rng.standard_normal((8, 8)).astype(np.float32),
    )


def mlp_expected(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    b = np.array([0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 0.25, 3.0], np.float32)
    return np.tanh(x @ w + b)


# region Keys
def test_key_ignores_names_locations_and_spelling(target):
    a, b = red.parse(MLP), red.parse(MLP_RESPELLED)

    assert key_for(a, {"opt": 3}, target) == key_for(b, {"opt": 3}, target)
    assert key_for(a, {"opt": 3}, target) == key_for(red.parse(MLP), {"opt": 3}, target)


def test_key_changes_with_one_weight_element(target):
    changed = red.parse(MLP.replace("3.0]", "3.5]"))

    assert key_for(changed, {}, target) != key_for(red.parse(MLP), {}, target)


def test_weights_are_hashed_not_printed():
    text = ir_text(red.parse(MLP))

    assert "dense<sha256:" in text
    assert "5.000000e-01" not in text


def test_dense_resource_is_keyed_by_its_bytes_not_its_handle(target):
    first = red.parse(RESOURCE.format(handle="cache_blob_a", data=ONE_TWO))
    same_bytes = red.parse(RESOURCE.format(handle="cache_blob_b", data=ONE_TWO))
    other_bytes = red.parse(RESOURCE.format(handle="cache_blob_c", data=ONE_THREE))

    assert ir_hash(first) == ir_hash(same_bytes)
    assert ir_hash(first) != ir_hash(other_bytes)
    assert key_for(first, {}, target) != key_for(other_bytes, {}, target)


def large_weights_module(change: bool = False) -> red.ModuleOp:
    """Two weights of 1 MiB as dense resources; `change`: one element of one differs."""
    rng = np.random.default_rng(0)
    w, v = (rng.standard_normal((512, 512)).astype(np.float32) for _ in range(2))
    if change:
        v[511, 511] += 1
    text = (
        "func.func @main(%x: tensor<4x512xf32>, %w: tensor<512x512xf32>, "
        "%v: tensor<512x512xf32>) -> tensor<4x512xf32> {\n"
        "  %y = red.matmul %x, %w : tensor<4x512xf32>, tensor<512x512xf32> -> tensor<4x512xf32>\n"
        "  %z = red.matmul %y, %v : tensor<4x512xf32>, tensor<512x512xf32> -> tensor<4x512xf32>\n"
        "  func.return %z : tensor<4x512xf32>\n}\n"
    )
    return red.bind_arguments(red.parse(text), "main", {1: w, 2: v})


def test_large_weights_hashed_in_parallel_give_the_serial_key(monkeypatch):
    monkeypatch.setattr("red.cache.fingerprint._hash_workers", lambda: 2)
    module = large_weights_module()
    assert len(fingerprint._large_constant_digests(module)) == 2
    parallel = ir_hash(module)
    changed = ir_hash(large_weights_module(change=True))
    monkeypatch.setattr("red.cache.fingerprint.PARALLEL_HASH_BYTES", 1 << 62)
    assert fingerprint._large_constant_digests(module) == {}
    serial = ir_hash(large_weights_module())

    assert parallel == serial
    assert changed != parallel


@pytest.mark.parametrize(
    ("options", "change"),
    [
        pytest.param({"opt": 2}, {}, id="opt-level"),
        pytest.param({"opt": 3, "threads": 4}, {}, id="extra-option"),
        pytest.param({"opt": 3}, {"cpu": "generic"}, id="cpu"),
        pytest.param({"opt": 3}, {"features": "-avx2"}, id="features"),
        pytest.param({"opt": 3}, {"opt": 1}, id="codegen-opt"),
        pytest.param({"opt": 3}, {"codemodel": "large"}, id="code-model"),
    ],
)
def test_key_covers_options_and_target(target, options, change):
    module = red.parse(MLP)
    changed_target = CompileTarget(**{**target.__dict__, **change})

    assert key_for(module, options, changed_target) != key_for(module, {"opt": 3}, target)


def test_key_covers_the_build_of_red_and_llvm(target, monkeypatch):
    module = red.parse(MLP)
    before = key_for(module, {}, target)
    build = dict(compile_cache.toolchain())

    monkeypatch.setattr(compile_cache, "toolchain", lambda: {**build, "red": "0.1.0+edited"})
    after_edit = key_for(module, {}, target)
    monkeypatch.setattr(compile_cache, "toolchain", lambda: {**build, "llvm": "21.0.0"})
    other_llvm = key_for(module, {}, target)

    assert len({before, after_edit, other_llvm}) == 3


def test_key_of_llvm_ir_text(target):
    text = mlp_ir()

    assert key_for_llvm_ir(text, {}, target) == key_for_llvm_ir(text, {}, target)
    assert key_for_llvm_ir(text, {}, target) != key_for_llvm_ir(text + "\n", {}, target)


# endregion Keys


# region compile_with_cache
class Recorder:
    """Stands for the lowering and the optimizer: counts how often LLVM work is asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = 0
        self.optimized = 0

    def lower(self) -> str:
        self.lowered += 1
        return self.text

    def optimize(self, module, tm) -> None:
        self.optimized += 1


def test_hit_runs_no_llvm_work_and_gives_the_same_code(target, tmp_path):
    cache = CompileCache(DirectoryStore(str(tmp_path), 1 << 30))
    work = Recorder(mlp_ir())
    key = key_for(red.parse(MLP), {"opt": 3}, target)
    x, w = mlp_inputs()

    cold = compile_with_cache(work.lower, target, cache, key=key, optimize=work.optimize)
    after_cold = (work.lowered, work.optimized)
    warm = compile_with_cache(work.lower, target, cache, key=key, optimize=work.optimize)

    assert after_cold == (1, 1)
    assert (work.lowered, work.optimized) == (1, 1)  # the hit called neither
    cold_out, warm_out = call(cold, (4, 8), x, w), call(warm, (4, 8), x, w)
    np.testing.assert_array_equal(warm_out, cold_out)
    np.testing.assert_allclose(cold_out, mlp_expected(x, w), rtol=1e-5, atol=1e-6)
    counters = cache.storage.stats().counters
    assert (counters["hits"], counters["misses"], counters["writes"]) == (1, 1, 1)


def test_metadata_is_stored_with_the_object(target):
    cache = CompileCache(MemoryStore(1 << 20))
    text = mlp_ir()

    compile_with_cache(text, target, cache)

    hit = cache.get(key_for_llvm_ir(text, None, target))
    assert hit is not None
    assert hit.object_code.startswith(b"\x7fELF") or not target.triple.endswith("linux-gnu")
    assert hit.metadata["llvm"] == compile_cache.toolchain()["llvm"]
    assert hit.metadata["compile_seconds"] > 0


def test_lazy_ir_needs_a_key(target):
    with pytest.raises(TypeError, match="needs a key"):
        compile_with_cache(mlp_ir, target, None)


def test_no_cache_compiles_every_time(target):
    work = Recorder(mlp_ir())
    x, w = mlp_inputs()

    engines = [compile_with_cache(work.lower, target, None, key="k" * 64) for _ in range(2)]

    assert work.lowered == 2
    np.testing.assert_allclose(
        call(engines[1], (4, 8), x, w), mlp_expected(x, w), rtol=1e-5, atol=1e-6
    )


def test_llvm_rejects_bad_ir_and_nothing_is_stored(target):
    cache = CompileCache(MemoryStore(1 << 20))

    with pytest.raises(RuntimeError):
        compile_with_cache("define void @f( {", target, cache)

    assert cache.storage.stats().entries == 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(
            b"\x02\x00\x00\x00{}" + b"not an object file" * 8,
            "cannot load the object code",
            id="garbage-object",
        ),
        pytest.param(
            b"\x05\x00\x00\x00{oops" + b"\x7fELF", "unreadable metadata", id="bad-metadata"
        ),
        pytest.param(b"\x01", "unreadable metadata", id="short-payload"),
    ],
)
def test_damaged_object_is_recompiled_and_replaced(target, tmp_path, payload, reason):
    store = DirectoryStore(str(tmp_path), 1 << 30)
    cache = CompileCache(store)
    work = Recorder(mlp_ir())
    key = "c" * 64
    # A well-framed entry (right key, right checksum) whose contents are wrong.
    os.makedirs(os.path.dirname(store.path(KIND, key)))
    with open(store.path(KIND, key), "wb") as f:
        f.write(encode(KIND, key, payload))
    x, w = mlp_inputs()

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        engine = compile_with_cache(work.lower, target, cache, key=key)

    messages = [str(m.message) for m in seen if issubclass(m.category, CacheWarning)]
    assert len(messages) == 1
    assert reason in messages[0]
    assert work.lowered == 1
    np.testing.assert_allclose(call(engine, (4, 8), x, w), mlp_expected(x, w), rtol=1e-5, atol=1e-6)
    replaced = cache.get(key)
    assert replaced is not None
    assert replaced.object_code.startswith(b"\x7fELF")


def test_open_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RED_CACHE_URL", raising=False)
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RED_CACHE", raising=False)
    opened = CompileCache.open()
    monkeypatch.setenv("RED_CACHE", "off")

    off = CompileCache.open()

    assert opened is not None
    assert opened.storage.location == str(tmp_path)
    assert off is None


MEMO = """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %wt = red.memo(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %t : tensor<8x8xf32>
  }
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
"""


def test_memo_globals_work_in_cached_object_code(target):
    module = red.parse(MEMO)
    cache = CompileCache(MemoryStore(1 << 20))
    key = key_for(module, {"opt": 3}, target)
    compile_with_cache(red.to_llvm_ir(module), target, cache, key=key)
    warm = compile_with_cache(lambda: "unused", target, cache, key=key)
    reset = ctypes.CFUNCTYPE(None)(warm.get_function_address("red_memo_reset"))
    x, w = mlp_inputs()

    first = call(warm, (4, 8), x, w)
    w *= 2  # same buffer, new contents: the memo holds the old transpose until a reset
    stale = call(warm, (4, 8), x, w)
    reset()
    fresh = call(warm, (4, 8), x, w)

    np.testing.assert_allclose(first, x @ (w / 2).T, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(stale, first)
    np.testing.assert_allclose(fresh, x @ w.T, rtol=1e-5, atol=1e-5)


def test_gpt_decoder_warm_engine_matches_cold_and_the_interpreter(target, tmp_path):
    module = red.parse_file(os.path.join(EXAMPLES, "gpt_decoder.mlir"))
    red.optimize(module)
    cache = CompileCache(DirectoryStore(str(tmp_path), 1 << 30))
    work = Recorder(red.to_llvm_ir(module))
    key = key_for(module, {"opt": 3}, target)
    fn = next(
        op for op in module.body.ops if isinstance(op, func.FuncOp) and op.sym_name.data == "main"
    )
    args = random_inputs(fn, seed=3)

    cold = compile_with_cache(work.lower, target, cache, key=key, optimize=work.optimize)
    warm = compile_with_cache(work.lower, target, cache, key=key, optimize=work.optimize)

    assert (work.lowered, work.optimized) == (1, 1)
    (expected,) = red.interpret(module).call("main", *args)
    cold_out, warm_out = call(cold, (1, 512), *args), call(warm, (1, 512), *args)
    np.testing.assert_array_equal(warm_out, cold_out)
    np.testing.assert_allclose(cold_out, expected, rtol=1e-4, atol=1e-4)


# endregion compile_with_cache


# region red.compile through the cache


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    """red.compile's cache in a fresh directory."""
    monkeypatch.delenv("RED_CACHE_URL", raising=False)
    monkeypatch.delenv("RED_CACHE", raising=False)
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    return tmp_path


LARGE_CONSTANT = """
func.func @main(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %w = red.constant dense<0.5> : tensor<64x64xf32>
  %r = red.iota dim = 1 : tensor<64x64xf32>
  %b = red.add %w, %r : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %y = red.matmul %x, %b : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
"""


def test_red_compile_reuses_its_object_code(cache_dir):
    """The second red.compile of the same module loads the first one's object code (no LLVM
    work) and computes the same; a memo in it still follows red_memo_reset."""
    module = red.parse(MEMO)
    x, w = mlp_inputs()

    cold = red.compile(module)
    warm = red.compile(red.parse(MEMO))  # another parse: keyed by content, not identity

    assert (cold.cache_hit, warm.cache_hit) == (False, True)
    np.testing.assert_array_equal(warm.main(x, w), cold.main(x, w))
    first = warm.main(x, w)
    w *= 2
    warm.memo_reset()
    np.testing.assert_allclose(warm.main(x, w), 2 * first, rtol=1e-5)
    assert "define" in warm.llvm_ir  # lowered again on request


def test_red_compile_binds_large_constants_on_a_hit(cache_dir):
    module = red.parse(LARGE_CONSTANT)
    red.run_pipeline(module, "canonicalize")  # folds the 16 KiB weight into one constant
    x = np.linspace(-1, 1, 256, dtype=np.float32).reshape(4, 64)
    expected = red.interpret(module).call("main", x)[0]

    cold = red.compile(module)
    warm = red.compile(module)

    assert cold.bound_constants
    assert warm.cache_hit
    np.testing.assert_allclose(warm.main(x), expected, rtol=1e-5)
    np.testing.assert_array_equal(warm.main(x), cold.main(x))


SPLAT_WEIGHT = """
func.func @main(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %w = red.constant dense<0.5> : tensor<64x64xf32>
  %y = red.matmul %x, %w : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
"""

BOUND_WEIGHT = """
func.func @main(%x: tensor<4x64xf32>, %w: tensor<64x64xf32>) -> tensor<4x64xf32> {
  %y = red.matmul %x, %w : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  func.return %y : tensor<4x64xf32>
}
"""


def constant_module(kind: str) -> red.ModuleOp:
    """A module with a large constant: folded (dense), a splat, or a dense resource."""
    if kind == "folded":
        module = red.parse(LARGE_CONSTANT)
        red.run_pipeline(module, "canonicalize")
        return module
    if kind == "splat":
        return red.parse(SPLAT_WEIGHT)
    module = red.parse(BOUND_WEIGHT)
    w = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 4096
    return red.bind_arguments(module, "main", {1: w})


@pytest.mark.parametrize("kind", ["folded", "splat", "resource"])
def test_a_hit_binds_large_constants_without_lowering(cache_dir, monkeypatch, kind):
    """The entry records which constant of the module each bound global's bytes are (or
    repeat, for a splat): a hit takes them from the module, never lowering it again."""
    module = constant_module(kind)
    x = np.linspace(-1, 1, 256, dtype=np.float32).reshape(4, 64)
    expected = red.interpret(module).call("main", x)[0]
    cold = red.compile(module)

    def no_lowering(*args, **kwargs):
        raise AssertionError("a hit lowered the module")

    monkeypatch.setattr("red.lowering.jit.llvm_ir_module", no_lowering)
    warm = red.compile(constant_module(kind))

    assert cold.bound_constants
    assert warm.cache_hit
    assert sorted(warm.bound_constants) == sorted(cold.bound_constants)
    for name, data in cold.bound_constants.items():
        np.testing.assert_array_equal(warm.bound_constants[name], data)
    np.testing.assert_allclose(warm.main(x), expected, rtol=1e-5)


def test_a_hit_without_constant_sources_lowers_again(cache_dir, monkeypatch):
    """An entry that cannot say where its constants are (derived by the lowering) still
    loads: the module is lowered again to find their bytes."""
    module = constant_module("folded")
    x = np.linspace(-1, 1, 256, dtype=np.float32).reshape(4, 64)
    monkeypatch.setattr("red.lowering.jit.bound_constant_sources", lambda module, bound: None)
    cold = red.compile(module)
    lowered = []
    original = red.lowering.jit.llvm_ir_module

    def counting(*args, **kwargs):
        lowered.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr("red.lowering.jit.llvm_ir_module", counting)
    warm = red.compile(module)

    assert warm.cache_hit
    assert lowered == [1]
    np.testing.assert_array_equal(warm.main(x), cold.main(x))


def test_other_options_and_cache_off_compile_again(cache_dir, monkeypatch):
    module = red.parse(MEMO)
    red.compile(module, threads=1)

    assert not red.compile(module, threads=2).cache_hit
    assert red.compile(module, threads=1).cache_hit
    monkeypatch.setenv("RED_CACHE", "off")
    assert not red.compile(module, threads=1).cache_hit


def test_a_damaged_entry_is_compiled_again(cache_dir):
    module = red.parse(MEMO)
    red.compile(module)
    for path in cache_dir.rglob("*"):
        if path.is_file() and path.stat().st_size > 200:
            path.write_bytes(path.read_bytes()[:100])  # truncated
    x, w = mlp_inputs()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        again = red.compile(module)

    assert not again.cache_hit
    np.testing.assert_allclose(again.main(x, w), x @ w.T, rtol=1e-5, atol=1e-5)


# endregion
