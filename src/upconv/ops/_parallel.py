"""Run memory-bound NumPy work on several threads (private).

NumPy's element-wise loops and copies are single-threaded but release the GIL, so splitting
an array along its batch or channel axis across a few Python threads uses every core, as
PyTorch's OpenMP loops do.  Memory-bound work goes through :func:`run_chunks`: BLAS calls are
already threaded, and calling them from several threads at once would oversubscribe the cores.
:func:`by_batch` is the exception: it runs whole kernels on shares of a batch, one per thread,
with BLAS limited to one thread (process-wide, through threadpoolctl) while it runs.

The thread count is ``UPCONV_NUM_THREADS`` if set, else the number of CPUs this process may
use; :func:`upconv.set_num_threads` changes it at run time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Below this many elements a chunk is not worth a thread hand-off (~20 µs).
MIN_ELEMENTS_PER_THREAD = 1 << 16


def _default_threads() -> int:
    env = os.environ.get("UPCONV_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
# Set in the threads of :func:`by_batch`: everything they call runs in the thread itself.
_local = threading.local()


def _serial() -> bool:
    return getattr(_local, "serial", False)


def get_num_threads() -> int:
    """The number of threads upconv's memory-bound kernels use.

    Examples
    --------
    >>> import upconv
    >>> upconv.get_num_threads() >= 1
    True
    """
    return _threads


def set_num_threads(n: int) -> None:
    """Set the number of threads of upconv's memory-bound kernels (BLAS keeps its own).

    Large batched ``conv`` / ``conv_transpose`` calls also give each of these threads a share
    of the batch, with BLAS limited to one thread (process-wide) while such a call runs.

    Parameters
    ----------
    n : int
        At least 1; 1 runs everything in the calling thread (and leaves BLAS alone).

    Examples
    --------
    >>> import upconv
    >>> old = upconv.get_num_threads()
    >>> upconv.set_num_threads(1)
    >>> upconv.get_num_threads()
    1
    >>> upconv.set_num_threads(old)
    """
    global _threads, _pool
    from .._validate import check_int

    n = check_int(n, "n", "set_num_threads", minimum=1)
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n


def run_chunks(count: int, work: int, fn: Callable[[slice], None], *, pieces: int = 1) -> None:
    """Call ``fn(chunk)`` on contiguous chunks of ``range(count)``, in parallel.

    ``work`` is the total number of elements touched, to decide whether threads pay off.
    ``fn`` must write disjoint parts of its outputs for disjoint chunks.  The range is cut
    into ``pieces`` chunks per thread, which the calling thread and the pool's threads take
    in order until none is left: a thread that wakes up late (tens of microseconds, more on
    a busy machine) then finds its chunk done by the others instead of delaying the call.
    Exceptions propagate.
    """
    threads = min(_threads, count, max(1, work // MIN_ELEMENTS_PER_THREAD))
    if threads <= 1 or _serial():
        fn(slice(0, count))
        return
    total = min(count, threads * max(1, pieces))
    bounds = [count * t // total for t in range(total + 1)]
    counter = itertools.count()  # next() is atomic under the GIL

    def pull() -> None:
        while (i := next(counter)) < total:
            fn(slice(bounds[i], bounds[i + 1]))

    _run(pull, threads)


def _run(task: Callable[[], None], threads: int) -> None:
    # task() in this thread and in threads - 1 pool threads; exceptions propagate.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="upconv")
    futures = [_pool.submit(task) for _ in range(threads - 1)]
    try:
        task()
    finally:
        for f in futures:
            f.result()


# The BLAS thread limit of by_batch is process-wide: the first caller sets it, the last
# restores it, so that overlapping calls from several threads leave it as it was.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None
_blas_controller: Any = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread (process-wide, reference-counted) inside the block."""
    global _blas_users, _blas_limiter, _blas_controller
    with _blas_lock:
        if _blas_users == 0:
            if _blas_controller is None:
                from threadpoolctl import ThreadpoolController

                _blas_controller = ThreadpoolController()
            _blas_limiter = _blas_controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def batch_threads(n: int) -> int:
    """How many threads :func:`by_batch` would use for a batch of ``n`` (1: do not split)."""
    return 1 if _serial() else min(_threads, n)


def by_batch(n: int, fn: Callable[[slice], None]) -> None:
    """Call ``fn(batch_slice)`` on one contiguous share of ``range(n)`` per thread.

    Each share runs whole in its thread, with single-threaded BLAS and no further splitting:
    gather, GEMM and scatter of a block then stay in that core's cache, instead of BLAS and
    the memory-bound passes each spreading every block over all cores in turn.
    """
    threads = batch_threads(n)
    if threads <= 1:
        fn(slice(0, n))
        return
    bounds = [n * t // threads for t in range(threads + 1)]
    counter = itertools.count()

    def share() -> None:  # pulls shares like run_chunks, so a late thread delays nothing
        _local.serial = True
        try:
            while (i := next(counter)) < threads:
                fn(slice(bounds[i], bounds[i + 1]))
        finally:
            _local.serial = False

    with single_threaded_blas():
        _run(share, threads)


def split_planes(
    shape: tuple[int, ...], work: int, fn: Callable[[tuple[slice, ...]], None]
) -> None:
    """Call ``fn(index)`` for chunks of an ``(N, C, ...)`` array, split over N or else C.

    ``index`` selects the chunk (e.g. ``(slice(0, 4),)`` or ``(slice(None), slice(0, 32))``);
    the batch axis is split when it has at least as many entries as threads.
    """
    axis = 0 if shape[0] >= min(_threads, 2) or len(shape) < 2 else 1

    def run(chunk: slice) -> None:
        fn((slice(None),) * axis + (chunk,))

    run_chunks(shape[axis], work, run)
