"""The convolution matrix ``C`` and its transpose ``Cᵀ``, as numbers, text and a picture.

Seed 004 (Figure 2.3) unrolls the 4x4 input and the 2x2 output of a 3x3 convolution into
vectors, left to right and top to bottom: the convolution is the product with a sparse 4x16
matrix ``C`` whose non-zero cells are the kernel's ``w_ij``, and the transposed convolution is
the product with ``Cᵀ``.  :func:`matrix` builds both from :func:`upconv.conv_matrix` (the same
code that computes the numbers), labels every cell with the weight it holds and checks
``Cᵀy == conv_transpose(y)`` on random values.

Pictures are drawn from one layout, either as SVG text (no extra dependency) or as PNG with
Pillow, imported only when a PNG is written (``pip install 'upconv[viz]'``).  The small
drawing helpers here (``_Scene``) are shared with :mod:`upconv.explain.checkerboard`.
"""

from __future__ import annotations

import colorsys
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ShapeError, _show, float_array, per_dim, spatial_size
from ..ops import conv_matrix, conv_transpose
from ..shapes import conv_geometry

# ---------------------------------------------------------------------------------------------
# A tiny scene of rectangles and text lines, rendered to SVG (stdlib only) or PNG (Pillow).

CHAR_W = 6  # px per character (DejaVu/Aileron at 10 px and SVG monospace 10 px both fit)
LINE_H = 16  # px per line of text
MARGIN = 10
MAX_PIXELS = 16384  # per side: larger pictures are refused rather than drawn


@dataclass(frozen=True)
class _Rect:
    x0: int
    y0: int
    x1: int
    y1: int
    fill: str | None
    outline: str | None = "#c8c8c8"
    width: int = 1


@dataclass(frozen=True)
class _Text:
    x: int  # left edge, or centre when centred
    y: int  # vertical centre
    text: str
    centre: bool = False
    colour: str = "#000000"


@dataclass
class _Scene:
    width: int
    height: int
    items: list[_Rect | _Text] = field(default_factory=list)

    def rect(self, x0: int, y0: int, x1: int, y1: int, fill: str | None,
             outline: str | None = "#c8c8c8", width: int = 1) -> None:
        self.items.append(_Rect(x0, y0, x1, y1, fill, outline, width))

    def text(self, x: int, y: int, text: str, *, centre: bool = False,
             colour: str = "#000000") -> None:
        self.items.append(_Text(x, y, text, centre, colour))

    def svg(self) -> str:
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            'font-family="DejaVu Sans Mono, monospace" font-size="10">',
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="#ffffff"/>',
        ]
        for it in self.items:
            if isinstance(it, _Rect):
                fill = it.fill or "none"
                stroke = (f' stroke="{it.outline}" stroke-width="{it.width}"'
                          if it.outline else "")
                out.append(f'<rect x="{it.x0}" y="{it.y0}" width="{it.x1 - it.x0}" '
                           f'height="{it.y1 - it.y0}" fill="{fill}"{stroke}/>')
            else:
                anchor = "middle" if it.centre else "start"
                out.append(f'<text x="{it.x}" y="{it.y}" text-anchor="{anchor}" '
                           f'dominant-baseline="central" fill="{it.colour}">'
                           f"{html.escape(it.text)}</text>")
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def png(self, path: Path) -> None:
        Image, ImageDraw, ImageFont = _pillow()
        img = Image.new("RGB", (self.width, self.height), "#ffffff")
        draw = ImageDraw.Draw(img)
        font = ImageFont.load_default()
        for it in self.items:
            if isinstance(it, _Rect):
                # Pillow's rectangle includes x1/y1; SVG's ends before them.
                draw.rectangle((it.x0, it.y0, it.x1 - 1, it.y1 - 1), fill=it.fill,
                               outline=it.outline, width=it.width if it.outline else 0)
            else:
                left, top, right, bottom = draw.textbbox((0, 0), it.text, font=font)
                x = it.x - (right - left) / 2 - left if it.centre else it.x - left
                y = it.y - (bottom - top) / 2 - top
                draw.text((x, y), it.text, fill=it.colour, font=font)
        img.save(path, format="PNG")

    def save(self, path: str | os.PathLike[str], format: str | None, func: str) -> Path:
        if self.width > MAX_PIXELS or self.height > MAX_PIXELS:
            raise ShapeError(
                f"{func}: the picture would be {self.width}x{self.height} pixels (limit "
                f"{MAX_PIXELS} per side); use a smaller case"
            )
        target = Path(path)
        kind = _format(target, format, func)
        if kind == "svg":
            target.write_text(self.svg(), encoding="utf-8")
        else:
            self.png(target)
        return target


def _pillow() -> tuple[Any, Any, Any]:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as err:
        raise ImportError(
            "writing PNG pictures needs Pillow; install it with pip install 'upconv[viz]' "
            "(SVG needs nothing extra)"
        ) from err
    return Image, ImageDraw, ImageFont


def _format(path: Path, format: str | None, func: str) -> str:
    if format is None:
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ("png", "svg"):
            raise ShapeError(
                f"{func}: cannot tell the picture format from path={str(path)!r}; use a .png "
                "or .svg suffix or give format='png' or 'svg'"
            )
        return suffix
    if not isinstance(format, str) or format.lower() not in ("png", "svg"):
        raise ShapeError(f"{func}: format={format!r} is not supported; give 'png' or 'svg'")
    return format.lower()


def _text_w(text: str) -> int:
    return CHAR_W * len(text)


def _wrap(words: list[str], width: int, sep: str = "  ") -> list[str]:
    """Greedy wrap of ``words`` into lines of at most ``width`` pixels (at least one word)."""
    lines: list[str] = []
    line = ""
    for w in words:
        trial = f"{line}{sep}{w}" if line else w
        if line and _text_w(trial) > width:
            lines.append(line)
            line = w
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def tap_colour(tap: int, taps: int) -> str:
    """A light colour for kernel tap ``tap`` of ``taps``: equal taps, equal colours.

    Hues are spread evenly, so different taps of one kernel never share a colour.

    Examples
    --------
    >>> tap_colour(0, 9)
    '#ff8c8c'
    """
    r, g, b = colorsys.hsv_to_rgb(tap / max(taps, 1), 0.45, 1.0)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


# ---------------------------------------------------------------------------------------------
# The matrix view


def _sizes(t: tuple[int, ...]) -> str:
    return "x".join(map(str, t))


def _positions(size: tuple[int, ...]) -> list[str]:
    # Flattened positions in C order: "j" in 1-d, "(row,col)" in 2-d.
    if len(size) == 1:
        return [str(j) for j in range(size[0])]
    return [f"({r},{c})" for r in range(size[0]) for c in range(size[1])]


def _tap_names(kernel_size: tuple[int, ...]) -> list[str]:
    if len(kernel_size) == 1:
        return [f"w_{a}" for a in range(kernel_size[0])]
    sep = "" if max(kernel_size) <= 10 else ","
    return [f"w_{i}{sep}{j}" for i in range(kernel_size[0]) for j in range(kernel_size[1])]


@dataclass(frozen=True, eq=False)
class MatrixView:
    """A small single-channel convolution as its matrix ``C`` (and ``Cᵀ``), with a check.

    Built by :func:`matrix`.  Rows of ``C`` are the output positions and columns the input
    positions, both flattened left to right and top to bottom (C order), so that
    ``C @ x.ravel() == conv(x).ravel()`` and ``C.T @ y.ravel() == conv_transpose(y).ravel()``.

    Attributes
    ----------
    input_size, output_size, kernel_size, stride, dilation : tuple of int
        Per spatial dimension (1 or 2 of them).
    padding : tuple of (int, int)
        ``(before, after)`` zero padding of the convolution per dimension.
    weight : (*kernel_size) ndarray
        The kernel (float64) whose values fill ``C``.
    C : (prod(output_size), prod(input_size)) ndarray
        The dense matrix, from :func:`upconv.conv_matrix`.
    taps : (prod(output_size), prod(input_size)) ndarray of int
        Flat index (C order) of the kernel tap held by each cell of ``C``; ``-1`` for cells
        no tap reaches (zeros).
    y : (*output_size) ndarray
        The values the check multiplies by ``Cᵀ``.
    CTy : (*input_size) ndarray
        ``(C.T @ y.ravel())`` reshaped to the input grid.
    conv_transpose_y : (*input_size) ndarray
        :func:`upconv.conv_transpose` of ``y`` with the same weight and arguments.
    max_abs_diff : float
        ``max |CTy - conv_transpose_y|``.
    """

    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    weight: np.ndarray
    C: np.ndarray
    taps: np.ndarray
    y: np.ndarray
    CTy: np.ndarray
    conv_transpose_y: np.ndarray
    max_abs_diff: float

    # -- derived tables ----------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 or 2)."""
        return len(self.input_size)

    @property
    def CT(self) -> np.ndarray:
        """``Cᵀ``, the matrix of the transposed convolution."""
        return self.C.T

    @property
    def tap_names(self) -> list[str]:
        """Label of each kernel tap, flat in C order: ``w_0 ...`` (1-d), ``w_00 ...`` (2-d)."""
        return _tap_names(self.kernel_size)

    @property
    def labels(self) -> np.ndarray:
        """``C`` as a table of labels (``'w_01'``), ``''`` for zero cells."""
        names = np.array([""] + self.tap_names)
        return names[self.taps + 1]

    @property
    def labels_T(self) -> np.ndarray:
        """``Cᵀ`` as a table of labels, ``''`` for zero cells."""
        return self.labels.T

    @property
    def row_labels(self) -> list[str]:
        """Rows of ``C``: output positions, ``'j'`` (1-d) or ``'(row,col)'`` (2-d)."""
        return _positions(self.output_size)

    @property
    def col_labels(self) -> list[str]:
        """Columns of ``C``: input positions, ``'j'`` (1-d) or ``'(row,col)'`` (2-d)."""
        return _positions(self.input_size)

    @property
    def ok(self) -> bool:
        """Whether ``Cᵀy`` equals ``conv_transpose(y)`` (to float64 rounding)."""
        scale = max(1.0, float(np.abs(self.conv_transpose_y).max(initial=0.0)))
        return self.max_abs_diff <= 1e-9 * scale

    @property
    def check(self) -> str:
        """One line: the check of ``Cᵀy`` against :func:`upconv.conv_transpose`."""
        return (f"check: C^T y == conv_transpose(y): max |difference| = "
                f"{self.max_abs_diff:.3g} ({'OK' if self.ok else 'MISMATCH'})")

    @property
    def description(self) -> str:
        """One line naming the convolution."""
        def v(t: tuple[Any, ...]) -> str:
            return str(t[0]) if len(set(t)) == 1 else str(t)

        pad = [p[0] if p[0] == p[1] else p for p in self.padding]
        return (f"conv {_sizes(self.input_size)} -> {_sizes(self.output_size)}: kernel_size="
                f"{v(self.kernel_size)}, stride={v(self.stride)}, padding={v(tuple(pad))}, "
                f"dilation={v(self.dilation)}; single channel (C_in = C_out = 1)")

    def _titles(self) -> tuple[str, str]:
        r, c = self.C.shape
        return (f"C ({r} x {c}): rows = output positions, columns = input positions",
                f"C^T ({c} x {r}): rows = input positions, columns = output positions")

    def weight_legend(self) -> list[str]:
        """``'w_01 = 0.304'`` for every tap."""
        return [f"{n} = {w:.3g}" for n, w in zip(self.tap_names, self.weight.ravel(),
                                                  strict=True)]

    # -- text --------------------------------------------------------------------------------

    def _text_table(self, labels: np.ndarray, rows: list[str], cols: list[str]) -> list[str]:
        cw = max(max(map(len, cols)), max((len(s) for s in labels.ravel()), default=1), 1)
        rw = max(map(len, rows))
        lines = [" " * rw + " " + " ".join(c.rjust(cw) for c in cols)]
        for name, row in zip(rows, labels, strict=True):
            cells = " ".join((s or "0").rjust(cw) for s in row)
            lines.append(f"{name.rjust(rw)} {cells}")
        return lines

    def __str__(self) -> str:
        t_c, t_ct = self._titles()
        lines = [self.description, "", t_c.replace("C^T", "Cᵀ")]
        lines += self._text_table(self.labels, self.row_labels, self.col_labels)
        lines += ["", t_ct.replace("C^T", "Cᵀ")]
        lines += self._text_table(self.labels_T, self.col_labels, self.row_labels)
        lines += ["", "weights: " + ", ".join(self.weight_legend()),
                  self.check.replace("C^T", "Cᵀ")]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<MatrixView {self.description}; C is {self.C.shape[0]}x{self.C.shape[1]}; "
                f"{'OK' if self.ok else 'MISMATCH'}>")

    def _html_table(self, labels: np.ndarray, taps: np.ndarray, rows: list[str],
                    cols: list[str]) -> str:
        n = len(self.tap_names)
        cell = "border:1px solid #c8c8c8;padding:1px 4px;text-align:center;font-size:11px"
        out = ['<table style="border-collapse:collapse;font-family:monospace;'
               'display:inline-table;vertical-align:top;margin-right:24px">',
               "<tr><th></th>" + "".join(f"<th style='font-size:10px'>{html.escape(c)}</th>"
                                         for c in cols) + "</tr>"]
        for name, lab_row, tap_row in zip(rows, labels, taps, strict=True):
            tds = []
            for lab, tap in zip(lab_row, tap_row, strict=True):
                bg = f"background:{tap_colour(int(tap), n)};" if tap >= 0 else ""
                tds.append(f"<td style='{bg}{cell}'>{html.escape(str(lab))}</td>")
            out.append(f"<tr><th style='font-size:10px'>{html.escape(name)}</th>"
                       + "".join(tds) + "</tr>")
        out.append("</table>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        t_c, t_ct = self._titles()
        return (
            f"<div><p>{html.escape(self.description)}</p>"
            f"<div style='display:inline-block;vertical-align:top'><p>"
            f"{html.escape(t_c)}</p>"
            + self._html_table(self.labels, self.taps, self.row_labels, self.col_labels)
            + f"</div><div style='display:inline-block;vertical-align:top'><p>"
            f"{html.escape(t_ct.replace('C^T', 'Cᵀ'))}</p>"
            + self._html_table(self.labels_T, self.taps.T, self.col_labels, self.row_labels)
            + "</div><p style='font-family:monospace'>"
            + html.escape(", ".join(self.weight_legend())) + "<br>"
            + html.escape(self.check.replace("C^T", "Cᵀ")) + "</p></div>"
        )

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values (lists, numbers, strings)."""
        return {
            "input_size": list(self.input_size),
            "output_size": list(self.output_size),
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": [list(p) for p in self.padding],
            "dilation": list(self.dilation),
            "row_labels": self.row_labels,
            "col_labels": self.col_labels,
            "labels": self.labels.tolist(),
            "weight": self.weight.tolist(),
            "C": self.C.tolist(),
            "y": self.y.tolist(),
            "CTy": self.CTy.tolist(),
            "conv_transpose_y": self.conv_transpose_y.tolist(),
            "max_abs_diff": self.max_abs_diff,
            "ok": self.ok,
        }

    # -- picture -----------------------------------------------------------------------------

    def _geometry(self) -> dict[str, Any]:
        # Pixel layout shared by the picture and cell_box: C on the left, Cᵀ on the right.
        rows, cols = self.row_labels, self.col_labels
        cw = CHAR_W * max(max(map(len, rows + cols)), max(map(len, self.tap_names))) + 8
        ch = 18
        rw = CHAR_W * max(map(len, rows)) + 8  # row labels of C
        rw_t = CHAR_W * max(map(len, cols)) + 8  # row labels of Cᵀ
        n_out, n_in = self.C.shape
        top = MARGIN + LINE_H + 6  # the description line
        grid_top = top + LINE_H + LINE_H  # panel title, then column labels
        c_x = MARGIN + rw
        ct_x = c_x + n_in * cw + 30 + rw_t
        right = ct_x + n_out * cw + MARGIN
        t_c, t_ct = self._titles()
        width = max(right, MARGIN + max(_text_w(t_c), _text_w(self.description)) + MARGIN,
                    ct_x - rw_t + _text_w(t_ct) + MARGIN)
        bottom = grid_top + ch * max(n_out, n_in) + 10
        legend = _wrap(self.weight_legend(), max(width - 2 * MARGIN - 20, 200))
        height = bottom + LINE_H * (len(legend) + 1) + MARGIN + 4
        width = max(width, MARGIN + _text_w(self.check) + MARGIN)
        return dict(cw=cw, ch=ch, rw=rw, rw_t=rw_t, top=top, grid_top=grid_top, c_x=c_x,
                    ct_x=ct_x, bottom=bottom, legend=legend, width=width, height=height)

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels of the picture :meth:`save` writes."""
        g = self._geometry()
        return g["width"], g["height"]

    def cell_box(self, which: str, row: int, col: int) -> tuple[int, int, int, int]:
        """Pixel box ``(x0, y0, x1, y1)`` (``x1``, ``y1`` exclusive) of a cell in the picture.

        ``which`` is ``'C'`` or ``'CT'``; ``row`` and ``col`` index that matrix.
        """
        g = self._geometry()
        shape = self.C.shape if which == "C" else self.C.shape[::-1]
        if which not in ("C", "CT"):
            raise ShapeError(f"cell_box: which={which!r} must be 'C' or 'CT'")
        if not (0 <= row < shape[0] and 0 <= col < shape[1]):
            raise ShapeError(f"cell_box: ({row}, {col}) is outside {which}, shape {shape}")
        x = g["c_x"] if which == "C" else g["ct_x"]
        x0, y0 = x + col * g["cw"], g["grid_top"] + row * g["ch"]
        return x0, y0, x0 + g["cw"], y0 + g["ch"]

    def scene(self) -> _Scene:
        """The picture as a list of drawing items (what :meth:`save` renders)."""
        g = self._geometry()
        sc = _Scene(g["width"], g["height"])
        n = len(self.tap_names)
        sc.text(MARGIN, MARGIN + LINE_H // 2, self.description)
        t_c, t_ct = self._titles()
        panels = [("C", t_c, g["c_x"], g["rw"], self.labels, self.taps, self.row_labels,
                   self.col_labels),
                  ("CT", t_ct, g["ct_x"], g["rw_t"], self.labels_T, self.taps.T,
                   self.col_labels, self.row_labels)]
        for which, title, x, rw, labels, taps, rows, cols in panels:
            sc.text(x - rw, g["top"] + LINE_H // 2, title)
            for j, c in enumerate(cols):
                sc.text(x + j * g["cw"] + g["cw"] // 2, g["grid_top"] - LINE_H // 2, c,
                        centre=True, colour="#555555")
            for i, r in enumerate(rows):
                y0 = g["grid_top"] + i * g["ch"]
                sc.text(x - rw + 2, y0 + g["ch"] // 2, r, colour="#555555")
                for j in range(len(cols)):
                    x0, yy0, x1, y1 = self.cell_box(which, i, j)
                    tap = int(taps[i, j])
                    sc.rect(x0, yy0, x1, y1, tap_colour(tap, n) if tap >= 0 else "#ffffff")
                    if tap >= 0:
                        sc.text((x0 + x1) // 2, (yy0 + y1) // 2, str(labels[i, j]), centre=True)
        # Legend: one swatch per weight, in the colour of its cells.
        y = g["bottom"] + LINE_H // 2
        names = self.tap_names
        k = 0
        for line in g["legend"]:
            x = MARGIN
            for entry in line.split("  "):
                sc.rect(x, y - 5, x + 10, y + 5, tap_colour(k, n), outline="#888888")
                sc.text(x + 14, y, entry)
                x += 14 + _text_w(entry) + 2 * CHAR_W
                k += 1
            y += LINE_H
        assert k == len(names)
        sc.text(MARGIN, y, self.check, colour="#006400" if self.ok else "#b00000")
        return sc

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the picture (C and Cᵀ side by side, the check under them) to PNG or SVG.

        Parameters
        ----------
        path : str or path-like
            Target file; its suffix (``.png`` / ``.svg``) gives the format unless ``format``
            is given.
        format : {'png', 'svg'}, optional
            Overrides the suffix.

        Returns
        -------
        pathlib.Path
            The written file.

        Raises
        ------
        ImportError
            For PNG without Pillow (``pip install 'upconv[viz]'``); SVG needs nothing extra.
        """
        return self.scene().save(path, format, "MatrixView.save")


def _ndim(input_size: Any, kernel_size: Any, weight: Any) -> int:
    # Dimensionality from the first argument given per dimension; an int size with a weight
    # takes the weight's rank ((*k) or (1, 1, *k)).
    for value in (input_size, kernel_size):
        if isinstance(value, list | tuple | np.ndarray):
            return len(value)
    if weight is not None:
        rank = np.ndim(weight)
        return rank - 2 if rank >= 3 else rank
    return 1


def _kernel(weight: Any, kernel_size: Any, ndim: int, func: str) -> np.ndarray:
    w = np.array(float_array(weight, "weight", func), dtype=np.float64)
    if w.ndim == ndim + 2 and w.shape[:2] == (1, 1):
        w = w.reshape(w.shape[2:])
    if w.ndim != ndim:
        raise ShapeError(
            f"{func}: weight has shape {w.shape}; for a {ndim}-d single-channel picture give "
            f"the kernel as (*k) ({ndim} dimensions) or (1, 1, *k)"
        )
    if kernel_size is not None:
        k = per_dim(kernel_size, ndim, "kernel_size", func)
        if k != w.shape:
            raise ShapeError(
                f"{func}: kernel_size={_show(kernel_size)} does not match weight of shape "
                f"{w.shape}; give one or make them agree"
            )
    return w


def matrix(
    input_size: Any,
    kernel_size: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    weight: Any = None,
    y: Any = None,
    seed: int = 0,
    path: str | os.PathLike[str] | None = None,
    format: str | None = None,
) -> MatrixView:
    """The matrix ``C`` of a small convolution and ``Cᵀ``, as labelled tables and a picture.

    Single channel only (``C_in = C_out = 1``): more channels only repeat the picture in
    blocks.  The numbers come from :func:`upconv.conv_matrix`; ``Cᵀy`` is checked against
    :func:`upconv.conv_transpose` with the same weight.

    Parameters
    ----------
    input_size : int or tuple of int
        Spatial input size ``L``: an int (1-d, unless ``kernel_size`` is a tuple) or one int
        per dimension; 1-d and 2-d.
    kernel_size : int or tuple of int, optional
        Kernel size ``k``; may be left out when ``weight`` is given.
    stride, dilation : int or tuple of int
        As in :func:`upconv.conv`.
    padding : int, tuple of int, tuple of (int, int), {'same', 'valid'}
        As in :func:`upconv.conv`.
    weight : (*k) or (1, 1, *k) ndarray, optional
        Kernel values; random (standard normal, from ``seed``) by default.
    y : (*O) ndarray, optional
        Values for the check ``Cᵀy == conv_transpose(y)`` (any shape with ``prod(O)``
        elements); random by default.
    seed : int
        Seed of the random weight and ``y``.
    path : str or path-like, optional
        Also save the picture there (see :meth:`MatrixView.save`).
    format : {'png', 'svg'}, optional
        Picture format when ``path`` is given; by default from its suffix.

    Returns
    -------
    MatrixView
        ``C`` of shape ``(prod(O), prod(L))`` with ``O = floor((L + p_before + p_after -
        d*(k-1) - 1)/s) + 1`` per dimension, its labels (``labels``, ``labels_T``), ``Cᵀ``
        and the check (``max_abs_diff``, ``ok``); ``str()`` gives the text tables.

    Raises
    ------
    ShapeError
        Bad sizes (as :func:`upconv.conv_output_size`), 3 spatial dimensions, or a ``weight``
        / ``y`` whose shape does not fit.
    ImportError
        When ``path`` asks for a PNG and Pillow is missing (``pip install 'upconv[viz]'``).

    See Also
    --------
    upconv.conv_matrix : the sparse matrix itself, any number of channels.
    upconv.conv_transpose : what ``Cᵀ`` computes.
    upconv.explain.checkerboard : why ``Cᵀ`` with stride > 1 gives uneven overlaps.

    Notes
    -----
    ``C[(j), (h)] = w[a]`` when ``h = j*s + a*d - p_before`` for a tap ``a`` (per
    dimension), zero otherwise.  Row ``j`` holds the window of output ``j``; column ``h`` of
    ``Cᵀ`` scatters input ``h`` of the transposed convolution, which is why the transposed
    convolution is "the transpose".

    Examples
    --------
    Seed 004, Figure 2.3: a 3x3 kernel on a 4x4 input, unit stride, no padding.

    >>> view = matrix((4, 4), 3)
    >>> view.C.shape
    (4, 16)
    >>> print(" ".join(label or "0" for label in view.labels[0]))
    w_00 w_01 w_02 0 w_10 w_11 w_12 0 w_20 w_21 w_22 0 0 0 0 0
    >>> view.ok
    True
    >>> print(matrix(4, 2, stride=2, weight=np.arange(1.0, 3.0)))  # doctest: +ELLIPSIS
    conv 4 -> 2: kernel_size=2, stride=2, padding=0, dilation=1; single channel ...
    <BLANKLINE>
    C (2 x 4): rows = output positions, columns = input positions
          0   1   2   3
    0   w_0 w_1   0   0
    1     0   0 w_0 w_1
    <BLANKLINE>
    Cᵀ (4 x 2): rows = input positions, columns = output positions
          0   1
    0   w_0   0
    1   w_1   0
    2     0 w_0
    3     0 w_1
    <BLANKLINE>
    weights: w_0 = 1, w_1 = 2
    check: Cᵀ y == conv_transpose(y): max |difference| = 0 (OK)
    """
    func = "matrix"
    ndim = _ndim(input_size, kernel_size, weight)
    dims, as_int = spatial_size(input_size, func, "input_size")
    if as_int:
        dims = dims * ndim
    if len(dims) > 2:
        raise ShapeError(
            f"{func}: input_size={_show(input_size)} has {len(dims)} dimensions; the matrix "
            "picture is drawn for 1-d and 2-d convolutions (upconv.conv_matrix handles 3-d)"
        )
    if weight is None:
        if kernel_size is None:
            raise ShapeError(f"{func}: give kernel_size or weight")
        k = per_dim(kernel_size, len(dims), "kernel_size", func)
        w = None
    else:
        w = _kernel(weight, kernel_size, len(dims), func)
        k = w.shape
    g = conv_geometry(dims, k, stride, padding, dilation, func=func)
    cells = math.prod(g.size) * math.prod(g.output_size)
    if cells > 1_000_000:
        raise ShapeError(
            f"{func}: C would have {cells} cells ({math.prod(g.output_size)} x "
            f"{math.prod(g.size)}); the matrix view is for small cases (at most 1,000,000)"
        )
    rng = np.random.default_rng(seed)
    if w is None:
        w = rng.standard_normal(g.kernel_size)
    if y is None:
        yv = rng.standard_normal(g.output_size)
    else:
        yv = np.array(float_array(y, "y", func), dtype=np.float64)
        if yv.size != math.prod(g.output_size):
            raise ShapeError(
                f"{func}: y has shape {yv.shape} ({yv.size} values) but the convolution output "
                f"is {_sizes(g.output_size)} ({math.prod(g.output_size)} values)"
            )
        yv = yv.reshape(g.output_size)

    # The same op computes the numbers and, with weights 1..K, which tap sits in each cell.
    C = conv_matrix((1, *g.size), w[None, None], g.stride, g.padding, g.dilation).toarray()
    ids = np.arange(1.0, w.size + 1).reshape((1, 1, *g.kernel_size))
    taps = np.rint(conv_matrix((1, *g.size), ids, g.stride, g.padding, g.dilation).toarray())
    taps = taps.astype(np.int64) - 1

    cty = (C.T @ yv.ravel()).reshape(g.size)
    ct = conv_transpose(yv[None, None], w[None, None], None, g.stride, g.padding,
                        dilation=g.dilation, output_size=g.size)[0, 0]
    view = MatrixView(
        input_size=g.size, output_size=g.output_size, kernel_size=g.kernel_size,
        stride=g.stride, padding=g.padding, dilation=g.dilation, weight=w, C=C, taps=taps,
        y=yv, CTy=cty, conv_transpose_y=ct, max_abs_diff=float(np.abs(cty - ct).max()),
    )
    if path is not None:
        view.save(path, format)
    return view
