"""``DATASHEET.md``: what a question bank is, where it comes from, and how many questions it has.

Rendered with jinja2 (StrictUndefined) from ``templates/DATASHEET.md.j2``. Facts the
author has not given appear as ``**TODO:**`` lines. When subjects are added later only
the block between the ``toolkit:counts`` markers is rewritten, so the author's prose is
never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from toolkit.dataset.layout import DATASHEET_FILE, SPLITS
from toolkit.dataset.mapping import Subject
from toolkit.dataset.meta import DatasetMeta
from toolkit.resources import templates_dir

TEMPLATE = f"{DATASHEET_FILE}.j2"
COUNTS_BEGIN = "<!-- toolkit:counts:begin -->"
COUNTS_END = "<!-- toolkit:counts:end -->"


@dataclass(frozen=True)
class DatasheetFacts:
    """What only the author knows; None renders as a TODO for them to fill in."""

    purpose: str | None = None
    origin: str | None = None
    licence: str | None = None
    answers_checked: str | None = None
    imported_from: tuple[str, ...] = ()
    """What ``toolkit new-dataset --from`` read (filled in by the importer, not by the author)."""

    def given(self) -> bool:
        """True when at least one fact was given."""
        return any((self.purpose, self.origin, self.licence, self.answers_checked))


@dataclass(frozen=True)
class SubjectCounts:
    """A subject and its number of rows per split (None: the split file is missing)."""

    subject: Subject
    counts: Mapping[str, int | None] = field(default_factory=dict)


def _table_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_datasheet(
    meta: DatasetMeta, subjects: Sequence[SubjectCounts], facts: DatasheetFacts = DatasheetFacts(),
) -> str:
    """The full text of ``DATASHEET.md``.

    Example:
        >>> from toolkit.dataset.mapping import Subject
        >>> text = render_datasheet(DatasetMeta("bank"), [SubjectCounts(Subject("law", "Law", "法学", "Humanities"),
        ...                                                             {"dev": 5, "val": 20, "test": 0})])
        >>> "| `law` | Law | 法学 | Humanities | 5 | 20 | 0 |" in text
        True
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["cell"] = _table_cell
    rows = [
        {**vars(s.subject), "counts": {split: s.counts.get(split) for split in SPLITS}} for s in subjects
    ]
    totals = {split: sum(r["counts"][split] or 0 for r in rows) for split in SPLITS}
    return env.get_template(TEMPLATE).render(
        name=meta.name, language=meta.language, letters=list(meta.letters), subjects=rows,
        splits=list(SPLITS), totals=totals, facts=facts,
    )


def _block(text: str) -> tuple[int, int] | None:
    start = text.find(COUNTS_BEGIN)
    end = text.find(COUNTS_END, start + 1) if start >= 0 else -1
    return (start, end + len(COUNTS_END)) if start >= 0 and end >= 0 else None


def update_datasheet_counts(existing: str, rendered: str) -> str | None:
    """``existing`` with its counts block replaced by the one in ``rendered``; None without markers.

    Example:
        >>> old = f"my notes\\n{COUNTS_BEGIN}\\nold\\n{COUNTS_END}\\nmore notes\\n"
        >>> update_datasheet_counts(old, f"x\\n{COUNTS_BEGIN}\\nnew\\n{COUNTS_END}\\n")
        'my notes\\n<!-- toolkit:counts:begin -->\\nnew\\n<!-- toolkit:counts:end -->\\nmore notes\\n'
    """
    old, new = _block(existing), _block(rendered)
    if old is None or new is None:
        return None
    return existing[: old[0]] + rendered[new[0] : new[1]] + existing[old[1] :]
