"""The data behind the HTML report's per-question view, embedded as JSON the page's script reads.

One compact row per question — subject, index, id, text, options, key, each model's
scored answer, raw output and verdict, and whether the audit flagged its key — so that a
run of 10,000 questions stays a few megabytes and the page renders only what is shown.
The JSON is escaped for a ``<script type="application/json">`` element: no ``<``, ``>``
or ``&`` survive, so no question text can close the element or inject markup.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from markupsafe import Markup

from toolkit.analysis.panel import Panel

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def question_payload(panel: Panel, *, flagged: Collection[tuple[str, int]] = (),
                     datasets: Sequence[str] | None = None) -> dict[str, Any]:
    """The view's data: ``models``, ``subjects`` and one ``rows`` entry per question.

    A row is ``[subject, index, id, text, options, key, answers, flag]``; ``answers`` has
    one ``[prediction, raw, correct]`` per model (``raw`` null when it equals the
    prediction; the whole entry null when the model has no verdict) and ``correct`` is
    1, 0 or null (no key).
    """
    subjects: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    keep = set(datasets) if datasets is not None else None
    for ds in panel.datasets:
        if keep is not None and ds.abbr not in keep:
            continue
        s = len(subjects)
        texts = any(q.text is not None for q in ds.questions)
        note = None if texts else _missing_text_note(panel, ds.abbr)
        subjects.append({"abbr": ds.abbr, "letters": list(ds.letters), "note": note})
        for qi, q in enumerate(ds.questions):
            answers: list[list[Any] | None] = []
            for per_model in ds.answers:
                a = per_model[qi]
                if a is None:
                    answers.append(None)
                    continue
                raw = None if a.raw is None or a.raw == a.prediction else a.raw
                answers.append([a.prediction, raw, None if a.correct is None else int(a.correct)])
            rows.append([s, q.index, q.id, q.text, [text for _, text in q.options], q.gold, answers,
                         int((ds.abbr, q.index) in flagged)])
    return {"models": list(panel.labels), "subjects": subjects, "rows": rows}


def _missing_text_note(panel: Panel, abbr: str) -> str:
    for entry in panel.entries:
        ds = entry.run.dataset(abbr)
        if ds is not None and ds.note:
            return f"question texts unavailable: {ds.note}"
    return "question texts unavailable"


def script_json(data: Any) -> Markup:
    """``data`` as JSON safe to place inside ``<script type="application/json">``.

    Example:
        >>> str(script_json({"q": "</script><b>&"}))
        '{"q":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _ESCAPES.items():
        text = text.replace(char, escaped)
    return Markup(text)
