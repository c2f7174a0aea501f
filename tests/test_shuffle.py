"""pixel_shuffle / pixel_unshuffle against the real PyTorch, a naive loop, and each other."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_unchanged, frozen, t, tol
from upconv import (
    ShapeError,
    pixel_shuffle,
    pixel_shuffle_backward,
    pixel_unshuffle,
    pixel_unshuffle_backward,
)


def naive_shuffle(x, r, d):
    """out[..., c, h*r + i, w*r + j] = x[..., c*r**2 + i*r + j, h, w], one element at a time."""
    lead, channels, spatial = x.shape[: -d - 1], x.shape[-d - 1], x.shape[-d:]
    out = np.empty((*lead, channels // r**d, *(s * r for s in spatial)), dtype=x.dtype)
    for b in np.ndindex(*lead):
        for c in range(channels // r**d):
            for offsets in itertools.product(range(r), repeat=d):
                digit = 0
                for o in offsets:  # most significant first
                    digit = digit * r + o
                for pos in np.ndindex(*spatial):
                    target = tuple(p * r + o for p, o in zip(pos, offsets, strict=True))
                    out[(*b, c, *target)] = x[(*b, c * r**d + digit, *pos)]
    return out


@st.composite
def shuffle_cases(draw, max_d=3):
    d = draw(st.integers(1, max_d))
    r = draw(st.integers(1, 3))
    lead = tuple(draw(st.lists(st.integers(0, 2), max_size=3)))
    channels = draw(st.integers(0, 2))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return d, r, lead, channels, spatial, dtype


@given(
    r=st.integers(1, 3),
    lead=st.lists(st.integers(1, 2), max_size=3).map(tuple),
    c=st.integers(1, 2),
    h=st.integers(1, 3),
    w=st.integers(1, 3),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_matches_torch(r, lead, c, h, w, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, c * r * r, h, w)).astype(dtype)
    before = frozen(x)
    xt = t(x, grad=True)
    yt = F.pixel_shuffle(xt, r)
    y = pixel_shuffle(x, r)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, yt.detach().numpy())
    g = rng.standard_normal(y.shape).astype(dtype)
    (gx,) = torch.autograd.grad(yt, xt, t(g))
    np.testing.assert_array_equal(pixel_shuffle_backward(g, x, r), gx.numpy())

    # unshuffle y back, and its gradient
    yt2 = t(y, grad=True)
    zt = F.pixel_unshuffle(yt2, r)
    z = pixel_unshuffle(y, r)
    np.testing.assert_array_equal(z, zt.detach().numpy())
    np.testing.assert_array_equal(z, x)
    gz = rng.standard_normal(z.shape).astype(dtype)
    (gy,) = torch.autograd.grad(zt, yt2, t(gz))
    np.testing.assert_array_equal(pixel_unshuffle_backward(gz, y, r), gy.numpy())
    assert_unchanged(before, x)


@given(case=shuffle_cases(), seed=st.integers(0, 2**16))
def test_matches_naive_loop_and_round_trips(case, seed):
    d, r, lead, c, spatial, dtype = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, c * r**d, *spatial)).astype(dtype)
    y = pixel_shuffle(x, r, ndim=d)
    np.testing.assert_array_equal(y, naive_shuffle(x, r, d))
    np.testing.assert_array_equal(pixel_unshuffle(y, r, ndim=d), x)
    np.testing.assert_array_equal(pixel_shuffle_backward(y, x, r, ndim=d), x)
    np.testing.assert_array_equal(pixel_unshuffle_backward(x, y, r, ndim=d), y)
    # <shuffle(x), g> = <x, shuffle_backward(g)>
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(np.vdot(y, g), np.vdot(x, pixel_shuffle_backward(g, x, r, ndim=d)),
                               **tol(dtype))


def test_reshape_transpose_by_hand():
    # 2-d CRD: (N, C*r*r, H, W) -> (N, C, r, r, H, W) -> (N, C, H, r, W, r) -> (N, C, H*r, W*r)
    r = 2
    x = np.arange(2 * 8 * 2 * 3, dtype=float).reshape(2, 8, 2, 3)
    by_hand = x.reshape(2, 2, r, r, 2, 3).transpose(0, 1, 4, 2, 5, 3).reshape(2, 2, 4, 6)
    np.testing.assert_array_equal(pixel_shuffle(x, r), by_hand)
    np.testing.assert_array_equal(pixel_unshuffle(by_hand, r), x)
    # the element map of the docs: out[c, h*r + i, w*r + j] = x[c*r*r + i*r + j, h, w]
    out = pixel_shuffle(x, r)
    assert out[1, 1, 1 * r + 1, 2 * r + 0] == x[1, 1 * 4 + 1 * 2 + 0, 1, 2]
    # 1 channel, r = 2: the four channels tile each 2x2 block in reading order
    x4 = np.arange(4.0).reshape(1, 4, 1, 1)
    np.testing.assert_array_equal(pixel_shuffle(x4, 2), [[[[0.0, 1.0], [2.0, 3.0]]]])


def test_1d_and_3d_extension():
    x = np.arange(6.0).reshape(1, 3, 2)
    np.testing.assert_array_equal(pixel_shuffle(x, 3, ndim=1), [[[0, 2, 4, 1, 3, 5]]])
    x3 = np.arange(8.0).reshape(8, 1, 1, 1)  # unbatched (C, D, H, W), r = 2
    cube = pixel_shuffle(x3, 2, ndim=3)
    assert cube.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(cube[0], np.arange(8.0).reshape(2, 2, 2))
    # ndim=2 on a rank-5 array is PyTorch's reading: leading (N, T) dims
    x5 = np.arange(2 * 1 * 4 * 1 * 1, dtype=float).reshape(2, 1, 4, 1, 1)
    np.testing.assert_array_equal(pixel_shuffle(x5, 2),
                                  F.pixel_shuffle(t(x5), 2).numpy())


def test_empty_arrays_follow_the_shape_formula():
    # PyTorch 2.13 returns zero-element inputs unchanged (shape included) and then fails in
    # autograd; upconv keeps the documented output shape
    assert pixel_shuffle(np.zeros((0, 4, 1, 2)), 2).shape == (0, 1, 2, 4)
    assert pixel_unshuffle(np.zeros((0, 1, 2, 4)), 2).shape == (0, 4, 1, 2)
    assert pixel_unshuffle(np.zeros((1, 0, 2, 4)), 2).shape == (1, 0, 1, 2)


def test_factor_one_returns_a_copy():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    before = frozen(x)
    for out in (pixel_shuffle(x, 1), pixel_unshuffle(x, 1),
                pixel_shuffle_backward(x, x, 1), pixel_unshuffle_backward(x, x, 1)):
        np.testing.assert_array_equal(out, x)
        assert not np.shares_memory(out, x)
        out[...] = -1
    assert_unchanged(before, x)


def test_public_names():
    assert upconv.pixel_shuffle is pixel_shuffle
    assert upconv.pixel_unshuffle_backward is pixel_unshuffle_backward


# ---------------------------------------------------------------------------------------------
# Errors: one message each (and PyTorch rejects the same call where it has the op)

ERRORS = [
    (pixel_shuffle, np.zeros((2, 3, 3)), 3, {}, ShapeError,
     r"pixel_shuffle: x has 2 channels \(axis 0 of shape \(2, 3, 3\)\), which is not divisible "
     r"by upscale_factor\*\*2 = 9", True),
    (pixel_shuffle, np.zeros((9, 3)), 3, {}, ShapeError,
     r"x has shape \(9, 3\) \(rank 2\); with ndim=2 it needs at least 3 dimensions "
     r"\(\*, C, H, W\)", True),
    (pixel_shuffle, np.zeros((1, 8, 3, 3)), 0, {}, ShapeError,
     r"pixel_shuffle: upscale_factor=0 must be a positive integer", True),
    (pixel_shuffle, np.zeros((1, 8, 3, 3)), 2.0, {}, TypeError,
     r"upscale_factor=2.0 must be an integer, not float", True),
    (pixel_unshuffle, np.zeros((1, 2, 3, 4)), 2, {}, ShapeError,
     r"pixel_unshuffle: x has shape \(1, 2, 3, 4\); spatial dimension 0 \(size 3\) is not "
     r"divisible by downscale_factor=2", True),
    (pixel_unshuffle, np.zeros((1, 2, 4, 4)), -1, {}, ShapeError,
     r"pixel_unshuffle: downscale_factor=-1 must be a positive integer", True),
    (pixel_shuffle, np.zeros((1, 8, 3)), 2, {"ndim": 4}, ShapeError,
     r"ndim=4 must be 1, 2 or 3", False),
    (pixel_shuffle, np.zeros((1, 8, 3), dtype=np.int32), 2, {}, TypeError,
     r"x has dtype int32", False),
]


@pytest.mark.parametrize("row", range(len(ERRORS)))
def test_errors(row):
    func, x, r, kw, exc, match, torch_has_it = ERRORS[row]
    with pytest.raises(exc, match=match):
        func(x, r, **kw)
    if torch_has_it:
        with pytest.raises((RuntimeError, TypeError)):
            getattr(F, func.__name__)(torch.from_numpy(x.copy()), r)


def test_error_backward_grad_shape():
    x = np.zeros((1, 8, 3, 3))
    with pytest.raises(ShapeError, match=r"pixel_shuffle_backward: grad_output has shape "
                                         r"\(1, 2, 3, 3\) but the forward output has shape "
                                         r"\(1, 2, 6, 6\)"):
        pixel_shuffle_backward(np.zeros((1, 2, 3, 3)), x, 2)


def test_error_backward_checks_x():
    with pytest.raises(ShapeError, match=r"pixel_unshuffle_backward: x has shape \(1, 1, 3, 4\)"
                                         r"; spatial dimension 0 \(size 3\) is not divisible"):
        pixel_unshuffle_backward(np.zeros((1, 4, 1, 2)), np.zeros((1, 1, 3, 4)), 2)


def test_error_backward_checks_channels():
    with pytest.raises(ShapeError, match=r"pixel_shuffle_backward: x has 3 channels \(axis 1 of "
                                         r"shape \(1, 3, 2\)\), which is not divisible by "
                                         r"upscale_factor\*\*1 = 2"):
        pixel_shuffle_backward(np.zeros((1, 1, 4)), np.zeros((1, 3, 2)), 2, ndim=1)
