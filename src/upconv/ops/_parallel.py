"""Run memory-bound NumPy work on several threads (private).

NumPy's element-wise loops and copies are single-threaded but release the GIL, so splitting
an array along its batch or channel axis across a few Python threads uses every core, as
PyTorch's OpenMP loops do.  Memory-bound work goes through :func:`run_chunks`: BLAS calls are
already threaded, and calling them from several threads at once would oversubscribe the cores.
:func:`by_batch` is the exception: it runs whole kernels on shares of a batch, one per thread,
with BLAS limited to one thread (process-wide, through threadpoolctl) while it runs.

The thread count is ``UPCONV_NUM_THREADS`` if set, else the number of CPUs this process may
use; :func:`upconv.set_num_threads` changes it at run time.  The work runs on a pool of that
many threads, each bound to one of the process's CPUs (``UPCONV_PIN=0``: not bound; more
threads than CPUs are never bound), while the calling thread waits: see :class:`_Worker`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# Below this many elements a chunk is not worth a thread hand-off (measured in session 6 on
# this VM: 60-200 µs each way, a halted vCPU to wake; the value predates that measurement).
MIN_ELEMENTS_PER_THREAD = 1 << 16


_ENVIRON = getattr(os.environ, "_data", None)  # (POSIX CPython: os.environ's bytes dict)


def switched_off(name: str) -> bool:
    """Whether the environment variable ``name`` is set to ``"0"`` (upconv's switches).

    Read on every call, as ``os.environ.get`` would (tests and users flip the switches at
    run time), but ~10x faster on POSIX: kernels ask several times per call.

    Examples
    --------
    >>> import os
    >>> os.environ["UPCONV_EXAMPLE"] = " 0 "
    >>> switched_off("UPCONV_EXAMPLE"), switched_off("UPCONV_NOT_SET")
    (True, False)
    >>> del os.environ["UPCONV_EXAMPLE"]
    """
    if type(_ENVIRON) is dict and os.name == "posix":
        value = _ENVIRON.get(name.encode())
        return value is not None and value.strip() == b"0"
    return os.environ.get(name, "").strip() == "0"


def _default_threads() -> int:
    env = os.environ.get("UPCONV_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads = _default_threads()
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
    of the batch, with BLAS limited to one thread (process-wide) while such a call runs.  The
    threads are upconv's own, each bound to one CPU of the process when there are no more of
    them than CPUs (set ``UPCONV_PIN=0`` in the environment to leave them unbound); the
    calling thread is never bound.

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
    global _threads
    from .._validate import check_int

    n = check_int(n, "n", "set_num_threads", minimum=1)
    if n != _threads:
        _stop_workers()
    _threads = n


def run_chunks(count: int, work: int, fn: Callable[[slice], None], *, pieces: int = 1) -> None:
    """Call ``fn(chunk)`` on contiguous chunks of ``range(count)``, in parallel.

    ``work`` is the total number of elements touched, to decide whether threads pay off.
    ``fn`` must write disjoint parts of its outputs for disjoint chunks.  The range is cut
    into ``pieces`` chunks per thread, which the pool's threads take in order until none is
    left: a thread that wakes up late (tens of microseconds, more on a busy machine) then
    finds its chunk done by the others instead of delaying the call.  Exceptions propagate.
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
    # task() in `threads` pool threads; exceptions propagate.
    run_each([task] * threads)


def run_each(tasks: Sequence[Callable[[], None]]) -> None:
    """Run the tasks at once, ``tasks[i]`` in pool thread ``i``, while the caller waits.

    The first exception is raised once all tasks have ended.  From a pool thread itself (or
    with one task) they run in turn in that thread.
    """
    if len(tasks) == 1 or _serial():
        for task in tasks:
            task()
        return
    workers = _workers or _start_workers()
    if len(tasks) > len(workers):
        raise ValueError(f"run_each: {len(tasks)} tasks for {len(workers)} threads")
    done = [w.submit(task) for w, task in zip(workers, tasks, strict=False)]
    error = None
    for d in done:
        d.wait()
        error = error or d.error
    if error is not None:
        raise error


class _Done(threading.Event):
    error: BaseException | None = None


class _Worker:
    """A pool thread bound to one CPU, running the tasks of its own queue in order.

    Why bound, and why the caller waits instead of taking a task itself: this virtual
    machine's scheduler packs runnable threads onto few vCPUs (its kernel runs with
    ``sched_vcpu_pack``, and idle vCPUs halt at once, so waking one costs 60-200 us).  A
    pool thread woken by the caller was put on the caller's CPU, and after an idle pause of
    the process the two then shared one CPU, or swapped CPUs and caches, for several calls:
    a batch-8 convolution took 9-11 ms for the five calls after a 0.1 s pause instead of
    5-6.5 ms with one bound thread per CPU.  A caller that takes a task itself can be packed
    onto a bound thread's CPU mid-call in the same way (interpolate nearest, batch 8: 40-50
    ms in 3 of 4 suite runs instead of 7-10), and holding it on its CPU meanwhile did not
    prevent that; with the caller waiting, the batch-1 layers ran as fast or faster (conv
    geomean 1.58 / 1.30 against 2.00 / 1.56, two suite runs each).  Tasks run in these
    threads never split further.
    """

    def __init__(self, index: int, cpu: int | None, allowed: set[int]) -> None:
        self.cpu, self.allowed = cpu, allowed
        self.tasks: queue.SimpleQueue[tuple[Callable[[], None], _Done] | None] = \
            queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=f"upconv_{index}", daemon=True)
        self.thread.start()

    def submit(self, task: Callable[[], None]) -> _Done:
        done = _Done()
        self.tasks.put((task, done))
        return done

    def _loop(self) -> None:
        if self.cpu is not None:
            with contextlib.suppress(OSError):  # (a CPU taken away from the process since)
                os.sched_setaffinity(0, {self.cpu})
                _local.bound = (self.cpu, self.allowed)
        _local.serial = True
        while (item := self.tasks.get()) is not None:
            task, done = item
            try:
                task()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                done.error = e
            del task
            done.set()

    def stop(self) -> None:
        self.tasks.put(None)
        if self.thread is not threading.current_thread():
            self.thread.join()


# One bound thread per CPU the process may use (``UPCONV_PIN=0``: unbound threads).
_PIN = os.environ.get("UPCONV_PIN", "1").strip() != "0"


_workers: list[_Worker] | None = None
_workers_lock = threading.Lock()


def _start_workers() -> list[_Worker]:
    global _workers
    with _workers_lock:
        if _workers is None:
            try:
                allowed = os.sched_getaffinity(0)
            except AttributeError:  # not on Linux
                allowed = set()
            cpus: list[int | None] = list(sorted(allowed))
            if not _PIN or len(cpus) < _threads:
                cpus = [None] * _threads
            _workers = [_Worker(i, cpus[i], allowed) for i in range(_threads)]
        return _workers


@contextlib.contextmanager
def unbound() -> Iterator[None]:
    """Inside the block, a bound pool thread may run on all the CPUs the pool started with.

    For one-time initialisations that may run in a pool thread: a library loaded there sizes
    its own thread pool, or binds its threads, by the CPUs its thread may use (numba's first
    compilation loads SciPy's OpenBLAS, which would then keep one thread for good).
    """
    bound = getattr(_local, "bound", None)
    if bound is None:
        yield
        return
    cpu, allowed = bound
    os.sched_setaffinity(0, allowed)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def _stop_workers() -> None:
    global _workers
    with _workers_lock:
        workers, _workers = _workers, None
    for w in workers or ():
        w.stop()


def _forget_workers() -> None:  # in a forked child: the threads did not come along
    global _workers
    _workers = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


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
        while (i := next(counter)) < threads:
            fn(slice(bounds[i], bounds[i + 1]))

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
