"""Circular evaluation: ours (``toolkit eval`` on a ``gen-config --circular`` config) vs real OpenCompass 0.5.4
running the same config (``CircularCEvalDataset`` + ``CircularEvaluator``, as its ``ceval_circular`` examples do).

    python bench/circular_bench.py                        # 3 C-Eval subjects x 8 val questions, ours 3x, OpenCompass 1x
    python bench/circular_bench.py --tools ours,counters  # without OpenCompass
    python bench/circular_bench.py --render-only          # rewrite the RESULTS.md section from the JSON

What it measures, on the same questions, model (the demo model, fp32, CPU), thread pins and settings:

* time: our plain run (N questions) and our circular run (N x 4 rotations) as whole processes and
  inference windows (wall and CPU), and OpenCompass's circular run;
* agreement: every circular metric (``acc_origin`` … ``perf_circular``) per subject, ours vs OpenCompass's
  result files; the per-variant answers (after ``first_capital_postprocess``) and golds (the rotation);
* the prefix cache's effect, from our HF backend's own counters (``HFModel.token_counts``), in-process:
  prefix tokens computed vs the questions' own tokens, plain vs circular (goal: ~4x the question
  tokens, 1x the prefix).

Results: ``bench/results/circular_bench.json`` and the ``## circular`` section of ``bench/RESULTS.md``.
Wrap it in ``flock`` on a shared machine (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchdata  # noqa: E402
import peers  # noqa: E402
from agreement import compare, letters  # noqa: E402
from procmon import thread_env  # noqa: E402
from resultsmd import machine_facts, table, write_section  # noqa: E402
from tools import ToolRun, run_opencompass, run_ours  # noqa: E402

SUBJECTS = ("discrete_mathematics", "plant_protection", "operating_system")
DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()
METRICS = ("acc_origin", "acc_circular", "perf_origin", "more_1_circular", "more_2_circular", "more_3_circular",
           "perf_circular")
TOOLS = ("ours", "opencompass", "counters")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subjects", default=",".join(SUBJECTS), help="C-Eval subjects (comma list)")
    p.add_argument("--per-subject", type=int, default=8, help="val questions per subject (the first K rows)")
    p.add_argument("--threads", type=int, default=1, help="OMP/MKL threads for every tool")
    p.add_argument("--repeats", type=int, default=3, help="repetitions of our plain and circular runs (medians)")
    p.add_argument("--peer-repeats", type=int, default=1, help="repetitions of OpenCompass's circular run")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-seq-len", type=int, default=2048)
    p.add_argument("--max-out-len", type=int, default=16)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    p.add_argument("--work", type=Path, default=Path("/tmp/toolkit-circular-bench"))
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma list of {', '.join(TOOLS)}")
    p.add_argument("--results", type=Path, default=HERE / "results" / "circular_bench.json")
    p.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--no-record", action="store_true", help="do not rewrite the section in RESULTS.md")
    p.add_argument("--render-only", action="store_true")
    p.add_argument("--counters-out", type=Path, help=argparse.SUPPRESS)  # the in-process counters child
    args = p.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if set(args.tools) - set(TOOLS):
        p.error(f"unknown tools: {sorted(set(args.tools) - set(TOOLS))}")
    return args


# -- the in-process counters run (a child process with the thread pins) ---------------------------
def counters_child(args: argparse.Namespace) -> int:
    """Plain, then circular, through the library with one loaded HF model: its token counters and times."""
    import torch

    from toolkit.config.loader import load_config
    from toolkit.config.spec import ModelSpec
    from toolkit.engine import EvalRunSpec, run_eval
    from toolkit.models.hf import HFModel

    torch.set_num_threads(args.threads)
    config = args.work / "configs" / "datasets" / "ceval" / "ceval_gen.py"
    datasets = load_config(config).datasets
    spec = ModelSpec(abbr="demo", path=str(args.model), hf_type="base", max_seq_len=args.max_seq_len,
                     max_out_len=args.max_out_len, batch_size=args.batch_size)
    model = HFModel.load(spec, device="cpu")
    out: dict[str, Any] = {}
    for name, kind in (("plain", None), ("circular", "circular")):
        before, t0, c0 = model.token_counts(), time.perf_counter(), time.process_time()
        result = run_eval(EvalRunSpec(datasets=datasets, models=(spec,), work_dir=str(args.work / "runs" / f"counters_{name}"),
                                      circular=kind, validate=False), models={"demo": model})
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        counts = {k: v - before[k] for k, v in model.token_counts().items()}
        records = [r for f in sorted((result.run_dir / "predictions" / "demo").glob("*.json"))
                   for r in json.loads(f.read_text(encoding="utf-8")).values()]
        counts["prompts"] = len(records)
        counts["whole_prompt_tokens"] = sum(int(r["prompt_tokens"]) for r in records)  # what no prefix cache computes
        out[name] = {"counts": counts, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                     "scores": {r.abbr: [r.metric, r.value] for r in result.records}}
    args.counters_out.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


# -- the parent -----------------------------------------------------------------------------------
def _median(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return round(statistics.median(real), 2) if real else None


def _summary(runs: list[ToolRun]) -> dict[str, Any]:
    ok = [r for r in runs if r.ok]
    return {"runs": len(ok), "failed": len(runs) - len(ok), "wall_seconds": _median([r.wall_seconds for r in ok]),
            "infer_seconds": _median([r.infer_seconds for r in ok]),
            "infer_cpu_seconds": _median([r.infer_cpu_seconds for r in ok]),
            "wall_seconds_all": [r.wall_seconds for r in ok], "infer_seconds_all": [r.infer_seconds for r in ok],
            "infer_cpu_seconds_all": [r.infer_cpu_seconds for r in ok],
            "load_avg": [r.load_avg[0] for r in ok], "peak_rss_mb": _median([r.peak_rss_mb for r in ok]),
            "infer_how": ok[0].infer_how if ok else ""}


def _result_files(run: ToolRun) -> dict[str, dict[str, Any]]:
    """abbr → the tool's result JSON (ours and OpenCompass's both write ``results/<model>/<abbr>.json``)."""
    if not run.run_dir:
        return {}
    folders = [p for p in (Path(run.run_dir) / "results").iterdir() if p.is_dir()]
    return {f.stem: json.loads(f.read_text(encoding="utf-8")) for f in sorted(folders[0].glob("*.json"))} if folders else {}


def _metric_agreement(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows, same, compared = [], 0, 0
    for abbr in sorted(set(ours) & set(theirs)):
        row: dict[str, Any] = {"dataset": abbr}
        for m in METRICS:
            a, b = ours[abbr].get(m), theirs[abbr].get(m)
            row[m] = [a, b]
            if a is not None and b is not None:
                compared += 1
                same += abs(float(a) - float(b)) < 1e-9
        rows.append(row)
    return {"compared": compared, "same": same, "rows": rows}


def _field(predictions: dict[str, dict[str, Any]], name: str) -> dict[str, str]:
    """``"abbr/index" → str(record[name])`` (stripped)."""
    return {f"{abbr}/{i}": str(rec.get(name, "")).strip() for abbr, recs in predictions.items() for i, rec in recs.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.counters_out:
        return counters_child(args)
    if args.render_only:
        write_section(args.results_md, "circular", render(json.loads(args.results.read_text(encoding="utf-8"))))
        return 0
    from toolkit.engine.scoring.postprocess import first_capital_postprocess

    work = args.work.resolve()
    args.work = work
    work.mkdir(parents=True, exist_ok=True)
    toolkit = [sys.executable, "-m", "toolkit"]
    env = thread_env(args.threads)
    say = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    subjects = [s for s in args.subjects.split(",") if s]
    root, config_dir = work / "data", work / "configs"
    counts = benchdata.prepare_ceval(args.shared, root, subjects, args.per_subject * len(subjects))
    subprocess.run([*toolkit, "gen-config", str(root / "ceval"), "--out", str(config_dir / "datasets" / "ceval"),
                    "--abs-path", "--split", "val", "--shots", "5", "--mode", "gen", "--circular", "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    n = sum(counts.values())
    say(f"data: {n} questions {json.dumps(counts)}")
    common = {"config_dir": config_dir, "model": args.model, "max_seq_len": args.max_seq_len,
              "max_out_len": args.max_out_len, "batch_size": args.batch_size}
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": "python bench/circular_bench.py " + shlex.join(argv or sys.argv[1:]),
        "commit": subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "machine": machine_facts(), "threads": args.threads, "questions": n, "subjects": counts,
        "settings": {k: str(v) for k, v in common.items() if k != "config_dir"}}
    runs: dict[str, list[ToolRun]] = {"ours plain": [], "ours circular": [], "opencompass circular": []}
    if "counters" in args.tools:
        say("counters: plain then circular, in-process, one loaded model")
        out = work / "counters.json"
        child = [sys.executable, str(Path(__file__).resolve()), "--counters-out", str(out), "--work", str(work),
                 "--model", str(args.model), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
                 "--max-seq-len", str(args.max_seq_len), "--max-out-len", str(args.max_out_len)]
        subprocess.run(child, env={**os.environ, **env}, check=True)
        result["counters"] = json.loads(out.read_text(encoding="utf-8"))
    if "ours" in args.tools:
        for r in range(args.repeats):
            for label, ds in (("ours plain", "ceval_gen"), ("ours circular", "ceval_circular_gen")):
                say(f"{label} #{r + 1}")
                runs[label].append(run_ours(toolkit, "gen", [ds], common, work=work, env=env,
                                            tag=f"{label.split()[1]}_{r + 1}"))
    if "opencompass" in args.tools:
        exe = peers.ensure_peer(peers.OPENCOMPASS, work / "logs" / "install_opencompass.log")
        for r in range(args.peer_repeats):
            say(f"opencompass circular #{r + 1}")
            runs["opencompass circular"].append(run_opencompass(exe, "gen", ["ceval_circular_gen"], common, work=work,
                                                                env=env, tag=f"circular_{r + 1}"))
    result["runs"] = {k: _summary(v) for k, v in runs.items() if v}
    ours_c = next((r for r in runs["ours circular"] if r.ok), None)
    ours_p = next((r for r in runs["ours plain"] if r.ok), None)
    oc = next((r for r in runs["opencompass circular"] if r.ok), None)
    if ours_c and oc:
        extract = first_capital_postprocess
        result["agreement"] = {
            "answers": compare(letters(ours_c.predictions, extract), letters(oc.predictions, extract)).as_dict(),
            "golds": compare(_field(ours_c.predictions, "gold"), _field(oc.predictions, "gold")).as_dict(),
            "prompts": compare(_field(ours_c.predictions, "origin_prompt"), _field(oc.predictions, "origin_prompt")).as_dict(),
            "metrics": _metric_agreement(_result_files(ours_c), _result_files(oc)),
        }
    if ours_c and ours_p:  # the ABCD rotation is the plain question: same answer
        plain = letters(ours_p.predictions, first_capital_postprocess)
        origin = {f"{k.split('/')[0]}/{int(k.split('/')[1]) // 4}": v
                  for k, v in letters(ours_c.predictions, first_capital_postprocess).items() if int(k.split("/")[1]) % 4 == 0}
        result["plain_vs_origin"] = compare(plain, origin).as_dict()
        repeat = [letters(r.predictions, first_capital_postprocess) for r in runs["ours circular"] if r.ok]
        result["ours_repeat_agreement"] = [compare(repeat[0], x).as_dict()["rate"] for x in repeat[1:]]
    result["seconds"] = round(time.time() - started)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not args.no_record:
        write_section(args.results_md, "circular", render(result))
    say(f"done in {result['seconds']} s; {args.results}")
    return 0


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def render(result: dict[str, Any]) -> str:
    """The ``## circular`` section of RESULTS.md."""
    m = result["machine"]
    n = result["questions"]
    lines = [f"`{result['command'].strip()}` (wrapped in `flock /work/notes/bench.lock`) — {result['date']}, "
             f"commit {result['commit']}, {result['seconds']} s in all.", "",
             f"Machine: {m.get('cpu', '?')}, {m.get('cpu_count')} logical CPUs shared with other engineers' jobs "
             f"(load average at the start {m.get('load_avg')}; per run below); every tool `OMP_NUM_THREADS="
             f"{result['threads']}`, fp32, CPU. Model: the demo model (SmolLM2-135M-Instruct). Settings: "
             + ", ".join(f"{k} {v}" for k, v in result["settings"].items() if k != "model") + ".",
             f"Data: C-Eval val, {n} questions ({', '.join(f'{k} {v}' for k, v in result['subjects'].items())}), "
             f"5-shot; circular = {n} × 4 rotations = {4 * n} prompts. Configs from `toolkit gen-config --circular` "
             "(`ceval_gen` and `ceval_circular_gen`: CircularCEvalDataset + CircularEvaluator); OpenCompass 0.5.4 "
             "runs the same `ceval_circular_gen` file.", ""]
    runs = result.get("runs", {})
    if runs:
        rows = [[k, v["runs"], v["wall_seconds"], v["infer_seconds"], v["infer_cpu_seconds"], v["peak_rss_mb"],
                 "/".join(str(x) for x in v["load_avg"])] for k, v in runs.items()]
        lines += [table(["run (medians)", "runs", "wall s", "inference s", "inference CPU s", "peak RSS MB",
                         "load avg (1 min)"], rows), ""]
        plain, circ, oc = runs.get("ours plain"), runs.get("ours circular"), runs.get("opencompass circular")
        if plain and circ:
            lines.append(f"Ours circular / ours plain: inference {_ratio(circ['infer_seconds'], plain['infer_seconds'])}, "
                         f"inference CPU {_ratio(circ['infer_cpu_seconds'], plain['infer_cpu_seconds'])}, whole process "
                         f"{_ratio(circ['wall_seconds'], plain['wall_seconds'])} for 4× the prompts.")
        if circ and oc:
            lines.append(f"OpenCompass circular / ours circular (same {4 * n} prompts): inference "
                         f"{_ratio(oc['infer_seconds'], circ['infer_seconds'])}, inference CPU "
                         f"{_ratio(oc['infer_cpu_seconds'], circ['infer_cpu_seconds'])}, whole process "
                         f"{_ratio(oc['wall_seconds'], circ['wall_seconds'])}.")
        lines.append("")
    counters = result.get("counters")
    if counters:
        p, c = counters["plain"]["counts"], counters["circular"]["counts"]
        rows = [[name, d["prefills"], d["prefix_tokens"], d["row_tokens"], d["padded_tokens"], d["decode_steps"],
                 counters[name]["wall_seconds"], counters[name]["cpu_seconds"]]
                for name, d in (("plain", p), ("circular", c))]
        lines += ["Prefix cache, from our HF backend's own counters (`HFModel.token_counts()`, one loaded model, "
                  "in-process `run_eval`, plain then circular):", "",
                  table(["run", "prefills", "prefix tokens computed", "questions' own tokens", "padding", "decode steps",
                         "wall s", "CPU s"], rows), "",
                  f"Circular / plain: prefix tokens {_ratio(c['prefix_tokens'], p['prefix_tokens'])}, the questions' "
                  f"own tokens {_ratio(c['row_tokens'], p['row_tokens'])}, all tokens computed "
                  f"{_ratio(c['prefix_tokens'] + c['row_tokens'] + c['padded_tokens'] + c['decode_steps'], p['prefix_tokens'] + p['row_tokens'] + p['padded_tokens'] + p['decode_steps'])}"
                  f", CPU {_ratio(counters['circular']['cpu_seconds'], counters['plain']['cpu_seconds'])}. Without a "
                  f"prefix cache (OpenCompass) every prompt is computed whole: {p['whole_prompt_tokens']:,} prompt tokens "
                  f"plain, {c['whole_prompt_tokens']:,} circular ({_ratio(c['whole_prompt_tokens'], p['whole_prompt_tokens'])}); "
                  f"ours computes {p['prefix_tokens'] + p['row_tokens']:,} and {c['prefix_tokens'] + c['row_tokens']:,} of "
                  "them (prefixes + the questions' own tokens).", ""]
    agree = result.get("agreement")
    if agree:
        a, g, pr, mt = agree["answers"], agree["golds"], agree["prompts"], agree["metrics"]
        lines += [f"Agreement with OpenCompass: answers {a['same']}/{a['compared']} variants (after "
                  f"`first_capital_postprocess`), golds {g['same']}/{g['compared']} (the rotation moves them the same "
                  f"way), prompts {pr['same']}/{pr['compared']} byte-identical, circular metrics {mt['same']}/"
                  f"{mt['compared']} equal.", ""]
        header = ["dataset"] + [f"{x} (ours / OC)" for x in METRICS]
        rows = [[r["dataset"]] + [" / ".join("–" if v is None else f"{float(v):.2f}" for v in r[x]) for x in METRICS]
                for r in mt["rows"]]
        lines += [table(header, rows), ""]
        if a["disagreements"]:
            lines += ["First answer disagreements: " + "; ".join(f"{k}: {x!r} vs {y!r}" for k, x, y in a["disagreements"]), ""]
    if "plain_vs_origin" in result:
        po = result["plain_vs_origin"]
        lines.append(f"Ours: the ABCD rotation answered as the plain run on {po['same']}/{po['compared']} questions; "
                     f"repeat-to-repeat agreement of the circular runs {result.get('ours_repeat_agreement')}.")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.exit(main())
