"""Convolution and transposed convolution across PyTorch, TensorFlow, Keras 3, JAX/Flax and ONNX.

Two framework-neutral specs describe one spatial configuration per dimension:

:class:`TransposeSpec`
    A transposed convolution as a crop of its *full* output ``F = (L-1)*s + d*(k-1) + 1``
    (every kernel tap of every input element lands in it): ``crop[i] = (before, after)``
    elements are removed from each end (negative = zeros appended), so the output is
    ``F - before - after``.  PyTorch's ``padding=p, output_padding=op`` is the crop
    ``(p, p - op)``; TensorFlow's SAME with an odd ``k_eff - s`` is ``(P//2, P - P//2)``,
    which PyTorch's symmetric padding cannot express.
:class:`ConvSpec`
    A convolution as ``(before, after)`` zero padding of its input (negative = cropped, as
    JAX allows).

``Spec.from_<framework>(...)`` reads one framework's arguments (its names, its defaults, its
rules, checked against the running framework where it is installed: ONNX Runtime 1.31.1, JAX
0.10.2, Keras 3.15.1 on JAX, PyTorch); ``spec.to_<framework>()`` returns a
:class:`~upconv.conventions._common.Translation` whose ``extra`` holds the exact crop (or input
padding) to apply when the framework cannot express the spec — never a shifted result.
TensorFlow itself is not run here: its rules (the transpose of the forward convolution with
TF's SAME/VALID padding of the *output* size) are checked through JAX and Keras on JAX, which
implement them, and ONNX Runtime's ``SAME_UPPER``, which encodes the same split.

The ``<framework>_conv_transpose`` / ``<framework>_conv`` functions compute, in NumPy and in
the framework's own layouts and argument names, what the framework computes: they translate
through a spec and call :func:`upconv.conv_transpose` / :func:`upconv.conv`.

Kernel layouts use the letters ``I`` (channels of the op's input), ``O`` (channels of its
output) and the spatial letters; a transposed convolution's kernel in PyTorch and ONNX is
``IOHW``, in TF/Keras ``HWOI``; the *direct form* (zero insertion, padding ``k_eff-1-crop``,
stride-1 correlation) needs that kernel flipped in space with input and output swapped inside
each group (see :func:`direct_kernel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .._validate import Pairs, ShapeError, _is_int, _show, check_int, float_array, per_dim
from ..ops.conv import conv as _np_conv
from ..ops.transpose import conv_transpose as _np_conv_transpose
from ..shapes import conv_geometry, transpose_geometry
from ._common import (
    Translation,
    _jsonable,
    check_choice,
    check_framework,
    convert_kernel,
    from_channels_first,
    kernel_layout,
    parse_data_format,
    to_channels_first,
)

_SP = {1: "W", 2: "HW", 3: "DHW"}
_TF_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_JAX_DN = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}

# ---------------------------------------------------------------------------------------------
# Per-dimension integer rules of each framework (the facts, nothing else)


def _keff(k: int, d: int) -> int:
    return d * (k - 1) + 1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _tf_same(size: int, ke: int, s: int) -> tuple[int, int]:
    # TF/JAX 'SAME' padding of a forward convolution: output ceil(size/s), the odd element at
    # the end (TF kernel_shape_util, JAX padtype_to_pads).
    total = max((_ceil_div(size, s) - 1) * s + ke - size, 0)
    return total // 2, total - total // 2


def _jax_transpose_pads(ke: int, s: int, padding: str) -> tuple[int, int]:
    # jax.lax.conv_transpose's _conv_transpose_padding for 'SAME'/'VALID': padding of the
    # stride-dilated input.
    if padding == "SAME":
        pad_len = ke + s - 2
        before = ke - 1 if s > ke - 1 else _ceil_div(pad_len, 2)
    else:
        pad_len = ke + s - 2 + max(ke - s, 0)
        before = ke - 1
    return before, pad_len - before


def _keras_transpose_pads(ke: int, s: int, padding: str, op: int | None) -> tuple[int, int]:
    # Keras 3 JAX backend (_convert_conv_transpose_padding_args_from_keras_to_jax): padding of
    # the stride-dilated input for lax.conv_transpose.
    if padding == "valid":
        op = max(ke, s) - ke if op is None else op
        return ke - 1, ke - 1 + op
    pad_len = ke + s - 2 if op is None else ke + ke % 2 - 2 + op
    left = min(_ceil_div(pad_len, 2), ke - 1)
    return left, pad_len - left


def _onnx_split(total: int, auto_pad: str) -> int:
    # ONNX Runtime's start share of a total crop: SAME_UPPER puts the odd element at the end,
    # everything else (SAME_LOWER, and NOTSET/VALID with output_shape) at the start.
    return total // 2 if auto_pad == "SAME_UPPER" else total - total // 2


def _split_to_pads(crop: tuple[int, int], ke: int) -> tuple[int, int]:
    # A crop of the full output <-> padding of the stride-dilated input (direct form).
    return ke - 1 - crop[0], ke - 1 - crop[1]


def _check_transpose_out(func: str, size: Sequence[int], k: Sequence[int], s: Sequence[int],
                         d: Sequence[int], crop: Pairs) -> None:
    for i, (L, kk, ss, dd, (b, a)) in enumerate(zip(size, k, s, d, crop, strict=True)):
        full = (L - 1) * ss + _keff(kk, dd)
        if full - b - a < 1:
            raise ShapeError(
                f"{func}: the output would be empty in dimension {i}: the full output "
                f"(L-1)*s+d*(k-1)+1={full} minus crop {(b, a)} is {full - b - a}"
            )


def _check_conv_out(func: str, size: Sequence[int], k: Sequence[int], pad: Pairs,
                    d: Sequence[int]) -> None:
    for i, (L, kk, dd, (b, a)) in enumerate(zip(size, k, d, pad, strict=True)):
        ke = _keff(kk, dd)
        if L + b + a < ke:
            raise ShapeError(
                f"{func}: the dilated kernel d*(k-1)+1={ke} is larger than the padded input "
                f"{L}{b:+d}{a:+d}={L + b + a} in dimension {i}; the output would be empty"
            )


# ---------------------------------------------------------------------------------------------
# Argument normalisation in each framework's forms


def _seq(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _ints(value: Any, nd: int, name: str, func: str, *, minimum: int | None = 1,
          default: int | None = None, channels_last: bool | None = None) -> tuple[int, ...]:
    """An int or one int per spatial dimension; ``None`` gives ``default``.

    With ``channels_last`` (TF) a list of ``nd + 2`` (batch and channel entries 1) or of 1 is
    also accepted.
    """
    if value is None:
        if default is None:
            raise ShapeError(f"{func}: {name} is required")
        return (default,) * nd
    value = _seq(value)
    if channels_last is not None and isinstance(value, list | tuple):
        if len(value) == 1 and nd != 1:
            value = value[0]
        elif len(value) == nd + 2:
            lead, tail = (value[0], value[-1]) if channels_last else (value[0], value[1])
            if not (_is_int(lead) and _is_int(tail) and lead == 1 and tail == 1):
                raise ShapeError(
                    f"{func}: {name}={_show(value)} gives {nd + 2} entries; the batch and "
                    "channel entries must be 1"
                )
            value = value[1:-1] if channels_last else value[2:]
    return per_dim(value, nd, name, func, minimum=minimum)


def _pairs(value: Any, nd: int, name: str, func: str, *, allow_negative: bool,
           channels_last: bool | None = None) -> Pairs:
    """``nd`` ``(before, after)`` pairs (TF also: ``nd + 2`` with zero batch/channel pairs)."""
    value = _seq(value)
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"{func}: {name}={_show(value)} must be a sequence of (before, after) pairs, not "
            f"{type(value).__name__}"
        )
    value = [_seq(v) for v in value]
    if channels_last is not None and len(value) == nd + 2:
        outer = (value[0], value[-1]) if channels_last else (value[0], value[1])
        if any(not isinstance(p, list | tuple) or tuple(p) != (0, 0) for p in outer):
            raise ShapeError(
                f"{func}: {name}={_show(value)} gives {nd + 2} pairs; the batch and channel "
                "pairs must be (0, 0)"
            )
        value = value[1:-1] if channels_last else value[2:]
    if len(value) != nd:
        raise ShapeError(
            f"{func}: {name}={_show(value)} has {len(value)} entries but there "
            f"{'are' if nd != 1 else 'is'} {nd} spatial dimension{'s' if nd != 1 else ''}; "
            f"give {nd} (before, after) pairs such as {((1, 2),) * nd}"
        )
    out = []
    for axis, pair in enumerate(value):
        if not (isinstance(pair, list | tuple) and len(pair) == 2
                and all(_is_int(v) for v in pair)):
            raise TypeError(
                f"{func}: {name}={_show(value)}: dimension {axis} is {_show(pair)}; each entry "
                "must be a (before, after) pair of ints"
            )
        if not allow_negative and min(pair) < 0:
            raise ShapeError(
                f"{func}: {name}={_show(value)} must be >= 0; dimension {axis} has "
                f"{_show(pair)}"
            )
        out.append((int(pair[0]), int(pair[1])))
    return tuple(out)


def _size(value: Any, func: str, name: str = "input_size") -> tuple[int, ...]:
    value = _seq(value)
    if _is_int(value):
        value = (value,)
    if not isinstance(value, list | tuple) or len(value) not in (1, 2, 3):
        raise ShapeError(
            f"{func}: {name}={_show(value)} must be an int or 1 to 3 ints (one per spatial "
            "dimension)"
        )
    return per_dim(value, len(value), name, func)


def _channels(value: Any, name: str, func: str) -> int | None:
    return None if value is None else check_int(value, name, func, minimum=1)


def _onnx_ints(value: Any, nd: int, name: str, func: str, default: int) -> tuple[int, ...]:
    # ONNX attributes are lists of nd ints (an int is accepted for convenience).
    return _ints(value, nd, name, func, default=default, minimum=1 if default == 1 else 0)


def _onnx_pads(pads: Any, nd: int, func: str) -> Pairs:
    pads = _seq(pads)
    if not isinstance(pads, list | tuple) or len(pads) != 2 * nd or not all(
        _is_int(v) for v in pads
    ):
        raise ShapeError(
            f"{func}: pads={_show(pads)} must hold {2 * nd} ints [x1_begin, ..., x{nd}_begin, "
            f"x1_end, ..., x{nd}_end] (ONNX order)"
        )
    if min(pads) < 0:
        raise ShapeError(f"{func}: pads={_show(pads)} must be >= 0")
    return tuple((int(pads[i]), int(pads[i + nd])) for i in range(nd))


def _keras_pad(padding: Any, func: str, *, causal: bool = False) -> str:
    allowed = ("valid", "same", "causal") if causal else ("valid", "same")
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ShapeError(
            f"{func}: padding={_show(padding)} is not accepted; accepted values (any case): "
            + ", ".join(repr(a) for a in allowed)
        )
    return padding.lower()


# ---------------------------------------------------------------------------------------------
# Kernels


def direct_kernel(weight: np.ndarray, groups: int = 1) -> np.ndarray:
    """Kernel of the direct (zero-insertion) form of a transposed convolution.

    ``(C_in, C_out/groups, *k)`` (PyTorch/ONNX ``ConvTranspose`` layout) becomes
    ``(C_out, C_in/groups, *k)`` with every spatial axis reversed and input/output swapped
    inside each group: the kernel of the stride-1 correlation of the zero-inserted, padded
    input (JAX ``conv_general_dilated`` with ``lhs_dilation``, Flax ``ConvTranspose`` with
    ``transpose_kernel=False`` after a move to channels-last).

    Parameters
    ----------
    weight : (C_in, C_out/groups, *k) ndarray
        A transposed convolution's kernel.
    groups : int
        Number of groups.

    Returns
    -------
    (C_out, C_in/groups, *k) ndarray
        A new array.

    See Also
    --------
    from_direct_kernel : the inverse.
    convert_kernel : permutations and flips without the per-group swap.

    Examples
    --------
    >>> w = np.arange(6.0).reshape(2, 1, 3)          # C_in=2, C_out/groups=1, k=3
    >>> direct_kernel(w, groups=2)
    array([[[2., 1., 0.]],
    <BLANKLINE>
           [[5., 4., 3.]]])
    >>> direct_kernel(w).shape
    (1, 2, 3)
    """
    func = "direct_kernel"
    w = np.asarray(weight)
    groups = check_int(groups, "groups", func, minimum=1)
    if w.ndim < 3 or w.shape[0] % groups:
        raise ShapeError(
            f"{func}: weight of shape {w.shape} must be (C_in, C_out/groups, *k) with C_in "
            f"divisible by groups={groups}"
        )
    c_in, cout_g, *k = w.shape
    out = w.reshape(groups, c_in // groups, cout_g, *k).swapaxes(1, 2)
    out = out.reshape(groups * cout_g, c_in // groups, *k)
    return np.array(np.flip(out, tuple(range(2, out.ndim))), copy=True)


def from_direct_kernel(kernel: np.ndarray, groups: int = 1) -> np.ndarray:
    """Inverse of :func:`direct_kernel`: from ``(C_out, C_in/groups, *k)`` back to PyTorch's layout.

    Examples
    --------
    >>> w = np.arange(12.0).reshape(4, 1, 3)
    >>> np.array_equal(direct_kernel(from_direct_kernel(w, 2), 2), w)
    True
    """
    func = "from_direct_kernel"
    w = np.asarray(kernel)
    groups = check_int(groups, "groups", func, minimum=1)
    if w.ndim < 3 or w.shape[0] % groups:
        raise ShapeError(
            f"{func}: kernel of shape {w.shape} must be (C_out, C_in/groups, *k) with C_out "
            f"divisible by groups={groups}"
        )
    c_out, cin_g, *k = w.shape
    out = w.reshape(groups, c_out // groups, cin_g, *k).swapaxes(1, 2)
    out = out.reshape(groups * cin_g, c_out // groups, *k)
    return np.array(np.flip(out, tuple(range(2, out.ndim))), copy=True)


def _kernel_info(src: tuple[str, bool, bool], dst: tuple[str, bool, bool],
                 groups: int) -> dict[str, Any]:
    # (layout, flipped, direct form) of the source and the target kernels.
    info: dict[str, Any] = {"from_layout": src[0], "layout": dst[0], "flip": src[1] != dst[1]}
    if groups > 1 and src[2] != dst[2]:
        info["groups_swap"] = True
    return info


def _kernel_line(info: dict[str, Any], name: str) -> str:
    if info.get("groups_swap"):
        return (f"# {name}: the direct-form kernel (upconv.conventions.direct_kernel: flipped, "
                f"input/output swapped inside each group), laid out {info['layout']}")
    if info["from_layout"] == info["layout"] and not info["flip"]:
        return ""
    flip = ", flip=True" if info["flip"] else ""
    return (f"# {name} = upconv.conventions.convert_kernel(w, {info['from_layout']!r}, "
            f"{info['layout']!r}{flip})")


# ---------------------------------------------------------------------------------------------
# Code rendering


class _Name(str):
    """A placeholder rendered bare in generated code (``in_channels``, ``x``)."""

    def __repr__(self) -> str:
        return str(self)


def _call(name: str, positional: Sequence[Any], keywords: Sequence[tuple[str, Any]]) -> str:
    parts = [repr(v) for v in positional] + [f"{k}={v!r}" for k, v in keywords]
    return f"{name}({', '.join(parts)})"


def _v(values: Sequence[int]) -> int | tuple[int, ...]:
    return values[0] if len(values) == 1 else tuple(values)


def _lst(values: Sequence[int]) -> list[int]:
    return [int(v) for v in values]


def _pairs_list(pairs: Pairs) -> list[list[int]]:
    return [[int(b), int(a)] for b, a in pairs]


def _slice_line(window: Pairs, var: str, channels_last: bool) -> str:
    # Python slicing that removes (before, after) per spatial axis (both >= 0).
    parts = []
    for b, a in window:
        start = str(b) if b else ""
        stop = f"-{a}" if a else ""
        parts.append(f"{start}:{stop}" if start or stop else ":")
    lead = [":"] if channels_last else [":", ":"]
    tail = [":"] if channels_last else []
    return f"{var} = {var}[{', '.join(lead + parts + tail)}]"


def _crop_lines(crop: Pairs, var: str, framework: str, channels_last: bool) -> list[str]:
    """Lines applying an output crop (negative = zeros appended) in ``framework``'s idiom.

    Zeros are appended first and the crop comes second, so that a crop reaching past the
    result (a spec that wants only zeros there) still leaves a non-empty array.
    """
    pos = tuple((max(b, 0), max(a, 0)) for b, a in crop)
    neg = tuple((max(-b, 0), max(-a, 0)) for b, a in crop)
    nd = len(crop)
    lines = []
    if framework == "keras":
        if any(b or a for b, a in neg):
            arg = neg[0] if nd == 1 else neg
            lines.append(f"{var} = keras.layers.ZeroPadding{nd}D(padding={arg!r})({var})")
        if any(b or a for b, a in pos):
            arg = pos[0] if nd == 1 else pos
            lines.append(f"{var} = keras.layers.Cropping{nd}D(cropping={arg!r})({var})")
        return lines
    if any(b or a for b, a in neg):
        if framework == "torch":
            flat = [v for b, a in reversed(neg) for v in (b, a)]
            lines.append(f"{var} = torch.nn.functional.pad({var}, {flat})")
        else:
            full = ([(0, 0)] + list(neg) + [(0, 0)]) if channels_last else (
                [(0, 0), (0, 0)] + list(neg))
            mod = {"tf": "tf", "jax": "jnp", "flax": "jnp"}.get(framework, "np")
            lines.append(f"{var} = {mod}.pad({var}, {[list(p) for p in full]})")
    if any(b or a for b, a in pos):
        lines.append(_slice_line(pos, var, channels_last))
    return lines


def _pad_lines(pad: Pairs, var: str, framework: str, channels_last: bool) -> list[str]:
    """Lines padding an input by ``(before, after)`` zeros (negative = cropped)."""
    if framework == "torch":
        flat = [v for b, a in reversed(pad) for v in (b, a)]
        return [f"{var} = torch.nn.functional.pad({var}, {flat})  # negative values crop"]
    return _crop_lines(tuple((-b, -a) for b, a in pad), var, framework, channels_last)


# ---------------------------------------------------------------------------------------------
# Window: crop or zero-extend trailing spatial axes


def _window(y: np.ndarray, starts: Sequence[int], lengths: Sequence[int]) -> np.ndarray:
    # out[..., t] = y[..., t + start] where that index exists, else 0 (per trailing axis).
    nd = len(starts)
    if all(st == 0 for st in starts) and tuple(lengths) == y.shape[-nd:]:
        return y
    out = np.zeros(y.shape[:-nd] + tuple(lengths), dtype=y.dtype)
    src, dst = [], []
    for st, ln, size in zip(starts, lengths, y.shape[-nd:], strict=True):
        lo, hi = max(st, 0), min(st + ln, size)
        if hi <= lo:
            return out
        src.append(slice(lo, hi))
        dst.append(slice(lo - st, hi - st))
    put: tuple[Any, ...] = (..., *dst)
    get: tuple[Any, ...] = (..., *src)
    out[put] = y[get]
    return out


# =============================================================================================
# Transposed convolution


@dataclass(frozen=True)
class TransposeSpec:
    """A transposed convolution, framework-neutral, one entry per spatial dimension.

    The op scatters each input element times the kernel into the *full* output of length
    ``F = (L-1)*s + d*(k-1) + 1`` and then removes ``crop[i] = (before, after)`` elements
    from the ends of dimension ``i`` (negative = that many zeros appended), so the output
    length is ``F - before - after``.

    Attributes
    ----------
    input_size, kernel_size, stride, dilation : tuple of int
        ``L``, ``k``, ``s``, ``d`` per spatial dimension (ints are broadcast).
    crop : tuple of (int, int)
        ``(before, after)`` per dimension, relative to the full output.
    groups : int
        Channel groups.
    in_channels, out_channels : int or None
        Channel counts when known (used in the generated code).
    kernel_layout : str
        Layout of the kernel of the framework the spec came from, ``I`` = channels of the
        input, ``O`` = of the output (``""``: PyTorch's ``IO`` + spatial).
    kernel_flip : bool
        Whether that kernel is stored flipped in space (the direct form: JAX/Flax
        ``transpose_kernel=False``).
    kernel_direct : bool
        Whether that kernel is the direct form with its per-group input/output swap.
    source : str
        The framework the spec came from.
    output_size : tuple of int
        ``F - before - after`` (computed).

    Examples
    --------
    TensorFlow's SAME with k=3, s=2 crops 0 at the start and 1 at the end; PyTorch needs an
    extra slice:

    >>> spec = TransposeSpec.from_tf(4, 3, 2, "SAME")
    >>> spec.crop, spec.output_size
    (((0, 1),), (8,))
    >>> t = spec.to_torch()
    >>> t.args["padding"], t.args["output_padding"], t.extra, t.exact
    (0, 0, {'crop': ((0, 1),)}, False)
    >>> TransposeSpec.from_torch(4, 4, stride=2, padding=1).to_tf().args["padding"]
    'SAME'
    """

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    crop: Pairs
    groups: int = 1
    in_channels: int | None = None
    out_channels: int | None = None
    kernel_layout: str = ""
    kernel_flip: bool = False
    kernel_direct: bool = False
    source: str = "torch"
    output_size: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        func = "TransposeSpec"
        size = _size(self.input_size, func)
        nd = len(size)
        k = per_dim(_seq(self.kernel_size), nd, "kernel_size", func)
        s = per_dim(_seq(self.stride), nd, "stride", func)
        d = per_dim(_seq(self.dilation), nd, "dilation", func)
        crop = _pairs(self.crop, nd, "crop", func, allow_negative=True)
        groups = check_int(self.groups, "groups", func, minimum=1)
        for name in ("in_channels", "out_channels"):
            c = _channels(getattr(self, name), name, func)
            if c is not None and c % groups:
                raise ShapeError(f"{func}: groups={groups} does not divide {name}={c}")
        layout = self.kernel_layout or kernel_layout("IOHW", nd)
        _check_transpose_out(func, size, k, s, d, crop)
        out = [(L - 1) * ss + _keff(kk, dd) - b - a
               for L, kk, ss, dd, (b, a) in zip(size, k, s, d, crop, strict=True)]
        for name, value in (("input_size", size), ("kernel_size", k), ("stride", s),
                            ("dilation", d), ("crop", crop), ("groups", groups),
                            ("kernel_layout", layout), ("output_size", tuple(out))):
            object.__setattr__(self, name, value)

    # -- derived sizes ----------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.input_size)

    @property
    def effective_kernel_size(self) -> tuple[int, ...]:
        """``d*(k-1) + 1`` per dimension."""
        return tuple(_keff(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True))

    @property
    def full_size(self) -> tuple[int, ...]:
        """``(L-1)*s + d*(k-1) + 1`` per dimension: the output before any crop."""
        return tuple((L - 1) * s + ke for L, s, ke in
                     zip(self.input_size, self.stride, self.effective_kernel_size, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (tuples become lists), ``output_size`` included.

        Examples
        --------
        >>> TransposeSpec.from_torch(4, 3, 2).to_dict()["output_size"]
        [9]
        """
        return _jsonable({f.name: getattr(self, f.name) for f in fields(self)})

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_torch(
        cls,
        input_size: Any,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        dilation: Any = 1,
        *,
        groups: int = 1,
        output_size: Any = None,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> TransposeSpec:
        """PyTorch ``nn.ConvTransposeNd`` / ``F.conv_transposeNd``.

        Parameters
        ----------
        input_size : int or tuple of int
            Spatial size ``L`` of the input.
        kernel_size, stride, padding, output_padding, dilation : int or tuple of int
            PyTorch's arguments: ``padding`` crops ``p`` from both ends of the full output
            (it is not input padding; strings are not accepted by PyTorch),
            ``output_padding < max(stride, dilation)`` is added at the end.
        groups : int
            Channel groups.
        output_size : int or tuple of int, optional
            ``forward(x, output_size)``: sets ``output_padding`` (range ``[min, min+s-1]``).
        in_channels, out_channels : int, optional
            For the generated code.

        Returns
        -------
        TransposeSpec
            ``crop = (p, p - output_padding)`` per dimension.

        Examples
        --------
        >>> TransposeSpec.from_torch(7, 3, stride=2, padding=1, output_padding=1).crop
        ((1, 0),)
        """
        func = "TransposeSpec.from_torch"
        size = _size(input_size, func)
        nd = len(size)
        if isinstance(padding, str):
            raise ShapeError(
                f"{func}: padding={padding!r}: PyTorch's ConvTranspose accepts only ints "
                "(pytorch/pytorch#80301); for TensorFlow's SAME use TransposeSpec.from_tf(..., "
                "padding='SAME') or from_keras(..., padding='same')"
            )
        p = per_dim(_seq(padding), nd, "padding", func, minimum=0)
        g = transpose_geometry(size, _seq(kernel_size), _seq(stride), p, _seq(output_padding),
                               _seq(dilation), output_size=_seq(output_size), func=func)
        crop = tuple((pp, pp - op) for pp, op in zip(p, g.output_padding, strict=True))
        return cls(size, g.kernel_size, g.stride, g.dilation, crop, groups,
                   _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func),
                   kernel_layout("IOHW", nd), False, False, "torch")

    @classmethod
    def from_tf(
        cls,
        input_size: Any,
        kernel_size: Any,
        strides: Any,
        padding: Any = "SAME",
        output_shape: Any = None,
        dilations: Any = None,
        *,
        data_format: str | None = None,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> TransposeSpec:
        """TensorFlow ``tf.nn.conv_transpose`` / ``conv2d_transpose`` (the gradient of conv).

        The op is the transpose of the forward convolution of the *output* size ``O``, with
        TF's padding of that convolution: SAME pads ``max((ceil(O/s)-1)*s + k_eff - O, 0)``
        with the odd element at the end, so the transpose crops ``floor(total/2)`` at the
        start; VALID crops nothing; explicit ``(before, after)`` pairs crop ``before`` at the
        start.  Positions beyond the full output are zeros.  (TensorFlow is not installed
        here; these rules are checked through JAX and Keras on JAX, which implement them, and
        ONNX Runtime's ``SAME_UPPER``.)

        Parameters
        ----------
        input_size : int or tuple of int
            Spatial size ``L`` of the input.
        kernel_size : int or tuple of int
            Spatial size of ``filters`` (``[*k, out_channels, in_channels]``).
        strides, dilations : int or sequence
            One per spatial dimension, or TF's ``N + 2`` form with 1 for batch and channels.
        padding : {'SAME', 'VALID'} or sequence of (before, after)
            Explicit pairs may include the batch and channel ``(0, 0)`` pairs.
        output_shape : sequence of int, optional
            The output's spatial sizes or full shape (``data_format`` order).  Default: SAME
            ``L*s``; VALID ``(L-1)*s + max(k_eff, s)`` (what Keras passes); explicit
            ``F - before - after``.  Valid range: SAME ``[(L-1)*s+1, L*s]``; VALID
            ``[F, F+s-1]``; explicit ``[F-before-after, F-before-after+s-1]``.
        data_format : str, optional
            ``'NHWC'`` (default, and 1-d/3-d analogues) or channels first.

        Returns
        -------
        TransposeSpec

        Examples
        --------
        >>> TransposeSpec.from_tf((4, 4), 5, 2, "SAME").crop
        ((1, 2), (1, 2))
        >>> TransposeSpec.from_tf(4, 3, 2, "SAME", output_shape=7).crop
        ((1, 1),)
        """
        func = "TransposeSpec.from_tf"
        size = _size(input_size, func)
        nd = len(size)
        cl = parse_data_format(data_format or _TF_FORMATS[nd][0], nd, func)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = _ints(strides, nd, "strides", func, channels_last=cl)
        d = _ints(dilations, nd, "dilations", func, default=1, channels_last=cl)
        ke = [_keff(kk, dd) for kk, dd in zip(k, d, strict=True)]
        full = [(L - 1) * ss + kk for L, ss, kk in zip(size, s, ke, strict=True)]
        explicit: Pairs | None = None
        if isinstance(padding, str):
            check_choice(padding, ("SAME", "VALID"), "padding", func)
        else:
            if nd != 2:
                raise ShapeError(
                    f"{func}: padding={_show(padding)}: explicit padding needs 2 spatial "
                    f"dimensions (tf.nn.conv{nd}d_transpose takes only 'SAME' or 'VALID'); "
                    "use 'VALID' and crop the result"
                )
            explicit = _pairs(padding, nd, "padding", func, allow_negative=False,
                              channels_last=cl)
        if output_shape is None:
            if padding == "SAME":
                out = [L * ss for L, ss in zip(size, s, strict=True)]
            elif padding == "VALID":
                out = [(L - 1) * ss + max(kk, ss) for L, ss, kk in zip(size, s, ke, strict=True)]
            else:
                assert explicit is not None
                out = [f - b - a for f, (b, a) in zip(full, explicit, strict=True)]
        else:
            out = list(_tf_output_shape(output_shape, nd, cl, func))
        crop = []
        for i in range(nd):
            o, L, ss = out[i], size[i], s[i]
            if padding == "SAME":
                lo, hi = (L - 1) * ss + 1, L * ss
                before = _tf_same(o, ke[i], ss)[0]
            elif padding == "VALID":
                lo, hi = full[i], full[i] + ss - 1
                before = 0
            else:
                assert explicit is not None
                lo = full[i] - explicit[i][0] - explicit[i][1]
                hi, before = lo + ss - 1, explicit[i][0]
            if not lo <= o <= hi:
                raise ShapeError(
                    f"{func}: output_shape={_show(output_shape)} is not reachable with padding="
                    f"{_show(padding)}: in dimension {i} the forward convolution of the output "
                    f"must give the input size {L}, so the output ranges from {lo} to {hi}"
                )
            crop.append((before, full[i] - before - o))
        _check_transpose_out(func, size, k, s, d, tuple(crop))
        return cls(size, k, s, d, tuple(crop), 1,
                   _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func),
                   kernel_layout("HWOI", nd), False, False, "tf")

    @classmethod
    def from_keras(
        cls,
        input_size: Any,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        dilation_rate: Any = 1,
        *,
        filters: int | None = None,
        in_channels: int | None = None,
    ) -> TransposeSpec:
        """Keras 3 ``Conv{1,2,3}DTranspose`` / ``keras.ops.conv_transpose`` (JAX backend rule).

        Output size (``compute_conv_transpose_output_shape``): valid ``(L-1)*s + k_eff +
        op`` with ``op = max(k_eff, s) - k_eff`` when ``output_padding`` is None; same ``L*s``
        (None) or ``(L-1)*s + k_eff % 2 + op``.  Values: the JAX backend pads the stretched
        input by ``left = min(ceil(pad_len/2), k_eff-1)`` (``pad_len = k_eff+s-2``, or
        ``k_eff + k_eff%2 - 2 + op``), i.e. crops ``k_eff-1-left`` at the start — TF's SAME
        split for ``L*s``.  (With an even ``k_eff`` and ``output_padding=0`` under ``same``
        the output ``(L-1)*s`` is one TensorFlow's own conv2d_transpose would reject.)

        Parameters
        ----------
        input_size, kernel_size, strides, dilation_rate : int or tuple of int
            As the layer (``strides > 1`` with ``dilation_rate > 1`` is refused by the layer
            but computed by ``keras.ops.conv_transpose``; it is accepted here).
        padding : {'valid', 'same'}
            Any case, as Keras.
        output_padding : int or tuple of int, optional
            Each entry smaller than the stride (the layer's rule).
        filters, in_channels : int, optional
            For the generated code.

        Returns
        -------
        TransposeSpec

        Examples
        --------
        >>> TransposeSpec.from_keras(4, 3, 2, "same").crop
        ((0, 1),)
        >>> TransposeSpec.from_keras(4, 3, 2, "valid", output_padding=1).crop
        ((0, -1),)
        """
        func = "TransposeSpec.from_keras"
        size = _size(input_size, func)
        nd = len(size)
        pad = _keras_pad(padding, func)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = per_dim(_seq(strides), nd, "strides", func)
        d = per_dim(_seq(dilation_rate), nd, "dilation_rate", func)
        ops: tuple[int | None, ...] = (None,) * nd
        if output_padding is not None:
            ops = per_dim(_seq(output_padding), nd, "output_padding", func, minimum=0)
            for i, (op, ss) in enumerate(zip(ops, s, strict=True)):
                assert op is not None
                if op >= ss:
                    raise ShapeError(
                        f"{func}: output_padding={_show(output_padding)} must be strictly "
                        f"less than strides={_show(strides)} in every dimension (Keras's "
                        f"rule); dimension {i} has {op} >= {ss}"
                    )
        crop = []
        for i in range(nd):
            ke = _keff(k[i], d[i])
            left, right = _keras_transpose_pads(ke, s[i], pad, ops[i])
            crop.append(_split_to_pads((left, right), ke))
        _check_transpose_out(func, size, k, s, d, tuple(crop))
        return cls(size, k, s, d, tuple(crop), 1,
                   _channels(in_channels, "in_channels", func),
                   _channels(filters, "filters", func),
                   kernel_layout("HWOI", nd), False, False, "keras")

    @classmethod
    def from_jax(
        cls,
        input_size: Any,
        kernel_size: Any,
        strides: Any,
        padding: Any,
        rhs_dilation: Any = None,
        dimension_numbers: Any = None,
        transpose_kernel: bool = False,
        use_consistent_padding: bool = False,
        *,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> TransposeSpec:
        """JAX ``jax.lax.conv_transpose`` (0.10.2 semantics, checked by running it).

        ``'SAME'``/``'VALID'`` (upper case only; JAX rejects other strings) are the forward
        convolution's padding: SAME gives ``L*s``, VALID ``(L-1)*s + max(k_eff, s)``.
        Explicit ``(lo, hi)`` pairs are, by default (``use_consistent_padding=False``, the
        legacy behaviour still default in 0.10.2), padding of the *stretched* input, i.e. a
        crop of ``(k_eff-1-lo, k_eff-1-hi)``; with ``use_consistent_padding=True`` they are
        the forward convolution's padding, i.e. the crop itself (PyTorch's meaning, no
        output_padding).  Negative values are allowed.  ``lax.conv_transpose`` has no
        ``feature_group_count`` (see :meth:`from_jax_general` for the grouped form).

        ``transpose_kernel`` does not change the geometry; it says how ``rhs`` is read: True
        flips it and swaps its ``I``/``O`` axes (the gradient definition of TF/Keras/PyTorch,
        so a TF ``HWOI`` kernel is passed labelled ``HWIO``); False uses it as the direct form
        (already flipped).

        Parameters
        ----------
        input_size, kernel_size : int or tuple of int
            Spatial sizes of ``lhs`` and ``rhs``.
        strides, rhs_dilation : sequence of int
            Per spatial dimension (``rhs_dilation`` defaults to 1).
        padding : {'SAME', 'VALID'} or sequence of (int, int)
        dimension_numbers : (str, str, str), optional
            Used for the kernel layout only (default ``('NHWC', 'HWIO', 'NHWC')``).
        transpose_kernel, use_consistent_padding : bool

        Returns
        -------
        TransposeSpec

        Examples
        --------
        >>> TransposeSpec.from_jax(4, 3, (2,), [(2, 2)]).crop
        ((0, 0),)
        >>> TransposeSpec.from_jax(4, 3, (2,), [(1, 1)], use_consistent_padding=True).crop
        ((1, 1),)
        """
        func = "TransposeSpec.from_jax"
        size = _size(input_size, func)
        nd = len(size)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = _ints(strides, nd, "strides", func)
        d = _ints(rhs_dilation, nd, "rhs_dilation", func, default=1)
        for name, flag in (("transpose_kernel", transpose_kernel),
                           ("use_consistent_padding", use_consistent_padding)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"{func}: {name}={flag!r} must be a bool")
        ke = [_keff(kk, dd) for kk, dd in zip(k, d, strict=True)]
        if isinstance(padding, str):
            if padding not in ("SAME", "VALID"):
                raise ShapeError(
                    f"{func}: padding={padding!r} is not accepted; accepted values: 'SAME', "
                    "'VALID' (upper case: lax.conv_transpose passes other strings on and "
                    "fails) or (low, high) pairs"
                )
            crop = tuple(_split_to_pads(_jax_transpose_pads(kk, ss, padding), kk)
                         for kk, ss in zip(ke, s, strict=True))
        else:
            pairs = _pairs(padding, nd, "padding", func, allow_negative=True)
            if use_consistent_padding:
                crop = pairs
            else:
                crop = tuple(_split_to_pads(p, kk) for p, kk in zip(pairs, ke, strict=True))
        rhs = _jax_rhs_spec(dimension_numbers, nd, func, default=_JAX_DN[nd][1])
        # transpose_kernel=True: JAX's I axis holds the output channels (a forward kernel).
        layout = rhs.translate(str.maketrans("IO", "OI")) if transpose_kernel else rhs
        _check_transpose_out(func, size, k, s, d, crop)
        return cls(size, k, s, d, crop, 1,
                   _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func),
                   layout, not transpose_kernel, False, "jax")

    @classmethod
    def from_jax_general(
        cls,
        input_size: Any,
        kernel_size: Any,
        padding: Any,
        lhs_dilation: Any,
        rhs_dilation: Any = None,
        feature_group_count: int = 1,
        *,
        dimension_numbers: Any = None,
    ) -> TransposeSpec:
        """``jax.lax.conv_general_dilated`` with ``lhs_dilation`` and ``window_strides=1``.

        Zero insertion (``lhs_dilation`` = the stride), padding ``(lo, hi)`` of the stretched
        input and a stride-1 correlation with the direct-form kernel: a transposed
        convolution with crop ``(k_eff-1-lo, k_eff-1-hi)``, grouped by
        ``feature_group_count`` (the grouped form ``lax.conv_transpose`` lacks).

        Returns
        -------
        TransposeSpec
            The framework-neutral description (``crop`` per spatial dimension).

        Examples
        --------
        >>> spec = TransposeSpec.from_jax_general(4, 3, [(1, 2)], (2,), feature_group_count=2)
        >>> spec.crop, spec.groups, spec.kernel_direct
        (((1, 0),), 2, True)
        """
        func = "TransposeSpec.from_jax_general"
        size = _size(input_size, func)
        nd = len(size)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = _ints(lhs_dilation, nd, "lhs_dilation", func)
        d = _ints(rhs_dilation, nd, "rhs_dilation", func, default=1)
        if isinstance(padding, str):
            raise ShapeError(
                f"{func}: padding={padding!r}: JAX does not accept string padding together "
                "with lhs_dilation; give (low, high) pairs, or use lax.conv_transpose "
                "(TransposeSpec.from_jax) for 'SAME'/'VALID'"
            )
        pairs = _pairs(padding, nd, "padding", func, allow_negative=True)
        crop = tuple(_split_to_pads(p, _keff(kk, dd))
                     for p, kk, dd in zip(pairs, k, d, strict=True))
        groups = check_int(feature_group_count, "feature_group_count", func, minimum=1)
        rhs = _jax_rhs_spec(dimension_numbers, nd, func, default="OI" + _SP[nd])
        _check_transpose_out(func, size, k, s, d, crop)
        return cls(size, k, s, d, crop, groups, None, None, rhs, True, True, "jax")

    @classmethod
    def from_onnx(
        cls,
        input_size: Any,
        kernel_shape: Any,
        strides: Any = None,
        pads: Any = None,
        auto_pad: str = "NOTSET",
        output_shape: Any = None,
        output_padding: Any = None,
        dilations: Any = None,
        *,
        group: int = 1,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> TransposeSpec:
        """ONNX ``ConvTranspose`` as ONNX Runtime 1.31.1 computes it (checked by running it).

        With ``B = F + output_padding`` (``output_padding`` appends zeros-reached positions
        at the end):

        * ``output_shape`` given (any ``auto_pad``): ``total = max(B - O, 0)`` is cropped,
          ``floor(total/2)`` at the start for ``SAME_UPPER`` and ``ceil(total/2)`` otherwise
          (NOTSET, VALID, SAME_LOWER: the odd element at the **start**); ``O`` may exceed
          ``F`` (zeros at the end) up to ``F + s - 1``.
        * ``auto_pad='SAME_UPPER'``/``'SAME_LOWER'``: ``total = max(B - L*s, 0)``, split the
          same way, so the output is ``min(B, L*s)`` — ONNX Runtime does **not** pad up to
          ``L*s`` when ``k_eff < s`` (the spec's ``L*s``).
        * otherwise ``pads = [begin..., end...]`` (VALID: zeros) crop ``(begin, end)`` of
          ``B``.

        ONNX Runtime rejects ``output_padding >= stride`` (even when smaller than the
        dilation, which PyTorch allows).

        Parameters
        ----------
        input_size : int or tuple of int
            Spatial size of ``X``.
        kernel_shape : sequence of int
            Spatial size of ``W`` (``(C, M/group, *k)``).
        strides, dilations, output_padding, output_shape : sequence of int, optional
            ONNX attributes (defaults 1, 1, 0, absent); ``output_shape`` may include N, C.
        pads : sequence of int, optional
            ``[x1_begin, ..., x1_end, ...]``; not together with ``auto_pad`` other than NOTSET.
        auto_pad : {'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'}
        group : int

        Returns
        -------
        TransposeSpec

        Examples
        --------
        >>> TransposeSpec.from_onnx(3, [3], [2], auto_pad="SAME_UPPER").crop
        ((0, 1),)
        >>> TransposeSpec.from_onnx(3, [3], [2], output_shape=[6]).crop
        ((1, 0),)
        """
        func = "TransposeSpec.from_onnx"
        size = _size(input_size, func)
        nd = len(size)
        check_choice(auto_pad, ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"), "auto_pad",
                     func)
        k = _ints(kernel_shape, nd, "kernel_shape", func)
        s = _onnx_ints(strides, nd, "strides", func, 1)
        d = _onnx_ints(dilations, nd, "dilations", func, 1)
        op = _onnx_ints(output_padding, nd, "output_padding", func, 0)
        for i in range(nd):
            if op[i] >= s[i]:
                raise ShapeError(
                    f"{func}: output_padding={_show(output_padding)} must be smaller than "
                    f"strides={_show(list(s))} (ONNX Runtime rejects output_padding >= stride "
                    f"even when smaller than the dilation); dimension {i} has {op[i]}"
                )
        pairs: Pairs = ((0, 0),) * nd
        if pads is not None:
            if auto_pad != "NOTSET":
                raise ShapeError(
                    f"{func}: pads={_show(pads)} cannot be used with auto_pad={auto_pad!r}; "
                    "give pads with auto_pad='NOTSET', or drop pads"
                )
            pairs = _onnx_pads(pads, nd, func)
        ke = [_keff(kk, dd) for kk, dd in zip(k, d, strict=True)]
        full = [(L - 1) * ss + kk for L, ss, kk in zip(size, s, ke, strict=True)]
        targets = None
        if output_shape is not None:
            targets = _onnx_output_shape(output_shape, nd, func)
        crop = []
        for i in range(nd):
            B = full[i] + op[i]
            if targets is not None:
                o = targets[i]
                if o > full[i] + s[i] - 1:
                    raise ShapeError(
                        f"{func}: output_shape={_show(output_shape)} is too large in dimension "
                        f"{i}: ONNX Runtime accepts at most F + s - 1 = "
                        f"{full[i] + s[i] - 1} (F = (L-1)*s + d*(k-1) + 1 = {full[i]})"
                    )
                before = _onnx_split(max(B - o, 0), auto_pad)
                crop.append((before, full[i] - before - o))
            elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                total = max(B - size[i] * s[i], 0)
                before = _onnx_split(total, auto_pad)
                crop.append((before, total - before - op[i]))
            else:
                crop.append((pairs[i][0], pairs[i][1] - op[i]))
        _check_transpose_out(func, size, k, s, d, tuple(crop))
        return cls(size, k, s, d, tuple(crop), group,
                   _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func),
                   kernel_layout("IOHW", nd), False, False, "onnx")

    # -- translators ------------------------------------------------------------------------

    def _src_kernel(self) -> tuple[str, bool, bool]:
        return self.kernel_layout, self.kernel_flip, self.kernel_direct

    def _names(self) -> tuple[Any, Any]:
        cin = self.in_channels if self.in_channels is not None else _Name("in_channels")
        cout = self.out_channels if self.out_channels is not None else _Name("out_channels")
        return cin, cout

    def _clamped(self) -> list[tuple[int, int]]:
        # The part of the full output the spec needs, as a crop (never empty): what a
        # fallback layer must still compute before the extra step.
        out = []
        for (b, a), f in zip(self.crop, self.full_size, strict=True):
            bp = min(max(b, 0), f - 1)
            out.append((bp, min(max(a, 0), f - 1 - bp)))
        return out

    def _extra(self, achieved: Sequence[tuple[int, int]]) -> Pairs:
        return tuple((b - cb, a - ca) for (b, a), (cb, ca) in
                     zip(self.crop, achieved, strict=True))

    def _notes_extra(self, extra: Pairs, why: str) -> list[str]:
        notes = [why, f"apply the extra crop {extra} (before, after) per spatial dimension "
                 "to the result; a negative value appends that many zeros"]
        if any(b < 0 or a < 0 for b, a in extra):
            notes.append("zeros appended by the extra step get no bias: run the layer "
                         "without bias and add it after the extra step")
        return notes

    def to_torch(self) -> Translation:
        """``torch.nn.ConvTransposeNd`` arguments (plus an exact extra crop when needed).

        PyTorch crops ``(p, p - output_padding)`` with ``p >= 0`` and ``0 <= output_padding
        < max(stride, dilation)``; any other crop becomes the nearest such layer that still
        computes every needed element, followed by ``extra`` (slicing, or zeros appended).

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> t = TransposeSpec.from_tf(4, 5, 2, "SAME").to_torch()
        >>> t.args["padding"], t.extra["crop"]
        (1, ((0, 1),))
        >>> print(t.code)
        conv = torch.nn.ConvTranspose1d(in_channels, out_channels, kernel_size=5, stride=2, \
padding=1, output_padding=0, groups=1, dilation=1, bias=False)
        # conv.weight = upconv.conventions.convert_kernel(w, 'WOI', 'IOW')
        y = conv(x)  # x: (N, C_in, W)
        y = y[:, :, :-1]
        """
        nd = self.ndim
        p, op, achieved, exact = [], [], [], True
        for (b, a), (bp, ap), s, dd in zip(self.crop, self._clamped(), self.stride,
                                           self.dilation, strict=True):
            m = max(s, dd)
            if b >= 0 and 0 <= b - a < m:
                pp, oo = b, b - a
            else:
                exact = False
                # the nearest layer that still computes every needed element of the full output
                pp = min(bp, ap + m - 1)
                oo = min(max(pp - min(a, ap), 0), m - 1)
            p.append(pp)
            op.append(oo)
            achieved.append((pp, pp - oo))
        cin, cout = self._names()
        args = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": _v(self.kernel_size), "stride": _v(self.stride),
                "padding": _v(p), "output_padding": _v(op), "groups": self.groups,
                "dilation": _v(self.dilation)}
        extra = self._extra(achieved)
        notes = ["PyTorch's padding p crops p elements from both ends of the full output "
                 "(s*(L-1) + d*(k-1) + 1); output_padding adds elements at the end only"]
        if not exact:
            notes += self._notes_extra(
                extra, f"the crop {self.crop} is not of PyTorch's form (p, p - output_padding) "
                "with p >= 0 and 0 <= output_padding < max(stride, dilation) (the asymmetric "
                "TF SAME case); a shifted p=ceil(P/2), output_padding=1 would give the right "
                "shape with values moved by one")
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("IOHW", nd), False, False),
                             self.groups)
        op_name = f"ConvTranspose{nd}d"
        code = [_call(f"conv = torch.nn.{op_name}", [cin, cout],
                      [(k, args[k]) for k in ("kernel_size", "stride", "padding",
                                              "output_padding", "groups", "dilation")]
                      + ([("bias", False)] if not exact else []))]
        if line := _kernel_line(kinfo, "conv.weight"):
            code.append(line)
        code.append(f"y = conv(x)  # x: (N, C_in, {', '.join(_SP[nd])})")
        if not exact:
            code += _crop_lines(extra, "y", "torch", False)
        return Translation("torch", op_name, args, {"crop": extra} if not exact else {},
                           exact, notes, "\n".join(code), kinfo)

    def to_onnx(self) -> Translation:
        """ONNX ``ConvTranspose`` attributes (explicit ``pads``; ``output_padding`` < stride).

        ONNX's ``pads`` crop asymmetrically, so every crop with ``before >= 0`` and
        ``after > -stride`` is exact; ``auto_pad`` equivalents are named in ``notes``.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> t = TransposeSpec.from_tf(4, 3, 2, "SAME").to_onnx()
        >>> t.args["pads"], t.exact
        ([0, 1], True)
        """
        nd = self.ndim
        pb, pe, op, achieved, exact = [], [], [], [], True
        for (b, a), (bp, ap), s in zip(self.crop, self._clamped(), self.stride, strict=True):
            if b >= 0 and a > -s:
                bb, ee, oo = b, max(a, 0), max(-a, 0)
            else:
                exact = False
                bb, ee, oo = bp, ap, min(max(-a, 0), s - 1)
            pb.append(bb)
            pe.append(ee)
            op.append(oo)
            achieved.append((bb, ee - oo))
        args: dict[str, Any] = {"kernel_shape": _lst(self.kernel_size),
                                "strides": _lst(self.stride), "pads": pb + pe,
                                "dilations": _lst(self.dilation), "group": self.groups}
        if any(op):
            args["output_padding"] = op
        extra = self._extra(achieved)
        notes = ["ONNX pads = [x1_begin, ..., x1_end, ...] crop the full output "
                 "asymmetrically; output_padding appends positions at the end (ONNX Runtime "
                 "requires output_padding < stride)"]
        for mode in ("SAME_UPPER", "SAME_LOWER"):
            if exact and all(
                (_onnx_split(max(f - L * s, 0), mode), max(f - L * s, 0)
                 - _onnx_split(max(f - L * s, 0), mode)) == c
                for f, L, s, c in zip(self.full_size, self.input_size, self.stride, self.crop,
                                      strict=True)
            ):
                notes.append(f"equivalently auto_pad={mode!r} without pads")
        if not exact:
            notes += self._notes_extra(extra, f"the crop {self.crop} needs zeros before the "
                                       "full output or more than stride-1 zeros after it")
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("IOHW", nd), False, False),
                             self.groups)
        code = [_call("node = onnx.helper.make_node", ["ConvTranspose", ["X", "W"], ["Y"]],
                      list(args.items()))]
        if line := _kernel_line(kinfo, "W"):
            code.append(line)
        if not exact:
            code.append("# after running the model, on Y (N, C_out, *spatial):")
            code += _crop_lines(extra, "y", "onnx", False)
        return Translation("onnx", "ConvTranspose", args, {"crop": extra} if not exact else {},
                           exact, notes, "\n".join(code), kinfo)

    def _tf_candidates(self) -> tuple[Any, list[int], list[tuple[int, int]], bool, list[str]]:
        # padding (SAME/VALID/pairs), output sizes, achieved crops, exact, notes
        nd = self.ndim
        full, size, s = self.full_size, self.input_size, self.stride
        same = all(
            (L - 1) * ss < f - b - a <= L * ss and b == _tf_same(f - b - a, ke, ss)[0]
            for (b, a), f, L, ss, ke in zip(self.crop, full, size, s,
                                            self.effective_kernel_size, strict=True))
        valid = all(b == 0 and -ss < a <= 0 for (b, a), ss in zip(self.crop, s, strict=True))
        out = list(self.output_size)
        if same:
            return "SAME", out, list(self.crop), True, []
        if valid:
            return "VALID", out, list(self.crop), True, []
        explicit_ok = nd == 2 and all(b >= 0 and a > -ss
                                      for (b, a), ss in zip(self.crop, s, strict=True))
        if explicit_ok:
            pads = tuple((b, max(a, 0)) for b, a in self.crop)
            return pads, out, list(self.crop), True, []
        if nd == 2:
            achieved = [(bp, max(min(a, ap), 1 - ss)) for (_, a), (bp, ap), ss in
                        zip(self.crop, self._clamped(), s, strict=True)]
            pads = tuple((b, max(a, 0)) for b, a in achieved)
            outs = [f - b - a for f, (b, a) in zip(full, achieved, strict=True)]
            why = (f"the crop {self.crop} needs zeros before the full output or at least "
                   "stride zeros after it, beyond TF's explicit padding")
            return pads, outs, achieved, False, [why]
        achieved = [(0, max(min(a, 0), 1 - ss)) for (_, a), ss in zip(self.crop, s, strict=True)]
        outs = [f - b - a for f, (b, a) in zip(full, achieved, strict=True)]
        why = (f"the crop {self.crop} is neither TF's SAME nor VALID, and tf.nn.conv{nd}d_"
               "transpose accepts no explicit padding (only conv2d_transpose does)")
        return "VALID", outs, achieved, False, [why]

    def to_tf(self) -> Translation:
        """``tf.nn.conv{1,2,3}d_transpose`` arguments (``output_shape`` spatial, NHWC order).

        SAME or VALID when one of them gives the spec for every dimension, else explicit
        ``(before, after)`` padding (2-d only, crops ``before >= 0`` and ``after > -stride``);
        otherwise VALID plus an exact extra crop.  TensorFlow has no grouped transposed
        convolution: ``groups > 1`` raises.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> t = TransposeSpec.from_torch((4, 4), 4, stride=2, padding=(0, 2)).to_tf()
        >>> t.args["padding"], t.args["output_shape"]
        ([[0, 0], [2, 2]], [10, 6])
        """
        nd = self.ndim
        if self.groups > 1:
            raise ShapeError(
                f"TransposeSpec.to_tf: groups={self.groups}: tf.nn.conv{nd}d_transpose has no "
                "groups; split the channels into groups, run one transposed convolution per "
                "group and concatenate (or use to_jax, which uses conv_general_dilated's "
                "feature_group_count)"
            )
        padding, outs, achieved, exact, why = self._tf_candidates()
        fmt = _TF_FORMATS[nd][0]
        pad_arg: Any = padding if isinstance(padding, str) else _pairs_list(padding)
        args: dict[str, Any] = {"output_shape": outs, "strides": _lst(self.stride),
                                "padding": pad_arg, "data_format": fmt,
                                "dilations": _lst(self.dilation)}
        extra = self._extra(achieved)
        notes = ["TF's conv_transpose is the gradient of the forward convolution of the "
                 "output size with the same padding: SAME puts the odd element at the end of "
                 "the forward padding, so the transpose crops floor(total/2) at the start"]
        if not exact:
            notes += self._notes_extra(extra, why[0])
        if any(s > 1 for s in self.stride) and any(d > 1 for d in self.dilation):
            notes.append("TF's own kernels may refuse strides > 1 together with dilations > 1 "
                         "(not checked: TensorFlow is not installed here)")
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWOI", nd), False, False), 1)
        _, cout = self._names()
        shape_code = _Name("[tf.shape(x)[0], " + ", ".join(map(str, outs)) + f", {cout}]")
        tf_pad: Any = padding if isinstance(padding, str) else (
            [[0, 0]] + _pairs_list(padding) + [[0, 0]])
        code = [_call(f"y = tf.nn.conv{nd}d_transpose", [_Name("x"), _Name("filters")],
                      [("output_shape", shape_code), ("strides", _lst(self.stride)),
                       ("padding", tf_pad), ("data_format", fmt),
                       ("dilations", _lst(self.dilation))])]
        if line := _kernel_line(kinfo, "filters"):
            code.insert(0, line)
        if not exact:
            code += _crop_lines(extra, "y", "tf", True)
        return Translation("tf", f"tf.nn.conv{nd}d_transpose", args,
                           {"crop": extra} if not exact else {}, exact, notes, "\n".join(code),
                           kinfo)

    def to_keras(self) -> Translation:
        """``keras.layers.Conv{1,2,3}DTranspose`` arguments (Keras 3, JAX backend rule).

        Tries ``same``/``valid`` with ``output_padding=None`` and then per-dimension output
        paddings; otherwise ``valid`` plus an exact extra crop (``Cropping``/``ZeroPadding``
        layers).  Keras's transposed convolution has no ``groups`` (raises); with strides > 1
        and dilation > 1 the layer refuses, so ``keras.ops.conv_transpose`` is named instead.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> t = TransposeSpec.from_tf(4, 3, 2, "SAME").to_keras()
        >>> t.args["padding"], t.args["output_padding"], t.exact
        ('same', None, True)
        """
        nd = self.ndim
        if self.groups > 1:
            raise ShapeError(
                f"TransposeSpec.to_keras: groups={self.groups}: Keras's Conv{nd}DTranspose has "
                "no groups; use one layer per channel group and concatenate (or to_jax, whose "
                "conv_general_dilated has feature_group_count)"
            )
        ke, s = self.effective_kernel_size, self.stride

        def crop_of(pad: str, op: int | None, i: int) -> tuple[int, int]:
            return _split_to_pads(_keras_transpose_pads(ke[i], s[i], pad, op), ke[i])

        choice: tuple[str, Any] | None = None
        for pad in ("same", "valid"):
            if all(crop_of(pad, None, i) == self.crop[i] for i in range(nd)):
                choice = (pad, None)
                break
        if choice is None:
            for pad in ("same", "valid"):
                ops = []
                for i in range(nd):
                    hit = [o for o in range(s[i]) if crop_of(pad, o, i) == self.crop[i]]
                    if not hit:
                        break
                    ops.append(hit[0])
                else:
                    choice = (pad, _v(ops))
                    break
        exact = choice is not None
        if choice is None:
            ops = [min(max(-a, 0), ss - 1) for (_, a), ss in zip(self.crop, s, strict=True)]
            choice = ("valid", _v(ops))
        pad, op_arg = choice
        opt: tuple[int | None, ...] = (
            (None,) * nd if op_arg is None
            else (op_arg,) if isinstance(op_arg, int) else tuple(op_arg)
        )
        achieved = [crop_of(pad, opt[i], i) for i in range(nd)]
        extra = self._extra(achieved)
        layer = not (any(x > 1 for x in s) and any(d > 1 for d in self.dilation))
        op_name = f"keras.layers.Conv{nd}DTranspose" if layer else "keras.ops.conv_transpose"
        args: dict[str, Any] = {"filters": self.out_channels, "kernel_size": _v(self.kernel_size),
                                "strides": _v(s), "padding": pad, "output_padding": op_arg,
                                "dilation_rate": _v(self.dilation)}
        notes = ["Keras (JAX backend) pads the stretched input by left = min(ceil(pad_len/2), "
                 "k_eff-1): the same start crop as TF's SAME"]
        if not exact:
            notes += self._notes_extra(extra, f"no padding/output_padding of Keras gives the "
                                       f"crop {self.crop}")
        if not layer:
            notes.append("the Keras layers refuse strides > 1 with dilation_rate > 1; "
                         "keras.ops.conv_transpose computes it")
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWOI", nd), False, False), 1)
        _, cout = self._names()
        if layer:
            code = [_call(f"layer = keras.layers.Conv{nd}DTranspose", [cout],
                          [(k, args[k]) for k in ("kernel_size", "strides", "padding",
                                                  "output_padding", "dilation_rate")]
                          + ([("use_bias", False)] if not exact else [])),
                    "y = layer(x)  # x: (N, *spatial, C_in)"]
            if line := _kernel_line(kinfo, "layer.kernel"):
                code.insert(1, line)
        else:
            code = [_call("y = keras.ops.conv_transpose", [_Name("x"), _Name("kernel")],
                          [(k, args[k]) for k in ("strides", "padding", "output_padding",
                                                  "dilation_rate")])]
            if line := _kernel_line(kinfo, "kernel"):
                code.insert(0, line)
        if not exact:
            code += _crop_lines(extra, "y", "keras", True)
        return Translation("keras", op_name, args, {"crop": extra} if not exact else {},
                           exact, notes, "\n".join(code), kinfo)

    def _jax_padding(self) -> tuple[Any, Pairs]:
        # 'SAME'/'VALID' when they give the spec; else JAX's legacy pairs (padding of the
        # stretched input).  Negative pairs are expressible, but XLA on CPU (jax 0.10.2)
        # miscomputes convolutions with a (-p, +p) padding pair: they become 0 and the rest
        # of the crop an extra slice.
        ke, s = self.effective_kernel_size, self.stride
        for mode in ("SAME", "VALID"):
            if all(_split_to_pads(_jax_transpose_pads(kk, ss, mode), kk) == c
                   for kk, ss, c in zip(ke, s, self.crop, strict=True)):
                return mode, ((0, 0),) * self.ndim
        pads = [tuple(max(v, 0) for v in _split_to_pads(c, kk))
                for c, kk in zip(self.crop, ke, strict=True)]
        achieved = [_split_to_pads((lo, hi), kk) for (lo, hi), kk in zip(pads, ke, strict=True)]
        return [list(p) for p in pads], self._extra(achieved)

    def _jax_extra(self, translation: dict[str, Any], extra: Pairs, var: str,
                   framework: str) -> tuple[dict[str, Any], bool]:
        exact = all(e == (0, 0) for e in extra)
        if not exact:
            translation["notes"] += self._notes_extra(
                extra, "the padding of the stretched input would be negative: expressible in "
                "JAX, but XLA on CPU (jax 0.10.2) miscomputes convolutions with a (-p, +p) "
                "padding pair, so the extra elements are sliced off the result instead")
            translation["code"] += _crop_lines(extra, var, framework, True)
        return ({} if exact else {"crop": extra}), exact

    def to_jax(self) -> Translation:
        """``jax.lax.conv_transpose`` arguments (``transpose_kernel=True``).

        Explicit pairs are given in JAX's default (legacy) meaning, padding of the stretched
        input: ``(k_eff-1-before, k_eff-1-after)``; negative amounts (a crop larger than
        ``k_eff-1``) are sliced off the result instead (``extra``), because XLA on CPU
        miscomputes some negative paddings.  ``groups > 1`` translates to
        ``lax.conv_general_dilated`` (``lhs_dilation`` = stride, ``feature_group_count``) with
        the direct-form kernel, since ``lax.conv_transpose`` has no groups.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> TransposeSpec.from_torch(4, 3, stride=2, padding=1).to_jax().args["padding"]
        [[1, 1]]
        >>> TransposeSpec.from_tf(4, 3, 2, "SAME").to_jax().args["padding"]
        'SAME'
        """
        nd = self.ndim
        dn = _JAX_DN[nd]
        padding, extra = self._jax_padding()
        if self.groups > 1:
            pads = padding if not isinstance(padding, str) else [
                list(_split_to_pads(c, kk))
                for c, kk in zip(self.crop, self.effective_kernel_size, strict=True)]
            args: dict[str, Any] = {"window_strides": [1] * nd, "padding": pads,
                                    "lhs_dilation": _lst(self.stride),
                                    "rhs_dilation": _lst(self.dilation),
                                    "dimension_numbers": list(dn),
                                    "feature_group_count": self.groups}
            kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWIO", nd), True, True),
                                 self.groups)
            parts: dict[str, Any] = {"notes": [
                "lax.conv_transpose has no feature_group_count: the grouped transposed "
                "convolution is lax.conv_general_dilated with lhs_dilation = stride, padding "
                "(k_eff-1-before, k_eff-1-after) and the direct-form kernel (flipped, "
                "input/output swapped inside each group: upconv.conventions.direct_kernel), "
                "laid out HWIO"], "code": [
                "# rhs = np.moveaxis(upconv.conventions.direct_kernel(w_torch, groups), "
                "(0, 1), (-1, -2))",
                _call("y = jax.lax.conv_general_dilated", [_Name("x"), _Name("rhs")],
                      [(k, tuple(tuple(p) for p in v) if k == "padding" else
                        tuple(v) if isinstance(v, list) else v) for k, v in args.items()])]}
            ext, exact = self._jax_extra(parts, extra, "y", "jax")
            return Translation("jax", "jax.lax.conv_general_dilated", args, ext, exact,
                               parts["notes"], "\n".join(parts["code"]), kinfo)
        args = {"strides": _lst(self.stride), "padding": padding,
                "rhs_dilation": _lst(self.dilation), "dimension_numbers": list(dn),
                "transpose_kernel": True}
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWOI", nd), False, False), 1)
        parts = {"notes": [
            "with transpose_kernel=True JAX flips the kernel and swaps its I/O axes, computing "
            "the gradient definition of TF/Keras/PyTorch: pass the "
            f"{kernel_layout('HWOI', nd)} kernel (TF's filters) labelled {dn[1]}"], "code": []}
        if not isinstance(padding, str):
            parts["notes"].append(
                "explicit pairs are JAX's default (legacy) meaning, padding of the "
                "stride-dilated input: (k_eff-1-before, k_eff-1-after); with "
                "use_consistent_padding=True the crop itself would be passed, "
                f"{[list(c) for c in self.crop]}")
        if line := _kernel_line(kinfo, "rhs"):
            parts["code"].append(line)
        parts["code"].append(_call(
            "y = jax.lax.conv_transpose", [_Name("x"), _Name("rhs")],
            [("strides", tuple(self.stride)),
             ("padding", padding if isinstance(padding, str)
              else tuple(tuple(p) for p in padding)),
             ("rhs_dilation", tuple(self.dilation)), ("dimension_numbers", dn),
             ("transpose_kernel", True)]))
        ext, exact = self._jax_extra(parts, extra, "y", "jax")
        return Translation("jax", "jax.lax.conv_transpose", args, ext, exact, parts["notes"],
                           "\n".join(parts["code"]), kinfo)

    def to_flax(self) -> Translation:
        """``flax.linen.ConvTranspose`` arguments (``transpose_kernel=False``).

        Flax passes ``padding`` to ``lax.conv_transpose`` in the legacy meaning (padding of
        the stretched input) and, with ``transpose_kernel=False``, consumes the direct-form
        kernel (flipped in space, ``(*k, in, out)``).  ``groups > 1``: ``flax.linen.Conv``
        with ``input_dilation`` and ``feature_group_count`` (ConvTranspose has no groups).
        Negative paddings become an extra slice, as in :meth:`to_jax`.  Flax is not
        installed here; its arguments map one-to-one onto the JAX calls checked in the
        tests.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'crop': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> t = TransposeSpec.from_torch(4, 3, stride=2, padding=1).to_flax()
        >>> t.args["padding"], t.kernel["flip"]
        ([[1, 1]], True)
        """
        nd = self.ndim
        _, cout = self._names()
        padding, extra = self._jax_padding()
        if self.groups > 1:
            pads = padding if not isinstance(padding, str) else [
                list(_split_to_pads(c, kk))
                for c, kk in zip(self.crop, self.effective_kernel_size, strict=True)]
            args: dict[str, Any] = {"features": self.out_channels,
                                    "kernel_size": _lst(self.kernel_size), "strides": [1] * nd,
                                    "padding": pads, "input_dilation": _lst(self.stride),
                                    "kernel_dilation": _lst(self.dilation),
                                    "feature_group_count": self.groups}
            kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWIO", nd), True, True),
                                 self.groups)
            parts: dict[str, Any] = {"notes": [
                "flax.linen.ConvTranspose has no feature_group_count: a grouped transposed "
                "convolution is flax.linen.Conv over the zero-inserted input (input_dilation "
                "= stride) with the direct-form kernel"], "code": [
                _call("layer = flax.linen.Conv", [cout],
                      [(k, v) for k, v in args.items() if k != "features"]),
                "y = layer.apply(variables, x)"]}
            ext, exact = self._jax_extra(parts, extra, "y", "flax")
            return Translation("flax", "flax.linen.Conv", args, ext, exact, parts["notes"],
                               "\n".join(parts["code"]), kinfo)
        args = {"features": self.out_channels, "kernel_size": _lst(self.kernel_size),
                "strides": _lst(self.stride), "padding": padding,
                "kernel_dilation": _lst(self.dilation), "transpose_kernel": False}
        kinfo = _kernel_info(self._src_kernel(), (kernel_layout("HWIO", nd), True, False), 1)
        parts = {"notes": [
            "Flax calls lax.conv_transpose without use_consistent_padding: explicit pairs pad "
            "the stride-dilated input, (k_eff-1-before, k_eff-1-after)",
            "transpose_kernel=False: the kernel is the direct form, flipped in space, "
            "(*k, in_features, features)"], "code": []}
        if line := _kernel_line(kinfo, "params['kernel']"):
            parts["code"].append(line)
        parts["code"] += [_call("layer = flax.linen.ConvTranspose", [cout],
                                [(k, v) for k, v in args.items() if k != "features"]),
                          "y = layer.apply(variables, x)"]
        ext, exact = self._jax_extra(parts, extra, "y", "flax")
        return Translation("flax", "flax.linen.ConvTranspose", args, ext, exact,
                           parts["notes"], "\n".join(parts["code"]), kinfo)

    def to(self, framework: str) -> Translation:
        """Dispatch to ``to_<framework>()`` (names as :func:`check_framework` accepts).

        Examples
        --------
        >>> TransposeSpec.from_torch(4, 3).to("PyTorch").op
        'ConvTranspose1d'
        """
        fw = check_framework(framework, "TransposeSpec.to")
        method: Any = getattr(self, f"to_{fw}")
        result: Translation = method()
        return result


def _tf_output_shape(value: Any, nd: int, channels_last: bool, func: str) -> tuple[int, ...]:
    value = _seq(value)
    if _is_int(value) or isinstance(value, list | tuple) and len(value) == nd:
        return per_dim(value, nd, "output_shape", func)
    if not isinstance(value, list | tuple) or len(value) != nd + 2:
        raise ShapeError(
            f"{func}: output_shape={_show(value)} must give the {nd} spatial size"
            f"{'s' if nd > 1 else ''} or the full shape ({nd + 2} entries)"
        )
    spatial = value[1:-1] if channels_last else value[2:]
    return per_dim(spatial, nd, "output_shape", func)


def _onnx_output_shape(value: Any, nd: int, func: str) -> tuple[int, ...]:
    value = _seq(value)
    if isinstance(value, list | tuple) and len(value) == nd + 2:
        value = value[2:]
    return _ints(value, nd, "output_shape", func)


def _jax_rhs_spec(dimension_numbers: Any, nd: int, func: str, *, default: str) -> str:
    if dimension_numbers is None:
        return default
    specs = _jax_specs(dimension_numbers, nd, func)
    return specs[1]


def _jax_specs(dimension_numbers: Any, nd: int, func: str) -> tuple[str, str, str]:
    dn = _seq(dimension_numbers)
    ok = (isinstance(dn, list | tuple) and len(dn) == 3
          and all(isinstance(x, str) and len(x) == nd + 2 for x in dn))
    if ok:
        lhs, rhs, out = dn
        ok = (sorted(lhs.replace("N", "").replace("C", "")) == sorted(rhs.replace("O", "")
              .replace("I", "")) == sorted(out.replace("N", "").replace("C", ""))
              and all(len(set(x)) == len(x) for x in dn)
              and lhs.count("N") == lhs.count("C") == out.count("N") == out.count("C")
              == rhs.count("O") == rhs.count("I") == 1)
    if not ok:
        raise ShapeError(
            f"{func}: dimension_numbers={_show(dimension_numbers)} must be three strings of "
            f"length {nd + 2} such as {_JAX_DN[nd]} (lhs with N and C, rhs with O and I, "
            "out with N and C, the same spatial letters in each)"
        )
    return dn[0], dn[1], dn[2]


def _jax_perms(dimension_numbers: Any, nd: int, func: str,
               default: tuple[str, str, str] | None) -> tuple[tuple[int, ...], ...]:
    # JAX's conv_general_permutations: (N, C, spatial...) positions of lhs/out and
    # (O, I, spatial...) of rhs; spatial dims ordered as in the rhs spec.
    if dimension_numbers is None and default is None:
        iota = tuple(range(nd + 2))
        return iota, iota, iota
    lhs, rhs, out = _jax_specs(dimension_numbers if dimension_numbers is not None else default,
                               nd, func)

    def perm(spec: str, pair: str) -> tuple[int, ...]:
        spatial = [i for i, c in enumerate(spec) if c not in pair]
        if spec is not rhs:
            spatial.sort(key=lambda i: rhs.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1]), *spatial)

    return perm(lhs, "NC"), perm(rhs, "OI"), perm(out, "NC")


# =============================================================================================
# Convolution


@dataclass(frozen=True)
class ConvSpec:
    """A convolution, framework-neutral, one entry per spatial dimension.

    Attributes
    ----------
    input_size, kernel_size, stride, dilation : tuple of int
        ``L``, ``k``, ``s``, ``d`` per spatial dimension.
    padding : tuple of (int, int)
        ``(before, after)`` zeros added to the input (negative = elements removed).
    groups : int
    in_channels, out_channels : int or None
    kernel_layout : str
        The source framework's kernel layout (``O`` = output channels); ``""`` = ``OI`` +
        spatial (PyTorch/ONNX).
    source : str
    output_size : tuple of int
        ``floor((L + before + after - k_eff) / s) + 1`` (computed).

    Examples
    --------
    >>> spec = ConvSpec.from_tf(6, 3, 2, "SAME")
    >>> spec.padding, spec.output_size
    (((0, 1),), (3,))
    >>> spec.to_torch().extra
    {'pad_input': ((0, 1),)}
    """

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Pairs
    groups: int = 1
    in_channels: int | None = None
    out_channels: int | None = None
    kernel_layout: str = ""
    source: str = "torch"
    output_size: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        func = "ConvSpec"
        size = _size(self.input_size, func)
        nd = len(size)
        k = per_dim(_seq(self.kernel_size), nd, "kernel_size", func)
        s = per_dim(_seq(self.stride), nd, "stride", func)
        d = per_dim(_seq(self.dilation), nd, "dilation", func)
        pad = _pairs(self.padding, nd, "padding", func, allow_negative=True)
        groups = check_int(self.groups, "groups", func, minimum=1)
        for name in ("in_channels", "out_channels"):
            c = _channels(getattr(self, name), name, func)
            if c is not None and c % groups:
                raise ShapeError(f"{func}: groups={groups} does not divide {name}={c}")
        _check_conv_out(func, size, k, pad, d)
        out = [(L + b + a - _keff(kk, dd)) // ss + 1
               for L, kk, ss, dd, (b, a) in zip(size, k, s, d, pad, strict=True)]
        layout = self.kernel_layout or kernel_layout("OIHW", nd)
        for name, value in (("input_size", size), ("kernel_size", k), ("stride", s),
                            ("dilation", d), ("padding", pad), ("groups", groups),
                            ("kernel_layout", layout), ("output_size", tuple(out))):
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
        """The spec as JSON-ready data (tuples become lists), ``output_size`` included.

        Examples
        --------
        >>> ConvSpec.from_torch(5, 3).to_dict()["output_size"]
        [3]
        """
        return _jsonable({f.name: getattr(self, f.name) for f in fields(self)})

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_torch(
        cls,
        input_size: Any,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        *,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> ConvSpec:
        """PyTorch ``nn.ConvNd`` / ``F.convNd``.

        ``padding``: int(s), ``'same'`` (stride 1, the odd element at the end) or ``'valid'``
        (lower case, as PyTorch).

        Returns
        -------
        ConvSpec
            The framework-neutral description (``padding`` per spatial dimension).

        Examples
        --------
        >>> ConvSpec.from_torch(5, 4, padding="same").padding
        ((1, 2),)
        """
        func = "ConvSpec.from_torch"
        size = _size(input_size, func)
        nd = len(size)
        if isinstance(padding, str):
            check_choice(padding, ("same", "valid"), "padding", func)
        else:
            padding = per_dim(_seq(padding), nd, "padding", func, minimum=0)
        g = conv_geometry(size, _seq(kernel_size), _seq(stride), padding, _seq(dilation),
                          func=func)
        return cls(size, g.kernel_size, g.stride, g.dilation, g.padding, groups,
                   _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func),
                   kernel_layout("OIHW", nd), "torch")

    @classmethod
    def from_tf(
        cls,
        input_size: Any,
        kernel_size: Any,
        strides: Any = 1,
        padding: Any = "VALID",
        dilations: Any = None,
        *,
        data_format: str | None = None,
        groups: int = 1,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> ConvSpec:
        """TensorFlow ``tf.nn.convolution`` / ``conv2d``.

        ``padding``: ``'SAME'`` (output ``ceil(L/s)``, the odd padding element at the end),
        ``'VALID'`` or explicit pairs (may include the zero batch/channel pairs).  TF infers
        ``groups`` from the filters (``C_in / filters.shape[-2]``); give it here to record it.

        Returns
        -------
        ConvSpec
            The framework-neutral description (``padding`` per spatial dimension).

        Examples
        --------
        >>> ConvSpec.from_tf((7, 8), 3, 2, "SAME").padding
        ((1, 1), (0, 1))
        """
        func = "ConvSpec.from_tf"
        size = _size(input_size, func)
        nd = len(size)
        cl = parse_data_format(data_format or _TF_FORMATS[nd][0], nd, func)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = _ints(strides, nd, "strides", func, channels_last=cl)
        d = _ints(dilations, nd, "dilations", func, default=1, channels_last=cl)
        if isinstance(padding, str):
            check_choice(padding, ("SAME", "VALID"), "padding", func)
            pad = _string_pads(padding, size, k, s, d)
        else:
            pad = _pairs(padding, nd, "padding", func, allow_negative=False, channels_last=cl)
        _check_conv_out(func, size, k, pad, d)
        return cls(size, k, s, d, pad, groups, _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func), kernel_layout("HWIO", nd),
                   "tf")

    @classmethod
    def from_keras(
        cls,
        input_size: Any,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        dilation_rate: Any = 1,
        groups: int = 1,
        *,
        filters: int | None = None,
        in_channels: int | None = None,
    ) -> ConvSpec:
        """Keras 3 ``Conv{1,2,3}D``.

        ``padding``: ``'valid'``, ``'same'`` (TF's SAME) or, 1-d only, ``'causal'``
        (``d*(k-1)`` zeros before); any case.

        Returns
        -------
        ConvSpec
            The framework-neutral description (``padding`` per spatial dimension).

        Examples
        --------
        >>> ConvSpec.from_keras(8, 3, padding="causal", dilation_rate=2).padding
        ((4, 0),)
        """
        func = "ConvSpec.from_keras"
        size = _size(input_size, func)
        nd = len(size)
        pad_name = _keras_pad(padding, func, causal=nd == 1)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = per_dim(_seq(strides), nd, "strides", func)
        d = per_dim(_seq(dilation_rate), nd, "dilation_rate", func)
        if pad_name == "causal":
            pad: Pairs = ((_keff(k[0], d[0]) - 1, 0),)
        else:
            pad = _string_pads(pad_name.upper(), size, k, s, d)
        _check_conv_out(func, size, k, pad, d)
        return cls(size, k, s, d, pad, groups, _channels(in_channels, "in_channels", func),
                   _channels(filters, "filters", func), kernel_layout("HWIO", nd), "keras")

    @classmethod
    def from_jax(
        cls,
        input_size: Any,
        kernel_size: Any,
        window_strides: Any,
        padding: Any,
        lhs_dilation: Any = None,
        rhs_dilation: Any = None,
        dimension_numbers: Any = None,
        feature_group_count: int = 1,
    ) -> ConvSpec:
        """JAX ``jax.lax.conv_general_dilated`` without ``lhs_dilation``.

        ``padding``: ``'SAME'``, ``'SAME_LOWER'``, ``'VALID'`` (any case, as JAX) or
        ``(lo, hi)`` pairs, negative allowed (elements removed).  ``lhs_dilation > 1`` is a
        transposed convolution: see :meth:`TransposeSpec.from_jax_general`.

        Returns
        -------
        ConvSpec
            The framework-neutral description (``padding`` per spatial dimension).

        Examples
        --------
        >>> ConvSpec.from_jax(6, 3, (2,), "SAME_LOWER").padding
        ((1, 0),)
        """
        func = "ConvSpec.from_jax"
        size = _size(input_size, func)
        nd = len(size)
        k = per_dim(_seq(kernel_size), nd, "kernel_size", func)
        s = _ints(window_strides, nd, "window_strides", func)
        d = _ints(rhs_dilation, nd, "rhs_dilation", func, default=1)
        ld = _ints(lhs_dilation, nd, "lhs_dilation", func, default=1)
        if any(v != 1 for v in ld):
            raise ShapeError(
                f"{func}: lhs_dilation={_show(lhs_dilation)} inserts zeros between input "
                "elements: that is a transposed convolution; use "
                "TransposeSpec.from_jax_general (window_strides 1) or jax_conv"
            )
        if isinstance(padding, str):
            mode = padding.upper()
            if mode not in ("SAME", "SAME_LOWER", "VALID"):
                raise ShapeError(
                    f"{func}: padding={padding!r} is not accepted; accepted values: 'SAME', "
                    "'SAME_LOWER', 'VALID' (any case) or (low, high) pairs"
                )
            pad = _string_pads(mode, size, k, s, d)
        else:
            pad = _pairs(padding, nd, "padding", func, allow_negative=True)
        rhs = _jax_rhs_spec(dimension_numbers, nd, func, default="OI" + _SP[nd])
        _check_conv_out(func, size, k, pad, d)
        return cls(size, k, s, d, pad, feature_group_count, None, None, rhs, "jax")

    @classmethod
    def from_onnx(
        cls,
        input_size: Any,
        kernel_shape: Any,
        strides: Any = None,
        pads: Any = None,
        auto_pad: str = "NOTSET",
        dilations: Any = None,
        *,
        group: int = 1,
        in_channels: int | None = None,
        out_channels: int | None = None,
    ) -> ConvSpec:
        """ONNX ``Conv``.

        ``pads`` ``[begin..., end...]`` or ``auto_pad`` ``SAME_UPPER`` (the odd element at the
        end, TF's SAME), ``SAME_LOWER`` (at the start) or ``VALID``.  ONNX Runtime 1.31.1
        refuses ``SAME_*`` together with ``dilations > 1``, so that raises here too (with the
        equivalent ``pads``).

        Returns
        -------
        ConvSpec
            The framework-neutral description (``padding`` per spatial dimension).

        Examples
        --------
        >>> ConvSpec.from_onnx(6, [3], [2], auto_pad="SAME_LOWER").padding
        ((1, 0),)
        """
        func = "ConvSpec.from_onnx"
        size = _size(input_size, func)
        nd = len(size)
        check_choice(auto_pad, ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"), "auto_pad",
                     func)
        k = _ints(kernel_shape, nd, "kernel_shape", func)
        s = _onnx_ints(strides, nd, "strides", func, 1)
        d = _onnx_ints(dilations, nd, "dilations", func, 1)
        if pads is not None:
            if auto_pad != "NOTSET":
                raise ShapeError(
                    f"{func}: pads={_show(pads)} cannot be used with auto_pad={auto_pad!r}; "
                    "give pads with auto_pad='NOTSET', or drop pads"
                )
            pad = _onnx_pads(pads, nd, func)
        elif auto_pad in ("NOTSET", "VALID"):
            pad = ((0, 0),) * nd
        else:
            pad = _string_pads("SAME" if auto_pad == "SAME_UPPER" else "SAME_LOWER", size, k,
                               s, d)
            if any(v > 1 for v in d):
                flat = [b for b, _ in pad] + [a for _, a in pad]
                raise ShapeError(
                    f"{func}: auto_pad={auto_pad!r} with dilations={_show(list(d))}: ONNX "
                    "Runtime refuses SAME auto_pad with dilation in Conv ('Dilation not "
                    f"supported for AutoPadType::{auto_pad}'); give the same padding "
                    f"explicitly, pads={flat}"
                )
        _check_conv_out(func, size, k, pad, d)
        return cls(size, k, s, d, pad, group, _channels(in_channels, "in_channels", func),
                   _channels(out_channels, "out_channels", func), kernel_layout("OIHW", nd),
                   "onnx")

    # -- translators ------------------------------------------------------------------------

    def _names(self) -> tuple[Any, Any]:
        cin = self.in_channels if self.in_channels is not None else _Name("in_channels")
        cout = self.out_channels if self.out_channels is not None else _Name("out_channels")
        return cin, cout

    def _kinfo(self, target: str) -> dict[str, Any]:
        return _kernel_info((self.kernel_layout, False, False),
                            (kernel_layout(target, self.ndim), False, False), self.groups)

    def _extra_notes(self, extra: Pairs, why: str) -> list[str]:
        return [why, f"pad the input by {extra} (before, after) per spatial dimension first "
                "(negative values remove elements)"]

    def _matches(self, mode: str) -> bool:
        return _string_pads(mode, self.input_size, self.kernel_size, self.stride,
                            self.dilation) == self.padding

    def to_torch(self) -> Translation:
        """``torch.nn.ConvNd`` arguments.

        Symmetric ints, ``'same'`` (stride 1), or an extra ``F.pad`` of the input for
        asymmetric or negative padding.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_tf(5, 4, 1, "SAME").to_torch().args["padding"]
        'same'
        """
        nd = self.ndim
        exact = True
        extra: Pairs = ((0, 0),) * nd
        if all(b == a >= 0 for b, a in self.padding):
            padding: Any = _v([b for b, _ in self.padding])
        elif all(s == 1 for s in self.stride) and self._matches("TORCH_SAME"):
            padding = "same"
        else:
            exact = False
            sym = [max(min(b, a), 0) for b, a in self.padding]
            padding = _v(sym)
            extra = tuple((b - p, a - p) for (b, a), p in zip(self.padding, sym, strict=True))
        cin, cout = self._names()
        args = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": _v(self.kernel_size), "stride": _v(self.stride),
                "padding": padding, "dilation": _v(self.dilation), "groups": self.groups}
        notes = ["PyTorch pads symmetrically (ints) or, for padding='same' (stride 1 only), "
                 "puts the odd element at the end"]
        if not exact:
            notes += self._extra_notes(extra, f"the padding {self.padding} is asymmetric or "
                                       "negative")
        kinfo = self._kinfo("OIHW")
        code = []
        if not exact:
            code += _pad_lines(extra, "x", "torch", False)
        code.append(_call(f"conv = torch.nn.Conv{nd}d", [cin, cout],
                          [(k, args[k]) for k in ("kernel_size", "stride", "padding",
                                                  "dilation", "groups")]))
        if line := _kernel_line(kinfo, "conv.weight"):
            code.append(line)
        code.append("y = conv(x)")
        return Translation("torch", f"Conv{nd}d", args, {"pad_input": extra} if not exact
                           else {}, exact, notes, "\n".join(code), kinfo)

    def to_tf(self) -> Translation:
        """``tf.nn.convolution`` (1-d/3-d) or ``tf.nn.conv2d`` (explicit padding) arguments.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_torch((5, 5), 3, stride=2, padding=(0, 2)).to_tf().args["padding"]
        [[0, 0], [2, 2]]
        """
        nd = self.ndim
        exact = True
        extra: Pairs = ((0, 0),) * nd
        if self._matches("SAME"):
            padding: Any = "SAME"
        elif all(p == (0, 0) for p in self.padding):
            padding = "VALID"
        elif nd == 2:
            pos = tuple((max(b, 0), max(a, 0)) for b, a in self.padding)
            padding = _pairs_list(pos)
            extra = tuple((b - pb, a - pa) for (b, a), (pb, pa) in
                          zip(self.padding, pos, strict=True))
            exact = all(e == (0, 0) for e in extra)
        else:
            padding, exact, extra = "VALID", False, self.padding
        fmt = _TF_FORMATS[nd][0]
        op = "tf.nn.conv2d" if nd == 2 else "tf.nn.convolution"
        args = {"strides": _lst(self.stride), "padding": padding, "data_format": fmt,
                "dilations": _lst(self.dilation)}
        notes = ["TF's SAME pads max((ceil(L/s)-1)*s + k_eff - L, 0) with the odd element at "
                 "the end; filters are (*k, in_channels/groups, out_channels) and groups are "
                 "inferred from them"]
        if not exact:
            why = ("TF's explicit padding cannot remove elements" if nd == 2 else
                   "only tf.nn.conv2d takes explicit padding")
            notes += self._extra_notes(extra, why)
        if any(s > 1 for s in self.stride) and any(d > 1 for d in self.dilation):
            notes.append("TF's tf.nn.convolution refuses strides > 1 together with "
                         "dilations > 1 (documented; TensorFlow is not installed here)")
        kinfo = self._kinfo("HWIO")
        tf_pad = padding if isinstance(padding, str) else [[0, 0]] + padding + [[0, 0]]
        code = []
        if not exact:
            code += _pad_lines(extra, "x", "tf", True)
        code.append(_call(f"y = {op}", [_Name("x"), _Name("filters")],
                          [("strides", _lst(self.stride)), ("padding", tf_pad),
                           ("data_format", fmt), ("dilations", _lst(self.dilation))]))
        if line := _kernel_line(kinfo, "filters"):
            code.insert(0, line)
        return Translation("tf", op, args, {"pad_input": extra} if not exact else {}, exact,
                           notes, "\n".join(code), kinfo)

    def to_keras(self) -> Translation:
        """``keras.layers.Conv{1,2,3}D`` arguments.

        ``same``, ``valid`` or 1-d ``causal``; else ``valid`` after a ``ZeroPadding`` /
        ``Cropping`` layer.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_onnx(6, [3], [2], auto_pad="SAME_UPPER").to_keras().args["padding"]
        'same'
        """
        nd = self.ndim
        exact = True
        extra: Pairs = ((0, 0),) * nd
        layer = not (any(s > 1 for s in self.stride) and any(d > 1 for d in self.dilation))
        if self._matches("SAME"):
            padding = "same"
        elif all(p == (0, 0) for p in self.padding):
            padding = "valid"
        elif nd == 1 and layer and self.padding == ((self.effective_kernel_size[0] - 1, 0),):
            padding = "causal"
        else:
            padding, exact, extra = "valid", False, self.padding
        op = f"keras.layers.Conv{nd}D" if layer else "keras.ops.conv"
        args = {"filters": self.out_channels, "kernel_size": _v(self.kernel_size),
                "strides": _v(self.stride), "padding": padding,
                "dilation_rate": _v(self.dilation), "groups": self.groups}
        notes = ["Keras's 'same' is TF's SAME (the odd padding element at the end)"]
        if not exact:
            notes += self._extra_notes(extra, f"the padding {self.padding} is neither 'same' "
                                       "nor 'valid'")
        if not layer:
            notes.append("the Keras layers refuse strides > 1 with dilation_rate > 1; "
                         "keras.ops.conv computes it (no groups argument: inferred from the "
                         "kernel)")
        kinfo = self._kinfo("HWIO")
        _, cout = self._names()
        code = []
        if not exact:
            code += _pad_lines(extra, "x", "keras", True)
        if layer:
            code.append(_call(f"layer = keras.layers.Conv{nd}D", [cout],
                              [(k, args[k]) for k in ("kernel_size", "strides", "padding",
                                                      "dilation_rate", "groups")]))
            code.append("y = layer(x)")
        else:
            code.append(_call("y = keras.ops.conv", [_Name("x"), _Name("kernel")],
                              [(k, args[k]) for k in ("strides", "padding",
                                                      "dilation_rate")]))
        if line := _kernel_line(kinfo, "kernel"):
            code.insert(0, line)
        return Translation("keras", op, args, {"pad_input": extra} if not exact else {}, exact,
                           notes, "\n".join(code), kinfo)

    def _jax_padding(self) -> tuple[Any, Pairs]:
        # JAX accepts negative padding, but XLA on CPU (jax 0.10.2) miscomputes
        # conv_general_dilated with a (-p, +p) pair: negative amounts become an input slice.
        for mode in ("SAME", "SAME_LOWER", "VALID"):
            if self._matches(mode):
                return mode, ((0, 0),) * self.ndim
        pos = tuple((max(b, 0), max(a, 0)) for b, a in self.padding)
        extra = tuple((b - pb, a - pa) for (b, a), (pb, pa) in zip(self.padding, pos,
                                                                  strict=True))
        return _pairs_list(pos), extra

    def _jax_notes(self, extra: Pairs) -> list[str]:
        if all(e == (0, 0) for e in extra):
            return []
        return self._extra_notes(extra, "negative padding is expressible in JAX, but XLA on "
                                 "CPU (jax 0.10.2) miscomputes conv_general_dilated with a "
                                 "(-p, +p) padding pair, so the input is sliced instead")

    def to_jax(self) -> Translation:
        """``jax.lax.conv_general_dilated`` arguments.

        Exact for non-negative padding; negative padding (which XLA on CPU miscomputes for
        ``(-p, +p)`` pairs in jax 0.10.2) becomes a slice of the input in ``extra``.

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_torch(5, 3, padding=1).to_jax().args["padding"]
        'SAME'
        """
        nd = self.ndim
        dn = _JAX_DN[nd]
        padding, extra = self._jax_padding()
        exact = all(e == (0, 0) for e in extra)
        args = {"window_strides": _lst(self.stride), "padding": padding,
                "rhs_dilation": _lst(self.dilation), "dimension_numbers": list(dn),
                "feature_group_count": self.groups}
        kinfo = self._kinfo("HWIO")
        notes = ["conv_general_dilated's default dimension_numbers are channels first "
                 "(NCHW, OIHW); channels-last ones are given explicitly"]
        notes += self._jax_notes(extra)
        code = [] if exact else _pad_lines(extra, "x", "jax", True)
        code += [_call("y = jax.lax.conv_general_dilated", [_Name("x"), _Name("rhs")],
                      [("window_strides", tuple(self.stride)),
                       ("padding", padding if isinstance(padding, str)
                        else tuple(tuple(p) for p in padding)),
                       ("rhs_dilation", tuple(self.dilation)), ("dimension_numbers", dn),
                       ("feature_group_count", self.groups)])]
        if line := _kernel_line(kinfo, "rhs"):
            code.insert(0, line)
        return Translation("jax", "jax.lax.conv_general_dilated", args,
                           {} if exact else {"pad_input": extra}, exact, notes,
                           "\n".join(code), kinfo)

    def to_flax(self) -> Translation:
        """``flax.linen.Conv`` arguments (explicit or string padding).

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_torch(5, 3).to_flax().args["padding"]
        'VALID'
        """
        padding, extra = self._jax_padding()
        exact = all(e == (0, 0) for e in extra)
        args = {"features": self.out_channels, "kernel_size": _lst(self.kernel_size),
                "strides": _lst(self.stride), "padding": padding,
                "kernel_dilation": _lst(self.dilation), "feature_group_count": self.groups}
        kinfo = self._kinfo("HWIO")
        _, cout = self._names()
        code = [] if exact else _pad_lines(extra, "x", "flax", True)
        code.append(_call("layer = flax.linen.Conv", [cout],
                          [(k, v) for k, v in args.items() if k != "features"]))
        if line := _kernel_line(kinfo, "params['kernel']"):
            code.insert(0, line)
        notes = ["Flax's Conv defaults to padding='SAME'; the padding is given explicitly"]
        notes += self._jax_notes(extra)
        return Translation("flax", "flax.linen.Conv", args, {} if exact else {"pad_input": extra},
                           exact, notes, "\n".join(code), kinfo)

    def to_onnx(self) -> Translation:
        """ONNX ``Conv`` attributes (explicit ``pads``; negative padding needs an extra crop).

        Returns
        -------
        Translation
            ``args`` in the framework's own names; ``extra = {'pad_input': ...}`` and
            ``exact=False`` when the framework cannot express the spec alone.

        Examples
        --------
        >>> ConvSpec.from_tf(6, 3, 2, "SAME").to_onnx().args["pads"]
        [0, 1]
        """
        pos = tuple((max(b, 0), max(a, 0)) for b, a in self.padding)
        extra = tuple((b - pb, a - pa) for (b, a), (pb, pa) in zip(self.padding, pos,
                                                                  strict=True))
        exact = all(e == (0, 0) for e in extra)
        args = {"kernel_shape": _lst(self.kernel_size), "strides": _lst(self.stride),
                "pads": [b for b, _ in pos] + [a for _, a in pos],
                "dilations": _lst(self.dilation), "group": self.groups}
        notes = ["ONNX pads = [x1_begin, ..., x1_end, ...]"]
        if exact:
            for mode, name in (("SAME", "SAME_UPPER"), ("SAME_LOWER", "SAME_LOWER")):
                if self._matches(mode) and any(p != (0, 0) for p in self.padding):
                    notes.append(f"equivalently auto_pad={name!r} without pads" + (
                        "; but ONNX Runtime refuses SAME auto_pad with dilation in Conv"
                        if any(d > 1 for d in self.dilation) else ""))
        else:
            notes += self._extra_notes(extra, "ONNX pads cannot remove elements")
        kinfo = self._kinfo("OIHW")
        code = []
        if not exact:
            code.append("# before the Conv node, on X (N, C, *spatial), e.g. with a Slice node:")
            code += _pad_lines(extra, "x", "onnx", False)
        code.append(_call("node = onnx.helper.make_node", ["Conv", ["X", "W"], ["Y"]],
                          list(args.items())))
        if line := _kernel_line(kinfo, "W"):
            code.append(line)
        return Translation("onnx", "Conv", args, {"pad_input": extra} if not exact else {},
                           exact, notes, "\n".join(code), kinfo)

    def to(self, framework: str) -> Translation:
        """Dispatch to ``to_<framework>()``.

        Examples
        --------
        >>> ConvSpec.from_torch(5, 3).to("onnx").op
        'Conv'
        """
        fw = check_framework(framework, "ConvSpec.to")
        method: Any = getattr(self, f"to_{fw}")
        result: Translation = method()
        return result


def _string_pads(mode: str, size: Sequence[int], k: Sequence[int], s: Sequence[int],
                 d: Sequence[int]) -> Pairs:
    out = []
    for L, kk, ss, dd in zip(size, k, s, d, strict=True):
        ke = _keff(kk, dd)
        if mode == "VALID":
            out.append((0, 0))
        elif mode == "TORCH_SAME":
            t = ke - 1
            out.append((t // 2, t - t // 2))
        else:
            b, a = _tf_same(L, ke, ss)
            out.append((a, b) if mode == "SAME_LOWER" else (b, a))
    return tuple(out)


# =============================================================================================
# Compute: what each framework computes, in its layouts


def _run_transpose(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None,
                   spec: TransposeSpec) -> np.ndarray:
    # x (N, C_in, *L), w (C_in, C_out/G, *k): crop what conv_transpose can crop, then window
    # (zeros where the spec reaches past the full output), then the bias everywhere.
    full = spec.full_size
    pads = []
    for (b, a), f in zip(spec.crop, full, strict=True):
        pb = min(max(b, 0), f - 1)
        pads.append((pb, min(max(a, 0), f - 1 - pb)))
    y = _np_conv_transpose(x, w, None, spec.stride, tuple(pads), 0, spec.groups, spec.dilation)
    y = _window(y, [b - pb for (b, _), (pb, _) in zip(spec.crop, pads, strict=True)],
                spec.output_size)
    if bias is not None:
        y = y + bias.reshape(-1, *(1,) * spec.ndim).astype(y.dtype)
    return y


def _run_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, spec: ConvSpec) -> np.ndarray:
    pad = spec.padding
    if any(b < 0 or a < 0 for b, a in pad):
        size = x.shape[2:]
        x = _window(x, [-b for b, _ in pad],
                    [L + b + a for L, (b, a) in zip(size, pad, strict=True)])
        pad = ((0, 0),) * spec.ndim
    return _np_conv(x, w, bias, spec.stride, pad, spec.dilation, spec.groups)


def _arrays(func: str, x: Any, w: Any, names: tuple[str, str], bias: Any = None,
            bias_name: str = "bias") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    xa = float_array(x, names[0], func)
    wa = float_array(w, names[1], func)
    if xa.ndim not in (3, 4, 5) or wa.ndim != xa.ndim:
        raise ShapeError(
            f"{func}: {names[0]} has shape {xa.shape} and {names[1]} has shape {wa.shape}; "
            "both must have rank 3, 4 or 5 (batch/channels or in/out plus 1 to 3 spatial "
            "dimensions)"
        )
    if xa.dtype != wa.dtype:
        raise TypeError(
            f"{func}: {names[0]} has dtype {xa.dtype} but {names[1]} has dtype {wa.dtype}; "
            "cast one so both match"
        )
    b = None if bias is None else float_array(bias, bias_name, func)
    return xa, wa, b


def _check_channels(func: str, have: int, want: int, what: str) -> None:
    if have != want:
        raise ShapeError(f"{func}: {what} (got {have}, expected {want})")


def tf_conv_transpose(
    input: np.ndarray,  # noqa: A002 - TensorFlow's argument name
    filters: np.ndarray,
    output_shape: Any,
    strides: Any,
    padding: Any = "SAME",
    data_format: str | None = None,
    dilations: Any = None,
) -> np.ndarray:
    """What ``tf.nn.conv_transpose`` computes (N-d; 2-d = ``tf.nn.conv2d_transpose``).

    Parameters
    ----------
    input : (N, *L, C_in) ndarray
        Channels last by default (``data_format`` ``'NWC'``/``'NHWC'``/``'NDHWC'``, or the
        channels-first ``'NC...'``).
    filters : (*k, C_out, C_in) ndarray
        TF's transposed-convolution layout (HWOI); no groups.
    output_shape : sequence of int
        The full output shape (or only its spatial sizes); see
        :meth:`TransposeSpec.from_tf` for the valid range.
    strides, dilations : int or sequence
        Per spatial dimension (or TF's ``N + 2`` form).
    padding : {'SAME', 'VALID'} or sequence of (before, after)

    Returns
    -------
    (N, *O, C_out) ndarray
        In ``data_format``; ``O = output_shape``.

    See Also
    --------
    tf_conv : the forward convolution it is the gradient of.
    TransposeSpec.from_tf : the rule.

    Notes
    -----
    ``y = full[before : before + O]`` (zeros past the full output) with ``before`` from TF's
    forward padding of ``O``; TensorFlow is not installed here, the rule is checked through
    Keras and JAX (which implement it) and ONNX Runtime.

    Examples
    --------
    >>> x = np.arange(3.0).reshape(1, 3, 1)
    >>> tf_conv_transpose(x, np.ones((3, 1, 1)), [1, 6, 1], 2)[0, :, 0]
    array([0., 0., 1., 1., 3., 2.])
    """
    func = "tf_conv_transpose"
    x, w, _ = _arrays(func, input, filters, ("input", "filters"))
    nd = x.ndim - 2
    cl = parse_data_format(data_format or _TF_FORMATS[nd][0], nd, func)
    xc = to_channels_first(x, cl)
    _check_channels(func, w.shape[-1], xc.shape[1],
                    "filters' last axis (in_channels, layout [*k, out, in]) must match the "
                    "input channels")
    shape = _seq(output_shape)
    if isinstance(shape, list | tuple) and len(shape) == nd + 2:
        n_out, c_out = (shape[0], shape[-1]) if cl else (shape[0], shape[1])
        if (n_out, c_out) != (xc.shape[0], w.shape[-2]):
            raise ShapeError(
                f"{func}: output_shape={_show(output_shape)} has batch {n_out} and channels "
                f"{c_out}, but the input has batch {xc.shape[0]} and filters give "
                f"{w.shape[-2]} output channels"
            )
    spec = TransposeSpec.from_tf(xc.shape[2:], w.shape[:nd], strides, padding, output_shape,
                                 dilations, data_format=data_format)
    wt = convert_kernel(w, kernel_layout("HWOI", nd), kernel_layout("IOHW", nd))
    return from_channels_first(_run_transpose(xc, wt, None, spec), cl)


def tf_conv2d_transpose(
    input: np.ndarray,  # noqa: A002 - TensorFlow's argument name
    filters: np.ndarray,
    output_shape: Any,
    strides: Any,
    padding: Any = "SAME",
    data_format: str = "NHWC",
    dilations: Any = None,
) -> np.ndarray:
    """What ``tf.nn.conv2d_transpose`` computes (2-d :func:`tf_conv_transpose`).

    Examples
    --------
    >>> x = np.ones((1, 2, 2, 1))
    >>> tf_conv2d_transpose(x, np.ones((3, 3, 1, 1)), [1, 4, 4, 1], 2)[0, :, :, 0]
    array([[1., 1., 2., 1.],
           [1., 1., 2., 1.],
           [2., 2., 4., 2.],
           [1., 1., 2., 1.]])
    """
    if np.ndim(input) != 4:
        raise ShapeError(f"tf_conv2d_transpose: input has rank {np.ndim(input)}; expected 4")
    return tf_conv_transpose(input, filters, output_shape, strides, padding, data_format,
                             dilations)


def tf_conv(
    input: np.ndarray,  # noqa: A002 - TensorFlow's argument name
    filters: np.ndarray,
    strides: Any = 1,
    padding: Any = "VALID",
    data_format: str | None = None,
    dilations: Any = None,
) -> np.ndarray:
    """What ``tf.nn.convolution`` / ``tf.nn.conv2d`` computes.

    Parameters
    ----------
    input : (N, *L, C_in) ndarray
        Channels last by default.
    filters : (*k, C_in/groups, C_out) ndarray
        Groups are inferred as ``C_in // filters.shape[-2]``.
    strides, dilations : int or sequence
    padding : {'SAME', 'VALID'} or sequence of (before, after)

    Returns
    -------
    (N, *O, C_out) ndarray
        ``O = ceil(L/s)`` (SAME) or ``floor((L + pads - k_eff)/s) + 1``.

    See Also
    --------
    tf_conv_transpose : its gradient.

    Examples
    --------
    >>> tf_conv(np.arange(5.0).reshape(1, 5, 1), np.ones((3, 1, 1)), 2, "SAME")[0, :, 0]
    array([1., 6., 7.])
    """
    func = "tf_conv"
    x, w, _ = _arrays(func, input, filters, ("input", "filters"))
    nd = x.ndim - 2
    cl = parse_data_format(data_format or _TF_FORMATS[nd][0], nd, func)
    xc = to_channels_first(x, cl)
    groups = _inferred_groups(func, xc.shape[1], w.shape[-2], w.shape[-1], "filters")
    spec = ConvSpec.from_tf(xc.shape[2:], w.shape[:nd], strides, padding, dilations,
                            data_format=data_format, groups=groups)
    wt = convert_kernel(w, kernel_layout("HWIO", nd), kernel_layout("OIHW", nd))
    return from_channels_first(_run_conv(xc, wt, None, spec), cl)


def tf_conv2d(
    input: np.ndarray,  # noqa: A002 - TensorFlow's argument name
    filters: np.ndarray,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
) -> np.ndarray:
    """What ``tf.nn.conv2d`` computes (2-d :func:`tf_conv`).

    Examples
    --------
    >>> tf_conv2d(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), 1, "VALID")[0, :, :, 0]
    array([[4., 4.],
           [4., 4.]])
    """
    if np.ndim(input) != 4:
        raise ShapeError(f"tf_conv2d: input has rank {np.ndim(input)}; expected 4")
    return tf_conv(input, filters, strides, padding, data_format, dilations)


def _inferred_groups(func: str, c_in: int, per_group: int, c_out: int, name: str) -> int:
    if per_group < 1 or c_in % per_group:
        raise ShapeError(
            f"{func}: the input has {c_in} channels, not a multiple of {name}' input-channel "
            f"axis {per_group} (groups = C_in / that axis)"
        )
    groups = c_in // per_group
    if c_out % groups:
        raise ShapeError(
            f"{func}: groups={groups} (inferred from {c_in} input channels and {name}' "
            f"input-channel axis {per_group}) does not divide the {c_out} output channels"
        )
    return groups


def keras_conv_transpose(
    inputs: np.ndarray,
    kernel: np.ndarray,
    strides: Any = 1,
    padding: str = "valid",
    output_padding: Any = None,
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    """What ``keras.ops.conv_transpose`` (and ``Conv{1,2,3}DTranspose``) computes, JAX backend.

    Parameters
    ----------
    inputs : (N, *L, C_in) ndarray
        ``data_format='channels_last'`` (default) or ``'channels_first'``.
    kernel : (*k, C_out, C_in) ndarray
        Keras's transposed-convolution layout (HWOI).
    strides, dilation_rate, output_padding, padding
        As :meth:`TransposeSpec.from_keras`.

    Returns
    -------
    (N, *O, C_out) ndarray
        ``O`` from Keras's output-size table (see :meth:`TransposeSpec.from_keras`).

    See Also
    --------
    keras_conv : the forward convolution.

    Examples
    --------
    >>> x = np.arange(3.0).reshape(1, 3, 1)
    >>> keras_conv_transpose(x, np.ones((3, 1, 1)), 2, "same")[0, :, 0]
    array([0., 0., 1., 1., 3., 2.])
    """
    func = "keras_conv_transpose"
    x, w, _ = _arrays(func, inputs, kernel, ("inputs", "kernel"))
    nd = x.ndim - 2
    cl = parse_data_format(data_format or "channels_last", None, func)
    xc = to_channels_first(x, cl)
    _check_channels(func, w.shape[-1], xc.shape[1],
                    "kernel's last axis (input channels, layout (*k, filters, in)) must match "
                    "the input channels")
    spec = TransposeSpec.from_keras(xc.shape[2:], w.shape[:nd], strides, padding,
                                    output_padding, dilation_rate)
    wt = convert_kernel(w, kernel_layout("HWOI", nd), kernel_layout("IOHW", nd))
    return from_channels_first(_run_transpose(xc, wt, None, spec), cl)


def keras_conv(
    inputs: np.ndarray,
    kernel: np.ndarray,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    """What ``keras.ops.conv`` (and ``Conv{1,2,3}D``) computes on the JAX backend.

    Parameters
    ----------
    inputs : (N, *L, C_in) ndarray
    kernel : (*k, C_in/groups, C_out) ndarray
        Groups are inferred from the kernel's input-channel axis, as Keras does.
    strides, dilation_rate : int or tuple of int
    padding : {'valid', 'same'}
        Any case (``'causal'`` is the ``Conv1D`` layer's; see :meth:`ConvSpec.from_keras`).

    Returns
    -------
    (N, *O, C_out) ndarray

    Examples
    --------
    >>> keras_conv(np.arange(5.0).reshape(1, 5, 1), np.ones((3, 1, 1)), padding="same")[0, :, 0]
    array([1., 3., 6., 9., 7.])
    """
    func = "keras_conv"
    x, w, _ = _arrays(func, inputs, kernel, ("inputs", "kernel"))
    nd = x.ndim - 2
    cl = parse_data_format(data_format or "channels_last", None, func)
    xc = to_channels_first(x, cl)
    groups = _inferred_groups(func, xc.shape[1], w.shape[-2], w.shape[-1], "kernel")
    spec = ConvSpec.from_keras(xc.shape[2:], w.shape[:nd], strides, _keras_pad(padding, func),
                               dilation_rate, groups)
    wt = convert_kernel(w, kernel_layout("HWIO", nd), kernel_layout("OIHW", nd))
    return from_channels_first(_run_conv(xc, wt, None, spec), cl)


def jax_conv_transpose(
    lhs: np.ndarray,
    rhs: np.ndarray,
    strides: Any,
    padding: Any,
    rhs_dilation: Any = None,
    dimension_numbers: Any = None,
    transpose_kernel: bool = False,
    use_consistent_padding: bool = False,
) -> np.ndarray:
    """What ``jax.lax.conv_transpose`` (0.10.2) computes.

    Parameters
    ----------
    lhs : ndarray
        Input, default layout ``(N, *L, C)`` (``dimension_numbers`` default
        ``('NHWC', 'HWIO', 'NHWC')`` and 1-d/3-d analogues).
    rhs : ndarray
        Kernel, default ``(*k, I, O)``; with ``transpose_kernel=False`` it is the direct form
        (``I`` = input channels, used without a flip); with ``True`` it is flipped and its
        ``I``/``O`` swapped first (so ``I`` holds the output channels: a TF/Keras kernel).
    strides, rhs_dilation : sequence of int
    padding : {'SAME', 'VALID'} or sequence of (int, int)
        See :meth:`TransposeSpec.from_jax` (explicit pairs pad the stretched input unless
        ``use_consistent_padding``).
    dimension_numbers : (str, str, str), optional
    transpose_kernel, use_consistent_padding : bool

    Returns
    -------
    ndarray
        In the ``out`` layout of ``dimension_numbers``.

    See Also
    --------
    jax_conv : ``conv_general_dilated``, which this is built on in JAX.

    Examples
    --------
    >>> x = np.arange(3.0).reshape(1, 3, 1)
    >>> jax_conv_transpose(x, np.ones((3, 1, 1)), (2,), "SAME")[0, :, 0]
    array([0., 0., 1., 1., 3., 2.])
    """
    func = "jax_conv_transpose"
    x, w, _ = _arrays(func, lhs, rhs, ("lhs", "rhs"))
    nd = x.ndim - 2
    lp, rp, op = _jax_perms(dimension_numbers, nd, func, _JAX_DN[nd])
    xc = np.transpose(x, lp)
    wc = np.transpose(w, rp)  # (O, I, *k) in JAX's labels
    if transpose_kernel:
        wt = wc  # after JAX's swap and flip, O holds the input channels: (C_in, C_out, *k)
        what = "rhs's O axis (input channels, since transpose_kernel=True swaps I and O)"
    else:
        wt = np.flip(wc.swapaxes(0, 1), tuple(range(2, nd + 2)))
        what = "rhs's I axis (input channels)"
    _check_channels(func, wt.shape[0], xc.shape[1], f"{what} must match lhs's channels")
    spec = TransposeSpec.from_jax(xc.shape[2:], wt.shape[2:], strides, padding, rhs_dilation,
                                  transpose_kernel=transpose_kernel,
                                  use_consistent_padding=use_consistent_padding)
    y = _run_transpose(xc, np.ascontiguousarray(wt), None, spec)
    return np.transpose(y, np.argsort(op))


def jax_conv(
    lhs: np.ndarray,
    rhs: np.ndarray,
    window_strides: Any,
    padding: Any,
    lhs_dilation: Any = None,
    rhs_dilation: Any = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
) -> np.ndarray:
    """What ``jax.lax.conv_general_dilated`` computes.

    Parameters
    ----------
    lhs, rhs : ndarray
        Default layouts are channels first, ``(N, C, *L)`` and ``(O, I/groups, *k)`` (JAX's
        default for this function, unlike ``conv_transpose``).
    window_strides, lhs_dilation, rhs_dilation : sequence of int
    padding : {'SAME', 'SAME_LOWER', 'VALID'} or sequence of (int, int)
        Strings only without ``lhs_dilation``; negative pairs remove elements.
    dimension_numbers : (str, str, str), optional
    feature_group_count : int

    Returns
    -------
    ndarray
        In the ``out`` layout; ``floor((L' + lo + hi - k_eff)/s) + 1`` with
        ``L' = (L-1)*lhs_dilation + 1``.

    See Also
    --------
    jax_conv_transpose

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> jax_conv(x, np.ones((1, 1, 3)), (1,), [(-1, 1)])[0, 0]
    array([6., 9., 7.])
    """
    func = "jax_conv"
    x, w, _ = _arrays(func, lhs, rhs, ("lhs", "rhs"))
    nd = x.ndim - 2
    lp, rp, op = _jax_perms(dimension_numbers, nd, func, None)
    xc = np.transpose(x, lp)
    wc = np.ascontiguousarray(np.transpose(w, rp))
    groups = check_int(feature_group_count, "feature_group_count", func, minimum=1)
    if xc.shape[1] % groups or wc.shape[1] * groups != xc.shape[1] or wc.shape[0] % groups:
        raise ShapeError(
            f"{func}: lhs has {xc.shape[1]} channels and rhs has I={wc.shape[1]}, "
            f"O={wc.shape[0]}; with feature_group_count={groups} JAX needs C = I * groups and "
            "O divisible by groups"
        )
    ld = _ints(lhs_dilation, nd, "lhs_dilation", func, default=1)
    if all(v == 1 for v in ld):
        spec = ConvSpec.from_jax(xc.shape[2:], wc.shape[2:], window_strides, padding,
                                 rhs_dilation=rhs_dilation, feature_group_count=groups)
        y = _run_conv(xc, wc, None, spec)
    else:
        s = _ints(window_strides, nd, "window_strides", func)
        tspec = TransposeSpec.from_jax_general(xc.shape[2:], wc.shape[2:], padding, ld,
                                               rhs_dilation, groups)
        y = _run_transpose(xc, from_direct_kernel(wc, groups), None, tspec)
        # a strided window over the stretched input = every s-th output of stride 1
        every: tuple[Any, ...] = (..., *(slice(None, None, ss) for ss in s))
        y = y[every]
    return np.ascontiguousarray(np.transpose(y, np.argsort(op)))


def onnx_conv_transpose(
    X: np.ndarray,
    W: np.ndarray,
    B: np.ndarray | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Any = None,
    group: int = 1,
    kernel_shape: Any = None,
    output_padding: Any = None,
    output_shape: Any = None,
    pads: Any = None,
    strides: Any = None,
) -> np.ndarray:
    """What ONNX Runtime (1.31.1) computes for ``ConvTranspose``.

    Parameters
    ----------
    X : (N, C, *L) ndarray
    W : (C, M/group, *k) ndarray
    B : (M,) ndarray, optional
    auto_pad, dilations, group, kernel_shape, output_padding, output_shape, pads, strides
        ONNX attributes; see :meth:`TransposeSpec.from_onnx` for ONNX Runtime's rules.

    Returns
    -------
    (N, M, *O) ndarray

    See Also
    --------
    onnx_conv

    Examples
    --------
    >>> x = np.arange(3.0).reshape(1, 1, 3)
    >>> onnx_conv_transpose(x, np.ones((1, 1, 3)), strides=[2], auto_pad="SAME_UPPER")[0, 0]
    array([0., 0., 1., 1., 3., 2.])
    """
    func = "onnx_conv_transpose"
    x, w, b = _arrays(func, X, W, ("X", "W"), B, "B")
    nd = x.ndim - 2
    if kernel_shape is not None and _ints(kernel_shape, nd, "kernel_shape", func) != w.shape[2:]:
        raise ShapeError(
            f"{func}: kernel_shape={_show(kernel_shape)} does not match W's spatial shape "
            f"{w.shape[2:]}"
        )
    group = check_int(group, "group", func, minimum=1)
    _check_channels(func, w.shape[0], x.shape[1], "W's first axis (C, layout (C, M/group, *k)) "
                    "must match X's channels")
    if x.shape[1] % group:
        raise ShapeError(f"{func}: group={group} does not divide X's {x.shape[1]} channels")
    if b is not None and b.shape != (w.shape[1] * group,):
        raise ShapeError(f"{func}: B has shape {b.shape}; expected ({w.shape[1] * group},)")
    spec = TransposeSpec.from_onnx(x.shape[2:], w.shape[2:], strides, pads, auto_pad,
                                   output_shape, output_padding, dilations, group=group)
    return _run_transpose(x, w, b, spec)


def onnx_conv(
    X: np.ndarray,
    W: np.ndarray,
    B: np.ndarray | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Any = None,
    group: int = 1,
    kernel_shape: Any = None,
    pads: Any = None,
    strides: Any = None,
) -> np.ndarray:
    """What ONNX ``Conv`` computes.

    Parameters
    ----------
    X : (N, C, *L) ndarray
    W : (M, C/group, *k) ndarray
    B : (M,) ndarray, optional
    auto_pad : {'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'}
    dilations, group, kernel_shape, pads, strides
        ONNX attributes.

    Returns
    -------
    (N, M, *O) ndarray

    See Also
    --------
    onnx_conv_transpose

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> onnx_conv(x, np.ones((1, 1, 3)), strides=[2], auto_pad="SAME_LOWER")[0, 0]
    array([1., 6., 7.])
    """
    func = "onnx_conv"
    x, w, b = _arrays(func, X, W, ("X", "W"), B, "B")
    nd = x.ndim - 2
    if kernel_shape is not None and _ints(kernel_shape, nd, "kernel_shape", func) != w.shape[2:]:
        raise ShapeError(
            f"{func}: kernel_shape={_show(kernel_shape)} does not match W's spatial shape "
            f"{w.shape[2:]}"
        )
    spec = ConvSpec.from_onnx(x.shape[2:], w.shape[2:], strides, pads, auto_pad, dilations,
                              group=group)
    return _run_conv(x, w, b, spec)


torch_conv_transpose = _np_conv_transpose
"""What ``torch.nn.functional.conv_transposeNd`` computes: :func:`upconv.conv_transpose`."""

torch_conv = _np_conv
"""What ``torch.nn.functional.convNd`` computes: :func:`upconv.conv`."""
