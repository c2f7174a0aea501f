"""Placeholder: being written (see the issue)."""

from typing import Any


def pixel_shuffle(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("pixel_shuffle")


def pixel_shuffle_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("pixel_shuffle_backward")


def pixel_unshuffle(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("pixel_unshuffle")


def pixel_unshuffle_backward(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("pixel_unshuffle_backward")

