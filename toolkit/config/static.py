"""Read an OpenCompass-style config's variables from its text alone, never running it.

:func:`toolkit.config.pyconfig.read_config` executes a config, as mmengine and OpenCompass
do (configs are Python: run those you trust). A *checking* command must not: ``gen-config
--check`` needs only each file's ``*_datasets`` list to recompute its hash. This module
parses the file with :mod:`ast` and evaluates the data-building subset configs are written
in — literals, names, ``dict(...)``/``list(...)``, f-strings, ``for``/``if`` statements,
comprehensions, ``append``/``extend``/``update``, subscripts, slices, ``del``, and the
imports (``from opencompass… import X`` stands for its import path; ``with read_base():``
imports are read from their files the same way). Anything else — ``def``, ``lambda``,
``class``, ``while``, calls of imported names, attributes that start with ``_`` — is an
error naming the line, never run. The values are those :func:`read_config` gives.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from toolkit.config.markers import ImportedName, unmarked
from toolkit.config.static_eval import Reader
from toolkit.config.static_rules import MAX_STEPS, Unsupported
from toolkit.errors import ConfigError


class Session:
    """One top-level read: each base file read once, cycles caught, a step budget shared."""

    def __init__(self) -> None:
        self.done: dict[Path, dict[str, Any]] = {}
        self.running: list[Path] = []
        self.steps = 0

    def step(self) -> None:
        """Count one evaluated node; a read that takes too many stops (a config is data, not a computation)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Unsupported(f"more than {MAX_STEPS:,} steps")

    def read(self, path: Path, source: str | None = None) -> dict[str, Any]:
        """The variables of one config file (each base file read once per session; cycles are errors)."""
        if source is None:
            path = path.resolve()
            if path in self.done:
                return self.done[path]
        if path in self.running:
            chain = " -> ".join(p.name for p in [*self.running, path])
            raise ConfigError(f"config files import each other in a cycle: {chain}", file=path)
        text = _read_source(path) if source is None else source
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as err:
            raise ConfigError(f"cannot read config: {err.msg}", file=path, line=err.lineno) from None
        reader = Reader(path, self)
        self.running.append(path)
        try:
            values = reader.module(tree)
        except ConfigError:
            raise
        except Unsupported as err:
            raise ConfigError(f"--check reads configs without running them and does not evaluate {err}",
                              file=path, line=reader.line,
                              hint="write the datasets as data: literals, dict(...), for/if, comprehensions, "
                                   "f-strings") from None
        except RecursionError:
            raise ConfigError("the config nests too deeply to read", file=path, line=reader.line) from None
        except Exception as err:  # noqa: BLE001 - the config's own error (a NameError…), found without running it
            raise ConfigError(f"the config would raise {type(err).__name__}: {err}", file=path,
                              line=reader.line) from None
        finally:
            self.running.pop()
        if source is None:
            self.done[path] = values
        return values


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=path, hint="check the path") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 ({err.reason})", file=path, hint="save the config as UTF-8") from None



def read_config_static(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """The public variables of a config, as :func:`~toolkit.config.pyconfig.read_config` gives them,
    without running any of its code. ``source`` reads that text instead of the file.

    Example:
        >>> values = read_config_static("x.py", source="n = ['a', 'b']\\nx_datasets = [dict(abbr=f'x-{s}') for s in n]\\n")
        >>> values["x_datasets"]
        [{'abbr': 'x-a'}, {'abbr': 'x-b'}]
    """
    p = Path(path)
    if source is None and not p.is_file():
        raise ConfigError("config file not found", file=p, hint="check the path")
    values = Session().read(p, source)
    return {name: unmarked(value) for name, value in values.items()
            if not name.startswith("__") and not isinstance(value, ImportedName) and not callable(value)}
