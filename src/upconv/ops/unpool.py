"""Unpooling: switch (max) unpooling and bed-of-nails un-pooling, and their input gradients.

*Max unpooling* (Zeiler & Fergus's deconvnet, PyTorch's ``F.max_unpool{1,2,3}d``) places each
value at the position its max-pooling window took its maximum from, recorded as *switches*
(the ``indices`` of :func:`upconv.max_pool`), and zeros everywhere else.

*Bed of nails* un-pooling (Dosovitskiy et al. 2015) needs no switches: each value is copied to
one fixed position of its ``k``-sized region (the top-left corner, so coordinate ``i`` goes to
``i*k``), or to a random one.  It is max unpooling with synthetic switches, which
:func:`unpool` can return.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._validate import ShapeError, _show, per_dim
from . import _numba
from ._parallel import run_chunks
from .pool import _check_grad, _plane_strides, _split_batch, _unbatch

_POSITIONS = ("top-left", "center", "random")


# ---------------------------------------------------------------------------------------------
# Max (switch) unpooling


def _unpool_size(
    xb: np.ndarray,
    unbatched: bool,
    ndim: int,
    func: str,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    output_size: Any,
) -> tuple[int, ...]:
    """Resolve the spatial output size, checking ``output_size`` as PyTorch does."""
    k = per_dim(kernel_size, ndim, "kernel_size", func)
    s = k if stride is None else per_dim(stride, ndim, "stride", func)
    p = per_dim(padding, ndim, "padding", func, minimum=0)
    size = xb.shape[2:]
    default = tuple((i - 1) * st - 2 * pd + kk for i, st, pd, kk in zip(size, s, p, k,
                                                                         strict=True))
    if output_size is None:
        for axis, o in enumerate(default):
            if o < 1:
                raise ShapeError(
                    f"{func}: the output would be empty: in dimension {axis} (L-1)*stride - "
                    f"2*padding + kernel_size = ({size[axis]}-1)*{s[axis]} - 2*{p[axis]} + "
                    f"{k[axis]} = {o}"
                )
        return default
    if isinstance(output_size, np.ndarray) and output_size.ndim == 1:
        output_size = output_size.tolist()
    if isinstance(output_size, int) and not isinstance(output_size, bool) and ndim == 1:
        output_size = (output_size,)
    lead = xb.shape[1:2] if unbatched else xb.shape[:2]
    if not isinstance(output_size, list | tuple) or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in output_size
    ):
        raise TypeError(
            f"{func}: output_size={_show(output_size)} must be a tuple of ints (the spatial "
            "size, optionally preceded by the N and C of the output)"
        )
    if len(output_size) == ndim + len(lead):
        if tuple(output_size[: len(lead)]) != lead:
            raise ShapeError(
                f"{func}: output_size={_show(output_size)} starts with "
                f"{_show(tuple(output_size[: len(lead)]))} but x's leading dimensions are "
                f"{_show(lead)}; give the spatial size alone or the full output shape"
            )
        output_size = output_size[len(lead):]
    if len(output_size) != ndim:
        raise ShapeError(
            f"{func}: output_size={_show(output_size)} has {len(output_size)} values; give the "
            f"{ndim} spatial size{'s' if ndim != 1 else ''} or the full output shape of "
            f"{ndim + len(lead)} values"
        )
    for axis, (o, dflt, st) in enumerate(zip(output_size, default, s, strict=True)):
        low, high = max(1, dflt - st + 1), dflt + st - 1
        if not low <= o <= high:
            raise ShapeError(
                f"{func}: requested an output size of {_show(tuple(output_size))}, but in "
                f"dimension {axis} valid sizes range from {low} to {high} (the default "
                f"(L-1)*stride - 2*padding + kernel_size = {dflt}, plus or minus less than "
                f"stride={st}) for input size {size[axis]}"
            )
    return tuple(int(o) for o in output_size)


def _check_indices(
    indices: Any, xb: np.ndarray, unbatched: bool, func: str
) -> np.ndarray:
    """Validate the switches: an integer array shaped like ``x``; returned batched."""
    if not isinstance(indices, np.ndarray):
        raise TypeError(f"{func}: indices must be a NumPy integer array, not "
                        f"{type(indices).__name__}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(
            f"{func}: indices has dtype {indices.dtype}; switch indices must be integers "
            "(int64, as max_pool(..., return_indices=True) returns)"
        )
    shape = xb.shape[1:] if unbatched else xb.shape
    if indices.shape != shape:
        raise ShapeError(
            f"{func}: indices has shape {indices.shape} but x has shape {shape}; each value "
            "needs exactly one switch"
        )
    return indices.reshape(xb.shape)


def _out_of_range(indices: np.ndarray, plane: int, func: str) -> ShapeError:
    """The error for the first switch outside ``[0, plane)`` (``indices`` has one)."""
    flat = indices.reshape(-1)
    bad = (flat < 0) | (flat >= plane)
    pos = np.unravel_index(int(np.argmax(bad)), indices.shape)
    value = int(indices[pos])
    return ShapeError(
        f"{func}: indices holds {value} at position {tuple(int(v) for v in pos)}, "
        f"outside the output plane of {plane} elements (valid indices 0 to {plane - 1})"
    )


# Output elements per step of a scatter or gather (4 MiB of float32).  A step checks its
# switches, computes their flat indices, zeroes its block and
# scatters: one NumPy call each.  Smaller steps would keep more in cache but measured slower
# on two threads (each call boundary is a chance to wait for the GIL).
STEP_ELEMENTS = 1 << 20


def _steps(chunk: slice, plane: int) -> Iterator[tuple[int, int]]:
    step = max(1, STEP_ELEMENTS // max(plane, 1))
    for a in range(chunk.start, chunk.stop, step):
        yield a, min(chunk.stop, a + step)


def _outside(part: np.ndarray, plane: int) -> bool:
    # Whether any switch lies outside [0, plane): one pass for signed integers, whose
    # negative values read as unsigned are huge.
    if not part.size:
        return False
    if part.dtype.kind == "i":
        part = part.view(part.dtype.str.replace("i", "u"))
    return int(part.max()) >= plane


class _OutOfRange(Exception):
    """A switch outside its plane (raised in a worker thread, reported by the caller)."""


def _flat(cols: np.ndarray, a: int, b: int, plane: int) -> np.ndarray:
    # Switch j of plane r (counted from a) is element r*plane + j of the block of planes
    # [a, b); every switch is checked to lie inside its own plane first.
    part = cols[a:b]
    if _outside(part, plane):
        raise _OutOfRange
    rows = np.arange(0, (b - a) * plane, plane, dtype=np.intp)[:, None]
    return np.add(part, rows, dtype=np.intp, casting="unsafe").reshape(-1)  # all checked


def _run_checked(indices: np.ndarray, plane: int, func: str, work: int,
                 fn: Callable[[slice], None]) -> None:
    # run_chunks over the (N*C) planes; a switch out of range raises the ShapeError.
    n, c = indices.shape[:2]
    try:
        run_chunks(n * c, work, fn)
    except _OutOfRange:
        raise _out_of_range(indices, plane, func) from None


def _scatter(
    xb: np.ndarray, indices: np.ndarray, out_size: tuple[int, ...], func: str
) -> np.ndarray:
    n, c = xb.shape[:2]
    plane = math.prod(out_size)
    cols = indices.reshape(n * c, -1)
    values = xb.reshape(n * c, -1)
    if _numba.available():  # one compiled pass per plane, no index arrays
        done = _numba.unpool_scatter(values, cols, plane)
        if done is None:
            raise _out_of_range(indices, plane, func)
        return done.reshape(n, c, *out_size)
    out = np.empty((n * c, plane), dtype=xb.dtype)

    def run(chunk: slice) -> None:  # a block of planes, in its own thread
        for a, b in _steps(chunk, plane):
            block = out[a:b]
            flat = _flat(cols, a, b, plane)
            block.view(np.uint8).fill(0)  # a memset: 0.0 is all zero bytes
            block.reshape(-1)[flat] = values[a:b].reshape(-1)

    _run_checked(indices, plane, func, out.size, run)
    return out.reshape(n, c, *out_size)


def _gather(
    grad: np.ndarray, indices: np.ndarray, out_size: tuple[int, ...], dtype: Any, func: str
) -> np.ndarray:
    n, c = indices.shape[:2]
    plane = math.prod(out_size)
    cols = indices.reshape(n * c, -1)
    source = np.ascontiguousarray(grad).reshape(n * c, plane)
    if _numba.available():
        done = _numba.unpool_gather(source, cols, dtype)
        if done is None:
            raise _out_of_range(indices, plane, func)
        return done.reshape(indices.shape)
    out = np.empty(cols.shape, dtype=dtype)

    def run(chunk: slice) -> None:
        for a, b in _steps(chunk, plane):
            flat = _flat(cols, a, b, plane)
            out[a:b] = source[a:b].reshape(-1)[flat].reshape(b - a, -1)

    _run_checked(indices, plane, func, cols.size, run)
    return out.reshape(indices.shape)


def max_unpool(
    x: np.ndarray,
    indices: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> np.ndarray:
    """Max unpooling (1-d, 2-d or 3-d): each value goes back to its switch, zeros elsewhere.

    PyTorch's ``F.max_unpool{1,2,3}d``; the unpooling of Zeiler & Fergus's deconvnet.

    Parameters
    ----------
    x : (N, C, *spatial) or (C, *spatial) ndarray
        float32 or float64 values, typically the (processed) output of a max pooling.  The
        number of spatial dimensions is read as in :func:`max_pool` (a tuple ``kernel_size``
        fixes it; otherwise rank 3, 4, 5 is batched and rank 2 unbatched 1-d).
    indices : ndarray of int, same shape as x
        The switches: flat indices into each ``(N, C)`` plane of the output, as returned by
        ``max_pool(..., return_indices=True)``.
    kernel_size : int or tuple of int
        The pooling window ``k``.
    stride : int or tuple of int, optional
        The pooling stride ``s``; defaults to ``kernel_size``.
    padding : int or tuple of int
        The pooling padding ``p``.
    output_size : tuple of int, optional
        The spatial output size (optionally preceded by N and C), e.g. the pooled input's
        size when the default is ambiguous; each entry must lie strictly between
        ``default - s`` and ``default + s``.

    Returns
    -------
    (N, C, *out) or (C, *out) ndarray
        Same dtype as ``x``; ``out = (L-1)*s - 2p + k`` per dimension unless ``output_size``
        is given.

    Raises
    ------
    ShapeError
        For an unreachable ``output_size`` (the message quotes the valid range), indices of
        the wrong shape or outside ``[0, prod(out))``, or a bad rank.
    TypeError
        For non-integer ``indices`` or a non-float ``x``.

    See Also
    --------
    max_pool : produces the switches (``return_indices=True``).
    max_unpool_backward : the gradient w.r.t. ``x`` (a gather at the switches).
    unpool : unpooling with fixed or random positions instead of switches.

    Notes
    -----
    ``out_plane.flat[indices[i]] = x[i]`` for every input element ``i`` of every ``(N, C)``
    plane.  When an index repeats (overlapping pooling windows that chose the same element)
    the last value in C order wins; PyTorch leaves that case nondeterministic.

    Examples
    --------
    Seed 002: max pooling records the switches, unpooling puts new values there.

    >>> import upconv
    >>> a = np.array([[1., 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]])
    >>> pooled, switches = upconv.max_pool(a[None, None], 2, return_indices=True)
    >>> pooled[0, 0]
    array([[4., 4.],
           [4., 4.]])
    >>> switches[0, 0]
    array([[ 5,  2],
           [ 9, 14]])
    >>> max_unpool(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), switches, 2)[0, 0]
    array([[0., 0., 2., 0.],
           [0., 1., 0., 0.],
           [0., 3., 0., 0.],
           [0., 0., 4., 0.]])
    """
    func = "max_unpool"
    xb, unbatched, ndim = _split_batch(x, func, kernel_size=kernel_size, stride=stride,
                                       padding=padding)
    ib = _check_indices(indices, xb, unbatched, func)
    out_size = _unpool_size(xb, unbatched, ndim, func, kernel_size, stride, padding,
                            output_size)
    return _unbatch(_scatter(xb, ib, out_size, func), unbatched)


def max_unpool_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    indices: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> np.ndarray:
    """Gradient of :func:`max_unpool` w.r.t. ``x``: ``grad_output`` read at the switches.

    Parameters
    ----------
    grad_output : (N, C, *out) or (C, *out) ndarray
        Gradient w.r.t. the output of ``max_unpool(x, indices, ...)``.
    x : (N, C, *spatial) or (C, *spatial) ndarray
        The forward input (its shape and dtype are used).
    indices : ndarray of int, same shape as x
        The switches.
    kernel_size, stride, padding, output_size
        As in :func:`max_unpool`.

    Returns
    -------
    (N, C, *spatial) or (C, *spatial) ndarray
        Same shape and dtype as ``x``.  (The switches are integers and get no gradient.)

    See Also
    --------
    max_unpool : the forward op.
    max_pool_backward : the opposite direction, a scatter-add through the same switches.

    Notes
    -----
    ``grad_x[i] = grad_out_plane.flat[indices[i]]``, a gather; like PyTorch, every input
    element reads its switch even when an index repeats.

    Examples
    --------
    >>> g = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> idx = np.array([[[[5, 2], [9, 14]]]])
    >>> max_unpool_backward(g, np.zeros((1, 1, 2, 2)), idx, 2)
    array([[[[ 5.,  2.],
             [ 9., 14.]]]])
    """
    func = "max_unpool_backward"
    xb, unbatched, ndim = _split_batch(x, func, kernel_size=kernel_size, stride=stride,
                                       padding=padding)
    ib = _check_indices(indices, xb, unbatched, func)
    out_size = _unpool_size(xb, unbatched, ndim, func, kernel_size, stride, padding,
                            output_size)
    out_shape = (*xb.shape[:2], *out_size)
    grad = _check_grad(grad_output, out_shape[1:] if unbatched else out_shape, func)
    return _unbatch(_gather(grad, ib, out_size, xb.dtype, func), unbatched)


# ---------------------------------------------------------------------------------------------
# Bed of nails / Dosovitskiy un-pooling


def _rng(rng: Any, func: str) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{func}: rng={rng!r} must be None, an int seed or a numpy.random.Generator, not "
        f"{type(rng).__name__}"
    )


def _nail_indices(
    xb: np.ndarray, kernel_size: Any, ndim: int, position: Any, rng: Any, func: str
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Synthetic switches of bed-of-nails un-pooling, and the output spatial size ``L*k``."""
    k = per_dim(kernel_size, ndim, "kernel_size", func)
    if not isinstance(position, str) or position not in _POSITIONS:
        raise ShapeError(
            f"{func}: position={position!r} is not one of {{'top-left', 'center', 'random'}}"
        )
    size = xb.shape[2:]
    out_size = tuple(i * kk for i, kk in zip(size, k, strict=True))
    strides = _plane_strides(out_size)
    offsets: tuple[Any, ...]
    if position == "random":
        # one uniform draw per value: its offset inside its own k-region
        offsets = np.unravel_index(_rng(rng, func).integers(0, math.prod(k), size=xb.shape), k)
    else:
        offsets = tuple(np.intp(0 if position == "top-left" else kk // 2) for kk in k)
    index = np.zeros(xb.shape, dtype=np.int64)
    for axis in range(ndim):
        # value at coordinate i of this dimension goes to i*k + offset
        coord = np.arange(size[axis], dtype=np.int64) * k[axis]
        coord = coord.reshape((-1,) + (1,) * (ndim - axis - 1))
        index += (coord + offsets[axis]) * strides[axis]
    return index, out_size


def unpool(
    x: np.ndarray,
    kernel_size: Any,
    *,
    position: str = "top-left",
    rng: int | np.random.Generator | None = None,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Bed-of-nails un-pooling: each value at one position of its ``k``-region, zeros elsewhere.

    Dosovitskiy et al.'s "un-pooling" (2015): the inverse of a ``k``-sized, stride-``k`` max
    pooling under the assumption that every maximum sits in the same corner of its window.

    Parameters
    ----------
    x : (N, C, *spatial) or (C, *spatial) ndarray
        float32 or float64 input; the number of spatial dimensions is read as in
        :func:`max_pool` (a tuple ``kernel_size`` fixes it).
    kernel_size : int or tuple of int
        Region size ``k`` (the upsampling factor) per dimension.
    position : {'top-left', 'center', 'random'}
        Where each value goes inside its region: offset 0 (the Deep Learning book's rule
        "coordinate ``i`` goes to ``i*k``"), offset ``k // 2`` in every dimension (the centre
        for odd ``k``; for even ``k`` the cell just below and right of the centre), or a
        uniformly random cell drawn independently for every value.
    rng : int or numpy.random.Generator, optional
        Source of the random positions (``position='random'`` only; ignored otherwise).  An
        int seed makes the positions reproducible; a Generator is advanced by each call;
        ``None`` draws fresh OS entropy.
    return_indices : bool
        Also return the positions as switches, so that
        ``max_unpool(x, indices, kernel_size)`` reproduces the output.

    Returns
    -------
    out : (N, C, *out) or (C, *out) ndarray
        Same dtype as ``x``; ``out = L*k`` per dimension.
    indices : ndarray of int64, same shape as x
        Only with ``return_indices``: flat indices into each ``(N, C)`` plane of ``out``.

    Raises
    ------
    ShapeError
        For an unknown ``position`` or a bad rank.
    TypeError
        For a non-float ``x`` or a bad ``rng``.

    See Also
    --------
    unpool_backward : the gradient w.r.t. ``x`` (reads the same positions).
    max_unpool : unpooling at recorded switches.
    max_pool : the pooling it inverts when every maximum is at ``position``.

    Notes
    -----
    ``out[..., i*k + r] = x[..., i]`` per dimension, with ``r = 0`` ('top-left'),
    ``r = k // 2`` ('center') or ``r`` uniform in ``[0, k)`` per value ('random'); every
    other element is zero.  It equals :func:`max_unpool` with ``stride = kernel_size``,
    ``padding = 0`` and these synthetic switches.

    Examples
    --------
    Bed of nails (seeds 000 and 002):

    >>> x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> unpool(x, 2)[0, 0]
    array([[1., 0., 2., 0.],
           [0., 0., 0., 0.],
           [3., 0., 4., 0.],
           [0., 0., 0., 0.]])
    >>> unpool(np.arange(1.0, 3.0).reshape(1, 1, 2), 3, position="center")
    array([[[0., 1., 0., 0., 2., 0.]]])
    """
    func = "unpool"
    xb, unbatched, ndim = _split_batch(x, func, kernel_size=kernel_size)
    if not isinstance(return_indices, bool):
        raise TypeError(f"{func}: return_indices={return_indices!r} must be a bool")
    index, out_size = _nail_indices(xb, kernel_size, ndim, position, rng, func)
    out = _unbatch(_scatter(xb, index, out_size, func), unbatched)
    if return_indices:
        return out, _unbatch(index, unbatched)
    return out


def unpool_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    kernel_size: Any,
    *,
    position: str = "top-left",
    rng: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Gradient of :func:`unpool` w.r.t. ``x``: ``grad_output`` read at the same positions.

    Parameters
    ----------
    grad_output : (N, C, *out) or (C, *out) ndarray
        Gradient w.r.t. the output of ``unpool(x, kernel_size, ...)`` (``out = L*k``).
    x : (N, C, *spatial) or (C, *spatial) ndarray
        The forward input (its shape and dtype are used).
    kernel_size, position
        As in :func:`unpool`.
    rng : int or numpy.random.Generator, optional
        For ``position='random'``: pass the *same int seed* as to the forward call to read
        the same positions.  A Generator instance is consumed by every draw, so handing the
        forward's Generator to the backward gives different positions; or get the switches
        with ``unpool(..., return_indices=True)`` and use :func:`max_unpool_backward`.

    Returns
    -------
    (N, C, *spatial) or (C, *spatial) ndarray
        Same shape and dtype as ``x``.

    See Also
    --------
    unpool : the forward op.
    max_unpool_backward : the same gather for recorded switches.

    Notes
    -----
    ``grad_x[..., i] = grad_output[..., i*k + r]`` per dimension, with the forward's ``r``.
    For 'top-left' this is the strided slice ``grad_output[..., ::k]``.

    Examples
    --------
    >>> g = np.arange(6.0).reshape(1, 1, 6)
    >>> unpool_backward(g, np.zeros((1, 1, 2)), 3)
    array([[[0., 3.]]])
    >>> unpool_backward(g, np.zeros((1, 1, 2)), 3, position="center")
    array([[[1., 4.]]])
    """
    func = "unpool_backward"
    xb, unbatched, ndim = _split_batch(x, func, kernel_size=kernel_size)
    index, out_size = _nail_indices(xb, kernel_size, ndim, position, rng, func)
    out_shape = (*xb.shape[:2], *out_size)
    grad = _check_grad(grad_output, out_shape[1:] if unbatched else out_shape, func)
    return _unbatch(_gather(grad, index, out_size, xb.dtype, func), unbatched)
