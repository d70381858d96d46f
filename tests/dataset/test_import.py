"""import_sheets on hand-made fixtures: encodings, kinds, splits, ids, names, reports and refusals."""

from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path

import pytest

from toolkit.dataset.formats import SourceFormat
from toolkit.dataset.importer import ImportOptions, import_sheets
from toolkit.dataset.mapping import Subject, read_mapping
from toolkit.dataset.scaffold import SubjectRequest
from toolkit.dataset.sources import derive_subject_key, split_from_path
from toolkit.dataset.write import DatasetSettings
from toolkit.errors import DataError, UsageError

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "import"
SUBJECT = [SubjectRequest("bank")]


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def source_rows() -> list[list[str]]:
    return rows(FIXTURES / "bank_utf8.csv")


@pytest.mark.parametrize("name", ["bank_utf8.csv", "bank_bom.csv", "bank_gbk_crlf.csv", "bank.tsv", "bank.jsonl"])
def test_every_kind_and_encoding_gives_the_same_utf8_dataset(tmp_path: Path, name: str) -> None:
    report = import_sheets(tmp_path, "d", [FIXTURES / name], subjects=SUBJECT)
    src = source_rows()
    dev, val = rows(tmp_path / "d/dev/bank_dev.csv"), rows(tmp_path / "d/val/bank_val.csv")
    assert dev[0] == src[0] + ["explanation"] and val[0] == src[0]
    assert [r[:-1] for r in dev[1:]] == src[1:6] and val[1:] == src[6:]
    assert rows(tmp_path / "d/test/bank_test.csv") == [src[0]]
    raw = (tmp_path / "d/val/bank_val.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw  # UTF-8 without BOM, LF
    assert (report.rows_read, report.rows_written, report.rows_skipped) == (7, 7, 0)


def test_xlsx_import_keeps_cells_as_shown(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in source_rows():
        wb.active.append([int(c) if c.isdigit() else c for c in r])  # numbers stored as numbers
    wb.save(tmp_path / "bank.xlsx")
    import_sheets(tmp_path, "d", [tmp_path / "bank.xlsx"], options=ImportOptions(dev_size=0))
    assert rows(tmp_path / "d/val/bank_val.csv") == source_rows()


def test_columns_mapping_keeps_explanations_in_dev(tmp_path: Path) -> None:
    columns = {"id": "编号", "question": "题目", "A": "选项A", "B": "选项B", "C": "选项C", "D": "选项D",
               "answer": "答案", "explanation": "解析"}
    report = import_sheets(tmp_path, "d", [FIXTURES / "bank_columns.csv"], subjects=SUBJECT,
                           options=ImportOptions(columns=columns, dev_size=2))
    assert rows(tmp_path / "d/dev/bank_dev.csv")[1] == source_rows()[1] + ["解析0"]
    assert report.sources[0].format == "columns"
    assert report.sources[0].notes == ("5 explanation(s) not written: only dev files have an explanation column",)


def test_dev_size_and_random_sample(tmp_path: Path) -> None:
    opts = ImportOptions(dev_size=3, dev_sample="random", seed=7)
    import_sheets(tmp_path, "a", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT, options=opts)
    import_sheets(tmp_path, "b", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT, options=opts)
    dev_a = [r[0] for r in rows(tmp_path / "a/dev/bank_dev.csv")[1:]]
    val_a = [r[0] for r in rows(tmp_path / "a/val/bank_val.csv")[1:]]
    # the documented algorithm: random.Random(seed).sample over row positions, source order kept
    assert dev_a == [str(i) for i in sorted(random.Random(7).sample(range(7), 3))]
    assert val_a == [str(i) for i in range(7) if str(i) not in dev_a]
    for split in ("dev", "val"):  # same seed, same split
        assert rows(tmp_path / f"a/{split}/bank_{split}.csv") == rows(tmp_path / f"b/{split}/bank_{split}.csv")
    seen = set()
    for seed in range(6):
        import_sheets(tmp_path, f"s{seed}", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT,
                      options=ImportOptions(dev_size=3, dev_sample="random", seed=seed))
        seen.add((tmp_path / f"s{seed}/dev/bank_dev.csv").read_bytes())
    assert len(seen) > 1


def test_dev_size_larger_than_the_file(tmp_path: Path) -> None:
    report = import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT, options=ImportOptions(dev_size=50))
    assert report.sources[0].notes == ("only 7 rows for --dev-size 50: all went to dev, val is empty",)
    assert report.result.subjects[0].counts == {"dev": 7, "val": 0, "test": 0}


def test_split_option_and_numbered_ids(tmp_path: Path) -> None:
    f = tmp_path / "noid.csv"
    f.write_text("question,A,B,answer\nq1,a,b,A\nq2,a,b,B\n", encoding="utf-8")
    report = import_sheets(tmp_path, "d", [f], options=ImportOptions(split="test"))
    assert rows(tmp_path / "d/test/noid_test.csv") == [["id", "question", "A", "B", "answer"], ["0", "q1", "a", "b", "A"],
                                                        ["1", "q2", "a", "b", "B"]]
    assert report.result.meta.options == 2  # detected from the source


def test_ids_are_numbered_per_split_file(tmp_path: Path) -> None:
    f = tmp_path / "noid.csv"
    f.write_text("question,A,B,answer\n" + "".join(f"q{i},a,b,A\n" for i in range(4)), encoding="utf-8")
    import_sheets(tmp_path, "d", [f], options=ImportOptions(dev_size=2))
    assert [r[0] for r in rows(tmp_path / "d/val/noid_val.csv")[1:]] == ["0", "1"]


def test_skipped_rows_are_reported_or_refused_with_strict(tmp_path: Path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("id,question,A,B,answer\n0,q,a,b,A\n1,q,a,b,c,A\n2,q,a\n", encoding="utf-8")
    with pytest.raises(DataError, match="2 row\\(s\\) cannot be imported; the first: 6 cells") as err:
        import_sheets(tmp_path, "d", [f], options=ImportOptions(strict=True))
    assert err.value.location.line == 3 and not (tmp_path / "d").exists()
    report = import_sheets(tmp_path, "d", [f])
    assert (report.rows_read, report.rows_written, report.rows_skipped) == (3, 1, 2)
    assert [(k.line, k.reason[:7]) for k in report.sources[0].skipped] == [(3, "6 cells"), (4, "3 cells")]


def test_names_from_a_mapping_beside_the_source(tmp_path: Path) -> None:
    (tmp_path / "src/val").mkdir(parents=True)
    shutil.copy(FIXTURES / "bank_utf8.csv", tmp_path / "src/val/computer_basics_val.csv")
    (tmp_path / "src/subject_mapping.json").write_text('{"computer_basics": ["Computer Basics", "计算机基础"]}')
    report = import_sheets(tmp_path, "d", [tmp_path / "src"])
    assert read_mapping(tmp_path / "d/subject_mapping.json")["computer_basics"] == Subject(
        "computer_basics", "Computer Basics", "计算机基础", "Other")
    assert report.result.defaults == {"computer_basics": ("category",)}


def test_several_subjects_paired_by_position(tmp_path: Path) -> None:
    report = import_sheets(
        tmp_path, "d", [FIXTURES / "bank_utf8.csv", FIXTURES / "bank.tsv"],
        subjects=[SubjectRequest("first", name_zh="一"), SubjectRequest("second", name_zh="二")],
    )
    assert [s.subject.key for s in report.result.subjects] == ["first", "second"]
    with pytest.raises(UsageError, match="--subject is given 2 times but --from 3 times"):
        import_sheets(tmp_path, "e", [FIXTURES / "bank_utf8.csv"] * 3, subjects=[SubjectRequest("a"), SubjectRequest("b")])


def test_two_files_for_one_subject_and_split(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="subject 'bank' split 'dev' would come from two files"):
        import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv", FIXTURES / "bank.tsv"], subjects=SUBJECT)
    assert not (tmp_path / "d").exists()


def test_no_answer_column_only_for_test(tmp_path: Path) -> None:
    f = tmp_path / "exam.csv"
    f.write_text("question,A,B\nq,a,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no answer column"):
        import_sheets(tmp_path, "d", [f])
    import_sheets(tmp_path, "d", [f], options=ImportOptions(split="test"))
    assert rows(tmp_path / "d/test/exam_test.csv") == [["id", "question", "A", "B", "answer"], ["0", "q", "a", "b", ""]]


def test_option_count_must_match(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has 4 options \\(A–D\\) but the dataset has 5") as err:
        import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT, settings=DatasetSettings(options=5))
    assert "--options 4" in str(err.value)


def test_adding_an_imported_subject_to_an_existing_dataset(tmp_path: Path) -> None:
    import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv"], subjects=[SubjectRequest("one")])
    report = import_sheets(tmp_path, "d", [FIXTURES / "bank.jsonl"], subjects=[SubjectRequest("two")])
    assert report.result.added == ("two",)
    assert "| `two` | Two | Two | Other | 5 | 2 | 0 |" in (tmp_path / "d/DATASHEET.md").read_text()
    with pytest.raises(UsageError, match="already has subject"):
        import_sheets(tmp_path, "d", [FIXTURES / "bank.jsonl"], subjects=[SubjectRequest("two")])


def test_report_to_dict_is_json(tmp_path: Path) -> None:
    report = import_sheets(tmp_path, "d", [FIXTURES / "bank_gbk_crlf.csv"], subjects=SUBJECT,
                           options=ImportOptions(format=SourceFormat.CEVAL))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["format_version"] == 1
    assert data["sources"][0]["encoding"] == "gb18030"
    assert (data["rows_read"], data["rows_written"], data["rows_skipped"]) == (7, 7, 0)


@pytest.mark.parametrize(
    ("path", "expected"),
    [("ceval/val/computer_network_val.csv", ("computer_network", "val")), ("cmmlu/test/agronomy.csv", ("agronomy", "test")),
     ("obqa/Main/dev.tsv", ("Main", "dev")), ("bank/validation.jsonl", ("bank", "val")), ("x/seed.csv", ("seed", None))],
)
def test_split_from_path(path: str, expected: tuple[str, str | None]) -> None:
    assert split_from_path(Path(path)) == expected


def test_derive_subject_key() -> None:
    assert derive_subject_key("High-School Bio") == "high_school_bio"
    assert derive_subject_key("2023") is None


def test_underivable_file_name_asks_for_subject(tmp_path: Path) -> None:
    f = tmp_path / "题库.csv"
    shutil.copy(FIXTURES / "bank_utf8.csv", f)
    with pytest.raises(UsageError, match="cannot make a subject key from the name '题库'") as err:
        import_sheets(tmp_path, "d", [f])
    assert "--subject KEY" in str(err.value)


def test_folder_skips_hidden_and_backup_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / ".git").mkdir(parents=True)
    (src / "old.bak-20240101").mkdir()
    shutil.copy(FIXTURES / "bank_utf8.csv", src / "bank.csv")
    shutil.copy(FIXTURES / "bank_utf8.csv", src / ".git" / "x.csv")
    shutil.copy(FIXTURES / "bank_utf8.csv", src / "old.bak-20240101" / "x.csv")
    (src / "~$bank.xlsx").write_bytes(b"excel lock file")
    report = import_sheets(tmp_path, "d", [src])
    assert [s.file.name for s in report.sources] == ["bank.csv"]


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .csv, .tsv"):
        import_sheets(tmp_path, "d", [tmp_path / "empty"])
    with pytest.raises(UsageError, match="file or folder not found"):
        import_sheets(tmp_path, "d", [tmp_path / "missing.csv"])


def test_a_toolkit_dataset_round_trips(tmp_path: Path) -> None:
    example = FIXTURES.parents[2] / "examples" / "chinese_core_socialist_values"
    report = import_sheets(tmp_path, "copy", [example])
    assert report.result.defaults == {}  # names and category come from the example's own mapping
    for name in ("subject_mapping.json", *(f"{s}/chinese_core_socialist_values_{s}.csv" for s in ("dev", "val", "test"))):
        assert (tmp_path / "copy" / name).read_bytes() == (example / name).read_bytes()


def _jsonl(path: Path, *objects: dict) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


def test_jsonl_rows_without_optional_keys_are_imported(tmp_path: Path) -> None:
    f = _jsonl(tmp_path / "bank.jsonl",
               {"id": 3, "question": "q0", "A": "a", "B": "b", "answer": "A", "explanation": "why"},
               {"id": 4, "question": "q1", "A": "a", "B": "b", "answer": "B"},
               {"question": "q2", "A": "a", "B": "b", "answer": "A", "explanation": "x"},
               {"question": "q3", "A": "a", "B": "b", "explanation": "no answer"})
    report = import_sheets(tmp_path, "d", [f], options=ImportOptions(split="dev"))
    assert [(k.line, k.reason) for k in report.sources[0].skipped] == [(4, "no value for 'answer'")]
    # one row has no id: the file is numbered as an id-less source is, and the report says so
    assert rows(tmp_path / "d/dev/bank_dev.csv")[1:] == [
        ["0", "q0", "a", "b", "A", "why"], ["1", "q1", "a", "b", "B", ""], ["2", "q2", "a", "b", "A", "x"]]
    assert report.sources[0].notes == ("2 source id(s) replaced by row numbers 0, 1, … in each file: the ids are "
                                       "not unique whole numbers (some rows have none)",)
    test = import_sheets(tmp_path, "t", [f], options=ImportOptions(split="test"))  # test answers may be blank
    assert test.rows_skipped == 0 and rows(tmp_path / "t/test/bank_test.csv")[-1] == ["3", "q3", "a", "b", ""]


@pytest.mark.parametrize(
    ("ids", "written", "replaced"),
    [(["0", "1", "2"], ["0", "1", "2"], None), (["10", " 7", "3"], ["10", " 7", "3"], None),
     (["8-376", "7", "9"], ["0", "1", "2"], "e.g. '8-376'"), (["5", "05", "6"], ["0", "1", "2"], "e.g. '05'"),
     (["1", "", "2"], ["0", "1", "2"], "some rows have none"), (["-1", "1", "2"], ["0", "1", "2"], "e.g. '-1'")],
)
def test_source_ids_are_kept_only_when_they_are_unique_whole_numbers(
    tmp_path: Path, ids: list[str], written: list[str], replaced: str | None
) -> None:
    f = tmp_path / "bank.csv"
    f.write_text("id,question,A,B,answer\n" + "".join(f'"{i}",q{n},a,b,A\n' for n, i in enumerate(ids)),
                 encoding="utf-8")
    report = import_sheets(tmp_path, "d", [f], options=ImportOptions(split="val"))
    assert [r[0] for r in rows(tmp_path / "d/val/bank_val.csv")[1:]] == written
    notes = report.sources[0].notes
    assert notes == (() if replaced is None else (
        f"3 source id(s) replaced by row numbers 0, 1, … in each file: the ids are not unique whole numbers "
        f"({replaced})",))


def test_ids_are_judged_per_written_file(tmp_path: Path) -> None:
    f = tmp_path / "bank.csv"
    f.write_text("id,question,A,B,answer\n" + "".join(f"{i},q{i},a,b,A\n" for i in (4, 4, 5, 6)), encoding="utf-8")
    report = import_sheets(tmp_path, "d", [f], options=ImportOptions(dev_size=1))
    assert [r[0] for r in rows(tmp_path / "d/dev/bank_dev.csv")[1:]] == ["4"]  # one id 4 per file: kept
    assert [r[0] for r in rows(tmp_path / "d/val/bank_val.csv")[1:]] == ["4", "5", "6"]
    assert report.sources[0].notes == ()


def test_json_list_choices_are_unpacked(tmp_path: Path) -> None:
    f = _jsonl(tmp_path / "bank.jsonl", *({"question": f"q{i}", "choices": ["a", "b", "NA", 0], "answer": "C"}
                                          for i in range(3)))
    report = import_sheets(tmp_path, "d", [f], options=ImportOptions(columns={"choices": "choices"}, split="val"))
    assert report.rows_written == 3
    assert rows(tmp_path / "d/val/bank_val.csv")[1] == ["0", "q0", "a", "b", "NA", "0", "C"]


def test_an_import_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "bank.jsonl"
    f.write_text('{"question": "q", "choices": "a | b | c | d", "answer": "A"}\n' * 2, encoding="utf-8")
    with pytest.raises(DataError, match="no row can be imported: all 2 row\\(s\\) were skipped") as err:
        import_sheets(tmp_path, "d", [f], options=ImportOptions(columns={"choices": "choices"}))
    assert err.value.location.file == f and err.value.location.line == 1
    assert "2 × the packed choices give 0 options, expected 4 (A–D)" in str(err.value)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("question,A,B,answer\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no data rows"):
        import_sheets(tmp_path, "d", [header_only])
    assert not (tmp_path / "d").exists()


def test_seed_needs_a_random_dev_sample(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--seed only applies to --dev-sample random") as err:
        import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT, options=ImportOptions(seed=3))
    assert err.value.exit_code == 2
    seeded = import_sheets(tmp_path, "d", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT,
                           options=ImportOptions(dev_sample="random", seed=0))
    default = import_sheets(tmp_path, "e", [FIXTURES / "bank_utf8.csv"], subjects=SUBJECT,
                            options=ImportOptions(dev_sample="random"))  # the default seed is 0
    assert seeded.rows_written == default.rows_written == 7
    assert (tmp_path / "d/dev/bank_dev.csv").read_bytes() == (tmp_path / "e/dev/bank_dev.csv").read_bytes()


def test_xlsx_formula_without_a_saved_value_is_skipped_with_its_cell(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["question", "A", "B", "answer"])
    wb.active.append(["1+1=?", "=1+1", "3", "A"])  # written by a script: no cached value
    wb.active.append(["2+2=?", "4", "5", "A"])
    wb.save(tmp_path / "bank.xlsx")
    report = import_sheets(tmp_path, "d", [tmp_path / "bank.xlsx"], options=ImportOptions(split="val"))
    (skip,) = report.sources[0].skipped
    assert skip.line == 2 and "formula cell B2 (=1+1) has no saved value" in skip.reason
    assert rows(tmp_path / "d/val/bank_val.csv")[1:] == [["0", "2+2=?", "4", "5", "A"]]
