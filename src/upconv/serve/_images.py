"""The image panel: a photo bundled in scikit-image's wheel, down- and upsampled by upconv.

The photo is read straight from the PNG inside the installed ``skimage/data`` folder (never a
download), cropped to ``SIZE × SIZE``, downsampled by ``factor`` with :func:`upconv.avg_pool`
(:func:`upconv.max_pool` for the switches) and upsampled back by each method with upconv's
ops; every picture is returned as a PNG data URL with its PSNR against the crop.  Results are
cached in memory; nothing is written to disk.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ShapeError

# name -> (file in skimage/data, top-left corner of the crop, colour)
_PHOTOS = {
    "camera": ("camera.png", (40, 176), False),
    "astronaut": ("astronaut.png", (20, 150), True),
}
NAMES = tuple(_PHOTOS)
SIZE = 144  # divisible by 2, 3 and 4
FACTORS = (2, 3, 4)
METHODS = ("nearest", "bilinear", "transposed conv (bilinear kernel)", "bed of nails",
           "max unpool (switches)", "pixel shuffle (ICNR init)")


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"the image panel needs {module}: pip install 'upconv[explorer]'")


def _photo_path(file: str) -> Path:
    _need("skimage")
    spec = importlib.util.find_spec("skimage")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "data" / file
    if not path.is_file():
        raise ShapeError(f"image: {file} is not bundled with this scikit-image ({path})")
    return path


@lru_cache(maxsize=4)
def _crop(name: str) -> np.ndarray:
    """The crop as ``(1, C, SIZE, SIZE)`` float64 in [0, 1]."""
    _need("PIL")
    from PIL import Image

    file, (top, left), colour = _PHOTOS[name]
    with Image.open(_photo_path(file)) as im:
        arr = np.asarray(im.convert("RGB" if colour else "L"), dtype=np.float64) / 255.0
    arr = arr[top:top + SIZE, left:left + SIZE]
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return np.ascontiguousarray(arr[None])


def _png(x: np.ndarray) -> str:
    from PIL import Image

    a = np.clip(np.rint(x[0] * 255.0), 0, 255).astype(np.uint8)
    im = Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1] (100 when identical).

    Examples
    --------
    >>> round(psnr(np.zeros(4), np.full(4, 0.1)), 6)
    20.0
    """
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return 100.0 if mse == 0 else min(100.0, 10.0 * math.log10(1.0 / mse))


def bilinear_kernel(factor: int) -> np.ndarray:
    """The FCN bilinear upsampling kernel for ``factor``: size ``2f - f % 2``, peak 1.

    Examples
    --------
    >>> bilinear_kernel(2)[0]
    array([0.0625, 0.1875, 0.1875, 0.0625])
    """
    k = 2 * factor - factor % 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    t = 1.0 - np.abs(np.arange(k) - centre) / factor
    return np.outer(t, t)


def upsampled(x: np.ndarray, low: np.ndarray, low_max: np.ndarray, idx: np.ndarray,
              factor: int) -> dict[str, np.ndarray]:
    """Each method's reconstruction of ``x`` from its downsampled versions, by upconv's ops."""
    import upconv

    c = x.shape[1]
    f = factor
    out: dict[str, np.ndarray] = {}
    out["nearest"] = np.asarray(upconv.interpolate(low, scale_factor=f, mode="nearest"))
    out["bilinear"] = np.asarray(upconv.interpolate(low, scale_factor=f, mode="bilinear"))
    w = np.broadcast_to(bilinear_kernel(f), (c, 1, *bilinear_kernel(f).shape)).copy()
    k = w.shape[-1]
    out["transposed conv (bilinear kernel)"] = np.asarray(
        upconv.conv_transpose(low, w, stride=f, padding=(k - f) // 2, groups=c))
    out["bed of nails"] = np.asarray(upconv.unpool(low, f))
    out["max unpool (switches)"] = np.asarray(upconv.max_unpool(low_max, idx, f))
    # ICNR: a 1x1 conv to C*f^2 channels whose f^2 sub-pixel kernels are the same (here the
    # identity), then pixel shuffle: at initialisation it is nearest upsampling, no checkerboard
    icnr = np.repeat(np.eye(c)[:, :, None, None], f * f, axis=0)
    out["pixel shuffle (ICNR init)"] = np.asarray(upconv.pixel_shuffle(upconv.conv(low, icnr), f))
    return out


@lru_cache(maxsize=16)
def image(name: str, factor: int) -> dict[str, Any]:
    """The image panel's reply: the crop, its downsampled version and each method's result.

    Parameters
    ----------
    name : {'camera', 'astronaut'}
        A photo bundled with scikit-image.
    factor : {2, 3, 4}
        Down- and upsampling factor.

    Returns
    -------
    dict
        ``name, factor, original, low`` (PNG data URLs) and ``methods``: ``[{"name", "png",
        "psnr"}, ...]`` in :data:`METHODS` order.

    Examples
    --------
    >>> r = image("camera", 2)
    >>> [m["name"] for m in r["methods"]][:2], r["original"][:22]
    (['nearest', 'bilinear'], 'data:image/png;base64,')
    """
    import upconv

    if name not in _PHOTOS:
        raise ShapeError(f"image: name={name!r} is not one of {', '.join(NAMES)}")
    if factor not in FACTORS:
        raise ShapeError(f"image: factor={factor!r} must be one of 2, 3, 4")
    x = _crop(name)
    low = np.asarray(upconv.avg_pool(x, factor))
    low_max, idx = upconv.max_pool(x, factor, return_indices=True)
    ups = upsampled(x, low, np.asarray(low_max), np.asarray(idx), factor)
    return {
        "name": name, "factor": factor, "size": SIZE,
        "original": _png(x), "low": _png(low),
        "methods": [{"name": m, "png": _png(ups[m]), "psnr": round(psnr(ups[m], x), 3)}
                    for m in METHODS],
    }
