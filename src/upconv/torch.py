"""PyTorch upsampling layers that swap methods, and a checkerboard linter for PyTorch models.

The only upconv module that imports torch (``pip install 'upconv[torch]'``); ``import upconv``
does not load it.  Layers are built on torch's own ops; their shape arithmetic (padding,
``output_padding``, reachable output sizes) comes from :mod:`upconv.shapes`.

:class:`Upsample` is one decoder step with a swappable method (seed 003: upsampling versus
transposed convolution; seed 000: what pooling becomes on the way up):

======================  ===================================================================
``transposed``          a stride-``s`` transposed convolution, ``kernel_size = 2s``
``transposed-bilinear`` the same, kernel ``2s - s % 2`` initialised to bilinear interpolation
``nearest-conv``        nearest resize ``x s``, then a stride-1 ``'same'`` convolution
``bilinear-conv``       (bi/tri)linear resize ``x s``, then a stride-1 ``'same'`` convolution
``pixel-shuffle``       convolution to ``C_out * s**dim`` channels, then a pixel shuffle (ICNR)
``unpool``              max-unpooling with the switches of a paired max pool, then a convolution
``bed-of-nails``        Dosovitskiy un-pooling (value at each cell's first corner), then a conv
======================  ===================================================================

:func:`checkerboard_report` runs a model once on zeros, finds its upsampling layers and says,
per layer and for the composed stack, how unevenly the kernel taps overlap (Odena, Dumoulin &
Olah 2016) and what to change.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn
    from torch.overrides import TorchFunctionMode
except ImportError as err:  # pragma: no cover - the torch extra is missing
    raise ImportError(
        "upconv.torch needs PyTorch; install it with: pip install 'upconv[torch]'"
    ) from err

from ._validate import ShapeError, _is_int, _show, check_int, per_dim
from .shapes import (
    checkerboard_counts,
    conv_transpose_size_range,
    output_padding_for,
    transpose_geometry,
)

METHODS = (
    "transposed",
    "transposed-bilinear",
    "nearest-conv",
    "bilinear-conv",
    "pixel-shuffle",
    "unpool",
    "bed-of-nails",
)
"""The methods :class:`Upsample` accepts."""

_CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONVT: dict[int, type[nn.Module]] = {
    1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_POOL: dict[int, type[nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_CONV_F: dict[int, Callable[..., Tensor]] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONVT_F: dict[int, Callable[..., Tensor]] = {
    1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_UNPOOL_F: dict[int, Callable[..., Tensor]] = {
    1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
_MAXPOOL_F: dict[int, Callable[..., Tensor]] = {
    1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
_TRANSPOSED = ("transposed", "transposed-bilinear")
_RESIZE = ("nearest-conv", "bilinear-conv")


# ---------------------------------------------------------------------------------------------
# Small helpers


def _scale(scale_factor: Any, dim: int, func: str) -> tuple[int, ...]:
    if not (_is_int(scale_factor) or (isinstance(scale_factor, list | tuple) and all(
            _is_int(v) for v in scale_factor))):
        raise TypeError(
            f"{func}: scale_factor={_show(scale_factor)} must be a positive integer or one per "
            f"spatial dimension (it is a stride); for fractional factors use nn.Upsample or "
            f"upconv.interpolate"
        )
    return per_dim(scale_factor, dim, "scale_factor", func)


def _one(values: tuple[Any, ...]) -> str:
    # 3 for (3, 3), 3x4 for (3, 4)
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def _same_pads(k: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    # PyTorch's padding='same' at stride 1: total k-1, the odd element at the end.
    return tuple(((kk - 1) // 2, kk - 1 - (kk - 1) // 2) for kk in k)


def _flat_pad(pairs: tuple[tuple[int, int], ...]) -> list[int]:
    # F.pad wants (before, after) of the last dimension first.
    return [v for pair in reversed(pairs) for v in pair]


def _bilinear_1d(s: int) -> list[float]:
    # The standard bilinear upsampling kernel (FCN, Caffe's "bilinear" filler): size 2s - s%2,
    # a tent of half-width s centred on the kernel.
    k = 2 * s - s % 2
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    return [1 - abs(i - centre) / factor for i in range(k)]


def _transposed_arith(
    k: tuple[int, ...], s: tuple[int, ...], func: str
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``padding`` and ``output_padding`` that make a transposed convolution give ``s * L``.

    Relationship 13: ``o = s(L-1) + k - 2p + a``; ``o = sL`` needs ``2p - a = k - s``, so
    ``p = ceil((k - s) / 2)`` (at least 0) and ``a = s - k + 2p``, which must stay below ``s``.
    """
    pads = []
    for kk, ss in zip(k, s, strict=True):
        p = max(-(-(kk - ss) // 2), 0)
        if ss == 1 and (kk - 1) % 2:
            raise ShapeError(
                f"{func}: kernel_size={_one(k)} with scale_factor={_one(s)} cannot give exactly "
                f"scale_factor x input in a dimension with scale 1 (the symmetric padding "
                f"removes an even number, so kernel_size - 1 must be even there); use an odd "
                f"kernel_size"
            )
        pads.append(p)
    n = len(k)
    a = output_padding_for((2,) * n, tuple(2 * ss for ss in s), k, s, tuple(pads))
    assert isinstance(a, tuple)
    return tuple(pads), a


def _shuffle(x: Tensor, s: tuple[int, ...]) -> Tensor:
    """Pixel shuffle in any dimension, PyTorch's channel order (in-cell offsets row-major)."""
    d = len(s)
    n, cp, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    c = cp // math.prod(s)
    y = x.reshape(n, c, *s, *spatial)
    # (N, C, s_1..s_d, L_1..L_d) -> (N, C, L_1, s_1, ..., L_d, s_d) -> (N, C, L_1*s_1, ...)
    perm = [0, 1] + [p for i in range(d) for p in (2 + d + i, 2 + i)]
    return y.permute(perm).reshape(n, c, *(ll * r for ll, r in zip(spatial, s, strict=True)))


def icnr_(weight: Tensor, scale_factor: Any, bias: Tensor | None = None) -> Tensor:
    """ICNR initialisation (Aitken et al. 2017) of a convolution followed by a pixel shuffle.

    A sub-kernel of ``C_out`` filters gets PyTorch's default convolution initialisation and is
    repeated for every one of the ``s**dim`` sub-pixel phases, so that at initialisation the
    sub-pixel layer computes that convolution at low resolution followed by nearest
    upsampling: no checkerboard at the start of training.

    Parameters
    ----------
    weight : (C_out * prod(s), C_in, *k) Tensor
        The convolution's weight, overwritten in place.
    scale_factor : int or tuple of int
        The pixel shuffle's factor ``s`` per spatial dimension.
    bias : (C_out * prod(s),) Tensor, optional
        Overwritten in place with one value per ``C_out`` filter, repeated over the phases.

    Returns
    -------
    Tensor
        ``weight``.

    Raises
    ------
    ShapeError
        If ``weight.shape[0]`` is not a multiple of ``prod(s)``.

    See Also
    --------
    Upsample : ``method='pixel-shuffle'`` uses it.

    Notes
    -----
    Output channel ``c * prod(s) + j`` (phase ``j``) gets filter ``c``:
    ``pixel_shuffle(conv(x, W)) == nearest_upsample(conv(x, W[::prod(s)]))``.

    Examples
    --------
    >>> w = torch.empty(8, 3, 3, 3)
    >>> _ = icnr_(w, 2)
    >>> bool((w[0] == w[3]).all()), bool((w[0] == w[4]).all())
    (True, False)
    """
    func = "icnr_"
    dim = weight.dim() - 2
    s = _scale(scale_factor, dim, func)
    phases = math.prod(s)
    if weight.shape[0] % phases:
        raise ShapeError(
            f"{func}: weight has {weight.shape[0]} output channels, not a multiple of "
            f"prod(scale_factor) = {phases}"
        )
    with torch.no_grad():
        sub = torch.empty((weight.shape[0] // phases, *weight.shape[1:]), dtype=weight.dtype,
                          device=weight.device)
        nn.init.kaiming_uniform_(sub, a=math.sqrt(5))  # nn.Conv's own default
        weight.copy_(sub.repeat_interleave(phases, dim=0))
        if bias is not None:
            bound = 1 / math.sqrt(math.prod(weight.shape[1:]))
            b = torch.empty(weight.shape[0] // phases, dtype=bias.dtype, device=bias.device)
            bias.copy_(nn.init.uniform_(b, -bound, bound).repeat_interleave(phases))
    return weight


def paired_max_pool(scale_factor: Any, dim: int = 2, *, ceil_mode: bool = False) -> nn.Module:
    """The max pool whose switches ``Upsample(..., method='unpool')`` consumes.

    ``nn.MaxPool{dim}d(kernel_size=s, stride=s, ceil_mode=ceil_mode, return_indices=True)``:
    it returns ``(pooled, indices)``; pass ``indices`` (and the pre-pool size as
    ``output_size`` when it was not ``s * pooled``) to the unpooling layer.

    Parameters
    ----------
    scale_factor : int or tuple of int
        Window size and stride ``s`` per spatial dimension.
    dim : {1, 2, 3}
        Number of spatial dimensions.
    ceil_mode : bool
        Keep a last partial window (7 -> 4 instead of 3 for ``s = 2``).

    Returns
    -------
    nn.MaxPool1d, nn.MaxPool2d or nn.MaxPool3d

    Examples
    --------
    >>> pool = paired_max_pool(2, ceil_mode=True)
    >>> up = Upsample(4, 4, 2, method="unpool")
    >>> x = torch.randn(1, 4, 7, 7)
    >>> y, idx = pool(x)
    >>> y.shape, up(y, indices=idx, output_size=x.shape[2:]).shape
    (torch.Size([1, 4, 4, 4]), torch.Size([1, 4, 7, 7]))
    """
    func = "paired_max_pool"
    d = _check_dim(dim, func)
    s = _scale(scale_factor, d, func)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{func}: ceil_mode={ceil_mode!r} must be a bool")
    return _POOL[d](kernel_size=s, stride=s, ceil_mode=ceil_mode, return_indices=True)


def _param(mod: nn.Module, name: str) -> Tensor:
    value = getattr(mod, name)
    assert isinstance(value, Tensor)
    return value


def _bias(conv: nn.Module) -> Tensor | None:
    b = getattr(conv, "bias", None)
    return b if isinstance(b, Tensor) else None


def _cells(target: tuple[int, ...]) -> tuple[Any, ...]:
    # index of the leading corner of size `target` in (N, C, *spatial)
    return (Ellipsis, *(slice(0, t) for t in target))


def _grid(s: tuple[int, ...]) -> tuple[Any, ...]:
    # index of every s-th position in (N, C, *spatial)
    return (slice(None), slice(None), *(slice(None, None, ss) for ss in s))


def _check_dim(dim: Any, func: str) -> int:
    if not _is_int(dim) or int(dim) not in (1, 2, 3):
        raise ShapeError(f"{func}: dim={dim!r} must be 1, 2 or 3 (the number of spatial "
                         "dimensions)")
    return int(dim)


# ---------------------------------------------------------------------------------------------
# The layer


class Upsample(nn.Module):
    """One upsampling step of a decoder, by ``scale_factor``, with a swappable method.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    scale_factor : int or tuple of int
        Whole upsampling factor ``s`` per spatial dimension (the stride of the transposed
        methods).
    method : {'nearest-conv', 'transposed', 'transposed-bilinear', 'bilinear-conv', \
'pixel-shuffle', 'unpool', 'bed-of-nails'}
        How to upsample (see Notes).  The default, resize-then-convolve, has no checkerboard
        artefact (Odena et al. 2016).
    dim : {2, 1, 3}
        Number of spatial dimensions: input ``(N, C, *spatial)`` with ``dim`` spatial axes
        (or unbatched ``(C, *spatial)``).
    kernel_size : int or tuple of int, optional, keyword-only
        ``'transposed'``: the transposed kernel, default ``2s`` (3 where ``s = 1``).
        ``'transposed-bilinear'``: fixed at ``2s - s % 2``; giving another size is an error.
        Other methods: the stride-1 convolution's kernel, default 3, with PyTorch's
        ``padding='same'`` (odd element at the end for even kernels).
    bias : bool, keyword-only
        Learnable bias (zero-initialised for ``'transposed-bilinear'``).

    Attributes
    ----------
    conv : nn.Module
        The layer's only parametrised part: ``nn.ConvTranspose{dim}d`` for the transposed
        methods, ``nn.Conv{dim}d`` otherwise (to ``out_channels * s**dim`` channels for
        ``'pixel-shuffle'``).
    scale_factor, kernel_size : tuple of int
        Per spatial dimension.
    padding, output_padding : tuple of int
        The transposed convolution's (transposed methods only; zeros otherwise).

    Raises
    ------
    ShapeError
        For an unknown ``method`` (the message lists the accepted ones), a scale factor below
        1, ``dim`` outside 1-3, or a kernel that cannot give exactly ``s x`` the input.
    TypeError
        For a non-integer ``scale_factor``.

    See Also
    --------
    paired_max_pool : the encoder side of ``'unpool'``.
    checkerboard_report : how evenly each method's kernel taps overlap.
    upconv.output_padding_for, upconv.conv_transpose_size_range : the arithmetic used.

    Notes
    -----
    Default output: ``s * L`` per dimension.  ``forward(x, output_size=...)`` asks for another
    size; which sizes each method reaches (``output_size_range`` gives them):

    * ``'transposed'``, ``'transposed-bilinear'``: PyTorch's ``ConvTranspose`` rule,
      ``output_padding`` chosen from ``output_size``: ``lo = s(L-1) + k - 2p`` to
      ``lo + s - 1``.  With ``k = 2s``, ``p = ceil(s/2)`` and ``output_padding = s % 2``, so
      for ``s = 2`` the range is ``[2L, 2L+1]`` (kernel 4, padding 1, the DCGAN layer); an odd
      size such as 13 from 7 needs ``kernel_size=3`` (range ``[13, 14]``) or a resize method.
    * ``'nearest-conv'``, ``'bilinear-conv'``: any size; the resize goes straight to it
      (``F.interpolate(size=output_size, align_corners=False)``).
    * ``'pixel-shuffle'``, ``'bed-of-nails'``: the layer computes ``s * L`` and drops the last
      ``s*L - o`` positions, so ``o`` runs from ``s(L-1) + 1`` to ``s*L``: exactly the sizes a
      stride-``s`` 'same' downsampling (``ceil(o / s) == L``, a ceil-mode pool) maps to ``L``.
    * ``'unpool'``: PyTorch's ``MaxUnpool`` rule, ``s*L - s < o < s*L + s``.

    ``'transposed'`` uses ``k = 2s`` (not ``k = s``): the kernels of neighbouring inputs
    overlap, so the layer can interpolate, and ``k`` divisible by ``s`` keeps the overlap even
    (every output gets 2 taps per dimension).  ``'transposed-bilinear'`` starts as exact
    bilinear interpolation away from the borders (zero padding darkens the outermost
    ``s // 2`` positions at each end, where ``F.interpolate`` clamps); with ``in_channels !=
    out_channels`` output channel ``o`` starts as the interpolation of input channel
    ``o mod in_channels``.  ``'pixel-shuffle'`` uses ICNR (:func:`icnr_`): at initialisation
    it equals the same ``'same'`` convolution at low resolution followed by nearest
    upsampling (and, for ``kernel_size=1``, nearest upsampling followed by the convolution).
    ``'unpool'`` places each value where the paired max pool found its maximum
    (``forward(x, indices=...)``, Zeiler & Fergus's switches, SegNet's decoder);
    ``'bed-of-nails'`` places it at the first corner of its ``s``-cell (Dosovitskiy et al.
    2015).  Both then convolve; with the default 3x3 kernel and ``s = 2`` that is a stride-2
    transposed convolution with a 3x3 kernel in disguise (uneven: see
    :func:`checkerboard_report`).

    Examples
    --------
    >>> up = Upsample(3, 8, 2, method="transposed")
    >>> up.conv
    ConvTranspose2d(3, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))
    >>> up(torch.zeros(1, 3, 7, 7)).shape
    torch.Size([1, 8, 14, 14])
    >>> up.output_size_range((7, 7))
    ((14, 15), (14, 15))
    >>> Upsample(3, 8, 2)(torch.zeros(1, 3, 7, 7), output_size=(13, 13)).shape
    torch.Size([1, 8, 13, 13])
    >>> Upsample(2, 2, 3, method="bed-of-nails", dim=1)(torch.zeros(2, 5)).shape
    torch.Size([2, 15])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_factor: Any,
        method: str = "nearest-conv",
        dim: int = 2,
        *,
        kernel_size: Any = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        func = "Upsample"
        if not isinstance(method, str) or method not in METHODS:
            raise ShapeError(
                f"{func}: method={method!r} is not understood; give one of "
                + ", ".join(repr(m) for m in METHODS)
            )
        d = _check_dim(dim, func)
        self.in_channels = check_int(in_channels, "in_channels", func, minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", func, minimum=1)
        self.method = method
        self.dim = d
        s = _scale(scale_factor, d, func)
        self.scale_factor = s
        if not isinstance(bias, bool):
            raise TypeError(f"{func}: bias={bias!r} must be a bool")
        func = f"Upsample(method={method!r})"
        self.padding: tuple[int, ...] = (0,) * d
        self.output_padding: tuple[int, ...] = (0,) * d
        self._pads: tuple[tuple[int, int], ...] = ((0, 0),) * d  # 'same' pads of a stride-1 conv
        self.conv: nn.Module
        if method in _TRANSPOSED:
            if method == "transposed":
                k = (tuple(2 * ss if ss > 1 else 3 for ss in s) if kernel_size is None
                     else per_dim(kernel_size, d, "kernel_size", func))
            else:
                k = tuple(2 * ss - ss % 2 for ss in s)
                if kernel_size is not None and per_dim(kernel_size, d, "kernel_size", func) != k:
                    raise ShapeError(
                        f"{func}: kernel_size={_show(kernel_size)} cannot be chosen: the "
                        f"bilinear kernel for scale_factor={_one(s)} has size 2s - s%2 = "
                        f"{_one(k)}; leave kernel_size=None"
                    )
            self.padding, self.output_padding = _transposed_arith(k, s, func)
            self.conv = _CONVT[d](self.in_channels, self.out_channels, k, stride=s,
                                  padding=self.padding, output_padding=self.output_padding,
                                  bias=bias)
            if method == "transposed-bilinear":
                self._init_bilinear()
        else:
            k = per_dim(3 if kernel_size is None else kernel_size, d, "kernel_size", func)
            self._pads = _same_pads(k)
            symmetric = all(a == b for a, b in self._pads)
            channels = self.out_channels * (math.prod(s) if method == "pixel-shuffle" else 1)
            # Odd kernels pad inside the convolution; even ones are padded (before, after)
            # by hand, as padding='same' would (it warns about the copy it makes).
            self.conv = _CONV[d](self.in_channels, channels, k, bias=bias,
                                 padding=tuple(a for a, _ in self._pads) if symmetric else 0)
            self._pad_first = not symmetric
            if method == "pixel-shuffle":
                icnr_(_param(self.conv, "weight"), s, _bias(self.conv))
        self.kernel_size: tuple[int, ...] = k

    def _init_bilinear(self) -> None:
        kern = torch.ones(())
        for ss in self.scale_factor:
            kern = torch.tensordot(kern, torch.tensor(_bilinear_1d(ss)), dims=0)
        with torch.no_grad():
            w = _param(self.conv, "weight")  # (C_in, C_out, *k)
            w.zero_()
            for o in range(self.out_channels):
                w[o % self.in_channels, o] = kern
            b = _bias(self.conv)
            if b is not None:
                b.zero_()

    def extra_repr(self) -> str:
        """Arguments shown by ``repr``."""
        return (f"{self.in_channels}, {self.out_channels}, scale_factor={_one(self.scale_factor)}"
                f", method={self.method!r}, dim={self.dim}")

    # -- sizes -------------------------------------------------------------------------------

    def output_size_range(self, size: Any) -> tuple[tuple[int, int | None], ...]:
        """The output sizes ``forward(x, output_size=...)`` accepts for spatial size ``size``.

        Parameters
        ----------
        size : int or tuple of int
            The input's spatial size ``L`` (an int means every dimension).

        Returns
        -------
        tuple of (int, int or None)
            ``(lo, hi)`` per dimension, inclusive; ``hi`` is None for the resize methods,
            which reach any size ``>= 1``.  The rules are in the class Notes.

        Examples
        --------
        >>> Upsample(1, 1, 2, method="pixel-shuffle", dim=1).output_size_range(7)
        ((13, 14),)
        >>> Upsample(1, 1, 2, method="unpool", dim=1).output_size_range(7)
        ((13, 15),)
        """
        func = "Upsample.output_size_range"
        dims = per_dim(size, self.dim, "size", func)
        return self._ranges(dims, func)

    def _ranges(self, dims: tuple[int, ...], func: str) -> tuple[tuple[int, int | None], ...]:
        s = self.scale_factor
        if self.method in _TRANSPOSED:
            lo, hi = conv_transpose_size_range(dims, self.kernel_size, s, self.padding)
            assert isinstance(lo, tuple) and isinstance(hi, tuple)
            return tuple(zip(lo, hi, strict=True))
        if self.method in _RESIZE:
            return tuple((1, None) for _ in dims)
        if self.method == "unpool":
            return tuple((ss * ll - ss + 1, ss * ll + ss - 1) for ll, ss in zip(dims, s,
                                                                                strict=True))
        return tuple((ss * (ll - 1) + 1, ss * ll) for ll, ss in zip(dims, s, strict=True))

    def _target(self, dims: tuple[int, ...], output_size: Any, func: str) -> tuple[int, ...]:
        s = self.scale_factor
        if output_size is None:
            return tuple(ll * ss for ll, ss in zip(dims, s, strict=True))
        if isinstance(output_size, list | tuple | torch.Size) and len(output_size) in (
                self.dim + 1, self.dim + 2):
            output_size = tuple(output_size)[-self.dim:]  # PyTorch lets (N, C, *spatial) through
        target = per_dim(output_size, self.dim, "output_size", func)
        if self.method in _TRANSPOSED:
            # PyTorch's ConvTranspose output_size rule, from upconv's arithmetic
            transpose_geometry(dims, self.kernel_size, s, self.padding, output_size=target,
                               func=func)
            return target
        rule = {
            "unpool": "PyTorch's MaxUnpool rule s*L - s < output_size < s*L + s",
            "pixel-shuffle": "the layer computes s*L and crops the end, so s*(L-1) < "
                             "output_size <= s*L",
            "bed-of-nails": "the layer computes s*L and crops the end, so s*(L-1) < "
                            "output_size <= s*L",
        }.get(self.method, "")
        for axis, ((lo, hi), t) in enumerate(zip(self._ranges(dims, func), target,
                                                 strict=True)):
            if t < lo or (hi is not None and t > hi):
                raise ShapeError(
                    f"{func}: output_size={_one(target) if self.dim == 1 else target} is not "
                    f"reachable: in dimension {axis} the output size ranges from {lo} to {hi} "
                    f"for input size {dims[axis]} and scale_factor {s[axis]} ({rule})"
                )
        return target

    # -- forward -----------------------------------------------------------------------------

    def forward(self, x: Tensor, *, output_size: Any = None, indices: Tensor | None = None
                ) -> Tensor:
        """Upsample ``x``.

        Parameters
        ----------
        x : (N, C_in, *L) or (C_in, *L) Tensor
            ``dim`` spatial dimensions.
        output_size : int or tuple of int, optional, keyword-only
            Spatial output size (leading N, C entries are ignored, as in PyTorch); default
            ``s * L``.  See the class Notes for the sizes each method reaches.
        indices : Tensor of int64, keyword-only
            ``method='unpool'`` only, and required there: the switches of the paired max pool
            (:func:`paired_max_pool`), the same shape as ``x``.

        Returns
        -------
        (N, C_out, *output_size) or (C_out, *output_size) Tensor

        Raises
        ------
        ShapeError
            For a wrong rank or channel count, an unreachable ``output_size`` (the message
            quotes the range), missing or misshapen ``indices``.
        """
        func = f"Upsample.forward (method={self.method!r})"
        if not isinstance(x, Tensor):
            raise TypeError(f"{func}: x must be a torch.Tensor, not {type(x).__name__}")
        unbatched = x.dim() == self.dim + 1
        if x.dim() not in (self.dim + 1, self.dim + 2):
            raise ShapeError(
                f"{func}: x has shape {tuple(x.shape)} (rank {x.dim()}); dim={self.dim} expects "
                f"(N, C, *spatial) of rank {self.dim + 2} or (C, *spatial) of rank {self.dim + 1}"
            )
        xb = x.unsqueeze(0) if unbatched else x
        if xb.shape[1] != self.in_channels:
            raise ShapeError(
                f"{func}: x has {xb.shape[1]} channels (shape {tuple(x.shape)}) but "
                f"in_channels={self.in_channels}"
            )
        if indices is not None and self.method != "unpool":
            raise ShapeError(f"{func}: indices (max-pool switches) are used by method='unpool' "
                             "only")
        dims = tuple(int(v) for v in xb.shape[2:])
        target = self._target(dims, output_size, func)
        y = getattr(self, "_" + self.method.replace("-", "_"))(xb, target, indices, unbatched,
                                                                func)
        return y.squeeze(0) if unbatched else y

    def _conv_same(self, x: Tensor) -> Tensor:
        if self._pad_first:
            x = F.pad(x, _flat_pad(self._pads))
        out: Tensor = self.conv(x)
        return out

    def _transposed(self, x: Tensor, target: tuple[int, ...], *_: Any) -> Tensor:
        out: Tensor = self.conv(x, output_size=list(target))
        return out

    _transposed_bilinear = _transposed

    def _nearest_conv(self, x: Tensor, target: tuple[int, ...], *_: Any) -> Tensor:
        return self._conv_same(F.interpolate(x, size=target, mode="nearest"))

    def _bilinear_conv(self, x: Tensor, target: tuple[int, ...], *_: Any) -> Tensor:
        up = F.interpolate(x, size=target, mode=_LINEAR[self.dim], align_corners=False)
        return self._conv_same(up)

    def _pixel_shuffle(self, x: Tensor, target: tuple[int, ...], *_: Any) -> Tensor:
        y = _shuffle(self._conv_same(x), self.scale_factor)
        return y[_cells(target)]

    def _bed_of_nails(self, x: Tensor, target: tuple[int, ...], *_: Any) -> Tensor:
        s = self.scale_factor
        up = x.new_zeros((*x.shape[:2], *(ll * ss for ll, ss in zip(x.shape[2:], s,
                                                                    strict=True))))
        up[_grid(s)] = x
        return self._conv_same(up[_cells(target)])

    def _unpool(self, x: Tensor, target: tuple[int, ...], indices: Tensor | None,
                unbatched: bool, func: str) -> Tensor:
        s = self.scale_factor
        if indices is None:
            raise ShapeError(
                f"{func}: needs the switches: forward(x, indices=...) with the indices of "
                f"the paired max pool (upconv.torch.paired_max_pool({_one(s)}, dim={self.dim}),"
                f" i.e. nn.MaxPool{self.dim}d({_one(s)}, return_indices=True))"
            )
        if not isinstance(indices, Tensor) or indices.dtype != torch.int64:
            what = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
            raise TypeError(f"{func}: indices must be an int64 torch.Tensor (the max pool's "
                            f"switches), not {what}")
        ib = indices.unsqueeze(0) if unbatched else indices
        if ib.shape != x.shape:
            raise ShapeError(
                f"{func}: indices has shape {tuple(indices.shape)} but x has shape "
                f"{tuple(x.shape) if not unbatched else tuple(x.shape[1:])}; they must match "
                "(the pooled tensor and its switches)"
            )
        plane = math.prod(target)
        if ib.numel() and (int(ib.max()) >= plane or int(ib.min()) < 0):
            raise ShapeError(
                f"{func}: indices hold positions {int(ib.min())}..{int(ib.max())} but an output "
                f"plane of size {target} has {plane} positions; pass the pre-pool size as "
                "output_size"
            )
        up = _UNPOOL_F[self.dim](x, ib, s, s, 0, output_size=target)
        return self._conv_same(up)


# ---------------------------------------------------------------------------------------------
# Checkerboard report: data


def _phase_period(phases: tuple[int, ...]) -> int:
    n = len(phases)
    return next(p for p in range(1, n + 1)
                if n % p == 0 and all(phases[i] == phases[(i + p) % n] for i in range(n)))


def _ratio(hi: float, lo: float) -> float:
    return math.inf if lo == 0 else hi / lo


def _fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return "inf" if math.isinf(r) else f"{r:.4g}"


@dataclass(frozen=True)
class LayerReport:
    """How evenly one upsampling layer's kernel taps cover its output.

    Attributes
    ----------
    name : str
        Module path in the model (``'decoder.0'``), or ``'<owner>/F.<function>'`` for a
        functional call.
    type : str
        ``'ConvTranspose2d'``, ``"Upsample('nearest-conv')"``, ``'Upsample(mode=nearest)'``,
        ``'PixelShuffle'``, ``'MaxUnpool2d'``, ``'F.interpolate(bilinear)'`` ...
    kernel_size, stride, dilation : tuple or None
        Per spatial dimension (``stride`` is the upsampling factor; a float for a
        non-integral resize; ``kernel_size`` None where there is no kernel).
    input_size, output_size : tuple of int
        Spatial sizes seen on the zeros input.
    taps_per_phase : tuple of tuple of int
        Per dimension, the kernel taps reaching each of the ``s`` output phases away from the
        borders (:func:`upconv.shapes.checkerboard_counts` for transposed convolutions).
    period : tuple of int
        Per dimension, after how many positions the coverage repeats (1 when even).
    ratio : float
        Max/min coverage away from the borders (``inf``: some positions get nothing).
    even : bool
        Whether every output position gets the same coverage (judged on the geometry; see
        ``depends_on``).
    depends_on : {None, 'weights', 'switches'}
        ``'weights'``: the real pattern also depends on learned weights (pixel shuffle's
        phase kernels, a bilinear initialisation); ``'switches'``: on where the max pool found
        its maxima (reported with the switches of the zeros input, each window's first
        position).
    fix : str
        What to change, or ``''`` when nothing is needed.
    note : str
        Anything else worth knowing.
    """

    name: str
    type: str
    kernel_size: tuple[int, ...] | None
    stride: tuple[Any, ...]
    dilation: tuple[int, ...] | None
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    taps_per_phase: tuple[tuple[int, ...], ...]
    period: tuple[int, ...]
    ratio: float
    even: bool
    depends_on: str | None = None
    fix: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (``ratio`` None when infinite)."""
        return {
            "name": self.name, "type": self.type,
            "kernel_size": None if self.kernel_size is None else list(self.kernel_size),
            "stride": list(self.stride),
            "dilation": None if self.dilation is None else list(self.dilation),
            "input_size": list(self.input_size), "output_size": list(self.output_size),
            "taps_per_phase": [list(p) for p in self.taps_per_phase],
            "period": list(self.period),
            "ratio": None if math.isinf(self.ratio) else self.ratio,
            "even": self.even, "depends_on": self.depends_on, "fix": self.fix,
            "note": self.note,
        }


@dataclass(frozen=True, eq=False)
class StackReport:
    """Coverage of the composed stack: an all-ones input propagated through every layer.

    Attributes
    ----------
    chain : tuple of str
        The layers propagated, in execution order (convolutions, pools, resizes,
        upsampling layers); a branch or an operation the report cannot follow restarts the
        chain (see ``notes``).
    input_size, output_size : tuple of int
        Spatial sizes at the chain's start and end.
    counts : (*output_size) ndarray
        Paths from the ones input to each output position (all kernels replaced by ones;
        interpolation weights kept), borders included.
    interior : tuple of slice or None
        The output positions no border (zero padding, a missing neighbour) reaches: there the
        counts are those of an infinitely large input.  None when there are none.
    period : tuple of int or None
        Per dimension, the smallest shift after which the interior repeats.
    ratio : float or None
        Max/min of the interior counts (``inf`` when some get nothing).
    even : bool or None
        Whether the interior is flat.
    fix : str
        What to change (the uneven layers' fixes), ``''`` when even.
    notes : tuple of str
        Restarts, inexact periods, compounding.
    """

    chain: tuple[str, ...]
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    counts: np.ndarray
    interior: tuple[slice, ...] | None
    period: tuple[int, ...] | None
    ratio: float | None
    even: bool | None
    fix: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def interior_counts(self) -> np.ndarray | None:
        """``counts`` restricted to :attr:`interior`."""
        return None if self.interior is None else self.counts[self.interior]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (``ratio`` None when infinite or undefined)."""
        return {
            "chain": list(self.chain), "input_size": list(self.input_size),
            "output_size": list(self.output_size), "counts": self.counts.tolist(),
            "interior": None if self.interior is None else [
                [sl.start, sl.stop] for sl in self.interior],
            "period": None if self.period is None else list(self.period),
            "ratio": None if self.ratio is None or math.isinf(self.ratio) else self.ratio,
            "even": self.even, "fix": self.fix, "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class CheckerboardReport:
    """What :func:`checkerboard_report` found: ``layers`` (upsampling only) and ``stack``."""

    input_shape: tuple[int, ...]
    layers: tuple[LayerReport, ...]
    stack: StackReport | None

    @property
    def even(self) -> bool:
        """True when every layer and the stack are even."""
        return all(lr.even for lr in self.layers) and (
            self.stack is None or self.stack.even is not False)

    def __str__(self) -> str:
        head = ["layer", "type", "kernel", "stride", "dilation", "taps/phase", "period",
                "max/min", "even"]
        rows = []
        for lr in self.layers:
            taps = (" x ".join("/".join(map(str, p)) for p in lr.taps_per_phase)
                    if len(set(lr.taps_per_phase)) > 1 else "/".join(map(str,
                                                                         lr.taps_per_phase[0])))
            rows.append([lr.name, lr.type,
                         "-" if lr.kernel_size is None else _one(lr.kernel_size),
                         _one(tuple(_num(v) for v in lr.stride)),
                         "-" if lr.dilation is None else _one(lr.dilation), taps,
                         _one(lr.period), _fmt_ratio(lr.ratio),
                         ("yes" if lr.even else "NO") + ("*" if lr.depends_on else "")])
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        n = len(self.layers)
        lines = [f"checkerboard report for input {tuple(self.input_shape)}: {n} upsampling "
                 f"layer{'s' if n != 1 else ''}"]
        if rows:
            lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
            for lr, r in zip(self.layers, rows, strict=True):
                lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                             .rstrip())
                if lr.depends_on:
                    lines.append(f"    * depends on the {lr.depends_on}")
                if lr.fix:
                    lines.append(f"    fix: {lr.fix}")
                if lr.note:
                    lines.append(f"    note: {lr.note}")
        st = self.stack
        if st is not None:
            size = f"{_one(st.input_size)} -> {_one(st.output_size)}"
            if st.interior is None:
                lines.append(f"stack: {len(st.chain)} layers, {size}: no interior (every output "
                             "position is within reach of a border)")
            else:
                box = " x ".join(f"{sl.start}..{sl.stop - 1}" for sl in st.interior)
                assert st.period is not None
                lines.append(
                    f"stack: {len(st.chain)} layers, {size}: interior {box}, period "
                    f"{_one(st.period)}, max/min {_fmt_ratio(st.ratio)}, "
                    f"{'even' if st.even else 'UNEVEN'}")
            if st.fix:
                lines.append(f"    fix: {st.fix}")
            lines += [f"    note: {t}" for t in st.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {"input_shape": list(self.input_shape),
                "layers": [lr.as_dict() for lr in self.layers],
                "stack": None if self.stack is None else self.stack.as_dict(),
                "even": self.even}


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------------------------------------
# Checkerboard report: recording one forward pass


_UNIT_TYPES: tuple[type[nn.Module], ...] = (
    Upsample, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
    nn.ConvTranspose3d, nn.Upsample, nn.PixelShuffle, nn.MaxUnpool1d, nn.MaxUnpool2d,
    nn.MaxUnpool3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d,
    nn.AvgPool3d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)

_FUNCTIONAL: dict[Any, str] = {
    F.interpolate: "interpolate", F.pixel_shuffle: "pixel_shuffle",
    **{f: "conv" for f in _CONV_F.values()}, **{f: "conv_transpose" for f in _CONVT_F.values()},
    **{f: "max_unpool" for f in _UNPOOL_F.values()},
}


@dataclass
class _Event:
    """One layer of the recorded forward pass, reduced to what the report needs."""

    name: str
    type: str
    kind: str  # conv, convT, resize, shuffle, unpool, pool, adaptive, upsample, unknown
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    spec: dict[str, Any]


def _first_tensor(obj: Any) -> Tensor | None:
    if isinstance(obj, Tensor):
        return obj
    if isinstance(obj, list | tuple):
        for v in obj:
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


def _first_plane(idx: Tensor, dim: int) -> Tensor:
    # the switches of the first (sample, channel) plane, as (1, 1, *spatial) on the CPU
    return idx.detach().cpu().reshape(-1, 1, *idx.shape[idx.dim() - dim:])[:1]


def _spatial(t: Tensor, dim: int) -> tuple[int, ...]:
    return tuple(int(v) for v in t.shape[t.dim() - dim:])


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(x) for x in v) if isinstance(v, list | tuple) else (int(v),) * n


def _conv_pads(padding: Any, k: tuple[int, ...], d: tuple[int, ...]
               ) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(k)
        totals = [dd * (kk - 1) for kk, dd in zip(k, d, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _tuple(padding, len(k)))


def _module_event(name: str, mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                  output: Any) -> _Event:
    x = _first_tensor(args) if args else _first_tensor(list(kwargs.values()))
    y = _first_tensor(output)
    assert x is not None and y is not None
    label = name or type(mod).__name__
    if isinstance(mod, Upsample):
        idx = kwargs.get("indices")
        spec: dict[str, Any] = {"layer": mod}
        if idx is not None:
            spec["indices"] = _first_plane(idx, mod.dim)
        return _Event(label, f"Upsample({mod.method!r})", "upsample", _spatial(x, mod.dim),
                      _spatial(y, mod.dim), spec)
    cls = type(mod).__name__
    if isinstance(mod, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        n = len(mod.kernel_size)
        k, d = tuple(mod.kernel_size), tuple(mod.dilation)
        return _Event(label, cls, "conv", _spatial(x, n), _spatial(y, n), {
            "k": k, "s": tuple(mod.stride), "d": d, "pads": _conv_pads(mod.padding, k, d),
            "mode": mod.padding_mode, "weight": mod.weight.detach(),
            "bias": None if mod.bias is None else mod.bias.detach()})
    if isinstance(mod, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d):
        n = len(mod.kernel_size)
        return _Event(label, cls, "convT", _spatial(x, n), _spatial(y, n), {
            "k": tuple(mod.kernel_size), "s": tuple(mod.stride), "d": tuple(mod.dilation),
            "p": _tuple(mod.padding, n)})
    if isinstance(mod, nn.Upsample):
        n = y.dim() - 2
        return _Event(label, f"{cls}(mode={mod.mode})", "resize", _spatial(x, n),
                      _spatial(y, n), {"fn": mod, "mode": mod.mode})
    if isinstance(mod, nn.PixelShuffle):
        r = mod.upscale_factor
        return _Event(label, cls, "shuffle", _spatial(x, 2), _spatial(y, 2),
                      {"s": (r, r), "channels": int(x.shape[-3])})
    if isinstance(mod, nn.MaxUnpool1d | nn.MaxUnpool2d | nn.MaxUnpool3d):
        n = int(cls[-2])
        idx = args[1] if len(args) > 1 else kwargs["indices"]
        return _Event(label, cls, "unpool", _spatial(x, n), _spatial(y, n), {
            "k": _tuple(mod.kernel_size, n), "s": _tuple(mod.stride, n),
            "p": _tuple(mod.padding, n),
            "indices": _first_plane(idx, n)})
    n = int(cls[-2])  # pools: MaxPool2d, AvgPool3d, AdaptiveAvgPool1d, ...
    if isinstance(mod, nn.MaxPool1d | nn.MaxPool2d | nn.MaxPool3d | nn.AvgPool1d | nn.AvgPool2d
                  | nn.AvgPool3d):
        k = _tuple(mod.kernel_size, n)
        return _Event(label, cls, "pool", _spatial(x, n), _spatial(y, n), {
            "fn": mod, "k": k, "s": _tuple(mod.stride if mod.stride is not None else k, n),
            "p": _tuple(mod.padding, n), "d": _tuple(getattr(mod, "dilation", 1), n)})
    return _Event(label, cls, "adaptive", _spatial(x, n), _spatial(y, n), {"fn": mod})


def _bind(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> dict[str, Any]:
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound


def _functional_event(owner: str, kind: str, func: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any], out: Any) -> _Event | None:
    y = _first_tensor(out)
    if y is None:
        return None
    name = f"{owner or 'model'}/F.{getattr(func, '__name__', kind)}"
    if kind in ("conv", "conv_transpose"):
        names = (("input", "weight", "bias", "stride", "padding", "dilation", "groups")
                 if kind == "conv" else
                 ("input", "weight", "bias", "stride", "padding", "output_padding", "groups",
                  "dilation"))
        b = _bind(names, args, kwargs)
        x, w = b["input"], b["weight"]
        n = w.dim() - 2
        k = tuple(int(v) for v in w.shape[2:])
        s, d = _tuple(b.get("stride", 1), n), _tuple(b.get("dilation", 1), n)
        if kind == "conv":
            bias = b.get("bias")
            return _Event(name, f"F.conv{n}d", "conv", _spatial(x, n), _spatial(y, n), {
                "k": k, "s": s, "d": d, "pads": _conv_pads(b.get("padding", 0), k, d),
                "mode": "zeros", "weight": w.detach(),
                "bias": None if bias is None else bias.detach()})
        return _Event(name, f"F.conv_transpose{n}d", "convT", _spatial(x, n), _spatial(y, n),
                      {"k": k, "s": s, "d": d, "p": _tuple(b.get("padding", 0), n)})
    sig = inspect.signature(func) if kind != "pixel_shuffle" else None
    if kind == "pixel_shuffle":
        b = _bind(("input", "upscale_factor"), args, kwargs)
        r = int(b["upscale_factor"])
        return _Event(name, "F.pixel_shuffle", "shuffle", _spatial(b["input"], 2),
                      _spatial(y, 2), {"s": (r, r), "channels": int(b["input"].shape[-3])})
    assert sig is not None
    b = dict(sig.bind(*args, **kwargs).arguments)
    x = b.pop("input")
    n = x.dim() - 2
    if kind == "interpolate":
        mode = b.get("mode", "nearest")

        def fn(t: Tensor, _kw: dict[str, Any] = b) -> Tensor:
            out: Tensor = F.interpolate(t, **_kw)
            return out

        return _Event(name, f"F.interpolate({mode})", "resize", _spatial(x, n), _spatial(y, n),
                      {"fn": fn, "mode": mode})
    idx = b["indices"]
    k = _tuple(b["kernel_size"], n)
    return _Event(name, f"F.max_unpool{n}d", "unpool", _spatial(x, n), _spatial(y, n), {
        "k": k, "s": _tuple(b.get("stride") or k, n), "p": _tuple(b.get("padding", 0), n),
        "indices": _first_plane(idx, n)})


class _Recorder(TorchFunctionMode):
    """Module hooks plus a torch-function mode: every layer of one forward pass, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[_Event] = []
        self.owners: list[str] = []
        self.marks: list[int] = []
        self.depth = 0  # > 0 inside a recognised layer: its internals are not recorded

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.depth == 0 and func in _FUNCTIONAL:
            owner = self.owners[-1] if self.owners else ""
            ev = _functional_event(owner, _FUNCTIONAL[func], func, args, kwargs, out)
            if ev is not None:
                self.events.append(ev)
        return out

    def attach(self, model: nn.Module) -> list[Any]:
        handles = []
        for name, mod in model.named_modules():
            handles.append(mod.register_forward_pre_hook(self._pre(name), with_kwargs=True))
            handles.append(mod.register_forward_hook(self._post(name), with_kwargs=True))
        return handles

    def _pre(self, name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            self.owners.append(name)
            self.marks.append(len(self.events))
            if isinstance(mod, _UNIT_TYPES):
                self.depth += 1
        return hook

    def _post(self, name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                 output: Any) -> None:
            self.owners.pop()
            mark = self.marks.pop()
            if isinstance(mod, _UNIT_TYPES):
                self.depth -= 1
                if self.depth == 0:
                    self.events.append(_module_event(name, mod, args, kwargs, output))
            elif self.depth == 0 and len(self.events) == mark and not any(
                    True for _ in mod.children()):
                # an unknown leaf layer: harmless unless it changes the spatial size
                x, y = _first_tensor(args), _first_tensor(output)
                if x is not None and y is not None and x.dim() >= 3 and (
                        x.dim() != y.dim() or x.shape[2:] != y.shape[2:]):
                    n = x.dim() - 2
                    self.events.append(_Event(name or type(mod).__name__, type(mod).__name__,
                                              "unknown", _spatial(x, n),
                                              _spatial(y, y.dim() - 2), {}))
        return hook


# ---------------------------------------------------------------------------------------------
# Checkerboard report: propagating coverage maps


def _ones(k: tuple[int, ...]) -> Tensor:
    return torch.ones((1, 1, *k), dtype=torch.float64)


def _crop(t: Tensor, size: tuple[int, ...]) -> Tensor:
    return t[_cells(size)]


def _pad_border(bad: Tensor, pairs: tuple[tuple[int, int], ...]) -> Tensor:
    # Pad with "border" marks: batch element a of the mask tracks the borders of axis a only,
    # so that the interior comes out as a product of per-axis intervals (a position with no
    # tap at all is never border-affected, which a single mask could not express).
    out = F.pad(bad, _flat_pad(pairs))
    for axis, (before, after) in enumerate(pairs):
        length = out.shape[2 + axis]
        for sl in (slice(0, before), slice(length - after, length)):
            index: tuple[Any, ...] = (axis, slice(None), *(
                sl if a == axis else slice(None) for a in range(len(pairs))))
            out[index] = 1.0
    return out


def _transpose_bad(bad: Tensor, k: tuple[int, ...], s: tuple[int, ...], p: tuple[int, ...],
                   d: tuple[int, ...], out: tuple[int, ...]) -> Tensor:
    # Surround the input by a halo of "border" cells, run the transposed convolution in full
    # and cut out the real output: an output is border-affected when a tap reaching it comes
    # from outside the input (or from a border-affected input).
    n = len(k)
    h = tuple(-(-max(dd * (kk - 1) + 1, dd) // ss) + 2 for kk, ss, dd in zip(k, s, d,
                                                                            strict=True))
    ext = _pad_border(bad, tuple((v, v) for v in h))
    full = _CONVT_F[n](ext, _ones(k), stride=s, dilation=d)
    start = [hh * ss + pp for hh, ss, pp in zip(h, s, p, strict=True)]
    index: tuple[Any, ...] = (Ellipsis, *(slice(a, a + o) for a, o in zip(start, out,
                                                                            strict=True)))
    box = full[index]
    return (box > 0).double()


def _window_bad(bad: Tensor, k: tuple[int, ...], s: tuple[int, ...], p: tuple[int, ...],
                d: tuple[int, ...], out: tuple[int, ...]) -> Tensor:
    # A window is border-affected when it reads padding, runs off the end (ceil mode) or
    # reads a border-affected input.
    n = len(k)
    ext = tuple((pp, pp + dd * (kk - 1) + 1) for kk, pp, dd in zip(k, p, d, strict=True))
    y = _MAXPOOL_F[n](_pad_border(bad, ext), k, s, 0, d)
    return _crop(y, out)


def _step(kind: str, spec: dict[str, Any], counts: Tensor, bad: Tensor,
          out: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Propagate the coverage ``counts`` and the border mask ``bad`` through one primitive."""
    n = counts.dim() - 2
    if kind == "conv":
        k, s, d, pads = spec["k"], spec["s"], spec["d"], spec["pads"]
        mode = spec.get("mode", "zeros")
        flat = _flat_pad(pads)
        padded = (F.pad(counts, flat) if mode == "zeros" or not any(flat)
                  else F.pad(counts, flat, mode=mode))
        counts = _CONV_F[n](padded, _ones(k), stride=s, dilation=d)
        bad = (_CONV_F[n](_pad_border(bad, pads), _ones(k), stride=s, dilation=d) > 0
               ).double()
    elif kind == "convT":
        k, s, d, p = spec["k"], spec["s"], spec["d"], spec["p"]
        g = transpose_geometry(tuple(counts.shape[2:]), k, s, p, 0, d, output_size=out,
                               func="checkerboard_report")
        counts = _CONVT_F[n](counts, _ones(k), stride=s, padding=p,
                             output_padding=g.output_padding, dilation=d)
        bad = _transpose_bad(bad, k, s, p, d, out)
    elif kind == "resize":
        counts = spec["fn"](counts)
        bad = (spec["fn"](bad).abs() > 1e-9).double()
    elif kind == "shuffle":
        for axis, r in enumerate(spec["s"]):
            counts = counts.repeat_interleave(r, dim=2 + axis)
            bad = bad.repeat_interleave(r, dim=2 + axis)
    elif kind == "unpool":
        k, s, p = spec["k"], spec["s"], spec["p"]
        counts = _UNPOOL_F[n](counts, spec["indices"], k, s, p, output_size=out)
        bad = _transpose_bad(bad, k, s, p, (1,) * n, out)
    elif kind == "nails":
        s = spec["s"]
        up = counts.new_zeros((1, 1, *(v * ss for v, ss in zip(counts.shape[2:], s,
                                                               strict=True))))
        up[_grid(s)] = counts
        counts = _crop(up, out)
        bad = _transpose_bad(bad, s, s, (0,) * n, (1,) * n, out)
    elif kind == "crop":
        counts, bad = _crop(counts, out), _crop(bad, out)
    elif kind == "pool":
        counts = _pooled(spec["fn"], counts)
        bad = _window_bad(bad, spec["k"], spec["s"], spec["p"], spec["d"], out)
    else:  # adaptive pools
        counts = _pooled(spec["fn"], counts)
        bad = (_pooled(spec["fn"], bad) > 0).double()
    return counts, bad


def _pooled(fn: Callable[[Tensor], Any], t: Tensor) -> Tensor:
    out = _first_tensor(fn(t))  # a pool may return (values, indices)
    assert out is not None
    return out


def _upsample_steps(ev: _Event) -> list[tuple[str, dict[str, Any], tuple[int, ...]]]:
    """An :class:`Upsample` event as primitive steps ``(kind, spec, output size)``."""
    m: Upsample = ev.spec["layer"]
    out, s, k = ev.out_size, m.scale_factor, m.kernel_size
    same = {"k": k, "s": (1,) * m.dim, "d": (1,) * m.dim, "pads": m._pads}
    if m.method in _TRANSPOSED:
        return [("convT", {"k": k, "s": s, "d": (1,) * m.dim, "p": m.padding}, out)]
    if m.method in _RESIZE:
        mode = "nearest" if m.method == "nearest-conv" else _LINEAR[m.dim]

        def fn(t: Tensor) -> Tensor:
            return F.interpolate(t, size=out, mode=mode,
                                 align_corners=None if mode == "nearest" else False)

        return [("resize", {"fn": fn}, out), ("conv", same, out)]
    if m.method == "pixel-shuffle":
        full = tuple(v * ss for v, ss in zip(ev.in_size, s, strict=True))
        return [("conv", same, ev.in_size), ("shuffle", {"s": s}, full), ("crop", {}, out),]
    if m.method == "unpool":
        return [("unpool", {"k": s, "s": s, "p": (0,) * m.dim, "indices": ev.spec["indices"]},
                 out), ("conv", same, out)]
    return [("nails", {"s": s}, out), ("conv", same, out)]


def _steps(ev: _Event) -> list[tuple[str, dict[str, Any], tuple[int, ...]]]:
    if ev.kind == "upsample":
        if ev.spec["layer"].method == "unpool" and "indices" not in ev.spec:
            return []
        return _upsample_steps(ev)
    if ev.kind == "shuffle":
        return [("shuffle", ev.spec, ev.out_size)]
    return [(ev.kind, ev.spec, ev.out_size)]


def _interior(bad: np.ndarray) -> tuple[slice, ...] | None:
    # bad[a]: positions a border of axis a reaches; the interior is, per axis, the longest
    # run of indices whose whole slab is untouched by that axis's borders.
    box = []
    for axis in range(bad.shape[0]):
        other = tuple(1 + a for a in range(bad.shape[0]) if a != axis)
        clean = ~(bad[axis] > 0).any(axis=tuple(a - 1 for a in other)) if other else ~(
            bad[axis] > 0)
        runs, start = [], None
        for i, ok in enumerate([*clean.tolist(), False]):
            if ok and start is None:
                start = i
            elif not ok and start is not None:
                runs.append(slice(start, i))
                start = None
        if not runs:
            return None
        box.append(max(runs, key=lambda sl: sl.stop - sl.start))  # the first of the longest
    return tuple(box)


# ---------------------------------------------------------------------------------------------
# Checkerboard report: judging layers


def _same_size_kernel(k2: int, s: int, d: int, size: int, out: int) -> tuple[int, int] | None:
    # padding and output_padding giving the same output size with kernel k2
    for p in range(0, d * (k2 - 1) + 1):
        try:
            lo, hi = conv_transpose_size_range(size, k2, s, p, d)
        except ShapeError:
            return None
        if isinstance(lo, int) and isinstance(hi, int) and lo <= out <= hi:
            a = output_padding_for(size, out, k2, s, p, d)
            assert isinstance(a, int)
            return p, a
    return None


def _taps_text(phases: tuple[tuple[int, ...], ...]) -> str:
    texts = list(dict.fromkeys("/".join(map(str, p)) for p in phases))
    return " and ".join(texts)


def _transposed_fix(k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...],
                    phases: tuple[tuple[int, ...], ...], in_size: tuple[int, ...],
                    out_size: tuple[int, ...], *, what: str = "kernel_size {k} with stride {s}",
                    alternative: str = "nearest-conv resize-then-convolve",
                    same_size: bool = True) -> str:
    fixes = []
    k2 = list(k)
    for axis, (kk, ss, dd, ph) in enumerate(zip(k, s, d, phases, strict=True)):
        if len(set(ph)) == 1:
            continue
        taps = "/".join(map(str, ph))
        if math.gcd(dd, ss) > 1:
            fixes.append(f"dilation {dd} with stride {ss} leaves holes (taps per phase {taps}): "
                         f"use a dilation coprime with the stride (e.g. 1) or {alternative}")
            continue
        k2[axis] = -(-kk // ss) * ss
        verb = "leaves holes" if 0 in ph else "overlaps unevenly"
        fixes.append(f"{what.format(k=kk, s=ss)} {verb} (taps per phase {taps}): use "
                     f"kernel_size {k2[axis]} (divisible by the stride) or {alternative}")
    fixes = list(dict.fromkeys(fixes))
    if not fixes:
        return ""
    text = "; ".join(fixes)
    if same_size and all(math.gcd(dd, ss) == 1 for dd, ss in zip(d, s, strict=True)):
        sols = [_same_size_kernel(kk, ss, dd, ii, oo)
                for kk, ss, dd, ii, oo in zip(k2, s, d, in_size, out_size, strict=True)]
        if all(sol is not None for sol in sols):
            pads = tuple(sol[0] for sol in sols if sol is not None)
            ops = tuple(sol[1] for sol in sols if sol is not None)
            text += (f" (kernel_size={_one(tuple(k2))}, padding={_one(pads)}, "
                     f"output_padding={_one(ops)} keep the output size {_one(out_size)})")
    return text


def _report(name: str, type_: str, k: tuple[int, ...] | None, s: tuple[Any, ...],
            d: tuple[int, ...] | None, ev: _Event, phases: tuple[tuple[int, ...], ...],
            depends_on: str | None = None, fix: str = "", note: str = "") -> LayerReport:
    period = tuple(_phase_period(p) for p in phases)
    ratio = _ratio(math.prod(max(p) for p in phases), math.prod(min(p) for p in phases))
    even = all(len(set(p)) == 1 for p in phases)
    return LayerReport(name, type_, k, s, d, ev.in_size, ev.out_size, phases, period, ratio,
                       even, depends_on, fix, note)


def _icnr_state(weight: Tensor | None, bias: Tensor | None, s: tuple[int, ...]) -> bool | None:
    # Whether the convolution before a pixel shuffle has equal kernels in every phase.
    phases = math.prod(s)
    if weight is None or weight.shape[0] % phases:
        return None
    wv = weight.reshape(weight.shape[0] // phases, phases, *weight.shape[1:])
    same = bool(torch.equal(wv, wv[:, :1].expand_as(wv)))
    if bias is not None:
        bv = bias.reshape(-1, phases)
        same = same and bool(torch.equal(bv, bv[:, :1].expand_as(bv)))
    return same


def _shuffle_report(ev: _Event, s: tuple[int, ...], k: tuple[int, ...] | None,
                    weight: Tensor | None, bias: Tensor | None) -> LayerReport:
    icnr = _icnr_state(weight, bias, s)
    n_ph = math.prod(s)
    phases = tuple((kk,) * ss for kk, ss in zip(k or (1,) * len(s), s, strict=True))
    fix = ""
    if icnr is None:
        note = "no convolution found just before it"
    elif icnr:
        note = (f"the {n_ph} phase kernels of the convolution before it agree now (ICNR): "
                "a flat input gives a flat output; training can make them drift apart")
    else:
        note = (f"the {n_ph} phase kernels of the convolution before it differ, so even a flat "
                f"input can come out with a period-{_one(s)} pattern")
        fix = ("initialise the convolution before the shuffle with ICNR (upconv.torch.icnr_) "
               "or use nearest-conv")
    return _report(ev.name, ev.type, k, s, (1,) * len(s), ev, phases, "weights", fix, note)


def _layer_report(ev: _Event, prev_conv: _Event | None) -> LayerReport | None:
    """The per-layer verdict for an upsampling event (None for other layers)."""
    if ev.kind == "convT":
        k, s, d = ev.spec["k"], ev.spec["s"], ev.spec["d"]
        phases = tuple(checkerboard_counts(*a) for a in zip(k, s, d, strict=True))
        fix = _transposed_fix(k, s, d, phases, ev.in_size, ev.out_size)
        return _report(ev.name, ev.type, k, s, d, ev, phases, fix=fix)
    if ev.kind == "resize":
        stride = tuple(o // i if o % i == 0 else o / i
                       for i, o in zip(ev.in_size, ev.out_size, strict=True))
        if all(o <= i for i, o in zip(ev.in_size, ev.out_size, strict=True)):
            return None  # not an upsampling
        phases = tuple((1,) * v if isinstance(v, int) else (1,) for v in stride)
        mode = ev.spec["mode"]
        note = ("each output is one input value (nearest): even, but the layer adds no "
                "smoothing; follow it with a convolution" if "nearest" in mode else
                "interpolation weights sum to 1 at every output: even")
        return _report(ev.name, ev.type, None, stride, None, ev, phases, note=note)
    if ev.kind == "shuffle":
        # the convolution just before, if its output is what is shuffled
        ok = prev_conv is not None and prev_conv.out_size == ev.in_size and int(
            prev_conv.spec["weight"].shape[0]) == ev.spec["channels"]
        return _shuffle_report(
            ev, ev.spec["s"], prev_conv.spec["k"] if ok and prev_conv else None,
            prev_conv.spec["weight"] if ok and prev_conv else None,
            prev_conv.spec["bias"] if ok and prev_conv else None)
    if ev.kind == "unpool":
        k, s = ev.spec["k"], ev.spec["s"]
        phases = tuple(checkerboard_counts(1, ss) for ss in s)
        cells = math.prod(s)
        return _report(
            ev.name, ev.type, k, s, None, ev, phases, "switches",
            fix=(f"switch unpooling fills 1 of every {cells} positions (which one follows the "
                 "data): follow it with a convolution, or use nearest-conv if the positions "
                 "need not be restored"),
            note="reported with the switches of the zeros input (each window's first position)")
    if ev.kind != "upsample":
        return None
    m: Upsample = ev.spec["layer"]
    k, s, one = m.kernel_size, m.scale_factor, (1,) * m.dim
    typ = ev.type
    if m.method == "transposed":
        phases = tuple(checkerboard_counts(kk, ss) for kk, ss in zip(k, s, strict=True))
        fix = _transposed_fix(k, s, one, phases, ev.in_size, ev.out_size,
                              alternative="method='nearest-conv'", same_size=False)
        return _report(ev.name, typ, k, s, one, ev, phases, fix=fix)
    if m.method == "transposed-bilinear":
        phases = tuple(checkerboard_counts(kk, ss) for kk, ss in zip(k, s, strict=True))
        if all(len(set(p)) == 1 for p in phases):
            return _report(ev.name, typ, k, s, one, ev, phases, "weights",
                           note="starts as bilinear interpolation; training changes the kernel")
        return _report(
            ev.name, typ, k, s, one, ev, phases, "weights",
            fix=(f"kernel_size {_one(k)} with stride {_one(s)} overlaps unevenly (taps per "
                 f"phase {_taps_text(phases)}); the bilinear initial weights compensate (a "
                 "flat input stays flat) but training can undo it: use an even scale_factor "
                 "or method='bilinear-conv'"))
    if m.method in _RESIZE:
        phases = tuple((kk,) * ss for kk, ss in zip(k, s, strict=True))
        return _report(ev.name, typ, k, s, one, ev, phases,
                       note="resize, then a stride-1 convolution: every output gets the "
                            "same number of taps")
    if m.method == "pixel-shuffle":
        b = _bias(m.conv)
        return _shuffle_report(ev, s, k, _param(m.conv, "weight").detach(),
                               None if b is None else b.detach())
    # bed-of-nails, unpool: values on a stride-s grid, then a convolution = a transposed conv
    phases = tuple(checkerboard_counts(kk, ss) for kk, ss in zip(k, s, strict=True))
    what = ("bed-of-nails then a kernel_size {k} convolution (a stride-{s} transposed "
            "convolution in disguise)" if m.method == "bed-of-nails" else
            "unpooling then a kernel_size {k} convolution (with first-position switches a "
            "stride-{s} transposed convolution)")
    fix = _transposed_fix(k, s, one, phases, ev.in_size, ev.out_size, what=what,
                          alternative="method='nearest-conv'", same_size=False)
    if m.method == "bed-of-nails":
        return _report(ev.name, typ, k, s, one, ev, phases, fix=fix)
    return _report(ev.name, typ, k, s, one, ev, phases, "switches", fix=fix,
                   note="reported with the switches of the zeros input (each window's first "
                        "position); real switches move the values, and the pattern with them")


# ---------------------------------------------------------------------------------------------
# Checkerboard report: the public function


def checkerboard_report(
    model: nn.Module, input_shape: Any, *, forward_kwargs: dict[str, Any] | None = None
) -> CheckerboardReport:
    """Find a model's upsampling layers and say how unevenly their kernels overlap.

    A stride-``s`` transposed convolution whose kernel size is not divisible by ``s`` gives
    some outputs more kernel taps than their neighbours; stacked layers compound the pattern
    (Odena, Dumoulin & Olah 2016).  The model runs once on zeros of ``input_shape`` (in eval
    mode, without gradients; its modes are restored) with hooks recording every layer's input
    and output size.  Each upsampling layer is judged from its kernel size, stride and
    dilation (:func:`upconv.shapes.checkerboard_counts`); the stack by propagating an all-ones
    map through every recorded layer in order with all-ones kernels (interpolation weights
    kept), so that each output position holds the number of paths reaching it, and measuring
    the interior, where no border reaches.

    Parameters
    ----------
    model : nn.Module
        Any module.  Recognised: ``nn.ConvTranspose{1,2,3}d``, :class:`Upsample`,
        ``nn.Upsample`` (and its subclasses), ``nn.PixelShuffle``, ``nn.MaxUnpool{1,2,3}d``
        and the functional calls ``F.interpolate``, ``F.pixel_shuffle``,
        ``F.conv_transpose{1,2,3}d``, ``F.max_unpool{1,2,3}d`` made in a custom ``forward``;
        convolutions, pools and adaptive pools are propagated too.
    input_shape : tuple of int
        ``(N, C, *spatial)``.  Large enough that the output has an interior spanning two
        periods, or the stack's period is reported as inexact.
    forward_kwargs : dict, optional, keyword-only
        Extra keyword arguments for ``model(x, **forward_kwargs)`` (e.g. ``indices`` for a
        bare ``Upsample(method='unpool')``).

    Returns
    -------
    CheckerboardReport
        ``.layers``: one :class:`LayerReport` per upsampling layer (name, type, kernel,
        stride, dilation, taps per phase, period, max/min ratio, ``even``, ``fix``);
        ``.stack``: a :class:`StackReport`; ``str()`` is a readable table; ``as_dict()``.

    Raises
    ------
    ShapeError
        If ``input_shape`` is not ``(N, C, *spatial)`` or the model fails on it.
    TypeError
        If ``model`` is not an ``nn.Module``.

    See Also
    --------
    upconv.explain.checkerboard : the same counts drawn as a heat map.
    upconv.shapes.checkerboard_counts : taps per phase of one transposed convolution.

    Notes
    -----
    Per dimension, tap ``a`` of a transposed convolution reaches the outputs ``o`` with
    ``o + p ≡ a*d (mod s)``; the phases get equal counts iff ``s`` divides ``k`` and
    ``gcd(d, s) = 1``.  A d-dimensional layer's pattern is the outer product of its
    dimensions' counts, so its max/min ratio is the product of theirs.  Switch unpooling is
    reported with the switches the zeros input produces (every window's first position);
    pixel shuffle's geometry is even, but its phases have separate kernels ("depends on the
    weights": ICNR starts them equal).

    Examples
    --------
    >>> model = nn.Sequential(nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1,
    ...                                          output_padding=1),
    ...                       nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1))
    >>> rep = checkerboard_report(model, (1, 1, 8, 8))
    >>> [(lr.taps_per_phase, lr.ratio, lr.even) for lr in rep.layers]
    [(((2, 1), (2, 1)), 4.0, False), (((2, 2), (2, 2)), 1.0, True)]
    >>> print(rep.layers[0].fix)
    kernel_size 3 with stride 2 overlaps unevenly (taps per phase 2/1): use kernel_size 4 \
(divisible by the stride) or nearest-conv resize-then-convolve (kernel_size=4, padding=1, \
output_padding=0 keep the output size 16)

    Here the second layer (k = 2s) sums neighbouring pairs and flattens the first one's
    period-2 pattern; two k=3, s=2 layers compound it instead:

    >>> rep.stack.even
    True
    >>> k3s2 = dict(kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> model = nn.Sequential(nn.ConvTranspose2d(1, 1, **k3s2),
    ...                       nn.ConvTranspose2d(1, 1, **k3s2))
    >>> st = checkerboard_report(model, (1, 1, 8, 8)).stack
    >>> st.period, st.ratio, st.even
    ((4, 4), 9.0, False)
    >>> st.counts[8:12, 8:12]
    array([[1, 3, 2, 3],
           [3, 9, 6, 9],
           [2, 6, 4, 6],
           [3, 9, 6, 9]])
    """
    func = "checkerboard_report"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, not {type(model).__name__}")
    if isinstance(input_shape, torch.Size):
        input_shape = tuple(input_shape)
    if not isinstance(input_shape, list | tuple) or not 3 <= len(input_shape) <= 5 or not all(
            _is_int(v) and v >= 1 for v in input_shape):
        raise ShapeError(
            f"{func}: input_shape={_show(input_shape)} must be (N, C, *spatial) with 1 to 3 "
            "spatial dimensions, all positive integers"
        )
    shape = tuple(int(v) for v in input_shape)
    param = next(model.parameters(), None)
    x = torch.zeros(shape, dtype=param.dtype if param is not None and param.is_floating_point()
                    else torch.float32, device=param.device if param is not None else "cpu")
    events = _record(model, x, forward_kwargs or {}, func)

    layers: list[LayerReport] = []
    last_conv: _Event | None = None
    for ev in events:
        lr = _layer_report(ev, last_conv)
        if lr is not None:
            layers.append(lr)
        last_conv = ev if ev.kind == "conv" else None
    return CheckerboardReport(shape, tuple(layers), _stack(events, layers))


def _record(model: nn.Module, x: Tensor, kwargs: dict[str, Any], func: str) -> list[_Event]:
    modes = [(m, m.training) for m in model.modules()]
    rec = _Recorder()
    handles = rec.attach(model)
    try:
        model.eval()
        with torch.no_grad(), rec:
            model(x, **kwargs)
    except Exception as err:
        raise ShapeError(
            f"{func}: running the model on zeros of shape {tuple(x.shape)} failed "
            f"({type(err).__name__}: {err}); pass the input shape the model expects, "
            "(N, C, *spatial), and forward_kwargs for layers that need more (indices for "
            "Upsample(method='unpool'))"
        ) from err
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            m.training = training
    return rec.events


def _stack(events: list[_Event], layers: list[LayerReport]) -> StackReport | None:
    counts: Tensor | None = None
    bad = torch.zeros(())
    chain: list[str] = []
    notes: list[str] = []
    start: tuple[int, ...] = ()
    for ev in events:
        steps = _steps(ev)
        if ev.kind == "unknown" or not steps:
            why = ("changes the size " f"{_one(ev.in_size)} -> {_one(ev.out_size)} in a way "
                   "the report cannot follow" if ev.kind == "unknown" else
                   "was called without switches")
            notes.append(f"{ev.name} ({ev.type}) {why}; the stack restarts after it")
            counts = None
            continue
        if counts is None or tuple(counts.shape[2:]) != ev.in_size:
            if counts is not None:
                notes.append(
                    f"the stack restarts at {ev.name}: its input size {_one(ev.in_size)} is not "
                    f"the previous layer's output {_one(tuple(counts.shape[2:]))} (a branch, or "
                    "an operation the report does not see)")
            counts = torch.ones((1, 1, *ev.in_size), dtype=torch.float64)
            bad = torch.zeros((len(ev.in_size), 1, *ev.in_size), dtype=torch.float64)
            chain, start = [], ev.in_size
        for kind, spec, out in steps:
            counts, bad = _step(kind, spec, counts, bad, out)
        assert tuple(counts.shape[2:]) == ev.out_size, (ev, counts.shape)
        chain.append(ev.name)
    if counts is None:
        return None
    c = counts[0, 0].numpy()
    if np.allclose(c, np.rint(c), rtol=0, atol=1e-6):
        c = np.rint(c).astype(np.int64)
    else:  # interpolation weights: drop float noise so that equal values compare equal
        c = np.round(c, 9)
    interior = _interior(bad[:, 0].numpy())
    period = ratio = even = None
    fix = ""
    if interior is None:
        notes.append("no interior: every output position is within reach of a border; use a "
                      "larger input_shape")
    else:
        from .explain.checkerboard import _period  # the heat maps' own period finder

        inner = c[interior]
        lo, hi = float(inner.min()), float(inner.max())
        ratio = _ratio(hi, lo)
        even = bool(math.isclose(hi, lo, rel_tol=1e-9, abs_tol=1e-12))
        period = tuple(_period(inner, axis) for axis in range(inner.ndim))
        in_chain = [lr for lr in layers if lr.name in chain]
        for axis, p in enumerate(period):
            # the pattern repeats at the latest after the product of the upsampling factors
            cycle = math.prod(v for lr in in_chain for v in lr.stride[axis:axis + 1]
                              if isinstance(v, int))
            if 2 * max(p, cycle) > inner.shape[axis] and (p > 1 or cycle > 1):
                notes.append(f"the interior spans {inner.shape[axis]} position"
                             f"{'s' if inner.shape[axis] != 1 else ''} in dimension {axis}, "
                             f"less than two cycles of {max(p, cycle)}: period and max/min may "
                             "be inexact; use a larger input_shape")
        if not even:
            bad_layers = [lr for lr in in_chain if lr.fix]
            fix = ("; ".join(f"{lr.name}: {lr.fix}" for lr in bad_layers) if bad_layers else
                   "every layer is even on its own; the unevenness comes from how the layers "
                   "combine (e.g. a strided convolution sampling a pattern)")
            uneven = [lr for lr in in_chain if not lr.even]
            if len(uneven) > 1:
                each = " x ".join(_fmt_ratio(lr.ratio) for lr in uneven)
                notes.append(f"{len(uneven)} uneven layers compound: stack max/min "
                             f"{_fmt_ratio(ratio)} (the layers alone: {each})")
    return StackReport(tuple(chain), start, tuple(c.shape), c, interior, period, ratio, even,
                       fix, tuple(notes))


__all__ = [
    "METHODS",
    "CheckerboardReport",
    "LayerReport",
    "StackReport",
    "Upsample",
    "checkerboard_report",
    "icnr_",
    "paired_max_pool",
]
