"""The ``upconv`` command line: a thin layer over the public functions.

Every command takes ``--json``; errors print one line on stderr and exit with status 2
(a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__, shapes
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``upconv`` command (exposed for documentation and tests)."""
    common = _ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    parser = _ArgumentParser(
        prog="upconv",
        description="Transposed convolution, unpooling and upsampling: shapes, solutions, plans.",
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
    return parser


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
        print(f"upconv: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # a bug of ours: still one line unless --debug
        if debug:
            raise
        print(f"upconv: internal error: {type(err).__name__}: {err} (rerun with --debug)",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(_jsonable({k: v for k, v in result.items() if k != "text"}), indent=2))
    else:
        print(result["text"])
    return 0
