"""Rendering configs: OpenCompass's C-Eval names and hashes, determinism, shape, options, golden files."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from config_builders import EXAMPLE, LAW, NETWORK, REPO

from toolkit.config.context import GenConfigOptions
from toolkit.config.convert import DATASET_KEYS
from toolkit.config.datapath import config_data_path
from toolkit.config.facts import read_dataset_facts
from toolkit.config.hashing import dataset_version
from toolkit.config.pyconfig import read_config
from toolkit.config.render import RenderedFile, render_configs
from toolkit.config.typemap import (
    DATASET_TYPES,
    EVALUATOR_TYPES,
    INFERENCER_TYPES,
    POSTPROCESSOR_TYPES,
    RETRIEVER_TYPES,
    TEMPLATE_TYPES,
)
from toolkit.errors import DataError, UsageError

GOLDEN = REPO / "tests" / "golden" / "configs"
OPENCOMPASS_IMPORTS = {
    t.path
    for table in (DATASET_TYPES, EVALUATOR_TYPES, INFERENCER_TYPES, POSTPROCESSOR_TYPES, RETRIEVER_TYPES, TEMPLATE_TYPES)
    for t in table.values()
} | {"mmengine.config.read_base"}


def render(root: Path, **options) -> dict[str, RenderedFile]:
    facts = read_dataset_facts(root, name=options.pop("name", None))
    files = render_configs(facts, GenConfigOptions(**options), data_path=options.pop("data_path", "./data/x"))
    return {f.filename: f for f in files}


def datasets_of(file: RenderedFile) -> list[dict]:
    values = read_config(Path(file.filename), source=file.text)
    return next(v for k, v in values.items() if k.endswith("_datasets"))


def test_ceval_names_and_versions_match_opencompass(ceval_dir):
    files = render(ceval_dir, name="ceval")
    assert list(files) == ["ceval_gen_5f30c7.py", "ceval_gen.py", "ceval_ppl_578f8d.py", "ceval_ppl.py",
                           "ceval_summary_groups.py"]
    versions = {
        mode: {d["abbr"]: dataset_version(d) for d in datasets_of(files[name])}
        for mode, name in (("gen", "ceval_gen_5f30c7.py"), ("ppl", "ceval_ppl_578f8d.py"))
    }
    assert versions["gen"]["ceval-computer_network"] == "db9ce2"
    assert versions["ppl"]["ceval-computer_network"] == "9b9417"
    assert list(versions["gen"])[:2] == ["ceval-computer_network", "ceval-operating_system"]  # mapping order kept


def test_one_subject_alone_gets_opencompass_file_names(ceval_dir, tmp_path):
    """computer_network on its own: the file hash is the per-subject version OpenCompass computes."""
    import json
    import shutil

    one = tmp_path / "one" / "ceval"
    for split in ("dev", "val", "test"):
        (one / split).mkdir(parents=True)
        shutil.copy(ceval_dir / split / f"computer_network_{split}.csv", one / split)
    mapping = json.loads((ceval_dir / "subject_mapping.json").read_text(encoding="utf-8"))
    (one / "subject_mapping.json").write_text(json.dumps({"computer_network": mapping["computer_network"]},
                                                         ensure_ascii=False), encoding="utf-8")
    files = render(one, name="ceval")
    assert list(files) == ["ceval_gen_db9ce2.py", "ceval_gen.py", "ceval_ppl_9b9417.py", "ceval_ppl.py",
                           "ceval_summary_groups.py"]


def test_shared_ceval_mapping_matches_the_stock_configs_order_and_categories(ceval_dir):
    # The list order decides the file hash, so the shared mapping must list subjects as the stock file does.
    stock = read_config(REPO / "toolkit" / "configs" / "datasets" / "ceval" / "ceval_gen_5f30c7.py")
    ours = {s.key: s.as_list() for s in read_dataset_facts(ceval_dir).subjects}
    assert list(ours) == list(stock["ceval_subject_mapping"])
    assert ours == stock["ceval_subject_mapping"]  # clinical_medicine filled in as OpenCompass has it: Other


def test_ceval_summary_groups_match_opencompass_groups(ceval_dir):
    groups = read_config(Path("g.py"), source=render(ceval_dir, name="ceval")["ceval_summary_groups.py"].text)
    stock = read_config(REPO / "toolkit" / "configs" / "summarizers" / "groups" / "ceval.py")["ceval_summary_groups"]
    wanted = {"ceval-stem", "ceval-social-science", "ceval-humanities", "ceval-other", "ceval"}
    assert groups["ceval_summary_groups"] == [g for g in stock if g["name"] in wanted]


def test_output_is_deterministic(make_dataset):
    root = make_dataset()
    first = render(root)
    second = render(root)
    assert {k: v.text.encode() for k, v in first.items()} == {k: v.text.encode() for k, v in second.items()}


def test_files_are_valid_python_with_only_opencompass_import_paths(make_dataset):
    for file in render(make_dataset(), split="both").values():
        tree = ast.parse(file.text)
        imported = {
            f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
            for alias in node.names
        }
        assert imported <= OPENCOMPASS_IMPORTS, file.filename
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import)]


def test_dataset_dicts_have_exactly_opencompass_keys(make_dataset):
    files = render(make_dataset(), split="both")
    for name in ("bank_gen", "bank_ppl"):
        hashed = next(f for f in files.values() if f.filename.startswith(name + "_"))
        datasets = datasets_of(hashed)
        assert [d["abbr"] for d in datasets] == ["bank-law", "bank-computer_network",
                                                 "bank-test-law", "bank-test-computer_network"]
        for d in datasets:
            assert tuple(d) == DATASET_KEYS
            assert d["path"] == "./data/x" and d["reader_cfg"]["test_split"] in ("val", "test")


def test_aggregator_reexports_through_read_base(make_dataset):
    files = render(make_dataset(), mode="gen")
    hashed = next(name for name in files if name.startswith("bank_gen_"))
    text = files["bank_gen.py"].text
    assert f"with read_base():\n    from .{hashed[:-3]} import bank_datasets  # noqa: F401, F403\n" in text
    assert "from mmengine.config import read_base\n" in text
    assert set(files) == {hashed, "bank_gen.py", "bank_summary_groups.py"}


def test_zh_default_prompt_and_gen_shape(make_dataset):
    d = datasets_of(next(f for f in render(make_dataset()).values() if f.filename.startswith("bank_gen_")))[0]
    infer = d["infer_cfg"]
    assert infer["ice_template"]["template"]["round"][0]["prompt"] == (
        "以下是中国关于法学考试的单项选择题，请选出其中的正确答案。\n{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n答案: "
    )
    assert infer["retriever"] == {"type": RETRIEVER_TYPES["FixKRetriever"].path, "fix_id_list": [0, 1, 2, 3, 4]}
    assert infer["inferencer"] == {"type": INFERENCER_TYPES["GenInferencer"].path}
    assert d["eval_cfg"]["pred_postprocessor"] == {"type": POSTPROCESSOR_TYPES["first_capital_postprocess"].path}


def test_en_prompt_is_mmlu_style_with_first_option_postprocess(make_dataset):
    files = render(make_dataset(options=3), language="en")
    d = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_gen_")))[1]
    assert d["infer_cfg"]["ice_template"]["template"]["round"][0]["prompt"] == (
        "There is a single choice question about Computer Network. Answer the question by replying A, B or C.\n"
        "Question: {question}\nA. {A}\nB. {B}\nC. {C}\nAnswer: "
    )
    assert d["eval_cfg"]["pred_postprocessor"] == {
        "type": POSTPROCESSOR_TYPES["first_option_postprocess"].path, "options": "ABC"}
    assert d["reader_cfg"]["input_columns"] == ["question", "A", "B", "C"]


def test_language_defaults_to_the_datasets(make_dataset):
    files = render(make_dataset(language="en"))
    prompt = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_gen_")))[0]
    assert prompt["infer_cfg"]["ice_template"]["template"]["round"][0]["prompt"].startswith("There is a single")


@pytest.mark.parametrize("options", [2, 10])
def test_option_letters_come_from_the_dataset(make_dataset, options):
    files = render(make_dataset(options=options))
    letters = "ABCDEFGHIJ"[:options]
    ppl = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_ppl_")))[0]
    assert list(ppl["infer_cfg"]["ice_template"]["template"]) == list(letters)
    prompt = ppl["infer_cfg"]["ice_template"]["template"]["A"]["round"][0]["prompt"]
    assert all(f"\n{letter}. {{{letter}}}\n" in prompt for letter in letters)


def test_option_count_from_headers_without_dataset_json(make_dataset):
    facts = read_dataset_facts(make_dataset(options=5, meta=False))
    assert facts.letters == ("A", "B", "C", "D", "E") and facts.name == "bank" and facts.language == "zh"


def test_zero_shots_uses_zero_retriever_like_opencompass_zero_shot_configs(make_dataset):
    files = render(make_dataset(dev_rows=1), shots=0)
    for name in ("bank_gen_", "bank_ppl_"):
        infer = datasets_of(next(f for f in files.values() if f.filename.startswith(name)))[0]["infer_cfg"]
        assert infer["retriever"] == {"type": RETRIEVER_TYPES["ZeroRetriever"].path}
        assert infer["ice_template"]["ice_token"] == "</E>"
    assert "FixKRetriever" not in "".join(f.text for f in files.values())


def test_shots_need_dev_rows(make_dataset):
    root = make_dataset(dev_rows=3)
    hashed = next(f for f in render(root, shots=3).values() if f.filename.startswith("bank_gen_"))
    assert datasets_of(hashed)[0]["infer_cfg"]["retriever"]["fix_id_list"] == [0, 1, 2]
    with pytest.raises(DataError, match=r"--shots 5 needs 5 dev rows per subject; these have fewer: law \(3\)") as err:
        render(root)
    assert "pass --shots 3" in str(err.value)


def test_opencompass_needs_a_dev_row_even_zero_shot(make_dataset):
    with pytest.raises(DataError, match="OpenCompass needs a dev row per subject") as err:
        render(make_dataset(dev_rows=0), shots=0)
    assert "--shots" not in str(err.value.hint)


@pytest.mark.parametrize(("split", "empty"), [("test", "test_rows"), ("both", "test_rows"), ("val", "val_rows")])
def test_an_evaluated_split_needs_rows(make_dataset, split, empty):
    root = make_dataset(**{empty: 0})
    with pytest.raises(DataError, match="split of law, computer_network has no rows: OpenCompass would stop"):
        render(root, split=split)


def test_split_test_only(make_dataset):
    files = render(make_dataset(), split="test", mode="ppl")
    datasets = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_ppl_")))
    assert [d["abbr"] for d in datasets] == ["bank-test-law", "bank-test-computer_network"]
    groups = read_config(Path("g.py"), source=files["bank_summary_groups.py"].text)["bank_summary_groups"]
    assert [g["name"] for g in groups] == ["bank-test-stem", "bank-test-humanities", "bank-test"]


def test_summary_groups_follow_declared_category_order(make_dataset):
    root = make_dataset(subjects=(LAW, NETWORK), categories=("Humanities", "STEM", "思政"))
    groups = read_config(Path("g.py"), source=render(root, split="both")["bank_summary_groups.py"].text)
    assert groups["bank_summary_groups"] == [
        {"name": "bank-humanities", "subsets": ["bank-law"]},
        {"name": "bank-stem", "subsets": ["bank-computer_network"]},
        {"name": "bank", "subsets": ["bank-law", "bank-computer_network"]},
        {"name": "bank-test-humanities", "subsets": ["bank-test-law"]},
        {"name": "bank-test-stem", "subsets": ["bank-test-computer_network"]},
        {"name": "bank-test", "subsets": ["bank-test-law", "bank-test-computer_network"]},
    ]


def test_hint_placeholders_are_filled_per_subject(make_dataset):
    files = render(make_dataset(), hint="关于{name_zh}（{name_en}, {subject}, {category}），选 {options}。{question}")
    prompt = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_gen_")))[0]
    text = prompt["infer_cfg"]["ice_template"]["template"]["round"][0]["prompt"]
    assert text.startswith("关于法学（Law, law, Humanities），选 A, B, C or D。{question}\n{question}\n")


def test_hint_changes_the_hash(make_dataset):
    root = make_dataset()
    default = {f.kind + str(f.mode): f.suffix for f in render(root).values()}
    hinted = {f.kind + str(f.mode): f.suffix for f in render(root, hint="x").values()}
    assert default["datasetgen"] != hinted["datasetgen"]


def test_user_prompt_template(make_dataset, tmp_path):
    template = tmp_path / "my_prompt.j2"
    template.write_text(
        "[{{ dataset }}/{{ language }}] {{ subject.name_zh }}（{{ subject.category }}）{{ hint }}\n"
        "题目：{question}\n"
        "{% for letter in letters %}\n"
        "（{{ letter }}）{{ '{' ~ letter ~ '}' }}\n"
        "{% endfor %}\n"
        "请回答 {{ options }}：\n",
        encoding="utf-8",
    )
    files = render(make_dataset(), prompt_template=template, hint="H")
    d = datasets_of(next(f for f in files.values() if f.filename.startswith("bank_gen_")))[0]
    assert d["infer_cfg"]["ice_template"]["template"]["round"][0]["prompt"] == (
        "[bank/zh] 法学（Humanities）H\n题目：{question}\n（A）{A}\n（B）{B}\n（C）{C}\n（D）{D}\n请回答 A, B, C or D："
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{question}\n{A} {B} {C}\n", "lacks {D}"),
        ("{{ nonsense }} {question} {A}{B}{C}{D}", "unknown variable ('nonsense' is undefined)"),
        ("{% for %}", "jinja2 syntax error"),
    ],
)
def test_bad_user_prompt_template(make_dataset, tmp_path, text, message):
    template = tmp_path / "bad.j2"
    template.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as err:
        render(make_dataset(), prompt_template=template)
    assert message in str(err.value) and "bad.j2" in str(err.value)


def test_missing_user_prompt_template(make_dataset, tmp_path):
    with pytest.raises(UsageError, match="prompt template not found"):
        render(make_dataset(), prompt_template=tmp_path / "absent.j2")


def test_default_data_path_is_relative_and_checked(make_dataset, monkeypatch, tmp_path):
    root = make_dataset()
    monkeypatch.chdir(tmp_path)
    facts = read_dataset_facts(root)
    hashed = render_configs(facts, GenConfigOptions(mode="gen"))[0]
    assert datasets_of(hashed)[0]["path"] == "./data/bank"
    absolute = render_configs(facts, GenConfigOptions(mode="gen", abs_path=True))[0]
    assert datasets_of(absolute)[0]["path"] == root.resolve().as_posix()
    ceval_like = make_dataset("ceval")
    with pytest.raises(UsageError, match="contains '/ceval/'"):
        render_configs(read_dataset_facts(ceval_like), GenConfigOptions())
    with pytest.raises(UsageError, match="OpenCompass dataset id"):
        render_configs(facts, GenConfigOptions(data_path="opencompass/ceval-exam"))


# --- golden files: the example dataset, rendered from the repository root -------------------------

GOLDEN_CASES = {
    "default": {},
    "en-0shot-gen": {"language": "en", "shots": 0, "mode": "gen"},
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_example_configs(case):
    if not (EXAMPLE / "subject_mapping.json").is_file():
        pytest.skip("the example dataset is not in the repository")
    options = GenConfigOptions(**GOLDEN_CASES[case])
    facts = read_dataset_facts(EXAMPLE)
    files = render_configs(facts, options, data_path=config_data_path(EXAMPLE, cwd=REPO))
    folder = GOLDEN / facts.name / case
    if os.environ.get("UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.py"):
            stale.unlink()
        for f in files:
            (folder / f.filename).write_bytes(f.text.encode("utf-8"))
    expected = {p.name: p.read_bytes() for p in sorted(folder.glob("*.py"))}
    assert expected, f"no golden files in {folder}; run with UPDATE_GOLDEN=1"
    assert {f.filename: f.text.encode("utf-8") for f in files} == expected
