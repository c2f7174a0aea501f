"""The photo gallery of ``upconv tour``: one real photo, downscaled, upscaled eight ways.

scikit-image's ``camera`` (512x512, bundled inside its wheel, so no download) is averaged
down 4x (area pooling) and brought back 4x by nearest, bilinear and bicubic interpolation,
bed of nails, max-unpooling (with the switches of a max pool of the original), a transposed
convolution with the bilinear kernel built here with NumPy, and two pixel shuffles.  Every
result is compared with the original (MSE and PSNR).  Pillow writes the PNGs.  Both are
imported only here, when the tour runs (``pip install 'upconv[viz]'``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import ops
from ._tour_html import Section, esc, num

FACTOR = 4
CROP = (slice(96, 224), slice(176, 304))  # the face and the camera, 128x128


def require() -> tuple[Any, Any]:
    """Pillow's ``Image`` and ``skimage.data``, or an ImportError naming the extra."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            "upconv tour writes its pictures with Pillow, which is missing; install it with "
            "pip install 'upconv[viz]'"
        ) from err
    try:
        from skimage import data
    except ImportError as err:
        raise ImportError(
            "upconv tour's photo gallery uses scikit-image's bundled camera photo, and "
            "scikit-image is missing; install it with pip install 'upconv[viz]'"
        ) from err
    return Image, data


def bilinear_taps(factor: int) -> np.ndarray:
    """The ``2f - f % 2`` taps of the 1-d bilinear upsampling kernel (FCN's initialisation).

    Examples
    --------
    >>> bilinear_taps(2)
    array([0.25, 0.75, 0.75, 0.25])
    """
    k = 2 * factor - factor % 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    return 1 - np.abs(np.arange(k) - centre) / factor


def bilinear_kernel(factor: int) -> np.ndarray:
    """The 2-d bilinear upsampling kernel: the outer product of :func:`bilinear_taps`."""
    taps = bilinear_taps(factor)
    return np.outer(taps, taps)


def subpixel_weight(factor: int) -> np.ndarray:
    """``(f², 1, 3, 3)`` weights whose stride-1 conv, pixel-shuffled, is the bilinear layer.

    Output ``f*m + r`` of the transposed convolution (stride ``f``, padding ``f // 2``) reads
    inputs ``m - t`` with taps ``f*t + r + f // 2``; for ``t`` in ``{-1, 0, 1}`` that is a
    3-tap convolution per phase ``r`` (the polyphase decomposition).  Channel ``r*f + c``
    holds phase ``(r, c)``, the order :func:`upconv.pixel_shuffle` reads.
    """
    taps = bilinear_taps(factor)
    pad = factor // 2
    phase = np.zeros((factor, 3))
    for r in range(factor):
        for t in (-1, 0, 1):
            idx = factor * t + r + pad
            if 0 <= idx < taps.size:
                phase[r, 1 - t] = taps[idx]
    assert math.isclose(phase.sum(), taps.sum())  # every tap lands in some phase
    return np.einsum("ra,cb->rcab", phase, phase).reshape(factor * factor, 1, 3, 3)


@dataclass(frozen=True)
class Result:
    """One upsampling method's output and its error against the original."""

    key: str
    name: str
    how: str
    image: np.ndarray
    note: str

    def mse(self, original: np.ndarray) -> float:
        """Mean squared error against ``original`` (values in [0, 1], unclipped output)."""
        return float(np.mean((self.image - original) ** 2))

    def psnr(self, original: np.ndarray) -> float:
        """Peak signal-to-noise ratio in dB (peak 1)."""
        mse = self.mse(original)
        return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def methods(original: np.ndarray) -> tuple[np.ndarray, list[Result], dict[str, float]]:
    """Downscale ``original`` (H, W) by area and upscale it back every way.

    Returns the low-resolution image, the results, and the identities checked on the way
    (max absolute differences).
    """
    f = FACTOR
    x = original[None, None]
    low = ops.avg_pool(x, f)  # area downscaling: the mean of each 4x4 block
    _, switches = ops.max_pool(x, f, return_indices=True)
    w_bilinear = bilinear_kernel(f)[None, None]
    transposed = ops.conv_transpose(low, w_bilinear, stride=f, padding=f // 2)
    subpixel = ops.pixel_shuffle(ops.conv(low, subpixel_weight(f), padding=1), f)
    icnr = ops.pixel_shuffle(ops.conv(low, np.ones((f * f, 1, 1, 1))), f)
    nearest = ops.interpolate(low, scale_factor=f, mode="nearest")
    bed = ops.unpool(low, f)
    assert isinstance(bed, np.ndarray)
    bilinear = ops.interpolate(low, scale_factor=f, mode="bilinear")
    inner = (Ellipsis, slice(2 * f, -2 * f), slice(2 * f, -2 * f))
    identities = {
        "sub-pixel conv + pixel shuffle vs transposed conv": float(
            np.abs(subpixel - transposed).max()),
        "ICNR pixel shuffle vs nearest": float(np.abs(icnr - nearest).max()),
        "transposed conv (bilinear kernel) vs bilinear, away from the border": float(
            np.abs(transposed[inner] - bilinear[inner]).max()),
    }
    results = [
        Result("nearest", "nearest", "upconv.interpolate(low, scale_factor=4, mode='nearest')",
               nearest, "each low-resolution pixel becomes a 4×4 block"),
        Result("bilinear", "bilinear", "upconv.interpolate(low, scale_factor=4, "
               "mode='bilinear')", bilinear, "half-pixel (align_corners=False), as PyTorch"),
        Result("bicubic", "bicubic", "upconv.interpolate(low, scale_factor=4, mode='bicubic')",
               ops.interpolate(low, scale_factor=f, mode="bicubic"),
               "sharper than bilinear; may overshoot [0, 1] (the PNG is clipped)"),
        Result("bed_of_nails", "bed of nails", "upconv.unpool(low, 4)", bed,
               "one pixel in 16 keeps its value, the rest are 0: a layer after it has to "
               "learn to fill them in"),
        Result("max_unpool", "max-unpooling", "upconv.max_unpool(low, switches, 4)",
               ops.max_unpool(low, switches, f),
               "the switches come from a max pool of the original, so each value goes back "
               "to where its block's brightest pixel was (side information the other methods "
               "do not get); still 15 zeros in 16"),
        Result("transposed_bilinear", "transposed conv, bilinear init",
               "upconv.conv_transpose(low, bilinear_kernel(4), stride=4, padding=2)",
               transposed, "the 8×8 kernel built with NumPy; equal to bilinear away from the "
               "border, darker at the edge where it reads zeros instead of clamping"),
        Result("pixel_shuffle_subpixel", "pixel shuffle (sub-pixel conv)",
               "upconv.pixel_shuffle(upconv.conv(low, phases, padding=1), 4)", subpixel,
               "16 channels from a stride-1 3×3 conv whose kernels are the 16 phases of the "
               "bilinear kernel, then shuffled: the same numbers as the transposed conv "
               "(Shi et al.'s equivalence)"),
        Result("pixel_shuffle_icnr", "pixel shuffle (ICNR init)",
               "upconv.pixel_shuffle(upconv.conv(low, ones(16, 1, 1, 1)), 4)", icnr,
               "ICNR initialisation gives all 16 sub-pixel channels the same kernel, so the "
               "shuffle starts as nearest upsampling (no checkerboard at initialisation)"),
    ]
    return low[0, 0], [Result(r.key, r.name, r.how, r.image[0, 0], r.note) for r in results], \
        identities


def gallery(out_dir: Path, write_png: Callable[[str, np.ndarray], str]) -> Section:
    """The gallery section; ``write_png(relative_path, uint8 array)`` returns the href."""
    _, data = require()
    original = data.camera().astype(np.float64) / 255.0
    low, results, identities = methods(original)
    s = Section("gallery", "Upsampling gallery: a real photo, downscaled 4× and brought back",
                intro="scikit-image's <code>camera</code> (512×512, bundled with scikit-image, "
                "no download) is averaged down 4× to 128×128 (area pooling, "
                "<code>upconv.avg_pool(x, 4)</code>) and upscaled 4× again by each method. "
                "The error is measured against the original (values in [0, 1], unclipped "
                "output; PSNR = 10·log₁₀(1/MSE)). Crops show the face and the camera at 2×.")

    def png(name: str, img: np.ndarray) -> str:
        arr = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
        return write_png(f"gallery/{name}.png", arr)

    def tile(name: str, title: str, img: np.ndarray, text: str) -> str:
        full = png(name, img)
        crop = png(f"{name}_crop", img[CROP] if img.shape[0] == original.shape[0] else
                   img[CROP[0].start // FACTOR:CROP[0].stop // FACTOR,
                       CROP[1].start // FACTOR:CROP[1].stop // FACTOR])
        return (f'<div class="photo"><b>{esc(title)}</b><div class="pics">'
                f'<img src="{esc(full)}" alt="{esc(title)}">'
                f'<img src="{esc(crop)}" alt="{esc(title)}, crop"></div>{text}</div>')

    s.raw(tile("original", "original (512×512)", original, "the reference"))
    s.raw(tile("low", "downscaled 4× (128×128)", low, "the input of every method below"))
    rows = []
    best = max(r.psnr(original) for r in results)
    for r in results:
        mse, psnr = r.mse(original), r.psnr(original)
        s.raw(tile(r.key, r.name, r.image,
                   f"<br><code>{esc(r.how)}</code><br>MSE {mse:.5f}, PSNR {psnr:.2f} dB<br>"
                   f"<span class='note'>{esc(r.note)}</span>"))
        bar = max(2, int(200 * psnr / best))
        rows.append(f"<tr><td>{esc(r.name)}</td><td class='n'>{mse:.5f}</td>"
                    f"<td class='n'>{psnr:.2f}</td><td><span class='bar' "
                    f"style='width:{bar}px'></span></td></tr>")
    s.raw("<h3>Error against the original</h3><table class='list'><tr><th>method</th>"
          "<th>MSE</th><th>PSNR (dB)</th><th></th></tr>" + "".join(rows) + "</table>")
    s.raw("<h3>Identities on the way</h3><table class='list'><tr><th>identity</th>"
          "<th>max |difference|</th></tr>" + "".join(
              f"<tr><td>{esc(k)}</td><td class='n'>{esc(num(v) if v == 0 else f'{v:.2e}')}"
              "</td></tr>" for k, v in identities.items()) + "</table>")
    s.p("Bed of nails and max-unpooling are not meant to be looked at: they keep one value "
        "per 4×4 block and leave the rest to the next layers (seed 000's \u201cthe "
        "subsequent layers are able to learn to compensate\u201d). A transposed convolution "
        "initialised with the bilinear kernel starts as bilinear interpolation and can learn "
        "from there; a pixel shuffle after a stride-1 convolution computes the same "
        "function (the sub-pixel convolution), and ICNR initialisation makes it start as "
        "nearest upsampling.")
    return s
