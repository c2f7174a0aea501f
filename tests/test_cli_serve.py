"""`upconv serve`: the command starts the explorer on loopback and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from upconv import conv_transpose_output_size
from upconv.cli import build_parser, main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_parser_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.port, args.host, args.open) == (8765, "127.0.0.1", False)


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_rejects_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", port]) == 2
    assert "--port" in capsys.readouterr().err


def test_serve_answers_on_loopback_and_stops(tmp_path: os.PathLike[str]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "upconv", "serve", "--port", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/meta", timeout=5) as r:
                    meta = json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"upconv serve did not answer on {base}: {out}")
                time.sleep(0.2)
        assert "conv_transpose" in meta["ops"]
        body = json.dumps({"op": "conv_transpose", "input_size": [5, 6], "kernel_size": [3, 3],
                           "stride": [2, 2], "padding": [1, 1], "output_padding": [1, 0]})
        req = urllib.request.Request(base + "/api/explain", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            reply = json.load(r)
        assert reply["output_size"] == list(conv_transpose_output_size(
            (5, 6), 3, stride=2, padding=1, output_padding=(1, 0)))
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            assert b"<html" in r.read().lower()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}" in out  # the URL is printed
    assert list(os.scandir(tmp_path)) == []  # nothing written where it ran


def test_serve_port_in_use_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert "Traceback" not in err


def test_serve_open_launches_the_browser_on_the_page(tmp_path: os.PathLike[str]) -> None:
    port = _free_port()
    opened = os.path.join(tmp_path, "opened.txt")
    env = dict(os.environ, BROWSER=f"sh -c 'echo %s > {opened}'")
    proc = subprocess.Popen(
        [sys.executable, "-m", "upconv", "serve", "--port", str(port), "--open"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (os.path.exists(opened) and os.path.getsize(opened)):
            assert proc.poll() is None, "upconv serve --open exited"
            assert time.monotonic() < deadline, "the browser was never opened"
            time.sleep(0.2)
        with open(opened) as f:
            assert f.read().strip() == f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/meta", timeout=5) as r:
            assert r.status == 200  # the page it opened is being served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
