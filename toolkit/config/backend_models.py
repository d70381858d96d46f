"""OpenCompass's API and vLLM model dicts (``OpenAISDK``, ``OpenAI``, ``VLLM``, ``VLLMwithChatTemplate``).

:func:`api_model_fields` and :func:`vllm_model_fields` read one such dict into the
keyword arguments of a :class:`~toolkit.config.spec.ModelSpec`; anything toolkit
does not implement is an error naming the key.

API keys: OpenCompass's ``key='ENV'`` means ``$OPENAI_API_KEY``; ``'ENV:NAME'``,
``'$NAME'`` and ``'${NAME}'`` name another variable; ``'EMPTY'`` or no key means none
(a local server). Only the variable's *name* goes into the spec. A literal key written
in a config is moved into this process's environment under ``TOOLKIT_API_KEY_<ABBR>``
(worker processes inherit it) and the spec names that variable, so the key is never
written to task files, ``run.json``, the manifest or logs.

Prompts: without a ``meta_template`` OpenCompass sends the prompt text joined for a
base model as one user message (``endpoint='chat'``, base semantics); with the usual
API meta template (rounds of ``HUMAN`` and ``BOT``, ``SYSTEM`` as ``HUMAN``) it sends
the turns as messages — our chat semantics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.config.api_spec import DEFAULT_KEY_ENV, ApiSpec, check_env_name, normalise_base_url
from toolkit.config.spec import ModelSpec
from toolkit.errors import ConfigError

API_MODEL_KEYS = (
    "type", "abbr", "path", "openai_api_base", "key", "query_per_second", "max_out_len", "max_seq_len",
    "batch_size", "temperature", "meta_template", "retry", "timeout", "max_workers", "extra_body", "run_cfg",
    "tokenizer_path", "rpm_verbose", "verbose", "mode", "org", "openai_proxy_url", "logprobs", "top_logprobs",
    "http_client_cfg", "status_code_mappings", "think_tag", "openai_extra_kwargs", "pred_postprocessor",
)  # fmt: skip
_API_NEUTRAL: Mapping[str, tuple[Any, ...]] = {
    "rpm_verbose": (False,), "verbose": (False, True), "mode": ("none",), "org": (None,),
    "openai_proxy_url": (None,), "logprobs": (False, None), "top_logprobs": (None,), "http_client_cfg": ({},),
    "status_code_mappings": ({},), "think_tag": ("</think>",), "pred_postprocessor": (None,),
}
VLLM_MODEL_KEYS = (
    "type", "abbr", "path", "model_kwargs", "generation_kwargs", "max_seq_len", "max_out_len", "batch_size",
    "run_cfg", "stop_words", "meta_template", "mode", "use_fastchat_template", "lora_path", "fastchat_template",
    "tokenizer_only", "chat_template_kwargs", "end_str",
)  # fmt: skip
_VLLM_NEUTRAL: Mapping[str, tuple[Any, ...]] = {
    "meta_template": (None,), "mode": ("none",), "use_fastchat_template": (False,), "lora_path": (None,),
    "fastchat_template": (None,), "tokenizer_only": (False,), "chat_template_kwargs": (None, {}), "end_str": (None,),
}
_ROLE = {"HUMAN": "HUMAN", "SYSTEM": "HUMAN", "BOT": "BOT"}

Fail = Callable[..., ConfigError]


def _neutral(cfg: Mapping[str, Any], table: Mapping[str, tuple[Any, ...]], fail: Fail) -> None:
    for key, allowed in table.items():
        if key in cfg and cfg[key] not in allowed:
            raise fail(f"{key}={cfg[key]!r} is not supported", f"remove {key} (toolkit implements none of it)")


def _number(cfg: Mapping[str, Any], key: str, fail: Fail, *, minimum: float = 0) -> float | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise fail(f"{key} must be a number >= {minimum:g}, not {value!r}")
    return float(value)


def key_variable(value: Any, abbr: str, fail: Fail) -> tuple[str, bool]:
    """``(variable name, required)`` for a config's ``key`` (see the module docstring)."""
    if value is None or value == "" or value == "EMPTY":
        return DEFAULT_KEY_ENV, False
    if not isinstance(value, str):
        raise fail("key must be one string ('ENV', 'ENV:NAME', '$NAME' or a literal key); lists are not supported")
    if value == "ENV":
        return DEFAULT_KEY_ENV, True
    match = re.fullmatch(r"ENV:(\w+)|\$\{(\w+)\}|\$(\w+)", value)
    if match:
        return check_env_name(next(g for g in match.groups() if g)), True
    if value.startswith(("ENV:", "$")):
        raise fail(f"key {value!r} does not name an environment variable", "e.g. key='ENV:DEEPSEEK_API_KEY'")
    name = "TOOLKIT_API_KEY_" + re.sub(r"\W", "_", abbr).upper()
    os.environ[name] = value  # only in memory: inherited by this run's workers, never written
    return name, True


def chat_semantics(meta_template: Any, fail: Fail) -> bool:
    """True for OpenCompass's usual API meta template (HUMAN and BOT rounds), False for none."""
    if meta_template is None:
        return False
    rounds: list[Any] = meta_template.get("round") or [] if isinstance(meta_template, Mapping) else []
    ok = isinstance(rounds, list) and set(meta_template) <= {"round", "reserved_roles"} and all(
        isinstance(r, Mapping) and _ROLE.get(str(r.get("role"))) == r.get("api_role", r.get("role"))
        and set(r) <= {"role", "api_role", "generate"} for r in rounds)
    roles = [r.get("role") for r in rounds] if ok else []
    if not ok or "HUMAN" not in roles or "BOT" not in roles:
        raise fail("only the usual API meta_template is supported: round=[dict(role='HUMAN', api_role='HUMAN'), "
                   "dict(role='BOT', api_role='BOT', generate=True)] (SYSTEM as HUMAN allowed)",
                   "remove meta_template (the prompt goes as one user message) or use that one")
    return True


def api_model_fields(cfg: Mapping[str, Any], abbr: str, fail: Fail) -> dict[str, Any]:
    """``ModelSpec`` keyword arguments for an ``OpenAISDK`` / ``OpenAI`` dict (``path`` is the model name)."""
    _neutral(cfg, _API_NEUTRAL, fail)
    base = cfg.get("openai_api_base")
    if isinstance(base, list):
        raise fail("several openai_api_base URLs are not supported", "give one URL")
    if not isinstance(base, str) or not base:
        raise fail("openai_api_base is required (toolkit never calls a default URL)",
                   "e.g. openai_api_base='http://127.0.0.1:8000/v1'")
    key_env, required = key_variable(cfg.get("key", "ENV"), abbr, fail)
    qps = _number(cfg, "query_per_second", fail)
    workers = _number(cfg, "max_workers", fail, minimum=1)
    batch = _number(cfg, "batch_size", fail, minimum=1)
    extra = cfg.get("extra_body") or {}
    extra_kwargs = cfg.get("openai_extra_kwargs") or {}
    if not isinstance(extra, Mapping) or not isinstance(extra_kwargs, Mapping):
        raise fail("extra_body and openai_extra_kwargs must be dicts")
    temperature = _number(cfg, "temperature", fail)
    api = ApiSpec(
        base_url=normalise_base_url(base), key_env=key_env, key_required=required,
        concurrency=int(workers or batch or 8), qps=qps or None,
        timeout=_number(cfg, "timeout", fail, minimum=1) or 600.0,
        max_retries=int(_number(cfg, "retry", fail) or 5),
        temperature=0.0 if temperature is None else temperature,
        extra_body={**dict(extra), **dict(extra_kwargs)},
        endpoint="chat",
    )
    chat = chat_semantics(cfg.get("meta_template"), fail)
    return {"path": str(cfg["path"]), "hf_type": "chat" if chat else "base", "api": api,
            "tokenizer_path": None if cfg.get("tokenizer_path") is None else str(cfg["tokenizer_path"])}


def vllm_model_fields(cfg: Mapping[str, Any], chat: bool, fail: Fail) -> dict[str, Any]:
    """``ModelSpec`` keyword arguments for a ``VLLM`` / ``VLLMwithChatTemplate`` dict (``model_kwargs`` go to
    ``vllm.LLM``, as OpenCompass passes them)."""
    _neutral(cfg, _VLLM_NEUTRAL, fail)
    options = cfg.get("model_kwargs") or {}
    generation = cfg.get("generation_kwargs") or {}
    if not isinstance(options, Mapping) or not isinstance(generation, Mapping):
        raise fail("model_kwargs and generation_kwargs must be dicts")
    return {"path": str(cfg["path"]), "hf_type": "chat" if chat else "base", "backend": "vllm",
            "model_kwargs": dict(options), "generation_kwargs": dict(generation)}


def _count(cfg: Mapping[str, Any], key: str, fail: Fail, minimum: int = 1) -> int | None:
    value = cfg.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
        raise fail(f"{key} must be an integer >= {minimum}, not {value!r}")
    return value


def backend_model_spec(cfg: Mapping[str, Any], kind: str, fail: Fail, *, abbr: str) -> ModelSpec:
    """The :class:`ModelSpec` of an ``OpenAISDK``/``OpenAI`` (``kind`` ``api``) or ``VLLM``/``VLLMwithChatTemplate``
    (``vllm-base``/``vllm-chat``) dict; any key toolkit does not implement is an error naming it."""
    allowed = API_MODEL_KEYS if kind == "api" else VLLM_MODEL_KEYS
    unknown = [k for k in cfg if k not in allowed]
    if unknown:
        raise fail(f"unsupported key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in the model "
                   "dict", f"toolkit supports {', '.join(allowed)}")
    if cfg.get("path") is None:
        raise fail("the model dict lacks 'path'")
    run_cfg = cfg.get("run_cfg") or {}
    if not isinstance(run_cfg, Mapping) or set(run_cfg) - {"num_gpus", "num_procs"} or run_cfg.get("num_procs", 1) != 1:
        raise fail("run_cfg supports num_gpus only (and num_procs=1)")
    fields = api_model_fields(cfg, abbr, fail) if kind == "api" else vllm_model_fields(cfg, kind == "vllm-chat", fail)
    gpus = _count(run_cfg, "num_gpus", fail, minimum=0)
    return ModelSpec(
        abbr=abbr, max_seq_len=_count(cfg, "max_seq_len", fail),
        max_out_len=_count(cfg, "max_out_len", fail) or ModelSpec.max_out_len,
        batch_size=_count(cfg, "batch_size", fail) or ModelSpec.batch_size,
        num_gpus=0 if kind == "api" else ModelSpec.num_gpus if gpus is None else gpus,
        stop_words=tuple(cfg.get("stop_words") or ()),
        set_by={key: "model config" if cfg.get(key) is not None else "default"
                for key in ("max_seq_len", "max_out_len", "batch_size")},
        **fields,
    )
