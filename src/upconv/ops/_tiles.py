"""Compiled register-tile kernel for sums of shifted matrix products (private, numba extra).

Every GEMM formulation in :mod:`upconv.ops._gemm` is, at heart, one sum::

    C[i, j] (+)= sum_t sum_c A[t, c, i] * X[offset_t + c * ldx + j]

over taps ``t`` (kernel taps, or sub-pixel shifts) whose operand is a *shifted view* of the
same input rows.  OpenBLAS computes it as one product per tap and runs thin products badly:
on one core of this machine, 16 output rows at 22-54 GFLOP/s and 48-256 rows over 64 channels
at 40-70, against ~97 for large products, because it packs every operand column for a
handful of multiply-adds.  This module computes the whole sum in
one pass, with the classic register tile of GEMM micro-kernels written directly in LLVM IR
(numba's ``intrinsic`` with llvmlite): ``MR = 4`` rows by ``NV = 6`` vectors of columns (4 or
5 where that fits short columns better, 1 or 2 for a last tile) stay in up to 24 vector
registers for all taps and channels; each step loads ``NV`` vectors of one
shifted input row (no packing: the shifted rows are read where they are) and broadcasts
``MR`` weights, for ``MR * NV`` fused multiply-adds.  Measured on one core of this machine's
AVX-512 CPU: 81-110 GFLOP/s on the benchmark suite's sums, about its peak, where OpenBLAS gets
10-97 on the same sums.

The weight is read where it lies, through per-tap offsets and channel and row strides
(:class:`Weights`); a transposed convolution's weight is first swapped into the convolution's
layout (:func:`swap_channels`), where a channel's taps share a cache line.  Channels go
outer and taps inner, so consecutive steps read the same input row at nearby shifts.  Column
tails use masked loads and stores, so nothing outside the requested columns is read or
written, and the wrapper checks every read against its operand before calling compiled code.
Loops go over channel blocks (L2-sized), blocks of rows, column tiles and row tiles; threads
(numba's OpenMP team, started in microseconds, where a hand-off to upconv's own pool costs
60-200 µs on a virtual machine; never from inside a pool thread) take disjoint column ranges,
or row ranges when the columns are few, and :func:`gemm_many` spreads several problems' pieces
over them by cost.  :func:`gemm_segments` writes short column runs (a convolution's output
rows) each where it belongs in the output; :func:`matmul` is a plain product of a weight's
view, for the products BLAS would otherwise run on its own (afterwards spinning) threads.
Sums run in a fixed order (channel, then tap), one rounding per multiply-add.
Used only when numba is installed and ``UPCONV_TILES`` is not ``"0"`` (:func:`available`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _numba
from ._parallel import _serial, get_num_threads, run_each, switched_off

MR = 4  # rows of a register tile
NV = 6  # vectors of columns in a register tile
MIN_NV = 4  # (gemm_many narrows its tiles down to this many vectors to fit short columns)
# Channels per block (times the taps, the rows of X a tile walks through): keeps a column
# tile of X and the weights of a block of rows in the L2 cache.
K_BLOCK_ROWS = 256
M_BLOCK = 128  # rows per block of rows (a multiple of MR)
MIN_COLUMN_TILES = 8  # with fewer column tiles, threads split the rows instead
# Multiply-adds per thread below which one thread is faster.  The drivers start their threads
# through numba's parallel loop (OpenMP: a few µs, against 60-200 µs each way for upconv's
# own pool on a virtual machine): ~20 µs of a core (batch-1 layers with 3 input channels, 1-d,
# 64 -> 64 k3: 0.82-0.95x against 1 << 23).  With the pool (positions kernel with a bias):
# ~0.2 ms of a core.
MIN_MACS_PER_THREAD = 1 << 20
POOL_MIN_MACS_PER_THREAD = 1 << 23
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def available(dtype: Any) -> bool:
    """Whether :func:`gemm` runs for ``dtype``: numba is in use and ``UPCONV_TILES != "0"``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> _tiles.available(np.int32)
    False
    """
    return (np.dtype(dtype) in _DTYPES and _numba.available()
            and not switched_off("UPCONV_TILES"))


class Weights(NamedTuple):
    """A weight read in place: ``A[t, c, i] = data.flat[offsets[t] + c * c_stride + i * i_stride]``.

    ``data`` is C-contiguous; ``k`` channels and ``m`` rows per tap, ``len(offsets)`` taps.
    """

    data: np.ndarray
    offsets: np.ndarray
    c_stride: int
    i_stride: int
    k: int
    m: int


def weights(data: np.ndarray, offsets: Any, c_stride: int, i_stride: int, k: int,
            m: int) -> Weights:
    """:class:`Weights` over ``data`` (made C-contiguous), with its reads checked once.

    Examples
    --------
    A convolution's ``(C_out, C_in, K)`` weight: tap ``t`` at offset ``t``, channel stride
    ``K``, row stride ``C_in * K``.

    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> w = np.zeros((8, 3, 9), np.float32)
    >>> _tiles.weights(w, range(9), 9, 27, 3, 8).offsets
    array([0, 1, 2, 3, 4, 5, 6, 7, 8])
    """
    data = np.ascontiguousarray(data)
    offs = np.asarray(list(offsets), dtype=np.int64)
    if len(offs) and k and m and ((span := _low_high(offs))[0] < 0 or span[1] + (k - 1)
                                  * c_stride + (m - 1) * i_stride >= data.size):
        raise ValueError("_tiles.weights: reads leave the weight")
    return Weights(data, offs, c_stride, i_stride, k, m)


def gemm(a: Weights, x: np.ndarray, offsets: np.ndarray, out: np.ndarray,
         accumulate: bool = False) -> None:
    """``out[i, j] (+)= sum_t sum_c A[t, c, i] * x[0, offsets[t] + c * ldx + j]`` (A: ``a``).

    ``x`` is a 2-d array with unit column stride, read as one buffer from its first element
    (``ldx`` is its row stride: offsets may run past a row into the next ones); ``out`` is
    ``(M, columns)`` with unit column stride and the same dtype.  Raises ``ValueError`` when
    a read would leave ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> x = np.arange(12, dtype=np.float32).reshape(2, 6)
    >>> a = _tiles.weights(np.ones(2, np.float32), [0, 0], 1, 1, 2, 1)  # all ones
    >>> out = np.empty((1, 4), np.float32)
    >>> _tiles.gemm(a, x, np.array([0, 1]), out)  # taps at offsets 0 and 1
    >>> out  # x[0, j] + x[1, j] + x[0, j + 1] + x[1, j + 1]
    array([[14., 18., 22., 26.]], dtype=float32)
    """
    gemm_many([(a, offsets, out)], x, accumulate)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = a @ b`` through the tiles, with ``a`` (a weight's view) read in place.

    ``a`` is ``(M, K)`` with any non-negative strides (a transposed view of a weight costs
    nothing), ``b`` ``(K, N)`` and ``out`` ``(M, N)`` with unit column strides, all of one
    float dtype.  Unlike ``np.matmul`` through OpenBLAS, whose threads spin on the CPUs for
    ~0.1 s after each call and then hold back the next numba parallel loop (10-50x slower
    for that long), this runs on numba's threads like the rest of upconv's compiled paths.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> w = np.arange(6, dtype=np.float32).reshape(3, 2)
    >>> out = np.empty((2, 2), np.float32)
    >>> _tiles.matmul(w.T, np.eye(3, 2, dtype=np.float32), out)  # w.T @ I
    array([[0., 2.],
           [1., 3.]], dtype=float32)
    """
    m, k = a.shape
    if b.shape[0] != k or out.shape != (m, b.shape[1]) or min(a.strides) < 0:
        raise ValueError(f"_tiles.matmul: shapes {a.shape} @ {b.shape} -> {out.shape}")
    data, (i_stride, c_stride) = _numba._flat(a)  # (a view: nothing copied)
    gemm(weights(data, [0], int(c_stride), int(i_stride), k, m), b, np.zeros(1, np.int64), out)
    return out


def _rows_of(x: np.ndarray, who: str) -> tuple[int, int]:
    # The row stride of the tiles' input rows x (2-d, unit column stride) and the elements
    # readable from its first one.
    size = x.dtype.itemsize
    if x.ndim != 2 or x.strides[1] != size or x.strides[0] % size or x.shape[0] == 0:
        raise ValueError(f"_tiles.{who}: x must be 2-d with unit column stride")
    ldx = x.strides[0] // size
    return ldx, (x.shape[0] - 1) * ldx + x.shape[1]


def _low_high(values: np.ndarray) -> tuple[int, int]:
    # (min, max) of a short int64 array: through a list, 3-4x faster than two reductions at
    # the few dozen entries of tap offsets and segment starts (a batch-1 call has several)
    if len(values) <= 256:
        items = values.tolist()
        return min(items), max(items)
    return int(values.min()), int(values.max())


def gemm_many(problems: Sequence[tuple[Weights, np.ndarray, np.ndarray]], x: np.ndarray,
              accumulate: bool = False) -> None:
    """:func:`gemm` for several ``(a, offsets, out)`` over the same ``x``, in one compiled call.

    The sub-pixel kernel's output phases are such problems: one call shares the threads'
    start-up among them and balances their pieces (phases with fewer taps cost less) over
    the threads.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> x = np.arange(6, dtype=np.float64).reshape(1, 6)
    >>> one = _tiles.weights(np.ones(1), [0], 1, 1, 1, 1)
    >>> outs = np.empty((2, 1, 3))
    >>> _tiles.gemm_many([(one, np.array([0]), outs[0]), (one, np.array([2]), outs[1])], x)
    >>> outs[:, 0]
    array([[0., 1., 2.],
           [2., 3., 4.]])
    """
    dtype = x.dtype
    size = dtype.itemsize
    ldx, extent = _rows_of(x, "gemm")
    if dtype not in _DTYPES:
        raise ValueError(f"_tiles.gemm: dtype {dtype} is not float32 or float64")
    params, keep, costs = [], [], []
    for a, offsets, out in problems:
        if (out.ndim != 2 or a.m != out.shape[0] or out.dtype != dtype
                or a.data.dtype != dtype or len(offsets) != len(a.offsets)):
            raise ValueError("_tiles.gemm: operands do not match")
        m, cols = out.shape
        if m == 0 or cols == 0:
            continue
        if out.strides[1] != size:
            raise ValueError("_tiles.gemm: out must have unit column stride")
        taps = len(a.offsets)
        if taps == 0 or a.k == 0:
            if not accumulate:
                out[...] = 0
            continue
        offs = np.ascontiguousarray(offsets, dtype=np.int64)
        low, high = _low_high(offs)
        last = high + (a.k - 1) * ldx + cols
        if low < 0 or last > extent:
            raise ValueError(f"_tiles.gemm: reads [{low}, {last}) leave x, {extent} elements")
        keep.append(offs)
        params.append((a.data.ctypes.data, out.ctypes.data, a.offsets.ctypes.data,
                       offs.ctypes.data, taps, a.k, a.c_stride, a.i_stride, m,
                       out.strides[0] // size, cols, max(1, K_BLOCK_ROWS // taps)))
        costs.append(m * cols * taps * a.k)
    if not params:
        return
    nv = _vectors(_lanes(dtype), tuple(row[10] for row in params))
    width = _lanes(dtype) * nv
    table = np.array(params, dtype=np.int64)
    total = sum(costs)
    threads = 1 if _serial() else min(get_num_threads(), max(1, total // MIN_MACS_PER_THREAD))
    chunks, starts = _pieces(tuple((row[8], row[10], cost) for row, cost in zip(
        params, costs, strict=True)), threads, width, MIN_COLUMN_TILES)
    run, run_par = _driver(dtype, nv)
    args = (x.ctypes.data, ldx, accumulate, M_BLOCK)
    if threads == 1:
        run(table, chunks, starts, *args)
    else:
        _numba.launch(run_par, table, chunks, starts, *args)
    del keep  # (the offsets arrays the compiled code read)


@functools.lru_cache(maxsize=256)
def _vectors(lanes: int, columns: tuple[int, ...]) -> int:
    # Vectors per column tile for problems of these column counts: the cheapest by
    # _tile_cost, on a tie the widest.  72 columns (a batch-1 8x8 layer's phase): 5 vectors,
    # 80 lanes, not 96; 196 (14 x 14): 2 x 6 + a tail of 1, not 3 x 5 (0.61 -> 0.54 ms on
    # a 1024 x 256 weight); 1000: 6 (144 GFLOP/s against 134 with 4 x 4 + 1 x 3, though
    # that computes fewer lanes).
    return min(range(NV, MIN_NV - 1, -1), key=lambda nv: sum(_tile_cost(c, lanes, nv)
                                                             for c in columns))


# A last column tile of at most this many vectors runs in a tile of its own width (compiled
# alongside each tile width), not in a masked full-width one.
TAIL_VECTORS = 2


def _tile_cost(columns: int, lanes: int, nv: int) -> int:
    # Steps of the register tiles over ``columns`` columns with nv-vector tiles, each costing
    # its vectors plus one (its MR broadcasts: measured on one core, 4-vector tiles run 5-10 %
    # slower per lane than 5 or 6), a last tile of up to TAIL_VECTORS only its own.
    tiles, rest = divmod(-(-columns // lanes), nv)
    return tiles * (nv + 1) + (rest + 1 if rest <= TAIL_VECTORS else nv + 1) * (rest > 0)


@functools.lru_cache(maxsize=256)
def _pieces(problems: tuple[tuple[int, int, int], ...], threads: int, width: int,
            min_tiles: int) -> tuple[np.ndarray, np.ndarray]:
    # gemm_many's pieces of its (rows, columns, cost) problems.  Each problem is cut into
    # units, its column tiles (or, with few columns, its row tiles), each costing its share of
    # the problem; the units of all problems in a row are split at the boundaries nearest to
    # equal shares of the total cost, so that each thread takes one run of them (the phases
    # of k3 s2 have 1, 2, 2 and 4 taps: whole problems to the least loaded thread left one
    # thread 11 % more).
    # Rows (problem, i0, i1, j0, j1), thread t's from starts[t] to starts[t + 1] (read-only:
    # cached by shape).
    units = []  # (problem, by rows, first, end (rows or columns), cost)
    for p, (m, cols, cost) in enumerate(problems):
        tiles, row_tiles = -(-cols // width), -(-m // MR)
        by_rows = threads > 1 and tiles < min_tiles and row_tiles > tiles
        step, extent = (MR, m) if by_rows else (width, cols)
        units += [(p, by_rows, e, min(extent, e + step), cost * (min(extent, e + step) - e)
                   / extent) for e in range(0, extent, step)]
    total = sum(unit[4] for unit in units)
    chunks: list[tuple[int, int, int, int, int]] = []
    starts = [0]
    done, u = 0.0, 0
    for t in range(threads):
        goal = total * (t + 1) / threads
        # units up to the nearest boundary to the goal (all the rest for the last thread),
        # runs of one problem merged into one piece
        while u < len(units) and (t == threads - 1 or done + units[u][4] / 2 <= goal):
            p, by_rows, e0, e1, share = units[u]
            m, cols = problems[p][:2]
            last = chunks[-1] if len(chunks) > starts[-1] else None
            if by_rows:
                if last is not None and last[0] == p and last[2] == e0:
                    chunks[-1] = (p, last[1], e1, 0, cols)
                else:
                    chunks.append((p, e0, e1, 0, cols))
            elif last is not None and last[0] == p and last[4] == e0 and last[1:3] == (0, m):
                chunks[-1] = (p, 0, m, last[3], e1)
            else:
                chunks.append((p, 0, m, e0, e1))
            done += share
            u += 1
        starts.append(len(chunks))
    table = np.array(chunks, dtype=np.int64).reshape(-1, 5)
    first = np.array(starts, dtype=np.int64)
    table.setflags(write=False)
    first.setflags(write=False)
    return table, first


def gemm_segments(a: Weights, x: np.ndarray, offsets: np.ndarray, x_starts: np.ndarray,
                  out: np.ndarray, out_starts: np.ndarray, length: int, ldc: int,
                  accumulate: bool = False) -> None:
    """:func:`gemm` whose columns are short segments, each written where it belongs in ``out``.

    ``out.flat[out_starts[s] + i * ldc + j] (+)= sum_t sum_c A[t, c, i] * x[0, x_starts[s] +
    offsets[t] + c * ldx + j]`` for ``j < length``.  A convolution's output rows, written
    straight into ``(N, C_out, *O)`` (``ldc`` the channel stride): no products buffer to copy
    out and no padding columns computed.  The segments are split over threads (with fewer
    segments than threads, the rows).  Raises ``ValueError`` when a read or a write would
    leave its array.

    Examples
    --------
    Two segments of length 2, each the sum of two taps, written transposed:

    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> x = np.arange(8, dtype=np.float32).reshape(1, 8)
    >>> a = _tiles.weights(np.ones(1, np.float32), [0, 0], 1, 1, 1, 1)
    >>> out = np.zeros(6, np.float32)
    >>> _tiles.gemm_segments(a, x, np.array([0, 1]), np.array([0, 4]), out, np.array([4, 0]), 2, 1)
    >>> out  # segment 0 (x[0:2] + x[1:3]) at 4, segment 1 (x[4:6] + x[5:7]) at 0
    array([ 9., 11.,  0.,  0.,  1.,  3.], dtype=float32)
    """
    dtype = x.dtype
    if dtype not in _DTYPES or a.data.dtype != dtype or out.dtype != dtype:
        raise ValueError(f"_tiles.gemm_segments: dtypes {x.dtype}, {a.data.dtype}, {out.dtype}")
    ldx, extent = _rows_of(x, "gemm_segments")
    if not out.flags.c_contiguous or len(offsets) != len(a.offsets) or ldc < 0 or length < 0:
        raise ValueError("_tiles.gemm_segments: operands do not match")
    xs = np.ascontiguousarray(x_starts, dtype=np.int64)
    os_ = np.ascontiguousarray(out_starts, dtype=np.int64)
    if len(xs) != len(os_):
        raise ValueError("_tiles.gemm_segments: x_starts and out_starts differ in length")
    segments, m, taps = len(xs), a.m, len(a.offsets)
    if segments == 0 or m == 0 or length == 0:
        return
    offs = np.ascontiguousarray(offsets, dtype=np.int64)
    o_low, o_high = _low_high(os_)
    top = o_high + (m - 1) * ldc + length
    if o_low < 0 or top > out.size:
        raise ValueError(f"_tiles.gemm_segments: writes up to {top} leave out, "
                         f"{out.size} elements")
    if taps == 0 or a.k == 0:
        if not accumulate:
            flat = out.reshape(-1)
            for o in os_:
                for i in range(m):
                    flat[o + i * ldc:o + i * ldc + length] = 0
        return
    (x_low, x_high), (t_low, t_high) = _low_high(xs), _low_high(offs)
    low, high = x_low + t_low, x_high + t_high + (a.k - 1) * ldx + length
    if low < 0 or high > extent:
        raise ValueError(f"_tiles.gemm_segments: reads [{low}, {high}) leave x, "
                         f"{extent} elements")
    lanes = _lanes(dtype)
    nv = min(NV, -(-length // lanes))
    chunks = -(-length // (nv * lanes))
    per = -(-length // chunks)  # even chunks: 128 = 2 x 64, not 96 + 32
    nv = -(-per // lanes)
    macs = segments * length * m * taps * a.k
    # (threads split the segments, or with fewer segments than threads the rows)
    threads = 1 if _serial() else min(get_num_threads(), max(segments, -(-m // MR)),
                                      max(1, macs // MIN_MACS_PER_THREAD))
    run, run_par = _segments_driver(dtype, nv)
    args = (a.data.ctypes.data, x.ctypes.data, out.ctypes.data, a.offsets.ctypes.data,
            offs.ctypes.data, taps, a.k, a.c_stride, a.i_stride, m, ldx, ldc, length,
            accumulate, xs, os_)
    if threads == 1:
        run(*args, 0, segments, 0, m)
    else:
        _numba.launch(run_par, *args, threads)


_segments_drivers: dict[Any, Any] = {}


def _segments_driver(dtype: Any, nv: int) -> Any:
    key = (np.dtype(dtype), nv)
    return _cached(_segments_drivers, key, lambda: _build_segments_driver(*key))


def _build_segments_driver(dtype: Any, nv: int) -> Any:
    import numba

    size = dtype.itemsize
    width = _lanes(dtype) * nv
    tile_rows = _row_tiles(dtype, nv)

    @numba.njit(nogil=True)
    def run(a: int, b: int, c: int, a_offs: int, offs: int, ntaps: int, kc: int, sa_c: int,
            sa_i: int, m: int, ldb: int, ldc: int, length: int, accumulate: bool,
            xs: np.ndarray, os_: np.ndarray, s0: int, s1: int, i0: int,
            i1: int) -> None:  # pragma: no cover
        # segments [s0, s1), rows [i0, i1) of the m
        beta = 1 if accumulate else 0
        for s in range(s0, s1):
            for j in range(0, length, width):
                cols = min(width, length - j)
                bp = b + size * (xs[s] + j)
                for i in range(i0, i1, MR):
                    ap = a + size * i * sa_i
                    cp = c + size * (os_[s] + i * ldc + j)
                    tile_rows(min(MR, i1 - i), ap, bp, cp, a_offs, offs, ntaps, kc, sa_c, sa_i,
                              ldb, ldc, cols, beta)

    @numba.njit(nogil=True, parallel=True)
    def run_par(a: int, b: int, c: int, a_offs: int, offs: int, ntaps: int, kc: int, sa_c: int,
                sa_i: int, m: int, ldb: int, ldc: int, length: int, accumulate: bool,
                xs: np.ndarray, os_: np.ndarray, parts: int) -> None:  # pragma: no cover
        segments = len(xs)
        tiles = -(-m // MR)
        for t in numba.prange(parts):
            if segments >= parts:
                s0, s1, i0, i1 = segments * t // parts, segments * (t + 1) // parts, 0, m
            else:  # each part all segments, a share of the row tiles
                s0, s1 = 0, segments
                i0, i1 = MR * (tiles * t // parts), min(m, MR * (tiles * (t + 1) // parts))
            run(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, m, ldb, ldc, length, accumulate,
                xs, os_, s0, s1, i0, i1)

    return run, run_par


# Positions kernel (see gemm_positions): (vectors, rows) of its register tiles, by the number
# of vectors the columns fill.  Measured on one core: 7 x 2 and 5 x 4 at 107-114 GFLOP/s;
# with more accumulators (8 x 2: 84, 6 x 4: 28, 12 x 2: 18) the registers spill.
_POSITION_TILES = ((2, 7), (4, 5))


def position_tile(dtype: Any, cols: int) -> int:
    """Positions per register tile of :func:`gemm_positions` for ``cols`` output columns.

    ``len(pos)`` must be a multiple of it.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> _tiles.position_tile(np.float32, 64), _tiles.position_tile(np.float32, 32)
    (5, 7)
    """
    return _position_shape(np.dtype(dtype), cols)[1]


def _position_shape(dtype: Any, cols: int) -> tuple[int, int]:
    lanes = _lanes(dtype)
    for nv, rows in _POSITION_TILES:
        if cols <= nv * lanes:
            return nv, rows
    return _POSITION_TILES[-1]


def gemm_positions(x: np.ndarray, pos: np.ndarray, x_offsets: np.ndarray, c_stride: int,
                   w: np.ndarray, out: np.ndarray, out_pos: np.ndarray, out_stride: int,
                   then: Callable[[int, int], None] | None = None) -> None:
    """A convolution by output positions: strided, dilated, padded reads cost nothing.

    ``out.flat[out_pos[p] + j * out_stride] = sum_c sum_t x.flat[pos[p] + x_offsets[t] +
    c * c_stride] * w[c, t, j]``, for the positions ``p`` with ``out_pos[p] >= 0``.
    A convolution with the roles of :func:`gemm` swapped: a register tile holds a few output
    positions (one broadcast input element each, wherever ``pos`` puts it, so strides and
    dilations cost nothing) by vectors of output channels (the weight, ``(C, T, J)``
    C-contiguous, read as rows of ``J``).  No gathered input phases and no padding columns.
    The tiles fill a small channels-last block, which each thread then copies transposed into
    ``out`` while it is in the L1 cache.  ``x`` and ``out`` are C-contiguous; ``len(pos)`` is
    a multiple of :func:`position_tile`.  The positions are split over threads;
    ``then(p0, p1)``, if given, runs in the thread that wrote positions ``[p0, p1)``, right
    after them.  Raises ``ValueError`` when a read or a write would leave its array.

    Examples
    --------
    A 1-d convolution of two channels with kernel ``[1, 1]`` at stride 2:

    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> x = np.arange(24, dtype=np.float32)  # channels [0..11] and [12..23]
    >>> tile = _tiles.position_tile(np.float32, 1)
    >>> pos = np.zeros(tile, np.int64); pos[:5] = 2 * np.arange(5)
    >>> at = np.full(tile, -1); at[:5] = np.arange(5)  # (the other positions are padding)
    >>> out = np.empty(5, np.float32)
    >>> _tiles.gemm_positions(x, pos, np.array([0, 1]), 12, np.ones((2, 2, 1), np.float32),
    ...                       out, at, 5)
    >>> out  # x[2p] + x[2p + 1] + x[12 + 2p] + x[13 + 2p]
    array([26., 34., 42., 50., 58.], dtype=float32)
    """
    dtype = x.dtype
    if dtype not in _DTYPES or w.dtype != dtype or out.dtype != dtype:
        raise ValueError(f"_tiles.gemm_positions: dtypes {x.dtype}, {w.dtype}, {out.dtype}")
    if not (x.flags.c_contiguous and w.flags.c_contiguous and out.flags.c_contiguous
            and w.ndim == 3):
        raise ValueError("_tiles.gemm_positions: x, w and out must be C-contiguous, w 3-d")
    kc, taps, cols = w.shape
    m = len(pos)
    nv, rows = _position_shape(dtype, cols)
    if m % rows or len(x_offsets) != taps or len(out_pos) != m or out_stride < 0:
        raise ValueError("_tiles.gemm_positions: operands do not match")
    if m == 0 or cols == 0:
        return
    pos = np.ascontiguousarray(pos, dtype=np.int64)
    offs = np.ascontiguousarray(x_offsets, dtype=np.int64)
    at = np.ascontiguousarray(out_pos, dtype=np.int64)
    top = int(at.max()) + (cols - 1) * out_stride
    if top >= out.size:
        raise ValueError(f"_tiles.gemm_positions: writes up to {top} leave out, "
                         f"{out.size} elements")
    if kc and taps:
        (p_low, p_high), (t_low, t_high) = _low_high(pos), _low_high(offs)
        low, high = p_low + t_low, p_high + t_high + (kc - 1) * c_stride
        if low < 0 or high >= x.size:
            raise ValueError(f"_tiles.gemm_positions: reads [{low}, {high}] leave x, "
                             f"{x.size} elements")
    b_offs = np.arange(taps, dtype=np.int64) * cols
    width = _lanes(dtype) * nv
    k_block = max(1, min(kc, POSITIONS_BLOCK_ELEMENTS // max(1, taps * width)))
    p_block = max(rows, POSITIONS_OUT_ELEMENTS // cols // rows * rows)
    macs = m * cols * taps * kc
    per_thread = MIN_MACS_PER_THREAD if then is None else POOL_MIN_MACS_PER_THREAD
    threads = 1 if _serial() else min(get_num_threads(), max(1, macs // per_thread),
                                      m // rows)
    run, run_par = _positions_driver(dtype, nv, rows)
    bounds = [m // rows * t // threads * rows for t in range(threads + 1)]
    flat = out.reshape(-1)
    args = (x.ctypes.data, w.ctypes.data, offs.ctypes.data, b_offs.ctypes.data, taps, kc,
            c_stride, pos.ctypes.data, taps * cols, cols)
    if then is None and threads > 1:  # numba's threads: a hand-off of microseconds
        _numba.launch(run_par, *args, np.array(bounds, dtype=np.int64), k_block, at, flat,
                      out_stride, min(p_block, bounds[1]))
        return

    def part(t: int) -> None:
        p0, p1 = bounds[t], bounds[t + 1]
        buf = np.empty((min(p_block, p1 - p0), cols), dtype=dtype)
        run(*args, p0, p1, k_block, at, flat, out_stride, buf)
        if then is not None:
            then(p0, p1)

    run_each([functools.partial(part, t) for t in range(threads)])


# Output elements of the channels-last block that gemm_positions' tiles fill before it is
# copied out (32 KiB of float32: the L1 cache), and weight elements per channel block (a
# column tile's weight panel stays in the L2 cache while a block of positions goes past it).
POSITIONS_OUT_ELEMENTS = 1 << 13
POSITIONS_BLOCK_ELEMENTS = 1 << 16
_positions_drivers: dict[Any, Any] = {}


def _positions_driver(dtype: Any, nv: int, rows: int) -> Any:
    key = (np.dtype(dtype), nv, rows)
    return _cached(_positions_drivers, key, lambda: _build_positions_driver(*key))


def _build_positions_driver(dtype: Any, nv: int, rows: int) -> Any:
    import numba

    size = dtype.itemsize
    width = _lanes(dtype) * nv
    tile = _tile(dtype, rows, nv, indexed=True)

    @numba.njit(nogil=True)
    def run(a: int, b: int, a_offs: int, offs: int, ntaps: int, kc: int, sa_c: int, pos: int,
            ldb: int, cols: int, p0: int, p1: int, k_block: int, at: np.ndarray,
            out: np.ndarray, stride: int, buf: np.ndarray) -> None:  # pragma: no cover
        # positions [p0, p1) in blocks of len(buf): channel blocks, column tiles and position
        # tiles into buf (channels-last), then buf transposed into out
        c = buf.ctypes.data
        p_block = buf.shape[0]
        for pb in range(p0, p1, p_block):
            pe = min(p1, pb + p_block)
            for c0 in range(0, kc, k_block):
                kn = min(kc, c0 + k_block) - c0
                beta = 1 if c0 > 0 else 0
                ap = a + size * c0 * sa_c
                for j in range(0, cols, width):
                    cw = min(width, cols - j)
                    bp = b + size * (c0 * ldb + j)
                    for i in range(pb, pe, rows):
                        tile(ap, bp, c + size * ((i - pb) * cols + j), a_offs, offs, ntaps, kn,
                             sa_c, pos + 8 * i, ldb, cols, cw, beta)
            # channel by channel: contiguous writes (a position's channels lie a power of
            # two apart in out, in one set of the L1 cache)
            n = pe - pb
            o0 = at[pb]
            in_order = o0 >= 0
            for i in range(1, n):
                in_order = in_order and at[pb + i] == o0 + i
            if in_order:  # one run of out (positions in order)
                for j in range(cols):
                    dst = out[o0 + j * stride:o0 + j * stride + n]
                    for i in range(n):
                        dst[i] = buf[i, j]
                continue
            for j in range(cols):
                for i in range(pb, pe):
                    o = at[i]
                    if o >= 0:
                        out[o + j * stride] = buf[i - pb, j]

    @numba.njit(nogil=True, parallel=True)
    def run_par(a: int, b: int, a_offs: int, offs: int, ntaps: int, kc: int, sa_c: int,
                pos: int, ldb: int, cols: int, bounds: np.ndarray, k_block: int,
                at: np.ndarray, out: np.ndarray, stride: int,
                block: int) -> None:  # pragma: no cover - compiled
        # run over positions [bounds[t], bounds[t + 1]) in thread t, each with its own buffer
        for t in numba.prange(len(bounds) - 1):
            buf = np.empty((block, cols), dtype=out.dtype)
            run(a, b, a_offs, offs, ntaps, kc, sa_c, pos, ldb, cols, bounds[t], bounds[t + 1],
                k_block, at, out, stride, buf)

    return run, run_par


def swap_channels(weight: np.ndarray) -> np.ndarray:
    """``(A, B, *k) -> (B, A, *k)`` C-contiguous, by compiled loops over rows of ``k`` taps.

    A transposed convolution's weight ``(C_in, C_out, *k)`` read in place puts consecutive
    channels ``prod(k) * C_out`` elements apart: every step of a tile then misses the cache
    for its weights (30 instead of 80-90 GFLOP/s with few columns).  In the convolution's
    layout a channel's taps are neighbours.  NumPy copies this transpose at ~1 ns per element,
    these loops at the speed of memory.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _tiles
    >>> w = np.arange(12.0).reshape(2, 3, 2)
    >>> bool((_tiles.swap_channels(w) == w.transpose(1, 0, 2)).all())
    True
    """
    a, b = weight.shape[:2]
    k = int(np.prod(weight.shape[2:], dtype=np.int64))
    src = np.ascontiguousarray(weight).reshape(a, b, k)
    out = np.empty((b, a, k), dtype=weight.dtype)
    if out.size:
        swap, swap_par = _swap_kernels()
        if _serial() or out.size < SWAP_MIN_PARALLEL:
            swap(src, out, 0, b)
        else:
            _numba.launch(swap_par, src, out, get_num_threads())
    return out.reshape(b, a, *weight.shape[2:])


# Elements below which swap_channels runs in one thread (about 20 µs of copying)
SWAP_MIN_PARALLEL = 1 << 15
_swaps: dict[Any, Any] = {}


def _swap_kernels() -> Any:
    # out[j, i, t] = src[i, j, t] for j in [j0, j1); and split over ``parts`` threads.  (The
    # parallel one is never called from upconv's pool threads: a numba parallel region
    # started from one of them left PyTorch's OpenMP calls twice as slow afterwards.)
    return _cached(_swaps, "swap", _build_swaps)


def _build_swaps() -> Any:
    import numba

    @numba.njit(nogil=True)
    def swap(src: np.ndarray, out: np.ndarray, j0: int, j1: int) -> None:  # pragma: no cover
        # in the source's order (its runs of j read contiguously, the writes strided): a
        # weight just read from memory, 2 MiB of 256 -> 128 channels k4, swapped in 0.43
        # instead of 0.69 ms (j outer)
        a, b, k = src.shape
        sf, of = src.reshape(-1), out.reshape(-1)
        kk = np.uint64(k)
        for i in range(a):
            for j in range(j0, j1):
                s, d = np.uint64((i * b + j) * k), np.uint64((j * a + i) * k)
                for t in range(kk):
                    of[d + t] = sf[s + t]

    @numba.njit(nogil=True, parallel=True)
    def swap_par(src: np.ndarray, out: np.ndarray, parts: int) -> None:  # pragma: no cover
        b = src.shape[1]
        for p in numba.prange(parts):
            swap(src, out, b * p // parts, b * (p + 1) // parts)

    return swap, swap_par


# ---------------------------------------------------------------------------------------------
# Code generation

def _lanes(dtype: Any) -> int:
    return 64 // np.dtype(dtype).itemsize  # one 512-bit vector


_lock = threading.Lock()
_drivers: dict[Any, Any] = {}


def _driver(dtype: Any, nv: int = NV) -> Any:
    key = (np.dtype(dtype), nv)
    return _cached(_drivers, key, lambda: _build_driver(*key))


def _cached(cache: dict[Any, Any], key: Any, build: Callable[[], Any]) -> Any:
    # A compiled driver, built once per key even when threads ask for it at the same time.
    drive = cache.get(key)
    if drive is None:
        with _lock:
            drive = cache.get(key)
            if drive is None:
                _numba._compiled()  # (numba initialised outside a bound pool thread)
                drive = cache[key] = build()
    return drive


def _tile(dtype: Any, rows: int, nv: int = NV, indexed: bool = False) -> Any:
    # One register tile: rows x nv vectors of columns, columns j < cols (masked tail); it
    # starts from C when beta is nonzero, else from zero (its masked loads then read nothing).
    # ``indexed``: row r of A starts at element pos[r] (sa_i is then the address of the int64
    # table ``pos``) instead of r * sa_i.
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    lanes = _lanes(dtype)
    real = ir.FloatType() if dtype == np.float32 else ir.DoubleType()
    size = dtype.itemsize
    vec, i64, i1 = ir.VectorType(real, lanes), ir.IntType(64), ir.IntType(1)
    mvec, i32 = ir.VectorType(i1, lanes), ir.IntType(32)
    suffix = f"v{lanes}f{8 * size}"
    p = types.intp

    @intrinsic
    def tile(typingctx: Any, a: Any, b: Any, c: Any, a_offs: Any, offs: Any, ntaps: Any,
             kc: Any, sa_c: Any, sa_i: Any, ldb: Any, ldc: Any, cols: Any, beta: Any) -> Any:
        sig = types.void(p, p, p, p, p, p, p, p, p, p, p, p, p)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a_i, b_i, c_i, ao_i, o_i, ntaps, kc, sa_c, sa_i, ldb, ldc, cols, beta = args
            mod = builder.module
            fma = cgutils.get_or_insert_function(
                mod, ir.FunctionType(vec, [vec, vec, vec]), f"llvm.fma.{suffix}")
            mload = cgutils.get_or_insert_function(
                mod, ir.FunctionType(vec, [vec.as_pointer(), i32, mvec, vec]),
                f"llvm.masked.load.{suffix}.p0{suffix}")
            mstore = cgutils.get_or_insert_function(
                mod, ir.FunctionType(ir.VoidType(), [vec, vec.as_pointer(), i32, mvec]),
                f"llvm.masked.store.{suffix}.p0{suffix}")
            rp = real.as_pointer()
            a_p, b_p, c_p = (builder.inttoptr(v, rp) for v in (a_i, b_i, c_i))
            o_p = builder.inttoptr(o_i, i64.as_pointer())
            ao_p = builder.inttoptr(ao_i, i64.as_pointer())
            if indexed:
                pos_p = builder.inttoptr(sa_i, i64.as_pointer())
                a_rows = [builder.load(builder.gep(pos_p, [ir.Constant(i64, r)]))
                          for r in range(rows)]
            else:
                a_rows = [builder.mul(sa_i, ir.Constant(i64, r)) for r in range(rows)]
            align = ir.Constant(i32, size)
            zero = ir.Constant(vec, None)
            lane = ir.Constant(ir.VectorType(i64, lanes), list(range(lanes)))

            def splat(value: Any, vtype: Any) -> Any:
                v = builder.insert_element(ir.Constant(vtype, ir.Undefined), value,
                                           ir.Constant(i32, 0))
                return builder.shuffle_vector(v, ir.Constant(vtype, ir.Undefined),
                                              ir.Constant(ir.VectorType(i32, lanes), None))

            masks = [builder.icmp_signed("<", lane, splat(
                builder.sub(cols, ir.Constant(i64, v * lanes)), ir.VectorType(i64, lanes)))
                for v in range(nv)]

            def vptr(base: Any, offset: Any) -> Any:
                return builder.bitcast(builder.gep(base, [offset]), vec.as_pointer())

            start = splat(builder.icmp_signed("!=", beta, ir.Constant(i64, 0)), mvec)
            accs = [[cgutils.alloca_once(builder, vec) for _ in range(nv)] for _ in range(rows)]
            for r in range(rows):
                row = builder.mul(ldc, ir.Constant(i64, r))
                for v in range(nv):
                    init = builder.call(mload, [vptr(c_p, builder.add(
                        row, ir.Constant(i64, v * lanes))), align,
                        builder.and_(masks[v], start), zero])
                    builder.store(init, accs[r][v])

            def step(b_row: Any, a_base: Any) -> None:
                # one channel of one tap: nv vectors of the shifted row, rows x nv FMAs
                bv = [builder.call(mload, [vptr(b_p, builder.add(
                    b_row, ir.Constant(i64, v * lanes))), align, masks[v], zero])
                    for v in range(nv)]
                for r in range(rows):
                    w = splat(builder.load(builder.gep(a_base, [a_rows[r]])), vec)
                    for v in range(nv):
                        builder.store(builder.call(fma, [w, bv[v], builder.load(accs[r][v])]),
                                      accs[r][v])

            # Channels outer, taps inner: a channel's taps are neighbours in the weight (one
            # cache line per row) and read the same input row at nearby shifts.
            with cgutils.for_range(builder, kc) as ch:
                b_c = builder.mul(ch.index, ldb)
                a_c = builder.gep(a_p, [builder.mul(ch.index, sa_c)])
                with cgutils.for_range(builder, ntaps) as tap:
                    off = builder.load(builder.gep(o_p, [tap.index]))
                    a_off = builder.load(builder.gep(ao_p, [tap.index]))
                    step(builder.add(b_c, off), builder.gep(a_c, [a_off]))
            for r in range(rows):
                row = builder.mul(ldc, ir.Constant(i64, r))
                for v in range(nv):
                    builder.call(mstore, [builder.load(accs[r][v]), vptr(c_p, builder.add(
                        row, ir.Constant(i64, v * lanes))), align, masks[v]])
            return context.get_dummy_value()

        return sig, codegen

    return tile


def _row_tiles(dtype: Any, nv: int) -> Any:
    # A compiled call of the register tile with 1 to MR rows (the last row tile of a block
    # may have fewer): tile_rows(rows, *the tile's arguments).
    import numba

    t4, t3, t2, t1 = (_tile(dtype, r, nv) for r in (4, 3, 2, 1))
    assert MR == 4

    @numba.njit(nogil=True, inline="always")
    def tile_rows(rows: int, a: int, b: int, c: int, a_offs: int, offs: int, ntaps: int,
                  kc: int, sa_c: int, sa_i: int, ldb: int, ldc: int, cols: int,
                  beta: int) -> None:  # pragma: no cover - compiled
        if rows == 4:
            t4(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, ldb, ldc, cols, beta)
        elif rows == 3:
            t3(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, ldb, ldc, cols, beta)
        elif rows == 2:
            t2(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, ldb, ldc, cols, beta)
        else:
            t1(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, ldb, ldc, cols, beta)

    return tile_rows


def _build_driver(dtype: Any, nv: int) -> Any:
    import numba

    size = dtype.itemsize
    lanes = _lanes(dtype)
    width = lanes * nv
    tile_rows = _row_tiles(dtype, nv)
    # a last column tile of one or two vectors in a tile just as wide (see TAIL_VECTORS;
    # whole row tiles only: each variant compiled costs a second at the first call)
    tail1, tail2 = (_tile(dtype, MR, v) for v in (1, 2))
    assert TAIL_VECTORS == 2 and nv > 2

    @numba.njit(nogil=True)
    def drive(a: int, b: int, c: int, a_offs: int, offs: int, ntaps: int, kc: int, sa_c: int,
              sa_i: int, i0: int, m: int, ldb: int, ldc: int, j0: int, j1: int,
              accumulate: bool, k_block: int, m_block: int) -> None:  # pragma: no cover
        # rows [i0, m), columns [j0, j1); channel blocks, row blocks, column tiles, row tiles
        for c0 in range(0, kc, k_block):
            kn = min(kc, c0 + k_block) - c0
            beta = 1 if accumulate or c0 > 0 else 0
            for ib in range(i0, m, m_block):
                ie = min(m, ib + m_block)
                for j in range(j0, j1, width):
                    cols = min(width, j1 - j)
                    bp = b + size * (c0 * ldb + j)
                    for i in range(ib, ie, MR):
                        ap = a + size * (i * sa_i + c0 * sa_c)
                        cp = c + size * (i * ldc + j)
                        rows = min(MR, m - i)
                        if rows == MR and cols <= lanes:
                            tail1(ap, bp, cp, a_offs, offs, ntaps, kn, sa_c, sa_i, ldb, ldc,
                                  cols, beta)
                        elif rows == MR and cols <= 2 * lanes:
                            tail2(ap, bp, cp, a_offs, offs, ntaps, kn, sa_c, sa_i, ldb, ldc,
                                  cols, beta)
                        else:
                            tile_rows(rows, ap, bp, cp, a_offs, offs, ntaps, kn, sa_c, sa_i,
                                      ldb, ldc, cols, beta)

    def run(table: np.ndarray, chunks: np.ndarray, starts: np.ndarray, b: int, ldb: int,
            accumulate: bool, m_block: int) -> None:  # pragma: no cover - compiled
        # chunks[starts[0]:starts[-1]] in turn: (problem, i0, i1, j0, j1) each
        for t in range(len(starts) - 1):
            for q in range(starts[t], starts[t + 1]):
                p, i0, i1, j0, j1 = chunks[q, 0], chunks[q, 1], chunks[q, 2], chunks[q, 3], \
                    chunks[q, 4]
                a, c, a_offs, offs, ntaps, kc, sa_c, sa_i, _m, ldc, _cols, k_block = table[p]
                drive(a, b, c, a_offs, offs, ntaps, kc, sa_c, sa_i, i0, i1, ldb, ldc, j0, j1,
                      accumulate, k_block, m_block)

    serial = numba.njit(nogil=True)(run)

    @numba.njit(nogil=True, parallel=True)
    def run_par(table: np.ndarray, chunks: np.ndarray, starts: np.ndarray, b: int, ldb: int,
                accumulate: bool, m_block: int) -> None:  # pragma: no cover - compiled
        # thread t runs chunks[starts[t]:starts[t + 1]]
        for t in numba.prange(len(starts) - 1):
            serial(table, chunks, starts[t:t + 2], b, ldb, accumulate, m_block)

    return serial, run_par
