"""Helpers of the fault-injection suite: the fork server client, workloads, snapshots, and the counts it reports."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

STATS: dict[str, Counter] = defaultdict(Counter)
"""Per campaign: kills, outcomes, debris seen and removed — printed at the end of the pytest run."""
NOTES: list[str] = []
"""Lines for the end-of-run report (which full-disk layer ran, the seed, timings)."""

SEED = int(os.environ.get("TOOLKIT_FAULT_SEED", "20261204"))
KILLS = int(os.environ.get("TOOLKIT_FAULT_KILLS", "20"))
HEADER = ["id", "question", "A", "B", "C", "D", "answer"]


@dataclass(frozen=True)
class Run:
    """One command's end: its exit status or the signal that ended it, and what it printed."""

    exit: int | None
    signal: int | None
    seconds: float
    started: float
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.signal == 9


class ForkServer:
    """Runs ``toolkit ARGS`` as real child processes of a preloaded server (see forkserver.py)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("forkserver.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "COLUMNS": "100", "OMP_NUM_THREADS": "1"})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline())
        assert "ready" in ready, ready
        self.count = 0

    def run(self, args: list[str], cwd: Path, *, kill_after: float | None = None, env: dict | None = None) -> Run:
        self.count += 1
        out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
        request = {"args": [str(a) for a in args], "cwd": str(cwd), "stdout": str(out), "stderr": str(err),
                   "env": env or {}, "kill_after": kill_after}
        started = time.time()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        done = json.loads(self.proc.stdout.readline())
        return Run(done["exit"], done["signal"], done["seconds"], started, _text(out), _text(err))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _text(path: Path) -> str:
    """What a run printed there ("" when it was killed before it opened the file)."""
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path → its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hidden(root: Path, allowed: tuple[str, ...] = ()) -> list[Path]:
    """Hidden entries (temporary files, staging folders) under ``root``, except the ``allowed`` names."""
    return sorted(p for p in root.rglob(".*") if p.name not in allowed)


def write_window(root: Path, started: float) -> tuple[float, float]:
    """When, after ``started``, a clean run wrote the files under ``root`` (by their modification times)."""
    times = [p.stat().st_mtime - started for p in root.rglob("*") if p.is_file()]
    times = [t for t in times if t >= -0.5] or [0.0]
    return max(0.0, min(times) - 0.02), max(times) + 0.02


def kill_points(rng: random.Random, n: int, total: float, window: tuple[float, float]) -> list[float]:
    """``n`` seeded moments: half anywhere in a clean run's duration, half in the span where it writes."""
    lo, hi = window
    return [rng.uniform(0, total) if i % 2 == 0 else rng.uniform(lo, min(hi, total)) for i in range(n)]


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr[-3000:]


def write_sheet(path: Path, rows: int, seed: int = 1) -> Path:
    """A sheet to import: stray whitespace and lower-case answers, as people type them."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(HEADER)
        for i in range(rows):
            out.writerow([i, f" 第{i}题：社会主义核心价值观的内容之一是____（{rng.randrange(10**6)}）", "富强 ", " 民主",
                          "文明", f"和谐{i}", rng.choice("ABCDabcd") + rng.choice(["", " "])])
    return path


def write_bank(root: Path, subjects: int, rows: int, *, messy: bool, seed: int = 2) -> Path:
    """A C-Eval-layout bank (``s<k>`` subjects); ``messy``: every val file needs ``--fix``."""
    rng = random.Random(seed)
    mapping = {}
    for k in range(subjects):
        name = f"s{k}"
        mapping[name] = [f"Subject {k}", f"科目{k}", "Other"]
        for split in ("dev", "val", "test"):
            (root / split).mkdir(parents=True, exist_ok=True)
        with open(root / "dev" / f"{name}_dev.csv", "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow([*HEADER, "explanation"])
            for i in range(5):
                out.writerow([i, f"示例{i}：{name}的第{i}个例题是什么", "甲", "乙", "丙", f"丁{i}", "ABCD"[i % 4], ""])
        with open(root / "val" / f"{name}_val.csv", "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(HEADER)
            for i in range(rows):
                answer = rng.choice("ABCD")
                question = f"{name}第{i}题：下列说法正确的是（{rng.randrange(10**6)}）"
                if messy:
                    question, answer = f" {question} ", f" {answer.lower()}"
                out.writerow([i, question, f"选项甲{i}", "选项乙", "选项丙", f"选项丁{rng.randrange(1000)}", answer])
        (root / "test" / f"{name}_test.csv").write_text(",".join(HEADER) + "\n", encoding="utf-8")
    (root / "subject_mapping.json").write_text(json.dumps(mapping, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return root


def report_lines() -> list[str]:
    lines = [f"seed {SEED} (TOOLKIT_FAULT_SEED), {KILLS} kills per command (TOOLKIT_FAULT_KILLS)"]
    for name, counts in sorted(STATS.items()):
        lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return lines + NOTES
