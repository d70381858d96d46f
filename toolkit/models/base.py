"""What the engine needs from a model: a small protocol every backend implements.

After lm-evaluation-harness's ``LM`` idea, requests go in as batches and results
come back as they finish, so the engine can save predictions batch by batch.
Requests carry token ids, already rendered and tokenised by the backend
(:meth:`LanguageModel.encode`), and an optional ``group``: requests that share a
group share a long common prefix (the few-shot examples of one subject), whose
key/value cache a backend may compute once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from toolkit.config.spec import HfType
from toolkit.errors import UsageError

Tokens = tuple[int, ...]
ProgressFn = Callable[[int], None]
"""Called with the number of requests just finished."""


@dataclass(frozen=True)
class ScoreRequest:
    """Score several candidate token sequences of one question (PPL labels, choice continuations).

    The candidates usually share everything but their last token(s); a backend
    computes the shared part once.
    """

    key: int
    candidates: tuple[Tokens, ...]
    group: Hashable | None = None
    prompts: tuple[Any, ...] = field(default=(), compare=False)
    """The candidates as rendered text, for backends that send text (an HTTP API), else empty."""


@dataclass(frozen=True)
class CandidateScore:
    """Negative log-likelihoods of one candidate sequence."""

    total_nll: float
    """Sum of token NLLs over positions 1..n-1 (what OpenCompass's PPL averages)."""
    n_tokens: int
    """n, the whole sequence's length (OpenCompass divides the total by it)."""
    tail_nll: float
    """Sum of NLLs over the tokens after the candidates' common prefix (the choice's own tokens)."""
    tail_tokens: int

    @property
    def avg_nll(self) -> float:
        """OpenCompass's PPL score: the total loss divided by the token count."""
        return self.total_nll / self.n_tokens


@dataclass(frozen=True)
class ScoreResult:
    """Scores of every candidate of one request, in the candidates' order."""

    key: int
    scores: tuple[CandidateScore, ...]
    error: str | None = None
    """Why this request has no scores (an API request that failed after its retries); ``scores`` is empty."""


@dataclass(frozen=True)
class GenRequest:
    """Greedy generation for one prompt."""

    key: int
    tokens: Tokens
    max_new_tokens: int
    min_new_tokens: int = 0
    stop_strings: tuple[str, ...] = ()
    decided: Callable[[str], bool] | None = field(default=None, compare=False)
    """Stop as soon as this returns True for the text so far (the answer can no longer change)."""
    group: Hashable | None = None
    prompt: Any = field(default=None, compare=False)
    """The rendered prompt (text or chat messages), for backends that send text (an HTTP API)."""


@dataclass(frozen=True)
class GenResult:
    """The generated text (special tokens removed, cut at the first stop string)."""

    key: int
    text: str
    new_tokens: int
    stop_reason: str
    """``eos``, ``stop_string``, ``decided`` or ``length`` (an API: ``stop`` when the server does not say which)."""
    error: str | None = None
    """Why there is no text (an API request that failed after its retries)."""
    prompt_tokens: int | None = None
    """The prompt's token count as the backend saw it, where it says (an API's usage)."""


@runtime_checkable
class LanguageModel(Protocol):
    """A loaded model. Implementations: :class:`toolkit.models.hf.HFModel`, :class:`toolkit.models.fake.FakeModel`."""

    name: str
    hf_type: HfType
    """``base``: prompts are OpenCompass's joined text; ``chat``: messages through the chat template."""

    def encode(self, prompt: Any, *, generation: bool) -> Tokens:
        """Render a structured prompt (base text or chat messages) and tokenise it."""
        ...

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        """OpenCompass's token count of a structured prompt (for max_seq_len truncation)."""
        ...

    def decode(self, tokens: Sequence[int]) -> str:
        """Token ids back to text."""
        ...

    def score(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None, *,
              need_total: bool = True, batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Yield results batch by batch, in any order (each carries its key).

        ``need_total=False`` (choice mode) lets a backend skip the whole-sequence
        losses; only ``tail_nll`` is then meaningful. ``batch_size`` caps the requests
        of one batch (the dataset's resolved ``batch_size``; None: the model's own).
        """
        ...

    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None, *,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """Yield results batch by batch, in any order (each carries its key); ``batch_size`` as for :meth:`score`."""
        ...

    def describe(self) -> dict[str, Any]:
        """Facts for the run manifest: path, dtype, device, parameter count and the like."""
        ...

    def close(self) -> None:
        """Free memory."""
        ...


def encode_prompt(tokenizer: Any, prompt: Any, *, generation: bool, model: str) -> Tokens:
    """A Hugging Face tokenizer's ids for a prompt, as OpenCompass makes them: a string with the special
    tokens; a message list through the chat template (``generation``: with the assistant turn's opening)."""
    if isinstance(prompt, str):
        return tuple(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    if getattr(tokenizer, "chat_template", None) is None:
        raise UsageError(f"model {model} has no chat template", hint="use --hf-type base")
    text = tokenizer.apply_chat_template(list(prompt), add_generation_prompt=generation, tokenize=False)
    return tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
