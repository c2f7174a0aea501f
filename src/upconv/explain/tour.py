"""``upconv tour``: one HTML report that checks every worked example of the seeds.

:func:`tour` writes ``DIR/index.html`` with

* every worked example of the seeds (conv output size, K-nearest, bilinear, bed of nails, max
  pooling and max-unpooling, the transposed-convolution scatter step by step, Relationships
  7-13 and Figure 2.3, Dosovitskiy's un-pooling, the gradient identity, upsampling vs
  transposed convolution and the checkerboard), each with the value written from the seed,
  the value upconv computes and a ✓ (or a cross when they differ);
* the 19 conv_arithmetic animations and the cases they never drew, the matrix view and
  checkerboard maps;
* an upsampling gallery on scikit-image's bundled ``camera`` photo, with MSE and PSNR per
  method.

Animations and photos are files next to ``index.html`` (``anim/``, ``gallery/``); matrices
and heat maps are inline SVG.  Pillow and scikit-image (the ``viz`` extra) are imported
when the tour runs; nothing is downloaded.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._tour_html import OK, Check, Section, esc, page

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TourReport:
    """What :func:`tour` wrote and found.

    Attributes
    ----------
    path : pathlib.Path
        ``DIR/index.html``.
    checks : tuple of Check
        Every worked example, in page order (``id``, ``seed``, ``expected``, ``computed``,
        ``ok``).
    files : tuple of pathlib.Path
        Every file written, ``index.html`` included.
    elapsed : float
        Seconds the tour took.
    sections : tuple of str
        Section titles, in page order.
    """

    path: Path
    checks: tuple[Check, ...]
    files: tuple[Path, ...]
    elapsed: float
    sections: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> list[Check]:
        """The checks whose computed value differs from the seed's."""
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary: path, counts, failed ids, per-check verdicts, timing."""
        return {
            "path": str(self.path),
            "checks": len(self.checks),
            "passed": len(self.checks) - len(self.failed),
            "failed": [c.id for c in self.failed],
            "seeds": sorted({c.seed for c in self.checks}),
            "results": {c.id: c.ok for c in self.checks},
            "files": len(self.files),
            "sections": list(self.sections),
            "elapsed": round(self.elapsed, 3),
        }

    def __repr__(self) -> str:
        return (f"<TourReport {self.path}: {len(self.checks) - len(self.failed)}/"
                f"{len(self.checks)} checks pass, {len(self.files)} files, "
                f"{self.elapsed:.1f} s>")


class _Assets:
    """Writes files under the output folder and remembers them (hrefs are relative)."""

    def __init__(self, root: Path, image_module: Any) -> None:
        self.root = root
        self.files: list[Path] = []
        self._image = image_module

    def _target(self, rel: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(path)
        return path

    def text(self, rel: str, content: str) -> str:
        self._target(rel).write_text(content, encoding="utf-8")
        return rel

    def png(self, rel: str, pixels: np.ndarray) -> str:
        self._image.fromarray(pixels).save(self._target(rel), format="PNG")
        return rel


def _summary(checks: list[Check], elapsed: float) -> str:
    failed = [c for c in checks if not c.ok]
    seeds = sorted({c.seed for c in checks})
    if failed:
        head = (f"<div class='summary bad'>{len(failed)} of {len(checks)} worked examples "
                "FAILED: " + ", ".join(f"<a href='#check-{esc(c.id)}'>{esc(c.id)}</a>"
                                       for c in failed) + "</div>")
    else:
        head = (f"<div class='summary'>{OK} all {len(checks)} worked examples of seeds "
                f"{', '.join(seeds)} reproduced by upconv</div>")
    rows = "".join(
        f"<tr><td class='mark'>{OK if c.ok else 'FAILED'}</td><td>{esc(c.seed)}</td>"
        f"<td><a href='#check-{esc(c.id)}'>{esc(c.title)}</a></td></tr>" for c in checks)
    return (head + f"<p>Written in {elapsed:.1f} s. Each example shows the value written "
            "from the seed (expected) next to the value upconv computes, and the code that "
            "computed it.</p><details><summary>All checks</summary><table class='list'>"
            f"<tr><th></th><th>seed</th><th>example</th></tr>{rows}</table></details>")


def tour(out: str | os.PathLike[str], *, progress: Progress | None = None) -> TourReport:
    """Write the HTML tour to ``out/index.html`` and return what it found.

    Parameters
    ----------
    out : str or path-like
        Output folder; created if missing.  ``index.html``, ``anim/*.svg`` and
        ``gallery/*.png`` are written there (existing files of the same names are replaced).
    progress : callable, optional
        Called with one line per stage (``upconv tour`` prints them on stderr).

    Returns
    -------
    TourReport
        ``path`` of index.html, every ``Check`` (``ok`` each), the files written, the time.

    Raises
    ------
    ImportError
        When Pillow or scikit-image is missing (``pip install 'upconv[viz]'``).

    See Also
    --------
    upconv.explain.animate, upconv.explain.trace, upconv.explain.matrix,
    upconv.explain.checkerboard : the pictures the tour is made of.

    Notes
    -----
    The expected values are literals written from the seeds (or worked out by hand from
    them) in :mod:`upconv.explain._tour_seeds`; a check passes when upconv's value equals
    the literal (exactly, for these small integer and half-integer examples).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     report = tour(d)
    ...     print(report.ok, report.path.name, len(report.checks), len(report.failed))
    True index.html 44 0
    """
    from . import _tour_gallery, _tour_pictures, _tour_seeds

    start = time.perf_counter()
    say = progress or (lambda line: None)
    image, _ = _tour_gallery.require()  # fail before writing anything
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    assets = _Assets(root, image)
    stages: list[tuple[str, Callable[[], Section]]] = [
        *((f"seed {f.__name__[-3:]}", f) for f in _tour_seeds.SEEDS),
        ("conv_arithmetic cases", lambda: _tour_pictures.named_cases(assets.text)),
        ("cases nobody drew", lambda: _tour_pictures.nobody_drew(assets.text)),
        ("matrix view", _tour_pictures.matrix_view),
        ("checkerboard maps", _tour_pictures.checkerboards),
        ("photo gallery", lambda: _tour_gallery.gallery(root, assets.png)),
    ]
    sections: list[Section] = []
    total = len(stages) + 1
    for n, (name, make) in enumerate(stages, 1):
        t0 = time.perf_counter()
        section = make()
        sections.append(section)
        checks = section.checks
        verdict = ""
        if checks:
            bad = sum(not c.ok for c in checks)
            verdict = (f": {len(checks)} checks {OK}" if not bad
                       else f": {bad} of {len(checks)} checks FAILED")
        say(f"tour [{n}/{total}] {name}{verdict} ({time.perf_counter() - t0:.1f} s)")
    checks = [c for s in sections for c in s.checks]
    from .. import __version__

    elapsed = time.perf_counter() - start
    head = (f"<h1>upconv tour</h1><p>Transposed convolution, unpooling and upsampling, "
            f"computed and explained by upconv {esc(__version__)}. Every picture is drawn "
            "from the same index maps that compute the numbers.</p>"
            + _summary(checks, elapsed))
    footer = ("Generated by <code>upconv tour --out DIR</code> (offline; Pillow and "
              "scikit-image from <code>pip install 'upconv[viz]'</code>). Seeds: 000 a course "
              "forum thread on pooling in deconvolution layers (quoting Goodfellow et al.), "
              "001 a PyTorch forum question on ConvTranspose2d, 002 a GitBook chapter on "
              "transposed convolution, 003 a Cross Validated question on upsampling vs "
              "transposed convolution, 004 a convolution-arithmetic summary after Dumoulin "
              "& Visin. " + html.escape("Animations: anim/*.svg; photos: gallery/*.png."))
    index = root / "index.html"
    index.write_text(page("upconv tour", head, sections, footer), encoding="utf-8")
    assets.files.append(index)
    say(f"tour [{total}/{total}] wrote {index} ({len(assets.files)} files, "
        f"{time.perf_counter() - start:.1f} s)")
    return TourReport(index, tuple(checks), tuple(assets.files), time.perf_counter() - start,
                      tuple(s.title for s in sections))


__all__ = ["TourReport", "tour"]
