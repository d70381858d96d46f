"""Test data builders for the config tests (imported by conftest and the tests)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from toolkit.dataset.layout import option_letters, split_columns, split_file
from toolkit.dataset.mapping import Subject, write_mapping
from toolkit.dataset.meta import DatasetMeta, write_meta
from toolkit.dataset.textio import write_csv

REPO = Path(__file__).resolve().parents[2]
STOCK = REPO / "toolkit" / "configs" / "datasets" / "ceval"
EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"
LAW = Subject("law", "Law", "法学", "Humanities")
NETWORK = Subject("computer_network", "Computer Network", "计算机网络", "STEM")


def build_dataset(
    root: Path,
    *,
    subjects: Sequence[Subject] = (LAW, NETWORK),
    options: int = 4,
    dev_rows: int = 5,
    val_rows: int = 3,
    test_rows: int = 2,
    meta: bool = True,
    name: str | None = None,
    language: str = "zh",
    categories: Sequence[str] | None = None,
) -> Path:
    """A complete dataset folder: mapping, optional dataset.json, dev/val/test for each subject."""
    letters = option_letters(options)
    for subject in subjects:
        for split, n in (("dev", dev_rows), ("val", val_rows), ("test", test_rows)):
            header = split_columns(split, letters)
            rows = []
            for i in range(n):
                row = [str(i), f"{subject.name_zh}{split}问题{i}", *(f"选项{letter}{i}" for letter in letters), letters[i % options]]
                rows.append(row + ["解析"] if split == "dev" else row)
            write_csv(split_file(root, subject.key, split), header, rows)
    write_mapping(root / "subject_mapping.json", {s.key: s for s in subjects})
    if meta:
        kwargs = {"categories": tuple(categories)} if categories else {}
        write_meta(root, DatasetMeta(name=name or root.name, language=language, options=options, **kwargs))
    return root
