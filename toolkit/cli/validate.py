"""``toolkit validate``: check a question bank (and with ``--fix`` repair what is safe).

Thin: parse the options, call :func:`toolkit.validate.validate_path` or
:func:`toolkit.validate.fix.fix_and_validate`, print. The library is imported
inside the command so that ``toolkit --help`` stays instant.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import handle_errors, stderr_console, stdout_console
from toolkit.errors import UsageError


class SplitName(str, Enum):
    """The split of a single CSV file, or the one split of a folder to check."""

    dev = "dev"
    val = "val"
    test = "test"


EPILOG = """\
Examples:

\b
  toolkit validate data/my_bank
  toolkit validate data/my_bank --subject law --shots 5 --strict
  toolkit validate questions.csv --split val --json
  toolkit validate data/my_bank --split val       # only the val files
  toolkit validate data/my_bank --schema val=my_val.yaml --schema test=my_test.yaml
  toolkit validate data/my_bank --fix             # backups beside each changed file
  toolkit validate data/my_bank --fix --output data/my_bank_fixed

  toolkit validate old.csv --encoding cp1252 --fix   (converted to UTF-8)

Exit status: 0 clean, 1 errors (or warnings with --strict), 2 usage errors.
"""


@handle_errors
def validate(
    path: Annotated[Path, typer.Argument(
        metavar="PATH", help="A CSV file, a dataset folder, or a subject as <dataset>/<subject>.")],
    subject: Annotated[str | None, typer.Option(
        metavar="KEY", help="Check only this subject of the dataset folder.")] = None,
    split: Annotated[SplitName | None, typer.Option(
        help="Split of a single CSV file whose name does not say it (default val); "
             "for a folder, check only that split's files.")] = None,
    shots: Annotated[int, typer.Option(
        metavar="K", min=0, help="Few-shot examples the prompts take: dev needs this many rows.")] = 5,
    schema: Annotated[list[str] | None, typer.Option(
        metavar="[SPLIT=]FILE",
        help="A pandera YAML schema instead of the stock one: FILE for every split file, SPLIT=FILE "
             "(dev, val, test or subject_mapping) for that one only; repeatable.")] = None,
    near_duplicates: Annotated[
        bool, typer.Option(help="Also report questions equal up to whitespace and punctuation.")
    ] = True,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the safe repairs, then validate the result.")] = False,
    output: Annotated[Path | None, typer.Option(
        metavar="DIR", help="With --fix: write a fixed copy into this new folder instead of in place.")] = None,
    encoding: Annotated[str | None, typer.Option(
        metavar="NAME", show_default=False,
        help="Encoding of CSV files that are not UTF-8, e.g. cp1252, latin-1, big5 (reported as E102; "
             "--fix converts them to UTF-8). Default: UTF-8 or GBK/GB18030, detected.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON on stdout.")] = False,
) -> None:
    """Check a question bank: every defect at once, each with its line and how to fix it."""
    from toolkit.validate import ValidateOptions, validate_path
    from toolkit.validate.fix import fix_and_validate
    from toolkit.validate.report import render_changes, render_report, report_json
    from toolkit.validate.schemas import parse_schema_options

    if output is not None and not fix:
        raise UsageError("--output goes with --fix", hint="add --fix, or drop --output")
    every_split, per_split = parse_schema_options(schema or [])
    options = ValidateOptions(
        shots=shots,
        near_duplicates=near_duplicates,
        schema=every_split,
        split_schemas=per_split,
        subject=subject,
        split=split.value if split is not None else None,
        encoding=encoding,
    )
    err = stderr_console()

    def progress(done: int, total: int, file: str) -> None:
        if done == 0 and total > 1:
            err.print(f"checking {total} files …")

    if fix:
        report = fix_and_validate(path, options, output)
    else:
        report = validate_path(path, options, progress)
    for note in report.notes:
        err.print(f"note: {note}")
    if json_output:
        sys.stdout.write(report_json(report))
    else:
        out = stdout_console()
        if fix:
            render_changes(report.changes, out)
            out.print()
        render_report(report, out, strict)
    if not report.passed(strict):
        raise typer.Exit(1)
