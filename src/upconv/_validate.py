"""Argument checking shared by every public function.

Every user-facing argument error of upconv is raised here, as :class:`ShapeError` (a
``ValueError``) or ``TypeError``, with a message that names the function, the argument, its
value and the rule it breaks.  Public functions validate once, at their boundary, and then
work with plain per-dimension tuples of ints.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np

IntOrTuple: TypeAlias = int | Sequence[int]
"""An int (the same value in every spatial dimension) or one int per spatial dimension."""

Pairs: TypeAlias = tuple[tuple[int, int], ...]
"""Per-dimension ``(before, after)`` amounts."""

_RANKS = (1, 2, 3)


class ShapeError(ValueError):
    """An argument that breaks a shape rule (a ``ValueError``, so generic handlers catch it).

    Examples
    --------
    >>> import upconv
    >>> try:
    ...     upconv.conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    ... except ValueError as err:
    ...     print(err)
    conv_transpose_output_size: output_padding=2 must be smaller than stride=2 or dilation=1 \
(PyTorch's rule output_padding < max(stride, dilation))
    """


def _is_int(value: Any) -> bool:
    if type(value) is int:  # the common case, without the ABC check's ~1 us
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if _is_int(value):
        return str(int(value))
    if isinstance(value, np.floating):
        return repr(float(value))
    return repr(value)


def check_int(value: Any, name: str, func: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``func`` and ``name``.

    Examples
    --------
    >>> check_int(3, "stride", "f", minimum=1)
    3
    >>> check_int(0, "stride", "f", minimum=1)
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: stride=0 must be a positive integer (>= 1)
    """
    if not _is_int(value):
        raise TypeError(
            f"{func}: {name}={_show(value)} must be an integer, not {type(value).__name__}"
        )
    value = int(value)
    if minimum is not None and value < minimum:
        what = "a positive integer (>= 1)" if minimum == 1 else f"an integer >= {minimum}"
        raise ShapeError(f"{func}: {name}={value} must be {what}")
    return value


def spatial_size(size: Any, func: str, name: str = "size") -> tuple[tuple[int, ...], bool]:
    """Validate a spatial size (an int or one int per dimension, 1 to 3 of them).

    Returns the per-dimension tuple and whether the caller gave a plain int, so that results
    can follow the input's form.

    Examples
    --------
    >>> spatial_size(5, "f")
    ((5,), True)
    >>> spatial_size((28, 28), "f")
    ((28, 28), False)
    """
    if _is_int(size):
        return (check_int(size, name, func, minimum=1),), True
    if isinstance(size, np.ndarray) and size.ndim == 1:
        size = size.tolist()
    if not isinstance(size, list | tuple):
        raise TypeError(
            f"{func}: {name}={_show(size)} must be an int or a tuple of ints (one per spatial "
            f"dimension), not {type(size).__name__}"
        )
    if len(size) not in _RANKS:
        raise ShapeError(
            f"{func}: {name}={_show(size)} has {len(size)} dimensions; upconv supports 1, 2 or 3 "
            "spatial dimensions"
        )
    dims = []
    for axis, v in enumerate(size):
        if not _is_int(v):
            raise TypeError(
                f"{func}: {name}={_show(size)} must hold integers; dimension {axis} is "
                f"{_show(v)} ({type(v).__name__})"
            )
        if v < 1:
            raise ShapeError(
                f"{func}: {name}={_show(size)} must be positive in every dimension; "
                f"dimension {axis} is {int(v)}"
            )
        dims.append(int(v))
    return tuple(dims), False


def per_dim(
    value: Any, ndim: int, name: str, func: str, *, minimum: int | None = 1
) -> tuple[int, ...]:
    """Expand an int-or-tuple argument to one int per spatial dimension.

    Examples
    --------
    >>> per_dim(2, 3, "stride", "f")
    (2, 2, 2)
    >>> per_dim((1, 2), 2, "stride", "f")
    (1, 2)
    >>> per_dim((1, 2), 3, "stride", "f")
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: stride=(1, 2) has 2 values but the input has 3 spatial \
dimensions; give an int or a tuple of 3 ints
    """
    if _is_int(value):
        return (check_int(value, name, func, minimum=minimum),) * ndim
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"{func}: {name}={_show(value)} must be an int or a tuple of {ndim} ints, "
            f"not {type(value).__name__}"
        )
    if len(value) != ndim:
        raise ShapeError(
            f"{func}: {name}={_show(value)} has {len(value)} values but the input has {ndim} "
            f"spatial dimension{'s' if ndim != 1 else ''}; give an int or a tuple of {ndim} ints"
        )
    out = []
    for axis, v in enumerate(value):
        if not _is_int(v):
            raise TypeError(
                f"{func}: {name}={_show(value)} must hold integers; dimension {axis} is "
                f"{_show(v)} ({type(v).__name__})"
            )
        if minimum is not None and v < minimum:
            what = "positive (>= 1)" if minimum == 1 else f">= {minimum}"
            raise ShapeError(
                f"{func}: {name}={_show(value)} must be {what} in every dimension; "
                f"dimension {axis} is {int(v)}"
            )
        out.append(int(v))
    return tuple(out)


def padding_pairs(
    padding: Any, ndim: int, func: str, *, name: str = "padding", allow_strings: bool = True
) -> Pairs | str:
    """Normalise a padding argument.

    Accepts an int, one int per dimension (symmetric), one ``(before, after)`` pair per
    dimension, or (when ``allow_strings``) ``"same"`` / ``"valid"``, which are returned
    lower-cased for the caller to resolve.  Amounts must be non-negative.

    Examples
    --------
    >>> padding_pairs(1, 2, "f")
    ((1, 1), (1, 1))
    >>> padding_pairs(((0, 1), (2, 2)), 2, "f")
    ((0, 1), (2, 2))
    >>> padding_pairs("SAME", 1, "f")
    'same'
    """
    if isinstance(padding, str):
        if allow_strings and padding.lower() in ("same", "valid"):
            return padding.lower()
        allowed = "an int, a tuple of ints or (before, after) pairs"
        if allow_strings:
            allowed += ", 'same' or 'valid'"
        raise ShapeError(f"{func}: {name}={padding!r} is not understood; give {allowed}")
    if _is_int(padding):
        p = check_int(padding, name, func, minimum=0)
        return ((p, p),) * ndim
    if isinstance(padding, np.ndarray):
        padding = padding.tolist()
    if not isinstance(padding, list | tuple):
        raise TypeError(
            f"{func}: {name}={_show(padding)} must be an int, a tuple of ints or (before, after) "
            f"pairs, not {type(padding).__name__}"
        )
    if len(padding) != ndim:
        raise ShapeError(
            f"{func}: {name}={_show(padding)} has {len(padding)} entries but the input has {ndim} "
            f"spatial dimension{'s' if ndim != 1 else ''}; give an int, {ndim} ints, or {ndim} "
            f"(before, after) pairs such as {((1, 2),) * ndim}"
        )
    pairs = []
    for axis, entry in enumerate(padding):
        if _is_int(entry):
            before = after = entry
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            before, after = entry
        else:
            raise TypeError(
                f"{func}: {name}={_show(padding)}: dimension {axis} is {_show(entry)}; each entry "
                "must be an int or a (before, after) pair of ints"
            )
        for v in (before, after):
            if not _is_int(v):
                raise TypeError(
                    f"{func}: {name}={_show(padding)} must hold integers; dimension {axis} has "
                    f"{_show(v)} ({type(v).__name__})"
                )
            if v < 0:
                raise ShapeError(
                    f"{func}: {name}={_show(padding)} must be >= 0 in every dimension; "
                    f"dimension {axis} has {int(v)}"
                )
        pairs.append((int(before), int(after)))
    return tuple(pairs)


def symmetric_padding(
    padding: Any, ndim: int, func: str, *, name: str = "padding"
) -> tuple[int, ...]:
    """Expand a symmetric padding (int or one int per dimension, each >= 0).

    Examples
    --------
    >>> symmetric_padding(1, 2, "f")
    (1, 1)
    """
    return per_dim(padding, ndim, name, func, minimum=0)


def fmt(values: Sequence[int], as_int: bool) -> int | tuple[int, ...]:
    """Return ``values`` in the caller's form: a bare int for 1-d int input, else a tuple."""
    return values[0] if as_int else tuple(values)


def float_array(x: Any, name: str, func: str) -> np.ndarray:
    """Return ``x`` as a float32/float64 ndarray, rejecting integer, bool and complex dtypes.

    Examples
    --------
    >>> float_array(np.zeros(2, dtype=np.float32), "x", "f").dtype
    dtype('float32')
    >>> float_array(np.zeros(2, dtype=int), "x", "f")
    Traceback (most recent call last):
    ...
    TypeError: f: x has dtype int64; a floating dtype (float32 or float64) is required
    """
    if not isinstance(x, np.ndarray):
        if isinstance(x, list | tuple | numbers.Number):
            x = np.asarray(x)
        else:
            raise TypeError(f"{func}: {name} must be a NumPy array, not {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        if x.dtype in (np.float16,) or (
            np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 8
        ):
            raise TypeError(
                f"{func}: {name} has dtype {x.dtype}; only float32 and float64 are supported"
            )
        raise TypeError(
            f"{func}: {name} has dtype {x.dtype}; a floating dtype (float32 or float64) is required"
        )
    return x


def batched(x: np.ndarray, func: str, name: str = "x", *, ndim: int | None = None) -> tuple[
    np.ndarray, bool
]:
    """Accept ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` input, like PyTorch.

    With ``ndim`` given (the number of spatial dimensions, e.g. from a weight), the rank must
    be ``ndim + 2`` or ``ndim + 1``; without it, rank 3, 4 or 5 is batched.  Returns the
    batched view and whether a batch axis was added.

    Examples
    --------
    >>> batched(np.zeros((3, 4, 4)), "f", ndim=2)[0].shape
    (1, 3, 4, 4)
    >>> batched(np.zeros((2, 3, 4, 4)), "f")[1]
    False
    """
    if ndim is None:
        if x.ndim not in (3, 4, 5):
            raise ShapeError(
                f"{func}: {name} has shape {x.shape} (rank {x.ndim}); expected (N, C, *spatial) "
                "with 1, 2 or 3 spatial dimensions (rank 3, 4 or 5)"
            )
        return x, False
    if x.ndim == ndim + 2:
        return x, False
    if x.ndim == ndim + 1:
        return x[None], True
    raise ShapeError(
        f"{func}: {name} has shape {x.shape} (rank {x.ndim}); for {ndim} spatial dimension"
        f"{'s' if ndim != 1 else ''} expected (N, C{', *spatial' if ndim else ''}) of rank "
        f"{ndim + 2} or unbatched (C, *spatial) of rank {ndim + 1}"
    )
