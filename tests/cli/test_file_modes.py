"""Issue 10 item 1: every command's files get the umask's mode (not 0600), and a rewritten file keeps its own.

Colleagues on a shared cluster must be able to read a bank, its configs and a run's report.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from engine_data import write_configs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> tuple[set[int], set[int]]:
    files = {mode(p) for p in root.rglob("*") if p.is_file() and p.name != ".lock"}
    folders = {mode(p) for p in [root, *root.rglob("*")] if p.is_dir()}
    return files, folders


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_every_command_writes_with_the_umask_mode(cli, tmp_path: Path, seed_raw: Path, umask: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    assert cli("new-dataset", "bank", "--from", seed_raw, "--root", "data").exit_code == 0
    assert modes_under(tmp_path / "data") == ({file_mode}, {dir_mode})

    fixed = cli("validate", "data/bank", "--fix", "--output", "fixed")
    assert fixed.exit_code == 0, fixed.stderr
    assert modes_under(tmp_path / "fixed") == ({file_mode}, {dir_mode})

    assert cli("validate", "data/bank", "--fix").exit_code == 0  # in place: files rewritten, backups beside them
    assert modes_under(tmp_path / "data") == ({file_mode}, {dir_mode})

    assert cli("gen-config", "data/bank", "-o", "configs/datasets/bank").exit_code == 0
    assert modes_under(tmp_path / "configs") == ({file_mode}, {dir_mode})

    write_configs(tmp_path / "configs", tmp_path / "data" / "bank", name="seed")
    result = cli("eval", "--datasets", "bank_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
                 "--display", "none", "-w", "outputs")
    assert result.exit_code == 0, result.stderr
    files, folders = modes_under(tmp_path / "outputs")
    assert files == {file_mode} and folders == {dir_mode}
    assert len(list((tmp_path / "outputs").rglob("summary_*.html"))) == 1


def test_fix_keeps_the_mode_of_the_file_it_rewrites(cli, tmp_path: Path, seed_raw: Path, umask: int) -> None:
    assert cli("new-dataset", "bank", "--from", seed_raw, "--root", tmp_path).exit_code == 0
    val = tmp_path / "bank" / "val" / "chinese_core_socialist_values_val.csv"
    before = val.read_bytes()
    val.chmod(0o640)
    result = cli("validate", tmp_path / "bank", "--fix")
    assert result.exit_code == 0, result.stderr
    assert val.read_bytes() != before  # it was rewritten …
    assert mode(val) == 0o640  # … and kept its mode
    backup = next(val.parent.glob(val.name + ".bak-*"))
    assert backup.read_bytes() == before and mode(backup) == 0o640


def test_the_demo_model_folder_gets_the_umask_mode(cli, tmp_path: Path, tiny_model_dir: Path, umask: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """transformers saves the weights 0600 itself: the folder we rename into place is made readable as the umask says."""
    from demo_standin import stand_in_demo

    stand_in_demo(monkeypatch, tiny_model_dir)
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    result = cli("demo-model")
    assert result.exit_code == 0, result.stderr
    assert modes_under(tmp_path / "cache") == ({0o666 & ~umask}, {0o777 & ~umask})
    assert (tmp_path / "cache" / "models" / "SmolLM2-135M-Instruct" / "model.safetensors").is_file()
