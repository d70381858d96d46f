"""A deterministic stand-in model: no torch, instant, for pipeline tests and ``--dry`` demos.

Text is tokenised as UTF-8 bytes (so counts are real and stable); scores and
generations are derived from a hash of the tokens, so the same prompt always
gets the same answer and different prompts get different ones. ``answers`` can
script generations by a substring of the prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from toolkit.config.spec import ModelSpec
from toolkit.models.base import CandidateScore, GenRequest, GenResult, ProgressFn, ScoreRequest, ScoreResult, Tokens


def _h(tokens: Sequence[int]) -> int:
    return int.from_bytes(hashlib.sha256(bytes(t % 256 for t in tokens)).digest()[:8], "big")


class FakeModel:
    """Implements :class:`toolkit.models.base.LanguageModel` without a neural network; batches hold ``batch``
    requests, fewer when a call's ``batch_size`` asks for fewer."""

    def __init__(self, spec: ModelSpec, answers: Mapping[str, str] | None = None, batch: int = 4) -> None:
        self.spec = spec
        self.name = spec.abbr
        self.hf_type = spec.hf_type
        self.answers = dict(answers or {})
        self.batch = max(1, batch)
        self.calls = {"score": 0, "generate": 0}
        self.seen_keys: list[int] = []

    def encode(self, prompt: Any, *, generation: bool) -> Tokens:
        """UTF-8 bytes of the text (chat messages joined with their roles)."""
        if not isinstance(prompt, str):
            prompt = "".join(f"<{m['role']}>{m['content']}" for m in prompt) + ("<assistant>" if generation else "")
        return tuple(prompt.encode("utf-8"))

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        """The number of :meth:`encode`'s tokens."""
        return len(self.encode(prompt, generation=generation))

    def decode(self, tokens: Sequence[int]) -> str:
        """The bytes back to text."""
        return bytes(t % 256 for t in tokens).decode("utf-8", errors="replace")

    def _batches(self, items: Sequence[Any], batch_size: int | None) -> Iterator[Sequence[Any]]:
        size = min(self.batch, batch_size or self.batch)
        for i in range(0, len(items), size):
            yield items[i:i + size]

    def score(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None, *,
              need_total: bool = True, batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Scores from a hash of each candidate, in batches of its own size (smaller when ``batch_size`` is)."""
        for chunk in self._batches(requests, batch_size):
            self.calls["score"] += 1
            out = []
            for r in chunk:
                self.seen_keys.append(r.key)
                scores = tuple(CandidateScore(float(_h(c) % 1000) / 100, len(c), float(_h(c) % 997) / 100, 1)
                               for c in r.candidates)
                out.append(ScoreResult(r.key, scores))
            if progress:
                progress(len(out))
            yield out

    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None, *,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """A scripted answer, else a letter from a hash of the prompt, in batches as :meth:`score`."""
        for chunk in self._batches(requests, batch_size):
            self.calls["generate"] += 1
            out = []
            for r in chunk:
                self.seen_keys.append(r.key)
                text = self.decode(r.tokens)
                scripted = next((a for k, a in self.answers.items() if k in text), None)
                answer = scripted if scripted is not None else "\n" + "ABCD"[_h(r.tokens) % 4] + "\n"
                out.append(GenResult(r.key, answer[: r.max_new_tokens * 4], len(answer), "decided"))
            if progress:
                progress(len(out))
            yield out

    def describe(self) -> dict[str, Any]:
        """Its abbr, path and class."""
        return {"abbr": self.name, "path": self.spec.path, "class": "FakeModel"}

    def close(self) -> None:
        """Nothing to free."""
        return None
