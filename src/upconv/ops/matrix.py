"""A convolution as a sparse matrix ``C``, so that the transposed convolution is ``C.T``.

Seed 004 (Figure 2.3) unrolls a 4x4 input and the 2x2 output of a 3x3 convolution into
vectors, left to right and top to bottom; the convolution is then the product with a sparse
4x16 matrix whose non-zero cells are the kernel's ``w[i, j]``.  Multiplying by its transpose
maps 4 values back to 16: that is the transposed convolution, and the reason for its name.

SciPy is imported only when a matrix is built (``pip install 'upconv[sparse]'``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import ShapeError, check_int, float_array
from ..shapes import conv_geometry


def _sparse() -> Any:
    try:
        import scipy.sparse as sparse
    except ImportError as err:  # pragma: no cover - exercised by monkeypatching in the tests
        raise ImportError(
            "conv_matrix needs SciPy for sparse matrices; install it with "
            "pip install 'upconv[sparse]'"
        ) from err
    return sparse


def _axis_triples(
    out: int, size: int, k: int, s: int, d: int, before: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # 1-d (output j, tap a, input h) with h = j*s + a*d - before inside [0, size).
    j, a = np.meshgrid(np.arange(out), np.arange(k), indexing="ij")
    h = j * s + a * d - before
    keep = (h >= 0) & (h < size)
    return j[keep], a[keep], h[keep]


def build(
    weight: np.ndarray,
    in_spatial: Sequence[int],
    out_spatial: Sequence[int],
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    batch: int | None,
) -> Any:
    """The CSR matrix of a checked convolution, rows for ``out_spatial`` positions only.

    Row ``(n, o, j)`` and column ``(n, c, h)`` in C order; ``batch`` (``None`` for one sample)
    repeats the block on the diagonal.
    """
    sparse = _sparse()
    c_out, cin_g = weight.shape[:2]
    kernel = weight.shape[2:]
    nd = len(kernel)
    c_in = cin_g * groups
    # Cartesian product over dimensions of the 1-d (output, tap, input) triples.
    j_flat = np.zeros(1, dtype=np.int64)
    a_flat = np.zeros(1, dtype=np.int64)
    h_flat = np.zeros(1, dtype=np.int64)
    for ax in range(nd):
        j, a, h = _axis_triples(
            out_spatial[ax], in_spatial[ax], kernel[ax], stride[ax], dilation[ax], pad_before[ax]
        )
        j_flat = (j_flat[:, None] * out_spatial[ax] + j[None, :]).ravel()
        a_flat = (a_flat[:, None] * kernel[ax] + a[None, :]).ravel()
        h_flat = (h_flat[:, None] * in_spatial[ax] + h[None, :]).ravel()
    p_out, p_in = math.prod(out_spatial), math.prod(in_spatial)
    o = np.arange(c_out)[:, None, None]  # (C_out, 1, 1)
    c = np.arange(cin_g)[None, :, None]  # (1, C_in/G, 1): channel inside the group
    group_first = (o // (c_out // groups)) * cin_g  # first input channel of o's group
    rows = o * p_out + j_flat
    cols = (group_first + c) * p_in + h_flat
    data = weight.reshape(c_out, cin_g, -1)[:, :, a_flat]
    rows, cols = np.broadcast_arrays(rows, cols, data)[:2]
    shape = (c_out * p_out, c_in * p_in)
    if batch is not None:
        n = np.arange(batch)[:, None, None, None]
        rows = rows[None] + n * shape[0]
        cols = cols[None] + n * shape[1]
        data = np.broadcast_to(data, rows.shape)
        shape = (batch * shape[0], batch * shape[1])
    coo = sparse.coo_array((data.ravel(), (rows.ravel(), cols.ravel())), shape=shape)
    return coo.tocsr()


def conv_matrix(
    input_shape: Sequence[int],
    weight: np.ndarray,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """The sparse matrix ``C`` with ``C @ x.ravel() == conv(x, weight, ...).ravel()``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of ``x``: ``(C_in, *L)`` for one sample, or ``(N, C_in, *L)``, in which case the
        matrix is block-diagonal with ``N`` copies of the one-sample matrix (samples do not mix).
    weight : (C_out, C_in/groups, *k) ndarray
        Kernel, as in :func:`upconv.conv`; its dtype is the matrix's.
    stride, padding, dilation, groups
        As in :func:`upconv.conv` (``padding`` may be pairs, ``'same'`` or ``'valid'``).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(C_out*prod(O), C_in*prod(L))``, times ``N`` in both dimensions when
        ``input_shape`` has a batch axis; ``O`` is :func:`upconv.conv_output_size`.  Rows and
        columns follow C order (channels, then positions left to right, top to bottom).
        Every kernel tap that meets the input is stored, even a zero-valued one.

    Raises
    ------
    ImportError
        Without SciPy (``pip install 'upconv[sparse]'``).
    ShapeError
        As :func:`upconv.conv`, for the shapes.

    See Also
    --------
    conv : the same operation computed directly.
    conv_transpose : equals ``C.T`` applied to each sample (``method='matrix'`` uses it).

    Notes
    -----
    Entry ``C[(o, j), (c, h)] = weight[o, c mod C_in/G, a]`` when ``c`` is in ``o``'s group
    and ``h = j*s + a*d - p_before`` for a tap ``a``; zero otherwise.

    Examples
    --------
    Seed 004, Figure 2.3: a 3x3 kernel (here ``w[i, j] = 3i + j + 1``) on a 4x4 input.

    >>> import numpy as np
    >>> w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> C = conv_matrix((1, 4, 4), w)
    >>> C.shape
    (4, 16)
    >>> print(C.toarray().astype(int))
    [[1 2 3 0 4 5 6 0 7 8 9 0 0 0 0 0]
     [0 1 2 3 0 4 5 6 0 7 8 9 0 0 0 0]
     [0 0 0 0 1 2 3 0 4 5 6 0 7 8 9 0]
     [0 0 0 0 0 1 2 3 0 4 5 6 0 7 8 9]]
    """
    func = "conv_matrix"
    weight = float_array(weight, "weight", func)
    if weight.ndim not in (3, 4, 5):
        raise ShapeError(
            f"{func}: weight has shape {weight.shape} (rank {weight.ndim}); expected "
            "(C_out, C_in/groups, *k) with 1, 2 or 3 spatial dimensions (rank 3, 4 or 5)"
        )
    nd = weight.ndim - 2
    if isinstance(input_shape, np.ndarray):
        input_shape = input_shape.tolist()
    if not isinstance(input_shape, list | tuple):
        raise TypeError(
            f"{func}: input_shape={input_shape!r} must be a tuple of ints, "
            f"not {type(input_shape).__name__}"
        )
    if len(input_shape) not in (nd + 1, nd + 2):
        raise ShapeError(
            f"{func}: input_shape={tuple(input_shape)} has {len(input_shape)} entries but "
            f"weight has {nd} spatial dimension{'s' if nd > 1 else ''}; give (C_in, *L) "
            f"({nd + 1} entries) or (N, C_in, *L) ({nd + 2} entries)"
        )
    dims = [check_int(v, "input_shape", func, minimum=0) for v in input_shape]
    batch = dims[0] if len(dims) == nd + 2 else None
    c_in, spatial = dims[-nd - 1], tuple(dims[-nd:])
    groups = check_int(groups, "groups", func, minimum=1)
    if c_in % groups or weight.shape[0] % groups:
        raise ShapeError(
            f"{func}: groups={groups} must divide both the {c_in} input channels and the "
            f"{weight.shape[0]} output channels"
        )
    if weight.shape[1] * groups != c_in:
        raise ShapeError(
            f"{func}: weight has {weight.shape[1]} input channels per group, so with "
            f"groups={groups} it expects {weight.shape[1] * groups}, but input_shape has "
            f"{c_in} (weight layout (C_out, C_in/groups, *k); weight shape {weight.shape})"
        )
    g = conv_geometry(spatial, weight.shape[2:], stride, padding, dilation, func=func)
    before = [pb for pb, _ in g.padding]
    return build(weight, g.size, g.output_size, g.stride, before, g.dilation, groups, batch)
