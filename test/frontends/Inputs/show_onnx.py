"""Print an ONNX model for FileCheck: its inputs, initializers, nodes (op type, name, doc
string) and outputs, then, when onnxruntime is installed, its outputs on inputs of ones."""

import sys

import numpy as np
import onnx
from onnx import helper


def dims(vi: onnx.ValueInfoProto) -> str:
    return "x".join(str(d.dim_value) for d in vi.type.tensor_type.shape.dim) or "scalar"


def main(path: str) -> None:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(f"opset {model.opset_import[0].version}")
    for vi in model.graph.input:
        print(f"input {vi.name} {dims(vi)}")
    for t in model.graph.initializer:
        print(f"initializer {t.name} {'x'.join(map(str, t.dims)) or 'scalar'}")
    for n in model.graph.node:
        print(f"node {n.op_type} '{n.name}' ({n.doc_string})")
    for vi in model.graph.output:
        print(f"output {vi.name} {dims(vi)}")
    try:
        import onnxruntime as ort
    except ImportError:
        return
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {}
    for i in session.get_inputs():
        vi = next(v for v in model.graph.input if v.name == i.name)
        dtype = helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
        feeds[i.name] = np.ones([d.dim_value for d in vi.type.tensor_type.shape.dim], dtype)
    for o, value in zip(session.get_outputs(), session.run(None, feeds)):
        print(f"value {o.name} {np.array2string(np.asarray(value), precision=4)}")


if __name__ == "__main__":
    main(sys.argv[1])
