"""Render a dataset's OpenCompass configs from the jinja2 templates in ``templates/configs/``.

Pure: dataset facts and options in, file names and texts out. The suffix of each
hashed file is computed from the rendered text itself (read back with
:func:`toolkit.config.static.read_config_static`, exactly as ``--check`` reads it, to the
values OpenCompass's own tool gets), so a name can never disagree with its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from toolkit.config.check import config_suffix
from toolkit.config.context import (
    GenConfigOptions,
    check_rows,
    dataset_file_context,
    header_lines,
)
from toolkit.config.datapath import check_config_data_path, config_data_path
from toolkit.config.facts import DatasetFacts
from toolkit.config.groups import summary_groups
from toolkit.config.prompts import render_prompts
from toolkit.config.static import read_config_static
from toolkit.resources import templates_dir


@dataclass(frozen=True)
class RenderedFile:
    """One generated config file."""

    filename: str
    text: str
    kind: str
    """``dataset`` (hashed), ``aggregator`` or ``summary``."""
    mode: str | None = None
    suffix: str | None = None
    """The 6-hex prompt hash in the name of a hashed file."""


def _python_literal(value: Any) -> str:
    # repr of plain data is valid, deterministic Python (str keeps CJK text readable).
    return repr(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "configs")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = _python_literal
    return env


def data_path_for(facts: DatasetFacts, options: GenConfigOptions) -> str:
    """The ``path`` the dataset dicts get; UsageError if OpenCompass could swap it for a download."""
    path = options.data_path or config_data_path(facts.root, absolute=options.abs_path)
    check_config_data_path(path)
    return path


def render_configs(facts: DatasetFacts, options: GenConfigOptions, *, data_path: str | None = None) -> list[RenderedFile]:
    """All files for ``facts``: per mode the hashed file and its aggregator, then the summary groups.

    ``data_path`` defaults to :func:`data_path_for`.

    Example:
        >>> files = render_configs(read_dataset_facts("data/my_bank"), GenConfigOptions())  # doctest: +SKIP
        >>> [f.filename for f in files]  # doctest: +SKIP
        ['my_bank_gen_1a2b3c.py', 'my_bank_gen.py', 'my_bank_ppl_4d5e6f.py', 'my_bank_ppl.py', 'my_bank_summary_groups.py']
    """
    check_rows(facts, options)
    path = data_path if data_path is not None else data_path_for(facts, options)
    language = options.language or facts.language
    prompts = render_prompts(
        facts.subjects,
        dataset=facts.name,
        language=language,
        letters=facts.letters,
        hint=options.hint,
        template_file=options.prompt_template,
    )
    env = _environment()
    files: list[RenderedFile] = []
    for mode in options.modes:
        context = dataset_file_context(facts, options, mode, prompts, path)
        text = env.get_template(f"dataset_{mode}.py.j2").render(context)
        stem = f"{facts.name}_{mode}"
        suffix = config_suffix(read_config_static(Path(f"{stem}.py"), source=text), f"{stem}.py")
        files.append(RenderedFile(f"{stem}_{suffix}.py", text, "dataset", mode, suffix))
        aggregator = env.get_template("aggregator.py.j2").render(
            header=header_lines(facts, options, "aggregator", mode), module=f"{stem}_{suffix}", name=facts.name
        )
        files.append(RenderedFile(f"{stem}.py", aggregator, "aggregator", mode))
    groups = env.get_template("summary_groups.py.j2").render(
        header=header_lines(facts, options, "summary"), name=facts.name, groups=summary_groups(facts, options.splits)
    )
    files.append(RenderedFile(f"{facts.name}_summary_groups.py", groups, "summary"))
    return files
