"""TensorFlow's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes TensorFlow's argument names and layouts and computes what it computes.
"""

from ._conv import tf_conv as conv
from ._conv import tf_conv2d as conv2d
from ._conv import tf_conv2d_transpose as conv2d_transpose
from ._conv import tf_conv_transpose as conv_transpose
from ._pool import tf_avg_pool as avg_pool
from ._pool import tf_max_pool as max_pool
from ._pool import tf_max_pool_with_argmax as max_pool_with_argmax
from ._resize import tf_resize as resize
from ._resize import tf_resize_bicubic as resize_bicubic
from ._resize import tf_resize_bilinear as resize_bilinear
from ._resize import tf_resize_nearest_neighbor as resize_nearest_neighbor
from ._shuffle import tf_depth_to_space as depth_to_space
from ._shuffle import tf_space_to_depth as space_to_depth

__all__ = [
    "avg_pool",
    "conv",
    "conv2d",
    "conv2d_transpose",
    "conv_transpose",
    "depth_to_space",
    "max_pool",
    "max_pool_with_argmax",
    "resize",
    "resize_bicubic",
    "resize_bilinear",
    "resize_nearest_neighbor",
    "space_to_depth",
]
