"""Where our choice-mode time goes: per-phase timers and a torch.profiler table, on real subjects.

    python bench/profile_choice.py --config-dir /tmp/sp/configs --datasets ceval_gen --out prof.json
    python bench/profile_choice.py ... --torch-profile 15      # also the top ops of torch.profiler

Loads the demo model through our HF backend (fp32 on CPU unless ``--dtype``), builds the
prompts and score requests exactly as ``toolkit eval --infer-mode choice`` does, and runs
them with timers wrapped around the backend's pieces (the engine itself is not changed):

* tokenisation — ``HFModel.encode`` (prompt building counts tokens through it too);
* prefix pass — ``Forwarder.prefill`` (or the prefix tree's extend passes);
* question pass — the model call inside ``Forwarder.run`` (the batched question rows; padded or packed);
* batching/padding — the rest of ``Forwarder.run``: id/position tensors, the 4-D mask, cache views,
  the packed logits laid out per row;
* softmax/gather — ``Scorer._run`` after its forward pass: log-softmax, the letters' NLLs;
* other Python — everything else in the window: prompt rendering, planning, records.

CPU seconds are this process's (``time.process_time``); wall seconds beside them.
``--backend-option`` passes ``key=value`` to ``HFModel.load`` (e.g. ``compile=true``).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()


class Timers:
    """Nested-safe phase timers: a phase's time excludes the inner phases it encloses."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []

    def wrap(self, owner: Any, attr: str, phase: str, *, within: dict[str, str] | None = None) -> None:
        """Time ``owner.attr`` as ``phase``; ``within`` renames it when called inside another phase."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = (within or {}).get(self._stack[-1][0], phase) if self._stack else phase
            frame = [name, time.process_time(), time.perf_counter(), 0.0, 0.0]
            self._stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                self._stack.pop()
                cpu = time.process_time() - frame[1]
                wall = time.perf_counter() - frame[2]
                self.cpu[name] += cpu - frame[3]
                self.wall[name] += wall - frame[4]
                self.calls[name] += 1
                if self._stack:  # the enclosing phase does not count this time again
                    self._stack[-1][3] += cpu
                    self._stack[-1][4] += wall

        setattr(owner, attr, timed)


def _parse_options(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = {"true": True, "false": False}.get(value.lower(), int(value) if value.isdigit() else value)
    return out


def agreement(ref: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """Same predictions on how many questions, and the largest difference of a letter's score.

    Example:
        >>> a = {"predictions": {"d": {"0": "A", "1": "B"}}, "scores": {"d": {"0": {"A": 1.0}, "1": {"B": 2.0}}}}
        >>> b = {"predictions": {"d": {"0": "A", "1": "C"}}, "scores": {"d": {"0": {"A": 1.5}, "1": {"B": 2.0}}}}
        >>> agreement(a, b)
        {'compared': 2, 'same': 1, 'largest_score_difference': 0.5}
    """
    same = compared = 0
    largest = 0.0
    for ds, preds in ref["predictions"].items():
        for key, pred in preds.items():
            if key not in got["predictions"].get(ds, {}):
                continue
            compared += 1
            same += got["predictions"][ds][key] == pred
            a, b = ref["scores"][ds].get(key) or {}, got["scores"][ds].get(key) or {}
            largest = max([largest, *(abs(a[k] - b[k]) for k in a if k in b)])
    return {"compared": compared, "same": same, "largest_score_difference": round(largest, 6)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config-dir", type=Path, required=True)
    p.add_argument("--datasets", nargs="+", default=["ceval_gen"])
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--max-seq-len", type=int, default=2048)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--mode", default="choice", choices=["choice", "ppl", "gen"])
    p.add_argument("--dtype", default="float32")
    p.add_argument("--backend-option", action="append", default=[], help="key=value for HFModel.load")
    p.add_argument("--torch-profile", type=int, default=0, help="also print torch.profiler's top N ops")
    p.add_argument("--out", type=Path, help="JSON results")
    p.add_argument("--reference", type=Path, help="an earlier --out JSON (e.g. fp32): count the answers that agree")
    args = p.parse_args(argv)

    import torch

    from toolkit.config.loader import load_datasets
    from toolkit.config.spec import ModelSpec
    from toolkit.engine.data import load_ceval_splits
    from toolkit.engine.inference import DatasetInference
    from toolkit.engine.params import InferParams
    from toolkit.models import hf, hf_forward, hf_score
    from toolkit.models.hf import HFModel

    timers = Timers()
    timers.wrap(hf.HFModel, "encode", "tokenisation")
    timers.wrap(hf_forward.Forwarder, "prefill", "prefix pass")
    timers.wrap(hf_forward.Forwarder, "run", "batching/padding")
    timers.wrap(hf_forward.Forwarder, "_call", "question pass", within={"prefix pass": "prefix pass"})
    timers.wrap(hf_score.Scorer, "_run", "softmax/gather")
    try:  # the packed path (absent from engines before issue 14, which this script also profiles)
        from toolkit.models import hf_packed

        timers.wrap(hf_packed.PackedForward, "forward", "question pass", within={"prefix pass": "prefix pass"})
    except ImportError:
        pass

    spec = ModelSpec(abbr="demo", path=str(args.model), hf_type="base", batch_size=args.batch_size,
                     max_seq_len=args.max_seq_len, num_gpus=0, model_kwargs={"torch_dtype": args.dtype})
    t_load = time.perf_counter()
    model = HFModel.load(spec, device="cpu", **_parse_options(args.backend_option))
    load_seconds = time.perf_counter() - t_load
    timers.__init__()  # the packed path's self-check at load is not inference
    datasets = load_datasets(args.datasets, args.config_dir)
    params = InferParams(mode=args.mode, max_seq_len=args.max_seq_len, max_out_len=16)
    splits = {d.abbr: load_ceval_splits(d.path, d.name) for d in datasets}

    predictions: dict[str, dict[int, str]] = {}
    scores: dict[str, dict[int, Any]] = {}
    prof = None
    if args.torch_profile:
        prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True)
        prof.__enter__()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    questions = 0
    for d in datasets:
        inference = DatasetInference(model, d, splits[d.abbr], params)
        for batch in inference.run():
            for rec in batch:
                predictions.setdefault(d.abbr, {})[rec["index"]] = rec["prediction"]
                scores.setdefault(d.abbr, {})[rec["index"]] = rec.get("scores")
                questions += 1
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if prof is not None:
        prof.__exit__(None, None, None)
    phases = {k: round(v, 3) for k, v in sorted(timers.cpu.items())}
    phases["other Python"] = round(cpu - sum(timers.cpu.values()), 3)
    result = {
        "datasets": [d.abbr for d in datasets], "questions": questions, "mode": args.mode, "dtype": args.dtype,
        "options": _parse_options(args.backend_option), "threads": torch.get_num_threads(),
        "load_seconds": round(load_seconds, 2), "cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3),
        "phases_cpu": phases, "phases_wall": {k: round(v, 3) for k, v in sorted(timers.wall.items())},
        "calls": dict(timers.calls), "load_avg": [round(x, 2) for x in os.getloadavg()],
        "predictions": {k: {str(i): v for i, v in sorted(p.items())} for k, p in predictions.items()},
        "scores": {k: {str(i): v for i, v in sorted(s.items())} for k, s in scores.items()},
    }
    if prof is not None:
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.torch_profile)
        result["torch_profile"] = table
        print(table, file=sys.stderr)
    if args.reference:
        result["agreement"] = agreement(json.loads(args.reference.read_text(encoding="utf-8")), result)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("predictions", "scores", "torch_profile")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
