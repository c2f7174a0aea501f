"""Pixel shuffle (sub-pixel upsampling) and its inverse, PyTorch's channel order (CRD).

``pixel_shuffle`` moves ``r**d`` channels into an ``r × … × r`` block of space; with ``d = 2``
``out[..., c, h*r + i, w*r + j] = in[..., c*r*r + i*r + j, h, w]``, exactly PyTorch's
``F.pixel_shuffle`` (ONNX ``DepthToSpace`` with ``mode="CRD"``; TensorFlow's ``depth_to_space``
uses the other order, DCR).  Both functions are permutations, so each one's gradient is the
other one.

PyTorch only has the 2-d form: any number of leading dimensions, the last three read as
``(C, H, W)``.  That is the default here too.  ``ndim=1`` and ``ndim=3`` are upconv's
extension (the same CRD order with ``r`` or ``r**3`` channels per output channel); they must be
asked for explicitly, because a rank-4 array would otherwise be ambiguous.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .._validate import ShapeError, check_int, float_array
from ._parallel import split_planes


def _check(
    x: Any, factor: Any, ndim: Any, func: str, factor_name: str
) -> tuple[np.ndarray, int, int]:
    """Validate ``x``, the factor and ``ndim``; return them as an array and two ints."""
    x = float_array(x, "x", func)
    r = check_int(factor, factor_name, func, minimum=1)
    ndim = check_int(ndim, "ndim", func)
    if ndim not in (1, 2, 3):
        raise ShapeError(
            f"{func}: ndim={ndim} must be 1, 2 or 3 (the number of spatial dimensions)"
        )
    if x.ndim < ndim + 1:
        layout = {1: "(*, C, L)", 2: "(*, C, H, W)", 3: "(*, C, D, H, W)"}[ndim]
        raise ShapeError(
            f"{func}: x has shape {x.shape} (rank {x.ndim}); with ndim={ndim} it needs at least "
            f"{ndim + 1} dimensions {layout}"
        )
    return x, r, ndim


def _fresh(out: np.ndarray, x: np.ndarray) -> np.ndarray:
    # r == 1 reshapes to a view; the result must never alias the caller's array
    return out.copy() if np.may_share_memory(out, x) else out


def pixel_shuffle(x: np.ndarray, upscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    """Rearrange ``(*, C·r^d, *spatial)`` to ``(*, C, *spatial·r)``, like ``F.pixel_shuffle``.

    Parameters
    ----------
    x : (*, C*r**ndim, *spatial) ndarray
        float32 or float64; any number of leading dimensions (including none), then channels,
        then `ndim` spatial dimensions.
    upscale_factor : int
        ``r >= 1``.
    ndim : {2, 1, 3}, keyword-only
        Number of spatial dimensions.  2 (the default) is PyTorch's ``F.pixel_shuffle``;
        1 and 3 are upconv's extension with the same channel order.

    Returns
    -------
    out : (*, C, *spatial*r) ndarray
        Same dtype as `x`; every spatial size multiplied by ``r``, channels divided by
        ``r**ndim``.

    Raises
    ------
    ShapeError
        If the channels are not divisible by ``r**ndim``, ``r < 1``, or `x` has fewer than
        ``ndim + 1`` dimensions.
    TypeError
        For a non-float `x` or a non-integer `upscale_factor`.

    See Also
    --------
    pixel_unshuffle : the inverse (and the gradient of this permutation).
    pixel_shuffle_backward : the gradient w.r.t. `x`.
    conv_transpose : sub-pixel convolution (conv then pixel_shuffle) equals a stride-r
        transposed convolution.

    Notes
    -----
    Channel order CRD: for ``ndim=2``,
    ``out[..., c, h*r + i, w*r + j] = x[..., c*r**2 + i*r + j, h, w]``; in general the in-block
    offsets ``(i_1, …, i_d)`` are the channel's low base-``r`` digits, most significant first.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 4, 1, 2)
    >>> pixel_shuffle(x, 2)[0, 0]
    array([[0., 2., 1., 3.],
           [4., 6., 5., 7.]])
    >>> pixel_shuffle(np.arange(6.0).reshape(3, 2), 3, ndim=1)
    array([[0., 2., 4., 1., 3., 5.]])
    """
    func = "pixel_shuffle"
    x, r, d = _check(x, upscale_factor, ndim, func, "upscale_factor")
    lead, channels, spatial = x.shape[: -d - 1], x.shape[-d - 1], x.shape[-d:]
    if channels % r**d:
        raise ShapeError(
            f"{func}: x has {channels} channels (axis {x.ndim - d - 1} of shape {x.shape}), "
            f"which is not divisible by upscale_factor**{d} = {r**d}"
        )
    # (B, C, r_1..r_d, s_1..s_d) -> (B, C, s_1, r_1, ..., s_d, r_d), leading axes as one B
    c = channels // r**d
    src = x.reshape(math.prod(lead), c, *(r,) * d, *spatial)
    out = np.empty((src.shape[0], c, *(s * r for s in spatial)), dtype=x.dtype)
    dst = out.reshape(src.shape[0], c, *(v for s in spatial for v in (s, r)))
    _copy_phases(src, dst, r, d, up=True)
    return out.reshape(*lead, c, *(s * r for s in spatial))


def pixel_unshuffle(x: np.ndarray, downscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    """Rearrange ``(*, C, *spatial·r)`` to ``(*, C·r^d, *spatial)``, like ``F.pixel_unshuffle``.

    Parameters
    ----------
    x : (*, C, *spatial) ndarray
        float32 or float64; any number of leading dimensions (including none), then channels,
        then `ndim` spatial dimensions, each divisible by ``r``.
    downscale_factor : int
        ``r >= 1``.
    ndim : {2, 1, 3}, keyword-only
        Number of spatial dimensions.  2 (the default) is PyTorch's ``F.pixel_unshuffle``;
        1 and 3 are upconv's extension with the same channel order.

    Returns
    -------
    out : (*, C*r**ndim, *spatial/r) ndarray
        Same dtype as `x`; every spatial size divided by ``r``, channels multiplied by
        ``r**ndim``.

    Raises
    ------
    ShapeError
        If a spatial size is not divisible by ``r``, ``r < 1``, or `x` has fewer than
        ``ndim + 1`` dimensions.
    TypeError
        For a non-float `x` or a non-integer `downscale_factor`.

    See Also
    --------
    pixel_shuffle : the inverse (and the gradient of this permutation).
    pixel_unshuffle_backward : the gradient w.r.t. `x`.

    Notes
    -----
    For ``ndim=2``, ``out[..., c*r**2 + i*r + j, h, w] = x[..., c, h*r + i, w*r + j]``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> pixel_unshuffle(x, 2)[0, :, 0]
    array([[0., 2.],
           [1., 3.],
           [4., 6.],
           [5., 7.]])
    """
    func = "pixel_unshuffle"
    x, r, d = _check(x, downscale_factor, ndim, func, "downscale_factor")
    lead, channels, spatial = x.shape[: -d - 1], x.shape[-d - 1], x.shape[-d:]
    for axis, s in enumerate(spatial):
        if s % r:
            raise ShapeError(
                f"{func}: x has shape {x.shape}; spatial dimension {axis} (size {s}) is not "
                f"divisible by downscale_factor={r}"
            )
    # (B, C, s_1, r_1, ..., s_d, r_d) -> (B, C, r_1..r_d, s_1..s_d), leading axes as one B
    small = tuple(s // r for s in spatial)
    src = x.reshape(math.prod(lead), channels, *(v for s in small for v in (s, r)))
    out = np.empty((src.shape[0], channels * r**d, *small), dtype=x.dtype)
    dst = out.reshape(src.shape[0], channels, *(r,) * d, *small)
    _copy_phases(dst, src, r, d, up=False)
    return out.reshape(*lead, channels * r**d, *small)


def _copy_phases(packed: np.ndarray, spread: np.ndarray, r: int, d: int, up: bool) -> None:
    """Copy between ``packed (B, C, r..r, *s)`` and ``spread (B, C, s_1, r, ..., s_d, r)``.

    One copy per sub-pixel phase ``(i_1..i_d)``: a whole contiguous ``(*s)`` plane on the
    packed side, every r-th element on the spread side.  Long inner loops, unlike a copy
    through a 2d+2-axis transpose whose innermost axis has length r; split over threads.
    """
    def run(chunk: tuple[slice, ...]) -> None:
        for phase in itertools.product(range(r), repeat=d):
            at: tuple[Any, ...] = (slice(None), slice(None), *phase)
            bt: tuple[Any, ...] = (slice(None), slice(None),
                                   *(v for i in phase for v in (slice(None), i)))
            a, b = packed[chunk][at], spread[chunk][bt]
            if up:
                b[...] = a
            else:
                a[...] = b

    split_planes(packed.shape, packed.size, run)


def _check_grad(grad_output: Any, shape: tuple[int, ...], func: str) -> np.ndarray:
    grad_output = float_array(grad_output, "grad_output", func)
    if grad_output.shape != shape:
        raise ShapeError(
            f"{func}: grad_output has shape {grad_output.shape} but the forward output has shape "
            f"{shape}"
        )
    return grad_output


def _shuffled_shape(shape: tuple[int, ...], r: int, d: int, up: bool) -> tuple[int, ...]:
    lead, channels, spatial = shape[: -d - 1], shape[-d - 1], shape[-d:]
    if up:
        return (*lead, channels // r**d, *(s * r for s in spatial))
    return (*lead, channels * r**d, *(s // r for s in spatial))


def pixel_shuffle_backward(
    grad_output: np.ndarray, x: np.ndarray, upscale_factor: int, *, ndim: int = 2
) -> np.ndarray:
    """Gradient of :func:`pixel_shuffle` w.r.t. `x`: the inverse permutation.

    Parameters
    ----------
    grad_output : (*, C, *spatial*r) ndarray
        Gradient w.r.t. ``pixel_shuffle(x, upscale_factor, ndim=ndim)``.
    x : (*, C*r**ndim, *spatial) ndarray
        The forward input; only its shape and dtype are used.
    upscale_factor : int
        ``r``, as in the forward call.
    ndim : {2, 1, 3}, keyword-only
        As in the forward call.

    Returns
    -------
    grad_input : (*, C*r**ndim, *spatial) ndarray
        ``pixel_unshuffle(grad_output, r, ndim=ndim)``, with `x`'s shape and dtype.

    Raises
    ------
    ShapeError
        For the errors of :func:`pixel_shuffle`, or a `grad_output` whose shape is not the
        forward output's.
    TypeError
        For non-float arrays or a non-integer factor.

    See Also
    --------
    pixel_shuffle : the forward operation.
    pixel_unshuffle : the same permutation as a forward operation.

    Notes
    -----
    A permutation's transpose is its inverse, so ``grad_input = pixel_unshuffle(grad_output)``.

    Examples
    --------
    >>> x = np.zeros((1, 4, 1, 1))
    >>> pixel_shuffle_backward(np.arange(4.0).reshape(1, 1, 2, 2), x, 2).ravel()
    array([0., 1., 2., 3.])
    """
    func = "pixel_shuffle_backward"
    x, r, d = _check(x, upscale_factor, ndim, func, "upscale_factor")
    if x.shape[-d - 1] % r**d:
        raise ShapeError(
            f"{func}: x has {x.shape[-d - 1]} channels (axis {x.ndim - d - 1} of shape "
            f"{x.shape}), which is not divisible by upscale_factor**{d} = {r**d}"
        )
    grad = _check_grad(grad_output, _shuffled_shape(x.shape, r, d, up=True), func)
    out = pixel_unshuffle(grad, r, ndim=d)
    return _fresh(out.astype(x.dtype, copy=False), grad_output)


def pixel_unshuffle_backward(
    grad_output: np.ndarray, x: np.ndarray, downscale_factor: int, *, ndim: int = 2
) -> np.ndarray:
    """Gradient of :func:`pixel_unshuffle` w.r.t. `x`: the inverse permutation.

    Parameters
    ----------
    grad_output : (*, C*r**ndim, *spatial/r) ndarray
        Gradient w.r.t. ``pixel_unshuffle(x, downscale_factor, ndim=ndim)``.
    x : (*, C, *spatial) ndarray
        The forward input; only its shape and dtype are used.
    downscale_factor : int
        ``r``, as in the forward call.
    ndim : {2, 1, 3}, keyword-only
        As in the forward call.

    Returns
    -------
    grad_input : (*, C, *spatial) ndarray
        ``pixel_shuffle(grad_output, r, ndim=ndim)``, with `x`'s shape and dtype.

    Raises
    ------
    ShapeError
        For the errors of :func:`pixel_unshuffle`, or a `grad_output` whose shape is not the
        forward output's.
    TypeError
        For non-float arrays or a non-integer factor.

    See Also
    --------
    pixel_unshuffle : the forward operation.
    pixel_shuffle : the same permutation as a forward operation.

    Notes
    -----
    A permutation's transpose is its inverse, so ``grad_input = pixel_shuffle(grad_output)``.

    Examples
    --------
    >>> x = np.zeros((1, 1, 2, 2))
    >>> pixel_unshuffle_backward(np.arange(4.0).reshape(1, 4, 1, 1), x, 2)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    func = "pixel_unshuffle_backward"
    x, r, d = _check(x, downscale_factor, ndim, func, "downscale_factor")
    for axis, s in enumerate(x.shape[-d:]):
        if s % r:
            raise ShapeError(
                f"{func}: x has shape {x.shape}; spatial dimension {axis} (size {s}) is not "
                f"divisible by downscale_factor={r}"
            )
    grad = _check_grad(grad_output, _shuffled_shape(x.shape, r, d, up=False), func)
    out = pixel_shuffle(grad, r, ndim=d)
    return _fresh(out.astype(x.dtype, copy=False), grad_output)
