"""explain.checkerboard: kernel overlap counts against brute force and PyTorch, and verdicts."""

from __future__ import annotations

import importlib
import itertools
import json
import math
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from upconv import ShapeError, shapes
from upconv.explain import Checkerboard, checkerboard

# The module (upconv.explain.checkerboard, the attribute, is the function).
cb_module = importlib.import_module("upconv.explain.checkerboard")

# ---------------------------------------------------------------------------------------------
# Brute force: naive loops, one layer at a time, all-ones input and kernel.


def brute_1d(size, k, s, d, layers, method):
    x = [1] * size
    for _ in range(layers):
        if method == "transposed":
            out = [0] * ((len(x) - 1) * s + d * (k - 1) + 1)
            for i, v in enumerate(x):
                for a in range(k):
                    out[i * s + a * d] += v
        else:
            up = [x[o // s] for o in range(len(x) * s)]
            before = d * (k - 1) // 2
            out = [sum(up[o - before + a * d] for a in range(k)
                       if 0 <= o - before + a * d < len(up)) for o in range(len(up))]
        x = out
    return np.array(x)


def brute_2d(size, k, s, d, layers, method):
    x = np.ones(size, dtype=np.int64)
    for _ in range(layers):
        h, w = x.shape
        if method == "transposed":
            out = np.zeros(((h - 1) * s[0] + d[0] * (k[0] - 1) + 1,
                            (w - 1) * s[1] + d[1] * (k[1] - 1) + 1), dtype=np.int64)
            for i, j, a, b in itertools.product(range(h), range(w), range(k[0]), range(k[1])):
                out[i * s[0] + a * d[0], j * s[1] + b * d[1]] += x[i, j]
        else:
            up = np.zeros((h * s[0], w * s[1]), dtype=np.int64)
            for i, j in itertools.product(range(h * s[0]), range(w * s[1])):
                up[i, j] = x[i // s[0], j // s[1]]
            b0, b1 = d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2
            out = np.zeros_like(up)
            for i, j, a, b in itertools.product(range(up.shape[0]), range(up.shape[1]),
                                                range(k[0]), range(k[1])):
                r, c = i - b0 + a * d[0], j - b1 + b * d[1]
                if 0 <= r < up.shape[0] and 0 <= c < up.shape[1]:
                    out[i, j] += up[r, c]
        x = out
    return x


def smallest_period(a, axis):
    n = a.shape[axis]
    return next((p for p in range(1, n) if np.array_equal(
        np.take(a, range(p, n), axis=axis), np.take(a, range(n - p), axis=axis))), n)


def far_from_borders(k, s, d, layers, ndim):
    """The pattern of an (almost) infinite input: a central window of a large brute force."""
    big, span = 6 * max(k) * max(d) + 4, 2 * max(s) ** layers
    if ndim == 1:
        full = brute_1d(big, k[0], s[0], d[0], layers, "transposed")
        mid = len(full) // 2
        return full[mid - span // 2: mid + span // 2 + 1]
    full = brute_2d((big, big), k, s, d, layers, "transposed")
    mid = [n // 2 for n in full.shape]
    return full[mid[0] - span // 2: mid[0] + span // 2 + 1,
                mid[1] - span // 2: mid[1] + span // 2 + 1]


def torch_counts(size, k, s, d, layers, ndim):
    fn = F.conv_transpose1d if ndim == 1 else F.conv_transpose2d
    x = torch.ones((1, 1, *size), dtype=torch.float64)
    w = torch.ones((1, 1, *k), dtype=torch.float64)
    for _ in range(layers):
        x = fn(x, w, stride=s, dilation=d)
    return x[0, 0].numpy()


# ---------------------------------------------------------------------------------------------
# Verdicts: (kernel_size, stride, dilation, layers, ndim) -> (even, ratio, period), by hand.

VERDICTS = [
    (3, 2, 1, 1, 1, False, 2.0, (2,)),
    (4, 2, 1, 1, 1, True, 1.0, (1,)),
    (2, 2, 1, 1, 1, True, 1.0, (1,)),
    (3, 1, 1, 1, 1, True, 1.0, (1,)),
    (5, 2, 1, 1, 1, False, 1.5, (2,)),
    (3, 3, 1, 1, 1, True, 1.0, (1,)),
    (4, 3, 1, 1, 1, False, 2.0, (3,)),
    (3, 2, 2, 1, 1, False, math.inf, (2,)),  # all taps on even phases: holes
    (3, 3, 2, 1, 1, True, 1.0, (1,)),  # gcd(2, 3) = 1 and 3 | 3
    (3, 2, 1, 2, 1, False, 3.0, (4,)),
    (3, 2, 1, 3, 1, False, 5.0, (8,)),  # phases 4 3 5 2 5 3 4 1
    (4, 2, 1, 3, 1, True, 1.0, (1,)),
    (3, 2, 1, 1, 2, False, 4.0, (2, 2)),
    (3, 2, 1, 2, 2, False, 9.0, (4, 4)),
    (4, 2, 1, 2, 2, True, 1.0, (1, 1)),
    ((3, 4), (2, 2), 1, 1, 2, False, 2.0, (2, 1)),
    ((3, 3), (2, 3), (1, 2), 1, 2, False, 2.0, (2, 1)),
]


def _tuple(v, n):
    return tuple(v) if isinstance(v, tuple) else (v,) * n


@pytest.mark.parametrize(("k", "s", "d", "layers", "ndim", "even", "ratio", "period"),
                         VERDICTS)
def test_verdicts(k, s, d, layers, ndim, even, ratio, period):
    cb = checkerboard(k, s, d, layers, ndim=ndim)
    assert isinstance(cb, Checkerboard)
    kk, ss, dd = _tuple(k, ndim), _tuple(s, ndim), _tuple(d, ndim)
    # the hand-written table agrees with brute force far from any border ...
    pattern = far_from_borders(kk, ss, dd, layers, ndim)
    assert (pattern.min() == pattern.max()) == even
    assert (math.inf if pattern.min() == 0 else pattern.max() / pattern.min()) == ratio
    assert tuple(smallest_period(pattern, ax) for ax in range(ndim)) == period
    # ... and so does checkerboard
    assert cb.even == even
    assert cb.ratio == ratio
    assert cb.period == period
    assert cb.verdict.startswith("even:" if even else "uneven:")
    if math.isinf(ratio):
        assert "holes" in cb.verdict
    # the interior holds exactly the values of the pattern
    assert set(np.unique(cb.interior)) == set(np.unique(pattern))


COUNT_CASES = [
    # kernel_size, stride, dilation, layers, ndim, method, size
    (3, 2, 1, 1, 1, "transposed", None),
    (3, 2, 1, 2, 1, "transposed", 3),
    (5, 3, 2, 2, 1, "transposed", None),
    (2, 2, 3, 3, 1, "transposed", 4),
    (3, 2, 1, 1, 2, "transposed", None),
    ((3, 2), (2, 3), (1, 2), 2, 2, "transposed", (3, 2)),
    (4, 2, 1, 2, 2, "transposed", None),
    (3, 2, 1, 1, 1, "resize-conv", None),
    (4, 3, 2, 2, 1, "resize-conv", 3),
    (3, 2, 1, 2, 2, "resize-conv", None),
    ((2, 3), (3, 2), (2, 1), 1, 2, "resize-conv", (3, 4)),
]


@pytest.mark.parametrize(("k", "s", "d", "layers", "ndim", "method", "size"), COUNT_CASES)
def test_counts_against_brute_force_and_torch(k, s, d, layers, ndim, method, size):
    cb = checkerboard(k, s, d, layers, size=size, ndim=ndim, method=method)
    kk, ss, dd = _tuple(k, ndim), _tuple(s, ndim), _tuple(d, ndim)
    assert cb.kernel_size == kk and cb.stride == ss and cb.dilation == dd
    if ndim == 1:
        want = brute_1d(cb.size[0], kk[0], ss[0], dd[0], layers, method)
    else:
        want = brute_2d(cb.size, kk, ss, dd, layers, method)
    assert cb.counts.dtype == np.int64
    np.testing.assert_array_equal(cb.counts, want)
    if method == "transposed":
        np.testing.assert_array_equal(cb.counts, torch_counts(cb.size, kk, ss, dd, layers, ndim))
    if size is not None:
        assert cb.size == _tuple(size, ndim)


@pytest.mark.parametrize(("k", "s", "d"), [(3, 2, 1), (5, 3, 1), (4, 2, 2), (5, 4, 3), (2, 3, 1),
                                           (6, 4, 1), (3, 1, 1)])
def test_one_layer_matches_shapes_checkerboard_counts(k, s, d):
    phases = shapes.checkerboard_counts(k, s, d)
    cb1 = checkerboard(k, s, d, ndim=1)
    assert cb1.phases == (phases,)
    start = cb1.interior_slices[0].start
    for offset, v in enumerate(cb1.interior):
        assert v == phases[(start + offset) % s]
    cb2 = checkerboard((k, k), (s, s), (d, d), size=(cb1.size[0], cb1.size[0] + 1))
    rows, cols = (sl.start for sl in cb2.interior_slices)
    for (i, j), v in np.ndenumerate(cb2.interior):
        assert v == phases[(rows + i) % s] * phases[(cols + j) % s]


def test_interior_is_away_from_the_borders():
    # Interior values are those of a much larger input: at the same positions, and one input
    # later (which moves a 2-layer stride-2 output by s**2 = 4 positions).
    cb = checkerboard(3, 2, layers=2, ndim=1)
    sl = cb.interior_slices[0]
    assert 0 < sl.start and sl.stop < cb.counts.shape[0]
    big = brute_1d(40, 3, 2, 1, 2, "transposed")
    np.testing.assert_array_equal(cb.interior, big[sl])
    np.testing.assert_array_equal(cb.interior, big[sl.start + 4: sl.stop + 4])
    # the border itself is not part of the pattern (the first count is 1, the pattern's
    # values are 3, 2, 3, 1)
    assert cb.counts[0] == 1 and sl.start > 0


@pytest.mark.parametrize(("k", "s", "d", "layers", "ndim"),
                         [(3, 2, 1, 1, 1), (3, 2, 1, 3, 1), (5, 3, 1, 2, 1), (3, 2, 2, 1, 1),
                          (3, 2, 1, 1, 2), (3, 2, 1, 2, 2), (4, 3, 1, 2, 2)])
def test_resize_conv_is_even(k, s, d, layers, ndim):
    assert not checkerboard(k, s, d, ndim=ndim).even or s == 1
    cb = checkerboard(k, s, d, layers, ndim=ndim, method="resize-conv")
    assert cb.even and cb.ratio == 1.0 and cb.period == (1,) * ndim
    assert np.all(cb.interior == k ** (ndim * layers))
    assert cb.verdict.startswith("even: after nearest upsampling")


@pytest.mark.parametrize(("k", "s", "d", "ndim"),
                         [(3, 2, 1, 1), (5, 2, 1, 1), (4, 3, 1, 1), (5, 3, 1, 1), (3, 2, 1, 2),
                          (3, 2, 2, 1)])
def test_stacks_compound_an_uneven_layer(k, s, d, ndim):
    ratios = [checkerboard(k, s, d, n, ndim=ndim).ratio for n in (1, 2, 3)]
    assert ratios[0] > 1
    assert ratios[1] >= ratios[0] and ratios[2] >= ratios[1]
    if not math.isinf(ratios[0]):
        assert ratios[2] > ratios[0]
    text = checkerboard(k, s, d, 2, ndim=ndim).verdict
    assert "2 stacked layers compound it" in text


def test_even_layers_stack_evenly():
    for layers in (1, 2, 3):
        assert checkerboard(4, 2, layers=layers).even
        assert checkerboard(6, 3, layers=layers, ndim=1).even


def test_counts_come_from_conv_transpose(monkeypatch):
    calls = []
    real = cb_module.conv_transpose

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(cb_module, "conv_transpose", spy)
    checkerboard(3, 2, layers=3, ndim=1)
    assert len(calls) == 3


def test_verdict_text():
    text = checkerboard(3, 2).verdict
    assert "uneven" in text and "max/min 4" in text and "2x2" in text
    assert "kernel_size 3 is not divisible by stride 2" in text
    assert "no checkerboard" in checkerboard(4, 2).verdict
    holes = checkerboard(4, 2, 2, ndim=1).verdict
    assert "dilation 2 and stride 2 share a factor" in holes


# ---------------------------------------------------------------------------------------------
# Text, HTML, JSON, pictures


def test_str_html_dict():
    cb = checkerboard(3, 2, ndim=1)
    text = str(cb)
    assert "1 1 2 1 2 1 2 1 1" in text and cb.verdict in text
    assert "interior (away from the borders): 2..6" in text
    assert "<svg" in cb._repr_html_()
    data = json.loads(json.dumps(cb.as_dict()))
    assert data["counts"] == [1, 1, 2, 1, 2, 1, 2, 1, 1] and data["ratio"] == 2.0
    assert json.loads(json.dumps(checkerboard(3, 2, 2, ndim=1).as_dict()))["ratio"] is None


def _load(path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")


def test_png_heat_map(tmp_path):
    cb = checkerboard(3, 2)
    img = _load(cb.save(tmp_path / "c.png"))
    assert img.size == cb.image_size

    def colour(i, j):
        x0, y0, _, _ = cb.cell_box(i, j)
        return img.getpixel((x0 + 3, y0 + 3))

    # counts: (0, 0) = 1, (2, 2) = 4 (max), (4, 4) = 4, (0, 1) = 1
    assert cb.counts[0, 0] == cb.counts[0, 1] == 1 and cb.counts[2, 2] == cb.counts[4, 4] == 4
    assert colour(0, 0) == colour(0, 1)
    assert colour(2, 2) == colour(4, 4)
    assert colour(0, 0) != colour(2, 2)
    # the interior frame is drawn on the first interior cell's left edge
    i0, j0 = (sl.start for sl in cb.interior_slices)
    x0, y0, _, y1 = cb.cell_box(i0, j0)
    assert img.getpixel((x0, (y0 + y1) // 2)) == (208, 0, 0)


def test_picture_size_grows(tmp_path):
    small = _load(checkerboard(3, 2, ndim=1).save(tmp_path / "a.png"))
    larger = _load(checkerboard(3, 2, ndim=1, size=12).save(tmp_path / "b.png"))
    grid = _load(checkerboard(3, 2, size=12).save(tmp_path / "c.png"))
    assert larger.size[0] > small.size[0]
    assert grid.size[1] > larger.size[1]


def test_svg_heat_map(tmp_path):
    cb = checkerboard(3, 2, layers=2, ndim=1, path=tmp_path / "c.svg")
    root = ET.parse(tmp_path / "c.svg").getroot()
    assert (int(root.get("width")), int(root.get("height"))) == cb.image_size
    numbers = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")
               if el.text and el.text.isdigit()]
    assert numbers == [str(v) for v in cb.counts]


# ---------------------------------------------------------------------------------------------
# Errors


def test_error_kernel_size_like_shapes():
    with pytest.raises(ShapeError) as ours:
        checkerboard(0, 2)
    with pytest.raises(ShapeError) as theirs:
        shapes.checkerboard_counts(0, 2)
    assert str(ours.value) == str(theirs.value).replace("checkerboard_counts", "checkerboard")
    with pytest.raises(ShapeError, match=r"checkerboard: kernel_size=0 must be a positive"):
        checkerboard(0, 2)


def test_error_stride():
    with pytest.raises(ShapeError, match=r"checkerboard: stride=\(2, 0\) must be positive"):
        checkerboard(3, (2, 0))


def test_error_stride_length():
    with pytest.raises(ShapeError, match=r"checkerboard: stride=\(2, 2\) has 2 values but the "
                                         r"input has 1 spatial dimension"):
        checkerboard(3, (2, 2), ndim=1)


def test_error_kernel_type():
    with pytest.raises(TypeError, match=r"checkerboard: kernel_size=2.5 must be an int"):
        checkerboard(2.5, 2)


def test_error_method():
    with pytest.raises(ShapeError, match=r"checkerboard: method='bilinear' is not understood; "
                                         r"give 'transposed' or 'resize-conv'"):
        checkerboard(3, 2, method="bilinear")


def test_error_layers():
    with pytest.raises(ShapeError, match=r"checkerboard: layers=0 must be a positive integer"):
        checkerboard(3, 2, layers=0)


def test_error_ndim():
    with pytest.raises(ShapeError, match=r"checkerboard: ndim=3 is not supported"):
        checkerboard(3, 2, ndim=3)


def test_error_size_without_interior():
    with pytest.raises(ShapeError, match=r"checkerboard: size=1 leaves no interior in "
                                         r"dimension 0 after 1 layer .*use size >= 2"):
        checkerboard(3, 2, size=1, ndim=1)


def test_error_size_length():
    with pytest.raises(ShapeError, match=r"checkerboard: size=\(4, 4\) has 2 values but ndim=1"):
        checkerboard(3, 2, size=(4, 4), ndim=1)


def test_error_too_large():
    with pytest.raises(ShapeError, match=r"checkerboard: the output would be .* positions, "
                                         r"limit 4194304"):
        checkerboard(3, 2, layers=12)


def test_png_without_pillow(tmp_path, monkeypatch):
    cb = checkerboard(3, 2, ndim=1)
    for name in [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install 'upconv\[viz\]'"):
        cb.save(tmp_path / "a.png")
