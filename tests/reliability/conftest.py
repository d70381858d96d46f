"""Fixtures of the fault-injection suite (issue 9): the fork server, and the counts printed after the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_harness import ForkServer, report_lines


@pytest.fixture(scope="module")
def forkserver(tmp_path_factory: pytest.TempPathFactory):
    """``toolkit`` commands as real processes that a test may SIGKILL (see forkserver.py)."""
    server = ForkServer(tmp_path_factory.mktemp("forkserver"))
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = report_lines()
    if len(lines) > 1:
        terminalreporter.section("reliability (fault injection)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
