"""Registers every command module on the root app (import order = help order).

Each module imports only Typer at import time; the libraries behind a command
load when it runs, so ``toolkit --help`` stays instant.
"""

from __future__ import annotations

# the workflow's order: dataset → validate → config → eval (+ the demo model) → analyze, compare
from toolkit.cli import new_dataset  # noqa: I001
from toolkit.cli import validate
from toolkit.cli import gen_config
from toolkit.cli import eval  # noqa: A004
from toolkit.cli import demo_model
from toolkit.cli import demo
from toolkit.cli import analyze
from toolkit.cli import compare

COMMAND_MODULES = (new_dataset, validate, gen_config, eval, demo_model, demo, analyze, compare)
