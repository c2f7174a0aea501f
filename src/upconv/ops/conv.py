"""Placeholder: being written (see the issue)."""

from typing import Any


def conv(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("conv")


def conv_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("conv_backward")

