"""A fixed run for report and analysis tests: two models, subjects in two categories, one N/A
split, one failed task (the golden summaries are rendered from it)."""

from __future__ import annotations

from toolkit.engine.scoring.results import Counts, ResultRecord, failed_record

MODELS = ("smollm2-135m", "qwen2-0.5b")
CATEGORIES = {
    "computer_network": "STEM",
    "operating_system": "STEM",
    "law": "Humanities",
    "logic": "Humanities",
    "art_studies": "Humanities",
}
VERSIONS = {
    "computer_network": "db9ce2",
    "operating_system": "3c1a7e",
    "law": "8b2f40",
    "logic": "e07d15",
    "art_studies": "5a9c21",
}
# (model, subject) -> (scored, correct, stripped golds, empty predictions)
SCORES = {
    ("smollm2-135m", "computer_network"): (19, 5, 0, 0),
    ("smollm2-135m", "operating_system"): (19, 6, 0, 1),
    ("smollm2-135m", "law"): (24, 7, 2, 0),
    ("smollm2-135m", "logic"): (22, 4, 0, 0),
    ("qwen2-0.5b", "computer_network"): (19, 9, 0, 0),
    ("qwen2-0.5b", "operating_system"): (19, 11, 0, 0),
    ("qwen2-0.5b", "law"): (24, 10, 2, 0),
}


def build_records() -> list[ResultRecord]:
    records = []
    for model in MODELS:
        for subject, version in VERSIONS.items():
            abbr = f"ceval-{subject}"
            timings = {"infer_seconds": 12.5, "eval_seconds": 0.02}
            if subject == "art_studies":  # answers left blank: not scored
                records.append(ResultRecord(model, abbr, version, "gen", "n/a", counts=Counts(total=33), timings=timings))
            elif (model, subject) in SCORES:
                scored, correct, stripped, empty = SCORES[model, subject]
                records.append(ResultRecord(model, abbr, version, "gen", "ok", value=correct / scored * 100,
                                            counts=Counts(scored, scored, correct, stripped, empty), timings=timings))
            else:
                error = ("Traceback (most recent call last):\n  ...\n"
                         "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
                records.append(failed_record(model, abbr, version, "gen", error, timings=timings))
    return records
