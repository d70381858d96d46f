"""A built wheel carries templates/ and schemas/, and `new-dataset` works from it anywhere.

Builds the wheel with pip (which fetches the hatchling build backend from PyPI, hence
``slow``), installs it with ``pip install --no-deps --target`` into a fresh folder, and runs
``python -m toolkit`` with only that folder on PYTHONPATH, from an unrelated working
directory — so nothing can come from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "import" / "bank_utf8.csv"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_ships_data_folders_and_runs_new_dataset_from_anywhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(REPO), "-w", str(wheels)], cwd=tmp_path)
    (wheel,) = wheels.glob("toolkit-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "schemas"):
        shipped = {n for n in names if n.startswith(f"toolkit/{folder}/")}
        assert shipped, f"the wheel has no toolkit/{folder}/"
        in_repo = {f"toolkit/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}
        assert in_repo <= names, sorted(in_repo - names)
    assert "toolkit/templates/DATASHEET.md.j2" in names

    target = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}

    where = run([sys.executable, "-c", "import toolkit, toolkit.resources as r; print(toolkit.__file__); "
                 "print(r.templates_dir()); print(r.schemas_dir())"], cwd=elsewhere, env=env).stdout.split()
    assert all(Path(p).is_relative_to(target) for p in where), where

    done = run([sys.executable, "-m", "toolkit", "new-dataset", "bank", "--from", str(FIXTURE), "--subject", "bank",
                "--name-zh", "题库"], cwd=elsewhere, env=env)
    assert "read 7 rows from 1 file, wrote 7, skipped 0" in done.stderr
    sheet = (elsewhere / "data" / "bank" / "DATASHEET.md").read_text(encoding="utf-8")
    assert "| `bank` | Bank | 题库 | Other | 5 | 2 | 0 |" in sheet
