"""Placeholder: being written."""

from typing import Any


def trace(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("trace")
