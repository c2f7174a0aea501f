"""Index maps (upconv.explain._steps) against PyTorch and upconv, and the Markdown traces.

The steps drive both the animations and the traces: summing every tap's contribution must
give the operation's output, for any parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError
from upconv.explain import trace
from upconv.explain._steps import build

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAXP = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVGP = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}


def _b(a: np.ndarray) -> np.ndarray:
    return a[None, None]


def _ints(draw, lo: int, hi: int, nd: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


# ---------------------------------------------------------------------------------------------
# The steps add up to the operation


@given(st.data())
def test_conv_steps_sum_to_conv(data):
    nd = data.draw(st.sampled_from([1, 2, 2, 3]))
    hi = 5 if nd < 3 else 3
    k = _ints(data.draw, 1, 3, nd)
    s = _ints(data.draw, 1, 3, nd)
    d = _ints(data.draw, 1, 2, nd)
    pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nd))
    size = tuple(max(1, dd * (kk - 1) + 1 - pb - pa) + data.draw(st.integers(0, hi - 1))
                 for kk, dd, (pb, pa) in zip(k, d, pads, strict=True))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, w = rng.standard_normal(size), rng.standard_normal(k)
    plan = build("test", "conv", size, k, s, pads, d, values=x, kernel=w)
    flat = [v for pair in reversed(pads) for v in pair]
    ref = CONV[nd](F.pad(t(_b(x)), flat), t(_b(w)), stride=s, dilation=d)[0, 0]
    assert_close(plan.accumulate(), ref)
    assert_close(plan.accumulate(), upconv.conv(_b(x), _b(w), stride=s, padding=pads,
                                                dilation=d)[0, 0])
    assert len(plan.steps) == math.prod(ref.shape)


def _transpose_case(data, nd: int):
    hi = 4 if nd < 3 else 2
    k = _ints(data.draw, 1, 3, nd)
    s = _ints(data.draw, 1, 3, nd)
    d = _ints(data.draw, 1, 2, nd)
    a = tuple(data.draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d, strict=True))
    size = _ints(data.draw, 1, hi, nd)
    full = [ss * (i - 1) + dd * (kk - 1) + 1 for ss, i, dd, kk in zip(s, size, d, k, strict=True)]
    p = tuple(data.draw(st.integers(0, (f + aa - 1) // 2)) for f, aa in zip(full, a, strict=True))
    return size, k, s, p, a, d


@given(st.data())
def test_conv_transpose_both_views_sum_to_conv_transpose(data):
    nd = data.draw(st.sampled_from([1, 2, 2, 3]))
    size, k, s, p, a, d = _transpose_case(data, nd)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, w = rng.standard_normal(size), rng.standard_normal(k)
    ref = CONV_T[nd](t(_b(x)), t(_b(w)), stride=s, padding=p, output_padding=a,
                     dilation=d)[0, 0]
    ours = upconv.conv_transpose(_b(x), _b(w), stride=s, padding=p, output_padding=a,
                                 dilation=d)[0, 0]
    triples = []
    for view in ("scatter", "direct"):
        plan = build("test", "conv_transpose", size, k, s, p, d, a, view=view, values=x,
                     kernel=w)
        assert_close(plan.accumulate(), ref)
        assert_close(plan.accumulate(), ours)
        assert plan.output_size == tuple(ref.shape)
        steps = math.prod(size) if view == "scatter" else math.prod(ref.shape)
        assert len(plan.steps) == steps
        # the same (input, kernel tap, output) products, whichever way they are grouped
        triples.append(sorted((tp.input, tp.kernel, tp.output) for st_ in plan.steps
                              for tp in st_.taps if tp.input is not None
                              and tp.output is not None))
    assert triples[0] == triples[1]


@given(st.data())
def test_max_pool_steps_give_values_and_switches(data):
    nd = data.draw(st.sampled_from([1, 2, 2, 3]))
    k = _ints(data.draw, 1, 3, nd)
    s = _ints(data.draw, 1, 3, nd)
    d = _ints(data.draw, 1, 2, nd)
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    ceil = data.draw(st.booleans())
    hi = 6 if nd < 3 else 4
    size = tuple(max(1, dd * (kk - 1) + 1 - 2 * pp) + data.draw(st.integers(0, hi))
                 for kk, dd, pp in zip(k, d, p, strict=True))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.permutation(math.prod(size)).reshape(size).astype(float)  # no ties
    plan = build("test", "max_pool", size, k, s, p, d, values=x, ceil_mode=ceil)
    ref, idx = MAXP[nd](t(_b(x)), k, s, p, d, ceil_mode=ceil, return_indices=True)
    assert_close(plan.accumulate(), ref[0, 0])
    assert [st_.switch for st_ in plan.steps] == idx[0, 0].flatten().tolist()
    ours, ours_idx = upconv.max_pool(_b(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    assert_close(plan.accumulate(), ours[0, 0])
    assert [st_.switch for st_ in plan.steps] == ours_idx[0, 0].flatten().tolist()


def test_max_pool_ties_pick_the_first_in_scan_order_like_pytorch():
    x = np.ones((4, 4))
    plan = build("test", "max_pool", (4, 4), 2, values=x)
    _, idx = F.max_pool2d(t(_b(x)), 2, return_indices=True)
    assert [s.switch for s in plan.steps] == idx.flatten().tolist() == [0, 2, 8, 10]


@given(st.data())
def test_avg_pool_steps_sum_to_avg_pool(data):
    nd = data.draw(st.sampled_from([1, 2, 2, 3]))
    k = _ints(data.draw, 1, 3, nd)
    s = _ints(data.draw, 1, 3, nd)
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    ceil = data.draw(st.booleans())
    include = data.draw(st.booleans())
    div = data.draw(st.sampled_from([None, None, 1, 3]))
    # (PyTorch's avg_pool3d also refuses an input smaller than the kernel, padding or not)
    size = tuple(max(1, kk - 2 * pp if nd < 3 else kk) + data.draw(st.integers(0, 4))
                 for kk, pp in zip(k, p, strict=True))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(size)
    plan = build("test", "avg_pool", size, k, s, p, values=x, ceil_mode=ceil,
                 count_include_pad=include, divisor_override=div)
    ref = AVGP[nd](t(_b(x)), k, s, p, ceil_mode=ceil, count_include_pad=include,
                   **({"divisor_override": div} if nd > 1 else {}))[0, 0]
    assume(nd > 1 or div is None)  # avg_pool1d has no divisor_override
    assert_close(plan.accumulate(), ref)
    assert_close(plan.accumulate(), upconv.avg_pool(_b(x), k, s, p, ceil_mode=ceil,
                                                    count_include_pad=include,
                                                    divisor_override=div)[0, 0])
    for step in plan.steps:  # the shown result is the same number
        assert step.result == pytest.approx(float(ref[step.targets[0]]), rel=1e-9, abs=1e-12)


@given(st.data())
def test_max_unpool_steps_place_values_at_the_switches(data):
    nd = data.draw(st.sampled_from([1, 2, 3]))
    k = _ints(data.draw, 1, 3, nd)
    s = tuple(kk + data.draw(st.integers(0, 1)) for kk in k)  # s >= k: switches never repeat
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    size = _ints(data.draw, 1, 3, nd)
    out = tuple((i - 1) * ss - 2 * pp + kk for i, ss, pp, kk in zip(size, s, p, k, strict=True))
    assume(min(out) >= 1)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    source = rng.standard_normal(out)
    pooled, idx = MAXP[nd](t(_b(source)), k, s, p, return_indices=True)
    assume(tuple(pooled.shape[2:]) == size)
    x = rng.standard_normal(size)
    plan = build("test", "max_unpool", size, k, s, p, values=x, indices=idx[0, 0].numpy())
    ref = UNPOOL[nd](t(_b(x)), idx, k, s, p)[0, 0]
    assert_close(plan.accumulate(), ref)
    assert_close(plan.accumulate(), upconv.max_unpool(_b(x), idx.numpy(), k, s, p)[0, 0])
    # default switches: one distinct cell inside each window, which PyTorch accepts
    auto = build("test", "max_unpool", size, k, s, p, values=x)
    for step in auto.steps:
        assert step.targets[0] in step.region
    assert len({st_.switch for st_ in auto.steps}) == len(auto.steps)
    sw = torch.from_numpy(np.array([st_.switch for st_ in auto.steps]).reshape(size))
    assert_close(auto.accumulate(), UNPOOL[nd](t(_b(x)), sw[None, None], k, s, p)[0, 0])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("position", ["top-left", "center"])
def test_unpool_steps_are_bed_of_nails(nd, position):
    size, k = (2, 3, 2)[:nd], (2, 3, 3)[:nd]
    x = np.random.default_rng(nd).standard_normal(size)
    plan = build("test", "unpool", size, k, values=x, position=position)
    ref = torch.zeros(tuple(i * kk for i, kk in zip(size, k, strict=True)), dtype=torch.float64)
    offset = [0 if position == "top-left" else kk // 2 for kk in k]
    ref[tuple(slice(o, None, kk) for o, kk in zip(offset, k, strict=True))] = t(x)
    assert_close(plan.accumulate(), ref)
    assert_close(plan.accumulate(), upconv.unpool(_b(x), k, position=position)[0, 0])


@given(st.data())
def test_interpolate_steps_sum_to_interpolate(data):
    nd = data.draw(st.sampled_from([1, 2]))
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "linear"]))
    torch_mode = {"linear": ("linear", "bilinear")[nd - 1]}.get(mode, mode)
    size = _ints(data.draw, 1, 5, nd)
    align = data.draw(st.sampled_from([None, True, False])) if mode == "linear" else None
    kw = {}
    if data.draw(st.booleans()):
        kw["size"] = _ints(data.draw, 1, 9, nd)
    else:
        kw["scale_factor"] = data.draw(st.sampled_from([0.5, 1.5, 2.0, 2.5, 3.0]))
        assume(all(math.floor(i * kw["scale_factor"]) >= 1 for i in size))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(size)
    plan = build("test", "interpolate", size, values=x, mode=mode, align_corners=align, **kw)
    ref = F.interpolate(t(_b(x)), mode=torch_mode, align_corners=align, **kw)[0, 0]
    assert_close(plan.accumulate(), ref)
    assert_close(plan.accumulate(), upconv.interpolate(_b(x), mode=torch_mode,
                                                       align_corners=align, **kw)[0, 0])
    for step in plan.steps:  # interpolation weights sum to one
        assert sum(tp.weight for tp in step.taps) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Seeds, exactly

SEED_X = [[1, 2], [3, 4]]
SEED_W = [[5, 5], [5, 5]]
SEED_Y = [[5, 15, 10], [20, 50, 30], [15, 35, 20]]
POOL_IN = [[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]]


@pytest.mark.parametrize("view", ["scatter", "direct"])
def test_seed_002_transposed_convolution(view):
    plan = build("test", "conv_transpose", values=SEED_X, kernel=SEED_W, view=view)
    np.testing.assert_array_equal(plan.accumulate(), SEED_Y)
    np.testing.assert_array_equal(
        F.conv_transpose2d(torch.tensor([[SEED_X]], dtype=torch.float64),
                           torch.tensor([[SEED_W]], dtype=torch.float64))[0, 0], SEED_Y)


def test_seed_002_scatter_partial_outputs():
    plan = build("test", "conv_transpose", values=SEED_X, kernel=SEED_W)
    # seed 002: each input element times the kernel fills a 2x2 corner of the 3x3 output
    assert [sorted(tp.dst for tp in s.taps) for s in plan.steps] == [
        [(0, 0), (0, 1), (1, 0), (1, 1)], [(0, 1), (0, 2), (1, 1), (1, 2)],
        [(1, 0), (1, 1), (2, 0), (2, 1)], [(1, 1), (1, 2), (2, 1), (2, 2)]]
    assert [[tp.value for tp in s.taps] for s in plan.steps] == [[5.0] * 4, [10.0] * 4,
                                                                 [15.0] * 4, [20.0] * 4]


def test_seed_002_max_pool_switches_and_max_unpool():
    pool = build("test", "max_pool", values=POOL_IN, kernel_size=2)
    assert [s.switch for s in pool.steps] == [5, 2, 9, 14]
    np.testing.assert_array_equal(pool.accumulate(), [[4, 4], [4, 4]])
    unpool = build("test", "max_unpool", values=SEED_X, kernel_size=2, indices=[[5, 2], [9, 14]])
    np.testing.assert_array_equal(unpool.accumulate(), [[0, 0, 2, 0], [0, 1, 0, 0],
                                                        [0, 3, 0, 0], [0, 0, 4, 0]])


def test_seed_002_bed_of_nails_and_nearest():
    np.testing.assert_array_equal(build("test", "unpool", values=SEED_X, kernel_size=2)
                                  .accumulate(),
                                  [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(build("test", "interpolate", values=SEED_X, scale_factor=2)
                                  .accumulate(),
                                  [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_seed_004_figure_2_11_direct_view_geometry():
    # i=6, k=3, s=2, p=1 with a=1: stretched 11, padding 1 before and 2 after, output 12
    plan = build("test", "conv_transpose", 6, 3, 2, 1, output_padding=1, view="direct")
    assert plan.params["stretched"] == (11,)
    assert (plan.params["pad_before"], plan.params["pad_after"]) == ((1,), (2,))
    assert plan.output_size == (12,)
    kinds = [plan.src_kind((u,)) for u in range(-1, 13)]
    assert kinds == ["pad"] + ["input", "zero"] * 5 + ["input"] + ["pad", "pad"]


# ---------------------------------------------------------------------------------------------
# Traces


def test_trace_seed_002_reads_like_the_seed():
    text = trace("conv_transpose", values=SEED_X, kernel=SEED_W)
    assert "(2−1)·1 − 2·0 + 1·(2−1) + 0 + 1 = 3" in text
    assert "x[0, 0] = 1 times the kernel adds 5, 5, 5, 5 to y[0:2, 0:2]" in text
    assert "1 × [ 5  5 ]  =  [ 5  5  · ]" in text
    assert "4 × [ 5  5 ]  =  [  ·   ·   · ]" in text
    assert "Then the 4 partial outputs are summed" in text
    assert ("[ 5  5  · ] + [  ·  10  10 ] + [  ·   ·   · ] + [  ·   ·   · ] = [  5  15  10 ]"
            in text)
    assert "[ 20  50  30 ]" in text and "[ 15  35  20 ]" in text
    # both parameter sets of the transposed convolution
    for part in ("k=2, s=1, p=0, a=0", "ĩ′ = s(i′−1)+1 = 2", "k′ = 2", "s′ = 1",
                 "p′ = d(k−1)−p = 1 before"):
        assert part in text


def test_trace_direct_view_lists_sums_of_products():
    text = trace("conv_transpose", values=SEED_X, kernel=SEED_W, view="direct")
    assert "y[1, 1] = 1·5 + 2·5 + 3·5 + 4·5 = 50" in text
    assert "y[0, 0] = 1·5 = 5" in text
    assert "[ 0  1  2  0 ]" in text  # the padded input the flipped kernel slides over


def test_trace_conv():
    text = trace("conv", values=[[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel=[[1, 0], [0, -1]])
    assert "y[0, 0] = 1·1 + 2·0 + 4·0 + 5·(-1) = -4" in text
    assert "o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1 = ⌊(3 + 2·0 − 1·(2−1) − 1)/1⌋ + 1 = 2" in text


def test_trace_max_pool_and_max_unpool_seed_002():
    text = trace("max_pool", values=POOL_IN, kernel_size=2)
    assert "y[0, 0] = max(1, 2, 3, 4) = 4 at x[1, 1], switch 5" in text
    assert "y[1, 1] = max(1, 2, 4, 3) = 4 at x[3, 2], switch 14" in text
    text = trace("max_unpool", values=SEED_X, kernel_size=2, indices=[[5, 2], [9, 14]])
    assert "x[1, 1] = 4 goes to switch 14 = y[3, 2]" in text
    assert "[ 0  3  0  0 ]" in text


def test_trace_avg_pool_unpool_interpolate():
    assert "y[1, 1] = (1 + 2 + 4 + 5) / 4 = 3" in trace(
        "avg_pool", values=np.arange(1, 10).reshape(3, 3), kernel_size=2, stride=1, padding=1,
        count_include_pad=False)
    assert "[ 3  0  4  0 ]" in trace("unpool", values=SEED_X, kernel_size=2)
    assert "[ 3  3  4  4 ]" in trace("interpolate", values=SEED_X, scale_factor=2)
    text = trace("interpolate", values=[10, 20], size=4, mode="linear")
    assert "y[1] = 0.75·10 + 0.25·20 = 12.5" in text


def test_trace_conv_transpose_with_cropping_padding():
    # padding 2 > k - 1 = 1 crops real products off the full output [1, 3, 5, 7, 4]
    text = trace("conv_transpose", values=[1, 2, 3, 4], kernel=[1, 1], padding=2)
    assert "Padding crops the full output 5 to 1" in text
    assert "[ 5 ]" in text
    assert "every product falls in the cropped border" in text


def test_trace_presets_and_defaults():
    text = trace(preset="padding_strides_odd_transposed")
    assert "i′=3×3, k=3, s=2, p=1, a=1, d=1 → o′=6×6" in text
    assert "Result y (6×6)" in text


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"op": "deconv", "input_size": 3}, ShapeError,
     r"trace: op='deconv' is not one of 'conv', 'conv_transpose', 'max_pool', 'avg_pool', "
     r"'max_unpool', 'unpool' or 'interpolate'"),
    ({"op": "conv", "input_size": 3, "kernel_size": 2, "view": "direct"}, ShapeError,
     r"view='direct' is not a view of conv; choose 'gather'"),
    ({"op": "conv_transpose", "input_size": 3, "kernel_size": 2, "view": "gather"}, ShapeError,
     r"choose 'scatter' or 'direct'"),
    ({"op": "conv_transpose", "input_size": 4, "kernel_size": 3, "stride": 2,
      "output_padding": 2}, ShapeError,
     r"trace: output_padding=2 must be smaller than stride=2 or dilation=1"),
    ({"op": "conv", "input_size": 2, "kernel_size": 3}, ShapeError,
     r"larger than the padded input"),
    ({"op": "interpolate", "input_size": 3, "size": 4, "mode": "bicubic"}, ShapeError,
     r"mode='bicubic' is not one of 'nearest', 'nearest-exact', 'linear' or 'bilinear'"),
    ({"op": "interpolate", "input_size": 3, "size": 4, "scale_factor": 2}, ShapeError,
     r"exactly one of size= and scale_factor="),
    ({"op": "interpolate", "input_size": 3, "size": 4, "align_corners": True}, ShapeError,
     r"align_corners=True applies to mode 'linear' or 'bilinear' only"),
    ({"op": "unpool", "input_size": 3, "kernel_size": 2, "stride": 2}, ShapeError,
     r"op='unpool' has no stride"),
    ({"op": "max_pool", "input_size": 3, "kernel_size": 2, "kernel": [1, 1]}, ShapeError,
     r"kernel= applies to 'conv' or 'conv_transpose' only"),
    ({"op": "conv", "input_size": 3}, ShapeError, r"op='conv' needs kernel_size"),
    ({"op": "conv"}, ShapeError, r"give input_size \(or values=\)"),
    ({"op": "conv", "input_size": (2, 2), "kernel_size": 1, "values": [1, 2]}, ShapeError,
     r"values has shape \(2,\) but input_size is 2×2"),
    ({"op": "conv", "kernel_size": 2, "values": ["a", "b"]}, TypeError,
     r"values must be an array of real numbers"),
    ({"op": "avg_pool", "input_size": 4, "kernel_size": 2, "dilation": 2}, ShapeError,
     r"op='avg_pool' has no dilation"),
    ({"op": "max_unpool", "values": [1, 2], "kernel_size": 2, "indices": [1, 1]}, ShapeError,
     r"indices repeat a position"),
    ({"op": "max_unpool", "values": [1, 2], "kernel_size": 2, "indices": [0, 9]}, ShapeError,
     r"indices must lie in \[0, 4\)"),
    ({"op": "max_unpool", "input_size": 2, "kernel_size": 2, "output_size": 7}, ShapeError,
     r"valid sizes range from 3 to 5"),
    ({"op": "unpool", "input_size": 2, "kernel_size": 2, "position": "random"}, ShapeError,
     r"position='random' is not one of 'top-left' or 'center'"),
    ({"preset": "nope"}, ShapeError, r"preset='nope' is not one of 'arbitrary_padding_no_"),
    ({"preset": "dilation", "op": "max_pool"}, ShapeError,
     r"preset='dilation' is a conv case, but op='max_pool'"),
    ({"op": "conv", "input_size": (2, 2, 2), "kernel_size": 1}, ShapeError,
     r"trace: writes 1-d and 2-d cases"),
])
def test_trace_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        trace(**kwargs)


def test_inputs_are_not_mutated():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    w = np.full((2, 2), 5.0)
    idx = np.array([[5, 2], [9, 14]])
    before = frozen(x, w, idx)
    trace("conv_transpose", values=x, kernel=w)
    trace("max_unpool", values=x, kernel_size=2, indices=idx)
    build("test", "conv", values=x, kernel=w).accumulate()
    assert_unchanged(before, x, w, idx)
