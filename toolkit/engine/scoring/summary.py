"""The summary table: per-subject scores, then category groups with two labelled averages.

Layout as OpenCompass's ``DefaultSummarizer`` (columns ``dataset, version, metric,
mode, <model>…``; subject rows in dataset order, then group rows in group order),
with its blind spots fixed:

* every group gets two rows: ``naive_average`` (mean of its members' accuracies; a
  nested group counts as one member, as in OpenCompass) and ``weighted_average``
  (accuracy over all questions of its subjects, each question counted once);
* N/A subjects (no gold answers) are left out of both averages, and a note says so;
* a failed task shows ``error: <last line>`` instead of ``-``; a group with a failed
  or missing subject shows ``incomplete: …`` rather than an average over less data;
* subjects a group lists but the run did not include are dropped from it, with a note.

Groups use OpenCompass's ``summary_groups`` shape, ``{"name": ..., "subsets": [...]}``,
where a subset is a dataset abbr or the name of another group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.truncation import truncation_notes
from toolkit.errors import ConfigError

CellStatus = Literal["ok", "n/a", "failed", "missing", "incomplete"]
HEADER_PREFIX: tuple[str, ...] = ("dataset", "version", "metric", "mode")
NAIVE, WEIGHTED = "naive_average", "weighted_average"
ERROR_DISPLAY_LIMIT = 200


@dataclass(frozen=True)
class Cell:
    """One model's entry in one row; ``text`` is what tables print."""

    status: CellStatus
    value: float | None = None
    text: str = "-"
    questions: int = 0
    """Scored questions behind the value (for groups: of the included subjects)."""
    excluded: tuple[str, ...] = ()
    """For groups: the N/A subjects left out of the average."""


@dataclass(frozen=True)
class SummaryRow:
    """A table row: a subject (``kind="subject"``) or one average of a group."""

    dataset: str
    version: str
    metric: str
    mode: str
    kind: Literal["subject", "group"]
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Failure:
    """A failed task, for the report's list of errors."""

    model: str
    abbr: str
    error: str


@dataclass(frozen=True)
class Summary:
    """The summary of a run: models in column order, rows, notes that explain the numbers."""

    models: tuple[str, ...]
    rows: tuple[SummaryRow, ...]
    notes: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def header(self) -> list[str]:
        """``dataset, version, metric, mode, <model>…``."""
        return [*HEADER_PREFIX, *self.models]

    def table(self) -> list[list[str]]:
        """The header and every row as strings, ready for any writer."""
        return [self.header] + [[r.dataset, r.version, r.metric, r.mode, *(c.text for c in r.cells)] for r in self.rows]


def _subject_cell(record: ResultRecord | None) -> Cell:
    if record is None:
        return Cell("missing")
    if record.status == "ok":
        assert record.value is not None
        return Cell("ok", record.value, f"{record.value:.2f}", record.counts.scored)
    if record.status == "n/a":
        return Cell("n/a", text="n/a")
    error = record.error or "unknown error"
    shown = error if len(error) <= ERROR_DISPLAY_LIMIT else error[: ERROR_DISPLAY_LIMIT - 1] + "…"
    return Cell("failed", text=f"error: {shown}")


def _joined(values: Iterable[str]) -> str:
    unique = list(dict.fromkeys(v for v in values if v and v != "-"))
    return "/".join(unique) if unique else "-"


def _group_subsets(group: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Check one OpenCompass summary group and return its name and subset names."""
    name = group.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"a summary group needs a 'name', got {dict(group)!r}")
    unsupported = sorted(set(group) - {"name", "subsets"})
    if unsupported:
        raise ConfigError(f"summary group {name!r} uses unsupported key(s) {', '.join(unsupported)}",
                          hint="give only 'name' and 'subsets'; weighted_average already weights by question count")
    subsets: list[str] = []
    for item in group.get("subsets") or []:
        if isinstance(item, (list, tuple)) and len(item) == 2 and item[1] == "accuracy":
            item = item[0]  # OpenCompass's [abbr, metric] form
        if not isinstance(item, str):
            raise ConfigError(f"summary group {name!r}: subset {item!r} is not a dataset abbr or group name")
        subsets.append(item)
    return name, subsets


class _Grouper:
    """Computes group cells for one run's records; checks groups for cycles."""

    def __init__(self, by_key: Mapping[tuple[str, str], ResultRecord], in_run: set[str],
                 groups: Mapping[str, list[str]]) -> None:
        self.by_key, self.in_run, self.groups = by_key, in_run, groups
        self._leaves: dict[str, list[str]] = {}

    def leaves(self, name: str, trail: tuple[str, ...] = ()) -> list[str]:
        """The subject abbrs under ``name`` that are in the run, each once."""
        if name not in self.groups:
            return [name] if name in self.in_run else []
        if name in trail:
            raise ConfigError(f"summary groups refer to each other in a cycle: {' -> '.join((*trail, name))}")
        if name not in self._leaves:
            found = [leaf for sub in self.groups[name] for leaf in self.leaves(sub, (*trail, name))]
            self._leaves[name] = list(dict.fromkeys(found))
        return self._leaves[name]

    def members(self, name: str) -> list[str]:
        """Direct subsets of a group that contribute anything to this run."""
        return [m for m in self.groups[name] if self.leaves(m)]

    def naive(self, name: str, model: str) -> Cell:
        cells = [self.naive(m, model) if m in self.groups else _subject_cell(self.by_key.get((model, m)))
                 for m in self.members(name)]
        return _average(self.members(name), cells, lambda ok: sum(c.value or 0.0 for c in ok) / len(ok))

    def weighted(self, name: str, model: str) -> Cell:
        leaves = self.leaves(name)
        records = [self.by_key.get((model, leaf)) for leaf in leaves]
        counts = [r.counts for r in records if r is not None and r.status == "ok"]

        def combine(_: list[Cell]) -> float | None:
            if any(c.scored == 0 for c in counts):
                return None  # question counts unknown (a result read from an OpenCompass file)
            return sum(c.correct for c in counts) / sum(c.scored for c in counts) * 100

        return _average(leaves, [_subject_cell(r) for r in records], combine)


def _average(names: Sequence[str], cells: Sequence[Cell], combine: Callable[[list[Cell]], float | None]) -> Cell:
    """A group cell from its members' cells; ``combine`` gets the ``ok`` ones (None: cannot tell)."""
    broken = [f"{n} {c.status}" for n, c in zip(names, cells) if c.status in ("failed", "missing", "incomplete")]
    if broken:
        more = f", +{len(broken) - 2} more" if len(broken) > 2 else ""
        return Cell("incomplete", text=f"incomplete: {', '.join(broken[:2])}{more}")
    ok = [c for c in cells if c.status == "ok"]
    excluded = tuple(n for n, c in zip(names, cells) if c.status == "n/a")
    if not ok:
        return Cell("n/a", text="n/a", excluded=excluded)
    value = combine(ok)
    if value is None:
        return Cell("missing", excluded=excluded)
    return Cell("ok", value, f"{value:.2f}", sum(c.questions for c in ok), excluded)


def summarise(records: Iterable[ResultRecord], groups: Sequence[Mapping[str, Any]] = (), *,
              models: Sequence[str] | None = None, datasets: Sequence[str] | None = None) -> Summary:
    """Build the summary of ``records`` (any models × datasets) with ``groups`` averaged.

    ``models`` and ``datasets`` fix the column and row order (default: first seen).
    Pass every dataset of the run as ``datasets``: one without any record gets a row
    of ``-`` and makes its groups ``incomplete`` instead of silently smaller.

    Example:
        >>> from toolkit.engine.scoring.results import Counts, ResultRecord as R
        >>> a = R("m", "x-a", "abc123", "gen", "ok", 50.0, counts=Counts(total=4, scored=4, correct=2))
        >>> s = summarise([a, R("m", "x-b", "abc123", "gen", "n/a")], [{"name": "x", "subsets": ["x-a", "x-b"]}])
        >>> [row[2:] for row in s.table()]
        [['metric', 'mode', 'm'], ['accuracy', 'gen', '50.00'], ['accuracy', 'gen', 'n/a'], \
['naive_average', 'gen', '50.00'], ['weighted_average', 'gen', '50.00']]
    """
    records = list(records)
    by_key: dict[tuple[str, str], ResultRecord] = {}
    for r in records:
        if (r.model, r.abbr) in by_key:
            raise ValueError(f"two results for model {r.model!r} on {r.abbr!r}")
        by_key[r.model, r.abbr] = r
    model_order = tuple(models) if models is not None else tuple(dict.fromkeys(r.model for r in records))
    parsed = dict(_group_subsets(g) for g in groups)
    in_run = {r.abbr for r in records} | set(datasets or ())
    clash = sorted(in_run & set(parsed))
    if clash:
        raise ConfigError(f"summary group name {clash[0]!r} is also a dataset abbr", hint="rename the group")
    abbrs = list(datasets) if datasets is not None else list(dict.fromkeys(r.abbr for r in records))

    rows: list[SummaryRow] = []
    for abbr in abbrs:
        found = [by_key[m, abbr] for m in model_order if (m, abbr) in by_key]
        rows.append(SummaryRow(abbr, _joined(r.version for r in found), "accuracy" if found else "-",
                               _joined(r.mode for r in found), "subject",
                               tuple(_subject_cell(by_key.get((m, abbr))) for m in model_order)))

    grouper = _Grouper(by_key, in_run, parsed)
    notes: list[str] = []
    for name, subsets in parsed.items():
        leaves = grouper.leaves(name)
        if not leaves:
            continue  # nothing of this group was run (OpenCompass omits it too)
        mode = _joined(by_key[m, leaf].mode for leaf in leaves for m in model_order if (m, leaf) in by_key)
        for metric, compute in ((NAIVE, grouper.naive), (WEIGHTED, grouper.weighted)):
            cells = tuple(compute(name, m) for m in model_order)
            rows.append(SummaryRow(name, "-", metric, mode if "/" not in mode else "mixed", "group", cells))
        notes.extend(_group_notes(name, subsets, grouper, model_order, rows[-1].cells))
    notes.extend(_record_notes(records, any(r.kind == "group" for r in rows)))
    failures = tuple(Failure(m, r.dataset, by_key[m, r.dataset].error or "")
                     for r in rows if r.kind == "subject" for m in model_order
                     if (m, r.dataset) in by_key and by_key[m, r.dataset].status == "failed")
    return Summary(model_order, tuple(rows), tuple(notes), failures)


def _group_notes(name: str, subsets: list[str], grouper: _Grouper, models: Sequence[str],
                 weighted_cells: Sequence[Cell]) -> list[str]:
    notes = []
    if any(c.status == "missing" for c in weighted_cells):
        notes.append(f"{name}: {WEIGHTED} needs question counts, which plain OpenCompass result files lack")
    absent = [s for s in subsets if not grouper.leaves(s)]
    if absent:
        notes.append(f"{name}: {len(absent)} of {len(subsets)} subsets not in this run; "
                     f"its averages cover the other {len(subsets) - len(absent)}")
    excluded: dict[tuple[str, ...], list[str]] = {}
    for model in models:
        leaves_na = tuple(leaf for leaf in grouper.leaves(name) if _subject_cell(
            grouper.by_key.get((model, leaf))).status == "n/a")
        if leaves_na:
            excluded.setdefault(leaves_na, []).append(model)
    for subjects, who in excluded.items():
        scope = "" if len(who) == len(models) else f" (for {', '.join(who)})"
        notes.append(f"{name}: n/a subjects excluded from its averages{scope}: {', '.join(subjects)}")
    return notes


def _record_notes(records: Sequence[ResultRecord], has_groups: bool) -> list[str]:
    notes = []
    stripped: dict[str, int] = {}  # a property of the data, the same for every model
    for r in records:
        if r.counts.stripped_golds:
            stripped[r.abbr] = max(stripped.get(r.abbr, 0), r.counts.stripped_golds)
    notes += [f"{abbr}: {n} gold answer(s) had surrounding whitespace and were compared stripped "
              "(OpenCompass would mark them wrong)" for abbr, n in stripped.items()]
    notes += [f"{r.abbr} ({r.model}): {r.counts.empty_predictions} empty prediction(s), scored wrong"
              for r in records if r.counts.empty_predictions]
    notes += [note for r in records for note in truncation_notes(r)]
    if any(r.status == "n/a" for r in records):
        notes.append("n/a: the split has no gold answers, so it is not scored (never counted as 0)")
    if has_groups:
        notes.append(f"{NAIVE}: mean of the members' accuracies (a nested group counts once); "
                     f"{WEIGHTED}: accuracy over all questions of the group's subjects")
    return notes


@dataclass(frozen=True)
class GroupShape:
    """A summary group as its averages see it: direct members (a nested group counts once) and leaf subjects."""

    members: tuple[str, ...]
    leaves: tuple[str, ...]


def group_shapes(groups: Sequence[Mapping[str, Any]], datasets: Iterable[str]) -> dict[str, GroupShape]:
    """Each group with a subject among ``datasets``, with the members and leaves :func:`summarise` averages.

    Example:
        >>> group_shapes([{"name": "g", "subsets": ["a", "b"]}, {"name": "all", "subsets": ["g", "c"]}], ["a", "c"])
        {'g': GroupShape(members=('a',), leaves=('a',)), 'all': GroupShape(members=('g', 'c'), leaves=('a', 'c'))}
    """
    parsed = dict(_group_subsets(g) for g in groups)
    grouper = _Grouper({}, set(datasets), parsed)
    return {name: GroupShape(tuple(grouper.members(name)), tuple(grouper.leaves(name)))
            for name in parsed if grouper.leaves(name)}
