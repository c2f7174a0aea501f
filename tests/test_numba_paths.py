"""The optional compiled kernels (upconv.ops._numba) and the NumPy paths they replace.

numba is part of the ``all`` extra that CI installs, so it is imported here unconditionally:
if it is missing these tests fail, they never skip.  Every op is run twice, with the compiled
path forced on and with ``UPCONV_NUMBA=0`` (the pure NumPy default), against PyTorch's values
and gradients; the kernels are also called directly on shapes that ``auto`` would not send
them (large groups), and the dispatch is checked to take the path it claims.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numba  # noqa: F401  (a missing extra is a failure here, not a skip)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import upconv
from helpers import assert_close, assert_unchanged, env_var, frozen, t
from upconv import ShapeError

nb = importlib.import_module("upconv.ops._numba")
gemm = importlib.import_module("upconv.ops._gemm")

TORCH_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
TORCH_C = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
MAX_SIZE = {1: 9, 2: 6, 3: 4}


@contextmanager
def numba_path(on: bool) -> Iterator[None]:
    """The compiled path forced on (numba installed) or off (``UPCONV_NUMBA=0``)."""
    with env_var("UPCONV_NUMBA", "1" if on else "0"):
        assert nb.available() is on
        yield


def dims(draw, nd: int, lo: int, hi: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(lo, hi)) for _ in range(nd))


def maybe_strided(a: np.ndarray, strided: bool) -> np.ndarray:
    """``a`` itself, or the same values in a non-contiguous array."""
    if not strided:
        return a
    b = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)[..., ::2]
    b[...] = a
    assert not b.flags.c_contiguous
    return b


@st.composite
def transpose_cases(draw, tiny: bool = True):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    if tiny:  # what auto sends to the compiled loops: at most MAX_GROUP_PAIRS per group
        cin_g, cout_g = draw(st.sampled_from([(1, 1), (1, 1), (1, 2), (2, 1), (2, 2), (1, 4)]))
    else:
        cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = dims(draw, nd, 1, 4)
    stride = dims(draw, nd, 1, 3)
    dil = dims(draw, nd, 1, 2)
    size = dims(draw, nd, 1, MAX_SIZE[nd])
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil, strict=True))
    pads = []
    for s, i, d, kk, a in zip(stride, size, dil, k, op, strict=True):
        room = s * (i - 1) + d * (kk - 1) + a  # the output keeps at least one element
        pads.append(draw(st.integers(0, min(3, room // 2))))
    return dict(nd=nd, groups=groups, cin=groups * cin_g, cout=groups * cout_g, k=k,
                stride=stride, dilation=dil, output_padding=op, padding=tuple(pads), size=size,
                batch=draw(st.integers(1, 3)), bias=draw(st.booleans()),
                strided=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2**32 - 1)))


def arrays(case, *, transposed: bool):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["batch"], case["cin"], *case["size"])).astype(case["dtype"])
    g = case["groups"]
    shape = (case["cin"], case["cout"] // g) if transposed else (case["cout"], case["cin"] // g)
    w = rng.standard_normal((*shape, *case["k"])).astype(case["dtype"])
    b = rng.standard_normal(case["cout"]).astype(case["dtype"]) if case["bias"] else None
    return maybe_strided(x, case["strided"]), w, b


def check_both_paths(case, *, transposed: bool, kw, torch_fn, ours, ours_backward, seed):
    """Values and gradients of ``ours`` with numba on and off, against ``torch_fn``."""
    x, w, b = arrays(case, transposed=transposed)
    keep = frozen(x, w)
    tx, tw = t(x, grad=True), t(w, grad=True)
    tb = None if b is None else t(b, grad=True)
    yt = torch_fn(tx, tw, tb, **kw)
    gy = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(case["dtype"])
    yt.backward(torch.from_numpy(gy))
    for on in (True, False):
        with numba_path(on):
            y = ours(x, w, b, **kw)
            gx, gw, gb = ours_backward(gy, x, w, b, **kw)
        assert y.dtype == case["dtype"]
        assert_close(y, yt, case["dtype"], err_msg=f"numba={on}")
        assert_close(gx, tx.grad, case["dtype"], err_msg=f"numba={on} grad x")
        assert_close(gw, tw.grad, case["dtype"], err_msg=f"numba={on} grad w")
        if b is not None:
            assert_close(gb, tb.grad, case["dtype"], err_msg=f"numba={on} grad b")
    assert_unchanged(keep, x, w)


@given(transpose_cases())
def test_tiny_group_conv_transpose_values_and_gradients(case):
    kw = dict(stride=case["stride"], padding=case["padding"],
              output_padding=case["output_padding"], groups=case["groups"],
              dilation=case["dilation"])
    check_both_paths(case, transposed=True, kw=kw, torch_fn=TORCH_T[case["nd"]],
                     ours=upconv.conv_transpose, ours_backward=upconv.conv_transpose_backward,
                     seed=1)


@st.composite
def conv_cases(draw, tiny: bool = True):
    case = draw(transpose_cases(tiny))
    nd = case["nd"]
    pads, size = [], []
    for kk, d in zip(case["k"], case["dilation"], strict=True):
        p = draw(st.integers(0, 2))
        lo = max(1, d * (kk - 1) + 1 - 2 * p)
        pads.append(p)
        size.append(draw(st.integers(lo, lo + MAX_SIZE[nd])))
    case.update(padding=tuple(pads), size=tuple(size))
    return case


@given(conv_cases())
def test_tiny_group_conv_values_and_gradients(case):
    kw = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
              groups=case["groups"])
    check_both_paths(case, transposed=False, kw=kw, torch_fn=TORCH_C[case["nd"]],
                     ours=upconv.conv, ours_backward=upconv.conv_backward, seed=2)


@given(transpose_cases(tiny=False))
def test_plane_kernels_on_any_groups(case):
    # The kernels themselves are general; auto only sends them tiny groups.
    x, w, b = arrays(case, transposed=True)
    kw = dict(stride=case["stride"], padding=case["padding"],
              output_padding=case["output_padding"], groups=case["groups"],
              dilation=case["dilation"])
    yt = TORCH_T[case["nd"]](t(x), t(w), None if b is None else t(b), **kw)
    with numba_path(True):
        y = nb.conv_transpose_planes(x, w, b, case["stride"], case["padding"],
                                     case["dilation"], case["groups"], tuple(yt.shape[2:]))
        # the same weight as a convolution from the output back to x's size
        c = nb.conv_planes(yt.detach().numpy(), w, None, case["stride"], case["padding"],
                           case["dilation"], case["groups"], x.shape[2:])
    assert_close(y, yt, case["dtype"])
    ct = TORCH_C[case["nd"]](yt.detach(), t(w), None, case["stride"], case["padding"],
                             case["dilation"], case["groups"])
    assert_close(c, ct[(..., *(slice(0, i) for i in x.shape[2:]))], case["dtype"])


def test_dispatch_takes_the_compiled_path_only_when_available(monkeypatch):
    calls = []
    for name in ("conv_transpose_planes", "conv_planes"):
        original = getattr(nb, name)
        monkeypatch.setattr(nb, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 6, 6)).astype(np.float32)
    w = rng.standard_normal((8, 1, 4, 4)).astype(np.float32)
    wide = rng.standard_normal((8, 4, 4, 4)).astype(np.float32)
    with numba_path(True):
        upconv.conv_transpose(x, w, stride=2, padding=1, groups=8)
        upconv.conv(x, w, stride=2, padding=1, groups=8)
        assert calls == ["conv_transpose_planes", "conv_planes"]
        upconv.conv_transpose(x, wide, stride=2, padding=1, groups=2)  # 4 x 4 pairs per group
        upconv.conv(x, wide.reshape(8, 4, 4, 4), groups=2)
        upconv.conv_transpose(x, w, groups=8, method="scatter")  # explicit methods stay NumPy
        assert calls == ["conv_transpose_planes", "conv_planes"]
    with numba_path(False):
        upconv.conv_transpose(x, w, stride=2, padding=1, groups=8)
        upconv.conv(x, w, stride=2, padding=1, groups=8)
    assert calls == ["conv_transpose_planes", "conv_planes"]
    # and the loops they ran were the compiled ones, not the plain Python they start as
    for kernel in ("_tconv_planes", "_conv_planes", "_put_rows"):
        assert getattr(nb, kernel).signatures, kernel


def test_empty_and_channel_free_shapes():
    with numba_path(True):
        y = nb.conv_transpose_planes(np.zeros((0, 2, 3)), np.ones((2, 1, 2)), None, (1,), (0,),
                                     (1,), 2, (4,))
        assert y.shape == (0, 2, 4)
        y = nb.conv_planes(np.zeros((1, 0, 3)), np.ones((2, 0, 2)), np.array([1.0, 2.0]), (1,),
                           (0,), (1,), 1, (2,))
        np.testing.assert_array_equal(y, [[[1.0, 1.0], [2.0, 2.0]]])


# ---------------------------------------------------------------------------------------------
# Max unpooling


@st.composite
def unpool_cases(draw):
    nd = draw(st.integers(1, 3))
    k = dims(draw, nd, 1, 3)
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    size = tuple(max(1, kk - 2 * pp) + draw(st.integers(0, 4)) for kk, pp in zip(k, p,
                                                                                 strict=True))
    return dict(nd=nd, k=k, s=s, p=p, size=size, batch=draw(st.integers(1, 2)),
                channels=draw(st.integers(1, 3)), strided=draw(st.booleans()),
                index_dtype=draw(st.sampled_from([np.int64, np.int32])),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2**32 - 1)))


@given(unpool_cases())
def test_max_unpool_values_and_gradients(case):
    rng = np.random.default_rng(case["seed"])
    nd = case["nd"]
    a = rng.standard_normal((case["batch"], case["channels"], *case["size"]))
    pooled, idx = getattr(F, f"max_pool{nd}d")(t(a), case["k"], case["s"], case["p"],
                                                return_indices=True)
    x = maybe_strided(rng.standard_normal(tuple(pooled.shape)).astype(case["dtype"]),
                      case["strided"])
    tx = t(x, grad=True)
    yt = getattr(F, f"max_unpool{nd}d")(tx, idx, case["k"], case["s"], case["p"],
                                        output_size=case["size"])
    gy = rng.standard_normal(tuple(yt.shape)).astype(case["dtype"])
    yt.backward(torch.from_numpy(gy))
    index = idx.numpy().astype(case["index_dtype"])
    keep = frozen(x, index)
    # torch leaves repeated switches nondeterministic: compare where they are unique
    for on in (True, False):
        with numba_path(on):
            y = upconv.max_unpool(x, index, case["k"], case["s"], case["p"],
                                  output_size=case["size"])
            gx = upconv.max_unpool_backward(gy, x, index, case["k"], case["s"], case["p"],
                                            output_size=case["size"])
        assert y.dtype == x.dtype and gx.dtype == x.dtype
        flat = index.reshape(index.shape[0], index.shape[1], -1)
        if all(len(np.unique(r)) == r.size for r in flat.reshape(-1, flat.shape[-1])):
            assert_close(y, yt, case["dtype"], err_msg=f"numba={on}")
        assert_close(gx, tx.grad, case["dtype"], err_msg=f"numba={on} grad")
    assert_unchanged(keep, x, index)


def test_max_unpool_repeated_switches_last_value_wins_on_both_paths():
    x = np.array([[[1.0, 2.0, 3.0]]])
    idx = np.array([[[1, 1, 0]]])
    for on in (True, False):
        with numba_path(on):
            y = upconv.max_unpool(x, idx, 2, 1)
        np.testing.assert_array_equal(y, [[[3.0, 2.0, 0.0, 0.0]]])


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("bad", [-1, 16])
def test_max_unpool_out_of_range_switch_same_error(on, bad):
    x = np.ones((2, 2, 2, 2), dtype=np.float32)
    idx = np.zeros((2, 2, 2, 2), dtype=np.int64)
    idx[1, 0, 1, 0] = bad
    g = np.ones((2, 2, 4, 4), dtype=np.float32)
    with numba_path(on):
        with pytest.raises(ShapeError, match=rf"max_unpool: indices holds {bad} at position "
                                             r"\(1, 0, 1, 0\), outside the output plane of 16"):
            upconv.max_unpool(x, idx, 2)
        with pytest.raises(ShapeError, match=rf"max_unpool_backward: indices holds {bad} at"):
            upconv.max_unpool_backward(g, x, idx, 2)


def test_unpool_bed_of_nails_on_both_paths():
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    ys = []
    for on in (True, False):
        with numba_path(on):
            y, idx = upconv.unpool(x, 2, position="random", rng=4, return_indices=True)
            g = upconv.unpool_backward(y, x, 2, position="random", rng=4)
        np.testing.assert_array_equal(g, x)
        ys.append(y)
    np.testing.assert_array_equal(ys[0], ys[1])


def test_import_upconv_does_not_import_numba():
    import subprocess
    import sys

    code = "import sys, upconv; assert 'numba' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_available_follows_the_environment():
    with numba_path(False):
        assert not nb.available()
    with numba_path(True):
        assert nb.available()
    assert nb.version() == numba.__version__


def test_first_calls_from_many_threads_compile_once() -> None:
    # A web server's worker threads may all make their first call at once: the lazy compile
    # must happen exactly once (a race once re-jitted a compiled kernel and raised).
    code = """
import threading
import numpy as np
import upconv
from upconv.ops import _numba
assert _numba.available()
x = np.arange(2 * 4 * 5 * 5, dtype=np.float32).reshape(2, 4, 5, 5)
w = np.ones((4, 1, 3, 3), np.float32)
want = upconv.reference.conv_transpose(x.astype(np.float64), w.astype(np.float64), stride=2,
                                       groups=4)
barrier = threading.Barrier(8)
errors = []
def work():
    barrier.wait()
    try:
        got = upconv.conv_transpose(x, w, stride=2, groups=4)
        assert np.allclose(got, want, rtol=1e-5), "wrong values"
    except Exception as err:
        errors.append(repr(err))
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "UPCONV_NUMBA": "1"})
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr
