"""How to reach a model behind an OpenAI-compatible HTTP API (OpenCompass's ``OpenAISDK`` / ``OpenAI``).

The API key itself is never part of a spec: only the name of the environment variable
that holds it (:attr:`ApiSpec.key_env`), so task files, ``run.json`` and the manifest,
which store specs, never hold a key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import UsageError

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
"""OpenCompass's ``key='ENV'`` and the OpenAI SDK read this variable."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ApiSpec:
    """An OpenAI-compatible server and how to talk to it."""

    base_url: str
    """``http://127.0.0.1:8000/v1``-style base; endpoints (``/completions``…) are appended."""
    key_env: str = DEFAULT_KEY_ENV
    key_required: bool = False
    """True when the user named the variable: then it must be set (a local server needs no key)."""
    concurrency: int = 8
    qps: float | None = None
    timeout: float = 600.0
    max_retries: int = 5
    temperature: float = 0.0
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    """Extra JSON fields for every request (OpenCompass's ``extra_body``)."""
    endpoint: str = "auto"
    """``auto``: prompt text to ``/completions``, chat messages to ``/chat/completions``; ``chat``: prompt
    text too goes to ``/chat/completions``, as one user message (OpenCompass's ``OpenAISDK`` without a
    ``meta_template``)."""

    def key(self) -> str | None:
        """The key from the environment; a named variable that is unset is a usage error."""
        value = os.environ.get(self.key_env) or None
        if value is None and self.key_required:
            raise UsageError(f"the API key variable {self.key_env} is not set",
                             hint=f"export {self.key_env}=<your key> (keys are read from the environment only)")
        return value


def check_env_name(name: str) -> str:
    """``name`` if it can name an environment variable, else a usage error.

    Example:
        >>> check_env_name("DEEPSEEK_API_KEY")
        'DEEPSEEK_API_KEY'
    """
    if not _ENV_NAME.fullmatch(name or ""):
        raise UsageError(f"{name!r} is not the name of an environment variable",
                         hint="give the variable's name, e.g. --api-key-env DEEPSEEK_API_KEY, never the key itself")
    return name


def normalise_base_url(url: str) -> str:
    """The base URL without a trailing slash or endpoint (``…/v1/chat/completions`` → ``…/v1``).

    Example:
        >>> normalise_base_url("http://127.0.0.1:8000/v1/chat/completions")
        'http://127.0.0.1:8000/v1'
    """
    url = url.strip().rstrip("/")
    for tail in ("/chat/completions", "/completions"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    if not re.match(r"https?://[^/]+", url):
        raise UsageError(f"{url!r} is not an http(s) URL", hint="e.g. --api-base http://127.0.0.1:8000/v1")
    return url
