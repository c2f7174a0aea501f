"""Zeiler & Fergus's deconvnet on a small Fashion-MNIST classifier, with upconv's NumPy ops.

Seed 001 asks whether ``ConvTranspose2d`` is the right "deconvnet" of Zeiler & Fergus (2014),
whose reconstructions unpool with recorded *switches*, rectify, and filter with the flipped
(transposed) filters.  This experiment trains a small CNN (two conv + ReLU + max-pool blocks
and a linear classifier), picks the strongest activations of chosen feature maps, and sends
each down to pixel space three ways:

* **Zeiler-Fergus** in NumPy with upconv: the forward pass recomputed with
  :func:`upconv.conv` and :func:`upconv.max_pool` ``(return_indices=True)``, the switches kept
  in a :class:`Switches` object, and on the way down :func:`upconv.max_unpool` (unpool),
  ``np.maximum(., 0)`` (rectify) and :func:`upconv.conv_transpose` with the trained weights
  (filter);
* **torch backward with modified ReLUs** (:func:`relu_backward`): ``'plain'`` is gradient
  saliency (Simonyan et al.), ``'deconvnet'`` passes only positive gradients through each
  ReLU whatever its input was (it equals the Zeiler-Fergus reconstruction: this is checked
  numerically on every run), ``'guided'`` combines both (Springenberg et al.);
* Zeiler-Fergus with **no switches** (every value put at its window's first position,
  Dosovitskiy's un-pooling), to show what the switches carry.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import upconv

from ._common import (
    Progress,
    figure,
    load_split,
    markdown_table,
    mosaic,
    save_figure,
    say,
    signed,
    torch_settings,
    write_json,
)
from .data import CLASSES

RULES = ("plain", "deconvnet", "guided")
"""Backward rules of :func:`relu_backward`."""


# ---------------------------------------------------------------------------------------------
# The switches


@dataclass(frozen=True)
class Switches:
    """Where each max-pool window found its maximum: Zeiler & Fergus's switch variables.

    Attributes
    ----------
    indices : (N, C, H_out, W_out) ndarray of int64
        Flat position of each window's maximum in its ``(H_in, W_in)`` input plane, as
        :func:`upconv.max_pool` ``(return_indices=True)`` and PyTorch return them.
    input_size : (int, int)
        ``(H_in, W_in)``, the size unpooling restores.
    kernel_size, stride : int
        The pooling window and step.

    Examples
    --------
    >>> x = np.array([[[[1.0, 5, 2, 0], [3, 4, 8, 1]]]])
    >>> pooled, sw = max_pool_switches(x, 2)
    >>> pooled
    array([[[[5., 8.]]]])
    >>> sw.indices
    array([[[[1, 6]]]])
    >>> sw.offsets()[0, 0, 0].tolist()
    [[0, 1], [1, 0]]
    >>> sw.unpool(pooled)
    array([[[[0., 5., 0., 0.],
             [0., 0., 8., 0.]]]])
    """

    indices: np.ndarray
    input_size: tuple[int, int]
    kernel_size: int = 2
    stride: int = 2

    def offsets(self) -> np.ndarray:
        """``(N, C, H_out, W_out, 2)``: row and column of each maximum inside its window."""
        w = self.input_size[1]
        rows, cols = np.divmod(self.indices, w)
        i = np.arange(self.indices.shape[-2])[:, None] * self.stride
        j = np.arange(self.indices.shape[-1])[None, :] * self.stride
        return np.stack([rows - i, cols - j], axis=-1)

    def counts(self, where: np.ndarray | None = None) -> np.ndarray:
        """``(k, k)`` int array: how many windows had their maximum at each window position.

        ``where`` (bool, shaped like ``indices``) restricts the count, e.g. to windows whose
        maximum is positive: after a ReLU an all-zero window ties and PyTorch's rule (and
        upconv's) picks its first position.
        """
        k = self.kernel_size
        off = self.offsets()
        off = (off if where is None else off[np.asarray(where, dtype=bool)]).reshape(-1, 2)
        out = np.zeros((k, k), dtype=np.int64)
        np.add.at(out, (off[:, 0], off[:, 1]), 1)
        return out

    def mask(self) -> np.ndarray:
        """``(N, C, H_in, W_in)`` bool: True where a window took its maximum."""
        ones = np.ones(self.indices.shape, dtype=np.float64)
        return self.unpool(ones) > 0

    def unpool(self, y: np.ndarray) -> np.ndarray:
        """Put each value of ``y`` (shaped like ``indices``) back at its switch, zeros elsewhere.

        :func:`upconv.max_unpool` with these switches and the recorded input size.
        """
        return upconv.max_unpool(y, self.indices, self.kernel_size, self.stride,
                                 output_size=self.input_size)

    def first_position(self) -> Switches:
        """Switches that ignore the data: every window's first (top-left) position.

        Unpooling with them is Dosovitskiy's "un-pooling" (a bed of nails), the best a decoder
        can do without the encoder's switches.
        """
        n, c, ho, wo = self.indices.shape
        w = self.input_size[1]
        grid = (np.arange(ho)[:, None] * self.stride * w + np.arange(wo)[None, :] * self.stride)
        return Switches(np.broadcast_to(grid, (n, c, ho, wo)).astype(np.int64).copy(),
                        self.input_size, self.kernel_size, self.stride)


def max_pool_switches(x: np.ndarray, kernel_size: int = 2, stride: int | None = None
                      ) -> tuple[np.ndarray, Switches]:
    """:func:`upconv.max_pool` that keeps its switches as a :class:`Switches` object.

    Parameters
    ----------
    x : (N, C, H, W) ndarray
        Input (float32 or float64).
    kernel_size : int
        Window size.
    stride : int, optional
        Default ``kernel_size`` (non-overlapping windows, as in the deconvnet).

    Returns
    -------
    pooled : (N, C, H_out, W_out) ndarray
    switches : Switches
    """
    s = kernel_size if stride is None else stride
    pooled, idx = upconv.max_pool(x, kernel_size, s, return_indices=True)
    return pooled, Switches(np.asarray(idx, dtype=np.int64), (x.shape[-2], x.shape[-1]),
                            kernel_size, s)


# ---------------------------------------------------------------------------------------------
# The network: torch for training and the backward rules, NumPy for the deconvnet


class _RuleReLU(torch.autograd.Function):
    """ReLU whose backward follows a rule: plain gradient, deconvnet or guided."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, rule: str) -> Tensor:
        ctx.save_for_backward(x)
        ctx.rule = rule
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        g = grads[0]
        if ctx.rule == "plain":  # the true gradient
            return g * (x > 0), None
        if ctx.rule == "deconvnet":  # rectify the signal going down, ignore the input's sign
            return g.clamp(min=0), None
        return g.clamp(min=0) * (x > 0), None  # guided: both masks


class SmallCNN(nn.Module):
    """Two conv + ReLU + 2x2 max-pool blocks and a linear classifier (28x28 -> 10 classes).

    Parameters
    ----------
    channels : (int, int)
        Feature maps of the two blocks.
    kernel_sizes : (int, int)
        Odd kernel sizes, ``'same'`` padding.
    """

    def __init__(self, channels: tuple[int, int] = (16, 32),
                 kernel_sizes: tuple[int, int] = (5, 3)) -> None:
        super().__init__()
        c1, c2 = channels
        k1, k2 = kernel_sizes
        self.conv1 = nn.Conv2d(1, c1, k1, padding=k1 // 2)
        self.conv2 = nn.Conv2d(c1, c2, k2, padding=k2 // 2)
        self.fc = nn.Linear(c2 * 7 * 7, 10)
        self.convs = (self.conv1, self.conv2)

    def features(self, x: Tensor, rule: str = "plain") -> list[Tensor]:
        """The pooled output of each block, ``[(N, C1, 14, 14), (N, C2, 7, 7)]``.

        ``rule`` selects the ReLUs' backward (:data:`RULES`); the forward is the same.
        """
        outs = []
        h = x
        for conv in self.convs:
            h = F.max_pool2d(_RuleReLU.apply(conv(h), rule), 2)
            outs.append(h)
        return outs

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``(N, 10)``."""
        out: Tensor = self.fc(self.features(x)[-1].flatten(1))
        return out


@dataclass(frozen=True)
class NumpyCNN:
    """A :class:`SmallCNN`'s convolution blocks as NumPy arrays, run with upconv's ops.

    Attributes
    ----------
    weights : tuple of (C_out, C_in, k, k) ndarray
    biases : tuple of (C_out,) ndarray
    paddings : tuple of int
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    paddings: tuple[int, ...]

    @classmethod
    def from_torch(cls, model: SmallCNN, dtype: Any = np.float32) -> NumpyCNN:
        """Export the trained convolution weights."""
        ws = tuple(c.weight.detach().numpy().astype(dtype) for c in model.convs)
        bs = tuple(_bias(c).astype(dtype) for c in model.convs)
        pads = tuple(int(c.padding[0]) for c in model.convs)
        return cls(ws, bs, pads)

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[Switches]]:
        """The pooled output of every block and the switches of every pool.

        ``conv -> ReLU -> max_pool(2)`` per block, with :func:`upconv.conv` and
        :func:`max_pool_switches` (which calls :func:`upconv.max_pool`).
        """
        outs, switches = [], []
        h = x
        for w, b, p in zip(self.weights, self.biases, self.paddings, strict=True):
            h, sw = max_pool_switches(np.maximum(upconv.conv(h, w, b, padding=p), 0), 2)
            outs.append(h)
            switches.append(sw)
        return outs, switches


def _bias(conv: nn.Module) -> np.ndarray:
    b = getattr(conv, "bias", None)
    assert isinstance(b, Tensor)
    return b.detach().numpy()


def zeiler_fergus(net: NumpyCNN, switches: list[Switches], layer: int, top: np.ndarray
                  ) -> np.ndarray:
    """Project activations of block ``layer`` down to pixel space (Zeiler & Fergus 2014).

    Parameters
    ----------
    net : NumpyCNN
        The trained weights.
    switches : list of Switches
        The pools' switches from ``net.forward`` on the same images (or others, to see what
        they change: :meth:`Switches.first_position`).
    layer : int
        1-based block whose pooled output ``top`` lives in.
    top : (N, C_layer, H, W) ndarray
        Typically all zeros except the one activation to visualise.

    Returns
    -------
    (N, 1, 28, 28) ndarray
        The reconstruction.

    Notes
    -----
    For each block from ``layer`` down to 1: unpool with the switches
    (:func:`upconv.max_unpool`), rectify (``max(., 0)``), and filter with the transposed
    filters (:func:`upconv.conv_transpose` with the forward weight, no bias), which at stride
    1 is a convolution with the filters flipped in both axes and their channel axes swapped.
    Each step is the backward of the forward step with the ReLU's backward replaced by a
    rectification, so the result equals :func:`relu_backward` with ``rule='deconvnet'``.
    """
    y = top
    for i in range(layer - 1, -1, -1):
        y = switches[i].unpool(y)  # unpool
        y = np.maximum(y, 0)  # rectify
        y = upconv.conv_transpose(y, net.weights[i], padding=net.paddings[i])  # filter
    return y


def relu_backward(model: SmallCNN, x: np.ndarray, layer: int, top: np.ndarray, rule: str
                  ) -> np.ndarray:
    """Backpropagate ``top`` from block ``layer``'s pooled output to the pixels, in torch.

    Parameters
    ----------
    model : SmallCNN
    x : (N, 1, 28, 28) ndarray
        Input images.
    layer : int
        1-based block.
    top : ndarray shaped like that block's pooled output
        The gradient to start from (the masked activation).
    rule : {'plain', 'deconvnet', 'guided'}
        How each ReLU passes gradients down: ``'plain'`` where its input was positive (the
        true gradient: saliency), ``'deconvnet'`` where the gradient is positive, ``'guided'``
        where both are.

    Returns
    -------
    (N, 1, 28, 28) ndarray
        ``d <block output, top> / d x`` under the rule.
    """
    if rule not in RULES:
        raise ValueError(f"relu_backward: rule={rule!r} must be one of {', '.join(RULES)}")
    xt = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    out = model.features(xt, rule)[layer - 1]
    out.backward(torch.from_numpy(np.asarray(top, dtype=out.detach().numpy().dtype)))
    assert xt.grad is not None
    return xt.grad.numpy()


# ---------------------------------------------------------------------------------------------
# Training


def _evaluate(model: SmallCNN, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    model.eval()
    loss = correct = 0.0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            logits = model(torch.from_numpy(x[i:i + 1000]))
            target = torch.from_numpy(y[i:i + 1000])
            loss += float(F.cross_entropy(logits, target, reduction="sum"))
            correct += float((logits.argmax(1) == target).sum())
    model.train()
    return loss / len(x), correct / len(x)


def train_classifier(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray, *,
                     epochs: int, seed: int = 0, batch_size: int = 64, lr: float = 2e-3,
                     progress: bool = True) -> tuple[SmallCNN, list[dict[str, float]], float]:
    """Train :class:`SmallCNN` with Adam; return it, the test curve and the training time."""
    torch.manual_seed(seed)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    order = np.random.default_rng(seed)
    n = len(xtr)
    per_epoch = math.ceil(n / batch_size)
    marks = {round(per_epoch * (e + (j + 1) / 2)) for e in range(epochs) for j in range(2)}

    def point(step: int) -> dict[str, float]:
        loss, acc = _evaluate(model, xte, yte)
        return {"step": step, "epoch": step / per_epoch, "test_loss": loss, "test_accuracy": acc}

    curve = [point(0)]
    bar = Progress(epochs * per_epoch, "classifier", enabled=progress)
    train_time = 0.0
    step = 0
    for epoch in range(epochs):
        perm = order.permutation(n)
        for b in range(per_epoch):
            t0 = time.perf_counter()
            idx = perm[b * batch_size:(b + 1) * batch_size]
            loss = F.cross_entropy(model(torch.from_numpy(xtr[idx])), torch.from_numpy(ytr[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            train_time += time.perf_counter() - t0
            step += 1
            bar.update(info=f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f}")
            if step in marks:
                curve.append(point(step))
    bar.close(info=f"test accuracy {curve[-1]['test_accuracy']:.3f}")
    return model, curve, train_time


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class LayerResult:
    """The reconstructions of one block's strongest activations."""

    layer: int
    maps: list[int]
    image_index: list[list[int]]  # per map, the test images (strongest first)
    labels: list[list[str]]
    activation: list[list[float]]
    zf_vs_torch_max_abs: float  # max |ZF (NumPy) - torch deconvnet backward|
    zf_scale: float  # max |ZF|, for scale
    switches_agree: float  # share of the NumPy switches equal to torch's
    corr_saliency: float  # mean correlation of ZF with plain-gradient saliency
    corr_guided: float
    corr_no_switches: float
    switch_counts: list[list[list[int]]]  # per pool up to this layer: (2, 2) winners
    positions: list[list[tuple[int, int]]]  # per map, the peak's (row, col) in the layer
    figure: str = ""
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


@dataclass
class DeconvnetResult:
    """What :func:`run_deconvnet` measured and wrote."""

    accuracy: float
    curve: list[dict[str, float]]
    train_time_s: float
    layers: list[LayerResult]
    transpose_vs_flipped_conv: float
    settings: dict[str, Any]
    files: dict[str, Path]
    markdown: str
    total_time_s: float

    @property
    def loss_factor(self) -> float:
        """Test loss at initialisation over the final test loss."""
        return self.curve[0]["test_loss"] / self.curve[-1]["test_loss"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the content of ``deconvnet.json``)."""
        layers = []
        for lr_ in self.layers:
            d = asdict(lr_)
            d.pop("arrays")
            layers.append(d)
        return {
            "experiment": "deconvnet",
            "settings": self.settings,
            "accuracy": self.accuracy,
            "loss_factor": self.loss_factor,
            "curve": self.curve,
            "train_time_s": self.train_time_s,
            "transpose_vs_flipped_conv": self.transpose_vs_flipped_conv,
            "layers": layers,
            "files": {k: str(v) for k, v in self.files.items()},
            "total_time_s": self.total_time_s,
        }


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    # mean per-image Pearson correlation
    a2 = a.reshape(len(a), -1).astype(np.float64)
    b2 = b.reshape(len(b), -1).astype(np.float64)
    a2 = a2 - a2.mean(1, keepdims=True)
    b2 = b2 - b2.mean(1, keepdims=True)
    den = np.sqrt((a2 ** 2).sum(1) * (b2 ** 2).sum(1))
    ok = den > 0
    return float(np.mean((a2 * b2).sum(1)[ok] / den[ok])) if ok.any() else 0.0


def _flipped_check(net: NumpyCNN, rng: np.random.Generator) -> float:
    # seed 001: at stride 1 the transposed convolution is a convolution with the filters
    # flipped in both spatial axes and the channel axes swapped
    worst = 0.0
    for w, p in zip(net.weights, net.paddings, strict=True):
        y = rng.standard_normal((2, w.shape[0], 9, 9)).astype(w.dtype)
        a = upconv.conv_transpose(y, w, padding=p)
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].swapaxes(0, 1))
        b = upconv.conv(y, flipped, padding=w.shape[-1] - 1 - p)
        worst = max(worst, float(np.abs(a - b).max()))
    return worst


def _select(acts: np.ndarray, n_maps: int, top_k: int, maps: Any
            ) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Maps to show and, per map, the top-k images and their activation's position."""
    peak = acts.reshape(acts.shape[0], acts.shape[1], -1).max(axis=2)  # (N, C)
    if maps is None:
        order = np.argsort(-peak.mean(axis=0), kind="stable")
        chosen = [int(c) for c in order[:n_maps]]
    else:
        chosen = [int(c) for c in maps]
    images = np.stack([np.argsort(-peak[:, c], kind="stable")[:top_k] for c in chosen])
    return chosen, images, peak


def _layer(model: SmallCNN, net: NumpyCNN, layer: int, xte: np.ndarray, yte: np.ndarray,
           acts: np.ndarray, n_maps: int, top_k: int, maps: Any) -> LayerResult:
    chosen, images, _ = _select(acts, n_maps, top_k, maps)
    flat_idx = images.reshape(-1)
    x = xte[flat_idx]
    outs, switches = net.forward(x)  # NumPy forward: activations and switches recomputed
    out = outs[layer - 1]
    top = np.zeros_like(out)
    values, pos_list = [], []
    for r, c in enumerate(np.repeat(chosen, top_k)):
        pos = np.unravel_index(int(np.argmax(out[r, c])), out.shape[2:])
        top[(r, c, *pos)] = out[(r, c, *pos)]
        values.append(float(out[(r, c, *pos)]))
        pos_list.append(pos)
    zf = zeiler_fergus(net, switches, layer, top)
    zf_blind = zeiler_fergus(net, [s.first_position() for s in switches], layer, top)
    deconv = relu_backward(model, x, layer, top, "deconvnet")
    sal = relu_backward(model, x, layer, top, "plain")
    guided = relu_backward(model, x, layer, top, "guided")

    # torch's own switches on the same images, to compare with the NumPy ones
    agree = []
    h = torch.from_numpy(x)
    with torch.no_grad():
        for i, conv in enumerate(model.convs[:layer]):
            h, idx = F.max_pool2d(F.relu(conv(h)), 2, return_indices=True)
            agree.append(float((idx.numpy() == switches[i].indices).mean()))
    return LayerResult(
        layer=layer, maps=chosen,
        image_index=[[int(v) for v in row] for row in images],
        labels=[[CLASSES[int(yte[v])] for v in row] for row in images],
        activation=[values[i * top_k:(i + 1) * top_k] for i in range(len(chosen))],
        zf_vs_torch_max_abs=float(np.abs(zf - deconv).max()),
        zf_scale=float(np.abs(zf).max()),
        switches_agree=float(np.mean(agree)),
        corr_saliency=_corr(zf, sal), corr_guided=_corr(zf, guided),
        corr_no_switches=_corr(zf, zf_blind),
        switch_counts=[s.counts(o > 0).tolist() for s, o in zip(switches[:layer], outs,
                                                                 strict=False)],
        positions=[[(int(a), int(b)) for a, b in pos_list[i * top_k:(i + 1) * top_k]]
                   for i in range(len(chosen))],
        arrays={"images": x[:, 0], "zf": zf[:, 0], "deconv": deconv[:, 0],
                "saliency": sal[:, 0], "guided": guided[:, 0], "no_switches": zf_blind[:, 0],
                "mask1": switches[0].mask().sum(axis=1).astype(np.float64)},
    )


ROWS = (
    ("images", "top images"),
    ("zf", "Zeiler-Fergus (upconv, NumPy)"),
    ("deconv", "torch backward, deconvnet ReLU"),
    ("saliency", "torch gradient (saliency)"),
    ("guided", "torch guided backprop"),
    ("no_switches", "Zeiler-Fergus, no switches"),
)


def _crop_box(layer: int, pos: tuple[int, int], size: int) -> tuple[slice, slice]:
    # the peak's receptive field centre in pixels is (2**layer) * i + (2**layer - 1) / 2
    f = 2 ** layer
    out = []
    for p in pos:
        start = int(round(f * p + (f - 1) / 2 - size / 2 + 0.5))
        out.append(slice(min(max(start, 0), 28 - size), min(max(start, 0), 28 - size) + size))
    return out[0], out[1]


CROP = {1: 10, 2: 16}
"""Crop (pixels) around a peak's receptive field (6 pixels for layer 1, 12 for layer 2)."""


def _layer_figure(res: LayerResult, top_k: int, path: Path) -> Path:
    n_maps = len(res.maps)
    size = CROP[res.layer]
    n_rows = len(ROWS)
    cols = 2 if n_maps > 1 else 1
    blocks = math.ceil(n_maps / cols)
    fig = figure(figsize=(1.6 + 0.75 * top_k * cols, 0.5 + blocks * (0.75 + 0.75 * n_rows)))
    grid = fig.add_gridspec(2 * blocks, cols, height_ratios=[1, n_rows] * blocks)
    for m, c in enumerate(res.maps):
        b, col = divmod(m, cols)
        sl = range(m * top_k, (m + 1) * top_k)
        boxes = [_crop_box(res.layer, res.positions[m][j], size) for j in range(top_k)]
        full = res.arrays["images"][m * top_k:(m + 1) * top_k].copy()
        for j, (r, q) in enumerate(boxes):  # outline the crop on the full image
            full[j, r.start, q] = full[j, r.stop - 1, q] = 0.6
            full[j, r, q.start] = full[j, r, q.stop - 1] = 0.6
        ax = fig.add_subplot(grid[2 * b, col])
        ax.imshow(mosaic(full, top_k), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"layer {res.layer}, map {c}", fontsize=8)
        ax.set_axis_off()
        rows = []
        for key, _ in ROWS:
            crops = np.stack([res.arrays[key][i][boxes[j]] for j, i in enumerate(sl)])
            rows.append(crops if key == "images" else signed(crops))
        ax = fig.add_subplot(grid[2 * b + 1, col])
        ax.imshow(mosaic(np.concatenate(rows), top_k, pad=1), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([size / 2 - 0.5 + (size + 1) * i for i in range(n_rows)],
                      labels=[label for _, label in ROWS] if col == 0 else [""] * n_rows,
                      fontsize=6)
        ax.tick_params(length=0)
    fig.suptitle(f"layer {res.layer}: strongest activations projected to pixels, {size}x{size} "
                 "crops (grey = 0)\nmax |ZF - torch deconvnet| = "
                 f"{res.zf_vs_torch_max_abs:.1e} (largest |ZF| {res.zf_scale:.2g})", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _switch_figure(results: list[LayerResult], path: Path) -> Path:
    last = results[-1]
    fig = figure(figsize=(2.2 * (len(last.switch_counts) + 4), 2.6))
    n = len(last.switch_counts)
    for i, counts in enumerate(last.switch_counts):
        ax = fig.add_subplot(1, n + 4, i + 1)
        c = np.asarray(counts, dtype=np.float64)
        ax.imshow(c / c.sum(), cmap="viridis", vmin=0, vmax=max(0.5, float((c / c.sum()).max())))
        for (r, q), v in np.ndenumerate(c / c.sum()):
            ax.text(q, r, f"{100 * v:.0f}%", ha="center", va="center", fontsize=8, color="w")
        ax.set_title(f"pool {i + 1}: where the maxima\nsit (positive windows)", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    panels = [
        (last.arrays["images"][0], f"image {last.image_index[0][0]}", False),
        (last.arrays["mask1"][0], "pool 1 switches: maps\nwith a max here", False),
        (last.arrays["zf"][0], "ZF, recorded switches", True),
        (last.arrays["no_switches"][0], "ZF, first-position\nswitches", True),
    ]
    for j, (img, title, sgn) in enumerate(panels):
        ax = fig.add_subplot(1, n + 4, n + j + 1)
        ax.imshow(signed(img) if sgn else img / max(float(img.max()), 1e-12), cmap="gray",
                  vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(title, fontsize=7)
        ax.set_axis_off()
    fig.suptitle(f"switches (layer {last.layer}, map {last.maps[0]}, strongest image)",
                 fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _markdown(res: DeconvnetResult, quick: bool) -> str:
    header = ["layer", "maps", "max abs ZF - torch deconvnet", "max abs ZF", "switches equal",
              "corr(ZF, saliency)", "corr(ZF, guided)", "corr(ZF, no switches)"]
    rows = [[str(r.layer), ", ".join(map(str, r.maps)), f"{r.zf_vs_torch_max_abs:.1e}",
             f"{r.zf_scale:.3g}", f"{100 * r.switches_agree:.2f} %", f"{r.corr_saliency:.2f}",
             f"{r.corr_guided:.2f}", f"{r.corr_no_switches:.2f}"] for r in res.layers]
    st = res.settings
    first, last = res.curve[0], res.curve[-1]
    run = "upconv experiment deconvnet" + (" --quick" if quick else "")
    lines = [
        "# Zeiler-Fergus deconvnet on a Fashion-MNIST classifier",
        "",
        f"`{run}` (seed {st['seed']}): a CNN conv 5x5 1->16, ReLU, max pool 2, conv 3x3 "
        f"16->32, ReLU, max pool 2, linear 1568->10; {st['epochs']} epoch(s) of "
        f"{st['train_size']} training images (Adam, batch {st['batch_size']}); test accuracy "
        f"{first['test_accuracy']:.3f} -> **{res.accuracy:.3f}**, test loss "
        f"{first['test_loss']:.3f} -> {last['test_loss']:.3f} ({res.loss_factor:.1f}x) on "
        f"{st['test_size']} test images; training {res.train_time_s:.1f} s, total "
        f"{res.total_time_s:.0f} s.",
        "",
        f"For each layer, the {st['maps_per_layer']} feature maps with the largest mean peak "
        f"activation and, for each, the {st['top_k']} test images where it peaks highest. The "
        "peak alone (all other activations of the layer set to zero) is projected to pixel "
        "space:",
        "",
        "* **Zeiler-Fergus with upconv's NumPy ops**: the forward pass recomputed with "
        "`upconv.conv` and `upconv.max_pool(..., return_indices=True)` (the switches, kept in a "
        "`Switches` object), then per layer `upconv.max_unpool` (unpool), `max(., 0)` "
        "(rectify), `upconv.conv_transpose` with the trained weights (filter);",
        "* **torch backward** from the same starting map with modified ReLU backward rules: "
        "*deconvnet* (pass positive gradients only), *plain* gradient (saliency), *guided* "
        "(both);",
        "* **no switches**: Zeiler-Fergus with every value unpooled to its window's first "
        "position (a bed of nails).",
        "",
        markdown_table(header, rows),
        "",
        "The Zeiler-Fergus reconstruction **is** the torch backward pass with the deconvnet "
        "ReLU rule (max difference at float32 rounding level): unpooling with the switches is "
        "max pooling's backward, the rectification is the modified ReLU's backward, and "
        "`conv_transpose` with the forward weight is the convolution's input gradient. "
        "At stride 1 that is also a convolution with the flipped filters (seed 001's "
        "question): `upconv.conv_transpose(y, W, padding=p)` and `upconv.conv(y, "
        "flip(W).swap(C_in, C_out), padding=k-1-p)` differ by at most "
        f"{res.transpose_vs_flipped_conv:.1e} here. Saliency differs: it gates by the forward "
        "input's sign instead of the signal's.",
        "",
        "## Files",
        "",
        *[f"* `{p.name}`" for k, p in res.files.items() if k != "markdown"],
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The experiment


def run_deconvnet(
    out_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    data_dir: str | Path | None = None,
    layers: Any = None,
    maps: Any = None,
    maps_per_layer: int = 4,
    top_k: int | None = None,
    epochs: int | None = None,
    threads: int = 1,
) -> DeconvnetResult:
    """Train the small CNN, reconstruct its strongest activations, compare, write figures.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the report (created if missing).
    quick : bool
        12000 training and 2000 test images, 1 epoch (default: 60000 / 10000, 2 epochs).
    seed : int
        Seeds the initial weights, the batch order and the subsets.
    progress : bool
        Progress bar and status lines on stderr.
    data_dir : str or Path, optional
        Folder with the Fashion-MNIST IDX files (default: Debian's package location).
    layers : sequence of int, optional
        Blocks to visualise, 1-based (default ``(1, 2)``).
    maps : sequence of int, optional
        Feature maps to show in every chosen layer (default: the ``maps_per_layer`` maps with
        the largest mean peak activation).
    maps_per_layer : int
        How many maps to choose when ``maps`` is not given.
    top_k : int, optional
        Images per map (default 6, quick 4).
    epochs : int, optional
        Training epochs (default 2, quick 1).
    threads : int
        ``torch.set_num_threads`` during the run (restored after); see
        :func:`upconv.experiments.run_autoencoder`.

    Returns
    -------
    DeconvnetResult
        Accuracy and its curve, per layer the numeric comparison (``zf_vs_torch_max_abs``),
        the files written, the Markdown report.

    Raises
    ------
    DatasetMissingError
        If Fashion-MNIST is not installed (``sudo apt-get install dataset-fashion-mnist``).

    Notes
    -----
    Written to ``out_dir``: ``deconvnet.md``, ``deconvnet.json``, ``deconvnet_layer<L>.png``
    per layer (rows: top images, ZF reconstruction, torch deconvnet backward, saliency, guided
    backprop, ZF without switches) and ``switches.png``.
    """
    chosen_layers = (1, 2) if layers is None else tuple(int(v) for v in layers)
    if not chosen_layers or any(v not in (1, 2) for v in chosen_layers):
        raise ValueError(f"run_deconvnet: layers={layers!r} must be a non-empty subset of "
                         "(1, 2)")
    ep = epochs if epochs is not None else (1 if quick else 2)
    k = top_k if top_k is not None else (4 if quick else 6)
    train_size, test_size = (12000, 2000) if quick else (60000, 10000)
    settings = {"seed": seed, "epochs": ep, "train_size": train_size, "test_size": test_size,
                "batch_size": 64, "lr": 2e-3, "layers": list(chosen_layers),
                "maps_per_layer": len(maps) if maps is not None else maps_per_layer,
                "top_k": k, "threads": threads, "quick": quick}
    start = time.perf_counter()
    xtr, ytr = load_split("train", data_dir, train_size, seed)
    xte, yte = load_split("test", data_dir, test_size, seed + 1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say(f"deconvnet: training the classifier on {train_size} images, {ep} epoch(s)", progress)
    with torch_settings(threads, seed):
        model, curve, train_time = train_classifier(xtr, ytr, xte, yte, epochs=ep, seed=seed,
                                                    progress=progress)
        model.eval()
        net = NumpyCNN.from_torch(model)
        with torch.no_grad():
            acts = [torch.cat(f).numpy() for f in _batched_features(model, xte)]
        results = []
        for layer in chosen_layers:
            say(f"deconvnet: layer {layer}: Zeiler-Fergus (NumPy) and torch backward rules",
                progress)
            results.append(_layer(model, net, layer, xte, yte, acts[layer - 1],
                                  maps_per_layer, k, maps))
    flipped = _flipped_check(net, np.random.default_rng(seed))
    files: dict[str, Path] = {}
    for r in results:
        p = _layer_figure(r, k, out / f"deconvnet_layer{r.layer}.png")
        r.figure = p.name
        files[f"layer{r.layer}"] = p
    files["switches"] = _switch_figure(results, out / "switches.png")
    files["markdown"] = out / "deconvnet.md"
    files["json"] = out / "deconvnet.json"
    res = DeconvnetResult(curve[-1]["test_accuracy"], curve, train_time, results, flipped,
                          settings, files, "", 0.0)
    res.total_time_s = time.perf_counter() - start
    res.markdown = _markdown(res, quick)
    files["markdown"].write_text(res.markdown)
    write_json(files["json"], res.as_dict())
    return res


def _batched_features(model: SmallCNN, x: np.ndarray) -> list[list[Tensor]]:
    outs: list[list[Tensor]] = [[], []]
    for i in range(0, len(x), 1000):
        for j, f in enumerate(model.features(torch.from_numpy(x[i:i + 1000]))):
            outs[j].append(f)
    return outs
