"""Resize conventions, checked by values against the running peers.

Peers: ONNX Runtime (``Resize``: every coordinate mode, nearest mode, linear, cubic,
antialias, scales and sizes, ``tf_crop_and_resize``), JAX (``jax.image.resize``), Keras 3 on
JAX (``UpSampling*D``, ``Resizing``) and PyTorch (``F.interpolate``).  TensorFlow is not
installed: its v2 rules are checked where JAX/Keras encode them.  Every peer is imported at
module level, so a missing one fails collection.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import upconv  # noqa: E402
from helpers import assert_unchanged, frozen, tol  # noqa: E402
from upconv.conventions._resize import (  # noqa: E402
    COORDINATES,
    NEAREST_MODES,
    ResizeSpec,
    jax_resize,
    keras_resizing,
    keras_upsampling,
    onnx_resize,
    tf_resize,
    tf_resize_bicubic,
    tf_resize_bilinear,
    tf_resize_nearest_neighbor,
    torch_interpolate,
)

jax.config.update("jax_enable_x64", True)
ort.set_default_logger_severity(3)

F32 = tol(np.float32)
F64 = tol(np.float64)

# ---------------------------------------------------------------------------------------------
# ONNX Runtime runner (nothing here calls the code under test)

_SESSIONS: dict = {}


def ort_resize(x: np.ndarray, attrs: dict, scales=None, sizes=None, roi=None) -> np.ndarray:
    key = (repr(sorted(attrs.items())), scales is not None, roi is not None, x.dtype.str)
    if key not in _SESSIONS:
        elem = TensorProto.FLOAT if x.dtype == np.float32 else TensorProto.DOUBLE
        vi = helper.make_tensor_value_info
        ins = [vi("X", elem, None)]
        names = ["X", "", "", ""]
        if roi is not None:
            ins.append(vi("R", TensorProto.FLOAT, None))
            names[1] = "R"
        if scales is not None:
            ins.append(vi("S", TensorProto.FLOAT, None))
            names[2] = "S"
            names = names[:3]
        else:
            ins.append(vi("S", TensorProto.INT64, None))
            names[3] = "S"
        node = helper.make_node("Resize", names, ["Y"], **attrs)
        graph = helper.make_graph([node], "g", ins, [vi("Y", elem, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)],
                                  ir_version=10)
        _SESSIONS[key] = ort.InferenceSession(model.SerializeToString(),
                                              providers=["CPUExecutionProvider"])
    feed = {"X": x, "S": np.array(scales if scales is not None else sizes,
                                  np.float32 if scales is not None else np.int64)}
    if roi is not None:
        feed["R"] = np.array(roi, np.float32)
    return _SESSIONS[key].run(None, feed)[0]


@st.composite
def onnx_resize_config(draw):
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    attrs = {"mode": mode,
             "coordinate_transformation_mode": draw(st.sampled_from(COORDINATES))}
    if mode == "nearest":
        attrs["nearest_mode"] = draw(st.sampled_from(NEAREST_MODES))
    else:
        attrs["antialias"] = draw(st.integers(0, 1))
    if mode == "cubic":
        attrs["cubic_coeff_a"] = draw(st.sampled_from([-0.75, -0.5, -0.6]))
    if mode == "cubic" or attrs.get("antialias"):
        attrs["exclude_outside"] = draw(st.integers(0, 1))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    if draw(st.booleans()):
        pick = st.sampled_from([0.5, 0.6, 0.7, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0])
        sc = [1.0, 1.0, draw(pick), draw(pick)]
        assume(int(np.float32(sc[2]) * H) >= 1 and int(np.float32(sc[3]) * W) >= 1)
        return (H, W), attrs, {"scales": sc}
    return (H, W), attrs, {"sizes": [1, 2, draw(st.integers(1, 11)), draw(st.integers(1, 11))]}


@settings(max_examples=80)
@given(onnx_resize_config(), st.data())
def test_onnx_resize_matches_ort(cfg, data):
    (H, W), attrs, kw = cfg
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((1, 2, H, W)).astype(np.float32)
    ref = ort_resize(x, attrs, **kw)
    before = frozen(x)
    ours = onnx_resize(x, **kw, **attrs)
    assert_unchanged(before, x)
    assert ours.shape == ref.shape and ours.dtype == x.dtype
    np.testing.assert_allclose(ours, ref, **F32, err_msg=str((attrs, kw)))
    # the spec of the same attributes (ONNX Runtime's arithmetic) computes the same
    if "scales" in kw or kw["sizes"][:2] == [1, 2]:
        spec = ResizeSpec.from_onnx((H, W), **{k: (v[2:] if k == "sizes" else v)
                                               for k, v in kw.items()}, **attrs)
        np.testing.assert_allclose(spec.apply(x), ref, **F32)


@settings(max_examples=30)
@given(st.integers(3, 5), st.sampled_from(NEAREST_MODES), st.sampled_from(COORDINATES),
       st.data())
def test_onnx_nearest_any_rank_matches_ort(rank, nearest_mode, coordinate, data):
    shape = [data.draw(st.integers(1, 5)) for _ in range(rank)]
    sizes = [data.draw(st.integers(1, 7)) for _ in range(rank)]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)  # no float64 Resize
    attrs = {"mode": "nearest", "nearest_mode": nearest_mode,
             "coordinate_transformation_mode": coordinate}
    np.testing.assert_array_equal(onnx_resize(x, sizes=sizes, **attrs),
                                  ort_resize(x, attrs, sizes=sizes))


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_onnx_tf_crop_and_resize_matches_ort(mode):
    x = np.arange(30.0, dtype=np.float32).reshape(1, 1, 5, 6)
    roi = [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3]
    attrs = {"mode": mode, "coordinate_transformation_mode": "tf_crop_and_resize",
             "extrapolation_value": -7.0}
    for sizes in ([1, 1, 4, 7], [1, 1, 1, 3]):
        ref = ort_resize(x, attrs, sizes=sizes, roi=roi)
        ours = onnx_resize(x, roi, sizes=sizes, **attrs)
        np.testing.assert_allclose(ours, ref, **F32)
    with pytest.raises(upconv.ShapeError, match="onnx_resize computes it"):
        ResizeSpec.from_onnx((5, 6), sizes=[4, 7], coordinate_transformation_mode=attrs[
            "coordinate_transformation_mode"])


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
def test_onnx_keep_aspect_ratio_policy(policy):
    x = np.random.default_rng(1).standard_normal((1, 1, 4, 6)).astype(np.float32)
    attrs = {"mode": "linear", "keep_aspect_ratio_policy": policy, "axes": [2, 3]}
    ref = ort_resize(x, attrs, sizes=[7, 7])
    ours = onnx_resize(x, sizes=[7, 7], **attrs)
    assert ours.shape == ((1, 1, 5, 7) if policy == "not_larger" else (1, 1, 7, 11))  # round(10.5)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, **F32)


def test_onnxruntime_float32_nearest_by_hand():
    # asymmetric + floor with sizes 14 -> 2: ORT divides by float32(2/14) and gets 6.9999996,
    # so it takes element 6; the exact rule (and PyTorch's 'nearest') takes 7
    x = np.arange(14.0, dtype=np.float32).reshape(1, 1, 14)
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
             "nearest_mode": "floor"}
    np.testing.assert_array_equal(ort_resize(x, attrs, sizes=[1, 1, 2]).ravel(), [0, 6])
    np.testing.assert_array_equal(onnx_resize(x, sizes=[1, 1, 2], **attrs).ravel(), [0, 6])
    np.testing.assert_array_equal(F.interpolate(torch.from_numpy(x), size=2).numpy().ravel(),
                                  [0, 7])
    t = ResizeSpec.from_torch((14,), size=2).to_onnx()
    assert not t.exact and t.extra == {"onnxruntime_differs_at": [[1]]}
    # round_prefer_ceil at the float32 near-tie 3.4999998 (7 -> 2): ORT treats it as a tie
    attrs["nearest_mode"] = "round_prefer_ceil"
    np.testing.assert_array_equal(ort_resize(x[..., :7], attrs, sizes=[1, 1, 2]).ravel(), [0, 4])
    np.testing.assert_array_equal(onnx_resize(x[..., :7], sizes=[1, 1, 2], **attrs).ravel(),
                                  [0, 4])
    # an unchanged shape is copied, whatever the scale and coordinate mode
    attrs = {"mode": "linear", "coordinate_transformation_mode": "tf_half_pixel_for_nn"}
    np.testing.assert_array_equal(ort_resize(x[..., :2], attrs, scales=[1, 1, 1.3]).ravel(),
                                  [0, 1])
    np.testing.assert_array_equal(onnx_resize(x[..., :2], scales=[1, 1, 1.3], **attrs).ravel(),
                                  [0, 1])


# ---------------------------------------------------------------------------------------------
# JAX, Keras, PyTorch


def jax_nearest_ties(n_in: int, n_out: int) -> np.ndarray:
    """Output positions whose exact source (d + 0.5) L/O is an integer (XLA may round down)."""
    d = np.arange(n_out)
    return ((2 * d + 1) * n_in) % (2 * n_out) == 0


@settings(max_examples=40)
@given(st.sampled_from(["nearest", "linear", "cubic", "cubic-pytorch", "lanczos3",
                        "lanczos5", "area"]), st.booleans(), st.integers(2, 4), st.data())
def test_jax_resize_matches_jax(method, antialias, rank, data):
    shape = [data.draw(st.integers(1, 7)) for _ in range(rank)]
    out = [data.draw(st.integers(1, 9)) if data.draw(st.booleans()) else n for n in shape]
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal(shape)
    ref = np.asarray(jax.image.resize(x, out, method, antialias=antialias))
    ours = jax_resize(x, out, method, antialias)
    if method != "nearest":
        np.testing.assert_allclose(ours, ref, **F64)
        return
    # nearest: equal except where XLA's float32 division rounds an integral source down
    assume(not any(n != o and jax_nearest_ties(n, o).any()
                   for n, o in zip(shape, out, strict=True)))
    np.testing.assert_array_equal(ours, ref)


def test_jax_nearest_rounding_quirk_by_hand():
    x = np.arange(10.0, dtype=np.float32)
    ref = np.asarray(jax.image.resize(x, (25,), "nearest"))
    ours = jax_resize(x, (25,), "nearest")
    # (2 + 0.5) * 10 / 25 = 1 exactly; XLA's float32 division gives 0.99999994 -> element 0
    assert ref[2] == 0 and ours[2] == 1
    np.testing.assert_array_equal(np.delete(ours, np.flatnonzero(jax_nearest_ties(10, 25))),
                                  np.delete(ref, np.flatnonzero(jax_nearest_ties(10, 25))))


@settings(max_examples=40)
@given(st.integers(1, 3), st.sampled_from(["nearest", "nearest-exact", "linear", "bicubic"]),
       st.booleans(), st.booleans(), st.sampled_from([np.float32, np.float64]), st.data())
def test_torch_interpolate_and_spec_match_torch(nd, mode, align, use_scale, dtype, data):
    if mode == "linear":
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]
    if mode == "bicubic":
        nd = 2
    ac = align if mode not in ("nearest", "nearest-exact") else None
    L = tuple(data.draw(st.integers(1, 6)) for _ in range(nd))
    if use_scale:
        sf = data.draw(st.sampled_from([0.5, 0.7, 1.5, 2.0, 2.5]))
        assume(all(int(n * sf) >= 1 for n in L))
        kw = {"scale_factor": sf}
    else:
        kw = {"size": tuple(data.draw(st.integers(1, 9)) for _ in range(nd))}
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal(
        (2, 2, *L)).astype(dtype)
    ref = F.interpolate(torch.from_numpy(x), mode=mode, align_corners=ac, **kw).numpy()
    np.testing.assert_allclose(torch_interpolate(x, mode=mode, align_corners=ac, **kw), ref,
                               **tol(dtype))
    spec = ResizeSpec.from_torch(L, mode=mode, align_corners=ac, **kw)
    if dtype == np.float32:  # the spec follows PyTorch's float32 arithmetic
        np.testing.assert_allclose(spec.apply(x), ref, **F32)
    t = spec.to_torch()
    assert t.exact
    y = F.interpolate(torch.from_numpy(x), **t.args).numpy()
    np.testing.assert_allclose(y, ref, **tol(dtype))


def test_torch_output_size_one_samples_the_centre():
    # PyTorch 2.13 samples the centre for O == 1 (half_pixel), not the first element as ONNX's
    # pytorch_half_pixel (and conventions.md's "align_corners=False <-> pytorch_half_pixel")
    x = torch.arange(4.0).reshape(1, 1, 4)
    assert F.interpolate(x, size=1, mode="linear").item() == 1.5
    spec = ResizeSpec.from_torch((4,), size=1, mode="linear")
    assert spec.coordinate == "half_pixel"
    assert spec.to_onnx().args["coordinate_transformation_mode"] == "half_pixel"
    pt = ResizeSpec.from_onnx((4,), sizes=[1], mode="linear",
                              coordinate_transformation_mode="pytorch_half_pixel")
    assert ort_resize(x.numpy(), {"mode": "linear", "coordinate_transformation_mode":
                                  "pytorch_half_pixel"}, sizes=[1, 1, 1]).item() == 0.0
    # for O == 1 PyTorch reaches the first element only through align_corners=True
    t = pt.to_torch()
    assert t.args["align_corners"] is True
    assert F.interpolate(x, **t.args).item() == 0.0


@pytest.mark.parametrize("nd, channels_first", [(1, False), (2, False), (2, True),
                                                 (3, False), (3, True)])
def test_keras_upsampling_nearest(nd, channels_first):
    size = (2, 3, 1)[:nd]
    shape = (2, 3, 4, 2, 2)[:nd + 2]
    x = np.random.default_rng(nd).standard_normal(shape).astype(np.float32)
    fmt = "channels_first" if channels_first else "channels_last"
    if nd == 1:  # UpSampling1D has no data_format
        layer = keras.layers.UpSampling1D(size[0])
        ours = keras_upsampling(x, size[0])
    else:
        cls = getattr(keras.layers, f"UpSampling{nd}D")
        layer = cls(size=size, data_format=fmt)
        ours = keras_upsampling(x, size, fmt)
    np.testing.assert_array_equal(ours, np.asarray(layer(x)))


@settings(max_examples=12)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3),
       st.booleans())
def test_keras_upsampling2d_bilinear(h, w, rh, rw, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    x = np.random.default_rng(h * w).standard_normal(
        (1, 2, h, w) if channels_first else (1, h, w, 2)).astype(np.float32)
    ref = np.asarray(keras.layers.UpSampling2D((rh, rw), fmt, interpolation="bilinear")(x))
    np.testing.assert_allclose(keras_upsampling(x, (rh, rw), fmt, "bilinear"), ref, **F32)


@settings(max_examples=15)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from(["nearest", "bilinear", "bicubic"]))
def test_keras_resizing(h, w, oh, ow, interpolation):
    x = np.random.default_rng(h + 7 * w).standard_normal((2, h, w, 3)).astype(np.float32)
    ref = np.asarray(keras.layers.Resizing(oh, ow, interpolation=interpolation)(x))
    if interpolation == "nearest":
        assume(not jax_nearest_ties(h, oh).any() and not jax_nearest_ties(w, ow).any())
    np.testing.assert_allclose(keras_resizing(x, oh, ow, interpolation), ref, **F32)


# ---------------------------------------------------------------------------------------------
# TensorFlow rules (checked where JAX encodes them)


@settings(max_examples=20)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from(["bilinear", "nearest"]), st.booleans())
def test_tf_resize_v2_agrees_with_jax(h, w, oh, ow, method, antialias):
    # tf.image.resize and jax.image.resize share the half-pixel rules and TF's
    # ScaleAndTranslate (JAX's antialias is its port)
    x = np.random.default_rng(h * 13 + w).standard_normal((1, h, w, 2))
    jm = "linear" if method == "bilinear" else "nearest"
    ref = np.asarray(jax.image.resize(x, (1, oh, ow, 2), jm,
                                      antialias=antialias and method != "nearest"))
    if method == "nearest":
        assume(not jax_nearest_ties(h, oh).any() and not jax_nearest_ties(w, ow).any())
    np.testing.assert_allclose(tf_resize(x, (oh, ow), method, antialias=antialias), ref,
                               **F32)


def test_tf_rules_by_hand():
    x = np.arange(3.0).reshape(1, 1, 3, 1)
    # TF2 nearest (half-pixel) is PyTorch's nearest-exact, not its nearest
    spec = ResizeSpec.from_tf((1, 3), (1, 5), "nearest")
    assert spec.to_torch().args["mode"] == "nearest-exact"
    np.testing.assert_array_equal(tf_resize(x, (1, 5), "nearest").ravel(), [0, 0, 1, 2, 2])
    # v1 legacy nearest floors d*L/O: PyTorch's 'nearest'
    np.testing.assert_array_equal(tf_resize_nearest_neighbor(x, (1, 5)).ravel(),
                                  [0, 0, 1, 1, 2])
    assert ResizeSpec.from_tf((1, 3), (1, 5), "nearest", align_corners=False,
                              half_pixel_centers=False).to_torch().args["mode"] == "nearest"
    # v1 align_corners nearest rounds: no PyTorch mode (nor JAX, nor Keras) does that
    np.testing.assert_array_equal(
        tf_resize_nearest_neighbor(x, (1, 5), align_corners=True).ravel(), [0, 1, 1, 2, 2])
    ac = ResizeSpec.from_tf((1, 3), (1, 5), "nearest", align_corners=True)
    with pytest.raises(upconv.ShapeError, match="torch cannot express nearest "
                                                r"\(align_corners, round_prefer_ceil\)"):
        ac.to_torch()
    assert ac.to_onnx().args["nearest_mode"] == "round_prefer_ceil"
    # v1 bilinear with align_corners is PyTorch's align_corners=True
    t = ResizeSpec.from_tf((3, 4), (5, 7), "bilinear", align_corners=True).to_torch()
    assert t.args["align_corners"] is True
    np.testing.assert_allclose(tf_resize_bilinear(np.arange(3.0).reshape(1, 1, 3, 1), (1, 5),
                                                  align_corners=True).ravel(),
                               [0, 0.5, 1, 1.5, 2])
    # TF2 bicubic is Keys A=-0.5 with the outside taps excluded: ONNX can say it, PyTorch not
    cub = ResizeSpec.from_tf((4, 4), (7, 7), "bicubic")
    assert cub.to_onnx().args["cubic_coeff_a"] == -0.5
    assert cub.to_onnx().args["exclude_outside"] == 1
    with pytest.raises(upconv.ShapeError, match="nearest alternative"):
        cub.to_torch()
    # TF's bicubic table quantises the fraction to 1/1024: within 1e-3 of the exact kernel
    xi = np.random.default_rng(3).standard_normal((1, 4, 5, 1))
    exact = jax_resize(xi, (1, 7, 9, 1), "cubic", antialias=False)
    np.testing.assert_allclose(tf_resize_bicubic(xi, (7, 9), half_pixel_centers=True), exact,
                               atol=5e-3)


# ---------------------------------------------------------------------------------------------
# Translations, executed in the target framework


@st.composite
def resize_source(draw):
    src = draw(st.sampled_from(["torch", "tf", "keras", "jax", "onnx"]))
    L = (draw(st.integers(2, 6)), draw(st.integers(2, 6)))
    out = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    if src == "torch":
        mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic"]))
        ac = draw(st.booleans()) if mode in ("bilinear", "bicubic") else None
        return ResizeSpec.from_torch(L, size=out, mode=mode, align_corners=ac)
    if src == "tf":
        return ResizeSpec.from_tf(L, out, draw(st.sampled_from(["bilinear", "nearest",
                                                               "bicubic"])),
                                  draw(st.booleans()))
    if src == "keras":
        if draw(st.booleans()):
            r = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
            return ResizeSpec.from_keras(L, r, draw(st.sampled_from(["nearest", "bilinear"])))
        return ResizeSpec.from_keras(L, out, draw(st.sampled_from(["nearest", "bilinear",
                                                                  "bicubic"])),
                                     layer="Resizing")
    if src == "jax":
        return ResizeSpec.from_jax(L, out, draw(st.sampled_from(["nearest", "linear", "cubic",
                                                                "cubic-pytorch"])),
                                   draw(st.booleans()))
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    return ResizeSpec.from_onnx(
        L, sizes=list(out), mode=mode,
        coordinate_transformation_mode=draw(st.sampled_from(COORDINATES)),
        nearest_mode=draw(st.sampled_from(NEAREST_MODES)),
        cubic_coeff_a=draw(st.sampled_from([-0.75, -0.5])),
        exclude_outside=draw(st.integers(0, 1)) if mode == "cubic" else 0)


def nearest_safe(spec: ResizeSpec) -> bool:
    return spec.method != "nearest" or not any(
        jax_nearest_ties(n, o).any() for n, o in zip(spec.input_size, spec.output_size,
                                                     strict=True))


@settings(max_examples=60)
@given(resize_source(), st.data())
def test_translations_run_in_the_targets(spec, data):
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal(
        (1, 2, *spec.input_size)).astype(np.float32)
    ref = spec.apply(x)
    translated = 0
    for fw in ("torch", "onnx", "jax", "keras", "tf"):
        try:
            t = spec.to(fw)
        except upconv.ShapeError as err:
            assert "cannot express" in str(err) and "nearest alternative" in str(err)
            continue
        translated += 1
        a = t.args
        if fw == "torch":
            y = F.interpolate(torch.from_numpy(x), **a).numpy()
        elif fw == "onnx":
            attrs = {k: v for k, v in a.items() if k not in ("scales", "sizes")}
            kw = ({"scales": a["scales"]} if "scales" in a else
                  {"sizes": [1, 2, *a["sizes"][2:]]})
            y = ort_resize(x, attrs, **kw)
            if not t.exact:  # ONNX Runtime's float32 rounding: elsewhere the same
                for axis, pos in enumerate(t.extra["onnxruntime_differs_at"]):
                    keep = np.setdiff1d(np.arange(y.shape[2 + axis]), pos)
                    y, ref = np.take(y, keep, axis=2 + axis), np.take(ref, keep, axis=2 + axis)
        elif fw == "jax":
            if a["method"] == "nearest" and not nearest_safe(spec):
                continue
            y = np.asarray(jax.image.resize(x, (1, 2, *spec.output_size), a["method"],
                                            antialias=a["antialias"]))
        elif fw == "keras":
            last = np.moveaxis(x, 1, -1)
            if a["layer"] == "Resizing":
                if a["interpolation"] == "nearest" and not nearest_safe(spec):
                    continue
                layer = keras.layers.Resizing(a["height"], a["width"],
                                              interpolation=a["interpolation"])
            else:
                layer = keras.layers.UpSampling2D(a["size"], interpolation=a["interpolation"])
            y = np.moveaxis(np.asarray(layer(last)), -1, 1)
        else:  # TF v2 bilinear/nearest run as JAX (same rule); the rest is not runnable here
            if "method" not in a or a["method"] == "bicubic":
                continue
            if a["method"] == "nearest" and not nearest_safe(spec):
                continue
            jm = "linear" if a["method"] == "bilinear" else "nearest"
            y = np.asarray(jax.image.resize(x, (1, 2, *spec.output_size), jm,
                                            antialias=a["antialias"]))
        np.testing.assert_allclose(y, ref, **F32, err_msg=f"{fw}: {t.code}")
    assert translated >= 1  # ONNX names every spec


def test_inexpressible_cases_raise_with_the_reason():
    with pytest.raises(upconv.ShapeError, match="antialias=True is not supported"):
        ResizeSpec.from_torch((4, 4), size=(2, 2), mode="bilinear", antialias=True)
    with pytest.raises(upconv.ShapeError, match="antialias=True is not supported"):
        torch_interpolate(np.zeros((1, 1, 4, 4)), size=2, mode="bilinear", antialias=True)
    with pytest.raises(upconv.ShapeError, match="adaptive average pooling"):
        ResizeSpec.from_torch((4,), size=2, mode="area")
    with pytest.raises(upconv.ShapeError, match="TensorFlow's image resizing is 2-d"):
        ResizeSpec.from_torch((4,), size=7).to_tf()
    with pytest.raises(upconv.ShapeError, match="jax cannot express"):
        ResizeSpec.from_torch((4,), size=7, mode="linear", align_corners=True).to_jax()
    with pytest.raises(upconv.ShapeError, match="keras cannot express"):
        ResizeSpec.from_torch((4, 4), scale_factor=1.5).to_keras()
    with pytest.raises(upconv.ShapeError, match="no ResizeSpec counterpart"):
        ResizeSpec.from_jax((4,), (8,), "lanczos3")
    with pytest.raises(upconv.ShapeError, match="give ONNX Runtime outputs"):
        ResizeSpec("linear", (10,), (2,), (0.3,)).to_onnx()


def test_bad_input_messages():
    with pytest.raises(upconv.ShapeError, match="mode='bilinear' needs a different number"):
        ResizeSpec.from_torch((4,), size=2, mode="bilinear")
    with pytest.raises(upconv.ShapeError, match="mode='cubic' is not accepted; accepted "
                                                "values: 'nearest', 'nearest-exact'"):
        ResizeSpec.from_torch((4,), size=2, mode="cubic")
    with pytest.raises(upconv.ShapeError, match="align_corners can only be set"):
        ResizeSpec.from_torch((4,), size=2, mode="nearest", align_corners=True)
    with pytest.raises(upconv.ShapeError, match="give exactly one of size and scale_factor"):
        ResizeSpec.from_torch((4,))
    with pytest.raises(upconv.ShapeError, match="method='area' is not accepted; accepted "
                                                "values: 'bilinear', 'nearest', 'bicubic'"):
        ResizeSpec.from_tf((4, 4), (2, 2), "area")
    with pytest.raises(upconv.ShapeError, match="cannot both be set"):
        ResizeSpec.from_tf((4, 4), (2, 2), align_corners=True, half_pixel_centers=True)
    with pytest.raises(upconv.ShapeError, match="coordinate_transformation_mode='pixel' is not "
                                                "accepted; accepted values: 'half_pixel'"):
        onnx_resize(np.zeros((1, 1, 2)), sizes=[1, 1, 4],
                    coordinate_transformation_mode="pixel")
    with pytest.raises(upconv.ShapeError, match="nearest_mode='round' is not accepted"):
        ResizeSpec.from_onnx((2,), sizes=[4], nearest_mode="round")
    with pytest.raises(upconv.ShapeError, match="antialias=1 needs mode 'linear' or 'cubic'"):
        ResizeSpec.from_onnx((2,), sizes=[4], antialias=1)
    with pytest.raises(upconv.ShapeError, match="give exactly one of scales and sizes"):
        onnx_resize(np.zeros((1, 1, 2)))
    with pytest.raises(upconv.ShapeError, match="needs 3 entries"):
        onnx_resize(np.zeros((1, 1, 2)), sizes=[4])
    with pytest.raises(upconv.ShapeError, match="give an empty output"):
        onnx_resize(np.zeros((1, 1, 2)), scales=[1, 1, 0.3])
    with pytest.raises(upconv.ShapeError, match="resizes the batch or channel axis"):
        ResizeSpec.from_onnx((2,), scales=[2, 1, 2])
    with pytest.raises(upconv.ShapeError, match="interpolation='bilinear' needs UpSampling2D"):
        keras_upsampling(np.zeros((1, 3, 1)), 2, interpolation="bilinear")
    with pytest.raises(upconv.ShapeError, match="layer='Conv' is not accepted"):
        ResizeSpec.from_keras((2, 2), layer="Conv")
    with pytest.raises(upconv.ShapeError, match="preserve_aspect_ratio=True is not supported"):
        tf_resize(np.zeros((2, 2, 1)), (4, 4), preserve_aspect_ratio=True)
    with pytest.raises(upconv.ShapeError, match=r"images has shape \(2, 2\)"):
        tf_resize(np.zeros((2, 2)), (4, 4))
    with pytest.raises(upconv.ShapeError, match="method='gaussian' is not accepted"):
        jax_resize(np.zeros(3), (4,), "gaussian")
    with pytest.raises(upconv.ShapeError, match="must have one entry per axis"):
        jax_resize(np.zeros(3), (1, 4), "linear")
    with pytest.raises(upconv.ShapeError, match="accepted values: 'torch', 'tf', 'keras', "
                                                "'jax', 'onnx'"):
        ResizeSpec("linear", (2,), (4,)).to("flax")
    with pytest.raises(TypeError, match="a floating dtype"):
        jax_resize(np.zeros(3, dtype=int), (4,), "linear")
