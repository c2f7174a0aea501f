"""interpolate / interpolate_backward against the real PyTorch (values and autograd gradients)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError, interpolate, interpolate_backward

MODES_FOR_RANK = {
    3: ["nearest", "nearest-exact", "linear", "area"],
    4: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
    5: ["nearest", "nearest-exact", "trilinear", "area"],
}
INTERPOLATING = {"linear", "bilinear", "bicubic", "trilinear"}


def torch_forward_and_grad(x, g, **kw):
    """PyTorch's output and its autograd gradient for upstream gradient ``g``."""
    xt = t(x, grad=True)
    y = F.interpolate(xt, **kw)
    (gx,) = torch.autograd.grad(y, xt, t(g))
    return y.detach().numpy(), gx.numpy()


def check_against_torch(x, rng, **kw):
    y_t = F.interpolate(t(x), **kw).numpy()
    y = interpolate(x, **kw)
    assert y.dtype == x.dtype
    if kw.get("mode", "nearest").startswith("nearest"):
        np.testing.assert_array_equal(y, y_t)  # a pure gather: exact index equality
    else:
        assert_close(y, y_t, x.dtype)
    g = rng.standard_normal(y_t.shape).astype(x.dtype)
    _, gx_t = torch_forward_and_grad(x, g, **kw)
    gx = interpolate_backward(g, x, **kw)
    assert gx.dtype == x.dtype
    assert_close(gx, gx_t, x.dtype)


# ---------------------------------------------------------------------------------------------
# Seed 002: the worked examples


def test_seed_k_nearest():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    expected = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]], dtype=float)
    np.testing.assert_array_equal(interpolate(x, scale_factor=2)[0, 0], expected)
    np.testing.assert_array_equal(interpolate(x, size=4)[0, 0], expected)
    np.testing.assert_array_equal(interpolate(x, size=(4, 4), mode="nearest-exact")[0, 0],
                                  expected)


def test_seed_bilinear_is_floor_of_half_pixel_bilinear():
    x = np.array([[10.0, 20.0], [30.0, 40.0]])[None, None]
    seed = np.array([[10, 12, 17, 20], [15, 17, 22, 25], [25, 27, 32, 35], [30, 32, 37, 40]])
    # by hand: half-pixel sources (j + 0.5)/2 - 0.5 = -0.25 -> 0, 0.25, 0.75, 1.25 -> 1, so each
    # axis takes weights (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1); rows 10..20 and 30..40
    row = np.array([0.0, 0.25, 0.75, 1.0])
    exact = 10 + 10 * row[None, :] + 20 * row[:, None]
    np.testing.assert_array_equal(exact[0], [10, 12.5, 17.5, 20])
    np.testing.assert_array_equal(exact[1], [15, 17.5, 22.5, 25])
    out = interpolate(x, scale_factor=2, mode="bilinear")[0, 0]
    np.testing.assert_array_equal(out, exact)
    np.testing.assert_array_equal(np.floor(out), seed)
    np.testing.assert_array_equal(F.interpolate(t(x), scale_factor=2, mode="bilinear")[0, 0],
                                  exact)
    # the seed's table is not align_corners=True (that gives 13.33.. and 16.66..)
    corners = interpolate(x, size=4, mode="bilinear", align_corners=True)[0, 0]
    np.testing.assert_allclose(corners[0], [10, 40 / 3, 50 / 3, 20])
    assert not np.array_equal(np.floor(corners), seed)


# ---------------------------------------------------------------------------------------------
# Against PyTorch: random shapes, modes, sizes and scales


@st.composite
def resize_cases(draw):
    rank = draw(st.sampled_from([3, 4, 5]))
    nd = rank - 2
    mode = draw(st.sampled_from(MODES_FOR_RANK[rank]))
    top = 9 if nd < 3 else 6
    spatial = tuple(draw(st.integers(1, top)) for _ in range(nd))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial)
    kw = {"mode": mode}
    if draw(st.booleans()):
        sizes = [draw(st.integers(1, 2 * top)) for _ in range(nd)]
        kw["size"] = sizes[0] if draw(st.booleans()) else tuple(sizes)
    else:
        scale = st.one_of(
            st.sampled_from([0.5, 0.6, 0.7, 1.0, 1.01, 1.3, 1.5, 1.7, 2.0, 2.3, 2.5, 3.0, 0.99]),
            st.integers(1, 3),
            st.floats(0.3, 3.5).map(lambda v: round(v, 2)),
        )
        scales = [draw(scale) for _ in range(nd)]
        factor = scales[0] if draw(st.booleans()) else tuple(scales)
        per = factor if isinstance(factor, tuple) else (factor,) * nd
        assume(all(math.floor(n * s) >= 1 for n, s in zip(spatial, per, strict=True)))
        kw["scale_factor"] = factor
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    if mode in INTERPOLATING:
        kw["align_corners"] = draw(st.sampled_from([None, False, True]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return shape, dtype, kw


@given(case=resize_cases(), seed=st.integers(0, 2**16))
def test_matches_torch(case, seed):
    shape, dtype, kw = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    before = frozen(x)
    check_against_torch(x, rng, **kw)
    assert_unchanged(before, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("scale", [1.7, 2.3, 0.6, 1.3, 0.7, 2.9, 3.7, 1.01, 0.99, 2.05])
def test_nearest_indices_exact(dtype, mode, rank, scale):
    # float32 vs float64 arithmetic in the source index matters for these scales; odd sizes
    # up to 79 also reach PyTorch's other 2-d kernel (output H + W > 128)
    rng = np.random.default_rng(0)
    for n in (1, 3, 5, 7, 9, 11, 13, 27, 35, 41, 57, 79):
        spatial = [1] * (rank - 2)
        spatial[0] = n
        x = np.arange(n, dtype=dtype).reshape(1, 1, *spatial)
        factor = [1.0] * (rank - 2)
        factor[0] = scale
        if math.floor(n * scale) < 1:
            continue
        check_against_torch(x, rng, scale_factor=tuple(factor), mode=mode)
        check_against_torch(x, rng, size=tuple(max(1, round(v * scale)) for v in spatial),
                            mode=mode)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out_w", [60, 66, 70, 100])
def test_nearest_2d_kernel_switch(dtype, out_w):
    # PyTorch's 2-d nearest switches kernels at output H + W = 128; both must match exactly
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 3, 38)).astype(dtype)
    for mode in ("nearest", "nearest-exact"):
        check_against_torch(x, rng, size=(out_w - 2, out_w), mode=mode)
        check_against_torch(x, rng, scale_factor=(out_w / 3, out_w / 38 + 0.01), mode=mode)


def test_output_size_one_samples_the_centre():
    # PyTorch 2.13: with align_corners=False an output of size 1 reads the centre L/2 - 0.5
    x = np.arange(5.0).reshape(1, 1, 5)
    np.testing.assert_array_equal(interpolate(x, size=1, mode="linear"), [[[2.0]]])
    np.testing.assert_array_equal(interpolate(x, size=1, mode="linear", align_corners=True),
                                  [[[0.0]]])
    x2 = np.arange(20.0).reshape(1, 1, 4, 5)  # centre (1.5, 2): 5*1.5 + 2
    np.testing.assert_array_equal(interpolate(x2, size=1, mode="bilinear"), [[[[9.5]]]])
    # with a scale factor the ratio is 1/s: u = (1/0.3)*0.5 - 0.5 = 7/6
    np.testing.assert_allclose(interpolate(x, scale_factor=0.3, mode="linear"), [[[7 / 6]]])
    np.testing.assert_array_equal(
        interpolate(x, scale_factor=0.3, mode="linear", recompute_scale_factor=True), [[[2.0]]]
    )
    for mode, xx in (("linear", x), ("bilinear", x2), ("bicubic", x2)):
        for ac in (None, True):
            check_against_torch(xx, np.random.default_rng(0), size=1, mode=mode,
                                align_corners=ac)


def test_unchanged_size_with_a_scale():
    # O == L with scale 1.01: linear modes copy, bicubic and nearest do not (ratio 1/1.01)
    x = (np.arange(10.0) ** 2).reshape(1, 1, 10)
    np.testing.assert_array_equal(interpolate(x, scale_factor=1.01, mode="linear"), x)
    np.testing.assert_array_equal(interpolate(x, scale_factor=1.01)[0, 0, :3], [0, 0, 1])
    x2 = (np.arange(20.0) ** 2).reshape(1, 1, 2, 10)
    rng = np.random.default_rng(0)
    for mode in ("bilinear", "bicubic", "nearest"):
        check_against_torch(x2, rng, scale_factor=1.01, mode=mode)
        check_against_torch(x2, rng, scale_factor=(1.5, 1.01), mode=mode)
    assert not np.allclose(interpolate(x2, scale_factor=1.01, mode="bicubic"), x2)


def test_backward_follows_torch_where_its_kernels_disagree():
    # PyTorch's nearest backward keeps the O == L fast path (a copy) that its forward lacks
    x = np.zeros((1, 1, 10))
    g = np.arange(10.0).reshape(1, 1, 10)
    np.testing.assert_array_equal(interpolate_backward(g, x, scale_factor=1.01), g)
    _, gx_t = torch_forward_and_grad(x, g, scale_factor=1.01)
    np.testing.assert_array_equal(gx_t, g)
    # float64, 2 -> 82: at output 41 the forward computes 41 * (2/82) = 1.0 in double (source
    # 1), the backward 0.99999994 in float32 (source 0); each matches PyTorch
    x64 = np.array([[[1.0, 100.0]]])
    np.testing.assert_array_equal(interpolate(x64, size=82)[0, 0, 40:42], [1.0, 100.0])
    g64 = np.zeros((1, 1, 82))
    g64[0, 0, 41] = 1.0
    np.testing.assert_array_equal(interpolate_backward(g64, x64, size=82), [[[1.0, 0.0]]])
    check_against_torch(x64, np.random.default_rng(0), size=82)
    # bicubic copies the gradient when no size changes
    x2 = np.zeros((1, 1, 2, 10))
    g2 = np.arange(20.0).reshape(1, 1, 2, 10)
    np.testing.assert_array_equal(interpolate_backward(g2, x2, scale_factor=1.01,
                                                       mode="bicubic"), g2)


# ---------------------------------------------------------------------------------------------
# Backward identities


@pytest.mark.parametrize("r", [2, 3])
def test_nearest_gradient_is_sum_pooling(r):
    rng = np.random.default_rng(r)
    x = rng.standard_normal((2, 3, 4, 5))
    g = rng.standard_normal((2, 3, 4 * r, 5 * r))
    expected = g.reshape(2, 3, 4, r, 5, r).sum(axis=(3, 5))
    np.testing.assert_allclose(interpolate_backward(g, x, scale_factor=r), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "rank, mode, align_corners",
    [
        (r, m, ac)
        for r, modes in MODES_FOR_RANK.items()
        for m in modes
        for ac in ([None, True] if m in INTERPOLATING else [None])
    ],
)
def test_adjoint(rank, mode, align_corners):
    # <interpolate(x), g> = <x, interpolate_backward(g)> where PyTorch's forward and backward
    # kernels agree: always for linear/cubic/area with changed sizes, for nearest with integer
    # scale factors
    rng = np.random.default_rng(rank)
    spatial = (5, 3, 4)[: rank - 2]
    x = rng.standard_normal((2, 2, *spatial))
    if mode.startswith("nearest"):
        kw = {"scale_factor": (3, 2, 1)[: rank - 2], "mode": mode}
    else:
        kw = {"size": (8, 2, 7)[: rank - 2], "mode": mode, "align_corners": align_corners}
    y = interpolate(x, **kw)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.vdot(y, g), np.vdot(x, interpolate_backward(g, x, **kw)),
                               rtol=1e-12)


def test_area_is_adaptive_average_pooling():
    x = np.arange(7.0).reshape(1, 1, 7)
    # bins [floor(i*7/3), ceil((i+1)*7/3)) = [0, 3), [2, 5), [4, 7)
    np.testing.assert_allclose(interpolate(x, size=3, mode="area"), [[[1.0, 3.0, 5.0]]])
    np.testing.assert_allclose(F.adaptive_avg_pool1d(t(x), 3).numpy(), [[[1.0, 3.0, 5.0]]])


# ---------------------------------------------------------------------------------------------
# Inputs, dtypes and copies


def test_inputs_not_mutated_and_output_is_fresh():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    g = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    before = frozen(x, g)
    y = interpolate(x, size=4)  # nothing to do: must still be a copy
    gx = interpolate_backward(g, x, size=4)
    assert y.dtype == gx.dtype == np.float32
    assert not np.shares_memory(y, x) and not np.shares_memory(gx, g)
    y[...] = 7
    gx[...] = 7
    for mode in ("bilinear", "bicubic", "area", "nearest-exact"):
        interpolate(x, scale_factor=1.5, mode=mode)
        interpolate_backward(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), x,
                             scale_factor=1.5, mode=mode)
    assert_unchanged(before, x, g)


def test_public_names():
    assert upconv.interpolate is interpolate
    assert upconv.interpolate_backward is interpolate_backward


# ---------------------------------------------------------------------------------------------
# Errors: one message each, and PyTorch rejects the same call

X4 = np.zeros((1, 1, 4, 5))
X3 = np.zeros((1, 1, 4))

ERRORS = [
    (X4, {}, ShapeError, r"exactly one of size and scale_factor; both are None"),
    (X4, {"size": 2, "scale_factor": 2.0}, ShapeError,
     r"exactly one of size and scale_factor, not both \(size=2, scale_factor=2.0\)"),
    (X4, {"size": 2, "align_corners": True}, ShapeError,
     r"align_corners=True can only be set with the interpolating modes .* mode='nearest'"),
    (X3, {"size": 2, "mode": "bilinear"}, ShapeError,
     r"mode='bilinear' needs a 4-d input .* shape \(1, 1, 4\) \(rank 3\).* use 'linear'"),
    (X4, {"size": 2, "mode": "trilinear"}, ShapeError, r"mode='trilinear' needs a 5-d input"),
    (X4, {"size": 2, "mode": "foo"}, ShapeError, r"mode='foo' is not supported; choose one of"),
    (np.zeros((1, 4)), {"size": 2}, ShapeError, r"x has shape \(1, 4\) \(rank 2\); expected"),
    (X4, {"size": (2, 2, 2)}, ShapeError,
     r"size=\(2, 2, 2\) has 3 values but the input has 2 spatial dimensions"),
    (X4, {"scale_factor": (2.0, 2.0, 2.0)}, ShapeError,
     r"scale_factor=\(2.0, 2.0, 2.0\) has 3 values but the input has 2 spatial dimensions"),
    (X4, {"size": 0}, ShapeError, r"size=0 must be a positive integer"),
    (X4, {"size": (2, -1)}, ShapeError, r"size=\(2, -1\) must be positive .* dimension 1 is -1"),
    (X4, {"scale_factor": -1.0}, ShapeError,
     r"scale_factor=-1.0 must be positive and finite in every dimension; dimension 0 is -1.0"),
    (X4, {"scale_factor": 0.1}, ShapeError,
     r"scale_factor=0.1 gives an empty output in dimension 0: floor\(4 \* 0.1\) = 0"),
    (X4, {"size": 2, "recompute_scale_factor": True}, ShapeError,
     r"recompute_scale_factor=True is not meaningful with an explicit size=2"),
    (X4, {"size": 2.5}, TypeError, r"size=2.5 must be an int or a tuple of 2 ints, not float"),
    (X4, {"scale_factor": "2"}, TypeError, r"scale_factor='2' must be a number or a tuple"),
    (X4, {"scale_factor": (2.0, None)}, TypeError, r"must hold numbers; dimension 1 is None"),
    (X4, {"size": 2, "mode": 3}, TypeError, r"mode=3 must be a string"),
    (X4, {"size": 2, "mode": "bilinear", "align_corners": 1}, TypeError,
     r"align_corners=1 must be None, True or False"),
    (X4, {"scale_factor": 2, "recompute_scale_factor": "yes"}, TypeError,
     r"recompute_scale_factor='yes' must be None, True or False"),
    (np.zeros((1, 1, 4), dtype=np.int64), {"size": 2}, TypeError, r"x has dtype int64"),
]
# PyTorch rejects every row too, except a truthy non-bool recompute_scale_factor
TORCH_ACCEPTS = {row for row, case in enumerate(ERRORS) if case[1].get("recompute_scale_factor")
                 == "yes"}


@pytest.mark.parametrize("row", range(len(ERRORS)))
def test_errors(row):
    x, kw, exc, match = ERRORS[row]
    with pytest.raises(exc, match=match):
        interpolate(x, **kw)
    assert len(TORCH_ACCEPTS) == 1
    if row not in TORCH_ACCEPTS:
        with pytest.raises((ValueError, RuntimeError, NotImplementedError, TypeError)):
            F.interpolate(torch.from_numpy(x.copy()), **kw)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_error_non_finite_scale(value):
    with pytest.raises(ShapeError, match=r"must be positive and finite in every dimension"):
        interpolate(X4, scale_factor=value)


def test_error_backward_grad_shape():
    with pytest.raises(ShapeError, match=r"interpolate_backward: grad_output has shape "
                                         r"\(1, 1, 4, 4\) but interpolate's output for x of "
                                         r"shape \(1, 1, 4, 5\) has shape \(1, 1, 8, 10\)"):
        interpolate_backward(np.zeros((1, 1, 4, 4)), X4, scale_factor=2)


def test_error_messages_name_the_function():
    with pytest.raises(ShapeError, match=r"^interpolate_backward: give exactly one of"):
        interpolate_backward(np.zeros((1, 1, 4, 5)), X4)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_empty_batch(mode):
    x = np.zeros((0, 2, 3, 4), dtype=np.float32)
    y = interpolate(x, scale_factor=2, mode=mode)
    assert y.shape == tuple(F.interpolate(t(x), scale_factor=2, mode=mode).shape) == (0, 2, 6, 8)
    assert interpolate_backward(y, x, scale_factor=2, mode=mode).shape == x.shape
