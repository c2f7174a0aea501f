"""Step-by-step Markdown of a small computation, from the same index maps as the animations.

The transposed convolution is written as seed 002 writes its example: each input element
times the kernel gives a partially filled output, then the partial outputs are summed, with
the output-size formula worked out in numbers.  Convolution lists each output as a sum of
products, pooling each window with its maximum (and switch) or mean, unpooling where each
value goes, and interpolation the weights of each output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import ShapeError
from ._steps import Cell, Plan, build, describe, fmt_num
from .animate import resolve_preset

_MAX_WIDTH = 100  # widest line of side-by-side matrices before they are stacked instead


def _grid_text(plan_cells: dict[Cell, str], lo: Sequence[int], hi: Sequence[int]) -> list[str]:
    """``[ a  b ]`` rows of a 1-d or 2-d block of cells (missing cells print as ``·``)."""
    if len(lo) == 1:
        rows = [[plan_cells.get((c,), "·") for c in range(lo[0], hi[0])]]
    else:
        rows = [[plan_cells.get((r, c), "·") for c in range(lo[1], hi[1])]
                for r in range(lo[0], hi[0])]
    width = max(len(v) for row in rows for v in row)
    return ["[ " + "  ".join(v.rjust(width) for v in row) + " ]" for row in rows]


def _array_text(a: np.ndarray) -> list[str]:
    shape = a.shape
    return _grid_text({tuple(c): fmt_num(float(a[c])) for c in np.ndindex(*shape)}, (0,) * a.ndim,
                      shape)


def _hjoin(blocks: Sequence[list[str]], seps: Sequence[str]) -> list[str]:
    """Put blocks side by side, top-aligned.

    ``seps[i]`` goes between block i and i+1 on the first row (blanks on the others).
    """
    height = max(len(b) for b in blocks)
    widths = [max(len(line) for line in b) for b in blocks]
    out = []
    for r in range(height):
        parts = []
        for n, block in enumerate(blocks):
            parts.append((block[r] if r < len(block) else "").ljust(widths[n]))
            if n < len(seps):
                sep = seps[n] if r == 0 else " " * len(seps[n])
                parts.append(sep)
        out.append("".join(parts).rstrip())
    return out


def _code(lines: Sequence[str]) -> str:
    return "```text\n" + "\n".join(lines) + "\n```"


def _size(t: Sequence[int]) -> str:
    return "×".join(map(str, t))


def _labelled(name: str, block: list[str]) -> list[str]:
    pad = " " * (len(name) + 3)
    return [(f"{name} = " if r == 0 else pad) + line for r, line in enumerate(block)]


def _inputs_section(plan: Plan) -> list[str]:
    assert plan.x is not None
    blocks = [_labelled("x", _array_text(plan.x))]
    if plan.weight is not None:
        blocks.append(_labelled("w", _array_text(plan.weight)))
    if plan.indices is not None:
        blocks.append(_labelled("switches", _array_text(plan.indices.astype(float))))
    what = "Input x" + (" and kernel w" if plan.weight is not None else "") + (
        " and the switches (flat indices into the output plane, from max_pool)"
        if plan.indices is not None else "")
    return [f"{what}:", "", _code(_hjoin(blocks, ["      "] * (len(blocks) - 1)))]


def _source_canvas(plan: Plan) -> list[str]:
    """What a gather view slides over: the padded (and, direct view, stretched) input."""
    assert plan.x is not None
    shown: dict[Cell, str] = {}
    lo, hi = list(plan.src_lo), list(plan.src_hi)
    for c, kind in plan.kinds_src.items():
        if kind == "crop":
            continue
        if kind == "input":
            idx = (tuple(v // s for v, s in zip(c, plan.stretch, strict=True)) if plan.stretch
                   else c)
            shown[c] = fmt_num(plan.x[idx])
        elif kind in ("pad", "zero"):
            shown[c] = "0" if plan.op != "max_pool" else "-inf"
    if plan.stretch:  # crop rows/cols that negative padding removes
        for a in range(plan.ndim):
            lo[a] = -plan.params["pad_before"][a]
            hi[a] = plan.params["stretched"][a] + plan.params["pad_after"][a]
    return _grid_text(shown, lo, hi)


def _scatter_partials(plan: Plan) -> list[str]:
    assert plan.x is not None and plan.weight is not None
    out: list[str] = []
    partials = []
    zero = tuple(0 for _ in plan.output_size)
    for n, step in enumerate(plan.steps, 1):
        out += [f"{n}. {describe(plan, step)}:", ""]
        landed: dict[Cell, str] = {t.output: fmt_num(t.value or 0.0) for t in step.taps
                                   if t.output is not None}
        partial = _grid_text(landed, zero, plan.output_size)
        partials.append(partial)
        (i,) = step.sources
        factor = [fmt_num(plan.x[i])]
        block = _hjoin([factor, _array_text(plan.weight), partial], [" × ", "  =  "])
        out += [_code(block), ""]
    finished = _array_text(plan.accumulate())
    summed = _hjoin([*partials, finished], [" + "] * (len(partials) - 1) + [" = "])
    out.append(f"Then the {len(partials)} partial outputs are summed"
               + (":" if max(len(line) for line in summed) <= _MAX_WIDTH else
                  " (cell by cell):"))
    out.append("")
    if max(len(line) for line in summed) <= _MAX_WIDTH:
        out += [_code(summed), ""]
    return out


def trace(
    op: str | None = None,
    input_size: Any = None,
    kernel_size: Any = None,
    stride: Any = None,
    padding: Any = None,
    dilation: Any = None,
    output_padding: Any = None,
    *,
    view: str | None = None,
    values: Any = None,
    kernel: Any = None,
    preset: str | None = None,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    output_size: Any = None,
    indices: Any = None,
    position: str = "top-left",
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> str:
    """A small computation written out step by step, as Markdown.

    Parameters
    ----------
    op, input_size, kernel_size, stride, padding, dilation, output_padding, view, preset
        As in :func:`animate` (1-d and 2-d).
    values, kernel : array_like, optional
        Input and kernel values; default ``1, 2, ..., n`` (max pooling: a fixed permutation
        of ``1..n``, so every maximum is unique) and ones.
    ceil_mode, count_include_pad, divisor_override, output_size, indices, position, size, \
scale_factor, mode, align_corners
        Options of the individual operations, as in :func:`animate`.

    Returns
    -------
    str
        Markdown: the parameters, the output-size formula with numbers (for conv_transpose
        also the equivalent direct convolution ``k', s', p'`` and ``ĩ'``), the inputs, one
        item per step, and the result.

    Raises
    ------
    ShapeError
        As :func:`animate`.

    See Also
    --------
    animate : the same steps as a picture.

    Examples
    --------
    Seed 002's transposed convolution:

    >>> text = trace("conv_transpose", values=[[1, 2], [3, 4]], kernel=[[5, 5], [5, 5]])
    >>> print(text.split("Then the")[1].split("Result")[0].strip())
    4 partial outputs are summed:
    <BLANKLINE>
    ```text
    [ 5  5  · ] + [  ·  10  10 ] + [  ·   ·   · ] + [  ·   ·   · ] = [  5  15  10 ]
    [ 5  5  · ]   [  ·  10  10 ]   [ 15  15   · ]   [  ·  20  20 ]   [ 20  50  30 ]
    [ ·  ·  · ]   [  ·   ·   · ]   [ 15  15   · ]   [  ·  20  20 ]   [ 15  35  20 ]
    ```
    """
    func = "trace"
    args = resolve_preset(func, preset, {
        "op": op, "input_size": input_size, "kernel_size": kernel_size, "stride": stride,
        "padding": padding, "dilation": dilation, "output_padding": output_padding,
        "view": view, "values": values, "kernel": kernel})
    plan = build(
        func, args["op"], args["input_size"], args["kernel_size"], args["stride"],
        args["padding"], args["dilation"], args["output_padding"], view=args["view"],
        values=args["values"], kernel=args["kernel"], numbers=True, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
        output_size=output_size, indices=indices, position=position, size=size,
        scale_factor=scale_factor, mode=mode, align_corners=align_corners)
    if plan.ndim > 2:
        raise ShapeError(
            f"{func}: writes 1-d and 2-d cases; input_size={_size(plan.input_size)} has "
            f"{plan.ndim} dimensions"
        )
    title = plan.title[0].upper() + plan.title[1:]
    lines = [f"## {title}", "", f"`{plan.header[0]}`", ""]
    lines += ["Output size:", ""]
    lines += [f"- {h}" for h in plan.header[1:]]
    lines.append("")
    lines += _inputs_section(plan)
    lines.append("")
    scatter_ct = plan.op == "conv_transpose" and plan.view == "scatter"
    if plan.view == "gather" and plan.op in ("conv", "max_pool", "avg_pool") and any(
        k != "input" for k in plan.kinds_src.values()
    ) or plan.view == "direct":
        what = ("the input stretched (s − 1 zeros between units) and padded"
                if plan.view == "direct" else "the padded input")
        blocks = [_source_canvas(plan)]
        if plan.view == "direct":
            assert plan.weight is not None
            blocks.append(_labelled("flipped w", _array_text(plan.weight[
                tuple(slice(None, None, -1) for _ in range(plan.ndim))])))
        lines += [f"The window slides over {what}:", "",
                  _code(_hjoin(blocks, ["      "] * (len(blocks) - 1))), ""]
    if scatter_ct:
        lines += [f"The output starts empty ({_size(plan.output_size)}); each input element "
                  "times the kernel gives a partially filled output:", ""]
        lines += _scatter_partials(plan)
    else:
        verb = {"max_unpool": "Each value goes to its switch:",
                "unpool": "Each value goes to one cell of its region:"}.get(
            plan.op, "Each output element:")
        lines += [verb, ""]
        lines += [f"{n}. {describe(plan, step)}" for n, step in enumerate(plan.steps, 1)]
        lines.append("")
    result = plan.accumulate()
    lines += [f"Result y ({_size(plan.output_size)}):", "", _code(_array_text(result)), ""]
    if plan.op == "max_pool":
        sw = np.array([s.switch for s in plan.steps], dtype=float).reshape(plan.output_size)
        lines += ["Switches (flat index of each maximum in the input plane, for max_unpool):",
                  "", _code(_array_text(sw)), ""]
    cropped = [c for c, k in plan.kinds_dst.items() if k == "crop"]
    if scatter_ct and cropped:
        lines += [f"Padding crops the full output {_size(plan.params['full'])} to "
                  f"{_size(plan.output_size)}: products landing in the cropped border are "
                  "dropped.", ""]
    return "\n".join(lines)


__all__ = ["trace"]
