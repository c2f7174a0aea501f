"""The compiled register-tile kernel (upconv.ops._tiles) against NumPy sums of products, and the
layers that use it against PyTorch.  numba is part of the test install: nothing here skips."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import example, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from test_speed_paths import tile_settings, tiles

tl = importlib.import_module("upconv.ops._tiles")
gemm = importlib.import_module("upconv.ops._gemm")


def test_available_with_numba_for_floating_types_only(monkeypatch):
    monkeypatch.delenv("UPCONV_TILES", raising=False)
    assert tl.available(np.float32) and tl.available(np.float64)
    assert not tl.available(np.float16) and not tl.available(np.int64)
    monkeypatch.setenv("UPCONV_TILES", "0")
    assert not tl.available(np.float32)


@st.composite
def sums(draw):
    """A sum of shifted products: weight layout, offsets, views with wide rows, threads."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m = draw(st.integers(1, 23))
    k = draw(st.integers(1, 40))
    taps = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 300))  # tails of every width, one to several column tiles
    ldx = cols + draw(st.integers(0, 20))
    rows = k + draw(st.integers(0, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((rows, ldx + draw(st.integers(0, 3)))).astype(dtype)[:, :ldx]
    # shifts that may run past the end of a row into the next one
    span = (rows - k) * ldx + ldx - cols
    offsets = np.array([draw(st.integers(0, span)) for _ in range(taps)], dtype=np.int64)
    total = taps + draw(st.integers(0, 3))
    chosen = draw(st.permutations(range(total)))[:taps]
    if draw(st.booleans()):  # convolution layout (M, K, T_all)
        w = rng.standard_normal((m, k, total)).astype(dtype)
        a = tl.weights(w, chosen, total, k * total, k, m)
        dense = np.stack([w[:, :, c].T for c in chosen])
    else:  # transposed-convolution layout (K, M, T_all)
        w = rng.standard_normal((k, m, total)).astype(dtype)
        a = tl.weights(w, chosen, m * total, total, k, m)
        dense = np.stack([w[:, :, c] for c in chosen])
    pad = draw(st.integers(0, 5))
    whole = rng.standard_normal((m, cols + 2 * pad)).astype(dtype)
    return dict(a=a, dense=dense, x=x, offsets=offsets, whole=whole, pad=pad, cols=cols,
                accumulate=draw(st.booleans()), threads=draw(st.integers(1, 3)),
                by_rows=draw(st.booleans()), k_block=draw(st.sampled_from([1, 7, 256])),
                vectors=draw(st.sampled_from([None, 4, 5, 6])))  # None: as gemm picks


def reference(case):
    x, cols = case["x"], case["cols"]
    flat = x.base.reshape(-1) if x.base is not None else x.reshape(-1)
    ld = x.strides[0] // x.itemsize
    total = 0
    for dense_t, off in zip(case["dense"], case["offsets"], strict=True):
        rows = np.stack([flat[off + c * ld: off + c * ld + cols] for c in range(dense_t.shape[0])])
        total = total + dense_t.T.astype(np.float64) @ rows.astype(np.float64)
    return total


@given(sums())
def test_gemm_matches_the_sum_of_products(case):
    x, whole, pad, cols = case["x"], case["whole"], case["pad"], case["cols"]
    out = whole[:, pad:pad + cols]
    before = whole.copy()
    keep = frozen(x, case["a"].data)
    want = reference(case) + (before[:, pad:pad + cols] if case["accumulate"] else 0)
    old = (upconv.get_num_threads(), tl.MIN_MACS_PER_THREAD, tl.MIN_COLUMN_TILES,
           tl.K_BLOCK_ROWS, tl._vectors)
    try:
        upconv.set_num_threads(case["threads"])
        if case["vectors"]:  # register tiles of this many vectors of columns
            tl._vectors = lambda lanes, columns: case["vectors"]
        tl.MIN_MACS_PER_THREAD = 1  # threads even for these small sums
        tl.MIN_COLUMN_TILES = 1 << 30 if case["by_rows"] else 0  # rows: if more row tiles
        tl.K_BLOCK_ROWS = case["k_block"]  # several channel blocks, accumulated
        tl.gemm(case["a"], x, case["offsets"], out, accumulate=case["accumulate"])
    finally:
        upconv.set_num_threads(old[0])
        tl.MIN_MACS_PER_THREAD, tl.MIN_COLUMN_TILES, tl.K_BLOCK_ROWS, tl._vectors = old[1:]
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    # nothing outside the columns of ``out`` is written
    np.testing.assert_array_equal(whole[:, :pad], before[:, :pad])
    np.testing.assert_array_equal(whole[:, pad + cols:], before[:, pad + cols:])
    assert_unchanged(keep, x, case["a"].data)


def test_tiles_narrow_to_fit_short_columns():
    # gemm's register tiles take 4-6 vectors of columns: the fewest lanes computed, narrower
    # tiles only when they save lanes (16 float32 lanes a vector)
    assert tl._vectors(16, (72,)) == 5  # 80 lanes, not 96
    assert tl._vectors(16, (64,)) == tl._vectors(16, (60, 33)) == 4
    assert tl._vectors(16, (272,)) == tl._vectors(16, (1000,)) == 6
    assert tl._vectors(8, (40,)) == 5 and tl._vectors(8, (48,)) == 6
    # a last tile of one or two vectors takes only those: 196 columns as 2 x 6 + 1 vectors
    assert tl._vectors(16, (196,)) == 6 and tl._tile_cost(196, 16, 6) == 2 * 7 + 2
    assert tl._tile_cost(196, 16, 5) == 2 * 6 + 6  # (a last tile of 3 vectors: all 5)


@given(st.lists(st.tuples(st.integers(1, 70), st.integers(1, 900), st.integers(1, 9)),
                min_size=1, max_size=5), st.integers(1, 4), st.sampled_from([1, 8]))
@example([(64, 1056, 1), (64, 1056, 2), (64, 1056, 2), (64, 1056, 4)], 2, 8)  # k3 s2's phases
def test_pieces_cover_each_problem_once_in_balanced_shares(problems, threads, min_tiles):
    # gemm_many's split of its problems (rows, columns, taps) over threads: every entry of
    # every problem in exactly one piece, and no thread's cost more than one unit (a column
    # tile, or a row tile for problems of few columns) above an equal share.
    width = 96
    costs = tuple((m, cols, m * cols * taps) for m, cols, taps in problems)
    chunks, starts = tl._pieces(costs, threads, width, min_tiles)
    assert len(starts) == threads + 1 and starts[0] == 0 and starts[-1] == len(chunks)
    seen = [np.zeros((m, cols), int) for m, cols, _ in problems]
    loads = []
    for th in range(threads):
        load = 0.0
        for p, i0, i1, j0, j1 in chunks[starts[th]:starts[th + 1]]:
            assert i0 < i1 and j0 < j1
            seen[p][i0:i1, j0:j1] += 1
            load += (i1 - i0) * (j1 - j0) * problems[p][2]
        loads.append(load)
    assert all((s == 1).all() for s in seen)
    few = [threads > 1 and -(-c // width) < min_tiles and -(-m // tl.MR) > -(-c // width)
           for m, c, _ in problems]  # split by row tiles
    unit = max(tl.MR * c * taps if rows else m * min(c, width) * taps
               for (m, c, taps), rows in zip(problems, few, strict=True))
    # (each thread's share ends at the unit boundary nearest to its equal share's end)
    assert max(loads) <= sum(loads) / threads + unit + 1e-9


@st.composite
def many(draw):
    """Several sums over one shared ``x``: each its own weight, taps, rows and columns."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    k = draw(st.integers(1, 12))
    ldx = draw(st.integers(1, 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((k + 2, ldx)).astype(dtype)
    problems, dense = [], []
    for _ in range(draw(st.integers(1, 4))):
        m, taps = draw(st.integers(1, 13)), draw(st.integers(0, 4))
        cols = draw(st.integers(0, ldx))
        offsets = np.array([draw(st.integers(0, 2 * ldx + ldx - cols)) for _ in range(taps)],
                           dtype=np.int64)
        w = rng.standard_normal((m, k, max(taps, 1))).astype(dtype)
        problems.append((tl.weights(w, range(taps), max(taps, 1), k * max(taps, 1), k, m),
                         offsets, rng.standard_normal((m, cols)).astype(dtype)))
        dense.append([w[:, :, t].T for t in range(taps)])
    return dict(x=x, problems=problems, dense=dense, accumulate=draw(st.booleans()),
                threads=draw(st.integers(1, 3)))


@given(many())
def test_gemm_many_is_each_gemm(case):
    # One compiled call for several problems (the output phases of a transposed convolution),
    # their pieces balanced over threads: every problem gets exactly its own sum; problems
    # without taps are zero (or left as they were, accumulating).
    x = case["x"]
    flat, ld = x.reshape(-1), x.shape[1]
    wants = []
    for (_, offsets, out), dense in zip(case["problems"], case["dense"], strict=True):
        total = np.zeros(out.shape)
        for d, off in zip(dense, offsets, strict=True):
            rows = np.stack([flat[off + c * ld: off + c * ld + out.shape[1]]
                             for c in range(d.shape[0])])
            total = total + d.T.astype(np.float64) @ rows.astype(np.float64)
        wants.append(total + (out if case["accumulate"] else 0))
    old = upconv.get_num_threads(), tl.MIN_MACS_PER_THREAD
    try:
        upconv.set_num_threads(case["threads"])
        tl.MIN_MACS_PER_THREAD = 1
        tl.gemm_many(case["problems"], x, accumulate=case["accumulate"])
    finally:
        upconv.set_num_threads(old[0])
        tl.MIN_MACS_PER_THREAD = old[1]
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    for (_, _, out), want in zip(case["problems"], wants, strict=True):
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol)


def test_reads_outside_the_operands_are_refused():
    x = np.zeros((3, 10), np.float32)
    a = tl.weights(np.ones((2, 3, 1), np.float32), [0], 1, 3, 3, 2)
    out = np.zeros((2, 5), np.float32)
    tl.gemm(a, x, np.array([5]), out)  # last read: 5 + 2*10 + 4 = 29, the last element
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm(a, x, np.array([6]), out)
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm(a, x, np.array([-1]), out)
    with pytest.raises(ValueError, match="leave the weight"):
        tl.weights(np.ones((2, 3, 1), np.float32), [1], 1, 3, 3, 2)
    with pytest.raises(ValueError, match="do not match"):
        tl.gemm(a, x.astype(np.float64), np.array([0]), out)
    with pytest.raises(ValueError, match="do not match"):
        tl.gemm(a, x, np.array([0]), np.zeros((3, 5), np.float32))


@st.composite
def position_sums(draw):
    """A positions-kernel sum: input positions anywhere, some skipped, outputs anywhere."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    kc, taps = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    cols = draw(st.integers(1, 150))  # one to several column tiles, every tail width
    tile = tl.position_tile(dtype, cols)
    m = tile * draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_stride = draw(st.integers(1, 60))
    x = rng.standard_normal(kc * c_stride + 80).astype(dtype)
    pos = rng.integers(0, c_stride + 40, m)
    offs = rng.integers(0, 40, taps)
    w = rng.standard_normal((kc, taps, cols)).astype(dtype)
    # outputs: (J, P) transposed, positions in order (whole runs) or shuffled, some skipped
    p = m + draw(st.integers(0, 4))
    at = np.arange(m) if draw(st.booleans()) else rng.permutation(p)[:m]
    if draw(st.booleans()):
        at = np.where(rng.random(m) < 0.3, -1, at)
    return dict(x=x, pos=pos, offs=offs, c_stride=c_stride, w=w, at=at, p=p,
                threads=draw(st.integers(1, 3)), k_block=draw(st.sampled_from([1, 7, 1 << 16])),
                out_block=draw(st.sampled_from([1, 100, 1 << 13])))


@given(position_sums())
def test_gemm_positions_is_its_sum(case):
    # Against float64 NumPy: every channel block, block of positions and copy-out path (runs
    # of positions in order, scattered ones, skipped ones: those stay untouched).
    x, w, at, pos = case["x"], case["w"], case["at"], case["pos"]
    kc, taps, cols = w.shape
    idx = pos[:, None, None] + case["offs"][None, None, :] + case["c_stride"] * np.arange(kc)[
        None, :, None]
    want = np.einsum("pct,ctj->pj", x[idx].astype(np.float64), w.astype(np.float64))
    out = np.full((cols, case["p"]), np.nan, dtype=x.dtype)
    keep = frozen(x), frozen(w)
    old = (upconv.get_num_threads(), tl.MIN_MACS_PER_THREAD, tl.POSITIONS_BLOCK_ELEMENTS,
           tl.POSITIONS_OUT_ELEMENTS, tl.POOL_MIN_MACS_PER_THREAD)
    seen = []
    try:
        upconv.set_num_threads(case["threads"])
        tl.MIN_MACS_PER_THREAD = tl.POOL_MIN_MACS_PER_THREAD = 1
        tl.POSITIONS_BLOCK_ELEMENTS = case["k_block"] * taps * 64
        tl.POSITIONS_OUT_ELEMENTS = case["out_block"]
        tl.gemm_positions(x, pos, case["offs"], case["c_stride"], w, out, at, case["p"],
                          then=lambda p0, p1: seen.append((p0, p1)))
    finally:
        upconv.set_num_threads(old[0])
        (tl.MIN_MACS_PER_THREAD, tl.POSITIONS_BLOCK_ELEMENTS, tl.POSITIONS_OUT_ELEMENTS,
         tl.POOL_MIN_MACS_PER_THREAD) = old[1:]
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    written = at >= 0
    np.testing.assert_allclose(out[:, at[written]].T, want[written], rtol=tol, atol=tol)
    assert np.isnan(out).sum() == cols * (case["p"] - written.sum())  # nothing else written
    assert sorted(seen)[0][0] == 0 and sorted(seen)[-1][1] == len(pos)  # then: every range
    assert sum(b - a for a, b in seen) == len(pos)
    assert_unchanged(keep[0], x)
    assert_unchanged(keep[1], w)


def test_gemm_positions_refuses_reads_and_writes_outside():
    tile = tl.position_tile(np.float32, 2)
    x, w = np.zeros(30, np.float32), np.ones((2, 1, 2), np.float32)
    pos, at, out = np.zeros(tile, np.int64), np.arange(tile), np.zeros((2, tile), np.float32)
    tl.gemm_positions(x, pos + 19, np.array([0]), 10, w, out, at, tile)  # reads 19 and 29
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm_positions(x, pos + 20, np.array([0]), 10, w, out, at, tile)
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm_positions(x, pos, np.array([-1]), 10, w, out, at, tile)
    with pytest.raises(ValueError, match="leave out"):
        tl.gemm_positions(x, pos, np.array([0]), 10, w, out, at + 1, tile)
    with pytest.raises(ValueError, match="do not match"):
        tl.gemm_positions(x, pos[1:], np.array([0]), 10, w, out, at[1:], tile)
    with pytest.raises(ValueError, match="dtypes"):
        tl.gemm_positions(x.astype(np.float64), pos, np.array([0]), 10, w, out, at, tile)


@st.composite
def segment_sums(draw):
    """A segments-kernel sum: segments read anywhere in x, written anywhere in out."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m, k, taps = draw(st.integers(1, 13)), draw(st.integers(1, 9)), draw(st.integers(0, 5))
    length = draw(st.integers(1, 200))  # one to several chunks, every tail width
    ldx = length + draw(st.integers(0, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((k + 2, ldx)).astype(dtype)
    offsets = rng.integers(0, ldx, taps)
    w = rng.standard_normal((m, k, max(taps, 1))).astype(dtype)
    a = tl.weights(w, range(taps), max(taps, 1), k * max(taps, 1), k, m)
    # segments at distinct places of out (rows m apart by ldc), read from anywhere in x
    segments = draw(st.integers(1, 12))
    spare = draw(st.integers(0, 3))
    ldc = (segments + spare) * length + draw(st.integers(0, 7))
    slots = rng.permutation(segments + spare)[:segments]
    out_starts = slots * length
    x_starts = rng.integers(0, ldx + 1, segments)
    return dict(x=x, a=a, w=w, offsets=offsets, x_starts=x_starts, out_starts=out_starts,
                length=length, ldc=ldc, m=m, accumulate=draw(st.booleans()),
                threads=draw(st.integers(1, 3)))


@given(segment_sums())
def test_gemm_segments_is_its_sum(case):
    # Against float64 NumPy: every segment's rows land at its start, channel stride ldc,
    # added to what was there when accumulating; nothing else in out is written.
    x, w, length, ldc, m = case["x"], case["w"], case["length"], case["ldc"], case["m"]
    flat, ld = x.reshape(-1), x.shape[1]
    out = np.random.default_rng(1).standard_normal(m * ldc).astype(x.dtype)
    before = out.copy()
    want = before.astype(np.float64).copy()
    mask = np.zeros(out.size, bool)
    for xs, os_ in zip(case["x_starts"], case["out_starts"], strict=True):
        total = np.zeros((m, length))
        for tap, off in enumerate(case["offsets"]):
            rows = np.stack([flat[xs + off + c * ld: xs + off + c * ld + length]
                             for c in range(w.shape[1])])
            total = total + w[:, :, tap].astype(np.float64) @ rows.astype(np.float64)
        for i in range(m):
            at = slice(os_ + i * ldc, os_ + i * ldc + length)
            want[at] = total[i] + (want[at] if case["accumulate"] else 0)
            mask[at] = True
    keep = frozen(x, w)
    old = upconv.get_num_threads(), tl.MIN_MACS_PER_THREAD
    try:
        upconv.set_num_threads(case["threads"])
        tl.MIN_MACS_PER_THREAD = 1
        tl.gemm_segments(case["a"], x, case["offsets"], case["x_starts"], out,
                         case["out_starts"], length, ldc, accumulate=case["accumulate"])
    finally:
        upconv.set_num_threads(old[0])
        tl.MIN_MACS_PER_THREAD = old[1]
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out[mask], want[mask], rtol=tol, atol=tol)
    np.testing.assert_array_equal(out[~mask], before[~mask])
    assert_unchanged(keep, x, w)


def test_gemm_segments_refuses_reads_and_writes_outside():
    x, out = np.zeros((2, 10), np.float32), np.zeros(20, np.float32)
    a = tl.weights(np.ones((2, 2, 1), np.float32), [0], 1, 2, 2, 2)  # 2 rows, 2 channels
    one = np.array([0])
    tl.gemm_segments(a, x, np.array([6]), one, out, np.array([6]), 4, 10)  # reads 6..19
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm_segments(a, x, np.array([7]), one, out, one, 4, 10)
    with pytest.raises(ValueError, match="leave x"):
        tl.gemm_segments(a, x, np.array([0]), np.array([-1]), out, one, 4, 10)
    with pytest.raises(ValueError, match="leave out"):  # row 1 ends at 7 + 10 + 4 = 21
        tl.gemm_segments(a, x, one, one, out, np.array([7]), 4, 10)
    with pytest.raises(ValueError, match="differ in length"):
        tl.gemm_segments(a, x, one, np.array([0, 1]), out, one, 4, 10)
    with pytest.raises(ValueError, match="dtypes"):
        tl.gemm_segments(a, x.astype(np.float64), one, one, out, one, 4, 10)


# (the last one large enough for threads)
@pytest.mark.parametrize("shape", [(3, 5, 2, 2), (7, 1, 3), (1, 4, 1), (64, 33, 9), (40, 37, 25)])
def test_swap_channels_is_the_transpose(shape):
    w = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    keep = frozen(w)
    np.testing.assert_array_equal(tl.swap_channels(w), np.swapaxes(w, 0, 1))
    assert tl.swap_channels(w).flags.c_contiguous
    assert_unchanged(keep, w)


@pytest.mark.parametrize("on", [True, False])
def test_layers_use_the_tiles_exactly_when_on(monkeypatch, on):
    # The decoder layer and its mirrored encoder layer, both kernels, against PyTorch; the
    # compiled tiles are called by each when on and never when off (UPCONV_TILES=0).
    calls = []
    real = tl.gemm_many  # (tl.gemm calls it too)
    monkeypatch.setattr(tl, "gemm_many", lambda *a, **k: (calls.append(1), real(*a, **k)))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 24, 12, 12)).astype(np.float32)
    w = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
    wc = rng.standard_normal((16, 24, 3, 3)).astype(np.float32)
    with tiles(on):
        y = gemm.conv_transpose_phases(x, w, None, (2, 2), (1, 1), (1, 1), 1, (24, 24))
        assert_close(y, F.conv_transpose2d(t(x), t(w), None, 2, 1, 1), np.float32)
        assert bool(calls) == on
        calls.clear()
        y = upconv.conv(x, wc, stride=2, padding=1)
        assert_close(y, F.conv2d(t(x), t(wc), None, 2, 1), np.float32)
    assert bool(calls) == on


# ---------------------------------------------------------------------------------------------
# The compiled interleave of output phases that goes with the tiles, against its NumPy path
# (and, through the layers, against PyTorch in test_speed_paths, which draws the tiles on and
# off).


@st.composite
def interleaves(draw):
    """A transposed convolution's output phases (any stride, dilation, padding, output
    padding, 1-3 axes) and a block of their grid rows to write into the output."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    nd = draw(st.integers(1, 3))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    size = draw(st.lists(st.integers(1, 6), min_size=nd, max_size=nd))
    k = draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd))
    s = draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    d = draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd))
    pb = [draw(st.integers(0, dd * (kk - 1))) for kk, dd in zip(k, d, strict=True)]
    out = [max(1, (i - 1) * ss + dd * (kk - 1) + 1 - p + draw(st.integers(-1, ss - 1)))
           for i, ss, dd, kk, p in zip(size, s, d, k, pb, strict=True)]
    if nd == 1:  # (the kernels see 1-d problems lifted to 2-d)
        size, k, s, d, pb, out = ([1, *v] for v in (size, k, s, d, pb, out))
    plan = gemm._plan_of(n, tuple(size), tuple(k), tuple(s), tuple(pb), tuple(d), tuple(out))
    g0 = draw(st.integers(0, plan.grid[0] - 1))
    rows = draw(st.integers(1, plan.grid[0] - g0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    src = rng.standard_normal((c, len(plan.combos), rows, n, *plan.grid[1:])).astype(dtype)
    if draw(st.booleans()):  # phase-major, as col2im's ring holds them
        src = np.ascontiguousarray(src.swapaxes(0, 1)).swapaxes(0, 1)
    c0 = draw(st.integers(0, c - 1))
    osl = slice(c0, draw(st.integers(c0 + 1, c)))
    bias = rng.standard_normal(c).astype(dtype) if draw(st.booleans()) else None
    return plan, src[osl], (n, c, *out), g0, osl, bias, draw(st.integers(1, 3))


@given(interleaves())
def test_compiled_interleave_is_the_numpy_interleave(case):
    # (compiled: in one thread, or its channels over ``parts`` of numba's threads)
    plan, src, shape, g0, osl, bias, parts = case
    want, got = np.full(shape, 7.0, src.dtype), np.full(shape, 7.0, src.dtype)
    with tiles(False):
        gemm._interleave_all(want, src, plan, g0, osl, bias)
    with tiles(True):
        gemm._interleave_all(got, src, plan, g0, osl, bias, parts)
    np.testing.assert_array_equal(got, want)  # outputs no phase row reaches keep their 7
    nb = importlib.import_module("upconv.ops._numba")
    assert nb._put_rows.signatures and (parts == 1 or nb._put_rows_par.signatures)


def test_no_numba_parallel_region_starts_in_a_pool_thread(monkeypatch):
    # A numba parallel region started from one of upconv's bound pool threads (the batch
    # shares of by_batch) left PyTorch's OpenMP calls about twice as slow for the rest of
    # the process: the kernels run there serially.  Layers whose batch is split over the
    # threads, with the tiles: no parallel launch from a thread in serial mode.
    par = importlib.import_module("upconv.ops._parallel")
    nb = importlib.import_module("upconv.ops._numba")
    launches = []
    real = nb.threads
    monkeypatch.setattr(nb, "threads", lambda: (launches.append(par._serial()), real()))
    monkeypatch.setattr(gemm, "MIN_BATCH_MACS", 0)
    monkeypatch.setattr(gemm, "MIN_BATCH_COLUMNS", 0)
    monkeypatch.setattr(tl, "MIN_MACS_PER_THREAD", 1)
    monkeypatch.setattr(tl, "SWAP_MIN_PARALLEL", 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 12, 12)).astype(np.float32)
    w = (0.1 * rng.standard_normal((16, 32, 4, 4))).astype(np.float32)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(2)
        with tiles(True):
            y = upconv.conv_transpose(x, w, stride=2, padding=1)
            yc = upconv.conv(y, w, stride=2, padding=1)
            launches_then = list(launches)
            tl.swap_channels(w)  # (in this thread: a parallel region)
    finally:
        upconv.set_num_threads(old)
    assert_close(y, F.conv_transpose2d(t(x), t(w), None, 2, 1).numpy(), np.float32)
    assert_close(yc, F.conv2d(t(y), t(w), None, 2, 1).numpy(), np.float32)
    assert not any(launches)  # never from a thread in serial mode
    assert launches[len(launches_then):] == [False]  # (the spy sees the launches)


# ---------------------------------------------------------------------------------------------
# matmul: a product through the tiles with its left operand a weight's view, read in place


@st.composite
def products(draw):
    """``a @ b`` with ``a`` a plain, transposed or sliced view and ``b`` a column slice."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m, k, n = draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.integers(1, 130))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    layout = draw(st.sampled_from(["plain", "transposed", "sliced"]))
    if layout == "plain":
        a = rng.standard_normal((m, k))
    elif layout == "transposed":  # (a conv_transpose weight (C_in, C_out*K) read as its .T)
        a = rng.standard_normal((k, m)).T
    else:
        a = rng.standard_normal((m + 3, 2 * k + 1))[2:2 + m, 1::2]
    extra = draw(st.integers(0, 5))
    b = rng.standard_normal((k, n + extra))[:, extra:]
    return a.astype(dtype), b.astype(dtype), draw(st.integers(1, 2))


@given(products())
def test_matmul_is_the_product(case):
    a, b, threads = case
    keep = frozen(a, b)
    out = np.full((a.shape[0], b.shape[1]), np.nan, a.dtype)
    with tile_settings(threads, MIN_MACS_PER_THREAD=1):
        assert tl.matmul(a, b, out) is out
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert_close(out, want, a.dtype)
    assert_unchanged(keep, a, b)


def test_matmul_refuses_mismatched_shapes():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"shapes \(3, 4\) @ \(4, 5\) -> \(3, 4\)"):
        tl.matmul(a, b, np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="shapes"):
        tl.matmul(a, b[:3], np.empty((3, 5), np.float32))


@pytest.mark.parametrize("batch", [1, 4])
def test_products_leave_blas_threads_alone_outside_upconvs_threads(monkeypatch, batch):
    # BLAS's threads spin for ~0.1 s after each threaded call and slowed the numba loops that
    # followed 10-50x: with the tiles on, the products that BLAS would have run on its own
    # threads (the k2 s2 and 1x1 layers, GEMM + col2im) go through tl.matmul, and only
    # products inside upconv's batch shares (single-threaded BLAS, the calling thread) stay
    # with BLAS.  Checked against PyTorch, with the split of the batch forced at batch 4.
    par = importlib.import_module("upconv.ops._parallel")
    calls = []
    real = tl.matmul
    monkeypatch.setattr(tl, "matmul", lambda *a: (calls.append(par._serial()), real(*a))[1])
    monkeypatch.setattr(gemm, "MIN_BATCH_MACS", 0 if batch > 1 else 1 << 62)
    monkeypatch.setattr(gemm, "MIN_BATCH_COLUMNS", 0)
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 16, 10, 10)).astype(np.float32)
    w2 = (0.1 * rng.standard_normal((16, 24, 2, 2))).astype(np.float32)
    w1 = (0.1 * rng.standard_normal((8, 16, 1, 1))).astype(np.float32)
    w4 = (0.1 * rng.standard_normal((16, 8, 4, 4))).astype(np.float32)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(2)
        with tiles(True):
            y2 = upconv.conv_transpose(x, w2, stride=2, method="auto")
            y1 = upconv.conv(x, w1)
            yc = upconv.conv(x, np.swapaxes(w2, 0, 1).copy(), stride=2)
            y4 = gemm.by_samples(gemm.conv_transpose_forward, x, w4, None, (2, 2), (1, 1),
                                 (1, 1), 1, (20, 20), c_out=8)
    finally:
        upconv.set_num_threads(old)
    assert_close(y2, F.conv_transpose2d(t(x), t(w2), None, 2).numpy(), np.float32)
    assert_close(y1, F.conv2d(t(x), t(w1)).numpy(), np.float32)
    assert_close(yc, F.conv2d(t(x), t(np.swapaxes(w2, 0, 1).copy()), None, 2).numpy(),
                 np.float32)
    assert_close(y4, F.conv_transpose2d(t(x), t(w4), None, 2, 1).numpy(), np.float32)
    if batch == 1:  # every product on numba's threads
        assert len(calls) >= 4 and not any(calls)
    else:  # the batch split over upconv's threads: BLAS there, in the calling thread
        assert not calls


@pytest.mark.parametrize("shape, k, s, min_row", [
    ((2, 12, 9, 7), 2, 2, 1 << 30),  # k = s: each tap its own phase, interleaved as it lies
    ((2, 12, 9, 7), 4, 2, 1),  # overlapping taps, compiled col2im
    ((2, 12, 9, 7), 3, 2, 1 << 30),  # overlapping taps, the ring of phase buffers
    ((3, 12, 1, 40), 4, 2, 1),  # (1-d as 2-d) compiled col2im
])
def test_passes_after_the_tiles_product_stay_on_numbas_threads(monkeypatch, shape, k, s,
                                                                min_row):
    # After a product through the tiles (numba's threads, still spinning), GEMM + col2im's
    # next pass runs on numba's threads as well (the interleave, the compiled col2im: shares
    # of the channels) or in this thread (the ring's adds): upconv's pool threads waited
    # behind numba's.  Forced into shares here, against PyTorch.
    nb = importlib.import_module("upconv.ops._numba")
    monkeypatch.setattr(gemm, "MIN_PUT_ELEMENTS", 1)
    monkeypatch.setattr(gemm, "MIN_COL2IM_ELEMENTS", 1)
    monkeypatch.setattr(gemm, "COL2IM_MIN_ROW", min_row)
    monkeypatch.setattr(tl, "MIN_MACS_PER_THREAD", 1)
    launched = []
    real = nb.launch
    monkeypatch.setattr(nb, "launch", lambda kernel, *a: (launched.append(kernel), real(
        kernel, *a))[1])
    pool = importlib.import_module("upconv.ops._parallel")
    split = []
    real_split = gemm._split
    monkeypatch.setattr(gemm, "_split", lambda *a: (split.append(a[0]), real_split(*a))[1])
    rng = np.random.default_rng(k)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (0.1 * rng.standard_normal((12, 8, 1 if shape[2] == 1 else k, k))).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    out = [(shape[2] - 1) * s + w.shape[2] - 2 * (w.shape[2] > 1), (shape[3] - 1) * s + k - 2]
    pads = (1 if w.shape[2] > 1 else 0, 1)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(2)
        with tiles(True):
            assert not pool._serial()
            y = gemm.conv_transpose_forward(x, w, b, (1 if shape[2] == 1 else s, s), pads,
                                            (1, 1), 1, out)
    finally:
        upconv.set_num_threads(old)
    want = F.conv_transpose2d(t(x), t(w), t(b), (1 if shape[2] == 1 else s, s), pads)
    assert_close(y, want.numpy(), np.float32)
    names = [getattr(kernel, "__name__", str(kernel)) for kernel in launched]
    assert "run_par" in names  # the product, on numba's threads
    passes = {"_put_rows_par", "_col2im_rows_par"} & set(names)
    if k == 3:  # the ring: no launch after the product, and no hand-off to the pool either
        assert not passes
    else:
        assert len(passes) == 1
    assert split == [12]  # (only the gather of the input rows went through the pool split)


def test_grouped_convolution_takes_the_tiles_one_problem_per_group(monkeypatch):
    # A grouped convolution with enough multiply-adds per group goes through one gemm_many
    # call with a problem per group (BLAS's threads spin after each call), against PyTorch;
    # with few, BLAS as before.
    calls = []
    real = tl.gemm_many
    monkeypatch.setattr(tl, "gemm_many", lambda problems, *a, **k: (
        calls.append(len(problems)), real(problems, *a, **k))[1])
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 24, 15, 15)).astype(np.float32)
    w = (0.1 * rng.standard_normal((36, 8, 3, 3))).astype(np.float32)
    b = rng.standard_normal(36).astype(np.float32)
    with tiles(True):
        monkeypatch.setattr(gemm, "GROUP_TILES_MACS", 1)
        y = upconv.conv(x, w, b, stride=2, padding=1, groups=3)
        assert calls and set(calls) == {3}
        calls.clear()
        monkeypatch.setattr(gemm, "GROUP_TILES_MACS", 1 << 40)
        y2 = upconv.conv(x, w, b, stride=2, padding=1, groups=3)
        assert not calls
    want = F.conv2d(t(x), t(w), t(b), 2, 1, 1, 3).numpy()
    assert_close(y, want, np.float32)
    assert_close(y2, want, np.float32)
