"""GEMM kernels shared by :mod:`.conv` and :mod:`.transpose` (private; arrays already checked).

A convolution is one matrix product once the input has been unrolled into columns (*im2col*);
a transposed convolution is the product with the transposed weight followed by the adjoint of
the unrolling (*col2im*), which is PyTorch's CPU algorithm (``slow_conv_transpose2d``).  What
makes either fast in NumPy is the memory traffic around the GEMM, so both work on one layout.

**Row layout.**  Every buffer is ``(C, A1, N, A2, ..., Ad)``: the first spatial axis outermost,
then the batch, then the other spatial axes, flattened.  The GEMM's columns are then the whole
batch at once, and a shift by ``q`` along axis ``i`` is a shift of the flat index by ``q`` times
that axis's stride.  Inner axes carry ``Q - 1`` columns of zeros (``Q`` shifts), so a shifted
read never wraps into a real neighbour: every kernel tap becomes **one long contiguous copy or
add**, instead of a strided one per row.  The first axis needs no such padding, so 2-d
layers waste only ``(Q-1)/W`` of the GEMM; 1-d problems are lifted to 2-d with a unit first axis.

**Output phases.**  With stride ``s``, transposed-convolution tap ``a`` writes output
``o = j*s + a*d - p = (j + q_a)*s + rho_a - beta`` (after picking the phase origin ``beta``):
each output phase ``rho`` is a stride-1 correlation over the grid ``mu = j + q`` with its own
taps.  Three kernels build on that:

* :func:`conv_transpose_forward` -- one GEMM ``(C_out*k^d, C_in) @ (C_in, N*L)`` with the
  weight read through a transposed view, then col2im into per-phase buffers (contiguous adds);
* :func:`conv_transpose_phases` -- im2col of the ``Q^d`` shifts of the input and one GEMM
  ``(C_out*P, C_in*Q^d)`` that computes every phase at once (no col2im at all);
* :func:`conv_transpose_depthwise` -- one input channel per group: a tiny GEMM per channel whose
  columns are the last axis's phases, so its output rows come out already interleaved;

each ending with an *interleave* of the phases into the output (one strided copy per phase,
bias fused; with numba one compiled pass over whole output rows).

:func:`conv_forward` gathers the ``s^d`` input phases of a large block once, after which every
tap of the im2col is again a contiguous copy, made and multiplied in smaller (L2-sized) blocks;
when each tap has a phase of its own (``k <= s``), or the stride is 1, the rows long and the
input channels few, it gathers each tap's columns directly instead.  Tiny groups (depthwise)
go group-parallel: a few groups at a time, their phases gathered per sample and used while in
cache, with one small product (or a multiply-add per tap) per group.

**Accumulated products.**  In the row layout a shifted input is a *view* whose rows are evenly
spaced, which BLAS can read as it is; with NumPy's OpenBLAS reachable (:mod:`._blas`, which
calls ``gemm`` with ``beta = 1``), the sub-pixel GEMM and the convolution's im2col GEMM become
one product per shift, accumulated in place, and the im2col copies disappear.  They are used
from :data:`ACC_MIN_CHANNELS` input channels (thinner products run too slowly); the
convolution's weight must be permuted for them, so it also needs
:data:`ACC_COLUMNS_PER_CHANNEL` columns per output channel.  Without that BLAS the NumPy-only
im2col paths run, and both are tested against PyTorch.

**Register tiles.**  With numba installed, :mod:`._tiles` computes those sums of shifted
products in one compiled pass with a GEMM register tile (LLVM IR, vector FMAs), at about
the core's peak where OpenBLAS runs the thin products at a quarter to two thirds of it: the
convolution takes every tap from the gathered phases, and the sub-pixel kernel multiplies
each phase by its own taps only (no zeros), with no im2col in either (the transposed
weight's channel axes are swapped once, by compiled loops).  Layers with groups keep the
paths above.

Work is done in blocks of grid rows whose buffers stay under :data:`MAX_COLUMN_ELEMENTS`
(cache-sized, and a bound on extra memory) but keep at least :data:`MIN_BLOCK_COLUMNS` GEMM
columns.  The block buffers are per-thread scratch reused across calls (:func:`_scratch`):
fresh large arrays would cost a page fault per 4 KiB on every call.  BLAS calls stay in the
calling thread (BLAS has its own threads, and OpenBLAS serialises calls from several threads);
the memory-bound gathers, copies, adds and interleaves are split over input or output channels
with :func:`._parallel.run_chunks` once they are large enough to pay for a thread hand-off
(NumPy releases the GIL in its loops).  With a batch of a few samples per thread and wide
enough products, :func:`by_samples` instead runs the whole kernel on a share of the batch per
thread with single-threaded BLAS: each block is then gathered, multiplied and scattered by one
core, in its cache, where otherwise every pass would spread each block over all cores in turn
(9-28 % faster on most decoder layers at batch 8).  Plans depend on shapes only and are cached.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _blas, _numba, _tiles
from ._parallel import (
    MIN_ELEMENTS_PER_THREAD,
    _serial,
    batch_threads,
    by_batch,
    get_num_threads,
    run_chunks,
)

Slices = tuple[slice, ...]
Index = tuple[Any, ...]

# Largest block buffer (in elements) built at once: 8 MiB of float32.  Larger blocks gain
# nothing (the GEMMs are already big) and lose cache locality, allocator reuse and memory.
MAX_COLUMN_ELEMENTS = 1 << 21


# ---------------------------------------------------------------------------------------------
# Geometry


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


class _Axis(NamedTuple):
    """One spatial axis of a transposed convolution in output-phase form."""

    s: int  # stride
    beta: int  # phase origin: output o = mu*s + rho - beta
    lo: int  # smallest shift; grid index c <-> mu = lo + c
    span: int  # Q, the number of shifts: the grid has L + Q - 1 entries
    rho: tuple[int, ...]  # per kernel tap: its output phase
    q: tuple[int, ...]  # per kernel tap: its shift minus lo, in [0, Q)
    used: tuple[int, ...]  # phases that receive taps
    size: int  # input length L
    out: int  # output length O


def _transpose_axis(k: int, s: int, d: int, pb: int, size: int, out: int) -> _Axis:
    # Tap a writes o = j*s + a*d - pb.  With e = a*d - pb + beta, o + beta = (j + e//s)*s + e%s.
    # Any beta in [0, s) is valid; the one with the fewest distinct shifts keeps the sub-pixel
    # GEMM's K = C_in*Q^d smallest (k = 4, s = 2, p = 1 needs Q = 2 with beta = 1, Q = 3 with 0).
    best = None
    for beta in range(s):
        e = [a * d - pb + beta for a in range(k)]
        qs = [v // s for v in e]
        lo = min(qs)
        axis = _Axis(s, beta, lo, max(qs) - lo + 1, tuple(v % s for v in e),
                     tuple(v - lo for v in qs), tuple(sorted({v % s for v in e})), size, out)
        if best is None or axis.span < best.span:
            best = axis
    assert best is not None
    return best


def _grid_slices(ax: _Axis, rho: int, g0: int, count: int) -> tuple[slice, slice] | None:
    # Grid entries [g0, g0 + count) of phase rho that land in the output: (grid slice relative
    # to g0, output slice).  Grid index c is mu = lo + c, output o = mu*s + rho - beta.
    first = max(g0, -((rho - ax.beta) // ax.s) - ax.lo)
    stop = min(g0 + count, (ax.out - 1 + ax.beta - rho) // ax.s - ax.lo + 1)
    if stop <= first:
        return None
    o0 = (ax.lo + first) * ax.s + rho - ax.beta
    return slice(first - g0, stop - g0), slice(o0, o0 + (stop - first - 1) * ax.s + 1, ax.s)


def _folded_slices(ax: _Axis, extent: int) -> tuple[slice, slice]:
    # A last axis whose phases are already interleaved: run index u = c*s + rho is output
    # o = u + lo*s - beta.
    u0 = ax.beta - ax.lo * ax.s
    count = min(ax.out, extent * ax.s - u0)
    return slice(u0, u0 + count), slice(0, count)


def _covers(ax: _Axis, every_phase: bool = False) -> bool:
    # Whether the grid reaches every output of this axis (else those outputs are 0 + bias):
    # phases without taps (dilation) and output_padding past the full output are not reached.
    for rho in range(ax.s):
        lo_mu = -((rho - ax.beta) // ax.s)
        hi_mu = (ax.out - 1 + ax.beta - rho) // ax.s
        if hi_mu < lo_mu:
            continue  # no output in this phase
        if (rho not in ax.used and not every_phase) or lo_mu < ax.lo or \
                hi_mu > ax.lo + ax.size + ax.span - 2:
            return False
    return True


def _strides(n: int, inner: Sequence[int]) -> list[int]:
    # Element strides of the spatial axes in the flat row layout (A1, N, *inner).
    return [n * math.prod(inner), *(math.prod(inner[i + 1:]) for i in range(len(inner)))]


def _lift(
    x: np.ndarray, weight: np.ndarray, *per_axis: tuple[Sequence[int], int]
) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    # 1-d -> 2-d with a unit first axis, so every problem has an inner (padded) axis; each
    # per-axis argument comes with its value on the new axis.
    if x.ndim > 3:
        return x, weight, [list(v) for v, _ in per_axis]
    return x[:, :, None], weight[:, :, None], [[unit, *v] for v, unit in per_axis]


# ---------------------------------------------------------------------------------------------
# Layout helpers


def _zero_outside(a: np.ndarray, axes: Sequence[int], box: Sequence[slice]) -> None:
    # Zero everything of ``a`` outside ``box`` (one slice per listed axis), slab by slab.
    for ax, sl in zip(axes, box, strict=True):
        lead: Index = (slice(None),) * ax
        if sl.start > 0:
            a[(*lead, slice(0, sl.start))] = 0
        if sl.stop < a.shape[ax]:
            a[(*lead, slice(sl.stop, None))] = 0


def _gather_rows(x: np.ndarray, out: np.ndarray, cs: slice, *, m0: int, steps: Sequence[int],
                 offsets: Sequence[int]) -> None:
    """Fill rows of a row-layout block from ``x``, for the channels ``cs``.

    ``out[c, i, n, *j] = x[n, c, (m0 + i)*s_1 + off_1, *(j*s + off)]``, 0 where that is outside
    ``x``: with steps 1 a zero-padded copy, with strides one input phase.  Only the rows of one
    block are read, so the block stays in cache for the shifted copies and the GEMM after it.
    """
    c0, c1, _ = cs.indices(out.shape[0])
    plan = _gather_plan(x.shape[2:], out.shape, c0, c1, m0, tuple(steps), tuple(offsets))
    if plan is None:  # this block only ever reads padding
        out[c0:c1] = 0
        return
    take, put, zeros = plan
    for z in zeros:
        out[z] = 0
    src = x[take]
    out[put] = src.transpose(1, 2, 0, *range(3, src.ndim))


@functools.lru_cache(maxsize=1024)
def _gather_plan(size: tuple[int, ...], out_shape: tuple[int, ...], c0: int, c1: int, m0: int,
                 steps: tuple[int, ...], offsets: tuple[int, ...]
                 ) -> tuple[Index, Index, tuple[Index, ...]] | None:
    # _gather_rows' indices (integers only, so caching is safe; a batch-1 layer's call spends
    # more time computing them than copying): x's slice, out's slice, and out's slabs to zero.
    counts = [out_shape[1], *out_shape[3:]]
    rngs = []
    for ax, (count, s, off, length) in enumerate(zip(counts, steps, offsets, size, strict=True)):
        r = _tap_range(count, s, off + (m0 * s if ax == 0 else 0), length)
        if r is None:
            return None
        rngs.append(r)
    cs = slice(c0, c1)
    zeros: list[Index] = []
    for ax, (j, _) in zip([1, *range(3, len(out_shape))], rngs, strict=True):
        lead: Index = (cs, *(slice(None),) * (ax - 1))
        if j.start > 0:
            zeros.append((*lead, slice(0, j.start)))
        if j.stop < out_shape[ax]:
            zeros.append((*lead, slice(j.stop, None)))
    take: Index = (slice(None), cs, *(h for _, h in rngs))
    put: Index = (cs, rngs[0][0], slice(None), *(j for j, _ in rngs[1:]))
    return take, put, tuple(zeros)


def _product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    # out = a @ b for (G, M, K) @ (G, K, N).  With a single group and the compiled tiles, a
    # product that BLAS would run on its own threads runs on numba's (_tiles.matmul): BLAS's
    # threads spin for ~0.1 s after every call, and a numba loop started meanwhile (the next
    # step of this call, or the next layer) ran 10-50x slower.  Inside upconv's own threads
    # BLAS is single-threaded, runs in the calling thread, and stays.  (The steps after such
    # a product run on numba's threads too: see _numba_parts.)
    item = b.itemsize
    if (_numba_parts(a.shape[0], b.dtype, 1) and a.dtype == b.dtype == out.dtype
            and b.strides[2] == item and out.strides[2] == item):
        _tiles.matmul(a[0], b[0], out[0])
        return out
    return np.matmul(a, b, out=out)


def _numba_parts(groups: int, dtype: Any, parts: int) -> int:
    # Shares of numba's threads for a pass that follows a product through the tiles (whose
    # numba threads then still spin: upconv's pool threads waited behind them), 0 where the
    # product used BLAS (groups, upconv's own threads, no tiles) and the pass goes as before.
    # Also how _product decides.
    if groups != 1 or _serial() or not _tiles.available(dtype):
        return 0
    return max(1, min(get_num_threads(), parts))


def _shifted_copies(src: np.ndarray, offsets: Sequence[int], start: int, out: np.ndarray,
                    cs: slice) -> None:
    # out[c, i, :] = src[c, start + offsets[i] : ... + length] for the channels cs: im2col in
    # the row layout, one contiguous block copy per tap.
    length = out.shape[2]
    for i, off in enumerate(offsets):
        out[cs, i] = src[cs, start + off:start + off + length]


def _put(y: np.ndarray, src: np.ndarray, pairs: Sequence[tuple[slice, slice]], osl: slice,
         bias: np.ndarray | None) -> None:
    # y[:, osl, *dst] = src[:, a1, :, *a] (+ bias): src (C_sl, A1, N, *A) in the row layout,
    # one (source, destination) slice pair per spatial axis.
    s_idx: Index = (slice(None), pairs[0][0], slice(None), *(p[0] for p in pairs[1:]))
    d_idx: Index = (slice(None), osl, *(p[1] for p in pairs))
    view = src[s_idx]
    view = view.transpose(2, 0, 1, *range(3, view.ndim))  # (N, C_sl, *positions)
    dst = y[d_idx]
    if bias is None:
        dst[...] = view
    else:
        np.add(view, bias[osl].reshape(-1, *(1,) * (y.ndim - 2)), out=dst)


def _output(shape: Sequence[int], dtype: Any, bias: np.ndarray | None,
            covered: bool, out: np.ndarray | None = None) -> np.ndarray:
    # The output buffer: uninitialised when the kernel writes every element, else 0 + bias.
    # ``out`` (C-contiguous, the right size, e.g. a batch slice of the caller's output) is
    # used instead of a new array, reshaped to ``shape`` (which may have a lifted axis).
    if out is not None:
        y = out.reshape(shape)
        if not covered:
            y[...] = 0 if bias is None else bias.reshape(-1, *(1,) * (len(shape) - 2))
        return y
    if covered:
        return np.empty(shape, dtype=dtype)
    y = np.zeros(shape, dtype=dtype)
    if bias is not None:
        y += bias.reshape(-1, *(1,) * (len(shape) - 2))
    return y


# Temporaries are reused across calls, per calling thread: a freshly allocated large array
# costs one page fault per 4 KiB on first touch (the allocator returns big blocks to the system
# on free), which here is about as slow as the copy that fills it.  Blocks larger than this
# are not kept.
MAX_SCRATCH_BYTES = 32 << 20
_scratch_local = threading.local()


def _scratch(slot: str, shape: Sequence[int], dtype: Any) -> np.ndarray:
    """An uninitialised buffer of this thread for temporary ``slot`` (never returned out)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    pool: dict[str, np.ndarray] | None = getattr(_scratch_local, "pool", None)
    if pool is None:
        pool = _scratch_local.pool = {}
    buf = pool.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 1), dtype=np.uint8)
        if nbytes <= MAX_SCRATCH_BYTES:
            pool[slot] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


# Fewest GEMM columns per block: narrower products lose BLAS efficiency faster than larger
# blocks lose cache locality.
MIN_BLOCK_COLUMNS = 1024


# Elements a thread must get before a pass is split: right after a GEMM, BLAS's idle threads
# still spin on the other cores for a while, so a small pass is faster in the calling thread.
MIN_SPLIT_ELEMENTS = 1 << 19


def _split(count: int, work: int, fn: Callable[[slice], None]) -> None:
    # run_chunks with this module's threshold (it counts work in its own units)
    run_chunks(count, work * MIN_ELEMENTS_PER_THREAD // MIN_SPLIT_ELEMENTS, fn)


def _rows_per_block(per_row: int, rows: int, row: int, budget: int | None = None,
                    min_columns: int | None = None) -> int:
    # Rows per block under the budget (default MAX_COLUMN_ELEMENTS) but with at least
    # ``min_columns`` (default MIN_BLOCK_COLUMNS) columns, balanced so that the last block is
    # not a sliver.
    budget = MAX_COLUMN_ELEMENTS if budget is None else budget
    min_columns = MIN_BLOCK_COLUMNS if min_columns is None else min_columns
    most = max(1, min(rows, max(budget // max(per_row, 1), -(-min_columns // max(row, 1)))))
    count = -(-rows // most)
    return -(-rows // count)


# Fewest GEMM columns (input or output positions) per thread, and multiply-adds in all, for
# which splitting the batch over threads beats BLAS threads: narrower products run slower on
# one core than wide ones on all cores, and waking a pool thread can take up to a millisecond
# on a virtual machine, which only a call of several milliseconds hides.
MIN_BATCH_COLUMNS = 1024
MIN_BATCH_MACS = 1 << 28


def batch_shared(x_shape: Sequence[int], weight_shape: Sequence[int], groups: int,
                 out_size: Sequence[int], c_out: int) -> bool:
    """Whether :func:`by_samples` runs a share of the batch per thread (BLAS single-threaded)."""
    n = x_shape[0]
    positions = max(math.prod(x_shape[2:]), math.prod(out_size))
    threads = batch_threads(n)
    macs = n * positions * x_shape[1] * c_out // groups * math.prod(weight_shape[2:])
    return not (threads <= 1 or n // threads * positions < MIN_BATCH_COLUMNS
                or macs < MIN_BATCH_MACS)


class Shared:
    """Values the threads of one :func:`by_samples` call build once and share (a swapped weight)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        """The value of ``key``, built by the first thread that asks (the others wait for it)."""
        with self._lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]


def by_samples(kernel: Callable[..., np.ndarray], x: np.ndarray, weight: np.ndarray,
               bias: np.ndarray | None, stride: Sequence[int], pad_before: Sequence[int],
               dilation: Sequence[int], groups: int, out_size: Sequence[int],
               c_out: int) -> np.ndarray:
    """``kernel(x, weight, ...)`` run on a share of the batch per thread when that pays.

    Each thread runs the whole kernel (gather, single-threaded GEMM, scatter) on its samples
    and writes its slice of the output, so every block's buffers stay in one core's cache.
    """
    n = x.shape[0]
    args = (stride, pad_before, dilation, groups, out_size)
    if not batch_shared(x.shape, weight.shape, groups, out_size, c_out):
        return kernel(x, weight, bias, *args)
    y = np.empty((n, c_out, *out_size), dtype=x.dtype)
    # (the sub-pixel tiles' swapped weight: once, not once per thread, each slowing the other)
    extra = {"shared": Shared()} if kernel is conv_transpose_phases else {}

    def part(sl: slice) -> None:
        kernel(x[sl], weight, bias, *args, out=y[sl], **extra)

    by_batch(n, part)
    return y


# ---------------------------------------------------------------------------------------------
# Convolution


def conv_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Convolution ``(N, C_in, *L) -> (N, C_out, *O)`` as im2col + one GEMM per block.

    Output ``mu`` reads the padded input at ``mu*s + a*d``, i.e. input phase ``r = (a*d) % s``
    at index ``mu + (a*d) // s``.  Per block of output rows, the rows of each input phase are
    gathered into the row layout ``(C_in, rows + Q, N, *(O + Q - 1))``; then, in sub-blocks
    whose columns fit in the L2 cache, every tap's columns are one contiguous copy and the GEMM
    is ``(G, C_out/G, C_in/G*K) @ (G, C_in/G*K, rows)`` with the weight only reshaped.  Columns
    past ``O`` on the inner axes are computed and dropped.
    """
    nd = len(out_size)
    if x.shape[0] == 0 or weight.shape[0] == 0:
        return _output((x.shape[0], weight.shape[0], *out_size), x.dtype, bias, False, out)
    x, weight, (stride, pad_before, dilation, out_size) = _lift(
        x, weight, (stride, 1), (pad_before, 0), (dilation, 1), (out_size, 1))
    n, c_in = x.shape[:2]
    nd_in = x.ndim - 2
    c_out, cin_g, *k_size = weight.shape
    cout_g, k = c_out // groups, math.prod(k_size)
    spans, inner, combos, tap_src = _conv_plan(n, tuple(k_size), tuple(stride),
                                               tuple(dilation), tuple(out_size))
    row = n * math.prod(inner)
    wm = weight.reshape(groups, cout_g, cin_g * k)
    y = _output((n, c_out, *out_size), x.dtype, None, True, out)
    keep = tuple(slice(0, o) for o in out_size[1:])
    if (groups == 1 and POSITIONS_OUT_CHANNELS[0] <= c_out <= POSITIONS_OUT_CHANNELS[1]
            and any(s > 1 for s in stride) and n * math.prod(out_size) >= POSITIONS_MIN_POSITIONS
            and c_in * k >= POSITIONS_MIN_ROWS and min(pad_before) >= 0
            and _tiles.available(x.dtype)):
        _conv_positions(x, weight, bias, y, stride, pad_before, dilation)
        return y[:, :, 0] if nd == 1 else y
    if groups > 1 and cout_g * cin_g * k <= _TINY_GROUP:
        # Many tiny per-group products (depthwise layers): BLAS threads cannot help them, so
        # each thread takes whole groups, a few at a time, and gathers their input phases
        # just before using them, so that phases and columns are still in cache.
        rows_per = _rows_per_block(cin_g * len(combos) * row, out_size[0], row)
        plane_src = _conv_plan(1, tuple(k_size), tuple(stride), tuple(dilation),
                               tuple(out_size))[3]
        for r0 in range(0, out_size[0], rows_per):
            r1 = min(out_size[0], r0 + rows_per)
            _split(groups, c_in * len(combos) * (r1 - r0 + spans[0]) * row, functools.partial(
                _conv_groups, x=x, wm=wm, bias=bias, y=y, r0=r0, r1=r1, span=spans[0],
                inner=inner, stride=stride, pad_before=pad_before, combos=combos,
                tap_src=plane_src, keep=keep))
        return y[:, :, 0] if nd == 1 else y
    if len(combos) == k or (all(s == 1 for s in stride) and min(out_size[1:]) >= DIRECT_MIN_ROW
                            and c_in < DIRECT_MAX_CHANNELS):
        # Every tap reads its own input phase (k <= s), or long stride-1 rows of a few input
        # channels: gather each tap's columns straight from x, with no phase buffer and no
        # padding columns.
        _conv_direct(x, wm, bias, y, stride, pad_before, dilation, k_size)
        return y[:, :, 0] if nd == 1 else y
    # Two levels of blocks: the input phases are gathered for large blocks of output rows
    # (re-gathering the Q - 1 rows that neighbouring blocks share costs a strided copy each
    # time), and the columns are built and multiplied in smaller blocks inside them.
    rows_g = _rows_per_block(max(c_in * len(combos), c_out) * row, out_size[0], row)
    budget, min_columns = _conv_budget(c_out)
    # With the compiled register tiles (see _tiles) one call sums every tap's product, each
    # tap's operand the shifted phase rows as they lie: no im2col and no weight runs.  With
    # groups, one problem per group in that call (its weight rows, its channels' rows), on
    # numba's threads rather than BLAS's (which spin after each call: see _product).
    # (Groups of few multiply-adds stay with BLAS: the tiles' per-problem Python costs ~5 µs,
    # and 512 channels in 32 groups on 7x7 ran 0.24 -> 0.49 ms.)
    group_tiles = ([_tiles.weights(weight[g * cout_g:(g + 1) * cout_g], range(k), k, cin_g * k,
                                   cin_g, cout_g) for g in range(groups)]
                   if _tiles.available(x.dtype) and (groups == 1 or cout_g * cin_g * k * n
                                                     * math.prod(out_size) >= GROUP_TILES_MACS)
                   else None)
    tiles = group_tiles[0] if group_tiles is not None else None
    # ... and with long enough output rows, each row's products go straight into y (which
    # then starts at the bias): no products buffer, no copy out, no padding columns.
    segments = tiles is not None and groups == 1 and (out_size[-1] >= SEGMENT_MIN_LENGTH or (
        c_in * k <= SEGMENT_FEW_ROWS and out_size[-1] >= SEGMENT_FEW_ROWS_LENGTH))
    if segments and bias is not None:
        y[...] = bias.reshape(-1, *(1,) * len(out_size))
    # the weight is permuted for them: worth it only with enough columns per output channel
    acc = (_tap_runs(weight, tap_src) if tiles is None and _use_acc(groups, c_in, k)
           and out_size[0] * row >= ACC_COLUMNS_PER_CHANNEL * c_out else None)
    # im2col columns per row, or with accumulated products only the block of products (wider
    # blocks then: 9-25 % faster on the 3-d and 64-channel layers, the same elsewhere)
    per_row = c_out if acc is not None or tiles is not None else max(c_in * k, c_out)
    rows_per = min(rows_g, _rows_per_block(per_row * row, out_size[0], row, budget,
                                           min_columns))
    # input phases of a block: rows + Q - 1 (+1 spare row for the last shifted reads)
    phases = _scratch("rows", (len(combos), c_in, rows_g + spans[0], n, *inner), x.dtype)
    pairs = (_phase_pair_table(tuple(x.shape[2:]), tuple(combos), tuple(pad_before), inner[0])
             if nd_in == 2 and stride[1] == 2 and x.flags.c_contiguous
             and _tiles.available(x.dtype) else None)
    gemm = _scratch("gemm", (groups, cout_g, rows_per * row), x.dtype)
    if tiles is not None:  # each tap's read in the stacked phase rows, from a block's start
        ldx = phases.strides[1] // phases.itemsize
        tile_offs = np.array([ci * c_in * ldx + off for ci, off in tap_src], dtype=np.int64)
    for g0 in range(0, out_size[0], rows_g):
        g1 = min(out_size[0], g0 + rows_g)
        ph = phases[:, :, :g1 - g0 + spans[0]]
        flat = ph.reshape(len(combos), c_in, -1)

        def gather(cs: slice, g0: int = g0, ph: np.ndarray = ph) -> None:
            for ci, combo in enumerate(combos):
                _gather_rows(x, ph[ci], cs, m0=g0, steps=stride,
                             offsets=[r - pb for r, pb in zip(combo, pad_before, strict=True)])

        if pairs is not None:  # stride 2 on the last axis: two phases per pass, compiled,
            # on numba's threads as for the tiles that follow (a hand-off to upconv's pool
            # here cost 2-5x the gather itself: its threads waited behind numba's spinning
            # ones), or all in this thread when it is one of upconv's
            parts = 1 if _serial() else min(get_num_threads(),
                                            max(1, ph.size // PAIRS_MIN_ELEMENTS))
            _numba.phase_pairs(x, phases, pairs, 0, c_in, g0, ph.shape[2], stride[0], parts)
        else:
            _split(c_in, ph.size, gather)
        if segments and tiles is not None:  # every output row (N, C_out, .., :), one call
            xs, ys = _segment_starts(g0, g1, n, c_out, tuple(out_size), tuple(inner))
            _tiles.gemm_segments(tiles, ph.reshape(len(combos) * c_in, -1), tile_offs, xs,
                                 y, ys, out_size[-1], math.prod(out_size),
                                 accumulate=bias is not None)
            continue

        def sub_block(r0: int, products: np.ndarray, g0: int = g0, g1: int = g1,
                      ph: np.ndarray = ph, flat: np.ndarray = flat) -> None:
            r1 = min(g1, r0 + rows_per)
            length, base = (r1 - r0) * row, (r0 - g0) * row
            # A single grid row can hold far more columns than the budget (3-d layers: a
            # row is a whole (N, H, W) slab): then the columns go in runs, each one offset
            # slice per tap of the flat phases, multiplied into their part of the products.
            size, cap = per_row * length, max(budget, 1)
            runs = 1 if size <= 4 * cap else -(-size // cap)
            width = -(-length // runs)
            for c0 in range(0, length, width):
                part = min(width, length - c0)
                if group_tiles is not None:  # all taps in one compiled pass over the phase rows
                    _tiles.gemm_many([(gt, tile_offs + (base + c0 + g * cin_g * ldx),
                                       products[g, :, c0:c0 + part])
                                      for g, gt in enumerate(group_tiles)],
                                     ph.reshape(len(combos) * c_in, -1))
                    continue
                if acc is not None:  # every tap a product accumulated in place, no im2col
                    stacked = ph.reshape(len(combos) * c_in, -1)
                    into = products[0, :, c0:c0 + part]
                    start = base + c0
                    for i, (off, p0, p1, wr) in enumerate(acc):
                        _blas.gemm(wr, stacked[p0 * c_in:p1 * c_in, start + off:start + off + part],
                                   into, accumulate=i > 0)
                    continue
                at = base + c0 + tap_src[0][1]
                block = flat[tap_src[0][0], :, at:at + part]
                if k > 1:  # (with a single tap the phase itself is the block)
                    block = _scratch("cols", (c_in, k, part), x.dtype)

                    def fill(cs: slice, flat: np.ndarray = flat, block: np.ndarray = block,
                             part: int = part, start: int = base + c0) -> None:
                        for t, (ci, off) in enumerate(tap_src):
                            block[cs, t] = flat[ci, cs, start + off:start + off + part]

                    _split(c_in, 2 * block.size, fill)
                # (G, C_out/G, C_in/G*K) @ (G, C_in/G*K, columns): the products' columns
                np.matmul(wm, block.reshape(groups, cin_g * k, part),
                          out=products[:, :, c0:c0 + part])
            r = products[:, :, :length].reshape(c_out, r1 - r0, n, *inner)

            def copy_out(osl: slice, r: np.ndarray = r, r0: int = r0, r1: int = r1) -> None:
                pairs = [(slice(None), slice(r0, r1)), *((sl, sl) for sl in keep)]
                _put(y, r[osl], pairs, osl, bias)

            _split(c_out, r.size, copy_out)

        starts = list(range(g0, g1, rows_per))
        if tiles is not None and len(starts) > 1 and batch_threads(len(starts)) > 1:
            # Whole sub-blocks per thread (products and copies of each in one core's cache),
            # pulled one at a time: one hand-off per block of phases instead of two per
            # sub-block (the tiles' threads, then the copies').
            def some(sl: slice, starts: list[int] = starts,
                     sub_block: Callable[..., None] = sub_block) -> None:
                products = _scratch("gemm", (groups, cout_g, rows_per * row), x.dtype)
                for r0 in starts[sl]:
                    sub_block(r0, products)

            run_chunks(len(starts), 1 << 62, some, pieces=len(starts))
        else:
            for r0 in starts:
                sub_block(r0, gemm)
    return y[:, :, 0] if nd == 1 else y


# Multiply-adds per group from which a grouped convolution takes the register tiles, one
# problem per group (see conv_forward).  In-process A/B against the BLAS paths: 128 channels in
# 8 groups, 28x28, k3, batch 1 / 8: 0.49x / 0.43x; 256 in 4, k3 s2, 14x14: 1.00x / 0.14x; 64
# -> 128 in 2, k3 s2: 1.09x / 0.90x.
GROUP_TILES_MACS = 1 << 20


# Output rows at least this long are written straight into y by the register tiles (see
# _tiles.gemm_segments); shorter rows fill the tiles' vectors badly, which costs more than
# the copy out saves unless the weight has few rows C_in * K.  Measured against the phase
# rows' products buffer (in-process A/B): 3 -> 64 channels k3 s2 (64-wide rows, 27 rows):
# 0.69-0.82x; 1-d 64 -> 128 k4 s2 (128, 256): 0.72-0.88x; 32 -> 16 k3 s1 (128, 288):
# 0.95-0.99x; 64 -> 128 k4 s2 (32, 1024): 1.12x.
SEGMENT_MIN_LENGTH = 64
SEGMENT_FEW_ROWS = 64
SEGMENT_FEW_ROWS_LENGTH = 16


@functools.lru_cache(maxsize=256)
def _segment_starts(g0: int, g1: int, n: int, c_out: int, out_size: tuple[int, ...],
                    inner: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    # The output rows of grid rows [g0, g1), in the order (row, sample, inner axes but the
    # last): their starts in the block's phase rows (C_in, rows, N, *inner) and in y's first
    # channel (N, C_out, *out_size).  (Integers only: cached, the arrays read-only.)
    x_steps = [math.prod(inner[i + 1:]) for i in range(len(inner) - 1)]
    y_steps = [math.prod(out_size[i + 2:]) for i in range(len(inner) - 1)]
    x_in = _grid_offsets(out_size[1:-1], x_steps)
    y_in = _grid_offsets(out_size[1:-1], y_steps)
    rows = np.arange(g1 - g0, dtype=np.int64)[:, None, None]
    samples = np.arange(n, dtype=np.int64)[None, :, None]
    xs = (rows * n + samples) * math.prod(inner) + x_in
    ys = (rows + g0) * math.prod(out_size[1:]) + samples * (c_out * math.prod(out_size)) + y_in
    xs, ys = xs.reshape(-1), ys.reshape(-1)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


# The positions kernel (see _conv_positions) replaces the gather of strided input phases, so
# it serves strided convolutions, and pays a padded copy of the input and a transposed copy
# of the output instead.  Measured against the phase rows (suite layers, batch 8 / 1): 24 %
# / 14 % faster with 32 -> 64 channels k4, 20 / 12 % with 64 -> 64 k3, 23 / 24 % in 3-d; the
# same to 7 % slower with 128-512 output channels (their gather is cheap per multiply-add)
# and fewer than 32 fill its vectors of channels badly; with few weight rows C_in * K the
# output copy outweighs the multiply-adds (3 -> 64 channels, k3, batch 1: 1.3-1.8x slower);
# with few positions, the weight's transpose.
POSITIONS_OUT_CHANNELS = (32, 64)
POSITIONS_MIN_POSITIONS = 1024
POSITIONS_MIN_ROWS = 64


def _conv_positions(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, y: np.ndarray,
                    stride: Sequence[int], pad_before: Sequence[int],
                    dilation: Sequence[int]) -> None:
    # Convolution by _tiles.gemm_positions: every output position's input element, for each
    # tap and channel, is read where it lies in the (zero-padded) input, so no phases are
    # gathered and no padding columns computed.  The tiles fill channels-last blocks, which
    # each thread copies into y itself; a bias is added to its positions right after.
    n, c_in, *size = x.shape
    c_out, _, *k_size = weight.shape
    out_size = y.shape[2:]
    positions = math.prod(out_size)
    lo = list(pad_before)
    hi = [max(0, (o - 1) * s + (kk - 1) * d + 1 - pb - ln) for o, s, kk, d, pb, ln in zip(
        out_size, stride, k_size, dilation, pad_before, size, strict=True)]
    if any(lo) or any(hi):
        padded = [ln + a + b for ln, a, b in zip(size, lo, hi, strict=True)]
        xp = _scratch("pad", (n, c_in, *padded), x.dtype)
        box = [slice(a, a + ln) for a, ln in zip(lo, size, strict=True)]
        inner: Index = (slice(None), slice(None), *box)

        def pad(cs: slice) -> None:
            part = xp[:, cs]
            _zero_outside(part, range(2, part.ndim), box)
            part[inner] = x[:, cs]

        _split(c_in, xp.size, pad)
    else:
        xp = np.ascontiguousarray(x)
    tile = _tiles.position_tile(x.dtype, c_out)
    pos, offs, at = _positions(xp.shape, tuple(out_size), tuple(stride), tuple(k_size),
                               tuple(dilation), tile, c_out)
    # (C_out, C_in, *k) -> (C_in, K, C_out): a weight row per channel and tap
    w = _tiles.swap_channels(weight.reshape(c_out, c_in * len(offs), 1)).reshape(
        c_in, len(offs), c_out)
    y3 = y.reshape(n, c_out, positions)
    b = None if bias is None else bias.reshape(-1, 1)

    def add_bias(p0: int, p1: int) -> None:  # (b is not None here)
        for i in range(p0 // positions, -(-min(p1, n * positions) // positions)):
            q0, q1 = max(p0 - i * positions, 0), min(p1 - i * positions, positions)
            y3[i, :, q0:q1] += b

    _tiles.gemm_positions(xp.reshape(-1), pos, offs, math.prod(xp.shape[2:]), w, y, at,
                          positions, then=None if b is None else add_bias)


@functools.lru_cache(maxsize=64)
def _positions(shape: tuple[int, ...], out_size: tuple[int, ...], stride: tuple[int, ...],
               k_size: tuple[int, ...], dilation: tuple[int, ...], tile: int, c_out: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Flat offsets into the (N, C, *padded) input: of each output position's first read
    # (sample-major, padded with zeros to a multiple of ``tile``), and of each tap; and each
    # position's offset in the (N, C_out, *out_size) output (-1 for the padding).
    n, c = shape[:2]
    el = [math.prod(shape[i + 1:]) for i in range(2, len(shape))]  # per step of each axis
    grid = _grid_offsets(out_size, [s * e for s, e in zip(stride, el, strict=True)])
    per_sample = c * math.prod(shape[2:])
    pos = (np.arange(n, dtype=np.int64)[:, None] * per_sample + grid).reshape(-1)
    tail = -len(pos) % tile
    pos = np.concatenate([pos, np.zeros(tail, dtype=np.int64)])
    p = math.prod(out_size)
    at = (np.arange(n, dtype=np.int64)[:, None] * (c_out * p)
          + np.arange(p, dtype=np.int64)).reshape(-1)
    at = np.concatenate([at, np.full(tail, -1, dtype=np.int64)])
    offs = _grid_offsets(k_size, [d * e for d, e in zip(dilation, el, strict=True)])
    for a in (pos, offs, at):
        a.setflags(write=False)
    return pos, offs, at


def _grid_offsets(counts: Sequence[int], steps: Sequence[int]) -> np.ndarray:
    # Flat offsets sum_i j_i * steps[i] of the grid 0 <= j_i < counts[i], in C order.
    flat = np.zeros((1,), dtype=np.int64)
    for count, step in zip(counts, steps, strict=True):
        flat = (flat[:, None] + np.arange(count, dtype=np.int64) * step).reshape(-1)
    return flat


# Accumulated products instead of im2col (see _blas) from this many input channels: with fewer
# the products are too thin for BLAS to run at speed.  The convolution's weight must then be
# permuted, (C_out, C_in, K) -> runs of (C_out, C_in): about four times the cost per element
# of the im2col copy it saves, hence the minimum of GEMM columns per output channel.
ACC_MIN_CHANNELS = 32
ACC_COLUMNS_PER_CHANNEL = 4


def _use_acc(groups: int, c_in: int, k: int) -> bool:
    # (inputs are float32 or float64 by the time they get here)
    return groups == 1 and k > 1 and c_in >= ACC_MIN_CHANNELS and _blas.available()


def _tap_runs(weight: np.ndarray, tap_src: Sequence[tuple[int, int]]
              ) -> list[tuple[int, int, int, np.ndarray]]:
    # The taps grouped by offset, each group cut into runs of consecutive input phases: one
    # accumulated product per run, (C_out, phases*C_in) @ (phases*C_in, columns), its K the
    # run's phases stacked (the phase buffer is (phases, C_in, ...), so they are adjacent rows).
    c_out, c_in = weight.shape[:2]
    w3 = weight.reshape(c_out, c_in, -1)
    by_off: dict[int, dict[int, int]] = {}
    for t, (ci, off) in enumerate(tap_src):
        by_off.setdefault(off, {})[ci] = t
    runs = []
    for off, taps in sorted(by_off.items()):
        order = sorted(taps)
        start = 0
        for i in range(1, len(order) + 1):
            if i == len(order) or order[i] != order[i - 1] + 1:
                run = order[start:i]
                wr = np.concatenate([w3[:, :, taps[ci]] for ci in run], axis=1)
                runs.append((off, run[0], run[-1] + 1, wr))
                start = i
    return runs


def _conv_budget(c_out: int) -> tuple[int, int]:
    # GEMM blocks of the convolution.  With few output channels the GEMM does little work per
    # column it packs, so it runs faster when the columns are still in the L2 cache from
    # their copies: smaller blocks then (measured: 10-15 % on 64 output channels, 10 % slower
    # with 128).
    if c_out <= SMALL_CONV_OUT_CHANNELS:
        return MAX_COLUMN_ELEMENTS // SMALL_CONV_DIVISOR, SMALL_CONV_MIN_COLUMNS
    return MAX_COLUMN_ELEMENTS, MIN_BLOCK_COLUMNS


SMALL_CONV_OUT_CHANNELS = 64
SMALL_CONV_DIVISOR = 4
SMALL_CONV_MIN_COLUMNS = 1024


@functools.lru_cache(maxsize=256)
def _conv_plan(n: int, k_size: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...], out_size: tuple[int, ...]
               ) -> tuple[list[int], list[int], list[tuple[int, ...]], list[tuple[int, int]]]:
    # Per axis, tap a reads input phase (a*d) % s at shift (a*d) // s.  Returns the spans Q,
    # the inner grid extents O + Q - 1, the input phase combinations in use, and per tap its
    # phase's index and flat offset.  Integers only, so caching is safe.
    phase = [[(a * d) % s for a in range(kk)] for kk, s, d in zip(k_size, stride, dilation,
                                                                    strict=True)]
    shift = [[(a * d) // s for a in range(kk)] for kk, s, d in zip(k_size, stride, dilation,
                                                                    strict=True)]
    spans = [max(q) + 1 for q in shift]
    inner = [o + q - 1 for o, q in zip(out_size[1:], spans[1:], strict=True)]
    strides = _strides(n, inner)
    combos = list(itertools.product(*(sorted(set(r)) for r in phase)))
    where = {c: i for i, c in enumerate(combos)}
    tap_src = [(where[tuple(phase[i][t] for i, t in enumerate(a))],
                sum(shift[i][t] * strides[i] for i, t in enumerate(a)))
               for a in itertools.product(*(range(kk) for kk in k_size))]
    return spans, inner, combos, tap_src


# Gathered elements per thread of the compiled phase-pair gather (numba's threads): ~30 µs
PAIRS_MIN_ELEMENTS = 1 << 16


@functools.lru_cache(maxsize=256)
def _phase_pair_table(size: tuple[int, ...], combos: tuple[tuple[int, ...], ...],
                      pad_before: tuple[int, ...], width: int) -> np.ndarray | None:
    # _numba.phase_pairs' table for a 2-d convolution with stride 2 on the last axis: the
    # phases that read even and odd inputs of the same rows, paired, with their valid ranges
    # (integers only, cached; read-only).  None unless every phase has its partner.
    rows: list[list[int]] = []
    for p, (rh, rw) in enumerate(combos):
        if rw % 2:
            continue
        partner = [q for q, c in enumerate(combos) if c == (rh, rw + 1)]
        if not partner:
            return None
        ow = [rw - pad_before[1], rw + 1 - pad_before[1]]
        # phase p reads 2j + ow[0], its partner 2j + ow[1]: the even one goes first
        order = [(p, ow[0]), (partner[0], ow[1])] if ow[0] % 2 == 0 else \
            [(partner[0], ow[1]), (p, ow[0])]
        spans = []
        for _, off in order:
            r = _tap_range(width, 2, off, size[1])
            spans += [0, 0] if r is None else [r[0].start, r[0].stop]
        # (what _phase_pairs relies on: the even reader starts at or before input 0, the odd
        # one next to it)
        assert order[0][1] <= 0 and order[1][1] - order[0][1] in (-1, 1)
        rows.append([order[0][0], order[1][0], rh - pad_before[0], order[0][1], order[1][1],
                     *spans])
    if 2 * len(rows) != len(combos):
        return None
    table = np.array(rows, dtype=np.int64).reshape(-1, 9)
    table.flags.writeable = False
    return table


def _conv_direct(x: np.ndarray, wm: np.ndarray, bias: np.ndarray | None, y: np.ndarray,
                 stride: Sequence[int], pad_before: Sequence[int], dilation: Sequence[int],
                 k_size: Sequence[int]) -> None:
    # im2col with one strided gather per tap into (C_in, K, rows, N', *O), then the GEMM.
    # Samples with many output positions go one at a time (N' = 1): the GEMM then writes
    # their rows of y directly, since (C_out, rows, *O) of one sample is already its output
    # layout.  Small samples are taken together (N' = N), for a wider GEMM, and interleaved
    # into y after it.
    n, c_in = x.shape[:2]
    groups, cout_g, _ = wm.shape
    c_out, cin_g, k = groups * cout_g, c_in // groups, math.prod(k_size)
    out_size = y.shape[2:]
    each = n == 1 or math.prod(out_size) >= MIN_SAMPLE_COLUMNS
    nb = 1 if each else n
    row = nb * math.prod(out_size[1:])
    tap_off = [[a * d - pb for a, d, pb in zip(t, dilation, pad_before, strict=True)]
               for t in itertools.product(*(range(kk) for kk in k_size))]
    rows_per = _rows_per_block(max(c_in * k, c_out) * row, out_size[0], row, *_conv_budget(c_out))
    cols = _scratch("cols", (c_in, k, rows_per, nb, *out_size[1:]), x.dtype)
    gemm = None if each else _scratch("gemm", (groups, cout_g, rows_per * row), x.dtype)
    for i in range(0, n, nb):
        xs = x[i:i + nb]
        for r0 in range(0, out_size[0], rows_per):
            r1 = min(out_size[0], r0 + rows_per)
            length = (r1 - r0) * row
            block = cols[:, :, :r1 - r0]

            def fill(cs: slice, xs: np.ndarray = xs, r0: int = r0,
                     block: np.ndarray = block) -> None:
                for t, offsets in enumerate(tap_off):
                    _gather_rows(xs, block[:, t], cs, m0=r0, steps=stride, offsets=offsets)

            _split(c_in, block.size, fill)
            b = block.reshape(groups, cin_g * k, length)
            if gemm is None:  # straight into y's rows: a view, rows of y are whole planes
                into = y[i, :, r0:r1]
                out = into.reshape(groups, cout_g, length)
                assert np.may_share_memory(out, y)
                _product(wm, b, out)
                if bias is not None:
                    into += bias.reshape(-1, *(1,) * (into.ndim - 1))
                continue
            r = _product(wm, b, gemm[:, :, :length]).reshape(c_out, r1 - r0, n,
                                                                    *out_size[1:])

            def copy_out(osl: slice, r: np.ndarray = r, r0: int = r0, r1: int = r1) -> None:
                pairs = [(slice(None), slice(r0, r1)),
                         *((slice(None), slice(None)),) * (r.ndim - 3)]
                _put(y, r[osl], pairs, osl, bias)

            if _numba_parts(groups, x.dtype, 1):  # after the tiles: here, not in the pool
                copy_out(slice(0, c_out))
            else:
                _split(c_out, r.size, copy_out)


# Output positions per sample from which the direct convolution goes sample by sample.
MIN_SAMPLE_COLUMNS = 4096
# Stride-1 convolutions whose inner output axes are this long, with fewer input channels than
# this, gather their columns directly (measured: 25-35 % faster with 3 input channels, 10-30 %
# slower than the phase buffer's contiguous copies or accumulated products from 16 on).
DIRECT_MIN_ROW = 32
DIRECT_MAX_CHANNELS = 8


# A per-group weight of at most this many entries makes a group's GEMM too small for BLAS
# threads; such convolutions go group-parallel (see conv_forward).
_TINY_GROUP = 256


def _conv_groups(gs: slice, *, x: np.ndarray, wm: np.ndarray, bias: np.ndarray | None,
                 y: np.ndarray, r0: int, r1: int, span: int, inner: Sequence[int],
                 stride: Sequence[int], pad_before: Sequence[int],
                 combos: Sequence[tuple[int, ...]], tap_src: Sequence[tuple[int, int]],
                 keep: Sequence[slice]) -> None:
    # Output rows [r0, r1) of the groups gs, a few groups at a time: gather their input
    # phases into this thread's scratch, then the per-group products while the phases are
    # still in cache.  The phases are kept per sample, (C, N, R, *inner) with R = r1 - r0 +
    # Q - 1 rows: that gather copies whole planes of x (the row layout would interleave the
    # samples row by row), and a tap is still one offset slice across all samples; each
    # sample's last Q - 1 rows of products then read into the next sample and are dropped.
    # ``tap_src`` holds the flat offsets in this layout.
    groups, cout_g, _ = wm.shape
    cin_g = x.shape[1] // groups
    k, n = len(tap_src), x.shape[0]
    rows = r1 - r0 + span - 1
    plane = rows * math.prod(inner)
    length = n * plane
    spare = max(off for _, off in tap_src)  # reads past the last sample's plane
    # One input channel per group and long rows: a multiply-add per tap on the shifted input
    # itself, no columns.
    fma = cin_g == 1 and length >= _FMA_MIN_LENGTH
    per_group = len(combos) * cin_g * (length + spare) + (
        2 * cout_g if fma else cin_g * k + cout_g) * length
    step = min(gs.stop - gs.start, max(1, _GROUP_CHUNK_ELEMENTS // per_group))
    pairs = [(slice(0, r1 - r0), slice(r0, r1)), *((sl, sl) for sl in keep)]
    for g0 in range(gs.start, gs.stop, step):
        g1 = min(gs.stop, g0 + step)
        cs, cc = slice(g0 * cin_g, g1 * cin_g), (g1 - g0) * cin_g
        flat = _scratch("rows", (len(combos), cc, length + spare), x.dtype)
        flat[:, :, length:] = 0
        for ci, combo in enumerate(combos):
            # (C', N, R, *inner) seen as the row layout (C', R, N, *inner) that the gather fills
            ph = flat[ci, :, :length].reshape(cc, n, rows, *inner).swapaxes(1, 2)
            _gather_rows(x[:, cs], ph, slice(None), m0=r0, steps=stride,
                         offsets=[r - pb for r, pb in zip(combo, pad_before, strict=True)])
        r = _scratch("gemm", (g1 - g0, cout_g, length), x.dtype)
        if fma:
            p = _scratch("part", (g1 - g0, cout_g, length), x.dtype)
            wt = wm[g0:g1, :, :, None]  # (G', C_out/G, K, 1)
            for t, (ci, off) in enumerate(tap_src):
                win = flat[ci, :, None, off:off + length]  # (G', 1, rows)
                np.multiply(win, wt[:, :, t], out=r if t == 0 else p)
                if t:
                    r += p
        else:
            block = _scratch("cols", (cc, k, length), x.dtype)
            for t, (ci, off) in enumerate(tap_src):
                block[:, t] = flat[ci, :, off:off + length]
            np.matmul(wm[g0:g1], block.reshape(g1 - g0, cin_g * k, length), out=r)
        osl = slice(g0 * cout_g, g1 * cout_g)
        _put(y, r.reshape(-1, n, rows, *inner).swapaxes(1, 2), pairs, osl, bias)


# Working set (elements) of one chunk of tiny groups: phases, columns and products of the
# chunk stay in the 1 MiB L2 cache between the gather and the products.
_GROUP_CHUNK_ELEMENTS = 1 << 20
_FMA_MIN_LENGTH = 4096


# ---------------------------------------------------------------------------------------------
# Transposed convolution


class _Plan(NamedTuple):
    axes: list[_Axis]
    grid: list[int]  # grid extents L + Q - 1 per axis
    row: int  # elements per grid row: N * prod(grid[1:])
    strides: list[int]  # flat strides of the spatial axes
    combos: list[tuple[int, ...]]  # phase combinations that receive taps
    tap_phase: list[int]  # per kernel tap: index into combos
    tap_shift: list[tuple[int, ...]]  # per kernel tap: shift per axis, in [0, Q)
    tap_offset: list[int]  # per kernel tap: flat offset of its shift (col2im's adds)
    shift_offset: list[int]  # per shift in C order: flat read offset of the sub-pixel im2col
    phase_taps: list[list[int]]  # per phase: its kernel taps
    tap_read: list[int]  # per kernel tap: shift_offset of its shift (the tiles' reads)
    # the compiled col2im's tables: the taps of each phase in turn, taps[starts[p]:starts[p +
    # 1]], and their shifts (read-only)
    col2im: tuple[np.ndarray, np.ndarray, np.ndarray]


def _plan(x: np.ndarray, k_size: Sequence[int], stride: Sequence[int],
          pad_before: Sequence[int], dilation: Sequence[int], out_size: Sequence[int]) -> _Plan:
    return _plan_of(x.shape[0], tuple(x.shape[2:]), tuple(k_size), tuple(stride),
                    tuple(pad_before), tuple(dilation), tuple(out_size))


@functools.lru_cache(maxsize=256)
def _plan_of(n: int, size: tuple[int, ...], k_size: tuple[int, ...], stride: tuple[int, ...],
             pad_before: tuple[int, ...], dilation: tuple[int, ...],
             out_size: tuple[int, ...]) -> _Plan:
    # Integers only (shapes and arguments, never array values), so caching is safe.
    axes = [_transpose_axis(*args) for args in zip(k_size, stride, dilation, pad_before, size,
                                                    out_size, strict=True)]
    grid = [ax.size + ax.span - 1 for ax in axes]
    combos = list(itertools.product(*(ax.used for ax in axes)))
    where = {c: i for i, c in enumerate(combos)}
    tap_phase, tap_shift = [], []
    for a in itertools.product(*(range(k) for k in k_size)):
        tap_phase.append(where[tuple(ax.rho[t] for ax, t in zip(axes, a, strict=True))])
        tap_shift.append(tuple(ax.q[t] for ax, t in zip(axes, a, strict=True)))
    strides = _strides(n, grid[1:])
    spans = [a.span for a in axes]
    tap_offset = [sum(q * st for q, st in zip(sh, strides, strict=True)) for sh in tap_shift]
    # An input with Q - 1 zeros before each axis: grid entry c reads input entry c + Q - 1 - q.
    shift_offset = [sum((qq - 1 - q) * st for q, qq, st in zip(sh, spans, strides, strict=True))
                    for sh in itertools.product(*(range(qq) for qq in spans))]
    phase_taps = [[t for t, ci in enumerate(tap_phase) if ci == p] for p in range(len(combos))]
    tap_read = [shift_offset[int(np.ravel_multi_index(sh, spans))] for sh in tap_shift]
    order = [t for taps in phase_taps for t in taps]
    col2im = (np.cumsum([0] + [len(taps) for taps in phase_taps]).astype(np.int64),
              np.array(order, dtype=np.int64),
              np.array([tap_shift[t] for t in order], dtype=np.int64).reshape(len(order), -1))
    for table in col2im:
        table.flags.writeable = False
    return _Plan(axes, grid, n * math.prod(grid[1:]), strides, combos, tap_phase, tap_shift,
                 tap_offset, shift_offset, phase_taps, tap_read, col2im)


def _interleave(y: np.ndarray, src: np.ndarray, combo: Sequence[int], plan: _Plan, g0: int,
                osl: slice, bias: np.ndarray | None) -> None:
    # src (C_sl, rows, N, *grid[1:]) holds grid rows g0.. of phase `combo`; write its outputs.
    pairs = []
    for ax, (a, rho) in enumerate(zip(plan.axes, combo, strict=True)):
        count = src.shape[1] if ax == 0 else src.shape[ax + 2]
        p = _grid_slices(a, rho, g0 if ax == 0 else 0, count)
        if p is None:
            return
        pairs.append(p)
    _put(y, src, pairs, osl, bias)


def _interleave_all(y: np.ndarray, src: np.ndarray, plan: _Plan, g0: int, osl: slice,
                    bias: np.ndarray | None, parts: int = 1) -> None:
    # src (C', P, rows, N, *grid[1:]) holds grid rows g0.. of every phase: _interleave of
    # each.  With numba (and the tiles: the tiles' switch turns both off, and the tests run
    # each path) one compiled pass writes whole output rows from all phases at once, by
    # per-axis tables of (phase, grid index); NumPy's strided copies per phase are 2-4x
    # slower on stride-2 layers (and as fast as compiled loops for plain row copies, which
    # is why the convolution's output copy stays NumPy's).
    if not _tiles.available(y.dtype):
        for ci, combo in enumerate(plan.combos):
            _interleave(y, src[:, ci], combo, plan, g0, osl, bias)
        return
    tables = _interleave_tables(tuple(plan.axes), g0, tuple(src.shape[2:]), tuple(y.shape[2:]))
    if y.ndim == 4:  # 2-d: a unit middle axis
        y, src = y[:, :, :, None], src[:, :, :, :, None]
    _numba.put_rows(y, src, *tables[:3], np.zeros(y.shape[1], y.dtype) if bias is None
                    else bias, osl.start or 0, tables[3], parts)


@functools.lru_cache(maxsize=256)
def _interleave_tables(axes: tuple[_Axis, ...], g0: int, src_shape: tuple[int, ...],
                       out_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                            int]:
    # _numba.put_rows's tables for grid rows g0.. of the phases (integers only, so caching is
    # safe; the arrays are made read-only): per output row of the outer axes its (phase,
    # grid index), per phase of the last axis (first output, first grid index, count, step),
    # and the number of phases of the middle axis.
    parts = []
    for i, ax in enumerate(axes):
        first, count = (g0, src_shape[0]) if i == 0 else (0, src_shape[i + 1])
        parts.append([None if (p := _grid_slices(ax, rho, first, count)) is None
                      else (j, p[0], p[1]) for j, rho in enumerate(ax.used)])
    used = [len(ax.used) for ax in axes]
    if len(axes) == 2:  # a unit middle axis
        parts.insert(1, [(0, slice(0, 1), slice(0, 1))])
        used.insert(1, 1)
        out_shape = (out_shape[0], 1, out_shape[1])
    wrun = np.zeros((used[2], 4), dtype=np.int64)
    for part in parts[2]:
        if part is not None:
            ph, sl, dst = part
            wrun[ph] = dst.start, sl.start, sl.stop - sl.start, dst.step or 1
    tables = (_table(out_shape[0], parts[0]), _table(out_shape[1], parts[1]), wrun)
    for t in tables:
        t.flags.writeable = False
    return (*tables, used[1])


def _table(extent: int, parts: Sequence[tuple[int, slice, slice] | None]) -> np.ndarray:
    # Per output index of one axis: (phase, source index), or -1 where no part writes it.
    # A part is (phase, source slice, output slice), as _grid_slices gives them.
    table = np.full((extent, 2), -1, dtype=np.int64)
    for part in parts:
        if part is not None:
            ph, src, dst = part
            table[dst, 0] = ph
            table[dst, 1] = np.arange(src.start, src.stop)
    return table


def conv_transpose_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Transposed convolution ``(N, C_in, *L) -> (N, C_out, *O)`` as one GEMM + col2im.

    The GEMM is ``(C_out*K, C_in) @ (C_in, N*L)`` per group with the weight read through a
    transposed view; its rows ``(o, a)`` are then added, tap by tap, into the buffer of the
    tap's output phase at the tap's shift: one contiguous add per tap in the row layout.  Grid
    rows are final once every later block starts past them, so the phase buffers are a ring of
    ``block + Q - 1`` rows, interleaved into the output block by block.
    """
    nd = len(out_size)
    c_out = weight.shape[1] * groups
    if x.shape[0] == 0 or c_out == 0:
        return _output((x.shape[0], c_out, *out_size), x.dtype, bias, False, out)
    x, weight, (stride, pad_before, dilation, out_size) = _lift(
        x, weight, (stride, 1), (pad_before, 0), (dilation, 1), (out_size, 1))
    n, c_in, *size = x.shape
    cout_g, k_size = weight.shape[1], weight.shape[2:]
    cin_g, k = c_in // groups, math.prod(k_size)
    plan = _plan(x, k_size, stride, pad_before, dilation, out_size)
    row, q1 = plan.row, plan.axes[0].span
    offsets = plan.tap_offset
    wt = weight.reshape(groups, cin_g, cout_g * k).transpose(0, 2, 1)  # (G, C_out/G*K, C_in/G)
    y = _output((n, c_out, *out_size), x.dtype, bias, all(_covers(a) for a in plan.axes), out)
    rows_per = _rows_per_block(max(c_out * k, c_in) * row, size[0], row)
    # Taps that do not overlap (d(k-1) + 1 <= s on every axis) each fill a phase of their own,
    # unshifted, and in the phases' order: no col2im adds at all, no ring of phase buffers.
    alone = plan.tap_phase == list(range(k)) and all(a.span == 1 for a in plan.axes)
    if (not alone and rows_per >= size[0] and len(size) == 2 and size[1] >= COL2IM_MIN_ROW
            and _tiles.available(x.dtype)):
        # one block of long rows, with numba: the compiled col2im sums each output row's taps
        # straight from the products, so the GEMM needs no zero tail columns either
        _col2im_compiled(x, wt, bias, y, plan, groups)
        return y[:, :, 0] if nd == 1 else y
    # x rows of a block in the row layout with zero tails: channels are the GEMM's K
    xb = _scratch("rows", (c_in, rows_per, n, *plan.grid[1:]), x.dtype)
    gemm = _scratch("gemm", (groups, cout_g * k, rows_per * row), x.dtype)
    # ring of phase buffers, grid rows r0 .. r0 + rows_per + Q1 - 1 (+1 spare row for the
    # shifted adds of the zero tail columns)
    ring = None if alone else _scratch("ring", (len(plan.combos), c_out, (rows_per + q1) * row),
                                       x.dtype)
    ones, zeros = [1] * len(size), [0] * len(size)
    for r0 in range(0, size[0], rows_per):
        r1 = min(size[0], r0 + rows_per)
        xc = xb[:, :r1 - r0]
        _split(c_in, xc.size, functools.partial(_gather_rows, x, xc, m0=r0, steps=ones,
                                                     offsets=zeros))
        z = _product(wt, xc.reshape(groups, cin_g, -1), gemm[:, :, :(r1 - r0) * row])
        z = z.reshape(c_out, k, -1)
        if alone:  # the products of tap t are phase t's outputs: interleave them as they lie
            src = z.reshape(c_out, k, r1 - r0, n, *plan.grid[1:])
            parts = _numba_parts(groups, x.dtype, min(c_out, z.size // MIN_PUT_ELEMENTS))
            if parts:  # after the tiles, on numba's threads
                _interleave_all(y, src, plan, r0, slice(0, c_out), bias, parts)
                continue

            def put(osl: slice, src: np.ndarray = src, r0: int = r0) -> None:
                _interleave_all(y, src[osl], plan, r0, osl, bias)

            _split(c_out, z.size, put)
            continue
        last = r1 == size[0]
        done = r1 - r0 + (q1 - 1 if last else 0)  # ring rows that no later block touches

        def scatter(osl: slice, z: np.ndarray = z, r0: int = r0, last: bool = last,
                    done: int = done) -> None:
            assert ring is not None
            buf = ring[:, osl]
            length = z.shape[2]
            # The ring starts at the bias (or 0) so that the interleave is a plain strided
            # copy (with the bias fused it is about twice as slow): in the first block each
            # phase's first tap writes ``z + bias`` over whatever the ring held, the rest of
            # the phase is set to the bias, and later taps add.
            base: Any = 0 if bias is None else bias[osl, None]
            fresh = set(range(len(plan.combos))) if r0 == 0 else set()
            for t, off in enumerate(offsets):
                ci = plan.tap_phase[t]
                dst = buf[ci, :, off:off + length]
                if ci in fresh:
                    fresh.discard(ci)
                    buf[ci, :, :off] = base
                    buf[ci, :, off + length:] = base
                    if bias is None:
                        np.copyto(dst, z[osl, t])
                    else:
                        np.add(z[osl, t], base, out=dst)
                else:
                    np.add(dst, z[osl, t], out=dst)
            src = buf[:, :, :done * row].reshape(len(plan.combos), -1, done, n, *plan.grid[1:])
            _interleave_all(y, src.swapaxes(0, 1), plan, r0, osl, None)
            if not last:  # carry the unfinished rows to the front, reset the rest
                buf[:, :, :(q1 - 1) * row] = buf[:, :, done * row:(done + q1 - 1) * row]
                buf[:, :, (q1 - 1) * row:] = base

        if _numba_parts(groups, x.dtype, 1):  # after the tiles: here, not in the pool
            scatter(slice(0, c_out))
        else:
            _split(c_out, z.size, scatter)
    return y[:, :, 0] if nd == 1 else y


# Input rows at least this long take the compiled col2im (one block, 1-d or 2-d).  Measured
# against the ring of phase buffers (in-process A/B, 1-d k4 s2, 2 threads unless noted): 128
# -> 64 channels, 256 long, batch 1 0.33 -> 0.26 ms, 4 samples on one thread 0.91 -> 0.76; 64
# -> 32, 128 long, batch 1 0.117 -> 0.087.  But 2-d rows of 64 (64 -> 3, k3 s2, 4 samples, one
# thread) 0.91 -> 1.10 and of 16 (256 -> 128, k4 s2) 8.8 -> 9.4: with short rows the loops
# cost more than the ring's long contiguous adds.  (Again after its float64 zero was fixed,
# forced for the suite's 2-d layers that take GEMM + col2im: 0.95-0.99x, 64 -> 3 at batch
# 1 1.20x, in one A/B.)  Session 12, with the product through the tiles at batch 1 (and the
# ring's adds then in the calling thread, the compiled col2im on numba's threads), rows of 8
# and up, in-process A/B: 512 -> 256 (8x8) at batch 8 0.96x, 64 -> 3 at batch 1 0.67x, the
# others that take GEMM + col2im 0.99-1.02x.
COL2IM_MIN_ROW = 8


def _col2im_compiled(x: np.ndarray, wt: np.ndarray, bias: np.ndarray | None, y: np.ndarray,
                     plan: _Plan, groups: int) -> None:
    # conv_transpose_forward in one block with the compiled col2im (_numba.col2im_rows): the
    # GEMM's columns are the input positions only, (C_in, rows, N, W), and each output row
    # sums its taps' products from them, bias included, written once.
    n, c_in, rows, width = x.shape
    c_out, k = y.shape[1], wt.shape[1] // (y.shape[1] // groups)
    xc = _scratch("rows", (c_in, rows, n, width), x.dtype)
    _split(c_in, xc.size, functools.partial(_gather_rows, x, xc, m0=0, steps=[1, 1],
                                            offsets=[0, 0]))
    z = _product(wt, xc.reshape(groups, c_in // groups, -1),
                 _scratch("gemm", (groups, wt.shape[1], rows * n * width), x.dtype))
    z = z.reshape(c_out, k, rows, n, width)
    amap, _, wrun, _ = _interleave_tables(tuple(plan.axes), 0, (plan.grid[0], n, *plan.grid[1:]),
                                          tuple(y.shape[2:]))
    starts, taps, shifts = plan.col2im
    b = np.zeros(c_out, y.dtype) if bias is None else bias

    parts = _numba_parts(groups, x.dtype, min(c_out, z.size // MIN_COL2IM_ELEMENTS))
    if parts:  # after the tiles, on numba's threads
        _numba.col2im_rows(y, z, b, 0, amap, wrun, starts, taps, shifts, parts)
        return

    def rows_of(osl: slice) -> None:
        _numba.col2im_rows(y, z[osl], b, osl.start or 0, amap, wrun, starts, taps, shifts)

    _split(c_out, z.size, rows_of)


# Products per thread of the compiled col2im on numba's threads (~30 µs of adds)
MIN_COL2IM_ELEMENTS = 1 << 16


# Output elements per thread of the compiled interleave (numba's threads): ~30 µs of copying
MIN_PUT_ELEMENTS = 1 << 16


def _phase_weight(weight: np.ndarray, plan: _Plan) -> np.ndarray:
    # (C_in, C_out/G, *k) -> (C_in, *Q, C_out/G, P): the sub-pixel GEMM's weight, stored
    # transposed (K = (c, shift) outer, M = (o, phase) inner) so that each input channel's slab
    # is permuted on its own, in cache; zero where a phase has no tap at a shift.
    c_in, cout_g = weight.shape[:2]
    spans = [a.span for a in plan.axes]
    wc = _scratch("weight", (c_in, *spans, cout_g, len(plan.combos)), weight.dtype)
    w3 = weight.reshape(c_in, cout_g, -1)
    full = len(set(zip(plan.tap_phase, plan.tap_shift, strict=True))) == wc[0, ..., 0, :].size

    def fill(cs: slice) -> None:
        if not full:
            wc[cs] = 0
        for t, (ci, sh) in enumerate(zip(plan.tap_phase, plan.tap_shift, strict=True)):
            at: Index = (cs, *sh, slice(None), ci)
            wc[at] = w3[cs, :, t]

    _split(c_in, wc.size, fill)
    return wc


# Weight elements per input element (the gathered grid) above which the sub-pixel tiles read
# the weight in place instead of swapping it (see conv_transpose_phases).
SWAP_MAX_WEIGHT_PER_INPUT = 4


def conv_transpose_phases(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
    out: np.ndarray | None = None,
    shared: Shared | None = None,
) -> np.ndarray:
    """Transposed convolution as one sub-pixel GEMM: all output phases at once.

    Output phase ``rho`` is the stride-1 correlation ``y_rho[mu] = sum_q x[mu - q] W_rho[q]``.
    All phases share the ``Q^d`` shifted copies of ``x`` (an im2col, one contiguous copy per
    shift in the row layout), so one GEMM ``(G, C_out/G*P, C_in/G*Q^d) @ (.., N*M)`` computes
    every phase, and one strided copy per phase interleaves them (with numba, one compiled
    pass for all phases: see ``_interleave_all``).  Compared with col2im this
    replaces ``k^d`` read-modify-write passes over the output by ``Q^d`` copies of the input,
    at the price of a permuted copy of the weight and zeros where a phase misses a shift.
    ``shared`` (from :func:`by_samples`): the threads of one call swap the weight once.
    """
    nd = len(out_size)
    c_out = weight.shape[1] * groups
    if x.shape[0] == 0 or c_out == 0:
        return _output((x.shape[0], c_out, *out_size), x.dtype, bias, False, out)
    x, weight, (stride, pad_before, dilation, out_size) = _lift(
        x, weight, (stride, 1), (pad_before, 0), (dilation, 1), (out_size, 1))
    n, c_in, *size = x.shape
    cout_g = weight.shape[1]
    cin_g = c_in // groups
    plan = _plan(x, weight.shape[2:], stride, pad_before, dilation, out_size)
    row, spans = plan.row, [a.span for a in plan.axes]
    qd, phases = math.prod(spans), len(plan.combos)
    offsets = plan.shift_offset
    y = _output((n, c_out, *out_size), x.dtype, bias, all(_covers(a) for a in plan.axes), out)
    # With the compiled register tiles (see _tiles) each phase sums only its own taps, read
    # in place from the weight, over shifted views of the rows: no im2col, no zero products.
    tiles = groups == 1 and _tiles.available(x.dtype)
    if tiles:
        k = math.prod(weight.shape[2:])
        if weight.size > SWAP_MAX_WEIGHT_PER_INPUT * c_in * n * math.prod(plan.grid):
            # a weight much larger than the input is read in place, (C_in, C_out, *k): with
            # consecutive channels C_out*K apart the tiles lose 2-6 % there (512 -> 256 and
            # 256 -> 128 channels), less than the swap's pass over the weight costs
            data, c_stride, i_stride = weight, c_out * k, k
        else:  # in the convolution's layout (C_out, C_in, *k): a channel's taps are neighbours
            swap = functools.partial(_tiles.swap_channels, weight)
            data = swap() if shared is None else shared.get("swapped", swap)
            c_stride, i_stride = k, c_in * k
        w_phase = [_tiles.weights(data, taps, c_stride, i_stride, c_in, c_out)
                   for taps in plan.phase_taps]
        b_phase = [np.array([plan.tap_read[t] for t in taps], dtype=np.int64)
                   for taps in plan.phase_taps]
    else:
        # (G, C_out/G*P, C_in/G*Q^d), a transposed view
        wm = _phase_weight(weight, plan).reshape(groups, cin_g * qd, cout_g * phases)
        wm = wm.transpose(0, 2, 1)
    # With accumulated products each shift multiplies a view of the rows: no im2col.
    acc = not tiles and _use_acc(groups, c_in, qd)
    copies = qd > 1 and not acc and not tiles
    # (blocks sized as if the shifted copies were made, wider ones measured no faster; the
    # tiles make no copies)
    rows_per = _rows_per_block(max(c_in * (1 if tiles else qd + 1), c_out * phases) * row,
                               plan.grid[0], row)
    # x rows of a block with Q - 1 zeros before each axis: grid rows + Q1 - 1 (+1 spare row)
    xb = _scratch("rows", (c_in, rows_per + spans[0], n, *plan.grid[1:]), x.dtype)
    cols = _scratch("cols", (c_in, qd, rows_per * row), x.dtype) if copies else xb
    gemm = _scratch("gemm", (groups, cout_g * phases, rows_per * row), x.dtype)
    ones, head = [1] * len(size), [1 - q for q in spans]
    for r0 in range(0, plan.grid[0], rows_per):
        r1 = min(plan.grid[0], r0 + rows_per)
        length = (r1 - r0) * row
        xc = xb[:, :r1 - r0 + spans[0]]
        # with a single shift (k <= s) the gathered rows are the columns themselves
        block = cols[:, :, :length] if copies else xc.reshape(c_in, 1, -1)[:, :, :length]

        def fill(cs: slice, r0: int = r0, xc: np.ndarray = xc, block: np.ndarray = block) -> None:
            _gather_rows(x, xc, cs, m0=r0, steps=ones, offsets=head)
            if copies:
                _shifted_copies(xc.reshape(c_in, -1), offsets, 0, block, cs)

        _split(c_in, xc.size + (block.size if copies else 0), fill)
        if tiles:  # per phase: (C_out, C_in) @ (C_in, rows) for each of its taps, summed
            # Only the grid rows a phase writes to the output (k4 s2 p1: 8 of 9, 11 % fewer
            # products on 8x8 inputs), which are the only ones _interleave reads.
            rows_flat, problems = xc.reshape(c_in, -1), []
            for ci, combo in enumerate(plan.combos):
                used = _grid_slices(plan.axes[0], combo[0], r0, r1 - r0)
                if used is not None:
                    c0, c1 = used[0].start * row, used[0].stop * row
                    problems.append((w_phase[ci], b_phase[ci] + c0, gemm[0, ci::phases, c0:c1]))
            _tiles.gemm_many(problems, rows_flat)
            r = gemm[:, :, :length]
        elif acc:  # (C_out*P, C_in) @ (C_in, rows), one per shift, summed in place
            rows_flat, into = xc.reshape(c_in, -1), gemm[0, :, :length]
            for j, off in enumerate(offsets):
                _blas.gemm(wm[0, :, j::qd], rows_flat[:, off:off + length], into,
                           accumulate=j > 0)
            r = gemm[:, :, :length]
        else:
            # (G, C_out/G*P, C_in/G*Q^d) @ (G, C_in/G*Q^d, rows) -> (C_out, P, rows, N, *grid)
            r = np.matmul(wm, block.reshape(groups, cin_g * qd, length),
                          out=gemm[:, :, :length])
        r = r.reshape(c_out, phases, r1 - r0, n, *plan.grid[1:])

        parts = _numba_parts(groups, x.dtype, min(c_out, r.size // MIN_PUT_ELEMENTS))
        if parts:  # with the tiles, numba's threads (a hand-off of microseconds)
            _interleave_all(y, r, plan, r0, slice(0, c_out), bias, parts)
            continue

        def put(osl: slice, r: np.ndarray = r, r0: int = r0) -> None:
            _interleave_all(y, r[osl], plan, r0, osl, bias)

        _split(c_out, r.size, put)
    return y[:, :, 0] if nd == 1 else y


def conv_transpose_depthwise(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Transposed convolution with one input channel per group (``groups == C_in``).

    There is no channel sum for a GEMM to lean on, so each channel is its own tiny product,
    oriented so that its output needs no interleave along the last axis: with the ``Q^d``
    shifted copies of the channel as ``A (rows, Q^d)`` and the taps as ``W (Q^d, s)`` (column
    = phase of the last axis), ``A @ W`` is ``(rows, s)``, i.e. the rows of the output with
    their phases already side by side.  Only the other axes' phases remain strided copies.
    """
    nd = len(out_size)
    c_in, mult = weight.shape[:2]
    if x.shape[0] == 0 or mult == 0:
        return _output((x.shape[0], c_in * mult, *out_size), x.dtype, bias, False, out)
    x, weight, (stride, pad_before, dilation, out_size) = _lift(
        x, weight, (stride, 1), (pad_before, 0), (dilation, 1), (out_size, 1))
    n, _, *size = x.shape
    plan = _plan(x, weight.shape[2:], stride, pad_before, dilation, out_size)
    row, spans = plan.row, [a.span for a in plan.axes]
    last = plan.axes[-1]
    qd = math.prod(spans)
    offsets = plan.shift_offset
    # weight (C_in, mult, P', Q^d, s_last): P' the phase combinations of the leading axes
    lead = list(itertools.product(*(a.used for a in plan.axes[:-1])))
    where = {c: i for i, c in enumerate(lead)}
    wd = np.zeros((c_in, mult, len(lead), *spans, last.s), dtype=x.dtype)
    for t, (ci, sh) in enumerate(zip(plan.tap_phase, plan.tap_shift, strict=True)):
        combo = plan.combos[ci]
        at: Index = (slice(None), slice(None), where[combo[:-1]], *sh, combo[-1])
        wd[at] = weight.reshape(c_in, mult, -1)[:, :, t]
    wd = wd.reshape(c_in, mult, len(lead), qd, last.s)
    covered = all(_covers(a) for a in plan.axes[:-1]) and _covers(last, every_phase=True)
    c_out = c_in * mult
    y = _output((n, c_out, *out_size), x.dtype, bias, covered, out)
    tail = [*plan.grid[1:-1], plan.grid[-1] * last.s]  # inner axes, the last one interleaved
    rows_per = _rows_per_block(max(qd + 1, mult * len(lead) * last.s) * row, plan.grid[0],
                                row)
    xb = _scratch("rows", (c_in, rows_per + spans[0], n, *plan.grid[1:]), x.dtype)
    cols = _scratch("cols", (c_in, qd, rows_per * row), x.dtype)
    ones, head = [1] * len(size), [1 - q for q in spans]
    gemm = _scratch("gemm", (c_in, mult, len(lead), rows_per * row, last.s), x.dtype)
    for r0 in range(0, plan.grid[0], rows_per):
        r1 = min(plan.grid[0], r0 + rows_per)
        length = (r1 - r0) * row
        block = cols[:, :, :length]
        out = gemm.reshape(-1)[:gemm[..., :length, :].size].reshape(c_in, mult, len(lead),
                                                                   length, last.s)

        xc = xb[:, :r1 - r0 + spans[0]]

        def work(cs: slice, r0: int = r0, r1: int = r1, block: np.ndarray = block,
                 out: np.ndarray = out, xc: np.ndarray = xc) -> None:
            _gather_rows(x, xc, cs, m0=r0, steps=ones, offsets=head)
            _shifted_copies(xc.reshape(c_in, -1), offsets, 0, block, cs)
            # (c, 1, 1, rows, Q^d) @ (c, mult, P', Q^d, s) -> (c, mult, P', rows, s)
            r = np.matmul(block[cs].transpose(0, 2, 1)[:, None, None], wd[cs], out=out[cs])
            osl = slice(cs.start * mult, cs.stop * mult)
            for pi, combo in enumerate(lead):
                src = r[:, :, pi].reshape(-1, r1 - r0, n, *tail)
                pairs = []
                for ax, (a, rho) in enumerate(zip(plan.axes[:-1], combo, strict=True)):
                    count = src.shape[1] if ax == 0 else src.shape[ax + 2]
                    p = _grid_slices(a, rho, r0 if ax == 0 else 0, count)
                    if p is None:
                        break
                    pairs.append(p)
                else:
                    pairs.append(_folded_slices(last, plan.grid[-1]))
                    _put(y, src, pairs, osl, bias)

        _split(c_in, block.size * (1 + mult * len(lead) * last.s // qd), work)
    return y[:, :, 0] if nd == 1 else y


# Rough single-core costs in units of one multiply-add of a large BLAS GEMM (~0.01 ns): per
# element, a contiguous copy ~25, a gather from the input ~70, a contiguous add ~35, an
# interleave into the output ~70, a permuted weight copy ~250; per NumPy call ~2 µs, per BLAS
# call ~1 µs.  They are measured, not derived; only their ratios matter.
_COPY, _GATHER, _ADD, _PUT, _WEIGHT, _CALL, _BLAS = 25, 70, 35, 70, 250, 200_000, 100_000
_ACC = 4
# per multiply-add of a register tile, relative to BLAS at its best; per weight element swapped
_TILE, _SWAP = 1.15, 10


def _gemm_cost(batch: int, m: int, k: int, cols: int) -> float:
    # ``batch`` products (m, k) @ (k, cols): BLAS slows down when m or k is too small to fill
    # its register blocks, and every output element is written once.
    per = m * k * cols * (1 + 16 / max(m, 1)) * (1 + 24 / max(k, 1)) + 20 * m * cols
    return batch * (per + _BLAS)


def transpose_costs(
    x_shape: Sequence[int],
    weight_shape: Sequence[int],
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
    groups: int,
    out_size: Sequence[int],
) -> dict[str, float]:
    """Estimated costs of the transposed-convolution kernels, keyed by function name."""
    return dict(_costs_of(tuple(x_shape), tuple(weight_shape), tuple(stride),
                          tuple(pad_before), tuple(dilation), groups, tuple(out_size),
                          _blas.available(), _tiles.available(np.float32)))


def _tile_cost(m: int, k: int, taps: int, cols: int) -> float:
    # One register-tile call (see _tiles): whole 4-row tiles and 96-column tiles, a fixed
    # cost per tile (accumulators loaded and stored) against its taps*k steps.
    rows, width, steps = -(-m // 4) * 4, -(-cols // 96) * 96, taps * k
    # With few rows a tile step is bound by its NV vector loads, not its rows*NV FMAs.
    return (rows * width * steps * _TILE * (1 + 32 / steps) * (1 + 2 / m) + 20 * m * cols
            + 20 * _CALL)


@functools.lru_cache(maxsize=256)
def _costs_of(
    x_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    stride: tuple[int, ...],
    pad_before: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    out_size: tuple[int, ...],
    blas_acc: bool,  # part of the cache key: whether accumulated products are available
    tiles: bool,  # and whether the compiled register tiles are
) -> tuple[tuple[str, float], ...]:
    n, c_in, *size = x_shape
    cout_g, *k_size = weight_shape[1:]
    c_out, cin_g, k = cout_g * groups, c_in // groups, math.prod(k_size)
    axes = [_transpose_axis(*a) for a in zip(k_size, stride, dilation, pad_before, size,
                                             out_size, strict=True)]
    if len(axes) == 1:  # lifted to 2-d
        axes = [_transpose_axis(1, 1, 1, 0, 1, 1), *axes]
    inner = math.prod(a.size + a.span - 1 for a in axes[1:])
    x_len = n * axes[0].size * inner  # GEMM columns of GEMM + col2im
    grid = n * (axes[0].size + axes[0].span - 1) * inner  # GEMM columns of the sub-pixel GEMM
    qd = math.prod(a.span for a in axes)
    phases = math.prod(len(a.used) for a in axes)
    out = n * c_out * math.prod(out_size)
    blocks = max(1, max(c_out * k, c_in) * x_len // MAX_COLUMN_ELEMENTS)
    costs = {
        "conv_transpose_forward":
            _gemm_cost(groups, cout_g * k, cin_g, x_len) + _GATHER * c_in * x_len
            + _ADD * c_out * k * x_len + (_PUT + _COPY) * out  # interleave, clear the ring
            + _CALL * blocks * (k + phases + 4),
    }
    blocks = max(1, max(c_in * (qd + 1), c_out * phases) * grid // MAX_COLUMN_ELEMENTS)
    # im2col copies, or (accumulated products) the output block re-read once per extra shift
    acc = blas_acc and _use_acc(groups, c_in, qd)
    shifts = (_ACC * (qd - 1) * c_out * phases if acc
              else _COPY * (qd if qd > 1 else 0) * c_in) * grid
    costs["conv_transpose_phases"] = (
        _gemm_cost(groups, cout_g * phases, cin_g * qd, grid) + _GATHER * c_in * grid
        + shifts + _PUT * out
        + _WEIGHT * c_in * cout_g * phases * qd
        + _CALL * blocks * (qd + phases + 4))
    if tiles and groups == 1:  # each phase's own taps only, the weight swapped once
        blocks = max(1, c_out * phases * grid // MAX_COLUMN_ELEMENTS)
        per_phase = [k // phases] * phases  # (taps per phase, on average)
        # (each phase only over the grid rows it writes: about L of L + Q - 1)
        costs["conv_transpose_phases"] = (
            blocks * sum(_tile_cost(c_out, c_in, t, x_len // blocks) for t in per_phase)
            + _SWAP * c_in * c_out * k + _GATHER * c_in * grid + _PUT * out
            + _CALL * blocks * (phases + 4))
    if cin_g == 1 and axes[-1].s > 1:
        # per channel and phase of the leading axes: (rows, Q^d) @ (Q^d, s), memory-bound
        lead = phases // len(axes[-1].used)
        costs["conv_transpose_depthwise"] = (
            _GATHER * c_in * grid + _COPY * qd * c_in * grid
            + 8 * (qd + axes[-1].s) * c_out * lead * grid + _PUT * out
            + _BLAS * c_out * lead + _CALL * blocks * (qd + lead + 4))
    return tuple(costs.items())


# ---------------------------------------------------------------------------------------------
# Gradients and helpers of the explicit methods


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
