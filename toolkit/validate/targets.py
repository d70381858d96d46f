"""What a path names: one CSV file, one subject of a dataset, or a whole dataset folder.

- ``bank/val/law_val.csv`` or ``questions.csv``: one file (its split from the name,
  its folder, ``--split``, or else ``val``);
- ``bank --subject law`` or the path prefix ``bank/law``: one subject's three files
  and its mapping entry;
- ``bank``: every subject, the mapping, and misnamed files in the split folders.

For a folder, ``--split`` restricts the check to that split's files (the mapping is
still checked against every file; leaks between splits need the whole folder).

A dataset has one set of option letters: ``dataset.json``'s, or else the longest run
A, B, C… found in the headers of the files checked (the subject's files for one file
or one subject), A–D when no header has one. A file lacking one of them is then
reported (E107) instead of being checked as a file with fewer options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.dataset.decoding import check_encoding, decode_bytes, open_regular_file
from toolkit.dataset.layout import MAPPING_FILE, SPLITS, parse_split_filename
from toolkit.dataset.meta import DatasetMeta, read_meta
from toolkit.dataset.textio import parse_header
from toolkit.errors import ToolkitError, UsageError
from toolkit.validate.file_checks import letter_run, letters_for_run, name_findings
from toolkit.validate.findings import Finding, ValidateOptions

HEADER_BYTES = 8192
"""How much of a file is read to learn its header's option letters."""


@dataclass(frozen=True)
class Target:
    """The files one validation covers and the dataset facts that apply to them."""

    kind: str
    """``file``, ``subject`` or ``dataset``."""
    root: Path | None
    """The dataset folder (None for a file outside any dataset)."""
    files: tuple[tuple[Path, str, str | None], ...]
    """(path, split, subject) of every split file to check."""
    present: dict[str, dict[str, Path]] = field(default_factory=dict)
    """subject → split → file, for the dataset-level checks."""
    subject: str | None = None
    meta: DatasetMeta | None = None
    findings: tuple[Finding, ...] = ()
    """Findings made while looking for the files (misnamed files)."""
    misnamed: tuple[Path, ...] = ()
    """CSV files in a split folder that are not named ``<subject>_<split>.csv`` (checked for their name only)."""
    splits: tuple[str, ...] = SPLITS
    """The splits checked (``--split`` on a folder: one)."""
    notes: tuple[str, ...] = ()
    letters: tuple[str, ...] | None = None
    """The dataset's option letters (None for a loose file: each header says its own)."""

    @property
    def mapping(self) -> Path | None:
        """The subject mapping that applies (None for a loose file)."""
        return self.root / MAPPING_FILE if self.root is not None and self.kind != "file" else None


def is_dataset_dir(path: Path) -> bool:
    """True for a folder with a split folder or a subject mapping in it."""
    return path.is_dir() and (any((path / s).is_dir() for s in SPLITS) or (path / MAPPING_FILE).is_file())


def _file_target(path: Path, options: ValidateOptions) -> Target:
    if path.suffix.lower() != ".csv":
        raise UsageError("validate reads CSV files", file=path,
                         hint="import other formats with `toolkit new-dataset --from FILE`")
    parsed = parse_split_filename(path.name)
    in_split_folder = path.parent.name in SPLITS
    split = options.split or (parsed[1] if parsed else path.parent.name if in_split_folder else None)
    notes: list[str] = []
    if split is None:
        split = "val"
        notes.append(f"{path.name}: the name does not say the split; checked as a val file (answers required). "
                     "Use --split dev|val|test to choose.")
    root = path.parent.parent if in_split_folder and is_dataset_dir(path.parent.parent) else None
    meta = read_meta(root) if root is not None else None
    subject = parsed[0] if parsed else None
    letters = None
    if root is not None:
        siblings = _scan(root)[0].get(subject, {}) if subject is not None else {}
        letters = dataset_letters(meta, [path, *siblings.values()], options.encoding)
    return Target("file", root, ((path, split, subject),), meta=meta, notes=tuple(notes), letters=letters)


def _header_run(path: Path, encoding: str | None = None) -> int:
    """The option-letter run of a file's header, from its first bytes (0 when it cannot be read)."""
    try:
        with open_regular_file(path) as handle:
            head = handle.read(HEADER_BYTES)
        if len(head) == HEADER_BYTES:
            head = head[: head.rfind(b"\n") + 1] or head
        header = parse_header(decode_bytes(head, path, encoding).text)
    except (ToolkitError, OSError):
        return 0
    return letter_run(header)


def dataset_letters(
    meta: DatasetMeta | None, files: Sequence[Path], encoding: str | None = None,
) -> tuple[str, ...]:
    """The option letters of a dataset: declared in ``dataset.json``, else the longest run in ``files``' headers.

    Example:
        >>> dataset_letters(None, [Path("bank/val/law_val.csv"), Path("bank/dev/law_dev.csv")])  # doctest: +SKIP
        ('A', 'B', 'C', 'D')
    """
    if meta is not None:
        return meta.letters
    return letters_for_run(max((_header_run(p, encoding) for p in files), default=0))


def _scan(root: Path) -> tuple[dict[str, dict[str, Path]], list[Finding]]:
    present: dict[str, dict[str, Path]] = {}
    misnamed: list[Finding] = []
    for split in SPLITS:
        folder = root / split
        for path in sorted(folder.glob("*.csv")) if folder.is_dir() else ():
            problems = name_findings(path, split)
            if problems:
                misnamed += problems
                continue
            subject = path.name[: -len(f"_{split}.csv")]
            present.setdefault(subject, {})[split] = path
    return dict(sorted(present.items())), misnamed


def _mapped_keys(root: Path) -> set[str]:
    from toolkit.dataset.mapping import read_mapping_raw

    try:
        return set(read_mapping_raw(root / MAPPING_FILE))
    except Exception:  # noqa: BLE001 - the mapping checks report why it is unreadable
        return set()


def _check_dataset_dir(p: Path) -> None:
    """A UsageError unless ``p`` is an existing dataset folder."""
    if not p.exists():
        raise UsageError("no such file or folder", file=p, hint="give a CSV file, a dataset folder or bank/<subject>")
    if not is_dataset_dir(p):
        raise UsageError("not a dataset folder (no dev/, val/, test/ or subject_mapping.json in it)", file=p,
                         hint="give the folder that holds dev/, val/ and test/, or one CSV file")


def resolve_target(path: str | Path, options: ValidateOptions = ValidateOptions()) -> Target:
    """Work out what ``path`` (plus ``--subject`` and ``--split``) asks to validate.

    Raises UsageError for a path that names nothing we can validate.
    """
    p = Path(path)
    if options.split is not None and options.split not in SPLITS:
        raise UsageError(f"unknown split {options.split!r}", hint=f"use one of {', '.join(SPLITS)}")
    if options.encoding is not None:
        check_encoding(options.encoding)
    subject = options.subject
    if p.exists() and not p.is_dir():
        open_regular_file(p).close()  # a FIFO or a device is refused by name, before anything reads it
    if p.is_file():
        if subject is not None:
            raise UsageError("--subject goes with a dataset folder, not a file", file=p)
        return _file_target(p, options)
    if not p.exists() and is_dataset_dir(p.parent) and subject is None:
        p, subject = p.parent, p.name  # the path prefix bank/<subject>
    _check_dataset_dir(p)
    present, misnamed = _scan(p)
    meta = read_meta(p)
    splits = SPLITS if options.split is None else (options.split,)
    if subject is None:
        every = [(f, s, k) for k, by_split in present.items() for s, f in by_split.items()]
        letters = dataset_letters(meta, [f for f, _, _ in every], options.encoding)
        wrong = tuple(f for f in misnamed if Path(f.file).parent.name in splits)
        return Target("dataset", p, tuple(x for x in every if x[1] in splits), present, None, meta, wrong,
                      tuple(Path(f.file) for f in wrong), splits, letters=letters)
    if subject not in present and subject not in _mapped_keys(p):
        known = ", ".join(list(present)[:8]) or "none"
        raise UsageError(f"no subject {subject!r} in this dataset", file=p, hint=f"subjects: {known}")
    mine = {subject: present.get(subject, {})} if subject in present else {}
    files = tuple((f, s, subject) for s, f in mine.get(subject, {}).items())
    letters = dataset_letters(meta, [f for f, _, _ in files], options.encoding)
    return Target("subject", p, tuple(x for x in files if x[1] in splits), mine, subject, meta, splits=splits,
                  letters=letters)
