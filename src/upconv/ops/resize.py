"""Resizing by interpolation, bit-for-bit PyTorch's ``F.interpolate``, and its input gradient.

Every mode is separable: along each spatial axis the output is a weighted sum of ``T`` input
elements (``T`` = 1 for nearest, 2 for linear, 4 for cubic, the widest bin for area).  Per axis
we compute the tap indices ``(O, T)`` and weights ``(O, T)`` once, with PyTorch's coordinate
conventions and in PyTorch's floating-point precision, and apply them with one gather; the
backward pass scatters the gradient through the same taps with one ``np.bincount``.  No Python
loop runs over positions.

PyTorch's CPU kernels are reproduced down to their rounding where that changes an *index*:

* the ratio ``r`` (source units per output unit) is ``1/scale_factor`` when a scale reaches the
  kernel, else ``L/O``; it is rounded to the array's precision (float32 for float32 input);
* ``floorf`` (a float32 floor) is applied to source coordinates, also for float64 input;
* the nearest modes have two index computations in PyTorch: ``nearest_idx`` (float32, with the
  legacy fast paths ``O == L`` copy and ``O == 2L`` ``dst >> 1``) in every backward kernel and
  in the 2-d forward kernel when ``O_H + O_W <= 128``, and a generic one (the array's
  precision, no fast paths) in the other forward kernels;
* PyTorch's bicubic backward copies the gradient when no spatial size changes, whatever the
  scale.

:func:`interpolate` follows PyTorch's forward kernels and :func:`interpolate_backward` its
backward kernels, so each equals its PyTorch counterpart (``torch.autograd`` for the
gradient).  They are exact adjoints for the linear modes, area, bicubic with a changed size,
and nearest with integer scale factors; with other ratios PyTorch's nearest forward and
backward can round a source index differently (float64, ``L = 2 -> O = 82``, for one).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import ShapeError, _show, batched, float_array, per_dim
from ._parallel import run_chunks

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
# modes that interpolate (accept align_corners) and the spatial rank each one needs
_INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_FOR_RANK = {1: "'linear'", 2: "'bilinear' or 'bicubic'", 3: "'trilinear'"}
_CUBIC_A = -0.75  # Keys' cubic convolution parameter, PyTorch's choice


# ---------------------------------------------------------------------------------------------
# Argument resolution


@dataclass(frozen=True)
class _Resize:
    """A resize with every argument resolved, per spatial dimension."""

    mode: str
    align_corners: bool
    size: tuple[int, ...]  # input L
    output_size: tuple[int, ...]  # output O
    scales: tuple[float | None, ...]  # the scale that reaches the kernel (None: use L/O)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _scale_factors(scale_factor: Any, ndim: int, func: str) -> tuple[float, ...]:
    """Expand ``scale_factor`` (a number or one per spatial dimension) to positive floats."""
    if isinstance(scale_factor, np.ndarray) and scale_factor.ndim == 1:
        scale_factor = scale_factor.tolist()
    if _is_real(scale_factor):
        values: list[Any] = [scale_factor] * ndim
    elif isinstance(scale_factor, list | tuple):
        if len(scale_factor) != ndim:
            raise ShapeError(
                f"{func}: scale_factor={_show(scale_factor)} has {len(scale_factor)} values but "
                f"the input has {ndim} spatial dimension{'s' if ndim != 1 else ''}; give a "
                f"number or a tuple of {ndim} numbers"
            )
        values = list(scale_factor)
    else:
        raise TypeError(
            f"{func}: scale_factor={_show(scale_factor)} must be a number or a tuple of {ndim} "
            f"numbers, not {type(scale_factor).__name__}"
        )
    out = []
    for axis, v in enumerate(values):
        if not _is_real(v):
            raise TypeError(
                f"{func}: scale_factor={_show(scale_factor)} must hold numbers; dimension {axis} "
                f"is {_show(v)} ({type(v).__name__})"
            )
        if not (math.isfinite(v) and v > 0):
            raise ShapeError(
                f"{func}: scale_factor={_show(scale_factor)} must be positive and finite in every "
                f"dimension; dimension {axis} is {_show(v)}"
            )
        out.append(float(v))
    return tuple(out)


def _resolve(
    x: Any,
    size: Any,
    scale_factor: Any,
    mode: Any,
    align_corners: Any,
    recompute_scale_factor: Any,
    func: str,
    name: str = "x",
) -> tuple[np.ndarray, _Resize]:
    """Validate the arguments of :func:`interpolate` once, in PyTorch's order of rules."""
    x = float_array(x, name, func)
    if not isinstance(mode, str):
        raise TypeError(f"{func}: mode={mode!r} must be a string, not {type(mode).__name__}")
    if mode not in _MODES:
        raise ShapeError(
            f"{func}: mode={mode!r} is not supported; choose one of "
            + ", ".join(repr(m) for m in _MODES)
        )
    # Like PyTorch, interpolate has no unbatched form: rank 3, 4, 5 is (N, C, *spatial).
    batched(x, func, name)
    ndim = x.ndim - 2
    needed = _INTERPOLATING.get(mode)
    if needed is not None and needed != ndim:
        raise ShapeError(
            f"{func}: mode={mode!r} needs a {needed + 2}-d input (N, C, {needed} spatial "
            f"dimension{'s' if needed != 1 else ''}) but {name} has shape {x.shape} (rank "
            f"{x.ndim}); for {ndim} spatial dimension{'s' if ndim != 1 else ''} use "
            f"{_FOR_RANK[ndim]}"
        )
    if align_corners is not None and not isinstance(align_corners, bool | np.bool_):
        raise TypeError(
            f"{func}: align_corners={align_corners!r} must be None, True or False, not "
            f"{type(align_corners).__name__}"
        )
    if needed is None and align_corners is not None:
        raise ShapeError(
            f"{func}: align_corners={align_corners} can only be set with the interpolating modes "
            f"'linear', 'bilinear', 'bicubic', 'trilinear', not mode={mode!r}; leave it None"
        )
    if recompute_scale_factor is not None and not isinstance(
        recompute_scale_factor, bool | np.bool_
    ):
        raise TypeError(
            f"{func}: recompute_scale_factor={recompute_scale_factor!r} must be None, True or "
            f"False, not {type(recompute_scale_factor).__name__}"
        )
    if size is not None and scale_factor is not None:
        raise ShapeError(
            f"{func}: give exactly one of size and scale_factor, not both "
            f"(size={_show(size)}, scale_factor={_show(scale_factor)})"
        )
    if size is None and scale_factor is None:
        raise ShapeError(f"{func}: give exactly one of size and scale_factor; both are None")
    if size is not None and recompute_scale_factor:
        raise ShapeError(
            f"{func}: recompute_scale_factor=True is not meaningful with an explicit "
            f"size={_show(size)}; it only applies with scale_factor"
        )
    in_size = tuple(int(n) for n in x.shape[2:])
    if size is not None:
        out_size = per_dim(size, ndim, "size", func)
        scales: tuple[float | None, ...] = (None,) * ndim
    else:
        factors = _scale_factors(scale_factor, ndim, func)
        # O = floor(L * scale) in double precision (PyTorch's C++ and Python paths agree)
        out_size = tuple(math.floor(n * f) for n, f in zip(in_size, factors, strict=True))
        for axis, (n, f, o) in enumerate(zip(in_size, factors, out_size, strict=True)):
            if o < 1:
                raise ShapeError(
                    f"{func}: scale_factor={_show(scale_factor)} gives an empty output in "
                    f"dimension {axis}: floor({n} * {f!r}) = {o}; the output size must be >= 1"
                )
        # area always recomputes; recompute_scale_factor=True drops the scale (ratio L/O)
        keep = not recompute_scale_factor and mode != "area"
        scales = factors if keep else (None,) * ndim
    return x, _Resize(mode, bool(align_corners), in_size, out_size, scales)


# ---------------------------------------------------------------------------------------------
# Per-axis taps: PyTorch's coordinate conventions (aten/src/ATen/native/UpSample.h)


@dataclass(frozen=True)
class _Taps:
    """Output element ``o`` of one axis is ``sum_t weight[o, t] * x[index[o, t]]``.

    ``divisor`` (area only) divides the sum afterwards; ``valid`` (area only) marks the taps
    that belong to the bin (the rest are padding, masked so that an inf cannot leak).
    """

    index: np.ndarray  # (O, T) intp, every entry in [0, L)
    weight: np.ndarray  # (O, T) in the array's dtype
    valid: np.ndarray | None = None  # (O, T) bool
    divisor: np.ndarray | None = None  # (O,) in the array's dtype

    def is_identity(self, length: int) -> bool:
        index, weight = self.index, self.weight
        return (
            index.shape == (length, 1)
            and self.divisor is None
            and bool(np.all(index[:, 0] == np.arange(length)))
            and bool(np.all(weight == 1))
        )


def _ratio(n: int, o: int, scale: float | None, align_corners: bool, dt: type) -> Any:
    """``area_pixel_compute_scale`` in precision ``dt``: source units per output unit."""
    if align_corners:
        return dt(n - 1) / dt(o - 1) if o > 1 else dt(0)
    if scale is not None:
        return dt(1.0 / scale)
    return dt(n) / dt(o)


def _half_pixel(r: Any, o: int, dt: type) -> np.ndarray:
    # scale * (dst + 0.5) - 0.5: the product is taken in double, then stored in precision dt
    return (np.float64(r) * (np.arange(o) + 0.5) - 0.5).astype(dt)


def _floorf(v: np.ndarray) -> np.ndarray:
    # C's floorf: the argument is rounded to float32 first (PyTorch uses it for float64 too)
    return np.floor(v.astype(np.float32)).astype(np.intp)


def _one(index: np.ndarray, dt: type) -> _Taps:
    return _Taps(index[:, None], np.ones((len(index), 1), dtype=dt))


def _nearest(n: int, o: int, scale: float | None, exact: bool, dt: type, direct: bool) -> _Taps:
    """Nearest taps, by one of PyTorch's two index computations.

    ``direct`` is ``nearest_idx`` / ``nearest_exact_idx`` of ``UpSample.h`` (every backward
    kernel, and the 2-d forward kernel for small outputs): float32 ratio and arithmetic,
    ``floorf(dst * r)`` with the fast paths ``O == L`` (copy) and ``O == 2L`` (``dst >> 1``) for
    nearest, ``floorf((dst + 0.5) * r)`` for nearest-exact.  Otherwise (``HelperInterpNearest``
    and ``HelperInterpNearestExact`` of ``UpSampleKernel.cpp``) the ratio and product are in the
    array's precision ``dt``, nearest has no fast paths, and nearest-exact goes through the
    half-pixel source index, ``floorf(max(r * (dst + 0.5) - 0.5, 0) + 0.5)``.
    """
    d = np.arange(o)
    r = _ratio(n, o, scale, False, np.float32 if direct else dt)
    if not exact:
        if direct and o == n:
            return _one(d, dt)
        if direct and o == 2 * n:
            return _one(d >> 1, dt)
        src = d.astype(r.dtype) * r
    elif direct:
        src = (d + 0.5) * np.float64(r)
    else:
        src = np.maximum(_half_pixel(r, o, dt), 0).astype(np.float64) + 0.5
    return _one(np.minimum(_floorf(src), n - 1), dt)


def _linear(n: int, o: int, scale: float | None, align_corners: bool, dt: type) -> _Taps:
    if o == n:  # PyTorch copies, whatever the scale (compute_source_index_and_lambda)
        return _one(np.arange(o), dt)
    r = _ratio(n, o, scale, align_corners, dt)
    src = np.arange(o).astype(dt) * r if align_corners else np.maximum(_half_pixel(r, o, dt), 0)
    i0 = np.minimum(_floorf(src), n - 1)
    lam1 = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = i0 + (i0 < n - 1)
    return _Taps(np.stack([i0, i1], axis=1), np.stack([1 - lam1, lam1], axis=1).astype(dt))


def _cubic(n: int, o: int, scale: float | None, align_corners: bool, dt: type) -> _Taps:
    r = _ratio(n, o, scale, align_corners, dt)
    # no clamp at 0 for cubic: the taps reach outside and are clamped instead
    src = np.arange(o).astype(dt) * r if align_corners else _half_pixel(r, o, dt)
    i0 = np.minimum(_floorf(src), n - 1)
    t = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    a = dt(_CUBIC_A)

    def near(v: np.ndarray) -> np.ndarray:  # |v| <= 1
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v: np.ndarray) -> np.ndarray:  # 1 < |v| < 2
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

    u = (1 - t).astype(dt)
    weight: np.ndarray = np.stack([far(t + 1), near(t), near(u), far(u + 1)], axis=1).astype(dt)
    index = np.clip(i0[:, None] + np.arange(-1, 3), 0, n - 1)  # edge replication
    return _Taps(index, weight)


def _area(n: int, o: int, dt: type) -> _Taps:
    # adaptive average pooling: bin i is [floor(i*L/O), ceil((i+1)*L/O))
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    count = end - start
    index = start[:, None] + np.arange(int(count.max()))
    valid = index < end[:, None]
    index = np.minimum(index, n - 1)
    return _Taps(index, np.ones(index.shape, dtype=dt), valid, count.astype(dt))


def _taps(p: _Resize, dt: type, backward: bool) -> list[_Taps]:
    # Which nearest kernel PyTorch runs: the backward always uses nearest_idx; the 2-d forward
    # does when the output is small (_use_channels_last_kernel_2d: O_H + O_W <= 128; its other
    # condition, channels-last input with C > 3, only holds for 1x1 input, where every index
    # is 0 anyway).
    direct = backward or (len(p.size) == 2 and sum(p.output_size) <= 128)
    out = []
    for n, o, scale in zip(p.size, p.output_size, p.scales, strict=True):
        if p.mode in ("nearest", "nearest-exact"):
            out.append(_nearest(n, o, scale, p.mode == "nearest-exact", dt, direct))
        elif p.mode == "area":
            out.append(_area(n, o, dt))
        elif p.mode == "bicubic":
            out.append(_cubic(n, o, scale, p.align_corners, dt))
        else:
            out.append(_linear(n, o, scale, p.align_corners, dt))
    return out


# ---------------------------------------------------------------------------------------------
# Applying the taps along one axis, and the transpose

# Output elements per block of planes resized at once (1 MiB of float32): the temporaries of
# the separable passes then stay in cache.
_BLOCK_ELEMENTS = 1 << 18


def _periodic_plan(
    length: int, taps: _Taps
) -> tuple[int, list[tuple[int, int, int, np.ndarray, np.ndarray]], np.ndarray] | None:
    """Split an integer-factor upsampling into phases with constant taps, where possible.

    With ``O = r*L``, output ``o = q + r*j`` (phase ``q``) usually reads ``x[j + c_t]`` with a
    weight ``w_t`` that depends on ``q`` only; near the borders clamping breaks the pattern.
    Returns ``r``, per phase ``(q, j0, j1, c, w)`` for its interior block ``[j0, j1)``, and the
    output positions left over (handled by the general gather), or None when nothing is
    periodic.  Weights are compared exactly, so the result is the general path's, bit for bit.
    """
    o_count = taps.index.shape[0]
    if taps.valid is not None or taps.divisor is not None or o_count % length:
        return None
    r = o_count // length
    if r < 2 or length < 4:
        return None
    j = np.arange(length)
    mid = length // 2
    plans: list[tuple[int, int, int, np.ndarray, np.ndarray]] = []
    leftover: list[int] = []
    for q in range(r):
        idx, w = taps.index[q::r], taps.weight[q::r]  # (L, T)
        c, wc = idx[mid] - mid, w[mid]
        ok = np.all((idx - j[:, None] == c) & (w == wc), axis=1)
        bad_left = np.flatnonzero(~ok[:mid])
        bad_right = np.flatnonzero(~ok[mid:])
        j0 = int(bad_left[-1]) + 1 if bad_left.size else 0
        j1 = mid + int(bad_right[0]) if bad_right.size else length
        plans.append((q, j0, j1, c, wc))
        leftover.extend(q + r * jj for jj in (*range(j0), *range(j1, length)))
    return r, plans, np.array(sorted(leftover), dtype=np.intp)


_Plan = tuple[int, list[tuple[int, int, int, np.ndarray, np.ndarray]], np.ndarray] | None


def _along(x: np.ndarray, axis: int, taps: _Taps, out: np.ndarray | None = None,
           plan: _Plan | bool = True) -> np.ndarray:
    """Resize ``x`` along ``axis`` (L -> O) with ``taps`` (into ``out`` if given).

    ``plan`` is :func:`_periodic_plan`'s answer when already known (True: work it out).
    """
    if plan is True:
        plan = _periodic_plan(x.shape[axis], taps)
    if plan is None or plan is False:
        result = _along_gather(x, axis, taps)
        if out is None:
            return result
        out[...] = result
        return out
    # Strided slices instead of a gather: far faster on the last (contiguous) axis.
    r, phases, leftover = plan
    lead: tuple[Any, ...] = (slice(None),) * axis
    if out is None:
        out = np.empty(x.shape[:axis] + (taps.index.shape[0],) + x.shape[axis + 1:], x.dtype)
    last = axis == x.ndim - 1
    scratch: np.ndarray | None = None
    for q, j0, j1, c, wc in phases:
        dst = out[(*lead, slice(q + r * j0, q + r * (j1 - 1) + 1, r))]
        srcs = [x[(*lead, slice(j0 + int(ct), j1 + int(ct)))] for ct in c]
        if len(c) == 1:
            np.multiply(srcs[0], wc[0], out=dst)
            continue
        # On the last axis dst is strided element by element: accumulate contiguously and
        # write once.  On other axes dst's rows are contiguous: accumulate in place.
        acc = srcs[0] * wc[0] if last else np.multiply(srcs[0], wc[0], out=dst)
        if scratch is None or scratch.shape != acc.shape:
            scratch = np.empty_like(acc)
        for t in range(1, len(c)):
            acc += np.multiply(srcs[t], wc[t], out=scratch)
        if last:
            dst[...] = acc
    if leftover.size:
        edge = _Taps(taps.index[leftover], taps.weight[leftover])
        out[(*lead, leftover)] = _along_gather(x, axis, edge)
    return out


def _along_gather(x: np.ndarray, axis: int, taps: _Taps) -> np.ndarray:
    """:func:`_along` by gathering every tap (any pattern of indices)."""
    if taps.index.shape[1] == 1 and taps.divisor is None and bool(np.all(taps.weight == 1)):
        return np.take(x, taps.index[:, 0], axis=axis)
    trailing = (1,) * (x.ndim - axis - 1)
    if taps.valid is None and taps.divisor is None:
        # one gather and one fused multiply-add per tap: no (..., O, T, ...) temporary
        out: np.ndarray | None = None
        for t in range(taps.index.shape[1]):
            part = np.take(x, taps.index[:, t], axis=axis)  # a fresh array, safe to scale
            part *= taps.weight[:, t].reshape((-1, *trailing))
            if out is None:
                out = part
            else:
                out += part
        assert out is not None
        return out
    gathered = np.take(x, taps.index, axis=axis)  # (..., O, T, ...)
    if taps.valid is not None:
        gathered = np.where(taps.valid.reshape(taps.valid.shape + trailing), gathered, 0)
    out = np.sum(gathered * taps.weight.reshape(taps.weight.shape + trailing), axis=axis + 1)
    if taps.divisor is not None:
        out = out / taps.divisor.reshape(taps.divisor.shape + trailing)
    return out


def _along_transposed(g: np.ndarray, axis: int, taps: _Taps, length: int) -> np.ndarray:
    """The transpose of :func:`_along`: scatter-add ``g`` (O along ``axis``) back onto L."""
    weight = taps.weight
    if taps.divisor is not None:
        weight = weight / taps.divisor[:, None]
    moved = np.moveaxis(g, axis, -1)  # (..., O)
    rest = moved.shape[:-1]
    rows = math.prod(rest)
    contrib = moved.reshape(rows, moved.shape[-1])[:, :, None] * weight  # (rows, O, T)
    if taps.valid is not None:
        contrib = np.where(taps.valid, contrib, 0)
    flat = np.arange(rows)[:, None, None] * length + taps.index  # (rows, O, T)
    summed = np.bincount(flat.ravel(), weights=contrib.ravel(), minlength=rows * length)
    return np.moveaxis(summed.astype(g.dtype).reshape(*rest, length), -1, axis)


# ---------------------------------------------------------------------------------------------
# Public API


def interpolate(
    x: np.ndarray,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> np.ndarray:
    """Resize by interpolation, bit-for-bit PyTorch's ``F.interpolate`` (CPU).

    Parameters
    ----------
    x : (N, C, *spatial) ndarray
        float32 or float64 input with 1, 2 or 3 spatial dimensions (rank 3, 4 or 5).  As in
        PyTorch there is no unbatched form: the rank alone fixes the spatial dimensions.
    size : int or tuple of int, optional
        Output size ``O`` per spatial dimension.  Exactly one of `size` and `scale_factor`.
    scale_factor : float or tuple of float, optional
        Multiplier ``s`` per spatial dimension; ``O = floor(L * s)``.
    mode : {'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'}
        ``'linear'`` needs 1 spatial dimension, ``'bilinear'`` and ``'bicubic'`` 2,
        ``'trilinear'`` 3; the others work for any.
    align_corners : bool, optional
        Only for the interpolating modes (linear, bilinear, bicubic, trilinear); ``None`` means
        False.  True maps the corner *centres* of input and output onto each other.
    recompute_scale_factor : bool, optional
        With `scale_factor`: True computes ``O`` and then interpolates as if ``size=O`` had
        been given (ratio ``L/O`` instead of ``1/s``).  Not allowed with `size`.

    Returns
    -------
    out : (N, C, *out) ndarray
        Same dtype as `x`; ``out = size`` or ``floor(L * scale_factor)`` per dimension.

    Raises
    ------
    ShapeError
        For a rank other than 3-5, a mode that needs another rank, `align_corners` with a
        non-interpolating mode, both or neither of `size` and `scale_factor`, a wrong number of
        values, a non-positive size or scale, an empty output, or `recompute_scale_factor`
        with `size`.
    TypeError
        For a non-float `x` or arguments of the wrong type.

    See Also
    --------
    interpolate_backward : the gradient w.r.t. `x` (the transpose of this linear map).
    pixel_shuffle : learned upsampling by rearranging channels.
    conv_transpose : learned upsampling; nearest ×r equals a depthwise stride-r transposed
        convolution with an all-ones kernel of size r.

    Notes
    -----
    Per dimension, with output index ``j``, input length ``L`` and ratio ``r = 1/s`` when a
    scale factor is given (and not recomputed), else ``r = L/O``:

    * nearest: ``i = min(floor(j * r), L-1)``, with ``r`` and the product in float32 for
      float32 input (PyTorch's legacy, OpenCV-like rule);
    * nearest-exact: ``i = min(floor((j + 0.5) * r), L-1)`` (pixel centres, like PIL and
      TensorFlow 2);
    * linear modes: source ``u = r * (j + 0.5) - 0.5`` (clamped at 0), or with
      ``align_corners`` ``u = j * (L-1)/(O-1)`` (0 if ``O == 1``); then
      ``(1-λ) x[i] + λ x[i+1]`` with ``i = floor(u)``, ``λ = u - i``, the upper tap clamped
      to ``L-1``; ``O == L`` copies;
    * bicubic: the same ``u`` without the clamp, Keys' cubic convolution with ``A = -0.75``
      over taps ``i-1 .. i+2`` clamped to ``[0, L-1]`` (edge replication);
    * area: adaptive average pooling, bin ``j`` averages ``[floor(j L/O), ceil((j+1) L/O))``;
      a scale factor only sets ``O``.

    An output of size 1 without ``align_corners`` samples the centre ``u = L/2 - 0.5``
    (PyTorch 2.13; older releases took the first element).

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> interpolate(x, scale_factor=2)[0, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]])
    >>> interpolate(x, size=4, mode="bilinear")[0, 0]
    array([[0.  , 0.25, 0.75, 1.  ],
           [0.5 , 0.75, 1.25, 1.5 ],
           [1.5 , 1.75, 2.25, 2.5 ],
           [2.  , 2.25, 2.75, 3.  ]])
    >>> interpolate(np.arange(5.0).reshape(1, 1, 5), size=3, mode="linear", align_corners=True)
    array([[[0., 2., 4.]]])
    """
    func = "interpolate"
    x, plan = _resolve(x, size, scale_factor, mode, align_corners, recompute_scale_factor, func)
    # Work on (planes, *spatial): the separable passes run on blocks of planes small enough
    # for their temporaries to stay in cache, and the blocks are shared among threads.
    # The last axis first: its element-strided writes then touch the smallest array (when
    # upsampling), and the remaining passes write whole contiguous rows.
    steps = [(axis, taps, _periodic_plan(x.shape[axis + 1], taps))
             for axis, taps in enumerate(_taps(plan, x.dtype.type, False), start=1)
             if not taps.is_identity(x.shape[axis + 1])][::-1]
    y = np.empty((*x.shape[:2], *plan.output_size), dtype=x.dtype)
    planes = x.shape[0] * x.shape[1]
    xp = x.reshape(planes, *x.shape[2:])
    yp = y.reshape(planes, *plan.output_size)
    block = max(1, _BLOCK_ELEMENTS // max(1, math.prod(plan.output_size)))

    def run(chunk: slice) -> None:
        for start in range(chunk.start, chunk.stop, block):
            sl = slice(start, min(start + block, chunk.stop))
            part = xp[sl]
            for n, (axis, taps, periodic) in enumerate(steps):
                part = _along(part, axis, taps, yp[sl] if n == len(steps) - 1 else None, periodic)
            if not steps:
                yp[sl] = part

    run_chunks(planes, y.size, run)
    return y


def interpolate_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> np.ndarray:
    """Gradient of :func:`interpolate` w.r.t. `x`, equal to PyTorch's autograd (CPU).

    Parameters
    ----------
    grad_output : (N, C, *out) ndarray
        Gradient w.r.t. the output of ``interpolate(x, ...)`` (same shape as that output).
    x : (N, C, *spatial) ndarray
        The forward input; only its shape and dtype are used.
    size, scale_factor, mode, align_corners, recompute_scale_factor
        As for :func:`interpolate`.

    Returns
    -------
    grad_input : (N, C, *spatial) ndarray
        Same shape and dtype as `x`: the transpose of each separable step applied to
        `grad_output`, i.e. every output gradient scattered (summed) onto the input elements it
        was interpolated from, with the interpolation weights.

    Raises
    ------
    ShapeError
        For the errors of :func:`interpolate`, or a `grad_output` whose shape is not the
        forward output's.
    TypeError
        For non-float arrays or arguments of the wrong type.

    See Also
    --------
    interpolate : the forward operation.
    avg_pool : nearest ×r upsampling's gradient is r×r sum pooling (``r**d`` × average).

    Notes
    -----
    The map is linear, ``out = A x`` with ``A`` a Kronecker product of per-axis matrices, so
    ``grad_input = A^T grad_output``, one axis at a time.  Where PyTorch's backward kernels
    index differently from its forward kernels (the nearest modes with non-integer ratios;
    bicubic with unchanged sizes but a scale factor other than 1), this follows PyTorch's
    backward kernels, so it equals ``torch.autograd`` (see the module docstring).

    Examples
    --------
    >>> x = np.zeros((1, 1, 2, 2))
    >>> g = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> interpolate_backward(g, x, scale_factor=2)[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    func = "interpolate_backward"
    x, plan = _resolve(x, size, scale_factor, mode, align_corners, recompute_scale_factor, func)
    grad_output = float_array(grad_output, "grad_output", func)
    expected = (*x.shape[:2], *plan.output_size)
    if grad_output.shape != expected:
        raise ShapeError(
            f"{func}: grad_output has shape {grad_output.shape} but interpolate's output for x "
            f"of shape {x.shape} has shape {expected}"
        )
    grad = grad_output.astype(x.dtype, copy=False)
    if not (plan.mode == "bicubic" and plan.size == plan.output_size):  # PyTorch copies then
        all_taps = _taps(plan, x.dtype.type, backward=True)
        for axis, (taps, n) in enumerate(zip(all_taps, plan.size, strict=True), start=2):
            if not taps.is_identity(n):
                grad = _along_transposed(grad, axis, taps, n)
    if np.may_share_memory(grad, grad_output):
        grad = grad.copy()
    return grad
