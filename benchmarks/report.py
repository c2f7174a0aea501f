"""Render a suite JSON (``python -m benchmarks --json F``) as docs/benchmarks.md's table.

    python -m benchmarks.report benchmarks/results/latest.json > docs/benchmarks.md

Everything printed comes from the JSON: the machine, the BLAS kernel threadpoolctl reported,
the GEMM peak measured in the same run, per case the medians and the ratio, and the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _ms(v: float | None) -> str:
    return "—" if v is None else (f"{v:.2f}" if v < 100 else f"{v:.0f}")


def _blas(machine: dict[str, Any]) -> str:
    parts = []
    for lib in machine.get("blas", []):
        if lib.get("internal_api") in (None, "openmp"):
            continue
        parts.append(f"{lib['internal_api']} {lib.get('version')} ({lib.get('architecture')} "
                     f"kernel, {lib.get('num_threads')} threads)")
    return ", ".join(parts) or "unknown"


def render(data: dict[str, Any], title: str = "Benchmark suite") -> str:
    """The Markdown page for one suite run."""
    m, v = data["machine"], data["versions"]
    lines = [
        f"# {title}",
        "",
        f"upconv {v.get('upconv')} vs torch {v.get('torch')}, NumPy {v.get('numpy')}"
        + (f", numba {v['numba']}" if v.get("numba") else "")
        + f"; {m.get('cpus')} CPUs, {m.get('threads')} threads each; BLAS: {_blas(m)}; "
        f"float32 GEMM peak measured in the run: {m.get('gemm_peak_gflops', 0):.0f} GFLOP/s; "
        f"medians of {data.get('repeats')} runs after warm-up, interleaved"
        + (f" in blocks of {t['block']}, each after a {t['settle_s']} s pause and {t['warm']} "
           "untimed calls" if (t := data.get("timing")) else "") + ". "
        f"Platform: {m.get('platform')}."
        + (f" Allocator: {m['allocator']}." if m.get("allocator") else ""),
        "",
        "Ratio = upconv `auto` time / torch time (< 1: upconv faster). Memory: peak extra MB in "
        "a child process, torch / upconv.",
        "",
        "| case | torch ms | upconv ms | ratio | GFLOP/s | % peak | memory MB "
        "| other methods (ms) |",
        "|:---|---:|---:|---:|---:|---:|---:|:---|",
    ]
    for r in data["results"]:
        ms = r["ms"]
        others = ", ".join(f"{k} {_ms(t)}" for k, t in ms.items() if k not in ("torch", "auto"))
        mem = r.get("peak_extra_mb") or {}
        mem_text = (f"{mem['torch']:.0f} / {mem['auto']:.0f}"
                    if mem.get("torch") is not None and mem.get("auto") is not None else "—")
        gf = r.get("gflops")
        rate = f"{gf:.0f} | {r.get('pct_peak', 0):.0f}" if gf else "— | —"
        lines.append(
            f"| {r['case']} | {_ms(ms.get('torch'))} | {_ms(ms.get('auto'))} | "
            f"{r['ratio']:.2f} | {rate} | {mem_text} | {others} |"
        )
    s = data.get("summary", {})
    lines += ["", "| summary | ratio |", "|:---|---:|"]
    for key, value in s.items():
        if isinstance(value, dict):
            lines += [f"| {k} | {x:.2f} |" for k, x in value.items()]
        else:
            lines.append(f"| {key} | {value:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("json", help="a suite JSON file")
    parser.add_argument("--title", default="Benchmark suite")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        sys.stdout.write(render(json.load(f), args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
