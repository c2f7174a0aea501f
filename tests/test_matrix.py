"""conv_matrix: the convolution as a sparse matrix C, the transposed convolution as C.T."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError, conv_matrix, conv_transpose

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_SIZE = {1: 6, 2: 4, 3: 3}


@st.composite
def cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    size = tuple(
        draw(st.integers(max(1, di * (ki - 1) + 1 - 2 * pi), MAX_SIZE[nd] + 2))
        for ki, di, pi in zip(k, d, p, strict=True)
    )
    return dict(
        nd=nd, groups=groups, cin=groups * draw(st.integers(1, 2)),
        cout=groups * draw(st.integers(1, 2)), k=k, stride=s, dilation=d, padding=p,
        size=size, batch=draw(st.sampled_from([None, 1, 3])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    lead = () if case["batch"] is None else (case["batch"],)
    x = rng.standard_normal((*lead, case["cin"], *case["size"])).astype(case["dtype"])
    w = rng.standard_normal(
        (case["cout"], case["cin"] // case["groups"], *case["k"])
    ).astype(case["dtype"])
    return rng, x, w


@given(cases())
def test_matrix_times_x_is_the_convolution_and_its_transpose_the_transposed_one(case):
    rng, x, w = arrays(case)
    keep = frozen(x, w)
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])
    c = conv_matrix(x.shape, w, **args)
    expected = TORCH_CONV[case["nd"]](t(x), t(w), None, **args)
    y = c @ x.ravel()
    assert c.dtype == case["dtype"] and y.dtype == case["dtype"]
    assert c.shape == (expected.numel(), x.size)
    assert_close(y, expected.reshape(-1), case["dtype"])

    # C.T @ v is the transposed convolution of v with the same weight
    v = rng.standard_normal(expected.shape).astype(case["dtype"])
    # PyTorch's transposed convolution with padding 0, then the crop p_before (zeros past its
    # end when x is longer than the full output): the positions of x
    full = TORCH_T[case["nd"]](
        t(v), t(w), None, case["stride"], 0, 0, case["groups"], case["dilation"]
    ).numpy()
    lead = x.ndim - case["nd"]
    pads, sizes = case["padding"], case["size"]
    extra = [max(0, p + i - f) for p, i, f in zip(pads, sizes, full.shape[lead:], strict=True)]
    full = np.pad(full, [(0, 0)] * lead + [(0, e) for e in extra])
    back = full[(..., *(slice(p, p + i) for p, i in zip(pads, sizes, strict=True)))]
    assert_close(c.T @ v.ravel(), back.reshape(-1), case["dtype"])
    ours = conv_transpose(v, w, stride=case["stride"], padding=case["padding"],
                          groups=case["groups"], dilation=case["dilation"],
                          output_size=case["size"])
    assert_close(c.T @ v.ravel(), ours.reshape(-1), case["dtype"])
    assert_unchanged(keep, x, w)


def test_seed_004_figure_2_3_layout():
    # 4x4 input, 3x3 kernel, unit stride, no padding: C is 4x16 with w[i, j] in its cells
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    c = conv_matrix((1, 4, 4), w.reshape(1, 1, 3, 3))
    assert isinstance(c, scipy.sparse.sparray) and c.format == "csr"
    (w00, w01, w02), (w10, w11, w12), (w20, w21, w22) = w
    expected = np.array([
        [w00, w01, w02, 0, w10, w11, w12, 0, w20, w21, w22, 0, 0, 0, 0, 0],
        [0, w00, w01, w02, 0, w10, w11, w12, 0, w20, w21, w22, 0, 0, 0, 0],
        [0, 0, 0, 0, w00, w01, w02, 0, w10, w11, w12, 0, w20, w21, w22, 0],
        [0, 0, 0, 0, 0, w00, w01, w02, 0, w10, w11, w12, 0, w20, w21, w22],
    ])
    np.testing.assert_array_equal(c.toarray(), expected)
    assert c.nnz == 4 * 9
    # and C.T maps the 2x2 output back to 4x4: the transposed convolution
    y = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(
        (c.T @ y).reshape(4, 4),
        conv_transpose(y.reshape(1, 2, 2), w.reshape(1, 1, 3, 3))[0],
    )


def test_batched_input_shape_gives_a_block_diagonal_matrix():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 3, 2, 2))
    one = conv_matrix((3, 4, 5), w, stride=2, padding=1).toarray()
    three = conv_matrix((3, 3, 4, 5), w, stride=2, padding=1).toarray()
    np.testing.assert_array_equal(three, np.kron(np.eye(3), one))


def test_grouped_matrix_has_zero_blocks_between_groups():
    w = np.ones((4, 1, 1))  # groups=2: output channels 0-1 read channel 0, 2-3 read channel 1
    c = conv_matrix((2, 3), w, groups=2).toarray()
    expected = np.kron(np.array([[1, 0], [1, 0], [0, 1], [0, 1]]), np.eye(3))
    np.testing.assert_array_equal(c, expected)


def test_public_name():
    assert upconv.conv_matrix is conv_matrix


# ---------------------------------------------------------------------------------------------
# Errors

W = np.zeros((2, 3, 3, 3))


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match=r"conv_matrix needs SciPy.*pip install "
                       r"'upconv\[sparse\]'"):
        conv_matrix((3, 4, 4), W)


def test_input_shape_with_the_wrong_length():
    with pytest.raises(ShapeError, match=r"conv_matrix: input_shape=\(4, 4\) has 2 entries but "
                       r"weight has 2 spatial dimensions; give \(C_in, \*L\) \(3 entries\) or "
                       r"\(N, C_in, \*L\) \(4 entries\)"):
        conv_matrix((4, 4), W)


def test_input_shape_must_be_a_tuple():
    with pytest.raises(TypeError, match=r"conv_matrix: input_shape=4 must be a tuple of ints"):
        conv_matrix(4, W)


def test_channel_mismatch():
    with pytest.raises(ShapeError, match=r"conv_matrix: weight has 3 input channels per group, "
                       r"so with groups=1 it expects 3, but input_shape has 2"):
        conv_matrix((2, 4, 4), W)


def test_groups_must_divide_channels():
    with pytest.raises(ShapeError, match=r"conv_matrix: groups=2 must divide both the 3 input "
                       r"channels and the 2 output channels"):
        conv_matrix((3, 4, 4), W, groups=2)


def test_weight_rank():
    with pytest.raises(ShapeError, match=r"conv_matrix: weight has shape \(2, 3\) \(rank 2\)"):
        conv_matrix((3, 4, 4), W[:, :, 0, 0])


def test_integer_weight():
    with pytest.raises(TypeError, match=r"conv_matrix: weight has dtype int64"):
        conv_matrix((3, 4, 4), W.astype(np.int64))


def test_kernel_larger_than_input():
    with pytest.raises(ShapeError, match=r"conv_matrix: the dilated kernel d\*\(k-1\)\+1=3"):
        conv_matrix((3, 2, 4), W)
