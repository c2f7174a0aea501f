"""Optional compiled kernels, with numba (private; ``pip install 'upconv[fast]'``).

Some layers give NumPy nothing to vectorise across: a depthwise (or tiny-group) convolution
has no channel sum for a GEMM, and max unpooling is a scatter whose fancy indexing costs more
than the memory it moves.  Here they are plain loops over output planes, compiled by numba
and run on :func:`upconv.get_num_threads` threads (``prange`` over planes, each plane written
by one thread only).  And the GEMM kernels' interleave of output phases into the output
(:func:`put_rows`), a strided copy that NumPy runs at ~1 ns per element, is one loop over
whole output rows here, run serially in upconv's own threads on their share of channels, or
over numba's threads.

The pure NumPy kernels stay the default: this module is used only when numba imports and the
environment variable ``UPCONV_NUMBA`` is not ``"0"`` (:func:`available`), and numba itself is
imported on the first call of a kernel, never by ``import upconv``.  Kernels are compiled per
dtype on first use (``cache=True`` keeps the machine code on disk for later processes); every
wrapper hands them C-contiguous float32 or float64 arrays (flat buffers with element strides
for :func:`put_rows`) and int64 indices, so each kernel has few signatures.  Floating-point
semantics are strict (no ``fastmath``): sums run in a fixed order per output element.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._parallel import get_num_threads, switched_off, unbound

prange = range  # numba.prange once the kernels are compiled (see _compiled)


@functools.lru_cache(maxsize=1)
def _installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def available() -> bool:
    """Whether the compiled kernels are used: numba is installed and ``UPCONV_NUMBA != "0"``.

    Examples
    --------
    >>> import os
    >>> from upconv.ops import _numba
    >>> os.environ["UPCONV_NUMBA"] = "0"
    >>> _numba.available()
    False
    >>> del os.environ["UPCONV_NUMBA"]
    """
    return not switched_off("UPCONV_NUMBA") and _installed()


def version() -> str | None:
    """The version of numba when it is installed, else ``None`` (does not import numba)."""
    if not _installed():
        return None
    from importlib.metadata import version as dist_version

    return dist_version("numba")


# ---------------------------------------------------------------------------------------------
# Kernels (plain Python here; compiled in place by _compiled).  Arrays are lifted to 3 spatial
# axes (D, H, W); the last axis is the contiguous one.


def _pair_row(y, at, src, e0, o0, ce, co, bv):  # type: ignore[no-untyped-def]
    # y[at + 2m] = src[e0 + m] + bv for m < ce and y[at + 2m + 1] = src[o0 + m] + bv for m <
    # co: a stride-2 output row from its two phases in one interleaving pass, which the
    # compiler vectorises (unsigned offsets: no negative-index fix-ups).
    one, two = np.uint64(1), np.uint64(2)
    both = min(ce, co)
    for m in range(both):
        y[at + two * m] = src[e0 + m] + bv
        y[at + two * m + one] = src[o0 + m] + bv
    for m in range(both, ce):
        y[at + two * m] = src[e0 + m] + bv
    for m in range(both, co):
        y[at + two * m + one] = src[o0 + m] + bv


def _split_row(out, e0, o0, x, src, ce, co):  # type: ignore[no-untyped-def]
    # out[e0 + m] = x[src + 2m] for m < ce and out[o0 + m] = x[src + 2m + 1] for m < co: a
    # stride-2 input row split into its two phases in one pass, which the compiler vectorises
    # (the inverse of _pair_row; unsigned offsets).
    one, two = np.uint64(1), np.uint64(2)
    both = min(ce, co)
    for m in range(both):
        out[e0 + m] = x[src + two * m]
        out[o0 + m] = x[src + two * m + one]
    for m in range(both, ce):
        out[e0 + m] = x[src + two * m]
    for m in range(both, co):
        out[o0 + m] = x[src + two * m + one]


def _phase_pairs(x, ph, pairs, c0, c1, m0, i0, i1, s0):  # type: ignore[no-untyped-def]
    # The convolution's input phases for stride 2 on the last axis, two at a time: pair
    # (X, Y, oh, owx, owy, jx0, jx1, jy0, jy1) has phase X reading inputs 2j + owx (owx even)
    # and phase Y 2j + owy (owy odd) of row (m0 + i)*s0 + oh, valid for j in [jx0, jx1) and
    # [jy0, jy1); so input row entries 2q and 2q + 1 go to X's j = q - owx/2 and Y's j = q -
    # (owy - 1)/2, both from one pass over the row (_split_row), 0 elsewhere.  The table
    # guarantees owx <= 0 and owy = owx +- 1 (offsets r - p_before, r in {0, 1}): both start
    # at input 0, and only X can take one more (the last of an odd row).  ph[p, c, i, n, j]
    # for channels [c0, c1) and rows i in [i0, i1); x (N, C, H, W) and ph (P, C, R, N, J) are
    # C-contiguous.
    n_len, c_in, h_len, w_len = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    big_r, j_len = ph.shape[2], ph.shape[4]
    xf, pf = x.reshape(-1), ph.reshape(-1)
    zero = np.zeros(1, ph.dtype)[0]  # (pf[0] * 0 is float64, and NaN on stale memory)
    two = np.uint64(2)
    for k in range(pairs.shape[0]):
        px, py, oh, owx, owy = pairs[k, 0], pairs[k, 1], pairs[k, 2], pairs[k, 3], pairs[k, 4]
        jx0, jx1, jy0, jy1 = pairs[k, 5], pairs[k, 6], pairs[k, 7], pairs[k, 8]
        a, b = owx // 2, (owy - 1) // 2
        q0, q1 = max(jx0 + a, jy0 + b), min(jx1 + a, jy1 + b)
        if q1 < q0:
            q1 = q0
        for c in range(c0, c1):
            for i in range(i0, i1):
                h = (m0 + i) * s0 + oh
                for n in range(n_len):
                    rx = np.uint64(((px * c_in + c) * big_r + i) * n_len * j_len + n * j_len)
                    ry = np.uint64(((py * c_in + c) * big_r + i) * n_len * j_len + n * j_len)
                    if h < 0 or h >= h_len:
                        for j in range(np.uint64(j_len)):
                            pf[rx + j] = zero
                            pf[ry + j] = zero
                        continue
                    src = np.uint64(((n * c_in + c) * h_len + h) * w_len)
                    for j in range(0, jx0):
                        pf[rx + j] = zero
                    for j in range(jx1, j_len):
                        pf[rx + j] = zero
                    for j in range(0, jy0):
                        pf[ry + j] = zero
                    for j in range(jy1, j_len):
                        pf[ry + j] = zero
                    for j in range(max(jx0, q1 - a), jx1):  # an odd row's last input
                        pf[rx + j] = xf[src + np.uint64(2 * j + owx)]
                    if q1 > q0:
                        _split_row(pf, rx + np.uint64(q0 - a), ry + np.uint64(q0 - b), xf,
                                   src + two * np.uint64(q0), np.uint64(q1 - q0),
                                   np.uint64(q1 - q0))


def _tconv_planes(x, w, bias, y, dmap, hmap, wrun, tap_combo, tap_off, hp, wp,  # type: ignore[no-untyped-def]
                  n_h, groups, buf_len, covered, chunks):
    # One (n, o) plane per iteration, in output-phase form (see _gemm): output phase P at
    # grid entry v sums x[v - off_t] * w[t] over its taps t, x laid out with Q - 1 zero
    # columns after each inner axis (extents hp, wp) and off_t zeros before: so each phase
    # is long contiguous multiply-adds, four taps per pass (each sum still adds its taps in
    # order), written once instead of read and written per tap.  The phases are then
    # interleaved into the output: dmap/hmap[t] = (phase index or -1, grid index) per output
    # position of the outer axes; wrun[phase] = (first output, first grid index, count) of
    # the last axis, whose outputs of one phase are every s-th.  Outputs no phase reaches are
    # 0 + bias.  Arrays are indexed flat, with unsigned offsets (no views or negative-index
    # fix-ups in the loops).
    n, c_in, d_in, h_in, w_in = x.shape
    cout_g, k = w.shape[1], w.shape[2]
    c_out, od, oh, ow = y.shape[1], y.shape[2], y.shape[3], y.shape[4]
    cin_g = c_in // groups
    phases = tap_combo.max() + 1
    n_w = wrun.shape[0]
    sw = np.uint64(wrun[0, 3])
    planes = n * c_out
    xf, yf = x.reshape(-1), y.reshape(-1)
    plane_in, plane_out = d_in * h_in * w_in, od * oh * ow
    lead = tap_off.max()
    length = np.uint64(buf_len)
    # the taps of each phase, in order: order[starts[P]:starts[P + 1]]
    starts = np.zeros(phases + 1, np.int64)
    for t in range(k):
        starts[tap_combo[t] + 1] += 1
    for p in range(phases):
        starts[p + 1] += starts[p]
    order = np.empty(k, np.int64)
    fill = starts[:phases].copy()
    for t in range(k):
        order[fill[tap_combo[t]]] = t
        fill[tap_combo[t]] += 1
    # the last axis at stride 2 with phases at outputs 0 and 1: both interleaved in one loop
    pair = n_w == 2 and sw == 2 and wrun[0, 0] + wrun[1, 0] == 1
    even = 0 if wrun[0, 0] == 0 else 1
    ce, co = np.uint64(wrun[even, 2]), np.uint64(wrun[1 - even, 2])
    for chunk in prange(chunks):
        # buffers once per chunk of planes: each plane writes the same entries of xq (its zero
        # columns stay zero)
        xq = np.zeros(lead + buf_len, y.dtype)
        buf = np.empty(phases * buf_len, y.dtype)
        # of the arrays' dtype: xq[0] * 0 would be float64, and every sum with it too (4x
        # slower loops)
        zero = np.zeros(1, y.dtype)[0]
        for plane in range(planes * chunk // chunks, planes * (chunk + 1) // chunks):
            b = plane // c_out
            o = plane % c_out
            g = o // cout_g
            oo = o % cout_g
            for ci in range(cin_g):
                c = g * cin_g + ci
                x0 = (b * c_in + c) * plane_in
                for zd in range(d_in):
                    for zh in range(h_in):
                        at = np.uint64(lead + (zd * hp + zh) * wp)
                        src = np.uint64(x0 + (zd * h_in + zh) * w_in)
                        for m in range(np.uint64(w_in)):
                            xq[at + m] = xf[src + m]
                for p in range(phases):
                    dst = np.uint64(p * buf_len)
                    i = starts[p]
                    while i < starts[p + 1]:
                        fresh = ci == 0 and i == starts[p]  # the sums start at 0
                        t0 = order[i]
                        q0 = np.uint64(lead - tap_off[t0])
                        w0 = w[c, oo, t0]
                        if i + 4 <= starts[p + 1]:
                            t1, t2, t3 = order[i + 1], order[i + 2], order[i + 3]
                            q1 = np.uint64(lead - tap_off[t1])
                            q2 = np.uint64(lead - tap_off[t2])
                            q3 = np.uint64(lead - tap_off[t3])
                            w1, w2, w3 = w[c, oo, t1], w[c, oo, t2], w[c, oo, t3]
                            if fresh:  # (two loops: no branch in the vector loop)
                                for u in range(length):
                                    v = zero + xq[q0 + u] * w0
                                    v += xq[q1 + u] * w1
                                    v += xq[q2 + u] * w2
                                    buf[dst + u] = v + xq[q3 + u] * w3
                            else:
                                for u in range(length):
                                    v = buf[dst + u] + xq[q0 + u] * w0
                                    v += xq[q1 + u] * w1
                                    v += xq[q2 + u] * w2
                                    buf[dst + u] = v + xq[q3 + u] * w3
                            i += 4
                        elif fresh:
                            for u in range(length):
                                buf[dst + u] = zero + xq[q0 + u] * w0
                            i += 1
                        else:
                            for u in range(length):
                                buf[dst + u] += xq[q0 + u] * w0
                            i += 1
            bv = bias[o]
            y0 = (b * c_out + o) * plane_out
            for zd in range(od):
                pd = dmap[zd, 0]
                cd = dmap[zd, 1]
                for zh in range(oh):
                    row = np.uint64(y0 + (zd * oh + zh) * ow)
                    ph = hmap[zh, 0]
                    if not covered or pd < 0 or ph < 0:
                        for m in range(np.uint64(ow)):
                            yf[row + m] = bv
                    if pd < 0 or ph < 0:
                        continue
                    ch = hmap[zh, 1]
                    grid = ((pd * n_h + ph) * n_w) * buf_len + (cd * hp + ch) * wp
                    if pair:  # stride 2, phases at 0 and 1: one interleaving pass (vectors)
                        _pair_row(yf, row, buf, np.uint64(grid + even * buf_len + wrun[even, 1]),
                                  np.uint64(grid + (1 - even) * buf_len + wrun[1 - even, 1]),
                                  ce, co, bv)
                        continue
                    for pw in range(n_w):
                        at = row + np.uint64(wrun[pw, 0])
                        src = np.uint64(grid + pw * buf_len + wrun[pw, 1])
                        count = np.uint64(wrun[pw, 2])
                        if sw == 2:  # (a constant stride: vector stores)
                            for j in range(count):
                                yf[at + np.uint64(2) * j] = buf[src + j] + bv
                        else:
                            for j in range(count):
                                yf[at + sw * j] = buf[src + j] + bv


def _phase_pairs_par(x, ph, pairs, m0, rows, s0, parts):  # type: ignore[no-untyped-def]
    # _phase_pairs for all channels and rows [0, rows), in ``parts`` shares of the (channel,
    # row) pairs, one per thread
    units = x.shape[1] * rows
    for p in prange(parts):
        u0, u1 = units * p // parts, units * (p + 1) // parts
        for c in range(u0 // rows, (u1 + rows - 1) // rows):
            i0, i1 = max(u0 - c * rows, 0), min(u1 - c * rows, rows)
            if i1 > i0:
                _phase_pairs(x, ph, pairs, c, c + 1, m0, i0, i1, s0)


def _conv_planes(x, w, bias, y, dsrc, hsrc, wrun, tap_combo, tap_off, gw,  # type: ignore[no-untyped-def]
                 groups, buf_len, chunks):
    # One (n, o) plane per iteration.  The group's input plane is split into its stride
    # phases on a grid of O + Q - 1 entries per axis (dsrc/hsrc[phase, m] = input index, -1
    # for padding; wrun[phase] = (first grid entry, end, first input index, stride) on the
    # last axis); tap t reads its phase at its shift, so with the output rows laid out with
    # the grid's extents every tap is one long contiguous multiply-add (four taps per pass
    # over the sums: each sum still adds its taps in order); rows are cropped out.  Arrays
    # are indexed flat, with unsigned offsets: no views or negative-index fix-ups in the loops
    # (1.2-1.3x faster than row views, measured on the depthwise layers).
    n, c_in, d_in, h_in, w_in = x.shape
    c_out, cin_g, k = w.shape
    od, oh, ow = y.shape[2], y.shape[3], y.shape[4]
    cout_g = c_out // groups
    n_d, gd = dsrc.shape
    n_h, gh = hsrc.shape
    n_w = wrun.shape[0]
    sw = np.uint64(wrun[0, 3])
    acc_len = np.uint64(od * gh * gw)
    planes = n * c_out
    xf, yf = x.reshape(-1), y.reshape(-1)
    plane_in, plane_out = d_in * h_in * w_in, od * oh * ow
    # the last axis at stride 2, its two phases starting at the same grid entry and at
    # neighbouring inputs: each input row is split into both in one pass (vector loads)
    pair = (n_w == 2 and sw == 2 and wrun[0, 0] == wrun[1, 0]
            and wrun[1, 2] == wrun[0, 2] + 1)
    c_even = np.uint64(wrun[0, 1] - wrun[0, 0])
    c_odd = np.uint64(wrun[1, 1] - wrun[1, 0]) if n_w > 1 else np.uint64(0)
    blen = np.uint64(buf_len)
    for chunk in prange(chunks):
        # buffers once per chunk of planes: each plane writes the same entries of xph (its
        # padding stays zero), and acc is cleared
        xph = np.zeros(n_d * n_h * n_w * buf_len, y.dtype)
        acc = np.empty(acc_len, y.dtype)
        for plane in range(planes * chunk // chunks, planes * (chunk + 1) // chunks):
            b = plane // c_out
            o = plane % c_out
            g = o // cout_g
            acc[:] = 0
            for ci in range(cin_g):
                c = g * cin_g + ci
                x0 = (b * c_in + c) * plane_in
                for pd in range(n_d):
                    for ph in range(n_h):
                        if pair:  # both stride-2 phases of a row from one pass over it
                            base = (pd * n_h + ph) * n_w * buf_len + wrun[0, 0]
                            for md in range(gd):
                                jd = dsrc[pd, md]
                                for mh in range(gh):
                                    jh = hsrc[ph, mh]
                                    if jd < 0 or jh < 0:
                                        continue
                                    at = np.uint64(base + (md * gh + mh) * gw)
                                    src = np.uint64(x0 + (jd * h_in + jh) * w_in + wrun[0, 2])
                                    _split_row(xph, at, at + blen, xf, src, c_even, c_odd)
                            continue
                        for pw in range(n_w):
                            m0, m1, j0 = wrun[pw, 0], wrun[pw, 1], wrun[pw, 2]
                            count = np.uint64(m1 - m0)
                            dst = ((pd * n_h + ph) * n_w + pw) * buf_len + m0
                            for md in range(gd):
                                jd = dsrc[pd, md]
                                for mh in range(gh):
                                    jh = hsrc[ph, mh]
                                    if jd < 0 or jh < 0:
                                        continue  # padding rows stay zero
                                    at = np.uint64(dst + (md * gh + mh) * gw)
                                    src = np.uint64(x0 + (jd * h_in + jh) * w_in + j0)
                                    if sw == 2:  # (a constant stride: vector loads)
                                        for m in range(count):
                                            xph[at + m] = xf[src + np.uint64(2) * m]
                                    else:
                                        for m in range(count):
                                            xph[at + m] = xf[src + sw * m]
                t = 0
                while t < k:
                    q0 = np.uint64(tap_combo[t] * buf_len + tap_off[t])
                    w0 = w[o, ci, t]
                    if t + 4 <= k:
                        q1 = np.uint64(tap_combo[t + 1] * buf_len + tap_off[t + 1])
                        q2 = np.uint64(tap_combo[t + 2] * buf_len + tap_off[t + 2])
                        q3 = np.uint64(tap_combo[t + 3] * buf_len + tap_off[t + 3])
                        w1, w2, w3 = w[o, ci, t + 1], w[o, ci, t + 2], w[o, ci, t + 3]
                        for u in range(acc_len):
                            v = acc[u] + xph[q0 + u] * w0
                            v += xph[q1 + u] * w1
                            v += xph[q2 + u] * w2
                            acc[u] = v + xph[q3 + u] * w3
                        t += 4
                    else:
                        for u in range(acc_len):
                            acc[u] += xph[q0 + u] * w0
                        t += 1
            bv = bias[o]
            y0 = (b * c_out + o) * plane_out
            for zd in range(od):
                for zh in range(oh):
                    src = np.uint64((zd * gh + zh) * gw)
                    at = np.uint64(y0 + (zd * oh + zh) * ow)
                    for zw in range(np.uint64(ow)):
                        yf[at + zw] = acc[src + zw] + bv


def _unpool_scatter(values, index, out, bad):  # type: ignore[no-untyped-def]
    # out[p, index[p, i]] = values[p, i] per plane p, zeros elsewhere; bad[p] = 1 marks a
    # switch outside the plane (the caller raises).  Later values win, as in C order.
    planes, count = index.shape
    size = out.shape[1]
    for p in prange(planes):
        for j in range(size):
            out[p, j] = 0
        for i in range(count):
            j = index[p, i]
            if j < 0 or j >= size:
                bad[p] = 1
                break
            out[p, j] = values[p, i]


def _unpool_gather(grad, index, out, bad):  # type: ignore[no-untyped-def]
    # out[p, i] = grad[p, index[p, i]]: max_unpool's input gradient.
    planes, count = index.shape
    size = grad.shape[1]
    for p in prange(planes):
        for i in range(count):
            j = index[p, i]
            if j < 0 or j >= size:
                bad[p] = 1
                break
            out[p, i] = grad[p, j]


def _put_rows(y, ys, src, ss, shape, amap, bmap, wrun, bias, c0, nb):  # type: ignore[no-untyped-def]
    # y[b, c0 + o, oa, ob, wrun[pw, 0] + m*wrun[pw, 3]] = src[o, phase, ia, b, ib,
    # wrun[pw, 1] + m] (+ bias[c0 + o]) for m < wrun[pw, 2], where (pa, ia) = amap[oa] and
    # (pb, ib) = bmap[ob] (pa or pb < 0: a row this call does not write) and phase =
    # (pa * nb + pb) * len(wrun) + pw.  y (N, C, OA, OB, OW) and src (C', P, A, N, B, W) come
    # as flat buffers with element strides ys and ss (unit last strides), shape = (C', N):
    # flat and C-contiguous, so that the row loops are contiguous to the compiler and
    # vectorise.  Samples go innermost but one: src is read row after row as it lies while y
    # is written a whole row at a time.
    cs, n = shape[0], shape[1]
    nw = wrun.shape[0]
    pair = nw == 2 and wrun[0, 3] == 2 and wrun[1, 3] == 2 and wrun[0, 0] + wrun[1, 0] == 1
    even = 0 if wrun[0, 0] == 0 else 1
    one = np.uint64(1)
    # the pair's counts and first grid indices, the same for every row
    ce, co = np.uint64(wrun[even, 2]), np.uint64(wrun[1 - even, 2])
    ge, go = wrun[even, 1], wrun[1 - even, 1]
    for o in range(cs):
        bv = bias[c0 + o]
        for oa in range(amap.shape[0]):
            pa = amap[oa, 0]
            if pa < 0:
                continue
            ia = amap[oa, 1]
            for ob in range(bmap.shape[0]):
                pb = bmap[ob, 0]
                if pb < 0:
                    continue
                ib = bmap[ob, 1]
                base = (pa * nb + pb) * nw
                for b in range(n):
                    yr = (c0 + o) * ys[1] + b * ys[0] + oa * ys[2] + ob * ys[3]
                    sr = o * ss[0] + ia * ss[2] + b * ss[3] + ib * ss[4]
                    # (unsigned indices: no negative-index fix-ups, so the copies vectorise)
                    if pair:  # stride 2, phases at 0 and 1: one interleaving pass
                        _pair_row(y, np.uint64(yr), src,
                                  np.uint64(sr + (base + even) * ss[1] + ge),
                                  np.uint64(sr + (base + 1 - even) * ss[1] + go), ce, co, bv)
                        continue
                    for pw in range(nw):
                        count, step = np.uint64(wrun[pw, 2]), np.uint64(wrun[pw, 3])
                        row = np.uint64(sr + (base + pw) * ss[1] + wrun[pw, 1])
                        at = np.uint64(yr + wrun[pw, 0])
                        if step == one:
                            for m in range(count):
                                y[at + m] = src[row + m] + bv
                        else:
                            for m in range(count):
                                y[at + m * step] = src[row + m] + bv


def _put_rows_par(y, ys, src, ss, shape, amap, bmap, wrun, bias, c0, nb, parts):  # type: ignore[no-untyped-def]
    # _put_rows over ``parts`` shares of the channels, one per thread
    cs = shape[0]
    for p in prange(parts):
        o0, o1 = cs * p // parts, cs * (p + 1) // parts
        if o1 > o0:
            _put_rows(y, ys, src[o0 * ss[0]:], ss, np.array([o1 - o0, shape[1]]), amap, bmap,
                      wrun, bias, c0 + o0, nb)


def _col2im_rows(y, z, bias, amap, wrun, starts, taps, shifts, c0, cs, zdims):  # type: ignore[no-untyped-def]
    # GEMM + col2im's sums in output-row form: y[b, c0 + o, oh, ow] = bias[c0 + o] + the sum
    # of the products z[o, t, gi - qh_t, b, gj - qw_t] of the taps t of (oh, ow)'s phase, for
    # o < cs, where (ph, gi) = amap[oh] (ph < 0: a row no tap reaches, left as it is) and the
    # last axis' phase pw writes outputs wrun[pw, 0] + m*wrun[pw, 3] from grid entries gj =
    # wrun[pw, 1] + m, m < wrun[pw, 2]; phase (ph, pw) has the taps taps[starts[p]:starts[p +
    # 1]], p = ph * len(wrun) + pw, with shifts (qh, qw).  z (C', K, rows, N, W) and y (N, C,
    # OH, OW) are flat and C-contiguous, zdims = (K, rows, N, W).  Each output row is summed
    # in a row buffer, tap by tap (contiguous adds), and written once.
    k, rows, n, w_len = zdims[0], zdims[1], zdims[2], zdims[3]
    c_out, oh_len, ow_len = y.shape[1], y.shape[2], y.shape[3]
    yf = y.reshape(-1)
    n_w = wrun.shape[0]
    longest = 0
    for pw in range(n_w):
        longest = max(longest, wrun[pw, 2])
    buf = np.empty(n_w * max(longest, 1), z.dtype)
    pair = n_w == 2 and wrun[0, 3] == 2 and wrun[1, 3] == 2 and wrun[0, 0] + wrun[1, 0] == 1
    even = 0 if wrun[0, 0] == 0 else 1
    # of the arrays' dtype (buf[0] * 0 is float64, and NaN where np.empty's memory held one)
    zero = np.zeros(1, z.dtype)[0]
    for o in range(cs):
        bv = bias[c0 + o]
        for oh in range(oh_len):
            ph, gi = amap[oh, 0], amap[oh, 1]
            if ph < 0:
                continue
            for b in range(n):
                for pw in range(n_w):
                    count = wrun[pw, 2]
                    gj0 = wrun[pw, 1]
                    base = pw * longest
                    for m in range(count):
                        buf[base + m] = zero + bv
                    p = ph * n_w + pw
                    for i in range(starts[p], starts[p + 1]):
                        r = gi - shifts[i, 0]
                        if r < 0 or r >= rows:
                            continue
                        off = gj0 - shifts[i, 1]  # z column of m = 0
                        m0 = max(0, -off)
                        m1 = min(count, w_len - off)
                        if m1 <= m0:
                            continue
                        row = np.uint64((((o * k + taps[i]) * rows + r) * n + b) * w_len
                                        + off + m0)
                        at = np.uint64(base + m0)
                        for m in range(np.uint64(m1 - m0)):
                            buf[at + m] += z[row + m]
                yrow = np.uint64(((b * c_out + c0 + o) * oh_len + oh) * ow_len)
                if pair:
                    _pair_row(yf, yrow, buf, np.uint64(even * longest),
                              np.uint64((1 - even) * longest), np.uint64(wrun[even, 2]),
                              np.uint64(wrun[1 - even, 2]), zero)
                    continue
                for pw in range(n_w):
                    at = yrow + np.uint64(wrun[pw, 0])
                    step = np.uint64(wrun[pw, 3])
                    first = np.uint64(pw * longest)
                    for m in range(np.uint64(wrun[pw, 2])):
                        yf[at + m * step] = buf[first + m]


def _col2im_rows_par(y, z, bias, amap, wrun, starts, taps, shifts, c0, cs, zdims, parts):  # type: ignore[no-untyped-def]
    # _col2im_rows over ``parts`` shares of the channels, one per thread
    per = zdims[0] * zdims[1] * zdims[2] * zdims[3]
    for p in prange(parts):
        o0, o1 = cs * p // parts, cs * (p + 1) // parts
        if o1 > o0:
            _col2im_rows(y, z[o0 * per:], bias, amap, wrun, starts, taps, shifts, c0 + o0,
                         o1 - o0, zdims)


_KERNELS = ("_tconv_planes", "_conv_planes", "_unpool_scatter", "_unpool_gather",
            "_put_rows_par", "_phase_pairs_par", "_col2im_rows_par")
# (also called from upconv's own threads, one share each, and from the kernels above)
_SERIAL_KERNELS = ("_pair_row", "_split_row", "_phase_pairs", "_put_rows", "_col2im_rows")


_COMPILE_LOCK = threading.Lock()
_numba: Any = None


def _compiled() -> Any:
    # Import numba and replace the kernels above by their compiled versions, exactly once even
    # when several threads make their first call at the same time (a web server's workers do).
    global _numba
    if _numba is not None:  # every kernel call comes here: no lock once compiled
        return _numba
    with _COMPILE_LOCK, unbound():
        if _numba is None:
            import numba

            # numba's first compilation loads SciPy's BLAS, which sizes its threads by the
            # CPUs this thread may use: here, not in a later compilation in a bound thread
            numba.njit(lambda: 0)()

            module = globals()
            module["prange"] = numba.prange
            for name in _KERNELS:
                module[name] = numba.njit(parallel=True, fastmath=False, cache=True,
                                          nogil=True)(module[name])
            for name in _SERIAL_KERNELS:
                module[name] = numba.njit(fastmath=False, cache=True, nogil=True,
                                          boundscheck=False)(module[name])
            _numba = numba
    return _numba


def threads() -> None:
    """Give numba's parallel loops upconv's thread count (:func:`upconv.set_num_threads`)."""
    numba = _compiled()
    numba.set_num_threads(max(1, min(get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


def launch(kernel: Any, *args: Any) -> Any:
    """``kernel(*args)``, a compiled parallel loop, on numba's threads with upconv's count.

    Callers never launch from one of upconv's pool threads (a share of ``by_batch``): a
    numba parallel region started there left PyTorch's OpenMP calls about twice as slow for
    the rest of the process.  There the kernels run their serial versions instead.
    """
    threads()
    return kernel(*args)


# ---------------------------------------------------------------------------------------------
# Wrappers: cast, lift to three spatial axes, call


def _lift3(a: np.ndarray) -> np.ndarray:
    # (N, C, *L) -> (N, C, 1.., *L) with three spatial axes
    return a.reshape(*a.shape[:2], *(1,) * (5 - a.ndim), *a.shape[2:])


def _bias(bias: np.ndarray | None, c_out: int, dtype: Any) -> np.ndarray:
    if bias is None:
        return np.zeros(c_out, dtype=dtype)
    return np.ascontiguousarray(bias, dtype=dtype)


def _lifted(values: Sequence[int], fill: int) -> list[int]:
    return [fill] * (3 - len(values)) + [int(v) for v in values]


@functools.lru_cache(maxsize=256)
def _transpose_tables(size: tuple[int, ...], k_size: tuple[int, ...], stride: tuple[int, ...],
                      pad_before: tuple[int, ...], dilation: tuple[int, ...],
                      out_size: tuple[int, ...]) -> tuple[Any, ...]:
    # Output-phase form of each axis (_gemm._transpose_axis): per tap its phase combination
    # and flat shift, per output position its phase and grid index.  Integers only.
    from ._gemm import _transpose_axis

    axes = [_transpose_axis(*a) for a in zip(_lifted(k_size, 1), _lifted(stride, 1),
                                             _lifted(dilation, 1), _lifted(pad_before, 0),
                                             _lifted(size, 1), _lifted(out_size, 1),
                                             strict=True)]
    grid = [a.size + a.span - 1 for a in axes]
    hp, wp = grid[1], grid[2]
    counts = [len(a.used) for a in axes]
    combo, off = [], []
    for a in itertools.product(*(range(len(ax.rho)) for ax in axes)):
        idx = [ax.used.index(ax.rho[t]) for ax, t in zip(axes, a, strict=True)]
        combo.append((idx[0] * counts[1] + idx[1]) * counts[2] + idx[2])
        q = [ax.q[t] for ax, t in zip(axes, a, strict=True)]
        off.append((q[0] * hp + q[1]) * wp + q[2])
    maps = []
    for ax, g in zip(axes, grid, strict=True):
        m = np.zeros((ax.out, 2), dtype=np.int64)
        for t in range(ax.out):
            e = t + ax.beta
            c = e // ax.s - ax.lo
            m[t] = (ax.used.index(e % ax.s), c) if e % ax.s in ax.used and 0 <= c < g else (-1, 0)
        maps.append(m)
    # last axis: per phase, its outputs t0, t0 + s, ... read grid entries c0, c0 + 1, ...
    wmap = maps[2]
    wrun = np.zeros((len(axes[2].used), 4), dtype=np.int64)
    wrun[:, 3] = axes[2].s
    for i in range(len(axes[2].used)):
        ts = np.flatnonzero(wmap[:, 0] == i)
        if ts.size:
            wrun[i, :3] = ts[0], wmap[ts[0], 1], ts.size
    covered = bool((wmap[:, 0] >= 0).all())
    buf_len = grid[0] * hp * wp + (axes[1].span - 1) * wp + axes[2].span
    return (maps[0], maps[1], wrun, np.array(combo, dtype=np.int64),
            np.array(off, dtype=np.int64), hp, wp, counts[1], buf_len, covered)


@functools.lru_cache(maxsize=256)
def _conv_tables(size: tuple[int, ...], k_size: tuple[int, ...], stride: tuple[int, ...],
                 pad_before: tuple[int, ...], dilation: tuple[int, ...],
                 out_size: tuple[int, ...]) -> tuple[Any, ...]:
    # Tap a of an axis reads input (t + q_a)*s + r_a, q_a = (a*d - p) // s, r_a = its phase:
    # phase r on the grid m = t + q_a - lo (O + Q - 1 entries) holds input (m + lo)*s + r.
    srcs, per_tap, grid = [], [], []
    for k, s, d, pb, length, out in zip(_lifted(k_size, 1), _lifted(stride, 1),
                                        _lifted(dilation, 1), _lifted(pad_before, 0),
                                        _lifted(size, 1), _lifted(out_size, 1), strict=True):
        e = [a * d - pb for a in range(k)]
        lo = min(v // s for v in e)
        span = max(v // s for v in e) - lo + 1
        used = sorted({v % s for v in e})
        g = out + span - 1
        src = np.full((len(used), g), -1, dtype=np.int64)
        for i, r in enumerate(used):
            for m in range(g):
                j = (m + lo) * s + r
                if 0 <= j < length:
                    src[i, m] = j
        srcs.append(src)
        per_tap.append([(used.index(v % s), v // s - lo) for v in e])
        grid.append((g, span))
    (gd, _), (gh, qh), (gw, qw) = grid
    counts = [len(src) for src in srcs]
    # last axis: per phase, the grid entries [m0, m1) that read input j0, j0 + s, ...
    wsrc, s_w = srcs[2], _lifted(stride, 1)[2]
    wrun = np.zeros((len(wsrc), 4), dtype=np.int64)
    wrun[:, 3] = s_w
    for i, src in enumerate(wsrc):
        ms = np.flatnonzero(src >= 0)
        if ms.size:
            wrun[i, :3] = ms[0], ms[-1] + 1, src[ms[0]]
    combo, off = [], []
    for (pd, sd), (ph, sh), (pw, sw) in itertools.product(*per_tap):
        combo.append((pd * counts[1] + ph) * counts[2] + pw)
        off.append((sd * gh + sh) * gw + sw)
    buf_len = gd * gh * gw + (qh - 1) * gw + qw
    return (srcs[0], srcs[1], wrun, np.array(combo, dtype=np.int64),
            np.array(off, dtype=np.int64), gw, buf_len)


def _chunks(planes: int) -> int:
    # Chunks of planes for the plane kernels' threads (each allocates its buffers once): a
    # few per thread, so that a thread that starts late delays little.
    return max(1, min(planes, 4 * get_num_threads()))


def conv_transpose_planes(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> np.ndarray:
    """Transposed convolution by direct loops over output planes (tiny groups, depthwise).

    Same arguments and result as :func:`._gemm.conv_transpose_forward`.
    """
    threads()
    n, c_in = x.shape[:2]
    c_out = weight.shape[1] * groups
    y = np.empty((n, c_out, *out_size), dtype=x.dtype)
    if y.size == 0:
        return y
    tables = _transpose_tables(tuple(x.shape[2:]), tuple(weight.shape[2:]), tuple(stride),
                               tuple(pad_before), tuple(dilation), tuple(out_size))
    xc = _lift3(np.ascontiguousarray(x))
    wc = np.ascontiguousarray(weight).reshape(c_in, weight.shape[1], -1)
    dmap, hmap, wrun, combo, off, hp, wp, n_h, buf_len, covered = tables
    _tconv_planes(xc, wc, _bias(bias, c_out, x.dtype), _lift3(y), dmap, hmap, wrun, combo,
                  off, hp, wp, n_h, groups, buf_len, covered, _chunks(n * c_out))
    return y


def conv_planes(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> np.ndarray:
    """Convolution by direct loops over output planes (tiny groups, depthwise).

    Same arguments and result as :func:`._gemm.conv_forward`.
    """
    threads()
    n, c_out = x.shape[0], weight.shape[0]
    y = np.empty((n, c_out, *out_size), dtype=x.dtype)
    if y.size == 0 or x.shape[1] == 0:
        if y.size:
            y[...] = _bias(bias, c_out, x.dtype).reshape(-1, *(1,) * len(out_size))
        return y
    tables = _conv_tables(tuple(x.shape[2:]), tuple(weight.shape[2:]), tuple(stride),
                          tuple(pad_before), tuple(dilation), tuple(out_size))
    xc = _lift3(np.ascontiguousarray(x))
    wc = np.ascontiguousarray(weight).reshape(c_out, weight.shape[1], -1)
    dsrc, hsrc, wrun, combo, off, gw, buf_len = tables
    _conv_planes(xc, wc, _bias(bias, c_out, x.dtype), _lift3(y), dsrc, hsrc, wrun, combo, off,
                 gw, groups, buf_len, _chunks(n * c_out))
    return y


def put_rows(y: np.ndarray, src: np.ndarray, amap: np.ndarray, bmap: np.ndarray,
             wrun: np.ndarray, bias: np.ndarray, c0: int, nb: int, parts: int = 1) -> None:
    """Write a block of GEMM rows into ``y`` by index tables (see ``_put_rows``), in place.

    ``parts > 1``: the channels split over that many of numba's threads (never from one of
    upconv's pool threads: see ``_tiles.swap_channels``).

    ``y`` is ``(N, C, OA, OB, OW)`` and ``src`` ``(C', P, A, N, B, W)``, views of one float
    dtype with unit last strides and no negative strides; the caller builds the tables so
    that every index is inside both arrays (the compiled loops do not check them).
    """
    _compiled()
    (yf, ys), (sf, ss) = _flat(y), _flat(src)
    shape = np.array([src.shape[0], src.shape[3]], dtype=np.int64)
    if parts > 1:
        launch(_put_rows_par, yf, ys, sf, ss, shape, amap, bmap, wrun, bias, c0, nb, parts)
    else:
        _put_rows(yf, ys, sf, ss, shape, amap, bmap, wrun, bias, c0, nb)


def phase_pairs(x: np.ndarray, ph: np.ndarray, pairs: np.ndarray, c0: int, c1: int, m0: int,
                rows: int, s0: int, parts: int = 1) -> None:
    """The convolution's stride-2 input phases, two per pass over each input row, in place.

    See ``_phase_pairs``; ``x`` and ``ph`` C-contiguous of one float dtype, the table built
    by the caller so that every index is inside both (the compiled loops do not check).
    With ``parts > 1`` (all channels only) numba's threads take shares of the channels' rows.
    """
    _compiled()
    if parts > 1:
        if (c0, c1) != (0, x.shape[1]):
            raise ValueError("phase_pairs: parts > 1 gathers all channels")
        launch(_phase_pairs_par, x, ph, pairs, m0, rows, s0, parts)
    else:
        _phase_pairs(x, ph, pairs, c0, c1, m0, 0, rows, s0)


def col2im_rows(y: np.ndarray, z: np.ndarray, bias: np.ndarray, c0: int, amap: np.ndarray,
                wrun: np.ndarray, starts: np.ndarray, taps: np.ndarray,
                shifts: np.ndarray, parts: int = 1) -> None:
    """GEMM + col2im's tap sums written into rows of ``y``, in place (see ``_col2im_rows``).

    ``z`` is ``(C', K, rows, N, W)``, ``y`` ``(N, C, OH, OW)``, both C-contiguous of one
    float dtype; the caller builds the tables so that every index is inside both arrays (the
    compiled loops do not check them).  ``parts > 1``: the channels split over that many of
    numba's threads (never from one of upconv's pool threads); else serial, in this thread.
    """
    _compiled()
    dims = np.array(z.shape[1:], dtype=np.int64)
    if parts > 1:
        launch(_col2im_rows_par, y, z.reshape(-1), bias, amap, wrun, starts, taps, shifts, c0,
               z.shape[0], dims, parts)
    else:
        _col2im_rows(y, z.reshape(-1), bias, amap, wrun, starts, taps, shifts, c0, z.shape[0],
                     dims)


def _flat(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # a view (no negative strides) as one flat buffer from its first element to its last,
    # and its element strides
    size = a.itemsize
    span = 1 + sum((e - 1) * st for e, st in zip(a.shape, a.strides, strict=True)) // size
    return (np.lib.stride_tricks.as_strided(a, shape=(max(span, 1),), strides=(size,)),
            np.array(a.strides, dtype=np.int64) // size)


def unpool_scatter(values: np.ndarray, index: np.ndarray, plane: int) -> np.ndarray | None:
    """``out[p].flat[index[p]] = values[p]`` for ``(P, L)`` inputs; ``None`` on a bad switch."""
    threads()
    idx = np.ascontiguousarray(index, dtype=np.int64)
    out = np.empty((idx.shape[0], plane), dtype=values.dtype)
    bad = np.zeros(idx.shape[0], dtype=np.uint8)
    if idx.size or out.size:
        _unpool_scatter(np.ascontiguousarray(values), idx, out, bad)
    return None if bad.any() else out


def unpool_gather(grad: np.ndarray, index: np.ndarray, dtype: Any) -> np.ndarray | None:
    """``out[p] = grad[p].flat[index[p]]`` for ``(P, plane)`` grad; ``None`` on a bad switch."""
    threads()
    idx = np.ascontiguousarray(index, dtype=np.int64)
    out = np.empty(idx.shape, dtype=dtype)
    bad = np.zeros(idx.shape[0], dtype=np.uint8)
    if idx.size:
        _unpool_gather(np.ascontiguousarray(grad, dtype=dtype), idx, out, bad)
    return None if bad.any() else out


# Groups with at most this many (input, output) channel pairs take the loops over planes:
# their GEMMs are too small for BLAS (measured: depthwise 64 channels 32x32, batch 8 and 1).
MAX_GROUP_PAIRS = 4


def use_planes(cin_g: int, cout_g: int) -> bool:
    """Whether a (transposed) convolution with these channels per group takes the loops."""
    return cin_g * cout_g <= MAX_GROUP_PAIRS
