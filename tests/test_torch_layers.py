"""upconv.torch: the Upsample layer's methods and checkerboard_report, against PyTorch's own ops.

Expected values come from PyTorch (F.interpolate, F.max_unpool, F.conv_transpose, F.pixel_shuffle),
from upconv's NumPy ops, or from brute-force loops written here; never from upconv.torch itself.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import upconv
from upconv import ShapeError
from upconv.torch import (
    METHODS,
    Upsample,
    checkerboard_report,
    icnr_,
    paired_max_pool,
)

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
SIZE = {1: (7,), 2: (7, 5), 3: (5, 3, 4)}


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def layer(*args, seed: int = 0, **kw) -> Upsample:
    torch.manual_seed(seed)
    return Upsample(*args, **kw).double()


def unpool_inputs(c: int, pre: tuple[int, ...], s: int, seed: int = 1, ceil_mode: bool = True):
    """A pooled tensor and its switches from PyTorch's own max pool."""
    x = rand(2, c, *pre, seed=seed)
    pool = paired_max_pool(s, len(pre), ceil_mode=ceil_mode)
    assert isinstance(pool, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))
    assert pool.return_indices and pool.ceil_mode == ceil_mode
    assert pool.kernel_size == pool.stride == (s,) * len(pre)
    return pool(x)


# ---------------------------------------------------------------------------------------------
# Output shapes, odd sizes


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("method", METHODS)
def test_default_output_is_scale_times_input(method, dim):
    size = SIZE[dim]
    up = layer(3, 4, 2, method, dim)
    x = rand(2, 3, *size)
    kw = {}
    if method == "unpool":
        x, idx = unpool_inputs(3, tuple(2 * v for v in size), 2)
        kw["indices"] = idx
    y = up(x, **kw)
    assert y.shape == (2, 4, *(2 * v for v in size))
    assert y.dtype == torch.float64


# (method, kernel_size) -> output sizes reachable from 7 with scale 2, and one that is not
REACH = {
    ("transposed", None): ([14, 15], [13, 16]),
    ("transposed", 3): ([13, 14], [12, 15]),
    ("transposed-bilinear", None): ([14, 15], [13, 16]),
    ("nearest-conv", None): ([13, 14, 1, 20], []),
    ("bilinear-conv", None): ([13, 14, 3, 29], []),
    ("pixel-shuffle", None): ([13, 14], [12, 15]),
    ("unpool", None): ([13, 14, 15], [12, 16]),
    ("bed-of-nails", None): ([13, 14], [12, 15]),
}


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize(("method", "k"), list(REACH))
def test_output_size_reachable_and_not(method, k, dim):
    ok, bad = REACH[(method, k)]
    up = layer(2, 3, 2, method, dim, kernel_size=k)
    sizes = (7,) + (4,) * (dim - 1)  # odd size in the first dimension, 4 -> 8 elsewhere
    for target in ok:
        out = (target,) + (8,) * (dim - 1)
        kw = {}
        if method == "unpool":
            x, kw["indices"] = unpool_inputs(2, out, 2, ceil_mode=target < 15)
            assert x.shape[2:] == sizes
        else:
            x = rand(1, 2, *sizes)
        assert up(x, output_size=out, **kw).shape == (x.shape[0], 3, *out)
        assert up(x, output_size=(x.shape[0], 3, *out), **kw).shape[2:] == out  # N, C ignored
        lo, hi = up.output_size_range(sizes)[0]
        assert lo <= target and (hi is None or target <= hi)
    for target in bad:
        out = (target,) + (8,) * (dim - 1)
        x = rand(1, 2, *sizes)
        kw = {"indices": torch.zeros_like(x, dtype=torch.int64)} if method == "unpool" else {}
        lo, hi = up.output_size_range(sizes)[0]
        with pytest.raises(ShapeError, match=f"ranges from {lo} to {hi}"):
            up(x, output_size=out, **kw)


def test_transposed_output_size_matches_pytorch_convtranspose():
    # 7 -> 13 with kernel 3 is PyTorch's own output_size rule on the layer's ConvTranspose1d
    up = layer(2, 2, 2, "transposed", 1, kernel_size=3)
    x = rand(1, 2, 7)
    ref = F.conv_transpose1d(x, up.conv.weight, up.conv.bias, stride=2, padding=1,
                             output_padding=0)
    torch.testing.assert_close(up(x, output_size=13), ref)
    assert up(x).shape[-1] == 14


@pytest.mark.parametrize(("s", "k", "padding", "output_padding"), [
    (2, None, 1, 0), (3, None, 2, 1), (4, None, 2, 0), (1, None, 1, 0), (2, 3, 1, 1),
    (3, 2, 0, 1), (2, 5, 2, 1),
])
def test_transposed_arithmetic(s, k, padding, output_padding):
    # o = s(L-1) + k - 2p + a = sL, worked by hand per case
    up = Upsample(1, 1, s, "transposed", 1, kernel_size=k)
    conv = up.conv
    assert isinstance(conv, nn.ConvTranspose1d)
    assert conv.kernel_size == ((2 * s if s > 1 else 3) if k is None else k,)
    assert conv.stride == (s,)
    assert (conv.padding, conv.output_padding) == ((padding,), (output_padding,))
    assert up(torch.zeros(1, 1, 5)).shape[-1] == 5 * s


def test_anisotropic_scale_and_unbatched():
    up = layer(2, 3, (2, 3), "pixel-shuffle", 2)
    assert up(rand(2, 5, 4)).shape == (3, 10, 12)
    up = layer(2, 3, (1, 2, 3), "transposed", 3)
    assert up(rand(1, 2, 3, 4, 5)).shape == (1, 3, 3, 8, 15)
    x, idx = unpool_inputs(2, (7, 9), 2)
    up = layer(2, 3, 2, "unpool", 2)
    assert up(x[0], indices=idx[0], output_size=(7, 9)).shape == (3, 7, 9)


# ---------------------------------------------------------------------------------------------
# Equivalences at initialisation


@pytest.mark.parametrize(("dim", "s"), [(1, 2), (1, 3), (2, 2), (2, (2, 3)), (3, 2)])
def test_pixel_shuffle_icnr_is_conv_then_nearest(dim, s):
    up = layer(3, 4, s, "pixel-shuffle", dim)
    sv = (s,) * dim if isinstance(s, int) else s
    phases = math.prod(sv)
    w0, b0 = up.conv.weight[::phases], up.conv.bias[::phases]
    x = rand(2, 3, *SIZE[dim])
    low = CONV[dim](x, w0, b0, padding=1)
    full = tuple(v * r for v, r in zip(SIZE[dim], sv, strict=True))
    ref = F.interpolate(low, size=full, mode="nearest")
    torch.testing.assert_close(up(x), ref, rtol=1e-5, atol=1e-5)
    # cropping to an odd size keeps the leading corner
    odd = tuple(v * r - 1 for v, r in zip(SIZE[dim], sv, strict=True))
    torch.testing.assert_close(up(x, output_size=odd), ref[(..., *(slice(0, o) for o in odd))])


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_pixel_shuffle_icnr_1x1_is_nearest_then_conv(dim):
    # with a 1x1 kernel the orders commute: ICNR sub-pixel == nearest upsampling, then the conv
    up = layer(3, 4, 2, "pixel-shuffle", dim, kernel_size=1)
    w0, b0 = up.conv.weight[:: 2**dim], up.conv.bias[:: 2**dim]
    x = rand(2, 3, *SIZE[dim])
    ref = CONV[dim](F.interpolate(x, scale_factor=2, mode="nearest"), w0, b0)
    torch.testing.assert_close(up(x), ref, rtol=1e-5, atol=1e-5)


def test_icnr_structure_and_init_scale():
    w = torch.empty(12, 5, 3, 3)
    b = torch.empty(12)
    icnr_(w, 2, b)
    for c in range(3):
        for j in range(4):
            assert torch.equal(w[4 * c + j], w[4 * c]) and b[4 * c + j] == b[4 * c]
    assert not torch.equal(w[0], w[4])
    bound = 1 / math.sqrt(5 * 9)  # nn.Conv2d's default init bound
    assert float(w.abs().max()) <= bound and float(b.abs().max()) <= bound
    ref = nn.Conv2d(5, 3, 3).weight.detach()
    assert 0.5 < float(w[::4].std()) / float(ref.std()) < 2


@pytest.mark.parametrize(("dim", "s"), [(1, 2), (1, 3), (1, 4), (2, 2), (2, (2, 3)), (3, 2)])
def test_transposed_bilinear_is_interpolation_away_from_borders(dim, s):
    up = layer(3, 3, s, "transposed-bilinear", dim)
    x = rand(2, 3, *SIZE[dim])
    ref = F.interpolate(x, scale_factor=s, mode=LINEAR[dim], align_corners=False)
    y = up(x)
    sv = (s,) * dim if isinstance(s, int) else s
    inner = (..., *(slice(r // 2, -(r // 2)) for r in sv))  # all but s // 2 at each end
    torch.testing.assert_close(y[inner], ref[inner], rtol=1e-5, atol=1e-5)
    edge = (..., *(slice(0, r // 2) for r in sv))
    assert not torch.allclose(y[edge], ref[edge])  # zero padding vs clamping


def test_transposed_bilinear_channels_cycle():
    up = layer(2, 5, 2, "transposed-bilinear", 1)
    x = rand(1, 2, 9)
    ref = F.interpolate(x, scale_factor=2, mode="linear", align_corners=False)
    y = up(x)
    for o in range(5):
        torch.testing.assert_close(y[:, o, 2:-2], ref[:, o % 2, 2:-2])


def subpixel_as_transposed(w: torch.Tensor, r: int, dim: int) -> torch.Tensor:
    """Rearrange a sub-pixel conv weight (C*r^d, C_in, k..) into a stride-r transposed kernel.

    Sub-pixel output c at o = h*r + phi reads x[h + t - (k-1)/2] with W[c*r^d + phi, :, t]; a
    transposed convolution with padding (k-1)/2 * r reaches it with tap phi + (k-1-t)*r.
    """
    cp, cin, *k = w.shape
    c = cp // r**dim
    out = torch.zeros(cin, c, *(kk * r for kk in k), dtype=w.dtype)
    for ch in range(c):
        for phi in itertools.product(range(r), repeat=dim):
            flat = sum(p * r ** (dim - 1 - i) for i, p in enumerate(phi))
            for t in itertools.product(*(range(kk) for kk in k)):
                a = tuple(p + (kk - 1 - tt) * r
                          for p, kk, tt in zip(phi, k, t, strict=True))
                out[(slice(None), ch, *a)] = w[(ch * r**dim + flat, slice(None), *t)]
    return out


@pytest.mark.parametrize(("dim", "r", "k"), [(1, 2, 3), (1, 3, 1), (1, 3, 5), (2, 2, 3),
                                             (2, 3, 1), (3, 2, 3)])
def test_subpixel_equals_stride_r_transposed_conv(dim, r, k):
    up = layer(3, 2, r, "pixel-shuffle", dim, kernel_size=k, bias=False)
    with torch.no_grad():
        up.conv.weight.normal_()  # break ICNR: every phase its own kernel
    x = rand(2, 3, *SIZE[dim])
    w = subpixel_as_transposed(up.conv.weight.detach(), r, dim)
    ref = CONVT[dim](x, w, stride=r, padding=(k - 1) // 2 * r)
    torch.testing.assert_close(up(x), ref, rtol=1e-5, atol=1e-8)
    if dim == 2:  # and the shuffle itself is PyTorch's
        torch.testing.assert_close(up(x), F.pixel_shuffle(up.conv(x), r))
    else:  # upconv's NumPy pixel_shuffle extends PyTorch's channel order to 1-d / 3-d
        ref_np = upconv.pixel_shuffle(up.conv(x).detach().numpy(), r, ndim=dim)
        np.testing.assert_allclose(up(x).detach().numpy(), ref_np, rtol=1e-12)


@pytest.mark.parametrize(("dim", "pre"), [(1, (9,)), (2, (7, 8)), (3, (5, 4, 3))])
def test_unpool_uses_the_given_switches(dim, pre):
    y, idx = unpool_inputs(3, pre, 2, seed=dim)
    up = layer(3, 4, 2, "unpool", dim)
    ref = CONV[dim](UNPOOL[dim](y, idx, 2, 2, output_size=pre), up.conv.weight, up.conv.bias,
                    padding=1)
    torch.testing.assert_close(up(y, indices=idx, output_size=pre), ref)
    # other switches, other output
    other = up(y, indices=torch.flip(idx, dims=(0,)), output_size=pre)
    assert not torch.allclose(other, ref)


@pytest.mark.parametrize(("dim", "s", "crop"), [(1, 2, 0), (1, 3, 2), (2, 2, 1), (2, (2, 3), 0),
                                                (3, 2, 1)])
def test_bed_of_nails_is_upconv_unpool_then_conv(dim, s, crop):
    up = layer(3, 2, s, "bed-of-nails", dim)
    x = rand(2, 3, *SIZE[dim])
    nails = torch.from_numpy(upconv.unpool(x.numpy(), s))  # top-left position, NumPy
    out = tuple(v - crop for v in nails.shape[2:])
    nails = nails[(..., *(slice(0, o) for o in out))]
    ref = CONV[dim](nails, up.conv.weight, up.conv.bias, padding=1)
    torch.testing.assert_close(up(x, output_size=out), ref)


@pytest.mark.parametrize("method", ["nearest-conv", "bilinear-conv"])
@pytest.mark.parametrize("k", [3, 4])
def test_resize_conv_is_interpolate_then_same_conv(method, k):
    up = layer(3, 2, 2, method, 2, kernel_size=k)
    x = rand(2, 3, 5, 6)
    mode = "nearest" if method == "nearest-conv" else "bilinear"
    for out in [(10, 12), (9, 13)]:
        kw = {} if mode == "nearest" else {"align_corners": False}
        r = F.interpolate(x, size=out, mode=mode, **kw)
        # PyTorch's padding='same': total k-1, the odd element at the end
        r = F.pad(r, [(k - 1) // 2, k // 2] * 2)
        ref = F.conv2d(r, up.conv.weight, up.conv.bias)
        torch.testing.assert_close(up(x, output_size=out), ref)


@pytest.mark.parametrize("method", METHODS)
def test_gradients_flow(method):
    up = layer(3, 2, 2, method, 2)
    x = rand(2, 3, 5, 5).requires_grad_(True)
    kw = {}
    if method == "unpool":
        x0, idx = unpool_inputs(3, (9, 10), 2)
        x = x0.detach().requires_grad_(True)
        kw = {"indices": idx, "output_size": (9, 10)}
    up(x, **kw).square().sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    for name, p in up.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


# ---------------------------------------------------------------------------------------------
# checkerboard_report against brute-force coverage counting


def bf_transpose(c, k, s, p=0, a=0, d=1):
    n = c.ndim
    out = np.zeros([s * (L - 1) + d * (k - 1) + 1 - 2 * p + a for L in c.shape])
    for i in np.ndindex(*c.shape):
        for t in np.ndindex(*(k,) * n):
            o = tuple(ii * s + tt * d - p for ii, tt in zip(i, t, strict=True))
            if all(0 <= oo < m for oo, m in zip(o, out.shape, strict=True)):
                out[o] += c[i]
    return out


def bf_conv_same(c, k):
    before = (k - 1) // 2
    out = np.zeros(c.shape)
    for o in np.ndindex(*c.shape):
        for t in np.ndindex(*(k,) * c.ndim):
            i = tuple(oo + tt - before for oo, tt in zip(o, t, strict=True))
            if all(0 <= ii < m for ii, m in zip(i, c.shape, strict=True)):
                out[o] += c[i]
    return out


def bf_nearest(c, s):
    out = np.zeros([v * s for v in c.shape])
    for o in np.ndindex(*out.shape):
        out[o] = c[tuple(oo // s for oo in o)]
    return out


def bf_nails(c, s):
    out = np.zeros([v * s for v in c.shape])
    for i in np.ndindex(*c.shape):
        out[tuple(ii * s for ii in i)] = c[i]
    return out


def bf_maxpool(c, k):
    out = np.zeros([v // k for v in c.shape])
    for o in np.ndindex(*out.shape):
        out[o] = c[tuple(slice(oo * k, oo * k + k) for oo in o)].max()
    return out


def bf_period(a):
    """Smallest shift per axis under which ``a`` repeats (brute force)."""
    periods = []
    for axis in range(a.ndim):
        n = a.shape[axis]
        periods.append(next(p for p in range(1, n + 1) if p == n or np.array_equal(
            np.take(a, range(p, n), axis=axis), np.take(a, range(n - p), axis=axis))))
    return tuple(periods)


# Stacks: (model factory, brute-force coverage of an all-ones input of a given size, scale)
def k3s2(dim):
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[dim]
    return cls(1, 1, 3, stride=2, padding=1, output_padding=1)


def k4s2(dim):
    cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[dim]
    return cls(1, 1, 4, stride=2, padding=1)


STACKS = {
    "k3s2": (lambda dim: k3s2(dim), lambda c: bf_transpose(c, 3, 2, 1, 1), 2),
    "k4s2": (lambda dim: k4s2(dim), lambda c: bf_transpose(c, 4, 2, 1), 2),
    "k3s2 x2": (lambda dim: nn.Sequential(k3s2(dim), nn.ReLU(), k3s2(dim)),
                lambda c: bf_transpose(bf_transpose(c, 3, 2, 1, 1), 3, 2, 1, 1), 4),
    "k3s2 k4s2": (lambda dim: nn.Sequential(k3s2(dim), k4s2(dim)),
                  lambda c: bf_transpose(bf_transpose(c, 3, 2, 1, 1), 4, 2, 1), 4),
    "k3s0 dilated": (lambda dim: {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[dim](
        1, 1, 2, stride=2, dilation=2), lambda c: bf_transpose(c, 2, 2, d=2), 2),
    "nearest-conv": (lambda dim: Upsample(1, 1, 2, "nearest-conv", dim),
                     lambda c: bf_conv_same(bf_nearest(c, 2), 3), 2),
    "nearest-conv x2": (lambda dim: nn.Sequential(Upsample(1, 2, 2, "nearest-conv", dim),
                                                  Upsample(2, 1, 2, "nearest-conv", dim)),
                        lambda c: bf_conv_same(bf_nearest(bf_conv_same(bf_nearest(c, 2), 3), 2),
                                               3), 4),
    "bed-of-nails": (lambda dim: Upsample(1, 1, 2, "bed-of-nails", dim),
                     lambda c: bf_conv_same(bf_nails(c, 2), 3), 2),
    "pixel-shuffle": (lambda dim: Upsample(1, 1, 2, "pixel-shuffle", dim),
                      lambda c: bf_nearest(bf_conv_same(c, 3), 2), 2),
    "transposed k3": (lambda dim: Upsample(1, 1, 2, "transposed", dim, kernel_size=3),
                      lambda c: bf_transpose(c, 3, 2, 1, 1), 2),
    "upsample then conv": (lambda dim: nn.Sequential(
        nn.Upsample(scale_factor=2), {1: nn.Conv1d, 2: nn.Conv2d}[dim](1, 1, 3, padding=1),
        k3s2(dim)), lambda c: bf_transpose(bf_conv_same(bf_nearest(c, 2), 3), 3, 2, 1, 1), 4),
}


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("name", list(STACKS))
def test_stack_counts_match_brute_force(name, dim):
    make, brute, scale = STACKS[name]
    n = 8 if dim == 1 else 5
    rep = checkerboard_report(make(dim), (1, 1, *(n,) * dim))
    st = rep.stack
    small = brute(np.ones((n,) * dim))
    np.testing.assert_array_equal(st.counts, small)
    assert st.input_size == (n,) * dim and st.output_size == small.shape
    # The interior is border-free: there the counts equal those of a larger input, shifted.
    m = 6
    big = brute(np.ones((n + 2 * m,) * dim))
    assert st.interior is not None
    for o in itertools.product(*(range(sl.start, sl.stop) for sl in st.interior)):
        assert small[o] == big[tuple(v + m * scale for v in o)], o
    assert all(sl.stop - sl.start >= small.shape[0] // 2 for sl in st.interior)
    # Ratio, evenness and period agree with the middle of a large input (far from borders).
    centre = big[(slice(m * scale, -m * scale),) * dim]
    lo, hi = centre.min(), centre.max()
    assert st.ratio == (math.inf if lo == 0 else hi / lo)
    assert st.even == (lo == hi)
    assert st.period == bf_period(centre)


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2),
                          st.integers(1, 2)), min_size=1, max_size=3), st.integers(3, 6))
def test_random_transposed_stacks_match_brute_force(layers, n):
    """1-d stacks of ConvTranspose1d(k, s, p, d), any kernel, stride, padding, dilation."""
    mods, ref = [], np.ones(n)
    for k, s, p, d in layers:
        p = min(p, d * (k - 1))  # keep the output non-empty
        mods.append(nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d))
        ref = bf_transpose(ref, k, s, p, 0, d)
    rep = checkerboard_report(nn.Sequential(*mods), (1, 1, n))
    np.testing.assert_array_equal(rep.stack.counts, ref)
    for lr, (k, s, _, d) in zip(rep.layers, layers, strict=True):
        assert sorted(lr.taps_per_phase[0]) == sorted(bf_phase_counts(k, s, 0, 0, d))
    if rep.stack.interior is not None:  # border-free: equal to a larger input, shifted
        m = 4 * max(k * d for k, _, _, d in layers)
        big = bf_transpose_stack(np.ones(n + 2 * m), layers)
        shift = m * math.prod(s for _, s, _, _ in layers)
        (sl,) = rep.stack.interior
        np.testing.assert_array_equal(ref[sl], big[sl.start + shift: sl.stop + shift])


def bf_transpose_stack(c, layers):
    for k, s, p, d in layers:
        c = bf_transpose(c, k, s, min(p, d * (k - 1)), 0, d)
    return c


def bf_phase_counts(k, s, p=0, a=0, d=1):
    """Taps reaching consecutive output positions far from the borders (1-d loops)."""
    n = 40
    counts = np.zeros(s * (n - 1) + d * (k - 1) + 1 - 2 * p + a, dtype=int)
    for i in range(n):
        for t in range(k):
            o = i * s + t * d - p
            if 0 <= o < len(counts):
                counts[o] += 1
    mid = len(counts) // 2
    return [int(v) for v in counts[mid: mid + s]]


def same_cycle(a, b):
    return any(list(a[r:]) + list(a[:r]) == list(b) for r in range(len(a)))


@pytest.mark.parametrize(("k", "s", "p", "d"), [(3, 2, 1, 1), (4, 2, 1, 1), (5, 3, 1, 1),
                                                (6, 4, 1, 1), (2, 2, 0, 2), (3, 2, 0, 3),
                                                (7, 3, 3, 1), (1, 2, 0, 1)])
def test_single_layer_taps_match_brute_force(k, s, p, d):
    model = nn.ConvTranspose2d(1, 1, (k, 3), stride=(s, 1), padding=(p, 1), dilation=(d, 1))
    rep = checkerboard_report(model, (1, 1, 12, 6))
    (lr,) = rep.layers
    taps = bf_phase_counts(k, s, p, 0, d)
    assert same_cycle(list(lr.taps_per_phase[0]), taps)
    assert lr.taps_per_phase[1] == (3,)
    lo, hi = min(taps), max(taps)
    assert lr.ratio == (math.inf if lo == 0 else hi / lo)
    assert lr.even == (lo == hi) == (lr.fix == "")
    assert lr.period[0] == next(q for q in range(1, s + 1) if s % q == 0 and all(
        taps[i] == taps[(i + q) % s] for i in range(s)))
    assert (lr.kernel_size, lr.stride, lr.dilation) == ((k, 3), (s, 1), (d, 1))
    assert lr.input_size == (12, 6)


def test_fix_suggests_a_divisible_kernel_with_the_same_output_size():
    model = nn.Sequential(nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1))
    (lr,) = checkerboard_report(model, (1, 2, 7, 7)).layers
    assert lr.fix.startswith("kernel_size 3 with stride 2 overlaps unevenly (taps per phase "
                             "2/1): use kernel_size 4 (divisible by the stride) or nearest-conv")
    assert "kernel_size=4, padding=1, output_padding=0 keep the output size 14" in lr.fix
    # the suggestion really keeps the size
    assert nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1)(torch.zeros(1, 2, 7, 7)).shape[-1] \
        == 14
    holes = nn.ConvTranspose1d(1, 1, 2, stride=2, dilation=2)
    (lr,) = checkerboard_report(holes, (1, 1, 9)).layers
    assert lr.ratio == math.inf and "dilation 2 with stride 2 leaves holes" in lr.fix


def test_methods_are_judged():
    model = nn.Sequential(*(Upsample(1, 1, 2, m, 1) for m in METHODS if m != "unpool"))
    rep = checkerboard_report(model, (1, 1, 3))
    by_type = {lr.type: lr for lr in rep.layers}
    assert [lr.type for lr in rep.layers] == [f"Upsample({m!r})" for m in METHODS
                                              if m != "unpool"]
    assert by_type["Upsample('transposed')"].even
    assert by_type["Upsample('transposed-bilinear')"].depends_on == "weights"
    assert by_type["Upsample('nearest-conv')"].even and by_type["Upsample('bilinear-conv')"].even
    ps = by_type["Upsample('pixel-shuffle')"]
    assert ps.even and ps.depends_on == "weights" and "ICNR" in ps.note and ps.fix == ""
    nails = by_type["Upsample('bed-of-nails')"]
    assert not nails.even and nails.taps_per_phase == ((2, 1),)
    assert "use kernel_size 4" in nails.fix
    odd = checkerboard_report(Upsample(1, 1, 3, "transposed-bilinear", 1), (1, 1, 8)).layers[0]
    assert odd.taps_per_phase == ((2, 2, 1),) and "compensate" in odd.fix


def test_pixel_shuffle_depends_on_weights():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.PixelShuffle(2))
    lr = checkerboard_report(model, (1, 1, 6, 6)).layers[0]
    assert lr.type == "PixelShuffle" and lr.depends_on == "weights" and lr.kernel_size == (3, 3)
    assert "differ" in lr.note and "icnr_" in lr.fix
    icnr_(conv.weight, 2, conv.bias)
    lr = checkerboard_report(model, (1, 1, 6, 6)).layers[0]
    assert "agree now (ICNR)" in lr.note and lr.fix == ""


class FunctionalUp(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def test_functional_interpolate_is_detected():
    rep = checkerboard_report(nn.Sequential(FunctionalUp()), (1, 1, 8))
    (lr,) = rep.layers
    assert lr.name == "0/F.interpolate" and lr.type == "F.interpolate(nearest)"
    assert lr.stride == (2,) and lr.even
    np.testing.assert_array_equal(rep.stack.counts, bf_conv_same(bf_nearest(np.ones(8), 2), 3))
    assert rep.stack.chain == ("0/F.interpolate", "0.conv")


class UnpoolAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv1d(1, 2, 3, padding=1)
        self.pool = paired_max_pool(2, 1)
        self.up = Upsample(2, 1, 2, "unpool", 1)

    def forward(self, x):
        y, idx = self.pool(self.enc(x))
        return self.up(y, indices=idx, output_size=x.shape[2:])


def test_unpool_stack_follows_the_recorded_switches():
    rep = checkerboard_report(UnpoolAE(), (1, 1, 12))
    (lr,) = rep.layers
    assert lr.depends_on == "switches"
    # zeros input: every switch at its window's first position
    ref = bf_conv_same(bf_nails(bf_maxpool(bf_conv_same(np.ones(12), 3), 2), 2), 3)
    np.testing.assert_array_equal(rep.stack.counts, ref)
    assert rep.stack.chain == ("enc", "pool", "up")
    y, idx = paired_max_pool(2, 1)(torch.zeros(1, 1, 8))
    bare = checkerboard_report(Upsample(1, 1, 2, "unpool", 1), (1, 1, 4),
                               forward_kwargs={"indices": idx})
    np.testing.assert_array_equal(bare.stack.counts, bf_conv_same(bf_nails(np.ones(4), 2), 3))
    lr = checkerboard_report(nn.MaxUnpool1d(2), (1, 1, 4),
                             forward_kwargs={"indices": idx}).layers[0]
    assert lr.type == "MaxUnpool1d" and lr.depends_on == "switches"
    assert lr.ratio == math.inf and lr.taps_per_phase == ((1, 0),) and "1 of every 2" in lr.fix


class Strider(nn.Module):
    def forward(self, x):
        return x[..., ::2]


def test_unknown_size_change_restarts_the_stack():
    model = nn.Sequential(k3s2(1), Strider(), k4s2(1))
    rep = checkerboard_report(model, (1, 1, 6))
    assert rep.stack.chain == ("2",)
    assert any("Strider" in t and "restarts" in t for t in rep.stack.notes)
    np.testing.assert_array_equal(rep.stack.counts, bf_transpose(np.ones(6), 4, 2, 1))


def test_report_restores_modes_and_statistics_and_formats():
    model = nn.Sequential(k3s2(2), nn.BatchNorm2d(1), k3s2(2))
    model.train()
    before = model[1].running_mean.clone()
    rep = checkerboard_report(model, (1, 1, 6, 6))
    assert model.training and model[1].training
    assert torch.equal(model[1].running_mean, before)
    text = str(rep)
    assert "ConvTranspose2d" in text and "fix: kernel_size 3 with stride 2" in text
    assert "UNEVEN" in text and "compound" in text
    d = json.loads(json.dumps(rep.as_dict()))
    assert d["layers"][0]["taps_per_phase"] == [[2, 1], [2, 1]]
    assert d["stack"]["ratio"] == 9.0 and d["even"] is False
    assert not rep.even
    # too small: every output is within reach of a border
    tiny = checkerboard_report(k4s2(1), (1, 1, 1))
    assert tiny.stack.interior is None and tiny.stack.ratio is None and tiny.stack.even is None
    assert any("no interior" in t for t in tiny.stack.notes) and "no interior" in str(tiny)
    # an interior shorter than two cycles of the combined stride (4) is flagged
    short = checkerboard_report(nn.Sequential(k3s2(1), k3s2(1)), (1, 1, 1)).stack
    assert short.interior == (slice(0, 1),)
    assert any("may be inexact" in t for t in short.notes)


# ---------------------------------------------------------------------------------------------
# Errors


def test_errors_construction():
    with pytest.raises(ShapeError, match=r"method='deconv' is not understood; give one of "
                                         r"'transposed', 'transposed-bilinear', 'nearest-conv'"):
        Upsample(1, 1, 2, "deconv")
    with pytest.raises(TypeError, match=r"scale_factor=2.5 must be a positive integer"):
        Upsample(1, 1, 2.5)
    with pytest.raises(ShapeError, match=r"scale_factor=0 must be a positive integer"):
        Upsample(1, 1, 0)
    with pytest.raises(ShapeError, match=r"scale_factor=\(2, 2\) has 2 values but the input "
                                         r"has 3 spatial dimensions"):
        Upsample(1, 1, (2, 2), dim=3)
    with pytest.raises(ShapeError, match=r"dim=4 must be 1, 2 or 3"):
        Upsample(1, 1, 2, dim=4)
    with pytest.raises(ShapeError, match=r"in_channels=0 must be a positive integer"):
        Upsample(0, 1, 2)
    with pytest.raises(ShapeError, match=r"kernel_size - 1 must be even there"):
        Upsample(1, 1, 1, "transposed", kernel_size=2)
    with pytest.raises(ShapeError, match=r"the bilinear kernel for scale_factor=2 has size "
                                         r"2s - s%2 = 4"):
        Upsample(1, 1, 2, "transposed-bilinear", kernel_size=3)
    with pytest.raises(TypeError, match=r"bias=1 must be a bool"):
        Upsample(1, 1, 2, bias=1)
    with pytest.raises(ShapeError, match=r"weight has 6 output channels, not a multiple of "
                                         r"prod\(scale_factor\) = 4"):
        icnr_(torch.empty(6, 1, 3, 3), 2)
    with pytest.raises(TypeError, match=r"ceil_mode=1 must be a bool"):
        paired_max_pool(2, ceil_mode=1)


def test_errors_forward():
    up = Upsample(2, 3, 2, "transposed", 1)
    with pytest.raises(ShapeError, match=r"output_size=13 is not reachable: in dimension 0 "
                                         r"the output size ranges from 14 to 15"):
        up(torch.zeros(1, 2, 7), output_size=13)
    with pytest.raises(ShapeError, match=r"x has 3 channels \(shape \(1, 3, 7\)\) but "
                                         r"in_channels=2"):
        up(torch.zeros(1, 3, 7))
    with pytest.raises(ShapeError, match=r"x has shape \(1, 1, 2, 7\) \(rank 4\); dim=1 expects"):
        up(torch.zeros(1, 1, 2, 7))
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor, not ndarray"):
        up(np.zeros((1, 2, 7)))
    with pytest.raises(ShapeError, match=r"indices \(max-pool switches\) are used by "
                                         r"method='unpool' only"):
        up(torch.zeros(1, 2, 7), indices=torch.zeros(1, 2, 7, dtype=torch.int64))
    ps = Upsample(2, 2, 2, "pixel-shuffle", 2)
    with pytest.raises(ShapeError, match=r"output_size=\(15, 14\) is not reachable: in "
                                         r"dimension 0 the output size ranges from 13 to 14"):
        ps(torch.zeros(1, 2, 7, 7), output_size=(15, 14))
    with pytest.raises(ShapeError, match=r"output_size=\(13,\) has 1 values but the input has "
                                         r"2 spatial dimensions"):
        ps(torch.zeros(1, 2, 7, 7), output_size=(13,))
    un = Upsample(2, 2, 2, "unpool", 1)
    x = torch.zeros(1, 2, 4)
    with pytest.raises(ShapeError, match=r"needs the switches: forward\(x, indices=...\)"):
        un(x)
    with pytest.raises(TypeError, match=r"indices must be an int64 torch.Tensor"):
        un(x, indices=torch.zeros(1, 2, 4, dtype=torch.int32))
    with pytest.raises(ShapeError, match=r"indices has shape \(1, 2, 3\) but x has shape "
                                         r"\(1, 2, 4\)"):
        un(x, indices=torch.zeros(1, 2, 3, dtype=torch.int64))
    with pytest.raises(ShapeError, match=r"indices hold positions 0..9 but an output plane of "
                                         r"size \(8,\) has 8 positions"):
        un(x, indices=torch.tensor([[[0, 2, 4, 9]] * 2]))
    with pytest.raises(ShapeError, match=r"ranges from 7 to 9 for input size 4 and scale_factor "
                                         r"2 \(PyTorch's MaxUnpool rule"):
        un(x, indices=torch.zeros(1, 2, 4, dtype=torch.int64), output_size=10)


def test_errors_report():
    with pytest.raises(ShapeError, match=r"input_shape=\(8, 8\) must be \(N, C, \*spatial\)"):
        checkerboard_report(k3s2(2), (8, 8))
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module, not str"):
        checkerboard_report("model", (1, 1, 8))
    with pytest.raises(ShapeError, match=r"running the model on zeros of shape \(1, 3, 8\) "
                                         r"failed \(RuntimeError"):
        checkerboard_report(nn.Conv1d(1, 1, 3), (1, 3, 8))
    model = nn.Sequential(k3s2(1))
    model.train()
    with pytest.raises(ShapeError, match="running the model"):
        checkerboard_report(model, (1, 2, 8))
    assert model.training  # restored after a failure too


# ---------------------------------------------------------------------------------------------
# Packaging


def test_import_upconv_does_not_import_torch():
    code = ("import sys, upconv; assert 'torch' not in sys.modules, 'torch imported'; "
            "import upconv.torch; assert 'torch' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
