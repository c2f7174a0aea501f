"""conv_transpose (every method) and conv_transpose_backward against PyTorch."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError, conv, conv_transpose, conv_transpose_backward

gemm = importlib.import_module("upconv.ops._gemm")
transpose_module = importlib.import_module("upconv.ops.transpose")

METHODS = ["auto", "scatter", "direct", "matrix", "subpixel"]
TORCH_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
TORCH_MODULE = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d,
                3: torch.nn.ConvTranspose3d}
MAX_SIZE = {1: 5, 2: 4, 3: 3}


def dims(draw, nd: int, lo: int, hi: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


def arg(draw, values: tuple[int, ...]):
    """An int when every dimension agrees (sometimes), else the tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


@st.composite
def transpose_cases(draw, pairs: bool = False, max_kernel: int = 3):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 3))
    k = dims(draw, nd, 1, max_kernel)
    stride = dims(draw, nd, 1, 3)
    dil = dims(draw, nd, 1, 2)
    size = dims(draw, nd, 1, MAX_SIZE[nd])
    # output_padding < max(stride, dilation), PyTorch's rule
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil, strict=True))
    full = [s * (i - 1) + d * (kk - 1) + 1
            for s, i, d, kk in zip(stride, size, dil, k, strict=True)]
    pads = []
    for f, a in zip(full, op, strict=True):
        room = f + a - 1  # the output keeps at least one element
        if pairs:
            before = draw(st.integers(0, min(3, room)))
            pads.append((before, draw(st.integers(0, min(3, room - before)))))
        else:
            p = draw(st.integers(0, min(2, room // 2)))
            pads.append((p, p))
    return dict(
        nd=nd, groups=groups, cin=groups * draw(st.integers(1, 2)),
        cout=groups * draw(st.integers(1, 2)), k=k, stride=arg(draw, stride),
        dilation=arg(draw, dil), output_padding=arg(draw, op), pairs=tuple(pads),
        padding=tuple(pads) if pairs else arg(draw, tuple(p for p, _ in pads)),
        full=tuple(full), size=size, batch=draw(st.sampled_from([None, 1, 2])),
        dtype=draw(st.sampled_from([np.float32, np.float64])), bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    lead = () if case["batch"] is None else (case["batch"],)
    x = rng.standard_normal((*lead, case["cin"], *case["size"])).astype(case["dtype"])
    w = rng.standard_normal(
        (case["cin"], case["cout"] // case["groups"], *case["k"])
    ).astype(case["dtype"])
    b = rng.standard_normal(case["cout"]).astype(case["dtype"]) if case["bias"] else None
    return rng, x, w, b


def kwargs(case):
    return dict(stride=case["stride"], padding=case["padding"],
                output_padding=case["output_padding"], groups=case["groups"],
                dilation=case["dilation"])


def torch_transpose(case, x, w, b):
    """PyTorch's conv_transpose; (before, after) pairs crop its padding-0 output."""
    fn = TORCH_T[case["nd"]]
    if all(p == q for p, q in case["pairs"]):
        return fn(x, w, b, case["stride"], [p for p, _ in case["pairs"]],
                  case["output_padding"], case["groups"], case["dilation"])
    y = fn(x, w, b, case["stride"], 0, case["output_padding"], case["groups"], case["dilation"])
    crop = tuple(slice(p, y.shape[y.ndim - case["nd"] + ax] - q)
                 for ax, (p, q) in enumerate(case["pairs"]))
    return y[(..., *crop)]


def check_against_torch(case):
    rng, x, w, b = arrays(case)
    dtype = case["dtype"]
    inputs = [x, w] + ([b] if b is not None else [])
    keep = frozen(*inputs)
    xt, wt = t(x, grad=True), t(w, grad=True)
    bt = t(b, grad=True) if b is not None else None
    yt = torch_transpose(case, xt, wt, bt)
    results = {m: conv_transpose(x, w, b, **kwargs(case), method=m) for m in METHODS}
    for method, y in results.items():
        assert y.dtype == dtype, method
        assert_close(y, yt, dtype, err_msg=method)
    assert_unchanged(keep, *inputs)

    gy = rng.standard_normal(yt.shape).astype(dtype)
    yt.backward(t(gy))
    gx, gw, gb = conv_transpose_backward(gy, x, w, b, **kwargs(case))
    assert gx.dtype == gw.dtype == dtype
    assert_close(gx, xt.grad, dtype)
    assert_close(gw, wt.grad, dtype)
    if b is None:
        assert gb is None
    else:
        assert_close(gb, bt.grad, dtype)
    assert_unchanged(keep, *inputs)


@given(transpose_cases())
def test_every_method_and_the_gradients_match_torch(case):
    check_against_torch(case)


@given(transpose_cases(pairs=True))
def test_padding_pairs_crop_asymmetrically(case):
    check_against_torch(case)


@given(transpose_cases(max_kernel=4))
def test_both_gemm_kernels_match_torch(case):
    # "auto" picks the sub-pixel GEMM or GEMM + col2im by cost; check both on every shape.
    _, x, w, b = arrays(case)
    xb = x if case["batch"] is not None else x[None]
    yt = torch_transpose(case, t(xb), t(w), None if b is None else t(b))
    nd = case["nd"]

    def per_dim(v):
        return (v,) * nd if isinstance(v, int) else v

    before = [p for p, _ in case["pairs"]]
    args = (xb, w, b, per_dim(case["stride"]), before, per_dim(case["dilation"]),
            case["groups"], yt.shape[2:])
    assert_close(gemm.conv_transpose_forward(*args), yt, case["dtype"])
    assert_close(gemm.conv_transpose_phases(*args), yt, case["dtype"])


@st.composite
def output_size_cases(draw):
    case = draw(transpose_cases())
    nd, s = case["nd"], case["stride"]
    s = (s,) * nd if isinstance(s, int) else s
    lo = [f - 2 * p for f, (p, _) in zip(case["full"], case["pairs"], strict=True)]
    assume(all(o + si - 1 >= 1 for o, si in zip(lo, s, strict=True)))
    target = tuple(draw(st.integers(max(1, o), o + si - 1)) for o, si in zip(lo, s, strict=True))
    form = draw(st.sampled_from(["spatial", "full"]))
    return case, target, form


@given(output_size_cases())
def test_output_size_matches_torch_modules(data):
    case, target, form = data
    _, x, w, b = arrays(case)
    nd, cout = case["nd"], case["cout"]
    module = TORCH_MODULE[nd](
        case["cin"], cout, case["k"], case["stride"], [p for p, _ in case["pairs"]], 0,
        case["groups"], b is not None, case["dilation"],
    ).to(torch.float32 if case["dtype"] == np.float32 else torch.float64)
    with torch.no_grad():
        module.weight.copy_(t(w))
        if b is not None:
            module.bias.copy_(t(b))
    lead = () if case["batch"] is None else (case["batch"],)
    size = target if form == "spatial" else (*lead, cout, *target)
    expected = module(t(x), output_size=list(size))
    kw = kwargs(case)
    kw.pop("output_padding")
    for method in METHODS:
        y = conv_transpose(x, w, b, **kw, output_size=size, method=method)
        assert_close(y, expected, case["dtype"], err_msg=method)
    gx, _, _ = conv_transpose_backward(np.ones(y.shape, y.dtype), x, w, b, **kw,
                                       output_size=size)
    assert gx.shape == x.shape


def test_seed_002_every_method():
    # Seed 002: [[1, 2], [3, 4]] with the kernel [[5, 5], [5, 5]], stride 1, no padding.
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.full((1, 1, 2, 2), 5.0)
    expected = [[[[5.0, 15.0, 10.0], [20.0, 50.0, 30.0], [15.0, 35.0, 20.0]]]]
    for method in METHODS:
        np.testing.assert_array_equal(conv_transpose(x, w, method=method), expected, method)
    assert_close(conv_transpose(x, w), F.conv_transpose2d(t(x), t(w)))


def test_seed_002_stamps_one_input_element_at_a_time():
    # "we take an element of the input and multiply it to every element of kernel"
    w = np.full((1, 1, 2, 2), 5.0)
    one = np.zeros((1, 1, 2, 2))
    one[0, 0, 0, 1] = 2.0
    expected = [[[[0.0, 10.0, 10.0], [0.0, 10.0, 10.0], [0.0, 0.0, 0.0]]]]
    for method in METHODS:
        np.testing.assert_array_equal(conv_transpose(one, w, method=method), expected, method)


def test_seed_004_transpose_of_the_four_by_four_convolution_is_four_by_four():
    # Relationship 7: conv i=4, k=3, s=1, p=0 -> 2x2; its transpose maps 2x2 back to 4x4,
    # equal to a direct convolution of the 2x2 input padded with k-1 = 2 zeros.
    rng = np.random.default_rng(5)
    y = rng.standard_normal((1, 1, 2, 2))
    w = rng.standard_normal((1, 1, 3, 3))
    back = conv_transpose(y, w)
    assert back.shape == (1, 1, 4, 4)
    direct = conv(np.pad(y, ((0, 0), (0, 0), (2, 2), (2, 2))), w[:, :, ::-1, ::-1].copy())
    np.testing.assert_allclose(back, direct, rtol=1e-12)
    assert_close(back, F.conv_transpose2d(t(y), t(w)))


def test_subpixel_convolution_equals_strided_transposed_convolution():
    # r^2 stride-1 convolutions (one per output phase, each with its share of the taps)
    # followed by PyTorch's pixel_shuffle equal one stride-r transposed convolution.
    rng = np.random.default_rng(6)
    r, k = 2, 4
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((3, 2, k, k))  # (C_in, C_out, k, k)
    # Full output position t = i*r + a, so phase (u, v) takes taps a = u + r*q, b = v + r*q':
    # y[u::r, v::r][m, n] = sum_{q, q'} x[m - q, n - q'] w[u + r q, v + r q'], a stride-1
    # convolution with the flipped 2x2 sub-kernel and padding 1 before.
    phases = np.empty((2 * r * r, 3, k // r, k // r))
    for u in range(r):
        for v in range(r):
            sub = w[:, :, u::r, v::r][:, :, ::-1, ::-1]  # (C_in, C_out, 2, 2) flipped
            for c in range(2):
                phases[c * r * r + u * r + v] = sub[:, c]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    shuffled = F.pixel_shuffle(t(conv(xp, phases)), r)  # (2, 2, 2*6, 2*7)
    expected = F.conv_transpose2d(t(x), t(w), stride=r)  # (2, 2, 12, 14)
    assert_close(shuffled.numpy(), expected)
    assert_close(conv_transpose(x, w, stride=r, method="subpixel"), expected)


def test_conv_transpose_backward_grad_input_is_a_call_of_conv(monkeypatch):
    calls = []
    real = transpose_module.conv

    def spy(*args, **kw):
        calls.append((args, kw))
        return real(*args, **kw)

    monkeypatch.setattr(transpose_module, "conv", spy)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 5, 4))
    w = rng.standard_normal((4, 3, 3, 2))
    gy = rng.standard_normal((2, 6, 10, 7))
    gx, _, _ = conv_transpose_backward(gy, x, w, stride=2, padding=1, output_padding=1,
                                       groups=2)
    assert len(calls) == 1
    args, kw = calls[0]
    assert args[1] is w  # the very same weight
    np.testing.assert_array_equal(gx, real(gy, w, stride=2, padding=1, groups=2))


def test_output_padding_beyond_stride_with_dilation():
    # output_padding may reach dilation - 1 > stride - 1; the gradient still has x's shape
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 2, 4))
    w = rng.standard_normal((2, 3, 3))
    xt, wt = t(x, grad=True), t(w, grad=True)
    yt = F.conv_transpose1d(xt, wt, None, 1, 0, 2, 1, 3)
    for method in METHODS:
        y = conv_transpose(x, w, stride=1, output_padding=2, dilation=3, method=method)
        assert_close(y, yt, err_msg=method)
    gy = rng.standard_normal(y.shape)
    yt.backward(t(gy))
    gx, gw, _ = conv_transpose_backward(gy, x, w, output_padding=2, dilation=3)
    assert_close(gx, xt.grad)
    assert_close(gw, wt.grad)


@pytest.mark.parametrize("method", METHODS)
def test_float32_stays_float32(method):
    x = np.ones((2, 3, 3), dtype=np.float32)
    w = np.ones((2, 1, 2, 2), dtype=np.float32)
    b = np.ones(1, dtype=np.float32)
    y = conv_transpose(x, w, b, stride=2, method=method)
    assert y.dtype == np.float32 and y.shape == (1, 6, 6)


@pytest.mark.parametrize("budget", [40, 2000])  # bands of rows; groups of samples
def test_large_inputs_are_processed_in_blocks(monkeypatch, budget):
    monkeypatch.setattr(gemm, "MAX_COLUMN_ELEMENTS", budget)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 4, 3, 4))
    w = rng.standard_normal((4, 3, 4, 3))
    b = rng.standard_normal(6)
    xt, wt = t(x, grad=True), t(w, grad=True)
    yt = F.conv_transpose2d(xt, wt, t(b), 2, 1, (1, 0), 2)
    for method in ("auto", "direct", "subpixel"):
        y = conv_transpose(x, w, b, stride=2, padding=1, output_padding=(1, 0), groups=2,
                           method=method)
        assert_close(y, yt, err_msg=method)
    gy = rng.standard_normal(y.shape)
    yt.backward(t(gy))
    gx, gw, _ = conv_transpose_backward(gy, x, w, b, stride=2, padding=1,
                                        output_padding=(1, 0), groups=2)
    assert_close(gx, xt.grad)
    assert_close(gw, wt.grad)
    args = (x, w, b, (2, 2), (1, 1), (1, 1), 2, yt.shape[2:])
    assert_close(gemm.conv_transpose_forward(*args), yt)
    assert_close(gemm.conv_transpose_phases(*args), yt)


def test_public_names():
    assert upconv.conv_transpose is conv_transpose
    assert upconv.conv_transpose_backward is conv_transpose_backward


# ---------------------------------------------------------------------------------------------
# Errors: one message each

X = np.zeros((1, 4, 3, 3))
W = np.zeros((4, 2, 3, 3))


def test_channel_mismatch():
    with pytest.raises(ShapeError, match=r"conv_transpose: weight has 4 input channels but x "
                       r"has 3 \(weight layout \(C_in, C_out/groups, \*k\)"):
        conv_transpose(np.zeros((1, 3, 3, 3)), W)


def test_groups_must_divide_channels():
    with pytest.raises(ShapeError, match=r"conv_transpose: groups=3 does not divide the 4 "
                       r"input channels of x"):
        conv_transpose(X, W, groups=3)


def test_weight_rank_must_match_x_spatial_rank():
    with pytest.raises(ShapeError, match=r"conv_transpose: x has shape \(1, 4, 3, 3\) \(rank "
                       r"4\) but weight has shape \(4, 2, 3\) \(1 spatial dimension\); "
                       r"expected x of rank 3 \(N, C, \*spatial\) or unbatched"):
        conv_transpose(X, np.zeros((4, 2, 3)))


def test_wrong_rank():
    with pytest.raises(ShapeError, match=r"conv_transpose: weight has shape \(4, 2, 3, 3, 3, "
                       r"3\) \(rank 6\); expected \(C_in, C_out/groups, \*k\) with 1, 2 or 3"):
        conv_transpose(X, np.zeros((4, 2, 3, 3, 3, 3)))


def test_unreachable_output_size_quotes_the_range():
    with pytest.raises(ShapeError, match=r"conv_transpose: output_size=\(9, 6\) is not "
                       r"reachable: in dimension 0 the output size ranges from 5 to 6"):
        conv_transpose(X, W, stride=2, padding=1, output_size=(9, 6))


def test_output_size_with_wrong_length():
    with pytest.raises(ShapeError, match=r"conv_transpose: output_size=\(5, 5, 5\) has 3 "
                       r"entries; give the 2 spatial sizes or \(N, C, \*spatial\) \(4 entries\)"):
        conv_transpose(X, W, output_size=(5, 5, 5))


def test_output_padding_too_big():
    with pytest.raises(ShapeError, match=r"conv_transpose: output_padding=2 must be smaller "
                       r"than stride=2 or dilation=1"):
        conv_transpose(X[:, :, :, 0], W[..., 0], stride=2, output_padding=2)


def test_integer_dtype():
    with pytest.raises(TypeError, match=r"conv_transpose: x has dtype int32; a floating dtype"):
        conv_transpose(X.astype(np.int32), W)


def test_complex_dtype():
    with pytest.raises(TypeError, match=r"conv_transpose: x has dtype complex64; a floating"):
        conv_transpose(X.astype(np.complex64), W)


def test_bias_wrong_shape():
    with pytest.raises(ShapeError, match=r"conv_transpose: bias has shape \(4,\) but the "
                       r"output has 2 channels; expected shape \(2,\)"):
        conv_transpose(X, W, bias=np.zeros(4))


def test_unknown_method():
    with pytest.raises(ShapeError, match=r"conv_transpose: method='fft' is not one of 'auto', "
                       r"'scatter', 'direct', 'matrix', 'subpixel'"):
        conv_transpose(X, W, method="fft")


def test_string_padding_is_rejected():
    with pytest.raises(ShapeError, match=r"conv_transpose: padding='same' is not understood"):
        conv_transpose(X, W, padding="same")


def test_backward_grad_output_wrong_shape():
    with pytest.raises(ShapeError, match=r"conv_transpose_backward: grad_output has shape "
                       r"\(1, 2, 3, 3\) but the forward output has shape \(1, 2, 5, 5\)"):
        conv_transpose_backward(np.zeros((1, 2, 3, 3)), X, W)


@pytest.mark.parametrize("method", METHODS)
def test_inputs_not_mutated(method):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 3, 5))
    w = rng.standard_normal((4, 1, 3, 2))
    b = rng.standard_normal(2)
    keep = frozen(x, w, b)
    conv_transpose(x, w, b, stride=(2, 1), padding=((1, 0), (0, 1)), groups=2, method=method)
    assert_unchanged(keep, x, w, b)
    gy = rng.standard_normal((2, 2, 6, 5))
    keep = frozen(gy, x, w, b)
    conv_transpose_backward(gy, x, w, b, stride=(2, 1), padding=((1, 0), (0, 1)), groups=2)
    assert_unchanged(keep, gy, x, w, b)


def test_matrix_method_needs_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match=r"pip install 'upconv\[sparse\]'"):
        conv_transpose(X, W, method="matrix")


def test_unbatched_reading_is_explained():
    with pytest.raises(ShapeError, match=r"conv_transpose: weight has 4 input channels but x "
                       r"has 1 .*x of shape \(1, 4, 3, 3\) is read as unbatched"):
        conv_transpose(X, np.zeros((4, 2, 3, 3, 3)))
