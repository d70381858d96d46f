"""What ``max_seq_len`` did to a dataset's prompts, so that truncation is never silent.

OpenCompass drops in-context examples from the end of a prompt until it fits and says
nothing. We count, per dataset, the prompts that lost examples (and how many each), and
those longer than the limit even without examples (kept whole); the counts go into the
result file, the manifest, a note under the summary table and one line at the end of a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.engine.serialize import to_plain

if TYPE_CHECKING:
    from toolkit.engine.scoring.results import ResultRecord


@dataclass(frozen=True)
class Truncation:
    """What ``max_seq_len`` did to one dataset's prompts (OpenCompass drops examples without a word)."""

    max_seq_len: int | None = None
    shots: int = 0
    """The most in-context examples a prompt was given before truncation."""
    prompts_dropping_examples: int = 0
    examples_dropped: int = 0
    dropped_per_prompt: Mapping[int, int] = field(default_factory=dict)
    """Examples dropped from one prompt → how many prompts lost that many."""
    over_length: int = 0
    """Prompts longer than ``max_seq_len`` even without examples (kept whole, never cut)."""

    @property
    def any(self) -> bool:
        """True when some prompt lost an example or is over length."""
        return bool(self.prompts_dropping_examples or self.over_length)

    def to_json(self) -> dict[str, Any]:
        """The ``truncation`` object of a result file."""
        data = to_plain(self)
        data["dropped_per_prompt"] = {str(k): v for k, v in sorted(self.dropped_per_prompt.items())}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Truncation:
        """Read :meth:`to_json`'s object."""
        values = dict(data)
        values["dropped_per_prompt"] = {int(k): int(v) for k, v in dict(values.get("dropped_per_prompt", {})).items()}
        return cls(**values)

    @classmethod
    def of_predictions(cls, records: Iterable[Mapping[str, Any]], max_seq_len: int | None) -> Truncation:
        """Count from prediction records (their ``in_context_examples``, ``dropped_examples``, ``over_length``).

        Example:
            >>> t = Truncation.of_predictions([{"in_context_examples": [0, 1, 2, 3], "dropped_examples": 1},
            ...                                {"in_context_examples": [0, 1, 2, 3, 4]}], 1024)
            >>> t.prompts_dropping_examples, t.examples_dropped, dict(t.dropped_per_prompt), t.shots
            (1, 1, {1: 1}, 5)
        """
        per_prompt: dict[int, int] = {}
        shots = over = 0
        for rec in records:
            dropped = int(rec.get("dropped_examples", 0) or 0)
            shots = max(shots, len(rec.get("in_context_examples") or ()) + dropped)
            over += bool(rec.get("over_length"))
            if dropped:
                per_prompt[dropped] = per_prompt.get(dropped, 0) + 1
        return cls(max_seq_len, shots, sum(per_prompt.values()), sum(k * v for k, v in per_prompt.items()),
                   dict(sorted(per_prompt.items())), over)


def _limit(t: Truncation) -> str:
    return f"max_seq_len {t.max_seq_len}" if t.max_seq_len else "max_seq_len"


def truncation_notes(record: ResultRecord) -> list[str]:
    """What max_seq_len did to one dataset's prompts, for the notes under the summary table.

    Example:
        >>> from toolkit.engine.scoring.results import Counts, ResultRecord as R
        >>> r = R("m", "x-a", "v", "gen", "ok", 50.0, counts=Counts(total=4, scored=4, correct=2),
        ...       truncation=Truncation(1024, 5, 3, 4, {1: 2, 2: 1}, 1))
        >>> print("\\n".join(truncation_notes(r)))
        x-a (m): to fit max_seq_len 1024, 3 of 4 prompts dropped in-context examples (4 in all: 1 from 2 prompts, 2 from 1 prompt), so they had fewer than 5; raise --max-seq-len to keep them
        x-a (m): 1 prompt exceeds max_seq_len 1024 even without examples; kept whole (never cut)
    """
    t, notes = record.truncation, []
    if t.prompts_dropping_examples:
        dist = ", ".join(f"{k} from {v} prompt{'s' * (v != 1)}" for k, v in sorted(t.dropped_per_prompt.items()))
        notes.append(f"{record.abbr} ({record.model}): to fit {_limit(t)}, {t.prompts_dropping_examples} of "
                     f"{record.counts.total or '?'} prompts dropped in-context examples ({t.examples_dropped} in all: "
                     f"{dist}), so they had fewer than {t.shots}; raise --max-seq-len to keep them")
    if t.over_length:
        notes.append(f"{record.abbr} ({record.model}): {t.over_length} prompt{' exceeds' if t.over_length == 1 else 's exceed'} "
                     f"{_limit(t)} even without examples; kept whole (never cut)")
    return notes


def truncation_line(records: Iterable[ResultRecord]) -> str | None:
    """One line for the end of a run: how many prompts lost examples or are over length, over all datasets.

    Example:
        >>> from toolkit.engine.scoring.results import Counts, ResultRecord as R
        >>> truncation_line([R("m", "x-a", "v", "gen", "ok", 50.0, counts=Counts(total=4), truncation=Truncation(1024, 5, 4, 4, {1: 4})),
        ...                  R("m", "x-b", "v", "gen", "ok", 50.0, counts=Counts(total=4))])
        'truncation: max_seq_len dropped in-context examples from 4 of 8 prompts (4 examples, 1 of 2 datasets); 0 prompts over length even without examples (see the notes under the summary)'
    """
    records = [r for r in records if r.status != "failed"]
    hit = [r for r in records if r.truncation.any]
    if not hit:
        return None
    prompts = sum(r.truncation.prompts_dropping_examples for r in records)
    examples = sum(r.truncation.examples_dropped for r in records)
    over = sum(r.truncation.over_length for r in records)
    total = sum(r.counts.total for r in records)
    return (f"truncation: max_seq_len dropped in-context examples from {prompts} of {total} prompts ({examples} "
            f"examples, {len(hit)} of {len(records)} datasets); {over} prompt{'s' * (over != 1)} over length even "
            "without examples (see the notes under the summary)")
