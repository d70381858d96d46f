"""CircularEval configs: OpenCompass's CircularCEvalDataset / CircularEvaluator read as OpenCompass reads them,
and ``gen-config --circular`` writes configs our reader and OpenCompass's own machinery read the same way."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from config_builders import STOCK

from toolkit.config.context import GenConfigOptions
from toolkit.config.generate import generate_configs
from toolkit.config.loader import load_config, load_datasets
from toolkit.config.spec import CircularSpec
from toolkit.errors import ConfigError, UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def circular_config(tmp_path: Path, *, dataset: str = "", evaluator: str = "", head: str = "") -> Path:
    """A copy of the stock C-Eval gen config with its first dataset turned into a circular one."""
    text = (STOCK / "ceval_gen_5f30c7.py").read_text(encoding="utf-8")
    text = text.replace("from opencompass.datasets import CEvalDataset",
                        "from opencompass.datasets import CEvalDataset\n"
                        "from opencompass.datasets.circular import CircularCEvalDataset, CircularEvaluator\n" + head)
    text += textwrap.dedent(f"""
        ceval_datasets = ceval_datasets[:1]
        ceval_datasets[0]['type'] = CircularCEvalDataset
        ceval_datasets[0]['eval_cfg']['evaluator'] = dict(type=CircularEvaluator{evaluator})
        {dataset}
        """)
    return write(tmp_path / "ceval_circular_gen.py", text)


def test_a_stock_dataset_made_circular_as_opencompass_s_example_does(tmp_path):
    spec = load_config(circular_config(tmp_path, evaluator=", circular_pattern='circular'",
                                       dataset="ceval_datasets[0]['circular_patterns'] = 'circular'")).datasets[0]
    plain = load_config(STOCK / "ceval_gen_5f30c7.py").datasets[0]
    assert spec.circular == CircularSpec("circular", ("A", "B", "C", "D"))
    assert spec.evaluation.evaluator == "circular" and spec.loader == "ceval"
    assert (spec.abbr, spec.version, spec.infer, spec.reader) == (plain.abbr, plain.version, plain.infer, plain.reader)
    assert plain.circular is None


def test_defaults_are_circular_dataset_meta_s(tmp_path):
    """No circular_patterns, no option_keys, no circular_pattern: 'circular' over A–D, as OpenCompass's defaults."""
    spec = load_config(circular_config(tmp_path)).datasets[0]
    assert spec.circular == CircularSpec()


def test_all_possible_and_option_keys(tmp_path):
    spec = load_config(circular_config(
        tmp_path, evaluator=", circular_pattern='all_possible'",
        dataset="ceval_datasets[0].update(circular_patterns='all_possible', option_keys=['A', 'B', 'C'])")).datasets[0]
    assert spec.circular == CircularSpec("all_possible", ("A", "B", "C")) and spec.circular.variants == 6


@pytest.mark.parametrize(("dataset", "evaluator", "head", "message"), [
    ("", ", circular_pattern='all_possible'", "", "scored with CircularEvaluator(circular_pattern='all_possible')"),
    ("ceval_datasets[0]['eval_cfg']['evaluator'] = dict(type=AccEvaluator)", "", "", "scored with AccEvaluator"),
    ("ceval_datasets[0]['circular_patterns'] = 'shuffled'", "", "", "circular_patterns must be"),
    ("ceval_datasets[0]['option_keys'] = ['A', 'E']", "", "", "does not read: E"),
    ("ceval_datasets[0]['option_keys'] = ['A']", "", "", "option_keys ['A']"),
    ("ceval_datasets[0]['reader_cfg']['test_split'] = 'dev'", "", "", "rearranges the val and test splits"),
    ("ceval_datasets[0]['answer_key'] = 'answer'", "", "", "unsupported key 'answer_key'"),
    ("ceval_datasets[0]['eval_cfg']['evaluator'] = dict(type=IclCircular)", "",
     "from opencompass.openicl.icl_evaluator import CircularEvaluator as IclCircular\n", "index--answer--pattern"),
])
def test_what_opencompass_would_misread_is_an_error(tmp_path, dataset, evaluator, head, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(circular_config(tmp_path, dataset=dataset, evaluator=evaluator, head=head))


def test_a_circular_evaluator_on_a_plain_dataset_is_an_error(tmp_path):
    text = (STOCK / "ceval_gen_5f30c7.py").read_text(encoding="utf-8").replace(
        "from opencompass.datasets import CEvalDataset",
        "from opencompass.datasets import CEvalDataset\nfrom opencompass.datasets.circular import CircularEvaluator")
    text += "\nceval_datasets[0]['eval_cfg']['evaluator'] = dict(type=CircularEvaluator)\n"
    with pytest.raises(ConfigError, match="this one is not circular"):
        load_config(write(tmp_path / "x.py", text))


def test_seven_options_in_every_order_are_refused(tmp_path):
    keys = "['A', 'B', 'C', 'D', 'E', 'F', 'G']"
    text = circular_config(tmp_path, evaluator=", circular_pattern='all_possible'",
                           dataset=f"ceval_datasets[0].update(circular_patterns='all_possible', option_keys={keys})"
                                   f"; ceval_datasets[0]['reader_cfg']['input_columns'] = ['question', *{keys}]")
    with pytest.raises(ConfigError, match="5,040 all_possible variants"):
        load_config(text)


@pytest.mark.parametrize(("kind", "family", "variants"), [("circular", "circular", 3), ("all_possible", "allperm", 6)])
def test_gen_config_circular_files_read_back_as_circular_datasets(make_dataset, tmp_path, kind, family, variants):
    bank = make_dataset("bank", options=3)
    out = tmp_path / "configs" / "datasets" / "bank"
    result = generate_configs(bank, GenConfigOptions(circular=kind), out_dir=out)
    names = [f.path.name for f in result.files]
    plain_gen = next(n for n in names if n.startswith("bank_gen_"))
    suffix = plain_gen.removeprefix("bank_gen_")
    assert f"bank_{family}_gen_{suffix}" in names and f"bank_{family}_gen.py" in names  # same prompts, same hash
    assert f"bank_{family}_ppl.py" in names and "bank_gen.py" in names and "bank_summary_groups.py" in names
    assert result.aggregator_names() == ["bank_gen", "bank_ppl", f"bank_{family}_gen", f"bank_{family}_ppl"]
    text = (out / f"bank_{family}_gen_{suffix}").read_text(encoding="utf-8")
    assert "from opencompass.datasets.circular import CircularCEvalDataset, CircularEvaluator" in text
    assert f"evaluator=dict(type=CircularEvaluator, circular_pattern={kind!r})" in text
    assert f"circular_patterns={kind!r}," in text and "option_keys=['A', 'B', 'C']," in text
    plain = load_config(out / "bank_gen.py")
    loaded = load_config(out / f"bank_{family}_gen.py")
    for spec, base in zip(loaded.datasets, plain.datasets, strict=True):
        assert spec.circular == CircularSpec(kind, ("A", "B", "C")) and spec.circular.variants == variants
        assert (spec.abbr, spec.version, spec.infer) == (base.abbr, base.version, base.infer)
    assert loaded.groups == plain.groups  # the subject mapping's groups name the same abbrs
    assert [d.abbr for d in load_datasets([f"bank_{family}_ppl"], tmp_path / "configs")] == [d.abbr for d in plain.datasets]


def test_gen_config_without_circular_writes_what_it_always_wrote(make_dataset, tmp_path):
    bank = make_dataset("bank")
    plain = generate_configs(bank, GenConfigOptions(), out_dir=tmp_path / "a")
    both = generate_configs(bank, GenConfigOptions(circular="circular"), out_dir=tmp_path / "b")
    texts = {f.path.name: f.rendered.text for f in both.files}
    for f in plain.files:
        assert texts[f.path.name] == f.rendered.text


def test_a_plain_rerun_keeps_the_circular_files_and_a_circular_rerun_replaces_stale_ones(make_dataset, tmp_path):
    bank = make_dataset("bank")
    out = tmp_path / "out"
    first = generate_configs(bank, GenConfigOptions(circular="circular"), out_dir=out)
    generate_configs(bank, GenConfigOptions(), out_dir=out)
    assert all(f.path.is_file() for f in first.files)
    changed = generate_configs(bank, GenConfigOptions(circular="circular", hint="另一个提示 {name_zh}"), out_dir=out)
    old = {f.path for f in first.files if f.rendered.kind == "dataset"}
    assert set(changed.removed) == old  # plain and circular hashed files of the old prompts
    assert not any(p.exists() for p in old)


def test_bad_circular_option():
    with pytest.raises(UsageError, match="--circular must be"):
        GenConfigOptions(circular="shuffled")  # type: ignore[arg-type]
