"""Placeholder: being written (see the issue)."""

from typing import Any


def conv_matrix(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("conv_matrix")

