"""``upconv tour``: every seed example present with ✓, expected values as the seeds print
them, computed values as PyTorch computes them, every linked file on disk.

The tour runs once (``python -m upconv tour``, the real command) for the whole module; the
HTML is parsed, not grepped.  The expected tables below are copied from the seeds.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from upconv.explain import PRESETS
from upconv.explain._tour_gallery import bilinear_kernel, bilinear_taps, subpixel_weight
from upconv.explain._tour_html import OK, Section, agree, markdown
from upconv.explain.tour import tour

# ---------------------------------------------------------------------------------------------
# The seeds' worked examples, copied from shared/seeds (blanks in the seed are 0 here).

SEED_TABLES = {
    # seed 002
    "002-nearest": [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
    "002-bilinear": [[10, 12, 17, 20], [15, 17, 22, 25], [25, 27, 32, 35], [30, 32, 37, 40]],
    "002-bed-of-nails": [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
    "002-max-pool": [[4, 4], [4, 4]],
    "002-max-positions": [[0, 0, 4, 0], [0, 4, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]],
    "002-max-unpool": [[0, 0, 2, 0], [0, 1, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]],
    "002-transpose-size": [3, 3],
    "002-transpose-step-1": [[5, 5, 0], [5, 5, 0], [0, 0, 0]],
    "002-transpose-step-2": [[0, 10, 10], [0, 10, 10], [0, 0, 0]],
    "002-transpose-step-3": [[0, 0, 0], [15, 15, 0], [15, 15, 0]],
    "002-transpose-step-4": [[0, 0, 0], [0, 20, 20], [0, 20, 20]],
    "002-transpose-sum": [[5, 15, 10], [20, 50, 30], [15, 35, 20]],
    # seed 000: coordinate i goes to i*k
    "000-unpool-k2": [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
    "000-unpool-k3": [[1, 0, 0, 2, 0, 0], [0] * 6, [0] * 6, [3, 0, 0, 4, 0, 0], [0] * 6,
                      [0] * 6],
}
SEED_004 = {  # relationship: (i, k, s, p) of the seed's figure, conv o, ĩ', p' before/after, a
    7: (4, 3, 1, 0, 2, 2, 2, 2, 0),
    8: (5, 4, 1, 2, 6, 6, 1, 1, 0),
    9: (5, 3, 1, 1, 5, 5, 1, 1, 0),
    10: (5, 3, 1, 2, 7, 7, 0, 0, 0),
    11: (5, 3, 2, 0, 2, 3, 2, 2, 0),
    12: (5, 3, 2, 1, 3, 5, 1, 1, 0),
    13: (6, 3, 2, 1, 3, 5, 1, 2, 1),
}
FIGURE_2_3_ROW_0 = ["w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0", "w_20", "w_21",
                    "w_22", "0", "0", "0", "0", "0"]
EXPECTED_IDS = {
    *SEED_TABLES, "002-conv-size", "002-bilinear-exact",
    "004-figure-2.3", "004-figure-2.3-products", "004-pooling-size",
    *(f"004-relationship-{r}" for r in SEED_004),
    "000-unpool-coordinates", "000-unpool-inverts-max-pool", "000-unpool-assumption",
    "000-stride-zeros", "000-padding-crops",
    "001-conv-example", "001-conv-transpose-example", "001-input-gradient-example",
    "001-flipped-filter", "001-inner-products", "001-gradient-identity",
    "001-adjoint-identity",
    "003-nearest-as-transposed", "003-bilinear-as-transposed", "003-checkerboard-1d",
    "003-distill-rule", "003-stack-compounds", "003-resize-conv-even",
}
GALLERY = ["nearest", "bilinear", "bicubic", "bed of nails", "max-unpooling",
           "transposed conv, bilinear init", "pixel shuffle (sub-pixel conv)",
           "pixel shuffle (ICNR init)"]


class Page(HTMLParser):
    """Collects the check blocks, verdict marks, links and gallery rows of the tour."""

    def __init__(self) -> None:
        super().__init__()
        self.checks: dict[str, dict[str, str]] = {}
        self.verdicts: list[tuple[str, str]] = []  # (check id, mark)
        self.links: list[str] = []
        self._current: str | None = None
        self._verdict = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "check" in classes and "data-check" in a:
            assert a["data-check"] not in self.checks, a["data-check"]
            self.checks[a["data-check"]] = a
            self._current = a["data-check"]
        if tag == "span" and "verdict" in classes:
            self._verdict = True
        for key in ("src", "href"):
            if a.get(key):
                self.links.append(a[key])
        if tag == "tr":
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._verdict:
            self.verdicts.append((self._current or "", data.strip()))
            self._verdict = False
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "site"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "upconv", "tour", "--out", str(out)],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    text = (out / "index.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return {"out": out, "proc": proc, "elapsed": elapsed, "html": text, "page": page}


def data(page: Page, check: str, key: str):
    return json.loads(page.checks[check][f"data-{key}"])


# ---------------------------------------------------------------------------------------------
# The command


def test_tour_prints_the_path_and_shows_progress(run):
    proc = run["proc"]
    assert proc.stdout == f"{run['out'] / 'index.html'}\n"
    lines = proc.stderr.splitlines()
    assert len(lines) >= 10 and all(line.startswith("upconv: tour [") for line in lines)
    assert "seed 002: 14 checks ✓" in proc.stderr and "photo gallery" in proc.stderr
    assert run["elapsed"] < 60  # the budget on 2 cores (it takes a few seconds)


def test_every_seed_example_is_there_with_a_check_mark(run):
    page = run["page"]
    assert set(page.checks) == EXPECTED_IDS
    assert {c["data-seed"] for c in page.checks.values()} == {"000", "001", "002", "003",
                                                             "004"}
    assert all(c["data-ok"] == "true" for c in page.checks.values())
    # one verdict per check, every one a check mark, and no cross anywhere in the page
    assert sorted(cid for cid, _ in page.verdicts) == sorted(page.checks)
    assert {mark for _, mark in page.verdicts} == {OK}
    assert run["html"].count("\u2717") == 0
    assert f"all {len(EXPECTED_IDS)} worked examples" in run["html"]


def test_expected_values_are_the_seeds_and_computed_agree(run):
    page = run["page"]
    for check, table in SEED_TABLES.items():
        assert data(page, check, "expected") == table, check
        assert data(page, check, "computed") == table, check
    assert data(page, "004-figure-2.3", "expected")[0] == FIGURE_2_3_ROW_0
    assert data(page, "002-conv-size", "expected")["output (H, W, depth)"] == [3, 3, 1]
    assert data(page, "000-stride-zeros", "expected") == [1, 0, 2, 0, 3]
    assert data(page, "000-padding-crops", "expected") == [[50]]
    for rel, (i, _k, _s, _p, o, st, pb, pa, a) in SEED_004.items():
        want = data(page, f"004-relationship-{rel}", "expected")
        assert (want["conv o"], want["ĩ′"], want["p′ (before, after)"], want["a"],
                want["o′ = i"], want["relationship"]) == (o, st, [pb, pa], a, i, rel)
        assert data(page, f"004-relationship-{rel}", "computed") == want


def test_computed_values_are_what_torch_computes(run):
    page = run["page"]
    x = torch.tensor([[[[1.0, 2], [3, 4]]]], dtype=torch.float64)
    up = F.interpolate(torch.tensor([[[[10.0, 20], [30, 40]]]]), scale_factor=2,
                       mode="bilinear", align_corners=False)[0, 0]
    assert data(page, "002-bilinear-exact", "computed") == up.tolist()
    assert data(page, "002-bilinear", "computed") == up.floor().tolist()
    assert data(page, "002-nearest", "computed") == F.interpolate(
        x, scale_factor=2, mode="nearest")[0, 0].tolist()
    pool_in = torch.tensor([[[[1.0, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]]]])
    pooled, idx = F.max_pool2d(pool_in, 2, return_indices=True)
    assert data(page, "002-max-pool", "computed") == pooled[0, 0].tolist()
    assert data(page, "002-max-unpool", "computed") == F.max_unpool2d(
        x.float(), idx, 2)[0, 0].tolist()
    assert data(page, "002-transpose-sum", "computed") == F.conv_transpose2d(
        x, torch.full((1, 1, 2, 2), 5.0, dtype=torch.float64))[0, 0].tolist()
    for rel, (i, k, s, p, *_rest) in SEED_004.items():
        got = data(page, f"004-relationship-{rel}", "computed")
        o = F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s,
                     padding=p).shape[-1]
        back = F.conv_transpose2d(torch.zeros(1, 1, o, o), torch.zeros(1, 1, k, k), stride=s,
                                  padding=p, output_padding=got["a"]).shape[-1]
        assert (got["conv o"], got["o′ = i"]) == (o, back) == (o, i)
    # seed 001: the gradient by autograd
    xg = torch.tensor([[[1.0, 2, 3, 4]]], requires_grad=True)
    w = torch.tensor([[[1.0, 10, 100]]])
    y = F.conv1d(xg, w)
    (y * torch.tensor([[[1.0, 2]]])).sum().backward()
    assert data(page, "001-conv-example", "computed") == y[0, 0].tolist()
    assert data(page, "001-input-gradient-example", "computed") == xg.grad[0, 0].tolist()
    assert data(page, "003-checkerboard-1d", "computed") == F.conv_transpose1d(
        torch.ones(1, 1, 4), torch.ones(1, 1, 3), stride=2)[0, 0].tolist()


def test_every_linked_file_exists(run):
    out = run["out"]
    local = [link for link in run["page"].links if not link.startswith(("#", "http"))]
    assert len(local) >= 19 + 8 + 2 * 10  # presets, nobody-drew, gallery (full + crop)
    for link in local:
        assert (out / link).is_file(), link
    svgs = [link for link in local if link.endswith(".svg")]
    for name in PRESETS:
        assert f"anim/{name}.svg" in svgs
    for link in svgs[:3]:
        assert ET.parse(out / link).getroot().tag.endswith("svg")
    with Image.open(out / "gallery" / "original.png") as im:
        assert im.size == (512, 512)
    with Image.open(out / "gallery" / "low.png") as im:
        assert im.size == (128, 128)


def test_gallery_errors_are_right(run):
    from skimage import data as skdata

    rows = {r[0]: r for r in run["page"].rows if r and r[0] in GALLERY}
    assert set(rows) == set(GALLERY)
    psnr = {name: float(r[2]) for name, r in rows.items()}
    # recompute two of them with PyTorch
    cam = torch.tensor(skdata.camera() / 255.0, dtype=torch.float64)[None, None]
    low = F.avg_pool2d(cam, 4)
    for name, up in [("nearest", F.interpolate(low, scale_factor=4, mode="nearest")),
                     ("bicubic", F.interpolate(low, scale_factor=4, mode="bicubic"))]:
        mse = float(((up - cam) ** 2).mean())
        assert psnr[name] == pytest.approx(10 * math.log10(1 / mse), abs=0.006), name
        assert float(rows[name][1]) == pytest.approx(mse, abs=6e-6)
    assert psnr["bicubic"] > psnr["bilinear"] > psnr["bed of nails"]
    assert psnr["pixel shuffle (sub-pixel conv)"] == psnr["transposed conv, bilinear init"]
    assert psnr["pixel shuffle (ICNR init)"] == psnr["nearest"]


# ---------------------------------------------------------------------------------------------
# The pieces, in process


def test_bilinear_kernel_and_subpixel_match_torch():
    assert bilinear_taps(2).tolist() == [0.25, 0.75, 0.75, 0.25]
    assert bilinear_taps(3).tolist() == pytest.approx([1 / 3, 2 / 3, 1, 2 / 3, 1 / 3])
    rng = np.random.default_rng(0)
    low = torch.tensor(rng.random((1, 1, 9, 7)))
    k = torch.tensor(bilinear_kernel(4))[None, None]
    ct = F.conv_transpose2d(low, k, stride=4, padding=2)
    sub = F.pixel_shuffle(F.conv2d(low, torch.tensor(subpixel_weight(4)), padding=1), 4)
    torch.testing.assert_close(sub, ct, rtol=0, atol=1e-12)
    bil = F.interpolate(low, scale_factor=4, mode="bilinear", align_corners=False)
    torch.testing.assert_close(ct[..., 8:-8, 8:-8], bil[..., 8:-8, 8:-8], rtol=0, atol=1e-12)


def test_agree_and_a_failing_check_shows_a_cross():
    assert agree([[1, 2]], [[1, 2.0]]) and not agree([[1, 2]], [[1, 3]])
    assert not agree([[1, 2]], [1, 2]) and not agree([1, 2], [1, 2, 3])
    assert agree({"a": [1], "b": "x"}, {"a": [1], "b": "x"})
    assert not agree({"a": 1}, {"a": 1, "b": 2}) and not agree("even", "uneven")
    assert not agree(True, 1) and not agree(1, True) and not agree(1, "1")
    assert agree(0.5, 0.5000001, tol=1e-6) and not agree(0.5, float("nan"))
    s = Section("seed-009", "test")
    bad = s.check("009-wrong", "wrong on purpose", [[1, 2]], lambda: np.array([[1, 3]]), "x")
    boom = s.check("009-boom", "raises", 1, lambda: 1 / 0, "x")
    good = s.check("009-right", "right", [1, 2], np.array([1.0, 2.0]), "x")
    assert not bad.ok and not boom.ok and good.ok
    assert boom.computed.startswith("error: ZeroDivisionError")
    page = Page()
    page.feed(s.html())
    assert [m for _, m in page.verdicts] == ["\u2717", "\u2717", OK]
    assert page.checks["009-wrong"]["data-ok"] == "false"


def test_markdown_of_a_trace():
    out = markdown("## Title `x`\n\n- a\n- b\n\n1. step\n\n```text\n[ 1 < 2 ]\n```\n")
    assert "<h4>Title <code>x</code></h4>" in out and "<ul><li>a</li><li>b</li></ul>" in out
    assert "<pre>[ 1 &lt; 2 ]</pre>" in out and "<p>1. step</p>" in out


def test_tour_in_process_reports_and_progress(tmp_path):
    lines: list[str] = []
    report = tour(tmp_path / "t", progress=lines.append)
    assert report.ok and report.path == tmp_path / "t" / "index.html"
    assert len(report.checks) == len(EXPECTED_IDS)
    assert all(f.is_file() for f in report.files)
    d = report.as_dict()
    assert d["passed"] == d["checks"] == len(EXPECTED_IDS) and d["failed"] == []
    assert d["seeds"] == ["000", "001", "002", "003", "004"]
    assert len(lines) == 11 and lines[-1].startswith("tour [11/11] wrote")
    assert re.search(r"\d+/\d+ checks pass", repr(report))


@pytest.mark.parametrize("missing", ["skimage", "PIL"])
def test_missing_extra_raises_importerror_naming_it(tmp_path, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=re.escape("pip install 'upconv[viz]'")):
        tour(tmp_path / "t")
    assert not (tmp_path / "t").exists()  # nothing written


def test_tour_imports_skimage_and_pillow_lazily():
    code = ("import sys, upconv.cli, upconv.explain.tour; "
            "print(sorted(m for m in ('skimage', 'PIL') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


def test_cli_tour_json_and_missing_extra(tmp_path, monkeypatch, capsys):
    from upconv.cli import main

    assert main(["tour", "--out", str(tmp_path / "j"), "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert err == "" and d["passed"] == len(EXPECTED_IDS) and Path(d["path"]).is_file()
    monkeypatch.setitem(sys.modules, "skimage", None)
    assert main(["tour", "--out", str(tmp_path / "k")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "pip install 'upconv[viz]'" in err
