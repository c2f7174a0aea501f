"""Flax's conventions in NumPy (see :mod:`upconv.conventions`).

Each function takes Flax's argument names and layouts and computes what it computes.
"""

from ._pool import flax_avg_pool as avg_pool
from ._pool import flax_max_pool as max_pool

__all__ = [
    "avg_pool",
    "max_pool",
]
