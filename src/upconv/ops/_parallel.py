"""Run memory-bound NumPy work on several threads (private).

NumPy's element-wise loops and copies are single-threaded but release the GIL, so splitting
an array along its batch or channel axis across a few Python threads uses every core, as
PyTorch's OpenMP loops do.  Only memory-bound work goes through here: BLAS calls are already
threaded, and calling them from several threads at once would oversubscribe the cores.

The thread count is ``UPCONV_NUM_THREADS`` if set, else the number of CPUs this process may
use; :func:`upconv.set_num_threads` changes it at run time.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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

    Parameters
    ----------
    n : int
        At least 1; 1 runs everything in the calling thread.

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
    global _pool
    threads = min(_threads, count, max(1, work // MIN_ELEMENTS_PER_THREAD))
    if threads <= 1:
        fn(slice(0, count))
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="upconv")
    total = min(count, threads * max(1, pieces))
    bounds = [count * t // total for t in range(total + 1)]
    counter = itertools.count()  # next() is atomic under the GIL

    def pull() -> None:
        while (i := next(counter)) < total:
            fn(slice(bounds[i], bounds[i + 1]))

    futures = [_pool.submit(pull) for _ in range(threads - 1)]
    pull()
    for f in futures:
        f.result()


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
