"""conv and conv_backward against torch.nn.functional.conv{1,2,3}d and torch.autograd."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError, conv, conv_backward, conv_transpose

gemm = importlib.import_module("upconv.ops._gemm")
transpose_module = importlib.import_module("upconv.ops.transpose")

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
MAX_SIZE = {1: 7, 2: 5, 3: 4}


def dims(draw, nd: int, lo: int, hi: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


def arg(draw, values: tuple[int, ...]):
    """An int when every dimension agrees (sometimes), else the tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = dims(draw, nd, 1, 3)
    dil = dims(draw, nd, 1, 2)
    form = draw(st.sampled_from(["int", "pairs", "same", "valid"]))
    stride = (1,) * nd if form == "same" else dims(draw, nd, 1, 3)
    if form == "pairs":
        pairs = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    elif form == "int":
        pairs = tuple((p, p) for p in dims(draw, nd, 0, 2))
    elif form == "same":  # PyTorch's rule: total d(k-1), the odd element at the end
        totals = [d * (kk - 1) for d, kk in zip(dil, k, strict=True)]
        pairs = tuple((t // 2, t - t // 2) for t in totals)
    else:
        pairs = tuple((0, 0) for _ in range(nd))
    size = []
    for ax in range(nd):
        k_eff = dil[ax] * (k[ax] - 1) + 1
        lo = max(1, k_eff - sum(pairs[ax]))
        size.append(draw(st.integers(lo, lo + MAX_SIZE[nd])))
    if form == "int":
        padding = arg(draw, tuple(p for p, _ in pairs))
    elif form == "pairs":
        padding = pairs
    else:
        padding = form
    return dict(
        nd=nd, groups=groups, cin=cin, cout=cout, k=k, stride=arg(draw, stride),
        dilation=arg(draw, dil), padding=padding, pairs=pairs, size=tuple(size),
        batch=draw(st.sampled_from([None, 1, 3])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        bias=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)),
    )


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    lead = () if case["batch"] is None else (case["batch"],)
    x = rng.standard_normal((*lead, case["cin"], *case["size"])).astype(case["dtype"])
    w = rng.standard_normal(
        (case["cout"], case["cin"] // case["groups"], *case["k"])
    ).astype(case["dtype"])
    b = rng.standard_normal(case["cout"]).astype(case["dtype"]) if case["bias"] else None
    return rng, x, w, b


def torch_conv(case, x, w, b):
    """PyTorch's conv; (before, after) pairs go through F.pad, as PyTorch needs."""
    fn = TORCH_CONV[case["nd"]]
    if case["padding"] in ("same", "valid"):
        return fn(x, w, b, case["stride"], case["padding"], case["dilation"], case["groups"])
    pad = [v for before_after in reversed(case["pairs"]) for v in before_after]
    return fn(F.pad(x, pad), w, b, case["stride"], 0, case["dilation"], case["groups"])


def ours(case):
    return dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@given(conv_cases())
def test_forward_and_gradients_match_torch(case):
    rng, x, w, b = arrays(case)
    dtype = case["dtype"]
    keep = frozen(x, w, *([b] if b is not None else []))
    y = conv(x, w, b, **ours(case))

    xt, wt = t(x, grad=True), t(w, grad=True)
    bt = t(b, grad=True) if b is not None else None
    yt = torch_conv(case, xt, wt, bt)
    assert y.dtype == dtype
    assert_close(y, yt, dtype)

    gy = rng.standard_normal(y.shape).astype(dtype)
    yt.backward(t(gy))
    gx, gw, gb = conv_backward(gy, x, w, b, **ours(case))
    assert gx.dtype == gw.dtype == dtype
    assert_close(gx, xt.grad, dtype)
    assert_close(gw, wt.grad, dtype)
    if b is None:
        assert gb is None
    else:
        assert gb.dtype == dtype
        assert_close(gb, bt.grad, dtype)
    assert_unchanged(keep, x, w, *([b] if b is not None else []))


@given(conv_cases())
def test_adjoint_identity(case):
    # <conv(x), y> = <x, conv_transpose(y)> with the same weight: conv_transpose is C.T
    rng, x, w, _ = arrays(case)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    y = conv(x, w, **ours(case))
    v = rng.standard_normal(y.shape)
    back = conv_transpose(v, w, stride=case["stride"], padding=case["pairs"],
                          groups=case["groups"], dilation=case["dilation"],
                          output_size=case["size"])
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y, v), np.vdot(x, back), rtol=1e-9, atol=1e-9)


def test_conv_backward_grad_input_is_a_call_of_conv_transpose(monkeypatch):
    calls = []
    real = transpose_module.conv_transpose

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(transpose_module, "conv_transpose", spy)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 2, 3, 2))
    gy = rng.standard_normal(conv(x, w, stride=2, padding=1, groups=2).shape)
    gx, _, _ = conv_backward(gy, x, w, stride=2, padding=1, groups=2)
    assert len(calls) == 1
    args, kwargs = calls[0]
    assert args[1] is w  # the very same weight, no flip, no copy
    expected = real(gy, w, None, 2, 1, 0, 2, output_size=(7, 6))
    np.testing.assert_array_equal(gx, expected)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding", ["same", ((0, 2), (1, 0)), 1])
def test_conv_backward_grad_input_equals_conv_transpose_for_odd_sizes(padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 8, 9))
    w = rng.standard_normal((3, 2, 4, 3))
    stride = 1 if padding == "same" else (3, 2)
    y = conv(x, w, stride=stride, padding=padding)
    gy = rng.standard_normal(y.shape)
    gx, _, _ = conv_backward(gy, x, w, stride=stride, padding=padding)
    xt = t(x, grad=True)
    pad = padding if padding in ("same", 1) else 0
    xin = xt if pad != 0 else F.pad(xt, [1, 0, 0, 2])
    F.conv2d(xin, t(w), stride=stride, padding=pad).backward(t(gy))
    assert_close(gx, xt.grad)


def test_seed_002_five_by_five_input_three_by_three_kernel_gives_three_by_three():
    # Seed 002: input (5, 5, 3), kernel (3, 3, 3), stride 1 -> output (3, 3, 1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 5))
    w = rng.standard_normal((1, 3, 3, 3))
    y = conv(x, w)
    assert y.shape == (1, 3, 3)
    assert_close(y, F.conv2d(t(x), t(w)))


def test_seed_004_four_by_four_input_three_by_three_kernel_gives_two_by_two():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3))
    y = conv(x, w)
    np.testing.assert_array_equal(y, [[[[45.0, 54.0], [81.0, 90.0]]]])
    assert_close(y, F.conv2d(t(x), t(w)))


def test_float32_stays_float32_and_unbatched_stays_unbatched():
    x = np.ones((2, 5), dtype=np.float32)
    w = np.ones((3, 2, 2), dtype=np.float32)
    y = conv(x, w, bias=np.zeros(3, dtype=np.float32))
    assert y.dtype == np.float32 and y.shape == (3, 4)
    gx, gw, gb = conv_backward(np.ones_like(y), x, w, bias=np.zeros(3, dtype=np.float32))
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (3,)


def test_empty_batch():
    y = conv(np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3)))
    assert y.shape == (0, 3, 3, 3)


@pytest.mark.parametrize("budget", [40, 2000])  # bands of rows; groups of samples
def test_large_inputs_are_processed_in_blocks(monkeypatch, budget):
    monkeypatch.setattr(gemm, "MAX_COLUMN_ELEMENTS", budget)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 6, 7))
    w = rng.standard_normal((6, 2, 3, 3))
    b = rng.standard_normal(6)
    y = conv(x, w, b, stride=(1, 2), padding=1, groups=2)
    xt, wt = t(x, grad=True), t(w, grad=True)
    yt = F.conv2d(xt, wt, t(b), (1, 2), 1, 1, 2)
    assert_close(y, yt)
    gy = rng.standard_normal(y.shape)
    yt.backward(t(gy))
    gx, gw, _ = conv_backward(gy, x, w, b, stride=(1, 2), padding=1, groups=2)
    assert_close(gx, xt.grad)
    assert_close(gw, wt.grad)


def test_public_names():
    assert upconv.conv is conv and upconv.conv_backward is conv_backward


# ---------------------------------------------------------------------------------------------
# Errors: one message each

X = np.zeros((1, 4, 6, 6))
W = np.zeros((2, 4, 3, 3))


def test_channel_mismatch():
    with pytest.raises(ShapeError, match=r"conv: weight has 4 input channels per group, so "
                       r"with groups=1 it expects 4, but x has 3 \(weight layout \(C_out, "
                       r"C_in/groups, \*k\)"):
        conv(np.zeros((1, 3, 6, 6)), W)


def test_groups_must_divide_input_channels():
    with pytest.raises(ShapeError, match=r"conv: groups=3 does not divide the 4 input "
                       r"channels of x"):
        conv(X, np.zeros((3, 1, 3, 3)), groups=3)


def test_groups_must_divide_output_channels():
    with pytest.raises(ShapeError, match=r"conv: groups=2 does not divide the 3 output "
                       r"channels of weight"):
        conv(X, np.zeros((3, 2, 3, 3)), groups=2)


def test_groups_must_be_positive():
    with pytest.raises(ShapeError, match=r"conv: groups=0 must be a positive integer"):
        conv(X, W, groups=0)


def test_weight_rank_must_match_x_spatial_rank():
    with pytest.raises(ShapeError, match=r"conv: x has shape \(1, 4, 6, 6\) \(rank 4\) but "
                       r"weight has shape \(2, 4, 3\) \(1 spatial dimension\); expected x of "
                       r"rank 3 \(N, C, \*spatial\) or unbatched \(C, \*spatial\) of rank 2"):
        conv(X, np.zeros((2, 4, 3)))


def test_weight_rank_must_be_3_to_5():
    with pytest.raises(ShapeError, match=r"conv: weight has shape \(2, 4\) \(rank 2\); "
                       r"expected \(C_out, C_in/groups, \*k\) with 1, 2 or 3 spatial"):
        conv(X, np.zeros((2, 4)))


def test_integer_dtype():
    with pytest.raises(TypeError, match=r"conv: x has dtype int64; a floating dtype"):
        conv(X.astype(np.int64), W)


def test_complex_dtype():
    with pytest.raises(TypeError, match=r"conv: weight has dtype complex128; a floating dtype"):
        conv(X, W.astype(complex))


def test_mixed_dtypes():
    with pytest.raises(TypeError, match=r"conv: x has dtype float32 but weight has dtype "
                       r"float64"):
        conv(X.astype(np.float32), W)


def test_bias_wrong_shape():
    with pytest.raises(ShapeError, match=r"conv: bias has shape \(4,\) but the output has 2 "
                       r"channels; expected shape \(2,\)"):
        conv(X, W, bias=np.zeros(4))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ShapeError, match=r"conv: the dilated kernel d\*\(k-1\)\+1=5"):
        conv(X[:, :, :4, :4], W, dilation=2)


def test_same_padding_needs_stride_one():
    with pytest.raises(ShapeError, match=r"conv: padding='same' requires stride=1"):
        conv(X, W, stride=2, padding="same")


def test_grad_output_wrong_shape():
    with pytest.raises(ShapeError, match=r"conv_backward: grad_output has shape \(1, 2, 3, 3\) "
                       r"but the forward output has shape \(1, 2, 4, 4\)"):
        conv_backward(np.zeros((1, 2, 3, 3)), X, W)


def test_inputs_not_mutated_by_backward():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 5, 5))
    w = rng.standard_normal((2, 4, 3, 3))
    b = rng.standard_normal(2)
    gy = rng.standard_normal((2, 2, 3, 3))
    keep = frozen(gy, x, w, b)
    conv_backward(gy, x, w, b)
    assert_unchanged(keep, gy, x, w, b)


@pytest.mark.parametrize("groups", [1, 2])
def test_stride_one_layer_with_large_samples_matches_torch(groups):
    # >= 4096 output positions per sample and rows >= 32 wide: the direct im2col, one sample
    # at a time, writing y in place (the default routing, no constants changed)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 66, 70)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    y = conv(x, w, b, padding=1, groups=groups)
    xt, wt, bt = t(x, grad=True), t(w, grad=True), t(b, grad=True)
    yt = F.conv2d(xt, wt, bt, 1, 1, 1, groups)
    assert_close(y, yt, np.float32)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(t(gy))
    gx, gw, gb = conv_backward(gy, x, w, b, padding=1, groups=groups)
    assert_close(gx, xt.grad, np.float32)
    # sums over 3 * 66 * 70 float32 products: summation order shows at 1e-4
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=1e-3, atol=1e-2)
