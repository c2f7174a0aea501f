"""Pooling and max-unpooling conventions, checked by values against the running peers.

Peers: ONNX Runtime (``MaxPool`` with ``Indices``, ``AveragePool``, ``MaxUnpool``), JAX
(``lax.reduce_window``), Keras 3 on JAX (``MaxPooling*D`` / ``AveragePooling*D``, which
implement TensorFlow's SAME/VALID rules) and PyTorch.  TensorFlow is not installed: its rules
are checked through Keras and ``lax.reduce_window``.  Every peer is imported at module level,
so a missing one fails collection.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from jax import lax  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import upconv  # noqa: E402
from helpers import assert_unchanged, frozen, tol  # noqa: E402
from upconv.conventions._pool import (  # noqa: E402
    PoolSpec,
    flax_avg_pool,
    flax_max_pool,
    indices_onnx_to_torch,
    indices_tf_to_torch,
    indices_torch_to_onnx,
    indices_torch_to_tf,
    jax_avg_pool,
    jax_max_pool,
    keras_avg_pool,
    keras_max_pool,
    onnx_avg_pool,
    onnx_max_pool,
    onnx_max_unpool,
    tf_avg_pool,
    tf_max_pool,
    tf_max_pool_with_argmax,
    torch_avg_pool,
    torch_max_pool,
    torch_max_unpool,
)

jax.config.update("jax_enable_x64", True)
ort.set_default_logger_severity(3)

F32 = tol(np.float32)
F64 = tol(np.float64)

# ---------------------------------------------------------------------------------------------
# Peer runners (nothing here calls the code under test)

_ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
         np.dtype(np.int64): TensorProto.INT64}


def ort_run(op: str, inputs: list[np.ndarray], n_out: int = 1, opset: int = 22,
            **attrs) -> list[np.ndarray]:
    names = [f"i{k}" for k in range(len(inputs))]
    ins = [helper.make_tensor_value_info(n, _ELEM[a.dtype], list(a.shape))
           for n, a in zip(names, inputs, strict=True)]
    types = [inputs[0].dtype] + [np.dtype(np.int64)] * (n_out - 1)
    outs = [helper.make_tensor_value_info(f"o{k}", _ELEM[np.dtype(t)], None)
            for k, t in enumerate(types)]
    node = helper.make_node(op, names, [o.name for o in outs], **attrs)
    graph = helper.make_graph([node], "g", ins, outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=10)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, dict(zip(names, inputs, strict=True)))


def keff(k: int, d: int) -> int:
    return d * (k - 1) + 1


def ort_same_need(L: int, k: int, s: int) -> int:
    # onnxruntime pool_attributes.h: pad_needed for SAME_* uses the undilated kernel
    return (-(-L // s) - 1) * s + k - L


def ort_degenerate(L, k, s, d, pads, auto) -> bool:
    """A window larger than the padded input (ORT returns empty or one window there)."""
    if auto == "NOTSET":
        return L + pads[0] + pads[1] < keff(k, d)
    if auto == "VALID":
        return L < keff(k, d)
    return L + ort_same_need(L, k, s) < keff(k, d)


@st.composite
def onnx_pool_config(draw, dilated: bool = True):
    nd = draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(nd)]
    s = [draw(st.integers(1, 3)) for _ in range(nd)]
    d = [draw(st.integers(1, 2)) if dilated else 1 for _ in range(nd)]
    L = [draw(st.integers(1, 7)) for _ in range(nd)]
    pb = [draw(st.integers(0, kk - 1)) for kk in k]
    pe = [draw(st.integers(0, kk - 1)) for kk in k]
    auto = draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    ceil = draw(st.integers(0, 1))
    for i in range(nd):
        assume(not ort_degenerate(L[i], k[i], s[i], d[i], (pb[i], pe[i]), auto))
    attrs = dict(kernel_shape=k, strides=s, dilations=d, ceil_mode=ceil)
    if auto == "NOTSET":
        attrs["pads"] = pb + pe
    else:
        attrs["auto_pad"] = auto
    return nd, L, attrs


# ---------------------------------------------------------------------------------------------
# ONNX Runtime


@settings(max_examples=60)
@given(onnx_pool_config(), st.integers(0, 1), st.sampled_from([np.float32, np.float64]),
       st.data())
def test_onnx_max_pool_matches_ort(cfg, storage_order, dtype, data):
    nd, L, attrs = cfg
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 3, *L)).astype(dtype)
    y_ref, i_ref = ort_run("MaxPool", [x], 2, storage_order=storage_order, **attrs)
    before = frozen(x)
    y, i = onnx_max_pool(x, storage_order=storage_order, **attrs)
    assert_unchanged(before, x)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(i, i_ref)
    assert i.dtype == np.int64 and y.dtype == dtype


@settings(max_examples=60)
@given(onnx_pool_config(), st.integers(0, 1), st.data())
def test_onnx_avg_pool_matches_ort(cfg, count_include_pad, data):
    nd, L, attrs = cfg
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 2, *L)).astype(np.float32)
    (ref,) = ort_run("AveragePool", [x], count_include_pad=count_include_pad, **attrs)
    y = onnx_avg_pool(x, count_include_pad=count_include_pad, **attrs)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, **F32)


def test_ort_rules_by_hand():
    x = np.arange(1.0, 8.0, dtype=np.float32).reshape(1, 1, 7)
    # ceil_mode drops a last window that would start in the end padding (PyTorch's rule)
    (y,) = ort_run("AveragePool", [x[..., :5]], kernel_shape=[2], strides=[2], pads=[1, 1],
                   ceil_mode=1, count_include_pad=1)
    np.testing.assert_allclose(y.ravel(), [0.5, 2.5, 4.5])
    np.testing.assert_allclose(
        onnx_avg_pool(x[..., :5], kernel_shape=[2], strides=[2], pads=[1, 1], ceil_mode=1,
                      count_include_pad=1).ravel(), [0.5, 2.5, 4.5])
    # the overhang of a ceil-mode window is never counted, even with count_include_pad=1
    (y,) = ort_run("AveragePool", [x[..., :5]], kernel_shape=[2], strides=[2], ceil_mode=1,
                   count_include_pad=1)
    np.testing.assert_allclose(y.ravel(), [1.5, 3.5, 5.0])
    # SAME_* pads for the undilated kernel: k=3, d=2, s=1 on L=7 pads 2, not 4 -> 5 outputs
    (y, _) = ort_run("MaxPool", [x], 2, kernel_shape=[3], dilations=[2], auto_pad="SAME_UPPER")
    assert y.shape[-1] == 5
    spec = PoolSpec.from_onnx("max", 7, [3], [1], dilations=[2], auto_pad="SAME_UPPER")
    assert spec.padding == ((1, 1),) and spec.output_size == (5,)
    # k < s: pad_needed is negative, the windows start inside the input
    (y, _) = ort_run("MaxPool", [x[..., :6]], 2, kernel_shape=[1], strides=[3],
                     auto_pad="SAME_UPPER")
    np.testing.assert_array_equal(y.ravel(), [2.0, 5.0])
    assert PoolSpec.from_onnx("avg", 6, [1], [3], auto_pad="SAME_UPPER").padding == ((-1, -1),)
    # (ORT's MaxPool windows are clipped at the input end, not at the negative end padding)
    assert PoolSpec.from_onnx("max", 6, [1], [3], auto_pad="SAME_UPPER").padding == ((-1, 0),)
    # SAME_LOWER puts the odd padding element at the start
    assert PoolSpec.from_onnx("max", 5, [2], [2], auto_pad="SAME_LOWER").padding == ((1, 0),)
    # ceil_mode also applies with auto_pad='VALID'
    (y, _) = ort_run("MaxPool", [x[..., :3]], 2, kernel_shape=[2], strides=[2],
                     auto_pad="VALID", ceil_mode=1)
    assert y.shape[-1] == 2


@settings(max_examples=40)
@given(st.integers(1, 3), st.data())
def test_onnx_max_unpool_matches_ort(nd, data):
    k = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    s = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    L = [data.draw(st.integers(kk, kk + 5)) for kk in k]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 2, *L)).astype(np.float32)
    y, i = ort_run("MaxPool", [x], 2, kernel_shape=k, strides=s)
    default = [(o - 1) * ss + kk for o, ss, kk in zip(y.shape[2:], s, k, strict=True)]
    values = rng.standard_normal(y.shape).astype(np.float32)
    if all(dflt >= n for dflt, n in zip(default, L, strict=True)) and data.draw(st.booleans()):
        (ref,) = ort_run("MaxUnpool", [values, i], kernel_shape=k, strides=s)
        ours = onnx_max_unpool(values, i, kernel_shape=k, strides=s)
    else:
        extra = [data.draw(st.integers(0, 2)) for _ in range(nd)]
        shape = np.array([2, 2, *[n + e for n, e in zip(L, extra, strict=True)]], dtype=np.int64)
        (ref,) = ort_run("MaxUnpool", [values, i, shape], kernel_shape=k, strides=s)
        ours = onnx_max_unpool(values, i, shape, kernel_shape=k, strides=s)
    np.testing.assert_array_equal(ours, ref)


def test_onnx_max_unpool_pads_and_element_count_rule():
    v = np.ones((1, 1, 2, 2), np.float32)
    i = np.zeros((1, 1, 2, 2), np.int64)
    (ref,) = ort_run("MaxUnpool", [v, i], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1])
    ours = onnx_max_unpool(v, i, kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1])
    assert ours.shape == ref.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(ours, ref)
    # ORT compares element counts: (3, 6) is accepted although 3 < 4
    (ref,) = ort_run("MaxUnpool", [v, i + np.arange(4).reshape(1, 1, 2, 2) * 4,
                                   np.array([1, 1, 3, 6])], kernel_shape=[2, 2], strides=[2, 2])
    ours = onnx_max_unpool(v, i + np.arange(4).reshape(1, 1, 2, 2) * 4, [1, 1, 3, 6],
                           kernel_shape=[2, 2], strides=[2, 2])
    np.testing.assert_array_equal(ours, ref)
    with pytest.raises(Exception, match="smaller than minimum"):
        ort_run("MaxUnpool", [v, i, np.array([1, 1, 5, 3])], kernel_shape=[2, 2],
                strides=[2, 2])
    with pytest.raises(upconv.ShapeError, match="fewer elements than the default"):
        onnx_max_unpool(v, i, [1, 1, 5, 3], kernel_shape=[2, 2], strides=[2, 2])


# ---------------------------------------------------------------------------------------------
# Switch layouts


@settings(max_examples=40)
@given(st.integers(1, 3), st.integers(0, 1), st.data())
def test_indices_torch_onnx_agree_with_both_peers(nd, storage_order, data):
    k = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    s = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    d = [data.draw(st.integers(1, 2)) for _ in range(nd)]
    p = [data.draw(st.integers(0, kk // 2)) for kk in k]
    L = [data.draw(st.integers(keff(kk, dd), keff(kk, dd) + 4))
         for kk, dd in zip(k, d, strict=True)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.permutation(2 * 3 * int(np.prod(L))).reshape(2, 3, *L).astype(np.float64)
    pool = getattr(F, f"max_pool{nd}d")
    _, ti = pool(torch.from_numpy(x), k, s, p, d, return_indices=True)
    _, oi = ort_run("MaxPool", [x], 2, kernel_shape=k, strides=s, dilations=d, pads=p + p,
                    storage_order=storage_order)
    np.testing.assert_array_equal(indices_torch_to_onnx(ti.numpy(), x.shape, storage_order),
                                  oi)
    np.testing.assert_array_equal(indices_onnx_to_torch(oi, x.shape, storage_order),
                                  ti.numpy())


def test_indices_onnx_storage_order_by_hand():
    x = np.array([[[[1.0, 9.0], [3.0, 4.0]], [[8.0, 0.0], [2.0, 5.0]]]], np.float32)
    _, row = ort_run("MaxPool", [x], 2, kernel_shape=[2, 2], storage_order=0)
    _, col = ort_run("MaxPool", [x], 2, kernel_shape=[2, 2], storage_order=1)
    assert row.ravel().tolist() == [1, 4] and col.ravel().tolist() == [2, 4]
    assert indices_torch_to_onnx(np.array([[[[1]], [[0]]]]), x.shape, 1).ravel().tolist() == \
        [2, 4]


@settings(max_examples=30)
@given(st.booleans(), st.sampled_from(["SAME", "VALID"]), st.data())
def test_tf_argmax_layout(include_batch, padding, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    n, h, w, c = 2, data.draw(st.integers(2, 6)), data.draw(st.integers(2, 6)), 3
    x = rng.permutation(n * h * w * c).reshape(n, h, w, c).astype(np.float64)
    k, s = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    out, arg = tf_max_pool_with_argmax(x, k, s, padding, include_batch)
    # TF's documented layout: (y*W + x)*C + c (+ b*H*W*C): read the maxima back
    for b in range(n):
        flat = x.reshape(-1) if include_batch else x[b].reshape(-1)
        np.testing.assert_array_equal(flat[arg[b]], out[b])
    # and the PyTorch switches of the same pooling (VALID = no padding in PyTorch)
    torch_idx = indices_tf_to_torch(arg, (n, c, h, w), include_batch)
    if padding == "VALID":
        _, ti = F.max_pool2d(torch.from_numpy(np.moveaxis(x, -1, 1)), k, s,
                             return_indices=True)
        np.testing.assert_array_equal(torch_idx, ti.numpy())
    np.testing.assert_array_equal(indices_torch_to_tf(torch_idx, (n, c, h, w), include_batch),
                                  arg)


# ---------------------------------------------------------------------------------------------
# JAX lax.reduce_window, Keras layers, PyTorch


@settings(max_examples=30)
@given(st.integers(3, 5), st.sampled_from(["max", "avg"]), st.booleans(), st.data())
def test_jax_pools_match_reduce_window(rank, kind, include, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape = [data.draw(st.integers(1, 6)) for _ in range(rank)]
    pooled = data.draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=3, unique=True))
    dims, strides, dil, pads = [1] * rank, [1] * rank, [1] * rank, [(0, 0)] * rank
    for a in pooled:
        dims[a] = data.draw(st.integers(1, 3))
        strides[a] = data.draw(st.integers(1, 3))
        dil[a] = data.draw(st.integers(1, 2))
        pads[a] = (data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2)))
    mode = data.draw(st.sampled_from(["pairs", "SAME", "VALID"]))
    padding = pads if mode == "pairs" else mode
    for a in pooled:  # XLA aborts the process on a window larger than the padded input
        lo, hi = pads[a] if mode == "pairs" else (0, 0)
        assume(shape[a] + lo + hi >= keff(dims[a], dil[a]) or mode == "SAME")
    x = rng.standard_normal(shape)
    try:
        ref_sum = lax.reduce_window(x, -jnp.inf if kind == "max" else 0.0,
                                    lax.max if kind == "max" else lax.add, dims, strides,
                                    padding, window_dilation=dil)
    except (ValueError, TypeError):
        assume(False)
    ref = np.asarray(ref_sum)
    assume(ref.size > 0)
    if kind == "max":
        ours = jax_max_pool(x, dims, strides, padding, dil)
    else:
        if include:
            ref = ref / np.prod(dims)
        else:
            with np.errstate(invalid="ignore"):  # windows holding only padding: 0/0
                ref = ref / np.asarray(lax.reduce_window(np.ones_like(x), 0.0, lax.add, dims,
                                                         strides, padding,
                                                         window_dilation=dil))
        ours = jax_avg_pool(x, dims, strides, padding, dil, include)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, **F64)


def test_flax_pools_channels_last():
    x = np.arange(2 * 5 * 4 * 3, dtype=np.float64).reshape(2, 5, 4, 3) % 7
    ref = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 3, 1), (1, 2, 1, 1),
                            ((0, 0), (1, 0), (1, 1), (0, 0)))
    np.testing.assert_array_equal(flax_max_pool(x, (2, 3), (2, 1), ((1, 0), (1, 1))), ref)
    total = lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
    np.testing.assert_allclose(flax_avg_pool(x, (2, 2), (2, 2), "SAME"), total / 4)
    count = lax.reduce_window(np.ones_like(x), 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
    np.testing.assert_allclose(flax_avg_pool(x, (2, 2), (2, 2), "SAME", False), total / count)


_KERAS_LAYERS = {}


def keras_layer(kind, nd, pool, strides, padding, fmt):
    key = (kind, nd, pool, strides, padding, fmt)
    if key not in _KERAS_LAYERS:
        cls = getattr(keras.layers, f"{'Max' if kind == 'max' else 'Average'}Pooling{nd}D")
        _KERAS_LAYERS[key] = cls(pool_size=pool, strides=strides, padding=padding,
                                 data_format=fmt)
    return _KERAS_LAYERS[key]


@settings(max_examples=25)
@given(st.integers(1, 3), st.sampled_from(["max", "avg"]), st.sampled_from(["same", "valid"]),
       st.sampled_from(["channels_last", "channels_first"]), st.data())
def test_keras_layers_match(nd, kind, padding, fmt, data):
    pool = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    L = [data.draw(st.integers(3, 7)) for _ in range(nd)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape = (2, *L, 3) if fmt == "channels_last" else (2, 3, *L)
    x = rng.standard_normal(shape).astype(np.float32)
    ref = np.asarray(keras_layer(kind, nd, pool, strides, padding, fmt)(x))
    fn = keras_max_pool if kind == "max" else keras_avg_pool
    ours = fn(x, pool, strides, padding, fmt)
    np.testing.assert_allclose(ours, ref, **F32)
    # tf.nn.* is the same rule with upper-case padding (TF's own names)
    tf_fn = tf_max_pool if kind == "max" else tf_avg_pool
    tf_fmt = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[nd] if fmt == "channels_last" else \
        {1: "NCW", 2: "NCHW", 3: "NCDHW"}[nd]
    np.testing.assert_allclose(tf_fn(x, pool, strides, padding.upper(), tf_fmt), ref, **F32)


def test_keras_same_average_excludes_padding():
    x = np.arange(1.0, 6.0, dtype=np.float32).reshape(1, 5, 1)
    ref = np.asarray(keras.layers.AveragePooling1D(2, padding="same")(x)).ravel()
    np.testing.assert_allclose(ref, [1.5, 3.5, 5.0])  # the last window holds x[4] alone
    np.testing.assert_allclose(keras_avg_pool(x, 2, padding="same").ravel(), ref)
    # TF SAME: the odd padding element goes at the end
    assert PoolSpec.from_keras("max", 6, 3, 2, "same").padding == ((0, 1),)


@settings(max_examples=40)
@given(st.integers(1, 3), st.sampled_from(["max", "avg"]), st.booleans(), st.booleans(),
       st.data())
def test_torch_specs_and_aliases_match_torch(nd, kind, ceil, include, data):
    k = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    s = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    d = [data.draw(st.integers(1, 2)) if kind == "max" else 1 for _ in range(nd)]
    p = [data.draw(st.integers(0, kk // 2)) for kk in k]
    L = [data.draw(st.integers(keff(kk, dd), keff(kk, dd) + 4))
         for kk, dd in zip(k, d, strict=True)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 2, *L))
    tx = torch.from_numpy(x)
    if kind == "max":
        ref, ridx = getattr(F, f"max_pool{nd}d")(tx, k, s, p, d, ceil, return_indices=True)
        spec = PoolSpec.from_torch("max", L, k, s, p, d, ceil)
        y, idx = spec.apply(x, return_indices=True)
        np.testing.assert_array_equal(idx, ridx.numpy())
        y2, idx2 = torch_max_pool(x, k, s, p, d, ceil, True)
        np.testing.assert_array_equal(idx2, ridx.numpy())
        default = [(o - 1) * ss - 2 * pp + kk
                   for o, ss, pp, kk in zip(y2.shape[2:], s, p, k, strict=True)]
        # unpool back to L where PyTorch's output_size range allows it
        if all(abs(n - dd) < ss for n, dd, ss in zip(L, default, s, strict=True)):
            np.testing.assert_allclose(torch_max_unpool(y2, idx2, k, s, p, x.shape[2:]),
                                       getattr(F, f"max_unpool{nd}d")(ref, ridx, k, s, p,
                                                                      x.shape[2:]).numpy())
    else:
        ref = getattr(F, f"avg_pool{nd}d")(tx, k, s, p, ceil, include)
        spec = PoolSpec.from_torch("avg", L, k, s, p, 1, ceil, include)
        y = spec.apply(x)
        np.testing.assert_allclose(torch_avg_pool(x, k, s, p, ceil, include), ref.numpy(),
                                   **F64)
    np.testing.assert_allclose(y, ref.numpy(), **F64)


def test_torch_padding_rule_is_the_kernel_not_the_dilated_kernel():
    # conventions.md says p <= k_eff/2; PyTorch 2.13 checks p <= kernel_size // 2
    with pytest.raises(RuntimeError, match="at most half of kernel size"):
        F.max_pool1d(torch.zeros(1, 1, 9), 2, 1, 2, 3)
    with pytest.raises(upconv.ShapeError, match="at most half of kernel_size"):
        PoolSpec.from_torch("max", 9, 2, 1, 2, 3)


# ---------------------------------------------------------------------------------------------
# Translations, executed in the target framework


@st.composite
def pool_source(draw):
    """A spec from some framework's arguments, with its own peer's result (when runnable)."""
    src = draw(st.sampled_from(["torch", "tf", "keras", "jax", "onnx"]))
    kind = draw(st.sampled_from(["max", "avg"]))
    nd = draw(st.integers(1, 2))
    k = [draw(st.integers(1, 3)) for _ in range(nd)]
    s = [draw(st.integers(1, 3)) for _ in range(nd)]
    d = [draw(st.integers(1, 2)) if kind == "max" and src in ("torch", "jax", "onnx") else 1
         for _ in range(nd)]
    L = [draw(st.integers(keff(kk, dd) + 1, keff(kk, dd) + 5)) for kk, dd in zip(k, d, strict=True)]
    if src == "torch":
        p = [draw(st.integers(0, kk // 2)) for kk in k]
        ceil, inc = draw(st.booleans()), draw(st.booleans())
        spec = PoolSpec.from_torch(kind, L, k, s, p, d, ceil, inc)
    elif src in ("tf", "keras"):
        pad = draw(st.sampled_from(["SAME", "VALID"]))
        spec = (PoolSpec.from_tf(kind, L, k, s, pad) if src == "tf" else
                PoolSpec.from_keras(kind, L, k, s, pad.lower()))
    elif src == "jax":
        pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd)]
        spec = PoolSpec.from_jax(kind, L, k, s, pads, d, count_include_pad=draw(st.booleans()))
    else:
        pads = [draw(st.integers(0, kk - 1)) for kk in k] + [draw(st.integers(0, kk - 1))
                                                              for kk in k]
        auto = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER"]))
        for i in range(nd):
            assume(not ort_degenerate(L[i], k[i], s[i], d[i], (pads[i], pads[nd + i]), auto))
        spec = PoolSpec.from_onnx(kind, L, k, s, pads if auto == "NOTSET" else None, d, auto,
                                  draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    return spec


def run_code(code: str, x, **env):
    scope = {"x": x, **env}
    exec(code, scope)
    return scope["y"]


def expected(spec: PoolSpec, x_cf: np.ndarray) -> np.ndarray:
    y = spec.apply(x_cf)
    assert isinstance(y, np.ndarray)
    return y


@settings(max_examples=60)
@given(pool_source(), st.data())
def test_translations_run_in_torch_and_onnxruntime(spec, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 3, *spec.input_size))
    ref = expected(spec, x)
    # PyTorch: the generated code, executed
    if not (spec.kind == "avg" and any(d != 1 for d in spec.dilation)):
        t = spec.to_torch()
        assert t.exact == (not t.extra)
        y = run_code(t.code, torch.from_numpy(x), torch=torch)
        np.testing.assert_allclose(y.numpy(), ref, **F64, err_msg=t.code)
    # ONNX Runtime: the translated attributes (plus the numpy padding of the fallback)
    t = spec.to("onnx")
    xin = x.astype(np.float32)  # ORT's AveragePool has no float64 kernel
    if "pad_input" in t.extra:
        xin = crop_pad(xin, t.extra["pad_input"], t.extra["pad_value"])
    op = "MaxPool" if spec.kind == "max" else "AveragePool"
    y = ort_run(op, [xin], 2 if spec.kind == "max" else 1, **t.args)[0]
    if "divide_by" in t.extra:
        with np.errstate(invalid="ignore"):  # 0/0 where a window holds only padding
            y = y * t.extra["multiply_by"] / np.asarray(t.extra["divide_by"])
    np.testing.assert_allclose(y, ref, **F32, err_msg=str(t.args))
    if spec.kind == "max" and t.exact:
        _, i = ort_run("MaxPool", [x], 2, **t.args)
        _, idx = spec.apply(x, return_indices=True)
        np.testing.assert_array_equal(indices_onnx_to_torch(i, x.shape), idx)


def crop_pad(x, pairs, value):
    nd = len(pairs)
    keep = (Ellipsis, *(slice(max(-b, 0), n - max(-a, 0))
                        for (b, a), n in zip(pairs, x.shape[-nd:], strict=True)))
    widths = [(0, 0)] * (x.ndim - nd) + [(max(b, 0), max(a, 0)) for b, a in pairs]
    return np.pad(x[keep], widths, constant_values=value)


@settings(max_examples=30)
@given(pool_source(), st.data())
def test_translations_run_in_jax_keras_and_flax_rules(spec, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 3, *spec.input_size))
    ref = expected(spec, x)
    t = spec.to_jax()
    y = np.asarray(run_code(t.code, x, jax=jax, jnp=jnp))
    np.testing.assert_allclose(y, ref, **F64, err_msg=t.code)
    last = np.moveaxis(x, 1, -1).astype(np.float32)
    ref_last = np.moveaxis(ref, 1, -1)
    if all(d == 1 for d in spec.dilation):
        t = spec.to_keras()
        y = np.asarray(run_code(t.code, last, keras=keras))
        np.testing.assert_allclose(y, ref_last, **F32, err_msg=t.code)
        # Flax = lax.reduce_window on channels-last data, divided by the window or the count
        t = spec.to_flax()
        a = t.args
        pads = ((0, 0), *a["padding"], (0, 0))
        win, st_ = (1, *a["window_shape"], 1), (1, *a["strides"], 1)
        if spec.kind == "max":
            y = np.asarray(lax.reduce_window(last, -jnp.inf, lax.max, win, st_, pads))
        else:
            y = np.asarray(lax.reduce_window(last, 0.0, lax.add, win, st_, pads))
            with np.errstate(invalid="ignore"):
                y = y / (np.prod(win) if a["count_include_pad"] else np.asarray(
                    lax.reduce_window(np.ones_like(last), 0.0, lax.add, win, st_, pads)))
                if t.extra:
                    y = y * t.extra["multiply_by"] / np.asarray(t.extra["divide_by"])[..., None]
        np.testing.assert_allclose(y, ref_last, **F32, err_msg=str(a))
    # TF: SAME/VALID run through Keras's ops (TF's rules), explicit padding through -inf pads
    if not any(d != 1 for d in spec.dilation) or all(s == 1 for s in spec.stride):
        t = spec.to_tf()
        a = t.args
        xin = last
        if "pad_input" in t.extra:
            xin = np.moveaxis(crop_pad(np.moveaxis(last, -1, 1), t.extra["pad_input"],
                                       t.extra["pad_value"]), 1, -1)
        pad = a["padding"]
        if isinstance(pad, list):
            xin = np.pad(xin, pad, constant_values=-np.inf)
            pad = "VALID"
        if "window_shape" in a:
            return  # dilated tf.nn.pool: no Keras counterpart
        op = keras.ops.max_pool if spec.kind == "max" else keras.ops.average_pool
        y = np.asarray(op(xin, tuple(a["ksize"]), tuple(a["strides"]), pad.lower()))
        if "divide_by" in t.extra:
            with np.errstate(invalid="ignore"):
                y = y * t.extra["multiply_by"] / np.asarray(t.extra["divide_by"])[..., None]
        np.testing.assert_allclose(y, ref_last, **F32, err_msg=str(a))


@pytest.mark.parametrize("source", ["tf", "keras", "onnx", "jax"])
def test_round_trips_are_exact(source):
    if source == "tf":
        spec = PoolSpec.from_tf("avg", (7, 6), 3, 2, "SAME")
        back = PoolSpec.from_tf("avg", (7, 6), **spec.to_tf().args)
    elif source == "keras":
        spec = PoolSpec.from_keras("max", 9, 2, 2, "same")
        back = PoolSpec.from_keras("max", 9, **spec.to_keras().args)
    elif source == "onnx":
        spec = PoolSpec.from_onnx("avg", (5, 8), [3, 2], [2, 2], [1, 0, 1, 1], None, "NOTSET",
                                  1, 1)
        a = spec.to_onnx().args
        back = PoolSpec.from_onnx("avg", (5, 8), a["kernel_shape"], a["strides"], a["pads"],
                                  a["dilations"], "NOTSET", a["ceil_mode"],
                                  a["count_include_pad"])
    else:
        spec = PoolSpec.from_jax("max", 8, 3, 2, ((2, 1),), 2)
        a = spec.to_jax().args
        back = PoolSpec.from_jax("max", 8, a["window_dimensions"][2:], a["window_strides"][2:],
                                 a["padding"][2:], a["window_dilation"][2:])
    assert back.padding == spec.padding and back.output_size == spec.output_size
    assert np.array_equal(back.divisors(), spec.divisors()) or spec.kind == "max"
    torch_t = spec.to_torch()
    assert torch_t.exact or torch_t.extra


def test_tf_same_avg_in_torch_is_exact_with_ceil_mode():
    # TF's SAME average (padding excluded, odd element at the end) is PyTorch's
    # padding=0, ceil_mode=True, count_include_pad=False when the padding is (0, 1)
    t = PoolSpec.from_tf("avg", 5, 2, 2, "SAME").to_torch()
    assert t.exact and t.args["ceil_mode"] is True
    x = torch.arange(5.0).reshape(1, 1, 5)
    np.testing.assert_allclose(torch.nn.AvgPool1d(**t.args)(x).numpy().ravel(), [0.5, 2.5, 4])
    # k=4, s=1 needs padding (1, 2): no symmetric PyTorch padding, the exact fallback pads
    t = PoolSpec.from_tf("avg", 5, 4, 1, "SAME").to_torch()
    assert not t.exact and t.extra["pad_input"] == ((1, 2),)
    assert t.extra["divide_by"] == [3.0, 4.0, 4.0, 3.0, 2.0]


def test_translation_errors():
    dilated_avg = PoolSpec.from_onnx("avg", 9, [2], [1], dilations=[2])
    with pytest.raises(upconv.ShapeError, match="PyTorch's AvgPool has no dilation"):
        dilated_avg.to_torch()
    with pytest.raises(upconv.ShapeError, match="Keras pooling layers have no dilation"):
        dilated_avg.to_keras()
    with pytest.raises(upconv.ShapeError, match="Flax's pools have no dilation"):
        dilated_avg.to_flax()
    with pytest.raises(upconv.ShapeError, match="tf.nn.pool needs strides of 1 when dilated"):
        PoolSpec.from_onnx("max", 9, [2], [2], dilations=[2]).to_tf()
    with pytest.raises(upconv.ShapeError, match="accepted values: 'torch', 'tf', 'keras'"):
        dilated_avg.to("caffe")


# ---------------------------------------------------------------------------------------------
# Bad input


def test_bad_input_messages():
    with pytest.raises(upconv.ShapeError, match="kind='min' is not accepted; accepted values: "
                                                "'max', 'avg'"):
        PoolSpec.from_torch("min", 5, 2)
    with pytest.raises(upconv.ShapeError, match="padding='same' is not accepted; accepted "
                                                "values: 'SAME', 'VALID'"):
        PoolSpec.from_tf("max", 5, 2, 2, "same")
    with pytest.raises(upconv.ShapeError, match="padding='SAME' is not accepted; accepted "
                                                "values: 'valid', 'same'"):
        PoolSpec.from_keras("max", 5, 2, 2, "SAME")
    with pytest.raises(upconv.ShapeError, match="auto_pad='SAME' is not accepted; accepted "
                                                "values: 'NOTSET', 'SAME_UPPER'"):
        PoolSpec.from_onnx("max", 5, [2], auto_pad="SAME")
    with pytest.raises(upconv.ShapeError, match="tf.nn.avg_pool accepts only 'SAME' or 'VALID'"):
        PoolSpec.from_tf("avg", 5, 2, 2, [(1, 0)])
    with pytest.raises(upconv.ShapeError, match="cannot be combined with auto_pad"):
        PoolSpec.from_onnx("max", 5, [2], pads=[1, 1], auto_pad="VALID")
    with pytest.raises(upconv.ShapeError, match=r"pads=\(1,\) must be 2 ints"):
        onnx_max_pool(np.zeros((1, 1, 5)), kernel_shape=[2], pads=[1])
    with pytest.raises(upconv.ShapeError, match="the output would be empty"):
        PoolSpec.from_onnx("max", 2, [5])
    with pytest.raises(upconv.ShapeError, match="PyTorch's AvgPool has no dilation"):
        PoolSpec.from_torch("avg", 5, 2, dilation=2)
    with pytest.raises(upconv.ShapeError, match="data_format='NHWC' is not accepted"):
        tf_max_pool(np.zeros((1, 5, 1)), 2, 2, "VALID", "NHWC")
    with pytest.raises(upconv.ShapeError, match="a window starting at"):
        PoolSpec("max", (5,), (2,), (2,), (1,), ((0, 0),), (4,))
    with pytest.raises(upconv.ShapeError, match="return_indices=True needs kind='max'"):
        PoolSpec.from_torch("avg", 4, 2).apply(np.zeros((1, 4)), return_indices=True)
    with pytest.raises(upconv.ShapeError, match="indices hold values outside their own"):
        indices_onnx_to_torch(np.array([[[7]]]), (1, 1, 4))
    with pytest.raises(upconv.ShapeError, match="indices must lie in"):
        indices_torch_to_onnx(np.array([[[7]]]), (1, 1, 4))
    with pytest.raises(upconv.ShapeError, match="not flat NHWC indices"):
        indices_tf_to_torch(np.array([[[1]], [[0]]]).reshape(1, 1, 2), (1, 2, 2))
    with pytest.raises(upconv.ShapeError, match="must keep N and C"):
        onnx_max_unpool(np.ones((1, 1, 2)), np.zeros((1, 1, 2), np.int64), [1, 2, 4],
                        kernel_shape=[2], strides=[2])
    with pytest.raises(upconv.ShapeError, match="indices from a larger pooled input need "
                                                "output_shape"):
        onnx_max_unpool(np.ones((1, 1, 2)), np.array([[[0, 9]]]), kernel_shape=[2],
                        strides=[2])
    with pytest.raises(TypeError, match="I must be a NumPy integer array"):
        onnx_max_unpool(np.ones((1, 1, 2)), np.zeros((1, 1, 2)), kernel_shape=[2])
    with pytest.raises(TypeError, match="a floating dtype"):
        keras_max_pool(np.zeros((1, 4, 1), dtype=int), 2)
    with pytest.raises(upconv.ShapeError, match="5 axes are pooled"):
        jax_max_pool(np.zeros((2,) * 5), (2,) * 5)
