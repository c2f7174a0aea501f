"""max_unpool / unpool and their backward functions against real PyTorch."""

from __future__ import annotations

import contextlib
import importlib
import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, frozen, t
from upconv import ShapeError
from upconv.ops import _parallel

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
MAX_UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
DTYPES = [np.float32, np.float64]

SEED_002 = np.array([[1, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]], dtype=np.float64)


@st.composite
def roundtrip_cases(draw):
    """A max pooling of an odd-sized input (torch), to be undone by max unpooling."""
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    span = 3 if nd == 3 else 6
    size = tuple(draw(st.integers(max(1, ki - 2 * pi), max(1, ki - 2 * pi) + span))
                 for ki, pi in zip(k, p, strict=True))
    is_batched = draw(st.booleans())
    lead = (draw(st.integers(1, 2)),) if is_batched else ()
    shape = (*lead, draw(st.integers(1, 3)), *size)
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 4, size=shape).astype(dtype)  # ties: repeated switches happen
    ceil_mode = draw(st.booleans())
    pooled, idx = MAX_POOL[nd](t(x), k, s, p, 1, ceil_mode, return_indices=True)
    pooled, idx = pooled.numpy(), idx.numpy()
    if all(si >= ki for si, ki in zip(s, k, strict=True)):
        # non-overlapping windows never repeat a switch, so any values may be unpooled
        pooled = rng.standard_normal(pooled.shape).astype(dtype)
    default = tuple((o - 1) * si - 2 * pi + ki
                    for o, si, pi, ki in zip(pooled.shape[-nd:], s, p, k, strict=True))
    choice = draw(st.sampled_from(["none", "input", "full", "random"]))
    out_size = None
    if choice == "input":
        out_size = size
    elif choice == "full":
        out_size = (*shape[:-nd], *size)
    elif choice == "random":
        out_size = tuple(draw(st.integers(max(1, dd - si + 1), dd + si - 1))
                         for dd, si in zip(default, s, strict=True))
    if math.prod(default if out_size is None else out_size[-nd:]) <= idx.max():
        out_size = size  # the switches must fit the output plane
    return dict(nd=nd, x=pooled, indices=idx, kernel_size=k, stride=s, padding=p,
                output_size=out_size, size=size)


def _torch_output_size(case):
    """torch wants the spatial size or (N, C, *spatial); it has no (C, *spatial) form."""
    o = case["output_size"]
    return None if o is None else list(o[-case["nd"]:])


@given(roundtrip_cases())
def test_max_unpool_matches_torch(case):
    x, idx, nd = case["x"], case["indices"], case["nd"]
    args = (case["kernel_size"], case["stride"], case["padding"])
    before = frozen(x, idx)
    ours = upconv.max_unpool(x, idx, *args, output_size=case["output_size"])
    ref = MAX_UNPOOL[nd](t(x), t(idx), *args, output_size=_torch_output_size(case))
    assert ours.dtype == x.dtype
    np.testing.assert_array_equal(ours, ref.numpy())
    assert_unchanged(before, x, idx)


@given(roundtrip_cases())
def test_max_unpool_backward_matches_torch(case):
    x, idx, nd = case["x"], case["indices"], case["nd"]
    args = (case["kernel_size"], case["stride"], case["padding"])
    xt = t(x, grad=True)
    y = MAX_UNPOOL[nd](xt, t(idx), *args, output_size=_torch_output_size(case))
    g = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(x.dtype)
    y.backward(t(g))
    before = frozen(x, idx, g)
    ours = upconv.max_unpool_backward(g, x, idx, *args, output_size=case["output_size"])
    assert ours.dtype == x.dtype
    assert_close(ours, xt.grad, x.dtype)
    assert_unchanged(before, x, idx, g)


def test_max_unpool_seed_002():
    # max pooling records the switches; unpooling [[1, 2], [3, 4]] puts them there
    pooled, switches = upconv.max_pool(SEED_002[None, None], 2, stride=2, return_indices=True)
    np.testing.assert_array_equal(pooled[0, 0], [[4, 4], [4, 4]])
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = upconv.max_unpool(x, switches, 2, stride=2)
    expected = [[0, 0, 2, 0], [0, 1, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]]
    np.testing.assert_array_equal(out[0, 0], expected)
    np.testing.assert_array_equal(out, F.max_unpool2d(t(x), t(switches), 2).numpy())


def test_max_unpool_unbatched_with_channel_output_size():
    x = np.arange(1.0, 7.0).reshape(2, 3)  # unbatched 1-d (C=2, L=3)
    idx = np.array([[0, 3, 5], [1, 2, 6]])
    ours = upconv.max_unpool(x, idx, 2, output_size=(2, 7))
    np.testing.assert_array_equal(ours, F.max_unpool1d(t(x), t(idx), 2, output_size=[7]).numpy())


# ---------------------------------------------------------------------------------------------
# bed of nails


@st.composite
def nail_cases(draw):
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    size = tuple(draw(st.integers(1, 3 if nd == 3 else 5)) for _ in range(nd))
    lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    shape = (*lead, draw(st.integers(1, 3)), *size)
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(shape) + 10).astype(dtype)  # nonzero
    kk = k[0] if lead and len(set(k)) == 1 and draw(st.booleans()) else k
    return dict(nd=nd, x=x, k=k, kernel_size=kk, seed=draw(st.integers(0, 2**31)))


@pytest.mark.parametrize("position", ["top-left", "center"])
@given(case=nail_cases())
def test_unpool_fixed_positions(case, position):
    x, k, nd = case["x"], case["k"], case["nd"]
    before = frozen(x)
    out = upconv.unpool(x, case["kernel_size"], position=position)
    expected = np.zeros(x.shape[:-nd] + tuple(n * ki for n, ki in zip(x.shape[-nd:], k,
                                                                       strict=True)), x.dtype)
    offset = [0 if position == "top-left" else ki // 2 for ki in k]
    expected[(..., *[slice(o, None, ki) for o, ki in zip(offset, k, strict=True)])] = x
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, expected)
    # the gradient reads the same cells
    g = np.random.default_rng(3).standard_normal(out.shape).astype(x.dtype)
    grad = upconv.unpool_backward(g, x, case["kernel_size"], position=position)
    np.testing.assert_array_equal(
        grad, g[(..., *[slice(o, None, ki) for o, ki in zip(offset, k, strict=True)])]
    )
    assert_unchanged(before, x)


@given(nail_cases())
def test_unpool_random_against_torch_max_unpool(case):
    x, k, nd, seed = case["x"], case["k"], case["nd"], case["seed"]
    before = frozen(x)
    out, idx = upconv.unpool(x, case["kernel_size"], position="random", rng=seed,
                             return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == x.shape
    xt = t(x, grad=True)
    ref = MAX_UNPOOL[nd](xt, t(idx), k)
    np.testing.assert_array_equal(out, ref.detach().numpy())
    # exactly one nonzero per k-region, holding the value; the region is the value's own
    regions = out.reshape(out.shape[:-nd] + sum(((n, ki) for n, ki in
                                                 zip(x.shape[-nd:], k, strict=True)), ()))
    lead = out.ndim - nd
    region_axes = tuple(lead + 2 * a + 1 for a in range(nd))
    assert ((regions != 0).sum(axis=region_axes) == 1).all()
    np.testing.assert_array_equal(regions.sum(axis=region_axes), x)
    # reproducible with the same seed; the backward reads the same cells (torch's gradient)
    np.testing.assert_array_equal(
        upconv.unpool(x, case["kernel_size"], position="random", rng=seed), out
    )
    g = np.random.default_rng(4).standard_normal(out.shape).astype(x.dtype)
    ref.backward(t(g))
    grad = upconv.unpool_backward(g, x, case["kernel_size"], position="random", rng=seed)
    assert_close(grad, xt.grad, x.dtype)
    assert_unchanged(before, x)


def test_unpool_bed_of_nails_seed():
    # seeds 000 and 002: [[1, 2], [3, 4]], k=2 -> values in the top-left corner of each cell
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(upconv.unpool(x, 2)[0, 0], expected)
    np.testing.assert_array_equal(upconv.unpool(x[0], (2, 2))[0], expected)  # unbatched


def test_unpool_dosovitskiy_rule():
    # "copies each value from spatial coordinate i of the input to coordinate i x k"
    x = np.random.default_rng(5).standard_normal((1, 1, 3, 4)) + 10
    k = (2, 3)
    out = upconv.unpool(x, k)
    assert out.shape == (1, 1, 6, 12)
    for i in range(3):
        for j in range(4):
            assert out[0, 0, i * k[0], j * k[1]] == x[0, 0, i, j]
    assert np.count_nonzero(out) == x.size


def test_unpool_center_even_kernel():
    out = upconv.unpool(np.array([[[5.0]]]), 4, position="center")
    np.testing.assert_array_equal(out, [[[0, 0, 5, 0]]])  # offset k // 2


def test_unpool_random_every_position_occurs():
    k = (2, 3)
    x = np.ones((1, 1, 60, 60))
    _, idx = upconv.unpool(x, k, position="random", rng=123, return_indices=True)
    rows, cols = np.divmod(idx[0, 0], 60 * k[1])
    offsets = (rows % k[0]) * k[1] + (cols % k[1])
    counts = np.bincount(offsets.ravel(), minlength=6)
    assert counts.size == 6 and (counts > 0).all()
    assert np.all(np.abs(counts - 600) < 150), counts  # 3600 draws, sd ~ 22 per cell


def test_unpool_random_generator_reproducible_and_consumed():
    x = np.ones((2, 3, 8, 8))
    a = upconv.unpool(x, 2, position="random", rng=np.random.default_rng(7))
    b = upconv.unpool(x, 2, position="random", rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(7)
    first = upconv.unpool(x, 2, position="random", rng=gen)
    second = upconv.unpool(x, 2, position="random", rng=gen)  # the generator has moved on
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)


def test_unpool_is_max_unpool_with_synthetic_switches():
    x = np.arange(1.0, 13.0).reshape(1, 2, 2, 3)
    out, idx = upconv.unpool(x, (3, 2), position="center", return_indices=True)
    np.testing.assert_array_equal(upconv.max_unpool(x, idx, (3, 2)), out)
    np.testing.assert_array_equal(F.max_unpool2d(t(x), t(idx), (3, 2)).numpy(), out)


# ---------------------------------------------------------------------------------------------
# errors


def test_error_indices_out_of_range():
    with pytest.raises(ShapeError, match=r"max_unpool: indices holds 16 at position "
                                         r"\(0, 0, 1, 1\), outside the output plane of 16 "
                                         r"elements \(valid indices 0 to 15\)"):
        upconv.max_unpool(np.ones((1, 1, 2, 2)), np.array([[[[0, 1], [2, 16]]]]), 2)


def test_error_indices_negative():
    with pytest.raises(ShapeError, match=r"max_unpool: indices holds -1 at position \(0, 0, 0\)"):
        upconv.max_unpool(np.ones((1, 1, 2)), np.array([[[-1, 2]]]), 2)


def test_error_indices_wrong_shape():
    with pytest.raises(ShapeError, match=r"max_unpool: indices has shape \(1, 1, 3\) but x has "
                                         r"shape \(1, 1, 2\)"):
        upconv.max_unpool(np.ones((1, 1, 2)), np.zeros((1, 1, 3), dtype=np.int64), 2)


def test_error_indices_float_dtype():
    with pytest.raises(TypeError, match=r"max_unpool: indices has dtype float64; switch indices "
                                        r"must be integers"):
        upconv.max_unpool(np.ones((1, 1, 2)), np.zeros((1, 1, 2)), 2)


def test_error_unreachable_output_size():
    with pytest.raises(ShapeError, match=r"max_unpool: requested an output size of \(6, 4\), "
                                         r"but in dimension 0 valid sizes range from 3 to 5"):
        upconv.max_unpool(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), dtype=np.int64), 2,
                          output_size=(1, 1, 6, 4))


def test_error_output_size_wrong_leading_dims():
    with pytest.raises(ShapeError, match=r"max_unpool: output_size=\(2, 1, 4, 4\) starts with "
                                         r"\(2, 1\) but x's leading dimensions are \(1, 1\)"):
        upconv.max_unpool(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), dtype=np.int64), 2,
                          output_size=(2, 1, 4, 4))


def test_error_unknown_position():
    with pytest.raises(ShapeError, match=r"unpool: position='middle' is not one of "
                                         r"\{'top-left', 'center', 'random'\}"):
        upconv.unpool(np.ones((1, 1, 2)), 2, position="middle")


def test_error_integer_x():
    with pytest.raises(TypeError, match=r"unpool: x has dtype int64; a floating dtype"):
        upconv.unpool(np.ones((1, 1, 2), dtype=np.int64), 2)


def test_error_integer_x_max_unpool():
    with pytest.raises(TypeError, match=r"max_unpool: x has dtype int32; a floating dtype"):
        upconv.max_unpool(np.ones((1, 1, 2), dtype=np.int32), np.zeros((1, 1, 2), np.int64), 2)


def test_error_wrong_rank():
    with pytest.raises(ShapeError, match=r"unpool: x has shape \(1, 1, 2, 2, 2, 2\) \(rank 6\)"):
        upconv.unpool(np.ones((1, 1, 2, 2, 2, 2)), 2)


def test_error_wrong_rank_for_tuple_kernel():
    with pytest.raises(ShapeError, match=r"max_unpool: x has shape \(2,\) \(rank 1\); for 1 "
                                         r"spatial dimension"):
        upconv.max_unpool(np.ones(2), np.zeros(2, dtype=np.int64), (2,))


def test_error_bad_rng():
    with pytest.raises(TypeError, match=r"unpool: rng=1.5 must be None, an int seed or a "
                                        r"numpy.random.Generator"):
        upconv.unpool(np.ones((1, 1, 2)), 2, position="random", rng=1.5)


def test_error_grad_output_shape():
    with pytest.raises(ShapeError, match=r"unpool_backward: grad_output has shape \(1, 1, 5\) "
                                         r"but the forward output has shape \(1, 1, 4\)"):
        upconv.unpool_backward(np.ones((1, 1, 5)), np.ones((1, 1, 2)), 2)


def test_error_grad_output_shape_max_unpool():
    with pytest.raises(ShapeError, match=r"max_unpool_backward: grad_output has shape "
                                         r"\(1, 1, 3\) but the forward output has shape "
                                         r"\(1, 1, 4\)"):
        upconv.max_unpool_backward(np.ones((1, 1, 3)), np.ones((1, 1, 2)),
                                   np.zeros((1, 1, 2), np.int64), 2)


# ---------------------------------------------------------------------------------------------
# the threaded, stepped scatter and gather (small steps and thresholds force every path)


@contextlib.contextmanager
def _split_finely(threads, step):
    """Run the scatter/gather on ``threads`` threads in steps of ``step`` output elements."""
    unpool_mod = importlib.import_module("upconv.ops.unpool")
    old = (upconv.get_num_threads(), _parallel.MIN_ELEMENTS_PER_THREAD, unpool_mod.STEP_ELEMENTS)
    upconv.set_num_threads(threads)
    _parallel.MIN_ELEMENTS_PER_THREAD, unpool_mod.STEP_ELEMENTS = 1, step
    try:
        yield
    finally:
        upconv.set_num_threads(old[0])
        _parallel.MIN_ELEMENTS_PER_THREAD, unpool_mod.STEP_ELEMENTS = old[1:]


@given(roundtrip_cases(), st.integers(1, 3), st.integers(1, 200),
       st.sampled_from([np.int64, np.int32, np.int16, np.uint16, np.uint64]))
def test_max_unpool_split_over_threads_and_steps_matches_torch(case, threads, step, dtype):
    x, idx, nd = case["x"], case["indices"], case["nd"]
    args = (case["kernel_size"], case["stride"], case["padding"])
    out_size = case["output_size"]
    ref = MAX_UNPOOL[nd](t(x), t(idx), *args, output_size=_torch_output_size(case))
    g = np.random.default_rng(step).standard_normal(ref.shape).astype(x.dtype)
    xt = t(x).requires_grad_()
    MAX_UNPOOL[nd](xt, t(idx), *args, output_size=_torch_output_size(case)).backward(t(g))
    with _split_finely(threads, step):
        ours = upconv.max_unpool(x, idx.astype(dtype), *args, output_size=out_size)
        grad = upconv.max_unpool_backward(g, x, idx.astype(dtype), *args, output_size=out_size)
    np.testing.assert_array_equal(ours, ref.numpy())
    np.testing.assert_array_equal(grad, xt.grad.numpy())


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("bad", [-1, 16, 1 << 40])
def test_error_out_of_range_in_a_later_step_or_thread(threads, bad):
    # The switch is checked in the thread and step that uses it; the message still names
    # the first bad switch of the whole array.
    idx = np.tile(np.array([0, 5, 10, 15]), (4, 3, 1)).reshape(4, 3, 2, 2)
    idx[3, 1, 1, 0] = bad
    x = np.ones(idx.shape, dtype=np.float32)
    g = np.ones((4, 3, 4, 4), dtype=np.float32)
    msg = (rf"indices holds {bad} at position \(3, 1, 1, 0\), outside the output plane of 16 "
           r"elements \(valid indices 0 to 15\)")
    with _split_finely(threads, 16):
        with pytest.raises(ShapeError, match=r"max_unpool: " + msg):
            upconv.max_unpool(x, idx, 2)
        with pytest.raises(ShapeError, match=r"max_unpool_backward: " + msg):
            upconv.max_unpool_backward(g, x, idx, 2)
