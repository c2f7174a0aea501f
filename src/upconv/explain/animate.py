"""Placeholder: being written."""

from typing import Any

PRESETS: dict[str, Any] = {}


class Animation:
    """Not implemented yet."""


def animate(*args: Any, **kwargs: Any) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("animate")
