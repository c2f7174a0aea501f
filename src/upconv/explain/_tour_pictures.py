"""The picture sections of ``upconv tour``: named cases, unusual cases, matrices, overlaps.

conv_arithmetic's 19 cases, the cases nobody drew, the matrix view and checkerboard maps.

Animations are written as standalone animated SVG files (CSS keyframes, no script) that the
page shows with ``<img>``; matrices and heat maps are inline SVG.  No Pillow needed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._tour_html import Section, command, esc, figure
from .animate import PRESETS, animate
from .checkerboard import checkerboard
from .matrix import matrix

Writer = Callable[[str, str], str]  # (relative path, text) -> href


def _size(t: Any) -> str:
    return "×".join(map(str, t)) if isinstance(t, tuple) else str(t)


def _preset_cli(name: str) -> str:
    return f"upconv animate --preset {name} --out {name}.gif"


def _anim_figure(write: Writer, name: str, caption: str, cli: str, **kw: Any) -> str:
    anim = animate(**kw)
    href = write(f"anim/{name}.svg", anim.to_svg())
    header = "<br>".join(esc(h) for h in anim.plan.header)
    return figure(f'<img src="{esc(href)}" alt="{esc(caption)}" loading="lazy" '
                  f'width="{anim.width}" height="{anim.height}">',
                  f"<b>{esc(caption)}</b> ({anim.frames} frames)<br><small>{header}</small>"
                  f"<br>{command(cli)}")


def named_cases(write: Writer) -> Section:
    """All 19 conv_arithmetic animations, by name, drawn from upconv's index maps."""
    s = Section("conv-arithmetic", "The conv_arithmetic cases, by name",
                intro="The 19 animations of Dumoulin & Visin's conv_arithmetic, redrawn from "
                "the same index maps that compute the numbers: input blue, output orange, "
                "both labelled; padding on the side it is applied to; the transposed cases "
                "in the direct view with both parameter sets (k, s, p, a and k′, s′, p′, "
                "ĩ′). Each is <code>upconv animate --preset NAME</code>.")
    figs = []
    for name in PRESETS:
        figs.append(_anim_figure(write, name, name, _preset_cli(name), preset=name))
    s.raw('<div class="figs">' + "".join(figs) + "</div>")
    return s


# (file name, title, why nobody drew it, CLI, animate keyword arguments)
NOBODY_DREW: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("dilated_transposed_scatter", "Dilated transposed convolution (d = 2), scatter view",
     "conv_arithmetic draws dilation for the convolution only. Each input paints a kernel "
     "whose taps are d apart.",
     "upconv animate transpose --input 3x3 --kernel 3 --dilation 2",
     dict(op="conv_transpose", input_size=(3, 3), kernel_size=3, dilation=2)),
    ("dilated_transposed_direct", "Dilated transposed convolution (d = 2), direct view",
     "The equivalent direct convolution pads d(k − 1) − p = 4 zeros each side and slides the "
     "flipped, dilated kernel.",
     "upconv animate transpose --input 3x3 --kernel 3 --dilation 2 --view direct",
     dict(op="conv_transpose", input_size=(3, 3), kernel_size=3, dilation=2, view="direct")),
    ("output_padding", "output_padding a = 1 (Relationship 13's extra zeros)",
     "The a extra zeros sit at the end (bottom and right) of the stretched input, where "
     "PyTorch puts output_padding; the output grows by one row and column.",
     "upconv animate transpose --input 3x3 --kernel 3 --stride 2 --padding 1 "
     "--output-padding 1 --view direct",
     dict(op="conv_transpose", input_size=(3, 3), kernel_size=3, stride=2, padding=1,
          output_padding=1, view="direct")),
    ("padding_crops", "Padding larger than k − 1: cropping",
     "With p = 3 > k − 1 = 2 the direct view would need negative padding; in the scatter "
     "view the full 9×9 output is cropped by 3 on every side, products landing in the "
     "crop are dropped.",
     "upconv animate transpose --input 4x4 --kernel 3 --stride 2 --padding 3",
     dict(op="conv_transpose", input_size=(4, 4), kernel_size=3, stride=2, padding=3)),
    ("asymmetric_conv", "Asymmetric padding (0 before, 1 after): TensorFlow's 'same', stride 2",
     "TensorFlow pads the odd extra zero after; conv_arithmetic only draws symmetric "
     "padding.",
     "upconv animate conv --input 6x6 --kernel 3 --stride 2 --padding 0:1x0:1",
     dict(op="conv", input_size=(6, 6), kernel_size=3, stride=2, padding=((0, 1), (0, 1)))),
    ("asymmetric_transposed", "...and its transpose (direct view): p′ = 2 before, 1 after",
     "The transposed convolution's padding mirrors it: k − 1 − p_before zeros before, "
     "k − 1 − p_after after.",
     "upconv animate transpose --input 3x3 --kernel 3 --stride 2 --padding 0:1x0:1 "
     "--view direct",
     dict(op="conv_transpose", input_size=(3, 3), kernel_size=3, stride=2,
          padding=((0, 1), (0, 1)), view="direct")),
    ("rectangular", "Rectangular: 2×3 input, 3×2 kernel, stride (2, 1)",
     "Every size and parameter may differ per dimension.",
     "upconv animate transpose --input 2x3 --kernel 3x2 --stride 2x1",
     dict(op="conv_transpose", input_size=(2, 3), kernel_size=(3, 2), stride=(2, 1))),
    ("one_d", "1-d with numbers: [1, 2, 3], kernel [1, 1, 1], stride 2",
     "The overlaps add up: the middle outputs get two products, the others one (the 1-d "
     "checkerboard).",
     "upconv animate transpose --values 1,2,3 --kernel-values 1,1,1 --stride 2",
     dict(op="conv_transpose", values=[1, 2, 3], kernel=[1, 1, 1], stride=2)),
]


def nobody_drew(write: Writer) -> Section:
    """Dilated transposed conv, output_padding, cropping, asymmetric, rectangular, 1-d."""
    s = Section("nobody-drew", "The cases nobody drew",
                intro="conv_arithmetic never drew a dilated transposed convolution, "
                "output_padding, padding larger than k − 1, asymmetric padding, rectangular "
                "sizes or 1-d; upconv draws them like any other case.")
    for name, title, why, cli, kw in NOBODY_DREW:
        s.raw(_anim_figure(write, name, title, cli, **kw).replace(
            "</figcaption>", f"<br>{esc(why)}</figcaption>"))
    return s


def matrix_view() -> Section:
    """C and Cᵀ for a few small convolutions, with the check under each."""
    s = Section("matrix-view", "The matrix view: C and Cᵀ",
                intro="A convolution is a sparse matrix C acting on the flattened input; the "
                "transposed convolution is Cᵀ (seed 004, Figure 2.3, shown there). Each "
                "picture checks Cᵀy against <code>upconv.conv_transpose(y)</code>.")
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("1-d, k = 3, stride 2: the columns of Cᵀ overlap every other row — the "
         "checkerboard in matrix form", "upconv matrix --input 7 --kernel 3 --stride 2",
         dict(input_size=7, kernel_size=3, stride=2)),
        ("1-d, k = 3, dilation 2", "upconv matrix --input 7 --kernel 3 --dilation 2",
         dict(input_size=7, kernel_size=3, dilation=2)),
        ("2-d, 4×4 input, k = 3, stride 2, padding 1",
         "upconv matrix --input 4x4 --kernel 3 --stride 2 --padding 1",
         dict(input_size=(4, 4), kernel_size=3, stride=2, padding=1)),
    ]
    for caption, cli, kw in cases:
        view = matrix(**kw)
        s.raw(figure(view.scene().svg(), f"{esc(caption)}<br>{esc(view.check)}<br>"
                     + command(cli)))
    return s


CHECKERBOARD_CASES = [(2, 2), (3, 2), (4, 2), (5, 2), (3, 3), (4, 3), (6, 3)]


def checkerboards() -> Section:
    """Overlap maps for common (k, s), stacks, dilation, and resize-then-convolve."""
    s = Section("checkerboard", "Checkerboard maps",
                intro="How many kernel taps reach each output position (all-ones input and "
                "kernel, computed with <code>upconv.conv_transpose</code>); the red frame "
                "is the interior, away from the borders. Uneven exactly when k is not "
                "divisible by s (Odena, Dumoulin & Olah, Distill 2016).")
    rows, figs = [], []
    for k, st in CHECKERBOARD_CASES:
        cb = checkerboard(k, st)
        rows.append(f"<tr><td class='n'>{k}</td><td class='n'>{st}</td>"
                    f"<td>{'even' if cb.even else 'uneven'}</td>"
                    f"<td class='n'>{cb.ratio:.3g}</td><td class='n'>{_size(cb.period)}</td>"
                    f"<td>{esc(', '.join(str(p) for p in cb.phases))}</td></tr>")
        figs.append(figure(cb.scene().svg(), f"k = {k}, s = {st}: "
                           f"{'even' if cb.even else 'uneven'}<br>" + command(
                               f"upconv checkerboard --kernel {k} --stride {st}")))
    s.raw("<table class='list'><tr><th>k</th><th>s</th><th>verdict</th><th>max/min</th>"
          "<th>period</th><th>taps per phase</th></tr>" + "".join(rows) + "</table>")
    s.raw('<div class="figs">' + "".join(figs) + "</div>")
    s.h("Stacks, dilation and resize-then-convolve")
    extra = [
        (checkerboard(3, 2, layers=2), "two stacked layers k = 3, s = 2 compound the pattern",
         "upconv checkerboard --kernel 3 --stride 2 --layers 2"),
        (checkerboard(3, 2, layers=3, ndim=1), "three layers (1-d): max/min grows 2 → 3 → 5",
         "upconv checkerboard --kernel 3 --stride 2 --layers 3 --ndim 1"),
        (checkerboard(4, 2, layers=2), "two layers k = 4, s = 2 stay even",
         "upconv checkerboard --kernel 4 --stride 2 --layers 2"),
        (checkerboard(3, 2, dilation=2), "dilation 2 with stride 2: whole phases get no tap",
         "upconv checkerboard --kernel 3 --stride 2 --dilation 2"),
        (checkerboard(3, 2, method="resize-conv"), "nearest ×2 then 3×3 conv: even",
         "upconv checkerboard --kernel 3 --stride 2 --method resize-conv"),
        (checkerboard(3, 2, layers=2, method="resize-conv"),
         "two resize-conv layers: still even",
         "upconv checkerboard --kernel 3 --stride 2 --layers 2 --method resize-conv"),
    ]
    s.raw('<div class="figs">' + "".join(
        figure(cb.scene().svg(), f"{esc(text)}<br>{esc(cb.verdict)}<br>{command(cli)}")
        for cb, text, cli in extra) + "</div>")
    return s
