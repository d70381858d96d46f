"""Choice options are Enums checked by Typer before anything runs or is written (issue 10, item 3)."""

from __future__ import annotations

import pytest

BASE = ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base"]


@pytest.mark.parametrize(
    ("option", "choices"),
    [
        ("--display", "auto, rich, plain, none"),
        ("--infer-mode", "gen, ppl, choice"),
        ("--mode", "all, infer, eval, viz"),
        ("--hf-type", "base, chat"),
        ("--device", "cpu, cuda"),
        ("--backend", "hf, fake"),
    ],
)
def test_a_bad_choice_is_a_usage_error_before_anything_is_written(cli, bank, option, choices):
    args = [a for a in BASE if a != option]  # --hf-type and --backend appear in BASE: replace their values
    if option in BASE:
        i = BASE.index(option)
        args = BASE[:i] + BASE[i + 2:]
    result = cli(*args, option, "bogus")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output
    assert "bogus" in result.stderr
    for choice in choices.split(", "):
        assert choice in result.stderr
    assert not (bank / "outputs").exists()


@pytest.mark.parametrize("option", ["--max-seq-len", "--max-out-len", "--batch-size", "--max-num-workers"])
def test_counts_below_their_minimum_are_refused_by_the_parser(cli, bank, option):
    result = cli(*BASE, option, "0")
    assert result.exit_code == 2
    assert option in result.stderr
    assert not (bank / "outputs").exists()


def test_a_max_seq_len_that_leaves_no_room_is_refused_before_a_run_folder_exists(cli, bank):
    result = cli(*BASE, "--max-seq-len", "16", "--max-out-len", "16", "--reserve-output", "--display", "none")
    assert result.exit_code == 2
    assert "--max-seq-len 16 leaves no room" in result.stderr
    assert not (bank / "outputs").exists()


def test_demo_model_dtype_is_a_choice(cli, tmp_path):
    result = cli("demo-model", "--dtype", "float8", "--out", tmp_path / "m")
    assert result.exit_code == 2
    assert "bfloat16" in result.stderr and "float32" in result.stderr
    assert not (tmp_path / "m").exists()
