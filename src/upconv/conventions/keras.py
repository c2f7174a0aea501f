"""Keras 3's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes Keras 3's argument names and layouts and computes what it computes.
"""

from ._conv import keras_conv as conv
from ._conv import keras_conv_transpose as conv_transpose
from ._pool import keras_avg_pool as avg_pool
from ._pool import keras_max_pool as max_pool
from ._resize import keras_resizing as resizing
from ._resize import keras_upsampling as upsampling
from ._shuffle import keras_depth_to_space as depth_to_space
from ._shuffle import keras_space_to_depth as space_to_depth

__all__ = [
    "avg_pool",
    "conv",
    "conv_transpose",
    "depth_to_space",
    "max_pool",
    "resizing",
    "space_to_depth",
    "upsampling",
]
