"""Accumulating matrix products through the OpenBLAS that NumPy itself uses (private).

``np.matmul`` always overwrites its output, so a sum of products ``C = sum_t A_t @ B_t`` costs a
temporary and an add per term, or an im2col copy that stacks the ``B_t`` into one matrix.  The
BLAS routine underneath takes ``beta``: ``C = A @ B + beta * C``.  With ``beta = 1`` every tap of a
convolution becomes one product accumulated in place, and since BLAS reads any matrix whose
rows are evenly spaced, ``B_t`` can be a shifted view of the input in the row layout: no copy at
all.  This module finds ``cblas_sgemm`` / ``cblas_dgemm`` in NumPy's own OpenBLAS (located with
threadpoolctl, symbol prefix and integer width read from ``openblas_get_config``), checks it
once against ``np.matmul`` and is otherwise unused: :func:`available` is False with another
BLAS, when the check fails, or when the environment variable ``UPCONV_BLAS`` is ``"0"``, and
the kernels then use their NumPy-only paths.  The GIL is released during the call (ctypes).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from ._parallel import switched_off

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_lock = threading.Lock()
_probed = False
_routines: dict[Any, Any] = {}  # dtype -> ctypes function
# Largest size or leading dimension the found routines take: 2**31 - 1 with 32-bit integers
# (LP64 builds); beyond it, gemm falls back to np.matmul and an add.
_int_limit = 2**63 - 1


def _find() -> dict[Any, Any]:
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers:
        try:
            dll = ctypes.CDLL(lib.filepath)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
            config = getattr(dll, f"{prefix}openblas_get_config{suffix}", None)
            if config is None:
                continue
            config.restype = ctypes.c_char_p
            text = (config() or b"").decode(errors="replace")
            size = ctypes.c_int64 if "USE64BITINT" in text else ctypes.c_int32
            global _int_limit
            _int_limit = 2**63 - 1 if size is ctypes.c_int64 else 2**31 - 1
            found = {}
            for dtype, name, real in ((np.float32, "sgemm", ctypes.c_float),
                                      (np.float64, "dgemm", ctypes.c_double)):
                fn = getattr(dll, f"{prefix}cblas_{name}{suffix}", None)
                if fn is None:
                    break
                fn.restype = None
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, size, size, size, real,
                               ctypes.c_void_p, size, ctypes.c_void_p, size, real,
                               ctypes.c_void_p, size]
                found[np.dtype(dtype)] = fn
            else:
                return found
    return {}


def _check() -> bool:
    # Strided views, a transposed operand and accumulation, against np.matmul.
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a: np.ndarray = rng.standard_normal((7, 12)).astype(dtype)
        b: np.ndarray = rng.standard_normal((5, 20)).astype(dtype)
        c: np.ndarray = rng.standard_normal((7, 9)).astype(dtype)
        want = np.matmul(a[:, 2:7], b[:, 3:12]) + c
        gemm(a[:, 2:7], b[:, 3:12], c, accumulate=True)
        if not np.allclose(c, want, rtol=1e-4, atol=1e-4):
            return False
        at = np.ascontiguousarray(a[:, 2:7].T)  # (5, 7), used transposed
        gemm(at.T, b[:, 3:12], c, accumulate=False)
        if not np.allclose(c, np.matmul(a[:, 2:7], b[:, 3:12]), rtol=1e-4, atol=1e-4):
            return False
    return True


def available() -> bool:
    """Whether accumulating products are used: NumPy's BLAS is OpenBLAS and ``UPCONV_BLAS != "0"``.

    Examples
    --------
    >>> from upconv.ops import _blas
    >>> isinstance(_blas.available(), bool)
    True
    """
    global _probed
    if switched_off("UPCONV_BLAS"):
        return False
    if not _probed:
        with _lock:
            if not _probed:
                try:
                    _routines.update(_find())
                    if _routines and not _check():
                        _routines.clear()
                except Exception:  # no threadpoolctl, unreadable library: NumPy-only paths
                    _routines.clear()
                _probed = True
    return bool(_routines)


def _rows(m: np.ndarray) -> tuple[bool, int]:
    # (transposed?, leading dimension) of a 2-d view with a unit stride on one axis
    item = m.itemsize
    if m.strides[1] == item or m.shape[1] == 1:
        return False, max(m.strides[0] // item, m.shape[1], 1)
    if m.strides[0] == item or m.shape[0] == 1:
        return True, max(m.strides[1] // item, m.shape[0], 1)
    raise ValueError(f"gemm: operand with strides {m.strides} has no unit stride")


def gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, *, accumulate: bool) -> None:
    """``c = a @ b`` or, with ``accumulate``, ``c += a @ b``, in place, through BLAS.

    ``a`` (M, K), ``b`` (K, N) and ``c`` (M, N) are 2-d views of one float dtype whose rows
    (or, for ``a`` and ``b``, columns) are contiguous and evenly spaced, e.g. column slices of
    a C-contiguous array or their transposes; ``c``'s rows must be contiguous.  The caller
    checks shapes (they are not validated here, beyond ``c``'s layout).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.ops import _blas
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> c = np.ones((2, 2))
    >>> if _blas.available():
    ...     _blas.gemm(np.eye(2, 3), x[:, 1:3], c, accumulate=True)
    ... else:
    ...     c += np.eye(2, 3) @ x[:, 1:3]
    >>> c
    array([[2., 3.],
           [6., 7.]])
    """
    m, n = c.shape
    k = a.shape[1]
    if c.strides[1] != c.itemsize and n > 1:
        raise ValueError(f"gemm: output with strides {c.strides} has no contiguous rows")
    if m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            c[...] = 0
        return
    ta, lda = _rows(a)
    tb, ldb = _rows(b)
    ldc = max(c.strides[0] // c.itemsize, n, 1)
    routine = _routines.get(c.dtype)
    if routine is None and not _probed:  # a first call before available(): probe now
        available()  # (while probing, _check's calls find the routines already set)
        routine = _routines.get(c.dtype)
    if routine is None or max(m, n, k, lda, ldb, ldc) > _int_limit:
        # no BLAS routine for this dtype, or too large for this BLAS's integers
        if accumulate:
            c += np.matmul(a, b)
        else:
            np.matmul(a, b, out=c)
        return
    routine(_ROW_MAJOR, _TRANS if ta else _NO_TRANS, _TRANS if tb else _NO_TRANS,
            m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb,
            1.0 if accumulate else 0.0, c.ctypes.data, ldc)
