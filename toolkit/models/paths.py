"""Where a model's files are: checked before anything is loaded or written, without torch.

``--hf-path`` (and ``--tokenizer-path``) may be a Hugging Face folder, a ``.gguf`` file,
or a hub id ``org/name``. A hub id is left to transformers; anything path-like must
exist, so that a typo fails in a second, before a run folder is made, with the path
and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.config.spec import ModelSpec
from toolkit.errors import UsageError


def split_gguf(path: str) -> tuple[str, dict[str, Any]]:
    """``dir/model.gguf`` → (``dir``, {"gguf_file": "model.gguf"}); other paths unchanged.

    Example:
        >>> split_gguf("models/m")
        ('models/m', {})
    """
    p = Path(path).expanduser()
    if p.suffix == ".gguf":
        if not p.is_file():
            raise UsageError("GGUF file not found", file=p, hint="check --hf-path")
        return str(p.parent), {"gguf_file": p.name}
    return str(p), {}


def is_path_like(given: str) -> bool:
    """True unless ``given`` has the shape of a hub id (``org/name``, not starting with ``/ . ~``).

    Example:
        >>> is_path_like("HuggingFaceTB/SmolLM2-135M"), is_path_like("./models/m"), is_path_like("/m")
        (False, True, True)
    """
    return given.startswith(("/", ".", "~")) or given.count("/") != 1


def check_model_paths(spec: ModelSpec) -> None:
    """Raise a UsageError naming the model when its path or tokenizer path is path-like and missing."""
    for given in dict.fromkeys((spec.path, spec.tokenizer_path or spec.path)):
        if is_path_like(given) and not Path(given).expanduser().exists():
            raise UsageError(f"model not found: {given}",
                             hint="pass a local model folder or .gguf file to --hf-path (see `toolkit demo-model`)")
        split_gguf(given)
