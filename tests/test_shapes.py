"""Shape arithmetic (``upconv.shapes``) against the running PyTorch.

Every size is checked by running the real ``torch.nn.functional`` op on a tiny zero tensor
(one channel) and reading its output shape; a configuration PyTorch refuses must make upconv
raise ``ShapeError``, and the other way round.  The seeds' worked sizes are checked exactly.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given
from hypothesis import strategies as st

import upconv
from helpers import assert_close
from upconv import (
    ShapeError,
    conv_output_size,
    conv_transpose_output_size,
    conv_transpose_size_range,
    equivalent_conv,
    output_padding_for,
    pool_output_size,
    same_padding,
)
from upconv.shapes import conv_geometry, pool_geometry, transpose_geometry

TORCH_ERRORS = (RuntimeError, ValueError)
MAX_SIZE = {1: 14, 2: 9, 3: 6}

# ---------------------------------------------------------------------------------------------
# Running PyTorch: output shapes of real ops on tiny tensors


def _torch(fn: Callable[[], torch.Tensor]) -> tuple[int, ...] | Exception:
    """The spatial output shape of ``fn()``, or the error PyTorch raised."""
    with warnings.catch_warnings():
        # torch warns about padding="same" with even kernels; pytest turns warnings into errors
        warnings.simplefilter("ignore")
        try:
            out = fn()
        except TORCH_ERRORS as err:
            return err
    shape = tuple(out.shape[2:])
    if min(shape) < 1:
        # conv_transpose2d/3d return an empty tensor when the output size is 0 (1-d raises);
        # an empty output is an error for upconv
        return ValueError(f"empty output {shape}")
    return shape


def _ours(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ShapeError as err:
        return err


def _per(value: Any, n: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,) * n


def _pairs(padding: Any, n: int) -> list[tuple[int, int]]:
    """Test-side expansion of an int / per-dim / (before, after) padding."""
    return [e if isinstance(e, tuple) else (e, e) for e in _per(padding, n)]


def _torch_pad(pairs: list[tuple[int, int]]) -> list[int]:
    # F.pad takes the last dimension first
    return [v for pair in reversed(pairs) for v in pair]


def _crop(out: torch.Tensor, pairs: list[tuple[int, int]]) -> torch.Tensor:
    index = [slice(None), slice(None)]
    for axis, (before, after) in enumerate(pairs):
        index.append(slice(before, max(out.shape[2 + axis] - after, 0)))
    out = out[tuple(index)]
    if min(out.shape[2:]) < 1:
        raise ValueError("cropped to nothing")
    return out


def torch_conv(size, k, s, padding, d) -> tuple[int, ...] | Exception:
    n = len(size)
    conv = getattr(F, f"conv{n}d")
    x, w = torch.zeros(1, 1, *size), torch.zeros(1, 1, *k)
    if isinstance(padding, str):
        return _torch(lambda: conv(x, w, stride=s, padding=padding.lower(), dilation=d))
    pad = _torch_pad(_pairs(padding, n))
    return _torch(lambda: conv(F.pad(x, pad), w, stride=s, dilation=d))


def torch_transpose(size, k, s, padding, a, d) -> tuple[int, ...] | Exception:
    n = len(size)
    tconv = getattr(F, f"conv_transpose{n}d")
    x, w = torch.zeros(1, 1, *size), torch.zeros(1, 1, *k)
    pairs = _pairs(padding, n)
    if all(b == e for b, e in pairs):
        p = [b for b, _ in pairs]
        return _torch(lambda: tconv(x, w, stride=s, padding=p, output_padding=a, dilation=d))
    # PyTorch cannot crop asymmetrically: crop the uncropped result by hand
    return _torch(
        lambda: _crop(tconv(x, w, stride=s, padding=0, output_padding=a, dilation=d), pairs)
    )


def torch_max_pool(size, k, s, p, d, ceil_mode) -> tuple[int, ...] | Exception:
    n = len(size)
    pool = getattr(F, f"max_pool{n}d")
    x = torch.zeros(1, 1, *size)
    return _torch(lambda: pool(x, k, s, p, d, ceil_mode=ceil_mode))


def torch_avg_pool(size, k, s, p, ceil_mode) -> tuple[int, ...] | Exception:
    n = len(size)
    pool = getattr(F, f"avg_pool{n}d")
    x = torch.zeros(1, 1, *size)
    return _torch(lambda: pool(x, k, s, p, ceil_mode=ceil_mode))


def assert_agrees(ours: Any, theirs: tuple[int, ...] | Exception, as_int: bool, ctx: Any) -> None:
    """upconv raises ShapeError exactly when torch raises; otherwise same sizes, same form."""
    if isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), (
            f"torch raised {theirs!r} but upconv returned {ours!r} for {ctx}"
        )
        return
    assert not isinstance(ours, Exception), f"upconv raised {ours!r}; torch gives {theirs} ({ctx})"
    expected = theirs[0] if as_int else theirs
    assert ours == expected, (ours, expected, ctx)
    assert type(ours) is type(expected), (type(ours), ctx)


# ---------------------------------------------------------------------------------------------
# Strategies: an int or one value per dimension, both forms


@st.composite
def dims(draw) -> int:
    return draw(st.integers(1, 3))


@st.composite
def size_arg(draw, n: int) -> tuple[tuple[int, ...], Any, bool]:
    """(per-dim sizes, the argument as passed, whether the result is an int)."""
    vals = tuple(draw(st.integers(1, MAX_SIZE[n])) for _ in range(n))
    if n == 1 and draw(st.booleans()):
        return vals, vals[0], True
    return vals, vals, False


@st.composite
def int_arg(draw, n: int, lo: int, hi: int) -> tuple[tuple[int, ...], Any]:
    if draw(st.booleans()):
        v = draw(st.integers(lo, hi))
        return (v,) * n, v
    vals = tuple(draw(st.integers(lo, hi)) for _ in range(n))
    return vals, vals


@st.composite
def pad_arg(draw, n: int, strings: bool = True, hi: int = 3) -> Any:
    kinds = ["int", "ints", "pairs"] + (["string"] if strings else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(0, hi))
    if kind == "ints":
        return tuple(draw(st.integers(0, hi)) for _ in range(n))
    if kind == "pairs":
        entry = st.one_of(st.integers(0, hi), st.tuples(st.integers(0, hi), st.integers(0, hi)))
        return tuple(draw(entry) for _ in range(n))
    return draw(st.sampled_from(["same", "valid", "SAME", "Valid"]))


@st.composite
def conv_cfg(draw, strings: bool = True) -> dict[str, Any]:
    n = draw(dims())
    size, size_in, as_int = draw(size_arg(n))
    k, k_in = draw(int_arg(n, 1, 5))
    s, s_in = draw(int_arg(n, 1, 4))
    d, d_in = draw(int_arg(n, 1, 3))
    padding = draw(pad_arg(n, strings=strings))
    return dict(n=n, size=size, size_in=size_in, as_int=as_int, k=k, k_in=k_in, s=s, s_in=s_in,
                d=d, d_in=d_in, padding=padding)


@st.composite
def transpose_cfg(draw, symmetric: bool = False, with_a: bool = True) -> dict[str, Any]:
    cfg = draw(conv_cfg(strings=False))
    n = cfg["n"]
    if symmetric:
        cfg["padding"] = draw(st.one_of(
            st.integers(0, 3), st.tuples(*[st.integers(0, 3)] * n)))
    if with_a:
        # up to and including max(stride, dilation): both legal and illegal values
        cfg["a"] = tuple(
            draw(st.integers(0, max(sj, dj))) for sj, dj in zip(cfg["s"], cfg["d"], strict=True)
        )
        cfg["a_in"] = cfg["a"][0] if n == 1 and draw(st.booleans()) else cfg["a"]
    return cfg


# ---------------------------------------------------------------------------------------------
# Convolution


@given(conv_cfg())
def test_conv_output_size_matches_torch(c):
    ours = _ours(lambda: conv_output_size(c["size_in"], c["k_in"], c["s_in"], c["padding"],
                                          c["d_in"]))
    theirs = torch_conv(c["size"], c["k"], c["s"], c["padding"], c["d"])
    assert_agrees(ours, theirs, c["as_int"], c)


@given(conv_cfg())
def test_conv_geometry_resolves_arguments(c):
    g = _ours(lambda: conv_geometry(c["size_in"], c["k_in"], c["s_in"], c["padding"], c["d_in"]))
    theirs = torch_conv(c["size"], c["k"], c["s"], c["padding"], c["d"])
    if isinstance(theirs, Exception):
        assert isinstance(g, ShapeError)
        return
    assert (g.size, g.kernel_size, g.stride, g.dilation) == (c["size"], c["k"], c["s"], c["d"])
    assert g.ndim == c["n"]
    assert g.output_size == theirs
    if not isinstance(c["padding"], str):
        assert list(g.padding) == _pairs(c["padding"], c["n"])
    elif c["padding"].lower() == "valid":
        assert g.padding == ((0, 0),) * c["n"]
    # the resolved pairs, padded explicitly, reproduce the output size
    assert torch_conv(c["size"], c["k"], c["s"], g.padding, c["d"]) == theirs


@given(n=dims(), data=st.data())
def test_same_padding_pairs_give_torch_values(n, data):
    """padding='same' resolves to the pairs PyTorch uses: the odd element at the end."""
    size, _, _ = data.draw(size_arg(n))
    k, _ = data.draw(int_arg(n, 1, 5))
    d, _ = data.draw(int_arg(n, 1, 3))
    g = conv_geometry(size, k, 1, "same", d)
    assert g.output_size == size
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = torch.from_numpy(rng.standard_normal((1, 2, *size)))
    w = torch.from_numpy(rng.standard_normal((3, 2, *k)))
    conv = getattr(F, f"conv{n}d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = conv(x, w, padding="same", dilation=d)
    ours = conv(F.pad(x, _torch_pad(list(g.padding))), w, dilation=d)
    assert_close(ours.numpy(), theirs)


def test_conv_padding_same_and_valid_strings_examples():
    assert conv_output_size(5, 4, padding="same") == 5
    assert conv_geometry(5, 4, padding="same").padding == ((1, 2),)
    assert conv_geometry((5, 6), (3, 2), padding="same", dilation=(2, 3)).padding == (
        (2, 2), (1, 2))
    assert conv_output_size((5, 6), 3, stride=2, padding="valid") == (2, 2)
    assert conv_output_size(7, 3, padding="SAME") == 7


@given(n=dims(), data=st.data())
def test_same_padding_is_tensorflow_same(n, data):
    size, size_in, _ = data.draw(size_arg(n))
    k, k_in = data.draw(int_arg(n, 1, 5))
    s, s_in = data.draw(int_arg(n, 1, 4))
    d, d_in = data.draw(int_arg(n, 1, 3))
    pairs = same_padding(size_in, k_in, s_in, d_in)
    assert isinstance(pairs, tuple) and len(pairs) == n
    assert all(isinstance(p, tuple) and len(p) == 2 for p in pairs)
    # with these pairs the real convolution outputs ceil(i / s) ...
    ceil = tuple(-(-i // sj) for i, sj in zip(size, s, strict=True))
    assert torch_conv(size, k, s, pairs, d) == ceil
    for (before, after), i, kj, sj, dj in zip(pairs, size, k, s, d, strict=True):
        # ... with the smallest total TensorFlow uses, the odd element at the end
        total = max((math.ceil(i / sj) - 1) * sj + dj * (kj - 1) + 1 - i, 0)
        assert (before, after) == (total // 2, total - total // 2)
    if all(v == 1 for v in s):
        assert pairs == conv_geometry(size, k, 1, "same", d).padding


def test_same_padding_examples():
    assert same_padding(5, 3, stride=2) == ((1, 1),)
    assert same_padding((6, 7), 4, stride=2) == ((1, 1), (1, 2))
    assert same_padding(4, 1, stride=2) == ((0, 0),)  # k < s: no padding, never negative
    assert same_padding(5, 4) == ((1, 2),)


# ---------------------------------------------------------------------------------------------
# Pooling


@st.composite
def pool_cfg(draw) -> dict[str, Any]:
    n = draw(dims())
    size, size_in, as_int = draw(size_arg(n))
    k, k_in = draw(int_arg(n, 1, 4))
    if draw(st.booleans()):
        s, s_in = k, None
    else:
        s, s_in = draw(int_arg(n, 1, 4))
    p, p_in = draw(int_arg(n, 0, 2))
    d, d_in = draw(int_arg(n, 1, 3))
    return dict(n=n, size=size, size_in=size_in, as_int=as_int, k=k, k_in=k_in, s=s, s_in=s_in,
                p=p, p_in=p_in, d=d, d_in=d_in, ceil_mode=draw(st.booleans()))


@given(pool_cfg())
def test_pool_output_size_matches_torch_max_pool(c):
    ours = _ours(lambda: pool_output_size(c["size_in"], c["k_in"], c["s_in"], c["p_in"],
                                          c["d_in"], c["ceil_mode"]))
    theirs = torch_max_pool(c["size"], c["k"], c["s"], c["p"], c["d"], c["ceil_mode"])
    assert_agrees(ours, theirs, c["as_int"], c)
    # average pooling has no dilation; avg_pool3d also refuses an input smaller than the kernel
    # even when padding makes room (max_pool3d does not), which pool_output_size does not model
    if all(v == 1 for v in c["d"]) and c["n"] < 3:
        theirs = torch_avg_pool(c["size"], c["k"], c["s"], c["p"], c["ceil_mode"])
        assert_agrees(ours, theirs, c["as_int"], c)


@given(pool_cfg())
def test_pool_geometry_resolves_arguments(c):
    g = _ours(lambda: pool_geometry(c["size_in"], c["k_in"], c["s_in"], c["p_in"], c["d_in"],
                                    c["ceil_mode"]))
    theirs = torch_max_pool(c["size"], c["k"], c["s"], c["p"], c["d"], c["ceil_mode"])
    if isinstance(theirs, Exception):
        assert isinstance(g, ShapeError)
        return
    assert (g.size, g.kernel_size, g.stride, g.padding, g.dilation) == (
        c["size"], c["k"], c["s"], c["p"], c["d"])
    assert g.ceil_mode is c["ceil_mode"] and g.ndim == c["n"]
    assert g.output_size == theirs


def _docs_ceil(i: int, k: int, s: int, p: int, d: int) -> int:
    # the formula alone, as documented: ceil((i + 2p - d(k-1) - 1) / s) + 1
    return math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1


def test_pool_ceil_mode_last_window_in_right_padding_exhaustive():
    """All small 1-d configurations in ceil mode, with those where the formula alone is wrong."""
    tricky = 0
    for i, k, s, p, d in itertools.product(range(1, 11), range(1, 6), range(1, 5), range(3),
                                           range(1, 3)):
        theirs = torch_max_pool((i,), k, s, p, d, True)
        ours = _ours(lambda i=i, k=k, s=s, p=p, d=d: pool_output_size(i, k, s, p, d, True))
        assert_agrees(ours, theirs, True, (i, k, s, p, d))
        if not isinstance(theirs, Exception) and theirs[0] != _docs_ceil(i, k, s, p, d):
            tricky += 1
    assert tricky >= 30  # the cases where the last window would start in the right padding


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d", "expected"),
    [
        (5, 2, 2, 1, 1, 3),  # the formula alone says 4; window 4 would start at 6 >= 5 + 1
        (3, 2, 2, 1, 1, 2),
        (1, 2, 2, 1, 1, 1),
        (2, 1, 2, 0, 1, 1),
        (7, 2, 2, 1, 1, 4),
        (8, 3, 3, 1, 1, 3),
        (11, 2, 3, 1, 2, 4),
        (10, 4, 3, 2, 1, 4),
    ],
)
def test_pool_ceil_mode_drops_window_starting_in_right_padding(size, k, s, p, d, expected):
    assert _docs_ceil(size, k, s, p, d) == expected + 1
    assert torch_max_pool((size,), k, s, p, d, True) == (expected,)
    assert pool_output_size(size, k, s, p, d, ceil_mode=True) == expected
    assert pool_output_size((size, size), k, s, p, d, ceil_mode=True) == (expected, expected)


def test_pool_chain_28_14_7_4_ceil_mode():
    sizes, x = [], torch.zeros(1, 1, 28, 28)
    size: Any = (28, 28)
    for _ in range(3):
        x = F.max_pool2d(x, 2, ceil_mode=True)
        size = pool_output_size(size, 2, ceil_mode=True)
        assert size == tuple(x.shape[2:])
        sizes.append(size)
    assert sizes == [(14, 14), (7, 7), (4, 4)]
    assert pool_output_size(7, 2) == 3  # floor mode loses the last row
    assert pool_output_size(28, 2) == 14


# ---------------------------------------------------------------------------------------------
# Transposed convolution


@given(transpose_cfg())
def test_conv_transpose_output_size_matches_torch(c):
    ours = _ours(lambda: conv_transpose_output_size(c["size_in"], c["k_in"], c["s_in"],
                                                    c["padding"], c["a_in"], c["d_in"]))
    theirs = torch_transpose(c["size"], c["k"], c["s"], c["padding"], c["a"], c["d"])
    assert_agrees(ours, theirs, c["as_int"], c)


@given(transpose_cfg())
def test_transpose_geometry_resolves_arguments(c):
    g = _ours(lambda: transpose_geometry(c["size_in"], c["k_in"], c["s_in"], c["padding"],
                                         c["a_in"], c["d_in"]))
    theirs = torch_transpose(c["size"], c["k"], c["s"], c["padding"], c["a"], c["d"])
    if isinstance(theirs, Exception):
        assert isinstance(g, ShapeError)
        return
    assert (g.size, g.kernel_size, g.stride, g.output_padding, g.dilation) == (
        c["size"], c["k"], c["s"], c["a"], c["d"])
    assert list(g.padding) == _pairs(c["padding"], c["n"]) and g.ndim == c["n"]
    assert g.output_size == theirs


@given(transpose_cfg())
@example(dict(n=1, size=(4,), size_in=4, as_int=True, k=(3,), k_in=3, s=(1,), s_in=1,
              d=(2,), d_in=2, padding=0, a=(1,), a_in=1))
def test_transpose_geometry_as_conv_maps_back(c):
    """as_conv() is the convolution whose input gradient the transposed convolution is."""
    g = _ours(lambda: transpose_geometry(c["size_in"], c["k_in"], c["s_in"], c["padding"],
                                         c["a_in"], c["d_in"]))
    if isinstance(g, ShapeError):
        return
    cg = g.as_conv()
    assert cg.size == g.output_size
    # the real convolution with those arguments maps output_size back to size, plus a // s
    # extra windows when output_padding >= stride (only possible with dilation > stride)
    back = tuple(i + a // s for i, a, s in zip(g.size, g.output_padding, g.stride, strict=True))
    assert cg.output_size == back
    if all(a < s for a, s in zip(g.output_padding, g.stride, strict=True)):
        assert back == g.size
    assert torch_conv(cg.size, cg.kernel_size, cg.stride, cg.padding, cg.dilation) == back
    assert conv_geometry(cg.size, cg.kernel_size, cg.stride, cg.padding, cg.dilation) == cg


@given(conv_cfg(strings=False))
def test_output_padding_inverts_conv(c):
    """conv maps i to o; the transposed convolution with a = output_padding_for(o, i) maps back."""
    theirs = torch_conv(c["size"], c["k"], c["s"], c["padding"], c["d"])
    if isinstance(theirs, Exception):
        return
    o = conv_output_size(c["size_in"], c["k_in"], c["s_in"], c["padding"], c["d_in"])
    assert o == (theirs[0] if c["as_int"] else theirs)
    a = output_padding_for(o, c["size_in"], c["k_in"], c["s_in"], c["padding"], c["d_in"])
    a_t = _per(a, c["n"])
    for ij, kj, sj, dj, (pb, pa), aj in zip(c["size"], c["k"], c["s"], c["d"],
                                            _pairs(c["padding"], c["n"]), a_t, strict=True):
        assert aj == (ij + pb + pa - (dj * (kj - 1) + 1)) % sj  # Relationship 13's a
    back = conv_transpose_output_size(o, c["k_in"], c["s_in"], c["padding"], a, c["d_in"])
    assert back == c["size_in"]
    assert torch_transpose(theirs, c["k"], c["s"], c["padding"], a_t, c["d"]) == c["size"]


@given(transpose_cfg(symmetric=True, with_a=False))
@example(dict(n=1, size=(1,), size_in=1, as_int=True, k=(1,), k_in=1, s=(3,), s_in=3,
              d=(1,), d_in=1, padding=1))
def test_conv_transpose_size_range_1d_is_exactly_what_torch_accepts(c):
    """Scan every candidate output_size through nn.ConvTranspose1d(...)(x, output_size=...)."""
    assume(c["n"] == 1)
    (i,), (k,), (s,), (d,) = c["size"], c["k"], c["s"], c["d"]
    p = _per(c["padding"], 1)[0]
    module = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    x = torch.zeros(1, 1, i)
    accepted = []
    for target in range(1, s * (i - 1) + d * (k - 1) + 1 + s + 2):
        out = _torch(lambda target=target: module(x, output_size=[target]))
        if not isinstance(out, Exception):
            assert out == (target,)
            accepted.append(target)
    ours = _ours(lambda: conv_transpose_size_range(c["size_in"], c["k_in"], c["s_in"],
                                                   c["padding"], c["d_in"]))
    if not accepted:
        assert isinstance(ours, ShapeError), (ours, c)
        return
    assert not isinstance(ours, Exception), (ours, accepted, c)
    lo, hi = ours
    assert accepted == list(range(accepted[0], accepted[-1] + 1))
    expected = (accepted[0], accepted[-1]) if c["as_int"] else ((accepted[0],), (accepted[-1],))
    assert (lo, hi) == expected


@given(transpose_cfg(symmetric=True, with_a=False))
def test_conv_transpose_size_range_matches_torch_output_size(c):
    n = c["n"]
    p = _per(c["padding"], n)
    ours = _ours(lambda: conv_transpose_size_range(c["size_in"], c["k_in"], c["s_in"],
                                                   c["padding"], c["d_in"]))
    if isinstance(ours, ShapeError):
        return  # see the exhaustive 1-d scan above
    lo, hi = (_per(v, n) for v in ours)
    module = getattr(torch.nn, f"ConvTranspose{n}d")(
        1, 1, c["k"], stride=c["s"], padding=p, dilation=c["d"], bias=False)
    x = torch.zeros(1, 1, *c["size"])
    tconv = getattr(F, f"conv_transpose{n}d")
    w = torch.zeros(1, 1, *c["k"])
    # every size in the range is accepted, and output_padding_for finds the a that reaches it
    for target in itertools.product(*[range(a, b + 1) for a, b in zip(lo, hi, strict=True)]):
        assert _torch(lambda target=target: module(x, output_size=list(target))) == target
        target_in = target[0] if c["as_int"] else target
        a = output_padding_for(c["size_in"], target_in, c["k_in"], c["s_in"], c["padding"],
                               c["d_in"])
        a_t = _per(a, n)
        assert all(0 <= v < sj for v, sj in zip(a_t, c["s"], strict=True))
        assert _torch(lambda a_t=a_t: tconv(x, w, stride=c["s"], padding=p, output_padding=a_t,
                                            dilation=c["d"])) == target
    # one step outside, in any one dimension, is rejected by both
    for axis in range(n):
        for outside in (lo[axis] - 1, hi[axis] + 1):
            target = list(lo)
            target[axis] = outside
            # torch quotes a range that starts below 1 when padding crops everything; a size
            # of 0 then fails later with a RuntimeError (1-d) or gives an empty tensor (2-d/3-d)
            if outside >= 1:
                with pytest.raises(ValueError, match="valid sizes range"):
                    module(x, output_size=target)
            else:
                assert isinstance(_torch(lambda target=target: module(x, output_size=target)),
                                  Exception)
            target_in = target[0] if c["as_int"] else tuple(target)
            with pytest.raises(ShapeError, match=r"^output_padding_for: "):
                output_padding_for(c["size_in"], target_in, c["k_in"], c["s_in"], c["padding"],
                                   c["d_in"])


def test_conv_transpose_size_range_when_padding_exceeds_the_full_output():
    """i'=1, k=1, s=3, p=1: torch accepts output_size=1 (output_padding 2); range is (1, 1)."""
    module = torch.nn.ConvTranspose1d(1, 1, 1, stride=3, padding=1, bias=False)
    assert module(torch.zeros(1, 1, 1), output_size=[1]).shape == (1, 1, 1)
    assert output_padding_for(1, 1, 1, stride=3, padding=1) == 2
    assert conv_transpose_output_size(1, 1, stride=3, padding=1, output_padding=2) == 1
    assert conv_transpose_size_range(1, 1, stride=3, padding=1) == (1, 1)


def test_conv_transpose_size_range_examples():
    assert conv_transpose_size_range(7, 3, stride=2, padding=1) == (13, 14)
    assert conv_transpose_size_range((4, 5), 4, stride=2, padding=1) == ((8, 10), (9, 11))
    assert conv_transpose_size_range(3, 3) == (5, 5)
    assert output_padding_for(7, 14, 3, stride=2, padding=1) == 1
    assert output_padding_for((7, 7), (13, 14), 3, stride=2, padding=1) == (0, 1)


# ---------------------------------------------------------------------------------------------
# equivalent_conv: the direct form, built in torch, equals F.conv_transpose in value


def _signed(v: int) -> str:
    return f"{v}" if v >= 0 else f"{v} (crop {-v})"


@given(transpose_cfg(), st.integers(1, 2), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_equivalent_conv_direct_form_equals_conv_transpose(c, cin, cout, seed):
    n = c["n"]
    ours = _ours(lambda: equivalent_conv(c["size_in"], c["k_in"], c["s_in"], c["padding"],
                                         c["a_in"], c["d_in"]))
    theirs = torch_transpose(c["size"], c["k"], c["s"], c["padding"], c["a"], c["d"])
    if isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), (ours, c)
        return
    eq = ours
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((1, cin, *c["size"])))
    w = torch.from_numpy(rng.standard_normal((cin, cout, *c["k"])))
    pairs = _pairs(c["padding"], n)
    tconv = getattr(F, f"conv_transpose{n}d")
    if all(b == e for b, e in pairs):
        ref = tconv(x, w, stride=c["s"], padding=[b for b, _ in pairs], output_padding=c["a"],
                    dilation=c["d"])
    else:
        ref = _crop(tconv(x, w, stride=c["s"], output_padding=c["a"], dilation=c["d"]), pairs)

    # 1. stretch: s - 1 zeros between input units
    stretched = torch.zeros(1, cin, *_per(eq.stretched_size, n), dtype=x.dtype)
    stretched[(slice(None), slice(None), *[slice(None, None, sj) for sj in c["s"]])] = x
    # 2. pad (negative crops), 3. stride-1 conv with the flipped, channel-swapped kernel
    before, after = _per(eq.pad_before, n), _per(eq.pad_after, n)
    padded = F.pad(stretched, _torch_pad(list(zip(before, after, strict=True))))
    flipped = w.transpose(0, 1).flip(dims=tuple(range(2, 2 + n)))
    direct = getattr(F, f"conv{n}d")(padded, flipped, dilation=c["d"])
    assert tuple(direct.shape[2:]) == tuple(ref.shape[2:]) == _per(eq.output_size, n)
    assert_close(direct.numpy(), ref)

    # the relationship number and the explanation
    rels = _per(eq.relationship, n)
    text = str(eq)
    for axis in range(n):
        i, k, s, d = c["size"][axis], c["k"][axis], c["s"][axis], c["d"][axis]
        (pb, pa), a, rel = pairs[axis], c["a"][axis], rels[axis]
        assert 7 <= rel <= 13
        if d != 1 or pb != pa:
            assert rel == 13
        elif s == 1:
            assert rel == (7 if pb == 0 else rel) and rel in (7, 8, 9, 10)
        else:
            assert rel in (11, 12, 13) and (rel == 11) == (pb == 0 and a == 0)
        assert f"Relationship {rel}:" in text
        assert f"i'={i}, k={k}, s={s}, " in text
        assert f"a={a}" in text and f"-> o'={theirs[axis]}" in text
        assert f"ĩ'={s * (i - 1) + 1} " in text and f"k'={k}, s'=1" in text
        assert f"= {_signed(before[axis])} before" in text
        assert f"= {_signed(after[axis])} after" in text
        assert f"conv(i={theirs[axis]}, k={k}, s={s}" in text
    # one paragraph per dimension, or one for "every dimension" when they are all alike
    alike = n > 1 and len({(c["size"][j], c["k"][j], c["s"][j], pairs[j], c["a"][j], c["d"][j])
                           for j in range(n)}) == 1
    assert text.count("Relationship") == (1 if alike else n)
    if alike:
        assert text.startswith("every dimension: ")
    elif n > 1:
        assert all(f"dimension {j}: transposed convolution" in text for j in range(n))


def test_equivalent_conv_follows_the_input_form():
    eq = equivalent_conv(3, 3, stride=2, padding=1, output_padding=1)
    assert (eq.size, eq.kernel_size, eq.stride, eq.padding, eq.output_padding, eq.dilation) == (
        3, 3, 2, 1, 1, 1)
    assert (eq.stretched_size, eq.pad_before, eq.pad_after, eq.output_size, eq.relationship) == (
        5, 1, 2, 6, 13)
    eq2 = equivalent_conv((3, 4), (3, 2), stride=(2, 1), padding=((1, 0), (0, 1)), dilation=2)
    assert eq2.size == (3, 4) and eq2.padding == ((1, 0), (0, 1))
    assert eq2.stretched_size == (5, 4) and eq2.pad_before == (3, 2) and eq2.pad_after == (4, 1)
    assert eq2.relationship == (13, 13)
    assert torch_transpose((3, 4), (3, 2), (2, 1), ((1, 0), (0, 1)), (0, 0), (2, 2)) == (
        eq2.output_size)
    text = str(eq2)
    assert text.startswith("dimension 0: ") and "\ndimension 1: " in text
    assert "p=(1, 0)" in text and "d=2 (k_eff=5)" in text and "d'=2" in text


def test_equivalent_conv_str_shows_a_crop():
    eq = equivalent_conv(5, 3, padding=3)  # p > k - 1: the direct form crops 1 on each side
    assert (eq.pad_before, eq.pad_after, eq.output_size) == (-1, -1, 1)
    assert "-1 (crop 1) before" in str(eq) and "Relationship 8" in str(eq)
    assert torch_transpose((5,), (3,), (1,), 3, (0,), (1,)) == (1,)


# ---------------------------------------------------------------------------------------------
# The seeds' worked sizes, exactly


def test_seed_002_conv_5x5_kernel_3x3_gives_3x3():
    assert conv_output_size((5, 5), 3) == (3, 3)
    assert conv_output_size((5, 5), (3, 3), 1, 0) == (3, 3)
    assert torch_conv((5, 5), (3, 3), (1, 1), 0, (1, 1)) == (3, 3)


def test_seed_002_transpose_2x2_kernel_2_gives_3x3():
    assert conv_transpose_output_size((2, 2), 2) == (3, 3)
    assert conv_transpose_output_size((2, 2), 2, 1, 0) == (3, 3)
    assert torch_transpose((2, 2), (2, 2), (1, 1), 0, (0, 0), (1, 1)) == (3, 3)


# (relationship, i, k, s, p, conv output o, a, stretched i~', p' before, p' after)
SEED_004 = [
    (7, 4, 3, 1, 0, 2, 0, 2, 2, 2),
    (8, 5, 4, 1, 2, 6, 0, 6, 1, 1),
    (9, 5, 3, 1, 1, 5, 0, 5, 1, 1),
    (10, 5, 3, 1, 2, 7, 0, 7, 0, 0),
    (11, 5, 3, 2, 0, 2, 0, 3, 2, 2),
    (12, 5, 3, 2, 1, 3, 0, 5, 1, 1),
    (13, 6, 3, 2, 1, 3, 1, 5, 1, 2),
]


@pytest.mark.parametrize(("rel", "i", "k", "s", "p", "o", "a", "stretched", "pb", "pa"),
                         SEED_004, ids=[f"relationship-{r[0]}" for r in SEED_004])
def test_seed_004_relationships(rel, i, k, s, p, o, a, stretched, pb, pa):
    assert conv_output_size(i, k, s, p) == o
    assert torch_conv((i,), (k,), (s,), p, (1,)) == (o,)
    assert output_padding_for(o, i, k, s, p) == a == (i + 2 * p - k) % s
    assert conv_transpose_output_size(o, k, s, p, a) == i
    assert torch_transpose((o,), (k,), (s,), p, (a,), (1,)) == (i,)
    assert conv_transpose_output_size((o, o), k, s, p, a) == (i, i)

    eq = equivalent_conv(o, k, s, p, a)
    assert eq.relationship == rel
    assert (eq.stretched_size, eq.pad_before, eq.pad_after, eq.output_size) == (
        stretched, pb, pa, i)
    if a == 0:
        assert pb == k - p - 1  # the guide's p' (p' = k - 1 for p = 0, p' = p for half padding)
    text = str(eq)
    assert f"Relationship {rel}:" in text
    assert f"transposed convolution i'={o}, k={k}, s={s}, p={p}, a={a} -> o'={i}" in text
    assert f"ĩ'={stretched} ({o} units with s - 1 = {s - 1} zero" in text
    assert f"k'={k}, s'=1, p'=k - 1 - p = {pb} before and k - 1 - p + a = {pa} after" in text
    assert f"conv(i={i}, k={k}, s={s}, p={p}) -> {o}" in text
    assert f"mod {s} = {a}" in text


def test_seed_004_relationship_13_in_2d():
    eq = equivalent_conv((3, 3), 3, stride=2, padding=1, output_padding=1)
    assert eq.relationship == (13, 13) and eq.output_size == (6, 6)
    assert eq.stretched_size == (5, 5) and eq.pad_before == (1, 1) and eq.pad_after == (2, 2)
    module = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    assert module(torch.zeros(1, 1, 3, 3), output_size=[6, 6]).shape == (1, 1, 6, 6)
    assert output_padding_for((3, 3), (6, 6), 3, stride=2, padding=1) == (1, 1)


# ---------------------------------------------------------------------------------------------
# Forms of results and of the exception


def test_shape_error_is_a_value_error():
    assert issubclass(ShapeError, ValueError)
    assert upconv.ShapeError is ShapeError
    with pytest.raises(ValueError, match="must be a positive integer"):
        conv_output_size(0, 3)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (5, 3),
        (np.int64(5), 3),
        ((5,), (3,)),
        ([5], (3,)),
        (np.array([5, 6]), (3, 4)),
        ((5, 6), (3, 4)),
        ((5, 6, 7), (3, 4, 5)),
    ],
)
def test_results_follow_the_input_form(size, expected):
    got = conv_output_size(size, 3)
    assert got == expected and type(got) is type(expected)
    if isinstance(expected, tuple):
        assert all(type(v) is int for v in got)


def test_every_function_follows_the_input_form():
    assert type(pool_output_size(6, 2)) is int
    assert pool_output_size((6,), 2) == (3,)
    assert type(conv_transpose_output_size(3, 2)) is int
    assert conv_transpose_output_size((3,), 2) == (4,)
    assert conv_transpose_size_range(3, 2, stride=2) == (6, 7)
    assert conv_transpose_size_range((3,), 2, stride=2) == ((6,), (7,))
    assert type(output_padding_for(3, 7, 2, stride=2)) is int
    assert output_padding_for((3,), (7,), 2, stride=2) == (1,)
    assert output_padding_for((3, 3), 7, 2, stride=2) == (1, 1)  # target as an int
    eq = equivalent_conv((3,), 2)
    assert eq.size == (3,) and eq.stretched_size == (3,) and eq.relationship == (7,)
    assert same_padding(5, 3) == ((1, 1),)
    assert conv_geometry(5, 3).output_size == (3,)
    assert pool_geometry(5, 2).stride == (2,)  # stride defaults to kernel_size
    assert transpose_geometry(7, 3, 2, 1, output_size=14).output_padding == (1,)


# ---------------------------------------------------------------------------------------------
# Bad input: one pytest.raises per message; each names the function, the argument, its value

ERRORS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # sizes
    ("size-float", lambda: conv_output_size(5.0, 3), TypeError,
     "conv_output_size: size=5.0 must be an int or a tuple of ints (one per spatial dimension), "
     "not float"),
    ("size-bool", lambda: pool_output_size(True, 1), TypeError,
     "pool_output_size: size=True must be an int or a tuple of ints"),
    ("size-numpy-bool", lambda: conv_output_size(np.bool_(True), 1), TypeError,
     "conv_output_size: size=np.True_ must be an int or a tuple of ints"),
    ("size-2d-array", lambda: conv_output_size(np.zeros((2, 2), dtype=int), 1), TypeError,
     "conv_output_size: size=array(shape=(2, 2), dtype=int64) must be an int or a tuple"),
    ("size-zero", lambda: conv_output_size(0, 3), ShapeError,
     "conv_output_size: size=0 must be a positive integer (>= 1)"),
    ("size-negative", lambda: conv_transpose_output_size(-4, 2), ShapeError,
     "conv_transpose_output_size: size=-4 must be a positive integer (>= 1)"),
    ("size-tuple-zero", lambda: conv_transpose_output_size((5, 0), 3), ShapeError,
     "conv_transpose_output_size: size=(5, 0) must be positive in every dimension; "
     "dimension 1 is 0"),
    ("size-tuple-float", lambda: pool_output_size((5, 2.5), 2), TypeError,
     "pool_output_size: size=(5, 2.5) must hold integers; dimension 1 is 2.5 (float)"),
    ("size-4d", lambda: conv_output_size((2, 2, 2, 2), 1), ShapeError,
     "conv_output_size: size=(2, 2, 2, 2) has 4 dimensions; upconv supports 1, 2 or 3 spatial "
     "dimensions"),
    ("size-0d", lambda: same_padding((), 1), ShapeError,
     "same_padding: size=() has 0 dimensions; upconv supports 1, 2 or 3"),
    # kernel_size, stride, dilation
    ("kernel-float", lambda: conv_output_size(5, 2.0), TypeError,
     "conv_output_size: kernel_size=2.0 must be an int or a tuple of 1 ints, not float"),
    ("kernel-bool", lambda: conv_output_size((5, 5), True), TypeError,
     "conv_output_size: kernel_size=True must be an int or a tuple of 2 ints, not bool"),
    ("kernel-zero", lambda: conv_output_size(5, 0), ShapeError,
     "conv_output_size: kernel_size=0 must be a positive integer (>= 1)"),
    ("stride-negative", lambda: conv_transpose_output_size(5, 3, stride=-1), ShapeError,
     "conv_transpose_output_size: stride=-1 must be a positive integer (>= 1)"),
    ("stride-zero-pool", lambda: pool_output_size(5, 2, stride=0), ShapeError,
     "pool_output_size: stride=0 must be a positive integer (>= 1)"),
    ("dilation-zero", lambda: pool_output_size(5, 2, dilation=0), ShapeError,
     "pool_output_size: dilation=0 must be a positive integer (>= 1)"),
    ("stride-tuple-zero", lambda: conv_output_size((5, 5), 3, stride=(1, 0)), ShapeError,
     "conv_output_size: stride=(1, 0) must be positive (>= 1) in every dimension; "
     "dimension 1 is 0"),
    ("dilation-tuple-bool", lambda: conv_output_size((5, 5), 3, dilation=(1, True)), TypeError,
     "conv_output_size: dilation=(1, True) must hold integers; dimension 1 is True (bool)"),
    ("kernel-wrong-length", lambda: conv_output_size(5, (3, 3)), ShapeError,
     "conv_output_size: kernel_size=(3, 3) has 2 values but the input has 1 spatial dimension; "
     "give an int or a tuple of 1 ints"),
    ("stride-wrong-length", lambda: pool_output_size((5, 5, 5), 2, stride=(1, 2)), ShapeError,
     "pool_output_size: stride=(1, 2) has 2 values but the input has 3 spatial dimensions"),
    # padding
    ("padding-negative", lambda: conv_output_size(5, 3, padding=-1), ShapeError,
     "conv_output_size: padding=-1 must be an integer >= 0"),
    ("padding-negative-pool", lambda: pool_output_size(5, 3, padding=-1), ShapeError,
     "pool_output_size: padding=-1 must be an integer >= 0"),
    ("padding-float", lambda: conv_output_size(5, 3, padding=1.5), TypeError,
     "conv_output_size: padding=1.5 must be an int, a tuple of ints or (before, after) pairs, "
     "not float"),
    ("padding-wrong-length", lambda: conv_output_size((5, 5), 3, padding=(1, 1, 1)), ShapeError,
     "conv_output_size: padding=(1, 1, 1) has 3 entries but the input has 2 spatial dimensions"),
    ("padding-bad-entry", lambda: conv_output_size(5, 3, padding=((1, 2, 3),)), TypeError,
     "conv_output_size: padding=((1, 2, 3),): dimension 0 is (1, 2, 3); each entry must be an "
     "int or a (before, after) pair of ints"),
    ("padding-pair-float", lambda: conv_transpose_output_size(5, 3, padding=((0, 0.5),)),
     TypeError,
     "conv_transpose_output_size: padding=((0, 0.5),) must hold integers; dimension 0 has 0.5 "
     "(float)"),
    ("padding-pair-negative", lambda: conv_output_size(5, 3, padding=((0, -1),)), ShapeError,
     "conv_output_size: padding=((0, -1),) must be >= 0 in every dimension; dimension 0 has -1"),
    ("padding-unknown-string", lambda: conv_output_size(5, 3, padding="full"), ShapeError,
     "conv_output_size: padding='full' is not understood; give an int, a tuple of ints or "
     "(before, after) pairs, 'same' or 'valid'"),
    ("padding-string-transposed", lambda: conv_transpose_output_size(5, 3, padding="same"),
     ShapeError,
     "conv_transpose_output_size: padding='same' is not understood; give an int, a tuple of "
     "ints or (before, after) pairs$"),
    ("padding-same-strided", lambda: conv_output_size(5, 3, stride=2, padding="same"),
     ShapeError,
     "conv_output_size: padding='same' requires stride=1 (PyTorch's rule), got stride=2"),
    ("pool-padding-over-half", lambda: pool_output_size(5, 3, stride=1, padding=2), ShapeError,
     "pool_output_size: padding=2 must be at most half of kernel_size=3 (PyTorch's rule "
     "padding <= kernel_size // 2); dimension 0 has 2 > 3 // 2"),
    ("pool-ceil-mode-type", lambda: pool_output_size(5, 2, ceil_mode=1), TypeError,
     "pool_output_size: ceil_mode=1 must be a bool"),
    # output sizes <= 0
    ("conv-kernel-larger", lambda: conv_output_size(3, 3, dilation=2), ShapeError,
     "conv_output_size: the dilated kernel d*(k-1)+1=5 (kernel_size=3, dilation=2) is larger "
     "than the padded input 3+0+0=3 in dimension 0; the output would be empty"),
    ("pool-window-larger", lambda: pool_output_size(1, 3, stride=1), ShapeError,
     "pool_output_size: the pooling window d*(k-1)+1=3 is larger than the padded input "
     "1+2*0=1 in dimension 0; the output would be empty"),
    ("transpose-cropped-to-nothing", lambda: conv_transpose_output_size(1, 3, padding=2),
     ShapeError,
     "conv_transpose_output_size: the output would be empty in dimension 0: the full output "
     "s*(i-1)+d*(k-1)+1=3 minus padding 2 plus output_padding 0 is -1; reduce padding"),
    # output_padding
    ("output-padding-too-big", lambda: conv_transpose_output_size(4, 3, stride=2,
                                                                 output_padding=2), ShapeError,
     "conv_transpose_output_size: output_padding=2 must be smaller than stride=2 or dilation=1 "
     "(PyTorch's rule output_padding < max(stride, dilation))"),
    ("output-padding-too-big-2d",
     lambda: equivalent_conv((4, 4), 3, stride=(2, 3), output_padding=(1, 3)), ShapeError,
     "equivalent_conv: output_padding=(1, 3) must be smaller than stride=(2, 3) or "
     "dilation=(1, 1) (PyTorch's rule output_padding < max(stride, dilation)); dimension 1 "
     "has 3"),
    ("output-padding-negative", lambda: conv_transpose_output_size(4, 3, output_padding=-1),
     ShapeError, "conv_transpose_output_size: output_padding=-1 must be an integer >= 0"),
    # output_padding_for
    ("target-unreachable", lambda: output_padding_for(7, 16, 3, stride=2, padding=1), ShapeError,
     "output_padding_for: target=16 is not reachable: in dimension 0 the output size "
     "ranges from 13 to 14 (output_padding 0 to 1) for size=7, kernel_size=3, stride=2, "
     "padding=1, dilation=1"),
    ("target-zero", lambda: output_padding_for(7, 0, 3), ShapeError,
     "output_padding_for: target=0 must be a positive integer (>= 1)"),
    ("target-wrong-length", lambda: output_padding_for((7, 7), (14, 14, 14), 3), ShapeError,
     "output_padding_for: target=(14, 14, 14) has 3 values but the input has 2 spatial "
     "dimensions"),
    ("range-cropped-to-nothing", lambda: conv_transpose_size_range(1, 3, padding=3), ShapeError,
     "conv_transpose_size_range: the output would be empty in dimension 0"),
]


@pytest.mark.parametrize(("call", "exc", "message"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_error_messages(call, exc, message):
    exact = message.endswith("$")
    pattern = "^" + re.escape(message.removesuffix("$")) + ("$" if exact else "")
    with pytest.raises(exc, match=pattern):
        call()


def test_unreachable_target_message_names_the_target_argument():
    """output_padding_for's argument is ``target``; its message should say ``target=16``."""
    with pytest.raises(ShapeError, match=r"^output_padding_for: target=16 is not reachable"):
        output_padding_for(7, 16, 3, stride=2, padding=1)


# PyTorch refuses the same configurations (run it, do not assume)
TORCH_REFUSES = [
    ("padding-same-strided",
     lambda: F.conv1d(torch.zeros(1, 1, 5), torch.zeros(1, 1, 3), stride=2, padding="same")),
    ("padding-unknown-string",
     lambda: F.conv1d(torch.zeros(1, 1, 5), torch.zeros(1, 1, 3), padding="full")),
    ("conv-kernel-larger",
     lambda: F.conv1d(torch.zeros(1, 1, 3), torch.zeros(1, 1, 3), dilation=2)),
    ("pool-padding-over-half", lambda: F.max_pool1d(torch.zeros(1, 1, 5), 3, 1, 2)),
    ("pool-window-larger", lambda: F.max_pool1d(torch.zeros(1, 1, 1), 3, 1)),
    ("transpose-cropped-to-nothing",
     lambda: F.conv_transpose1d(torch.zeros(1, 1, 1), torch.zeros(1, 1, 3), padding=2)),
    ("output-padding-too-big",
     lambda: F.conv_transpose1d(torch.zeros(1, 1, 4), torch.zeros(1, 1, 3), stride=2,
                                output_padding=2)),
    ("target-unreachable",
     lambda: torch.nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, 7),
                                                                     output_size=[16])),
]


@pytest.mark.parametrize("call", [e[1] for e in TORCH_REFUSES], ids=[e[0] for e in TORCH_REFUSES])
def test_torch_refuses_the_same_configurations(call):
    assert isinstance(_torch(call), TORCH_ERRORS)


@pytest.mark.parametrize(
    ("func", "call"),
    [
        ("conv_output_size", lambda: conv_output_size(0, 1)),
        ("pool_output_size", lambda: pool_output_size(0, 1)),
        ("conv_transpose_output_size", lambda: conv_transpose_output_size(0, 1)),
        ("conv_transpose_size_range", lambda: conv_transpose_size_range(0, 1)),
        ("output_padding_for", lambda: output_padding_for(0, 1, 1)),
        ("equivalent_conv", lambda: equivalent_conv(0, 1)),
        ("same_padding", lambda: same_padding(0, 1)),
        ("conv_output_size", lambda: conv_geometry(0, 1)),
        ("pool_output_size", lambda: pool_geometry(0, 1)),
        ("conv_transpose_output_size", lambda: transpose_geometry(0, 1)),
        ("conv", lambda: conv_geometry(5, 1, stride=0, func="conv")),
        ("max_pool", lambda: pool_geometry(5, 3, padding=2, func="max_pool")),
        ("conv_transpose",
         lambda: transpose_geometry(5, 1, output_padding=1, func="conv_transpose")),
    ],
)
def test_errors_name_the_function(func, call):
    with pytest.raises(ShapeError, match=f"^{func}: "):
        call()


def test_resolved_geometries_are_reused_only_for_plain_arguments():
    # conv_geometry / transpose_geometry keep their results for plain arguments (ints,
    # strings, tuples): the same object comes back, equal to a fresh resolution.  A bool or a
    # NumPy integer is never taken for the equal int of a kept result, and errors are raised
    # on every call.
    g = conv_geometry((9, 7), 3, 2, ((1, 0), (2, 2)), 1, func="conv")
    assert conv_geometry((9, 7), 3, 2, ((1, 0), (2, 2)), 1, func="conv") is g
    assert g == conv_geometry.__wrapped__((9, 7), 3, 2, ((1, 0), (2, 2)), 1, func="conv")
    t = transpose_geometry((4,), 3, 2, 1, output_size=(8,), func="conv_transpose")
    assert transpose_geometry((4,), 3, 2, 1, output_size=(8,), func="conv_transpose") is t
    assert t.output_padding == (1,) and t.output_size == (8,)
    conv_geometry((5,), 3, stride=1)
    with pytest.raises(TypeError, match="stride=True"):
        conv_geometry((5,), 3, stride=True)
    same = conv_geometry((5,), 3, stride=np.int64(1))  # valid, resolved afresh
    assert same == conv_geometry((5,), 3, stride=1)
    assert same is not conv_geometry((5,), 3, stride=1)
    for _ in range(2):
        with pytest.raises(ShapeError, match="output_padding=2"):
            transpose_geometry((4,), 3, 2, 0, 2)
