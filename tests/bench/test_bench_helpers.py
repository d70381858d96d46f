"""The benchmark scripts' pure helpers (no model, no peers, no network)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import agreement  # noqa: E402
import bench_report  # noqa: E402
import benchdata  # noqa: E402
import lmeval_task  # noqa: E402
import procmon  # noqa: E402
import resultsmd  # noqa: E402
import scale_report  # noqa: E402
import synthetic  # noqa: E402
from limit_forward import common_prefix  # noqa: E402


# -- question selection ---------------------------------------------------------------
def test_allocate_spreads_evenly_and_respects_sizes():
    assert benchdata.allocate(150, {"a": 16, "b": 22, "c": 19, "d": 100}) == {"a": 16, "b": 22, "c": 19, "d": 93}
    assert benchdata.allocate(7, {"a": 5, "b": 5}) == {"a": 4, "b": 3}
    assert benchdata.allocate(0, {"a": 3}) == {"a": 0}


def test_allocate_refuses_more_than_available():
    with pytest.raises(ValueError, match="only 3 questions"):
        benchdata.allocate(4, {"a": 1, "b": 2})


def test_split_total_gives_ceval_the_odd_one():
    assert benchdata.split_total(300) == (150, 150)
    assert benchdata.split_total(1) == (1, 0)


def test_prepare_ceval_cuts_val_and_keeps_other_splits(tmp_path):
    src = tmp_path / "shared" / "ceval"
    rows = [["id", "question", "A", "B", "C", "D", "answer"]] + [[str(i), f"q{i}\n两行", "1", "2", "3", "4", "A"] for i in range(6)]
    for split in ("dev", "val", "test"):
        (src / split).mkdir(parents=True)
        with open(src / split / f"law_{split}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    (src / "subject_mapping.json").write_text(json.dumps({"law": ["Law", "法学", "Humanities"]}), encoding="utf-8")
    counts = benchdata.prepare_ceval(tmp_path / "shared", tmp_path / "data", ["law"], 4)
    assert counts == {"law": 4}
    with open(tmp_path / "data" / "ceval" / "val" / "law_val.csv", encoding="utf-8", newline="") as fh:
        got = list(csv.reader(fh))
    assert got == rows[:5]  # header + 4 rows, multi-line cells intact
    assert (tmp_path / "data" / "ceval" / "test" / "law_test.csv").read_bytes() == (src / "test" / "law_test.csv").read_bytes()
    assert json.loads((tmp_path / "data" / "ceval" / "subject_mapping.json").read_text()) == {"law": ["Law", "法学", "Humanities"]}


# -- agreement --------------------------------------------------------------------------
def test_letters_extracts_and_keys_by_abbr_and_index():
    preds = {"ceval-law": {"0": {"prediction": "\nB\n以下"}, "1": {"prediction": "C"}}}
    assert agreement.letters(preds, lambda t: t.strip()[:1]) == {"ceval-law/0": "B", "ceval-law/1": "C"}


def test_compare_counts_only_common_keys_and_lists_disagreements():
    a = agreement.compare({"x": "A", "y": "B", "z": "C"}, {"x": "A", "y": "D", "w": "A"})
    assert (a.compared, a.same, a.only_left, a.only_right) == (2, 1, 1, 1)
    assert a.as_dict()["disagreements"] == [["y", "B", "D"]]
    assert agreement.compare({}, {}).rate == 0.0


# -- lm-eval task -----------------------------------------------------------------------
def test_prompt_rows_keep_prompt_bytes_and_map_gold():
    rows = lmeval_task.prompt_rows({"b": {"10": {"origin_prompt": "题\n答案: ", "gold": "D"},
                                          "2": {"origin_prompt": "x", "gold": " B"}}})
    assert rows == [{"id": "b/2", "prompt": "x", "label": 1}, {"id": "b/10", "prompt": "题\n答案: ", "label": 3}]


def test_write_task_yaml_points_at_its_data(tmp_path):
    folder = lmeval_task.write_task(tmp_path / "t", [{"id": "a/0", "prompt": "p: ", "label": 0}])
    yaml_text = (folder / f"{lmeval_task.TASK}.yaml").read_text()
    assert str(folder / "prompts.jsonl") in yaml_text
    assert 'target_delimiter: "\\n"' in yaml_text and "doc_to_text: prompt" in yaml_text and "num_fewshot: 0" in yaml_text
    assert json.loads((folder / "prompts.jsonl").read_text())["prompt"] == "p: "


def test_sample_choices_reads_both_argument_layouts():
    new = {"doc": {"id": "a/0"}, "filtered_resps": [["-3.5", "False"], ["-1", "False"], ["-0.5", "True"], ["-9", "False"]],
           "arguments": {"gen_args_0": {"arg_0": "ctx", "arg_1": "\nA"}, "gen_args_1": {"arg_0": "ctx", "arg_1": "\nB"}}}
    old = {"doc": {"id": "a/1"}, "filtered_resps": [[-1.0, False], [-2.0, False]], "arguments": [["c2", "\nA"]]}
    got = lmeval_task.sample_choices([new, old])
    assert got["a/0"]["prediction"] == "C" and got["a/0"]["context"] == "ctx"
    assert got["a/0"]["continuations"] == ["\nA", "\nB"]
    assert got["a/1"]["prediction"] == "A" and got["a/1"]["context"] == "c2"


# -- RESULTS.md ---------------------------------------------------------------------------
def test_replace_section_keeps_other_sections_byte_for_byte():
    text = "# Benchmark results\n\n## validate\n\nkeep | me\n\n## run_bench\n\nold\n"
    out = resultsmd.replace_section(text, "run_bench", "new\n")
    assert out == "# Benchmark results\n\n## validate\n\nkeep | me\n\n## run_bench\n\nnew\n"
    again = resultsmd.replace_section(out, "scale", "s")
    assert again.startswith(out.rstrip("\n")) and again.endswith("## scale\n\ns\n")
    assert resultsmd.replace_section("", "x", "y") == "# Benchmark results\n\n## x\n\ny\n"


def test_replace_section_does_not_match_a_longer_title():
    text = "## run_bench (quick smoke run)\n\nq\n\n## run_bench\n\nfull\n"
    out = resultsmd.replace_section(text, "run_bench", "new")
    assert "q\n" in out and "full" not in out and out.endswith("## run_bench\n\nnew\n")


def test_write_section_creates_the_file(tmp_path):
    resultsmd.write_section(tmp_path / "R.md", "a", "b")
    assert (tmp_path / "R.md").read_text() == "# Benchmark results\n\n## a\n\nb\n"


def test_table_renders_alignment_and_blanks():
    assert resultsmd.table(["a", "b"], [["x", None]], "lr") == "| a | b |\n| --- | ---: |\n| x |  |"


# -- reports ------------------------------------------------------------------------------
def _result(ours_s: float, peer_s: float, rate: float) -> dict:
    med = lambda s: {"ok": True, "runs": 1, "infer_seconds": s, "wall_seconds": s + 10, "peak_rss_mb": 1000.0, "infer_how": "x"}  # noqa: E731
    return {
        "command": "python bench/run_bench.py", "started": "t", "total_seconds": 1.0, "threads": 2,
        "machine": {"cpu": "cpu", "cpu_count": 2, "memory_gib": 1, "platform": "p", "python": "3"},
        "versions": {"ours": {"torch": "2"}}, "settings": {"model": "m", "max_seq_len": 2048, "max_out_len": 16,
                                                           "batch_size": 4, "repeats": 1, "peer_repeats": 1},
        "data": {"questions": 10, "counts": {"ceval": {"law": 10}}},
        "medians": {"ours gen": med(ours_s), "opencompass gen": med(peer_s)},
        "agreement": {"ours gen vs opencompass gen": {"compared": 10, "same": round(rate * 10), "rate": rate, "disagreements": []}},
        "prompt_checks": {"prompt_tokens": 1000}, "accuracy": {"ours gen": 0.3},
        "limit": {"seconds": ours_s / 2, "wall_seconds": 1, "peak_rss_mb": 1, "unique_tokens": 100, "prefix_tokens": 50,
                  "own_tokens": 50, "groups": 1},
        "runs": [{"tool": "ours", "mode": "gen", "load_avg": [1.0, 1, 1]}],
    }


def test_ratios_and_verdicts():
    r = bench_report.ratios(_result(10, 60, 1.0))[0]
    assert (r["speedup"], r["wall_speedup"], r["met"], r["cpu_speedup"]) == (6.0, 3.5, True, None)
    assert bench_report.ratios(_result(10, 40, 1.0))[0]["met"] is False  # 4× < 5×
    assert bench_report.ratios(_result(10, 60, 0.98))[0]["met"] is False  # agreement < 99 %
    assert bench_report.limit_ratios(_result(10, 60, 1.0)) == {"ours gen": 2.0}


def test_render_run_bench_reports_misses():
    text = bench_report.render_run_bench(_result(10, 40, 1.0))
    assert "| ours gen vs opencompass gen | 4.0× (CPU None×, whole-process wall 2.5×) | ≥ 5.0× | 100.00% | ≥ 99% | MISSED (CPU: MISSED) |" in text
    assert "| ours gen vs limit | 2.0× the limit's time (CPU None×) | ≤ 1.5× |" in text
    assert "questions/s" in text and "1.00" in text  # 10 questions / 10 s


def test_linear_fit_and_render_scale():
    fit = scale_report.linear_fit([100, 200, 400], [2.0, 3.0, 5.0])
    assert fit == {"slope": 0.01, "intercept": 1.0, "r2": 1.0}
    points = [{"questions": n, "ok": True, "wall_seconds": s + 5, "infer_seconds": s, "peak_rss_mb": 250.0, "load_avg": [1, 1, 1]}
              for n, s in ((100, 2.0), (400, 5.0))]
    part = {"command": "c", "started": "t", "subjects": 10, "shots": 5, "threads": 2, "points": points, "fit": fit}
    text = scale_report.render_scale({"fake": part, "growth": part})
    assert "inference ×2.50, peak RSS ×1.00" in text and "needs a GPU" in text


# -- synthetic bank -----------------------------------------------------------------------
def test_make_bank_writes_correct_answers(tmp_path):
    folder = synthetic.make_bank(tmp_path, "synth", 7, subjects=3, seed=1)
    assert synthetic.subject_sizes(7, 3) == [3, 2, 2]
    mapping = json.loads((folder / "subject_mapping.json").read_text(encoding="utf-8"))
    assert list(mapping) == ["s000", "s001", "s002"]
    with open(folder / "val" / "s000_val.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    for row in rows:
        a, b = (int(x) for x in row["question"].split("：")[1].removesuffix("等于多少？").split("加"))
        assert int(row[row["answer"]]) == a + b
    assert (folder / "test" / "s000_test.csv").read_text(encoding="utf-8").strip() == "id,question,A,B,C,D,answer"


# -- process measurement -------------------------------------------------------------------
def test_common_prefix_leaves_one_own_token():
    assert common_prefix([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert common_prefix([[5, 6], [7]]) == 0


def test_thread_env_pins_every_library():
    env = procmon.thread_env(3, {"PATH": "/bin"})
    assert all(env[v] == "3" for v in procmon.THREAD_VARS) and env["PATH"] == "/bin" and env["HF_HUB_OFFLINE"] == "1"


def test_run_measured_times_lines_and_memory(tmp_path):
    code = "import sys, time; print('start', flush=True); sum(range(3 * 10**6)); time.sleep(0.3); sys.stderr.write('bar 50%\\rbar 100%\\n')"
    m = procmon.run_measured([sys.executable, "-c", code], env=procmon.thread_env(1), log=tmp_path / "x.log", interval=0.05)
    assert m.returncode == 0 and m.wall_seconds >= 0.3 and m.peak_rss_bytes > 1_000_000
    assert [line for _, line in m.lines] == ["start", "bar 50%", "bar 100%"]
    assert m.first("start") is not None and m.last(r"bar.*100%") >= m.first("start")
    assert "[" in (tmp_path / "x.log").read_text()
    assert m.cpu_samples and m.cpu_at(m.wall_seconds) >= m.cpu_at(0.0) >= 0.0


def test_render_only_rewrites_just_its_section(tmp_path):
    import run_bench

    results = tmp_path / "r.json"
    results.write_text(json.dumps(_result(10, 60, 1.0) | {"quick": False}), encoding="utf-8")
    md = tmp_path / "RESULTS.md"
    md.write_text("# Benchmark results\n\n## validate\n\nkeep\n", encoding="utf-8")
    assert run_bench.main(["--render-only", "--results", str(results), "--results-md", str(md)]) == 0
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\n## validate\n\nkeep\n\n## run_bench\n\n")
    assert "| ours gen vs opencompass gen | 6.0×" in text and "10 questions per subject" in text


def test_report_page_builds_the_page_it_measures() -> None:
    import re

    import report_page

    html, source = report_page.build_report(300)
    data = json.loads(re.search(r'id="questions-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["rows"]) == 300 and data["models"] == list(report_page.MODELS)
    assert "Item analysis" in html and source
