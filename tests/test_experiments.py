"""upconv.experiments: the Fashion-MNIST loader, the artefact score, the Zeiler-Fergus deconvnet
against torch's backward pass, and --quick runs of both experiments.

Oracles: torch's own ops and autograd (F.max_pool2d indices, F.max_unpool2d, F.conv_transpose2d,
torch.fft, a gradient hook written here), hand-made IDX bytes, and closed-form spectra; never the
experiment code itself.  The data tests read Debian's dataset-fashion-mnist package (CI installs
it); a missing package fails them with the install hint.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upconv.experiments import (
    DatasetMissingError,
    add_arguments,
    artifact_score,
    load_fashion_mnist,
    main,
    power_spectrum,
    psnr,
    run_autoencoder,
    run_deconvnet,
)
from upconv.experiments.data import read_idx
from upconv.experiments.deconvnet import (
    NumpyCNN,
    SmallCNN,
    Switches,
    max_pool_switches,
    relu_backward,
    zeiler_fergus,
)
from upconv.torch import METHODS

# Learning must be visible in the quick runs: the test MSE (autoencoder) and the test
# cross-entropy (classifier) fall at least this much from the first evaluation (at
# initialisation) to the last.  Measured: 5-7x (autoencoder), ~5x (classifier).
LEARNING_FACTOR = 1.5
MIN_ACCURACY = 0.6


# ---------------------------------------------------------------------------------------------
# Data


def test_loader_parses_the_installed_idx_files():
    xtr, ytr = load_fashion_mnist("train")
    xte, yte = load_fashion_mnist("test")
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert ytr.shape == (60000,) and yte.shape == (10000,)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert set(np.unique(ytr)) == set(range(10)) == set(np.unique(yte))
    # Fashion-MNIST is balanced: 6000 / 1000 per class
    assert np.bincount(ytr).tolist() == [6000] * 10
    assert np.bincount(yte).tolist() == [1000] * 10
    assert xtr.max() == 255 and xtr.min() == 0
    # images are centred objects on a black background: the corners are dark
    assert xtr[:, 0, 0].mean() < 5


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_hand_made(tmp_path, gz):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(np.uint8)
    labels = np.array([7, 1], dtype=np.uint8)
    for stem, arr in [("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)]:
        data = _idx_bytes(arr)
        if gz:
            (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (tmp_path / stem).write_bytes(data)
    x, y = load_fashion_mnist("test", tmp_path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_read_idx_rejects_a_bad_header_and_a_short_file(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 16)
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(_idx_bytes(np.zeros((2, 2, 2)))[:-3])
    with pytest.raises(ValueError, match=r"header says shape \(2, 2, 2\)"):
        read_idx(short)


def test_missing_directory_names_the_debian_package(tmp_path):
    with pytest.raises(DatasetMissingError,
                       match="does not exist; install it with: sudo apt-get install "
                             "dataset-fashion-mnist"):
        load_fashion_mnist("train", tmp_path / "nowhere")
    assert issubclass(DatasetMissingError, FileNotFoundError)


def test_missing_file_names_the_file_and_the_package(tmp_path):
    with pytest.raises(DatasetMissingError,
                       match=r"has no train-images-idx3-ubyte\.gz.*sudo apt-get install "
                             "dataset-fashion-mnist"):
        load_fashion_mnist("train", tmp_path)


def test_unknown_split():
    with pytest.raises(ValueError, match="split='val' must be 'train' or 'test'"):
        load_fashion_mnist("val")


def test_run_with_missing_data_fails_before_writing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(DatasetMissingError, match="sudo apt-get install dataset-fashion-mnist"):
        run_autoencoder(out, quick=True, data_dir=tmp_path / "nowhere", progress=False)
    with pytest.raises(DatasetMissingError, match="sudo apt-get install dataset-fashion-mnist"):
        run_deconvnet(out, quick=True, data_dir=tmp_path / "nowhere", progress=False)
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Artefact score and spectra


def test_artifact_score_flat_is_zero_checkerboard_is_large():
    assert artifact_score(np.full((28, 28), 0.37), 4) == 0.0
    assert artifact_score(np.zeros((3, 28, 28)), 4) == 0.0
    i, j = np.indices((28, 28))
    checker = ((i + j) % 2).astype(float)  # period 2: a bin at 28/4 * 2
    assert artifact_score(checker, 4) == pytest.approx(0.5)
    assert artifact_score(2 * checker - 1, 4) == pytest.approx(1.0)
    assert artifact_score(2 * checker - 1, 2) == pytest.approx(1.0)
    # a period-4 pattern (a transposed conv's kernel_size 3, stride 2 stacked twice) counts
    period4 = np.cos(2 * np.pi * i / 4) * np.cos(2 * np.pi * j / 4)
    assert artifact_score(period4, 4) == pytest.approx(1.0)
    # ... but not with factor 2 (its bins are only 0 and 14)
    assert artifact_score(period4, 2) == pytest.approx(0.0, abs=1e-12)
    # a smooth blob has almost nothing there; the same blob with a 10 % checkerboard has more
    blob = np.exp(-((i - 13.5) ** 2 + (j - 13.5) ** 2) / 40)
    assert artifact_score(blob, 4) < 0.01
    assert artifact_score(blob + 0.1 * (2 * checker - 1), 4) > 0.1


def test_power_spectrum_against_torch_fft():
    rng = np.random.default_rng(0)
    x = rng.random((5, 20, 28))
    ours = power_spectrum(x)
    theirs = (torch.fft.fft2(torch.from_numpy(x)).abs() ** 2).mean(0) / (20 * 28)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10)
    # Parseval: the bins sum to the mean sum of squares
    assert ours.sum() == pytest.approx(float((x ** 2).sum(axis=(1, 2)).mean()))


def test_psnr():
    assert psnr(1e-2) == pytest.approx(20.0)
    assert psnr(0.0) == math.inf


# ---------------------------------------------------------------------------------------------
# Switches and the Zeiler-Fergus deconvnet against torch


def test_switches_are_torchs_indices_and_unpool_is_torchs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 8, 6))
    pooled, sw = max_pool_switches(x, 2)
    tp, ti = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(sw.indices, ti.numpy())
    np.testing.assert_array_equal(pooled, tp.numpy())
    assert sw.input_size == (8, 6)
    np.testing.assert_array_equal(
        sw.unpool(pooled), F.max_unpool2d(tp, ti, 2, output_size=(8, 6)).numpy())
    # the mask marks exactly the maxima; offsets point inside each window
    assert sw.mask().sum() == pooled.size
    np.testing.assert_array_equal(np.sort(x[sw.mask()]), np.sort(pooled, axis=None))
    off = sw.offsets()
    assert off.shape == (2, 3, 4, 3, 2) and off.min() == 0 and off.max() == 1
    assert sw.counts().sum() == pooled.size
    # ties after a ReLU: all-zero windows pick the first position, as in torch
    z = np.zeros((1, 1, 4, 4))
    _, swz = max_pool_switches(z, 2)
    _, tiz = F.max_pool2d(torch.zeros(1, 1, 4, 4), 2, return_indices=True)
    np.testing.assert_array_equal(swz.indices, tiz.numpy())
    assert swz.counts().tolist() == [[4, 0], [0, 0]]
    np.testing.assert_array_equal(sw.first_position().indices[0, 0],
                                  [[0, 2, 4], [12, 14, 16], [24, 26, 28], [36, 38, 40]])


def _torch_deconvnet(model: SmallCNN, x: torch.Tensor, layer: int, top: torch.Tensor):
    """The deconvnet backward written independently: straight-through ReLU plus a hook that
    rectifies the gradient, F.conv2d and F.max_pool2d."""
    x = x.clone().requires_grad_(True)
    h = x
    for conv in model.convs[:layer]:
        c = F.conv2d(h, conv.weight, conv.bias, padding=conv.padding)
        c.register_hook(lambda g: g.clamp(min=0))
        relu = c.clamp(min=0).detach() + (c - c.detach())  # value ReLU(c), gradient 1
        h = F.max_pool2d(relu, 2)
    h.backward(top)
    return x.grad


def _torch_zf(model: SmallCNN, x: torch.Tensor, layer: int, top: torch.Tensor):
    """Zeiler-Fergus with torch's ops and torch's own switches."""
    idx = []
    h = x
    with torch.no_grad():
        for conv in model.convs[:layer]:
            pre = F.relu(conv(h))
            h, i = F.max_pool2d(pre, 2, return_indices=True)
            idx.append((i, pre.shape[2:]))
        y = top
        for conv, (i, size) in zip(reversed(model.convs[:layer]), reversed(idx), strict=True):
            y = F.max_unpool2d(y, i, 2, output_size=size).clamp(min=0)
            y = F.conv_transpose2d(y, conv.weight, padding=conv.padding)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", [1, 2])
def test_zeiler_fergus_equals_torch_deconvnet_backward(dtype, layer):
    torch.manual_seed(3)
    model = SmallCNN()
    if dtype == np.float64:
        model = model.double()
    rng = np.random.default_rng(layer)
    x = rng.standard_normal((3, 1, 28, 28)).astype(dtype)
    net = NumpyCNN.from_torch(model, dtype)
    outs, switches = net.forward(x)
    tout = model.features(torch.from_numpy(x))
    np.testing.assert_allclose(outs[layer - 1], tout[layer - 1].detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    # random data: a random top map (signed: the rectification has work to do), and a
    # single-peak one as in the experiment
    tops = [rng.standard_normal(outs[layer - 1].shape).astype(dtype)]
    single = np.zeros_like(outs[layer - 1])
    single[0, 2, 3, 3] = outs[layer - 1][0, 2, 3, 3] + 1
    single[1, 0, 5, 1] = 2.0
    tops.append(single)
    for top in tops:
        zf = zeiler_fergus(net, switches, layer, top)
        assert zf.shape == x.shape and zf.dtype == dtype
        hook = _torch_deconvnet(model, torch.from_numpy(x), layer, torch.from_numpy(top))
        np.testing.assert_allclose(zf, hook.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(zf, _torch_zf(model, torch.from_numpy(x), layer,
                                                 torch.from_numpy(top)).numpy(),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(relu_backward(model, x, layer, top, "deconvnet"),
                                   hook.numpy(), rtol=1e-4, atol=1e-4)
        assert np.abs(zf).max() > 0.1  # not a trivially zero comparison


def test_relu_backward_plain_is_the_true_gradient_and_rules_differ():
    torch.manual_seed(4)
    model = SmallCNN().double()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 1, 28, 28))
    top = rng.standard_normal((2, 32, 7, 7))
    xt = torch.from_numpy(x).requires_grad_(True)
    out = F.max_pool2d(F.relu(model.conv2(F.max_pool2d(F.relu(model.conv1(xt)), 2))), 2)
    (grad,) = torch.autograd.grad(out, xt, torch.from_numpy(top))
    plain = relu_backward(model, x, 2, top, "plain")
    np.testing.assert_allclose(plain, grad.numpy(), rtol=1e-10, atol=1e-12)
    deconv = relu_backward(model, x, 2, top, "deconvnet")
    guided = relu_backward(model, x, 2, top, "guided")
    assert not np.allclose(plain, deconv) and not np.allclose(guided, deconv)
    with pytest.raises(ValueError, match="rule='other' must be one of plain, deconvnet, guided"):
        relu_backward(model, x, 2, top, "other")


def test_switches_doctest_object_is_inspectable():
    sw = Switches(np.array([[[[1, 6]]]]), (2, 4))
    assert sw.offsets()[0, 0, 0].tolist() == [[0, 1], [1, 0]]
    assert sw.mask().astype(int).tolist() == [[[[0, 1, 0, 0], [0, 0, 1, 0]]]]


# ---------------------------------------------------------------------------------------------
# Quick runs


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("autoencoder")
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    result = run_autoencoder(out, quick=True, progress=False)
    after = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    return out, result, before, after


def test_autoencoder_quick_learns_every_method(autoencoder_run):
    _, result, _, _ = autoencoder_run
    assert [r.method for r in result.methods] == list(METHODS)
    for r in result.methods:
        first, last = r.curve[0]["test_mse"], r.curve[-1]["test_mse"]
        assert first / last >= LEARNING_FACTOR, (r.method, first, last)
        # sigmoid + BCE: no decoder is stuck at a black image (MSE of black ~ 0.1 here)
        assert r.test_mse < 0.05, r.method
        assert r.psnr_db == pytest.approx(10 * math.log10(1 / r.test_mse))
        assert r.params_total > r.params_upsampling > 0
        assert r.train_time_s > 0
        assert 0 <= r.artifact_flat < 1 and 0 <= r.artifact_test < 1


def test_autoencoder_quick_fairness_and_artefacts(autoencoder_run):
    _, result, _, _ = autoencoder_run
    # one encoder: same encoder parameter count for all; the decoders differ only in the
    # upsampling layers
    rest = {r.params_total - r.params_upsampling for r in result.methods}
    assert len(rest) == 1
    assert result["transposed"].params_upsampling == result["transposed-bilinear"]\
        .params_upsampling
    # the linter's verdict: bed-of-nails / unpool (3x3 conv after a stride-2 grid) are uneven
    assert result["bed-of-nails"].linter_layers == [4.0, 4.0]
    assert result["nearest-conv"].linter_layers == [1.0, 1.0]
    # the resize methods have (near) no stride pattern on flat inputs; the uneven ones do
    smooth = max(result["nearest-conv"].artifact_flat, result["bilinear-conv"].artifact_flat)
    assert result["bed-of-nails"].artifact_flat > 10 * smooth
    assert "unpool" in result.markdown and "switches" in result.markdown
    assert "Not fair: `unpool`" in result.markdown


def test_autoencoder_quick_writes_every_file(autoencoder_run):
    out, result, before, after = autoencoder_run
    expected = {"autoencoder.md", "autoencoder.json", "recon_all.png", "spectra.png",
                "curves.png"} | {f"recon_{m}.png" for m in METHODS}
    assert {p.name for p in out.iterdir()} == expected
    assert {p.name for p in result.files.values()} == expected
    for p in out.iterdir():
        assert p.stat().st_size > 0, p
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "autoencoder.json").read_text())
    assert [m["method"] for m in data["methods"]] == list(METHODS)
    md = (out / "autoencoder.md").read_text()
    for m in METHODS:
        assert f"| `{m}` |" in md
    assert before == after  # torch's thread count and determinism flag are restored


def test_autoencoder_is_deterministic(autoencoder_run, tmp_path):
    _, result, _, _ = autoencoder_run
    again = run_autoencoder(tmp_path, quick=True, methods=["unpool"], progress=False)
    assert again["unpool"].test_mse == result["unpool"].test_mse
    assert again["unpool"].curve == result["unpool"].curve


@pytest.fixture(scope="module")
def deconvnet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("deconvnet")
    return out, run_deconvnet(out, quick=True, progress=False)


def test_deconvnet_quick_learns(deconvnet_run):
    _, res = deconvnet_run
    assert res.accuracy >= MIN_ACCURACY
    assert res.curve[0]["test_loss"] / res.curve[-1]["test_loss"] >= LEARNING_FACTOR


def test_deconvnet_quick_zf_equals_torch_on_the_trained_net(deconvnet_run):
    _, res = deconvnet_run
    assert [r.layer for r in res.layers] == [1, 2]
    for r in res.layers:
        assert r.zf_scale > 0
        assert r.zf_vs_torch_max_abs <= 1e-4 * max(1.0, r.zf_scale)
        assert r.switches_agree == 1.0
        assert len(r.maps) == 4 and all(len(row) == 4 for row in r.image_index)
        # strongest first
        assert all(a >= b for row in r.activation for a, b in zip(row, row[1:], strict=False))
    # seed 001: stride-1 transposed convolution = convolution with flipped filters
    assert res.transpose_vs_flipped_conv < 1e-4


def test_deconvnet_quick_writes_every_file(deconvnet_run):
    out, res = deconvnet_run
    expected = {"deconvnet.md", "deconvnet.json", "deconvnet_layer1.png",
                "deconvnet_layer2.png", "switches.png"}
    assert {p.name for p in out.iterdir()} == expected
    for p in out.iterdir():
        assert p.stat().st_size > 0, p
    data = json.loads((out / "deconvnet.json").read_text())
    assert data["accuracy"] == res.accuracy
    assert len(data["layers"]) == 2


# ---------------------------------------------------------------------------------------------
# Command line


def test_add_arguments_registers_both_subcommands():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_arguments(sub)
    a = parser.parse_args(["autoencoder", "--quick", "--methods", "transposed,unpool",
                           "--data", "/x", "--out", "o"])
    assert a.quick and a.methods == ["transposed", "unpool"] and a.data == "/x"
    assert callable(a.run)
    d = parser.parse_args(["deconvnet", "--layers", "2", "--maps", "1,3", "--top-k", "5"])
    assert d.layers == [2] and d.maps == [1, 3] and d.top_k == 5 and not d.quick
    with pytest.raises(SystemExit):
        parser.parse_args(["autoencoder", "--methods", "nearest"])


def test_main_reports_missing_data_in_one_line(tmp_path, capsys):
    assert main(["deconvnet", "--quick", "--data", str(tmp_path / "none"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt-get install dataset-fashion-mnist" in err
