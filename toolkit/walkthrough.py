"""The whole workflow on the bundled example bank, as one call: what ``toolkit demo`` runs.

new-dataset (import the raw seed sheet) → validate --fix → gen-config → demo model → eval,
each step through the same library function its command calls. Everything goes under one
work folder (``toolkit-demo/`` by default): ``data/``, ``configs/datasets/`` and
``outputs/demo/<timestamp>/``, exactly the layout the README's walkthrough makes by hand.
Running it again replaces the dataset and configs of the previous demo (they are derived
from the seed sheet) and adds a new run beside the earlier ones.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import RunError, UsageError
from toolkit.resources import resource_dir

DEMO_NAME = "chinese_core_socialist_values"
"""The example bank's dataset name, subject key and config prefix."""
MARKER = ".toolkit-demo"
"""A file in the work folder that says a demo made it (and may replace its data and configs)."""


def example_bank() -> Path:
    """The raw seed sheet shipped with toolkit (``examples/raw/…csv`` in a checkout or the wheel)."""
    return resource_dir("examples") / "raw" / f"{DEMO_NAME}.csv"


@dataclass(frozen=True)
class DemoSettings:
    """Where the demo works and how it evaluates; the defaults are the README walkthrough's."""

    workdir: Path = Path("toolkit-demo")
    infer_mode: str = "gen"
    """``gen`` (the config's GenInferencer), ``ppl`` (the ppl config) or ``choice`` (the gen config scored by letter)."""
    model_dir: Path | None = None
    """A model folder to evaluate instead of the demo model."""
    max_seq_len: int = 2048
    """Room for the whole 5-shot prompt of every question (nothing is dropped)."""
    max_out_len: int = 16
    batch_size: int = 2


@dataclass(frozen=True)
class DemoResult:
    """What each step produced."""

    dataset_dir: Path
    changes: int
    """Cells ``validate --fix`` repaired."""
    config_files: tuple[Path, ...]
    model_dir: Path
    outcome: Any
    """The eval's :class:`toolkit.engine.run.EvalOutcome`."""
    report_files: dict[str, Path] = field(default_factory=dict)


def _prepare_workdir(workdir: Path) -> None:
    marker = workdir / MARKER
    if workdir.exists() and any(workdir.iterdir()) and not marker.is_file():
        raise UsageError("exists and was not made by `toolkit demo`", file=workdir,
                         hint="choose an empty or new folder with --workdir")
    workdir.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by `toolkit demo`: data/ and configs/ are rebuilt on every demo run\n", encoding="utf-8")
    for derived in (workdir / "data" / DEMO_NAME, workdir / "configs" / "datasets" / DEMO_NAME):
        if derived.exists():
            shutil.rmtree(derived)


def run_demo(settings: DemoSettings = DemoSettings(), *, log: Callable[[str], None] = lambda s: None,
             display: Any = None) -> DemoResult:
    """Run the walkthrough end to end in ``settings.workdir`` and return every step's result.

    ``log`` gets one line per step (the CLI prints them on stderr); ``display`` is the
    eval progress display (None: none).

    Example:
        >>> result = run_demo(DemoSettings(Path("/tmp/demo")))  # doctest: +SKIP
        >>> result.outcome.summary  # doctest: +SKIP
    """
    from toolkit.config.context import GenConfigOptions
    from toolkit.config.generate import generate_configs
    from toolkit.dataset.importer import ImportOptions, import_sheets
    from toolkit.dataset.scaffold import pair_subjects
    from toolkit.validate.findings import ValidateOptions
    from toolkit.validate.fix import fix_and_validate

    workdir = settings.workdir.resolve()
    _prepare_workdir(workdir)
    subjects = pair_subjects([DEMO_NAME], ["Core Socialist Values"], ["社会主义核心价值观"], ["Social Science"])
    report = import_sheets(workdir / "data", DEMO_NAME, [example_bank()], subjects=subjects, options=ImportOptions())
    dataset_dir = report.result.dataset_dir
    log(f"1/5 new-dataset: read {report.rows_read} rows of {example_bank().name}, "
        f"wrote {report.rows_written} to {dataset_dir}")

    checked = fix_and_validate(dataset_dir, ValidateOptions())
    counts = checked.counts
    log(f"2/5 validate --fix: {len(checked.changes)} cells repaired; now {counts['error']} errors, "
        f"{counts['warning']} warnings")
    if not checked.ok:
        raise RunError("the example bank still has validation errors after --fix",
                       file=dataset_dir, hint=f"run `toolkit validate {dataset_dir}` to see them")

    configs_dir = workdir / "configs" / "datasets" / DEMO_NAME
    generated = generate_configs(dataset_dir, GenConfigOptions(abs_path=True), out_dir=configs_dir)
    log(f"3/5 gen-config: {len(generated.files)} files in {configs_dir}")

    if settings.model_dir is not None:
        model_dir = settings.model_dir
    else:
        from toolkit.models.demo import ensure_demo_model

        model_dir = ensure_demo_model(log=log)
    log(f"4/5 model: {model_dir}")

    outcome, files = _evaluate(settings, workdir, model_dir, display)
    log(f"5/5 eval: run folder {outcome.run_dir}")
    return DemoResult(dataset_dir, len(checked.changes), tuple(f.path for f in generated.files), model_dir,
                      outcome, files)


def _evaluate(settings: DemoSettings, workdir: Path, model_dir: Path, display: Any) -> tuple[Any, dict[str, Path]]:
    """The eval step, built in Python as any library user would: configs → datasets and groups, a model spec."""
    from toolkit.config.loader import load_dataset_args
    from toolkit.config.spec import ModelSpec
    from toolkit.engine import EvalRunSpec, run_eval
    from toolkit.engine.events import NullDisplay
    from toolkit.report.run_report import write_run_reports

    config = "ppl" if settings.infer_mode == "ppl" else "gen"
    configs = load_dataset_args([f"{DEMO_NAME}_{config}"], workdir / "configs")
    gpus = _gpus()
    model = ModelSpec(abbr=model_dir.name, path=str(model_dir), hf_type="base", max_seq_len=settings.max_seq_len,
                      max_out_len=settings.max_out_len, batch_size=settings.batch_size, num_gpus=gpus)
    spec = EvalRunSpec(
        datasets=tuple(d for loaded in configs for d in loaded.datasets), models=(model,),
        work_dir=str(workdir / "outputs" / "demo"), infer_mode="choice" if settings.infer_mode == "choice" else None,
        num_gpus=gpus, summary_groups=tuple(g for loaded in configs for g in loaded.groups),
        command=f"toolkit demo --workdir {settings.workdir} --infer-mode {settings.infer_mode}",
    )
    outcome = run_eval(spec, display=display or NullDisplay(), finish=write_run_reports)
    return outcome, dict(outcome.reports)


def _gpus() -> int:
    """One GPU when CUDA is there, else the CPU (``--num-gpus 0``)."""
    import torch

    return 1 if torch.cuda.is_available() else 0
