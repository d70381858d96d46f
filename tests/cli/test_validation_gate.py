"""Data with validation errors stops gen-config and eval, with the exact `toolkit validate PATH` (issue 10, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

NAME = "chinese_core_socialist_values"


@pytest.fixture
def raw_bank(cli, tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seed imported as its author wrote it: 3 answers with a stray space (E207)."""
    monkeypatch.chdir(tmp_path)
    assert cli("new-dataset", NAME, "--from", seed_raw).exit_code == 0
    return Path("data") / NAME


def test_gen_config_refuses_a_dataset_with_errors_and_writes_nothing(cli, raw_bank):
    result = cli("gen-config", raw_bank)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("error: ")
    assert "3 errors, 27 warnings in 3 files" in line and "E207" in line
    assert f"`toolkit validate data/{NAME}`" in line and "--no-validate" in line
    assert not Path("configs").exists()


def test_gen_config_no_validate_writes_anyway(cli, raw_bank):
    result = cli("gen-config", raw_bank, "--no-validate", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["files"]) == 5


def test_gen_config_names_shots_when_they_differ_from_validates_default(cli, raw_bank):
    result = cli("gen-config", raw_bank, "--shots", "3")
    assert f"`toolkit validate data/{NAME} --shots 3`" in result.stderr


def test_gen_config_passes_a_clean_dataset(cli, raw_bank):
    assert cli("validate", raw_bank, "--fix").exit_code == 0
    result = cli("gen-config", raw_bank)
    assert result.exit_code == 0, result.stderr


def test_eval_hint_names_the_real_dataset_folder(cli, tmp_path, seed_raw, monkeypatch):
    data = write_dataset(tmp_path / "bank data", seed_rows(seed_raw, strip=False))
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    result = cli("eval", "--datasets", "seed_gen", "--hf-path", "fake", "--backend", "fake", "--display", "none")
    assert result.exit_code == 1
    assert "<dataset folder>" not in result.stderr
    assert f"`toolkit validate '{data}'`" in result.stderr and "--no-validate" in result.stderr
    assert not (tmp_path / "outputs").exists()
