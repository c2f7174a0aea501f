"""ONNX (Runtime)'s conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes ONNX (Runtime)'s argument names and layouts and computes what it computes.
"""

from ._conv import onnx_conv as conv
from ._conv import onnx_conv_transpose as conv_transpose
from ._pool import onnx_avg_pool as avg_pool
from ._pool import onnx_max_pool as max_pool
from ._pool import onnx_max_unpool as max_unpool
from ._resize import onnx_resize as resize
from ._shuffle import onnx_depth_to_space as depth_to_space
from ._shuffle import onnx_space_to_depth as space_to_depth

__all__ = [
    "avg_pool",
    "conv",
    "conv_transpose",
    "depth_to_space",
    "max_pool",
    "max_unpool",
    "resize",
    "space_to_depth",
]
