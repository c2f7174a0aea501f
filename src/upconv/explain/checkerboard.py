"""Kernel overlap maps: why transposed convolutions draw checkerboards.

Odena, Dumoulin & Olah ("Deconvolution and Checkerboard Artifacts", Distill 2016) point out
that a stride-``s`` transposed convolution whose kernel size ``k`` is not divisible by ``s``
lets some output positions receive more kernel taps than their neighbours; stacking such
layers compounds the pattern, and resizing (nearest upsampling) followed by an ordinary
stride-1 convolution does not have it.  :func:`checkerboard` measures this by running the
library's own :func:`upconv.conv_transpose` (or :func:`upconv.interpolate` then
:func:`upconv.conv`) on an all-ones input with an all-ones kernel: the result at each output
position is the number of (input, tap) paths that reach it.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ShapeError, check_int, per_dim, spatial_size
from ..ops import conv, conv_transpose, interpolate
from ..shapes import checkerboard_counts
from .matrix import CHAR_W, LINE_H, MARGIN, _Scene, _text_w, _wrap

METHODS = ("transposed", "resize-conv")
MAX_OUTPUT = 1 << 22  # output elements; larger stacks are refused rather than computed


def _interior(n: int, k: int, s: int, d: int, layers: int, method: str) -> tuple[int, int, int]:
    """``(lo, hi, out_len)`` of one dimension after ``layers`` layers on ``n`` ones.

    ``[lo, hi]`` holds the output positions whose every path stays inside the input, so their
    count equals that of an infinitely large input (the interior, away from the borders).
    """
    lo, hi, length = 0, n - 1, n
    t = d * (k - 1)  # extent of the dilated kernel minus one
    for _ in range(layers):
        if method == "transposed":
            # o = i*s + a*d (padding 0): every tap a needs o - a*d in [s*lo, s*hi].
            lo, hi, length = s * lo + t, s * hi, (length - 1) * s + t + 1
        else:
            # Nearest x s keeps [s*lo, s*hi + s - 1]; a 'same' conv (t//2 zeros before) then
            # reads o - t//2 + a*d, all of which must stay in that range.
            lo, hi, length = s * lo + t // 2, s * hi + s - 1 + t // 2 - t, length * s
    return lo, hi, length


def _default_size(k: int, s: int, d: int, layers: int, method: str) -> int:
    # The smallest input whose interior spans two periods (the period divides s**layers).
    need = 2 * s**layers
    n = 1
    while True:
        lo, hi, _ = _interior(n, k, s, d, layers, method)
        if hi - lo + 1 >= need:
            return n
        n += 1


def _min_size(k: int, s: int, d: int, layers: int, method: str) -> int:
    n = 1
    while True:
        lo, hi, _ = _interior(n, k, s, d, layers, method)
        if hi >= lo:
            return n
        n += 1


def _period(a: np.ndarray, axis: int) -> int:
    # Smallest shift p with a == a shifted by p along axis; the length if nothing repeats.
    n = a.shape[axis]
    for p in range(1, n):
        if np.array_equal(a.take(range(p, n), axis=axis), a.take(range(n - p), axis=axis)):
            return p
    return n


def _dims_text(t: tuple[int, ...]) -> str:
    return "x".join(map(str, t))


def _value_text(t: tuple[int, ...]) -> str:
    return str(t[0]) if len(set(t)) == 1 else str(t)


def _heat(t: float) -> str:
    # White (no tap) to dark blue (the most taps).
    lo, hi = np.array([255, 255, 255]), np.array([8, 48, 107])
    r, g, b = np.rint(lo + (hi - lo) * t).astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True, eq=False)
class Checkerboard:
    """How many kernel taps reach each output position, and whether that is even.

    Built by :func:`checkerboard`.

    Attributes
    ----------
    kernel_size, stride, dilation : tuple of int
        Per spatial dimension (1 or 2 of them).
    layers : int
        Number of identical layers stacked.
    method : {'transposed', 'resize-conv'}
        Transposed convolution, or nearest upsampling ``x stride`` then a stride-1 ``'same'``
        convolution.
    size : tuple of int
        Spatial size of the all-ones input of the first layer.
    counts : (*output) ndarray of int
        Paths from the input to each output position (taps per position for one layer).
    interior_slices : tuple of slice
        The output positions away from the borders (see :attr:`interior`).
    phases : tuple of tuple of int
        One layer's taps per output phase in each dimension
        (:func:`upconv.shapes.checkerboard_counts`).
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    layers: int
    method: str
    size: tuple[int, ...]
    counts: np.ndarray
    interior_slices: tuple[slice, ...]
    phases: tuple[tuple[int, ...], ...]

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 or 2)."""
        return self.counts.ndim

    @property
    def output_size(self) -> tuple[int, ...]:
        """Spatial size of :attr:`counts`."""
        return tuple(self.counts.shape)

    @property
    def interior(self) -> np.ndarray:
        """The counts at positions every path reaches from inside the input.

        There the counts equal those of an infinitely large input: what remains is the
        layer's own pattern, not the border.
        """
        return self.counts[self.interior_slices]

    @property
    def even(self) -> bool:
        """Whether every interior position receives the same count (no checkerboard)."""
        return bool(self.interior.min() == self.interior.max())

    @property
    def period(self) -> tuple[int, ...]:
        """Smallest shift, per dimension, after which the interior repeats (1 when even).

        Exact when the interior spans two periods, as it does at the default ``size``.
        """
        return tuple(_period(self.interior, axis) for axis in range(self.ndim))

    @property
    def ratio(self) -> float:
        """``max / min`` of the interior counts (``inf`` when some positions get none)."""
        lo, hi = int(self.interior.min()), int(self.interior.max())
        return math.inf if lo == 0 else hi / lo

    @property
    def description(self) -> str:
        """One line naming the layers."""
        what = ("transposed convolution" if self.method == "transposed"
                else "nearest upsampling then stride-1 convolution (resize-conv)")
        stack = f" x {self.layers} layers" if self.layers > 1 else ""
        return (f"{what}{stack}: kernel_size={_value_text(self.kernel_size)}, stride="
                f"{_value_text(self.stride)}, dilation={_value_text(self.dilation)}; all-ones "
                f"input {_dims_text(self.size)} -> {_dims_text(self.output_size)}")

    def _reason(self) -> str:
        reasons = []
        for k, s, d in zip(self.kernel_size, self.stride, self.dilation, strict=True):
            if math.gcd(d, s) > 1:
                reasons.append(f"dilation {d} and stride {s} share a factor, so some phases "
                               "get no tap")
            elif k % s:
                reasons.append(f"kernel_size {k} is not divisible by stride {s}")
        return "; ".join(dict.fromkeys(reasons))

    @property
    def verdict(self) -> str:
        """The finding in words: even or uneven, the counts, period and max/min ratio."""
        lo, hi = int(self.interior.min()), int(self.interior.max())
        if self.even:
            how = ("every interior position" if self.method == "transposed"
                   else f"after nearest upsampling x{_value_text(self.stride)}, every "
                        "interior position")
            what = "kernel taps" if self.layers == 1 else "paths through the kernel taps"
            return (f"even: {how} receives {hi} {what} (max/min 1); no checkerboard artefact")
        ratio = "inf: some positions receive nothing, holes" if math.isinf(
            self.ratio) else f"{self.ratio:.4g}"
        text = (f"uneven: interior counts range from {lo} to {hi} (max/min {ratio}), "
                f"repeating every {_dims_text(self.period)} positions: a checkerboard "
                f"artefact. One layer's taps per output phase: "
                + ", ".join(str(p) for p in self.phases))
        reason = self._reason()
        if reason:
            text += f" ({reason})"
        if self.layers > 1:
            one_hi = math.prod(max(p) for p in self.phases)
            one_lo = math.prod(min(p) for p in self.phases)
            one = "inf" if one_lo == 0 else f"{one_hi / one_lo:.4g}"
            text += f"; {self.layers} stacked layers compound it (one layer: max/min {one})"
        return text

    def __str__(self) -> str:
        width = len(str(int(self.counts.max())))
        grid = self.counts if self.ndim == 2 else self.counts[None]
        rows = [" ".join(str(int(v)).rjust(width) for v in row) for row in grid]
        bounds = ", ".join(f"{sl.start}..{sl.stop - 1}" for sl in self.interior_slices)
        return "\n".join([self.description, self.verdict, "counts:", *rows,
                          f"interior (away from the borders): {bounds}"])

    def __repr__(self) -> str:
        return f"<Checkerboard {self.description}; {'even' if self.even else 'uneven'}>"

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values (``ratio`` is ``None`` when infinite)."""
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "dilation": list(self.dilation),
            "layers": self.layers,
            "method": self.method,
            "size": list(self.size),
            "output_size": list(self.output_size),
            "counts": self.counts.tolist(),
            "interior": [[sl.start, sl.stop] for sl in self.interior_slices],
            "phases": [list(p) for p in self.phases],
            "even": self.even,
            "period": list(self.period),
            "ratio": None if math.isinf(self.ratio) else self.ratio,
            "verdict": self.verdict,
        }

    # -- picture -----------------------------------------------------------------------------

    def _geometry(self) -> dict[str, Any]:
        digits = len(str(int(self.counts.max())))
        cs = max(16, CHAR_W * digits + 6)
        rows, cols = (self.output_size if self.ndim == 2 else (1, self.output_size[0]))
        grid_top = MARGIN + LINE_H + 8
        width = max(MARGIN + cols * cs + MARGIN, MARGIN + _text_w(self.description) + MARGIN)
        width = max(width, 360)
        lines = _wrap(self.verdict.split(" "), width - 2 * MARGIN, sep=" ")
        note = "red frame: the interior, away from the borders"
        bottom = grid_top + rows * cs + 8
        height = bottom + LINE_H * (len(lines) + 1) + MARGIN
        return dict(cs=cs, rows=rows, cols=cols, grid_top=grid_top, width=width,
                    height=height, lines=lines, note=note, bottom=bottom)

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels of the picture :meth:`save` writes."""
        g = self._geometry()
        return g["width"], g["height"]

    def cell_box(self, *index: int) -> tuple[int, int, int, int]:
        """Pixel box ``(x0, y0, x1, y1)`` (``x1``, ``y1`` exclusive) of one output position."""
        if len(index) != self.ndim or not all(
            0 <= i < n for i, n in zip(index, self.output_size, strict=True)
        ):
            raise ShapeError(f"cell_box: index {index} is not a position of an output of size "
                             f"{self.output_size}")
        g = self._geometry()
        r, c = index if self.ndim == 2 else (0, index[0])
        x0, y0 = MARGIN + c * g["cs"], g["grid_top"] + r * g["cs"]
        return x0, y0, x0 + g["cs"], y0 + g["cs"]

    def scene(self) -> _Scene:
        """The heat map as a list of drawing items (what :meth:`save` renders)."""
        g = self._geometry()
        sc = _Scene(g["width"], g["height"])
        sc.text(MARGIN, MARGIN + LINE_H // 2, self.description)
        top = int(self.counts.max()) or 1
        for index in np.ndindex(*self.counts.shape):
            v = int(self.counts[index])
            x0, y0, x1, y1 = self.cell_box(*index)
            t = v / top
            sc.rect(x0, y0, x1, y1, _heat(t), outline="#e0e0e0")
            sc.text((x0 + x1) // 2, (y0 + y1) // 2, str(v), centre=True,
                    colour="#ffffff" if t > 0.55 else "#000000")
        first = tuple(sl.start for sl in self.interior_slices)
        last = tuple(sl.stop - 1 for sl in self.interior_slices)
        x0, y0, _, _ = self.cell_box(*first)
        _, _, x1, y1 = self.cell_box(*last)
        sc.rect(x0, y0, x1, y1, None, outline="#d00000", width=2)
        y = g["bottom"] + LINE_H // 2
        for line in g["lines"]:
            sc.text(MARGIN, y, line, colour="#000000" if self.even else "#b00000")
            y += LINE_H
        sc.text(MARGIN, y, g["note"], colour="#555555")
        return sc

    def _repr_html_(self) -> str:
        return (f"<div>{self.scene().svg()}<p style='font-family:monospace'>"
                f"{html.escape(self.verdict)}</p></div>")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the heat map (counts per output position, interior framed) to PNG or SVG.

        Parameters
        ----------
        path : str or path-like
            Target file; its suffix (``.png`` / ``.svg``) gives the format unless ``format``
            is given.
        format : {'png', 'svg'}, optional
            Overrides the suffix.

        Returns
        -------
        pathlib.Path
            The written file.

        Raises
        ------
        ImportError
            For PNG without Pillow (``pip install 'upconv[viz]'``); SVG needs nothing extra.
        """
        return self.scene().save(path, format, "Checkerboard.save")


def checkerboard(
    kernel_size: Any,
    stride: Any,
    dilation: Any = 1,
    layers: int = 1,
    *,
    size: Any = None,
    ndim: int = 2,
    method: str = "transposed",
    path: str | os.PathLike[str] | None = None,
    format: str | None = None,
) -> Checkerboard:
    """Count the kernel taps that reach each output position, and judge the pattern.

    Runs ``layers`` identical layers on an all-ones input with an all-ones kernel (one
    channel, no padding for transposed convolutions) using the library's own ops, so the map
    shows exactly what they compute.

    Parameters
    ----------
    kernel_size, stride, dilation : int or tuple of int
        Per spatial dimension, positive.  For ``'resize-conv'`` the stride is the nearest
        upsampling factor and the convolution has stride 1.
    layers : int
        How many identical layers to stack (>= 1).
    size : int or tuple of int, optional
        Spatial size of the input; by default the smallest whose interior spans two periods
        (``2 * stride**layers`` positions).
    ndim : {1, 2}
        Number of spatial dimensions.
    method : {'transposed', 'resize-conv'}
        ``'transposed'``: :func:`upconv.conv_transpose` (padding 0, the full output).
        ``'resize-conv'``: :func:`upconv.interpolate` (nearest, ``x stride``) then
        :func:`upconv.conv` with stride 1 and ``padding='same'``.
    path : str or path-like, optional
        Also save the heat map there (see :meth:`Checkerboard.save`).
    format : {'png', 'svg'}, optional
        Picture format when ``path`` is given; by default from its suffix.

    Returns
    -------
    Checkerboard
        ``counts`` of shape ``O`` per dimension, where one layer gives
        ``O = (L-1)*s + d*(k-1) + 1`` (transposed) or ``O = L*s`` (resize-conv), and the
        verdict: ``even``, ``period``, ``ratio`` (max/min over the ``interior``),
        ``verdict`` (text).

    Raises
    ------
    ShapeError
        Non-positive sizes, an unknown ``method``, ``layers < 1``, ``ndim`` not 1 or 2, a
        ``size`` too small to have an interior, or an output too large to compute.

    See Also
    --------
    upconv.shapes.checkerboard_counts : one layer's taps per phase, from arithmetic alone.
    upconv.explain.matrix : the matrix whose columns are these overlapping kernels.

    Notes
    -----
    Away from the borders, output ``o`` of a transposed convolution receives the taps ``a``
    with ``a*d ≡ o (mod s)``; these counts are all equal exactly when ``gcd(d, s) = 1`` and
    ``s`` divides ``k``.  A stack of ``n`` layers is one transposed convolution with stride
    ``s**n`` whose kernel is the layers' kernels composed, so its pattern repeats every
    ``s**n`` positions and an uneven layer makes the stack more uneven (the max/min ratio
    grows).  In 2-d the counts are the outer product of the per-dimension counts.

    Examples
    --------
    >>> cb = checkerboard(3, 2, ndim=1)
    >>> cb.counts
    array([1, 1, 2, 1, 2, 1, 2, 1, 1])
    >>> cb.interior, cb.even, cb.period, cb.ratio
    (array([2, 1, 2, 1, 2]), False, (2,), 2.0)
    >>> checkerboard(4, 2).even
    True
    >>> checkerboard(3, 2, layers=2, ndim=1).ratio
    3.0
    >>> print(checkerboard(3, 2, method="resize-conv").verdict)
    even: after nearest upsampling x2, every interior position receives 9 kernel taps \
(max/min 1); no checkerboard artefact
    """
    func = "checkerboard"
    if not isinstance(method, str) or method not in METHODS:
        raise ShapeError(
            f"{func}: method={method!r} is not understood; give 'transposed' or 'resize-conv'"
        )
    n = check_int(ndim, "ndim", func, minimum=1)
    if n > 2:
        raise ShapeError(f"{func}: ndim={n} is not supported; the maps are 1-d or 2-d")
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = per_dim(stride, n, "stride", func)
    d = per_dim(dilation, n, "dilation", func)
    layers = check_int(layers, "layers", func, minimum=1)
    phases = tuple(checkerboard_counts(*a) for a in zip(k, s, d, strict=True))
    if size is None:
        dims = tuple(_default_size(*a, layers, method) for a in zip(k, s, d, strict=True))
    else:
        dims, as_int = spatial_size(size, func)
        if as_int:
            dims = dims * n
        elif len(dims) != n:
            raise ShapeError(
                f"{func}: size={tuple(dims)} has {len(dims)} values but ndim={n}; give an int "
                f"or a tuple of {n} ints"
            )
    bounds = [_interior(*a, layers, method) for a in zip(dims, k, s, d, strict=True)]
    total = math.prod(b[2] for b in bounds)
    if total > MAX_OUTPUT:
        raise ShapeError(
            f"{func}: the output would be {_dims_text(tuple(b[2] for b in bounds))} "
            f"({total} positions, limit {MAX_OUTPUT}); use fewer layers or a smaller size"
        )
    for axis, (lo, hi, _) in enumerate(bounds):
        if hi < lo:
            need = _min_size(k[axis], s[axis], d[axis], layers, method)
            raise ShapeError(
                f"{func}: size={_value_text(dims)} leaves no interior in dimension {axis} "
                f"after {layers} layer{'s' if layers > 1 else ''} (every output position is "
                f"within reach of a border); use size >= {need} there"
            )

    # Counts from the library's own ops: ones in, ones kernel, every path adds 1.
    x = np.ones((1, 1, *dims))
    w = np.ones((1, 1, *k))
    for _ in range(layers):
        if method == "transposed":
            x = conv_transpose(x, w, stride=s, dilation=d)
        else:
            up = interpolate(x, scale_factor=tuple(float(v) for v in s), mode="nearest")
            x = conv(up, w, padding="same", dilation=d)
    counts = np.rint(x[0, 0]).astype(np.int64)
    assert counts.shape == tuple(b[2] for b in bounds)
    inner = tuple(slice(lo, hi + 1) for lo, hi, _ in bounds)
    cb = Checkerboard(k, s, d, layers, method, dims, counts, inner, phases)
    if path is not None:
        cb.save(path, format)
    return cb
