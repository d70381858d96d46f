"""Dataset-level checks that need several files or the whole split: the split files present,
enough dev rows for K-shot prompts, test answers, and (from their modules) duplicates and balance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.dataset.layout import SPLITS, split_file
from toolkit.validate.balance import balance_findings
from toolkit.validate.duplicates import duplicate_findings
from toolkit.validate.findings import Finding, ValidateOptions, make_finding
from toolkit.validate.split_file import SplitFile


def missing_split_findings(
    root: Path, present: Mapping[str, Mapping[str, Path]], splits: Sequence[str] = SPLITS,
) -> list[Finding]:
    """E112 for every subject that lacks one of its dev/val/test files (of ``splits``)."""
    out: list[Finding] = []
    for subject, found in present.items():
        for split in splits:
            if split not in found:
                expected = split_file(root, subject, split)
                out.append(make_finding("E112", expected, f"subject {subject!r} has no {split} file",
                                        hint=f"create {expected.relative_to(root)}" + (
                                            " (a header-only test file is fine)" if split == "test" else "")))
    return out


def shots_findings(f: SplitFile, shots: int) -> list[Finding]:
    """E306 when a dev file has fewer rows than a ``shots``-shot prompt takes."""
    if f.split != "dev" or f.table is None or f.n_rows >= shots:
        return []
    return [make_finding("E306", f.file, f"{f.n_rows} dev rows; a {shots}-shot prompt needs {shots}",
                         line=f.table.header_line)]


def test_answer_findings(f: SplitFile) -> list[Finding]:
    """I311 for a test file that cannot be scored, W312 for one only partly answered."""
    if f.split != "test" or f.table is None or not f.table.header:
        return []
    answers = f.column("answer")
    if answers is None:
        return [make_finding("I311", f.file, "no answer column: the test split cannot be scored",
                             line=f.table.header_line)]
    blank = sum(1 for a in answers if not a.strip())
    if blank == len(answers):
        return [make_finding("I311", f.file, "no test answers: the test split cannot be scored",
                             line=f.table.header_line)]
    if blank:
        return [make_finding("W312", f.file, f"{blank} of {len(answers)} answers are blank", column="answer",
                             line=f.table.header_line)]
    return []


def content_findings(files: Sequence[SplitFile], options: ValidateOptions) -> list[Finding]:
    """Every check that reads the rows of several files: shots, test answers, duplicates, balance."""
    out: list[Finding] = []
    for f in files:
        out += shots_findings(f, options.shots) + test_answer_findings(f)
    out += duplicate_findings(files, near=options.near_duplicates)
    out += balance_findings(files, options.balance_min_questions, options.balance_alpha)
    return out
