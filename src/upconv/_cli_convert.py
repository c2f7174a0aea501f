"""``upconv convert`` and ``upconv code``: the CLI over :mod:`upconv.conventions`.

One set of flags describes an operation in the *source* framework's own convention
(``--from``, default ``torch``); it becomes a framework-neutral spec, translated to the target
framework (``--to`` / ``--framework``) with the exact extra crop or pad when the target
cannot express it.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._validate import ShapeError

# Which source framework takes which of the generic flags, per op (the flag -> argument map).
_FLAGS_HELP = {
    "padding": "torch: 1 or 1x2; tf/jax: SAME, VALID or pairs 0:1x0:1; keras: same/valid; onnx: "
               "pairs (becomes pads)",
}


def _sizes(text: str | None, name: str) -> Any:
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ShapeError(
            f"--{name}={text!r} must be an integer or one per dimension like 7x7"
        ) from None
    return values[0] if len(values) == 1 else values


def _padding(text: str | None, source: str) -> Any:
    """``same``/``VALID`` pass through; ``1``/``1x2`` ints; ``0:1x0:1`` (before, after) pairs."""
    if text is None:
        return None
    if text.replace("_", "").isalpha():
        return text
    parts = text.split("x")
    try:
        if any(":" in p for p in parts):
            return tuple(tuple(int(v) for v in p.split(":")) if ":" in p else (int(p), int(p))
                         for p in parts)
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ShapeError(
            f"--padding={text!r} must look like 1, 1x2, 0:1x0:1 (before:after) or a padding "
            f"name of {source} (e.g. SAME, VALID)"
        ) from None
    if source in ("tf", "jax"):  # these frameworks take explicit pairs only
        return tuple((v, v) for v in values)
    return values[0] if len(values) == 1 else values


def _onnx_pads(padding: Any, ndim: int) -> list[int] | None:
    # ONNX pads: all the begins, then all the ends
    if padding is None:
        return None
    if isinstance(padding, int):
        return [padding] * (2 * ndim)
    pairs = [(p, p) if isinstance(p, int) else p for p in padding]
    return [b for b, _ in pairs] + [a for _, a in pairs]


def _floats(text: str | None) -> Any:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.lower().split("x"))
    except ValueError:
        raise ShapeError(f"--scale={text!r} must be a number or one per dimension like 2x2")\
            from None
    return values[0] if len(values) == 1 else values


def _resize_spec(args: argparse.Namespace, size: Any) -> Any:
    from .conventions._resize import ResizeSpec

    src, out, scale = args.source, _sizes(args.output_shape, "output-shape"), _floats(args.scale)
    mode = args.mode
    if src == "torch":
        return ResizeSpec.from_torch(size, out, scale, mode or "nearest",
                                     args.align_corners or None)
    if src == "tf":
        return ResizeSpec.from_tf(size, out, mode or "bilinear")
    if src == "keras":
        factor = int(scale) if isinstance(scale, float) else scale
        return ResizeSpec.from_keras(size, factor or 2, mode or "nearest")
    if src == "jax":
        return ResizeSpec.from_jax(size, out, mode or "linear")
    return ResizeSpec.from_onnx(size, scale if out is None else None, out, mode or "nearest",
                                args.coordinate or "half_pixel",
                                args.nearest_mode or "round_prefer_floor")


def _spec(args: argparse.Namespace) -> Any:
    from .conventions._conv import ConvSpec, TransposeSpec
    from .conventions._pool import PoolSpec
    from .conventions._shuffle import ShuffleSpec

    src = args.source
    size = _sizes(args.input, "input")
    if args.op == "resize":
        return _resize_spec(args, size)
    if args.kernel is None:
        raise ShapeError(f"upconv convert: --kernel is required for {args.op} (the kernel size, "
                         "or the factor for pixel shuffle)")
    if args.op in ("pixel_shuffle", "pixel_unshuffle"):
        factor = int(_sizes(args.kernel, "kernel"))
        op = "depth_to_space" if args.op == "pixel_shuffle" else "space_to_depth"
        if src == "torch":
            return ShuffleSpec.from_torch(args.op, factor)
        if src == "onnx":
            onnx_op = "DepthToSpace" if args.op == "pixel_shuffle" else "SpaceToDepth"
            return ShuffleSpec.from_onnx(onnx_op, factor, args.mode or "DCR")
        if src == "keras":
            return ShuffleSpec.from_keras(op, factor)
        if src == "tf":
            return ShuffleSpec.from_tf(op, factor)
    k = _sizes(args.kernel, "kernel")
    s = _sizes(args.stride, "stride")
    d = _sizes(args.dilation, "dilation")
    a = _sizes(args.output_padding, "output-padding")
    out = _sizes(args.output_shape, "output-shape")
    pad = _padding(args.padding, src)
    ndim = 1 if isinstance(size, int) else len(size)
    g = args.groups
    if args.op in ("max_pool", "avg_pool"):
        kind = args.op.split("_")[0]
        if src == "torch":
            return PoolSpec.from_torch(kind, size, k, s, pad or 0, d or 1, args.ceil_mode)
        if src == "tf":
            return PoolSpec.from_tf(kind, size, k, s or k, pad or "VALID")
        if src == "keras":
            return PoolSpec.from_keras(kind, size, k, s, pad or "valid")
        if src == "jax":
            return PoolSpec.from_jax(kind, size, k, s, pad or "VALID", d)
        if src == "onnx":
            return PoolSpec.from_onnx(kind, size, k, s, _onnx_pads(pad, ndim), d, args.auto_pad,
                                      int(args.ceil_mode))
    if args.op == "transpose":
        if src == "torch":
            return TransposeSpec.from_torch(size, k, s or 1, pad or 0, a or 0, d or 1, groups=g)
        if src == "tf":
            return TransposeSpec.from_tf(size, k, s or 1, pad or "SAME", out, d)
        if src == "keras":
            return TransposeSpec.from_keras(size, k, s or 1, pad or "valid", a, d or 1)
        if src == "jax":
            return TransposeSpec.from_jax(size, k, s or 1, pad or "SAME", d,
                                          transpose_kernel=args.transpose_kernel)
        if src == "onnx":
            return TransposeSpec.from_onnx(size, k, s, _onnx_pads(pad, ndim), args.auto_pad,
                                           out, a, d, group=g)
    else:
        if src == "torch":
            return ConvSpec.from_torch(size, k, s or 1, pad or 0, d or 1, g)
        if src == "tf":
            return ConvSpec.from_tf(size, k, s or 1, pad or "VALID", d, groups=g)
        if src == "keras":
            return ConvSpec.from_keras(size, k, s or 1, pad or "valid", d or 1, g)
        if src == "jax":
            return ConvSpec.from_jax(size, k, s or 1, pad or "VALID", rhs_dilation=d,
                                     feature_group_count=g)
        if src == "onnx":
            return ConvSpec.from_onnx(size, k, s, _onnx_pads(pad, ndim), args.auto_pad, d,
                                      group=g)
    raise ShapeError(f"--from={src!r} is not a source framework; use torch, tf, keras, jax or "
                     "onnx")


def _translate(args: argparse.Namespace, target: str) -> dict[str, Any]:
    from .conventions._common import check_framework

    args.source = check_framework(args.source, "upconv convert",
                                  allowed=("torch", "tf", "keras", "jax", "onnx"))
    target = check_framework(target, "upconv convert")
    spec = _spec(args)
    tr = spec.to(target)
    lines = [
        f"{args.source} -> {target}: {tr.op}",
        "arguments: " + ", ".join(f"{key}={value!r}" for key, value in tr.args.items()),
        "exact: yes" if tr.exact else f"exact: no — apply afterwards: {tr.extra}",
        "why:",
        *(f"  - {note}" for note in tr.notes),
        "code:",
        *(f"  {line}" for line in tr.code.splitlines()),
    ]
    return {"source": args.source, "target": target, "spec": spec.to_dict(),
            "translation": tr.to_dict(), "text": "\n".join(lines)}


def _convert(args: argparse.Namespace) -> dict[str, Any]:
    return _translate(args, args.target)


def _code(args: argparse.Namespace) -> dict[str, Any]:
    result = _translate(args, args.framework)
    if not args.json:
        result["text"] = result["translation"]["code"]
    return result


def _op_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("op", choices=["transpose", "conv", "max_pool", "avg_pool", "resize",
                                  "pixel_shuffle", "pixel_unshuffle"],
                   help="the operation (pixel shuffle: --kernel is the factor)")
    p.add_argument("--from", dest="source", default="torch",
                   help="the convention the flags are written in: torch (default), tf, keras, "
                   "jax, onnx")
    p.add_argument("--input", required=True, help="spatial input size: 7 or 7x7")
    p.add_argument("--kernel", help="kernel size: 3 or 3x3 (pixel shuffle: the factor)")
    p.add_argument("--stride", help="stride (strides)")
    p.add_argument("--padding", help=_FLAGS_HELP["padding"])
    p.add_argument("--output-padding", help="torch/keras/onnx output_padding")
    p.add_argument("--dilation", help="dilation (dilations, dilation_rate, rhs_dilation)")
    p.add_argument("--output-shape", help="tf/onnx output_shape (spatial), e.g. 14x14")
    p.add_argument("--auto-pad", default="NOTSET",
                   help="onnx auto_pad: NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    p.add_argument("--transpose-kernel", action="store_true", help="jax transpose_kernel=True")
    p.add_argument("--groups", type=int, default=1, help="groups (group, feature_group_count)")
    p.add_argument("--ceil-mode", action="store_true", help="pools: ceil_mode")
    p.add_argument("--scale", help="resize: scale factor(s), e.g. 2 or 2x2")
    p.add_argument("--mode", help="resize: the source's mode/method (e.g. torch bilinear, tf "
                   "bilinear, jax linear, onnx linear); onnx DepthToSpace: DCR or CRD")
    p.add_argument("--align-corners", action="store_true", help="torch resize: align_corners")
    p.add_argument("--coordinate", help="onnx resize: coordinate_transformation_mode")
    p.add_argument("--nearest-mode", help="onnx resize: nearest_mode")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``convert`` and ``code`` on the ``upconv`` subparsers."""
    cv = sub.add_parser(
        "convert", parents=[common], help="translate a layer between frameworks",
        description="Print the target framework's arguments for an operation written in the "
        "source framework's convention, the extra crop/pad when the target cannot express it "
        "(never a silently shifted result), why, and the code.",
    )
    cv.add_argument("--to", dest="target", required=True,
                    help="torch, tf, keras, jax, flax or onnx")
    _op_flags(cv)
    cv.set_defaults(run=_convert)

    cd = sub.add_parser(
        "code", parents=[common], help="print the layer/call that realises a spec, ready to paste",
        description="Print the exact layer or function call (plus any slicing) that realises "
        "the operation in the chosen framework.",
    )
    cd.add_argument("--framework", required=True, help="torch, tf, keras, jax, flax or onnx")
    _op_flags(cd)
    cd.set_defaults(run=_code)
