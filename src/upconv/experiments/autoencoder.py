"""One convolutional encoder, one decoder per upsampling method, trained on Fashion-MNIST.

Seed 003 asks what separates "upsampling" from "transposed convolution" in a convolutional
autoencoder, seed 000 what pooling becomes on the way up.  This experiment answers with
numbers: every method of :class:`upconv.torch.Upsample` decodes the same bottleneck of the
same encoder, trained the same way, and is scored on reconstruction error and on the
checkerboard artefact (energy at the stride's spatial frequency).

The network (28x28 grey images)::

    encoder  conv 3x3 1->8, ReLU, max pool 2 (switches 1) -> 14x14
             conv 3x3 8->16, ReLU, max pool 2 (switches 2) -> 7x7
             conv 1x1 16->4                                -> bottleneck 4x7x7 (196 numbers)
    decoder  conv 3x3 4->16, ReLU                          -> 7x7
             Upsample(16->8, x2, method), ReLU             -> 14x14   (unpool: switches 2)
             Upsample(8->1, x2, method)                    -> 28x28 logits (unpool: switches 1)

The loss is binary cross-entropy on the logits (pixels in [0, 1] as targets): with a sigmoid
and MSE, bilinear-conv and pixel-shuffle decoders can stall at an all-black output (a trial on
MNIST did); BCE's gradient does not vanish there.
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

from ..torch import METHODS, Upsample, checkerboard_report, paired_max_pool
from ._common import (
    Progress,
    figure,
    load_split,
    markdown_table,
    mosaic,
    save_figure,
    say,
    stretch,
    torch_settings,
    write_json,
)
from .data import CLASSES
from .metrics import artifact_score, power_spectrum, psnr

FACTOR = 4
"""Total upsampling factor of the decoder (two stride-2 layers)."""

INTERIOR = (slice(None), slice(4, 24), slice(4, 24))
"""The central 20x20 of the 28x28 outputs, where the artefact is measured: zero padding makes a
frame along the borders that is not a stride pattern (20 is a multiple of the period 4)."""

FLAT_LEVELS = tuple(round(v, 2) for v in np.linspace(0.0, 1.0, 11))
"""Grey levels of the flat (constant) test inputs."""


@dataclass(frozen=True)
class Settings:
    """Everything that is the same for every method of one run."""

    methods: tuple[str, ...]
    epochs: int
    train_size: int
    test_size: int
    curve_size: int
    batch_size: int = 128
    lr: float = 2e-3
    channels: tuple[int, int] = (8, 16)
    bottleneck: int = 4
    seed: int = 0
    threads: int = 1
    evals_per_epoch: int = 2
    quick: bool = False


def settings_for(quick: bool, methods: Any = None, epochs: int | None = None, seed: int = 0,
                 threads: int = 1) -> Settings:
    """The default run (full data, 2 epochs) or the quick one (6000 / 1000 images, 2 epochs)."""
    chosen = tuple(METHODS) if methods is None else tuple(methods)
    bad = [m for m in chosen if m not in METHODS]
    if bad or not chosen:
        raise ValueError(f"run_autoencoder: methods={list(chosen)} must be a non-empty list of "
                         + ", ".join(METHODS))
    if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
        raise ValueError(f"run_autoencoder: epochs={epochs!r} must be a positive integer")
    if quick:
        return Settings(chosen, epochs or 2, 6000, 1000, 1000, seed=seed, threads=threads,
                        quick=True)
    return Settings(chosen, epochs or 2, 60000, 10000, 2000, seed=seed, threads=threads)


class Autoencoder(nn.Module):
    """The experiment's network: fixed encoder, decoder upsampling with ``method``.

    Parameters
    ----------
    method : str
        One of :data:`upconv.torch.METHODS`.
    channels : (int, int)
        Encoder widths at 28x28 and 14x14 (the decoder mirrors them).
    bottleneck : int
        Channels of the 7x7 code.
    seed : int
        The encoder is initialised from ``seed`` (identical for every method), the decoder
        from ``seed + 1``.
    """

    def __init__(self, method: str, *, channels: tuple[int, int] = (8, 16),
                 bottleneck: int = 4, seed: int = 0) -> None:
        super().__init__()
        c1, c2 = channels
        self.method = method
        torch.manual_seed(seed)
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.pool1 = paired_max_pool(2)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.pool2 = paired_max_pool(2)
        self.squeeze = nn.Conv2d(c2, bottleneck, 1)
        torch.manual_seed(seed + 1)
        self.expand = nn.Conv2d(bottleneck, c2, 3, padding=1)
        self.up1 = Upsample(c2, c1, 2, method=method)
        self.up2 = Upsample(c1, 1, 2, method=method)

    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``(N, 1, 28, 28)`` images -> ``(N, bottleneck, 7, 7)`` code and the two switches."""
        h, s1 = self.pool1(F.relu(self.conv1(x)))
        h, s2 = self.pool2(F.relu(self.conv2(h)))
        return self.squeeze(h), (s1, s2)

    def decode(self, z: Tensor, switches: tuple[Tensor, Tensor]) -> Tensor:
        """Code -> ``(N, 1, 28, 28)`` logits; only ``'unpool'`` reads the switches."""
        s1, s2 = switches if self.method == "unpool" else (None, None)
        h = F.relu(self.expand(z))
        h = F.relu(self.up1(h, indices=s2))
        out: Tensor = self.up2(h, indices=s1)
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Images in [0, 1] -> logits of the reconstruction."""
        z, switches = self.encode(x)
        return self.decode(z, switches)

    def upsampling_parameters(self) -> int:
        """Parameters of the two upsampling layers (the only part that differs by method)."""
        return sum(p.numel() for m in (self.up1, self.up2) for p in m.parameters())


@dataclass
class MethodResult:
    """One decoder's numbers (see :func:`run_autoencoder`)."""

    method: str
    params_upsampling: int
    params_total: int
    test_mse: float
    psnr_db: float
    test_bce: float
    artifact_test: float
    artifact_flat: float
    linter_layers: list[float]
    linter_stack: float | None
    train_time_s: float
    curve: list[dict[str, float]] = field(default_factory=list)

    @property
    def learning_factor(self) -> float:
        """Test MSE at the first evaluation (initialisation) over the last one."""
        last = self.curve[-1]["test_mse"]
        return math.inf if last == 0 else self.curve[0]["test_mse"] / last


@dataclass
class AutoencoderResult:
    """What :func:`run_autoencoder` measured and wrote.

    Attributes
    ----------
    methods : list of MethodResult
        One per method, in the order run.
    baseline_artifact_test : float
        The artefact score of the test images themselves (what a perfect decoder scores).
    settings : Settings
    files : dict of str to Path
        ``'markdown'``, ``'json'``, ``'recon_<method>'``, ``'recon_all'``, ``'spectra'``,
        ``'curves'``.
    markdown : str
        The report written to ``files['markdown']``.
    total_time_s : float
        Wall time of the whole run.
    """

    methods: list[MethodResult]
    baseline_artifact_test: float
    settings: Settings
    files: dict[str, Path]
    markdown: str
    total_time_s: float

    def __getitem__(self, method: str) -> MethodResult:
        """The result of one method by name."""
        for r in self.methods:
            if r.method == method:
                return r
        raise KeyError(method)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the content of ``autoencoder.json``)."""
        return {
            "experiment": "autoencoder",
            "settings": asdict(self.settings),
            "baseline_artifact_test": self.baseline_artifact_test,
            "methods": [dict(asdict(r), learning_factor=r.learning_factor)
                        for r in self.methods],
            "files": {k: str(v) for k, v in self.files.items()},
            "total_time_s": self.total_time_s,
        }


# ---------------------------------------------------------------------------------------------
# Training and evaluation


def _predict(model: Autoencoder, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """Sigmoid outputs, (N, 28, 28) float32."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(torch.sigmoid(model(torch.from_numpy(x[i:i + batch]))).numpy())
    model.train()
    return np.concatenate(out)[:, 0]


def _losses(recon: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Test MSE and BCE of sigmoid outputs against images in [0, 1] (float64 sums)."""
    target = x[:, 0].astype(np.float64)
    r = np.clip(recon.astype(np.float64), 1e-7, 1 - 1e-7)
    mse = float(np.mean((r - target) ** 2))
    bce = float(np.mean(-(target * np.log(r) + (1 - target) * np.log1p(-r))))
    return mse, bce


def _train(method: str, xtr: np.ndarray, xcurve: np.ndarray, st: Settings, progress: bool
           ) -> tuple[Autoencoder, float, list[dict[str, float]]]:
    model = Autoencoder(method, channels=st.channels, bottleneck=st.bottleneck, seed=st.seed)
    opt = torch.optim.Adam(model.parameters(), lr=st.lr)
    order = np.random.default_rng(st.seed)  # the same batches, in the same order, for all
    n = len(xtr)
    per_epoch = math.ceil(n / st.batch_size)
    total = st.epochs * per_epoch
    marks = {round(per_epoch * (e + (j + 1) / st.evals_per_epoch))
             for e in range(st.epochs) for j in range(st.evals_per_epoch)}

    def evaluate(step: int) -> dict[str, float]:
        mse, bce = _losses(_predict(model, xcurve), xcurve)
        return {"step": step, "epoch": step / per_epoch, "test_mse": mse, "test_bce": bce}

    curve = [evaluate(0)]
    bar = Progress(total, f"{method:>19}", enabled=progress)
    train_time = 0.0
    step = 0
    for epoch in range(st.epochs):
        perm = order.permutation(n)
        for b in range(per_epoch):
            t0 = time.perf_counter()
            x = torch.from_numpy(xtr[perm[b * st.batch_size:(b + 1) * st.batch_size]])
            loss = F.binary_cross_entropy_with_logits(model(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            train_time += time.perf_counter() - t0
            step += 1
            bar.update(info=f"epoch {epoch + 1}/{st.epochs} loss {loss.item():.4f}")
            if step in marks:
                curve.append(evaluate(step))
    bar.close(info=f"test MSE {curve[0]['test_mse']:.4f} -> {curve[-1]['test_mse']:.4f}")
    return model, train_time, curve


def _linter(model: Autoencoder) -> tuple[list[float], float | None]:
    # upconv.torch's geometric verdict: each upsampling layer's max/min tap coverage, and the
    # composed stack's where the 28x28 output has an interior out of the borders' reach
    rep = checkerboard_report(model, (1, 1, 28, 28))
    stack = rep.stack.ratio if rep.stack is not None else None
    return [lr.ratio for lr in rep.layers], stack


@dataclass
class _Pictures:
    samples: np.ndarray  # (10, 28, 28) reconstructions of one test image per class
    flat: np.ndarray  # (levels, 28, 28) reconstructions of flat inputs
    spectrum_test: np.ndarray  # (28, 28) mean power spectrum of the test reconstructions
    spectrum_flat: np.ndarray


def _one_method(method: str, xtr: np.ndarray, xte: np.ndarray, xcurve: np.ndarray,
                sample_idx: np.ndarray, st: Settings, progress: bool
                ) -> tuple[MethodResult, _Pictures]:
    model, train_time, curve = _train(method, xtr, xcurve, st, progress)
    recon = _predict(model, xte)
    mse, bce = _losses(recon, xte)
    flat_in = np.broadcast_to(np.asarray(FLAT_LEVELS, dtype=np.float32)[:, None, None, None],
                              (len(FLAT_LEVELS), 1, 28, 28)).copy()
    flat = _predict(model, flat_in)
    layers, stack = _linter(model)
    result = MethodResult(
        method=method,
        params_upsampling=model.upsampling_parameters(),
        params_total=sum(p.numel() for p in model.parameters()),
        test_mse=mse, psnr_db=psnr(mse), test_bce=bce,
        artifact_test=artifact_score(recon[INTERIOR], FACTOR),
        artifact_flat=artifact_score(flat[INTERIOR], FACTOR),
        linter_layers=layers, linter_stack=stack, train_time_s=train_time, curve=curve,
    )
    pics = _Pictures(recon[sample_idx], flat, power_spectrum(recon[INTERIOR]),
                     power_spectrum(flat[INTERIOR]))
    return result, pics


# ---------------------------------------------------------------------------------------------
# Pictures


def _recon_figure(method: str, targets: np.ndarray, pics: _Pictures, path: Path) -> Path:
    fig = figure(figsize=(7.6, 3.9))
    rows = [
        (mosaic(targets, 10), "test images (one per class)", (0, 1)),
        (mosaic(pics.samples, 10), f"{method}: reconstructions", (0, 1)),
        (mosaic(stretch(pics.flat), len(FLAT_LEVELS)),
         f"outputs for flat inputs at grey {FLAT_LEVELS[0]:g}, {FLAT_LEVELS[1]:g}, ..., "
         f"{FLAT_LEVELS[-1]:g} (each contrast-stretched)", (0, 1)),
    ]
    for i, (img, title, (lo, hi)) in enumerate(rows):
        ax = fig.add_subplot(3, 1, i + 1)
        ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return save_figure(fig, path)


def _overview_figure(results: list[MethodResult], targets: np.ndarray,
                     pics: dict[str, _Pictures], path: Path) -> Path:
    n = len(results)
    fig = figure(figsize=(8.4, 0.95 * (n + 1) + 0.4))
    mid = len(FLAT_LEVELS) // 2
    for i in range(n + 1):
        ax = fig.add_subplot(n + 1, 1, i + 1)
        if i == 0:
            row = np.concatenate([targets, np.full((1, 28, 28), 0.5)])
            label = "test images"
        else:
            r = results[i - 1]
            row = np.concatenate([pics[r.method].samples,
                                  stretch(pics[r.method].flat[mid:mid + 1])])
            label = (f"{r.method}   MSE {r.test_mse:.4f}, artefact flat "
                     f"{r.artifact_flat:.2e}")
        ax.imshow(mosaic(row, len(row)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=8, loc="left")
        ax.set_axis_off()
    fig.suptitle(f"reconstructions; last column: output for a flat {FLAT_LEVELS[mid]:g} input "
                 "(contrast-stretched)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def _spectra_figure(results: list[MethodResult], baseline: np.ndarray,
                    pics: dict[str, _Pictures], path: Path) -> Path:
    n = len(results)
    fig = figure(figsize=(1.55 * (n + 1) + 0.6, 3.8))
    # the artefact frequencies, after fftshift (DC at index n/2): ticks on both axes
    n_px = baseline.shape[0]
    ticks = sorted({(round(k * n_px / FACTOR) + n_px // 2) % n_px for k in range(FACTOR)})
    cols: list[tuple[str, np.ndarray | None, np.ndarray]] = [("test images", None, baseline)]
    cols += [(r.method, pics[r.method].spectrum_flat, pics[r.method].spectrum_test)
             for r in results]
    im = None
    for j, (name, flat, test) in enumerate(cols):
        for i, spec in enumerate((test, flat)):
            ax = fig.add_subplot(2, n + 1, i * (n + 1) + j + 1)
            if spec is None:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "flat inputs:\nthe ideal output\nhas only the mean",
                        ha="center", va="center", fontsize=7, transform=ax.transAxes)
                continue
            im = ax.imshow(np.log10(np.fft.fftshift(spec) + 1e-12), cmap="magma",
                           interpolation="nearest", vmin=-8, vmax=2)
            ax.set_xticks(ticks, labels=[])
            ax.set_yticks(ticks, labels=[])
            ax.tick_params(length=4, width=1.2, color="tab:cyan", direction="out")
            if i == 0:
                ax.set_title(name, fontsize=7)
            if j == 0 or (j == 1 and i == 1):
                ax.set_ylabel("test images" if i == 0 else "flat inputs", fontsize=7)
    fig.suptitle(f"log10 mean power spectrum of the outputs' central {n_px}x{n_px}, DC at the "
                 f"centre\ncyan ticks: the stride frequencies k*{n_px}/{FACTOR} (periods 4 "
                 "and 2)", fontsize=8)
    fig.tight_layout(rect=(0, 0, 0.96, 1))
    if im is not None:
        fig.colorbar(im, ax=fig.axes, fraction=0.015, pad=0.01)
    return save_figure(fig, path)


def _curves_figure(results: list[MethodResult], path: Path) -> Path:
    fig = figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    for r in results:
        ax.plot([c["epoch"] for c in r.curve], [c["test_mse"] for c in r.curve], marker=".",
                label=r.method)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test MSE (curve subset)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


# ---------------------------------------------------------------------------------------------
# Report


def _fairness(st: Settings, results: list[MethodResult]) -> list[str]:
    c1, c2 = st.channels
    windows = c1 * 14 * 14 + c2 * 7 * 7
    params = ", ".join(f"{r.method} {r.params_upsampling}" for r in results)
    notes = [
        "**The same for every method**: the encoder (architecture and initial weights: both "
        f"seeded with {st.seed}), the bottleneck ({st.bottleneck}x7x7 = {st.bottleneck * 49} "
        "numbers for 784 pixels), the decoder's layout (a 3x3 convolution, then two x2 "
        "upsampling layers with a ReLU between), the loss (BCE on logits), the optimiser (Adam, "
        f"lr {st.lr:g}), {st.epochs} epochs of {st.train_size} images in batches of "
        f"{st.batch_size}, the same batches in the same order, {st.threads} thread(s), "
        "deterministic algorithms.",
    ]
    if "unpool" in st.methods:
        notes.append(
            "**Not fair: `unpool`** also receives the encoder's max-pool switches, the position "
            f"of every window's maximum ({windows} windows, 2 bits each = {2 * windows} bits) "
            "besides the bottleneck: a side channel from encoder to decoder (SegNet's design). "
            "Its error is not a compression result comparable with the others'. On flat inputs "
            "every window ties, the switches all point at the first position, and `unpool` "
            "behaves like `bed-of-nails`.")
    notes.append(
        f"**Parameter counts differ** (upsampling layers: {params}): `transposed` kernels "
        "are 4x4 (k = 2s, even overlap), the resize, unpool and bed-of-nails convolutions 3x3, "
        "`pixel-shuffle` has a 3x3 convolution per output phase (4x the channels). Each method "
        "uses upconv.torch.Upsample's defaults; the counts are reported, not equalised.")
    if "transposed-bilinear" in st.methods:
        notes.append(
            "**Initialisation differs by design**: `transposed-bilinear` starts as bilinear "
            "interpolation and `pixel-shuffle` with ICNR (nearest-like, no checkerboard at "
            "step 0); the others start from PyTorch's default initialisation.")
    notes.append(
        "**Training time** is wall time of the optimisation steps only, on a shared machine: "
        "treat differences below ~30 % as noise.")
    return notes


def _markdown(res_methods: list[MethodResult], baseline: float, st: Settings,
              files: dict[str, Path], total: float) -> str:
    header = ["method", "params (upsampling / total)", "test MSE", "PSNR (dB)",
              "artefact, test images", "artefact, flat inputs", "linter max/min",
              "MSE first/last", "train time (s)"]
    rows = [["*(the test images themselves)*", "", "", "", f"{baseline:.2e}", "0", "", "", ""]]
    for r in res_methods:
        lint = ("even" if all(v == 1 for v in r.linter_layers) else
                ", ".join(f"{v:g}" for v in r.linter_layers)
                + ("" if r.linter_stack is None else f" (stack {r.linter_stack:g})"))
        rows.append([f"`{r.method}`", f"{r.params_upsampling} / {r.params_total}",
                     f"{r.test_mse:.5f}", f"{r.psnr_db:.2f}", f"{r.artifact_test:.2e}",
                     f"{r.artifact_flat:.2e}", lint, f"{r.learning_factor:.1f}x",
                     f"{r.train_time_s:.1f}"])
    run = "upconv experiment autoencoder" + (" --quick" if st.quick else "")
    lines = [
        "# Autoencoder: one encoder, one decoder per upsampling method (Fashion-MNIST)",
        "",
        f"`{run}` (seed {st.seed}): {st.train_size} training images, {st.epochs} epochs, "
        f"scored on {st.test_size} test images; total wall time {total:.0f} s.",
        "",
        markdown_table(header, rows),
        "",
        "* **test MSE / PSNR**: sigmoid outputs against the images in [0, 1]; PSNR = "
        "10 log10(1 / MSE) over the whole test set.",
        "* **artefact**: share of the outputs' energy (2-D FFT power of the central 20x20, "
        "away from the zero-padding frame; mean included in the total) at the decoder's stride "
        f"frequencies, the bins k*20/{FACTOR} in each axis (periods 4 and 2), excluding the "
        "mean; on the test reconstructions (compare with the "
        f"test images' own score in the first row) and on flat inputs at grey levels "
        f"{', '.join(f'{v:g}' for v in FLAT_LEVELS)} (a perfect decoder: 0).",
        "* **linter max/min**: `upconv.torch.checkerboard_report` on the trained model: how "
        "unevenly each upsampling layer's kernel taps overlap (max/min coverage, 1 = even; "
        "with the composed stack's where it has an interior). Geometry only: learned weights "
        "can compensate, and pixel-shuffle's phases depend on their weights.",
        "* **MSE first/last**: test MSE at initialisation over test MSE after training "
        f"(evaluated {st.evals_per_epoch}x per epoch on {st.curve_size} test images).",
        "",
        "## Is the comparison fair?",
        "",
        *[f"* {n}" for n in _fairness(st, res_methods)],
        "",
        "## Files",
        "",
        *[f"* `{p.name}`" for k, p in files.items() if k != "markdown"],
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The experiment


def run_autoencoder(
    out_dir: str | Path,
    *,
    quick: bool = False,
    methods: Any = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    data_dir: str | Path | None = None,
    threads: int = 1,
) -> AutoencoderResult:
    """Train the autoencoder once per upsampling method and write the comparison.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the report (created if missing).
    quick : bool
        6000 training and 1000 test images instead of 60000 and 10000 (well under a minute).
    methods : sequence of str, optional
        Subset of :data:`upconv.torch.METHODS` (default all seven).
    epochs : int, optional
        Default 2.
    seed : int
        Seeds the initial weights, the batch order and the subsets.
    progress : bool
        A progress bar per method on stderr.
    data_dir : str or Path, optional
        Folder with the Fashion-MNIST IDX files (default: Debian's package location).
    threads : int
        ``torch.set_num_threads`` during the run (restored after).  One thread by default:
        on a 2-core machine shared with other jobs, two OpenMP threads were up to 15x slower
        whenever the other core was busy.

    Returns
    -------
    AutoencoderResult
        Per-method numbers (``result['transposed'].test_mse`` ...), the files written, the
        Markdown report.

    Raises
    ------
    DatasetMissingError
        If Fashion-MNIST is not installed (``sudo apt-get install dataset-fashion-mnist``).

    Notes
    -----
    Written to ``out_dir``: ``autoencoder.md`` and ``autoencoder.json`` (the table),
    ``recon_<method>.png`` (test images, reconstructions, outputs for flat inputs),
    ``recon_all.png`` (every method, one row each), ``spectra.png`` (mean power spectra with
    the stride's frequency bins marked) and ``curves.png`` (test MSE during training).
    """
    st = settings_for(quick, methods, epochs, seed, threads)
    start = time.perf_counter()
    xtr, _ = load_split("train", data_dir, st.train_size, seed)
    xte, yte = load_split("test", data_dir, st.test_size, seed + 1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    xcurve = xte[:st.curve_size]
    sample_idx = np.array([int(np.flatnonzero(yte == c)[0]) for c in range(len(CLASSES))])
    targets = xte[sample_idx, 0]
    say(f"autoencoder: {len(st.methods)} decoders, {st.train_size} training images, "
        f"{st.epochs} epochs", progress)

    results: list[MethodResult] = []
    pics: dict[str, _Pictures] = {}
    with torch_settings(st.threads, seed):
        for method in st.methods:
            r, p = _one_method(method, xtr, xte, xcurve, sample_idx, st, progress)
            results.append(r)
            pics[method] = p

    baseline = artifact_score(xte[:, 0][INTERIOR], FACTOR)
    files: dict[str, Path] = {}
    for r in results:
        files[f"recon_{r.method}"] = _recon_figure(r.method, targets, pics[r.method],
                                                   out / f"recon_{r.method}.png")
    files["recon_all"] = _overview_figure(results, targets, pics, out / "recon_all.png")
    files["spectra"] = _spectra_figure(results, power_spectrum(xte[:, 0][INTERIOR]), pics,
                                       out / "spectra.png")
    files["curves"] = _curves_figure(results, out / "curves.png")
    files["markdown"] = out / "autoencoder.md"
    files["json"] = out / "autoencoder.json"
    total = time.perf_counter() - start
    text = _markdown(results, baseline, st, files, total)
    files["markdown"].write_text(text)
    result = AutoencoderResult(results, baseline, st, files, text, total)
    write_json(files["json"], result.as_dict())
    return result
