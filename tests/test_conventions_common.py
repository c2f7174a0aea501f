"""Shared pieces of the convention translators: Translation, names, layouts, kernels."""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import upconv  # noqa: E402
from upconv.conventions._common import (  # noqa: E402
    DATA_FORMATS,
    FRAMEWORKS,
    KERNEL_LAYOUTS,
    Translation,
    call_code,
    check_choice,
    check_framework,
    check_layout,
    convert_kernel,
    crop_code,
    crop_or_pad,
    from_channels_first,
    kernel_layout,
    layout_ndim,
    parse_data_format,
    to_channels_first,
)


def test_translation_to_dict_and_json():
    t = Translation("torch", "ConvTranspose2d", {"stride": (2, 2), "n": np.int64(3)},
                    {"crop": ((0, 1), (0, 1))}, False, ["why"], "code", {"layout": "IOHW"})
    d = t.to_dict()
    assert d == {"framework": "torch", "op": "ConvTranspose2d",
                 "args": {"stride": [2, 2], "n": 3}, "extra": {"crop": [[0, 1], [0, 1]]},
                 "exact": False, "notes": ["why"], "code": "code",
                 "kernel": {"layout": "IOHW"}}
    assert json.loads(t.to_json()) == d
    plain = Translation("onnx", "Conv", {})
    assert (plain.extra, plain.exact, plain.notes, plain.code, plain.kernel) == ({}, True, [],
                                                                                 "", {})
    with pytest.raises(AttributeError):
        plain.exact = False  # type: ignore[misc]


def test_check_framework_aliases_and_errors():
    assert FRAMEWORKS == ("torch", "tf", "keras", "jax", "flax", "onnx")
    for name, want in [("PyTorch", "torch"), ("tensorflow", "tf"), ("tf.keras", "keras"),
                       ("ORT", "onnx"), ("onnxruntime", "onnx"), (" JAX ", "jax"),
                       ("flax", "flax")]:
        assert check_framework(name, "f") == want
    with pytest.raises(upconv.ShapeError, match="f: framework='mxnet' is not known; accepted "
                       "values: 'torch', 'tf', 'keras', 'jax', 'flax', 'onnx'"):
        check_framework("mxnet", "f")
    with pytest.raises(upconv.ShapeError, match="f: framework='flax' has no translation for "
                       "this op; accepted values: 'torch', 'onnx'"):
        check_framework("flax", "f", allowed=("torch", "onnx"))
    with pytest.raises(TypeError, match="f: framework=3 must be a string, one of 'torch'"):
        check_framework(3, "f")


def test_check_choice():
    assert check_choice("VALID", ("SAME", "VALID"), "padding", "f") == "VALID"
    with pytest.raises(upconv.ShapeError, match="f: padding=1 is not accepted; accepted "
                       "values: 'SAME', 'VALID'"):
        check_choice(1, ("SAME", "VALID"), "padding", "f")


def test_layouts():
    assert KERNEL_LAYOUTS[2] == ("OIHW", "IOHW", "HWIO", "HWOI")
    assert KERNEL_LAYOUTS[3] == ("OIDHW", "IODHW", "DHWIO", "DHWOI")
    assert KERNEL_LAYOUTS[1] == ("OIW", "IOW", "WIO", "WOI")
    assert DATA_FORMATS[3] == ("NCDHW", "NDHWC")
    assert check_layout("dhwio", "f") == "DHWIO"
    assert layout_ndim("OIW") == 1
    assert [kernel_layout(k, 3) for k in ("OIHW", "IOHW", "HWIO", "HWOI")] == \
        ["OIDHW", "IODHW", "DHWIO", "DHWOI"]
    with pytest.raises(upconv.ShapeError, match="f: layout='HWOI' is not a kernel layout for 3 "
                       "spatial dimensions; accepted values: 'OIDHW', 'IODHW', 'DHWIO', "
                       "'DHWOI'"):
        check_layout("HWOI", "f", ndim=3)
    with pytest.raises(TypeError, match="f: layout=None must be a string such as 'OIHW'"):
        check_layout(None, "f")


@given(st.integers(1, 3), st.sampled_from(range(4)), st.sampled_from(range(4)), st.booleans(),
       st.integers(0, 2**16))
def test_convert_kernel_is_a_relabelling(nd, i, j, flip, seed):
    src, dst = KERNEL_LAYOUTS[nd][i], KERNEL_LAYOUTS[nd][j]
    rng = np.random.default_rng(seed)
    shape = {c: n for c, n in zip("OI" + "DHW"[3 - nd:], rng.integers(1, 4, nd + 2),
                                  strict=True)}
    w = rng.standard_normal([shape[c] for c in src])
    before = w.copy()
    out = convert_kernel(w, src, dst, flip=flip)
    np.testing.assert_array_equal(w, before)
    assert out.shape == tuple(shape[c] for c in dst)
    assert not np.shares_memory(out, w)
    # element by element: out[dst index] == w[src index] (spatial indices reversed if flip)
    for _ in range(5):
        idx = {c: int(rng.integers(0, shape[c])) for c in shape}
        got = out[tuple(idx[c] for c in dst)]
        sidx = {c: (shape[c] - 1 - v if flip and c not in "OI" else v) for c, v in idx.items()}
        assert got == w[tuple(sidx[c] for c in src)]
    np.testing.assert_array_equal(convert_kernel(out, dst, src, flip=flip), w)


def test_convert_kernel_tf_to_torch_runs_like_torch():
    # TF/Keras transposed kernel (kh, kw, out, in) -> PyTorch ConvTranspose (in, out, kh, kw)
    rng = np.random.default_rng(0)
    w_tf = rng.standard_normal((2, 3, 4, 5))
    w_pt = convert_kernel(w_tf, "HWOI", "IOHW")
    np.testing.assert_array_equal(w_pt, w_tf.transpose(3, 2, 0, 1))
    x = rng.standard_normal((1, 5, 3, 3))
    y = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w_pt), stride=2).numpy()
    np.testing.assert_allclose(upconv.conv_transpose(x, w_pt, stride=2), y, rtol=1e-10)


def test_convert_kernel_errors():
    with pytest.raises(upconv.ShapeError, match="convert_kernel: w has shape \\(2, 2\\) \\(rank "
                       "2\\) but from_layout='OIW' has 3 axes"):
        convert_kernel(np.ones((2, 2)), "OIW", "WIO")
    with pytest.raises(upconv.ShapeError, match="convert_kernel: to_layout='HWIO' is not a "
                       "kernel layout for 1 spatial dimension"):
        convert_kernel(np.ones((2, 2, 2)), "OIW", "HWIO")


def test_data_formats():
    assert parse_data_format("NCW", 1, "f") is False
    assert parse_data_format("NDHWC", 3, "f") is True
    assert parse_data_format("channels_last", None, "f") is True
    with pytest.raises(upconv.ShapeError, match="f: data_format='NHCW' is not accepted; "
                       "accepted values: 'NCW', 'NWC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC', "
                       "'channels_first', 'channels_last'"):
        parse_data_format("NHCW", None, "f")
    x = np.arange(24.0).reshape(2, 3, 4)
    assert to_channels_first(x, True).shape == (2, 4, 3)
    assert to_channels_first(x, False) is x
    np.testing.assert_array_equal(from_channels_first(to_channels_first(x, True), True), x)


def test_crop_helpers():
    y = np.arange(12.0).reshape(1, 2, 6)
    np.testing.assert_array_equal(crop_or_pad(y, [(1, 2)], [2]), y[:, :, 1:4])
    np.testing.assert_array_equal(crop_or_pad(y, [(-1, 1)], [2]),
                                  np.concatenate([np.zeros((1, 2, 1)), y[:, :, :5]], axis=2))
    assert crop_code([(0, 0), (2, 0)], channels_last=True) == "y = y[:, :, 2:, :]"
    assert crop_code([(0, 0)], channels_last=False) == ""
    assert crop_code([(1, -2)], "z", channels_last=False) == (
        "z = z[:, :, 1:]\nz = np.pad(z, [(0, 0), (0, 0), (0, 2)])")
    assert call_code("f", {"a": 1, "b": "x"}) == "f(a=1, b='x')"
