"""The benchmark's question set: C-Eval val and CMMLU subjects, cut to N questions, with generated configs.

Both datasets land in ``<work>/data`` in the C-Eval layout and get their configs
from ``toolkit gen-config`` (absolute data paths), so OpenCompass and our engine read
the very same files through the very same config files:

* C-Eval: the chosen subjects' ``dev``/``test`` files copied, ``val`` cut to the
  first K rows; the mapping is C-Eval's own (Chinese names in the prompt);
* CMMLU (no val split): a ``dev``/``test`` source folder cut the same way, imported
  with ``toolkit new-dataset`` (CMMLU layout recognised) and configured with
  ``--split test``.

The default subjects are those with the shortest 5-shot prompts for the demo
model's tokenizer (C-Eval 870–1,010 tokens, CMMLU 720–735), because the peers'
cost grows with the prompt length times the number of questions and the machine
is a shared 2-core CPU.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CEVAL_SUBJECTS = ("discrete_mathematics", "plant_protection", "operating_system", "basic_medicine",
                  "art_studies", "college_chemistry", "ideological_and_moral_cultivation")
CMMLU_SUBJECTS = ("traditional_chinese_medicine", "journalism", "elementary_commonsense", "anatomy", "arts")
CMMLU_NAMES_ZH = {
    "traditional_chinese_medicine": "中医中药", "journalism": "新闻学", "elementary_commonsense": "小学常识",
    "anatomy": "解剖学", "arts": "艺术学", "agronomy": "农学", "astronomy": "天文学", "computer_science": "计算机科学",
}
"""Chinese subject names for the prompt (OpenCompass's CMMLU names); others fall back to the English key."""


@dataclass(frozen=True)
class BenchData:
    """Where the prepared data and configs are, and what they hold."""

    root: Path
    config_dir: Path
    counts: Mapping[str, Mapping[str, int]]
    """dataset → subject → questions."""

    @property
    def questions(self) -> int:
        """Total questions across both datasets."""
        return sum(sum(c.values()) for c in self.counts.values())

    def datasets(self, mode: str) -> list[str]:
        """The ``--datasets`` names for a config mode (``gen`` or ``ppl``)."""
        return [f"{name}_{mode}" for name in self.counts]


def allocate(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` questions as evenly as possible over subjects, none above its size.

    Subjects are kept in order; what a small subject cannot take goes to the others.

    Example:
        >>> allocate(10, {"a": 2, "b": 10, "c": 10})
        {'a': 2, 'b': 4, 'c': 4}
    """
    if total > sum(sizes.values()):
        raise ValueError(f"only {sum(sizes.values())} questions available, {total} asked")
    out = {k: 0 for k in sizes}
    left = total
    open_keys = [k for k in sizes if sizes[k] > 0]
    while left and open_keys:
        share, extra = divmod(left, len(open_keys))
        for i, key in enumerate(open_keys):
            take = min(sizes[key] - out[key], share + (1 if i < extra else 0))
            out[key] += take
            left -= take
        open_keys = [k for k in open_keys if out[k] < sizes[k]]
    return out


def split_total(questions: int) -> tuple[int, int]:
    """C-Eval gets half (rounded up), CMMLU the rest.

    Example:
        >>> split_total(301)
        (151, 150)
    """
    ceval = (questions + 1) // 2
    return ceval, questions - ceval


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write_head(src: Path, dst: Path, keep: int) -> None:
    """Copy ``src`` with only its first ``keep`` data rows (header kept, cells unchanged)."""
    header, rows = _csv_rows(src)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows[:keep])
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(buf.getvalue(), encoding="utf-8")


def _data_rows(path: Path) -> int:
    return len(_csv_rows(path)[1])


def _write_mapping(path: Path, mapping: Mapping[str, Sequence[str]]) -> None:
    """C-Eval's mapping format, one subject per line."""
    lines = ",\n".join(f"    {json.dumps(k)}: {json.dumps(list(v), ensure_ascii=False)}" for k, v in mapping.items())
    path.write_text("{\n" + lines + "\n}\n", encoding="utf-8")


def prepare_ceval(shared: Path, root: Path, subjects: Sequence[str], total: int) -> dict[str, int]:
    """C-Eval subset at ``root/ceval``; returns subject → questions."""
    src = shared / "ceval"
    counts = allocate(total, {s: _data_rows(src / "val" / f"{s}_val.csv") for s in subjects})
    counts = {s: n for s, n in counts.items() if n}
    dst = root / "ceval"
    mapping = json.loads((src / "subject_mapping.json").read_text(encoding="utf-8"))
    for s, n in counts.items():
        for split in ("dev", "test"):
            (dst / split).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / split / f"{s}_{split}.csv", dst / split / f"{s}_{split}.csv")
        _write_head(src / "val" / f"{s}_val.csv", dst / "val" / f"{s}_val.csv", n)
    _write_mapping(dst / "subject_mapping.json", {s: mapping[s] for s in counts})
    return counts


def prepare_cmmlu(shared: Path, root: Path, work: Path, subjects: Sequence[str], total: int,
                  toolkit: Sequence[str]) -> dict[str, int]:
    """CMMLU subset imported with ``toolkit new-dataset`` at ``root/cmmlu``; returns subject → questions."""
    src = shared / "cmmlu"
    counts = allocate(total, {s: _data_rows(src / "test" / f"{s}.csv") for s in subjects})
    counts = {s: n for s, n in counts.items() if n}
    staged = work / "cmmlu_source"
    for s, n in counts.items():
        (staged / "dev").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "dev" / f"{s}.csv", staged / "dev" / f"{s}.csv")
        _write_head(src / "test" / f"{s}.csv", staged / "test" / f"{s}.csv", n)
    subprocess.run([*toolkit, "new-dataset", "cmmlu", "--root", str(root), "--from", str(staged), "--format", "cmmlu",
                    "--language", "zh"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the import names a subject by its key; the prompt wants the Chinese name, as the import's note says to edit
    path = root / "cmmlu" / "subject_mapping.json"
    mapping = json.loads(path.read_text(encoding="utf-8"))
    for key, entry in mapping.items():
        entry[1] = CMMLU_NAMES_ZH.get(key, entry[1])
    _write_mapping(path, mapping)
    return counts


def prepare(shared: Path, work: Path, questions: int, *, toolkit: Sequence[str],
            ceval_subjects: Sequence[str] = CEVAL_SUBJECTS, cmmlu_subjects: Sequence[str] = CMMLU_SUBJECTS) -> BenchData:
    """Build both datasets and their gen/ppl configs under ``work`` (replacing earlier ones); with no CMMLU
    subjects every question comes from C-Eval."""
    root = work / "data"
    config_dir = work / "configs"
    for old in (root, config_dir, work / "cmmlu_source"):
        shutil.rmtree(old, ignore_errors=True)
    n_ceval, n_cmmlu = split_total(questions) if cmmlu_subjects else (questions, 0)
    counts: dict[str, dict[str, int]] = {}
    if n_ceval:
        counts["ceval"] = prepare_ceval(shared, root, ceval_subjects, n_ceval)
    if n_cmmlu:
        counts["cmmlu"] = prepare_cmmlu(shared, root, work, cmmlu_subjects, n_cmmlu, toolkit)
    for name in counts:
        split = "val" if name == "ceval" else "test"
        subprocess.run([*toolkit, "gen-config", str(root / name), "--out", str(config_dir / "datasets" / name),
                        "--abs-path", "--split", split, "--shots", "5"], check=True, stdout=subprocess.DEVNULL)
    return BenchData(root, config_dir, counts)
