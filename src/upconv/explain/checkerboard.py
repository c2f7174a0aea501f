"""Placeholder: being written."""

from typing import Any


class Checkerboard:
    """Not implemented yet."""


def checkerboard(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("checkerboard")
