"""JAX's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes JAX's argument names and layouts and computes what it computes.
"""

from ._conv import jax_conv as conv
from ._conv import jax_conv_transpose as conv_transpose

__all__ = [
    "conv",
    "conv_transpose",
]
