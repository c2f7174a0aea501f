"""Load ``upconv serve`` over loopback: a real uvicorn process, 1000 requests from a second one.

The server runs with its working directory in a fresh temp folder, which must still be empty
afterwards (the server writes no files); it is always terminated.  The p95 latency is printed,
never asserted.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def _wait_ready(proc, url, log, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/api/meta", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {seconds} s:\n{log.read_text()}")


def test_thousand_requests_from_a_second_process(tmp_path):
    cwd = tmp_path / "server"
    cwd.mkdir()
    before = _tree(cwd)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", f"from upconv.serve import run; run(port={port})"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(server, url, log)
        result = tmp_path / "load.json"
        client = subprocess.run(
            [sys.executable, "-m", "benchmarks.serve_load", "--url", url, "--requests", "1000",
             "--concurrency", "8", "--out", str(result)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        print(client.stdout)
        assert client.returncode == 0, client.stdout + client.stderr
        summary = json.loads(result.read_text())
        assert summary["requests"] == summary["answered"] == summary["ok_2xx"] == 1000
        assert summary["errors"] == 0
        assert set(summary["per_path"]) == {"/api/explain", "/api/solve", "/api/code",
                                            "/api/meta"}
        print(f"serve load: p95 {summary['p95_ms']:.1f} ms, {summary['req_per_s']:.0f} req/s")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
    assert f"upconv serve: {url}/" in log.read_text()
    assert _tree(cwd) == before  # the server wrote nothing in its working directory
