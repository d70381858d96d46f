"""``toolkit gen-config``: write OpenCompass configs for a dataset, or check config names' hashes."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import Language, handle_errors, stderr_console
from toolkit.errors import UsageError

EPILOG = """\
Examples:

\b
  toolkit gen-config data/my_bank
  toolkit gen-config data/my_bank --mode gen --shots 0 --split both
  toolkit gen-config data/my_bank --language en --hint "Questions about {name_en}." --out my_configs
  toolkit gen-config --check configs/datasets/my_bank/my_bank_gen_*.py
"""


class Split(str, Enum):
    """``--split``: the split(s) the datasets evaluate."""

    val = "val"
    test = "test"
    both = "both"


class Mode(str, Enum):
    """``--mode``: which config files to write."""

    gen = "gen"
    ppl = "ppl"
    both = "both"


def _check(paths: list[Path], json_out: bool) -> None:
    from toolkit.config.check import check_files

    results = check_files(paths)
    if json_out:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            if r.status == "ok":
                print(f"ok     {r.path} ({r.computed})")
            elif r.status == "stale":
                print(f"stale  {r.path}: the prompts hash to {r.computed}, not {r.suffix}; rename it to {r.expected_name}")
            elif r.status == "unhashed":
                print(f"n/a    {r.path}: no hash suffix in the name (its prompts hash to {r.computed})")
            elif r.status == "no-datasets":
                print(f"n/a    {r.path}: no *_datasets variable, nothing to hash")
    failed = [r for r in results if r.error is not None]
    for r in failed:
        print(f"error: {r.error}", file=sys.stderr)
    stale = sum(r.status == "stale" for r in results)
    if stale:
        print(f"{stale} of {len(results)} file{'s' if len(results) != 1 else ''} stale", file=sys.stderr)
    if failed or stale:  # an unreadable file is the caller's to fix (exit 2) and outranks a stale one
        raise typer.Exit(max(r.error.exit_code for r in failed if r.error is not None) if failed else 1)


@handle_errors
def gen_config(
    paths: Annotated[list[Path], typer.Argument(
        metavar="DATASET_DIR | FILE…", help="The dataset folder; with --check, the config files to check.", show_default=False)],
    check: Annotated[bool, typer.Option(
        "--check", help="Recompute each FILE's prompt hash and say whether its _<hash> name is stale (exit 1 if any is).")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="DIR", help="Write here. Default: configs/datasets/<name>/ (where --datasets looks).")] = None,
    name: Annotated[str | None, typer.Option(
        metavar="NAME", help="Dataset name in file and variable names. Default: dataset.json's, else the folder's.")] = None,
    language: Annotated[Language | None, typer.Option(
        help="Prompt language: zh (C-Eval's prompt) or en (MMLU-style). Default: the dataset's, else zh.")] = None,
    shots: Annotated[int, typer.Option(
        metavar="K", min=0, help="In-context examples, dev rows 0..K-1; 0 uses ZeroRetriever.")] = 5,
    hint: Annotated[str | None, typer.Option(
        metavar="TEXT", help="Instruction line; {name_zh} {name_en} {subject} {category} {options} are filled per subject.")] = None,
    prompt_template: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Your jinja2 file for the question prompt (see the README for its variables).")] = None,
    split: Annotated[Split, typer.Option(help="Split(s) to evaluate.")] = Split.val,
    mode: Annotated[Mode, typer.Option(help="Config files to write: gen (the model writes), ppl (lowest loss), or both.")] = Mode.both,
    abs_path: Annotated[bool, typer.Option(
        "--abs-path", help="Write the dataset's absolute path. Default: its path relative to the current folder.")] = False,
    data_path: Annotated[str | None, typer.Option(
        metavar="PATH", help="Write this data path instead (where the data is on the machine that runs the configs).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files in the output folder that gen-config did not write.")] = False,
    validate: Annotated[bool, typer.Option(
        "--validate/--no-validate", help="Refuse a dataset with validation errors (the checks of `toolkit validate`).")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
) -> None:
    """Write OpenCompass-compatible dataset configs (gen/ppl, aggregators, summary groups) for a dataset folder."""
    if check:
        _check(paths, json_out)
        return
    if len(paths) != 1:
        raise UsageError(f"expected one dataset folder, got {len(paths)} paths", hint="pass --check to check config files")
    from toolkit.config.context import GenConfigOptions
    from toolkit.config.generate import generate_configs

    options = GenConfigOptions(
        language=language.value if language else None,
        shots=shots,
        hint=hint,
        prompt_template=prompt_template,
        split=split.value,
        mode=mode.value,
        abs_path=abs_path,
        data_path=data_path,
        name=name,
    )
    result = generate_configs(paths[0], options, out_dir=out, force=force, validate=validate)
    if json_out:
        print(json.dumps({
            "dataset": result.dataset,
            "out_dir": str(result.out_dir),
            "data_path": result.data_path,
            "subjects": result.subjects,
            "files": [{"file": str(f.path), "kind": f.rendered.kind, "mode": f.rendered.mode,
                       "suffix": f.rendered.suffix, "status": f.status} for f in result.files],
            "removed": [str(p) for p in result.removed],
        }, ensure_ascii=False, indent=2))
        return
    for f in result.files:
        print(f.path)
    err = stderr_console()
    changed = sum(f.status == "written" for f in result.files)
    subjects = f"{result.subjects} subject{'s' if result.subjects != 1 else ''}"
    err.print(f"{result.dataset}: {subjects}, data path {result.data_path}; "
              f"wrote {changed} file{'s' if changed != 1 else ''} to {result.out_dir} "
              f"({len(result.files) - changed} unchanged)", markup=False)
    for path in result.removed:
        err.print(f"removed stale {path}", markup=False)
    err.print(_run_hint(result.out_dir, result.aggregator_names()), markup=False)


def _run_hint(out_dir: Path, names: list[str]) -> str:
    """How to run the configs: ``--datasets`` finds them under <config-dir>/datasets/."""
    # gen and ppl configs share their abbrs: one per run (OpenCompass would overwrite one with the other)
    joined = names[0] if names else "<name>_gen"
    if out_dir.parent.name != "datasets":
        return f"note: --datasets finds configs under <config-dir>/datasets/; {out_dir} is not such a folder"
    config_dir = out_dir.parent.parent
    flag = "" if config_dir.resolve() == Path("configs").resolve() else f" --config-dir {config_dir}"
    others = f" (then {', '.join(names[1:])} in a second run)" if len(names) > 1 else ""
    return f"run: toolkit eval --datasets {joined}{flag} …   or   opencompass --datasets {joined}{flag} …{others}"
