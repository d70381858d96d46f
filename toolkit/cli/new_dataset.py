"""``toolkit new-dataset``: scaffold a C-Eval-layout question bank, or import one from sheets."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from toolkit.cli._common import Language, handle_errors, stderr_console
from toolkit.dataset.datasheet import DatasheetFacts
from toolkit.dataset.formats import SourceFormat, parse_column_options
from toolkit.dataset.import_report import SourceReport
from toolkit.dataset.importer import ImportOptions, ImportReport, import_sheets
from toolkit.dataset.layout import MAPPING_FILE
from toolkit.dataset.scaffold import pair_subjects, scaffold_dataset
from toolkit.dataset.write import DatasetSettings, WriteResult
from toolkit.errors import UsageError

EPILOG = """\
Examples:

\b
  toolkit new-dataset my_bank --subject law --name-en Law --name-zh 法学 --category Humanities
  toolkit new-dataset my_bank --from questions.xlsx --subject my_subject --name-zh 我的科目
  toolkit new-dataset cmmlu_copy --from ../shared/data/cmmlu --json
"""
SKIPPED_SHOWN = 10
SUBJECTS_SHOWN = 30


class Split(str, Enum):
    """``--split``: put every imported row into this split."""

    dev = "dev"
    val = "val"
    test = "test"


class DevSample(str, Enum):
    """``--dev-sample``: which rows become the dev split."""

    first = "first"
    random = "random"


def _subject_table(result: WriteResult) -> None:
    """Rows per split for each subject (the first SUBJECTS_SHOWN), then the totals."""
    from rich.table import Table

    splits = ("dev", "val", "test")
    table = Table("subject", "category", *splits, box=None, pad_edge=False)
    for s in result.subjects[:SUBJECTS_SHOWN]:
        table.add_row(s.subject.key, s.subject.category, *("missing" if s.counts.get(k) is None else str(s.counts[k])
                                                            for k in splits))
    hidden = len(result.subjects) - SUBJECTS_SHOWN
    if hidden > 0:
        table.add_row(f"… {hidden} more (see DATASHEET.md)", "", "", "", "")
    if len(result.subjects) > 1:
        table.add_row("total", "", *(str(sum(s.counts.get(k) or 0 for s in result.subjects)) for k in splits))
    stderr_console().print(table)


def _defaults_note(result: WriteResult) -> str | None:
    """One line saying which subjects got which default names, grouped so that 67 subjects stay readable."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for key, fields in result.defaults.items():
        groups.setdefault(fields, []).append(key)
    if not groups:
        return None
    parts = []
    for fields, keys in groups.items():
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        parts.append(f"{'/'.join(fields)} for {shown}")
    return ("default names used (English name from the key, Chinese name = English name, category Other): "
            f"{'; '.join(parts)} — edit {result.dataset_dir / MAPPING_FILE}")


def _source_lines(source: SourceReport, err: Console) -> list[str]:
    """Print one imported file's skipped rows (the first SKIPPED_SHOWN); return its notes."""
    shown = source.skipped[:SKIPPED_SHOWN]
    for row in shown:
        err.print(f"skipped {source.file}, line {row.line}: {row.reason}")
    if len(source.skipped) > len(shown):
        err.print(f"… and {len(source.skipped) - len(shown)} more skipped rows in {source.file} (see --json)")
    notes = []
    if source.encoding not in (None, "utf-8", "utf-8-sig"):
        read_as = "GBK/GB18030" if source.encoding == "gb18030" else source.encoding
        notes.append(f"{source.file}: read as {read_as}, written as UTF-8")
    if source.ignored_columns:
        notes.append(f"{source.file}: columns not imported: {', '.join(source.ignored_columns)}")
    return notes + [f"{source.file}: {n}" for n in source.notes]


def _print_human(result: WriteResult, report: ImportReport | None) -> None:
    err = stderr_console()
    m = result.meta
    verb = "created" if result.created else "updated"
    err.print(f"{verb} {result.dataset_dir} ({m.options} options {m.letters[0]}–{m.letters[-1]}, language {m.language})")
    if result.backup:
        err.print(f"backup of the previous dataset: {result.backup}")
    _subject_table(result)
    notes = list(result.notes)
    if report is not None:
        for source in report.sources:
            notes += _source_lines(source, err)
        notes += list(report.notes)
    if defaults := _defaults_note(result):
        notes.append(defaults)
    for note in notes:
        err.print(f"note: {note}", markup=False)
    if report is not None:
        files = len(report.sources)
        err.print(f"read {report.rows_read} rows from {files} file{'s' if files != 1 else ''}, "
                  f"wrote {report.rows_written}, skipped {report.rows_skipped}")


@handle_errors
def new_dataset(
    name: Annotated[str, typer.Argument(
        metavar="NAME", help="Dataset name: its folder under --root and the prefix of its config names.")],
    more_sources: Annotated[list[Path] | None, typer.Argument(
        metavar="FILE", show_default=False, help="More files to import after --from (so that `--from *.csv` works).")] = None,
    root: Annotated[Path, typer.Option(metavar="DIR", help="Folder that holds datasets.")] = Path("data"),
    subject: Annotated[list[str] | None, typer.Option(
        metavar="KEY",
        help="Subject key (a Python identifier); repeat for several. Default: the dataset name, or from file names.")] = None,
    name_en: Annotated[list[str] | None, typer.Option(
        metavar="TEXT",
        help="English name, one per --subject in order. Default: from the key (computer_network → Computer Network).")] = None,
    name_zh: Annotated[list[str] | None, typer.Option(
        metavar="TEXT", help="Chinese name, one per --subject in order. Default: the English name.")] = None,
    category: Annotated[list[str] | None, typer.Option(
        metavar="CATEGORY",
        help="Category, one per --subject: STEM, Social Science, Humanities, Other (default) or a declared one.")] = None,
    declare_category: Annotated[list[str] | None, typer.Option(
        metavar="CATEGORY", help="Allow another category (stored in dataset.json); repeatable.")] = None,
    options: Annotated[int | None, typer.Option(
        metavar="N", min=2, max=10, help="Number of option letters, 2–10 (A–J). Default: 4, or what the sources have.")] = None,
    language: Annotated[Language | None, typer.Option(
        help="Prompt language. Default: zh, or guessed from imported questions.")] = None,
    sources: Annotated[list[Path] | None, typer.Option(
        "--from", metavar="FILE_OR_DIR", show_default=False,
        help="Import this CSV/TSV/XLSX/JSONL file, or every such file in a folder; repeatable.")] = None,
    fmt: Annotated[SourceFormat, typer.Option("--format", help="Source layout; auto recognises it.")] = SourceFormat.AUTO,
    column: Annotated[list[str] | None, typer.Option(
        metavar="ROLE=HEADER",
        help="Map a role to a header; roles: id, question, A…J, choices (options packed as (A) … (B) … or a JSON "
             "list), answer, explanation.")] = None,
    sheet: Annotated[str | None, typer.Option(metavar="NAME", help="XLSX worksheet to read. Default: the first.")] = None,
    header_row: Annotated[int | None, typer.Option(
        metavar="N", min=1, show_default=False,
        help="The row (XLSX) or line (CSV/TSV) that holds the header, when titles or notes come first. Default: 1.")] = None,
    encoding: Annotated[str | None, typer.Option(
        metavar="NAME", show_default=False,
        help="Encoding of CSV/TSV/JSONL sources that are not UTF-8, e.g. cp1252, latin-1, gb18030, big5. "
             "Default: UTF-8 or GBK/GB18030, detected.")] = None,
    split: Annotated[Split | None, typer.Option(
        help="Put every imported row in this split, whatever the file names say.")] = None,
    dev_size: Annotated[int | None, typer.Option(
        metavar="K", min=0, help="Rows of a file without a split that go to dev; the rest go to val. Default: 5.")] = None,
    dev_sample: Annotated[DevSample, typer.Option(
        help="Which rows go to dev: the first K, or a random sample seeded by --seed.")] = DevSample.first,
    seed: Annotated[int | None, typer.Option(
        metavar="N", show_default=False, help="Seed for --dev-sample random (only with it). Default: 0.")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (writing nothing) instead of skipping rows that cannot be imported.")] = False,
    purpose: Annotated[str | None, typer.Option(metavar="TEXT", help="DATASHEET.md: what the bank measures.")] = None,
    origin: Annotated[str | None, typer.Option(metavar="TEXT", help="DATASHEET.md: where the questions come from.")] = None,
    licence: Annotated[str | None, typer.Option(
        "--licence", "--license", metavar="TEXT", help="DATASHEET.md: the licence.")] = None,
    answers_checked: Annotated[str | None, typer.Option(
        metavar="TEXT", help="DATASHEET.md: how the answers were checked.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace existing subjects or settings; the dataset is backed up to <name>.bak-<time> first.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
) -> None:
    """Create a C-Eval-layout dataset (dev/val/test CSVs, subject mapping, datasheet), empty or imported from sheets."""
    paths = [*(sources or []), *(more_sources or [])]
    if more_sources and not sources:
        raise UsageError(f"unexpected argument {str(more_sources[0])!r}", hint="put --from before the files to import")
    settings = DatasetSettings(
        options, language.value if language else None, tuple(declare_category or ()),
        DatasheetFacts(purpose, origin, licence, answers_checked),
    )
    # Without --subject a scaffold gets one subject named after the dataset; names given apply to it.
    keys = subject or ([name] if not paths and (name_en or name_zh or category) else [])
    requests = pair_subjects(keys, name_en or [], name_zh or [], category or [])
    report: ImportReport | None = None
    if paths:
        import_options = ImportOptions(
            fmt, parse_column_options(column or []), sheet, split.value if split else None,
            dev_size, dev_sample.value, seed, strict, encoding, header_row,
        )
        report = import_sheets(root, name, paths, subjects=requests, options=import_options, settings=settings,
                               force=force)
        result = report.result
    else:
        given = {"--format": fmt is not SourceFormat.AUTO, "--column": column, "--sheet": sheet, "--split": split,
                 "--header-row": header_row is not None, "--encoding": encoding is not None,
                 "--dev-size": dev_size is not None, "--dev-sample": dev_sample is not DevSample.first, "--seed": seed is not None, "--strict": strict}
        if used := [flag for flag, value in given.items() if value]:
            raise UsageError(f"{', '.join(used)} only apply when importing", hint="add --from FILE, or leave them out")
        result = scaffold_dataset(root, name, requests, settings, force=force)
    if json_out:
        summary = report.to_dict() if report is not None else {"format_version": 1, **result.to_dict()}
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    _print_human(result, report)
