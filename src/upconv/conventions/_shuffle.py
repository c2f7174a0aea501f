"""Pixel shuffle ⇄ DepthToSpace across PyTorch, TensorFlow, Keras 3, JAX and ONNX.

Every framework moves ``r**d`` channels into an ``r × … × r`` block of space; they differ only
in which channels go where.  With ``C`` channels on the spatial side and the in-block offset
``q = i*r + j`` (2-d; in general the offsets' base-``r`` number, most significant first), the
deep side's channel is

* **CRD** (column, row, depth — PyTorch ``PixelShuffle``/``PixelUnshuffle``, ONNX
  ``DepthToSpace(mode="CRD")``): ``c * r**d + q``;
* **DCR** (depth, column, row — TensorFlow ``depth_to_space``/``space_to_depth``, ONNX
  ``DepthToSpace`` by default and ``SpaceToDepth``): ``q * C + c``.

The two orders differ by a fixed channel permutation (:func:`channel_permutation`), so a
model can be ported by permuting the channels *of the layer before* the shuffle (the output
channels of a convolution, weight and bias) instead of adding a gather.

Keras 3 (3.15.1) is not consistent across backends: ``keras.ops.depth_to_space`` and
``space_to_depth`` use DCR for ``data_format="channels_last"`` on every backend, but for
``"channels_first"`` the JAX, PyTorch and NumPy backends use CRD while the TensorFlow backend
uses DCR (it transposes to NHWC and calls ``tf.nn.depth_to_space``).  Checked by running Keras
on JAX; the TensorFlow backend's order is read from its source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._validate import ShapeError, _show, check_int, float_array
from ..ops.shuffle import pixel_shuffle as _np_pixel_shuffle
from ..ops.shuffle import pixel_unshuffle as _np_pixel_unshuffle
from ._common import (
    Translation,
    check_choice,
    check_framework,
    from_channels_first,
    parse_data_format,
    to_channels_first,
)

ORDERS: tuple[str, ...] = ("CRD", "DCR")
"""Channel orders of the deep side: PyTorch's ``CRD`` and TensorFlow's ``DCR``."""

DIRECTIONS: tuple[str, ...] = ("depth_to_space", "space_to_depth")
"""``depth_to_space`` (PixelShuffle, upsampling) or ``space_to_depth`` (PixelUnshuffle)."""

_KERAS_BACKENDS = ("jax", "torch", "numpy", "tensorflow")
_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def channel_permutation(
    channels: int, block_size: int, *, from_order: str = "DCR", to_order: str = "CRD",
    ndim: int = 2,
) -> np.ndarray:
    """The channel permutation between the DCR and CRD orders of the deep side.

    ``x_to = x_from[:, perm]`` converts a ``(N, C*r**ndim, ...)`` array (or the output
    channels of a layer that produces it: ``W_to = W_from[perm]``, ``b_to = b_from[perm]``)
    from ``from_order`` to ``to_order``, so that the ``to_order`` shuffle of ``x_to`` equals
    the ``from_order`` shuffle of ``x_from``.

    Parameters
    ----------
    channels : int
        Channels of the deep side, ``C * r**ndim``.
    block_size : int
        ``r``.
    from_order, to_order : {'DCR', 'CRD'}
        The orders to convert between.
    ndim : {2, 1, 3}
        Number of spatial dimensions.

    Returns
    -------
    perm : (channels,) ndarray of int64
        For ``from_order='DCR', to_order='CRD'``: ``perm[c*r**ndim + q] = q*C + c``; the
        inverse permutation for the other direction; the identity when the orders are equal.

    Raises
    ------
    ShapeError
        If ``channels`` is not divisible by ``r**ndim`` or an order is unknown.

    See Also
    --------
    ShuffleSpec.to_torch : uses this permutation when the source order is DCR.

    Notes
    -----
    Porting a TensorFlow ``Conv2D`` followed by ``depth_to_space`` to PyTorch's ``Conv2d``
    followed by ``PixelShuffle``: permute the converted conv's output channels with
    ``perm = channel_permutation(C_out, r)`` (``weight[perm]``, ``bias[perm]``).

    Examples
    --------
    >>> channel_permutation(8, 2)           # C = 2 output channels, r = 2
    array([0, 2, 4, 6, 1, 3, 5, 7])
    >>> channel_permutation(8, 2, from_order="CRD", to_order="DCR")
    array([0, 4, 1, 5, 2, 6, 3, 7])
    """
    func = "channel_permutation"
    src = check_choice(from_order, ORDERS, "from_order", func)
    dst = check_choice(to_order, ORDERS, "to_order", func)
    r = check_int(block_size, "block_size", func, minimum=1)
    nd = _check_ndim(ndim, func)
    total = check_int(channels, "channels", func, minimum=1)
    block = r**nd
    if total % block:
        raise ShapeError(
            f"{func}: channels={total} is not divisible by block_size**{nd} = {block}"
        )
    c = total // block
    if src == dst:
        return np.arange(total, dtype=np.int64)
    dcr_of_crd = np.arange(total, dtype=np.int64).reshape(block, c).T.ravel()
    if src == "DCR":
        return dcr_of_crd
    return np.argsort(dcr_of_crd).astype(np.int64)


def _check_ndim(ndim: Any, func: str) -> int:
    nd = check_int(ndim, "ndim", func)
    if nd not in (1, 2, 3):
        raise ShapeError(f"{func}: ndim={nd} must be 1, 2 or 3 (the number of spatial dimensions)")
    return nd


def _direction(op: Any, names: dict[str, str], func: str) -> str:
    if not isinstance(op, str) or op not in names:
        raise ShapeError(
            f"{func}: op={_show(op)} is not accepted; accepted values: "
            + ", ".join(repr(k) for k in names)
        )
    return names[op]


@dataclass(frozen=True)
class ShuffleSpec:
    """A pixel shuffle (depth to space) or its inverse, framework-neutral.

    Attributes
    ----------
    block_size : int
        ``r``.
    order : {'CRD', 'DCR'}
        Channel order of the deep side (see the module docstring).
    direction : {'depth_to_space', 'space_to_depth'}
        ``(N, C*r**ndim, *s) -> (N, C, *s*r)`` or the inverse.
    ndim : {2, 1, 3}
        Number of spatial dimensions (every framework op is 2-d; 1-d and 3-d are upconv's).
    channels : int or None
        Channels of the deep side, ``C * r**ndim``, when known (for the permutation in
        translations).

    Examples
    --------
    >>> spec = ShuffleSpec.from_tf("depth_to_space", 2)
    >>> spec.order, spec.to_onnx().args
    ('DCR', {'blocksize': 2, 'mode': 'DCR'})
    >>> ShuffleSpec.from_torch("pixel_shuffle", 2).to_onnx().args["mode"]
    'CRD'
    """

    block_size: int
    order: str = "CRD"
    direction: str = "depth_to_space"
    ndim: int = 2
    channels: int | None = None

    def __post_init__(self) -> None:
        func = "ShuffleSpec"
        r = check_int(self.block_size, "block_size", func, minimum=1)
        check_choice(self.order, ORDERS, "order", func)
        check_choice(self.direction, DIRECTIONS, "direction", func)
        nd = _check_ndim(self.ndim, func)
        if self.channels is not None:
            ch = check_int(self.channels, "channels", func, minimum=1)
            if ch % r**nd:
                raise ShapeError(
                    f"{func}: channels={ch} (the deep side) is not divisible by "
                    f"block_size**{nd} = {r**nd}"
                )
            object.__setattr__(self, "channels", ch)
        object.__setattr__(self, "block_size", r)
        object.__setattr__(self, "ndim", nd)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data.

        Examples
        --------
        >>> ShuffleSpec(2).to_dict()
        {'block_size': 2, 'order': 'CRD', 'direction': 'depth_to_space', 'ndim': 2, \
'channels': None}
        """
        return asdict(self)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_torch(cls, op: str, factor: int, *, channels: int | None = None) -> ShuffleSpec:
        """PyTorch ``nn.PixelShuffle(upscale_factor)`` / ``nn.PixelUnshuffle(downscale_factor)``.

        ``op`` is one of ``'pixel_shuffle'``, ``'PixelShuffle'``, ``'pixel_unshuffle'``,
        ``'PixelUnshuffle'``; the order is CRD.

        Examples
        --------
        >>> ShuffleSpec.from_torch("PixelUnshuffle", 3).direction
        'space_to_depth'
        """
        names = {"pixel_shuffle": "depth_to_space", "PixelShuffle": "depth_to_space",
                 "pixel_unshuffle": "space_to_depth", "PixelUnshuffle": "space_to_depth"}
        return cls(factor, "CRD", _direction(op, names, "ShuffleSpec.from_torch"), 2, channels)

    @classmethod
    def from_tf(cls, op: str, block_size: int, data_format: str = "NHWC", *,
                channels: int | None = None) -> ShuffleSpec:
        """TensorFlow ``tf.nn.depth_to_space`` / ``tf.nn.space_to_depth`` (DCR, any format).

        Examples
        --------
        >>> ShuffleSpec.from_tf("space_to_depth", 2).order
        'DCR'
        """
        func = "ShuffleSpec.from_tf"
        check_choice(data_format, ("NHWC", "NCHW"), "data_format", func)
        names = {"depth_to_space": "depth_to_space", "space_to_depth": "space_to_depth"}
        return cls(block_size, "DCR", _direction(op, names, func), 2, channels)

    @classmethod
    def from_keras(cls, op: str, block_size: int, data_format: str = "channels_last", *,
                   backend: str = "jax", channels: int | None = None) -> ShuffleSpec:
        """Keras 3 ``keras.ops.depth_to_space`` / ``keras.ops.space_to_depth``.

        DCR with ``channels_last``; with ``channels_first`` the order depends on the Keras
        ``backend``: CRD on ``'jax'``, ``'torch'``, ``'numpy'``, DCR on ``'tensorflow'``
        (Keras 3.15.1).

        Examples
        --------
        >>> ShuffleSpec.from_keras("depth_to_space", 2, "channels_first").order
        'CRD'
        >>> ShuffleSpec.from_keras("depth_to_space", 2, "channels_first",
        ...                        backend="tensorflow").order
        'DCR'
        """
        func = "ShuffleSpec.from_keras"
        check_choice(data_format, ("channels_last", "channels_first"), "data_format", func)
        check_choice(backend, _KERAS_BACKENDS, "backend", func)
        names = {"depth_to_space": "depth_to_space", "space_to_depth": "space_to_depth"}
        order = "CRD" if data_format == "channels_first" and backend != "tensorflow" else "DCR"
        return cls(block_size, order, _direction(op, names, func), 2, channels)

    @classmethod
    def from_onnx(cls, op: str, blocksize: int, mode: str = "DCR", *,
                  channels: int | None = None) -> ShuffleSpec:
        """ONNX ``DepthToSpace(blocksize, mode)`` or ``SpaceToDepth(blocksize)`` (always DCR).

        Examples
        --------
        >>> ShuffleSpec.from_onnx("DepthToSpace", 2, "CRD").order
        'CRD'
        """
        func = "ShuffleSpec.from_onnx"
        direction = _direction(op, {"DepthToSpace": "depth_to_space",
                                    "SpaceToDepth": "space_to_depth"}, func)
        check_choice(mode, ORDERS, "mode", func)
        if direction == "space_to_depth" and mode != "DCR":
            raise ShapeError(
                f"{func}: SpaceToDepth has no mode attribute (its order is DCR); got "
                f"mode={mode!r}; for the CRD order use PyTorch's pixel_unshuffle or permute "
                "the channels afterwards (channel_permutation)"
            )
        return cls(blocksize, mode, direction, 2, channels)

    # -- computing --------------------------------------------------------------------------

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Run the spec on channels-first ``(N, C, *spatial)`` (or ``(C, *spatial)``) data.

        Examples
        --------
        >>> ShuffleSpec(2, "DCR").apply(np.arange(4.0).reshape(4, 1, 1))[0]
        array([[0., 1.],
               [2., 3.]])
        """
        return _shuffle(float_array(x, "x", "ShuffleSpec.apply"), self.block_size, self.order,
                        self.direction, self.ndim, "ShuffleSpec.apply")

    # -- translators ------------------------------------------------------------------------

    def _perm(self, from_order: str, to_order: str) -> tuple[Any, str]:
        """A permutation ``from_order -> to_order`` as data (or a placeholder line)."""
        if self.channels is None:
            return None, (f"perm = upconv.conventions.channel_permutation(C, {self.block_size}, "
                          f"from_order={from_order!r}, to_order={to_order!r})")
        perm = channel_permutation(self.channels, self.block_size, from_order=from_order,
                                   to_order=to_order, ndim=self.ndim)
        return perm.tolist(), f"perm = {perm.tolist()!r}"

    def _need_2d(self, framework: str) -> None:
        if self.ndim != 2:
            raise ShapeError(
                f"ShuffleSpec.to_{framework}: {framework}'s op is 2-d only but the spec has "
                f"ndim={self.ndim}; use upconv.pixel_shuffle(x, r, ndim={self.ndim}) (CRD) or "
                "a reshape and transpose (see to_jax)"
            )

    def _translate(self, framework: str, op: str, args: dict[str, Any], native: str,
                   call: str, channels_last: bool) -> Translation:
        """A translation to a framework whose op uses ``native`` order, permuting otherwise."""
        d2s = self.direction == "depth_to_space"
        notes = [f"{framework}'s {op} uses the {native} channel order (deep channel "
                 + ("c*r**2 + i*r + j" if native == "CRD" else "(i*r + j)*C + c") + ")"]
        if self.order == native:
            return Translation(framework, op, args, {}, True, notes, f"y = {call}")
        ch = "..., perm" if channels_last else ":, perm"
        if d2s:
            # x_native = x_spec[:, perm] before the op
            perm, perm_line = self._perm(self.order, native)
            where = "the input's channels before the op (or the producing layer's output channels)"
            code = [perm_line, f"x = x[{ch}]", f"y = {call}"]
            extra = {"permute_input_channels": perm}
        else:
            # the op yields the native order: y_spec = y_native[:, perm]
            perm, perm_line = self._perm(native, self.order)
            where = "the output's channels after the op"
            code = [perm_line, f"y = {call}", f"y = y[{ch}]"]
            extra = {"permute_output_channels": perm}
        notes.append(f"the spec uses {self.order}: permute {where} with `perm` (see "
                     "upconv.conventions.channel_permutation); the result is then exact")
        return Translation(framework, op, args, extra, False, notes, "\n".join(code))

    def to_torch(self) -> Translation:
        """``torch.nn.PixelShuffle`` / ``PixelUnshuffle`` (CRD), permuting channels for DCR.

        Examples
        --------
        >>> t = ShuffleSpec(2, "DCR", channels=8).to_torch()
        >>> t.exact, t.extra
        (False, {'permute_input_channels': [0, 2, 4, 6, 1, 3, 5, 7]})
        >>> print(t.code)
        perm = [0, 2, 4, 6, 1, 3, 5, 7]
        x = x[:, perm]
        y = torch.nn.PixelShuffle(2)(x)
        """
        self._need_2d("torch")
        d2s = self.direction == "depth_to_space"
        op = "PixelShuffle" if d2s else "PixelUnshuffle"
        key = "upscale_factor" if d2s else "downscale_factor"
        return self._translate("torch", op, {key: self.block_size}, "CRD",
                               f"torch.nn.{op}({self.block_size})(x)", False)

    def to_tf(self) -> Translation:
        """``tf.nn.depth_to_space`` / ``tf.nn.space_to_depth`` (NHWC, DCR).

        Examples
        --------
        >>> ShuffleSpec(2, "DCR").to_tf().code
        "y = tf.nn.depth_to_space(x, 2, data_format='NHWC')"
        """
        self._need_2d("tf")
        op = f"tf.nn.{self.direction}"
        return self._translate("tf", op, {"block_size": self.block_size,
                                          "data_format": "NHWC"}, "DCR",
                               f"{op}(x, {self.block_size}, data_format='NHWC')", True)

    def to_keras(self) -> Translation:
        """``keras.ops.depth_to_space`` / ``space_to_depth`` with ``channels_last`` (DCR).

        ``channels_last`` is used because it is DCR on every Keras backend (``channels_first``
        is CRD on JAX/PyTorch/NumPy and DCR on TensorFlow).

        Examples
        --------
        >>> ShuffleSpec(2, "DCR", "space_to_depth").to_keras().args
        {'block_size': 2, 'data_format': 'channels_last'}
        """
        self._need_2d("keras")
        op = f"keras.ops.{self.direction}"
        return self._translate("keras", op, {"block_size": self.block_size,
                                             "data_format": "channels_last"}, "DCR",
                               f"{op}(x, {self.block_size}, data_format='channels_last')", True)

    def to_onnx(self) -> Translation:
        """ONNX ``DepthToSpace`` (``mode`` DCR or CRD) or ``SpaceToDepth`` (DCR only).

        Examples
        --------
        >>> print(ShuffleSpec(3).to_onnx().code)
        y = onnx.helper.make_node('DepthToSpace', ['x'], ['y'], blocksize=3, mode='CRD')
        """
        self._need_2d("onnx")
        if self.direction == "depth_to_space":
            args = {"blocksize": self.block_size, "mode": self.order}
            code = (f"y = onnx.helper.make_node('DepthToSpace', ['x'], ['y'], "
                    f"blocksize={self.block_size}, mode={self.order!r})")
            notes = ["ONNX DepthToSpace takes either order through its mode attribute"]
            return Translation("onnx", "DepthToSpace", args, {}, True, notes, code)
        call = (f"onnx.helper.make_node('SpaceToDepth', ['x'], ['y'], "
                f"blocksize={self.block_size})")
        return self._translate("onnx", "SpaceToDepth", {"blocksize": self.block_size}, "DCR",
                               call, False)

    def to_jax(self) -> Translation:
        """A ``jnp.reshape`` / ``jnp.transpose`` sequence (JAX has no shuffle op), channels first.

        Works for any ``ndim``; exact for both orders.

        Examples
        --------
        >>> print(ShuffleSpec(2).to_jax().code)
        n, cr, h, w = x.shape
        x = jnp.reshape(x, (n, cr // 4, 2, 2, h, w))
        y = jnp.reshape(jnp.transpose(x, (0, 1, 4, 2, 5, 3)), (n, cr // 4, h * 2, w * 2))
        """
        nd, r = self.ndim, self.block_size
        letters = list(_SPATIAL[nd].lower())
        block = r**nd
        blocks = ", ".join([str(r)] * nd)
        sp = ", ".join(letters)
        deep = ("n, cr // {b}, {bl}" if self.order == "CRD" else "n, {bl}, cr // {b}").format(
            b=block, bl=blocks)
        # axes of the deep view: CRD (n, c, r_1..r_d, s_1..s_d); DCR (n, r_1..r_d, c, s_1..s_d)
        c_ax = 1 if self.order == "CRD" else 1 + nd
        r_ax = [2 + i for i in range(nd)] if self.order == "CRD" else [1 + i for i in range(nd)]
        s_ax = [2 + nd + i for i in range(nd)]
        if self.direction == "depth_to_space":
            perm = (0, c_ax, *[a for i in range(nd) for a in (s_ax[i], r_ax[i])])
            code = [f"n, cr, {sp} = x.shape", f"x = jnp.reshape(x, ({deep}, {sp}))",
                    f"y = jnp.reshape(jnp.transpose(x, {perm}), (n, cr // {block}, "
                    + ", ".join(f"{v} * {r}" for v in letters) + "))"]
        else:
            # spread view (n, c, s_1, r_1, ..., s_d, r_d) -> deep view
            spread = (0, 1, *[2 + 2 * i for i in range(nd)], *[3 + 2 * i for i in range(nd)])
            # deep axes in spread positions: c=1, r_i=3+2i, s_i=2+2i
            order_axes = ([1, *spread[2 + nd:]] if self.order == "CRD"
                          else [*spread[2 + nd:], 1])
            perm = (0, *order_axes, *spread[2:2 + nd])
            view = ", ".join(f"{v} // {r}, {r}" for v in letters)
            code = [f"n, c, {sp} = x.shape", f"x = jnp.reshape(x, (n, c, {view}))",
                    f"y = jnp.reshape(jnp.transpose(x, {perm}), (n, c * {block}, "
                    + ", ".join(f"{v} // {r}" for v in letters) + "))"]
        notes = ["JAX has no depth-to-space op; the reshape/transpose sequence gives the "
                 f"{self.order} order on channels-first data"]
        return Translation("jax", "jnp.reshape/jnp.transpose", {"block_size": r,
                                                                "order": self.order},
                           {}, True, notes, "\n".join(code))

    def to(self, framework: str) -> Translation:
        """Dispatch to ``to_<framework>()`` (torch, tf, keras, jax, onnx).

        Examples
        --------
        >>> ShuffleSpec(2).to("ort").op
        'DepthToSpace'
        """
        fw = check_framework(framework, "ShuffleSpec.to",
                             allowed=("torch", "tf", "keras", "jax", "onnx"))
        result: Translation = getattr(self, f"to_{fw}")()
        return result


# ---------------------------------------------------------------------------------------------
# Compute functions (NumPy, each framework's names and layouts)


def _shuffle(x: np.ndarray, r: int, order: str, direction: str, nd: int,
             func: str) -> np.ndarray:
    """Channels-first shuffle in either order, through upconv's CRD kernels."""
    if x.ndim < nd + 1:
        raise ShapeError(
            f"{func}: x has shape {x.shape} (rank {x.ndim}); it needs at least {nd + 1} "
            f"dimensions (C, {', '.join(_SPATIAL[nd])})"
        )
    channel_axis = x.ndim - nd - 1
    if direction == "depth_to_space":
        channels = x.shape[channel_axis]
        if channels % r**nd:
            raise ShapeError(
                f"{func}: the input has {channels} channels, which is not divisible by "
                f"block_size**{nd} = {r**nd}"
            )
        if order == "DCR":
            perm = channel_permutation(channels, r, from_order="DCR", to_order="CRD", ndim=nd)
            x = np.take(x, perm, axis=channel_axis)
        return _np_pixel_shuffle(x, r, ndim=nd)
    for axis, s in enumerate(x.shape[-nd:]):
        if s % r:
            raise ShapeError(
                f"{func}: spatial dimension {axis} has size {s}, which is not divisible by "
                f"block_size={r}"
            )
    y = _np_pixel_unshuffle(x, r, ndim=nd)
    if order == "DCR":
        perm = channel_permutation(y.shape[channel_axis], r, from_order="CRD",
                                   to_order="DCR", ndim=nd)
        y = np.take(y, perm, axis=channel_axis)
    return y


def _rank4(x: np.ndarray, func: str, name: str = "input") -> None:
    if x.ndim != 4:
        raise ShapeError(f"{func}: {name} has shape {x.shape} (rank {x.ndim}); a 4-d tensor "
                         "is required")


def torch_pixel_shuffle(input: np.ndarray, upscale_factor: int) -> np.ndarray:
    """PyTorch ``F.pixel_shuffle``: ``(*, C*r**2, H, W) -> (*, C, H*r, W*r)`` (CRD).

    Parameters
    ----------
    input : (*, C*r**2, H, W) ndarray
    upscale_factor : int

    Returns
    -------
    (*, C, H*r, W*r) ndarray
        ``out[..., c, h*r + i, w*r + j] = input[..., c*r**2 + i*r + j, h, w]``.

    See Also
    --------
    torch_pixel_unshuffle : the inverse.
    onnx_depth_to_space : the same with ``mode='CRD'``.

    Examples
    --------
    >>> torch_pixel_shuffle(np.arange(4.0).reshape(4, 1, 1), 2)[0]
    array([[0., 1.],
           [2., 3.]])
    """
    return _np_pixel_shuffle(input, upscale_factor)


def torch_pixel_unshuffle(input: np.ndarray, downscale_factor: int) -> np.ndarray:
    """PyTorch ``F.pixel_unshuffle``: ``(*, C, H*r, W*r) -> (*, C*r**2, H, W)`` (CRD).

    Parameters
    ----------
    input : (*, C, H*r, W*r) ndarray
    downscale_factor : int

    Returns
    -------
    (*, C*r**2, H, W) ndarray
        The inverse of :func:`torch_pixel_shuffle`.

    See Also
    --------
    torch_pixel_shuffle : the inverse.

    Examples
    --------
    >>> torch_pixel_unshuffle(np.arange(4.0).reshape(1, 2, 2), 2)[:, 0, 0]
    array([0., 1., 2., 3.])
    """
    return _np_pixel_unshuffle(input, downscale_factor)


def onnx_depth_to_space(input: np.ndarray, *, blocksize: int, mode: str = "DCR") -> np.ndarray:
    """ONNX ``DepthToSpace`` (opset 13): ``(N, C*b*b, H, W) -> (N, C, H*b, W*b)``.

    Parameters
    ----------
    input : (N, C*b*b, H, W) ndarray
    blocksize : int
    mode : {'DCR', 'CRD'}
        ``DCR`` (default): input channel ``(i*b + j)*C + c``; ``CRD``: ``c*b*b + i*b + j``.

    Returns
    -------
    (N, C, H*b, W*b) ndarray

    See Also
    --------
    onnx_space_to_depth : the inverse of the DCR mode.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 8, 1, 1)
    >>> onnx_depth_to_space(x, blocksize=2)[0, :, :, :]
    array([[[0., 2.],
            [4., 6.]],
    <BLANKLINE>
           [[1., 3.],
            [5., 7.]]])
    >>> onnx_depth_to_space(x, blocksize=2, mode="CRD")[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    func = "onnx_depth_to_space"
    x = float_array(input, "input", func)
    _rank4(x, func)
    r = check_int(blocksize, "blocksize", func, minimum=1)
    check_choice(mode, ORDERS, "mode", func)
    return _shuffle(x, r, mode, "depth_to_space", 2, func)


def onnx_space_to_depth(input: np.ndarray, *, blocksize: int) -> np.ndarray:
    """ONNX ``SpaceToDepth``: ``(N, C, H*b, W*b) -> (N, C*b*b, H, W)``, DCR order.

    Parameters
    ----------
    input : (N, C, H*b, W*b) ndarray
    blocksize : int

    Returns
    -------
    (N, C*b*b, H, W) ndarray
        Output channel ``(i*b + j)*C + c`` holds ``input[:, c, h*b + i, w*b + j]``.

    See Also
    --------
    onnx_depth_to_space : the inverse (``mode='DCR'``).
    torch_pixel_unshuffle : the CRD order.

    Examples
    --------
    >>> onnx_space_to_depth(np.arange(8.0).reshape(1, 2, 2, 2), blocksize=2)[0, :, 0, 0]
    array([0., 4., 1., 5., 2., 6., 3., 7.])
    """
    func = "onnx_space_to_depth"
    x = float_array(input, "input", func)
    _rank4(x, func)
    r = check_int(blocksize, "blocksize", func, minimum=1)
    return _shuffle(x, r, "DCR", "space_to_depth", 2, func)


def _tf_layout(x: np.ndarray, data_format: str, func: str) -> bool:
    return parse_data_format(check_choice(data_format, ("NHWC", "NCHW"), "data_format", func),
                             2, func)


def tf_depth_to_space(input: np.ndarray, block_size: int, data_format: str = "NHWC"
                      ) -> np.ndarray:
    """TensorFlow ``tf.nn.depth_to_space`` (DCR): ``(N, H, W, C*b*b) -> (N, H*b, W*b, C)``.

    TensorFlow is not run here; its DCR order (documented) is checked through ONNX
    ``DepthToSpace(mode='DCR')`` and Keras's channels-last ``depth_to_space``.

    Parameters
    ----------
    input : (N, H, W, C*b*b) or, with ``data_format='NCHW'``, (N, C*b*b, H, W) ndarray
    block_size : int
    data_format : {'NHWC', 'NCHW'}

    Returns
    -------
    (N, H*b, W*b, C) or (N, C, H*b, W*b) ndarray

    See Also
    --------
    tf_space_to_depth : the inverse.

    Examples
    --------
    >>> tf_depth_to_space(np.arange(4.0).reshape(1, 1, 1, 4), 2)[0, :, :, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    func = "tf_depth_to_space"
    x = float_array(input, "input", func)
    _rank4(x, func)
    r = check_int(block_size, "block_size", func, minimum=1)
    last = _tf_layout(x, data_format, func)
    y = _shuffle(to_channels_first(x, last), r, "DCR", "depth_to_space", 2, func)
    return from_channels_first(y, last)


def tf_space_to_depth(input: np.ndarray, block_size: int, data_format: str = "NHWC"
                      ) -> np.ndarray:
    """TensorFlow ``tf.nn.space_to_depth`` (DCR): ``(N, H*b, W*b, C) -> (N, H, W, C*b*b)``.

    Parameters
    ----------
    input : (N, H*b, W*b, C) or, with ``data_format='NCHW'``, (N, C, H*b, W*b) ndarray
    block_size : int
    data_format : {'NHWC', 'NCHW'}

    Returns
    -------
    (N, H, W, C*b*b) or (N, C*b*b, H, W) ndarray

    See Also
    --------
    tf_depth_to_space : the inverse.

    Examples
    --------
    >>> tf_space_to_depth(np.arange(4.0).reshape(1, 2, 2, 1), 2)[0, 0, 0]
    array([0., 1., 2., 3.])
    """
    func = "tf_space_to_depth"
    x = float_array(input, "input", func)
    _rank4(x, func)
    r = check_int(block_size, "block_size", func, minimum=1)
    last = _tf_layout(x, data_format, func)
    y = _shuffle(to_channels_first(x, last), r, "DCR", "space_to_depth", 2, func)
    return from_channels_first(y, last)


def _keras_args(x: Any, block_size: Any, data_format: Any, backend: Any, func: str
                ) -> tuple[np.ndarray, int, bool, str]:
    arr = float_array(x, "x", func)
    _rank4(arr, func, "x")
    r = check_int(block_size, "block_size", func, minimum=1)
    if r < 2:
        raise ShapeError(f"{func}: block_size={r} must be at least 2 (Keras's rule)")
    fmt = check_choice(data_format, ("channels_last", "channels_first"), "data_format", func)
    check_choice(backend, _KERAS_BACKENDS, "backend", func)
    last = fmt == "channels_last"
    order = "DCR" if last or backend == "tensorflow" else "CRD"
    return arr, r, last, order


def keras_depth_to_space(x: np.ndarray, block_size: int, data_format: str = "channels_last",
                         *, backend: str = "jax") -> np.ndarray:
    """Keras 3 ``keras.ops.depth_to_space``, including its backend-dependent channel order.

    Parameters
    ----------
    x : (N, H, W, C*b*b) or, with ``channels_first``, (N, C*b*b, H, W) ndarray
    block_size : int
        At least 2 (Keras's rule).
    data_format : {'channels_last', 'channels_first'}
    backend : {'jax', 'torch', 'numpy', 'tensorflow'}, keyword-only
        The Keras backend: with ``channels_first`` the JAX, PyTorch and NumPy backends use
        PyTorch's CRD order, the TensorFlow backend DCR (Keras 3.15.1); ``channels_last`` is
        DCR everywhere.

    Returns
    -------
    (N, H*b, W*b, C) or (N, C, H*b, W*b) ndarray

    See Also
    --------
    keras_space_to_depth : the inverse.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 8, 1, 1)
    >>> keras_depth_to_space(x, 2, "channels_first")[0, 0]
    array([[0., 1.],
           [2., 3.]])
    >>> keras_depth_to_space(x, 2, "channels_first", backend="tensorflow")[0, 0]
    array([[0., 2.],
           [4., 6.]])
    """
    func = "keras_depth_to_space"
    arr, r, last, order = _keras_args(x, block_size, data_format, backend, func)
    y = _shuffle(to_channels_first(arr, last), r, order, "depth_to_space", 2, func)
    return from_channels_first(y, last)


def keras_space_to_depth(x: np.ndarray, block_size: int, data_format: str = "channels_last",
                         *, backend: str = "jax") -> np.ndarray:
    """Keras 3 ``keras.ops.space_to_depth`` (the inverse of :func:`keras_depth_to_space`).

    Parameters
    ----------
    x : (N, H*b, W*b, C) or, with ``channels_first``, (N, C, H*b, W*b) ndarray
    block_size : int
    data_format : {'channels_last', 'channels_first'}
    backend : {'jax', 'torch', 'numpy', 'tensorflow'}, keyword-only

    Returns
    -------
    (N, H, W, C*b*b) or (N, C*b*b, H, W) ndarray

    See Also
    --------
    keras_depth_to_space : the inverse.

    Examples
    --------
    >>> keras_space_to_depth(np.arange(8.0).reshape(1, 2, 2, 2), 2, "channels_first")[0, :, 0, 0]
    array([0., 1., 2., 3., 4., 5., 6., 7.])
    """
    func = "keras_space_to_depth"
    arr, r, last, order = _keras_args(x, block_size, data_format, backend, func)
    y = _shuffle(to_channels_first(arr, last), r, order, "space_to_depth", 2, func)
    return from_channels_first(y, last)
