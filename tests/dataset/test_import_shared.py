"""Importing the real benchmarks in ../shared/data gives C-Eval layouts equal to the sources cell for cell.

The sources are read here with Python's csv module directly (not through toolkit), so a
reader bug in toolkit cannot hide itself. C-Eval and CMMLU are CC BY-NC-SA: they are read
at test time from ../shared and never copied into the repository.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from toolkit.dataset.importer import ImportReport, import_sheets
from toolkit.dataset.mapping import read_mapping_raw


def records(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.reader(f, delimiter=delimiter) if r]


@pytest.fixture(scope="module")
def imported(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Each benchmark imported once, from its whole folder: name → (dataset folder, report)."""
    root = tmp_path_factory.mktemp("imported")
    out: dict[str, tuple[Path, ImportReport]] = {}
    for name in ("ceval", "cmmlu", "mmlu", "openbookqa"):
        report = import_sheets(root, f"{name}_copy", [shared_dir / "data" / name])
        out[name] = (root / f"{name}_copy", report)
    return out


@pytest.mark.parametrize(
    ("name", "subjects", "formats", "language", "totals"),
    [
        ("ceval", 52, {"ceval"}, "zh", {"dev": 260, "val": 1346, "test": 12342}),
        ("cmmlu", 67, {"cmmlu"}, "zh", {"dev": 335, "val": 0, "test": 11582}),
        ("mmlu", 57, {"mmlu"}, "en", {"dev": 285, "val": 1542, "test": 14079}),
        ("openbookqa", 1, {"openbookqa"}, "en", {"dev": 500, "val": 0, "test": 500}),
    ],
)
def test_whole_benchmarks_are_imported_without_losing_a_row(imported, name, subjects, formats, language, totals) -> None:
    folder, report = imported[name]
    assert report.result.meta.language == language  # guessed from the questions
    assert len(report.result.subjects) == subjects
    assert {s.format for s in report.sources} == formats
    assert report.rows_skipped == 0 and report.rows_read == report.rows_written == sum(totals.values())
    for split, total in totals.items():
        assert sum(s.counts[split] for s in report.result.subjects) == total
        assert sum(len(records(p)) - 1 for p in folder.glob(f"{split}/*_{split}.csv")) == total


@pytest.mark.parametrize(
    "subject",
    # several with multi-line quoted explanations in dev; legal_professional's test file is CRLF
    ["accountant", "advanced_mathematics", "civil_servant", "college_physics", "legal_professional", "computer_network"],
)
def test_ceval_cell_for_cell(imported, shared_dir: Path, subject: str) -> None:
    folder, _ = imported["ceval"]
    src = shared_dir / "data" / "ceval"
    dev = records(src / f"dev/{subject}_dev.csv")
    assert records(folder / f"dev/{subject}_dev.csv") == dev
    assert any("\n" in row[-1] for row in dev) or subject in ("legal_professional", "computer_network")
    assert records(folder / f"val/{subject}_val.csv") == records(src / f"val/{subject}_val.csv")
    test = records(src / f"test/{subject}_test.csv")  # C-Eval's test has no answer column: ours is blank
    assert records(folder / f"test/{subject}_test.csv") == [test[0] + ["answer"]] + [r + [""] for r in test[1:]]


def test_ceval_names_come_from_its_own_mapping(imported, shared_dir: Path) -> None:
    folder, report = imported["ceval"]
    theirs = read_mapping_raw(shared_dir / "data/ceval/subject_mapping.json")
    ours = read_mapping_raw(folder / "subject_mapping.json")
    assert ours.keys() == theirs.keys()
    for key, entry in theirs.items():
        assert ours[key][: len(entry)] == entry
    # C-Eval's real defect: clinical_medicine has no category; the default is used and reported
    assert ours["clinical_medicine"][2] == "Other"
    assert report.result.defaults == {"clinical_medicine": ("category",)}


@pytest.mark.parametrize("subject", ["agronomy", "chinese_literature", "college_law", "high_school_physics", "world_religions"])
def test_cmmlu_cell_for_cell(imported, shared_dir: Path, subject: str) -> None:
    folder, _ = imported["cmmlu"]
    src = shared_dir / "data" / "cmmlu"
    for split in ("dev", "test"):
        source = records(src / split / f"{subject}.csv")
        assert source[0] == ["", "Question", "A", "B", "C", "D", "Answer"]
        ours = records(folder / split / f"{subject}_{split}.csv")
        extra = [""] if split == "dev" else []
        assert ours[1:] == [row + extra for row in source[1:]]  # the unnamed index is kept as the id
    assert records(folder / f"val/{subject}_val.csv") == [["id", "question", "A", "B", "C", "D", "answer"]]


@pytest.mark.parametrize(
    ("subject", "crlf"),
    [("college_mathematics", "dev"), ("college_physics", "val"), ("anatomy", None), ("high_school_chemistry", None),
     ("professional_law", None)],
)
def test_mmlu_cell_for_cell(imported, shared_dir: Path, subject: str, crlf: str | None) -> None:
    folder, _ = imported["mmlu"]
    src = shared_dir / "data" / "mmlu"
    if crlf:
        assert b"\r\n" in (src / crlf / f"{subject}_{crlf}.csv").read_bytes()
    for split in ("dev", "val", "test"):
        source = records(src / split / f"{subject}_{split}.csv")
        ours = records(folder / split / f"{subject}_{split}.csv")
        extra = [""] if split == "dev" else []
        assert ours[1:] == [[str(i), *row, *extra] for i, row in enumerate(source)]  # no header: ids numbered
        # rows end in LF; a CRLF survives only inside a quoted cell, as the source has it
        inside_cells = sum(cell.count("\r\n") for row in source for cell in row)
        assert (folder / split / f"{subject}_{split}.csv").read_bytes().count(b"\r\n") == inside_cells


def test_openbookqa_packed_choices_are_unpacked(imported, shared_dir: Path) -> None:
    folder, report = imported["openbookqa"]
    assert report.sources[0].ignored_columns == ("Complete Question",)
    for split, source_report in zip(("dev", "test"), report.sources, strict=True):
        source = records(shared_dir / "data/openbookqa/Main" / f"{split}.tsv", delimiter="\t")[1:]
        ours = records(folder / split / f"main_{split}.csv")[1:]
        assert len(ours) == len(source) == 500
        # OpenBookQA's ids (8-376) are not whole numbers: the rows are numbered, and the report says so
        assert source_report.notes == (f"500 source id(s) replaced by row numbers 0, 1, … in each file: the ids are "
                                       f"not unique whole numbers (e.g. {source[0][0]!r})",)
        for number, (theirs, mine) in enumerate(zip(source, ours, strict=True)):
            qid, stem, choices, complete, key = theirs
            assert mine[:2] == [str(number), stem] and mine[6] == key
            assert choices == " ".join(f"({letter}) {text}" for letter, text in zip("ABCD", mine[2:6], strict=True))
            assert complete == f"{stem} {choices}"
