"""upconv: transposed convolution, unpooling and upsampling, computed, explained and translated.

The whole public surface is listed in ``__all__``.  Arrays are ``(N, C, *spatial)``, channels
first, like PyTorch; argument names are PyTorch's.  ``import upconv`` needs only NumPy.
"""

from ._validate import ShapeError
from .ops import (
    avg_pool,
    avg_pool_backward,
    conv,
    conv_backward,
    conv_matrix,
    conv_transpose,
    conv_transpose_backward,
    interpolate,
    interpolate_backward,
    max_pool,
    max_pool_backward,
    max_unpool,
    max_unpool_backward,
    pixel_shuffle,
    pixel_shuffle_backward,
    pixel_unshuffle,
    pixel_unshuffle_backward,
    unpool,
    unpool_backward,
)
from .ops._parallel import get_num_threads, set_num_threads
from .shapes import (
    conv_output_size,
    conv_transpose_output_size,
    conv_transpose_size_range,
    equivalent_conv,
    output_padding_for,
    pool_output_size,
    same_padding,
)

__version__ = "0.1.0"

_LAZY = ("conventions", "explain", "reference", "torch")


def __getattr__(name: str) -> object:
    # Submodules that need more than NumPy (or are rarely used) load on first access.
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'upconv' has no attribute {name!r}")

__all__ = [
    "ShapeError",
    "avg_pool",
    "avg_pool_backward",
    "conv",
    "conv_backward",
    "conv_matrix",
    "conv_output_size",
    "conv_transpose",
    "conv_transpose_backward",
    "conv_transpose_output_size",
    "conv_transpose_size_range",
    "equivalent_conv",
    "get_num_threads",
    "interpolate",
    "interpolate_backward",
    "max_pool",
    "max_pool_backward",
    "max_unpool",
    "max_unpool_backward",
    "output_padding_for",
    "pixel_shuffle",
    "pixel_shuffle_backward",
    "pixel_unshuffle",
    "pixel_unshuffle_backward",
    "pool_output_size",
    "same_padding",
    "set_num_threads",
    "unpool",
    "unpool_backward",
]
