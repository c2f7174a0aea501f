"""The benchmark suite's smoke mode: it runs, and its values agree with PyTorch (no timing)."""

import json
import pathlib
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
