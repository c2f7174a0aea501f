"""Deliberately naive reference implementations, readable next to the formulas.

Every function here is a plain Python loop over output (or input) positions, written to be
checked by eye against the formula in its docstring, like JAX's ``lax_reference.py``.  They
are the tests' second oracle (beside PyTorch) and the reader's way in; they are slow on
purpose and must never be optimised.

Conventions: arrays are batched ``(N, C, *spatial)`` with 1 to 3 spatial dimensions;
arguments have the same names, order and defaults as the fast functions in :mod:`upconv`
(PyTorch's); sums are accumulated in float64 and the result has the input's dtype.  Sizes
and shape errors come from :mod:`upconv.shapes`, so they match the fast path.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._validate import ShapeError, check_int, float_array, per_dim
from .shapes import conv_geometry, pool_geometry, transpose_geometry

# ---------------------------------------------------------------------------------------------
# Small helpers: every loop below runs over ``_grid(shape)``


def _grid(shape: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """All multi-indices of ``shape`` in row-major order (the last axis fastest)."""
    return itertools.product(*(range(v) for v in shape))


def _inside(pos: Sequence[int], size: Sequence[int]) -> bool:
    return all(0 <= p < n for p, n in zip(pos, size, strict=True))


def _flat(pos: Sequence[int], size: Sequence[int]) -> int:
    """Row-major flat offset of ``pos`` in an array of shape ``size``."""
    offset = 0
    for p, n in zip(pos, size, strict=True):
        offset = offset * n + p
    return offset


def _array(x: Any, name: str, func: str, ndim: int | None = None) -> np.ndarray:
    """Check a float ``(N, C, *spatial)`` array (``ndim`` spatial dimensions if given)."""
    x = float_array(x, name, func)
    ranks = (3, 4, 5) if ndim is None else (ndim + 2,)
    if x.ndim not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise ShapeError(
            f"{func}: {name} has shape {x.shape} (rank {x.ndim}); the reference expects batched "
            f"(N, C, *spatial) input of rank {want}"
        )
    return x


def _spatial_output_size(output_size: Any, ndim: int) -> Any:
    """Drop the leading N and C from an ``output_size`` that includes them (PyTorch allows it)."""
    if isinstance(output_size, Sequence) and len(output_size) == ndim + 2:
        return tuple(output_size)[2:]
    return output_size


# ---------------------------------------------------------------------------------------------
# Convolution and transposed convolution


def conv(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """Convolution (cross-correlation, as in deep learning) by the definition.

    Parameters
    ----------
    x : (N, C_in, *spatial) ndarray
        Input, 1 to 3 spatial dimensions (given by ``weight``'s rank).
    weight : (C_out, C_in/groups, *kernel_size) ndarray
        PyTorch's ``ConvNd.weight`` layout.
    bias : (C_out,) ndarray, optional
        Added to every output position of its channel.
    stride, dilation : int or tuple of int
        ``s`` and ``d`` per spatial dimension.
    padding : int, tuple of int, tuple of (int, int), {'same', 'valid'}
        Zero padding of the input, as in :func:`upconv.conv_output_size`.
    groups : int
        Channels are split into ``groups`` independent convolutions.

    Returns
    -------
    (N, C_out, *out) ndarray
        ``out = floor((L + p_before + p_after - d*(k-1) - 1) / s) + 1`` per dimension, in the
        dtype of ``x``.

    See Also
    --------
    upconv.conv : the fast version.
    conv_transpose : its adjoint (the gradient with respect to ``x``).

    Notes
    -----
    With ``g`` the group of output channel ``o`` and ``C_g = C_in / groups``::

        y[n, o, j] = b[o] + sum_c sum_a x[n, g*C_g + c, j*s + a*d - p_before] * w[o, c, a]

    summed over the multi-indices ``a`` of the kernel and the input positions that fall
    inside the (unpadded) input; positions in the padding contribute zero.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> print(conv(x, np.ones((1, 1, 2, 2)))[0, 0])
    [[ 8. 12.]
     [20. 24.]]
    """
    func = "conv"
    weight = float_array(weight, "weight", func)
    if weight.ndim not in (3, 4, 5):
        raise ShapeError(
            f"{func}: weight has shape {weight.shape} (rank {weight.ndim}); expected "
            "(C_out, C_in/groups, *kernel_size) with 1, 2 or 3 spatial dimensions"
        )
    nd = weight.ndim - 2
    x = _array(x, "x", func, nd)
    groups = check_int(groups, "groups", func, minimum=1)
    n_batch, c_in = x.shape[:2]
    c_out, c_group = weight.shape[:2]
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"{func}: groups={groups} must divide both the input channels ({c_in}) and the "
            f"output channels ({c_out})"
        )
    if c_group != c_in // groups:
        raise ShapeError(
            f"{func}: weight has {c_group} input channels per group but x has {c_in} channels "
            f"in {groups} group(s) (weight layout (C_out, C_in/groups, *k))"
        )
    b = _bias(bias, c_out, func)
    g = conv_geometry(x.shape[2:], weight.shape[2:], stride, padding, dilation, func=func)
    out_per_group = c_out // groups

    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    y = np.zeros((n_batch, c_out, *g.output_size))
    for n, o in _grid((n_batch, c_out)):
        group = o // out_per_group
        for j in _grid(g.output_size):
            total = b[o]
            for c in range(c_group):
                for a in _grid(g.kernel_size):
                    pos = [
                        j[t] * g.stride[t] + a[t] * g.dilation[t] - g.padding[t][0]
                        for t in range(nd)
                    ]
                    if _inside(pos, g.size):
                        total += x64[(n, group * c_group + c, *pos)] * w64[(o, c, *a)]
            y[(n, o, *j)] = total
    return y.astype(x.dtype)


def _bias(bias: Any, channels: int, func: str) -> np.ndarray:
    """Return the bias as float64 of shape ``(channels,)`` (zeros when absent)."""
    if bias is None:
        return np.zeros(channels)
    bias = float_array(bias, "bias", func)
    if bias.shape != (channels,):
        raise ShapeError(
            f"{func}: bias has shape {bias.shape}; expected ({channels},), one value per output "
            "channel"
        )
    return bias.astype(np.float64)


def conv_transpose(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
    *,
    output_size: Any = None,
) -> np.ndarray:
    """Transposed convolution by its scatter definition.

    Parameters
    ----------
    x : (N, C_in, *spatial) ndarray
        Input, 1 to 3 spatial dimensions (given by ``weight``'s rank).
    weight : (C_in, C_out/groups, *kernel_size) ndarray
        PyTorch's ``ConvTransposeNd.weight`` layout (the same tensor as the matching
        convolution's weight).
    bias : (C_out,) ndarray, optional
        Added to every output position of its channel.
    stride, dilation : int or tuple of int
        ``s`` and ``d`` per spatial dimension.
    padding : int, tuple of int or tuple of (int, int)
        Cropped from each end of the full output (it is not padding of the input).
    output_padding : int or tuple of int
        Added at the end of each dimension; smaller than ``max(stride, dilation)``.
    groups : int
        Channels are split into ``groups`` independent transposed convolutions.
    output_size : int or tuple of int, optional
        Wanted spatial output size (it may include N and C, as in PyTorch); replaces
        ``output_padding``.

    Returns
    -------
    (N, C_out, *out) ndarray
        ``out = (L-1)*s - p_before - p_after + d*(k-1) + output_padding + 1`` per dimension,
        in the dtype of ``x``.

    See Also
    --------
    upconv.conv_transpose : the fast version (several methods).
    conv : the convolution this is the adjoint of.

    Notes
    -----
    Every input element scatters a copy of the kernel, scaled by its value, into the output
    (seed 002's worked example); with ``g`` the group of input channel ``c``::

        y[n, g*C_g_out + o, i*s + a*d - p_before] += x[n, c, i] * w[c, o, a]

    for every input position ``i``, kernel multi-index ``a`` and ``o < C_out/groups``;
    contributions that land outside the output (the cropped ``padding``) are dropped, and
    every output position starts at ``b[o]``.

    Examples
    --------
    Seed 002: a 2x2 input and a 2x2 kernel of fives.

    >>> x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> print(conv_transpose(x, np.full((1, 1, 2, 2), 5.0))[0, 0])
    [[ 5. 15. 10.]
     [20. 50. 30.]
     [15. 35. 20.]]
    """
    func = "conv_transpose"
    weight = float_array(weight, "weight", func)
    if weight.ndim not in (3, 4, 5):
        raise ShapeError(
            f"{func}: weight has shape {weight.shape} (rank {weight.ndim}); expected "
            "(C_in, C_out/groups, *kernel_size) with 1, 2 or 3 spatial dimensions"
        )
    nd = weight.ndim - 2
    x = _array(x, "x", func, nd)
    groups = check_int(groups, "groups", func, minimum=1)
    n_batch, c_in = x.shape[:2]
    if weight.shape[0] != c_in:
        raise ShapeError(
            f"{func}: weight has {weight.shape[0]} input channels but x has {c_in} "
            "(weight layout (C_in, C_out/groups, *k))"
        )
    if c_in % groups:
        raise ShapeError(f"{func}: groups={groups} must divide the input channels ({c_in})")
    out_per_group = weight.shape[1]
    c_out = out_per_group * groups
    b = _bias(bias, c_out, func)
    g = transpose_geometry(
        x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation,
        output_size=_spatial_output_size(output_size, nd), func=func,
    )
    in_per_group = c_in // groups

    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    y = np.zeros((n_batch, c_out, *g.output_size))
    for o in range(c_out):
        y[:, o] = b[o]
    for n, c in _grid((n_batch, c_in)):
        group = c // in_per_group
        for i in _grid(g.size):
            for o in range(out_per_group):
                for a in _grid(g.kernel_size):
                    pos = [
                        i[t] * g.stride[t] + a[t] * g.dilation[t] - g.padding[t][0]
                        for t in range(nd)
                    ]
                    if _inside(pos, g.output_size):
                        y[(n, group * out_per_group + o, *pos)] += (
                            x64[(n, c, *i)] * w64[(c, o, *a)]
                        )
    return y.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Pooling


def max_pool(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Max pooling by a running maximum over each window, PyTorch's scan order and tie rule.

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        Input, 1 to 3 spatial dimensions.
    kernel_size : int or tuple of int
        Window size ``k``.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size``.
    padding : int or tuple of int
        Implicit ``-inf`` padding on both sides, at most ``kernel_size // 2``.
    dilation : int or tuple of int
        Spacing between window elements.
    ceil_mode : bool
        Round the output size up (a window starting in the right padding is dropped).
    return_indices : bool
        Also return where each maximum came from.

    Returns
    -------
    y : (N, C, *out) ndarray
        ``out = floor_or_ceil((L + 2p - d*(k-1) - 1) / s) + 1`` (see
        :func:`upconv.pool_output_size`), in the dtype of ``x``.
    indices : (N, C, *out) ndarray of int64
        Only with ``return_indices``: the flat offset of each maximum inside its own
        ``(N, C)`` plane of the unpadded input.

    See Also
    --------
    upconv.max_pool : the fast version.
    max_unpool : puts values back at the returned indices.

    Notes
    -----
    For each output position ``j`` the window is ``j*s + a*d - p`` over kernel multi-indices
    ``a`` in row-major order.  The running maximum ``m`` starts at ``-inf`` with the index of
    the window's first position inside the input, and a value ``v`` replaces it when
    ``v > m or isnan(v)``: the first of equal maxima wins and a NaN always propagates.

    Examples
    --------
    Seed 002's 4x4 example:

    >>> x = np.array([[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3.0]])[None, None]
    >>> y, idx = max_pool(x, 2, return_indices=True)
    >>> print(y[0, 0])
    [[4. 4.]
     [4. 4.]]
    >>> print(idx[0, 0])
    [[ 5  2]
     [ 9 14]]
    """
    func = "max_pool"
    x = _array(x, "x", func)
    g = pool_geometry(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func)
    nd = g.ndim
    x64 = x.astype(np.float64)
    y = np.empty(x.shape[:2] + g.output_size)
    indices = np.empty(x.shape[:2] + g.output_size, dtype=np.int64)
    for n, c in _grid(x.shape[:2]):
        for j in _grid(g.output_size):
            # The first window position inside the input: start at j*s - p and step by the
            # dilation while negative (PyTorch's initial index, kept even if nothing beats -inf).
            first = []
            for t in range(nd):
                start = j[t] * g.stride[t] - g.padding[t]
                while start < 0:
                    start += g.dilation[t]
                first.append(start)
            best, best_index = -math.inf, _flat(first, g.size)
            for a in _grid(g.kernel_size):
                pos = [j[t] * g.stride[t] + a[t] * g.dilation[t] - g.padding[t] for t in range(nd)]
                if not _inside(pos, g.size):
                    continue
                v = x64[(n, c, *pos)]
                if v > best or math.isnan(v):
                    best, best_index = v, _flat(pos, g.size)
            y[(n, c, *j)] = best
            indices[(n, c, *j)] = best_index
    y = y.astype(x.dtype)
    return (y, indices) if return_indices else y


def avg_pool(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Average pooling by summing each window, with PyTorch's divisor rules.

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        Input, 1 to 3 spatial dimensions.
    kernel_size : int or tuple of int
        Window size ``k``.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size``.
    padding : int or tuple of int
        Implicit zero padding on both sides, at most ``kernel_size // 2``.
    ceil_mode : bool
        Round the output size up (a window starting in the right padding is dropped).
    count_include_pad : bool
        Count the zeros of the explicit padding in the divisor.
    divisor_override : int, optional
        Divide every window sum by this instead.

    Returns
    -------
    (N, C, *out) ndarray
        ``out = floor_or_ceil((L + 2p - k) / s) + 1`` (see :func:`upconv.pool_output_size`),
        in the dtype of ``x``.

    See Also
    --------
    upconv.avg_pool : the fast version.
    interpolate : ``mode='area'`` is adaptive average pooling.

    Notes
    -----
    Per dimension the window is ``[j*s - p, min(j*s - p + k, L + p))``; its length before
    clipping to the input ``[0, L)`` is what ``count_include_pad=True`` divides by (so padding
    zeros count, but the part of a ceil-mode window beyond the right padding does not)::

        y[n, c, j] = sum_{i in window ∩ input} x[n, c, i] / divisor

    with ``divisor = divisor_override`` if given, else the product of the unclipped lengths
    (``count_include_pad``) or the number of input elements in the window.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> print(avg_pool(x, 2)[0, 0])
    [[ 2.5  4.5]
     [10.5 12.5]]
    """
    func = "avg_pool"
    x = _array(x, "x", func)
    g = pool_geometry(x.shape[2:], kernel_size, stride, padding, 1, ceil_mode, func=func)
    if divisor_override is not None:
        divisor_override = check_int(divisor_override, "divisor_override", func, minimum=1)
    nd = g.ndim
    x64 = x.astype(np.float64)
    y = np.empty(x.shape[:2] + g.output_size)
    for n, c in _grid(x.shape[:2]):
        for j in _grid(g.output_size):
            starts = [j[t] * g.stride[t] - g.padding[t] for t in range(nd)]
            ends = [
                min(starts[t] + g.kernel_size[t], g.size[t] + g.padding[t]) for t in range(nd)
            ]
            padded_count = math.prod(e - s for s, e in zip(starts, ends, strict=True))
            total, count = 0.0, 0
            for pos in itertools.product(*(range(s, e) for s, e in zip(starts, ends, strict=True))):
                if _inside(pos, g.size):
                    total += x64[(n, c, *pos)]
                    count += 1
            if divisor_override is not None:
                divisor = divisor_override
            else:
                divisor = padded_count if count_include_pad else count
            y[(n, c, *j)] = total / divisor if count else 0.0
    return y.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Unpooling


def max_unpool(
    x: np.ndarray,
    indices: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> np.ndarray:
    """Max unpooling: put every value back at its recorded index, zeros elsewhere.

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        Pooled values, 1 to 3 spatial dimensions.
    indices : (N, C, *spatial) ndarray of int
        Flat offsets inside each ``(N, C)`` plane of the output, as returned by
        :func:`max_pool` with ``return_indices=True``.
    kernel_size : int or tuple of int
        The pooling window ``k``.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size``.
    padding : int or tuple of int
        The pooling padding ``p``.
    output_size : tuple of int, optional
        Spatial output size (it may include N and C); each entry must lie strictly between
        ``default - s`` and ``default + s``.

    Returns
    -------
    (N, C, *out) ndarray
        ``out = (L-1)*s - 2p + k`` per dimension unless ``output_size`` is given, in the dtype
        of ``x``.

    See Also
    --------
    upconv.max_unpool : the fast version.
    max_pool : produces the indices.

    Notes
    -----
    ``y[n, c].flat[indices[n, c, i]] = x[n, c, i]`` for every input position ``i``; with
    repeated indices the last one written (in row-major order) wins.

    Examples
    --------
    Seed 002: the maxima of its 4x4 example sat at flat offsets 5, 2, 9 and 14.

    >>> x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> idx = np.array([[5, 2], [9, 14]])[None, None]
    >>> print(max_unpool(x, idx, 2)[0, 0])
    [[0. 0. 2. 0.]
     [0. 1. 0. 0.]
     [0. 3. 0. 0.]
     [0. 0. 4. 0.]]
    """
    func = "max_unpool"
    x = _array(x, "x", func)
    nd = x.ndim - 2
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{func}: indices has dtype {indices.dtype}; an integer dtype is required")
    if indices.shape != x.shape:
        raise ShapeError(
            f"{func}: indices has shape {indices.shape} but x has shape {x.shape}; they must match"
        )
    k = per_dim(kernel_size, nd, "kernel_size", func)
    s = k if stride is None else per_dim(stride, nd, "stride", func)
    p = per_dim(padding, nd, "padding", func, minimum=0)
    default = tuple((x.shape[2 + t] - 1) * s[t] - 2 * p[t] + k[t] for t in range(nd))
    if output_size is None:
        out = default
    else:
        out = per_dim(_spatial_output_size(output_size, nd), nd, "output_size", func)
        for t in range(nd):
            if not default[t] - s[t] < out[t] < default[t] + s[t]:
                raise ShapeError(
                    f"{func}: output_size={out} is not valid: in dimension {t} the size must "
                    f"lie strictly between {default[t] - s[t]} and {default[t] + s[t]} (default "
                    f"(L-1)*s - 2p + k = {default[t]}, stride {s[t]})"
                )
    plane = math.prod(out)
    y = np.zeros(x.shape[:2] + out)
    for n, c in _grid(x.shape[:2]):
        for i in _grid(x.shape[2:]):
            index = int(indices[(n, c, *i)])
            if not 0 <= index < plane:
                raise ShapeError(
                    f"{func}: indices holds {index} at {(n, c, *i)}, outside the output plane "
                    f"of {out} = {plane} elements"
                )
            y[n, c].flat[index] = x[(n, c, *i)]
    return y.astype(x.dtype)


def unpool(x: np.ndarray, kernel_size: Any, *, position: str = "top-left") -> np.ndarray:
    """Bed-of-nails unpooling: each value at a fixed place of its ``k``-sized cell, zeros elsewhere.

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        Input, 1 to 3 spatial dimensions.
    kernel_size : int or tuple of int
        Cell size ``k`` (the upsampling factor).
    position : {'top-left', 'center'}
        Where the value goes inside its cell: offset 0, or ``k // 2`` in every dimension.

    Returns
    -------
    (N, C, *out) ndarray
        ``out = L * k`` per dimension, in the dtype of ``x``.

    See Also
    --------
    upconv.unpool : the fast version (with more positions).
    max_unpool : the positions taken from a max pooling instead.

    Notes
    -----
    ``y[n, c, i*k + offset] = x[n, c, i]`` and every other element is zero.

    Examples
    --------
    Seed 002's bed of nails:

    >>> x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> print(unpool(x, 2)[0, 0])
    [[1. 0. 2. 0.]
     [0. 0. 0. 0.]
     [3. 0. 4. 0.]
     [0. 0. 0. 0.]]
    """
    func = "unpool"
    x = _array(x, "x", func)
    nd = x.ndim - 2
    k = per_dim(kernel_size, nd, "kernel_size", func)
    if position == "top-left":
        offset = (0,) * nd
    elif position == "center":
        offset = tuple(kk // 2 for kk in k)
    else:
        raise ShapeError(f"{func}: position={position!r} must be 'top-left' or 'center'")
    y = np.zeros(x.shape[:2] + tuple(x.shape[2 + t] * k[t] for t in range(nd)))
    for n, c in _grid(x.shape[:2]):
        for i in _grid(x.shape[2:]):
            y[(n, c, *(i[t] * k[t] + offset[t] for t in range(nd)))] = x[(n, c, *i)]
    return y.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Interpolation: per dimension, each output index reads a few (source index, weight) taps;
# the N-d result is the tensor product of the per-dimension taps.

_Taps = list[list[tuple[int, float]]]
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area")


def _ratio(length: int, out: int, scale: float | None, align_corners: bool) -> float:
    # PyTorch's area_pixel_compute_scale: (L-1)/(O-1) with align_corners, else 1/scale_factor
    # when a scale reached the kernel, else L/O.
    if align_corners:
        return (length - 1) / (out - 1) if out > 1 else 0.0
    if scale is not None and scale > 0:
        return 1.0 / scale
    return length / out


def _nearest_taps(
    length: int, out: int, scale: float | None, exact: bool, dtype: Any, small_2d: bool
) -> _Taps:
    # nearest:        src = min(floor(dst * r), L-1)          (OpenCV's INTER_NEAREST)
    # nearest-exact:  src = min(floor((dst + 0.5) * r), L-1)  (the nearest pixel centre)
    # The formulas are exact; the rounding is PyTorch's, whose CPU kernels have two paths that
    # differ when dst * r lands within an ulp of an integer:
    if small_2d:
        # the "vectorised" 2-d kernel (used when out_h + out_w <= 128): r in float32, and for
        # nearest O == L copies while O == 2L takes dst // 2, even if a scale_factor such as
        # 1.2 or 2.2 produced those sizes.
        if not exact and out == length:
            return [[(dst, 1.0)] for dst in range(out)]
        if not exact and out == 2 * length:
            return [[(dst // 2, 1.0)] for dst in range(out)]
        r32 = np.float32(1.0 / scale) if scale else np.float32(length) / np.float32(out)
        if exact:
            src = [np.float32((dst + 0.5) * float(r32)) for dst in range(out)]
        else:
            src = [np.float32(dst) * r32 for dst in range(out)]
    else:
        # the generic kernel: r and r * dst in the input's precision, floored in float32
        # (PyTorch calls floorf), nearest-exact as round(r * (dst + 0.5) - 0.5)
        r = dtype(1.0 / scale) if scale else dtype(length) / dtype(out)
        if exact:
            centre = [max(dtype(float(r) * (dst + 0.5) - 0.5), 0.0) for dst in range(out)]
            src = [np.float32(float(c) + 0.5) for c in centre]
        else:
            src = [np.float32(r * dtype(dst)) for dst in range(out)]
    return [[(min(int(np.floor(v)), length - 1), 1.0)] for v in src]


def _source(dst: int, r: float, align_corners: bool) -> float:
    # Source coordinate of output index dst: r*dst (corners aligned) or r*(dst + 0.5) - 0.5
    # (pixel centres aligned).
    return r * dst if align_corners else r * (dst + 0.5) - 0.5


def _linear_taps(length: int, out: int, scale: float | None, align_corners: bool) -> _Taps:
    # PyTorch copies when O == L, even if a scale_factor such as 1.2 produced that size.
    if out == length:
        return [[(dst, 1.0)] for dst in range(out)]
    r = _ratio(length, out, scale, align_corners)
    taps = []
    for dst in range(out):
        src = max(_source(dst, r, align_corners), 0.0)
        i0 = min(int(src), length - 1)
        i1 = i0 + 1 if i0 < length - 1 else i0
        lam = min(max(src - i0, 0.0), 1.0)
        taps.append([(i0, 1.0 - lam), (i1, lam)])
    return taps


def _cubic_weights(t: float, a: float = -0.75) -> list[float]:
    # Keys' cubic convolution kernel with A = -0.75 at distances 1+t, t, 1-t, 2-t.
    def near(z: float) -> float:  # |z| <= 1
        return ((a + 2) * z - (a + 3)) * z * z + 1

    def far(z: float) -> float:  # 1 < |z| < 2
        return ((a * z - 5 * a) * z + 8 * a) * z - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_taps(length: int, out: int, scale: float | None, align_corners: bool) -> _Taps:
    # src is not clamped; the four taps floor(src)-1 .. floor(src)+2 are (edge replication).
    r = _ratio(length, out, scale, align_corners)
    taps = []
    for dst in range(out):
        src = _source(dst, r, align_corners)
        base = math.floor(src)
        weights = _cubic_weights(src - base)
        taps.append(
            [(min(max(base - 1 + m, 0), length - 1), weights[m]) for m in range(4)]
        )
    return taps


def _area_taps(length: int, out: int) -> _Taps:
    # Adaptive average pooling: bin dst covers [floor(dst*L/O), ceil((dst+1)*L/O)).
    taps = []
    for dst in range(out):
        start = (dst * length) // out
        end = -((-(dst + 1) * length) // out)
        taps.append([(i, 1.0 / (end - start)) for i in range(start, end)])
    return taps


def interpolate(
    x: np.ndarray,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> np.ndarray:
    """Resampling by PyTorch's source-coordinate formulas, one output position at a time.

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        Input, 1 to 3 spatial dimensions.
    size : int or tuple of int, optional
        Output spatial size; exactly one of ``size`` and ``scale_factor``.
    scale_factor : float or tuple of float, optional
        Output size ``floor(L * scale_factor)``; the kernels then use the ratio
        ``1 / scale_factor`` (not ``L / O``), as PyTorch does.
    mode : {'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear', 'bicubic', 'area'}
        ``linear``/``bilinear``/``trilinear`` for 1/2/3 spatial dimensions, ``bicubic`` for 2.
    align_corners : bool, optional
        Linear and bicubic modes only: map corner pixel centres onto each other (ratio
        ``(L-1)/(O-1)``) instead of pixel edges; ``None`` means ``False``.

    Returns
    -------
    (N, C, *out) ndarray
        ``out = size`` or ``floor(L * scale_factor)``, in the dtype of ``x``.

    See Also
    --------
    upconv.interpolate : the fast version.
    avg_pool : ``mode='area'`` is its adaptive form.

    Notes
    -----
    Per dimension, with ``r`` the ratio (``1/scale_factor`` if given, else ``L/O``)::

        nearest        src = min(floor(dst * r), L-1)
        nearest-exact  src = min(floor((dst + 0.5) * r), L-1)
        linear         src = r*dst (align_corners, r = (L-1)/(O-1)) or max(r*(dst+0.5)-0.5, 0);
                       weights 1-t, t on floor(src), floor(src)+1
        bicubic        src as linear but not clamped; Keys A=-0.75 on floor(src)-1..+2,
                       tap indices clamped to [0, L-1]
        area           mean of [floor(dst*L/O), ceil((dst+1)*L/O))

    and ``y[n, c, j] = sum over tap combinations of prod_t w_t * x[n, c, i_1, ..., i_D]``.
    The nearest modes round exactly as PyTorch's CPU kernels do, which is not the same in
    every case: a small 2-d output uses a float32 ratio and copies when ``O == L`` (and takes
    ``dst // 2`` when ``O == 2L``) even if a ``scale_factor`` such as 1.2 produced that size;
    otherwise the ratio has the input's precision.

    Examples
    --------
    Seed 002's nearest neighbour (K = 2) and bilinear examples (its bilinear table is the
    floor of PyTorch's ``align_corners=False`` result):

    >>> x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> print(interpolate(x, scale_factor=2)[0, 0])
    [[1. 1. 2. 2.]
     [1. 1. 2. 2.]
     [3. 3. 4. 4.]
     [3. 3. 4. 4.]]
    >>> print(np.floor(interpolate(10 * x, scale_factor=2, mode="bilinear"))[0, 0])
    [[10. 12. 17. 20.]
     [15. 17. 22. 25.]
     [25. 27. 32. 35.]
     [30. 32. 37. 40.]]
    """
    func = "interpolate"
    x = _array(x, "x", func)
    nd = x.ndim - 2
    if mode not in _MODES:
        raise ShapeError(f"{func}: mode={mode!r} is not one of {', '.join(_MODES)}")
    linear_family = mode in ("linear", "bilinear", "trilinear", "bicubic")
    if mode in ("linear", "bilinear", "trilinear") and mode != _LINEAR[nd]:
        raise ShapeError(
            f"{func}: mode={mode!r} needs {('linear', 'bilinear', 'trilinear').index(mode) + 1} "
            f"spatial dimension(s) but x has shape {x.shape}; use {_LINEAR[nd]!r}"
        )
    if mode == "bicubic" and nd != 2:
        raise ShapeError(
            f"{func}: mode='bicubic' needs 2 spatial dimensions; x has shape {x.shape}"
        )
    if align_corners is not None and not linear_family:
        raise ShapeError(
            f"{func}: align_corners can only be set with the interpolating modes linear, "
            f"bilinear, bicubic, trilinear (mode={mode!r})"
        )
    corners = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ShapeError(f"{func}: give exactly one of size and scale_factor")
    lengths = x.shape[2:]
    scales: tuple[float | None, ...]
    if size is not None:
        out = per_dim(size, nd, "size", func)
        scales = (None,) * nd
    else:
        if isinstance(scale_factor, Sequence):
            if len(scale_factor) != nd:
                raise ShapeError(
                    f"{func}: scale_factor={tuple(scale_factor)} has {len(scale_factor)} values "
                    f"but x has {nd} spatial dimension(s)"
                )
            factors = tuple(float(f) for f in scale_factor)
        else:
            factors = (float(scale_factor),) * nd
        out = tuple(math.floor(n * f) for n, f in zip(lengths, factors, strict=True))
        if any(o < 1 for o in out):
            raise ShapeError(
                f"{func}: scale_factor={scale_factor} gives an empty output {out} for input size "
                f"{tuple(lengths)}"
            )
        # mode='area' always uses sizes (PyTorch recomputes the scale from them).
        scales = (None,) * nd if mode == "area" else factors

    # Which of PyTorch's nearest kernels runs (see _nearest_taps).  (It also picks the 2-d one
    # for channels-last input with C > 3, but NumPy input is channels-first, except 1x1 input
    # where every source index is 0 anyway.)
    small_2d = nd == 2 and sum(out) <= 128
    taps: list[_Taps] = []
    for length, size_out, sc in zip(lengths, out, scales, strict=True):
        if mode in ("nearest", "nearest-exact"):
            exact = mode == "nearest-exact"
            taps.append(_nearest_taps(length, size_out, sc, exact, x.dtype.type, small_2d))
        elif mode == "bicubic":
            taps.append(_cubic_taps(length, size_out, sc, corners))
        elif mode == "area":
            taps.append(_area_taps(length, size_out))
        else:
            taps.append(_linear_taps(length, size_out, sc, corners))

    x64 = x.astype(np.float64)
    y = np.zeros(x.shape[:2] + tuple(out))
    for n, c in _grid(x.shape[:2]):
        for j in _grid(out):
            total = 0.0
            for combo in itertools.product(*(taps[t][j[t]] for t in range(nd))):
                weight = math.prod(w for _, w in combo)
                total += weight * x64[(n, c, *(i for i, _ in combo))]
            y[(n, c, *j)] = total
    return y.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Sub-pixel rearrangement


def pixel_shuffle(x: np.ndarray, upscale_factor: int) -> np.ndarray:
    """Pixel shuffle (depth-to-space, PyTorch's CRD order) element by element.

    Parameters
    ----------
    x : (N, C*r*r, H, W) ndarray
        Input with ``r*r`` channels per output channel.
    upscale_factor : int
        ``r``.

    Returns
    -------
    (N, C, H*r, W*r) ndarray
        In the dtype of ``x``.

    See Also
    --------
    upconv.pixel_shuffle : the fast version.
    conv_transpose : a stride-``r`` transposed convolution equals a convolution followed by
        a pixel shuffle (sub-pixel convolution).

    Notes
    -----
    ``y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]``.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 4, 1, 2)
    >>> print(pixel_shuffle(x, 2)[0, 0])
    [[0. 2. 1. 3.]
     [4. 6. 5. 7.]]
    """
    func = "pixel_shuffle"
    x = _array(x, "x", func, 2)
    r = check_int(upscale_factor, "upscale_factor", func, minimum=1)
    n_batch, channels, height, width = x.shape
    if channels % (r * r):
        raise ShapeError(
            f"{func}: x has {channels} channels, not divisible by upscale_factor**2 = {r * r}"
        )
    c_out = channels // (r * r)
    y = np.empty((n_batch, c_out, height * r, width * r), dtype=x.dtype)
    for n, c, h, w, i, j in _grid((n_batch, c_out, height, width, r, r)):
        y[n, c, h * r + i, w * r + j] = x[n, c * r * r + i * r + j, h, w]
    return y


__all__ = [
    "avg_pool",
    "conv",
    "conv_transpose",
    "interpolate",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "unpool",
]
