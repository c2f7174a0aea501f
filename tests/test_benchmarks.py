"""The benchmark suite's smoke mode: it runs, and its values agree with PyTorch (no timing)."""

import json
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def test_benchmark_smoke_mode(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    (result,) = data["results"]
    assert result["family"] == "conv_transpose"
    assert set(result["rel_error"]) == {"auto", "scatter", "direct", "subpixel"}
    assert max(result["rel_error"].values()) < 1e-4
    assert data["machine"]["gemm_peak_gflops"] > 0
    assert "ratio" in result and "conv_transpose_2d_geomean" in data["summary"]
    # timed under the fixed allocator condition (the suite restarts itself under it on glibc)
    if platform.libc_ver()[0] == "glibc":
        assert "reused" in data["machine"]["allocator"]


def test_report_renders_every_case_and_the_blas_kernel(tmp_path):
    data = {
        "machine": {"platform": "p", "cpus": 2, "threads": 2, "gemm_peak_gflops": 200.0,
                    "blas": [{"internal_api": "openblas", "version": "0.3", "architecture":
                              "Zen", "num_threads": 2}]},
        "versions": {"upconv": "0.1.0", "torch": "2.13.0", "numpy": "2.4"},
        "repeats": 10,
        "results": [{"case": "c1", "ms": {"torch": 2.0, "auto": 3.0, "direct": 5.0},
                     "ratio": 1.5, "gflops": 50.0, "pct_peak": 25.0,
                     "peak_extra_mb": {"torch": 4.0, "auto": 1.0}},
                    {"case": "c2", "ms": {"torch": 1.0, "auto": 0.5}, "ratio": 0.5}],
        "summary": {"conv_geomean": 0.87, "others": {"max_unpool": 1.25}},
    }
    src = tmp_path / "run.json"
    src.write_text(json.dumps(data))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.report", str(src)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "openblas 0.3 (Zen kernel, 2 threads)" in text and "200 GFLOP/s" in text
    assert "| c1 | 2.00 | 3.00 | 1.50 | 50 | 25 | 4 / 1 | direct 5.00 |" in text
    assert "| c2 | 1.00 | 0.50 | 0.50 | — | — | — |  |" in text
    assert "| conv_geomean | 0.87 |" in text and "| max_unpool | 1.25 |" in text
