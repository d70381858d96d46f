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
from typer.core import TyperCommand

from toolkit.config.spec import CircularKind
from toolkit.errors import ToolkitError
from toolkit.fileio import os_error

F = TypeVar("F", bound=Callable[..., Any])


class Language(str, Enum):
    """The prompt language of a dataset (``dataset.json``'s ``language``)."""

    zh = "zh"
    en = "en"


class Circular(str, Enum):
    """``--circular``: CircularEval over every rotation of the options, or every permutation."""

    circular = "circular"
    all_perm = "all-perm"


CIRCULAR_FLAG = "--circular"
CIRCULAR_KINDS: dict[str, CircularKind] = {"circular": "circular", "all-perm": "all_possible"}
"""``--circular``'s values → OpenCompass's ``circular_patterns``."""


def circular_value(args: list[str]) -> list[str]:
    """``--circular`` without one of its values → ``--circular circular`` (the flag's value is optional).

    Example:
        >>> circular_value(["--circular", "data/bank"]), circular_value(["x", "--circular", "all-perm"])
        (['--circular', 'circular', 'data/bank'], ['x', '--circular', 'all-perm'])
    """
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == CIRCULAR_FLAG and (i + 1 == len(args) or args[i + 1] not in CIRCULAR_KINDS):
            out.append(Circular.circular.value)
    return out


class CircularArgs(TyperCommand):
    """A command whose ``--circular`` may stand alone (:func:`circular_value`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse ``args`` with a bare ``--circular`` completed."""
        return super().parse_args(ctx, circular_value(list(args)))


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
