"""Circular evaluation end to end on the tiny random Llama (the HF backend): every mode, the prompts of each
rotation, resume after a kill, reuse keys, and the shared few-shot prefix (computed once, not once per rotation)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset
from test_pipeline import CountingModel

from toolkit.config.groups import mapping_groups
from toolkit.config.loader import load_config
from toolkit.config.pyconfig import read_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.errors import UsageError
from toolkit.models.fake import FakeModel

ROTATIONS = ["ABCD", "BCDA", "CDAB", "DABC"]


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path) -> dict:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    configs = write_configs(tmp_path / "configs", data)
    return {"data": data, "configs": configs, "work": tmp_path / "outputs"}


MODEL = ModelSpec(abbr="tiny", path="unused", hf_type="base", batch_size=4, max_out_len=4)


def _spec(bank: dict, config: str = "gen", *, subjects: int = 2, **kw) -> EvalRunSpec:
    loaded = load_config(bank["configs"][config])
    groups = tuple(mapping_groups(read_config(bank["configs"][config])))
    return EvalRunSpec(datasets=loaded.datasets[:subjects], models=(MODEL,), work_dir=str(bank["work"]),
                       summary_groups=groups, **kw)


def _fake() -> FakeModel:
    """The fake backend (hash answers, no network): for what does not depend on a real model."""
    return FakeModel(MODEL)


def _predictions(run_dir: Path, abbr: str = "seed-values") -> dict:
    return json.loads((run_dir / "predictions" / "tiny" / f"{abbr}.json").read_text(encoding="utf-8"))


def _options(prompt: str) -> list[str]:
    """The four options of the question at the end of a base prompt (the examples before it are never rotated)."""
    lines = prompt.rstrip().splitlines()
    return [line[3:] for line in lines[-5:-1]]


@pytest.mark.parametrize(("config", "mode"), [("gen", None), ("ppl", None), ("gen", "choice")])
def test_every_mode_asks_every_rotation_and_scores_it(bank, tiny_model, config, mode):
    plain = run_eval(_spec(bank, config, subjects=1, infer_mode=mode), models={"tiny": tiny_model})
    out = run_eval(_spec(bank, config, subjects=1, infer_mode=mode, circular="circular"), models={"tiny": tiny_model})
    assert [r.status for r in out.records] == ["ok"] and out.records[0].metric == "perf_circular"
    preds, base = _predictions(out.run_dir), _predictions(plain.run_dir)
    assert sorted(map(int, preds)) == list(range(40))  # 10 questions x 4 rotations
    for q in range(10):
        rows = [preds[str(q * 4 + p)] for p in range(4)]
        assert [(r["qid"], r["circular_pattern"]) for r in rows] == [(q, p) for p in ROTATIONS]
        # the ABCD variant is the plain question, asked the same way, answered the same way
        assert rows[0]["origin_prompt"] == base[str(q)]["origin_prompt"]
        assert rows[0]["prediction"] == base[str(q)]["prediction"] and rows[0]["gold"] == base[str(q)]["gold"]
        if config == "gen":
            written = _options(rows[0]["origin_prompt"])
            for r in rows:  # pattern BCDA shows option A as B: the option shown at letter L is pattern.index(L)'s
                assert _options(r["origin_prompt"]) == [written[r["circular_pattern"].index(x)] for x in "ABCD"]
                assert written[r["circular_pattern"].index(r["gold"])] == written["ABCD".index(rows[0]["gold"])]
                assert r["in_context_examples"] == [0, 1, 2, 3, 4]
    result = json.loads((out.run_dir / "results" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))
    assert result["counts"]["total"] == 10 and len(result["details"]) == 10
    assert len(result["details"][0]["variants"]) == 4 and result["circular"]["counts"]["acc_circular"][1] == 40
    # the ABCD rotation's accuracy is the plain run's accuracy
    assert result["acc_origin"] == plain.records[0].value
    metrics = [row[2] for row in out.summary.table() if row[0] == "seed-values"]
    assert metrics[:3] == ["perf_circular", "acc_circular", "acc_origin"]


def test_all_permutations(bank):
    out = run_eval(_spec(bank, "gen", subjects=1, circular="all_possible"), models={"tiny": _fake()})
    preds = _predictions(out.run_dir)
    assert len(preds) == 240 and len({preds[str(p)]["circular_pattern"] for p in range(24)}) == 24
    record = out.records[0]
    assert record.metric == "perf_all_possible" and record.circular is not None
    assert {"acc_all_possible", "perf_all_possible", "perf_circular", "more_23_all_possible"} <= set(record.circular.metrics())


@pytest.mark.parametrize(("mode", "backend"), [("choice", "hf"), ("gen", "fake")])
def test_a_killed_circular_run_resumes_without_inferring_anything_twice(bank, tiny_model, mode, backend):
    model = tiny_model if backend == "hf" else _fake()
    spec = _spec(bank, "gen", subjects=1, infer_mode=mode, circular="circular")
    whole = run_eval(spec, models={"tiny": model})
    killed = CountingModel(model, kill_after=3)
    with pytest.raises(KeyboardInterrupt):
        run_eval(spec, models={"tiny": killed})
    assert killed.requests == 12
    resumed_model = CountingModel(model)
    resumed = run_eval(replace(spec, reuse="latest"), models={"tiny": resumed_model})
    assert resumed_model.requests == 40 - 12  # 10 questions x 4 rotations, none twice
    for before, after in zip(whole.records, resumed.records, strict=True):
        assert after.to_json()["details"] == before.to_json()["details"]
    again = CountingModel(model)
    run_eval(replace(spec, reuse="latest"), models={"tiny": again})
    assert again.requests == 0


def test_the_rotations_are_part_of_the_reuse_key(bank):
    spec = _spec(bank, "gen", infer_mode="choice")
    run_eval(spec, models={"tiny": _fake()})
    steps = [("circular", 80), ("circular", 0), ("all_possible", 2 * 10 * 24), (None, 20)]
    for kind, asked in steps:
        counting = CountingModel(_fake())
        out = run_eval(replace(spec, reuse="latest", circular=kind), models={"tiny": counting})
        assert counting.requests == asked, kind
        assert out.records[0].metric == {"circular": "perf_circular", "all_possible": "perf_all_possible",
                                         None: "accuracy"}[kind]
    stale = list((out.run_dir / "predictions" / "tiny").glob("*.stale*"))
    assert stale  # predictions of another arrangement are set aside, never read


def test_a_flag_and_a_config_that_disagree_are_a_usage_error(bank):
    spec = _spec(bank, "gen", circular="circular")
    from toolkit.engine.prompting.circular import make_circular

    circular_datasets = make_circular(spec.datasets, "circular")
    assert make_circular(circular_datasets, "circular") == circular_datasets  # idempotent
    with pytest.raises(UsageError, match="already circular"):
        run_eval(replace(spec, datasets=circular_datasets, circular="all_possible"), models={"tiny": _fake()})


def _counted(model, spec: EvalRunSpec) -> dict[str, int]:
    """The HF backend's own forward-pass counters over one run (the model counts on across runs)."""
    before = model.token_counts()
    run_eval(spec, models={"tiny": model})
    return {k: v - before[k] for k, v in model.token_counts().items()}


@pytest.mark.parametrize("mode", ["gen", "choice"])
def test_the_few_shot_prefix_is_computed_once_for_all_rotations(bank, tiny_model, mode):
    """N questions x 4 rotations cost about 4x the question tokens and 1x the prefix, not 4x."""
    plain = _counted(tiny_model, _spec(bank, "gen", subjects=1, infer_mode=mode))
    circular = _counted(tiny_model, _spec(bank, "gen", subjects=1, infer_mode=mode, circular="circular"))
    assert plain["prefills"] == 1  # once for the subject
    # the 5-shot examples once for all rotations (the prefix tree may add a short node that rotations share:
    # more work saved, never the examples again)
    assert plain["prefix_tokens"] <= circular["prefix_tokens"] < 1.2 * plain["prefix_tokens"]
    assert plain["prefix_tokens"] > 2 * plain["row_tokens"] / 10  # and they are most of each prompt
    ratio = (circular["prefix_tokens"] + circular["row_tokens"] - plain["prefix_tokens"]) / plain["row_tokens"]
    assert 3.5 < ratio < 4.5, ratio  # every rotation's own tokens


class ReadingModel(FakeModel):
    """A backend seen only through the model interface (no HF, no tokenizer of its own): it reads the question
    it is sent — the last one in the prompt, ``stem`` then ``A. …``–``D. …`` — and answers ``pick(stem, options)``,
    generating that letter (gen) or giving it the lowest loss (ppl, choice)."""

    def __init__(self, pick) -> None:
        super().__init__(MODEL)
        self.pick = pick

    def _answer(self, prompt: str) -> str:
        lines = prompt.rstrip().splitlines()  # … stem, A. …, B. …, C. …, D. …, 答案:
        options = {line[0]: line[3:] for line in lines[-5:-1]}
        return self.pick(lines[-6], options)

    def generate(self, requests, progress=None, *, batch_size=None):
        by_key = {r.key: r for r in requests}
        for batch in super().generate(requests, progress, batch_size=batch_size):
            yield [replace(r, text=f"\n{self._answer(self.decode(by_key[r.key].tokens))}\n") for r in batch]

    def score(self, requests, progress=None, *, need_total=True, batch_size=None):
        by_key = {r.key: r for r in requests}
        for batch in super().score(requests, progress, need_total=need_total, batch_size=batch_size):
            out = []
            for res in batch:
                texts = [self.decode(c).rstrip() for c in by_key[res.key].candidates]  # each ends with its letter
                best = self._answer(texts[0][:-1])
                out.append(replace(res, scores=tuple(replace(s, total_nll=0.0 if t[-1] == best else 9.0 * s.n_tokens,
                                                             tail_nll=0.0 if t[-1] == best else 9.0)
                                                     for s, t in zip(res.scores, texts))))
            yield out


@pytest.mark.parametrize(("config", "mode"), [("gen", None), ("ppl", None), ("gen", "choice")])
def test_any_backend_gets_the_rotated_options_and_its_answers_are_mapped_back(bank, seed_raw, config, mode):
    """Rotation happens before the backend: a model that knows each answer's text follows it to its new letter
    in every rotation (100 %, every letter 25 %), one that always says D is right once per question."""
    truth = {r[1]: r[2 + "ABCD".index(r[6])] for r in seed_rows(seed_raw)[5:]}
    knows = ReadingModel(lambda stem, options: next(k for k, v in options.items() if v == truth[stem]))
    out = run_eval(_spec(bank, config, subjects=1, infer_mode=mode, circular="circular"), models={"tiny": knows})
    (record,) = out.records
    assert record.value == 100.0 and record.circular is not None
    metrics = record.circular.metrics()
    assert all(v == 100.0 for v in metrics.values()), metrics
    assert record.circular.priors() == {"prior_A": 25.0, "prior_B": 25.0, "prior_C": 25.0, "prior_D": 25.0,
                                        "prior_-": 0.0}
    prefers_d = ReadingModel(lambda stem, options: "D")
    out = run_eval(_spec(bank, config, subjects=1, infer_mode=mode, circular="circular"), models={"tiny": prefers_d})
    (record,) = out.records
    assert record.circular is not None
    metrics = record.circular.metrics()
    assert (record.value, metrics["acc_circular"], metrics["more_1_circular"], metrics["more_2_circular"]) == (0.0, 25.0, 100.0, 0.0)
    assert record.circular.priors()["prior_D"] == 100.0
    golds = [r[6] for r in seed_rows(seed_raw)[5:]] * 2
    assert metrics["acc_origin"] == golds.count("D") / len(golds) * 100  # the options as written: the plain score
    details = record.to_json()["details"]
    assert {v["answer"] for d in details for v in d["variants"]} == {"A", "B", "C", "D"}  # D mapped back to where it came from


def test_a_circular_dataset_split_across_workers_scores_as_one(bank):
    """Slices cut the question x rotation rows anywhere (here 40 rows in two tasks); the merged file scores the same."""
    spec = _spec(bank, "gen", subjects=1, circular="circular")
    whole = run_eval(spec, models={"tiny": _fake()})
    split = run_eval(replace(spec, max_workers=2), models={"tiny": _fake()})
    slices = [(i.start, i.stop) for t in split.tasks if hasattr(t, "items") for i in t.items]
    assert len(slices) == 2 and slices[0][0] == 0 and slices[0][1] == slices[1][0] and 0 < slices[0][1] < 40, slices
    assert [r.to_json()["details"] for r in split.records] == [r.to_json()["details"] for r in whole.records]
    assert len(_predictions(split.run_dir)) == 40
