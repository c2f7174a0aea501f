"""Pixel shuffle ⇄ DepthToSpace conventions, checked by values against the running peers.

Peers: ONNX Runtime (``DepthToSpace`` DCR/CRD, ``SpaceToDepth``), PyTorch
(``pixel_shuffle``/``pixel_unshuffle``), Keras 3 on JAX (``keras.ops.depth_to_space`` /
``space_to_depth``) and JAX (the reshape/transpose translation).  TensorFlow is not
installed: its DCR order is checked through ONNX's DCR mode and Keras's channels-last op.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

os.environ["KERAS_BACKEND"] = "jax"

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import upconv  # noqa: E402
from helpers import assert_unchanged, frozen  # noqa: E402
from upconv.conventions._shuffle import (  # noqa: E402
    ShuffleSpec,
    channel_permutation,
    keras_depth_to_space,
    keras_space_to_depth,
    onnx_depth_to_space,
    onnx_space_to_depth,
    tf_depth_to_space,
    tf_space_to_depth,
    torch_pixel_shuffle,
    torch_pixel_unshuffle,
)

ort.set_default_logger_severity(3)


def ort_node(node: onnx.NodeProto, x: np.ndarray) -> np.ndarray:
    elem = TensorProto.FLOAT if x.dtype == np.float32 else TensorProto.DOUBLE
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(node.input[0], elem,
                                                                          list(x.shape))],
                              [helper.make_tensor_value_info(node.output[0], elem, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {node.input[0]: x})[0]


def d2s(x, r, mode):
    return ort_node(helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=r, mode=mode), x)


def s2d(x, r):
    return ort_node(helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=r), x)


@st.composite
def deep(draw):
    r = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(
        (2, c * r * r, h, w)).astype(dtype)
    return x, r


@settings(max_examples=40)
@given(deep(), st.sampled_from(["DCR", "CRD"]))
def test_onnx_depth_to_space_matches_ort(xr, mode):
    x, r = xr
    before = frozen(x)
    ours = onnx_depth_to_space(x, blocksize=r, mode=mode)
    assert_unchanged(before, x)
    np.testing.assert_array_equal(ours, d2s(x, r, mode))
    if mode == "CRD":  # PyTorch's order
        np.testing.assert_array_equal(ours, F.pixel_shuffle(torch.from_numpy(x), r).numpy())
    # the spec of the same op computes the same
    np.testing.assert_array_equal(ShuffleSpec.from_onnx("DepthToSpace", r, mode).apply(x), ours)


@settings(max_examples=30)
@given(deep())
def test_onnx_space_to_depth_matches_ort_and_inverts_dcr(xr):
    x, r = xr
    y = d2s(x, r, "DCR")
    np.testing.assert_array_equal(onnx_space_to_depth(y, blocksize=r), s2d(y, r))
    np.testing.assert_array_equal(onnx_space_to_depth(y, blocksize=r), x)


@settings(max_examples=30)
@given(deep())
def test_torch_aliases_match_torch(xr):
    x, r = xr
    y = torch_pixel_shuffle(x, r)
    np.testing.assert_array_equal(y, F.pixel_shuffle(torch.from_numpy(x), r).numpy())
    np.testing.assert_array_equal(torch_pixel_unshuffle(y, r),
                                  F.pixel_unshuffle(torch.from_numpy(y), r).numpy())


@settings(max_examples=15)
@given(deep(), st.sampled_from(["channels_last", "channels_first"]))
def test_keras_ops_on_jax(xr, fmt):
    x, r = xr
    if r < 2:  # Keras rejects block_size 1
        with pytest.raises(upconv.ShapeError, match="must be at least 2"):
            keras_depth_to_space(x, r, fmt)
        return
    x = x.astype(np.float32)  # Keras computes in its floatx
    xin = x if fmt == "channels_first" else np.moveaxis(x, 1, -1)
    ref = np.asarray(keras.ops.depth_to_space(xin, r, data_format=fmt))
    ours = keras_depth_to_space(xin, r, fmt)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(keras_space_to_depth(ours, r, fmt),
                                  np.asarray(keras.ops.space_to_depth(ref, r, data_format=fmt)))
    # TF's depth_to_space is DCR in either layout (ONNX's DCR mode)
    np.testing.assert_array_equal(tf_depth_to_space(np.moveaxis(x, 1, -1), r),
                                  np.moveaxis(d2s(x, r, "DCR"), 1, -1))
    np.testing.assert_array_equal(tf_depth_to_space(x, r, "NCHW"), d2s(x, r, "DCR"))
    np.testing.assert_array_equal(tf_space_to_depth(d2s(x, r, "DCR"), r, "NCHW"), x)


def test_keras_channel_order_depends_on_data_format():
    # Keras 3.15.1 on JAX: channels_first is PyTorch's CRD, channels_last TF's DCR, so the
    # same data gives different results; the TensorFlow backend is DCR in both layouts
    x = np.arange(2 * 8 * 2 * 3, dtype=np.float32).reshape(2, 8, 2, 3)
    first = np.asarray(keras.ops.depth_to_space(x, 2, data_format="channels_first"))
    last = np.asarray(keras.ops.depth_to_space(np.moveaxis(x, 1, -1), 2,
                                               data_format="channels_last"))
    np.testing.assert_array_equal(first, F.pixel_shuffle(torch.from_numpy(x), 2).numpy())
    np.testing.assert_array_equal(np.moveaxis(last, -1, 1), d2s(x, 2, "DCR"))
    assert not np.array_equal(first, np.moveaxis(last, -1, 1))
    assert ShuffleSpec.from_keras("depth_to_space", 2, "channels_first").order == "CRD"
    assert ShuffleSpec.from_keras("depth_to_space", 2, "channels_first",
                                  backend="tensorflow").order == "DCR"
    np.testing.assert_array_equal(
        keras_depth_to_space(x, 2, "channels_first", backend="tensorflow"), d2s(x, 2, "DCR"))


@settings(max_examples=30)
@given(deep())
def test_channel_permutation_converts_dcr_to_crd(xr):
    x, r = xr
    perm = channel_permutation(x.shape[1], r)
    np.testing.assert_array_equal(F.pixel_shuffle(torch.from_numpy(x[:, perm]), r).numpy(),
                                  d2s(x, r, "DCR"))
    back = channel_permutation(x.shape[1], r, from_order="CRD", to_order="DCR")
    np.testing.assert_array_equal(d2s(x[:, back], r, "DCR"),
                                  F.pixel_shuffle(torch.from_numpy(x), r).numpy())
    np.testing.assert_array_equal(perm[back], np.arange(x.shape[1]))


def test_porting_a_conv_before_depth_to_space():
    # TF-style conv + DCR depth_to_space == the same conv with permuted output channels +
    # PyTorch's PixelShuffle
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((1, 3, 5, 4)))
    w = torch.from_numpy(rng.standard_normal((2 * 4, 3, 3, 3)))
    b = torch.from_numpy(rng.standard_normal(8))
    y_dcr = d2s(F.conv2d(x, w, b, padding=1).numpy(), 2, "DCR")
    perm = torch.from_numpy(channel_permutation(8, 2))
    y_crd = F.pixel_shuffle(F.conv2d(x, w[perm], b[perm], padding=1), 2).numpy()
    np.testing.assert_allclose(y_crd, y_dcr, rtol=1e-12)


@pytest.mark.parametrize("order", ["CRD", "DCR"])
@pytest.mark.parametrize("direction", ["depth_to_space", "space_to_depth"])
@pytest.mark.parametrize("with_channels", [True, False])
def test_translations_run_in_the_targets(order, direction, with_channels):
    r, c = 2, 3
    spec = ShuffleSpec(r, order, direction, 2, c * r * r if with_channels else None)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, c * r * r, 3, 2) if direction == "depth_to_space"
                            else (2, c, 6, 4)).astype(np.float32)
    ref = spec.apply(x)
    # the generated code names upconv.conventions.channel_permutation (the public export)
    shim = SimpleNamespace(conventions=SimpleNamespace(channel_permutation=channel_permutation))
    perm_env = {} if with_channels else {"C": c * r * r, "upconv": shim}
    # PyTorch: the generated code
    t = spec.to_torch()
    assert t.exact == (not t.extra)
    y = run(t.code, torch.from_numpy(x), torch=torch, **perm_env)
    np.testing.assert_array_equal(y.numpy(), ref)
    # JAX: the reshape/transpose code
    np.testing.assert_array_equal(np.asarray(run(spec.to_jax().code, x, jnp=jnp)), ref)
    # Keras (channels last)
    last = np.moveaxis(x, 1, -1)
    y = run(spec.to_keras().code, last, keras=keras, **perm_env)
    np.testing.assert_array_equal(np.moveaxis(np.asarray(y), -1, 1), ref)
    # TF (not installed): the same DCR op and permutation as Keras's channels-last op
    assert spec.to_tf().extra == spec.to_keras().extra
    # ONNX: the node, then the permutation of extra
    t = spec.to_onnx()
    node = scope_node(t.code, onnx)
    xin = x
    if "permute_input_channels" in t.extra:
        xin = x[:, perm_of(t, spec)]
    y = ort_node(node, xin)
    if "permute_output_channels" in t.extra:
        y = y[:, perm_of(t, spec)]
    np.testing.assert_array_equal(y, ref)


def run(code: str, x, **env):
    scope = {"x": x, **env}
    exec(code, scope)
    return scope.get("y", scope.get("node"))


def scope_node(code: str, onnx_module) -> onnx.NodeProto:
    line = next(ln for ln in code.split("\n") if "make_node" in ln)
    scope = {"onnx": onnx_module}
    exec("node = " + line.split(" = ", 1)[1], scope)
    return scope["node"]


def perm_of(t, spec):
    key = "permute_input_channels" if "permute_input_channels" in t.extra else \
        "permute_output_channels"
    if t.extra[key] is not None:
        return t.extra[key]
    shim = SimpleNamespace(conventions=SimpleNamespace(channel_permutation=channel_permutation))
    scope = {"C": 12, "upconv": shim}
    exec(t.code.split("\n")[0], scope)
    return scope["perm"]


def test_jax_translation_any_ndim():
    for nd in (1, 3):
        for order in ("CRD", "DCR"):
            for direction in ("depth_to_space", "space_to_depth"):
                spec = ShuffleSpec(2, order, direction, nd)
                shape = (2, 8 if nd == 3 else 2, *([2] * nd)) if direction == \
                    "depth_to_space" else (2, 1, *([4] * nd))
                x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
                np.testing.assert_array_equal(
                    np.asarray(run(spec.to_jax().code, x, jnp=jnp)), spec.apply(x))
    np.testing.assert_array_equal(
        ShuffleSpec(2, "CRD", ndim=1).apply(np.arange(4.0).reshape(1, 4, 1)),
        upconv.pixel_shuffle(np.arange(4.0).reshape(1, 4, 1), 2, ndim=1))


def test_bad_input_messages():
    with pytest.raises(upconv.ShapeError, match="from_order='RCD' is not accepted; accepted "
                                                "values: 'CRD', 'DCR'"):
        channel_permutation(8, 2, from_order="RCD")
    with pytest.raises(upconv.ShapeError, match="channels=6 is not divisible by "
                                                "block_size\\*\\*2 = 4"):
        channel_permutation(6, 2)
    with pytest.raises(upconv.ShapeError, match="op='PixelShuffle2d' is not accepted; accepted "
                                                "values: 'pixel_shuffle'"):
        ShuffleSpec.from_torch("PixelShuffle2d", 2)
    with pytest.raises(upconv.ShapeError, match="SpaceToDepth has no mode attribute"):
        ShuffleSpec.from_onnx("SpaceToDepth", 2, "CRD")
    with pytest.raises(upconv.ShapeError, match="mode='crd' is not accepted"):
        onnx_depth_to_space(np.zeros((1, 4, 1, 1)), blocksize=2, mode="crd")
    with pytest.raises(upconv.ShapeError, match="which is not divisible by block_size"):
        onnx_depth_to_space(np.zeros((1, 6, 1, 1)), blocksize=2)
    with pytest.raises(upconv.ShapeError, match="is not divisible by block_size=2"):
        onnx_space_to_depth(np.zeros((1, 1, 3, 2)), blocksize=2)
    with pytest.raises(upconv.ShapeError, match="a 4-d tensor is required"):
        tf_depth_to_space(np.zeros((4, 1, 1)), 2)
    with pytest.raises(upconv.ShapeError, match="data_format='NCW' is not accepted"):
        tf_space_to_depth(np.zeros((1, 2, 2, 1)), 2, "NCW")
    with pytest.raises(upconv.ShapeError, match="backend='mlx' is not accepted"):
        keras_depth_to_space(np.zeros((1, 1, 1, 4)), 2, backend="mlx")
    with pytest.raises(upconv.ShapeError, match="op is 2-d only"):
        ShuffleSpec(2, ndim=3).to_torch()
    with pytest.raises(upconv.ShapeError, match="accepted values: 'torch', 'tf', 'keras', "
                                                "'jax', 'onnx'"):
        ShuffleSpec(2).to("flax")
    with pytest.raises(TypeError, match="a floating dtype"):
        onnx_depth_to_space(np.zeros((1, 4, 1, 1), dtype=int), blocksize=2)
