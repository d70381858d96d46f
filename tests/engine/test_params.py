"""resolve_infer_params: OpenCompass's order (dataset config > model/flag > default; max_seq_len: model first),
each value's source, and a dataset config's max_out_len/batch_size reaching the model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

from toolkit.config.loader import load_config
from toolkit.config.spec import InferencerSpec, ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.engine.params import override_notes, resolve_infer_params
from toolkit.models.fake import FakeModel


def _dataset(**inferencer):
    from prompt_specs import gen_spec

    spec = gen_spec()
    return replace(spec, infer=replace(spec.infer, inferencer=InferencerSpec("gen", **inferencer)))


RUN = EvalRunSpec(datasets=(), models=())
TYPED = ModelSpec(abbr="m", path="p", max_out_len=16, batch_size=2, max_seq_len=1024,
                  set_by={"max_out_len": "cli", "batch_size": "cli", "max_seq_len": "cli"})
UNSET = ModelSpec(abbr="m", path="p", set_by={"max_out_len": "default", "batch_size": "default", "max_seq_len": "default"})


def test_a_dataset_configs_inferencer_wins_over_a_typed_flag_as_in_opencompass():
    r = resolve_infer_params(TYPED, _dataset(max_out_len=64, batch_size=3, max_seq_len=512), RUN)
    assert (r.values["max_out_len"], r.sources["max_out_len"]) == (64, "dataset config")
    assert (r.values["batch_size"], r.sources["batch_size"]) == (3, "dataset config")
    assert r.params.max_out_len == 64 and r.params.batch_size == 3
    assert (r.values["max_seq_len"], r.sources["max_seq_len"]) == (1024, "cli")  # the model's max_seq_len wins
    assert [(o.setting, o.typed, o.dataset_value) for o in r.overrides] == [("max_out_len", 16, 64), ("batch_size", 2, 3)]


def test_without_dataset_values_the_flag_then_the_default_applies():
    typed = resolve_infer_params(TYPED, _dataset(), RUN)
    assert typed.to_json() == {"max_out_len": {"value": 16, "source": "cli"}, "min_out_len": {"value": 1, "source": "default"},
                               "batch_size": {"value": 2, "source": "cli"}, "max_seq_len": {"value": 1024, "source": "cli"}}
    assert typed.params.batch_size is None  # the model's own batch size: nothing to override
    unset = resolve_infer_params(UNSET, _dataset(max_seq_len=512), RUN)
    assert unset.to_json() == {"max_out_len": {"value": 256, "source": "default"},
                               "min_out_len": {"value": 1, "source": "default"},
                               "batch_size": {"value": 8, "source": "default"},
                               "max_seq_len": {"value": 512, "source": "dataset config"}}
    assert not unset.overrides


def test_a_model_built_in_python_or_read_from_a_config_counts_as_model_config():
    r = resolve_infer_params(ModelSpec(abbr="m", path="p", max_out_len=32), _dataset(), RUN)
    assert r.sources["max_out_len"] == r.sources["batch_size"] == "model config"
    same = resolve_infer_params(replace(TYPED, set_by={}), _dataset(max_out_len=16), RUN)
    assert not same.overrides  # a dataset value equal to the typed one overrides nothing


def test_min_out_len_comes_from_the_run():
    assert resolve_infer_params(UNSET, _dataset(), replace(RUN, min_out_len=3, set_by={"min_out_len": "cli"})
                                ).to_json()["min_out_len"] == {"value": 3, "source": "cli"}
    assert resolve_infer_params(UNSET, _dataset(), replace(RUN, min_out_len=3)).sources["min_out_len"] == "run spec"


def test_overrides_are_said_once_per_setting():
    resolved = [resolve_infer_params(TYPED, replace(_dataset(max_out_len=64), abbr=f"x-{i}"), RUN) for i in range(5)]
    (note,) = override_notes(resolved)
    assert note.startswith("note: max_out_len 16 from the command line is overridden by the dataset config's max_out_len "
                           "(x-0: 64, x-1: 64, x-2: 64, +2 more)")


class Recording:
    """A fake model that records what the engine asks of it."""

    def __init__(self, spec: ModelSpec) -> None:
        self.inner = FakeModel(spec)
        self.name, self.hf_type = self.inner.name, self.inner.hf_type
        self.batch_sizes: list[int | None] = []
        self.max_new_tokens: set[int] = set()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, requests, progress=None, *, batch_size=None):
        self.batch_sizes.append(batch_size)
        self.max_new_tokens |= {r.max_new_tokens for r in requests}
        return self.inner.generate(requests, progress, batch_size=batch_size)


@pytest.fixture
def configs(tmp_path: Path, seed_raw: Path) -> dict[str, Path]:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    configs = write_configs(tmp_path / "configs", data)
    gen = configs["gen"]
    gen.write_text(gen.read_text(encoding="utf-8").replace(
        "inferencer=dict(type=GenInferencer)", "inferencer=dict(type=GenInferencer, max_out_len=5, batch_size=3)"),
        encoding="utf-8")
    return configs


def test_a_dataset_configs_max_out_len_and_batch_size_reach_the_model(configs, tmp_path):
    model = ModelSpec(abbr="fake", path="fake", hf_type="base", max_out_len=8, batch_size=2)
    recording = Recording(model)
    spec = EvalRunSpec(datasets=load_config(configs["gen"]).datasets, models=(model,), work_dir=str(tmp_path / "out"),
                       backend="fake")
    out = run_eval(spec, models={"fake": recording})
    assert {r.status for r in out.records} == {"ok"}
    assert recording.max_new_tokens == {5} and set(recording.batch_sizes) == {3}
    settings = json.loads((out.run_dir / "manifest.json").read_text(encoding="utf-8"))["inference"]["settings"]
    assert [(s["model"], s["dataset"]) for s in settings] == [("fake", "seed-values"), ("fake", "seed-values_copy")]
    assert settings[0]["max_out_len"] == {"value": 5, "source": "dataset config"}
    assert settings[0]["batch_size"] == {"value": 3, "source": "dataset config"}


def test_the_cli_says_once_when_a_dataset_config_overrides_a_typed_flag(cli, configs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none", "--json"]
    result = cli(*base, "--max-out-len", "16", "--batch-size", "3")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "from the command line is overridden" in line]
    assert notes == ["note: max_out_len 16 from the command line is overridden by the dataset config's max_out_len "
                     "(seed-values: 5, seed-values_copy: 5), as in OpenCompass; change infer_cfg.inferencer in the "
                     "config to change it"]  # --batch-size 3 equals the configs' 3: nothing to say
    manifest = json.loads((Path(json.loads(result.stdout)["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inference"]["settings"][0]["max_out_len"] == {"value": 5, "source": "dataset config"}
    assert manifest["inference"]["settings"][0]["min_out_len"] == {"value": 1, "source": "default"}
    quiet = cli(*base)
    assert quiet.exit_code == 0 and "overridden" not in quiet.stderr
