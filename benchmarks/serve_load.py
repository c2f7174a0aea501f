"""Load ``upconv serve`` from a second process: N mixed requests, C at a time, latency percentiles.

Run against a server that is already listening::

    python -c "from upconv.serve import run; run(port=8765)" &   # or: upconv serve
    python -m benchmarks.serve_load --url http://127.0.0.1:8765 --requests 1000 --concurrency 8

The requests mix ``/api/explain`` (every op, small random sizes), ``/api/solve``,
``/api/code`` and ``/api/meta``, drawn from a seeded generator so every run sends the same
list.  Prints count, errors, requests per second and p50/p95/p99 latency, and writes them as
JSON (``--out``).  Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

OPS = ["conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool", "interpolate",
       "pixel_shuffle"]


def _explain_body(rng: random.Random) -> dict[str, Any]:
    op = rng.choice(OPS)
    n = rng.choice([1, 2])
    body: dict[str, Any] = {"op": op, "input_size": [rng.randint(3, 8) for _ in range(n)],
                            "values": rng.choice(["range", "random", "none"]),
                            "seed": rng.randint(0, 1000)}
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool"):
        body["kernel_size"] = [rng.randint(1, 3) for _ in range(n)]
    if op in ("conv", "conv_transpose"):
        body["stride"] = [rng.randint(1, 3) for _ in range(n)]
    if op == "conv_transpose":
        body["view"] = rng.choice(["scatter", "direct"])
    if op == "interpolate":
        body["mode"] = rng.choice(["nearest", "linear"])
        body["scale_factor"] = [2.0] * n
    return body


def make_requests(count: int, seed: int = 0) -> list[tuple[str, str, dict[str, Any] | None]]:
    """``count`` requests ``(method, path, json)``: 55 % explain, 15 % each solve/code/meta."""
    rng = random.Random(seed)
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    for _ in range(count):
        u = rng.random()
        if u < 0.55:
            out.append(("POST", "/api/explain", _explain_body(rng)))
        elif u < 0.70:
            i = rng.randint(2, 16)
            out.append(("POST", "/api/solve", {"op": rng.choice(["conv_transpose", "conv"]),
                                                "input_size": [i, i],
                                                "output_size": [2 * i, 2 * i] if rng.random()
                                                < 0.5 else [max(1, i // 2)] * 2}))
        elif u < 0.85:
            out.append(("POST", "/api/code", _explain_body(rng)))
        else:
            out.append(("GET", "/api/meta", None))
    return out


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def run(url: str, count: int, concurrency: int, seed: int = 0,
        timeout: float = 60.0) -> dict[str, Any]:
    """Send the requests with ``concurrency`` threads; return the summary."""
    requests = make_requests(count, seed)
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        c = getattr(local, "client", None)
        if c is None:
            c = local.client = httpx.Client(base_url=url, timeout=timeout)
            with lock:
                clients.append(c)
        return c

    def one(req: tuple[str, str, dict[str, Any] | None]) -> tuple[str, int, float]:
        method, path, body = req
        t0 = time.perf_counter()
        try:
            status = client().request(method, path, json=body).status_code
        except httpx.HTTPError:
            status = 0
        return path, status, time.perf_counter() - t0

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, requests))
    wall = time.perf_counter() - start
    for c in clients:
        c.close()
    latencies = [dt * 1000 for _, _, dt in results]
    statuses: dict[str, int] = {}
    for _, status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    per_path: dict[str, dict[str, float]] = {}
    for path in sorted({p for p, _, _ in results}):
        lat = [dt * 1000 for p, _, dt in results if p == path]
        per_path[path] = {"count": len(lat), "p50_ms": percentile(lat, 50),
                          "p95_ms": percentile(lat, 95)}
    return {
        "url": url, "requests": count, "concurrency": concurrency, "seed": seed,
        "answered": sum(1 for _, s, _ in results if s), "ok_2xx": sum(
            1 for _, s, _ in results if 200 <= s < 300),
        "errors": sum(1 for _, s, _ in results if not 200 <= s < 300),
        "statuses": statuses, "seconds": wall, "req_per_s": count / wall if wall else 0.0,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "max_ms": max(latencies, default=0.0),
        "per_path": per_path,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serve_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8765")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the summary as JSON here")
    args = p.parse_args(argv)
    summary = run(args.url.rstrip("/"), args.requests, args.concurrency, args.seed)
    print(f"requests {summary['requests']}  answered {summary['answered']}  2xx "
          f"{summary['ok_2xx']}  errors {summary['errors']}  concurrency {args.concurrency}")
    print(f"{summary['req_per_s']:.1f} req/s over {summary['seconds']:.2f} s;  latency p50 "
          f"{summary['p50_ms']:.1f} ms  p95 {summary['p95_ms']:.1f} ms  p99 "
          f"{summary['p99_ms']:.1f} ms  max {summary['max_ms']:.1f} ms")
    for path, row in summary["per_path"].items():
        print(f"  {path:<16} {int(row['count']):>5}  p50 {row['p50_ms']:.1f} ms  p95 "
              f"{row['p95_ms']:.1f} ms")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
