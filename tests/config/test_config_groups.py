"""Summary groups: one slug rule for gen-config's ``<name>_summary_groups.py`` and eval's derived groups."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from config_builders import Subject

import toolkit.config.groups as groups_module
from toolkit.config.context import GenConfigOptions
from toolkit.config.facts import read_dataset_facts
from toolkit.config.groups import category_groups, group_slug, mapping_groups
from toolkit.config.pyconfig import read_config
from toolkit.config.render import render_configs
from toolkit.errors import ConfigError

AWKWARD = {
    "Arts & Crafts": "arts-crafts",
    "Math/Physics": "math-physics",
    "  Social   Science ": "social-science",
    "文科": "文科",
    "理科 & 工科": "理科-工科",
    "(Other)": "other",
    "--Misc.--": "misc",
    "STEM": "stem",
    "Économie Politique": "économie-politique",
    "Tea_Culture 2": "tea-culture-2",
}


@pytest.mark.parametrize(("category", "slug"), AWKWARD.items())
def test_the_slug_rule_on_awkward_category_names(category, slug):
    assert group_slug(category) == slug


def test_a_category_without_letters_or_digits_cannot_name_a_group():
    with pytest.raises(ConfigError, match="no letter or digit"):
        group_slug("&/&")


def test_two_categories_with_one_slug_are_an_error_not_a_merge():
    with pytest.raises(ConfigError, match="'Arts & Crafts' and 'Arts Crafts' would both be the summary group 'x-arts-crafts'"):
        category_groups("x", {"a": "Arts & Crafts", "b": "Arts Crafts"})


def test_gen_config_and_eval_name_a_banks_groups_alike(tmp_path: Path):
    """What OpenCompass reads (the generated summary file) and what eval derives (from the mapping) agree."""
    from config_builders import build_dataset

    categories = ("Arts & Crafts", "文科", "Math/Physics")
    subjects = [Subject("paint", "Paint", "绘画", "Arts & Crafts"), Subject("poem", "Poem", "诗", "文科"),
                Subject("force", "Force", "力", "Math/Physics")]
    root = build_dataset(tmp_path / "bank", subjects=subjects, categories=categories)
    files = {f.filename: f for f in render_configs(read_dataset_facts(root), GenConfigOptions(mode="gen"),
                                                   data_path="./data/bank")}
    generated = read_config(Path("g.py"), source=files["bank_summary_groups.py"].text)["bank_summary_groups"]
    hashed = next(f for name, f in files.items() if name.startswith("bank_gen_"))
    derived = mapping_groups(read_config(tmp_path / "x.py", source=hashed.text))
    assert [g["name"] for g in generated] == ["bank-arts-crafts", "bank-文科", "bank-math-physics", "bank"]
    assert sorted(g["name"] for g in derived) == sorted(g["name"] for g in generated)
    assert {g["name"]: sorted(g["subsets"]) for g in derived} == {g["name"]: sorted(g["subsets"]) for g in generated}


def test_docstring_examples_run():
    assert doctest.testmod(groups_module).failed == 0
