"""Model backends behind one small protocol (:class:`toolkit.models.base.LanguageModel`), registered in
one place: :data:`BACKENDS`.

A backend is a name, a loader (imported lazily, so importing this package never imports
torch) and what the engine must know about it before anything loads: whether its model is
files on this machine (paths checked before a run, file facts in the reuse key) and whether
it runs on this machine's torch device (CPU/CUDA chosen once, torch facts in the manifest).
A backend with an optional extra (``pip install "toolkit[EXTRA]"``) that is not installed
fails with :class:`~toolkit.errors.MissingDependencyError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.errors import MissingDependencyError, UsageError

if TYPE_CHECKING:
    from toolkit.config.spec import ModelSpec
    from toolkit.models.base import LanguageModel

__all__ = ["BACKENDS", "Backend", "get_backend", "load_model", "model_backend"]


@dataclass(frozen=True)
class Backend:
    """A registered backend: how to load its models and what the engine must know of it."""

    name: str
    load: Callable[..., LanguageModel]
    """``load(spec, device=None, warn=None)`` → a loaded model (imports its libraries when called)."""
    local_files: bool = True
    """The model is a folder or file here: its paths are checked before a run and identify it in reuse keys."""
    torch_device: bool = True
    """It runs on this machine's CPU or GPUs through torch: the run picks the device, the manifest records torch."""
    extra: str | None = None
    """The pip extra that installs its dependencies; None: they are toolkit's own."""
    own_python: bool = False
    """Its tasks run in a worker process whose Python may be another one (``TOOLKIT_VLLM_PYTHON``: vLLM's
    own environment), never in the process that runs the eval (vLLM spawns processes of its own)."""


def _hf(spec: ModelSpec, **kwargs: Any) -> LanguageModel:
    from toolkit.models.hf import HFModel

    return HFModel.load(spec, **kwargs)


def _fake(spec: ModelSpec, **kwargs: Any) -> LanguageModel:
    from toolkit.models.fake import FakeModel

    return FakeModel(spec)


def _api(spec: ModelSpec, **kwargs: Any) -> LanguageModel:
    from toolkit.models.api import ApiModel

    return ApiModel.load(spec)


def _vllm(spec: ModelSpec, **kwargs: Any) -> LanguageModel:
    from toolkit.models.vllm_local import VllmModel

    return VllmModel.load(spec, device=kwargs.get("device"))


BACKENDS: dict[str, Backend] = {
    "hf": Backend("hf", _hf),
    "vllm": Backend("vllm", _vllm, torch_device=False, extra="vllm", own_python=True),
    "api": Backend("api", _api, local_files=False, torch_device=False),
    "fake": Backend("fake", _fake, local_files=False, torch_device=False),
}


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``; a UsageError listing the others when there is none."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise UsageError(f"unknown model backend {name!r}", hint=f"use one of {', '.join(BACKENDS)}") from None


def model_backend(spec: ModelSpec, run_backend: str = "hf") -> str:
    """The backend that runs ``spec``: its own (a ``VLLM`` config dict), ``api`` for a model behind an API,
    else the run's (``--backend``)."""
    if spec.api is not None:
        return "api"
    return spec.backend or run_backend


def load_model(spec: ModelSpec, backend: str = "hf", **kwargs: Any) -> LanguageModel:
    """Load the model ``spec`` with ``backend`` (a name in :data:`BACKENDS`)."""
    found = get_backend(backend)
    try:
        return found.load(spec, **kwargs)
    except ModuleNotFoundError as err:
        if found.extra is None:
            raise
        raise MissingDependencyError(f"the {found.name} backend needs the package {err.name!r}, which is not installed",
                                     hint=f'pip install "toolkit[{found.extra}]"') from None
