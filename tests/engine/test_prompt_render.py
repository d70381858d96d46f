"""Base-model text and chat messages from structured prompts (OpenCompass's template parsers)."""

from __future__ import annotations

import pytest

from toolkit.engine.prompting.model_input import to_base_text, to_chat_messages, to_length_messages
from toolkit.engine.prompting.prompt_list import PromptList


def section(name: str, *items: object, end_pos: str = "end") -> list[object]:
    return [{"section": name, "pos": "begin"}, *items, {"section": name, "pos": end_pos}]


def human(text: str) -> dict[str, str]:
    return {"role": "HUMAN", "prompt": text}


def bot(text: str) -> dict[str, str]:
    return {"role": "BOT", "prompt": text}


def ice_example(q: str, a: str) -> list[object]:
    return section("ice", human(q), bot(a))


FEW_SHOT = PromptList(
    [*section("begin", *ice_example("Q1 ", "A"), *ice_example("Q2 ", "B"), ""), *section("round", human("Q3 "), bot(""))]
)


def test_base_text_joins_nonempty_pieces_with_newline() -> None:
    assert to_base_text(FEW_SHOT) == "Q1 \nA\nQ2 \nB\nQ3 "


def test_base_text_separator_follows_empty_items() -> None:
    zero_shot = PromptList([*section("begin", ""), *section("round", human("Q "), bot(""))])
    assert to_base_text(zero_shot) == "\nQ "
    assert to_base_text(PromptList([{"role": "HUMAN"}, "x"])) == "\nx"


def test_base_text_of_string_is_itself() -> None:
    assert to_base_text("plain {x}") == "plain {x}"


def test_chat_gen_merges_empty_system_slot_into_user_turn() -> None:
    assert to_chat_messages(FEW_SHOT) == [
        {"role": "user", "content": "Q1 \n"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "Q2 \n"},
        {"role": "assistant", "content": "B"},
        {"role": "user", "content": "Q3 \n"},
    ]


def test_chat_ppl_keeps_answer_turn() -> None:
    candidate = PromptList([*section("round", human("Q "), bot("C"))])
    assert to_chat_messages(candidate, mode="ppl") == [
        {"role": "user", "content": "Q \n"},
        {"role": "assistant", "content": "C"},
    ]
    assert to_chat_messages(candidate, mode="gen") == [{"role": "user", "content": "Q \n"}]


def test_chat_system_turn_maps_to_user_and_consecutive_users_merge() -> None:
    prompt = PromptList(
        [*section("begin", {"role": "SYSTEM", "fallback_role": "HUMAN", "prompt": "Be brief."}), *section("round", human("Q"), bot(""))]
    )
    assert to_chat_messages(prompt) == [{"role": "user", "content": "Be brief.\nQ\n"}]


def test_chat_two_human_turns_are_two_rounds() -> None:
    prompt = PromptList(section("round", human("a"), human("b"), bot("")))
    # round 1 emits a, an empty system slot and an empty answer (dropped); round 2 stops at its answer
    assert to_chat_messages(prompt) == [{"role": "user", "content": "a\n\nb\n"}]


def test_chat_string_prompt_is_one_user_message() -> None:
    assert to_chat_messages("Q?\nAnswer:") == [{"role": "user", "content": "Q?\nAnswer:"}]


def test_chat_ignores_strings_between_turns() -> None:
    prompt = PromptList([*section("begin", *ice_example("Q1", "A"), "\n", "\n"), *section("round", human("Q2"), bot(""))])
    assert [m["content"] for m in to_chat_messages(prompt)] == ["Q1\n", "A", "Q2\n"]
    with pytest.warns(UserWarning, match="ignored"):
        assert to_chat_messages(PromptList(["note", *prompt])) == to_chat_messages(prompt)


def test_chat_end_section_read_in_ppl_mode_and_dropped_in_gen() -> None:
    prompt = PromptList([*section("round", human("Q"), bot("A")), *section("end", human("thanks"), end_pos="end")])
    prompt[-3] = {"section": "end", "pos": "end"}  # the encoder marks both ends of 'end' with pos='end'
    assert to_chat_messages(prompt, mode="ppl")[-1] == {"role": "user", "content": "thanks"}
    assert to_chat_messages(prompt, mode="gen") == [{"role": "user", "content": "Q\n"}]


def test_length_messages_flatten_turns_without_separators() -> None:
    assert to_length_messages(FEW_SHOT) == [{"role": "user", "content": "Q1 \nAQ2 \nBQ3 \n"}]
    assert to_length_messages("s") == [{"role": "user", "content": "s"}]
