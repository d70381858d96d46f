"""What a run evaluates and how: :class:`EvalRunSpec`, the one input of :func:`toolkit.engine.run_eval`.

Typed and free of command-line strings: ``toolkit eval`` builds one from its flags
(:mod:`toolkit.cli.eval_options`), ``toolkit demo`` from its settings, and a library user
in Python::

    from toolkit.config.loader import load_datasets
    from toolkit.config.spec import ModelSpec
    spec = EvalRunSpec(datasets=load_datasets(["my_bank_gen"]), models=(ModelSpec(abbr="m", path="/models/m"),))

Inference settings (``max_out_len``, ``batch_size``…) left unset here and on the models
are decided per model and dataset by :func:`toolkit.engine.params.resolve_infer_params`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from toolkit.config.spec import DEFAULT_NUM_GPUS, CircularKind, DatasetSpec, ModelSpec
from toolkit.errors import UsageError

RunMode = Literal["all", "infer", "eval", "viz"]
InferMode = Literal["gen", "ppl", "choice"]
DeviceName = Literal["cpu", "cuda"]


@dataclass(frozen=True)
class SlurmOptions:
    """Where Slurm jobs go: OpenCompass's ``-p/--partition``, ``--quotatype`` and ``--qos``."""

    partition: str | None = None
    quotatype: str | None = None
    """A queue type some clusters' ``srun`` knows (``reserved``, ``auto``, ``spot``)."""
    qos: str | None = None


@dataclass(frozen=True)
class EvalRunSpec:
    """What to evaluate and how."""

    datasets: tuple[DatasetSpec, ...]
    models: tuple[ModelSpec, ...]
    work_dir: str = "outputs/default"
    reuse: str | None = None
    """None: a new run; ``"latest"`` or a timestamp: continue that run."""
    mode: RunMode = "all"
    infer_mode: InferMode | None = None
    """Override the configs' inferencer: ``gen``, ``ppl`` or ``choice``."""
    circular: CircularKind | None = None
    """Ask every question in every rotation (``circular``) or permutation (``all_possible``) of its options
    and score it as OpenCompass's CircularEval does; None: as each dataset's config says."""
    min_out_len: int | None = None
    """Fewest tokens to generate before EOS may end generation; None: the default (1)."""
    reserve_output: bool = False
    early_stop: bool = True
    max_workers: int = 1
    num_gpus: int = DEFAULT_NUM_GPUS
    """GPUs per local worker process."""
    debug: bool = False
    dry_run: bool = False
    backend: str = "hf"
    """A model backend registered in :data:`toolkit.models.BACKENDS`, for models that name none
    (a model behind an API always runs on ``api``, a ``VLLM`` config dict on ``vllm``)."""
    vllm_python: str | None = None
    """The Python that runs ``vllm`` tasks (vLLM's own environment); None: ``$TOOLKIT_VLLM_PYTHON``, else this one."""
    device: DeviceName | None = None
    data_paths: Mapping[str, str] = field(default_factory=dict)
    validate: bool = True
    summary_groups: tuple[Mapping[str, Any], ...] = ()
    command: str = ""
    slurm: SlurmOptions | None = None
    """Run each infer task as a Slurm job (``srun``) instead of a local worker."""
    abbr_patterns: tuple[str, ...] = ()
    """``--abbr`` globs; ``viz`` applies them to the run's own datasets when no datasets are named."""
    set_by: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where each run-level inference setting came from (``min_out_len: "cli"``), for the manifest;
    a setting not listed was set in Python (``run spec``) or not at all."""

    def model_backends(self) -> dict[str, Any]:
        """Each model's registered :class:`~toolkit.models.Backend`, by abbr."""
        from toolkit.models import get_backend, model_backend

        return {m.abbr: get_backend(model_backend(m, self.backend)) for m in self.models}

    def on_torch(self) -> bool:
        """Whether some model runs on this machine's torch (the run picks a device, the manifest records torch)."""
        from toolkit.models import get_backend

        backends = self.model_backends().values() if self.models else [get_backend(self.backend)]
        return any(b.torch_device for b in backends)

    def __post_init__(self) -> None:
        for name, value, allowed in (("mode", self.mode, RunMode), ("infer_mode", self.infer_mode, InferMode),
                                     ("device", self.device, DeviceName), ("circular", self.circular, CircularKind)):
            if value is not None and value not in get_args(allowed):
                raise UsageError(f"unknown {name} {value!r}", hint=f"use {', '.join(get_args(allowed))}")
