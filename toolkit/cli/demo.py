"""``toolkit demo``: the whole workflow on the bundled example bank with the demo model, in one command."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import handle_errors

EPILOG = """\
Examples:

\b
  toolkit demo                                  (import, validate --fix, gen-config, demo model, eval: gen)
  toolkit demo --infer-mode choice --workdir /tmp/demo
  toolkit demo --model-dir MODEL_DIR            (your model on the example bank)

It writes toolkit-demo/{data,configs,outputs} (the README walkthrough's layout); run it again and it
rebuilds data/ and configs/ and adds a new run under outputs/demo/.
"""


class DemoInferMode(str, Enum):
    """How the demo evaluates: the gen config, the ppl config, or the gen config scored by letter."""

    gen = "gen"
    ppl = "ppl"
    choice = "choice"


@handle_errors
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", metavar="DIR", help="Folder for data/, configs/ and outputs/.")] = Path("toolkit-demo"),
    infer_mode: Annotated[DemoInferMode, typer.Option("--infer-mode", help="gen, ppl or choice.")] = DemoInferMode.gen,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", metavar="DIR", help="Evaluate this model folder instead of the demo model.")] = None,
) -> None:
    """Run the whole workflow on the example bank: new-dataset → validate --fix → gen-config → eval → report."""
    from toolkit.cli.eval import print_outcome
    from toolkit.cli.progress import make_display
    from toolkit.walkthrough import DemoSettings, run_demo

    if model_dir is not None and not model_dir.is_dir():
        raise typer.BadParameter(f"{model_dir} is not a folder", param_hint="--model-dir")
    settings = DemoSettings(workdir=workdir, infer_mode=infer_mode.value, model_dir=model_dir)
    result = run_demo(settings, log=lambda s: typer.echo(s, err=True), display=make_display("auto"))
    print_outcome(result.outcome, result.report_files, as_json=False)
    if result.outcome.failed:
        raise typer.Exit(1)
