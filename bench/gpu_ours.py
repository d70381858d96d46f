"""Our engine in the GPU check, through its public face: ``run_eval(EvalRunSpec)`` on OpenCompass's C-Eval
configs (``ceval_gen`` for gen and choice, ``ceval_ppl`` for ppl), and the comparisons of answers.

A run either gets an already-built model (``model=``, an :class:`~toolkit.models.hf.HFModel` around the
random-weight model on the GPU, which is how the speed runs avoid writing 15 GB of weights) or loads
the model from a folder as ``toolkit eval`` does (the out-of-memory and worker checks). Its time is
the manifest's ``infer_seconds`` (prompt building, tokenising, inference, prediction files), the
device synchronised at both ends; ``per_dataset`` holds each dataset's own inference seconds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gpu_paths import Item

if TYPE_CHECKING:
    from toolkit.engine.spec import DeviceName, InferMode

CEVAL_ID = "opencompass/ceval-exam"
"""The data path OpenCompass's C-Eval configs name; ``--data-path`` maps it to a local folder."""


class Recorder:
    """A :class:`toolkit.engine.events.Display` that keeps every event with the time it arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, Any]] = []

    def handle(self, model: str, event: Any) -> None:
        self.events.append((time.perf_counter(), model, event))

    def close(self) -> None:
        pass

    def of(self, kind: str) -> list[Any]:
        return [e for _, _, e in self.events if getattr(e, "KIND", "") == kind]

    def max_open(self) -> int:
        """The most datasets inferring at once (more than one: several workers ran together)."""
        open_now = most = 0
        for _, _, event in self.events:
            kind = getattr(event, "KIND", "")
            if kind == "start":
                open_now += 1
                most = max(most, open_now)
            elif kind in ("finish", "error"):
                open_now = max(0, open_now - 1)
        return most


@dataclass
class OursRun:
    """One ``run_eval`` call and what it left."""

    mode: str
    seconds: float | None
    wall_seconds: float
    predictions: dict[str, dict[str, dict[str, Any]]]
    """dataset abbr → question key → prediction record."""
    per_dataset: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    peak_bytes: int | None = None
    run_dir: str = ""
    max_open: int = 1
    loaded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def questions(self) -> int:
        return sum(len(v) for v in self.predictions.values())

    def flat(self) -> dict[str, dict[str, Any]]:
        """``abbr/index`` → record."""
        return {f"{abbr}/{k}": rec for abbr, recs in self.predictions.items() for k, rec in recs.items()}

    def summary(self) -> dict[str, Any]:
        """What the JSON keeps (no predictions)."""
        return {"mode": self.mode, "questions": self.questions, "seconds": self.seconds,
                "wall_seconds": round(self.wall_seconds, 3), "peak_gib": gib(self.peak_bytes),
                "warnings": self.warnings[:10], "warning_count": len(self.warnings), "failed": self.failed,
                "run_dir": self.run_dir, "datasets_at_once": self.max_open}


def gib(value: float | None) -> float | None:
    """Bytes → GiB, 2 decimals (None stays None)."""
    return None if value is None else round(value / 2**30, 2)


def ceval_datasets(kind: str, subjects: Iterable[str] | None) -> tuple[Any, ...]:
    """The stock ``ceval_gen``/``ceval_ppl`` datasets (val split), only ``subjects`` when given, in config order."""
    from toolkit.config.loader import load_datasets

    wanted = None if subjects is None else set(subjects)
    return tuple(d for d in load_datasets([f"ceval_{kind}"]) if wanted is None or d.name in wanted)


def read_predictions(run_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``predictions/<model>/<abbr>.json`` of a run folder's one model."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for folder in sorted(p for p in (run_dir / "predictions").iterdir() if p.is_dir()):
        for file in sorted(folder.glob("*.json")):
            out[file.stem] = json.loads(file.read_text(encoding="utf-8"))
    return out


class RunFailed(RuntimeError):
    """A run in which some dataset failed (the engine's own messages)."""


def run_ours(datasets: Sequence[Any], model_spec: Any, *, mode: str, work: Path, data_dir: Path, device: str,
             model: Any = None, max_workers: int = 1, gpus: int = 0, strict: bool = True) -> OursRun:
    """``run_eval`` in ``mode`` on ``datasets`` (a fresh run folder under ``work``); ``strict``: a failed
    dataset raises :class:`RunFailed` (else it is listed in ``failed``)."""
    import torch

    from toolkit.engine import EvalRunSpec, run_eval

    if mode not in ("gen", "ppl", "choice") or device not in ("cpu", "cuda"):
        raise ValueError(f"run_ours: mode {mode!r}, device {device!r}")
    spec = EvalRunSpec(datasets=tuple(datasets), models=(model_spec,), work_dir=str(work), infer_mode=cast("InferMode", mode),
                       data_paths={CEVAL_ID: str(data_dir)}, validate=False, device=cast("DeviceName", device),
                       max_workers=max_workers, num_gpus=gpus)
    recorder = Recorder()
    cuda = device == "cuda" and torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    outcome = run_eval(spec, display=recorder, models={model_spec.abbr: model} if model is not None else None)
    if cuda:
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    run = OursRun(mode, outcome.manifest.get("timings", {}).get("infer_seconds"), wall, read_predictions(outcome.run_dir),
                  run_dir=str(outcome.run_dir), max_open=recorder.max_open())
    run.per_dataset = {e.abbr: e.seconds for e in recorder.of("finish") if e.seconds is not None}
    run.warnings = [e.message for e in recorder.of("warning")]
    run.failed = [f"{r.abbr}: {r.error}" for r in outcome.failed] + [f"{e.abbr}: {e.error}" for e in recorder.of("error")]
    run.loaded = [dict(e.describe) for e in recorder.of("loaded")]
    in_process = model is not None or max_workers <= 1  # worker processes' memory is not this process's
    run.peak_bytes = int(torch.cuda.max_memory_allocated()) if cuda and in_process else None
    if strict and run.failed:
        raise RunFailed(f"{mode} run in {run.run_dir}: " + "; ".join(dict.fromkeys(run.failed)))
    return run


def make_items(choice: OursRun, tokenizer: Any, *, ppl: OursRun | None = None) -> list[Item]:
    """The questions of a choice run as token ids: its gen prompts, each completed by ``"\\n" + letter`` (the
    C-Eval gen template's choice candidates for a base model), the ppl run's label prompts when given,
    and the header stop string the gen run adds."""
    from toolkit.engine.inference import header_stop

    flat = choice.flat()
    ppl_flat = ppl.flat() if ppl is not None else {}
    keys = list(flat)
    labels = {k: tuple(flat[k]["scores"]) for k in keys}
    texts = [flat[k]["origin_prompt"] for k in keys]
    prompts = _encode(tokenizer, texts)
    cands = _encode(tokenizer, [t + "\n" + letter for t, k in zip(texts, keys) for letter in labels[k]])
    ppl_texts = [ppl_flat[k][f"label: {letter}"]["prompt"] for k in keys if k in ppl_flat for letter in labels[k]]
    ppl_cands = iter(_encode(tokenizer, ppl_texts)) if ppl_texts else iter(())
    items, pos = [], 0
    for k, text, prompt in zip(keys, texts, prompts):
        n = len(labels[k])
        stop = header_stop(text)
        items.append(Item(k, k.split("/")[0], prompt, tuple(cands[pos:pos + n]),
                          tuple(next(ppl_cands) for _ in range(n)) if k in ppl_flat else (), labels[k],
                          (stop,) if stop else ()))
        pos += n
    return items


def _encode(tokenizer: Any, texts: list[str]) -> list[tuple[int, ...]]:
    if not texts:
        return []
    return [tuple(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]


def label_values(run: OursRun, field_name: str = "scores") -> dict[str, list[float]]:
    """Per question, the value of each label in label order: ``scores`` (label NLLs) or ``PPL``."""
    out: dict[str, list[float]] = {}
    for key, rec in run.flat().items():
        labels = list(rec["scores"])
        out[key] = [rec["scores"][x] for x in labels] if field_name == "scores" else [rec[f"label: {x}"]["PPL"] for x in labels]
    return out


def agreement(ref: Mapping[str, Sequence[float]], other: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Same argmin (first on ties, as OpenCompass's ``index(min)``) on the questions both have; the largest
    difference of any label's value; flips listed with the reference's margin (best vs second best). A flip
    whose margin is below twice the largest difference seen is a near tie that rounding can turn.

    Example:
        >>> agreement({"q": [1.0, 2.0]}, {"q": [1.1, 2.0]})["same"]
        1
    """
    keys = [k for k in ref if k in other]
    diffs = [abs(a - b) for k in keys for a, b in zip(ref[k], other[k])]
    biggest = max(diffs, default=0.0)
    flips: list[dict[str, Any]] = []
    for k in keys:
        a, b = list(ref[k]), list(other[k])
        if a.index(min(a)) != b.index(min(b)):
            ranked = sorted(a)
            flips.append({"key": k, "ref": a.index(min(a)), "other": b.index(min(b)),
                          "ref_margin": round(ranked[1] - ranked[0], 6) if len(ranked) > 1 else None})
    near = sum(1 for f in flips if f["ref_margin"] is not None and f["ref_margin"] <= 2 * biggest)
    n = len(keys)
    return {"compared": n, "same": n - len(flips), "rate": round((n - len(flips)) / n, 6) if n else None,
            "max_abs_diff": round(biggest, 6), "mean_abs_diff": round(sum(diffs) / len(diffs), 6) if diffs else None,
            "flips": flips[:8], "flips_on_near_ties": near}


def same_letters(ref: Mapping[str, str], other: Mapping[str, str]) -> dict[str, Any]:
    """How many questions got the same extracted answer.

    Example:
        >>> same_letters({"a": "B", "b": "C"}, {"a": "B", "b": "D"})["same"]
        1
    """
    keys = [k for k in ref if k in other]
    diff = [{"key": k, "ref": ref[k], "other": other[k]} for k in keys if ref[k] != other[k]]
    n = len(keys)
    return {"compared": n, "same": n - len(diff), "rate": round((n - len(diff)) / n, 6) if n else None,
            "differences": diff[:8]}


def letters(run: OursRun, post: Mapping[str, Any]) -> dict[str, str]:
    """Each question's answer as the dataset's post-processor extracts it (``post``: abbr → post-processor)."""
    return {k: post[k.split("/")[0]](rec["prediction"]) for k, rec in run.flat().items()}


def spread(answers: Iterable[str]) -> dict[str, int]:
    """How often each answer was given (a check on random weights: not one answer for everything).

    Example:
        >>> spread(["A", "B", "A"])
        {'A': 2, 'B': 1}
    """
    return dict(sorted(Counter(answers).items()))
