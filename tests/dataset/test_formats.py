"""Layout recognition (formats) and row extraction (questions): which column is what, which rows are skipped why."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.dataset.formats import SourceFormat, detect_layout, parse_column_options, split_packed_choices
from toolkit.dataset.questions import extract_questions, read_questions
from toolkit.dataset.sheets import Sheet, SheetRow
from toolkit.errors import DataError, UsageError


def sheet(*rows: tuple[str, ...], has_header: bool | None = None) -> Sheet:
    return Sheet(Path("s.csv"), "csv", tuple(SheetRow(i + 1, r) for i, r in enumerate(rows)), has_header)


CEVAL = ("id", "question", "A", "B", "C", "D", "answer", "explanation")
ROW = ("0", "q", "a", "b", "c", "d", "A", "because")


def test_ceval_header() -> None:
    layout = detect_layout(sheet(CEVAL, ROW))
    assert layout.format is SourceFormat.CEVAL
    assert (layout.id, layout.question, layout.options, layout.answer, layout.explanation) == (0, 1, (2, 3, 4, 5), 6, 7)
    assert layout.letters == ("A", "B", "C", "D")


def test_ceval_test_header_without_answer_is_not_mistaken_for_mmlu() -> None:
    layout = detect_layout(sheet(("id", "question", "A", "B", "C", "D"), ("0", "q", "a", "b", "c", "d")))
    assert layout.format is SourceFormat.CEVAL and layout.answer is None


def test_cmmlu_unnamed_index_is_the_id() -> None:
    layout = detect_layout(sheet(("", "Question", "A", "B", "C", "D", "Answer"), ("7", "q", "a", "b", "c", "d", "B")))
    assert layout.format is SourceFormat.CMMLU
    assert (layout.id, layout.question, layout.answer) == (0, 1, 6)


def test_mmlu_has_no_header() -> None:
    layout = detect_layout(sheet(("q", "a", "b", "c", "d", "C"), ("q2", "a", "b", "c", "d", "A")))
    assert layout.format is SourceFormat.MMLU and layout.header is None
    questions, skipped = extract_questions(sheet(("q", "a", "b", "c", "d", "C")), layout)
    assert [(q.line, q.id, q.question, q.answer) for q in questions] == [(1, None, "q", "C")]


def test_more_option_letters_are_recognised() -> None:
    header = ("question", "A", "B", "C", "D", "E", "answer")
    assert detect_layout(sheet(header)).letters == ("A", "B", "C", "D", "E")
    assert detect_layout(sheet(("q", "a", "b", "c", "B"))).letters == ("A", "B", "C")


def test_openbookqa_packed_choices() -> None:
    header = ("ID", "Question Stem", "Choices", "Complete Question", "Answer Key")
    row = ("8-376", "Frilled sharks live", "(A) Deep sea animals (B) fish (C) Long Sea Fish (D) Far Sea Animals", "…", "A")
    s = sheet(header, row)
    layout = detect_layout(s)
    assert layout.format is SourceFormat.OPENBOOKQA
    assert layout.ignored == ("Complete Question",)
    (q,), _ = extract_questions(s, layout)
    assert (q.id, q.options, q.answer) == ("8-376", ("Deep sea animals", "fish", "Long Sea Fish", "Far Sea Animals"), "A")


def test_split_packed_choices_edge_cases() -> None:
    assert split_packed_choices("no labels") == ()
    assert split_packed_choices("(A) x (C) y") == ("x (C) y",)  # labels must come in order
    assert split_packed_choices("(A) f(B) (B) g") == ("f(B)", "g")  # a label needs a space before it


def test_columns_mapping_with_fallback_names() -> None:
    header = ("编号", "题目", "A", "B", "C", "D", "答案")
    columns = parse_column_options(["question=题目", "answer=答案", "id=编号"])
    layout = detect_layout(sheet(header), columns=columns)
    assert layout.format is SourceFormat.COLUMNS
    assert (layout.id, layout.question, layout.options, layout.answer) == (0, 1, (2, 3, 4, 5), 6)


def test_columns_mapping_for_letters() -> None:
    header = ("题目", "选项一", "选项二", "答案")
    columns = parse_column_options(["question=题目", "a=选项一", "B=选项二", "answer=答案"])
    layout = detect_layout(sheet(header), columns=columns)
    assert layout.letters == ("A", "B") and layout.options == (1, 2)


@pytest.mark.parametrize(
    ("values", "message"),
    [(["question"], "is not ROLE=HEADER"), (["stem=题目"], "unknown role 'stem'"),
     (["question=a", "Question=b"], "maps 'question' twice"), (["K=x"], "unknown role 'K'")],
)
def test_bad_column_options(values: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_column_options(values)


def test_column_naming_a_missing_header_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no column '题干' for --column question=题干") as err:
        detect_layout(sheet(("题目", "A", "B")), columns={"question": "题干"})
    assert "the header is: 题目, A, B" in str(err.value)


def test_unrecognised_header_says_how_to_map_it() -> None:
    with pytest.raises(DataError, match="no question column") as err:
        detect_layout(sheet(("题目", "选项A", "选项B", "答案"), ("q", "a", "b", "A")))
    assert "--column question=" in str(err.value)


def test_forced_format_checks_the_header() -> None:
    with pytest.raises(DataError, match="no question column"):
        detect_layout(sheet(("q", "a", "b", "c", "d", "A")), fmt=SourceFormat.CEVAL)
    with pytest.raises(DataError, match="fewer than 4 columns"):
        detect_layout(sheet(("q", "a", "A")), fmt=SourceFormat.MMLU)
    with pytest.raises(UsageError, match="--column cannot be combined with --format mmlu"):
        detect_layout(sheet(CEVAL), fmt=SourceFormat.MMLU, columns={"question": "question"})


def test_empty_sheet_is_a_data_error() -> None:
    with pytest.raises(DataError, match="is empty"):
        detect_layout(sheet())


def test_rows_are_skipped_with_reasons_never_silently() -> None:
    s = sheet(
        CEVAL,
        ROW,
        ("", "", "", "", "", "", "", ""),
        ("1", "short", "a", "b"),
        ("2", "long", "a", "b", "c", "d", "A", "", "extra"),
        ("3", "trailing blanks are fine", "a", "b", "c", "d", "A", "", "", ""),
    )
    questions, skipped = extract_questions(s, detect_layout(s))
    assert [q.line for q in questions] == [2, 6]
    assert [(k.line, k.reason.split(" (")[0]) for k in skipped] == [
        (3, "empty row"), (4, "4 cells, expected 8"), (5, "9 cells, expected 8")]


def test_missing_jsonl_key_skips_only_when_the_column_is_used() -> None:
    rows = (
        SheetRow(1, ("question", "A", "B", "answer", "note")),
        SheetRow(1, ("q", "a", "b", "A", ""), missing=(4,)),
        SheetRow(2, ("q", "a", "", "B", "n"), missing=(2,)),
    )
    s = Sheet(Path("q.jsonl"), "jsonl", rows, True)
    questions, skipped = extract_questions(s, detect_layout(s))
    assert len(questions) == 1 and skipped[0].reason == "no value for 'B'"


def test_packed_choices_with_the_wrong_count_are_skipped() -> None:
    header = ("ID", "Question Stem", "Choices", "Answer Key")
    s = sheet(header, ("1", "q", "(A) x (B) y (C) z (D) w", "A"), ("2", "q", "(A) x (B) y", "A"))
    questions, skipped = extract_questions(s, detect_layout(s))
    assert len(questions) == 1
    assert skipped[0].reason == "the packed choices give 2 options, expected 4 (A–D)"


def test_read_questions_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "bank.csv"
    f.write_text("题目,A,B,答案\nq,NA,0,A\n,,,\n", encoding="utf-8")
    table = read_questions(f, columns={"question": "题目", "answer": "答案"})
    assert table.layout.format is SourceFormat.COLUMNS
    assert [(q.line, q.options, q.answer) for q in table.questions] == [(2, ("NA", "0"), "A")]
    assert [(k.line, k.reason) for k in table.skipped] == [(3, "empty row")]


def test_packed_choices_may_be_a_json_list() -> None:
    assert split_packed_choices('["a", "b", "c", "d"]') == ("a", "b", "c", "d")
    assert split_packed_choices('["NA", 0, 1.50, null]') == ("NA", "0", "1.50", "")
    assert split_packed_choices('["a", ["b"]]') == () and split_packed_choices("[not json") == ()


def test_absent_optional_jsonl_keys_are_empty_not_skipped() -> None:
    rows = (
        SheetRow(1, ("id", "question", "A", "B", "answer", "explanation")),
        SheetRow(1, ("7", "q1", "a", "b", "A", "because")),
        SheetRow(2, ("8", "q2", "a", "b", "B", ""), missing=(5,)),  # no explanation
        SheetRow(3, ("", "q3", "a", "b", "A", "x"), missing=(0,)),  # no id
        SheetRow(4, ("9", "q4", "a", "b", "", ""), missing=(4, 5)),  # no answer
        SheetRow(5, ("10", "", "a", "b", "A", ""), missing=(1,)),  # no question
    )
    s = Sheet(Path("q.jsonl"), "jsonl", rows, True)
    questions, skipped = extract_questions(s, detect_layout(s))
    assert [(q.line, q.id, q.explanation) for q in questions] == [(1, "7", "because"), (2, "8", ""), (3, None, "x")]
    assert [(k.line, k.reason) for k in skipped] == [(4, "no value for 'answer'"), (5, "no value for 'question'")]
    test_questions, test_skipped = extract_questions(s, detect_layout(s), blank_answers=True)
    assert [(q.line, q.answer) for q in test_questions][-1] == (4, "")
    assert [k.line for k in test_skipped] == [5]


def test_an_uncomputed_formula_in_a_used_cell_skips_its_row() -> None:
    rows = (SheetRow(1, ("question", "A", "B", "answer", "note")),
            SheetRow(2, ("q", "", "b", "A", ""), uncomputed=((1, "B2 (=1+1)"),)),
            SheetRow(3, ("q", "a", "b", "A", ""), uncomputed=((4, "E3 (=NOW())"),)))  # an unused column
    s = Sheet(Path("q.xlsx"), "xlsx", rows)
    questions, skipped = extract_questions(s, detect_layout(s))
    assert [q.line for q in questions] == [3]
    assert skipped[0].line == 2 and skipped[0].reason.startswith("formula cell B2 (=1+1) has no saved value")
