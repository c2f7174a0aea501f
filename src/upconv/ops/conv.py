"""Convolution (PyTorch's ``conv1d/2d/3d``, i.e. cross-correlation) and its gradients.

The forward pass unrolls the input into columns (im2col) and does one matrix product with the
batch folded in, ``(C_out, C_in*k^d) @ (C_in*k^d, N*out)`` per group; the input is first split
into its ``s^d`` stride phases so that every tap's columns are one contiguous copy, and groups
with one input channel (depthwise) use a multiply-add per tap instead (see ``_gemm``).  The
backward pass answers seed 001's question in code: the gradient with respect to the input *is*
a transposed convolution with the very same weight (no flip, no transpose needed by the
caller), and :func:`conv_backward` computes it by calling :func:`upconv.conv_transpose`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import ShapeError, check_int, float_array
from ..shapes import conv_geometry
from . import _gemm, _numba


def _operands(
    func: str, x: Any, weight: Any, bias: Any, groups: Any, *, transposed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int, bool]:
    """Check ``x``, ``weight``, ``bias`` and ``groups``; return them with ``x`` batched.

    ``transposed`` selects the weight layout: ``(C_out, C_in/groups, *k)`` for a convolution,
    ``(C_in, C_out/groups, *k)`` for a transposed convolution.  Returns ``(x, weight, bias,
    groups, unbatched)``.
    """
    layout = "(C_in, C_out/groups, *k)" if transposed else "(C_out, C_in/groups, *k)"
    weight = float_array(weight, "weight", func)
    if weight.ndim not in (3, 4, 5):
        raise ShapeError(
            f"{func}: weight has shape {weight.shape} (rank {weight.ndim}); expected {layout} "
            "with 1, 2 or 3 spatial dimensions (rank 3, 4 or 5)"
        )
    nd = weight.ndim - 2
    x = float_array(x, "x", func)
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(
            f"{func}: x has shape {x.shape} (rank {x.ndim}) but weight has shape {weight.shape} "
            f"({nd} spatial dimension{'s' if nd > 1 else ''}); expected x of rank {nd + 2} "
            f"(N, C, *spatial) or unbatched (C, *spatial) of rank {nd + 1}"
        )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{func}: x has dtype {x.dtype} but weight has dtype {weight.dtype}; cast one so "
            "both match (as PyTorch requires)"
        )
    groups = check_int(groups, "groups", func, minimum=1)
    unbatched = x.ndim == nd + 1
    # Say how x was read, since a rank-(nd+1) array is taken as unbatched (C, *spatial).
    read = f"; x of shape {x.shape} is read as unbatched (C, *spatial)" if unbatched else ""
    if unbatched:
        x = x[None]
    c = x.shape[1]
    if transposed:
        if weight.shape[0] != c:
            raise ShapeError(
                f"{func}: weight has {weight.shape[0]} input channels but x has {c} "
                f"(weight layout {layout}; weight shape {weight.shape}{read})"
            )
        if c % groups:
            raise ShapeError(
                f"{func}: groups={groups} does not divide the {c} input channels of x"
            )
        c_out = weight.shape[1] * groups
    else:
        if c % groups:
            raise ShapeError(
                f"{func}: groups={groups} does not divide the {c} input channels of x"
            )
        if weight.shape[0] % groups:
            raise ShapeError(
                f"{func}: groups={groups} does not divide the {weight.shape[0]} output channels "
                f"of weight (weight layout {layout}; weight shape {weight.shape})"
            )
        if weight.shape[1] * groups != c:
            raise ShapeError(
                f"{func}: weight has {weight.shape[1]} input channels per group, so with "
                f"groups={groups} it expects {weight.shape[1] * groups}, but x has {c} "
                f"(weight layout {layout}; weight shape {weight.shape}{read})"
            )
        c_out = weight.shape[0]
    if bias is not None:
        bias = float_array(bias, "bias", func)
        if bias.shape != (c_out,):
            raise ShapeError(
                f"{func}: bias has shape {bias.shape} but the output has {c_out} channels; "
                f"expected shape ({c_out},)"
            )
        if bias.dtype != x.dtype:
            raise TypeError(
                f"{func}: bias has dtype {bias.dtype} but x has dtype {x.dtype}; cast one so "
                "both match"
            )
    return x, weight, bias, groups, unbatched


def _grad_output(
    func: str, grad_output: Any, expected: tuple[int, ...], dtype: np.dtype, unbatched: bool
) -> np.ndarray:
    """Check ``grad_output`` against the forward output's shape; return it batched."""
    gy = float_array(grad_output, "grad_output", func)
    shape = expected[1:] if unbatched else expected
    if gy.shape != shape:
        raise ShapeError(
            f"{func}: grad_output has shape {gy.shape} but the forward output has shape {shape}"
        )
    if gy.dtype != dtype:
        raise TypeError(
            f"{func}: grad_output has dtype {gy.dtype} but x has dtype {dtype}; cast one so "
            "both match"
        )
    return gy[None] if unbatched else gy


def conv(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """N-d convolution (cross-correlation), exactly as PyTorch's ``conv1d/2d/3d``.

    Parameters
    ----------
    x : (N, C_in, *L) or (C_in, *L) ndarray
        Input, float32 or float64; 1, 2 or 3 spatial dimensions (the weight decides which).
    weight : (C_out, C_in/groups, *k) ndarray
        Kernel, same dtype as ``x``.
    bias : (C_out,) ndarray, optional
        Added to every output position of its channel.
    stride, dilation : int or tuple of int
        Per spatial dimension, positive.
    padding : int, tuple of int, tuple of (int, int), {'same', 'valid'}
        Zero padding on both sides, per dimension, or explicit ``(before, after)`` pairs
        (PyTorch needs ``F.pad`` for those).  ``'same'`` (stride 1 only) puts the odd element
        at the end, as PyTorch does.
    groups : int
        Split channels into ``groups`` independent convolutions.

    Returns
    -------
    (N, C_out, *O) or (C_out, *O) ndarray
        ``O = floor((L + p_before + p_after - d*(k-1) - 1) / s) + 1`` per dimension
        (Relationship 6 with dilation); unbatched when ``x`` is.

    Raises
    ------
    ShapeError
        Channel or group mismatch, wrong ranks, a bad ``bias`` shape, or a kernel larger than
        the padded input.
    TypeError
        Integer, bool or complex arrays, or mismatched dtypes.

    See Also
    --------
    conv_transpose : its transpose (the input gradient), same weight.
    conv_backward : gradients with respect to ``x``, ``weight`` and ``bias``.
    conv_matrix : the convolution as a sparse matrix.

    Notes
    -----
    ``y[n, o, j] = bias[o] + sum_{c, a} x_pad[n, g*C_in/G + c, j*s + a*d] * weight[o, c, a]``
    with ``g = o // (C_out/G)``; computed as im2col followed by one matrix product per group
    with the batch folded into the columns.

    Examples
    --------
    Seed 004, Figure 2.2: a 3x3 kernel over a 4x4 input gives 2x2.

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> conv(x, w)
    array([[[45., 54.],
            [81., 90.]]])
    >>> conv(x, w, stride=2, padding=1).shape
    (1, 2, 2)
    """
    func = "conv"
    xb, weight, bias, groups, unbatched = _operands(
        func, x, weight, bias, groups, transposed=False
    )
    g = conv_geometry(xb.shape[2:], weight.shape[2:], stride, padding, dilation, func=func)
    before = [pb for pb, _ in g.padding]
    args = (xb, weight, bias, g.stride, before, g.dilation, groups, g.output_size)
    if _numba.available() and _numba.use_planes(weight.shape[1], weight.shape[0] // groups):
        y = _numba.conv_planes(*args)  # tiny groups (depthwise): compiled loops over planes
    else:
        y = _gemm.by_samples(_gemm.conv_forward, *args, c_out=weight.shape[0])
    return y[0] if unbatched else y


def conv_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv` with respect to ``x``, ``weight`` and ``bias``.

    This is seed 001's answer in code: the input gradient of a convolution is the transposed
    convolution with the *same* weight, and it is computed here by literally calling
    :func:`upconv.conv_transpose` (with the convolution's padding as ``(before, after)``
    pairs and ``output_size`` set to ``x``'s size, so odd sizes and ``'same'`` work).

    Parameters
    ----------
    grad_output : (N, C_out, *O) or (C_out, *O) ndarray
        Gradient of the loss with respect to ``conv(x, weight, bias, ...)``.
    x, weight, bias, stride, padding, dilation, groups
        The arguments of the forward :func:`conv`.

    Returns
    -------
    grad_input : ndarray
        Shape of ``x``: ``conv_transpose(grad_output, weight, ...)``.
    grad_weight : (C_out, C_in/groups, *k) ndarray
        ``sum_{n, j} grad_output[n, o, j] * x_pad[n, c, j*s + a*d]``.
    grad_bias : (C_out,) ndarray or None
        ``grad_output`` summed over batch and space; ``None`` when ``bias`` is ``None``.

    See Also
    --------
    conv : the forward operation.
    conv_transpose : computes ``grad_input``.
    conv_transpose_backward : the same relationship the other way round.

    Notes
    -----
    ``grad_input = conv_transpose(grad_output, weight, stride=s, padding=pairs, groups=G,
    dilation=d, output_size=L)``: every input element receives each output gradient it
    contributed to, weighted by the kernel tap that linked them.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> w = np.ones((1, 1, 2, 2))
    >>> gx, gw, gb = conv_backward(np.ones((1, 2, 2)), x, w, bias=np.zeros(1))
    >>> gx
    array([[[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]]])
    >>> gw
    array([[[[ 8., 12.],
             [20., 24.]]]])
    >>> gb
    array([4.])
    """
    func = "conv_backward"
    xb, weight, bias, groups, unbatched = _operands(
        func, x, weight, bias, groups, transposed=False
    )
    g = conv_geometry(xb.shape[2:], weight.shape[2:], stride, padding, dilation, func=func)
    expected = (xb.shape[0], weight.shape[0], *g.output_size)
    gy = _grad_output(func, grad_output, expected, xb.dtype, unbatched)
    # transpose.py imports this module, so import at call time.
    from .transpose import conv_transpose

    grad_input = conv_transpose(
        gy[0] if unbatched else gy,
        weight,
        None,
        stride=g.stride,
        padding=g.padding,
        output_padding=0,
        groups=groups,
        dilation=g.dilation,
        output_size=g.size,
    )
    before = [pb for pb, _ in g.padding]
    grad_weight = _gemm.weight_grad(gy, xb, g.kernel_size, g.stride, g.dilation, before, groups)
    grad_bias = None
    if bias is not None:
        grad_bias = gy.sum(axis=(0, *range(2, gy.ndim)))
    return grad_input, grad_weight, grad_bias
