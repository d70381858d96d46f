"""The HTML report: self-contained, well-formed, escaped, and showing what it should."""

from __future__ import annotations

import doctest
from html.parser import HTMLParser
from pathlib import Path

import pytest

import toolkit.report.charts as charts_module
import toolkit.report.html as html_module
from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.summary import Cell, Summary, SummaryRow, summarise
from toolkit.report.charts import PALETTE, PLOT_WIDTH, bar_chart, model_colors, summary_charts
from toolkit.report.html import render_html_report, write_html_report

VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr", "source", "track", "embed", "param"}
MANIFEST = {
    "toolkit_version": "0.1.0",
    "models": {"smollm2-135m": {"path": "/models/smollm2", "max_seq_len": 1024}},
    "datasets": [{"abbr": "ceval-law", "sha256": "9f86d081884c7d65"}],
    "timings": {"total_seconds": 81.5},
    "machine": {"gpu": None},
}


class Checker(HTMLParser):
    """Collects text, tags and attributes, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))  # <line/> in SVG: opened and closed at once

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    return checker


@pytest.fixture
def report(run_summary: Summary) -> str:
    return render_html_report(run_summary, MANIFEST, title="Seed bank, two models", generated="2024-05-01T09:30:00")


def test_report_is_well_formed_and_self_contained(report: str) -> None:
    checker = parse(report)
    tags = [t for t, _ in checker.tags]
    assert report.startswith("<!DOCTYPE html>")
    assert "script" not in tags
    assert not any(a.get("src") or (t == "link" and a.get("href")) for t, a in checker.tags)  # nothing external
    assert tags.count("svg") == 3  # naive and weighted per category, then subjects


def test_report_content(report: str, run_summary: Summary) -> None:
    text = " ".join(parse(report).text)
    assert "Seed bank, two models" in text and "Generated 2024-05-01T09:30:00" in text
    for row in run_summary.table():  # every cell of the summary table is shown
        for cell in row:
            assert cell in text
    assert "incomplete: ceval-logic failed" in text
    assert "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB" in text  # failed tasks
    assert "n/a subjects excluded from its averages: ceval-art_studies" in text  # the notes
    for fact in ("toolkit_version", "0.1.0", "/models/smollm2", "9f86d081884c7d65", "81.5", "none"):
        assert fact in text  # the manifest


def test_models_side_by_side_with_their_colours(report: str) -> None:
    checker = parse(report)
    headers = [t for t in checker.text if t in ("smollm2-135m", "qwen2-0.5b")]
    assert headers[:2] == ["smollm2-135m", "qwen2-0.5b"]
    fills = {a["fill"] for t, a in checker.tags if t == "rect"}
    assert fills == set(PALETTE[:2])


def test_everything_is_escaped() -> None:
    record = ResultRecord("<m>", "<script>alert(1)</script>", "abcdef", "gen", "failed", error="x < y & <b>z</b>")
    html = render_html_report(summarise([record]), {"<k>": "<v>"}, generated="now")
    checker = parse(html)
    assert "script" not in [t for t, _ in checker.tags]
    assert "<b>" not in html and "&lt;b&gt;z&lt;/b&gt;" in html
    assert "&lt;k&gt;" in html and "&lt;v&gt;" in html


def test_empty_run_renders() -> None:
    html = render_html_report(summarise([]), None, generated="now")
    text = " ".join(parse(html).text)
    assert "No scores to chart." in text and "No run manifest was given." in text
    assert "None: every task finished." in text


def test_write_html_report(tmp_path: Path, run_summary: Summary) -> None:
    path = write_html_report(tmp_path / "summary" / "report.html", run_summary, MANIFEST, generated="now")
    assert path.read_text(encoding="utf-8") == render_html_report(run_summary, MANIFEST, generated="now")


def test_bar_geometry() -> None:
    row = SummaryRow("法学", "-", "accuracy", "gen", "subject",
                     (Cell("ok", 25.0, "25.00"), Cell("failed", text="error: x"), Cell("ok", 150.0, "150.00")))
    chart = bar_chart("t", [row], ["a", "b", "c"])
    widths = [bar.width for bar in chart.rows[0].bars]
    assert widths == [PLOT_WIDTH / 4, 0.0, PLOT_WIDTH]  # no bar without a value; clipped at 100
    assert chart.rows[0].bars[1].text == "error: x"
    ys = [bar.y for bar in chart.rows[0].bars]
    assert ys == sorted(ys) and len(set(ys)) == 3  # one bar per model, stacked
    # issue 13 (layout at 390 px): the label sits above its bars instead of left of them, so a chart
    # scaled to a phone's width keeps readable text; it was `chart.plot_x > 4 * 7` (room for the label)
    assert chart.rows[0].label_y < min(ys) and chart.width <= 480
    assert chart.ticks[0][0] == chart.plot_x and chart.ticks[-1] == (chart.plot_x + PLOT_WIDTH, "100")


def test_charts_follow_the_summary(run_summary: Summary) -> None:
    charts = summary_charts(run_summary)
    assert [c.title for c in charts] == [
        "Categories — naive average", "Categories — question-weighted average", "Subjects — accuracy"]
    assert [r.label for r in charts[2].rows] == [r.dataset for r in run_summary.rows if r.kind == "subject"]
    assert model_colors([str(i) for i in range(9)])["8"] == PALETTE[0]  # the palette repeats


@pytest.mark.parametrize("module", [html_module, charts_module])
def test_docstring_examples_run(module) -> None:
    assert doctest.testmod(module).failed == 0


def test_the_generated_time_carries_its_time_zone(run_summary, monkeypatch):
    import re

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    import time

    time.tzset()
    try:
        html = render_html_report(run_summary, MANIFEST)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    stamp = re.search(r"Generated (\S+)</p>", html).group(1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", stamp), stamp
