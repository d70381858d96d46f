"""Reading OpenCompass-style Python configs without OpenCompass or mmengine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from config_builders import REPO, STOCK

from toolkit.config.pyconfig import ImportedName, read_config, resolve_base_module
from toolkit.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_stock_config_with_loops_fstrings_and_comprehensions():
    values = read_config(STOCK / "ceval_ppl_578f8d.py")
    first = values["ceval_datasets"][0]
    assert len(values["ceval_datasets"]) == 52
    assert first["type"] == "opencompass.datasets.CEvalDataset"
    template = first["infer_cfg"]["ice_template"]["template"]
    assert list(template) == ["A", "B", "C", "D"]
    assert template["C"]["round"][1] == {"role": "BOT", "prompt": "C"}
    assert "计算机网络" in template["A"]["round"][0]["prompt"]
    # imported names are not config variables; `del`-ed loop variables are gone
    assert "PromptTemplate" not in values and "_name" not in values


def test_aggregator_relative_read_base():
    values = read_config(STOCK / "ceval_gen.py")
    assert list(values) == ["ceval_datasets"]
    assert values["ceval_datasets"][0]["abbr"] == "ceval-computer_network"


def test_absolute_opencompass_configs_import_resolves_to_shipped_configs(tmp_path):
    cfg = write(tmp_path / "run.py", """
        from mmengine.config import read_base

        with read_base():
            from opencompass.configs.datasets.ceval.ceval_gen import ceval_datasets
            from opencompass.configs.summarizers.groups.ceval import ceval_summary_groups

        datasets = ceval_datasets[:2]
    """)
    values = read_config(cfg)
    assert [d["name"] for d in values["datasets"]] == ["computer_network", "operating_system"]
    assert values["ceval_summary_groups"][0]["name"] == "ceval-stem"


def test_star_import_parent_level_and_attribute_access(tmp_path):
    write(tmp_path / "datasets" / "base.py", """
        from opencompass.datasets import CEvalDataset
        base_datasets = [dict(type=CEvalDataset, abbr='a')]
        shared = dict(x=1)
    """)
    cfg = write(tmp_path / "runs" / "run.py", """
        from mmengine.config import read_base
        with read_base():
            from ..datasets.base import *
        copied = shared.deepcopy()
        value = shared.x
    """)
    values = read_config(cfg)
    assert values["base_datasets"] == [{"type": "opencompass.datasets.CEvalDataset", "abbr": "a"}]
    assert values["value"] == 1 and values["copied"] == {"x": 1}
    assert type(values["copied"]) is dict  # plain data out


def test_imported_names_become_import_paths_and_stdlib_imports_work(tmp_path):
    cfg = write(tmp_path / "m.py", """
        import os.path as osp
        import torch
        from opencompass.models import HuggingFaceBaseModel
        models = [dict(type=HuggingFaceBaseModel, path=osp.join('a', 'b'),
                       model_kwargs=dict(torch_dtype=torch.bfloat16))]
    """)
    values = read_config(cfg)
    assert values == {"models": [{
        "type": "opencompass.models.HuggingFaceBaseModel",
        "path": "a/b",
        "model_kwargs": {"torch_dtype": "torch.bfloat16"},
    }]}


def test_reading_imports_neither_opencompass_nor_mmengine_nor_torch():
    code = (
        "import sys; from toolkit.config.loader import load_config;"
        f"load_config({str(STOCK / 'ceval_gen.py')!r});"
        "bad = [m for m in ('opencompass', 'mmengine', 'torch') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_base_imports_are_copies(tmp_path):
    write(tmp_path / "base.py", "items = [dict(a=1)]\n")
    cfg = write(tmp_path / "run.py", """
        from mmengine.config import read_base
        with read_base():
            from .base import items
            from .base import items as again
        items[0]['a'] = 2
    """)
    values = read_config(cfg)
    assert values["items"] == [{"a": 2}] and values["again"] == [{"a": 1}]


def test_source_text_instead_of_file(tmp_path):
    values = read_config(tmp_path / "not_written.py", source="x_datasets = [dict(a=1)]\n")
    assert values == {"x_datasets": [{"a": 1}]}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("x = (\n", "cannot read config", 1),
        ("a = 1\nb = undefined_name\n", "NameError", 2),
        ("from opencompass.datasets import X\ny = X(path='p')\n", "calls opencompass.datasets.X(...)", 2),
        ("from opencompass.datasets import *\n", "cannot be read without importing", 1),
        ("from mmengine.config import read_base\nwith read_base():\n    x = 1\n", "only `from ... import ...`", 3),
        ("from . import sibling\n", "from . import name", 1),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, message, line):
    cfg = write(tmp_path / "bad.py", text)
    with pytest.raises(ConfigError) as err:
        read_config(cfg)
    assert message in str(err.value)
    assert err.value.location.file is not None and Path(err.value.location.file).name == "bad.py"
    assert err.value.location.line == line


def test_missing_base_file_and_name(tmp_path):
    cfg = write(tmp_path / "run.py", "from .nowhere import x\n")
    with pytest.raises(ConfigError, match="base config .nowhere not found"):
        read_config(cfg)
    write(tmp_path / "base.py", "y = 1\n")
    cfg = write(tmp_path / "run2.py", "from .base import x\n")
    with pytest.raises(ConfigError, match="defines no variable 'x'"):
        read_config(cfg)
    cfg = write(tmp_path / "run3.py", "from opencompass.configs.datasets.mmlu.mmlu_gen import mmlu_datasets\n")
    with pytest.raises(ConfigError, match="ships only the C-Eval configs"):
        read_config(cfg)


def test_import_cycle(tmp_path):
    write(tmp_path / "a.py", "from .b import y\nx = 1\n")
    write(tmp_path / "b.py", "from .a import x\ny = 1\n")
    with pytest.raises(ConfigError, match="cycle: a.py -> b.py -> a.py"):
        read_config(tmp_path / "a.py")


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_config(tmp_path / "absent.py")
    (tmp_path / "gbk.py").write_bytes("x = '中文'\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_config(tmp_path / "gbk.py")


def test_imported_name_marker():
    marker = ImportedName("torch")
    assert marker.float16 == ImportedName("torch.float16")
    assert str(marker.nn.Module) == "torch.nn.Module"
    with pytest.raises(AttributeError):
        marker.__deepcopy__  # noqa: B018 - dunder lookups must fail, or copy/pickle break


def test_resolve_base_module(tmp_path):
    importer = tmp_path / "a" / "b" / "run.py"
    target = write(tmp_path / "a" / "x" / "y.py", "")
    assert resolve_base_module("x.y", 2, importer) == target.resolve()
    with pytest.raises(ConfigError, match="cannot resolve base config 'mypkg.cfg'"):
        resolve_base_module("mypkg.cfg", 0, importer)


STOCK_FILES = sorted(STOCK.glob("*.py")) + [REPO / "toolkit" / "configs" / "summarizers" / "groups" / "ceval.py"]


@pytest.mark.parametrize("path", STOCK_FILES, ids=lambda p: p.name)
def test_same_plain_data_as_mmengine(path):
    mmengine = pytest.importorskip("mmengine.config", reason="mmengine is only a cross-check")
    assert read_config(path) == mmengine.Config.fromfile(str(path)).to_dict()
