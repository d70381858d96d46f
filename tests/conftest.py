"""Shared fixtures. Nothing here downloads: the demo model comes from PyPI via
``toolkit demo-model`` and only in tests marked ``slow``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SEED_RAW = EXAMPLES / "raw" / "chinese_core_socialist_values.csv"
SHARED = Path(os.environ.get("TOOLKIT_SHARED", REPO.parent / "shared"))


@pytest.fixture
def runner() -> CliRunner:
    """Typer's CliRunner; ``result.stdout`` and ``result.stderr`` are kept apart."""
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner):
    """Invoke ``toolkit ARGS…`` in-process and return the result."""
    from toolkit.cli.main import app

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (reference data); tests that need it skip with a reason when absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"reference data not found at {SHARED} (set TOOLKIT_SHARED to its path)")
    return SHARED


@pytest.fixture
def seed_raw() -> Path:
    """The seed question bank exactly as its author wrote it (messy whitespace included)."""
    return SEED_RAW
