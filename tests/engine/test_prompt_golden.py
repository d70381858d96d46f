"""Golden prompts: byte-for-byte what OpenCompass 0.5.4 renders.

``../shared/reference/golden`` holds strings captured from real OpenCompass runs;
``tests/golden/prompts`` holds ones produced by OpenCompass 0.5.4's own prompt code
(see the README there) on the committed seed bank.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prompt_specs import ZERO_SHOT, chars_as_tokens, gen_spec, ppl_spec, seed_layout

from toolkit.engine.data import load_ceval_splits
from toolkit.engine.prompting.builder import build_question_prompts
from toolkit.engine.prompting.model_input import to_base_text, to_chat_messages

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "prompts"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def seed_splits(seed_raw: Path, tmp_path: Path) -> dict[str, list[dict[str, str]]]:
    """The raw seed bank as dev = val = test, read by our CEvalDataset port."""
    return load_ceval_splits(seed_layout(seed_raw, tmp_path), "seed")


def test_ceval_computer_network_val0_gen_5shot_base(shared_dir: Path) -> None:
    splits = load_ceval_splits(shared_dir / "data" / "ceval", "computer_network")
    spec = gen_spec("计算机网络", name="computer_network")
    question = build_question_prompts(spec, splits["dev"], splits["val"], mode="gen")[0]
    golden = (shared_dir / "reference" / "golden" / "ceval-computer_network-val0-gen-5shot-base.txt").read_bytes()
    assert to_base_text(question.prompt).encode("utf-8") == golden
    assert question.ice_ids == (0, 1, 2, 3, 4) and question.dropped == 0
    assert question.gold == splits["val"][0]["answer"]


def test_ceval_chat_turns_end_with_answer_cue_and_newline(shared_dir: Path) -> None:
    splits = load_ceval_splits(shared_dir / "data" / "ceval", "computer_network")
    question = build_question_prompts(gen_spec("计算机网络"), splits["dev"], splits["val"][:1], mode="gen")[0]
    messages = to_chat_messages(question.prompt)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 5 + ["user"]
    assert all(m["content"].endswith("答案: \n") for m in messages if m["role"] == "user")
    assert [m["content"] for m in messages if m["role"] == "assistant"] == [r["answer"] for r in splits["dev"]]


def test_seed_raw_gen_prompts_keep_four_examples_at_1024(shared_dir: Path, seed_splits: dict) -> None:
    golden = _json(shared_dir / "reference" / "golden" / "seed-raw-gen-5shot-base-prompts.json")
    questions = build_question_prompts(
        gen_spec(), seed_splits["dev"], seed_splits["val"], mode="gen", count_tokens=chars_as_tokens, max_seq_len=1024
    )
    assert len(questions) == len(golden) == 10
    for q in questions:
        assert to_base_text(q.prompt) == golden[str(q.index)]["origin_prompt"]
        assert q.gold == golden[str(q.index)]["gold"]  # unstripped: ' D' stays ' D'
        assert (q.ice_ids, q.dropped, q.over_length) == ((0, 1, 2, 3), 1, False)


def test_seed_raw_without_max_seq_len_keeps_all_five(shared_dir: Path, seed_splits: dict) -> None:
    golden = _json(shared_dir / "reference" / "golden" / "seed-raw-gen-5shot-base-prompts.json")
    question = build_question_prompts(gen_spec(), seed_splits["dev"], seed_splits["val"], mode="gen")[0]
    text = to_base_text(question.prompt)
    assert question.ice_ids == (0, 1, 2, 3, 4) and text.count("\n答案: ") == 6
    assert text != golden["0"]["origin_prompt"]


def test_seed_unstripped_answer_leaks_into_examples(seed_splits: dict) -> None:
    question = build_question_prompts(gen_spec(), seed_splits["dev"], seed_splits["val"], mode="gen")[0]
    assert "答案: \n D\n" in to_base_text(question.prompt)


def test_seed_gen_5shot_chat_messages(seed_splits: dict) -> None:
    golden = _json(GOLDEN / "seed-gen-5shot-chat-messages.json")
    for q in build_question_prompts(gen_spec(), seed_splits["dev"], seed_splits["val"], mode="gen"):
        assert to_chat_messages(q.prompt) == golden[str(q.index)]


def test_seed_gen_zero_shot_base_prompts_start_with_newline(seed_splits: dict) -> None:
    golden = _json(GOLDEN / "seed-gen-0shot-base-prompts.json")
    spec = gen_spec(retriever=ZERO_SHOT)
    for q in build_question_prompts(spec, seed_splits["dev"], seed_splits["val"], mode="gen"):
        text = to_base_text(q.prompt)
        assert text == golden[str(q.index)]
        assert text.startswith("\n以下是") and q.ice_ids == ()


def test_seed_stripped_ppl_5shot_label_prompts(seed_splits: dict) -> None:
    golden = _json(GOLDEN / "seed-stripped-ppl-5shot-base-prompts.json")
    dev = [{**row, "answer": row["answer"].strip()} for row in seed_splits["dev"]]
    questions = build_question_prompts(ppl_spec(), dev, dev, mode="ppl")
    for q in questions:
        assert q.labels == ("A", "B", "C", "D")
        assert {label: to_base_text(p) for label, p in q.label_prompts.items()} == golden[str(q.index)]
    text = to_base_text(questions[0].label_prompts["B"])
    # three newlines between examples, five before the question
    assert re.findall(r"(\n*)以下是", text) == ["", "\n" * 3, "\n" * 3, "\n" * 3, "\n" * 3, "\n" * 5]
    assert text.endswith("答案: \nB")
