"""OpenCompass's API and vLLM model dicts: keys, key variables, meta templates."""

from __future__ import annotations

import os

import pytest

from toolkit.config.backend_models import api_model_fields, chat_semantics, key_variable
from toolkit.errors import ConfigError


def fail(message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, hint=hint, file="run.py")


API_META = dict(round=[dict(role="HUMAN", api_role="HUMAN"), dict(role="BOT", api_role="BOT", generate=True)])


def test_key_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    assert key_variable("ENV", "m", fail) == ("OPENAI_API_KEY", True)
    assert key_variable("ENV:DEEPSEEK_KEY", "m", fail) == ("DEEPSEEK_KEY", True)
    assert key_variable("$QWEN_KEY", "m", fail) == ("QWEN_KEY", True)
    assert key_variable("${QWEN_KEY}", "m", fail) == ("QWEN_KEY", True)
    assert key_variable("EMPTY", "m", fail) == ("OPENAI_API_KEY", False)
    monkeypatch.delenv("TOOLKIT_API_KEY_MY_MODEL_1", raising=False)
    name, required = key_variable("sk-literal-123", "my-model.1", fail)
    assert (name, required) == ("TOOLKIT_API_KEY_MY_MODEL_1", True)
    assert os.environ[name] == "sk-literal-123"  # in memory only; the spec holds the name
    monkeypatch.delenv(name)
    with pytest.raises(ConfigError, match="lists are not supported"):
        key_variable(["a", "b"], "m", fail)
    for bad in ("ENV:not-a-name", "$", "${A B}"):
        with pytest.raises(ConfigError, match="does not name an environment variable"):
            key_variable(bad, "m", fail)


def test_meta_templates() -> None:
    assert chat_semantics(None, fail) is False
    assert chat_semantics(API_META, fail) is True
    with_system = dict(round=[dict(role="HUMAN", api_role="HUMAN"), dict(role="SYSTEM", api_role="HUMAN"),
                              dict(role="BOT", api_role="BOT", generate=True)])
    assert chat_semantics(with_system, fail) is True
    with pytest.raises(ConfigError, match="usual API meta_template"):
        chat_semantics(dict(round=[dict(role="HUMAN", begin="<s>")]), fail)


def test_openaisdk_dict() -> None:
    cfg = dict(type="OpenAISDK", abbr="ds", path="deepseek-chat", openai_api_base="https://api.deepseek.com/v1/",
               key="ENV:DEEPSEEK_API_KEY", query_per_second=2, max_out_len=512, batch_size=16, temperature=0.3,
               meta_template=API_META, retry=3)
    got = api_model_fields(cfg, "ds", fail)
    api = got["api"]
    assert got["hf_type"] == "chat" and got["path"] == "deepseek-chat"
    assert (api.base_url, api.key_env, api.key_required) == ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", True)
    assert (api.qps, api.concurrency, api.temperature, api.max_retries, api.endpoint) == (2.0, 16, 0.3, 3, "chat")
    plain = api_model_fields(dict(path="m", openai_api_base="http://127.0.0.1:8000/v1", key="EMPTY"), "m", fail)
    assert plain["hf_type"] == "base" and plain["api"].temperature == 0.0 and not plain["api"].key_required
    with pytest.raises(ConfigError, match="openai_api_base is required"):
        api_model_fields(dict(path="m"), "m", fail)
    with pytest.raises(ConfigError, match="logprobs=True is not supported"):
        api_model_fields(dict(path="m", openai_api_base="http://h/v1", logprobs=True), "m", fail)
