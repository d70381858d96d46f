"""The runs behind issue 14's side-by-side: our requests exported, the compute bound, vLLM's environment.

Each step runs as a measured subprocess (``procmon.run_measured``) with the benchmark's
thread pins; vLLM itself runs through ``tools.run_vllm``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from procmon import run_measured
from tools import ToolRun

HERE = Path(__file__).resolve().parent


def vllm_env(env: dict[str, str], threads: int) -> dict[str, str]:
    """vLLM's own pins on top of the common ones: its worker bound to the first ``threads`` cores, a 4 GiB KV cache.

    Example:
        >>> e = vllm_env({"OMP_NUM_THREADS": "1"}, 1)
        >>> e["VLLM_CPU_OMP_THREADS_BIND"], e["VLLM_CPU_KVCACHE_SPACE"]
        ('0', '4')
    """
    bind = "0" if threads == 1 else f"0-{threads - 1}"
    return {**env, "VLLM_CPU_OMP_THREADS_BIND": bind, "VLLM_CPU_KVCACHE_SPACE": "4"}


def export_requests(data: Any, args: argparse.Namespace, *, work: Path, env: dict[str, str]) -> Path:
    """Our engine's requests for the run's data as token ids (``requests_export.py``, our own venv)."""
    out = work / "requests.json"
    cmd = [sys.executable, str(HERE / "requests_export.py"), "--config-dir", str(data.config_dir), "--datasets",
           *data.datasets("gen"), "--ppl-datasets", *data.datasets("ppl"), "--model", str(args.model),
           "--max-seq-len", str(args.max_seq_len), "--max-out-len", str(args.max_out_len), "--out", str(out)]
    m = run_measured(cmd, env=env, log=work / "logs" / "requests_export.log")
    if m.returncode != 0:
        raise SystemExit(f"exporting the requests failed; see {m.log}")
    return out


def run_bound(requests: Path, gen_runs: list[ToolRun], *, work: Path, env: dict[str, str], threads: int) -> dict[str, Any]:
    """FLOPs of the unique tokens ÷ this machine's GEMM rate (``compute_bound.py``), at the run's thread count."""
    out, generated = work / "bound.json", work / "generated.json"
    cmd = [sys.executable, str(HERE / "compute_bound.py"), "--requests", str(requests), "--out", str(out),
           "--threads", str(threads)]
    run = next((r for r in gen_runs if r.ok), None)
    if run is not None:  # the tokens our gen mode generated (the bound decodes no more than that)
        generated.write_text(json.dumps({f"{a}/{i}": rec.get("new_tokens", 1) for a, recs in run.predictions.items()
                                         for i, rec in recs.items()}), encoding="utf-8")
        cmd += ["--generated", str(generated)]
    m = run_measured(cmd, env=env, log=work / "logs" / "bound.log")
    return json.loads(out.read_text(encoding="utf-8")) if m.returncode == 0 and out.is_file() else {"ok": False, "log": str(m.log)}


def interleave(start_vllm: Callable[[Path], list[ToolRun]], run_ours: Callable[[str, int], None], *, work: Path,
               modes: Sequence[str], repeats: int, timeout: float = 3600.0) -> list[ToolRun]:
    """Alternate our runs with vLLM's (ours, then vLLM, mode by mode), so both see the same machine load.

    ``start_vllm(wait_dir)`` runs the whole vLLM session (in a thread here); it waits for a go file
    before each of its runs. Returns its runs once it has finished.
    """
    wait_dir = work / "interleave"
    if wait_dir.exists():
        for old in wait_dir.iterdir():
            old.unlink()
    wait_dir.mkdir(parents=True, exist_ok=True)
    got: list[list[ToolRun]] = []
    thread = threading.Thread(target=lambda: got.append(start_vllm(wait_dir)), daemon=True)
    thread.start()

    def wait_for(name: str) -> bool:
        deadline = time.monotonic() + timeout
        while not (wait_dir / name).exists():
            if not thread.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    if wait_for("ready"):
        for rep in range(repeats):
            for mode in modes:
                run_ours(mode, rep)
                (wait_dir / f"go-{mode}-{rep}").touch()
                if not wait_for(f"done-{mode}-{rep}"):
                    break
    thread.join(timeout)
    return got[0] if got else []
