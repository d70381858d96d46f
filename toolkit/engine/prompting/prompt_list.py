"""The intermediate prompt structure OpenCompass passes between templates and models.

A prompt is either a plain string or a :class:`PromptList`: a list whose items are
strings, role turns ``{"role": "HUMAN", "prompt": "..."}`` and section markers
``{"section": "ice", "pos": "begin"}``. Models turn it into text
(:func:`toolkit.engine.prompting.model_input.to_base_text`) or chat messages
(:func:`toolkit.engine.prompting.model_input.to_chat_messages`).

The behaviour mirrors OpenCompass 0.5.4's ``PromptList`` exactly, quirks included,
because every quirk changes the final prompt bytes: adding an empty string adds
nothing, while replacing a placeholder by a string keeps an item that became empty
(the reason zero-shot base prompts start with ``"\\n"``). Treat prompts as read-only:
rendered prompts share their role dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from toolkit.errors import ConfigError


def safe_format(text: str, values: Mapping[str, Any]) -> str:
    """Replace each ``{column}`` by its value, column by column in the row's order.

    Unknown placeholders stay literal, and a value that itself contains ``{other}``
    is replaced again by a later column: this is plain ``str.replace`` in sequence,
    exactly as OpenCompass does it (``str.format`` would fail on stray braces).

    Example:
        >>> safe_format("{question} {D}", {"question": "1+1?", "A": "2"})
        '1+1? {D}'
    """
    for key, value in values.items():
        text = text.replace("{" + str(key) + "}", str(value))
    return text


def is_section_marker(item: Any) -> bool:
    """True for ``{"section": ..., "pos": ...}`` items (exactly those two keys)."""
    return isinstance(item, Mapping) and set(item) == {"section", "pos"}


class PromptList(list):
    """A list of prompt items with OpenCompass's ``format``/``replace``/``+`` semantics.

    Example:
        >>> p = PromptList(["</E>", {"role": "HUMAN", "prompt": "{q}"}])
        >>> p.replace("</E>", "").format_with({"q": "Why?"})
        ['', {'role': 'HUMAN', 'prompt': 'Why?'}]
    """

    def format_with(self, values: Mapping[str, Any]) -> PromptList:
        """A copy with :func:`safe_format` applied to strings and to role prompts."""
        out = PromptList()
        for item in self:
            if isinstance(item, Mapping):
                new_item = dict(item)
                if "prompt" in item:
                    new_item["prompt"] = safe_format(item["prompt"], values)
                out.append(new_item)
            else:
                out.append(safe_format(item, values))
        return out

    def format(self, **values: Any) -> PromptList:  # OpenCompass's name
        """``format_with(values)`` under the name OpenCompass uses."""
        return self.format_with(values)

    def replace(self, src: str, dst: str | PromptList) -> PromptList:
        """A copy with ``src`` replaced by ``dst`` in strings and role prompts.

        A string ``dst`` is substituted in place (an item may become ``""`` and is
        kept). A :class:`PromptList` ``dst`` splices its items in: the string is split
        at ``src``, empty pieces are dropped, and ``src`` inside a role prompt is an
        error because a turn cannot hold a list.
        """
        out = PromptList()
        for item in self:
            if isinstance(item, str):
                if isinstance(dst, str):
                    out.append(item.replace(src, dst))
                    continue
                pieces = item.split(src)
                for i, piece in enumerate(pieces):
                    if piece:
                        out.append(piece)
                    if i < len(pieces) - 1:
                        out.extend(dst)
            elif isinstance(item, Mapping):
                new_item = dict(item)
                if "prompt" in item and src in item["prompt"]:
                    if not isinstance(dst, str):
                        raise ConfigError(
                            f"the placeholder {src!r} is inside a role's prompt, where in-context examples cannot go",
                            hint=f"put {src!r} in the template's 'begin' (as OpenCompass's C-Eval configs do)",
                        )
                    new_item["prompt"] = item["prompt"].replace(src, dst)
                out.append(new_item)
            else:
                raise TypeError(f"invalid prompt item {item!r}")
        return out

    def __add__(self, other: Iterable[Any] | str) -> PromptList:
        if not other:
            return PromptList(self)
        if isinstance(other, str):
            return PromptList([*self, other])
        return PromptList([*self, *other])

    def __radd__(self, other: Iterable[Any] | str) -> PromptList:
        if not other:
            return PromptList(self)
        if isinstance(other, str):
            return PromptList([other, *self])
        return PromptList([*other, *self])

    def __iadd__(self, other: Iterable[Any] | str) -> PromptList:
        if not other:
            return self
        if isinstance(other, str):
            self.append(other)
        else:
            self.extend(other)
        return self

    def __str__(self) -> str:
        """Strings and role prompts concatenated with nothing between them."""
        parts: list[str] = []
        for item in self:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, Mapping):
                parts.append(item.get("prompt", ""))
            else:
                raise TypeError(f"invalid prompt item {item!r}")
        return "".join(parts)


Prompt = str | PromptList
"""What templates produce and models consume: a string or a :class:`PromptList`."""
