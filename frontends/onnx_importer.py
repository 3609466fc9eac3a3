"""The former module of the ONNX frontend, kept as an alias of `red.frontends.onnx`."""

from red.frontends.onnx import *  # noqa: F403
from red.frontends.onnx import __all__  # noqa: F401
