"""PromptList and safe_format keep OpenCompass's exact semantics, quirks included."""

from __future__ import annotations

import pytest

from toolkit.engine.prompting.prompt_list import PromptList, is_section_marker, safe_format
from toolkit.errors import ConfigError

HUMAN = {"role": "HUMAN", "prompt": "Q: {question}"}


def test_safe_format_leaves_unknown_placeholders() -> None:
    assert safe_format("{question} {D} {}", {"question": "why"}) == "why {D} {}"


def test_safe_format_replaces_in_row_order() -> None:
    # a value holding a later column's placeholder is filled too: plain str.replace in sequence
    assert safe_format("{question}", {"question": "see {A}", "A": "x"}) == "see x"
    assert safe_format("{A}", {"question": "q", "A": "see {question}"}) == "see {question}"


def test_safe_format_stringifies_values() -> None:
    assert safe_format("{D}|{n}", {"D": None, "n": 3}) == "None|3"


def test_format_copies_and_skips_markers() -> None:
    marker = {"section": "round", "pos": "begin"}
    original = PromptList([marker, "{question}", HUMAN])
    filled = original.format(question="2+2?")
    assert filled == [marker, "2+2?", {"role": "HUMAN", "prompt": "Q: 2+2?"}]
    assert original[2]["prompt"] == "Q: {question}" and filled[2] is not HUMAN


def test_replace_with_string_keeps_emptied_item() -> None:
    assert PromptList(["</E>", HUMAN]).replace("</E>", "") == ["", HUMAN]


def test_replace_with_prompt_list_splices_and_drops_empty_pieces() -> None:
    ice = PromptList(["x", "y"])
    assert PromptList(["</E>"]).replace("</E>", ice) == ["x", "y"]
    assert PromptList(["a</E>b</E>"]).replace("</E>", ice) == ["a", "x", "y", "b", "x", "y"]
    assert PromptList([""]).replace("</E>", ice) == []


def test_replace_inside_role_prompt() -> None:
    turn = {"role": "HUMAN", "prompt": "</E>Q"}
    assert PromptList([turn]).replace("</E>", "ex\n") == [{"role": "HUMAN", "prompt": "ex\nQ"}]
    with pytest.raises(ConfigError, match="inside a role's prompt"):
        PromptList([turn]).replace("</E>", PromptList(["ex"]))


def test_adding_empty_string_adds_nothing() -> None:
    p = PromptList(["a"])
    assert p + "" == ["a"] and isinstance(p + "", PromptList) and (p + "") is not p
    assert p + "\n" == ["a", "\n"]
    assert p + ["b"] == ["a", "b"]
    assert "" + p == ["a"] and "s" + p == ["s", "a"] and isinstance("s" + p, PromptList)
    assert ["z"] + p == ["z", "a"] and isinstance(["z"] + p, PromptList)


def test_inplace_add() -> None:
    p = PromptList(["a"])
    same = p
    p += ""
    p += "b"
    p += ["c"]
    assert p is same and p == ["a", "b", "c"]


def test_str_joins_strings_and_prompts() -> None:
    p = PromptList(["a", {"section": "ice", "pos": "end"}, {"role": "BOT", "prompt": "B"}])
    assert str(p) == "aB"
    with pytest.raises(TypeError):
        str(PromptList([3]))


def test_section_marker_needs_exactly_two_keys() -> None:
    assert is_section_marker({"section": "ice", "pos": "begin"})
    assert not is_section_marker({"section": "ice", "pos": "begin", "prompt": "x"})
    assert not is_section_marker("section")
