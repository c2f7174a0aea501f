"""Thread settings of the memory-bound kernels: results must not depend on them."""

import importlib

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
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


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
