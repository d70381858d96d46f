"""Summary writers: golden txt/csv/md (regenerate with UPDATE_GOLDEN=1), files, terminal table."""

from __future__ import annotations

import csv
import doctest
import io
import os
from pathlib import Path

import pytest
from fixed_run import CATEGORIES, build_records
from rich.console import Console

import toolkit.report.tables as tables_module
from toolkit.analysis.uncertainty import summary_uncertainty
from toolkit.config.groups import category_groups
from toolkit.engine.scoring.results import Counts, ResultRecord
from toolkit.engine.scoring.summary import Summary, summarise
from toolkit.report.tables import (
    format_csv,
    format_md,
    format_txt,
    summary_paths,
    summary_timestamp,
    write_summary_files,
)
from toolkit.report.terminal import print_summary, summary_table

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "summary"
FORMATTERS = {"txt": format_txt, "csv": format_csv, "md": format_md}


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_golden_summary(run_summary: Summary, fmt: str) -> None:
    rendered = FORMATTERS[fmt](run_summary)
    golden = GOLDEN / f"summary.{fmt}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8", newline="")
    assert rendered == golden.read_text(encoding="utf-8"), "re-create with UPDATE_GOLDEN=1 if the change is intended"


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_golden_summary_with_intervals(run_summary: Summary, fmt: str) -> None:
    uncertainty = summary_uncertainty(run_summary, build_records(), category_groups("ceval", CATEGORIES))
    rendered = FORMATTERS[fmt](run_summary, uncertainty)
    golden = GOLDEN / f"summary_ci.{fmt}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered, encoding="utf-8", newline="")
    assert rendered == golden.read_text(encoding="utf-8"), "re-create with UPDATE_GOLDEN=1 if the change is intended"
    plain = FORMATTERS[fmt](run_summary)
    if fmt == "csv":  # OpenCompass's columns first and unchanged, then n and the intervals
        with_ci, without = list(csv.reader(io.StringIO(rendered))), list(csv.reader(io.StringIO(plain)))
        assert [row[:6] for row in with_ci] == without
        assert with_ci[0][6:] == ["n", "ci_low:smollm2-135m", "ci_high:smollm2-135m", "ci_low:qwen2-0.5b",
                                  "ci_high:qwen2-0.5b"]
        assert with_ci[1][6:] == ["19", "11.81", "48.79", "27.33", "68.29"]  # Wilson for 5/19 and 9/19
    assert "95% interval" in rendered if fmt != "csv" else True


def test_one_model_gets_plain_interval_columns() -> None:
    records = [ResultRecord("m", "a", "abcdef", "gen", "ok", value=50.0, counts=Counts(4, 4, 2))]
    summary = summarise(records)
    rows = list(csv.reader(io.StringIO(format_csv(summary, summary_uncertainty(summary, records)))))
    assert rows == [["dataset", "version", "metric", "mode", "m", "n", "ci_low", "ci_high"],
                    ["a", "abcdef", "accuracy", "gen", "50.00", "4", "15.00", "85.00"]]


def test_txt_is_aligned_like_opencompass(run_summary: Summary) -> None:
    lines = format_txt(run_summary).splitlines()
    header, rule = lines[0], lines[1]
    assert header == "dataset                 version    metric            mode    smollm2-135m    qwen2-0.5b"
    assert rule.split("  ")[:5] == ["-" * 22, "-" * 9, "-" * 16, "-" * 6, "-" * 14]  # headers padded by two
    # like tabulate, a column holding any text ("n/a", "error: …") is left-aligned
    assert next(line for line in lines if line.startswith("ceval-computer_network")).endswith("gen     26.32           47.37")
    assert "notes:" in lines


def test_all_number_columns_are_right_aligned() -> None:
    records = [ResultRecord("m", "a", "abcdef", "gen", "ok", value=100.0), ResultRecord("m", "b", "abcdef", "gen", "ok", value=5.0)]
    assert format_txt(summarise(records)).splitlines()[2:] == [
        "a          abcdef     accuracy  gen     100.00",
        "b          abcdef     accuracy  gen       5.00",
    ]


def test_txt_measures_wide_characters() -> None:
    records = [ResultRecord("模型", "数据-法学", "abcdef", "gen", "ok", value=50.0),
               ResultRecord("模型", "x", "abcdef", "gen", "ok", value=5.0)]
    lines = format_txt(summarise(records)).splitlines()
    assert lines[0] == "dataset    version    metric    mode      模型"
    assert lines[2].startswith("数据-法学  abcdef")  # 9 display columns, padded to 9
    assert lines[2].endswith(" 50.00") and lines[3].endswith("  5.00")


def test_csv_is_valid_and_keeps_commas(run_records: list[ResultRecord]) -> None:
    records = run_records + [ResultRecord("smollm2-135m", "odd,name", "abcdef", "gen", "ok", value=1.0)]
    rows = list(csv.reader(io.StringIO(format_csv(summarise(records)))))
    assert rows[0] == ["dataset", "version", "metric", "mode", "smollm2-135m", "qwen2-0.5b"]
    assert ["odd,name", "abcdef", "accuracy", "gen", "1.00", "-"] in rows


def test_md_escapes_pipes() -> None:
    record = ResultRecord("m", "a|b", "abcdef", "gen", "failed", error="bad | worse")
    md = format_md(summarise([record]))
    assert "| a\\|b | abcdef | accuracy | gen | error: bad \\| worse |" in md
    assert md.splitlines()[1] == "|----- | ----- | ----- | ----- | -----|"  # OpenCompass's rule line


def test_write_summary_files(tmp_path: Path, run_summary: Summary) -> None:
    paths = write_summary_files(run_summary, tmp_path / "summary", "20240501_093000")
    assert paths == summary_paths(tmp_path / "summary", "20240501_093000")
    assert sorted(p.name for p in (tmp_path / "summary").iterdir()) == [
        "summary_20240501_093000.csv", "summary_20240501_093000.md", "summary_20240501_093000.txt"]
    assert paths["txt"].read_text(encoding="utf-8") == format_txt(run_summary)


def test_write_summary_files_stamps_now(tmp_path: Path, run_summary: Summary) -> None:
    paths = write_summary_files(run_summary, tmp_path)
    assert all(p.exists() for p in paths.values())
    stamp = paths["txt"].stem.removeprefix("summary_")
    assert len(stamp) == 15 and stamp[8] == "_" and stamp.replace("_", "").isdigit()
    assert summary_timestamp()[:4].isdigit()


def test_rich_table_shows_everything(run_summary: Summary) -> None:
    console = Console(record=True, width=200, color_system=None)
    print_summary(run_summary, console)
    text = console.export_text()
    assert "smollm2-135m" in text and "qwen2-0.5b" in text
    assert "error: torch.OutOfMemoryError: CUDA out of memory" in text
    assert "incomplete: ceval-logic failed" in text
    assert "• ceval-humanities: n/a subjects excluded from its averages: ceval-art_studies" in text
    table = summary_table(run_summary)
    assert [c.header for c in table.columns][4:] == ["smollm2-135m", "qwen2-0.5b"]
    assert table.row_count == len(run_summary.rows)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(tables_module).failed == 0


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_narrow_terminal_never_cuts_a_dataset_name(width: int) -> None:
    """C-Eval's ceval-middle_school_* subjects must not all read "ceval-middle_schoo…" (issue 10, item 8)."""
    subjects = ["middle_school_mathematics", "middle_school_biology", "middle_school_physics",
                "environmental_impact_assessment_engineer"]
    records = [ResultRecord(model, f"ceval-{s}", "9b9417", "ppl", "ok", 25.0)
               for s in subjects for model in ("SmolLM2-135M-Instruct", "Qwen2.5-0.5B-Instruct")]
    summary = summarise(records)
    console = Console(record=True, width=width, color_system=None)
    print_summary(summary, console)
    lines = console.export_text().splitlines()
    assert "…" not in "".join(lines)
    assert all(len(line) <= width for line in lines)
    body = [line for line in lines if line.startswith("│")]
    column = "".join(line.split("│")[1].strip() for line in body)  # a folded name continues on the next lines
    assert column == "".join(f"ceval-{s}" for s in subjects)
    assert all(line.rstrip("│ ").endswith("25.00") for line in body if "9b9417" in line)  # scores stay in view
