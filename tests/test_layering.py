"""The house rules, checked on the source: data flows one way, no import cycles, heavy imports stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "toolkit"
LAYERS = {"errors": 0, "fileio": 0, "staged": 0, "debris": 0, "resources": 0, "toolkit": 0, "__init__": 0,
          "dataset": 1, "validate": 2, "config": 3, "models": 4, "engine": 5, "analysis": 6, "report": 7,
          "walkthrough": 8, "cli": 9, "__main__": 10}
"""dataset → validate → config → models → engine → analysis (of finished runs) → report → the demo walkthrough
→ cli: none imports a later one. A new top-level module or package gets its place here."""
OWN_CYCLE_FREE = ("toolkit.cli", "toolkit.config", "toolkit.engine", "toolkit.models", "toolkit.report",
                  "toolkit.walkthrough")
"""Where even an import inside a function may not close a cycle."""


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(every toolkit module imported anywhere but under TYPE_CHECKING, those imported at module level)."""
    skipped = {id(n) for node in tree.body if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for n in ast.walk(node)}
    every: set[str] = set()
    top: set[str] = set()
    top_nodes = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("toolkit"):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("toolkit")]
        else:
            continue
        every.update(names)
        if id(node) in top_nodes:
            top.update(names)
    return every, top


GRAPH = {_module(p): _imports(ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "toolkit"
    assert top in LAYERS, f"toolkit.{top} has no place in LAYERS: add it where the data flow puts it"
    return LAYERS[top]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_no_layer_imports_a_later_one():
    upward = [f"{m} imports {d}" for m, (every, _) in GRAPH.items() for d in every
              if d in GRAPH and _layer(d) > _layer(m)]
    assert not upward


def test_the_engine_knows_nothing_of_the_command_line_or_the_terminal():
    for module, (every, _) in GRAPH.items():
        if module.startswith("toolkit.engine"):
            assert not [d for d in every if d.startswith("toolkit.cli")], module
            source = (PACKAGE.parent / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8") \
                if (PACKAGE.parent / (module.replace(".", "/") + ".py")).is_file() else ""
            assert "import rich" not in source and "from rich" not in source and "typer" not in source, module


def test_no_import_cycles():
    eager = {m: {d for d in top if d in GRAPH} for m, (_, top) in GRAPH.items()}
    assert _cycles(eager) == []
    own = {m: {d for d in every if d in GRAPH and d.startswith(OWN_CYCLE_FREE)}
           for m, (every, _) in GRAPH.items() if m.startswith(OWN_CYCLE_FREE)}
    assert _cycles(own) == []


def test_command_modules_are_registered_by_main_and_never_import_it():
    for module, (every, _) in GRAPH.items():
        if module.startswith("toolkit.cli.") and module != "toolkit.cli.main":
            assert "toolkit.cli.main" not in every, module


@pytest.mark.parametrize("backend", ["fake"])
def test_an_eval_without_a_torch_backend_never_imports_torch(tmp_path, seed_raw, backend):
    from engine_data import seed_rows, write_configs, write_dataset

    write_configs(tmp_path / "configs", write_dataset(tmp_path / "data", seed_rows(seed_raw)))
    code = ("import sys; from typer.testing import CliRunner; from toolkit.cli.main import app;"
            f"r = CliRunner().invoke(app, ['eval', '--datasets', 'seed_gen', '--hf-path', 'm', '--backend', '{backend}',"
            "'--hf-type', 'base', '--display', 'none']); assert r.exit_code == 0, r.output;"
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
