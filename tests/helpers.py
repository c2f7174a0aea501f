"""Helpers shared by the tests (import as ``from helpers import ...``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

torch.set_num_threads(1)

TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-5, atol=1e-8)}


def tol(dtype) -> dict:
    """Tolerances of the issue: rtol 1e-5 (float64) / 1e-4 (float32)."""
    return TOL[np.dtype(dtype).type]


def t(x: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A torch tensor sharing nothing with ``x`` (optionally requiring grad)."""
    out = torch.from_numpy(np.array(x, copy=True))
    return out.requires_grad_(grad)


def assert_close(ours, theirs, dtype=np.float64, err_msg: str = "") -> None:
    """Compare an ndarray with a torch tensor (or ndarray) with the issue's tolerances."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    assert isinstance(ours, np.ndarray), type(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape, err_msg)
    np.testing.assert_allclose(ours, theirs, err_msg=err_msg, **tol(dtype))


def frozen(*arrays: np.ndarray) -> list[np.ndarray]:
    """Copies to compare against afterwards: inputs must never be mutated."""
    return [np.array(a, copy=True) for a in arrays]


def assert_unchanged(before: list[np.ndarray], *arrays: np.ndarray) -> None:
    for b, a in zip(before, arrays, strict=True):
        np.testing.assert_array_equal(a, b, err_msg="an input array was mutated")


@contextmanager
def env_var(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` for the duration; restored (or unset again) afterwards."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old
