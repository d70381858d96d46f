"""ppl predictions carry OpenCompass's keys and values (issue 10, item 9), checked against its own handler."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset
from prompt_specs import ppl_spec

from toolkit.config.spec import ModelSpec
from toolkit.engine.data import load_ceval_splits
from toolkit.engine.inference.dataset import DatasetInference
from toolkit.engine.params import InferParams
from toolkit.engine.prompting.model_input import to_base_text
from toolkit.models.fake import FakeModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "opencompass"))
from ppl_output_handler import opencompass_records

OPENCOMPASS_KEYS = ("in-context examples", "origin_prompt", "label: A", "label: B", "label: C", "label: D",
                    "prediction", "gold")


def _splits(seed_raw: Path, tmp_path: Path) -> dict:
    return load_ceval_splits(write_dataset(tmp_path, seed_rows(seed_raw), subjects=("seed",)), "seed")


def _expected(inference: DatasetInference, model: FakeModel) -> dict:
    """OpenCompass's records for the same prompts, with the PPLs our (fake) model gives them."""
    questions = inference.prompts.build()
    labels = list(questions[0].labels)
    prompts = {lb: [to_base_text(q.label_prompts[lb]) for q in questions] for lb in labels}
    ices = {lb: [to_base_text(q.label_ice[lb]) for q in questions] for lb in labels}
    tokens = {lb: [model.encode(p, generation=False) for p in prompts[lb]] for lb in labels}
    scores = {lb: [next(model.score([_request(t)]))[0].scores[0] for t in tokens[lb]] for lb in labels}
    return opencompass_records(labels, [to_base_text(q.retrieved_ice) for q in questions], prompts, ices,
                               {lb: [s.avg_nll for s in scores[lb]] for lb in labels},
                               {lb: [len(t) for t in tokens[lb]] for lb in labels}, [q.gold for q in questions])


def _request(tokens):
    from toolkit.models.base import ScoreRequest

    return ScoreRequest(0, (tokens,))


@pytest.mark.parametrize("truncated", [False, True])
def test_ppl_records_are_what_opencompass_writes(seed_raw, tmp_path, truncated):
    model = FakeModel(ModelSpec(abbr="f", path="f", hf_type="base"))
    splits = _splits(seed_raw, tmp_path)
    limit = None
    if truncated:  # shorter than every 5-shot prompt (the fake model's tokens are UTF-8 bytes)
        whole = DatasetInference(model, ppl_spec(), splits, InferParams())
        limit = min(r["prompt_tokens"] for batch in whole.run() for r in batch) - 1
    inference = DatasetInference(model, ppl_spec(), splits, InferParams(max_seq_len=limit))
    ours = {str(r["index"]): r for batch in inference.run() for r in batch}
    expected = _expected(inference, model)
    assert all(bool(r.get("dropped_examples")) == truncated for r in ours.values())
    assert set(ours) == set(expected)
    for key, theirs in expected.items():
        assert tuple(k for k in ours[key] if k in OPENCOMPASS_KEYS) == OPENCOMPASS_KEYS == tuple(theirs)
        for name in ("in-context examples", "origin_prompt", "gold"):
            assert ours[key][name] == theirs[name], (key, name)
        for label in "ABCD":
            mine, want = ours[key][f"label: {label}"], theirs[f"label: {label}"]
            assert mine["testing input"] == want["testing input"] and mine["prompt"] == want["prompt"]
            assert mine["PPL"] == pytest.approx(want["PPL"]) and mine["BPB"] == pytest.approx(want["BPB"])
        # origin_prompt is the question alone: one instruction line, none of the examples
        assert ours[key]["origin_prompt"].count("以下是中国关于") == 1


def test_predictions_file_and_resume_keep_the_opencompass_keys(cli, tmp_path, seed_raw, monkeypatch):
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    args = ["eval", "--datasets", "seed_ppl", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none", "--abbr", "seed-values"]
    assert cli(*args).exit_code == 0
    run = next((tmp_path / "outputs" / "default").iterdir())
    path = run / "predictions" / "fake-model" / "seed-values.json"
    first = path.read_bytes()
    record = json.loads(first)["0"]
    assert tuple(k for k in record if k in OPENCOMPASS_KEYS) == OPENCOMPASS_KEYS
    assert set(record["label: A"]) == {"testing input", "prompt", "PPL", "BPB"}
    again = cli(*args, "-r", "--display", "plain")
    assert again.exit_code == 0 and "loading model" not in again.stderr  # reused, nothing inferred
    assert path.read_bytes() == first


def test_ppl_values_are_the_real_average_loss(seed_raw, tmp_path, tiny_model):
    """PPL as OpenCompass computes it: the summed token loss over the whole sequence divided by its length,
    here checked against a plain forward pass (no prefix cache, no batching)."""
    import torch

    inference = DatasetInference(tiny_model, ppl_spec(), _splits(seed_raw, tmp_path), InferParams(), indices=[0, 3])
    records = [r for batch in inference.run() for r in batch]
    for rec in records:
        for label in "AB":
            entry = rec[f"label: {label}"]
            ids = torch.tensor([tiny_model.encode(entry["prompt"], generation=False)])
            with torch.no_grad():
                loss = tiny_model.model(ids, labels=ids).loss.item()  # mean over the n-1 predicted tokens
            n = ids.shape[1]
            assert entry["PPL"] == pytest.approx(loss * (n - 1) / n, rel=1e-4)
