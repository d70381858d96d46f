"""The root ``toolkit`` command: registers one sub-command per module.

Importing this module must stay cheap: no torch, no transformers, no pandas at
import time (``toolkit --help`` is instant). Each command imports what it needs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit import __version__

EPILOG = """\
Examples:

  toolkit new-dataset my_bank --from questions.xlsx --subject my_subject --name-zh 我的科目

  toolkit validate data/my_bank

  toolkit gen-config data/my_bank

  toolkit eval --datasets my_bank_gen --hf-path ~/.cache/toolkit/SmolLM2-135M-Instruct

  toolkit demo-model
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
