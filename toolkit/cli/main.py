"""The root ``toolkit`` command: registers one sub-command per module.

Importing this module must stay cheap: no torch, no transformers, no pandas at
import time (``toolkit --help`` is instant). Each command imports what it needs.
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


def _register() -> None:
    # Each module adds its command(s) to ``app``; they import heavy libraries lazily.
    from toolkit.cli import commands  # noqa: F401


_register()


def main() -> None:
    """Entry point of the ``toolkit`` console script."""
    app()
