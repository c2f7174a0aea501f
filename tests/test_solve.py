"""The inverse problems (solvers) and the decoder planner, checked by running PyTorch."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import upconv
from upconv import shapes
from upconv.shapes import (
    LayerSpec,
    checkerboard_counts,
    parse_layers,
    plan_decoder,
    solve_conv,
    solve_conv_transpose,
)

torch.set_num_threads(1)


def torch_transpose_len(i, k, s, p, a, d):
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    return F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=a, dilation=d).shape[-1]


def torch_conv_len(i, k, s, p, d):
    return F.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p,
                    dilation=d).shape[-1]


def brute_transpose(i, target, mk, fixed):
    """Every configuration of the documented search space, sized by PyTorch itself."""
    found = set()
    ds = [fixed["dilation"]] if "dilation" in fixed else range(1, mk + 1)
    ss = [fixed["stride"]] if "stride" in fixed else range(1, mk + 1)
    ks = [fixed["kernel_size"]] if "kernel_size" in fixed else range(1, mk + 1)
    for k, d, s in itertools.product(ks, ds, ss):
        if "dilation" not in fixed and (d * (k - 1) + 1 > mk and d > 1 or k == 1 and d > 1):
            continue
        for p in [fixed["padding"]] if "padding" in fixed else range(0, d * (k - 1) + 1):
            for a in range(max(s, d)):
                cand = dict(kernel_size=k, stride=s, padding=p, dilation=d)
                if any(v is not None and cand[key] != v for key, v in fixed.items()):
                    continue
                try:
                    o = torch_transpose_len(i, k, s, p, a, d)
                except RuntimeError:
                    continue
                if o == target:
                    found.add((k, s, p, a, d))
    return found


fixed_st = st.fixed_dictionaries({
    "kernel_size": st.none() | st.integers(1, 4),
    "stride": st.none() | st.integers(1, 4),
    "padding": st.none() | st.integers(0, 3),
    "dilation": st.none() | st.just(1) | st.integers(1, 3),
})


@given(i=st.integers(1, 9), target=st.integers(1, 30), mk=st.integers(2, 4), fixed=fixed_st)
def test_solve_conv_transpose_is_complete_and_correct(i, target, mk, fixed):
    sols = solve_conv_transpose(i, target, max_kernel_size=mk, **fixed)
    got = {(x.kernel_size, x.stride, x.padding, x.output_padding, x.dilation) for x in sols}
    # every answer runs in PyTorch and gives the target ...
    for k, s, p, a, d in got:
        assert torch_transpose_len(i, k, s, p, a, d) == target
    # ... and nothing in the search space is missing (an empty answer is checked by brute force)
    assert got == brute_transpose(i, target, mk, {k: v for k, v in fixed.items()
                                                  if v is not None})
    if not sols:
        assert "no transposed convolution maps" in sols.explanation
        assert "reachable sizes are" in sols.explanation


@given(i=st.integers(2, 12), target=st.integers(1, 40))
def test_solutions_are_ranked_checkerboard_free_first(i, target):
    sols = solve_conv_transpose(i, target, max_kernel_size=6)
    flags = [x.checkerboard_free for x in sols]
    assert flags == sorted(flags, reverse=True)
    for x in sols:
        counts = checkerboard_counts(x.kernel_size, x.stride, x.dilation)
        assert x.checkerboard_free == (min(counts) == max(counts))


@given(k=st.integers(1, 7), s=st.integers(1, 5), d=st.integers(1, 4))
def test_checkerboard_counts_match_pytorch_overlap(k, s, d):
    # All-ones input and kernel: each output value counts the taps that reach it.
    n = 4 * (d * k + s)
    y = F.conv_transpose1d(torch.ones(1, 1, n), torch.ones(1, 1, k), stride=s, dilation=d)
    lo = -(-d * (k - 1) // s) * s  # first output position o ≡ 0 (mod s) past the left border
    interior = y[0, 0, lo: lo + 2 * s].numpy().astype(int)  # two full periods away from borders
    counts = checkerboard_counts(k, s, d)
    assert interior.tolist()[:s] == list(counts)
    assert (min(counts) == max(counts)) == (np.gcd(d, s) == 1 and k % s == 0)


def test_seed_question_7_to_14():
    # "which padding and output padding take 7 to 14?" (k=3, s=2)
    sols = solve_conv_transpose(7, 14, kernel_size=3, stride=2, dilation=1)
    assert [(x.padding, x.output_padding) for x in sols] == [(1, 1)]
    assert not sols[0].checkerboard_free
    best = solve_conv_transpose(7, 14)[0]
    assert (best.kernel_size, best.stride, best.padding, best.output_padding) == (2, 2, 0, 0)


def test_empty_answer_is_explained():
    sols = solve_conv_transpose(7, 14, kernel_size=2, stride=3, dilation=1)
    assert list(sols) == []
    assert "with kernel_size=2, stride=3, dilation=1" in sols.explanation
    assert "reachable sizes are 18-22" in sols.explanation
    assert sorted(torch_transpose_len(7, 2, 3, p, a, 1) for p in (0, 1) for a in range(3)) == [
        18, 19, 20, 20, 21, 22]


def test_tuple_sizes_solve_each_dimension():
    per = solve_conv_transpose((7, 8), (14, 16), kernel_size=4, stride=2, dilation=1)
    assert isinstance(per, tuple) and len(per) == 2
    assert [str(x) for x in per[0]] == ["kernel_size=4, stride=2, padding=1, output_padding=0"]
    assert [str(x) for x in per[1]] == ["kernel_size=4, stride=2, padding=1, output_padding=0"]


@given(i=st.integers(1, 16), target=st.integers(1, 16), mk=st.integers(2, 4), fixed=fixed_st)
def test_solve_conv_is_complete_and_correct(i, target, mk, fixed):
    sols = solve_conv(i, target, max_kernel_size=mk, **fixed)
    got = {(x.kernel_size, x.stride, x.padding, x.dilation) for x in sols}
    fx = {k: v for k, v in fixed.items() if v is not None}
    brute = set()
    ds = [fx["dilation"]] if "dilation" in fx else range(1, mk + 1)
    ss = [fx["stride"]] if "stride" in fx else range(1, mk + 1)
    ks = [fx["kernel_size"]] if "kernel_size" in fx else range(1, mk + 1)
    for k, d, s in itertools.product(ks, ds, ss):
        if "dilation" not in fx and (d * (k - 1) + 1 > mk and d > 1 or k == 1 and d > 1):
            continue
        for p in [fx["padding"]] if "padding" in fx else range(d * (k - 1) + 1):
            cand = dict(kernel_size=k, stride=s, padding=p, dilation=d)
            if any(cand[key] != v for key, v in fx.items()):
                continue
            try:
                o = torch_conv_len(i, k, s, p, d)
            except RuntimeError:
                continue
            if o == target:
                brute.add((k, s, p, d))
    assert got == brute
    for x in sols:
        assert torch_conv_len(i, x.kernel_size, x.stride, x.padding, x.dilation) == target
        # the mirror's output_padding brings the transposed convolution back to i
        assert torch_transpose_len(target, x.kernel_size, x.stride, x.padding, x.output_padding,
                                   x.dilation) == i
        # unused inputs, counted independently: inputs whose gradient is structurally zero
        xt = torch.ones(1, 1, i, requires_grad=True)
        F.conv1d(xt, torch.ones(1, 1, x.kernel_size), stride=x.stride, padding=x.padding,
                 dilation=x.dilation).sum().backward()
        assert int((xt.grad == 0).sum()) == x.unused_inputs
    flags = [x.unused_inputs > 0 for x in sols]
    assert flags == sorted(flags)


# ---------------------------------------------------------------------------------------------
# plan_decoder


layer_st = st.one_of(
    st.builds(lambda k, s, p, d: LayerSpec("conv", k, stride=s, padding=p, dilation=d),
              st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    st.builds(lambda k, s, p, d, c: LayerSpec("pool", k, stride=s, padding=min(p, k // 2),
                                              dilation=d, ceil_mode=c),
              st.integers(1, 4), st.none() | st.integers(1, 3), st.integers(0, 2),
              st.integers(1, 2), st.booleans()),
)


def run_encoder_decoder(layers, size):
    """Run the encoder in PyTorch, then the planned decoder; return both size lists."""
    x = torch.zeros((1, 1, *size))
    enc_sizes, switches = [tuple(size)], []
    conv = {1: F.conv1d, 2: F.conv2d}[len(size)]
    pool = {1: F.max_pool1d, 2: F.max_pool2d}[len(size)]
    for spec in layers:
        if spec.kind == "conv":
            w = torch.zeros((1, 1) + (spec.kernel_size,) * len(size))
            x = conv(x, w, stride=spec.stride, padding=spec.padding, dilation=spec.dilation)
            switches.append(None)
        else:
            plane = int(np.prod(x.shape[2:]))
            x, idx = pool(x, spec.kernel_size, stride=spec.stride, padding=spec.padding,
                          dilation=spec.dilation, ceil_mode=spec.ceil_mode, return_indices=True)
            # A dilated window can fall entirely into the padding; PyTorch then returns a
            # switch outside the plane, which no unpooling can take.
            assume(int(idx.max()) < plane)
            switches.append(idx)
        enc_sizes.append(tuple(x.shape[2:]))
    return x, enc_sizes, switches


@given(layers=st.lists(layer_st, min_size=1, max_size=4), size=st.integers(5, 40),
       ndim=st.sampled_from([1, 2]))
def test_plan_decoder_mirrors_encoder_in_pytorch(layers, size, ndim):
    sizes = (size,) if ndim == 1 else (size, size + 3)
    try:
        x, enc_sizes, switches = run_encoder_decoder(layers, sizes)
        torch_ok = True
    except RuntimeError:
        torch_ok = False
    if not torch_ok:
        with pytest.raises(upconv.ShapeError):
            plan_decoder(layers, sizes)
        return
    plan = plan_decoder(layers, sizes if ndim == 2 else sizes[0])
    assert plan.encoder_sizes == enc_sizes
    tconv = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[ndim]
    unpool = {1: F.max_unpool1d, 2: F.max_unpool2d}[ndim]
    y = x
    for level, layer in enumerate(plan.decoder):
        want = enc_sizes[-2 - level]
        sw = switches[-1 - level]
        if layer.kind == "conv_transpose":
            w = torch.zeros((1, 1, *layer.kernel_size))
            y = tconv(y, w, stride=layer.stride, padding=layer.padding,
                      output_padding=layer.output_padding, dilation=layer.dilation)
            try:
                naive = tconv(y.new_zeros(1, 1, *layer.input_size), w, stride=layer.stride,
                              padding=layer.padding, dilation=layer.dilation).shape[2:]
                assert tuple(naive) == layer.naive_output_size
            except RuntimeError:
                assert min(layer.naive_output_size) < 1
        else:
            y = unpool(y, sw, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                       output_size=list(layer.output_size))
            try:
                naive = unpool(torch.zeros(sw.shape), sw, layer.kernel_size, stride=layer.stride,
                               padding=layer.padding).shape[2:]
                assert tuple(naive) == layer.naive_output_size
            except RuntimeError:  # the naive size is too small to hold the switches
                assert int(sw.max()) >= int(np.prod(layer.naive_output_size))
                assert not layer.naive_ok
        assert tuple(y.shape[2:]) == want == layer.output_size
        assert layer.naive_ok == (layer.naive_output_size == want)


def test_plan_28_14_7_4_with_ceil_mode():
    plan = plan_decoder("conv k=3 s=2 p=1; conv k=3 s=2 p=1; pool k=2 ceil", 28)
    assert [s[0] for s in plan.encoder_sizes] == [28, 14, 7, 4]
    assert [d.output_size[0] for d in plan.decoder] == [7, 14, 28]
    assert plan.naive_mismatches == [0, 1, 2]
    text = str(plan)
    assert "output_padding=1" in text and "output_size=7" in text and "WRONG" in text


def test_plan_accepts_dicts_and_strings():
    a = plan_decoder([{"kind": "conv", "kernel_size": 4, "stride": 2, "padding": 1},
                      "pool k=2"], (16, 15))
    b = plan_decoder("conv k=4 s=2 p=1; pool k=2", (16, 15))
    assert a == b
    assert a.as_dict()["decoder"][1]["call"].startswith("ConvTranspose2d(kernel_size=4")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("deconv k=3", r"parse_layers: layer 0 'deconv k=3' must start with 'conv' or 'pool'"),
        ("conv s=2", r"parse_layers: layer 0 'conv s=2' needs a kernel size"),
        ("conv k=3 q=1", r"cannot read 'q=1'; use k=, s=, p=, d="),
        ("conv k=three", r"k='three' must be an integer such as 3 or 3x3"),
        ("conv k=3 ceil", r"'ceil' applies to pools only"),
        (" ; ", r"parse_layers: layers=' ; ' holds no layer"),
    ],
)
def test_parse_layers_errors(text, match):
    with pytest.raises(upconv.ShapeError, match=match):
        parse_layers(text)


def test_plan_errors_name_the_layer():
    with pytest.raises(upconv.ShapeError, match=r"plan_decoder \(layer 1: conv k=9 s=1\).*"
                       r"dilated kernel d\*\(k-1\)\+1=9.*larger than the padded input"):
        plan_decoder("conv k=3 s=2; conv k=9", 12)
    with pytest.raises(upconv.ShapeError, match=r"plan_decoder: layers\[0\] needs kind='conv'"):
        plan_decoder([{"kind": "dense", "kernel_size": 3}], 12)
    with pytest.raises(TypeError, match=r"plan_decoder: layers\[0\]=3\.5 must be a LayerSpec"):
        plan_decoder([3.5], 12)
    with pytest.raises(upconv.ShapeError, match=r"plan_decoder: layers must be a non-empty"):
        plan_decoder([], 12)
    with pytest.raises(upconv.ShapeError, match=r"asymmetric padding cannot be mirrored"):
        plan_decoder([LayerSpec("conv", 4, stride=1, padding="same")], 12)


def test_solver_argument_errors():
    with pytest.raises(upconv.ShapeError, match=r"solve_conv_transpose: max_kernel_size=0 must"):
        solve_conv_transpose(7, 14, max_kernel_size=0)
    with pytest.raises(TypeError, match=r"solve_conv: stride=1\.5 must be an integer"):
        solve_conv(7, 3, stride=1.5)
    with pytest.raises(upconv.ShapeError, match=r"solve_conv_transpose: target=\(14, 14\) has 2"):
        solve_conv_transpose(7, (14, 14))
    with pytest.raises(upconv.ShapeError, match=r"checkerboard_counts: stride=0 must be"):
        checkerboard_counts(3, 0)


def test_solutions_serialise():
    sols = solve_conv_transpose(4, 8, kernel_size=4, stride=2, dilation=1)
    assert sols[0].as_dict() == {"kernel_size": 4, "stride": 2, "padding": 1,
                                 "output_padding": 0, "dilation": 1, "checkerboard_free": True,
                                 "taps_per_phase": [2, 2], "mirrors_conv": True}
    assert sols.query["size"] == 4
    c = solve_conv(8, 4, kernel_size=4, stride=2, dilation=1)[0]
    assert c.as_dict()["output_padding"] == 0 and str(c) == "kernel_size=4, stride=2, padding=1"
    assert isinstance(shapes.Solutions([], "x", {}), list)
