"""Prediction post-processors: turn a model's generated text into an option letter.

Three extractors, each a pure ``str -> str`` function with a companion
``*_is_decided`` that tells the generator when more text can no longer change the
answer (so it may stop generating):

* :func:`first_capital_postprocess` and :func:`first_option_postprocess` behave
  exactly like OpenCompass's functions of the same names, quirks included, so that
  scores stay comparable;
* :func:`strict_option_postprocess` is ours: it accepts only letters of options that
  exist, standing alone.

Configs name them as OpenCompass does; :func:`resolve_postprocessor` looks a name up
in the explicit :data:`POSTPROCESSORS` table (no import-time registry) and binds its
keyword arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from toolkit.errors import ConfigError

DEFAULT_OPTIONS = "ABCD"


# --- first_capital_postprocess -------------------------------------------------------


def first_capital_postprocess(text: str) -> str:
    """The first uppercase character of any kind, or ``""`` (OpenCompass's behaviour).

    The trap is kept on purpose so that scores match OpenCompass:

    Example:
        >>> first_capital_postprocess("\\nC\\n以下是"), first_capital_postprocess("The answer is B")
        ('C', 'T')
    """
    return next((ch for ch in text if ch.isupper()), "")


def first_capital_is_decided(text: str) -> bool:
    """True once an uppercase character has appeared: the first one never changes."""
    return any(ch.isupper() for ch in text)


# --- first_option_postprocess ----------------------------------------------------------

# OpenCompass 0.5's patterns, in its order; ``{o}`` stands for the option letters.
# Two of its quirks are reproduced on purpose:
# * a missing comma in its source glues ``故选?\s*([o])`` to the next pattern, so
#   "故选B" alone never matches there;
# * ``(\s|^)[o][...]`` captures the whitespace, not the letter, so after a space it
#   finds no option and the search moves on to later patterns.
_OPTION_PATTERNS: tuple[str, ...] = (
    r"答案是?\s*([{o}])",
    r"答案是?\s*：\s*([{o}])",
    r"答案是?\s*:\s*([{o}])",
    r"答案选项应?该?是\s*([{o}])",
    r"答案选项应?该?为\s*([{o}])",
    r"答案应该?是\s*([{o}])",
    r"答案应该?选\s*([{o}])",
    r"答案选项为?\s*：\s*([{o}])",
    r"答案选项为?\s+\(?\*?\*?([{o}])\*?\*?\)?",
    r"答案选项是?\s*:\s*([{o}])",
    r"答案为\s*([{o}])",
    r"答案选\s*([{o}])",
    r"选择?\s*([{o}])",
    r"故选?\s*([{o}])" r"只有选?项?\s?([{o}])\s?是?对",
    r"只有选?项?\s?([{o}])\s?是?错",
    r"只有选?项?\s?([{o}])\s?不?正确",
    r"只有选?项?\s?([{o}])\s?错误",
    r"说法不?对选?项?的?是\s?([{o}])",
    r"说法不?正确选?项?的?是\s?([{o}])",
    r"说法错误选?项?的?是\s?([{o}])",
    r"([{o}])\s?是正确的",
    r"([{o}])\s?是正确答案",
    r"选项\s?([{o}])\s?正确",
    r"所以答\s?([{o}])",
    r"所以\s?([{o}][.。$]?$)",
    r"所有\s?([{o}][.。$]?$)",
    r"[\s，：:,]([{o}])[。，,\.]?$",
    r"[\s，,：:][故即]([{o}])[。\.]?$",
    r"[\s，,：:]因此([{o}])[。\.]?$",
    r"[是为。]\s?([{o}])[。\.]?$",
    r"因此\s?([{o}])[。\.]?$",
    r"显然\s?([{o}])[。\.]?$",
    r"答案是\s?(\S+)(?:。|$)",
    r"答案应该是\s?(\S+)(?:。|$)",
    r"答案为\s?(\S+)(?:。|$)",
    r"(?i)ANSWER\s*:\s*([{o}])",
    r"[Tt]he answer is:?\s+\(?([{o}])\)?",
    r"[Tt]he answer is:?\s+\(?\*?\*?([{o}])\*?\*?\)?",
    r"[Tt]he answer is option:?\s+\(?([{o}])\)?",
    r"[Tt]he correct answer is:?\s+\(?([{o}])\)?",
    r"[Tt]he correct answer is option:?\s+\(?([{o}])\)?",
    r"[Tt]he correct answer is:?.*?boxed{([{o}])}",
    r"[Tt]he correct option is:?.*?boxed{([{o}])}",
    r"[Tt]he correct answer option is:?.*?boxed{([{o}])}",
    r"[Tt]he answer to the question is:?\s+\(?([{o}])\)?",
    r"^选项\s?([{o}])",
    r"^([{o}])\s?选?项",
    r"(\s|^)[{o}][\s。，,：:\.$]",
    r"1.\s?(.*?)$",
    r"1.\s?([{o}])[.。$]?$",
)
# Tried last, only with ``cushion=True``: any option letter at all.
_CUSHION_PATTERNS: tuple[str, ...] = (r"([{o}]):", r"([{o}])")


@lru_cache(maxsize=64)
def _option_regexes(options: str, cushion: bool) -> tuple[re.Pattern[str], ...]:
    templates = _OPTION_PATTERNS + (_CUSHION_PATTERNS if cushion else ())
    # Letters go into a character class unescaped, as OpenCompass does.
    return tuple(re.compile(t.replace("{o}", options), re.DOTALL) for t in templates)


def first_option_postprocess(text: str, options: str = DEFAULT_OPTIONS, cushion: bool = True) -> str:
    """The option OpenCompass's ``first_option_postprocess`` finds in ``text``, or ``""``.

    Patterns are tried in OpenCompass's order on the stripped text; the first one
    whose match contains an option letter wins.

    Example:
        >>> first_option_postprocess("答案是 B。"), first_option_postprocess("The answer is (C)")
        ('B', 'C')
    """
    text = text.strip()
    for regex in _option_regexes(options, cushion):
        match = regex.search(text)
        if match is None:
            continue
        found = match.group(1) or match.group(0)
        for letter in options:
            if letter in found:
                return letter
    return ""


def first_option_is_decided(text: str, options: str = DEFAULT_OPTIONS, cushion: bool = True) -> bool:
    """True only when no continuation can change :func:`first_option_postprocess`'s answer.

    Rule: the highest-priority pattern, ``答案是?\\s*([options])``, already matches.
    Nothing weaker can be proven: appending "答案A" to any text makes that pattern
    match with "A", and the leftmost match of this pattern cannot move once found
    (an earlier start would need the text before it to end in ``答案是?\\s*``).
    """
    return _option_regexes(options, cushion)[0].search(text.strip()) is not None


# --- strict_option_postprocess ---------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    # Only ASCII letters and digits make a letter part of a word: Chinese text has no
    # spaces, so "答案C" must still count as a standalone "C".
    return ch.isascii() and ch.isalnum()


def _standalone_positions(text: str, options: str) -> Iterable[int]:
    """Indexes of option letters whose left neighbour (if any) is not a word character."""
    for i, ch in enumerate(text):
        if ch in options and (i == 0 or not _is_word_char(text[i - 1])):
            yield i


def strict_option_postprocess(text: str, options: str = DEFAULT_OPTIONS) -> str:
    """The first option letter that stands alone in ``text``, or ``""``.

    Exact rule: a character of ``options`` counts when neither the character before it
    nor the one after it (where they exist) is an ASCII letter or digit. Letters of
    options that do not exist, lowercase letters and letters inside words never count.
    Limitation: an English article "A" standing alone counts as option A.

    Example:
        >>> [strict_option_postprocess(t) for t in ("C.", "(C)", "答案：C", "The answer is C", "The answer")]
        ['C', 'C', 'C', 'C', '']
    """
    options = "".join(options)
    for i in _standalone_positions(text, options):
        if i + 1 == len(text) or not _is_word_char(text[i + 1]):
            return text[i]
    return ""


def strict_option_is_decided(text: str, options: str = DEFAULT_OPTIONS) -> bool:
    """True once a standalone option letter is followed by at least one more character.

    A letter at the very end is not decided yet: the next character could join it to
    a word ("A" → "An").
    """
    options = "".join(options)
    return any(i + 1 < len(text) and not _is_word_char(text[i + 1]) for i in _standalone_positions(text, options))


# --- the table of post-processors ------------------------------------------------------


@dataclass(frozen=True)
class PostProcessorDef:
    """A post-processor by name: its extractor, its stop test, and whether it takes ``options``."""

    name: str
    extract: Callable[..., str]
    is_decided: Callable[..., bool]
    allowed_kwargs: frozenset[str] = frozenset()


POSTPROCESSORS: Mapping[str, PostProcessorDef] = {
    d.name: d
    for d in (
        PostProcessorDef("first_capital_postprocess", first_capital_postprocess, first_capital_is_decided),
        PostProcessorDef("first_option_postprocess", first_option_postprocess, first_option_is_decided,
                         frozenset({"options", "cushion"})),
        PostProcessorDef("strict_option_postprocess", strict_option_postprocess, strict_option_is_decided,
                         frozenset({"options"})),
    )
}
"""Every post-processor a config may name, by OpenCompass's function name."""

# OpenCompass's registry names, accepted as aliases.
_ALIASES = {"first-capital": "first_capital_postprocess"}


@dataclass(frozen=True)
class PostProcessor:
    """A post-processor bound to its keyword arguments; ``name`` None means "keep the text"."""

    name: str | None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, text: str) -> str:
        """The extracted answer for ``text``."""
        return POSTPROCESSORS[self.name].extract(text, **self.kwargs) if self.name else text

    def is_decided(self, text: str) -> bool:
        """True when more generated text can no longer change ``self(text)``."""
        return POSTPROCESSORS[self.name].is_decided(text, **self.kwargs) if self.name else False


def resolve_postprocessor(name: str | None, kwargs: Mapping[str, Any] | None = None,
                          options: Iterable[str] | None = None) -> PostProcessor:
    """Look up ``name`` and bind ``kwargs``; ``options`` is the default for option-based ones.

    ``name`` may be the function name, its OpenCompass import path
    (``opencompass.utils.text_postprocessors.first_capital_postprocess``) or its
    OpenCompass registry name (``first-capital``). Raises ConfigError for an unknown
    name or keyword.

    Example:
        >>> post = resolve_postprocessor("strict_option_postprocess", options="AB")
        >>> post("C or B?"), post.is_decided("C or B?")
        ('B', True)
    """
    if name is None:
        return PostProcessor(None)
    key = _ALIASES.get(name, name.rsplit(".", 1)[-1])
    spec = POSTPROCESSORS.get(key)
    if spec is None:
        raise ConfigError(f"unsupported pred_postprocessor {name!r}",
                          hint=f"use one of {', '.join(POSTPROCESSORS)}")
    bound = dict(kwargs or {})
    unknown = sorted(set(bound) - spec.allowed_kwargs)
    if unknown:
        raise ConfigError(f"{key} takes no argument {', '.join(map(repr, unknown))}",
                          hint=f"allowed: {', '.join(sorted(spec.allowed_kwargs)) or 'none'}")
    if "options" in spec.allowed_kwargs:
        bound["options"] = "".join(bound.get("options") or options or DEFAULT_OPTIONS)
    return PostProcessor(key, bound)
