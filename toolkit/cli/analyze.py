"""``toolkit analyze RUN…``: item analysis and the answer-key audit over the models of one or more runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import handle_errors

EPILOG = """\
Examples:

\b
  toolkit analyze outputs/default/20240501_093000            (a run with two or more models)
  toolkit analyze outputs/default                            (the newest run under a work dir)
  toolkit analyze RUN_A RUN_B --html items.html              (models from several runs on the same data)
  toolkit analyze RUN --json > items.json                    (every question's statistics)

Exit status: 0 when the analysis ran, 1 when a run folder cannot be read, 2 on usage errors
(no such folder, runs on different data without --allow-different-data).
"""


def resolve_runs(runs: list[Path]) -> list[Path]:
    """Each argument as a run folder; a work dir becomes its newest run (said on stderr)."""
    from toolkit.analysis.runs import resolve_run_path

    resolved = []
    for path in runs:
        found = resolve_run_path(path)
        if found != path:
            typer.echo(f"{path}: using its newest run, {found.name}", err=True)
        resolved.append(found)
    return resolved


@handle_errors
def analyze(
    runs: Annotated[list[Path], typer.Argument(metavar="RUN", help="Run folders, or work dirs (their newest run).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print everything, every question included, as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Also write the analysis as a self-contained HTML page.")] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="Rows per list on stdout (0: all).")] = 20,
    allow_different_data: Annotated[bool, typer.Option("--allow-different-data", help="Pair runs on different data by question id.")] = False,
) -> None:
    """Item analysis and answer-key audit: difficulty, discrimination, chosen options, position bias, keys to check."""
    from toolkit.analysis.api import analyze_runs, item_report_json
    from toolkit.report.items_text import format_item_report

    report = analyze_runs(resolve_runs(runs), allow_different_data=allow_different_data)
    if html is not None:
        from toolkit.report.analysis_html import write_item_report_html

        typer.echo(f"html: {write_item_report_html(html, report)}", err=True)
    if json_output:
        typer.echo(json.dumps(item_report_json(report), ensure_ascii=False, indent=2))
    else:
        typer.echo(format_item_report(report, top), nl=False)
