"""Side-by-side timings of upconv's NumPy kernels against PyTorch CPU.

Both libraries run in this one process, interleaved (torch, then every upconv method, repeated),
on the same number of threads; each figure is the median of ``--repeats`` runs after warm-up.
The GEMM peak is measured in the same run (a large float32 matmul through NumPy's BLAS), so
GFLOP/s can be read as a fraction of what this machine's BLAS reaches right now.

Run with ``make bench`` (which unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE) or
``python -m benchmarks [--quick] [--only SUBSTR] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import upconv
from upconv.ops import _numba

THREADS = 2
# The allocator condition both libraries are timed under (glibc; set before the process
# starts, see ``_restart_under_tunables``): with glibc's defaults a freed block of >= 128 KiB
# goes back to the system and the next one page-faults on first touch, ~4 µs per 4 KiB page
# on this kind of virtual machine, until frees of larger blocks raise glibc's threshold for
# the rest of the process.  Which side of that a case lands on depends on what ran before it:
# PyTorch's depthwise conv_transpose at batch 8 measured 0.7 ms or 8-10 ms in the same
# process.  So the suite fixes the steady state of a long-running loop, where blocks up to 32
# MiB (glibc's largest threshold) are reused: deterministic, and fair to both.
# ``--malloc system`` keeps the defaults.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
BLOCK = 5  # consecutive timed runs of one function before switching to the next
# Seconds of pause before each block, so that the other library's idle threads have stopped
# spinning: OpenBLAS's workers spin ~0.1 s after a call (2^28 cycles), and a 4 ms time slice
# of them landed in upconv's first timed calls after a 0.1 s pause (1-d conv at batch 1: 4-8
# ms instead of 0.25 right after NumPy matmuls; gone from 0.2 s on).
SETTLE = 0.25
# Untimed calls after each pause.  torch and numba share one OpenMP runtime (libgomp, loaded
# by torch) whose idle workers sleep after the pause; waking them took two parallel regions,
# often ~7 + 3.5 ms on this VM (a trivial numba loop alone: ~2.9 + 2.0 ms, then 0.02).  A torch
# convolution opens both regions in its first call, upconv's kernels one per call: with one
# untimed call, upconv's second slow call landed among the timed runs of every block.
WARM = 2


# ---------------------------------------------------------------------------------------------
# Cases


def _numpy_only(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``fn`` run on the pure NumPy path (``UPCONV_NUMBA=0``), to time beside numba's."""

    def run(a: dict[str, Any]) -> Any:
        old = os.environ.get("UPCONV_NUMBA")
        os.environ["UPCONV_NUMBA"] = "0"
        try:
            return fn(a)
        finally:
            if old is None:
                del os.environ["UPCONV_NUMBA"]
            else:
                os.environ["UPCONV_NUMBA"] = old

    return run


@dataclass
class Case:
    name: str
    family: str  # "conv_transpose", "conv", "interpolate", "max_unpool", "pixel_shuffle",
    # "decoder" (layers back to back)
    make: Callable[[np.random.Generator], dict[str, Any]]
    torch_fn: Callable[[dict[str, Any]], Any]
    ours: dict[str, Callable[[dict[str, Any]], Any]]
    flops: float = 0.0
    dims: int = 2
    tags: list[str] = field(default_factory=list)


def _tconv_case(cin: int, cout: int, spatial: tuple[int, ...], k: int, s: int, p: int = 0,
                op: int = 0, groups: int = 1, batch: int = 8, label: str = "") -> list[Case]:
    import torch
    import torch.nn.functional as F

    d = len(spatial)
    tf = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]
    cf = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    size = "x".join(map(str, spatial))
    extra = f" op{op}" if op else ""
    extra += f" g{groups}" if groups > 1 else ""
    name = label or f"{cin}->{cout} {size} k{k} s{s} p{p}{extra}"
    out_sp = upconv.conv_transpose_output_size(spatial, k, s, p, op)
    assert isinstance(out_sp, tuple)

    def make_t(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, cin, *spatial), dtype=np.float32)
        w = rng.standard_normal((cin, cout // groups) + (k,) * d, dtype=np.float32)
        return {"x": x, "w": w, "tx": torch.from_numpy(x), "tw": torch.from_numpy(w)}

    def torch_t(a: dict[str, Any]) -> Any:
        return tf(a["tx"], a["tw"], stride=s, padding=p, output_padding=op, groups=groups)

    def method(m: str) -> Callable[[dict[str, Any]], Any]:
        return lambda a: upconv.conv_transpose(a["x"], a["w"], stride=s, padding=p,
                                               output_padding=op, groups=groups, method=m)

    flops_t = 2.0 * batch * cin * math.prod(spatial) * (cout // groups) * k ** d
    methods = ["auto", "scatter", "direct", "subpixel"]
    t_case = Case(f"conv_transpose {name} N{batch}", "conv_transpose", make_t, torch_t,
                  {m: method(m) for m in methods}, flops_t, d)
    if _numba.available() and _numba.use_planes(cin // groups, cout // groups):
        t_case.ours["numpy"] = _numpy_only(t_case.ours["auto"])  # auto takes numba's loops

    # The mirrored encoder layer: conv from the transposed conv's output back to its input.
    def make_c(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, cout, *out_sp), dtype=np.float32)
        w = rng.standard_normal((cin, cout // groups) + (k,) * d, dtype=np.float32)
        return {"x": x, "w": w, "tx": torch.from_numpy(x), "tw": torch.from_numpy(w)}

    def torch_c(a: dict[str, Any]) -> Any:
        return cf(a["tx"], a["tw"], stride=s, padding=p, groups=groups)

    c_case = Case(f"conv {name} (mirror) N{batch}", "conv", make_c, torch_c,
                  {"auto": lambda a: upconv.conv(a["x"], a["w"], stride=s, padding=p,
                                                 groups=groups)}, flops_t, d)
    if _numba.available() and _numba.use_planes(cout // groups, cin // groups):
        c_case.ours["numpy"] = _numpy_only(c_case.ours["auto"])
    return [t_case, c_case]


def _interp_case(mode: str, batch: int = 8) -> Case:
    import torch
    import torch.nn.functional as F

    def make(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, 64, 64, 64), dtype=np.float32)
        return {"x": x, "tx": torch.from_numpy(x)}

    kw: dict[str, Any] = {"scale_factor": 2, "mode": mode}
    if mode == "bilinear":
        kw["align_corners"] = False
    return Case(f"interpolate {mode} x2 ({batch},64,64,64)", "interpolate", make,
                lambda a: F.interpolate(a["tx"], **kw),
                {"auto": lambda a: upconv.interpolate(a["x"], **kw)})


def _unpool_case(batch: int = 8) -> Case:
    import torch
    import torch.nn.functional as F

    def make(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, 64, 64, 64), dtype=np.float32)
        tp, ti = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
        return {"x": tp.numpy(), "i": ti.numpy(), "tx": tp, "ti": ti}

    ours: dict[str, Callable[[dict[str, Any]], Any]] = {
        "auto": lambda a: upconv.max_unpool(a["x"], a["i"], 2)}
    if _numba.available():
        ours["numpy"] = _numpy_only(ours["auto"])
    return Case(f"max_unpool k2 ({batch},64,32,32)->64x64", "max_unpool", make,
                lambda a: F.max_unpool2d(a["tx"], a["ti"], 2), ours)


def _shuffle_case(batch: int = 8) -> Case:
    import torch
    import torch.nn.functional as F

    def make(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, 256, 32, 32), dtype=np.float32)
        return {"x": x, "tx": torch.from_numpy(x)}

    return Case(f"pixel_shuffle r2 ({batch},256,32,32)", "pixel_shuffle", make,
                lambda a: F.pixel_shuffle(a["tx"], 2),
                {"auto": lambda a: upconv.pixel_shuffle(a["x"], 2)})


# The decoder of the suite's largest layers, back to back (8x8 -> 256x256): what a caller runs.
# Timed alone, each layer starts with every library's idle threads asleep; here each one runs
# right after the previous, as in a network.
DECODER = (512, 256, 128, 64, 32, 3)


def _decoder_case(batch: int) -> Case:
    import torch
    import torch.nn.functional as F

    def make(rng: np.random.Generator) -> dict[str, Any]:
        x = rng.standard_normal((batch, DECODER[0], 8, 8), dtype=np.float32)
        ws = [(rng.standard_normal((a, b, 4, 4), dtype=np.float32) / np.float32(4 * a ** 0.5))
              for a, b in zip(DECODER, DECODER[1:], strict=False)]
        return {"x": x, "w": ws, "tx": torch.from_numpy(x), "tw": [torch.from_numpy(w)
                                                                  for w in ws]}

    def torch_fn(a: dict[str, Any]) -> Any:
        h = a["tx"]
        for w in a["tw"]:
            h = F.conv_transpose2d(h, w, stride=2, padding=1)
        return h

    def ours(a: dict[str, Any]) -> Any:
        h = a["x"]
        for w in a["w"]:
            h = upconv.conv_transpose(h, w, stride=2, padding=1)
        return h

    flops = sum(2.0 * batch * a * (8 << i) ** 2 * b * 16
                for i, (a, b) in enumerate(zip(DECODER, DECODER[1:], strict=False)))
    return Case(f"decoder {'->'.join(map(str, DECODER))} k4 s2 p1 from 8x8 N{batch}",
                "decoder", make, torch_fn, {"auto": ours}, flops)


def build_cases(quick: bool = False) -> list[Case]:
    """The fixed suite of issue 4 (``quick`` keeps batch 1 and the small layers only)."""
    layers_2d: list[dict[str, Any]] = [
        dict(cin=512, cout=256, spatial=(8, 8), k=4, s=2, p=1),
        dict(cin=256, cout=128, spatial=(16, 16), k=4, s=2, p=1),
        dict(cin=128, cout=64, spatial=(32, 32), k=4, s=2, p=1),
        dict(cin=64, cout=32, spatial=(64, 64), k=4, s=2, p=1),
        dict(cin=64, cout=3, spatial=(64, 64), k=3, s=2, p=1, op=1),
        dict(cin=256, cout=256, spatial=(14, 14), k=2, s=2, p=0),
        dict(cin=32, cout=16, spatial=(128, 128), k=3, s=1, p=1),
        dict(cin=64, cout=64, spatial=(32, 32), k=3, s=2, p=1, op=1),
        dict(cin=64, cout=64, spatial=(32, 32), k=4, s=2, p=1, groups=64, label="depthwise "
             "64->64 32x32 k4 s2 p1 g64"),
    ]
    other: list[dict[str, Any]] = [
        dict(cin=128, cout=64, spatial=(256,), k=4, s=2, p=1, label="1-d 128->64 256 k4 s2 p1"),
        dict(cin=64, cout=32, spatial=(8, 16, 16), k=4, s=2, p=1,
             label="3-d 64->32 8x16x16 k4 s2 p1"),
    ]
    cases: list[Case] = []
    batches = [1] if quick else [8, 1]
    for batch in batches:
        for spec in (layers_2d[2:5] if quick else layers_2d):
            cases += _tconv_case(batch=batch, **spec)
            cases[-2].tags.append("suite2d")
        for spec in other:
            cases += _tconv_case(batch=batch, **spec)
        if not quick:
            cases.append(_decoder_case(batch))
    cases += [_interp_case("nearest", 1 if quick else 8), _interp_case("bilinear",
              1 if quick else 8), _unpool_case(1 if quick else 8),
              _shuffle_case(1 if quick else 8)]
    return cases


# ---------------------------------------------------------------------------------------------
# Measurement


def _rss_kb(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name):
                return int(line.split()[1])
    return 0


def peak_extra_mb(fn: Callable[[], Any]) -> float | None:
    """Peak resident memory added while ``fn`` runs (Linux: resets VmHWM via clear_refs)."""
    try:
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = _rss_kb("VmRSS")
    out = fn()
    peak = _rss_kb("VmHWM")
    del out
    return max(peak - before, 0) / 1024.0


def gemm_peak(repeats: int = 5) -> float:
    """GFLOP/s of a large float32 matmul through NumPy's BLAS (the machine's GEMM peak)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * 1024 * 2048 * 2048 / min(times) / 1e9


def time_case(case: Case, repeats: int, rng: np.random.Generator) -> dict[str, Any]:
    """Median times (ms) of torch and every upconv method, interleaved run by run."""
    import torch

    args = case.make(rng)
    fns: dict[str, Callable[[], Any]] = {"torch": lambda: case.torch_fn(args)}
    fns.update({m: (lambda f=f: f(args)) for m, f in case.ours.items()})
    # correctness first: a fast wrong answer is worth nothing
    ref = fns["torch"]().numpy()
    errors = {}
    for m in case.ours:
        got = fns[m]()
        errors[m] = float(np.max(np.abs(got - ref)) / (np.max(np.abs(ref)) + 1e-30))
    for fn in fns.values():  # warm-up
        fn()
    slow = [m for m in case.ours if m not in ("auto",)]
    times: dict[str, list[float]] = {name: [] for name in fns}
    # Interleaved in blocks: PyTorch's OpenMP threads, numba's and OpenBLAS's threads keep
    # spinning for a while after each call (libgomp: up to tens of ms), so alternating single
    # runs would make each library pay for the other's idle threads.  Each block starts after
    # a pause that outlasts the spinning (SETTLE), then WARM untimed calls wake its threads.
    with torch.no_grad():
        for _ in range(-(-repeats // BLOCK)):
            for name, fn in fns.items():
                if name in slow and len(times[name]) >= 3 and statistics.median(
                        times[name]) > 20 * statistics.median(times["torch"]):
                    continue  # a hopeless alternative method: one block is enough
                time.sleep(SETTLE)
                for _ in range(WARM):
                    fn()
                for _ in range(BLOCK):
                    t0 = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t0)
    med = {name: 1e3 * statistics.median(v) for name, v in times.items() if v}
    return {"case": case.name, "family": case.family, "tags": case.tags, "ms": med,
            "runs": {k: len(v) for k, v in times.items()}, "flops": case.flops,
            "rel_error": errors}


def memory_worker(cases: list[Case]) -> dict[str, dict[str, float | None]]:
    """Peak extra resident memory of one call, torch and upconv "auto", per case.

    Runs in a child process started with ``MALLOC_MMAP_THRESHOLD_`` low, so that every large
    buffer is mapped and unmapped on its own and the resident-set high-water mark follows
    the live memory of the call (output included, for both libraries alike).
    """
    import torch

    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    table = {}
    for case in cases:
        a = case.make(rng)
        fns = {"torch": partial(case.torch_fn, a), "auto": partial(case.ours["auto"], a)}
        with torch.no_grad():
            for fn in fns.values():
                fn()  # libraries loaded, kernels planned
            table[case.name] = {name: peak_extra_mb(fn) for name, fn in fns.items()}
        del a, fns
    return table


def measure_memory(argv: list[str]) -> dict[str, dict[str, float | None]]:
    import subprocess

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="65536")
    env.pop("GLIBC_TUNABLES", None)  # (the timing condition would override these)
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--memory-worker", *argv],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"memory measurement failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return {}
    return dict(json.loads(proc.stdout))


def allocator() -> str:
    """The allocator condition of this process, as the table header states it."""
    if MALLOC_TUNABLES in os.environ.get("GLIBC_TUNABLES", ""):
        return "glibc, freed blocks up to 32 MiB reused (GLIBC_TUNABLES=" + MALLOC_TUNABLES + ")"
    return "system default (glibc: freed blocks of >= 128 KiB returned, dynamic threshold)"


def _restart_under_tunables(argv: list[str]) -> None:
    """Restart ``python -m benchmarks argv`` under :data:`MALLOC_TUNABLES` unless it already
    runs so (glibc reads its tunables only at start-up), on glibc only."""
    if (platform.libc_ver()[0] != "glibc"
            or MALLOC_TUNABLES in os.environ.get("GLIBC_TUNABLES", "")):
        return
    old = os.environ.get("GLIBC_TUNABLES")
    env = dict(os.environ, GLIBC_TUNABLES=f"{old}:{MALLOC_TUNABLES}" if old else MALLOC_TUNABLES)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *argv], env)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _blas_info() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for d in threadpool_info()]


def main(argv: list[str] | None = None, restart: bool = False) -> int:
    """The suite's command line; ``restart``: the process may restart itself under the timing
    allocator condition (``python -m benchmarks`` does; a caller's own process is never
    replaced)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeats", type=int, default=10,
                        help=f"timed runs per case (>= 10, in blocks of {BLOCK})")
    parser.add_argument("--quick", action="store_true", help="small subset, batch 1")
    parser.add_argument("--only", default="", help="run cases whose name contains this")
    parser.add_argument("--json", default="benchmarks/results/latest.json",
                        help="where to write the JSON results")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory column")
    parser.add_argument("--smoke", action="store_true",
                        help="CI smoke mode: one small case, values checked, no memory column")
    parser.add_argument("--malloc", choices=("reuse", "system"), default="reuse",
                        help="allocator condition of the timings: 'reuse' (default; `python -m "
                             "benchmarks` restarts itself under MALLOC_TUNABLES) or 'system'")
    parser.add_argument("--memory-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if restart and args.malloc == "reuse" and not args.memory_worker:
        _restart_under_tunables(sys.argv[1:] if argv is None else argv)
    if args.memory_worker:
        print(json.dumps(memory_worker([c for c in build_cases(args.quick)
                                        if args.only in c.name])))
        return 0

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(THREADS)
    limits = threadpool_limits(THREADS)
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if any(env.values()):
        print(f"warning: {env} is set and may slow NumPy's BLAS; `make bench` unsets them",
              file=sys.stderr)
    peak = gemm_peak()
    blas = _blas_info()
    print(f"# upconv {upconv.__version__} vs torch {torch.__version__}, {THREADS} threads, "
          f"numpy {np.__version__}, BLAS {blas}")
    fast = (f"on (numba {_numba.version()}; 'numpy' = the same op with UPCONV_NUMBA=0)"
            if _numba.available() else
            "off (" + ("UPCONV_NUMBA=0" if _numba.version() else "numba not installed") + ")")
    print(f"# compiled path: {fast}")
    print(f"# allocator: {allocator()}")
    print(f"# float32 GEMM peak measured now: {peak:.1f} GFLOP/s; medians of {args.repeats} "
          f"runs after warm-up, interleaved in blocks of {BLOCK} (each after a {SETTLE} s pause "
          f"and {WARM} untimed calls)")
    rng = np.random.default_rng(0)
    results = []
    failures = 0
    cases = [c for c in build_cases(args.quick or args.smoke) if args.only in c.name]
    if args.smoke:
        cases = [c for c in cases if c.family == "conv_transpose"][:1]
    memory: dict[str, dict[str, float | None]] = {}
    if not (args.no_memory or args.smoke):
        print("measuring peak memory in a child process ...", file=sys.stderr)
        memory = measure_memory(["--only", args.only] + (["--quick"] if args.quick else []))
    head = (f"{'case':<52} {'torch ms':>9} {'auto ms':>9} {'ratio':>6} {'GFLOP/s':>8} "
            f"{'%peak':>6} {'mem MB t/u':>12}  other methods (ms)")
    print(head)
    print("-" * len(head))
    for n, case in enumerate(cases, 1):
        print(f"[{n}/{len(cases)}] {case.name}", end="\r", file=sys.stderr, flush=True)
        r = time_case(case, 1 if args.smoke else max(args.repeats, 10), rng)
        ms = r["ms"]
        ratio = ms["auto"] / ms["torch"]
        r["ratio"] = ratio
        gf = case.flops / (ms["auto"] / 1e3) / 1e9 if case.flops else None
        r["gflops"] = gf
        r["pct_peak"] = 100 * gf / peak if gf else None
        others = ", ".join(f"{m} {v:.2f}" for m, v in ms.items() if m not in ("torch", "auto"))
        r["peak_extra_mb"] = memory.get(case.name, {"torch": None, "auto": None})
        mt, mu = r["peak_extra_mb"]["torch"], r["peak_extra_mb"]["auto"]
        mem = f"{mt:.0f}/{mu:.0f}" if mt is not None and mu is not None else "n/a"
        print(f"{case.name:<52} {ms['torch']:9.2f} {ms['auto']:9.2f} {ratio:6.2f} "
              f"{gf if gf else 0:8.1f} {r['pct_peak'] or 0:6.1f} {mem:>12}  {others}")
        bad = {m: e for m, e in r["rel_error"].items() if e > 1e-4}
        if bad:
            print(f"   !! results differ from torch: {bad}")
            failures += 1
        results.append(r)
    summary = {
        "conv_transpose_2d_geomean": geomean([r["ratio"] for r in results
                                              if "suite2d" in r["tags"]]),
        "conv_transpose_2d_worst": max((r["ratio"] for r in results if "suite2d" in r["tags"]),
                                       default=float("nan")),
        "conv_transpose_all_geomean": geomean([r["ratio"] for r in results
                                               if r["family"] == "conv_transpose"]),
        "conv_geomean": geomean([r["ratio"] for r in results if r["family"] == "conv"]),
        "decoder": {r["case"]: r["ratio"] for r in results if r["family"] == "decoder"},
        "others": {r["case"]: r["ratio"] for r in results
                   if r["family"] in ("interpolate", "max_unpool", "pixel_shuffle")},
    }
    print("\nsummary (time ratio upconv/torch, < 1 means upconv is faster):")
    for k, v in summary.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                print(f"  {kk}: {vv:.2f}")
        else:
            print(f"  {k}: {v:.2f}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": THREADS,
                    "blas": blas, "gemm_peak_gflops": peak, "env": env,
                    "allocator": allocator()},
        "versions": {"upconv": upconv.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "numba": _numba.version()},
        "numba_path": _numba.available(),
        "repeats": args.repeats, "timing": {"block": BLOCK, "settle_s": SETTLE, "warm": WARM},
        "results": results, "summary": summary,
    }, indent=2))
    print(f"wrote {out}")
    limits.restore_original_limits()
    return 1 if failures else 0
