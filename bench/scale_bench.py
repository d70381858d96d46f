"""Scale: is time linear in the number of questions and memory flat? (issue 6, item 3)

    python bench/scale_bench.py growth  --sizes 250,500,1000,2000      # real model, synthetic bank, choice mode
    python bench/scale_bench.py fake    --sizes 12500,25000,50000,100000  # FakeModel: the pipeline's own overhead
    python bench/scale_bench.py ceval   --sample 'ceval-operating_system' # full C-Eval val (1,346 q): measure a sample, extrapolate
    python bench/scale_bench.py ceval   --all                             # …or run all 52 subjects for real (hours on 2 cores)

Each part runs ``toolkit eval`` as a subprocess (procmon: wall time, peak RSS of the
process tree; inference time from the run's manifest, model load excluded), writes
``bench/results/scale_<part>.json`` and rewrites the ``## scale`` section of
``bench/RESULTS.md`` from all the scale results present.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from procmon import thread_env  # noqa: E402
from resultsmd import machine_facts, write_section  # noqa: E402
from scale_report import linear_fit, render_scale  # noqa: E402
from synthetic import make_bank  # noqa: E402
from tools import run_ours  # noqa: E402

DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()


def _toolkit() -> list[str]:
    return [sys.executable, "-m", "toolkit"]


def _common(args: argparse.Namespace, config_dir: Path | None) -> dict[str, Any]:
    return {"config_dir": config_dir, "model": args.model, "max_seq_len": args.max_seq_len, "max_out_len": 16,
            "batch_size": args.batch_size}


def _point(run: Any, n: int) -> dict[str, Any]:
    return {"questions": n, "ok": run.ok, "wall_seconds": run.wall_seconds, "infer_seconds": run.infer_seconds,
            "peak_rss_mb": run.peak_rss_mb, "load_avg": run.load_avg, "log": run.log}


def growth(args: argparse.Namespace, *, backend: str) -> dict[str, Any]:
    """One synthetic bank per size (same subjects), choice mode, real model or FakeModel."""
    points = []
    for n in args.sizes:
        work = args.work / f"{backend}_{n}"
        subprocess.run(["rm", "-rf", str(work)], check=True)
        subjects = -(-n // args.per_subject) if args.per_subject else args.subjects
        make_bank(work / "data", "synth", n, subjects=subjects)
        subprocess.run([*_toolkit(), "gen-config", str(work / "data" / "synth"), "--out",
                        str(work / "configs" / "datasets" / "synth"), "--abs-path", "--mode", "gen",
                        "--shots", str(args.shots)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        extra = ["--backend", "fake"] if backend == "fake" else []
        run = run_ours(_toolkit(), "choice", ["synth_gen"], _common(args, work / "configs"), work=work,
                       env=thread_env(args.threads), tag=str(n), extra=extra)
        if backend == "fake":  # no model to load: the whole inference phase is the pipeline's own work
            run.infer_seconds = run.extra.get("manifest_timings", {}).get("infer_seconds", run.infer_seconds)
        points.append(_point(run, n))
        print(f"[{time.strftime('%H:%M:%S')}] {backend} N={n}: {points[-1]}", file=sys.stderr, flush=True)
    ok = [p for p in points if p["ok"] and p["infer_seconds"] is not None]
    fit = linear_fit([p["questions"] for p in ok], [p["infer_seconds"] for p in ok]) if len(ok) >= 2 else None
    subjects = f"{args.per_subject:,} questions per subject" if args.per_subject else f"{args.subjects} subjects"
    return {"backend": backend, "subjects": subjects, "shots": args.shots, "points": points, "fit": fit}


def ceval(args: argparse.Namespace) -> dict[str, Any]:
    """Full C-Eval val, 5-shot (the stock config), choice mode: unique tokens of all 52 subjects, timed on a sample (or all)."""
    data = ["--data-path", f"opencompass/ceval-exam={args.shared / 'ceval'}"]
    common = _common(args, None)
    # the prompts of all 1,346 questions, rendered by our engine with the FakeModel (seconds, no network)
    fake = run_ours(_toolkit(), "choice", ["ceval_gen"], common, work=args.work / "render", env=thread_env(args.threads),
                    tag="all", extra=[*data, "--backend", "fake"])
    tokens = _unique_tokens(args.model, fake.predictions)
    patterns = ["*"] if args.all else args.sample
    run = run_ours(_toolkit(), "choice", ["ceval_gen"], common, work=args.work / "real", env=thread_env(args.threads),
                   tag="all" if args.all else "sample", extra=[*data, "--abbr", *patterns])
    sample_tokens = sum(tokens["per_subject"][a]["unique"] for a in run.predictions)
    per_token = run.infer_seconds / sample_tokens if run.ok and run.infer_seconds and sample_tokens else None
    return {"subjects": len(tokens["per_subject"]), "questions": tokens["questions"], "unique_tokens": tokens["unique"],
            "prompt_tokens": tokens["prompt"], "sample": patterns, "sample_questions": sum(len(v) for v in run.predictions.values()),
            "sample_unique_tokens": sample_tokens, "run": _point(run, sum(len(v) for v in run.predictions.values())),
            "seconds_per_unique_token": per_token,
            "estimated_infer_seconds": round(per_token * tokens["unique"], 1) if per_token else None,
            "max_seq_len": args.max_seq_len}


def _unique_tokens(model: Path, predictions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from transformers import AutoTokenizer

    sys.path.insert(0, str(HERE))
    from limit_forward import common_prefix

    tok = AutoTokenizer.from_pretrained(str(model))
    per_subject = {}
    for abbr, recs in predictions.items():
        seqs = [tok(r["origin_prompt"], add_special_tokens=True)["input_ids"] for r in recs.values()]
        p = common_prefix(seqs) if len(seqs) > 1 else 0
        per_subject[abbr] = {"questions": len(seqs), "prefix": p, "unique": p + sum(len(s) - p for s in seqs),
                             "prompt": sum(len(s) for s in seqs)}
    return {"per_subject": per_subject, "questions": sum(v["questions"] for v in per_subject.values()),
            "unique": sum(v["unique"] for v in per_subject.values()), "prompt": sum(v["prompt"] for v in per_subject.values())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=("growth", "fake", "ceval"))
    p.add_argument("--sizes", help="comma list of bank sizes (growth: 250,500,1000,2000; fake: 12500,…,100000)")
    p.add_argument("--subjects", type=int, default=10, help="subjects of the synthetic bank")
    p.add_argument("--per-subject", type=int, help="instead of --subjects: this many questions per subject")
    p.add_argument("--tag", default="", help="suffix of the results file (scale_<part><tag>.json), to keep variants apart")
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--sample", nargs="+", default=["ceval-operating_system", "ceval-basic_medicine"],
                   help="ceval: --abbr patterns of the subjects timed for real")
    p.add_argument("--all", action="store_true", help="ceval: time all 52 subjects for real")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-seq-len", type=int, default=4096)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    p.add_argument("--work", type=Path, default=Path("/tmp/toolkit-scale"))
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args(argv)
    default_sizes = {"growth": "250,500,1000,2000", "fake": "12500,25000,50000,100000"}.get(args.part, "")
    args.sizes = [int(x) for x in (args.sizes or default_sizes).split(",") if x]
    args.work = (args.work / (args.part + args.tag)).resolve()
    started = time.time()
    result = growth(args, backend="hf") if args.part == "growth" else growth(args, backend="fake") if args.part == "fake" else ceval(args)
    result.update(part=args.part, command="python bench/scale_bench.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
                  started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
                  total_seconds=round(time.time() - started, 1), threads=args.threads, machine=machine_facts())
    out = HERE / "results" / f"scale_{args.part}{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    parts = {f.stem.removeprefix("scale_"): json.loads(f.read_text()) for f in sorted(out.parent.glob("scale_*.json"))}
    text = render_scale(parts)
    print(text)
    if not args.no_record:
        write_section(HERE / "RESULTS.md", "scale", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
