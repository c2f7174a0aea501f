"""The fast kernels behind ``method="auto"`` (upconv.ops._gemm) against PyTorch.

``auto`` picks one kernel per shape by a cost estimate, so the public tests only ever see
the kernel that wins there.  These tests call every kernel on every shape: the three
transposed-convolution kernels (GEMM + col2im, sub-pixel GEMM, per-channel products for one
input channel per group) and the convolution (input phases + im2col), with small blocks so
that the block loops, the ring of phase buffers and the scratch buffers are exercised too.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, env_var, frozen, t

gemm = importlib.import_module("upconv.ops._gemm")

TORCH_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
TORCH_C = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
MAX_SIZE = {1: 9, 2: 6, 3: 4}
TRANSPOSED = ["conv_transpose_forward", "conv_transpose_phases"]


@contextmanager
def settings(**values: int) -> Iterator[None]:
    """Module constants of the kernels set to ``values`` for the duration."""
    old = {name: getattr(gemm, name) for name in values}
    for name, value in values.items():
        setattr(gemm, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(gemm, name, value)


@contextmanager
def tile_settings(threads: int, **values: object) -> Iterator[None]:
    """upconv's thread count and constants (or functions) of upconv.ops._tiles, for the
    duration."""
    tl = importlib.import_module("upconv.ops._tiles")
    old = upconv.get_num_threads(), {name: getattr(tl, name) for name in values}
    upconv.set_num_threads(threads)
    for name, value in values.items():
        setattr(tl, name, value)
    try:
        yield
    finally:
        upconv.set_num_threads(old[0])
        for name, value in old[1].items():
            setattr(tl, name, value)


@contextmanager
def tiles(on: bool) -> Iterator[None]:
    """The compiled register tiles (upconv.ops._tiles) on, or off: the NumPy/BLAS paths."""
    with env_var("UPCONV_TILES", "1" if on else "0"):
        yield


@contextmanager
def block_budget(elements: int) -> Iterator[None]:
    """Blocks of at most ``elements`` (1: one grid row per block) inside the kernels.

    Below the default budget the minimum block widths go too, so that the small shapes of
    these tests are really cut into several blocks (two levels of them in ``conv_forward``).
    """
    small = elements < gemm.MAX_COLUMN_ELEMENTS
    with settings(MAX_COLUMN_ELEMENTS=elements,
                  MIN_BLOCK_COLUMNS=1 if small else gemm.MIN_BLOCK_COLUMNS,
                  SMALL_CONV_MIN_COLUMNS=1 if small else gemm.SMALL_CONV_MIN_COLUMNS):
        yield


def dims(draw, nd: int, lo: int, hi: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


@st.composite
def transpose_cases(draw, depthwise: bool = False):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    cin = groups if depthwise else groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    k = dims(draw, nd, 1, 5)
    stride = dims(draw, nd, 1, 4)
    dil = dims(draw, nd, 1, 3)
    size = dims(draw, nd, 1, MAX_SIZE[nd])
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil, strict=True))
    pads = []
    for s, i, d, kk, a in zip(stride, size, dil, k, op, strict=True):
        room = s * (i - 1) + d * (kk - 1) + a  # the output keeps at least one element
        before = draw(st.integers(0, min(4, room)))
        pads.append((before, draw(st.integers(0, min(4, room - before)))))
    return dict(nd=nd, groups=groups, cin=cin, cout=cout, k=k, stride=stride, dilation=dil,
                output_padding=op, pairs=tuple(pads), size=size,
                batch=draw(st.integers(1, 3)), bias=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                budget=draw(st.sampled_from([1, 50, 1000, 1 << 21])),
                tiles=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


def transpose_reference(case, x, w, b):
    """PyTorch with padding 0, cropped by the (before, after) pairs."""
    y = TORCH_T[case["nd"]](t(x), t(w), None if b is None else t(b), case["stride"], 0,
                            case["output_padding"], case["groups"], case["dilation"])
    crop = tuple(slice(p, y.shape[2 + ax] - q) for ax, (p, q) in enumerate(case["pairs"]))
    return y[(..., *crop)]


def case_arrays(case, *, transposed: bool = True):
    """Input, weight (the transposed or the direct layout) and optional bias of ``case``."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["batch"], case["cin"], *case["size"])).astype(case["dtype"])
    g = case["groups"]
    shape = (case["cin"], case["cout"] // g) if transposed else (case["cout"], case["cin"] // g)
    w = rng.standard_normal((*shape, *case["k"])).astype(case["dtype"])
    b = rng.standard_normal(case["cout"]).astype(case["dtype"]) if case["bias"] else None
    return x, w, b


def run_transpose(kernel, case, x, w, b, out_size):
    before = [p for p, _ in case["pairs"]]
    return getattr(gemm, kernel)(x, w, b, case["stride"], before, case["dilation"],
                                 case["groups"], out_size)


@given(transpose_cases())
def test_transposed_kernels_match_torch(case):
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    for kernel in TRANSPOSED:
        with block_budget(case["budget"]), tiles(case["tiles"]):
            y = run_transpose(kernel, case, x, w, b, yt.shape[2:])
        assert y.dtype == case["dtype"], kernel
        assert_close(y, yt, case["dtype"], err_msg=kernel)
    assert_unchanged(keep, x, w)


@given(transpose_cases(depthwise=True))
def test_depthwise_kernel_matches_torch(case):
    # one input channel per group, any channel multiplier C_out/G
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    with block_budget(case["budget"]):
        y = run_transpose("conv_transpose_depthwise", case, x, w, b, yt.shape[2:])
    assert y.dtype == case["dtype"]
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    k = dims(draw, nd, 1, 5)
    dil = dims(draw, nd, 1, 3)
    pairs = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(nd))
    size = []
    for kk, d, (p, q) in zip(k, dil, pairs, strict=True):
        lo = max(1, d * (kk - 1) + 1 - p - q)
        size.append(draw(st.integers(lo, lo + MAX_SIZE[nd])))
    return dict(nd=nd, groups=groups, cin=cin, cout=cout, k=k, dilation=dil, pairs=pairs,
                stride=(1,) * nd if draw(st.booleans()) else dims(draw, nd, 1, 4),
                size=tuple(size), batch=draw(st.integers(1, 3)),
                bias=draw(st.booleans()), dtype=draw(st.sampled_from([np.float32, np.float64])),
                budget=draw(st.sampled_from([1, 50, 1000, 1 << 21])),
                # stride-1 layers through the direct im2col; samples one at a time there
                direct_row=draw(st.sampled_from([1, gemm.DIRECT_MIN_ROW])),
                sample_columns=draw(st.sampled_from([1, gemm.MIN_SAMPLE_COLUMNS])),
                # 0: grouped layers through the GEMM paths too, not the tiny-group one
                tiny_group=draw(st.sampled_from([0, gemm._TINY_GROUP])),
                # 0: every grouped layer through the tiles, one problem per group
                group_tiles_macs=draw(st.sampled_from([0, gemm.GROUP_TILES_MACS])),
                tiles=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


@given(conv_cases())
def test_conv_kernel_matches_torch(case):
    x, w, b = case_arrays(case, transposed=False)
    keep = frozen(x, w)
    yt = conv_reference(case, x, w, b)
    before = [p for p, _ in case["pairs"]]
    with settings(DIRECT_MIN_ROW=case["direct_row"], DIRECT_MAX_CHANNELS=1 << 30,
                  MIN_SAMPLE_COLUMNS=case["sample_columns"],
                  _TINY_GROUP=case["tiny_group"], GROUP_TILES_MACS=case["group_tiles_macs"]):
        with block_budget(case["budget"]), tiles(case["tiles"]):
            y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"],
                                  case["groups"], yt.shape[2:])
    assert y.dtype == case["dtype"]
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@given(conv_cases(), st.integers(1, 3))
def test_stride2_phase_pairs_match_torch(case, threads):
    # The compiled gather of a 1-d / 2-d convolution's input phases with stride 2 on the last
    # axis (two phases per pass over each input row), in blocks of rows, on 1-3 threads; the
    # positions and direct paths are kept out so that every such layer takes it.
    case.update(nd=min(case["nd"], 2))
    case.update(k=case["k"][:case["nd"]], dilation=case["dilation"][:case["nd"]],
                pairs=case["pairs"][:case["nd"]], size=case["size"][:case["nd"]],
                stride=(*case["stride"][:case["nd"] - 1], 2), tiny_group=0)
    x, w, b = case_arrays(case, transposed=False)
    keep = frozen(x, w)
    yt = conv_reference(case, x, w, b)
    before = [p for p, _ in case["pairs"]]
    calls = []
    real = gemm._numba.phase_pairs
    with settings(POSITIONS_OUT_CHANNELS=(0, -1), _TINY_GROUP=0, PAIRS_MIN_ELEMENTS=1), \
            tiles(True), block_budget(case["budget"]), tile_settings(threads):
        # (parts: how many of numba's threads share the gather, all of them here)
        gemm._numba.phase_pairs = lambda *a: calls.append(a[8]) or real(*a)
        try:
            y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"],
                                  case["groups"], yt.shape[2:])
        finally:
            gemm._numba.phase_pairs = real
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)
    # taken whenever the taps reach both phases of the last axis (and not k <= s there)
    phases = {(a * case["dilation"][-1]) % 2 for a in range(case["k"][-1])}
    taps = math.prod(case["k"])
    direct = len({tuple((a * d) % s for a, d, s in zip(t, case["dilation"], case["stride"],
                                                        strict=True))
                  for t in itertools.product(*(range(k) for k in case["k"]))}) == taps
    if yt.numel() and len(phases) == 2 and not direct:
        assert calls
        assert set(calls) == {threads}


def one_group(case):
    """A convolution case with one group (its channels per group), its arrays, PyTorch's
    output and the padding before each axis."""
    case.update(groups=1, cin=case["cin"] // case["groups"], cout=case["cout"] // case["groups"])
    x, w, b = case_arrays(case, transposed=False)
    return x, w, b, conv_reference(case, x, w, b), [p for p, _ in case["pairs"]]


@given(conv_cases(), st.integers(1, 3), st.sampled_from([1, 64, 1 << 16]),
       st.sampled_from([1, 100, 1 << 13]))
def test_positions_conv_path_matches_torch(case, threads, block, out_block):
    # The positions kernel (_tiles.gemm_positions) for every shape: zero-padded input or
    # none, channel blocks, blocks of positions, one thread or several, against PyTorch.
    if all(s == 1 for s in case["stride"]):  # (strided convolutions take this path)
        case["stride"] = (2, *case["stride"][1:])
    x, w, b, yt, before = one_group(case)
    keep = frozen(x, w)
    taken = []
    real = gemm._conv_positions
    with tile_settings(threads, MIN_MACS_PER_THREAD=1, POOL_MIN_MACS_PER_THREAD=1,
                       POSITIONS_BLOCK_ELEMENTS=block, POSITIONS_OUT_ELEMENTS=out_block), \
            settings(POSITIONS_OUT_CHANNELS=(1, 1 << 30), POSITIONS_MIN_POSITIONS=0,
                     POSITIONS_MIN_ROWS=0,
                     _conv_positions=lambda *a: (taken.append(1), real(*a))), tiles(True):
        y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"], 1,
                              yt.shape[2:])
    assert taken
    assert y.dtype == case["dtype"]
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@given(conv_cases(), st.integers(1, 3), st.sampled_from([1, 1 << 22]))
def test_segments_conv_path_matches_torch(case, threads, budget):
    # The phase rows' tiles writing each output row straight into y (_tiles.gemm_segments),
    # for every shape (1-3-d, strides, dilations, padding, bias, one block of phases or many),
    # against PyTorch.
    tl = importlib.import_module("upconv.ops._tiles")
    x, w, b, yt, before = one_group(case)
    keep = frozen(x, w)
    calls = []
    real = tl.gemm_segments
    with tile_settings(threads, MIN_MACS_PER_THREAD=1,
                       gemm_segments=lambda *a, **k: (calls.append(1), real(*a, **k))), \
            settings(POSITIONS_OUT_CHANNELS=(0, 0), SEGMENT_MIN_LENGTH=0,
                     DIRECT_MAX_CHANNELS=0, _TINY_GROUP=0), block_budget(budget), tiles(True):
        y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"], 1,
                              yt.shape[2:])
    combos = gemm._conv_plan(1, w.shape[2:], tuple(case["stride"]), tuple(case["dilation"]),
                             yt.shape[2:])[2]
    assert bool(calls) == (len(combos) < np.prod(w.shape[2:]))  # (else: one phase per tap)
    assert y.dtype == case["dtype"]
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


def test_segments_conv_path_is_taken_for_long_rows_or_few_weight_rows(monkeypatch):
    # 3 -> 64 channels k3 s2 (27 weight rows) and a 1-d layer with 128-long rows write y
    # directly; 64 -> 128 channels with 32-wide rows and 1024 weight rows do not
    tl = importlib.import_module("upconv.ops._tiles")
    calls = []
    real = tl.gemm_segments
    monkeypatch.setattr(tl, "gemm_segments", lambda *a, **k: (calls.append(1), real(*a, **k)))
    rng = np.random.default_rng(0)
    for xs, ws, want in [((1, 3, 64, 64), (64, 3, 3, 3), True),
                         ((2, 16, 256), (128, 16, 4), True),
                         ((1, 64, 64, 64), (128, 64, 4, 4), False)]:
        calls.clear()
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        with tiles(True):
            y = upconv.conv(x, w, stride=2, padding=1)
        conv = F.conv1d if len(xs) == 3 else F.conv2d
        assert_close(y, conv(t(x), t(w), None, 2, 1).numpy(), np.float32)
        assert bool(calls) == want, (xs, ws)


def test_positions_conv_path_is_taken_for_strided_64_channel_layers(monkeypatch):
    # the suite's 32 -> 64 channel k4 s2 layer and a 3-d one take it; stride 1, 3 input
    # channels at k3 (too few weight rows) and 128 output channels do not
    taken = []
    real = gemm._conv_positions
    monkeypatch.setattr(gemm, "_conv_positions", lambda *a: (taken.append(1), real(*a)))
    rng = np.random.default_rng(0)
    for xs, ws, s, want in [((1, 32, 64, 64), (64, 32, 4, 4), 2, True),
                            ((1, 8, 16, 32, 32), (48, 8, 3, 3, 3), 2, True),
                            ((1, 32, 64, 64), (64, 32, 4, 4), 1, False),
                            ((1, 3, 64, 64), (64, 3, 3, 3), 2, False),
                            ((1, 32, 64, 64), (128, 32, 4, 4), 2, False)]:
        taken.clear()
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        with tiles(True):
            y = upconv.conv(x, w, stride=s, padding=1)
        assert bool(taken) == want, (xs, ws, s)
        assert_close(y, TORCH_C[x.ndim - 2](t(x), t(w), None, s, 1), np.float32)


@st.composite
def tiny_group_cases(draw):
    # Groups whose weight has at most gemm._TINY_GROUP entries take the group-parallel path
    # (depthwise layers): one input channel per group is the common case, a few are allowed.
    case = draw(conv_cases())
    groups = draw(st.integers(2, 6))
    cin_g = draw(st.sampled_from([1, 1, 2]))
    cout_g = draw(st.integers(1, 2))
    if cout_g * cin_g * int(np.prod(case["k"])) > gemm._TINY_GROUP:
        cout_g = cin_g = 1  # at most 5**3 taps
    case.update(groups=groups, cin=groups * cin_g, cout=groups * cout_g)
    # chunks of one group up to all of them; the multiply-add variant on short rows too
    case["chunk"] = draw(st.sampled_from([1, 500, 1 << 20]))
    case["fma_length"] = draw(st.sampled_from([1, 1 << 62]))
    return case


def conv_reference(case, x, w, b):
    """PyTorch's convolution of ``x`` padded by the (before, after) pairs."""
    pad = [v for pair in reversed(case["pairs"]) for v in pair]
    return TORCH_C[case["nd"]](F.pad(t(x), pad), t(w), None if b is None else t(b),
                               case["stride"], 0, case["dilation"], case["groups"])


@given(tiny_group_cases())
def test_tiny_group_conv_path_matches_torch(case):
    x, w, b = case_arrays(case, transposed=False)
    assert w.size // case["groups"] <= gemm._TINY_GROUP  # the shapes drawn take that path
    keep = frozen(x, w)
    yt = conv_reference(case, x, w, b)
    before = [p for p, _ in case["pairs"]]
    with settings(_GROUP_CHUNK_ELEMENTS=case["chunk"], _FMA_MIN_LENGTH=case["fma_length"]):
        with block_budget(case["budget"]):
            y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"],
                                  case["groups"], yt.shape[2:])
    assert y.dtype == case["dtype"]
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_do_not_depend_on_the_thread_count(threads):
    # Memory-bound passes are split over channels; every split must give the same numbers.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 7, 5))
    w = rng.standard_normal((6, 4, 4, 3))
    wd = rng.standard_normal((6, 2, 3, 4))
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(threads)
        with settings(MIN_SPLIT_ELEMENTS=1):  # split even these small passes
            _every_kernel_once(x, w, wd)
    finally:
        upconv.set_num_threads(old)


def _every_kernel_once(x: np.ndarray, w: np.ndarray, wd: np.ndarray) -> None:
    yt = F.conv_transpose2d(t(x), t(w), None, (2, 1), (1, 0), (0, 0), 2, (1, 2))
    for kernel in TRANSPOSED:
        y = getattr(gemm, kernel)(x, w, None, (2, 1), (1, 0), (1, 2), 2, yt.shape[2:])
        assert_close(y, yt, err_msg=kernel)
    yt = F.conv_transpose2d(t(x), t(wd), None, (3, 2), (0, 1), 0, 6)
    y = gemm.conv_transpose_depthwise(x, wd, None, (3, 2), (0, 1), (1, 1), 6, yt.shape[2:])
    assert_close(y, yt)
    wc = w.swapaxes(0, 1).copy()
    yt = F.conv2d(t(x), t(wc), None, (2, 1), 1)
    y = gemm.conv_forward(x, wc, None, (2, 1), (1, 1), (1, 1), 1, yt.shape[2:])
    assert_close(y, yt)


def test_scratch_buffers_are_reused_across_shapes_and_dtypes():
    # The per-thread scratch buffers outlive a call; a later call with another shape or dtype
    # must neither read stale values nor hand a scratch buffer back to the caller.
    rng = np.random.default_rng(6)
    results = []
    for dtype, size in [(np.float64, 9), (np.float32, 4), (np.float64, 6), (np.float32, 11)]:
        x = rng.standard_normal((2, 3, size, size)).astype(dtype)
        w = rng.standard_normal((3, 2, 4, 4)).astype(dtype)
        yt = F.conv_transpose2d(t(x), t(w), None, 2, 1)
        for kernel in TRANSPOSED:
            y = getattr(gemm, kernel)(x, w, None, (2, 2), (1, 1), (1, 1), 1, yt.shape[2:])
            assert_close(y, yt, dtype, err_msg=kernel)
            results.append((y, yt))
        wc = w.swapaxes(0, 1).copy()
        yt = F.conv2d(t(x), t(wc), None, 2, 1)
        results.append((gemm.conv_forward(x, wc, None, (2, 2), (1, 1), (1, 1), 1, yt.shape[2:]),
                        yt))
    for y, yt in results:  # still intact after every later call
        assert_close(y, yt, y.dtype)


def test_non_contiguous_inputs():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 9, 10)).transpose(0, 1, 3, 2)[:, :, ::2]  # (3, 4, 5, 9)
    w = rng.standard_normal((3, 4, 3, 2)).transpose(1, 0, 2, 3)  # (4, 3, 3, 2)
    yt = F.conv_transpose2d(t(x), t(w), None, (2, 3), (1, 0))
    for kernel in TRANSPOSED:
        y = getattr(gemm, kernel)(x, w, None, (2, 3), (1, 0), (1, 1), 1, yt.shape[2:])
        assert_close(y, yt, err_msg=kernel)
    wc = w.swapaxes(0, 1)  # (3, 4, 3, 2) as a convolution weight
    yt = F.conv2d(t(x), t(wc), None, (1, 2), (1, 0))
    assert_close(gemm.conv_forward(x, wc, None, (1, 2), (1, 0), (1, 1), 1, yt.shape[2:]), yt)


def test_auto_picks_the_per_channel_kernel_for_depthwise_layers(monkeypatch):
    # the pure NumPy dispatch (with numba, depthwise layers take the compiled loops)
    monkeypatch.setenv("UPCONV_NUMBA", "0")
    calls = []
    original = gemm.conv_transpose_depthwise

    def spy(*args):
        calls.append(args[6])
        return original(*args)

    monkeypatch.setattr(gemm, "conv_transpose_depthwise", spy)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    w = rng.standard_normal((16, 1, 4, 4)).astype(np.float32)
    y = upconv.conv_transpose(x, w, stride=2, padding=1, groups=16)
    assert calls == [16]
    assert_close(y, F.conv_transpose2d(t(x), t(w), None, 2, 1, groups=16), np.float32)


def test_output_padding_past_the_full_output_is_zero_plus_bias():
    # dilation > stride allows output_padding beyond the last reachable position
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 2, 3, 3))
    w = rng.standard_normal((2, 1, 2, 2))
    b = rng.standard_normal(2)
    yt = F.conv_transpose2d(t(x), t(w), t(b), 1, 0, (2, 1), 2, (3, 2))
    for kernel in [*TRANSPOSED, "conv_transpose_depthwise"]:
        y = getattr(gemm, kernel)(x, w, b, (1, 1), (0, 0), (3, 2), 2, yt.shape[2:])
        assert_close(y, yt, err_msg=kernel)


@pytest.mark.parametrize("mult", [1, 2])
def test_depthwise_convolution_with_long_rows(mult):
    # Long rows take the per-tap multiply-add path of one-input-channel groups.
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 5, 60, 80)).astype(np.float32)
    w = rng.standard_normal((5 * mult, 1, 4, 3)).astype(np.float32)
    b = rng.standard_normal(5 * mult).astype(np.float32)
    yt = F.conv2d(t(x), t(w), t(b), (2, 1), (1, 2), (1, 2), 5)
    y = upconv.conv(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=5)
    assert_close(y, yt, np.float32)


@pytest.mark.parametrize("budget", [1 << 21, 200])
@pytest.mark.parametrize("with_bias", [True, False])
def test_col2im_ring_does_not_rely_on_stale_scratch(budget, with_bias):
    # GEMM + col2im's phase ring is per-thread scratch: whatever a previous call left there
    # (poisoned here) must not leak into the output, with or without bias, in one block and
    # in several.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 5, 6, 7))
    w = rng.standard_normal((5, 3, 4, 3))
    b = rng.standard_normal(3) if with_bias else None
    yt = F.conv_transpose2d(t(x), t(w), None if b is None else t(b), (2, 3), (1, 0))
    gemm._scratch("ring", (1 << 16,), np.float64)[...] = np.nan
    with block_budget(budget):
        y = gemm.conv_transpose_forward(x, w, b, (2, 3), (1, 0), (1, 1), 1, yt.shape[2:])
    assert_close(y, yt)


@pytest.mark.parametrize("budget", [1 << 21, 60])
@pytest.mark.parametrize("tiles_on", [True, False])
@pytest.mark.parametrize("spec", [
    dict(k=(2, 2), stride=(2, 2), dilation=(1, 1), groups=1, op=(0, 0), pairs=((0, 0), (0, 0))),
    dict(k=(2, 3), stride=(3, 3), dilation=(1, 1), groups=2, op=(2, 1), pairs=((1, 0), (0, 2))),
    dict(k=(1, 2), stride=(2, 4), dilation=(1, 3), groups=1, op=(1, 3), pairs=((0, 1), (2, 0))),
    dict(k=(2,), stride=(3,), dilation=(2,), groups=3, op=(1,), pairs=((1, 1),)),
])
def test_col2im_without_overlap_interleaves_the_products(monkeypatch, spec, tiles_on, budget):
    # Taps that do not overlap (d(k-1) + 1 <= s) each fill their own output phase: GEMM +
    # col2im then writes the products into y as they lie, with the bias, and never asks for
    # its ring of phase buffers.
    rng = np.random.default_rng(5)
    nd, g = len(spec["k"]), spec["groups"]
    x = rng.standard_normal((2, 3 * g, *(5, 4)[:nd]))
    w = rng.standard_normal((3 * g, 2, *spec["k"]))
    b = rng.standard_normal(2 * g)
    yt = transpose_reference(dict(nd=nd, stride=spec["stride"], output_padding=spec["op"],
                                  groups=g, dilation=spec["dilation"], pairs=spec["pairs"]),
                             x, w, b)
    slots = []
    scratch = gemm._scratch
    monkeypatch.setattr(gemm, "_scratch", lambda slot, *a: slots.append(slot) or scratch(slot, *a))
    with block_budget(budget), tiles(tiles_on):
        y = gemm.conv_transpose_forward(x, w, b, spec["stride"], [p for p, _ in spec["pairs"]],
                                        spec["dilation"], g, yt.shape[2:])
    assert_close(y, yt)
    assert "gemm" in slots and "ring" not in slots


@given(transpose_cases(), st.integers(1, 3))
def test_compiled_col2im_matches_torch(case, threads):
    # GEMM + col2im with its col2im compiled (taken for long rows; forced here for every row
    # length): one block, 1-d and 2-d, each output row summed from the products of its taps.
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    calls = []
    col2im = gemm._numba.col2im_rows
    with settings(COL2IM_MIN_ROW=1), tiles(True), tile_settings(threads):
        gemm._numba.col2im_rows = lambda *a: calls.append(1) or col2im(*a)
        try:
            y = run_transpose("conv_transpose_forward", case, x, w, b, yt.shape[2:])
        finally:
            gemm._numba.col2im_rows = col2im
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)
    overlap = any(d * (k - 1) + 1 > s for k, s, d in zip(case["k"], case["stride"],
                                                         case["dilation"], strict=True))
    assert bool(calls) == (case["nd"] < 3 and overlap and yt.numel() > 0)


@given(transpose_cases(), st.integers(2, 3))
def test_batch_split_kernels_match_torch(case, threads):
    # Every kernel run a share of the batch per thread (forced even for these small shapes),
    # each share writing its slice of one output: slices must neither overlap nor miss.
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    before = [p for p, _ in case["pairs"]]
    args = (case["stride"], before, case["dilation"], case["groups"], yt.shape[2:])
    kernels = TRANSPOSED + (["conv_transpose_depthwise"] if case["cin"] == case["groups"]
                            else [])
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(threads)
        with settings(MIN_BATCH_COLUMNS=1, MIN_BATCH_MACS=1), block_budget(case["budget"]), \
                tiles(case["tiles"]):
            for kernel in kernels:
                y = gemm.by_samples(getattr(gemm, kernel), x, w, b, *args, c_out=case["cout"])
                assert y.dtype == case["dtype"], kernel
                assert_close(y, yt, case["dtype"], err_msg=kernel)
            y = upconv.conv_transpose(x, w, b, case["stride"], case["pairs"],
                                      case["output_padding"], case["groups"], case["dilation"])
            assert_close(y, yt, case["dtype"], err_msg="auto")
    finally:
        upconv.set_num_threads(old)
    assert_unchanged(keep, x, w)


@pytest.mark.parametrize("threads", [2, 3])
def test_batch_split_sub_pixel_tiles_swap_the_weight_once(monkeypatch, threads):
    # The threads of one by_samples call share the sub-pixel tiles' swapped weight: one swap
    # per call, not one per thread.
    rng = np.random.default_rng(13)
    x = rng.standard_normal((6, 6, 5, 5)).astype(np.float32)
    w = rng.standard_normal((6, 3, 4, 4)).astype(np.float32)
    yt = F.conv_transpose2d(t(x), t(w), None, 2, 1)
    swaps = []
    swap = gemm._tiles.swap_channels
    monkeypatch.setattr(gemm._tiles, "swap_channels", lambda a: swaps.append(1) or swap(a))
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(threads)
        with settings(MIN_BATCH_COLUMNS=1, MIN_BATCH_MACS=1), tiles(True):
            y = gemm.by_samples(gemm.conv_transpose_phases, x, w, None, (2, 2), (1, 1), (1, 1),
                                1, yt.shape[2:], c_out=3)
            assert gemm.batch_shared(x.shape, w.shape, 1, yt.shape[2:], 3)
    finally:
        upconv.set_num_threads(old)
    assert_close(y, yt, np.float32)
    assert len(swaps) == 1


@given(conv_cases(), st.integers(2, 3))
def test_batch_split_convolution_matches_torch(case, threads):
    x, w, b = case_arrays(case, transposed=False)
    keep = frozen(x, w)
    yt = conv_reference(case, x, w, b)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(threads)
        before = [p for p, _ in case["pairs"]]
        with settings(MIN_BATCH_COLUMNS=1, MIN_BATCH_MACS=1, DIRECT_MIN_ROW=case["direct_row"],
                      DIRECT_MAX_CHANNELS=1 << 30,
                      MIN_SAMPLE_COLUMNS=case["sample_columns"], _TINY_GROUP=case["tiny_group"]):
            with block_budget(case["budget"]), tiles(case["tiles"]):
                y = gemm.by_samples(gemm.conv_forward, x, w, b, case["stride"], before,
                                    case["dilation"], case["groups"], yt.shape[2:],
                                    c_out=case["cout"])
                assert y.dtype == case["dtype"]
                assert_close(y, yt, case["dtype"])
                y = upconv.conv(x, w, b, case["stride"], case["pairs"], case["dilation"],
                                case["groups"])
                assert_close(y, yt, case["dtype"], err_msg="public conv")
    finally:
        upconv.set_num_threads(old)
    assert_unchanged(keep, x, w)


def test_default_thresholds_split_large_batches_only(monkeypatch):
    # A decoder layer at batch 8 goes one share per thread; batch 1, or a layer too small to
    # pay for the hand-off, runs the kernel once on the whole batch.
    calls = []
    real = gemm.conv_transpose_phases

    def spy(x, *args, **kwargs):
        calls.append(x.shape[0])
        return real(x, *args, **kwargs)

    monkeypatch.setattr(gemm, "conv_transpose_phases", spy)
    monkeypatch.setattr(gemm, "transpose_costs", lambda *a: {"conv_transpose_phases": 0.0})
    rng = np.random.default_rng(7)
    w = rng.standard_normal((32, 16, 4, 4)).astype(np.float32)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(2)
        for n, size, want in [(8, 32, [4, 4]), (1, 32, [1]), (8, 4, [8])]:
            calls.clear()
            x = rng.standard_normal((n, 32, size, size)).astype(np.float32)
            y = upconv.conv_transpose(x, w, stride=2, padding=1)
            assert sorted(calls) == want, (n, size)
            yt = F.conv_transpose2d(t(x), t(w), None, 2, 1)
            assert_close(y, yt, np.float32)
    finally:
        upconv.set_num_threads(old)


def sub_block_conv(n, cin, cout, size, k, s, p, threads, dtype, seed):
    """conv_forward with the tiles and small blocks, checked against PyTorch; whether the
    sub-blocks of a block of phases went to the threads whole (products and copies)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, cin, size, size + 3)).astype(dtype)
    w = rng.standard_normal((cout, cin, k, k)).astype(dtype)
    yt = F.conv2d(t(x), t(w), None, s, p).numpy()
    taken = []
    real = gemm.run_chunks

    def spy(count, work, fn, **kw):
        taken.append(kw.get("pieces", 1) > 1)
        return real(count, work, fn, **kw)

    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(threads)
        with block_budget(200 * cout), tiles(True), settings(run_chunks=spy,
                                                             SEGMENT_MIN_LENGTH=1 << 30,
                                                             SEGMENT_FEW_ROWS=0):
            y = gemm.conv_forward(x, w, None, (s, s), (p, p), (1, 1), 1, yt.shape[2:])
    finally:
        upconv.set_num_threads(old)
    assert_close(y, yt, dtype)
    return any(taken)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 8), st.integers(12, 30),
       st.integers(2, 4), st.integers(1, 3), st.integers(0, 2), st.integers(2, 3),
       st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_sub_blocks_over_threads_match_torch(n, cin, cout, size, k, s, p, threads, dtype, seed):
    sub_block_conv(n, cin, cout, size, k, s, p, threads, dtype, seed)


def test_sub_blocks_over_threads_are_taken():
    # shapes with several sub-blocks per block of phases (the property test above draws such
    # shapes only now and then)
    for n, cin, cout, size, k, s in [(2, 3, 5, 20, 3, 2), (1, 2, 8, 30, 4, 2), (3, 1, 4, 25, 4, 3)]:
        assert sub_block_conv(n, cin, cout, size, k, s, 1, 2, np.float32, 0), (n, cin, cout)


def test_auto_keeps_blas_threads_out_of_numba_pipelines(monkeypatch):
    # With numba's tiles in use and no batch shares, GEMM + col2im (BLAS on its own threads,
    # which then spin for ~0.1 s) gives way to the sub-pixel kernel unless it is estimated far
    # cheaper or the taps do not overlap (k <= s); within batch shares BLAS is single-threaded.
    taken = []
    for name in TRANSPOSED:
        real = getattr(gemm, name)

        def spy(*args, real=real, name=name, **kwargs):
            taken.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(gemm, name, spy)
    costs = {"conv_transpose_forward": 1.0, "conv_transpose_phases": 1.5}
    monkeypatch.setattr(gemm, "transpose_costs", lambda *a: dict(costs))
    rng = np.random.default_rng(3)
    old = upconv.get_num_threads()
    try:
        upconv.set_num_threads(2)
        for n, k, s, ratio, want in [(1, 4, 2, 1.5, "phases"), (1, 4, 2, 1.7, "forward"),
                                     (1, 2, 2, 1.5, "forward"), (8, 4, 2, 1.5, "forward")]:
            costs["conv_transpose_phases"] = ratio
            taken.clear()
            x = rng.standard_normal((n, 64, 32, 32)).astype(np.float32)
            w = rng.standard_normal((64, 32, k, k)).astype(np.float32)
            y = upconv.conv_transpose(x, w, stride=s, padding=1)
            assert set(taken) == {f"conv_transpose_{want}"}, (n, k, s, ratio)
            assert_close(y, F.conv_transpose2d(t(x), t(w), None, s, 1), np.float32)
        with env_var("UPCONV_TILES", "0"):  # no numba threads to protect: the estimate decides
            taken.clear()
            x = rng.standard_normal((1, 64, 32, 32)).astype(np.float32)
            upconv.conv_transpose(x, rng.standard_normal((64, 32, 4, 4)).astype(np.float32),
                                  stride=2, padding=1)
            assert set(taken) == {"conv_transpose_forward"}
    finally:
        upconv.set_num_threads(old)


@given(transpose_cases(), st.sampled_from([0, 1 << 30]))
def test_sub_pixel_tiles_read_the_weight_in_place_or_swapped(case, limit):
    # SWAP_MAX_WEIGHT_PER_INPUT 0: the weight is always read where it lies (C_in, C_out, *k);
    # huge: always swapped into the convolution's layout first (the tiles take groups 1 only)
    case = {**case, "groups": 1}
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    with settings(SWAP_MAX_WEIGHT_PER_INPUT=limit), block_budget(case["budget"]), tiles(True):
        y = run_transpose("conv_transpose_phases", case, x, w, b, yt.shape[2:])
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_kernels_take_no_zeros_from_stale_memory(dtype):
    # The compiled kernels fill padding and start sums from a zero of the arrays' dtype, not
    # from ``buffer[0] * 0``: that is float64 (and made the sums float64), and NaN when the
    # uninitialised buffer held one, as after a call on NaN input.
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 6, 9, 10)).astype(dtype)
    w = rng.standard_normal((6, 4, 3, 4)).astype(dtype)
    yt = F.conv_transpose2d(t(x), t(w), None, (2, 2), (1, 1))
    with settings(COL2IM_MIN_ROW=1), tiles(True), tile_settings(1):
        gemm.conv_transpose_forward(np.full_like(x, np.nan), w, None, (2, 2), (1, 1), (1, 1),
                                    1, yt.shape[2:])
        y = gemm.conv_transpose_forward(x, w, None, (2, 2), (1, 1), (1, 1), 1, yt.shape[2:])
    assert_close(y, yt, dtype)
    wc = w.swapaxes(0, 1).copy()
    yt = F.conv2d(t(x), t(wc), None, (1, 2), (1, 1))
    gemm._scratch("rows", (1 << 16,), dtype)[...] = np.nan
    with settings(POSITIONS_OUT_CHANNELS=(0, -1), _TINY_GROUP=0), tiles(True), tile_settings(1):
        y = gemm.conv_forward(x, wc, None, (1, 2), (1, 1), (1, 1), 1, yt.shape[2:])
    assert_close(y, yt, dtype)
