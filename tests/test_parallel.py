"""Thread settings of the memory-bound kernels: results must not depend on them."""

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
