"""The Hugging Face backend on a tiny random Llama: cached paths equal the plain ones."""

from __future__ import annotations

import random

import pytest
import torch

from toolkit.models.base import GenRequest, ScoreRequest
from toolkit.models.hf_memory import Budget, is_oom


def _questions(model, n=6, seed=0):
    rng = random.Random(seed)
    vocab = len(model.tokenizer)
    prefix = list(model.encode("以下是中国关于计算机网络考试的单项选择题，请选出其中的正确答案。" * 3, generation=True))
    return [prefix + [rng.randrange(10, vocab - 3) for _ in range(rng.randrange(2, 14))] for _ in range(n)]


def _reference(model, tokens):
    """Whole-sequence NLL and last-token NLL from one plain forward pass (no cache, no padding)."""
    ids = torch.tensor([tokens])
    with torch.no_grad():
        logp = torch.log_softmax(model.model(input_ids=ids).logits[0].float(), -1)
    total = -logp[:-1].gather(1, ids[0, 1:].unsqueeze(1)).sum().item()
    return total, -logp[-2, tokens[-1]].item()


def test_prefix_cached_scores_equal_plain_forward_passes(tiny_model):
    letters = [tiny_model.encode(c, generation=False)[-1] for c in "ABCD"]
    reqs = [ScoreRequest(i, tuple(tuple(q + [t]) for t in letters), group="subject")
            for i, q in enumerate(_questions(tiny_model))]
    got = {r.key: r for batch in tiny_model.score(reqs, need_total=True) for r in batch}
    assert sorted(got) == list(range(len(reqs)))
    for req in reqs:
        for cand, score in zip(req.candidates, got[req.key].scores):
            total, tail = _reference(tiny_model, list(cand))
            assert score.total_nll == pytest.approx(total, abs=2e-3)
            assert score.tail_nll == pytest.approx(tail, abs=1e-4)
            assert score.n_tokens == len(cand)


def test_choice_scores_need_one_pass_and_match_ppl_tails(tiny_model):
    letters = [tiny_model.encode(c, generation=False)[-1] for c in "ABCD"]
    reqs = [ScoreRequest(i, tuple(tuple(q + [t]) for t in letters), group="s") for i, q in enumerate(_questions(tiny_model))]
    full = {r.key: r for b in tiny_model.score(reqs, need_total=True) for r in b}
    calls = []
    original = tiny_model.fw.run
    tiny_model.fw.run = lambda rows, prefix, keep: calls.append(len(rows)) or original(rows, prefix, keep=keep)
    try:
        last = {r.key: r for b in tiny_model.score(reqs, need_total=False) for r in b}
    finally:
        tiny_model.fw.run = original
    assert sum(calls) == len(reqs)  # one row (one forward position set) per question, all four letters read off it
    for k in full:
        assert [s.tail_nll for s in last[k].scores] == pytest.approx([s.tail_nll for s in full[k].scores], abs=1e-5)


def test_multi_token_candidates_get_their_own_rows(tiny_model):
    q = _questions(tiny_model, n=1)[0]
    reqs = [ScoreRequest(0, (tuple(q + [40, 41]), tuple(q + [42])))]
    (res,) = [r for b in tiny_model.score(reqs, need_total=True) for r in b]
    for cand, score in zip(reqs[0].candidates, res.scores):
        total, _ = _reference(tiny_model, list(cand))
        assert score.total_nll == pytest.approx(total, abs=2e-3)
    assert res.scores[0].tail_tokens == 2


def test_generation_equals_transformers_greedy_generate(tiny_model):
    reqs = [GenRequest(i, tuple(q), max_new_tokens=6, group="g") for i, q in enumerate(_questions(tiny_model, 5))]
    got = {g.key: g for b in tiny_model.generate(reqs) for g in b}
    for r in reqs:
        ids = torch.tensor([r.tokens])
        out = tiny_model.model.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=tiny_model.tokenizer.pad_token_id)
        expected = tiny_model.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        assert got[r.key].text == expected


def test_generation_stops_when_decided_and_at_stop_strings(tiny_model):
    q = tuple(_questions(tiny_model, 1)[0])
    (free,) = [g for b in tiny_model.generate([GenRequest(0, q, 8)]) for g in b]
    assert free.new_tokens == 8 and free.stop_reason == "length"
    (decided,) = [g for b in tiny_model.generate([GenRequest(0, q, 8, decided=lambda t: len(t) > 0)]) for g in b]
    assert decided.stop_reason == "decided" and decided.new_tokens <= 2
    # cut a free generation at a piece of its own later text
    prompt = tiny_model.encode("答案: ", generation=True)
    (full,) = [g for b in tiny_model.generate([GenRequest(0, prompt, 8)]) for g in b]
    starts = [i for i in range(1, len(full.text) - 1) if "\ufffd" not in full.text[i:i + 2] and full.text[i:i + 2].strip()]
    assert starts, f"no clean text to stop at in {full.text!r}"
    stop = full.text[starts[0]:starts[0] + 2]
    (cut,) = [g for b in tiny_model.generate([GenRequest(0, prompt, 8, stop_strings=(stop,))]) for g in b]
    assert cut.stop_reason == "stop_string" and stop not in cut.text and full.text.startswith(cut.text)
    assert cut.new_tokens < full.new_tokens


def test_out_of_memory_halves_the_batch_and_goes_on(tiny_model):
    warnings = []
    scorer = tiny_model.scorer_full
    saved_budget, saved_warn, original = scorer.budget, scorer.warn, tiny_model.fw.run
    state = {"raised": False}

    def flaky(rows, prefix, keep):
        if len(rows) > 1 and not state["raised"]:
            state["raised"] = True
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(rows, prefix, keep=keep)

    scorer.budget, scorer.warn, tiny_model.fw.run = Budget(4, 10_000, 100_000), warnings.append, flaky
    try:
        reqs = [ScoreRequest(i, (tuple(q + [5]), tuple(q + [6])), group="s") for i, q in enumerate(_questions(tiny_model))]
        got = [r for b in tiny_model.score(reqs, need_total=True) for r in b]
    finally:
        tiny_model.fw.run = original
        scorer.budget, scorer.warn = saved_budget, saved_warn
    assert len(got) == len(reqs) and state["raised"]
    assert warnings and "halving" in warnings[0]
    assert is_oom(RuntimeError("CUDA error: out of memory")) and not is_oom(RuntimeError("shape mismatch"))


def test_min_new_tokens_suppresses_an_immediate_eos(tiny_model):
    eos = tiny_model.tokenizer.eos_token_id
    q = tuple(_questions(tiny_model, 1)[0])
    gen = tiny_model.generator
    original = tiny_model.fw.run

    def eos_first(rows, prefix, keep):
        out = original(rows, prefix, keep=keep)
        out.logits[:, eos] = 1e4  # the model "wants" to stop at once
        return out

    tiny_model.fw.run = eos_first
    try:
        (stopped,) = [g for b in gen.generate([GenRequest(0, q, 4, min_new_tokens=0)]) for g in b]
        (kept,) = [g for b in gen.generate([GenRequest(0, q, 4, min_new_tokens=1)]) for g in b]
    finally:
        tiny_model.fw.run = original
    assert stopped.stop_reason == "eos" and stopped.new_tokens == 1
    assert kept.new_tokens >= 1 and kept.stop_reason != "eos" or kept.new_tokens > 1


def test_describe_and_encode(tiny_model):
    facts = tiny_model.describe()
    assert facts["dtype"] == "float32" and facts["device"] == "cpu" and facts["parameters"] > 0
    text_ids = tiny_model.encode("答案: ", generation=True)
    chat_ids = tiny_model.encode([{"role": "user", "content": "答案: "}], generation=True)
    assert len(chat_ids) > len(text_ids)
    assert tiny_model.count_tokens("答案: ", generation=True) == len(text_ids)


def test_a_calls_batch_size_caps_its_batches_and_stays_halved_after_out_of_memory(tiny_model):
    """A dataset config's batch_size reaches the backend per call (the model was loaded with batch_size=4)."""
    reqs = [GenRequest(i, tuple(q), max_new_tokens=2) for i, q in enumerate(_questions(tiny_model, 6))]
    assert [len(b) for b in tiny_model.generate(reqs, batch_size=2)] == [2, 2, 2]
    letters = [tiny_model.encode(c, generation=False)[-1] for c in "AB"]
    scores = [ScoreRequest(i, tuple(tuple(q + [t]) for t in letters)) for i, q in enumerate(_questions(tiny_model, 3))]
    assert [len(b) for b in tiny_model.score(scores, need_total=False, batch_size=1)] == [1, 1, 1]
    assert Budget(4, 10_000, 100_000).halved().halved().for_rows(16).max_batch == 4
    assert Budget(4, 10_000, 100_000).for_rows(None).max_batch == 4
