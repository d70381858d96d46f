"""Helpers of the bad-input CLI tests (tests/cli/test_input_*.py): files made in tmp_path, one-line errors."""

from __future__ import annotations

import threading
from pathlib import Path

HEADER = "id,question,A,B,C,D,answer"


def one_error_line(result, *needles: str) -> str:
    """The stderr of a failed run: exactly one line, starting with error:, containing every needle."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def bank_rows(n: int = 10) -> list[str]:
    return [f"{i},第{i}题____,甲{i},乙{i},丙{i},丁{i},{'ABCD'[i % 4]}" for i in range(n)]


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def new_dataset(cli, tmp_path: Path, *args: object):
    return cli("new-dataset", "bank", "--root", tmp_path / "out", "--subject", "s", *args)


def nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "out").exists()


def backups(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".bak-" in p.name]


def within(seconds: float, call):
    """``call()``'s result, failing (instead of hanging the suite) when it takes longer than ``seconds``."""
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(result=call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert "result" in box, f"still running after {seconds} s (blocked?)"
    return box["result"]
