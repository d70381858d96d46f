"""The GPU path, measured: one command that checks our engine's correctness and speed on one GPU.

    python bench/gpu_check.py --out DIR                 # on the GPU machine (bench/gpu_run.sh wraps it)
    python bench/gpu_check.py --smoke --out DIR \\
        --tokenizer TOKENIZER_DIR --ceval CEVAL_DIR      # on a CPU, a tiny config, in seconds (a test runs it)

No network and no weights: a ~1B and a ~8B Llama-shaped model (``gpu_models.SHAPES``) are built
with random weights on the GPU from configs, with the demo model's tokenizer; C-Eval's ``dev``/``val``
files (all 52 subjects, 1,346 questions, 5-shot) come from ``--ceval``. In bf16 it checks and
measures, within ``--budget-s`` (450 s: the issue's 8 minutes, less the machine's start):

1. correctness: prefix-cached vs uncached scoring (choice, ppl), our early-stopping generation vs
   plain greedy ``model.generate``, several batch sizes (``gpu_phases``);
2. out-of-memory halving under a real memory cap, and two workers on one GPU (``gpu_robust``);
3. speed of our choice, ppl and gen modes on every question against the bare-forward limit and the
   naive uncached path of lm-eval/OpenCompass: questions/s, prompt tokens/s, ratios, peak memory, MFU.

It writes ``gpu_check.json`` (everything) and ``gpu_check.md`` (tables, checks, targets) to ``--out``
after every step, prints the markdown at the end, and exits 1 when a check failed or a phase broke.
``bench/gpu_prep.py`` gathers what the GPU machine needs and prints the exact call.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))  # this checkout's toolkit, also without an install (the GPU machine)

from gpu_context import DEFAULT_BUDGET_S, Budget, Context, free_memory  # noqa: E402
from gpu_report import render, verdicts  # noqa: E402

PREPARED = REPO / ".gpu"
"""Where ``bench/gpu_prep.py`` puts the wheels, the C-Eval files and the tokenizer (ignored by git)."""
DEMO_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()
SHARED_CEVAL = REPO.parent / "shared" / "data" / "ceval"

GPU_DEFAULTS = {"models": "1b,8b", "batch_size": 64, "naive_batch_size": 16, "limit_batch_sizes": "8,32,128",
                "sweep_batch_sizes": "1,4", "sweep_questions": 48, "oom_batch_size": 64, "worker_subjects": 6,
                "questions_per_subject": None, "max_subjects": None, "max_out_len": 16, "dtype": "bfloat16",
                "device": "auto"}
SMOKE_DEFAULTS = {"models": "smoke-1b,smoke-8b", "batch_size": 8, "naive_batch_size": 4, "limit_batch_sizes": "2,8",
                  "sweep_batch_sizes": "1,3", "sweep_questions": 4, "oom_batch_size": 8, "worker_subjects": 2,
                  "questions_per_subject": 4, "max_subjects": 4, "max_out_len": 6, "dtype": "float32", "device": "cpu"}


def log(ctx: Any, message: str) -> None:
    print(f"[{ctx.budget.elapsed():6.1f}s] {message}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or HERE / "results" / "gpu_check"))
    p.add_argument("--smoke", action="store_true", help="CPU, tiny models, a few questions: proves the script in seconds")
    p.add_argument("--tokenizer", type=Path, help="the demo model's tokenizer files (default: .gpu/tokenizer, else the demo model)")
    p.add_argument("--ceval", type=Path, help="C-Eval dev/ and val/ CSVs (default: .gpu/ceval, else ../shared/data/ceval)")
    p.add_argument("--work", type=Path, help="scratch folder for run folders and the saved model (default: a temp folder)")
    p.add_argument("--models", help="shapes to build; the first one also serves the correctness, OOM and worker checks")
    p.add_argument("--skip", default="", help="comma list of phases to leave out: naive, correctness, oom, workers")
    p.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S)
    p.add_argument("--subjects", help="comma list of C-Eval subjects (default: every subject in --ceval)")
    p.add_argument("--questions-per-subject", type=int)
    p.add_argument("--max-subjects", type=int, help="at most this many subjects, spread over the categories (--smoke: 4)")
    p.add_argument("--batch-size", type=int, help="ours' batch size (rows), as --batch-size of toolkit eval")
    p.add_argument("--naive-batch-size", type=int)
    p.add_argument("--limit-batch-sizes", help="the limit runs at each and keeps the fastest")
    p.add_argument("--sweep-batch-sizes", help="ours at these batch sizes too, against --batch-size")
    p.add_argument("--sweep-questions", type=int)
    p.add_argument("--oom-batch-size", type=int)
    p.add_argument("--worker-subjects", type=int)
    p.add_argument("--max-out-len", type=int, help="gen mode's max_out_len (16; --smoke: 6)")
    p.add_argument("--max-seq-len", type=int, default=4096)
    p.add_argument("--scale", type=float, default=8.0, help="every weight matrix × this (answers that vary by question)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cuda", "cpu"))
    p.add_argument("--dtype", choices=("bfloat16", "float16", "float32"))
    args = p.parse_args(argv)
    for key, value in (SMOKE_DEFAULTS if args.smoke else GPU_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _ints(text: str) -> list[int]:
    return [int(x) for x in str(text).split(",") if x.strip()]


def pick_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The tokenizer and C-Eval folders: given, else prepared (``.gpu/``), else the demo model and ``../shared``."""
    tok = args.tokenizer or next((p for p in (PREPARED / "tokenizer", DEMO_MODEL) if (p / "tokenizer_config.json").is_file()), None)
    ceval = args.ceval or next((p for p in (PREPARED / "ceval", SHARED_CEVAL) if (p / "val").is_dir()), None)
    if tok is None or ceval is None:
        missing = "a tokenizer (--tokenizer)" if tok is None else "C-Eval data (--ceval)"
        raise SystemExit(f"gpu_check: no {missing}; run `python bench/gpu_prep.py` first, or name it")
    return tok, ceval


def stage_data(src: Path, dst: Path, subjects: list[str] | None, per_subject: int | None,
               max_subjects: int | None = None) -> list[str]:
    """C-Eval's layout under ``dst`` for every subject of ``src`` that the stock config knows (in its order;
    at most ``max_subjects``, spread over the config's categories): ``dev`` whole, ``val`` cut to
    ``per_subject`` rows, ``test`` a header row (the engine wants the file)."""
    from gpu_ours import ceval_datasets

    known = [d.name for d in ceval_datasets("gen", None)]
    have = [s for s in known if (src / "val" / f"{s}_val.csv").is_file() and (src / "dev" / f"{s}_dev.csv").is_file()]
    chosen = [s for s in have if subjects is None or s in subjects]
    if max_subjects is not None and len(chosen) > max_subjects:  # evenly through the config's order (by category)
        chosen = [chosen[(k * len(chosen)) // max_subjects] for k in range(max_subjects)]
    if not chosen:
        raise SystemExit(f"gpu_check: no C-Eval subject found in {src} (want dev/<subject>_dev.csv and val/<subject>_val.csv)")
    for split in ("dev", "val", "test"):
        (dst / split).mkdir(parents=True, exist_ok=True)
    for s in chosen:
        (dst / "dev" / f"{s}_dev.csv").write_bytes((src / "dev" / f"{s}_dev.csv").read_bytes())
        with open(src / "val" / f"{s}_val.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        keep = rows if per_subject is None else rows[:1 + per_subject]
        with open(dst / "val" / f"{s}_val.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(keep)
        header = [c for c in rows[0] if c != "answer"]
        (dst / "test" / f"{s}_test.csv").write_text(",".join(header) + "\n", encoding="utf-8")
    return chosen


def machine_facts(device: str) -> dict[str, Any]:
    import torch
    import transformers
    from gpu_models import gpu_memory

    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    if not commit and (PREPARED / "source.json").is_file():  # the GPU machine's copy has no .git: what gpu_prep saw
        source = json.loads((PREPARED / "source.json").read_text(encoding="utf-8"))
        commit = f"{source.get('commit', '')}{' with changes' if source.get('dirty') else ''} (at gpu_prep)"
    mem = gpu_memory() if device == "cuda" else None
    return {"gpu": f"{mem['name']}, {mem['total_bytes'] / 2**30:.0f} GiB" if mem else None, "gpu_memory": mem,
            "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "toolkit_commit": commit}


def setup(args: argparse.Namespace) -> Context:
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from toolkit.models.hf import DEFAULT_TOKENIZER_KWARGS

    hf_logging.set_verbosity_error()
    budget = Budget(args.budget_s)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: --device cuda, but torch sees no CUDA device")
    if device == "cpu" and not args.smoke:
        raise SystemExit("gpu_check: no CUDA device; the full check needs a GPU (use --smoke on a CPU)")
    tok_dir, ceval_src = pick_paths(args)
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    args.out.mkdir(parents=True, exist_ok=True)
    subjects = stage_data(ceval_src, work / "data" / "ceval", args.subjects.split(",") if args.subjects else None,
                          args.questions_per_subject, args.max_subjects)
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir), **DEFAULT_TOKENIZER_KWARGS)
    if tokenizer.pad_token_id is None:  # as HFModel.load does
        tokenizer.pad_token_id = tokenizer.eos_token_id
    settings = {k: getattr(args, k) for k in ("batch_size", "naive_batch_size", "sweep_questions", "oom_batch_size",
                                               "worker_subjects", "max_out_len", "max_seq_len", "scale", "seed",
                                               "questions_per_subject", "max_subjects")}
    settings.update(limit_batch_sizes=_ints(args.limit_batch_sizes), sweep_batch_sizes=_ints(args.sweep_batch_sizes))
    ctx = Context(args.out, work, work / "data" / "ceval", tok_dir, tokenizer, device, getattr(torch, args.dtype),
                  args.smoke, budget, subjects, settings, render=render)
    ctx.result.update(command="python bench/gpu_check.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                      started=time.strftime("%Y-%m-%d %H:%M:%S"), smoke=args.smoke, budget_s=args.budget_s,
                      machine=machine_facts(device), settings=settings,
                      inputs={"tokenizer": str(tok_dir), "ceval": str(ceval_src), "subjects": len(subjects)})
    ctx.save()
    return ctx


def run_model(ctx: Context, name: str, *, first: bool, skip: set[str], folder: Path) -> bool:
    """One model's phases; the first model is also saved to ``folder`` for the OOM and worker checks."""
    from gpu_phases import ModelPhase

    phase = ModelPhase(ctx, name, correctness=first)
    saved = False
    try:
        steps = [("build", phase.build), ("ours", phase.run_ours_all), ("limit", phase.run_limit_sweep),
                 ("speed", phase.speed_rows)]
        if "naive" not in skip:
            steps.append(("naive", phase.naive_all))
        if first and "correctness" not in skip:
            steps.append(("correctness", phase.correctness_runs))
        for label, step in steps:
            log(ctx, f"{name}: {label} …")
            step()
        if first and not {"oom", "workers"} <= skip:
            log(ctx, f"{name}: saving to {folder} …")
            phase.save_to(folder)
            saved = True
    except Exception as err:  # noqa: BLE001 - one model's failure is reported; the other phases still run
        traceback.print_exc()
        ctx.error(name, err)
    finally:
        phase.close()
        ctx.save()
    return saved


def robustness(ctx: Context, name: str, folder: Path, *, saved: bool, skip: set[str]) -> None:
    """The out-of-memory and worker checks on the first model, saved to ``folder``."""
    from gpu_robust import oom_phase, workers_phase

    for phase in ("oom", "workers"):
        ctx.budget.done(phase)
        if phase in skip:
            continue
        if not saved:
            ctx.skip(phase, f"the {name} model was not saved (see errors)")
            continue
        simulated = " (out of memory SIMULATED on CPU: no allocator to cap)" if phase == "oom" and not ctx.cuda else ""
        log(ctx, f"{phase}{simulated} …")
        try:
            if phase == "oom":
                oom_phase(ctx, folder, name)
            else:
                workers_phase(ctx, folder)
        except Exception as err:  # noqa: BLE001 - reported in the JSON, the check goes on
            traceback.print_exc()
            ctx.error(phase, err)
        free_memory()
        ctx.save()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # worker processes (python -m toolkit.engine.worker) import this checkout's toolkit too
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    ctx = setup(args)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    ctx.budget.still_to_come = [p for p in ("oom", "workers") if p not in skip] + models[1:]
    log(ctx, f"{ctx.device}, {ctx.settings}, {len(ctx.subjects)} subjects; out: {args.out}; work: {ctx.work}")
    folder = ctx.work / "saved-model"
    for k, name in enumerate(models):
        ctx.budget.done(name)
        if k and not ctx.budget.can_start(name):
            ctx.skip(name, f"{ctx.budget.left():.0f} s left of the {args.budget_s:.0f} s budget: not enough to build and time it")
            continue
        saved = run_model(ctx, name, first=k == 0, skip=skip, folder=folder)
        if k == 0:
            robustness(ctx, name, folder, saved=saved, skip=skip)
    checks = verdicts(ctx.result)
    ctx.result["verdicts"] = checks
    ctx.result["ok"] = not ctx.result.get("errors") and all(c["met"] is not False for c in checks if c["kind"] == "check")
    ctx.save()
    log(ctx, f"done: {'all checks passed' if ctx.result['ok'] else 'SOME CHECKS FAILED'}; {args.out}")
    print(render(ctx.result))
    return 0 if ctx.result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
