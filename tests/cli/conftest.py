"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with configs/datasets/seed/seed_{gen,ppl}.py and its data; the CWD.
    (A test module that needs another bank defines its own ``bank``.)"""
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    return tmp_path
