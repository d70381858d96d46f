"""Scaffolding: an empty C-Eval-layout dataset, or a new subject in an existing one.

``scaffold_dataset(root, name, subjects)`` writes, under ``<root>/<name>/``::

    dev/<subject>_dev.csv     header only: id,question,A,B,C,D,answer,explanation
    val/<subject>_val.csv     header only: id,question,A,B,C,D,answer
    test/<subject>_test.csv   header only: id,question,A,B,C,D,answer
    subject_mapping.json      {"<subject>": ["English name", "中文名", "Category"]}
    dataset.json              name, language, options, categories
    DATASHEET.md              purpose, source, licence, answer checking (TODOs), counts

Names not given get documented defaults (:meth:`SubjectRequest.resolve`) and the result
says which ones were used, so the author knows what to edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.mapping import Subject
from toolkit.dataset.write import DatasetSettings, Rows, SubjectContent, WriteResult, check_key, write_dataset
from toolkit.errors import UsageError

DEFAULT_CATEGORY = "Other"

ScaffoldResult = WriteResult
"""What scaffolding did: the folder, added/replaced subjects, backup, counts, defaults used."""


def default_name_en(key: str) -> str:
    """The English name a key suggests.

    Example:
        >>> default_name_en("computer_network")
        'Computer Network'
    """
    return " ".join(part.capitalize() for part in key.split("_") if part) or key


@dataclass(frozen=True)
class SubjectRequest:
    """A subject as asked for on the command line: names and category may be left out."""

    key: str
    name_en: str | None = None
    name_zh: str | None = None
    category: str | None = None

    def resolve(self, fallback: Sequence[str] = ()) -> tuple[Subject, tuple[str, ...]]:
        """Fill what was left out and say which fields got defaults.

        Missing values come from ``fallback`` (``[English, Chinese, category]``, e.g. a source's
        own subject_mapping.json) and otherwise default to: English name from the key
        (``computer_network`` → ``Computer Network``), Chinese name = the English name,
        category ``Other``.

        Example:
            >>> SubjectRequest("law", name_zh="法学").resolve()
            (Subject(key='law', name_en='Law', name_zh='法学', category='Other'), ('name_en', 'category'))
        """
        check_key(self.key)
        given = [self.name_en, self.name_zh, self.category]
        for i, value in enumerate(given):
            if value is not None and not value.strip():
                field_name = ("--name-en", "--name-zh", "--category")[i]
                raise UsageError(f"{field_name} for subject {self.key!r} is empty",
                                 hint="give a name, or leave the option out")
            if value is None and i < len(fallback) and str(fallback[i]).strip():
                given[i] = str(fallback[i]).strip()
        defaults: list[str] = []
        if given[0] is None:
            given[0] = default_name_en(self.key)
            defaults.append("name_en")
        if given[1] is None:
            given[1] = given[0]
            defaults.append("name_zh")
        if given[2] is None:
            given[2] = DEFAULT_CATEGORY
            defaults.append("category")
        en, zh, cat = (v.strip() for v in given if v is not None)
        return Subject(self.key, en, zh, cat), tuple(defaults)


def pair_subjects(
    keys: Sequence[str], names_en: Sequence[str] = (), names_zh: Sequence[str] = (), categories: Sequence[str] = (),
) -> list[SubjectRequest]:
    """Pair repeated ``--subject`` with ``--name-en``/``--name-zh``/``--category`` by position.

    Each list must be empty or as long as ``keys``.

    Example:
        >>> pair_subjects(["law", "art"], names_zh=["法学", "艺术"])[1]
        SubjectRequest(key='art', name_en=None, name_zh='艺术', category=None)
    """
    for option, values in (("--name-en", names_en), ("--name-zh", names_zh), ("--category", categories)):
        if values and len(values) != len(keys):
            raise UsageError(f"{option} is given {len(values)} time(s) but --subject {len(keys)} time(s)",
                             hint=f"give {option} once per --subject, in the same order, or leave it out")

    def pick(values: Sequence[str], i: int) -> str | None:
        return values[i] if values else None

    return [SubjectRequest(k, pick(names_en, i), pick(names_zh, i), pick(categories, i)) for i, k in enumerate(keys)]


def scaffold_dataset(
    root: str | Path, name: str, subjects: Sequence[SubjectRequest] = (), settings: DatasetSettings = DatasetSettings(),
    *, force: bool = False,
) -> ScaffoldResult:
    """Create ``<root>/<name>/`` with empty split files for ``subjects``, or add them to it.

    Without subjects, one subject named after the dataset is created. An existing dataset
    gains the new subjects; an existing subject or conflicting settings are a UsageError
    unless ``force`` (which backs the dataset up first).

    Example:
        >>> law = SubjectRequest("law", "Law", "法学", "Humanities")
        >>> scaffold_dataset("data", "my_bank", [law]).added  # doctest: +SKIP
        ('law',)
    """
    check_key(name, "dataset name")
    target = Path(root) / name
    if not subjects:
        if target.is_dir() and any(target.iterdir()) and not force:
            raise UsageError("dataset already exists", file=target,
                             hint="add a subject with --subject KEY, or pass --force to re-create it "
                                  "(a backup is made first)")
        subjects = [SubjectRequest(name)]
    contents = [SubjectContent(subject, {}, defaults) for subject, defaults in (r.resolve() for r in subjects)]
    return write_dataset(root, name, contents, settings, force=force)


def add_subject(
    dataset_dir: str | Path, subject: SubjectRequest | Subject, rows: Mapping[str, Rows] | None = None,
    *, force: bool = False,
) -> ScaffoldResult:
    """Add one subject (optionally with rows per split, in C-Eval column order) to an existing dataset.

    Example:
        >>> add_subject("data/my_bank", SubjectRequest("art", name_zh="艺术"),
        ...             {"val": [["0", "哪个是颜色？", "红", "圆", "快", "高", "A"]]})  # doctest: +SKIP
    """
    folder = Path(dataset_dir)
    if not folder.is_dir():
        raise UsageError("no dataset here", file=folder, hint="create it first with `toolkit new-dataset`")
    defaults: tuple[str, ...] = ()
    if isinstance(subject, Subject):
        resolved = subject
    else:
        resolved, defaults = subject.resolve()
    return write_dataset(folder.parent, folder.name, [SubjectContent(resolved, rows or {}, defaults)], force=force)
