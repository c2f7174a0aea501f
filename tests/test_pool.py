"""max_pool / avg_pool and their backward functions against real PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
DTYPES = [np.float32, np.float64]


@st.composite
def pool_cases(draw, dilation: bool = True, specials: bool = True):
    """A random pooling problem: geometry, array (small integers, so ties are common)."""
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = tuple(draw(st.integers(1, 2)) if dilation else 1 for _ in range(nd))
    span = 3 if nd == 3 else 5
    size = tuple(
        draw(st.integers(max(1, di * (ki - 1) + 1 - 2 * pi), max(1, di * (ki - 1) + 1 - 2 * pi)
                         + span))
        for ki, pi, di in zip(k, p, d, strict=True)
    )
    is_batched = draw(st.booleans())
    lead = (draw(st.integers(1, 2)),) if is_batched else ()
    shape = (*lead, draw(st.integers(1, 3)), *size)
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 4, size=shape).astype(dtype)
    special = draw(st.sampled_from(["none", "nan", "-inf", "both"])) if specials else "none"
    if special in ("nan", "both"):
        x[rng.random(shape) < 0.2] = np.nan
    if special in ("-inf", "both"):
        x[rng.random(shape) < 0.2] = -np.inf
    stride = None if draw(st.booleans()) else s
    # int arguments are only unambiguous for batched input (or 1-d)
    as_int = (is_batched or nd == 1) and draw(st.booleans())
    kk, ss, pp, dd = k, stride, p, d
    if as_int:
        kk = k[0] if len(set(k)) == 1 else k
        if stride is not None and len(set(s)) == 1:
            ss = s[0]
        pp = p[0] if len(set(p)) == 1 else p
        dd = d[0] if len(set(d)) == 1 else d
    return dict(x=x, nd=nd, kernel_size=kk, stride=ss, padding=pp, dilation=dd,
                ceil_mode=draw(st.booleans()))


# ---------------------------------------------------------------------------------------------
# max_pool


@given(pool_cases())
def test_max_pool_matches_torch(case):
    x, nd = case["x"], case["nd"]
    args = (case["kernel_size"], case["stride"], case["padding"], case["dilation"],
            case["ceil_mode"])
    before = frozen(x)
    out, idx = upconv.max_pool(x, *args, return_indices=True)
    ref, ref_idx = MAX_POOL[nd](t(x), *args, return_indices=True)
    assert out.dtype == x.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out, ref.numpy())  # max is exact, NaN == NaN here
    np.testing.assert_array_equal(idx, ref_idx.numpy())
    plain = upconv.max_pool(x, *args)
    np.testing.assert_array_equal(plain, MAX_POOL[nd](t(x), *args).numpy())
    assert_unchanged(before, x)


@given(pool_cases())
def test_max_pool_backward_matches_torch(case):
    x, nd = case["x"], case["nd"]
    args = (case["kernel_size"], case["stride"], case["padding"], case["dilation"],
            case["ceil_mode"])
    _, ref_idx = MAX_POOL[nd](t(x), *args, return_indices=True)
    rng = np.random.default_rng(0)
    g = rng.standard_normal(ref_idx.shape).astype(x.dtype)
    before = frozen(x, g)
    ours = upconv.max_pool_backward(g, x, *args)
    assert ours.dtype == x.dtype and ours.shape == x.shape
    plane = math.prod(x.shape[-nd:])
    ref_np = ref_idx.numpy()
    if (ref_np >= plane).any():
        # A window entirely in the padding (large dilation): PyTorch reports an index outside
        # the plane and its backward writes out of bounds (heap corruption), so it cannot be
        # run.  Expected: scatter-add through torch's in-range switches only.
        flat_g = g.reshape(-1, math.prod(ref_np.shape[-nd:]))
        flat_i = ref_np.reshape(flat_g.shape)
        expected = np.zeros((flat_g.shape[0], plane))
        for row in range(flat_g.shape[0]):
            keep = flat_i[row] < plane
            np.add.at(expected[row], flat_i[row][keep], flat_g[row][keep].astype(np.float64))
        assert_close(ours, expected.reshape(x.shape), x.dtype)
    else:
        xt = t(x, grad=True)
        y = MAX_POOL[nd](xt, *args)
        y.backward(t(g))
        assert_close(ours, xt.grad, x.dtype)
    assert_unchanged(before, x, g)


def test_max_pool_seed_002():
    # seed 002: 4x4 max pooling (2x2, stride 2), the maxima the seed marks
    a = np.array([[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]], dtype=np.float64)
    out, idx = upconv.max_pool(a[None], (2, 2), stride=2, return_indices=True)
    np.testing.assert_array_equal(out[0], [[4, 4], [4, 4]])
    # marked cells: (1,1), (0,2), (2,1), (3,2) -> h*4 + w
    np.testing.assert_array_equal(idx[0], [[1 * 4 + 1, 0 * 4 + 2], [2 * 4 + 1, 3 * 4 + 2]])


def test_max_pool_ties_first_wins_and_last_nan():
    x = np.array([[[2.0, 5.0, 5.0, np.nan, 1.0, np.nan, 5.0]]])
    out, idx = upconv.max_pool(x, 7, return_indices=True)
    assert np.isnan(out[0, 0, 0]) and idx[0, 0, 0] == 5
    out, idx = upconv.max_pool(x[..., :3], 3, return_indices=True)
    assert out[0, 0, 0] == 5 and idx[0, 0, 0] == 1
    out, idx = upconv.max_pool(np.full((1, 1, 3), -np.inf), 2, stride=1, padding=1,
                               return_indices=True)
    # windows [-1, 1), [0, 2), [1, 3), [2, 4): the first in-bounds cell, never the padding
    np.testing.assert_array_equal(idx[0, 0], [0, 0, 1, 2])


def test_max_pool_window_all_padding_like_torch():
    # k=2, p=1, d=4 on L=3: taps at -1 and 3, both padding; PyTorch gives -inf and index 3
    x = np.arange(3.0).reshape(1, 1, 3)
    out, idx = upconv.max_pool(x, 2, 1, 1, 4, return_indices=True)
    ref, ref_idx = F.max_pool1d(t(x), 2, 1, 1, 4, return_indices=True)
    np.testing.assert_array_equal(out, ref.numpy())
    np.testing.assert_array_equal(idx, ref_idx.numpy())
    assert out[0, 0, 0] == -np.inf and idx[0, 0, 0] == 3
    np.testing.assert_array_equal(upconv.max_pool_backward(np.ones((1, 1, 1)), x, 2, 1, 1, 4),
                                  np.zeros((1, 1, 3)))


def test_max_pool_unbatched_int_args_rank2():
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(upconv.max_pool(x, 2), F.max_pool1d(t(x), 2).numpy())


# ---------------------------------------------------------------------------------------------
# avg_pool


@st.composite
def avg_cases(draw):
    case = draw(pool_cases(dilation=False, specials=False))
    case.pop("dilation")
    case["count_include_pad"] = draw(st.booleans())
    case["divisor_override"] = (
        None if case["nd"] == 1 else draw(st.sampled_from([None, None, 1, 2, 3, 5, -3]))
    )
    shape = case["x"].shape
    if case["nd"] == 3:
        # PyTorch's avg_pool3d (only the 3-d one) rejects an input smaller than the kernel even
        # when the padding makes the window fit; upconv accepts it, like avg_pool1d/2d
        k = case["kernel_size"]
        k = (k,) * 3 if isinstance(k, int) else k
        shape = shape[:-3] + tuple(max(n, ki) for n, ki in zip(shape[-3:], k, strict=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    case["x"] = rng.standard_normal(shape).astype(case["x"].dtype)
    return case


def _avg_args(case):
    args = [case["kernel_size"], case["stride"], case["padding"], case["ceil_mode"],
            case["count_include_pad"]]
    if case["divisor_override"] is not None:
        args.append(case["divisor_override"])
    return tuple(args)


@given(avg_cases())
def test_avg_pool_matches_torch(case):
    x, nd = case["x"], case["nd"]
    args = _avg_args(case)
    before = frozen(x)
    out = upconv.avg_pool(x, *args)
    assert out.dtype == x.dtype
    assert_close(out, AVG_POOL[nd](t(x), *args), x.dtype)
    assert_unchanged(before, x)


@given(avg_cases())
def test_avg_pool_backward_matches_torch(case):
    x, nd = case["x"], case["nd"]
    args = _avg_args(case)
    xt = t(x, grad=True)
    y = AVG_POOL[nd](xt, *args)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(x.dtype)
    y.backward(t(g))
    before = frozen(x, g)
    ours = upconv.avg_pool_backward(g, x, *args)
    assert ours.dtype == x.dtype
    assert_close(ours, xt.grad, x.dtype)
    assert_unchanged(before, x, g)


def test_avg_pool_3d_small_input_like_2d():
    # torch's avg_pool3d refuses T=1 < kT=2 even with padding 1; upconv follows avg_pool2d
    x = np.arange(1.0, 7.0).reshape(1, 1, 1, 2, 3)
    ours = upconv.avg_pool(x, (2, 1, 1), stride=1, padding=(1, 0, 0))
    ref = F.avg_pool2d(t(x.reshape(1, 1, 1, 6)), (2, 1), stride=1, padding=(1, 0))
    np.testing.assert_allclose(ours.reshape(1, 1, 2, 6), ref.numpy())


def test_avg_pool_keywords_and_ceil_divisor():
    # ceil mode: the last window [3, 6) sticks out past the right padding [5, 6)? no: L + p = 6
    x = np.arange(5.0).reshape(1, 1, 5)
    out = upconv.avg_pool(x, kernel_size=3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(out[0, 0], [(0 + 1) / 3, (1 + 2 + 3) / 3, (3 + 4) / 3])
    out = upconv.avg_pool(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out[0, 0], [(0 + 1) / 2, (1 + 2 + 3) / 3, (3 + 4) / 2])
    # a ceil-mode window beyond L + p: k=2, s=2, L=3, p=0 -> window [2, 4) counts 1 element
    out = upconv.avg_pool(np.arange(3.0).reshape(1, 1, 3), 2, ceil_mode=True)
    np.testing.assert_allclose(out[0, 0], [0.5, 2.0])
    x2 = np.ones((1, 1, 4, 4))
    np.testing.assert_allclose(upconv.avg_pool(x2, 2, divisor_override=3), np.full((1, 1, 2, 2),
                                                                                  4 / 3))


# ---------------------------------------------------------------------------------------------
# errors


def test_error_padding_too_large():
    with pytest.raises(ShapeError, match=r"max_pool: padding=2 must be at most half of "
                                         r"kernel_size=3"):
        upconv.max_pool(np.zeros((1, 1, 8)), 3, padding=2)


def test_error_padding_too_large_avg():
    with pytest.raises(ShapeError, match=r"avg_pool: padding=\(1, 2\) must be at most half"):
        upconv.avg_pool(np.zeros((1, 1, 8, 8)), (3, 3), padding=(1, 2))


def test_error_integer_dtype():
    with pytest.raises(TypeError, match=r"max_pool: x has dtype int64; a floating dtype"):
        upconv.max_pool(np.zeros((1, 1, 4), dtype=np.int64), 2)


def test_error_wrong_rank():
    with pytest.raises(ShapeError, match=r"max_pool: x has shape \(4,\) \(rank 1\)"):
        upconv.max_pool(np.zeros(4), 2)


def test_error_wrong_rank_for_tuple_kernel():
    with pytest.raises(ShapeError, match=r"avg_pool: x has shape \(4, 4\) \(rank 2\); for 2 "
                                         r"spatial dimensions"):
        upconv.avg_pool(np.zeros((4, 4)), (2, 2))


def test_error_too_many_kernel_dims():
    with pytest.raises(ShapeError, match=r"max_pool: kernel_size=\(2, 2, 2, 2\) has 4 values"):
        upconv.max_pool(np.zeros((1, 1, 4, 4, 4)), (2, 2, 2, 2))


def test_error_window_larger_than_input():
    with pytest.raises(ShapeError, match=r"max_pool: the pooling window d\*\(k-1\)\+1=5 is "
                                         r"larger than the padded input"):
        upconv.max_pool(np.zeros((1, 1, 3)), 3, dilation=2)


def test_error_divisor_override_zero():
    with pytest.raises(ShapeError, match=r"avg_pool: divisor_override=0 must be a nonzero"):
        upconv.avg_pool(np.zeros((1, 1, 4, 4)), 2, divisor_override=0)


def test_error_grad_output_shape():
    with pytest.raises(ShapeError, match=r"max_pool_backward: grad_output has shape \(1, 1, 3\) "
                                         r"but the forward output has shape \(1, 1, 2\)"):
        upconv.max_pool_backward(np.zeros((1, 1, 3)), np.zeros((1, 1, 4)), 2)


def test_error_return_indices_not_bool():
    with pytest.raises(TypeError, match=r"max_pool: return_indices=1 must be a bool"):
        upconv.max_pool(np.zeros((1, 1, 4)), 2, return_indices=1)


def test_error_count_include_pad_not_bool():
    with pytest.raises(TypeError, match=r"avg_pool: count_include_pad=None must be a bool"):
        upconv.avg_pool(np.zeros((1, 1, 4)), 2, count_include_pad=None)
