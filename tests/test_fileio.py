"""The write layer: modes (issue 10 item 1), durability, and failures that leave nothing behind (issue 9 item 4)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from write_faults import disk_full_after

from toolkit import fileio
from toolkit.fileio import WriteError, append_bytes, atomic_write_text, copy_file, write_error
from toolkit.staged import StagedWrites, make_backup, staging_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_new_files_and_folders_get_the_umask_mode(tmp_path: Path, umask: int) -> None:
    atomic_write_text(tmp_path / "new.txt", "x")
    with StagedWrites() as batch:
        batch.write_text(tmp_path / "sub" / "staged.txt", "y")
    with staging_folder(tmp_path / "folder") as staging:
        (staging / "a").write_text("z")
    copy_file(tmp_path / "new.txt", tmp_path / "copy.txt")
    for name in ("new.txt", "sub/staged.txt", "copy.txt", "folder/a"):
        assert mode(tmp_path / name) == 0o666 & ~umask, name
    for name in ("sub", "folder"):
        assert mode(tmp_path / name) == 0o777 & ~umask, name


def test_a_rewritten_file_keeps_its_own_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "bank.csv"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert mode(target) == 0o640 and target.read_text() == "new"
    with StagedWrites() as batch:
        backup = batch.backup(target)
        batch.write_text(target, "newer")
    assert mode(target) == 0o640 and mode(backup) == 0o640 and backup.read_text() == "new"
    empty = tmp_path / "empty"
    empty.mkdir()
    empty.chmod(0o750)
    with staging_folder(empty) as staging:
        (staging / "f").write_text("f")
    assert mode(empty) == 0o750  # an empty folder that is replaced keeps its mode too


def test_the_rename_is_followed_by_a_sync_of_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[bool] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write_text(tmp_path / "a.txt", "a")
    assert synced == [False, True]  # the file's data, then the folder holding the new name
    synced.clear()
    with StagedWrites() as batch:
        batch.write_text(tmp_path / "b.txt", "b")
        batch.write_text(tmp_path / "c.txt", "c")
    assert synced == [False, False, True]


def test_a_full_disk_leaves_the_old_file_and_no_temporary_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    disk_full_after(monkeypatch, 10)
    with pytest.raises(OSError) as info:
        atomic_write_text(target, "x" * 100_000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)  # the file asked for, not a temp
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_failed_append_cuts_the_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"key": "k"}\n')
    disk_full_after(monkeypatch, 5)  # half a record gets written before the disk is full
    with pytest.raises(OSError) as info:
        append_bytes(path, b'{"index": 0, "prediction": "A"}\n')
    assert info.value.filename == str(path)
    assert path.read_bytes() == b'{"key": "k"}\n'  # no torn record for later records to be glued to


def test_a_backup_is_complete_or_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "bank"
    (src / "val").mkdir(parents=True)
    (src / "val" / "a.csv").write_bytes(b"a" * 5000)
    (src / "val" / "b.csv").write_bytes(b"b" * 5000)
    disk_full_after(monkeypatch, 7000)
    with pytest.raises(OSError) as info:
        make_backup(src, stamp="20260101-000000")
    assert info.value.filename == str(tmp_path / "bank.bak-20260101-000000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank"]
    monkeypatch.setattr(fileio, "_os_write", os.write)
    backup = make_backup(src / "val" / "a.csv", stamp="20260101-000000")
    assert backup.read_bytes() == b"a" * 5000


@pytest.mark.parametrize(("code", "text", "exit_code"), [
    (errno.ENOSPC, "no space left on device", 1),
    (errno.EDQUOT, "disk quota exceeded", 1),
    (errno.EACCES, "cannot write (permission denied)", 2),
    (errno.EIO, "cannot write (Input/output error)", 1),
])
def test_a_failed_write_is_one_line_naming_the_file(code: int, text: str, exit_code: int) -> None:
    err = write_error(OSError(code, os.strerror(code), "data/bank/val/x_val.csv"))
    assert isinstance(err, WriteError) and err.exit_code == exit_code
    assert str(err).startswith(f"data/bank/val/x_val.csv: {text}") and "\n" not in str(err)
