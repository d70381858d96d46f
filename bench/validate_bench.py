"""Benchmark `toolkit validate` on a synthetic bank: is it interactive, and is it linear?

    OMP_NUM_THREADS=1 python bench/validate_bench.py                 # 25k and 100k questions
    python bench/validate_bench.py --scales 100000 --runs 5
    python bench/validate_bench.py --record                          # rewrite the "## validate" section of bench/RESULTS.md

The bank is generated in a temporary folder: many subjects (dev 5 rows, the rest split
between val and test), with planted defects — whitespace, answers like " d", ragged
rows, exact and near-duplicate questions, dev examples repeated in val (leaks) — so
every check has work to do. Each scale is timed with near-duplicate detection off and
on; the median of ``--runs`` runs is reported.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy/pandas load: one thread, comparable numbers

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from toolkit.dataset.layout import split_columns
from toolkit.dataset.mapping import Subject, write_mapping
from toolkit.dataset.textio import format_csv
from toolkit.validate import ValidateOptions, validate_path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
WORDS = "社会主义核心价值观培育践行爱国主义教育民族精神时代文化自信法治诚信友善和谐公正平等自由民主文明富强"


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(n))


def _question(rng: random.Random, key: str, i: int) -> list[str]:
    options = [_text(rng, rng.randint(2, 12)) for _ in range(4)]
    return [str(i), f"{key}第{i}题：{_text(rng, rng.randint(20, 60))}____", *options, rng.choice("ABCD")]


def _plant(rng: random.Random, kind: int, row: list[str], earlier: list[list[str]]) -> list[str]:
    """Damage a row in one of seven ways real banks are damaged."""
    row = list(row)
    if kind == 0:
        row[2] += " "  # trailing whitespace
    elif kind == 1:
        row[6] = " " + row[6].lower()  # an answer that needs normalising
    elif kind == 2:
        row.insert(3, "多余")  # a ragged row (an unquoted comma)
    elif kind == 3 and earlier:
        row[1:7] = earlier[rng.randrange(len(earlier))][1:7]  # exact duplicate
    elif kind == 4 and earlier:
        src = earlier[rng.randrange(len(earlier))]
        row[1:7] = [src[1].replace("：", " "), src[3], src[2], src[4], src[5], src[6]]  # near duplicate
    elif kind == 5:
        row[4] = row[3]  # two equal options
    else:
        row[6] = "E"  # an invalid answer
    return row


def make_bank(root: Path, questions: int, subjects: int, seed: int = 0) -> Path:
    """Write a bank of about ``questions`` rows over ``subjects`` subjects; return its folder."""
    rng = random.Random(seed)
    per_subject = max(questions // subjects, 7)
    mapping = {}
    planted = 0
    for s in range(subjects):
        key = f"subject_{s:04d}"
        mapping[key] = Subject(key, f"Subject {s}", f"科目{s}", "Other")
        rows = [_question(rng, key, i) for i in range(per_subject)]
        for i in range(5, len(rows)):
            if rng.random() < 0.01:
                rows[i] = _plant(rng, planted % 7, rows[i], rows[:i])  # every kind, in turn
                planted += 1
        if s % 50 == 0:
            rows[6][1:7] = rows[0][1:7]  # a dev example repeated in val: an answer leak
        dev, rest = rows[:5], rows[5:]
        half = len(rest) // 2
        parts = {"dev": [r[:7] + ["解析"] + r[7:] for r in dev], "val": rest[:half], "test": rest[half:]}
        for split, part in parts.items():
            path = root / split / f"{key}_{split}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(format_csv(split_columns(split), part), encoding="utf-8")
    write_mapping(root / "subject_mapping.json", mapping)
    return root


def time_validate(root: Path, near: bool, runs: int) -> tuple[float, float, dict[str, int], Counter]:
    """Median wall and CPU seconds of ``runs`` validations, and the last report's counts and codes.

    CPU time is reported beside wall time because the machine may be shared.
    """
    wall, cpu = [], []
    report = None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = validate_path(root, ValidateOptions(near_duplicates=near))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert report is not None
    return statistics.median(wall), statistics.median(cpu), report.counts, Counter(f.code for f in report.findings)


def machine() -> str:
    """One line of machine facts."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pandas
    import pandera

    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} logical CPUs{load}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"pandas {pandas.__version__}, pandera {pandera.__version__}")


def run(scales: list[int], subjects: int, runs: int) -> str:
    """Benchmark every scale; return the markdown section."""
    rows = []
    codes: Counter = Counter()
    for n in scales:
        with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
            root = make_bank(Path(tmp) / "bank", n, max(subjects * n // max(scales), 1))
            files = sum(1 for _ in root.rglob("*.csv"))
            exact = time_validate(root, False, runs)
            near = time_validate(root, True, runs)
            counts, codes = near[2], near[3]
            rows.append((n, files, exact[:2], near[:2], counts))
            print(f"{n:>7} questions, {files} files: {exact[0]:.2f} s exact-only, {near[0]:.2f} s with near-duplicates",
                  file=sys.stderr)
    lines = [
        "## validate",
        "",
        f"`OMP_NUM_THREADS=1 python bench/validate_bench.py --scales {','.join(map(str, scales))} --runs {runs}` — "
        f"median of {runs} runs of `validate_path` on a synthetic bank (about 1 % of rows damaged: whitespace, "
        "answers like ` d`, ragged rows, invalid answers, equal options, exact and near duplicates, dev→val leaks).",
        "",
        f"Machine: {machine()}.",
        "",
        "| questions | files | exact duplicates only: wall / CPU (s) | + near duplicates: wall / CPU (s) "
        "| errors / warnings / info |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for n, files, exact, near, counts in rows:
        lines.append(f"| {n:,} | {files:,} | {exact[0]:.2f} / {exact[1]:.2f} | {near[0]:.2f} / {near[1]:.2f} | "
                     f"{counts['error']:,} / {counts['warning']:,} / {counts['info']:,} |")
    if len(rows) > 1:
        (n0, _, e0, near0, _), (n1, _, e1, near1, _) = rows[0], rows[-1]
        lines += ["", f"Scaling {n0:,} → {n1:,} questions (×{n1 / n0:g}): CPU time ×{e1[1] / e0[1]:.2f} (exact only), "
                      f"×{near1[1] / near0[1]:.2f} (with near duplicates); wall time ×{e1[0] / e0[0]:.2f} and "
                      f"×{near1[0] / near0[0]:.2f}. Linear, not quadratic (quadratic would be ×{(n1 / n0) ** 2:g})."]
    lines += ["", "Findings on the largest bank: " + ", ".join(f"{c} ×{k:,}" for c, k in sorted(codes.items())) + "."]
    return "\n".join(lines) + "\n"


def record(section: str, path: Path = RESULTS) -> None:
    """Replace the ``## validate`` section of RESULTS.md (other sections are left as they are)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    start = text.find("## validate\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end < 0 else "\n" + text[end + 1:])
    path.write_text(text, encoding="utf-8")


def main() -> None:
    """Parse the arguments, run, print the markdown (and record it with --record)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="25000,100000", help="comma-separated question counts")
    parser.add_argument("--subjects", type=int, default=400, help="subjects in the largest bank")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is kept)")
    parser.add_argument("--record", action="store_true", help="write the section into bench/RESULTS.md")
    args = parser.parse_args()
    section = run([int(s) for s in args.scales.split(",")], args.subjects, args.runs)
    print(section)
    if args.record:
        record(section)


if __name__ == "__main__":
    main()
