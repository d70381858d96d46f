"""Fixtures for report tests: the fixed run of :mod:`fixed_run` (its golden summaries live in tests/golden)."""

from __future__ import annotations

import pytest
from fixed_run import CATEGORIES, MODELS, build_records

from toolkit.config.groups import category_groups
from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.summary import Summary, summarise


@pytest.fixture
def run_records() -> list[ResultRecord]:
    return build_records()


@pytest.fixture
def run_summary(run_records: list[ResultRecord]) -> Summary:
    return summarise(run_records, category_groups("ceval", CATEGORIES), models=MODELS,
                     datasets=[f"ceval-{s}" for s in CATEGORIES])
