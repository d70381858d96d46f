"""The README is the contract: its two set-up commands are what CI runs, its walkthrough works exactly
as written, and every command line it shows uses options that exist."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str = "bash") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _setup_commands() -> tuple[str, str]:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    install, test = (b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)[:2])
    return install, test


def _walkthrough() -> list[tuple[int, str]]:
    """(expected exit code, command) for each command of the walkthrough block."""
    section = README.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    steps, expect = [], 0
    for line in block.splitlines():
        if line.startswith("#"):
            found = re.search(r"\(exit (\d)\)", line)
            expect = int(found.group(1)) if found else 0
        elif line.strip():
            steps.append((expect, line.strip()))  # a comment's "(exit N)" holds until the next comment
    return steps


def test_two_readme_commands_set_up_and_run_everything():
    demo, test = _setup_commands()
    setup = "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && "
    assert demo == setup + "pip install -e . && toolkit demo"
    assert test == setup + 'pip install -e ".[dev]" && pytest'
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()  # CI runs the README's test command verbatim, and nothing else installs
    assert ci.count("pip install") == test.count("pip install")
    assert "exit 1" in ci and '"$status" -eq 5' in ci  # no tests collected fails CI


def test_every_command_is_documented_and_has_examples(cli):
    from typer.main import get_command

    from toolkit.cli.main import app

    names = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert names == ["analyze", "compare", "demo", "demo-model", "eval", "gen-config", "new-dataset", "validate"]
    root = cli("--help")
    for name in names:
        assert f"### `toolkit {name}`" in README
        assert name in root.stdout and f"toolkit {name}" in root.stdout  # each with an example in the root help
        own = cli(name, "--help")
        assert own.exit_code == 0 and "Example" in own.stdout


def _readme_command_lines() -> list[str]:
    walk = {cmd for _, cmd in _walkthrough()}
    lines = []
    for block in _blocks():
        for line in block.splitlines():
            line = line.split("  #")[0].split(" > ")[0].strip()
            if line.startswith("toolkit ") and line not in walk:
                lines.append(line)
    return lines


@pytest.mark.parametrize("line", _readme_command_lines())
def test_readme_command_lines_use_options_that_exist(cli, line):
    args = shlex.split(line.replace('"$(toolkit demo-model)"', "MODEL"))[1:]
    result = cli(*args, "--help")
    assert result.exit_code == 0, f"{line}\n{result.stderr}"


def test_help_and_the_light_commands_never_import_torch():
    code = ("import sys; from typer.testing import CliRunner; from toolkit.cli.main import app;"
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0;"
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.slow
def test_the_walkthrough_works_exactly_as_written(tmp_path, demo_model_dir):
    work = tmp_path / "repo"
    shutil.copytree(REPO / "examples", work / "examples")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for expected, command in _walkthrough():
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True)
        assert proc.returncode == expected, f"{command}\n{proc.stderr[-2000:]}"
    summary = proc.stdout
    assert "chinese_core_socialist_values-chinese_core_socialist_values" in summary and "accuracy" in summary
    runs = list((work / "outputs" / "default").iterdir())
    assert len(runs) == 1 and (runs[0] / "manifest.json").is_file()
    # "5-shot" is what it says: no prompt dropped an example to fit --max-seq-len
    assert "truncation:" not in proc.stderr and "in-context examples" not in summary
    for result in (runs[0] / "results").rglob("*.json"):
        truncation = json.loads(result.read_text(encoding="utf-8"))["truncation"]
        assert truncation["shots"] == 5 and truncation["prompts_dropping_examples"] == 0, result


@pytest.mark.slow
def test_the_demo_command_runs_the_whole_job(tmp_path, demo_model_dir):
    """The README's first command ends in ``toolkit demo``: import → validate --fix → gen-config → eval."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(["toolkit", "demo", "--workdir", str(tmp_path / "demo")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "chinese_core_socialist_values-chinese_core_socialist_values" in proc.stdout and "accuracy" in proc.stdout
    for step in ("1/5 new-dataset", "2/5 validate --fix", "3/5 gen-config", "4/5 model", "5/5 eval"):
        assert step in proc.stderr
    (run,) = (tmp_path / "demo" / "outputs" / "demo").iterdir()
    html = run / "summary" / f"summary_{run.name}.html"
    assert html.is_file() and f"html: {html}" in proc.stderr
    data = tmp_path / "demo" / "data" / "chinese_core_socialist_values"
    again = subprocess.run(["toolkit", "demo", "--workdir", str(tmp_path / "demo")], cwd=tmp_path, env=env,
                           capture_output=True, text=True)  # rerunnable: rebuilds data/ and configs/, adds a run
    assert again.returncode == 0, again.stderr[-2000:]
    assert data.is_dir() and len(list((tmp_path / "demo" / "outputs" / "demo").iterdir())) == 2


def test_the_python_example_runs_as_written(tmp_path, monkeypatch, capsys, tiny_model_dir):
    """The README's library example, after the walkthrough's steps 1-4 (the tiny model stands in for the demo model)."""
    from demo_standin import stand_in_demo

    from toolkit.config.context import GenConfigOptions
    from toolkit.config.generate import generate_configs
    from toolkit.validate.findings import ValidateOptions
    from toolkit.validate.fix import fix_and_validate

    section = README.split("## From Python", 1)[1].split("\n## ", 1)[0]
    (code,) = _blocks_in(section, "python")
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    with pytest.MonkeyPatch.context() as offline:  # the demo model, converted once into the cache
        from toolkit.models.demo import ensure_demo_model

        stand_in_demo(offline, tiny_model_dir)
        ensure_demo_model()
    monkeypatch.chdir(tmp_path)
    dataset = tmp_path / "data" / "chinese_core_socialist_values"
    shutil.copytree(REPO / "examples" / "chinese_core_socialist_values", dataset)
    assert fix_and_validate(dataset, ValidateOptions()).ok
    generate_configs(dataset, GenConfigOptions())
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    shown = capsys.readouterr().out
    assert "chinese_core_socialist_values-chinese_core_socialist_values" in shown and "accuracy" in shown
    (run,) = (tmp_path / "outputs" / "default").iterdir()
    assert (run / "manifest.json").is_file()


def _blocks_in(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)
