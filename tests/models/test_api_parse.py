"""Parsing OpenAI-compatible responses, on responses recorded from a real vLLM 0.32 server
(``vllm serve`` of the demo model; see tests/models/data/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.models.api_parse import (
    ResponseError,
    candidate_scores,
    chat_payload,
    completion_payload,
    generated,
    logprob_payload,
    prompt_logprobs,
)

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_echo_logprobs_give_the_letters_scores() -> None:
    body = recorded("vllm_echo_logprobs.json")  # prompts "答案：\nA" … "答案：\nD"
    echoes = prompt_logprobs(body, 4)
    assert [e.tokens[-1] for e in echoes] == ["A", "B", "C", "D"]
    assert all(e.ids is not None and e.logprobs[0] is None for e in echoes)
    scores = candidate_scores(echoes)
    letters = [c["logprobs"]["token_logprobs"][-1] for c in body["choices"]]
    assert [s.tail_nll for s in scores] == [-v for v in letters]
    assert {s.tail_tokens for s in scores} == {1} and {s.n_tokens for s in scores} == {8}
    first = body["choices"][0]["logprobs"]["token_logprobs"]
    assert scores[0].total_nll == pytest.approx(-sum(first[1:]))


def test_byte_tokens_spelled_alike_do_not_fake_a_shared_prefix() -> None:
    """The first three tokens of "答" are byte pieces that vLLM spells "" — ids tell them apart;
    without ids, spelling, offset and log-probability together do."""
    body = recorded("vllm_echo_logprobs.json")
    other = json.loads(json.dumps(body))
    choice = other["choices"][1]
    choice["prompt_logprobs"][2] = {"999": {"logprob": choice["logprobs"]["token_logprobs"][2]}}  # another byte token
    echoes = prompt_logprobs(other, 4)
    assert candidate_scores(echoes)[1].tail_tokens == 6  # differs from position 2 on
    for c in other["choices"]:
        del c["prompt_logprobs"]
    choice["logprobs"]["token_logprobs"][2] -= 0.5  # same spelling "", another token
    scores = candidate_scores(prompt_logprobs(other, 4))
    assert scores[1].tail_tokens == 6 and scores[0].tail_tokens == 6
    assert scores[1].tail_nll == pytest.approx(-sum(choice["logprobs"]["token_logprobs"][2:]))


def test_missing_logprobs_are_an_error() -> None:
    body = recorded("vllm_completion_stop.json")  # a plain completion: no echo, no logprobs
    with pytest.raises(ResponseError, match="no prompt log-probabilities"):
        prompt_logprobs(body, 1)
    with pytest.raises(ResponseError, match="asked for 2"):
        prompt_logprobs(recorded("vllm_echo_logprobs.json"), 2)


def test_completion_and_chat_texts() -> None:
    got = generated(recorded("vllm_completion_stop.json"), chat=False)
    assert (got.text, got.reason) == (" 1", "stop_string")
    assert got.prompt_tokens and got.completion_tokens
    chat = generated(recorded("vllm_chat.json"), chat=True)
    assert chat.text == "1 + 1 =" and chat.reason == "length"
    with pytest.raises(ResponseError):
        generated({"choices": []}, chat=True)
    eos = {"choices": [{"index": 0, "text": "A", "finish_reason": "stop", "stop_reason": None}]}
    assert generated(eos, chat=False).reason == "eos"
    plain = {"choices": [{"index": 0, "message": {"content": "B"}, "finish_reason": "stop"}]}
    assert generated(plain, chat=True).reason == "stop"  # OpenAI does not say whether EOS or a stop string


def test_payloads() -> None:
    msgs = [{"role": "user", "content": "Q"}]
    assert chat_payload("m", msgs, max_tokens=5, stop=["\n"]) == {
        "model": "m", "messages": msgs, "max_tokens": 5, "temperature": 0.0, "n": 1, "stop": ["\n"]}
    assert "stop" not in completion_payload("m", "Q", max_tokens=5)
    body = logprob_payload("m", ["a", "b"], {"echo": False, "top_k": 1})
    assert body["echo"] is True and body["max_tokens"] == 0 and body["prompt"] == ["a", "b"] and body["top_k"] == 1
