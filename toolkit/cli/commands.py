"""Registers every command module on the root app (import order = help order)."""

from __future__ import annotations

import importlib

COMMAND_MODULES = (
    "toolkit.cli.new_dataset",
    "toolkit.cli.validate",
    "toolkit.cli.gen_config",
    "toolkit.cli.eval",
    "toolkit.cli.demo_model",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as _err:  # a command still being built; never hide other errors
        if _err.name != _name:
            raise
