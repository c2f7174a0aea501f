"""The explorer's JSON API against the library and PyTorch (FastAPI's TestClient, no server)."""

import base64
import io
import math
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from upconv import shapes
from upconv.explain import _steps
from upconv.explain import checkerboard as library_checkerboard

with warnings.catch_warnings():  # starlette >= 1.x asks for httpx2 on import; httpx works
    warnings.filterwarnings("ignore", message=r".*install `httpx2`")
    from fastapi.testclient import TestClient

from upconv.serve import create_app  # noqa: E402

SEED_002 = {"op": "conv_transpose", "input_size": [2, 2], "kernel_size": [2, 2],
            "input_values": [1, 2, 3, 4], "kernel_values": [5, 5, 5, 5]}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def post(client, path, body, status=200):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def output_of(reply):
    """The output cells of the dst canvas, as an array of shape output_size."""
    dst = reply["dst"]
    vals = np.array([np.nan if v is None else v for v in dst["values"]]).reshape(dst["shape"])
    lo = [-a for a in dst["lo"]]
    sl = tuple(slice(a, a + o) for a, o in zip(lo, reply["output_size"], strict=True))
    return vals[sl]


def src_input(reply):
    """The input array as the src canvas shows it (kind 'input' cells)."""
    src = reply["src"]
    vals = np.array([np.nan if v is None else v for v in src["values"]]).reshape(src["shape"])
    lo = [-a for a in src["lo"]]
    sl = tuple(slice(a, a + i) for a, i in zip(lo, reply["input_size"], strict=True))
    return vals[sl]


# ---------------------------------------------------------------------------------------------
# explain


def test_seed_002(client):
    e = post(client, "/api/explain", SEED_002)
    expect = [[5, 15, 10], [20, 50, 30], [15, 35, 20]]
    np.testing.assert_array_equal(output_of(e), expect)
    np.testing.assert_array_equal(e["output"], expect)
    assert e["output_size"] == [3, 3]
    assert e["title"] == "transposed convolution (scatter view)"
    assert len(e["steps"]) == 4
    assert e["steps"][1]["text"] == ("x[0, 1] = 2 times the kernel adds 10, 10, 10, 10 to "
                                     "y[0:2, 1:3]")
    assert e["steps"][1]["dst"] == [1, 2, 4, 5]
    assert e["formulas"][4] == "y[1, 1] = 1·5 + 2·5 + 3·5 + 4·5 = 50"
    assert sorted(map(tuple, e["contrib"][4])) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    x = torch.tensor([[[[1.0, 2], [3, 4]]]])
    assert torch.equal(F.conv_transpose2d(x, torch.full((1, 1, 2, 2), 5.0)),
                       torch.tensor(e["output"])[None, None])


TORCH_CASES = [
    ({"op": "conv_transpose", "input_size": [4, 5], "kernel_size": [3, 3], "stride": [2, 2],
      "padding": [1, 1], "output_padding": [1, 0], "values": "random", "seed": 3},
     lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=(1, 0))),
    ({"op": "conv_transpose", "view": "direct", "input_size": [3, 4], "kernel_size": [4, 3],
      "stride": [3, 2], "padding": [2, 1], "dilation": [1, 2], "values": "random", "seed": 7},
     lambda x, w: F.conv_transpose2d(x, w, stride=(3, 2), padding=(2, 1), dilation=(1, 2))),
    ({"op": "conv", "input_size": [6, 5], "kernel_size": [3, 2], "stride": [2, 1],
      "padding": [1, 1], "dilation": [1, 2], "values": "random", "seed": 1},
     lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2))),
    ({"op": "conv_transpose", "input_size": [5], "kernel_size": [4], "stride": [3],
      "padding": [2], "values": "random", "seed": 5},
     lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=2)),
    ({"op": "max_pool", "input_size": [5, 6], "kernel_size": [3, 2], "stride": [2, 2],
      "padding": [1, 1], "ceil_mode": True, "values": "random", "seed": 2},
     lambda x, w: F.max_pool2d(x, (3, 2), 2, 1, ceil_mode=True)),
    ({"op": "avg_pool", "input_size": [5, 5], "kernel_size": [3, 3], "stride": [2, 2],
      "padding": [1, 1], "count_include_pad": False},
     lambda x, w: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ({"op": "interpolate", "input_size": [3, 4], "mode": "bilinear", "scale_factor": [2.5, 2.0]},
     lambda x, w: F.interpolate(x, scale_factor=(2.5, 2.0), mode="bilinear")),
    ({"op": "interpolate", "input_size": [5], "mode": "nearest", "size": [7]},
     lambda x, w: F.interpolate(x, size=7, mode="nearest")),
    ({"op": "interpolate", "input_size": [3, 3], "mode": "linear", "size": [5, 6],
      "align_corners": True},
     lambda x, w: F.interpolate(x, size=(5, 6), mode="bilinear", align_corners=True)),
]


@pytest.mark.parametrize("body, torch_op", TORCH_CASES)
def test_explain_matches_torch(client, body, torch_op):
    e = post(client, "/api/explain", body)
    # the direct view's src is the stretched input: read x from the scatter view (same seed)
    plain = e if e["view"] != "direct" else post(client, "/api/explain",
                                                 {**body, "view": "scatter"})
    x = torch.tensor(src_input(plain))[None, None]
    w = None if e["kernel"] is None else torch.tensor(e["kernel"]["values"]).reshape(
        1, 1, *e["kernel"]["shape"])
    expect = torch_op(x.double(), None if w is None else w.double())[0, 0].numpy()
    np.testing.assert_allclose(output_of(e), expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.array(e["output"], dtype=float), expect, rtol=1e-12,
                               atol=1e-12)
    assert list(expect.shape) == e["output_size"]


def test_output_sizes_match_shapes(client):
    body = {"op": "conv_transpose", "input_size": [5, 3], "kernel_size": [3, 4],
            "stride": [2, 3], "padding": [1, 2], "output_padding": [1, 2], "dilation": [1, 1]}
    e = post(client, "/api/explain", body)
    assert tuple(e["output_size"]) == shapes.conv_transpose_output_size(
        (5, 3), (3, 4), (2, 3), (1, 2), (1, 2))
    c = post(client, "/api/explain", {"op": "conv", "input_size": [9, 7], "kernel_size": [3, 2],
                                      "stride": [2, 3], "padding": [1, 0], "dilation": [2, 1]})
    assert tuple(c["output_size"]) == shapes.conv_output_size((9, 7), (3, 2), (2, 3), (1, 0),
                                                              (2, 1))
    # output_size= picks output_padding like PyTorch's output_size argument
    o = post(client, "/api/explain", {"op": "conv_transpose", "input_size": [4, 4],
                                      "kernel_size": [3, 3], "stride": [2, 2],
                                      "padding": [1, 1], "output_size": [8, 7]})
    assert o["output_size"] == [8, 7] and o["params"]["output_padding"] == [1, 0]


def test_formulas_and_contrib_add_up(client):
    body = {"op": "conv_transpose", "input_size": [3, 4], "kernel_size": [3, 2],
            "stride": [2, 2], "padding": [1, 0], "output_padding": [1, 1], "values": "random",
            "seed": 11}
    for view in ("scatter", "direct"):
        e = post(client, "/api/explain", {**body, "view": view})
        src_vals = e["src"]["values"]
        kern = e["kernel"]["values"]
        dst_vals = e["dst"]["values"]
        for cell, (formula, contrib) in enumerate(zip(e["formulas"], e["contrib"], strict=True)):
            total = sum(src_vals[s] * kern[k] for s, k in contrib)
            assert total == pytest.approx(dst_vals[cell])
            if formula is None:
                assert not contrib
                continue
            rhs = formula.split(" = ")
            if "every tap" in formula:
                assert dst_vals[cell] == 0
                continue
            terms = [t.split("·") for t in rhs[1].split(" + ")]
            products = sum(float(a.strip("()")) * float(b.strip("()")) for a, b in terms)
            assert products == pytest.approx(float(rhs[-1])) == pytest.approx(dst_vals[cell])


def test_every_op_explains(client):
    bodies = [
        {"op": "max_unpool", "input_size": [3, 3], "kernel_size": [2, 2], "values": "random"},
        {"op": "unpool", "input_size": [3, 2], "kernel_size": [2, 3], "position": "center"},
        {"op": "pixel_shuffle", "input_size": [2, 3], "upscale_factor": 3},
        {"op": "pixel_shuffle", "input_size": [4], "upscale_factor": 2, "values": "random"},
        {"op": "conv", "values": "none"},
    ]
    for body in bodies:
        e = post(client, "/api/explain", body)
        n_dst = math.prod(e["dst"]["shape"])
        assert len(e["dst"]["kinds"]) == len(e["formulas"]) == len(e["contrib"]) == n_dst
        assert len(e["src"]["kinds"]) == math.prod(e["src"]["shape"])
        for step in e["steps"]:
            assert step["text"]
            for s, _, d, _ in step["taps"]:
                assert 0 <= s < math.prod(e["src"]["shape"]) and 0 <= d < n_dst
    unp = post(client, "/api/explain", bodies[0])
    x = src_input(unp)
    switches = np.array([s["switch"] for s in unp["steps"]]).reshape(3, 3)
    expect = upconv.max_unpool(x[None, None], switches[None, None], 2)[0, 0]
    np.testing.assert_array_equal(output_of(unp), expect)
    ps = post(client, "/api/explain", bodies[2])
    deep = np.arange(1.0, 9 * 6 + 1).reshape(1, 9, 2, 3)
    expect = F.pixel_shuffle(torch.tensor(deep), 3)[0, 0].numpy()
    np.testing.assert_array_equal(output_of(ps), expect)
    assert ps["src"]["shape"] == [6, 9] and ps["src"]["labels"][3] == "c1"
    ps1 = post(client, "/api/explain", bodies[3])
    x1 = np.array(ps1["src"]["values"]).reshape(2, 4)  # tile c at c·W: channel-major
    np.testing.assert_array_equal(output_of(ps1),
                                  upconv.pixel_shuffle(x1[None], 2, ndim=1)[0, 0])
    none = post(client, "/api/explain", bodies[4])
    assert none["output"] is None and none["dst"]["values"] is None
    assert none["formulas"][0].startswith("y[0, 0] = x[0, 0]·w[0, 0] + ")


# hypothesis: random valid parameters, the explained output equals the library op

def _body(draw, op):
    n = draw(st.sampled_from([1, 2]))
    i = [draw(st.integers(1, 6)) for _ in range(n)]
    k = [draw(st.integers(1, 4)) for _ in range(n)]
    body = {"op": op, "input_size": i, "kernel_size": k}
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool"):
        body["stride"] = [draw(st.integers(1, 3)) for _ in range(n)]
        body["padding"] = [draw(st.integers(0, 2)) for _ in range(n)]
    if op in ("conv", "conv_transpose", "max_pool"):
        body["dilation"] = [draw(st.integers(1, 2)) for _ in range(n)]
    if op == "conv_transpose":
        body["output_padding"] = [draw(st.integers(0, 2)) for _ in range(n)]
        body["view"] = draw(st.sampled_from(["scatter", "direct"]))
    if op in ("max_pool", "avg_pool"):
        body["ceil_mode"] = draw(st.booleans())
    if op == "avg_pool":
        body["count_include_pad"] = draw(st.booleans())
    if op == "unpool":
        body["position"] = draw(st.sampled_from(["top-left", "center"]))
    if op == "interpolate":
        del body["kernel_size"]
        body["mode"] = draw(st.sampled_from(["nearest", "nearest-exact", "linear"]))
        body["size"] = [draw(st.integers(1, 12)) for _ in range(n)]
    body["input_values"] = draw(st.lists(st.integers(-5, 5), min_size=math.prod(i),
                                         max_size=math.prod(i)))
    if op in ("conv", "conv_transpose"):
        body["kernel_values"] = draw(st.lists(st.integers(-3, 3), min_size=math.prod(k),
                                              max_size=math.prod(k)))
    return body


@st.composite
def bodies(draw):
    op = draw(st.sampled_from(["conv", "conv_transpose", "max_pool", "avg_pool", "unpool",
                               "interpolate"]))
    return _body(draw, op)


def _library(body):
    n = len(body["input_size"])
    x = np.array(body["input_values"], dtype=float).reshape(1, 1, *body["input_size"])
    w = None
    if "kernel_values" in body:
        w = np.array(body["kernel_values"], dtype=float).reshape(1, 1, *body["kernel_size"])
    op = body["op"]
    if op == "conv":
        y = upconv.conv(x, w, None, body["stride"], body["padding"], body["dilation"])
    elif op == "conv_transpose":
        y = upconv.conv_transpose(x, w, None, body["stride"], body["padding"],
                                  body["output_padding"], 1, body["dilation"])
    elif op == "max_pool":
        y = upconv.max_pool(x, body["kernel_size"], body["stride"], body["padding"],
                            body["dilation"], body["ceil_mode"])
    elif op == "avg_pool":
        y = upconv.avg_pool(x, body["kernel_size"], body["stride"], body["padding"],
                            body["ceil_mode"], body["count_include_pad"])
    elif op == "unpool":
        y = upconv.unpool(x, body["kernel_size"], position=body["position"])
    else:
        mode = {"linear": "linear" if n == 1 else "bilinear"}.get(body["mode"], body["mode"])
        y = upconv.interpolate(x, size=body["size"], mode=mode)
    return np.asarray(y)[0, 0]


@given(bodies())
def test_explain_equals_library_op(client, body):
    r = client.post("/api/explain", json=body)
    try:
        expect = _library(body)
    except (ValueError, TypeError) as exc:  # the library refuses: so must the server, with 400
        assert r.status_code == 400, (r.text, exc)
        return
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["output_size"] == list(expect.shape)
    got = output_of(e)
    finite = np.isfinite(expect)
    np.testing.assert_allclose(got[finite], expect[finite], rtol=1e-9, atol=1e-9)
    assert np.isnan(got[~finite]).all()  # -inf (an all-padding max window) is null in JSON


# ---------------------------------------------------------------------------------------------
# solve, code, checkerboard, matrix, meta, image


@pytest.mark.parametrize("body", [
    {"op": "conv_transpose", "input_size": [7, 7], "output_size": [14, 14]},
    {"op": "conv_transpose", "input_size": [5, 6], "output_size": [10, 13], "stride": 2},
    {"op": "conv", "input_size": [28, 9], "output_size": [14, 5]},
    {"op": "conv", "input_size": 9, "output_size": 4, "kernel_size": 3, "padding": 1},
])
def test_solve_solutions_map_input_to_output(client, body):
    r = post(client, "/api/solve", body)
    assert 0 < len(r["solutions"]) <= 20 and r["message"]
    size = body["input_size"] if isinstance(body["input_size"], list) else [body["input_size"]]
    target = body["output_size"] if isinstance(body["output_size"], list) else [
        body["output_size"]]
    for sol in r["solutions"]:
        for a in range(len(size)):
            k, s, p, d = (sol[key][a] for key in ("kernel_size", "stride", "padding",
                                                    "dilation"))
            if body["op"] == "conv_transpose":
                o = shapes.conv_transpose_output_size(size[a], k, s, p, sol["output_padding"][a],
                                                      d)
            else:
                o = shapes.conv_output_size(size[a], k, s, p, d)
            assert o == target[a]
            for key in ("kernel_size", "stride", "padding", "dilation"):
                fixed = body.get(key)
                if fixed is not None:
                    assert sol[key][a] == fixed
    if body["op"] == "conv_transpose" and body["input_size"] == [7, 7]:
        best = shapes.solve_conv_transpose(7, 14)[0]
        assert r["solutions"][0]["explanation"] == str(best)


def test_solve_without_solution(client):
    r = post(client, "/api/solve", {"input_size": 7, "output_size": 14, "kernel_size": 2,
                                    "stride": 3, "dilation": 1})
    assert r["solutions"] == []
    assert r["message"] == shapes.solve_conv_transpose(7, 14, kernel_size=2, stride=3,
                                                       dilation=1).explanation


def _run_torch_code(text, x, **extra):
    scope = {"torch": torch, "x": x, **extra}
    exec(text, scope)  # the generated code, as a user would paste it
    return scope["y"]


@pytest.mark.parametrize("body", [
    {"op": "conv_transpose", "input_size": [5, 4], "kernel_size": [3, 3], "stride": [2, 2],
     "padding": [1, 1], "output_padding": [1, 0], "in_channels": 4, "out_channels": 2,
     "groups": 2},
    {"op": "conv", "input_size": [9, 8], "kernel_size": [3, 2], "stride": [2, 2], "padding": 1},
    {"op": "max_pool", "input_size": [7, 7], "kernel_size": 3, "stride": 2, "padding": 1},
    {"op": "avg_pool", "input_size": [6], "kernel_size": 2},
    {"op": "interpolate", "input_size": [4, 4], "mode": "bilinear", "scale_factor": 2.0},
    {"op": "pixel_shuffle", "input_size": [3, 3], "upscale_factor": 2},
    {"op": "max_unpool", "input_size": [8, 8], "kernel_size": 2},
    {"op": "unpool", "input_size": [3, 3], "kernel_size": 2},
])
def test_code_torch_runs_and_matches_shapes(client, body):
    r = post(client, "/api/code", body)
    assert [f["framework"] for f in r["frameworks"]] == ["torch", "keras", "jax", "onnx"]
    assert re.match(r"y(, idx)? = upconv\.", r["upconv"])
    fw = r["frameworks"][0]
    n = len(body["input_size"])
    c_in = body.get("in_channels", 1) * (body.get("upscale_factor", 1) ** 2)
    x = torch.rand(1, c_in, *body["input_size"])
    if body["op"] == "unpool":
        assert fw["exact"] is False and fw["notes"]
        code = fw["code"].replace("H", str(body["input_size"][0])).replace(
            "W", str(body["input_size"][1]))
        y = _run_torch_code(code, x)
        expect = upconv.unpool(x.numpy().astype(float), 2)
        np.testing.assert_allclose(y.numpy(), expect, rtol=1e-6)
        return
    if body["op"] == "max_unpool":  # x and idx come from a max_pool of the bigger input
        x, idx = F.max_pool2d(torch.rand(1, 1, 16, 16), 2, return_indices=True)
        y = _run_torch_code(fw["code"], x, idx=idx)
        expect = upconv.max_unpool(x.double().numpy(), idx.numpy(), 2)
        np.testing.assert_allclose(y.double().numpy(), expect)
    else:
        y = _run_torch_code(fw["code"], x)
    e = post(client, "/api/explain", {**body, "in_channels": None, "out_channels": None,
                                      "groups": None})
    assert list(y.shape[-n:]) == e["output_size"]
    if body["op"] in ("max_unpool",):
        assert fw["exact"] is True
        assert [f["exact"] for f in r["frameworks"][1:3]] == [False, False]


def test_checkerboard_matches_library(client):
    for body, args in [({"kernel_size": [3, 3], "stride": [2, 2]}, ((3, 3), (2, 2))),
                       ({"kernel_size": [4], "stride": [2], "layers": 2}, ((4,), (2,))),
                       ({"kernel_size": 3, "stride": 2, "method": "resize-conv"}, (3, 2))]:
        r = post(client, "/api/checkerboard", body)
        cb = library_checkerboard(*args, layers=body.get("layers", 1),
                                  ndim=len(args[0]) if isinstance(args[0], tuple) else 2,
                                  method=body.get("method", "transposed"))
        assert r["shape"] == list(cb.counts.shape)
        assert r["counts"] == cb.counts.ravel().tolist()
        assert (r["even"], r["verdict"]) == (cb.even, cb.verdict)
        assert (r["min"], r["max"]) == (cb.interior.min(), cb.interior.max())


def _dense(m):
    a = np.zeros((m["rows"], m["cols"]))
    for row, col, value, _ in m["entries"]:
        a[row, col] = value
    return a


def test_matrix_conv_and_transpose(client):
    body = {"op": "conv", "input_size": [4, 4], "kernel_size": [3, 3], "stride": [1, 1],
            "kernel_values": list(range(1, 10))}
    r = post(client, "/api/matrix", body)
    w = np.arange(1.0, 10).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(_dense(r["C"]), upconv.conv_matrix((1, 4, 4), w).toarray())
    np.testing.assert_array_equal(_dense(r["CT"]), _dense(r["C"]).T)
    assert r["C"]["entries"][0] == [0, 0, 1.0, 0]
    assert len(r["row_labels"]) == 4 and len(r["col_labels"]) == 16
    # conv_transpose: y = Cᵀ x
    tb = {"op": "conv_transpose", "input_size": [3, 3], "kernel_size": [3, 3],
          "stride": [2, 2], "padding": [1, 1], "output_padding": [1, 1], "values": "random",
          "seed": 4}
    t = post(client, "/api/matrix", tb)
    e = post(client, "/api/explain", tb)
    x = src_input(e).ravel()
    np.testing.assert_allclose(_dense(t["CT"]) @ x, np.array(e["output"]).ravel())
    kern = np.array(e["kernel"]["values"])
    for _, _, value, k in t["C"]["entries"]:
        assert value == kern[k]
    post(client, "/api/matrix", {"op": "conv", "input_size": [9, 9]}, 400)
    post(client, "/api/matrix", {"op": "max_pool", "input_size": [4, 4]}, 400)


def test_meta(client):
    r = client.get("/api/meta").json()
    assert set(r["ops"]) == {"conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool",
                             "unpool", "interpolate", "pixel_shuffle"}
    assert r["ops"]["conv_transpose"]["views"] == ["scatter", "direct"]
    assert r["version"] == upconv.__version__
    assert r["limits"]["max_taps"] == 100_000 and "camera" in r["images"]
    assert r["defaults"]["input_size"] == [4, 4]


def test_image_panel(client):
    from PIL import Image

    def decode(url):
        assert url.startswith("data:image/png;base64,")
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))

    r = client.get("/api/image", params={"name": "camera", "factor": 2}).json()
    names = [m["name"] for m in r["methods"]]
    assert names == ["nearest", "bilinear", "transposed conv (bilinear kernel)",
                     "bed of nails", "max unpool (switches)", "pixel shuffle (ICNR init)"]
    original, low = decode(r["original"]), decode(r["low"])
    assert original.shape == (144, 144) and low.shape == (72, 72)
    nearest = decode(r["methods"][0]["png"])
    np.testing.assert_array_equal(nearest, low.repeat(2, 0).repeat(2, 1))
    psnr = {m["name"]: m["psnr"] for m in r["methods"]}
    assert psnr["bilinear"] > psnr["bed of nails"] + 10
    rgb = client.get("/api/image", params={"name": "astronaut", "factor": 3}).json()
    assert decode(rgb["original"]).shape == (144, 144, 3)
    assert client.get("/api/image", params={"factor": 5}).status_code == 422
    assert client.get("/api/image", params={"name": "moon"}).status_code == 422


def test_pages_and_schema(client):
    assert client.get("/").status_code == 200
    page = client.get("/api")
    assert page.status_code == 200 and "/api/explain" in page.text and "<script" not in page.text
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    schema = client.get("/openapi.json").json()
    props = schema["components"]["schemas"]["Params"]["properties"]
    assert "maximum" in str(props["input_size"]) and "64" in str(props["input_size"])


# ---------------------------------------------------------------------------------------------
# errors


def test_library_errors_are_400_with_its_message(client):
    with pytest.raises(upconv.ShapeError) as lib:
        _steps.build("explain", "conv_transpose", (4, 4), (3, 3), (1, 1), (0, 0), (1, 1), (2, 2))
    r = client.post("/api/explain", json={"op": "conv_transpose", "input_size": [4, 4],
                                          "kernel_size": [3, 3], "output_padding": [2, 2]})
    assert r.status_code == 400 and r.json()["detail"] == str(lib.value)
    r = client.post("/api/explain", json={"op": "max_pool", "input_size": [4, 4],
                                          "kernel_size": [2, 2], "padding": [2, 2]})
    assert r.status_code == 400 and "padding" in r.json()["detail"]
    r = client.post("/api/explain", json={"op": "conv", "input_size": [4, 4], "stride": [1, 1, 1]})
    assert r.status_code == 422  # more than 2 dimensions: schema
    r = client.post("/api/explain", json={"op": "conv", "input_size": [4], "stride": [1, 2]})
    assert r.status_code == 400 and re.search(r"stride=\[1, 2\] has 2 values but input_size "
                                              r"has 1 dimension", r.json()["detail"])
    r = client.post("/api/explain", json={"op": "conv", "input_size": [2, 2],
                                          "kernel_size": [3, 3]})
    assert r.status_code == 400 and "kernel" in r.json()["detail"]
    r = client.post("/api/code", json={"op": "conv", "in_channels": 3, "groups": 2})
    assert r.status_code == 400 and "in_channels=3 is not divisible by groups=2" in r.text


@pytest.mark.parametrize("body", [
    {"op": "nope"}, {"op": "conv", "input_size": [65, 4]}, {"op": "conv", "kernel_size": 0},
    {"op": "conv", "values": "many"}, {"op": "conv", "stride": "2"}, {},
    {"op": "interpolate", "scale_factor": 9.0}, {"op": "conv", "seed": -1},
])
def test_schema_violations_are_422(client, body):
    assert client.post("/api/explain", json=body).status_code == 422


def test_body_cap_413(client):
    big = b'{"op": "conv", "pad": "' + b"x" * 70_000 + b'"}'
    r = client.post("/api/explain", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "65536" in r.json()["detail"]


def test_work_caps_are_400(client):
    r = client.post("/api/explain", json={"op": "conv_transpose", "input_size": [64, 64],
                                          "kernel_size": [16, 16]})
    assert r.status_code == 400
    assert "1048576 taps" in r.json()["detail"] and "100000" in r.json()["detail"]
    r = client.post("/api/explain", json={"op": "interpolate", "input_size": [64, 64],
                                          "scale_factor": 4.0})
    assert r.status_code == 400 and "256×256" in r.json()["detail"] and "128" in r.text
    r = client.post("/api/checkerboard", json={"kernel_size": 16, "stride": 8, "layers": 3})
    assert r.status_code == 400 and "256" in r.json()["detail"]


def test_import_upconv_needs_no_fastapi():
    import subprocess
    import sys

    code = ("import sys, upconv, upconv.serve, upconv.serve._api; "
            "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules, sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_names_the_install(monkeypatch):
    import importlib.util

    import upconv.serve as serve

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    with pytest.raises(ImportError, match=r"fastapi: pip install 'upconv\[explorer\]'"):
        serve.create_app()


def test_fields_an_op_does_not_read_are_ignored(client):
    stale = {"op": "unpool", "input_size": [3], "kernel_size": [2], "stride": [1, 2],
             "output_padding": [1, 1], "size": [5, 5], "groups": 7}
    e = post(client, "/api/explain", stale)
    np.testing.assert_array_equal(output_of(e), upconv.unpool(np.arange(1.0, 4)[None, None],
                                                               2)[0, 0])


def test_only_the_librarys_refusals_are_400(monkeypatch):
    from upconv.serve import _api

    def numpy_bug(params):
        return np.zeros(3).reshape(2, 2)  # a ValueError raised by NumPy, not by upconv

    monkeypatch.setattr(_api, "explain", numpy_bug)
    with TestClient(create_app()) as c:
        r = c.post("/api/explain", json={"op": "conv"})
    assert r.status_code == 500
    assert r.json()["detail"].startswith("internal error: ValueError: cannot reshape")
    monkeypatch.undo()
    with TestClient(create_app()) as c:  # upconv's own validation: a TypeError that is a 400
        r = c.post("/api/explain", json={"op": "conv_transpose", "input_size": [4, 4],
                                         "input_values": [1.5] * 15})
    assert r.status_code == 400, r.text
