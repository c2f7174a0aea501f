"""Image metrics of the experiments: PSNR and a checkerboard-artifact score from the 2-D FFT.

NumPy only.  A decoder that upsamples by a total factor ``S`` (two stride-2 layers: ``S = 4``)
leaves uneven kernel overlap with period ``S`` (or a divisor of it); a pattern of period ``S``
on an ``N``-pixel axis puts its energy at the DFT bins ``k N / S``.  The score is the share of
the image's energy at those bins, the constant (0, 0) bin excluded.
"""

from __future__ import annotations

import math

import numpy as np


def artifact_bins(size: tuple[int, int], factor: int) -> np.ndarray:
    """The DFT bins where a pattern of period ``factor`` lives, as a boolean mask.

    Parameters
    ----------
    size : (int, int)
        Image height and width ``(H, W)``.
    factor : int
        The upsampling factor (the period of the stride pattern), at least 2.

    Returns
    -------
    (H, W) ndarray of bool
        True at ``(u, v)`` with ``u = round(i H / factor)`` and ``v = round(j W / factor)`` for
        ``i, j = 0 .. factor-1``, except at ``(0, 0)`` (the mean): ``factor**2 - 1`` bins
        when ``factor`` divides the size.

    Examples
    --------
    >>> np.argwhere(artifact_bins((4, 4), 2)).tolist()
    [[0, 2], [2, 0], [2, 2]]
    """
    if factor < 2:
        raise ValueError(f"artifact_bins: factor={factor} must be at least 2")
    h, w = size
    rows = sorted({round(i * h / factor) % h for i in range(factor)})
    cols = sorted({round(j * w / factor) % w for j in range(factor)})
    mask = np.zeros((h, w), dtype=bool)
    mask[np.ix_(rows, cols)] = True
    mask[0, 0] = False
    return mask


def power_spectrum(images: np.ndarray) -> np.ndarray:
    """Mean power spectrum ``|FFT2|**2 / (H W)`` of a stack of images.

    Parameters
    ----------
    images : (..., H, W) ndarray
        Real images.

    Returns
    -------
    (H, W) ndarray of float64
        Averaged over the leading axes; the DC bin at ``[0, 0]`` (``np.fft.fftshift`` centres
        it).  By Parseval, the sum over the bins is the mean sum of squares of the images.

    Examples
    --------
    >>> power_spectrum(np.ones((2, 2))).tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    x = np.asarray(images, dtype=np.float64)
    h, w = x.shape[-2:]
    p = np.abs(np.fft.fft2(x.reshape(-1, h, w))) ** 2 / (h * w)
    out: np.ndarray = p.mean(axis=0)
    return out


def artifact_score(images: np.ndarray, factor: int) -> float:
    """Share of the images' energy at the upsampling factor's spatial frequencies.

    Parameters
    ----------
    images : (..., H, W) ndarray
        Real images (e.g. a decoder's outputs).
    factor : int
        Total upsampling factor of the decoder (the period of its stride pattern).

    Returns
    -------
    float
        ``sum(P[bins]) / sum(P)`` with ``P`` the :func:`power_spectrum` and ``bins``
        :func:`artifact_bins` (the mean, bin (0, 0), counts in the total only).  0 for flat
        images (and for all-zero ones); 1 for a zero-mean pattern of period ``factor`` such as
        the ``+-1`` checkerboard; 0.5 for the 0/1 checkerboard.

    Notes
    -----
    Including the mean in the denominator keeps the score defined for flat images; compare
    scores of images of similar brightness (the experiment reports the targets' own score
    as the baseline).

    Examples
    --------
    >>> checker = (np.indices((8, 8)).sum(axis=0) % 2).astype(float)
    >>> artifact_score(checker, 2), artifact_score(2 * checker - 1, 2)
    (0.5, 1.0)
    >>> artifact_score(np.full((8, 8), 0.3), 2)
    0.0
    """
    p = power_spectrum(images)
    total = float(p.sum())
    if total <= 0.0:
        return 0.0
    score = float(p[artifact_bins(p.shape, factor)].sum()) / total
    return round(score, 15)  # a flat image's rounding noise (1e-33) is not an artefact


def psnr(mse: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(peak**2 / mse)``.

    Parameters
    ----------
    mse : float
        Mean squared error.
    peak : float
        Largest possible value (1 for images in [0, 1]).

    Returns
    -------
    float
        ``inf`` for ``mse == 0``.

    Examples
    --------
    >>> psnr(0.01)
    20.0
    """
    return math.inf if mse <= 0 else 10.0 * math.log10(peak * peak / mse)
