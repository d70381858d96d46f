"""Item statistics and the answer-key audit, down to the planted-key check on a real C-Eval subject."""

from __future__ import annotations

import csv
import doctest
import math
from pathlib import Path

import pytest
from run_builder import LETTERS, panel_from_plans, plant, question_key, run_models, simulate, synthetic_rows, write_bank
from scipy.stats import pearsonr

import toolkit.analysis.audit as audit_module
from toolkit.analysis.api import analyze_runs, item_report_json
from toolkit.analysis.audit import audit_items, model_weight
from toolkit.analysis.items import analyse_items

STRONG = {"m1": 3.5, "m2": 3.0, "m3": 2.5, "m4": 2.0, "m5": 1.5}
"""Five models that mostly answer right (about 80 to 95 % on this item-response model)."""


def _fixed_panel():
    """Four models, four questions, answers chosen by hand (keys A, B, C, D)."""
    rows = [(str(i), f"q{i}", "a", "b", "c", "d", key) for i, key in enumerate("ABCD")]
    answers = {  # q0: everyone right; q1: two right, two pick C; q2: everyone picks D; q3: two right, two others
        "best": "A B D D", "good": "A C D D", "fair": "A C D A", "weak": "A B D B"}
    plans = {m: {question_key(r): a for r, a in zip(rows, line.split())} for m, line in answers.items()}
    # q2's key C: most models (3 of 4, the strongest included) chose D
    return panel_from_plans(rows, plans, [r[6] for r in rows]), plans, rows


def test_item_statistics_by_hand() -> None:
    panel, plans, rows = _fixed_panel()
    analysis = analyse_items(panel)
    assert analysis.totals == {"best": 0.75, "good": 0.5, "fair": 0.25, "weak": 0.5}
    q0, q1, q2, q3 = analysis.items
    assert (q0.difficulty, q1.difficulty, q2.difficulty, q3.difficulty) == (1.0, 0.5, 0.0, 0.5)
    assert q0.discrimination is None and q2.discrimination is None  # nobody varies
    # the corrected point-biserial: each model's score on the *other* questions
    xs = [1.0, 0.0, 0.0, 1.0]
    rest = [(3 - 1) / 3, (2 - 0) / 3, (1 - 0) / 3, (2 - 1) / 3]
    assert q1.discrimination == pytest.approx(pearsonr(xs, rest).statistic)
    assert q2.choices == {"D": 4} and q2.unused_distractors == ("A", "B")
    assert q3.choices == {"D": 2, "A": 1, "B": 1} and q3.unused_distractors == ("C",)
    bias = {b.letter: b for b in analysis.bias}
    assert bias["A"].gold_share == 0.25 and bias["D"].predicted["best"] == 0.5
    assert analysis.distractor_summary().startswith(
        "8 of 12 distractors (67%) chosen by no model; in 1 question(s) no model chose any distractor")


def test_identical_models_are_noticed() -> None:
    rows = synthetic_rows(10, "s")
    plan = simulate(rows, {"a": 1.0}, 4)["a"]
    panel = panel_from_plans(rows, {"a": plan, "copy": plan, "other": simulate(rows, {"o": 0.0}, 5)["o"]},
                             [r[6] for r in rows])
    assert analyse_items(panel).identical == (("a", "copy"),)


def test_a_model_at_chance_carries_no_evidence() -> None:
    assert model_weight(0.25, 4) == 0.0 and model_weight(0.1, 4) == 0.0 and model_weight(None, 4) == 0.0
    assert model_weight(0.5, 2) == 0.0
    assert model_weight(0.9, 4) == pytest.approx(math.log(0.9 * 3 / 0.1))
    assert model_weight(1.0, 4) < 10  # clamped, never infinite


def test_key_flags_need_a_majority_and_the_strongest() -> None:
    panel, _, _ = _fixed_panel()
    audit = audit_items(analyse_items(panel))
    assert [(f.index, f.suspected, len(f.agreeing), f.answered) for f in audit.key_flags] == [(2, "D", 4, 4)]
    flag = audit.key_flags[0]
    assert flag.agreement == 1.0 and flag.gold == "C"
    # q3: two of four chose D (no majority); q1: C by two of four (no majority) → not flagged
    reasons = {(r.index, r.reason) for r in audit.review}
    assert (0, "every model right") in reasons and (2, "no model right") not in reasons  # q2 is listed once, as a key flag


def test_the_strongest_model_must_agree() -> None:
    rows = [("0", "q", "a", "b", "c", "d", "A"), *[(str(i), f"x{i}", "a", "b", "c", "d", "A") for i in range(1, 9)]]
    # the strongest model (right everywhere else) keeps the key on q0; three weaker ones agree on B
    plans = {"best": {question_key(r): "A" for r in rows}}
    for m in ("w1", "w2", "w3"):
        plans[m] = {question_key(r): ("B" if r[0] == "0" else "A" if int(r[0]) % 2 else "C") for r in rows}
    audit = audit_items(analyse_items(panel_from_plans(rows, plans, [r[6] for r in rows])))
    assert all(f.index != 0 for f in audit.key_flags)


def test_planted_keys_come_first_across_many_simulated_runs() -> None:
    """On synthetic banks, whenever most models (the strongest included) answer the planted questions
    with their true key, the three planted questions are the audit's top three in at least 90% of runs
    (the rest: a hard question where as many strong models chose the same distractor — a flag the
    author should check too)."""
    held = top = 0
    for seed in range(60):
        rows = synthetic_rows(49, f"sim{seed}", seed)
        truth = [r[6] for r in rows]
        keys, planted = plant(truth, 3, seed)
        plans = simulate(rows, STRONG, seed, truth=truth)
        analysis = analyse_items(panel_from_plans(rows, plans, keys))
        strongest = max(analysis.totals, key=lambda m: analysis.totals[m])
        if not all(sum(plans[m][question_key(rows[i])] == truth[i] for m in plans) > len(plans) / 2
                   and plans[strongest][question_key(rows[i])] == truth[i] for i in planted):
            continue
        held += 1
        flags = audit_items(analysis).key_flags
        top += {f.index for f in flags[:3]} == set(planted)
        for f in flags[:3]:
            if f.index not in planted:  # whatever outranks a planted key is at least as strongly supported
                weakest = min((g for g in flags if g.index in planted), key=lambda g: g.evidence)
                assert f.evidence >= weakest.evidence
    assert held >= 40 and top / held >= 0.9, (top, held)


def _copy_subject(shared: Path, subject: str, target: Path, planted_keys: list[str]) -> list[tuple[str, ...]]:
    """A C-Eval subject copied into a bank of its own, with the val keys replaced by ``planted_keys``."""
    val = [tuple(r) for r in csv.reader((shared / "data/ceval/val" / f"{subject}_val.csv").open(encoding="utf-8"))]
    dev = [tuple(r) for r in csv.reader((shared / "data/ceval/dev" / f"{subject}_dev.csv").open(encoding="utf-8"))]
    rows = [(*r[:6], key) for r, key in zip(val[1:], planted_keys)] if planted_keys else val[1:]
    write_bank(target, {subject: ("Social Science", rows)}, name="ceval_planted", dev={subject: dev[1:]})
    return val[1:]


def test_planted_answer_keys_in_a_real_ceval_subject_top_the_audit(shared_dir: Path, tmp_path: Path) -> None:
    """The issue's check: a copy of C-Eval's ``accountant`` (49 questions) with three keys changed,
    evaluated by five scripted models that mostly answer right (against the true keys), through the
    real engine; ``toolkit analyze`` must list exactly those three first under "check the answer key"."""
    original = _copy_subject(shared_dir, "accountant", tmp_path / "probe", [])
    truth = [r[6] for r in original]
    for seed in range(100):  # the premise: the models mostly answer the planted questions right
        keys, planted = plant(truth, 3, seed)
        plans = simulate(original, STRONG, seed, truth=truth)
        if all(sum(plans[m][question_key(original[i])] == truth[i] for m in plans) >= 4
               and plans["m1"][question_key(original[i])] == truth[i] for i in planted):
            break
    _copy_subject(shared_dir, "accountant", tmp_path / "data", keys)
    run = run_models(tmp_path / "data" / "ceval_planted", tmp_path / "outputs", plans)
    report = analyze_runs([run.run_dir])
    accuracy = report.analysis.totals
    assert all(0.75 <= a <= 0.98 for a in accuracy.values()), accuracy
    flags = report.audit.key_flags
    assert {f.index for f in flags[:3]} == set(planted), [(f.index, f.evidence) for f in flags[:5]]
    for f in flags[:3]:
        assert f.suspected == truth[f.index] and f.gold == keys[f.index] and f.strength == "strong"
    data = item_report_json(report)
    assert [f["index"] for f in data["key_flags"][:3]] == [f.index for f in flags[:3]]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(audit_module).failed == 0


assert LETTERS == "ABCD"
