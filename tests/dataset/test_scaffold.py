"""scaffold_dataset / add_subject / write_dataset: layout, defaults, conflicts, --force, all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit import fileio
from toolkit.dataset.datasheet import COUNTS_BEGIN, DatasheetFacts
from toolkit.dataset.layout import split_columns
from toolkit.dataset.mapping import Subject, read_mapping
from toolkit.dataset.meta import read_meta
from toolkit.dataset.scaffold import SubjectRequest, add_subject, default_name_en, pair_subjects, scaffold_dataset
from toolkit.dataset.write import DatasetSettings
from toolkit.errors import DataError, UsageError
from toolkit.fileio import WriteError

LAW = SubjectRequest("law", "Law", "法学", "Humanities")
VAL_ROW = ["0", "哪个是颜色？", "红", "圆", "快", "高", "A"]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_scaffold_writes_the_c_eval_layout(tmp_path: Path) -> None:
    result = scaffold_dataset(tmp_path, "bank", [LAW])
    bank = tmp_path / "bank"
    assert set(tree(bank)) == {
        "dev/law_dev.csv", "val/law_val.csv", "test/law_test.csv", "subject_mapping.json", "dataset.json", "DATASHEET.md"}
    assert (bank / "dev/law_dev.csv").read_text() == "id,question,A,B,C,D,answer,explanation\n"
    assert (bank / "val/law_val.csv").read_text() == "id,question,A,B,C,D,answer\n"
    assert (bank / "test/law_test.csv").read_text() == "id,question,A,B,C,D,answer\n"
    assert read_mapping(bank / "subject_mapping.json") == {"law": Subject("law", "Law", "法学", "Humanities")}
    assert read_meta(bank).options == 4 and read_meta(bank).language == "zh"
    assert result.created and result.added == ("law",) and result.backup is None
    assert not list(tmp_path.glob(".*"))  # no staging folder left behind


def test_default_subject_and_names(tmp_path: Path) -> None:
    result = scaffold_dataset(tmp_path, "my_bank")
    assert read_mapping(tmp_path / "my_bank" / "subject_mapping.json")["my_bank"] == Subject(
        "my_bank", "My Bank", "My Bank", "Other")
    assert result.defaults == {"my_bank": ("name_en", "name_zh", "category")}
    assert default_name_en("computer_network") == "Computer Network"


@pytest.mark.parametrize("n", [2, 10])
def test_option_count_and_language(tmp_path: Path, n: int) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW], DatasetSettings(options=n, language="en"))
    header = (tmp_path / "bank/val/law_val.csv").read_text().strip().split(",")
    assert tuple(header) == split_columns("val", tuple("ABCDEFGHIJ"[:n]))
    assert json.loads((tmp_path / "bank/dataset.json").read_text())["language"] == "en"


def test_declared_category(tmp_path: Path) -> None:
    law = SubjectRequest("law", category="Law School")
    with pytest.raises(UsageError, match="unknown category 'Law School'"):
        scaffold_dataset(tmp_path, "bank", [law])
    assert not (tmp_path / "bank").exists()
    scaffold_dataset(tmp_path, "bank", [law], DatasetSettings(categories=("Law School",)))
    assert read_meta(tmp_path / "bank").categories[-1] == "Law School"
    # a later subject may use it without declaring it again
    scaffold_dataset(tmp_path, "bank", [SubjectRequest("tax", category="Law School")])


@pytest.mark.parametrize(("name", "key"), [("my-bank", "law"), ("bank", "computer-network"), ("bank", "class"),
                                           ("bank", "2023_exam"), ("bank", "题库")])
def test_keys_must_be_identifiers(tmp_path: Path, name: str, key: str) -> None:
    with pytest.raises(UsageError, match="is not a Python identifier"):
        scaffold_dataset(tmp_path, name, [SubjectRequest(key)])
    assert list(tmp_path.iterdir()) == []


def test_duplicate_subject_in_one_call(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="'law' is given twice"):
        scaffold_dataset(tmp_path, "bank", [LAW, SubjectRequest("law")])


def test_empty_name_is_refused() -> None:
    with pytest.raises(UsageError, match="--name-zh for subject 'law' is empty"):
        SubjectRequest("law", name_zh=" ").resolve()


def test_pair_subjects_needs_matching_counts() -> None:
    assert pair_subjects(["a", "b"], categories=["STEM", "Other"])[1].category == "Other"
    with pytest.raises(UsageError, match="--name-en is given 1 time"):
        pair_subjects(["a", "b"], names_en=["A"])


def test_adding_a_subject_keeps_everything_else(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    bank = tmp_path / "bank"
    before = tree(bank)
    sheet = bank / "DATASHEET.md"
    sheet.write_text(sheet.read_text().replace("**TODO:** what this question bank", "Our own words. what"))
    result = add_subject(bank, SubjectRequest("art", name_zh="艺术"), {"val": [VAL_ROW]})
    after = tree(bank)
    assert result.added == ("art",) and not result.created
    for name in ("dev/law_dev.csv", "val/law_val.csv", "test/law_test.csv", "dataset.json"):
        assert after[name] == before[name]
    assert list(read_mapping(bank / "subject_mapping.json")) == ["law", "art"]
    text = sheet.read_text()
    assert "Our own words." in text  # the author's prose survives
    assert "| `art` | Art | 艺术 | Other | 0 | 1 | 0 |" in text
    assert (bank / "val/art_val.csv").read_text() == "id,question,A,B,C,D,answer\n0,哪个是颜色？,红,圆,快,高,A\n"


def test_datasheet_without_markers_is_left_alone(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    sheet = tmp_path / "bank/DATASHEET.md"
    sheet.write_text("# my own datasheet\n")
    result = scaffold_dataset(tmp_path, "bank", [SubjectRequest("art")])
    assert sheet.read_text() == "# my own datasheet\n"
    assert "no toolkit:counts markers" in result.notes[0]


@pytest.mark.parametrize(
    ("subjects", "settings", "message"),
    [
        ([LAW], DatasetSettings(), "already has subject\\(s\\) law"),
        ([SubjectRequest("art")], DatasetSettings(options=5), "has 4 options, not 5"),
        ([SubjectRequest("art")], DatasetSettings(language="en"), "has language 'zh', not 'en'"),
        ([SubjectRequest("art")], DatasetSettings(facts=DatasheetFacts(purpose="x")), "already has DATASHEET.md"),
        ([], DatasetSettings(), "dataset already exists"),
    ],
)
def test_conflicts_are_usage_errors_and_change_nothing(tmp_path: Path, subjects, settings, message) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    before = tree(tmp_path / "bank")
    with pytest.raises(UsageError, match=message) as err:
        scaffold_dataset(tmp_path, "bank", subjects, settings)
    assert "--force" in str(err.value)
    assert tree(tmp_path / "bank") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank"]


def test_force_backs_up_then_replaces_and_keeps_mapped_names(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    add_subject(tmp_path / "bank", SubjectRequest("art"), {"val": [VAL_ROW]})
    before = tree(tmp_path / "bank")
    result = scaffold_dataset(tmp_path, "bank", [SubjectRequest("law")], DatasetSettings(language="en"), force=True)
    assert result.replaced == ("law",) and result.backup is not None
    assert result.backup.parent == tmp_path and result.backup.name.startswith("bank.bak-")
    assert tree(result.backup) == before
    assert read_mapping(tmp_path / "bank/subject_mapping.json")["law"] == Subject("law", "Law", "法学", "Humanities")
    assert read_meta(tmp_path / "bank").language == "en"
    assert (tmp_path / "bank/val/art_val.csv").read_bytes() == before["val/art_val.csv"]


def test_force_cannot_change_the_option_count_of_other_subjects(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW, SubjectRequest("art")])
    with pytest.raises(UsageError, match="subjects art have 4"):
        scaffold_dataset(tmp_path, "bank", [LAW], DatasetSettings(options=5), force=True)
    result = scaffold_dataset(tmp_path, "bank", [LAW, SubjectRequest("art")], DatasetSettings(options=5), force=True)
    assert result.meta.options == 5


def test_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="exists and is not a dataset"):
        scaffold_dataset(tmp_path, "bank", [LAW])
    result = scaffold_dataset(tmp_path, "bank", [LAW], force=True)
    assert (result.backup / "notes.txt").read_text() == "mine"
    assert (tmp_path / "bank" / "notes.txt").read_text() == "mine"  # force adds, it does not delete


def test_empty_folder_counts_as_new(tmp_path: Path) -> None:
    (tmp_path / "bank").mkdir()
    assert scaffold_dataset(tmp_path, "bank", [LAW]).created


def test_existing_defective_mapping_must_be_fixed_first(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    (tmp_path / "bank/subject_mapping.json").write_text('{"law": ["Law", "法学"]}\n')
    with pytest.raises(DataError, match="must be \\[English name, Chinese name, category\\]"):
        scaffold_dataset(tmp_path, "bank", [SubjectRequest("art")])


def test_c_eval_folder_without_dataset_json_gets_one(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    (bank / "val").mkdir(parents=True)
    (bank / "val/law_val.csv").write_text("id,question,A,B,C,answer\n0,q,a,b,c,A\n")
    result = scaffold_dataset(tmp_path, "bank", [SubjectRequest("art")])
    assert result.meta.options == 3  # read from the existing header
    assert read_meta(bank).options == 3


def test_add_subject_needs_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no dataset here"):
        add_subject(tmp_path / "nope", Subject("law", "Law", "法学", "Other"))


def test_rows_must_fit_the_header(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    with pytest.raises(DataError, match="row 0 of subject 'art' \\(val\\) has 3 cells, expected 7"):
        add_subject(tmp_path / "bank", SubjectRequest("art"), {"val": [["0", "q", "a"]]})


def _fail_write(monkeypatch: pytest.MonkeyPatch, at: int, code: int, message: str) -> None:
    """Make the ``at``-th write of the write layer fail with ``code`` (each small file is one write)."""
    real = fileio._os_write
    calls = []

    def flaky(fd, data):
        calls.append(fd)
        if len(calls) == at:
            raise OSError(code, message)
        return real(fd, data)

    monkeypatch.setattr(fileio, "_os_write", flaky)


def test_a_failed_write_leaves_a_new_dataset_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_write(monkeypatch, 3, 28, "No space left on device")
    # a full disk is not a usage error (issue 9: exit 1, "no space left", the path)
    with pytest.raises(WriteError, match="no space left on device") as info:
        scaffold_dataset(tmp_path / "data", "bank", [LAW])
    assert info.value.exit_code == 1 and str(tmp_path / "data" / "bank") in str(info.value)
    assert ".partial" not in str(info.value)
    assert not (tmp_path / "data").exists()  # not even the root we created


def test_a_failed_update_restores_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    before = tree(tmp_path / "bank")
    _fail_write(monkeypatch, 5, 5, "Input/output error")  # after the new split files and the mapping were written
    with pytest.raises(WriteError, match="Input/output error"):
        scaffold_dataset(tmp_path, "bank", [SubjectRequest("art")])
    assert tree(tmp_path / "bank") == before
    assert sorted(p.name for p in (tmp_path / "bank").iterdir()) == [
        "DATASHEET.md", "dataset.json", "dev", "subject_mapping.json", "test", "val"]


def test_datasheet_counts_block_is_marked(tmp_path: Path) -> None:
    scaffold_dataset(tmp_path, "bank", [LAW])
    assert COUNTS_BEGIN in (tmp_path / "bank/DATASHEET.md").read_text()
