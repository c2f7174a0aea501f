"""Accumulated products through NumPy's own OpenBLAS (upconv.ops._blas) and the kernel paths
built on them, against np.matmul and PyTorch; and the NumPy-only paths when they are off."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_info

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from test_speed_paths import (
    TRANSPOSED,
    block_budget,
    case_arrays,
    conv_cases,
    conv_reference,
    run_transpose,
    settings,
    tiles,
    transpose_cases,
    transpose_reference,
)

blas = importlib.import_module("upconv.ops._blas")
gemm = importlib.import_module("upconv.ops._gemm")
FORCE = dict(ACC_MIN_CHANNELS=1, ACC_COLUMNS_PER_CHANNEL=0)


def test_found_exactly_when_numpy_uses_openblas():
    openblas = any(i["internal_api"] == "openblas" for i in threadpool_info())
    assert blas.available() == openblas
    assert openblas, "NumPy's wheels bundle OpenBLAS; these tests need that BLAS"


def test_env_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("UPCONV_BLAS", "0")
    assert not blas.available()


@st.composite
def products(draw):
    """(a, b, c, accumulate): views with row strides wider than their rows, ``a`` possibly a
    transposed view, ``c`` the left columns of a wider array."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m, k, n = (draw(st.integers(1, 9)) for _ in range(3))
    pa, pb, pc = (draw(st.integers(0, 4)) for _ in range(3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # (k, m) storage read transposed
        a = rng.standard_normal((k, m + pa)).astype(dtype)[:, pa:].T
    else:
        a = rng.standard_normal((m, k + pa)).astype(dtype)[:, pa:]
    b = rng.standard_normal((k, n + pb)).astype(dtype)[:, pb:]
    c = rng.standard_normal((m, n + pc)).astype(dtype)[:, :n]
    return a, b, c, draw(st.booleans())


@given(products())
def test_gemm_matches_matmul_on_strided_and_transposed_views(case):
    a, b, c, accumulate = case
    assert blas.available(), "these tests need NumPy's OpenBLAS (see the first test)"
    keep = frozen(a, b)
    want = np.matmul(a, b) + (c if accumulate else 0)
    whole = c.base
    outside = whole.copy() if whole is not None else None
    blas.gemm(a, b, c, accumulate=accumulate)
    np.testing.assert_allclose(c, want, rtol=1e-4 if a.dtype == np.float32 else 1e-10,
                               atol=1e-4 if a.dtype == np.float32 else 1e-10)
    if whole is not None:  # nothing outside the view of c is touched
        mask = np.ones(whole.shape, bool)
        mask[:, :c.shape[1]] = False
        np.testing.assert_array_equal(whole[mask], outside[mask])
    assert_unchanged(keep, a, b)


def test_gemm_refuses_an_operand_without_a_unit_stride():
    x = np.ones((6, 6), np.float32)
    with pytest.raises(ValueError, match="no unit stride"):
        blas.gemm(x[::2, ::2], x[:3, :3], np.zeros((3, 3), np.float32), accumulate=False)


@given(transpose_cases().filter(lambda c: c["groups"] == 1))
def test_transposed_kernels_with_accumulated_products_match_torch(case):
    x, w, b = case_arrays(case)
    keep = frozen(x, w)
    yt = transpose_reference(case, x, w, b)
    with settings(**FORCE), block_budget(case["budget"]), tiles(False):
        for kernel in TRANSPOSED:
            y = run_transpose(kernel, case, x, w, b, yt.shape[2:])
            assert_close(y, yt, case["dtype"], err_msg=kernel)
    assert_unchanged(keep, x, w)


@given(conv_cases().filter(lambda c: c["groups"] == 1))
def test_convolution_with_accumulated_products_matches_torch(case):
    x, w, b = case_arrays(case, transposed=False)
    keep = frozen(x, w)
    yt = conv_reference(case, x, w, b)
    before = [p for p, _ in case["pairs"]]
    with settings(**FORCE, DIRECT_MIN_ROW=1 << 30):  # every stride-1 layer through the phases
        with block_budget(case["budget"]), tiles(False):
            y = gemm.conv_forward(x, w, b, case["stride"], before, case["dilation"],
                                  case["groups"], yt.shape[2:])
    assert_close(y, yt, case["dtype"])
    assert_unchanged(keep, x, w)


@pytest.mark.parametrize("on", [True, False])
def test_decoder_layers_on_either_path(monkeypatch, on):
    # Shapes where the default thresholds pick accumulated products, and the same shapes with
    # them switched off (the NumPy-only im2col paths): both against PyTorch.
    monkeypatch.setenv("UPCONV_BLAS", "1" if on else "0")
    monkeypatch.setenv("UPCONV_TILES", "0")  # (the compiled tiles would take these layers)
    calls = []
    real = blas.gemm
    monkeypatch.setattr(blas, "gemm", lambda *a, **k: (calls.append(1), real(*a, **k)))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 32, 24, 24)).astype(np.float32)
    w = rng.standard_normal((32, 16, 4, 4)).astype(np.float32)
    y = upconv.conv_transpose(x, w, stride=2, padding=1)
    assert_close(y, F.conv_transpose2d(t(x), t(w), None, 2, 1), np.float32)
    wc = rng.standard_normal((16, 32, 4, 4)).astype(np.float32)
    y = upconv.conv(x, wc, stride=2, padding=1)
    assert_close(y, F.conv2d(t(x), t(wc), None, 2, 1), np.float32)
    assert bool(calls) == on


@given(products())
def test_sizes_beyond_the_blas_integers_fall_back_to_matmul(case):
    # An LP64 OpenBLAS takes 32-bit sizes: larger products (and leading dimensions) go
    # through np.matmul instead of a truncated integer.  Simulated with a tiny limit.
    a, b, c, accumulate = case
    want = np.matmul(a, b) + (c if accumulate else 0)
    def truncating(*args):
        raise AssertionError("the BLAS routine was called with sizes past its integers")

    old, routines = blas._int_limit, dict(blas._routines)
    blas._int_limit = 0
    blas._routines.update({dt: truncating for dt in routines})
    try:
        blas.gemm(a, b, c, accumulate=accumulate)
    finally:
        blas._int_limit = old
        blas._routines.update(routines)
    np.testing.assert_allclose(c, want, rtol=1e-4 if a.dtype == np.float32 else 1e-10,
                               atol=1e-4 if a.dtype == np.float32 else 1e-10)
