"""Nothing a user hands gen-config runs as code: prompt templates are sandboxed, --check never executes a
config (issue 9, item 10)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"
NAME = "chinese_core_socialist_values"
STOCK = REPO / "toolkit" / "configs" / "datasets" / "ceval"


@pytest.fixture
def bank(tmp_path, monkeypatch) -> Path:
    target = tmp_path / "data" / NAME
    shutil.copytree(EXAMPLE, target)
    monkeypatch.chdir(tmp_path)
    return Path("data") / NAME


@pytest.mark.parametrize("payload", [
    "{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}",
    "{{{{ hint.__class__.__mro__[1].__subclasses__() }}}}{{# {marker} #}}",
    "{{{{ joiner.__init__.__globals__['os'].system('touch {marker}') }}}}",
])
def test_a_prompt_template_cannot_run_code(cli, bank, tmp_path, payload):
    marker = tmp_path / "pwned"
    template = tmp_path / "evil.j2"
    template.write_text(payload.format(marker=marker) + "\n{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n答案: \n",
                        encoding="utf-8")
    result = cli("gen-config", bank, "--prompt-template", template, "--no-validate")
    assert result.exit_code == 2
    assert not marker.exists()
    line = result.stderr.strip()
    assert line.startswith(f"error: {template}: the prompt template reaches into Python internals")
    assert "Traceback" not in result.output
    assert not Path("configs").exists()
