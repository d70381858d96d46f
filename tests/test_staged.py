"""Several files all or nothing (gen-config, validate --fix, new-dataset into an existing dataset)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from toolkit import fileio
from toolkit.staged import StagedWrites


def test_nothing_is_renamed_until_every_file_is_on_disk(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")
    with StagedWrites() as batch:
        batch.write_text(tmp_path / "a.txt", "new a")
        assert (tmp_path / "a.txt").read_text() == "old a"
        batch.write_text(tmp_path / "new" / "deep" / "b.txt", "b")
        assert not (tmp_path / "new" / "deep" / "b.txt").exists()
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert (tmp_path / "new" / "deep" / "b.txt").read_text() == "b"
    assert batch.committed == [tmp_path / "a.txt", tmp_path / "new" / "deep" / "b.txt"]


def test_an_error_leaves_every_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("old a")
    calls = []

    def write(fd, data):
        calls.append(len(data))
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)

    monkeypatch.setattr(fileio, "_os_write", write)
    with pytest.raises(OSError) as info, StagedWrites() as batch:
        batch.write_text(tmp_path / "a.txt", "new a")
        batch.backup(tmp_path / "a.txt", stamp="20260101-000000")
        batch.write_text(tmp_path / "new" / "c.txt", "c")
    assert info.value.filename == str(tmp_path / "new" / "c.txt")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt"]  # no temp, no backup, no new folder
    assert (tmp_path / "a.txt").read_text() == "old a"


def test_a_backup_takes_its_name_before_the_file_changes(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("original")
    with StagedWrites() as batch:
        first = batch.backup(target, stamp="20260101-000000")
        second = batch.backup(target, stamp="20260101-000000")
        batch.write_text(target, "fixed")
    assert batch.committed == [first, second, target]
    assert first.name == "x.csv.bak-20260101-000000" and second.name == "x.csv.bak-20260101-000000-1"
    assert first.read_text() == second.read_text() == "original"
