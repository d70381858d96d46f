"""Rendering: one table per file, hints once per check, a summary line; the changes of --fix."""

from __future__ import annotations

import io

from rich.console import Console

from toolkit.validate import Change, ValidationReport
from toolkit.validate.findings import make_finding
from toolkit.validate.report import render_changes, render_report, summary_line


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=120, no_color=True, highlight=False), buf


def test_findings_are_grouped_by_file_with_each_hint_once() -> None:
    findings = (
        make_finding("W208", "a.csv", "option A ends with whitespace", line=2, column="A", value="x "),
        make_finding("W208", "a.csv", "option B ends with whitespace", line=3, column="B", value="[y] "),
        make_finding("E101", "b.csv", line=4, value="1,2"),
    )
    console, buf = _console()
    render_report(ValidationReport("bank", findings, ("a.csv", "b.csv")), console)
    text = buf.getvalue()
    assert text.index("a.csv") < text.index("b.csv")
    assert text.count("strip it (it changes the prompt)") == 1
    assert "'[y] '" in text  # values are shown quoted and never read as rich markup
    assert text.rstrip().splitlines()[-1] == "✗ failed: 1 error, 2 warnings, 0 info in 2 files"


def test_summary_line_variants() -> None:
    warn = ValidationReport("a.csv", (make_finding("W208", "a.csv"),), ("a.csv",))
    assert str(summary_line(warn)) == "✓ passed: 0 errors, 1 warning, 0 info in 1 file"
    assert str(summary_line(warn, strict=True)) == "✗ failed: 0 errors, 1 warning, 0 info in 1 file (--strict: warnings fail)"


def test_changes_are_listed_per_file_with_their_backup() -> None:
    changes = [
        Change("a.csv", None, None, "CRLF line endings", "\\n line endings", backup="a.csv.bak-1"),
        Change("a.csv", 3, "answer", " D", "D", backup="a.csv.bak-1"),
        Change("b.csv", 2, "A", "甲 ", "甲"),
    ]
    console, buf = _console()
    render_changes(changes, console)
    text = buf.getvalue()
    assert "fixed a.csv" in text and "fixed b.csv" in text
    assert "CRLF line endings" in text and "' D'" in text and "'甲 '" in text
    assert text.count("backup: a.csv.bak-1") == 1 and "backup: b.csv" not in text
    assert text.rstrip().splitlines()[-1] == "--fix: 3 changes in 2 files"
    console, buf = _console()
    render_changes([], console)
    assert buf.getvalue() == "--fix: nothing to repair\n"
