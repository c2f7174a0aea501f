"""`upconv convert` / `upconv code`: translations printed by the CLI, checked by running peers."""

import json

import jax
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from jax import lax

from upconv.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tf_same_to_torch_gives_the_exact_crop_and_it_is_right(capsys):
    code, out, _ = run(capsys, "convert", "--from", "tf", "--to", "torch", "transpose",
                       "--input", "7x7", "--kernel", "3", "--stride", "2", "--padding", "SAME",
                       "--output-shape", "14x14", "--json")
    assert code == 0
    tr = json.loads(out)["translation"]
    args, crop = tr["args"], tr["extra"]["crop"]
    assert not tr["exact"]
    # PyTorch with the printed arguments and crop equals TF/JAX SAME (transpose_kernel=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 7, 7)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)  # (C_in, C_out, kh, kw)
    y = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=args["stride"],
                           padding=args["padding"], output_padding=args["output_padding"]).numpy()
    (hb, ha), (wb, wa) = crop
    y = y[:, :, hb:y.shape[2] - ha, wb:y.shape[3] - wa]
    # JAX: NHWC input, kernel HWIO labelled as the forward conv's (I = C_out of the transpose)
    want = lax.conv_transpose(jax.numpy.asarray(x.transpose(0, 2, 3, 1)),
                              jax.numpy.asarray(w.transpose(2, 3, 1, 0)), (2, 2), "SAME",
                              dimension_numbers=("NHWC", "HWIO", "NHWC"), transpose_kernel=True)
    np.testing.assert_allclose(y, np.asarray(want).transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-4)


def test_convert_text_explains_and_prints_code(capsys):
    code, out, _ = run(capsys, "convert", "--from", "tf", "--to", "torch", "transpose",
                       "--input", "7x7", "--kernel", "3", "--stride", "2", "--padding", "SAME",
                       "--output-shape", "14x14")
    assert code == 0
    assert out.startswith("tf -> torch: ConvTranspose2d")
    assert "exact: no" in out and "crop" in out and "why:" in out
    assert "torch.nn.ConvTranspose2d(" in out and "y = y[:, :, :-1, :-1]" in out


def test_code_prints_only_the_code(capsys):
    code, out, _ = run(capsys, "code", "--framework", "onnx", "transpose", "--input", "7",
                       "--kernel", "4", "--stride", "2", "--padding", "1")
    assert code == 0
    assert out.startswith("node = onnx.helper.make_node('ConvTranspose'")
    assert "pads=[1, 1]" in out


def test_torch_to_keras_same_is_exact_for_k4_s2_p1(capsys):
    code, out, _ = run(capsys, "convert", "--to", "keras", "transpose", "--input", "7x7",
                       "--kernel", "4", "--stride", "2", "--padding", "1", "--json")
    tr = json.loads(out)["translation"]
    assert tr["exact"] and tr["args"]["padding"] == "same"


def test_conv_onnx_pads(capsys):
    code, out, _ = run(capsys, "convert", "--from", "onnx", "--to", "torch", "conv", "--input",
                       "28x28", "--kernel", "3", "--stride", "2", "--padding", "1", "--json")
    tr = json.loads(out)["translation"]
    assert code == 0 and tr["exact"] and list(tr["args"]["padding"]) == [1, 1]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["convert", "--from", "tff", "--to", "torch", "conv", "--input", "5", "--kernel", "3"],
         "framework='tff' is not known; accepted values: 'torch', 'tf', 'keras', 'jax', 'onnx'"),
        (["convert", "--to", "caffe", "conv", "--input", "5", "--kernel", "3"],
         "framework='caffe' is not known"),
        (["convert", "--to", "tf", "conv", "--input", "5x", "--kernel", "3"],
         "--input='5x' must be an integer"),
        (["convert", "--to", "tf", "conv", "--input", "5", "--kernel", "3", "--padding", "1:x"],
         "--padding='1:x' must look like"),
        (["code", "--framework", "torch", "transpose", "--input", "5"],
         "--kernel is required for transpose"),
    ],
)
def test_errors_are_one_line(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert match in err


@pytest.mark.parametrize("command", ["convert", "code"])
def test_help(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0 and "--from" in capsys.readouterr().out


def test_pool_tf_same_to_torch_by_value(capsys):
    from upconv.conventions import tf as tfc

    code, out, _ = run(capsys, "convert", "--from", "tf", "--to", "torch", "max_pool", "--input",
                       "7x7", "--kernel", "2", "--stride", "2", "--padding", "SAME", "--json")
    tr = json.loads(out)["translation"]
    assert code == 0 and tr["exact"]
    x = np.random.default_rng(1).standard_normal((1, 3, 7, 7)).astype(np.float32)
    a = tr["args"]
    ours = F.max_pool2d(torch.from_numpy(x), a["kernel_size"], a["stride"], a["padding"],
                        a["dilation"], a["ceil_mode"]).numpy()
    # TF's SAME max pool (NumPy, checked against Keras/JAX in test_conventions_pool.py)
    want = tfc.max_pool(x.transpose(0, 2, 3, 1), 2, 2, "SAME").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours, want)


def test_resize_onnx_to_torch_by_value(capsys):
    from upconv.conventions import onnx as onnxc

    code, out, _ = run(capsys, "convert", "--from", "onnx", "--to", "torch", "resize", "--input",
                       "5x6", "--scale", "2x2", "--mode", "linear", "--coordinate",
                       "half_pixel", "--json")
    tr = json.loads(out)["translation"]
    assert code == 0 and tr["exact"]
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 6)).astype(np.float32)
    ours = F.interpolate(torch.from_numpy(x), **tr["args"]).numpy()
    want = onnxc.resize(x, scales=[1.0, 1.0, 2.0, 2.0], mode="linear",
                        coordinate_transformation_mode="half_pixel")
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)


def test_pixel_shuffle_dcr_needs_a_channel_permutation(capsys):
    code, out, _ = run(capsys, "convert", "--from", "onnx", "--to", "torch", "pixel_shuffle",
                       "--input", "4x4", "--kernel", "2", "--mode", "DCR")
    assert code == 0 and "PixelShuffle" in out and "exact: no" in out and "permute" in out
