"""Shape arithmetic of convolution, pooling and transposed convolution (integers only, no arrays).

Every relationship of the convolution-arithmetic guide (Dumoulin & Visin, restated in seed 004),
forward and inverse, generalised to dilation, per spatial dimension.  Relationship numbers follow
seed 004: 6 is the general convolution, 7-13 the transposed cases (the guide itself numbers
pooling 7, so its transposed relationships are 8-14); dilation is the guide's Relationship 15.

Notation per dimension: ``i`` input size, ``k`` kernel size, ``s`` stride, ``p`` padding,
``d`` dilation, ``k_eff = d*(k-1) + 1`` the dilated kernel's extent, ``a`` (PyTorch's
``output_padding``) the extra size a transposed convolution adds at the end.

Each public function takes an int or a tuple (one entry per spatial dimension, 1 to 3 of them);
results follow the form of ``size``.  The ``*_geometry`` functions return fully resolved
per-dimension tuples and are what the NumPy kernels build on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from ._validate import (
    IntOrTuple,
    Pairs,
    ShapeError,
    check_int,
    fmt,
    padding_pairs,
    per_dim,
    spatial_size,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")
_MEMO_SIZE = 512


def _plain(value: Any) -> bool:
    # ints (not bools or NumPy ints), strings, None and tuples of them: safe cache keys whose
    # equal values mean equal arguments
    kind = type(value)
    if kind is int or kind is str or value is None:
        return True
    return kind is tuple and all(_plain(v) for v in value)


def _memoized(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    # Results of a pure resolver for plain arguments, kept (up to _MEMO_SIZE of them): a
    # layer calls it with the same arguments every time, and at batch 1 resolving them cost
    # ~8 us of a call.  Other arguments, and every error, go through ``fn`` each time.
    cache: dict[Any, _R] = {}

    @functools.wraps(fn)
    def resolved(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not (all(_plain(a) for a in args) and all(_plain(v) for v in kwargs.values())):
            return fn(*args, **kwargs)
        key = (args, tuple(sorted(kwargs.items())))
        hit = cache.get(key)
        if hit is None:
            hit = fn(*args, **kwargs)
            if len(cache) >= _MEMO_SIZE:
                cache.clear()
            cache[key] = hit
        return hit

    return resolved


# ---------------------------------------------------------------------------------------------
# Per-dimension integer formulas (the math, nothing else)


def _k_eff(k: int, d: int) -> int:
    return d * (k - 1) + 1


def _conv_len(i: int, k: int, s: int, pb: int, pa: int, d: int) -> int:
    # Relationship 6 with dilation (15): o = floor((i + p_before + p_after - k_eff) / s) + 1
    return (i + pb + pa - _k_eff(k, d)) // s + 1


def _transpose_len(i: int, k: int, s: int, pb: int, pa: int, a: int, d: int) -> int:
    # Relationship 13 with dilation: o' = s(i' - 1) + a + k_eff - p_before - p_after
    return s * (i - 1) + a + _k_eff(k, d) - pb - pa


def _pool_len(i: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    # PyTorch's pooling_output_shape: ceil mode rounds up, but a last window that would start
    # in the right padding (at or beyond i + p) is dropped.
    o = (i + 2 * p - _k_eff(k, d) + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= i + p:
        o -= 1
    return o


# ---------------------------------------------------------------------------------------------
# Resolved geometries


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution with every argument resolved to per-dimension tuples.

    Attributes
    ----------
    size, kernel_size, stride, dilation, output_size : tuple of int
        Per spatial dimension.
    padding : tuple of (int, int)
        ``(before, after)`` zero padding per dimension.
    """

    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Pairs
    dilation: tuple[int, ...]
    output_size: tuple[int, ...]

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.size)


@dataclass(frozen=True)
class TransposeGeometry:
    """A transposed convolution with every argument resolved to per-dimension tuples.

    ``padding`` holds ``(before, after)`` amounts cropped from the full output
    ``s(i-1) + k_eff``; ``output_padding`` is added at the end of each dimension.
    """

    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Pairs
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_size: tuple[int, ...]

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.size)

    def as_conv(self) -> ConvGeometry:
        """The convolution whose input gradient this transposed convolution is.

        It maps ``output_size`` back to ``size`` when ``output_padding < stride`` (the trailing
        ``output_padding`` elements are simply not reached by its last window); a larger
        ``output_padding`` (allowed by PyTorch when ``dilation > stride``) makes room for
        ``output_padding // stride`` more windows.
        """
        out = tuple(
            _conv_len(o, k, s, pb, pa, d)
            for o, k, s, (pb, pa), d in zip(self.output_size, self.kernel_size, self.stride,
                                            self.padding, self.dilation, strict=True)
        )
        return ConvGeometry(
            self.output_size, self.kernel_size, self.stride, self.padding, self.dilation, out
        )


@dataclass(frozen=True)
class PoolGeometry:
    """A pooling window with every argument resolved to per-dimension tuples."""

    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    output_size: tuple[int, ...]

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.size)


def _dims(size: Any, func: str) -> tuple[tuple[int, ...], bool]:
    return spatial_size(size, func)


def _same_padding(k: tuple[int, ...], d: tuple[int, ...]) -> Pairs:
    # PyTorch's padding="same" (stride 1): total d(k-1), the odd element at the end.
    totals = [_k_eff(kk, dd) - 1 for kk, dd in zip(k, d, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)


@_memoized
def conv_geometry(
    size: Any,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    func: str = "conv_output_size",
) -> ConvGeometry:
    """Resolve and check a convolution's arguments (see :func:`conv_output_size`).

    Examples
    --------
    >>> conv_geometry((5, 5), 3, padding="same")
    ConvGeometry(size=(5, 5), kernel_size=(3, 3), stride=(1, 1), padding=((1, 1), (1, 1)), \
dilation=(1, 1), output_size=(5, 5))
    """
    dims, _ = _dims(size, func)
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    pads = padding_pairs(padding, n, func)
    if pads == "valid":
        pads = ((0, 0),) * n
    elif pads == "same":
        if any(v != 1 for v in s):
            raise ShapeError(
                f"{func}: padding='same' requires stride=1 (PyTorch's rule), got stride="
                f"{fmt(s, n == 1)}; for TensorFlow's SAME with strides see upconv.same_padding"
            )
        pads = _same_padding(k, d)
    assert not isinstance(pads, str)
    out = []
    for axis in range(n):
        padded = dims[axis] + pads[axis][0] + pads[axis][1]
        ke = _k_eff(k[axis], d[axis])
        if ke > padded:
            raise ShapeError(
                f"{func}: the dilated kernel d*(k-1)+1={ke} (kernel_size={k[axis]}, "
                f"dilation={d[axis]}) is larger than the padded input {dims[axis]}+"
                f"{pads[axis][0]}+{pads[axis][1]}={padded} in dimension {axis}; the output "
                "would be empty"
            )
        out.append(_conv_len(dims[axis], k[axis], s[axis], *pads[axis], d[axis]))
    return ConvGeometry(dims, k, s, pads, d, tuple(out))


def same_padding(
    size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple = 1, dilation: IntOrTuple = 1
) -> Pairs:
    """TensorFlow's ``SAME`` padding as ``(before, after)`` pairs (output ``ceil(i/s)``).

    The total ``max((ceil(i/s)-1)*s + k_eff - i, 0)`` is split with the odd element at the
    end, as TensorFlow and JAX's ``padtype_to_pads`` do.  With ``stride=1`` this equals
    PyTorch's ``padding="same"``.

    Parameters
    ----------
    size, kernel_size, stride, dilation : int or tuple of int
        Per spatial dimension.

    Returns
    -------
    tuple of (int, int)
        One ``(before, after)`` pair per dimension.

    Examples
    --------
    >>> same_padding(5, 3, stride=2)
    ((1, 1),)
    >>> same_padding((6, 7), 4, stride=2)
    ((1, 1), (1, 2))
    """
    func = "same_padding"
    dims, _ = _dims(size, func)
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    pairs = []
    for i, kk, ss, dd in zip(dims, k, s, d, strict=True):
        o = -(-i // ss)
        total = max((o - 1) * ss + _k_eff(kk, dd) - i, 0)
        pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def conv_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
) -> int | tuple[int, ...]:
    """Output size of a convolution (Relationship 6, with dilation as in Relationship 15).

    Parameters
    ----------
    size : int or tuple of int
        Spatial input size ``i`` (1 to 3 dimensions).
    kernel_size, stride, dilation : int or tuple of int
        ``k``, ``s``, ``d``; positive.
    padding : int, tuple of int, tuple of (int, int), {'same', 'valid'}
        Zero padding ``p`` on both sides, per dimension, or explicit ``(before, after)`` pairs.
        ``'same'`` is PyTorch's (stride 1 only; the odd element goes at the end).

    Returns
    -------
    int or tuple of int
        ``o = floor((i + p_before + p_after - d*(k-1) - 1) / s) + 1``, in the form of ``size``.

    Raises
    ------
    ShapeError
        If an argument breaks its rule or the dilated kernel is larger than the padded input.

    See Also
    --------
    conv_transpose_output_size : the inverse direction.
    solve_conv : which parameters reach a given output size.

    Examples
    --------
    Seed 002: a 5x5 input and a 3x3 kernel give a 3x3 output.

    >>> conv_output_size((5, 5), 3)
    (3, 3)
    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> conv_output_size(7, 3, dilation=2, padding=((0, 1),))
    4
    """
    func = "conv_output_size"
    _, as_int = _dims(size, func)
    return fmt(conv_geometry(size, kernel_size, stride, padding, dilation, func=func).output_size,
               as_int)


def pool_geometry(
    size: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    *,
    func: str = "pool_output_size",
) -> PoolGeometry:
    """Resolve and check a pooling window's arguments (see :func:`pool_output_size`).

    Examples
    --------
    >>> pool_geometry(7, 2, ceil_mode=True).output_size
    (4,)
    """
    dims, _ = _dims(size, func)
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = k if stride is None else per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    p = per_dim(padding, n, "padding", func, minimum=0)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{func}: ceil_mode={ceil_mode!r} must be a bool")
    out = []
    for axis in range(n):
        if p[axis] > k[axis] // 2:
            raise ShapeError(
                f"{func}: padding={fmt(p, n == 1)} must be at most half of kernel_size="
                f"{fmt(k, n == 1)} (PyTorch's rule padding <= kernel_size // 2); dimension "
                f"{axis} has {p[axis]} > {k[axis]} // 2"
            )
        o = _pool_len(dims[axis], k[axis], s[axis], p[axis], d[axis], ceil_mode)
        if o < 1:
            raise ShapeError(
                f"{func}: the pooling window d*(k-1)+1={_k_eff(k[axis], d[axis])} is larger than "
                f"the padded input {dims[axis]}+2*{p[axis]}={dims[axis] + 2 * p[axis]} in "
                f"dimension {axis}; the output would be empty"
            )
        out.append(o)
    return PoolGeometry(dims, k, s, p, d, ceil_mode, tuple(out))


def pool_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> int | tuple[int, ...]:
    """Output size of max or average pooling, exactly as PyTorch computes it.

    Parameters
    ----------
    size : int or tuple of int
        Spatial input size ``i``.
    kernel_size : int or tuple of int
        Window size ``k``.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or tuple of int
        Implicit padding on both sides, at most ``kernel_size // 2`` (PyTorch's rule).
    dilation : int or tuple of int
        Spacing between window elements (max pooling only in PyTorch).
    ceil_mode : bool
        Round up instead of down, but drop a last window that would start in the right
        padding (PyTorch's real rule; its documentation's formula alone overcounts).

    Returns
    -------
    int or tuple of int
        ``o = floor_or_ceil((i + 2p - d*(k-1) - 1) / s) + 1``, minus one in ceil mode when
        ``(o-1)*s >= i + p``.

    See Also
    --------
    conv_output_size : the same window arithmetic with asymmetric padding.

    Examples
    --------
    >>> pool_output_size(28, 2)
    14
    >>> pool_output_size(7, 2, ceil_mode=True)
    4

    A last window starting in the right padding is dropped (3, not 4):

    >>> pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True)
    3
    """
    func = "pool_output_size"
    _, as_int = _dims(size, func)
    g = pool_geometry(size, kernel_size, stride, padding, dilation, ceil_mode, func=func)
    return fmt(g.output_size, as_int)


@_memoized
def transpose_geometry(
    size: Any,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    *,
    output_size: Any = None,
    func: str = "conv_transpose_output_size",
    output_size_name: str = "output_size",
) -> TransposeGeometry:
    """Resolve and check a transposed convolution's arguments.

    ``padding`` may hold ``(before, after)`` pairs (an asymmetric crop, which PyTorch cannot
    express but TensorFlow's SAME needs).  With ``output_size`` (spatial sizes), the
    ``output_padding`` is derived from it as PyTorch does, after checking it is reachable.

    Examples
    --------
    >>> transpose_geometry(7, 3, 2, 1, output_size=14).output_padding
    (1,)
    """
    dims, _ = _dims(size, func)
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    pads = padding_pairs(padding, n, func, allow_strings=False)
    assert not isinstance(pads, str)
    if output_size is not None:
        targets = per_dim(output_size, n, output_size_name, func)
        ops = []
        for axis in range(n):
            lo = _transpose_len(dims[axis], k[axis], s[axis], *pads[axis], 0, d[axis])
            hi = lo + s[axis] - 1
            if not lo <= targets[axis] <= hi:
                raise ShapeError(
                    f"{func}: {output_size_name}={fmt(targets, n == 1)} is not reachable: in "
                    f"dimension "
                    f"{axis} the output size ranges from {lo} to {hi} (output_padding 0 to "
                    f"{s[axis] - 1}) for size={dims[axis]}, kernel_size={k[axis]}, stride="
                    f"{s[axis]}, padding={_pad_str(pads[axis])}, dilation={d[axis]}"
                )
            ops.append(targets[axis] - lo)
        a = tuple(ops)
    else:
        a = per_dim(output_padding, n, "output_padding", func, minimum=0)
    for axis in range(n):
        if a[axis] >= max(s[axis], d[axis]):
            raise ShapeError(
                f"{func}: output_padding={fmt(a, n == 1)} must be smaller than stride="
                f"{fmt(s, n == 1)} or dilation={fmt(d, n == 1)} (PyTorch's rule output_padding "
                f"< max(stride, dilation))"
                + (f"; dimension {axis} has {a[axis]}" if n > 1 else "")
            )
    out = []
    for axis in range(n):
        o = _transpose_len(dims[axis], k[axis], s[axis], *pads[axis], a[axis], d[axis])
        if o < 1:
            full = _transpose_len(dims[axis], k[axis], s[axis], 0, 0, 0, d[axis])
            raise ShapeError(
                f"{func}: the output would be empty in dimension {axis}: the full output "
                f"s*(i-1)+d*(k-1)+1={full} minus padding {_pad_str(pads[axis])} plus "
                f"output_padding {a[axis]} is {o}; reduce padding"
            )
        out.append(o)
    return TransposeGeometry(dims, k, s, pads, a, d, tuple(out))


def _pad_str(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def conv_transpose_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> int | tuple[int, ...]:
    """Output size of a transposed convolution (Relationships 7-13, with dilation).

    Parameters
    ----------
    size : int or tuple of int
        Spatial input size ``i'``.
    kernel_size, stride, dilation : int or tuple of int
        ``k``, ``s``, ``d``; positive.
    padding : int, tuple of int or tuple of (int, int)
        ``p``: removed from each end of the full output (it is *not* padding of the input).
        ``(before, after)`` pairs crop asymmetrically.
    output_padding : int or tuple of int
        ``a``: added at the end of each dimension; must be smaller than ``max(stride,
        dilation)`` (PyTorch's rule).

    Returns
    -------
    int or tuple of int
        ``o' = s*(i'-1) + d*(k-1) + 1 - 2p + a``, in the form of ``size``.

    See Also
    --------
    conv_output_size : the convolution this is the transpose of.
    equivalent_conv : the same operation written as a direct convolution.
    output_padding_for : the ``a`` that reaches a given size.

    Examples
    --------
    Seed 002: a 2x2 input and a 2x2 kernel give 3x3.

    >>> conv_transpose_output_size((2, 2), 2)
    (3, 3)
    >>> conv_transpose_output_size(6, 3, stride=2, padding=1, output_padding=1)
    12
    >>> conv_transpose_output_size(4, 3, stride=1, output_padding=1, dilation=2)
    9
    """
    func = "conv_transpose_output_size"
    _, as_int = _dims(size, func)
    g = transpose_geometry(size, kernel_size, stride, padding, output_padding, dilation, func=func)
    return fmt(g.output_size, as_int)


def conv_transpose_size_range(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
) -> tuple[int, int] | tuple[tuple[int, ...], tuple[int, ...]]:
    """Smallest and largest output sizes a transposed convolution can produce.

    The range is the set of convolution input sizes that the matching convolution maps to
    ``size``: ``output_padding`` (Relationship 13's ``a``) runs from 0 to ``stride - 1``, as
    PyTorch's ``output_size=`` argument allows.

    Parameters
    ----------
    size, kernel_size, stride, dilation : int or tuple of int
        As in :func:`conv_transpose_output_size`.
    padding : int, tuple of int or tuple of (int, int)
        As in :func:`conv_transpose_output_size`.

    Returns
    -------
    (min, max)
        ``min = s*(i'-1) + d*(k-1) + 1 - 2p`` and ``max = min + s - 1``, with ``min`` raised
        to 1 when the padding crops more than the full output (some output paddings still
        give a non-empty output); each an int, or a tuple per dimension when ``size`` is a
        tuple.

    Examples
    --------
    >>> conv_transpose_size_range(7, 3, stride=2, padding=1)
    (13, 14)
    >>> conv_transpose_size_range((4, 5), 4, stride=2, padding=1)
    ((8, 10), (9, 11))
    """
    func = "conv_transpose_size_range"
    dims, as_int = _dims(size, func)
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    pads = padding_pairs(padding, n, func, allow_strings=False)
    assert not isinstance(pads, str)
    full = [_transpose_len(i, kk, ss, 0, 0, 0, dd) for i, kk, ss, dd in zip(dims, k, s, d,
                                                                             strict=True)]
    lo_raw = [f - pb - pa for f, (pb, pa) in zip(full, pads, strict=True)]
    hi = tuple(v + ss - 1 for v, ss in zip(lo_raw, s, strict=True))
    for axis in range(n):
        if hi[axis] < 1:
            raise ShapeError(
                f"{func}: the output would be empty in dimension {axis}: the full output "
                f"s*(i-1)+d*(k-1)+1={full[axis]} minus padding {_pad_str(pads[axis])} is "
                f"{lo_raw[axis]} and output_padding adds at most {s[axis] - 1}; reduce padding"
            )
    lo = tuple(max(v, 1) for v in lo_raw)
    if as_int:
        return lo[0], hi[0]
    return lo, hi


def output_padding_for(
    size: IntOrTuple,
    target: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
) -> int | tuple[int, ...]:
    """The ``output_padding`` (Relationship 13's ``a``) that makes the output size ``target``.

    Parameters
    ----------
    size : int or tuple of int
        Input size ``i'`` of the transposed convolution.
    target : int or tuple of int
        Wanted output size, typically the input size of the convolution being mirrored.
    kernel_size, stride, padding, dilation
        As in :func:`conv_transpose_output_size`.

    Returns
    -------
    int or tuple of int
        ``a = target - (s*(i'-1) + d*(k-1) + 1 - 2p)``, which equals ``(target + 2p - k_eff)
        mod s`` for every reachable target.

    Raises
    ------
    ShapeError
        If ``target`` is outside :func:`conv_transpose_size_range`; the message quotes the range.

    Examples
    --------
    Which output padding takes 7 to 14 with k=3, s=2, p=1?

    >>> output_padding_for(7, 14, 3, stride=2, padding=1)
    1
    >>> output_padding_for(7, 16, 3, stride=2, padding=1)
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: output_padding_for: target=16 is not reachable: in \
dimension 0 the output size ranges from 13 to 14 (output_padding 0 to 1) for size=7, \
kernel_size=3, stride=2, padding=1, dilation=1
    """
    func = "output_padding_for"
    dims, as_int = _dims(size, func)
    targets = per_dim(target, len(dims), "target", func)
    g = transpose_geometry(
        size, kernel_size, stride, padding, 0, dilation, output_size=targets, func=func,
        output_size_name="target",
    )
    return fmt(g.output_padding, as_int)


# ---------------------------------------------------------------------------------------------
# The direct-convolution view of a transposed convolution


def _relationship(k: int, s: int, p: tuple[int, int], a: int, d: int) -> tuple[int, str]:
    pb, pa = p
    if d != 1 or pb != pa:
        return 13, "general case with dilation or asymmetric padding (13 generalised)"
    if s == 1:
        if pb == 0:
            return 7, "no zero padding, unit strides, transposed: o' = i' + (k - 1)"
        if k % 2 == 1 and pb == k // 2:
            return 9, "half padding, transposed: o' = i'"
        if pb == k - 1:
            return 10, "full padding, transposed: o' = i' - (k - 1)"
        return 8, "zero padding, unit strides, transposed: o' = i' + (k - 1) - 2p"
    if a == 0 and pb == 0:
        return 11, "no zero padding, non-unit strides, transposed: o' = s(i' - 1) + k"
    if a == 0:
        return 12, "zero padding, non-unit strides, transposed: o' = s(i' - 1) + k - 2p"
    return 13, "zero padding, non-unit strides, with a: o' = s(i' - 1) + a + k - 2p"


@dataclass(frozen=True)
class EquivalentConv:
    """A transposed convolution written as the direct convolution it equals.

    Transposed convolution with ``(k, s, p, a, d)`` on an input of size ``i'`` equals: insert
    ``s - 1`` zeros between input units (size ``stretched_size`` = ĩ' = s(i'-1) + 1), pad
    ``pad_before = d(k-1) - p`` zeros at the start and ``pad_after = d(k-1) - p + a`` at the
    end (negative amounts crop), then convolve with stride 1, the same dilation and the kernel
    flipped in every spatial axis with its input/output channels swapped.

    Attributes follow the form of the ``size`` passed to :func:`equivalent_conv` (ints for a
    1-d int size, tuples otherwise).
    """

    size: int | tuple[int, ...]
    kernel_size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    padding: int | tuple[int, ...] | Pairs
    output_padding: int | tuple[int, ...]
    dilation: int | tuple[int, ...]
    stretched_size: int | tuple[int, ...]
    pad_before: int | tuple[int, ...]
    pad_after: int | tuple[int, ...]
    output_size: int | tuple[int, ...]
    relationship: int | tuple[int, ...]
    geometry: TransposeGeometry

    def __str__(self) -> str:
        g = self.geometry
        lines = []
        per_axis = list(zip(g.size, g.kernel_size, g.stride, g.padding, g.output_padding,
                            g.dilation, strict=True))
        same = g.ndim > 1 and all(v == per_axis[0] for v in per_axis)
        for axis in range(1 if same else g.ndim):
            i, k, s = g.size[axis], g.kernel_size[axis], g.stride[axis]
            (pb, pa), a, d = g.padding[axis], g.output_padding[axis], g.dilation[axis]
            num, name = _relationship(k, s, (pb, pa), a, d)
            ke = _k_eff(k, d)
            stretched = s * (i - 1) + 1
            before, after = ke - 1 - pb, ke - 1 - pa + a
            o = g.output_size[axis]
            head = "every dimension: " if same else f"dimension {axis}: " if g.ndim > 1 else ""
            p_txt = f"p={pb}" if pb == pa else f"p=({pb}, {pa})"
            dk = "k - 1" if d == 1 else "d(k - 1)"
            lines += [
                f"{head}transposed convolution i'={i}, k={k}, s={s}, {p_txt}, a={a}"
                + (f", d={d} (k_eff={ke})" if d != 1 else "")
                + f" -> o'={o}",
                f"  = direct convolution over the stretched input: ĩ'={stretched} "
                f"({i} units with s - 1 = {s - 1} zero{'s' if s != 2 else ''} between them), "
                f"k'={k}, s'=1, p'={dk} - p = {_signed(before)} before and "
                f"{dk} - p + a = {_signed(after)} after"
                + (f", d'={d}" if d != 1 else "")
                + ", kernel flipped (rotated 180°) with input/output channels swapped",
                f"  o' = s(i' - 1) + a + {dk} + 1 - p_before - p_after = "
                f"{s}*{i - 1} + {a} + {ke - 1} + 1 - {pb} - {pa} = {o}",
                f"  Relationship {num}: {name}",
                f"  it is the transpose of conv(i={o}, k={k}, s={s}, {p_txt}"
                + (f", d={d}" if d != 1 else "")
                + f") -> {i}, whose a = (i + p_before + p_after - k_eff) mod s = "
                f"({o} + {pb + pa} - {ke}) mod {s} = {(o + pb + pa - ke) % s}",
            ]
        return "\n".join(lines)


def _signed(v: int) -> str:
    return f"{v}" if v >= 0 else f"{v} (crop {-v})"


def equivalent_conv(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> EquivalentConv:
    """The direct convolution a transposed convolution equals (Relationships 7-13).

    Parameters
    ----------
    size, kernel_size, stride, padding, output_padding, dilation
        The transposed convolution, as in :func:`conv_transpose_output_size`.

    Returns
    -------
    EquivalentConv
        ``stretched_size = s(i'-1) + 1``, ``pad_before = d(k-1) - p``, ``pad_after = d(k-1) -
        p + a`` (negative means crop), unit stride and a flipped kernel; ``str()`` explains it
        in words with the relationship number.

    See Also
    --------
    conv_transpose_output_size : the output size alone.

    Examples
    --------
    Seed 004, Figure 2.11: the convolution i=6, k=3, s=2, p=1 gives 3; its transpose takes
    i'=3 back to 6 with a = (6 + 2 - 3) mod 2 = 1:

    >>> eq = equivalent_conv(3, 3, stride=2, padding=1, output_padding=1)
    >>> eq.stretched_size, eq.pad_before, eq.pad_after, eq.output_size, eq.relationship
    (5, 1, 2, 6, 13)
    >>> print(eq)  # doctest: +ELLIPSIS
    transposed convolution i'=3, k=3, s=2, p=1, a=1 -> o'=6
      = direct convolution over the stretched input: ĩ'=5 (3 units with s - 1 = 1 zero ...
    """
    func = "equivalent_conv"
    _, as_int = _dims(size, func)
    g = transpose_geometry(size, kernel_size, stride, padding, output_padding, dilation, func=func)
    n = g.ndim
    kes = [_k_eff(k, d) for k, d in zip(g.kernel_size, g.dilation, strict=True)]
    before = [ke - 1 - pb for ke, (pb, _) in zip(kes, g.padding, strict=True)]
    after = [
        ke - 1 - pa + a for ke, (_, pa), a in zip(kes, g.padding, g.output_padding, strict=True)
    ]
    rel = [
        _relationship(g.kernel_size[ax], g.stride[ax], g.padding[ax], g.output_padding[ax],
                      g.dilation[ax])[0]
        for ax in range(n)
    ]
    symmetric = all(pb == pa for pb, pa in g.padding)
    pad_form: int | tuple[int, ...] | Pairs = (
        fmt([pb for pb, _ in g.padding], as_int) if symmetric else g.padding
    )
    return EquivalentConv(
        size=fmt(g.size, as_int),
        kernel_size=fmt(g.kernel_size, as_int),
        stride=fmt(g.stride, as_int),
        padding=pad_form,
        output_padding=fmt(g.output_padding, as_int),
        dilation=fmt(g.dilation, as_int),
        stretched_size=fmt([s * (i - 1) + 1 for s, i in zip(g.stride, g.size, strict=True)],
                           as_int),
        pad_before=fmt(before, as_int),
        pad_after=fmt(after, as_int),
        output_size=fmt(g.output_size, as_int),
        relationship=fmt(rel, as_int),
        geometry=g,
    )


# ---------------------------------------------------------------------------------------------
# Inverse problems: which parameters reach a size


def checkerboard_counts(kernel_size: int, stride: int, dilation: int = 1) -> tuple[int, ...]:
    """How many kernel taps of a transposed convolution reach each output phase.

    Away from the borders, output position ``o`` receives the taps ``a`` with
    ``a*d ≡ o + p (mod s)``; the counts repeat with period ``s``.  They are all equal (no
    checkerboard artefact) exactly when ``gcd(d, s) == 1`` and ``s`` divides ``k``.

    Parameters
    ----------
    kernel_size, stride, dilation : int
        One spatial dimension.

    Returns
    -------
    tuple of int
        ``counts[r]`` is the number of taps with ``a*d mod s == r``, for ``r`` in ``0..s-1``.

    Examples
    --------
    >>> checkerboard_counts(3, 2)   # k=3, s=2: phases get 2 and 1 taps, uneven
    (2, 1)
    >>> checkerboard_counts(4, 2)
    (2, 2)
    >>> checkerboard_counts(4, 2, dilation=2)   # every tap lands on even phases: holes
    (4, 0)
    """
    func = "checkerboard_counts"
    k = check_int(kernel_size, "kernel_size", func, minimum=1)
    s = check_int(stride, "stride", func, minimum=1)
    d = check_int(dilation, "dilation", func, minimum=1)
    counts = [0] * s
    for a in range(k):
        counts[(a * d) % s] += 1
    return tuple(counts)


@dataclass(frozen=True)
class TransposeSolution:
    """One transposed convolution (per dimension) that maps ``size`` to ``target``.

    ``checkerboard_free`` is True when every output phase receives the same number of kernel
    taps (:func:`checkerboard_counts`); ``mirrors_conv`` is True when ``output_padding <
    stride``, i.e. the layer is the exact transpose of a convolution from ``target`` to
    ``size``.
    """

    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    checkerboard_free: bool
    taps_per_phase: tuple[int, ...]
    mirrors_conv: bool

    def __str__(self) -> str:
        d = f", dilation={self.dilation}" if self.dilation != 1 else ""
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"output_padding={self.output_padding}{d}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The solution as plain JSON-ready values."""
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "dilation": self.dilation,
            "checkerboard_free": self.checkerboard_free,
            "taps_per_phase": list(self.taps_per_phase),
            "mirrors_conv": self.mirrors_conv,
        }


@dataclass(frozen=True)
class ConvSolution:
    """One convolution (per dimension) that maps ``size`` to ``target``.

    ``unused_inputs`` counts input positions that no window reads (dropped at the end when
    ``(i + 2p - k_eff) mod s != 0``, or skipped when ``s`` exceeds the window);
    ``output_padding`` is the ``a`` a transposed convolution needs to mirror it exactly.
    """

    kernel_size: int
    stride: int
    padding: int
    dilation: int
    unused_inputs: int
    output_padding: int

    def __str__(self) -> str:
        d = f", dilation={self.dilation}" if self.dilation != 1 else ""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}{d}"

    def as_dict(self) -> dict[str, Any]:
        """The solution as plain JSON-ready values."""
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "unused_inputs": self.unused_inputs,
            "output_padding": self.output_padding,
        }


class Solutions(list[Any]):
    """A ranked list of solutions with ``explanation``: what was searched and, if empty, why.

    Examples
    --------
    >>> sols = solve_conv_transpose(7, 14, kernel_size=2, stride=3, dilation=1)
    >>> len(sols)
    0
    >>> print(sols.explanation)  # doctest: +ELLIPSIS
    no transposed convolution maps 7 to 14 with kernel_size=2, stride=3, dilation=1; ...
    >>> sols.explanation.split("; ")[-1]
    'reachable sizes are 18-22'
    """

    def __init__(self, items: list[Any], explanation: str, query: dict[str, Any]) -> None:
        super().__init__(items)
        self.explanation = explanation
        self.query = query


def _ranges(values: list[int]) -> str:
    if not values:
        return "none"
    values = sorted(set(values))
    parts, start, prev = [], values[0], values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)


def _candidates(
    fixed: int | None, name: str, func: str, hi: int, minimum: int = 1
) -> list[int]:
    if fixed is not None:
        return [check_int(fixed, name, func, minimum=minimum)]
    return list(range(minimum, hi + 1))


def _fixed_text(**fixed: int | None) -> str:
    given = [f"{k}={v}" for k, v in fixed.items() if v is not None]
    return " with " + ", ".join(given) if given else ""


def _solve_dims(
    solver: Any, size: Any, target: Any, func: str, **kw: Any
) -> Solutions | tuple[Solutions, ...]:
    dims, as_int = spatial_size(size, func)
    targets = per_dim(target, len(dims), "target", func)
    per = tuple(solver(i, o, **kw) for i, o in zip(dims, targets, strict=True))
    return per[0] if as_int else per


def _search_space(
    func: str,
    kernel_size: int | None,
    stride: int | None,
    padding: int | None,
    dilation: int | None,
    max_kernel_size: int,
) -> Iterator[tuple[int, int, int, int]]:
    """Every ``(k, d, s, p)`` the solvers consider; given arguments are held fixed.

    Kernel sizes and strides up to ``max_kernel_size``, dilations whose dilated kernel stays
    within it (no dilation for k=1, where it means nothing), paddings ``0..d*(k-1)``.
    """
    for k in _candidates(kernel_size, "kernel_size", func, max_kernel_size):
        ds = _candidates(dilation, "dilation", func, max(1, (max_kernel_size - 1) // max(k - 1, 1)))
        if k == 1 and dilation is None:
            ds = [1]
        for d in ds:
            for s in _candidates(stride, "stride", func, max_kernel_size):
                for p in _candidates(padding, "padding", func, _k_eff(k, d) - 1, minimum=0):
                    yield k, d, s, p


def _solutions(what: str, i: int, target: int, found: list[Any], good: str, reachable: list[int],
               extra_rule: str, query: dict[str, Any]) -> Solutions:
    # the explanation both solvers give: what was searched and, if nothing fits, what could
    fixed = _fixed_text(**{k: query[k] for k in ("kernel_size", "stride", "padding",
                                                  "dilation")})
    mk = query["max_kernel_size"]
    searched = f"kernel_size <= {mk}, stride <= {mk}, 0 <= padding <= d*(k-1){extra_rule}"
    if found:
        text = (f"{len(found)} {what}{'s' if len(found) != 1 else ''} map {i} to {target}"
                f"{fixed} ({good}); searched {searched}")
    else:
        text = (f"no {what} maps {i} to {target}{fixed}; searched {searched}; reachable sizes "
                f"are {_ranges(reachable)}")
    return Solutions(found, text, query)


def _solve_transpose_1d(i: int, target: int, **query: Any) -> Solutions:
    found: list[TransposeSolution] = []
    reachable: list[int] = []
    for k, d, s, p in _search_space("solve_conv_transpose", **query):
        lo = _transpose_len(i, k, s, p, p, 0, d)
        reachable.extend(lo + a for a in range(max(s, d)) if lo + a >= 1)
        a = target - lo
        if 0 <= a < max(s, d):
            counts = checkerboard_counts(k, s, d)
            found.append(TransposeSolution(k, s, p, a, d, min(counts) == max(counts), counts,
                                           a < s))
    found.sort(key=lambda x: (not x.checkerboard_free, not x.mirrors_conv, x.dilation != 1,
                              _k_eff(x.kernel_size, x.dilation), x.dilation, x.stride,
                              x.padding, x.output_padding))
    good = f"{sum(x.checkerboard_free for x in found)} checkerboard-free"
    return _solutions("transposed convolution", i, target, found, good, reachable,
                      ", output_padding < max(stride, dilation)",
                      dict(size=i, target=target, **query))


def solve_conv_transpose(
    size: IntOrTuple,
    target: IntOrTuple,
    *,
    kernel_size: int | None = None,
    stride: int | None = None,
    padding: int | None = None,
    dilation: int | None = None,
    max_kernel_size: int = 8,
) -> Solutions | tuple[Solutions, ...]:
    """Every transposed convolution that maps ``size`` to ``target``, best first.

    Searches kernel sizes and strides up to ``max_kernel_size``, dilations whose dilated kernel
    ``d*(k-1)+1`` stays within ``max_kernel_size``, paddings ``0 <= p <= d*(k-1)`` and every
    ``output_padding < max(stride, dilation)`` that PyTorch accepts; arguments given are held
    fixed.  Ranked checkerboard-free first (:func:`checkerboard_counts` even: ``s`` divides
    ``k`` and ``gcd(d, s) == 1``), then smallest kernel, no dilation, exact mirrors of a
    convolution (``output_padding < stride``), smaller stride, padding and output padding.

    Parameters
    ----------
    size, target : int or tuple of int
        Input and wanted output size; a tuple solves each dimension separately.
    kernel_size, stride, padding, dilation : int, optional
        Values to hold fixed.
    max_kernel_size : int
        Search bound for kernel size, stride and dilated kernel extent.

    Returns
    -------
    Solutions or tuple of Solutions
        A list of :class:`TransposeSolution` with an ``explanation``; an empty list explains
        which sizes are reachable instead.

    See Also
    --------
    solve_conv : the same question for downsampling.
    output_padding_for : the ``a`` alone, once k, s, p are chosen.

    Examples
    --------
    Which transposed convolutions take 7 to 14?

    >>> sols = solve_conv_transpose(7, 14)
    >>> print(sols[0]); print(sols[1])
    kernel_size=2, stride=2, padding=0, output_padding=0
    kernel_size=4, stride=2, padding=1, output_padding=0
    >>> [str(s) for s in solve_conv_transpose(7, 14, kernel_size=3, stride=2, dilation=1)]
    ['kernel_size=3, stride=2, padding=1, output_padding=1']
    """
    func = "solve_conv_transpose"
    mk = check_int(max_kernel_size, "max_kernel_size", func, minimum=1)
    return _solve_dims(_solve_transpose_1d, size, target, func, kernel_size=kernel_size,
                       stride=stride, padding=padding, dilation=dilation, max_kernel_size=mk)


def _unused_inputs(i: int, k: int, s: int, p: int, d: int, o: int) -> int:
    read = set()
    for j in range(o):
        for a in range(k):
            pos = j * s + a * d - p
            if 0 <= pos < i:
                read.add(pos)
    return i - len(read)


def _solve_conv_1d(i: int, target: int, **query: Any) -> Solutions:
    found: list[ConvSolution] = []
    reachable: list[int] = []
    for k, d, s, p in _search_space("solve_conv", **query):
        ke = _k_eff(k, d)
        if ke > i + 2 * p:
            continue
        o = _conv_len(i, k, s, p, p, d)
        reachable.append(o)
        if o == target:
            found.append(ConvSolution(k, s, p, d, _unused_inputs(i, k, s, p, d, o),
                                      (i + 2 * p - ke) % s))
    found.sort(key=lambda x: (x.unused_inputs > 0, x.dilation != 1,
                              _k_eff(x.kernel_size, x.dilation), x.dilation, x.stride,
                              x.padding, x.unused_inputs))
    good = f"{sum(x.unused_inputs == 0 for x in found)} read every input"
    return _solutions("convolution", i, target, found, good, reachable, "",
                      dict(size=i, target=target, **query))


def solve_conv(
    size: IntOrTuple,
    target: IntOrTuple,
    *,
    kernel_size: int | None = None,
    stride: int | None = None,
    padding: int | None = None,
    dilation: int | None = None,
    max_kernel_size: int = 8,
) -> Solutions | tuple[Solutions, ...]:
    """Every convolution that maps ``size`` to ``target`` (downsampling), best first.

    The search space is that of :func:`solve_conv_transpose`.  Ranked: convolutions that
    read every input position first, then undilated before dilated, smallest (dilated)
    kernel, smaller stride and padding.  Each solution also gives the ``output_padding`` its
    mirror needs.

    Parameters
    ----------
    size, target : int or tuple of int
        Input and wanted output size; a tuple solves each dimension separately.
    kernel_size, stride, padding, dilation : int, optional
        Values to hold fixed.
    max_kernel_size : int
        Search bound for kernel size, stride and dilated kernel extent.

    Returns
    -------
    Solutions or tuple of Solutions
        A list of :class:`ConvSolution` with an ``explanation``.

    See Also
    --------
    solve_conv_transpose : the same question for upsampling.

    Examples
    --------
    >>> sols = solve_conv(28, 14, kernel_size=3)
    >>> print(sols[0]); sols[0].output_padding
    kernel_size=3, stride=2, padding=1
    1
    """
    func = "solve_conv"
    mk = check_int(max_kernel_size, "max_kernel_size", func, minimum=1)
    return _solve_dims(_solve_conv_1d, size, target, func, kernel_size=kernel_size,
                       stride=stride, padding=padding, dilation=dilation, max_kernel_size=mk)


# ---------------------------------------------------------------------------------------------
# Decoder planning: mirror an encoder exactly


@dataclass(frozen=True)
class LayerSpec:
    """An encoder layer: a convolution or a max pooling (per-dimension ints or tuples).

    Examples
    --------
    >>> LayerSpec("conv", 3, stride=2, padding=1)
    LayerSpec(kind='conv', kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
    """

    kind: str
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    dilation: IntOrTuple = 1
    ceil_mode: bool = False

    def __str__(self) -> str:
        parts = [self.kind, f"k={_compact(self.kernel_size)}"]
        if self.stride is not None:
            parts.append(f"s={_compact(self.stride)}")
        if self.padding != 0:
            parts.append(f"p={_compact(self.padding)}")
        if self.dilation != 1:
            parts.append(f"d={_compact(self.dilation)}")
        if self.ceil_mode:
            parts.append("ceil")
        return " ".join(parts)


def _compact(v: Any) -> str:
    return "x".join(str(x) for x in v) if isinstance(v, list | tuple) else str(v)


_KEYS = {"k": "kernel_size", "kernel": "kernel_size", "kernel_size": "kernel_size",
         "s": "stride", "stride": "stride", "p": "padding", "padding": "padding",
         "d": "dilation", "dilation": "dilation"}


def parse_layers(text: str) -> list[LayerSpec]:
    """Parse ``"conv k=3 s=2 p=1; pool k=2 ceil"`` into :class:`LayerSpec` objects.

    Layers are separated by ``;``; each starts with ``conv`` or ``pool`` (``maxpool``), then
    ``key=value`` items (``k``, ``s``, ``p``, ``d`` or their long names; ``3x3`` for several
    dimensions) and the flag ``ceil`` (pools only).  Convolution stride defaults to 1, pool
    stride to the kernel size.

    Examples
    --------
    >>> parse_layers("conv k=3 s=2 p=1; pool k=2 ceil")
    [LayerSpec(kind='conv', kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False), \
LayerSpec(kind='pool', kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=True)]
    """
    func = "parse_layers"
    if not isinstance(text, str):
        raise TypeError(f"{func}: layers must be a string, not {type(text).__name__}")
    specs = []
    for n, chunk in enumerate(c.strip() for c in text.split(";")):
        if not chunk:
            continue
        words = chunk.split()
        kind = {"conv": "conv", "pool": "pool", "maxpool": "pool", "max_pool": "pool"}.get(
            words[0].lower())
        if kind is None:
            raise ShapeError(f"{func}: layer {n} {chunk!r} must start with 'conv' or 'pool'")
        kw: dict[str, Any] = {}
        for word in words[1:]:
            if word.lower() in ("ceil", "ceil_mode", "ceil_mode=true"):
                if kind != "pool":
                    raise ShapeError(f"{func}: layer {n} {chunk!r}: 'ceil' applies to pools only")
                kw["ceil_mode"] = True
                continue
            key, sep, value = word.partition("=")
            if not sep or key.lower() not in _KEYS:
                raise ShapeError(
                    f"{func}: layer {n} {chunk!r}: cannot read {word!r}; use k=, s=, p=, d= "
                    "(e.g. k=3 or k=3x3) or the flag ceil"
                )
            try:
                nums = tuple(int(v) for v in value.lower().split("x"))
            except ValueError:
                raise ShapeError(
                    f"{func}: layer {n} {chunk!r}: {key}={value!r} must be an integer such as 3 "
                    "or 3x3"
                ) from None
            kw[_KEYS[key.lower()]] = nums[0] if len(nums) == 1 else nums
        if "kernel_size" not in kw:
            raise ShapeError(f"{func}: layer {n} {chunk!r} needs a kernel size, e.g. k=3")
        if kind == "conv" and "stride" not in kw:
            kw["stride"] = 1
        specs.append(LayerSpec(kind, **kw))
    if not specs:
        raise ShapeError(f"{func}: layers={text!r} holds no layer")
    return specs


@dataclass(frozen=True)
class EncoderLayer:
    """One encoder layer with its input and output sizes."""

    spec: LayerSpec
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]


@dataclass(frozen=True)
class DecoderLayer:
    """One decoder layer mirroring an encoder layer.

    ``kind`` is ``"conv_transpose"`` (arguments for ``ConvTransposeNd``) or ``"max_unpool"``
    (arguments for ``MaxUnpoolNd`` fed with the paired pool's switches, called with
    ``output_size``).  ``naive_output_size`` is what the naive mirror (same arguments,
    ``output_padding=0`` / no ``output_size``) would produce.
    """

    kind: str
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    naive_output_size: tuple[int, ...]

    @property
    def naive_ok(self) -> bool:
        """Whether the naive mirror already gives the right size."""
        return self.naive_output_size == self.output_size

    def call(self) -> str:
        """The PyTorch-style call that realises this layer."""
        n = len(self.kernel_size)

        def v(t: tuple[int, ...]) -> str:
            return str(t[0]) if len(set(t)) == 1 else str(t)

        if self.kind == "conv_transpose":
            extra = f", dilation={v(self.dilation)}" if any(x != 1 for x in self.dilation) else ""
            return (f"ConvTranspose{n}d(kernel_size={v(self.kernel_size)}, stride="
                    f"{v(self.stride)}, padding={v(self.padding)}, output_padding="
                    f"{v(self.output_padding)}{extra})")
        out = self.output_size[0] if n == 1 else self.output_size
        return (f"MaxUnpool{n}d(kernel_size={v(self.kernel_size)}, stride={v(self.stride)}, "
                f"padding={v(self.padding)})(x, indices, output_size={out})")


@dataclass(frozen=True)
class DecoderPlan:
    """An encoder's sizes and the decoder that mirrors it exactly (see :func:`plan_decoder`)."""

    input_size: tuple[int, ...]
    encoder: tuple[EncoderLayer, ...]
    decoder: tuple[DecoderLayer, ...]

    @property
    def encoder_sizes(self) -> list[tuple[int, ...]]:
        """Sizes at every encoder level, input first."""
        return [self.input_size] + [e.output_size for e in self.encoder]

    @property
    def naive_mismatches(self) -> list[int]:
        """Decoder positions where the naive mirror gets the size wrong."""
        return [n for n, layer in enumerate(self.decoder) if not layer.naive_ok]

    def __str__(self) -> str:
        def sz(t: tuple[int, ...]) -> str:
            return "x".join(map(str, t))

        lines = ["encoder:"]
        for n, e in enumerate(self.encoder):
            lines.append(f"  {n}: {str(e.spec):<28} {sz(e.input_size):>9} -> {sz(e.output_size)}")
        lines.append("decoder (mirrored):")
        for n, dl in enumerate(self.decoder):
            note = "naive mirror OK" if dl.naive_ok else (
                f"naive mirror gives {sz(dl.naive_output_size)}, WRONG")
            lines.append(f"  {n}: {dl.call():<72} {sz(dl.input_size):>9} -> "
                         f"{sz(dl.output_size):<9} ({note})")
        bad = self.naive_mismatches
        lines.append(
            "a naive mirror (same arguments, output_padding=0, no output_size) gets every level "
            "right" if not bad else
            f"a naive mirror (same arguments, output_padding=0, no output_size) gets decoder "
            f"layer{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} wrong"
        )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain JSON-ready values."""
        return {
            "input_size": list(self.input_size),
            "encoder": [
                {"layer": str(e.spec), "input_size": list(e.input_size),
                 "output_size": list(e.output_size)} for e in self.encoder
            ],
            "decoder": [
                {"kind": dl.kind, "kernel_size": list(dl.kernel_size), "stride": list(dl.stride),
                 "padding": list(dl.padding), "output_padding": list(dl.output_padding),
                 "dilation": list(dl.dilation), "input_size": list(dl.input_size),
                 "output_size": list(dl.output_size),
                 "naive_output_size": list(dl.naive_output_size), "naive_ok": dl.naive_ok,
                 "call": dl.call()} for dl in self.decoder
            ],
            "naive_mismatches": self.naive_mismatches,
        }


def _as_spec(layer: Any, n: int, func: str) -> LayerSpec:
    if isinstance(layer, LayerSpec):
        return layer
    if isinstance(layer, str):
        specs = parse_layers(layer)
        if len(specs) != 1:
            raise ShapeError(f"{func}: layers[{n}]={layer!r} must describe one layer")
        return specs[0]
    if isinstance(layer, dict):
        d = dict(layer)
        kind = d.pop("kind", d.pop("type", None))
        if kind not in ("conv", "pool"):
            raise ShapeError(f"{func}: layers[{n}] needs kind='conv' or 'pool', got {kind!r}")
        if kind == "conv":
            d.setdefault("stride", 1)
        try:
            return LayerSpec(kind, **d)
        except TypeError as err:
            raise TypeError(f"{func}: layers[{n}]={layer!r}: {err}") from None
    raise TypeError(f"{func}: layers[{n}]={layer!r} must be a LayerSpec, a dict or a string")


def plan_decoder(layers: Any, input_size: IntOrTuple) -> DecoderPlan:
    """Mirror an encoder exactly: the decoder whose every level matches the encoder's sizes.

    Each convolution becomes a transposed convolution with the same kernel, stride, padding
    and dilation and the ``output_padding`` (Relationship 13's ``a``) that restores the exact
    size; each max pooling becomes a max-unpooling fed with its switches and an explicit
    ``output_size`` (for a dilated pool the unpool's ``kernel_size`` is the dilated extent, so
    that PyTorch accepts the size).  Odd sizes are the point: 28 -> 14 -> 7 -> 4 with a
    ceil-mode pool comes back 4 -> 7 -> 14 -> 28.

    Parameters
    ----------
    layers : str or list of (LayerSpec, dict or str)
        The encoder, first layer first: ``"conv k=3 s=2 p=1; pool k=2 ceil"`` (see
        :func:`parse_layers`), or dicts such as ``{"kind": "conv", "kernel_size": 3}``.
    input_size : int or tuple of int
        The encoder's spatial input size.

    Returns
    -------
    DecoderPlan
        ``encoder`` levels with sizes, ``decoder`` layers (last encoder layer mirrored first),
        and ``naive_mismatches``: the decoder layers a naive mirror would get wrong.

    See Also
    --------
    output_padding_for : the per-layer arithmetic.

    Examples
    --------
    >>> plan = plan_decoder("conv k=3 s=2 p=1; conv k=3 s=2 p=1; pool k=2 ceil", 28)
    >>> [s[0] for s in plan.encoder_sizes]
    [28, 14, 7, 4]
    >>> [(d.kind, d.output_padding[0], d.output_size[0]) for d in plan.decoder]
    [('max_unpool', 0, 7), ('conv_transpose', 1, 14), ('conv_transpose', 1, 28)]
    >>> plan.naive_mismatches
    [0, 1, 2]
    """
    func = "plan_decoder"
    items = parse_layers(layers) if isinstance(layers, str) else layers
    if not isinstance(items, list | tuple) or not items:
        raise ShapeError(f"{func}: layers must be a non-empty list or string, got {layers!r}")
    dims, _ = spatial_size(input_size, func, "input_size")
    encoder, decoder = [], []
    size = dims
    for n, layer in enumerate(items):
        spec = _as_spec(layer, n, func)
        where = f"{func} (layer {n}: {spec})"
        if spec.kind == "conv":
            cg = conv_geometry(size, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                               func=where)
            pads = [pb for pb, pa in cg.padding]
            if any(pb != pa for pb, pa in cg.padding):
                raise ShapeError(f"{where}: asymmetric padding cannot be mirrored by a "
                                 "ConvTranspose layer")
            out = cg.output_size
            tg = transpose_geometry(out, cg.kernel_size, cg.stride, pads, 0, cg.dilation,
                                    output_size=size, func=where)
            # What ConvTranspose with output_padding=0 would give (<= 0: PyTorch refuses it).
            naive = tuple(
                _transpose_len(i, k, s, p, p, 0, d)
                for i, k, s, p, d in zip(out, cg.kernel_size, cg.stride, pads, cg.dilation,
                                         strict=True)
            )
            decoder.append(DecoderLayer("conv_transpose", cg.kernel_size, cg.stride,
                                        tuple(pads), tg.output_padding, cg.dilation, out, size,
                                        naive))
        else:
            pg = pool_geometry(size, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                               spec.ceil_mode, func=where)
            out = pg.output_size
            kk = tuple(_k_eff(k, d) for k, d in zip(pg.kernel_size, pg.dilation, strict=True))
            naive = tuple(
                (o - 1) * s - 2 * p + k
                for o, s, p, k in zip(out, pg.stride, pg.padding, kk, strict=True)
            )
            for axis in range(len(size)):
                # PyTorch's MaxUnpool accepts default - s < output_size < default + s.
                assert naive[axis] - pg.stride[axis] < size[axis] < naive[axis] + pg.stride[axis]
            decoder.append(DecoderLayer("max_unpool", kk, pg.stride, pg.padding,
                                        (0,) * len(size), (1,) * len(size), out, size, naive))
        encoder.append(EncoderLayer(spec, size, out))
        size = out
    return DecoderPlan(dims, tuple(encoder), tuple(reversed(decoder)))



__all__ = [
    "ConvGeometry",
    "ConvSolution",
    "DecoderLayer",
    "DecoderPlan",
    "EncoderLayer",
    "EquivalentConv",
    "LayerSpec",
    "PoolGeometry",
    "ShapeError",
    "Solutions",
    "TransposeGeometry",
    "TransposeSolution",
    "check_int",
    "checkerboard_counts",
    "conv_geometry",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_transpose_size_range",
    "equivalent_conv",
    "output_padding_for",
    "pool_geometry",
    "plan_decoder",
    "parse_layers",
    "pool_output_size",
    "same_padding",
    "solve_conv",
    "solve_conv_transpose",
    "transpose_geometry",
]
