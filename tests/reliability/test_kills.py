"""SIGKILL at seeded random points of new-dataset, validate --fix and eval (issue 9, "How it is judged").

Each command runs as a real process (forked from a preloaded server, so the kill lands
in its work, not in Python's start-up) and is killed at moments drawn from a seeded
generator: half anywhere in a clean run's duration, half in the span where a clean run
writes its files. After every kill: each source file is byte-identical or completely
rewritten, nothing half-written carries a real name, the next run (or ``-r``) finishes
the job and removes what the killed one left, and no traceback ever reaches the user.
The counts go to the end-of-run report (and to the notes of whoever runs it).
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

from reliability_harness import (
    KILLS,
    SEED,
    STATS,
    Run,
    digest,
    hidden,
    kill_points,
    no_traceback,
    snapshot,
    write_bank,
    write_sheet,
    write_window,
)


def _campaign(name: str, total: float, window: tuple[float, float], attempt) -> None:
    """Kill at seeded points until ``KILLS`` runs were really killed; ``attempt(delay, n)`` runs one, checks it, returns it.

    ``total`` is a clean run's duration and ``window`` the span in which it wrote; the
    points are kept inside 95 % of ``total`` so that most land before the run ends.
    """
    rng = random.Random(f"{SEED}-{name}")
    stats = STATS[name]
    end = 0.95 * total
    tries = 0
    while stats["kills"] < KILLS:
        tries += 1
        assert tries <= 5 * KILLS, f"{name}: only {stats['kills']} of {tries} runs were killed before they ended"
        run = attempt(kill_points(rng, 2, end, (min(window[0], end), min(window[1], end)))[tries % 2], tries)
        if not run.killed:  # faster than the clean run: aim earlier from now on
            end = min(end, 0.95 * run.seconds)


def test_new_dataset_killed_anywhere_leaves_no_dataset_or_the_whole_one(forkserver, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "src" / "bank.csv", 8_000)
    sheet_digest = digest(sheet)
    args = ["new-dataset", "bank", "--from", sheet, "--root", "data"]
    (tmp_path / "clean").mkdir()
    clean = forkserver.run(args, tmp_path / "clean")
    assert clean.exit == 0, clean.stderr
    reference = snapshot(tmp_path / "clean" / "data" / "bank")
    stats = STATS["new-dataset (8,000-row sheet)"]

    def attempt(delay: float, n: int) -> Run:
        cwd = tmp_path / f"kill{n}"
        cwd.mkdir()
        run = forkserver.run(args, cwd, kill_after=delay)
        no_traceback(run)
        assert digest(sheet) == sheet_digest  # the source is never touched
        bank, root = cwd / "data" / "bank", cwd / "data"
        if not run.killed:
            stats["finished before the kill"] += 1
            assert run.exit == 0 and snapshot(bank) == reference
            return run
        stats["kills"] += 1
        if bank.exists():
            stats["dataset complete"] += 1
            assert snapshot(bank) == reference
            assert hidden(root) == []
            return run
        stats["dataset absent"] += 1
        if root.exists() and hidden(root):
            stats["staging folder left by the kill"] += 1
        again = forkserver.run(args, cwd)  # the next write finishes the job and removes what the kill left
        no_traceback(again)
        assert again.exit == 0, again.stderr
        assert snapshot(bank) == reference and hidden(root) == []
        return run

    _campaign("new-dataset (8,000-row sheet)", clean.seconds,
              write_window(tmp_path / "clean" / "data", clean.started), attempt)


def test_validate_fix_killed_anywhere_leaves_each_file_old_or_new(forkserver, tmp_path: Path) -> None:
    template = write_bank(tmp_path / "template" / "bank", subjects=4, rows=300, messy=True)
    original = snapshot(template)
    args = ["validate", "bank", "--fix", "--json"]
    shutil.copytree(template.parent, tmp_path / "clean")
    clean = forkserver.run(args, tmp_path / "clean")
    assert clean.exit == 0, clean.stderr
    fixed = {k: v for k, v in snapshot(tmp_path / "clean" / "bank").items() if ".bak-" not in k}
    changed = sorted(k for k in original if fixed[k] != original[k])
    assert len(changed) == 4
    stats = STATS["validate --fix in place (4 files, 1,200 rows)"]

    def check(bank: Path) -> int:
        """Every file old or new, every backup complete; returns how many files were rewritten."""
        now = snapshot(bank)
        rewritten = 0
        for name, data in original.items():
            assert now[name] in (data, fixed[name]), f"{name} is neither the old nor the fixed file"
            if now[name] != data:
                rewritten += 1
                assert any(k.startswith(f"{name}.bak-") for k in now), f"{name} rewritten without a backup"
        for name, data in now.items():
            if Path(name).name.startswith("."):
                continue  # a temporary file of the killed run: no real name, removed by the next run
            if ".bak-" in name:
                assert data == original[name.split(".bak-")[0]], f"{name} is not a complete backup"
            else:
                assert name in original, f"unexpected file {name}"
        return rewritten

    def attempt(delay: float, n: int) -> Run:
        cwd = tmp_path / f"kill{n}"
        shutil.copytree(template.parent, cwd)
        run = forkserver.run(args, cwd, kill_after=delay)
        no_traceback(run)
        rewritten = check(cwd / "bank")
        if not run.killed:
            stats["finished before the kill"] += 1
            return run
        stats["kills"] += 1
        stats["no file rewritten" if rewritten == 0 else "all rewritten" if rewritten == 4 else "some rewritten"] += 1
        if hidden(cwd / "bank"):
            stats["temporary files left by the kill"] += 1
        again = forkserver.run(args, cwd)
        no_traceback(again)
        assert again.exit == 0, again.stderr
        check(cwd / "bank")
        assert {k: v for k, v in snapshot(cwd / "bank").items() if ".bak-" not in k} == fixed
        assert hidden(cwd / "bank") == []  # the next run removed what the killed one left
        return run

    _campaign("validate --fix in place (4 files, 1,200 rows)", clean.seconds,
              write_window(tmp_path / "clean" / "bank" / "val", clean.started), attempt)


def _records(run_dir: Path) -> dict[str, int]:
    """Whole records saved per dataset, as ``-r`` will find them: a final file with its key, else the partial files."""
    saved: dict[str, int] = {}
    pred = run_dir / "predictions" / "fake-model"
    for path in (pred / ".partial").glob("*.jsonl") if (pred / ".partial").is_dir() else []:
        lines = path.read_bytes().split(b"\n")[1:-1]  # the key line; a torn tail (even mid-character) has no newline
        saved[path.name.split(".")[0]] = saved.get(path.name.split(".")[0], 0) + len(lines)
    for path in pred.glob("*.json") if pred.is_dir() else []:
        if (pred / ".keys" / f"{path.stem}.key").is_file():
            saved[path.stem] = len(json.loads(path.read_text(encoding="utf-8")))
    return saved


def test_eval_killed_anywhere_resumes_to_the_same_predictions(forkserver, tmp_path: Path) -> None:
    write_bank(tmp_path / "data" / "bank", subjects=2, rows=400, messy=False)
    assert forkserver.run(["gen-config", "data/bank"], tmp_path).exit == 0
    sources = snapshot(tmp_path / "data") | {f"configs/{k}": v for k, v in snapshot(tmp_path / "configs").items()}
    base = ["eval", "--datasets", "bank_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base"]
    clean = forkserver.run([*base, "--display", "none", "-w", "out/clean"], tmp_path)
    assert clean.exit == 0, clean.stderr
    clean_run = next((tmp_path / "out" / "clean").iterdir())
    reference = snapshot(clean_run / "predictions")
    results = {k: json.loads(v)["accuracy"] for k, v in snapshot(clean_run / "results").items()}
    stats = STATS["eval (FakeModel, 2 datasets, 800 questions)"]

    def attempt(delay: float, n: int) -> Run:
        work = f"out/kill{n}"
        run = forkserver.run([*base, "--display", "none", "-w", work], tmp_path, kill_after=delay)
        no_traceback(run)
        if not run.killed:
            stats["finished before the kill"] += 1
            return run
        stats["kills"] += 1
        runs = list((tmp_path / work).iterdir()) if (tmp_path / work).is_dir() else []
        saved = _records(runs[0]) if runs else {}
        stats["killed before any prediction was saved" if not sum(saved.values()) else
              "killed with every prediction saved" if sum(saved.values()) == 800 else
              "killed mid-inference"] += 1
        if runs and [p for p in hidden(runs[0]) if p.suffix == ".tmp"]:
            stats["temporary files left by the kill"] += 1
        resumed = forkserver.run([*base, "--display", "plain", "-w", work, "-r"], tmp_path)
        no_traceback(resumed)
        assert resumed.exit == 0, resumed.stderr
        starts = re.findall(r"\] (bank-s\d): (\d+)/\d+ done, starting", resumed.stderr)  # the plain display's line
        assert sorted(abbr for abbr, _ in starts) == ["bank-s0", "bank-s1"], resumed.stderr
        for abbr, done in starts:  # -r resumes at exactly what was saved: nothing lost, nothing inferred twice
            assert int(done) == saved.get(abbr, 0), f"{abbr}: resumed at {done}, {saved.get(abbr, 0)} were saved"
        run_dir = next((tmp_path / work).iterdir())
        assert snapshot(run_dir / "predictions") == reference  # the same predictions as a clean run, byte for byte
        assert {k: json.loads(v)["accuracy"] for k, v in snapshot(run_dir / "results").items()} == results
        assert [p.name for p in hidden(run_dir)] == [".keys"]  # no .tmp, no .partial, no .lock
        return run

    _campaign("eval (FakeModel, 2 datasets, 800 questions)", clean.seconds,
              write_window(clean_run, clean.started), attempt)
    assert snapshot(tmp_path / "data") | {f"configs/{k}": v for k, v in snapshot(tmp_path / "configs").items()} == sources
