"""The ONNX frontend: load an ONNX model and convert its graph to a red module."""
