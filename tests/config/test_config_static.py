"""The static config reader: the values read_config gets, without running a line of the config (issue 9, item 10)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from config_builders import REPO, STOCK, build_dataset
from engine_data import seed_rows, write_configs, write_dataset

from toolkit.config.context import GenConfigOptions
from toolkit.config.generate import generate_configs
from toolkit.config.pyconfig import read_config
from toolkit.config.static import read_config_static
from toolkit.errors import ConfigError

SHIPPED = sorted((REPO / "toolkit" / "configs").rglob("*.py"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_read_the_same_as_executed(path):
    assert read_config_static(path) == read_config(path)


def test_generated_configs_read_the_same_as_executed(tmp_path, seed_raw):
    bank = build_dataset(tmp_path / "data" / "bank")
    files: list[Path] = []
    for options in (GenConfigOptions(), GenConfigOptions(language="en", shots=0, split="both"),
                    GenConfigOptions(hint="关于{name_zh}（{subject}，{options}）")):
        out = tmp_path / "out" / str(len(files))
        files += [f.path for f in generate_configs(bank, options, out_dir=out).files]
    files += list(write_configs(tmp_path / "configs", write_dataset(tmp_path / "seed", seed_rows(seed_raw))).values())
    assert len(files) >= 17
    for path in files:
        assert read_config_static(path) == read_config(path), path


SNIPPETS = {
    "loops_and_fstrings": """
        from opencompass.datasets import X
        names = ['a', 'b']
        x_datasets = []
        for i, n in enumerate(names):
            if n == 'b' and not i == 0:
                x_datasets.append(dict(type=X, abbr=f'x-{n!r}-{i:02d}', n=len(n)))
            else:
                x_datasets += [dict(type=X.sub, abbr='x-' + n.upper())]
        del i, n
    """,
    "comprehensions_and_unpacking": """
        pairs = {k: v for k, v in zip('abc', range(3)) if v}
        flat = [x * 2 for row in [[1, 2], [3]] for x in row]
        merged = {**pairs, 'z': [*flat, *sorted({3, 1, 2})]}
        first, *_ = [1, 2, 3] if True else []
        s = {'x', 'y'} | {'z'}
        t = tuple(sorted(merged))[1:]
    """,
    "imports_and_pure_functions": """
        import os.path as osp
        import torch
        from os.path import basename
        models = [dict(path=osp.join('a', 'b'), name=basename('/x/y.gguf'), dtype=torch.bfloat16)]
        text = '{0}-{name}'.format(1, name='n').replace('-', '_')
    """,
    "item_and_attribute_assignment": """
        d = dict(a=dict(b=[1, 2]))
        d['a']['b'][0] = 9
        d['c'] = d.get('x', 7)
        d.update(e=1)
        lst = list(range(3))
        lst[1:2] = [5, 6]
        del lst[0]
    """,
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippets_read_the_same_as_executed(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(SNIPPETS[name]), encoding="utf-8")
    assert read_config_static(path) == read_config(path)


def test_base_imports_and_star_imports(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "base.py").write_text("base_datasets = [dict(abbr='a')]\nshared = dict(x=1)\n")
    run = tmp_path / "runs" / "run.py"
    run.parent.mkdir()
    run.write_text("from mmengine.config import read_base\nwith read_base():\n    from ..datasets.base import *\n"
                   "    from ..datasets.base import base_datasets as again\n"
                   "copied = shared.deepcopy()\nvalue = shared.x\nshared.y = 2\nagain[0]['abbr'] = 'b'\n")
    assert read_config_static(run) == read_config(run)


PAYLOADS = [
    ("import os\nos.system('touch {marker}')\n", "calls os.system(...)"),
    ("__import__('os').system('touch {marker}')\n", "name '__import__' is not defined"),
    ("x = ().__class__.__bases__[0].__subclasses__()\n", "attribute '__class__'"),
    ("exec(\"open('{marker}', 'w')\")\n", "name 'exec' is not defined"),
    ("open('{marker}', 'w')\n", "name 'open' is not defined"),
    ("def f():\n    open('{marker}', 'w')\nf()\n", "a function definition"),
    ("f = lambda: open('{marker}', 'w')\n", "a lambda"),
    ("class A:\n    pass\n", "a class definition"),
    ("x = '{{0.__class__.__init__.__globals__}}'.format(1)\n", "the format field"),
    ("from opencompass.datasets import X\ny = X(path='{marker}')\n", "calls opencompass.datasets.X(...)"),
    ("x = 'a' * 10 ** 12\n", "repeating a sequence"),
    ("x = 2 ** 10 ** 10\n", "a power this large"),
    ("while True:\n    pass\n", "a while loop"),
    ("for i in range(10 ** 12):\n    pass\n", "range of"),
    ("x = [0]\nfor i in x:\n    x.append(i)\n", "steps"),
    ("x = '%s' % 'y'\n", "%-formatting"),
    ("import os.path as osp\nx = osp.expanduser('~')\n", "calls os.path.expanduser(...)"),
]


@pytest.mark.parametrize(("payload", "message"), PAYLOADS, ids=[m for _, m in PAYLOADS])
def test_nothing_in_a_config_runs(tmp_path, payload, message):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil_gen_000000.py"
    path.write_text("x_datasets = [dict(abbr='x')]\n" + payload.format(marker=marker), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_config_static(path)
    assert message in str(err.value)
    assert err.value.location.file is not None and err.value.location.line is not None
    assert not marker.exists()


def test_gen_config_check_never_runs_a_config(cli, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "ceval_gen_5f30c7.py"
    shutil.copy(STOCK / "ceval_gen_5f30c7.py", evil)
    with evil.open("a", encoding="utf-8") as fh:
        fh.write(f"import os\nos.system('touch {marker}')\n")
    result = cli("gen-config", "--check", evil)
    assert result.exit_code == 2
    assert not marker.exists()
    assert "calls os.system(...), which --check does not run" in result.stderr
    clean = cli("gen-config", "--check", STOCK / "ceval_gen_5f30c7.py", STOCK / "ceval_gen.py")
    assert clean.exit_code == 0 and clean.stdout.splitlines()[0] == f"ok     {STOCK / 'ceval_gen_5f30c7.py'} (5f30c7)"
