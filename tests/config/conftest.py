"""Fixtures for the config tests: small datasets built in tmp_path, and C-Eval from ../shared."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from config_builders import build_dataset

from toolkit.dataset.mapping import Subject, write_mapping

DatasetBuilder = Callable[..., Path]


@pytest.fixture
def make_dataset(tmp_path: Path) -> DatasetBuilder:
    """``make_dataset("bank", options=3, ...)`` builds ``tmp_path/data/bank`` (see :func:`build_dataset`)."""

    def make(folder: str = "bank", **kwargs) -> Path:
        return build_dataset(tmp_path / "data" / folder, **kwargs)

    return make


@pytest.fixture
def ceval_dir(shared_dir: Path, tmp_path: Path) -> Path:
    """C-Eval from ../shared, linked into tmp_path, with the mapping's missing category filled in.

    OpenCompass's own ceval configs put clinical_medicine under "Other".
    """
    source = shared_dir / "data" / "ceval"
    root = tmp_path / "data" / "ceval_local"
    for split in ("dev", "val", "test"):
        (root / split).mkdir(parents=True)
        for file in sorted((source / split).iterdir()):
            (root / split / file.name).symlink_to(file)
    raw = json.loads((source / "subject_mapping.json").read_text(encoding="utf-8"))
    assert raw["clinical_medicine"] == ["Clinical Medicine", "临床医学"]  # the known defect
    raw["clinical_medicine"].append("Other")
    write_mapping(root / "subject_mapping.json", {k: Subject(k, *v) for k, v in raw.items()})
    return root
