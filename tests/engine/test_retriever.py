"""Retrievers, example assembly, template choice and labels (OpenCompass's BaseRetriever)."""

from __future__ import annotations

import pytest
from prompt_specs import gen_spec, meta_round, ppl_spec

from toolkit.config.spec import InferencerSpec, InferSpec, PromptTemplateSpec, ReaderSpec, RetrieverSpec
from toolkit.engine.prompting.prompt_list import PromptList
from toolkit.engine.prompting.retriever import (
    final_template,
    ice_separators,
    labels_for,
    option_labels,
    render_ice,
    retrieve,
)
from toolkit.engine.prompting.template import check_template
from toolkit.errors import ConfigError, DataError

ROWS = [{"question": f"q{i}", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "ABCD"[i % 4]} for i in range(6)]
STRING_TEMPLATE = PromptTemplateSpec("</E>{question}? {answer}", ice_token="</E>")


def infer_with(template: PromptTemplateSpec | None, retriever: RetrieverSpec, **kw: object) -> InferSpec:
    return InferSpec(retriever, InferencerSpec("gen"), ice_template=template, **kw)  # type: ignore[arg-type]


def test_zero_retriever_gives_no_examples() -> None:
    assert retrieve(RetrieverSpec("zero"), n_train=0, n_test=3) == [(), (), ()]


def test_fixk_gives_every_question_the_same_rows() -> None:
    assert retrieve(RetrieverSpec("fixk", (4, 0)), n_train=5, n_test=2) == [(4, 0), (4, 0)]


@pytest.mark.parametrize("bad", [5, -1])
def test_fixk_out_of_range_is_a_data_error(bad: int) -> None:
    with pytest.raises(DataError, match=rf"the dev split has 5 rows, but fix_id_list asks for row {bad}"):
        retrieve(RetrieverSpec("fixk", (0, bad)), n_train=5, n_test=1)


def test_separators() -> None:
    assert ice_separators(RetrieverSpec("fixk", (0,))) == ("\n", "\n")
    assert ice_separators(RetrieverSpec("fixk", (0,), "##", "@@")) == ("##", "@@")
    # ZeroRetriever takes no separator (the loader gives it OpenCompass's default end token "")
    assert ice_separators(RetrieverSpec("zero", ice_separator="##", ice_eos_token="")) == ("", "")
    assert ice_separators(RetrieverSpec("zero", ice_eos_token="</s>")) == ("", "</s>")


def test_string_template_examples_joined_with_separator_and_end_token() -> None:
    ice = render_ice((0, 1), ROWS, infer_with(STRING_TEMPLATE, RetrieverSpec("fixk", (0, 1), "##", "@@")), "answer")
    assert ice == "q0? A##q1? B@@"
    assert render_ice((), ROWS, infer_with(STRING_TEMPLATE, RetrieverSpec("zero", ice_eos_token="")), "answer") == ""
    assert render_ice((), ROWS, infer_with(STRING_TEMPLATE, RetrieverSpec("zero", ice_eos_token="\n")), "answer") == "\n"


def test_meta_template_examples_have_no_separators() -> None:
    infer = gen_spec("科目").infer
    ice = render_ice((0, 1), ROWS, infer, "answer")
    assert isinstance(ice, PromptList)
    assert [item for item in ice if isinstance(item, str)] == [""]  # only the (empty) end token
    assert [item["prompt"] for item in ice if "role" in item][1::2] == ["A", "B"]
    assert render_ice((), ROWS, infer, "answer") == ""


def test_label_keyed_examples_use_their_answers_body() -> None:
    ice = render_ice((1,), ROWS, ppl_spec("科目").infer, "answer")
    assert ice[-3:] == [{"section": "ice", "pos": "end"}, "\n", "\n"]  # separator, then end token
    assert [item["prompt"] for item in ice if isinstance(item, dict) and item.get("role") == "BOT"] == ["B"]


def test_label_keyed_example_with_unknown_answer_names_the_row() -> None:
    rows = [dict(ROWS[0]), {**ROWS[1], "answer": " D"}]
    with pytest.raises(DataError, match=r"in-context example row 1: answer ' D' is not one of the template's labels"):
        render_ice((0, 1), rows, ppl_spec("科目").infer, "answer")


def test_examples_need_an_ice_template() -> None:
    with pytest.raises(ConfigError, match="no ice_template"):
        render_ice((0,), ROWS, infer_with(None, RetrieverSpec("fixk", (0,))), "answer")


def test_final_template_prefers_prompt_template() -> None:
    prompt = PromptTemplateSpec(meta_round("科目"), ice_token="</E>")
    ice = PromptTemplateSpec({"round": meta_round("科目")["round"]})
    assert final_template(infer_with(ice, RetrieverSpec(), prompt_template=prompt)) is prompt
    with pytest.raises(ConfigError, match="prompt_template has no ice_token"):
        final_template(infer_with(ice, RetrieverSpec(), prompt_template=PromptTemplateSpec("{question}")))
    with pytest.raises(ConfigError, match="ice_template has no ice_token"):
        final_template(infer_with(ice, RetrieverSpec()))
    with pytest.raises(ConfigError, match="neither"):
        final_template(infer_with(None, RetrieverSpec()))
    only_prompt = PromptTemplateSpec("{question}")
    assert final_template(infer_with(None, RetrieverSpec(), prompt_template=only_prompt)) is only_prompt


def test_ppl_labels() -> None:
    assert labels_for(ppl_spec("科目").infer, ROWS, "answer") == ("A", "B", "C", "D")
    assert labels_for(ppl_spec("科目", labels=("B", "A")).infer, ROWS, "answer") == ("B", "A")
    # a meta template is not label-keyed: the distinct gold answers, sorted
    rows = [{"answer": "C"}, {"answer": "A"}, {"answer": "C"}]
    assert labels_for(gen_spec("科目").infer, rows, "answer") == ("A", "C")
    with pytest.raises(ConfigError, match="needs labels"):
        labels_for(gen_spec("科目").infer, rows, None)


def test_choice_labels_are_single_capital_input_columns() -> None:
    infer = gen_spec("科目").infer
    assert option_labels(infer, ReaderSpec(("question", "A", "B", "C", "D", "E"), "answer")) == tuple("ABCDE")
    assert option_labels(infer, ReaderSpec(("question", "AB", "a", "A"), "answer")) == ("A",)
    assert option_labels(gen_spec("科目", labels=("X", "Y")).infer, ReaderSpec(("q",), "answer")) == ("X", "Y")
    with pytest.raises(ConfigError, match="single capital letters"):
        option_labels(infer, ReaderSpec(("question", "opt1"), "answer"))


def test_check_template() -> None:
    check_template(STRING_TEMPLATE)
    with pytest.raises(ConfigError, match="does not occur"):
        check_template(PromptTemplateSpec("{question}", ice_token="</E>"))
    with pytest.raises(ConfigError, match="does not occur"):
        check_template(PromptTemplateSpec({"A": "{question} A", "B": "</E>{question} B"}, ice_token="</E>"))
    with pytest.raises(ConfigError, match="needs a 'round'"):
        check_template(PromptTemplateSpec({"begin": "</E>"}, ice_token="</E>"))
    with pytest.raises(ConfigError, match="string or a dict"):
        check_template(PromptTemplateSpec(["</E>"], ice_token="</E>"))
