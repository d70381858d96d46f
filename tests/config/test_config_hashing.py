"""The prompt hash against OpenCompass's known values (its stock C-Eval configs)."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from config_builders import STOCK

from toolkit.config.hashing import dataset_version, file_suffix, prompt_hash
from toolkit.config.pyconfig import read_config


@pytest.fixture(scope="module")
def stock_gen() -> list[dict]:
    return read_config(STOCK / "ceval_gen_5f30c7.py")["ceval_datasets"]


@pytest.fixture(scope="module")
def stock_ppl() -> list[dict]:
    return read_config(STOCK / "ceval_ppl_578f8d.py")["ceval_datasets"]


def test_stock_files_hash_to_their_names(stock_gen, stock_ppl):
    assert file_suffix(stock_gen) == "5f30c7"
    assert file_suffix(stock_ppl) == "578f8d"


def test_per_subject_versions_match_opencompass_summary(stock_gen, stock_ppl):
    gen = {d["abbr"]: dataset_version(d) for d in stock_gen}
    ppl = {d["abbr"]: dataset_version(d) for d in stock_ppl}
    assert gen["ceval-computer_network"] == "db9ce2"
    assert ppl["ceval-computer_network"] == "9b9417"


def test_hash_does_not_mutate_its_input(stock_gen):
    before = copy.deepcopy(stock_gen)
    prompt_hash(stock_gen)
    dataset_version(stock_gen[0])
    assert stock_gen == before
    assert "fix_id_list" in stock_gen[0]["infer_cfg"]["retriever"]


def test_algorithm_step_by_step():
    infer = {
        "retriever": {"type": "opencompass.openicl.icl_retriever.FixKRetriever", "fix_id_list": [0, 1]},
        "inferencer": {"type": "opencompass.openicl.icl_inferencer.GenInferencer"},
        "ice_template": {"template": "问{question}", "type": "opencompass.openicl.icl_prompt_template.PromptTemplate"},
    }
    moved = {
        "retriever": {"type": "opencompass.openicl.icl_retriever.FixKRetriever"},
        "inferencer": {"type": "opencompass.openicl.icl_inferencer.GenInferencer", "fix_id_list": [0, 1]},
        "ice_template": infer["ice_template"],
    }
    # sort_keys, default separators, ASCII escapes of the Chinese text
    text = json.dumps(moved, sort_keys=True)
    assert "\\u95ee" in text
    one = hashlib.sha256(text.encode()).hexdigest()
    assert prompt_hash({"infer_cfg": infer}) == one
    assert prompt_hash([{"infer_cfg": infer}]) == one  # a one-element list hashes as its dict
    two = hashlib.sha256(f"{one},{one}".encode()).hexdigest()
    assert prompt_hash([{"infer_cfg": infer}] * 2) == two


def test_list_order_matters(stock_gen):
    assert prompt_hash(stock_gen[:2]) != prompt_hash(stock_gen[1::-1])


def test_other_keys_do_not_enter_the_hash(stock_gen):
    changed = copy.deepcopy(stock_gen[0])
    changed["path"], changed["abbr"] = "./data/elsewhere", "other"
    changed["eval_cfg"] = {}
    assert dataset_version(changed) == "db9ce2"


def test_type_strings_enter_the_hash(stock_gen):
    changed = copy.deepcopy(stock_gen[0])
    changed["infer_cfg"]["inferencer"]["type"] = "GenInferencer"
    assert dataset_version(changed) != "db9ce2"


def test_legacy_reader_cfg_layout_is_hashed_like_opencompass():
    cfg = {
        "reader_cfg": {"input_columns": ["q"], "output_column": "a"},
        "infer_cfg": {
            "reader_cfg": {"type": "x.DatasetReader", "train_split": "dev", "test_split": "val"},
            "retriever": {"type": "a.b.ZeroRetriever"},
            "inferencer": {"type": "a.b.GenInferencer"},
        },
    }
    expected_obj = {
        "reader_cfg": {"type": "DatasetReader", "train_split": "dev", "test_split": "val"},
        "retriever": {"type": "ZeroRetriever", "index_split": "dev", "test_split": "val"},
        "inferencer": {"type": "GenInferencer"},
        "reader": {"type": "DatasetReader", "input_columns": ["q"], "output_column": "a"},
    }
    expected = hashlib.sha256(json.dumps(expected_obj, sort_keys=True).encode()).hexdigest()
    before = copy.deepcopy(cfg)
    assert prompt_hash(cfg) == expected
    assert cfg == before


def test_empty_list_has_no_suffix():
    with pytest.raises(ValueError):
        file_suffix([])
