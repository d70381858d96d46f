"""Questions lined up across models and runs: the table item analysis and comparisons read.

An *entry* is one model of one run (``toolkit compare`` and ``toolkit analyze`` take
several runs; a run may hold several models). Runs are paired only on the same data:
when a dataset's files differ between runs (their sha256 in the manifests), building
the panel stops with the reason, unless ``allow_different_data``; then a dataset whose
evaluated split differs is paired by question id, and what could not be paired is said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.analysis.runs import Answer, DatasetRun, Question, Run
from toolkit.errors import UsageError


@dataclass(frozen=True)
class Entry:
    """One model of one run, under a label unique in the panel (``model`` or ``model@run``)."""

    label: str
    run: Run
    model: str


@dataclass(frozen=True)
class PanelDataset:
    """A dataset's questions (as the first run holding it has them) and every entry's answers to them."""

    abbr: str
    letters: tuple[str, ...]
    questions: tuple[Question, ...]
    answers: tuple[tuple[Answer | None, ...], ...]
    """One tuple per entry, aligned with ``questions``; None: no verdict (failed, missing, unpaired)."""
    paired_by_id: bool = False


@dataclass(frozen=True)
class Panel:
    """Entries, their datasets, and notes on what was dropped or differs."""

    entries: tuple[Entry, ...]
    datasets: tuple[PanelDataset, ...]
    notes: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        """The entries' labels, in order."""
        return tuple(e.label for e in self.entries)


def panel_entries(runs: Sequence[Run]) -> tuple[Entry, ...]:
    """Every model of every run; a model name found in two runs is labelled ``model@<run folder>``.

    Raises UsageError when the same run is given twice.
    """
    seen = Counter(r.path.resolve() for r in runs)
    twice = [str(p) for p, n in seen.items() if n > 1]
    if twice:
        raise UsageError(f"the same run is given twice: {twice[0]}", hint="pass each run folder once")
    counts = Counter(m for r in runs for m in r.models)
    names = Counter(r.name for r in runs)
    entries = []
    for run in runs:
        where = run.name if names[run.name] == 1 else f"{run.path.parent.name}/{run.name}"
        for model in run.models:
            entries.append(Entry(model if counts[model] == 1 else f"{model}@{where}", run, model))
    return tuple(entries)


def data_differences(runs: Sequence[Run]) -> list[str]:
    """One line per dataset file that differs between the first run holding it and another run."""
    lines = []
    for abbr in _abbrs(runs):
        holders = [(r, d) for r in runs if (d := r.dataset(abbr)) is not None]
        first_run, first = holders[0]
        for run, ds in holders[1:]:
            for split in sorted(set(first.files) | set(ds.files)):
                a, b = first.files.get(split), ds.files.get(split)
                if a != b:
                    lines.append(f"{abbr}: the {split} file differs between {first_run.name} and {run.name} "
                                 f"(sha256 {(a or 'none')[:12]} vs {(b or 'none')[:12]})")
    return lines


def _abbrs(runs: Sequence[Run]) -> list[str]:
    return list(dict.fromkeys(d.abbr for r in runs for d in r.datasets))


def build_panel(runs: Sequence[Run], *, allow_different_data: bool = False) -> Panel:
    """Line up every entry's answers, dataset by dataset.

    Raises UsageError naming the differing files when the runs' data differ and
    ``allow_different_data`` is off.
    """
    differences = data_differences(runs)
    if differences and not allow_different_data:
        more = f" (+{len(differences) - 1} more)" if len(differences) > 1 else ""
        raise UsageError(f"these runs used different data, so their questions cannot be paired: {differences[0]}{more}",
                         hint="compare runs on the same data, or pass --allow-different-data to pair questions by id")
    entries = panel_entries(runs)
    notes: list[str] = []
    datasets = []
    for abbr in _abbrs(runs):
        holders = [r for r in runs if r.dataset(abbr) is not None]
        ref = holders[0].dataset(abbr)
        assert ref is not None
        if len(holders) < len(runs):
            missing = ", ".join(r.name for r in runs if r not in holders)
            notes.append(f"{abbr}: not in run(s) {missing}")
        unpaired: list[int | None] = [None] * len(ref.questions)
        maps: dict[Path, list[int | None]] = {}
        by_id = False
        for run in holders:
            ds = run.dataset(abbr)
            assert ds is not None
            mapping, paired, note = _alignment(ref, ds, run is holders[0])
            maps[run.path] = unpaired if mapping is None else mapping
            by_id = by_id or paired
            if note:
                notes.append(f"{abbr} ({run.name}): {note}")
        answers = []
        for entry in entries:
            got = entry.run.answers.get((entry.model, abbr))
            answers.append(tuple(None if got is None or j is None or j >= len(got) else got[j]
                                 for j in maps.get(entry.run.path, unpaired)))
        datasets.append(PanelDataset(abbr, ref.letters, ref.questions, tuple(answers), by_id))
    return Panel(entries, tuple(datasets), tuple(notes))


def _alignment(ref: DatasetRun, ds: DatasetRun, same_run: bool) -> tuple[list[int | None] | None, bool, str | None]:
    """For each question of ``ref``, its index in ``ds`` (None: no counterpart); whether by id; a note."""
    n = len(ref.questions)
    if same_run or ref.files.get(ref.split) == ds.files.get(ds.split):
        if len(ds.questions) != n:
            return None, False, f"{len(ds.questions)} questions where the first run has {n}: not compared"
        return list(range(n)), False, None
    ids_ref, ids_ds = [q.id for q in ref.questions], [q.id for q in ds.questions]
    if any(i is None for i in ids_ref) or any(i is None for i in ids_ds):
        why = ds.note or ref.note or "the data has no id column"
        return None, True, f"the {ds.split} data differs and its question ids are unknown ({why}): not compared"
    dup_ref = {i for i, c in Counter(ids_ref).items() if c > 1}
    dup_ds = {i for i, c in Counter(ids_ds).items() if c > 1}
    where = {q.id: j for j, q in enumerate(ds.questions) if q.id not in dup_ds}
    mapping = [None if q.id in dup_ref else where.get(q.id) for q in ref.questions]
    paired = [(i, j) for i, j in enumerate(mapping) if j is not None]
    parts = [f"the {ds.split} data differs: {len(paired)} questions paired by id"]
    only_ref = sum(1 for q in ref.questions if q.id not in where and q.id not in dup_ref)
    only_ds = len(set(where) - set(ids_ref))
    if only_ref:
        parts.append(f"{only_ref} only in the first run")
    if only_ds:
        parts.append(f"{only_ds} only in this run")
    if dup_ref | dup_ds:
        parts.append(f"{len(dup_ref | dup_ds)} duplicated id(s) left out")
    regold = sum(1 for i, j in paired if ref.questions[i].gold != ds.questions[j].gold)
    if regold:
        parts.append(f"{regold} paired question(s) have another answer key here (each run is scored on its own key)")
    retext = sum(1 for i, j in paired if ref.questions[i].text != ds.questions[j].text
                 or ref.questions[i].options != ds.questions[j].options)
    if retext:
        parts.append(f"{retext} paired question(s) have other text or options here")
    return mapping, True, "; ".join(parts)
