"""Index maps: what every step of an operation reads, multiplies and writes.

A :class:`Plan` holds one operation with every argument resolved and its :class:`Step` list.
A step is one unit of the explanation: one output cell computed from its window (*gather*
views: convolution, pooling, interpolation and the *direct* view of a transposed
convolution) or one input cell written into the output (*scatter* views: the transposed
convolution's kernel-sized patch, unpooling's single cell).  Each :class:`Tap` pairs a source
cell with a kernel tap and a destination cell; summing the taps' ``value`` over every step
reproduces the operation's output, which is what lets :func:`upconv.explain.animate` and
:func:`upconv.explain.trace` claim that a picture cannot disagree with the math (the tests
compare the sums with :mod:`upconv` and PyTorch).

Coordinates are those of the depicted arrays, so they may lie outside them:

* source cells of convolution and pooling are input indices, negative or past the end in the
  padding; in the *direct* view of a transposed convolution they are positions in the
  stretched input (input unit ``i`` sits at ``s*i``, ``s - 1`` inserted zeros between units),
  negative or past ``s(i'-1)`` in the padding ``d(k-1) - p`` (negative padding crops);
* destination cells of the *scatter* view of a transposed convolution are output indices,
  negative or past the end where a product falls in the border that ``padding`` crops off the
  full output ``s(i'-1) + d(k-1) + 1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import ShapeError, check_int, per_dim, spatial_size
from ..shapes import conv_geometry, equivalent_conv, pool_geometry, transpose_geometry

Cell = tuple[int, ...]

OPS = ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool", "interpolate")
VIEWS = {
    "conv": ("gather",),
    "conv_transpose": ("scatter", "direct"),
    "max_pool": ("gather",),
    "avg_pool": ("gather",),
    "max_unpool": ("scatter",),
    "unpool": ("scatter",),
    "interpolate": ("gather",),
}
MODES = ("nearest", "nearest-exact", "linear", "bilinear")
POSITIONS = ("top-left", "center")
TITLES = {
    "conv": "convolution",
    "conv_transpose": "transposed convolution",
    "max_pool": "max pooling",
    "avg_pool": "average pooling",
    "max_unpool": "max unpooling (switches)",
    "unpool": "bed-of-nails unpooling",
    "interpolate": "interpolation",
}
# Which of the shared arguments each operation takes (the others must stay None).
_TAKES = {
    "conv": {"kernel_size", "stride", "padding", "dilation"},
    "conv_transpose": {"kernel_size", "stride", "padding", "dilation", "output_padding"},
    "max_pool": {"kernel_size", "stride", "padding", "dilation"},
    "avg_pool": {"kernel_size", "stride", "padding"},
    "max_unpool": {"kernel_size", "stride", "padding"},
    "unpool": {"kernel_size"},
    "interpolate": set(),
}
_KERNEL_OPS = ("conv", "conv_transpose")


def choices(values: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: accepted values for an error message."""
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def fmt_num(v: float) -> str:
    """A number as a cell shows it: integers without a point, others to 4 significant digits.

    Examples
    --------
    >>> fmt_num(15.0), fmt_num(2.5), fmt_num(1 / 3), fmt_num(-0.0)
    ('15', '2.5', '0.3333', '0')
    """
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    text = f"{v:.4g}"
    return "0" if text in ("-0", "0") else text


def cells(lo: Sequence[int], hi: Sequence[int]) -> Iterator[Cell]:
    """Every cell of the box ``lo <= cell < hi``, row-major."""
    return itertools.product(*(range(a, b) for a, b in zip(lo, hi, strict=True)))


@dataclass(frozen=True)
class Tap:
    """One source cell meeting one kernel tap (or weight) and one destination cell.

    Attributes
    ----------
    src : tuple of int
        Source-canvas cell (see the module docstring for its coordinates).
    input : tuple of int or None
        The input element at ``src``; None for padding, an inserted zero or a cell outside.
    kernel : tuple of int or None
        Kernel tap (index into the unflipped kernel); None for ops without a kernel.
    dst : tuple of int
        Destination-canvas cell.
    output : tuple of int or None
        The output element at ``dst``; None when the product falls in the cropped border.
    weight : float or None
        The multiplier: kernel value, ``1/divisor``, interpolation weight, or 1 for a copy.
    product : float or None
        ``x[input] * weight`` (None without numbers, or where ``input`` is None).
    value : float or None
        The contribution to ``output`` (``product`` unless cropped, or a max-pool tap that
        is not the maximum).
    """

    src: Cell
    input: Cell | None
    kernel: Cell | None
    dst: Cell
    output: Cell | None
    weight: float | None = None
    product: float | None = None
    value: float | None = None


@dataclass(frozen=True)
class Step:
    """One step: a window gathered into one output cell, or one input cell scattered.

    Attributes
    ----------
    index : int
        Position in the plan.
    sources : tuple of cells
        Source-canvas cells the step reads (the whole window, padding included).
    targets : tuple of cells
        Destination-canvas cells it writes (cropped ones included).
    taps : tuple of Tap
        The products, in scan order.
    result : float or None
        Gather views: the finished output value.  Scatter views: None.
    switch : int or None
        Max pooling: flat index (into the input plane) of the window's maximum; max
        unpooling: the switch that places the value.
    region : tuple of cells
        Max unpooling and bed of nails: the output region the value comes from / goes to.
    """

    index: int
    sources: tuple[Cell, ...]
    targets: tuple[Cell, ...]
    taps: tuple[Tap, ...]
    result: float | None = None
    switch: int | None = None
    region: tuple[Cell, ...] = ()


@dataclass(frozen=True)
class Plan:
    """An operation with every argument resolved, its canvases and its steps.

    ``src_lo``/``src_hi`` and ``dst_lo``/``dst_hi`` bound the drawn source and destination
    canvases (``lo <= cell < hi`` per dimension, in the coordinates of the module docstring).
    """

    op: str
    view: str
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...] | None
    output_size: tuple[int, ...]
    params: dict[str, Any]
    src_lo: tuple[int, ...]
    src_hi: tuple[int, ...]
    dst_lo: tuple[int, ...]
    dst_hi: tuple[int, ...]
    steps: tuple[Step, ...]
    header: tuple[str, ...]
    x: np.ndarray | None = None
    weight: np.ndarray | None = None
    indices: np.ndarray | None = None
    stretch: tuple[int, ...] = ()  # direct view: stride of the stretched input
    kinds_src: dict[Cell, str] = field(default_factory=dict, repr=False)
    kinds_dst: dict[Cell, str] = field(default_factory=dict, repr=False)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.input_size)

    @property
    def numbers(self) -> bool:
        """Whether the plan carries values (cells show numbers)."""
        return self.x is not None

    @property
    def title(self) -> str:
        """The operation's name, with the view and the interpolation mode."""
        name = TITLES[self.op]
        if self.op == "interpolate":
            name = f"{self.params['mode']} interpolation"
        if len(VIEWS[self.op]) > 1:
            name += f" ({self.view} view)"
        return name

    def src_kind(self, cell: Cell) -> str:
        """Kind of a source cell: input, pad, zero (inserted by the stride), crop, outside."""
        return self.kinds_src[cell]

    def dst_kind(self, cell: Cell) -> str:
        """Kind of a destination cell: output, extra (added by output_padding) or crop."""
        return self.kinds_dst[cell]

    def accumulate(self, upto: int | None = None) -> np.ndarray:
        """The output as the sum of every tap's ``value`` over ``steps[:upto]``.

        A gather step whose taps all fall in the padding contributes its ``result`` (max
        pooling's ``-inf``).

        Raises
        ------
        ShapeError
            If the plan carries no numbers.
        """
        if self.x is None:
            raise ShapeError(f"{self.op}: the plan has no values to accumulate")
        out = np.zeros(self.output_size)
        for step in self.steps[:upto]:
            landed = False
            for tap in step.taps:
                if tap.value is not None and tap.output is not None:
                    out[tap.output] += tap.value
                    landed = True
            if not landed and step.result is not None:  # a window entirely in the padding
                out[step.targets[0]] = step.result
        return out

    def canvas_sums(self, upto: int | None = None) -> dict[Cell, float]:
        """Running sums on the whole destination canvas (cropped border included).

        The value of every destination cell touched by ``steps[:upto]``: for gather views the
        finished results, for scatter views the sum of the products landed so far (0.0
        without numbers).
        """
        sums: dict[Cell, float] = {}
        for step in self.steps[:upto]:
            add_step(sums, step)
        return sums

    def running_sums(self) -> Iterator[dict[Cell, float]]:
        """``canvas_sums(n)`` for n = 1, 2, ...: one dict, updated in place after each step."""
        sums: dict[Cell, float] = {}
        for step in self.steps:
            add_step(sums, step)
            yield sums


def add_step(sums: dict[Cell, float], step: Step) -> None:
    """Add what ``step`` writes to the destination-canvas sums ``sums``."""
    if step.result is not None:
        sums[step.targets[0]] = step.result
        return
    for tap in step.taps:
        if tap.product is not None:
            sums[tap.dst] = sums.get(tap.dst, 0.0) + tap.product
        else:
            sums.setdefault(tap.dst, 0.0)


# ---------------------------------------------------------------------------------------------
# Argument handling


def _as_values(values: Any, name: str, func: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{func}: {name} must be an array of real numbers (int or float), got dtype "
            f"{arr.dtype}"
        )
    if arr.ndim not in (1, 2, 3):
        raise ShapeError(
            f"{func}: {name} has shape {arr.shape}; give the spatial array alone (1, 2 or 3 "
            "dimensions, no batch or channel axis)"
        )
    return np.array(arr, dtype=np.float64)


def _show_size(t: Sequence[int]) -> str:
    return "×".join(str(v) for v in t)


def _same(values: Sequence[Any]) -> bool:
    return all(v == values[0] for v in values)


def _dim_text(t: Sequence[Any]) -> str:
    """``3`` when every dimension agrees, else ``3×2``."""
    return str(t[0]) if _same(t) else "×".join(str(v) for v in t)


def _pad_text(pairs: Sequence[tuple[int, int]]) -> str:
    if all(a == b for a, b in pairs):
        return _dim_text([a for a, _ in pairs])
    if _same(pairs):
        return f"({pairs[0][0]}, {pairs[0][1]})"
    return "×".join(f"({a}, {b})" for a, b in pairs)


def _per_dim_lines(rows: list[str], ndim: int) -> list[str]:
    """One line when every dimension gives the same text, else one per dimension."""
    if _same(rows):
        return [rows[0] + (" in each dimension" if ndim > 1 else "")]
    names = ("rows", "cols") if ndim == 2 else tuple(f"dim {a}" for a in range(ndim))
    return [f"{name}: {row}" for name, row in zip(names, rows, strict=True)]


def _signed(v: int) -> str:
    return f"{v}" if v >= 0 else f"−{-v} (crop {-v})"


def _check_takes(op: str, given: dict[str, Any], func: str) -> None:
    for name, value in given.items():
        if value is not None and name not in _TAKES[op]:
            takes = sorted(_TAKES[op])
            has = f"takes {', '.join(takes)}" if takes else "takes size= or scale_factor="
            raise ShapeError(f"{func}: op={op!r} has no {name} (got {name}={value!r}); it {has}")


def _tuple(v: int | tuple[int, ...]) -> tuple[int, ...]:
    return v if isinstance(v, tuple) else (v,)


def _int_default(v: Any, default: int) -> Any:
    return default if v is None else v


# ---------------------------------------------------------------------------------------------
# The plans


def build(
    func: str,
    op: Any,
    input_size: Any = None,
    kernel_size: Any = None,
    stride: Any = None,
    padding: Any = None,
    dilation: Any = None,
    output_padding: Any = None,
    *,
    view: Any = None,
    values: Any = None,
    kernel: Any = None,
    numbers: bool = False,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
    output_size: Any = None,
    indices: Any = None,
    position: Any = "top-left",
    size: Any = None,
    scale_factor: Any = None,
    mode: Any = "nearest",
    align_corners: Any = None,
) -> Plan:
    """Resolve the arguments of ``op`` and list its steps (see the module docstring).

    Parameters
    ----------
    func : str
        The public function, for error messages.
    op : {'conv', 'conv_transpose', 'max_pool', 'avg_pool', 'max_unpool', 'unpool', \
'interpolate'}
        The operation.
    input_size, kernel_size, stride, padding, dilation, output_padding
        As in :mod:`upconv.shapes`; None means the operation's default (and an argument the
        operation does not take must stay None).
    view : {'gather', 'scatter', 'direct'}, optional
        The operation's view; None picks its first (``'scatter'`` for conv_transpose).
    values, kernel : array_like, optional
        Spatial input values and kernel values (conv and conv_transpose).  Either one turns
        numbers on; the other then defaults to ``1, 2, ..., n`` (input) or ones (kernel).
    numbers : bool
        Turn numbers on even without ``values`` / ``kernel`` (their defaults are used;
        max pooling defaults to a fixed permutation of ``1..n``, so the maximum is unique).
    ceil_mode, count_include_pad, divisor_override
        Pooling options, as in :func:`upconv.max_pool` / :func:`upconv.avg_pool`.
    output_size : int or tuple of int, optional
        conv_transpose and max_unpool: the wanted output size.
    indices : array_like of int, optional
        max_unpool: the switches (flat indices into the output plane); by default a
        deterministic cell of each window.
    position : {'top-left', 'center'}
        unpool: where each value goes in its ``k``-region.
    size, scale_factor, mode, align_corners
        interpolate: as in :func:`upconv.interpolate` (modes ``'nearest'``,
        ``'nearest-exact'``, ``'linear'``, ``'bilinear'``; ``'linear'`` and ``'bilinear'``
        both mean multilinear).

    Returns
    -------
    Plan

    Examples
    --------
    Seed 002's transposed convolution, one step per input element:

    >>> plan = build("f", "conv_transpose", values=[[1, 2], [3, 4]], kernel=[[5, 5], [5, 5]])
    >>> len(plan.steps), [t.dst for t in plan.steps[1].taps]
    (4, [(0, 1), (0, 2), (1, 1), (1, 2)])
    >>> plan.accumulate()
    array([[ 5., 15., 10.],
           [20., 50., 30.],
           [15., 35., 20.]])
    """
    if not isinstance(op, str) or op not in OPS:
        raise ShapeError(f"{func}: op={op!r} is not one of {choices(OPS)}")
    if view is None:
        view = VIEWS[op][0]
    if not isinstance(view, str) or view not in VIEWS[op]:
        raise ShapeError(
            f"{func}: view={view!r} is not a view of {op}; choose {choices(VIEWS[op])}"
        )
    _check_takes(op, {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                      "dilation": dilation, "output_padding": output_padding}, func)
    if op not in _KERNEL_OPS and kernel is not None:
        raise ShapeError(
            f"{func}: kernel= applies to {choices(_KERNEL_OPS)} only, not op={op!r}"
        )
    x = None if values is None else _as_values(values, "values", func)
    w = None if kernel is None else _as_values(kernel, "kernel", func)
    if input_size is None:
        if x is None:
            raise ShapeError(f"{func}: give input_size (or values=) for op={op!r}")
        input_size = x.shape
    dims, _ = spatial_size(input_size, func, "input_size")
    n = len(dims)
    if x is not None and x.shape != dims:
        raise ShapeError(
            f"{func}: values has shape {x.shape} but input_size is {_show_size(dims)}"
        )
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool"):
        if kernel_size is None:
            if w is None:
                raise ShapeError(
                    f"{func}: op={op!r} needs kernel_size"
                    + (" (or a kernel= array)" if op in _KERNEL_OPS else "")
                )
            kernel_size = w.shape
        ks = per_dim(kernel_size, n, "kernel_size", func)
        if w is not None and w.shape != ks:
            raise ShapeError(
                f"{func}: kernel has shape {w.shape} but kernel_size is {_show_size(ks)} "
                f"(for {n} spatial dimension{'s' if n != 1 else ''})"
            )
    numbers = numbers or x is not None or w is not None
    if numbers and x is None:
        x = np.arange(1.0, math.prod(dims) + 1).reshape(dims)
        if op == "max_pool":
            x = (np.random.RandomState(0).permutation(math.prod(dims)) + 1.0).reshape(dims)
    if numbers and w is None and op in _KERNEL_OPS:
        w = np.ones(ks)
    if op == "conv":
        return _conv(func, dims, kernel_size, stride, padding, dilation, x, w)
    if op == "conv_transpose":
        return _conv_transpose(func, view, dims, kernel_size, stride, padding, dilation,
                               output_padding, output_size, x, w)
    if op in ("max_pool", "avg_pool"):
        if op == "avg_pool" and dilation is not None:
            raise ShapeError(f"{func}: op='avg_pool' has no dilation (as PyTorch's AvgPool)")
        return _pool(func, op, dims, kernel_size, stride, padding, dilation, ceil_mode,
                     count_include_pad, divisor_override, x)
    if op == "max_unpool":
        return _max_unpool(func, dims, kernel_size, stride, padding, output_size, indices, x)
    if op == "unpool":
        return _unpool(func, dims, kernel_size, position, x)
    return _interpolate(func, dims, size, scale_factor, mode, align_corners, x)


def _get(a: np.ndarray | None, cell: Cell | None) -> float | None:
    return None if a is None or cell is None else float(a[cell])


def _mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _inside(cell: Sequence[int], shape: Sequence[int]) -> bool:
    return all(0 <= c < n for c, n in zip(cell, shape, strict=True))


def _kinds(lo: Sequence[int], hi: Sequence[int], per_axis: Any, order: Sequence[str]) -> dict[
    Cell, str
]:
    """Combine per-axis kinds: the first kind of ``order`` any axis has wins."""
    table = [[per_axis(axis, c) for c in range(lo[axis], hi[axis])] for axis in range(len(lo))]
    rank = {k: r for r, k in enumerate(order)}
    out = {}
    for cell in cells(lo, hi):
        ks = [table[axis][c - lo[axis]] for axis, c in enumerate(cell)]
        out[cell] = min(ks, key=rank.__getitem__)
    return out


def _output_kinds(lo: Sequence[int], hi: Sequence[int], out: Sequence[int],
                  extra: Sequence[int]) -> dict[Cell, str]:
    def kind(axis: int, t: int) -> str:
        if not 0 <= t < out[axis]:
            return "crop"
        return "extra" if t >= out[axis] - extra[axis] else "output"

    return _kinds(lo, hi, kind, ("crop", "extra", "output"))


def _conv(func: str, dims: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any,
          dilation: Any, x: np.ndarray | None, w: np.ndarray | None) -> Plan:
    g = conv_geometry(dims, kernel_size, _int_default(stride, 1), _int_default(padding, 0),
                      _int_default(dilation, 1), func=func)
    n = g.ndim
    k, s, d, pads, out = g.kernel_size, g.stride, g.dilation, g.padding, g.output_size
    steps: list[Step] = []
    for o in cells((0,) * n, out):
        taps = []
        for t in cells((0,) * n, k):
            src = tuple(o[a] * s[a] - pads[a][0] + t[a] * d[a] for a in range(n))
            inp = src if _inside(src, dims) else None
            wt = _get(w, t)
            prod = _mul(_get(x, inp), wt)
            taps.append(Tap(src, inp, t, o, o, wt, prod, prod))
        result = None if x is None else sum(tp.value or 0.0 for tp in taps)
        steps.append(Step(len(steps), tuple(tp.src for tp in taps), (o,), tuple(taps), result))
    lo = tuple(-p[0] for p in pads)
    hi = tuple(i + p[1] for i, p in zip(dims, pads, strict=True))
    rows = []
    for a in range(n):
        (pb, pa), i = pads[a], dims[a]
        pad_sym, pad_num = (("2p", f"2·{pb}") if pb == pa else
                            ("p_before + p_after", f"{pb} + {pa}"))
        rows.append(f"o = ⌊(i + {pad_sym} − d(k−1) − 1)/s⌋ + 1 = ⌊({i} + {pad_num} − "
                    f"{d[a]}·({k[a]}−1) − 1)/{s[a]}⌋ + 1 = {out[a]}")
    params = {"i": dims, "k": k, "s": s, "p": pads, "d": d, "o": out}
    header = (
        f"conv: i={_show_size(dims)}, k={_dim_text(k)}, s={_dim_text(s)}, p={_pad_text(pads)}, "
        f"d={_dim_text(d)} → o={_show_size(out)}",
        *_per_dim_lines(rows, n),
    )
    return Plan("conv", "gather", dims, k, out, params, lo, hi, (0,) * n, out, tuple(steps),
                header, x, w,
                kinds_src=_kinds(lo, hi, lambda a, c: "input" if 0 <= c < dims[a] else "pad",
                                 ("pad", "input")),
                kinds_dst=_output_kinds((0,) * n, out, out, (0,) * n))


def _conv_transpose(func: str, view: str, dims: tuple[int, ...], kernel_size: Any, stride: Any,
                    padding: Any, dilation: Any, output_padding: Any, output_size: Any,
                    x: np.ndarray | None, w: np.ndarray | None) -> Plan:
    g = transpose_geometry(dims, kernel_size, _int_default(stride, 1), _int_default(padding, 0),
                           _int_default(output_padding, 0), _int_default(dilation, 1),
                           output_size=output_size, func=func)
    eq = equivalent_conv(dims, g.kernel_size, g.stride, g.padding, g.output_padding, g.dilation)
    n = g.ndim
    k, s, d, pads, a_, out = (g.kernel_size, g.stride, g.dilation, g.padding, g.output_padding,
                              g.output_size)
    full = tuple(s[a] * (dims[a] - 1) + d[a] * (k[a] - 1) + 1 for a in range(n))
    # the direct view's numbers: ĩ' = s(i'-1) + 1, padding d(k-1) - p before and d(k-1) - p + a
    # after, as upconv.equivalent_conv states them (tuples, since dims is a tuple)
    stretched = _tuple(eq.stretched_size)
    before = _tuple(eq.pad_before)
    after = _tuple(eq.pad_after)
    steps: list[Step] = []
    if view == "scatter":
        for i in cells((0,) * n, dims):
            taps = []
            for t in cells((0,) * n, k):
                dst = tuple(i[a] * s[a] + t[a] * d[a] - pads[a][0] for a in range(n))
                outc = dst if _inside(dst, out) else None
                wt = _get(w, t)
                prod = _mul(_get(x, i), wt)
                taps.append(Tap(i, i, t, dst, outc, wt, prod, prod if outc is not None else None))
            steps.append(Step(len(steps), (i,), tuple(tp.dst for tp in taps), tuple(taps)))
        src_lo, src_hi = (0,) * n, dims
        kinds_src = _kinds(src_lo, src_hi, lambda a, c: "input", ("input",))
        dst_lo = tuple(-p[0] for p in pads)
        dst_hi = tuple(max(full[a] - pads[a][0], out[a]) for a in range(n))
    else:
        for o in cells((0,) * n, out):
            taps = []
            for j in cells((0,) * n, k):
                u = tuple(o[a] - before[a] + j[a] * d[a] for a in range(n))
                unit = all(0 <= u[a] < stretched[a] and u[a] % s[a] == 0 for a in range(n))
                inp = tuple(u[a] // s[a] for a in range(n)) if unit else None
                kt = tuple(k[a] - 1 - j[a] for a in range(n))  # the kernel is flipped
                wt = _get(w, kt)
                prod = _mul(_get(x, inp), wt)
                taps.append(Tap(u, inp, kt, o, o, wt, prod, prod))
            result = None if x is None else sum(tp.value or 0.0 for tp in taps)
            steps.append(Step(len(steps), tuple(tp.src for tp in taps), (o,), tuple(taps),
                              result))
        src_lo = tuple(min(0, -before[a]) for a in range(n))
        src_hi = tuple(max(stretched[a], stretched[a] + after[a]) for a in range(n))

        def kind(a: int, u: int) -> str:
            in_pad = -before[a] <= u < stretched[a] + after[a]
            in_x = 0 <= u < stretched[a]
            if in_x and not in_pad:
                return "crop"
            if not in_x:
                return "pad"
            return "input" if u % s[a] == 0 else "zero"

        kinds_src = _kinds(src_lo, src_hi, kind, ("crop", "pad", "zero", "input"))
        dst_lo, dst_hi = (0,) * n, out
    rows, eq_rows = [], []
    for a in range(n):
        (pb, pa), isz = pads[a], dims[a]
        pad_sym, pad_num = (("2p", f"2·{pb}") if pb == pa else
                            ("p_before − p_after", f"{pb} − {pa}"))
        rows.append(f"o′ = (i′−1)·s − {pad_sym} + d(k−1) + a + 1 = ({isz}−1)·{s[a]} − {pad_num} + "
                    f"{d[a]}·({k[a]}−1) + {a_[a]} + 1 = {out[a]}")
        eq_rows.append(
            f"direct conv with the flipped kernel: ĩ′ = s(i′−1)+1 = {stretched[a]}, k′ = {k[a]}, "
            f"s′ = 1, p′ = d(k−1)−p = {_signed(before[a])} before and d(k−1)−p+a = "
            f"{_signed(after[a])} after" + (f", d′ = {d[a]}" if d[a] != 1 else "")
        )
    params = {"i": dims, "k": k, "s": s, "p": pads, "a": a_, "d": d, "o": out, "full": full,
              "stretched": stretched, "pad_before": before, "pad_after": after,
              "relationship": eq.relationship}
    header = (
        f"conv_transpose: i′={_show_size(dims)}, k={_dim_text(k)}, s={_dim_text(s)}, "
        f"p={_pad_text(pads)}, a={_dim_text(a_)}, d={_dim_text(d)} → o′={_show_size(out)}",
        *_per_dim_lines(rows, n),
        *_per_dim_lines(eq_rows, n),
    )
    return Plan("conv_transpose", view, dims, k, out, params, src_lo, src_hi, dst_lo, dst_hi,
                tuple(steps), header, x, w, stretch=s if view == "direct" else (),
                kinds_src=kinds_src, kinds_dst=_output_kinds(dst_lo, dst_hi, out, a_))


def _pool(func: str, op: str, dims: tuple[int, ...], kernel_size: Any, stride: Any,
          padding: Any, dilation: Any, ceil_mode: Any, count_include_pad: Any,
          divisor_override: Any, x: np.ndarray | None) -> Plan:
    g = pool_geometry(dims, kernel_size, stride, _int_default(padding, 0),
                      _int_default(dilation, 1), ceil_mode, func=func)
    if not isinstance(count_include_pad, bool):
        raise TypeError(f"{func}: count_include_pad={count_include_pad!r} must be a bool")
    div = None if divisor_override is None else check_int(
        divisor_override, "divisor_override", func, minimum=1)
    n = g.ndim
    k, s, p, d, out = g.kernel_size, g.stride, g.padding, g.dilation, g.output_size
    steps: list[Step] = []
    for o in cells((0,) * n, out):
        start = tuple(o[a] * s[a] - p[a] for a in range(n))
        window = [tuple(start[a] + t[a] * d[a] for a in range(n)) for t in cells((0,) * n, k)]
        valid = [c for c in window if _inside(c, dims)]
        taps: list[Tap] = []
        if op == "max_pool":
            # PyTorch starts from the first window position >= 0 (cpu_max_pool), at -inf
            first = [start[a] + (-start[a] + d[a] - 1) // d[a] * d[a] if start[a] < 0
                     else start[a] for a in range(n)]
            best: Cell | None = tuple(first)
            best_val = -math.inf
            if x is not None:
                for c in valid:  # first maximum in scan order wins; a NaN always replaces
                    v = float(x[c])
                    if v > best_val or math.isnan(v):
                        best, best_val = c, v
            for t, c in zip(cells((0,) * n, k), window, strict=True):
                inp = c if _inside(c, dims) else None
                xv = _get(x, inp)
                taps.append(Tap(c, inp, t, o, o, None if inp is None else 1.0, xv,
                                xv if (c == best and x is not None) else None))
            plane = [math.prod(dims[a + 1:]) for a in range(n)]
            switch = None if x is None or best is None else sum(
                c * st for c, st in zip(best, plane, strict=True))
            steps.append(Step(len(steps), tuple(window), (o,), tuple(taps),
                              None if x is None else best_val, switch))
            continue
        # average: PyTorch's divisor (AvgPoolKernel.cpp) counts the padding inside i + p only
        ends = [min(start[a] + k[a], dims[a] + p[a]) for a in range(n)]
        pool_size = math.prod(ends[a] - start[a] for a in range(n))
        count = len(valid)
        divisor = div if div is not None else (pool_size if count_include_pad else count)
        for t, c in zip(cells((0,) * n, k), window, strict=True):
            inp = c if _inside(c, dims) else None
            wt = None if inp is None or divisor == 0 else 1.0 / divisor
            prod = _mul(_get(x, inp), wt)
            taps.append(Tap(c, inp, t, o, o, wt, prod, prod))
        result = None
        if x is not None:
            result = sum(float(x[c]) for c in valid) / divisor if divisor else 0.0
        steps.append(Step(len(steps), tuple(window), (o,), tuple(taps), result))
    lo = tuple(-v for v in p)
    hi = tuple(max(dims[a] + p[a], (out[a] - 1) * s[a] - p[a] + d[a] * (k[a] - 1) + 1)
               for a in range(n))

    def kind(a: int, c: int) -> str:
        if 0 <= c < dims[a]:
            return "input"
        return "pad" if c < dims[a] + p[a] else "outside"

    rows = []
    for a in range(n):
        lb, rb = ("⌈", "⌉") if g.ceil_mode else ("⌊", "⌋")
        raw = (dims[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1 + (s[a] - 1 if g.ceil_mode else 0)
               ) // s[a] + 1
        rows.append(f"o = {lb}(i + 2p − d(k−1) − 1)/s{rb} + 1 = {lb}({dims[a]} + 2·{p[a]} − "
                    f"{d[a]}·({k[a]}−1) − 1)/{s[a]}{rb} + 1"
                    + (" − 1 (the last window would start in the padding)" if raw > out[a]
                       else "")
                    + f" = {out[a]}")
    params: dict[str, Any] = {"i": dims, "k": k, "s": s, "p": p, "d": d, "o": out,
                              "ceil_mode": g.ceil_mode}
    extra = ""
    if op == "avg_pool":
        params.update(count_include_pad=count_include_pad, divisor_override=div)
        extra = ("" if count_include_pad else ", count_include_pad=False") + (
            f", divisor_override={div}" if div is not None else "")
    header = (
        f"{op}: i={_show_size(dims)}, k={_dim_text(k)}, s={_dim_text(s)}, p={_dim_text(p)}"
        + (f", d={_dim_text(d)}" if op == "max_pool" else "")
        + (", ceil_mode=True" if g.ceil_mode else "") + extra + f" → o={_show_size(out)}",
        *_per_dim_lines(rows, n),
    )
    return Plan(op, "gather", dims, k, out, params, lo, hi, (0,) * n, out, tuple(steps), header,
                x, kinds_src=_kinds(lo, hi, kind, ("outside", "pad", "input")),
                kinds_dst=_output_kinds((0,) * n, out, out, (0,) * n))


def _default_switches(dims: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...],
                      p: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """A switch per value: a fixed pseudo-random cell of its window, no cell used twice."""
    rng = np.random.RandomState(0)
    taken: set[Cell] = set()
    flat = np.zeros(dims, dtype=np.int64)
    for i in cells((0,) * len(dims), dims):
        lo = [max(i[a] * s[a] - p[a], 0) for a in range(len(dims))]
        hi = [min(i[a] * s[a] - p[a] + k[a], out[a]) for a in range(len(dims))]
        window = [c for c in cells(lo, hi)] or [tuple(min(v, o - 1) for v, o in zip(lo, out,
                                                                                     strict=True))]
        free = [c for c in window if c not in taken] or window
        pick = free[rng.randint(len(free))]
        taken.add(pick)
        flat[i] = np.ravel_multi_index(pick, out)
    return flat


def _max_unpool(func: str, dims: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any,
                output_size: Any, indices: Any, x: np.ndarray | None) -> Plan:
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    s = k if stride is None else per_dim(stride, n, "stride", func)
    p = per_dim(_int_default(padding, 0), n, "padding", func, minimum=0)
    default = tuple((dims[a] - 1) * s[a] - 2 * p[a] + k[a] for a in range(n))
    if output_size is None:
        for a, o in enumerate(default):
            if o < 1:
                raise ShapeError(
                    f"{func}: the output would be empty: in dimension {a} (i−1)·s − 2p + k = "
                    f"({dims[a]}−1)·{s[a]} − 2·{p[a]} + {k[a]} = {o}"
                )
        out = default
    else:
        out = per_dim(output_size, n, "output_size", func)
        for a in range(n):
            low, high = max(1, default[a] - s[a] + 1), default[a] + s[a] - 1
            if not low <= out[a] <= high:
                raise ShapeError(
                    f"{func}: output_size={_show_size(out)} is not reachable: in dimension {a} "
                    f"valid sizes range from {low} to {high} (the default (i−1)·s − 2p + k = "
                    f"{default[a]}, plus or minus less than stride={s[a]})"
                )
    plane = math.prod(out)
    if indices is None:
        idx = _default_switches(dims, k, s, p, out)
    else:
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{func}: indices must hold integers, got dtype {idx.dtype}")
        if idx.shape != dims:
            raise ShapeError(
                f"{func}: indices has shape {idx.shape} but input_size is {_show_size(dims)}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= plane):
            raise ShapeError(
                f"{func}: indices must lie in [0, {plane}) (flat positions in the "
                f"{_show_size(out)} output plane); got values from {idx.min()} to {idx.max()}"
            )
        if len(np.unique(idx)) != idx.size:
            raise ShapeError(
                f"{func}: indices repeat a position; two values would land on the same output "
                "cell, where PyTorch's result is undefined (pytorch/pytorch#80827)"
            )
        idx = idx.astype(np.int64)
    steps: list[Step] = []
    for i in cells((0,) * n, dims):
        sw = int(idx[i])
        dst = tuple(int(v) for v in np.unravel_index(sw, out))
        lo = [max(i[a] * s[a] - p[a], 0) for a in range(n)]
        hi = [min(i[a] * s[a] - p[a] + k[a], out[a]) for a in range(n)]
        xv = _get(x, i)
        tap = Tap(i, i, None, dst, dst, None if x is None else 1.0, xv, xv)
        steps.append(Step(len(steps), (i,), (dst,), (tap,), None, sw, tuple(cells(lo, hi))))
    rows = ([f"o = (i−1)·s − 2p + k = ({dims[a]}−1)·{s[a]} − 2·{p[a]} + {k[a]} = {out[a]}"
             for a in range(n)] if output_size is None else
            [f"o = output_size = {out[a]} (default (i−1)·s − 2p + k = {default[a]})"
             for a in range(n)])
    params = {"i": dims, "k": k, "s": s, "p": p, "o": out}
    header = (
        f"max_unpool: i={_show_size(dims)}, k={_dim_text(k)}, s={_dim_text(s)}, "
        f"p={_dim_text(p)} → o={_show_size(out)}, switches from a max_pool with the same k, s, p",
        *_per_dim_lines(rows, n),
    )
    return Plan("max_unpool", "scatter", dims, k, out, params, (0,) * n, dims, (0,) * n, out,
                tuple(steps), header, x, indices=idx,
                kinds_src=_kinds((0,) * n, dims, lambda a, c: "input", ("input",)),
                kinds_dst=_output_kinds((0,) * n, out, out, (0,) * n))


def _unpool(func: str, dims: tuple[int, ...], kernel_size: Any, position: Any,
            x: np.ndarray | None) -> Plan:
    n = len(dims)
    k = per_dim(kernel_size, n, "kernel_size", func)
    if not isinstance(position, str) or position not in POSITIONS:
        raise ShapeError(f"{func}: position={position!r} is not one of {choices(POSITIONS)}")
    r = tuple(0 if position == "top-left" else kk // 2 for kk in k)
    out = tuple(i * kk for i, kk in zip(dims, k, strict=True))
    steps: list[Step] = []
    for i in cells((0,) * n, dims):
        dst = tuple(i[a] * k[a] + r[a] for a in range(n))
        region = tuple(cells([i[a] * k[a] for a in range(n)],
                             [(i[a] + 1) * k[a] for a in range(n)]))
        xv = _get(x, i)
        tap = Tap(i, i, None, dst, dst, None if x is None else 1.0, xv, xv)
        steps.append(Step(len(steps), (i,), (dst,), (tap,), None, None, region))
    rows = [f"o = i·k = {dims[a]}·{k[a]} = {out[a]}" for a in range(n)]
    params = {"i": dims, "k": k, "o": out, "position": position}
    header = (
        f"unpool: i={_show_size(dims)}, k={_dim_text(k)}, position={position!r} → "
        f"o={_show_size(out)}; each value goes to cell i·k"
        + (" + k//2" if position == "center" else "") + " of its k-region, zeros elsewhere",
        *_per_dim_lines(rows, n),
    )
    return Plan("unpool", "scatter", dims, k, out, params, (0,) * n, dims, (0,) * n, out,
                tuple(steps), header, x,
                kinds_src=_kinds((0,) * n, dims, lambda a, c: "input", ("input",)),
                kinds_dst=_output_kinds((0,) * n, out, out, (0,) * n))


def _ratio(n: int, o: int, scale: float | None, align: bool, dt: Any) -> Any:
    """PyTorch's area_pixel_compute_scale in precision ``dt``."""
    if align:
        return dt(n - 1) / dt(o - 1) if o > 1 else dt(0)
    return dt(1.0 / scale) if scale is not None else dt(n) / dt(o)


def _floorf(v: Any) -> int:
    # C's floorf: PyTorch rounds the source coordinate to float32 before flooring
    return int(np.floor(np.float32(v)))


def axis_taps(n: int, o: int, scale: float | None, mode: str, align: bool,
              direct: bool) -> list[list[tuple[int, float]]]:
    """Per output index of one axis: the ``(input index, weight)`` pairs, PyTorch's rules.

    Nearest follows ``nearest_idx`` (float32 ratio, fast paths ``O == L`` and ``O == 2L``)
    when ``direct`` (PyTorch's kernel for 2-d outputs with ``O_H + O_W <= 128``), else the
    float64 helper;
    linear modes use the half-pixel source ``r(j + 0.5) - 0.5`` clamped at 0, or
    ``j(L-1)/(O-1)`` with ``align_corners``, and copy when ``O == L``.

    Examples
    --------
    >>> axis_taps(2, 4, None, "bilinear", False, False)[1]
    [(0, 0.75), (1, 0.25)]
    """
    taps: list[list[tuple[int, float]]] = []
    if mode in ("nearest", "nearest-exact"):
        for j in range(o):
            if mode == "nearest":
                if direct and o == n:
                    i = j
                elif direct and o == 2 * n:
                    i = j >> 1
                elif direct:
                    r32 = _ratio(n, o, scale, False, np.float32)
                    i = _floorf(np.float32(j) * r32)
                else:
                    i = _floorf(j * _ratio(n, o, scale, False, np.float64))
            elif direct:
                i = _floorf((j + 0.5) * np.float64(_ratio(n, o, scale, False, np.float32)))
            else:
                r = _ratio(n, o, scale, False, np.float64)
                i = _floorf(max(r * (j + 0.5) - 0.5, 0.0) + 0.5)
            taps.append([(min(i, n - 1), 1.0)])
        return taps
    for j in range(o):
        if o == n:
            taps.append([(j, 1.0)])
            continue
        r = _ratio(n, o, scale, align, np.float64)
        src = float(j * r) if align else max(float(r * (j + 0.5) - 0.5), 0.0)
        i0 = min(_floorf(src), n - 1)
        lam = min(max(src - i0, 0.0), 1.0)
        i1 = i0 + (1 if i0 < n - 1 else 0)
        taps.append([(i0, 1.0 - lam), (i1, lam)])
    return taps


def _interpolate(func: str, dims: tuple[int, ...], size: Any, scale_factor: Any, mode: Any,
                 align_corners: Any, x: np.ndarray | None) -> Plan:
    n = len(dims)
    if not isinstance(mode, str) or mode not in MODES:
        raise ShapeError(f"{func}: mode={mode!r} is not one of {choices(MODES)}")
    linear = mode in ("linear", "bilinear")
    if align_corners is not None and not linear:
        raise ShapeError(
            f"{func}: align_corners={align_corners!r} applies to mode 'linear' or 'bilinear' "
            f"only, not mode={mode!r}; leave it None"
        )
    align = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ShapeError(f"{func}: op='interpolate' needs exactly one of size= and scale_factor=")
    scales: tuple[float | None, ...]
    if size is not None:
        out = per_dim(size, n, "size", func)
        scales = (None,) * n
    else:
        raw = scale_factor if isinstance(scale_factor, list | tuple) else (scale_factor,) * n
        if len(raw) != n or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                    for v in raw):
            raise ShapeError(
                f"{func}: scale_factor={scale_factor!r} must be a number or {n} numbers"
            )
        if not all(math.isfinite(v) and v > 0 for v in raw):
            raise ShapeError(f"{func}: scale_factor={scale_factor!r} must be positive")
        factors = tuple(float(v) for v in raw)
        scales = factors
        out = tuple(math.floor(i * f) for i, f in zip(dims, factors, strict=True))
        if min(out) < 1:
            raise ShapeError(
                f"{func}: scale_factor={scale_factor!r} gives an empty output "
                f"{_show_size(out)} for input_size {_show_size(dims)}"
            )
    direct = n == 2 and sum(out) <= 128
    per_axis = [axis_taps(dims[a], out[a], scales[a], mode, align, direct) for a in range(n)]
    steps: list[Step] = []
    for o in cells((0,) * n, out):
        merged: dict[Cell, float] = {}
        for combo in itertools.product(*(per_axis[a][o[a]] for a in range(n))):
            src = tuple(c for c, _ in combo)
            merged[src] = merged.get(src, 0.0) + math.prod(wt for _, wt in combo)
        kept = {c: wt for c, wt in merged.items() if wt != 0} or merged
        taps = []
        for src, wt in kept.items():
            prod = _mul(_get(x, src), wt)
            taps.append(Tap(src, src, None, o, o, wt, prod, prod))
        result = None if x is None else sum(tp.value or 0.0 for tp in taps)
        steps.append(Step(len(steps), tuple(kept), (o,), tuple(taps), result))
    if size is not None:
        rows = [f"o = size = {out[a]}" for a in range(n)]
    else:
        rows = [f"o = ⌊i·scale⌋ = ⌊{dims[a]}·{fmt_num(scales[a] or 0)}⌋ = {out[a]}"
                for a in range(n)]
    rule = {
        "nearest": "source j·r (floored), r = 1/scale or i/o",
        "nearest-exact": "source (j + 0.5)·r (floored), r = 1/scale or i/o",
    }.get(mode, "source j·(i−1)/(o−1)" if align else
          "source r·(j + 0.5) − 0.5 (clamped at 0), r = 1/scale or i/o")
    name = mode if not linear else ("linear", "bilinear", "trilinear")[n - 1]
    params = {"i": dims, "o": out, "mode": name, "align_corners": align, "scale": scales}
    header = (
        f"interpolate: i={_show_size(dims)}, mode={name!r}"
        + (", align_corners=True" if align else "")
        + (f", scale_factor={_dim_text([fmt_num(v or 0) for v in scales])}"
           if size is None else "")
        + f" → o={_show_size(out)}; {rule}",
        *_per_dim_lines(rows, n),
    )
    return Plan("interpolate", "gather", dims, None, out, params, (0,) * n, dims, (0,) * n, out,
                tuple(steps), header, x,
                kinds_src=_kinds((0,) * n, dims, lambda a, c: "input", ("input",)),
                kinds_dst=_output_kinds((0,) * n, out, out, (0,) * n))


# ---------------------------------------------------------------------------------------------
# Words


def index_text(name: str, cell: Sequence[int]) -> str:
    """``x[0, 1]``."""
    return f"{name}[{', '.join(str(c) for c in cell)}]"


def _axis_range(values: list[int]) -> str:
    if len(values) == 1:
        return str(values[0])
    step = values[1] - values[0]
    if all(b - a == step for a, b in zip(values, values[1:], strict=False)):
        end = values[-1] + 1
        return f"{values[0]}:{end}" if step == 1 else f"{values[0]}:{end}:{step}"
    return "{" + ",".join(map(str, values)) + "}"


def range_text(name: str, group: Sequence[Cell]) -> str:
    """``y[0:2, 1:3]`` for a box of cells (NumPy slices), else the cells one by one.

    Examples
    --------
    >>> range_text("y", [(0, 1), (0, 2), (1, 1), (1, 2)])
    'y[0:2, 1:3]'
    >>> range_text("y", [(0,), (2,), (4,)])
    'y[0:5:2]'
    """
    uniq = list(dict.fromkeys(group))
    if not uniq:
        return f"{name}[]"
    axes = [sorted({c[a] for c in uniq}) for a in range(len(uniq[0]))]
    if math.prod(len(v) for v in axes) == len(uniq):
        return f"{name}[{', '.join(_axis_range(v) for v in axes)}]"
    return ", ".join(index_text(name, c) for c in uniq)


def _factor(v: float) -> str:
    text = fmt_num(v)
    return f"({text})" if text.startswith("-") else text


def describe(plan: Plan, step: Step) -> str:
    """One line saying what ``step`` does, with the numbers when the plan has them.

    Examples
    --------
    >>> plan = build("f", "conv_transpose", values=[[1, 2], [3, 4]], kernel=[[5, 5], [5, 5]])
    >>> describe(plan, plan.steps[1])
    'x[0, 1] = 2 times the kernel adds 10, 10, 10, 10 to y[0:2, 1:3]'
    """
    op, num = plan.op, plan.numbers
    if op == "conv_transpose" and plan.view == "scatter":
        (i,) = step.sources
        kept = [t for t in step.taps if t.output is not None]
        lost = len(step.taps) - len(kept)
        head = index_text("x", i) + (f" = {fmt_num(plan.x[i])}" if plan.x is not None else "")
        if not kept:
            text = f"{head}: every product falls in the cropped border"
        elif num:
            adds = ", ".join(fmt_num(t.value or 0.0) for t in kept)
            text = f"{head} times the kernel adds {adds} to " + range_text(
                "y", [t.dst for t in kept])
        else:
            text = f"{head} times the kernel is added to " + range_text(
                "y", [t.dst for t in kept])
        if lost and kept:
            text += f"; {lost} product{'s' if lost > 1 else ''} fall{'' if lost > 1 else 's'} " \
                    "in the border cropped by padding"
        return text
    if op in ("max_unpool", "unpool"):
        (i,) = step.sources
        (dst,) = step.targets
        head = index_text("x", i) + (f" = {fmt_num(plan.x[i])}" if plan.x is not None else "")
        where = (f"switch {step.switch} = " if op == "max_unpool" else "") + index_text("y", dst)
        rest = "window" if op == "max_unpool" else "k-region"
        return f"{head} goes to {where}; the rest of its {rest} stays 0"
    (o,) = step.targets
    head = index_text("y", o)
    real = [t for t in step.taps if t.input is not None]
    if op == "max_pool":
        if not num:
            return f"{head} = max of the window " + range_text("x", [t.src for t in real])
        vals = ", ".join(fmt_num(t.product if t.product is not None else 0.0) for t in real)
        best = next((t for t in step.taps if t.value is not None), None)
        if best is None or best.input is None:
            return f"{head} = -inf: the window lies entirely in the padding"
        return (f"{head} = max({vals}) = {fmt_num(step.result or 0.0)} at "
                f"{index_text('x', best.input)}, switch {step.switch}")
    if op == "avg_pool":
        divisor = round(1 / real[0].weight) if real and real[0].weight else 0
        if not num:
            return (f"{head} = sum of the {len(real)} input cells in its window / {divisor}")
        terms = " + ".join(fmt_num(t.product / (t.weight or 1) if t.product is not None
                                   else 0.0) for t in real)
        return f"{head} = ({terms}) / {divisor} = {fmt_num(step.result or 0.0)}"
    if op == "interpolate":
        if len(real) == 1 and real[0].weight == 1 and real[0].input is not None:
            src = index_text("x", real[0].input)
            return f"{head} = {src}" + (f" = {fmt_num(step.result or 0.0)}" if num else "")
        terms = " + ".join(
            f"{fmt_num(t.weight or 0.0)}·" + (_factor(plan.x[t.input]) if plan.x is not None
                                              and t.input is not None
                                              else index_text("x", t.input or ()))
            for t in real)
        return f"{head} = {terms}" + (f" = {fmt_num(step.result or 0.0)}" if num else "")
    # conv and the direct view of conv_transpose
    zeros = len(step.taps) - len(real)
    where = "inserted zeros or padding" if plan.view == "direct" else "padding"
    if num:
        assert plan.x is not None
        if not real:
            return f"{head} = 0: every tap is on {where}"
        terms = " + ".join(f"{_factor(plan.x[t.input])}·{_factor(t.weight or 0.0)}"
                           for t in real if t.input is not None)
        return f"{head} = {terms} = {fmt_num(step.result or 0.0)}"
    return (f"{head} = Σ window × kernel: {len(real)} of {len(step.taps)} taps on input cells"
            + (f", {zeros} on {where}" if zeros else ""))
