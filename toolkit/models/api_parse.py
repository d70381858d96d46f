"""OpenAI-compatible requests and responses as plain data: what to send, and what came back.

Pure functions, no I/O, so recorded responses test them. Three kinds of request:

* chat completions (``/chat/completions``) for ``gen`` with chat semantics: the message
  list our chat rendering gives (OpenCompass's);
* completions (``/completions``) for ``gen`` with base semantics: the prompt text;
* completions with ``echo`` and ``logprobs`` and no new token for ``choice`` and ``ppl``:
  the server returns each prompt token's log-probability (the first token has none),
  which gives exactly our HF backend's scores (see :func:`candidate_scores`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.models.base import CandidateScore


class ResponseError(ValueError):
    """A response that lacks what was asked for (no text, no log-probabilities)."""


def chat_payload(model: str, messages: Sequence[Mapping[str, str]], *, max_tokens: int,
                 stop: Sequence[str] = (), temperature: float = 0.0,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A greedy chat completion request."""
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages], "max_tokens": max_tokens,
                            "temperature": temperature, "n": 1}
    if stop:
        body["stop"] = list(stop)
    body.update(extra or {})
    return body


def completion_payload(model: str, prompt: str, *, max_tokens: int, stop: Sequence[str] = (),
                       temperature: float = 0.0, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A greedy text completion request."""
    body: dict[str, Any] = {"model": model, "prompt": prompt, "max_tokens": max_tokens,
                            "temperature": temperature, "n": 1}
    if stop:
        body["stop"] = list(stop)
    body.update(extra or {})
    return body


def logprob_payload(model: str, prompts: Sequence[str], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Prompt log-probabilities of several texts in one request, nothing generated."""
    body: dict[str, Any] = {"model": model, "prompt": list(prompts), "max_tokens": 0, "echo": True,
                            "logprobs": 0, "temperature": 0.0}
    body.update({k: v for k, v in (extra or {}).items() if k not in ("max_tokens", "echo", "logprobs", "prompt")})
    return body


@dataclass(frozen=True)
class Generated:
    """The text of one completion and what the server said about it."""

    text: str
    reason: str
    """Ours: ``length``, ``stop_string`` or ``eos`` where the server says which (vLLM's ``stop_reason``),
    ``stop`` where it does not, or its own word (``content_filter``)."""
    completion_tokens: int | None
    prompt_tokens: int | None


def _choices(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ResponseError("the response has no choices")
    return sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, Mapping) else 0)


def generated(body: Mapping[str, Any], *, chat: bool) -> Generated:
    """The first choice's text (chat: ``message.content``; completions: ``text``)."""
    choice = _choices(body)[0]
    if chat:
        message = choice.get("message") or {}
        text = message.get("content")
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if text is None and reasoning is None:
            raise ResponseError("the chat response has no message content")
        text = text or ""
    else:
        text = choice.get("text")
        if not isinstance(text, str):
            raise ResponseError("the completion response has no text")
    usage: Mapping[str, Any] = body["usage"] if isinstance(body.get("usage"), Mapping) else {}
    return Generated(text, _reason(choice), usage.get("completion_tokens"), usage.get("prompt_tokens"))


def _reason(choice: Mapping[str, Any]) -> str:
    finish = str(choice.get("finish_reason") or "stop")
    if finish != "stop" or "stop_reason" not in choice:
        return finish
    return "stop_string" if isinstance(choice["stop_reason"], str) else "eos"


@dataclass(frozen=True)
class PromptLogprobs:
    """One echoed prompt: its tokens (as the server spells them) and their log-probabilities."""

    tokens: tuple[str, ...]
    logprobs: tuple[float | None, ...]
    """None for the first token (nothing precedes it)."""
    ids: tuple[int, ...] | None = None
    """Token ids, where the server sends them (vLLM's ``prompt_logprobs``)."""
    offsets: tuple[int, ...] = ()

    def identity(self) -> tuple[Any, ...]:
        """What tells two prompts' tokens apart: the ids, else spelling, offset and log-probability
        together (byte-level tokens of one character can all be spelled ``""``)."""
        if self.ids is not None:  # the first token's id is not sent: its spelling stands in
            return (self.tokens[0], *self.ids[1:])
        return tuple(zip(self.tokens, self.offsets or [None] * len(self.tokens), self.logprobs))


def prompt_logprobs(body: Mapping[str, Any], n_prompts: int) -> list[PromptLogprobs]:
    """Each prompt's token log-probabilities from an echo response (choices in prompt order).

    Raises :class:`ResponseError` when the server did not send them (it ignores ``echo``).
    """
    choices = _choices(body)
    if len(choices) != n_prompts:
        raise ResponseError(f"asked for {n_prompts} prompts' log-probabilities, got {len(choices)} choices")
    out = []
    for choice in choices:
        lp = choice.get("logprobs")
        if not isinstance(lp, Mapping) or not isinstance(lp.get("token_logprobs"), list) \
                or not isinstance(lp.get("tokens"), list) or not lp["tokens"]:
            raise ResponseError("the server sent no prompt log-probabilities (echo + logprobs)")
        values = tuple(None if v is None else float(v) for v in lp["token_logprobs"])
        if len(values) != len(lp["tokens"]) or any(v is None for v in values[1:]):
            raise ResponseError("the server's prompt log-probabilities are incomplete")
        offsets: list[Any] = lp["text_offset"] if isinstance(lp.get("text_offset"), list) else []
        out.append(PromptLogprobs(tuple(str(t) for t in lp["tokens"]), values, _token_ids(choice, len(values)),
                                  tuple(int(o) for o in offsets) if len(offsets) == len(values) else ()))
    return out


def _token_ids(choice: Mapping[str, Any], n: int) -> tuple[int, ...] | None:
    """The prompt's token ids from vLLM's ``prompt_logprobs`` (one ``{id: {...}}`` per token), else None."""
    ids = choice.get("prompt_token_ids")
    if isinstance(ids, list) and len(ids) == n and all(isinstance(i, int) for i in ids):
        return tuple(ids)
    entries = choice.get("prompt_logprobs")
    if not isinstance(entries, list) or len(entries) != n:
        return None
    out = []
    for entry in entries[1:]:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            return None
        try:
            out.append(int(next(iter(entry))))
        except ValueError:
            return None
    return (-1, *out)


def _common_prefix(seqs: Sequence[Sequence[str]]) -> int:
    n = 0
    for column in zip(*seqs):
        if any(tok != column[0] for tok in column[1:]):
            break
        n += 1
    return n


def candidate_scores(echoes: Sequence[PromptLogprobs]) -> tuple[CandidateScore, ...]:
    """Our HF backend's scores of one question's candidates from their echoed log-probabilities.

    ``total_nll`` sums the NLLs of positions 1..n-1, ``n_tokens`` is n (OpenCompass's PPL);
    the tail is every token after the candidates' common token prefix (each candidate keeps
    at least one): for ``…答案：\\nA`` … ``…\\nD`` that is the letter's token, so the tail NLL is
    the letter's score in ``choice`` mode, computed by the server on the very tokens the HF
    backend scores (both tokenise the whole candidate text).
    """
    shared = _common_prefix([e.identity() for e in echoes])
    shared = max(0, min([shared] + [len(e.tokens) - 1 for e in echoes]))
    scores = []
    for e in echoes:
        nlls = [-v for v in e.logprobs[1:] if v is not None]
        tail_start = max(1, shared)
        tail = [-v for v in e.logprobs[tail_start:] if v is not None]
        scores.append(CandidateScore(total_nll=sum(nlls), n_tokens=len(e.tokens), tail_nll=sum(tail),
                                     tail_tokens=len(e.tokens) - shared))
    return tuple(scores)
