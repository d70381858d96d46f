"""Find dataset configs by name, as ``opencompass --datasets NAME`` does.

OpenCompass looks for a file called ``NAME.py`` (case-insensitive, shell wildcards
allowed) anywhere under ``<config-dir>/datasets/`` and ``<config-dir>/dataset_collections/``
(``--config-dir`` defaults to ``./configs``), then under its own shipped configs. We do
the same, with toolkit's shipped configs (OpenCompass's C-Eval ones) last, so a user's
own ``configs/datasets/ceval/ceval_gen.py`` wins over ours.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

from toolkit.config.base_files import SHIPPED_CONFIGS_DIR
from toolkit.errors import ConfigError

DEFAULT_CONFIG_DIR = Path("configs")
_SUBDIRS = ("datasets", "dataset_collections")


def search_roots(config_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for dataset configs, in order: the user's, then toolkit's shipped ones."""
    user = Path(config_dir) if config_dir is not None else DEFAULT_CONFIG_DIR
    return [user / sub for sub in _SUBDIRS] + [SHIPPED_CONFIGS_DIR / sub for sub in _SUBDIRS]


def _config_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = [Path(folder) / name for folder, _, names in os.walk(root) for name in names if name.endswith(".py")]
    return sorted(found)


def _matches(root: Path, pattern: str) -> list[Path]:
    pattern = pattern.lower()
    return [p for p in _config_files(root) if fnmatch.fnmatch(p.name.lower(), pattern)]


def _is_path(name: str) -> bool:
    return name.endswith(".py") and (os.sep in name or "/" in name or Path(name).is_file())


def _may_hold_datasets(path: Path) -> bool:
    """False for files that are never dataset configs: summary groups (gen-config writes them beside the
    dataset configs) and private modules such as ``__init__.py``."""
    return not (path.stem.endswith("_summary_groups") or path.stem.startswith("_"))


def resolve_dataset_config(name: str, config_dir: str | Path | None = None) -> Path:
    """The config file for one ``--datasets`` value: a ``.py`` path as is, else ``NAME.py`` searched for.

    Raises ConfigError for an unknown name (listing close matches) and for a name that
    matches several files in the same folder tree (listing them).

    Example:
        >>> resolve_dataset_config("ceval_gen").name  # toolkit ships OpenCompass's C-Eval configs
        'ceval_gen.py'
    """
    if _is_path(name):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError("dataset config not found", file=path, hint="check the path")
        return path
    pattern = name if name.endswith(".py") else f"{name}.py"
    for root in search_roots(config_dir):
        found = _matches(root, pattern)
        if len(found) == 1:
            return found[0]
        if found:
            listed = ", ".join(str(p) for p in found)
            raise ConfigError(
                f"--datasets {name} matches {len(found)} configs under {root}: {listed}",
                hint="pass the path of the one you mean",
            )
    known = sorted({p.stem for root in search_roots(config_dir) for p in _config_files(root) if _may_hold_datasets(p)})
    close = difflib.get_close_matches(name.removesuffix(".py"), known, n=5, cutoff=0.5)
    searched = ", ".join(str(r) for r in search_roots(config_dir)[:2])
    hint = f"did you mean {', '.join(close)}?" if close else "generate one with `toolkit gen-config DATASET_DIR`"
    raise ConfigError(f"no dataset config named {name!r} (searched {searched} and toolkit's shipped configs)", hint=hint)


def split_dataset_arg(arg: str) -> tuple[str, str]:
    """``NAME`` → (NAME, ``_datasets``); OpenCompass's ``NAME/SUFFIX`` → (NAME, SUFFIX); a ``.py`` path stays whole.

    The suffix picks the config's variables to read (those whose name ends with it).

    Example:
        >>> split_dataset_arg("ceval_gen"), split_dataset_arg("ceval_gen/_test_datasets")
        (('ceval_gen', '_datasets'), ('ceval_gen', '_test_datasets'))
    """
    if _is_path(arg) or "/" not in arg:
        return arg, "_datasets"
    name, suffix = arg.split("/", 1)
    if not name or not suffix:
        raise ConfigError(f"--datasets {arg}: expected NAME or NAME/VARIABLE_SUFFIX", hint="e.g. ceval_gen/_datasets")
    return name, suffix


def resolve_dataset_configs(names: Iterable[str], config_dir: str | Path | None = None) -> list[Path]:
    """The config files for several ``--datasets`` values, in order, each once.

    Example:
        >>> [p.name for p in resolve_dataset_configs(["ceval_gen", "ceval_ppl"])]
        ['ceval_gen.py', 'ceval_ppl.py']
    """
    paths: list[Path] = []
    for name in names:
        path = resolve_dataset_config(name, config_dir)
        if path.resolve() not in {p.resolve() for p in paths}:
            paths.append(path)
    return paths
