"""load_ceval_splits reads what OpenCompass's CEvalDataset reads, and fails clearly where it would crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.engine.data import as_dataset_rows, load_ceval_splits
from toolkit.errors import DataError

HEADER = "id,question,A,B,C,D,answer\n"


def write_subject(root: Path, name: str = "demo", **splits: bytes | str) -> Path:
    """Write ``<root>/<split>/<name>_<split>.csv`` for dev/val/test (a header-only file unless given)."""
    for split in ("dev", "val", "test"):
        body = splits.get(split, HEADER)
        (root / split).mkdir(parents=True, exist_ok=True)
        path = root / split / f"{name}_{split}.csv"
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    return root


def test_real_ceval_subject(shared_dir: Path) -> None:
    splits = load_ceval_splits(shared_dir / "data" / "ceval", "computer_network")
    assert set(splits) == {"dev", "val", "test"}
    assert len(splits["dev"]) == 5 and all(row["explanation"] for row in splits["dev"])
    assert list(splits["val"][0]) == ["id", "question", "A", "B", "C", "D", "answer", "explanation"]
    assert splits["val"][0]["explanation"] == ""
    assert all(row["answer"] == "" for row in splits["test"])  # C-Eval's test split has no answer column


def test_seed_cells_kept_exactly(seed_raw: Path, tmp_path: Path) -> None:
    raw = seed_raw.read_bytes()
    rows = load_ceval_splits(write_subject(tmp_path, dev=raw, val=raw, test=raw), "demo")["val"]
    assert len(rows) == 10
    assert rows[1]["answer"] == " D" and rows[1]["A"] == "外核 "
    assert rows[0]["explanation"] == ""


def test_bom_is_stripped(tmp_path: Path) -> None:
    body = b"\xef\xbb\xbf" + (HEADER + "1,q,a,b,c,d,A\n").encode()
    rows = load_ceval_splits(write_subject(tmp_path, val=body), "demo")["val"]
    assert rows == [{"id": "1", "question": "q", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "A", "explanation": ""}]


def test_universal_newlines_inside_quoted_cells(tmp_path: Path) -> None:
    body = (HEADER + '1,"line1\r\nline2\rline3",a,b,c,d,A\r\n').replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    rows = load_ceval_splits(write_subject(tmp_path, val=body), "demo")["val"]
    assert rows[0]["question"] == "line1\nline2\nline3"
    assert rows[0]["answer"] == "A"


def test_short_row_lacks_columns_and_extra_cells_are_dropped(tmp_path: Path) -> None:
    body = HEADER + "1,q,a,b,c\n2,q,a,b,c,d,B,extra\n"
    rows = load_ceval_splits(write_subject(tmp_path, val=body), "demo")["val"]
    assert "D" not in rows[0] and rows[0]["answer"] == ""
    assert rows[1]["answer"] == "B" and "extra" not in rows[1].values()


def test_header_only_split_is_empty(tmp_path: Path) -> None:
    assert load_ceval_splits(write_subject(tmp_path), "demo") == {"dev": [], "val": [], "test": []}


def test_missing_split_file_names_it(tmp_path: Path) -> None:
    write_subject(tmp_path)
    missing = tmp_path / "test" / "demo_test.csv"
    missing.unlink()
    with pytest.raises(DataError) as err:
        load_ceval_splits(tmp_path, "demo")
    assert str(missing) in str(err.value) and "not found" in str(err.value)
    assert err.value.exit_code == 1 and "dev/, val/ and test/" in (err.value.hint or "")


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    body = (HEADER + "1,q,a,b,c,d,A\n").encode() + "2,题目,a,b,c,d,A\n".encode("gbk")
    write_subject(tmp_path, dev=body)
    with pytest.raises(DataError) as err:
        load_ceval_splits(tmp_path, "demo")
    assert err.value.location.line == 3 and "demo_dev.csv" in str(err.value) and "UTF-8" in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    write_subject(tmp_path, val="")
    with pytest.raises(DataError, match="empty"):
        load_ceval_splits(tmp_path, "demo")


def test_a_long_unquoted_cell_is_data_not_an_error(tmp_path: Path) -> None:
    """Issue 9.6: a well-formed file with a cell over csv's 128 KiB default was called "not valid CSV"."""
    write_subject(tmp_path, val=HEADER + "1,q,a,b,c,d,A\n2," + "x" * 200_000 + ",a,b,c,d,A\n")
    rows = load_ceval_splits(tmp_path, "demo")["val"]
    assert [len(r["question"]) for r in rows] == [1, 200_000] and rows[1]["answer"] == "A"


def test_dataset_rows_take_the_first_rows_columns() -> None:
    rows = [{"q": "1", "D": "4"}, {"q": "2", "extra": "x"}]
    assert as_dataset_rows(rows) == [{"q": "1", "D": "4"}, {"q": "2", "D": None}]
    assert as_dataset_rows([{"q": "1"}, {"q": "2", "D": "4"}]) == [{"q": "1"}, {"q": "2"}]
    assert as_dataset_rows([]) == []


def test_a_cell_over_csvs_default_limit_is_read_whole(tmp_path: Path) -> None:
    """validate and new-dataset accept a 1 MB cell; the engine must read the same file, not stop at 128 KiB."""
    import csv

    big = "长" * 1_000_000
    body = HEADER + f'0,"{big}",a,b,c,d,A\n'
    limit = csv.field_size_limit()
    rows = load_ceval_splits(write_subject(tmp_path, val=body), "demo")["val"]
    assert rows[0]["question"] == big
    assert csv.field_size_limit() == limit  # lifted only while reading
