"""The ``upconv`` command line: a thin layer over the public functions.

``shape``, ``solve`` and ``plan`` do the arithmetic; ``animate``, ``trace``, ``matrix`` and
``checkerboard`` draw :mod:`upconv.explain`'s pictures (same flags as ``shape``, plus
``--out`` and ``--format``; they print the path written); ``tour`` writes the HTML report
that checks every worked example of the seeds.  Every command takes ``--json``; errors
print one line on stderr and exit with status 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, _cli_convert, shapes
from ._validate import ShapeError

EXIT_USAGE = 2


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit status 2, like any other error."""

    def error(self, message: str) -> Any:
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Argument parsing helpers: "5", "28x28", padding "1", "1x2", "same", "0:1" (before:after)


def _dims(text: str, name: str) -> int | tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ShapeError(
            f"--{name}={text!r} must be an integer or one per dimension like 28x28"
        ) from None
    return values[0] if len(values) == 1 else values


def _padding(text: str) -> Any:
    if text.lower() in ("same", "valid"):
        return text.lower()
    parts = text.lower().split("x")
    if any(":" in p for p in parts):
        try:
            return tuple(
                tuple(int(v) for v in p.split(":")) if ":" in p else (int(p), int(p)) for p in parts
            )
        except ValueError:
            pass
        raise ShapeError(f"--padding={text!r} must look like 1, 1x2, 0:1 (before:after) or same")
    return _dims(text, "padding")


def _sizes(t: Any) -> str:
    return "x".join(map(str, t)) if isinstance(t, tuple) else str(t)


# ---------------------------------------------------------------------------------------------
# upconv shape


_CONV_REL = {
    1: "no zero padding, unit strides: o = i - k + 1",
    2: "zero padding, unit strides: o = i - k + 2p + 1",
    3: "half (same) padding: o = i",
    4: "full padding: o = i + k - 1",
    5: "no zero padding, non-unit strides: o = floor((i - k)/s) + 1",
    6: "zero padding, non-unit strides: o = floor((i + 2p - k)/s) + 1",
}


def _conv_relationship(k: int, s: int, pb: int, pa: int, d: int) -> str:
    if d != 1:
        return ("Relationship 15 (dilated convolution): o = floor((i + 2p - k - (k-1)(d-1))/s) "
                "+ 1")
    if pb != pa:
        return ("Relationship 6 with asymmetric padding: "
                "o = floor((i + p_before + p_after - k)/s) + 1")
    if s == 1:
        if pb == 0:
            num = 1
        elif k % 2 == 1 and pb == k // 2:
            num = 3
        elif pb == k - 1:
            num = 4
        else:
            num = 2
    else:
        num = 5 if pb == 0 else 6
    return f"Relationship {num} ({_CONV_REL[num]})"


def _shape(args: argparse.Namespace) -> dict[str, Any]:
    size = _dims(args.input, "input")
    kernel = _dims(args.kernel, "kernel")
    dilation = _dims(args.dilation, "dilation")
    result: dict[str, Any] = {"op": args.op, "input": size}
    lines: list[str] = []
    if args.op == "conv":
        stride = _dims(args.stride or "1", "stride")
        padding = _padding(args.padding)
        g = shapes.conv_geometry(size, kernel, stride, padding, dilation, func="upconv shape conv")
        for ax in range(g.ndim):
            i, k, s, d = g.size[ax], g.kernel_size[ax], g.stride[ax], g.dilation[ax]
            pb, pa = g.padding[ax]
            o = g.output_size[ax]
            head = f"dimension {ax}: " if g.ndim > 1 else ""
            lines.append(
                f"{head}o = floor((i + p_before + p_after - d(k-1) - 1)/s) + 1 = "
                f"floor(({i} + {pb} + {pa} - {d}*{k - 1} - 1)/{s}) + 1 = {o}"
            )
            lines.append(f"  {_conv_relationship(k, s, pb, pa, d)}")
        out = g.output_size
        result.update(padding=[list(p) for p in g.padding])
    elif args.op == "pool":
        pool_stride = None if args.stride is None else _dims(args.stride, "stride")
        padding = _dims(args.padding, "padding")
        pg = shapes.pool_geometry(size, kernel, pool_stride, padding, dilation, args.ceil_mode,
                                  func="upconv shape pool")
        for ax in range(pg.ndim):
            i, k, s, d, p = (pg.size[ax], pg.kernel_size[ax], pg.stride[ax], pg.dilation[ax],
                             pg.padding[ax])
            o = pg.output_size[ax]
            rnd = "ceil" if pg.ceil_mode else "floor"
            raw = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if pg.ceil_mode else 0)) // s + 1
            head = f"dimension {ax}: " if pg.ndim > 1 else ""
            lines.append(
                f"{head}o = {rnd}((i + 2p - d(k-1) - 1)/s) + 1 = "
                f"{rnd}(({i} + 2*{p} - {d}*{k - 1} - 1)/{s}) + 1 = {raw}"
            )
            if raw != o:
                lines.append(
                    f"  minus 1 = {o}: in ceil mode PyTorch drops a last window that would start "
                    f"in the right padding ((o-1)*s = {(raw - 1) * s} >= i + p = {i + p})"
                )
            lines.append("  pooling relationship (the guide's Relationship 7: o = floor((i - k)/s)"
                         " + 1), with padding and dilation as PyTorch applies them")
        out = pg.output_size
        result.update(stride=list(pg.stride), ceil_mode=pg.ceil_mode)
    else:
        stride = _dims(args.stride or "1", "stride")
        padding = _padding(args.padding)
        eq = shapes.equivalent_conv(size, kernel, stride, padding, _dims(args.output_padding,
                                    "output-padding"), dilation)
        out = eq.geometry.output_size
        lines.extend(str(eq).splitlines())
        result.update(
            stretched_size=eq.stretched_size, pad_before=eq.pad_before, pad_after=eq.pad_after,
            relationship=eq.relationship,
            output_range=list(shapes.conv_transpose_size_range(size, kernel, stride, padding,
                                                               dilation)),
        )
    out_form = out[0] if isinstance(size, int) else tuple(out)
    result["output"] = out_form
    result["explanation"] = lines
    result["text"] = f"output size: {_sizes(out_form)}\n" + "\n".join(lines)
    return result


# ---------------------------------------------------------------------------------------------
# upconv solve


def _solve(args: argparse.Namespace) -> dict[str, Any]:
    size = _dims(args.input, "input")
    target = _dims(args.output, "output")
    fixed = {
        "kernel_size": None if args.kernel is None else int(_check_one(args.kernel, "kernel")),
        "stride": None if args.stride is None else int(_check_one(args.stride, "stride")),
        "padding": None if args.padding is None else int(_check_one(args.padding, "padding")),
        "dilation": None if args.dilation is None else int(_check_one(args.dilation, "dilation")),
    }
    solver = shapes.solve_conv if args.conv else shapes.solve_conv_transpose
    found = solver(size, target, max_kernel_size=args.max_kernel, **fixed)
    per = found if isinstance(found, tuple) else (found,)
    lines: list[str] = []
    dims_out = []
    for ax, sols in enumerate(per):
        if len(per) > 1:
            lines.append(f"dimension {ax}:")
        lines.append(sols.explanation)
        if sols:
            lines.append(_table(sols[: args.limit], conv=args.conv))
            if len(sols) > args.limit:
                lines.append(f"... {len(sols) - args.limit} more (--limit)")
        dims_out.append({"explanation": sols.explanation,
                         "solutions": [s.as_dict() for s in sols]})
    return {"op": "conv" if args.conv else "transpose", "input": size, "output": target,
            "dimensions": dims_out, "text": "\n".join(lines)}


def _check_one(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ShapeError(
            f"--{name}={text!r} must be an integer (solve works per dimension)"
        ) from None


def _table(sols: Sequence[Any], *, conv: bool) -> str:
    if conv:
        head = ["#", "kernel", "stride", "padding", "dilation", "unused inputs",
                "mirror output_padding"]
        rows = [[str(n), str(s.kernel_size), str(s.stride), str(s.padding), str(s.dilation),
                 str(s.unused_inputs), str(s.output_padding)] for n, s in enumerate(sols, 1)]
    else:
        head = ["#", "kernel", "stride", "padding", "output_padding", "dilation",
                "checkerboard-free", "taps/phase"]
        rows = [[str(n), str(s.kernel_size), str(s.stride), str(s.padding),
                 str(s.output_padding), str(s.dilation), "yes" if s.checkerboard_free else "no",
                 "/".join(map(str, s.taps_per_phase))] for n, s in enumerate(sols, 1)]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    fmt_row = "  ".join(f"{{:>{w}}}" for w in widths)
    out = [fmt_row.format(*head), fmt_row.format(*("-" * w for w in widths))]
    out += [fmt_row.format(*r) for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# upconv plan


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    plan = shapes.plan_decoder(args.layers, _dims(args.input, "input"))
    d = plan.as_dict()
    d["text"] = str(plan)
    return d


# ---------------------------------------------------------------------------------------------
# upconv animate / trace / matrix / checkerboard: the explain pictures, same flags as `shape`

# command-line op name -> (library op, interpolation mode)
_OPS: dict[str, tuple[str, str | None]] = {
    "conv": ("conv", None),
    "transpose": ("conv_transpose", None),
    "conv_transpose": ("conv_transpose", None),
    "pool": ("max_pool", None),
    "max_pool": ("max_pool", None),
    "avg_pool": ("avg_pool", None),
    "max_unpool": ("max_unpool", None),
    "unpool": ("unpool", None),
    "interpolate": ("interpolate", None),
    "nearest": ("interpolate", "nearest"),
    "bilinear": ("interpolate", "bilinear"),
}
_ANIMATE_FORMATS = ("gif", "html", "svg", "png")
_PICTURE_FORMATS = ("svg", "png", "text")
_PROGRESS_FRAMES = 100  # announce (on stderr) animations with at least this many frames


def _array(text: str, name: str, *, integer: bool = False) -> np.ndarray:
    """``"1,2;3,4"`` -> ``[[1, 2], [3, 4]]`` (rows split by ``;``); ``"1,2,3"`` is 1-d."""
    rows = [r for r in text.replace(" ", "").split(";")]
    kind = "integers" if integer else "numbers"
    try:
        cells = [[(int(v) if integer else float(v)) for v in r.split(",")] for r in rows]
    except ValueError:
        raise ShapeError(
            f"--{name}={text!r} must be {kind} like 1,2;3,4 (commas between values, "
            "semicolons between rows)"
        ) from None
    if len({len(r) for r in cells}) != 1:
        raise ShapeError(
            f"--{name}={text!r} has rows of different lengths "
            f"({', '.join(str(len(r)) for r in cells)}); every row needs as many values"
        )
    out = np.array(cells[0] if len(cells) == 1 else cells,
                   dtype=np.int64 if integer else np.float64)
    return out


def _scale(text: str) -> float | tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.lower().split("x"))
    except ValueError:
        raise ShapeError(
            f"--scale-factor={text!r} must be a number or one per dimension like 2x2"
        ) from None
    return values[0] if len(values) == 1 else values


def _op_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Library keyword arguments of ``animate`` / ``trace`` from the given flags only."""
    kw: dict[str, Any] = {}
    mode: str | None = None
    if args.op is not None:
        kw["op"], mode = _OPS[args.op]
    if args.mode is not None:
        if mode is not None and args.mode != mode:
            raise ShapeError(f"--mode={args.mode!r} contradicts the op {args.op!r}")
        mode = args.mode
    if mode is not None:
        kw["mode"] = mode
    for flag, key in (("input", "input_size"), ("kernel", "kernel_size"), ("stride", "stride"),
                      ("dilation", "dilation"), ("output_padding", "output_padding")):
        text = getattr(args, flag)
        if text is not None:
            kw[key] = _dims(text, flag.replace("_", "-"))
    if args.padding is not None:
        kw["padding"] = _padding(args.padding)
    if args.view is not None:
        kw["view"] = args.view
    if args.values is not None:
        kw["values"] = _array(args.values, "values")
    if args.kernel_values is not None:
        kw["kernel"] = _array(args.kernel_values, "kernel-values")
    if args.indices is not None:
        kw["indices"] = _array(args.indices, "indices", integer=True)
    if args.scale_factor is not None:
        kw["scale_factor"] = _scale(args.scale_factor)
    if args.output_size is not None:
        out = _dims(args.output_size, "output-size")
        kw["size" if kw.get("op") == "interpolate" else "output_size"] = out
    if args.position is not None:
        kw["position"] = args.position
    if args.ceil_mode:
        kw["ceil_mode"] = True
    if args.preset is not None:
        kw["preset"] = args.preset
    return kw


def _slug(command: str, args: argparse.Namespace, kw: dict[str, Any]) -> str:
    """A file name stem from the given flags: ``conv_transpose_i2x2_k2_s2``."""
    if args.preset is not None:
        return args.preset
    parts = [str(kw.get("op") or command)]
    for key, tag in (("input_size", "i"), ("kernel_size", "k"), ("stride", "s"),
                     ("padding", "p"), ("dilation", "d"), ("output_padding", "a")):
        if kw.get(key) is not None:
            parts.append(tag + _sizes(kw[key]).replace(" ", ""))
    if kw.get("view"):
        parts.append(kw["view"])
    stem = "_".join(parts)
    return "".join(c if c.isalnum() or c in "_-x" else "-" for c in stem)


def _target(args: argparse.Namespace, stem: str, fmt: str | None, default: str,
            formats: Sequence[str]) -> tuple[Path, str]:
    """The file to write and its format: ``--format``, else the ``--out`` suffix, else default."""
    ext = {"text": "txt"}
    suffixes = {f".{ext.get(f, f)}": f for f in formats}
    if "html" in formats:
        suffixes[".htm"] = "html"
    if args.out is None:
        kind = fmt or default
        return Path(f"{stem}.{ext.get(kind, kind)}"), kind
    out = Path(args.out)
    if fmt is None:
        found = suffixes.get(out.suffix.lower())
        if found is None:
            raise ShapeError(
                f"--out={args.out!r}: cannot tell the format from the suffix; use one of "
                f"{', '.join(sorted(suffixes))} or give --format ({'/'.join(formats)})"
            )
        return out, found
    return out, fmt


def _prepare(path: Path) -> None:
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)


def _progress(message: str) -> None:
    print(f"upconv: {message}", file=sys.stderr, flush=True)


def _animate(args: argparse.Namespace) -> dict[str, Any]:
    from .explain import animate

    kw = _op_kwargs(args)
    path, fmt = _target(args, _slug("animate", args, kw), args.format, "gif", _ANIMATE_FORMATS)
    anim = animate(**kw)
    if anim.frames >= _PROGRESS_FRAMES:
        _progress(f"drawing {anim.frames} frames of {anim.width}x{anim.height} px ...")
    _prepare(path)
    anim.save(path, fmt)
    plan = anim.plan
    return {
        "path": str(path), "format": fmt, "op": plan.op, "view": plan.view,
        "title": plan.title, "frames": anim.frames, "width": anim.width,
        "height": anim.height, "input_size": list(plan.input_size),
        "kernel_size": None if plan.kernel_size is None else list(plan.kernel_size),
        "output_size": list(plan.output_size), "header": list(plan.header),
        "text": str(path),
    }


def _trace(args: argparse.Namespace) -> dict[str, Any]:
    from .explain import trace

    kw = _op_kwargs(args)
    if args.format not in (None, "md"):
        raise ShapeError(f"--format={args.format!r}: trace writes Markdown only (md)")
    text = trace(**kw)
    result: dict[str, Any] = {"path": None, "format": "md", "markdown": text, "text": text}
    if args.out is not None:
        path = Path(args.out)
        _prepare(path)
        path.write_text(text, encoding="utf-8")
        result.update(path=str(path), text=str(path))
    return result


def _preset_conv(preset: str, command: str) -> dict[str, Any]:
    """The convolution of a conv_arithmetic case (a transposed case: the conv it transposes)."""
    from .explain import PRESETS

    if preset not in PRESETS:
        raise ShapeError(f"--preset={preset!r} is not one of {', '.join(sorted(PRESETS))}")
    case = PRESETS[preset]
    if case["op"] not in ("conv", "conv_transpose"):
        raise ShapeError(
            f"--preset={preset!r} is a {case['op']} case; {command} draws convolutions"
        )
    conv = {k: case[k] for k in ("input_size", "kernel_size", "stride", "padding", "dilation")}
    if case["op"] == "conv_transpose":
        conv["input_size"] = shapes.conv_transpose_output_size(
            case["input_size"], case["kernel_size"], case["stride"], case["padding"],
            case.get("output_padding", 0), case["dilation"])
    return conv


def _matrix(args: argparse.Namespace) -> dict[str, Any]:
    from .explain import matrix

    given = {key: getattr(args, flag) is not None for flag, key in (
        ("input", "input_size"), ("kernel", "kernel_size"), ("stride", "stride"),
        ("padding", "padding"), ("dilation", "dilation"))}
    conv: dict[str, Any] = {"stride": 1, "padding": 0, "dilation": 1}
    if args.preset is not None:
        conv.update(_preset_conv(args.preset, "upconv matrix"))
    kernel = None if args.kernel_values is None else _array(args.kernel_values, "kernel-values")
    if given["input_size"]:
        conv["input_size"] = _dims(args.input, "input")
    if given["kernel_size"]:
        conv["kernel_size"] = _dims(args.kernel, "kernel")
    for key in ("stride", "dilation"):
        if given[key]:
            conv[key] = _dims(getattr(args, key), key)
    if given["padding"]:
        conv["padding"] = _padding(args.padding)
    if "input_size" not in conv:
        raise ShapeError("upconv matrix: give --input (or --preset)")
    a = 0 if args.output_padding is None else _dims(args.output_padding, "output-padding")
    if args.op == "transpose":
        if "kernel_size" not in conv and kernel is None:
            raise ShapeError("upconv matrix transpose: give --kernel (or --kernel-values)")
        if "kernel_size" in conv:
            k = conv["kernel_size"]
        else:
            assert kernel is not None
            k = tuple(kernel.shape)
        # --input is the transposed convolution's input i'; C belongs to the conv o' -> i'.
        conv["input_size"] = shapes.conv_transpose_output_size(
            conv["input_size"], k, conv["stride"], conv["padding"], a, conv["dilation"])
    elif a not in (0, (0,), (0, 0)):
        raise ShapeError(
            "--output-padding applies to 'upconv matrix transpose' (whose --input is the "
            "transposed convolution's input); a convolution has none"
        )
    y = None if args.values is None else _array(args.values, "values")
    view = matrix(conv["input_size"], conv.get("kernel_size"), conv["stride"],
                  conv["padding"], conv["dilation"], weight=kernel, y=y, seed=args.seed)
    stem = _slug("matrix", args, {"op": "matrix", **conv})
    path, fmt = _target(args, stem, args.format, "svg", _PICTURE_FORMATS)
    result = {"format": fmt, "ok": view.ok, "max_abs_diff": view.max_abs_diff,
              "description": view.description, "check": view.check,
              **{k: v for k, v in view.as_dict().items() if k not in ("max_abs_diff", "ok")}}
    return _write_picture(args, view, path, fmt, str(view), result)


def _write_picture(args: argparse.Namespace, obj: Any, path: Path, fmt: str, text: str,
                   result: dict[str, Any]) -> dict[str, Any]:
    if fmt == "text" and args.out is None:
        return {"path": None, **result, "text": text}
    _prepare(path)
    if fmt == "text":
        path.write_text(text + "\n", encoding="utf-8")
    else:
        obj.save(path, fmt)
    return {"path": str(path), **result, "text": str(path)}


def _checkerboard(args: argparse.Namespace) -> dict[str, Any]:
    from .explain import checkerboard

    conv: dict[str, Any] = {"dilation": 1}
    if args.preset is not None:
        case = _preset_conv(args.preset, "upconv checkerboard")
        conv.update(kernel_size=case["kernel_size"], stride=case["stride"],
                    dilation=case["dilation"])
    for flag, key in (("kernel", "kernel_size"), ("stride", "stride"),
                      ("dilation", "dilation")):
        if getattr(args, flag) is not None:
            conv[key] = _dims(getattr(args, flag), flag)
    for key, flag in (("kernel_size", "--kernel"), ("stride", "--stride")):
        if key not in conv:
            raise ShapeError(f"upconv checkerboard: give {flag} (or --preset)")
    size = None if args.input is None else _dims(args.input, "input")
    tuples = [v for v in (*conv.values(), size) if isinstance(v, tuple)]
    ndim = len(tuples[0]) if tuples else args.ndim
    cb = checkerboard(conv["kernel_size"], conv["stride"], conv["dilation"], args.layers,
                      size=size, ndim=ndim, method=args.method)
    stem = "_".join(["checkerboard", args.method, f"k{_sizes(conv['kernel_size'])}",
                     f"s{_sizes(conv['stride'])}"]
                    + ([f"d{_sizes(conv['dilation'])}"] if conv["dilation"] != 1 else [])
                    + ([f"x{args.layers}"] if args.layers > 1 else [])
                    + ([f"{ndim}d"] if ndim == 1 else []))
    path, fmt = _target(args, stem, args.format, "svg", _PICTURE_FORMATS)
    result = {"format": fmt, **cb.as_dict()}
    return _write_picture(args, cb, path, fmt, str(cb), result)


def _tour(args: argparse.Namespace) -> dict[str, Any]:
    from .explain.tour import tour

    report = tour(args.out, progress=None if args.quiet else _progress)
    if report.failed:
        _progress(f"{len(report.failed)} of {len(report.checks)} checks FAILED: "
                  + ", ".join(c.id for c in report.failed))
    d = report.as_dict()
    d["text"] = str(report.path)
    d["exit"] = 0 if not report.failed else 1
    return d


def _geometry_flags(p: argparse.ArgumentParser, *, transposed: bool = True) -> None:
    """The flags of ``upconv shape``, all optional (None: the operation's default)."""
    p.add_argument("--input", help="input size: 5 (1-d) or 5x5; defaults to the shape of "
                   "--values")
    p.add_argument("--kernel", help="kernel size: 3 or 3x3")
    p.add_argument("--stride", help="stride (default 1; pools: the kernel size)")
    p.add_argument("--padding", help="padding: 1, 1x2, 0:1 (before:after)")
    p.add_argument("--dilation", help="dilation (default 1)")
    if transposed:
        p.add_argument("--output-padding", help="transposed convolution: output padding a")


def _explain_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from .explain import PRESETS

    presets = ", ".join(PRESETS)
    out_help = ("file to write (parent folders are created); by default a name built from "
                "the parameters in the current folder")
    op_help = ("operation: conv, transpose (= conv_transpose), pool (= max_pool), avg_pool, "
               "max_unpool, unpool (bed of nails), nearest, bilinear or interpolate; may come "
               "from --preset")

    def op_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("op", nargs="?", choices=sorted(_OPS), metavar="OP", help=op_help)
        _geometry_flags(p)
        p.add_argument("--ceil-mode", action="store_true", help="pools: PyTorch's ceil_mode")
        p.add_argument("--preset", help=f"a conv_arithmetic case: {presets}")
        p.add_argument("--view", choices=["scatter", "direct", "gather"],
                       help="conv_transpose: scatter (default; each input cell paints a "
                       "kernel-sized patch) or direct (flipped kernel over the stretched, "
                       "padded input)")
        p.add_argument("--values", help="input values: 1,2;3,4 (rows split by ;)")
        p.add_argument("--kernel-values", help="kernel values: 5,5;5,5")
        p.add_argument("--indices", help="max_unpool switches (flat indices): 5,2;9,14")
        p.add_argument("--output-size", help="conv_transpose/max_unpool output_size, or the "
                       "interpolate size")
        p.add_argument("--scale-factor", help="interpolate: 2 or 2x3")
        p.add_argument("--mode", choices=["nearest", "nearest-exact", "linear", "bilinear"],
                       help="interpolate mode (default nearest)")
        p.add_argument("--position", choices=["top-left", "center"],
                       help="unpool: where each value goes in its region")

    an = sub.add_parser(
        "animate", parents=[common], help="animate any conv, transposed conv, pool, unpool, "
        "resize", description="Draw the operation step by step (input and output labelled, "
        "padding on its side, numbers with --values) and write GIF, HTML, SVG or a PNG strip; "
        "prints the path.", epilog="example: upconv animate transpose --values '1,2;3,4' "
        "--kernel-values '5,5;5,5' --out seed002.gif")
    op_flags(an)
    an.add_argument("--out", help=out_help)
    an.add_argument("--format", choices=_ANIMATE_FORMATS,
                    help="gif (default), html, svg or png (a strip of all frames); by default "
                    "from the --out suffix")
    an.set_defaults(run=_animate)

    tr = sub.add_parser(
        "trace", parents=[common], help="the computation step by step, as Markdown",
        description="Write a small computation step by step as Markdown (seed 002's style): "
        "the output-size formula with numbers, then every step; printed, or written to --out.",
        epilog="example: upconv trace transpose --values '1,2;3,4' --kernel-values '5,5;5,5'")
    op_flags(tr)
    tr.add_argument("--out", help="write the Markdown there (and print the path)")
    tr.add_argument("--format", choices=["md"], help="md (the only format)")
    tr.set_defaults(run=_trace)

    mx = sub.add_parser(
        "matrix", parents=[common], help="the matrix C of a convolution and its transpose",
        description="Draw the convolution as a sparse matrix C (weights w_ij in their cells) "
        "and Cᵀ, the transposed convolution, with the check Cᵀy == conv_transpose(y); writes "
        "SVG, PNG or text and prints the path.",
        epilog="example (seed 004, Figure 2.3): upconv matrix --input 4x4 --kernel 3")
    mx.add_argument("op", nargs="?", choices=["conv", "transpose"], default="conv",
                    help="conv (default): --input is the convolution's input; transpose: "
                    "--input is the transposed convolution's input i'")
    _geometry_flags(mx)
    mx.add_argument("--preset", help="a conv_arithmetic convolution case (a *_transposed case "
                    "draws the convolution it transposes)")
    mx.add_argument("--kernel-values", help="kernel values: 1,2;3,4 (default: random)")
    mx.add_argument("--values", help="y for the check Cᵀy == conv_transpose(y)")
    mx.add_argument("--seed", type=int, default=0, help="seed of the random weight and y")
    mx.add_argument("--out", help=out_help)
    mx.add_argument("--format", choices=_PICTURE_FORMATS,
                    help="svg (default), png or text; by default from the --out suffix "
                    "(text without --out prints the tables)")
    mx.set_defaults(run=_matrix)

    cb = sub.add_parser(
        "checkerboard", parents=[common], help="kernel-overlap map: checkerboard or even",
        description="Count how many kernel taps reach each output position of a transposed "
        "convolution (or a stack of them, or resize-then-convolve), draw the heat map and "
        "judge it: even or uneven, period, max/min ratio (Odena et al., Distill 2016).",
        epilog="example: upconv checkerboard --kernel 3 --stride 2 --layers 2")
    cb.add_argument("--kernel", help="kernel size: 3 or 3x3")
    cb.add_argument("--stride", help="stride (resize-conv: the upsampling factor)")
    cb.add_argument("--dilation", help="dilation (default 1)")
    cb.add_argument("--input", help="input size (default: the smallest showing two periods)")
    cb.add_argument("--layers", type=int, default=1, help="identical layers stacked")
    cb.add_argument("--ndim", type=int, default=2, choices=[1, 2],
                    help="spatial dimensions when every size is a single int (default 2)")
    cb.add_argument("--method", choices=["transposed", "resize-conv"], default="transposed",
                    help="transposed convolution (default) or nearest upsampling then a "
                    "stride-1 convolution")
    cb.add_argument("--preset", help="take k, s, d from a conv_arithmetic case")
    cb.add_argument("--out", help=out_help)
    cb.add_argument("--format", choices=_PICTURE_FORMATS,
                    help="svg (default), png or text; by default from the --out suffix")
    cb.set_defaults(run=_checkerboard)

    to = sub.add_parser(
        "tour", parents=[common], help="HTML report: every seed example checked, pictures, "
        "a photo gallery",
        description="Write DIR/index.html: every worked example of the seeds reproduced "
        "(expected vs computed, ✓ each), the conv_arithmetic cases and the ones nobody drew, "
        "the matrix view, checkerboard maps and an upsampling gallery on scikit-image's "
        "camera photo. Needs the viz extra (pip install 'upconv[viz]'); works offline.")
    to.add_argument("--out", required=True, help="folder to write (created if missing)")
    to.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    to.set_defaults(run=_tour)


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``upconv`` command (exposed for documentation and tests)."""
    common = _ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    parser = _ArgumentParser(
        prog="upconv",
        description="Transposed convolution, unpooling and upsampling: shapes, solutions, "
        "plans, and pictures you can trust (animate, trace, matrix, checkerboard, tour).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"upconv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sh = sub.add_parser(
        "shape", parents=[common], help="output size of a conv, pool or transposed conv",
        description="Print the output size, the formula with the numbers substituted and the "
        "relationship number; 'transpose' also prints the equivalent direct convolution.",
    )
    sh.add_argument("op", choices=["conv", "pool", "transpose"])
    sh.add_argument("--input", required=True, help="input size: 5 or 28x28")
    sh.add_argument("--kernel", required=True, help="kernel size: 3 or 3x3")
    sh.add_argument("--stride", default=None, help="stride (default 1; pools: the kernel size)")
    sh.add_argument("--padding", default="0",
                    help="padding: 1, 1x2, 0:1 (before:after), or same/valid for conv")
    sh.add_argument("--dilation", default="1", help="dilation (default 1)")
    sh.add_argument("--output-padding", default="0", help="transpose only: output padding a")
    sh.add_argument("--ceil-mode", action="store_true", help="pool only: PyTorch's ceil_mode")
    sh.set_defaults(run=_shape)

    so = sub.add_parser(
        "solve", parents=[common], help="which parameters map one size to another",
        description="List every transposed convolution (or, with --conv, convolution) that maps "
        "--input to --output, best first; fixed parameters narrow the search.",
    )
    so.add_argument("--input", required=True, help="input size: 7 or 7x9 (solved per dimension)")
    so.add_argument("--output", required=True, help="wanted output size")
    so.add_argument("--kernel", help="fix the kernel size")
    so.add_argument("--stride", help="fix the stride")
    so.add_argument("--padding", help="fix the padding")
    so.add_argument("--dilation", help="fix the dilation")
    so.add_argument("--conv", action="store_true", help="solve for a (downsampling) convolution")
    so.add_argument("--max-kernel", type=int, default=8, help="search bound (default 8)")
    so.add_argument("--limit", type=int, default=20, help="rows to print (default 20)")
    so.set_defaults(run=_solve)

    pl = sub.add_parser(
        "plan", parents=[common], help="mirror an encoder into an exact decoder",
        description="Print the encoder's sizes and the mirrored decoder with the exact "
        "output_padding / output_size per layer, and which levels a naive mirror gets wrong.",
    )
    pl.add_argument("--input", required=True, help="encoder input size: 28 or 28x28")
    pl.add_argument("--layers", required=True,
                    help='encoder layers, e.g. "conv k=3 s=2 p=1; pool k=2 ceil; conv k=3 s=2"')
    pl.set_defaults(run=_plan)

    _explain_parsers(sub, common)
    _cli_convert.add_parsers(sub, common)

    from . import experiments  # imports torch only when an experiment runs

    ex = sub.add_parser(
        "experiment", parents=[common], help="train and compare (needs the torch extra)",
        description="Experiments on Fashion-MNIST (Debian's dataset-fashion-mnist): the "
        "autoencoder study of upsampling methods and the Zeiler-Fergus deconvnet.",
    )
    ex_sub = ex.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    experiments.add_arguments(ex_sub, parents=[common])
    ex.set_defaults(run=_no_experiment)

    sv = sub.add_parser(
        "serve", parents=[common], help="the interactive explorer in your browser (needs the "
        "explorer extra)",
        description="Start the local explorer: every operation animated with sliders, hover "
        "formulas, the solver, equivalent PyTorch/Keras/JAX/ONNX code, checkerboard and matrix "
        "views. Serves on 127.0.0.1 only unless --host says otherwise; works offline; writes no "
        "files. Stop with Ctrl-C. Needs pip install 'upconv[explorer]'.",
        epilog="example: upconv serve --open")
    sv.add_argument("--port", type=_port, default=8765, help="TCP port (default 8765)")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1: this machine only)")
    sv.add_argument("--open", action="store_true", help="open the page in the default browser")
    sv.set_defaults(run=_serve)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port={text!r} is not an integer") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port={port} must be in 1..65535")
    return port


def _serve(args: argparse.Namespace) -> dict[str, Any]:
    from .serve import run  # imports fastapi/uvicorn; ImportError names the extra

    run(host=args.host, port=args.port, open_browser=args.open)
    return {"text": "upconv serve: stopped"}


def _no_experiment(args: argparse.Namespace) -> dict[str, Any]:
    raise _UsageError("upconv experiment: choose autoencoder or deconvnet (see --help)")


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``upconv`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on a usage or shape error.

    Examples
    --------
    >>> main(["shape", "conv", "--input", "5", "--kernel", "3"])
    output size: 3
    o = floor((i + p_before + p_after - d(k-1) - 1)/s) + 1 = floor((5 + 0 + 0 - 1*2 - 1)/1) + 1 = 3
      Relationship 1 (no zero padding, unit strides: o = i - k + 1)
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        result = args.run(args)
    except (ShapeError, TypeError, _UsageError) as err:
        if debug:
            raise
        print(f"upconv: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # --out in a place that cannot be written
        if debug:
            raise
        print(f"upconv: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as err:  # a missing extra: the message names the pip install
        if debug:
            raise
        print(f"upconv: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug of ours: still one line unless --debug
        if debug:
            raise
        print(f"upconv: internal error: {type(err).__name__}: {err} (rerun with --debug)",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(_jsonable({k: v for k, v in result.items() if k not in (
            "text", "exit")}), indent=2))
    else:
        print(result["text"])
    return int(result.get("exit", 0))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
