"""JAX's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes JAX's argument names and layouts and computes what it computes.
"""

from ._conv import jax_conv as conv
from ._conv import jax_conv_transpose as conv_transpose
from ._pool import jax_avg_pool as avg_pool
from ._pool import jax_max_pool as max_pool
from ._resize import jax_resize as resize

__all__ = [
    "avg_pool",
    "conv",
    "conv_transpose",
    "max_pool",
    "resize",
]
