"""Post-processors: OpenCompass parity, the strict extractor's rule, and is_decided."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from toolkit.engine.scoring.postprocess import (
    POSTPROCESSORS,
    first_capital_is_decided,
    first_capital_postprocess,
    first_option_is_decided,
    first_option_postprocess,
    resolve_postprocessor,
    strict_option_is_decided,
    strict_option_postprocess,
)
from toolkit.errors import ConfigError

OC_SOURCE = Path(__file__).resolve().parents[1] / "data" / "opencompass" / "text_postprocessors.py"
"""OpenCompass 0.5.4's own post-processors, copied unchanged (Apache-2.0) as a parity oracle."""


# --- first_capital --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C", "C"),
        ("\nC\n以下是中国关于社", "C"),
        ("The answer is B", "T"),  # OpenCompass's trap, kept for parity
        ("答案：b", ""),
        ("", ""),
        ("éÉ", "É"),  # any uppercase character, not only ASCII
    ],
)
def test_first_capital_matches_opencompass_behaviour(text: str, expected: str) -> None:
    assert first_capital_postprocess(text) == expected


def test_first_capital_is_decided_once_an_uppercase_letter_appears() -> None:
    assert not first_capital_is_decided("\n答案是")
    assert first_capital_is_decided("\nb C")


# --- first_option -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("答案是B", "B"),
        ("答案是 B。", "B"),
        ("答案：C", "C"),
        ("The answer is (D)", "D"),
        ("the answer is: A", "A"),
        ("answer: c", ""),  # (?i) matches "c", but "c" is not one of "ABCD"
        ("ANSWER: c", "A"),  # ... and the cushion then finds the "A" of "ANSWER"
        ("A. 路由器", "A"),
        ("\nC\n以下是中国关于社", "C"),
        ("我认为应该选择 D", "D"),
        ("故选B", "B"),  # the glued pattern misses; a later pattern still finds it
        ("Both are wrong", "B"),  # the cushion: any option letter at all
        ("nothing here", ""),
        ("The correct answer is \\boxed{C}", "C"),
    ],
)
def test_first_option_examples(text: str, expected: str) -> None:
    assert first_option_postprocess(text) == expected


def test_first_option_without_cushion_and_with_custom_options() -> None:
    assert first_option_postprocess("Both are wrong", cushion=False) == ""
    assert first_option_postprocess("答案是E", options="ABCDE") == "E"
    assert first_option_postprocess("答案是E") == ""  # E is not an option of ABCD
    assert first_option_postprocess("答案是E", options="ABCD", cushion=False) == ""


def _opencompass_function(name: str):
    """OpenCompass's own function, compiled from its copied source (we never import OpenCompass)."""
    namespace: dict = {"re": re}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its patterns are not raw strings
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(OC_SOURCE.read_text(encoding="utf-8"))
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        exec(compile(ast.Module(body=[node], type_ignores=[]), str(OC_SOURCE), "exec"), namespace)
    return namespace[name]


@pytest.fixture(scope="module")
def opencompass_first_option():
    return _opencompass_function("first_option_postprocess")


_OC_FIRST_CAPITAL = _opencompass_function("first_capital_postprocess")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=20))
def test_first_capital_equals_opencompass_on_any_text(text: str) -> None:
    assert first_capital_postprocess(text) == _OC_FIRST_CAPITAL(text)


# Characters that exercise OpenCompass's patterns: keywords, punctuation, letters, spaces.
_PATTERN_ALPHABET = list("答案是为选项应该故只有对错不正确说法的所以因此显然即：:,，。.()*{}1 \nABCDEabcTthe") + [
    "The answer is ", "answer: ", "boxed{", "正确答案", "选项",
]
texts = st.lists(st.sampled_from(_PATTERN_ALPHABET), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=texts, cushion=st.booleans())
def test_first_option_equals_opencompass_on_generated_texts(opencompass_first_option, text: str, cushion: bool) -> None:
    assert first_option_postprocess(text, "ABCD", cushion) == opencompass_first_option(text, "ABCD", cushion)


# --- strict_option ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C", "C"),
        ("C.", "C"),
        ("(C)", "C"),
        ("答案：C", "C"),
        ("答案C", "C"),
        ("The answer is C", "C"),
        ("The answer", ""),
        ("\nC\n以下是", "C"),
        ("E", ""),  # not an option of an A-D question
        ("ABCD", ""),  # letters inside a word
        ("c", ""),  # lowercase is not an option
        ("Both B and D", "B"),  # "B" of "Both" is part of a word
        ("C2 or D", "D"),  # digits join a letter to a word too
    ],
)
def test_strict_option_rule(text: str, expected: str) -> None:
    assert strict_option_postprocess(text) == expected


def test_strict_option_accepts_only_existing_options() -> None:
    assert strict_option_postprocess("E) or B", options="AB") == "B"
    assert strict_option_postprocess("E) or B", options="ABCDE") == "E"
    assert strict_option_postprocess("E", options=("A", "B", "C", "D", "E")) == "E"


def test_strict_option_is_decided_needs_one_more_character() -> None:
    assert not strict_option_is_decided("答案：C")  # "C" could still become "Cat"
    assert strict_option_is_decided("答案：C\n")
    assert not strict_option_is_decided("Cat ")
    assert not strict_option_is_decided("")


def test_first_option_is_decided_only_on_the_first_pattern() -> None:
    assert first_option_is_decided("答案是 C，因为")
    assert first_option_is_decided("  答案B")
    assert not first_option_is_decided("The answer is C.")  # "答案A" could still follow
    assert not first_option_is_decided("答案是")


# --- the property every is_decided must have ------------------------------------------------

_ALPHABET = list("ABCDEaTt答案是：:.()（） \n2选") + ["答案", "The answer is ", "以下是"]
fragments = st.lists(st.sampled_from(_ALPHABET), max_size=10).map("".join)


@settings(max_examples=1500, deadline=None)
@given(name=st.sampled_from(sorted(POSTPROCESSORS)), text=fragments, more=fragments)
@example(name="strict_option_postprocess", text="答案：C", more="at")
@example(name="first_option_postprocess", text="答案是 B", more="。答案A")
@example(name="first_capital_postprocess", text="\nb", more="T")
def test_decided_text_keeps_its_answer(name: str, text: str, more: str) -> None:
    post = resolve_postprocessor(name, options="ABCD")
    if post.is_decided(text):
        assert post(text + more) == post(text)


def test_is_decided_is_not_vacuous() -> None:
    """The property test above only bites if each is_decided says True sometimes."""
    for name, text in [
        ("first_capital_postprocess", "\nC"),
        ("first_option_postprocess", "答案是 C"),
        ("strict_option_postprocess", "(C)"),
    ]:
        assert resolve_postprocessor(name).is_decided(text), name


# --- lookup by name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "first_capital_postprocess",
        "first-capital",
        "opencompass.utils.text_postprocessors.first_capital_postprocess",
    ],
)
def test_resolve_accepts_opencompass_names(name: str) -> None:
    post = resolve_postprocessor(name)
    assert post.name == "first_capital_postprocess"
    assert post("The answer is B") == "T"


def test_resolve_binds_options_from_the_dataset_unless_given() -> None:
    assert resolve_postprocessor("first_option_postprocess", options=("A", "B")).kwargs == {"options": "AB"}
    bound = resolve_postprocessor("first_option_postprocess", {"options": "ABC", "cushion": False}, options="AB")
    assert bound.kwargs == {"options": "ABC", "cushion": False}
    assert resolve_postprocessor("strict_option_postprocess").kwargs == {"options": "ABCD"}


def test_resolve_none_keeps_the_text() -> None:
    post = resolve_postprocessor(None)
    assert post(" C\n") == " C\n"
    assert not post.is_decided("C")


def test_resolve_rejects_unknown_names_and_arguments() -> None:
    with pytest.raises(ConfigError, match="unsupported pred_postprocessor 'last_capital_postprocess'") as err:
        resolve_postprocessor("last_capital_postprocess")
    assert "strict_option_postprocess" in str(err.value)
    with pytest.raises(ConfigError, match="takes no argument 'options'"):
        resolve_postprocessor("first_capital_postprocess", {"options": "AB"})


def test_docstring_examples_run() -> None:
    import doctest

    import toolkit.engine.scoring.postprocess as module

    assert doctest.testmod(module).failed == 0
