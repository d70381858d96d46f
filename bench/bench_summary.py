"""Medians, agreement, checks and accuracy of a run_bench run (pure: from the runs' records)."""

from __future__ import annotations

import json
import statistics
from typing import Any

from agreement import compare, letters
from lmeval_task import sample_choices
from tools import ToolRun


def _median_or_none(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return round(statistics.median(real), 2) if real else None


def _median_run(runs: list[ToolRun]) -> dict[str, Any]:
    ok = [r for r in runs if r.ok and r.infer_seconds is not None]
    if not ok:
        return {"ok": False, "runs": len(runs)}
    return {"ok": True, "runs": len(ok), "wall_seconds": round(statistics.median(r.wall_seconds for r in ok), 2),
            "infer_seconds": round(statistics.median(r.infer_seconds for r in ok), 2),  # type: ignore[misc]
            "infer_seconds_all": [r.infer_seconds for r in ok], "wall_seconds_all": [r.wall_seconds for r in ok],
            "peak_rss_mb": round(statistics.median(r.peak_rss_mb for r in ok), 1), "infer_how": ok[0].infer_how,
            "infer_cpu_seconds": _median_or_none([r.infer_cpu_seconds for r in ok]),
            "infer_cpu_seconds_all": [r.infer_cpu_seconds for r in ok]}


def merge_peers(result: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the tools it lacks (medians, runs, agreement, checks, accuracy, limit) taken from ``other``.

    Example:
        >>> a = {"medians": {"ours choice": {"ok": True}}, "runs": [], "agreement": {}, "accuracy": {}}
        >>> b = {"medians": {"ours choice": {"ok": False}, "lm-eval choice": {"ok": True}},
        ...      "runs": [{"tool": "lm-eval", "mode": "choice"}], "agreement": {"ours choice vs lm-eval choice": {}},
        ...      "accuracy": {"lm-eval choice": 0.3}, "limit": {"seconds": 9}, "command": "run 2"}
        >>> m = merge_peers(a, b)
        >>> sorted(m["medians"]), m["medians"]["ours choice"]["ok"], m["limit"], m["merged_from"]
        (['lm-eval choice', 'ours choice'], True, {'seconds': 9}, 'run 2')
    """
    merged = json.loads(json.dumps(result))
    missing = [k for k in other.get("medians", {}) if k not in merged["medians"]]
    for key in missing:
        merged["medians"][key] = other["medians"][key]
        merged["accuracy"][key] = other.get("accuracy", {}).get(key)
    merged["runs"] += [r for r in other.get("runs", []) if f"{r['tool']} {r['mode']}" in missing]
    for key, value in other.get("agreement", {}).items():
        if any(key.endswith(f"vs {m}") for m in missing):
            merged["agreement"][key] = value
    merged.setdefault("prompt_checks", {}).update({k: v for k, v in other.get("prompt_checks", {}).items()
                                                   if k not in merged["prompt_checks"]})
    for key in ("limit", "bound"):
        merged[key] = merged.get(key) or other.get(key)
    merged["merged_from"] = other.get("command")
    return merged


def _accuracy(preds: dict[str, str], golds: dict[str, str]) -> float | None:
    keys = [k for k in preds if k in golds]
    return round(sum(preds[k] == golds[k] for k in keys) / len(keys), 4) if keys else None


def summarise(ours: dict[str, list[ToolRun]], peer_runs: dict[str, list[ToolRun]], limit: dict[str, Any] | None,
              runs: list[ToolRun]) -> dict[str, Any]:
    """Medians, agreement, prompt identity checks and accuracy from the runs so far."""
    from toolkit.engine.scoring.postprocess import first_capital_postprocess

    medians = {f"ours {k}": _median_run(v) for k, v in ours.items() if v}
    medians.update({k: _median_run(v) for k, v in peer_runs.items() if v})
    first_ok = lambda rs: next((r for r in rs if r.ok), None)  # noqa: E731
    preds: dict[str, dict[str, str]] = {}
    for key, rs in [*((f"ours {k}", v) for k, v in ours.items()), *peer_runs.items()]:
        run = first_ok(rs)
        if run is None:
            continue
        if key == "lm-eval choice":
            preds[key] = {k: v["prediction"] for k, v in sample_choices(run.predictions["samples"].values()).items()}
        elif key.startswith("vllm "):
            answers = run.predictions.get("answers", {})
            preds[key] = {k: first_capital_postprocess(v["text"]) if key.endswith("gen") else v["prediction"]
                          for k, v in answers.items()}
        else:
            preds[key] = letters(run.predictions, first_capital_postprocess if key.endswith("gen") else None)
    agreement: dict[str, Any] = {}
    for left, right in (("ours gen", "opencompass gen"), ("ours ppl", "opencompass ppl"), ("ours choice", "lm-eval choice"),
                        ("ours choice", "vllm choice"), ("ours gen", "vllm gen"), ("ours ppl", "vllm ppl")):
        if left in preds and right in preds:
            agreement[f"{left} vs {right}"] = compare(preds[left], preds[right]).as_dict()
    for mode, rs in ours.items():  # our own determinism across repetitions
        ok = [r for r in rs if r.ok]
        if len(ok) > 1:
            agreement[f"ours {mode} repeat consistency"] = compare(letters(ok[0].predictions), letters(ok[-1].predictions)).as_dict()
    prompt_checks: dict[str, Any] = {}
    accuracy: dict[str, Any] = {}
    reference = first_ok(ours["choice"])
    if reference is not None:
        ours_prompts = {f"{a}/{i}": r["origin_prompt"] for a, recs in reference.predictions.items() for i, r in recs.items()}
        golds = {f"{a}/{i}": str(r.get("gold", "")).strip() for a, recs in reference.predictions.items() for i, r in recs.items()}
        if (oc := first_ok(peer_runs["opencompass gen"])) is not None:
            theirs = {f"{a}/{i}": r.get("origin_prompt") for a, recs in oc.predictions.items() for i, r in recs.items()}
            prompt_checks["opencompass gen prompts identical to ours"] = compare(ours_prompts, theirs).same
        if (lm := first_ok(peer_runs["lm-eval choice"])) is not None:
            samples = sample_choices(lm.predictions["samples"].values())
            prompt_checks["lm-eval contexts identical to ours"] = sum(samples[k]["context"] == ours_prompts.get(k) for k in samples)
            prompt_checks["lm-eval continuations"] = sorted({c for s in samples.values() for c in s["continuations"]})
        counted = first_ok(ours["gen"]) or reference  # gen records count the gen prompt itself (choice: + the answer)
        prompt_checks["prompt_tokens"] = sum(r.get("prompt_tokens", 0) for recs in counted.predictions.values() for r in recs.values())
        accuracy = {k: _accuracy(v, golds) for k, v in preds.items()}
        if (vc := first_ok(peer_runs["vllm choice"])) is not None:  # how close the letter scores are, not just the argmax
            diffs = [abs(float(reference.predictions[a][i]["scores"][lab]) + lp)
                     for key, ans in vc.predictions.get("answers", {}).items()
                     for a, i in [key.rsplit("/", 1)] if a in reference.predictions and i in reference.predictions[a]
                     for lab, lp in zip(reference.predictions[a][i]["scores"], ans["logprobs"])]
            if diffs:
                prompt_checks["largest letter-NLL difference ours vs vLLM (choice)"] = f"{max(diffs):.1e}"
        loads = [r.extra.get("load_seconds") for r in peer_runs["vllm choice"] if r.extra.get("load_seconds")]
        if loads:
            prompt_checks["vLLM engine start (load + compile + warm-up) s"] = loads[0]
    return {"medians": medians, "agreement": agreement, "prompt_checks": prompt_checks, "accuracy": accuracy,
            "limit": limit, "runs": [r.summary() for r in runs]}
