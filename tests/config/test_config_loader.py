"""Loading configs into specs: OpenCompass's stock C-Eval configs and ours give the same specs."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from config_builders import STOCK

from toolkit.config.context import GenConfigOptions
from toolkit.config.generate import generate_configs
from toolkit.config.loader import load_config, load_datasets
from toolkit.config.spec import DatasetSpec, ModelSpec, RetrieverSpec
from toolkit.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def comparable(spec: DatasetSpec) -> dict:
    """Every field but those that differ by design (data path, config file)."""
    fields = dataclasses.asdict(spec)
    del fields["path"], fields["source"]
    return fields


@pytest.mark.parametrize(("mode", "stock", "version"), [("gen", "ceval_gen.py", "db9ce2"), ("ppl", "ceval_ppl.py", "9b9417")])
def test_stock_and_generated_ceval_give_the_same_specs(ceval_dir, tmp_path, mode, stock, version):
    result = generate_configs(ceval_dir, GenConfigOptions(name="ceval", mode=mode), out_dir=tmp_path / "out")
    ours = load_config(tmp_path / "out" / f"ceval_{mode}.py").datasets
    theirs = load_config(STOCK / stock).datasets
    assert len(ours) == len(theirs) == 52
    for a, b in zip(ours, theirs, strict=True):
        assert comparable(a) == comparable(b), a.abbr
    network = next(d for d in ours if d.name == "computer_network")
    assert network.version == version and network.abbr == "ceval-computer_network"
    assert theirs[0].path == "opencompass/ceval-exam" and ours[0].path == result.data_path


def test_stock_gen_spec_fields():
    spec = load_config(STOCK / "ceval_gen_5f30c7.py").datasets[0]
    assert spec.loader == "ceval" and spec.name == "computer_network"
    assert spec.reader.input_columns == ("question", "A", "B", "C", "D")
    assert (spec.reader.output_column, spec.reader.train_split, spec.reader.test_split) == ("answer", "dev", "val")
    assert spec.infer.retriever == RetrieverSpec("fixk", (0, 1, 2, 3, 4))
    assert spec.infer.inferencer.kind == "gen" and spec.infer.prompt_template is None
    assert spec.infer.ice_template.ice_token == "</E>"
    assert spec.infer.ice_template.template["round"][1] == {"role": "BOT", "prompt": "{answer}"}
    assert spec.evaluation.evaluator == "acc"
    assert spec.evaluation.pred_postprocessor == "first_capital_postprocess"
    assert spec.source == str(STOCK / "ceval_gen_5f30c7.py")


def test_subject_mappings_are_kept_by_dataset_name():
    mappings = load_config(STOCK / "ceval_gen_5f30c7.py").subject_mappings
    assert list(mappings) == ["ceval"] and len(mappings["ceval"]) == 52
    assert mappings["ceval"]["clinical_medicine"] == ("Clinical Medicine", "临床医学", "Other")
    assert load_config(STOCK / "ceval_gen.py").subject_mappings == {}  # the aggregator imports only the list


def test_bad_subject_mapping(tmp_path):
    with pytest.raises(ConfigError, match="x_subject_mapping must be a dict"):
        load_config(write(tmp_path / "m.py", "x_subject_mapping = dict(a='A')\n"))


def test_stock_ppl_template_is_label_keyed():
    spec = load_config(STOCK / "ceval_ppl_578f8d.py").datasets[0]
    assert spec.infer.inferencer.kind == "ppl"
    assert spec.infer.ice_template.is_label_keyed
    assert spec.evaluation.pred_postprocessor is None


def test_summary_groups_file():
    groups = load_config(STOCK.parent.parent / "summarizers" / "groups" / "ceval.py").summary_groups
    assert [g["name"] for g in groups][:6] == ["ceval-stem", "ceval-social-science", "ceval-humanities",
                                               "ceval-other", "ceval-hard", "ceval"]


def test_run_config_prefers_datasets_and_reads_models(tmp_path):
    cfg = write(tmp_path / "eval_run.py", """
        from mmengine.config import read_base
        from opencompass.models import HuggingFaceBaseModel, HuggingFacewithChatTemplate
        with read_base():
            from opencompass.configs.datasets.ceval.ceval_gen import ceval_datasets
            from opencompass.configs.summarizers.groups.ceval import ceval_summary_groups
        datasets = ceval_datasets[:3]
        models = [
            dict(type=HuggingFaceBaseModel, abbr='tiny', path='/m/tiny', tokenizer_path='/m/tok',
                 tokenizer_kwargs=dict(padding_side='left'), model_kwargs=dict(torch_dtype='torch.float32'),
                 generation_kwargs=dict(do_sample=False), max_seq_len=1024, max_out_len=16, batch_size=2,
                 run_cfg=dict(num_gpus=0), stop_words=['\\n\\n'], pad_token_id=0, peft_path=None),
            dict(type=HuggingFacewithChatTemplate, path='org/chat-model'),
        ]
        summarizer = dict(summary_groups=[g for g in ceval_summary_groups if g['name'] == 'ceval'])
    """)
    loaded = load_config(cfg)
    assert [d.abbr for d in loaded.datasets] == ["ceval-computer_network", "ceval-operating_system",
                                                 "ceval-computer_architecture"]
    assert loaded.models[0] == ModelSpec(
        abbr="tiny", path="/m/tiny", hf_type="base", tokenizer_path="/m/tok",
        tokenizer_kwargs={"padding_side": "left"}, model_kwargs={"torch_dtype": "torch.float32"},
        generation_kwargs={"do_sample": False}, max_seq_len=1024, max_out_len=16, batch_size=2,
        num_gpus=0, stop_words=("\n\n",), pad_token_id=0,
    )
    chat = loaded.models[1]
    assert chat.hf_type == "chat" and chat.max_out_len == 256 and chat.batch_size == 8 and chat.num_gpus == 1
    assert chat.abbr.startswith("opencompass.models.HuggingFacewithChatTemplate_")  # OpenCompass's fallback
    assert [g["name"] for g in loaded.summary_groups] == ["ceval"]
    assert loaded.source == str(cfg)


def test_load_datasets_resolves_names_and_collects_every_suffixed_list(tmp_path):
    write(tmp_path / "configs" / "datasets" / "two" / "two_gen.py", """
        from mmengine.config import read_base
        with read_base():
            from opencompass.configs.datasets.ceval.ceval_gen import ceval_datasets as _ceval
        first_datasets = _ceval[:1]
        second_datasets = _ceval[1:2]
        datasets = []  # ignored by --datasets, as in OpenCompass
    """)
    specs = load_datasets(["two_gen"], config_dir=tmp_path / "configs")
    assert [s.name for s in specs] == ["computer_network", "operating_system"]
    assert len(load_datasets(["ceval_gen"])) == 52
    # OpenCompass's NAME/SUFFIX: only the variables ending in SUFFIX
    assert [s.name for s in load_datasets(["two_gen/second_datasets"], config_dir=tmp_path / "configs")] == ["operating_system"]
    with pytest.raises(ConfigError, match="no variable ending in '_nothing'"):
        load_datasets(["two_gen/_nothing"], config_dir=tmp_path / "configs")


def test_duplicate_abbreviations_are_refused():
    with pytest.raises(ConfigError, match="share the abbreviation 'ceval-computer_network'"):
        load_datasets(["ceval_gen", str(STOCK / "ceval_gen_5f30c7.py")])


STOCK_DATASET = """
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever, ZeroRetriever
from opencompass.openicl.icl_inferencer import GenInferencer, PPLInferencer
from opencompass.openicl.icl_evaluator import AccEvaluator
from opencompass.datasets import CEvalDataset
from opencompass.utils.text_postprocessors import first_option_postprocess
x_datasets = [dict(
    type=CEvalDataset, path='./d', name='s', abbr='x-s',
    reader_cfg=dict(input_columns=['question', 'A', 'B'], output_column='answer'),
    infer_cfg=dict(
        ice_template=dict(type=PromptTemplate, template=dict(begin='</E>', round=[
            dict(role='HUMAN', prompt='{question}'), dict(role='BOT', prompt='{answer}')]), ice_token='</E>'),
        retriever=dict(type=ZeroRetriever),
        inferencer=dict(type=GenInferencer, max_out_len=8, batch_size=4, stopping_criteria=['\\n']),
    ),
    eval_cfg=dict(evaluator=dict(type=AccEvaluator),
                  pred_postprocessor=dict(type=first_option_postprocess, options='AB')),
)]
"""


def test_zero_retriever_options_and_postprocessor_kwargs(tmp_path):
    spec = load_config(write(tmp_path / "x.py", STOCK_DATASET)).datasets[0]
    assert spec.infer.retriever == RetrieverSpec("zero", (), "", "")
    assert spec.infer.inferencer.max_out_len == 8 and spec.infer.inferencer.batch_size == 4
    assert spec.infer.inferencer.stopping_criteria == ("\n",)
    assert spec.evaluation.pred_postprocessor == "first_option_postprocess"
    assert spec.evaluation.postprocessor_kwargs == {"options": "AB"}
    assert spec.reader.train_split == "dev" and spec.reader.test_split == "val"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("type=CEvalDataset,", "type=CEvalDataset, extra=1,", "unsupported key 'extra' in the dataset dict"),
        ("from opencompass.datasets import CEvalDataset",
         "from opencompass.datasets import MMLUDataset as CEvalDataset",
         "unsupported dataset type 'opencompass.datasets.MMLUDataset'"),
        ("retriever=dict(type=ZeroRetriever)", "retriever=dict(type='mypkg.TopkRetriever')",
         "unsupported retriever type 'mypkg.TopkRetriever'"),
        ("type=GenInferencer,", "type=GenInferencer, min_out_len=2,", "unsupported key 'min_out_len' in inferencer"),
        ("retriever=dict(type=ZeroRetriever)", "retriever=dict(type=FixKRetriever)", "FixKRetriever lacks 'fix_id_list'"),
        ("retriever=dict(type=ZeroRetriever)", "retriever=dict(type=FixKRetriever, fix_id_list=[-1])",
         "fix_id_list must be a list of row numbers"),
        ("type=GenInferencer,", "type=GenInferencer, fix_id_list=[0],", "fix_id_list belongs to the retriever"),
        ("options='AB'", "options='AB', strict=True", "unsupported key 'strict' in pred_postprocessor"),
        ("options='AB'", "cushion=True", "first_option_postprocess needs options (OpenCompass fails without it)"),
        ("dict(type=AccEvaluator)", "dict(type='opencompass.openicl.icl_evaluator.BleuEvaluator')",
         "unsupported evaluator type"),
        ("output_column='answer'", "output_column='answer', test_range='[0:5]'", "unsupported key 'test_range' in reader_cfg"),
        ("max_out_len=8", "max_out_len=0", "max_out_len must be an integer >= 1"),
        ("ice_template=dict(", "prompt_template=dict(", None),  # a prompt_template alone is fine
    ],
)
def test_unsupported_types_and_keys_name_file_type_and_what_is_supported(tmp_path, old, new, message):
    assert old in STOCK_DATASET
    cfg = write(tmp_path / "x.py", STOCK_DATASET.replace(old, new, 1))
    if message is None:
        assert load_config(cfg).datasets[0].infer.prompt_template is not None
        return
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    text = str(err.value)
    assert message in text and str(cfg) in text and "dataset 'x-s'" in text
    if "type" in message:
        assert "toolkit supports:" in text


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("dict(type=HuggingFaceBaseModel, path='p', peft_path='/lora')", "peft_path='/lora' is not supported"),
        ("dict(type=HuggingFaceBaseModel, path='p', drop_middle=True)", "drop_middle=True is not supported"),
        ("dict(type=HuggingFaceBaseModel, path='p', engine_config=dict())", "unsupported key 'engine_config'"),
        ("dict(type=HuggingFaceBaseModel, path='p', run_cfg=dict(num_gpus=1, num_procs=2))", "num_procs"),
        ("dict(type=HuggingFaceBaseModel)", "lacks 'path'"),
        ("dict(type=TurboMindModel, path='p')", "unsupported model type 'opencompass.models.TurboMindModel'"),
    ],
)
def test_model_errors(tmp_path, model, message):
    cfg = write(tmp_path / "m.py", f"from opencompass.models import HuggingFaceBaseModel, TurboMindModel\nmodels = [{model}]\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert message in str(err.value) and "model" in str(err.value)


def test_neutral_model_keys_with_default_values_are_accepted(tmp_path):
    cfg = write(tmp_path / "m.py", """
        from opencompass.models import HuggingFaceCausalLM
        models = [dict(type=HuggingFaceCausalLM, path='p', abbr='m', peft_path=None, peft_kwargs={},
                       meta_template=None, mode='none', batch_padding=True, tokenizer_only=False)]
    """)
    assert load_config(cfg).models[0].hf_type == "base"


def test_bad_shapes(tmp_path):
    with pytest.raises(ConfigError, match="x_datasets must be a list of dicts"):
        load_config(write(tmp_path / "a.py", "x_datasets = dict(a=1)\n"))
    with pytest.raises(ConfigError, match="needs a 'name' and a list of 'subsets'"):
        load_config(write(tmp_path / "b.py", "x_summary_groups = [dict(name='g')]\n"))
