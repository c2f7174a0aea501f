"""Placeholder: being written (see the issue)."""

from typing import Any


def interpolate(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("interpolate")


def interpolate_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("interpolate_backward")

