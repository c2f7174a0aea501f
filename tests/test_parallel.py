"""Thread settings of the memory-bound kernels: results must not depend on them."""

import importlib
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upconv
from upconv.ops import _parallel


@pytest.fixture
def threads():
    old = upconv.get_num_threads()
    yield
    upconv.set_num_threads(old)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_interpolate_is_the_same_on_any_number_of_threads(threads, n):
    upconv.set_num_threads(n)
    x = np.random.default_rng(0).standard_normal((3, 5, 40, 37)).astype(np.float32)
    for mode in ("nearest", "bilinear", "bicubic"):
        ours = upconv.interpolate(x, scale_factor=2, mode=mode)
        want = F.interpolate(torch.from_numpy(x), scale_factor=2, mode=mode).numpy()
        np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-5)


def test_run_chunks_covers_every_index_once(threads):
    upconv.set_num_threads(3)
    seen = np.zeros(1000, dtype=int)

    def fn(chunk):
        seen[chunk] += 1

    _parallel.run_chunks(1000, 1 << 30, fn)
    assert (seen == 1).all()


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("pieces", [1, 2, 5])
def test_run_chunks_pieces_cover_every_index_once_in_order(threads, n, pieces):
    # Threads pull the pieces in order; each piece is contiguous and none runs twice.
    upconv.set_num_threads(n)
    seen = np.zeros(1000, dtype=int)
    chunks = []

    def fn(chunk):
        seen[chunk] += 1
        chunks.append((chunk.start, chunk.stop))

    _parallel.run_chunks(1000, 1 << 30, fn, pieces=pieces)
    assert (seen == 1).all()
    assert len(chunks) == n * pieces
    assert all(a < b for a, b in chunks)


def test_run_chunks_propagates_errors(threads):
    upconv.set_num_threads(2)

    def fn(chunk):
        if chunk.start > 0:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _parallel.run_chunks(10, 1 << 30, fn)


def test_set_num_threads_validates():
    with pytest.raises(upconv.ShapeError, match=r"set_num_threads: n=0 must be a positive"):
        upconv.set_num_threads(0)
    with pytest.raises(TypeError, match=r"set_num_threads: n=2\.0 must be an integer"):
        upconv.set_num_threads(2.0)


def _blas_threads() -> list[int]:
    # NumPy's BLAS, the one upconv's kernels call.  (SciPy's, loaded by numba's first
    # compilation, may come after upconv's limiter was made, which then leaves it alone.)
    from threadpoolctl import threadpool_info

    found = [i["num_threads"] for i in threadpool_info()
             if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    assert found, "NumPy's BLAS not found"
    return found


def test_by_batch_runs_each_share_once_with_one_blas_thread_and_restores_it(threads):
    from threadpoolctl import threadpool_limits

    upconv.set_num_threads(3)
    seen = np.zeros(10, dtype=int)
    inside = []

    def fn(sl):
        seen[sl] += 1
        inside.append((_blas_threads(), _parallel._serial()))
        _parallel.run_chunks(100, 1 << 30, lambda c: None)  # nested: inline, no deadlock

    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        _parallel.by_batch(10, fn)
        assert _blas_threads() == before == [2] * len(before)
    assert (seen == 1).all() and len(inside) == 3
    assert all(b == [1] * len(before) and serial for b, serial in inside)
    assert not _parallel._serial()


def test_by_batch_restores_blas_threads_after_an_error(threads):
    from threadpoolctl import threadpool_limits

    upconv.set_num_threads(2)

    def fn(sl):
        if sl.start == 0:
            raise ValueError("boom")

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match="boom"):
            _parallel.by_batch(4, fn)
        assert _blas_threads() == [2] * len(_blas_threads())
    assert _parallel._blas_users == 0


def test_overlapping_calls_from_several_threads_leave_blas_as_it_was(threads):
    # The explorer serves requests on several threads: overlapping calls must give the right
    # values and leave the BLAS limit as it was.  (Whether they overlap in the harmful order
    # is up to the scheduler; test_blas_limit_is_reference_counted forces that order.)
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    upconv.set_num_threads(2)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 16, 24, 24)).astype(np.float32)
    w = rng.standard_normal((16, 8, 4, 4)).astype(np.float32)
    want = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), None, 2, 1).numpy()
    gemm = importlib.import_module("upconv.ops._gemm")
    old = gemm.MIN_BATCH_COLUMNS, gemm.MIN_BATCH_MACS
    gemm.MIN_BATCH_COLUMNS = gemm.MIN_BATCH_MACS = 1
    try:
        with threadpool_limits(2, user_api="blas"):
            with ThreadPoolExecutor(6) as ex:
                ys = list(ex.map(lambda _: upconv.conv_transpose(x, w, stride=2, padding=1),
                                 range(24)))
            assert _blas_threads() == [2] * len(_blas_threads())
    finally:
        gemm.MIN_BATCH_COLUMNS, gemm.MIN_BATCH_MACS = old
    for y in ys:
        np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


def test_blas_limit_is_reference_counted():
    # Two overlapping users, the first leaving first: BLAS stays at 1 thread until the last
    # one leaves, then returns to the original (a plain save-and-restore per user would end
    # at 1, the value the second user saw on entry).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        first, second = _parallel.single_threaded_blas(), _parallel.single_threaded_blas()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert _blas_threads() == [1] * len(_blas_threads())
        second.__exit__(None, None, None)
        assert _blas_threads() == [2] * len(_blas_threads())


def _worker_cpus():
    # {native thread id: allowed CPUs} of upconv's pool threads
    import os
    import threading

    return {t.native_id: os.sched_getaffinity(t.native_id) for t in threading.enumerate()
            if t.name.startswith("upconv_")}


def test_run_each_runs_each_task_in_its_own_bound_thread_and_leaves_the_caller_alone(threads):
    import os
    import threading

    upconv.set_num_threads(2)
    before = os.sched_getaffinity(0)
    seen = {}

    def task(i):
        seen[i] = (threading.get_native_id(), os.sched_getaffinity(0))

    _parallel.run_each([lambda: task(0), lambda: task(1)])
    assert os.sched_getaffinity(0) == before  # the caller is never bound
    ids = [tid for tid, _ in seen.values()]
    assert len(set(ids)) == 2 and threading.get_native_id() not in ids
    cpus = [aff for _, aff in seen.values()]
    if _parallel._PIN and len(before) >= 2:  # one CPU each, distinct, the caller's own
        assert all(len(a) == 1 for a in cpus) and len({min(a) for a in cpus}) == len(cpus)
        assert set().union(*cpus) <= before
    else:
        assert all(a == before for a in cpus)


def test_more_threads_than_cpus_are_not_bound(threads):
    import os

    upconv.set_num_threads(len(os.sched_getaffinity(0)) + 1)
    _parallel.run_chunks(100, 1 << 30, lambda chunk: None)
    affinities = list(_worker_cpus().values())
    assert len(affinities) == upconv.get_num_threads()
    assert all(a == os.sched_getaffinity(0) for a in affinities)


def test_run_each_propagates_the_first_error_after_every_task_ended(threads):
    import time

    upconv.set_num_threads(2)
    ended = []

    def slow():
        time.sleep(0.05)
        ended.append("slow")

    def bad():
        raise ValueError("bad task")

    with pytest.raises(ValueError, match="bad task"):
        _parallel.run_each([bad, slow])
    assert ended == ["slow"]
    upconv.set_num_threads(1)
    with pytest.raises(ValueError, match="2 tasks for 1 threads"):
        _parallel.run_each([slow, slow])


def test_tasks_in_pool_threads_never_split_further(threads):
    # A task that calls run_chunks or by_batch (as a kernel run on a share does) runs them in
    # its own thread: waiting for its own pool would deadlock.
    upconv.set_num_threads(2)
    inner = []

    def task():
        _parallel.run_chunks(1000, 1 << 30, lambda c: inner.append((c.start, c.stop)))
        _parallel.by_batch(8, lambda s: inner.append((s.start, s.stop)))

    _parallel.run_each([task, task])
    assert sorted(inner) == [(0, 8), (0, 8), (0, 1000), (0, 1000)]


def test_a_forked_child_starts_its_own_pool():
    # (in a fresh interpreter: forking this one, with JAX's threads in it, warns)
    import subprocess
    import sys

    code = """if True:
        import os
        import numpy as np
        import upconv
        from upconv.ops import _parallel
        upconv.set_num_threads(2)
        _parallel.run_chunks(100, 1 << 30, lambda chunk: None)  # the parent's pool runs
        out = np.zeros(100, dtype=np.int64)

        def fn(chunk):
            out[chunk] = np.arange(chunk.start, chunk.stop)

        pid = os.fork()
        if pid == 0:
            _parallel.run_chunks(100, 1 << 30, fn)
            os._exit(0 if out.sum() == 4950 else 3)
        print(os.waitpid(pid, 0)[1])
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["0"]


def test_numba_initialised_in_a_bound_thread_leaves_scipys_blas_all_cpus():
    # In a fresh interpreter numba's first compilation (which loads SciPy's OpenBLAS) happens
    # inside a pool thread bound to one CPU: the BLAS must still see every CPU.
    import subprocess
    import sys

    code = """if True:
        import os
        from threadpoolctl import threadpool_info
        from upconv.ops import _numba, _parallel
        assert _numba.available()
        _parallel.run_each([_numba._compiled] + [lambda: None] * (_parallel._threads - 1))
        scipy = [i["num_threads"] for i in threadpool_info()
                 if i["user_api"] == "blas" and "scipy.libs" in i["filepath"]]
        print(scipy, len(os.sched_getaffinity(0)))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300).stdout.split()
    assert out[0] == f"[{out[1]}]"


def test_switches_are_read_on_every_call(monkeypatch):
    # upconv's UPCONV_* switches are read each time (a fast path over os.environ's own dict):
    # set, changed and removed at run time, through os.environ and through monkeypatch.
    name = "UPCONV_TEST_SWITCH"
    monkeypatch.delenv(name, raising=False)
    assert not _parallel.switched_off(name)
    monkeypatch.setenv(name, "0")
    assert _parallel.switched_off(name)
    monkeypatch.setenv(name, " 1")
    assert not _parallel.switched_off(name)
    os.environ[name] = "0 "
    assert _parallel.switched_off(name)
    del os.environ[name]
    assert not _parallel.switched_off(name)
    monkeypatch.setenv("UPCONV_TILES", "0")
    assert not importlib.import_module("upconv.ops._tiles").available(np.float32)
