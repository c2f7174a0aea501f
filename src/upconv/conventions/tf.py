"""TensorFlow's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes TensorFlow's argument names and layouts and computes what it computes.
"""

from ._conv import tf_conv as conv
from ._conv import tf_conv2d as conv2d
from ._conv import tf_conv2d_transpose as conv2d_transpose
from ._conv import tf_conv_transpose as conv_transpose

__all__ = [
    "conv",
    "conv2d",
    "conv2d_transpose",
    "conv_transpose",
]
