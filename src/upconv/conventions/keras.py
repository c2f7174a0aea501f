"""Keras 3's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes Keras 3's argument names and layouts and computes what it computes.
"""

from ._conv import keras_conv as conv
from ._conv import keras_conv_transpose as conv_transpose

__all__ = [
    "conv",
    "conv_transpose",
]
