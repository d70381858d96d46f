"""The defect catalogue: each check has a small file that triggers it, found at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from toolkit.validate import CHECKS, ValidateOptions, validate_path

CATALOGUE = Path(__file__).parent / "catalogue"
EXPECTED: dict[str, dict] = yaml.safe_load((CATALOGUE / "expected.yaml").read_text(encoding="utf-8"))


def _options(entry: dict) -> ValidateOptions:
    raw = dict(entry.get("options") or {})
    if "schema" in raw:
        raw["schema"] = CATALOGUE / raw["schema"]
    return ValidateOptions(**raw)


def _found(target: Path, options: ValidateOptions) -> list[list]:
    report = validate_path(target, options)
    rows = []
    for f in report.findings:
        rel = Path(f.file).relative_to(target).as_posix() if target.is_dir() else ""
        rows.append([f.code, rel, f.line, f.column])
    return sorted(rows, key=str)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_catalogue_entry_reports_exactly_its_findings(name: str) -> None:
    entry = EXPECTED[name]
    expected = sorted(([str(c), f, line, None if col is None else str(col)]
                       for c, f, line, col in entry["findings"]), key=str)
    assert _found(CATALOGUE / name, _options(entry)) == expected


def test_every_check_has_a_catalogue_entry() -> None:
    covered = {row[0] for entry in EXPECTED.values() for row in entry["findings"]}
    assert covered == set(CHECKS), f"codes without an entry: {sorted(set(CHECKS) - covered)}"


def test_every_catalogue_file_is_listed() -> None:
    on_disk = {p.name for p in CATALOGUE.glob("*.csv")} | {f"datasets/{p.name}" for p in (CATALOGUE / "datasets").iterdir()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if Path(n).name.startswith("pass_")))
def test_files_that_must_pass_have_no_errors_or_warnings(name: str) -> None:
    report = validate_path(CATALOGUE / name)
    assert report.passed(strict=True), [f.message for f in report.findings]


def test_catalogue_entries_are_named_after_their_check() -> None:
    for name, entry in EXPECTED.items():
        stem = Path(name).name
        if stem.startswith("pass_"):
            continue
        code = stem.split("_")[0].upper()
        assert code in {row[0] for row in entry["findings"]}, name
        assert CHECKS[code].name.replace("-", "_") in stem, name
