"""Placeholder: being written (see the issue)."""

from typing import Any


def avg_pool(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("avg_pool")


def avg_pool_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("avg_pool_backward")


def max_pool(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("max_pool")


def max_pool_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("max_pool_backward")

