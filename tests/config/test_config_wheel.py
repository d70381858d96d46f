"""A built wheel carries toolkit/configs/ and the config templates; gen-config and --datasets work from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from config_builders import EXAMPLE, REPO


def _ok(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_ships_configs_and_gen_config_runs_from_it(tmp_path: Path) -> None:
    _ok([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(REPO), "-w", str(tmp_path / "w")], tmp_path)
    (wheel,) = (tmp_path / "w").glob("toolkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"toolkit/{p.relative_to(REPO / 'toolkit').as_posix()}" for p in (REPO / "toolkit" / "configs").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    templates = {f"toolkit/{p.relative_to(REPO).as_posix()}" for p in (REPO / "templates" / "configs").glob("*.j2")}
    assert shipped and templates and (shipped | templates) <= names

    site = tmp_path / "site"
    _ok([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)], tmp_path)
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE, work / "data" / "bank")
    env = {**os.environ, "PYTHONPATH": str(site)}
    _ok([sys.executable, "-m", "toolkit", "validate", "data/bank", "--fix"], work, env)  # gen-config refuses errors
    out = _ok([sys.executable, "-m", "toolkit", "gen-config", "data/bank", "--name", "bank", "--mode", "gen"], work, env)
    assert "wrote 3 files to configs/datasets/bank" in out
    code = ("from toolkit.config.loader import load_datasets; import toolkit;"
            "specs = load_datasets(['bank_gen', 'ceval_ppl']);"
            f"assert toolkit.__file__.startswith({str(site)!r}), toolkit.__file__;"
            "print(len(specs), specs[1].abbr, specs[1].version)")
    assert _ok([sys.executable, "-c", code], work, env).split() == ["53", "ceval-computer_network", "9b9417"]
