"""The API and vLLM backends against their peers, on one vLLM server and the same questions.

    python bench/api_bench.py                          # 60 C-Eval val questions (3 subjects × 20), 5-shot
    python bench/api_bench.py --api-base http://127.0.0.1:8000/v1 --served-name demo   # a server already running
    python bench/api_bench.py --tools ours-api,lm-eval-api --concurrency 8

API part (one ``vllm serve`` of the demo model, fp32, started here from vLLM's own venv
unless ``--api-base`` is given; every client at the same concurrency):

* ``choice`` (5-shot): our API backend (``--api-base … --infer-mode choice``) vs
  lm-evaluation-harness ``local-completions`` on the very same prompt texts
  (``num_concurrent`` = our ``--api-concurrency``);
* ``gen``: our engine and OpenCompass 0.5.4 run **one config file** with an ``OpenAISDK``
  model dict (``max_workers`` = ``batch_size`` = the concurrency; no meta template, so both
  send the base prompt text as one user message).

Offline part: our ``--backend vllm`` vs our HF backend (gen and choice) vs
lm-evaluation-harness ``--model vllm`` (choice) where it installs into vLLM's venv.

Measured per run: wall time of the client command, its CPU seconds (the whole client
process tree), and the server's CPU seconds during the run; answers compared question by
question, and prompts checked byte for byte. Results: ``bench/results/api_bench.json``
and the ``## api_bench`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import benchdata  # noqa: E402
import peers  # noqa: E402
from agreement import compare, letters  # noqa: E402
from lmeval_task import TASK, prompt_rows, write_task  # noqa: E402
from procmon import run_measured, thread_env, tree_usage  # noqa: E402
from resultsmd import machine_facts, table, write_section  # noqa: E402
from tools import read_prediction_dir  # noqa: E402
from vllm_env import VllmServer, ensure_vllm_venv  # noqa: E402

ALL_TOOLS = ("ours-api", "lm-eval-api", "opencompass-api", "ours-vllm", "ours-hf", "lm-eval-vllm")
SUBJECTS = ("discrete_mathematics", "plant_protection", "operating_system")
DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-subject", type=int, default=20)
    p.add_argument("--subjects", default=",".join(SUBJECTS))
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight, for every API client")
    p.add_argument("--threads", type=int, default=1, help="OMP threads for the clients (the server gets its own)")
    p.add_argument("--max-out-len", type=int, default=16)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--api-base", help="use this running server (else one is started from vLLM's venv)")
    p.add_argument("--served-name", default="demo")
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--work", type=Path, default=Path("/tmp/toolkit-api-bench"))
    p.add_argument("--tools", default=",".join(ALL_TOOLS))
    p.add_argument("--results", type=Path, default=HERE / "results" / "api_bench.json")
    p.add_argument("--no-record", action="store_true")
    p.add_argument("--merge", action="store_true",
                   help="keep what the results file holds for the runs this invocation does not repeat")
    p.add_argument("--render-only", action="store_true")
    args = p.parse_args(argv)
    args.tools = [t for t in args.tools.split(",") if t]
    if set(args.tools) - set(ALL_TOOLS):
        p.error(f"unknown tools: {sorted(set(args.tools) - set(ALL_TOOLS))}")
    return args


class ServerCpu:
    """CPU seconds the server's process tree used between two points."""

    def __init__(self, pid: int | None) -> None:
        self.proc = psutil.Process(pid) if pid else None

    def now(self) -> float | None:
        return tree_usage(self.proc)[1] if self.proc else None


def run(name: str, cmd: list[str], *, work: Path, env: dict[str, str], server: ServerCpu,
        cwd: Path | None = None) -> dict[str, Any]:
    """One measured client run."""
    before = server.now()
    m = run_measured(cmd, env=env, log=work / "logs" / f"{name}.log", cwd=cwd)
    after = server.now()
    cpu = m.cpu_samples[-1][1] if m.cpu_samples else None
    out = {"name": name, "ok": m.returncode == 0, "wall_seconds": round(m.wall_seconds, 2),
           "client_cpu_seconds": round(cpu, 2) if cpu is not None else None,
           "server_cpu_seconds": round(after - before, 2) if before is not None and after is not None else None,
           "peak_rss_mb": round(m.peak_rss_bytes / 2**20, 1), "load_avg": [round(x, 2) for x in m.load_avg],
           "log": str(m.log)}
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {json.dumps({k: out[k] for k in list(out)[1:6]})}", file=sys.stderr)
    return out


def newest(folder: Path) -> Path | None:
    dirs = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return dirs[-1] if dirs else None


def model_predictions(run_dir: Path | None) -> dict[str, dict[str, Any]]:
    """abbr → index → record of a run folder's (only) model."""
    if run_dir is None or not (run_dir / "predictions").is_dir():
        return {}
    models = [p for p in (run_dir / "predictions").iterdir() if p.is_dir()]
    return read_prediction_dir(models[0]) if models else {}


def opencompass_config(path: Path, config_dir: Path, base_url: str, served: str, concurrency: int,
                       max_out_len: int, abbr: str = "demo-api") -> Path:
    """One run config (datasets from gen-config + an OpenAISDK model) that both tools run."""
    datasets_file = next((config_dir / "datasets" / "ceval").glob("ceval_gen*.py"))
    path.write_text(f'''from mmengine.config import read_base
from opencompass.models import OpenAISDK

with read_base():
    from .configs.datasets.ceval.{datasets_file.stem} import ceval_datasets

datasets = [*ceval_datasets]
models = [dict(type=OpenAISDK, abbr={abbr!r}, path={served!r}, key="EMPTY", openai_api_base={base_url!r},
               query_per_second=1000, max_out_len={max_out_len}, max_seq_len=4096, batch_size={concurrency},
               max_workers={concurrency}, temperature=0, retry=3, tokenizer_path={str(DEFAULT_MODEL)!r})]
''', encoding="utf-8")
    return path


def prompt_identity(left: dict[str, dict[str, Any]], right: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How many common questions have byte-identical ``origin_prompt``s."""
    same = total = 0
    for abbr, recs in left.items():
        for idx, rec in recs.items():
            other = right.get(abbr, {}).get(idx)
            if other is not None:
                total += 1
                same += _prompt(rec) == _prompt(other)
    return {"compared": total, "identical": same}


def _prompt(rec: dict[str, Any]) -> Any:
    p = rec.get("origin_prompt")
    if isinstance(p, list) and len(p) == 1 and isinstance(p[0], dict):  # OpenCompass's API record: [{role, prompt}]
        return p[0].get("prompt", p[0].get("content"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        write_section(HERE / "RESULTS.md", "api_bench", render(json.loads(args.results.read_text("utf-8"))))
        return 0
    from toolkit.engine.scoring.postprocess import first_capital_postprocess

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = thread_env(args.threads)
    subjects = args.subjects.split(",")
    toolkit = [sys.executable, "-m", "toolkit"]
    root = work / "data"
    counts = benchdata.prepare_ceval(args.shared, root, subjects, args.per_subject * len(subjects))
    config_dir = work / "configs"
    subprocess.run([*toolkit, "gen-config", str(root / "ceval"), "--out", str(config_dir / "datasets" / "ceval"),
                    "--abs-path", "--split", "val", "--shots", "5"], check=True, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = {"benchmark": "api_bench", "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "machine": machine_facts(), "settings": vars(args) | {"counts": counts},
                              "runs": {}, "agreement": {}, "prompts": {}}
    result["settings"] = {k: str(v) for k, v in result["settings"].items()}
    server = None
    base_url = args.api_base
    if base_url is None and any(t.endswith("-api") for t in args.tools):
        started = time.monotonic()
        server = VllmServer(ensure_vllm_venv(), args.model, name=args.served_name).start()
        base_url = server.url
        result["server_start_seconds"] = round(time.monotonic() - started, 1)
    cpu = ServerCpu(server.proc.pid if server and server.proc else None)
    ours_common = ["eval", "--datasets", "ceval_gen", "--config-dir", str(config_dir), "--max-out-len",
                   str(args.max_out_len), "--num-gpus", "0", "--display", "plain", "--no-validate"]
    preds: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        if "ours-api" in args.tools:
            for mode in ("choice", "gen"):
                out = work / "runs" / f"ours_api_{mode}"
                result["runs"][f"ours-api {mode}"] = run(f"ours_api_{mode}", [
                    *toolkit, *ours_common, "--hf-type", "base", "--api-base", base_url, "--api-model",
                    args.served_name, "--api-concurrency", str(args.concurrency), "--infer-mode", mode, "-w", str(out)],
                    work=work, env=env, server=cpu)
                preds[f"ours-api {mode}"] = model_predictions(newest(out))
        if "lm-eval-api" in args.tools and preds.get("ours-api choice"):
            exe = peers.ensure_peer(peers.LM_EVAL, work / "logs" / "install_lm-eval.log")
            task_dir = write_task(work / "lmeval_task", prompt_rows(preds["ours-api choice"]))
            out = work / "runs" / "lmeval_api_choice"
            result["runs"]["lm-eval-api choice"] = run("lmeval_api_choice", [
                str(exe), "--model", "local-completions", "--model_args",
                f"model={args.served_name},base_url={base_url}/completions,num_concurrent={args.concurrency},"
                f"max_retries=3,tokenized_requests=False,tokenizer_backend=huggingface,tokenizer={args.model}",
                "--tasks", TASK, "--include_path", str(task_dir), "--batch_size", "1", "--log_samples",
                "--output_path", str(out)], work=work, env=env, server=cpu, cwd=work)
            preds["lm-eval-api choice"] = lmeval_letters(out)
        if "opencompass-api" in args.tools:
            exe = peers.ensure_peer(peers.OPENCOMPASS, work / "logs" / "install_opencompass.log")
            cfg = opencompass_config(work / "run_api.py", config_dir, base_url, args.served_name, args.concurrency,
                                     args.max_out_len)
            for tool, cmd, out in (
                    ("ours-api gen (config)", [*toolkit, "eval", str(cfg), "--display", "plain", "--no-validate",
                                               "-w", str(work / "runs" / "ours_api_config")], work / "runs" / "ours_api_config"),
                    ("opencompass-api gen", [str(exe), str(cfg), "--debug", "-w", str(work / "runs" / "oc_api")],
                     work / "runs" / "oc_api")):
                result["runs"][tool] = run(tool.split(" (")[0].replace(" ", "_") + ("_config" if "config" in tool else ""),
                                           cmd, work=work, env=env, server=cpu, cwd=work)
                preds[tool] = model_predictions(newest(out))
    finally:
        if server is not None:
            server.stop()
    vllm_python = ensure_vllm_venv() if {"ours-vllm", "lm-eval-vllm"} & set(args.tools) else None
    for mode in ("choice", "gen"):
        for tool, extra, extra_env in (
                ("ours-vllm", ["--backend", "vllm"], {"TOOLKIT_VLLM_PYTHON": str(vllm_python)}),
                ("ours-hf", ["--device", "cpu"], {})):
            if tool in args.tools:
                out = work / "runs" / f"{tool}_{mode}"
                result["runs"][f"{tool} {mode}"] = run(f"{tool}_{mode}", [
                    *toolkit, *ours_common, "--hf-type", "base", "--hf-path", str(args.model), "--infer-mode", mode,
                    "--batch-size", "8", "-w", str(out), *extra], work=work, env={**env, **extra_env}, server=ServerCpu(None))
                preds[f"{tool} {mode}"] = model_predictions(newest(out))
    if "lm-eval-vllm" in args.tools and preds.get("ours-hf choice"):
        result["runs"]["lm-eval-vllm choice"] = lmeval_vllm(vllm_python, preds["ours-hf choice"], args, work, env)
        preds["lm-eval-vllm choice"] = lmeval_letters(work / "runs" / "lmeval_vllm")
    extract = lambda t: first_capital_postprocess(t)  # noqa: E731
    answers = {k: letters(v, extract if k.endswith("gen") or "(config)" in k else None) for k, v in preds.items()}
    pairs = [("ours-api choice", "lm-eval-api choice"), ("ours-api choice", "ours-hf choice"),
             ("ours-api gen", "ours-hf gen"), ("ours-api gen (config)", "opencompass-api gen"),
             ("ours-vllm choice", "ours-hf choice"), ("ours-vllm gen", "ours-hf gen"),
             ("lm-eval-vllm choice", "ours-hf choice"), ("ours-vllm choice", "lm-eval-vllm choice")]
    for a, b in pairs:
        if answers.get(a) and answers.get(b):
            result["agreement"][f"{a} | {b}"] = compare(answers[a], answers[b]).as_dict()
    n_questions = sum(len(v) for v in preds.get("ours-hf choice", {}).values())
    for mode in ("choice", "gen"):
        hf, vl = result["runs"].get(f"ours-hf {mode}"), result["runs"].get(f"ours-vllm {mode}")
        if hf and vl and hf["ok"] and vl["ok"] and n_questions:
            result.setdefault("crossover", {})[mode] = crossover(hf, vl, n_questions)
    for a, b in (("ours-api gen (config)", "opencompass-api gen"), ("ours-api choice", "ours-hf choice"),
                 ("ours-vllm gen", "ours-hf gen")):
        if preds.get(a) and preds.get(b):
            result["prompts"][f"{a} | {b}"] = prompt_identity(preds[a], preds[b])
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    if args.merge and args.results.is_file():
        earlier = json.loads(args.results.read_text(encoding="utf-8"))
        for part in ("runs", "agreement", "prompts", "crossover"):
            result[part] = {**earlier.get(part, {}), **result.get(part, {})}
        result["merged_from"] = earlier.get("started")
        result["started"] = earlier.get("started", result["started"])
        result["server_start_seconds"] = earlier.get("server_start_seconds")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not args.no_record:
        write_section(HERE / "RESULTS.md", "api_bench", render(result))
    print(render(result))
    return 0 if all(r["ok"] for r in result["runs"].values()) else 1


def lmeval_letters(out: Path) -> dict[str, dict[str, dict[str, str]]]:
    """abbr → index → the letter lm-eval chose (the highest log-likelihood), from its newest samples file."""
    samples = sorted(out.rglob(f"samples_{TASK}_*.jsonl"))
    lm: dict[str, dict[str, dict[str, str]]] = {}
    for line in samples[-1].read_text(encoding="utf-8").splitlines() if samples else []:
        row = json.loads(line)
        abbr, idx = row["doc"]["id"].split("/")
        scores = [float(r[0]) for r in row["filtered_resps"]]  # [log-likelihood, is_greedy] per letter
        lm.setdefault(abbr, {})[idx] = {"prediction": "ABCD"[scores.index(max(scores))]}
    return lm


def infer_seconds(log: Path) -> float:
    """Seconds spent answering questions: the sum of the plain display's ``finished in Xs`` lines."""
    return sum(float(x) for x in re.findall(r"finished in ([0-9.]+)s", log.read_text(encoding="utf-8", errors="replace")))


def crossover(hf: dict[str, Any], vllm: dict[str, Any], n: int) -> dict[str, Any]:
    """Where ``--backend vllm`` starts to finish first: each run's wall time is fixed costs (start, imports, load)
    plus ``n`` questions at its own rate; the crossover is where the two lines meet (None: never)."""
    split = {}
    for name, r in (("hf", hf), ("vllm", vllm)):
        infer = infer_seconds(Path(r["log"]))
        split[name] = {"fixed_seconds": round(r["wall_seconds"] - infer, 1), "seconds_per_question": round(infer / n, 4)}
    gain = split["hf"]["seconds_per_question"] - split["vllm"]["seconds_per_question"]
    extra = split["vllm"]["fixed_seconds"] - split["hf"]["fixed_seconds"]
    return {**split, "questions": n, "crossover_questions": int(extra / gain) + 1 if gain > 0 else None}


def lmeval_vllm(python: Path, reference: dict[str, Any], args: argparse.Namespace, work: Path,
                env: dict[str, str]) -> dict[str, Any]:
    """lm-eval ``--model vllm`` inside vLLM's venv (installed there, constrained to vLLM's pins)."""
    venv = python.parent.parent
    exe = venv / "bin" / "lm_eval"
    if not exe.exists():
        log = work / "logs" / "install_lm-eval-vllm.log"
        with open(log, "w", encoding="utf-8") as fh:
            code = subprocess.run([str(venv / "bin" / "pip"), "install", "-c", str(venv / "vllm-constraints.txt"),
                                   "lm-eval==0.4.13"], stdout=fh, stderr=subprocess.STDOUT).returncode
        if code:
            return {"name": "lm-eval-vllm choice", "ok": False, "skipped": f"lm-eval did not install; see {log}"}
    task_dir = write_task(work / "lmeval_task_vllm", prompt_rows(reference))
    return run("lmeval_vllm_choice", [  # the shim: lm-eval looks vLLM up under the distribution name "vllm"
        str(python), str(HERE / "lmeval_vllm_shim.py"), "--model", "vllm", "--model_args",
        f"pretrained={args.model},dtype=float32,enable_prefix_caching=True,gpu_memory_utilization=0.5",
        "--tasks", TASK, "--include_path", str(task_dir), "--batch_size", "auto", "--log_samples",
        "--output_path", str(work / "runs" / "lmeval_vllm")], work=work, env=env, server=ServerCpu(None), cwd=work)


def render(result: dict[str, Any]) -> str:
    """The RESULTS.md section."""
    rows = [[name, "yes" if r.get("ok") else "FAILED", r.get("wall_seconds"), r.get("client_cpu_seconds"),
             r.get("server_cpu_seconds"), r.get("peak_rss_mb")] for name, r in result["runs"].items()]
    agree = [[pair.replace(" | ", " vs "), f"{a['same']}/{a['compared']}", f"{a['rate']:.1%}"]
             for pair, a in result["agreement"].items()]
    prompts = [[pair.replace(" | ", " vs "), f"{p['identical']}/{p['compared']}"] for pair, p in result["prompts"].items()]
    cross = [[mode, c["hf"]["fixed_seconds"], c["hf"]["seconds_per_question"], c["vllm"]["fixed_seconds"],
              c["vllm"]["seconds_per_question"], c["crossover_questions"] or "never"]
             for mode, c in result.get("crossover", {}).items()]
    s = result["settings"]
    return "\n\n".join([
        f"Run {result['started']}–{result.get('finished', '?')}; {s.get('counts')}, 5-shot, demo model fp32; "
        f"concurrency {s.get('concurrency')} for every API client; client OMP threads {s.get('threads')}; "
        f"machine: {result['machine'].get('cpu')}, {result['machine'].get('cpu_count')} cores (shared; load average "
        f"at the start {result['machine'].get('load_avg')}). Server start: {result.get('server_start_seconds', '-')} s.",
        table(["run", "ok", "wall s", "client CPU s", "server CPU s", "client peak MB"], rows),
        table(["answers", "same", "rate"], agree, "lrr"),
        table(["prompts byte-identical", "count"], prompts, "lr") if prompts else "",
        table(["mode", "HF fixed s", "HF s/question", "vLLM fixed s", "vLLM s/question",
               "vLLM first from (questions)"], cross) if cross else "",
    ])


if __name__ == "__main__":
    sys.exit(main())
