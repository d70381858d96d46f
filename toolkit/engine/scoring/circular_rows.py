"""A circular dataset's rows in the summary, under its headline (``perf_circular``) row.

A circular subject gets, as *detail* rows: the accuracy over all variants (``acc_circular``),
the options as written (``acc_origin``), right in at least k rotations (``more_<k>_circular``),
and the share of variants answered with each letter (``prior_A`` …; ``prior_-`` only when some
answer was no letter). With all permutations: ``acc_all_possible``, ``acc_origin``,
``perf_circular`` and ``acc_circular``. A group with circular subjects gets the same rows, each
pooled over every variant (or question) of its circular subjects; its ``naive_average`` and
``weighted_average`` rows average the subjects' headline, ``perf_circular``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from toolkit.engine.scoring.circular import NO_LETTER, CircularScores
from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.rows import Cell, SummaryRow

PRIOR = "prior_"


def detail_metrics(scores: CircularScores) -> list[str]:
    """The detail rows of a circular subject, in table order.

    Example:
        >>> from toolkit.engine.scoring.circular import CircularScores
        >>> detail_metrics(CircularScores("circular", ("A", "B", "C"), {}, {"A": 2, "B": 1, "C": 0, "-": 0}))
        ['acc_circular', 'acc_origin', 'more_1_circular', 'more_2_circular', 'prior_A', 'prior_B', 'prior_C']
    """
    n = len(scores.option_keys)
    if scores.patterns == "circular":
        names = ["acc_circular", "acc_origin"] + [f"more_{k}_circular" for k in range(1, n)]
    else:
        names = ["acc_all_possible", "acc_origin", "perf_circular", "acc_circular"]
    letters = [x for x in scores.letters if x != NO_LETTER or scores.letters[x]]
    return names + [PRIOR + x for x in letters]


def fraction(scores: CircularScores, metric: str) -> tuple[int, int] | None:
    """A detail metric as (count, out of): variants for ``acc_*`` and ``prior_*``, questions otherwise."""
    if metric.startswith(PRIOR):
        return scores.letters.get(metric[len(PRIOR):], 0), sum(scores.letters.values())
    return scores.counts.get(metric)


def _cell(fractions: Sequence[tuple[int, int] | None], questions: int) -> Cell:
    known = [f for f in fractions if f is not None]
    total = sum(d for _, d in known)
    if not total:
        return Cell("n/a", text="n/a")
    value = sum(n for n, _ in known) / total * 100
    return Cell("ok", value, f"{value:.2f}", questions)


def _union(lists: Sequence[Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(name for names in lists for name in names))


def subject_rows(abbr: str, version: str, mode: str, records: Sequence[ResultRecord | None]) -> list[SummaryRow]:
    """The detail rows of one subject (one cell per model: ``-`` where the model has no circular scores)."""
    scored = [r.circular for r in records if r is not None and r.circular is not None and r.status != "failed"]
    rows = []
    for metric in _union([detail_metrics(s) for s in scored]):
        cells = tuple(Cell("missing") if r is None or r.circular is None or r.status == "failed"
                      else _cell([fraction(r.circular, metric)], r.counts.scored) for r in records)
        rows.append(SummaryRow(abbr, version, metric, mode, "subject", cells, detail=True))
    return rows


def group_rows(name: str, mode: str, leaves: Sequence[str], by_key: Mapping[tuple[str, str], ResultRecord],
               models: Sequence[str]) -> list[SummaryRow]:
    """A group's detail rows, each pooled over its circular subjects (none when it has none)."""
    circular = [leaf for leaf in leaves if any(is_circular(by_key.get((m, leaf))) for m in models)]
    if not circular:
        return []
    metrics = _union([detail_metrics(r.circular) for leaf in circular for m in models
                      if (r := by_key.get((m, leaf))) is not None and r.circular is not None])
    rows = []
    for metric in metrics:
        cells = []
        for model in models:
            records = [by_key.get((model, leaf)) for leaf in circular]
            broken = [leaf for leaf, r in zip(circular, records) if r is None or r.status == "failed"]
            if broken:
                cells.append(Cell("incomplete", text=f"incomplete: {broken[0]}" + (f", +{len(broken) - 1} more"
                                                                                   if len(broken) > 1 else "")))
                continue
            ok = [r for r in records if r is not None and r.status == "ok" and r.circular is not None]
            cells.append(_cell([fraction(r.circular, metric) for r in ok if r.circular is not None],
                               sum(r.counts.scored for r in ok)))
        rows.append(SummaryRow(name, "-", metric, mode, "group", tuple(cells), detail=True))
    return rows


def is_circular(record: ResultRecord | None) -> bool:
    """A circular dataset's record: it has circular scores, or failed under a ``perf_*`` metric."""
    return record is not None and (record.circular is not None or record.metric.startswith("perf_"))


def circular_notes(records: Sequence[ResultRecord], groups: Mapping[str, Sequence[str]]) -> list[str]:
    """What the circular rows mean, and groups that average circular and plain subjects together.

    ``groups`` maps each group with subjects in the run to its subject abbrs.
    """
    kinds = {r.abbr: r.metric.removeprefix("perf_") for r in records if is_circular(r)}
    if not kinds:
        return []
    notes = []
    if "circular" in kinds.values():
        notes.append("perf_circular: questions right in every rotation of their options (CircularEval); acc_circular: "
                     "every rotation counted as a question; acc_origin: the options as written; more_<k>_circular: "
                     "right in at least k rotations (OpenCompass's CircularEvaluator names)")
    if "all_possible" in kinds.values():
        notes.append("perf_all_possible: questions right in every permutation of their options; acc_all_possible: "
                     "every permutation counted as a question; perf_circular and acc_circular: the rotations among them")
    notes.append("prior_<X>: the share of all variants answered with letter X as shown (prior_-: no letter); "
                 "100/n % each when a model has no letter preference; acc_circular, acc_all_possible and prior_* count "
                 "variants, which are not independent, so they get no interval")
    pure = []
    for name, leaves in groups.items():
        inside = [leaf for leaf in leaves if leaf in kinds]
        if inside and len(inside) < len(leaves):
            notes.append(f"{name}: averages circular subjects' perf_* with plain subjects' accuracy "
                         f"({len(inside)} of {len(leaves)} subjects are circular)")
        elif inside:
            pure.append(name)
    if pure:
        notes.append(f"{', '.join(pure)}: naive_average and weighted_average are of the subjects' perf_* rows; the "
                     "group's other rows pool every variant (acc_*, prior_*) or question (more_*, perf_*) of its subjects")
    return notes
