"""Resizing (nearest, linear, cubic) across PyTorch, TensorFlow, Keras 3, JAX and ONNX.

Every framework resizes one axis at a time, and along an axis every output element ``d`` is
a weighted sum of input elements: an ``(O, L)`` matrix per axis.  The frameworks differ in

* the **source coordinate** ``x(d)`` (ONNX's names, used throughout):
  ``asymmetric`` ``d/s``; ``half_pixel`` ``(d + 0.5)/s - 0.5``; ``pytorch_half_pixel`` (the
  same, but 0 when ``O == 1``); ``tf_half_pixel_for_nn`` ``(d + 0.5)/s``; ``align_corners``
  ``d (L-1)/(O-1)``; ``half_pixel_symmetric`` (half_pixel centred for a fractional
  ``s*L``), with ``s`` the given scale or ``O/L``;
* the **nearest rounding** of ``x`` (``floor``, ``ceil``, ``round_prefer_floor``,
  ``round_prefer_ceil``; the index is clamped to ``[0, L-1]``);
* the **cubic kernel** (Keys with ``A = -0.75`` in PyTorch, ONNX's default and TF1, ``-0.5``
  in TF2/JAX/Keras) and whether taps outside the input are **excluded** (weights
  renormalised: TF2, JAX, ONNX ``exclude_outside=1``) or replicate the edge;
* **antialiasing** when downsampling (the kernel stretched by ``L/O``: JAX's default, TF's
  and ONNX's option; PyTorch's ``antialias=True`` is not implemented here);
* the **floating-point arithmetic**: PyTorch and TensorFlow compute ratios in float32 and
  ONNX Runtime divides by a float32 scale, so ``floor`` can pick the element before an
  exactly integral coordinate (ONNX Runtime: ``L=14 -> O=2``, ``asymmetric``, ``floor``
  takes element 6 where the exact rule and PyTorch's ``nearest`` take 7).

:class:`ResizeSpec` records these choices per spatial dimension together with the framework
whose arithmetic it follows (``source``); ``weights()`` gives the matrices, and the
translators compare matrices, so "exact" means "the same elements with the same weights".

Checked by running ONNX Runtime 1.31.1 (``Resize``: every coordinate mode and nearest mode,
linear, cubic, antialias, scales and sizes), JAX 0.10.2 (``jax.image.resize``), Keras 3.15.1
on JAX (``UpSampling*D``, ``Resizing``) and PyTorch (``F.interpolate``).  TensorFlow is not
installed: its rules (image_resizer_state.h, resize_nearest_neighbor_op.cc,
resize_bicubic_op.cc — including the bicubic weights' 1024-entry table) are implemented from
the source and checked where Keras/JAX/ONNX Runtime encode the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._validate import ShapeError, _is_int, _show, float_array, per_dim
from ..ops.resize import interpolate as _np_interpolate
from ._common import (
    Translation,
    check_choice,
    check_framework,
    from_channels_first,
    to_channels_first,
)

METHODS: tuple[str, ...] = ("nearest", "linear", "cubic")
"""Interpolation methods of :class:`ResizeSpec`."""

COORDINATES: tuple[str, ...] = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                "align_corners", "asymmetric", "tf_half_pixel_for_nn")
"""Source-coordinate rules (ONNX ``coordinate_transformation_mode`` names)."""

NEAREST_MODES: tuple[str, ...] = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
"""Nearest rounding rules (ONNX ``nearest_mode`` names)."""

_TORCH_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear",
                "area")
_TORCH_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
_TF_METHODS = ("bilinear", "nearest", "bicubic")
_JAX_METHODS = ("nearest", "linear", "bilinear", "trilinear", "triangle", "cubic", "bicubic",
                "tricubic", "cubic-pytorch", "bicubic-pytorch", "lanczos3", "lanczos5", "area")
_ONNX_COORDS = (*COORDINATES, "tf_crop_and_resize")
_TABLE = 1024  # TF bicubic coefficient table size
_TOL = 1e-6  # two weight matrices are "the same" within this (float32 probes)

# ---------------------------------------------------------------------------------------------
# Kernels


def _keys(t: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a`` at distances ``t``."""
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def _triangle(t: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - np.abs(t))


def _tf_table(a: float) -> np.ndarray:
    """TensorFlow's bicubic coefficient table: float32 entries for ``t = i/1024``."""
    i = np.arange(_TABLE + 1)
    x = (i * 1.0 / _TABLE).astype(np.float32).astype(np.float64)
    table = np.empty((_TABLE + 1, 2), dtype=np.float32)
    table[:, 0] = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + 1.0
    table[:, 1] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return table.astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Source coordinates, in three arithmetics


def _ratio_exact(L: int, O: int, scale: float | None) -> Fraction:  # noqa: E741
    return Fraction(scale) if scale is not None else Fraction(O, L)


def _coords_exact(L: int, O: int, scale: float | None, coordinate: str) -> list[Fraction]:  # noqa: E741
    """The exact rational source coordinates (the rule without rounding errors)."""
    s = _ratio_exact(L, O, scale)
    half = Fraction(1, 2)
    out = []
    for d in range(O):
        if coordinate == "asymmetric":
            x = d / s
        elif coordinate == "tf_half_pixel_for_nn":
            x = (d + half) / s
        elif coordinate == "align_corners":
            x = Fraction(d * (L - 1), O - 1) if O > 1 else Fraction(0)
        elif coordinate == "pytorch_half_pixel" and O == 1:
            x = Fraction(0)
        elif coordinate == "half_pixel_symmetric":
            offset = Fraction(L, 2) * (1 - Fraction(O) / (s * L))
            x = offset + (d + half) / s - half
        else:  # half_pixel, pytorch_half_pixel
            x = (d + half) / s - half
        out.append(x)
    return out


def _coords_ort(L: int, O: int, scale: float | None, coordinate: str,  # noqa: E741
                roi: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """ONNX Runtime's float32 coordinates (upsamplebase.h), ``scale`` as a float32."""
    f = np.float32
    s = f(scale) if scale is not None else f(O) / f(L)
    d = np.arange(O, dtype=f)
    with np.errstate(divide="ignore", invalid="ignore"):
        if coordinate == "asymmetric":
            x = d / s
        elif coordinate == "tf_half_pixel_for_nn":
            x = (d + f(0.5)) / s
        elif coordinate == "align_corners":
            x = d * f(L - 1) / f(O - 1) if O > 1 else np.zeros(O, f)
        elif coordinate == "pytorch_half_pixel" and O == 1:
            x = np.zeros(O, f)
        elif coordinate == "half_pixel_symmetric":
            width = s * f(L)
            offset = f(L) / f(2) * (f(1) - f(O) / width)
            x = (offset + (d.astype(np.float64) + 0.5) / s - 0.5).astype(f)
        elif coordinate == "tf_crop_and_resize":
            start, end = f(roi[0]), f(roi[1])
            if O > 1:
                x = (start * f(L - 1) + (d * (end - start) * f(L - 1)) / f(O - 1)).astype(f)
            else:
                x = np.full(O, 0.5 * (float(start) + float(end)) * (L - 1), dtype=f)
        else:
            x = (d + f(0.5)) / s - f(0.5)
    return x.astype(np.float64)


def _coords_tf(L: int, O: int, coordinate: str) -> np.ndarray:  # noqa: E741
    """TensorFlow's float32 coordinates: the float32 inverse scale times the output index."""
    f = np.float32
    if coordinate == "align_corners":
        inv = f(L - 1) / f(O - 1) if O > 1 else f(L) / f(O)
    else:
        inv = f(L) / f(O)
    d = np.arange(O, dtype=f)
    if coordinate == "half_pixel":
        x = (d + f(0.5)) * inv - f(0.5)
    elif coordinate == "tf_half_pixel_for_nn":
        x = (d + f(0.5)) * inv
    else:  # asymmetric (legacy), align_corners
        x = d * inv
    return x.astype(np.float64)


def _round(x: Fraction | float, mode: str, tie: float = 0.0) -> int:
    """Nearest rounding of one coordinate (exact for Fractions).

    ``tie`` widens the halfway case: ONNX Runtime 1.31.1 treats ``|frac - 0.5| <= 1e-6`` of
    its float32 coordinate as a tie (found by running it).
    """
    fl = math.floor(x)
    frac = x - fl
    if mode == "floor":
        return fl
    if mode == "ceil":
        return fl + (frac > 0)
    off: Any = frac - Fraction(1, 2)
    if abs(off) <= tie:
        return fl + (mode == "round_prefer_ceil")
    return fl + (frac > 0.5)


# ---------------------------------------------------------------------------------------------
# One axis' weight matrix


def _axis_matrix(L: int, O: int, scale: float | None, coordinate: str, method: str,  # noqa: E741
                 nearest_mode: str | None, a: float, exclude: bool, antialias: bool,
                 arith: str, roi: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """The ``(O, L)`` matrix of one axis in arithmetic ``arith`` ('exact', 'onnx', 'tf')."""
    w = np.zeros((O, L), dtype=np.float64)
    rows = np.arange(O)
    if arith == "onnx":
        xf = _coords_ort(L, O, scale, coordinate, roi)
    elif arith == "tf":
        xf = _coords_tf(L, O, coordinate)
    else:
        xf = np.array([float(v) for v in _coords_exact(L, O, scale, coordinate)])
    if method == "nearest":
        if arith == "onnx" and np.float32(scale if scale is not None else O / L) == 1:
            idx = np.arange(O)  # ORT maps a scale of exactly 1 one-to-one
        elif arith == "exact":
            idx = np.array([_round(v, nearest_mode or "floor")
                            for v in _coords_exact(L, O, scale, coordinate)])
        else:
            tie = 1e-6 if arith == "onnx" else 0.0
            idx = np.array([_round(float(v), nearest_mode or "floor", tie) for v in xf])
        w[rows, np.clip(idx, 0, L - 1)] = 1.0
        return w
    if antialias:  # (JAX's, TF's and ONNX's kernels are unstretched when upsampling)
        return _antialias_matrix(L, O, xf, min(scale if scale is not None else O / L, 1.0),
                                 method, a, exclude)
    i0 = np.floor(xf).astype(np.int64)
    t = xf - i0
    if method == "linear":
        for tap, weight in ((i0, 1 - t), (i0 + 1, t)):
            np.add.at(w, (rows, np.clip(tap, 0, L - 1)), weight)
        return w
    if arith == "tf":  # TF's table: t quantised to 1/1024
        table = _tf_table(a)
        off = np.rint(t * _TABLE).astype(np.int64)
        weights = [table[off, 1], table[off, 0], table[_TABLE - off, 0],
                   table[_TABLE - off, 1]]
    else:
        weights = [_keys(t + 1, a), _keys(t, a), _keys(1 - t, a), _keys(2 - t, a)]
    taps = [i0 - 1, i0, i0 + 1, i0 + 2]
    if exclude:
        total = np.zeros(O)
        for tap, weight in zip(taps, weights, strict=True):
            inside = (tap >= 0) & (tap < L)
            total += np.where(inside, weight, 0.0)
        norm = np.where(np.abs(total) > 0, total, 1.0)
        for tap, weight in zip(taps, weights, strict=True):
            inside = (tap >= 0) & (tap < L)
            np.add.at(w, (rows[inside], tap[inside]), (weight / norm)[inside])
        return w
    for tap, weight in zip(taps, weights, strict=True):
        np.add.at(w, (rows, np.clip(tap, 0, L - 1)), weight)
    return w


def _antialias_matrix(L: int, O: int, x: np.ndarray, scale: float, method: str, a: float,  # noqa: E741
                      exclude: bool) -> np.ndarray:
    """The kernel stretched by ``1/scale``, normalised (JAX/TF ScaleAndTranslate, ONNX)."""
    radius = 1.0 if method == "linear" else 2.0
    reach = int(math.ceil(radius / scale)) + 1
    w = np.zeros((O, L), dtype=np.float64)
    for o in range(O):
        taps = np.arange(math.floor(x[o]) - reach, math.floor(x[o]) + reach + 1)
        dist = np.abs(x[o] - taps) * scale
        k = _triangle(dist) if method == "linear" else _keys(dist, a)
        if exclude:
            keep = (taps >= 0) & (taps < L)
            taps, k = taps[keep], k[keep]
        total = k.sum()
        if abs(total) > 1000 * np.finfo(np.float32).eps:
            np.add.at(w[o], np.clip(taps, 0, L - 1), k / total)
    return w


def _apply(x: np.ndarray, mats: Sequence[np.ndarray], axes: Sequence[int]) -> np.ndarray:
    """Resize ``x`` along ``axes`` with one ``(O, L)`` matrix each (float64 accumulation)."""
    y = x.astype(np.float64)
    for m, axis in zip(mats, axes, strict=True):
        y = np.moveaxis(np.tensordot(m, y, axes=([1], [axis])), 0, axis)
    return y.astype(x.dtype)


def _same(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    return all(p.shape == q.shape and np.allclose(p, q, rtol=0, atol=_TOL)
               for p, q in zip(a, b, strict=True))


def _differs_at(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> list[list[int]]:
    return [np.flatnonzero(~np.all(np.isclose(p, q, rtol=0, atol=_TOL), axis=1)).tolist()
            for p, q in zip(a, b, strict=True)]


# ---------------------------------------------------------------------------------------------
# PyTorch's matrices: probe upconv.interpolate (PyTorch's kernels, float32 arithmetic)


def _torch_matrices(mode: str, align_corners: bool | None, input_size: tuple[int, ...],
                    size: tuple[int, ...] | None, scale_factor: tuple[float, ...] | None
                    ) -> list[np.ndarray]:
    """Each axis' matrix of ``F.interpolate`` on float32 data, read off one-hot inputs."""
    mats = []
    nd = len(input_size)
    for axis, L in enumerate(input_size):
        shape = [1] * nd
        shape[axis] = L
        eye = np.eye(L, dtype=np.float32).reshape(L, *shape)
        probe = np.broadcast_to(eye, (L, *input_size))[None].copy()  # (1, L, *input_size)
        y = _np_interpolate(probe, size=size, scale_factor=scale_factor, mode=mode,
                            align_corners=align_corners)
        pick: tuple[Any, ...] = (0, slice(None)) + tuple(
            slice(None) if a == axis else 0 for a in range(nd))
        mats.append(np.asarray(y[pick], dtype=np.float64).T)  # (O, L)
    return mats


# =============================================================================================
# The spec


@dataclass(frozen=True)
class ResizeSpec:
    """A resize, framework-neutral, one entry per spatial dimension.

    Attributes
    ----------
    method : {'nearest', 'linear', 'cubic'}
    input_size, output_size : tuple of int
        ``L`` and ``O`` per spatial dimension.
    scale : tuple of (float or None)
        The scale the coordinate rule uses (ONNX ``scales``, PyTorch ``scale_factor``); None
        means ``O/L`` (sizes given).
    coordinate : str
        One of :data:`COORDINATES`.
    nearest_mode : str or None
        One of :data:`NEAREST_MODES` (nearest only).
    cubic_coeff_a : float
        Keys' ``A`` (cubic only).
    exclude_outside : bool
        Cubic/antialias: drop taps outside the input and renormalise (else the edge repeats).
    antialias : bool
        Stretch the kernel by ``L/O`` when downsampling.
    source : {'', 'torch', 'tf', 'keras', 'jax', 'onnx'}
        Whose floating-point arithmetic :meth:`weights` follows ('' and JAX/Keras: exact).

    Examples
    --------
    >>> spec = ResizeSpec.from_tf((3,), (5,), "nearest")
    >>> spec.coordinate, spec.nearest_mode
    ('tf_half_pixel_for_nn', 'floor')
    >>> spec.to_torch().args
    {'size': 5, 'mode': 'nearest-exact'}
    >>> spec.to_onnx().args["coordinate_transformation_mode"]
    'tf_half_pixel_for_nn'
    """

    method: str
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    scale: tuple[float | None, ...] = ()
    coordinate: str = "half_pixel"
    nearest_mode: str | None = None
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        func = "ResizeSpec"
        check_choice(self.method, METHODS, "method", func)
        size = _sizes(self.input_size, func, "input_size")
        out = _sizes(self.output_size, func, "output_size")
        if len(out) != len(size):
            raise ShapeError(f"{func}: output_size={_show(out)} and input_size={_show(size)} "
                             "differ in length")
        scale = self.scale or (None,) * len(size)
        if len(scale) != len(size):
            raise ShapeError(f"{func}: scale={_show(self.scale)} needs {len(size)} entries")
        for v in scale:
            if v is not None and not (isinstance(v, int | float) and v > 0 and math.isfinite(v)):
                raise ShapeError(f"{func}: scale={_show(self.scale)} must hold positive "
                                 "numbers or None")
        check_choice(self.coordinate, COORDINATES, "coordinate", func)
        mode = self.nearest_mode
        if self.method == "nearest":
            mode = check_choice(mode or "round_prefer_floor", NEAREST_MODES, "nearest_mode",
                                func)
        else:
            mode = None
        check_choice(self.source, ("", "torch", "tf", "keras", "jax", "onnx"), "source", func)
        for name, value in (("input_size", size), ("output_size", out),
                            ("scale", tuple(None if v is None else float(v) for v in scale)),
                            ("nearest_mode", mode), ("cubic_coeff_a", float(self.cubic_coeff_a)),
                            ("exclude_outside", bool(self.exclude_outside)),
                            ("antialias", bool(self.antialias))):
            object.__setattr__(self, name, value)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.input_size)

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data.

        Examples
        --------
        >>> ResizeSpec("linear", (2,), (4,)).to_dict()["coordinate"]
        'half_pixel'
        """
        return {"method": self.method, "input_size": list(self.input_size),
                "output_size": list(self.output_size), "scale": list(self.scale),
                "coordinate": self.coordinate, "nearest_mode": self.nearest_mode,
                "cubic_coeff_a": self.cubic_coeff_a, "exclude_outside": self.exclude_outside,
                "antialias": self.antialias, "source": self.source}

    def weights(self) -> list[np.ndarray]:
        """The ``(O, L)`` matrix of every spatial dimension, in the source's arithmetic.

        Examples
        --------
        >>> ResizeSpec("linear", (2,), (4,)).weights()[0]
        array([[1.  , 0.  ],
               [0.75, 0.25],
               [0.25, 0.75],
               [0.  , 1.  ]])
        """
        if self.source == "torch":
            mode, ac = _torch_mode(self)
            given = all(s is not None for s in self.scale)
            return _torch_matrices(mode, ac, self.input_size,
                                   None if given else self.output_size,
                                   tuple(s for s in self.scale if s is not None) if given
                                   else None)
        arith = {"onnx": "onnx", "tf": "tf"}.get(self.source, "exact")
        if arith == "onnx" and self.output_size == self.input_size:
            # ONNX Runtime copies the input when no dimension changes, whatever the scales
            return [np.eye(n) for n in self.input_size]
        # ONNX Runtime leaves an axis alone when its scale is 1 (or, antialiased, when its
        # size is kept)
        return [np.eye(L) if arith == "onnx" and L == O and (
                    s is None or np.float32(s) == 1 or self.antialias) else
                _axis_matrix(L, O, s, self.coordinate, self.method, self.nearest_mode,
                             self.cubic_coeff_a, self.exclude_outside, self.antialias, arith)
                for L, O, s in zip(self.input_size, self.output_size, self.scale, strict=True)]  # noqa: E741

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Resize channels-first ``(N, C, *input_size)`` (or unbatched) data.

        Examples
        --------
        >>> ResizeSpec("nearest", (2,), (4,), coordinate="asymmetric",
        ...            nearest_mode="floor").apply(np.array([[1.0, 2.0]]))
        array([[1., 1., 2., 2.]])
        """
        func = "ResizeSpec.apply"
        arr = float_array(x, "x", func)
        nd = self.ndim
        if arr.ndim < nd + 1 or tuple(arr.shape[-nd:]) != self.input_size:
            raise ShapeError(f"{func}: x has shape {arr.shape}; the spec resizes trailing "
                             f"dimensions of size {self.input_size}")
        return _apply(arr, self.weights(), range(arr.ndim - nd, arr.ndim))

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_torch(cls, input_size: Any, size: Any = None, scale_factor: Any = None,
                   mode: str = "nearest", align_corners: bool | None = None,
                   recompute_scale_factor: bool | None = None, antialias: bool = False
                   ) -> ResizeSpec:
        """PyTorch ``F.interpolate`` / ``nn.Upsample`` (``input_size`` is spatial).

        ``nearest`` is ``asymmetric`` + ``floor``; ``nearest-exact`` ``half_pixel`` +
        ``round_prefer_ceil``; the linear modes and ``bicubic`` (``A = -0.75``, edge repeated)
        ``half_pixel`` or ``align_corners``.  An output of size 1 samples the centre
        (PyTorch 2.13; ONNX's ``pytorch_half_pixel`` encodes the older first element).
        ``antialias=True`` and ``mode='area'`` are not supported (ShapeError).

        Examples
        --------
        >>> s = ResizeSpec.from_torch((3,), scale_factor=2.5, mode="linear")
        >>> s.output_size, s.scale
        ((7,), (2.5,))
        """
        func = "ResizeSpec.from_torch"
        L = _sizes(input_size, func, "input_size")
        nd = len(L)
        mode = check_choice(mode, _TORCH_MODES, "mode", func)
        if antialias:
            raise ShapeError(f"{func}: antialias=True is not supported: upconv does not "
                             "implement PyTorch's antialiased kernels; nearest alternative: "
                             "antialias=False, or JAX/TF antialiasing (ResizeSpec.from_jax)")
        if mode == "area":
            raise ShapeError(f"{func}: mode='area' is adaptive average pooling, not an "
                             "interpolation; use upconv.interpolate(mode='area')")
        if align_corners is not None and mode not in ("linear", "bilinear", "bicubic",
                                                      "trilinear"):
            raise ShapeError(f"{func}: align_corners can only be set with the interpolating "
                             f"modes, not mode={mode!r}")
        if mode in ("linear", "bilinear", "trilinear") and mode != _TORCH_LINEAR[nd]:
            raise ShapeError(f"{func}: mode={mode!r} needs a different number of spatial "
                             f"dimensions; for {nd} use {_TORCH_LINEAR[nd]!r}")
        if mode == "bicubic" and nd != 2:
            raise ShapeError(f"{func}: mode='bicubic' needs 2 spatial dimensions")
        out, scale = _torch_sizes(L, size, scale_factor, recompute_scale_factor, func)
        ac = bool(align_corners)
        if mode == "nearest":
            kw: dict[str, Any] = {"coordinate": "asymmetric", "nearest_mode": "floor"}
            method = "nearest"
        elif mode == "nearest-exact":
            kw = {"coordinate": "half_pixel", "nearest_mode": "round_prefer_ceil"}
            method = "nearest"
        else:
            method = "cubic" if mode == "bicubic" else "linear"
            kw = {"coordinate": "align_corners" if ac else "half_pixel"}
        if ac:
            scale = (None,) * nd  # align_corners ignores the scale
        return cls(method, L, out, scale, cubic_coeff_a=-0.75, source="torch", **kw)

    @classmethod
    def from_tf(cls, input_size: Any, size: Any, method: str = "bilinear",
                antialias: bool = False, *, align_corners: bool | None = None,
                half_pixel_centers: bool | None = None) -> ResizeSpec:
        """TensorFlow ``tf.image.resize`` (v2), or the compat.v1 ops when a flag is given.

        v2: ``bilinear`` half-pixel, ``nearest`` ``floor((d + 0.5) L/O)``, ``bicubic`` Keys
        ``A = -0.5`` with the taps outside excluded; ``antialias`` stretches the kernel when
        downsampling (not for nearest).  With ``align_corners`` / ``half_pixel_centers``
        (``tf.compat.v1.image.resize_bilinear`` etc.): legacy ``d*L/O`` (``asymmetric``),
        ``align_corners`` (nearest then *rounds*, half away from zero) or half-pixel; v1
        bicubic is ``A = -0.75`` with the edge repeated unless ``half_pixel_centers``.

        Examples
        --------
        >>> ResizeSpec.from_tf((3,), (5,), "nearest", align_corners=True).nearest_mode
        'round_prefer_ceil'
        """
        func = "ResizeSpec.from_tf"
        L = _sizes(input_size, func, "input_size")
        out = per_dim(_seq(size), len(L), "size", func)
        method = check_choice(method, _TF_METHODS, "method", func)
        v1 = align_corners is not None or half_pixel_centers is not None
        ac, hp = bool(align_corners), bool(half_pixel_centers)
        if ac and hp:
            raise ShapeError(f"{func}: align_corners=True and half_pixel_centers=True cannot "
                             "both be set (TensorFlow rejects it)")
        if v1 and antialias:
            raise ShapeError(f"{func}: antialias is a tf.image.resize (v2) option; the v1 ops "
                             "have none")
        if not v1:
            hp = True
        coord = "align_corners" if ac else ("half_pixel" if hp else "asymmetric")
        kw: dict[str, Any] = {"antialias": bool(antialias) and method != "nearest"}
        if method == "nearest":
            kw["antialias"] = False
            if hp:
                coord, kw["nearest_mode"] = "tf_half_pixel_for_nn", "floor"
            else:
                kw["nearest_mode"] = "round_prefer_ceil" if ac else "floor"
            name = "nearest"
        elif method == "bicubic":
            name = "cubic"
            kw.update(cubic_coeff_a=-0.5 if hp else -0.75, exclude_outside=hp)
        else:
            name = "linear"
            if kw["antialias"]:
                kw["exclude_outside"] = True
        if kw["antialias"]:
            kw["cubic_coeff_a"] = -0.5
            kw["exclude_outside"] = True
        return cls(name, L, out, (None,) * len(L), coord, source="tf", **kw)

    @classmethod
    def from_keras(cls, input_size: Any, size: Any = 2, interpolation: str = "nearest", *,
                   layer: str = "UpSampling") -> ResizeSpec:
        """Keras 3 ``UpSampling{1,2,3}D(size, interpolation)`` or ``Resizing(height, width)``.

        ``layer='UpSampling'``: ``size`` is the integer factor(s); nearest repeats each
        element (``floor(d/r)``), ``bilinear`` (2-d only) is TF's half-pixel bilinear.
        ``layer='Resizing'``: ``size`` is the output ``(height, width)``; ``nearest``,
        ``bilinear``, ``bicubic`` as ``tf.image.resize``/``jax.image.resize`` without
        antialiasing.

        Examples
        --------
        >>> ResizeSpec.from_keras((3, 3), 2).output_size
        (6, 6)
        """
        func = "ResizeSpec.from_keras"
        L = _sizes(input_size, func, "input_size")
        nd = len(L)
        layer = check_choice(layer, ("UpSampling", "Resizing"), "layer", func)
        if layer == "UpSampling":
            interpolation = check_choice(interpolation, ("nearest", "bilinear"),
                                         "interpolation", func)
            r = per_dim(_seq(size), nd, "size", func)
            out = tuple(n * f for n, f in zip(L, r, strict=True))
            if interpolation == "nearest":
                return cls("nearest", L, out, tuple(float(f) for f in r), "asymmetric",
                           "floor", source="keras")
            if nd != 2:
                raise ShapeError(f"{func}: interpolation='bilinear' needs UpSampling2D (2 "
                                 "spatial dimensions)")
            return cls("linear", L, out, (None,) * nd, "half_pixel", source="keras")
        if nd != 2:
            raise ShapeError(f"{func}: Resizing is 2-d; input_size={_show(L)}")
        interpolation = check_choice(interpolation, _TF_METHODS, "interpolation", func)
        out = per_dim(_seq(size), nd, "size", func)
        if interpolation == "nearest":
            return cls("nearest", L, out, (None,) * nd, "tf_half_pixel_for_nn", "floor",
                       source="keras")
        if interpolation == "bilinear":
            return cls("linear", L, out, (None,) * nd, "half_pixel", source="keras")
        return cls("cubic", L, out, (None,) * nd, "half_pixel", cubic_coeff_a=-0.5,
                   exclude_outside=True, source="keras")

    @classmethod
    def from_jax(cls, input_size: Any, shape: Any, method: str, antialias: bool = True
                 ) -> ResizeSpec:
        """``jax.image.resize`` over the spatial dimensions (``shape`` = spatial output).

        ``nearest``: ``floor((d + 0.5) L/O)``; ``linear``: half-pixel triangle;
        ``cubic``: Keys ``A = -0.5``, taps outside excluded; ``cubic-pytorch``: ``A = -0.75``,
        edge repeated (plain ``cubic`` when antialiased).  ``antialias`` (default True!)
        stretches the kernel when downsampling.  Lanczos and area have no counterpart here
        (``jax_resize`` computes them).

        Examples
        --------
        >>> ResizeSpec.from_jax((8,), (4,), "linear").antialias
        True
        """
        func = "ResizeSpec.from_jax"
        L = _sizes(input_size, func, "input_size")
        out = per_dim(_seq(shape), len(L), "shape", func)
        method = check_choice(method, _JAX_METHODS, "method", func)
        none = (None,) * len(L)
        if method == "nearest":
            return cls("nearest", L, out, none, "tf_half_pixel_for_nn", "floor", source="jax")
        if method in ("linear", "bilinear", "trilinear", "triangle"):
            return cls("linear", L, out, none, "half_pixel", antialias=bool(antialias),
                       exclude_outside=True, source="jax")
        if method in ("cubic-pytorch", "bicubic-pytorch") and not antialias:
            return cls("cubic", L, out, none, "half_pixel", cubic_coeff_a=-0.75, source="jax")
        if method in ("cubic", "bicubic", "tricubic", "cubic-pytorch", "bicubic-pytorch"):
            return cls("cubic", L, out, none, "half_pixel", cubic_coeff_a=-0.5,
                       exclude_outside=True, antialias=bool(antialias), source="jax")
        raise ShapeError(f"{func}: method={method!r} has no ResizeSpec counterpart (only "
                         "nearest, linear and cubic kernels); jax_resize computes it")

    @classmethod
    def from_onnx(cls, input_size: Any, scales: Any = None, sizes: Any = None,
                  mode: str = "nearest", coordinate_transformation_mode: str = "half_pixel",
                  nearest_mode: str = "round_prefer_floor", cubic_coeff_a: float = -0.75,
                  exclude_outside: int = 0, antialias: int = 0,
                  keep_aspect_ratio_policy: str = "stretch") -> ResizeSpec:
        """ONNX ``Resize`` (opset 19), ``scales``/``sizes`` per spatial dimension or full-rank.

        With ``scales`` the output is ONNX Runtime's ``int(float32(scale) * L)`` and the
        coordinates divide by that float32 scale; with ``sizes`` the scale is ``O/L``.
        ``tf_crop_and_resize`` needs ``roi`` and ``extrapolation_value``: use
        :func:`onnx_resize` (not a spec).

        Examples
        --------
        >>> ResizeSpec.from_onnx((4,), scales=[1, 1, 0.5], mode="linear").output_size
        (2,)
        """
        func = "ResizeSpec.from_onnx"
        L = _sizes(input_size, func, "input_size")
        mode = check_choice(mode, METHODS, "mode", func)
        coord = check_choice(coordinate_transformation_mode, _ONNX_COORDS,
                             "coordinate_transformation_mode", func)
        if coord == "tf_crop_and_resize":
            raise ShapeError(f"{func}: coordinate_transformation_mode='tf_crop_and_resize' "
                             "crops a region of interest and extrapolates; no other framework "
                             "resizes that way (TF's crop_and_resize is a separate op); "
                             "onnx_resize computes it")
        nmode = check_choice(nearest_mode, NEAREST_MODES, "nearest_mode", func)
        excl = _flag(exclude_outside, "exclude_outside", func)
        aa = _flag(antialias, "antialias", func)
        if aa and mode == "nearest":
            raise ShapeError(f"{func}: antialias=1 needs mode 'linear' or 'cubic' (ONNX "
                             "Runtime's rule)")
        out, scale = _onnx_sizes(L, scales, sizes, keep_aspect_ratio_policy, func)
        return cls(mode, L, out, scale, coord, nmode if mode == "nearest" else None,
                   float(cubic_coeff_a), excl, aa, "onnx")

    # -- translators ------------------------------------------------------------------------

    def _describe(self) -> str:
        what = {"nearest": f"nearest ({self.coordinate}, {self.nearest_mode})",
                "linear": f"linear ({self.coordinate})",
                "cubic": f"cubic ({self.coordinate}, A={self.cubic_coeff_a}, "
                         f"exclude_outside={self.exclude_outside})"}[self.method]
        if self.antialias:
            what += ", antialiased"
        return f"{what} {self.input_size} -> {self.output_size}"

    def _search(self, framework: str, candidates: list[tuple[dict[str, Any], ResizeSpec]],
                offers: str) -> tuple[dict[str, Any], ResizeSpec]:
        """The first candidate computing the same matrices, else ShapeError naming the best."""
        mine = self.weights()
        best, best_err = None, math.inf
        for args, spec in candidates:
            theirs = spec.weights()
            if _same(mine, theirs):
                return args, spec
            err = max(float(np.max(np.abs(p - q))) if p.shape == q.shape else math.inf
                      for p, q in zip(mine, theirs, strict=True))
            if err < best_err:
                best, best_err = (args, spec), err
        hint = ""
        if best is not None:
            where = _differs_at(mine, best[1].weights()) if best_err < math.inf else []
            hint = (f"; the nearest alternative is {best[0]}, which differs at output "
                    f"positions {where} (max weight difference {best_err:.3g})")
        raise ShapeError(f"ResizeSpec.to_{framework}: {framework} cannot express "
                         f"{self._describe()}: {offers}{hint}")

    def to_torch(self) -> Translation:
        """``torch.nn.functional.interpolate`` arguments.

        Examples
        --------
        >>> print(ResizeSpec.from_onnx((4, 4), sizes=[8, 8], mode="linear").to_torch().code)
        y = torch.nn.functional.interpolate(x, size=(8, 8), mode='bilinear', \
align_corners=False)
        """
        nd = self.ndim
        cands: list[tuple[dict[str, Any], ResizeSpec]] = []
        if self.method == "nearest":
            modes: list[tuple[str, bool | None]] = [("nearest", None), ("nearest-exact", None)]
        elif self.method == "linear":
            modes = [(_TORCH_LINEAR[nd], False), (_TORCH_LINEAR[nd], True)]
        else:
            modes = [("bicubic", False), ("bicubic", True)] if nd == 2 else []
        for mode, ac in modes:
            for sized in _size_forms(self):
                args: dict[str, Any] = dict(sized)
                args["mode"] = mode
                if ac is not None:
                    args["align_corners"] = ac
                try:
                    spec = ResizeSpec.from_torch(self.input_size, **args)
                except ShapeError:
                    continue
                if spec.output_size == self.output_size:
                    cands.append((args, spec))
        offers = ("PyTorch offers nearest floor(d*L/O) ('nearest'), floor((d+0.5)*L/O) "
                  "('nearest-exact'), half-pixel or align_corners linear, and bicubic "
                  "(2-d, A=-0.75, edge repeated, no exclusion); its antialias is not "
                  "modelled")
        args, _ = self._search("torch", cands, offers)
        parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return Translation("torch", "interpolate", args, {}, True,
                           [f"PyTorch {args['mode']} gives the same weights"],
                           f"y = torch.nn.functional.interpolate(x, {parts})")

    def to_tf(self) -> Translation:
        """``tf.image.resize`` (v2) or a ``tf.compat.v1.image.resize_*`` op (NHWC).

        Examples
        --------
        >>> ResizeSpec.from_torch((4, 4), size=(7, 7), mode="nearest").to_tf().op
        'tf.compat.v1.image.resize_nearest_neighbor'
        """
        out = list(self.output_size)
        cands: list[tuple[dict[str, Any], ResizeSpec]] = []
        name = {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"}[self.method]
        for aa in (False, True):
            args: dict[str, Any] = {"size": out, "method": name, "antialias": aa}
            try:
                cands.append((args, ResizeSpec.from_tf(self.input_size, out, name, aa)))
            except ShapeError:
                pass
        for ac, hp in ((False, False), (True, False), (False, True)):
            args = {"size": out, "align_corners": ac, "half_pixel_centers": hp}
            cands.append((args, ResizeSpec.from_tf(self.input_size, out, name,
                                                   align_corners=ac, half_pixel_centers=hp)))
        if self.ndim != 2:
            raise ShapeError(f"ResizeSpec.to_tf: TensorFlow's image resizing is 2-d; the spec "
                             f"has {self.ndim} spatial dimensions")
        offers = ("TensorFlow resizes with the ratio L/O (no separate scale), v2 half-pixel "
                  "(bicubic A=-0.5, outside taps excluded) or v1 legacy/align_corners/"
                  "half-pixel (bicubic A=-0.75 except half-pixel)")
        args, _ = self._search("tf", cands, offers)
        if "method" in args:
            op = "tf.image.resize"
            code = (f"y = tf.image.resize(x, {out!r}, method={name!r}, "
                    f"antialias={args['antialias']!r})")
        else:
            raw = {"nearest": "resize_nearest_neighbor", "linear": "resize_bilinear",
                   "cubic": "resize_bicubic"}[self.method]
            op = f"tf.compat.v1.image.{raw}"
            code = (f"y = {op}(x, {out!r}, align_corners={args['align_corners']!r}, "
                    f"half_pixel_centers={args['half_pixel_centers']!r})")
        return Translation("tf", op, args, {}, True,
                           ["TensorFlow resizes NHWC images; the same weights as the spec"],
                           code)

    def to_keras(self) -> Translation:
        """``keras.layers.UpSampling{n}D`` or ``keras.layers.Resizing`` (channels last).

        Examples
        --------
        >>> print(ResizeSpec.from_torch((3, 4), scale_factor=2).to_keras().code)
        y = keras.layers.UpSampling2D(size=(2, 2), interpolation='nearest')(x)
        """
        nd = self.ndim
        cands: list[tuple[dict[str, Any], ResizeSpec]] = []
        factors = [o // n for n, o in zip(self.input_size, self.output_size, strict=True)]
        if all(f >= 1 and n * f == o for n, f, o in
               zip(self.input_size, factors, self.output_size, strict=True)):
            for interp in ("nearest", "bilinear"):
                try:
                    spec = ResizeSpec.from_keras(self.input_size, factors, interp)
                except ShapeError:
                    continue
                cands.append(({"layer": f"UpSampling{nd}D", "size": _v(factors),
                               "interpolation": interp}, spec))
        if nd == 2:
            for interp in _TF_METHODS:
                cands.append(({"layer": "Resizing", "height": self.output_size[0],
                               "width": self.output_size[1], "interpolation": interp},
                              ResizeSpec.from_keras(self.input_size, self.output_size, interp,
                                                    layer="Resizing")))
        offers = ("Keras has UpSampling (integer factors: nearest repetition, 2-d half-pixel "
                  "bilinear) and 2-d Resizing (tf.image.resize without antialiasing)")
        args, _ = self._search("keras", cands, offers)
        if args["layer"] == "Resizing":
            code = (f"y = keras.layers.Resizing({args['height']}, {args['width']}, "
                    f"interpolation={args['interpolation']!r})(x)")
        else:
            size = args["size"] if nd == 1 else tuple(factors)
            if nd == 2:
                code = (f"y = keras.layers.{args['layer']}(size={size!r}, "
                        f"interpolation={args['interpolation']!r})(x)")
            else:
                code = f"y = keras.layers.{args['layer']}(size={size!r})(x)"
        return Translation("keras", args["layer"], args, {}, True,
                           ["Keras layers take channels-last input by default"], code)

    def to_jax(self) -> Translation:
        """``jax.image.resize`` on channels-first data.

        Examples
        --------
        >>> print(ResizeSpec.from_tf((4, 4), (2, 2), antialias=True).to_jax().code)
        y = jax.image.resize(x, x.shape[:2] + (2, 2), method='linear', antialias=True)
        """
        cands: list[tuple[dict[str, Any], ResizeSpec]] = []
        for method in ("nearest", "linear", "cubic", "cubic-pytorch"):
            for aa in (False, True):
                cands.append(({"method": method, "antialias": aa},
                              ResizeSpec.from_jax(self.input_size, self.output_size, method,
                                                  aa)))
        offers = ("jax.image.resize uses half-pixel coordinates with the ratio L/O: nearest "
                  "floor((d+0.5)L/O), linear, cubic A=-0.5 (outside excluded) or "
                  "cubic-pytorch A=-0.75, optionally antialiased")
        args, _ = self._search("jax", cands, offers)
        code = (f"y = jax.image.resize(x, x.shape[:2] + {tuple(self.output_size)!r}, "
                f"method={args['method']!r}, antialias={args['antialias']!r})")
        return Translation("jax", "jax.image.resize", args, {}, True,
                           ["jax.image.resize takes the full output shape"], code)

    def to_onnx(self) -> Translation:
        """ONNX ``Resize`` attributes and the ``scales`` or ``sizes`` input (full rank).

        ONNX's vocabulary covers every spec; the result is ``exact=False`` (with the output
        positions in ``extra``) when ONNX Runtime's float32 arithmetic picks other elements.

        Examples
        --------
        >>> t = ResizeSpec.from_torch((14,), size=(2,), mode="nearest").to_onnx()
        >>> t.exact, t.extra
        (False, {'onnxruntime_differs_at': [[1]]})
        """
        args: dict[str, Any] = {"mode": self.method,
                                "coordinate_transformation_mode": self.coordinate}
        if self.method == "nearest":
            args["nearest_mode"] = self.nearest_mode
        if self.method == "cubic":
            args["cubic_coeff_a"] = self.cubic_coeff_a
            args["exclude_outside"] = int(self.exclude_outside)
        if self.antialias:
            args["antialias"] = 1
            args["exclude_outside"] = int(self.exclude_outside)
        given = [s is not None for s in self.scale]
        if any(given) and not all(given):
            raise ShapeError("ResizeSpec.to_onnx: ONNX takes either scales or sizes for all "
                             "axes; the spec mixes them")
        if all(given):
            scales = [1.0, 1.0, *[float(s) for s in self.scale if s is not None]]
            ort_out = tuple(int(np.float32(s) * np.float32(n)) for s, n in
                            zip(scales[2:], self.input_size, strict=True))
            if ort_out != self.output_size:
                raise ShapeError(f"ResizeSpec.to_onnx: scales {scales[2:]} give ONNX Runtime "
                                 f"outputs {ort_out}, not {self.output_size}; nearest "
                                 "alternative: sizes (the coordinates then use O/L)")
            args["scales"] = scales
            src = "['x', '', 'scales']"
        else:
            args["sizes"] = ["N", "C", *self.output_size]
            src = "['x', '', '', 'sizes']"
        attrs = {k: v for k, v in args.items() if k not in ("scales", "sizes")}
        spec = ResizeSpec(self.method, self.input_size, self.output_size, self.scale,
                          self.coordinate, self.nearest_mode, self.cubic_coeff_a,
                          self.exclude_outside, self.antialias, "onnx")
        mine, theirs = self.weights(), spec.weights()
        parts = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
        code = (f"node = onnx.helper.make_node('Resize', {src}, ['y'], {parts})  # "
                + (f"scales = {args['scales']}" if "scales" in args else
                   f"sizes = [N, C, {', '.join(map(str, self.output_size))}]"))
        notes = ["ONNX Resize names the spec's coordinate and nearest rules directly"]
        if _same(mine, theirs):
            return Translation("onnx", "Resize", args, {}, True, notes, code)
        notes.append("ONNX Runtime computes the source coordinate in float32 (dividing by a "
                     "float32 scale) and picks different elements at the output positions "
                     "in extra['onnxruntime_differs_at']")
        return Translation("onnx", "Resize", args,
                           {"onnxruntime_differs_at": _differs_at(mine, theirs)}, False, notes,
                           code)

    def to(self, framework: str) -> Translation:
        """Dispatch to ``to_<framework>()`` (torch, tf, keras, jax, onnx).

        Examples
        --------
        >>> ResizeSpec("linear", (2, 2), (4, 4)).to("pytorch").args["mode"]
        'bilinear'
        """
        fw = check_framework(framework, "ResizeSpec.to",
                             allowed=("torch", "tf", "keras", "jax", "onnx"))
        result: Translation = getattr(self, f"to_{fw}")()
        return result


# ---------------------------------------------------------------------------------------------
# Argument helpers


def _seq(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _v(values: Sequence[int]) -> int | tuple[int, ...]:
    return int(values[0]) if len(values) == 1 else tuple(int(v) for v in values)


def _sizes(value: Any, func: str, name: str) -> tuple[int, ...]:
    value = _seq(value)
    if _is_int(value):
        value = (value,)
    if not isinstance(value, list | tuple) or len(value) not in (1, 2, 3):
        raise ShapeError(f"{func}: {name}={_show(value)} must be 1 to 3 spatial sizes")
    return per_dim(tuple(value), len(value), name, func)


def _flag(value: Any, name: str, func: str) -> bool:
    if isinstance(value, bool | np.bool_) or (_is_int(value) and int(value) in (0, 1)):
        return bool(value)
    raise ShapeError(f"{func}: {name}={_show(value)} must be 0 or 1")


def _torch_sizes(L: tuple[int, ...], size: Any, scale_factor: Any, recompute: Any, func: str
                 ) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    nd = len(L)
    if (size is None) == (scale_factor is None):
        raise ShapeError(f"{func}: give exactly one of size and scale_factor")
    if size is not None:
        return per_dim(_seq(size), nd, "size", func), (None,) * nd
    sf = _seq(scale_factor)
    factors = list(sf) if isinstance(sf, list | tuple) else [sf] * nd
    if len(factors) != nd or not all(isinstance(f, int | float) and not isinstance(f, bool)
                                     and f > 0 for f in factors):
        raise ShapeError(f"{func}: scale_factor={_show(scale_factor)} must be a positive "
                         f"number or {nd} of them")
    out = tuple(math.floor(n * float(f)) for n, f in zip(L, factors, strict=True))
    if min(out) < 1:
        raise ShapeError(f"{func}: scale_factor={_show(scale_factor)} gives an empty output "
                         f"{out}")
    if recompute:
        return out, (None,) * nd
    return out, tuple(float(f) for f in factors)


def _size_forms(spec: ResizeSpec) -> list[dict[str, Any]]:
    """PyTorch's ways to ask for the spec's output: size, and the scale when one is given."""
    forms: list[dict[str, Any]] = [{"size": _v(spec.output_size)}]
    if all(s is not None for s in spec.scale):
        forms.insert(0, {"scale_factor": _v_float([s for s in spec.scale if s is not None])})
    return forms


def _v_float(values: Sequence[float]) -> float | tuple[float, ...]:
    return values[0] if len(values) == 1 else tuple(values)


def _torch_mode(spec: ResizeSpec) -> tuple[str, bool | None]:
    """The ``F.interpolate`` mode (and align_corners) a torch-sourced spec came from."""
    if spec.method == "nearest":
        return ("nearest" if spec.coordinate == "asymmetric" else "nearest-exact"), None
    ac = spec.coordinate == "align_corners"
    if spec.method == "cubic":
        return "bicubic", ac
    return _TORCH_LINEAR[spec.ndim], ac


def _onnx_sizes(L: tuple[int, ...], scales: Any, sizes: Any, policy: Any, func: str
                ) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """ONNX Runtime's output sizes and coordinate scales from ``scales`` or ``sizes``."""
    nd = len(L)
    policy = check_choice(policy, ("stretch", "not_larger", "not_smaller"),
                          "keep_aspect_ratio_policy", func)
    if (scales is None) == (sizes is None):
        raise ShapeError(f"{func}: give exactly one of scales and sizes")
    raw = _seq(scales if scales is not None else sizes)
    name = "scales" if scales is not None else "sizes"
    if not isinstance(raw, list | tuple) or len(raw) not in (nd, nd + 2):
        raise ShapeError(f"{func}: {name}={_show(raw)} must have {nd} (spatial) or {nd + 2} "
                         "(full-rank) entries")
    if len(raw) == nd + 2:
        if scales is not None and any(float(v) != 1.0 for v in raw[:2]):
            raise ShapeError(f"{func}: scales={_show(raw)} resizes the batch or channel axis; "
                             "only spatial axes are supported")
        raw = raw[2:]
    if scales is not None and policy != "stretch":
        raise ShapeError(f"{func}: keep_aspect_ratio_policy={policy!r} applies to sizes only")
    if scales is not None:
        return _onnx_sizes_any(L, raw, None, policy, func)
    return _onnx_sizes_any(L, None, per_dim(tuple(raw), nd, "sizes", func), policy, func)


# =============================================================================================
# Compute functions in each framework's names and layouts


def torch_interpolate(input: np.ndarray, size: Any = None, scale_factor: Any = None,
                      mode: str = "nearest", align_corners: bool | None = None,
                      recompute_scale_factor: bool | None = None, antialias: bool = False
                      ) -> np.ndarray:
    """PyTorch ``F.interpolate`` (= :func:`upconv.interpolate`; ``antialias`` unsupported).

    Parameters
    ----------
    input : (N, C, *spatial) ndarray
    size, scale_factor, mode, align_corners, recompute_scale_factor
        As in PyTorch.
    antialias : bool
        Must be False: upconv does not implement PyTorch's antialiased kernels.

    Returns
    -------
    (N, C, *out) ndarray

    Raises
    ------
    ShapeError
        With ``antialias=True`` (the nearest alternative is named).

    See Also
    --------
    ResizeSpec.from_torch : the same call as a spec.

    Examples
    --------
    >>> torch_interpolate(np.arange(2.0).reshape(1, 1, 2), scale_factor=2)
    array([[[0., 0., 1., 1.]]])
    """
    if antialias:
        raise ShapeError("torch_interpolate: antialias=True is not supported (upconv does not "
                         "implement PyTorch's antialiased kernels); nearest alternative: "
                         "jax_resize(..., antialias=True), JAX's and TF's antialiasing")
    return _np_interpolate(input, size, scale_factor, mode, align_corners,
                           recompute_scale_factor)


def _images(x: Any, func: str, name: str = "images") -> tuple[np.ndarray, bool]:
    arr = float_array(x, name, func)
    if arr.ndim not in (3, 4):
        raise ShapeError(f"{func}: {name} has shape {arr.shape}; expected (N, H, W, C) or "
                         "(H, W, C)")
    return (arr[None], True) if arr.ndim == 3 else (arr, False)


def _run_nhwc(spec: ResizeSpec, x: np.ndarray, unbatched: bool) -> np.ndarray:
    y = from_channels_first(spec.apply(to_channels_first(x, True)), True)
    return y[0] if unbatched else y


def tf_resize(images: np.ndarray, size: Any, method: str = "bilinear",
              preserve_aspect_ratio: bool = False, antialias: bool = False) -> np.ndarray:
    """TensorFlow ``tf.image.resize`` (v2) on ``(N, H, W, C)`` or ``(H, W, C)`` images.

    ``bilinear`` half-pixel; ``nearest`` ``floor((d + 0.5) * float32(L/O))``; ``bicubic``
    Keys ``A = -0.5``, taps outside excluded, with TensorFlow's 1024-entry coefficient table;
    ``antialias`` stretches the kernel when downsampling (JAX's ``scale_and_translate`` is
    TF's port).  TensorFlow is not run here.

    Parameters
    ----------
    images : (N, H, W, C) or (H, W, C) ndarray
    size : (int, int)
    method : {'bilinear', 'nearest', 'bicubic'}
    preserve_aspect_ratio : bool
        Must be False (not implemented).
    antialias : bool

    Returns
    -------
    (N, *size, C) or (*size, C) ndarray

    See Also
    --------
    tf_resize_bilinear, tf_resize_nearest_neighbor, tf_resize_bicubic : the compat.v1 ops.

    Examples
    --------
    >>> tf_resize(np.arange(2.0).reshape(1, 2, 1), (1, 4))[0, :, 0]
    array([0.  , 0.25, 0.75, 1.  ])
    """
    func = "tf_resize"
    x, unbatched = _images(images, func)
    if preserve_aspect_ratio:
        raise ShapeError(f"{func}: preserve_aspect_ratio=True is not supported; compute the "
                         "size yourself")
    spec = ResizeSpec.from_tf(x.shape[1:3], size, method, antialias)
    return _run_nhwc(spec, x, unbatched)


def _tf_v1(images: Any, size: Any, method: str, align_corners: bool, half_pixel_centers: bool,
           func: str) -> np.ndarray:
    x, unbatched = _images(images, func)
    spec = ResizeSpec.from_tf(x.shape[1:3], size, method, align_corners=bool(align_corners),
                              half_pixel_centers=bool(half_pixel_centers))
    return _run_nhwc(spec, x, unbatched)


def tf_resize_bilinear(images: np.ndarray, size: Any, align_corners: bool = False,
                       half_pixel_centers: bool = False) -> np.ndarray:
    """``tf.compat.v1.image.resize_bilinear`` (raw ``ResizeBilinear``), NHWC.

    Parameters
    ----------
    images : (N, H, W, C) ndarray
    size : (int, int)
    align_corners, half_pixel_centers : bool
        Legacy (both False): source ``d*L/O``.

    Returns
    -------
    (N, *size, C) ndarray

    See Also
    --------
    tf_resize : the v2 API (half-pixel).

    Examples
    --------
    >>> tf_resize_bilinear(np.arange(2.0).reshape(1, 1, 2, 1), (1, 4))[0, 0, :, 0]
    array([0. , 0.5, 1. , 1. ])
    """
    return _tf_v1(images, size, "bilinear", align_corners, half_pixel_centers,
                  "tf_resize_bilinear")


def tf_resize_nearest_neighbor(images: np.ndarray, size: Any, align_corners: bool = False,
                               half_pixel_centers: bool = False) -> np.ndarray:
    """``tf.compat.v1.image.resize_nearest_neighbor``, NHWC.

    Legacy ``floor(d * float32(L/O))``; ``align_corners`` *rounds* ``d*(L-1)/(O-1)`` (half
    away from zero — no PyTorch mode does that); ``half_pixel_centers``
    ``floor((d + 0.5) * L/O)``.

    Parameters
    ----------
    images : (N, H, W, C) ndarray
    size : (int, int)
    align_corners, half_pixel_centers : bool

    Returns
    -------
    (N, *size, C) ndarray

    See Also
    --------
    tf_resize : the v2 API.

    Examples
    --------
    >>> x = np.arange(3.0).reshape(1, 1, 3, 1)
    >>> tf_resize_nearest_neighbor(x, (1, 4), align_corners=True)[0, 0, :, 0]
    array([0., 1., 1., 2.])
    """
    return _tf_v1(images, size, "nearest", align_corners, half_pixel_centers,
                  "tf_resize_nearest_neighbor")


def tf_resize_bicubic(images: np.ndarray, size: Any, align_corners: bool = False,
                      half_pixel_centers: bool = False) -> np.ndarray:
    """``tf.compat.v1.image.resize_bicubic``, NHWC.

    Legacy/align_corners: Keys ``A = -0.75``, edge repeated; ``half_pixel_centers``: Keys
    ``A = -0.5``, taps outside excluded (the v2 bicubic).  Weights come from TensorFlow's
    1024-entry table.

    Parameters
    ----------
    images : (N, H, W, C) ndarray
    size : (int, int)
    align_corners, half_pixel_centers : bool

    Returns
    -------
    (N, *size, C) ndarray

    See Also
    --------
    tf_resize : the v2 API.

    Examples
    --------
    >>> tf_resize_bicubic(np.ones((1, 2, 2, 1)), (3, 3)).shape
    (1, 3, 3, 1)
    """
    return _tf_v1(images, size, "bicubic", align_corners, half_pixel_centers,
                  "tf_resize_bicubic")


def keras_upsampling(inputs: np.ndarray, size: Any = 2, data_format: str | None = None,
                     interpolation: str = "nearest") -> np.ndarray:
    """Keras 3 ``UpSampling1D/2D/3D`` (by rank): repetition, or 2-d half-pixel bilinear.

    Parameters
    ----------
    inputs : (N, *spatial, C) ndarray
        Or channels first with ``data_format='channels_first'`` (not for 1-d).
    size : int or tuple of int
        The integer factor(s).
    data_format : {'channels_last', 'channels_first'}, optional
    interpolation : {'nearest', 'bilinear'}
        ``bilinear`` only for 2-d.

    Returns
    -------
    (N, *spatial*size, C) ndarray

    See Also
    --------
    keras_resizing : resizing to a given size.

    Examples
    --------
    >>> keras_upsampling(np.arange(2.0).reshape(1, 2, 1), 3)[0, :, 0]
    array([0., 0., 0., 1., 1., 1.])
    """
    func = "keras_upsampling"
    arr = float_array(inputs, "inputs", func)
    if arr.ndim not in (3, 4, 5):
        raise ShapeError(f"{func}: inputs has shape {arr.shape}; expected rank 3, 4 or 5")
    fmt = check_choice("channels_last" if data_format is None else data_format,
                       ("channels_last", "channels_first"), "data_format", func)
    last = fmt == "channels_last"
    spatial = arr.shape[1:-1] if last else arr.shape[2:]
    spec = ResizeSpec.from_keras(spatial, size, interpolation)
    return from_channels_first(spec.apply(to_channels_first(arr, last)), last)


def keras_resizing(inputs: np.ndarray, height: int, width: int,
                   interpolation: str = "bilinear", data_format: str | None = None
                   ) -> np.ndarray:
    """Keras 3 ``Resizing(height, width, interpolation)`` (no crop/pad to aspect ratio).

    Parameters
    ----------
    inputs : (N, H, W, C) or (H, W, C) ndarray
        Or channels first with ``data_format='channels_first'``.
    height, width : int
    interpolation : {'bilinear', 'nearest', 'bicubic'}
    data_format : {'channels_last', 'channels_first'}, optional

    Returns
    -------
    (N, height, width, C) ndarray

    See Also
    --------
    keras_upsampling : integer factors.

    Examples
    --------
    >>> keras_resizing(np.arange(4.0).reshape(2, 2, 1), 1, 1)[..., 0]
    array([[1.5]])
    """
    func = "keras_resizing"
    arr = float_array(inputs, "inputs", func)
    if arr.ndim not in (3, 4):
        raise ShapeError(f"{func}: inputs has shape {arr.shape}; expected rank 3 or 4")
    fmt = check_choice("channels_last" if data_format is None else data_format,
                       ("channels_last", "channels_first"), "data_format", func)
    last = fmt == "channels_last"
    unbatched = arr.ndim == 3
    xb = arr[None] if unbatched else arr
    spatial = xb.shape[1:3] if last else xb.shape[2:4]
    spec = ResizeSpec.from_keras(spatial, (height, width), interpolation, layer="Resizing")
    y = from_channels_first(spec.apply(to_channels_first(xb, last)), last)
    return y[0] if unbatched else y


# ---------------------------------------------------------------------------------------------
# JAX: a port of jax.image's weight matrices (every method)


def _lanczos(radius: float) -> Callable[[np.ndarray], np.ndarray]:
    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
            out = np.where(x > 1e-3, y / np.where(x != 0, np.pi**2 * x**2, 1), 1.0)
        return np.where(x > radius, 0.0, out)
    return kernel


def _jax_matrix(L: int, O: int, method: str, antialias: bool) -> np.ndarray:  # noqa: E741
    """``jax._src.image.scale.compute_weight_mat`` (translation 0), transposed to ``(O, L)``."""
    if method == "nearest":
        w = np.zeros((O, L))
        w[np.arange(O), ((2 * np.arange(O) + 1) * L) // (2 * O)] = 1.0
        return w
    scale = O / L
    inv = 1.0 / scale
    kernel_scale = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(O) + 0.5) * inv - 0.5
    if method in ("cubic-pytorch", "bicubic-pytorch") and not antialias:
        k = 2
        idx = np.arange(-k, L + k)
        x = np.abs(sample[None, :] - idx[:, None])
        weights = _keys(x, -0.75)
        mat = np.zeros((L, O))
        np.add.at(mat, np.clip(idx, 0, L - 1), weights)
        total = mat.sum(axis=0, keepdims=True)
        return np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                        mat / np.where(total != 0, total, 1), 0.0).T
    idx = np.arange(L)
    if method == "area":
        left = np.arange(O) * inv
        mat = np.maximum(0.0, np.minimum((left + inv)[None, :], idx[:, None] + 1.0)
                         - np.maximum(left[None, :], idx[:, None].astype(float)))
    else:
        x = np.abs(sample[None, :] - idx[:, None]) / kernel_scale
        if method in ("linear", "bilinear", "trilinear", "triangle"):
            mat = _triangle(x)
        elif method == "lanczos3":
            mat = _lanczos(3.0)(x)
        elif method == "lanczos5":
            mat = _lanczos(5.0)(x)
        else:  # cubic, and cubic-pytorch with antialias
            mat = _keys(x, -0.5)
    total = mat.sum(axis=0, keepdims=True)
    mat = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                   mat / np.where(total != 0, total, 1), 0.0)
    mat = np.where(((sample >= -0.5) & (sample <= L - 0.5))[None, :], mat, 0.0)
    return mat.T


def jax_resize(image: np.ndarray, shape: Any, method: str, antialias: bool = True
               ) -> np.ndarray:
    """``jax.image.resize``: every axis whose size changes is resized (any layout).

    Nearest is ``floor((d + 0.5) L/O)`` computed exactly; JAX computes it in float32 and on
    XLA's CPU backend an exactly integral ``(d + 0.5) L/O`` can come out one element lower
    (JAX 0.10.2: ``L=10 -> O=25`` takes element 0 at output 2 where the rule gives 1).

    Parameters
    ----------
    image : ndarray
    shape : tuple of int
        The full output shape (same rank as ``image``).
    method : str
        ``nearest``, ``linear`` (``bilinear``, ``trilinear``, ``triangle``), ``cubic``
        (``bicubic``, ``tricubic``), ``cubic-pytorch``, ``lanczos3``, ``lanczos5``, ``area``.
    antialias : bool
        Stretch the kernel by ``L/O`` when downsampling (JAX's default True).

    Returns
    -------
    ndarray of shape ``shape``

    See Also
    --------
    ResizeSpec.from_jax : the spec of the nearest/linear/cubic methods.

    Examples
    --------
    >>> jax_resize(np.arange(4.0), (2,), "linear")
    array([0.71428571, 2.28571429])
    >>> jax_resize(np.arange(4.0), (2,), "linear", antialias=False)
    array([0.5, 2.5])
    """
    func = "jax_resize"
    arr = float_array(image, "image", func)
    out = _seq(shape)
    if not isinstance(out, list | tuple) or len(out) != arr.ndim:
        raise ShapeError(f"{func}: shape={_show(shape)} must have one entry per axis of image "
                         f"{arr.shape}")
    out = per_dim(tuple(out), arr.ndim, "shape", func)
    method = check_choice(method, _JAX_METHODS, "method", func)
    axes = [a for a in range(arr.ndim) if out[a] != arr.shape[a]]
    mats = [_jax_matrix(arr.shape[a], out[a], method, bool(antialias)) for a in axes]
    return _apply(arr, mats, axes)


# ---------------------------------------------------------------------------------------------
# ONNX


def onnx_resize(X: np.ndarray, roi: Any = None, scales: Any = None, sizes: Any = None, *,
                antialias: int = 0, axes: Any = None,
                coordinate_transformation_mode: str = "half_pixel",
                cubic_coeff_a: float = -0.75, exclude_outside: int = 0,
                extrapolation_value: float = 0.0, keep_aspect_ratio_policy: str = "stretch",
                mode: str = "nearest", nearest_mode: str = "round_prefer_floor"
                ) -> np.ndarray:
    """ONNX ``Resize`` (opset 19) as ONNX Runtime computes it, on any axes.

    The coordinates are ONNX Runtime's float32 ones (dividing by a float32 scale), so
    ``floor``/``ceil`` can land one element away from the exact rule; the round modes
    resolve exact ties as the rule says (ONNX Runtime 1.31.1).

    Parameters
    ----------
    X : ndarray
    roi : sequence of float, optional
        ``tf_crop_and_resize`` only: ``[start..., end...]`` over the resized axes (or all).
    scales, sizes : sequence, optional
        Exactly one: per axis of ``X`` (or of ``axes``).
    antialias, exclude_outside : {0, 1}
    axes : sequence of int, optional
    coordinate_transformation_mode : str
        One of :data:`COORDINATES` or ``'tf_crop_and_resize'``.
    cubic_coeff_a, extrapolation_value : float
    keep_aspect_ratio_policy : {'stretch', 'not_larger', 'not_smaller'}
    mode : {'nearest', 'linear', 'cubic'}
    nearest_mode : str
        One of :data:`NEAREST_MODES`.

    Returns
    -------
    ndarray
        Output size ``int(float32(scale) * L)`` or ``sizes``.

    See Also
    --------
    ResizeSpec.from_onnx : the spec of the same attributes.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 1, 4)
    >>> onnx_resize(x, scales=[1, 1, 0.5], mode="nearest")
    array([[[0., 2.]]])
    >>> onnx_resize(x, sizes=[1, 1, 2], mode="linear")
    array([[[0.5, 2.5]]])
    """
    func = "onnx_resize"
    arr = float_array(X, "X", func)
    rank = arr.ndim
    mode = check_choice(mode, METHODS, "mode", func)
    coord = check_choice(coordinate_transformation_mode, _ONNX_COORDS,
                         "coordinate_transformation_mode", func)
    nmode = check_choice(nearest_mode, NEAREST_MODES, "nearest_mode", func)
    excl = _flag(exclude_outside, "exclude_outside", func)
    aa = _flag(antialias, "antialias", func)
    if axes is None:
        ax = list(range(rank))
    else:
        ax = [int(a) % rank for a in _seq(axes)]
        if len(set(ax)) != len(ax):
            raise ShapeError(f"{func}: axes={_show(axes)} repeats an axis")
    L = tuple(arr.shape[a] for a in ax)
    if (scales is None) == (sizes is None):
        raise ShapeError(f"{func}: give exactly one of scales and sizes")
    given = _seq(scales if scales is not None else sizes)
    if not isinstance(given, list | tuple) or len(given) != len(ax):
        raise ShapeError(f"{func}: {'scales' if scales is not None else 'sizes'}="
                         f"{_show(given)} needs {len(ax)} entries (one per resized axis)")
    out, sc = _onnx_sizes_any(L, scales, sizes, keep_aspect_ratio_policy, func)
    roi_pairs = [(0.0, 1.0)] * len(ax)
    if coord == "tf_crop_and_resize":
        r = _seq(roi)
        if not isinstance(r, list | tuple) or len(r) != 2 * len(ax):
            raise ShapeError(f"{func}: tf_crop_and_resize needs roi with {2 * len(ax)} values "
                             "[starts..., ends...]")
        roi_pairs = [(float(r[i]), float(r[len(ax) + i])) for i in range(len(ax))]
    if out == L:
        return arr.copy()  # ONNX Runtime copies the input when no dimension changes
    # an axis keeping its size is still resampled with its scale, except by the antialiased
    # kernels, which copy it (ONNX Runtime 1.31.1)
    keep = [i for i in range(len(ax)) if out[i] != L[i] or coord == "tf_crop_and_resize"
            or (sc[i] not in (None, 1.0) and not aa)]
    mats, masks = [], []
    for i in keep:
        mats.append(_axis_matrix(L[i], out[i], sc[i], coord, mode, nmode,
                                 float(cubic_coeff_a), excl, aa, "onnx", roi_pairs[i]))
        if coord == "tf_crop_and_resize":
            x = _coords_ort(L[i], out[i], sc[i], coord, roi_pairs[i])
            masks.append((x < 0) | (x > L[i] - 1))
    y = _apply(arr, mats, [ax[i] for i in keep])
    if masks:
        outside = np.zeros(y.shape, dtype=bool)
        for i, m in zip(keep, masks, strict=True):
            shape = [1] * rank
            shape[ax[i]] = -1
            outside |= m.reshape(shape)
        y = np.where(outside, np.asarray(extrapolation_value, y.dtype), y)
    return y


def _onnx_sizes_any(L: tuple[int, ...], scales: Any, sizes: Any, policy: Any, func: str
                    ) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """:func:`_onnx_sizes` for any number of axes (no 1-3 limit)."""
    f = np.float32
    policy = check_choice(policy, ("stretch", "not_larger", "not_smaller"),
                          "keep_aspect_ratio_policy", func)
    if scales is not None:
        vals = [float(v) for v in _seq(scales)]
        if not all(v > 0 for v in vals):
            raise ShapeError(f"{func}: scales={_show(scales)} must be positive")
        out = tuple(int(f(v) * f(n)) for v, n in zip(vals, L, strict=True))
        if min(out) < 1:
            raise ShapeError(f"{func}: scales={_show(scales)} give an empty output {out}")
        return out, tuple(float(f(v)) for v in vals)
    req = tuple(int(v) for v in _seq(sizes))
    if min(req) < 1:
        raise ShapeError(f"{func}: sizes={_show(sizes)} must be positive")
    if policy == "stretch":
        return req, (None,) * len(L)
    ratios = [f(o) / f(n) for o, n in zip(req, L, strict=True)]
    s = min(ratios) if policy == "not_larger" else max(ratios)
    out = tuple(int(math.floor(float(s * f(n)) + 0.5)) for n in L)
    return out, (float(s),) * len(L)
