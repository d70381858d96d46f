"""How ``toolkit eval`` reads configs: each file executed once per run, groups found through ``read_base``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

LOG_LINE = """
import pathlib
_log = pathlib.Path({log!r})
_log.write_text((_log.read_text() if _log.exists() else "") + {name!r} + "\\n")
"""


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/datasets/seed/: the dataset config seed_gen.py (with the mapping) and an aggregator
    seed_all.py that imports it with ``read_base()``, as gen-config's ``<name>_gen.py`` does; each
    file adds a line to executed.log whenever it runs."""
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    configs = write_configs(tmp_path / "configs", data)
    log = tmp_path / "executed.log"
    gen = configs["gen"]
    gen.write_text(gen.read_text(encoding="utf-8") + LOG_LINE.format(log=str(log), name="seed_gen"), encoding="utf-8")
    (gen.parent / "seed_all.py").write_text(
        "from mmengine.config import read_base\n"
        "with read_base():\n"
        "    from .seed_gen import seed_datasets\n"
        + LOG_LINE.format(log=str(log), name="seed_all"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _executed(bank: Path) -> list[str]:
    return (bank / "executed.log").read_text(encoding="utf-8").split()


def test_each_config_file_runs_once_and_the_groups_come_from_the_imported_mapping(cli, bank):
    result = cli("eval", "--datasets", "seed_all", "--hf-path", "fake", "--backend", "fake", "--hf-type", "base",
                 "--display", "none", "--json")
    assert result.exit_code == 0, result.stderr
    assert sorted(_executed(bank)) == ["seed_all", "seed_gen"]  # before: seed_all 3 times, seed_gen 5 times
    run = Path(json.loads(result.stdout)["run_dir"])
    groups = json.loads((run / "configs" / "run.json").read_text(encoding="utf-8"))["summary_groups"]
    assert [g["name"] for g in groups] == ["seed-social-science", "seed-humanities", "seed"]


def test_a_run_config_and_its_datasets_are_read_once_too(cli, bank):
    run_cfg = bank / "run.py"
    run_cfg.write_text(
        "from mmengine.config import read_base\n"
        "from opencompass.models import HuggingFaceBaseModel\n"
        "with read_base():\n"
        "    from .configs.datasets.seed.seed_all import seed_datasets\n"
        "datasets = seed_datasets\n"
        "models = [dict(type=HuggingFaceBaseModel, abbr='m1', path='fake1')]\n"
        + LOG_LINE.format(log=str(bank / "executed.log"), name="run"), encoding="utf-8")
    result = cli("eval", str(run_cfg), "--backend", "fake", "--display", "none", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert sorted(_executed(bank)) == ["run", "seed_all", "seed_gen"]
