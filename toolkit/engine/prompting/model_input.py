"""Turning a structured prompt into what a model reads: base-model text or chat messages.

Base models (OpenCompass's ``HuggingFaceBaseModel``, no meta template) join every
non-empty string and role prompt with ``"\\n"``; the separator becomes ``"\\n"`` after
*every* item that is not a section marker, even an empty one, so a zero-shot prompt
whose examples rendered to ``""`` starts with ``"\\n"``.

Chat models (``HuggingFacewithChatTemplate``) first go through OpenCompass's API
template parser with its default meta template (roles HUMAN, SYSTEM -> HUMAN, BOT
generating): every round emits all three roles, so the empty SYSTEM turn merges into
the user turn as a trailing ``"\\n"`` (C-Eval user turns end in ``"答案: \\n"``). The
turns then become ``user``/``assistant`` messages, empty ones dropped and
consecutive ones of the same role merged with ``"\\n"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from toolkit.engine.prompting.prompt_list import Prompt, is_section_marker
from toolkit.errors import ConfigError

ParseMode = Literal["gen", "ppl"]

# OpenCompass's default chat meta template: (role, api_role, generate).
_ROUND = (("HUMAN", "HUMAN", False), ("SYSTEM", "HUMAN", False), ("BOT", "BOT", True))
_ROLE_INDEX = {role: i for i, (role, _, _) in enumerate(_ROUND)}
_CHAT_ROLE = {"HUMAN": "user", "BOT": "assistant", "SYSTEM": "system"}


def to_base_text(prompt: Prompt) -> str:
    """The text a base model reads (before its tokenizer adds BOS).

    Example:
        >>> to_base_text(["", {"role": "HUMAN", "prompt": "Q?"}, {"role": "BOT", "prompt": ""}])
        '\\nQ?'
    """
    if isinstance(prompt, str):
        return prompt
    text, sep = "", ""
    for item in prompt:
        if is_section_marker(item):
            continue
        piece = item if isinstance(item, str) else item.get("prompt", "")
        if piece:
            text += sep + piece
        sep = "\n"
    return text


def to_chat_messages(prompt: Prompt, mode: ParseMode = "gen") -> list[dict[str, str]]:
    """The messages for ``tokenizer.apply_chat_template``.

    ``mode="gen"`` stops before the answer turn of the question (then call
    ``apply_chat_template(..., add_generation_prompt=True)``); ``mode="ppl"`` keeps it,
    for scoring a candidate answer.

    Example:
        >>> to_chat_messages([{"section": "round", "pos": "begin"}, {"role": "HUMAN", "prompt": "Q?"},
        ...                   {"role": "BOT", "prompt": ""}, {"section": "round", "pos": "end"}])
        [{'role': 'user', 'content': 'Q?\\n'}]
    """
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    messages: list[dict[str, str]] = []
    for turn in _api_turns(prompt, mode):
        if not turn["prompt"]:
            continue
        role = _CHAT_ROLE[turn["role"]]
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n" + turn["prompt"]
        else:
            messages.append({"role": role, "content": turn["prompt"]})
    return messages


def to_length_messages(prompt: Prompt, mode: ParseMode = "gen") -> list[dict[str, str]]:
    """The messages OpenCompass *counts* for a chat model's ``max_seq_len`` truncation.

    Its ``get_token_len_from_template`` flattens the parsed turns with ``str()`` (no
    separators, no roles) and counts them as one user message; use this in a
    ``count_tokens`` callback to truncate exactly as OpenCompass does.
    """
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": "user", "content": "".join(turn["prompt"] for turn in _api_turns(prompt, mode))}]


def _api_turns(prompt: Sequence[Any], mode: ParseMode) -> list[dict[str, str]]:
    """OpenCompass's ``APITemplateParser.parse_template`` with the default meta template."""
    turns: list[dict[str, str]] = []
    stack: list[tuple[str, int]] = []
    for i, item in enumerate(prompt):
        if isinstance(item, str):
            if item.strip():
                warnings.warn("a non-empty string in a chat prompt is ignored (as OpenCompass does)", stacklevel=3)
            continue
        if "section" in item:
            if _opens(item, stack):
                stack.append((item["section"], i + 1))
            elif not _close_section(prompt, stack.pop(), i, mode, turns):
                return _merge(turns)
            continue
        if stack and stack[-1][0] in ("begin", "end"):
            merged = _resolve(item)
            if mode == "gen" and merged.get("generate"):
                return _merge(turns)
            turns.append(_api_turn(merged))
    return _merge(turns)


def _opens(marker: Mapping[str, Any], stack: Sequence[tuple[str, int]]) -> bool:
    """Whether a section marker opens its section (else it closes the innermost one).

    The template encoder marks the 'end' section's start with pos='end' too, on which
    OpenCompass's parser fails; it is read as the start it means.
    """
    opens_end = marker["section"] == "end" and not (stack and stack[-1][0] == "end")
    return bool(marker["pos"] == "begin" or opens_end)


def _close_section(prompt: Sequence[Any], opened: tuple[str, int], end: int, mode: ParseMode,
                   turns: list[dict[str, str]]) -> bool:
    """Emit a closed round or ice section's rounds; False once the generating turn is reached."""
    section, start = opened
    if section not in ("round", "ice"):
        return True
    rounds = _split_rounds(prompt[start:end])
    for j, rnd in enumerate(rounds):
        # only the question's last round stops before the answer turn
        for_gen = mode == "gen" and section == "round" and j == len(rounds) - 1
        if not _emit_round(rnd, turns, for_gen):
            return False
    return True


def _resolve(item: Mapping[str, Any]) -> dict[str, Any]:
    """A turn merged over its role's defaults (falling back to ``fallback_role``)."""
    role = item["role"] if item["role"] in _ROLE_INDEX else item.get("fallback_role")
    if role not in _ROLE_INDEX:
        raise ConfigError(f"prompt turn {dict(item)!r} has no known role (HUMAN, BOT, SYSTEM) nor a fallback_role")
    name, api_role, generate = _ROUND[_ROLE_INDEX[role]]
    return {"role": name, "api_role": api_role, "generate": generate, **item}


def _api_turn(merged: Mapping[str, Any]) -> dict[str, str]:
    text = merged.get("begin", "") + merged.get("prompt", "") + merged.get("end", "")
    return {"role": merged["api_role"], "prompt": text}


def _split_rounds(dialogue: Sequence[Any]) -> list[list[Mapping[str, Any]]]:
    """Cut a dialogue where a role does not come later in the round than the one before."""
    rounds: list[list[Mapping[str, Any]]] = [[]]
    last = -1
    for item in dialogue:
        if isinstance(item, str):
            continue
        idx = _ROLE_INDEX[_resolve(item)["role"]]
        if idx <= last:
            rounds.append([])
        rounds[-1].append(item)
        last = idx
    return rounds


def _emit_round(round_items: list[Mapping[str, Any]], turns: list[dict[str, str]], for_gen: bool) -> bool:
    """Append one turn per role of the meta round; False once the generating role is reached."""
    given = {_resolve(item)["role"]: item for item in round_items}
    for role, _, _ in _ROUND:
        merged = _resolve({"role": role, **given.get(role, {})})
        if for_gen and merged["generate"]:
            return False
        turns.append(_api_turn(merged))
    return True


def _merge(turns: list[dict[str, str]]) -> list[dict[str, str]]:
    """Join consecutive turns of the same API role with ``"\\n"``."""
    merged: list[dict[str, str]] = []
    for turn in turns:
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1] = {"role": turn["role"], "prompt": merged[-1]["prompt"] + "\n" + turn["prompt"]}
        else:
            merged.append(dict(turn))
    return merged
