"""GEMM kernels shared by :mod:`.conv` and :mod:`.transpose` (private; arrays already checked).

A convolution is one matrix product once the input has been unrolled into columns (*im2col*);
a transposed convolution is the product with the transposed weight followed by the adjoint of
the unrolling (*col2im*), which is PyTorch's CPU algorithm (``slow_conv_transpose2d``).

Both unrollings use the same tap geometry.  For kernel tap ``a`` (per dimension) the
convolution reads input position ``h = j*s + a*d - p_before`` for output position ``j``; the
transposed convolution writes output ``h`` from input ``j`` by the same formula.  So each tap
is one strided slice on each side, positions that fall into the padding are simply not
copied, and no padded copy of the input is ever made.  Python loops run over kernel taps
and over blocks of work for very large inputs, never over single batch elements or spatial
positions: column buffers stay under :data:`MAX_COLUMN_ELEMENTS`, by taking several samples at
a time, or, when one sample is too big, bands of rows along the first spatial axis.

Column buffer layout: ``cols[c, tap, n, *positions]``, i.e. the matrix ``(C*K, N*P)`` with
``K = prod(kernel_size)`` taps and ``P`` positions; ``C*K`` matches the weight's natural
memory order ``(C_out, C_in/groups, *k)`` so the weight is only ever reshaped, never copied.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

Slices = tuple[slice, ...]
Index = tuple[Any, ...]

# Largest column buffer (in elements) built at once: 16 MiB of float32.  Larger blocks gain
# nothing (the GEMMs are already big) and lose cache locality and allocator reuse.
MAX_COLUMN_ELEMENTS = 1 << 22


def _tap_range(count: int, s: int, off: int, limit: int) -> tuple[slice, slice] | None:
    # Indices j in [0, count) whose h = j*s + off lies in [0, limit): (j slice, h slice).
    j0 = max(0, -(off // s)) if off < 0 else 0
    j1 = min(count, (limit - 1 - off) // s + 1) if limit - 1 - off >= 0 else 0
    if j1 <= j0:
        return None
    h0 = j0 * s + off
    return slice(j0, j1), slice(h0, h0 + (j1 - j0 - 1) * s + 1, s)


def taps(
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pad_before: Sequence[int],
    count: Sequence[int],
    limit: Sequence[int],
) -> Iterator[tuple[int, Slices, Slices, bool]]:
    """Yield ``(tap, j_slices, h_slices, complete)`` for every kernel tap with any overlap.

    ``h = j*s + a*d - p_before`` links positions ``j`` (``count`` of them) to positions ``h``
    (``limit`` of them); ``complete`` says every ``j`` of that tap has its ``h``.
    """
    for tap, a in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        js, hs = [], []
        for ax in range(len(a)):
            r = _tap_range(count[ax], stride[ax], a[ax] * dilation[ax] - pad_before[ax], limit[ax])
            if r is None:
                break
            js.append(r[0])
            hs.append(r[1])
        else:
            complete = all(j.stop - j.start == c for j, c in zip(js, count, strict=True))
            yield tap, tuple(js), tuple(hs), complete


def blocks(n: int, rows: int, per_row: int) -> Iterator[tuple[slice, int, int]]:
    """``(batch slice, first row, end row)`` blocks of at most :data:`MAX_COLUMN_ELEMENTS`.

    ``per_row`` is the column buffer size of one sample's row (first spatial axis of the
    positions the buffer is indexed by); whole samples are grouped when they fit.
    """
    per_row = max(per_row, 1)
    if per_row * rows <= MAX_COLUMN_ELEMENTS:
        step = MAX_COLUMN_ELEMENTS // (per_row * rows)
        for start in range(0, n, step):
            yield slice(start, min(n, start + step)), 0, rows
        return
    band = max(1, MAX_COLUMN_ELEMENTS // per_row)
    for i in range(n):
        for r0 in range(0, rows, band):
            yield slice(i, i + 1), r0, min(rows, r0 + band)


def _shift(pad_before: Sequence[int], r0: int, s: int) -> list[int]:
    # Starting at row r0 of the positions j moves h = j*s + a*d - p by r0*s on the first axis.
    return [pad_before[0] - r0 * s, *pad_before[1:]]


def im2col(
    x: np.ndarray,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pad_before: Sequence[int],
    out_size: Sequence[int],
) -> np.ndarray:
    """Unroll ``x (N, C, *L)`` into ``cols (C, K, N, *out)``: ``cols[c, a, n, j] = x[n, c, h]``.

    ``h = j*s + a*d - p_before``; positions outside ``[0, L)`` (the zero padding) read 0.
    """
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    k = math.prod(kernel_size)
    cols = np.empty((c, k, n, *out_size), dtype=x.dtype)
    missing = set(range(k))
    for tap, js, hs, complete in taps(kernel_size, stride, dilation, pad_before, out_size,
                                      spatial):
        missing.discard(tap)
        block = cols[:, tap]  # (C, N, *out)
        # (N, C, *j) strided window of x, written as (C, N, *j) into the tap's column block
        dst: Index = (slice(None), slice(None), *js)
        src: Index = (slice(None), slice(None), *hs)
        block[dst] = x[src].swapaxes(0, 1)
        if not complete:  # zero the positions that read the padding, axis by axis
            for ax, j in enumerate(js):
                lead: Index = (slice(None),) * (2 + ax)
                block[(*lead, slice(0, j.start))] = 0
                block[(*lead, slice(j.stop, None))] = 0
    for tap in missing:  # taps that only ever read padding
        cols[:, tap] = 0
    return cols


def col2im(
    cols: np.ndarray,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pad_before: Sequence[int],
    out: np.ndarray,
) -> None:
    """Add ``cols (C, K, N, *L)`` into ``out (N, C, *O)``: the adjoint of :func:`im2col`.

    ``out[n, c, h] += cols[c, a, n, j]`` with ``h = j*s + a*d - p_before``; contributions that
    land outside ``[0, O)`` (cropped by the padding) are dropped.
    """
    spatial = cols.shape[3:]
    for tap, js, hs, _ in taps(kernel_size, stride, dilation, pad_before, spatial, out.shape[2:]):
        dst: Index = (slice(None), slice(None), *hs)
        src: Index = (slice(None), tap, slice(None), *js)
        out[dst] += cols[src].swapaxes(0, 1)


def conv_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> np.ndarray:
    """Convolution ``(N, C_in, *L) -> (N, C_out, *O)`` as im2col + one GEMM per batch chunk."""
    n, c_in = x.shape[:2]
    c_out, k_size = weight.shape[0], weight.shape[2:]
    k = math.prod(k_size)
    w = weight.reshape(groups, c_out // groups, c_in // groups * k)  # (G, C_out/G, C_in/G*K)
    y = np.empty((n, c_out, *out_size), dtype=x.dtype)
    b = None if bias is None else bias.reshape(c_out, *(1,) * len(out_size))
    for sl, r0, r1 in blocks(n, out_size[0], c_in * k * math.prod(out_size[1:])):
        sub = (r1 - r0, *out_size[1:])
        before = _shift(pad_before, r0, stride[0])
        cols = im2col(x[sl], k_size, stride, dilation, before, sub)  # (C_in, K, nb, *sub)
        nb = cols.shape[2]
        # (G, C_out/G, C_in/G*K) @ (G, C_in/G*K, nb*O) -> (G, C_out/G, nb*O)
        r = np.matmul(w, cols.reshape(groups, c_in // groups * k, -1))
        r = r.reshape(c_out, nb, *sub).swapaxes(0, 1)  # (nb, C_out, *sub) view
        into = y[sl, :, r0:r1]
        if b is None:
            into[...] = r
        else:
            np.add(r, b, out=into)
    return y


def conv_transpose_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> np.ndarray:
    """Transposed convolution ``(N, C_in, *L) -> (N, C_out, *O)`` as one GEMM + col2im.

    The GEMM is ``(C_out*K, C_in) @ (C_in, N*L)`` per group with the weight read through a
    transposed view; col2im then adds each tap's block into the output with a strided add.
    """
    n, c_in = x.shape[:2]
    spatial = x.shape[2:]
    cout_g, k_size = weight.shape[1], weight.shape[2:]
    c_out, cin_g, k = cout_g * groups, c_in // groups, math.prod(k_size)
    wt = weight.reshape(groups, cin_g, cout_g * k).transpose(0, 2, 1)  # (G, C_out/G*K, C_in/G)
    y = np.zeros((n, c_out, *out_size), dtype=x.dtype)
    if bias is not None:
        y[...] = bias.reshape(c_out, *(1,) * len(out_size))
    for sl, r0, r1 in blocks(n, spatial[0], c_out * k * math.prod(spatial[1:])):
        xb = x[sl, :, r0:r1]
        nb, sub = xb.shape[0], xb.shape[2:]
        # (nb, G, C_in/G, L) -> (G, C_in/G, nb*L): channels become the GEMM's inner dimension
        xm = xb.reshape(nb, groups, cin_g, -1).transpose(1, 2, 0, 3).reshape(groups, cin_g, -1)
        cols = np.matmul(wt, xm)  # (G, C_out/G*K, nb*L)
        before = _shift(pad_before, r0, stride[0])
        col2im(cols.reshape(c_out, k, nb, *sub), k_size, stride, dilation, before, y[sl])
    return y


def _phases(k: int, s: int, d: int) -> tuple[list[int], int, list[int], list[int]]:
    # Tap a writes full-output position t = i*s + a*d, i.e. phase r = (a*d) mod s at phase
    # index m = i + q with q = (a*d) div s.  Returns the phases that receive taps, the number
    # Q of shifts, and per tap its phase's index and its flipped shift Q-1-q.
    rs = [a * d % s for a in range(k)]
    used = sorted(set(rs))
    q_count = d * (k - 1) // s + 1
    return used, q_count, [used.index(r) for r in rs], [q_count - 1 - a * d // s for a in range(k)]


# Rough costs of memory passes, in multiply-adds of a BLAS GEMM (about 0.02 ns each on one
# AVX-512 core): a strided read-modify-write (col2im) ~60, a strided copy (im2col) ~12.
_ADD_COST, _COPY_COST = 60, 12


def phase_cost(
    n: int,
    c_in: int,
    c_out: int,
    groups: int,
    size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pad_before: Sequence[int],
    out_size: Sequence[int],
) -> tuple[float, float]:
    """Estimated cost of :func:`conv_transpose_phases` and of :func:`conv_transpose_forward`.

    The sub-pixel GEMM multiplies zeros where taps miss a phase (dilation) or the input is
    tiny, and builds a combined weight; col2im pays ``k^d`` read-modify-write passes.
    """
    phases, shifts, m_size = 1, 1, 1
    for k, s, d, pb, o in zip(kernel_size, stride, dilation, pad_before, out_size, strict=True):
        used, q_count, _, _ = _phases(k, s, d)
        phases *= len(used)
        shifts *= q_count
        m_size *= -(-(pb + o) // s) - pb // s
    k_size, l_size = math.prod(kernel_size), math.prod(size)
    fma = c_in * c_out // groups
    col = n * l_size * k_size * (fma + _ADD_COST * c_out)
    phase = (n * m_size * (phases * shifts * fma + _COPY_COST * (c_in * shifts + c_out * phases))
             + _COPY_COST * fma * phases * shifts)
    return phase, col


def conv_transpose_phases(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> np.ndarray:
    """Transposed convolution as one sub-pixel GEMM: all output phases at once.

    Output phase ``r`` (positions ``t = m*s + r`` of the full output) is the stride-1
    correlation ``y_r[m] = sum_q x[m - q] * W_r[q]`` with the taps ``a*d = q*s + r``.  All
    phases share the shifted copies of ``x`` (an im2col with ``Q = d(k-1)//s + 1`` taps), so
    one GEMM ``(P*C_out, C_in*Q^d) @ (C_in*Q^d, N*M)`` computes every phase, and a strided
    copy per phase interleaves them.  Compared with col2im this replaces ``k^d`` strided
    read-modify-write passes over the output by ``Q^d`` plain copies of the input.
    """
    n, c_in = x.shape[:2]
    cout_g, k_size = weight.shape[1], weight.shape[2:]
    nd = len(k_size)
    c_out, cin_g = cout_g * groups, c_in // groups
    plans = [_phases(k, s, d) for k, s, d in zip(k_size, stride, dilation, strict=True)]
    counts = [len(p[0]) for p in plans]
    q_size = [p[1] for p in plans]
    m0 = [pb // s for pb, s in zip(pad_before, stride, strict=True)]
    m_len = [-(-(pb + o) // s) - m for pb, o, s, m in zip(pad_before, out_size, stride, m0,
                                                          strict=True)]
    # Combined weight (G, C_out/G, *phases, C_in/G, *Q): rows (co, phase) so that merging
    # (G, C_out/G) below stays a view.
    wc = np.zeros((groups, cout_g, *counts, cin_g, *q_size), dtype=weight.dtype)
    wg = weight.reshape(groups, cin_g, cout_g, *k_size)
    for a in itertools.product(*(range(k) for k in k_size)):
        tap: Index = (..., *a)
        at: Index = (slice(None), slice(None), *(p[2][t] for p, t in zip(plans, a, strict=True)),
                     slice(None), *(p[3][t] for p, t in zip(plans, a, strict=True)))
        wc[at] = wg[tap].swapaxes(1, 2)
    wm = wc.reshape(groups, cout_g * math.prod(counts), cin_g * math.prod(q_size))
    every_phase = all(c == s for c, s in zip(counts, stride, strict=True))
    y = (np.empty if every_phase else np.zeros)((n, c_out, *out_size), dtype=x.dtype)
    b = None if bias is None else bias.reshape(c_out, *(1,) * nd)
    if b is not None and not every_phase:
        y[...] = b
    before = [q - 1 - m for q, m in zip(q_size, m0, strict=True)]
    ones = (1,) * nd
    per_row = max(c_in * math.prod(q_size), c_out * math.prod(counts)) * math.prod(m_len[1:])
    for sl, r0, r1 in blocks(n, m_len[0], per_row):
        sub = (r1 - r0, *m_len[1:])
        first = [m0[0] + r0, *m0[1:]]  # phase index of the block's first row
        cols = im2col(x[sl], q_size, ones, ones, _shift(before, r0, 1), sub)  # (C_in, Q^d, nb, *M)
        nb = cols.shape[2]
        r = np.matmul(wm, cols.reshape(groups, cin_g * math.prod(q_size), -1))
        r = r.reshape(c_out, *counts, nb, *sub)  # (C_out, *phases, nb, *M)
        for idx in itertools.product(*(range(c) for c in counts)):
            js, os_ = [], []
            for ax in range(nd):
                s, r_ax = stride[ax], plans[ax][0][idx[ax]]
                rng = _tap_range(sub[ax], s, first[ax] * s + r_ax - pad_before[ax], out_size[ax])
                if rng is None:
                    break
                js.append(rng[0])
                os_.append(rng[1])
            else:
                src: Index = (slice(None), *idx, slice(None), *js)
                dst: Index = (sl, slice(None), *os_)
                phase = r[src].swapaxes(0, 1)  # (nb, C_out, *J)
                if b is None:
                    y[dst] = phase
                else:
                    np.add(phase, b, out=y[dst])
    return y


def weight_grad(
    left: np.ndarray,
    right: np.ndarray,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pad_before: Sequence[int],
    groups: int,
) -> np.ndarray:
    """``gw[l, r, a] = sum_{n, j} left[n, l, j] * right[n, r, j*s + a*d - p_before]`` per group.

    ``left (N, C_l, *P)`` and ``right (N, C_r, *R)`` give ``(C_l, C_r/G, *k)``: with
    ``left = grad_output`` and ``right = x`` it is a convolution's weight gradient; with
    ``left = x`` and ``right = grad_output`` a transposed convolution's.
    """
    n, c_l = left.shape[:2]
    c_r = right.shape[1]
    positions = left.shape[2:]
    k = math.prod(kernel_size)
    cl_g, cr_g = c_l // groups, c_r // groups
    gw = np.zeros((groups, cl_g, cr_g * k), dtype=left.dtype)
    for sl, r0, r1 in blocks(n, positions[0], c_r * k * math.prod(positions[1:])):
        sub = (r1 - r0, *positions[1:])
        before = _shift(pad_before, r0, stride[0])
        cols = im2col(right[sl], kernel_size, stride, dilation, before, sub)
        nb = cols.shape[2]
        lb = left[sl, :, r0:r1]
        lm = lb.reshape(nb, groups, cl_g, -1).transpose(1, 2, 0, 3).reshape(groups, cl_g, -1)
        # (G, C_l/G, nb*P) @ (G, nb*P, C_r/G*K)
        gw += np.matmul(lm, cols.reshape(groups, cr_g * k, -1).transpose(0, 2, 1))
    return gw.reshape(c_l, cr_g, *kernel_size)


def window(x: np.ndarray, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Pad (positive) or crop (negative) the spatial axes of ``x (N, C, *L)``.

    The result has length ``L + before + after`` per axis and ``y[..., j] = x[..., j - before]``
    where that index exists, else 0.  Returns ``x`` itself when nothing changes.
    """
    if all(b == 0 and a == 0 for b, a in pairs):
        return x
    spatial = x.shape[2:]
    new = [length + b + a for length, (b, a) in zip(spatial, pairs, strict=True)]
    y = np.zeros((*x.shape[:2], *new), dtype=x.dtype)
    src, dst = [], []
    for length, size, (b, _) in zip(spatial, new, pairs, strict=True):
        lo, hi = max(0, -b), min(length, size - b)
        if hi <= lo:
            return y
        src.append(slice(lo, hi))
        dst.append(slice(lo + b, hi + b))
    into: Index = (slice(None), slice(None), *dst)
    take: Index = (slice(None), slice(None), *src)
    y[into] = x[take]
    return y
