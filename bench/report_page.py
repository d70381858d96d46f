"""How fast does the HTML report open in a browser with every question in it?

    python bench/report_page.py                          # 10,000 questions, 2 models, 5 runs per width
    python bench/report_page.py --questions 50000 --runs 3
    python bench/report_page.py --record                 # rewrite the "## report page" section of bench/RESULTS.md

The report is rendered by the library exactly as after a run (summary, charts, the per-question
view with two models' answers and raw outputs, the item analysis), from real C-Eval question texts
when ``../shared`` (or ``$TOOLKIT_SHARED``) has them — cycled through every subject's dev/val/test
rows until there are enough — else from synthetic ones. It is opened in headless Chromium
(``tests/browser.py``) at 1280 and 390 px in a fresh tab each time; the times are read from the page:
the load event (navigation timing), the per-question view ready (its own timer), one filter over every
question ("wrong by any model", which renders the first 200 matches), and "show all" of 2,000 rows.
Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import Chromium, find_chromium  # noqa: E402
from resultsmd import machine_facts, table, write_section  # noqa: E402

from toolkit.analysis.api import ItemReport  # noqa: E402
from toolkit.analysis.audit import audit_items  # noqa: E402
from toolkit.analysis.items import analyse_items  # noqa: E402
from toolkit.analysis.panel import Entry, Panel, PanelDataset  # noqa: E402
from toolkit.analysis.runs import Answer, Question  # noqa: E402
from toolkit.config.groups import category_groups  # noqa: E402
from toolkit.engine.scoring.results import Counts, ResultRecord  # noqa: E402
from toolkit.engine.scoring.summary import summarise  # noqa: E402
from toolkit.report.extras import ReportExtras  # noqa: E402
from toolkit.report.html import render_html_report  # noqa: E402
from toolkit.report.items_view import items_view  # noqa: E402
from toolkit.report.questions_view import question_payload  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SHARED = Path(os.environ.get("TOOLKIT_SHARED", REPO.parent / "shared"))
MODELS = ("model-a", "model-b")


def _texts(n: int) -> tuple[list[tuple[str, list[str], str, str]], str]:
    """``n`` (subject, [question, A, B, C, D], key, id) from C-Eval, or synthetic; and where they came from."""
    root = SHARED / "data" / "ceval"
    rows: list[tuple[str, list[str], str, str]] = []
    if root.is_dir():
        for split in ("val", "dev", "test"):
            for path in sorted((root / split).glob("*.csv")):
                subject = path.stem.rsplit("_", 1)[0]
                for r in list(csv.reader(path.open(encoding="utf-8")))[1:]:
                    rows.append((subject, r[1:6], r[6] if len(r) > 6 and r[6] in "ABCD" and r[6] else "A", r[0]))
        source = f"C-Eval question texts ({len(rows):,} rows cycled)"
    else:
        rows = [(f"s{i % 50}", [f"synthetic question {i} " * 4, *(f"option {k}" for k in "ABCD")], "A", str(i))
                for i in range(2000)]
        source = "synthetic texts (../shared not found)"
    return [rows[i % len(rows)] for i in range(n)], source


def build_report(n: int, seed: int = 0) -> tuple[str, str]:
    """The HTML of an ``n``-question, two-model report, and where its texts came from."""
    rng = random.Random(seed)
    texts, source = _texts(n)
    by_subject: dict[str, list[tuple[list[str], str, str]]] = {}
    for subject, cells, key, qid in texts:
        by_subject.setdefault(subject, []).append((cells, key, qid))
    datasets, records = [], []
    for subject, items in by_subject.items():
        abbr = f"ceval-{subject}"
        questions = tuple(Question(i, f"{qid}-{i}", cells[0], tuple(zip("ABCD", cells[1:])), key)
                          for i, (cells, key, qid) in enumerate(items))
        answers = []
        for m, skill in zip(MODELS, (0.7, 0.45)):
            row = []
            for q in questions:
                letter = q.gold if rng.random() < skill else rng.choice("ABCD")
                row.append(Answer(letter, f"\n{letter}. {dict(q.options)[letter][:30]}", letter == q.gold))
            answers.append(tuple(row))
            right = sum(a.correct for a in row)
            records.append(ResultRecord(m, abbr, "abc123", "gen", "ok", right / len(row) * 100,
                                        counts=Counts(len(row), len(row), right)))
        datasets.append(PanelDataset(abbr, ("A", "B", "C", "D"), questions, tuple(answers)))
    panel = Panel(tuple(Entry(m, None, m) for m in MODELS), tuple(datasets))  # type: ignore[arg-type]
    analysis = analyse_items(panel)
    audit = audit_items(analysis)
    report = ItemReport((), panel, analysis, audit)
    flagged = {(f.abbr, f.index) for f in audit.key_flags}
    groups = category_groups("ceval", {s: "STEM" for s in by_subject})
    summary = summarise(records, groups, models=MODELS)
    extras = ReportExtras(questions=question_payload(panel, flagged=flagged), items=items_view(report),
                          flags_count=len(flagged))
    return render_html_report(summary, {"note": "benchmark"}, extras=extras, generated="bench"), source


OPEN = ("[performance.getEntriesByType('navigation')[0].loadEventEnd,"
        " Number(document.getElementById('questions').dataset.readyMs)]")
FILTER = ("(() => { const t = performance.now(); const s = document.getElementById('q-show'); s.value = 'any';"
          " s.dispatchEvent(new Event('change')); return performance.now() - t; })()")
SHOW_ALL = ("(() => { const s = document.getElementById('q-show'); s.value = ''; s.dispatchEvent(new Event('change'));"
            " const b = document.getElementById('q-more'); const t = performance.now();"
            " for (let i = 0; i < 9; i++) b.click(); return [performance.now() - t,"
            " document.querySelectorAll('#q-body tr').length]; })()")


def measure(html: Path, runs: int) -> list[list[str]]:
    """Median times per width (ms), from ``runs`` fresh tabs each."""
    executable, why = find_chromium(install=False)
    if executable is None:
        sys.exit(f"no browser: {why}")
    browser = Chromium(executable, timeout=120)
    rows = []
    try:
        for width, mobile in ((1280, False), (390, True)):
            samples: dict[str, list[float]] = {"load": [], "ready": [], "filter": [], "all": []}
            for _ in range(runs):
                page = browser.open(html.as_uri(), width=width, mobile=mobile)
                load, ready = page.evaluate(OPEN)
                samples["load"].append(load)
                samples["ready"].append(ready)
                samples["filter"].append(page.evaluate(FILTER))
                shown_ms, shown = page.evaluate(SHOW_ALL)
                assert shown == 2000, shown
                samples["all"].append(shown_ms)
                assert page.remote_requests() == []
                page.close()
            rows.append([f"{width} px", *(f"{statistics.median(samples[k]):.0f}" for k in ("load", "ready", "filter", "all"))])
    finally:
        browser.close()
    return rows


def main() -> None:
    """Parse the arguments, build the page, measure it, print the markdown (and record it with --record)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="write the section into bench/RESULTS.md")
    args = parser.parse_args()
    html, source = build_report(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(html, encoding="utf-8")
        size = path.stat().st_size
        rows = measure(path, args.runs)
    facts = machine_facts()
    section = (f"`python bench/report_page.py --questions {args.questions} --runs {args.runs}` — a run report with "
               f"{args.questions:,} questions and 2 models ({source}; each model's answer and raw output, the item "
               f"analysis), {size / 2**20:.1f} MiB, opened from `file://` in headless Chromium, a fresh tab per run; "
               f"medians of {args.runs} (ms).\n\n"
               f"Machine: {facts.get('cpu', '?')}, {facts['cpu_count']} logical CPUs (shared), load average "
               f"{facts['load_avg'][0]}; {facts['platform']}.\n\n"
               + table(["width", "load event", "question view ready", "filter all questions (wrong by any)",
                        "show 2,000 rows"], rows)
               + "\n\n\"question view ready\": from the view's script start to the first 200 rows on screen; the "
                 "filter scans every question and renders its first 200 matches. Nothing is requested from the "
                 "network (checked on every run).\n")
    print(section)
    if args.record:
        write_section(RESULTS, "report page", section)


if __name__ == "__main__":
    main()
