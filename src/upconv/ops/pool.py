"""Max and average pooling with PyTorch's exact semantics, and their input gradients.

Both ops loop over the kernel taps only: each tap is one strided view of the padded input of
shape ``(N, C, *out)``, so batch, channels and output positions are handled by NumPy at once.

Max pooling records PyTorch's *switches*: for every output element, the flat index ``h*W + w``
(3-d: ``z*H*W + h*W + w``) of the winning element inside its own ``(N, C)`` plane of the
unpadded input.  The switches are what :func:`upconv.max_unpool` consumes and what the
backward pass scatters through.

The number of spatial dimensions is the length of any tuple argument (``kernel_size``,
``stride``, ``padding``, ``dilation``); with int-only arguments a rank 3, 4 or 5 array is read as
batched ``(N, C, *spatial)`` with 1, 2 or 3 spatial dimensions and a rank 2 array as unbatched
1-d ``(C, L)``.  Pass ``kernel_size`` as a tuple to pool unbatched 2-d or 3-d input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import ShapeError, batched, check_int, float_array
from ..shapes import PoolGeometry, pool_geometry

# ---------------------------------------------------------------------------------------------
# Helpers shared with unpool.py


def _spatial_ndim(x: np.ndarray, func: str, **args: Any) -> int:
    """Count the spatial dimensions: the first tuple argument's length, else from the rank."""
    for name, value in args.items():
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = value.tolist()
        if isinstance(value, list | tuple):
            if len(value) not in (1, 2, 3):
                raise ShapeError(
                    f"{func}: {name}={tuple(value)} has {len(value)} values; upconv supports 1, 2 "
                    "or 3 spatial dimensions"
                )
            return len(value)
    if x.ndim == 2:
        return 1  # (C, L) can only be unbatched 1-d
    batched(x, func)  # raises for a rank other than 3, 4 or 5
    return x.ndim - 2


def _split_batch(
    x: Any, func: str, name: str = "x", **args: Any
) -> tuple[np.ndarray, bool, int]:
    """Validate ``x``; return it as ``(N, C, *spatial)``, whether it was unbatched, and ndim."""
    x = float_array(x, name, func)
    ndim = _spatial_ndim(x, func, **args)
    xb, unbatched = batched(x, func, name, ndim=ndim)
    return xb, unbatched, ndim


def _check_grad(grad_output: Any, shape: tuple[int, ...], func: str) -> np.ndarray:
    """Validate ``grad_output`` against the forward output's ``shape``."""
    grad_output = float_array(grad_output, "grad_output", func)
    if grad_output.shape != shape:
        raise ShapeError(
            f"{func}: grad_output has shape {grad_output.shape} but the forward output has shape "
            f"{shape}"
        )
    return grad_output


def _plane_strides(size: tuple[int, ...]) -> tuple[int, ...]:
    """Flat-index strides of one ``(N, C)`` plane: ``(H*W, W, 1)`` for ``(D, H, W)``."""
    return tuple(math.prod(size[axis + 1 :]) for axis in range(len(size)))


def _grid(per_dim: list[np.ndarray]) -> np.ndarray:
    """Sum of 1-d per-dimension arrays broadcast to their outer grid (shape ``(*len_i)``)."""
    n = len(per_dim)
    total = np.zeros((1,) * n, dtype=per_dim[0].dtype)
    for axis, v in enumerate(per_dim):
        total = total + v.reshape((1,) * axis + (-1,) + (1,) * (n - axis - 1))
    return total


def _product(per_dim: list[np.ndarray]) -> np.ndarray:
    """Product of 1-d per-dimension arrays broadcast to their outer grid."""
    n = len(per_dim)
    total = np.ones((1,) * n, dtype=per_dim[0].dtype)
    for axis, v in enumerate(per_dim):
        total = total * v.reshape((1,) * axis + (-1,) + (1,) * (n - axis - 1))
    return total


def _tap_slices(g: PoolGeometry, tap: tuple[int, ...]) -> tuple[Any, ...]:
    """Index the strided view of the padded input that kernel tap ``tap`` sees in all windows."""
    return (Ellipsis,) + tuple(
        slice(t * d, t * d + (o - 1) * s + 1, s)
        for t, d, o, s in zip(tap, g.dilation, g.output_size, g.stride, strict=True)
    )


def _pad_widths(g: PoolGeometry) -> list[tuple[int, int]]:
    # p before; after, as much as the last window's last tap needs (ceil mode may reach past p)
    widths = [(0, 0), (0, 0)]
    for size, k, s, p, d, o in zip(
        g.size, g.kernel_size, g.stride, g.padding, g.dilation, g.output_size, strict=True
    ):
        widths.append((p, max(0, (o - 1) * s + d * (k - 1) + 1 - p - size)))
    return widths


def _unbatch(a: np.ndarray, unbatched: bool) -> np.ndarray:
    return a[0] if unbatched else a


# ---------------------------------------------------------------------------------------------
# Max pooling


def _max_pool_geometry(
    x: Any,
    func: str,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: Any,
) -> tuple[np.ndarray, bool, PoolGeometry]:
    xb, unbatched, _ = _split_batch(
        x, func, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    g = pool_geometry(
        xb.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func
    )
    return xb, unbatched, g


def _max_pool_core(xb: np.ndarray, g: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's running maximum, one kernel tap at a time, over ``(N, C, *out)`` at once.

    A tap replaces the running maximum where ``value > best or isnan(value)``, scanning the
    taps row-major: ties keep the first maximum, a NaN always replaces (the last NaN wins).
    The padding is -inf, so it never wins; the running maximum starts at -inf with the index
    of the window's first in-bounds position (PyTorch advances the window start by the
    dilation while it is negative), which is what a window of -inf values (or, with a large
    dilation, a window whose taps all fall in the padding) reports.
    """
    n, c = xb.shape[:2]
    strides = _plane_strides(g.size)
    # per dimension: window starts o*s - p, each output position's first in-bounds tap
    starts = [np.arange(o) * s - p for o, s, p in zip(g.output_size, g.stride, g.padding,
                                                          strict=True)]
    first = [
        np.where(st < 0, st + (-st + d - 1) // d * d, st) * stride
        for st, d, stride in zip(starts, g.dilation, strides, strict=True)
    ]
    xp = np.pad(xb, _pad_widths(g), constant_values=-np.inf)
    out_shape = (n, c, *g.output_size)
    best = np.full(out_shape, -np.inf, dtype=xb.dtype)
    index = np.empty(out_shape, dtype=np.int64)
    index[...] = _grid(first)
    for tap in np.ndindex(*g.kernel_size):
        value = xp[_tap_slices(g, tap)]  # (N, C, *out)
        update = (value > best) | np.isnan(value)
        np.copyto(best, value, where=update)
        flat = _grid(
            [(st + t * d) * stride
             for st, t, d, stride in zip(starts, tap, g.dilation, strides, strict=True)]
        )
        np.copyto(index, flat, where=update)
    return best, index


def max_pool(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Max pooling (1-d, 2-d or 3-d), bit-for-bit PyTorch's ``F.max_pool{1,2,3}d``.

    Parameters
    ----------
    x : (N, C, *spatial) or (C, *spatial) ndarray
        float32 or float64 input with 1, 2 or 3 spatial dimensions.  With int-only arguments
        the rank decides (3, 4, 5 → batched 1-d, 2-d, 3-d; 2 → unbatched 1-d); a tuple
        ``kernel_size`` (or any tuple argument) fixes the number of spatial dimensions, which
        is how unbatched 2-d and 3-d input is passed.
    kernel_size : int or tuple of int
        Window size ``k``.
    stride : int or tuple of int, optional
        Window step ``s``; defaults to ``kernel_size``.
    padding : int or tuple of int
        Implicit -inf padding ``p`` on both sides, at most ``kernel_size // 2``.
    dilation : int or tuple of int
        Spacing ``d`` between window elements.
    ceil_mode : bool
        Round the output size up (a last window that would start in the right padding is
        dropped, as in PyTorch).
    return_indices : bool
        Also return the switches (the positions of the maxima).

    Returns
    -------
    out : (N, C, *out) or (C, *out) ndarray
        Same dtype as ``x``; ``out = floor_or_ceil((L + 2p - d*(k-1) - 1) / s) + 1`` per
        dimension (see :func:`upconv.pool_output_size`).
    indices : (N, C, *out) or (C, *out) ndarray of int64
        Only with ``return_indices``: the flat index of each maximum inside its own ``(N, C)``
        plane of the unpadded input, ``h*W + w`` (3-d: ``z*H*W + h*W + w``), exactly
        PyTorch's.

    Raises
    ------
    ShapeError
        For a bad rank, ``padding > kernel_size // 2`` or an empty output.
    TypeError
        For a non-float ``x``.

    See Also
    --------
    max_unpool : places values back at the switches (the deconvnet's unpooling).
    max_pool_backward : the gradient w.r.t. ``x``.
    avg_pool : average pooling.

    Notes
    -----
    Output element ``out[n, c, o]`` is the maximum of ``x[n, c, o*s - p + j*d]`` over the
    taps ``j`` that fall inside the input.  The window is scanned row-major and a tap
    replaces the running maximum when ``value > maximum or isnan(value)``: among equal
    maxima the first in scan order wins and a NaN always replaces, so the output is NaN and
    the index is the last NaN's.  The running maximum starts at -inf with the index of the
    window's first in-bounds position, which is what an all -inf window reports.  With a large
    dilation a window's taps can all fall in the padding; PyTorch then returns -inf and the
    position its scan would have started from, which may lie outside the plane, and so does
    this function (:func:`max_pool_backward` gives such windows no gradient).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4) % 5
    >>> x[0, 0]
    array([[0., 1., 2., 3.],
           [4., 0., 1., 2.],
           [3., 4., 0., 1.],
           [2., 3., 4., 0.]])
    >>> out, idx = max_pool(x, 2, return_indices=True)
    >>> out[0, 0]
    array([[4., 3.],
           [4., 4.]])
    >>> idx[0, 0]
    array([[ 4,  3],
           [ 9, 14]])
    """
    func = "max_pool"
    xb, unbatched, g = _max_pool_geometry(x, func, kernel_size, stride, padding, dilation,
                                          ceil_mode)
    if not isinstance(return_indices, bool):
        raise TypeError(f"{func}: return_indices={return_indices!r} must be a bool")
    best, index = _max_pool_core(xb, g)
    if return_indices:
        return _unbatch(best, unbatched), _unbatch(index, unbatched)
    return _unbatch(best, unbatched)


def max_pool_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Gradient of :func:`max_pool` w.r.t. ``x``: ``grad_output`` scattered to the switches.

    Parameters
    ----------
    grad_output : (N, C, *out) or (C, *out) ndarray
        Gradient w.r.t. the output of ``max_pool(x, ...)`` (same shape as that output).
    x : (N, C, *spatial) or (C, *spatial) ndarray
        The forward input (the switches are recomputed from it).
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`max_pool`.

    Returns
    -------
    (N, C, *spatial) or (C, *spatial) ndarray
        Same shape and dtype as ``x``.

    See Also
    --------
    max_pool : the forward op.
    max_unpool : the same scatter without accumulation (one value per switch).

    Notes
    -----
    ``grad_x.flat_plane[indices[o]] += grad_output[o]`` for every output position ``o``:
    overlapping windows (``stride < kernel_size``) that pick the same element accumulate.
    Windows lying entirely in the padding (possible with a large dilation) touch no input
    element and contribute nothing.

    Examples
    --------
    >>> x = np.array([[[1.0, 3.0, 2.0, 0.0]]])
    >>> max_pool(x, 2, stride=1)
    array([[[3., 3., 2.]]])
    >>> max_pool_backward(np.ones((1, 1, 3)), x, 2, stride=1)
    array([[[0., 2., 1., 0.]]])
    """
    func = "max_pool_backward"
    xb, unbatched, g = _max_pool_geometry(x, func, kernel_size, stride, padding, dilation,
                                          ceil_mode)
    n, c = xb.shape[:2]
    out_shape = (n, c, *g.output_size)
    grad = _check_grad(grad_output, out_shape[1:] if unbatched else out_shape, func)
    _, index = _max_pool_core(xb, g)
    plane = math.prod(g.size)
    # scatter-add into the flattened (N*C*plane,) gradient; repeated switches accumulate
    index = index.reshape(n * c, -1)
    offset = index + (np.arange(n * c, dtype=np.int64) * plane)[:, None]
    valid = (index >= 0) & (index < plane)
    flat = np.bincount(
        offset[valid], weights=grad.reshape(n * c, -1)[valid], minlength=n * c * plane
    )
    return _unbatch(flat.astype(xb.dtype, copy=False).reshape(xb.shape), unbatched)


# ---------------------------------------------------------------------------------------------
# Average pooling


def _avg_pool_setup(
    x: Any,
    func: str,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
    count_include_pad: Any,
    divisor_override: Any,
) -> tuple[np.ndarray, bool, PoolGeometry, np.ndarray]:
    """Validate; return the batched input, the geometry and the divisor of every window."""
    xb, unbatched, _ = _split_batch(
        x, func, kernel_size=kernel_size, stride=stride, padding=padding
    )
    g = pool_geometry(xb.shape[2:], kernel_size, stride, padding, 1, ceil_mode, func=func)
    if not isinstance(count_include_pad, bool):
        raise TypeError(f"{func}: count_include_pad={count_include_pad!r} must be a bool")
    if divisor_override is not None:
        divisor_override = check_int(divisor_override, "divisor_override", func)
        if divisor_override == 0:
            raise ShapeError(f"{func}: divisor_override=0 must be a nonzero integer (or None)")
        return xb, unbatched, g, np.full(g.output_size, divisor_override, dtype=np.int64)
    # PyTorch: the window [o*s - p, min(o*s - p + k, L + p)) counts padding (pool_size);
    # clipped to [0, L) it counts only input elements
    sizes, counts = [], []
    for size, k, s, p, o in zip(g.size, g.kernel_size, g.stride, g.padding, g.output_size,
                                strict=True):
        start = np.arange(o, dtype=np.int64) * s - p
        end = np.minimum(start + k, size + p)
        sizes.append(end - start)
        counts.append(np.minimum(end, size) - np.maximum(start, 0))
    return xb, unbatched, g, _product(sizes if count_include_pad else counts)


def avg_pool(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Average pooling (1-d, 2-d or 3-d) with PyTorch's exact divisors (``F.avg_pool{1,2,3}d``).

    Parameters
    ----------
    x : (N, C, *spatial) or (C, *spatial) ndarray
        float32 or float64 input; the number of spatial dimensions is read as in
        :func:`max_pool`.
    kernel_size : int or tuple of int
        Window size ``k``.
    stride : int or tuple of int, optional
        Window step ``s``; defaults to ``kernel_size``.
    padding : int or tuple of int
        Implicit zero padding ``p`` on both sides, at most ``kernel_size // 2``.
    ceil_mode : bool
        Round the output size up (a window starting in the right padding is dropped).
    count_include_pad : bool
        Count the zeros of the explicit padding in the divisor.
    divisor_override : int, optional
        Divide every window sum by this nonzero integer instead.

    Returns
    -------
    (N, C, *out) or (C, *out) ndarray
        Same dtype as ``x``; ``out = floor_or_ceil((L + 2p - k) / s) + 1`` per dimension.

    Raises
    ------
    ShapeError
        For a bad rank, ``padding > kernel_size // 2``, an empty output or
        ``divisor_override=0``.

    See Also
    --------
    avg_pool_backward : the gradient w.r.t. ``x`` (spreads each gradient over its window).
    max_pool : max pooling.

    Notes
    -----
    Per dimension the window of output ``o`` is ``[o*s - p, min(o*s - p + k, L + p))``; its
    length is PyTorch's ``pool_size`` and the product over dimensions is the divisor when
    ``count_include_pad`` is true.  Otherwise the divisor is the number of input elements in
    the window (the window clipped to ``[0, L)``).  The part of a ceil-mode window that sticks
    out past the right padding is never counted.  PyTorch's ``avg_pool3d`` (not 1-d or 2-d)
    also rejects an input smaller than the kernel even when the padding makes the window fit;
    upconv accepts it in every dimensionality.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> avg_pool(x, 2, padding=1)
    array([[[0. , 1.5, 3.5]]])
    >>> avg_pool(x, 2, padding=1, count_include_pad=False)
    array([[[0. , 1.5, 3.5]]])
    >>> avg_pool(x, 3, stride=2, padding=1, count_include_pad=False)
    array([[[0.5, 2. , 3.5]]])
    >>> avg_pool(x, 3, stride=2, padding=1)
    array([[[0.33333333, 2.        , 2.33333333]]])
    """
    func = "avg_pool"
    xb, unbatched, g, divisor = _avg_pool_setup(
        x, func, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    xp = np.pad(xb, _pad_widths(g))
    total = np.zeros((*xb.shape[:2], *g.output_size), dtype=xb.dtype)
    for tap in np.ndindex(*g.kernel_size):
        total += xp[_tap_slices(g, tap)]
    return _unbatch((total / divisor).astype(xb.dtype, copy=False), unbatched)


def avg_pool_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Gradient of :func:`avg_pool` w.r.t. ``x``.

    Parameters
    ----------
    grad_output : (N, C, *out) or (C, *out) ndarray
        Gradient w.r.t. the output of ``avg_pool(x, ...)``.
    x : (N, C, *spatial) or (C, *spatial) ndarray
        The forward input (only its shape and dtype are used).
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As in :func:`avg_pool`.

    Returns
    -------
    (N, C, *spatial) or (C, *spatial) ndarray
        Same shape and dtype as ``x``.

    See Also
    --------
    avg_pool : the forward op.

    Notes
    -----
    ``grad_x[i] = sum over the windows o containing i of grad_output[o] / divisor[o]``: each
    output gradient is spread evenly over its window (the share that falls on padding is
    dropped).

    Examples
    --------
    >>> x = np.zeros((1, 1, 5))
    >>> avg_pool_backward(np.ones((1, 1, 2)), x, 3, stride=2)
    array([[[0.33333333, 0.33333333, 0.66666667, 0.33333333, 0.33333333]]])
    """
    func = "avg_pool_backward"
    xb, unbatched, g, divisor = _avg_pool_setup(
        x, func, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    n, c = xb.shape[:2]
    out_shape = (n, c, *g.output_size)
    grad = _check_grad(grad_output, out_shape[1:] if unbatched else out_shape, func)
    share = grad.reshape(out_shape) / divisor
    widths = _pad_widths(g)
    padded = np.zeros(
        tuple(size + before + after for size, (before, after) in zip(xb.shape, widths,
                                                                      strict=True)),
        dtype=np.result_type(xb.dtype, share.dtype),
    )
    for tap in np.ndindex(*g.kernel_size):
        padded[_tap_slices(g, tap)] += share  # one tap's windows never overlap
    crop: tuple[Any, ...] = (Ellipsis,) + tuple(
        slice(p, p + size) for p, size in zip(g.padding, g.size, strict=True)
    )
    return _unbatch(padded[crop].astype(xb.dtype), unbatched)
