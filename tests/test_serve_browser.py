"""`upconv serve` in a real browser: headless Debian Chromium driven by Playwright.

The page only draws what the API returns; these tests check what it shows against the library
(:mod:`upconv.shapes`, :func:`upconv.conv_transpose`, the plans of
:func:`upconv.explain._steps.build`), never against the page itself.  The browser is Debian's
``/usr/bin/chromium`` (``apt-get install chromium``); Playwright's own browser download is not
used.  Screenshots go to ``$UPCONV_ARTIFACTS`` or ``out/artifacts/``.
"""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import upconv
from upconv import shapes
from upconv.explain._steps import Plan, build, fmt_num

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 900}
OUT_KINDS = '[data-kind="output"], svg#dst [data-cell][data-kind="extra"]'


def _artifacts() -> Path:
    env = os.environ.get("UPCONV_ARTIFACTS")
    path = Path(env) if env else ROOT / "out" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn in a subprocess on a free loopback port."""
    port = _free_port()
    cwd = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "upconv.serve:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/api/meta", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    out = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"the app did not answer on {base}: {out}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium); Playwright's own download is not used"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT, base_url=server)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(10_000)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _open(pg: Any, query: str = "") -> None:
    pg.goto("/" + (f"?{query}" if query else ""))
    pg.wait_for_selector('body[data-ready="1"][data-busy="0"]')


def _settled(pg: Any) -> None:
    """Wait until the last parameter change has been fetched and drawn."""
    pg.wait_for_timeout(150)  # the page debounces changes by 90 ms
    pg.wait_for_selector('body[data-busy="0"]')


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def _shot(pg: Any, name: str, full_page: bool = False) -> Path:
    path = _artifacts() / name
    pg.screenshot(path=str(path), full_page=full_page)
    w, h = _png_size(path)
    assert w == VIEWPORT["width"]
    assert h == VIEWPORT["height"] if not full_page else h >= VIEWPORT["height"] // 2
    return path


def _flat(cell: tuple[int, ...], lo: tuple[int, ...], hi: tuple[int, ...]) -> int:
    """Row-major index of ``cell`` in the canvas ``lo <= cell < hi`` (the contract's address)."""
    f = 0
    for c, a, b in zip(cell, lo, hi, strict=True):
        assert a <= c < b
        f = f * (b - a) + (c - a)
    return f


def _cells(pg: Any, selector: str) -> set[int]:
    return {int(v) for v in pg.eval_on_selector_all(
        selector, "els => els.map(e => e.dataset.cell)")}


def _values(pg: Any, svg: str) -> list[str]:
    return list(pg.eval_on_selector_all(
        f"svg#{svg} [data-cell]", "els => els.map(e => e.dataset.value)"))


def _api(server: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(server + path, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.load(r)


# ---------------------------------------------------------------------------------------------


def test_page_loads_offline_and_draws(page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    _open(page)
    assert page.is_hidden("#error")
    assert page.inner_text("#shapes").strip()
    assert page.locator("svg#src [data-cell]").count() > 0
    assert page.locator("svg#dst [data-cell]").count() > 0
    # nothing is fetched from outside the server (no CDN, no fonts)
    base = page.url.split("/?")[0].rstrip("/")
    outside = [u for u in requested if not u.startswith(base) and not u.startswith("data:")]
    assert not outside, outside
    path = _shot(page, "serve_default.png")
    assert path.exists()


@pytest.mark.parametrize("stride", [3, 1])
def test_stride_slider_sets_shapes_and_cells(page: Any, stride: int) -> None:
    _open(page, "op=conv_transpose&input_size=5,5&kernel_size=3,3&stride=2,2&padding=1,1"
                "&output_padding=0,0&values=none")
    page.fill("input[name=stride0]", str(stride))  # linked: moves both dimensions
    _settled(page)
    want = upconv.conv_transpose_output_size((5, 5), 3, stride=stride, padding=1)
    assert isinstance(want, tuple)
    page.wait_for_function("s => document.querySelector('#shapes').textContent.includes(s)",
                           arg="×".join(map(str, want)))
    assert page.locator("svg#dst [data-cell]" + OUT_KINDS).count() == math.prod(want)
    assert page.input_value("input[data-for=stride0]") == str(stride)


def test_rectangular_unlinked_slider(page: Any) -> None:
    # different values per dimension in the URL unlink the sliders
    _open(page, "op=conv_transpose&input_size=3,5&kernel_size=3,2&stride=2,3&padding=1,0"
                "&output_padding=1,0&values=none")
    page.fill("input[name=stride1]", "1")
    _settled(page)
    want = upconv.conv_transpose_output_size((3, 5), (3, 2), stride=(2, 1), padding=(1, 0),
                                             output_padding=(1, 0))
    assert isinstance(want, tuple)
    page.wait_for_function("s => document.querySelector('#shapes').textContent.includes(s)",
                           arg="×".join(map(str, want)))
    assert page.locator("svg#dst [data-cell]" + OUT_KINDS).count() == math.prod(want)
    assert page.locator('svg#dst [data-cell][data-kind="extra"]').count() == want[1]


CASES: dict[str, tuple[str, dict[str, Any], tuple[int, ...]]] = {
    "conv_transpose scatter": (
        "op=conv_transpose&view=scatter&input_size=3,4&kernel_size=3,3&stride=2,2&padding=1,1"
        "&output_padding=1,1&values=range",
        {"op": "conv_transpose", "input_size": (3, 4), "kernel_size": 3, "stride": 2,
         "padding": 1, "output_padding": 1, "view": "scatter"}, (2, 3)),
    "conv_transpose direct": (
        "op=conv_transpose&view=direct&input_size=3,3&kernel_size=3,3&stride=2,2&padding=1,1"
        "&output_padding=0,0&values=range",
        {"op": "conv_transpose", "input_size": (3, 3), "kernel_size": 3, "stride": 2,
         "padding": 1, "output_padding": 0, "view": "direct"}, (1, 2)),
    "conv": (
        "op=conv&input_size=5,6&kernel_size=3,2&stride=1,2&padding=1,1&dilation=2,1"
        "&values=range",
        {"op": "conv", "input_size": (5, 6), "kernel_size": (3, 2), "stride": (1, 2),
         "padding": 1, "dilation": (2, 1)}, (1, 1)),
}


def _expected(plan: Plan, out_cell: tuple[int, ...]) -> tuple[set[int], set[int]]:
    """Source cells and kernel taps that land in ``out_cell``, from the library's plan."""
    src, taps = set(), set()
    assert plan.kernel_size is not None
    for step in plan.steps:
        for t in step.taps:
            if t.dst == out_cell:
                src.add(_flat(t.src, plan.src_lo, plan.src_hi))
                if t.kernel is not None:
                    taps.add(_flat(t.kernel, (0,) * plan.ndim, plan.kernel_size))
    return src, taps


@pytest.mark.parametrize("case", list(CASES))
def test_hover_highlights_what_the_library_says(page: Any, case: str) -> None:
    query, kwargs, out_cell = CASES[case]
    _open(page, query)
    plan = build("test", numbers=True, **kwargs)
    d = _flat(out_cell, plan.dst_lo, plan.dst_hi)
    cell = f'svg#dst [data-cell="{d}"]'
    assert page.get_attribute(cell, "data-kind") == plan.dst_kind(out_cell)
    page.hover(cell)
    want_src, want_taps = _expected(plan, out_cell)
    assert want_src
    assert _cells(page, "svg#src [data-cell].hl") == want_src
    assert _cells(page, "svg#kernel [data-cell].hl") == want_taps
    value = plan.accumulate()[out_cell]
    formula = page.inner_text("#formula")
    assert f"= {fmt_num(value)}" in formula, (formula, value)
    assert page.get_attribute(cell, "data-value") == fmt_num(value)

    # hover an input cell: the output cells it reaches
    s_cell = next(iter(sorted(want_src)))
    page.hover(f'svg#src [data-cell="{s_cell}"]')
    reach = {_flat(t.dst, plan.dst_lo, plan.dst_hi) for st in plan.steps for t in st.taps
             if _flat(t.src, plan.src_lo, plan.src_hi) == s_cell}
    assert _cells(page, "svg#dst [data-cell].hl") == reach

    # click pins: moving away keeps the highlight, Esc clears it
    page.click(cell)
    page.hover("#shapes")
    assert _cells(page, "svg#src [data-cell].hl") == want_src
    page.wait_for_function("() => location.search.includes('pin=dst')")
    page.keyboard.press("Escape")
    assert _cells(page, "svg#src [data-cell].hl") == set()
    if case == "conv_transpose scatter":
        _shot(page, "serve_hover.png")


def test_seed_example_values(page: Any) -> None:
    """Seed 002: x = [[1, 2], [3, 4]], a 2×2 kernel of 5s, numbers shown in the cells."""
    _open(page, "op=conv_transpose&input_size=2,2&kernel_size=2,2&stride=1,1&padding=0,0"
                "&output_padding=0,0&input_values=1,2,3,4&kernel_values=5")
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.full((2, 2), 5.0)
    want = upconv.conv_transpose(x[None, None], w[None, None])[0, 0]
    np.testing.assert_array_equal(want, [[5, 15, 10], [20, 50, 30], [15, 35, 20]])
    assert _values(page, "src") == [fmt_num(v) for v in x.ravel()]
    assert _values(page, "kernel") == ["5"] * 4
    assert _values(page, "dst") == [fmt_num(v) for v in want.ravel()]
    page.hover('svg#dst [data-cell="4"]')
    assert page.inner_text("#formula").startswith("y[1, 1] = 1·5 + 2·5 + 3·5 + 4·5 = 50")
    _shot(page, "serve_seed.png")
    # values "range" (input 1..n, kernel of ones): the library's result on those arrays
    page.fill("#kernel_values", "")
    page.dispatch_event("#kernel_values", "change")
    _settled(page)
    page.wait_for_function("() => !location.search.includes('kernel_values')")
    ones = upconv.conv_transpose(x[None, None], np.ones((1, 1, 2, 2)))[0, 0]
    assert _values(page, "dst") == [fmt_num(v) for v in ones.ravel()]
    # values "none": no numbers
    page.select_option("#values", "none")
    page.fill("#input_values", "")
    page.dispatch_event("#input_values", "change")
    _settled(page)
    page.wait_for_function("() => location.search.includes('values=none')")
    assert set(_values(page, "dst")) == {""}
    assert set(_values(page, "src")) == {""}


def test_url_state_round_trip(page: Any, browser: Any, server: str) -> None:
    _open(page)
    page.select_option("#op", "conv")
    _settled(page)
    page.fill("input[name=kernel_size0]", "2")
    page.fill("input[name=padding0]", "1")
    page.select_option("#values", "random")
    _settled(page)
    page.fill("input[name=stride0]", "3")
    _settled(page)
    page.wait_for_function("() => location.search.includes('stride=3%2C3')")
    url = page.url
    shapes, cells = page.inner_text("#shapes"), _values(page, "dst")
    assert "op=conv" in url and "values=random" in url
    kinds = page.eval_on_selector_all("svg#src [data-cell]",
                                      "els => els.map(e => e.dataset.kind)")
    src_values = _values(page, "src")
    shown = {float(v) for v, k in zip(src_values, kinds, strict=True) if k == "input"}
    assert shown <= {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0}, src_values
    ctx = browser.new_context(viewport=VIEWPORT)
    other = ctx.new_page()
    try:
        other.goto(url)
        other.wait_for_selector('body[data-ready="1"][data-busy="0"]')
        assert other.input_value("#op") == "conv"
        assert other.input_value("input[name=stride0]") == "3"
        assert other.input_value("input[name=kernel_size0]") == "2"
        assert other.input_value("#values") == "random"
        assert other.inner_text("#shapes") == shapes
        assert _values(other, "dst") == cells
        assert other.url == url
    finally:
        ctx.close()
    want = upconv.conv_output_size((4, 4), 2, stride=3, padding=1)
    assert isinstance(want, tuple)
    assert page.locator("svg#dst [data-cell]" + OUT_KINDS).count() == math.prod(want)


def test_api_errors_are_shown(page: Any) -> None:
    # a 400 from the library: the kernel is larger than the padded input
    _open(page, "op=conv&input_size=2,2&kernel_size=5,5&stride=1,1&padding=0,0")
    assert page.is_visible("#error")
    text = page.inner_text("#error")
    assert "400" in text and "kernel" in text.lower(), text
    _shot(page, "serve_error.png")
    # fixing the parameter clears it
    page.fill("input[name=kernel_size0]", "2")
    _settled(page)
    page.wait_for_selector("#error", state="hidden")
    assert page.locator("svg#dst [data-cell]" + OUT_KINDS).count() == 1
    # the matrix panel shows the server's 400 for a case over its cap (64 cells)
    _open(page, "op=conv&input_size=10,10&kernel_size=3,3&stride=1,1&padding=0,0")
    page.wait_for_selector("#matrix-text .err")
    assert "64" in page.inner_text("#matrix-text")
    assert page.is_hidden("#error")
    # a 422 (outside the schema's bounds) is shown as well
    _open(page, "op=conv&input_size=99,99&kernel_size=3,3")
    assert page.is_visible("#error")
    assert "422" in page.inner_text("#error") or "400" in page.inner_text("#error")


def test_play_and_scrub_walk_the_library_steps(page: Any) -> None:
    # k3 s2 p1: the canvas has a border cropped by padding, where products land too
    _open(page, "op=conv_transpose&input_size=2,2&kernel_size=3,3&stride=2,2&padding=1,1"
                "&output_padding=0,0&values=range&step=0&speed=6")
    plan = build("test", "conv_transpose", (2, 2), 3, 2, 1, numbers=True)
    assert page.input_value("#scrub") == "0"
    assert page.get_attribute("#scrub", "max") == str(len(plan.steps))
    page.click("#play")
    page.wait_for_function("() => Number(document.querySelector('#scrub').value) >= 1")
    page.click("#play")  # pause
    page.fill("#scrub", "2")
    assert page.inner_text("#step-text").strip()
    step = plan.steps[1]
    assert _cells(page, "svg#dst [data-cell].cur") == {
        _flat(c, plan.dst_lo, plan.dst_hi) for c in step.targets}
    # the output fills in: what the first two steps have written so far
    sums = plan.canvas_sums(2)
    shown = _values(page, "dst")
    for cell, v in sums.items():
        assert shown[_flat(cell, plan.dst_lo, plan.dst_hi)] == fmt_num(v)
    assert any(plan.dst_kind(c) == "crop" for c in sums)
    canvas = [tuple(a + b for a, b in zip(c, plan.dst_lo, strict=True))
              for c in np.ndindex(*(h - lo for lo, h in zip(plan.dst_lo, plan.dst_hi,
                                                            strict=True)))]
    untouched = {_flat(c, plan.dst_lo, plan.dst_hi) for c in canvas if c not in sums}
    assert untouched
    assert all(shown[f] == "" for f in untouched)
    page.click("#next")
    assert page.input_value("#scrub") == "3"
    page.wait_for_function("() => location.search.includes('step=3')")


def test_panels_show_the_api(page: Any, server: str) -> None:
    _open(page, "op=conv_transpose&input_size=3,3&kernel_size=3,3&stride=2,2&padding=1,1"
                "&output_padding=0,0&values=range&in_channels=4&out_channels=6&groups=2")
    body = {"op": "conv_transpose", "input_size": [3, 3], "kernel_size": [3, 3],
            "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "output_padding": [0, 0],
            "in_channels": 4, "out_channels": 6, "groups": 2, "values": "range"}
    code = _api(server, "/api/code", body)
    page.wait_for_function("() => document.querySelector('#code-text').textContent.length > 0")
    torch_code = next(f["code"] for f in code["frameworks"] if f["framework"] == "torch")
    assert page.inner_text("#code-text").strip() == torch_code.strip()
    page.click('#code-tabs button[data-fw="keras"]')
    keras = next(f["code"] for f in code["frameworks"] if f["framework"] == "keras")
    assert page.inner_text("#code-text").strip() == keras.strip()
    # connectivity: groups=2 joins each output channel to in/groups = 2 inputs
    assert page.locator("svg#groups line").count() == 6 * (4 // 2)
    # checkerboard of k3 s2: the library's overlap counts
    counts = upconv.shapes.checkerboard_counts(3, 2)
    page.wait_for_selector("svg#checker [data-cell]")
    shown = page.eval_on_selector_all("svg#checker [data-cell]",
                                      "els => els.map(e => Number(e.dataset.count))")
    assert sorted(set(shown)) == sorted({a * b for a in counts for b in counts})
    # matrix C of a 3×3 → 5×5 transposed conv: nonzero entries from upconv.conv_matrix
    page.wait_for_selector("svg#matrix rect.mat-cell")
    n_entries = page.locator("svg#matrix rect.mat-cell").count()
    plan = build("test", "conv_transpose", (3, 3), 3, 2, 1, numbers=True)
    assert n_entries == sum(1 for st in plan.steps for t in st.taps if t.output is not None)


def test_target_output_size_is_solved_by_the_library(page: Any) -> None:
    _open(page, "op=conv_transpose&input_size=7,7&kernel_size=3,3&stride=1,1&padding=0,0"
                "&output_padding=0,0&values=none")
    page.fill("#target", "14")
    page.click("#solve")
    page.wait_for_selector("#solutions button[data-solution]")
    want = shapes.solve_conv_transpose(7, 14)
    assert isinstance(want, list) and want
    assert page.locator("#solutions button[data-solution]").count() == min(20, len(want))
    for i in (0, 1):
        page.click(f"#solutions button[data-solution='{i}']")
        _settled(page)
        sol = want[i]
        for name in ("kernel_size", "stride", "padding", "output_padding"):
            assert page.input_value(f"input[data-for={name}0]") == str(getattr(sol, name)), name
        page.wait_for_function("s => document.querySelector('#shapes').textContent.includes(s)",
                               arg="14×14")
        assert page.locator("svg#dst [data-cell]" + OUT_KINDS).count() == 14 * 14
