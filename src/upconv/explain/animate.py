"""Animations of any convolution, transposed convolution, pooling, unpooling or resize.

Every frame is drawn from the index map of :mod:`upconv.explain._steps`, the same steps whose
products sum to the operation's output (the tests check the sums against :mod:`upconv` and
PyTorch), so a picture cannot disagree with the math.  Input cells are blue and output cells
orange, each grid is labelled, padding sits on the side it is applied to (``output_padding``
and the larger half of asymmetric padding at the end: right/bottom), and the cases the
conv_arithmetic GIFs never drew (dilated transposed convolution, ``output_padding``, padding
larger than ``k - 1``, asymmetric padding, rectangular sizes, 1-d) are drawn like any other.

Formats: GIF and PNG strip (Pillow), animated SVG and self-contained HTML (plain text, no
Pillow needed).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ShapeError, check_int
from . import _draw
from ._draw import Layout, Prim, Rect, Text
from ._steps import Cell, Plan, Step, build, choices, describe, fmt_num

FORMATS = ("gif", "html", "svg", "png")
_COUNTER = itertools.count()
_SUFFIXES = {".gif": "gif", ".html": "html", ".htm": "html", ".svg": "svg", ".png": "png"}


def _numerical(size: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    # conv_arithmetic's numerical figures draw their numbers with numpy.random.seed(1234):
    # randint(0, 4) for the input, then randint(0, 3) for the kernel.  Same seed, same numbers.
    rng = np.random.RandomState(1234)
    x = rng.randint(0, 4, size=(size, size))
    w = rng.randint(0, 3, size=(k, k))
    return x, w


def _presets() -> dict[str, dict[str, Any]]:
    # (name, conv input i, padding p, kernel k, stride s, dilation d) from
    # vdumoulin/conv_arithmetic bin/generate_makefile; each "_transposed" case draws the
    # transpose of that convolution: input o = conv output, output i (output_padding restores
    # i when (i + 2p - k) is not a multiple of s), in the direct view the guide draws.
    cases = [
        ("no_padding_no_strides", 4, 0, 3, 1, 1),
        ("arbitrary_padding_no_strides", 5, 2, 4, 1, 1),
        ("same_padding_no_strides", 5, 1, 3, 1, 1),
        ("full_padding_no_strides", 5, 2, 3, 1, 1),
        ("no_padding_strides", 5, 0, 3, 2, 1),
        ("padding_strides", 5, 1, 3, 2, 1),
        ("padding_strides_odd", 6, 1, 3, 2, 1),
    ]
    out: dict[str, dict[str, Any]] = {}
    for name, i, p, k, s, d in cases:
        o = (i + 2 * p - d * (k - 1) - 1) // s + 1
        a = (i + 2 * p - d * (k - 1) - 1) % s
        out[name] = {"op": "conv", "input_size": (i, i), "kernel_size": k, "stride": s,
                     "padding": p, "dilation": d}
        out[name + "_transposed"] = {
            "op": "conv_transpose", "input_size": (o, o), "kernel_size": k, "stride": s,
            "padding": p, "dilation": d, "output_padding": a, "view": "direct"}
    out["dilation"] = {"op": "conv", "input_size": (7, 7), "kernel_size": 3, "stride": 1,
                       "padding": 0, "dilation": 2}
    for name, op, i, p, k, s in [
        ("numerical_no_padding_no_strides", "conv", 5, 0, 3, 1),
        ("numerical_padding_strides", "conv", 5, 1, 3, 2),
        ("numerical_average_pooling", "avg_pool", 5, 0, 3, 1),
        ("numerical_max_pooling", "max_pool", 5, 0, 3, 1),
    ]:
        x, w = _numerical(i, k)
        case: dict[str, Any] = {"op": op, "input_size": (i, i), "kernel_size": k, "stride": s,
                                "padding": p, "values": x}
        if op == "conv":
            case["kernel"] = w
        out[name] = case
    return out


PRESETS: dict[str, dict[str, Any]] = _presets()
"""The 19 animations of vdumoulin/conv_arithmetic, by name, as keyword arguments of
:func:`animate` (``animate(preset="padding_strides_odd_transposed")``)."""


# ---------------------------------------------------------------------------------------------
# Frames


@dataclass(frozen=True)
class Frame:
    """What one frame shows, cell by cell (tests read this rather than pixels).

    Attributes
    ----------
    index : int
        Frame number.
    step : Step or None
        The step drawn (None for the final frame).
    caption : str
        The text under the grids.
    fills : dict
        ``(grid, cell) -> colour name`` for every drawn cell (see ``_draw.COLOURS``).
    labels : dict
        ``(grid, cell) -> text`` of every cell that shows a number.
    window : frozenset
        ``(grid, cell)`` pairs outlined as the step's window or region.
    """

    index: int
    step: Step | None
    caption: str
    fills: dict[tuple[str, Cell], str]
    labels: dict[tuple[str, Cell], str]
    window: frozenset[tuple[str, Cell]] = field(default_factory=frozenset)

    def fill(self, grid: str, cell: Cell) -> str:
        """Colour name of ``cell`` on ``grid``."""
        return self.fills[(grid, tuple(cell))]

    def label(self, grid: str, cell: Cell) -> str:
        """The number shown in ``cell`` ('' when none)."""
        return self.labels.get((grid, tuple(cell)), "")


def _src_input(plan: Plan, cell: Cell) -> Cell | None:
    """The input element drawn at source cell ``cell`` (None for padding and zeros)."""
    if plan.stretch:
        if all(c % s == 0 for c, s in zip(cell, plan.stretch, strict=True)):
            idx = tuple(c // s for c, s in zip(cell, plan.stretch, strict=True))
            if all(0 <= v < n for v, n in zip(idx, plan.input_size, strict=True)):
                return idx
        return None
    if all(0 <= c < n for c, n in zip(cell, plan.input_size, strict=True)):
        return cell
    return None


_SRC_FILL = {"input": "input", "pad": "pad", "zero": "zero", "crop": "crop", "outside": "crop"}
_LEGEND = [
    ("input", "input x"),
    ("output", "output y"),
    ("kernel", "kernel w"),
    ("pad", "padding"),
    ("zero", "inserted zero (stride)"),
    ("crop", "cropped"),
    ("extra", "output_padding (end)"),
]


class Animation:
    """An animation of one operation: frames, their metadata, and writers.

    Built by :func:`animate`.  ``frames`` is the number of frames: one per step of the
    index map (``len(plan.steps)``), plus one final frame showing the finished output when
    ``final`` is set.  ``frame_info[n]`` says what frame ``n`` shows, ``layout`` where
    (``layout.box(grid, cell)`` for grids ``'input'``, ``'kernel'``, ``'output'``), and
    :meth:`save` writes GIF, HTML, SVG or a PNG strip (by default all frames in one row,
    ``frames × width`` pixels wide).  Frames are cumulative: each paints what changed since
    the previous one, in the GIF, the SVG layers and the HTML alike.

    Attributes
    ----------
    plan : Plan
        The index map drawn.
    layout : Layout
        Pixel positions of every cell.
    frame_info : list of Frame
        Per frame: fills, numbers, caption.
    width, height : int
        Frame size in pixels.
    path : pathlib.Path or None
        The last file written by :meth:`save`.
    """

    def __init__(self, plan: Plan, *, cell: int = 32, duration: int = 800,
                 final: bool = True) -> None:
        self.plan = plan
        self.duration = duration
        self.final = final
        self.path: Path | None = None
        self._images: list[Any] | None = None
        self._id: str | None = None
        n = plan.ndim
        kernel = plan.weight is not None or plan.op in ("conv", "conv_transpose")
        states = list(self._states())
        longest = max((len(v) for _, labels in states for v in labels.values()), default=1)
        cell = max(cell, int(longest * _draw.CHAR_W * 0.9) + 8)
        grids: list[tuple[str, str, Cell, Cell]] = [
            ("input", self._grid_label("input"), plan.src_lo, plan.src_hi)]
        if kernel and plan.kernel_size is not None:
            grids.append(("kernel", self._grid_label("kernel"), (0,) * n, plan.kernel_size))
        grids.append(("output", self._grid_label("output"), plan.dst_lo, plan.dst_hi))
        self._legend = self._legend_items(kernel)
        legend_w = sum(_draw.text_width(t) + 26 for _, t in self._legend)
        wrap_w = max(self._content_width(grids, cell), legend_w, 440)
        self.header = [part for line in plan.header for part in _draw.wrap(line, wrap_w)]
        captions = [self._caption(i) for i in range(self._count())]
        wrapped = [_draw.wrap(c, wrap_w) for c in captions]
        self.layout: Layout = _draw.make_layout(
            self.header, grids, cell=cell, caption_lines=max(len(w) for w in wrapped),
            legend_width=legend_w)
        self.width, self.height = self.layout.width, self.layout.height
        self.frame_info: list[Frame] = []
        self._prims: list[list[Prim]] = []
        for i, (written, labels) in enumerate(states):
            self.frame_info.append(self._frame(i, captions[i], labels, written))
        base = self._base()
        self._prims = [self._frame_prims(f, w, self.frame_info[n - 1] if n else None, base)
                       for n, (f, w) in enumerate(zip(self.frame_info, wrapped, strict=True))]
        self._static = self._static_prims()

    # -- construction ---------------------------------------------------------------------

    def _count(self) -> int:
        return len(self.plan.steps) + (1 if self.final else 0)

    @property
    def frames(self) -> int:
        """Number of frames: one per step, plus the final frame."""
        return self._count()

    def _content_width(self, grids: list[tuple[str, str, Cell, Cell]], cell: int) -> int:
        if self.plan.ndim == 1:
            return max((hi[0] - lo[0]) * cell for _, _, lo, hi in grids)
        return sum(max((hi[1] - lo[1]) * cell, _draw.text_width(label)) + _draw.GAP
                   for _, label, lo, hi in grids) - _draw.GAP

    def _grid_label(self, grid: str) -> str:
        p = self.plan
        size = "×".join(map(str, p.input_size))
        if grid == "input":
            if p.view == "direct":
                st = "×".join(map(str, p.params["stretched"]))
                return f"input x {size}, stretched to {st} and padded"
            return f"input x {size}"
        if grid == "kernel":
            ks = "×".join(map(str, p.kernel_size or ()))
            return f"kernel w {ks}" + (", flipped" if p.view == "direct" else "")
        out = "×".join(map(str, p.output_size))
        return f"output y {out}"

    def _legend_items(self, kernel: bool) -> list[tuple[str, str]]:
        p = self.plan
        present = {"input", "output"} | set(p.kinds_src.values()) | set(p.kinds_dst.values())
        if "outside" in present:
            present.add("crop")
        if kernel:
            present.add("kernel")
        return [(name, text) for name, text in _LEGEND if name in present]

    def _states(self) -> Iterator[tuple[frozenset[Cell], dict[tuple[str, Cell], str]]]:
        """Per frame: the destination cells written so far and the numbers shown."""
        p = self.plan
        static: dict[tuple[str, Cell], str] = {}
        if p.x is not None:
            for c, kind in p.kinds_src.items():
                inp = _src_input(p, c)
                if inp is not None:
                    static[("input", c)] = fmt_num(float(p.x[inp]))
                elif kind in ("pad", "zero") and p.op != "max_pool":
                    static[("input", c)] = "0"
        if p.weight is not None:
            k = p.weight.shape
            for c in np.ndindex(*k):
                shown = tuple(n - 1 - v for n, v in zip(k, c, strict=True)) if (
                    p.view == "direct") else c
                static[("kernel", tuple(c))] = fmt_num(p.weight[shown])
        sums: dict[Cell, float] = {}
        for sums in p.running_sums():
            labels = dict(static)
            if p.numbers:
                labels.update((("output", c), fmt_num(v)) for c, v in sums.items())
            yield frozenset(sums), labels
        if self.final:
            labels = dict(static)
            if p.numbers:
                finished = p.accumulate()
                labels.update((("output", c), fmt_num(v)) for c, v in sums.items())
                labels.update((("output", tuple(c)), fmt_num(float(finished[c])))
                              for c in np.ndindex(*p.output_size))
            yield frozenset(p.kinds_dst), labels

    def _caption(self, i: int) -> str:
        p = self.plan
        if i < len(p.steps):
            return f"step {i + 1}/{len(p.steps)}: " + describe(p, p.steps[i])
        size = "×".join(map(str, p.output_size))
        how = (f"the sum of the {len(p.steps)} partial outputs" if p.view == "scatter"
               and p.op == "conv_transpose" else f"all {len(p.steps)} steps done")
        return f"done: output y {size}, {how}"

    def _frame(self, i: int, caption: str, labels: dict[tuple[str, Cell], str],
               written: frozenset[Cell]) -> Frame:
        p = self.plan
        step = p.steps[i] if i < len(p.steps) else None
        fills: dict[tuple[str, Cell], str] = {}
        for c, kind in p.kinds_src.items():
            fills[("input", c)] = _SRC_FILL[kind]
        for c, kind in p.kinds_dst.items():
            if kind == "output":
                fills[("output", c)] = "output" if c in written else "output_empty"
            else:
                fills[("output", c)] = kind
        if p.kernel_size is not None and p.op in ("conv", "conv_transpose"):
            for c in np.ndindex(*p.kernel_size):
                fills[("kernel", tuple(c))] = "kernel"
        window: set[tuple[str, Cell]] = set()
        if step is not None:
            for c in step.sources:
                if len(step.sources) > 1:
                    window.add(("input", c))
            for c in step.region:
                window.add(("output", c))
            for tap in step.taps:
                hit = tap.input is not None and (
                    p.op != "max_pool" or not p.numbers or tap.value is not None)
                if hit:
                    fills[("input", tap.src)] = "input_hi"
                if tap.kernel is not None and p.op in ("conv", "conv_transpose"):
                    useful = tap.input is not None and tap.output is not None
                    shown = tuple(n - 1 - v for n, v in zip(p.kernel_size or (), tap.kernel,
                                                            strict=True)) if (
                        p.view == "direct") else tap.kernel
                    if useful:
                        fills[("kernel", shown)] = "kernel_hi"
            for c in step.targets:
                fills[("output", c)] = "output_hi" if p.dst_kind(c) != "crop" else "crop_hi"
        return Frame(i, step, caption, fills, labels, frozenset(window))

    def _base(self) -> tuple[dict[tuple[str, Cell], str], dict[tuple[str, Cell], str]]:
        """Fills and numbers before any step: drawn once, under every frame."""
        p = self.plan
        fills = {("input", c): _SRC_FILL[k] for c, k in p.kinds_src.items()}
        fills.update((("output", c), "output_empty" if k == "output" else k)
                     for c, k in p.kinds_dst.items())
        if p.kernel_size is not None and p.op in ("conv", "conv_transpose"):
            fills.update((("kernel", tuple(c)), "kernel") for c in np.ndindex(*p.kernel_size))
        labels = {key: text for key, text in self.frame_info[0].labels.items()
                  if key[0] != "output"}
        return fills, labels

    def _cell_prims(self, grid: str, c: Cell, colour: str, text: str) -> list[Prim]:
        x0, y0, x1, y1 = self.layout.box(grid, c)
        prims: list[Prim] = [Rect(x0, y0, x1, y1, colour)]
        if colour in ("crop", "crop_hi"):
            prims.append(_draw.Line(x0 + 2, y1 - 3, x1 - 3, y0 + 2,
                                    "muted" if colour == "crop" else "white"))
        if text:
            ink = "white" if colour in _draw.DARK else (
                "muted" if colour in ("pad", "zero", "crop") else "text")
            prims.append(Text((x0 + x1) // 2, (y0 + y1) // 2, text, ink, "m"))
        return prims

    def _frame_prims(self, frame: Frame, caption: list[str], before: Frame | None,
                     base: tuple[dict[tuple[str, Cell], str], dict[tuple[str, Cell], str]]
                     ) -> list[Prim]:
        """What frame ``frame`` paints over the previous one (frames are cumulative layers).

        Only the cells whose fill, number or window outline changed are redrawn, then the
        caption on a cleared band.
        """
        fills, labels = (base if before is None else (before.fills, before.labels))
        window = frozenset() if before is None else before.window
        prims: list[Prim] = []
        for key, colour in frame.fills.items():
            text = frame.labels.get(key, "")
            if (colour != fills[key] or text != labels.get(key, "")
                    or (key in frame.window) != (key in window)):
                prims += self._cell_prims(key[0], key[1], colour, text)
        for grid, c in frame.window:
            if (grid, c) in window and frame.fills[(grid, c)] == fills[(grid, c)] and (
                    frame.labels.get((grid, c), "") == labels.get((grid, c), "")):
                continue  # unchanged and already outlined
            x0, y0, x1, y1 = self.layout.box(grid, c)
            prims.append(Rect(x0 + 1, y0 + 1, x1 - 1, y1 - 1, None, "window", 3))
            text = frame.labels.get((grid, c), "")
            if text:  # keep the number above the outline
                prims += self._cell_prims(grid, c, frame.fills[(grid, c)], text)[-1:]
        lay = self.layout
        if lay.caption_y:
            top = lay.caption_y[0] - _draw.LINE_H // 2
            prims.append(Rect(0, top, lay.width, top + _draw.LINE_H * len(lay.caption_y),
                              "background", None))
        for y, line in zip(lay.caption_y, caption, strict=False):
            prims.append(Text(_draw.MARGIN, y, line))
        return prims

    def _static_prims(self) -> list[Prim]:
        lay = self.layout
        prims: list[Prim] = []
        fills, labels = self._base()
        for key, colour in fills.items():
            prims += self._cell_prims(key[0], key[1], colour, labels.get(key, ""))
        for y, line in zip(lay.header_y, self.header, strict=True):
            prims.append(Text(_draw.MARGIN, y, line))
        for g in lay.grids.values():
            prims.append(Text(g.x, g.y - _draw.LINE_H // 2 - 2, g.label,
                              {"input": "input_hi", "output": "output_hi"}.get(g.name,
                                                                               "window")))
        x = _draw.MARGIN
        for name, text in self._legend:
            prims.append(Rect(x, lay.legend_y - 6, x + 12, lay.legend_y + 6, name))
            prims.append(Text(x + 16, lay.legend_y, text, "muted"))
            x += _draw.text_width(text) + 26
        return prims

    # -- output -------------------------------------------------------------------------------

    def durations(self) -> list[int]:
        """Milliseconds per frame (the final frame is held three times as long)."""
        d = [self.duration] * self.frames
        if self.final:
            d[-1] = 3 * self.duration
        return d

    def images(self) -> list[Any]:
        """The frames as Pillow palette images (needs Pillow)."""
        if self._images is None:
            self._images = _draw.pillow_frames(self.width, self.height, self._static,
                                               self._prims)
        return self._images

    def _uid(self) -> str:
        # unique per animation in a page (a notebook shows many), stable from run to run
        if self._id is None:
            digest = hashlib.sha1("\n".join(self.header).encode()).hexdigest()[:8]
            self._id = f"upconv-{digest}-{next(_COUNTER)}"
        return self._id

    def to_svg(self) -> str:
        """A standalone animated SVG (CSS keyframes; one ``<g>`` per frame)."""
        return _draw.svg_document(self.width, self.height, self._static, self._prims,
                                  durations=[d / 1000 for d in self.durations()],
                                  uid=self._uid(), standalone=True)

    def to_html(self, *, full: bool = True) -> str:
        """Self-contained animated HTML: inline SVG frames, CSS animation, a few lines of JS.

        ``full=False`` gives the ``<div>`` alone (what :meth:`_repr_html_` returns).
        """
        uid = self._uid()
        durations = [d / 1000 for d in self.durations()]
        svg = _draw.svg_document(self.width, self.height, self._static, self._prims,
                                 durations=durations, uid=uid, standalone=False)
        frag = _draw.html_fragment(svg, uid, durations, self.plan.title)
        if not full:
            return frag
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>upconv: {self.plan.title}</title></head><body>{frag}</body></html>\n")

    def _repr_html_(self) -> str:
        return self.to_html(full=False)

    def __repr__(self) -> str:
        return (f"<Animation {self.plan.title}: {self.frames} frames, {self.width}×"
                f"{self.height} px" + (f", saved to {self.path}" if self.path else "") + ">")

    def save(self, path: str | os.PathLike[str], format: str | None = None, *,
             columns: int | None = None) -> Path:
        """Write the animation; the suffix of ``path`` picks the format unless given.

        Parameters
        ----------
        path : str or path-like
            The file to write.
        format : {'gif', 'html', 'svg', 'png'}, optional
            ``'png'`` writes a strip: the frames left to right (then top to bottom when
            ``columns`` is given), ``columns × width`` wide and ``rows × height`` high.
        columns : int, optional
            PNG only: frames per row; by default all of them (one row, ``frames × width``).

        Returns
        -------
        pathlib.Path
            ``path`` (also stored as ``self.path``).  Nothing is printed.
        """
        out = Path(path)
        fmt = _format(out, format, "Animation.save")
        if fmt == "gif":
            images = self.images()
            images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                           duration=self.durations(), loop=0, optimize=False, disposal=1)
        elif fmt == "png":
            images = self.images()
            cols = len(images) if columns is None else min(
                check_int(columns, "columns", "Animation.save", minimum=1), len(images))
            rows = -(-len(images) // cols)
            Image = _draw._pil()[0]
            strip = Image.new("P", (self.width * cols, self.height * rows),
                              _draw.PALETTE_INDEX["background"])
            strip.putpalette(images[0].getpalette())
            for n, im in enumerate(images):
                strip.paste(im, ((n % cols) * self.width, (n // cols) * self.height))
            strip.save(out, format="PNG")
        elif fmt == "svg":
            out.write_text(self.to_svg(), encoding="utf-8")
        else:
            out.write_text(self.to_html(), encoding="utf-8")
        self.path = out
        return out


def _format(path: Path, format: str | None, func: str) -> str:
    if format is None:
        fmt = _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise ShapeError(
                f"{func}: cannot tell the format from path={str(path)!r}; use a suffix "
                f"{choices(sorted(_SUFFIXES))} or pass format= one of {choices(FORMATS)}"
            )
        return fmt
    if not isinstance(format, str) or format.lower() not in FORMATS:
        raise ShapeError(f"{func}: format={format!r} is not one of {choices(FORMATS)}")
    return format.lower()


def resolve_preset(func: str, preset: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Fill the arguments left at None from ``PRESETS[preset]``."""
    if preset is None:
        return args
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ShapeError(f"{func}: preset={preset!r} is not one of {choices(sorted(PRESETS))}")
    case = PRESETS[preset]
    if args.get("op") is not None and args["op"] != case["op"]:
        raise ShapeError(
            f"{func}: preset={preset!r} is a {case['op']} case, but op={args['op']!r}"
        )
    merged = dict(args)
    for key, value in case.items():
        if merged.get(key) is None:
            merged[key] = value
    return merged


def animate(
    op: str | None = None,
    input_size: Any = None,
    kernel_size: Any = None,
    stride: Any = None,
    padding: Any = None,
    dilation: Any = None,
    output_padding: Any = None,
    *,
    view: str | None = None,
    values: Any = None,
    kernel: Any = None,
    preset: str | None = None,
    path: str | os.PathLike[str] | None = None,
    format: str | None = None,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    output_size: Any = None,
    indices: Any = None,
    position: str = "top-left",
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    cell: int = 32,
    duration: int = 800,
    final: bool = True,
) -> Animation:
    """Animate one operation step by step, for any sizes and parameters (1-d and 2-d).

    Parameters
    ----------
    op : {'conv', 'conv_transpose', 'max_pool', 'avg_pool', 'max_unpool', 'unpool', \
'interpolate'}
        The operation (may come from ``preset``).
    input_size : int or tuple of int
        Spatial input size: an int is 1-d, ``(H, W)`` 2-d.  Defaults to ``values.shape``.
    kernel_size, stride, padding, dilation, output_padding : int or tuple, optional
        As for the matching :mod:`upconv` function (``padding`` may hold ``(before, after)``
        pairs for conv and conv_transpose).  None means the operation's default; arguments
        an operation does not take must stay None.
    view : {'scatter', 'direct'}, optional
        conv_transpose only: ``'scatter'`` (default; one step per input element painting a
        kernel-sized patch) or ``'direct'`` (one step per output element: the flipped kernel
        sliding over the zero-stretched, padded input).
    values, kernel : array_like, optional
        Spatial input values and (conv, conv_transpose) kernel values: cells show numbers
        and the output shows running sums.  Either one turns numbers on; the other defaults
        to ``1, 2, ..., n`` or ones.
    preset : str, optional
        A conv_arithmetic case name from :data:`PRESETS`; explicit arguments override it.
    path : str or path-like, optional
        Save there at once (see :meth:`Animation.save`).
    format : {'gif', 'html', 'svg', 'png'}, optional
        Format for ``path``; by default its suffix decides.
    ceil_mode, count_include_pad, divisor_override
        Pooling options, as in :func:`upconv.max_pool` and :func:`upconv.avg_pool`.
    output_size : int or tuple of int, optional
        conv_transpose and max_unpool: the wanted output size.
    indices : array_like of int, optional
        max_unpool switches; by default one fixed cell per window.
    position : {'top-left', 'center'}
        unpool: where each value goes in its region.
    size, scale_factor, mode, align_corners
        interpolate: as in :func:`upconv.interpolate`; ``mode`` in ``{'nearest',
        'nearest-exact', 'linear', 'bilinear'}``.
    cell : int
        Cell size in pixels (grown to fit long numbers).
    duration : int
        Milliseconds per frame (the final frame stays three times as long).
    final : bool
        Append a final frame with the finished output.

    Returns
    -------
    Animation
        ``frames == len(steps) + final`` frames; ``path`` is set when saved.

    Raises
    ------
    ShapeError
        For an unknown op, view, mode, preset or format, 3-d sizes, or any argument that
        breaks a shape rule (the same messages as :mod:`upconv.shapes`).
    ImportError
        When writing GIF or PNG without Pillow (``pip install 'upconv[viz]'``).

    See Also
    --------
    trace : the same steps as Markdown text.
    upconv.equivalent_conv : the direct view's parameters ``k', s', p'`` and ``ĩ'``.

    Notes
    -----
    Transposed convolution, per dimension: ``o' = (i'-1)s - 2p + d(k-1) + a + 1``; the
    direct view convolves ``ĩ' = s(i'-1) + 1`` cells (``s - 1`` zeros between input units)
    padded with ``d(k-1) - p`` zeros before and ``d(k-1) - p + a`` after (negative: crop)
    with the flipped kernel, stride 1.

    Examples
    --------
    Seed 002: four steps (one per input element) and a final frame.

    >>> anim = animate("conv_transpose", values=[[1, 2], [3, 4]], kernel=[[5, 5], [5, 5]])
    >>> anim.frames
    5
    >>> [anim.frame_info[1].label("output", (0, c)) for c in range(3)]
    ['5', '15', '10']
    >>> print(anim.plan.header[1])
    o′ = (i′−1)·s − 2p + d(k−1) + a + 1 = (2−1)·1 − 2·0 + 1·(2−1) + 0 + 1 = 3 in each dimension
    """
    func = "animate"
    args = resolve_preset(func, preset, {
        "op": op, "input_size": input_size, "kernel_size": kernel_size, "stride": stride,
        "padding": padding, "dilation": dilation, "output_padding": output_padding,
        "view": view, "values": values, "kernel": kernel})
    plan = build(
        func, args["op"], args["input_size"], args["kernel_size"], args["stride"],
        args["padding"], args["dilation"], args["output_padding"], view=args["view"],
        values=args["values"], kernel=args["kernel"], ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
        output_size=output_size, indices=indices, position=position, size=size,
        scale_factor=scale_factor, mode=mode, align_corners=align_corners)
    if plan.ndim > 2:
        raise ShapeError(
            f"{func}: draws 1-d and 2-d cases; input_size="
            f"{'×'.join(map(str, plan.input_size))} has {plan.ndim} dimensions (use trace for "
            "the numbers, or animate a 2-d slice)"
        )
    drawn = sum(math.prod(h - lo for lo, h in zip(a, b, strict=True))
                for a, b in ((plan.src_lo, plan.src_hi), (plan.dst_lo, plan.dst_hi)))
    if len(plan.steps) > 625 or drawn > 2500:
        raise ShapeError(
            f"{func}: {len(plan.steps)} steps over {drawn} drawn cells is too large to "
            "animate (at most 625 steps and 2500 cells); use smaller sizes, or trace"
        )
    anim = Animation(plan, cell=cell, duration=duration, final=final)
    if path is not None:
        anim.save(path, format)
    elif format is not None:
        _format(Path("x"), format, func)
    return anim
