"""Experiments on Fashion-MNIST: ``upconv experiment autoencoder`` and ``... deconvnet``.

* :func:`run_autoencoder`: one convolutional encoder, one decoder per
  :class:`upconv.torch.Upsample` method; test MSE/PSNR, a checkerboard-artefact score, parameter
  counts and training times, as Markdown, JSON and pictures.
* :func:`run_deconvnet`: a small CNN classifier whose strongest activations are projected back
  to pixels the Zeiler-Fergus way with upconv's NumPy ops, next to torch's saliency and
  modified-ReLU backward passes.

Both need PyTorch and matplotlib (``pip install 'upconv[torch,viz]'``) and the Debian package
``dataset-fashion-mnist`` (nothing is downloaded).  Importing this package loads neither torch
nor matplotlib: the ``run_*`` functions import their modules when called, and
:func:`add_arguments` only registers the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import CLASSES, DEFAULT_DIR, DatasetMissingError, load_fashion_mnist
from .metrics import artifact_score, power_spectrum, psnr

if TYPE_CHECKING:
    from .autoencoder import AutoencoderResult
    from .deconvnet import DeconvnetResult


def run_autoencoder(
    out_dir: str | Path,
    *,
    quick: bool = False,
    methods: Sequence[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    data_dir: str | Path | None = None,
    threads: int = 1,
) -> AutoencoderResult:
    """Compare the upsampling methods in an autoencoder (see :mod:`.autoencoder`).

    Parameters
    ----------
    out_dir : str or Path
        Folder for ``autoencoder.md``, ``autoencoder.json`` and the PNG pictures.
    quick : bool
        6000 training / 1000 test images (under a minute) instead of 60000 / 10000.
    methods : sequence of str, optional
        Subset of :data:`upconv.torch.METHODS` (default: all seven).
    epochs : int, optional
        Default 2.
    seed : int
        Initial weights, batch order, subsets.
    progress : bool
        Progress bars on stderr.
    data_dir : str or Path, optional
        Folder with the Fashion-MNIST IDX files (default ``/usr/share/datasets/fashion-mnist``).
    threads : int
        Torch threads during the run.

    Returns
    -------
    AutoencoderResult
        ``.methods`` (per-method numbers), ``.files``, ``.markdown``, ``.as_dict()``.
    """
    from .autoencoder import run_autoencoder as run

    return run(out_dir, quick=quick, methods=methods, epochs=epochs, seed=seed,
               progress=progress, data_dir=data_dir, threads=threads)


def run_deconvnet(
    out_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    data_dir: str | Path | None = None,
    layers: Sequence[int] | None = None,
    maps: Sequence[int] | None = None,
    top_k: int | None = None,
    epochs: int | None = None,
    threads: int = 1,
) -> DeconvnetResult:
    """Zeiler-Fergus reconstructions of a small CNN (see :mod:`.deconvnet`).

    Parameters
    ----------
    out_dir : str or Path
        Folder for ``deconvnet.md``, ``deconvnet.json`` and the PNG figures.
    quick : bool
        12000 training / 2000 test images, 1 epoch, 4 images per map.
    seed : int
        Initial weights, batch order, subsets.
    progress : bool
        Progress bar and status lines on stderr.
    data_dir : str or Path, optional
        Folder with the Fashion-MNIST IDX files.
    layers : sequence of int, optional
        Blocks to visualise (default ``(1, 2)``).
    maps : sequence of int, optional
        Feature maps to show (default: the 4 with the largest mean peak activation).
    top_k : int, optional
        Images per map (default 6, quick 4).
    epochs : int, optional
        Default 2 (quick 1).
    threads : int
        Torch threads during the run.

    Returns
    -------
    DeconvnetResult
        ``.accuracy``, ``.layers`` (with ``zf_vs_torch_max_abs``), ``.files``, ``.markdown``.
    """
    from .deconvnet import run_deconvnet as run

    return run(out_dir, quick=quick, seed=seed, progress=progress, data_dir=data_dir,
               layers=layers, maps=maps, top_k=top_k, epochs=epochs, threads=threads)


# ---------------------------------------------------------------------------------------------
# Command line


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated integers like "
                                         "1,2") from None


def _methods(text: str) -> list[str]:
    from ..torch import METHODS  # the argument is only parsed when the command runs

    names = [v for v in text.replace(" ", "").split(",") if v]
    bad = [v for v in names if v not in METHODS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown method(s) {', '.join(bad) or text!r}; "
                                         f"choose from {','.join(METHODS)}")
    return names


def _report(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.as_dict()
    table = [line for line in result.markdown.splitlines() if line.startswith("|")]
    lines = table + ["", "wrote:"] + [f"  {p}" for p in result.files.values()]
    data["text"] = "\n".join(lines)
    return data


def _autoencoder(args: argparse.Namespace) -> dict[str, Any]:
    res = run_autoencoder(args.out, quick=args.quick, methods=args.methods, epochs=args.epochs,
                          seed=args.seed, progress=not args.quiet, data_dir=args.data,
                          threads=args.threads)
    return _report(res)


def _deconvnet(args: argparse.Namespace) -> dict[str, Any]:
    res = run_deconvnet(args.out, quick=args.quick, seed=args.seed, progress=not args.quiet,
                        data_dir=args.data, layers=args.layers, maps=args.maps,
                        top_k=args.top_k, epochs=args.epochs, threads=args.threads)
    return _report(res)


def _common_flags(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--quick", action="store_true", help="a data subset and fewer epochs "
                   "(under a minute)")
    p.add_argument("--out", default=f"upconv-{name}",
                   help=f"folder to write (created if missing; default upconv-{name})")
    p.add_argument("--data", metavar="DIR", default=None,
                   help=f"folder with the Fashion-MNIST IDX files (default {DEFAULT_DIR}, "
                   "from: sudo apt-get install dataset-fashion-mnist)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the "
                   "fastest on a shared 2-core machine)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def add_arguments(subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register the ``autoencoder`` and ``deconvnet`` subcommands.

    Parameters
    ----------
    subparsers : argparse subparsers action
        From ``parser.add_subparsers()`` (e.g. of ``upconv experiment``).
    parents : sequence of ArgumentParser
        Parent parsers for shared flags (``--json``, ``--debug``).

    Notes
    -----
    Each subcommand sets ``run``: a function of the parsed arguments returning a dict with
    ``'text'`` (the result table and the paths written) and the JSON-ready numbers.
    """
    ae = subparsers.add_parser(
        "autoencoder", parents=list(parents),
        help="one encoder, a decoder per upsampling method, on Fashion-MNIST",
        description="Train one convolutional autoencoder per upsampling method (transposed, "
        "transposed-bilinear, nearest-conv, bilinear-conv, pixel-shuffle, unpool, "
        "bed-of-nails) with the same encoder, and write a Markdown + JSON table (test MSE, "
        "PSNR, checkerboard-artefact score, parameters, training time) and PNG pictures. "
        "Default run: a few minutes on 2 cores; --quick: under a minute.")
    _common_flags(ae, "autoencoder")
    ae.add_argument("--methods", type=_methods, default=None,
                    help="comma-separated subset of the methods (default all)")
    ae.set_defaults(run=_autoencoder)

    dc = subparsers.add_parser(
        "deconvnet", parents=list(parents),
        help="Zeiler-Fergus reconstructions with upconv's NumPy ops vs torch backward rules",
        description="Train a small CNN on Fashion-MNIST, project the strongest activations of "
        "chosen feature maps to pixels the Zeiler-Fergus way (unpool with the recorded "
        "switches, rectify, transposed filters) with upconv's NumPy ops, and compare with "
        "gradient saliency, the deconvnet-ReLU backward and guided backprop in torch. Writes a "
        "figure per layer, switches.png, deconvnet.md and deconvnet.json.")
    _common_flags(dc, "deconvnet")
    dc.add_argument("--layers", type=_int_list, default=None,
                    help="blocks to visualise, e.g. 1,2 (default both)")
    dc.add_argument("--maps", type=_int_list, default=None,
                    help="feature maps to show (default: the 4 strongest per layer)")
    dc.add_argument("--top-k", type=int, default=None, help="images per map (default 6, "
                    "quick 4)")
    dc.set_defaults(run=_deconvnet)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m upconv.experiments {autoencoder,deconvnet} ...``; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for bad arguments or missing data, 1 for a missing extra.
    """
    import json

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser = argparse.ArgumentParser(prog="python -m upconv.experiments", parents=[common],
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="EXPERIMENT", required=True)
    add_arguments(sub, [common])
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except (OSError, ValueError) as err:
        print(f"upconv: error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"upconv: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    else:
        print(result["text"])
    return 0


__all__ = [
    "CLASSES",
    "DatasetMissingError",
    "add_arguments",
    "artifact_score",
    "load_fashion_mnist",
    "main",
    "power_spectrum",
    "psnr",
    "run_autoencoder",
    "run_deconvnet",
]
