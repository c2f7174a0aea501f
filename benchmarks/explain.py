"""Timings of the explanations (issue 5's speed bar; a benchmark, never a test).

``python -m benchmarks.explain``: a 7x7-output transposed-convolution GIF in both views (bar:
< 0.5 s each) and the whole ``upconv tour`` (bar: < 60 s), medians of a few runs.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from upconv.explain import animate, tour


def _median_seconds(fn, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up: imports Pillow, fonts
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows = []
        for view in ("scatter", "direct"):
            # input 3x3, k=3, s=2 -> 7x7 output
            def gif(view: str = view) -> None:
                animate("conv_transpose", (3, 3), 3, stride=2, view=view, path=out / f"{view}.gif")

            frames = animate("conv_transpose", (3, 3), 3, stride=2, view=view).frames
            rows.append((f"7x7-output transposed conv GIF, {view} view ({frames} frames)",
                         _median_seconds(gif), 0.5))
        rows.append(("upconv tour (whole report)",
                     _median_seconds(lambda: tour(out / "tour"), repeats=3), 60.0))
    for name, seconds, bar in rows:
        verdict = "ok" if seconds < bar else "SLOW"
        print(f"{name:<60} {seconds:8.3f} s  (bar {bar:g} s: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
