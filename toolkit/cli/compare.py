"""``toolkit compare RUN_A RUN_B [RUN…]``: runs side by side, with paired exact McNemar tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import handle_errors

EPILOG = """\
Examples:

\b
  toolkit compare outputs/default/20240501_093000 outputs/default/20240502_101500
  toolkit compare RUN_A RUN_B --baseline qwen2-0.5b --alpha 0.01
  toolkit compare RUN_OLD_BANK RUN_NEW_BANK --allow-different-data   (did my edit change the score?)
  toolkit compare RUN_A RUN_B --json > compare.json --html compare.html

The first model of the first run is the baseline. Runs whose data files differ (the sha256s in
their manifests) are refused unless --allow-different-data, which pairs questions by id and
says what it dropped.

Exit status: 0 when the comparison ran, 1 when a run folder cannot be read, 2 on usage errors
(fewer than two models, different data without --allow-different-data, an unknown --baseline).
"""


@handle_errors
def compare(
    runs: Annotated[list[Path], typer.Argument(metavar="RUN", help="Run folders (two or more models in all), or work dirs (their newest run).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Also write the comparison as a self-contained HTML page.")] = None,
    baseline: Annotated[str | None, typer.Option("--baseline", metavar="MODEL", help="Compare every model with this one (default: the first).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, max=1.0, help="Significance level after Holm's correction.")] = 0.05,
    allow_different_data: Annotated[bool, typer.Option("--allow-different-data", help="Pair runs on different data by question id.")] = False,
) -> None:
    """Compare runs per subject, group and overall: differences and paired exact McNemar tests (Holm-corrected)."""
    from toolkit.analysis.api import compare_runs, comparison_json
    from toolkit.cli.analyze import resolve_runs
    from toolkit.report.compare_text import format_comparison

    comparison, panel = compare_runs(resolve_runs(runs), allow_different_data=allow_different_data,
                                     baseline=baseline, alpha=alpha)
    if html is not None:
        from toolkit.report.analysis_html import write_comparison_html

        typer.echo(f"html: {write_comparison_html(html, comparison, panel)}", err=True)
    if json_output:
        typer.echo(json.dumps(comparison_json(comparison, panel), ensure_ascii=False, indent=2))
    else:
        typer.echo(format_comparison(comparison, panel), nl=False)
