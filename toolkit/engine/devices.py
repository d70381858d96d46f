"""Which device a run really uses, decided once before anything is written.

``--num-gpus 1`` is OpenCompass's default; on a machine where torch sees no CUDA
device the models run on the CPU. That is said once (a ``note`` for stderr) and the
run records what it used (``device: cpu``, ``num_gpus: 0``) with what was asked. An
explicit ``--device cuda`` without CUDA is a usage error. Slurm runs are left alone:
their jobs pick GPUs on the compute nodes, which this machine cannot see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from toolkit.engine.spec import EvalRunSpec
from toolkit.errors import UsageError


@dataclass(frozen=True)
class DeviceChoice:
    """What the run asked for, what it uses, and the note that says why they differ."""

    used: str | None
    """``cpu`` or ``cuda``; None when decided elsewhere (Slurm jobs, preloaded models, no inference)."""
    requested_device: str | None = None
    requested_num_gpus: dict[str, int] = field(default_factory=dict)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest's ``device`` entry."""
        out: dict[str, Any] = {"used": self.used, "requested": {"device": self.requested_device,
                                                                "num_gpus": dict(self.requested_num_gpus)}}
        if self.note:
            out["note"] = self.note
        return out


def cuda_status() -> tuple[bool, str]:
    """(CUDA usable, torch's version) as torch in this process sees it."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return False, "not installed"
    return bool(torch.cuda.is_available()), torch.__version__


def resolve_device(spec: EvalRunSpec, *, preloaded: bool = False,
                   probe: Callable[[], tuple[bool, str]] | None = None) -> tuple[EvalRunSpec, DeviceChoice]:
    """The spec with the device it will really use, and the choice for the manifest.

    ``probe`` reports CUDA (default :func:`cuda_status`). Raises UsageError for ``--device cuda``
    on a machine without CUDA.
    """
    asked = {m.abbr: m.num_gpus for m in spec.models}
    infers = spec.mode in ("all", "infer") and not spec.dry_run
    if not infers or not spec.on_torch() or spec.slurm is not None or preloaded:
        return spec, DeviceChoice(None, spec.device, asked)
    wants_gpu = spec.device == "cuda" or (spec.device is None and any(n > 0 for n in asked.values()))
    if not wants_gpu:
        return _on_cpu(spec), DeviceChoice("cpu", spec.device, asked)
    available, torch_version = (probe or cuda_status)()
    if available:
        return replace(spec, device="cuda"), DeviceChoice("cuda", spec.device, asked)
    if spec.device == "cuda":
        raise UsageError(f"--device cuda, but torch {torch_version} sees no CUDA device",
                         hint="drop --device to run on the CPU, or check the driver and CUDA_VISIBLE_DEVICES")
    gpus = sorted(set(n for n in asked.values() if n > 0))
    note = (f"--num-gpus {gpus[0] if len(gpus) == 1 else '/'.join(map(str, gpus))} asks for GPUs, but torch "
            f"{torch_version} sees no CUDA device: running on the CPU (pass --num-gpus 0 to say so)")
    return _on_cpu(spec), DeviceChoice("cpu", spec.device, asked, note)


def _on_cpu(spec: EvalRunSpec) -> EvalRunSpec:
    models = tuple(replace(m, num_gpus=0) for m in spec.models)
    return replace(spec, device="cpu", models=models, num_gpus=0)
