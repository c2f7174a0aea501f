"""Animations: frames, highlighted cells where the math says, numbers, formats, presets.

Pictures are tested by what they must contain (frame counts, the colour of the box the
layout gives for a cell, the numbers recorded per frame and written into SVG/HTML), not by
pixel hashes.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import upconv
from helpers import assert_unchanged, frozen
from upconv import ShapeError
from upconv.explain import PRESETS, Animation, animate
from upconv.explain._draw import rgb

SEED_X = [[1, 2], [3, 4]]
SEED_W = [[5, 5], [5, 5]]
SEED_Y = [[5, 15, 10], [20, 50, 30], [15, 35, 20]]
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}


def colour(anim: Animation, frame: int, grid: str, cell) -> tuple[int, int, int]:
    """The RGB colour drawn inside ``cell`` of ``grid`` in frame ``frame``."""
    im = anim.images()[frame].convert("RGB")
    return im.getpixel(anim.layout.probe(grid, cell))


# ---------------------------------------------------------------------------------------------
# Frames and numbers


def test_seed_002_scatter_plays_step_by_step():
    anim = animate("conv_transpose", values=SEED_X, kernel=SEED_W)
    assert isinstance(anim, Animation)
    assert anim.frames == 5  # one per input element, then the finished output
    assert len(anim.images()) == 5
    # running sums after each step (seed 002's partial outputs added one by one)
    expected = [
        {(0, 0): "5", (0, 1): "5", (1, 0): "5", (1, 1): "5"},
        {(0, 0): "5", (0, 1): "15", (0, 2): "10", (1, 0): "5", (1, 1): "15", (1, 2): "10"},
        {(0, 0): "5", (0, 1): "15", (0, 2): "10", (1, 0): "20", (1, 1): "30", (1, 2): "10",
         (2, 0): "15", (2, 1): "15"},
    ]
    for n, sums in enumerate(expected):
        shown = {c: v for (g, c), v in anim.frame_info[n].labels.items() if g == "output"}
        assert shown == sums
    final = [[anim.frame_info[-1].label("output", (r, c)) for c in range(3)] for r in range(3)]
    assert final == [[str(v) for v in row] for row in SEED_Y]
    ref = F.conv_transpose2d(torch.tensor([[SEED_X]], dtype=torch.float64),
                             torch.tensor([[SEED_W]], dtype=torch.float64))[0, 0]
    ours = upconv.conv_transpose(np.array([[SEED_X]], float), np.array([[SEED_W]], float))[0, 0]
    assert final == [[str(int(v)) for v in row] for row in ref.tolist()]
    assert final == [[str(int(v)) for v in row] for row in ours.tolist()]
    assert "x[1, 0] = 3 times the kernel adds 15, 15, 15, 15" in anim.frame_info[2].caption


def test_frame_counts_follow_the_index_map():
    cases = [
        (dict(op="conv_transpose", input_size=(2, 3), kernel_size=3, stride=2), 6),
        (dict(op="conv_transpose", input_size=(2, 3), kernel_size=3, stride=2, view="direct"),
         5 * 7),
        (dict(op="conv", input_size=(5, 4), kernel_size=(3, 2), stride=(2, 1)), 2 * 3),
        (dict(op="max_pool", input_size=7, kernel_size=2, ceil_mode=True), 4),
        (dict(op="avg_pool", input_size=(4, 4), kernel_size=2), 4),
        (dict(op="max_unpool", input_size=(2, 2), kernel_size=2), 4),
        (dict(op="unpool", input_size=3, kernel_size=2), 3),
        (dict(op="interpolate", input_size=(2, 2), scale_factor=2, mode="bilinear"), 16),
    ]
    for kwargs, steps in cases:
        anim = animate(**kwargs)
        assert len(anim.plan.steps) == steps
        assert anim.frames == steps + 1
        assert animate(**kwargs, final=False).frames == steps


def test_scatter_highlights_where_the_math_says():
    # dilated transposed convolution with padding and output_padding: what conv_arithmetic
    # never drew.  Input (1, 2) paints y[i*s + t*d - p] for t = 0, 1, 2 in each dimension.
    s, d, p, k = 2, 2, 1, 3
    anim = animate("conv_transpose", (3, 3), k, stride=s, padding=p, dilation=d,
                   output_padding=1)
    frame = 1 * 3 + 2  # row-major step of input (1, 2)
    assert colour(anim, frame, "input", (1, 2)) == rgb("input_hi")
    assert colour(anim, frame, "input", (0, 0)) == rgb("input")
    rows = [1 * s + t * d - p for t in range(k)]
    cols = [2 * s + t * d - p for t in range(k)]
    out = (3 - 1) * s - 2 * p + d * (k - 1) + 1 + 1
    assert anim.plan.output_size == (out, out) == (8, 8)
    for r in rows:
        for c in cols:
            inside = 0 <= r < out and 0 <= c < out
            assert colour(anim, frame, "output", (r, c)) == rgb(
                "output_hi" if inside else "crop_hi")
    assert colour(anim, frame, "output", (2, 3)) != rgb("output_hi")  # between dilated taps
    # input (0, 0) lands partly in the cropped border (index -1)
    assert colour(anim, 0, "output", (-1, -1)) == rgb("crop_hi")
    assert anim.frame_info[0].fill("output", (-1, 1)) == "crop_hi"


@settings(max_examples=20)
@given(st.data())
def test_any_transposed_case_draws_its_steps_where_the_math_says(data):
    nd = data.draw(st.integers(1, 2))
    size = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    a = tuple(data.draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d, strict=True))
    full = [ss * (i - 1) + dd * (kk - 1) + 1 for ss, i, dd, kk in zip(s, size, d, k, strict=True)]
    p = tuple(data.draw(st.integers(0, (f + aa - 1) // 2)) for f, aa in zip(full, a, strict=True))
    view = data.draw(st.sampled_from(["scatter", "direct"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, w = rng.integers(-3, 4, size), rng.integers(-3, 4, k)
    before = frozen(x, w)
    anim = animate("conv_transpose", size, k, s, p, d, a, view=view, values=x, kernel=w)
    assert_unchanged(before, x, w)
    out = tuple(ss * (i - 1) - 2 * pp + dd * (kk - 1) + aa + 1
                for ss, i, pp, dd, kk, aa in zip(s, size, p, d, k, a, strict=True))
    assert anim.plan.output_size == out
    assert anim.frames == (math.prod(size) if view == "scatter" else math.prod(out)) + 1
    n = data.draw(st.integers(0, anim.frames - 2))
    if view == "scatter":  # input i paints y[i*s + t*d - p]
        i = np.unravel_index(n, size)
        targets = {tuple(i[ax] * s[ax] + tt[ax] * d[ax] - p[ax] for ax in range(nd))
                   for tt in itertools.product(*(range(kk) for kk in k))}
    else:  # one output cell per step, row-major
        targets = {tuple(int(v) for v in np.unravel_index(n, out))}
    image = anim.images()[n].convert("RGB")
    for c in targets:
        inside = all(0 <= v < o for v, o in zip(c, out, strict=True))
        assert image.getpixel(anim.layout.probe("output", c)) == rgb(
            "output_hi" if inside else "crop_hi")
    ref = CONV_T[nd](torch.from_numpy(x[None, None].astype(float)),
                     torch.from_numpy(w[None, None].astype(float)), stride=s, padding=p,
                     output_padding=a, dilation=d)[0, 0]
    last = anim.frame_info[-1]
    assert [int(last.label("output", c)) for c in np.ndindex(*out)] == [
        int(v) for v in ref.flatten().tolist()]


def test_direct_view_slides_the_flipped_kernel():
    w = [[1, 2], [3, 4]]
    anim = animate("conv_transpose", values=SEED_X, kernel=w, view="direct")
    assert anim.frames == 9 + 1
    # the kernel panel shows w rotated by 180 degrees
    assert [[anim.frame_info[0].label("kernel", (r, c)) for c in range(2)] for r in range(2)] == [
        ["4", "3"], ["2", "1"]]
    # y[0, 0] = x[0, 0] * w[0, 0]: the window covers padded cells (-1..0, -1..0), only its
    # bottom-right cell is an input unit, met by the flipped kernel's bottom-right tap (w[0, 0])
    f0 = anim.frame_info[0]
    assert f0.fill("input", (0, 0)) == "input_hi"
    assert f0.fill("input", (-1, -1)) == "pad"
    assert {c for g, c in f0.window if g == "input"} == {(-1, -1), (-1, 0), (0, -1), (0, 0)}
    assert f0.fill("kernel", (1, 1)) == "kernel_hi" and f0.fill("kernel", (0, 0)) == "kernel"
    assert colour(anim, 0, "kernel", (1, 1)) == rgb("kernel_hi")
    assert f0.label("output", (0, 0)) == "1"
    assert f0.caption.endswith("y[0, 0] = 1·1 = 1")
    assert colour(anim, 4, "output", (1, 1)) == rgb("output_hi")
    assert anim.frame_info[4].label("output", (1, 1)) == str(1 * 4 + 2 * 3 + 3 * 2 + 4 * 1)


def test_direct_view_draws_stride_zeros_and_padding_on_the_right_sides():
    # i'=3, k=3, s=2, p=1, a=1: stretched 5, padding 1 before and 2 after (a at the END)
    anim = animate("conv_transpose", 3, 3, stride=2, padding=1, output_padding=1, view="direct")
    f = anim.frame_info[-1]  # the final frame highlights nothing
    kinds = [f.fill("input", (u,)) for u in range(-1, 7)]
    assert kinds == ["pad", "input", "zero", "input", "zero", "input", "pad", "pad"]
    with pytest.raises(KeyError):
        anim.layout.box("input", (-2,))
    assert anim.plan.output_size == (6,)
    assert f.fill("output", (5,)) == "extra"  # output_padding: the last cell
    assert anim.frame_info[5].fill("output", (5,)) == "output_hi"


def test_asymmetric_padding_is_drawn_on_its_own_sides():
    # rows: 0 before, 2 after; cols: 1 before, 0 after
    anim = animate("conv", (3, 4), 2, padding=((0, 2), (1, 0)))
    lay, f = anim.layout, anim.frame_info[-1]
    for cell in [(3, 0), (4, 0), (0, -1), (4, -1)]:
        assert f.fill("input", cell) == "pad"
        assert colour(anim, anim.frames - 1, "input", cell) == rgb("pad")
    for cell in [(-1, 0), (0, 4)]:
        with pytest.raises(KeyError):
            lay.box("input", cell)
    assert lay.box("input", (4, 0))[1] > lay.box("input", (2, 0))[1]  # below the input
    assert lay.box("input", (0, -1))[0] < lay.box("input", (0, 0))[0]  # left of it
    assert anim.plan.output_size == (4, 4)


def test_output_padding_sits_at_the_end():
    anim = animate("conv_transpose", (2, 3), 3, stride=2, padding=1, output_padding=(1, 0))
    assert anim.plan.output_size == (4, 5)
    last = anim.frame_info[-1]
    assert [last.fill("output", (3, c)) for c in range(5)] == ["extra"] * 5
    assert [last.fill("output", (r, 0)) for r in range(3)] == ["output"] * 3
    assert colour(anim, anim.frames - 1, "output", (3, 2)) == rgb("extra")
    lay = anim.layout
    assert lay.box("output", (3, 0))[1] == max(lay.box("output", (r, 0))[1] for r in range(4))


def test_padding_larger_than_k_minus_1_shows_the_cropped_border():
    # full output [1, 3, 5, 7, 4]; p=2 > k-1=1 crops two cells at each end, leaving [5]
    anim = animate("conv_transpose", values=[1, 2, 3, 4], kernel=[1, 1], padding=2)
    last = anim.frame_info[-1]
    shown = [last.label("output", (c,)) for c in range(-2, 3)]
    assert shown == ["1", "3", "5", "7", "4"]
    assert [last.fill("output", (c,)) for c in range(-2, 3)] == ["crop", "crop", "output",
                                                                 "crop", "crop"]
    assert anim.plan.accumulate().tolist() == [5.0]
    direct = animate("conv_transpose", values=[1, 2, 3, 4], kernel=[1, 1], padding=2,
                     view="direct")
    assert direct.plan.params["pad_before"] == (-1,)  # d(k-1) - p = -1: crop the input
    assert direct.frame_info[0].fill("input", (0,)) == "crop"
    assert direct.frame_info[-1].label("output", (0,)) == "5"


def test_input_and_output_are_labelled_and_coloured_apart():
    anim = animate("conv", (4, 4), 3)
    assert anim.layout.grids["input"].label.startswith("input")
    assert anim.layout.grids["output"].label.startswith("output")
    last = anim.frames - 1
    assert colour(anim, last, "input", (0, 0)) != colour(anim, last, "output", (0, 0))
    for name in ("input", "input_hi"):
        for other in ("output", "output_hi", "output_empty"):
            assert rgb(name) != rgb(other)
    html = anim.to_html()
    assert "input x 4×4" in html and "output y 2×2" in html


def test_headers_show_both_parameter_sets_and_the_size_formula():
    anim = animate("conv_transpose", (3, 3), 3, stride=2, padding=1, output_padding=1,
                   dilation=2)
    text = "\n".join(anim.plan.header)
    assert "k=3, s=2, p=1, a=1, d=2 → o′=8×8" in text
    assert "(3−1)·2 − 2·1 + 2·(3−1) + 1 + 1 = 8" in text
    for part in ("ĩ′ = s(i′−1)+1 = 5", "k′ = 3", "s′ = 1", "p′ = d(k−1)−p = 3 before",
                 "d(k−1)−p+a = 4 after", "d′ = 2"):
        assert part in text
    eq = upconv.equivalent_conv((3, 3), 3, 2, 1, 1, 2)
    assert (eq.stretched_size, eq.pad_before, eq.pad_after) == ((5, 5), (3, 3), (4, 4))


def test_1d_rectangular_and_every_op_render():
    cases = [
        dict(op="conv", input_size=7, kernel_size=3, dilation=2, values=np.arange(7.0)),
        dict(op="conv_transpose", input_size=4, kernel_size=3, stride=3, padding=((0, 2),)),
        dict(op="conv_transpose", input_size=(2, 4), kernel_size=(3, 2), stride=(1, 2)),
        dict(op="max_pool", values=[[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]],
             kernel_size=2),
        dict(op="avg_pool", input_size=(3, 5), kernel_size=3, stride=2, padding=1,
             ceil_mode=True),
        dict(op="max_unpool", values=[1.5, 2.5], kernel_size=3, stride=2),
        dict(op="unpool", values=SEED_X, kernel_size=(2, 3), position="center"),
        dict(op="interpolate", values=[[10, 20], [30, 40]], size=(3, 4), mode="bilinear",
             align_corners=True),
        dict(op="interpolate", input_size=3, scale_factor=2.5, mode="nearest-exact"),
    ]
    for kwargs in cases:
        anim = animate(**kwargs)
        images = anim.images()
        assert len(images) == anim.frames
        assert images[0].size == (anim.width, anim.height)
        if anim.plan.numbers:
            last = anim.frame_info[-1]
            for c in np.ndindex(*anim.plan.output_size):
                assert float(last.label("output", c)) == pytest.approx(
                    anim.plan.accumulate()[c], rel=1e-3)


def test_max_pool_highlights_the_maximum_and_its_switch():
    anim = animate("max_pool", values=[[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]],
                   kernel_size=2)
    f = anim.frame_info[1]  # y[0, 1]: window x[0:2, 2:4], maximum 4 at x[0, 2], switch 2
    assert f.fill("input", (0, 2)) == "input_hi"
    assert f.fill("input", (1, 3)) == "input"
    assert ("input", (1, 3)) in f.window
    assert colour(anim, 1, "input", (0, 2)) == rgb("input_hi")
    assert "switch 2" in f.caption


def test_max_unpool_and_unpool_place_values():
    anim = animate("max_unpool", values=SEED_X, kernel_size=2, indices=[[5, 2], [9, 14]])
    f = anim.frame_info[3]  # x[1, 1] = 4 goes to switch 14 = y[3, 2]
    assert f.fill("output", (3, 2)) == "output_hi"
    assert f.label("output", (3, 2)) == "4"
    assert {c for g, c in f.window if g == "output"} == {(2, 2), (2, 3), (3, 2), (3, 3)}
    nails = animate("unpool", values=SEED_X, kernel_size=2)
    assert nails.frame_info[1].fill("output", (0, 2)) == "output_hi"
    assert colour(nails, 1, "output", (0, 2)) == rgb("output_hi")
    assert nails.frame_info[-1].label("output", (0, 1)) == "0"


def test_interpolate_captions_list_the_weights():
    anim = animate("interpolate", values=[10, 20], size=4, mode="linear")
    assert anim.frame_info[1].caption.endswith("y[1] = 0.75·10 + 0.25·20 = 12.5")
    assert anim.frame_info[1].fill("input", (0,)) == "input_hi"
    assert anim.frame_info[1].fill("input", (1,)) == "input_hi"


# ---------------------------------------------------------------------------------------------
# Formats


@pytest.fixture(scope="module")
def seed_anim():
    return animate("conv_transpose", values=SEED_X, kernel=SEED_W)


def test_gif(tmp_path, seed_anim, capsys):
    path = seed_anim.save(tmp_path / "seed.gif")
    assert capsys.readouterr().out == ""
    assert path == tmp_path / "seed.gif" == seed_anim.path
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == seed_anim.frames == 5
        assert im.size == (seed_anim.width, seed_anim.height)
        im.seek(1)
        rgbim = im.convert("RGB")
        assert rgbim.getpixel(seed_anim.layout.probe("input", (0, 1))) == rgb("input_hi")


def test_png_strip(tmp_path, seed_anim):
    path = seed_anim.save(tmp_path / "strip.png")
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size == (seed_anim.frames * seed_anim.width, seed_anim.height)
        rgbim = im.convert("RGB")
        x, y = seed_anim.layout.probe("input", (1, 1))
        assert rgbim.getpixel((3 * seed_anim.width + x, y)) == rgb("input_hi")  # frame 3
        assert rgbim.getpixel((2 * seed_anim.width + x, y)) == rgb("input")
    path = seed_anim.save(tmp_path / "grid.png", columns=2)  # 5 frames: 3 rows of 2
    with Image.open(path) as im:
        assert im.size == (2 * seed_anim.width, 3 * seed_anim.height)
        x, y = seed_anim.layout.probe("input", (1, 1))
        assert im.convert("RGB").getpixel((seed_anim.width + x, seed_anim.height + y)) == rgb(
            "input_hi")  # frame 3: second row, second column


def _visible_numbers(markup: str, anim: Animation, frame: int, grid: str = "output"):
    """The numbers a viewer sees on ``grid`` at ``frame`` of an SVG/HTML animation.

    Frames are layers: the static part, then frame groups 0..frame painted in order; a cell
    rectangle hides the number under it, a ``<text>`` inside a cell shows on top.
    """
    boxes = {c: anim.layout.box(g, c) for g, c in anim.frame_info[0].fills if g == grid}

    def cell_at(x: float, y: float):
        for c, (x0, y0, x1, y1) in boxes.items():
            if x0 <= x < x1 and y0 <= y < y1:
                return c
        return None

    head, _, rest = markup.partition('<g class="upconv-frame')
    groups = re.findall(r'upconv-f\d+" data-frame="\d+">(.*?)</g>', '<g class="upconv-frame' + rest,
                        re.S)
    assert len(groups) == anim.frames
    shown: dict = {}
    for part in [head, *groups[: frame + 1]]:
        for kind, attrs, text in re.findall(r"<(rect|text)([^>]*)>(?:([^<]*)</text>)?", part):
            a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
            if kind == "rect":
                w, h = float(a["width"]), float(a["height"])
                c = cell_at(float(a["x"]) + w / 2, float(a["y"]) + h / 2)
                if c is not None and a["fill"] != "none" and w <= anim.layout.cell:
                    shown.pop(c, None)
            else:
                c = cell_at(float(a["x"]), float(a["y"]))
                if c is not None:
                    shown[c] = text
    return shown


def test_svg(tmp_path, seed_anim):
    path = seed_anim.save(tmp_path / "seed.svg")
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    frames = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
              if "upconv-frame" in g.get("class", "")]
    assert len(frames) == seed_anim.frames
    assert "@keyframes" in text
    final = _visible_numbers(text, seed_anim, 4)
    assert final == {(r, c): str(SEED_Y[r][c]) for r in range(3) for c in range(3)}
    assert _visible_numbers(text, seed_anim, 0) == {c: "5" for c in [(0, 0), (0, 1), (1, 0),
                                                                     (1, 1)]}
    assert _visible_numbers(text, seed_anim, 1)[(0, 1)] == "15"  # running sums
    assert _visible_numbers(text, seed_anim, 2, "input") == {(0, 0): "1", (0, 1): "2",
                                                             (1, 0): "3", (1, 1): "4"}


def test_html(tmp_path, seed_anim):
    path = seed_anim.save(tmp_path / "seed.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count('class="upconv-frame') == seed_anim.frames
    for external in ("http:", "https:", "src=", "<link", "url(", "@import"):
        assert external not in text
    assert "<script>" in text and "<svg" in text
    assert _visible_numbers(text, seed_anim, 4)[(1, 1)] == "50"
    assert _visible_numbers(text, seed_anim, 3)[(2, 2)] == "20"
    frag = seed_anim._repr_html_()
    assert frag.startswith("<div") and frag.count('class="upconv-frame') == 5


def test_format_argument_and_suffixes(tmp_path, seed_anim):
    assert seed_anim.save(tmp_path / "anim.data", format="svg").read_text().startswith("<svg")
    anim = animate("unpool", 2, 2, path=tmp_path / "u.HTM")
    assert anim.path == tmp_path / "u.HTM" and anim.path.read_text().startswith("<!DOCTYPE")
    with pytest.raises(ShapeError, match=r"cannot tell the format from path=.*'\.gif'"):
        seed_anim.save(tmp_path / "anim.mp4")
    with pytest.raises(ShapeError, match=r"format='mp4' is not one of 'gif', 'html', 'svg' or "
                                         r"'png'"):
        seed_anim.save(tmp_path / "anim.gif", format="mp4")
    with pytest.raises(ShapeError, match=r"animate: format='jpeg' is not one of"):
        animate("unpool", 2, 2, format="jpeg")


# ---------------------------------------------------------------------------------------------
# Presets

CONV_ARITHMETIC = {  # name: (conv input i, conv output o), from vdumoulin/conv_arithmetic
    "no_padding_no_strides": (4, 2), "arbitrary_padding_no_strides": (5, 6),
    "same_padding_no_strides": (5, 5), "full_padding_no_strides": (5, 7),
    "no_padding_strides": (5, 2), "padding_strides": (5, 3), "padding_strides_odd": (6, 3),
}


def test_presets_are_the_19_conv_arithmetic_cases():
    names = set(CONV_ARITHMETIC) | {n + "_transposed" for n in CONV_ARITHMETIC} | {
        "dilation", "numerical_no_padding_no_strides", "numerical_padding_strides",
        "numerical_average_pooling", "numerical_max_pooling"}
    assert set(PRESETS) == names and len(names) == 19
    for name, (i, o) in CONV_ARITHMETIC.items():
        conv = animate(preset=name)
        assert conv.plan.input_size == (i, i) and conv.plan.output_size == (o, o)
        assert conv.frames == o * o + 1
        tr = animate(preset=name + "_transposed")
        assert tr.plan.op == "conv_transpose" and tr.plan.view == "direct"
        assert tr.plan.input_size == (o, o) and tr.plan.output_size == (i, i)
    assert animate(preset="dilation").plan.params["d"] == (2, 2)
    assert animate(preset="padding_strides_odd_transposed").plan.params["a"] == (1, 1)


def test_every_preset_renders():
    for name in PRESETS:
        anim = animate(preset=name)
        assert len(anim.images()) == anim.frames
        assert anim.to_html(full=False).count('class="upconv-frame') == anim.frames


def test_numerical_presets_show_the_pooled_numbers():
    anim = animate(preset="numerical_max_pooling")
    x = torch.tensor(np.asarray(PRESETS["numerical_max_pooling"]["values"], dtype=float))
    ref = F.max_pool2d(x[None, None], 3, 1)[0, 0]
    last = anim.frame_info[-1]
    assert [[last.label("output", (r, c)) for c in range(3)] for r in range(3)] == [
        [str(int(v)) for v in row] for row in ref.tolist()]


def test_preset_arguments_can_be_overridden():
    anim = animate(preset="padding_strides", stride=1)
    assert anim.plan.params["s"] == (1, 1) and anim.plan.output_size == (5, 5)
    assert animate(preset="no_padding_strides_transposed", view="scatter").plan.view == "scatter"


# ---------------------------------------------------------------------------------------------
# Errors and imports


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"op": "upsample", "input_size": 2}, r"animate: op='upsample' is not one of 'conv', "
                                          r"'conv_transpose', 'max_pool'"),
    ({"op": "conv_transpose", "input_size": 2, "kernel_size": 2, "view": "gather"},
     r"view='gather' is not a view of conv_transpose; choose 'scatter' or 'direct'"),
    ({"preset": "padding_strides_transposed_odd"},
     r"preset='padding_strides_transposed_odd' is not one of 'arbitrary_padding_no_strides'"),
    ({"op": "conv", "input_size": (2, 2, 2), "kernel_size": 1},
     r"animate: draws 1-d and 2-d cases; input_size=2×2×2 has 3 dimensions"),
    ({"op": "conv_transpose", "input_size": 4, "kernel_size": 3, "stride": 2,
      "output_padding": 2},
     r"animate: output_padding=2 must be smaller than stride=2 or dilation=1 \(PyTorch's rule"),
    ({"op": "conv_transpose", "input_size": 2, "kernel_size": 2, "padding": 2},
     r"animate: the output would be empty in dimension 0"),
    ({"op": "conv", "input_size": 5, "kernel_size": 3, "stride": 2, "padding": "same"},
     r"padding='same' requires stride=1"),
    ({"op": "max_pool", "input_size": 5, "kernel_size": 2, "padding": 2},
     r"padding=2 must be at most half of kernel_size=2"),
    ({"op": "interpolate", "input_size": 2, "kernel_size": 2, "size": 4},
     r"op='interpolate' has no kernel_size"),
])
def test_animate_errors(kwargs, match):
    with pytest.raises(ShapeError, match=match):
        animate(**kwargs)


def test_too_large_to_animate():
    assert animate("conv", 80, 1).frames == 81
    with pytest.raises(ShapeError, match=r"too large to animate"):
        animate("conv", (70, 70), 1)


def test_import_does_not_load_pillow_or_matplotlib():
    code = (
        "import sys, upconv.explain as e\n"
        "assert 'PIL' not in sys.modules and 'matplotlib' not in sys.modules\n"
        "a = e.animate('conv_transpose', (2, 2), 3, stride=2, values=[[1, 2], [3, 4]])\n"
        "assert a.to_html().count('upconv-frame') > 0 and a.to_svg().startswith('<svg')\n"
        "print(e.trace('unpool', values=[1, 2], kernel_size=2).count('goes to y['))\n"
        "assert 'PIL' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2"


def test_missing_pillow_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "import upconv.explain as e\n"
        "a = e.animate('unpool', 2, 2)\n"
        f"a.save({str(tmp_path / 'x.html')!r})\n"
        "try:\n"
        f"    a.save({str(tmp_path / 'x.gif')!r})\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "pip install 'upconv[viz]'" in run.stdout
