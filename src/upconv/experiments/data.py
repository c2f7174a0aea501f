"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, read with gzip and NumPy.

The package installs the four gzipped IDX files (MIT licence, Zalando Research) under
``/usr/share/datasets/fashion-mnist``.  Nothing is ever downloaded: a missing directory or file
raises :class:`DatasetMissingError` saying how to install the package.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where ``sudo apt-get install dataset-fashion-mnist`` puts the files."""

ENV_VAR = "UPCONV_FASHION_MNIST"
"""Environment variable naming another directory with the same four files."""

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
"""Fashion-MNIST's ten class names, by label."""

INSTALL_HINT = ("install it with: sudo apt-get install dataset-fashion-mnist (or pass --data DIR "
                "naming a folder with the four IDX files)")

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
_UBYTE = 0x08


class DatasetMissingError(FileNotFoundError):
    """The Fashion-MNIST files are not where they were looked for (the message says how to fix)."""


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder to read: ``path``, else ``$UPCONV_FASHION_MNIST``, else :data:`DEFAULT_DIR`.

    Parameters
    ----------
    path : str or path-like, optional
        An explicit folder (the command line's ``--data DIR``).

    Returns
    -------
    Path
        The folder, whether or not it exists.

    Examples
    --------
    >>> str(data_dir("/tmp/fm"))
    '/tmp/fm'
    """
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_DIR


def _find(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    if not folder.is_dir():
        raise DatasetMissingError(f"Fashion-MNIST not found: the folder {folder} does not exist; "
                                  + INSTALL_HINT)
    raise DatasetMissingError(f"Fashion-MNIST not found: {folder} has no {stem}.gz (nor {stem}); "
                              + INSTALL_HINT)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped when the name ends in ``.gz``).

    Parameters
    ----------
    path : str or path-like
        ``*-idx3-ubyte[.gz]`` (images) or ``*-idx1-ubyte[.gz]`` (labels).

    Returns
    -------
    ndarray of uint8
        Shape from the header: ``(N, rows, cols)`` for images, ``(N,)`` for labels.

    Raises
    ------
    ValueError
        If the header is not an unsigned-byte IDX header or the size does not match it.

    Notes
    -----
    Header: bytes 0-1 zero, byte 2 the type (``0x08``), byte 3 the number of dimensions ``d``,
    then ``d`` big-endian 32-bit sizes, then the data in C order.
    """
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or not 1 <= raw[3] <= 4:
        raise ValueError(f"{p}: not an unsigned-byte IDX file (header {raw[:4].hex()}, expected "
                         "0000 08 0d)")
    ndim = raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(f"{p}: header says shape {shape} ({int(np.prod(shape))} bytes) but "
                         f"{len(raw) - offset} data bytes follow")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def load_fashion_mnist(
    split: str = "train", path: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images and labels of one split.

    Parameters
    ----------
    split : {'train', 'test'}
        60000 training or 10000 test images.
    path : str or path-like, optional
        Folder with the IDX files (see :func:`data_dir` for the default).

    Returns
    -------
    images : (N, 28, 28) ndarray of uint8
        Grey levels 0-255, white object on black.
    labels : (N,) ndarray of uint8
        Class indices 0-9 (names in :data:`CLASSES`).

    Raises
    ------
    DatasetMissingError
        If the folder or a file is missing; the message names ``sudo apt-get install
        dataset-fashion-mnist``.
    ValueError
        For an unknown split, a corrupt file, or images and labels of different counts.
    """
    if split not in FILES:
        raise ValueError(f"load_fashion_mnist: split={split!r} must be 'train' or 'test'")
    folder = data_dir(path)
    img_stem, lab_stem = FILES[split]
    images = read_idx(_find(folder, img_stem))
    labels = read_idx(_find(folder, lab_stem))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do "
                         "not match ((N, rows, cols) and (N,))")
    return images, labels
