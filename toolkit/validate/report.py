"""Showing a validation report: a rich table per file and a summary line, or JSON.

The JSON document (``--json``)::

    {"format_version": 1, "path": "...", "ok": false,
     "counts": {"error": 3, "warning": 27, "info": 0},
     "files": ["..."],
     "findings": [{"code": "E207", "name": "answer-not-normalised", "severity": "error",
                   "file": "...", "line": 3, "column": "answer", "value": " D",
                   "message": "...", "hint": "..."}],
     "changes": [{"file": "...", "line": 3, "column": "A", "before": "外核 ", "after": "外核",
                  "backup": "...csv.bak-20250101-120000"}],
     "notes": ["..."]}

``line`` is the editor line (header = 1), null for file-level findings; ``value``
is shortened to 40 characters; ``changes`` is empty unless ``--fix`` ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from toolkit.validate.findings import Change, Finding, ValidationReport, shorten

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def report_json(report: ValidationReport) -> str:
    """The report as the documented JSON document (UTF-8 text, non-ASCII kept)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _quoted(value: str | None) -> Text:
    return Text("" if value is None else repr(value))


def _findings_table(file: str, findings: Sequence[Finding]) -> Table:
    table = Table(title=Text(file, style="bold"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("line", justify="right")
    table.add_column("column", overflow="fold", max_width=20)
    table.add_column("code")
    table.add_column("severity")
    table.add_column("value", overflow="fold", max_width=24)
    table.add_column("problem → fix", overflow="fold", ratio=1)
    hinted: set[tuple[str, str]] = set()
    for f in findings:
        problem = Text(f.message)
        if (f.code, f.hint) not in hinted:  # a hint once per check and file: 30 identical hints help nobody
            hinted.add((f.code, f.hint))
            problem.append(f"\n→ {f.hint}", style="dim")
        table.add_row(
            "" if f.line is None else str(f.line),
            Text(f.column or ""),
            f.code,
            Text(f.severity.value, style=_STYLE[f.severity.value]),
            _quoted(f.value),
            problem,
        )
    return table


def summary_line(report: ValidationReport, strict: bool = False) -> Text:
    """One line: the counts, the number of files, and whether validation passed.

    Example:
        >>> str(summary_line(ValidationReport("bank", (), ("a.csv",))))
        '✓ passed: 0 errors, 0 warnings, 0 info in 1 file'
    """
    c = report.counts
    files = len(report.files)
    counts = (f"{c['error']} error{'s' * (c['error'] != 1)}, {c['warning']} warning{'s' * (c['warning'] != 1)}, "
              f"{c['info']} info in {files} file{'s' * (files != 1)}")
    if report.passed(strict):
        return Text(f"✓ passed: {counts}", style="green")
    why = " (--strict: warnings fail)" if report.ok else ""
    return Text(f"✗ failed: {counts}{why}", style="bold red")


def render_report(report: ValidationReport, console: Console, strict: bool = False) -> None:
    """Print one table per file (findings in line order) and the summary line."""
    for file, group in groupby(report.findings, key=lambda f: f.file):
        console.print(_findings_table(file, list(group)))
        console.print()
    console.print(summary_line(report, strict))


def render_changes(changes: Sequence[Change], console: Console) -> None:
    """Print what ``--fix`` changed: per file a table of line, column, before → after."""
    if not changes:
        console.print("--fix: nothing to repair")
        return
    for file, group in groupby(changes, key=lambda c: c.file):
        items = list(group)
        table = Table(title=Text(f"fixed {file}", style="bold"), title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        for name in ("line", "column", "before", "after"):
            table.add_column(name, overflow="fold", justify="right" if name == "line" else "left")
        for c in items:
            file_level = c.line is None
            table.add_row("" if file_level else str(c.line), Text(c.column or ""),
                          Text(c.before) if file_level else _quoted(shorten(c.before)),
                          Text(c.after) if file_level else _quoted(shorten(c.after)))
        console.print(table)
        if items[0].backup:
            console.print(Text(f"backup: {items[0].backup}"))
        console.print()
    files = len({c.file for c in changes})
    console.print(f"--fix: {len(changes)} change{'s' * (len(changes) != 1)} in {files} file{'s' * (files != 1)}")
