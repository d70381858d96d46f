"""The run report beyond the summary: intervals, chance lines, no duplicate charts, the questions,
the item analysis, and the run's start time and inference settings."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

from run_builder import run_models, simulate, synthetic_rows, write_bank
from test_html import parse

import toolkit.report.extras as extras_module
from toolkit.engine.scoring.results import Counts, ResultRecord
from toolkit.engine.scoring.summary import summarise
from toolkit.report.charts import summary_charts
from toolkit.report.extras import run_extras
from toolkit.report.run_report import report_facts


def _html(run_dir: Path) -> str:
    return (run_dir / "summary" / f"summary_{run_dir.name}.html").read_text(encoding="utf-8")


def _payload(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="questions-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)


def test_the_report_of_a_three_model_run(scripted_runs) -> None:
    html = _html(scripted_runs["three"])
    checker = parse(html)
    scripts = [a for t, a in checker.tags if t == "script"]
    assert len(scripts) == 2 and not any(a.get("src") for a in scripts)  # the data and the inline view script
    assert not any(a.get("src") or a.get("href") for t, a in checker.tags if t in ("img", "link", "iframe"))
    text = " ".join(checker.text)
    assert "95% CI alpha" in text and "Wilson score interval" in text
    assert "Item analysis" in text and "Check the answer key" in text and "Position bias" in text
    payload = _payload(html)
    assert payload["models"] == ["alpha", "beta", "gamma"] and len(payload["rows"]) == 55
    first = payload["rows"][0]
    rows = scripted_runs["rows"]["algebra"]
    assert first[2:6] == [rows[0][0], rows[0][1], list(rows[0][2:6]), rows[0][6]]
    result = json.loads((scripted_runs["three"] / "results" / "beta" / "bank-algebra.json").read_text(encoding="utf-8"))
    assert [r[6][1][0] for r in payload["rows"][:30]] == [d["prediction"] for d in result["details"]]
    assert [r[6][1][2] for r in payload["rows"][:30]] == [int(d["correct"]) for d in result["details"]]
    # the score cells carry what the browser test reads back
    assert 'data-dataset="bank-algebra" data-metric="accuracy" data-model="beta"' in html


def test_chance_line_and_no_duplicate_charts_when_each_category_has_one_subject(scripted_runs) -> None:
    html = _html(scripted_runs["three"])
    assert html.count('class="chance"') == 2  # one full-height line per chart (every subject has 4 options)
    assert "chance, 25% (1 of 4 options)" in html
    titles = re.findall(r'<figcaption>([^<(]*)', html)
    # each category has one subject: no category chart repeating the subjects; one chart for the overall group
    assert [t.strip() for t in titles] == ["bank — naive and question-weighted average", "Subjects — accuracy"]


def test_chance_marks_per_row_when_options_differ() -> None:
    records = [ResultRecord("m", "a", "v", "gen", "ok", 50.0, counts=Counts(4, 4, 2)),
               ResultRecord("m", "b", "v", "gen", "ok", 50.0, counts=Counts(4, 4, 2))]
    chart = summary_charts(summarise(records), chance={("a", "accuracy"): 25.0, ("b", "accuracy"): 50.0})[0]
    assert len(chart.chance) == 2 and chart.chance[0][0] < chart.chance[1][0]
    assert "each row" in chart.chance_text


def test_equal_averages_make_one_category_chart() -> None:
    records = [ResultRecord("m", s, "v", "gen", "ok", 50.0, counts=Counts(4, 4, 2)) for s in ("a", "b", "c")]
    groups = [{"name": "g1", "subsets": ["a", "b"]}, {"name": "g2", "subsets": ["c"]}, {"name": "all", "subsets": ["a", "b", "c"]}]
    charts = summary_charts(summarise(records, groups), single_subject_groups={"g2"})
    assert [c.title for c in charts] == ["Categories — average (naive and question-weighted agree)", "Subjects — accuracy"]
    assert [r.label for r in charts[0].rows] == ["g1", "all"]


def test_run_facts_lead_with_start_time_and_inference_settings(scripted_runs) -> None:
    manifest = json.loads((scripted_runs["three"] / "manifest.json").read_text(encoding="utf-8"))
    facts = report_facts(manifest)
    assert list(facts)[:3] == ["started", "inference", "toolkit"]
    assert facts["started"] < manifest["created"] and facts["started"].endswith("+00:00")
    inference = facts["inference"]
    assert {"infer_mode", "early_stop", "min_out_len", "reserve_output"} <= set(inference)
    assert inference["alpha"] == {"max_seq_len": None, "max_out_len": 4, "batch_size": 8, "num_gpus": 1}
    assert "Run" in _html(scripted_runs["three"]) and "early_stop" in _html(scripted_runs["three"])


def test_a_single_model_run_has_questions_but_no_item_analysis(scripted_runs) -> None:
    html = _html(scripted_runs["edited"])
    assert 'id="questions-data"' in html and "Item analysis" not in html
    assert len(_payload(html)["rows"]) == 55


def test_a_folder_that_cannot_be_read_still_gets_intervals(tmp_path: Path) -> None:
    records = [ResultRecord("m", "a", "v", "gen", "ok", 50.0, counts=Counts(4, 4, 2))]
    extras = run_extras(tmp_path, summarise(records), records)
    assert extras.uncertainty is not None and extras.questions is None
    assert extras.notes and "questions not shown" in extras.notes[0]


def test_one_subject_per_category_bank(tmp_path: Path) -> None:
    """The demo's shape: one subject, one category (the bug: three charts of the same number)."""
    rows = synthetic_rows(12, "values")
    bank = write_bank(tmp_path / "data", {"values": ("Social Science", rows)})
    out = run_models(bank, tmp_path / "outputs", simulate(rows, {"m": 1.0}, 0))
    titles = re.findall(r"<figcaption>([^<(]*)", _html(out.run_dir))
    assert [t.strip() for t in titles] == ["Subjects — accuracy"]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(extras_module).failed == 0


def test_question_text_cannot_break_out_of_the_page() -> None:
    from run_builder import panel_from_plans, question_key

    from toolkit.report.html import render_html_report
    from toolkit.report.questions_view import question_payload

    evil = "</script><img src=x onerror=alert(1)> & <!-- \u2028"
    rows = [("0", evil, "<b>a</b>", "b", "c", "d", "A")]
    panel = panel_from_plans(rows, {"m": {question_key(rows[0]): "A"}}, ["A"])
    records = [ResultRecord("m", "bank-subject", "v", "gen", "ok", 100.0, counts=Counts(1, 1, 1))]
    html = render_html_report(summarise(records), extras=extras_module.ReportExtras(questions=question_payload(panel)))
    checker = parse(html)
    assert "img" not in [t for t, _ in checker.tags] and "b" not in [t for t, _ in checker.tags]
    assert _payload(html)["rows"][0][3] == evil and _payload(html)["rows"][0][4][0] == "<b>a</b>"
