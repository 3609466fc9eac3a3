"""Greedy generation with the KV cache red derives, starting from the longest cached prompt
prefix (issue 14's prefix cache, vLLM's automatic prefix caching).

    gen = red.generation.Generator(module, weights)      # module: red.frontends.generate.greedy
    tokens = gen(prompt)                                  # == the naive @generate's tokens

The module is optimised with `incrementalize{entry-points=true}`, which derives, beside
@generate, `@generate_prefill_block` (B prompt rows on top of the state of the rows before
them) and `@generate_decode` (the steps from a given position). A call looks up the state
of the longest run of full B-token blocks of the prompt in the prefix cache (keyed by the
model fingerprint: the IR and the weights' content), computes the remaining prompt rows
block by block (storing each new full block), then decodes. The tokens are those of
@generate: cached rows are the rows @generate would compute, bit for bit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, TensorType

from red.cache.fingerprint import model_fingerprint
from red.cache.prefix_cache import PrefixCache, join_blocks, split_blocks
from red.dialects.diagnostics import DiagnosticError, location_of
from red.dialects.numpy_interop import numpy_dtype
from red.dialects.red import shape_of
from red.dialects.symbols import is_private
from red.transforms.incrementalize import BLOCK_SIZE_ATTR, STATE_AXES_ATTR


class Generator:
    """Greedy decoding of a greedy() module with a derived KV cache and a prefix cache (the
    process's in-memory LRU by default, Redis with RED_CACHE_URL; `cache=None` for none:
    pass `use_cache=False`)."""

    def __init__(
        self,
        module: ModuleOp,
        weights: Sequence[np.ndarray],
        *,
        function: str = "generate",
        block_size: int = 16,
        engine: str = "jit",
        cache: PrefixCache | None = None,
        use_cache: bool = True,
    ):
        import red

        self.module = module.clone()
        red.run_pipeline(
            self.module,
            f"canonicalize,cse,incrementalize{{entry-points=true block-size={block_size}}}",
        )
        red.optimize(self.module)
        self.function = function
        self.weights = [np.asarray(w) for w in weights]
        prefill = self._function(f"{function}_prefill_block")
        axes = prefill.attributes.get(STATE_AXES_ATTR)
        size = prefill.attributes.get(BLOCK_SIZE_ATTR)
        assert isinstance(axes, ArrayAttr)
        assert isinstance(size, IntegerAttr)
        self.block_size = size.value.data  # at most the tokens the module holds
        self.state_axes = [a.value.data for a in axes.data if isinstance(a, IntegerAttr)]
        self.state_shapes = [shape_of(t) for t in prefill.function_type.outputs.data]
        self.state_dtypes = [
            numpy_dtype(t.element_type)
            for t in prefill.function_type.outputs.data
            if isinstance(t, TensorType)
        ]
        self.entry_weights = [
            self.weights[i] for i in entry_weight_indices(self._function(function), prefill)
        ]
        tokens_type = prefill.function_type.inputs.data[0]
        self.tokens_shape = shape_of(tokens_type)
        self.fingerprint = model_fingerprint(self.module, self.weights)
        self.cache = (cache or PrefixCache(block_size=self.block_size)) if use_cache else None
        if self.cache is not None and self.cache.block_size != self.block_size:
            raise ValueError(
                f"the prefix cache's blocks hold {self.cache.block_size} tokens, the "
                f"generator's {self.block_size}"
            )
        self.engine = engine
        if engine == "jit":
            self.compiled: Any = red.compile(entry_points(self.module, function))
        else:
            self.compiled = red.interpret(self.module)
        self.last_cached_tokens = 0

    def _function(self, name: str) -> func.FuncOp:
        for op in self.module.body.ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == name:
                return op
        raise DiagnosticError(
            location_of(self.module),
            f"no '@{name}': the generation loop of '@{self.function}' was not incrementalized "
            "(red-opt prints the reason as a remark)",
        )

    def _call(self, name: str, *args: Any) -> tuple[np.ndarray, ...]:
        if self.engine == "jit":  # the start position is an `index` scalar, passed by value
            return self.compiled.function(name).call(*args)
        return self.compiled.call(name, *args)

    def __call__(self, prompt: np.ndarray) -> np.ndarray:
        prompt = np.asarray(prompt, dtype=np.int64).reshape(-1)
        n_prompt = len(prompt)
        capacity = int(np.prod(self.tokens_shape))
        if not 1 <= n_prompt < capacity:
            raise ValueError(
                f"a prompt of {n_prompt} tokens: '@{self.function}' holds {capacity} tokens, "
                f"so a prompt has 1 to {capacity - 1}"
            )
        tokens = np.zeros(self.tokens_shape, dtype=np.int64)
        tokens.reshape(-1)[:n_prompt] = prompt
        rows = n_prompt - 1  # the state covers prompt rows [0, P-1): row P-1 starts decoding
        states = [np.zeros(s, dtype=d) for s, d in zip(self.state_shapes, self.state_dtypes)]
        cached = 0
        if self.cache is not None and rows > 0:
            cached, blocks = self.cache.longest_prefix(self.fingerprint, prompt, limit=rows)
            for state, joined, axis in zip(
                states, join_blocks(blocks, self.state_axes), self.state_axes
            ):
                index = [slice(None)] * state.ndim
                index[axis] = slice(0, cached)
                state[tuple(index)] = joined
        self.last_cached_tokens = cached
        start = cached
        while start < rows:
            states = list(
                self._call(
                    f"{self.function}_prefill_block", tokens, *self.entry_weights, *states, start
                )
            )
            start += self.block_size
        if self.cache is not None and rows >= self.block_size:
            full = rows - rows % self.block_size
            first = cached // self.block_size
            per_block = split_blocks(states, full, self.block_size, self.state_axes)[first:]
            if per_block:
                self.cache.store(self.fingerprint, prompt, per_block, first_block=first)
        decode = f"{self.function}_decode"
        (out,) = self._call(decode, tokens, *self.entry_weights, *states, n_prompt)
        return out


def entry_weight_indices(generate: func.FuncOp, prefill: func.FuncOp) -> list[int]:
    """Which weights of @generate (its arguments after the prompt) the entry points take:
    incrementalize passes only those its loop reads, in order; they are matched by name."""
    weights = list(generate.body.block.args[1:])
    states = len(prefill.function_type.outputs)
    taken = list(prefill.body.block.args[1 : len(prefill.body.block.args) - states - 1])
    if len(taken) == len(weights):
        return list(range(len(weights)))
    names = [w.name_hint for w in weights]
    indices: list[int] = []
    for arg in taken:
        start = indices[-1] + 1 if indices else 0
        at = next((i for i in range(start, len(weights)) if names[i] == arg.name_hint), None)
        if arg.name_hint is None or at is None or weights[at].type != arg.type:
            raise DiagnosticError.at(
                prefill,
                f"'@{prefill.sym_name.data}' takes {len(taken)} of the {len(weights)} weights "
                f"of '@{generate.sym_name.data}', which cannot be matched by name",
            )
        indices.append(at)
    return indices


def entry_points(module: ModuleOp, function: str) -> ModuleOp:
    """A copy of `module` with only the public functions the generator calls (the derived
    prefill and decode; their callees stay): the naive loop and the model are not compiled."""
    keep = {f"{function}_prefill_block", f"{function}_decode"}
    pruned = module.clone()
    for op in list(pruned.body.ops):
        if isinstance(op, func.FuncOp) and not is_private(op) and op.sym_name.data not in keep:
            op.detach()
            op.erase(safe_erase=False)
    return pruned
