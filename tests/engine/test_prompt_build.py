"""build_question_prompts: modes, max_seq_len truncation (OpenCompass's rule), reserve, over_length."""

from __future__ import annotations

import pytest
from prompt_specs import ZERO_SHOT, dataset_spec, gen_spec, meta_round, ppl_spec

from toolkit.config.spec import PromptTemplateSpec, RetrieverSpec
from toolkit.engine.prompting.builder import QuestionPrompt, build_question_prompts, ice_key
from toolkit.engine.prompting.model_input import to_base_text, to_chat_messages
from toolkit.engine.prompting.prompt_list import Prompt
from toolkit.errors import DataError, UsageError

DEV = [
    {"id": str(i), "question": f"dev{i}", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "ABCD"[i % 4], "explanation": ""}
    for i in range(5)
]
VAL = [
    {"id": "0", "question": "short", "A": "1", "B": "2", "C": "3", "D": "4", "answer": "B", "explanation": ""},
    {"id": "1", "question": "long " * 20, "A": "1", "B": "2", "C": "3", "D": "4", "answer": "C", "explanation": ""},
]
SUBJECT = "科目"


def chars(prompt: Prompt) -> int:
    return len(to_base_text(prompt))


def gen_prompts(**kwargs: object) -> list[QuestionPrompt]:
    return build_question_prompts(gen_spec(SUBJECT), DEV, VAL, mode="gen", **kwargs)  # type: ignore[arg-type]


def example_length() -> int:
    """Characters one in-context example adds to a base prompt (the "\\n" joins included)."""
    two, one = (
        chars(build_question_prompts(gen_spec(SUBJECT, retriever=RetrieverSpec("fixk", ids)), DEV, VAL[:1], mode="gen")[0].prompt)
        for ids in ((0, 1), (0,))
    )
    return two - one


def test_gen_prompt_without_truncation() -> None:
    q = gen_prompts()[0]
    assert (q.index, q.ice_ids, q.dropped, q.over_length, q.gold) == (0, (0, 1, 2, 3, 4), 0, False, "B")
    text = to_base_text(q.prompt)
    assert text.startswith("以下是中国关于科目考试") and text.endswith("short\nA. 1\nB. 2\nC. 3\nD. 4\n答案: ")
    assert "答案: \nA\n以下是" in text and q.label_prompts == {} and q.labels == ()


def test_truncation_drops_examples_from_the_end() -> None:
    full = chars(gen_prompts()[0].prompt)
    step = example_length()
    # exactly the limit fits (<=), one character less drops the last example
    assert gen_prompts(count_tokens=chars, max_seq_len=full)[0].ice_ids == (0, 1, 2, 3, 4)
    q = gen_prompts(count_tokens=chars, max_seq_len=full - 1)[0]
    assert (q.ice_ids, q.dropped) == ((0, 1, 2, 3), 1)
    assert to_base_text(q.prompt).count("\n答案: ") == 5
    q = gen_prompts(count_tokens=chars, max_seq_len=full - 2 * step - 1)[0]
    assert (q.ice_ids, q.dropped) == ((0, 1), 3)
    assert "dev2" not in to_base_text(q.prompt) and "dev1" in to_base_text(q.prompt)


def test_truncation_is_per_question() -> None:
    short_q, long_q = gen_prompts(count_tokens=chars, max_seq_len=chars(gen_prompts()[0].prompt))
    assert short_q.ice_ids == (0, 1, 2, 3, 4) and long_q.dropped > 0
    assert ice_key(short_q) != ice_key(long_q)
    assert ice_key(short_q) == ice_key(gen_prompts()[1]) == ((0, 1, 2, 3, 4),)


def test_reserve_keeps_room_for_the_answer() -> None:
    full = chars(gen_prompts()[0].prompt)
    assert gen_prompts(count_tokens=chars, max_seq_len=full, reserve=0)[0].dropped == 0
    reserved = gen_prompts(count_tokens=chars, max_seq_len=full + 16, reserve=17)[0]
    assert reserved.dropped == 1
    assert reserved.prompt == gen_prompts(count_tokens=chars, max_seq_len=full - 1)[0].prompt


def test_reserve_larger_than_max_seq_len_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="leaves no room"):
        gen_prompts(count_tokens=chars, max_seq_len=16, reserve=16)


def test_max_seq_len_needs_a_counter() -> None:
    with pytest.raises(ValueError, match="count_tokens"):
        gen_prompts(max_seq_len=100)


def test_question_longer_than_budget_is_kept_whole_and_flagged() -> None:
    short_q, long_q = gen_prompts(count_tokens=chars, max_seq_len=60)
    for q, row in ((short_q, VAL[0]), (long_q, VAL[1])):
        assert (q.ice_ids, q.dropped, q.over_length) == ((), 5, True)
        assert to_base_text(q.prompt).startswith("\n以下是")  # zero examples: the stray "\n"
        assert row["question"] in to_base_text(q.prompt)


def test_short_rows_leave_placeholders_as_opencompass_tables_do() -> None:
    first_short = [{"question": "q0", "A": "1", "B": "2", "C": "3", "answer": "A"}, {**VAL[0]}]
    spec = gen_spec(SUBJECT, retriever=ZERO_SHOT)
    first, second = (to_base_text(q.prompt) for q in build_question_prompts(spec, [], first_short, mode="gen"))
    # the table's columns are the first row's: {D} stays literal in every prompt
    assert first.endswith("C. 3\nD. {D}\n答案: ") and second.endswith("C. 3\nD. {D}\n答案: ")
    later_short = [{**VAL[0]}, {"question": "q1", "A": "1", "B": "2", "C": "3", "answer": "A"}]
    second = to_base_text(build_question_prompts(spec, [], later_short, mode="gen")[1].prompt)
    assert second.endswith("C. 3\nD. None\n答案: ")  # a later short row reads None


def test_no_output_column() -> None:
    spec = dataset_spec(meta_round(SUBJECT), retriever=ZERO_SHOT, output_column=None)
    q = build_question_prompts(spec, [], VAL[:1], mode="gen")[0]
    assert q.gold is None
    # OpenCompass blanks only a named output column: the row's own answer fills {answer}
    assert to_base_text(q.prompt).endswith("答案: \nB")
    no_answer = [{k: v for k, v in VAL[0].items() if k != "answer"}]
    assert to_base_text(build_question_prompts(spec, [], no_answer, mode="gen")[0].prompt).endswith("答案: \n{answer}")


def test_chat_messages_for_gen_prompt() -> None:
    messages = to_chat_messages(gen_prompts()[0].prompt)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 5 + ["user"]
    assert [m["content"] for m in messages[1::2]] == ["A", "B", "C", "D", "A"]
    assert all(m["content"].endswith("答案: \n") for m in messages[::2])


def test_prompt_and_ice_templates_together() -> None:
    ice_only = {"round": meta_round(SUBJECT)["round"]}
    prompt = PromptTemplateSpec(meta_round(SUBJECT), ice_token="</E>")
    spec = dataset_spec(ice_only, prompt_template=prompt)
    assert to_base_text(build_question_prompts(spec, DEV, VAL, mode="gen")[0].prompt) == to_base_text(gen_prompts()[0].prompt)


def test_sep_token_is_removed_from_gen_prompt() -> None:
    spec = dataset_spec("</E>{question}<SEP>? {answer}", retriever=RetrieverSpec("fixk", (0, 1)), sep_token="<SEP>")
    q = build_question_prompts(spec, DEV, VAL[:1], mode="gen")[0]
    # examples keep the sep token (OpenCompass drops its own removal there); the final replace removes all
    assert q.prompt == "dev0? A\ndev1? B\nshort? "


def test_ppl_prompts_one_per_label() -> None:
    q = build_question_prompts(ppl_spec(SUBJECT), DEV, VAL, mode="ppl")[0]
    assert q.labels == ("A", "B", "C", "D") and q.gold == "B" and q.ice_ids == (0, 1, 2, 3, 4)
    texts = {label: to_base_text(p) for label, p in q.label_prompts.items()}
    assert all(text.endswith("答案: \n" + label) for label, text in texts.items())
    assert "答案: \nA\n\n\n以下是" in texts["A"] and "答案: \nA\n\n\n\n\n以下是" in texts["A"]
    assert to_base_text(q.prompt).endswith("答案: \nA")  # the first label's body, for information
    assert ice_key(q) == ((0, 1, 2, 3, 4),) * 4


def test_ppl_labels_share_the_shrinking_example_list() -> None:
    # labels of different lengths: A fits with 2 examples, B needs to drop one, C then starts from B's list
    body = lambda answer: {"begin": "</E>", "round": [{"role": "HUMAN", "prompt": "{question}"}, {"role": "BOT", "prompt": answer}]}  # noqa: E731
    spec = dataset_spec({"A": body("A"), "B": body("B" * 8), "C": body("C")}, kind="ppl", retriever=RetrieverSpec("fixk", (0, 1)))
    rows = [{"question": "q", "answer": "A"}, {"question": "q", "answer": "C"}]
    # with both examples A's prompt has 17 characters and B's 24; with one, B's has 18
    q = build_question_prompts(spec, rows, rows[:1], mode="ppl", count_tokens=chars, max_seq_len=20)[0]
    assert dict(q.label_ice_ids) == {"A": (0, 1), "B": (0,), "C": (0,)}
    assert to_base_text(q.label_prompts["A"]) == "q\nA\n\n\nq\nC\n\n\n\n\nq\nA"
    assert to_base_text(q.label_prompts["C"]) == "q\nA\n\n\n\n\nq\nC"
    assert (q.ice_ids, q.dropped, q.over_length) == ((0,), 1, False)
    assert ice_key(q) == ((0, 1), (0,), (0,))


def test_ppl_over_length_when_any_label_does_not_fit() -> None:
    q = build_question_prompts(ppl_spec(SUBJECT), DEV, VAL[:1], mode="ppl", count_tokens=chars, max_seq_len=40)[0]
    assert q.over_length and q.ice_ids == () and all(ids == () for ids in q.label_ice_ids.values())


def test_ppl_on_unstripped_answers_names_the_row() -> None:
    dev = [dict(DEV[0]), {**DEV[1], "answer": " D"}]
    with pytest.raises(DataError, match="row 1: answer ' D'"):
        build_question_prompts(ppl_spec(SUBJECT, retriever=RetrieverSpec("fixk", (0, 1))), dev, VAL, mode="ppl")


def test_choice_candidates_complete_the_gen_prompt() -> None:
    q = build_question_prompts(gen_spec(SUBJECT), DEV, VAL, mode="choice")[0]
    gen = to_base_text(q.prompt)
    assert q.labels == ("A", "B", "C", "D")
    assert {label: to_base_text(p) for label, p in q.label_prompts.items()} == {label: gen + "\n" + label for label in "ABCD"}
    assert to_chat_messages(q.label_prompts["C"], mode="ppl")[-1] == {"role": "assistant", "content": "C"}
    assert to_chat_messages(q.label_prompts["C"], mode="ppl")[:-1] == to_chat_messages(q.prompt)


def test_choice_truncates_on_the_gen_prompt_and_shares_examples() -> None:
    limit = chars(gen_prompts()[0].prompt) - 1
    q = build_question_prompts(gen_spec(SUBJECT), DEV, VAL, mode="choice", count_tokens=chars, max_seq_len=limit)[0]
    assert q.ice_ids == (0, 1, 2, 3) and set(q.label_ice_ids.values()) == {(0, 1, 2, 3)}
    assert to_base_text(q.label_prompts["A"]) == to_base_text(q.prompt) + "\nA"


def test_counter_sees_structured_prompts() -> None:
    seen: list[Prompt] = []

    def count(prompt: Prompt) -> int:
        seen.append(prompt)
        return 0

    gen_prompts(count_tokens=count, max_seq_len=10)
    assert len(seen) == 2 and all(isinstance(p, list) for p in seen)


def test_prompt_layer_imports_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, toolkit.engine.prompting.builder, toolkit.engine.prompting.model_input, toolkit.engine.data; "
        "heavy = {'torch', 'transformers'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_indices_render_a_subset_with_real_row_numbers() -> None:
    everything = gen_prompts()
    subset = build_question_prompts(gen_spec(SUBJECT), DEV, VAL, mode="gen", indices=[1])
    assert [q.index for q in subset] == [1] and subset[0] == everything[1]
    # the table's columns still come from the split's first row
    rows = [{"question": "q0", "A": "1", "B": "2", "C": "3", "answer": "A"}, {**VAL[0]}]
    spec = gen_spec(SUBJECT, retriever=ZERO_SHOT)
    only_second = build_question_prompts(spec, [], rows, mode="gen", indices=[1])[0]
    assert to_base_text(only_second.prompt).endswith("D. {D}\n答案: ")
