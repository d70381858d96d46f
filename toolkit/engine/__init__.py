"""The evaluation engine: plan → partition → infer → score → summarise, behind one call.

The public face: build an :class:`EvalRunSpec` and call :func:`run_eval`; it returns an
:class:`EvalOutcome`. Importing this package imports nothing else (the names below load
on first use), so reading configs or building prompts never pulls in the whole engine,
and nothing here imports torch until a Hugging Face model loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.engine.outcome import EvalOutcome
    from toolkit.engine.run import run_eval
    from toolkit.engine.spec import EvalRunSpec, SlurmOptions

__all__ = ["EvalOutcome", "EvalRunSpec", "SlurmOptions", "run_eval"]

_HOMES = {"EvalOutcome": "toolkit.engine.outcome", "EvalRunSpec": "toolkit.engine.spec",
          "SlurmOptions": "toolkit.engine.spec", "run_eval": "toolkit.engine.run"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'toolkit.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
