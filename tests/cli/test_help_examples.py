"""Every command's --help shows its examples whole, one command per line, at any width (issue 10, item 10)."""

from __future__ import annotations

import pytest

COMMANDS = ["", "new-dataset", "validate", "gen-config", "eval", "demo", "demo-model"]


def _example_lines(command: str) -> list[str]:
    import typer.main

    from toolkit.cli.main import app

    group = typer.main.get_command(app)
    cmd = group if not command else group.commands[command]  # type: ignore[attr-defined]
    return [line.strip() for line in (cmd.epilog or "").splitlines() if line.strip().startswith("toolkit ")]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("width", ["60", "80"])
def test_help_examples_are_never_wrapped_mid_command(cli, monkeypatch, command, width):
    monkeypatch.setenv("COLUMNS", width)
    result = cli(*([command] if command else []), "--help")
    assert result.exit_code == 0
    shown = {line.strip() for line in result.stdout.splitlines()}
    examples = _example_lines(command)
    if command != "demo-model":  # its one example sits in a sentence
        assert examples, f"{command or 'toolkit'} --help has no examples"
    for example in examples:
        assert example in shown, f"wrapped in `{command} --help`: {example}"
