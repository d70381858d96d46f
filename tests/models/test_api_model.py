"""The API backend (ApiModel) against the local fault-injection server: gen through completions and
chat completions, scores through echoed prompt log-probabilities, and the checks made before any question."""

from __future__ import annotations

import pytest
from api_fault_server import FaultServer, answer_letter, char_logprob

from toolkit.config.api_spec import ApiSpec, check_env_name, normalise_base_url
from toolkit.errors import UsageError
from toolkit.models.api import ApiModel
from toolkit.models.base import GenRequest, ScoreRequest


def model_for(server: FaultServer, **kw) -> ApiModel:
    api = ApiSpec(server.url, concurrency=kw.pop("concurrency", 4), max_retries=kw.pop("max_retries", 2), timeout=2)
    return ApiModel("m", server.model, api, **kw)


def test_gen_base_text_and_chat_messages() -> None:
    with FaultServer() as server:
        model = model_for(server, batch_size=3)
        reqs = [GenRequest(i, (), 8, stop_strings=("\n\nQuestion:", "\nX", "a", "b", "c"), prompt=f"Q{i}")
                for i in range(5)]
        reqs.append(GenRequest(9, (), 8, prompt=[{"role": "user", "content": "Q9"}]))
        batches = list(model.generate(reqs))
        sent = {e.path for e in server.log}
        stops = [body for body in server.log]
    assert [len(b) for b in batches] == [3, 3]
    got = {r.key: r for b in batches for r in b}
    for i in range(5):
        assert got[i].text == " " + answer_letter(f"Q{i}") and got[i].stop_reason == "stop"
    assert got[9].text == answer_letter("<user>Q9")
    assert sent == {"/v1/completions", "/v1/chat/completions"} and len(stops) == 6
    usage = model.usage()
    assert usage["requests"] == 6 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


def test_stop_strings_beyond_the_four_sent_are_applied_to_the_text() -> None:
    with FaultServer() as server:
        model = model_for(server)
        req = GenRequest(0, (), 8, stop_strings=("x1", "x2", "x3", "x4", "\n"), prompt="P")
        (res,), = list(model.generate([req]))
    assert res.text == " " + answer_letter("P") and res.stop_reason == "stop_string"


def test_scores_from_echoed_logprobs() -> None:
    with FaultServer() as server:
        model = model_for(server)
        reqs = [ScoreRequest(k, ((),) * 4, prompts=tuple(f"Q{k}\n答案：\n{x}" for x in "ABCD")) for k in range(3)]
        results = {r.key: r for b in model.score(reqs, need_total=False) for r in b}
        probes = [e for e in server.log if e.prompt == "Hi"]
    assert len(probes) == 1  # the capability check, once, before the questions
    for k in range(3):
        texts = [f"Q{k}\n答案：\n{x}" for x in "ABCD"]
        assert [s.tail_nll for s in results[k].scores] == pytest.approx([-char_logprob(t) for t in texts])
        assert results[k].scores[0].n_tokens == len(texts[0])


def test_a_failed_question_is_recorded_and_the_rest_go_on() -> None:
    with FaultServer(lambda p, a: "500" if "Q1" in p else "ok") as server:
        model = model_for(server, max_retries=1)
        reqs = [GenRequest(i, (), 4, prompt=f"Q{i}") for i in range(3)]
        got = {r.key: r for b in model.generate(reqs) for r in b}
    assert got[1].error and "HTTP 500" in got[1].error and got[1].text == ""
    assert not got[0].error and not got[2].error


def test_choice_is_refused_at_once_for_a_hosted_chat_api() -> None:
    model = ApiModel("gpt", "gpt-4o", ApiSpec("https://api.openai.com/v1"))
    with pytest.raises(UsageError, match="no prompt log-probabilities.*--infer-mode gen"):
        model.check_mode("choice")
    assert model.client.stats.requests == 0  # nothing was sent
    model.check_mode("gen")


def test_choice_is_refused_when_the_server_cannot_echo() -> None:
    with FaultServer(lambda p, a: "400") as server:
        model = model_for(server)
        with pytest.raises(UsageError, match="gives no prompt log-probabilities.*--infer-mode gen"):
            list(model.score([ScoreRequest(0, ((),), prompts=("x",))], need_total=False))
        assert [e.prompt for e in server.log] == ["Hi"]  # only the probe, no question


def test_chat_semantics_cannot_be_scored() -> None:
    model = ApiModel("m", "m", ApiSpec("http://127.0.0.1:9/v1"), hf_type="chat")
    with pytest.raises(UsageError, match="--hf-type base"):
        model.check_mode("ppl")


def test_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_TEST_KEY", raising=False)
    with pytest.raises(UsageError, match="MY_TEST_KEY is not set"):
        ApiSpec("http://x/v1", key_env="MY_TEST_KEY", key_required=True).key()
    assert ApiSpec("http://x/v1", key_env="MY_TEST_KEY").key() is None
    monkeypatch.setenv("MY_TEST_KEY", "sk-secret")
    assert ApiSpec("http://x/v1", key_env="MY_TEST_KEY", key_required=True).key() == "sk-secret"
    with pytest.raises(UsageError, match="never the key itself"):
        check_env_name("sk-secret-123")


def test_base_url_forms() -> None:
    assert normalise_base_url("http://h:1/v1/") == "http://h:1/v1"
    assert normalise_base_url("https://h/v1/completions") == "https://h/v1"
    with pytest.raises(UsageError):
        normalise_base_url("h:1/v1")


def test_prompt_text_as_one_user_message_like_opencompass_openaisdk() -> None:
    """OpenCompass's OpenAISDK without a meta_template sends the joined prompt text as one user message."""
    with FaultServer() as server:
        model = ApiModel("m", server.model, ApiSpec(server.url, endpoint="chat"))
        (res,), = list(model.generate([GenRequest(0, (), 4, prompt="Q\n答案: ")]))
        (logged,) = server.log
    assert logged.path == "/v1/chat/completions" and logged.prompt == "<user>Q\n答案: "
    assert res.text == answer_letter("<user>Q\n答案: ")
