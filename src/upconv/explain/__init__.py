"""Explanations drawn from the same index maps that compute the numbers.

``animate`` (GIF / animated HTML / SVG / PNG strip of any case), ``trace`` (step-by-step
Markdown), ``matrix`` (the convolution matrix C and Cᵀ as a picture), ``checkerboard`` (kernel
overlap maps and verdicts).  Pillow and matplotlib come with the ``viz`` extra and are imported
only when a picture is drawn.
"""

from .animate import PRESETS, Animation, animate
from .checkerboard import Checkerboard, checkerboard
from .matrix import MatrixView, matrix
from .tour import TourReport, tour
from .trace import trace

__all__ = [
    "PRESETS",
    "Animation",
    "Checkerboard",
    "MatrixView",
    "TourReport",
    "animate",
    "checkerboard",
    "matrix",
    "tour",
    "trace",
]
