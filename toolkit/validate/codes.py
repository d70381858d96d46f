"""The catalogue of checks: a stable code, a name, a severity and a one-line hint each.

Codes never change meaning once released; the first letter is the severity
(``E`` error, ``W`` warning, ``I`` info) and the hundreds say the level:
1xx a file, 2xx a row, 3xx the dataset. ``toolkit validate --json`` reports the
code and the name; the hint is what a person should do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How bad a finding is: errors fail validation, warnings fail it with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info (sort order: worst first)."""
        return ("error", "warning", "info").index(self.value)


@dataclass(frozen=True)
class CheckInfo:
    """One entry of the catalogue."""

    code: str
    name: str
    summary: str
    hint: str

    @property
    def severity(self) -> Severity:
        """The severity the code's first letter names."""
        return {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}[self.code[0]]


_CATALOGUE: tuple[CheckInfo, ...] = (
    # -- file level -------------------------------------------------------------------------
    CheckInfo("E100", "unreadable-file", "the file cannot be read or decoded",
              "re-save it as UTF-8 CSV (in Excel: 'CSV UTF-8')"),
    CheckInfo("E101", "ragged-row", "a row has more or fewer cells than the header",
              "quote cells that contain commas (\"a, b\") and fill in missing cells"),
    CheckInfo("E102", "not-utf8", "the file is GBK/GB18030 (or the --encoding named), which OpenCompass cannot read",
              "run `toolkit validate --fix` to convert it to UTF-8"),
    CheckInfo("I103", "utf8-bom", "UTF-8 with a byte-order mark (tolerated)",
              "`toolkit validate --fix` removes it; OpenCompass would read the first column as '\\ufeffid'"),
    CheckInfo("I104", "crlf-line-endings", "Windows line endings (tolerated)",
              "`toolkit validate --fix` converts them to \\n"),
    CheckInfo("W105", "mixed-line-endings", "the file mixes line-ending styles",
              "run `toolkit validate --fix` to use \\n throughout"),
    CheckInfo("E106", "empty-file", "the file has no header row",
              "write the header, e.g. id,question,A,B,C,D,answer"),
    CheckInfo("E107", "missing-column", "a required column is not in the header",
              "add the column to the header (names are case-sensitive)"),
    CheckInfo("E108", "unknown-column", "the header has a column the layout does not know",
              "rename or remove the column"),
    CheckInfo("E109", "column-order", "the columns are not in the expected order",
              "reorder the columns to the expected header"),
    CheckInfo("E110", "duplicate-column", "a column name appears twice in the header",
              "rename or remove one of the two columns"),
    CheckInfo("E111", "bad-file-name", "the file name is not <subject>_<split>.csv in its split folder",
              "rename it to <subject>_<split>.csv, <subject> a Python identifier, inside the <split>/ folder"),
    CheckInfo("E112", "missing-split-file", "a subject lacks one of its dev/val/test files",
              "create it (a header-only test file is fine): OpenCompass needs all three"),
    CheckInfo("W113", "no-questions", "the file has a header but no questions",
              "add questions or remove the subject"),
    CheckInfo("E114", "unclosed-quote", "a quoted cell runs over what reads as several rows (an unclosed quote)",
              'close the quote where the cell ends (a quote inside a quoted cell is written twice: ""); '
              "--fix leaves the file alone"),
    # -- row level ---------------------------------------------------------------------------
    CheckInfo("E201", "id-not-integer", "the id is not a whole number",
              "use 0, 1, 2, … as ids"),
    CheckInfo("E202", "duplicate-id", "the id is used by an earlier row of the file",
              "give every row of the file its own id"),
    CheckInfo("E203", "empty-question", "the question text is empty",
              "write the question or remove the row"),
    CheckInfo("E204", "empty-option", "an option is empty",
              "fill in the option (the text NA, None or 0 is fine)"),
    CheckInfo("E205", "answer-missing", "the answer is empty",
              "write the letter of the correct option"),
    CheckInfo("E206", "answer-invalid", "the answer is not one of the option letters",
              "write exactly one of the option letters"),
    CheckInfo("E207", "answer-not-normalised", "the answer is a letter that needs normalising",
              "run `toolkit validate --fix` (OpenCompass scores ' D' or 'd' as wrong)"),
    CheckInfo("W208", "surrounding-whitespace", "a cell starts or ends with whitespace",
              "run `toolkit validate --fix` to strip it (it changes the prompt)"),
    CheckInfo("W209", "duplicate-options", "two options of the question have the same text",
              "make every option different"),
    CheckInfo("W210", "template-placeholder", "the text contains a prompt placeholder such as {A}",
              "OpenCompass replaces {A}, {question}… inside texts too: write it another way, e.g. \\mathbf A"),
    CheckInfo("W211", "nan-leftover", "the cell is 'nan', a leftover of an empty cell in an export",
              "fill in the real text (an option that is really NA, None or 0 is fine)"),
    CheckInfo("E290", "schema-check", "a check of the user's schema failed",
              "see the check named in the message"),
    # -- dataset level -----------------------------------------------------------------------
    CheckInfo("E300", "mapping-unreadable", "the subject mapping is missing or not a JSON object",
              "write subject_mapping.json: {key: [English name, Chinese name, category]}"),
    CheckInfo("E301", "unmapped-subject", "a subject has files but no mapping entry",
              "add the subject to subject_mapping.json"),
    CheckInfo("E302", "mapping-without-files", "a mapping entry has no files",
              "add its dev/val/test files or remove the entry"),
    CheckInfo("E303", "mapping-entry-shape", "a mapping entry is not [English name, Chinese name, category]",
              'write e.g. ["Computer Network", "计算机网络", "STEM"]'),
    CheckInfo("E304", "unknown-category", "a mapping entry's category is neither known nor declared",
              "use STEM, Social Science, Humanities or Other, or declare it in dataset.json"),
    CheckInfo("E305", "bad-subject-key", "a subject key is not a Python identifier",
              "use letters, digits and _ only, not starting with a digit"),
    # E314 is the mapping's too: the numbers E306–W313 were taken when it was added.
    CheckInfo("E314", "duplicate-mapping-key", "a subject key appears twice in the mapping",
              "keep one entry per subject: JSON readers (OpenCompass's too) silently keep only the last"),
    CheckInfo("E306", "dev-too-short", "dev has fewer rows than the few-shot prompt needs",
              "add dev examples or lower --shots (OpenCompass fails late with an index error)"),
    CheckInfo("E307", "answer-leak", "a val/test question is also one of the subject's dev examples",
              "remove it from dev or from val/test: the prompt would show the model its answer"),
    CheckInfo("W313", "possible-answer-leak",
              "a val/test question equals a dev example up to whitespace, punctuation or option order",
              "check the two: if they are the same question, remove one (the prompt would show its answer)"),
    CheckInfo("W308", "duplicate-question", "the same question (and options) appears earlier",
              "remove one of the copies"),
    CheckInfo("W309", "near-duplicate-question", "the question equals an earlier one up to whitespace/punctuation",
              "remove one of the copies, or make them differ"),
    CheckInfo("W310", "answer-imbalance", "one answer letter is far more frequent than chance allows",
              "shuffle the options of some questions"),
    CheckInfo("I311", "test-unscored", "the test split has no answers, so it cannot be scored",
              "fine for a hidden test set; score val instead"),
    CheckInfo("W312", "test-partly-answered", "some test answers are blank and some are not",
              "fill in every answer or none"),
)

CHECKS: dict[str, CheckInfo] = {c.code: c for c in _CATALOGUE}
"""Every check, by code."""

BY_NAME: dict[str, CheckInfo] = {c.name: c for c in _CATALOGUE}
"""Every check, by name (``ragged-row`` → E101)."""


def check_info(code: str) -> CheckInfo:
    """The catalogue entry for ``code``; KeyError names the unknown code.

    Example:
        >>> check_info("E101").name
        'ragged-row'
    """
    try:
        return CHECKS[code]
    except KeyError:
        raise KeyError(f"unknown check code {code!r}") from None
