"""One command: our gen/ppl/choice vs real OpenCompass 0.5.4 (gen, ppl) and lm-eval 0.4.13 (choice), same run.

    python bench/run_bench.py --questions 300            # the full benchmark (an hour or more on 2 CPU cores)
    python bench/run_bench.py --quick                     # a smoke version (4 questions, one repetition)
    python bench/run_bench.py --tools ours,limit          # only some tools

Same machine, model (the demo model, fp32 on CPU), data (C-Eval val + CMMLU, 5-shot,
configs from ``toolkit gen-config``), ``--max-seq-len``/``--max-out-len``/``--batch-size``
and thread pins for every tool. Peers are installed into their own venvs on first use
(``$TOOLKIT_PEERS_DIR``, default ``/work/peers``). Results: ``bench/results/run_bench*.json``
and the ``## run_bench`` section of ``bench/RESULTS.md`` (see ``bench/README.md``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchdata  # noqa: E402
import peers  # noqa: E402
from agreement import compare, letters  # noqa: E402
from bench_report import render_run_bench  # noqa: E402
from lmeval_task import TASK, prompt_rows, sample_choices, write_task  # noqa: E402
from procmon import run_measured, thread_env  # noqa: E402
from resultsmd import machine_facts, write_section  # noqa: E402
from tools import ToolRun, run_lmeval, run_opencompass, run_ours  # noqa: E402

ALL_TOOLS = ("ours", "opencompass", "lm-eval", "limit")
DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--questions", type=int, default=300, help="questions in all (half C-Eval val, half CMMLU test)")
    p.add_argument("--quick", action="store_true", help="smoke version: 4 questions, 1+1 subjects, one repetition")
    p.add_argument("--threads", type=int, default=2, help="OMP/MKL threads for every tool")
    p.add_argument("--repeats", type=int, default=3, help="repetitions of our modes (medians are quoted)")
    p.add_argument("--peer-repeats", type=int, default=1, help="repetitions of each peer run")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-seq-len", type=int, default=2048)
    p.add_argument("--max-out-len", type=int, default=16)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="HF folder loadable by transformers 4.57 and 5.x")
    p.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data", help="C-Eval/CMMLU data root")
    p.add_argument("--work", type=Path, default=Path("/tmp/toolkit-bench"), help="scratch folder (data, runs, logs)")
    p.add_argument("--ceval-subjects", help=f"comma list (default: {','.join(benchdata.CEVAL_SUBJECTS)})")
    p.add_argument("--cmmlu-subjects", help=f"comma list (default: {','.join(benchdata.CMMLU_SUBJECTS)})")
    p.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"comma list of {', '.join(ALL_TOOLS)}")
    p.add_argument("--results", type=Path, help="JSON results file (default bench/results/run_bench[_quick].json)")
    p.add_argument("--no-record", action="store_true", help="do not rewrite the section in bench/RESULTS.md")
    p.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md", help="the Markdown file whose section is rewritten")
    p.add_argument("--render-only", action="store_true", help="re-render RESULTS.md from the --results JSON; run nothing")
    args = p.parse_args(argv)
    if args.quick:
        args.questions, args.repeats, args.peer_repeats = min(args.questions, 4), 1, 1
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(ALL_TOOLS)
    if unknown:
        p.error(f"unknown tools: {', '.join(sorted(unknown))}")
    args.results = args.results or HERE / "results" / ("run_bench_quick.json" if args.quick else "run_bench.json")
    return args


def _median_run(runs: list[ToolRun]) -> dict[str, Any]:
    ok = [r for r in runs if r.ok and r.infer_seconds is not None]
    if not ok:
        return {"ok": False, "runs": len(runs)}
    return {"ok": True, "runs": len(ok), "wall_seconds": round(statistics.median(r.wall_seconds for r in ok), 2),
            "infer_seconds": round(statistics.median(r.infer_seconds for r in ok), 2),  # type: ignore[misc]
            "infer_seconds_all": [r.infer_seconds for r in ok], "wall_seconds_all": [r.wall_seconds for r in ok],
            "peak_rss_mb": round(statistics.median(r.peak_rss_mb for r in ok), 1), "infer_how": ok[0].infer_how,
            "infer_cpu_seconds": _median_or_none([r.infer_cpu_seconds for r in ok]),
            "infer_cpu_seconds_all": [r.infer_cpu_seconds for r in ok]}


def _median_or_none(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return round(statistics.median(real), 2) if real else None


def _accuracy(preds: dict[str, str], golds: dict[str, str]) -> float | None:
    keys = [k for k in preds if k in golds]
    return round(sum(preds[k] == golds[k] for k in keys) / len(keys), 4) if keys else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        result = json.loads(args.results.read_text(encoding="utf-8"))
        title = "run_bench" + (" (quick smoke run)" if result.get("quick") else "")
        write_section(args.results_md, title, render_run_bench(result))
        return 0

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    toolkit = [sys.executable, "-m", "toolkit"]
    env = thread_env(args.threads)
    say = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    kw: dict[str, Any] = {"ceval_subjects": benchdata.CEVAL_SUBJECTS[:1], "cmmlu_subjects": benchdata.CMMLU_SUBJECTS[:1]} if args.quick else {}
    if args.ceval_subjects:
        kw["ceval_subjects"] = args.ceval_subjects.split(",")
    if args.cmmlu_subjects:
        kw["cmmlu_subjects"] = args.cmmlu_subjects.split(",")
    data = benchdata.prepare(args.shared, work, args.questions, toolkit=toolkit, **kw)
    say(f"data: {data.questions} questions {json.dumps(data.counts)}")
    common = {"config_dir": data.config_dir, "model": args.model, "max_seq_len": args.max_seq_len,
              "max_out_len": args.max_out_len, "batch_size": args.batch_size}
    runs: list[ToolRun] = []
    exes: dict[str, Path] = {}
    for name, peer in (("opencompass", peers.OPENCOMPASS), ("lm-eval", peers.LM_EVAL)):
        if name in args.tools:
            exes[name] = peers.ensure_peer(peer, work / "logs" / f"install_{peer.name}.log")

    ours: dict[str, list[ToolRun]] = {"gen": [], "ppl": [], "choice": []}
    peer_runs: dict[str, list[ToolRun]] = {"opencompass gen": [], "lm-eval choice": [], "opencompass ppl": []}
    state: dict[str, Any] = {"limit": None}
    git_state = _git_state()

    def save(final: bool) -> dict[str, Any]:
        result = summarise(ours, peer_runs, state["limit"], runs)
        result.update({
            "benchmark": "run_bench", "quick": args.quick, "complete": final,
            "command": "python bench/run_bench.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)), "total_seconds": round(time.time() - started, 1),
            "machine": machine_facts(), "threads": args.threads, "versions": _versions(args.tools), "git": git_state,
            "settings": {k: str(v) for k, v in common.items()} | {"repeats": args.repeats, "peer_repeats": args.peer_repeats,
                                                                    "dtype": "float32", "device": "cpu", "shots": 5},
            "data": {"questions": data.questions, "counts": data.counts},
        })
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if not args.no_record:  # rewritten after every run, so an interrupted benchmark still leaves its numbers
            text = render_run_bench(result) + ("" if final else "\n(Partial: the benchmark was still running or was interrupted.)\n")
            write_section(args.results_md, "run_bench" + (" (quick smoke run)" if args.quick else ""), text)
        return result

    def record(run: ToolRun, into: list[ToolRun]) -> None:
        say(f"{run.tool} {run.mode}: wall {run.wall_seconds}s, inference {run.infer_seconds}s "
            f"(CPU {run.infer_cpu_seconds}s), peak {run.peak_rss_mb} MB{'' if run.ok else ' — FAILED, see ' + run.log}")
        runs.append(run)
        into.append(run)
        save(final=False)

    if "ours" in args.tools or "lm-eval" in args.tools or "limit" in args.tools:
        for rep in range(args.repeats if "ours" in args.tools else 1):
            for mode in (("gen", "ppl", "choice") if "ours" in args.tools else ("choice",)):
                ds = data.datasets("ppl" if mode == "ppl" else "gen")
                record(run_ours(toolkit, mode, ds, common, work=work, env=env, tag=str(rep)), ours[mode])
    reference = next((r for r in ours["choice"] if r.ok), None)
    if "limit" in args.tools and reference is not None:
        state["limit"] = run_limit(reference, args.model, work=work, env=env)
        say(f"limit: {state['limit'].get('seconds')}s for {state['limit'].get('unique_tokens')} unique tokens")
    for rep in range(args.peer_repeats):  # the slowest (OpenCompass ppl) last
        if "opencompass" in args.tools:
            record(run_opencompass(exes["opencompass"], "gen", data.datasets("gen"), common, work=work, env=env,
                                   tag=str(rep)), peer_runs["opencompass gen"])
        if "lm-eval" in args.tools and reference is not None:
            task_dir = write_task(work / "lmeval_task", prompt_rows(reference.predictions))
            record(run_lmeval(exes["lm-eval"], task_dir, TASK, common, work=work, env=env, tag=str(rep)),
                   peer_runs["lm-eval choice"])
        if "opencompass" in args.tools:
            record(run_opencompass(exes["opencompass"], "ppl", data.datasets("ppl"), common, work=work, env=env,
                                   tag=str(rep)), peer_runs["opencompass ppl"])
    result = save(final=True)
    print(render_run_bench(result))
    say(f"results: {args.results}")
    return 0 if all(r.ok for r in runs) else 1


def run_limit(reference: ToolRun, model: Path, *, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """Time bare forward passes over the unique tokens of our own rendered prompts (see limit_forward.py)."""
    prompts = work / "limit_prompts.jsonl"
    prompts.write_text("".join(json.dumps({"group": abbr, "prompt": rec["origin_prompt"]}, ensure_ascii=False) + "\n"
                               for abbr, recs in sorted(reference.predictions.items())
                               for _, rec in sorted(recs.items(), key=lambda kv: int(kv[0]))), encoding="utf-8")
    out = work / "limit.json"
    out.unlink(missing_ok=True)
    m = run_measured([sys.executable, str(HERE / "limit_forward.py"), "--model", str(model), "--prompts", str(prompts),
                      "--out", str(out)], env=env, log=work / "logs" / "limit.log")
    limit = json.loads(out.read_text()) if m.returncode == 0 and out.is_file() else {"ok": False, "log": str(m.log)}
    limit.update(wall_seconds=round(m.wall_seconds, 2), peak_rss_mb=round(m.peak_rss_bytes / 2**20, 1))
    return limit


def summarise(ours: dict[str, list[ToolRun]], peer_runs: dict[str, list[ToolRun]], limit: dict[str, Any] | None,
              runs: list[ToolRun]) -> dict[str, Any]:
    """Medians, agreement, prompt identity checks and accuracy from the runs so far."""
    from toolkit.engine.scoring.postprocess import first_capital_postprocess

    medians = {f"ours {k}": _median_run(v) for k, v in ours.items() if v}
    medians.update({k: _median_run(v) for k, v in peer_runs.items() if v})
    first_ok = lambda rs: next((r for r in rs if r.ok), None)  # noqa: E731
    preds: dict[str, dict[str, str]] = {}
    for key, rs in [*((f"ours {k}", v) for k, v in ours.items()), *peer_runs.items()]:
        run = first_ok(rs)
        if run is None:
            continue
        if key == "lm-eval choice":
            preds[key] = {k: v["prediction"] for k, v in sample_choices(run.predictions["samples"].values()).items()}
        else:
            preds[key] = letters(run.predictions, first_capital_postprocess if key.endswith("gen") else None)
    agreement: dict[str, Any] = {}
    for left, right in (("ours gen", "opencompass gen"), ("ours ppl", "opencompass ppl"), ("ours choice", "lm-eval choice")):
        if left in preds and right in preds:
            agreement[f"{left} vs {right}"] = compare(preds[left], preds[right]).as_dict()
    for mode, rs in ours.items():  # our own determinism across repetitions
        ok = [r for r in rs if r.ok]
        if len(ok) > 1:
            agreement[f"ours {mode} repeat consistency"] = compare(letters(ok[0].predictions), letters(ok[-1].predictions)).as_dict()
    prompt_checks: dict[str, Any] = {}
    accuracy: dict[str, Any] = {}
    reference = first_ok(ours["choice"])
    if reference is not None:
        ours_prompts = {f"{a}/{i}": r["origin_prompt"] for a, recs in reference.predictions.items() for i, r in recs.items()}
        golds = {f"{a}/{i}": str(r.get("gold", "")).strip() for a, recs in reference.predictions.items() for i, r in recs.items()}
        if (oc := first_ok(peer_runs["opencompass gen"])) is not None:
            theirs = {f"{a}/{i}": r.get("origin_prompt") for a, recs in oc.predictions.items() for i, r in recs.items()}
            prompt_checks["opencompass gen prompts identical to ours"] = compare(ours_prompts, theirs).same
        if (lm := first_ok(peer_runs["lm-eval choice"])) is not None:
            samples = sample_choices(lm.predictions["samples"].values())
            prompt_checks["lm-eval contexts identical to ours"] = sum(samples[k]["context"] == ours_prompts.get(k) for k in samples)
            prompt_checks["lm-eval continuations"] = sorted({c for s in samples.values() for c in s["continuations"]})
        counted = first_ok(ours["gen"]) or reference  # gen records count the gen prompt itself (choice: + the answer)
        prompt_checks["prompt_tokens"] = sum(r.get("prompt_tokens", 0) for recs in counted.predictions.values() for r in recs.values())
        accuracy = {k: _accuracy(v, golds) for k, v in preds.items()}
    return {"medians": medians, "agreement": agreement, "prompt_checks": prompt_checks, "accuracy": accuracy,
            "limit": limit, "runs": [r.summary() for r in runs]}


def _git_state() -> str:
    """The commit the engine ran from, with ``+dirty`` when the working tree differs from it."""
    import subprocess

    def git(*cmd: str) -> str:
        out = subprocess.run(["git", "-C", str(HERE.parent), *cmd], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + ("+dirty" if git("status", "--porcelain", "--untracked-files=no", "--", "toolkit") else "")


def _versions(tools: list[str]) -> dict[str, Any]:
    import importlib.metadata as md

    out: dict[str, Any] = {"ours": {d: md.version(d) for d in ("toolkit", "torch", "transformers")}}
    if "opencompass" in tools:
        out["opencompass"] = peers.versions(peers.OPENCOMPASS)
    if "lm-eval" in tools:
        out["lm-eval"] = peers.versions(peers.LM_EVAL)
    return out


if __name__ == "__main__":
    sys.exit(main())
