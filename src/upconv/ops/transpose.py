"""Placeholder: being written (see the issue)."""

from typing import Any


def conv_transpose(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("conv_transpose")


def conv_transpose_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("conv_transpose_backward")

