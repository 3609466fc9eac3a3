"""The ONNX frontend (DESIGN.md §5): an ONNX model becomes a verified red module whose `@main`
takes the graph inputs (then, with `weights_as_args`, the floating-point initializers) and
returns the graph outputs, with import-time constant propagation and a NameLoc on every op.

    module = import_onnx("model.onnx")                                  # input_ids: 1x?
    module = import_onnx("model.onnx", shapes={"input_ids": (1, 128)})  # input_ids: 1x128

How a node is imported:
- Shapes: a symbolic input dimension (a `dim_param`, or an unknown size) is a `?` whose name
  the argument's `red.dims` attribute carries, unless `shapes` (`--shape`) fixes it. Every
  value's shape is known as `Dim`s (ints or polynomials in those names:
  `red.frontends.symbolic`, `red.frontends.sizes`), and small integer tensors computed from
  sizes keep their values as Dims (`shape_arith`), so
  Reshape, Expand, Slice, Range or ConstantOfShape get `?` exactly where a size is symbolic
  and the run-time sizes they need are built from `tensor.dim`. What cannot stay symbolic (a
  comparison of sizes the bounds do not decide, a shape computed from data) is a located
  error naming the `--shape` flags that make the model static.
- A node whose inputs are all compile-time constants (initializers, Constant nodes, shapes of
  static tensors, earlier folded nodes) is evaluated once with onnx's reference evaluator and
  becomes a constant: the Shape -> Gather -> Concat -> Reshape subgraphs exporters emit fold away.
  Inside a converter, red ops on constants fold through the shared emitter
  (`red.frontends.emitter`). Constants are materialized as `red.constant` (splats as splat
  attributes) where a red op uses them.
- Every other node becomes red ops (composites such as Gemm, LayerNormalization or LSTM become
  several), each located at NameLoc(node name, FileLineColLoc(model file, 0, 0)); an unnamed node
  is called `op_type#index`.
- An op, attribute, element type or shape the importer does not handle is an UnsupportedError
  (a located DiagnosticError) naming it; never a traceback.

Modules: `loader` (the file, input types, initializers), `importer` (the graph walk), `node` (what a
converter sees), `red.frontends.symbolic` (Dims, size tensors, decided comparisons),
`red.frontends.sizes` (the emitter's symbolic shapes and run-time sizes), `shape_arith` (shape
arithmetic evaluated on sizes), and one module per converter family: `elementwise`, `shape`,
`indexing` (GatherND, ScatterND, ScatterElements), `reductions`, `contractions`, `recurrent`,
`misc`.

The way back, red -> ONNX (`to_onnx`, `red-export`): `export` (the function walk, memos,
calls, Loop and If), `exporter` (names, initializers, located nodes, the rule registry) and
`export_ops` (the rules of the red and arith ops)."""

from red.frontends.onnx.export import ExportError, to_onnx
from red.frontends.onnx.importer import SUPPORTED_OPS, import_onnx
from red.frontends.onnx.loader import OnnxLoadError, UnsupportedError, load_model, weight_arrays

__all__ = [
    "SUPPORTED_OPS",
    "ExportError",
    "OnnxLoadError",
    "UnsupportedError",
    "import_onnx",
    "load_model",
    "to_onnx",
    "weight_arrays",
]
