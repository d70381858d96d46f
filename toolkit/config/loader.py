"""Load OpenCompass-style config files into the engine's specs (:mod:`toolkit.config.spec`).

Which variables count follows OpenCompass:

* ``opencompass CONFIG.py`` reads the variables ``datasets`` and ``models``;
  ``opencompass --datasets NAME`` reads every variable whose name ends in ``_datasets``.
  :func:`load_config` does the first when the file has a ``datasets`` variable and the
  second otherwise (a dataset config such as ``ceval_gen.py`` has only ``ceval_datasets``);
  :func:`load_datasets` always does the second (``NAME/SUFFIX``: variables ending in ``SUFFIX``).
* summary groups come from ``summarizer['summary_groups']``, else ``summary_groups``,
  else every ``*_summary_groups`` list, in file order;
* every ``<name>_subject_mapping`` dict is kept by ``<name>`` (names and categories for reports);
* the groups a run of the file summarises (``LoadedConfig.groups``): the declared summary
  groups, else category groups derived from its subject mappings (:mod:`toolkit.config.groups`),
  else those of the config files it imports (``ceval_gen.py`` → ``ceval_gen_5f30c7.py``).

Each file, and each base file it imports, is executed once per load (one
:func:`~toolkit.config.pyconfig.read_config_file`); everything above comes from that read.
Neither OpenCompass nor mmengine is imported (see :mod:`toolkit.config.pyconfig`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit.config.convert import dataset_spec, model_spec
from toolkit.config.groups import groups_from_mappings
from toolkit.config.pyconfig import ConfigRead, read_config_file
from toolkit.config.resolve import resolve_dataset_configs, split_dataset_arg
from toolkit.config.spec import DatasetSpec, LoadedConfig
from toolkit.errors import ConfigError


def _list_of_dicts(value: Any, name: str, file: Path) -> list[Mapping[str, Any]]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(f"{name} must be a list of dicts", file=file)
    return list(value)


def suffixed(values: Mapping[str, Any], suffix: str) -> list[str]:
    """The variable names ending in ``suffix``, in the order the config defines them."""
    return [name for name in values if name.endswith(suffix)]


def dataset_dicts(values: Mapping[str, Any], file: Path, *, prefer_datasets: bool = True,
                  suffix: str = "_datasets") -> list[Mapping[str, Any]]:
    """The dataset dicts of a read config: ``datasets`` if present (and preferred), else every ``*<suffix>``.

    Without a preference, a config holding only ``datasets`` still gives those.
    """
    if prefer_datasets and "datasets" in values:
        return _list_of_dicts(values["datasets"], "datasets", file)
    out: list[Mapping[str, Any]] = []
    for name in suffixed(values, suffix):
        out += _list_of_dicts(values[name], name, file)
    if not out and suffix == "_datasets" and "datasets" in values:
        return _list_of_dicts(values["datasets"], "datasets", file)
    return out


def _summary_groups(values: Mapping[str, Any], file: Path) -> tuple[Mapping[str, Any], ...]:
    summarizer = values.get("summarizer")
    if isinstance(summarizer, Mapping) and "summary_groups" in summarizer:
        groups = _list_of_dicts(summarizer["summary_groups"], "summarizer['summary_groups']", file)
    elif "summary_groups" in values:
        groups = _list_of_dicts(values["summary_groups"], "summary_groups", file)
    else:
        groups = [g for name in suffixed(values, "_summary_groups") for g in _list_of_dicts(values[name], name, file)]
    for group in groups:
        if not isinstance(group.get("name"), str) or not isinstance(group.get("subsets"), (list, tuple)):
            raise ConfigError(f"summary group {group!r} needs a 'name' and a list of 'subsets'", file=file)
    return tuple(groups)


def _subject_mappings(values: Mapping[str, Any], file: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in suffixed(values, "_subject_mapping"):
        mapping = values[name]
        if not isinstance(mapping, Mapping) or not all(isinstance(v, (list, tuple)) for v in mapping.values()):
            raise ConfigError(f"{name} must be a dict {{subject: [English name, Chinese name, category]}}", file=file)
        out[name.removesuffix("_subject_mapping")] = {str(k): tuple(str(x) for x in v) for k, v in mapping.items()}
    return out


GROUP_IMPORT_DEPTH = 3
"""How many imports deep groups are looked for when a file declares and implies none."""


def _run_groups(read: ConfigRead, depth: int = 0) -> tuple[Mapping[str, Any], ...]:
    """Declared summary groups, else groups from the subject mappings, else the base files' groups."""
    declared = _summary_groups(read.values, read.path)
    if declared:
        return tuple(dict(g) for g in declared)
    derived = groups_from_mappings(_subject_mappings(read.values, read.path))
    if derived or depth >= GROUP_IMPORT_DEPTH:
        return tuple(derived)
    return tuple(g for base in read.bases for g in _run_groups(base, depth + 1))


def _unique(datasets: Sequence[DatasetSpec]) -> tuple[DatasetSpec, ...]:
    seen: dict[str, DatasetSpec] = {}
    for spec in datasets:
        if spec.abbr in seen:
            first = seen[spec.abbr]
            raise ConfigError(
                f"two datasets share the abbreviation {spec.abbr!r} ({first.source} and {spec.source}); "
                "their results would overwrite each other",
                hint="give each dataset its own abbr, or list each config once",
            )
        seen[spec.abbr] = spec
    return tuple(datasets)


def _loaded(read: ConfigRead, datasets: Sequence[DatasetSpec], models: Sequence[Any] = ()) -> LoadedConfig:
    return LoadedConfig(
        datasets=tuple(datasets),
        models=tuple(models),
        source=str(read.path),
        summary_groups=_summary_groups(read.values, read.path),
        subject_mappings=_subject_mappings(read.values, read.path),
        groups=_run_groups(read),
    )


def load_config(path: str | Path) -> LoadedConfig:
    """Read an OpenCompass-style config file (dataset config, aggregator, or full run config).

    Example:
        >>> cfg = load_config("configs/datasets/my_bank/my_bank_gen.py")  # doctest: +SKIP
        >>> [d.abbr for d in cfg.datasets], cfg.datasets[0].version  # doctest: +SKIP
        (['my_bank-my_subject'], '3f2a1c')
    """
    file = Path(path)
    read = read_config_file(file)
    read = ConfigRead(file, read.values, read.bases)  # messages and ``source`` name the file as given
    values = read.values
    datasets = [dataset_spec(d, file=file) for d in dataset_dicts(values, file)]
    models = [model_spec(m, file=file) for m in _list_of_dicts(values.get("models") or [], "models", file)]
    return _loaded(read, _unique(datasets), models)


def load_datasets(names: Iterable[str], config_dir: str | Path | None = None) -> tuple[DatasetSpec, ...]:
    """The datasets of ``--datasets NAME…``: each name resolved like OpenCompass, every ``*_datasets`` read.

    Example:
        >>> [d.abbr for d in load_datasets(["ceval_gen"])][:2]
        ['ceval-computer_network', 'ceval-operating_system']
    """
    return _unique([d for loaded in load_dataset_args(names, config_dir) for d in loaded.datasets])


def load_dataset_args(names: Iterable[str], config_dir: str | Path | None = None) -> tuple[LoadedConfig, ...]:
    """Each config file that ``--datasets`` values name, read once: its datasets (abbrs unique within
    each file) and its groups; a file two values name is read once and listed once.

    ``NAME/SUFFIX`` (OpenCompass's form) reads the variables ending in ``SUFFIX``
    instead of ``_datasets``; a config that holds only ``datasets`` gives those.
    """
    reads: dict[Path, ConfigRead] = {}
    specs: dict[Path, list[DatasetSpec]] = {}
    for arg in names:
        name, suffix = split_dataset_arg(arg)
        for file in resolve_dataset_configs([name], config_dir):
            if file not in reads:
                found = read_config_file(file)
                reads[file] = ConfigRead(file, found.values, found.bases)
            dicts = dataset_dicts(reads[file].values, file, prefer_datasets=False, suffix=suffix)
            if not dicts:
                raise ConfigError(f"--datasets {arg}: no variable ending in {suffix!r}", file=file,
                                  hint="check the suffix after '/' (OpenCompass's default is _datasets)")
            specs.setdefault(file, []).extend(_unique([dataset_spec(d, file=file) for d in dicts]))
    return tuple(_loaded(reads[file], found) for file, found in specs.items())
