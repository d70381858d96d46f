"""n and the 95% intervals on a terminal: a second table under the summary."""

from __future__ import annotations

from fixed_run import CATEGORIES, build_records
from rich.console import Console

from toolkit.analysis.uncertainty import summary_uncertainty
from toolkit.config.groups import category_groups
from toolkit.engine.scoring.summary import Summary
from toolkit.report.terminal_intervals import interval_table, print_intervals


def test_the_interval_table_follows_the_summary_rows(run_summary: Summary) -> None:
    uncertainty = summary_uncertainty(run_summary, build_records(), category_groups("ceval", CATEGORIES))
    table = interval_table(run_summary, uncertainty)
    assert [c.header for c in table.columns] == ["dataset", "metric", "n", "smollm2-135m", "qwen2-0.5b"]
    assert table.row_count == len(run_summary.rows)
    console = Console(record=True, width=120, color_system=None)
    print_intervals(run_summary, uncertainty, console)
    text = console.export_text()
    assert "│ ceval-computer_network │ accuracy         │ 19 │  11.81–48.79 │ 27.33–68.29 │" in text
    assert "Wilson score interval" in text
