"""run_eval end to end on a tiny random Llama: every mode, the summary, resume after a kill, reuse keys."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

from toolkit.config.groups import mapping_groups
from toolkit.config.loader import load_config
from toolkit.config.pyconfig import read_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.engine.events import to_json


class CountingModel:
    """Delegates to a real model; counts requests and can simulate Ctrl-C after some batches."""

    def __init__(self, inner, kill_after: int | None = None) -> None:
        self.inner, self.kill_after, self.batches, self.requests = inner, kill_after, 0, 0
        self.name, self.hf_type = inner.name, inner.hf_type

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _wrap(self, it):
        for batch in it:
            if self.kill_after is not None and self.batches >= self.kill_after:
                raise KeyboardInterrupt
            self.batches += 1
            self.requests += len(batch)
            yield batch

    def generate(self, requests, progress=None):
        return self._wrap(self.inner.generate(requests, progress))

    def score(self, requests, progress=None, *, need_total=True):
        return self._wrap(self.inner.score(requests, progress, need_total=need_total))


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path) -> dict:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    configs = write_configs(tmp_path / "configs", data)
    return {"data": data, "configs": configs, "work": tmp_path / "outputs"}


def _spec(bank: dict, mode: str = "gen", **kw) -> EvalRunSpec:
    loaded = load_config(bank["configs"][mode])
    model = ModelSpec(abbr="tiny", path="unused", hf_type="base", batch_size=2, max_out_len=8)
    groups = tuple(mapping_groups(read_config(bank["configs"][mode])))
    return EvalRunSpec(datasets=loaded.datasets, models=(model,), work_dir=str(bank["work"]), summary_groups=groups, **kw)


def _predictions(run_dir: Path, abbr: str) -> dict:
    return json.loads((run_dir / "predictions" / "tiny" / f"{abbr}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("mode", ["gen", "ppl", "choice"])
def test_every_mode_runs_end_to_end(bank, tiny_model, mode):
    config_mode = "ppl" if mode == "ppl" else "gen"
    spec = _spec(bank, config_mode, infer_mode=None if mode != "choice" else "choice")
    out = run_eval(spec, models={"tiny": tiny_model})
    assert [r.status for r in out.records] == ["ok", "ok"]
    preds = _predictions(out.run_dir, "seed-values")
    assert sorted(preds, key=int) == [str(i) for i in range(10)]
    first = preds["0"]
    assert first["gold"] == "A" and first["in_context_examples"] == [0, 1, 2, 3, 4]
    if mode == "gen":
        assert first["origin_prompt"].endswith("答案: ") and "stop_reason" in first
    else:
        assert first["prediction"] in "ABCD" and set(first["scores"]) == set("ABCD")
    result = json.loads((out.run_dir / "results" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))
    assert result["mode"] == mode and result["counts"]["total"] == 10
    table = out.summary.table()
    names = [row[0] for row in table]
    assert "seed-values" in names and "seed" in names  # subject rows and the mapping's overall group
    manifest = json.loads((out.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["datasets"][0]["files"]["val"]["sha256"] and manifest["models"][0]["loaded"]["dtype"] == "float32"


def test_ppl_agrees_with_choice_on_single_token_labels(bank, tiny_model):
    """Both read the same four next-token probabilities; only the normalisation differs."""
    ppl = run_eval(_spec(bank, "ppl"), models={"tiny": tiny_model})
    choice = run_eval(_spec(bank, "ppl", infer_mode="choice"), models={"tiny": tiny_model})
    p, c = _predictions(ppl.run_dir, "seed-values"), _predictions(choice.run_dir, "seed-values")
    # same prompts; a whole-sequence average and a last-token score rank the labels alike
    assert [p[k]["prediction"] for k in p] == [c[k]["prediction"] for k in p]


@pytest.mark.parametrize("mode", ["gen", "choice"])
def test_a_killed_run_resumes_without_inferring_anything_twice(bank, tiny_model, mode):
    spec = _spec(bank, "gen", infer_mode=mode)
    whole = run_eval(spec, models={"tiny": tiny_model})
    killed = CountingModel(tiny_model, kill_after=2)  # Ctrl-C in the middle of the first subject
    with pytest.raises(KeyboardInterrupt):
        run_eval(spec, models={"tiny": killed})
    assert killed.requests == 8  # two batches of four (the loaded model's batch size) were saved
    interrupted = max(Path(spec.work_dir).iterdir())
    assert json.loads((interrupted / "manifest.json").read_text(encoding="utf-8"))["interrupted"] is True
    resumed_model = CountingModel(tiny_model)
    resumed = run_eval(replace(spec, reuse="latest"), models={"tiny": resumed_model})
    assert resumed_model.requests == 20 - 8  # nothing inferred twice
    for abbr in ("seed-values", "seed-values_copy"):
        a, b = _predictions(whole.run_dir, abbr), _predictions(resumed.run_dir, abbr)
        assert {k: (v["prediction"], v["origin_prompt"]) for k, v in a.items()} == \
               {k: (v["prediction"], v["origin_prompt"]) for k, v in b.items()}
    again = CountingModel(tiny_model)
    run_eval(replace(spec, reuse="latest"), models={"tiny": again})
    assert again.requests == 0  # everything reused


def test_changed_data_or_prompt_is_never_answered_from_stale_predictions(bank, tiny_model):
    spec = _spec(bank, "gen")
    run_eval(spec, models={"tiny": tiny_model})
    val = bank["data"] / "val" / "values_val.csv"
    text = val.read_text(encoding="utf-8")
    assert "主渠道" in text
    val.write_text(text.replace("主渠道", "主通道"), encoding="utf-8")
    counting = CountingModel(tiny_model)
    run_eval(replace(spec, reuse="latest"), models={"tiny": counting})
    assert counting.requests == 10  # the changed subject only; the other one is reused
    longer = replace(spec, reuse="latest", models=(replace(spec.models[0], max_out_len=9),))
    counting = CountingModel(tiny_model)
    run_eval(longer, models={"tiny": counting})
    assert counting.requests == 20  # a generation parameter changed: everything again


def test_a_failing_dataset_is_reported_with_its_error_and_others_still_score(bank, tiny_model):
    spec = _spec(bank, "gen")
    # a template that names a label the prompt cannot take: the dataset fails at inference, after planning
    infer = spec.datasets[1].infer
    bad = replace(infer, inferencer=replace(infer.inferencer, labels=()))
    broken = replace(spec.datasets[1], infer=bad)
    out = run_eval(replace(spec, datasets=(spec.datasets[0], broken), infer_mode="choice"), models={"tiny": tiny_model})
    statuses = {r.abbr: r.status for r in out.records}
    assert statuses == {"seed-values": "ok", "seed-values_copy": "failed"}
    failed = [r for r in out.records if r.status == "failed"][0]
    assert failed.error and "\n" not in failed.error
    assert "error: " in " ".join(" ".join(row) for row in out.summary.table())


def test_unlabeled_split_is_na_never_zero(bank, tiny_model, tmp_path):
    spec = _spec(bank, "gen")
    for subject in ("values", "values_copy"):
        val = bank["data"] / "val" / f"{subject}_val.csv"
        lines = val.read_text(encoding="utf-8").splitlines()
        val.write_text("\n".join([lines[0]] + [line.rsplit(",", 1)[0] + "," for line in lines[1:]]) + "\n", encoding="utf-8")
    out = run_eval(replace(spec, validate=False), models={"tiny": tiny_model})
    assert {r.status for r in out.records} == {"n/a"}
    assert all(r.value is None for r in out.records)


def test_dry_run_plans_without_writing(bank):
    out = run_eval(_spec(bank, "gen", dry_run=True, max_workers=2))
    assert out.dry_run and not out.run_dir.exists()
    assert [t.task_id for t in out.tasks] == ["tiny-0", "tiny-1"]


@pytest.mark.parametrize("mode", ["gen", "choice"])
def test_chat_models_get_chat_messages(bank, tiny_model_dir, mode):
    from toolkit.models.hf import HFModel

    chat = HFModel.load(ModelSpec(abbr="tiny", path=str(tiny_model_dir), hf_type="chat", batch_size=4), device="cpu")
    spec = _spec(bank, "gen", infer_mode=mode)
    spec = replace(spec, models=(replace(spec.models[0], hf_type="chat"),))
    out = run_eval(spec, models={"tiny": chat})
    assert {r.status for r in out.records} == {"ok"}
    first = _predictions(out.run_dir, "seed-values")["0"]
    messages = first["origin_prompt"]
    assert [m["role"] for m in messages][:2] == ["user", "assistant"] and messages[-1]["role"] == "user"
    assert messages[-1]["content"].endswith("答案: \n")  # OpenCompass's chat turns end with a newline


def test_questions_too_long_for_max_seq_len_are_kept_whole_and_reported(bank, tiny_model):
    class Events:
        def __init__(self) -> None:
            self.seen: list[dict] = []

        def handle(self, model, event):
            self.seen.append(to_json(event))

        def close(self):
            pass

    events = Events()
    spec = _spec(bank, "gen")
    spec = replace(spec, models=(replace(spec.models[0], max_seq_len=16),))
    out = run_eval(spec, display=events, models={"tiny": tiny_model})
    assert [r.status for r in out.records] == ["ok", "ok"]
    warnings = [e for e in events.seen if e["event"] == "warning"]
    assert [w["abbr"] for w in warnings] == ["seed-values", "seed-values_copy"]
    assert warnings[0]["message"].startswith("10 question(s) exceed max_seq_len even without examples; kept whole")
    preds = _predictions(out.run_dir, "seed-values")
    assert all(p["over_length"] and p["in_context_examples"] == [] for p in preds.values())
