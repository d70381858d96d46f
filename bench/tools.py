"""One timed run of each tool on the prepared configs, and the predictions it left.

Every run goes through :func:`procmon.run_measured` with the same thread pins. Each
tool's *inference time* (model load excluded) is taken from what the tool itself
reports or writes:

* ours — ``manifest.json``: ``infer_seconds`` minus the model's ``load_seconds``;
* OpenCompass — from its first ``Start inferencing`` log line (the model is loaded
  by then) to the newest predictions file (written when the last dataset ends);
* lm-eval — from its ``Running loglikelihood requests`` progress bar's first line
  to that bar's 100 % line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from procmon import Measured, run_measured


@dataclass
class ToolRun:
    """One tool, one mode, one repetition."""

    tool: str
    mode: str
    ok: bool
    wall_seconds: float
    infer_seconds: float | None
    infer_how: str
    peak_rss_mb: float
    load_avg: tuple[float, float, float]
    log: str
    infer_cpu_seconds: float | None = None
    """CPU seconds (user + system, whole process tree) inside the inference window."""
    run_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    """abbr → row index (string) → record (as the tool wrote it)."""

    def summary(self) -> dict[str, Any]:
        """Everything but the predictions (for the JSON results)."""
        data = asdict(self)
        data.pop("predictions")
        return data


def _newest_dir(parent: Path) -> Path | None:
    dirs = sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    return dirs[-1] if dirs else None


def read_prediction_dir(folder: Path) -> dict[str, dict[str, Any]]:
    """``<abbr>.json`` files of one model's predictions folder → abbr → records."""
    out: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.glob("*.json")):
        out[file.stem] = json.loads(file.read_text(encoding="utf-8"))
    return out


def _window(run: ToolRun, m: Measured, t0: float | None, t1: float | None, how: str) -> None:
    """Set the inference time and its CPU time from a window of the run (seconds since start)."""
    if t0 is None or t1 is None or t1 < t0:
        return
    run.infer_seconds = round(t1 - t0, 2)
    run.infer_cpu_seconds = round(m.cpu_at(t1) - m.cpu_at(t0), 2)
    run.infer_how = how


def _measured_fields(m: Measured) -> dict[str, Any]:
    return {"wall_seconds": round(m.wall_seconds, 2), "peak_rss_mb": round(m.peak_rss_bytes / 2**20, 1),
            "load_avg": tuple(round(x, 2) for x in m.load_avg), "log": str(m.log), "ok": m.returncode == 0}


def run_ours(toolkit: Sequence[str], mode: str, datasets: Sequence[str], common: Mapping[str, Any], *,
             work: Path, env: Mapping[str, str], tag: str, extra: Sequence[str] = ()) -> ToolRun:
    """``toolkit eval`` in ``mode`` (gen | ppl | choice) on ``datasets``; ``extra`` options are appended."""
    out = work / "runs" / f"ours_{mode}_{tag}"
    where = ["--config-dir", str(common["config_dir"])] if common.get("config_dir") else []
    cmd = [*toolkit, "eval", "--datasets", *datasets, *where, "--hf-type", "base", "--hf-path", str(common["model"]), "--max-seq-len", str(common["max_seq_len"]),
           "--max-out-len", str(common["max_out_len"]), "--batch-size", str(common["batch_size"]),
           "--num-gpus", "0", "--device", "cpu", "-w", str(out), "--display", "plain", "--no-validate"]
    if mode == "choice":
        cmd += ["--infer-mode", "choice"]
    cmd += list(extra)
    m = run_measured(cmd, env=env, log=work / "logs" / f"ours_{mode}_{tag}.log")
    run = ToolRun("ours", mode, infer_seconds=None, infer_how="", **_measured_fields(m))
    run_dir = _newest_dir(out)
    if run_dir is None or not (run_dir / "manifest.json").is_file():
        run.ok = False
        return run
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    infer = manifest["timings"].get("infer_seconds")
    load = (manifest["models"][0].get("loaded") or {}).get("load_seconds") or 0.0
    run.extra = {"manifest_timings": manifest["timings"], "load_seconds": load,
                 "manifest_infer_minus_load": round(infer - load, 2) if infer is not None else None}
    _window(run, m, m.first(r": 0/\d+ done, starting"), m.last(r": finished in "),
            "first dataset 'starting' progress line → last 'finished in' line (model already loaded)")
    run.run_dir = str(run_dir)
    pred_dirs = [p for p in (run_dir / "predictions").iterdir() if p.is_dir()]
    run.predictions = read_prediction_dir(pred_dirs[0]) if pred_dirs else {}
    return run


def run_opencompass(exe: Path, mode: str, datasets: Sequence[str], common: Mapping[str, Any], *,
                    work: Path, env: Mapping[str, str], tag: str) -> ToolRun:
    """Real OpenCompass, base-model wrapper, fp32 on CPU, in-process (``--debug``)."""
    out = work / "runs" / f"opencompass_{mode}_{tag}"
    cmd = [str(exe), "--datasets", *datasets, "--config-dir", str(common["config_dir"]), "--hf-type", "base",
           "--hf-path", str(common["model"]), "--model-kwargs", "torch_dtype=torch.float32",
           "--max-seq-len", str(common["max_seq_len"]), "--max-out-len", str(common["max_out_len"]),
           "--batch-size", str(common["batch_size"]), "--hf-num-gpus", "0", "--debug", "-w", str(out)]
    m = run_measured(cmd, env=env, log=work / "logs" / f"opencompass_{mode}_{tag}.log", cwd=work)
    run = ToolRun("opencompass", mode, infer_seconds=None, infer_how="", **_measured_fields(m))
    run_dir = _newest_dir(out)
    pred_root = run_dir / "predictions" if run_dir else None
    model_dirs = [p for p in pred_root.iterdir() if p.is_dir()] if pred_root and pred_root.is_dir() else []
    if not model_dirs:
        run.ok = False
        return run
    run.run_dir = str(run_dir)
    run.predictions = read_prediction_dir(model_dirs[0])
    files = list(model_dirs[0].glob("*.json"))
    end = max(f.stat().st_mtime for f in files) - m.started_at if files else None
    _window(run, m, m.first(r"Start inferencing"), end,
            "first 'Start inferencing' log line (model loaded) → newest predictions file written")
    return run


def run_lmeval(exe: Path, task_dir: Path, task: str, common: Mapping[str, Any], *, work: Path,
               env: Mapping[str, str], tag: str) -> ToolRun:
    """Real lm-evaluation-harness, HF backend, fp32 on CPU, log-likelihood multiple choice."""
    out = work / "runs" / f"lmeval_choice_{tag}"
    cmd = [str(exe), "--model", "hf", "--model_args", f"pretrained={common['model']},dtype=float32",
           "--tasks", task, "--include_path", str(task_dir), "--batch_size", str(common["batch_size"]),
           "--device", "cpu", "--log_samples", "--output_path", str(out)]
    m = run_measured(cmd, env=env, log=work / "logs" / f"lmeval_choice_{tag}.log", cwd=work)
    run = ToolRun("lm-eval", "choice", infer_seconds=None, infer_how="", **_measured_fields(m))
    _window(run, m, m.first(r"Running loglikelihood requests"), m.last(r"Running loglikelihood requests.*100%"),
            "'Running loglikelihood requests' progress bar: first line → its 100 % line")
    samples = sorted(out.rglob(f"samples_{task}_*.jsonl"))
    if samples:
        run.run_dir = str(samples[-1].parent)
        run.predictions = {"samples": {str(i): rec for i, rec in
                                       enumerate(json.loads(line) for line in samples[-1].read_text(encoding="utf-8").splitlines() if line)}}
    else:
        run.ok = False
    return run


def run_vllm(python: Path, requests: Path, *, work: Path, env: Mapping[str, str], repeats: int,
             modes: Sequence[str] = ("choice", "gen", "ppl"), tag: str = "0", wait_dir: Path | None = None) -> list[ToolRun]:
    """vLLM's CPU build on our exported requests (``vllm_peer.py``): one start, every mode ``repeats`` times.

    Each (mode, repetition) becomes a :class:`ToolRun` whose inference window is the script's
    ``MARK begin``/``MARK end`` lines and whose CPU time is the whole process tree's (the engine core
    is a child process) inside that window. The load (start-up, compile) is reported in ``extra``.
    With ``wait_dir``, each run waits for a go file (see ``vllm_peer.py --wait-dir``), so that another
    tool's runs can alternate with vLLM's under the same machine load (:func:`anchor_runs.interleave`).
    """
    out = work / f"vllm_{tag}.json"
    out.unlink(missing_ok=True)
    cmd = [str(python), str(Path(__file__).resolve().parent / "vllm_peer.py"), "--requests", str(requests),
           "--out", str(out), "--repeats", str(repeats), "--modes", ",".join(modes)]
    if wait_dir is not None:
        cmd += ["--wait-dir", str(wait_dir)]
    m = run_measured(cmd, env=env, log=work / "logs" / f"vllm_{tag}.log", cwd=work)
    data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    load0, load1 = m.first(r"^MARK load-begin"), m.first(r"^MARK load-end")
    runs = []
    for mode in modes:
        for rep in range(repeats):
            run = ToolRun("vllm", mode, infer_seconds=None, infer_how="", **_measured_fields(m))
            run.ok = m.returncode == 0 and bool(data)
            _window(run, m, m.first(rf"^MARK begin {mode} {rep} "), m.first(rf"^MARK end {mode} {rep} "),
                    "'MARK begin' → 'MARK end' around the mode's generate calls (engine started, prefix cache reset)")
            run.extra = {"load_seconds": round(load1 - load0, 2) if load0 is not None and load1 is not None else None,
                         "version": data.get("vllm"), "env": data.get("env")}
            run.predictions = {"answers": data.get("answers", {}).get(mode, {})}
            runs.append(run)
    return runs
