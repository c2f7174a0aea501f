"""Pieces shared by every convention translator: the result type, names, layouts.

A translator turns a framework-neutral spec (``TransposeSpec``, ``ConvSpec``, ``PoolSpec`` ...)
into one framework's arguments.  The result is a :class:`Translation`; when the framework
cannot express the spec exactly, ``extra`` says what to do to its result (or its input) to
get the exact answer, and ``exact`` is ``False``: a result is never silently shifted.

Kernel layouts are strings of axis letters: ``O`` (output channels), ``I`` (input
channels) and the spatial letters ``W`` (1-d), ``HW`` (2-d), ``DHW`` (3-d), e.g. ``"OIHW"``
(PyTorch ``Conv2d``), ``"IOHW"`` (PyTorch ``ConvTranspose2d``), ``"HWIO"`` (TF/Keras
``Conv2D``, JAX), ``"HWOI"`` (TF/Keras ``Conv2DTranspose``).  Data formats are TF's
(``"NHWC"``, ``"NCHW"``, ``"NWC"``, ...) or Keras's (``"channels_last"``,
``"channels_first"``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import ShapeError, _show

FRAMEWORKS: tuple[str, ...] = ("torch", "tf", "keras", "jax", "flax", "onnx")
"""Accepted framework names (see :func:`check_framework` for the aliases)."""

_ALIASES = {
    "pytorch": "torch",
    "tensorflow": "tf",
    "tf.keras": "keras",
    "onnxruntime": "onnx",
    "ort": "onnx",
}

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}

KERNEL_LAYOUTS: dict[int, tuple[str, ...]] = {
    n: (f"OI{sp}", f"IO{sp}", f"{sp}IO", f"{sp}OI") for n, sp in _SPATIAL.items()
}
"""Accepted kernel layouts per number of spatial dimensions."""

DATA_FORMATS: dict[int, tuple[str, str]] = {
    n: (f"NC{sp}", f"N{sp}C") for n, sp in _SPATIAL.items()
}
"""TF-style data formats per number of spatial dimensions: (channels first, channels last)."""

_KERAS_FORMATS = ("channels_first", "channels_last")


@dataclass(frozen=True)
class Translation:
    """One framework's way of computing a spec, with everything needed to reproduce it.

    Attributes
    ----------
    framework : {'torch', 'tf', 'keras', 'jax', 'flax', 'onnx'}
        The target framework.
    op : str
        The layer or function, e.g. ``"ConvTranspose2d"``, ``"tf.nn.conv2d_transpose"``,
        ``"ConvTranspose"`` (ONNX op type).
    args : dict
        The arguments in the framework's own names and conventions.
    extra : dict
        What to apply to the framework's result (or input) to get the spec exactly; empty
        when ``args`` alone are exact.  Keys used: ``"crop"`` — per spatial dimension
        ``(before, after)`` elements to remove from the result (negative = zero-pad that
        many), ``"pad_input"`` — per spatial dimension ``(before, after)`` zeros to add to
        the input first; other ops may add keys documented in their translators.
    exact : bool
        ``True`` when ``args`` alone reproduce the spec; ``False`` when the framework cannot
        express it and ``extra`` must be applied too (``args`` + ``extra`` are then exact;
        ``notes`` say why).
    notes : list of str
        Why the arguments are what they are (e.g. "TF SAME puts the odd element at the end").
    code : str
        A ready-to-paste call or layer for the framework (plus the slicing line for
        ``extra``).
    kernel : dict
        For ops with a kernel: how to obtain the framework's kernel from the kernel of the
        framework the spec came from, ``convert_kernel(w, kernel["from_layout"],
        kernel["layout"], flip=kernel["flip"])`` (``I`` = channels of the op's input, ``O``
        = channels of its output), plus ``"groups_swap": True`` when the per-group
        input/output swap of the direct form is needed as well.  Empty for other ops.

    Examples
    --------
    >>> t = Translation("torch", "ConvTranspose1d", {"stride": 2, "padding": 0})
    >>> t.exact, t.extra
    (True, {})
    >>> t.to_dict()["args"]
    {'stride': 2, 'padding': 0}
    """

    framework: str
    op: str
    args: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    exact: bool = True
    notes: list[str] = field(default_factory=list)
    code: str = ""
    kernel: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the translation as plain JSON-ready data (tuples become lists)."""
        return {
            "framework": self.framework,
            "op": self.op,
            "args": _jsonable(self.args),
            "extra": _jsonable(self.extra),
            "exact": self.exact,
            "notes": list(self.notes),
            "code": self.code,
            "kernel": _jsonable(self.kernel),
        }

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def check_framework(
    framework: Any, func: str, *, allowed: Sequence[str] = FRAMEWORKS, name: str = "framework"
) -> str:
    """Return the canonical framework name, or raise listing the accepted values.

    Aliases: ``"pytorch"`` → ``"torch"``, ``"tensorflow"`` → ``"tf"``, ``"tf.keras"`` →
    ``"keras"``, ``"onnxruntime"``/``"ort"`` → ``"onnx"``; case is ignored.

    Examples
    --------
    >>> check_framework("TensorFlow", "f")
    'tf'
    >>> check_framework("caffe", "f")
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: framework='caffe' is not known; accepted values: \
'torch', 'tf', 'keras', 'jax', 'flax', 'onnx'
    """
    if not isinstance(framework, str):
        raise TypeError(
            f"{func}: {name}={_show(framework)} must be a string, one of "
            f"{_listing(allowed)}, not {type(framework).__name__}"
        )
    key = framework.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in allowed:
        if key in FRAMEWORKS:
            raise ShapeError(
                f"{func}: {name}={framework!r} has no translation for this op; accepted "
                f"values: {_listing(allowed)}"
            )
        raise ShapeError(
            f"{func}: {name}={framework!r} is not known; accepted values: {_listing(allowed)}"
        )
    return key


def check_choice(value: Any, allowed: Sequence[str], name: str, func: str) -> str:
    """Return ``value`` if it is one of ``allowed`` (exact spelling), else raise listing them.

    Examples
    --------
    >>> check_choice("SAME", ("SAME", "VALID"), "padding", "f")
    'SAME'
    >>> check_choice("same", ("SAME", "VALID"), "padding", "f")
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: padding='same' is not accepted; accepted values: \
'SAME', 'VALID'
    """
    if not isinstance(value, str) or value not in allowed:
        raise ShapeError(
            f"{func}: {name}={_show(value)} is not accepted; accepted values: "
            f"{_listing(allowed)}"
        )
    return value


def _listing(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


def check_layout(layout: Any, func: str, *, ndim: int | None = None, name: str = "layout") -> str:
    """Return a kernel layout in upper case, or raise listing the accepted layouts.

    With ``ndim`` the layout must have that many spatial letters.

    Examples
    --------
    >>> check_layout("hwoi", "f")
    'HWOI'
    >>> check_layout("OIHW", "f", ndim=1)
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: layout='OIHW' is not a kernel layout for 1 spatial \
dimension; accepted values: 'OIW', 'IOW', 'WIO', 'WOI'
    """
    accepted = KERNEL_LAYOUTS[ndim] if ndim is not None else sum(KERNEL_LAYOUTS.values(), ())
    if not isinstance(layout, str):
        raise TypeError(
            f"{func}: {name}={_show(layout)} must be a string such as 'OIHW', not "
            f"{type(layout).__name__}"
        )
    key = layout.upper()
    if key not in accepted:
        where = (
            f" for {ndim} spatial dimension{'s' if ndim != 1 else ''}" if ndim is not None else ""
        )
        raise ShapeError(
            f"{func}: {name}={layout!r} is not a kernel layout{where}; accepted values: "
            f"{_listing(accepted)}"
        )
    return key


def layout_ndim(layout: str) -> int:
    """Return the number of spatial dimensions of a (valid) kernel layout.

    Examples
    --------
    >>> layout_ndim("DHWIO")
    3
    """
    return len(layout) - 2


def kernel_layout(kind: str, ndim: int) -> str:
    """Return the layout for ``kind`` in ``ndim`` spatial dimensions.

    ``kind`` is a 2-d layout name (``"OIHW"``, ``"IOHW"``, ``"HWIO"``, ``"HWOI"``).

    Examples
    --------
    >>> kernel_layout("HWOI", 1), kernel_layout("OIHW", 3)
    ('WOI', 'OIDHW')
    """
    return kind.replace("HW", _SPATIAL[ndim])


def convert_kernel(
    w: np.ndarray, from_layout: str, to_layout: str, *, flip: bool = False
) -> np.ndarray:
    """Permute a kernel from one layout to another, optionally rotating it 180° in space.

    A pure relabelling of axes (``np.transpose``); ``flip=True`` also reverses every
    spatial axis — the flip that turns a transposed convolution's kernel into the kernel of
    its direct (zero-insertion) form.  Swapping ``I`` and ``O`` is only a relabelling: for
    grouped transposed convolutions the direct-form kernel also needs the per-group swap
    (see ``upconv.conventions`` ``direct_kernel``).

    Parameters
    ----------
    w : ndarray
        The kernel, ``len(from_layout)`` axes.
    from_layout, to_layout : str
        Layouts with the same spatial rank, e.g. ``"IOHW"`` and ``"HWOI"``.
    flip : bool, optional
        Reverse every spatial axis as well.

    Returns
    -------
    ndarray
        A new array (never a view of ``w``) in ``to_layout``.

    Examples
    --------
    >>> w = np.arange(12.0).reshape(2, 3, 1, 2)          # IOHW: in=2, out=3, kh=1, kw=2
    >>> convert_kernel(w, "IOHW", "HWOI").shape
    (1, 2, 3, 2)
    >>> convert_kernel(w, "IOHW", "IOHW", flip=True)[0, 0]
    array([[1., 0.]])
    """
    func = "convert_kernel"
    src = check_layout(from_layout, func, name="from_layout")
    dst = check_layout(to_layout, func, ndim=layout_ndim(src), name="to_layout")
    w = np.asarray(w)
    if w.ndim != len(src):
        raise ShapeError(
            f"{func}: w has shape {w.shape} (rank {w.ndim}) but from_layout={src!r} has "
            f"{len(src)} axes"
        )
    out = np.transpose(w, [src.index(c) for c in dst])
    if flip:
        spatial = tuple(i for i, c in enumerate(dst) if c not in "OI")
        out = np.flip(out, spatial)
    return np.array(out, copy=True)


def parse_data_format(data_format: Any, ndim: int | None, func: str) -> bool:
    """Return ``True`` for a channels-last data format, ``False`` for channels first.

    Accepts TF's strings (``"NWC"``, ``"NCW"``, ``"NHWC"``, ``"NCHW"``, ``"NDHWC"``,
    ``"NCDHW"``; with ``ndim`` the rank must match) and Keras's ``"channels_last"`` /
    ``"channels_first"``.

    Examples
    --------
    >>> parse_data_format("NHWC", 2, "f"), parse_data_format("channels_first", 3, "f")
    (True, False)
    >>> parse_data_format("NHWC", 1, "f")
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: f: data_format='NHWC' is not accepted for 1 spatial \
dimension; accepted values: 'NCW', 'NWC', 'channels_first', 'channels_last'
    """
    if ndim is None:
        accepted: tuple[str, ...] = sum(DATA_FORMATS.values(), ()) + _KERAS_FORMATS
    else:
        accepted = DATA_FORMATS[ndim] + _KERAS_FORMATS
    if not isinstance(data_format, str) or data_format not in accepted:
        where = (
            f" for {ndim} spatial dimension{'s' if ndim != 1 else ''}" if ndim is not None else ""
        )
        raise ShapeError(
            f"{func}: data_format={_show(data_format)} is not accepted{where}; accepted "
            f"values: {_listing(accepted)}"
        )
    if data_format in _KERAS_FORMATS:
        return data_format == "channels_last"
    return data_format.endswith("C")


def to_channels_first(x: np.ndarray, channels_last: bool) -> np.ndarray:
    """Move the channel axis of ``(N, *spatial, C)`` to position 1 (no-op otherwise).

    Examples
    --------
    >>> to_channels_first(np.zeros((2, 5, 3)), True).shape
    (2, 3, 5)
    """
    return np.moveaxis(x, -1, 1) if channels_last else x


def from_channels_first(y: np.ndarray, channels_last: bool) -> np.ndarray:
    """Inverse of :func:`to_channels_first`.

    Examples
    --------
    >>> from_channels_first(np.zeros((2, 3, 5)), True).shape
    (2, 5, 3)
    """
    return np.moveaxis(y, 1, -1) if channels_last else y


def crop_or_pad(y: np.ndarray, crop: Sequence[tuple[int, int]], axes: Sequence[int]) -> np.ndarray:
    """Remove ``(before, after)`` elements along each axis; negative amounts zero-pad.

    Examples
    --------
    >>> crop_or_pad(np.arange(5.0), [(1, -2)], [0])
    array([1., 2., 3., 4., 0., 0.])
    """
    pads = [(0, 0)] * y.ndim
    index: list[slice] = [slice(None)] * y.ndim
    for (before, after), axis in zip(crop, axes, strict=True):
        pads[axis] = (max(-before, 0), max(-after, 0))
        index[axis] = slice(max(before, 0), y.shape[axis] - max(after, 0))
    out = y[tuple(index)]
    if any(p != (0, 0) for p in pads):
        out = np.pad(out, pads)
    return out


def crop_code(crop: Sequence[tuple[int, int]], var: str = "y", *, channels_last: bool) -> str:
    """Return a Python line applying ``crop`` to ``var`` by slicing (and ``np.pad`` if needed).

    Examples
    --------
    >>> crop_code([(0, 1), (1, 0)], channels_last=False)
    'y = y[:, :, 0:-1, 1:]'
    >>> crop_code([(0, -1)], channels_last=True)
    'y = np.pad(y, [(0, 0), (0, 1), (0, 0)])'
    """
    lines = []
    if any(b > 0 or a > 0 for b, a in crop):
        parts = []
        for b, a in crop:
            start = str(max(b, 0)) if b > 0 or a > 0 else ""
            stop = f"-{a}" if a > 0 else ""
            parts.append(f"{start}:{stop}" if (start or stop) else ":")
        lead = [":"] if channels_last else [":", ":"]
        tail = [":"] if channels_last else []
        lines.append(f"{var} = {var}[{', '.join(lead + parts + tail)}]")
    if any(b < 0 or a < 0 for b, a in crop):
        pads = [(max(-b, 0), max(-a, 0)) for b, a in crop]
        full = [(0, 0)] + pads + [(0, 0)] if channels_last else [(0, 0), (0, 0)] + pads
        lines.append(f"{var} = np.pad({var}, {full})")
    return "\n".join(lines)


def call_code(name: str, args: dict[str, Any], *, positional: Sequence[str] = ()) -> str:
    """Format ``name(arg=value, ...)`` with ``repr`` values; ``positional`` names go first.

    Examples
    --------
    >>> call_code("nn.ConvTranspose2d", {"in_channels": 3, "stride": (2, 2)},
    ...           positional=["in_channels"])
    'nn.ConvTranspose2d(3, stride=(2, 2))'
    """
    parts = [repr(args[k]) for k in positional if k in args]
    parts += [f"{k}={v!r}" for k, v in args.items() if k not in positional]
    return f"{name}({', '.join(parts)})"
