"""Issue 9 item 8: what a killed process leaves is removed by the next write, but only when provably stale."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.debris import HOST_TAG, is_stale, remove_stale, sweep_locked_folder, temp_prefix
from toolkit.fileio import atomic_write_text


def dead_pid() -> int:
    """The PID of a process that has exited (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leftover(folder: Path, target: str, pid: int, *, host: str = HOST_TAG, suffix: str = ".tmp",
             size: int = 1000, age: float = 0.0) -> Path:
    path = folder / f".{target}.{pid}-{host}-abcd1234{suffix}"
    if suffix == ".partial":
        path.mkdir()
        (path / "half.csv").write_bytes(b"x" * size)
    else:
        path.write_bytes(b"x" * size)
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


@pytest.fixture
def live_child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_temporary_names_carry_pid_and_host(tmp_path: Path) -> None:
    assert temp_prefix("bank_val.csv") == f".bank_val.csv.{os.getpid()}-{HOST_TAG}-"


def test_the_next_write_removes_what_a_dead_process_left(tmp_path: Path) -> None:
    tmp = leftover(tmp_path, "out.json", dead_pid(), size=12_000_000)
    staging = leftover(tmp_path, "bank", dead_pid(), suffix=".partial")
    atomic_write_text(tmp_path / "other.txt", "x")
    assert not tmp.exists() and not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_nothing_that_may_be_alive_is_removed(tmp_path: Path, live_child: subprocess.Popen) -> None:
    mine = leftover(tmp_path, "a.json", os.getpid())
    live = leftover(tmp_path, "b.json", live_child.pid)
    other_host = leftover(tmp_path, "c.json", dead_pid(), host="0123abcd" if HOST_TAG != "0123abcd" else "abcd0123")
    legacy = tmp_path / ".d.json.k2j3h4g5.tmp"  # an older name without a PID: whose is it?
    legacy.write_text("x")
    assert remove_stale(tmp_path) == []
    assert all(p.exists() for p in (mine, live, other_host, legacy))


def test_a_reused_pid_does_not_keep_debris_forever(tmp_path: Path, live_child: subprocess.Popen) -> None:
    """The PID runs again, but that process started after the file was last written: not its creator."""
    if not Path(f"/proc/{live_child.pid}/stat").exists():
        pytest.skip("process start times need /proc")
    old = leftover(tmp_path, "a.json", live_child.pid, age=3600)
    assert is_stale(old)
    assert remove_stale(tmp_path) == [old]


def test_a_locked_run_folder_is_swept_of_every_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "predictions" / "m" / ".partial").mkdir(parents=True)
    (tmp_path / "predictions" / "m" / ".partial" / "ds.0-end.jsonl").write_text('{"key": "k"}\n')
    (tmp_path / "predictions" / "m" / ".ds.json.abc123.tmp").write_bytes(b"x" * 500)  # an older name, no PID
    (tmp_path / "results" / "m").mkdir(parents=True)
    leftover(tmp_path / "results" / "m", "ds.json", os.getpid(), size=300)
    (tmp_path / "summary").mkdir()
    assert sweep_locked_folder(tmp_path) == (2, 800)
    assert (tmp_path / "predictions" / "m" / ".partial" / "ds.0-end.jsonl").is_file()  # resume data stays
    (tmp_path / "predictions" / "m" / ".partial" / "ds.0-end.jsonl").unlink()
    assert sweep_locked_folder(tmp_path) == (0, 0)
    assert not (tmp_path / "predictions" / "m" / ".partial").exists()  # an emptied hidden folder goes quietly
