"""Lint and types are part of the test run: ruff over the code and the tests, mypy over toolkit/.

Both read their settings from pyproject.toml; mypy keeps its cache in .mypy_cache/ (a few
seconds the first time, under one after).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_is_clean():
    result = _run("ruff", "check", "--no-cache", "toolkit", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
