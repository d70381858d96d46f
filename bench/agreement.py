"""How often two tools predict the same answer, question by question.

Predictions are ``key → letter`` maps; keys are ``<abbr>/<row index>`` so that
OpenCompass's and our prediction files (both ``abbr → index → record``) line up
directly. Gen predictions are compared *after* extraction with
``first_capital_postprocess`` (what both tools score), ppl and choice ones as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Agreement:
    """Same answers on ``same`` of ``compared`` questions present in both."""

    compared: int
    same: int
    only_left: int
    only_right: int
    examples: tuple[tuple[str, str, str], ...]
    """Up to 10 disagreements: (key, left, right)."""

    @property
    def rate(self) -> float:
        """Share of compared questions with the same answer (0 when nothing was compared)."""
        return self.same / self.compared if self.compared else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {"compared": self.compared, "same": self.same, "rate": round(self.rate, 4),
                "only_left": self.only_left, "only_right": self.only_right,
                "disagreements": [list(e) for e in self.examples]}


def letters(predictions: Mapping[str, Mapping[str, Mapping[str, Any]]],
            extract: Callable[[str], str] | None = None) -> dict[str, str]:
    """``abbr → index → record`` → ``"abbr/index" → answer`` (extracted from ``prediction`` if asked).

    Example:
        >>> letters({"d": {"0": {"prediction": "\\nB\\n"}}}, str.strip)
        {'d/0': 'B'}
    """
    out: dict[str, str] = {}
    for abbr, records in predictions.items():
        for idx, rec in records.items():
            text = str(rec.get("prediction", ""))
            out[f"{abbr}/{idx}"] = extract(text) if extract else text
    return out


def compare(left: Mapping[str, str], right: Mapping[str, str]) -> Agreement:
    """Compare two ``key → answer`` maps on their common keys.

    Example:
        >>> a = compare({"q1": "A", "q2": "B", "q3": "C"}, {"q1": "A", "q2": "D"})
        >>> (a.compared, a.same, a.only_left, round(a.rate, 2))
        (2, 1, 1, 0.5)
    """
    common = sorted(set(left) & set(right))
    diff = [(k, left[k], right[k]) for k in common if left[k] != right[k]]
    return Agreement(len(common), len(common) - len(diff), len(set(left) - set(right)),
                     len(set(right) - set(left)), tuple(diff[:10]))
