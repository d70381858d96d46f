"""How one config file names another: ``with read_base(): from .x import y``, relative imports and
``opencompass.configs.*``, resolved to the file they name. Shared by the config reader that runs configs
(:mod:`toolkit.config.pyconfig`) and the one that only reads them (:mod:`toolkit.config.static`)."""

from __future__ import annotations

import ast
from pathlib import Path

from toolkit.errors import ConfigError

SHIPPED_CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs"
"""OpenCompass's own configs that ship with toolkit; ``opencompass.configs.X`` resolves here."""
OPENCOMPASS_CONFIGS = "opencompass.configs"


def is_read_base(node: ast.With) -> bool:
    """True for ``with read_base():`` (or ``with anything.read_base():``), mmengine's marker of base imports."""
    if len(node.items) != 1 or not isinstance(node.items[0].context_expr, ast.Call):
        return False
    func = node.items[0].context_expr.func
    return (isinstance(func, ast.Name) and func.id == "read_base") or (
        isinstance(func, ast.Attribute) and func.attr == "read_base"
    )


def resolve_base_module(module: str, level: int, importer: Path) -> Path:
    """The config file that ``from <level dots><module> import …`` in ``importer`` names.

    Example: ``from .ceval_gen_5f30c7 import ceval_datasets`` in ``a/ceval_gen.py``
    names ``a/ceval_gen_5f30c7.py``; ``opencompass.configs.datasets.ceval.ceval_gen``
    names toolkit's shipped ``configs/datasets/ceval/ceval_gen.py``.
    """
    parts = module.split(".")
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
    elif module.startswith(OPENCOMPASS_CONFIGS + ".") or module == OPENCOMPASS_CONFIGS:
        base, parts = SHIPPED_CONFIGS_DIR, parts[2:]
    else:
        raise ConfigError(
            f"cannot resolve base config {module!r}",
            file=importer,
            hint="import configs relatively (from .my_config import x) or from opencompass.configs",
        )
    target = base.joinpath(*parts).with_suffix(".py")
    if not target.is_file():
        shipped = " (toolkit ships only the C-Eval configs of opencompass.configs)" if not level else ""
        raise ConfigError(
            f"base config {'.' * level}{module} not found: no file {target}{shipped}",
            file=importer,
            hint="copy the config next to yours and import it relatively",
        )
    return target.resolve()
