"""From predictions to numbers: post-processing, accuracy, result files, truncation counts, the summary."""

from __future__ import annotations

from toolkit.engine.scoring.evaluate import AccuracyResult, ItemScore, score_accuracy
from toolkit.engine.scoring.postprocess import resolve_postprocessor
from toolkit.engine.scoring.results import (
    Counts,
    ResultRecord,
    failed_record,
    last_error_line,
    read_result,
    record_from_score,
    result_path,
    write_result,
)
from toolkit.engine.scoring.summary import HEADER_PREFIX, Cell, Failure, Summary, SummaryRow, summarise
from toolkit.engine.scoring.truncation import Truncation, truncation_line, truncation_notes

__all__ = ["HEADER_PREFIX", "AccuracyResult", "Cell", "Counts", "Failure", "ItemScore", "ResultRecord", "Summary", "SummaryRow", "Truncation", "failed_record", "last_error_line", "read_result", "record_from_score", "resolve_postprocessor", "result_path", "score_accuracy", "summarise", "truncation_line", "truncation_notes", "write_result"]
