"""The GPU check's two robustness phases, each on the first model saved to a folder and loaded the way
``toolkit eval`` loads it (``run_eval`` without a preloaded model).

* **Out-of-memory halving, for real.** A reference run measures the peak memory; then
  ``torch.cuda.set_per_process_memory_fraction`` caps this process at the weights plus
  ``OOM_SHARE`` of the reference's working memory, so the first (largest) batch cannot fit. The
  capped run must halve (the engine says so in a warning), finish, and give the same answers.
  On the CPU (``--smoke``) no allocator can be capped, so the cap is simulated in rows, the unit
  that working memory grows with: the reference run records its largest forward, and in the capped
  run the model's ``forward`` raises CUDA's out-of-memory error for any batch over ``OOM_SHARE`` of
  it (fault injection), which runs the engine's own halving code.
* **Two workers on one GPU.** ``--max-num-workers 2`` against one worker on the same questions.
  With one GPU the local runner has one GPU slot, so its two workers run one after the other
  (each ``CUDA_VISIBLE_DEVICES=0``); listing the GPU twice (``CUDA_VISIBLE_DEVICES=0,0`` for the
  runner) gives two slots on it, and the two workers run at the same time on the same GPU. Both
  are checked; ``datasets_at_once`` shows which ran together.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpu_context import Context, free_memory, spread_order
from gpu_models import Shape
from gpu_ours import OursRun, agreement, ceval_datasets, gib, label_values, letters, run_ours, same_letters
from gpu_phases import model_spec

OOM_SHARE = 0.4
"""The capped run may use this share of the reference run's memory beyond the weights."""


@dataclass
class Injected:
    """What :func:`injected_oom` saw: the largest forward (rows) and the batches it refused."""

    largest: int = 0
    refused: list[int] = field(default_factory=list)


@contextmanager
def injected_oom(rows: int | None) -> Iterator[Injected]:
    """On the CPU: every Llama forward over more than ``rows`` rows raises ``torch.cuda.OutOfMemoryError``
    (None: none does; the largest forward is recorded either way)."""
    import torch
    from transformers import LlamaForCausalLM

    from toolkit.models.packed_attention import KWARG as PACKED_KWARG

    seen = Injected()
    original = LlamaForCausalLM.forward

    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        ids = kwargs.get("input_ids", args[0] if args else None)
        packed = getattr(kwargs.get(PACKED_KWARG), "segments", None)  # the CPU's packed path: rows in one sequence
        n = len(packed) if packed is not None else int(ids.shape[0]) if ids is not None else 0
        seen.largest = max(seen.largest, n)
        if rows is not None and n > rows:
            seen.refused.append(n)
            raise torch.cuda.OutOfMemoryError(f"CUDA out of memory (simulated by gpu_check --smoke: {n} rows over a cap of {rows})")
        return original(self, *args, **kwargs)

    LlamaForCausalLM.forward = forward
    try:
        yield seen
    finally:
        LlamaForCausalLM.forward = original


class WorkerWatch:
    """Samples this process's children every 50 ms (Linux ``/proc``): how many worker processes
    (``toolkit.engine.worker``) were alive at once, and the ``CUDA_VISIBLE_DEVICES`` each one got."""

    def __init__(self) -> None:
        self.most = 0
        self.devices: dict[int, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> WorkerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.05):
            alive = [pid for pid in _children(me) if b"toolkit.engine.worker" in _read(f"/proc/{pid}/cmdline")]
            self.most = max(self.most, len(alive))
            for pid in alive:
                if pid not in self.devices:
                    env = dict(x.split(b"=", 1) for x in _read(f"/proc/{pid}/environ").split(b"\0") if b"=" in x)
                    value = env.get(b"CUDA_VISIBLE_DEVICES")
                    self.devices[pid] = value.decode() if value is not None else None

    def summary(self) -> dict[str, Any]:
        return {"workers_alive_at_once": self.most, "workers_CUDA_VISIBLE_DEVICES": list(self.devices.values())}


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _children(parent: str) -> list[int]:
    """Pids whose parent is ``parent`` (``/proc/PID/stat``'s fourth field; none where there is no /proc)."""
    out = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit():
            stat = _read(f"/proc/{name}/stat")
            fields = stat.rsplit(b")", 1)[-1].split()
            if len(fields) > 1 and fields[1] == parent.encode():
                out.append(int(name))
    return out


@contextmanager
def memory_cap(fraction: float) -> Iterator[None]:
    import torch

    torch.cuda.set_per_process_memory_fraction(fraction)
    try:
        yield
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        free_memory()


def _answers(run: OursRun, ref: OursRun, mode: str, post: dict[str, Any]) -> dict[str, Any]:
    if mode == "gen":
        return same_letters(letters(ref, post), letters(run, post))
    return agreement(label_values(ref), label_values(run))


def _largest(ctx: Context, n: int) -> list[str]:
    sizes = {}
    for s in ctx.subjects:
        with open(ctx.data_dir / "val" / f"{s}_val.csv", encoding="utf-8") as fh:
            sizes[s] = sum(1 for _ in fh)
    return sorted(ctx.subjects, key=lambda s: (-sizes[s], s))[:n]


def oom_phase(ctx: Context, folder: Path, name: str) -> None:
    """Reference run, then the same questions under a memory cap (GPU) or injected errors (CPU)."""
    import torch

    entry: dict[str, Any] = ctx.result.setdefault("oom", {})
    subjects = _largest(ctx, 1)
    batch = ctx.settings["oom_batch_size"]
    spec = model_spec(ctx, "oom", str(folder), batch)
    post = _post(subjects)
    entry.update(subjects=subjects, batch_size=batch, simulated=not ctx.cuda,
                 how=("a real memory cap (torch.cuda.set_per_process_memory_fraction)" if ctx.cuda else
                      f"SIMULATED on CPU: no allocator to cap, so every forward over {OOM_SHARE:.0%} of the reference "
                      "run's largest batch (rows) raises torch.cuda.OutOfMemoryError, and the engine's own halving "
                      "code handles it"))
    weights = Shape.of(name, len(ctx.tokenizer)).parameters * torch.tensor([], dtype=ctx.dtype).element_size()
    for mode in ("choice", "gen"):
        sets = ceval_datasets("gen", subjects)
        free_memory()
        with nullcontext(Injected()) if ctx.cuda else injected_oom(None) as seen:
            ref = run_ours(sets, spec, mode=mode, work=ctx.work / "runs" / f"oom-ref-{mode}", data_dir=ctx.data_dir,
                           device=ctx.device, gpus=1 if ctx.cuda else 0)
        free_memory()
        out: dict[str, Any] = {"reference": ref.summary(),
                               "forward_path": "packed" if any(d.get("packed_attention") for d in ref.loaded) else "padded"}
        if ctx.cuda:
            base = torch.cuda.memory_allocated()
            working = max(0, (ref.peak_bytes or 0) - base - weights)
            cap = base + weights + OOM_SHARE * working
            total = torch.cuda.get_device_properties(0).total_memory
            out.update(weights_gib=gib(weights), reference_working_gib=gib(working), cap_gib=gib(cap),
                       fraction=round(cap / total, 5))
            with memory_cap(cap / total):
                run = run_ours(sets, spec, mode=mode, work=ctx.work / "runs" / f"oom-capped-{mode}", data_dir=ctx.data_dir,
                               device=ctx.device, gpus=1, strict=False)
        else:
            cap_rows = max(1, int(OOM_SHARE * seen.largest))
            with injected_oom(cap_rows) as capped:
                run = run_ours(sets, spec, mode=mode, work=ctx.work / "runs" / f"oom-capped-{mode}", data_dir=ctx.data_dir,
                               device=ctx.device, gpus=0, strict=False)
            out.update(reference_largest_rows=seen.largest, cap_rows=cap_rows, refused_batches=capped.refused[:20])
        halvings = [w for w in run.warnings if "out of memory" in w]
        out.update(capped=run.summary(), halvings=len(halvings), said=halvings[:3], answers=_answers(run, ref, mode, post))
        out["ok"] = bool(halvings) and not run.failed and out["answers"]["rate"] == 1.0
        entry[mode] = out
        ctx.save()


def workers_phase(ctx: Context, folder: Path) -> None:
    """One worker, then two (one GPU slot: in turn; the GPU listed twice: together), same answers."""
    entry: dict[str, Any] = ctx.result.setdefault("workers", {})
    subjects = spread_order(ctx.subjects)[:ctx.settings["worker_subjects"]]
    spec = model_spec(ctx, "w", str(folder), ctx.settings["batch_size"])
    sets = ceval_datasets("gen", subjects)
    gpus = 1 if ctx.cuda else 0

    def run(tag: str, workers: int) -> OursRun:
        free_memory()
        return run_ours(sets, spec, mode="choice", work=ctx.work / "runs" / f"workers-{tag}", data_dir=ctx.data_dir,
                        device=ctx.device, max_workers=workers, gpus=gpus)

    one = run("one", 1)
    entry.update(subjects=subjects, one=one.summary())
    variants = [("together", _gpu_twice())] + ([("in_turn", None)] if ctx.cuda else [])
    for tag, visible in variants:
        if tag == "in_turn" and ctx.budget.allot("workers.in_turn") < 2.5 * entry["together"]["wall_seconds"]:
            ctx.skip("two workers in turn", f"not enough time left in the budget ({ctx.budget.left():.0f} s left, "
                                            "time kept for the models still to come)")
            continue
        with _env("CUDA_VISIBLE_DEVICES", visible), WorkerWatch() as watch:
            two = run(tag, 2)
        answers = agreement(label_values(one), label_values(two))
        entry[tag] = {"runner_CUDA_VISIBLE_DEVICES": visible, **two.summary(), **watch.summary(),
                      "worker_devices": sorted({str(d.get("device")) for d in two.loaded}), "answers": answers,
                      "ok": answers["rate"] == 1.0 and answers["compared"] == one.questions}
        ctx.save()


def _gpu_twice() -> str | None:
    """``g,g`` for the first visible GPU ``g`` (None on a machine without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return None
    first = (os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0].strip() or "0"
    return f"{first},{first}"


@contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    old = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _post(subjects: list[str]) -> dict[str, Any]:
    from toolkit.engine.inference import dataset_postprocessor

    return {d.abbr: dataset_postprocessor(d) for d in ceval_datasets("gen", subjects)}
