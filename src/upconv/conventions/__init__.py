"""Framework conventions: PyTorch ⇄ TensorFlow/Keras ⇄ JAX/Flax ⇄ ONNX, checked by running them.

A framework-neutral spec per op family (``TransposeSpec``, ``ConvSpec``, ...) with
``from_<framework>(...)`` constructors in each framework's own argument names and
``to_<framework>()`` translators returning a :class:`Translation` (arguments, the exact
extra crop/pad when the target cannot express the spec, notes and ready-to-paste code).
The per-framework namespaces ``upconv.conventions.torch``, ``.tf``, ``.keras``, ``.jax``,
``.onnx`` compute, in NumPy and in that framework's layouts, exactly what it computes.
NumPy only: no framework is imported.
"""

from . import flax, jax, keras, onnx, tf, torch
from ._common import FRAMEWORKS, Translation, check_framework, convert_kernel
from ._conv import ConvSpec, TransposeSpec, direct_kernel, from_direct_kernel
from ._pool import (
    PoolSpec,
    indices_onnx_to_torch,
    indices_tf_to_torch,
    indices_torch_to_onnx,
    indices_torch_to_tf,
)
from ._resize import ResizeSpec
from ._shuffle import ShuffleSpec, channel_permutation

__all__ = [
    "ConvSpec",
    "FRAMEWORKS",
    "PoolSpec",
    "ResizeSpec",
    "ShuffleSpec",
    "Translation",
    "TransposeSpec",
    "channel_permutation",
    "check_framework",
    "convert_kernel",
    "direct_kernel",
    "flax",
    "from_direct_kernel",
    "indices_onnx_to_torch",
    "indices_tf_to_torch",
    "indices_torch_to_onnx",
    "indices_torch_to_tf",
    "jax",
    "keras",
    "onnx",
    "tf",
    "torch",
]
