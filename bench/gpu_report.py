"""The GPU check's verdicts and its markdown page (``gpu_check.md``), from the result JSON alone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

AGREEMENT = 0.995
LIMIT_RATIO = 1.3
NAIVE_RATIO = 4.0


def verdicts(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every check and target with its measured value and whether it was met (None: not measured)."""
    out: list[dict[str, Any]] = []
    smoke = bool(result.get("smoke"))

    def add(what: str, value: Any, target: str, met: bool | None, kind: str = "check") -> None:
        out.append({"what": what, "value": value, "target": target, "met": met, "kind": kind})

    for name, m in result.get("models", {}).items():
        corr = m.get("correctness", {})
        for mode in ("choice", "ppl"):
            c = corr.get(f"prefix_cache_vs_none_{mode}")
            if c:
                a = c["label_nll"]
                add(f"{name} {mode}: prefix cache vs none, same answer (largest label NLL difference {a['max_abs_diff']})",
                    a["rate"], f"≥ {AGREEMENT:.1%}", _at_least(a["rate"], AGREEMENT))
        a = m.get("ours_vs_limit_answers")
        if a:
            add(f"{name} choice: ours vs the limit's own scoring (largest difference {a['max_abs_diff']})", a["rate"],
                f"≥ {AGREEMENT:.1%}", _at_least(a["rate"], AGREEMENT), "info")
        for row in m.get("speed", []):
            if row["tool"] == "naive" and row["mode"] in ("choice", "ppl"):
                a = row["answers_vs_ours"]
                add(f"{name} {row['mode']}: ours vs naive (largest difference {a['max_abs_diff']})", a["rate"],
                    f"≥ {AGREEMENT:.1%}", _at_least(a["rate"], AGREEMENT), "info")
        for bs, c in (corr.get("batch_sizes") or {}).items():
            if isinstance(c, dict) and "choice" in c:
                add(f"{name} batch size {bs} vs {corr['batch_sizes']['reference_batch_size']}: choice",
                    c["choice"]["rate"], f"≥ {AGREEMENT:.1%}", _at_least(c["choice"]["rate"], AGREEMENT))
                add(f"{name} batch size {bs} vs {corr['batch_sizes']['reference_batch_size']}: gen letter",
                    c["gen"]["rate"], f"≥ {AGREEMENT:.1%}", _at_least(c["gen"]["rate"], AGREEMENT))
        gen_rows = [r for r in m.get("speed", []) if r["tool"] == "naive" and r["mode"] == "gen"]
        for row in gen_rows:
            a = row["answers_vs_ours"]
            add(f"{name} gen: early stop vs plain greedy generate, same letter", a["rate"], f"≥ {AGREEMENT:.1%}",
                _at_least(a["rate"], AGREEMENT))
        if "correctness" in m:  # the model that carries the correctness checks: say which were not measured
            wanted = [(f"{name} {mode}: prefix cache vs none", f"prefix_cache_vs_none_{mode}" in m["correctness"])
                      for mode in ("choice", "ppl")]
            wanted += [(f"{name} batch sizes", "batch_sizes" in m["correctness"]),
                       (f"{name} gen: early stop vs plain greedy generate", bool(gen_rows))]
            for what, measured in wanted:
                if not measured:
                    add(f"{what}: NOT MEASURED (see Skipped and Errors)", None, f"≥ {AGREEMENT:.1%}", None)
        for row in m.get("speed", []):
            if row["tool"] == "ours" and row["mode"] == "choice":
                add(f"{name} choice: ours ÷ limit", row.get("vs_limit"), f"≤ {LIMIT_RATIO}",
                    None if smoke else _at_most(row.get("vs_limit"), LIMIT_RATIO), "target")
            if row["tool"] == "naive" and row["mode"] == "choice":
                add(f"{name} choice: naive ÷ ours", row.get("naive_over_ours"), f"≥ {NAIVE_RATIO}",
                    None if smoke else _at_least(row.get("naive_over_ours"), NAIVE_RATIO), "target")
    simulated = ", simulated on CPU" if result.get("oom", {}).get("simulated") else ""
    for mode in ("choice", "gen"):
        o = result.get("oom", {}).get(mode)
        if o:
            add(f"out of memory ({mode}{simulated}): halved {o['halvings']}×, said so, same answers", o["answers"]["rate"],
                "halved, 100%", bool(o.get("ok")))
    for tag in ("together", "in_turn"):
        w = result.get("workers", {}).get(tag)
        if w:
            add(f"two workers ({tag.replace('_', ' ')}: {w.get('workers_alive_at_once')} alive at once, "
                f"CUDA_VISIBLE_DEVICES {w.get('workers_CUDA_VISIBLE_DEVICES')}) vs one",
                w["answers"]["rate"], "100%", bool(w.get("ok")))
    return out


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Iterator[str]:
    yield "| " + " | ".join(header) + " |"
    yield "| " + " | ".join("---" for _ in header) + " |"
    for row in rows:
        yield "| " + " | ".join(_fmt(v) for v in row) + " |"


def render(result: Mapping[str, Any]) -> str:
    """The markdown page: machine, budget, speed per model, checks and targets, what was skipped."""
    lines = [f"# GPU check{' (smoke)' if result.get('smoke') else ''}", "",
             f"`{result.get('command', '')}` — {result.get('started', '')}, {result.get('elapsed_s', '')} s of a "
             f"{result.get('budget_s', '')} s budget.", ""]
    machine = result.get("machine", {})
    lines += [f"Machine: {machine.get('gpu') or 'no GPU'}; torch {machine.get('torch')}, transformers "
              f"{machine.get('transformers')}, Python {machine.get('python')}; toolkit {machine.get('toolkit_commit', '')}.",
              f"Settings: {result.get('settings', {})}", ""]
    for name, m in result.get("models", {}).items():
        data = m.get("data", {})
        lines += [f"## {name}: {_fmt(m.get('parameters'))} parameters, {m.get('dtype')} on {m.get('device')}", "",
                  f"{_fmt(data.get('questions'))} questions in {data.get('subjects')} subjects, "
                  f"{_fmt(data.get('prompt_tokens'))} prompt tokens (whole 5-shot prompts), "
                  f"{_fmt(m.get('unique_tokens'))} unique (each subject's prefix once). Limit's best batch size: "
                  f"{m.get('limit_best_batch_size')} (sweep: {m.get('limit_sweep')}). Answers: {m.get('answers')}.", ""]
        header = ["tool", "mode", "questions", "seconds", "questions/s", "prompt tokens/s", "÷ limit", "naive ÷ ours",
                  "peak GiB", "TFLOP", "MFU"]
        rows = [[r["tool"], r["mode"], r["questions"], r["seconds"], r["questions_per_s"], r["prompt_tokens_per_s"],
                 r.get("vs_limit"), r.get("naive_over_ours"), r.get("peak_gib"), r.get("tflop"), r.get("mfu")]
                for r in m.get("speed", [])]
        lines += [*_table(header, rows), ""]
        subsets = [f"naive {r['mode']}: {r['subjects']} subject{'s' if r['subjects'] != 1 else ''} ({r['questions']} questions; estimate {r['estimate_s']} s, "
                   f"allotted {r['allotted_s']} s)" for r in m.get("speed", []) if r["tool"] == "naive"]
        if subsets:
            lines += ["Naive paths on fewer questions where the budget says so; ratios compare the same subjects: "
                      + "; ".join(subsets) + ".", ""]
    oom = result.get("oom", {})
    if oom.get("how"):
        lines += [f"Out of memory: {oom['how']}; batch size {oom.get('batch_size')}, subjects {oom.get('subjects')}.", ""]
    checks = verdicts(result)
    if checks:
        lines += ["## Checks and targets", ""]
        rows = [[c["what"], f"{c['value']:.2%}" if "%" in c["target"] and c["value"] is not None else c["value"], c["target"],
                 {True: "met", False: "MISSED", None: "n/a"}[c["met"]] + (" (info)" if c["kind"] == "info" else "")]
                for c in checks]
        lines += [*_table(["what", "measured", "target", "verdict"], rows), "",
                  "Label NLL differences are in nats (log-probabilities). A check marked info compares with a path "
                  "written here for the comparison; it does not decide the exit code.", ""]
    for key, title in (("skipped", "Skipped"), ("errors", "Errors")):
        if result.get(key):
            lines += [f"## {title}", "", *(f"- {e}" for e in result[key]), ""]
    return "\n".join(lines)
