"""``upconv serve``: the interactive local explorer (FastAPI + uvicorn, the ``explorer`` extra).

The page (``static/``) draws what the JSON API (:mod:`upconv.serve._api`) computes with the
library; FastAPI and uvicorn are imported only when the app is created or run, so
``import upconv`` (and this package) never needs them.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["create_app", "run"]

_EXTRA = "pip install 'upconv[explorer]'"


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"upconv serve needs {', '.join(missing)}: {_EXTRA}")


def create_app() -> Any:
    """The FastAPI application: the page at ``/``, the JSON API under ``/api/``.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    ImportError
        Without FastAPI (``pip install 'upconv[explorer]'``).

    Examples
    --------
    >>> app = create_app()
    >>> sorted(r.path for r in app.routes if r.path.startswith("/api/"))[:3]
    ['/api/checkerboard', '/api/code', '/api/explain']
    """
    _require("fastapi", "pydantic")
    from .app import create_app as _create

    return _create()


def run(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Serve the explorer with uvicorn until interrupted (prints the URL first).

    Parameters
    ----------
    host : str
        Interface to bind; the default keeps it on this machine.
    port : int
        TCP port.
    open_browser : bool
        Open the page in the default browser once the server is accepting connections.

    Raises
    ------
    ImportError
        Without FastAPI or uvicorn (``pip install 'upconv[explorer]'``).
    OSError
        If ``host:port`` cannot be bound (the port is taken, or the address is not this
        machine's); the message names both.
    """
    _require("fastapi", "uvicorn")
    import threading
    import time
    import webbrowser

    import uvicorn

    _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port,
                                           log_level="warning"))

    def _open() -> None:
        for _ in range(200):  # up to 20 s for the server to start
            if server.started:
                webbrowser.open(url)
                return
            time.sleep(0.1)

    print(f"upconv serve: {url}  (Ctrl+C to stop)", flush=True)
    if open_browser:
        threading.Thread(target=_open, daemon=True).start()
    server.run()


def _check_port(host: str, port: int) -> None:
    """Fail with one clear line when ``host:port`` cannot be bound (uvicorn would exit)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise OSError(
                f"upconv serve: cannot listen on {host}:{port} ({err.strerror or err}); "
                f"is another server using port {port}? choose another with --port"
            ) from None
