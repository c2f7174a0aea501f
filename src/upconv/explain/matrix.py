"""Placeholder: being written."""

from typing import Any


class MatrixView:
    """Not implemented yet."""


def matrix(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("matrix")
