"""Shared plumbing of the experiments: progress bar, torch settings, figures, tables."""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .data import load_fashion_mnist


class Progress:
    """A small text progress bar on stderr (no tqdm).

    On a terminal the bar is redrawn in place (at most ten times a second); otherwise (a log
    file, CI) one line is written when the bar closes.

    Parameters
    ----------
    total : int
        Number of steps.
    label : str
        Shown before the bar.
    enabled : bool
        False: print nothing.
    stream : text file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, total: int, label: str, *, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.info = ""
        self.start = time.perf_counter()
        self._drawn = 0.0

    def line(self) -> str:
        """The bar as text: label, bar, percentage, count, elapsed time, extra info."""
        width = 24
        frac = min(self.done / self.total, 1.0)
        fill = int(round(frac * width))
        elapsed = time.perf_counter() - self.start
        return (f"{self.label} |{'#' * fill}{'.' * (width - fill)}| {100 * frac:3.0f}% "
                f"{self.done}/{self.total} {elapsed:5.1f}s {self.info}").rstrip()

    def update(self, n: int = 1, info: str | None = None) -> None:
        """Advance by ``n`` steps; ``info`` replaces the text after the bar (e.g. the loss)."""
        self.done += n
        if info is not None:
            self.info = info
        now = time.perf_counter()
        if self.enabled and self.tty and (now - self._drawn > 0.1 or self.done >= self.total):
            self._drawn = now
            self.stream.write("\r" + self.line() + "\033[K")
            self.stream.flush()

    def close(self, info: str | None = None) -> None:
        """Finish the line."""
        if info is not None:
            self.info = info
        if self.enabled:
            self.stream.write(("\r" if self.tty else "") + self.line()
                              + ("\033[K" if self.tty else "") + "\n")
            self.stream.flush()


def say(message: str, enabled: bool = True) -> None:
    """One status line on stderr."""
    if enabled:
        print(message, file=sys.stderr, flush=True)


@contextmanager
def torch_settings(threads: int, seed: int) -> Iterator[None]:
    """Fixed threads, deterministic algorithms and a seeded RNG; the caller's are restored.

    PyTorch flags ``max_unpool`` as nondeterministic because repeated indices would race; the
    switches of a non-overlapping max pool never repeat, so its warning is silenced here.
    """
    import torch

    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    old_rng = torch.random.get_rng_state()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"max_unpooling\w* does not have a "
                                    "deterministic implementation")
            yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det, warn_only=old_warn)
        torch.random.set_rng_state(old_rng)


def load_split(split: str, data_dir: Any, limit: int | None, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Images as float32 in [0, 1], shape (N, 1, 28, 28), and labels as int64.

    ``limit`` takes a class-stratified-by-chance random subset (seeded), the same for every run
    with that seed.
    """
    images, labels = load_fashion_mnist(split, data_dir)
    if limit is not None and limit < len(images):
        pick = np.sort(np.random.default_rng(seed).permutation(len(images))[:limit])
        images, labels = images[pick], labels[pick]
    x = (images.astype(np.float32) / 255.0)[:, None]
    return x, labels.astype(np.int64)


def figure(**kwargs: Any) -> Any:
    """A matplotlib ``Figure`` (no pyplot state); the viz extra is needed."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - the viz extra is missing
        raise ImportError("the experiments draw with matplotlib; install it with: "
                          "pip install 'upconv[viz]'") from err
    return Figure(**kwargs)


def save_figure(fig: Any, path: Path) -> Path:
    """Write a figure as PNG and return the path."""
    fig.savefig(path, dpi=100)
    return path


def mosaic(images: np.ndarray, cols: int, pad: int = 2, fill: float = 1.0) -> np.ndarray:
    """Tile ``(n, H, W)`` images into rows of ``cols`` with ``pad`` pixels of ``fill`` between."""
    n, h, w = images.shape
    rows = max(math.ceil(n / cols), 1)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), fill, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return out


def stretch(images: np.ndarray) -> np.ndarray:
    """Scale each image to [0, 1] by its own min and max (flat images become 0.5)."""
    x = np.asarray(images, dtype=np.float64)
    lo = x.min(axis=(-2, -1), keepdims=True)
    hi = x.max(axis=(-2, -1), keepdims=True)
    span = hi - lo
    return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.5)


def signed(images: np.ndarray) -> np.ndarray:
    """Map each image to [0, 1] with 0 at grey 0.5, scaled by its own largest magnitude."""
    x = np.asarray(images, dtype=np.float64)
    m = np.abs(x).max(axis=(-2, -1), keepdims=True)
    return 0.5 + 0.5 * x / np.where(m > 0, m, 1.0)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (inf/nan become null) and return the path."""
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, Path):
            return str(v)
        return v

    path.write_text(json.dumps(clean(data), indent=2) + "\n")
    return path
