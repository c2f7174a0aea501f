"""explain.matrix: C and Cᵀ as labelled tables and pictures, checked against real PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from helpers import assert_unchanged, frozen
from upconv import ShapeError
from upconv.explain import MatrixView, matrix

CONV = {1: F.conv1d, 2: F.conv2d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}

# Seed 004, Figure 2.3 (3x3 kernel on 4x4 input, unit stride, no padding), written by hand:
# for each row of C, the columns (flattened input positions) holding w_00 .. w_22 in order.
FIGURE_2_3 = [
    [0, 1, 2, 4, 5, 6, 8, 9, 10],
    [1, 2, 3, 5, 6, 7, 9, 10, 11],
    [4, 5, 6, 8, 9, 10, 12, 13, 14],
    [5, 6, 7, 9, 10, 11, 13, 14, 15],
]
W_NAMES = ["w_00", "w_01", "w_02", "w_10", "w_11", "w_12", "w_20", "w_21", "w_22"]


def _load(path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")


def _pixel(img: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    # A pixel inside the cell, clear of its border and of the centred label.
    x0, y0, _, _ = box
    return img.getpixel((x0 + 3, y0 + 3))


def _expected_labels(size, k, s, p, d):
    """Naive label table: output j reads input h = j*s + a*d - p for each tap a."""
    nd = len(size)
    out = [(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
    n_out, n_in = int(np.prod(out)), int(np.prod(size))
    table = np.full((n_out, n_in), "", dtype=object)
    for j in np.ndindex(*out):
        for a in np.ndindex(*k):
            h = [j[i] * s[i] + a[i] * d[i] - p[i] for i in range(nd)]
            if all(0 <= h[i] < size[i] for i in range(nd)):
                row = int(np.ravel_multi_index(j, out))
                col = int(np.ravel_multi_index(h, size))
                table[row, col] = "w_" + "".join(map(str, a))
    return table, tuple(out)


# ---------------------------------------------------------------------------------------------
# Seed 004, Figure 2.3


def test_figure_2_3_layout():
    w = np.arange(1.0, 10.0).reshape(3, 3)
    view = matrix((4, 4), 3, weight=w)
    assert isinstance(view, MatrixView)
    assert view.C.shape == (4, 16)
    assert view.output_size == (2, 2)
    for row, cols in enumerate(FIGURE_2_3):
        nonzero = [c for c in range(16) if view.labels[row, c]]
        assert nonzero == cols
        assert [view.labels[row, c] for c in cols] == W_NAMES
        assert view.C[row, cols].tolist() == list(range(1, 10))
        others = [c for c in range(16) if c not in cols]
        assert not view.C[row, others].any()
        assert all(view.labels[row, c] == "" for c in others)
    assert view.row_labels == ["(0,0)", "(0,1)", "(1,0)", "(1,1)"]
    assert view.col_labels[:5] == ["(0,0)", "(0,1)", "(0,2)", "(0,3)", "(1,0)"]
    assert view.col_labels[-1] == "(3,3)"
    assert view.CT.shape == (16, 4)
    np.testing.assert_array_equal(view.labels_T, view.labels.T)
    assert view.ok


def test_figure_2_3_text_table():
    text = str(matrix((4, 4), 3))
    lines = text.splitlines()
    row0 = next(line for line in lines if line.startswith("(0,0)") and "w_22" in line)
    assert row0.split()[1:] == ["w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0",
                                "w_20", "w_21", "w_22", "0", "0", "0", "0", "0"]
    assert "single channel" in text
    assert "C (4 x 16)" in text and "Cᵀ (16 x 4)" in text
    assert lines[-1].startswith("check: Cᵀ y == conv_transpose(y)") and lines[-1].endswith("(OK)")


def test_one_d_labels():
    view = matrix(5, 3, stride=2, padding=1)
    assert view.C.shape == (3, 5)
    assert view.labels.tolist() == [
        ["w_1", "w_2", "", "", ""],
        ["", "w_0", "w_1", "w_2", ""],
        ["", "", "", "w_0", "w_1"],
    ]
    assert view.row_labels == ["0", "1", "2"]


# ---------------------------------------------------------------------------------------------
# The numbers against PyTorch (conv for C, conv_transpose for Cᵀ)

CASES = [
    # size, kernel, stride, padding, dilation
    ((4, 4), (3, 3), (1, 1), (0, 0), (1, 1)),
    ((5, 5), (3, 3), (2, 2), (1, 1), (1, 1)),
    ((6, 5), (3, 2), (2, 1), (1, 0), (1, 2)),
    ((7, 6), (2, 3), (3, 2), (0, 1), (2, 1)),
    ((6, 6), (3, 3), (2, 2), (2, 2), (2, 2)),
    ((7,), (3,), (2,), (1,), (1,)),
    ((8,), (4,), (3,), (2,), (1,)),
    ((9,), (3,), (2,), (0,), (3,)),
]


def _check_against_torch(view: MatrixView, size, k, s, p, d) -> None:
    nd = len(size)
    w = torch.from_numpy(view.weight.copy())[None, None]
    # C @ x == torch conv(x)
    x = np.random.default_rng(1).standard_normal(size)
    want = CONV[nd](torch.from_numpy(x)[None, None], w, stride=s, padding=p, dilation=d)
    np.testing.assert_allclose(view.C @ x.ravel(), want.numpy().ravel(), rtol=1e-10,
                               atol=1e-12)
    # Cᵀ y == torch conv_transpose(y), output_padding chosen so the output has the input size
    full = [(view.output_size[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1
            for i in range(nd)]
    op = tuple(size[i] - full[i] for i in range(nd))
    got = CONV_T[nd](torch.from_numpy(view.y.copy())[None, None], w, stride=s, padding=p,
                     output_padding=op, dilation=d)[0, 0].numpy()
    np.testing.assert_allclose(view.CTy, got, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(view.conv_transpose_y, got, rtol=1e-10, atol=1e-12)
    assert view.ok and view.max_abs_diff < 1e-12


@pytest.mark.parametrize(("size", "k", "s", "p", "d"), CASES)
def test_against_torch_and_naive_labels(size, k, s, p, d):
    view = matrix(size, k, stride=s, padding=p, dilation=d, seed=7)
    labels, out = _expected_labels(size, k, s, p, d)
    assert view.output_size == out
    assert view.labels.tolist() == labels.tolist()
    assert view.C.shape == (int(np.prod(out)), int(np.prod(size)))
    _check_against_torch(view, size, k, s, p, d)


@given(st.data())
def test_random_geometry_against_torch(data):
    nd = data.draw(st.integers(1, 2))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(data.draw(st.integers(0, ki // 2)) for ki in k)
    size = tuple(data.draw(st.integers(max(1, di * (ki - 1) + 1 - 2 * pi), 6))
                 for ki, di, pi in zip(k, d, p, strict=True))
    view = matrix(size, k, stride=s, padding=p, dilation=d, seed=data.draw(st.integers(0, 99)))
    labels, _ = _expected_labels(size, k, s, p, d)
    assert view.labels.tolist() == labels.tolist()
    _check_against_torch(view, size, k, s, p, d)


def test_given_weight_and_y_are_used_and_not_mutated():
    w = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    y = np.arange(9.0).reshape(3, 3)
    before = frozen(w, y)
    view = matrix((4, 4), weight=w, y=y)
    assert_unchanged(before, w, y)
    assert view.kernel_size == (2, 2)
    np.testing.assert_array_equal(view.y, y)
    got = F.conv_transpose2d(torch.from_numpy(y)[None, None], torch.from_numpy(w))[0, 0]
    np.testing.assert_allclose(view.CTy, got.numpy(), rtol=1e-12)
    # a flat y and a float32 weight are accepted too (computed in float64)
    view32 = matrix((4, 4), 2, weight=w[0, 0].astype(np.float32), y=y.ravel())
    np.testing.assert_allclose(view32.CTy, got.numpy(), rtol=1e-12)


def test_same_padding_and_pairs():
    view = matrix((5, 5), 4, padding="same")
    assert view.padding == ((1, 2), (1, 2)) and view.output_size == (5, 5) and view.ok
    view = matrix(6, 3, padding=((2, 0),), stride=2)
    assert view.padding == ((2, 0),) and view.output_size == (3,) and view.ok


# ---------------------------------------------------------------------------------------------
# Pictures: size, colours, content


def test_png_size_and_colours(tmp_path):
    view = matrix((4, 4), 3)
    path = view.save(tmp_path / "c.png")
    img = _load(path)
    assert img.size == view.image_size
    w00 = _pixel(img, view.cell_box("C", 0, 0))
    assert _pixel(img, view.cell_box("C", 1, 1)) == w00  # same weight, same colour
    assert _pixel(img, view.cell_box("C", 3, 5)) == w00
    assert _pixel(img, view.cell_box("CT", 0, 0)) == w00  # and in Cᵀ
    assert _pixel(img, view.cell_box("C", 0, 1)) != w00  # w_01
    assert _pixel(img, view.cell_box("C", 0, 3)) == (255, 255, 255)  # zero cell: blank
    assert len({_pixel(img, view.cell_box("C", 0, c)) for c in FIGURE_2_3[0]}) == 9


def test_picture_grows_with_the_matrix(tmp_path):
    small = matrix((4, 4), 3)
    wide = matrix((4, 6), 3)  # more columns (24) and rows (8)
    tall = matrix((6, 4), 3)
    paths = [v.save(tmp_path / f"{n}.png") for n, v in enumerate((small, wide, tall))]
    sizes = [_load(p).size for p in paths]
    assert sizes[1][0] > sizes[0][0]
    assert sizes[2][1] > sizes[0][1]


def test_svg_content(tmp_path):
    view = matrix((4, 4), 3)
    path = view.save(tmp_path / "c.svg")
    root = ET.parse(path).getroot()
    assert (int(root.get("width")), int(root.get("height"))) == view.image_size
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("w_00") == 8  # 4 cells of C and 4 of Cᵀ
    assert any(t and t.startswith("check: C^T y == conv_transpose(y)") for t in texts)
    # format overrides the suffix
    other = view.save(tmp_path / "pic.out", format="svg")
    assert other.read_text().startswith("<svg")


def test_path_argument_saves(tmp_path):
    matrix(5, 2, path=tmp_path / "m.png")
    assert _load(tmp_path / "m.png").size[0] > 0


def test_html_and_dict():
    view = matrix((4, 4), 3)
    page = view._repr_html_()
    assert page.count("<table") == 2 and page.count(">w_22<") == 8 and "background:" in page
    data = json.loads(json.dumps(view.as_dict()))
    assert data["labels"][0][:3] == ["w_00", "w_01", "w_02"] and data["ok"] is True


# ---------------------------------------------------------------------------------------------
# Errors


def test_error_three_d():
    with pytest.raises(ShapeError, match=r"matrix: input_size=\(3, 3, 3\) has 3 dimensions; "
                                         r"the matrix picture is drawn for 1-d and 2-d"):
        matrix((3, 3, 3), 2)


def test_error_weight_shape():
    with pytest.raises(ShapeError, match=r"matrix: weight has shape \(2, 2, 2\); for a 2-d"):
        matrix((4, 4), weight=np.ones((2, 2, 2)))


def test_error_kernel_size_mismatch():
    with pytest.raises(ShapeError, match=r"kernel_size=3 does not match weight of shape"):
        matrix((4, 4), 3, weight=np.ones((2, 2)))


def test_error_no_kernel():
    with pytest.raises(ShapeError, match="matrix: give kernel_size or weight"):
        matrix(4)


def test_error_y_size():
    with pytest.raises(ShapeError, match=r"matrix: y has shape \(3,\) \(3 values\) but the "
                                         r"convolution output is 2x2 \(4 values\)"):
        matrix((4, 4), 3, y=np.ones(3))


def test_error_kernel_too_large():
    with pytest.raises(ShapeError, match=r"matrix: the dilated kernel d\*\(k-1\)\+1=5"):
        matrix(4, 5)


def test_error_bad_stride():
    with pytest.raises(ShapeError, match=r"matrix: stride=0 must be a positive integer"):
        matrix(4, 2, stride=0)


def test_error_integer_weight():
    with pytest.raises(TypeError, match=r"matrix: weight has dtype int64"):
        matrix(4, weight=np.ones(2, dtype=np.int64))


def test_error_format(tmp_path):
    view = matrix(4, 2)
    with pytest.raises(ShapeError, match=r"format='gif' is not supported"):
        view.save(tmp_path / "a.gif", format="gif")
    with pytest.raises(ShapeError, match=r"cannot tell the picture format"):
        view.save(tmp_path / "a.gif")


def test_error_cell_box():
    with pytest.raises(ShapeError, match=r"cell_box: \(0, 9\) is outside C"):
        matrix(4, 2).cell_box("C", 0, 9)


def test_png_without_pillow(tmp_path, monkeypatch):
    view = matrix(4, 2)
    for name in [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install 'upconv\[viz\]'"):
        view.save(tmp_path / "a.png")
    view.save(tmp_path / "a.svg")  # SVG needs nothing extra


def test_import_does_not_load_drawing_libraries():
    code = ("import sys, upconv, upconv.explain; upconv.explain.matrix((4, 4), 3); "
            "upconv.explain.checkerboard(3, 2); "
            "print(sorted(m for m in ('PIL', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
