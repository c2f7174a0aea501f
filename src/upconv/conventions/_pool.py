"""Pooling and max unpooling across PyTorch, TensorFlow, Keras 3, JAX/Flax and ONNX.

:class:`PoolSpec` describes max or average pooling per spatial dimension by its *windows*:
output ``o`` reads the taps ``o*s - before + j*d`` (``j < k``) of the input padded by
``(before, after)``, for ``o < output_size``.  The frameworks differ in how they choose the
padding and the number of windows, and (for the average) in what they divide by:

* PyTorch: symmetric ``padding <= kernel_size // 2``; ``ceil_mode`` adds a last window that
  may overhang the right padding but is dropped when it would *start* in it;
  ``count_include_pad`` counts the padding (never the overhang); ``divisor_override``.
* TensorFlow / Keras: ``SAME`` (``ceil(L/s)`` windows, the odd padding element at the end,
  the average divides by the *valid* elements only) or ``VALID``.
* JAX ``lax.reduce_window``: explicit ``(low, high)`` pairs or TF's strings; an average is a
  sum divided by the window size (``flax.linen.avg_pool(count_include_pad=True)``) or by the
  valid count (``False``).
* ONNX ``MaxPool`` / ``AveragePool``: ``pads`` (begin..., end...), ``auto_pad``
  (``SAME_UPPER`` = TF's split, ``SAME_LOWER`` the other way round), ``ceil_mode`` with
  PyTorch's rule, ``count_include_pad`` (default 0!), ``dilations``.  ONNX Runtime rejects
  pads that are not smaller than the kernel.

The *switches* (argmax indices) have three layouts: PyTorch's flat index inside each
``(N, C)`` plane, ONNX's flat index over the whole NCHW tensor (``storage_order=1``: the
spatial part column-major), TensorFlow's ``max_pool_with_argmax`` flat NHWC index
(``(y*W + x)*C + c``, plus ``b*H*W*C`` with ``include_batch_in_index``).  The
``indices_*`` functions convert between them.

Checked by running ONNX Runtime 1.31.1, JAX 0.10.2 (``lax.reduce_window``), Keras 3.15.1 on
JAX (``MaxPooling*D`` / ``AveragePooling*D``, which implement TF's rules) and PyTorch;
TensorFlow itself is not run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._validate import Pairs, ShapeError, _is_int, _show, check_int, float_array, per_dim
from ..ops.pool import avg_pool as _np_avg_pool
from ..ops.pool import max_pool as _np_max_pool
from ..ops.unpool import max_unpool as _np_max_unpool
from ..shapes import pool_geometry
from ._common import (
    Translation,
    check_choice,
    check_framework,
    from_channels_first,
    parse_data_format,
    to_channels_first,
)

KINDS: tuple[str, ...] = ("max", "avg")
"""Pooling kinds."""

_SP = {1: "W", 2: "HW", 3: "DHW"}
_TF_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_ONNX_AUTO_PAD = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")

# ---------------------------------------------------------------------------------------------
# Integer rules


def _keff(k: int, d: int) -> int:
    return d * (k - 1) + 1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _same_pads(size: int, ke: int, s: int, upper: bool = True) -> tuple[int, int]:
    """TF/JAX SAME (ONNX SAME_UPPER) padding; ``upper=False`` is ONNX SAME_LOWER."""
    total = max((_ceil_div(size, s) - 1) * s + ke - size, 0)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _ceil_len(size: int, ke: int, s: int, pb: int, pa: int) -> int:
    """PyTorch's/ONNX's ceil-mode count: round up, drop a window starting in the right padding."""
    o = _ceil_div(size + pb + pa - ke, s) + 1
    if (o - 1) * s >= size + pb:
        o -= 1
    return o


def _floor_len(size: int, ke: int, s: int, pb: int, pa: int) -> int:
    return (size + pb + pa - ke) // s + 1


def _counts(size: int, k: int, s: int, d: int, pb: int, pa: int, o: int,
            include_pad: bool) -> np.ndarray:
    """Per output position, the taps inside ``[-pb, L+pa)`` (include) or the valid input.

    A negative ``pb``/``pa`` crops the input, so the valid input is
    ``[max(0, -pb), L + min(0, pa))``.
    """
    taps = np.arange(o)[:, None] * s - pb + np.arange(k)[None, :] * d
    lo, hi = (-pb, size + pa) if include_pad else (max(0, -pb), size + min(0, pa))
    return np.sum((taps >= lo) & (taps < hi), axis=1)


def _ort_geometry(size: int, k: int, s: int, d: int, pads: tuple[int, int], auto_pad: str,
                  ceil: bool) -> tuple[int, int, int]:
    """ONNX Runtime's ``ComputeSizePadDilations``: ``(pad_begin, pad_end, output)``.

    ``SAME_*`` computes ``pad_needed = (ceil(L/s) - 1)*s + k - L`` with the *undilated* kernel
    (negative when ``k`` is small: the windows then start inside the input), splits it with C
    integer division, and sizes the output with the dilated kernel; ``ceil_mode`` applies to
    every ``auto_pad`` and drops a last window that would start in the end padding.
    """
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        need = (_ceil_div(size, s) - 1) * s + k - size
        half = need + (auto_pad == "SAME_LOWER")
        pb = abs(half) // 2 * (1 if half >= 0 else -1)  # C's truncating division
        pads = (pb, need - pb)
    elif auto_pad == "VALID":
        pads = (0, 0)
    pb, pa = pads
    x = size + pb + pa - _keff(k, d)
    if ceil:
        o = _ceil_div(x, s) + 1
        if (o - 1) * s >= size + pb:
            o -= 1
    else:
        o = x // s + 1
    return pb, pa, o


# ---------------------------------------------------------------------------------------------
# Argument normalisation


def _seq(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _size(value: Any, func: str, name: str = "input_size") -> tuple[int, ...]:
    value = _seq(value)
    if _is_int(value):
        value = (value,)
    if not isinstance(value, list | tuple) or len(value) not in (1, 2, 3):
        raise ShapeError(
            f"{func}: {name}={_show(value)} must be the spatial input size: an int or 1 to 3 "
            "ints"
        )
    return per_dim(tuple(value), len(value), name, func)


def _kind(kind: Any, func: str) -> str:
    return check_choice(kind, KINDS, "kind", func)


def _framework_ints(value: Any, nd: int, name: str, func: str, *, channels_last: bool | None,
                    minimum: int = 1) -> tuple[int, ...]:
    """An int, ``nd`` ints, or (TF) ``nd + 2`` ints whose batch/channel entries are 1."""
    value = _seq(value)
    if isinstance(value, list | tuple):
        if len(value) == 1 and nd != 1:
            value = value[0]
        elif channels_last is not None and len(value) == nd + 2:
            outer = (value[0], value[-1]) if channels_last else (value[0], value[1])
            if any(not _is_int(v) or v != 1 for v in outer):
                raise ShapeError(
                    f"{func}: {name}={_show(value)} has {nd + 2} entries; the batch and "
                    "channel entries must be 1"
                )
            value = value[1:-1] if channels_last else value[2:]
    return per_dim(value, nd, name, func, minimum=minimum)


def _pair_list(value: Any, nd: int, name: str, func: str, *,
               channels_last: bool | None = None, allow_negative: bool = False) -> Pairs:
    """``nd`` ``(before, after)`` pairs (TF: also ``nd + 2`` with zero outer pairs)."""
    value = _seq(value)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{func}: {name}={_show(value)} must be a sequence of (before, after) "
                        f"pairs, not {type(value).__name__}")
    value = [_seq(v) for v in value]
    if channels_last is not None and len(value) == nd + 2:
        outer = (value[0], value[-1]) if channels_last else (value[0], value[1])
        if any(not isinstance(p, list | tuple) or tuple(p) != (0, 0) for p in outer):
            raise ShapeError(f"{func}: {name}={_show(value)} gives {nd + 2} pairs; the batch "
                             "and channel pairs must be (0, 0)")
        value = value[1:-1] if channels_last else value[2:]
    if len(value) != nd:
        raise ShapeError(
            f"{func}: {name}={_show(value)} has {len(value)} entries but there "
            f"{'are' if nd != 1 else 'is'} {nd} spatial dimension{'s' if nd != 1 else ''}; "
            f"give {nd} (before, after) pairs such as {((1, 2),) * nd}"
        )
    out = []
    for axis, pair in enumerate(value):
        if not isinstance(pair, list | tuple) or len(pair) != 2 or not all(
                _is_int(v) for v in pair):
            raise TypeError(f"{func}: {name}={_show(value)}: dimension {axis} is {_show(pair)}; "
                            "each entry must be a (before, after) pair of ints")
        if min(pair) < 0 and not allow_negative:
            raise ShapeError(f"{func}: {name}={_show(value)} must be >= 0; dimension {axis} "
                             f"has {_show(pair)}")
        out.append((int(pair[0]), int(pair[1])))
    return tuple(out)


def _onnx_pads(pads: Any, nd: int, func: str) -> Pairs:
    if pads is None:
        return ((0, 0),) * nd
    pads = _seq(pads)
    if not isinstance(pads, list | tuple) or len(pads) != 2 * nd or not all(
            _is_int(v) for v in pads):
        raise ShapeError(f"{func}: pads={_show(pads)} must be {2 * nd} ints "
                         f"[x1_begin, ..., x{nd}_begin, x1_end, ..., x{nd}_end]")
    if min(pads) < 0:
        raise ShapeError(f"{func}: pads={_show(pads)} must be >= 0")
    return tuple((int(pads[i]), int(pads[nd + i])) for i in range(nd))


def _flag01(value: Any, name: str, func: str) -> bool:
    if isinstance(value, bool | np.bool_) or (_is_int(value) and int(value) in (0, 1)):
        return bool(value)
    raise ShapeError(f"{func}: {name}={_show(value)} must be 0 or 1")


def _v(values: Sequence[int]) -> int | tuple[int, ...]:
    return int(values[0]) if len(values) == 1 else tuple(int(v) for v in values)


# =============================================================================================
# The spec


@dataclass(frozen=True)
class PoolSpec:
    """Max or average pooling, framework-neutral, one entry per spatial dimension.

    Attributes
    ----------
    kind : {'max', 'avg'}
    input_size, kernel_size, stride, dilation : tuple of int
        ``L``, ``k``, ``s``, ``d`` per spatial dimension.
    padding : tuple of (int, int)
        ``(before, after)`` padding (-inf for max, zeros for avg; negative = that many input
        elements cropped, as ONNX Runtime's SAME does for a kernel smaller than the stride).
        Window ``o`` starts at ``o*s - before``.
    output_size : tuple of int
        The number of windows ``O``.  A last window may overhang ``L + after`` (ceil mode);
        it must start inside the padded input.
    count_include_pad : bool
        Average only: divide by the taps inside ``[-before, L + after)`` (True) or inside
        ``[0, L)`` (False); the overhang of a ceil-mode window never counts.
    divisor_override : int or None
        Average only: divide every window sum by this instead.
    source : str
        The framework the spec was read from (informative).

    Examples
    --------
    >>> spec = PoolSpec.from_tf("avg", 5, 2, 2, "SAME")
    >>> spec.padding, spec.output_size, spec.count_include_pad
    (((0, 1),), (3,), False)
    >>> spec.divisors()
    array([2., 2., 1.])
    >>> spec.to_torch().args
    {'kernel_size': 2, 'stride': 2, 'padding': 0, 'ceil_mode': True, \
'count_include_pad': False}
    """

    kind: str
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Pairs
    output_size: tuple[int, ...]
    count_include_pad: bool = True
    divisor_override: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        func = "PoolSpec"
        _kind(self.kind, func)
        size = _size(self.input_size, func)
        nd = len(size)
        k = per_dim(_seq(self.kernel_size), nd, "kernel_size", func)
        s = per_dim(_seq(self.stride), nd, "stride", func)
        d = per_dim(_seq(self.dilation), nd, "dilation", func)
        pad = _pair_list(self.padding, nd, "padding", func, allow_negative=True)
        out = per_dim(_seq(self.output_size), nd, "output_size", func)
        for axis in range(nd):
            if size[axis] + sum(pad[axis]) < 1:
                raise ShapeError(f"{func}: padding={pad} crops all of input_size={size} in "
                                 f"dimension {axis}")
            if (out[axis] - 1) * s[axis] >= size[axis] + sum(pad[axis]):
                raise ShapeError(
                    f"{func}: output_size={_v(out)} has a window starting at "
                    f"{(out[axis] - 1) * s[axis] - pad[axis][0]}, past the padded input "
                    f"[-{pad[axis][0]}, {size[axis] + pad[axis][1]}) in dimension {axis}"
                )
        if not isinstance(self.count_include_pad, bool | np.bool_):
            raise TypeError(f"{func}: count_include_pad={self.count_include_pad!r} must be a bool")
        if self.divisor_override is not None:
            dv = check_int(self.divisor_override, "divisor_override", func)
            if dv == 0:
                raise ShapeError(f"{func}: divisor_override=0 must be a nonzero integer or None")
            if self.kind != "avg":
                raise ShapeError(f"{func}: divisor_override={dv} only applies to kind='avg'")
        for name, value in (("input_size", size), ("kernel_size", k), ("stride", s),
                            ("dilation", d), ("padding", pad), ("output_size", out),
                            ("count_include_pad", bool(self.count_include_pad))):
            object.__setattr__(self, name, value)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.input_size)

    @property
    def effective_kernel_size(self) -> tuple[int, ...]:
        """``d*(k-1) + 1`` per dimension."""
        return tuple(_keff(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (tuples become lists).

        Examples
        --------
        >>> PoolSpec.from_torch("max", 5, 2).to_dict()["output_size"]
        [2]
        """
        data = asdict(self)
        return {key: _listify(v) for key, v in data.items()}

    def _dims(self) -> list[tuple[int, int, int, int, int, int, int]]:
        return list(zip(self.input_size, self.kernel_size, self.stride, self.dilation,
                        [p[0] for p in self.padding], [p[1] for p in self.padding],
                        self.output_size, strict=True))

    def divisors(self, count_include_pad: bool | None = None) -> np.ndarray:
        """The divisor of every output position (average pooling), shape ``output_size``.

        Examples
        --------
        >>> PoolSpec.from_torch("avg", 5, 3, 2, 1).divisors()
        array([3., 3., 2.])
        """
        if self.divisor_override is not None:
            return np.full(self.output_size, float(self.divisor_override))
        include = self.count_include_pad if count_include_pad is None else count_include_pad
        out = np.ones((), dtype=np.float64)
        for size, k, s, d, pb, pa, o in self._dims():
            c = _counts(size, k, s, d, pb, pa, o, include).astype(np.float64)
            out = np.multiply.outer(out, c)
        return np.asarray(out)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_torch(cls, kind: str, input_size: Any, kernel_size: Any, stride: Any = None,
                   padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                   count_include_pad: bool = True, divisor_override: int | None = None
                   ) -> PoolSpec:
        """PyTorch ``MaxPoolNd`` / ``AvgPoolNd`` (``F.max_poolNd`` / ``F.avg_poolNd``).

        ``padding <= kernel_size // 2`` (PyTorch checks the kernel size, not the dilated one);
        ``AvgPool`` has no dilation.

        Examples
        --------
        >>> PoolSpec.from_torch("max", 7, 2, ceil_mode=True).output_size
        (4,)
        """
        func = "PoolSpec.from_torch"
        kind = _kind(kind, func)
        size = _size(input_size, func)
        if kind == "avg" and any(v != 1 for v in per_dim(_seq(dilation), len(size), "dilation",
                                                         func)):
            raise ShapeError(f"{func}: dilation={_show(dilation)}: PyTorch's AvgPool has no "
                             "dilation (only MaxPool has)")
        g = pool_geometry(size, _seq(kernel_size), _seq(stride), _seq(padding), _seq(dilation),
                          ceil_mode, func=func)
        if not isinstance(count_include_pad, bool):
            raise TypeError(f"{func}: count_include_pad={count_include_pad!r} must be a bool")
        return cls(kind, g.size, g.kernel_size, g.stride, g.dilation,
                   tuple((p, p) for p in g.padding), g.output_size, count_include_pad,
                   divisor_override if kind == "avg" else None, "torch")

    @classmethod
    def from_tf(cls, kind: str, input_size: Any, ksize: Any, strides: Any,
                padding: Any = "VALID", data_format: str | None = None, *,
                dilations: Any = None) -> PoolSpec:
        """TensorFlow ``tf.nn.max_pool`` / ``tf.nn.avg_pool`` (or ``tf.nn.pool`` with dilations).

        ``padding``: ``'SAME'`` (``ceil(L/s)`` windows, the odd padding element at the end),
        ``'VALID'``, or (max only) explicit ``(before, after)`` pairs, per spatial dimension
        or TF's full ``[[0, 0], [t, b], [l, r], [0, 0]]``.  The SAME average divides by the
        valid elements only.  ``ksize``/``strides`` may have ``nd + 2`` entries.

        Examples
        --------
        >>> PoolSpec.from_tf("max", (5, 6), 3, 2, "SAME").padding
        ((1, 1), (0, 1))
        """
        func = "PoolSpec.from_tf"
        kind = _kind(kind, func)
        size = _size(input_size, func)
        nd = len(size)
        fmt = _TF_FORMATS[nd][0] if data_format is None else data_format
        last = parse_data_format(check_choice(fmt, _TF_FORMATS[nd], "data_format", func), nd,
                                 func)
        k = _framework_ints(ksize, nd, "ksize", func, channels_last=last)
        s = _framework_ints(strides, nd, "strides", func, channels_last=last)
        d = (1,) * nd if dilations is None else _framework_ints(dilations, nd, "dilations", func,
                                                                 channels_last=last)
        if isinstance(padding, str):
            pad_mode = check_choice(padding, ("SAME", "VALID"), "padding", func)
            return cls._from_string(kind, size, k, s, d, pad_mode, True, False, "tf")
        if kind == "avg":
            raise ShapeError(f"{func}: padding={_show(padding)}: tf.nn.avg_pool accepts only "
                             "'SAME' or 'VALID' (explicit padding is for max pooling)")
        pads = _pair_list(padding, nd, "padding", func, channels_last=last)
        out = tuple(_floor_len(L, _keff(kk, dd), ss, b, a)
                    for L, kk, ss, dd, (b, a) in zip(size, k, s, d, pads, strict=True))
        _check_nonempty(func, out, size, k, d, pads)
        return cls(kind, size, k, s, d, pads, out, False, None, "tf")

    @classmethod
    def _from_string(cls, kind: str, size: tuple[int, ...], k: tuple[int, ...],
                     s: tuple[int, ...], d: tuple[int, ...], mode: str, upper: bool,
                     include: bool, source: str) -> PoolSpec:
        """SAME (TF/ONNX SAME_UPPER, or SAME_LOWER) or VALID windows."""
        func = f"PoolSpec.from_{source}"
        if mode == "VALID":
            pads: Pairs = ((0, 0),) * len(size)
        else:
            pads = tuple(_same_pads(L, _keff(kk, dd), ss, upper)
                         for L, kk, ss, dd in zip(size, k, s, d, strict=True))
        out = tuple(_floor_len(L, _keff(kk, dd), ss, b, a)
                    for L, kk, ss, dd, (b, a) in zip(size, k, s, d, pads, strict=True))
        _check_nonempty(func, out, size, k, d, pads)
        return cls(kind, size, k, s, d, pads, out, include, None, source)

    @classmethod
    def from_keras(cls, kind: str, input_size: Any, pool_size: Any, strides: Any = None,
                   padding: str = "valid") -> PoolSpec:
        """Keras 3 ``MaxPooling{1,2,3}D`` / ``AveragePooling{1,2,3}D`` (``keras.ops`` pools).

        ``strides`` defaults to ``pool_size``; ``padding`` is ``'valid'`` or ``'same'``
        (TF's rule; the same-padded average divides by the valid elements only).

        Examples
        --------
        >>> PoolSpec.from_keras("avg", 5, 2, padding="same").divisors()
        array([2., 2., 1.])
        """
        func = "PoolSpec.from_keras"
        kind = _kind(kind, func)
        size = _size(input_size, func)
        nd = len(size)
        k = _framework_ints(pool_size, nd, "pool_size", func, channels_last=None)
        s = k if strides is None else _framework_ints(strides, nd, "strides", func,
                                                      channels_last=None)
        mode = check_choice(padding, ("valid", "same"), "padding", func).upper()
        return cls._from_string(kind, size, k, s, (1,) * nd, mode, True, False, "keras")

    @classmethod
    def from_jax(cls, kind: str, input_size: Any, window_dimensions: Any,
                 window_strides: Any = None, padding: Any = "VALID",
                 window_dilation: Any = None, *, count_include_pad: bool = True) -> PoolSpec:
        """``jax.lax.reduce_window`` over the spatial dimensions (Flax's pools).

        ``window_dimensions`` etc. are per *spatial* dimension; ``padding`` is ``'SAME'``,
        ``'VALID'`` or ``(low, high)`` pairs.  An average is the window sum divided by the
        window size (``count_include_pad=True``, ``flax.linen.avg_pool``'s default) or by the
        valid count.

        Examples
        --------
        >>> PoolSpec.from_jax("max", 5, 3, 2, ((1, 0),)).output_size
        (2,)
        """
        func = "PoolSpec.from_jax"
        kind = _kind(kind, func)
        size = _size(input_size, func)
        nd = len(size)
        k = _framework_ints(window_dimensions, nd, "window_dimensions", func, channels_last=None)
        s = (1,) * nd if window_strides is None else _framework_ints(
            window_strides, nd, "window_strides", func, channels_last=None)
        d = (1,) * nd if window_dilation is None else _framework_ints(
            window_dilation, nd, "window_dilation", func, channels_last=None)
        if not isinstance(count_include_pad, bool):
            raise TypeError(f"{func}: count_include_pad={count_include_pad!r} must be a bool")
        if isinstance(padding, str):
            mode = check_choice(padding, ("SAME", "VALID"), "padding", func)
            spec = cls._from_string(kind, size, k, s, d, mode, True, count_include_pad, "jax")
            return spec
        pads = _pair_list(padding, nd, "padding", func, allow_negative=True)
        out = tuple(_floor_len(L, _keff(kk, dd), ss, b, a)
                    for L, kk, ss, dd, (b, a) in zip(size, k, s, d, pads, strict=True))
        _check_nonempty(func, out, size, k, d, pads)
        return cls(kind, size, k, s, d, pads, out, count_include_pad, None, "jax")

    @classmethod
    def from_onnx(cls, kind: str, input_size: Any, kernel_shape: Any, strides: Any = None,
                  pads: Any = None, dilations: Any = None, auto_pad: str = "NOTSET",
                  ceil_mode: int = 0, count_include_pad: int = 0) -> PoolSpec:
        """ONNX ``MaxPool`` / ``AveragePool`` attributes.

        ``pads`` is ``[x1_begin, ..., x1_end, ...]``; ``auto_pad`` ``SAME_UPPER`` (TF's split),
        ``SAME_LOWER`` (the odd element at the start) or ``VALID``; ``ceil_mode`` follows
        PyTorch's rule (a window starting in the end padding is dropped);
        ``count_include_pad`` defaults to 0 (unlike PyTorch).

        The rules are ONNX Runtime's (1.31.1), which differ from the ONNX text in two corners:
        ``SAME_*`` pads for the *undilated* kernel (``(ceil(L/s)-1)*s + k - L``, negative
        when ``k`` is small: the windows then start inside the input) while the output is
        sized with the dilated one, and ``ceil_mode`` also applies with ``auto_pad``.

        Examples
        --------
        >>> PoolSpec.from_onnx("avg", 5, [2], [2], auto_pad="SAME_LOWER").padding
        ((1, 0),)
        """
        func = "PoolSpec.from_onnx"
        kind = _kind(kind, func)
        size = _size(input_size, func)
        nd = len(size)
        k = _framework_ints(kernel_shape, nd, "kernel_shape", func, channels_last=None)
        s = (1,) * nd if strides is None else _framework_ints(strides, nd, "strides", func,
                                                              channels_last=None)
        d = (1,) * nd if dilations is None else _framework_ints(dilations, nd, "dilations",
                                                                func, channels_last=None)
        auto = check_choice(auto_pad, _ONNX_AUTO_PAD, "auto_pad", func)
        ceil = _flag01(ceil_mode, "ceil_mode", func)
        include = _flag01(count_include_pad, "count_include_pad", func)
        if auto != "NOTSET" and pads is not None and any(_seq(pads)):
            raise ShapeError(f"{func}: pads={_show(pads)} cannot be combined with "
                             f"auto_pad={auto!r}; give one of them")
        pp = _onnx_pads(pads, nd, func)
        geo = [_ort_geometry(L, kk, ss, dd, p, auto, ceil)
               for L, kk, ss, dd, p in zip(size, k, s, d, pp, strict=True)]
        # ORT's MaxPool clips its windows at the input end, not at a negative end padding
        pads_used = tuple((b, max(a, 0) if kind == "max" else a) for b, a, _ in geo)
        out = tuple(o for _, _, o in geo)
        _check_nonempty(func, out, size, k, d, pads_used)
        return cls(kind, size, k, s, d, pads_used, out, include, None, "onnx")

    # -- computing --------------------------------------------------------------------------

    def apply(self, x: np.ndarray, *, return_indices: bool = False
              ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Pool channels-first ``(N, C, *input_size)`` (or unbatched) data exactly as specified.

        With ``return_indices`` (max only) the switches are PyTorch's per-plane flat indices.

        Examples
        --------
        >>> spec = PoolSpec.from_tf("max", 5, 2, 2, "SAME")
        >>> spec.apply(np.arange(5.0).reshape(1, 5), return_indices=True)
        (array([[1., 3., 4.]]), array([[1, 3, 4]]))
        """
        func = "PoolSpec.apply"
        arr = float_array(x, "x", func)
        nd = self.ndim
        if arr.ndim not in (nd + 1, nd + 2) or tuple(arr.shape[-nd:]) != self.input_size:
            raise ShapeError(f"{func}: x has shape {arr.shape}; the spec needs (N, C, "
                             f"{', '.join(map(str, self.input_size))}) or (C, ...)")
        unbatched = arr.ndim == nd + 1
        xb = arr[None] if unbatched else arr
        if self.kind == "max":
            y, idx = _max_windows(xb, self)
            if return_indices:
                return (y[0], idx[0]) if unbatched else (y, idx)
            return y[0] if unbatched else y
        if return_indices:
            raise ShapeError(f"{func}: return_indices=True needs kind='max'")
        y = _sum_windows(xb, self)
        with np.errstate(invalid="ignore", divide="ignore"):
            # a window with nothing to count (only possible with count_include_pad=False and
            # padding >= the kernel) is 0/0 = NaN, as in lax.reduce_window sum / count
            y = (y / self.divisors()).astype(xb.dtype)
        return y[0] if unbatched else y

    # -- translators ------------------------------------------------------------------------

    def _plan(self) -> Pairs:
        """Input padding (negative = crop) after which unpadded windows are the spec's.

        ``(before, (O-1)*s + k_eff - before - L)``: exactly ``O`` windows, a ceil-mode
        overhang padded like the padding (it never counts in a divisor).
        """
        pad = []
        for size, k, s, d, pb, pa, o in self._dims():
            after = (o - 1) * s + _keff(k, d) - pb - size
            if pa < 0 and after > pa:
                raise ShapeError(
                    f"PoolSpec: padding {self.padding} crops the input end but a ceil-mode "
                    "window overhangs it; no single padding of the input expresses that (crop "
                    "the input first, then translate the spec with that input size)"
                )
            pad.append((pb, after))
        return tuple(pad)

    def _effective(self, xb: np.ndarray, value: float) -> np.ndarray:
        """The input padded (or cropped) by ``padding``, then the ceil-mode overhang padded."""
        xp = _pad_crop(xb, self.padding, value)
        over = tuple((0, max(0, (o - 1) * s + _keff(k, d) - (size + pb + pa)))
                     for size, k, s, d, pb, pa, o in self._dims())
        return _pad_crop(xp, over, value)

    def empty_windows(self) -> np.ndarray:
        """Where a window holds no input element (only padding), shape ``output_size``.

        Max pooling gives -inf there and the switch -1 (PyTorch reports its scan start, ONNX
        Runtime the lowest finite value and the flat index ``(n*C + c)*plane - 1``).

        Examples
        --------
        >>> PoolSpec("max", (1,), (2,), (1,), (2,), ((1, 1),), (1,)).empty_windows()
        array([ True])
        """
        out = np.zeros((), dtype=bool)
        for size, k, s, d, pb, pa, o in self._dims():
            taps = np.arange(o)[:, None] * s - pb + np.arange(k)[None, :] * d
            lo, hi = max(0, -pb), size + min(0, pa)
            empty = ~np.any((taps >= lo) & (taps < hi), axis=1)
            out = np.logical_or.outer(out, empty)
        return np.asarray(out)

    def _avg_fix(self) -> Any:
        """What to divide a window *sum* by: a number when constant, else the array."""
        div = self.divisors()
        if np.all(div == div.flat[0]):
            return float(div.flat[0])
        return div.tolist()

    def _extra(self, framework: str, own_divisor: float | None) -> dict[str, Any]:
        """The exact fallback: pad (or crop) the input, run an unpadded op, (avg) rescale."""
        extra: dict[str, Any] = {"pad_input": self._plan(),
                                 "pad_value": float("-inf") if self.kind == "max" else 0.0}
        if self.kind == "avg":
            # the op divides by own_divisor (None: it sums); y * own / divisor is exact
            extra["multiply_by"] = 1.0 if own_divisor is None else float(own_divisor)
            extra["divide_by"] = self._avg_fix()
        return extra

    def _fallback_notes(self, why: str) -> list[str]:
        notes = [why, "exact fallback (see extra): pad the input explicitly ('pad_input' with "
                      "'pad_value', the -inf of max pooling or the zeros of an average; "
                      "negative amounts crop), run the pool without padding and, for an "
                      "average, multiply by 'multiply_by' and divide by 'divide_by'"]
        if self.kind == "max":
            notes.append("indices of the fallback refer to the padded input")
        return notes

    def _check_divisors(self, other: PoolSpec) -> bool:
        return bool(np.array_equal(self.divisors(), other.divisors()))

    def _same_windows(self, other: PoolSpec) -> bool:
        if self.output_size != other.output_size:
            return False
        starts = all(a[0] == b[0] for a, b in zip(self.padding, other.padding, strict=True))
        if not starts:
            return False
        return self.kind == "max" or self._check_divisors(other)

    def to_torch(self) -> Translation:
        """``torch.nn.MaxPoolNd`` / ``AvgPoolNd`` arguments, or the exact padded fallback.

        Examples
        --------
        >>> print(PoolSpec.from_tf("max", 6, 3, 1, "SAME").to_torch().code)
        pool = torch.nn.MaxPool1d(kernel_size=3, stride=1, padding=1, dilation=1, \
ceil_mode=False)
        y = pool(x)  # x: (N, C, W)
        >>> t = PoolSpec.from_tf("max", 5, 4, 1, "SAME").to_torch()
        >>> t.exact, t.extra["pad_input"]
        (False, ((1, 2),))
        """
        nd = self.ndim
        op = f"{'Max' if self.kind == 'max' else 'Avg'}Pool{nd}d"
        notes = ["PyTorch pads symmetrically with padding <= kernel_size // 2; ceil_mode adds "
                 "a last window unless it would start in the right padding"]
        if self.kind == "avg" and any(dd != 1 for dd in self.dilation):
            raise ShapeError(f"PoolSpec.to_torch: dilation={_v(self.dilation)}: PyTorch's "
                             "AvgPool has no dilation; nearest alternative: a depthwise "
                             "conv with a ones kernel and dilation, divided by the counts")
        sym = [pb for pb, _ in self.padding]
        ok_pad = all(0 <= p <= k // 2 for p, k in zip(sym, self.kernel_size, strict=True))
        if ok_pad:
            includes = ((self.count_include_pad, not self.count_include_pad)
                        if self.kind == "avg" else (True,))
            dil = _v(self.dilation) if self.kind == "max" else 1
            for ceil in (False, True):
                for include in includes:
                    try:
                        cand = PoolSpec.from_torch(self.kind, self.input_size, self.kernel_size,
                                                   self.stride, _v(sym), dil, ceil, include)
                    except ShapeError:
                        continue
                    if self._same_windows(cand):
                        return self._torch_exact(op, sym, ceil, include, None, notes)
                    if self.kind == "avg" and nd > 1 and cand.output_size == self.output_size:
                        div = self.divisors()
                        if np.all(div == div.flat[0]) and float(div.flat[0]).is_integer():
                            return self._torch_exact(op, sym, ceil, include,
                                                     int(div.flat[0]), notes)
        why = (f"PyTorch cannot express the padding {self.padding} with {self.output_size} "
               "windows" + (" and these divisors" if self.kind == "avg" else ""))
        # the fallback sums (divisor_override=1; AvgPool1d has no divisor_override: it divides
        # by k, every window lying inside the padded input)
        own = None if nd > 1 else float(self.kernel_size[0])
        extra = self._extra("torch", own)
        args = self._torch_args(op, [0] * nd, False, True,
                                1 if self.kind == "avg" and nd > 1 else None)
        code = _torch_pad_line(extra["pad_input"], extra["pad_value"])
        code += self._torch_code(op, args)
        code += _post_lines(extra, "torch", False)
        return Translation("torch", op, args, extra, False, notes + self._fallback_notes(why),
                           "\n".join(code))

    def _torch_args(self, op: str, sym: Sequence[int], ceil: bool, include: bool,
                    divisor: int | None) -> dict[str, Any]:
        args: dict[str, Any] = {"kernel_size": _v(self.kernel_size), "stride": _v(self.stride),
                                "padding": _v(sym)}
        if self.kind == "max":
            args["dilation"] = _v(self.dilation)
            args["ceil_mode"] = ceil
        else:
            args["ceil_mode"] = ceil
            args["count_include_pad"] = include
            if divisor is not None:
                args["divisor_override"] = divisor
        return args

    def _torch_code(self, op: str, args: dict[str, Any]) -> list[str]:
        parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return [f"pool = torch.nn.{op}({parts})",
                f"y = pool(x)  # x: (N, C, {', '.join(_SP[self.ndim])})"]

    def _torch_exact(self, op: str, sym: Sequence[int], ceil: bool, include: bool,
                     divisor: int | None, notes: list[str]) -> Translation:
        args = self._torch_args(op, sym, ceil, include, divisor)
        if divisor is not None:
            notes = [*notes, f"every window divides by {divisor}: divisor_override={divisor}"]
        return Translation("torch", op, args, {}, True, notes,
                           "\n".join(self._torch_code(op, args)))

    def to_onnx(self) -> Translation:
        """ONNX ``MaxPool`` / ``AveragePool`` attributes (explicit ``pads``).

        Examples
        --------
        >>> PoolSpec.from_tf("avg", 5, 2, 2, "SAME").to_onnx().args
        {'kernel_shape': [2], 'strides': [2], 'pads': [0, 1], 'dilations': [1], 'ceil_mode': 0, \
'count_include_pad': 0}
        """
        nd = self.ndim
        op = "MaxPool" if self.kind == "max" else "AveragePool"
        notes = ["ONNX pads are [begin..., end...]; ceil_mode follows PyTorch's rule; "
                 "ONNX Runtime needs every pad smaller than the kernel"]
        small = all(0 <= b < k and 0 <= a < k for (b, a), k in
                    zip(self.padding, self.kernel_size, strict=True))
        if self.divisor_override is None and small:
            for ceil in (0, 1):
                for include in (int(self.count_include_pad), 1 - int(self.count_include_pad)):
                    cand = PoolSpec.from_onnx(self.kind, self.input_size, self.kernel_size,
                                              self.stride, _flat_pads(self.padding),
                                              self.dilation, "NOTSET", ceil, include)
                    if self._same_windows(cand):
                        args = self._onnx_args(self.padding, ceil, include)
                        return Translation("onnx", op, args, {}, True, notes,
                                           _onnx_code(op, args, self.kind))
        why = f"ONNX cannot express these windows with pads {self.padding} directly"
        extra = self._extra("onnx", None if self.kind == "max" else
                            float(math.prod(self.kernel_size)))
        args = self._onnx_args(((0, 0),) * nd, 0, 1)
        code = [_onnx_pad_line(extra["pad_input"], extra["pad_value"]),
                _onnx_code(op, args, self.kind, src="xp")]
        code += _post_lines(extra, "onnx", False)
        return Translation("onnx", op, args, extra, False, notes + self._fallback_notes(why),
                           "\n".join(code))

    def _onnx_args(self, pads: Pairs, ceil: int, include: int) -> dict[str, Any]:
        args: dict[str, Any] = {"kernel_shape": list(self.kernel_size),
                                "strides": list(self.stride), "pads": _flat_pads(pads),
                                "dilations": list(self.dilation), "ceil_mode": ceil}
        if self.kind == "avg":
            args["count_include_pad"] = include
        return args

    def _string_match(self, upper: bool = True) -> str | None:
        """'SAME' or 'VALID' when TF's/Keras's rules give exactly these windows."""
        for mode in ("SAME", "VALID"):
            cand = PoolSpec._from_string(self.kind, self.input_size, self.kernel_size,
                                         self.stride, self.dilation, mode, upper, False, "tf")
            if self._same_windows(cand):
                return mode
        return None

    def to_tf(self) -> Translation:
        """``tf.nn.max_pool`` / ``tf.nn.avg_pool`` (``tf.nn.pool`` with dilations).

        Examples
        --------
        >>> PoolSpec.from_keras("avg", (5, 5), 2, padding="same").to_tf().args
        {'ksize': [2, 2], 'strides': [2, 2], 'padding': 'SAME', 'data_format': 'NHWC'}
        >>> PoolSpec.from_torch("max", 6, 3, 2, 1).to_tf().args["padding"]
        [[0, 0], [1, 0], [0, 0]]
        """
        nd = self.ndim
        fmt = _TF_FORMATS[nd][0]
        dilated = any(dd != 1 for dd in self.dilation)
        if dilated and any(ss != 1 for ss in self.stride):
            raise ShapeError(f"PoolSpec.to_tf: dilation={_v(self.dilation)} with stride="
                             f"{_v(self.stride)}: tf.nn.pool needs strides of 1 when dilated; "
                             "nearest alternative: to_jax (lax.reduce_window) or to_onnx")
        op = ("tf.nn.pool" if dilated else
              f"tf.nn.{'max' if self.kind == 'max' else 'avg'}_pool{nd}d")
        notes = ["TF's SAME makes ceil(L/s) windows with the odd padding element at the end "
                 "and its average divides by the valid elements only"]
        mode = self._string_match()
        if mode is not None:
            args = self._tf_args(mode, fmt, dilated)
            return Translation("tf", op, args, {}, True, notes, self._tf_code(op, args))
        if self.kind == "max" and not dilated:
            pad = self._plan()
            if all(b >= 0 and a >= 0 for b, a in pad):
                pads = [[0, 0], *[list(p) for p in pad], [0, 0]]
                args = self._tf_args(pads, fmt, False)
                return Translation("tf", op, args, {}, True,
                                   notes + ["explicit padding (max pooling only)"],
                                   self._tf_code(op, args))
        why = "TF's SAME/VALID cannot express these windows" + (
            " and divisors" if self.kind == "avg" else "")
        extra = self._extra("tf", None if self.kind == "max" else
                            float(math.prod(self.kernel_size)))
        args = self._tf_args("VALID", fmt, dilated)
        code = [_np_pad_line(extra["pad_input"], extra["pad_value"], "tf", True),
                self._tf_code(op, args)]
        code += _post_lines(extra, "tf", True)
        return Translation("tf", op, args, extra, False, notes + self._fallback_notes(why),
                           "\n".join(code))

    def _tf_args(self, padding: Any, fmt: str, dilated: bool) -> dict[str, Any]:
        if dilated:
            return {"window_shape": list(self.kernel_size),
                    "pooling_type": "MAX" if self.kind == "max" else "AVG",
                    "strides": list(self.stride), "padding": padding,
                    "data_format": fmt, "dilations": list(self.dilation)}
        return {"ksize": list(self.kernel_size), "strides": list(self.stride),
                "padding": padding, "data_format": fmt}

    def _tf_code(self, op: str, args: dict[str, Any]) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"y = {op}(x, {parts})  # x: (N, {', '.join(_SP[self.ndim])}, C)"

    def to_keras(self) -> Translation:
        """``keras.layers.MaxPooling{n}D`` / ``AveragePooling{n}D`` (``'valid'``/``'same'``).

        Examples
        --------
        >>> print(PoolSpec.from_tf("max", 7, 3, 2, "SAME").to_keras().code)
        y = keras.layers.MaxPooling1D(pool_size=3, strides=2, padding='same')(x)
        """
        nd = self.ndim
        op = f"{'Max' if self.kind == 'max' else 'Average'}Pooling{nd}D"
        if any(dd != 1 for dd in self.dilation):
            raise ShapeError(f"PoolSpec.to_keras: dilation={_v(self.dilation)}: Keras pooling "
                             "layers have no dilation; nearest alternative: to_jax "
                             "(lax.reduce_window with window_dilation) or to_onnx")
        notes = ["Keras pools with TF's rules: 'same' makes ceil(L/s) windows (odd padding "
                 "element at the end, the average divides by valid elements only)"]
        mode = self._string_match()
        if mode is not None:
            args = {"pool_size": _v(self.kernel_size), "strides": _v(self.stride),
                    "padding": mode.lower()}
            return Translation("keras", op, args, {}, True, notes, _keras_code(op, args))
        why = "Keras's 'valid'/'same' cannot express these windows" + (
            " and divisors" if self.kind == "avg" else "")
        extra = self._extra("keras", None if self.kind == "max" else
                            float(math.prod(self.kernel_size)))
        args = {"pool_size": _v(self.kernel_size), "strides": _v(self.stride),
                "padding": "valid"}
        code = [_np_pad_line(extra["pad_input"], extra["pad_value"], "keras", True),
                _keras_code(op, args)]
        code += _post_lines(extra, "keras", True)
        return Translation("keras", op, args, extra, False, notes + self._fallback_notes(why),
                           "\n".join(code))

    def to_jax(self) -> Translation:
        """``jax.lax.reduce_window`` on channels-first data (explicit padding pairs).

        The average is the window sum divided by the spec's divisors (a number when they are
        all equal).

        Examples
        --------
        >>> print(PoolSpec.from_tf("max", 5, 2, 2, "SAME").to_jax().code)
        y = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2), (1, 1, 2), \
((0, 0), (0, 0), (0, 1)), window_dilation=(1, 1, 1))
        """
        pad = self._plan()
        args: dict[str, Any] = {
            "init_value": "-inf" if self.kind == "max" else 0.0,
            "computation": "max" if self.kind == "max" else "add",
            "window_dimensions": (1, 1, *self.kernel_size),
            "window_strides": (1, 1, *self.stride), "padding": ((0, 0), (0, 0), *pad),
            "window_dilation": (1, 1, *self.dilation)}
        init = "-jnp.inf" if self.kind == "max" else "0.0"
        comp = "jax.lax.max" if self.kind == "max" else "jax.lax.add"
        code = [f"y = jax.lax.reduce_window(x, {init}, {comp}, {args['window_dimensions']}, "
                f"{args['window_strides']}, {args['padding']}, "
                f"window_dilation={args['window_dilation']})"]
        extra: dict[str, Any] = {}
        notes = ["lax.reduce_window pads explicitly with (low, high) pairs (negative crops); "
                 "the padding is the init value (-inf for max, 0 for a sum)"]
        if self.kind == "avg":
            div = self._avg_fix()
            notes.append("an average is the window sum divided by the spec's divisors")
            if isinstance(div, float):
                args["divisor"] = div
                code.append(f"y = y / {div!r}")
            else:
                extra = {"multiply_by": 1.0, "divide_by": div}
                notes.append("the divisors differ between windows: divide by the 'divide_by' "
                             "array")
                code += _post_lines(extra, "jax", False)
        return Translation("jax", "jax.lax.reduce_window", args, extra, not extra, notes,
                           "\n".join(code))

    def to_flax(self) -> Translation:
        """``flax.linen.max_pool`` / ``avg_pool`` (channels last, explicit padding pairs).

        Examples
        --------
        >>> PoolSpec.from_torch("avg", 5, 3, 2, 1).to_flax().args
        {'window_shape': (3,), 'strides': (2,), 'padding': ((1, 1),), 'count_include_pad': True}
        """
        op = f"flax.linen.{'max' if self.kind == 'max' else 'avg'}_pool"
        if any(dd != 1 for dd in self.dilation):
            raise ShapeError(f"PoolSpec.to_flax: dilation={_v(self.dilation)}: Flax's pools have "
                             "no dilation; nearest alternative: to_jax (lax.reduce_window)")
        pad = self._plan()
        args: dict[str, Any] = {"window_shape": tuple(self.kernel_size),
                                "strides": tuple(self.stride), "padding": pad}
        notes = ["Flax pools channels-last data with lax.reduce_window; avg_pool divides by "
                 "the window size (count_include_pad=True) or by the valid count"]
        extra: dict[str, Any] = {}
        if self.kind == "avg":
            found = None
            for include in (True, False):
                cand = PoolSpec("avg", self.input_size, self.kernel_size, self.stride,
                                self.dilation, pad, self.output_size, include)
                if include:
                    flax_div = np.full(self.output_size, float(math.prod(self.kernel_size)))
                else:
                    flax_div = cand.divisors(False)
                if np.array_equal(flax_div, self.divisors()):
                    found = include
                    break
            if found is None:
                args["count_include_pad"] = True
                extra["multiply_by"] = float(math.prod(self.kernel_size))
                extra["divide_by"] = self._avg_fix()
            else:
                args["count_include_pad"] = found
        parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
        code = [f"y = {op}(x, {parts})  # x: (N, {', '.join(_SP[self.ndim])}, C)"]
        code += _post_lines(extra, "flax", True)
        if extra:
            notes.append("the divisors are neither the window size nor the valid counts: "
                         "rescale with 'multiply_by' / 'divide_by'")
        return Translation("flax", op, args, extra, not extra, notes, "\n".join(code))

    def to(self, framework: str) -> Translation:
        """Dispatch to ``to_<framework>()``.

        Examples
        --------
        >>> PoolSpec.from_torch("max", 5, 2).to("onnxruntime").op
        'MaxPool'
        """
        fw = check_framework(framework, "PoolSpec.to")
        result: Translation = getattr(self, f"to_{fw}")()
        return result


def _check_nonempty(func: str, out: Sequence[int], size: Sequence[int], k: Sequence[int],
                    d: Sequence[int], pads: Pairs) -> None:
    for axis, o in enumerate(out):
        if o < 1:
            raise ShapeError(
                f"{func}: the window d*(k-1)+1={_keff(k[axis], d[axis])} is larger than the "
                f"padded input {size[axis]}+{pads[axis][0]}+{pads[axis][1]} in dimension "
                f"{axis}; the output would be empty"
            )


def _listify(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_listify(v) for v in value]
    return value


def _flat_pads(pads: Pairs) -> list[int]:
    return [b for b, _ in pads] + [a for _, a in pads]


def _val(value: float) -> str:
    return "float('-inf')" if value == float("-inf") else "0.0"


def _torch_pad_line(pad: Pairs, value: float) -> list[str]:
    flat = [v for b, a in reversed(pad) for v in (b, a)]
    return [f"x = torch.nn.functional.pad(x, {flat}, value={_val(value)})"
            + ("  # negative values crop" if any(v < 0 for v in flat) else "")]


def _crop_slice(pad: Pairs, channels_last: bool) -> str:
    parts = []
    for b, a in pad:
        start = str(-b) if b < 0 else ""
        stop = str(a) if a < 0 else ""
        parts.append(f"{start}:{stop}")
    lead = [":"] if channels_last else [":", ":"]
    tail = [":"] if channels_last else []
    return f"x = x[{', '.join(lead + parts + tail)}]"


def _np_pad_line(pad: Pairs, value: float, framework: str, channels_last: bool) -> str:
    lines = []
    if any(b < 0 or a < 0 for b, a in pad):
        lines.append(_crop_slice(pad, channels_last))
    pos = [[max(b, 0), max(a, 0)] for b, a in pad]
    full = [[0, 0], *pos, [0, 0]] if channels_last else [[0, 0], [0, 0], *pos]
    mod = {"tf": "tf.pad", "keras": "keras.ops.pad", "jax": "jnp.pad",
           "flax": "jnp.pad"}[framework]
    lines.append(f"x = {mod}(x, {full}, constant_values={_val(value)})")
    return "\n".join(lines)


def _onnx_pad_line(pad: Pairs, value: float) -> str:
    flat = [0, 0, *[b for b, _ in pad], 0, 0, *[a for _, a in pad]]
    return (f"pad = onnx.helper.make_node('Pad', ['x', 'pads', 'value'], ['xp'])  # pads = "
            f"{flat} (negative crops), value = {_val(value)}")


def _onnx_code(op: str, args: dict[str, Any], kind: str, src: str = "x") -> str:
    outs = "['y', 'indices']" if kind == "max" else "['y']"
    parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return f"node = onnx.helper.make_node({op!r}, [{src!r}], {outs}, {parts})"


def _keras_code(op: str, args: dict[str, Any]) -> str:
    parts = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return f"y = keras.layers.{op}({parts})(x)"


def _post_lines(extra: dict[str, Any], framework: str, channels_last: bool) -> list[str]:
    lines = []
    if "divide_by" in extra:
        div = extra["divide_by"]
        mul = extra["multiply_by"]
        scale = f"y * {mul!r}" if mul != 1.0 else "y"
        if isinstance(div, float):
            lines.append(f"y = {scale} / {div!r}")
        else:
            shape = "channels last: add a trailing axis" if channels_last else "(*out) broadcast"
            lines.append(f"divisor = {div!r}  # {shape}")
            arr = {"torch": "torch.tensor(divisor)", "tf": "tf.constant(divisor)[..., None]",
                   "keras": "keras.ops.convert_to_tensor(divisor)[..., None]",
                   "jax": "jnp.asarray(divisor)", "flax": "jnp.asarray(divisor)[..., None]",
                   "onnx": "divisor"}[framework]
            lines.append(f"y = {scale} / {arr}")
    return lines


# ---------------------------------------------------------------------------------------------
# The NumPy computation of a spec (channels first, batched)


def _pad_crop(x: np.ndarray, pairs: Pairs, value: float) -> np.ndarray:
    """Pad the trailing axes by ``(before, after)`` with ``value``; negative amounts crop."""
    nd = len(pairs)
    keep: tuple[Any, ...] = (Ellipsis, *(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in
                                          zip(pairs, x.shape[-nd:], strict=True)))
    widths = [(0, 0)] * (x.ndim - nd) + [(max(b, 0), max(a, 0)) for b, a in pairs]
    return np.pad(x[keep], widths, constant_values=value)


def _max_windows(xb: np.ndarray, spec: PoolSpec) -> tuple[np.ndarray, np.ndarray]:
    """Max over the spec's windows and PyTorch-style per-plane switches (-1: empty window)."""
    nd = spec.ndim
    y = idx = None
    # symmetric padding PyTorch accepts: upconv.max_pool directly
    if all(b == a >= 0 for b, a in spec.padding):
        for ceil in (False, True):
            try:
                g = pool_geometry(spec.input_size, spec.kernel_size, spec.stride,
                                  [b for b, _ in spec.padding], spec.dilation, ceil)
            except ShapeError:
                break
            if g.output_size == spec.output_size:
                y, idx = _np_max_pool(xb, spec.kernel_size, spec.stride,
                                      tuple(b for b, _ in spec.padding), spec.dilation, ceil,
                                      return_indices=True)
                break
    if y is None or idx is None:
        xp = spec._effective(xb, -np.inf)
        y, idx = _np_max_pool(xp, spec.kernel_size, spec.stride, 0, spec.dilation, False,
                              return_indices=True)
        keep: tuple[Any, ...] = (Ellipsis, *(slice(0, o) for o in spec.output_size))
        y, idx = y[keep], idx[keep]  # the input may extend past the last window
        # switches of the padded plane -> the unpadded plane (PyTorch's convention)
        coords = list(np.unravel_index(idx, xp.shape[2:]))
        for axis in range(nd):
            coords[axis] = np.clip(coords[axis] - spec.padding[axis][0], 0,
                                   spec.input_size[axis] - 1)
        idx = np.ravel_multi_index(tuple(coords), spec.input_size).astype(np.int64)
    empty = spec.empty_windows()
    if np.any(empty):
        y = np.where(empty, -np.inf, y).astype(xb.dtype)
        idx = np.where(empty, -1, idx)
    return y, idx


def _sum_windows(xb: np.ndarray, spec: PoolSpec) -> np.ndarray:
    """Window sums over the zero-padded (or cropped) input."""
    xp = spec._effective(xb, 0.0)
    if all(dd == 1 for dd in spec.dilation):
        y = _np_avg_pool(xp, spec.kernel_size, spec.stride, 0, False, True, 1)
        keep: tuple[Any, ...] = (Ellipsis, *(slice(0, o) for o in spec.output_size))
        return np.asarray(y[keep])  # the input may extend past the last window
    # dilated (ONNX AveragePool): one strided view per kernel tap
    y = np.zeros((*xb.shape[:2], *spec.output_size), dtype=xb.dtype)
    for tap in np.ndindex(*spec.kernel_size):
        sl: tuple[Any, ...] = (Ellipsis, *(
            slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
            zip(tap, spec.dilation, spec.output_size, spec.stride, strict=True)))
        y += xp[sl]
    return y


# =============================================================================================
# Switch (indices) layouts


def _index_args(indices: Any, input_shape: Any, func: str) -> tuple[np.ndarray, tuple[int, ...]]:
    if not isinstance(indices, np.ndarray) or not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{func}: indices must be a NumPy integer array, not "
                        f"{getattr(indices, 'dtype', type(indices).__name__)}")
    shape = _seq(input_shape)
    if not isinstance(shape, list | tuple) or len(shape) not in (3, 4, 5) or not all(
            _is_int(v) and v >= 1 for v in shape):
        raise ShapeError(f"{func}: input_shape={_show(input_shape)} must be the pooled input's "
                         "(N, C, *spatial) shape with 1 to 3 spatial dimensions")
    return indices, tuple(int(v) for v in shape)


def _plane_cm(flat: np.ndarray, spatial: tuple[int, ...], to_column_major: bool) -> np.ndarray:
    """Row-major plane index <-> column-major (ONNX ``storage_order=1``)."""
    if to_column_major:
        return np.ravel_multi_index(np.unravel_index(flat, spatial), spatial, order="F")
    return np.ravel_multi_index(np.unravel_index(flat, spatial, order="F"), spatial)


def _empty_local(spatial: tuple[int, ...], column_major: bool) -> int:
    """ONNX Runtime's in-plane index of an empty window: the coordinates (-1, ..., -1)."""
    dims = spatial[::-1] if column_major else spatial
    return -sum(int(np.prod(dims[axis + 1:])) for axis in range(len(dims)))


def _check_plane(flat: np.ndarray, plane: int, func: str) -> None:
    if flat.size and (int(flat.min()) < -1 or int(flat.max()) >= plane):
        raise ShapeError(f"{func}: indices must lie in [0, {plane}) (one plane of the pooled "
                         f"input; -1 marks an empty window); found values from "
                         f"{int(flat.min())} to {int(flat.max())}")


def indices_torch_to_onnx(indices: np.ndarray, input_shape: Any, storage_order: int = 0
                          ) -> np.ndarray:
    """PyTorch per-plane switches → ONNX ``MaxPool`` ``Indices`` (flat over the whole tensor).

    Parameters
    ----------
    indices : (N, C, *out) ndarray of int
        ``max_pool(..., return_indices=True)``'s switches: flat indices inside each plane.
    input_shape : tuple of int
        The pooled input's shape ``(N, C, *spatial)``.
    storage_order : {0, 1}
        ONNX's attribute: 0 row-major, 1 column-major (the spatial index reversed).

    Returns
    -------
    (N, C, *out) ndarray of int64
        ``(n*C + c) * prod(spatial) + plane_index``.

    See Also
    --------
    indices_onnx_to_torch : the inverse.

    Examples
    --------
    >>> idx = np.array([[[[1, 3]], [[0, 2]]]])                # (1, 2, 1, 2) from a 2x2 input
    >>> indices_torch_to_onnx(idx, (1, 2, 2, 2))
    array([[[[1, 3]],
    <BLANKLINE>
            [[4, 6]]]])
    >>> indices_torch_to_onnx(idx, (1, 2, 2, 2), storage_order=1)
    array([[[[2, 3]],
    <BLANKLINE>
            [[4, 5]]]])
    """
    func = "indices_torch_to_onnx"
    idx, shape = _index_args(indices, input_shape, func)
    so = _flag01(storage_order, "storage_order", func)
    n, c, spatial = shape[0], shape[1], shape[2:]
    if idx.ndim != len(shape) or idx.shape[:2] != (n, c):
        raise ShapeError(f"{func}: indices has shape {idx.shape}; expected (N, C, *out) with "
                         f"N, C = {n}, {c}")
    plane = math.prod(spatial)
    _check_plane(idx, plane, func)
    local = _plane_cm(np.maximum(idx, 0), spatial, True) if so else idx
    # an empty window's -1 becomes ONNX Runtime's: every coordinate -1, flattened
    local = np.where(idx < 0, _empty_local(spatial, bool(so)), local)
    base = (np.arange(n)[:, None] * c + np.arange(c)[None, :]) * plane
    return (local + base.reshape(n, c, *([1] * (idx.ndim - 2)))).astype(np.int64)


def indices_onnx_to_torch(indices: np.ndarray, input_shape: Any, storage_order: int = 0
                          ) -> np.ndarray:
    """ONNX ``MaxPool`` ``Indices`` → PyTorch per-plane switches (for ``MaxUnpool``).

    Parameters
    ----------
    indices : (N, C, *out) ndarray of int
        Flat indices over the whole ``(N, C, *spatial)`` input.
    input_shape : tuple of int
        The pooled input's shape ``(N, C, *spatial)``.
    storage_order : {0, 1}

    Returns
    -------
    (N, C, *out) ndarray of int64
        Row-major flat indices inside each plane.

    Raises
    ------
    ShapeError
        If an index does not lie in its own ``(n, c)`` plane.

    See Also
    --------
    indices_torch_to_onnx : the inverse.

    Examples
    --------
    >>> indices_onnx_to_torch(np.array([[[[1, 3]], [[4, 6]]]]), (1, 2, 2, 2))
    array([[[[1, 3]],
    <BLANKLINE>
            [[0, 2]]]])
    """
    func = "indices_onnx_to_torch"
    idx, shape = _index_args(indices, input_shape, func)
    so = _flag01(storage_order, "storage_order", func)
    n, c, spatial = shape[0], shape[1], shape[2:]
    if idx.ndim != len(shape) or idx.shape[:2] != (n, c):
        raise ShapeError(f"{func}: indices has shape {idx.shape}; expected (N, C, *out) with "
                         f"N, C = {n}, {c}")
    plane = math.prod(spatial)
    base = ((np.arange(n)[:, None] * c + np.arange(c)[None, :]) * plane).reshape(
        n, c, *([1] * (idx.ndim - 2)))
    local = idx - base
    empty = local == _empty_local(spatial, bool(so))
    local = np.where(empty, 0, local)
    if local.size and (int(local.min()) < 0 or int(local.max()) >= plane):
        raise ShapeError(f"{func}: indices hold values outside their own (n, c) plane of "
                         f"{plane} elements; are they ONNX MaxPool Indices of an input of "
                         f"shape {shape}?")
    out = _plane_cm(local, spatial, False) if so else local
    return np.where(empty, -1, out).astype(np.int64)


def indices_torch_to_tf(indices: np.ndarray, input_shape: Any,
                        include_batch_in_index: bool = False) -> np.ndarray:
    """PyTorch per-plane switches → TF ``max_pool_with_argmax``'s ``argmax`` (NHWC layout).

    Parameters
    ----------
    indices : (N, C, *out) ndarray of int
    input_shape : tuple of int
        The pooled input's channels-first shape ``(N, C, *spatial)``.
    include_batch_in_index : bool
        TF's flag: add ``n * prod(spatial) * C``.

    Returns
    -------
    (N, *out, C) ndarray of int64
        ``(y*W + x)*C + c`` (plus the batch offset): flat NHWC indices.

    See Also
    --------
    indices_tf_to_torch : the inverse.

    Examples
    --------
    >>> indices_torch_to_tf(np.array([[[[1, 3]], [[0, 2]]]]), (1, 2, 2, 2))[0]
    array([[[2, 1],
            [6, 5]]])
    """
    func = "indices_torch_to_tf"
    idx, shape = _index_args(indices, input_shape, func)
    n, c, spatial = shape[0], shape[1], shape[2:]
    if idx.ndim != len(shape) or idx.shape[:2] != (n, c):
        raise ShapeError(f"{func}: indices has shape {idx.shape}; expected (N, C, *out) with "
                         f"N, C = {n}, {c}")
    plane = math.prod(spatial)
    _check_plane(idx, plane, func)
    extra = [1] * (idx.ndim - 2)
    flat = idx * c + np.arange(c).reshape(1, c, *extra)
    if include_batch_in_index:
        flat = flat + (np.arange(n) * plane * c).reshape(n, 1, *extra)
    return np.moveaxis(flat, 1, -1).astype(np.int64)


def indices_tf_to_torch(argmax: np.ndarray, input_shape: Any,
                        include_batch_in_index: bool = False) -> np.ndarray:
    """TF ``max_pool_with_argmax``'s ``argmax`` (NHWC) → PyTorch per-plane switches (NCHW).

    Parameters
    ----------
    argmax : (N, *out, C) ndarray of int
    input_shape : tuple of int
        The pooled input's channels-first shape ``(N, C, *spatial)``.
    include_batch_in_index : bool
        Whether ``argmax`` includes the batch offset.

    Returns
    -------
    (N, C, *out) ndarray of int64

    See Also
    --------
    indices_torch_to_tf : the inverse.

    Examples
    --------
    >>> indices_tf_to_torch(np.array([[[[2, 1], [6, 5]]]]), (1, 2, 2, 2))
    array([[[[1, 3]],
    <BLANKLINE>
            [[0, 2]]]])
    """
    func = "indices_tf_to_torch"
    idx, shape = _index_args(argmax, input_shape, func)
    n, c, spatial = shape[0], shape[1], shape[2:]
    if idx.ndim != len(shape) or idx.shape[0] != n or idx.shape[-1] != c:
        raise ShapeError(f"{func}: argmax has shape {idx.shape}; expected (N, *out, C) with "
                         f"N, C = {n}, {c}")
    plane = math.prod(spatial)
    flat = np.moveaxis(idx, -1, 1)
    extra = [1] * (flat.ndim - 2)
    if include_batch_in_index:
        flat = flat - (np.arange(n) * plane * c).reshape(n, 1, *extra)
    channel = np.arange(c).reshape(1, c, *extra)
    if flat.size and (np.any(flat % c != channel) or int(flat.min()) < 0
                      or int(flat.max()) >= plane * c):
        raise ShapeError(f"{func}: argmax holds values that are not flat NHWC indices of their "
                         f"own batch element and channel (input_shape={shape}, "
                         f"include_batch_in_index={include_batch_in_index})")
    return (flat // c).astype(np.int64)


# =============================================================================================
# Compute functions in each framework's names and layouts


def torch_max_pool(input: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                   dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
                   ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """PyTorch ``F.max_pool{1,2,3}d`` (= :func:`upconv.max_pool`).

    Parameters
    ----------
    input : (N, C, *spatial) or (C, *spatial) ndarray
    kernel_size, stride, padding, dilation, ceil_mode, return_indices
        As in PyTorch.

    Returns
    -------
    out : (N, C, *out) ndarray
        ``out = floor_or_ceil((L + 2p - d*(k-1) - 1)/s) + 1``.
    indices : (N, C, *out) ndarray of int64
        With ``return_indices``: per-plane flat switches.

    See Also
    --------
    torch_max_unpool : uses the switches.

    Examples
    --------
    >>> torch_max_pool(np.arange(5.0).reshape(1, 1, 5), 2, ceil_mode=True)
    array([[[1., 3., 4.]]])
    """
    return _np_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def torch_avg_pool(input: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0,
                   ceil_mode: bool = False, count_include_pad: bool = True,
                   divisor_override: int | None = None) -> np.ndarray:
    """PyTorch ``F.avg_pool{1,2,3}d`` (= :func:`upconv.avg_pool`).

    Parameters
    ----------
    input : (N, C, *spatial) or (C, *spatial) ndarray
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As in PyTorch.

    Returns
    -------
    (N, C, *out) ndarray
        ``out = floor_or_ceil((L + 2p - k)/s) + 1``.

    See Also
    --------
    torch_max_pool : max pooling.

    Examples
    --------
    >>> torch_avg_pool(np.arange(5.0).reshape(1, 1, 5), 2, padding=1)
    array([[[0. , 1.5, 3.5]]])
    """
    return _np_avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def torch_max_unpool(input: np.ndarray, indices: np.ndarray, kernel_size: Any,
                     stride: Any = None, padding: Any = 0, output_size: Any = None
                     ) -> np.ndarray:
    """PyTorch ``F.max_unpool{1,2,3}d`` (= :func:`upconv.max_unpool`).

    Parameters
    ----------
    input : (N, C, *spatial) ndarray
    indices : (N, C, *spatial) ndarray of int
        Per-plane switches.
    kernel_size, stride, padding, output_size
        As in PyTorch; default output ``(L-1)*s - 2p + k``.

    Returns
    -------
    (N, C, *out) ndarray

    See Also
    --------
    onnx_max_unpool : the whole-tensor switch layout.

    Examples
    --------
    >>> torch_max_unpool(np.array([[[5.0, 7.0]]]), np.array([[[1, 2]]]), 2)
    array([[[0., 5., 7., 0.]]])
    """
    return _np_max_unpool(input, indices, kernel_size, stride, padding, output_size)


def _tf_input(x: Any, data_format: Any, func: str, name: str = "input"
              ) -> tuple[np.ndarray, int, bool]:
    arr = float_array(x, name, func)
    if arr.ndim not in (3, 4, 5):
        raise ShapeError(f"{func}: {name} has shape {arr.shape} (rank {arr.ndim}); expected "
                         "rank 3, 4 or 5 (batch, 1 to 3 spatial dimensions, channels)")
    nd = arr.ndim - 2
    fmt = _TF_FORMATS[nd][0] if data_format is None else data_format
    last = parse_data_format(fmt, nd, func)
    return arr, nd, last


def _run(spec: PoolSpec, x_cf: np.ndarray, last: bool) -> np.ndarray:
    y = spec.apply(x_cf)
    assert isinstance(y, np.ndarray)
    return from_channels_first(y, last)


def tf_max_pool(input: np.ndarray, ksize: Any, strides: Any, padding: Any,
                data_format: str | None = None) -> np.ndarray:
    """TensorFlow ``tf.nn.max_pool`` (1-d, 2-d or 3-d by rank; channels last by default).

    TensorFlow is not run here; its SAME/VALID rules are checked through Keras on JAX and
    ``lax.reduce_window``, which implement them.

    Parameters
    ----------
    input : (N, *spatial, C) ndarray
        Or channels first with ``data_format='NC...'``.
    ksize, strides : int or sequence of int
        One per spatial dimension (or ``nd + 2`` with ones for batch and channels).
    padding : {'SAME', 'VALID'} or sequence of pairs
        Explicit ``(before, after)`` per spatial dimension, or TF's full list.
    data_format : str, optional
        ``'NWC'``/``'NHWC'``/``'NDHWC'`` (default) or the ``NC...`` forms.

    Returns
    -------
    (N, *out, C) ndarray
        SAME: ``out = ceil(L/s)``; VALID: ``floor((L - k)/s) + 1``.

    See Also
    --------
    tf_avg_pool : the average.
    tf_max_pool_with_argmax : with the switches.

    Examples
    --------
    >>> tf_max_pool(np.arange(5.0).reshape(1, 5, 1), 2, 2, "SAME")[0, :, 0]
    array([1., 3., 4.])
    """
    func = "tf_max_pool"
    arr, nd, last = _tf_input(input, data_format, func)
    fmt = _TF_FORMATS[nd][0 if last else 1]
    spatial = arr.shape[1:-1] if last else arr.shape[2:]
    spec = PoolSpec.from_tf("max", spatial, ksize, strides, padding, fmt)
    return _run(spec, to_channels_first(arr, last), last)


def tf_avg_pool(input: np.ndarray, ksize: Any, strides: Any, padding: str,
                data_format: str | None = None) -> np.ndarray:
    """TensorFlow ``tf.nn.avg_pool``: SAME divides by the valid elements only.

    Parameters
    ----------
    input : (N, *spatial, C) ndarray
    ksize, strides : int or sequence of int
    padding : {'SAME', 'VALID'}
    data_format : str, optional

    Returns
    -------
    (N, *out, C) ndarray

    See Also
    --------
    tf_max_pool : max pooling.

    Examples
    --------
    >>> tf_avg_pool(np.arange(5.0).reshape(1, 5, 1), 2, 2, "SAME")[0, :, 0]
    array([0.5, 2.5, 4. ])
    """
    func = "tf_avg_pool"
    arr, nd, last = _tf_input(input, data_format, func)
    fmt = _TF_FORMATS[nd][0 if last else 1]
    spatial = arr.shape[1:-1] if last else arr.shape[2:]
    spec = PoolSpec.from_tf("avg", spatial, ksize, strides, padding, fmt)
    return _run(spec, to_channels_first(arr, last), last)


def tf_max_pool_with_argmax(input: np.ndarray, ksize: Any, strides: Any, padding: str,
                            include_batch_in_index: bool = False
                            ) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow ``tf.nn.max_pool_with_argmax`` (NHWC): the maxima and their flat indices.

    Ties go to the first maximum in row-major window order (as PyTorch; not verified by
    running TensorFlow).

    Parameters
    ----------
    input : (N, H, W, C) ndarray
    ksize, strides : int or sequence of int
    padding : {'SAME', 'VALID'}
    include_batch_in_index : bool

    Returns
    -------
    output : (N, H', W', C) ndarray
    argmax : (N, H', W', C) ndarray of int64
        ``(y*W + x)*C + c``, plus ``n*H*W*C`` with ``include_batch_in_index``.

    See Also
    --------
    indices_tf_to_torch : converts ``argmax`` to PyTorch's switches.

    Examples
    --------
    >>> out, arg = tf_max_pool_with_argmax(np.arange(8.0).reshape(1, 2, 2, 2), 2, 2, "VALID")
    >>> out[0, 0, 0], arg[0, 0, 0]
    (array([6., 7.]), array([6, 7]))
    """
    func = "tf_max_pool_with_argmax"
    arr = float_array(input, "input", func)
    if arr.ndim != 4:
        raise ShapeError(f"{func}: input has shape {arr.shape}; tf.nn.max_pool_with_argmax "
                         "takes 4-d NHWC input")
    check_choice(padding, ("SAME", "VALID"), "padding", func)
    spec = PoolSpec.from_tf("max", arr.shape[1:3], ksize, strides, padding, "NHWC")
    result = spec.apply(np.moveaxis(arr, -1, 1), return_indices=True)
    assert isinstance(result, tuple)
    y, idx = result
    shape = (arr.shape[0], arr.shape[3], arr.shape[1], arr.shape[2])
    return np.moveaxis(y, 1, -1), indices_torch_to_tf(idx, shape, include_batch_in_index)


def _keras_input(x: Any, data_format: Any, func: str) -> tuple[np.ndarray, int, bool]:
    arr = float_array(x, "inputs", func)
    if arr.ndim not in (3, 4, 5):
        raise ShapeError(f"{func}: inputs has shape {arr.shape} (rank {arr.ndim}); expected "
                         "rank 3, 4 or 5")
    fmt = "channels_last" if data_format is None else data_format
    check_choice(fmt, ("channels_last", "channels_first"), "data_format", func)
    return arr, arr.ndim - 2, fmt == "channels_last"


def keras_max_pool(inputs: np.ndarray, pool_size: Any, strides: Any = None,
                   padding: str = "valid", data_format: str | None = None) -> np.ndarray:
    """Keras 3 ``keras.ops.max_pool`` / ``MaxPooling{1,2,3}D`` (TF's rules).

    Parameters
    ----------
    inputs : (N, *spatial, C) ndarray
        Or ``(N, C, *spatial)`` with ``data_format='channels_first'``.
    pool_size, strides : int or tuple of int
        ``strides`` defaults to ``pool_size``.
    padding : {'valid', 'same'}
    data_format : {'channels_last', 'channels_first'}, optional

    Returns
    -------
    (N, *out, C) ndarray

    See Also
    --------
    keras_avg_pool : the average.

    Examples
    --------
    >>> keras_max_pool(np.arange(5.0).reshape(1, 5, 1), 2, padding="same")[0, :, 0]
    array([1., 3., 4.])
    """
    func = "keras_max_pool"
    arr, _, last = _keras_input(inputs, data_format, func)
    spatial = arr.shape[1:-1] if last else arr.shape[2:]
    spec = PoolSpec.from_keras("max", spatial, pool_size, strides, padding)
    return _run(spec, to_channels_first(arr, last), last)


def keras_avg_pool(inputs: np.ndarray, pool_size: Any, strides: Any = None,
                   padding: str = "valid", data_format: str | None = None) -> np.ndarray:
    """Keras 3 ``keras.ops.average_pool`` / ``AveragePooling{1,2,3}D``.

    With ``padding='same'`` each window divides by its valid elements only.

    Parameters
    ----------
    inputs : (N, *spatial, C) ndarray
    pool_size, strides : int or tuple of int
    padding : {'valid', 'same'}
    data_format : {'channels_last', 'channels_first'}, optional

    Returns
    -------
    (N, *out, C) ndarray

    See Also
    --------
    keras_max_pool : max pooling.

    Examples
    --------
    >>> keras_avg_pool(np.arange(5.0).reshape(1, 5, 1), 2, padding="same")[0, :, 0]
    array([0.5, 2.5, 4. ])
    """
    func = "keras_avg_pool"
    arr, _, last = _keras_input(inputs, data_format, func)
    spatial = arr.shape[1:-1] if last else arr.shape[2:]
    spec = PoolSpec.from_keras("avg", spatial, pool_size, strides, padding)
    return _run(spec, to_channels_first(arr, last), last)


def _jax_window(operand: Any, window_dimensions: Any, window_strides: Any, padding: Any,
                window_dilation: Any, func: str
                ) -> tuple[np.ndarray, list[int], tuple[Any, ...]]:
    """Full-rank reduce_window arguments → the pooled axes and their per-axis parameters."""
    arr = float_array(operand, "operand", func)
    rank = arr.ndim
    dims = per_dim(_seq(window_dimensions), rank, "window_dimensions", func)
    strides = (1,) * rank if window_strides is None else per_dim(
        _seq(window_strides), rank, "window_strides", func)
    dil = (1,) * rank if window_dilation is None else per_dim(
        _seq(window_dilation), rank, "window_dilation", func)
    if isinstance(padding, str):
        mode = check_choice(padding, ("SAME", "VALID"), "padding", func)
        pads: Pairs = tuple(
            _same_pads(n, _keff(k, d), s) if mode == "SAME" else (0, 0)
            for n, k, s, d in zip(arr.shape, dims, strides, dil, strict=True))
    else:
        pads = _pair_list(padding, rank, "padding", func, allow_negative=True)
    axes = [a for a in range(rank)
            if (dims[a], strides[a], dil[a], pads[a]) != (1, 1, 1, (0, 0))]
    if len(axes) > 3:
        raise ShapeError(f"{func}: {len(axes)} axes are pooled; upconv supports 1 to 3")
    return arr, axes, (dims, strides, dil, pads)


def _jax_pool(kind: str, operand: Any, window_dimensions: Any, window_strides: Any,
              padding: Any, window_dilation: Any, include: bool, func: str) -> np.ndarray:
    arr, axes, (dims, strides, dil, pads) = _jax_window(operand, window_dimensions,
                                                        window_strides, padding,
                                                        window_dilation, func)
    if not axes:
        return arr.copy()
    rest = [a for a in range(arr.ndim) if a not in axes]
    moved = np.transpose(arr, rest + axes)
    lead = moved.shape[:len(rest)]
    x = moved.reshape(math.prod(lead), 1, *moved.shape[len(rest):])
    size = x.shape[2:]
    spec = PoolSpec.from_jax(kind, size, [dims[a] for a in axes], [strides[a] for a in axes],
                             [pads[a] for a in axes], [dil[a] for a in axes],
                             count_include_pad=include)
    y = spec.apply(x)
    assert isinstance(y, np.ndarray)
    y = y.reshape(*lead, *spec.output_size)
    return np.transpose(y, np.argsort(rest + axes))


def jax_max_pool(operand: np.ndarray, window_dimensions: Any, window_strides: Any = None,
                 padding: Any = "VALID", window_dilation: Any = None) -> np.ndarray:
    """``jax.lax.reduce_window(operand, -inf, lax.max, ...)``, any layout.

    Parameters
    ----------
    operand : ndarray
        Any rank; at most 3 axes may be pooled.
    window_dimensions, window_strides, window_dilation : sequence of int
        One per axis of ``operand`` (ones for batch and channel axes).
    padding : {'SAME', 'VALID'} or sequence of (low, high)
        One pair per axis; ``'SAME'`` is TF's rule.

    Returns
    -------
    ndarray
        ``floor((n + low + high - d*(k-1) - 1)/s) + 1`` per axis.

    See Also
    --------
    jax_avg_pool : the average (Flax's rule).

    Examples
    --------
    >>> jax_max_pool(np.arange(6.0).reshape(1, 6), (1, 3), (1, 2), ((0, 0), (1, 1)))
    array([[1., 3., 5.]])
    """
    return _jax_pool("max", operand, window_dimensions, window_strides, padding,
                     window_dilation, True, "jax_max_pool")


def jax_avg_pool(operand: np.ndarray, window_dimensions: Any, window_strides: Any = None,
                 padding: Any = "VALID", window_dilation: Any = None,
                 count_include_pad: bool = True) -> np.ndarray:
    """``lax.reduce_window(operand, 0, lax.add, ...)`` divided by the window size or count.

    ``count_include_pad=True`` divides by ``prod(window_dimensions)`` (Flax's default),
    ``False`` by the number of valid (unpadded) elements.

    Parameters
    ----------
    operand : ndarray
    window_dimensions, window_strides, window_dilation : sequence of int
    padding : {'SAME', 'VALID'} or sequence of (low, high)
    count_include_pad : bool

    Returns
    -------
    ndarray

    See Also
    --------
    jax_max_pool : max pooling.

    Examples
    --------
    >>> jax_avg_pool(np.arange(4.0).reshape(1, 4), (1, 2), (1, 2), ((0, 0), (1, 1)))
    array([[0. , 1.5, 1.5]])
    """
    return _jax_pool("avg", operand, window_dimensions, window_strides, padding,
                     window_dilation, count_include_pad, "jax_avg_pool")


def _flax_args(inputs: Any, window_shape: Any, strides: Any, padding: Any, func: str
               ) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...], Any]:
    arr = float_array(inputs, "inputs", func)
    window = tuple(per_dim(_seq(window_shape), len(_seq(window_shape)) if isinstance(
        _seq(window_shape), list | tuple) else 1, "window_shape", func))
    nd = len(window)
    if arr.ndim < nd + 1:
        raise ShapeError(f"{func}: inputs has shape {arr.shape}; it needs (*batch, "
                         f"{nd} spatial, features)")
    s = (1,) * nd if strides is None else per_dim(_seq(strides), nd, "strides", func)
    if isinstance(padding, str):
        pads: Any = check_choice(padding, ("SAME", "VALID"), "padding", func)
    else:
        pads = [(0, 0)] * (arr.ndim - nd - 1) + list(
            _pair_list(padding, nd, "padding", func, allow_negative=True)) + [(0, 0)]
    return arr, window, s, pads


def flax_max_pool(inputs: np.ndarray, window_shape: Any, strides: Any = None,
                  padding: Any = "VALID") -> np.ndarray:
    """``flax.linen.max_pool``: channels last, any leading batch axes.

    Flax is not installed here; its pool is ``lax.reduce_window`` over the spatial axes,
    which is what this runs.

    Parameters
    ----------
    inputs : (*batch, *spatial, features) ndarray
    window_shape : tuple of int
    strides : tuple of int, optional
    padding : {'SAME', 'VALID'} or sequence of (low, high)

    Returns
    -------
    (*batch, *out, features) ndarray

    See Also
    --------
    flax_avg_pool : the average.

    Examples
    --------
    >>> flax_max_pool(np.arange(4.0).reshape(1, 4, 1), (2,), (2,))[0, :, 0]
    array([1., 3.])
    """
    func = "flax_max_pool"
    arr, window, s, pads = _flax_args(inputs, window_shape, strides, padding, func)
    lead = arr.ndim - len(window) - 1
    return jax_max_pool(arr, (1,) * lead + window + (1,), (1,) * lead + s + (1,), pads)


def flax_avg_pool(inputs: np.ndarray, window_shape: Any, strides: Any = None,
                  padding: Any = "VALID", count_include_pad: bool = True) -> np.ndarray:
    """``flax.linen.avg_pool``: the window sum over ``prod(window_shape)`` or the valid count.

    Parameters
    ----------
    inputs : (*batch, *spatial, features) ndarray
    window_shape : tuple of int
    strides : tuple of int, optional
    padding : {'SAME', 'VALID'} or sequence of (low, high)
    count_include_pad : bool

    Returns
    -------
    (*batch, *out, features) ndarray

    See Also
    --------
    flax_max_pool : max pooling.

    Examples
    --------
    >>> flax_avg_pool(np.arange(3.0).reshape(1, 3, 1), (2,), (2,), ((1, 0),),
    ...               count_include_pad=False)[0, :, 0]
    array([0. , 1.5])
    """
    func = "flax_avg_pool"
    arr, window, s, pads = _flax_args(inputs, window_shape, strides, padding, func)
    lead = arr.ndim - len(window) - 1
    return jax_avg_pool(arr, (1,) * lead + window + (1,), (1,) * lead + s + (1,), pads,
                        None, count_include_pad)


def _onnx_spec(kind: str, X: Any, func: str, kernel_shape: Any, strides: Any, pads: Any,
               dilations: Any, auto_pad: Any, ceil_mode: Any, count_include_pad: Any
               ) -> tuple[np.ndarray, PoolSpec]:
    arr = float_array(X, "X", func)
    if arr.ndim not in (3, 4, 5):
        raise ShapeError(f"{func}: X has shape {arr.shape} (rank {arr.ndim}); expected "
                         "(N, C, D1, ...) with 1 to 3 spatial dimensions")
    if kernel_shape is None:
        raise ShapeError(f"{func}: kernel_shape is required")
    spec = PoolSpec.from_onnx(kind, arr.shape[2:], kernel_shape, strides, pads, dilations,
                              auto_pad, ceil_mode, count_include_pad)
    return arr, spec


def onnx_max_pool(X: np.ndarray, *, auto_pad: str = "NOTSET", ceil_mode: int = 0,
                  dilations: Any = None, kernel_shape: Any = None, pads: Any = None,
                  storage_order: int = 0, strides: Any = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """ONNX ``MaxPool`` (opset 12+): outputs ``Y`` and ``Indices``.

    Parameters
    ----------
    X : (N, C, *spatial) ndarray
    auto_pad : {'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'}
    ceil_mode : {0, 1}
    dilations, kernel_shape, strides : sequence of int
    pads : sequence of int
        ``[x1_begin, ..., x1_end, ...]``.
    storage_order : {0, 1}
        Layout of ``Indices`` (1: the spatial index column-major).

    Returns
    -------
    Y : (N, C, *out) ndarray
    Indices : (N, C, *out) ndarray of int64
        Flat over the whole input tensor, padding excluded.

    See Also
    --------
    onnx_max_unpool : consumes ``Indices``.
    indices_onnx_to_torch : converts them to PyTorch's switches.

    Examples
    --------
    >>> y, i = onnx_max_pool(np.arange(8.0).reshape(1, 2, 4), kernel_shape=[2], strides=[2])
    >>> i
    array([[[1, 3],
            [5, 7]]])
    """
    func = "onnx_max_pool"
    arr, spec = _onnx_spec("max", X, func, kernel_shape, strides, pads, dilations, auto_pad,
                           ceil_mode, 0)
    so = _flag01(storage_order, "storage_order", func)
    result = spec.apply(arr, return_indices=True)
    assert isinstance(result, tuple)
    y, idx = result
    # a window holding only padding: ONNX Runtime returns the lowest finite value
    y = np.where(spec.empty_windows(), np.finfo(arr.dtype).min, y).astype(arr.dtype)
    return y, indices_torch_to_onnx(idx, arr.shape, int(so))


def onnx_avg_pool(X: np.ndarray, *, auto_pad: str = "NOTSET", ceil_mode: int = 0,
                  count_include_pad: int = 0, dilations: Any = None, kernel_shape: Any = None,
                  pads: Any = None, strides: Any = None) -> np.ndarray:
    """ONNX ``AveragePool`` (opset 19+ with dilations).

    Parameters
    ----------
    X : (N, C, *spatial) ndarray
    auto_pad : {'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'}
    ceil_mode : {0, 1}
    count_include_pad : {0, 1}
        Default 0: divide by the valid elements only.
    dilations, kernel_shape, strides : sequence of int
    pads : sequence of int

    Returns
    -------
    (N, C, *out) ndarray

    See Also
    --------
    onnx_max_pool : max pooling.

    Examples
    --------
    >>> onnx_avg_pool(np.arange(5.0).reshape(1, 1, 5), kernel_shape=[2], strides=[2],
    ...               ceil_mode=1)
    array([[[0.5, 2.5, 4. ]]])
    """
    func = "onnx_avg_pool"
    arr, spec = _onnx_spec("avg", X, func, kernel_shape, strides, pads, dilations, auto_pad,
                           ceil_mode, count_include_pad)
    y = spec.apply(arr)
    assert isinstance(y, np.ndarray)
    return y


def onnx_max_unpool(X: np.ndarray, I: np.ndarray, output_shape: Any = None, *,  # noqa: E741
                    kernel_shape: Any = None, pads: Any = None, strides: Any = None
                    ) -> np.ndarray:
    """ONNX ``MaxUnpool``: ``Y.flat[I] = X`` over the whole output tensor, zeros elsewhere.

    Parameters
    ----------
    X : (N, C, *spatial) ndarray
    I : (N, C, *spatial) ndarray of int
        Flat indices over the whole output tensor (ONNX ``MaxPool``'s ``Indices`` with
        ``storage_order=0``).
    output_shape : sequence of int, optional
        The full output shape ``(N, C, *out)``.  ONNX Runtime accepts any shape with the same
        N and C and at least as many elements as the default.
    kernel_shape, pads, strides : sequence of int

    Returns
    -------
    (N, C, *out) ndarray
        Default ``out = (L-1)*s + k - pads_begin - pads_end``.

    Raises
    ------
    ShapeError
        For indices outside the output tensor or an ``output_shape`` ONNX Runtime rejects.

    See Also
    --------
    torch_max_unpool : PyTorch's per-plane switches.

    Examples
    --------
    >>> onnx_max_unpool(np.array([[[5.0, 7.0]]]), np.array([[[1, 2]]]), kernel_shape=[2],
    ...                 strides=[2])
    array([[[0., 5., 7., 0.]]])
    """
    func = "onnx_max_unpool"
    arr = float_array(X, "X", func)
    if arr.ndim not in (3, 4, 5):
        raise ShapeError(f"{func}: X has shape {arr.shape}; expected (N, C, D1, ...) with 1 to 3 "
                         "spatial dimensions")
    if not isinstance(I, np.ndarray) or not np.issubdtype(I.dtype, np.integer):
        raise TypeError(f"{func}: I must be a NumPy integer array")
    if I.shape != arr.shape:
        raise ShapeError(f"{func}: I has shape {I.shape} but X has shape {arr.shape}")
    nd = arr.ndim - 2
    if kernel_shape is None:
        raise ShapeError(f"{func}: kernel_shape is required")
    k = _framework_ints(kernel_shape, nd, "kernel_shape", func, channels_last=None)
    s = (1,) * nd if strides is None else _framework_ints(strides, nd, "strides", func,
                                                          channels_last=None)
    pp = _onnx_pads(pads, nd, func)
    default = tuple((n - 1) * ss + kk - b - a for n, ss, kk, (b, a) in
                    zip(arr.shape[2:], s, k, pp, strict=True))
    if min(default) < 1:
        raise ShapeError(f"{func}: the default output size {default} is empty")
    shape = (*arr.shape[:2], *default)
    if output_shape is not None:
        req = _seq(output_shape)
        if not isinstance(req, list | tuple) or len(req) != arr.ndim or not all(
                _is_int(v) and v >= 1 for v in req):
            raise ShapeError(f"{func}: output_shape={_show(output_shape)} must be the full "
                             f"output shape of {arr.ndim} positive ints (N, C, *spatial)")
        req = tuple(int(v) for v in req)
        if req[:2] != arr.shape[:2]:
            raise ShapeError(f"{func}: output_shape={_show(req)} must keep N and C = "
                             f"{arr.shape[:2]} (ONNX Runtime's rule)")
        if math.prod(req) < math.prod(shape):
            raise ShapeError(f"{func}: output_shape={_show(req)} has fewer elements than the "
                             f"default {shape} (ONNX Runtime compares element counts)")
        shape = req
    total = math.prod(shape)
    if I.size and (int(I.min()) < 0 or int(I.max()) >= total):
        raise ShapeError(f"{func}: I holds values from {int(I.min())} to {int(I.max())}; they "
                         f"must lie in [0, {total}) (the output tensor {shape}); indices from "
                         "a larger pooled input need output_shape")
    out = np.zeros(total, dtype=arr.dtype)
    out[I.reshape(-1)] = arr.reshape(-1)
    return out.reshape(shape)
