"""The explain commands: animate, trace, matrix, checkerboard (and tour's CLI surface).

Files are written where the printed path says, in the asked format; the numbers in --json
and in the Markdown are compared with PyTorch; bad parameters give the same one-line errors
(exit status 2) as ``upconv shape``; --help works on every command.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from upconv.cli import build_parser, main
from upconv.explain import PRESETS

SEED_X = "1,2;3,4"
SEED_W = "5,5;5,5"
SEED_Y = [[5, 15, 10], [20, 50, 30], [15, 35, 20]]  # seed 002, literal


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def printed_path(out: str) -> Path:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return Path(lines[0])


# ---------------------------------------------------------------------------------------------
# animate


@pytest.mark.parametrize("fmt", ["gif", "html", "svg", "png"])
def test_animate_writes_the_printed_path_in_the_suffix_format(capsys, tmp_path, fmt):
    target = tmp_path / "sub" / f"seed002.{fmt}"
    code, out, err = run(capsys, "animate", "transpose", "--values", SEED_X,
                         "--kernel-values", SEED_W, "--out", target)
    assert code == 0 and err == ""
    path = printed_path(out)
    assert path == target and path.is_file()
    data = path.read_bytes()
    if fmt == "gif":
        with Image.open(path) as im:
            assert im.format == "GIF" and im.n_frames == 5  # 4 steps + the final frame
    elif fmt == "png":
        with Image.open(path) as im:
            assert im.format == "PNG"
            one = im.size[0] // 5
            assert im.size[0] == 5 * one  # a strip of the 5 frames
    elif fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
    else:
        text = data.decode()
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
        for v in ("15", "50", "35"):
            assert f">{v}<" in text


def test_animate_format_flag_overrides_and_default_name(capsys, tmp_path, monkeypatch):
    code, out, _ = run(capsys, "animate", "conv", "--input", "5x5", "--kernel", "3",
                       "--out", tmp_path / "a.bin", "--format", "svg")
    assert code == 0 and ET.fromstring(printed_path(out).read_bytes()).tag.endswith("svg")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "animate", "transpose", "--input", "2x2", "--kernel", "2",
                       "--stride", "2", "--format", "html")
    path = printed_path(out)
    assert code == 0 and path == Path("conv_transpose_i2x2_k2_s2.html")
    assert (tmp_path / path).is_file()


def test_animate_json_metadata_matches_torch(capsys, tmp_path):
    code, out, _ = run(capsys, "animate", "transpose", "--input", "3x4", "--kernel", "3x2",
                       "--stride", "2x1", "--padding", "1", "--output-padding", "1x0",
                       "--dilation", "1", "--view", "direct", "--out", tmp_path / "x.svg",
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert Path(data["path"]).is_file() and data["format"] == "svg"
    assert data["op"] == "conv_transpose" and data["view"] == "direct"
    want = F.conv_transpose2d(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 3, 2), stride=(2, 1),
                              padding=1, output_padding=(1, 0)).shape[2:]
    assert data["output_size"] == list(want)
    assert data["input_size"] == [3, 4] and data["kernel_size"] == [3, 2]
    # direct view: one step per output element, plus the final frame
    assert data["frames"] == want[0] * want[1] + 1
    assert any("o′" in line for line in data["header"])


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_animates_with_torch_sizes(capsys, tmp_path, name):
    code, out, _ = run(capsys, "animate", "--preset", name, "--out", tmp_path / f"{name}.svg",
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert Path(data["path"]).is_file()
    case = PRESETS[name]
    x = torch.zeros(1, 1, *case["input_size"])
    k, s, p = case["kernel_size"], case["stride"], case["padding"]
    if case["op"] == "conv":
        want = F.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p,
                        dilation=case.get("dilation", 1))
    elif case["op"] == "conv_transpose":
        want = F.conv_transpose2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p,
                                  output_padding=case["output_padding"],
                                  dilation=case["dilation"])
    elif case["op"] == "max_pool":
        want = F.max_pool2d(x, k, stride=s, padding=p)
    else:
        want = F.avg_pool2d(x, k, stride=s, padding=p)
    assert data["output_size"] == list(want.shape[2:])


def test_animate_other_ops(capsys, tmp_path):
    cases = [
        (["pool", "--values", "1,2,4,1;3,4,2,3;1,4,1,2;2,3,4,3", "--kernel", "2"], [2, 2]),
        (["avg_pool", "--input", "4x4", "--kernel", "2"], [2, 2]),
        (["max_unpool", "--values", SEED_X, "--indices", "5,2;9,14", "--kernel", "2"], [4, 4]),
        (["unpool", "--values", SEED_X, "--kernel", "3", "--position", "center"], [6, 6]),
        (["nearest", "--values", SEED_X, "--scale-factor", "2"], [4, 4]),
        (["bilinear", "--values", "10,20;30,40", "--output-size", "4x4"], [4, 4]),
        (["interpolate", "--input", "3", "--scale-factor", "2", "--mode", "linear"], [6]),
        (["transpose", "--values", "1,2,3", "--kernel-values", "1,1,1", "--stride", "2"], [7]),
        (["conv", "--input", "6x6", "--kernel", "3", "--stride", "2", "--padding", "0:1x0:1"],
         [3, 3]),
    ]
    for n, (argv, size) in enumerate(cases):
        code, out, err = run(capsys, "animate", *argv, "--out", tmp_path / f"{n}.svg", "--json")
        assert code == 0, (argv, err)
        assert json.loads(out)["output_size"] == size, argv


def test_animate_announces_long_work_on_stderr(capsys, tmp_path):
    code, out, err = run(capsys, "animate", "conv", "--input", "12x12", "--kernel", "2",
                         "--out", tmp_path / "big.svg")
    assert code == 0 and printed_path(out).is_file()
    assert err.startswith("upconv: drawing 122 frames")  # 11x11 steps + final


# ---------------------------------------------------------------------------------------------
# trace


def test_trace_prints_seed_002_step_by_step_matching_torch(capsys):
    code, out, err = run(capsys, "trace", "transpose", "--values", SEED_X, "--kernel-values",
                         SEED_W)
    assert code == 0 and err == ""
    assert out.startswith("## Transposed convolution (scatter view)")
    y = F.conv_transpose2d(torch.tensor([[[[1.0, 2], [3, 4]]]]), torch.full((1, 1, 2, 2), 5.0))
    assert y[0, 0].tolist() == SEED_Y
    result = out.split("Result y (3×3):")[1]
    rows = [[int(v) for v in re.findall(r"\d+", line)]
            for line in result.splitlines() if line.startswith("[")]
    assert rows == SEED_Y
    assert len(re.findall(r"^\d\. x\[\d, \d\] = \d times the kernel", out, re.M)) == 4


def test_trace_out_and_json(capsys, tmp_path):
    target = tmp_path / "t" / "pool.md"
    code, out, _ = run(capsys, "trace", "--preset", "numerical_max_pooling", "--out", target)
    assert code == 0 and printed_path(out) == target
    assert target.read_text().startswith("## Max pooling")
    code, out, _ = run(capsys, "trace", "unpool", "--values", SEED_X, "--kernel", "2", "--json")
    data = json.loads(out)
    assert data["path"] is None and data["format"] == "md"
    assert "[ 1  0  2  0 ]" in data["markdown"]


# ---------------------------------------------------------------------------------------------
# matrix


def torch_conv_matrix(size, k, stride=1, padding=0, weight=None):
    """C column by column: conv2d of every basis image (PyTorch as the oracle)."""
    n = size[0] * size[1]
    basis = torch.eye(n, dtype=torch.float64).reshape(n, 1, *size)
    cols = F.conv2d(basis, weight, stride=stride, padding=padding)
    return cols.reshape(n, -1).T.numpy()


def test_matrix_json_is_torch_conv_matrix(capsys, tmp_path):
    code, out, _ = run(capsys, "matrix", "--input", "4x4", "--kernel", "3", "--stride", "2",
                       "--padding", "1", "--out", tmp_path / "m.svg", "--json")
    assert code == 0
    data = json.loads(out)
    assert Path(data["path"]).is_file() and data["ok"] is True
    w = torch.tensor(data["weight"], dtype=torch.float64)[None, None]
    want = torch_conv_matrix((4, 4), 3, stride=2, padding=1, weight=w)
    np.testing.assert_allclose(np.array(data["C"]), want, rtol=0, atol=1e-12)


def test_matrix_figure_2_3_text_and_kernel_values(capsys):
    code, out, _ = run(capsys, "matrix", "--input", "4x4", "--kernel", "3", "--format", "text")
    assert code == 0
    rows = [line.split()[1:] for line in out.splitlines() if line.startswith("(0,0)  w_00")]
    assert rows[0] == ["w_00", "w_01", "w_02", "0", "w_10", "w_11", "w_12", "0", "w_20",
                       "w_21", "w_22", "0", "0", "0", "0", "0"]
    assert "(OK)" in out
    code, out, _ = run(capsys, "matrix", "--input", "4", "--kernel-values", "1,10,100",
                       "--values", "1,2", "--format", "text", "--json")
    data = json.loads(out)
    assert data["C"] == [[1, 10, 100, 0], [0, 1, 10, 100]]
    y = F.conv_transpose1d(torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[1.0, 10, 100]]]))
    assert data["conv_transpose_y"] == y[0, 0].tolist() == [1, 12, 120, 200]


def test_matrix_transpose_and_presets(capsys, tmp_path):
    code, out, _ = run(capsys, "matrix", "transpose", "--input", "3", "--kernel", "3",
                       "--stride", "2", "--padding", "1", "--output-padding", "1",
                       "--format", "text", "--json")
    data = json.loads(out)
    o = F.conv_transpose1d(torch.zeros(1, 1, 3), torch.zeros(1, 1, 3), stride=2, padding=1,
                           output_padding=1).shape[-1]
    assert data["input_size"] == [o] and data["output_size"] == [3]
    code, out, _ = run(capsys, "matrix", "--preset", "padding_strides_odd_transposed",
                       "--out", tmp_path / "m.png")
    assert code == 0
    with Image.open(printed_path(out)) as im:
        assert im.format == "PNG"
    code, out, _ = run(capsys, "matrix", "--preset", "padding_strides_odd", "--json",
                       "--format", "text")
    assert json.loads(out)["input_size"] == [6, 6]


# ---------------------------------------------------------------------------------------------
# checkerboard


def test_checkerboard_counts_match_brute_force_torch(capsys, tmp_path):
    code, out, _ = run(capsys, "checkerboard", "--kernel", "3", "--stride", "2", "--input",
                       "4x5", "--out", tmp_path / "c.svg", "--json")
    assert code == 0
    data = json.loads(out)
    assert Path(data["path"]).is_file()
    want = F.conv_transpose2d(torch.ones(1, 1, 4, 5), torch.ones(1, 1, 3, 3), stride=2)
    assert data["counts"] == want[0, 0].int().tolist()
    assert data["even"] is False and data["ratio"] == 4.0


def test_checkerboard_stack_resize_conv_text_and_png(capsys, tmp_path):
    code, out, _ = run(capsys, "checkerboard", "--kernel", "3", "--stride", "2", "--layers",
                       "2", "--ndim", "1", "--format", "text")
    assert code == 0 and "uneven" in out and "2 stacked layers compound it" in out
    code, out, _ = run(capsys, "checkerboard", "--kernel", "3", "--stride", "2", "--method",
                       "resize-conv", "--json", "--format", "text")
    assert json.loads(out)["even"] is True
    code, out, _ = run(capsys, "checkerboard", "--preset", "padding_strides_transposed",
                       "--out", tmp_path / "p.png")
    with Image.open(printed_path(out)) as im:
        assert im.format == "PNG"


# ---------------------------------------------------------------------------------------------
# errors: one line, exit status 2, the same rule as `upconv shape`


def rule(err: str) -> str:
    """The message without ``upconv: error: <function>: ``."""
    assert err.startswith("upconv: error: ") and err.count("\n") == 1, err
    return err.removeprefix("upconv: error: ").split(": ", 1)[1].strip()


@pytest.mark.parametrize(
    "args",
    [
        ["conv", "--input", "3", "--kernel", "5"],
        ["conv", "--input", "0", "--kernel", "3"],
        ["conv", "--input", "5", "--kernel", "3", "--stride", "0"],
        ["transpose", "--input", "4", "--kernel", "3", "--stride", "2", "--output-padding", "2"],
        ["transpose", "--input", "5", "--kernel", "3", "--dilation", "0"],
        ["pool", "--input", "5", "--kernel", "2", "--padding", "2"],
    ],
)
def test_errors_state_the_same_rule_as_shape(capsys, tmp_path, args):
    code, out, shape_err = run(capsys, "shape", *args)
    assert code == 2
    for command in ("animate", "trace"):
        extra = ["--out", tmp_path / "x.svg"] if command == "animate" else []
        code, out, err = run(capsys, command, *args, *extra)
        assert code == 2 and out == "", command
        assert rule(shape_err) in rule(err), (shape_err, err)
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["animate", "conv", "--input", "5", "--kernel", "x"], "--kernel='x' must be an integer"),
        (["animate", "conv", "--input", "5", "--kernel", "3", "--padding", "a:b"],
         "--padding='a:b' must look like"),
        (["animate", "--preset", "nope"], "preset='nope' is not one of"),
        (["animate", "conv", "--values", "1,a"], "--values='1,a' must be numbers like 1,2;3,4"),
        (["animate", "conv", "--values", "1,2;3"], "has rows of different lengths (2, 1)"),
        (["animate", "max_unpool", "--values", "1,2", "--indices", "0.5,1", "--kernel", "2"],
         "--indices='0.5,1' must be integers"),
        (["animate", "conv", "--input", "5", "--kernel", "3", "--out", "x.jpg"],
         "cannot tell the format from the suffix"),
        (["animate", "interpolate", "--input", "3"], "needs exactly one of size= and"),
        (["animate", "nearest", "--input", "3", "--scale-factor", "2", "--mode", "bilinear"],
         "--mode='bilinear' contradicts the op 'nearest'"),
        (["animate", "frob"], "invalid choice: 'frob'"),
        (["animate", "conv", "--input", "5", "--kernel", "3", "--view", "scatter"],
         "view='scatter' is not a view of conv"),
        (["trace", "conv", "--input", "5", "--kernel", "3", "--format", "gif"],
         "invalid choice: 'gif'"),
        (["matrix", "--kernel", "3"], "give --input (or --preset)"),
        (["matrix", "--input", "5", "--kernel", "3", "--output-padding", "1"],
         "--output-padding applies to 'upconv matrix transpose'"),
        (["matrix", "--preset", "numerical_max_pooling"], "is a max_pool case"),
        (["matrix", "--input", "3", "--kernel", "5"], "larger than the padded input"),
        (["checkerboard", "--kernel", "3"], "give --stride (or --preset)"),
        (["checkerboard", "--kernel", "3", "--stride", "0"], "stride=0 must be a positive"),
        (["checkerboard", "--kernel", "3", "--stride", "2", "--padding", "1"],
         "unrecognized arguments: --padding 1"),
        (["tour"], "the following arguments are required: --out"),
    ],
)
def test_errors_are_one_line_with_exit_status_2(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("upconv: error: ")
    assert match in err


def test_unwritable_out_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(capsys, "animate", "conv", "--input", "5", "--kernel", "3",
                         "--out", blocker / "x.svg")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("upconv: error: ") and str(blocker) in err


def test_missing_pillow_names_the_extra(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    code, out, err = run(capsys, "animate", "conv", "--input", "5", "--kernel", "3",
                         "--out", tmp_path / "x.gif")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "pip install 'upconv[viz]'" in err
    # SVG needs nothing extra
    code, out, _ = run(capsys, "animate", "conv", "--input", "5", "--kernel", "3",
                       "--out", tmp_path / "x.svg")
    assert code == 0


# ---------------------------------------------------------------------------------------------
# help


@pytest.mark.parametrize("command", ["animate", "trace", "matrix", "checkerboard", "tour"])
def test_help_on_every_explain_command(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: upconv {command}") and "--json" in text
    if command != "tour":
        assert "--out" in text and "--format" in text
    if command in ("animate", "trace"):
        for flag in ("--input", "--kernel", "--stride", "--padding", "--dilation",
                     "--output-padding", "--preset", "--view", "--values", "--kernel-values"):
            assert flag in text, flag
        assert "padding_strides_odd_transposed" in text


def test_top_level_help_lists_the_explain_commands():
    text = build_parser().format_help()
    for command in ("animate", "trace", "matrix", "checkerboard", "tour"):
        assert command in text


def test_python_dash_m_animate(tmp_path):
    target = tmp_path / "x.svg"
    proc = subprocess.run([sys.executable, "-m", "upconv", "animate", "transpose", "--input",
                           "2", "--kernel", "2", "--out", str(target)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{target}\n" and target.is_file()
