"""The command line: output, --json, errors as one line with exit status 2, --help everywhere."""

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from upconv.cli import build_parser, main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_shape_transpose_prints_size_formula_relationship_and_direct_form(capsys):
    code, out, err = run(capsys, "shape", "transpose", "--input", "6", "--kernel", "3",
                         "--stride", "2", "--padding", "1", "--output-padding", "1")
    assert code == 0 and err == ""
    assert out.startswith("output size: 12\n")
    assert "Relationship 13" in out
    assert "2*5 + 1 + 2 + 1 - 1 - 1 = 12" in out
    assert "ĩ'=11" in out and "1 before" in out and "2 after" in out
    # the printed size is what PyTorch computes
    y = F.conv_transpose1d(torch.zeros(1, 1, 6), torch.zeros(1, 1, 3), stride=2, padding=1,
                           output_padding=1)
    assert y.shape[-1] == 12


def test_shape_conv_multi_dim_and_json(capsys):
    code, out, _ = run(capsys, "shape", "conv", "--input", "28x27", "--kernel", "3",
                       "--stride", "2", "--padding", "1", "--json")
    assert code == 0
    data = json.loads(out)
    want = F.conv2d(torch.zeros(1, 1, 28, 27), torch.zeros(1, 1, 3, 3), stride=2, padding=1)
    assert data["output"] == list(want.shape[2:])
    assert data["padding"] == [[1, 1], [1, 1]]
    assert any("Relationship 6" in line for line in data["explanation"])


def test_shape_conv_asymmetric_and_same_padding(capsys):
    code, out, _ = run(capsys, "shape", "conv", "--input", "5", "--kernel", "4",
                       "--padding", "same")
    assert code == 0 and out.startswith("output size: 5\n")
    code, out, _ = run(capsys, "shape", "conv", "--input", "5", "--kernel", "3",
                       "--padding", "0:1")
    assert out.startswith("output size: 4\n")


def test_shape_pool_ceil_mode_explains_the_dropped_window(capsys):
    code, out, _ = run(capsys, "shape", "pool", "--input", "5", "--kernel", "2",
                       "--padding", "1", "--ceil-mode")
    want = F.max_pool1d(torch.zeros(1, 1, 5), 2, padding=1, ceil_mode=True).shape[-1]
    assert code == 0 and out.startswith(f"output size: {want}\n")
    assert "minus 1" in out and "right padding" in out


def test_shape_seed_002_transposed_2x2(capsys):
    code, out, _ = run(capsys, "shape", "transpose", "--input", "2x2", "--kernel", "2")
    assert out.startswith("output size: 3x3\n") and "Relationship 7" in out


def test_solve_table_and_json(capsys):
    code, out, _ = run(capsys, "solve", "--input", "7", "--output", "14", "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert "checkerboard-free" in lines[1]
    assert lines[3].split()[:5] == ["1", "2", "2", "0", "0"]
    assert "more (--limit)" in out
    code, out, _ = run(capsys, "solve", "--input", "7", "--output", "14", "--kernel", "3",
                       "--stride", "2", "--dilation", "1", "--json")
    data = json.loads(out)
    assert [(s["padding"], s["output_padding"]) for s in data["dimensions"][0]["solutions"]] == [
        (1, 1)]


def test_solve_empty_and_conv(capsys):
    code, out, _ = run(capsys, "solve", "--input", "7", "--output", "14", "--kernel", "2",
                       "--stride", "3", "--dilation", "1")
    assert code == 0 and "no transposed convolution" in out and "18-22" in out
    code, out, _ = run(capsys, "solve", "--conv", "--input", "28", "--output", "14",
                       "--kernel", "3")
    assert "unused inputs" in out and "mirror output_padding" in out


def test_plan_text_and_json(capsys):
    layers = "conv k=3 s=2 p=1; pool k=2 ceil; conv k=3 s=2 p=1"
    code, out, _ = run(capsys, "plan", "--input", "28", "--layers", layers)
    assert code == 0 and "ConvTranspose1d" in out and "WRONG" in out
    code, out, _ = run(capsys, "plan", "--input", "28", "--layers", layers, "--json")
    data = json.loads(out)
    assert [e["output_size"] for e in data["encoder"]] == [[14], [7], [4]]
    assert data["naive_mismatches"] == [2]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["shape", "transpose", "--input", "4", "--kernel", "3", "--stride", "2",
          "--output-padding", "2"], "output_padding=2 must be smaller than stride=2"),
        (["shape", "conv", "--input", "5", "--kernel", "x"], "--kernel='x' must be an integer"),
        (["shape", "conv", "--input", "3", "--kernel", "5"], "larger than the padded input"),
        (["shape", "conv", "--input", "5", "--kernel", "3", "--padding", "a:b"],
         "--padding='a:b' must look like"),
        (["shape", "pool", "--input", "5", "--kernel", "2", "--padding", "2"],
         "must be at most half of kernel_size"),
        (["shape", "conv", "--input", "0", "--kernel", "3"], "size=0 must be a positive"),
        (["solve", "--input", "7", "--output", "14", "--stride", "2x2"],
         "--stride='2x2' must be an integer"),
        (["plan", "--input", "28", "--layers", "dense k=3"], "must start with 'conv' or 'pool'"),
        (["shape", "conv", "--input", "5"], "the following arguments are required: --kernel"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_exit_status_2(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("upconv: error: ")
    assert match in err


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match="output_padding=2 must be smaller"):
        main(["shape", "transpose", "--input", "4", "--kernel", "3", "--stride", "2",
              "--output-padding", "2", "--debug"])


@pytest.mark.parametrize("command", [[], ["shape"], ["solve"], ["plan"]])
def test_help_on_every_command(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: upconv" in capsys.readouterr().out


def test_every_subcommand_documents_json():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert "--json" in p.format_help(), name


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "usage: upconv" in out


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "upconv", "shape", "conv", "--input", "5",
                           "--kernel", "3", "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == 3
    proc = subprocess.run([sys.executable, "-m", "upconv", "shape", "conv", "--input", "2",
                           "--kernel", "3"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_experiment_needs_a_subcommand(capsys):
    code, out, err = run(capsys, "experiment")
    assert code == 2 and "choose autoencoder or deconvnet" in err


@pytest.mark.parametrize("name", ["autoencoder", "deconvnet"])
def test_experiment_help(capsys, name):
    with pytest.raises(SystemExit) as info:
        main(["experiment", name, "--help"])
    assert info.value.code == 0 and "--quick" in capsys.readouterr().out
