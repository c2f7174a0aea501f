"""Placeholder: being written (see the issue)."""

from typing import Any


def max_unpool(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("max_unpool")


def max_unpool_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("max_unpool_backward")


def unpool(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("unpool")


def unpool_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("unpool_backward")

