"""PyTorch's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes PyTorch's argument names and layouts and computes what it computes.
"""

from ._conv import torch_conv as conv
from ._conv import torch_conv_transpose as conv_transpose
from ._pool import torch_avg_pool as avg_pool
from ._pool import torch_max_pool as max_pool
from ._pool import torch_max_unpool as max_unpool
from ._resize import torch_interpolate as interpolate
from ._shuffle import torch_pixel_shuffle as pixel_shuffle
from ._shuffle import torch_pixel_unshuffle as pixel_unshuffle

__all__ = [
    "avg_pool",
    "conv",
    "conv_transpose",
    "interpolate",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
]
