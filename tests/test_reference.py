"""The naive reference (upconv.reference) against real PyTorch, and the fast ops against it.

The reference is the tests' second oracle, so it is itself checked against
``torch.nn.functional`` over random small shapes (1-3 spatial dimensions, strides, paddings,
dilations, groups, output paddings, ceil mode, interpolation modes), plus the seeds' worked
examples exactly.  Then every fast op of :mod:`upconv` is compared with the reference on the
same random cases.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError
from upconv import reference as ref
from upconv.shapes import conv_geometry, pool_geometry, transpose_geometry

DTYPES = st.sampled_from([np.float32, np.float64])
METHODS = ["scatter", "direct", "matrix", "subpixel", "auto"]


# ---------------------------------------------------------------------------------------------
# Case generators: each returns the arrays and keyword arguments of one call


def _rng(draw: Any) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _form(draw: Any, values: tuple[int, ...]) -> int | tuple[int, ...]:
    """An int when every dimension agrees (sometimes), else the per-dimension tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


def _ints(draw: Any, nd: int, lo: int, hi: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


@st.composite
def conv_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    kmax = 2 if nd == 3 else 3
    groups, c_group, o_group = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(
        st.integers(1, 2)
    )
    k, d = _ints(draw, nd, 1, kmax), _ints(draw, nd, 1, 2)
    kind = draw(st.sampled_from(["int", "tuple", "pairs", "same", "valid"]))
    s = (1,) * nd if kind == "same" else _ints(draw, nd, 1, 3)
    if kind == "int":
        padding: Any = draw(st.integers(0, 2))
    elif kind == "tuple":
        padding = _ints(draw, nd, 0, 2)
    elif kind == "pairs":
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    else:
        padding = kind
    keff = [d[i] * (k[i] - 1) + 1 for i in range(nd)]
    size = tuple(draw(st.integers(max(1, keff[i] - 2), keff[i] + (1 if nd == 3 else 3)))
                 for i in range(nd))
    try:
        conv_geometry(size, k, s, padding, d)
    except ShapeError:
        assume(False)
    rng, dtype = _rng(draw), draw(DTYPES)
    n_batch = draw(st.integers(1, 2))
    x = rng.standard_normal((n_batch, groups * c_group, *size)).astype(dtype)
    w = rng.standard_normal((groups * o_group, c_group, *k)).astype(dtype)
    b = rng.standard_normal(groups * o_group).astype(dtype) if draw(st.booleans()) else None
    kwargs = dict(stride=_form(draw, s), padding=padding, dilation=_form(draw, d), groups=groups)
    return dict(x=x, weight=w, bias=b, kwargs=kwargs)


def torch_conv(case: dict[str, Any]) -> torch.Tensor:
    x, kw = t(case["x"]), dict(case["kwargs"])
    nd = x.ndim - 2
    pad = kw["padding"]
    if isinstance(pad, tuple) and isinstance(pad[0], tuple):
        # PyTorch has no (before, after) padding: pad explicitly (F.pad lists the last axis first)
        x = F.pad(x, [v for pair in reversed(pad) for v in pair])
        kw["padding"] = 0
    bias = None if case["bias"] is None else t(case["bias"])
    conv = getattr(F, f"conv{nd}d")
    with warnings.catch_warnings():
        # PyTorch warns that 'same' with an even dilated kernel copies the input: harmless
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        return conv(x, t(case["weight"]), bias, kw["stride"], kw["padding"], kw["dilation"],
                    kw["groups"])


@st.composite
def conv_transpose_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    kmax = 2 if nd == 3 else 3
    groups, c_group, o_group = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(
        st.integers(1, 2)
    )
    k, s, d = _ints(draw, nd, 1, kmax), _ints(draw, nd, 1, 3), _ints(draw, nd, 1, 2)
    kind = draw(st.sampled_from(["int", "tuple", "pairs"]))
    if kind == "int":
        padding: Any = draw(st.integers(0, 2))
    elif kind == "tuple":
        padding = _ints(draw, nd, 0, 2)
    else:
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    size = _ints(draw, nd, 1, 2 if nd == 3 else 3)
    n_batch = draw(st.integers(1, 2))
    op = tuple(draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(nd))
    target = st.sampled_from(["output_padding", "spatial", "with N and C"])
    how = "output_padding" if kind == "pairs" else draw(target)
    kwargs: dict[str, Any] = dict(stride=_form(draw, s), padding=padding, groups=groups,
                                  dilation=_form(draw, d))
    try:
        if how == "output_padding":
            kwargs["output_padding"] = _form(draw, op)
            transpose_geometry(size, k, s, padding, op, d)
        else:
            lo = transpose_geometry(size, k, s, padding, 0, d).output_size
            out = tuple(lo[i] + draw(st.integers(0, s[i] - 1)) for i in range(nd))
            transpose_geometry(size, k, s, padding, 0, d, output_size=out)
            n_c = (n_batch, groups * o_group)
            kwargs["output_size"] = out if how == "spatial" else n_c + out
    except ShapeError:
        assume(False)
    rng, dtype = _rng(draw), draw(DTYPES)
    x = rng.standard_normal((n_batch, groups * c_group, *size)).astype(dtype)
    w = rng.standard_normal((groups * c_group, o_group, *k)).astype(dtype)
    b = rng.standard_normal(groups * o_group).astype(dtype) if draw(st.booleans()) else None
    return dict(x=x, weight=w, bias=b, kwargs=kwargs)


def torch_conv_transpose(case: dict[str, Any]) -> torch.Tensor:
    x, w, kw = t(case["x"]), t(case["weight"]), case["kwargs"]
    nd = x.ndim - 2
    bias = None if case["bias"] is None else t(case["bias"])
    pad = kw["padding"]
    if "output_size" in kw:
        # the module's forward(input, output_size) derives output_padding (PyTorch's own rule)
        module = getattr(torch.nn, f"ConvTranspose{nd}d")(
            w.shape[0], w.shape[1] * kw["groups"], tuple(w.shape[2:]), kw["stride"], pad,
            groups=kw["groups"], bias=bias is not None, dilation=kw["dilation"],
            dtype=w.dtype,
        )
        with torch.no_grad():
            module.weight.copy_(w)
            if bias is not None:
                module.bias.copy_(bias)
            return module(x, output_size=list(kw["output_size"]))
    conv_t = getattr(F, f"conv_transpose{nd}d")
    if isinstance(pad, tuple) and isinstance(pad[0], tuple):
        # (before, after) crops: compute the uncropped output, then slice
        full = conv_t(x, w, bias, kw["stride"], 0, kw["output_padding"], kw["groups"],
                      kw["dilation"])
        crop = tuple(slice(b, full.shape[2 + i] - a) for i, (b, a) in enumerate(pad))
        return full[(slice(None), slice(None), *crop)]
    return conv_t(x, w, bias, kw["stride"], pad, kw["output_padding"], kw["groups"],
                  kw["dilation"])


def _pool_values(draw: Any, shape: tuple[int, ...], dtype: Any, nan: bool) -> np.ndarray:
    rng = _rng(draw)
    if draw(st.booleans()):  # few distinct values: ties decide the indices
        x = rng.integers(-2, 3, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    if nan and draw(st.booleans()):
        x[rng.random(shape) < 0.15] = np.nan
    return x


@st.composite
def max_pool_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    k, d = _ints(draw, nd, 1, 3), _ints(draw, nd, 1, 2)
    s = None if draw(st.booleans()) else _form(draw, _ints(draw, nd, 1, 3))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    ceil_mode = draw(st.booleans())
    size = tuple(draw(st.integers(1, (3 if nd == 3 else 6))) for _ in range(nd))
    try:
        pool_geometry(size, k, s, p, d, ceil_mode)
    except ShapeError:
        assume(False)
    dtype = draw(DTYPES)
    x = _pool_values(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size), dtype,
                     nan=True)
    kwargs = dict(kernel_size=_form(draw, k), stride=s, padding=_form(draw, p),
                  dilation=_form(draw, d), ceil_mode=ceil_mode,
                  return_indices=draw(st.booleans()))
    return dict(x=x, kwargs=kwargs)


@st.composite
def avg_pool_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    k = _ints(draw, nd, 1, 3)
    s = None if draw(st.booleans()) else _form(draw, _ints(draw, nd, 1, 3))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    ceil_mode = draw(st.booleans())
    size = tuple(draw(st.integers(1, (3 if nd == 3 else 6))) for _ in range(nd))
    try:
        pool_geometry(size, k, s, p, 1, ceil_mode)
    except ShapeError:
        assume(False)
    x = _pool_values(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size),
                     draw(DTYPES), nan=False)
    kwargs = dict(kernel_size=_form(draw, k), stride=s, padding=_form(draw, p),
                  ceil_mode=ceil_mode, count_include_pad=draw(st.booleans()),
                  divisor_override=draw(st.none() | st.integers(1, 5)))
    return dict(x=x, kwargs=kwargs)


def torch_avg_pool(case: dict[str, Any]) -> torch.Tensor:
    x, kw = t(case["x"]), dict(case["kwargs"])
    nd = x.ndim - 2
    if nd == 1:
        # avg_pool1d has no divisor_override: run the 2-d op on a trailing unit dimension
        def unit(v: Any, fill: int) -> tuple[int, int]:
            return (v if isinstance(v, int) else v[0], fill)

        out = F.avg_pool2d(
            x[..., None], unit(kw["kernel_size"], 1),
            None if kw["stride"] is None else unit(kw["stride"], 1), unit(kw["padding"], 0),
            kw["ceil_mode"], kw["count_include_pad"], kw["divisor_override"],
        )
        return out[..., 0]
    return getattr(F, f"avg_pool{nd}d")(x, **kw)


@st.composite
def max_unpool_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    k = _ints(draw, nd, 1, 3)
    s = k if draw(st.booleans()) else _ints(draw, nd, 1, 3)
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    size = _ints(draw, nd, 1, 2 if nd == 3 else 3)
    default = tuple((size[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    how = draw(st.sampled_from(["default", "spatial", "with N and C"]))
    if how == "default":
        out = default
    else:
        out = tuple(default[i] + draw(st.integers(1 - s[i], s[i] - 1)) for i in range(nd))
    assume(min(out) >= 1 and math.prod(out) >= math.prod(size))
    rng, dtype = _rng(draw), draw(DTYPES)
    n_batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = rng.standard_normal((n_batch, channels, *size)).astype(dtype)
    # distinct in-plane indices (repeated ones make PyTorch nondeterministic)
    idx = np.stack([rng.permutation(math.prod(out))[: math.prod(size)]
                    for _ in range(n_batch * channels)]).reshape(x.shape).astype(np.int64)
    kwargs: dict[str, Any] = dict(kernel_size=_form(draw, k),
                                  stride=None if s == k and draw(st.booleans()) else s,
                                  padding=_form(draw, p))
    if how == "spatial":
        kwargs["output_size"] = out
    elif how == "with N and C":
        kwargs["output_size"] = (n_batch, channels, *out)
    return dict(x=x, indices=idx, kwargs=kwargs)


@st.composite
def unpool_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    k = _ints(draw, nd, 1, 3)
    size = _ints(draw, nd, 1, 2 if nd == 3 else 3)
    x = _rng(draw).standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size))
    return dict(x=x.astype(draw(DTYPES)), kernel_size=_form(draw, k),
                position=draw(st.sampled_from(["top-left", "center"])))


def torch_unpool(case: dict[str, Any]) -> torch.Tensor:
    # Bed of nails = a depthwise stride-k transposed convolution with a one-hot kernel.
    x = t(case["x"])
    nd, channels = x.ndim - 2, x.shape[1]
    k = case["kernel_size"]
    k = (k,) * nd if isinstance(k, int) else k
    w = torch.zeros((channels, 1, *k), dtype=x.dtype)
    offset = (0,) * nd if case["position"] == "top-left" else tuple(kk // 2 for kk in k)
    w[(slice(None), 0, *offset)] = 1
    return getattr(F, f"conv_transpose{nd}d")(x, w, stride=k, groups=channels)


SCALES = [0.5, 0.7, 0.75, 1.0, 1.2, 1.5, 1.7, 2.0, 2.5, 3.0, 1 / 3]


@st.composite
def interpolate_cases(draw: Any) -> dict[str, Any]:
    nd = draw(st.integers(1, 3))
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]
    modes = ["nearest", "nearest-exact", "area", linear] + (["bicubic"] if nd == 2 else [])
    mode = draw(st.sampled_from(modes))
    hi = 3 if nd == 3 else 6
    size_in = _ints(draw, nd, 1, hi)
    kwargs: dict[str, Any] = dict(mode=mode)
    if draw(st.booleans()):
        kwargs["size"] = _form(draw, _ints(draw, nd, 1, hi + 2))
    else:
        factors = tuple(draw(st.sampled_from(SCALES)) for _ in range(nd))
        assume(all(math.floor(n * f) >= 1 for n, f in zip(size_in, factors, strict=True)))
        assume(math.prod(math.floor(n * f) for n, f in zip(size_in, factors, strict=True)) <= 64)
        kwargs["scale_factor"] = factors[0] if len(set(factors)) == 1 and draw(
            st.booleans()) else factors
    if mode in (linear, "bicubic"):
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    x = _rng(draw).standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size_in))
    return dict(x=x.astype(draw(DTYPES)), kwargs=kwargs)


@st.composite
def pixel_shuffle_cases(draw: Any) -> dict[str, Any]:
    r = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)) * r * r, *_ints(draw, 2, 1, 3))
    return dict(x=_rng(draw).standard_normal(shape).astype(draw(DTYPES)), upscale_factor=r)


# ---------------------------------------------------------------------------------------------
# The reference against PyTorch


@given(conv_cases())
def test_conv_matches_torch(case: dict[str, Any]) -> None:
    before = frozen(case["x"], case["weight"])
    y = ref.conv(case["x"], case["weight"], case["bias"], **case["kwargs"])
    assert_unchanged(before, case["x"], case["weight"])
    assert y.dtype == case["x"].dtype
    assert_close(y, torch_conv(case), case["x"].dtype)


@given(conv_transpose_cases())
def test_conv_transpose_matches_torch(case: dict[str, Any]) -> None:
    before = frozen(case["x"], case["weight"])
    y = ref.conv_transpose(case["x"], case["weight"], case["bias"], **case["kwargs"])
    assert_unchanged(before, case["x"], case["weight"])
    assert y.dtype == case["x"].dtype
    assert_close(y, torch_conv_transpose(case), case["x"].dtype)


@given(max_pool_cases())
def test_max_pool_matches_torch(case: dict[str, Any]) -> None:
    x, kw = case["x"], case["kwargs"]
    before = frozen(x)
    ours = ref.max_pool(x, **kw)
    assert_unchanged(before, x)
    pool = getattr(F, f"max_pool{x.ndim - 2}d")
    theirs = pool(t(x), kw["kernel_size"], kw["stride"], kw["padding"], kw["dilation"],
                  kw["ceil_mode"], kw["return_indices"])
    if kw["return_indices"]:
        (ours, ours_idx), (theirs, theirs_idx) = ours, theirs
        assert ours_idx.dtype == np.int64
        np.testing.assert_array_equal(ours_idx, theirs_idx.numpy())
    assert ours.dtype == x.dtype
    assert_close(ours, theirs, x.dtype)


@given(avg_pool_cases())
def test_avg_pool_matches_torch(case: dict[str, Any]) -> None:
    if case["x"].ndim == 5:
        # avg_pool3d (only 3-d) rejects an input smaller than the kernel even when padding
        # makes room; the formula is well defined there, PyTorch just refuses to compare.
        k = np.broadcast_to(case["kwargs"]["kernel_size"], 3)
        assume(all(n >= kk for n, kk in zip(case["x"].shape[2:], k, strict=True)))
    before = frozen(case["x"])
    y = ref.avg_pool(case["x"], **case["kwargs"])
    assert_unchanged(before, case["x"])
    assert y.dtype == case["x"].dtype
    assert_close(y, torch_avg_pool(case), case["x"].dtype)


@given(max_unpool_cases())
def test_max_unpool_matches_torch(case: dict[str, Any]) -> None:
    x, idx, kw = case["x"], case["indices"], case["kwargs"]
    before = frozen(x, idx)
    y = ref.max_unpool(x, idx, **kw)
    assert_unchanged(before, x, idx)
    unpool = getattr(F, f"max_unpool{x.ndim - 2}d")
    theirs = unpool(t(x), t(idx), kw["kernel_size"], kw["stride"], kw["padding"],
                    kw.get("output_size"))
    assert y.dtype == x.dtype
    assert_close(y, theirs, x.dtype)


@given(unpool_cases())
def test_unpool_matches_torch(case: dict[str, Any]) -> None:
    before = frozen(case["x"])
    y = ref.unpool(case["x"], case["kernel_size"], position=case["position"])
    assert_unchanged(before, case["x"])
    assert y.dtype == case["x"].dtype
    assert_close(y, torch_unpool(case), case["x"].dtype)


@given(interpolate_cases())
def test_interpolate_matches_torch(case: dict[str, Any]) -> None:
    x, kw = case["x"], case["kwargs"]
    before = frozen(x)
    y = ref.interpolate(x, **kw)
    assert_unchanged(before, x)
    assert y.dtype == x.dtype
    assert_close(y, F.interpolate(t(x), **kw), x.dtype, err_msg=str(kw))


@given(pixel_shuffle_cases())
def test_pixel_shuffle_matches_torch(case: dict[str, Any]) -> None:
    y = ref.pixel_shuffle(case["x"], case["upscale_factor"])
    assert y.dtype == case["x"].dtype
    np.testing.assert_array_equal(y, F.pixel_shuffle(t(case["x"]), case["upscale_factor"]))


@given(conv_cases(), st.data())
def test_conv_transpose_is_the_adjoint_of_conv(case: dict[str, Any], data: Any) -> None:
    # <conv(x), y> = <x, conv_transpose(y)> with the same weight, every argument resolved.
    x, w, kw = case["x"].astype(np.float64), case["weight"].astype(np.float64), case["kwargs"]
    g = conv_geometry(x.shape[2:], w.shape[2:], kw["stride"], kw["padding"], kw["dilation"])
    y = np.random.default_rng(data.draw(st.integers(0, 99))).standard_normal(
        (x.shape[0], w.shape[0], *g.output_size))
    # the output_padding that brings the transposed convolution back to x's size
    op = tuple((i + pb + pa - (dd * (k - 1) + 1)) % s for i, (pb, pa), dd, k, s in
               zip(g.size, g.padding, g.dilation, g.kernel_size, g.stride, strict=True))
    back = ref.conv_transpose(y, w, None, g.stride, g.padding, op, kw["groups"], g.dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(ref.conv(x, w, None, **kw), y), np.vdot(x, back),
                               rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# The seeds' worked examples, exactly (seed 002)

SEED_X = np.array([[1.0, 2.0], [3.0, 4.0]])
SEED_POOL = np.array([[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]], dtype=float)


def test_seed_transposed_conv_table() -> None:
    want = [[5, 15, 10], [20, 50, 30], [15, 35, 20]]
    w = np.full((1, 1, 2, 2), 5.0)
    np.testing.assert_array_equal(ref.conv_transpose(SEED_X[None, None], w)[0, 0], want)
    np.testing.assert_array_equal(F.conv_transpose2d(t(SEED_X[None, None]), t(w))[0, 0], want)


def test_seed_nearest_neighbours() -> None:
    want = [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    for kw in (dict(scale_factor=2), dict(size=(4, 4)), dict(size=4, mode="nearest-exact")):
        np.testing.assert_array_equal(ref.interpolate(SEED_X[None, None], **kw)[0, 0], want)


def test_seed_bilinear_floor_table() -> None:
    want = [[10, 12, 17, 20], [15, 17, 22, 25], [25, 27, 32, 35], [30, 32, 37, 40]]
    x = 10 * SEED_X[None, None]
    y = ref.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(np.floor(y[0, 0]), want)
    torch_y = F.interpolate(t(x), scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(np.floor(torch_y.numpy()[0, 0]), want)
    np.testing.assert_array_equal(y[0, 0, 0], [10, 12.5, 17.5, 20])


def test_seed_bed_of_nails() -> None:
    want = [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(ref.unpool(SEED_X[None, None], 2)[0, 0], want)


def test_seed_max_pool_and_max_unpool() -> None:
    y, idx = ref.max_pool(SEED_POOL[None, None], 2, return_indices=True)
    np.testing.assert_array_equal(y[0, 0], [[4, 4], [4, 4]])
    # the maxima sit at (1,1), (0,2), (2,1), (3,2): the seed's "max" picture
    np.testing.assert_array_equal(idx[0, 0], [[5, 2], [9, 14]])
    want = [[0, 0, 2, 0], [0, 1, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]]
    np.testing.assert_array_equal(ref.max_unpool(SEED_X[None, None], idx, 2)[0, 0], want)
    theirs = F.max_unpool2d(t(SEED_X[None, None]), t(idx), 2)
    np.testing.assert_array_equal(theirs[0, 0], want)


def test_max_pool_ties_and_nan() -> None:
    x = np.array([[[3.0, 3.0, np.nan, 1.0, np.nan, 2.0]]])
    y, idx = ref.max_pool(x, 3, return_indices=True)
    np.testing.assert_array_equal(y, [[[np.nan, np.nan]]])
    np.testing.assert_array_equal(idx, [[[2, 4]]])
    y, idx = ref.max_pool(x[..., :2], 2, return_indices=True)
    np.testing.assert_array_equal(idx, [[[0]]])  # equal maxima: the first one wins


def test_avg_pool_ceil_window_beyond_the_padding_is_not_counted() -> None:
    # L=4, k=3, s=2, ceil mode: the last window [2, 5) sticks out of the input and there is no
    # padding to count, so it divides by 2 even with count_include_pad (conventions §3.3).
    x = np.arange(4.0).reshape(1, 1, 4)
    for include in (True, False):
        y = ref.avg_pool(x, 3, 2, ceil_mode=True, count_include_pad=include)
        np.testing.assert_array_equal(y, [[[1.0, 2.5]]])
        np.testing.assert_array_equal(F.avg_pool1d(t(x), 3, 2, 0, True, include), [[[1.0, 2.5]]])
    # with padding 1 the left window counts its padding zero: (0 + 0 + 1) / 3
    y = ref.avg_pool(x, 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(y, F.avg_pool1d(t(x), 3, 2, 1, True).numpy())
    np.testing.assert_allclose(y[0, 0, 0], 1 / 3)


# PyTorch's nearest kernels round differently by path; each case is one where the paths differ.
NEAREST_PATHS = [
    # the 2-d kernel for small outputs copies when O == L, whatever the scale_factor ...
    ((1, 1, 1, 2), np.float32, dict(scale_factor=(1.0, 1.2)), [0, 1]),
    # ... while the 1-d kernel applies floor(dst / 1.2)
    ((1, 1, 2), np.float32, dict(scale_factor=1.2), [0, 0]),
    ((1, 1, 1, 1, 2), np.float64, dict(scale_factor=(1.0, 1.0, 1.2)), [0, 0]),
    # the 2-d kernel for small outputs takes dst // 2 when O == 2L
    ((1, 1, 1, 5), np.float64, dict(scale_factor=(1.0, 2.19)), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
    ((1, 1, 5), np.float64, dict(scale_factor=2.19), [0, 0, 0, 1, 1, 2, 2, 3, 3, 4]),
    # out_h + out_w > 128: the generic kernel, with the ratio in the input's precision
    ((1, 1, 1, 3), np.float64, dict(size=(1, 141)), None),
    ((1, 1, 1, 2), np.float32, dict(size=(1, 141), mode="nearest-exact"), None),
    ((1, 1, 2), np.float64, dict(size=141, mode="nearest-exact"), None),
]


@pytest.mark.parametrize(("shape", "dtype", "kw", "want"), NEAREST_PATHS)
def test_interpolate_nearest_rounding_paths(shape: Any, dtype: Any, kw: Any, want: Any) -> None:
    x = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    y = ref.interpolate(x, **kw)
    np.testing.assert_array_equal(y, F.interpolate(t(x), **kw).numpy())
    if want is not None:
        np.testing.assert_array_equal(y.ravel(), want)


def test_interpolate_single_output_samples_the_centre() -> None:
    # align_corners=False, O = 1: PyTorch 2.x uses r = L/O, so src = L/2 - 0.5 (conventions §6)
    x = np.arange(4.0).reshape(1, 1, 4)
    np.testing.assert_array_equal(ref.interpolate(x, size=1, mode="linear"), [[[1.5]]])
    np.testing.assert_array_equal(F.interpolate(t(x), size=1, mode="linear"), [[[1.5]]])


# ---------------------------------------------------------------------------------------------
# Reference errors: one check per message

X1 = np.zeros((1, 2, 4))
X2 = np.zeros((1, 4, 2, 2))

ERRORS = [
    (lambda: ref.max_pool(np.zeros((2, 4)), 2), ShapeError, "rank 3 or 4 or 5"),
    (lambda: ref.conv(X1, np.zeros((1, 2))), ShapeError, r"weight has shape \(1, 2\)"),
    (lambda: ref.conv(X1, np.zeros((3, 1, 2)), groups=2), ShapeError, "groups=2 must divide"),
    (lambda: ref.conv(X1, np.zeros((1, 1, 2))), ShapeError, "1 input channels per group"),
    (lambda: ref.conv(X1, np.zeros((1, 2, 2)), np.zeros(2)), ShapeError, r"expected \(1,\)"),
    (lambda: ref.conv(X1, np.zeros((1, 2, 9))), ShapeError, "larger than the padded input"),
    (lambda: ref.conv(X1.astype(int), np.zeros((1, 2, 2))), TypeError, "dtype int64"),
    (lambda: ref.conv_transpose(X1, np.zeros(3)), ShapeError, r"weight has shape \(3,\)"),
    (lambda: ref.conv_transpose(X1, np.zeros((3, 1, 2))), ShapeError,
     "weight has 3 input channels but x has 2"),
    (lambda: ref.conv_transpose(np.zeros((1, 3, 4)), np.zeros((3, 1, 2)), groups=2),
     ShapeError, "groups=2 must divide the input channels"),
    (lambda: ref.conv_transpose(X1, np.zeros((2, 1, 2)), stride=2, output_size=10), ShapeError,
     "ranges from 8 to 9"),
    (lambda: ref.max_unpool(X1, np.zeros((1, 2, 4)), 2), TypeError, "integer dtype"),
    (lambda: ref.max_unpool(X1, np.zeros((1, 2, 3), int), 2), ShapeError, "must match"),
    (lambda: ref.max_unpool(X1, np.zeros((1, 2, 4), int), 2, output_size=10), ShapeError,
     "strictly between 6 and 10"),
    (lambda: ref.max_unpool(X1, np.full((1, 2, 4), 8), 2), ShapeError, "outside the output"),
    (lambda: ref.unpool(X1, 2, position="random"), ShapeError, "'top-left' or 'center'"),
    (lambda: ref.interpolate(X1, 2, mode="cubic"), ShapeError, "is not one of"),
    (lambda: ref.interpolate(X1, 2, mode="bilinear"), ShapeError, "use 'linear'"),
    (lambda: ref.interpolate(X1, 2, mode="bicubic"), ShapeError, "bicubic' needs 2"),
    (lambda: ref.interpolate(X1, 2, align_corners=True), ShapeError, "align_corners can only"),
    (lambda: ref.interpolate(X1, 2, 2.0), ShapeError, "exactly one of size and scale_factor"),
    (lambda: ref.interpolate(X1, scale_factor=(2.0, 2.0)), ShapeError, "has 2 values"),
    (lambda: ref.interpolate(X1, scale_factor=0.1), ShapeError, "empty output"),
    (lambda: ref.pixel_shuffle(X2, 3), ShapeError, "not divisible by upscale_factor"),
]


@pytest.mark.parametrize(("call", "error", "match"), ERRORS)
def test_reference_errors(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------------------------
# The fast ops against the reference (same calls, same arguments)


def _same(fast: Any, naive: Any, arrays: tuple[Any, ...], *args: Any, **kwargs: Any) -> None:
    """Call the fast op and the reference the same way; same values, dtype, untouched inputs."""
    arrays = tuple(a for a in arrays if a is not None)
    before = frozen(*arrays)
    ours = fast(*args, **kwargs)
    assert_unchanged(before, *arrays)
    theirs = naive(*args, **{k: v for k, v in kwargs.items() if k != "method"})
    if isinstance(theirs, tuple):  # max_pool with return_indices
        assert isinstance(ours, tuple) and len(ours) == 2
        assert ours[1].dtype == np.int64
        np.testing.assert_array_equal(ours[1], theirs[1])
        ours, theirs = ours[0], theirs[0]
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
    assert_close(ours, theirs, theirs.dtype)


@given(conv_cases())
def test_fast_conv_matches_reference(case: dict[str, Any]) -> None:
    args = (case["x"], case["weight"], case["bias"])
    _same(upconv.conv, ref.conv, args, *args, **case["kwargs"])


@pytest.mark.parametrize("method", METHODS)
@given(case=conv_transpose_cases())
def test_fast_conv_transpose_matches_reference(method: str, case: dict[str, Any]) -> None:
    args = (case["x"], case["weight"], case["bias"])
    _same(upconv.conv_transpose, ref.conv_transpose, args, *args, **case["kwargs"],
          method=method)


@given(max_pool_cases())
def test_fast_max_pool_matches_reference(case: dict[str, Any]) -> None:
    _same(upconv.max_pool, ref.max_pool, (case["x"],), case["x"], **case["kwargs"])


@given(avg_pool_cases())
def test_fast_avg_pool_matches_reference(case: dict[str, Any]) -> None:
    _same(upconv.avg_pool, ref.avg_pool, (case["x"],), case["x"], **case["kwargs"])


@given(max_unpool_cases())
def test_fast_max_unpool_matches_reference(case: dict[str, Any]) -> None:
    args = (case["x"], case["indices"])
    _same(upconv.max_unpool, ref.max_unpool, args, *args, **case["kwargs"])


@given(unpool_cases())
def test_fast_unpool_matches_reference(case: dict[str, Any]) -> None:
    _same(upconv.unpool, ref.unpool, (case["x"],), case["x"], case["kernel_size"],
          position=case["position"])


@given(interpolate_cases())
def test_fast_interpolate_matches_reference(case: dict[str, Any]) -> None:
    _same(upconv.interpolate, ref.interpolate, (case["x"],), case["x"], **case["kwargs"])


@given(pixel_shuffle_cases())
def test_fast_pixel_shuffle_matches_reference(case: dict[str, Any]) -> None:
    _same(upconv.pixel_shuffle, ref.pixel_shuffle, (case["x"],), case["x"],
          case["upscale_factor"])
