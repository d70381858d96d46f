"""DatasetInference: requests built from prompts, predictions picked as OpenCompass picks them."""

from __future__ import annotations

from pathlib import Path

from engine_data import seed_rows, write_dataset
from prompt_specs import gen_spec, ppl_spec

from toolkit.config.spec import ModelSpec
from toolkit.engine.data import load_ceval_splits
from toolkit.engine.inference.dataset import DatasetInference, header_stop
from toolkit.engine.params import InferParams
from toolkit.models.fake import FakeModel


def _splits(seed_raw: Path, tmp_path: Path) -> dict:
    """The seed bank, whitespace stripped: dev = rows 0-4, val = rows 5-9 twice."""
    return load_ceval_splits(write_dataset(tmp_path, seed_rows(seed_raw), subjects=("seed",)), "seed")


def _run(model, spec, splits, params=InferParams()):
    return {r["index"]: r for batch in DatasetInference(model, spec, splits, params).run() for r in batch}


def test_ppl_ranks_by_the_label_loss_when_candidates_are_equally_long(seed_raw, tmp_path):
    model = FakeModel(ModelSpec(abbr="f", path="f", hf_type="base"))
    records = _run(model, ppl_spec(), _splits(seed_raw, tmp_path))
    for rec in records.values():
        assert rec["score"] == "label_nll"
        assert rec["prediction"] == min(rec["scores"], key=lambda k: (rec["scores"][k], "ABCD".index(k)))


def test_ppl_ranks_by_the_average_loss_when_candidates_differ_in_length(seed_raw, tmp_path):
    spec = ppl_spec()
    template = {label: dict(body) for label, body in spec.infer.ice_template.template.items()}
    template["D"]["round"] = [template["D"]["round"][0], {"role": "BOT", "prompt": "D, none of the above"}]
    from dataclasses import replace

    spec = replace(spec, infer=replace(spec.infer, ice_template=replace(spec.infer.ice_template, template=template)))
    model = FakeModel(ModelSpec(abbr="f", path="f", hf_type="base"))
    records = _run(model, spec, _splits(seed_raw, tmp_path))
    assert {rec["score"] for rec in records.values()} == {"avg_nll"}


def test_gen_requests_carry_stops_and_the_decided_test(seed_raw, tmp_path):
    seen = []

    class Spy(FakeModel):
        def generate(self, requests, progress=None):
            seen.extend(requests)
            return super().generate(requests, progress)

    model = Spy(ModelSpec(abbr="f", path="f", hf_type="base"))
    records = _run(model, gen_spec(), _splits(seed_raw, tmp_path), InferParams(max_out_len=16, stop_words=("###",)))
    assert len(records) == 10 and len(seen) == 10
    req = seen[0]
    assert req.max_new_tokens == 16 and req.min_new_tokens == 1
    assert req.stop_strings[0] == "###" and req.stop_strings[1].startswith("\n以下是中国关于")
    assert req.decided("\nC") and not req.decided("\n")
    assert len({r.group for r in seen}) == 1  # one shared few-shot prefix for the subject
    no_stop = Spy(ModelSpec(abbr="f", path="f", hf_type="base"))
    seen.clear()
    _run(no_stop, gen_spec(), _splits(seed_raw, tmp_path), InferParams(early_stop=False))
    assert seen[0].decided is None and seen[0].stop_strings == ()


def test_header_stop_needs_a_real_first_line():
    assert header_stop("\n题目") is None
    assert header_stop("Question: x\nA. y") == "\nQuestion: x"


def test_a_chunked_run_equals_one_pass_and_never_holds_more_than_a_chunk(seed_raw, tmp_path):
    splits = _splits(seed_raw, tmp_path)
    for spec, params in ((gen_spec(), InferParams(max_out_len=8)), (ppl_spec(), InferParams()),
                         (gen_spec(), InferParams(mode="choice"))):
        sizes = []

        class Spy(FakeModel):
            def generate(self, requests, progress=None):
                sizes.append(len(requests))  # noqa: B023 - the class is used within this iteration
                return super().generate(requests, progress)

            def score(self, requests, progress=None, *, need_total=True):
                sizes.append(len(requests))  # noqa: B023 - the class is used within this iteration
                return super().score(requests, progress, need_total=need_total)

        whole = _run(FakeModel(ModelSpec(abbr="f", path="f", hf_type="base")), spec, splits, params)
        model = Spy(ModelSpec(abbr="f", path="f", hf_type="base"))
        inference = DatasetInference(model, spec, splits, params, indices=[9, 0, 4, 5, 2, 7, 1], chunk_size=3)
        chunked = {r["index"]: r for batch in inference.run() for r in batch}
        assert sizes == [3, 3, 1]  # requests are built a chunk at a time, rows in order
        assert sorted(chunked) == [0, 1, 2, 4, 5, 7, 9]
        assert all(chunked[i] == whole[i] for i in chunked)


def test_questions_too_long_even_without_examples_are_kept_and_listed(seed_raw, tmp_path):
    splits = _splits(seed_raw, tmp_path)
    model = FakeModel(ModelSpec(abbr="f", path="f", hf_type="base"))
    inference = DatasetInference(model, gen_spec(), splits, InferParams(max_seq_len=40, max_out_len=4), chunk_size=4)
    records = [r for batch in inference.run() for r in batch]
    assert len(records) == 10 and all(r["over_length"] and r["in_context_examples"] == [] for r in records)
    assert inference.too_long == list(range(10))
