"""Convolution and transposed convolution conventions, checked by values against the peers.

Peers: JAX 0.10.2 (``lax.conv_transpose``, ``lax.conv_general_dilated``, and the VJP of the
forward convolution as TensorFlow's definition of ``conv_transpose``), ONNX Runtime
(``ConvTranspose``, ``Conv``), Keras 3 on JAX (layers and ``keras.ops``), PyTorch.  TensorFlow
is not installed: its rules are checked through JAX (whose ``'SAME'`` is TF's) and the
gradient definition.  Every peer is imported at module level: a missing one fails collection.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
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
from upconv.conventions._common import convert_kernel  # noqa: E402
from upconv.conventions._conv import (  # noqa: E402
    ConvSpec,
    TransposeSpec,
    direct_kernel,
    from_direct_kernel,
    jax_conv,
    jax_conv_transpose,
    keras_conv,
    keras_conv_transpose,
    onnx_conv,
    onnx_conv_transpose,
    tf_conv,
    tf_conv2d,
    tf_conv2d_transpose,
    tf_conv_transpose,
    torch_conv,
    torch_conv_transpose,
)

jax.config.update("jax_enable_x64", True)

SP = {1: "W", 2: "HW", 3: "DHW"}
JAX_DN = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}
F32 = tol(np.float32)
FRAMEWORKS = ("torch", "tf", "keras", "jax", "flax", "onnx")

# ---------------------------------------------------------------------------------------------
# Peer runners and independent helpers (nothing here calls the code under test)


def ort_run(op: str, inputs: dict[str, np.ndarray], **attrs) -> np.ndarray:
    elem = TensorProto.DOUBLE if next(iter(inputs.values())).dtype == np.float64 else \
        TensorProto.FLOAT
    node = helper.make_node(op, list(inputs), ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, elem, a.shape) for n, a in inputs.items()],
        [helper.make_tensor_value_info("Y", elem, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    assert model.graph.node[0].op_type == op
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, inputs)[0]


def last(x: np.ndarray) -> np.ndarray:
    """(N, C, *sp) -> (N, *sp, C)."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def first(x: np.ndarray) -> np.ndarray:
    """(N, *sp, C) -> (N, C, *sp)."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def window(y: np.ndarray, crop, channels_last: bool = False) -> np.ndarray:
    """Remove (before, after) per spatial axis; negative appends zeros (by padding wide)."""
    nd = len(crop)
    axes = range(1, 1 + nd) if channels_last else range(2, 2 + nd)
    for ax, (b, a) in zip(axes, crop, strict=True):
        n = y.shape[ax]
        big = n + abs(b) + abs(a) + 1
        widths = [(0, 0)] * y.ndim
        widths[ax] = (big, big)
        yp = np.pad(y, widths)
        idx = [slice(None)] * y.ndim
        idx[ax] = slice(big + b, big + n - a)
        y = yp[tuple(idx)]
    return y


def sp_axes(nd: int) -> tuple[int, ...]:
    return tuple(range(nd))


def to_hwoi(w: np.ndarray) -> np.ndarray:
    """PyTorch ConvTranspose (I, O, *k) -> TF/Keras (*k, O, I), written out by hand."""
    nd = w.ndim - 2
    return np.ascontiguousarray(w.transpose(*range(2, 2 + nd), 1, 0))


def to_hwio_flipped(w: np.ndarray) -> np.ndarray:
    """PyTorch ConvTranspose (I, O, *k) -> direct form (*k, I, O) flipped in space."""
    nd = w.ndim - 2
    return np.ascontiguousarray(np.flip(w, tuple(range(2, 2 + nd))).transpose(
        *range(2, 2 + nd), 0, 1))


def torch_transpose(x, w, b=None, **kw) -> np.ndarray:
    nd = w.ndim - 2
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
    return fn(torch.from_numpy(x), torch.from_numpy(w),
              None if b is None else torch.from_numpy(b), **kw).numpy()


def torch_full(x, w, stride, dilation, groups) -> np.ndarray:
    return torch_transpose(x, w, stride=stride, dilation=dilation, groups=groups)


def tf_peer_transpose(x, filters, out_spatial, strides, padding, dilations) -> np.ndarray:
    """TF's definition: the input gradient of the forward conv of the output size (JAX VJP)."""
    nd = x.ndim - 2
    z = jnp.zeros((x.shape[0], *out_spatial, filters.shape[-2]), x.dtype)

    def fwd(v):
        return lax.conv_general_dilated(v, filters, strides, padding, rhs_dilation=dilations,
                                        dimension_numbers=JAX_DN[nd])

    y, vjp = jax.vjp(fwd, z)
    assert y.shape == x.shape, (y.shape, x.shape)
    return np.asarray(vjp(jnp.asarray(x))[0])


def xla_shift_pair(padding) -> bool:
    """A (-p, +p) padding pair, which XLA on CPU (jax 0.10.2) miscomputes in convolutions.

    See test_xla_miscomputes_shift_padding: such draws are left out of the comparisons with
    JAX (JAX's own lax.pad + 'VALID' disagrees with conv_general_dilated there).
    """
    return not isinstance(padding, str) and any(lo < 0 and lo == -hi for lo, hi in padding)


def empty_ok(fn):
    """Run a peer; None when it refuses (an exception)."""
    try:
        return fn()
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# Strategies


@st.composite
def geometry(draw, max_nd: int = 3, max_k: int = 4, max_s: int = 3, max_d: int = 2):
    nd = draw(st.integers(1, max_nd))
    cap = 4 if nd < 3 else 3
    L = tuple(draw(st.lists(st.integers(1, cap), min_size=nd, max_size=nd)))
    k = tuple(draw(st.lists(st.integers(1, max_k if nd < 3 else 3), min_size=nd, max_size=nd)))
    s = tuple(draw(st.lists(st.integers(1, max_s), min_size=nd, max_size=nd)))
    d = tuple(draw(st.lists(st.integers(1, max_d), min_size=nd, max_size=nd)))
    return nd, L, k, s, d


def keff(k, d):
    return tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d, strict=True))


def full(L, k, s, d):
    return tuple((ll - 1) * ss + ke for ll, ss, ke in zip(L, s, keff(k, d), strict=True))


# =============================================================================================
# Compute functions against the peers, by values


@settings(max_examples=40)
@given(geometry(), st.sampled_from(["SAME", "VALID", "pairs", "consistent"]), st.booleans(),
       st.sampled_from([np.float32, np.float64]), st.data())
def test_jax_conv_transpose_matches_lax(g, mode, transpose_kernel, dtype, data):
    nd, L, k, s, d = g
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    cin, cout, n = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), 2
    x = rng.standard_normal((n, *L, cin)).astype(dtype)
    w = rng.standard_normal((*k, cout, cin) if transpose_kernel else (*k, cin, cout)).astype(dtype)
    if mode in ("SAME", "VALID"):
        padding = mode
    else:
        padding = [tuple(data.draw(st.integers(-1, 4)) for _ in range(2)) for _ in range(nd)]
        assume(not xla_shift_pair(padding))
    cons = mode == "consistent"
    ref = empty_ok(lambda: np.asarray(lax.conv_transpose(
        x, w, s, padding, rhs_dilation=d, transpose_kernel=transpose_kernel,
        use_consistent_padding=cons)))
    assume(ref is not None and ref.size > 0)
    before = frozen(x, w)
    ours = jax_conv_transpose(x, w, s, padding, rhs_dilation=d,
                              transpose_kernel=transpose_kernel, use_consistent_padding=cons)
    assert_unchanged(before, x, w)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, ref, **tol(dtype))


@settings(max_examples=20)
@given(st.sampled_from(["SAME", "VALID", "pairs"]), st.booleans(),
       st.sampled_from([("NCHW", "OIHW", "NCHW"), ("NCWH", "IOWH", "NWHC"),
                        ("NHWC", "HWIO", "NCHW")]), st.data())
def test_jax_conv_transpose_dimension_numbers(mode, transpose_kernel, dn, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    cin, cout = 2, 3
    sizes = {"N": 2, "C": cin, "H": data.draw(st.integers(1, 4)), "W": data.draw(
        st.integers(1, 4))}
    # transpose_kernel=True reads rhs as a forward kernel: its O axis holds the input channels
    ksz = {"H": 3, "W": 2, "I": cout if transpose_kernel else cin,
           "O": cin if transpose_kernel else cout}
    x = rng.standard_normal([sizes[c] for c in dn[0]])
    w = rng.standard_normal([ksz[c] for c in dn[1]])
    padding = mode if mode != "pairs" else [(1, 2), (0, -1)]
    ref = empty_ok(lambda: np.asarray(lax.conv_transpose(
        x, w, (2, 1), padding, dimension_numbers=dn, transpose_kernel=transpose_kernel)))
    assume(ref is not None and ref.size > 0)
    ours = jax_conv_transpose(x, w, (2, 1), padding, dimension_numbers=dn,
                              transpose_kernel=transpose_kernel)
    np.testing.assert_allclose(ours, ref, **tol(np.float64))


@settings(max_examples=30)
@given(geometry(max_s=3), st.sampled_from(["SAME", "same", "SAME_LOWER", "VALID", "pairs",
                                           "lhs"]),
       st.sampled_from([np.float32, np.float64]), st.data())
def test_jax_conv_matches_conv_general_dilated(g, mode, dtype, data):
    nd, L, k, s, d = g
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, cin, *L)).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, *k)).astype(dtype)
    lhs_dilation = None
    if mode in ("pairs", "lhs"):
        padding = [tuple(data.draw(st.integers(-1, 3)) for _ in range(2)) for _ in range(nd)]
        assume(not xla_shift_pair(padding))
        if mode == "lhs":
            lhs_dilation = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    else:
        padding = mode
    ref = empty_ok(lambda: np.asarray(lax.conv_general_dilated(
        x, w, s, padding, lhs_dilation=lhs_dilation, rhs_dilation=d,
        feature_group_count=groups)))
    assume(ref is not None and ref.size > 0)
    ours = jax_conv(x, w, s, padding, lhs_dilation=lhs_dilation, rhs_dilation=d,
                    feature_group_count=groups)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, ref, **tol(dtype))


def test_jax_conv_channels_last_dimension_numbers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 6, 4))
    w = rng.standard_normal((3, 2, 2, 6))            # HWIO, groups 2
    dn = ("NHWC", "HWIO", "NHWC")
    ref = np.asarray(lax.conv_general_dilated(x, w, (2, 1), "SAME", rhs_dilation=(1, 2),
                                              dimension_numbers=dn, feature_group_count=2))
    ours = jax_conv(x, w, (2, 1), "SAME", rhs_dilation=(1, 2), dimension_numbers=dn,
                    feature_group_count=2)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=50)
@given(geometry(), st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID",
                                    "output_shape"]), st.data())
def test_onnx_conv_transpose_matches_ort(g, mode, data):
    nd, L, k, s, d = g
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    group = data.draw(st.integers(1, 2))
    cin, cout_g = group * data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, cin, *L)).astype(np.float32)
    w = rng.standard_normal((cin, cout_g, *k)).astype(np.float32)
    b = rng.standard_normal(cout_g * group).astype(np.float32) if data.draw(st.booleans()) \
        else None
    attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), group=group)
    op = [data.draw(st.integers(0, ss - 1)) for ss in s]
    if any(op):
        attrs["output_padding"] = op
    fl = full(L, k, s, d)
    if mode == "pads":
        attrs["pads"] = [data.draw(st.integers(0, 2)) for _ in range(2 * nd)]
    elif mode == "output_shape":
        attrs["output_shape"] = [data.draw(st.integers(1, f + ss - 1))
                                 for f, ss in zip(fl, s, strict=True)]
        attrs["auto_pad"] = data.draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER",
                                                       "VALID"]))
    else:
        attrs["auto_pad"] = mode
    inputs = {"X": x, "W": w} | ({"B": b} if b is not None else {})
    ref = empty_ok(lambda: ort_run("ConvTranspose", inputs, **attrs))
    assume(ref is not None and ref.size > 0)
    before = frozen(x, w)
    ours = onnx_conv_transpose(x, w, b, **attrs)
    assert_unchanged(before, x, w)
    np.testing.assert_allclose(ours, ref, **F32)


@settings(max_examples=40)
@given(geometry(), st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID"]), st.data())
def test_onnx_conv_matches_ort(g, mode, data):
    nd, L, k, s, d = g
    L = tuple(ll + 3 for ll in L)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    group = data.draw(st.integers(1, 2))
    cin, cout = group * data.draw(st.integers(1, 2)), group * data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, cin, *L)).astype(np.float32)
    w = rng.standard_normal((cout, cin // group, *k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), group=group)
    if mode == "pads":
        attrs["pads"] = [data.draw(st.integers(0, 2)) for _ in range(2 * nd)]
    else:
        attrs["auto_pad"] = mode
    ref = empty_ok(lambda: ort_run("Conv", {"X": x, "W": w, "B": b}, **attrs))
    assume(ref is not None and ref.size > 0)
    ours = onnx_conv(x, w, b, **attrs)
    np.testing.assert_allclose(ours, ref, **F32)


@settings(max_examples=25)
@given(geometry(), st.sampled_from(["same", "valid", "SAME"]), st.booleans(), st.data())
def test_keras_conv_transpose_matches_keras_ops(g, padding, with_op, data):
    nd, L, k, s, d = g
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    cin, cout = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, *L, cin)).astype(np.float32)
    w = rng.standard_normal((*k, cout, cin)).astype(np.float32)
    op = tuple(data.draw(st.integers(0, ss - 1)) for ss in s) if with_op else None
    ref = empty_ok(lambda: np.asarray(keras.ops.conv_transpose(
        x, w, s, padding, output_padding=op, dilation_rate=d)))
    assume(ref is not None and ref.size > 0)
    ours = keras_conv_transpose(x, w, s, padding, op, dilation_rate=d)
    np.testing.assert_allclose(ours, ref, **F32)


@settings(max_examples=15)
@given(st.integers(1, 3), st.sampled_from(["same", "valid"]), st.booleans(),
       st.booleans(), st.data())
def test_keras_conv_transpose_layers(nd, padding, with_op, channels_first, data):
    # Conv1DTranspose / Conv2DTranspose / Conv3DTranspose with their weights set: the layer
    # refuses strides > 1 with dilation > 1, so dilation is drawn only for stride 1.
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    L = tuple(data.draw(st.integers(1, 4 if nd < 3 else 3)) for _ in range(nd))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    dilated = data.draw(st.booleans())
    s = (1,) * nd if dilated else tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(nd)) if dilated else (1,) * nd
    op = tuple(data.draw(st.integers(0, ss - 1)) for ss in s) if with_op else None
    cin, cout = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    fmt = "channels_first" if channels_first else "channels_last"
    layer = getattr(keras.layers, f"Conv{nd}DTranspose")(
        cout, k, strides=s, padding=padding, output_padding=op, dilation_rate=d,
        data_format=fmt, use_bias=False)
    shape = (2, cin, *L) if channels_first else (2, *L, cin)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((*k, cout, cin)).astype(np.float32)
    layer.build(shape)
    layer.set_weights([w])
    ref = empty_ok(lambda: np.asarray(layer(x)))
    assume(ref is not None and ref.size > 0)
    ours = keras_conv_transpose(x, w, s, padding, op, fmt, d)
    np.testing.assert_allclose(ours, ref, **F32)


@settings(max_examples=25)
@given(geometry(), st.sampled_from(["same", "valid"]), st.data())
def test_keras_conv_matches_keras_ops(g, padding, data):
    nd, L, k, s, d = g
    L = tuple(ll + 2 for ll in L)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, *L, cin)).astype(np.float32)
    w = rng.standard_normal((*k, cin // groups, cout)).astype(np.float32)
    ref = empty_ok(lambda: np.asarray(keras.ops.conv(x, w, s, padding, dilation_rate=d)))
    assume(ref is not None and ref.size > 0)
    np.testing.assert_allclose(keras_conv(x, w, s, padding, dilation_rate=d), ref, **F32)


@settings(max_examples=20)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2), st.data())
def test_keras_conv1d_causal_layer(k, d, groups, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    L = data.draw(st.integers(1, 6))
    layer = keras.layers.Conv1D(2 * groups, k, padding="causal", dilation_rate=d,
                                groups=groups, use_bias=False)
    x = rng.standard_normal((2, L, 2 * groups)).astype(np.float32)
    w = rng.standard_normal((k, 2, 2 * groups)).astype(np.float32)
    layer.build(x.shape)
    layer.set_weights([w])
    ref = np.asarray(layer(x))
    spec = ConvSpec.from_keras(L, k, 1, "causal", d, groups)
    t = spec.to_jax()
    ours = jax_conv(x, w, t.args["window_strides"], t.args["padding"],
                    rhs_dilation=t.args["rhs_dilation"],
                    dimension_numbers=t.args["dimension_numbers"],
                    feature_group_count=t.args["feature_group_count"])
    np.testing.assert_allclose(ours, ref, **F32)
    if d * (k - 1) > 0:
        assert spec.to_keras().args["padding"] == "causal"


@settings(max_examples=25)
@given(geometry(), st.sampled_from(["SAME", "VALID", "explicit"]), st.booleans(), st.data())
def test_tf_conv_transpose_is_the_gradient_of_tf_conv(g, padding, channels_first, data):
    # TF defines conv_transpose as the input gradient of the forward convolution of the
    # output size with the same padding; JAX's conv_general_dilated implements TF's padding.
    nd, L, k, s, d = g
    if padding == "explicit":
        nd, L, k, s, d = 2, L[:1] * 2, k[:1] * 2, s[:1] * 2, d[:1] * 2
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    cin, cout = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    fl, ke = full(L, k, s, d), keff(k, d)
    if padding == "SAME":
        out = [data.draw(st.integers((ll - 1) * ss + 1, ll * ss))
               for ll, ss in zip(L, s, strict=True)]
        pad_arg = "SAME"
    elif padding == "VALID":
        out = [data.draw(st.integers(f, f + ss - 1)) for f, ss in zip(fl, s, strict=True)]
        pad_arg = "VALID"
    else:
        pairs = [(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nd)]
        assume(all(f - b - a >= 1 for f, (b, a) in zip(fl, pairs, strict=True)))
        out = [data.draw(st.integers(f - b - a, f - b - a + ss - 1))
               for f, (b, a), ss in zip(fl, pairs, s, strict=True)]
        pad_arg = pairs
    del ke
    x = rng.standard_normal((2, *L, cin))
    filters = rng.standard_normal((*k, cout, cin))
    ref = tf_peer_transpose(x, filters, out, s, pad_arg, d)
    if channels_first:
        fmt = "NC" + SP[nd]
        ours = first_to_last(tf_conv_transpose(first(x), filters, [2, cout, *out], s, pad_arg
                                               if isinstance(pad_arg, str) else
                                               [(0, 0), (0, 0)] + pad_arg, fmt, d))
    else:
        ours = tf_conv_transpose(x, filters, [2, *out, cout], [1, *s, 1], pad_arg, None,
                                 [1, *d, 1])
    np.testing.assert_allclose(ours, ref, **tol(np.float64))


def first_to_last(y):
    return last(y)


@settings(max_examples=30)
@given(geometry(), st.sampled_from(["SAME", "VALID", "explicit"]), st.data())
def test_tf_conv_matches_jax_tf_rule(g, padding, data):
    nd, L, k, s, d = g
    L = tuple(ll + 2 for ll in L)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    x = rng.standard_normal((2, *L, cin))
    w = rng.standard_normal((*k, cin // groups, cout))
    pad_arg = padding if padding != "explicit" else [
        (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nd)]
    ref = empty_ok(lambda: np.asarray(lax.conv_general_dilated(
        x, w, s, pad_arg, rhs_dilation=d, dimension_numbers=JAX_DN[nd],
        feature_group_count=groups)))
    assume(ref is not None and ref.size > 0)
    np.testing.assert_allclose(tf_conv(x, w, s, pad_arg, dilations=d), ref, **tol(np.float64))
    if nd == 2:
        np.testing.assert_allclose(tf_conv2d(x, w, s, pad_arg, dilations=d), ref,
                                   **tol(np.float64))


@settings(max_examples=30)
@given(geometry(max_nd=2), st.data())
def test_torch_aliases_match_torch(g, data):
    nd, L, k, s, d = g
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 2, *L))
    w = rng.standard_normal((2, 3, *k))
    p = data.draw(st.integers(0, 1))
    assume(all(f - 2 * p >= 1 for f in full(L, k, s, d)))
    ref = torch_transpose(x, w, stride=s, padding=p, dilation=d)
    np.testing.assert_allclose(torch_conv_transpose(x, w, None, s, p, 0, 1, d), ref, **tol(
        np.float64))
    y = torch_conv(ref, w, None, s, p, d)     # the adjoint: the same weight, (C_out=2, 3, *k)
    fn = (F.conv1d, F.conv2d)[nd - 1]
    np.testing.assert_allclose(y, fn(torch.from_numpy(ref), torch.from_numpy(w), None, s, p,
                                     d).numpy(), **tol(np.float64))


# =============================================================================================
# Round trips: from_X(...) then to_Y(), computed by Y's peer, equals X's peer


@st.composite
def transpose_source(draw):
    """A framework, its native arguments and the spec, plus X's result computed by X's peer."""
    fw = draw(st.sampled_from(["torch", "tf", "keras", "jax", "jax_general", "onnx"]))
    nd, L, k, s, d = draw(geometry(max_nd=2))
    seed = draw(st.integers(0, 2**16))
    groups = draw(st.integers(1, 2)) if fw in ("torch", "onnx", "jax_general") else 1
    cin, cout_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, cin, *L)).astype(np.float32)
    W = rng.standard_normal((cin, cout_g, *k)).astype(np.float32)   # canonical (I, O/G, *k)
    fl = full(L, k, s, d)
    if fw == "torch":
        p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d, strict=True))
        assume(all(f - 2 * pp + oo >= 1 for f, pp, oo in zip(fl, p, op, strict=True)))
        ref = torch_transpose(x, W, stride=s, padding=p, output_padding=op, groups=groups,
                              dilation=d)
        spec = TransposeSpec.from_torch(L, k, s, p, op, d, groups=groups)
        return fw, spec, x, W, W, ref
    if fw == "tf":
        padding = draw(st.sampled_from(["SAME", "VALID"]))
        if padding == "SAME":
            out = [draw(st.integers((ll - 1) * ss + 1, ll * ss))
                   for ll, ss in zip(L, s, strict=True)]
        else:
            out = [draw(st.integers(f, f + ss - 1)) for f, ss in zip(fl, s, strict=True)]
        wk = to_hwoi(W)
        ref = first(tf_peer_transpose(last(x), wk, out, s, padding, d))
        spec = TransposeSpec.from_tf(L, k, s, padding, out, d)
        return fw, spec, x, W, wk, ref
    if fw == "keras":
        padding = draw(st.sampled_from(["same", "valid"]))
        op = tuple(draw(st.integers(0, ss - 1)) for ss in s) if draw(st.booleans()) else None
        wk = to_hwoi(W)
        ref = empty_ok(lambda: first(np.asarray(keras.ops.conv_transpose(
            last(x), wk, s, padding, output_padding=op, dilation_rate=d))))
        assume(ref is not None and ref.size > 0)
        spec = TransposeSpec.from_keras(L, k, s, padding, op, d)
        return fw, spec, x, W, wk, ref
    if fw == "jax":
        tk = draw(st.booleans())
        mode = draw(st.sampled_from(["SAME", "VALID", "pairs", "consistent"]))
        padding = mode if mode in ("SAME", "VALID") else [
            (draw(st.integers(-1, 3)), draw(st.integers(-1, 3))) for _ in range(nd)]
        assume(not xla_shift_pair(padding))
        wk = to_hwoi(W) if tk else to_hwio_flipped(W)
        ref = empty_ok(lambda: first(np.asarray(lax.conv_transpose(
            last(x), wk, s, padding, rhs_dilation=d, transpose_kernel=tk,
            use_consistent_padding=mode == "consistent"))))
        assume(ref is not None and ref.size > 0)
        spec = TransposeSpec.from_jax(L, k, s, padding, d, transpose_kernel=tk,
                                      use_consistent_padding=mode == "consistent")
        return fw, spec, x, W, wk, ref
    if fw == "jax_general":
        padding = [(draw(st.integers(-1, 3)), draw(st.integers(-1, 3))) for _ in range(nd)]
        assume(not xla_shift_pair(padding))
        wk = direct_kernel_by_hand(W, groups)        # (O, I/G, *k) direct form
        ref = empty_ok(lambda: np.asarray(lax.conv_general_dilated(
            x, wk, (1,) * nd, padding, lhs_dilation=s, rhs_dilation=d,
            feature_group_count=groups)))
        assume(ref is not None and ref.size > 0)
        spec = TransposeSpec.from_jax_general(L, k, padding, s, d, groups)
        return fw, spec, x, W, wk, ref
    # onnx
    mode = draw(st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "output_shape"]))
    attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), group=groups)
    op = [draw(st.integers(0, ss - 1)) for ss in s]
    attrs["output_padding"] = op
    if mode == "pads":
        attrs["pads"] = [draw(st.integers(0, 2)) for _ in range(2 * nd)]
    elif mode == "output_shape":
        attrs["output_shape"] = [draw(st.integers(1, f + ss - 1))
                                 for f, ss in zip(fl, s, strict=True)]
    else:
        attrs["auto_pad"] = mode
    ref = empty_ok(lambda: ort_run("ConvTranspose", {"X": x, "W": W}, **attrs))
    assume(ref is not None and ref.size > 0)
    spec = TransposeSpec.from_onnx(L, k, s, attrs.get("pads"), attrs.get("auto_pad", "NOTSET"),
                                   attrs.get("output_shape"), op, d, group=groups)
    return fw, spec, x, W, W, ref


def direct_kernel_by_hand(W, groups):
    cin, cout_g, *k = W.shape
    out = np.zeros((cout_g * groups, cin // groups, *k), W.dtype)
    for g in range(groups):
        for i in range(cin // groups):
            for o in range(cout_g):
                out[g * cout_g + o, i] = np.flip(W[g * cin // groups + i, o])
    return out


def kernel_for(t, w_src, groups):
    """The target framework's kernel from the source kernel, following ``t.kernel``."""
    info = t.kernel
    if info.get("groups_swap"):
        # go through PyTorch's layout: undo the source form, then build the target form
        raise AssertionError("handled by the caller")
    return convert_kernel(w_src, info["from_layout"], info["layout"], flip=info["flip"])


def target_kernel(t, w_src, W, spec):
    if t.kernel.get("groups_swap"):
        # source and target differ in direct form with groups: use the canonical kernel
        if t.kernel["layout"].startswith("IO"):
            return W
        return np.moveaxis(direct_kernel(W, spec.groups), (0, 1), (-1, -2))
    return kernel_for(t, w_src, spec.groups)


def run_translation(t, x, w_src, W, spec):
    """Compute a translation with the target's peer (or, for TF, TF's gradient definition)."""
    nd = x.ndim - 2
    wk = target_kernel(t, w_src, W, spec)
    a = t.args
    if t.framework == "torch":
        y = torch_transpose(x, wk, stride=a["stride"], padding=a["padding"],
                            output_padding=a["output_padding"], groups=a["groups"],
                            dilation=a["dilation"])
        cl = False
    elif t.framework == "onnx":
        attrs = dict(a)
        y = ort_run("ConvTranspose", {"X": x, "W": wk}, **attrs)
        cl = False
    elif t.framework == "tf":
        y = tf_peer_transpose(last(x), wk, a["output_shape"], a["strides"], a["padding"]
                              if isinstance(a["padding"], str) else
                              [tuple(p) for p in a["padding"]], a["dilations"])
        ours = tf_conv_transpose(last(x), wk, a["output_shape"], a["strides"], a["padding"],
                                 a["data_format"], a["dilations"])
        np.testing.assert_allclose(ours, y, **F32)
        cl = True
    elif t.framework == "keras":
        y = np.asarray(keras.ops.conv_transpose(last(x), wk, a["strides"], a["padding"],
                                                output_padding=a["output_padding"],
                                                dilation_rate=a["dilation_rate"]))
        cl = True
    elif t.op == "jax.lax.conv_transpose":
        y = np.asarray(lax.conv_transpose(last(x), wk, a["strides"], a["padding"] if isinstance(
            a["padding"], str) else [tuple(p) for p in a["padding"]],
            rhs_dilation=a["rhs_dilation"], dimension_numbers=tuple(a["dimension_numbers"]),
            transpose_kernel=a["transpose_kernel"]))
        cl = True
    elif t.op == "jax.lax.conv_general_dilated":
        y = np.asarray(lax.conv_general_dilated(
            last(x), wk, a["window_strides"], [tuple(p) for p in a["padding"]],
            lhs_dilation=a["lhs_dilation"], rhs_dilation=a["rhs_dilation"],
            dimension_numbers=tuple(a["dimension_numbers"]),
            feature_group_count=a["feature_group_count"]))
        cl = True
    elif t.op == "flax.linen.ConvTranspose":
        # Flax calls lax.conv_transpose(x, kernel, strides, padding, rhs_dilation=
        # kernel_dilation, transpose_kernel=transpose_kernel) with channels-last defaults
        y = np.asarray(lax.conv_transpose(last(x), wk, a["strides"], a["padding"] if isinstance(
            a["padding"], str) else [tuple(p) for p in a["padding"]],
            rhs_dilation=a["kernel_dilation"], transpose_kernel=a["transpose_kernel"]))
        cl = True
    elif t.op == "flax.linen.Conv":
        y = np.asarray(lax.conv_general_dilated(
            last(x), wk, a["strides"], [tuple(p) for p in a["padding"]],
            lhs_dilation=a["input_dilation"], rhs_dilation=a["kernel_dilation"],
            dimension_numbers=JAX_DN[nd], feature_group_count=a["feature_group_count"]))
        cl = True
    else:
        raise AssertionError(t.op)
    if t.extra:
        y = window(y, t.extra["crop"], channels_last=cl)
    return first(y) if cl else y


def check_translation(spec, target, x, w_src, W, ref, label):
    if spec.groups > 1 and target in ("tf", "keras"):
        with pytest.raises(upconv.ShapeError, match="has no groups"):
            spec.to(target)
        return
    t = spec.to(target)
    assert t.framework == target
    assert t.exact == (t.extra == {}), (t.exact, t.extra)
    ke = keff(spec.kernel_size, spec.dilation)
    if target in ("jax", "flax") and all(b < kk and a < kk for (b, a), kk in zip(
            spec.crop, ke, strict=True)) or target == "onnx" and all(
            b >= 0 and a > -s for (b, a), s in zip(spec.crop, spec.stride, strict=True)):
        assert t.exact
    y = run_translation(t, x, w_src, W, spec)
    np.testing.assert_allclose(y, ref, **F32, err_msg=f"{label} -> {target}: {spec} {t.args} "
                               f"{t.extra}")


@settings(max_examples=20)
@given(transpose_source())
def test_transpose_round_trip(source):
    # X's peer result == each Y's peer result on spec.to_Y() (+ extra), for every Y
    fw, spec, x, W, w_src, ref = source
    for target in FRAMEWORKS:
        check_translation(spec, target, x, w_src, W, ref, fw)


@settings(max_examples=15)
@given(geometry(max_nd=2), st.data())
def test_transpose_any_crop_translates_exactly(g, data):
    # Arbitrary crops, including zeros before the full output and crops past it: every
    # translator's args + extra reproduce the crop of PyTorch's full output.
    nd, L, k, s, d = g
    fl = full(L, k, s, d)
    crop = []
    for f in fl:
        b = data.draw(st.integers(-3, f + 1))
        crop.append((b, data.draw(st.integers(-3 - b if b < 0 else -3, f - 1 - b))))
    spec = TransposeSpec(L, k, s, d, tuple(crop))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((1, 2, *L)).astype(np.float32)
    W = rng.standard_normal((2, 2, *k)).astype(np.float32)
    ref = window(torch_full(x, W, s, d, 1), spec.crop)
    assert ref.shape[2:] == spec.output_size
    for target in FRAMEWORKS:
        check_translation(spec, target, x, W, W, ref, "crop")


def exec_lines(code, ns, after=None):
    """Run generated code line by line; ``after(name, ns)`` runs once a layer is created."""
    for line in code.splitlines():
        exec(line, ns)
        name = line.split(" = ")[0]
        if after and name in ("conv", "layer", "node") and " = " in line:
            after(name, ns)


@settings(max_examples=15)
@given(geometry(max_nd=2), st.booleans(), st.data())
def test_generated_transpose_code_runs(g, grouped, data):
    # The torch, jax, keras and onnx code strings, executed as printed (TF and Flax are not
    # installed), give the spec's result; the kernel comment is followed by hand.
    nd, L, k, s, d = g
    fl = full(L, k, s, d)
    crop = []
    for f in fl:
        b = data.draw(st.integers(-2, f - 1))
        crop.append((b, data.draw(st.integers(-2 if b >= 0 else -2 - b, f - 1 - b))))
    groups = 2 if grouped else 1
    spec = TransposeSpec(L, k, s, d, tuple(crop), groups, 2, 4)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((1, 2, *L)).astype(np.float32)
    W = rng.standard_normal((2, 4 // groups, *k)).astype(np.float32)
    ref = window(torch_full(x, W, s, d, groups), spec.crop)

    def set_torch(name, ns):
        ns["conv"].weight.data = torch.from_numpy(W)
        if ns["conv"].bias is not None:
            ns["conv"].bias.data.zero_()

    t = spec.to_torch()
    ns = {"torch": torch, "x": torch.from_numpy(x)}
    exec_lines(t.code, ns, set_torch)
    np.testing.assert_allclose(ns["y"].detach().numpy(), ref, **F32, err_msg=t.code)

    t = spec.to_jax()
    ns = {"jax": jax, "jnp": jnp, "x": last(x), "rhs": target_kernel(t, W, W, spec)}
    exec(t.code, ns)
    np.testing.assert_allclose(first(np.asarray(ns["y"])), ref, **F32, err_msg=t.code)

    t = spec.to_onnx()
    ns = {"onnx": onnx, "np": np}

    def run_node(name, ns):
        node = ns["node"]
        graph = helper.make_graph([node], "g", [
            helper.make_tensor_value_info("X", TensorProto.FLOAT, x.shape),
            helper.make_tensor_value_info("W", TensorProto.FLOAT, W.shape)],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  ir_version=10)
        sess = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
        ns["y"] = sess.run(None, {"X": x, "W": W})[0]

    exec_lines(t.code, ns, run_node)
    np.testing.assert_allclose(ns["y"], ref, **F32, err_msg=t.code)

    if grouped:
        return
    t = spec.to_keras()
    kernel = target_kernel(t, W, W, spec)

    def set_keras(name, ns):
        ns["layer"].build(last(x).shape)
        ns["layer"].kernel.assign(kernel)

    ns = {"keras": keras, "x": last(x), "kernel": kernel}
    exec_lines(t.code, ns, set_keras)
    np.testing.assert_allclose(first(np.asarray(ns["y"])), ref, **F32, err_msg=t.code)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=15)
@given(geometry(max_nd=2), st.data())
def test_generated_conv_code_runs(g, data):
    nd, L, k, s, d = g
    L = tuple(ll + 3 for ll in L)
    pad = tuple((data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2)))
                for _ in range(nd))
    assume(all(ll + b + a >= ke for ll, (b, a), ke in zip(L, pad, keff(k, d), strict=True)))
    spec = ConvSpec(L, k, s, d, pad, 1, 2, 3)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((1, 2, *L)).astype(np.float32)
    W = rng.standard_normal((3, 2, *k)).astype(np.float32)
    ref = (F.conv1d, F.conv2d)[nd - 1](torch.from_numpy(window(x, tuple((-b, -a) for b, a in
                                                                      pad))),
                                        torch.from_numpy(W), None, s, 0, d).numpy()

    def set_torch(name, ns):
        ns["conv"].weight.data = torch.from_numpy(W)
        ns["conv"].bias.data.zero_()

    t = spec.to_torch()
    ns = {"torch": torch, "x": torch.from_numpy(x)}
    exec_lines(t.code, ns, set_torch)
    np.testing.assert_allclose(ns["y"].detach().numpy(), ref, **F32, err_msg=t.code)

    t = spec.to_jax()
    ns = {"jax": jax, "x": last(x), "rhs": np.moveaxis(W, (0, 1), (-1, -2))}
    exec(t.code, ns)
    np.testing.assert_allclose(first(np.asarray(ns["y"])), ref, **F32, err_msg=t.code)

    t = spec.to_keras()
    kernel = np.moveaxis(W, (0, 1), (-1, -2))

    def set_keras(name, ns):
        ns["layer"].build(ns["x"].shape)
        ns["layer"].kernel.assign(kernel)
        ns["layer"].bias.assign(np.zeros(3, np.float32))

    ns = {"keras": keras, "x": last(x), "kernel": kernel}
    exec_lines(t.code, ns, set_keras)
    np.testing.assert_allclose(first(np.asarray(ns["y"])), ref, **F32, err_msg=t.code)

    t = spec.to_onnx()

    def run_node(name, ns):
        graph = helper.make_graph([ns["node"]], "g", [
            helper.make_tensor_value_info("X", TensorProto.FLOAT, ns["x"].shape),
            helper.make_tensor_value_info("W", TensorProto.FLOAT, W.shape)],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  ir_version=10)
        sess = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
        ns["y"] = sess.run(None, {"X": np.ascontiguousarray(ns["x"]), "W": W})[0]

    ns = {"onnx": onnx, "np": np, "x": x}
    exec_lines(t.code, ns, run_node)
    np.testing.assert_allclose(ns["y"], ref, **F32, err_msg=t.code)


@st.composite
def conv_source(draw):
    fw = draw(st.sampled_from(["torch", "tf", "keras", "jax", "onnx"]))
    nd, L, k, s, d = draw(geometry(max_nd=2))
    L = tuple(ll + 2 for ll in L)
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, cin, *L)).astype(np.float32)
    W = rng.standard_normal((cout, cin // groups, *k)).astype(np.float32)   # (O, I/G, *k)
    hwio = np.ascontiguousarray(np.moveaxis(W, (0, 1), (-1, -2)))
    if fw == "torch":
        padding = draw(st.sampled_from(["same", "valid", "int"]))
        if padding == "same":
            s = (1,) * nd
        if padding == "int":
            padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        ref = empty_ok(lambda: (F.conv1d, F.conv2d)[nd - 1](
            torch.from_numpy(x), torch.from_numpy(W), None, s, padding, d, groups).numpy())
        assume(ref is not None and ref.size > 0)
        return fw, ConvSpec.from_torch(L, k, s, padding, d, groups), x, W, W, ref
    if fw in ("tf", "keras"):
        padding = draw(st.sampled_from(["SAME", "VALID"]))
        ref = empty_ok(lambda: np.asarray(lax.conv_general_dilated(
            last(x), hwio, s, padding, rhs_dilation=d, dimension_numbers=JAX_DN[nd],
            feature_group_count=groups)))
        assume(ref is not None and ref.size > 0)
        if fw == "tf":
            spec = ConvSpec.from_tf(L, k, s, padding, d)
        else:
            ref = np.asarray(keras.ops.conv(last(x), hwio, s, padding.lower(),
                                            dilation_rate=d))
            spec = ConvSpec.from_keras(L, k, s, padding.lower(), d, groups)
        spec = ConvSpec(spec.input_size, spec.kernel_size, spec.stride, spec.dilation,
                        spec.padding, groups, kernel_layout=spec.kernel_layout, source=fw)
        return fw, spec, x, W, hwio, first(ref)
    if fw == "jax":
        padding = draw(st.sampled_from(["SAME", "SAME_LOWER", "VALID", "pairs"]))
        if padding == "pairs":
            padding = [(draw(st.integers(-1, 2)), draw(st.integers(-1, 2))) for _ in range(nd)]
            assume(not xla_shift_pair(padding))
        ref = empty_ok(lambda: np.asarray(lax.conv_general_dilated(
            x, W, s, padding, rhs_dilation=d, feature_group_count=groups)))
        assume(ref is not None and ref.size > 0)
        return fw, ConvSpec.from_jax(L, k, s, padding, None, d, None, groups), x, W, W, ref
    attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), group=groups)
    mode = draw(st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    if mode == "pads":
        attrs["pads"] = [draw(st.integers(0, 2)) for _ in range(2 * nd)]
    else:
        attrs["auto_pad"] = mode
    ref = empty_ok(lambda: ort_run("Conv", {"X": x, "W": W}, **attrs))
    assume(ref is not None and ref.size > 0)
    spec = ConvSpec.from_onnx(L, k, s, attrs.get("pads"), attrs.get("auto_pad", "NOTSET"), d,
                              group=groups)
    return fw, spec, x, W, W, ref


def pad_input(x, pad, channels_last):
    return window(x, tuple((-b, -a) for b, a in pad), channels_last)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=20)
@given(conv_source())
def test_conv_round_trip(source):
    fw, spec, x, W, w_src, ref = source
    for target in FRAMEWORKS:
        check_conv_translation(spec, target, x, w_src, ref, fw)


def check_conv_translation(spec, target, x, w_src, ref, fw):
    t = spec.to(target)
    assert t.exact == (t.extra == {})
    a = t.args
    wk = convert_kernel(w_src, t.kernel["from_layout"], t.kernel["layout"], flip=t.kernel["flip"])
    nd = spec.ndim
    if target == "torch":
        xin = pad_input(x, t.extra["pad_input"], False) if t.extra else x
        y = empty_ok(lambda: (F.conv1d, F.conv2d)[nd - 1](
            torch.from_numpy(xin), torch.from_numpy(wk), None, a["stride"], a["padding"],
            a["dilation"], a["groups"]).numpy())
        assert y is not None, (spec, a)
    elif target == "onnx":
        xin = pad_input(x, t.extra["pad_input"], False) if t.extra else x
        y = ort_run("Conv", {"X": xin, "W": wk}, **a)
    else:
        xl = last(x)
        xin = pad_input(xl, t.extra["pad_input"], True) if t.extra else xl
        if target == "keras" and a["padding"] == "causal":
            # what keras.layers.Conv1D does: pad d*(k-1) zeros before, then 'valid'
            layer = keras.layers.Conv1D(wk.shape[-1], a["kernel_size"], a["strides"],
                                        padding="causal", dilation_rate=a["dilation_rate"],
                                        groups=a["groups"], use_bias=False)
            layer.build(xin.shape)
            layer.set_weights([wk])
            y = np.asarray(layer(xin))
        elif target == "keras":
            y = np.asarray(keras.ops.conv(xin, wk, a["strides"], a["padding"],
                                          dilation_rate=a["dilation_rate"]))
        elif target == "tf":
            pad = a["padding"] if isinstance(a["padding"], str) else [tuple(p) for p in
                                                                      a["padding"]]
            y = np.asarray(lax.conv_general_dilated(xin, wk, a["strides"], pad,
                                                    rhs_dilation=a["dilations"],
                                                    dimension_numbers=JAX_DN[nd],
                                                    feature_group_count=spec.groups))
            np.testing.assert_allclose(tf_conv(xin, wk, a["strides"], a["padding"],
                                               dilations=a["dilations"]), y, **F32)
        else:  # jax, flax (flax.linen.Conv calls conv_general_dilated channels-last)
            strides = a["window_strides"] if target == "jax" else a["strides"]
            dil = a["rhs_dilation"] if target == "jax" else a["kernel_dilation"]
            pad = a["padding"] if isinstance(a["padding"], str) else [tuple(p) for p in
                                                                      a["padding"]]
            y = np.asarray(lax.conv_general_dilated(xin, wk, strides, pad, rhs_dilation=dil,
                                                    dimension_numbers=JAX_DN[nd],
                                                    feature_group_count=a[
                                                        "feature_group_count"]))
        y = first(y)
    np.testing.assert_allclose(y, ref, **F32, err_msg=f"{fw} -> {target}: {spec} {a} {t.extra}")


# =============================================================================================
# Hand-written rules of conventions.md, each checked against a running peer


def test_tf_same_odd_to_torch_is_p_floor_plus_drop_last_never_shifted():
    # k=3, s=2: P = k_eff - s = 1 is odd -> p = 0, output_padding = 0, drop the last element
    spec = TransposeSpec.from_tf((4, 4), 3, 2, "SAME")
    t = spec.to_torch()
    assert (t.args["padding"], t.args["output_padding"]) == ((0, 0), (0, 0))
    assert t.extra == {"crop": ((0, 1), (0, 1))} and not t.exact
    assert "y = y[:, :, :-1, :-1]" in t.code
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    W = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    ref = first(np.asarray(lax.conv_transpose(last(x), to_hwoi(W), (2, 2), "SAME",
                                              transpose_kernel=True)))
    y = torch_transpose(x, W, stride=2, padding=0)[:, :, :-1, :-1]
    np.testing.assert_allclose(y, ref, **F32)
    shifted = torch_transpose(x, W, stride=2, padding=1, output_padding=1)
    assert shifted.shape == ref.shape and not np.allclose(shifted, ref, **F32)
    # k=5 (P=3): p = 1 and one element dropped at the end
    t5 = TransposeSpec.from_tf(4, 5, 2, "SAME").to_torch()
    assert (t5.args["padding"], t5.extra["crop"]) == (1, ((0, 1),))
    # even P: exact
    t4 = TransposeSpec.from_tf(4, 4, 2, "SAME").to_torch()
    assert (t4.args["padding"], t4.args["output_padding"], t4.exact) == (1, 0, True)
    # k_eff < s: P < 0 -> p = 0, output_padding = -P
    t2 = TransposeSpec.from_tf(4, 2, 3, "SAME").to_torch()
    assert (t2.args["padding"], t2.args["output_padding"], t2.exact) == (0, 1, True)
    # VALID -> p = 0, output_padding = max(s - k_eff, 0) (Keras's default output size)
    tv = TransposeSpec.from_tf(4, 2, 3, "VALID").to_torch()
    assert (tv.args["padding"], tv.args["output_padding"]) == (0, 1)


def test_torch_output_size_sets_output_padding():
    x = np.random.default_rng(2).standard_normal((1, 1, 7))
    w = np.random.default_rng(3).standard_normal((1, 1, 3))
    layer = torch.nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1, bias=False).double()
    layer.weight.data = torch.from_numpy(w)
    ref = layer(torch.from_numpy(x), output_size=[14]).detach().numpy()
    spec = TransposeSpec.from_torch(7, 3, 2, 1, output_size=14)
    assert spec.crop == ((1, 0),) and spec.output_size == (14,)
    np.testing.assert_allclose(window(torch_full(x, w, 2, 1, 1), spec.crop), ref, rtol=1e-12)
    with pytest.raises(upconv.ShapeError, match="output_size=15 is not reachable: in "
                       "dimension 0 the output size ranges from 13 to 14"):
        TransposeSpec.from_torch(7, 3, 2, 1, output_size=15)


def test_onnx_runtime_auto_pad_splits():
    # conventions.md header: SAME_UPPER crops floor(total/2) at the start, SAME_LOWER ceil
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5) + 1
    w = np.ones((1, 1, 4), np.float32)   # F = 8*... (L-1)*2 + 4 = 12, L*s = 10, total 2
    w5 = np.ones((1, 1, 5), np.float32)  # F = 13, total 3 (odd)
    full5 = torch_transpose(x, w5, stride=2)
    up = ort_run("ConvTranspose", {"X": x, "W": w5}, strides=[2], auto_pad="SAME_UPPER")
    lo = ort_run("ConvTranspose", {"X": x, "W": w5}, strides=[2], auto_pad="SAME_LOWER")
    np.testing.assert_array_equal(up, full5[..., 1:-2])
    np.testing.assert_array_equal(lo, full5[..., 2:-1])
    assert TransposeSpec.from_onnx(5, [5], [2], auto_pad="SAME_UPPER").crop == ((1, 2),)
    assert TransposeSpec.from_onnx(5, [5], [2], auto_pad="SAME_LOWER").crop == ((2, 1),)
    # SAME_UPPER == TF SAME for output_padding 0 (the official autopad_same test case)
    assert TransposeSpec.from_onnx((3, 3), [3, 3], [2, 2], auto_pad="SAME_UPPER").crop == \
        TransposeSpec.from_tf((3, 3), 3, 2, "SAME").crop == ((0, 1), (0, 1))
    del w


def test_onnx_runtime_output_shape_odd_element_at_start():
    # header of conventions.md: F = 14 -> output 13 crops 1 at the start (NOTSET)
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 6)
    w = np.arange(4, dtype=np.float32).reshape(1, 1, 4) + 1
    fullv = torch_transpose(x, w, stride=2)
    assert fullv.shape[-1] == 14
    y = ort_run("ConvTranspose", {"X": x, "W": w}, strides=[2], output_shape=[13])
    np.testing.assert_array_equal(y, fullv[..., 1:])
    assert TransposeSpec.from_onnx(6, [4], [2], output_shape=[13]).crop == ((1, 0),)
    yu = ort_run("ConvTranspose", {"X": x, "W": w}, strides=[2], output_shape=[13],
                 auto_pad="SAME_UPPER")
    np.testing.assert_array_equal(yu, fullv[..., :-1])
    assert TransposeSpec.from_onnx(6, [4], [2], output_shape=[13],
                                   auto_pad="SAME_UPPER").crop == ((0, 1),)


def test_onnx_runtime_same_does_not_pad_up_to_l_times_s():
    # Disagreement with conventions.md §1.6 ("target O = L*s"): with k_eff < s ONNX Runtime
    # 1.31.1 outputs min(F + output_padding, L*s), not L*s.
    x = np.ones((1, 1, 3), np.float32)
    w = np.ones((1, 1, 2), np.float32)
    y = ort_run("ConvTranspose", {"X": x, "W": w}, strides=[3], auto_pad="SAME_UPPER")
    assert y.shape[-1] == 8 != 3 * 3
    assert TransposeSpec.from_onnx(3, [2], [3], auto_pad="SAME_UPPER").output_size == (8,)
    y1 = ort_run("ConvTranspose", {"X": x, "W": w}, strides=[3], auto_pad="SAME_UPPER",
                 output_padding=[1])
    assert y1.shape[-1] == 9
    assert TransposeSpec.from_onnx(3, [2], [3], auto_pad="SAME_UPPER",
                                   output_padding=[1]).output_size == (9,)
    # so conventions.md §1.7's "TF SAME -> ONNX auto_pad=SAME_UPPER" needs output_padding
    # s - k_eff when k_eff < s; the translation uses pads + output_padding
    tf_y = tf_peer_transpose(last(x).astype(np.float64), w.transpose(2, 1, 0).astype(
        np.float64), [9], (3,), "SAME", (1,))
    np.testing.assert_allclose(y1, first(tf_y), **F32)
    t = TransposeSpec.from_tf(3, 2, 3, "SAME").to_onnx()
    assert t.exact and t.args["pads"] == [0, 0] and t.args["output_padding"] == [1]
    np.testing.assert_allclose(ort_run("ConvTranspose", {"X": x, "W": w}, **t.args),
                               first(tf_y), **F32)


def test_onnx_runtime_rejects_output_padding_not_below_stride():
    # PyTorch accepts output_padding < max(stride, dilation); ONNX Runtime needs < stride
    x = np.ones((1, 1, 3), np.float32)
    w = np.ones((1, 1, 3), np.float32)
    np.testing.assert_allclose(torch_transpose(x, w, stride=1, output_padding=1, dilation=2),
                               np.r_[1, 1, 2, 1, 2, 1, 1, 0][None, None], **F32)
    with pytest.raises(Exception, match="output_padding"):
        ort_run("ConvTranspose", {"X": x, "W": w}, strides=[1], dilations=[2],
                output_padding=[1])
    with pytest.raises(upconv.ShapeError, match="ONNX Runtime rejects output_padding >= stride"):
        TransposeSpec.from_onnx(3, [3], [1], output_padding=[1], dilations=[2])
    # the PyTorch spec still translates exactly, through pads (no output_padding needed)...
    spec = TransposeSpec.from_torch(3, 3, 1, 1, 1, 2)
    t = spec.to_onnx()
    assert t.exact and t.args["pads"] == [1, 0] and "output_padding" not in t.args
    y = ort_run("ConvTranspose", {"X": x, "W": w}, **t.args)
    np.testing.assert_allclose(y, torch_transpose(x, w, padding=1, output_padding=1,
                                                  dilation=2), **F32)
    # ...and with zeros beyond the full output as an extra step
    t0 = TransposeSpec.from_torch(3, 3, 1, 0, 1, 2).to_onnx()
    assert not t0.exact and t0.extra == {"crop": ((0, -1),)}


def test_onnx_output_shape_range():
    x = np.ones((1, 1, 3), np.float32)
    w = np.ones((1, 1, 3), np.float32)
    ort_run("ConvTranspose", {"X": x, "W": w}, strides=[2], output_shape=[8])   # F + s - 1
    with pytest.raises(Exception, match="output_shape"):
        ort_run("ConvTranspose", {"X": x, "W": w}, strides=[2], output_shape=[9])
    with pytest.raises(upconv.ShapeError, match="at most F \\+ s - 1 = 8"):
        TransposeSpec.from_onnx(3, [3], [2], output_shape=[9])


def test_jax_version_semantics():
    # 0.10.2 has use_consistent_padding, default False (legacy: pairs pad the stretched input)
    import inspect

    sig = inspect.signature(lax.conv_transpose)
    assert sig.parameters["use_consistent_padding"].default is False
    x = np.arange(4.0).reshape(1, 4, 1)
    w = np.ones((3, 1, 1))
    legacy = np.asarray(lax.conv_transpose(x, w, (2,), [(0, 0)]))
    assert legacy.shape[1] == 9 - 2 * 2   # crops k_eff-1 = 2 at each end of F = 9
    assert TransposeSpec.from_jax(4, 3, (2,), [(0, 0)]).crop == ((2, 2),)
    consistent = np.asarray(lax.conv_transpose(x, w, (2,), [(0, 0)],
                                               use_consistent_padding=True))
    assert consistent.shape[1] == 9
    assert TransposeSpec.from_jax(4, 3, (2,), [(0, 0)], use_consistent_padding=True).crop == \
        ((0, 0),)
    # lower-case strings are not padding modes for conv_transpose
    with pytest.raises(ValueError, match="String padding is not implemented"):
        lax.conv_transpose(x, w, (2,), "same")
    with pytest.raises(upconv.ShapeError, match="accepted values: 'SAME', 'VALID'"):
        TransposeSpec.from_jax(4, 3, (2,), "same")
    # conv_general_dilated's default layout is channels first (conv_transpose's is not)
    xc = np.arange(5.0).reshape(1, 1, 5)
    np.testing.assert_allclose(jax_conv(xc, np.ones((1, 1, 3)), (1,), "VALID"),
                               np.asarray(lax.conv_general_dilated(xc, np.ones((1, 1, 3)),
                                                                   (1,), "VALID")))


def test_xla_miscomputes_shift_padding():
    # Found by these tests: on CPU, jax 0.10.2's conv_general_dilated is wrong for a (-p, +p)
    # padding pair (here (-1, 1) on W), while JAX's own lax.pad + 'VALID' agrees with PyTorch.
    # upconv computes the documented meaning and never emits negative padding for JAX.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    w = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    pads = [(0, 0), (-1, 1)]
    padded = np.asarray(lax.pad(x, np.float32(0), [(0, 0, 0), (0, 0, 0), (0, 0, 0),
                                                     (-1, 1, 0)]))
    want = np.asarray(lax.conv_general_dilated(padded, w, (1, 1), "VALID"))
    torch_want = F.conv2d(F.pad(torch.from_numpy(x), [-1, 1]), torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(want, torch_want, **F32)
    np.testing.assert_allclose(jax_conv(x, w, (1, 1), pads), want, **F32)
    t = ConvSpec.from_jax((4, 4), 3, (1, 1), pads).to_jax()
    assert t.args["padding"] == [[0, 0], [0, 1]] and t.extra == {"pad_input": ((0, 0), (-1, 0))}
    assert "miscomputes" in " ".join(t.notes)
    tt = TransposeSpec(4, 3, 2, 1, ((3, 1),)).to_jax()    # stretched-input pads (-1, 1)
    assert tt.args["padding"] == [[0, 1]] and tt.extra == {"crop": ((1, 0),)}


def test_jax_same_and_keras_same_and_tf_same_agree():
    # conventions.md §1.7 arithmetic check, by values: for k_eff >= s the start crop of
    # TF SAME, Keras->JAX and JAX 'SAME' coincide (the table is checked here for k_eff < s too)
    rng = np.random.default_rng(3)
    for k in range(1, 6):
        for s in range(1, 4):
            for d in (1, 2):
                x = rng.standard_normal((1, 3, 1)).astype(np.float32)
                w = rng.standard_normal((k, 1, 1)).astype(np.float32)
                j = np.asarray(lax.conv_transpose(x, w, (s,), "SAME", rhs_dilation=(d,),
                                                  transpose_kernel=True))
                kr = np.asarray(keras.ops.conv_transpose(x, w, s, "same", dilation_rate=d))
                tf = tf_peer_transpose(x.astype(np.float64), w.astype(np.float64), [3 * s],
                                       (s,), "SAME", (d,))
                np.testing.assert_allclose(j, kr, **F32)
                np.testing.assert_allclose(j, tf, **F32)
                c1 = TransposeSpec.from_jax(3, k, (s,), "SAME", (d,)).crop
                assert c1 == TransposeSpec.from_keras(3, k, s, "same", None, d).crop == \
                    TransposeSpec.from_tf(3, k, s, "SAME", None, d).crop


def test_keras_output_size_table():
    # §1.3: valid None -> (L-1)s + max(k_eff, s); valid op -> + op; same None -> L*s;
    # same op -> (L-1)s + k_eff % 2 + op
    for L, k, s, op, pad, want in [(4, 2, 3, None, "valid", 12), (4, 3, 2, 1, "valid", 10),
                                   (4, 3, 2, None, "same", 8), (4, 3, 2, 0, "same", 7),
                                   (4, 4, 2, 1, "same", 7)]:
        x = np.ones((1, L, 1), np.float32)
        w = np.ones((k, 1, 1), np.float32)
        got = keras.ops.conv_transpose(x, w, s, pad, output_padding=op).shape[1]
        assert got == want == TransposeSpec.from_keras(L, k, s, pad, op).output_size[0]
    with pytest.raises(ValueError, match="not supported in conjunction"):
        keras.layers.Conv2DTranspose(1, 3, strides=2, dilation_rate=2)
    t = TransposeSpec.from_keras((4, 4), 3, 2, "same", dilation_rate=2).to_keras()
    assert t.op == "keras.ops.conv_transpose"


def test_kernel_layouts_and_flip():
    # TF/Keras (*k, out, in) <-> PyTorch (in, out, *k): a pure permutation, no flip; the
    # direct form (JAX/Flax transpose_kernel=False) is the flip with in/out in place.
    rng = np.random.default_rng(5)
    W = rng.standard_normal((2, 3, 2, 3)).astype(np.float32)
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    ref = torch_transpose(x, W, stride=2)
    layer = keras.layers.Conv2DTranspose(3, (2, 3), strides=2, use_bias=False)
    layer.build((1, 3, 3, 2))
    layer.set_weights([convert_kernel(W, "IOHW", "HWOI")])
    np.testing.assert_allclose(first(np.asarray(layer(last(x)))), ref, **F32)
    np.testing.assert_array_equal(convert_kernel(W, "IOHW", "HWOI"), W.transpose(2, 3, 1, 0))
    jt = np.asarray(lax.conv_transpose(last(x), convert_kernel(W, "IOHW", "HWOI"), (2, 2),
                                       "VALID", transpose_kernel=True))
    jf = np.asarray(lax.conv_transpose(last(x), convert_kernel(W, "IOHW", "HWIO", flip=True),
                                       (2, 2), "VALID", transpose_kernel=False))
    np.testing.assert_allclose(first(jt), ref, **F32)
    np.testing.assert_allclose(first(jf), ref, **F32)
    t = TransposeSpec.from_jax((3, 3), (2, 3), (2, 2), "VALID").to_torch()
    assert t.kernel == {"from_layout": "HWIO", "layout": "IOHW", "flip": True}
    # groups: the direct form swaps in/out inside each group
    Wg = rng.standard_normal((4, 1, 3)).astype(np.float32)
    xg = rng.standard_normal((1, 4, 5)).astype(np.float32)
    refg = torch_transpose(xg, Wg, stride=2, groups=4)
    dk = direct_kernel(Wg, 4)
    np.testing.assert_array_equal(dk, direct_kernel_by_hand(Wg, 4))
    np.testing.assert_array_equal(from_direct_kernel(dk, 4), Wg)
    yg = np.asarray(lax.conv_general_dilated(xg, dk, (1,), [(2, 2)], lhs_dilation=(2,),
                                             feature_group_count=4))
    np.testing.assert_allclose(yg, refg, **F32)
    tj = TransposeSpec.from_torch(5, 3, 2, groups=4).to_jax()
    assert tj.op == "jax.lax.conv_general_dilated" and tj.kernel["groups_swap"]
    assert "feature_group_count" in " ".join(tj.notes) and "no feature_group_count" in \
        " ".join(tj.notes)


def test_seed_002_in_every_framework_layout():
    # Seed 002: input [[1, 2], [3, 4]], 2x2 kernel of 5s, stride 1 -> the 3x3 result
    want = np.array([[5.0, 15.0, 10.0], [20.0, 50.0, 30.0], [15.0, 35.0, 20.0]])
    x_nchw = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    x_nhwc = last(x_nchw)
    k = np.full((2, 2, 1, 1), 5.0)
    outs = {
        "torch": torch_conv_transpose(x_nchw, np.full((1, 1, 2, 2), 5.0))[0, 0],
        "onnx": onnx_conv_transpose(x_nchw, np.full((1, 1, 2, 2), 5.0))[0, 0],
        "tf": tf_conv2d_transpose(x_nhwc, k, [1, 3, 3, 1], 1, "VALID")[0, :, :, 0],
        "keras": keras_conv_transpose(x_nhwc, k, 1, "valid")[0, :, :, 0],
        "jax": jax_conv_transpose(x_nhwc, k, (1, 1), "VALID")[0, :, :, 0],
    }
    for name, y in outs.items():
        np.testing.assert_array_equal(y, want, err_msg=name)
    np.testing.assert_array_equal(
        np.asarray(lax.conv_transpose(x_nhwc, k, (1, 1), "VALID"))[0, :, :, 0], want)


def test_translation_code_strings():
    t = TransposeSpec.from_tf((4, 4), 3, 2, "SAME", in_channels=8, out_channels=4).to_torch()
    assert t.code.splitlines()[0] == (
        "conv = torch.nn.ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2), "
        "padding=(0, 0), output_padding=(0, 0), groups=1, dilation=(1, 1), bias=False)")
    assert t.code.splitlines()[-1] == "y = y[:, :, :-1, :-1]"
    assert "convert_kernel(w, 'HWOI', 'IOHW')" in t.code
    k = TransposeSpec.from_torch((4, 4), 4, 2, 1, out_channels=4).to_keras()
    assert k.code.startswith("layer = keras.layers.Conv2DTranspose(4, kernel_size=(4, 4), "
                             "strides=(2, 2), padding='same', output_padding=None")
    j = TransposeSpec.from_torch(4, 3, 2, 1, 1).to_jax()
    assert "jax.lax.conv_transpose(x, rhs, strides=(2,), padding=((1, 2),)" in j.code
    o = TransposeSpec.from_torch(4, 3, 2, 1, 1).to_onnx()
    assert o.code.startswith("node = onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], "
                             "kernel_shape=[3], strides=[2], pads=[1, 0]")
    # PyTorch's p=1, output_padding=1 (k=3, s=2) crops (1, 0): not TF's SAME, which crops
    # (0, 1) for the same output size
    tf = TransposeSpec.from_torch((4, 4), 3, 2, 1, 1).to_tf()
    assert "tf.nn.conv2d_transpose(x, filters, output_shape=[tf.shape(x)[0], 8, 8, " \
        "out_channels], strides=[2, 2], padding=[[0, 0], [1, 0], [1, 0], [0, 0]]" in tf.code
    assert TransposeSpec.from_torch((4, 4), 3, 2, 1, 0).to_tf().args["padding"] == "SAME"
    fl = TransposeSpec.from_torch(4, 3, 2, 1, 1).to_flax()
    assert "flax.linen.ConvTranspose(out_channels, kernel_size=[3], strides=[2], " \
        "padding=[[1, 2]], kernel_dilation=[1], transpose_kernel=False)" in fl.code
    kc = TransposeSpec.from_torch(5, 3, 2, 0, 0).to_keras()
    assert kc.exact
    kx = TransposeSpec.from_torch((5, 5), 3, 2, 2, 0).to_keras()
    assert not kx.exact and "keras.layers.Cropping2D(cropping=((2, 2), (2, 2)))" in kx.code
    c = ConvSpec.from_tf((6, 6), 3, 2, "SAME").to_torch()
    assert c.code.splitlines()[0] == "x = torch.nn.functional.pad(x, [0, 1, 0, 1])  # " \
        "negative values crop"
    d = TransposeSpec.from_torch(4, 3, 2).to_torch().to_json()
    assert '"framework": "torch"' in d
    assert TransposeSpec.from_tf(4, 3, 2).to_dict() == {
        "input_size": [4], "kernel_size": [3], "stride": [2], "dilation": [1],
        "crop": [[0, 1]], "groups": 1, "in_channels": None, "out_channels": None,
        "kernel_layout": "WOI", "kernel_flip": False, "kernel_direct": False, "source": "tf",
        "output_size": [8]}
    assert ConvSpec.from_tf(6, 3, 2, "SAME").to_dict()["padding"] == [[0, 1]]


def test_conv_rules():
    # TF SAME with stride (odd element at the end) vs ONNX SAME_LOWER (at the start)
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 6)
    w = np.arange(4, dtype=np.float32).reshape(1, 1, 4)
    up = ort_run("Conv", {"X": x, "W": w}, strides=[1], auto_pad="SAME_UPPER")
    lo = ort_run("Conv", {"X": x, "W": w}, strides=[1], auto_pad="SAME_LOWER")
    tf_like = np.asarray(lax.conv_general_dilated(x, w, (1,), "SAME"))
    np.testing.assert_allclose(up, tf_like)
    np.testing.assert_allclose(lo, np.asarray(lax.conv_general_dilated(x, w, (1,),
                                                                       "SAME_LOWER")))
    assert ConvSpec.from_onnx(6, [4], auto_pad="SAME_UPPER").padding == ((1, 2),)
    assert ConvSpec.from_onnx(6, [4], auto_pad="SAME_LOWER").padding == ((2, 1),)
    assert ConvSpec.from_torch(6, 4, padding="same").padding == ((1, 2),)
    tt = F.conv1d(torch.from_numpy(x), torch.from_numpy(w), padding="same").numpy()
    np.testing.assert_allclose(tt, up)
    # PyTorch 'same' needs stride 1
    with pytest.raises(upconv.ShapeError, match="padding='same' requires stride=1"):
        ConvSpec.from_torch(6, 4, 2, "same")
    t = ConvSpec.from_tf(6, 4, 1, "SAME").to_torch()
    assert t.args["padding"] == "same" and t.exact
    t2 = ConvSpec.from_tf(7, 4, 2, "SAME").to_torch()
    assert not t2.exact and t2.extra["pad_input"] == ((0, 1),) and t2.args["padding"] == 1


def test_dtype_preserved_and_unbatched_rejected():
    for dtype in (np.float32, np.float64):
        x = np.ones((1, 3, 2), dtype)
        assert tf_conv_transpose(x, np.ones((2, 1, 2), dtype), [1, 6, 1], 2).dtype == dtype
        assert onnx_conv(first(x), np.ones((1, 2, 2), dtype)).dtype == dtype
    with pytest.raises(TypeError, match="dtype int64"):
        onnx_conv(np.ones((1, 1, 3), np.int64), np.ones((1, 1, 2)))
    with pytest.raises(TypeError, match="X has dtype float32 but W has dtype float64"):
        onnx_conv(np.ones((1, 1, 3), np.float32), np.ones((1, 1, 2)))


# =============================================================================================
# Bad input: one pytest.raises per message


def test_errors_names_and_strings():
    spec = TransposeSpec.from_torch(4, 3)
    with pytest.raises(upconv.ShapeError, match="framework='caffe' is not known; accepted "
                       "values: 'torch', 'tf', 'keras', 'jax', 'flax', 'onnx'"):
        spec.to("caffe")
    with pytest.raises(upconv.ShapeError, match="padding='same' is not accepted; accepted "
                       "values: 'SAME', 'VALID'"):
        TransposeSpec.from_tf(4, 3, 2, "same")
    with pytest.raises(upconv.ShapeError, match="padding='full' is not accepted; accepted "
                       "values \\(any case\\): 'valid', 'same'"):
        TransposeSpec.from_keras(4, 3, 2, "full")
    with pytest.raises(upconv.ShapeError, match="'valid', 'same', 'causal'"):
        ConvSpec.from_keras(4, 3, 2, "full")
    with pytest.raises(upconv.ShapeError, match="auto_pad='SAME' is not accepted; accepted "
                       "values: 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'"):
        TransposeSpec.from_onnx(4, [3], auto_pad="SAME")
    with pytest.raises(upconv.ShapeError, match="PyTorch's ConvTranspose accepts only ints"):
        TransposeSpec.from_torch(4, 3, 2, "same")
    with pytest.raises(upconv.ShapeError, match="padding='SAME' is not accepted; accepted "
                       "values: 'same', 'valid'"):
        ConvSpec.from_torch(4, 3, 1, "SAME")
    with pytest.raises(upconv.ShapeError, match="'SAME', 'SAME_LOWER', 'VALID' \\(any case\\)"):
        ConvSpec.from_jax(4, 3, (1,), "full")
    with pytest.raises(upconv.ShapeError, match="is not a kernel layout; accepted values: "
                       "'OIW', 'IOW', 'WIO', 'WOI', 'OIHW'"):
        convert_kernel(np.ones((1, 1, 1, 1)), "OIXY", "HWIO")
    with pytest.raises(upconv.ShapeError, match="data_format='NCHW' is not accepted for 1 "
                       "spatial dimension"):
        tf_conv_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), [1, 6, 1], 2,
                          data_format="NCHW")
    with pytest.raises(upconv.ShapeError, match="dimension_numbers=.* must be three strings"):
        jax_conv_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), (2,), "SAME",
                           dimension_numbers=("NWC", "WIO", "NCW", "x"))


def test_errors_inexpressible():
    with pytest.raises(upconv.ShapeError, match="output_padding=2 must be smaller than "
                       "stride=2 or dilation=1"):
        TransposeSpec.from_torch(4, 3, 2, 0, 2)
    with pytest.raises(upconv.ShapeError, match="output_shape=\\(9,\\) is not reachable with "
                       "padding='SAME'.* output ranges from 7 to 8"):
        TransposeSpec.from_tf(4, 3, 2, "SAME", (9,))
    with pytest.raises(upconv.ShapeError, match="output ranges from 9 to 10"):
        TransposeSpec.from_tf(4, 3, 2, "VALID", (8,))
    with pytest.raises(upconv.ShapeError, match="explicit padding needs 2 spatial"):
        TransposeSpec.from_tf(4, 3, 2, [(1, 1)])
    with pytest.raises(upconv.ShapeError, match="must be strictly less than strides=2 in "
                       "every dimension \\(Keras's rule\\)"):
        TransposeSpec.from_keras(4, 3, 2, "same", 2)
    with pytest.raises(upconv.ShapeError, match="cannot be used with auto_pad='SAME_UPPER'"):
        TransposeSpec.from_onnx(4, [3], [2], [1, 1], "SAME_UPPER")
    with pytest.raises(upconv.ShapeError, match="cannot be used with auto_pad='VALID'"):
        ConvSpec.from_onnx(4, [3], [2], [1, 1], "VALID")
    with pytest.raises(upconv.ShapeError, match="pads=\\(1,\\) must hold 2 ints"):
        TransposeSpec.from_onnx(4, [3], [2], [1])
    with pytest.raises(upconv.ShapeError, match="pads=\\(-1, 0\\) must be >= 0"):
        ConvSpec.from_onnx(4, [3], [2], [-1, 0])
    with pytest.raises(upconv.ShapeError, match="groups=2: tf.nn.conv1d_transpose has no "
                       "groups; split the channels"):
        TransposeSpec.from_torch(4, 3, groups=2).to_tf()
    with pytest.raises(upconv.ShapeError, match="groups=2: Keras's Conv1DTranspose has no "
                       "groups"):
        TransposeSpec.from_torch(4, 3, groups=2).to_keras()
    with pytest.raises(upconv.ShapeError, match="the output would be empty in dimension 0: "
                       "the full output \\(L-1\\)\\*s\\+d\\*\\(k-1\\)\\+1=6"):
        TransposeSpec(4, 3, 1, 1, ((3, 3),))
    with pytest.raises(upconv.ShapeError, match="the dilated kernel d\\*\\(k-1\\)\\+1=5 is "
                       "larger than the padded input 4-1\\+0=3"):
        ConvSpec(4, 3, 1, 2, ((-1, 0),))
    with pytest.raises(upconv.ShapeError, match="lhs_dilation=\\(2,\\) inserts zeros"):
        ConvSpec.from_jax(4, 3, (1,), [(0, 0)], (2,))
    with pytest.raises(upconv.ShapeError, match="JAX does not accept string padding together "
                       "with lhs_dilation"):
        TransposeSpec.from_jax_general(4, 3, "SAME", (2,))
    with pytest.raises(upconv.ShapeError, match="the batch and channel entries must be 1"):
        TransposeSpec.from_tf(4, 3, [2, 2, 1], "SAME")
    with pytest.raises(upconv.ShapeError, match="the batch and channel pairs must be \\(0, 0\\)"):
        ConvSpec.from_tf((4, 4), 3, 1, [(1, 1), (0, 0), (0, 0), (0, 0)])
    with pytest.raises(upconv.ShapeError, match="has 1 entries but there are 2 spatial "
                       "dimensions"):
        ConvSpec.from_tf((4, 4), 3, 1, [(1, 1)])
    with pytest.raises(TypeError, match="each entry must be a \\(before, after\\) pair"):
        ConvSpec.from_jax(4, 3, (1,), [1])
    with pytest.raises(upconv.ShapeError, match="output_shape=\\(8, 8, 1\\) must give the 2 "
                       "spatial sizes or the full shape \\(4 entries\\)"):
        TransposeSpec.from_tf((4, 4), 3, 2, "SAME", (8, 8, 1))
    with pytest.raises(upconv.ShapeError, match="groups=2 does not divide in_channels=3"):
        TransposeSpec(4, 3, 1, 1, ((0, 0),), 2, 3)
    with pytest.raises(upconv.ShapeError, match="weight of shape \\(3, 1, 2\\) must be "
                       "\\(C_in, C_out/groups, \\*k\\) with C_in divisible by groups=2"):
        direct_kernel(np.ones((3, 1, 2)), 2)
    with pytest.raises(upconv.ShapeError, match="kernel of shape \\(3, 1, 2\\) must be "
                       "\\(C_out, C_in/groups, \\*k\\)"):
        from_direct_kernel(np.ones((3, 1, 2)), 2)


def test_errors_compute_arrays():
    x = np.ones((1, 3, 2))
    with pytest.raises(upconv.ShapeError, match="filters' last axis \\(in_channels, layout "
                       "\\[\\*k, out, in\\]\\) must match the input channels \\(got 3, "
                       "expected 2\\)"):
        tf_conv_transpose(x, np.ones((2, 1, 3)), [1, 6, 1], 2)
    with pytest.raises(upconv.ShapeError, match="output_shape=\\(2, 6, 1\\) has batch 2 and "
                       "channels 1, but the input has batch 1"):
        tf_conv_transpose(x, np.ones((2, 1, 2)), [2, 6, 1], 2)
    with pytest.raises(upconv.ShapeError, match="kernel's last axis \\(input channels"):
        keras_conv_transpose(x, np.ones((2, 1, 3)), 2)
    with pytest.raises(upconv.ShapeError, match="rhs's O axis \\(input channels, since "
                       "transpose_kernel=True swaps I and O\\) must match"):
        jax_conv_transpose(x, np.ones((2, 3, 1)), (2,), "SAME", transpose_kernel=True)
    with pytest.raises(upconv.ShapeError, match="rhs's I axis \\(input channels\\) must "
                       "match"):
        jax_conv_transpose(x, np.ones((2, 3, 1)), (2,), "SAME")
    with pytest.raises(upconv.ShapeError, match="with feature_group_count=2 JAX needs C = I "
                       "\\* groups"):
        jax_conv(np.ones((1, 3, 4)), np.ones((2, 1, 2)), (1,), "VALID",
                 feature_group_count=2)
    with pytest.raises(upconv.ShapeError, match="W's first axis \\(C, layout \\(C, M/group, "
                       "\\*k\\)\\) must match X's channels"):
        onnx_conv_transpose(np.ones((1, 2, 3)), np.ones((3, 1, 2)))
    with pytest.raises(upconv.ShapeError, match="group=2 does not divide X's 3 channels"):
        onnx_conv_transpose(np.ones((1, 3, 3)), np.ones((3, 1, 2)), group=2)
    with pytest.raises(upconv.ShapeError, match="B has shape \\(2,\\); expected \\(1,\\)"):
        onnx_conv_transpose(np.ones((1, 1, 3)), np.ones((1, 1, 2)), np.ones(2))
    with pytest.raises(upconv.ShapeError, match="kernel_shape=\\(3,\\) does not match W's "
                       "spatial shape \\(2,\\)"):
        onnx_conv(np.ones((1, 1, 3)), np.ones((1, 1, 2)), kernel_shape=[3])
    with pytest.raises(upconv.ShapeError, match="the input has 3 channels, not a multiple of "
                       "filters' input-channel axis 2"):
        tf_conv(np.ones((1, 4, 3)), np.ones((2, 2, 2)))
    with pytest.raises(upconv.ShapeError, match="groups=2 \\(inferred from 4 input channels"):
        keras_conv(np.ones((1, 4, 4)), np.ones((2, 2, 3)))
    with pytest.raises(upconv.ShapeError, match="both must have rank 3, 4 or 5"):
        onnx_conv(np.ones((1, 1, 3)), np.ones((1, 1, 2, 2)))
    with pytest.raises(upconv.ShapeError, match="tf_conv2d_transpose: input has rank 3; "
                       "expected 4"):
        tf_conv2d_transpose(x, np.ones((2, 1, 2)), [1, 6, 1], 2)
    with pytest.raises(upconv.ShapeError, match="tf_conv2d: input has rank 3"):
        tf_conv2d(x, np.ones((2, 2, 1)), 1, "VALID")
