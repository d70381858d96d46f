"""Find the data folders that ship with toolkit: ``templates/`` and ``schemas/``.

In the repository they are top-level folders; in a wheel they live inside the
package (``toolkit/templates``), so a non-editable install works from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import ToolkitError

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder ``name`` (``"templates"`` or ``"schemas"``), wherever it was installed."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ToolkitError(
        f"toolkit's {name}/ folder is missing from the installation",
        hint="reinstall toolkit (pip install -e . from a checkout, or pip install .)",
    )


def templates_dir() -> Path:
    """The folder of jinja2 templates (configs, datasheet, HTML report)."""
    return resource_dir("templates")


def schemas_dir() -> Path:
    """The folder of pandera schemas, serialised as YAML."""
    return resource_dir("schemas")
