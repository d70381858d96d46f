"""The OpenAI-compatible API backend: one model behind an HTTP server, as a :class:`LanguageModel`.

One backend for OpenAI, DeepSeek, Qwen and company gateways, and for vLLM, SGLang,
lmdeploy and llama.cpp servers. It sends *text*, not token ids (requests carry the
rendered prompt in ``GenRequest.prompt`` / ``ScoreRequest.prompts``):

* ``gen``: a message list (chat semantics) goes to ``/chat/completions``, a prompt
  text (base semantics) to ``/completions`` — or, with ``ApiSpec.endpoint == "chat"``,
  as one user message to ``/chat/completions`` (what OpenCompass's ``OpenAISDK`` sends
  without a ``meta_template``); greedy (temperature 0 unless the config
  says otherwise); our stop strings are sent (the first four, OpenAI's limit) and
  every one of them is applied to the text that comes back.
* ``choice`` and ``ppl``: each question's candidate texts go in one ``/completions``
  request with ``echo`` and ``logprobs`` and no new token; the server's prompt
  log-probabilities give exactly our HF backend's scores (see
  :func:`toolkit.models.api_parse.candidate_scores`). Before anything is scored,
  :meth:`ApiModel.check_mode` makes sure the server can give them (hosted chat APIs
  cannot) and says to use ``gen`` otherwise.

A request that fails after its retries comes back with ``error`` set: that question
has no prediction and the run goes on. Token usage and request counts are in
:meth:`ApiModel.describe`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from toolkit.config.api_spec import ApiSpec
from toolkit.config.spec import HfType
from toolkit.errors import UsageError
from toolkit.models.api_client import ApiClient, ApiFatalError, ApiSettings, CallOutcome
from toolkit.models.api_parse import (
    ResponseError,
    candidate_scores,
    chat_payload,
    completion_payload,
    generated,
    logprob_payload,
    prompt_logprobs,
)
from toolkit.models.base import GenRequest, GenResult, ProgressFn, ScoreRequest, ScoreResult, Tokens

MAX_STOP_SEQUENCES = 4
"""OpenAI accepts at most four stop strings; the rest are applied to the returned text."""
CHAT_ONLY_HOSTS = ("api.openai.com", "api.deepseek.com", "dashscope.aliyuncs.com", "api.anthropic.com",
                   "generativelanguage.googleapis.com", "api.moonshot.cn", "open.bigmodel.cn", "api.mistral.ai",
                   "api.groq.com", "openrouter.ai", "api.together.xyz", "ark.cn-beijing.volces.com")
"""Hosted APIs known to give no prompt log-probabilities (``echo``): choice and ppl are refused at once."""
LOGPROB_HINT = ("use --infer-mode gen (the model answers in text), or point --api-base at a server that scores "
                "prompts, such as vLLM or SGLang")


class ApiModel:
    """A model served over an OpenAI-compatible API; see the module docstring."""

    text_prompts = True
    """Requests carry rendered prompts; the engine need not tokenise (see :meth:`encode`)."""

    def __init__(self, name: str, model: str, api: ApiSpec, *, hf_type: HfType = "base", batch_size: int = 8,
                 client: ApiClient | None = None, tokenizer: Any = None) -> None:
        self.name = name
        self.model = model
        self.hf_type = hf_type
        self.api = api
        self.batch_size = max(1, batch_size)
        self.tokenizer = tokenizer
        self.client = client or ApiClient(ApiSettings(api.base_url, concurrency=api.concurrency, qps=api.qps,
                                                      timeout=api.timeout, max_retries=api.max_retries),
                                          api.key())
        self._checked: set[str] = set()

    @classmethod
    def load(cls, spec: Any, **_: object) -> ApiModel:
        """From a :class:`~toolkit.config.spec.ModelSpec` whose ``api`` is set (``path`` is the served model name)."""
        if getattr(spec, "api", None) is None:
            raise UsageError(f"model {spec.abbr} has no API base URL", hint="give --api-base URL")
        tokenizer = None
        if getattr(spec, "tokenizer_path", None):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(spec.tokenizer_path, trust_remote_code=True)
        return cls(spec.abbr, spec.path, spec.api, hf_type=spec.hf_type, batch_size=spec.batch_size,
                   tokenizer=tokenizer)

    # -- prompts ----------------------------------------------------------------------
    def encode(self, prompt: Any, *, generation: bool) -> Tokens:
        """Token ids where a tokenizer was given (``tokenizer_path``), else none: the server tokenises."""
        if self.tokenizer is None:
            return ()
        if isinstance(prompt, str):
            return tuple(self.tokenizer(prompt, add_special_tokens=True)["input_ids"])
        text = self.tokenizer.apply_chat_template(list(prompt), add_generation_prompt=generation, tokenize=False)
        return tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        """Exact with ``tokenizer_path``; else the characters of the text (about a token each in Chinese,
        an over-count in English), so that ``max_seq_len`` truncation errs on the short side."""
        if self.tokenizer is not None:
            return len(self.encode(prompt, generation=generation))
        if isinstance(prompt, str):
            return len(prompt)
        return sum(len(m.get("content", "")) for m in prompt)

    def decode(self, tokens: Sequence[int]) -> str:
        """Token ids back to text (needs ``tokenizer_path``)."""
        if self.tokenizer is None:
            raise UsageError(f"model {self.name}: decoding token ids needs a tokenizer", hint="set tokenizer_path")
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)

    # -- checks -----------------------------------------------------------------------
    def check_mode(self, mode: str) -> None:
        """Raise a usage error, before any question is sent, when ``mode`` cannot work on this server.

        ``choice`` and ``ppl`` need prompt log-probabilities: refused at once for hosted chat
        APIs, else one small probe request asks the server for them.
        """
        if mode == "gen" or mode in self._checked:
            return
        if self.hf_type == "chat":
            raise UsageError(f"model {self.name}: {mode} mode through an API scores plain text; chat messages "
                             "cannot be scored", hint="use --hf-type base, or --infer-mode gen for chat semantics")
        host = (urlparse(self.api.base_url).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in CHAT_ONLY_HOSTS):
            raise UsageError(f"model {self.name}: {host} gives no prompt log-probabilities, which {mode} mode needs",
                             hint=LOGPROB_HINT)
        try:
            outcome = next(iter(self.client.run([(0, "/completions", logprob_payload(self.model, ["Hi"]))])))
        except ApiFatalError as err:
            raise UsageError(f"model {self.name}: {mode} mode needs the /completions endpoint with prompt "
                             f"log-probabilities; {err}", hint=LOGPROB_HINT) from None
        problem = outcome.error
        if outcome.body is not None:
            try:
                prompt_logprobs(outcome.body, 1)
            except ResponseError as err:
                problem = str(err)
        if problem:
            raise UsageError(f"model {self.name}: the server at {self.api.base_url} gives no prompt "
                             f"log-probabilities ({problem}), which {mode} mode needs", hint=LOGPROB_HINT)
        self._checked.add(mode)

    # -- protocol ---------------------------------------------------------------------
    def _batches(self, outcomes: Iterator[CallOutcome], build: Any, progress: ProgressFn | None,
                 batch_size: int | None) -> Iterator[list[Any]]:
        out: list[Any] = []
        for outcome in outcomes:
            out.append(build(outcome))
            if progress:
                progress(1)
            if len(out) >= (batch_size or self.batch_size):
                yield out
                out = []
        if out:
            yield out

    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None, *,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """Greedy completions, in the order they finish, saved every ``batch_size`` answers."""
        by_key = {r.key: r for r in requests}
        jobs = []
        for r in requests:
            if r.prompt is None:
                raise ValueError("the API backend needs each request's rendered prompt (GenRequest.prompt)")
            stops = [s for s in r.stop_strings if s][:MAX_STOP_SEQUENCES]
            extra = {**self.api.extra_body}
            if isinstance(r.prompt, str) and self.api.endpoint != "chat":
                jobs.append((r.key, "/completions", completion_payload(
                    self.model, r.prompt, max_tokens=r.max_new_tokens, stop=stops,
                    temperature=self.api.temperature, extra=extra)))
            else:
                messages = [{"role": "user", "content": r.prompt}] if isinstance(r.prompt, str) else r.prompt
                jobs.append((r.key, "/chat/completions", chat_payload(
                    self.model, messages, max_tokens=r.max_new_tokens, stop=stops,
                    temperature=self.api.temperature, extra=extra)))

        def build(outcome: CallOutcome) -> GenResult:
            req = by_key[outcome.key]  # type: ignore[index]
            if outcome.body is None:
                return GenResult(req.key, "", 0, "error", error=outcome.error)
            try:
                got = generated(outcome.body, chat=not isinstance(req.prompt, str) or self.api.endpoint == "chat")
            except ResponseError as err:
                return GenResult(req.key, "", 0, "error", error=str(err))
            text, reason = got.text, got.reason
            for stop in req.stop_strings:  # the ones not sent, and servers that keep the stop string
                if stop and stop in text:
                    text, reason = text.split(stop)[0], "stop_string"
            return GenResult(req.key, text, got.completion_tokens or 0, reason, prompt_tokens=got.prompt_tokens)

        yield from self._run(jobs, build, progress, batch_size)

    def score(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None, *,
              need_total: bool = True, batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Each question's candidates scored from the server's prompt log-probabilities (one request each)."""
        self.check_mode("ppl" if need_total else "choice")
        by_key = {r.key: r for r in requests}
        jobs = []
        for r in requests:
            if len(r.prompts) != len(r.candidates) or not all(isinstance(p, str) for p in r.prompts):
                raise ValueError("the API backend needs each candidate's rendered text (ScoreRequest.prompts)")
            jobs.append((r.key, "/completions", logprob_payload(self.model, r.prompts, self.api.extra_body)))

        def build(outcome: CallOutcome) -> ScoreResult:
            req = by_key[outcome.key]  # type: ignore[index]
            if outcome.body is None:
                return ScoreResult(req.key, (), error=outcome.error)
            try:
                return ScoreResult(req.key, candidate_scores(prompt_logprobs(outcome.body, len(req.prompts))))
            except ResponseError as err:
                return ScoreResult(req.key, (), error=str(err))

        yield from self._run(jobs, build, progress, batch_size)

    def _run(self, jobs: list[Any], build: Any, progress: ProgressFn | None,
             batch_size: int | None) -> Iterator[list[Any]]:
        try:
            yield from self._batches(self.client.run(jobs), build, progress, batch_size)
        except ApiFatalError as err:
            raise UsageError(f"model {self.name}: {err}",
                             hint="check --api-base, --api-model and the key variable "
                                  f"{self.api.key_env}") from None

    def usage(self) -> dict[str, Any]:
        """Token usage and request counts so far."""
        return self.client.stats.as_dict()

    def describe(self) -> dict[str, Any]:
        """Facts for the manifest (never the key: only the name of its variable)."""
        return {"abbr": self.name, "path": self.model, "class": "ApiModel", "backend": "api",
                "api_base": self.api.base_url, "key_env": self.api.key_env, "concurrency": self.api.concurrency,
                "qps": self.api.qps, "temperature": self.api.temperature, "endpoint": self.api.endpoint}

    def close(self) -> None:
        """Nothing to free (each run opens and closes its own connections)."""
        return None
