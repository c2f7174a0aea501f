"""Rendering helpers: a layout of cell grids, display lists, and two back ends (Pillow, SVG).

A frame is a list of primitives (:class:`Rect`, :class:`Line`, :class:`Text`) in pixel
coordinates from one :class:`Layout`, so the GIF/PNG frames (Pillow, imported only here and
only when called) and the SVG/HTML frames show the same boxes at the same places.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Cell = tuple[int, ...]
Box = tuple[int, int, int, int]

# Colour names -> hex.  Input (blues) and output (oranges) never share a hue: the
# conv_arithmetic pictures' blue-on-cyan was their most reported confusion.
COLOURS: dict[str, str] = {
    "background": "#ffffff",
    "text": "#1a1a1a",
    "muted": "#707070",
    "white": "#ffffff",
    "grid": "#8c8c8c",
    "input": "#9ecae1",
    "input_hi": "#08519c",
    "output_empty": "#fff3e6",
    "output": "#fdae6b",
    "output_hi": "#d94801",
    "kernel": "#c7e9c0",
    "kernel_hi": "#41ab5d",
    "window": "#00441b",
    "pad": "#f0f0f0",
    "zero": "#e3d9f0",
    "crop": "#cccccc",
    "crop_hi": "#525252",
    "extra": "#fee391",
}
DARK = frozenset({"input_hi", "output_hi", "crop_hi", "window", "kernel_hi"})
_NAMES = tuple(COLOURS)
PALETTE_INDEX = {name: i for i, name in enumerate(_NAMES)}

FONT_SIZE = 12
CHAR_W = 6.3  # estimated advance of the fonts at FONT_SIZE (layout only; SVG is the wider)
LINE_H = 17
MARGIN = 12
GAP = 28

# Glyphs the default Pillow font lacks, and their ASCII stand-ins (SVG keeps the originals).
_ASCII = str.maketrans({"′": "'", "−": "-", "×": "x", "→": "->", "←": "<-", "ĩ": "i~",
                        "⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")", "Σ": "sum",
                        "–": "-"})


def rgb(name: str) -> tuple[int, int, int]:
    """The ``(r, g, b)`` of a colour name.

    Examples
    --------
    >>> rgb("input_hi")
    (8, 81, 156)
    """
    h = COLOURS[name]
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def text_width(text: str, size: int = FONT_SIZE) -> int:
    """Estimated pixel width of ``text`` (used for layout by both back ends)."""
    return int(len(text) * CHAR_W * size / FONT_SIZE) + 2


@dataclass(frozen=True)
class Rect:
    """A filled rectangle, ``x1``/``y1`` exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int
    fill: str | None
    outline: str | None = "grid"
    width: int = 1


@dataclass(frozen=True)
class Line:
    """A straight line."""

    x0: int
    y0: int
    x1: int
    y1: int
    colour: str
    width: int = 1


@dataclass(frozen=True)
class Text:
    """Text at ``(x, y)``: ``anchor`` ``'l'`` puts its left middle there, ``'m'`` its centre."""

    x: int
    y: int
    text: str
    colour: str = "text"
    anchor: str = "l"
    size: int = FONT_SIZE


Prim = Rect | Line | Text


@dataclass(frozen=True)
class Grid:
    """One drawn grid: canvas cells ``lo <= cell < hi`` with cell ``lo`` at pixel ``(x, y)``."""

    name: str
    label: str
    lo: Cell
    hi: Cell
    x: int
    y: int
    cell: int

    @property
    def rows(self) -> int:
        """Drawn rows (1 for a 1-d grid)."""
        return 1 if len(self.lo) == 1 else self.hi[0] - self.lo[0]

    @property
    def cols(self) -> int:
        """Drawn columns."""
        return self.hi[-1] - self.lo[-1]

    def box(self, cell: Cell) -> Box:
        """Pixel box ``(x0, y0, x1, y1)`` of ``cell`` (``x1``, ``y1`` exclusive)."""
        if len(cell) != len(self.lo) or not all(
            a <= c < b for a, c, b in zip(self.lo, cell, self.hi, strict=True)
        ):
            raise KeyError(f"cell {cell} is not drawn on grid {self.name!r} "
                           f"(cells {self.lo} to {tuple(h - 1 for h in self.hi)})")
        row = 0 if len(cell) == 1 else cell[0] - self.lo[0]
        col = cell[-1] - self.lo[-1]
        x0, y0 = self.x + col * self.cell, self.y + row * self.cell
        return x0, y0, x0 + self.cell, y0 + self.cell


@dataclass
class Layout:
    """Where everything of a frame goes, in pixels.

    ``box(grid, cell)`` is the pixel box of a cell in the coordinates of the array the grid
    depicts (see :mod:`upconv.explain._steps`); ``probe(grid, cell)`` a pixel inside it that
    carries the cell's fill colour (away from its outline and its number).
    """

    width: int
    height: int
    cell: int
    grids: dict[str, Grid]
    header_y: list[int] = field(default_factory=list)
    legend_y: int = 0
    caption_y: list[int] = field(default_factory=list)

    def box(self, grid: str, cell: Sequence[int]) -> Box:
        """Pixel box ``(x0, y0, x1, y1)`` of ``cell`` on ``grid`` (exclusive ends)."""
        return self.grids[grid].box(tuple(cell))

    def probe(self, grid: str, cell: Sequence[int]) -> tuple[int, int]:
        """A pixel inside the cell showing its fill colour."""
        x0, y0, _, _ = self.box(grid, cell)
        return x0 + 5, y0 + 5


def make_layout(
    header: Sequence[str],
    grids: Sequence[tuple[str, str, Cell, Cell]],
    *,
    cell: int,
    caption_lines: int,
    legend_width: int,
) -> Layout:
    """Place the header, the grids (side by side in 2-d, stacked in 1-d), legend and caption."""
    ndim = len(grids[0][2])
    y = MARGIN
    header_y = []
    for _ in header:
        header_y.append(y + LINE_H // 2)
        y += LINE_H
    y += 8
    placed: dict[str, Grid] = {}
    content_w = max((text_width(h) for h in header), default=0)
    if ndim == 1:
        label_w = max(text_width(label) for _, label, _, _ in grids) + 10
        for name, label, lo, hi in grids:
            y += LINE_H  # the grid's label row
            placed[name] = Grid(name, label, lo, hi, MARGIN, y, cell)
            content_w = max(content_w, (hi[0] - lo[0]) * cell, label_w)
            y += cell + 10
    else:
        x = MARGIN
        tallest = max((hi[0] - lo[0]) * cell for _, _, lo, hi in grids)
        y += LINE_H
        for name, label, lo, hi in grids:
            w = (hi[1] - lo[1]) * cell
            h = (hi[0] - lo[0]) * cell
            top = y + (tallest - h) // 2
            placed[name] = Grid(name, label, lo, hi, x, top, cell)
            x += max(w, text_width(label)) + GAP
        content_w = max(content_w, x - GAP - MARGIN)
        y += tallest + 10
    legend_y = y + LINE_H // 2
    y += LINE_H + 4
    content_w = max(content_w, legend_width)
    caption_y = []
    for _ in range(caption_lines):
        caption_y.append(y + LINE_H // 2)
        y += LINE_H
    return Layout(content_w + 2 * MARGIN, y + MARGIN - 4, cell, placed, header_y, legend_y,
                  caption_y)


def wrap(text: str, width: int, indent: str = "    ") -> list[str]:
    """Split ``text`` at spaces into lines of at most ``width`` estimated pixels.

    Continuation lines start with ``indent``.
    """
    words, lines, line = text.split(" "), [], ""
    for word in words:
        trial = f"{line} {word}" if line else word
        if line and text_width(trial) > width:
            lines.append(line)
            line = indent + word
        else:
            line = trial
    lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# Pillow back end


def _pil() -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as err:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(
            "upconv.explain needs Pillow to write GIF and PNG files; install it with "
            "pip install 'upconv[viz]'"
        ) from err
    return Image, ImageDraw, ImageFont


class PillowCanvas:
    """Draw display lists onto palette ("P") images: exact colours, fast GIF encoding."""

    def __init__(self, width: int, height: int) -> None:
        self.Image, self.ImageDraw, ImageFont = _pil()
        self.width, self.height = width, height
        self._fonts: dict[int, Any] = {}
        self._masks: dict[tuple[str, int], Any] = {}
        self._font_mod = ImageFont
        palette: list[int] = []
        for name in _NAMES:
            palette.extend(rgb(name))
        self.palette = palette + [0] * (768 - len(palette))

    def font(self, size: int) -> Any:
        """The default font at ``size`` (the bitmap default when FreeType is missing)."""
        if size not in self._fonts:
            try:
                self._fonts[size] = self._font_mod.load_default(size=size)
            except (TypeError, ValueError, ImportError, OSError):
                self._fonts[size] = self._font_mod.load_default()
        return self._fonts[size]

    def new(self) -> Any:
        """A blank frame."""
        im = self.Image.new("P", (self.width, self.height), PALETTE_INDEX["background"])
        im.putpalette(self.palette)
        return im

    def _mask(self, text: str, size: int) -> Any:
        key = (text, size)
        if key not in self._masks:
            font = self.font(size)
            try:  # FreeType: measure as drawn without antialiasing (mode "1" is wider)
                x0, y0, x1, y1 = font.getbbox(text, mode="1")
            except TypeError:
                x0, y0, x1, y1 = font.getbbox(text)
            m = self.Image.new("1", (max(x1 - x0, 1), max(y1 - y0, 1)), 0)
            self.ImageDraw.Draw(m).text((-x0, -y0), text, fill=1, font=font)
            self._masks[key] = m
        return self._masks[key]

    def draw(self, im: Any, prims: Sequence[Prim]) -> None:
        """Draw ``prims`` onto ``im`` in order."""
        draw = self.ImageDraw.Draw(im)
        idx = PALETTE_INDEX
        for p in prims:
            if isinstance(p, Rect):
                draw.rectangle(
                    (p.x0, p.y0, p.x1 - 1, p.y1 - 1),
                    fill=None if p.fill is None else idx[p.fill],
                    outline=None if p.outline is None else idx[p.outline],
                    width=p.width,
                )
            elif isinstance(p, Line):
                draw.line((p.x0, p.y0, p.x1, p.y1), fill=idx[p.colour], width=p.width)
            else:
                text = p.text.translate(_ASCII)
                if not text:
                    continue
                m = self._mask(text, p.size)
                w, h = m.size
                x = p.x - w // 2 if p.anchor == "m" else p.x
                y = p.y - h // 2
                im.paste(idx[p.colour], (x, y, x + w, y + h), m)


def pillow_frames(width: int, height: int, static: Sequence[Prim],
                  frames: Sequence[Sequence[Prim]]) -> list[Any]:
    """Render every frame as a palette image: the static part, then frames 0..n in turn."""
    canvas = PillowCanvas(width, height)
    base = canvas.new()
    canvas.draw(base, static)
    out = []
    im = base
    for prims in frames:  # each frame paints over the previous one
        im = im.copy()
        canvas.draw(im, prims)
        out.append(im)
    return out


# ---------------------------------------------------------------------------------------------
# SVG back end


def svg_elements(prims: Sequence[Prim]) -> str:
    """SVG markup of a display list."""
    parts = []
    for p in prims:
        if isinstance(p, Rect):
            fill = "none" if p.fill is None else COLOURS[p.fill]
            stroke = "" if p.outline is None else (
                f' stroke="{COLOURS[p.outline]}" stroke-width="{p.width}"')
            inset = p.width / 2 if p.outline is not None else 0
            parts.append(
                f'<rect x="{p.x0 + inset:g}" y="{p.y0 + inset:g}" '
                f'width="{p.x1 - p.x0 - 2 * inset:g}" height="{p.y1 - p.y0 - 2 * inset:g}" '
                f'fill="{fill}"{stroke}/>'
            )
        elif isinstance(p, Line):
            parts.append(f'<line x1="{p.x0}" y1="{p.y0}" x2="{p.x1}" y2="{p.y1}" '
                         f'stroke="{COLOURS[p.colour]}" stroke-width="{p.width}"/>')
        elif p.text:
            anchor = "middle" if p.anchor == "m" else "start"
            parts.append(
                f'<text x="{p.x}" y="{p.y}" font-size="{p.size}" text-anchor="{anchor}" '
                f'dominant-baseline="central" fill="{COLOURS[p.colour]}">'
                f"{html.escape(p.text)}</text>"
            )
    return "".join(parts)


def svg_document(width: int, height: int, static: Sequence[Prim],
                 frames: Sequence[Sequence[Prim]], *, durations: Sequence[float], uid: str,
                 standalone: bool) -> str:
    """One SVG holding every frame as a ``<g class="upconv-frame">``, animated by CSS.

    Frames are cumulative layers: frame ``n`` paints what changed since frame ``n - 1``,
    so it stays visible from its start time to the end of the loop (a ``visibility``
    keyframe animation with a per-frame delay), over the frames before it.
    """
    total = sum(durations)
    rules = [
        f"#{uid} .upconv-frame{{visibility:hidden}}",
        f"#{uid}.upconv-playing .upconv-frame{{animation:{uid}-show {total:.3f}s step-end "
        "infinite}",
        f"#{uid} .upconv-frame.upconv-shown{{visibility:visible}}",
    ]
    start = 0.0
    groups = []
    for n, (prims, dur) in enumerate(zip(frames, durations, strict=True)):
        pct = 100.0 * (total - start) / total
        # each frame gets its own keyframes: visible for its share of the loop
        rules.append(f"@keyframes {uid}-show{n}{{0%{{visibility:visible}}"
                     f"{pct:.4f}%{{visibility:hidden}}100%{{visibility:hidden}}}}")
        rules.append(f"#{uid}.upconv-playing .upconv-f{n}{{animation-name:{uid}-show{n};"
                     f"animation-delay:{start:.3f}s}}")
        groups.append(f'<g class="upconv-frame upconv-f{n}" data-frame="{n}">'
                      f"{svg_elements(prims)}</g>")
        start += dur
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    root = f' id="{uid}" class="upconv-playing"' if standalone else ""
    return (
        f'<svg{ns}{root} width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif">'
        f"<style>{''.join(rules)}</style>"
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{COLOURS["background"]}"/>'
        f"{svg_elements(static)}{''.join(groups)}</svg>"
    )


_SCRIPT = """(function(){var r=document.getElementById('%(uid)s');if(!r)return;
var d=[%(durations)s],T=0,t0=performance.now(),i;for(i=0;i<d.length;i++)T+=d[i];
var f=r.querySelectorAll('.upconv-frame'),s=r.querySelector('input'),b=r.querySelector('button');
function now(){var e=(performance.now()-t0)%%T,n=0;while(n<d.length-1&&e>=d[n]){e-=d[n];n++;}
return n;}
function show(n){r.classList.remove('upconv-playing');b.textContent='play';
for(var i=0;i<f.length;i++)f[i].classList.toggle('upconv-shown',i<=n);s.value=n;}
s.addEventListener('input',function(){show(+s.value);});
b.addEventListener('click',function(){if(r.classList.contains('upconv-playing')){show(now());}
else{for(var i=0;i<f.length;i++)f[i].classList.remove('upconv-shown');t0=performance.now();
r.classList.add('upconv-playing');b.textContent='pause';}});})();"""


def html_fragment(svg: str, uid: str, durations: Sequence[float], title: str) -> str:
    """An animated, self-contained HTML block: the SVG, a pause button and a frame slider.

    Without JavaScript (an untrusted notebook) the CSS animation still plays.
    """
    ms = ",".join(str(round(d * 1000)) for d in durations)
    return (
        f'<div id="{uid}" class="upconv-animation upconv-playing" '
        f'style="font-family:sans-serif;font-size:12px">{svg}'
        f'<div><button type="button">pause</button> '
        f'<input type="range" min="0" max="{len(durations) - 1}" value="0" '
        f'aria-label="frame of {html.escape(title)}"></div>'
        f"<script>{_SCRIPT % {'uid': uid, 'durations': ms}}</script></div>"
    )
