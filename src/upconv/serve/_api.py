"""The explorer's JSON replies, computed by the library: pure functions, no web imports.

Every public function takes a plain ``dict`` of request parameters (the ``Params`` of
``/work/notes/serve_contract.md``: ``op``, ``input_size``, ``kernel_size``, ...; lists per
spatial dimension or a bare int broadcast to every dimension) and returns a JSON-ready
``dict``.  The numbers come from :func:`upconv.explain._steps.build` (the same index maps
that :func:`upconv.explain.animate` draws), :mod:`upconv.shapes` (sizes and solvers),
:mod:`upconv.conventions` (framework code) and the ops themselves; nothing is recomputed
here.  Invalid parameters raise :class:`upconv.ShapeError` (or ``TypeError``) with a message
naming the parameter, the value and the rule or the cap, which the web layer turns into a
400.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validate import ShapeError
from ..explain import _steps
from ..explain._steps import Plan, Tap, cells, describe, fmt_num, index_text

__all__ = [
    "DEFAULTS",
    "LIMITS",
    "OPS",
    "checkerboard",
    "code",
    "explain",
    "matrix",
    "meta",
    "normalize",
    "solve",
]

OPS = (*_steps.OPS, "pixel_shuffle")
VIEWS = {**_steps.VIEWS, "pixel_shuffle": ("scatter",)}
TITLES = {**_steps.TITLES, "pixel_shuffle": "pixel shuffle"}

# The work caps (every one names itself in the error message that enforces it).
LIMITS: dict[str, Any] = {
    "max_size": 64,            # input_size, per dimension
    "max_kernel": 16,          # kernel_size
    "max_stride": 8,           # stride, dilation
    "max_padding": 16,         # padding
    "max_output_padding": 7,
    "max_canvas": 128,         # output size per dimension (output_size, size, computed sizes)
    "max_taps": 100_000,       # taps of one explain plan
    "max_matrix_cells": 64,    # /api/matrix: input and output cells
    "max_channels": 64,        # groups, in_channels, out_channels
    "max_upscale": 8,          # pixel_shuffle upscale_factor
    "min_scale": 0.25,
    "max_scale": 8.0,          # interpolate scale_factor
    "max_value": 1000.0,       # |input_values|, |kernel_values|
    "max_values": 4096,        # length of input_values / kernel_values
    "max_layers": 3,           # checkerboard layers
    "max_checkerboard": 256,   # checkerboard map, per dimension
    "max_solutions": 20,
    "max_body_bytes": 65536,   # enforced by the web layer (413)
}

DEFAULTS: dict[str, Any] = {
    "op": "conv_transpose",
    "view": None,
    "input_size": [4, 4],
    "kernel_size": [3, 3],
    "stride": None,
    "dilation": None,
    "padding": None,
    "output_padding": None,
    "output_size": None,
    "groups": 1,
    "in_channels": 1,
    "out_channels": 1,
    "ceil_mode": False,
    "count_include_pad": True,
    "position": "top-left",
    "mode": "nearest",
    "scale_factor": None,
    "size": None,
    "align_corners": None,
    "upscale_factor": 2,
    "values": "range",
    "seed": 0,
    "input_values": None,
    "kernel_values": None,
}

# The parameters each op reads (the others are ignored, so the URL state may carry them).
TAKES: dict[str, tuple[str, ...]] = {
    "conv": ("kernel_size", "stride", "padding", "dilation", "groups", "in_channels",
             "out_channels"),
    "conv_transpose": ("kernel_size", "stride", "padding", "dilation", "output_padding",
                       "output_size", "groups", "in_channels", "out_channels"),
    "max_pool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avg_pool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "max_unpool": ("kernel_size", "stride", "padding", "output_size"),
    "unpool": ("kernel_size", "position"),
    "interpolate": ("mode", "scale_factor", "size", "align_corners"),
    "pixel_shuffle": ("upscale_factor",),
}
_COMMON = ("op", "view", "input_size", "values", "seed", "input_values", "kernel_values")
_KERNEL_OPS = ("conv", "conv_transpose")
_FUNC = "upconv serve"

Json = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Parameters


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _per_dim(value: Any, n: int, name: str, lo: int, hi: int) -> tuple[int, ...] | None:
    """None, an int broadcast to ``n`` dimensions, or ``n`` ints, each in ``lo..hi``."""
    if value is None:
        return None
    items = [value] * n if _is_int(value) else value
    if not isinstance(items, list | tuple) or not all(_is_int(v) for v in items):
        raise TypeError(f"{_FUNC}: {name}={value!r} must be an int or a list of ints")
    if len(items) != n:
        raise ShapeError(
            f"{_FUNC}: {name}={list(items)} has {len(items)} value{'s' if len(items) != 1 else ''}"
            f" but input_size has {n} dimension{'s' if n != 1 else ''}; give one per dimension"
        )
    for v in items:
        if not lo <= v <= hi:
            raise ShapeError(f"{_FUNC}: {name}={list(items)}: every value must lie in "
                             f"{lo}..{hi} (the explorer's cap), got {v}")
    return tuple(int(v) for v in items)


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if not _is_int(value):
        raise TypeError(f"{_FUNC}: {name}={value!r} must be an int")
    if not lo <= value <= hi:
        raise ShapeError(f"{_FUNC}: {name}={value} must lie in {lo}..{hi}")
    return int(value)


def _choice(value: Any, name: str, options: Sequence[Any]) -> Any:
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        raise ShapeError(f"{_FUNC}: {name}={value!r} is not one of {shown}")
    return value


def _floats(value: Any, name: str, n: int, length: int | None = None) -> list[float] | None:
    if value is None:
        return None
    items = [value] * n if isinstance(value, int | float) and not isinstance(value, bool) \
        else value
    if not isinstance(items, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{_FUNC}: {name} must be a number or a list of numbers")
    out = [float(v) for v in items]
    if not all(math.isfinite(v) for v in out):
        raise ShapeError(f"{_FUNC}: {name} must hold finite numbers")
    if length is not None and len(out) != length:
        raise ShapeError(f"{_FUNC}: {name} has {len(out)} values but the array it fills has "
                         f"{length} cells (row-major)")
    return out


def normalize(params: dict[str, Any]) -> Json:
    """Check ``params`` against the explorer's rules and caps and fill in the defaults.

    Parameters
    ----------
    params : dict
        ``op`` (required) and any of the ``Params`` fields; ``None`` means the default.  Sizes
        are lists with one int per spatial dimension, or a bare int that is broadcast (a bare
        int ``input_size`` means 1-d).

    Returns
    -------
    dict
        Every field, per-dimension values as tuples of ``len(input_size)`` ints (``stride`` and
        ``padding`` keep ``None`` for the op's own default), plus ``ndim``.

    Raises
    ------
    ShapeError
        A list of the wrong length, a value beyond its cap, an unknown field or choice.
    TypeError
        A value of the wrong type.

    Examples
    --------
    >>> r = normalize({"op": "conv", "input_size": [5, 6], "kernel_size": 3, "stride": 2})
    >>> r["ndim"], r["kernel_size"], r["stride"], r["padding"]
    (2, (3, 3), (2, 2), None)
    >>> normalize({"op": "conv", "input_size": [5, 6], "stride": [1, 2, 3]})
    Traceback (most recent call last):
    ...
    upconv._validate.ShapeError: upconv serve: stride=[1, 2, 3] has 3 values but input_size \
has 2 dimensions; give one per dimension
    """
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ShapeError(f"{_FUNC}: unknown parameter{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    if params.get("op") is None:
        raise ShapeError(f"{_FUNC}: op is required; one of {', '.join(OPS)}")
    # a missing kernel_size is 3 in every dimension (DEFAULTS shows it for the default 2-d)
    p = {**DEFAULTS, "kernel_size": 3, **{k: v for k, v in params.items() if v is not None}}
    op = _choice(p["op"], "op", OPS)
    # fields the op does not read are ignored (the page's URL state may carry stale ones)
    for name in set(DEFAULTS) - set(_COMMON) - set(TAKES[op]):
        p[name] = 3 if name == "kernel_size" else DEFAULTS[name]
    size = p["input_size"]
    if _is_int(size):
        size = [size]
    if not isinstance(size, list | tuple) or len(size) not in (1, 2):
        raise ShapeError(f"{_FUNC}: input_size={size!r} must be 1 or 2 ints (1-d or 2-d)")
    n = len(size)
    L = LIMITS
    r: Json = {"op": op, "ndim": n}
    r["input_size"] = _per_dim(size, n, "input_size", 1, L["max_size"])
    view = p["view"]
    r["view"] = VIEWS[op][0] if view is None else _choice(view, "view", VIEWS[op])
    r["kernel_size"] = _per_dim(p["kernel_size"], n, "kernel_size", 1, L["max_kernel"])
    r["stride"] = _per_dim(p["stride"], n, "stride", 1, L["max_stride"])
    r["dilation"] = _per_dim(p["dilation"], n, "dilation", 1, L["max_stride"])
    r["padding"] = _per_dim(p["padding"], n, "padding", 0, L["max_padding"])
    r["output_padding"] = _per_dim(p["output_padding"], n, "output_padding", 0,
                                   L["max_output_padding"])
    r["output_size"] = _per_dim(p["output_size"], n, "output_size", 1, L["max_canvas"])
    r["size"] = _per_dim(p["size"], n, "size", 1, L["max_canvas"])
    for name in ("groups", "in_channels", "out_channels"):
        r[name] = _int(p[name], name, 1, L["max_channels"])
    for name in ("ceil_mode", "count_include_pad"):
        if not isinstance(p[name], bool):
            raise TypeError(f"{_FUNC}: {name}={p[name]!r} must be true or false")
        r[name] = p[name]
    r["align_corners"] = _choice(p["align_corners"], "align_corners", (None, True, False))
    r["position"] = _choice(p["position"], "position", _steps.POSITIONS)
    r["mode"] = _choice(p["mode"], "mode", _steps.MODES)
    scale = _floats(p["scale_factor"], "scale_factor", n)
    if scale is not None:
        if len(scale) != n:
            raise ShapeError(f"{_FUNC}: scale_factor={scale} has {len(scale)} values but "
                             f"input_size has {n} dimensions")
        if not all(L["min_scale"] <= v <= L["max_scale"] for v in scale):
            raise ShapeError(f"{_FUNC}: scale_factor={scale}: every value must lie in "
                             f"{L['min_scale']}..{L['max_scale']} (the explorer's cap)")
        r["scale_factor"] = tuple(scale)
    else:
        r["scale_factor"] = None
    if op == "interpolate" and r["size"] is None and r["scale_factor"] is None:
        r["scale_factor"] = (2.0,) * n
    r["upscale_factor"] = _int(p["upscale_factor"], "upscale_factor", 1, L["max_upscale"])
    r["values"] = _choice(p["values"], "values", ("none", "range", "random"))
    r["seed"] = _int(p["seed"], "seed", 0, 2**31 - 1)
    for name in ("input_values", "kernel_values"):
        vals = _floats(p[name], name, 1)
        if vals is not None and (len(vals) > L["max_values"]
                                 or any(abs(v) > L["max_value"] for v in vals)):
            raise ShapeError(f"{_FUNC}: {name}: at most {L['max_values']} values, each within "
                             f"±{L['max_value']:g}")
        r[name] = vals
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool") \
            and r["kernel_size"] is None:
        raise ShapeError(f"{_FUNC}: op={op!r} needs kernel_size")
    return r


def _show(t: Sequence[Any]) -> str:
    return "×".join(str(v) for v in t)


def _or(v: tuple[int, ...] | None, default: int, n: int) -> tuple[int, ...]:
    return (default,) * n if v is None else v


def _pool_stride(r: Json) -> tuple[int, ...]:
    return r["stride"] if r["stride"] is not None else r["kernel_size"]


def _output_size(r: Json) -> tuple[int, ...]:
    """The op's output size from :mod:`upconv.shapes` (raises the library's ShapeError)."""
    from .. import shapes

    op, i, n, k = r["op"], r["input_size"], r["ndim"], r["kernel_size"]
    s, p, d = _or(r["stride"], 1, n), _or(r["padding"], 0, n), _or(r["dilation"], 1, n)
    out: Any
    if op == "conv":
        out = shapes.conv_output_size(i, k, s, p, d)
    elif op == "conv_transpose":
        out = shapes.transpose_geometry(i, k, s, p, _or(r["output_padding"], 0, n), d,
                                        output_size=r["output_size"], func="explain").output_size
    elif op in ("max_pool", "avg_pool"):
        out = shapes.pool_output_size(i, k, _pool_stride(r), p, d if op == "max_pool" else 1,
                                      r["ceil_mode"])
    elif op == "max_unpool":
        s = _pool_stride(r)
        out = r["output_size"] or tuple((a - 1) * b - 2 * c + e for a, b, c, e in zip(
            i, s, p, k, strict=True))
    elif op == "unpool":
        out = tuple(a * b for a, b in zip(i, k, strict=True))
    elif op == "interpolate":
        out = r["size"] or tuple(math.floor(a * f) for a, f in zip(
            i, r["scale_factor"], strict=True))
    else:
        out = tuple(a * r["upscale_factor"] for a in i)
    return tuple(out)


def _taps(r: Json, out: tuple[int, ...]) -> int:
    op, i, k = r["op"], r["input_size"], r["kernel_size"]
    if op in ("conv", "max_pool", "avg_pool") or (op == "conv_transpose"
                                                  and r["view"] == "direct"):
        return math.prod(out) * math.prod(k)
    if op == "conv_transpose":
        return math.prod(i) * math.prod(k)
    if op in ("unpool", "max_unpool"):
        return math.prod(i)
    if op == "interpolate":
        return math.prod(out) * (2 ** r["ndim"] if r["mode"] in ("linear", "bilinear") else 1)
    return math.prod(i) * r["upscale_factor"] ** r["ndim"]


def _check_caps(r: Json) -> tuple[int, ...]:
    out = _output_size(r)
    cap = LIMITS["max_canvas"]
    if any(o < 1 for o in out):
        raise ShapeError(f"{_FUNC}: op={r['op']!r} gives an empty output {_show(out)} for "
                         f"input_size {_show(r['input_size'])}")
    if max(out) > cap:
        raise ShapeError(f"{_FUNC}: the output size would be {_show(out)}, over the explorer's "
                         f"cap of {cap} per dimension; make input_size, stride or the scale "
                         "smaller")
    taps = _taps(r, out)
    if taps > LIMITS["max_taps"]:
        raise ShapeError(f"{_FUNC}: this picture has {taps} taps (kernel products), over the "
                         f"explorer's cap of {LIMITS['max_taps']}; make input_size or "
                         "kernel_size smaller")
    return out


def _arrays(r: Json, deep: int = 1) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Input and kernel values: explicit, ``'range'`` (None: the plan's defaults), random."""
    dims = (deep, *r["input_size"]) if deep > 1 else r["input_size"]
    kernel_op = r["op"] in _KERNEL_OPS
    x: np.ndarray | None = None
    w: np.ndarray | None = None
    if r["values"] == "random":
        rng = np.random.default_rng(r["seed"])
        x = np.asarray(rng.integers(-3, 4, size=dims), dtype=np.float64)
        if kernel_op:
            w = np.asarray(rng.integers(-3, 4, size=r["kernel_size"]), dtype=np.float64)
    if r["input_values"] is not None:
        x = np.array(_floats(r["input_values"], "input_values", 1, math.prod(dims))
                     ).reshape(dims)
    if r["kernel_values"] is not None:
        if not kernel_op:
            raise ShapeError(f"{_FUNC}: kernel_values applies to conv and conv_transpose only, "
                             f"not op={r['op']!r}")
        w = np.array(_floats(r["kernel_values"], "kernel_values", 1,
                             math.prod(r["kernel_size"]))).reshape(r["kernel_size"])
    return x, w


def _numbers(r: Json) -> bool:
    return r["values"] != "none" or r["input_values"] is not None \
        or r["kernel_values"] is not None


def _num(v: Any) -> float | None:
    """A float for JSON: None for None, NaN and ±inf (JSON has no infinities)."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _nested(a: np.ndarray) -> Any:
    if a.ndim == 0:
        return _num(a)
    return [_nested(v) for v in a]


# ---------------------------------------------------------------------------------------------
# explain


class _Canvas:
    """A box ``lo <= cell < lo + shape`` with row-major flat indices."""

    def __init__(self, lo: Sequence[int], hi: Sequence[int]) -> None:
        self.lo = tuple(lo)
        self.shape = tuple(h - a for a, h in zip(lo, hi, strict=True))
        self.hi = tuple(hi)
        self.index = {c: i for i, c in enumerate(cells(self.lo, self.hi))}

    def flat(self, cell: Sequence[int]) -> int:
        return self.index[tuple(cell)]  # a KeyError here is a bug: every cell is on its canvas

    def cells(self) -> list[tuple[int, ...]]:
        return list(self.index)

    def box(self, name: str, kinds: list[str], values: list[float | None] | None,
            labels: list[str] | None = None) -> Json:
        out: Json = {"name": name, "lo": list(self.lo), "shape": list(self.shape),
                     "kinds": kinds, "values": values}
        if labels is not None or name != "output":
            out["labels"] = labels
        return out


def _build_plan(r: Json, x: np.ndarray | None, w: np.ndarray | None) -> Plan:
    op = r["op"]
    kw: Json = {"view": r["view"], "values": x, "kernel": w, "numbers": _numbers(r)}
    args: Json = {}
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "unpool"):
        args["kernel_size"] = r["kernel_size"]
    if op in ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool"):
        args["stride"], args["padding"] = r["stride"], r["padding"]
    if op in ("conv", "conv_transpose", "max_pool"):
        args["dilation"] = r["dilation"]
    if op == "conv_transpose":
        args["output_padding"] = r["output_padding"]
    if op in ("conv_transpose", "max_unpool"):
        kw["output_size"] = r["output_size"]
    if op in ("max_pool", "avg_pool"):
        kw["ceil_mode"] = r["ceil_mode"]
    if op == "avg_pool":
        kw["count_include_pad"] = r["count_include_pad"]
    if op == "unpool":
        kw["position"] = r["position"]
    if op == "interpolate":
        kw.update(size=r["size"], scale_factor=None if r["size"] is not None else
                  list(r["scale_factor"]), mode=r["mode"], align_corners=r["align_corners"])
    return _steps.build("explain", op, r["input_size"], **args, **kw)


def _library_output(r: Json, plan: Plan) -> np.ndarray:
    """The op itself on the plan's values (``(1, 1, *spatial)``), spatial result."""
    import upconv

    assert plan.x is not None
    x = plan.x[None, None]
    op, n = r["op"], r["ndim"]
    s, p = r["stride"], _or(r["padding"], 0, n)
    d = _or(r["dilation"], 1, n)
    out: Any
    if op == "conv":
        assert plan.weight is not None
        out = upconv.conv(x, plan.weight[None, None], stride=_or(s, 1, n), padding=p,
                          dilation=d)
    elif op == "conv_transpose":
        assert plan.weight is not None
        out = upconv.conv_transpose(x, plan.weight[None, None], stride=_or(s, 1, n), padding=p,
                                    output_padding=_or(r["output_padding"], 0, n), dilation=d,
                                    output_size=r["output_size"])
    elif op == "max_pool":
        out = upconv.max_pool(x, r["kernel_size"], _pool_stride(r), p, d, r["ceil_mode"])
    elif op == "avg_pool":
        out = upconv.avg_pool(x, r["kernel_size"], _pool_stride(r), p, r["ceil_mode"],
                              r["count_include_pad"])
    elif op == "max_unpool":
        assert plan.indices is not None
        out = upconv.max_unpool(x, plan.indices[None, None], r["kernel_size"], _pool_stride(r),
                                p, r["output_size"])
    elif op == "unpool":
        out = upconv.unpool(x, r["kernel_size"], position=r["position"])
    else:
        mode = plan.params["mode"]
        out = upconv.interpolate(x, size=r["size"], scale_factor=None if r["size"] else
                                 r["scale_factor"], mode=mode, align_corners=r["align_corners"])
    return np.asarray(out)[0, 0]


_FACTORS: dict[float, str] = {}


def _factor(v: float | None) -> str:
    key = float(v or 0.0)
    text = _FACTORS.get(key)
    if text is None:
        text = fmt_num(key)
        text = f"({text})" if text.startswith("-") else text
        if len(_FACTORS) < 100_000:
            _FACTORS[key] = text
    return text


def _kernel_formula(plan: Plan, name: str, taps: list[Tap], total: float | None) -> str:
    real = [t for t in taps if t.input is not None]
    where = "inserted zeros or padding" if plan.view == "direct" else "padding"
    if not real:
        return f"{name} = 0: every tap falls on {where}"
    if plan.x is not None:
        terms = " + ".join(f"{_factor(plan.x[t.input])}·{_factor(t.weight)}" for t in real
                           if t.input is not None)
        return f"{name} = {terms} = {fmt_num(total or 0.0)}"
    terms = " + ".join(f"{index_text('x', t.input or ())}·{index_text('w', t.kernel or ())}"
                       for t in real)
    return f"{name} = {terms}"


def _formulas(plan: Plan, dst: _Canvas, sums: dict[tuple[int, ...], float]) -> list[str | None]:
    """Per destination cell: the formula with numbers, from the taps that land there."""
    by_cell: dict[tuple[int, ...], list[Tap]] = {}
    gather: dict[tuple[int, ...], Any] = {}
    for step in plan.steps:
        if plan.op in ("max_pool", "avg_pool", "interpolate"):
            gather[step.targets[0]] = step
        for t in step.taps:
            by_cell.setdefault(t.dst, []).append(t)
    out: list[str | None] = []
    for cell in dst.cells():
        taps = by_cell.get(cell)
        if taps is None:
            out.append(None)
            continue
        name = index_text("y", cell)
        if plan.kinds_dst.get(cell) == "crop":
            name += " (cropped by padding)"
        total = sums.get(cell) if plan.numbers else None
        if plan.op in _KERNEL_OPS:
            out.append(_kernel_formula(plan, name, taps, total))
        elif plan.op in ("unpool", "max_unpool"):
            (t,) = taps[-1:]
            value = f" = {fmt_num(total)}" if total is not None else ""
            out.append(f"{name} = {index_text('x', t.src)}{value}")
        else:
            out.append(describe(plan, gather[cell]))
    return out


def _src_values(plan: Plan, src: _Canvas) -> list[float | None] | None:
    if plan.x is None:
        return None
    vals: list[float | None] = []
    for cell in src.cells():
        kind = plan.kinds_src[cell]
        if kind == "outside":
            vals.append(None)
        elif plan.stretch:  # direct view: input unit i sits at s*i
            unit = all(c % s == 0 for c, s in zip(cell, plan.stretch, strict=True)) and all(
                0 <= c // s < n for c, s, n in zip(cell, plan.stretch, plan.input_size,
                                                   strict=True))
            vals.append(_num(plan.x[tuple(c // s for c, s in zip(cell, plan.stretch,
                                                                  strict=True))])
                        if unit and kind in ("input", "crop") else 0.0)
        elif kind == "input":
            vals.append(_num(plan.x[cell]))
        else:
            vals.append(0.0)
    return vals


def _params_json(r: Json, plan: Plan) -> Json:
    pp, op = plan.params, r["op"]
    out: Json = {}
    if "k" in pp:
        out["kernel_size"] = list(pp["k"])
    if "s" in pp:
        out["stride"] = list(pp["s"])
    if "p" in pp:
        out["padding"] = [v[0] if isinstance(v, tuple) else v for v in pp["p"]]
    if "d" in pp and op != "avg_pool":
        out["dilation"] = list(pp["d"])
    if "a" in pp:
        out["output_padding"] = list(pp["a"])
    if op in ("max_pool", "avg_pool"):
        out["ceil_mode"] = pp["ceil_mode"]
    if op == "avg_pool":
        out["count_include_pad"] = pp["count_include_pad"]
    if op == "unpool":
        out["position"] = pp["position"]
    if op == "interpolate":
        out.update(mode=pp["mode"], align_corners=pp["align_corners"],
                   scale_factor=None if r["size"] else list(r["scale_factor"]),
                   size=list(r["size"]) if r["size"] else None)
    if op in ("conv", "conv_transpose"):
        out.update(groups=r["groups"], in_channels=r["in_channels"],
                   out_channels=r["out_channels"])
    out["output_size"] = list(plan.output_size)
    return out


def _equivalent(r: Json, plan: Plan) -> Json | None:
    from .. import shapes

    pp = plan.params
    if r["op"] == "conv_transpose":
        eq = shapes.equivalent_conv(plan.input_size, pp["k"], pp["s"], pp["p"], pp["a"],
                                    pp["d"])
        return {"name": "equivalent direct convolution",
                "params": {"input_size": list(pp["stretched"]), "kernel_size": list(pp["k"]),
                           "stride": [1] * plan.ndim, "padding_before": list(pp["pad_before"]),
                           "padding_after": list(pp["pad_after"]), "dilation": list(pp["d"]),
                           "kernel": "flipped in every spatial axis",
                           "relationship": [int(v) for v in np.atleast_1d(pp["relationship"])]},
                "text": str(eq)}
    if r["op"] == "conv":
        pads = [b for b, _ in pp["p"]]
        a = shapes.output_padding_for(plan.output_size, plan.input_size, pp["k"], pp["s"], pads,
                                      pp["d"])
        return {"name": "transposed convolution back to the input size",
                "params": {"input_size": list(plan.output_size), "kernel_size": list(pp["k"]),
                           "stride": list(pp["s"]), "padding": pads,
                           "dilation": list(pp["d"]),
                           "output_padding": [int(v) for v in np.atleast_1d(a)],
                           "output_size": list(plan.input_size)},
                "text": f"conv_transpose(i′={_show(plan.output_size)}, same k, s, p, d, "
                        f"output_padding={_show(np.atleast_1d(a).tolist())}) → "
                        f"{_show(plan.input_size)}"}
    return None


def _channels(r: Json) -> Json | None:
    op = r["op"]
    if op not in _KERNEL_OPS:
        return None
    c_in, c_out, g = r["in_channels"], r["out_channels"], r["groups"]
    for name, c in (("in_channels", c_in), ("out_channels", c_out)):
        if c % g:
            raise ShapeError(f"{_FUNC}: {name}={c} is not divisible by groups={g}")
    shape = ([c_out, c_in // g] if op == "conv" else [c_in, c_out // g]) + list(
        r["kernel_size"])
    return {"in": c_in, "out": c_out, "groups": g, "kernel_shape": shape,
            "weight_count": math.prod(shape),
            "layout": "(C_out, C_in/groups, *k)" if op == "conv" else
                      "(C_in, C_out/groups, *k)"}


def explain(params: dict[str, Any]) -> Json:
    """The picture and the animation of one operation: canvases, steps, formulas, output.

    Parameters
    ----------
    params : dict
        ``Params`` (see :func:`normalize`).

    Returns
    -------
    dict
        ``op, view, title, ndim, input_size, output_size, kernel_size, shapes, params,
        equivalent, channels, src, dst, kernel, steps, formulas, contrib, output`` as the
        contract describes; the steps and taps are those of
        :func:`upconv.explain._steps.build`, ``output`` is the op's own result.

    Raises
    ------
    ShapeError
        Invalid parameters, or a plan over the caps in :data:`LIMITS`.

    Examples
    --------
    Seed 002: a 2×2 input, a 2×2 kernel of 5s, stride 1.

    >>> e = explain({"op": "conv_transpose", "input_size": [2, 2], "kernel_size": [2, 2],
    ...              "input_values": [1, 2, 3, 4], "kernel_values": [5, 5, 5, 5]})
    >>> e["output"]
    [[5.0, 15.0, 10.0], [20.0, 50.0, 30.0], [15.0, 35.0, 20.0]]
    >>> e["steps"][1]["text"]
    'x[0, 1] = 2 times the kernel adds 10, 10, 10, 10 to y[0:2, 1:3]'
    >>> e["formulas"][4]
    'y[1, 1] = 1·5 + 2·5 + 3·5 + 4·5 = 50'
    """
    r = normalize(params)
    out_size = _check_caps(r)
    if r["op"] == "pixel_shuffle":
        return _explain_shuffle(r, out_size)
    channels = _channels(r)
    x, w = _arrays(r)
    plan = _build_plan(r, x, w)
    src = _Canvas(plan.src_lo, plan.src_hi)
    dst = _Canvas(plan.dst_lo, plan.dst_hi)
    kernel_op = r["op"] in _KERNEL_OPS
    k_shape = plan.kernel_size

    def kflat(t: Tap) -> int:
        if not kernel_op or t.kernel is None or k_shape is None:
            return -1
        return int(np.ravel_multi_index(t.kernel, k_shape))

    sums = plan.canvas_sums() if plan.numbers else {}
    formulas = _formulas(plan, dst, sums)
    # a gather step of a kernel op says what its cell's formula says (describe()'s wording)
    reuse = kernel_op and plan.view != "scatter" and plan.numbers
    steps: list[Json] = []
    contrib: list[list[list[int]]] = [[] for _ in range(math.prod(dst.shape))]
    for step in plan.steps:
        taps = []
        for t in step.taps:
            s_i, k_i, d_i = src.flat(t.src), kflat(t), dst.flat(t.dst)
            taps.append([s_i, k_i, d_i, _num(t.value)])
            contrib[d_i].append([s_i, k_i])
        text = formulas[dst.flat(step.targets[0])] if reuse else None
        item: Json = {"text": text or describe(plan, step),
                      "src": [src.flat(c) for c in step.sources],
                      "dst": [dst.flat(c) for c in step.targets], "taps": taps}
        if step.region:
            item["region"] = [dst.flat(c) for c in step.region]
        if step.switch is not None:
            item["switch"] = step.switch
        steps.append(item)
    dst_cells = dst.cells()
    output = _library_output(r, plan) if plan.numbers else None
    head = f"input {_show(plan.input_size)} → output {_show(plan.output_size)}"
    return {
        "op": r["op"], "view": plan.view, "title": plan.title, "ndim": plan.ndim,
        "input_size": list(plan.input_size), "output_size": list(plan.output_size),
        "kernel_size": list(k_shape) if k_shape is not None else None,
        "shapes": [head, *plan.header[1:]],
        "header": plan.header[0],
        "params": _params_json(r, plan),
        "equivalent": _equivalent(r, plan),
        "channels": channels,
        "src": src.box("stretched input" if plan.view == "direct" else "input",
                       [plan.kinds_src[c] for c in src.cells()], _src_values(plan, src)),
        "dst": dst.box("output", [plan.kinds_dst[c] for c in dst_cells],
                       [_num(sums.get(c, 0.0)) for c in dst_cells] if plan.numbers else None),
        "kernel": ({"shape": list(k_shape), "values": None if plan.weight is None else
                    [_num(v) for v in plan.weight.ravel()]}
                   if kernel_op and k_shape is not None else None),
        "steps": steps,
        "formulas": formulas,
        "contrib": contrib,
        "output": None if output is None else _nested(output),
    }


def _explain_shuffle(r: Json, out_size: tuple[int, ...]) -> Json:
    """Pixel shuffle: the ``r**n`` input channels laid out as an ``r×r`` grid of tiles."""
    import upconv

    n, dims, f = r["ndim"], r["input_size"], r["upscale_factor"]
    deep = f**n
    x, _ = _arrays(r, deep)
    if x is None and _numbers(r):
        x = np.arange(1.0, deep * math.prod(dims) + 1).reshape((deep, *dims))
    tiles = (f,) * n
    src = _Canvas((0,) * n, tuple(t * i for t, i in zip(tiles, dims, strict=True)))
    dst = _Canvas((0,) * n, out_size)
    sub = list(cells((0,) * n, tiles))  # channel c = i*r + j (CRD, one output channel)
    steps, labels = [], [""] * math.prod(src.shape)
    formulas: list[str | None] = [None] * math.prod(dst.shape)
    contrib: list[list[list[int]]] = [[] for _ in formulas]
    dst_values: list[float | None] = [None] * len(formulas)
    for c, ij in enumerate(sub):
        for cell in cells((0,) * n, dims):
            s_cell = tuple(ij[a] * dims[a] + cell[a] for a in range(n))
            d_cell = tuple(cell[a] * f + ij[a] for a in range(n))
            s_i, d_i = src.flat(s_cell), dst.flat(d_cell)
            labels[s_i] = f"c{c}"
            name = index_text("x", (c, *cell))
            value = None if x is None else float(x[(c, *cell)])
            shown = "" if value is None else f" = {fmt_num(value)}"
            steps.append({"text": f"{name}{shown} goes to {index_text('y', d_cell)}",
                          "src": [s_i], "dst": [d_i], "taps": [[s_i, -1, d_i, value]]})
            formulas[d_i] = f"{index_text('y', d_cell)} = {name}{shown}"
            contrib[d_i].append([s_i, -1])
            dst_values[d_i] = value
    output = None
    if x is not None:
        output = _nested(np.asarray(upconv.pixel_shuffle(x[None], f, ndim=n))[0, 0])
    rows = [f"o = i·r = {dims[a]}·{f} = {out_size[a]}" for a in range(n)]
    shapes = [f"input {deep}×{_show(dims)} (channels × spatial) → output {_show(out_size)}",
              *(rows[:1] if len(set(rows)) == 1 else rows),
              "channel c = " + ("i·r + j" if n == 2 else "j") + " of the input goes to y["
              + ("h·r + i, w·r + j" if n == 2 else "w·r + j") + "] (PyTorch's CRD order)"]
    src_vals: list[float | None] | None = None
    if x is not None:
        src_vals = [0.0] * math.prod(src.shape)
        for c, ij in enumerate(sub):
            for cell in cells((0,) * n, dims):
                s_cell = tuple(ij[a] * dims[a] + cell[a] for a in range(n))
                src_vals[src.flat(s_cell)] = float(x[(c, *cell)])
    return {
        "op": "pixel_shuffle", "view": "scatter", "title": TITLES["pixel_shuffle"], "ndim": n,
        "input_size": list(dims), "output_size": list(out_size), "kernel_size": None,
        "shapes": shapes, "header": f"pixel_shuffle: {deep} channels of {_show(dims)}, "
                                    f"upscale_factor={f} → {_show(out_size)}",
        "params": {"upscale_factor": f, "in_channels": deep, "output_size": list(out_size)},
        "equivalent": None, "channels": {"in": deep, "out": 1, "groups": 1,
                                         "kernel_shape": [], "weight_count": 0},
        "src": {**src.box("input channels", ["input"] * math.prod(src.shape), src_vals,
                          labels), "tiles": list(tiles), "tile_shape": list(dims)},
        "dst": dst.box("output", ["output"] * math.prod(dst.shape),
                       dst_values if x is not None else None),
        "kernel": None, "steps": steps, "formulas": formulas, "contrib": contrib,
        "output": output,
    }


# ---------------------------------------------------------------------------------------------
# solve


def _solution_dicts(per_dim: list[list[Any]], explanations: list[str], transposed: bool
                    ) -> list[Json]:
    n = len(per_dim)
    keys = ["kernel_size", "stride", "padding", "dilation", "output_padding"]
    cap = LIMITS["max_solutions"]
    if n == 1 or all(d == per_dim[0] for d in per_dim):
        combos = [(sol,) * n for sol in per_dim[0][:cap]]
    else:
        ranked = [(a + b, max(a, b), a, b) for a in range(min(len(per_dim[0]), cap))
                  for b in range(min(len(per_dim[1]), cap))]
        ranked.sort()
        combos = [(per_dim[0][a], per_dim[1][b]) for _, _, a, b in ranked[:cap]]
    out = []
    for combo in combos:
        item: Json = {key: [getattr(s, key) for s in combo] for key in keys}
        texts = [str(s) for s in combo]
        item["explanation"] = texts[0] if len(set(texts)) == 1 else "; ".join(
            f"{name}: {t}" for name, t in zip(("rows", "cols"), texts, strict=False))
        if transposed:
            item["checkerboard_free"] = all(s.checkerboard_free for s in combo)
            item["mirrors_conv"] = all(s.mirrors_conv for s in combo)
        else:
            item["unused_inputs"] = [s.unused_inputs for s in combo]
        out.append(item)
    return out


def solve(params: dict[str, Any]) -> Json:
    """Every layer that maps ``input_size`` to ``output_size``, best first (the library's solver).

    Parameters
    ----------
    params : dict
        ``op`` (``'conv_transpose'`` or ``'conv'``), ``input_size``, ``output_size`` and
        optionally ``kernel_size``, ``stride``, ``padding``, ``dilation`` to hold fixed (None
        = free; an int or one per dimension).

    Returns
    -------
    dict
        ``solutions`` (at most 20, each with per-dimension ``kernel_size``, ``stride``,
        ``padding``, ``dilation``, ``output_padding`` and an ``explanation``) and ``message``
        (the solver's explanation, per dimension).  No solution is an empty list.

    Examples
    --------
    >>> r = solve({"op": "conv_transpose", "input_size": [7, 7], "output_size": [14, 14]})
    >>> r["solutions"][0]["explanation"]
    'kernel_size=2, stride=2, padding=0, output_padding=0'
    >>> solve({"op": "conv_transpose", "input_size": 7, "output_size": 14, "kernel_size": 2,
    ...        "stride": 3, "dilation": 1})["solutions"]
    []
    """
    from .. import shapes

    allowed = {"op", "input_size", "output_size", "kernel_size", "stride", "padding",
               "dilation"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ShapeError(f"{_FUNC}: solve takes {', '.join(sorted(allowed))}; unknown: "
                         f"{', '.join(unknown)}")
    op = _choice(params.get("op", "conv_transpose"), "op", ("conv_transpose", "conv"))
    size = params.get("input_size")
    if _is_int(size):
        size = [size]
    if not isinstance(size, list | tuple) or len(size) not in (1, 2):
        raise ShapeError(f"{_FUNC}: input_size={size!r} must be 1 or 2 ints")
    n = len(size)
    L = LIMITS
    dims = _per_dim(size, n, "input_size", 1, L["max_size"])
    target = _per_dim(params.get("output_size"), n, "output_size", 1, L["max_canvas"])
    if dims is None or target is None:
        raise ShapeError(f"{_FUNC}: solve needs input_size and output_size")
    fixed = {
        "kernel_size": _per_dim(params.get("kernel_size"), n, "kernel_size", 1, L["max_kernel"]),
        "stride": _per_dim(params.get("stride"), n, "stride", 1, L["max_stride"]),
        "padding": _per_dim(params.get("padding"), n, "padding", 0, L["max_padding"]),
        "dilation": _per_dim(params.get("dilation"), n, "dilation", 1, L["max_stride"]),
    }
    solver: Callable[..., Any] = (shapes.solve_conv_transpose if op == "conv_transpose"
                                  else shapes.solve_conv)
    per_dim, texts = [], []
    for a in range(n):
        kw = {k: (None if v is None else v[a]) for k, v in fixed.items()}
        sols = solver(dims[a], target[a], **kw)
        per_dim.append(list(sols))
        texts.append(sols.explanation)
    message = texts[0] if len(set(texts)) == 1 else "; ".join(
        f"{name}: {t}" for name, t in zip(("rows", "cols"), texts, strict=False))
    if not all(per_dim):
        return {"solutions": [], "message": message}
    return {"solutions": _solution_dicts(per_dim, texts, op == "conv_transpose"),
            "message": message}


# ---------------------------------------------------------------------------------------------
# code


_FRAMEWORKS = ("torch", "keras", "jax", "onnx")


def _tuple_text(t: Sequence[Any]) -> str:
    return str(t[0]) if len(set(t)) == 1 else str(tuple(t))


def _upconv_call(r: Json) -> str:
    op, n = r["op"], r["ndim"]
    k = _tuple_text(r["kernel_size"]) if r["kernel_size"] else None
    s = None if r["stride"] is None else _tuple_text(r["stride"])
    p = None if r["padding"] is None else _tuple_text(r["padding"])
    d = None if r["dilation"] is None else _tuple_text(r["dilation"])
    spatial = "L" if n == 1 else "H, W"

    def args(*pairs: tuple[str, Any]) -> str:
        return "".join(f", {name}={v}" for name, v in pairs if v is not None and v != "0"
                       and not (name in ("stride", "dilation", "groups") and v == "1"))

    if op == "conv":
        return (f"y = upconv.conv(x, w{args(('stride', s), ('padding', p), ('dilation', d), ('groups', str(r['groups'])))})"  # noqa: E501
                f"  # x: (N, {r['in_channels']}, {spatial}), w: "
                f"({r['out_channels']}, {r['in_channels'] // r['groups']}, {k})")
    if op == "conv_transpose":
        a = None if r["output_padding"] is None else _tuple_text(r["output_padding"])
        o = None if r["output_size"] is None else str(tuple(r["output_size"]))
        return (f"y = upconv.conv_transpose(x, w{args(('stride', s), ('padding', p), ('output_padding', a), ('groups', str(r['groups'])), ('dilation', d), ('output_size', o))})"  # noqa: E501
                f"  # x: (N, {r['in_channels']}, {spatial}), w: "
                f"({r['in_channels']}, {r['out_channels'] // r['groups']}, {k})")
    if op == "max_pool":
        return (f"y, idx = upconv.max_pool(x, {k}{args(('stride', s), ('padding', p), ('dilation', d))}"  # noqa: E501
                f"{', ceil_mode=True' if r['ceil_mode'] else ''}, return_indices=True)")
    if op == "avg_pool":
        return (f"y = upconv.avg_pool(x, {k}{args(('stride', s), ('padding', p))}"
                f"{', ceil_mode=True' if r['ceil_mode'] else ''}"
                f"{'' if r['count_include_pad'] else ', count_include_pad=False'})")
    if op == "max_unpool":
        o = None if r["output_size"] is None else str(tuple(r["output_size"]))
        return (f"y = upconv.max_unpool(x, idx, {k}{args(('stride', s), ('padding', p), ('output_size', o))})"  # noqa: E501
                "  # idx: the switches of upconv.max_pool(..., return_indices=True)")
    if op == "unpool":
        pos = "" if r["position"] == "top-left" else f", position={r['position']!r}"
        return f"y = upconv.unpool(x, {k}{pos})"
    if op == "interpolate":
        how = (f"size={tuple(r['size'])}" if r["size"] else
               f"scale_factor={_tuple_text(r['scale_factor'])}")
        mode = r["mode"]
        if mode in ("linear", "bilinear"):
            mode = "linear" if n == 1 else "bilinear"
        ac = "" if r["align_corners"] is None else f", align_corners={r['align_corners']}"
        return f"y = upconv.interpolate(x, {how}, mode={mode!r}{ac})"
    return f"y = upconv.pixel_shuffle(x, {r['upscale_factor']}" + (
        ", ndim=1)" if n == 1 else ")") + f"  # x: (N, C·{r['upscale_factor']}"  \
        f"{'²' if n == 2 else ''}, {spatial})"


def _spec(r: Json) -> Any:
    from ..conventions import ConvSpec, PoolSpec, ResizeSpec, ShuffleSpec, TransposeSpec

    op, n = r["op"], r["ndim"]
    i, k = r["input_size"], r["kernel_size"]
    s, p, d = _or(r["stride"], 1, n), _or(r["padding"], 0, n), _or(r["dilation"], 1, n)
    if op == "conv_transpose":
        return TransposeSpec.from_torch(i, k, s, p, _or(r["output_padding"], 0, n), d,
                                        groups=r["groups"], output_size=r["output_size"],
                                        in_channels=r["in_channels"],
                                        out_channels=r["out_channels"])
    if op == "conv":
        return ConvSpec.from_torch(i, k, s, p, d, r["groups"], in_channels=r["in_channels"],
                                   out_channels=r["out_channels"])
    if op in ("max_pool", "avg_pool"):
        return PoolSpec.from_torch(op.split("_")[0], i, k, _pool_stride(r), p,
                                   d if op == "max_pool" else 1, r["ceil_mode"],
                                   r["count_include_pad"])
    if op == "interpolate":
        mode = r["mode"]
        if mode in ("linear", "bilinear"):
            mode = "linear" if n == 1 else "bilinear"
        return ResizeSpec.from_torch(i, r["size"], None if r["size"] else r["scale_factor"],
                                     mode, r["align_corners"])
    return ShuffleSpec.from_torch("pixel_shuffle", r["upscale_factor"])


def _hand_written(r: Json) -> list[Json]:
    """max_unpool, bed of nails and 1-d pixel shuffle: what each framework has, honestly."""
    op, n = r["op"], r["ndim"]
    k = r["kernel_size"]
    nd = f"{n}d"
    entries: list[Json] = []

    def entry(fw: str, name: str, text: str, exact: bool, extra: str | None,
              notes: list[str]) -> None:
        entries.append({"framework": fw, "op": name, "code": text, "exact": exact,
                        "extra": extra, "notes": notes})

    if op == "max_unpool":
        s = _pool_stride(r)
        p = _or(r["padding"], 0, n)
        o = "" if r["output_size"] is None else f", output_size={tuple(r['output_size'])}"
        entry("torch", f"max_unpool{nd}",
              f"# x, idx = torch.nn.functional.max_pool{nd}(inp, {tuple(k)}, {tuple(s)}, "
              f"{tuple(p)}, return_indices=True)\n"
              f"y = torch.nn.functional.max_unpool{nd}(x, idx, {tuple(k)}, {tuple(s)}, "
              f"{tuple(p)}{o})", True, None,
              ["PyTorch's switches are flat indices into each (N, C) output plane"])
        entry("keras", "(none)",
              "# Keras has no max unpooling layer; scatter the values at the switches:\n"
              "y = keras.ops.scatter(idx_nd, keras.ops.reshape(x, (-1,)), out_shape)",
              False, "scatter the pooled values at their switches",
              ["Keras has no MaxUnpool; tf.nn.max_pool_with_argmax gives TF's flat switches "
               "(convert with upconv.conventions.indices_tf_to_torch) and keras.ops.scatter "
               "places the values"])
        entry("jax", "(none)",
              "# JAX has no max unpooling: scatter each plane's values at its switches\n"
              "n, c = x.shape[:2]\n"
              "y = jnp.zeros((n, c, out_h * out_w), x.dtype).at[\n"
              "    jnp.arange(n)[:, None, None], jnp.arange(c)[None, :, None],\n"
              "    idx.reshape(n, c, -1)].set(x.reshape(n, c, -1)).reshape(n, c, out_h, out_w)",
              False, "scatter with .at[].set()",
              ["JAX has no MaxUnpool op; the scatter above is exact with PyTorch's per-plane "
               "switches"])
        entry("onnx", "MaxUnpool",
              f"node = onnx.helper.make_node('MaxUnpool', ['X', 'I'], ['Y'], "
              f"kernel_shape={list(k)}, strides={list(s)}, pads={list(p) + list(p)})",
              True, None,
              ["ONNX MaxUnpool's indices are flat over the whole tensor (MaxPool's Indices "
               "output); convert PyTorch's with upconv.conventions.indices_torch_to_onnx"])
        return entries
    if op == "unpool":
        off = 0 if r["position"] == "top-left" else None
        offs = [0 if off == 0 else kk // 2 for kk in k]
        sl = ", ".join(f"{o}::{kk}" for o, kk in zip(offs, k, strict=True))
        shape = ", ".join(f"{'HW'[a] if n == 2 else 'L'} * {k[a]}" for a in range(n))
        onehot = f"a one-hot {_show(k)} kernel (1 at {tuple(offs)}), stride {tuple(k)}, " \
                 "groups=C"
        note = ("no framework has a bed-of-nails op: it is a strided slice assignment into "
                "zeros, or equivalently a depthwise transposed convolution with " + onehot)
        entry("torch", "(none)",
              f"y = x.new_zeros(x.shape[:2] + ({shape},))\ny[..., {sl}] = x", False,
              "slice assignment into zeros", [note])
        entry("keras", f"Conv{n}DTranspose (one-hot kernel)",
              f"layer = keras.layers.Conv{n}DTranspose(C, {tuple(k)}, strides={tuple(k)}, "
              "use_bias=False)  # set a one-hot kernel per channel (depthwise)\ny = layer(x)",
              False, onehot, [note])
        entry("jax", "(none)",
              f"y = jnp.zeros(x.shape[:2] + ({shape},), x.dtype).at[..., {sl}].set(x)", False,
              "slice assignment into zeros", [note])
        entry("onnx", "ConvTranspose (one-hot kernel)",
              f"node = onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], "
              f"kernel_shape={list(k)}, strides={list(k)}, group=C)  # W: one-hot, (C, 1, "
              f"{', '.join(map(str, k))})", False, onehot, [note])
        return entries
    f = r["upscale_factor"]
    note = ("PyTorch's PixelShuffle and the frameworks' depth-to-space ops are 2-d only; the "
            "reshape/transpose below is the 1-d sub-pixel shuffle (channel c·r + j → position "
            "w·r + j)")
    for fw, lib in (("torch", "x"), ("keras", "keras.ops"), ("jax", "jnp"), ("onnx", "")):
        if fw == "onnx":
            text = ("# Reshape [N, C, r, L] → Transpose perm=[0, 1, 3, 2] → Reshape "
                    f"[N, C, L·{f}]")
        elif fw == "torch":
            text = (f"n, cr, w = x.shape\ny = x.reshape(n, cr // {f}, {f}, w).permute(0, 1, 3, "
                    f"2).reshape(n, cr // {f}, w * {f})")
        else:
            text = (f"n, cr, w = x.shape\ny = {lib}.reshape({lib}.transpose({lib}.reshape(x, "
                    f"(n, cr // {f}, {f}, w)), (0, 1, 3, 2)), (n, cr // {f}, w * {f}))")
        entry(fw, "reshape/transpose", text, False, "reshape/transpose", [note])
    return entries


def code(params: dict[str, Any]) -> Json:
    """Equivalent code for PyTorch, Keras, JAX and ONNX, from :mod:`upconv.conventions`.

    Parameters
    ----------
    params : dict
        ``Params`` (see :func:`normalize`).

    Returns
    -------
    dict
        ``frameworks``: one entry per framework with ``framework, op, code, exact, extra,
        notes`` (the spec's ``.from_torch(...).to(framework)`` translation; an op the
        framework lacks has ``exact: False`` and says how), and ``upconv``: the library call.

    Examples
    --------
    >>> c = code({"op": "conv_transpose", "input_size": [4, 4], "kernel_size": 3, "stride": 2,
    ...           "padding": 1, "output_padding": 1})
    >>> [(f["framework"], f["op"], f["exact"]) for f in c["frameworks"]]
    [('torch', 'ConvTranspose2d', True), ('keras', 'keras.layers.Conv2DTranspose', False),
     ('jax', 'jax.lax.conv_transpose', True), ('onnx', 'ConvTranspose', True)]
    >>> c["upconv"].split("  #")[0]
    'y = upconv.conv_transpose(x, w, stride=2, padding=1, output_padding=1)'
    """
    r = normalize(params)
    _channels(r)
    call = _upconv_call(r)
    if r["op"] in ("max_unpool", "unpool") or (r["op"] == "pixel_shuffle" and r["ndim"] == 1):
        _output_size(r)  # the library's size check
        return {"frameworks": _hand_written(r), "upconv": call}
    spec = _spec(r)
    frameworks = []
    for fw in _FRAMEWORKS:
        try:
            tr = spec.to(fw)
        except ShapeError as exc:  # the framework cannot express it at all
            frameworks.append({"framework": fw, "op": "(none)", "code": f"# {exc}",
                               "exact": False, "extra": None, "notes": [str(exc)]})
            continue
        extra = None if not tr.extra else "; ".join(f"{key}: {value}" for key, value in
                                                    tr.extra.items())
        frameworks.append({"framework": fw, "op": tr.op, "code": tr.code, "exact": tr.exact,
                           "extra": extra, "notes": list(tr.notes)})
    return {"frameworks": frameworks, "upconv": call}


# ---------------------------------------------------------------------------------------------
# checkerboard, matrix, meta


def checkerboard(params: dict[str, Any]) -> Json:
    """Kernel-overlap counts of a transposed convolution (or resize-conv), from the library.

    Parameters
    ----------
    params : dict
        ``kernel_size``, ``stride`` (int or one per dimension; their length sets 1-d or
        2-d, a bare int means 2-d), optional ``dilation``, ``layers`` (1..3), ``method``
        (``'transposed'`` or ``'resize-conv'``).

    Returns
    -------
    dict
        ``shape``, ``counts`` (flat row-major), ``min``/``max`` over the interior (away from
        the borders), ``even``, ``verdict``, plus ``interior`` (per dimension ``[start,
        stop)``), ``period``, ``phases`` and ``description``.

    Examples
    --------
    >>> cb = checkerboard({"kernel_size": [3], "stride": [2]})
    >>> cb["counts"], cb["even"], cb["min"], cb["max"]
    ([1, 1, 2, 1, 2, 1, 2, 1, 1], False, 1, 2)
    """
    from ..explain.checkerboard import METHODS, _default_size, _interior
    from ..explain.checkerboard import checkerboard as count

    allowed = {"kernel_size", "stride", "dilation", "layers", "method"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ShapeError(f"{_FUNC}: checkerboard takes {', '.join(sorted(allowed))}; unknown: "
                         f"{', '.join(unknown)}")
    ks, st = params.get("kernel_size", 3), params.get("stride", 2)
    n = next((len(v) for v in (ks, st, params.get("dilation")) if isinstance(v, list | tuple)),
             2)
    if n not in (1, 2):
        raise ShapeError(f"{_FUNC}: checkerboard is 1-d or 2-d, got {n} values")
    L = LIMITS
    k = _per_dim(ks, n, "kernel_size", 1, L["max_kernel"])
    s = _per_dim(st, n, "stride", 1, L["max_stride"])
    d = _per_dim(params.get("dilation") or 1, n, "dilation", 1, L["max_stride"])
    assert k is not None and s is not None and d is not None
    layers = _int(params.get("layers") or 1, "layers", 1, L["max_layers"])
    method = _choice(params.get("method") or "transposed", "method", METHODS)
    size = [_interior(_default_size(k[a], s[a], d[a], layers, method), k[a], s[a], d[a],
                      layers, method)[2] for a in range(n)]
    if max(size) > L["max_checkerboard"]:
        raise ShapeError(f"{_FUNC}: the checkerboard map would be {_show(size)}, over the cap "
                         f"of {L['max_checkerboard']} per dimension; use fewer layers or a "
                         "smaller stride")
    cb = count(k, s, d, layers, ndim=n, method=method)
    interior = cb.interior
    return {"shape": list(cb.counts.shape), "counts": [int(v) for v in cb.counts.ravel()],
            "min": int(interior.min()), "max": int(interior.max()), "even": cb.even,
            "verdict": cb.verdict, "description": cb.description,
            "interior": [[sl.start, sl.stop] for sl in cb.interior_slices],
            "period": list(cb.period), "phases": [list(p) for p in cb.phases],
            "ratio": None if math.isinf(cb.ratio) else cb.ratio}


def _entries(m: Any, ids: Any) -> list[list[Any]]:
    m, ids = m.tocoo(), ids.tocsr()
    out = []
    for row, col, val in sorted(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(),
                                    strict=True)):
        out.append([row, col, _num(val), int(round(ids[row, col])) - 1])
    return out


def matrix(params: dict[str, Any]) -> Json:
    """The convolution matrix ``C`` and its transpose, from :func:`upconv.conv_matrix`.

    For ``conv``: ``y = C x``; for ``conv_transpose``: ``C`` is the matrix of the convolution
    it is the transpose of (output size → input size, same kernel, stride, padding and
    dilation), and ``y = Cᵀ x``.

    Parameters
    ----------
    params : dict
        ``Params`` with ``op`` ``'conv'`` or ``'conv_transpose'``; at most 64 input and 64
        output cells.

    Returns
    -------
    dict
        ``C`` and ``CT`` as ``{"rows", "cols", "entries": [[row, col, value, kernel_flat],
        ...]}`` (``value`` None when values are off), ``row_labels`` and ``col_labels`` (of
        ``C``), ``text``.

    Examples
    --------
    >>> m = matrix({"op": "conv", "input_size": [4, 4], "kernel_size": [3, 3],
    ...             "kernel_values": list(range(1, 10))})
    >>> m["C"]["rows"], m["C"]["cols"], m["C"]["entries"][:3]
    (4, 16, [[0, 0, 1.0, 0], [0, 1, 2.0, 1], [0, 2, 3.0, 2]])
    """
    import upconv

    r = normalize(params)
    op = r["op"]
    if op not in _KERNEL_OPS:
        raise ShapeError(f"{_FUNC}: the matrix view is for conv and conv_transpose, not "
                         f"op={op!r}")
    out = _check_caps(r)
    i, n, k = r["input_size"], r["ndim"], r["kernel_size"]
    cap = LIMITS["max_matrix_cells"]
    for name, t in (("input", i), ("output", out)):
        if math.prod(t) > cap:
            raise ShapeError(f"{_FUNC}: the matrix view needs at most {cap} {name} cells, got "
                             f"{_show(t)} = {math.prod(t)}")
    _, w = _arrays(r)
    numbers = _numbers(r)
    if w is None:
        w = np.ones(k)
    s, p, d = _or(r["stride"], 1, n), _or(r["padding"], 0, n), _or(r["dilation"], 1, n)
    # C maps the conv's input to its output; for conv_transpose that conv runs out -> i
    c_in, c_out = (i, out) if op == "conv" else (out, i)
    ids = np.arange(1.0, math.prod(k) + 1).reshape(k)
    C = upconv.conv_matrix((1, *c_in), w[None, None], s, p, d)
    I = upconv.conv_matrix((1, *c_in), ids[None, None], s, p, d)  # noqa: E741
    entries = _entries(C, I)
    if not numbers:
        entries = [[a, b, None, kk] for a, b, _, kk in entries]
    x_name, y_name = ("x", "y")
    row_labels = [index_text(y_name if op == "conv" else x_name, c)
                  for c in cells((0,) * n, c_out)]
    col_labels = [index_text(x_name if op == "conv" else y_name, c)
                  for c in cells((0,) * n, c_in)]
    rows, cols = C.shape
    text = (f"y = C x: C is {rows}×{cols}, one row per output cell, one column per input cell; "
            f"row j holds the kernel taps that meet the input for output j ({len(entries)} "
            "non-zero entries)" if op == "conv" else
            f"y = Cᵀ x: C ({rows}×{cols}) is the matrix of the convolution {_show(out)} → "
            f"{_show(i)} with the same kernel, stride, padding and dilation; the transposed "
            f"convolution multiplies by its transpose ({cols}×{rows}), so each input cell "
            "(a row of C) spreads the kernel over the output")
    return {"C": {"rows": rows, "cols": cols, "entries": entries},
            "CT": {"rows": cols, "cols": rows,
                   "entries": sorted([[b, a, v, kk] for a, b, v, kk in entries])},
            "row_labels": row_labels, "col_labels": col_labels, "text": text,
            "conv_input_size": list(c_in), "conv_output_size": list(c_out)}


def meta() -> Json:
    """What the front end builds its controls from: ops, views, parameters, caps, defaults.

    Returns
    -------
    dict
        ``version``, ``ops`` (per op: ``views``, ``params`` it reads, ``title``), ``limits``
        (:data:`LIMITS`), ``defaults`` (:data:`DEFAULTS`), ``images``, ``values``, ``modes``,
        ``positions``.

    Examples
    --------
    >>> m = meta()
    >>> m["ops"]["conv_transpose"]["views"], m["limits"]["max_taps"]
    (['scatter', 'direct'], 100000)
    """
    from .. import __version__
    from ._images import NAMES

    return {
        "version": __version__,
        "ops": {op: {"views": list(VIEWS[op]), "params": list(TAKES[op]),
                     "title": TITLES[op]} for op in OPS},
        "limits": dict(LIMITS),
        "defaults": dict(DEFAULTS),
        "images": list(NAMES),
        "values": ["none", "range", "random"],
        "modes": list(_steps.MODES),
        "positions": list(_steps.POSITIONS),
        "value_rules": {
            "range": "input 1..n row-major (max_pool: a fixed permutation of 1..n, so the "
                     "maximum is unique); kernel all ones",
            "random": "input and kernel: integers -3..3 from numpy.random.default_rng(seed)",
            "none": "no numbers, only the index maps",
        },
        "stride_default": "null stride means the op's default: 1 for conv and conv_transpose, "
                          "kernel_size for pooling and max_unpool",
    }

