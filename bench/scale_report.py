"""The ``## scale`` section of RESULTS.md from the scale results (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from resultsmd import table


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope·x`` and its R².

    Example:
        >>> linear_fit([1, 2, 3], [3, 5, 7])
        {'slope': 2.0, 'intercept': 1.0, 'r2': 1.0}
    """
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx if sxx else 0.0
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    return {"slope": round(slope, 6), "intercept": round(intercept, 3), "r2": round(1 - ss_res / ss_tot, 4) if ss_tot else 1.0}


def _growth(part: Mapping[str, Any], title: str) -> list[str]:
    rows = []
    base = None
    for p in part["points"]:
        if not p["ok"]:
            rows.append([f"{p['questions']:,}", "failed", "", "", "", ""])
            continue
        per_q = p["infer_seconds"] / p["questions"]
        base = base or p
        rows.append([f"{p['questions']:,}", p["wall_seconds"], p["infer_seconds"], f"{per_q * 1000:.2f}",
                     p["peak_rss_mb"], f"{p['load_avg'][0]:.1f}"])
    subjects = part["subjects"] if isinstance(part["subjects"], str) else f"{part['subjects']} subjects"
    lines = [f"### {title}, {subjects}", "", f"`{part['command']}` — {part['started']}; {subjects}, "
             f"{part['shots']}-shot, choice mode, `OMP_NUM_THREADS={part['threads']}`.", "",
             table(["questions", "wall s", "inference s", "ms / question", "peak RSS MB", "load avg"], rows)]
    fit = part.get("fit")
    if fit:
        lines += ["", f"Linear fit of inference time: {fit['slope'] * 1000:.3f} ms per question + {fit['intercept']} s, "
                      f"R² = {fit['r2']}."]
    ok = [p for p in part["points"] if p["ok"]]
    if len(ok) >= 2:
        lo, hi = ok[0], ok[-1]
        lines.append(f"From {lo['questions']:,} to {hi['questions']:,} questions (×{hi['questions'] / lo['questions']:.0f}): "
                     f"inference ×{hi['infer_seconds'] / lo['infer_seconds']:.2f}, peak RSS ×{hi['peak_rss_mb'] / lo['peak_rss_mb']:.2f}.")
        lines.append("The engine builds and runs a dataset's prompts 2,048 questions at a time (`CHUNK_QUESTIONS` in "
                     "`toolkit/engine/inference/dataset.py`) and appends each batch's predictions to disk, so peak memory does not "
                     "grow with a subject's size or the bank's.")
    return lines


def _ceval(part: Mapping[str, Any]) -> list[str]:
    run = part["run"]
    lines = ["### Full C-Eval val (52 subjects, 5-shot, choice mode)", "",
             f"`{part['command']}` — {part['started']}, `--max-seq-len {part['max_seq_len']}`.", "",
             f"All {part['questions']:,} questions: {part['prompt_tokens']:,} prompt tokens, of which "
             f"{part['unique_tokens']:,} unique (each subject's few-shot prefix once + each question's own tokens; "
             "counted on the prompts our engine renders, demo-model tokenizer).",
             f"Timed for real: {'all subjects' if part['sample'] == ['*'] else ', '.join(part['sample'])} — "
             f"{run['questions']:,} questions, {part['sample_unique_tokens']:,} "
             f"unique tokens, inference {run['infer_seconds']} s ({run['questions'] / run['infer_seconds']:.2f} questions/s, "
             f"{part['sample_unique_tokens'] / run['infer_seconds']:.0f} unique tokens/s), wall {run['wall_seconds']} s, peak RSS {run['peak_rss_mb']} MB "
             f"(load average {run['load_avg'][0]:.1f})."]
    if part.get("estimated_infer_seconds") and part["sample"] != ["*"]:
        est = part["estimated_infer_seconds"]
        lines.append(f"At that rate ({part['seconds_per_unique_token'] * 1000:.2f} ms per unique token) the whole split "
                     f"needs about {est:,.0f} s ≈ {est / 3600:.1f} h of inference on this shared 2-core CPU.")
    return lines


def render_scale(parts: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown body for whichever parts were run."""
    lines: list[str] = []
    if "growth" in parts:
        lines += _growth(parts["growth"], "Growth with the real model (synthetic bank)") + [""]
    for key in sorted(k for k in parts if k.startswith("fake")):
        lines += _growth(parts[key], "Pipeline overhead up to 100,000 questions (FakeModel backend)") + [""]
    if any(k.startswith("fake") for k in parts):
        g = parts.get("growth", {}).get("fit")
        if g:
            per_q = g["slope"]
            lines += [f"The real model's measured cost on the synthetic bank is {per_q * 1000:.0f} ms per question here; "
                      f"100,000 such questions would need about {per_q * 100_000 / 3600:.1f} h on this CPU — "
                      "the real model on 100k questions needs a GPU.", ""]
    if "ceval" in parts:
        lines += _ceval(parts["ceval"]) + [""]
    return "\n".join(lines).rstrip() + "\n"
