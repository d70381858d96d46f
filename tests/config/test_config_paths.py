"""Finding configs by name (--datasets) and data by path (get_data_path semantics, no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_builders import STOCK

from toolkit.config.datapath import (
    check_config_data_path,
    config_data_path,
    dataset_ids,
    download_keys,
    resolve_data_path,
)
from toolkit.config.resolve import resolve_dataset_config, resolve_dataset_configs, search_roots
from toolkit.errors import ConfigError, DataError, UsageError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x_datasets = []\n", encoding="utf-8")
    return path


# --- resolve_dataset_configs ------------------------------------------------------------------


def test_shipped_configs_are_found_without_a_config_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_dataset_configs(["ceval_gen", "ceval_ppl_578f8d"]) == [STOCK / "ceval_gen.py",
                                                                          STOCK / "ceval_ppl_578f8d.py"]


def test_users_configs_come_first_recursively_and_case_insensitively(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = touch(tmp_path / "configs" / "datasets" / "ceval" / "deeper" / "CEVAL_GEN.py")
    assert resolve_dataset_config("ceval_gen") == Path("configs/datasets/ceval/deeper/CEVAL_GEN.py")
    assert resolve_dataset_config("ceval_gen").resolve() == mine


def test_config_dir_and_dataset_collections(tmp_path):
    coll = touch(tmp_path / "elsewhere" / "dataset_collections" / "my_collection.py")
    assert resolve_dataset_config("my_collection", config_dir=tmp_path / "elsewhere") == coll
    assert search_roots(tmp_path)[0] == tmp_path / "datasets"


def test_wildcards_work_like_opencompass_fnmatch(tmp_path):
    bank = touch(tmp_path / "datasets" / "bank" / "bank_gen_1a2b3c.py")
    assert resolve_dataset_config("bank_gen_*", config_dir=tmp_path) == bank


def test_a_path_is_used_as_is(tmp_path):
    cfg = touch(tmp_path / "anywhere" / "cfg.py")
    assert resolve_dataset_configs([str(cfg), str(cfg)]) == [cfg]  # each once
    with pytest.raises(ConfigError, match="dataset config not found"):
        resolve_dataset_config(str(tmp_path / "absent.py"))


def test_unknown_name_lists_close_matches(tmp_path):
    touch(tmp_path / "datasets" / "bank" / "my_bank_gen.py")
    with pytest.raises(ConfigError) as err:
        resolve_dataset_config("my_bnk_gen", config_dir=tmp_path)
    assert "no dataset config named 'my_bnk_gen'" in str(err.value)
    assert "did you mean my_bank_gen" in str(err.value)
    with pytest.raises(ConfigError, match="generate one with `toolkit gen-config"):
        resolve_dataset_config("zzzzqqqq", config_dir=tmp_path)


def test_close_matches_never_offer_summary_groups(tmp_path):
    name = "chinese_core_socialist_values"
    for stem in (f"{name}_gen", f"{name}_ppl", f"{name}_summary_groups", "__init__"):
        touch(tmp_path / "datasets" / name / f"{stem}.py")
    with pytest.raises(ConfigError) as err:
        resolve_dataset_config(name, config_dir=tmp_path)
    assert f"{name}_gen" in err.value.hint and f"{name}_ppl" in err.value.hint
    assert "summary_groups" not in err.value.hint and "__init__" not in err.value.hint


def test_ambiguous_name_in_one_tree_is_an_error(tmp_path):
    touch(tmp_path / "datasets" / "a" / "dup.py")
    touch(tmp_path / "datasets" / "b" / "dup.py")
    with pytest.raises(ConfigError, match="matches 2 configs") as err:
        resolve_dataset_config("dup", config_dir=tmp_path)
    assert err.value.hint == "pass the path of the one you mean"


# --- data paths written into configs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("./data/my_bank", None),
        ("./data/ceval_local", None),
        ("/abs/data/ceval/", None),  # absolute paths are never replaced
        ("./data/ceval", "'/ceval/'"),
        ("../shared/data/mmlu", "'/mmlu/'"),
        ("data/cmmlu/sub", "'/cmmlu/'"),
        ("./data/racecar", "'/race'"),
        ("./data/my_mmlu_pro", "'mmlu_pro'"),
        ("opencompass/ceval-exam", "OpenCompass dataset id"),
    ],
)
def test_check_config_data_path(path, problem):
    if problem is None:
        check_config_data_path(path)
        return
    with pytest.raises(UsageError, match=problem) as err:
        check_config_data_path(path)
    assert "--abs-path" in err.value.hint


def test_opencompass_tables_are_shipped():
    assert {"/ceval/", "/mmlu/", "/cmmlu/"} <= set(download_keys())
    assert dataset_ids()["opencompass/ceval-exam"] == "./data/ceval/formal_ceval"


def test_config_data_path(tmp_path):
    assert config_data_path("data/my_bank", cwd=tmp_path) == "./data/my_bank"
    assert config_data_path(tmp_path / "data" / "b", cwd=tmp_path) == "./data/b"
    assert config_data_path(tmp_path / "x", cwd=tmp_path / "sub") == "../x"
    assert config_data_path("data/b", cwd=tmp_path, absolute=True) == (tmp_path / "data" / "b").resolve().as_posix()


# --- resolve_data_path ---------------------------------------------------------------------------------


def test_resolve_relative_absolute_and_override(tmp_path):
    data = tmp_path / "data" / "bank"
    data.mkdir(parents=True)
    env: dict[str, str] = {}
    assert resolve_data_path("./data/bank", cwd=tmp_path, environ=env) == tmp_path / "./data/bank"
    assert resolve_data_path(str(data), environ=env) == data
    assert resolve_data_path("./data/bank", overrides={"data/bank": "/x"}, environ=env) == Path("/x")
    assert resolve_data_path("anything", overrides={"anything": "~/d"}, environ=env) == Path("~/d").expanduser()


def test_resolve_dataset_id_through_compass_data_cache(tmp_path):
    local = tmp_path / "cache" / "data" / "ceval" / "formal_ceval"
    local.mkdir(parents=True)
    env = {"COMPASS_DATA_CACHE": str(tmp_path / "cache")}
    assert resolve_data_path("opencompass/ceval-exam", cwd=tmp_path, environ=env) == local


def test_relative_path_joined_to_cache_first(tmp_path):
    (tmp_path / "cache" / "data" / "b").mkdir(parents=True)
    (tmp_path / "cwd" / "data" / "b").mkdir(parents=True)
    env = {"COMPASS_DATA_CACHE": str(tmp_path / "cache")}
    assert resolve_data_path("data/b", cwd=tmp_path / "cwd", environ=env) == tmp_path / "cache" / "data" / "b"
    assert resolve_data_path("data/b", cwd=tmp_path / "cwd", environ={}) == tmp_path / "cwd" / "data" / "b"


def test_default_cache_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    target = tmp_path / "home" / ".cache" / "opencompass" / "data" / "b"
    target.mkdir(parents=True)
    assert resolve_data_path("data/b", cwd=tmp_path, environ={}) == target


def test_missing_data_is_an_error_never_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DataError) as err:
        resolve_data_path("opencompass/ceval-exam", cwd=tmp_path, environ={})
    text = str(err.value)
    assert "OpenCompass dataset id 'opencompass/ceval-exam' not found" in text and "never downloads" in text
    assert str(tmp_path / "data" / "ceval" / "formal_ceval") in text
    assert "--data-path opencompass/ceval-exam=/your/folder" in err.value.hint
