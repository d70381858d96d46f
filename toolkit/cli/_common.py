"""What every command shares: consoles bound to the right stream, and error handling.

Data goes to stdout, progress and messages to stderr. Library errors
(:class:`toolkit.errors.ToolkitError`) become one clear line on stderr and an exit
code: 2 for usage errors, 1 for data and run errors, 130 when interrupted. An
``OSError`` that reaches a command (a full disk, a folder we may not write to)
becomes one line too, naming the file (:func:`toolkit.fileio.write_error`).
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar, cast

import typer
from rich.console import Console

from toolkit.errors import ToolkitError
from toolkit.fileio import os_error

F = TypeVar("F", bound=Callable[..., Any])


class Language(str, Enum):
    """The prompt language of a dataset (``dataset.json``'s ``language``)."""

    zh = "zh"
    en = "en"


def stdout_console() -> Console:
    """A console on the current stdout (looked up at call time, so tests can capture it)."""
    return Console(file=sys.stdout, soft_wrap=True)


def stderr_console() -> Console:
    """A console on the current stderr, for messages and progress."""
    return Console(file=sys.stderr, soft_wrap=True, highlight=False)


def report_error(err: ToolkitError) -> None:
    """Print one line for ``err`` on stderr (never failing itself: stderr may be gone)."""
    try:
        print(f"error: {err}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def handle_errors(func: F) -> F:
    """Turn ToolkitError into a message and an exit code; Ctrl-C into exit 130.

    A command called with ``debug=True`` (``--debug``) also prints the traceback
    above the one-line message.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ToolkitError, OSError) as err:
            if kwargs.get("debug"):
                traceback.print_exc(file=sys.stderr)
            error = err if isinstance(err, ToolkitError) else os_error(err)
            report_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return cast(F, wrapper)  # functools.wraps keeps the signature F describes
