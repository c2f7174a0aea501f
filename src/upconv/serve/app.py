"""The FastAPI application behind ``upconv serve``: routes, request models, errors and caps.

Request bodies are pydantic models whose bounds are the explorer's caps, so ``/openapi.json``
documents them and a violation is FastAPI's 422.  The library's own errors
(:class:`upconv.ShapeError`, ``ValueError``, ``TypeError``) from a schema-valid request become
a 400 carrying the library's message; bodies over 64 KiB get a 413 before they are parsed.
Swagger UI and ReDoc are off (they load from a CDN); ``GET /api`` lists the endpoints from the
schema in a self-contained page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from . import _api

STATIC = Path(__file__).parent / "static"
MAX_BODY = _api.LIMITS["max_body_bytes"]

# Per-dimension fields: an int (broadcast) or one int per spatial dimension (1-d or 2-d).
_Size = Annotated[int, Field(strict=True, ge=1, le=64)]
_Kernel = Annotated[int, Field(strict=True, ge=1, le=16)]
_Stride = Annotated[int, Field(strict=True, ge=1, le=8)]
_Pad = Annotated[int, Field(strict=True, ge=0, le=16)]
_OutPad = Annotated[int, Field(strict=True, ge=0, le=7)]
_OutSize = Annotated[int, Field(strict=True, ge=1, le=128)]
Sizes = _Size | Annotated[list[_Size], Field(min_length=1, max_length=2)]
Kernel = _Kernel | Annotated[list[_Kernel], Field(min_length=1, max_length=2)]
Strides = _Stride | Annotated[list[_Stride], Field(min_length=1, max_length=2)]
Pads = _Pad | Annotated[list[_Pad], Field(min_length=1, max_length=2)]
OutPads = _OutPad | Annotated[list[_OutPad], Field(min_length=1, max_length=2)]
OutSizes = _OutSize | Annotated[list[_OutSize], Field(min_length=1, max_length=2)]
Channels = Annotated[int, Field(strict=True, ge=1, le=64)]
Scale = Annotated[float, Field(ge=0.25, le=8.0, allow_inf_nan=False)]
Value = Annotated[float, Field(ge=-1000.0, le=1000.0, allow_inf_nan=False)]
Op = Literal["conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool",
             "interpolate", "pixel_shuffle"]


class Params(BaseModel):
    """One operation with its parameters; ``null`` means the default (see ``/api/meta``)."""

    model_config = ConfigDict(extra="ignore")

    op: Op = Field(description="the operation ('unpool' = bed of nails)")
    view: Literal["gather", "scatter", "direct"] | None = Field(
        None, description="conv_transpose: 'scatter' (default) or 'direct'")
    input_size: Sizes | None = Field(None, description="spatial input size, default [4, 4]")
    kernel_size: Kernel | None = Field(None, description="kernel / window size, default 3")
    stride: Strides | None = Field(
        None, description="default 1 (conv, conv_transpose) or kernel_size (pooling)")
    dilation: Strides | None = None
    padding: Pads | None = None
    output_padding: OutPads | None = None
    output_size: OutSizes | None = Field(
        None, description="conv_transpose, max_unpool: the wanted output size")
    groups: Channels | None = None
    in_channels: Channels | None = None
    out_channels: Channels | None = None
    ceil_mode: bool | None = None
    count_include_pad: bool | None = None
    position: Literal["top-left", "center"] | None = None
    mode: Literal["nearest", "nearest-exact", "linear", "bilinear"] | None = None
    scale_factor: Scale | Annotated[list[Scale], Field(min_length=1, max_length=2)] | None = None
    size: OutSizes | None = Field(None, description="interpolate: the output size")
    align_corners: bool | None = None
    upscale_factor: Annotated[int, Field(strict=True, ge=1, le=8)] | None = None
    values: Literal["none", "range", "random"] | None = Field(
        None, description="'range' (default): 1..n and a kernel of ones; 'random': integers "
                          "-3..3 from seed")
    seed: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] | None = None
    input_values: Annotated[list[Value], Field(max_length=4096)] | None = Field(
        None, description="explicit input values, row-major (pixel_shuffle: channel-major)")
    kernel_values: Annotated[list[Value], Field(max_length=256)] | None = Field(
        None, description="explicit kernel values, row-major (conv, conv_transpose)")


class SolveBody(BaseModel):
    """Set the output size, solve the rest (``null`` = free, else held fixed)."""

    model_config = ConfigDict(extra="ignore")

    op: Literal["conv_transpose", "conv"] = "conv_transpose"
    input_size: Sizes
    output_size: OutSizes
    kernel_size: Kernel | None = None
    stride: Strides | None = None
    padding: Pads | None = None
    dilation: Strides | None = None


class CheckerboardBody(BaseModel):
    """Kernel overlap counts of stacked transposed convolutions (or resize-conv)."""

    model_config = ConfigDict(extra="ignore")

    kernel_size: Kernel
    stride: Strides
    dilation: Strides | None = None
    layers: Annotated[int, Field(strict=True, ge=1, le=3)] | None = None
    method: Literal["transposed", "resize-conv"] | None = None


class ErrorReply(BaseModel):
    """The library's message (400) or the size cap (413)."""

    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorReply, "description": "the library's error message for these "
                                               "parameters, or a work cap"},
    413: {"model": ErrorReply, "description": "request body over 64 KiB"},
}


def _dump(model: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in model.model_dump().items() if v is not None}


class _BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets a 413, unread by the app."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._reject(send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._reject(send)
                return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Any) -> None:
        payload = json.dumps({"detail": f"request body over the cap of {self.limit} bytes"
                                        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


_PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>upconv serve</title>
</head><body><h1>upconv serve</h1><p>The page (static/index.html) is not installed; the JSON
API is: see <a href="/api">/api</a> and <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""


def _schema_fields(schema: dict[str, Any], ref: str | None) -> list[str]:
    if not ref:
        return []
    model = schema.get("components", {}).get("schemas", {}).get(ref.split("/")[-1], {})
    rows = []
    for name, prop in model.get("properties", {}).items():
        text = json.dumps({k: v for k, v in prop.items() if k != "title"}, ensure_ascii=False)
        req = " (required)" if name in model.get("required", []) else ""
        rows.append(f"<li><code>{html.escape(name)}</code>{req}: <small>"
                    f"{html.escape(text)}</small></li>")
    return rows


def _api_page(schema: dict[str, Any]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>upconv serve API"
             f"</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}"
             f"code{{background:#eee;padding:0 .2em}}small{{color:#555}}</style></head><body>"
             f"<h1>upconv serve API {html.escape(str(schema['info']['version']))}</h1>"
             "<p>JSON over HTTP on this machine; the full schema is "
             "<a href='/openapi.json'>/openapi.json</a>. Errors: 422 (schema), 400 (the "
             "library's message or a work cap), 413 (body over 64 KiB).</p>"]
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            parts.append(f"<h2><code>{method.upper()} {html.escape(path)}</code></h2>"
                         f"<p>{html.escape(op.get('summary', ''))}</p>")
            desc = op.get("description")
            if desc:
                parts.append(f"<p><small>{html.escape(desc)}</small></p>")
            params = [f"<li><code>{html.escape(p['name'])}</code>: <small>"
                      f"{html.escape(json.dumps(p.get('schema', {})))}</small></li>"
                      for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            fields = _schema_fields(schema, body.get("schema", {}).get("$ref"))
            if params or fields:
                parts.append("<ul>" + "".join(params + fields) + "</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def create_app() -> FastAPI:
    """Build the explorer's FastAPI application (see the module docstring).

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> app = create_app()
    >>> app.docs_url, app.redoc_url, "/api/explain" in app.openapi()["paths"]
    (None, None, True)
    """
    from .. import __version__

    app = FastAPI(title="upconv serve", version=__version__, docs_url=None, redoc_url=None,
                  description="The JSON API of the upconv explorer: every number is computed "
                              "by the upconv library.")
    app.add_middleware(_BodyLimit, limit=MAX_BODY)

    async def library_error(request: Request, exc: Exception) -> Response:
        # The library's refusals (ShapeError, and the TypeError/ValueError its validation
        # raises) are the client's fault: 400 with the message.  The same exception types
        # raised anywhere else (NumPy, numba, ...) are our bug: 500, so the fuzz test sees it.
        if _raised_by_upconv(exc):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"},
                            status_code=500)

    app.add_exception_handler(ValueError, library_error)
    app.add_exception_handler(TypeError, library_error)

    @app.post("/api/explain", responses=_ERRORS, summary="the picture and the animation")
    def explain(params: Params) -> Response:
        """Canvases, steps with their taps, per-cell formulas and contributions, the output."""
        return JSONResponse(_api.explain(_dump(params)))

    @app.post("/api/solve", responses=_ERRORS, summary="set the output size, solve the rest")
    def solve(body: SolveBody) -> Response:
        """Every layer mapping input_size to output_size, best first (at most 20)."""
        return JSONResponse(_api.solve(_dump(body)))

    @app.post("/api/code", responses=_ERRORS, summary="equivalent code per framework")
    def code(params: Params) -> Response:
        """PyTorch, Keras, JAX and ONNX code from upconv.conventions, plus the upconv call."""
        return JSONResponse(_api.code(_dump(params)))

    @app.post("/api/checkerboard", responses=_ERRORS, summary="kernel overlap map")
    def checkerboard(body: CheckerboardBody) -> Response:
        """Taps per output position of stacked transposed convolutions, and the verdict."""
        return JSONResponse(_api.checkerboard(_dump(body)))

    @app.post("/api/matrix", responses=_ERRORS, summary="the matrices C and Cᵀ (small cases)")
    def matrix(params: Params) -> Response:
        """Non-zero entries of the convolution matrix and its transpose (≤ 64 cells each)."""
        return JSONResponse(_api.matrix(_dump(params)))

    @app.get("/api/meta", summary="ops, parameters, caps and defaults")
    def meta() -> Response:
        """What the page builds its controls from."""
        return JSONResponse(_api.meta())

    @app.get("/api/image", responses=_ERRORS, summary="a bundled photo upsampled by each method")
    def image(name: Literal["camera", "astronaut"] = "camera",
              factor: Annotated[int, Query(ge=2, le=4)] = 2) -> Response:
        """PNG data URLs of the crop, its downsampled version and each method, with PSNR."""
        from ._images import image as make

        return JSONResponse(make(name, factor))

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_page() -> Response:
        return HTMLResponse(_api_page(app.openapi()))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> Response:
        page = STATIC / "index.html"
        if page.is_file():
            return FileResponse(page, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_PLACEHOLDER)

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    return app


def _raised_by_upconv(exc: BaseException) -> bool:
    """Whether ``exc`` is a ShapeError or was raised by upconv's own (non-compiled) code."""
    from .._validate import ShapeError

    if isinstance(exc, ShapeError):
        return True
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return False
    module = str(last.tb_frame.f_globals.get("__name__", ""))
    return module.startswith("upconv.") and module != "upconv.ops._numba"
