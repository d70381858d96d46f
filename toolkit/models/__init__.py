"""Model backends behind one small protocol (:class:`toolkit.models.base.LanguageModel`).

Backends are registered in an explicit dict and imported lazily, so importing
this package never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.config.spec import ModelSpec
    from toolkit.models.base import LanguageModel


def _hf(spec: ModelSpec, **kwargs: object) -> LanguageModel:
    from toolkit.models.hf import HFModel

    return HFModel.load(spec, **kwargs)  # type: ignore[arg-type]


def _fake(spec: ModelSpec, **kwargs: object) -> LanguageModel:
    from toolkit.models.fake import FakeModel

    return FakeModel(spec)


BACKENDS: dict[str, Callable[..., LanguageModel]] = {"hf": _hf, "fake": _fake}


def load_model(spec: ModelSpec, backend: str = "hf", **kwargs: object) -> LanguageModel:
    """Load the model ``spec`` with ``backend`` (``"hf"`` or ``"fake"``)."""
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise UsageError(f"unknown model backend {backend!r}", hint=f"use one of {', '.join(BACKENDS)}") from None
    return factory(spec, **kwargs)
