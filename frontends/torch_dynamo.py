"""`torch.compile(model, backend="red")`: a dynamo backend that runs the forward and the
backward graphs of a model through red.

    torch._dynamo.config.allow_rnn = True   # else dynamo runs nn.LSTM/GRU/RNN eagerly
    model = torch.compile(model, backend="red", dynamic=False)
    loss = loss_fn(model(x), y); loss.backward(); optimizer.step()   # unchanged

Dynamo hands red each FX graph it captured (graph breaks are dynamo's business). Through
AOTAutograd, decomposed to core ATen, each becomes a forward and a backward graph (or one
inference graph when nothing needs a gradient); each graph is imported to red
(`torch_importer.import_graph`), optimised (`red.optimize`), JIT-compiled (`red.compile`)
and run on the tensors' memory through numpy.

- Parameters: AOTAutograd's static inputs (`fw_metadata.static_input_indices`, else the
  inputs that are `nn.Parameter`s) are `red.invariant` arguments; in the backward graph,
  the saved parameters (`primals_k`) are. red's memos of weight-only work are keyed on buffer
  addresses, and an optimizer updates parameters in place at the same address, so memo
  results are stale after a step. What is done (`memo="auto"`, the default): the graphs of
  a training step reset every memo before each call (always correct; a memo then costs what
  the plain computation costs); an inference graph resets them when an invariant input's
  version counter or address changed since the previous call, which every in-place update
  made through the tensor bumps (optimizer steps, `load_state_dict`, `p.add_(...)` under
  no_grad). A write that bypasses the version counter (through `p.data`, or a numpy view of
  the tensor) is not seen: use `memo="reset"` to reset before every call.
- Shapes: red's JIT needs static shapes. Use `dynamic=False`: dynamo then guards on the
  shapes and recompiles on new ones, and each recompile brings red a static graph. A graph
  with symbolic sizes runs eagerly (one warning).
- LSTMs: AOTAutograd decomposes aten.lstm into its cell ops (unrolled over time; oneDNN's
  fused layer is switched off while tracing so that it does); an aten.lstm left in a graph
  imports unrolled while `unroll_recurrences` (default) is set, as an scf.for otherwise,
  which the JIT does not lower yet.
- Fallback: a graph red cannot import (an op red has no translation for, an in-place op
  left unfunctionalised, dropout that draws random numbers), or that fails to optimise or
  lower, runs eagerly (the decomposed ATen graph); one `RedFallbackWarning` per reason names
  the op. Nothing red does raises in the user's loop; `backend.graphs` records every graph
  and the engine that runs it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch._decomp import core_aten_decompositions
from torch._dynamo.backends.common import aot_autograd
from torch._functorch._aot_autograd.utils import make_boxed_func
from torch._functorch.partitioners import min_cut_rematerialization_partition
from torch._subclasses.fake_tensor import unset_fake_temporarily

from red.dialects.diagnostics import DiagnosticError
from red.dialects.numpy_interop import numpy_dtype
from red.frontends.torch_importer import GraphImport, import_graph

BACKEND_NAME = "red"

MEMO_POLICIES = ("auto", "reset")


class RedFallbackWarning(UserWarning):
    """A graph runs eagerly instead of through red (the message says why)."""


@dataclass
class GraphRecord:
    """One graph the backend was given: its kind (`forward`, `backward` or `inference`),
    its ATen op count, who runs it (`red` or `eager`) and why not red, the seconds spent
    importing, optimising and compiling it, the red module it became (optimised), and red's
    redundancy report of it (when the backend was made with `report=True`)."""

    kind: str
    aten_ops: int
    engine: str = "red"
    reason: str = ""
    seconds: float = 0.0
    report: dict[str, Any] | None = None
    module: Any = None


def _aten_op_count(gm: torch.fx.GraphModule) -> int:
    return sum(1 for n in gm.graph.nodes if n.op == "call_function")


def _eager(gm: torch.fx.GraphModule) -> Callable[[list[Any]], Any]:
    return make_boxed_func(gm.forward)


class _CompiledGraph:
    """A graph compiled by red, called with AOTAutograd's boxed convention (a list of
    tensors in, a list out). The compiled function reads the input tensors' memory and
    writes into output tensors made here, through the C ABI (§4: one pointer per argument,
    then one per result)."""

    def __init__(
        self,
        backend: RedBackend,
        record: GraphRecord,
        gm: torch.fx.GraphModule,
        imported: GraphImport,
        compiled: Any,
        invariant: Sequence[int],
        reset_every_call: bool,
    ):
        self.backend = backend
        self.record = record
        self.gm = gm
        self.imported = imported
        self.compiled = compiled
        self.function = compiled.function(imported.name)
        self.invariant = list(invariant)
        self.reset_every_call = reset_every_call
        self._versions: list[tuple[int, int]] | None = None
        self._eager: Callable[[list[Any]], Any] | None = None
        self._kept: list[Any] = []
        self._unchecked = backend.verify
        self._cfunc = getattr(self.function, "_cfunc", None)
        self._in_shapes = [tuple(t.get_shape()) for t in self.function.inputs]
        # empty_like of a template allocates in half the time of torch.empty(shape, dtype)
        self._templates = [
            torch.empty(tuple(t.get_shape()), dtype=_torch_dtype(t.get_element_type()))
            for t in self.function.outputs
        ]
        # on the instance: AOTAutograd wraps the backward's callable with functools.wraps,
        # which copies the instance's __dict__, not class attributes
        self._boxed_call = True

    def _reset_memos(self, args: list[Any]) -> None:
        """Forget memo results whenever an invariant input may have changed (module
        docstring). The tensors a memo was keyed on stay referenced until the next call, so
        that their addresses cannot be reused behind its back."""
        self._kept = [args[i] for i in self.invariant]
        if self.reset_every_call:
            self.compiled.memo_reset()
            return
        versions = [(args[i].data_ptr(), args[i]._version) for i in self.invariant]
        if versions != self._versions:
            self.compiled.memo_reset()
            self._versions = versions

    def _run(self, args: list[Any]) -> list[Any]:
        """The function's results as tensors."""
        if self._cfunc is None:  # no raw entry: through numpy
            arrays = [args[i].detach().numpy() for i in self.imported.arguments]
            return [torch.from_numpy(r) for r in self.function.call(*arrays)]
        inputs = []
        for i, shape in zip(self.imported.arguments, self._in_shapes, strict=True):
            t = args[i]
            if t.shape != shape:
                raise ValueError(f"input {i} has shape {tuple(t.shape)}, red compiled {shape}")
            inputs.append(t if t.is_contiguous() else t.contiguous())
        outputs = [torch.empty_like(t) for t in self._templates]
        self._cfunc(*[t.data_ptr() for t in inputs], *[o.data_ptr() for o in outputs])
        return outputs

    def __call__(self, args: list[Any]) -> list[Any]:
        if self._eager is not None:
            return self._eager(args)
        try:
            self._reset_memos(args)
            outputs = self._outputs(args, self._run(args))
        except Exception as err:  # never in the user's loop: this graph runs eagerly from now
            return self._fall_back(args, f"red failed at run time: {err}")
        if self._unchecked:
            self._unchecked = False
            expected = self.gm.forward(*args)
            if (mismatch := _mismatch(outputs, expected, self.gm)) is not None:
                self._fall_back(args, mismatch)
                return list(expected)
        return outputs

    def _fall_back(self, args: list[Any], reason: str) -> list[Any]:
        self.backend.fall_back(self.record, reason)
        self._eager = _eager(self.gm)
        return self._eager(args)

    def _outputs(self, args: list[Any], results: list[Any]) -> list[Any]:
        """The graph's outputs: red's results, inputs passed through, aliases, constants."""
        outputs: list[Any] = []
        add = outputs.append
        for kind, value in self.imported.outputs:
            if kind == "result":
                add(results[value])
            elif kind == "input":
                add(args[value])
            elif kind == "alias":
                add(torch.ops.aten.alias.default(outputs[value]))
            elif kind == "constant":
                add(value.clone() if isinstance(value, torch.Tensor) else value)
            else:
                add(None)
        return outputs


VERIFY_RTOL = 1e-3
"""The first call's check: |red - eager| <= VERIFY_RTOL * max|eager| + VERIFY_ATOL per output
(a scale-relative bound: a sum of many terms may cancel to near 0 in one element)."""
VERIFY_ATOL = 1e-5


def _mismatch(got: Sequence[Any], expected: Sequence[Any], gm: torch.fx.GraphModule) -> str | None:
    """Why red's outputs differ from the eager graph's, or None when they agree."""
    output = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    names = [getattr(o, "name", str(o)) for o in output]
    for k, (a, b) in enumerate(zip(got, expected, strict=True)):
        if not isinstance(b, torch.Tensor):
            continue
        if not isinstance(a, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            return f"output {k} ('{names[k]}') has the wrong type"
        if b.is_floating_point():
            same = (a == b) | (a.isnan() & b.isnan())  # infinities and NaNs must match exactly
            if bool(same.all()):
                continue
            err = float((a - b).abs()[~same].max())
            finite = b[b.isfinite()]
            bound = VERIFY_RTOL * (float(finite.abs().max()) if finite.numel() else 0.0)
            bound += VERIFY_ATOL
            if not err <= bound:  # NaN fails too
                return (
                    f"output {k} ('{names[k]}') differs from eager by {err:.3g}"
                    f" (allowed {bound:.3g})"
                )
        elif not torch.equal(a, b):
            return f"output {k} ('{names[k]}') differs from eager"
    return None


def _torch_dtype(element_type: Any) -> Any:
    return torch.from_numpy(np.empty(0, dtype=numpy_dtype(element_type))).dtype


class RedBackend:
    """The dynamo backend (module docstring). Options: `optimize` (run red-pipeline;
    `strict_fp` keeps only exact rewrites), `unroll_recurrences` (an aten.lstm left in a
    graph imports unrolled), `memo` ("auto" or "reset", the memo policy), `report` (keep
    red's redundancy report of each graph in `graphs`), `verify` (the first call of each
    graph also runs it eagerly and compares every output, saved tensors included; a
    mismatch makes the graph run eagerly from then on, with a warning), `min_cut`
    (AOTAutograd's min-cut partitioner, as inductor uses: the backward recomputes cheap
    elementwise ops instead of the forward saving their results; fewer tensors cross from
    forward to backward, and red optimises the recomputation with the rest)."""

    def __init__(
        self,
        *,
        optimize: bool = True,
        strict_fp: bool = False,
        unroll_recurrences: bool = True,
        memo: str = "auto",
        report: bool = False,
        verify: bool = True,
        min_cut: bool = True,
    ):
        if memo not in MEMO_POLICIES:
            raise ValueError(f"memo policy '{memo}' is not one of {', '.join(MEMO_POLICIES)}")
        self.optimize = optimize
        self.strict_fp = strict_fp
        self.unroll_recurrences = unroll_recurrences
        self.memo = memo
        self.report = report
        self.verify = verify
        self.min_cut = min_cut
        self.graphs: list[GraphRecord] = []
        self._warned: set[str] = set()
        self.__name__ = BACKEND_NAME

    def __call__(
        self, gm: torch.fx.GraphModule, example_inputs: Sequence[Any], **_: Any
    ) -> Callable[..., Any]:
        """Dynamo's entry: AOTAutograd with red compiling its graphs; dynamo's graph runs
        eagerly when AOTAutograd cannot trace it or its sizes are symbolic."""
        if any(_symbolic(x) for x in example_inputs):
            record = GraphRecord("dynamo", _aten_op_count(gm))
            self.graphs.append(record)
            self.fall_back(
                record,
                "the graph has symbolic sizes; red compiles static shapes:"
                " torch.compile(..., dynamic=False)",
            )
            return gm.forward
        params = [i for i, x in enumerate(example_inputs) if isinstance(x, torch.nn.Parameter)]
        shared: dict[str, list[int]] = {"params": params}

        def compiler(kind: str) -> Callable[..., Any]:
            def compile_graph(graph: torch.fx.GraphModule, inputs: Sequence[Any]) -> Any:
                return self.compile_graph(kind, graph, inputs, shared)

            return compile_graph

        aot = aot_autograd(
            fw_compiler=compiler("forward"),
            bw_compiler=compiler("backward"),
            inference_compiler=compiler("inference"),
            decompositions=core_aten_decompositions(),
            **({"partition_fn": min_cut_rematerialization_partition} if self.min_cut else {}),
        )
        try:
            with _decomposable():
                return aot(gm, example_inputs)
        except Exception as err:  # AOTAutograd could not trace it: dynamo's graph, eagerly
            record = GraphRecord("dynamo", _aten_op_count(gm))
            self.graphs.append(record)
            self.fall_back(record, f"AOTAutograd failed: {type(err).__name__}: {err}")
            return gm.forward

    def compile_graph(
        self,
        kind: str,
        gm: torch.fx.GraphModule,
        example_inputs: Sequence[Any],
        shared: dict[str, list[int]],
    ) -> Any:
        """red's compiled graph, or the graph itself run eagerly (with one warning) when
        red cannot import, optimise or lower it."""
        record = GraphRecord(kind, _aten_op_count(gm))
        self.graphs.append(record)
        start = time.perf_counter()
        invariant = self._invariant(kind, gm, shared)
        stage = "import"
        # AOTAutograd calls its compilers with its fake tensor mode active: the importer
        # evaluates constant nodes with real tensors
        with unset_fake_temporarily():
            try:
                imported = import_graph(gm, invariant, kind, self.unroll_recurrences)
                import red

                if self.report:
                    stage = "report"
                    record.report = red.report(imported.module)
                if self.optimize:
                    stage = "optimize"
                    red.optimize(imported.module, strict_fp=self.strict_fp)
                stage = "lower"
                compiled = red.compile(imported.module)
            except DiagnosticError as err:
                return self._eager_graph(record, gm, _stage_reason(stage, err.message, err))
            except Exception as err:
                reason = _stage_reason(stage, f"{type(err).__name__}: {err}", None)
                return self._eager_graph(record, gm, reason)
            record.seconds = time.perf_counter() - start
            record.module = imported.module
            reset = self.memo == "reset" or kind != "inference"
            # (its output templates must be real tensors: made outside the fake mode too)
            return _CompiledGraph(self, record, gm, imported, compiled, invariant, reset)

    def _invariant(
        self, kind: str, gm: torch.fx.GraphModule, shared: dict[str, list[int]]
    ) -> list[int]:
        """Placeholder positions of parameters: AOTAutograd's static inputs for the forward
        graph (remembered for the backward, whose saved parameters are named `primals_k`)."""
        if kind != "backward":
            from torch._guards import TracingContext

            context = TracingContext.try_get()
            metadata = getattr(context, "fw_metadata", None) if context else None
            static = getattr(metadata, "static_input_indices", None)
            if static is not None:
                shared["params"] = list(static)
            return list(shared["params"])
        names = {f"primals_{i + 1}" for i in shared["params"]}
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        return [i for i, n in enumerate(placeholders) if n.name in names]

    def _eager_graph(self, record: GraphRecord, gm: torch.fx.GraphModule, reason: str) -> Any:
        self.fall_back(record, reason)
        return _eager(gm)

    def fall_back(self, record: GraphRecord, reason: str) -> None:
        """Record that a graph runs eagerly, and warn once per distinct reason."""
        record.engine, record.reason = "eager", reason
        if reason not in self._warned:
            self._warned.add(reason)
            message = f"red: the {record.kind} graph runs eagerly: {reason}"
            warnings.warn(message, RedFallbackWarning, stacklevel=2)


@contextlib.contextmanager
def _decomposable() -> Iterator[None]:
    """While AOTAutograd traces: composite ops take their decomposable paths. oneDNN's
    fused LSTM layer and the fused CPU attention kernels stay single ops whose backward is
    one fused op too; the math paths decompose into ops red imports, backward included."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with warnings.catch_warnings():
        # switching oneDNN off notes that TF32 needs an Intel GPU: not news here
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
        with torch.backends.mkldnn.flags(enabled=False), sdpa_kernel([SDPBackend.MATH]):
            yield


def _stage_reason(stage: str, message: str, err: DiagnosticError | None) -> str:
    where = ""
    if err is not None:
        located = err.format().split("\n")[0]
        where = located[: -len(f": error: {message}")] if located.endswith(message) else ""
    what = {
        "import": "red cannot import it",
        "report": "the redundancy report failed",
        "optimize": "red-pipeline failed",
        "lower": "red's JIT cannot lower it",
    }[stage]
    return f"{what}: {message}" + (f" (at {where})" if where and where != "<unknown>" else "")


def _symbolic(x: Any) -> bool:
    if isinstance(x, torch.SymInt | torch.SymFloat | torch.SymBool):
        return True
    if isinstance(x, torch.Tensor):
        return not all(isinstance(d, int) for d in x.shape)
    return False


_BACKENDS: dict[tuple[tuple[str, Any], ...], RedBackend] = {}


def backend_for(**options: Any) -> RedBackend:
    """The shared backend for these options (`torch.compile(..., options={...})` reaches
    the same one, so its `graphs` accumulate)."""
    key = tuple(sorted(options.items()))
    if key not in _BACKENDS:
        _BACKENDS[key] = RedBackend(**options)
    return _BACKENDS[key]


def red_backend(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    options: dict[str, Any] | None = None,
    **_: Any,
) -> Callable[..., Any]:
    """The `torch_dynamo_backends` entry point "red": `torch.compile(model, backend="red",
    options={"memo": "reset"})` passes its options here."""
    return backend_for(**(options or {}))(gm, example_inputs)


def register() -> None:
    """Register "red" with dynamo by hand (the entry point does it once red is installed
    with it)."""
    from torch._dynamo.backends.registry import _BACKENDS as registered
    from torch._dynamo.backends.registry import register_backend

    if BACKEND_NAME not in registered:
        register_backend(name=BACKEND_NAME)(red_backend)


__all__ = [
    "BACKEND_NAME",
    "GraphRecord",
    "RedBackend",
    "RedFallbackWarning",
    "backend_for",
    "red_backend",
    "register",
]
