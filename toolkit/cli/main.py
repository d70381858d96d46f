"""The root ``toolkit`` command and the one list of its sub-commands (one module each).

Each command module defines a plain function; :func:`register` adds them to ``app`` here,
in the workflow's order (dataset → validate → config → eval, then the demo), which is also
the order ``toolkit --help`` shows. No command module imports this one.

Importing this module must stay cheap: no torch, no transformers at import time
(``toolkit --help`` is instant). Each command imports what it runs when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit import __version__

EPILOG = """\
Examples (the README's walkthrough, from the repository root):

\b
  toolkit demo                 (all of the steps below in one command)
  toolkit new-dataset chinese_core_socialist_values --from examples/raw/chinese_core_socialist_values.csv
  toolkit validate data/chinese_core_socialist_values --fix
  toolkit gen-config data/chinese_core_socialist_values
  toolkit demo-model
  toolkit eval --datasets chinese_core_socialist_values_gen --hf-type base --hf-path "$(toolkit demo-model)"
  toolkit analyze outputs/default        (item analysis and answer-key audit of the newest run)
  toolkit compare RUN_A RUN_B            (runs side by side, with paired significance tests)

Each command's --help has its own examples.
"""

app = typer.Typer(
    name="toolkit",
    help="Build a multiple-choice question bank, check it, and measure how well a language model answers it.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"toolkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version_callback, is_eager=True)
    ] = False,
) -> None:
    """Build a multiple-choice question bank, check it, and measure how well a language model answers it."""


def register(root: typer.Typer) -> None:
    """Add every command to ``root``: a new command is one line here."""
    from toolkit.cli import analyze, compare, demo, demo_model, gen_config, new_dataset, validate
    from toolkit.cli import eval as eval_cmd

    root.command("new-dataset", epilog=new_dataset.EPILOG)(new_dataset.new_dataset)
    root.command("validate", epilog=validate.EPILOG)(validate.validate)
    root.command("gen-config", epilog=gen_config.EPILOG)(gen_config.gen_config)
    root.command("eval", cls=eval_cmd.OpenCompassArgs, epilog=eval_cmd.EPILOG)(eval_cmd.eval_command)
    root.command("demo-model", epilog=demo_model.EPILOG)(demo_model.demo_model)
    root.command("demo", epilog=demo.EPILOG)(demo.demo)
    root.command("analyze", epilog=analyze.EPILOG)(analyze.analyze)
    root.command("compare", epilog=compare.EPILOG)(compare.compare)


register(app)


def main() -> None:
    """Entry point of the ``toolkit`` console script."""
    app()
