"""NumPy kernels, one module per family, all on ``(N, C, *spatial)`` arrays."""

from .conv import conv, conv_backward
from .matrix import conv_matrix
from .pool import avg_pool, avg_pool_backward, max_pool, max_pool_backward
from .resize import interpolate, interpolate_backward
from .shuffle import (
    pixel_shuffle,
    pixel_shuffle_backward,
    pixel_unshuffle,
    pixel_unshuffle_backward,
)
from .transpose import conv_transpose, conv_transpose_backward
from .unpool import max_unpool, max_unpool_backward, unpool, unpool_backward

__all__ = [
    "avg_pool",
    "avg_pool_backward",
    "conv",
    "conv_backward",
    "conv_matrix",
    "conv_transpose",
    "conv_transpose_backward",
    "interpolate",
    "interpolate_backward",
    "max_pool",
    "max_pool_backward",
    "max_unpool",
    "max_unpool_backward",
    "pixel_shuffle",
    "pixel_shuffle_backward",
    "pixel_unshuffle",
    "pixel_unshuffle_backward",
    "unpool",
    "unpool_backward",
]
