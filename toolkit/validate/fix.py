"""``--fix``: the safe repairs, and only those.

Safe means no content is lost or guessed: strip whitespace around cells (header
names included), normalise answers that are plainly a letter (`` D``, ``d``,
``Ｄ``, ``D.``), convert GBK, UTF-8-with-BOM and the encoding named with
``--encoding`` to plain UTF-8, and write ``\\n``
line endings between the records. A line break inside a quoted cell belongs to the
cell and is kept as written (only the whitespace and answer repairs touch a cell).
Rows are never dropped, merged or reordered — a ragged row is
written back with its cells as they were (only stripped). A file whose encoding cannot
be told (GB18030 bytes that read as Latin text) or whose quoting swallows rows (an
unclosed quote) is left untouched: its quoting is never "repaired". In place, every changed
file and its byte-exact backup are written completely before any of them takes its
name, so a full disk changes nothing; with ``output``, the fixed copy is built in a
hidden folder beside it and renamed into place, and the input is left alone.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from toolkit.dataset.decoding import decode_bytes, read_file_bytes
from toolkit.dataset.layout import MAPPING_FILE, META_FILE
from toolkit.dataset.textio import format_csv, parse_csv, record_breaks
from toolkit.errors import DataError, UsageError
from toolkit.fileio import copy_file, os_error, write_error
from toolkit.staged import StagedWrites, copy_tree, staging_folder
from toolkit.validate.file_checks import letters_from_header
from toolkit.validate.findings import Change, ValidateOptions, ValidationReport
from toolkit.validate.row_checks import cell_line, normalise_answer
from toolkit.validate.targets import Target, resolve_target
from toolkit.validate.validator import validate_path

_NEWLINE_NAMES = {"\r\n": "CRLF", "\r": "CR"}


def _file_changes(file: str, data: bytes, path: Path, encoding: str | None) -> tuple[str, list[Change]] | None:
    """The decoded text and the file-level changes its rewrite makes; None if undecodable.

    The rewrite (:func:`~toolkit.dataset.textio.format_csv`) ends every record with ``\\n``
    and keeps the cells' own line breaks, so only the breaks between records are looked at —
    the same ones validation reports (W105/I104).
    """
    try:
        decoded = decode_bytes(data, path, encoding)
    except DataError:
        return None
    changes: list[Change] = []
    if decoded.encoding == "gb18030":
        changes.append(Change(file, None, None, "encoding GBK/GB18030", "UTF-8"))
    elif not decoded.is_utf8:
        changes.append(Change(file, None, None, f"encoding {decoded.encoding}", "UTF-8"))
    elif decoded.has_bom:
        changes.append(Change(file, None, None, "UTF-8 with BOM", "UTF-8"))
    text = decoded.text
    breaks = record_breaks(text)
    if breaks.styles - {"\n"}:
        styles = sorted(breaks.styles)
        before = _NEWLINE_NAMES[styles[0]] if len(styles) == 1 else "mixed"
        changes.append(Change(file, None, None, f"{before} line endings", "\\n line endings"))
    blank = breaks.blank_lines
    if blank:
        changes.append(Change(file, None, None, f"{blank} blank line{'s' * (blank > 1)}", "removed"))
    return text, changes


def _plan_fix(p: Path, letters: tuple[str, ...] | None, encoding: str | None) -> tuple[str, list[Change]] | None:
    """The repaired text of one CSV file and its changes; None when there is nothing to repair.

    ``encoding``: the file's encoding when it is not UTF-8 (``--encoding``). A file that
    cannot be read, decoded or parsed is left untouched (validation reports it).
    """
    file = str(p)
    try:
        data = read_file_bytes(p)
    except UsageError:
        return None
    prepared = _file_changes(file, data, p, encoding)
    if prepared is None:
        return None
    text, changes = prepared
    try:
        table = parse_csv(text, source=p)
    except DataError:
        return None
    header = [name.strip() for name in table.header]
    changes += [Change(file, table.header_line, after, before, after)
                for before, after in zip(table.header, header) if before != after]
    letters = letters or letters_from_header(header)
    answer = header.index("answer") if "answer" in header else None
    rows: list[list[str]] = []
    for row, start in zip(table.rows, table.lines):
        fixed = [cell.strip() for cell in row]
        if answer is not None and len(row) == len(header):  # a ragged row's cells may be shifted
            fixed[answer] = normalise_answer(fixed[answer], letters) or fixed[answer]
        for pos, (before, after) in enumerate(zip(row, fixed)):
            if before != after:
                column = header[pos] if pos < len(header) else f"cell {pos + 1}"
                changes.append(Change(file, cell_line(row, start, pos), column, before, after))
        rows.append(fixed)
    return (format_csv(header, rows), changes) if changes else None


def _stage_fix(batch: StagedWrites, p: Path, letters: tuple[str, ...] | None, backup: bool,
               encoding: str | None = None) -> list[Change]:
    """Stage the repaired file (after a byte-exact backup when ``backup``) in ``batch``; return the changes."""
    planned = _plan_fix(p, letters, encoding)
    if planned is None:
        return []
    text, changes = planned
    saved = str(batch.backup(p)) if backup else None
    batch.write_text(p, text)
    return [replace(c, backup=saved) for c in changes]


def fix_file(
    path: str | Path, letters: tuple[str, ...] | None = None, *, backup: bool = True, encoding: str | None = None,
) -> list[Change]:
    """Repair one CSV file in place (after a backup when ``backup``); return what changed.

    ``encoding``: the file's encoding when it is not UTF-8 (``--encoding``). The backup and the new file are written completely before either takes its name:
    a full disk or a kill leaves the file as it was (and no partial backup).
    """
    try:
        with StagedWrites() as batch:
            return _stage_fix(batch, Path(path), letters, backup, encoding)
    except OSError as err:
        raise write_error(err) from None


def _check_output(target: Target, output: Path) -> None:
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UsageError("the output folder exists and is not empty", file=output, hint="name a new folder")
    root = target.root
    if root is not None and target.kind != "file" and output.resolve().is_relative_to(root.resolve()):
        raise UsageError("the output folder is inside the dataset", file=output, hint="name a folder outside it")


def _copy_target(target: Target, output: Path) -> tuple[Path, ValidateOptions]:
    """Copy what ``target`` covers into ``output``; return the path and options that name the copy."""
    root = target.root
    if target.kind == "file" or root is None:
        path, split, _ = target.files[0]
        copy_file(path, output / path.name)
        return output / path.name, ValidateOptions(split=split)
    if target.kind == "dataset":
        copy_tree(root, output)
        return output, ValidateOptions()
    for name in (MAPPING_FILE, META_FILE):
        if (root / name).is_file():
            copy_file(root / name, output / name)
    for path, _, _ in target.files:
        copy_file(path, output / path.parent.name / path.name)
    return output, ValidateOptions(subject=target.subject)


def _moved(path: str | Path, staging: Path, output: Path) -> Path:
    """A path inside the staging folder, as it is named once the folder became ``output``."""
    p = Path(path)
    return output / p.relative_to(staging) if p.is_relative_to(staging) else p


def _fix_copy(target: Target, options: ValidateOptions, output: Path) -> tuple[list[Change], Path, ValidateOptions]:
    """Copy and repair in a hidden folder beside ``output``, renamed to ``output`` once complete."""
    _check_output(target, output)
    staging = output
    try:
        with staging_folder(output) as staging:
            where, copied = _copy_target(target, staging)
            how = replace(options, split=copied.split if target.kind == "file" else options.split, subject=copied.subject)
            copy = resolve_target(where, how)
            with StagedWrites() as batch:
                changes = [c for p, _, _ in copy.files
                           for c in _stage_fix(batch, p, copy.letters, False, options.encoding)]
    except OSError as err:
        name = Path(err.filename) if err.filename else output
        if not (name.is_relative_to(staging) or name.is_relative_to(output)):
            raise os_error(err) from None  # reading the source failed, not writing the copy
        raise write_error(err, _moved(name, staging, output)) from None
    changes = [replace(c, file=str(_moved(c.file, staging, output))) for c in changes]
    return changes, _moved(where, staging, output), how


def _fix(path: str | Path, options: ValidateOptions, output: str | Path | None) -> tuple[list[Change], Path, ValidateOptions]:
    target = resolve_target(path, options)
    if output is not None:
        return _fix_copy(target, options, Path(output))
    how = replace(options, split=target.files[0][1]) if target.kind == "file" else options
    try:
        with StagedWrites() as batch:  # every file and backup on disk before any is renamed into place
            changes = [c for p, _, _ in target.files
                       for c in _stage_fix(batch, p, target.letters, True, options.encoding)]
    except OSError as err:
        raise write_error(err) from None
    return changes, Path(path), how


def fix_path(path: str | Path, options: ValidateOptions = ValidateOptions(), output: str | Path | None = None) -> list[Change]:
    """Apply the safe repairs to every CSV file ``path`` covers; return each change made.

    Without ``output`` files are rewritten in place, each after a backup
    (``<name>.bak-<timestamp>``); with ``output`` a fixed copy is written to that
    new folder. Idempotent: a second call returns ``[]`` and writes nothing.
    """
    return _fix(path, options, output)[0]


def fix_and_validate(
    path: str | Path, options: ValidateOptions = ValidateOptions(), output: str | Path | None = None
) -> ValidationReport:
    """:func:`fix_path`, then validate the result; the report lists the changes and what remains."""
    changes, where, how = _fix(path, options, output)
    return replace(validate_path(where, how), changes=tuple(changes))
