"""Every worked example of the seeds, reproduced and checked, for ``upconv tour``.

The expected values are literals copied from the seeds in ``shared/seeds`` (tables, sizes,
the parameters of each relationship) or worked out by hand from them, never computed by
the code under test; the computed values come from :mod:`upconv`.  Each function returns one
:class:`~upconv.explain._tour_html.Section` for one seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops, shapes
from ._tour_html import Section, command, esc, figure, markdown, table
from .animate import animate
from .checkerboard import checkerboard
from .matrix import matrix
from .trace import trace

# Seed 002's small inputs
X12 = [[1, 2], [3, 4]]
X1040 = [[10, 20], [30, 40]]
K5 = [[5, 5], [5, 5]]
POOL_IN = [[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]]


def _x(values: object) -> np.ndarray:
    """A spatial array as one sample with one channel, float64."""
    a = np.asarray(values, dtype=np.float64)
    return a.reshape(1, 1, *a.shape)


def _sp(y: object) -> np.ndarray:
    """The spatial plane of a ``(1, 1, *spatial)`` result."""
    return np.asarray(y)[0, 0]


def _unpool(x: np.ndarray, k: int | tuple[int, ...]) -> np.ndarray:
    """:func:`upconv.unpool` without indices (always an array)."""
    y = ops.unpool(x, k)
    assert isinstance(y, np.ndarray)
    return y


def _anim(caption: str, cli: str, **kw: object) -> str:
    """An inline animation (HTML + SVG, pause button and frame slider) with its caption."""
    anim = animate(**kw)  # type: ignore[arg-type]
    return figure(anim.to_html(full=False), f"{esc(caption)}<br>{command(cli)}")


# ---------------------------------------------------------------------------------------------
# Seed 002: conv output size, K-nearest, bilinear, bed of nails, max-unpooling, transposed conv


def seed_002() -> Section:
    """Seed 002: downsampling, four upsampling techniques, the transposed-conv scatter."""
    s = Section("seed-002", "Seed 002: convolution size, upsampling techniques, and the "
                "transposed convolution step by step",
                intro="A GitBook chapter on transposed convolution: every table it prints is "
                "reproduced below, each by the upconv function that computes it.")

    s.h("Downsample via convolution")
    s.quote("Given an input tensor and a filter/kernel tensor, e.g. input=(5, 5, 3) and "
            "kernel=(3, 3, 3), using stride=1, the output is a (3, 3, 1) tensor. "
            "W_output = 1 + (W_input - W_kernel + 2P)/S = 1 + (5 - 3 + 2*0)/1 = 3",
            "seed 002, Downsample via Convolution")

    def conv_size() -> dict[str, object]:
        y = ops.conv(np.ones((1, 3, 5, 5)), np.ones((1, 3, 3, 3)))
        return {"output (H, W, depth)": [y.shape[2], y.shape[3], y.shape[1]],
                "W_output": shapes.conv_output_size(5, 3, 1, 0)}

    s.check("002-conv-size", "Convolution output size: 5×5×3 input, 3×3×3 kernel, stride 1, "
            "no padding", {"output (H, W, depth)": [3, 3, 1], "W_output": 3}, conv_size,
            "upconv.conv(ones(1,3,5,5), ones(1,3,3,3)).shape; upconv.conv_output_size(5, 3)",
            note="upconv is channels-first: the (1, 1, 3, 3) result is the seed's (3, 3, 1). "
            "Every filter spans all input channels, so one filter gives depth 1.")

    s.h("K-nearest neighbours")
    s.quote("We take every element of an input tensor and duplicate it by a factor of K. "
            "For example, K=4: [[1, 2], [3, 4]] -> [[1, 1, 2, 2], [1, 1, 2, 2], "
            "[3, 3, 4, 4], [3, 3, 4, 4]]", "seed 002, K-Nearest Neighbors")
    s.check("002-nearest", "Nearest-neighbour upsampling of [[1, 2], [3, 4]]",
            [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
            lambda: _sp(ops.interpolate(_x(X12), scale_factor=2, mode="nearest")),
            "upconv.interpolate(x, scale_factor=2, mode='nearest')",
            note="The seed's K = 4 counts the copies of each element: a 2×2 block, i.e. a "
            "scale factor of 2 in each dimension.")
    s.raw(_anim("nearest ×2: each output reads the input cell its source coordinate floors to",
                "upconv animate nearest --values '1,2;3,4' --scale-factor 2 --out nearest.gif",
                op="interpolate", values=X12, scale_factor=2, mode="nearest"))

    s.h("Bilinear interpolation")
    s.quote("We take every element of an input tensor and set them to be the corners of the "
            "output. Then we interpolate every missing elements by weighted average. "
            "[[10, 20], [30, 40]] -> [[10, 12, 17, 20], [15, 17, 22, 25], [25, 27, 32, 35], "
            "[30, 32, 37, 40]]", "seed 002, Bi-Linear Interpolation")
    exact = ops.interpolate(_x(X1040), scale_factor=2, mode="bilinear")
    corners = ops.interpolate(_x(X1040), scale_factor=2, mode="bilinear", align_corners=True)
    s.check("002-bilinear", "Bilinear ×2 of [[10, 20], [30, 40]]: the seed's integers",
            [[10, 12, 17, 20], [15, 17, 22, 25], [25, 27, 32, 35], [30, 32, 37, 40]],
            lambda: np.floor(_sp(exact)),
            "floor(upconv.interpolate(x, scale_factor=2, mode='bilinear'))",
            note="The seed's integers are the <b>floor</b> of PyTorch's half-pixel bilinear "
            "(<code>align_corners=False</code>: source coordinate (j + 0.5)/2 − 0.5, clamped "
            "at the border), whose exact values are:" + table(_sp(exact))
            + "The seed's wording (input elements at the output's corners) would also fit "
            "<code>align_corners=True</code>, but that gives other numbers (floored, the first "
            "row is 10, 13, 16, 20), so the seed's table is half-pixel:"
            + table(np.round(_sp(corners), 3)))
    s.check("002-bilinear-exact", "Bilinear ×2 of [[10, 20], [30, 40]]: the exact half-pixel "
            "values (before the seed floors them)",
            [[10, 12.5, 17.5, 20], [15, 17.5, 22.5, 25], [25, 27.5, 32.5, 35],
             [30, 32.5, 37.5, 40]], lambda: _sp(exact),
            "upconv.interpolate(x, scale_factor=2, mode='bilinear')",
            note="Worked out by hand: along a row, the outputs sit at source coordinates "
            "−0.25 (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1), so 10, 20 become "
            "10, 12.5, 17.5, 20.")
    s.raw(_anim("bilinear ×2 (half-pixel): each output is a weighted sum of up to four "
                "inputs", "upconv animate bilinear --values '10,20;30,40' --scale-factor 2 "
                "--out bilinear.gif", op="interpolate", values=X1040, scale_factor=2,
                mode="bilinear"))

    s.h("Bed of nails")
    s.quote("We copy every element of an input tensor to the output tensor and set everything "
            "else to zero. Each input tensor value is set to the top left corner of the "
            "expanded cell.", "seed 002, Bed of Nails")
    s.check("002-bed-of-nails", "Bed of nails ×2 of [[1, 2], [3, 4]]",
            [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
            lambda: _sp(_unpool(_x(X12), 2)), "upconv.unpool(x, 2)")

    s.h("Max pooling and max-unpooling")
    s.quote("Max pooling takes the maximum among all values in a kernel. Max unpooling performs "
            "the opposite but it requires information from the previous max pooling layer to "
            "know what was the original index localization of each max element.",
            "seed 002, Max-Unpooling")
    pooled, switches = ops.max_pool(_x(POOL_IN), 2, return_indices=True)
    s.check("002-max-pool", "2×2 max pooling of the seed's 4×4 input", [[4, 4], [4, 4]],
            lambda: _sp(pooled), "upconv.max_pool(x, 2, return_indices=True)")

    def positions() -> np.ndarray:
        # NumPy alone places each maximum at its switch (max_unpool is checked next).
        out = np.zeros(16)
        out[np.asarray(switches).ravel()] = np.asarray(pooled).ravel()
        return out.reshape(4, 4)

    s.check("002-max-positions", "Where the maxima sit (the seed's middle matrix; blanks are 0)",
            [[0, 0, 4, 0], [0, 4, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]], positions,
            "the switches of upconv.max_pool, placed with NumPy",
            note="switches (flat indices into the 4×4 plane): "
            + table(_sp(switches)) + "Each 2×2 window holds a single 4, so the switches "
            "are unambiguous (with ties PyTorch and upconv keep the first maximum in "
            "row-major order).")
    s.check("002-max-unpool", "Max-unpooling [[1, 2], [3, 4]] with those switches",
            [[0, 0, 2, 0], [0, 1, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]],
            lambda: _sp(ops.max_unpool(_x(X12), switches, 2)),
            "upconv.max_unpool(x, switches, 2)")
    s.raw('<div class="figs">' + _anim(
        "max pooling 2×2 of the seed's input: each window's maximum and its switch",
        "upconv animate pool --values '1,2,4,1;3,4,2,3;1,4,1,2;2,3,4,3' --kernel 2 "
        "--out maxpool.gif", op="max_pool", values=POOL_IN, kernel_size=2)
        + _anim("max-unpooling: each value goes back to its switch, zeros elsewhere",
                "upconv animate max_unpool --values '1,2;3,4' --indices '5,2;9,14' --kernel 2 "
                "--out maxunpool.gif", op="max_unpool", values=X12, kernel_size=2,
                indices=_sp(switches)) + "</div>")

    s.h("Upsample via transposed convolution")
    s.quote("Assuming 0 padding and unit stride size, we have W = H = 2 for both inputs and "
            "kernels, P = 0, and S = 1. W_output = H_output = (W_input - 1) * S - 2P + W_kernel "
            "= (2 - 1) * 1 - 2*0 + 2 = 3", "seed 002, Upsample via Transpose Convolution")
    s.check("002-transpose-size", "Transposed convolution output size: 2×2 input, 2×2 kernel, "
            "stride 1, no padding", [3, 3],
            lambda: shapes.conv_transpose_output_size((2, 2), 2),
            "upconv.conv_transpose_output_size((2, 2), 2)")
    x, w = _x(X12), _x(K5)
    partials = [
        [[5, 5, 0], [5, 5, 0], [0, 0, 0]],
        [[0, 10, 10], [0, 10, 10], [0, 0, 0]],
        [[0, 0, 0], [15, 15, 0], [15, 15, 0]],
        [[0, 0, 0], [0, 20, 20], [0, 20, 20]],
    ]
    for n, (cell, want) in enumerate(zip([(0, 0), (0, 1), (1, 0), (1, 1)], partials,
                                         strict=True), 1):
        def one(cell: tuple[int, int] = cell) -> np.ndarray:
            only = np.zeros_like(x)
            only[(0, 0, *cell)] = x[(0, 0, *cell)]
            return _sp(ops.conv_transpose(only, w))

        s.check(f"002-transpose-step-{n}", f"Step {n}: input element {X12[cell[0]][cell[1]]} "
                "times the kernel, a partially filled output (blanks are 0)", want, one,
                f"upconv.conv_transpose(x with only x{list(cell)} kept, kernel)")
    s.check("002-transpose-sum", "The sum of the four partial outputs: the transposed "
            "convolution", [[5, 15, 10], [20, 50, 30], [15, 35, 20]],
            lambda: _sp(ops.conv_transpose(x, w)), "upconv.conv_transpose(x, kernel)")
    s.raw(_anim("seed 002's transposed convolution, scatter view: each input cell paints a "
                "kernel-sized patch, the patches are summed",
                "upconv animate transpose --values '1,2;3,4' --kernel-values '5,5;5,5' "
                "--out seed002.gif", op="conv_transpose", values=X12, kernel=K5))
    s.p("The same computation written out by <code>upconv trace transpose --values '1,2;3,4' "
        "--kernel-values '5,5;5,5'</code>:")
    s.raw(markdown(trace("conv_transpose", values=X12, kernel=K5)))
    return s


# ---------------------------------------------------------------------------------------------
# Seed 004: convolution arithmetic, Relationships 7-13, Figure 2.3

# (relationship, conv i, k, s, p) of the seed's figures, and what the seed and the guide
# state for the transposed convolution: i' = o, stretched ĩ', p' before/after, a, o' = i.
RELATIONSHIPS = [
    # rel, i, k, s, p, o, ĩ', p'_before, p'_after, a, formula with numbers
    (7, 4, 3, 1, 0, 2, 2, 2, 2, 0, "o′ = i′ + (k − 1) = 2 + 2 = 4"),
    (8, 5, 4, 1, 2, 6, 6, 1, 1, 0, "o′ = i′ + (k − 1) − 2p = 6 + 3 − 4 = 5"),
    (9, 5, 3, 1, 1, 5, 5, 1, 1, 0, "o′ = i′ = 5"),
    (10, 5, 3, 1, 2, 7, 7, 0, 0, 0, "o′ = i′ − (k − 1) = 7 − 2 = 5"),
    (11, 5, 3, 2, 0, 2, 3, 2, 2, 0, "o′ = s(i′ − 1) + k = 2·1 + 3 = 5"),
    (12, 5, 3, 2, 1, 3, 5, 1, 1, 0, "o′ = s(i′ − 1) + k − 2p = 2·2 + 3 − 2 = 5"),
    (13, 6, 3, 2, 1, 3, 5, 1, 2, 1, "o′ = s(i′ − 1) + a + k − 2p = 2·2 + 1 + 3 − 2 = 6"),
]
_REL_PRESET = {7: "no_padding_no_strides_transposed", 8: "arbitrary_padding_no_strides_transposed",
               9: "same_padding_no_strides_transposed", 10: "full_padding_no_strides_transposed",
               11: "no_padding_strides_transposed", 12: "padding_strides_transposed",
               13: "padding_strides_odd_transposed"}
_REL_TEXT = {
    7: "s = 1, p = 0: k′ = k, s′ = s, p′ = k − 1",
    8: "s = 1, p: k′ = k, s′ = s, p′ = k − p − 1",
    9: "half padding k = 2n + 1, s = 1, p = ⌊k/2⌋ = n: k′ = k, s′ = s, p′ = p",
    10: "full padding s = 1, p = k − 1: k′ = k, s′ = s, p′ = 0",
    11: "p = 0, (i − k) a multiple of s: ĩ′ (s − 1 zeros between units), k′ = k, s′ = 1, "
        "p′ = k − 1",
    12: "(i + 2p − k) a multiple of s: ĩ′, k′ = k, s′ = 1, p′ = k − p − 1",
    13: "any i: a = (i + 2p − k) mod s extra zeros, ĩ′, k′ = k, s′ = 1, p′ = k − p − 1",
}

# Figure 2.3: the 4x16 matrix C of a 3x3 kernel on a 4x4 input, unit stride, no padding.
FIGURE_2_3 = [
    ["w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0", "w_20", "w_21", "w_22", "0",
     "0", "0", "0", "0"],
    ["0", "w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0", "w_20", "w_21", "w_22",
     "0", "0", "0", "0"],
    ["0", "0", "0", "0", "w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0", "w_20",
     "w_21", "w_22", "0"],
    ["0", "0", "0", "0", "0", "w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0",
     "w_20", "w_21", "w_22"],
]


def _direct(y: np.ndarray, w: np.ndarray, s: int, before: int, after: int) -> np.ndarray:
    """The transposed convolution as the seed's direct convolution, built with NumPy.

    ``s - 1`` zeros between the input units, ``before``/``after`` zeros around (negative:
    crop), then a stride-1 convolution with the kernel flipped in every dimension.
    """
    n = y.shape[-1]
    stretched = np.zeros((*y.shape[:-2], s * (n - 1) + 1, s * (n - 1) + 1))
    stretched[..., ::s, ::s] = y
    pad = [(0, 0)] * (y.ndim - 2) + [(max(before, 0), max(after, 0))] * 2
    padded = np.pad(stretched, pad)
    lo, hi = max(-before, 0), padded.shape[-1] - max(-after, 0)
    padded = padded[..., lo:hi, lo:hi]
    return ops.conv(padded, np.ascontiguousarray(w[..., ::-1, ::-1]))


def seed_004() -> Section:
    """Seed 004: the convolution arithmetic of transposed convolutions."""
    s = Section("seed-004", "Seed 004: convolution arithmetic, Relationships 7–13 and the "
                "matrix C", intro="Part 2 of a convolution-arithmetic summary (after Dumoulin "
                "& Visin's guide). Each relationship is checked on the seed's own case: the "
                "sizes, the parameters of the equivalent direct convolution, and, "
                "numerically, that the direct convolution (stretch by s − 1 zeros, pad by p′, "
                "flipped kernel, stride 1, built with NumPy) equals "
                "<code>upconv.conv_transpose</code>.")
    s.quote("If we unroll the input and output into vectors from left to right and top to "
            "bottom, we can represent the output by the multiplication of input with sparse "
            "matrix C, where the non-zero elements are the elements w_{i,j} of the kernel. "
            "This is shown in Figure 2.3", "seed 004, Deconvolution")
    view = matrix((4, 4), 3, seed=4)
    s.check("004-figure-2.3", "Figure 2.3: the matrix C of a 3×3 kernel on a 4×4 input "
            "(unit stride, no padding)", FIGURE_2_3,
            lambda: [[lab or "0" for lab in row] for row in view.labels.tolist()],
            "upconv.explain.matrix((4, 4), 3).labels (from upconv.conv_matrix)")
    rng = np.random.default_rng(4)
    xv = rng.standard_normal((4, 4))
    s.check("004-figure-2.3-products", "C x is the convolution and Cᵀ y the transposed "
            "convolution", {"C x == conv(x)": True, "Cᵀ y == conv_transpose(y)": True},
            lambda: {"C x == conv(x)": bool(np.allclose(
                view.C @ xv.ravel(), ops.conv(_x(xv), _x(view.weight)).ravel(), rtol=0,
                atol=1e-12)), "Cᵀ y == conv_transpose(y)": view.ok},
            "view.C @ x vs upconv.conv; view.C.T @ y vs upconv.conv_transpose",
            note=esc(view.check.replace("C^T", "Cᵀ")))
    s.raw(figure(view.scene().svg(), "C (left) and Cᵀ (right) as <code>upconv matrix --input "
                 "4x4 --kernel 3</code> draws them; each weight has its colour."))

    s.p("Pooling has the same arithmetic without padding: o = ⌊(i − k)/s⌋ + 1.")
    s.check("004-pooling-size", "Pooling relationship on seed 002's 4×4 max pooling (k = 2, "
            "s = 2)", 2, lambda: shapes.pool_output_size(4, 2, 2),
            "upconv.pool_output_size(4, 2, 2)", note="o = ⌊(4 − 2)/2⌋ + 1 = 2")

    for rel, i, k, st, p, o, stretched, pb, pa, a, formula in RELATIONSHIPS:
        s.h(f"Relationship {rel}")
        s.p(esc(_REL_TEXT[rel]) + f". Seed's case: i = {i}, k = {k}, s = {st}, p = {p}.")
        expected = {"conv o": o, "a": a, "i′ = o": o, "ĩ′": stretched, "k′": k, "s′": 1,
                    "p′ (before, after)": [pb, pa], "o′ = i": i, "relationship": rel,
                    "direct conv == conv_transpose": True}

        def computed(i: int = i, k: int = k, st: int = st, p: int = p,
                     rel: int = rel) -> dict[str, object]:
            conv_o = shapes.conv_output_size(i, k, st, p)
            assert isinstance(conv_o, int)
            out_pad = shapes.output_padding_for(conv_o, i, k, st, p)
            assert isinstance(out_pad, int)
            eq = shapes.equivalent_conv(conv_o, k, st, p, out_pad)
            r = np.random.default_rng(rel)
            y = r.standard_normal((1, 1, conv_o, conv_o))
            w = r.standard_normal((1, 1, k, k))
            ct = ops.conv_transpose(y, w, stride=st, padding=p, output_padding=out_pad)
            assert isinstance(eq.pad_before, int) and isinstance(eq.pad_after, int)
            direct = _direct(y, w, st, eq.pad_before, eq.pad_after)
            return {"conv o": conv_o, "a": out_pad, "i′ = o": eq.size,
                    "ĩ′": eq.stretched_size, "k′": eq.kernel_size, "s′": 1,
                    "p′ (before, after)": [eq.pad_before, eq.pad_after],
                    "o′ = i": eq.output_size, "relationship": eq.relationship,
                    "direct conv == conv_transpose": bool(
                        direct.shape == ct.shape and np.allclose(direct, ct, rtol=0,
                                                                 atol=1e-12))}

        note = esc(formula)
        if rel == 13:
            note += (". The a extra zeros go to the <b>bottom and right</b> (the end of each "
                     "dimension), where PyTorch's output_padding puts them; the seed's "
                     "\u201ctop and right\u201d is a slip (the guide says bottom and right).")
        s.check(f"004-relationship-{rel}", f"Relationship {rel}: conv i={i}, k={k}, s={st}, "
                f"p={p} and its transposed convolution", expected, computed,
                "upconv.conv_output_size, output_padding_for, equivalent_conv; "
                "conv_transpose vs the NumPy-built direct conv", note=note)
        preset = _REL_PRESET[rel]
        s.raw(_anim(f"Relationship {rel} in the direct view: the zero-stretched, padded input "
                    "under the flipped kernel (conv_arithmetic's " + preset + ")",
                    f"upconv animate --preset {preset} --out {preset}.gif", preset=preset))
    return s


# ---------------------------------------------------------------------------------------------
# Seed 000: Dosovitskiy un-pooling, strides, what padding becomes


def seed_000() -> Section:
    """Seed 000: pooling in transposed convolution layers; Dosovitskiy's un-pooling."""
    s = Section("seed-000", "Seed 000: un-pooling (Dosovitskiy et al.) and what strides and "
                "padding become", intro="A course forum thread on pooling in "
                "deconvolution layers, quoting Goodfellow et al. §20.10.6.")
    s.quote("The inverse un-pooling operation allocates a tensor of zeros, then copies each "
            "value from spatial coordinate i of the input to spatial coordinate i × k of the "
            "output. The integer value k defines the size of the pooling region.",
            "seed 000, quoting Deep Learning §20.10.6")
    s.check("000-unpool-k2", "Un-pooling [[1, 2], [3, 4]] with k = 2",
            [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
            lambda: _sp(_unpool(_x(X12), 2)), "upconv.unpool(x, 2)",
            note="the same as seed 002's bed of nails")
    s.check("000-unpool-k3", "Un-pooling [[1, 2], [3, 4]] with k = 3: value (i, j) lands at "
            "(3i, 3j)",
            [[1, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0],
             [3, 0, 0, 4, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
            lambda: _sp(_unpool(_x(X12), 3)), "upconv.unpool(x, 3)")

    def lands() -> bool:
        xr = np.random.default_rng(0).uniform(1, 2, (1, 2, 3, 5))
        y = _unpool(xr, (2, 3))
        rest = y.copy()
        rest[..., ::2, ::3] = 0
        return bool(np.array_equal(y[..., ::2, ::3], xr) and not rest.any())

    s.check("000-unpool-coordinates", "On random 3×5 input with k = (2, 3): every value at "
            "i lands at i × k, zeros everywhere else", True, lands,
            "upconv.unpool(x, (2, 3)); y[::2, ::3] == x and the rest is 0")
    s.quote("This layer corresponds to the inverse of the max-pooling operation under certain "
            "simplifying conditions. First, the stride of the max-pooling operation is "
            "constrained to be equal to the width of the pooling region. Second, the maximum "
            "input within each pooling region is assumed to be the input in the upper-left "
            "corner. Finally, all non-maximal inputs within each pooling region are assumed "
            "to be zero.", "seed 000")
    s.check("000-unpool-inverts-max-pool", "Under those conditions max pooling undoes "
            "un-pooling: max_pool(unpool(x, 2), 2) == x", X12,
            lambda: _sp(ops.max_pool(_unpool(_x(X12), 2), 2)),
            "upconv.max_pool(upconv.unpool(x, 2), 2)")
    s.check("000-unpool-assumption", "...and only under them: a negative value loses to the "
            "zeros around it, max_pool(unpool([[-1, 2], [3, 4]])) ≠ x", [[0, 2], [3, 4]],
            lambda: _sp(ops.max_pool(_unpool(_x([[-1, 2], [3, 4]]), 2), 2)),
            "upconv.max_pool(upconv.unpool(x, 2), 2)",
            note="\u201cvery strong and unrealistic assumptions\u201d: the inverse holds for "
            "non-negative values only.")
    s.raw(_anim("un-pooling with k = 3: each value to the top-left cell of its 3×3 region",
                "upconv animate unpool --values '1,2;3,4' --kernel 3 --out unpool.gif",
                op="unpool", values=X12, kernel_size=3))

    s.quote("what happens if we use strides of size k in a transposed convolution? Well it "
            "turns out that we insert k 0s between each pixels, and then do our (transposed) "
            "convolution.", "seed 000, comment 4")
    s.check("000-stride-zeros", "Stride s = 2 inserts s − 1 = 1 zero between input units: "
            "[1, 2, 3] → [1, 0, 2, 0, 3]", [1, 0, 2, 0, 3],
            lambda: _sp(ops.conv_transpose(_x([1, 2, 3]), np.ones((1, 1, 1)), stride=2)),
            "upconv.conv_transpose(x, ones(1, 1, 1), stride=2) (a 1-tap kernel shows the "
            "stretched input)",
            note="The comment's \u201ck 0s\u201d is off by one: a stride s puts s − 1 zeros "
            "between units (seed 004's ĩ′).")
    s.quote("What is the corresponding operation to zero padding in a transposed "
            "convolution?", "seed 000, comment 4")
    s.check("000-padding-crops", "Answer: cropping. padding=1 crops one cell from each side "
            "of seed 002's full output [[5, 15, 10], [20, 50, 30], [15, 35, 20]]", [[50]],
            lambda: _sp(ops.conv_transpose(_x(X12), _x(K5), padding=1)),
            "upconv.conv_transpose(x, kernel, padding=1)",
            note="A convolution with padding p reads p zeros around its input; its transpose "
            "therefore drops p cells around its output (Relationship 8's p′ = k − p − 1 "
            "says the same in the direct view).")
    return s


# ---------------------------------------------------------------------------------------------
# Seed 001: the gradient of a convolution is a transposed convolution


def seed_001() -> Section:
    """Seed 001: ConvTranspose as the gradient of Conv, and as the flipped filter."""
    s = Section("seed-001", "Seed 001: the gradient of a convolution is the transposed "
                "convolution with the same weight", intro="A PyTorch forum question about "
                "ZFNet's deconvnet: is the gradient of Conv2d the same as the convolution with "
                "the transposed (flipped) filter? Yes; here on a small example worked out by "
                "hand, then on random multi-channel cases.")
    s.quote("This module can be seen as the gradient of Conv2d with respect to its input. [...] "
            "is the gradient of Conv2d same with the Convolution with transposed filter?",
            "seed 001, quoting the PyTorch documentation")
    x, w, y = [1, 2, 3, 4], [1, 10, 100], [1, 2]
    s.p("By hand, 1-d: x = [1, 2, 3, 4], w = [1, 10, 100], y = [1, 2]. conv(x) = "
        "[1 + 20 + 300, 2 + 30 + 400] = [321, 432]; the transpose scatters y: 1·w at 0 and "
        "2·w at 1, giving [1, 12, 120, 200]; ⟨conv(x), y⟩ = 321 + 864 = 1185 = 1 + 24 + 360 "
        "+ 800 = ⟨x, conv_transpose(y)⟩.")
    s.check("001-conv-example", "conv(x, w)", [321, 432],
            lambda: _sp(ops.conv(_x(x), _x(w))), "upconv.conv(x, w)")
    s.check("001-conv-transpose-example", "conv_transpose(y, w), the same w",
            [1, 12, 120, 200], lambda: _sp(ops.conv_transpose(_x(y), _x(w))),
            "upconv.conv_transpose(y, w)")
    s.check("001-input-gradient-example", "The gradient of ⟨conv(x, w), y⟩ with respect to x",
            [1, 12, 120, 200], lambda: _sp(ops.conv_backward(_x(y), _x(x), _x(w))[0]),
            "upconv.conv_backward(y, x, w)[0]")
    s.quote("the deconvnet uses transposed versions of the same filters [...] In practice "
            "this means flipping each filter vertically and horizontally.", "seed 001, "
            "quoting Zeiler & Fergus")
    s.check("001-flipped-filter", "The same as a plain convolution of y, padded by k − 1 = 2 "
            "zeros, with the flipped filter [100, 10, 1]", [1, 12, 120, 200],
            lambda: _sp(ops.conv(np.pad(_x(y), ((0, 0), (0, 0), (2, 2))),
                                 _x(w)[..., ::-1].copy())),
            "upconv.conv(pad(y, 2), flip(w))",
            note="With several channels the flip comes with a swap of the input and output "
            "channel axes: conv's weight (C_out, C_in, k) is conv_transpose's (C_in′, "
            "C_out′, k) as it stands.")
    s.check("001-inner-products", "⟨conv(x), y⟩ and ⟨x, conv_transpose(y)⟩", [1185, 1185],
            lambda: [float(_sp(ops.conv(_x(x), _x(w))) @ np.asarray(y, dtype=float)),
                     float(np.asarray(x, dtype=float) @ _sp(ops.conv_transpose(_x(y),
                                                                                _x(w))))],
            "upconv.conv, upconv.conv_transpose, NumPy dot products")
    view = matrix(4, weight=np.asarray(w, dtype=float), y=np.asarray(y, dtype=float))
    s.raw(figure(view.scene().svg(), "The same example as matrices: conv is C, its gradient "
                 "(and the transposed convolution) is Cᵀ. <code>upconv matrix --input 4 "
                 "--kernel-values 1,10,100 --values 1,2</code>"))

    cases: dict[str, dict[str, Any]] = {
        "2-d, 3 → 4 channels, k 3, stride 2, padding 1": dict(
            x=(2, 3, 7, 6), w=(4, 3, 3, 3), stride=2, padding=1, dilation=1, groups=1),
        "2-d, k (3, 2), stride (1, 3), dilation 2": dict(
            x=(1, 2, 9, 8), w=(3, 2, 3, 2), stride=(1, 3), padding=0, dilation=2, groups=1),
        "1-d, groups 2, stride 3, padding 2": dict(
            x=(2, 4, 11), w=(6, 2, 4), stride=3, padding=2, dilation=1, groups=2),
        "3-d, stride 2, 'same'-like padding 1": dict(
            x=(1, 2, 5, 4, 6), w=(2, 2, 3, 3, 3), stride=2, padding=1, dilation=1, groups=1),
    }

    def identities(adjoint: bool) -> dict[str, bool]:
        out = {}
        rng = np.random.default_rng(1)
        for name, c in cases.items():
            xr = rng.standard_normal(c["x"])
            wr = rng.standard_normal(c["w"])
            args: dict[str, Any] = dict(stride=c["stride"], padding=c["padding"],
                                        dilation=c["dilation"], groups=c["groups"])
            out_c = ops.conv(xr, wr, **args)
            g = rng.standard_normal(out_c.shape)
            ct = ops.conv_transpose(g, wr, **args, output_size=xr.shape[2:])
            if adjoint:
                lhs, rhs = float(np.vdot(out_c, g)), float(np.vdot(xr, ct))
                out[name] = abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
            else:
                grad = ops.conv_backward(g, xr, wr, **args)[0]
                out[name] = grad.shape == ct.shape and bool(np.allclose(grad, ct, rtol=1e-12,
                                                                        atol=1e-12))
        return out

    s.check("001-gradient-identity", "conv's input gradient equals conv_transpose with the "
            "same weight (random cases)", {name: True for name in cases},
            lambda: identities(False),
            "upconv.conv_backward(g, x, w, ...)[0] vs upconv.conv_transpose(g, w, ..., "
            "output_size=x's size)",
            note="output_size picks the output_padding that gives back x's size when the "
            "stride leaves several possible sizes (seed 004's a).")
    s.check("001-adjoint-identity", "⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩ (random cases)",
            {name: True for name in cases}, lambda: identities(True),
            "np.vdot(upconv.conv(x, w), y) vs np.vdot(x, upconv.conv_transpose(y, w))",
            note="This identity is what \u201ctransposed\u201d means: conv_transpose is the "
            "adjoint (the matrix transpose Cᵀ) of conv, and the gradient of ⟨conv(x), y⟩ "
            "with respect to x is exactly Cᵀy. It is not an inverse: conv_transpose(conv(x)) "
            "≠ x in general.")
    return s


# ---------------------------------------------------------------------------------------------
# Seed 003: upsampling vs transposed convolution; the checkerboard


def seed_003() -> Section:
    """Seed 003: what upsampling and transposed convolution share, and where they differ."""
    s = Section("seed-003", "Seed 003: upsampling vs transposed convolution, and the "
                "checkerboard", intro="A Cross Validated question: are upsampling and "
                "transposed convolution the same? No: resizing has no weights, a transposed "
                "convolution has a trainable kernel; a transposed convolution <i>can</i> "
                "compute some resizes, and resize-then-convolve avoids the checkerboard that "
                "Odena, Dumoulin & Olah (Distill 2016) describe.")
    s.quote("Upsampling [...] keras calls tensorflow resize_images function, which essentially "
            "is an interpolation and not trainable. Transposed convolution is more involved. "
            "[...] it has the kernel and is trainable.", "seed 003, second answer")
    s.check("003-nearest-as-transposed", "Nearest ×2 is a transposed convolution with a 2×2 "
            "kernel of ones and stride 2 (seed 002's K-nearest table)",
            [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
            lambda: _sp(ops.conv_transpose(_x(X12), np.ones((1, 1, 2, 2)), stride=2)),
            "upconv.conv_transpose(x, ones(1, 1, 2, 2), stride=2)")
    kern = np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25])
    full = _sp(ops.conv_transpose(_x(X1040), kern[None, None], stride=2, padding=1))
    s.check("003-bilinear-as-transposed", "Bilinear ×2 is a transposed convolution with the "
            "kernel [¼, ¾, ¾, ¼]⊗[¼, ¾, ¾, ¼], stride 2, padding 1, away from the border",
            [[17.5, 22.5], [27.5, 32.5]], lambda: full[1:3, 1:3],
            "upconv.conv_transpose(x, kernel, stride=2, padding=1)[1:3, 1:3]",
            note="Expected: the exact values behind seed 002's 17, 22, 27, 32. At the border "
            "the transposed convolution reads zeros where bilinear interpolation clamps, so "
            "its full output differs there:" + table(full)
            + "A kernel initialised this way is the usual \u201cbilinear initialisation\u201d "
            "of a learnable upsampling layer (see the photo gallery).")
    s.quote("here is a pretty good illustration on the difference between 1) transpose "
            "convolution and 2) upsampling + convolution. https://distill.pub/2016/"
            "deconv-checkerboard/ [...] the article advocates for upsampling + convolution "
            "since it does not suffer from the checkerboard artifact.", "seed 003, third answer")
    s.check("003-checkerboard-1d", "How many kernel taps reach each output of a 1-d "
            "transposed convolution, k = 3, s = 2, on 4 ones",
            [1, 1, 2, 1, 2, 1, 2, 1, 1],
            lambda: checkerboard(3, 2, size=4, ndim=1).counts,
            "upconv.explain.checkerboard(3, 2, size=4, ndim=1).counts",
            note="By hand: input j paints outputs 2j, 2j + 1, 2j + 2; even outputs inside "
            "get two taps, odd ones one — the uneven overlap.")
    verdicts = {
        "transposed k=2, s=2": "even", "transposed k=3, s=2": "uneven",
        "transposed k=4, s=2": "even", "transposed k=5, s=2": "uneven",
        "transposed k=3, s=3": "even", "transposed k=4, s=3": "uneven",
        "transposed k=6, s=3": "even", "resize-conv k=3, ×2": "even",
    }

    def judged() -> dict[str, str]:
        out = {}
        for name in verdicts:
            k, st = int(name.split("k=")[1].split(",")[0]), int(name[-1])
            method = "resize-conv" if name.startswith("resize") else "transposed"
            out[name] = "even" if checkerboard(k, st, method=method).even \
                else "uneven"
        return out

    s.check("003-distill-rule", "Distill's rule: uneven exactly when k is not divisible by s; "
            "resize-then-convolve is even", verdicts, judged,
            "upconv.explain.checkerboard(k, s, method=...).even (2-d)")
    s.check("003-stack-compounds", "Stacking compounds it: max/min taps of 1, 2, 3 layers "
            "(1-d, k = 3, s = 2)", {"1 layer": 2, "2 layers": 3, "3 layers": 5},
            lambda: {f"{n} layer{'s' if n > 1 else ''}": checkerboard(
                3, 2, layers=n, ndim=1).ratio for n in (1, 2, 3)},
            "upconv.explain.checkerboard(3, 2, layers=n, ndim=1).ratio",
            note="By hand: two layers are one stride-4 layer with kernel [1,1,2,1,2,1,1], "
            "whose phases get 3, 2, 3, 1 taps; three layers, one stride-8 layer whose phases "
            "get 4, 3, 5, 2, 5, 3, 4, 1.")
    s.check("003-resize-conv-even", "Nearest ×2 then a 3×3 convolution: every interior output "
            "gets all 9 taps", [9],
            lambda: sorted({int(v) for v in checkerboard(
                3, 2, method="resize-conv").interior.ravel()}),
            "upconv.explain.checkerboard(3, 2, method='resize-conv').interior")
    uneven = checkerboard(3, 2)
    even = checkerboard(3, 2, method="resize-conv")
    s.raw('<div class="figs">'
          + figure(uneven.scene().svg(), "transposed convolution k = 3, s = 2: "
                   + esc(uneven.verdict) + "<br>" + command(
                       "upconv checkerboard --kernel 3 --stride 2"))
          + figure(even.scene().svg(), "nearest ×2 then 3×3 convolution: "
                   + esc(even.verdict) + "<br>" + command(
                       "upconv checkerboard --kernel 3 --stride 2 --method resize-conv"))
          + "</div>")
    return s


SEEDS = (seed_002, seed_004, seed_000, seed_001, seed_003)
"""The seed sections in page order."""
