"""Transposed convolution (PyTorch's ``conv_transpose1d/2d/3d``), four ways, and its gradients.

The seeds explain the operation in four ways, and each is a ``method`` of
:func:`conv_transpose`, implemented faithfully so they can be read side by side:

``'scatter'``
    Seed 002's worked example: every input element times the whole kernel, added into the
    output at its stride-spaced position (one strided add per kernel tap).
``'direct'``
    Seed 004, Relationships 7-13: stretch the input with ``s-1`` zeros between units, pad
    ``d(k-1)-p`` zeros, and convolve with the kernel flipped and its channels swapped.
``'matrix'``
    Seed 004, Figure 2.3: multiply by ``C.T``, where ``C`` is the convolution's sparse matrix.
``'subpixel'``
    ``s^d`` independent stride-1 convolutions, one per output phase, each with the kernel taps
    that land on that phase, interleaved.
``'auto'``
    The cheapest of three GEMM formulations by a cost estimate (see ``_gemm``): one GEMM
    ``(C_out*k^d, C_in) @ (C_in, N*L)`` with the weight read through a transposed view, then
    col2im, accumulated per output phase (PyTorch's own CPU algorithm, laid out so that every
    tap is one contiguous add); the sub-pixel view fused into one GEMM
    ``(P*C_out, C_in*q^d) @ (C_in*q^d, N*M)`` over all ``P`` output phases at once, then an
    interleave (``q = d(k-1)//s + 1`` shifts), which wins for the usual ``k = 2s`` upsampling
    layers; or, with one input channel per group (depthwise), a tiny product per channel whose
    output rows come out already interleaved.

The backward pass closes the loop: the input gradient of a transposed convolution is the
ordinary convolution with the same weight, computed by calling :func:`upconv.conv`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validate import ShapeError
from ..shapes import TransposeGeometry, transpose_geometry
from . import _gemm, _numba, _tiles, matrix
from .conv import _grad_output, _operands, conv

Index = tuple[Any, ...]
_METHODS = ("auto", "scatter", "direct", "matrix", "subpixel")


def _spatial_output_size(func: str, output_size: Any, nd: int, unbatched: bool) -> Any:
    # PyTorch accepts the spatial sizes alone or with the non-spatial dims (N, C), or C alone
    # for unbatched input, and strips those.
    if output_size is None or isinstance(output_size, int | np.integer):
        return output_size
    if isinstance(output_size, np.ndarray):
        output_size = output_size.tolist()
    if not isinstance(output_size, list | tuple):
        raise TypeError(
            f"{func}: output_size={output_size!r} must be an int or a tuple of ints, "
            f"not {type(output_size).__name__}"
        )
    lead = 1 if unbatched else 2
    if len(output_size) == nd + lead:
        return tuple(output_size[lead:])
    if len(output_size) != nd:
        full = "(C, *spatial)" if unbatched else "(N, C, *spatial)"
        raise ShapeError(
            f"{func}: output_size={tuple(output_size)} has {len(output_size)} entries; give the "
            f"{nd} spatial size{'s' if nd > 1 else ''} or {full} ({nd + lead} entries)"
        )
    return tuple(output_size)


def _flip_swap(weight: np.ndarray, groups: int) -> np.ndarray:
    # (C_in, C_out/G, *k) -> (C_out, C_in/G, *k) with every spatial axis reversed: the kernel
    # of the equivalent direct convolution (conventions.md §2); the swap happens inside each
    # group.
    c_in, cout_g, *k = weight.shape
    w = weight.reshape(groups, c_in // groups, cout_g, *k).swapaxes(1, 2)
    w = w.reshape(groups * cout_g, c_in // groups, *k)
    return np.ascontiguousarray(np.flip(w, axis=tuple(range(2, w.ndim))))


def _crop(g: TransposeGeometry) -> Index:
    # The output [p_before, p_before + o') out of a buffer that starts at the full output's 0.
    return (..., *(slice(pb, pb + o) for (pb, _), o in zip(g.padding, g.output_size,
                                                           strict=True)))


def _add_bias(y: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    if bias is not None:
        y += bias.reshape(-1, *(1,) * (y.ndim - 2))
    return y


# How much cheaper (estimated) GEMM + col2im must be, with numba's compiled paths in use, to be
# taken over the sub-pixel kernel for overlapping taps: see _auto.
BLAS_THREADS_PENALTY = 1.6
# ... for 2-d and 3-d layers with at least this many output channels (with fewer, and in 1-d,
# the sub-pixel tiles measured 1.5-3x slower than GEMM + col2im at batch 1).
BLAS_THREADS_MIN_CHANNELS = 16


def _taps_overlap(w: np.ndarray, g: TransposeGeometry) -> bool:
    # Whether neighbouring inputs' stamps overlap on some axis (dilated kernel longer than s)
    return any(d * (k - 1) + 1 > s for k, s, d in zip(w.shape[2:], g.stride, g.dilation,
                                                      strict=True))


def _auto(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: TransposeGeometry,
          groups: int) -> np.ndarray:
    # Three GEMM formulations (see _gemm): GEMM + col2im, which never multiplies a zero; the
    # sub-pixel GEMM, which replaces col2im's k^d read-modify-write passes by Q^d copies of the
    # input but multiplies zeros where taps miss phases; and, with one input channel per
    # group, per-channel products with no channel sum at all.  Pick the cheapest estimate.
    before = [pb for pb, _ in g.padding]
    args = (x, w, b, g.stride, before, g.dilation, groups, g.output_size)
    if _numba.available() and _numba.use_planes(x.shape[1] // groups, w.shape[1]):
        # tiny groups (depthwise): compiled loops over output planes, no GEMM to lean on
        return _numba.conv_transpose_planes(*args)
    costs = _gemm.transpose_costs(x.shape, w.shape, *args[3:])
    best = min(costs, key=costs.__getitem__)
    if (best == "conv_transpose_forward" and groups == 1 and x.ndim > 3 and _taps_overlap(w, g)
            and w.shape[1] >= BLAS_THREADS_MIN_CHANNELS and _tiles.available(x.dtype)
            and not _gemm.batch_shared(x.shape, w.shape, groups, g.output_size, w.shape[1])
            and costs["conv_transpose_phases"] <= BLAS_THREADS_PENALTY * costs[best]):
        # With the compiled tiles in use, the sub-pixel kernel is taken unless GEMM + col2im
        # is estimated far cheaper, or the taps do not overlap (k <= s: one tap per phase,
        # where the sub-pixel kernel is slow).  (First for BLAS's threads, which spun after
        # GEMM + col2im's product and held back the next numba loops; that product now runs
        # on the tiles too (_gemm._product), and the rule still measured better: 512 -> 256
        # and 256 -> 128 at batch 1 8 % and 17 % faster with it, in-process A/B.)
        best = "conv_transpose_phases"
    kernel: Callable[..., np.ndarray] = getattr(_gemm, best)
    return _gemm.by_samples(kernel, *args, c_out=w.shape[1] * groups)


def _scatter(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: TransposeGeometry,
             groups: int) -> np.ndarray:
    # Seed 002: each input element x[i] stamps x[i] * kernel onto the output starting at
    # i*s.  Grouping the stamps by kernel tap a, tap a of all inputs lands on the positions
    # i*s + a*d: one strided add per tap into the full (uncropped) output, cropped at the end.
    n, c_in, *size = x.shape
    cout_g, k = w.shape[1], w.shape[2:]
    cin_g = c_in // groups
    full = [s * (i - 1) + d * (kk - 1) + 1 for s, i, d, kk in
            zip(g.stride, size, g.dilation, k, strict=True)]
    # Room for output_padding past the full length, and for the crop p_before.
    room = [max(f, pb + o) for f, (pb, _), o in zip(full, g.padding, g.output_size, strict=True)]
    out = np.zeros((n, groups, cout_g, *room), dtype=x.dtype)
    xg = x.reshape(n, groups, cin_g, *size)
    wg = w.reshape(groups, cin_g, cout_g, *k)
    for a in itertools.product(*(range(kk) for kk in k)):
        # x[n, g, c, i] * w[g, c, o, a], summed over the input channels c of the group
        tap: Index = (..., *a)
        stamp = np.einsum("ngc...,gco->ngo...", xg, wg[tap])
        where: Index = (..., *(slice(t * d, t * d + s * (i - 1) + 1, s) for t, d, s, i in
                               zip(a, g.dilation, g.stride, size, strict=True)))
        out[where] += stamp
    y = np.ascontiguousarray(out.reshape(n, groups * cout_g, *room)[_crop(g)])
    return _add_bias(y, b)


def _direct(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: TransposeGeometry,
            groups: int) -> np.ndarray:
    # Seed 004, Relationship 13 with dilation: (N, C_in, *i') -> stretched (N, C_in, *ĩ') with
    # ĩ' = s(i'-1) + 1 -> padded by d(k-1) - p before and d(k-1) - p + a after (negative
    # crops) -> stride-1 convolution with the flipped, channel-swapped kernel -> (N, C_out, *o').
    n, c_in, *size = x.shape
    stretched = np.zeros((n, c_in, *(s * (i - 1) + 1 for s, i in zip(g.stride, size,
                                                                      strict=True))), x.dtype)
    every_s: Index = (..., *(slice(None, None, s) for s in g.stride))
    stretched[every_s] = x
    k_eff = [d * (kk - 1) + 1 for d, kk in zip(g.dilation, g.kernel_size, strict=True)]
    pads = [(ke - 1 - pb, ke - 1 - pa + a)
            for ke, (pb, pa), a in zip(k_eff, g.padding, g.output_padding, strict=True)]
    padded = _gemm.window(stretched, pads)
    return conv(padded, _flip_swap(w, groups), b, stride=1, padding=0, dilation=g.dilation,
                groups=groups)


def _matrix(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: TransposeGeometry,
            groups: int) -> np.ndarray:
    # Seed 004, Figure 2.3: the convolution that maps the output back to the input is
    # C (C_in*prod(i') x C_out*prod(o'), built with the same weight); the transposed
    # convolution is C.T applied to every sample: (N, C_in*prod(i')) @ C -> (N, C_out*prod(o')).
    n = x.shape[0]
    before = [pb for pb, _ in g.padding]
    c = matrix.build(w, g.output_size, g.size, g.stride, before, g.dilation, groups, None)
    y = (c.T @ x.reshape(n, -1).T).T
    y = np.ascontiguousarray(y, dtype=x.dtype).reshape(n, -1, *g.output_size)
    return _add_bias(y, b)


class _Phase(NamedTuple):
    r: int  # output phase: positions r, r + s, r + 2s, ... of the full output
    taps: slice  # its kernel taps a0, a0 + s/gcd(s, d), ...
    dilation: int  # their spacing in phase positions, d/gcd(s, d)
    pads: tuple[int, int]  # input padding (negative: crop) for a stride-1 correlation


def _subpixel(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, g: TransposeGeometry,
              groups: int) -> np.ndarray:
    # Output position t = i*s + a*d (before the crop) has phase r = t mod s = (a*d) mod s, so
    # phase r only ever sees the taps a with a*d ≡ r (mod s): a0, a0 + s/gcd(s,d), ..., and
    # t = (i + q_a)*s + r with q_a = a*d // s.  Per phase this is a stride-1 transposed
    # convolution y_r[m] = sum_a x[m - q_a] w[a] with a sub-kernel of dilation d/gcd(s,d):
    # s^d independent stride-1 convolutions whose outputs interleave into the full output.
    n, c_in, *size = x.shape
    c_out = w.shape[1] * groups
    nd = len(size)
    # Phase outputs have m_len entries each; interleaved they cover [0, m_len*s) ⊇ [0, p_before+o').
    m_len = [-(-(pb + o) // s) for (pb, _), o, s in zip(g.padding, g.output_size, g.stride,
                                                          strict=True)]
    out = np.zeros((n, c_out, *(m * s for m, s in zip(m_len, g.stride, strict=True))), x.dtype)
    per_axis = []
    for ax in range(nd):
        s, d, k, i, m = g.stride[ax], g.dilation[ax], g.kernel_size[ax], size[ax], m_len[ax]
        step, dil = s // math.gcd(s, d), d // math.gcd(s, d)
        phases = []
        for r in range(s):
            a0 = next((a for a in range(min(k, step)) if a * d % s == r), None)
            if a0 is None:  # no tap lands on this phase: it stays zero
                continue
            j = len(range(a0, k, step))
            q0 = a0 * d // s
            # correlation with the flipped sub-kernel: pad q0 + (j-1)*dil before, crop/pad after
            # so that exactly m outputs come out
            before = q0 + (j - 1) * dil
            phases.append(_Phase(r, slice(a0, None, step), dil, (before, m - i - q0)))
        per_axis.append(phases)
    for combo in itertools.product(*per_axis):  # one phase per axis
        sub: Index = (slice(None), slice(None), *(p.taps for p in combo))
        y_r = conv(_gemm.window(x, [p.pads for p in combo]), _flip_swap(w[sub], groups),
                   stride=1, padding=0, dilation=tuple(p.dilation for p in combo), groups=groups)
        phase: Index = (..., *(slice(p.r, None, s) for p, s in zip(combo, g.stride,
                                                                   strict=True)))
        out[phase] = y_r
    return _add_bias(np.ascontiguousarray(out[_crop(g)]), b)


_IMPLS: dict[str, Callable[..., np.ndarray]] = {
    "auto": _auto,
    "scatter": _scatter,
    "direct": _direct,
    "matrix": _matrix,
    "subpixel": _subpixel,
}


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
    method: str = "auto",
) -> np.ndarray:
    """N-d transposed convolution, exactly as PyTorch's ``conv_transpose1d/2d/3d``.

    Parameters
    ----------
    x : (N, C_in, *L) or (C_in, *L) ndarray
        Input, float32 or float64; 1, 2 or 3 spatial dimensions (the weight decides which).
    weight : (C_in, C_out/groups, *k) ndarray
        Kernel in PyTorch's transposed layout; the same array as the weight of the convolution
        this is the transpose of.
    bias : (C_out,) ndarray, optional
        Added to every output position of its channel.
    stride, dilation : int or tuple of int
        Per spatial dimension, positive.
    padding : int, tuple of int or tuple of (int, int)
        Cropped from the full output ``s*(L-1) + d*(k-1) + 1`` (it is not padding of the
        input); ``(before, after)`` pairs crop asymmetrically, which PyTorch cannot express.
    output_padding : int or tuple of int
        Added at the end of each dimension; smaller than ``max(stride, dilation)``.
    groups : int
        Split channels into ``groups`` independent transposed convolutions.  Note that it
        comes before ``dilation``, as in PyTorch.
    output_size : int or tuple of int, optional
        The wanted spatial size, which sets ``output_padding`` (PyTorch's
        ``ConvTransposeNd.forward(x, output_size)``); may include the leading ``N, C``
        (``C`` for unbatched input), which are ignored.
    method : {'auto', 'scatter', 'direct', 'matrix', 'subpixel'}
        How to compute it; all agree up to rounding (see the module docstring).  ``'matrix'``
        needs SciPy.

    Returns
    -------
    (N, C_out, *O) or (C_out, *O) ndarray
        ``O = s*(L-1) - p_before - p_after + d*(k-1) + output_padding + 1`` per dimension
        (Relationship 13 with dilation); unbatched when ``x`` is.

    Raises
    ------
    ShapeError
        Channel or group mismatch, wrong ranks, a bad ``bias`` shape, ``output_padding`` too
        large, an ``output_size`` outside the reachable range (quoted), an unknown method.
    TypeError
        Integer, bool or complex arrays, or mismatched dtypes.

    See Also
    --------
    conv : the convolution it is the transpose (input gradient) of, same weight.
    conv_transpose_backward : its gradients.
    conv_matrix : ``C`` such that this is ``C.T`` per sample.
    equivalent_conv : the direct-convolution view of the same arguments.

    Notes
    -----
    ``y[n, o, j*s + a*d - p_before] += x[n, c, j] * weight[c, o mod C_out/G, a]`` for every
    input position ``j`` and kernel tap ``a`` (``c`` in ``o``'s group), plus the bias.  It is
    the input gradient of ``conv(., weight, stride, padding, dilation, groups)``.

    Examples
    --------
    Seed 002: a 2x2 input and a 2x2 kernel of 5s give 3x3.

    >>> import numpy as np
    >>> x = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    >>> w = np.full((1, 1, 2, 2), 5.0)
    >>> conv_transpose(x, w)
    array([[[ 5., 15., 10.],
            [20., 50., 30.],
            [15., 35., 20.]]])
    >>> conv_transpose(np.arange(3.0).reshape(1, 3), np.ones((1, 1, 3)), stride=2,
    ...                padding=1, output_padding=1, method="subpixel")
    array([[0., 1., 1., 3., 2., 2.]])
    """
    func = "conv_transpose"
    if not isinstance(method, str):
        raise TypeError(f"{func}: method={method!r} must be a string, one of {_METHODS}")
    if method not in _IMPLS:
        raise ShapeError(
            f"{func}: method={method!r} is not one of "
            + ", ".join(repr(m) for m in _METHODS)
        )
    xb, weight, bias, groups, unbatched = _operands(
        func, x, weight, bias, groups, transposed=True
    )
    nd = weight.ndim - 2
    g = transpose_geometry(
        xb.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation,
        output_size=_spatial_output_size(func, output_size, nd, unbatched), func=func,
    )
    y = _IMPLS[method](xb, weight, bias, g, groups)
    return y[0] if unbatched else y


def conv_transpose_backward(
    grad_output: np.ndarray,
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose` with respect to ``x``, ``weight`` and ``bias``.

    Seed 001 asked whether "the gradient of Conv2d is the same as the convolution with the
    transposed filter".  Here is the other half of the answer, in code: the input gradient of
    a transposed convolution is the ordinary convolution with the *same* weight, computed by
    literally calling :func:`upconv.conv`.

    Parameters
    ----------
    grad_output : (N, C_out, *O) or (C_out, *O) ndarray
        Gradient of the loss with respect to ``conv_transpose(x, weight, bias, ...)``.
    x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
        The arguments of the forward :func:`conv_transpose`.

    Returns
    -------
    grad_input : ndarray
        Shape of ``x``: ``conv(grad_output, weight, stride=s, padding=pairs, dilation=d,
        groups=G)`` (its trailing positions dropped when ``output_padding >= stride``).
    grad_weight : (C_in, C_out/groups, *k) ndarray
        ``sum_{n, j} x[n, c, j] * grad_output[n, o, j*s + a*d - p_before]``.
    grad_bias : (C_out,) ndarray or None
        ``grad_output`` summed over batch and space; ``None`` when ``bias`` is ``None``.

    See Also
    --------
    conv_transpose : the forward operation.
    conv : computes ``grad_input``.
    conv_backward : the same relationship the other way round.

    Notes
    -----
    ``grad_input[n, c, j] = sum_{o, a} grad_output[n, o, j*s + a*d - p_before] *
    weight[c, o, a]``: a strided convolution of ``grad_output`` with ``weight`` read as a
    ``(C_out', C_in'/G, *k)`` convolution kernel.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    >>> w = np.full((1, 1, 2, 2), 5.0)
    >>> gx, gw, gb = conv_transpose_backward(np.ones((1, 3, 3)), x, w)
    >>> gx
    array([[[20., 20.],
            [20., 20.]]])
    >>> gw
    array([[[[10., 10.],
             [10., 10.]]]])
    >>> gb is None
    True
    """
    func = "conv_transpose_backward"
    xb, weight, bias, groups, unbatched = _operands(
        func, x, weight, bias, groups, transposed=True
    )
    nd = weight.ndim - 2
    g = transpose_geometry(
        xb.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation,
        output_size=_spatial_output_size(func, output_size, nd, unbatched), func=func,
    )
    expected = (xb.shape[0], weight.shape[1] * groups, *g.output_size)
    gy = _grad_output(func, grad_output, expected, xb.dtype, unbatched)
    grad_input = conv(
        gy[0] if unbatched else gy,
        weight,
        None,
        stride=g.stride,
        padding=g.padding,
        dilation=g.dilation,
        groups=groups,
    )
    if grad_input.shape[-nd:] != g.size:
        # output_padding >= stride (possible when dilation > stride): the convolution reaches
        # past x's last position; those entries have no counterpart in x.
        first: Index = (..., *(slice(0, i) for i in g.size))
        grad_input = np.ascontiguousarray(grad_input[first])
    before = [pb for pb, _ in g.padding]
    grad_weight = _gemm.weight_grad(xb, gy, g.kernel_size, g.stride, g.dilation, before, groups)
    grad_bias = None
    if bias is not None:
        grad_bias = gy.sum(axis=(0, *range(2, gy.ndim)))
    return grad_input, grad_weight, grad_bias
