"""``toolkit eval``: run datasets through models and summarise (OpenCompass's flags, our engine).

OpenCompass users type lists after one flag (``--datasets a b``, ``--model-kwargs
k=v k2=v2``) and ``-r`` with or without a timestamp; :class:`OpenCompassArgs`
rewrites those into the repeated-option form Typer parses, so both spellings work.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from toolkit.cli._common import Circular, circular_value, handle_errors, stdout_console
from toolkit.config.spec import DEFAULT_BATCH_SIZE, DEFAULT_MAX_OUT_LEN, DEFAULT_NUM_GPUS
from toolkit.fileio import is_disk_full, os_error, write_error
from toolkit.models import BACKENDS

if TYPE_CHECKING:
    from toolkit.engine.outcome import EvalOutcome

LIST_OPTIONS = {"--datasets", "--api-model", "--model-kwargs", "--tokenizer-kwargs", "--generation-kwargs", "--stop-words",
                "--hf-path", "--data-path", "--abbr"}
PAIR_OPTIONS = {"--model-kwargs", "--tokenizer-kwargs", "--generation-kwargs", "--data-path"}
"""Their values are ``key=value``: a word without ``=`` after them (a config file) is not theirs."""
REUSE = {"-r", "--reuse"}


def expand_args(args: list[str]) -> list[str]:
    """``--datasets a b -r`` → ``--datasets a --datasets b -r latest`` (OpenCompass's nargs style);
    ``--circular`` without a value → ``--circular circular``.

    Example:
        >>> expand_args(["--datasets", "a", "b", "-r", "--debug"])
        ['--datasets', 'a', '--datasets', 'b', '-r', 'latest', '--debug']
        >>> expand_args(["--circular", "--debug"]), expand_args(["--circular", "all-perm"])
        (['--circular', 'circular', '--debug'], ['--circular', 'all-perm'])
    """
    from toolkit.engine.rundir import is_timestamp

    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in LIST_OPTIONS:
            j = i + 1
            values: list[str] = []
            while j < len(args) and not args[j].startswith("-") and (arg not in PAIR_OPTIONS or "=" in args[j] or not values):
                values.append(args[j])
                j += 1
            if not values:
                out.append(arg)  # let the parser report the missing value
            for v in values:
                out += [arg, v]
            i = j
            continue
        if arg in REUSE:
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and (is_timestamp(nxt[:15]) or nxt == "latest"):
                out += [arg, nxt]
                i += 2
            else:
                out += [arg, "latest"]
                i += 1
            continue
        out.append(arg)
        i += 1
    return circular_value(out)


class OpenCompassArgs(TyperCommand):
    """The eval command's parser: OpenCompass's list-style options rewritten first (:func:`expand_args`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse ``args`` after expanding OpenCompass's spellings."""
        return super().parse_args(ctx, expand_args(list(args)))


EPILOG = """\
Examples:

\b
  toolkit eval --datasets chinese_core_socialist_values_gen --hf-type base --hf-path "$(toolkit demo-model)" --max-seq-len 2048 --max-out-len 16 --batch-size 2 --num-gpus 0
  toolkit eval --datasets ceval_gen --data-path opencompass/ceval-exam=/data/ceval --abbr 'ceval-computer_*' --hf-path MODEL --infer-mode choice
  toolkit eval --datasets ceval_gen --hf-path MODEL --slurm -p gpu --max-num-workers 8    # each task an srun job
  toolkit eval --datasets my_bank_gen --hf-path MODEL --circular    # each question in 4 rotations: perf_circular
  toolkit eval --datasets ceval_gen --hf-type base --api-base http://127.0.0.1:8000/v1 --api-model demo --infer-mode choice
  toolkit eval --datasets ceval_gen --api-base https://api.deepseek.com/v1 --api-model deepseek-chat --api-key-env DEEPSEEK_API_KEY --qps 5
  toolkit eval --datasets ceval_gen --hf-path MODEL --backend vllm    # vLLM instead of transformers (OpenCompass: -a vllm)
  toolkit eval my_run.py -r    # resume the latest run of a config with datasets = [...] and models = [...]
  toolkit eval --mode viz -r 20250101_120000    # summarise that run again from its results

Exit status: 0 when every dataset was scored (or is N/A), 1 when a task failed, 2 on usage errors, 130 when interrupted.
"""

Opt = typer.Option


class HfType(str, Enum):
    """``--hf-type``: OpenCompass's plain-text prompts, or the tokenizer's chat template."""

    base = "base"
    chat = "chat"


class RunMode(str, Enum):
    """``--mode``: the phases to run."""

    all = "all"
    infer = "infer"
    eval = "eval"
    viz = "viz"


class InferMode(str, Enum):
    """``--infer-mode``: how questions are answered."""

    gen = "gen"
    ppl = "ppl"
    choice = "choice"


class Device(str, Enum):
    """``--device``."""

    cpu = "cpu"
    cuda = "cuda"


class DisplayKind(str, Enum):
    """``--display``: how progress is shown on stderr."""

    auto = "auto"
    rich = "rich"
    plain = "plain"
    none = "none"


Backend = Enum("Backend", {name: name for name in BACKENDS}, type=str)  # type: ignore[misc]  # built from the registry at run time, which mypy cannot type
"""``--backend`` (hidden): a backend registered in :data:`toolkit.models.BACKENDS` (``hf``; ``fake`` for tests)."""


@handle_errors
def eval_command(
    config: Annotated[Path | None, typer.Argument(help="A config file with datasets = [...] and models = [...].")] = None,
    datasets: Annotated[list[str] | None, Opt("--datasets", help="Dataset config names or .py files (configs/datasets/**/NAME.py, then toolkit's).")] = None,
    config_dir: Annotated[Path | None, Opt("--config-dir", help="Folder holding datasets/**/NAME.py (default ./configs).")] = None,
    abbr: Annotated[list[str] | None, Opt("--abbr", help="Only datasets whose abbr matches these glob patterns.")] = None,
    hf_path: Annotated[list[str] | None, Opt("--hf-path", help="Model folder or .gguf file (several: one model each).")] = None,
    model_abbr: Annotated[str | None, Opt("--model-abbr", help="Name of the model in results (default: the folder name).")] = None,
    tokenizer_path: Annotated[str | None, Opt("--tokenizer-path", help="Tokenizer folder (default: --hf-path).")] = None,
    tokenizer_kwargs: Annotated[list[str] | None, Opt("--tokenizer-kwargs", help="key=value for AutoTokenizer, e.g. padding_side='left'.")] = None,
    model_kwargs: Annotated[list[str] | None, Opt("--model-kwargs", help="key=value for AutoModelForCausalLM, e.g. torch_dtype=torch.float16.")] = None,
    generation_kwargs: Annotated[list[str] | None, Opt("--generation-kwargs", help="key=value kept in the model spec (decoding is greedy).")] = None,
    hf_type: Annotated[HfType, Opt("--hf-type", help="base: OpenCompass's plain-text prompts; chat: the tokenizer's chat template.")] = HfType.chat,
    max_seq_len: Annotated[int | None, Opt("--max-seq-len", min=1, help="Drop in-context examples until the prompt fits (OpenCompass's rule).")] = None,
    max_out_len: Annotated[int | None, Opt("--max-out-len", min=1, help=f"Most tokens to generate (gen mode; default {DEFAULT_MAX_OUT_LEN}); a dataset config's own max_out_len wins, as in OpenCompass.")] = None,
    min_out_len: Annotated[int | None, Opt("--min-out-len", min=0, help="Fewest tokens to generate before EOS may end (default 1, OpenCompass's).")] = None,
    batch_size: Annotated[int | None, Opt("--batch-size", min=1, help=f"Most questions per batch (default {DEFAULT_BATCH_SIZE}); batches are also sized by a token budget; a dataset config's own batch_size wins, as in OpenCompass.")] = None,
    num_gpus: Annotated[int | None, Opt("--num-gpus", "--hf-num-gpus", min=0, help=f"GPUs per worker (default {DEFAULT_NUM_GPUS}; 0: CPU).")] = None,
    pad_token_id: Annotated[int | None, Opt("--pad-token-id", help="Pad token id for a tokenizer without one.")] = None,
    stop_words: Annotated[list[str] | None, Opt("--stop-words", help="Extra stop strings for generation.")] = None,
    work_dir: Annotated[str, Opt("-w", "--work-dir", help="Where runs go: <work-dir>/<timestamp>/.")] = "outputs/default",
    reuse: Annotated[str | None, Opt("-r", "--reuse", help="Resume the latest run (or the given timestamp); stale predictions are never reused.")] = None,
    mode: Annotated[RunMode, Opt("--mode", help="all: infer, score, summarise; infer; eval (score an earlier run, -r); viz (summarise an earlier run, -r).")] = RunMode.all,
    infer_mode: Annotated[InferMode | None, Opt("--infer-mode", help="Override the configs' inferencer.")] = None,
    circular: Annotated[Circular | None, Opt("--circular", metavar="[circular|all-perm]", help="CircularEval: ask every question once per rotation of its options (ABCD, BCDA, CDAB, DABC), or per permutation (all-perm); a question counts only when every arrangement is right (perf_circular).")] = None,
    max_num_workers: Annotated[int, Opt("--max-num-workers", min=1, help="Worker processes at once (each loads the model once).")] = 1,
    data_path: Annotated[list[str] | None, Opt("--data-path", help="ID=DIR: read a config's dataset path ID from DIR.")] = None,
    validate: Annotated[bool, Opt("--validate/--no-validate", help="Refuse to run on data with validation errors.")] = True,
    reserve_output: Annotated[bool, Opt("--reserve-output", help="Also keep room for --max-out-len when truncating prompts.")] = False,
    early_stop: Annotated[bool, Opt("--early-stop/--no-early-stop", help="Stop generating once the answer is decided.")] = True,
    device: Annotated[Device | None, Opt("--device", help="Default: cuda when available and --num-gpus > 0, else cpu.")] = None,
    display: Annotated[DisplayKind, Opt("--display", help="Progress on stderr; auto: rich on a terminal, else plain lines.")] = DisplayKind.auto,
    json_output: Annotated[bool, Opt("--json", help="Print the results as JSON on stdout.")] = False,
    debug: Annotated[bool, Opt("--debug", help="Run in this process, stop at the first error with its traceback.")] = False,
    dry_run: Annotated[bool, Opt("--dry-run", help="Show the tasks (with --slurm: their srun command lines) and stop.")] = False,
    slurm: Annotated[bool, Opt("--slurm", help="Run each task as a Slurm job (srun), up to --max-num-workers at once.")] = False,
    partition: Annotated[str | None, Opt("-p", "--partition", help="Slurm partition (with --slurm).")] = None,
    quotatype: Annotated[str | None, Opt("--quotatype", help="Slurm quota type where srun knows it, e.g. reserved, auto, spot (with --slurm).")] = None,
    qos: Annotated[str | None, Opt("--qos", help="Slurm QOS (with --slurm).")] = None,
    api_base: Annotated[str | None, Opt("--api-base", help="An OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, a gateway, OpenAI).")] = None,
    api_model: Annotated[list[str] | None, Opt("--api-model", help="A model name on --api-base (several: one model each).")] = None,
    api_key_env: Annotated[str | None, Opt("--api-key-env", help="The environment variable holding the API key (default OPENAI_API_KEY, if set); never the key itself.")] = None,
    api_concurrency: Annotated[int | None, Opt("--api-concurrency", min=1, help="Requests in flight at once per model (default 8).")] = None,
    qps: Annotated[float | None, Opt("--qps", min=0.001, help="Most API requests started per second (default: no limit).")] = None,
    api_timeout: Annotated[float | None, Opt("--api-timeout", min=0.001, help="Seconds to wait for one API response (default 600).")] = None,
    api_retries: Annotated[int | None, Opt("--api-retries", min=0, help="Retries of a request on 429, 5xx, time-outs and broken connections (default 5).")] = None,
    accelerator: Annotated[str | None, Opt("-a", "--accelerator", help="OpenCompass's switch: vllm runs --hf-path models with --backend vllm.")] = None,
    vllm_python: Annotated[str | None, Opt("--vllm-python", help="The Python that runs --backend vllm (vLLM's own venv; default $TOOLKIT_VLLM_PYTHON, else this one).")] = None,
    backend: Annotated[Backend, Opt("--backend", help="How --hf-path models run: hf (transformers, default) or vllm (pip install -e \".[vllm]\").")] = Backend["hf"],
) -> None:
    """Evaluate models on datasets: partition, infer, score, summarise, report."""
    from toolkit.cli.eval_options import EvalOptions, build_run_spec
    from toolkit.cli.progress import make_display
    from toolkit.engine.run import run_eval

    opts = EvalOptions(
        config=config, datasets=tuple(datasets or ()), config_dir=config_dir, abbr=tuple(abbr or ()), hf_paths=tuple(hf_path or ()),
        model_abbr=model_abbr, tokenizer_path=tokenizer_path, tokenizer_kwargs=tuple(tokenizer_kwargs or ()),
        model_kwargs=tuple(model_kwargs or ()), generation_kwargs=tuple(generation_kwargs or ()), hf_type=hf_type.value,
        max_seq_len=max_seq_len, max_out_len=max_out_len, min_out_len=min_out_len, batch_size=batch_size,
        num_gpus=num_gpus, pad_token_id=pad_token_id, stop_words=tuple(stop_words or ()), work_dir=work_dir, reuse=reuse,
        mode=mode.value, infer_mode=infer_mode.value if infer_mode else None, max_num_workers=max_num_workers,
        circular=circular.value if circular else None,
        debug=debug, dry_run=dry_run, data_paths=tuple(data_path or ()), validate=validate, reserve_output=reserve_output,
        early_stop=early_stop, device=device.value if device else None, backend=backend.value, slurm=slurm,
        partition=partition, quotatype=quotatype, qos=qos, api_base=api_base, api_models=tuple(api_model or ()),
        api_key_env=api_key_env, api_concurrency=api_concurrency, qps=qps, api_timeout=api_timeout,
        api_retries=api_retries, accelerator=accelerator, vllm_python=vllm_python,
        command="toolkit eval " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
    )
    spec = build_run_spec(opts)
    from toolkit.report.run_report import write_run_reports

    try:
        outcome = run_eval(spec, display=make_display("none" if json_output and display is DisplayKind.auto
                                                      else display.value), finish=write_run_reports)
    except KeyboardInterrupt:
        typer.echo("interrupted: every finished batch is saved; resume with the same command plus -r", err=True)
        raise typer.Exit(130) from None
    except OSError as err:  # a full disk: every finished batch is saved all the same
        raise (write_error(err, retry="resume with the same command plus -r") if is_disk_full(err) else os_error(err)) from None
    print_outcome(outcome, outcome.reports, json_output)
    if outcome.failed:
        raise typer.Exit(1)


def print_outcome(outcome: EvalOutcome, files: Mapping[str, Path], as_json: bool) -> None:
    """Print a run's outcome: a dry run's tasks, or the summary (stdout) and the files written (stderr)."""
    from toolkit.engine.scoring import truncation_line

    if outcome.dry_run:
        plan = outcome.plan()
        if as_json:
            typer.echo(json.dumps({"run_dir": str(outcome.run_dir), "tasks": plan}, ensure_ascii=False, indent=2))
        else:
            for t in plan:
                typer.echo(f"{t['task']}: " + ", ".join(f"{i['abbr']}[{i['rows']}]" for i in t["items"]))
                if "command" in t:
                    typer.echo("  " + shlex.join(t["command"]))
        return
    if as_json:
        from toolkit.report.run_report import summary_json

        body = {"run_dir": str(outcome.run_dir), "results": [r.to_json() for r in outcome.records],
                "summary_files": {k: str(v) for k, v in files.items()}, "summary": summary_json(outcome)}
        usage = {m["abbr"]: m["usage"] for m in (outcome.manifest or {}).get("models", []) if m.get("usage")}
        if usage:  # API models: requests, retries, failures, tokens
            body["usage"] = usage
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if outcome.summary is not None:
        _print_summary(outcome)
    for kind, path in files.items():
        typer.echo(f"{kind}: {path}", err=True)
    typer.echo(f"run folder: {outcome.run_dir}", err=True)
    if (line := truncation_line(outcome.records)) is not None:
        typer.echo(line, err=True)


def _print_summary(outcome: EvalOutcome) -> None:
    """The summary table on stdout: rich tables (scores, then intervals) on a terminal, else OpenCompass's txt."""
    from toolkit.report.run_report import run_uncertainty
    from toolkit.report.tables import format_txt
    from toolkit.report.terminal import print_summary

    assert outcome.summary is not None
    uncertainty = run_uncertainty(outcome)
    if sys.stdout.isatty():
        from toolkit.report.terminal_intervals import print_intervals

        print_summary(outcome.summary, stdout_console())
        if uncertainty is not None:
            print_intervals(outcome.summary, uncertainty, stdout_console())
    else:
        typer.echo(format_txt(outcome.summary, uncertainty), nl=False)
