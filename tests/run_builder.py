"""Real run folders for the analysis and report tests, made the way a user makes them.

A C-Eval-layout bank (``dataset.json``, ``subject_mapping.json``, dev/val/test CSVs) →
configs from gen-config's library function → ``run_eval`` with scripted FakeModels (each
answers every question with a letter chosen by the test, through the real prompt,
post-processing and scoring) → the reports ``toolkit eval`` writes.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.dataset.textio import write_csv

HEADER = ("id", "question", "A", "B", "C", "D", "answer")
LETTERS = "ABCD"
Row = tuple[str, ...]


def synthetic_rows(n: int, subject: str, seed: int = 0) -> list[Row]:
    """``n`` distinct questions with distinct options and a random key."""
    rng = random.Random(f"{subject}-{seed}")
    rows = []
    for i in range(n):
        options = [f"{subject} 选项 {i}-{k} {rng.randrange(10**6)}" for k in range(4)]
        rows.append((str(i), f"{subject} 第 {i} 题：以下哪一项正确？", *options, rng.choice(LETTERS)))
    return rows


def write_bank(root: Path, subjects: Mapping[str, tuple[str, Sequence[Row]]], name: str = "bank",
               dev: Mapping[str, Sequence[Row]] | None = None) -> Path:
    """A C-Eval-layout dataset under ``root/name``; ``subjects``: key → (category, val rows)."""
    folder = root / name
    mapping = {}
    for key, (category, rows) in subjects.items():
        mapping[key] = [key.replace("_", " ").title(), key, category]
        dev_rows = list((dev or {}).get(key) or synthetic_rows(5, f"{key}-dev"))
        write_csv(folder / "dev" / f"{key}_dev.csv", (*HEADER, "explanation"), [(*r[:7], "") for r in dev_rows])
        write_csv(folder / "val" / f"{key}_val.csv", HEADER, [r[:7] for r in rows])
        write_csv(folder / "test" / f"{key}_test.csv", HEADER, [])
    meta = {"format_version": 1, "name": name, "language": "zh", "options": 4,
            "categories": ["STEM", "Social Science", "Humanities", "Other"]}
    (folder / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "subject_mapping.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    return folder


def question_key(row: Row) -> str:
    """A substring of the prompt that only this question's prompt contains."""
    return f"{row[1]}\nA. {row[2]}\nB. {row[3]}"


def simulate(rows: Sequence[Row], abilities: Mapping[str, float], seed: int = 0, *,
             truth: Sequence[str] | None = None, lure: float = 0.6) -> dict[str, dict[str, str]]:
    """Each model's letter for each question, as real models answer: an item-response model.

    Model ``m`` answers question ``q`` right with probability ``sigmoid(ability_m - difficulty_q)``
    (difficulties ~ N(0, 1)); a wrong answer goes to the question's most attractive distractor
    with probability ``lure``, else to another one, so hard questions draw several models to the
    same wrong letter. ``truth`` overrides the right letters (default: the rows' keys).
    """
    rng = random.Random(seed)
    truth = list(truth) if truth is not None else [r[6] for r in rows]
    plan: dict[str, dict[str, str]] = {m: {} for m in abilities}
    for row, right in zip(rows, truth):
        difficulty = rng.gauss(0, 1)
        wrong = [x for x in LETTERS if x != right]
        lure_letter = rng.choice(wrong)
        for model, ability in abilities.items():
            if rng.random() < 1 / (1 + math.exp(difficulty - ability)):
                plan[model][question_key(row)] = right
            elif rng.random() < lure:
                plan[model][question_key(row)] = lure_letter
            else:
                plan[model][question_key(row)] = rng.choice([x for x in wrong if x != lure_letter])
    return plan


def run_models(bank: Path, work: Path, plans: Mapping[str, Mapping[str, str]], *, reports: bool = True):
    """Evaluate ``bank`` (gen, 5-shot) with one scripted model per plan; returns the EvalOutcome."""
    from toolkit.config.context import GenConfigOptions
    from toolkit.config.generate import generate_configs
    from toolkit.config.loader import load_config
    from toolkit.config.spec import ModelSpec
    from toolkit.engine import EvalRunSpec, run_eval
    from toolkit.models.fake import FakeModel
    from toolkit.report.run_report import write_run_reports

    name = bank.name
    configs = work.parent / f"configs-{work.name}"
    generate_configs(bank, GenConfigOptions(abs_path=True, mode="gen"), out_dir=configs / name)
    config = configs / name / f"{name}_gen.py"
    specs = tuple(ModelSpec(abbr=m, path=f"scripted/{m}", hf_type="base", batch_size=8, max_out_len=4) for m in plans)
    models = {m: FakeModel(s, answers={k: f"\n{v}\n" for k, v in plans[m].items()}) for m, s in zip(plans, specs)}
    loaded = load_config(config)
    spec = EvalRunSpec(datasets=loaded.datasets, models=specs, work_dir=str(work),
                       summary_groups=tuple(loaded.groups), command="run_builder")
    outcome = run_eval(spec, models=models)
    if reports:
        write_run_reports(outcome)
    return outcome


def panel_from_plans(rows: Sequence[Row], plans: Mapping[str, Mapping[str, str]], keys: Sequence[str],
                     abbr: str = "bank-subject"):
    """The panel the engine would give for ``plans`` scored against ``keys``, built directly (no run folder)."""
    from toolkit.analysis.panel import Entry, Panel, PanelDataset
    from toolkit.analysis.runs import Answer, Question

    questions = tuple(Question(i, r[0], r[1], tuple(zip(LETTERS, r[2:6])), keys[i]) for i, r in enumerate(rows))
    answers = tuple(tuple(Answer(plans[m][question_key(r)], None, plans[m][question_key(r)] == keys[i])
                          for i, r in enumerate(rows)) for m in plans)
    entries = tuple(Entry(m, None, m) for m in plans)  # type: ignore[arg-type]  (no run behind them)
    return Panel(entries, (PanelDataset(abbr, tuple(LETTERS), questions, answers),))


def plant(keys: Sequence[str], n: int, seed: int) -> tuple[list[str], list[int]]:
    """``keys`` with ``n`` of them changed to another letter; returns the new keys and the changed indexes."""
    rng = random.Random(f"plant-{seed}")
    changed = sorted(rng.sample(range(len(keys)), n))
    new = list(keys)
    for i in changed:
        new[i] = rng.choice([x for x in LETTERS if x != keys[i]])
    return new, changed
